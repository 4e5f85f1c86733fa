#!/usr/bin/env python3
"""Generate catalogue/src/marc/marc8_tables.rs: the MARC-8 -> Unicode code tables.

The tables are the Library of Congress MARC-8 code tables
(https://www.loc.gov/marc/specifications/specchartables.html) as carried by pymarc's
`pymarc/marc8_mapping.py`. The script reads nothing else and downloads nothing: it imports
that module and writes Rust source, so the same pymarc version always gives a
byte-identical file.

Requirements (Python 3.11; the version the output was generated and checked against):

    pymarc==5.4.0   BSD-2-Clause   pymarc/marc8_mapping.py

Regenerate (from the repository root):

    python3 -m venv /tmp/marc8-venv
    /tmp/marc8-venv/bin/pip install pymarc==5.4.0
    /tmp/marc8-venv/bin/python catalogue/scripts/gen_marc8_tables.py

Options: --out PATH (default: ../src/marc/marc8_tables.rs next to this script), --check
(exit 1 if the file on disk differs from what would be generated; writes nothing).

What is written, and how pymarc's tables are reshaped (the decoder, marc8.rs, relies on it):

  * Each single-byte graphic set becomes a 94-entry array indexed by the 7-bit code
    position minus 0x21 (positions 0x21..=0x7E). pymarc keys some sets by their G0
    position (0x21..0x7E: Basic Latin, Hebrew, Cyrillic, Arabic, Greek, the Greek symbol,
    subscript and superscript sets) and others by their G1 position (0xA1..0xFE: ANSEL,
    Extended Cyrillic, Extended Arabic); MARC-8 lets any of them be designated G0 or G1,
    so the high bit is dropped here and the decoder adds the right one back.
  * Entries are `Some((character, combining))`; `combining` is pymarc's flag for the
    non-spacing marks that MARC-8 writes before their base character.
  * Basic Latin's entries for ESC (0x1B), the terminators (0x1D-0x1F) and SPACE (0x20) map
    to themselves; the decoder handles those bytes itself, so they are checked and left out.
  * ANSEL's entries in the C1 range (0x88 NSB, 0x89 NSE, 0x8D ZWJ, 0x8E ZWNJ) are control
    functions, not graphic characters of a designated set: they go to `C1_CONTROLS`.
  * EACC (the 3-byte East Asian set) becomes one array of (code, character) sorted by code
    for binary search; pymarc's ODD_MAP (six 3-byte codes from Innovative Interfaces
    systems that pymarc accepts in EACC text) becomes `EACC_ODD`.

The script stops with an error if pymarc's tables do not have the shape described above
(a new code set, a code outside its range, a collision after dropping the high bit, a
combining EACC character), so a pymarc upgrade cannot silently change the meaning.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path

from pymarc import marc8_mapping

PYMARC_VERSION = "5.4.0"

# The BSD-2-Clause conditions and disclaimer of pymarc, repeated in the generated file as
# the licence asks; checked against the installed package's metadata before use.
PYMARC_LICENCE = """\
Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
this list of conditions and the following disclaimer in the documentation
and/or other materials provided with the distribution.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

Copyright for this project is held by its many contributors (listed in pymarc's
LICENSE file)."""

# The single-byte sets: (final byte of the escape sequence, Rust name, description).
SINGLE_BYTE_SETS = [
    (0x42, "BASIC_LATIN", "Basic Latin (ASCII)"),
    (0x45, "ANSEL", "Extended Latin (ANSEL)"),
    (0x67, "GREEK_SYMBOLS", "Greek symbols"),
    (0x62, "SUBSCRIPTS", "Subscripts"),
    (0x70, "SUPERSCRIPTS", "Superscripts"),
    (0x32, "BASIC_HEBREW", "Basic Hebrew"),
    (0x4E, "BASIC_CYRILLIC", "Basic Cyrillic"),
    (0x51, "EXTENDED_CYRILLIC", "Extended Cyrillic"),
    (0x33, "BASIC_ARABIC", "Basic Arabic"),
    (0x34, "EXTENDED_ARABIC", "Extended Arabic"),
    (0x53, "BASIC_GREEK", "Basic Greek"),
]
EACC_FINAL = 0x31

# Basic Latin positions the decoder handles itself (ESC, GS/RS/US, SPACE).
BASIC_LATIN_HANDLED = {0x1B, 0x1D, 0x1E, 0x1F, 0x20}


def fail(message: str) -> None:
    sys.exit(f"gen_marc8_tables.py: {message}")


def char_literal(code_point: int) -> str:
    if not (0 <= code_point <= 0x10FFFF) or 0xD800 <= code_point <= 0xDFFF:
        fail(f"U+{code_point:04X} is not a Unicode scalar value")
    return f"'\\u{{{code_point:04X}}}'"


def check_pymarc() -> None:
    version = importlib.metadata.version("pymarc")
    if version != PYMARC_VERSION:
        fail(f"pymarc {version} is installed; this script was checked against {PYMARC_VERSION}")
    licence = importlib.metadata.metadata("pymarc").get("License") or ""
    expected = PYMARC_LICENCE.split("\n\nCopyright")[0]
    if expected not in licence:
        fail("pymarc's licence text is not the BSD-2-Clause text this script repeats")
    expected_sets = {final for final, _, _ in SINGLE_BYTE_SETS} | {EACC_FINAL}
    if set(marc8_mapping.CODESETS) != expected_sets:
        fail(f"pymarc's code sets changed: {sorted(hex(k) for k in marc8_mapping.CODESETS)}")


def single_byte_table(final: int) -> tuple[list[tuple[int, bool] | None], list[tuple[int, int]]]:
    """Returns the 94 cells of one set, and its C1 control entries."""
    cells: list[tuple[int, bool] | None] = [None] * 94
    c1: list[tuple[int, int]] = []
    for position, (code_point, combining) in sorted(marc8_mapping.CODESETS[final].items()):
        if combining not in (0, 1):
            fail(f"set 0x{final:02X} position 0x{position:02X}: combining flag {combining!r}")
        if final == 0x42 and position in BASIC_LATIN_HANDLED:
            if code_point != position or combining:
                fail(f"Basic Latin 0x{position:02X} does not map to itself")
            continue
        if 0x80 <= position <= 0x9F:
            if final != 0x45 or combining:
                fail(f"set 0x{final:02X} has a C1 entry 0x{position:02X}")
            c1.append((position, code_point))
            continue
        low = position & 0x7F
        if not 0x21 <= low <= 0x7E or position in (0x7F, 0xFF):
            fail(f"set 0x{final:02X} has an entry outside the graphic ranges: 0x{position:02X}")
        index = low - 0x21
        if cells[index] is not None:
            fail(f"set 0x{final:02X}: 0x{position:02X} collides with another entry")
        cells[index] = (code_point, bool(combining))
    return cells, c1


def eacc_table() -> list[tuple[int, int]]:
    entries = []
    for code, (code_point, combining) in sorted(marc8_mapping.CODESETS[EACC_FINAL].items()):
        if combining:
            fail(f"EACC 0x{code:06X} is flagged combining; the decoder does not expect that")
        if not (0x21 <= code >> 16 <= 0x7E and 0x21 <= (code >> 8) & 0xFF <= 0x7E
                and 0x20 <= code & 0xFF <= 0x7E):
            fail(f"EACC code 0x{code:06X} is outside the 7-bit graphic range")
        entries.append((code, code_point))
    return entries


def odd_table(eacc: list[tuple[int, int]]) -> list[tuple[int, int]]:
    known = {code for code, _ in eacc}
    entries = []
    for code, code_point in sorted(marc8_mapping.ODD_MAP.items()):
        if not 0x10000 <= code <= 0xFFFFFF or code in known:
            fail(f"ODD_MAP 0x{code:X} is not a 3-byte code outside EACC")
        entries.append((code, code_point))
    return entries


def generate() -> str:
    check_pymarc()
    out: list[str] = []
    emit = out.append
    emit("// @generated by catalogue/scripts/gen_marc8_tables.py -- do not edit by hand.")
    emit("//")
    emit("// Source: the Library of Congress MARC-8 code tables")
    emit("// (https://www.loc.gov/marc/specifications/specchartables.html) as carried by")
    emit(f"// pymarc {PYMARC_VERSION}, module pymarc/marc8_mapping.py, under pymarc's BSD-2-Clause")
    emit("// licence:")
    emit("//")
    for line in PYMARC_LICENCE.split("\n"):
        emit(f"// {line}".rstrip())
    emit("")
    emit("//! MARC-8 code tables: MARC-8 code positions to Unicode characters.")
    emit("//!")
    emit("//! A single-byte set is 94 cells for the 7-bit positions 0x21..=0x7E (index =")
    emit("//! position - 0x21), whether the set sits in G0 or G1; a cell holds the character and")
    emit("//! whether it is a combining mark. EACC is sorted by code for binary search.")
    emit("")
    emit("/// One code position of a single-byte set: the character, and whether it is a combining")
    emit("/// mark (written before its base character in MARC-8).")
    emit("pub(super) type Cell = Option<(char, bool)>;")
    c1_all: list[tuple[int, int]] = []
    for final, name, description in SINGLE_BYTE_SETS:
        cells, c1 = single_byte_table(final)
        c1_all.extend(c1)
        emit("")
        emit(f"/// {description}: final character `{chr(final)}` (0x{final:02X}).")
        emit(f"pub(super) static {name}: [Cell; 94] = [")
        entries = []
        for cell in cells:
            if cell is None:
                entries.append("None,")
            else:
                code_point, combining = cell
                flag = "true" if combining else "false"
                entries.append(f"Some(({char_literal(code_point)}, {flag})),")
        # The position comments are aligned the way rustfmt aligns trailing comments, so
        # that `cargo fmt --check` accepts the file as generated.
        width = max(len(entry) for entry in entries)
        for index, entry in enumerate(entries):
            emit(f"    {entry.ljust(width)} // 0x{index + 0x21:02X}")
        emit("];")
    emit("")
    emit("/// The C1 control functions MARC-8 defines (non-sort begin/end, zero width joiner and")
    emit("/// non-joiner), which pymarc lists with ANSEL.")
    emit(f"pub(super) static C1_CONTROLS: [(u8, char); {len(c1_all)}] = [")
    for position, code_point in c1_all:
        emit(f"    (0x{position:02X}, {char_literal(code_point)}),")
    emit("];")
    eacc = eacc_table()
    emit("")
    emit("/// East Asian Character Code (EACC, ANSI/NISO Z39.64): final character `1` (0x31),")
    emit(f"/// three bytes a character, {len(eacc)} codes sorted by code (G0 form, 0x21xxxx..0x7Exxxx).")
    emit("pub(super) static EACC: &[(u32, char)] = &[")
    for code, code_point in eacc:
        emit(f"    (0x{code:06X}, {char_literal(code_point)}),")
    emit("];")
    odd = odd_table(eacc)
    emit("")
    emit("/// Three-byte codes outside EACC that Innovative Interfaces systems wrote into EACC text,")
    emit("/// accepted as pymarc does (its ODD_MAP); sorted by code.")
    emit(f"pub(super) static EACC_ODD: [(u32, char); {len(odd)}] = [")
    for code, code_point in odd:
        emit(f"    (0x{code:06X}, {char_literal(code_point)}),")
    emit("];")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_out = Path(__file__).resolve().parent.parent / "src" / "marc" / "marc8_tables.rs"
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = generate()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != text:
            print(f"{args.out} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
