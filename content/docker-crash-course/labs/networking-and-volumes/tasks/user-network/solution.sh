#!/bin/bash
docker rm -f api client >/dev/null 2>&1
docker network rm appnet >/dev/null 2>&1
docker network create appnet
docker run -d --name api --network appnet nginx:1.22
docker run -d --name client --network appnet busybox sleep 3600
sleep 1
docker exec client wget -qO- http://api/ | head -n 4
