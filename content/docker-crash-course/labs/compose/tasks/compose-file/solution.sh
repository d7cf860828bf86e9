#!/bin/bash
mkdir -p ~/counter/web && cd ~/counter || exit 1
cat > web/app.py <<'EOF_APP'
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

REDIS_HOST = os.environ.get("REDIS_HOST", "redis")


def incr(key):
    """INCR key in Redis, speaking its protocol (RESP) over a plain socket."""
    with socket.create_connection((REDIS_HOST, 6379), timeout=2) as conn:
        conn.sendall(f"*2\r\n$4\r\nINCR\r\n${len(key)}\r\n{key}\r\n".encode())
        reply = conn.recv(64).decode()
    if not reply.startswith(":"):
        raise OSError(reply.strip())
    return int(reply[1:])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            status, body = 200, f"Hello from {socket.gethostname()}! Visits: {incr('hits')}\n"
        except OSError as exc:
            status, body = 503, f"Redis is not reachable: {exc}\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop quickly on docker stop
print(f"web: listening on port 8000, Redis at {REDIS_HOST}", flush=True)
HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
EOF_APP
cat > web/Dockerfile <<'DOCKERFILE'
FROM python:3.11-slim
WORKDIR /app
COPY app.py .
USER 10001
EXPOSE 8000
CMD ["python", "app.py"]
DOCKERFILE
cat > compose.yaml <<'YAML'
services:
  web:
    build: ./web
    image: counter-web:1.0
    ports:
      - "8000:8000"
    environment:
      REDIS_HOST: redis
    depends_on:
      redis:
        condition: service_healthy

  redis:
    image: redis:7.0
    volumes:
      - redis-data:/data
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 2s
      timeout: 3s
      retries: 5

volumes:
  redis-data:
YAML
docker compose config --services
