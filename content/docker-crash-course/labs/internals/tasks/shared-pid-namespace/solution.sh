#!/bin/bash
docker rm -f ns-debug >/dev/null 2>&1
docker run -d --name ns-debug --pid container:ns-target busybox sleep 3600
docker exec ns-debug ps
docker exec ns-target readlink /proc/self/ns/pid
docker exec ns-debug readlink /proc/self/ns/pid
