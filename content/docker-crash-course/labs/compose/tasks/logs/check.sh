#!/bin/bash
# logs: ~/counter/redis-version.txt holds the version of the project's running Redis (asked from it).
set -u
fail() { echo "FAIL: $*"; exit 1; }

redis=$(docker ps -q --filter label=com.docker.compose.project=counter --filter label=com.docker.compose.service=redis 2>/dev/null | head -n 1)
[ -n "$redis" ] || fail "the project's redis container is not running"
version=$(docker exec "$redis" redis-cli INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')
[ -n "$version" ] || fail "could not ask the project's Redis for its version; is it up?"
[ -f ~/counter/redis-version.txt ] || fail "there is no ~/counter/redis-version.txt yet"
grep -qwF -- "$version" ~/counter/redis-version.txt \
  || fail "~/counter/redis-version.txt does not hold the version that the redis service's logs show"
echo "Right: the project runs Redis $version."
