#!/usr/bin/env python3
"""Check pass and warm-up of the HTTP load bench (benches/http/run.sh).

Usage: python3 benches/http/check.py BASE_URL TENANT QUERIES_FILE [mix|off|on]

Sends every query of the list once, in order, over one keep-alive connection (so one
request at a time: no queueing), and fails (exit 1) unless every answer is 200 with a JSON
body that has a `total`. Prints, per kind of query and for facets on/off, how many queries
found nothing and the median and worst latency seen by this client (Python's own overhead,
~0.1 ms, included), then the slowest queries. Standard library only.
"""

import http.client
import json
import statistics
import sys
import time
import urllib.parse


def main():
    base, tenant, path = sys.argv[1], sys.argv[2], sys.argv[3]
    facets_mode = sys.argv[4] if len(sys.argv) > 4 else "mix"
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            kind, flag, query = line.rstrip("\n").split("\t", 2)
            facets = facets_mode == "on" or (facets_mode == "mix" and flag == "1")
            target = f"/api/v1/{tenant}/search?" + urllib.parse.urlencode(
                {"q": query, "per_page": 20, "facets": "true" if facets else "false"},
                quote_via=urllib.parse.quote,
            )
            started = time.perf_counter()
            conn.request("GET", target)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                print(f"check: {response.status} for {query!r}: {body[:300]!r}", file=sys.stderr)
                sys.exit(1)
            total = json.loads(body)["total"]
            rows.append((kind, facets, total, elapsed, query))

    def line(label, subset):
        times = [r[3] for r in subset]
        zero = sum(1 for r in subset if r[2] == 0)
        print(
            f"| {label} | {len(subset)} | {zero} | {statistics.median(times):.2f} ms "
            f"| {max(times):.1f} ms |"
        )

    print(f"check: {len(rows)} queries, all 200; sequential latency by kind (one client):")
    print("| kind | queries | no hits | median | max |")
    print("|---|---|---|---|---|")
    for kind in sorted({r[0] for r in rows}):
        line(kind, [r for r in rows if r[0] == kind])
    for facets in (False, True):
        subset = [r for r in rows if r[1] == facets]
        if subset:
            line(f"*all, facets={'true' if facets else 'false'}*", subset)
    line("*all*", rows)
    print("slowest:", "; ".join(
        f"{r[4]!r} ({r[0]}{', facets' if r[1] else ''}, {r[2]} hits) {r[3]:.1f} ms"
        for r in sorted(rows, key=lambda r: -r[3])[:8]
    ))


if __name__ == "__main__":
    main()
