#!/bin/bash
# secret-file: api has a read-only bind of a file at /run/secrets/api_token, no token in its
# environment, and the app reports the token configured from the file.
set -u
fail() { echo "FAIL: $*"; exit 1; }
get() { docker inspect --format "$1" api 2>/dev/null; }

status=$(get '{{.State.Status}}') || fail "there is no container named api"
[ "$status" = running ] || fail "api is $status, not running"
mount=$(get '{{range .Mounts}}{{if eq .Destination "/run/secrets/api_token"}}{{.Type}} {{.RW}}{{end}}{{end}}')
[ -n "$mount" ] || fail "api has nothing mounted at /run/secrets/api_token"
[ "${mount#* }" = false ] || fail "the token is mounted read-write; mount it read-only (:ro)"
get '{{range .Config.Env}}{{println .}}{{end}}' | cut -d= -f1 | grep -qiE 'token|secret|passw(or)?d|api_?key' \
  && fail "api still has a token in its environment: give it only the mounted file"
ip=$(get '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' | awk '{print $1}')
answer=""
for _ in $(seq 1 10); do
  answer=$(curl -sf -m 2 "http://$ip:8000/" 2>/dev/null) && break
  sleep 0.5
done
[ -n "$answer" ] || fail "api does not answer on port 8000"
case "$answer" in
  *"configured (from the file)"*) echo "api reads its token from a read-only file; nothing in the image or environment." ;;
  *missing*) fail "the app cannot read /run/secrets/api_token (it says the token is missing): check the file's mode and owner against the app's user" ;;
  *) fail "the app does not get its token from the mounted file: $answer" ;;
esac
