#!/usr/bin/env bash
# Builds the kyso-agent wheel (the signer agent alone, for the official's PC) into DIR
# (default dist/): stages common/, certs/, tokens/, api/__init__.py and api/agent/ with
# ops/agent/pyproject.toml, then `pip wheel --no-deps`. Install it on the PC with
#   python -m pip install kyso_agent-*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")
python=${KYSO_PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp ops/agent/pyproject.toml LICENSE "$stage/"
mkdir -p "$stage/api"
cp api/__init__.py "$stage/api/"
for package in common certs tokens api/agent; do
  cp -r "$package" "$stage/$package"
done
find "$stage" -name '__pycache__' -type d -prune -exec rm -rf {} +
mkdir -p "$out"
"$python" -m pip wheel -q --no-deps --no-build-isolation -w "$out" "$stage" 2>/dev/null \
  || "$python" -m pip wheel -q --no-deps -w "$out" "$stage"
ls "$out"/kyso_agent-*.whl
