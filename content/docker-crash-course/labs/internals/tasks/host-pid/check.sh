#!/bin/bash
# host-pid: ns-target runs, and ~/host-pid.txt holds its main process's PID outside the container.
set -u
fail() { echo "FAIL: $*"; exit 1; }

status=$(docker inspect --format '{{.State.Status}}' ns-target 2>/dev/null) \
  || fail "there is no container named ns-target yet"
[ "$status" = running ] || fail "ns-target is $status; it should keep running (sleep 3600, detached)"
pid=$(docker inspect --format '{{.State.Pid}}' ns-target 2>/dev/null)
[ -f ~/host-pid.txt ] || fail "~/host-pid.txt does not exist yet"
answer=$(tr -d ' \t\r\n' < ~/host-pid.txt)
[ "$answer" != 1 ] || fail "1 is the PID inside the container; write the PID the engine (the host) uses for it"
[ "$answer" = "$pid" ] || fail "~/host-pid.txt says '$answer', which is not the host PID of ns-target's main process"
echo "Right: PID 1 inside ns-target is PID $pid outside."
