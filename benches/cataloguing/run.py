#!/usr/bin/env python3
"""Cataloguing over HTTP against a running Shiori (issue #17): each record of a MARC file is
catalogued through the records API (POST /api/v1/{tenant}/records, MARCXML), searched for
until the OPAC finds it by its exact title, and saved again with If-Match (PUT, a 500 note
added). Reports p50 and p99 of create, create -> visible and replace.

  python3 benches/cataloguing/run.py http://127.0.0.1:8080 demo DATA/demo-credentials.json \\
      ../shared/fixtures/japanese/enju-jpmarc/jpmarc_marc21_enju.dat [N]

Logs in as the demo staff (the TOTP code computed here). The records are created in that
library: run it on a scratch demo (`shiori serve --demo --data /tmp/x`), not a real one.
Needs pymarc (scripts/test.sh installs it)."""

import base64
import hashlib
import hmac
import json
import statistics
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pymarc


def totp(secret, at):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def call(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    base, tenant, credentials, marc = sys.argv[1:5]
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    creds = json.load(open(credentials, encoding="utf-8"))
    token = None
    for attempt in range(2):
        body = json.dumps({"username": creds["username"], "password": creds["password"],
                           "totp": totp(creds["totp_secret"], time.time() + 30 * attempt)}).encode()
        status, _, answer = call("POST", f"{base}/api/v1/{tenant}/auth/login", body, {"content-type": "application/json"})
        if status == 200:
            token = json.loads(answer)["token"]
            break
    if not token:
        sys.exit(f"login failed: {status} {answer[:200]!r}")
    auth = {"authorization": f"Bearer {token}"}
    saves, replaces, visible = [], [], []
    with open(marc, "rb") as fh:
        for n, record in enumerate(pymarc.MARCReader(fh, to_unicode=True, force_utf8=True)):
            if n >= limit:
                break
            title = record["245"]["a"].rstrip(" /:;.,") if record["245"] else None
            for tag in ("001", "003", "005"):
                record.remove_fields(tag)
            xml = pymarc.record_to_xml(record, namespace=True)
            started = created = time.perf_counter()
            status, headers, answer = call("POST", f"{base}/api/v1/{tenant}/records", xml,
                                           {**auth, "content-type": "application/marcxml+xml"})
            saves.append(time.perf_counter() - started)
            if status != 201:
                print(f"record {n + 1}: {status} {answer[:300]!r}")
                continue
            saved = json.loads(answer)
            # Create -> visible: the new record's id among the hits of its exact title.
            if title:
                query = urllib.parse.urlencode({"q": f'title_exact:"{title}"', "limit": 100})
                while True:
                    _, _, hits = call("GET", f"{base}/api/v1/{tenant}/search?{query}")
                    if any(h.get("id") == saved["id"] for h in json.loads(hits).get("hits", [])):
                        visible.append(time.perf_counter() - created)
                        break
                    if time.perf_counter() - started > 10:
                        print(f"record {n + 1}: not visible after 10 s")
                        break
                    time.sleep(0.005)
            record.add_field(pymarc.Field(tag="500", indicators=[" ", " "], subfields=[pymarc.Subfield("a", "bench")]))
            started = time.perf_counter()
            status, _, answer = call("PUT", f"{base}/api/v1/{tenant}/records/{saved['id']}",
                                     pymarc.record_to_xml(record, namespace=True),
                                     {**auth, "content-type": "application/marcxml+xml", "if-match": headers.get("etag", "")})
            replaces.append(time.perf_counter() - started)
            if status != 200:
                print(f"record {n + 1}: replace {status} {answer[:300]!r}")
    ms = lambda v: f"{v * 1000:.1f} ms"
    print(f"records: {len(saves)} from {marc}")
    for name, values in (("create (POST)", saves), ("replace (PUT If-Match)", replaces), ("create -> visible", visible)):
        if values:
            print(f"{name:24} p50 {ms(statistics.median(values))}  p99 {ms(pct(values, 99))}  max {ms(max(values))}  (n={len(values)})")


if __name__ == "__main__":
    main()
