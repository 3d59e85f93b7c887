#!/usr/bin/env bash
# README command 1: set up everything, then run the demo commune end to end.
# Extra arguments go to `kyso demo` (e.g. --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh
exec .venv/bin/kyso demo "$@"
