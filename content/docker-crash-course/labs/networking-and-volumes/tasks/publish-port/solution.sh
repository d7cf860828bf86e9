#!/bin/bash
docker rm -f web >/dev/null 2>&1
docker run -d --name web -p 8080:80 nginx:1.22
sleep 1
curl -s localhost:8080 | head -n 4
docker port web
