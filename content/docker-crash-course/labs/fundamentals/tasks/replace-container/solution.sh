#!/bin/bash
docker stop web >/dev/null 2>&1
docker rm web >/dev/null 2>&1
docker run -d --name web -e GREETING=hello nginx:1.22
