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
# MARCXML), yaz-client and sruthi (SRU), Sickle (harvests OAI-PMH), pymarc (reads every
# export field for field), schemathesis (the OpenAPI document), Debian's chromium through playwright-core with
# axe-core (the OPAC), with Japanese fonts for the screenshots.
need_apt=()
command -v xmllint >/dev/null || need_apt+=(libxml2-utils)
command -v yaz-marcdump >/dev/null || need_apt+=(yaz)
command -v curl >/dev/null || need_apt+=(curl)
# `openssl s_client` proves the server refuses TLS 1.1 (search-api tests/it/security.rs).
command -v openssl >/dev/null || need_apt+=(openssl)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
command -v node >/dev/null || need_apt+=(nodejs npm)
# Zebra is the second SRU server copy cataloguing is tried against (search-api tests/e2e/zebra).
command -v zebrasrv >/dev/null || need_apt+=(idzebra-2.0-utils idzebra-2.0-common libidzebra-2.0-mod-dom)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
pip_need=()
pip_pin() { python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null || pip_need+=("$1==$2"); }
pip_pin pymarc 5.4.0
pip_pin sruthi 2.0.0
pip_pin schemathesis 4.32.5
pip_pin sickle 0.7.0
if [ ${#pip_need[@]} -gt 0 ]; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${pip_need[@]}"
fi
(cd search-api/tests/browser && npm ci --silent --no-audit --no-fund)

echo "== cargo test --workspace"
cargo test --workspace "$@"

echo "== end to end on a real port (SRU clients, schemathesis, chromium)"
cargo build -q -p search-api --bin shiori
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
SHIORI_BIN="$target_dir/debug/shiori" bash search-api/tests/e2e/run.sh
