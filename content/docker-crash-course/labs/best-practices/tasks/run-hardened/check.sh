#!/bin/bash
# run-hardened: api runs secure-app:1.0 non-root, read-only rootfs, tmpfs /tmp, cap-drop ALL, no
# cap-add, and answers /health.
set -u
fail() { echo "FAIL: $*"; exit 1; }
get() { docker inspect --format "$1" api 2>/dev/null; }

status=$(get '{{.State.Status}}') || fail "there is no container named api yet"
image=$(get '{{.Config.Image}}')
case "$image" in secure-app:1.0) ;; *) fail "api runs $image; it should run secure-app:1.0" ;; esac
[ "$status" = running ] || fail "api is $status, not running"
[ "$(get '{{.HostConfig.ReadonlyRootfs}}')" = true ] || fail "api's root filesystem is writable: make it read-only"
tmpfs=$(get '{{range $path, $_ := .HostConfig.Tmpfs}}{{println $path}}{{end}}{{range .Mounts}}{{if eq .Type "tmpfs"}}{{println .Destination}}{{end}}{{end}}')
echo "$tmpfs" | grep -qx /tmp || fail "api has no tmpfs mounted at /tmp"
drop=$(get '{{range .HostConfig.CapDrop}}{{println .}}{{end}}' | tr '[:lower:]' '[:upper:]' | sed 's/^CAP_//')
echo "$drop" | grep -qx ALL || fail "api keeps Docker's default capabilities: drop all of them"
added=$(get '{{range .HostConfig.CapAdd}}{{.}} {{end}}')
[ -z "${added// /}" ] || fail "api adds capabilities back (${added% }); this app needs none"
uid=$(docker exec api cat /proc/1/status 2>/dev/null | awk '/^Uid:/ {print $2}')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "api's process runs with uid ${uid:-unknown}, not as an unprivileged user"
ip=$(get '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' | awk '{print $1}')
for _ in $(seq 1 10); do
  curl -sf -m 2 "http://$ip:8000/health" >/dev/null 2>&1 && { echo "api runs as uid $uid, read-only, without capabilities."; exit 0; }
  sleep 0.5
done
fail "api is hardened but does not answer on port 8000"
