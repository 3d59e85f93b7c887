#!/usr/bin/env bash
# README command 1: set up everything, run the demo commune end to end, then start the
# service (API, worker, demo PKI services) on http://127.0.0.1:8000 with the demo logins.
# Extra arguments go to `kyso demo` (e.g. --data-dir DIR, --draft FILE.pdf); the service
# uses the same data directory. Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh
serve_args=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --data-dir) serve_args+=(--data-dir "${args[$((i + 1))]}") ;;
    --data-dir=*) serve_args+=("${args[$i]}") ;;
  esac
done
.venv/bin/kyso demo "$@"
exec .venv/bin/kyso serve "${serve_args[@]}"
