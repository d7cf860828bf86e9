#!/bin/bash
# named-volume: "cache" (redis) has the named volume redis-data at /data, is a fresh container (not
# restarted) whose Redis loaded its data from that volume at start, and GET greeting = hello-volume.
set -u
fail() { echo "FAIL: $*"; exit 1; }

docker volume inspect redis-data >/dev/null 2>&1 || fail "there is no volume named redis-data yet"
status=$(docker inspect --format '{{.State.Status}}' cache 2>/dev/null) || fail "there is no container named cache yet"
[ "$status" = running ] || fail "cache is $status, not running"
mount=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Type}} {{.Name}}{{end}}{{end}}' cache)
[ "$mount" = "volume redis-data" ] || fail "cache does not have the named volume redis-data mounted at /data"
value=""
for _ in 1 2 3 4 5 6; do
  value=$(docker exec cache redis-cli GET greeting 2>/dev/null | tr -d '\r')
  [ -n "$value" ] && break
  sleep 0.5
done
[ "$value" = hello-volume ] || fail "GET greeting in cache answers '${value}', not hello-volume"
loaded=$(docker exec cache redis-cli INFO persistence 2>/dev/null | tr -d '\r' | sed -n 's/^rdb_last_load_keys_loaded://p')
[ "${loaded:-0}" -ge 1 ] 2>/dev/null \
  || fail "cache has the value, but its Redis did not load it from the volume when it started: the value has to come from the volume into a new container"
times=$(docker inspect --format '{{.Created}} {{.State.StartedAt}}' cache)
created=$(date -d "${times% *}" +%s 2>/dev/null || echo 0)
started=$(date -d "${times#* }" +%s 2>/dev/null || echo 0)
starts=$(docker logs cache 2>&1 | grep -c "Ready to accept connections")
{ [ $((started - created)) -lt 10 ] && [ "$starts" -le 1 ]; } \
  || fail "cache was restarted, not re-created: the data has to survive the removal of the container"
echo "The value survived: a new cache container found greeting in the volume redis-data."
