#!/usr/bin/env python3
"""sruthi (a third-party SRU client) against Shiori's SRU endpoint: pages through every hit
of a search following nextRecordPosition, reads explain, and gets a diagnostic for bad CQL.
Usage: sru_paging.py URL (e.g. http://127.0.0.1:8080/demo/sru)."""
import sys

import sruthi

url = sys.argv[1]
# sruthi 2.0 reads only the SRU 1.2 namespace.
records = sruthi.searchretrieve(url, query="dc.title=図書館", record_schema="marcxml", maximum_records=5, sru_version="1.2")
count = records.count
seen = [r for r in records]
if count <= 5:
    sys.exit(f"sruthi: expected more than one page of hits, got {count}")
if len(seen) != count:
    sys.exit(f"sruthi: numberOfRecords says {count} but paging yielded {len(seen)}")
titles = sum(1 for r in seen if "datafield" in r)
if titles != count:
    sys.exit(f"sruthi: {count - titles} records came without MARC data fields")
print(f"   paged through {count} records, 5 at a time")

dc = sruthi.searchretrieve(url, query="dc.creator=夏目", record_schema="dc", maximum_records=10, sru_version="1.2")
if dc.count == 0:
    sys.exit("sruthi: dc.creator=夏目 found nothing")
print(f"   dc.creator=夏目: {dc.count} records in Dublin Core")

explain = sruthi.explain(url, sru_version="1.2")
if not explain.database or "デモ" not in str(explain.database.get("title", "")):
    sys.exit(f"sruthi: explain does not name the library: {explain.database}")
if not explain.index:
    sys.exit("sruthi: explain lists no indexes")
print(f"   explain: {explain.database['title']}, {len(explain.index)} index sets")

try:
    sruthi.searchretrieve(url, query="dc.title=(", sru_version="1.2").count
except sruthi.errors.SruError as err:
    if "10" not in str(err) and "syntax" not in str(err).lower():
        sys.exit(f"sruthi: unexpected diagnostic {err}")
    print("   bad CQL: diagnostic")
else:
    sys.exit("sruthi: bad CQL gave no diagnostic")
