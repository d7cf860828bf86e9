#!/bin/bash
# shared-pid-namespace: ns-debug runs in ns-target's PID namespace (same /proc/self/ns/pid inode).
set -u
fail() { echo "FAIL: $*"; exit 1; }
running() { [ "$(docker inspect --format '{{.State.Status}}' "$1" 2>/dev/null)" = running ]; }

docker inspect ns-debug >/dev/null 2>&1 || fail "there is no container named ns-debug yet"
running ns-target || fail "ns-target is not running (it is the container whose PID namespace ns-debug joins)"
running ns-debug || fail "ns-debug exists but is not running; give it a long-running command such as sleep 3600"
target_ns=$(docker exec ns-target readlink /proc/self/ns/pid 2>/dev/null)
debug_ns=$(docker exec ns-debug readlink /proc/self/ns/pid 2>/dev/null)
if [ -z "$target_ns" ] || [ -z "$debug_ns" ]; then
  # An image without readlink: fall back to the configuration.
  target_id=$(docker inspect --format '{{.Id}}' ns-target)
  mode=$(docker inspect --format '{{.HostConfig.PidMode}}' ns-debug)
  [ "$mode" = "container:$target_id" ] || fail "ns-debug has its own PID namespace; start it so it shares ns-target's"
  echo "ns-debug shares ns-target's PID namespace."
  exit 0
fi
[ "$target_ns" = "$debug_ns" ] \
  || fail "ns-debug is in $debug_ns but ns-target is in $target_ns: start ns-debug so it joins ns-target's PID namespace"
echo "Both containers are in $target_ns."
