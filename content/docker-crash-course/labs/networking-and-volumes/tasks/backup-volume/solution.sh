#!/bin/bash
docker run --rm -v redis-data:/data:ro busybox tar czf - -C /data . > ~/redis-backup.tar.gz
tar -tzvf ~/redis-backup.tar.gz
