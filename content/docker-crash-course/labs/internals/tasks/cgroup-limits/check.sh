#!/bin/bash
# cgroup-limits: "limited" runs with 64 MiB and 20 pids; ~/memory-limit.txt matches its cgroup file.
set -u
fail() { echo "FAIL: $*"; exit 1; }
want=$((64 * 1024 * 1024))

status=$(docker inspect --format '{{.State.Status}}' limited 2>/dev/null) || fail "there is no container named limited yet"
[ "$status" = running ] || fail "limited is $status; it should keep running (sleep 3600, detached)"
memory=$(docker inspect --format '{{.HostConfig.Memory}}' limited)
[ "$memory" = "$want" ] || fail "limited has a memory limit of $memory bytes, not 64 MiB ($want bytes)"
pids=$(docker inspect --format '{{.HostConfig.PidsLimit}}' limited)
[ "$pids" = 20 ] || fail "limited may run ${pids:-any number of} processes, not 20"
kernel=$(docker exec limited cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null \
  || docker exec limited cat /sys/fs/cgroup/memory.max 2>/dev/null)
kernel=$(echo "$kernel" | tr -d ' \r\n')
[ -n "$kernel" ] || fail "could not read the memory limit inside limited (does its image have cat?)"
[ -f ~/memory-limit.txt ] || fail "~/memory-limit.txt does not exist yet"
answer=$(tr -d ' \t\r\n' < ~/memory-limit.txt)
[ "$answer" = "$kernel" ] || fail "~/memory-limit.txt says '$answer', which is not the memory limit the kernel shows inside limited"
echo "limited is capped at $kernel bytes and 20 processes."
