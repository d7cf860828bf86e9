#!/bin/bash
cd ~/counter || exit 1
docker compose down
docker ps -a
docker volume ls
docker compose up -d || exit 1
for _ in $(seq 1 60); do curl -sf -m 2 localhost:8000 && break; sleep 0.5; done
