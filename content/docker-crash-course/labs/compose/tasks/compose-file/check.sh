#!/bin/bash
# compose-file: ~/counter/compose.yaml is valid and declares web (build, depends_on redis healthy)
# and redis (image redis, healthcheck, named volume at /data). Reads `docker compose config`.
set -u
fail() { echo "FAIL: $*"; exit 1; }

cd ~/counter 2>/dev/null || fail "there is no ~/counter folder yet"
found=""
for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml; do [ -f "$f" ] && found=$f; done
[ -n "$found" ] || fail "there is no compose.yaml in ~/counter yet"
config=$(timeout 15 docker compose config 2>&1 </dev/null) \
  || fail "docker compose config rejects the file: $(echo "$config" | grep -v '^ *$' | tail -n 1)"
verdict=$(echo "$config" | python3 -c '
import sys
import yaml

def out(msg):
    print(msg)
    sys.exit(0)

cfg = yaml.safe_load(sys.stdin) or {}
services = cfg.get("services") or {}
web, redis = services.get("web"), services.get("redis")
if not web:
    out("FAIL: compose.yaml has no service named web")
if not redis:
    out("FAIL: compose.yaml has no service named redis")
if not web.get("build"):
    out("FAIL: the web service has no build: it should be built from ./web")
if not str(redis.get("image", "")).startswith("redis"):
    out("FAIL: the redis service should use the image redis:7.0")
health = redis.get("healthcheck") or {}
test = health.get("test") or []
if isinstance(test, str):
    test = [test]
if not test or health.get("disable") or test[0] == "NONE":
    out("FAIL: the redis service has no health check (healthcheck: test: ...)")
deps = web.get("depends_on") or {}
if isinstance(deps, list):
    deps = {name: {"condition": "service_started"} for name in deps}
if "redis" not in deps:
    out("FAIL: the web service does not depend on redis (depends_on)")
if (deps.get("redis") or {}).get("condition") != "service_healthy":
    out("FAIL: web waits only until redis has started; make it wait until redis is healthy (condition: service_healthy)")
named = set((cfg.get("volumes") or {}).keys())
found = False
for vol in redis.get("volumes") or []:
    if isinstance(vol, dict):
        source, target, kind = vol.get("source"), vol.get("target"), vol.get("type", "volume")
    else:
        parts = str(vol).split(":")
        source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        kind = "volume" if source and not source.startswith((".", "/", "~")) else "bind"
    if kind == "volume" and source in named and target == "/data":
        found = True
if not found:
    out("FAIL: the redis service has no named volume mounted at /data (declare it under the top-level volumes: too)")
out("ok")
' 2>&1 | tail -n 1)
case "$verdict" in
  ok) echo "compose.yaml declares web and redis with a build, a health check, a healthy dependency and a named volume." ;;
  FAIL:*) echo "$verdict"; exit 1 ;;
  *) fail "could not read the output of docker compose config" ;;
esac
