//! Browsing the index's terms from a starting point (SRU `scan`): the titles or names
//! that come next in 五十音順, each with the number of records behind it.
//!
//! The list is read from the term dictionary of the suggestion field (see `suggest.rs`),
//! which holds, for every record, the normalised key and the hiragana reading key of its
//! title and of its first names, as `KEY \u{1} KIND`. Browsing takes only the reading keys
//! (keys without kanji or katakana): 源氏物語 is listed under げんじものがたり, next to
//! げんじ and before こころ, as a card catalogue files it, and not a second time among the
//! kanji in code-point order. Latin titles and names have no reading and are listed by
//! their key, before the kana. A start term is brought to the same form (its reading key),
//! so 源氏, げんじ and ゲンジ start at one place.
//!
//! The terms carry no display text: what is shown is read from the first live record
//! behind the term, as suggestions do. The work is bounded by the number of terms asked
//! for (at most [`MAX_SCAN_TERMS`] on each side of the start) plus the terms skipped on the
//! way (the other kind, and the writing keys).

use std::collections::{BTreeMap, VecDeque};

use tantivy::postings::TermInfo;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, SegmentReader, TERMINATED, TantivyDocument};

use crate::error::{Error, Result};
use crate::index::Index;

/// The most terms a scan returns on either side of its start term.
pub const MAX_SCAN_TERMS: usize = 100;

/// Terms of the suggestion field looked at per segment and side before giving up: a scan
/// over a kind that has few terms must not walk the whole dictionary of the other kind.
const SCAN_BUDGET: usize = 200_000;

const SEPARATOR: char = '\u{1}';

/// What a scan browses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanIndex {
    /// Titles (the title proper of each record, by its reading).
    Title,
    /// Names (the first three names of each record, by their readings).
    Author,
}

impl ScanIndex {
    fn tag(self) -> char {
        match self {
            ScanIndex::Title => 't',
            ScanIndex::Author => 'a',
        }
    }
}

/// One term of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTerm {
    /// The term as the index holds it: the hiragana reading key (or the normalised key of
    /// Latin text), which a scan started from it starts at again.
    pub key: String,
    /// The text of a record behind the term: a title, or a name as suggestions show it.
    pub display: String,
    /// What to search for, or scan from again, to come back to this term: the display
    /// text when its key is this term's (源氏物語 for げんじものがたり), else the key (a
    /// catalogued reading the analyser would not give, a Latin key without its spaces).
    pub value: String,
    /// Live records behind the term.
    pub records: u64,
}

/// A page of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanList {
    /// The terms, in index order.
    pub terms: Vec<ScanTerm>,
    /// How many of them come before the start key.
    pub before: usize,
    /// Whether the first term is the first of the index.
    pub at_start: bool,
    /// Whether the last term is the last of the index.
    pub at_end: bool,
}

/// Whether a key is a reading key, or the key of text that has no reading: no kanji and
/// no katakana letters (the long-vowel mark ー belongs to readings too).
fn is_reading_key(key: &str) -> bool {
    !key.chars().any(|c| {
        matches!(c,
            '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}'
            | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3FFFF}' | '\u{3005}' | '\u{3006}' | '\u{3007}')
    })
}

/// The key of a term of the suggestion field, if it is a reading key of `kind`.
fn scan_key(term: &[u8], tag: char) -> Option<&str> {
    let term = std::str::from_utf8(term).ok()?;
    let (key, kind) = term.rsplit_once(SEPARATOR)?;
    (kind.len() == 1 && kind.starts_with(tag) && !key.is_empty() && is_reading_key(key)).then_some(key)
}

impl Index {
    /// The key a scan starting at `text` starts from: its hiragana reading key, or its
    /// normalised key when it has no reading (Latin text); empty (the very beginning) for
    /// text with nothing to key on.
    pub fn scan_start(&self, text: &str) -> String {
        let Some(analysis) = crate::tokenizer::cached_analysis(&self.analyzer, text) else { return String::new() };
        let reading = &analysis.keys.reading;
        let key = if reading.is_empty() || !is_reading_key(reading) { &analysis.keys.exact } else { reading };
        key.chars().take(64).collect()
    }

    /// Up to `before` terms of `index` just before `start` (a key from
    /// [`Index::scan_start`]) and up to `after` terms from it on, in index order; with
    /// `include_start` false, a term equal to `start` is left out. Both sides are lowered
    /// to [`MAX_SCAN_TERMS`].
    ///
    /// A title is listed once, under the reading it is sorted by (the catalogued one where
    /// there is one): the suggestion field also keys it by the analyser's reading, which
    /// differs now and then (町を read まちを, catalogued マチ オ), and the second key would
    /// list the same record twice.
    pub fn scan(
        &self,
        index: ScanIndex,
        start: &str,
        before: usize,
        after: usize,
        include_start: bool,
    ) -> Result<ScanList> {
        let before = before.min(MAX_SCAN_TERMS);
        let after = after.min(MAX_SCAN_TERMS);
        let searcher = self.reader.searcher();
        // Each segment's first `after + 1` terms from the start (and last `before + 1`
        // terms before it) hold the whole index's: a term among the first n of the index
        // is among the first n of every segment that has records behind it.
        let mut following: BTreeMap<String, Found> = BTreeMap::new();
        let mut preceding: BTreeMap<String, Found> = BTreeMap::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.suggest)?;
            let counter = Counter { index: self, kind: index, searcher: &searcher, ord, segment, inverted: &inverted };
            for (key, found) in counter.forward(start, after + 1, include_start)? {
                following.entry(key).or_default().add(found);
            }
            for (key, found) in counter.backward(start, before + 1)? {
                preceding.entry(key).or_default().add(found);
            }
        }
        let at_end = following.len() <= after;
        let at_start = preceding.len() <= before;
        let skip = preceding.len().saturating_sub(before);
        let mut list = ScanList { at_start, at_end, ..ScanList::default() };
        let chosen = preceding.into_iter().skip(skip).chain(following.into_iter().take(after));
        for (key, found) in chosen {
            let Some(address) = found.first else { continue };
            let Some(display) = self.scan_display(&searcher, index, &key, address)? else { continue };
            if key.as_str() < start {
                list.before += 1;
            }
            let value = if self.scan_start(&display) == key { display.clone() } else { key.clone() };
            list.terms.push(ScanTerm { key, display, value, records: found.records });
        }
        Ok(list)
    }

    /// What a term stands for, read from a record behind it: the title, or the one of
    /// the first names whose writing or reading is the key.
    fn scan_display(
        &self,
        searcher: &tantivy::Searcher,
        index: ScanIndex,
        key: &str,
        address: DocAddress,
    ) -> Result<Option<String>> {
        let record: TantivyDocument = searcher.doc(address)?;
        let texts = |field| record.get_all(field).filter_map(|v| v.as_str().map(str::to_string));
        let display = match index {
            ScanIndex::Title => texts(self.fields.title).next(),
            ScanIndex::Author => {
                let names: Vec<String> =
                    texts(self.fields.author).take(3).map(|a| crate::suggest::author_display(&a)).collect();
                let keyed = names.iter().find(|name| {
                    crate::tokenizer::cached_analysis(&self.analyzer, name).is_some_and(|analysis| {
                        let reading: String = analysis.keys.reading.chars().take(64).collect();
                        let exact: String = analysis.keys.exact.chars().take(64).collect();
                        reading == key || exact == key
                    })
                });
                keyed.or(names.first()).cloned()
            }
        };
        Ok(display.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()))
    }
}

/// The records behind a term: how many, and the first, whose text is shown.
#[derive(Debug, Clone, Copy, Default)]
struct Found {
    records: u64,
    first: Option<DocAddress>,
}

impl Found {
    fn add(&mut self, other: Found) {
        self.records += other.records;
        self.first = self.first.or(other.first);
    }
}

/// Reads one segment's terms of the suggestion field for a scan.
struct Counter<'a> {
    index: &'a Index,
    kind: ScanIndex,
    searcher: &'a tantivy::Searcher,
    ord: usize,
    segment: &'a SegmentReader,
    inverted: &'a tantivy::InvertedIndexReader,
}

impl Counter<'_> {
    /// The live records a term lists (for titles, those sorted under it).
    fn count(&self, key: &str, info: &TermInfo) -> Result<Found> {
        let mut postings = self
            .inverted
            .read_postings_from_terminfo(info, IndexRecordOption::Basic)
            .map_err(|e| Error::Index(e.to_string()))?;
        let mut found = Found::default();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let alive = self.segment.alive_bitset().is_none_or(|alive| alive.is_alive(doc));
            let address = DocAddress::new(self.ord as u32, doc);
            if alive && (self.kind == ScanIndex::Author || self.sorted_under(address, key)?) {
                found.records += 1;
                found.first.get_or_insert(address);
            }
            doc = postings.advance();
        }
        Ok(found)
    }

    /// Whether a record's title is sorted under `key`: the key of its sort reading (the
    /// catalogued reading, else the analyser's), as the suggestion entries hold it. A
    /// record without a usable reading is listed under each of its keys.
    fn sorted_under(&self, address: DocAddress, key: &str) -> Result<bool> {
        let record: TantivyDocument = self.searcher.doc(address)?;
        let reading = record.get_first(self.index.fields.title_reading_display).and_then(|v| v.as_str());
        let Some(reading) = reading.filter(|r| !r.trim().is_empty()) else { return Ok(true) };
        let Some(analysis) = crate::tokenizer::cached_analysis(&self.index.analyzer, reading) else { return Ok(true) };
        let sorted: String = analysis.keys.exact.chars().take(64).collect();
        Ok(sorted == key || sorted.is_empty() || !is_reading_key(&sorted))
    }

    /// The first `limit` terms with records from `start` on.
    fn forward(&self, start: &str, limit: usize, include_start: bool) -> Result<Vec<(String, Found)>> {
        let tag = self.kind.tag();
        let mut out = Vec::new();
        let mut stream = self
            .inverted
            .terms()
            .range()
            .ge(start.as_bytes())
            .into_stream()
            .map_err(|e| Error::Index(e.to_string()))?;
        let mut read = 0;
        while out.len() < limit && read < SCAN_BUDGET && stream.advance() {
            read += 1;
            let Some(key) = scan_key(stream.key(), tag) else { continue };
            if !include_start && key == start {
                continue;
            }
            let found = self.count(key, stream.value())?;
            if found.records > 0 {
                out.push((key.to_string(), found));
            }
        }
        Ok(out)
    }

    /// The last `limit` terms with records before `start`, nearest last.
    ///
    /// The dictionary streams forward only, so the range before `start` is read from
    /// lower and lower bounds (the terms sharing its first character, then the 16, 256 …
    /// code points before it, then everything): the last terms of each range read are
    /// kept in a window and counted from the nearest back; when the window overflowed,
    /// the rest of that range is read again up to the earliest term counted.
    fn backward(&self, start: &str, limit: usize) -> Result<Vec<(String, Found)>> {
        if limit == 0 || start.is_empty() {
            return Ok(Vec::new());
        }
        let tag = self.kind.tag();
        let first = start.chars().next().map_or(0, u32::from);
        let mut bounds: Vec<String> = Vec::new();
        for step in [0u32, 16, 256, 4096] {
            if let Some(c) = first.checked_sub(step).and_then(char::from_u32) {
                bounds.push(c.to_string());
            }
        }
        bounds.push(String::new());
        let window = 4 * limit + 32;
        let mut found: Vec<(String, Found)> = Vec::new();
        let mut upper = start.to_string();
        let mut read = 0;
        for lower in &bounds {
            if lower.as_str() >= upper.as_str() {
                continue;
            }
            loop {
                let mut last: VecDeque<(String, TermInfo)> = VecDeque::with_capacity(window);
                let mut overflowed = false;
                let mut stream = self
                    .inverted
                    .terms()
                    .range()
                    .ge(lower.as_bytes())
                    .lt(upper.as_bytes())
                    .into_stream()
                    .map_err(|e| Error::Index(e.to_string()))?;
                while stream.advance() {
                    read += 1;
                    let Some(key) = scan_key(stream.key(), tag) else { continue };
                    if last.len() == window {
                        last.pop_front();
                        overflowed = true;
                    }
                    last.push_back((key.to_string(), stream.value().clone()));
                }
                let earliest = last.front().map(|(key, _)| key.clone());
                while let Some((key, info)) = last.pop_back() {
                    let counted = self.count(&key, &info)?;
                    if counted.records > 0 {
                        found.push((key, counted));
                        if found.len() == limit {
                            found.reverse();
                            return Ok(found);
                        }
                    }
                }
                match earliest {
                    Some(earliest) if overflowed && read < SCAN_BUDGET => upper = earliest,
                    _ => break,
                }
            }
            if read >= SCAN_BUDGET {
                break;
            }
            upper = lower.clone();
        }
        found.reverse();
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_keys_have_no_kanji_or_katakana() {
        assert!(is_reading_key("げんじものがたり"));
        assert!(is_reading_key("はりーぽったー"));
        assert!(is_reading_key("thetaleofgenji"));
        assert!(!is_reading_key("源氏物語"));
        assert!(!is_reading_key("ハリーポッター"));
        assert!(!is_reading_key("時々"));
    }

    #[test]
    fn only_reading_keys_of_the_kind_are_scanned() {
        assert_eq!(scan_key("げんじ\u{1}t".as_bytes(), 't'), Some("げんじ"));
        assert_eq!(scan_key("げんじ\u{1}a".as_bytes(), 't'), None);
        assert_eq!(scan_key("源氏\u{1}t".as_bytes(), 't'), None);
        assert_eq!(scan_key(b"\x01t", 't'), None);
        assert_eq!(scan_key(b"\xff\x01t", 't'), None);
    }
}
