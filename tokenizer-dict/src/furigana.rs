//! Furigana: the reading of each run of kanji in a text, for ruby over the kanji only
//! (吾輩(わがはい)は猫(ねこ)である).
//!
//! A reading catalogued with the record (JAPAN/MARC's katakana ヨミ, Aozora's 読み) is
//! aligned to the text: kana in the text must meet the same kana in the reading (NDL
//! writes readings as pronounced and without small kana, so は meets ワ and ょ meets ヨ),
//! and each run of kanji takes what lies between. Where that leaves more than one way, the
//! dictionary's readings choose, and where they cannot, the text gets no ruby. Without a
//! catalogued reading the dictionary's readings are used only where they are likely right:
//! a run of kanji cut into single characters (病|跡|学), a word the dictionary does not
//! know, or a counter after a number whose reading depends on it (4月) gives no ruby
//! rather than a wrong one. Latin letters and digits never get ruby.

use serde::Serialize;

use crate::analyzer::{JapaneseAnalyzer, Morpheme};
use crate::error::Result;
use crate::kana::{is_kana_or_prolonged, to_hiragana};
use crate::normalize::is_kanji;

/// One piece of a text and the reading to show over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RubySegment {
    /// The text as written (the pieces joined are the whole text).
    pub text: String,
    /// Its reading in hiragana, for a piece of kanji; `None` for everything else.
    pub reading: Option<String>,
}

/// What a character is, for alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Kanji,
    Kana,
    /// Letters and digits: read aloud in a reading, never given ruby.
    Word,
    /// Spaces and punctuation: not in a reading.
    Other,
}

fn class(c: char) -> Class {
    if is_kanji(c) {
        Class::Kanji
    } else if is_kana_or_prolonged(c) {
        Class::Kana
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

/// A run of characters of one class: byte range in the text.
#[derive(Debug, Clone, Copy)]
struct Run {
    class: Class,
    start: usize,
    end: usize,
}

fn runs(text: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (at, c) in text.char_indices() {
        let k = class(c);
        match out.last_mut() {
            Some(last) if last.class == k => last.end = at + c.len_utf8(),
            _ => out.push(Run { class: k, start: at, end: at + c.len_utf8() }),
        }
    }
    out
}

/// A kana folded for comparison between a text and a reading catalogued as pronounced:
/// small kana as large, particles as pronounced (は/わ, へ/え, を/お), ぢ/じ, づ/ず, old kana
/// (ゐ/い, ゑ/え).
fn fold(c: char) -> char {
    match c {
        'ぁ' => 'あ',
        'ぃ' => 'い',
        'ぅ' => 'う',
        'ぇ' => 'え',
        'ぉ' => 'お',
        'っ' => 'つ',
        'ゃ' => 'や',
        'ゅ' => 'ゆ',
        'ょ' => 'よ',
        'ゎ' | 'は' => 'わ',
        'ゕ' => 'か',
        'ゖ' => 'け',
        'へ' => 'え',
        'を' => 'お',
        'ぢ' => 'じ',
        'づ' => 'ず',
        'ゐ' => 'い',
        'ゑ' => 'え',
        other => other,
    }
}

/// Whether a text's kana `t` may stand where the reading has `r` (both hiragana).
fn kana_meets(t: char, r: char) -> bool {
    fold(t) == fold(r) || (t == 'ー' && matches!(fold(r), 'あ' | 'い' | 'う' | 'え' | 'お' | 'ー'))
}

/// A reading as compared: NFKC-like width folding of letters and digits, hiragana, and
/// nothing but kana, letters and digits.
fn reading_chars(reading: &str) -> Vec<char> {
    to_hiragana(&crate::normalize::normalize(reading).into_string())
        .chars()
        .filter(|c| matches!(class(*c), Class::Kana | Class::Word | Class::Kanji))
        .collect()
}

/// A text's own characters for a run, as compared with a reading.
fn run_chars(text: &str, run: &Run) -> Vec<char> {
    to_hiragana(&crate::normalize::normalize(&text[run.start..run.end]).into_string()).chars().collect()
}

/// Characters a reading of one kanji takes at most (承る: うけたまわ).
const MAX_KANA_PER_KANJI: usize = 5;
/// Characters the reading of one letter or digit takes at most (43: よんじゅうさん).
const MAX_KANA_PER_WORD_CHAR: usize = 8;
/// Alignments looked at before giving up on a text as too ambiguous.
const MAX_ALIGNMENTS: usize = 64;

/// Whether a kanji's reading may start with `c` (never with a small kana, ー or ん).
fn may_start_reading(c: char) -> bool {
    !matches!(c, 'ぁ' | 'ぃ' | 'ぅ' | 'ぇ' | 'ぉ' | 'っ' | 'ゃ' | 'ゅ' | 'ょ' | 'ゎ' | 'ー' | 'ん')
}

/// Every way (up to [`MAX_ALIGNMENTS`]) of reading `runs` of `text` as `reading`: for each
/// run, the range of `reading` it takes.
fn alignments(text: &str, runs: &[Run], reading: &[char]) -> Vec<Vec<(usize, usize)>> {
    struct Search<'a> {
        text: &'a str,
        runs: &'a [Run],
        reading: &'a [char],
        own: Vec<Vec<char>>,
        dead: std::collections::HashSet<(usize, usize)>,
        path: Vec<(usize, usize)>,
        found: Vec<Vec<(usize, usize)>>,
    }
    impl Search<'_> {
        /// Returns whether any alignment was found from (run `i`, reading position `j`).
        fn go(&mut self, i: usize, j: usize) -> bool {
            if self.found.len() >= MAX_ALIGNMENTS {
                return true;
            }
            if i == self.runs.len() {
                if j == self.reading.len() {
                    self.found.push(self.path.clone());
                    return true;
                }
                return false;
            }
            if self.dead.contains(&(i, j)) {
                return false;
            }
            let run = self.runs[i];
            let rest = self.reading.len() - j;
            let mut any = false;
            match run.class {
                Class::Other => any |= self.take(i, j, j),
                Class::Kana => {
                    let own = &self.own[i];
                    if own.len() <= rest && own.iter().zip(&self.reading[j..]).all(|(t, r)| kana_meets(*t, *r)) {
                        any |= self.take(i, j, j + own.len());
                    }
                }
                Class::Kanji => {
                    let chars = self.text[run.start..run.end].chars().count();
                    if rest > 0 && may_start_reading(self.reading[j]) {
                        for n in chars..=(chars * MAX_KANA_PER_KANJI).min(rest) {
                            any |= self.take(i, j, j + n);
                        }
                    }
                }
                Class::Word => {
                    let own = &self.own[i];
                    // Written as in the text, or read aloud in kana.
                    if own.len() <= rest && own.iter().zip(&self.reading[j..]).all(|(t, r)| t == r) {
                        any |= self.take(i, j, j + own.len());
                    } else {
                        let max = (own.len() * MAX_KANA_PER_WORD_CHAR).min(rest);
                        for n in 1..=max {
                            if self.reading[j..j + n].iter().all(|c| class(*c) == Class::Kana) {
                                any |= self.take(i, j, j + n);
                            }
                        }
                    }
                }
            }
            if !any {
                self.dead.insert((i, j));
            }
            any
        }

        fn take(&mut self, i: usize, j: usize, to: usize) -> bool {
            self.path.push((j, to));
            let any = self.go(i + 1, to);
            self.path.pop();
            any
        }
    }
    let own = runs.iter().map(|run| run_chars(text, run)).collect();
    let mut search = Search { text, runs, reading, own, dead: Default::default(), path: Vec::new(), found: Vec::new() };
    search.go(0, 0);
    search.found
}

impl JapaneseAnalyzer {
    /// The ruby of `text`: pieces whose texts joined are `text`, each run of kanji with its
    /// reading in hiragana, everything else without. `catalogued` is the reading the record
    /// carries (katakana or hiragana, spaces anywhere), aligned to the text; without one
    /// the dictionary's readings are used where they are likely right. `None` when the
    /// reading is unsure, or when nothing in the text needs one: show the text without
    /// ruby then.
    ///
    /// ```
    /// let analyzer = tokenizer_dict::JapaneseAnalyzer::new()?;
    /// let ruby = analyzer.furigana("吾輩は猫である", Some("ワガハイ ワ ネコ デ アル"))?.unwrap();
    /// let pairs: Vec<_> = ruby.iter().map(|s| (s.text.as_str(), s.reading.as_deref())).collect();
    /// assert_eq!(pairs, [("吾輩", Some("わがはい")), ("は", None), ("猫", Some("ねこ")), ("である", None)]);
    /// // A run of kanji cut into single characters is not read by guesswork.
    /// assert_eq!(analyzer.furigana("病跡学ノート", None)?, None);
    /// # Ok::<(), tokenizer_dict::Error>(())
    /// ```
    pub fn furigana(&self, text: &str, catalogued: Option<&str>) -> Result<Option<Vec<RubySegment>>> {
        let runs = runs(text);
        if !runs.iter().any(|r| r.class == Class::Kanji) {
            return Ok(None);
        }
        let morphemes: Vec<Morpheme> = self.analyze(text)?.morphemes.into_iter().filter(|m| !m.compound_part).collect();
        let catalogued = catalogued.map(reading_chars).filter(|r| !r.is_empty());
        let segments = match catalogued {
            Some(reading) => aligned(text, &runs, &reading, &morphemes),
            None => from_dictionary(text, &runs, &morphemes),
        };
        Ok(segments.map(|segments| split_by_words(segments, &morphemes)))
    }
}

/// Ruby from a catalogued reading: the one alignment, or the one the dictionary agrees
/// with best.
fn aligned(text: &str, runs: &[Run], reading: &[char], morphemes: &[Morpheme]) -> Option<Vec<RubySegment>> {
    let found = alignments(text, runs, reading);
    if found.is_empty() || found.len() >= MAX_ALIGNMENTS {
        return None;
    }
    let dictionary: Vec<Option<String>> = runs.iter().map(|run| dictionary_reading(run, morphemes)).collect();
    let piece = |(from, to): (usize, usize)| reading[from..to].iter().collect::<String>();
    let agrees = |alignment: &Vec<(usize, usize)>| {
        runs.iter()
            .zip(alignment)
            .zip(&dictionary)
            .filter(|((run, range), dict)| {
                run.class == Class::Kanji && dict.as_deref().is_some_and(|d| same(d, &piece(**range)))
            })
            .count()
    };
    let best = found.iter().map(agrees).max()?;
    let mut winners = found.iter().filter(|a| agrees(a) == best);
    let winner = winners.next()?;
    if winners.next().is_some() {
        return None;
    }
    Some(
        runs.iter()
            .zip(winner)
            .zip(&dictionary)
            .map(|((run, range), dict)| {
                let reading = (run.class == Class::Kanji).then(|| {
                    // The dictionary's spelling where it says the same (small kana), else
                    // the catalogue's.
                    let from_catalogue = piece(*range);
                    match dict {
                        Some(d) if same(d, &from_catalogue) => d.clone(),
                        _ => from_catalogue,
                    }
                });
                RubySegment { text: text[run.start..run.end].to_owned(), reading }
            })
            .collect(),
    )
}

/// Whether two readings are the same but for the spelling of pronunciation.
fn same(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| kana_meets(*x, *y) || kana_meets(*y, *x))
}

/// The dictionary's reading of exactly this run of kanji, when its words cover the run and
/// no more (okurigana cut off: 読む -> 読 よ).
fn dictionary_reading(run: &Run, morphemes: &[Morpheme]) -> Option<String> {
    if run.class != Class::Kanji {
        return None;
    }
    let mut reading = String::new();
    let mut at = run.start;
    for m in morphemes.iter().filter(|m| m.end > run.start && m.start < run.end) {
        if m.start != at {
            return None;
        }
        let word_reading = m.reading.as_deref()?;
        if m.end <= run.end {
            reading.push_str(word_reading);
            at = m.end;
        } else {
            // The word runs on into kana: its reading less the kana it ends with.
            let tail: Vec<char> = to_hiragana(&m.surface[run.end - m.start..]).chars().collect();
            let chars: Vec<char> = word_reading.chars().collect();
            if tail.len() >= chars.len()
                || !chars[chars.len() - tail.len()..].iter().zip(&tail).all(|(r, t)| kana_meets(*t, *r))
            {
                return None;
            }
            reading.extend(&chars[..chars.len() - tail.len()]);
            at = run.end;
        }
    }
    (at == run.end && !reading.is_empty()).then_some(reading)
}

/// Counters whose reading after a number does not depend on the number.
const COUNTERS: &[(&str, &str)] = &[
    ("年", "ねん"),
    ("月", "がつ"),
    ("巻", "かん"),
    ("版", "はん"),
    ("号", "ごう"),
    ("回", "かい"),
    ("世紀", "せいき"),
    ("章", "しょう"),
    ("話", "わ"),
    ("集", "しゅう"),
    ("編", "へん"),
    ("歳", "さい"),
    ("部", "ぶ"),
    ("期", "き"),
    ("次", "じ"),
    ("周年", "しゅうねん"),
];

/// Ruby from the dictionary alone, where it is likely right; `None` otherwise.
fn from_dictionary(text: &str, runs: &[Run], morphemes: &[Morpheme]) -> Option<Vec<RubySegment>> {
    let mut out = Vec::new();
    for (n, run) in runs.iter().enumerate() {
        let run_text = &text[run.start..run.end];
        if run.class != Class::Kanji {
            out.push(RubySegment { text: run_text.to_owned(), reading: None });
            continue;
        }
        let after_number = n > 0
            && runs[n - 1].class == Class::Word
            && text[runs[n - 1].start..runs[n - 1].end].chars().all(|c| c.is_numeric());
        if after_number {
            // 43年 ねん, 4月 がつ: the counters whose reading the number does not change; any
            // other (4日 よっか, 1人 ひとり) gets no ruby.
            let reading = COUNTERS.iter().find(|(c, _)| *c == run_text).map(|(_, r)| (*r).to_owned())?;
            out.push(RubySegment { text: run_text.to_owned(), reading: Some(reading) });
            continue;
        }
        let words: Vec<&Morpheme> = morphemes.iter().filter(|m| m.end > run.start && m.start < run.end).collect();
        let chars = run_text.chars().count();
        // A run of kanji the dictionary cuts into a single character and more is a word it
        // does not know (病跡学 comes out やまい・あと・がく, 右衛門 みぎ・えもん) unless the
        // single character is a prefix or suffix (非|公開, 文化|的), which it reads well.
        let affix = |m: &Morpheme| m.part_of_speech.starts_with("名詞-接尾") || m.part_of_speech.starts_with("接頭詞");
        let single = |m: &Morpheme| m.surface.chars().filter(|c| is_kanji(*c)).count() == 1;
        if chars >= 2 && words.len() >= 2 && words.iter().any(|m| single(m) && !affix(m)) {
            return None;
        }
        // Unknown words, and given names, whose readings are a guess (茂吉 もきち or
        // しげよし).
        if words.iter().any(|m| m.part_of_speech == "未知語" || m.part_of_speech.contains("人名-名")) {
            return None;
        }
        let reading = dictionary_reading(run, morphemes)?;
        out.push(RubySegment { text: run_text.to_owned(), reading: Some(reading) });
    }
    Some(out)
}

/// Splits a long run of kanji at the dictionary's word boundaries where the words'
/// readings make up the run's reading (図書館戦争 -> 図書館 としょかん, 戦争 せんそう), so the
/// ruby sits over each word.
fn split_by_words(segments: Vec<RubySegment>, morphemes: &[Morpheme]) -> Vec<RubySegment> {
    let mut out = Vec::new();
    let mut at = 0;
    for segment in segments {
        let start = at;
        at += segment.text.len();
        let Some(reading) = segment.reading.as_deref() else {
            out.push(segment);
            continue;
        };
        let words: Vec<&Morpheme> =
            morphemes.iter().filter(|m| m.start >= start && m.end <= at && m.reading.is_some()).collect();
        let covered = words.first().is_some_and(|m| m.start == start)
            && words.last().is_some_and(|m| m.end == at)
            && words.windows(2).all(|w| w[0].end == w[1].start);
        let joined: String = words.iter().filter_map(|m| m.reading.as_deref()).collect();
        if words.len() < 2 || !covered || !same(&joined, reading) {
            out.push(segment);
            continue;
        }
        for m in words {
            out.push(RubySegment { text: m.surface.clone(), reading: m.reading.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ruby(text: &str, reading: Option<&str>) -> Option<Vec<(String, Option<String>)>> {
        let analyzer = JapaneseAnalyzer::new().unwrap();
        analyzer.furigana(text, reading).unwrap().map(|s| s.into_iter().map(|s| (s.text, s.reading)).collect())
    }

    fn pairs(list: &[(&str, Option<&str>)]) -> Option<Vec<(String, Option<String>)>> {
        Some(list.iter().map(|(t, r)| ((*t).to_owned(), r.map(str::to_owned))).collect())
    }

    #[test]
    fn a_catalogued_reading_is_aligned_to_the_kanji() {
        assert_eq!(
            ruby("吾輩は猫である", Some("わがはいはねこである")),
            pairs(&[("吾輩", Some("わがはい")), ("は", None), ("猫", Some("ねこ")), ("である", None)])
        );
        // NDL's style: katakana, spaces, as pronounced, no small kana; the ruby keeps the
        // dictionary's small kana where it says the same.
        assert_eq!(
            ruby("東京の歴史", Some("トウキヨウ ノ レキシ")),
            pairs(&[("東京", Some("とうきょう")), ("の", None), ("歴史", Some("れきし"))])
        );
        assert_eq!(
            ruby("これからの本の話をしよう", Some("コレカラ ノ ホン ノ ハナシ オ シヨウ")),
            pairs(&[
                ("これからの", None),
                ("本", Some("ほん")),
                ("の", None),
                ("話", Some("はなし")),
                ("をしよう", None)
            ])
        );
        // Katakana and Latin get none; the reading of a kanji run comes from the catalogue
        // even where the dictionary reads it otherwise.
        assert_eq!(
            ruby("病跡学ノート", Some("ビョウセキガク ノート")),
            pairs(&[("病跡学", Some("びょうせきがく")), ("ノート", None)])
        );
        assert_eq!(
            ruby("図書館戦争", Some("としょかんせんそう")),
            pairs(&[("図書館", Some("としょかん")), ("戦争", Some("せんそう"))])
        );
    }

    #[test]
    fn a_reading_that_does_not_fit_gives_no_ruby() {
        assert_eq!(ruby("吾輩は猫である", Some("こころ")), None);
        assert_eq!(ruby("こころ", Some("こころ")), None, "nothing to read");
    }

    #[test]
    fn the_dictionary_reads_only_where_it_is_likely_right() {
        assert_eq!(
            ruby("図書館の歴史", None),
            pairs(&[("図書館", Some("としょかん")), ("の", None), ("歴史", Some("れきし"))])
        );
        assert_eq!(ruby("病跡学ノート", None), None);
        // 昭和43年4月: 年 and 月 after a number read ねん and がつ, never つき.
        let showa = ruby("昭和43年4月", None).unwrap();
        assert!(showa.contains(&("月".to_owned(), Some("がつ".to_owned()))), "{showa:?}");
        assert!(showa.contains(&("43".to_owned(), None)), "{showa:?}");
        assert_eq!(ruby("4日の記録", None), None, "4日 is よっか: no guess");
        // English words get no reading.
        let english = ruby("English文学入門", None).unwrap();
        assert_eq!(english[0], ("English".to_owned(), None));
    }
}
