#!/bin/bash
# tags: myapp:1.1 == myapp:latest != myapp:1.0; the image works and has no .env or debug.log.
set -u
fail() { echo "FAIL: $*"; exit 1; }
id_of() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

new=$(id_of myapp:1.1) || fail "there is no image myapp:1.1 yet"
latest=$(id_of myapp:latest) || fail "there is no tag myapp:latest yet"
old=$(id_of myapp:1.0) || fail "myapp:1.0 is gone: keep the old version next to the new one"
[ "$new" = "$latest" ] || fail "myapp:latest and myapp:1.1 name different images; tag the 1.1 image as latest"
[ "$new" != "$old" ] || fail "myapp:1.1 is the same image as myapp:1.0: build the improved Dockerfile as 1.1"
out=$(timeout 15 docker run --rm myapp:1.1 </dev/null 2>&1)
echo "$out" | grep -q "flask==3.0.0" || fail "docker run --rm myapp:1.1 does not print the greeting with its dependencies"
leaked=$(timeout 15 docker run --rm --entrypoint find myapp:1.1 / -xdev \( -name .env -o -name debug.log \) </dev/null 2>/dev/null | head -n 1)
[ -z "$leaked" ] || fail "myapp:1.1 contains $leaked: rebuild it with the .dockerignore in place"
echo "myapp:1.1 and myapp:latest are ${new:7:12}; myapp:1.0 is still ${old:7:12}."
