#!/bin/bash
docker rm -f api >/dev/null 2>&1
docker run -d --name api \
  --read-only --tmpfs /tmp \
  --cap-drop ALL \
  --security-opt no-new-privileges \
  --memory 256m --pids-limit 100 --cpus 0.5 \
  secure-app:1.0
for _ in $(seq 1 40); do
  [ "$(docker inspect --format '{{.State.Health.Status}}' api)" = healthy ] && break
  sleep 0.5
done
docker ps --filter name=api --format '{{.Names}}: {{.Status}}'
