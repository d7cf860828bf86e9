#!/bin/bash
wait_redis() { for _ in $(seq 1 30); do docker exec cache redis-cli PING 2>/dev/null | grep -q PONG && return 0; sleep 0.5; done; return 1; }
docker rm -f cache >/dev/null 2>&1
docker volume create redis-data
docker run -d --name cache -v redis-data:/data redis:7.0
wait_redis
docker exec cache redis-cli SET greeting hello-volume
# A clean stop makes Redis write its data to /data (so would redis-cli SAVE).
docker stop cache
docker rm cache
docker run -d --name cache -v redis-data:/data redis:7.0
wait_redis
docker exec cache redis-cli GET greeting
