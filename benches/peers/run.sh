#!/usr/bin/env bash
# Side by side with peers (issue #8, DESIGN.md "Performance budgets"): Shiori against Groonga
# (TokenMecab and TokenBigram), Zebra (the engine under Koha, over SRU), PostgreSQL 15 with
# pg_trgm and SQLite FTS5 (trigram), on the same corpus and the same known-item queries, in
# one run. Prints a Markdown table and writes it to the bench folder.
#
# Usage (from anywhere; as root, because it installs packages and runs PostgreSQL as the
# postgres user):
#
#   bash benches/peers/run.sh                             # the LC 250k corpus (~10 min)
#   SHIORI_PEERS_LIMIT=20000 bash benches/peers/run.sh    # a 20,000-record subset (~2 min)
#
# What it does:
#   1. installs what is missing with apt-get (groonga-bin, groonga-tokenizer-mecab,
#      idzebra-2.0, idzebra-2.0-utils, yaz, postgresql-15, python3-psycopg2); idempotent;
#   2. fetches the Library of Congress "Books All 2016 part 01" MARC file (250,000 records,
#      public domain) with fixtures/fetch-lc-books-all.sh (cached, sha256-checked);
#      with SHIORI_PEERS_LIMIT=N takes N records evenly spread over it (every k-th record,
#      so the subset keeps the corpus's Japanese records), then converts the records once
#      to a neutral JSON-lines form (corpus.py; kept with the corpus sha256 as a marker)
#      and derives 300 known-item queries with expected answers (make_queries.py);
#   3. builds `shiori` (`cargo build --release -p search-api`) unless SHIORI_BIN names one,
#      and copies it into the bench folder, so a concurrent rebuild cannot swap it mid-run;
#   4. for each engine, one at a time: loads the corpus (timed: import + index; size on
#      disk after), starts its server on a free loopback port, runs drive.py (one client:
#      quality pass with success@10, then sequential latency; then CLIENTS processes for
#      DURATION seconds: throughput), and stops the server. Engines:
#        shiori          `shiori import` + `shiori reindex` of the MARC file; `shiori serve`;
#                        GET /api/v1/lc/search?q=…&per_page=10&facets=false
#        groonga-mecab   Groonga 13, TokenMecab lexicon, NormalizerNFKC150; HTTP /d/select,
#        groonga-bigram  TokenBigram lexicon; both `groonga -s --protocol http --cache-limit 0`
#        zebra           MARCXML (yaz-marcdump) indexed by zebraidx through the DOM filter
#                        with benches/peers/zebra/*; zebrasrv, SRU searchRetrieve over HTTP
#        pg              PostgreSQL 15, a private cluster in the bench folder on a loopback
#                        port; pg_trgm GIN index; psycopg2 (ILIKE per word)
#        sqlite          SQLite 3.40 FTS5 trigram through Python's sqlite3 (in process)
#   5. prints the Markdown report (report.py) and writes it to WORK/results.md.
# Every server it starts is stopped on exit (trap), and they listen on 127.0.0.1 only.
#
# Environment (all optional):
#   SHIORI_PEERS_LIMIT     records to use (default 0: all 250,000); develop with 20000
#   SHIORI_PEERS_DIR       bench folder (default target/peers-bench in the repository); the
#                          work folder of a run is DIR/n<LIMIT> (DIR/nall for the whole corpus)
#   SHIORI_PEERS_ENGINES   engines to run (default "shiori groonga-mecab groonga-bigram zebra
#                          pg sqlite")
#   SHIORI_PEERS_CLIENTS   concurrent clients of the throughput phase (default 8)
#   SHIORI_PEERS_DURATION  seconds of the throughput phase per engine (default 20)
#   SHIORI_PEERS_PASSES    passes over the queries with one client (default 2: the first is
#                          the quality pass and warm-up, the second gives p50 / p99)
#   SHIORI_PEERS_REUSE=1   keep an engine's loaded database (and its recorded load time and
#                          size) from an earlier run of the same work folder instead of
#                          loading again; default: load everything again
#   SHIORI_BIN             a built shiori binary (skips cargo build)
#
# Fairness notes are in benches/RESULTS.md ("Side by side with peers") and in the
# docstrings of engines.py. Large data stays in the bench folder (target/ is not in git).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bench_root=${SHIORI_PEERS_DIR:-$root/target/peers-bench}
limit=${SHIORI_PEERS_LIMIT:-0}
engines=${SHIORI_PEERS_ENGINES:-shiori groonga-mecab groonga-bigram zebra pg sqlite}
clients=${SHIORI_PEERS_CLIENTS:-8}
duration=${SHIORI_PEERS_DURATION:-20}
passes=${SHIORI_PEERS_PASSES:-2}
reuse=${SHIORI_PEERS_REUSE:-0}
py=/usr/bin/python3 # Debian's: python3-psycopg2 is installed for it
pgbin=/usr/lib/postgresql/15/bin
tenant=lc

log() { printf 'peers: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $limit =~ ^[0-9]+$ ]] || die "SHIORI_PEERS_LIMIT must be a number"
for e in $engines; do
    case $e in shiori | groonga-mecab | groonga-bigram | zebra | pg | sqlite) ;; *) die "unknown engine $e" ;; esac
done
[[ $(id -u) == 0 ]] || die "run as root (apt-get, and the PostgreSQL cluster runs as the postgres user)"
started_at=$SECONDS

# 1. packages
missing=()
for pkg in groonga-bin groonga-tokenizer-mecab idzebra-2.0 idzebra-2.0-utils yaz postgresql-15 python3-psycopg2; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y "${missing[@]}" >&2 || { apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; }
fi
[[ -x $py ]] || die "needs Debian's $py"

# 2. corpus, neutral records, queries
corpus=$(bash "$root/fixtures/fetch-lc-books-all.sh")
corpus_sha=$(sha256sum "$corpus" | cut -d' ' -f1)
work=$bench_root/n$([[ $limit == 0 ]] && echo all || echo "$limit")
mkdir -p "$work"
work=$(cd "$work" && pwd)
marker=$work/.corpus
if [[ ! -f $marker || $(cat "$marker") != "$corpus_sha" || ! -f $work/records.jsonl ]]; then
    log "preparing $work: subset ($limit), neutral records"
    rm -f "$marker"
    if [[ $limit == 0 ]]; then
        ln -sfn "$corpus" "$work/corpus.mrc"
    else
        $py "$here/corpus.py" subset "$corpus" "$limit" "$work/corpus.mrc" >/dev/null
    fi
    records=$($py "$here/corpus.py" neutral "$work/corpus.mrc" "$work/records.jsonl")
    printf '%s\n' "$records" >"$work/.records"
    printf '%s\n' "$corpus_sha" >"$marker"
fi
records=$(cat "$work/.records")
$py "$here/make_queries.py" "$work/records.jsonl" >"$work/queries.tsv"
nqueries=$(grep -vc '^#' "$work/queries.tsv")
log "$records records, $nqueries queries"

# 3. shiori binary
if [[ " $engines " == *" shiori "* ]]; then
    if [[ -n ${SHIORI_BIN:-} ]]; then
        source_bin=$SHIORI_BIN
    else
        log "building shiori (cargo build --release -p search-api)"
        (cd "$root" && cargo build --release -p search-api >&2)
        source_bin=$root/target/release/shiori
    fi
    [[ -x $source_bin ]] || die "no shiori binary at $source_bin"
    bin=$bench_root/shiori
    cp -f "$source_bin" "$bin.tmp" && mv -f "$bin.tmp" "$bin"
fi

# Servers: started in the background, stopped by stop_all on exit.
declare -A pids=()
pg_data=""
stop_all() {
    for name in "${!pids[@]}"; do
        local pid=${pids[$name]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        unset "pids[$name]"
    done
    if [[ -n $pg_data && -f $pg_data/postmaster.pid ]]; then
        runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    pg_data=""
}
trap stop_all EXIT
free_port() {
    $py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() { # URL SECONDS NAME
    local until=$((SECONDS + $2))
    while ! curl -s -o /dev/null "$1"; do
        ((SECONDS < until)) || die "$3 did not answer at $1 within $2 s"
        sleep 0.2
    done
}
now() { date +%s.%N; }
since() { $py -c 'import sys, time; print("%.1f s" % (float(sys.argv[2] if len(sys.argv) > 2 else time.time()) - float(sys.argv[1])))' "$@"; }
# record_load ENGINE START_TIME BYTES [DETAIL]: writes ENGINE/load.json
record_load() {
    $py -c 'import json, sys; json.dump({"seconds": float(sys.argv[2]) - float(sys.argv[1]), "bytes": int(sys.argv[3]), "records": int(sys.argv[4]), "detail": sys.argv[6]}, open(sys.argv[5], "w"))' \
        "$2" "$(now)" "$3" "$records" "$work/$1/load.json" "${4:-}"
    log "$1 loaded in $($py -c 'import json, sys; print("%.1f s" % json.load(open(sys.argv[1]))["seconds"])' "$work/$1/load.json")"
}
loaded() { [[ $reuse == 1 && -f $work/$1/load.json ]]; }
du_bytes() { du -s -B1 "$@" | awk '{s += $1} END {print s}'; } # allocated: Groonga's files are sparse
drive() { # ENGINE_DIR_NAME ENGINE TARGET LABEL SERVER_PID
    log "driving $4"
    $py "$here/drive.py" "$2" "$3" "$work/queries.tsv" "$work/$1.json" --label "$4" \
        --clients "$clients" --duration "$duration" --passes "$passes" --server-pid "$5"
}

run_shiori() {
    local dir=$work/shiori data=$work/shiori/data
    if ! loaded shiori; then
        rm -rf "$dir" && mkdir -p "$dir"
        local t0 t1
        t0=$(now)
        "$bin" --data "$data" tenant create "$tenant" --name "Library of Congress, Books All 2016 part 01" >"$dir/load.log" 2>&1
        "$bin" --data "$data" import --tenant "$tenant" "$work/corpus.mrc" >>"$dir/load.log" 2>&1
        t1=$(now)
        "$bin" --data "$data" reindex --tenant "$tenant" >>"$dir/load.log" 2>&1
        record_load shiori "$t0" "$(du_bytes "$data")" \
            "import $(since "$t0" "$t1") + reindex $(since "$t1"); on disk: the whole data folder, of which the index is $(du -sh "$data/tenants/$tenant/index" | cut -f1)iB and the catalogue (full MARC records) $(du -sh "$data/tenants/$tenant/catalogue.redb" | cut -f1)iB"
    fi
    SHIORI_LOG=warn "$bin" serve --data "$data" --listen 127.0.0.1:0 >"$dir/server.out" 2>"$dir/server.log" &
    pids[shiori]=$!
    local until=$((SECONDS + 900))
    while ! grep -q '^Shiori is serving' "$dir/server.out"; do
        kill -0 "${pids[shiori]}" 2>/dev/null || { tail -n 20 "$dir/server.log" >&2; die "shiori serve exited"; }
        ((SECONDS < until)) || die "shiori serve not ready after 900 s"
        sleep 0.1
    done
    local base
    base=$(sed -n 's|^Shiori is serving .* at \(http://[^ ]*\)/$|\1|p' "$dir/server.out" | head -n 1)
    drive shiori shiori "$base" "Shiori" "${pids[shiori]}"
    stop_all
}

run_groonga() { # NAME TOKENIZER LABEL
    local dir=$work/$1
    if ! loaded "$1"; then
        rm -rf "$dir" && mkdir -p "$dir/db"
        local t0
        t0=$(now)
        $py "$here/load.py" groonga "$work/records.jsonl" "$dir/db/books" "$2"
        record_load "$1" "$t0" "$(du_bytes "$dir/db")" "load, then the index columns; on disk: the database (stored columns and index)"
    fi
    local port
    port=$(free_port)
    groonga -s --protocol http -p "$port" --bind-address 127.0.0.1 --cache-limit 0 \
        --log-path "$dir/groonga.log" --query-log-path /dev/null "$dir/db/books" >"$dir/server.log" 2>&1 &
    pids[$1]=$!
    wait_http "http://127.0.0.1:$port/d/status" 60 groonga
    drive "$1" groonga "http://127.0.0.1:$port" "$3" "${pids[$1]}"
    stop_all
}

run_zebra() {
    local dir=$work/zebra
    if ! loaded zebra; then
        rm -rf "$dir" && mkdir -p "$dir/reg" "$dir/lock" "$dir/tmp"
        cp "$here"/zebra/* "$dir/"
        local t0 t1
        t0=$(now)
        yaz-marcdump -i marc -o marcxml -f utf-8 -t utf-8 "$work/corpus.mrc" >"$dir/records.xml"
        t1=$(now)
        (cd "$dir" && zebraidx -c zebra.cfg -l idx.log init && zebraidx -c zebra.cfg -l idx.log update records.xml)
        record_load zebra "$t0" "$(du_bytes "$dir/reg")" \
            "MARCXML conversion (yaz-marcdump) $(since "$t0" "$t1") + zebraidx $(since "$t1"); on disk: the register (index and stored records)"
        rm -f "$dir/records.xml"
    fi
    local port
    port=$(free_port)
    sed "s/@PORT@/$port/" "$here/zebra/yazgfs.xml" >"$dir/yazgfs.xml"
    (cd "$dir" && exec zebrasrv -f yazgfs.xml -v fatal,warn -l srv.log) &
    pids[zebra]=$!
    wait_http "http://127.0.0.1:$port/Default?version=1.2&operation=explain" 60 zebrasrv
    drive zebra zebra "http://127.0.0.1:$port" "Zebra 2.2 (SRU)" "${pids[zebra]}"
    stop_all
}

run_pg() {
    local dir=$work/pg port
    port=$(free_port)
    pg_data=$dir/data
    if ! loaded pg; then
        rm -rf "$dir" && mkdir -p "$dir"
        chown postgres: "$dir"
        runuser -u postgres -- "$pgbin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    fi
    # Loopback TCP only; the socket in the bench folder. JIT off (it only adds planning time
    # to these short queries); shared_buffers large enough to hold the index.
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg_data" -l "$dir/server.log" -w -o \
        "-p $port -c listen_addresses=127.0.0.1 -k $dir -c shared_buffers=1GB -c jit=off -c max_connections=40" \
        start >/dev/null
    local dsn="host=127.0.0.1 port=$port user=postgres dbname=postgres"
    if ! loaded pg; then
        local t0
        t0=$(now)
        $py "$here/load.py" pg "$work/records.jsonl" "$dsn"
        record_load pg "$t0" "$(psql -X -qAt -h 127.0.0.1 -p "$port" -U postgres -c "select pg_total_relation_size('books')")" \
            "COPY, GIN index, VACUUM ANALYZE; on disk: pg_total_relation_size (table with its stored fields, TOAST, primary key, GIN index $(psql -X -qAt -h 127.0.0.1 -p "$port" -U postgres -c "select pg_size_pretty(pg_relation_size('books_doc_trgm'))"))"
    fi
    drive pg pg "$dsn" "PostgreSQL 15 pg_trgm" "$(head -n 1 "$pg_data/postmaster.pid")"
    stop_all
}

run_sqlite() {
    local dir=$work/sqlite
    if ! loaded sqlite; then
        rm -rf "$dir" && mkdir -p "$dir"
        local t0
        t0=$(now)
        $py "$here/load.py" sqlite "$work/records.jsonl" "$dir/books.db"
        record_load sqlite "$t0" "$(du_bytes "$dir/books.db")" "insert, optimize; on disk: the database file (FTS5 content and trigram index)"
    fi
    drive sqlite sqlite "$dir/books.db" "SQLite 3.40 FTS5 trigram" 0
}

for e in $engines; do
    case $e in
        shiori) run_shiori ;;
        groonga-mecab) run_groonga groonga-mecab TokenMecab "Groonga 13 TokenMecab" ;;
        groonga-bigram) run_groonga groonga-bigram TokenBigram "Groonga 13 TokenBigram" ;;
        zebra) run_zebra ;;
        pg) run_pg ;;
        sqlite) run_sqlite ;;
    esac
done

# 5. report
header=$work/header.md
{
    echo "Peer comparison, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 2^20}' /proc/meminfo)."
    echo "Corpus: $(basename "$corpus") (Library of Congress, public domain; sha256 ${corpus_sha:0:12}…), $records records$([[ $limit != 0 ]] && echo " (every k-th of 250,000)")."
    echo "Queries: $nqueries known-item queries (make_queries.py), expected answers by 001. One client, $passes passes (p50 / p99 from pass 2 on); throughput: $clients client processes for $duration s."
    [[ -n ${bin:-} ]] && echo "Shiori: $(sha256sum "$bin" | cut -c1-12) (copied from $source_bin, built $(date -u -r "$source_bin" +%Y-%m-%dT%H:%MZ))."
    echo "Peers: groonga $(groonga --version | head -n 1 | awk '{print $2}'), zebra $(dpkg-query -W -f='${Version}' idzebra-2.0), postgresql $(dpkg-query -W -f='${Version}' postgresql-15), sqlite $($py -c 'import sqlite3; print(sqlite3.sqlite_version)'). Run took $(((SECONDS - started_at) / 60)) min."
} >"$header"
# shellcheck disable=SC2086
$py "$here/report.py" "$work" "$header" $engines | tee "$work/results.md"
log "report written to $work/results.md"
