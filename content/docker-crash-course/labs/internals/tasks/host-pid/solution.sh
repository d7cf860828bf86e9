#!/bin/bash
docker rm -f ns-target >/dev/null 2>&1
docker run -d --name ns-target busybox sleep 3600
docker exec ns-target ps
docker inspect --format '{{.State.Pid}}' ns-target > ~/host-pid.txt
cat ~/host-pid.txt
