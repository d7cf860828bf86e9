#!/usr/bin/env bash
# `make run`: set up what is missing, then serve Berth on http://127.0.0.1:8000 with a Celery
# worker, Celery beat and the Docker API gateway. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

HOST="${BERTH_HOST:-127.0.0.1}"
PORT="${BERTH_PORT:-8000}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"

scripts/bootstrap.sh
scripts/services.sh redis docker image-tools
PY=.venv/bin/python

say "database: ${DATABASE_URL:-SQLite (var/db.sqlite3; set DATABASE_URL for PostgreSQL)}"
$PY manage.py migrate --no-input -v0
$PY manage.py import_course content/docker-crash-course
$PY manage.py build_lab_images
$PY manage.py setup_platform
$PY manage.py collectstatic --no-input -v0
say "demo accounts"
$PY manage.py seed_demo

mkdir -p var/log
pids=()
cleanup() {
    trap - INT TERM EXIT
    say "stopping"
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

say "starting the gateway, Celery worker and beat (logs in var/log/)"
$PY manage.py run_gateway >var/log/gateway.log 2>&1 & pids+=($!)
.venv/bin/celery -A config worker -Q celery,"$($PY manage.py labs queues)" --concurrency "${BERTH_WORKER_CONCURRENCY:-4}" \
    --loglevel INFO >var/log/worker.log 2>&1 & pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO >var/log/beat.log 2>&1 & pids+=($!)

say "Berth is at http://$HOST:$PORT/  (Ctrl-C to stop)"
.venv/bin/uvicorn config.asgi:application --host "$HOST" --port "$PORT" --loop uvloop --http httptools \
    --ws websockets-sansio --ws-per-message-deflate false --ws-ping-interval 20 --ws-ping-timeout 20 --ws-max-size 1048576 --no-access-log & pids+=($!)
wait -n "${pids[@]}"
