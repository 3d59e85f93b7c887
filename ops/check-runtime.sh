#!/usr/bin/env bash
# Proves the runtime install alone runs README command 1: a new virtualenv with
# `pip install .` (no extras, from constraints.txt), then `ops/demo.sh --no-serve` on a
# new data directory, to the end of the demo (it exits non-zero on any error and on any
# file that does not verify valid). ops/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
# setuptools builds in ./build: a stale copy there would be installed instead of the tree
rm -rf build
trap 'rm -rf "$work" build' EXIT
echo "Kiểm tra cài đặt tối thiểu / checking the runtime install in $work"
if ! KYSO_VENV="$work/venv" KYSO_EDITABLE=0 ops/demo.sh --no-serve --data-dir "$work/data" \
    > "$work/demo.log" 2>&1; then
  cat "$work/demo.log"
  echo "Lỗi: lệnh demo không chạy được với cài đặt tối thiểu — Error: the demo failed on the runtime install" >&2
  exit 1
fi
"$work/venv/bin/python" -m pip show pytest >/dev/null 2>&1 && {
  echo "the runtime virtualenv has pytest: it is not the runtime install" >&2; exit 1; }
echo "Cài đặt tối thiểu chạy được demo / the runtime install runs the demo"
