//! Search normalisation of Japanese and Western text.
//!
//! The same function runs over a record at index time and over a patron's query at
//! search time, so both sides meet in one form. It never changes what is stored: the
//! catalogue keeps the original text for display, and [`Normalized`] maps every byte of
//! its output back to the original so highlights and morpheme offsets point at what the
//! patron sees.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::kana;
use crate::variants;

/// Text after search normalisation, with a map back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    text: String,
    /// One span per run of normalised bytes that came from one group of original
    /// characters, sorted by `norm`. A group is a base character with its combining
    /// marks (NFKC may compose or expand it).
    spans: Vec<Span>,
    /// Offsets in `text` where a dropped middle dot joined two Japanese words, or a dropped
    /// apostrophe two parts of a Latin word.
    word_breaks: Vec<usize>,
    original_len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    norm: usize,
    orig_start: usize,
    orig_end: usize,
}

impl Normalized {
    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Consumes the value, returning the normalised text.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Byte offsets in the normalised text where a middle dot was dropped between two
    /// Japanese words (ハリー・ポッター -> ハリーポッター has one at ポ), or an apostrophe
    /// inside a Latin word (lover's -> lovers, at s): the words are joined for matching,
    /// and the break is kept so the analyser can still emit each word.
    pub fn word_breaks(&self) -> &[usize] {
        &self.word_breaks
    }

    /// Maps a byte range of the normalised text to the byte range of the original
    /// text it came from. Out-of-range input is clamped, never a panic.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let range = range.start.min(self.text.len())..range.end.min(self.text.len());
        if self.spans.is_empty() || range.start >= range.end {
            let at = self.original_offset(range.start);
            return at..at;
        }
        let first = self.span_at(range.start);
        let last = self.span_at(range.end.saturating_sub(1).max(range.start));
        first.orig_start..last.orig_end.max(first.orig_start)
    }

    fn original_offset(&self, norm: usize) -> usize {
        if norm >= self.text.len() {
            return self.original_len;
        }
        self.span_at(norm).orig_start
    }

    fn span_at(&self, norm: usize) -> Span {
        let index = self.spans.partition_point(|span| span.norm <= norm).saturating_sub(1);
        self.spans.get(index).copied().unwrap_or(Span { norm: 0, orig_start: 0, orig_end: 0 })
    }
}

/// Normalises `text` for search: NFKC, lowercase, Latin diacritics folded, wave dashes
/// and long-vowel marks unified, kana iteration marks expanded, middle dots removed
/// inside Japanese words, ヴ-syllables folded to バ-row, variant kanji folded to their
/// standard form, control characters and runs of white space turned into one space.
///
/// ```
/// use tokenizer_dict::normalize;
/// assert_eq!(normalize("こゝろ").as_str(), "こころ");
/// assert_eq!(normalize("Tōkyō").as_str(), "tokyo");
/// assert_eq!(normalize("新渡戶稲造").as_str(), normalize("新渡戸稲造").as_str());
/// assert_eq!(normalize("ｼｽﾃﾑ").as_str(), "システム");
/// ```
pub fn normalize(text: &str) -> Normalized {
    let mut out = Builder {
        text: String::with_capacity(text.len()),
        spans: Vec::new(),
        last: None,
        last_from_vu: false,
        pending_space: false,
        word_breaks: Vec::new(),
    };
    let groups = Groups { text, at: 0 };
    let mut groups = groups.peekable();
    let mut nfkc = String::new();
    while let Some(group) = groups.next() {
        let orig = group.start..group.start + group.text.len();
        nfkc.clear();
        // Spacing (non-combining) sound marks decompose to a space plus the combining
        // mark under NFKC; map them to the combining marks first so ｶﾞ and か゛ compose.
        nfkc.extend(group.text.chars().map(spacing_to_combining).nfkc());
        for c in nfkc.chars() {
            out.push_folded(c, orig.clone(), || {
                groups.peek().and_then(|next| next.text.chars().map(spacing_to_combining).nfkc().next())
            });
        }
    }
    let normalized =
        Normalized { text: out.text, spans: out.spans, word_breaks: out.word_breaks, original_len: text.len() };
    fold_ordinal_numerals(normalized)
}

/// Kanji numerals that count editions, volumes and the like become digits, so 広辞苑
/// 第七版 and 広辞苑 第7版 meet: a run of 〇一二三四五六七八九十百千 after 第 or before a
/// counter (版 巻 刷 号 回 部 編 集 章 条 期 冊). Elsewhere (七夕, 一人) they stay words.
fn fold_ordinal_numerals(normalized: Normalized) -> Normalized {
    const COUNTERS: &str = "版巻刷号回部編集章条期冊";
    let chars: Vec<(usize, char)> = normalized.text.char_indices().collect();
    let is_numeral = |c: char| "〇一二三四五六七八九十百千".contains(c);
    if !chars.iter().any(|(_, c)| is_numeral(*c)) {
        return normalized;
    }
    let mut text = String::with_capacity(normalized.text.len());
    let mut spans: Vec<Span> = Vec::with_capacity(normalized.spans.len());
    let mut word_breaks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let run_end =
            if is_numeral(c) { (i..chars.len()).find(|&j| !is_numeral(chars[j].1)).unwrap_or(chars.len()) } else { i };
        let counts = run_end > i
            && ((i > 0 && chars[i - 1].1 == '第')
                || chars.get(run_end).is_some_and(|(_, next)| COUNTERS.contains(*next)));
        let value = if counts { kanji_number(chars[i..run_end].iter().map(|(_, c)| *c)) } else { None };
        if let Some(value) = value {
            let end_byte = chars.get(run_end).map_or(normalized.text.len(), |(b, _)| *b);
            let orig = normalized.original_range(at..end_byte);
            spans.push(Span { norm: text.len(), orig_start: orig.start, orig_end: orig.end });
            text.push_str(&value.to_string());
            i = run_end;
            continue;
        }
        let orig = normalized.original_range(at..at + c.len_utf8());
        if normalized.word_breaks.contains(&at) {
            word_breaks.push(text.len());
        }
        match spans.last() {
            Some(last) if last.orig_start == orig.start && last.orig_end == orig.end => {}
            _ => spans.push(Span { norm: text.len(), orig_start: orig.start, orig_end: orig.end }),
        }
        text.push(c);
        i += 1;
    }
    Normalized { text, spans, word_breaks, original_len: normalized.original_len }
}

/// The value of a kanji numeral: positional (二〇二四 = 2024) or with 十百千 (百二十 = 120).
fn kanji_number(numerals: impl Iterator<Item = char>) -> Option<u64> {
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c).map(|d| d as u64);
    let numerals: Vec<char> = numerals.collect();
    if numerals.len() > 12 {
        return None;
    }
    if !numerals.iter().any(|c| "十百千".contains(*c)) {
        return numerals.iter().try_fold(0u64, |acc, c| Some(acc * 10 + digit(*c)?));
    }
    let (mut total, mut current) = (0u64, None::<u64>);
    for c in numerals {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            other => {
                if current.is_some() {
                    return None; // 二三十 is not a number
                }
                current = Some(digit(other)?);
                continue;
            }
        };
        total += current.take().unwrap_or(1) * unit;
    }
    Some(total + current.unwrap_or(0))
}

struct Builder {
    text: String,
    spans: Vec<Span>,
    last: Option<char>,
    /// The last character came from ヴ or ゔ, so a following small vowel folds into it.
    last_from_vu: bool,
    pending_space: bool,
    word_breaks: Vec<usize>,
}

impl Builder {
    fn push_folded(&mut self, c: char, orig: Range<usize>, next: impl FnOnce() -> Option<char>) {
        if c.is_whitespace() || c.is_control() {
            self.pending_space = true;
            return;
        }
        if is_format(c) {
            return;
        }
        if is_middle_dot(c) {
            // A middle dot inside a Japanese phrase (ハリー・ポッター) is dropped so the
            // phrase meets the same phrase typed without it; elsewhere it separates.
            let joins = self.last.is_some_and(is_japanese) && next().is_some_and(is_japanese);
            if joins {
                self.word_breaks.push(self.text.len());
            } else {
                self.pending_space = true;
            }
            return;
        }
        if is_apostrophe(c) {
            // Inside a romanised or English word the apostrophe goes: Shin'ichi, ALA-LC's
            // Kanʼyaku and Philosopher's meet shinichi, kanyaku and philosophers.
            let inside_word = self.last.is_some_and(|l| l.is_ascii_alphanumeric())
                && next().is_some_and(|n| n.is_alphabetic() && !is_japanese(n));
            if inside_word {
                // The parts are words too: lover's and L'affaire are found by lover and
                // affaire (the analyser emits the pieces beside the joined word).
                self.word_breaks.push(self.text.len());
            } else {
                self.push('\'', orig);
            }
            return;
        }
        let after_kana = self.last.is_some_and(kana::is_kana_or_prolonged);
        if is_long_vowel_like(c) || (after_kana && (is_wave_dash(c) || is_dash(c))) {
            if after_kana || c == 'ー' {
                self.push('ー', orig);
            } else if is_wave_dash(c) {
                self.push('~', orig);
            } else {
                self.push('-', orig);
            }
            return;
        }
        if is_wave_dash(c) {
            self.push('~', orig);
            return;
        }
        if is_dash(c) {
            self.push('-', orig);
            return;
        }
        if let Some(repeated) = self.last.and_then(|last| kana::iterate(c, last)) {
            self.push(repeated, orig);
            return;
        }
        if self.last_from_vu
            && let Some(folded) = self.last.and_then(|last| kana::fold_vu_syllable(last, c))
        {
            // ヴァ -> バ: the small vowel merges into the previous character.
            self.text.pop();
            self.text.push(folded);
            self.last = Some(folded);
            self.last_from_vu = false;
            if let Some(span) = self.spans.last_mut() {
                span.orig_end = span.orig_end.max(orig.end);
            }
            return;
        }
        if c == 'ヴ' || c == 'ゔ' {
            self.push(if c == 'ヴ' { 'ブ' } else { 'ぶ' }, orig);
            self.last_from_vu = true;
            return;
        }
        if c.is_ascii() {
            self.push(c.to_ascii_lowercase(), orig);
            return;
        }
        if let Some(standard) = variants::standard_form(c) {
            self.push(standard, orig);
            return;
        }
        if c.is_alphabetic() && !is_japanese(c) {
            // Lowercase, then fold Latin (and Greek, Cyrillic) diacritics: ō -> o, é -> e.
            for lower in c.to_lowercase() {
                for base in std::iter::once(lower).nfd().filter(|d| !is_combining_mark(*d)) {
                    self.push(base, orig.clone());
                }
            }
            return;
        }
        if is_combining_mark(c) && self.last.is_some_and(|last| !is_japanese(last)) {
            // A stray combining diacritic left after NFKC (e.g. on a letter with no
            // precomposed form) is folded away like the precomposed ones.
            return;
        }
        self.push(c, orig);
    }

    fn push(&mut self, c: char, orig: Range<usize>) {
        if self.pending_space {
            self.pending_space = false;
            if !self.text.is_empty() {
                self.push_raw(' ', orig.start..orig.start);
            }
        }
        self.push_raw(c, orig);
    }

    fn push_raw(&mut self, c: char, orig: Range<usize>) {
        let norm = self.text.len();
        match self.spans.last_mut() {
            // Several output characters of one original group share one span.
            Some(span) if span.orig_start == orig.start && span.orig_end == orig.end => {}
            _ => self.spans.push(Span { norm, orig_start: orig.start, orig_end: orig.end }),
        }
        self.text.push(c);
        self.last = Some(c);
        self.last_from_vu = false;
    }
}

/// A base character with the combining marks that follow it.
struct Group<'a> {
    start: usize,
    text: &'a str,
}

struct Groups<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for Groups<'a> {
    type Item = Group<'a>;

    fn next(&mut self) -> Option<Group<'a>> {
        let rest = self.text.get(self.at..)?;
        let mut chars = rest.char_indices();
        let (_, first) = chars.next()?;
        let mut end = first.len_utf8();
        for (offset, c) in chars {
            if is_combining_mark(c) || is_spacing_sound_mark(c) {
                end = offset + c.len_utf8();
            } else {
                break;
            }
        }
        let group = Group { start: self.at, text: &rest[..end] };
        self.at += end;
        Some(group)
    }
}

fn is_spacing_sound_mark(c: char) -> bool {
    matches!(c, '\u{309B}' | '\u{309C}' | '\u{FF9E}' | '\u{FF9F}')
}

fn spacing_to_combining(c: char) -> char {
    match c {
        '\u{309B}' | '\u{FF9E}' => '\u{3099}',
        '\u{309C}' | '\u{FF9F}' => '\u{309A}',
        other => other,
    }
}

/// Zero-width and other invisible format characters (ZWSP, ZWJ, BOM, bidi marks).
fn is_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
        || matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_middle_dot(c: char) -> bool {
    matches!(c, '\u{00B7}' | '\u{2027}' | '\u{2219}' | '\u{22C5}' | '\u{30FB}' | '\u{FF65}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{02BB}' | '\u{FF07}')
}

fn is_long_vowel_like(c: char) -> bool {
    matches!(c, 'ー' | '\u{FF70}')
}

fn is_wave_dash(c: char) -> bool {
    matches!(c, '~' | '\u{301C}' | '\u{FF5E}' | '\u{2053}' | '\u{223C}' | '\u{223E}' | '\u{3030}')
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{FF0D}' | '\u{2500}' | '\u{2501}' | '\u{FE63}' | '\u{2E3A}' | '\u{2E3B}'
    )
}

/// Kana, kanji and the marks that live inside Japanese words.
pub(crate) fn is_japanese(c: char) -> bool {
    kana::is_kana_or_prolonged(c) || is_kanji(c)
}

/// CJK ideographs (all blocks), and 々 〆 ヶ which behave like them.
pub(crate) fn is_kanji(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}'
        | '\u{3005}' | '\u{3006}' | '\u{3007}' | '\u{30F6}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_back_to_original_offsets() {
        let original = "ＩＴパスポート";
        let n = normalize(original);
        assert_eq!(n.as_str(), "itパスポート");
        // "it" (2 bytes) came from "ＩＴ" (6 bytes).
        assert_eq!(n.original_range(0..2), 0..6);
        assert_eq!(&original[n.original_range(2..n.as_str().len())], "パスポート");
    }

    #[test]
    fn composes_half_width_voiced_kana_across_groups() {
        let n = normalize("ｶﾞｲﾄﾞ");
        assert_eq!(n.as_str(), "ガイド");
        assert_eq!(n.original_range(0..3), 0..6);
    }

    #[test]
    fn collapses_white_space_and_drops_controls() {
        assert_eq!(normalize("  源氏\u{3000}\t物語\u{0007} ").as_str(), "源氏 物語");
        assert_eq!(normalize("\u{200B}吾輩\u{FEFF}").as_str(), "吾輩");
    }

    #[test]
    fn counted_kanji_numerals_become_digits() {
        assert_eq!(normalize("広辞苑 第七版").as_str(), "広辞苑 第7版");
        assert_eq!(normalize("第十二巻").as_str(), "第12巻");
        assert_eq!(normalize("百二十三号").as_str(), "123号");
        assert_eq!(normalize("二〇二四年版").as_str(), "二〇二四年版");
        assert_eq!(normalize("七夕と一人").as_str(), "七夕と一人");
        let original = "第七版";
        let n = normalize(original);
        assert_eq!(&original[n.original_range(3..4)], "七");
        assert_eq!(kanji_number("千九百八十四".chars()), Some(1984));
        assert_eq!(kanji_number("二三十".chars()), None);
    }

    #[test]
    fn empty_and_out_of_range_are_safe() {
        let n = normalize("");
        assert_eq!(n.as_str(), "");
        assert_eq!(n.original_range(0..10), 0..0);
        let n = normalize("本");
        assert_eq!(n.original_range(5..9), 3..3);
    }
}
