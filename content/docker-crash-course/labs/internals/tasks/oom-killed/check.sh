#!/bin/bash
# oom-killed: "oom" had a memory limit <= 64 MiB and was ended by the OOM killer (exit 137).
set -u
fail() { echo "FAIL: $*"; exit 1; }
max=$((64 * 1024 * 1024))

state=$(docker inspect --format '{{.State.Status}} {{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}' oom 2>/dev/null) \
  || fail "there is no container named oom yet"
read -r status killed code memory <<< "$state"
{ [ "$memory" -gt 0 ] && [ "$memory" -le "$max" ]; } 2>/dev/null \
  || fail "oom has a memory limit of $memory bytes; give it 64 MiB or less"
[ "$status" = exited ] || fail "oom is $status; its command should use memory until it is killed"
[ "$killed" = true ] || fail "oom exited with code $code, but not because of the OOM killer: its command must keep allocating memory"
[ "$code" = 137 ] || fail "oom was OOM-killed but exited with code $code instead of 137"
echo "The OOM killer ended oom: OOMKilled=true, exit code 137 (128 + SIGKILL)."
