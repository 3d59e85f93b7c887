#!/usr/bin/env bash
# README command 2: set up everything with the test tools, then lint, type-check
# and run the whole test suite (slow tests included), after proving that the runtime
# install alone runs the demo (ops/check-runtime.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh test
# the runtime install alone must run README command 1 (always in CI; locally when the
# whole suite runs, i.e. no pytest arguments)
if [ "${CI:-}" = true ] || [ "$#" -eq 0 ]; then
  ops/check-runtime.sh
fi
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
