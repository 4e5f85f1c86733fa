#!/usr/bin/env python3
"""Loads corpus.py's neutral records into a peer engine (benches/peers/run.sh times this).

  load.py groonga records.jsonl DB_PATH TOKENIZER   TokenMecab or TokenBigram
  load.py pg      records.jsonl DSN
  load.py sqlite  records.jsonl DB_FILE

Every engine gets the same fields: the shown title, every title form (romanised and
vernacular), names, subjects, publishers and ISBNs, with full-text indexes over all but the
shown title. Run with Debian's /usr/bin/python3 (psycopg2 comes from apt,
python3-psycopg2). Prints what the engine said when something failed; exit 1 then.
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile

FIELDS = ("titles", "authors", "subjects", "publisher", "isbn")


def docs(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def load_groonga(path, db, tokenizer):
    """Schema, bulk load, then the index columns (static index construction is faster
    than updating them row by row). NormalizerNFKC150: NFKC, lower case, width folding."""
    os.makedirs(os.path.dirname(db) or ".", exist_ok=True)
    proc = subprocess.Popen(
        ["groonga", "-n", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )

    lines = ["table_create Books TABLE_HASH_KEY ShortText\n",
             "column_create Books title COLUMN_SCALAR ShortText\n"]
    # Vector columns: each title, name, subject ... is tokenised on its own (MeCab reads a
    # newline-joined text as one sentence and glues words across the values).
    lines += [f"column_create Books {f} COLUMN_VECTOR Text\n" for f in FIELDS]
    lines.append(
        f"table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer {tokenizer} "
        "--normalizer NormalizerNFKC150\n"
    )
    lines.append("load --table Books\n[\n")
    first = True
    for d in docs(path):
        row = {"_key": d["id"], "title": d["title"][:4000]}
        row.update({f: [v for v in d[f].split("\n") if v] for f in FIELDS})
        lines.append(("" if first else ",") + json.dumps(row, ensure_ascii=False) + "\n")
        first = False
    lines.append("]\n")
    # One index column per field (Groonga 13 cannot put vector columns in one multi-column
    # index), all in the one lexicon.
    lines += [f"column_create Terms books_{f} COLUMN_INDEX|WITH_POSITION|WITH_SECTION Books {f}\n"
              for f in FIELDS]
    output = proc.communicate("".join(lines).encode("utf-8"))[0].decode("utf-8", "replace")
    # Each command answers [[status, ...], body]; a non-zero status is an error.
    bad = [line for line in output.splitlines() if line.startswith("[[-")]
    if proc.returncode != 0 or bad:
        print(output[-3000:], file=sys.stderr)
        sys.exit(1)


def load_pg(path, dsn):
    import psycopg2

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".tsv", delete=False) as tsv:
        for d in docs(path):
            values = [d["id"], d["title"]] + [d[f] for f in FIELDS]
            tsv.write("\t".join(
                v.replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n").replace("\r", " ")
                for v in values
            ) + "\n")
    try:
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cur.execute("DROP TABLE IF EXISTS books")
        cur.execute(
            "CREATE TABLE books (id text PRIMARY KEY, title text, titles text, authors text,"
            " subjects text, publisher text, isbn text, doc text GENERATED ALWAYS AS"
            " (titles || E'\\n' || authors || E'\\n' || subjects || E'\\n' || publisher"
            " || E'\\n' || isbn) STORED)"
        )
        with open(tsv.name, encoding="utf-8") as f:
            cur.copy_expert(
                "COPY books (id, title, titles, authors, subjects, publisher, isbn) FROM STDIN", f
            )
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("CREATE INDEX books_doc_trgm ON books USING gin (doc gin_trgm_ops)")
        cur.execute("VACUUM ANALYZE books")
        conn.close()
    finally:
        os.unlink(tsv.name)


def load_sqlite(path, db_file):
    if os.path.exists(db_file):
        os.remove(db_file)
    db = sqlite3.connect(db_file)
    db.execute(
        "CREATE VIRTUAL TABLE books USING fts5(id UNINDEXED, title UNINDEXED, "
        + ", ".join(FIELDS) + ", tokenize='trigram')"
    )
    db.executemany(
        f"INSERT INTO books VALUES ({', '.join('?' * (2 + len(FIELDS)))})",
        ((d["id"], d["title"], *(d[f] for f in FIELDS)) for d in docs(path)),
    )
    db.execute("INSERT INTO books(books) VALUES ('optimize')")
    db.commit()
    db.close()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "groonga":
        load_groonga(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "pg":
        load_pg(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "sqlite":
        load_sqlite(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
