#!/usr/bin/env bash
# Circulation under load (issue 7): checkouts + checkins per second through the staff API
# while the OPAC serves searches, and change -> visible in search under that load.
# Budget (DESIGN.md): change -> visible p99 <= 1 s. Results go to benches/RESULTS.md by hand.
#
# Usage (from anywhere; one command does everything):
#
#   bash benches/circulation/run.sh [--seconds N] [--desks N] [--searchers N] [--items N]
#
# It builds `shiori` and the bench in release, copies the binary into the bench folder (so
# a concurrent rebuild cannot swap it mid-run), and runs benches/src/bin/circulation.rs:
# a fresh data folder in ${SHIORI_BENCH_DIR:-target/circulation-bench} with the LC Japanese
# subset of ../shared/fixtures, `shiori serve` on a free loopback port, and the load.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bench_dir=${SHIORI_BENCH_DIR:-$root/target/circulation-bench}
cd "$root"

cargo build --release -q -p search-api --bin shiori
cargo build --release -q -p benches --bin circulation
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
mkdir -p "$bench_dir"
cp "$target_dir/release/shiori" "$bench_dir/shiori"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$target_dir/release/circulation" --shiori "$bench_dir/shiori" --dir "$bench_dir/data" "$@"
