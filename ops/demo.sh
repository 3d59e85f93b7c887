#!/usr/bin/env bash
# README command 1: set up everything, run the demo commune end to end, then start the
# service (API, worker, demo PKI services) on http://127.0.0.1:8000 with the demo logins.
# Arguments: --host H and --port P go to the service; --data-dir DIR to both; --no-serve
# stops after the demo (CI runs it so); everything else goes to `kyso demo`
# (e.g. --draft FILE.pdf). Ctrl+C stops the service.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh
venv=${KYSO_VENV:-.venv}
demo_args=()
data_args=()
serve_args=()
serve=yes
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  arg=${args[$i]}
  case "$arg" in
    --no-serve) serve=no ;;
    --data-dir) demo_args+=("$arg" "${args[$((i + 1))]}")
                data_args+=("$arg" "${args[$((i + 1))]}")
                serve_args+=("$arg" "${args[$((i + 1))]}"); i=$((i + 1)) ;;
    --data-dir=*) demo_args+=("$arg"); data_args+=("$arg"); serve_args+=("$arg") ;;
    --host|--port) serve_args+=("$arg" "${args[$((i + 1))]}"); i=$((i + 1)) ;;
    --host=*|--port=*) serve_args+=("$arg") ;;
    *) demo_args+=("$arg") ;;
  esac
done
# migrations are an explicit step: bring an existing data directory to this release
"$venv/bin/kyso" db upgrade "${data_args[@]}"
"$venv/bin/kyso" demo "${demo_args[@]}"
[ "$serve" = yes ] || exit 0
exec "$venv/bin/kyso" serve "${serve_args[@]}"
