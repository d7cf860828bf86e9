#!/bin/bash
cd ~/app || exit 1
docker build -t myapp:1.1 . || exit 1
docker tag myapp:1.1 myapp:latest
docker images myapp
