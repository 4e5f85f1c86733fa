#!/usr/bin/env python3
"""Corpus preparation for the peer comparison (benches/peers/run.sh). Standard library only.

  corpus.py subset SRC N DST       N records of an ISO 2709 file, byte for byte, evenly spread
                                   (every k-th record, k = total // N, so the subset has the
                                   corpus's mix of languages; N = 0 or N >= total: all of
                                   them); prints the record count
  corpus.py neutral SRC DST.jsonl  one JSON object per record: the fields every peer loads

The neutral form is what an integrator would hand a generic search engine: UTF-8 text in
NFC, without the combining marks that do not compose (the halves of LC's romanisation
ligatures, U+FE20-FE2F, U+0361: "spet︠s︡ialista" becomes "spetsialista"), ISBD punctuation
trimmed. Shiori and Zebra read the MARC records themselves instead (ISO 2709 and MARCXML).

Fields (strings unless said otherwise):
  id         001, trimmed (LC's control number, e.g. "00000002")
  title      245 $a $b $n $p: the title shown
  titles     every title form, one per line: 245 $a $b $n $p, the 880 linked to 245
             (vernacular), 246 $a $b, 240 $a, 130 $a, 740 $a, and their 880s
  authors    names, one per line: 100/110/111/700/710/711 $a $b $c $d $q and their 880s
  subjects   600/610/611/630/650/651 $a $x $y $z $v joined by " -- ", one per line
  publisher  260/264 $b, one per line
  year       int or null: 008/07-10 when four digits
  isbn       020 $a as printed (first token), one per line
  lang       008/35-37
and, for make_queries.py only (not loaded by the peers):
  title_a    245 $a alone; title_vern_a: the vernacular 245 $a (880); surname: 100 $a before
             the comma; author_vern: the vernacular 100 $a (880)
"""

import json
import re
import sys
import unicodedata

ISBD_TRAIL = re.compile(r"[\s/:;,=.／：；，＝。]+$")
ISBD_LEAD = re.compile(r"^[\s/:;,=.]+")


def records(path):
    """Raw ISO 2709 records of a file (bytes), read in one go (the 250k file is 242 MB)."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 24 <= len(data):
        length = int(data[pos : pos + 5])
        yield data[pos : pos + length]
        pos += length


def fields(record):
    """(tag, value) pairs; a data field's value keeps its indicators and 0x1F delimiters."""
    base = int(record[12:17])
    directory = record[24 : base - 1]
    for i in range(0, len(directory) - 11, 12):
        tag = directory[i : i + 3].decode("ascii", "replace")
        length = int(directory[i + 3 : i + 7])
        start = int(directory[i + 7 : i + 12])
        yield tag, record[base + start : base + start + length - 1].decode("utf-8", "replace")


def subfields(value):
    return [(part[0], part[1:]) for part in value[2:].split("\x1f") if part]


def fold(text):
    """NFC, without the combining marks that do not compose, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.split())


def trim(text):
    return ISBD_LEAD.sub("", ISBD_TRAIL.sub("", fold(text))).strip()


def join(value, codes, sep=" "):
    parts = [trim(text) for code, text in subfields(value) if code in codes]
    return sep.join(p for p in parts if p)


TITLE_CODES = {"245": "abnp", "246": "ab", "240": "a", "130": "a", "740": "a"}
NAME_TAGS = {"100", "110", "111", "700", "710", "711"}
SUBJECT_TAGS = {"600", "610", "611", "630", "650", "651"}


def neutral(record):
    out = {"id": "", "title": "", "titles": [], "authors": [], "subjects": [], "publisher": [],
           "year": None, "isbn": [], "lang": "", "title_a": "", "title_vern_a": "", "surname": "",
           "author_vern": ""}
    for tag, value in fields(record):
        linked = None
        if tag == "880":
            link = next((text for code, text in subfields(value) if code == "6"), "")
            linked = link[:3]
            tag_for = linked
        else:
            tag_for = tag
        if tag == "001":
            out["id"] = value.strip()
        elif tag == "008":
            year = value[7:11]
            out["year"] = int(year) if year.isdigit() else None
            out["lang"] = value[35:38]
        elif tag_for in TITLE_CODES:
            text = join(value, TITLE_CODES[tag_for])
            if text:
                out["titles"].append(text)
            if tag_for == "245":
                a = trim(next((t for c, t in subfields(value) if c == "a"), ""))
                if linked:
                    out["title_vern_a"] = out["title_vern_a"] or a
                else:
                    out["title"] = text
                    out["title_a"] = a
        elif tag_for in NAME_TAGS:
            text = join(value, "abcdq")
            if text:
                out["authors"].append(text)
            if tag_for == "100":
                a = trim(next((t for c, t in subfields(value) if c == "a"), ""))
                if linked:
                    out["author_vern"] = out["author_vern"] or a
                elif value[:1] == "1" and "," in a:
                    out["surname"] = a.split(",", 1)[0].strip()
        elif tag_for in SUBJECT_TAGS:
            text = join(value, "axyzv", " -- ")
            if text:
                out["subjects"].append(text)
        elif tag_for in ("260", "264"):
            text = join(value, "b", "; ")
            if text:
                out["publisher"].append(text)
        elif tag == "020":
            a = next((t for c, t in subfields(value) if c == "a"), "").strip()
            token = a.split(" ")[0].replace("-", "") if a else ""
            if re.fullmatch(r"\d{9}[\dXx]|\d{13}", token):
                out["isbn"].append(token.upper())
    for key in ("titles", "authors", "subjects", "publisher", "isbn"):
        out[key] = "\n".join(dict.fromkeys(out[key]))
    return out


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "subset":
        src, n, dst = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        total = sum(1 for _ in records(src))
        step = max(1, total // n) if n else 1
        count = 0
        with open(dst, "wb") as f:
            for i, record in enumerate(records(src)):
                if n and count >= n:
                    break
                if i % step == 0:
                    f.write(record)
                    count += 1
        print(count)
    elif len(sys.argv) == 4 and sys.argv[1] == "neutral":
        src, dst = sys.argv[2], sys.argv[3]
        count = 0
        with open(dst, "w", encoding="utf-8") as f:
            for record in records(src):
                doc = neutral(record)
                if not doc["id"]:
                    continue
                f.write(json.dumps(doc, ensure_ascii=False) + "\n")
                count += 1
        print(count)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
