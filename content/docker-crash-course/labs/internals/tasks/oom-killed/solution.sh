#!/bin/bash
docker rm -f oom >/dev/null 2>&1
docker run --name oom --memory 64m busybox tail /dev/zero
echo "docker run exited with $?"
docker inspect --format 'OOMKilled={{.State.OOMKilled}} exit={{.State.ExitCode}}' oom
