#!/bin/bash
# first-container: a container named "first" has run and its output says hello.
set -u
fail() { echo "FAIL: $*"; exit 1; }

status=$(docker inspect --format '{{.State.Status}}' first 2>/dev/null) \
  || fail "there is no container named first yet (docker ps -a lists every container, running or not)"
[ "$status" != created ] || fail "the container first was created but never started"
docker logs first 2>&1 | grep -qi hello \
  || fail "the container first has run, but its output does not contain hello"
echo "The container first ran and said hello."
