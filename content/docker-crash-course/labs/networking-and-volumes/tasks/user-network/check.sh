#!/bin/bash
# user-network: appnet is a bridge network; api and client run on it; client reaches http://api/ by name.
set -u
fail() { echo "FAIL: $*"; exit 1; }
on_appnet() { docker inspect --format '{{range $name, $_ := .NetworkSettings.Networks}}{{println $name}}{{end}}' "$1" 2>/dev/null | grep -qx appnet; }

driver=$(docker network inspect --format '{{.Driver}}' appnet 2>/dev/null) || fail "there is no network named appnet yet"
[ "$driver" = bridge ] || fail "appnet uses the $driver driver; create it as a bridge network"
for name in api client; do
  status=$(docker inspect --format '{{.State.Status}}' "$name" 2>/dev/null) || fail "there is no container named $name yet"
  [ "$status" = running ] || fail "$name is $status; it should keep running"
  on_appnet "$name" || fail "$name is not connected to the network appnet"
done
image=$(docker inspect --format '{{.Config.Image}}' api)
case "$image" in nginx | nginx:*) ;; *) fail "api runs $image; it should run nginx:1.22" ;; esac
# Ask from inside client's own network namespace (whatever its image), by name.
for _ in 1 2 3 4 5; do
  if timeout 8 docker run --rm --network container:client busybox timeout 5 wget -qO- http://api/ </dev/null 2>/dev/null | grep -qi nginx; then
    echo "client reaches api by name on appnet."
    exit 0
  fi
  sleep 1
done
fail "client cannot fetch http://api/ by name (is nginx in api answering?)"
