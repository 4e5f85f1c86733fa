#!/usr/bin/env bash
# OAI-PMH harvest throughput: a union catalogue harvesting a 250,000-record library.
#
# Usage (one command does everything):
#
#   bash benches/oai/run.sh
#
#   1. fetches the LC "Books All 2016 part 01" corpus (250,000 records) with
#      fixtures/fetch-lc-books-all.sh (cached, sha256-checked);
#   2. builds `shiori` (`cargo build --release -p search-api`) unless SHIORI_BIN names one;
#   3. creates ${SHIORI_BENCH_DIR:-target/oai-bench}/data once (tenant `lc`, import);
#   4. starts `shiori serve` on a free loopback port;
#   5. benches/oai/harvest.py harvests the whole library: ListIdentifiers, then ListRecords
#      in oai_dc and in marcxml, one page after another as a harvester does, checking that
#      every identifier comes exactly once and the count equals completeListSize; prints
#      records/s, pages, bytes and the server's resident memory (VmRSS, VmHWM) after each.
#
# Environment: SHIORI_BIN, SHIORI_BENCH_DIR. Figures go to benches/RESULTS.md by hand.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(cd "$here/../.." && pwd)"
log() { printf 'oai-bench: %s\n' "$*" >&2; }

corpus="$(bash "$workspace/fixtures/fetch-lc-books-all.sh")"
if [ -n "${SHIORI_BIN:-}" ]; then
  bin="$SHIORI_BIN"
else
  (cd "$workspace" && cargo build --release -q -p search-api --bin shiori)
  bin="$(cd "$workspace" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/shiori"
fi
bench_dir="${SHIORI_BENCH_DIR:-$workspace/target/oai-bench}"
data="$bench_dir/data"
mkdir -p "$bench_dir"
marker="$data/.corpus"
want="$(sha256sum "$corpus" | cut -d' ' -f1)"
if [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
  log "creating $data: tenant lc and the import of 250,000 records (about a minute)"
  rm -rf "$data"
  "$bin" --data "$data" tenant create lc --name "Library of Congress, Books All 2016 part 01" >&2
  "$bin" --data "$data" import --tenant lc "$corpus" >&2 || [ $? -eq 3 ]
  echo "$want" >"$marker"
fi

SHIORI_LOG=warn "$bin" serve --data "$data" --listen 127.0.0.1:0 >"$bench_dir/server.out" 2>"$bench_dir/server.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 1200); do
  grep -q '^Shiori is serving' "$bench_dir/server.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { log "the server stopped:"; tail -n 20 "$bench_dir/server.err" >&2; exit 1; }
  sleep 0.1
done
base=$(sed -n 's|^Shiori is serving .* at \(http://[^ ]*\)/$|\1|p' "$bench_dir/server.out" | head -n 1)
[ -n "$base" ] || { log "no URL from the server"; exit 1; }
log "harvesting $base/lc/oai (server pid $server)"
python3 "$here/harvest.py" "$base/lc/oai" "$server"
