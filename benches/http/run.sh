#!/usr/bin/env bash
# HTTP load bench: JSON searches against `shiori serve` over loopback, measured with wrk.
# Budget (DESIGN.md "Performance budgets"): >= 5,000 searches/s on 2 cores, p99 <= 5 ms at
# 16 connections. Results go to benches/RESULTS.md ("HTTP load") by hand.
#
# Usage (from anywhere; one command does everything):
#
#   bash benches/http/run.sh
#
# What it does:
#   1. installs wrk with apt-get when it is not on PATH;
#   2. fetches the LC "Books All 2016 part 01" corpus (250,000 records) with
#      fixtures/fetch-lc-books-all.sh (cached, sha256-checked);
#   3. builds `shiori` (`cargo build --release -p search-api`) unless SHIORI_BIN names one,
#      and copies it into the bench folder so a concurrent rebuild cannot swap it mid-run;
#   4. creates the data folder ${SHIORI_BENCH_DIR:-target/http-bench}/data once: tenant `lc`,
#      `shiori import`, `shiori reindex`, then a marker file with the corpus sha256. Later
#      runs reuse it while the marker matches. An index built by another version of the
#      indexer is rebuilt by the server itself when it starts (that start then takes ~40 s);
#      a data folder the server cannot open at all is recreated once;
#   5. starts `shiori serve --listen 127.0.0.1:0` (a free port) with SHIORI_LOG=warn and waits
#      for its "Shiori is serving" line;
#   6. check pass and warm-up (benches/http/check.py): every query once, one at a time; fails
#      unless all answer 200; prints per-kind sequential latency and zero-hit counts;
#   7. for each connection count (1, 16, 64): a wrk warm-up, then a measured wrk run with
#      benches/http/search.lua over benches/http/queries.txt, one wrk thread per connection
#      (so the script can pair each response with its request and time it: wrk 4's own
#      percentiles are "corrected for coordinated omission" with synthetic samples, see
#      search.lua; they are shown too, as "wrk p99"); prints a table (searches/s, latency
#      percentiles, non-2xx, CPU used by the server, by wrk and by anything else on the
#      machine). Exits 1 if any response was not 2xx or any socket error/timeout happened.
#
# Environment (all optional):
#   SHIORI_BIN                 a built shiori binary (skips cargo build)
#   SHIORI_BENCH_DIR           bench folder (default target/http-bench in the repository)
#   SHIORI_BENCH_DURATION      measured seconds per connection count (default 25)
#   SHIORI_BENCH_WARMUP        wrk warm-up seconds before each measured run (default 5)
#   SHIORI_BENCH_CONNECTIONS   connection counts (default "1 16 64")
#   SHIORI_BENCH_FACETS        mix (as queries.txt says: 10% facets=true), off or on
#   SHIORI_BENCH_QUERIES       query list (default benches/http/queries.txt)
#   SHIORI_BENCH_THREADS       wrk threads: "per-connection" (default) or N for
#                              min(connections, N) threads; rows with more connections
#                              than threads have only wrk's corrected percentiles (the
#                              per-request columns say "-")
#   SHIORI_BENCH_PIN           "SERVER_CPUS:CLIENT_CPUS" for taskset, e.g. "1:0"; default
#                              unpinned (server and wrk share both cores, the scheduler
#                              decides). Pinning on 2 cores leaves the server one core.
#   SHIORI_BENCH_KEEP_SERVER=1 leave the server running at the end (prints its URL and pid)
#
# Everything the run writes (server log, wrk reports, the table) is in the bench folder.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bench_dir=${SHIORI_BENCH_DIR:-$root/target/http-bench}
duration=${SHIORI_BENCH_DURATION:-25}
warmup=${SHIORI_BENCH_WARMUP:-5}
connections=${SHIORI_BENCH_CONNECTIONS:-1 16 64}
facets=${SHIORI_BENCH_FACETS:-mix}
queries=${SHIORI_BENCH_QUERIES:-$here/queries.txt}
pin=${SHIORI_BENCH_PIN:-}
threads_mode=${SHIORI_BENCH_THREADS:-per-connection}
tenant=lc

log() { printf 'http-bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

case $facets in mix | off | on) ;; *) die "SHIORI_BENCH_FACETS must be mix, off or on" ;; esac
[[ $threads_mode == per-connection || $threads_mode =~ ^[1-9][0-9]*$ ]] || die "SHIORI_BENCH_THREADS must be per-connection or a number"
[[ -f $queries ]] || die "no query list at $queries"
mkdir -p "$bench_dir"
bench_dir=$(cd "$bench_dir" && pwd)

# 1. wrk
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    sudo_=""
    [[ $(id -u) == 0 ]] || sudo_=sudo
    $sudo_ apt-get install -y wrk >&2 || { $sudo_ apt-get update >&2 && $sudo_ apt-get install -y wrk >&2; }
fi
command -v python3 >/dev/null || die "needs python3"

# 2. corpus
corpus=$(bash "$root/fixtures/fetch-lc-books-all.sh")
corpus_sha=$(sha256sum "$corpus" | cut -d' ' -f1)

# 3. binary
if [[ -n ${SHIORI_BIN:-} ]]; then
    source_bin=$SHIORI_BIN
else
    log "building shiori (cargo build --release -p search-api)"
    (cd "$root" && cargo build --release -p search-api >&2)
    source_bin=$root/target/release/shiori
fi
[[ -x $source_bin ]] || die "no shiori binary at $source_bin"
bin=$bench_dir/shiori
cp -f "$source_bin" "$bin.tmp" && mv -f "$bin.tmp" "$bin"

# 4. data folder
data=$bench_dir/data
marker=$data/.http-bench-corpus
create_data() {
    log "creating $data: tenant $tenant, import, reindex (about a minute)"
    rm -rf "$data"
    "$bin" --data "$data" tenant create "$tenant" --name "Library of Congress, Books All 2016 part 01" >&2
    "$bin" --data "$data" import --tenant "$tenant" "$corpus" >&2
    "$bin" --data "$data" reindex --tenant "$tenant" >&2
    printf '%s\n' "$corpus_sha" >"$marker"
}
if [[ ! -f $marker || $(cat "$marker") != "$corpus_sha" ]]; then
    create_data
    created=1
else
    log "reusing $data"
    created=0
fi

# 5. server
taskset_server=()
taskset_client=()
if [[ -n $pin ]]; then
    taskset_server=(taskset -c "${pin%%:*}")
    taskset_client=(taskset -c "${pin##*:}")
fi
server_pid=""
stop_server() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap 'if [[ -z ${SHIORI_BENCH_KEEP_SERVER:-} ]]; then stop_server; fi' EXIT

start_server() {
    : >"$bench_dir/server.out"
    SHIORI_LOG=warn "${taskset_server[@]}" "$bin" serve --data "$data" --listen 127.0.0.1:0 \
        >"$bench_dir/server.out" 2>"$bench_dir/server.log" &
    server_pid=$!
    local started=$SECONDS
    while ! grep -q '^Shiori is serving' "$bench_dir/server.out"; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null || true
            server_pid=""
            log "the server exited before it was ready; its log:"
            tail -n 20 "$bench_dir/server.log" >&2
            return 1
        fi
        ((SECONDS - started < 900)) || die "the server was not ready after 900 s"
        sleep 0.1
    done
    base=$(sed -n 's|^Shiori is serving .* at \(http://[^ ]*\)/$|\1|p' "$bench_dir/server.out" | head -n 1)
    [[ -n $base ]] || die "cannot read the address from: $(head -n 1 "$bench_dir/server.out")"
    log "server pid $server_pid ready at $base/ after $((SECONDS - started)) s"
}
if ! start_server; then
    ((created == 0)) || die "the server cannot open a data folder it just created"
    log "recreating the data folder"
    create_data
    start_server || die "the server cannot open the recreated data folder"
fi

# 6. check pass (also warms the page cache and the index)
python3 "$here/check.py" "$base" "$tenant" "$queries" "$facets" | tee "$bench_dir/check.md"

# 7. load
clk_tck=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
results=$bench_dir/results.md
{
    echo "| connections | wrk threads | searches/s | mean | p50 | p90 | p99 | max | wrk p50 / p99 (corrected) | non-2xx | socket errors | server CPU | server CPU per search | wrk CPU | other CPU |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$results"
ms() {
    awk -v us="$1" -v raw="${2:-}" 'BEGIN {
        if (raw == "none") print "-"; else printf (us < 10000 ? "%.2f ms" : "%.0f ms"), us / 1000 }'
}
failed=0
for c in $connections; do
    if [[ $threads_mode == per-connection ]]; then
        threads=$c
        lua_args=(-- "$queries" "$tenant" "$facets" 1)
    else
        threads=$((c < threads_mode ? c : threads_mode))
        lua_args=(-- "$queries" "$tenant" "$facets" $((threads == c ? 1 : 0)))
    fi
    wrk_cmd=(wrk -t"$threads" -c"$c" --timeout 10s --latency -s "$here/search.lua" "$base")
    if ((warmup > 0)); then
        "${taskset_client[@]}" "${wrk_cmd[@]}" -d"${warmup}s" "${lua_args[@]}" >/dev/null
    fi
    s0=$(proc_ticks "$server_pid")
    b0=$(busy_ticks)
    out=$bench_dir/wrk-c$c.txt
    /usr/bin/time -f 'wrk_cpu %U %S' -o "$bench_dir/wrk-c$c.time" \
        "${taskset_client[@]}" "${wrk_cmd[@]}" -d"${duration}s" "${lua_args[@]}" >"$out"
    s1=$(proc_ticks "$server_pid")
    b1=$(busy_ticks)
    line=$(grep '^RESULT ' "$out") || die "no RESULT line in $out"
    declare -A r=()
    for kv in ${line#RESULT }; do r[${kv%%=*}]=${kv#*=}; done
    read -r _ wu ws <"$bench_dir/wrk-c$c.time"
    secs=${r[seconds]}
    cpu=$(awk -v s0="$s0" -v s1="$s1" -v b0="$b0" -v b1="$b1" -v hz="$clk_tck" -v secs="$secs" \
        -v wu="$wu" -v ws="$ws" -v reqs="${r[requests]}" 'BEGIN {
            server = (s1 - s0) / hz / secs; client = (wu + ws) / secs; all = (b1 - b0) / hz / secs
            other = all - server - client; if (other < 0) other = 0
            printf "%.2f %.2f %.2f %.2f", server, client, other, server * secs / reqs * 1000 }')
    read -r cpu_server cpu_client cpu_other cpu_per_search <<<"$cpu"
    errors=$((r[connect_errors] + r[read_errors] + r[write_errors] + r[timeouts]))
    if ((r[non2xx] > 0 || errors > 0)); then failed=1; fi
    raw=$([[ ${r[raw_requests]} == 0 ]] && echo none || echo yes)
    printf '| %d | %d | %.0f | %s | %s | %s | %s | %s | %s / %s | %d | %d | %s cores | %s ms | %s cores | %s cores |\n' \
        "$c" "$threads" "${r[rps]}" "$(ms "${r[raw_mean_us]}" "$raw")" "$(ms "${r[raw_p50_us]}" "$raw")" \
        "$(ms "${r[raw_p90_us]}" "$raw")" "$(ms "${r[raw_p99_us]}" "$raw")" "$(ms "${r[raw_max_us]}" "$raw")" \
        "$(ms "${r[p50_us]}")" "$(ms "${r[p99_us]}")" "${r[non2xx]}" "$errors" \
        "$cpu_server" "$cpu_per_search" "$cpu_client" "$cpu_other" >>"$results"
    unset r
    log "connections $c done"
done

rss=$(awk '/^VmHWM/{printf "%.0f MiB", $2 / 1024}' "/proc/$server_pid/status")
echo
echo "HTTP load, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
echo "corpus $(basename "$corpus") (sha256 ${corpus_sha:0:12}…), $(grep -vc '^#' "$queries") queries, facets=$facets,"
echo "shiori $(sha256sum "$bin" | cut -c1-12) (copied from $source_bin, built $(date -u -r "$source_bin" +%Y-%m-%dT%H:%MZ)),"
echo "${duration} s per row after ${warmup} s of warm-up, pinning: ${pin:-none}, server peak RSS $rss."
echo "Latency columns: each request timed by search.lua; \"wrk p50 / p99\": wrk's own, corrected"
echo "for coordinated omission (synthetic samples). CPU: cores busy on average during the row."
echo
cat "$results"
if [[ -n ${SHIORI_BENCH_KEEP_SERVER:-} ]]; then
    log "server left running at $base/ (pid $server_pid)"
fi
((failed == 0)) || die "FAILED: some responses were not 2xx or had socket errors (see $bench_dir/wrk-c*.txt)"
