#!/bin/bash
# image-layers: layered:1 is built on busybox:1.35 plus >= 2 layers; the answer files match RootFS.
set -u
fail() { echo "FAIL: $*"; exit 1; }

layers=$(docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' layered:1 2>/dev/null | sed '/^$/d') \
  || fail "there is no image layered:1 yet"
[ -n "$layers" ] || fail "there is no image layered:1 yet"
base=$(docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' busybox:1.35 2>/dev/null | sed '/^$/d')
count=$(echo "$layers" | wc -l)
base_count=$(echo "$base" | wc -l)
[ "$(echo "$layers" | head -n "$base_count")" = "$base" ] || fail "layered:1 is not built FROM busybox:1.35"
[ "$count" -ge $((base_count + 2)) ] \
  || fail "layered:1 adds $((count - base_count)) layer(s) to busybox:1.35; add files in at least two instructions"
top=$(echo "$layers" | tail -n 1)
[ -f ~/layers.txt ] || fail "~/layers.txt does not exist yet"
answer=$(tr -d ' \t\r\n' < ~/layers.txt)
[ "$answer" = "$count" ] || fail "~/layers.txt says '$answer', which is not the number of filesystem layers of layered:1"
[ -f ~/top-layer.txt ] || fail "~/top-layer.txt does not exist yet"
answer=$(tr -d ' \t\r\n' < ~/top-layer.txt)
[ "$answer" = "$top" ] || [ "sha256:$answer" = "$top" ] \
  || fail "~/top-layer.txt does not hold the digest of layered:1's top (last) layer"
echo "layered:1 has $count layers; the top one is ${top:0:19}..."
