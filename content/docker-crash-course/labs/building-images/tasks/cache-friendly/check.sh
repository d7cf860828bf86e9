#!/bin/bash
# cache-friendly: rebuilding ~/app after an app.py change takes the dependency RUN step from the
# cache, and the rebuilt image runs the changed code. Builds a copy; the student's files are untouched.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d /tmp/berth-check.XXXXXX)
cleanup() {
  docker rmi --no-prune berth-check/cache:before berth-check/cache:after >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

[ -f ~/app/Dockerfile ] || fail "there is no ~/app/Dockerfile yet"
[ -f ~/app/app.py ] || fail "there is no ~/app/app.py (create the app as in the first task)"
grep -qiE '^[[:space:]]*RUN[[:space:]].*(install-deps|requirements)' ~/app/Dockerfile \
  || fail "~/app/Dockerfile has no RUN step that installs the dependencies (sh install-deps.sh)"
cp -a ~/app "$work/ctx"
docker build -t berth-check/cache:before "$work/ctx" </dev/null > "$work/before.log" 2>&1 \
  || fail "~/app does not build: $(grep -v '^ *$' "$work/before.log" | tail -n 1)"
token="cache-check-$RANDOM$RANDOM"
printf '\nprint("%s")\n' "$token" >> "$work/ctx/app.py"
docker build -t berth-check/cache:after "$work/ctx" </dev/null > "$work/after.log" 2>&1 \
  || fail "~/app does not build after a change to app.py: $(grep -v '^ *$' "$work/after.log" | tail -n 1)"
verdict=$(python3 - "$work/after.log" <<'PY'
import re, sys
steps, current = [], None
for line in open(sys.argv[1], errors="replace"):
    match = re.match(r"Step \d+/\d+ : (.*)", line)
    if match:
        current = {"text": match.group(1).strip(), "cached": False}
        steps.append(current)
    elif current is not None and "Using cache" in line:
        current["cached"] = True
deps = [s for s in steps if re.match(r"(?i)RUN\b", s["text"]) and re.search(r"install-deps|requirements", s["text"])]
if not deps:
    print("missing")
else:
    missed = [s["text"] for s in deps if not s["cached"]]
    print("rebuilt " + missed[0] if missed else "ok")
PY
)
case "$verdict" in
  ok) ;;
  missing) fail "the build output shows no RUN step that installs the dependencies" ;;
  *) fail "after a change to app.py the step '${verdict#rebuilt }' ran again instead of coming from the cache: copy only what it needs before it" ;;
esac
out=$(timeout 15 docker run --rm berth-check/cache:after </dev/null 2>&1)
echo "$out" | grep -q "$token" \
  || fail "the dependency step was cached, but the rebuilt image does not run the changed app.py: copy the source after installing"
echo "$out" | grep -q "flask==3.0.0" || fail "the rebuilt image runs, but its dependencies are missing"
echo "A change to app.py rebuilt only what followed it; the dependency layer came from the cache."
