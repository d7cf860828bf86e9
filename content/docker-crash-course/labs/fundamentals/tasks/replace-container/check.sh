#!/bin/bash
# replace-container: the running "web" (nginx) has GREETING=hello in its environment.
set -u
fail() { echo "FAIL: $*"; exit 1; }

status=$(docker inspect --format '{{.State.Status}}' web 2>/dev/null) || fail "there is no container named web"
image=$(docker inspect --format '{{.Config.Image}}' web 2>/dev/null)
case "$image" in
  nginx | nginx:*) ;;
  *) fail "web runs the image $image; it should run nginx:1.22" ;;
esac
docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' web 2>/dev/null | grep -qx 'GREETING=hello' \
  || fail "web has no environment variable GREETING=hello (it can only be set when the container is created)"
[ "$status" = running ] || fail "web has GREETING=hello but is $status, not running"
echo "web was replaced: it runs nginx with GREETING=hello."
