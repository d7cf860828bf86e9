#!/bin/bash
docker rm -f limited >/dev/null 2>&1
docker run -d --name limited --memory 64m --pids-limit 20 busybox sleep 3600
# cgroup v1 names the file memory.limit_in_bytes, cgroup v2 memory.max.
docker exec limited sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max' > ~/memory-limit.txt
cat ~/memory-limit.txt
