#!/usr/bin/env bash
# The OPAC in a real browser, end to end: a fresh data folder with one library of real
# JAPAN/MARC records, `shiori serve --demo` on a free loopback port, then opac.spec.mjs on
# that library and desk.spec.mjs (the circulation desk, logged in as the demo staff) on the
# demo library (Debian's chromium through playwright-core, axe-core), then the server is
# stopped.
#
# Needs: chromium and fonts-noto-cjk (apt), node, and `npm ci` in this folder; the
# workspace's scripts/test.sh installs them. This script only checks and says what is
# missing. Never `npx playwright install`: it downloads a browser, which fails here.
#
# Environment: SHIORI_BIN (a built `shiori`; otherwise it is built with cargo),
# SHIORI_ARTIFACTS (screenshot path, see opac.spec.mjs; desk.png goes beside it), CHROMIUM
# (default /usr/bin/chromium), SHIORI_FIXTURE (the MARC file to import).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(cd "$here/../../.." && pwd)"
fixture="${SHIORI_FIXTURE:-$workspace/../shared/fixtures/japanese/enju-jpmarc/jpmarc_marc21_enju.dat}"
chromium="${CHROMIUM:-/usr/bin/chromium}"

missing=()
[ -x "$chromium" ] || missing+=("chromium at $chromium (apt-get install -y chromium)")
command -v node >/dev/null || missing+=("node (apt-get install -y nodejs npm)")
[ -d "$here/node_modules/playwright-core" ] && [ -f "$here/node_modules/axe-core/axe.min.js" ] \
  || missing+=("playwright-core and axe-core (cd $here && npm ci)")
[ -f "$fixture" ] || missing+=("the MARC fixture $fixture (../shared/fixtures beside the workspace)")
[ -z "${SHIORI_CREDENTIALS:-}" ] || command -v zebrasrv >/dev/null \
  || missing+=("zebrasrv for copy cataloguing (apt-get install -y idzebra-2.0-utils idzebra-2.0-common libidzebra-2.0-mod-dom)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser test: cannot run, missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
fonts="$(fc-list 2>/dev/null || true)"
if ! grep -qi "Noto Sans CJK" <<<"$fonts"; then
  echo "browser test: warning: fonts-noto-cjk is not installed; Japanese in screenshots will be boxes" >&2
fi

# SHIORI_URL (an OPAC already being served, e.g. the demo library by ../e2e/run.sh):
# test that, without starting a server of our own; with SHIORI_CREDENTIALS (that demo
# library's demo-credentials.json) the desk too.
if [ -n "${SHIORI_URL:-}" ]; then
  echo "== chromium against $SHIORI_URL"
  CHROMIUM="$chromium" node "$here/opac.spec.mjs"
  if [ -n "${SHIORI_CREDENTIALS:-}" ]; then
    echo "== chromium: the circulation desk of $SHIORI_URL"
    CHROMIUM="$chromium" node "$here/desk.spec.mjs"
    echo "== chromium: マイページ, the staff patron page and phone layouts of $SHIORI_URL"
    CHROMIUM="$chromium" node "$here/patron.spec.mjs"
    # Copy cataloguing needs a second SRU server nobody on this project wrote: Zebra, on
    # the JAPAN/MARC records, started here and stopped on exit.
    zebra_work="$(mktemp -d)"
    trap '"$workspace/search-api/tests/e2e/zebra/stop.sh" "$zebra_work" >/dev/null 2>&1 || true; rm -rf "$zebra_work"' EXIT
    zebra_line="$("$workspace/search-api/tests/e2e/zebra/start.sh" "$fixture" "$zebra_work")"
    echo "== chromium: cataloguing on $SHIORI_URL (copy cataloguing from Zebra, ${zebra_line#SRU })"
    CHROMIUM="$chromium" SHIORI_ZEBRA_SRU="${zebra_line#SRU }" node "$here/cataloguing.spec.mjs"
  fi
  exit 0
fi

if [ -n "${SHIORI_BIN:-}" ]; then
  bin="$SHIORI_BIN"
else
  echo "== building shiori"
  (cd "$workspace" && cargo build -q -p search-api --bin shiori)
  target_dir="$(cd "$workspace" && cargo metadata --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  bin="$target_dir/debug/shiori"
fi
[ -x "$bin" ] || { echo "browser test: no shiori binary at $bin" >&2; exit 2; }

data="$(mktemp -d "${TMPDIR:-/tmp}/shiori-browser-XXXXXX")"
log="$data/serve.log"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

echo "== a library in $data"
"$bin" --data "$data" tenant create tosho --name "栞市立図書館"
status=0
"$bin" --data "$data" import --tenant tosho "$fixture" || status=$?
# 3: imported, with some records rejected (listed above); anything else is a failure.
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
  echo "browser test: import failed ($status)" >&2
  exit 1
fi

echo "== serving"
: >"$log"
"$bin" --data "$data" serve --demo --listen 127.0.0.1:0 >>"$log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's|^Shiori is serving .* at \(http://[^ ]*\)/$|\1|p' "$log" | head -n 1 || true)"
  [ -n "$url" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "browser test: the server stopped:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "browser test: the server did not say where it listens within 60 s:" >&2
  cat "$log" >&2
  exit 1
fi
echo "   $url/tosho/"

echo "== chromium"
status=0
SHIORI_URL="$url/tosho/" CHROMIUM="$chromium" node "$here/opac.spec.mjs" || status=$?
echo "== chromium: the circulation desk of the demo library"
SHIORI_URL="$url/demo/" SHIORI_CREDENTIALS="$data/demo-credentials.json" CHROMIUM="$chromium" \
  node "$here/desk.spec.mjs" || status=$?
echo "== chromium: マイページ, the staff patron page and phone layouts of the demo library"
SHIORI_URL="$url/demo/" SHIORI_CREDENTIALS="$data/demo-credentials.json" CHROMIUM="$chromium" \
  node "$here/patron.spec.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"
