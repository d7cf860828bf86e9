#!/bin/bash
# container-states: lc-created is created, lc-paused is paused, lc-stopped was stopped from outside.
set -u
fail() { echo "FAIL: $*"; exit 1; }
field() { docker inspect --format "$2" "$1" 2>/dev/null; }

for name in lc-created lc-paused lc-stopped; do
  docker inspect "$name" >/dev/null 2>&1 || fail "there is no container named $name yet"
done
state=$(field lc-created '{{.State.Status}}')
[ "$state" = created ] || fail "lc-created is $state; it should be created but never started (docker create)"
state=$(field lc-paused '{{.State.Status}}')
[ "$state" = paused ] || fail "lc-paused is $state, not paused"
state=$(field lc-stopped '{{.State.Status}}')
[ "$state" = exited ] || fail "lc-stopped is $state; it should be a container that ran and was stopped"
code=$(field lc-stopped '{{.State.ExitCode}}')
case "$code" in
  137 | 143) ;;
  *) fail "lc-stopped exited with code $code because its command ended by itself; give it a long command (sleep 3600) and stop it while it runs" ;;
esac
echo "created, paused and exited (code $code): the lifecycle is yours."
