#!/bin/bash
mkdir -p ~/layers && cd ~/layers || exit 1
cat > Dockerfile <<'DOCKERFILE'
FROM busybox:1.35
RUN echo one > /one.txt
RUN echo two > /two.txt
COPY Dockerfile /Dockerfile.copy
DOCKERFILE
docker build -t layered:1 . || exit 1
docker history layered:1
docker image inspect --format '{{len .RootFS.Layers}}' layered:1 > ~/layers.txt
docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' layered:1 | sed '/^$/d' | tail -n 1 > ~/top-layer.txt
cat ~/layers.txt ~/top-layer.txt
