#!/bin/bash
# dockerignore: building ~/app sends neither .env nor logs/debug.log, but the app files.
# Probes the real context: a copy of ~/app (with the student's .dockerignore) is built with a
# Dockerfile that copies everything it received, and the result is listed.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d /tmp/berth-check.XXXXXX)
cleanup() {
  docker rmi berth-check/context:probe >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

[ -f ~/app/.env ] || fail "~/app/.env does not exist: create it (and logs/debug.log) as shown above"
[ -f ~/app/logs/debug.log ] || fail "~/app/logs/debug.log does not exist: create it as shown above"
[ -f ~/app/.dockerignore ] || fail "there is no ~/app/.dockerignore yet"
cp -a ~/app "$work/ctx"
printf 'FROM busybox:1.35\nCOPY . /context/\n' > "$work/ctx/.berth-probe.Dockerfile"
docker build -q -f "$work/ctx/.berth-probe.Dockerfile" -t berth-check/context:probe "$work/ctx" </dev/null > "$work/build.log" 2>&1 \
  || fail "could not build ~/app to look at its context: $(grep -v '^ *$' "$work/build.log" | tail -n 1)"
files=$(timeout 15 docker run --rm berth-check/context:probe find /context -type f </dev/null 2>/dev/null) \
  || fail "could not list the build context of ~/app"
echo "$files" | grep -qx '/context/.env' && fail ".env is still sent to the builder: exclude it in ~/app/.dockerignore"
echo "$files" | grep -qx '/context/logs/debug.log' && fail "logs/debug.log is still sent to the builder: exclude the logs folder"
for f in app.py requirements.txt install-deps.sh; do
  echo "$files" | grep -qx "/context/$f" || fail "$f is no longer in the build context: .dockerignore excludes too much"
done
echo "The build context of ~/app has the app's files and neither .env nor logs/."
