#!/bin/bash
cd ~/counter || exit 1
# A fixed host port can be bound only once: let Docker choose one per replica.
sed -i 's/"8000:8000"/"8000"/' compose.yaml
docker compose up -d --scale web=3 || exit 1
for id in $(docker compose ps -q web); do
  ip=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
  for _ in $(seq 1 40); do curl -sf -m 2 "http://$ip:8000/" && break; sleep 0.5; done
done
docker compose ps
