#!/usr/bin/env bash
# Quick standalone check of a Zebra SRU target started by start.sh, with curl and xmllint:
#   check.sh <base-url> [jpmarc|lc|all]     (default jpmarc)
# jpmarc: the records of README.md from ../shared/fixtures/japanese/enju-jpmarc/
#         jpmarc_marc21_enju.dat; lc: those from japanese/lc-jpn-subset/
#         lc_booksall_2016_part01_jpn.mrc (the target must have been started with that file).
# Each record must be found by ISBN (as stored, without hyphens, and in its other 10/13-digit
# form), by its full title as a phrase and as the complete field (==), and by its author,
# over SRU 1.1 and 1.2, as MARCXML in UTF-8 that validates against MARC21slim.xsd
# ($MARC21_XSD, else ../shared/schemas/MARC21slim.xsd beside the workspace); bad CQL must
# give diagnostic 10. Prints one line per check; exits 1 on the first failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(cd "$here/../../../.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 <base-url> [jpmarc|lc|all]" >&2; exit 2; }
base="${1%/}"
set_="${2:-jpmarc}"
xsd="${MARC21_XSD:-$workspace/../shared/schemas/MARC21slim.xsd}"
for tool in curl xmllint; do
  command -v "$tool" >/dev/null || { echo "check: missing $tool (apt-get install -y curl libxml2-utils)" >&2; exit 2; }
done
[ -f "$xsd" ] || { echo "check: no MARC21slim.xsd at $xsd (set MARC21_XSD)" >&2; exit 2; }

# id | ISBN as stored | ISBN without hyphens | the other form | full title (245 $a $b, no
# ISBD punctuation) | author as a phrase (7xx/1xx, any comma left out)
jpmarc=(
  "029455884|978-4-7949-7075-6|9784794970756|4794970757|これからの本の話をしよう|萩野正昭"
  "025095671|978-4-591-13742-0|9784591137420|4591137422|紙の本は、滅びない|福嶋聡"
  "027513958|978-4-7664-2363-1|9784766423631|4766423631|EPUB戦記 : 電子書籍の国際標準化バトル|小林龍生"
  "000008042446|4-86212-025-3|4862120253|9784862120250|日本の大事な話|元木昌彦"
)
lc=(
  "00271342|4639015925|4639015925|9784639015925|伝統話芸・講談のすべて|阿部主計"
  "00375867|4120029603|4120029603|9784120029608|歴史の真実と政治の正義|Yamazaki, Masakazu"
  "00291477|4130311638|4130311638|9784130311632|契約法から消費者法へ|大村敦志"
)
case "$set_" in
  jpmarc) records=("${jpmarc[@]}") ;;
  lc) records=("${lc[@]}") ;;
  all) records=("${jpmarc[@]}" "${lc[@]}") ;;
  *) echo "check: unknown record set $set_ (jpmarc, lc or all)" >&2; exit 2 ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/zebra-check-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
checks=0
fail() { echo "check: FAILED: $*" >&2; [ -s "$tmp/response.xml" ] && head -c 1500 "$tmp/response.xml" >&2 && echo >&2; exit 1; }

# search VERSION CQL: the response in $tmp/response.xml, the hit count on stdout.
search() {
  curl -fsS --max-time 20 -G "$base" --data-urlencode "version=$1" --data-urlencode operation=searchRetrieve \
    --data-urlencode "query=$2" --data-urlencode maximumRecords=20 --data-urlencode recordSchema=marcxml \
    --data-urlencode recordPacking=xml -o "$tmp/response.xml" || fail "SRU $1 '$2': HTTP request failed"
  xmllint --noout "$tmp/response.xml" 2>/dev/null || fail "SRU $1 '$2': not well-formed XML"
  xmllint --xpath 'string(//*[local-name()="searchRetrieveResponse"]/*[local-name()="numberOfRecords"])' "$tmp/response.xml"
}

# expect VERSION CQL ID TEXT: the record ID is among the hits, the records are MARCXML in
# UTF-8 valid against MARC21slim.xsd, and TEXT (from the record) is in the bytes as is.
expect() {
  local version="$1" query="$2" id="$3" text="$4" hits
  hits="$(search "$version" "$query")"
  [ "${hits:-0}" -gt 0 ] 2>/dev/null || fail "SRU $version '$query': no hits (numberOfRecords '$hits')"
  head -c 60 "$tmp/response.xml" | grep -qi 'encoding="UTF-8"' || fail "SRU $version '$query': not declared UTF-8"
  grep -q '<record xmlns="http://www.loc.gov/MARC21/slim">' "$tmp/response.xml" \
    || fail "SRU $version '$query': no <record xmlns=\"http://www.loc.gov/MARC21/slim\"> in recordData"
  grep -Eq "<controlfield tag=\"001\">[[:space:]]*$id[[:space:]]*</controlfield>" "$tmp/response.xml" \
    || fail "SRU $version '$query': record $id not among the $hits hits"
  grep -qF "$text" "$tmp/response.xml" || fail "SRU $version '$query': '$text' is not in the response as UTF-8"
  { echo '<collection xmlns="http://www.loc.gov/MARC21/slim">'
    xmllint --xpath '//*[local-name()="recordData"]/*' "$tmp/response.xml"
    echo '</collection>'; } >"$tmp/records.xml"
  xmllint --noout --schema "$xsd" "$tmp/records.xml" 2>"$tmp/xsd.err" \
    || { cat "$tmp/xsd.err" >&2; fail "SRU $version '$query': records do not validate against MARC21slim.xsd"; }
  checks=$((checks + 1))
  echo "ok  SRU $version  $query  ->  $hits hit(s), $id among them, valid MARCXML"
}

for r in "${records[@]}"; do
  IFS='|' read -r id isbn_stored isbn_plain isbn_other title author <<<"$r"
  for version in 1.1 1.2; do
    expect "$version" "bath.isbn=$isbn_stored" "$id" "$isbn_stored"
    [ "$isbn_plain" = "$isbn_stored" ] || expect "$version" "bath.isbn=$isbn_plain" "$id" "$isbn_stored"
    expect "$version" "bath.isbn=$isbn_other" "$id" "$isbn_stored"
    expect "$version" "dc.title=\"$title\"" "$id" "${title%% *}"
    expect "$version" "dc.title==\"$title\"" "$id" "${title%% *}"
    expect "$version" "dc.creator=\"$author\"" "$id" "${title%% *}"
    expect "$version" "dc.title=\"$title\" and dc.creator=\"$author\"" "$id" "$isbn_stored"
  done
done

for version in 1.1 1.2; do
  search "$version" 'dc.title=(' >/dev/null || true
  grep -q 'info:srw/diagnostic/1/10' "$tmp/response.xml" || fail "SRU $version: no diagnostic 10 for the bad CQL 'dc.title=('"
  checks=$((checks + 1))
  echo "ok  SRU $version  dc.title=(  ->  diagnostic info:srw/diagnostic/1/10"
done
hits="$(search 1.2 'bath.isbn=9780000000002')"
[ "$hits" = 0 ] || fail "an ISBN in no record found $hits hit(s)"
checks=$((checks + 1))
echo "ok  SRU 1.2  bath.isbn=9780000000002  ->  0 hits"
echo "check: all $checks checks passed against $base ($set_)"
