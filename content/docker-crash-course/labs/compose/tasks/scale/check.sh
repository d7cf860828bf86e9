#!/bin/bash
# scale: >= 3 running web replicas in project counter; each answers; sequential requests to the
# replicas return strictly rising counts (one shared Redis).
set -u
fail() { echo "FAIL: $*"; exit 1; }

webs=$(docker ps -q --filter label=com.docker.compose.project=counter --filter label=com.docker.compose.service=web 2>/dev/null)
n=$(echo "$webs" | sed '/^$/d' | wc -l)
[ "$n" -ge 3 ] || fail "$n web container(s) of the project counter are running; scale web to 3"
last=-1
hosts=""
for id in $webs; do
  ip=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id" | awk '{print $1}')
  answer=""
  for _ in 1 2 3 4 5 6; do
    answer=$(curl -sf -m 2 "http://$ip:8000/" 2>/dev/null) && break
    sleep 0.5
  done
  visits=$(echo "$answer" | sed -n 's/.*Visits: *\([0-9][0-9]*\).*/\1/p')
  [ -n "$visits" ] || fail "a web replica ($(docker inspect --format '{{.Name}}' "$id" | tr -d /)) does not answer with a visit count"
  [ "$visits" -gt "$last" ] || fail "the replicas do not share one counter: are they all using the project's redis?"
  last=$visits
  hosts="$hosts $(echo "$answer" | sed -n 's/^Hello from \([^!]*\)!.*/\1/p')"
done
echo "$n web replicas share one counter (now at $last):$hosts"
