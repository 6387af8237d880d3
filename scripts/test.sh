#!/usr/bin/env bash
# Install everything the tests need, then run the whole test suite.
# System packages (Debian): Chromium and its driver for the browser test.
# Services the tests use: PostgreSQL on 127.0.0.1:5432 (database `test`) and Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "the browser test needs Debian's chromium and chromium-driver: sudo apt-get install chromium chromium-driver" >&2
  fi
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-dev.txt
.venv/bin/python -m pytest "$@"
