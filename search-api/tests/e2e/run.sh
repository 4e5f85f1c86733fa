#!/usr/bin/env bash
# End to end on a real port, with clients nobody on this project wrote: `shiori serve --demo`
# (the README's first command, on a fresh data folder and a free loopback port), then
#   - yaz-client searches SRU 1.2 and 2.0, shows a record and gets a diagnostic for bad CQL;
#   - yaz-client with its defaults (SRW: SOAP), with `sru get` and `sru post`, and sruthi find
#     the same number of hits for each of a few Japanese queries; yaz-client scans titles
#     and names over all three bindings;
#   - sruthi pages through every hit via nextRecordPosition and reads explain;
#   - schemathesis checks the JSON API against its OpenAPI document;
#   - the browser suite (../browser/run.sh) on the demo library: the OPAC, and the
#     circulation desk logged in as the demo staff;
# then SIGTERM must stop the server cleanly, and the browser suite runs once more on a
# library of JAPAN/MARC records that it imports and serves itself.
#
# Needs: yaz-client (apt yaz), sruthi and schemathesis (pip), and what ../browser/run.sh
# needs; scripts/test.sh installs them all. SHIORI_BIN: a built `shiori` (else cargo builds
# one). Exit status non-zero on the first failure, with what failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(cd "$here/../../.." && pwd)"

missing=()
command -v yaz-client >/dev/null || missing+=("yaz-client (apt-get install -y yaz)")
command -v schemathesis >/dev/null || missing+=("schemathesis (pip install schemathesis)")
python3 -c 'import sruthi' 2>/dev/null || missing+=("sruthi (pip install sruthi)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e: cannot run, missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

if [ -n "${SHIORI_BIN:-}" ]; then
  bin="$SHIORI_BIN"
else
  (cd "$workspace" && cargo build -q -p search-api --bin shiori)
  bin="$(cd "$workspace" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/shiori"
fi

data="$(mktemp -d "${TMPDIR:-/tmp}/shiori-e2e-XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT
fail() {
  echo "e2e: FAILED: $*" >&2
  echo "--- server log" >&2
  tail -n 30 "$data/serve.err" >&2 || true
  exit 1
}

echo "== shiori serve --demo on a free port"
SHIORI_LOG=warn "$bin" serve --demo --data "$data/shiori-data" --listen 127.0.0.1:0 >"$data/serve.out" 2>"$data/serve.err" &
server=$!
url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's/^Shiori is serving .* at \(http:[^ ]*\)\/$/\1/p' "$data/serve.out")"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || fail "the server exited before it was ready"
  sleep 0.1
done
[ -n "$url" ] || fail "the server printed no URL within 60 s"
grep -q "created the demo library: [0-9]* records" "$data/serve.out" || fail "no demo library report: $(cat "$data/serve.out")"
echo "   $url"
curl -fsS "$url/healthz" | grep -q '"demo"' || fail "/healthz does not list the demo library"

echo "== yaz-client: SRU 1.2 and 2.0"
for version in 1.2 2.0; do
  out="$(printf 'sru get %s\nopen %s/demo/sru\nfind dc.title=図書館\nshow 1\nfind dc.title=(\nquit\n' "$version" "$url" \
    | timeout 60 yaz-client 2>&1)" || fail "yaz-client $version exited with an error: $out"
  hits="$(sed -n 's/^Number of hits: \([0-9]*\)$/\1/p' <<<"$out" | head -n 1)"
  [ "${hits:-0}" -gt 0 ] || fail "yaz-client $version: dc.title=図書館 found nothing: $out"
  grep -q "pos=1 schema=info:srw/schema/1/marcxml-v1.1" <<<"$out" || fail "yaz-client $version: no record shown: $out"
  grep -q '<datafield tag="245"' <<<"$out" || fail "yaz-client $version: the record has no 245: $out"
  grep -q "SRW diagnostic info:srw/diagnostic/1/10" <<<"$out" || fail "yaz-client $version: no diagnostic for bad CQL: $out"
  echo "   $version: $hits hits, a MARCXML record, diagnostic 10 for bad CQL"
done

echo "== one hit count per query, whichever SRU binding and client (issue #19)"
# yaz-client with its defaults speaks SRW: SOAP 1.1 POSTs of SRU 1.2 (as to Zebra under Koha).
queries=("dc.title=図書館" "図書館" "dc.creator=夏目" "dc.title=本 and dc.date>=2000")
yaz_counts() { # $1: the sru command before open ("" for the default, SOAP)
  local script="${1:+$1\n}open $url/demo/sru\n"
  for q in "${queries[@]}"; do script+="find $q\n"; done
  printf "${script}quit\n" | timeout 60 yaz-client 2>&1
}
declare -A count_of
for binding in soap "sru get 1.2" "sru post 1.2"; do
  if [ "$binding" = soap ]; then out="$(yaz_counts "")"; else out="$(yaz_counts "$binding")"; fi \
    || fail "yaz-client ($binding) exited with an error: $out"
  mapfile -t hits < <(sed -n 's/^Number of hits: \([0-9]*\)$/\1/p' <<<"$out")
  [ "${#hits[@]}" -eq "${#queries[@]}" ] || fail "yaz-client ($binding): ${#hits[@]} hit counts for ${#queries[@]} queries: $out"
  for i in "${!queries[@]}"; do count_of["$binding/$i"]="${hits[$i]}"; done
done
mapfile -t sruthi_lines < <(python3 "$here/sru_counts.py" "$url/demo/sru" "${queries[@]}") || fail "sruthi counts"
for i in "${!queries[@]}"; do
  sruthi_count="${sruthi_lines[$i]##*$'\t'}"
  soap="${count_of[soap/$i]}"; get="${count_of[sru get 1.2/$i]}"; post="${count_of[sru post 1.2/$i]}"
  if [ "$soap" != "$get" ] || [ "$get" != "$post" ] || [ "$post" != "$sruthi_count" ]; then
    fail "hit counts differ for ${queries[$i]}: yaz SOAP $soap, yaz GET $get, yaz POST $post, sruthi $sruthi_count"
  fi
  echo "   ${queries[$i]}: $soap hits (yaz SOAP, GET, POST and sruthi agree)"
done
[ "${count_of[soap/0]}" -gt 0 ] || fail "dc.title=図書館 found nothing"

echo "== yaz-client over SOAP: a record, a diagnostic, explain, and scan"
out="$(printf 'open %s/demo/sru\nfind dc.title=図書館\nshow 1\nfind dc.title=(\nexplain\nscan dc.title=図書館\nscan dc.creator=夏目\nquit\n' "$url" \
  | timeout 60 yaz-client 2>&1)" || fail "yaz-client (SOAP) exited with an error: $out"
grep -q "pos=1 schema=info:srw/schema/1/marcxml-v1.1" <<<"$out" || fail "yaz-client SOAP: no record shown: $out"
grep -q '<datafield tag="245"' <<<"$out" || fail "yaz-client SOAP: the record has no 245: $out"
grep -q "SRW diagnostic info:srw/diagnostic/1/10" <<<"$out" || fail "yaz-client SOAP: no diagnostic for bad CQL: $out"
grep -q 'scan="true"' <<<"$out" || fail "yaz-client SOAP: explain marks no index for scan: $out"
# yaz-client prints a scan term as "displayTerm: numberOfRecords whereInList value".
scanned="$(grep -cE ': [0-9]+ (first|inner|last|only)( |$)' <<<"$out" || true)"
[ "$scanned" -ge 2 ] || fail "yaz-client SOAP: scan listed no terms: $out"
echo "   a MARCXML record, diagnostic 10, explain, $scanned scan terms"
for binding in "sru get 1.2" "sru post 1.2"; do
  out="$(printf '%s\nopen %s/demo/sru\nscan dc.title=図書館\nquit\n' "$binding" "$url" | timeout 60 yaz-client 2>&1)" \
    || fail "yaz-client scan ($binding) exited with an error: $out"
  n="$(grep -cE ': [0-9]+ (first|inner|last|only)( |$)' <<<"$out" || true)"
  [ "$n" -ge 2 ] || fail "yaz-client scan ($binding) listed no terms: $out"
  echo "   scan over $binding: $n terms"
done

echo "== sruthi: paging through nextRecordPosition, explain, diagnostics"
python3 "$here/sru_paging.py" "$url/demo/sru" || fail "sruthi"

echo "== schemathesis: the JSON API against its OpenAPI document"
# positive_data_acceptance is left out: the query language has a grammar JSON Schema cannot
# state (a lone quote, a bare AND, punctuation only), answered with a documented 400.
(cd "$here" && schemathesis run "$url/api/v1/openapi.json" --checks all \
  --exclude-checks positive_data_acceptance --max-examples "${SHIORI_SCHEMATHESIS_EXAMPLES:-150}" --seed 20261126 \
  --no-color) >"$data/schemathesis.log" 2>&1 || { tail -n 60 "$data/schemathesis.log" >&2; fail "schemathesis"; }
grep -E "generated, [0-9]+ passed" "$data/schemathesis.log" | sed 's/^/   /'

echo "== the OPAC in a browser (the demo library: copies in two branches, some on loan)"
SHIORI_URL="$url/demo/" SHIORI_EXPECT_BRANCHES="中央図書館,北分館" SHIORI_ARTIFACTS="$workspace/target/artifacts/demo/opac-results.png" \
  SHIORI_CREDENTIALS="$data/shiori-data/demo-credentials.json" bash "$workspace/search-api/tests/browser/run.sh" \
  || fail "the browser suite on the demo library"

echo "== graceful shutdown"
kill -TERM "$server"
for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server" 2>/dev/null && fail "the server did not stop within 10 s of SIGTERM"
wait "$server" || fail "the server exited with an error on SIGTERM"
server=""

echo "== the OPAC in a browser (a library of JAPAN/MARC records, served by the suite itself)"
SHIORI_BIN="$bin" bash "$workspace/search-api/tests/browser/run.sh"
echo "e2e: all passed"
