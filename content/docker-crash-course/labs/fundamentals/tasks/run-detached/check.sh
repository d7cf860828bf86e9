#!/bin/bash
# run-detached: "web" runs nginx, is running, and answers HTTP on its address.
set -u
fail() { echo "FAIL: $*"; exit 1; }

status=$(docker inspect --format '{{.State.Status}}' web 2>/dev/null) \
  || fail "there is no container named web yet"
image=$(docker inspect --format '{{.Config.Image}}' web 2>/dev/null)
case "$image" in
  nginx | nginx:*) ;;
  *) fail "web runs the image $image; it should run nginx:1.22" ;;
esac
[ "$status" = running ] || fail "web exists but is $status, not running (start it detached so it keeps running)"
ip=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' web 2>/dev/null | awk '{print $1}')
[ -n "$ip" ] || fail "web has no IP address: start it on the default network"
for _ in 1 2 3 4 5; do
  curl -sf -m 2 -o /dev/null "http://$ip/" && { echo "web is running in the background and nginx answers."; exit 0; }
  sleep 0.5
done
fail "web is running, but nginx does not answer on port 80"
