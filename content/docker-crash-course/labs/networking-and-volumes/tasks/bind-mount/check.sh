#!/bin/bash
# bind-mount: "site" (nginx) bind-mounts ~/site read-only at /usr/share/nginx/html, publishes 8081,
# and localhost:8081 serves the current ~/site/index.html.
set -u
fail() { echo "FAIL: $*"; exit 1; }

[ -f ~/site/index.html ] || fail "there is no ~/site/index.html yet"
status=$(docker inspect --format '{{.State.Status}}' site 2>/dev/null) || fail "there is no container named site yet"
[ "$status" = running ] || fail "site is $status, not running"
mount=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "/usr/share/nginx/html"}}{{.Type}} {{.Source}} {{.RW}}{{end}}{{end}}' site)
[ -n "$mount" ] || fail "site has nothing mounted at /usr/share/nginx/html"
read -r kind source rw <<< "$mount"
[ "$kind" = bind ] || fail "site has a $kind mounted at /usr/share/nginx/html; it should be a bind mount of ~/site"
[ "$(realpath -m "$source")" = "$(realpath -m ~/site)" ] || fail "site serves $source, not ~/site"
[ "$rw" = false ] || fail "~/site is mounted read-write; mount it read-only (nginx only needs to read it)"
ports=$(docker inspect --format '{{range $p, $b := .HostConfig.PortBindings}}{{range $b}}{{$p}}={{.HostPort}} {{end}}{{end}}' site)
echo " $ports " | grep -q ' 80/tcp=8081 ' || fail "site does not publish its port 80 on host port 8081"
want=$(cat ~/site/index.html)
for _ in 1 2 3 4 5; do
  got=$(curl -sf -m 2 localhost:8081/ 2>/dev/null) && [ "$got" = "$want" ] && { echo "localhost:8081 serves your ~/site."; exit 0; }
  sleep 0.5
done
fail "curl localhost:8081 does not return the content of ~/site/index.html"
