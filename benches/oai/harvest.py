#!/usr/bin/env python3
"""Harvests a whole OAI-PMH repository page after page, as fast as the server answers.

    harvest.py BASE_URL SERVER_PID

For ListIdentifiers (oai_dc) and ListRecords (oai_dc, marcxml): every identifier must come
exactly once and their number equal completeListSize. Prints one row per list: entries,
pages, seconds, entries/s, MB received, and the server's VmRSS / VmHWM after it.
"""

import re
import sys
import time
import urllib.parse
import urllib.request

TOKEN = re.compile(r"<resumptionToken([^>]*?)(?:/>|>([^<]*)</resumptionToken>)")
SIZE = re.compile(r'completeListSize="(\d+)"')
IDENTIFIER = re.compile(r"<identifier>([^<]+)</identifier>")


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields.get("VmRSS", "?"), fields.get("VmHWM", "?")


def harvest(base, verb, prefix):
    seen = set()
    pages = 0
    received = 0
    complete = None
    query = {"verb": verb, "metadataPrefix": prefix}
    started = time.monotonic()
    while True:
        with urllib.request.urlopen(base + "?" + urllib.parse.urlencode(query), timeout=120) as response:
            body = response.read()
        received += len(body)
        pages += 1
        text = body.decode("utf-8")
        if "<error" in text:
            sys.exit(f"{verb}: error answer: {text[:500]}")
        for identifier in IDENTIFIER.findall(text):
            if identifier in seen:
                sys.exit(f"{verb} {prefix}: {identifier} came twice")
            seen.add(identifier)
        token = TOKEN.search(text)
        if token and complete is None:
            size = SIZE.search(token.group(1))
            complete = int(size.group(1)) if size else None
        if not token or not token.group(2):
            break
        query = {"verb": verb, "resumptionToken": token.group(2)}
    elapsed = time.monotonic() - started
    if complete is not None and complete != len(seen):
        sys.exit(f"{verb} {prefix}: {len(seen)} identifiers, completeListSize {complete}")
    return len(seen), pages, elapsed, received


def main():
    base, pid = sys.argv[1], sys.argv[2]
    print(f"{'list':<28} {'entries':>8} {'pages':>6} {'seconds':>8} {'entries/s':>10} {'MB':>7}  server VmRSS / VmHWM")
    for verb, prefix in [("ListIdentifiers", "oai_dc"), ("ListRecords", "oai_dc"), ("ListRecords", "marcxml")]:
        entries, pages, elapsed, received = harvest(base, verb, prefix)
        rss, hwm = memory(pid)
        print(
            f"{verb + ' ' + prefix:<28} {entries:>8} {pages:>6} {elapsed:>8.1f} {entries / elapsed:>10.0f}"
            f" {received / 1e6:>7.1f}  {rss} / {hwm}",
            flush=True,
        )


if __name__ == "__main__":
    main()
