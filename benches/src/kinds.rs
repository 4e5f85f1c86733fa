//! Query sets by kind (issue #8): for each way a patron looks for a book they know, queries
//! drawn deterministically from a tenant's own records, so that every query is about a
//! record the tenant holds. The search bench times each set on its own.
//!
//! A set is sampled by drawing bib ids with a fixed-seed xorshift64, reading the record
//! and turning it into the query of the kind (or skipping it when it has nothing for that
//! kind); duplicates and texts the query parser refuses are skipped. The same catalogue
//! (bib ids are given in import order) and seed give the same queries.
//!
//! Records are read as the catalogue keeps them, in both Japanese styles: LC romanises
//! 245 and puts the vernacular in an 880; JAPAN/MARC (and the synthetic corpus) has the
//! vernacular in 245 and its katakana reading in an 880.

use std::collections::BTreeSet;

use catalogue::{Catalogue, Field, Record, trim_isbd};
use tokenizer_dict::JapaneseAnalyzer;

use crate::synthetic::XorShift;
use crate::typed::{
    as_typed, family_name, hyphenated_isbn13, is_kanji, isbn10, key, reading_as_typed, romanised_query,
};

/// A kind of known-item query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The title proper (245 $a, the vernacular one for Japanese records) as typed: without
    /// what cataloguers add in brackets, and for Japanese without the spaces LC puts
    /// between words. Half from Japanese records, half from the others.
    Title,
    /// `author:` and the main entry's family name (100 $a, the vernacular 880 for LC's
    /// Japanese records): `author:Smith`, `author:夏目`. Half Japanese, half not.
    Author,
    /// `subject:` and the words of one of the record's subject headings (650 $a):
    /// `subject:(Japanese literature)`.
    Subject,
    /// One kanji that is a whole title or a noun of a Japanese title: 城, 猫.
    OneCharacter,
    /// The reading of a Japanese title proper in hiragana, without spaces: the catalogued
    /// reading (880 in katakana) when the record has one, else the analyser's reading of the
    /// title (LC records carry no readings).
    Hiragana,
    /// The romanised title proper of a Japanese record in lower case without macrons: LC's
    /// 245 (or a JAPAN/MARC 880 `/(B`), else the analyser's Hepburn romanisation of the
    /// title (the synthetic records carry none).
    Romaji,
    /// An ISBN of the record: alternately the hyphenated ISBN-13 and the ISBN-10 digits.
    Isbn,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 7] =
        [Kind::Title, Kind::Author, Kind::Subject, Kind::OneCharacter, Kind::Hiragana, Kind::Romaji, Kind::Isbn];

    /// The kind's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Title => "title",
            Kind::Author => "author",
            Kind::Subject => "subject",
            Kind::OneCharacter => "one-character",
            Kind::Hiragana => "hiragana",
            Kind::Romaji => "romaji",
            Kind::Isbn => "isbn",
        }
    }

    /// Whether only Japanese records have queries of this kind.
    fn japanese_only(self) -> bool {
        matches!(self, Kind::OneCharacter | Kind::Hiragana | Kind::Romaji)
    }

    /// Whether the set is half Japanese, half not.
    fn balanced(self) -> bool {
        matches!(self, Kind::Title | Kind::Author)
    }
}

/// One query of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindQuery {
    /// What the patron types.
    pub text: String,
    /// The bib id of the record it was made from.
    pub bib_id: u64,
    /// Whether that record is in Japanese (008/35-37 `jpn`).
    pub japanese: bool,
}

/// Draws at most this many records per query wanted before giving up on a set: Japanese
/// records are 3% of the LC corpus.
const DRAWS_PER_QUERY: usize = 400;

/// Up to `count` distinct queries of `kind` from the records of `catalogue`, which holds
/// records with dense bib ids from 1 (a tenant that has only been appended to).
pub fn sample(
    catalogue: &Catalogue,
    analyzer: &JapaneseAnalyzer,
    kind: Kind,
    count: usize,
    seed: u64,
) -> anyhow::Result<Vec<KindQuery>> {
    let bibs = catalogue.len()? as usize;
    let mut rng = XorShift::new(seed);
    let mut seen = BTreeSet::new();
    let mut queries = Vec::with_capacity(count);
    let japanese_wanted = if kind.balanced() { count / 2 } else { count };
    let mut japanese_found = 0;
    for _ in 0..count * DRAWS_PER_QUERY {
        if queries.len() == count || bibs == 0 {
            break;
        }
        let bib_id = 1 + rng.below(bibs) as u64;
        let Some(stored) = catalogue.get(bib_id)? else { continue };
        let Ok(record) = stored.record() else { continue };
        let japanese = record.control_value("008").and_then(|f| f.get(35..38)) == Some("jpn");
        if kind.japanese_only() && !japanese {
            continue;
        }
        if kind.balanced() {
            let full = if japanese {
                japanese_found >= japanese_wanted
            } else {
                queries.len() - japanese_found >= count - japanese_wanted
            };
            if full {
                continue;
            }
        }
        let Some(text) = query_of(kind, &record, japanese, analyzer, &mut rng, queries.len())? else { continue };
        if indexer::parse_query(&text).is_err() || !seen.insert(text.clone()) {
            continue;
        }
        japanese_found += usize::from(japanese);
        queries.push(KindQuery { text, bib_id, japanese });
    }
    Ok(queries)
}

/// The query of `kind` a patron looking for `record` types, if the record has what it
/// takes. `made` is the number of queries of the set made so far (ISBN forms alternate).
fn query_of(
    kind: Kind,
    record: &Record,
    japanese: bool,
    analyzer: &JapaneseAnalyzer,
    rng: &mut XorShift,
    made: usize,
) -> anyhow::Result<Option<String>> {
    Ok(match kind {
        Kind::Title => title_proper(record).map(|t| if japanese { unspaced(&t) } else { t }).filter(|t| {
            let words = t.split_whitespace().count();
            words <= 12 && t.chars().count() <= 80 && !key(t).is_empty()
        }),
        Kind::Author => {
            let name = if japanese { alternate(record, "100", Alternate::Vernacular) } else { None }
                .or_else(|| first_subfield(record, "100", 'a'));
            match name {
                Some(name) => field_query("author", &family_name(analyzer, &name)?),
                None => None,
            }
        }
        Kind::Subject => {
            let headings: Vec<String> = record
                .fields_with_tag("650")
                .filter_map(|f| f.subfield_values('a').next())
                .map(|a| trim_isbd(a).to_string())
                .filter(|a| a.split_whitespace().count() <= 8)
                .collect();
            if headings.is_empty() {
                None
            } else {
                let heading: &String = rng.pick(&headings);
                field_query("subject", heading)
            }
        }
        Kind::OneCharacter => {
            let Some(title) = title_proper(record) else { return Ok(None) };
            let whole = key(&title);
            let mut chars = whole.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return Ok(is_kanji(c).then(|| c.to_string()));
            }
            let analysis = analyzer.analyze(&title)?;
            let kanji: Vec<String> = analysis
                .morphemes
                .iter()
                .filter(|m| !m.compound_part && is_noun(&m.part_of_speech))
                .filter(|m| {
                    let mut chars = m.surface.chars();
                    matches!((chars.next(), chars.next()), (Some(c), None) if is_kanji(c))
                })
                .map(|m| m.surface.clone())
                .collect();
            if kanji.is_empty() { None } else { Some(rng.pick(&kanji).clone()) }
        }
        Kind::Hiragana => {
            let catalogued = alternate(record, "245", Alternate::Reading);
            let reading = match catalogued {
                Some(reading) => Some(reading),
                None => match title_proper(record) {
                    Some(title) => Some(analyzer.analyze(&title)?.reading),
                    None => None,
                },
            };
            reading
                .and_then(|r| reading_as_typed(&r))
                .map(|r| tokenizer_dict::to_hiragana(&r))
                .filter(|r| (2..=30).contains(&r.chars().count()))
        }
        Kind::Romaji => {
            let romanised = if alternate(record, "245", Alternate::Vernacular).is_some() {
                first_subfield(record, "245", 'a')
            } else {
                alternate(record, "245", Alternate::Romanised)
            };
            let romanised = match romanised {
                Some(romanised) => Some(romanised_query(&romanised)),
                None => match title_proper(record) {
                    Some(title) => Some(analyzer.analyze(&title)?.romaji.hepburn),
                    None => None,
                },
            };
            romanised.map(|r| as_typed(&r)).filter(|r| {
                let words = r.split_whitespace().count();
                (1..=10).contains(&words)
                    && r.chars().all(|c| c.is_ascii() && !c.is_ascii_control())
                    && !key(r).is_empty()
            })
        }
        Kind::Isbn => record
            .fields_with_tag("020")
            .flat_map(|f| f.subfield_values('a'))
            .find_map(catalogue::isbn13)
            .and_then(|isbn| if made.is_multiple_of(2) { hyphenated_isbn13(&isbn) } else { isbn10(&isbn) }),
    })
}

/// Nouns a patron searches for alone: not suffixes, numbers, pronouns or dependent nouns.
fn is_noun(part_of_speech: &str) -> bool {
    part_of_speech.starts_with("名詞") && !["非自立", "接尾", "数", "代名詞"].iter().any(|p| part_of_speech.contains(p))
}

/// What an 880 holds, read as the indexer reads it: `/(B` is a romanisation, katakana
/// text without hiragana or kanji is a reading, anything else the vernacular.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Alternate {
    Vernacular,
    Reading,
    Romanised,
}

fn role(field: &Field) -> Option<(&str, Alternate)> {
    let link = field.subfield_values('6').next()?;
    let tag = link.get(..3)?;
    let script = link.split_once('/').map_or("", |(_, s)| s);
    let text = field.text(&['a']);
    let katakana = text.chars().any(tokenizer_dict::is_katakana);
    let other = text.chars().any(|c| tokenizer_dict::is_hiragana(c) || is_kanji(c));
    let role = if script.starts_with("(B") {
        Alternate::Romanised
    } else if katakana && !other {
        Alternate::Reading
    } else {
        Alternate::Vernacular
    };
    Some((tag, role))
}

/// The $a of the first 880 linked to `tag` in the role `wanted`, ISBD punctuation trimmed.
fn alternate(record: &Record, tag: &str, wanted: Alternate) -> Option<String> {
    record
        .fields_with_tag("880")
        .filter(|f| role(f).is_some_and(|(t, r)| t == tag && r == wanted))
        .filter_map(|f| f.subfield_values('a').next())
        .map(|a| trim_isbd(a).to_string())
        .find(|a| !a.is_empty())
}

fn first_subfield(record: &Record, tag: &str, code: char) -> Option<String> {
    let value = record.fields_with_tag(tag).flat_map(|f| f.subfield_values(code)).next()?;
    Some(trim_isbd(value).to_string()).filter(|v| !v.is_empty())
}

/// The title proper as typed: the vernacular 880 of 245 $a when there is one (LC), else
/// 245 $a.
fn title_proper(record: &Record) -> Option<String> {
    let title = alternate(record, "245", Alternate::Vernacular).or_else(|| first_subfield(record, "245", 'a'))?;
    Some(as_typed(&title))
}

/// The text without the spaces LC puts between Japanese words (現代 日本 外交論 ->
/// 現代日本外交論); a space next to a Latin letter or a digit stays.
fn unspaced(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let japanese = |c: Option<&char>| c.is_some_and(|c| !c.is_ascii());
        if c == ' ' && japanese(i.checked_sub(1).and_then(|p| chars.get(p))) && japanese(chars.get(i + 1)) {
            continue;
        }
        out.push(c);
    }
    out
}

/// `field:value`, or `field:(words …)` for several words, without the characters the
/// query language reads as syntax; `None` when nothing searchable is left.
fn field_query(field: &str, value: &str) -> Option<String> {
    let cleaned: String = value.chars().map(|c| if "()（）\"＂“”「」『』".contains(c) { ' ' } else { c }).collect();
    let words: Vec<&str> = cleaned.split_whitespace().filter(|w| !w.starts_with(['-', '－'])).collect();
    match words.as_slice() {
        [] => None,
        _ if key(&cleaned).is_empty() => None,
        [word] => Some(format!("{field}:{word}")),
        words => Some(format!("{field}:({})", words.join(" "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lc_word_spaces_are_removed_between_japanese_words_only() {
        assert_eq!(unspaced("現代 日本 外交論"), "現代日本外交論");
        assert_eq!(unspaced("Windows 10 入門"), "Windows 10 入門");
        assert_eq!(unspaced("日本 の 歴史 2"), "日本の歴史 2");
    }

    #[test]
    fn field_queries() {
        assert_eq!(field_query("author", "Smith").as_deref(), Some("author:Smith"));
        assert_eq!(field_query("subject", "Japanese literature").as_deref(), Some("subject:(Japanese literature)"));
        assert_eq!(field_query("subject", "Cats (Fiction)").as_deref(), Some("subject:(Cats Fiction)"));
        assert_eq!(field_query("author", "「」"), None);
        for query in ["author:Smith", "subject:(Japanese literature)"] {
            assert!(indexer::parse_query(query).is_ok(), "{query}");
        }
    }
}
