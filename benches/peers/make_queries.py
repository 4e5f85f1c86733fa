#!/usr/bin/env python3
"""Known-item queries for the peer comparison (benches/peers/run.sh), derived from the corpus.

Usage: python3 benches/peers/make_queries.py records.jsonl > queries.tsv

records.jsonl is corpus.py's neutral form of the corpus that every engine loads. The output is
deterministic (random.Random with a fixed seed over candidates in file order, duplicates
dropped): the same corpus gives the same queries. Standard library only.

Each query is what a patron types to find one book they know, and names the records that
answer it (expected ids: the 001 control numbers). success@10 = one of them is among an
engine's first ten hits.

  kind           n   what the patron types                      expected records
  exact_title    70  the title proper (245 $a) as printed,       the record, and every record
                     without square brackets                     with the same title proper
                                                                 (other editions, same titles)
  partial_title  70  2-3 consecutive content words of the title  the record, and records with
                     (245 $a $b $n $p), lower case, stop words   the same title proper
                     and words under 3 letters left out
  author_title   50  the main entry's surname and one title      same
                     word of 4+ letters, lower case
  ja_title       50  the vernacular title proper (880 of 245     the record, and records with
                     $a) of a Japanese record, typed without     the same vernacular title
                     the spaces LC puts between words
                     (現代 日本 外交論 -> 現代日本外交論)
  ja_partial     30  a kanji/katakana word of that title (2+     the record, and records with
                     characters) and the author's vernacular     the same vernacular title
                     family name (880 of 100 $a, before the
                     space; the first two kanji of an unspaced
                     name of 3-4 kanji): 外交論 眞鍋
  isbn           30  an ISBN as printed in 020 $a (10 or 13      every record with that ISBN
                     digits, no hyphens)

A smaller corpus gives fewer queries of a kind when it has too few candidates.

Output: comment lines starting with '#', then KIND <TAB> EXPECTED (ids, space-separated)
<TAB> QUERY.
"""

import json
import random
import re
import sys
from collections import defaultdict

SEED = 20261126
SHARES = [
    ("exact_title", 70),
    ("partial_title", 70),
    ("author_title", 50),
    ("ja_title", 50),
    ("ja_partial", 30),
    ("isbn", 30),
]
STOP = set(
    "a an and are as at be by for from has have in into is it its of on or the to with "
    "de la le les des du et en un une der die das und von zu im den dem des ein eine el los "
    "las y del al il di e per con da do dos em".split()
)
WORD_EDGE = re.compile(r"^[^\w]+|[^\w]+$")
CJK = r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ー"
HAS_JA = re.compile(f"[{CJK}]")
CJK_SPACE = re.compile(f"(?<=[{CJK}])\\s+(?=[{CJK}])")
JA_WORD = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff々\u30a0-\u30ffー]{2,}")


def words(text):
    out = []
    for token in text.split():
        token = WORD_EDGE.sub("", token)
        if token:
            out.append(token)
    return out


def content_words(text):
    return [w.lower() for w in words(text) if len(w) >= 3 and w.lower() not in STOP and not w.isdigit()]


def typed(title):
    """A title as a patron types it: without the square brackets of cataloguer-supplied
    words ("[Tokushima-ken] ..."), spaces collapsed."""
    return " ".join(title.replace("[", "").replace("]", "").split())


def key(text):
    return " ".join(text.casefold().split())


def ja_key(text):
    return "".join(text.casefold().split())


def main():
    rng = random.Random(SEED)
    docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]

    by_title = defaultdict(list)
    by_vern = defaultdict(list)
    by_isbn = defaultdict(list)
    for d in docs:
        if d["title_a"]:
            by_title[key(d["title_a"])].append(d["id"])
        if d["title_vern_a"]:
            by_vern[ja_key(d["title_vern_a"])].append(d["id"])
        for isbn in filter(None, d["isbn"].split("\n")):
            by_isbn[isbn].append(d["id"])

    def same_title(d):
        return sorted({d["id"], *by_title.get(key(d["title_a"]), [])})

    def same_vern(d):
        return sorted({d["id"], *by_vern.get(ja_key(d["title_vern_a"]), [])})

    # (query, expected) candidates per kind, in file order; one candidate per record.
    pools = {kind: [] for kind, _ in SHARES}
    for d in docs:
        title_a = typed(d["title_a"])
        if title_a and 1 <= len(title_a.split()) <= 12 and len(title_a) >= 3:
            pools["exact_title"].append((title_a, same_title(d)))
        content = content_words(d["title"])
        if len(content) >= 3:
            n = 2 + (len(pools["partial_title"]) % 2)  # alternate 2 and 3 words
            n = min(n, len(content) - 1)
            start = len(pools["partial_title"]) * 7 % (len(content) - n + 1)
            pools["partial_title"].append((" ".join(content[start : start + n]), same_title(d)))
        long_words = [w for w in content if len(w) >= 4]
        if d["surname"] and long_words:
            word = long_words[len(pools["author_title"]) % len(long_words)]
            pools["author_title"].append((f"{d['surname'].lower()} {word}", same_title(d)))
        vern = d["title_vern_a"]
        if d["lang"] == "jpn" and vern and HAS_JA.search(vern):
            as_typed = CJK_SPACE.sub("", typed(vern))
            if len(as_typed) >= 2:
                pools["ja_title"].append((as_typed, same_vern(d)))
            name = re.split(r"[,，、]", d["author_vern"])[0].strip()
            if len(name.split()) > 1:
                family = name.split()[0]
            elif re.fullmatch(r"[\u4e00-\u9fff\uf900-\ufaff々]{3,4}", name):
                family = name[:2]  # unspaced 3-4 kanji name: most family names are two kanji
            else:
                family = ""
            ja_words = JA_WORD.findall(vern)
            if family and HAS_JA.search(family) and ja_words:
                word = ja_words[len(pools["ja_partial"]) % len(ja_words)]
                pools["ja_partial"].append((f"{word} {family}", same_vern(d)))
        isbns = [i for i in d["isbn"].split("\n") if i]
        if isbns:
            pools["isbn"].append((isbns[0], sorted(set(by_isbn[isbns[0]]))))

    print(f"# Known-item queries of the peer comparison (benches/peers/run.sh), derived by")
    print(f"# benches/peers/make_queries.py (seed {SEED}) from {len(docs)} records.")
    print("# KIND <TAB> EXPECTED IDS (001, space-separated) <TAB> QUERY")
    seen = set()
    for kind, n in SHARES:
        pool = pools[kind]
        order = list(range(len(pool)))
        rng.shuffle(order)
        taken = 0
        for i in order:
            if taken >= n:
                break
            query, expected = pool[i]
            if key(query) in seen or "\t" in query or not query.strip():
                continue
            seen.add(key(query))
            print(f"{kind}\t{' '.join(expected)}\t{query}")
            taken += 1
        if taken < n:
            print(f"make_queries: only {taken} {kind} queries (wanted {n})", file=sys.stderr)


if __name__ == "__main__":
    main()
