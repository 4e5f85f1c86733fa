//! The Japanese analyser: one chain for index and query.
//!
//! normalise -> morphemes (with compound parts) -> readings and romaji -> CJK bigrams and
//! unigrams -> whole-text keys. Every piece carries byte offsets into the original text.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::path::Path;

use lindera::dictionary::{Lattice, UserDictionary};
use lindera::mode::{Mode, Penalty};
use lindera::segmenter::Segmenter;
use lindera::token::Token;
use serde::Serialize;

use crate::dictionary;
use crate::error::{Error, Result};
use crate::kana::{self, Romaji};
use crate::normalize::{self, Normalized};

/// Analyses Japanese (and Western) text for search. Cheap to share across threads.
///
/// ```
/// let analyzer = tokenizer_dict::JapaneseAnalyzer::new()?;
/// let analysis = analyzer.analyze("東京都立図書館の歴史")?;
/// let library = analysis.morphemes.iter().find(|m| m.surface == "図書館").unwrap();
/// assert_eq!(library.reading.as_deref(), Some("としょかん"));
/// # Ok::<(), tokenizer_dict::Error>(())
/// ```
#[derive(Clone)]
pub struct JapaneseAnalyzer {
    normal: Segmenter,
    decompose: Segmenter,
    instance: u64,
    /// Whether text that normalises to ASCII skips the dictionary (see [`latin_morphemes`]);
    /// off with a user dictionary, which may have Latin words of its own.
    latin_shortcut: bool,
}

/// Source of [`JapaneseAnalyzer::instance_id`]s.
static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Everything the analyser found in one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// The text after search normalisation.
    pub normalized: String,
    /// Morphemes in order; compound parts follow the compound they belong to.
    pub morphemes: Vec<Morpheme>,
    /// Overlapping pairs of characters within each run of kana and kanji.
    pub bigrams: Vec<Gram>,
    /// Single kana or kanji that stand alone: one-character words and runs.
    pub unigrams: Vec<Gram>,
    /// Hiragana reading of the whole text (morpheme readings joined; words with no
    /// reading, such as Latin words, as they are).
    pub reading: String,
    /// The whole text romanised from its readings, words separated by spaces.
    pub romaji: Romaji,
    /// Keys of the whole text for exact-title (完全一致) and prefix (前方一致) search.
    pub keys: TitleKeys,
}

/// One morpheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Morpheme {
    /// The morpheme as written in the original text.
    pub surface: String,
    /// The morpheme after normalisation (what is indexed).
    pub normalized: String,
    /// Reading in hiragana, if the dictionary or the script gives one.
    pub reading: Option<String>,
    /// Romanised reading, if there is a reading.
    pub romaji: Option<Romaji>,
    /// IPADIC part of speech, e.g. `名詞-固有名詞-地域-一般` (unknown words get the
    /// class IPADIC guesses from their script, e.g. `名詞-一般` for katakana).
    pub part_of_speech: String,
    /// Byte offset of the first byte in the original text.
    pub start: usize,
    /// Byte offset one past the last byte in the original text.
    pub end: usize,
    /// Position of the word (compound parts share their compound's position).
    pub position: usize,
    /// True when this is a part of the compound morpheme just before it
    /// (関西国際空港 -> 関西, 国際, 空港).
    pub compound_part: bool,
}

/// A character n-gram with its place in the original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gram {
    /// The normalised characters.
    pub text: String,
    /// Byte offset of the first byte in the original text.
    pub start: usize,
    /// Byte offset one past the last byte in the original text.
    pub end: usize,
}

/// Whole-text keys. A 前方一致 search is a prefix match on the same keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TitleKeys {
    /// The normalised text with spaces and punctuation removed:
    /// 「チーズはどこへ消えた?」 and 「チーズはどこへ消えた？」 share one key.
    pub exact: String,
    /// The hiragana reading with spaces and punctuation removed.
    pub reading: String,
}

impl JapaneseAnalyzer {
    /// The analyser over the built-in IPADIC dictionary.
    pub fn new() -> Result<Self> {
        Self::build(None)
    }

    /// The analyser with a library's user dictionary (lindera simple CSV:
    /// `surface,part_of_speech,reading` per line, the reading in katakana).
    pub fn with_user_dictionary(path: &Path) -> Result<Self> {
        let system = dictionary::system_dictionary()?;
        let user = dictionary::load_user_dictionary(path, &system)?;
        Self::build(Some(user))
    }

    /// Like [`JapaneseAnalyzer::with_user_dictionary`], from CSV text.
    pub fn with_user_dictionary_csv(csv: &str) -> Result<Self> {
        let system = dictionary::system_dictionary()?;
        let user = dictionary::user_dictionary_from_csv(csv, &system)
            .map_err(|reason| Error::UserDictionary { path: "<inline>".into(), reason })?;
        Self::build(Some(user))
    }

    fn build(user: Option<UserDictionary>) -> Result<Self> {
        let system = dictionary::system_dictionary()?;
        let normal = Segmenter::new(Mode::Normal, system.clone(), user.clone());
        let latin_shortcut = user.is_none();
        let decompose = Segmenter::new(Mode::Decompose(Penalty::default()), system, user);
        let instance = INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Self { normal, decompose, instance, latin_shortcut })
    }

    /// The same analyser, but analysing Latin-script text through the dictionary as well,
    /// as it did before the shortcut for such text existed. The two agree on everything
    /// but the part of speech of Latin words (see [`JapaneseAnalyzer::analyze`]); this is
    /// the reference the tests hold the shortcut to.
    pub fn without_latin_shortcut(mut self) -> Self {
        self.latin_shortcut = false;
        self.instance = INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// A number no other analyser of this process has (clones share it: they analyse
    /// alike), so caches of analyses can tell analysers with different dictionaries apart.
    pub fn instance_id(&self) -> u64 {
        self.instance
    }

    /// Normalises text the way [`JapaneseAnalyzer::analyze`] does.
    pub fn normalize(&self, text: &str) -> Normalized {
        normalize::normalize(text)
    }

    /// Analyses `text`. Any string is accepted; an empty one gives an empty analysis.
    ///
    /// Text that normalises to ASCII (English titles, romanised names: most of a Western
    /// catalogue) is split into runs of letters and runs of digits without the dictionary,
    /// which is what lindera makes of it with IPADIC, three times faster. Such words are
    /// tagged 名詞-固有名詞-組織 (letters) or 名詞-数 (digits); lindera tags a few
    /// letter words 名詞-一般 by context, e.g. after a bracket.
    pub fn analyze(&self, text: &str) -> Result<Analysis> {
        let normalized = normalize::normalize(text);
        let norm = normalized.as_str();
        let mut morphemes = Vec::new();
        let mut unigrams = Vec::new();
        if self.latin_shortcut && norm.is_ascii() {
            latin_morphemes(text, &normalized, &mut morphemes);
        } else {
            self.dictionary_morphemes(text, &normalized, &mut morphemes, &mut unigrams)?;
        }
        let bigrams = bigrams(&normalized, &mut unigrams);
        let (reading, romaji) = whole_reading(&morphemes);
        let keys = TitleKeys { exact: key(norm), reading: key(&reading) };
        Ok(Analysis { normalized: normalized.into_string(), morphemes, bigrams, unigrams, reading, romaji, keys })
    }

    /// The morphemes of the normalised text by lindera, with compound parts, and the
    /// one-character Japanese words as unigrams.
    fn dictionary_morphemes(
        &self,
        text: &str,
        normalized: &Normalized,
        morphemes: &mut Vec<Morpheme>,
        unigrams: &mut Vec<Gram>,
    ) -> Result<()> {
        let mut position = 0;
        let tokens = segment(&self.normal, normalized.as_str())?;
        for mut token in tokens {
            if !token.surface.chars().any(char::is_alphanumeric) {
                continue; // punctuation and symbols are not words
            }
            let morpheme = self.morpheme(&mut token, text, normalized, position);
            let char_count = morpheme.normalized.chars().count();
            if char_count == 1 && morpheme.normalized.chars().all(normalize::is_japanese) {
                unigrams.push(Gram { text: morpheme.normalized.clone(), start: morpheme.start, end: morpheme.end });
            }
            let is_noun = morpheme.part_of_speech.starts_with("名詞") || morpheme.part_of_speech == UNKNOWN;
            let (start_norm, end_norm) = (token.byte_start, token.byte_end);
            morphemes.push(morpheme);
            let breaks: Vec<usize> =
                normalized.word_breaks().iter().copied().filter(|b| (start_norm + 1..end_norm).contains(b)).collect();
            if !breaks.is_empty() {
                // Words joined by a dropped middle dot are also emitted one by one.
                let mut from = start_norm;
                for to in breaks.into_iter().chain(std::iter::once(end_norm)) {
                    let piece = from..to;
                    self.push_parts(&self.normal, text, normalized, piece, position, morphemes)?;
                    from = to;
                }
            } else if is_noun && char_count >= 3 {
                let compound = start_norm..end_norm;
                self.push_compound_parts(text, normalized, compound, position, morphemes)?;
            }
            position += 1;
        }
        Ok(())
    }

    /// Splits a compound noun with lindera's decompose mode; emits the parts if it splits.
    fn push_compound_parts(
        &self,
        original: &str,
        normalized: &Normalized,
        range: Range<usize>,
        position: usize,
        morphemes: &mut Vec<Morpheme>,
    ) -> Result<()> {
        let before = morphemes.len();
        self.push_parts(&self.decompose, original, normalized, range, position, morphemes)?;
        if morphemes.len() == before + 1 {
            morphemes.truncate(before); // the only part is the compound itself
        }
        Ok(())
    }

    /// Segments `range` of the normalised text and pushes its words as compound parts.
    fn push_parts(
        &self,
        segmenter: &Segmenter,
        original: &str,
        normalized: &Normalized,
        range: Range<usize>,
        position: usize,
        morphemes: &mut Vec<Morpheme>,
    ) -> Result<()> {
        let Some(piece) = normalized.as_str().get(range.clone()) else {
            return Ok(());
        };
        let parts = segment(segmenter, piece)?;
        for mut part in parts {
            if !part.surface.chars().any(char::is_alphanumeric) {
                continue;
            }
            part.byte_start += range.start;
            part.byte_end += range.start;
            let mut morpheme = self.morpheme(&mut part, original, normalized, position);
            morpheme.compound_part = true;
            morphemes.push(morpheme);
        }
        Ok(())
    }

    fn morpheme(&self, token: &mut Token<'_>, original: &str, normalized: &Normalized, position: usize) -> Morpheme {
        let orig = normalized.original_range(token.byte_start..token.byte_end);
        let surface = original.get(orig.clone()).unwrap_or_default().to_string();
        let norm_surface = token.surface.to_string();
        let details = token.details();
        let field = |index: usize| details.get(index).copied().filter(|value| *value != "*" && !value.is_empty());
        let parts: Vec<&str> = (0..4).filter_map(field).filter(|part| *part != "UNK").collect();
        let part_of_speech = if parts.is_empty() { UNKNOWN.to_string() } else { parts.join("-") };
        // IPADIC prefers にっぽん for 日本; catalogues (NDL, LC) read にほん.
        let (reading_field, pronunciation_field) = match preferred_reading(&norm_surface) {
            Some(preferred) => (Some(preferred), Some(preferred)),
            None => (field(7), field(8)),
        };
        let kana_only = !norm_surface.is_empty() && norm_surface.chars().all(kana::is_kana_or_prolonged);
        let reading = reading_field
            .filter(|reading| reading.chars().all(kana::is_kana_or_prolonged))
            .map(kana::to_hiragana)
            .or_else(|| kana_only.then(|| kana::to_hiragana(&norm_surface)));
        let pronunciation = pronunciation_field.filter(|p| p.chars().all(kana::is_kana_or_prolonged));
        let romaji = reading.as_deref().map(|reading| kana::romanize(reading, pronunciation));
        Morpheme {
            surface,
            normalized: norm_surface,
            reading,
            romaji,
            part_of_speech,
            start: orig.start,
            end: orig.end,
            position,
            compound_part: false,
        }
    }
}

const UNKNOWN: &str = "未知語";

/// The morphemes of a text whose normalised form is ASCII, as lindera finds them with
/// IPADIC, which has no half-width Latin entries: each run of letters and each run of
/// digits is one unknown word, anything else is no word. Words joined by a dropped
/// apostrophe are also emitted part by part, as in [`JapaneseAnalyzer::analyze`]; no
/// Latin word has compound parts (decompose mode never splits one: checked over the
/// 1.7 million texts of LC Books All 2016 part 01).
fn latin_morphemes(original: &str, normalized: &Normalized, morphemes: &mut Vec<Morpheme>) {
    #[derive(PartialEq)]
    enum Class {
        Letter,
        Digit,
        Other,
    }
    let class = |b: u8| match b {
        b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
        b'0'..=b'9' => Class::Digit,
        _ => Class::Other,
    };
    let norm = normalized.as_str();
    let bytes = norm.as_bytes();
    let mut position = 0;
    let mut start = 0;
    while start < bytes.len() {
        let kind = class(bytes[start]);
        let mut end = start + 1;
        if kind == Class::Other {
            start = end;
            continue;
        }
        while end < bytes.len() && class(bytes[end]) == kind {
            end += 1;
        }
        let part_of_speech = if kind == Class::Digit { "名詞-数" } else { "名詞-固有名詞-組織" };
        let word = |range: Range<usize>, compound_part: bool| {
            let orig = normalized.original_range(range.clone());
            Morpheme {
                surface: original.get(orig.clone()).unwrap_or_default().to_string(),
                normalized: norm[range].to_string(),
                reading: None,
                romaji: None,
                part_of_speech: part_of_speech.to_string(),
                start: orig.start,
                end: orig.end,
                position,
                compound_part,
            }
        };
        morphemes.push(word(start..end, false));
        let mut from = start;
        let breaks = normalized.word_breaks().iter().copied().filter(|b| (start + 1..end).contains(b));
        for to in breaks.chain(std::iter::once(end)) {
            if from == start && to == end {
                break; // no break inside: the word has no parts
            }
            if to > from {
                morphemes.push(word(from..to, true));
            }
            from = to;
        }
        position += 1;
        start = end;
    }
}

/// Readings where catalogues disagree with IPADIC's cheapest entry.
fn preferred_reading(word: &str) -> Option<&'static str> {
    match word {
        "日本" => Some("ニホン"),
        _ => None,
    }
}

thread_local! {
    /// The Viterbi lattice, reused across calls on this thread instead of reallocated.
    static LATTICE: RefCell<Lattice> = RefCell::new(Lattice::default());
}

fn segment<'a>(segmenter: &'a Segmenter, text: &'a str) -> Result<Vec<Token<'a>>> {
    LATTICE
        .with_borrow_mut(|lattice| segmenter.segment_with_lattice(Cow::Borrowed(text), lattice))
        .map_err(|err| Error::Segmentation(err.to_string()))
}

/// Bigrams over each run of kana and kanji; a run of one character is a unigram.
///
/// Runs separated only by spaces are also bridged by the bigram of the last character
/// before the space and the first after it: catalogues (LC above all) space Japanese
/// words (「仮屋坂 遺跡 発掘」), patrons type them run together, and the bridge gives the
/// spaced text every bigram the unspaced one has, at the same positions. Unigrams stay per
/// run, so 「城 下町」 still has the one-character word 城.
fn bigrams(normalized: &Normalized, unigrams: &mut Vec<Gram>) -> Vec<Gram> {
    let norm = normalized.as_str();
    let mut grams = Vec::new();
    let mut run: Vec<(usize, char)> = Vec::new();
    // The last character of the run before the spaces just read, if only spaces followed it.
    let mut bridge_from: Option<(usize, char)> = None;
    let pair = |(at, first): (usize, char), (second_at, second): (usize, char)| {
        let orig = normalized.original_range(at..second_at + second.len_utf8());
        Gram { text: [first, second].iter().collect(), start: orig.start, end: orig.end }
    };
    let mut flush = |run: &mut Vec<(usize, char)>, grams: &mut Vec<Gram>| {
        if run.len() == 1 {
            let (at, c) = run[0];
            let orig = normalized.original_range(at..at + c.len_utf8());
            if !unigrams.iter().any(|u| u.start == orig.start) {
                unigrams.push(Gram { text: c.to_string(), start: orig.start, end: orig.end });
            }
        }
        for window in run.windows(2) {
            grams.push(pair(window[0], window[1]));
        }
        run.clear();
    };
    for (at, c) in norm.char_indices() {
        if normalize::is_japanese(c) {
            if let Some(from) = bridge_from.take() {
                grams.push(pair(from, (at, c)));
            }
            run.push((at, c));
        } else {
            if c.is_whitespace() {
                if let Some(&last) = run.last() {
                    bridge_from = Some(last);
                }
            } else {
                bridge_from = None;
            }
            flush(&mut run, &mut grams);
        }
    }
    flush(&mut run, &mut grams);
    grams
}

fn whole_reading(morphemes: &[Morpheme]) -> (String, Romaji) {
    let mut reading = String::new();
    let mut romaji = Romaji::default();
    let mut geminate = false;
    for morpheme in morphemes.iter().filter(|m| !m.compound_part) {
        // Auxiliary verbs and conjunctive particles join the word before, as library
        // romanisation writes them (しよ+う -> shiyo, やっ+て -> yatte, 暮らせ+ば -> kuraseba);
        // the copula stays apart (de aru).
        let pos = morpheme.part_of_speech.as_str();
        let joins = (pos.starts_with("助動詞") || pos.starts_with("助詞-接続助詞"))
            && !matches!(morpheme.normalized.as_str(), "だ" | "で" | "です" | "な" | "ある")
            && !romaji.hepburn.is_empty();
        if !romaji.hepburn.is_empty() && !joins {
            romaji.hepburn.push(' ');
            romaji.wapuro.push(' ');
        }
        match (&morpheme.reading, &morpheme.romaji) {
            (Some(r), Some(roman)) => {
                reading.push_str(r);
                // A word-final っ doubles the next consonant (やっ+て -> yatte).
                if std::mem::take(&mut geminate)
                    && let Some(first) = roman.hepburn.chars().next().filter(|c| !"aiueon".contains(*c))
                {
                    let hepburn_double = if roman.hepburn.starts_with("ch") { 't' } else { first };
                    romaji.hepburn.push(hepburn_double);
                    romaji.wapuro.push(roman.wapuro.chars().next().unwrap_or(first));
                }
                // The volitional う after an o-sound lengthens it: written once in Hepburn.
                let long_vowel = joins && roman.hepburn == "u" && romaji.hepburn.ends_with('o');
                if !long_vowel {
                    romaji.hepburn.push_str(&roman.hepburn);
                }
                romaji.wapuro.push_str(&roman.wapuro);
                geminate = r.ends_with('っ');
            }
            _ => {
                geminate = false;
                reading.push_str(&morpheme.normalized);
                romaji.hepburn.push_str(&morpheme.normalized);
                romaji.wapuro.push_str(&morpheme.normalized);
            }
        }
    }
    (reading, romaji)
}

/// The text with everything but letters, digits and ー removed.
fn key(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric() || *c == 'ー').collect()
}
