#!/bin/bash
# multi-stage: hello-static:1.0 is < 5 MB and running it prints the program's greeting.
set -u
fail() { echo "FAIL: $*"; exit 1; }
limit=5000000

size=$(docker image inspect --format '{{.Size}}' hello-static:1.0 2>/dev/null) || fail "there is no image hello-static:1.0 yet"
[ "$size" -lt "$limit" ] \
  || fail "hello-static:1.0 is $((size / 1000000)) MB: the final stage must start from scratch or busybox and get only the binary"
out=$(timeout 15 docker run --rm hello-static:1.0 </dev/null 2>&1)
echo "$out" | grep -q "Hello from a static binary!" \
  || fail "docker run --rm hello-static:1.0 does not print the greeting (is the program the image's command, and linked with -static?)"
echo "hello-static:1.0 is $((size / 1000)) kB and says hello."
