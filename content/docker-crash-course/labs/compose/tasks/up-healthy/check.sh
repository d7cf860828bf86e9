#!/bin/bash
# up-healthy: project "counter" runs; redis is healthy with counter_redis-data at /data; every web
# container answers on port 8000 with a visit count. Found by Compose's labels, not by names.
set -u
fail() { echo "FAIL: $*"; exit 1; }
project=com.docker.compose.project=counter
ids() { docker ps -aq --filter "label=$project" --filter "label=com.docker.compose.service=$1" 2>/dev/null; }

[ -n "$(docker ps -aq --filter "label=$project" 2>/dev/null)" ] \
  || fail "the Compose project counter is not running (a project is named after its folder, ~/counter)"
redis=$(ids redis | head -n 1)
[ -n "$redis" ] || fail "the project counter has no redis container"
state=$(docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$redis")
case "$state" in
  "running healthy") ;;
  "running starting") fail "redis is running, but its health check has not passed yet" ;;
  "running none") fail "redis has no health check" ;;
  running*) fail "redis is ${state#running }" ;;
  *) fail "redis is ${state%% *}, not running" ;;
esac
mount=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Type}} {{.Name}}{{end}}{{end}}' "$redis")
[ "$mount" = "volume counter_redis-data" ] || fail "redis does not have the project's volume redis-data at /data"
webs=$(ids web)
[ -n "$webs" ] || fail "the project counter has no web container"
count=0
for id in $webs; do
  name=$(docker inspect --format '{{.Name}}' "$id"); name=${name#/}
  [ "$(docker inspect --format '{{.State.Status}}' "$id")" = running ] \
    || fail "$name is not running (docker compose logs web tells you why)"
  ip=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id" | awk '{print $1}')
  answer=""
  for _ in 1 2 3 4 5 6; do
    answer=$(curl -sf -m 2 "http://$ip:8000/" 2>/dev/null) && break
    sleep 0.5
  done
  echo "$answer" | grep -q "Visits:" || fail "$name does not answer on port 8000 with a visit count"
  count=$((count + 1))
done
echo "counter is up: redis is healthy, $count web container(s) count visits."
