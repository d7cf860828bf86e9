#!/bin/bash
mkdir -p ~/site
echo '<h1>My first bind mount</h1>' > ~/site/index.html
docker rm -f site >/dev/null 2>&1
docker run -d --name site -p 8081:80 -v ~/site:/usr/share/nginx/html:ro nginx:1.22
sleep 1
curl -s localhost:8081
