#!/bin/bash
docker rm -f api >/dev/null 2>&1
docker run -d --name api \
  --read-only --tmpfs /tmp \
  --cap-drop ALL \
  --security-opt no-new-privileges \
  secure-app:1.0
sleep 1
docker exec api sh -c 'id; touch /app/x; touch /tmp/x && echo "/tmp is writable"'
docker exec api grep CapEff /proc/1/status
