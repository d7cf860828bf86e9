#!/bin/bash
docker rm -f lc-created lc-paused lc-stopped >/dev/null 2>&1
docker create --name lc-created busybox sleep 3600
docker run -d --name lc-paused busybox sleep 3600
docker pause lc-paused
docker run -d --name lc-stopped busybox sleep 3600
docker stop -t 1 lc-stopped
docker ps -a --filter name=lc- --format '{{.Names}}: {{.Status}}'
