#!/bin/bash
cd ~/app || exit 1
cat > Dockerfile <<'DOCKERFILE'
FROM python:3.11-slim
WORKDIR /app
# Dependencies first: this layer is rebuilt only when these two files change.
COPY requirements.txt install-deps.sh ./
RUN sh install-deps.sh
# The source last: editing it reuses every layer above.
COPY . .
CMD ["python", "app.py"]
DOCKERFILE
docker build -t myapp:dev . || exit 1
echo '# a small change' >> app.py
docker build -t myapp:dev . | grep -A1 'RUN sh install-deps.sh'
docker rmi --no-prune myapp:dev >/dev/null
