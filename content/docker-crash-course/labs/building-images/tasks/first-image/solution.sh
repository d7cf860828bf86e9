#!/bin/bash
mkdir -p ~/app && cd ~/app || exit 1
cat > app.py <<'EOF_APP'
"""myapp: greets, and lists the dependencies installed into its image."""
from pathlib import Path

installed = Path("/opt/deps/installed.txt")
deps = installed.read_text().split() if installed.exists() else []
print(f"Hello from myapp! Dependencies: {', '.join(deps) or 'none'}")
EOF_APP
printf 'flask==3.0.0\nredis==5.0.1\n' > requirements.txt
cat > install-deps.sh <<'EOF_DEPS'
#!/bin/sh
# Stands in for "pip install -r requirements.txt" (this lab has no network). Like a real
# install it is slow, and its result depends only on requirements.txt.
set -e
reqs="${1:-$(dirname "$0")/requirements.txt}"
mkdir -p /opt/deps
while read -r req; do
  case "$req" in "" | \#*) continue ;; esac
  echo "installing $req"
  sleep 1
  echo "$req" >> /opt/deps/installed.txt
done < "$reqs"
EOF_DEPS
# A first, straightforward Dockerfile (the next task makes it cache-friendly).
cat > Dockerfile <<'DOCKERFILE'
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN sh install-deps.sh
CMD ["python", "app.py"]
DOCKERFILE
docker build -t myapp:1.0 . || exit 1
docker run --rm myapp:1.0
