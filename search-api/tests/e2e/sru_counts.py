#!/usr/bin/env python3
"""sruthi (a third-party SRU client): the number of hits of each query, one per line as
`QUERY<TAB>COUNT`, for run.sh to hold against yaz-client's counts over GET, POST and SOAP.
Usage: sru_counts.py URL QUERY... (e.g. http://127.0.0.1:8080/demo/sru dc.title=図書館)."""
import sys

import sruthi

url, queries = sys.argv[1], sys.argv[2:]
for query in queries:
    # sruthi 2.0 reads only the SRU 1.2 namespace.
    records = sruthi.searchretrieve(url, query=query, maximum_records=1, sru_version="1.2")
    print(f"{query}\t{records.count}")
