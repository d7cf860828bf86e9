#!/bin/bash
docker rm -f secret >/dev/null 2>&1
docker run -d --name secret busybox sh -c 'echo "The code is $(head -c 4 /dev/urandom | od -An -tx1 | tr -d " ")"'
docker wait secret >/dev/null
docker logs secret | awk '{print $NF}' > ~/secret.txt
cat ~/secret.txt
