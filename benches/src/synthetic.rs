//! The deterministic generator of synthetic bibliographic records: the 1M-record corpus of
//! DESIGN.md's performance budgets, made from the words of real titles.
//!
//! The words come from real catalogues, weighted by how often they occur: Japanese nouns
//! and the particles between them from the Aozora Bunko titles and the LC vernacular
//! titles (with their readings), English words from the 245s of LC records catalogued in
//! English, and real LC names, subjects, places and publishers ([`LcVocabulary`], read
//! from a tenant into which the LC files were imported). [`Generator`] combines them into
//! records with a fixed-seed xorshift64, so record `n` is the same on every run and every
//! machine, and the first `k` records of a run of any length are the same `k` records.
//! The search bench indexes these records (`SHIORI_BENCH_1M=1`) and the `generate` command
//! writes them to a MARC file; both draw on the same vocabulary, so they hold the same
//! records.
//!
//! A record is 60% likely to be Japanese: a JAPAN/MARC-style vernacular 245 (noun phrases
//! joined by particles, 東京の猫と歴史) with its katakana reading in an 880, an LC
//! vernacular name in 100, Japanese subjects and publisher. The rest are English: 2-8
//! title words, sometimes a subtitle, an LC name, LC subjects, place and publisher. Every
//! record has 001/003/008, a valid ISBN-13 in 020, an NDC number with `$2 njb9` in 084 and
//! a year from 1900 to 2025, skewed towards recent years, in 260.

use std::fmt::Write as _;

use catalogue::{Catalogue, Field, Record, Subfield, Tag};
use tokenizer_dict::JapaneseAnalyzer;

/// The seed of the synthetic corpus. Changing it changes every record, and makes figures
/// measured on the corpus incomparable with earlier ones.
pub const SEED: u64 = 0x5410_21B0_0C5E_ED01;

/// Share of Japanese records, in percent (the rest is English).
pub const JAPANESE_PERCENT: u64 = 60;

/// xorshift64 (Marsaglia, 2003): deterministic sampling with no `rand` dependency, so the
/// corpus and the queries are the same on every run and every machine.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is taken as 1: xorshift has no zero state).
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// An element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Real text of the LC corpus the generator draws on, one entry per occurrence.
#[derive(Default)]
pub struct LcVocabulary {
    /// 245 $a $b of records catalogued in English (008/35-37).
    pub english_titles: Vec<String>,
    /// 100 $a.
    pub names: Vec<String>,
    /// 650 $a.
    pub subjects: Vec<String>,
    /// 260/264 $a.
    pub places: Vec<String>,
    /// 260/264 $b.
    pub publishers: Vec<String>,
    /// Vernacular 880s linked to 100.
    pub japanese_names: Vec<String>,
    /// Vernacular 880s linked to 260/264 $b.
    pub japanese_publishers: Vec<String>,
}

/// The LC vocabulary of a tenant's records, read in bib id order (the order matters: the
/// generator picks entries by position).
pub fn lc_vocabulary(catalogue: &Catalogue) -> anyhow::Result<LcVocabulary> {
    let mut vocabulary = LcVocabulary::default();
    let mut after = None;
    loop {
        let page = catalogue.bibs_after(after, 5_000)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for bib in &page {
            let Ok(record) = bib.record() else { continue };
            let english = record.control_value("008").and_then(|f| f.get(35..38)) == Some("eng");
            for field in &record.fields {
                let push = |list: &mut Vec<String>, text: String| {
                    if !text.is_empty() {
                        list.push(text);
                    }
                };
                match field.tag().as_str() {
                    "245" if english => push(&mut vocabulary.english_titles, field.text(&['a', 'b'])),
                    "100" => push(&mut vocabulary.names, field.text(&['a'])),
                    "650" => push(&mut vocabulary.subjects, field.text(&['a'])),
                    "260" | "264" => {
                        push(&mut vocabulary.places, field.text(&['a']));
                        push(&mut vocabulary.publishers, field.text(&['b']));
                    }
                    "880" => {
                        let link = field.subfield_values('6').next().unwrap_or_default();
                        if link.starts_with("100") {
                            push(&mut vocabulary.japanese_names, field.text(&['a']));
                        } else if link.starts_with("260") || link.starts_with("264") {
                            push(&mut vocabulary.japanese_publishers, field.text(&['b']));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(vocabulary)
}

/// The Japanese titles the generator's nouns and particles come from: the Aozora Bunko
/// titles, then the LC vernacular titles given (from [`crate::lc_vernacular_titles`]), in
/// that order.
pub fn japanese_titles(lc_vernacular: Vec<String>) -> anyhow::Result<Vec<String>> {
    Ok(crate::aozora_titles()?.into_iter().chain(lc_vernacular).collect())
}

/// Words of real titles, frequency-weighted (a word appears once per occurrence), which
/// the generator combines into records.
pub struct Vocabulary {
    /// Japanese nouns with their readings in katakana (or the surface, for Latin words).
    pub nouns: Vec<(String, String)>,
    /// Particles joining nouns in titles (の, と, に …), with readings.
    pub particles: Vec<(String, String)>,
    /// Words of English titles.
    pub english_words: Vec<String>,
    /// Personal names (100 $a).
    pub names: Vec<String>,
    /// Vernacular personal names.
    pub japanese_names: Vec<String>,
    /// Subject headings (650 $a).
    pub subjects: Vec<String>,
    /// Publishers (260/264 $b).
    pub publishers: Vec<String>,
    /// Vernacular publishers.
    pub japanese_publishers: Vec<String>,
    /// Places of publication (260/264 $a).
    pub places: Vec<String>,
}

fn katakana(hiragana: &str) -> String {
    hiragana
        .chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn or_fallback(list: Vec<String>, fallback: &[&str]) -> Vec<String> {
    if list.is_empty() { fallback.iter().map(|s| s.to_string()).collect() } else { list }
}

/// Letters and digits only: a word, not punctuation or a space.
pub fn is_word(text: &str) -> bool {
    !text.is_empty() && text.chars().all(char::is_alphanumeric)
}

/// The generator's vocabulary: nouns and particles of `japanese_titles` (see
/// [`japanese_titles`]) as the analyser segments them, and the LC words. A list that comes
/// out empty (a tiny corpus) gets a word or two so that the generator can always pick.
pub fn vocabulary(analyzer: &JapaneseAnalyzer, lc: LcVocabulary, japanese_titles: &[String]) -> Vocabulary {
    let mut nouns = Vec::new();
    let mut particles = Vec::new();
    for title in japanese_titles {
        let Ok(analysis) = analyzer.analyze(title) else { continue };
        for m in analysis.morphemes.iter().filter(|m| !m.compound_part && is_word(&m.surface)) {
            let reading = katakana(m.reading.as_deref().unwrap_or(&m.surface));
            if m.part_of_speech.starts_with("名詞") && !m.part_of_speech.contains("非自立") {
                nouns.push((m.surface.clone(), reading));
            } else if m.part_of_speech.starts_with("助詞-連体化") || m.part_of_speech.starts_with("助詞-並立助詞")
            {
                particles.push((m.surface.clone(), reading));
            }
        }
    }
    if particles.is_empty() {
        particles.push(("の".to_string(), "ノ".to_string()));
    }
    let english_words: Vec<String> = lc
        .english_titles
        .iter()
        .flat_map(|t| t.split_whitespace())
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_string())
        .filter(|w| !w.is_empty())
        .collect();
    Vocabulary {
        nouns,
        particles,
        english_words: or_fallback(english_words, &["library", "history", "Japan"]),
        names: or_fallback(lc.names, &["Smith, John"]),
        japanese_names: or_fallback(lc.japanese_names, &["夏目漱石"]),
        subjects: or_fallback(lc.subjects, &["Libraries"]),
        publishers: or_fallback(lc.publishers, &["Penguin"]),
        japanese_publishers: or_fallback(lc.japanese_publishers, &["岩波書店"]),
        places: or_fallback(lc.places, &["New York"]),
    }
}

fn tag(bytes: &[u8; 3]) -> Tag {
    match Tag::new(*bytes) {
        Some(tag) => tag,
        None => panic!("invalid tag {bytes:?}"),
    }
}

fn control(t: &[u8; 3], value: String) -> Field {
    Field::Control { tag: tag(t), value }
}

fn data(t: &[u8; 3], ind1: char, ind2: char, subfields: &[(char, &str)]) -> Field {
    Field::Data {
        tag: tag(t),
        ind1,
        ind2,
        subfields: subfields.iter().map(|&(code, value)| Subfield { code, value: value.to_string() }).collect(),
    }
}

/// A valid ISBN-13 from a prefix (`9784` Japan, `9780` English) and a serial number.
fn isbn13(prefix: &str, serial: u64) -> String {
    let mut isbn =
        format!("{prefix}{:0width$}", serial % 10u64.pow(12 - prefix.len() as u32), width = 12 - prefix.len());
    let sum: u32 = isbn.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    isbn.push(char::from(b'0' + ((10 - sum % 10) % 10) as u8));
    isbn
}

/// A Japanese title: noun phrases joined by particles (東京の猫と歴史), with its reading.
fn japanese_title(v: &Vocabulary, rng: &mut XorShift) -> (String, String) {
    let (mut title, mut reading) = (String::new(), String::new());
    let phrases = 1 + rng.below(3);
    for phrase in 0..phrases {
        if phrase > 0 {
            let (surface, kana) = rng.pick(&v.particles);
            title.push_str(surface);
            reading.push_str(kana);
        }
        for _ in 0..1 + rng.below(2) {
            let (surface, kana) = rng.pick(&v.nouns);
            title.push_str(surface);
            reading.push_str(kana);
        }
    }
    (title, reading)
}

/// `least` to `least + spread - 1` words.
fn english_title(v: &Vocabulary, rng: &mut XorShift, least: usize, spread: usize) -> String {
    let words = least + rng.below(spread);
    let mut title: Vec<&str> = Vec::with_capacity(words);
    for _ in 0..words {
        title.push(rng.pick(&v.english_words).as_str());
    }
    title.join(" ")
}

/// One generated record.
pub struct SyntheticRecord {
    /// Its number, from 1 (its 001 is `SYN` and the number in 8 digits).
    pub n: u64,
    /// The record.
    pub record: Record,
    /// Its title proper (245 $a), for sampling queries.
    pub title: String,
    /// Whether it is one of the Japanese records.
    pub japanese: bool,
}

/// Synthetic record `n`: 001/003/008, 020 (valid ISBN), 084 NDC ($2 njb9), 100, 245 (and a
/// katakana reading in 880, JAPAN/MARC style, for Japanese records), 260 with the year,
/// 650.
fn synthetic_record(v: &Vocabulary, rng: &mut XorShift, n: u64) -> SyntheticRecord {
    let japanese = rng.chance(JAPANESE_PERCENT);
    let year = 2025 - rng.below(126).min(rng.below(126));
    let (lang, place_code) = if japanese { ("jpn", "ja ") } else { ("eng", "nyu") };
    let field008 = format!("260101s{year}    {place_code}           000 0 {lang} d");
    debug_assert_eq!(field008.len(), 40);
    let isbn = isbn13(if japanese { "9784" } else { "9780" }, n);
    let class = rng.below(10);
    let mut ndc = format!("{class}{}{}", rng.below(10), rng.below(10));
    if rng.chance(50) {
        let _ = write!(ndc, ".{}", rng.below(10));
    }
    let year = year.to_string();
    let mut fields = vec![
        control(b"001", format!("SYN{n:08}")),
        control(b"003", "ShioriBench".to_string()),
        control(b"008", field008),
        data(b"020", ' ', ' ', &[('a', &isbn)]),
        data(b"084", ' ', ' ', &[('a', &ndc), ('2', "njb9")]),
    ];
    let title = if japanese {
        let (main, reading) = japanese_title(v, rng);
        let author = rng.pick(&v.japanese_names);
        fields.push(data(b"100", '1', ' ', &[('a', author)]));
        if reading.chars().all(|c| tokenizer_dict::is_katakana(c) || c.is_ascii_alphanumeric()) {
            fields.push(data(b"245", '1', '0', &[('6', "880-01"), ('a', &main), ('c', author)]));
            fields.push(data(b"880", '1', '0', &[('6', "245-01/$1"), ('a', &reading)]));
        } else {
            fields.push(data(b"245", '1', '0', &[('a', &main), ('c', author)]));
        }
        let publisher = rng.pick(&v.japanese_publishers);
        let place = *rng.pick(&["東京", "大阪", "京都", "名古屋", "横浜", "札幌", "福岡", "仙台"]);
        fields.push(data(b"260", ' ', ' ', &[('a', place), ('b', publisher), ('c', &year)]));
        for _ in 0..rng.below(3) {
            let (subject, _) = rng.pick(&v.nouns);
            fields.push(data(b"650", ' ', '7', &[('a', subject), ('2', "ndlsh")]));
        }
        main
    } else {
        let main = english_title(v, rng, 2, 7);
        let author = rng.pick(&v.names);
        fields.push(data(b"100", '1', ' ', &[('a', author)]));
        if rng.chance(25) {
            let subtitle = english_title(v, rng, 2, 5);
            fields.push(data(b"245", '1', '0', &[('a', &main), ('b', &subtitle)]));
        } else {
            fields.push(data(b"245", '1', '0', &[('a', &main)]));
        }
        let (place, publisher) = (rng.pick(&v.places), rng.pick(&v.publishers));
        fields.push(data(b"260", ' ', ' ', &[('a', place), ('b', publisher), ('c', &year)]));
        for _ in 0..1 + rng.below(3) {
            fields.push(data(b"650", ' ', '0', &[('a', rng.pick(&v.subjects).as_str())]));
        }
        main
    };
    let record = Record { leader: "00000cam a2200000 i 4500".to_string(), fields };
    SyntheticRecord { n, record, title, japanese }
}

/// The synthetic records 1, 2, 3 … from [`SEED`], without end: `take` as many as wanted.
pub struct Generator<'a> {
    vocabulary: &'a Vocabulary,
    rng: XorShift,
    n: u64,
}

impl<'a> Generator<'a> {
    /// The generator at record 1.
    pub fn new(vocabulary: &'a Vocabulary) -> Generator<'a> {
        Generator { vocabulary, rng: XorShift::new(SEED), n: 0 }
    }
}

impl Iterator for Generator<'_> {
    type Item = SyntheticRecord;

    fn next(&mut self) -> Option<SyntheticRecord> {
        self.n += 1;
        Some(synthetic_record(self.vocabulary, &mut self.rng, self.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_vocabulary() -> Vocabulary {
        let words = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let pairs = |list: &[(&str, &str)]| list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        Vocabulary {
            nouns: pairs(&[("東京", "トウキョウ"), ("猫", "ネコ"), ("歴史", "レキシ"), ("図書館", "トショカン")]),
            particles: pairs(&[("の", "ノ"), ("と", "ト")]),
            english_words: words(&["library", "history", "of", "Japan", "cats"]),
            names: words(&["Smith, John", "Doe, Jane"]),
            japanese_names: words(&["夏目, 漱石", "森, 鴎外"]),
            subjects: words(&["Libraries", "Cats"]),
            publishers: words(&["Penguin"]),
            japanese_publishers: words(&["岩波書店"]),
            places: words(&["New York"]),
        }
    }

    #[test]
    fn the_first_records_of_any_run_are_the_same() {
        let v = small_vocabulary();
        let long: Vec<Record> = Generator::new(&v).take(200).map(|s| s.record).collect();
        let short: Vec<Record> = Generator::new(&v).take(50).map(|s| s.record).collect();
        assert_eq!(&long[..50], &short[..]);
        assert_eq!(long[0].control_number(), Some("SYN00000001"));
    }

    #[test]
    fn records_are_valid_and_mixed() {
        let v = small_vocabulary();
        let records: Vec<SyntheticRecord> = Generator::new(&v).take(1_000).collect();
        let japanese = records.iter().filter(|s| s.japanese).count();
        assert!((500..700).contains(&japanese), "{japanese} Japanese records of 1,000");
        for s in &records {
            let isbn = s.record.fields_with_tag("020").flat_map(|f| f.subfield_values('a')).next();
            assert!(isbn.and_then(catalogue::isbn13).is_some(), "record {}: ISBN {isbn:?}", s.n);
            let lang = s.record.control_value("008").and_then(|f| f.get(35..38));
            assert_eq!(lang, Some(if s.japanese { "jpn" } else { "eng" }));
        }
    }
}
