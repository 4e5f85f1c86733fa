#!/usr/bin/env python3
"""Harvests a Shiori library over OAI-PMH with Sickle (PyPI), as a union catalogue would.

    oai_harvest.py BASE_URL PREFIX PAGES_DIR [FROM]

ListRecords in PREFIX (oai_dc or marcxml), from FROM if given, deleted records included;
every page the server sent is saved to PAGES_DIR (for xmllint) and the harvest is printed
as JSON: {"response_date", "items": {identifier: deleted}, "records_with_metadata",
"pages"}. Fails (exit 1) on a duplicated identifier, a record without metadata, or
metadata that is not in the format asked for.
"""

import json
import os
import sys

from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch

NAMESPACES = {
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marcxml": "http://www.loc.gov/MARC21/slim",
}


def main():
    base, prefix, pages_dir = sys.argv[1:4]
    since = sys.argv[4] if len(sys.argv) > 4 else None
    os.makedirs(pages_dir, exist_ok=True)

    sickle = Sickle(base, max_retries=2, timeout=60)
    identify = sickle.Identify()
    pages = []

    # Sickle's iterator keeps the page it is reading as `oai_response`: save each new one.
    arguments = {"metadataPrefix": prefix, "ignore_deleted": False}
    if since:
        arguments["from"] = since
    items = {}
    with_metadata = 0
    response_date = None
    try:
        records = sickle.ListRecords(**arguments)
    except NoRecordsMatch:
        records = iter(())
    last_page = None
    for record in records:
        page = records.oai_response
        if page is not last_page:
            last_page = page
            pages.append(page.raw)
            if response_date is None:
                response_date = page.xml.find(".//{http://www.openarchives.org/OAI/2.0/}responseDate").text
        identifier = record.header.identifier
        if identifier in items:
            sys.exit(f"{identifier} was harvested twice")
        items[identifier] = record.deleted
        if not record.deleted:
            metadata = record.xml.find("{http://www.openarchives.org/OAI/2.0/}metadata")
            if metadata is None or len(metadata) != 1:
                sys.exit(f"{identifier}: no metadata")
            if not metadata[0].tag.startswith("{" + NAMESPACES[prefix] + "}"):
                sys.exit(f"{identifier}: metadata {metadata[0].tag} is not {prefix}")
            with_metadata += 1

    for number, raw in enumerate(pages, 1):
        with open(os.path.join(pages_dir, f"page-{number:05}.xml"), "w", encoding="utf-8") as out:
            out.write(raw)
    json.dump(
        {
            "repository": identify.repositoryName,
            "response_date": response_date,
            "items": items,
            "records_with_metadata": with_metadata,
            "pages": len(pages),
        },
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    main()
