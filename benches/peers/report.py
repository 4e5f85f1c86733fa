#!/usr/bin/env python3
"""Markdown report of the peer comparison (benches/peers/run.sh): reads each engine's
drive.py result (ENGINE.json) and load figures (ENGINE/load.json) from the work folder.

Usage: report.py WORK_DIR HEADER_FILE ENGINE...

HEADER_FILE: lines printed above the tables (date, machine, corpus, binary). Standard
library only.
"""

import json
import os
import sys


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms"


def fmt_secs(v):
    return "-" if v is None else f"{v:.1f} s" if v < 100 else f"{v:.0f} s"


def fmt_bytes(v):
    if v is None:
        return "-"
    return f"{v / 2**20:.0f} MiB" if v >= 10 * 2**20 else f"{v / 2**20:.1f} MiB"


def ratio(x, y, digits=1):
    """x / y as "3.2×"; "-" when either is missing or y is 0."""
    if x is None or y is None or y == 0:
        return "-"
    r = x / y
    return f"{r:.{digits}f}×" if r < 100 else f"{r:.0f}×"


def cpu_per_search(result):
    """The engine's CPU seconds per search in the throughput phase (SQLite: the driver's)."""
    t = result["throughput"]
    if not t or not t["searches"]:
        return None
    cores = t["cpu_driver"] if result["engine"] == "sqlite" else t["cpu_server"]
    return cores * t["seconds"] / t["searches"]


def main():
    work, header, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows = []
    for name in names:
        path = os.path.join(work, f"{name}.json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        load_path = os.path.join(work, name, "load.json")
        load = json.load(open(load_path, encoding="utf-8")) if os.path.exists(load_path) else {}
        rows.append((name, result, load))
    if not rows:
        sys.exit("report: no results")

    with open(header, encoding="utf-8") as f:
        print(f.read().rstrip("\n"))
    print()
    print("| engine | load (import + index) | records/s | on disk | success@10 | success@1 | no hits "
          "| p50 (1 client) | p99 (1 client) | searches/s (clients) | p50 / p99 under load "
          "| CPU under load: server / driver / other | engine CPU per search |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r, load in rows:
        q, s, t = r["quality"]["all"], r["sequential"], r["throughput"]
        secs, records = load.get("seconds"), load.get("records")
        rate = f"{records / secs:,.0f}" if secs and records else "-"
        err = f" ({q['errors']} errors)" if q["errors"] else ""
        seq_note = f" ({s['note']})" if s.get("note") else ""
        if t:
            tput = f"{t['per_second']:,.0f} ({t['clients']})" + (f", {t['errors']} errors" if t["errors"] else "")
            under = f"{fmt_ms(t['p50_ms'])} / {fmt_ms(t['p99_ms'])}"
            server = f"{t['cpu_server']:.2f}" if r["engine"] != "sqlite" else "(in driver)"
            cpu = f"{server} / {t['cpu_driver']:.2f} / {t['cpu_other']:.2f}"
            # SQLite runs in the driver's processes: its figure includes the Python client.
            cps = cpu_per_search(r)
            per_search = "-" if cps is None else fmt_ms(cps * 1000)
        else:
            tput = under = cpu = per_search = "-"
        print(f"| {r['label']} | {fmt_secs(secs)} | {rate} | {fmt_bytes(load.get('bytes'))} "
              f"| {q['success_at_10']:.1%}{err} | {q['success_at_1']:.1%} | {q['zero_hits']} "
              f"| {fmt_ms(s['p50_ms'])}{seq_note} | {fmt_ms(s['p99_ms'])} | {tput} | {under} | {cpu} | {per_search} |")

    print()
    print("Latency is timed in the driver (Python), from sending a search to having parsed the "
          "answer, so it includes the client, the loopback and the HTTP/JSON or SRU/XML round "
          "trip; SQLite runs inside the driver (no server, no network). success@10: an expected "
          "record among the first ten hits. CPU columns: cores busy on average during the "
          "throughput phase, for the engine's server processes, the driver's client processes, "
          "and everything else on the machine (other sessions' work). Engine CPU per search: the "
          "server's CPU time over the searches answered (SQLite: the driver's, Python included); "
          "it moves less than searches/s when other work shares the cores.")
    details = [(r["label"], load["detail"]) for _, r, load in rows if load.get("detail")]
    if details:
        print()
        for label, detail in details:
            print(f"- {label}: {detail}.")

    shiori = next((r for r in rows if r[0] == "shiori"), None)
    if shiori:
        _, sr, sl = shiori
        print()
        print("Shiori against each peer (latency, CPU per search, load time and size: the peer's "
              "figure ÷ Shiori's, so above 1× means Shiori is better; searches/s: Shiori's ÷ the peer's; "
              "success@10: Shiori's ÷ the peer's, and the difference in points):")
        print()
        print("| peer | p50 | p99 | searches/s | engine CPU per search | success@10 | load time | on disk |")
        print("|---|---|---|---|---|---|---|---|")
        for name, r, load in rows:
            if name == "shiori":
                continue
            ss, ps = sr["sequential"], r["sequential"]
            st, pt = sr["throughput"], r["throughput"]
            s10, p10 = sr["quality"]["all"]["success_at_10"], r["quality"]["all"]["success_at_10"]
            print(f"| {r['label']} | {ratio(ps['p50_ms'], ss['p50_ms'])} | {ratio(ps['p99_ms'], ss['p99_ms'])} "
                  f"| {ratio(st and st['per_second'], pt and pt['per_second'])} "
                  f"| {ratio(cpu_per_search(r), cpu_per_search(sr))} "
                  f"| {ratio(s10, p10, 2)} ({(s10 - p10) * 100:+.1f} pts) "
                  f"| {ratio(load.get('seconds'), sl.get('seconds'))} | {ratio(load.get('bytes'), sl.get('bytes'))} |")

    kinds = [k for k in rows[0][1]["quality"] if k != "all"]
    print()
    print("success@10 by kind of query (queries of the kind in brackets):")
    print()
    print("| engine | " + " | ".join(f"{k} ({rows[0][1]['quality'][k]['queries']})" for k in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name, r, _ in rows:
        print(f"| {r['label']} | " + " | ".join(
            f"{r['quality'][k]['success_at_10']:.0%}" if k in r["quality"] else "-" for k in kinds) + " |")


if __name__ == "__main__":
    main()
