#!/bin/bash
# fix-dockerfile: reviews ~/secure-app/Dockerfile (pinned FROM, no secrets, COPY not ADD, no
# world-writable chmod, non-root USER, HEALTHCHECK, exec-form CMD), builds it and compares with
# secure-app:1.0, inspects that image, and runs it briefly (health, uid, world-writable files).
set -u
fail() { echo "FAIL: $*"; exit 1; }
token='s3cr3t-t0ken-1234'
probe="berth-check-secure-$RANDOM"
cleanup() {
  docker rm -f "$probe" >/dev/null 2>&1
  docker rmi --no-prune berth-check/secure:probe >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' TERM INT

file=~/secure-app/Dockerfile
[ -f "$file" ] || fail "there is no ~/secure-app/Dockerfile yet"
review=$(python3 - "$file" "$token" <<'PY'
import json, re, sys

text = open(sys.argv[1], errors="replace").read()
token = sys.argv[2]
secret = re.compile(r"(?i)(token|secret|passw(or)?d|api_?key|private_?key|credential)")

def out(msg):
    print(msg)
    sys.exit(0)

# Join continuation lines, drop comments and blank lines.
lines, current = [], ""
for raw in text.splitlines():
    if not current and raw.lstrip().startswith("#"):
        continue
    if raw.rstrip().endswith("\\"):
        current += raw.rstrip()[:-1] + " "
        continue
    current += raw
    if current.strip():
        lines.append(current.strip())
    current = ""
if current.strip():
    lines.append(current.strip())
instructions = []
for line in lines:
    word, _, rest = line.partition(" ")
    instructions.append((word.upper(), rest.strip()))

stages, user, health, cmd, entry = set(), None, None, None, None
for word, rest in instructions:
    if word == "FROM":
        parts = [p for p in rest.split() if not p.startswith("--")]
        if not parts:
            continue
        ref = parts[0]
        if len(parts) >= 3 and parts[1].upper() == "AS":
            stages.add(parts[2].lower())
        if ref.lower() in stages or ref == "scratch" or "@sha256:" in ref:
            continue
        tag = ref.rsplit("/", 1)[-1].partition(":")[2]
        if not tag or tag == "latest":
            out(f"FAIL: FROM {ref} is not pinned: name an exact tag that exists here (python:3.11-slim)")
    elif word in ("ENV", "ARG"):
        names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", rest)
        for name in names:
            if secret.search(name):
                out(f"FAIL: the Dockerfile sets {name} with {word}: secrets do not belong in an image (its config and history keep them)")
    elif word == "ADD":
        out("FAIL: ADD copies local files but also unpacks archives and downloads URLs: use COPY")
    elif word == "RUN":
        for m in re.finditer(r"chmod\b([^;&|]*)", rest):
            args = m.group(1)
            if re.search(r"(?<![0-7])0?[0-7]?[0-7][0-7][2367](?![0-7])", args) or re.search(r"\b(a|o|[ugo]*o[ugo]*)[+=][rwxXst]*w", args):
                out("FAIL: a RUN makes files world-writable (chmod 777 and friends): any process in the container could change the app")
    elif word == "USER":
        user = rest.split()[0] if rest else ""
    elif word == "HEALTHCHECK":
        health = rest
    elif word == "CMD":
        cmd = rest
    elif word == "ENTRYPOINT":
        entry = rest
if token in text:
    out("FAIL: the Dockerfile still contains the API token: a secret in a Dockerfile ends up in the image")
if user is None or user.split(":")[0] in ("root", "0"):
    out("FAIL: the app runs as root: create an unprivileged user and switch to it with USER")
if health is None or health.upper().startswith("NONE"):
    out("FAIL: there is no HEALTHCHECK: Docker cannot tell whether the app works")
for name, value in (("ENTRYPOINT", entry), ("CMD", cmd)):
    if value is None:
        continue
    try:
        ok = isinstance(json.loads(value), list)
    except ValueError:
        ok = False
    if not ok:
        out(f"FAIL: {name} {value} is in shell form: /bin/sh becomes PID 1 and the app never gets SIGTERM; use the JSON (exec) form")
if cmd is None and entry is None:
    out("FAIL: the Dockerfile has no CMD to start the app")
out("ok")
PY
)
[ "$review" = ok ] || { echo "${review:-FAIL: could not read ~/secure-app/Dockerfile}"; exit 1; }

docker image inspect secure-app:1.0 >/dev/null 2>&1 || fail "the Dockerfile looks right; now build it as secure-app:1.0"
build=$(timeout 35 docker build -q -t berth-check/secure:probe ~/secure-app </dev/null 2>&1) \
  || fail "~/secure-app does not build: $(echo "$build" | grep -v '^ *$' | tail -n 1)"
[ "$(docker image inspect --format '{{.Id}}' berth-check/secure:probe)" = "$(docker image inspect --format '{{.Id}}' secure-app:1.0)" ] \
  || fail "secure-app:1.0 was not built from the current ~/secure-app/Dockerfile: build it again"
user=$(docker image inspect --format '{{.Config.User}}' secure-app:1.0)
case "${user%%:*}" in "" | root | 0) fail "secure-app:1.0 runs as root" ;; esac
docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' secure-app:1.0 | cut -d= -f1 \
  | grep -qiE 'token|secret|passw(or)?d|api_?key' && fail "secure-app:1.0 has a secret-looking variable in its environment"
docker history --no-trunc secure-app:1.0 2>/dev/null | grep -q -- "$token" && fail "the token is still in the history of secure-app:1.0"

docker run -d --name "$probe" secure-app:1.0 </dev/null >/dev/null 2>&1 || fail "secure-app:1.0 does not start"
ip=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$probe" | awk '{print $1}')
ok=""
for _ in $(seq 1 16); do
  curl -sf -m 2 "http://$ip:8000/health" >/dev/null 2>&1 && { ok=yes; break; }
  sleep 0.5
done
[ -n "$ok" ] || fail "a container of secure-app:1.0 does not answer on http://...:8000/health"
uid=$(docker exec "$probe" cat /proc/1/status 2>/dev/null | awk '/^Uid:/ {print $2}')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the app in secure-app:1.0 runs with uid ${uid:-unknown}, not as an unprivileged user"
writable=$(docker exec "$probe" find / -xdev -perm -0002 ! -perm -1000 ! -type l -print 2>/dev/null | head -n 1)
[ -z "$writable" ] || fail "secure-app:1.0 has world-writable files, e.g. $writable"
echo "Reviewed and verified: pinned base, no secrets, COPY, no world-writable files, uid $uid, a passing health check, exec-form CMD."
