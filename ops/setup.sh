#!/usr/bin/env bash
# Installs what Kyso needs on a fresh Debian machine, skipping what is there:
# Debian packages (SoftHSM2, OpenSC, poppler, Noto fonts), a virtualenv in .venv
# with Kyso installed in it. `ops/setup.sh test` adds the test tools.
# Idempotent: a second run changes nothing and takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=${1:-}
packages=()
command -v softhsm2-util >/dev/null || packages+=(softhsm2)
command -v pkcs11-tool >/dev/null || packages+=(opensc)
command -v pdfsig >/dev/null || packages+=(poppler-utils)
[ -f /usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf ] || packages+=(fonts-noto-core)
[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || packages+=(fonts-liberation2)
if [ "$want_test" = "test" ]; then
  # the tests build a small PKCS#11 wrapper module (tests/support/pinlock.c)
  command -v gcc >/dev/null || packages+=(gcc libc6-dev)
  [ -f /usr/include/p11-kit-1/p11-kit/pkcs11.h ] || packages+=(libp11-kit-dev)
  # the browser tests drive Debian's chromium through Playwright (never its own download)
  command -v chromium >/dev/null || packages+=(chromium)
  # an NSS database holding only the demo root, for poppler's pdfsig
  command -v certutil >/dev/null || packages+=(libnss3-tools)
  # axe-core, the accessibility check of the browser tests, from npm (tests/node)
  command -v npm >/dev/null || packages+=(npm)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  echo "Cài gói Debian / installing Debian packages: ${packages[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
fi

python=${KYSO_PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Kyso cần Python ≥ 3.11 / Kyso needs Python >= 3.11 (set KYSO_PYTHON)" >&2
  exit 2
fi
# KYSO_VENV: where the virtualenv is (default .venv); KYSO_EDITABLE=0 installs a copy of
# Kyso instead of the working tree (CI's runtime check does, in a new virtualenv).
venv=${KYSO_VENV:-.venv}
editable=${KYSO_EDITABLE:-1}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"

extra=""
[ "$want_test" = "test" ] && extra="[test]"
stamp="$venv/.kyso-installed${extra:+-test}"
digest=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "Cài Kyso vào $venv / installing Kyso into $venv ${extra}"
  "$venv/bin/python" -m pip install -q --upgrade pip
  if [ "$editable" = 1 ]; then
    "$venv/bin/python" -m pip install -q -c constraints.txt -e ".${extra}"
  else
    "$venv/bin/python" -m pip install -q -c constraints.txt ".${extra}"
  fi
  echo "$digest" > "$stamp"
fi

# the browser tests' accessibility engine: the pinned axe-core of tests/node/package-lock.json,
# installed again only when the lock changes (never downloaded while the tests run)
if [ "$want_test" = "test" ]; then
  lock_digest=$(sha256sum tests/node/package-lock.json | cut -d' ' -f1)
  lock_stamp=tests/node/node_modules/.kyso-lock
  if [ ! -f tests/node/node_modules/axe-core/axe.min.js ] \
      || [ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_digest" ]; then
    echo "Cài axe-core (npm) / installing axe-core (npm) into tests/node"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_digest" > "$lock_stamp"
  fi
fi
