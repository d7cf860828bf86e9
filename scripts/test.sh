#!/usr/bin/env bash
# `make test`: install and start PostgreSQL, Redis and Docker when missing, build the lab images,
# then run every test layer (unit, integration, browser) against them.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/bootstrap.sh --dev
scripts/services.sh redis docker postgres chromium image-tools

export DJANGO_SETTINGS_MODULE=config.settings.test
export DATABASE_URL="${DATABASE_URL:-postgres://berth:berth@127.0.0.1:5432/berth}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/5}"

say "lab images"
.venv/bin/python manage.py build_lab_images

say "lint (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -40; exit 1; }

say "tests"
mkdir -p test-artifacts
.venv/bin/python -m pytest "$@"
