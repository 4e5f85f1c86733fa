#!/usr/bin/env python3
"""Measures one engine for the peer comparison (benches/peers/run.sh): known-item success,
sequential latency and throughput, with the same driver for every engine.

Usage: drive.py ENGINE TARGET QUERIES OUT.json [--label L] [--clients 8] [--duration 20]
                [--passes 2] [--server-pid PID] [--seq-budget 300]

ENGINE and TARGET as engines.make() takes them. QUERIES: make_queries.py's TSV.

1. Quality pass (also the warm-up): every query once, in order, one client. success@1,
   success@10 (an expected record among the first ten hits), zero-hit queries and errors,
   overall and per kind. Each query's rank, total and first ids go to OUT.hits.tsv.
2. Sequential latency: PASSES - 1 more passes over the queries, one client, one request
   at a time on a keep-alive connection; p50 / p90 / p99 / mean of these samples (of the
   first pass when PASSES is 1, or when the first pass took over SEQ_BUDGET / 2 seconds).
   Timed from before the request is sent until the answer is parsed, in the client.
3. Throughput: CLIENTS processes (fork), each with its own connection, each going round
   the query list from its own starting point for DURATION seconds; searches/s = searches
   answered / wall time until the last one finished. Latency percentiles under load too.
   CPU over the phase, in cores: the whole machine (/proc/stat), the driver processes, the
   server (SERVER_PID and its descendants) and the rest ("other": load that is not ours).

Writes OUT.json (read by report.py) and prints a one-line summary. Debian's /usr/bin/python3.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engines  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            kind, expected, query = line.rstrip("\n").split("\t", 2)
            out.append((kind, set(expected.split()), query))
    return out


def percentile(samples, p):
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def busy_ticks():
    with open("/proc/stat") as f:
        parts = f.readline().split()
    # user nice system idle iowait irq softirq steal
    return sum(int(parts[i]) for i in (1, 2, 3, 6, 7, 8))


def tree_ticks(root):
    """CPU ticks of root and its descendants, the reaped ones included."""
    if not root:
        return 0
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    raw = f.read()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2 :].split()
            # utime stime cutime cstime: a reaped child's time moves to its parent's
            # cutime/cstime (zebrasrv forks per connection; PostgreSQL has a backend each)
            stats[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def worker(engine, target, queries, start, deadline, conn):
    client = engines.make(engine, target)
    latencies, errors, i = [], 0, start
    while time.monotonic() < deadline:
        query = queries[i % len(queries)][2]
        t = time.perf_counter()
        try:
            client.search(query)
            latencies.append(time.perf_counter() - t)
        except Exception:  # noqa: BLE001 - counted, the run goes on
            errors += 1
        i += 1
    conn.send((latencies, errors))
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("engine")
    ap.add_argument("target")
    ap.add_argument("queries")
    ap.add_argument("out")
    ap.add_argument("--label", default=None)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--seq-budget", type=float, default=300)
    args = ap.parse_args()
    label = args.label or args.engine
    queries = read_queries(args.queries)
    client = engines.make(args.engine, args.target)

    # 1. quality pass (and warm-up)
    rows, first_pass = [], []
    started = time.monotonic()
    for kind, expected, query in queries:
        t = time.perf_counter()
        try:
            total, ids = client.search(query)
            error = ""
        except Exception as err:  # noqa: BLE001
            total, ids, error = 0, [], f"{type(err).__name__}: {err}"[:200]
            client = engines.make(args.engine, args.target)
        first_pass.append(time.perf_counter() - t)
        rank = next((i + 1 for i, x in enumerate(ids[:10]) if x in expected), None)
        rows.append({"kind": kind, "query": query, "rank": rank, "total": total, "ids": ids[:3], "error": error})
    quality_secs = time.monotonic() - started
    with open(os.path.splitext(args.out)[0] + ".hits.tsv", "w", encoding="utf-8") as f:
        f.write("kind\trank\ttotal\terror\tquery\tfirst ids\n")
        for r in rows:
            f.write(f"{r['kind']}\t{r['rank'] or '-'}\t{r['total']}\t{r['error']}\t{r['query']}\t{' '.join(r['ids'])}\n")

    def metrics(subset):
        n = len(subset)
        return {
            "queries": n,
            "success_at_1": sum(1 for r in subset if r["rank"] == 1) / n if n else 0,
            "success_at_10": sum(1 for r in subset if r["rank"]) / n if n else 0,
            "zero_hits": sum(1 for r in subset if r["total"] == 0 and not r["error"]),
            "errors": sum(1 for r in subset if r["error"]),
        }

    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    quality = {"all": metrics(rows), **{k: metrics([r for r in rows if r["kind"] == k]) for k in kinds}}

    # 2. sequential latency
    samples, seq_note = [], ""
    if args.passes <= 1 or quality_secs > args.seq_budget / 2:
        samples = first_pass
        seq_note = "first pass" if args.passes > 1 else ""
    else:
        for _ in range(args.passes - 1):
            for _, _, query in queries:
                t = time.perf_counter()
                try:
                    client.search(query)
                except Exception:  # noqa: BLE001
                    client = engines.make(args.engine, args.target)
                samples.append(time.perf_counter() - t)
    ms = lambda s: None if s is None else s * 1000  # noqa: E731
    sequential = {"samples": len(samples), "p50_ms": ms(percentile(samples, 50)),
                  "p90_ms": ms(percentile(samples, 90)), "p99_ms": ms(percentile(samples, 99)),
                  "mean_ms": ms(statistics.fmean(samples)), "note": seq_note}
    del client

    # 3. throughput
    throughput = None
    if args.clients > 0 and args.duration > 0:
        ctx = multiprocessing.get_context("fork")
        b0, s0, c0, w0 = busy_ticks(), tree_ticks(args.server_pid), os.times(), time.monotonic()
        deadline = time.monotonic() + args.duration
        procs = []
        for n in range(args.clients):
            parent, child = ctx.Pipe(duplex=False)
            p = ctx.Process(target=worker, args=(args.engine, args.target, queries,
                                                 n * len(queries) // args.clients, deadline, child))
            p.start()
            procs.append((p, parent))
        latencies, errors = [], 0
        for p, parent in procs:
            lat, err = parent.recv()
            latencies += lat
            errors += err
            p.join()
        wall = time.monotonic() - w0
        b1, s1, c1 = busy_ticks(), tree_ticks(args.server_pid), os.times()
        machine = (b1 - b0) / CLK_TCK / wall
        driver = (c1.children_user + c1.children_system - c0.children_user - c0.children_system) / wall
        server = (s1 - s0) / CLK_TCK / wall
        throughput = {
            "clients": args.clients, "seconds": wall, "searches": len(latencies), "errors": errors,
            "per_second": len(latencies) / wall,
            "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
            "cpu_machine": machine, "cpu_driver": driver, "cpu_server": server,
            "cpu_other": max(0.0, machine - driver - server),
        }

    result = {"engine": args.engine, "label": label, "quality": quality, "quality_seconds": quality_secs,
              "sequential": sequential, "throughput": throughput}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
    q = quality["all"]
    tp = f"{throughput['per_second']:.0f}/s at {args.clients} clients" if throughput else "-"
    print(f"{label}: success@10 {q['success_at_10']:.1%} (errors {q['errors']}, no hits {q['zero_hits']}), "
          f"p50 {sequential['p50_ms']:.2f} ms, p99 {sequential['p99_ms']:.2f} ms, {tp}", file=sys.stderr)


if __name__ == "__main__":
    main()
