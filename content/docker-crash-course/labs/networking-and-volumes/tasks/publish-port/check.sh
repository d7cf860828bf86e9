#!/bin/bash
# publish-port: web (nginx) publishes 80/tcp on host port 8080, and localhost:8080 answers.
set -u
fail() { echo "FAIL: $*"; exit 1; }

status=$(docker inspect --format '{{.State.Status}}' web 2>/dev/null) || fail "there is no container named web yet"
image=$(docker inspect --format '{{.Config.Image}}' web)
case "$image" in nginx | nginx:*) ;; *) fail "web runs $image; it should run nginx:1.22" ;; esac
[ "$status" = running ] || fail "web is $status, not running"
ports=$(docker inspect --format '{{range $p, $b := .HostConfig.PortBindings}}{{range $b}}{{$p}}={{.HostPort}} {{end}}{{end}}' web)
echo " $ports " | grep -q ' 80/tcp=8080 ' || fail "web does not publish its port 80 on host port 8080 (it publishes: ${ports:-nothing})"
for _ in 1 2 3 4 5; do
  curl -sf -m 2 localhost:8080 2>/dev/null | grep -qi nginx && { echo "localhost:8080 reaches nginx in web."; exit 0; }
  sleep 0.5
done
fail "web publishes 8080, but curl localhost:8080 gets no answer from nginx"
