#!/bin/bash
mkdir -p ~/secure-app && cd ~/secure-app || exit 1
cat > app.py <<'EOF_APP'
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

TOKEN_FILE = "/run/secrets/api_token"


def api_token():
    """The API token: from a mounted secret file, else (worse) from the environment."""
    try:
        with open(TOKEN_FILE) as fh:
            return fh.read().strip(), "file"
    except OSError:
        return os.environ.get("API_TOKEN", ""), "environment"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = "ok\n"
        else:
            token, source = api_token()
            state = f"configured (from the {source})" if token else "missing"
            body = f"secure-app running as uid {os.getuid()}; API token {state}\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
EOF_APP
cat > Dockerfile <<'DOCKERFILE'
# Pinned base image: a known version, not whatever "latest" means today.
FROM python:3.11-slim
WORKDIR /app
# An unprivileged user for the app.
RUN useradd --system --uid 10001 --no-create-home app
# COPY, not ADD; root owns the code and the app can only read it.
COPY app.py .
USER app
EXPOSE 8000
# The token is not baked in: it is given at run time (a mounted secret file).
HEALTHCHECK --interval=5s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
# Exec form: python is PID 1 and receives SIGTERM from docker stop.
CMD ["python", "app.py"]
DOCKERFILE
docker build -t secure-app:1.0 . || exit 1
docker image inspect --format 'user={{.Config.User}} health={{json .Config.Healthcheck.Test}}' secure-app:1.0
