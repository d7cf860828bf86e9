#!/bin/bash
docker rm -f first >/dev/null 2>&1
docker run --name first busybox echo hello
