#!/usr/bin/env bash
# README command 2: set up everything with the test tools, then lint, type-check
# and run the whole test suite (slow tests included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh test
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
