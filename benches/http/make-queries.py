#!/usr/bin/env python3
"""Derives the HTTP load bench's query mix (benches/http/queries.txt) from the LC corpus.

Usage: python3 benches/http/make-queries.py BooksAll.2016.part01.utf8 > benches/http/queries.txt

Deterministic: the same corpus file gives the same 1,000 lines (random.Random with a fixed
seed, candidates collected in file order, duplicates dropped). Python standard library only:
the ISO 2709 reader below is the dozen lines the corpus needs (UTF-8, no MARC-8).

What a patron or a web widget would type, taken from real records of the corpus:

  kind        share  what
  title        15%   known item: a whole 245 $a (ISBD punctuation trimmed), up to 10 words
  word         25%   one title word (no stop word, 3+ letters), lower case
  two_words    15%   two consecutive title words (10%), or a title word and the main
                     entry's surname (5%), lower case
  author       12%   a 100 $a personal name as typed: "forename surname" or the surname alone
  subject      12%   a 650 $a topical heading (up to 5 words)
  isbn          6%   an ISBN of a 020 $a as printed (10 or 13 digits)
  ja_title      4%   a vernacular title (880 linked to 245, $a) of a Japanese record
                     (008/35-37 "jpn"; the corpus's Chinese and Korean 880s are left out)
  ja_word       5%   a run of 2-4 kanji from a vernacular title (what a patron types as a word)
  ja_author     2%   a vernacular name (880 linked to 100/700 $a)
  ja_common     4%   written here: common words and pairs (図書館, 日本 歴史 ...), kana readings

Every tenth line (chosen at random with the same seed) asks for facets, like an OPAC's
first result page; the others do not, like a search box widget or a second page.

Output: comment lines starting with '#', then one query per line:
  KIND <TAB> FACETS (1 or 0) <TAB> QUERY
"""

import random
import re
import sys
import unicodedata

SEED = 20261126
TOTAL = 1000
SHARES = [
    ("title", 150),
    ("word", 250),
    ("two_words", 100),
    ("word_author", 50),
    ("author", 120),
    ("subject", 120),
    ("isbn", 60),
    ("ja_title", 40),
    ("ja_word", 50),
    ("ja_author", 20),
]
FACETS_EVERY = 10  # one in ten asks for facets

# Written here, not derived: common Japanese subject words and pairs of the kind a patron
# types into an OPAC, plus readings (the analyser matches kana readings of kanji titles).
JA_COMMON = [
    "図書館", "日本", "歴史", "東京", "文学", "経済", "社会", "教育", "研究", "小説",
    "明治", "戦争", "仏教", "美術", "法律", "政治", "日本史", "大阪", "京都", "中国",
    "日本 歴史", "日本 文学", "東京 歴史", "日本 経済", "近代 日本", "明治 文学",
    "源氏物語", "万葉集", "としょかん", "れきし", "にほん ぶんがく", "きょうと",
    "nihon", "rekishi", "toshokan", "Tōkyō", "Nihon bungaku", "kindai",
    "日本の歴史", "東京大学",
]

STOP = set(
    "a an and are as at be by for from has have in into is it its of on or the to with "
    "de la le les des du et en un une der die das und von zu im den dem des ein eine el los "
    "las y del al il di e per con da do dos das em".split()
)

ISBD_TRAIL = re.compile(r"[\s/:;,=.／：；，＝。]+$")
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
KANJI_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf々]{2,}")
ISBN = re.compile(r"^(97[89]\d{10}|\d{9}[\dXx])\b")


def records(data):
    pos = 0
    while pos + 24 <= len(data):
        length = int(data[pos : pos + 5])
        yield data[pos : pos + length]
        pos += length


def fields(record):
    base = int(record[12:17])
    directory = record[24 : base - 1]
    for i in range(0, len(directory) - 11, 12):
        tag = directory[i : i + 3].decode("ascii", "replace")
        length = int(directory[i + 3 : i + 7])
        start = int(directory[i + 7 : i + 12])
        raw = record[base + start : base + start + length - 1]
        yield tag, raw.decode("utf-8", "replace")


def subfields(value):
    """(code, text) pairs of a data field (indicators dropped)."""
    return [(part[0], part[1:]) for part in value[2:].split("\x1f") if part]


def first(value, code):
    for c, text in subfields(value):
        if c == code:
            return text
    return None


def trim(text):
    """ISBD punctuation off the end; as typed: NFC, and without the combining marks that do
    not compose (LC romanisation's ligature halves U+FE20-FE2F, U+0361 ...), which a patron
    does not type ("spet︠s︡ialista" -> "spetsialista")."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return ISBD_TRAIL.sub("", text).strip()


def main():
    path = sys.argv[1]
    rng = random.Random(SEED)
    with open(path, "rb") as f:
        data = f.read()

    pools = {kind: [] for kind, _ in SHARES}
    for record in records(data):
        title = surname = None
        record_fields = list(fields(record))
        language = next((v[35:38] for t, v in record_fields if t == "008"), "")
        for tag, value in record_fields:
            if tag == "245":
                title = first(value, "a")
            elif tag == "100" and value[:1] == "1":
                name = first(value, "a")
                if name:
                    name = trim(name)
                    if "," in name:
                        last, given = (p.strip() for p in name.split(",", 1))
                        surname = last
                        # Alternate the two forms deterministically, by record.
                        pools["author"].append(last if len(pools["author"]) % 3 == 0 else f"{given} {last}")
                    else:
                        surname = name
                        pools["author"].append(name)
            elif tag == "650":
                subject = first(value, "a")
                if subject:
                    subject = trim(subject)
                    if 0 < len(subject.split()) <= 5:
                        pools["subject"].append(subject)
            elif tag == "020":
                number = first(value, "a")
                m = ISBN.match(number or "")
                if m:
                    pools["isbn"].append(m.group(1).upper())
            elif tag == "880" and language == "jpn":
                link = first(value, "6") or ""
                text = first(value, "a")
                if not text:
                    continue
                text = trim(text)
                if not KANJI_RUN.search(text) and not re.search(r"[\u3040-\u30ff]", text):
                    continue  # a romanisation or a kana-only reading, not the vernacular
                if link.startswith("245"):
                    if len(text) <= 40:
                        pools["ja_title"].append(text)
                    for run in KANJI_RUN.findall(text):
                        if 2 <= len(run) <= 4:
                            pools["ja_word"].append(run)
                elif link.startswith(("100", "700")):
                    name = re.sub(r"[,\s]+", "", text.split(",")[0]) if "," in text else text
                    name = re.sub(r"[\d\-]+$", "", name)
                    if 2 <= len(name) <= 8 and KANJI_RUN.search(name):
                        pools["ja_author"].append(name)
        if title:
            title = trim(title)
            words = title.split()
            if 0 < len(words) <= 10 and len(title) <= 80:
                pools["title"].append(title)
            content = [w.lower() for w in WORD.findall(title) if w.lower() not in STOP]
            if content:
                pools["word"].append(content[len(content) // 2])
            if len(content) >= 2:
                i = len(content) // 3
                pools["two_words"].append(f"{content[i]} {content[i + 1]}")
            if content and surname:
                pools["word_author"].append(f"{content[0]} {surname.lower()}")

    lines = []
    for kind, count in SHARES:
        pool = list(dict.fromkeys(pools[kind]))  # distinct, in corpus order
        if len(pool) < count:
            sys.exit(f"only {len(pool)} distinct {kind} queries in {path}, need {count}")
        label = "two_words" if kind == "word_author" else kind
        lines += [(label, q) for q in rng.sample(pool, count)]
    lines += [("ja_common", q) for q in JA_COMMON]
    assert len(lines) == TOTAL, len(lines)
    rng.shuffle(lines)
    with_facets = set(rng.sample(range(TOTAL), TOTAL // FACETS_EVERY))

    out = sys.stdout
    out.write("# Query mix of the HTTP load bench (benches/http/run.sh), derived from the LC corpus\n")
    out.write("# BooksAll.2016.part01.utf8 by benches/http/make-queries.py (seed %d): see that\n" % SEED)
    out.write("# script for the kinds and shares. KIND <TAB> FACETS <TAB> QUERY (the raw query;\n")
    out.write("# the wrk script URL-encodes it).\n")
    for i, (kind, query) in enumerate(lines):
        query = query.replace("\t", " ").strip()
        out.write(f"{kind}\t{1 if i in with_facets else 0}\t{query}\n")


if __name__ == "__main__":
    main()
