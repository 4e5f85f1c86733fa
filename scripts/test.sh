#!/usr/bin/env bash
# The whole test suite (README's test command). Installs the third-party tools the tests
# drive if they are missing, then runs every test of the workspace. Needs ../shared beside
# this folder (real library data the tests read) and root for apt on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/fixtures ]; then
  echo "test: ../shared/fixtures is missing: the tests read real library data from it" >&2
  exit 1
fi

echo "== third-party tools the tests drive"
# Real clients check our output: xmllint (MARC21slim.xsd), yaz-marcdump (ISO 2709 and
# MARCXML), pymarc (reads every export field for field).
need_apt=()
command -v xmllint >/dev/null || need_apt+=(libxml2-utils)
command -v yaz-marcdump >/dev/null || need_apt+=(yaz)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("pymarc") != "5.4.0")' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check pymarc==5.4.0
fi

echo "== cargo test --workspace"
cargo test --workspace "$@"
