#!/bin/bash
# down-and-up: the project was brought down and up again, keeping the volume. Evidence, all live:
# the redis container is new (not restarted), the project network was created with it (so the
# whole project went down, not one service), and its Redis loaded keys from the volume at start.
set -u
fail() { echo "FAIL: $*"; exit 1; }
epoch() { date -d "$1" +%s 2>/dev/null || echo 0; }

redis=$(docker ps -q --filter label=com.docker.compose.project=counter --filter label=com.docker.compose.service=redis 2>/dev/null | head -n 1)
[ -n "$redis" ] || fail "the project's redis container is not running: bring the project up again"
created=$(epoch "$(docker inspect --format '{{.Created}}' "$redis")")
started=$(epoch "$(docker inspect --format '{{.State.StartedAt}}' "$redis")")
starts=$(docker logs "$redis" 2>&1 | grep -c "Ready to accept connections")
{ [ $((started - created)) -lt 10 ] && [ "$starts" -le 1 ]; } \
  || fail "the redis container was restarted, not re-created: the whole project has to go down and come up again"
network=$(docker inspect --format '{{range $name, $_ := .NetworkSettings.Networks}}{{println $name}}{{end}}' "$redis" | sed '/^$/d' | head -n 1)
net_created=$(docker network inspect --format '{{.Created.Unix}}' "$network" 2>/dev/null || echo 0)
[ $((created - net_created)) -lt 60 ] \
  || fail "the redis container is new but the project's network is older: only part of the project was re-created, not the whole project"
loaded=$(docker exec "$redis" redis-cli INFO persistence 2>/dev/null | tr -d '\r' | sed -n 's/^rdb_last_load_keys_loaded://p')
[ "${loaded:-0}" -ge 1 ] 2>/dev/null \
  || fail "this Redis loaded no data from its volume when it started: the project has not been down and up yet, or its volume was deleted on the way"
echo "The project went down and came back up with new containers, and Redis kept its data."
