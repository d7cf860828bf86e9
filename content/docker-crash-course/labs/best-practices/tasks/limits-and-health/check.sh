#!/bin/bash
# limits-and-health: api has memory <= 256 MiB, pids <= 100, CPU <= 0.5 (all set), and is healthy.
set -u
fail() { echo "FAIL: $*"; exit 1; }
get() { docker inspect --format "$1" api 2>/dev/null; }

status=$(get '{{.State.Status}}') || fail "there is no container named api"
[ "$status" = running ] || fail "api is $status, not running"
memory=$(get '{{.HostConfig.Memory}}')
{ [ "$memory" -gt 0 ] && [ "$memory" -le $((256 * 1024 * 1024)) ]; } 2>/dev/null \
  || fail "api may use $((memory / 1024 / 1024)) MiB of memory; limit it to 256 MiB or less"
pids=$(get '{{.HostConfig.PidsLimit}}')
{ [ "${pids:-0}" -gt 0 ] && [ "$pids" -le 100 ]; } 2>/dev/null || fail "api may run ${pids:-any number of} processes; limit it to 100 or fewer"
read -r nano quota period <<< "$(get '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}')"
if [ "${nano:-0}" -gt 0 ]; then
  [ "$nano" -le 500000000 ] || fail "api may use $(awk "BEGIN {print $nano / 1e9}") CPUs; limit it to 0.5"
elif [ "${quota:-0}" -gt 0 ]; then
  [ "${period:-0}" -le 0 ] && period=100000
  [ $((quota * 2)) -le "$period" ] || fail "api's CPU quota is more than half a CPU"
else
  fail "api has no CPU limit; give it at most half a CPU"
fi
health=$(get '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}')
case "$health" in
  healthy) echo "api is limited (memory, processes, CPU) and healthy." ;;
  starting) fail "api's health check has not passed yet (starting): give it a few seconds" ;;
  none) fail "api has no health check: it comes from the HEALTHCHECK in secure-app:1.0" ;;
  *) fail "api is $health: docker inspect --format '{{json .State.Health}}' api shows why" ;;
esac
