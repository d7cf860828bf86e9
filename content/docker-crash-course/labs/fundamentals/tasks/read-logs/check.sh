#!/bin/bash
# read-logs: ~/secret.txt holds the code the container "secret" printed (read from its logs now).
set -u
fail() { echo "FAIL: $*"; exit 1; }

docker inspect secret >/dev/null 2>&1 || fail "there is no container named secret yet: start it with the command above"
code=$(docker logs secret 2>&1 | grep -o 'The code is [0-9a-f]\{8\}' | tail -n 1 | awk '{print $NF}')
[ -n "$code" ] || fail "the container secret has not printed a code (yet): start it with the command from the instructions"
[ -f ~/secret.txt ] || fail "~/secret.txt does not exist yet"
grep -qw -- "$code" ~/secret.txt || fail "~/secret.txt does not contain the code that the container secret printed"
echo "Right: the code is $code."
