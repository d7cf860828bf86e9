#!/bin/bash
mkdir -p ~/secrets
echo "my-real-token-$RANDOM" > ~/secrets/api_token
# Readable by the owner (uid 1000) and group 1000 only; the container joins that group.
chmod 640 ~/secrets/api_token
docker rm -f api >/dev/null 2>&1
docker run -d --name api \
  --read-only --tmpfs /tmp \
  --cap-drop ALL \
  --security-opt no-new-privileges \
  --memory 256m --pids-limit 100 --cpus 0.5 \
  --group-add 1000 \
  -v ~/secrets/api_token:/run/secrets/api_token:ro \
  secure-app:1.0
for _ in $(seq 1 40); do
  [ "$(docker inspect --format '{{.State.Health.Status}}' api)" = healthy ] && break
  sleep 0.5
done
curl -s "http://$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' api):8000/"
