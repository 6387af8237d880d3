#!/usr/bin/env bash
# Install everything the tests need, then run the whole test suite.
# System packages (Debian): Chromium and its driver for the browser test, wrk for the soak test.
# Services the tests use: PostgreSQL on 127.0.0.1:5432 (database `test`) and Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver wrk >/dev/null
  else
    echo "the browser and soak tests need Debian's chromium, chromium-driver and wrk: sudo apt-get install chromium chromium-driver wrk" >&2
  fi
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-dev.txt
.venv/bin/python -m pytest "$@"
