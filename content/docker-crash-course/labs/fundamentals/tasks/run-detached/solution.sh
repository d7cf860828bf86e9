#!/bin/bash
docker rm -f web >/dev/null 2>&1
docker run -d --name web nginx:1.22
