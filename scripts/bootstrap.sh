#!/usr/bin/env bash
# The virtualenv (.venv) with pinned Python dependencies, and the pinned front-end packages.
#   scripts/bootstrap.sh         runtime dependencies
#   scripts/bootstrap.sh --dev   plus test and benchmark dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mberth: %s\033[0m\n' "$*" >&2; exit 1; }

req=requirements.txt
[ "${1:-}" = "--dev" ] && req=requirements-dev.txt

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PYTHON=$candidate; break
        fi
    done
fi
[ -n "$PYTHON" ] || die "Python 3.11 is missing. Install it (Debian 12: sudo apt-get install -y python3 python3-venv) or set PYTHON=/path/to/python3.11."

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv 2>/dev/null || die "cannot create a virtualenv. Install venv support: sudo apt-get install -y python3-venv"
fi

stamp=".venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    say "installing Python dependencies ($req)"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -r "$req"
    rm -f .venv/.installed-*
    touch "$stamp"
fi

if [ -f package.json ]; then
    lock_stamp="node_modules/.installed-$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)"
    if [ ! -f "$lock_stamp" ]; then
        command -v npm >/dev/null 2>&1 || die "npm is missing (front-end packages). Install Node.js 18+ and npm: sudo apt-get install -y nodejs npm"
        say "installing front-end packages (npm ci, pinned by package-lock.json)"
        npm ci --no-audit --no-fund --loglevel=error
        rm -f node_modules/.installed-*
        touch "$lock_stamp"
    fi
    .venv/bin/python scripts/vendor_static.py
fi
