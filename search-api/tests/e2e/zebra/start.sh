#!/usr/bin/env bash
# Start Zebra (Debian's idzebra-2.0) as an SRU target for copy cataloguing:
#   start.sh <records.mrc> <workdir> [more.mrc ...]
# builds a Zebra database of the ISO 2709 MARC 21 records (UTF-8 or MARC-8, per record by
# Leader/09) in <workdir>, starts zebrasrv on a free 127.0.0.1 port in the background (pid in
# <workdir>/zebrasrv.pid, log in <workdir>/zebrasrv.log), waits until it answers SRU, and prints
# one line on stdout:
#   SRU http://127.0.0.1:PORT/DBNAME
# (the SRU base URL; also written to <workdir>/sru-url). stop.sh <workdir> stops it.
# DBNAME is $ZEBRA_DB, default "biblios". Progress and errors go to stderr.
# Needs: zebraidx, zebrasrv (apt-get install -y idzebra-2.0-utils idzebra-2.0-common
# libidzebra-2.0-mod-dom), yaz-marcdump (apt yaz), curl, python3 (to find a free port).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

die() { echo "zebra/start.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: $0 <records.mrc> <workdir> [more.mrc ...]" >&2; exit 2; }
records=("$1"); work="$2"; shift 2; records+=("$@")
db="${ZEBRA_DB:-biblios}"
case "$db" in *[!A-Za-z0-9_-]*|"") die "ZEBRA_DB must be letters, digits, _ or -: $db" ;; esac

missing=()
for tool in zebraidx zebrasrv yaz-marcdump curl python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -e /usr/share/idzebra-2.0/tab/bib1.att ] || missing+=("idzebra-2.0-common (/usr/share/idzebra-2.0/tab)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "zebra/start.sh: missing ${missing[*]}:" >&2
  echo "  apt-get install -y idzebra-2.0-utils idzebra-2.0-common libidzebra-2.0-mod-dom yaz curl python3" >&2
  exit 2
fi

paths=()
for f in "${records[@]}"; do
  [ -f "$f" ] && [ -r "$f" ] || die "no such records file: $f"
  paths+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
mkdir -p "$work"
work="$(cd "$work" && pwd)"
if [ -f "$work/zebrasrv.pid" ] && grep -qs zebrasrv "/proc/$(cat "$work/zebrasrv.pid")/cmdline"; then
  die "a zebrasrv already runs from $work (pid $(cat "$work/zebrasrv.pid")): stop.sh $work first"
fi

# The configuration, copied so that the work folder holds all a run used; registers anew.
cp "$here"/zebra.cfg "$here"/dom-config.xml "$here"/shiori.idx "$here"/cql.properties \
   "$here"/words-icu.xml "$here"/phrases-icu.xml "$here"/keys-icu.xml \
   "$here"/marc21-index.xsl "$here"/identity.xsl "$work"/
rm -rf "$work/reg" "$work/lock" "$work/tmp" "$work/records" "$work/zebraidx.log" "$work/zebrasrv.log" "$work"/marcdump-*.err
mkdir -p "$work/reg" "$work/lock" "$work/tmp" "$work/records"
cd "$work"

# ISO 2709 to MARCXML in UTF-8: -f marc8 converts MARC-8 records, and yaz-marcdump leaves a
# record with Leader/09 'a' (UTF-8) unconverted; Leader/09 becomes 'a' in the output.
n=0
for f in "${paths[@]}"; do
  n=$((n + 1))
  # A record it cannot parse stops it (exit status 5, the records before it written): a
  # target for tests is built from good files only, so that is an error.
  rc=0
  yaz-marcdump -i marc -o marcxml -f marc8 -t utf-8 "$f" >"records/$n.xml" 2>"marcdump-$n.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "marcdump-$n.err" >&2
    die "yaz-marcdump could not read all of $f (exit status $rc)"
  fi
done

echo "zebra: indexing ${paths[*]} into database $db" >&2
zebraidx -c zebra.cfg -d "$db" -l zebraidx.log init
zebraidx -c zebra.cfg -d "$db" -l zebraidx.log update records \
  || { tail -n 20 zebraidx.log >&2; die "zebraidx update failed (log: $work/zebraidx.log)"; }
# "Records: 233 i/u/d 233/0/0" is the count of records read; errors are logged as [warn] or [fatal].
inserted="$(sed -n 's/.*Records: *\([0-9]*\).*/\1/p' zebraidx.log | tail -n 1)"
[ "${inserted:-0}" -gt 0 ] || { tail -n 20 zebraidx.log >&2; die "zebraidx indexed no records"; }
if grep -qE '\[(warn|fatal)\]' zebraidx.log; then
  echo "zebra: zebraidx warnings (first 5, all in $work/zebraidx.log):" >&2
  grep -E '\[(warn|fatal)\]' zebraidx.log | head -n 5 >&2
fi
echo "zebra: $inserted records" >&2

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A port found free may be taken before zebrasrv binds it: then try another one.
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  sed -e "s/@PORT@/$port/g" -e "s/@DB@/$db/g" "$here/yazgfs.xml.in" >yazgfs.xml
  rm -f zebrasrv.pid
  # -T: one process, a thread per connection (one pid to stop). stdin/stdout/stderr are
  # detached so that `$(start.sh ...)` returns as soon as this script ends.
  zebrasrv -T ${ZEBRA_LOGLEVEL:+-v "$ZEBRA_LOGLEVEL"} -f yazgfs.xml -l zebrasrv.log </dev/null >zebrasrv.out 2>&1 &
  pid=$!
  echo "$pid" >zebrasrv.pid
  base="http://127.0.0.1:$port/$db"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    if curl -fsS --max-time 2 "$base?version=1.2&operation=explain" 2>/dev/null | grep -q 'explainResponse'; then
      echo "$base" >sru-url
      echo "zebra: zebrasrv pid $pid serving $base" >&2
      echo "SRU $base"
      exit 0
    fi
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f zebrasrv.pid
    tail -n 20 zebrasrv.log >&2 || true
    die "zebrasrv (pid $pid) did not answer SRU on port $port within 10 s"
  fi
  wait "$pid" 2>/dev/null || true
  rm -f zebrasrv.pid
  echo "zebra: zebrasrv exited at start on port $port (attempt $attempt):" >&2
  tail -n 5 zebrasrv.log >&2 || true
done
die "zebrasrv would not start (log: $work/zebrasrv.log)"
