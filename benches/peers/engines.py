"""Clients of the engines compared by benches/peers/run.sh, one class per engine.

Each client answers `search(query) -> (total, ids)`: the engine's total hit count and the 001
control numbers of its first ten hits, best first. The query is the patron's text. Shiori
gets it as it is (it analyses queries itself). For the peers, `words()` does what an
integrator's search box code would do: split on white space, strip punctuation from the
ends of each word, and ask for records that contain every word (AND), each word quoted so
the engine's query syntax cannot misread it, ranked by the engine's own relevance.

Standard library only, except psycopg2 (Debian's python3-psycopg2) for PostgreSQL.
"""

import http.client
import json
import re
import sqlite3
import urllib.parse

WORD_EDGE = re.compile(r"^[^\w]+|[^\w]+$")
TOP = 10
TIMEOUT = 60


def words(query):
    out = []
    for token in query.split():
        token = WORD_EDGE.sub("", token)
        if token:
            out.append(token)
    return out or [query.strip()]


class Http:
    """One keep-alive connection, reopened after an error."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = url.hostname, url.port, url.path.rstrip("/")
        self.conn = None

    def get(self, target):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            try:
                self.conn.request("GET", self.prefix + target)
                response = self.conn.getresponse()
                body = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
                return body
            except (http.client.HTTPException, ConnectionError, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


class Shiori:
    """GET /api/v1/{tenant}/search?q=…&per_page=10&facets=false (facets off: no peer counts
    facets here)."""

    def __init__(self, base, tenant="lc"):
        self.http = Http(base)
        self.tenant = tenant

    def search(self, query):
        target = f"/api/v1/{self.tenant}/search?" + urllib.parse.urlencode(
            {"q": query, "per_page": TOP, "facets": "false"}, quote_via=urllib.parse.quote
        )
        answer = json.loads(self.http.get(target))
        return answer["total"], [hit["control_number"].strip() for hit in answer["hits"]]


class Groonga:
    """GET /d/select over HTTP (the server runs with --cache-limit 0). Query syntax, every
    word a quoted phrase ("a" "b": both), scored by Groonga's default TF scorer with column
    weights (titles 10, names 5, others 1), best first. Groonga's own HTTP server answers
    `Connection: close`, so every search opens a new loopback connection (groonga-httpd,
    the nginx-based server, keeps connections alive; it is not measured here)."""

    MATCH = "titles*10||authors*5||subjects||publisher||isbn"

    def __init__(self, base):
        self.http = Http(base)

    def search(self, query):
        q = " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words(query))
        target = "/d/select?" + urllib.parse.urlencode(
            {"table": "Books", "match_columns": self.MATCH, "query": q, "limit": TOP,
             "output_columns": "_key", "sort_keys": "-_score,_id"},
            quote_via=urllib.parse.quote,
        )
        answer = json.loads(self.http.get(target))
        if answer[0][0] != 0:
            raise RuntimeError(f"groonga: {answer[0][3] if len(answer[0]) > 3 else answer[0]}")
        result = answer[1][0]
        return result[0][0], [row[0] for row in result[2:]]


class Zebra:
    """SRU 1.2 searchRetrieve over HTTP (zebrasrv, keep-alive). CQL: every word quoted,
    joined by `and`, on cql.serverChoice (Bib-1 "any"), with relevance ranking (the CQL
    mapping of benches/peers/zebra/cql.properties adds 2=102 to every term). The `brief`
    schema returns the 001 of each hit."""

    ID = re.compile(rb"<id>([^<]*)</id>")
    COUNT = re.compile(rb"<(?:\w+:)?numberOfRecords>(\d+)<")
    DIAG = re.compile(rb"<(?:\w+:)?message>([^<]*)<")

    def __init__(self, base):
        self.http = Http(base)

    def search(self, query):
        cql = " and ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words(query))
        target = "/Default?" + urllib.parse.urlencode(
            {"version": "1.2", "operation": "searchRetrieve", "query": cql,
             "maximumRecords": TOP, "recordSchema": "brief", "recordPacking": "xml"},
            quote_via=urllib.parse.quote,
        )
        body = self.http.get(target)
        count = self.COUNT.search(body)
        if count is None:
            diag = self.DIAG.search(body)
            # Zebra answers a diagnostic for a term it cannot use (e.g. a stop word only):
            # count that as no hits, like the other engines' empty answers.
            if diag:
                return 0, []
            raise RuntimeError(f"zebra: {body[:300]!r}")
        return int(count.group(1)), [m.decode().strip() for m in self.ID.findall(body)]


def like_pattern(word):
    return "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Postgres:
    """psycopg2, one connection. Every word becomes `doc ILIKE '%word%'` (ANDed) on the
    pg_trgm GIN index; ranked by trigram similarity of the query to the titles plus to the
    names; the total is count(*) OVER () of the same query. Words under 3 characters have
    no trigram: PostgreSQL answers them correctly but by rechecking every row that the
    other words leave (or the whole index when there is no other word)."""

    SQL = ("SELECT id, count(*) OVER () FROM books WHERE {where} "
           "ORDER BY similarity(titles, %s) + similarity(authors, %s) DESC, id LIMIT 10")

    def __init__(self, dsn):
        import psycopg2

        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.cur = self.conn.cursor()
        self.cur.execute("SET statement_timeout = '60s'")

    def search(self, query):
        ws = words(query)
        where = " AND ".join(["doc ILIKE %s"] * len(ws))
        self.cur.execute(self.SQL.format(where=where), [like_pattern(w) for w in ws] + [query, query])
        rows = self.cur.fetchall()
        return (rows[0][1] if rows else 0), [r[0] for r in rows]


class Sqlite:
    """Python's sqlite3 (SQLite 3.40), FTS5 with the trigram tokenizer, in process (no
    server). Words of 3+ characters go to MATCH as quoted phrases (implicit AND), ranked
    by bm25 with column weights (titles 10, names 5, others 1); the total is count(*) OVER ().
    The trigram tokenizer cannot match a word under 3 characters, so such words are checked
    with instr() on the rows MATCH found, or by a full scan when the query has no longer
    word (no ranking then)."""

    WEIGHTS = "bm25(books, 0, 0, 10, 5, 1, 1, 1)"
    DOC = "lower(titles || ' ' || authors || ' ' || subjects || ' ' || publisher || ' ' || isbn)"

    def __init__(self, path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def search(self, query):
        ws = words(query)
        long_words = [w for w in ws if len(w) >= 3]
        short = [w.lower() for w in ws if len(w) < 3]
        params = []
        where = []
        if long_words:
            where.append("books MATCH ?")
            params.append(" ".join('"' + w.replace('"', '""') + '"' for w in long_words))
        for w in short:
            where.append(f"instr({self.DOC}, ?) > 0")
            params.append(w)
        score = self.WEIGHTS if long_words else "rowid"
        # bm25() cannot sit next to a window function: score in a materialised CTE first.
        sql = (f"WITH m AS MATERIALIZED (SELECT id, {score} AS s FROM books WHERE {' AND '.join(where)}) "
               "SELECT id, count(*) OVER () FROM m ORDER BY s LIMIT 10")
        rows = self.db.execute(sql, params).fetchall()
        return (rows[0][1] if rows else 0), [r[0] for r in rows]


def make(engine, target):
    """A client for `engine` (shiori, groonga, zebra, pg, sqlite) at `target` (base URL,
    DSN or file)."""
    return {"shiori": Shiori, "groonga": Groonga, "zebra": Zebra, "pg": Postgres, "sqlite": Sqlite}[engine](target)
