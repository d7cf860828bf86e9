#!/bin/bash
# first-image: myapp:1.0 exists, is built on python:3.11-slim, and prints the greeting with its deps.
set -u
fail() { echo "FAIL: $*"; exit 1; }

docker image inspect myapp:1.0 >/dev/null 2>&1 || fail "there is no image myapp:1.0 yet"
layers=$(docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' myapp:1.0 | sed '/^$/d')
base=$(docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' python:3.11-slim | sed '/^$/d')
[ "$(echo "$layers" | head -n "$(echo "$base" | wc -l)")" = "$base" ] || fail "myapp:1.0 is not built FROM python:3.11-slim"
out=$(timeout 15 docker run --rm myapp:1.0 </dev/null 2>&1)
echo "$out" | grep -q "Hello from myapp" \
  || fail "docker run --rm myapp:1.0 does not print the greeting: does the image CMD run python app.py in /app?"
echo "$out" | grep -q "flask==3.0.0" \
  || fail "myapp:1.0 runs but says it has no dependencies: RUN sh install-deps.sh must run with requirements.txt next to it"
echo "myapp:1.0 works: $(echo "$out" | grep 'Hello from myapp' | head -n 1)"
