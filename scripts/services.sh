#!/usr/bin/env bash
# Installs (Debian/Ubuntu, as root) and starts what Berth needs on this machine.
#   scripts/services.sh redis docker            # for `make run`
#   scripts/services.sh redis docker postgres   # for `make test`
# Each service is left alone when it already answers. When we cannot install or start something
# (not root, not Debian), we say exactly what is missing and how to get it, and exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR="${BERTH_STATE_DIR:-$PWD/var}"
mkdir -p "$STATE_DIR/log"
REDIS_PORT="${BERTH_REDIS_PORT:-6379}"
PG_DB="${BERTH_PG_DB:-berth}"
DOCKER_SOCK="${BERTH_DOCKER_SOCK:-/var/run/docker.sock}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mberth: %s\033[0m\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1; }

APT_UPDATED=0
apt_install() {
    # apt_install <why> <package>...
    local why=$1; shift
    if ! is_root || ! has_apt; then
        die "$why is missing. Install it with: sudo apt-get install -y $* (or your system's equivalent), then run this again."
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wait_for() {
    # wait_for <seconds> <command...>
    local secs=$1; shift
    for _ in $(seq 1 $((secs * 5))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    return 1
}

ensure_redis() {
    if redis_ping; then return; fi
    command -v redis-server >/dev/null 2>&1 || apt_install "Redis (the Celery broker and channel layer)" redis-server
    say "starting redis on 127.0.0.1:$REDIS_PORT"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
        --logfile "$STATE_DIR/log/redis.log" --dir "$STATE_DIR"
    wait_for 10 redis_ping || die "redis did not start; see $STATE_DIR/log/redis.log"
}
redis_ping() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" && printf 'PING\r\n' >&3 && head -c5 <&3 | grep -q PONG) 2>/dev/null
    fi
}

docker_ping() { curl -fsS --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1; }
ensure_docker() {
    command -v curl >/dev/null 2>&1 || apt_install "curl" curl ca-certificates
    if docker_ping; then return; fi
    if ! command -v dockerd >/dev/null 2>&1; then
        apt_install "A Docker engine (dockerd)" docker.io
    fi
    # Compose v1 (Debian) for lessons and the compose shim; gVisor as an optional isolating runtime.
    command -v docker-compose >/dev/null 2>&1 || apt_install "docker-compose" docker-compose
    command -v runsc >/dev/null 2>&1 || apt_install "gVisor (runsc, an optional lab runtime)" runsc
    is_root || die "no Docker engine answers on $DOCKER_SOCK and starting dockerd needs root. Start Docker (sudo systemctl start docker) and add yourself to the docker group."
    say "starting dockerd (log: $STATE_DIR/log/dockerd.log)"
    # gVisor (runsc) is registered when installed; it runs here only with its own network stack
    # off, so it is registered with --network=none (labs opt in with BERTH_LAB_RUNTIME=runsc).
    # Each Docker lab makes networks of its own: the pools give room for ~1000 /24 networks
    # (the defaults hold ~30), inside the 172.16/12 range Docker uses anyway.
    local runtimes="{}"
    if command -v runsc >/dev/null 2>&1; then
        runtimes="{\"runsc\": {\"path\": \"$(command -v runsc)\", \"runtimeArgs\": [\"--network=none\"]}}"
    fi
    cat >"$STATE_DIR/dockerd.json" <<JSON
{
  "storage-driver": "overlay2",
  "default-address-pools": [{"base": "172.20.0.0/14", "size": 24}],
  "runtimes": $runtimes
}
JSON
    nohup dockerd --host "unix://$DOCKER_SOCK" --config-file "$STATE_DIR/dockerd.json" \
        >"$STATE_DIR/log/dockerd.log" 2>&1 &
    wait_for 60 docker_ping || die "dockerd did not start; see $STATE_DIR/log/dockerd.log"
}

pg_ping() { su postgres -c "psql -qAt -c 'select 1'" >/dev/null 2>&1; }
ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ]; then return; fi   # the caller brought its own database
    is_root || die "PostgreSQL setup needs root here. Set DATABASE_URL=postgres://user:pass@host/db to use your own server."
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        apt_install "PostgreSQL" postgresql
    fi
    if ! pg_ping; then
        local ver
        ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
        if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver main"; then
            say "creating PostgreSQL $ver cluster"
            pg_createcluster "$ver" main >/dev/null
        fi
        say "starting PostgreSQL $ver"
        pg_ctlcluster "$ver" main start || true
        wait_for 30 pg_ping || die "PostgreSQL did not start; see /var/log/postgresql/"
    fi
    # A role and database for the test suite (peer auth as postgres; password auth over TCP).
    su postgres -c "psql -qAt -c \"select 1 from pg_roles where rolname='berth'\"" | grep -q 1 ||
        su postgres -c "psql -q -c \"create role berth login createdb password 'berth'\""
    su postgres -c "psql -qAt -c \"select 1 from pg_database where datname='$PG_DB'\"" | grep -q 1 ||
        su postgres -c "createdb -O berth $PG_DB"
}

ensure_chromium() {
    command -v chromium >/dev/null 2>&1 || apt_install "Chromium (browser tests)" chromium fonts-dejavu-core
}

ensure_image_tools() {
    # What `manage.py build_lab_images` needs to make base images with no registry.
    command -v debootstrap >/dev/null 2>&1 || apt_install "debootstrap (builds the Debian base image)" debootstrap
    dpkg -s busybox-static >/dev/null 2>&1 || apt_install "busybox-static (builds the busybox image)" busybox-static
}

for svc in "$@"; do
    case "$svc" in
        redis) ensure_redis ;;
        docker) ensure_docker ;;
        postgres) ensure_postgres ;;
        chromium) ensure_chromium ;;
        image-tools) ensure_image_tools ;;
        *) die "unknown service: $svc" ;;
    esac
done
