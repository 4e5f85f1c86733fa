//! Facets: NDC first-level class (with its Japanese label), language, material type,
//! decade, author, subject, holding branch and availability now, counted over all hits of
//! a search.
//!
//! All facet values of a record are in one multi-valued string fast field, `facet`, each
//! prefixed with its kind (`a\u{1}夏目漱石`, `b\u{1}chuo`, `d\u{1}1910`, `l\u{1}jpn`,
//! `m\u{1}book`, `n\u{1}9`, `s\u{1}図書館`, `v\u{1}*`), so a hit costs one column lookup and
//! a few array increments: per segment, the hits' term ordinals are counted in a dense
//! array (the values of a kind are one range of ordinals, the dictionary being sorted),
//! and only the values that end up in the top N are turned back into strings. Filters are
//! terms of the same field. Branch and availability values are branch codes (and `*`,
//! [`ANYWHERE`]); the HTTP layer names them ([`FacetCounts::name_branches`]).
//! tantivy's hierarchical `FacetCollector` instead resolved every value with a non-zero
//! count through its compressed dictionary (a new zstd context per value) and streamed the
//! whole facet dictionary on every query: 42 ms p50 / 310 ms p99 on 250k LC records.
//!
//! Ordinals are local to a segment. To add up counts of several segments, each segment's
//! dictionary is decoded once (cached by segment id, so only new segments cost anything
//! after a commit) and the ordinals of the smaller segments are mapped onto those of the
//! largest one; a value the largest segment does not have is added up by its text.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, Dictionary};
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::document::BibDocument;
use crate::search::{FacetCount, FacetCounts};

/// The ten classes of the Nippon Decimal Classification (NDC), first level.
pub const NDC_CLASSES: [(&str, &str, &str); 10] = [
    ("0", "総記", "General works"),
    ("1", "哲学", "Philosophy"),
    ("2", "歴史", "History"),
    ("3", "社会科学", "Social sciences"),
    ("4", "自然科学", "Natural sciences"),
    ("5", "技術", "Technology"),
    ("6", "産業", "Industry"),
    ("7", "芸術", "Arts"),
    ("8", "言語", "Language"),
    ("9", "文学", "Literature"),
];

/// The Japanese label of an NDC first-level class ("9" -> 文学).
pub fn ndc_label(class: &str) -> Option<&'static str> {
    NDC_CLASSES.iter().find(|(c, _, _)| *c == class).map(|(_, ja, _)| *ja)
}

/// The availability value of a record with a copy that can be borrowed now at any branch
/// (the other availability values are the codes of the branches where one can).
pub const ANYWHERE: &str = "*";

/// At most this many authors and subjects of a record become facets.
const PER_RECORD: usize = 3;

/// The label of [`ANYWHERE`] until the HTTP layer names it in the reader's language.
const ANYWHERE_LABEL: &str = "すべての館";

/// The name of the facet field.
pub(crate) const FIELD: &str = "facet";
/// Between a facet value's kind and its text.
const SEPARATOR: char = '\u{1}';

/// What a facet value is. The prefixes sort in the order of [`Kind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Author,
    /// A branch holding a copy.
    Branch,
    Decade,
    Lang,
    Material,
    Ndc,
    Subject,
    /// A copy can be borrowed now: [`ANYWHERE`], and the code of each branch where one can.
    Available,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Author,
        Kind::Branch,
        Kind::Decade,
        Kind::Lang,
        Kind::Material,
        Kind::Ndc,
        Kind::Subject,
        Kind::Available,
    ];

    fn prefix(self) -> char {
        match self {
            Kind::Author => 'a',
            Kind::Branch => 'b',
            Kind::Decade => 'd',
            Kind::Lang => 'l',
            Kind::Material => 'm',
            Kind::Ndc => 'n',
            Kind::Subject => 's',
            Kind::Available => 'v',
        }
    }

    fn of(term: &str) -> Option<Kind> {
        let mut chars = term.chars();
        let (prefix, separator) = (chars.next()?, chars.next()?);
        (separator == SEPARATOR).then_some(())?;
        Kind::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }

    /// Values returned.
    fn top(self) -> usize {
        match self {
            // Every branch of a library system (a city has one to a few dozen).
            Kind::Decade | Kind::Branch | Kind::Available => 30,
            _ => 10,
        }
    }
}

/// The term of a facet value, as indexed and filtered on.
pub(crate) fn term(kind: Kind, value: &str) -> String {
    format!("{}{SEPARATOR}{value}", kind.prefix())
}

/// The facet terms of a record, without repeats.
pub(crate) fn facet_terms(doc: &BibDocument) -> Vec<String> {
    let mut out = Vec::new();
    for ndc in &doc.ndc {
        if let Some(first) = ndc.chars().next().filter(char::is_ascii_digit) {
            push_new(&mut out, term(Kind::Ndc, &first.to_string()));
        }
    }
    for lang in &doc.languages {
        push_new(&mut out, term(Kind::Lang, lang));
    }
    push_new(&mut out, term(Kind::Material, doc.material));
    if let Some(year) = doc.year {
        push_new(&mut out, term(Kind::Decade, &(year.div_euclid(10) * 10).to_string()));
    }
    for author in doc.authors.iter().take(PER_RECORD) {
        push_new(&mut out, term(Kind::Author, author));
    }
    for subject in doc.subjects.iter().take(PER_RECORD) {
        let heading = subject.split(" -- ").next().unwrap_or(subject);
        push_new(&mut out, term(Kind::Subject, heading));
    }
    for branch in &doc.branches {
        push_new(&mut out, term(Kind::Branch, branch));
    }
    if !doc.available_at.is_empty() {
        push_new(&mut out, term(Kind::Available, ANYWHERE));
    }
    for branch in &doc.available_at {
        push_new(&mut out, term(Kind::Available, branch));
    }
    out
}

fn push_new(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

impl FacetCounts {
    /// Labels the values of the branch and availability facets: `name` gives the name of
    /// a branch code (the HTTP layer reads the names from the catalogue, in the reader's
    /// language; the index holds codes only, as branches are renamed without a change of
    /// any record) and `anywhere` is the label of [`ANYWHERE`]. A code without a name
    /// keeps its code as its label.
    pub fn name_branches(&mut self, name: impl Fn(&str) -> Option<String>, anywhere: &str) {
        for count in self.branch.iter_mut().chain(self.available.iter_mut()) {
            count.label = if count.value == ANYWHERE {
                anywhere.to_string()
            } else {
                name(&count.value).unwrap_or_else(|| count.value.clone())
            };
        }
    }
}

/// The sorted terms of one segment's facet column, decoded once.
#[derive(Default)]
struct Terms {
    text: String,
    /// End of each term in `text`; term `i` starts where term `i - 1` ends.
    ends: Vec<u32>,
    /// The ordinals of each kind's values (the dictionary is sorted, so they are a range).
    kinds: [std::ops::Range<u32>; Kind::ALL.len()],
}

impl Terms {
    fn decode(dictionary: &Dictionary) -> std::io::Result<Terms> {
        let mut terms = Terms::default();
        let mut stream = dictionary.stream()?;
        while stream.advance() {
            let ord = terms.ends.len() as u32;
            let start = terms.text.len();
            terms.text.push_str(&String::from_utf8_lossy(stream.key()));
            terms.ends.push(u32::try_from(terms.text.len()).unwrap_or(u32::MAX));
            if let Some(kind) = terms.text.get(start..).and_then(Kind::of) {
                let range = &mut terms.kinds[kind as usize];
                if range.start == range.end {
                    *range = ord..ord + 1;
                } else {
                    range.end = ord + 1;
                }
            }
        }
        Ok(terms)
    }

    fn kind(&self, ord: u32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| self.kinds[*kind as usize].contains(&ord))
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, ord: u32) -> &str {
        let ord = ord as usize;
        let start = if ord == 0 { 0 } else { self.ends.get(ord - 1).copied().unwrap_or(0) as usize };
        let end = self.ends.get(ord).copied().unwrap_or(0) as usize;
        self.text.get(start..end).unwrap_or_default()
    }
}

/// Not in the other segment's dictionary.
const UNMAPPED: u32 = u32::MAX;

/// Count arrays kept per segment for reuse: as many as searches that count facets at
/// the same time, usually (more are allocated when needed, and dropped after).
const SPARE_ARRAYS: usize = 4;

/// A segment's facet dictionary, spare count arrays, and how its ordinals map onto
/// another segment's.
struct SegmentTerms {
    id: SegmentId,
    max_doc: u32,
    terms: Terms,
    /// The facet column's ordinals (`None` in a segment without facet values).
    column: Option<Column<u64>>,
    /// Zeroed count arrays of this segment's size (and empty lists of ordinals counted),
    /// reused by the next searches: zeroing and allocating hundreds of thousands of
    /// counters per search would cost more than the counting.
    spare: Mutex<Vec<(Vec<u32>, Vec<u32>)>>,
    /// This segment's ordinals as ordinals of the segment named (or [`UNMAPPED`]),
    /// computed the first time this segment is added onto that one.
    mapping: Mutex<Option<(SegmentId, Arc<Vec<u32>>)>>,
}

impl SegmentTerms {
    fn mapping_onto(&self, base: &SegmentTerms) -> Arc<Vec<u32>> {
        let mut cached = self.mapping.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((onto, mapping)) = cached.as_ref()
            && *onto == base.id
        {
            return mapping.clone();
        }
        // Both dictionaries are sorted: one merge pass.
        let (mine, theirs) = (&self.terms, &base.terms);
        let mut mapping = Vec::with_capacity(mine.len());
        let mut j = 0;
        for i in 0..mine.len() {
            let term = mine.get(i as u32);
            while j < theirs.len() && theirs.get(j as u32) < term {
                j += 1;
            }
            mapping.push(if j < theirs.len() && theirs.get(j as u32) == term { j as u32 } else { UNMAPPED });
        }
        let mapping = Arc::new(mapping);
        *cached = Some((base.id, mapping.clone()));
        mapping
    }
}

/// Decoded facet dictionaries of the segments searched lately, shared by all searches of
/// an [`crate::Index`].
#[derive(Default)]
pub(crate) struct FacetTermsCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentTerms>>>,
}

impl FacetTermsCache {
    fn segment(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentTerms>> {
        let id = reader.segment_id();
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(terms) = segments.get(&id) {
            return Ok(terms.clone());
        }
        // Opening the column reads its dictionary's index (a zstd context each time):
        // done once per segment too.
        let column = reader.fast_fields().str(FIELD)?;
        let terms = match &column {
            Some(column) => Terms::decode(column.dictionary())?,
            None => Terms::default(),
        };
        let entry = Arc::new(SegmentTerms {
            id,
            max_doc: reader.max_doc(),
            terms,
            column: column.map(|column| column.ords().clone()),
            spare: Mutex::new(Vec::new()),
            mapping: Mutex::new(None),
        });
        segments.insert(id, entry.clone());
        Ok(entry)
    }

    /// Forgets segments that are no longer searched (merged away or deleted).
    pub(crate) fn retain(&self, live: &[SegmentId]) {
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if segments.len() > live.len() {
            segments.retain(|id, _| live.contains(id));
        }
    }
}

/// Counts the facets of all hits.
pub(crate) struct FacetCollector<'a> {
    cache: &'a FacetTermsCache,
}

impl<'a> FacetCollector<'a> {
    pub(crate) fn new(cache: &'a FacetTermsCache) -> FacetCollector<'a> {
        FacetCollector { cache }
    }
}

pub(crate) struct SegmentFacetCollector {
    terms: Arc<SegmentTerms>,
    column: Option<Column<u64>>,
    counts: Vec<u32>,
    /// The ordinals counted, in the order first met, so harvesting neither scans nor
    /// zeroes the whole array (a segment may have hundreds of thousands of values).
    touched: Vec<u32>,
    /// The current document's values.
    values: Vec<u64>,
}

impl Collector for FacetCollector<'_> {
    type Fruit = FacetCounts;
    type Child = SegmentFacetCollector;

    fn for_segment(&self, _ordinal: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentFacetCollector> {
        let terms = self.cache.segment(reader)?;
        let column = terms.column.clone();
        let spare = terms.spare.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let (counts, touched) = spare.unwrap_or_else(|| (vec![0; terms.terms.len()], Vec::new()));
        Ok(SegmentFacetCollector { terms, column, counts, touched, values: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFacets>) -> tantivy::Result<FacetCounts> {
        Ok(merge(fruits))
    }
}

impl SegmentCollector for SegmentFacetCollector {
    type Fruit = SegmentFacets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let Some(column) = &self.column else { return };
        // The values of a document are consecutive rows: read them in one call.
        let rows = column.index.value_row_ids(doc);
        let values = (rows.end - rows.start) as usize;
        if self.values.len() < values {
            self.values.resize(values, 0);
        }
        let Some(ords) = self.values.get_mut(..values) else { return };
        column.values.get_range(u64::from(rows.start), ords);
        for &ord in ords.iter() {
            if let Some(count) = self.counts.get_mut(ord as usize) {
                if *count == 0 {
                    self.touched.push(ord as u32);
                }
                *count += 1;
            }
        }
    }

    fn harvest(self) -> SegmentFacets {
        SegmentFacets { terms: self.terms, counts: self.counts, touched: self.touched }
    }
}

/// The counts of one segment: a count per ordinal, and the ordinals counted.
pub(crate) struct SegmentFacets {
    terms: Arc<SegmentTerms>,
    counts: Vec<u32>,
    touched: Vec<u32>,
}

impl SegmentFacets {
    fn counted(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.touched.iter().map(|&ord| (ord, self.counts.get(ord as usize).copied().unwrap_or(0)))
    }

    /// Zeroes the counts and gives the arrays back for the next search.
    fn recycle(mut self) {
        for &ord in &self.touched {
            if let Some(count) = self.counts.get_mut(ord as usize) {
                *count = 0;
            }
        }
        self.touched.clear();
        let mut spare = self.terms.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < SPARE_ARRAYS {
            spare.push((self.counts, self.touched));
        }
    }
}

/// The best `k` values of one kind seen so far, best first.
struct Top<'t> {
    kind: Kind,
    best: Vec<(u64, Key<'t>)>,
}

impl<'t> Top<'t> {
    fn offer(&mut self, terms: &'t Terms, count: u64, key: Key<'t>) {
        let k = self.kind.top();
        if k == 0 {
            return;
        }
        let full = self.best.len() == k;
        if full && self.best.last().is_some_and(|worst| worst.0 > count) {
            return; // most values: counted fewer times than the k-th
        }
        if full && self.best.last().is_some_and(|worst| order(self.kind, terms, &(count, key), worst) != Ordering::Less)
        {
            return;
        }
        let at = self.best.partition_point(|entry| order(self.kind, terms, entry, &(count, key)) == Ordering::Less);
        self.best.insert(at, (count, key));
        self.best.truncate(k);
    }
}

/// Most hits first, then in the order of the values' text (the decades newest first).
fn order(kind: Kind, terms: &Terms, a: &(u64, Key<'_>), b: &(u64, Key<'_>)) -> Ordering {
    b.0.cmp(&a.0).then_with(|| match (a.1, b.1) {
        _ if kind == Kind::Decade => decade(key_text(terms, b.1)).cmp(&decade(key_text(terms, a.1))),
        (Key::Ord(x), Key::Ord(y)) => x.cmp(&y),
        (x, y) => key_text(terms, x).cmp(key_text(terms, y)),
    })
}

/// A value counted: an ordinal of the base segment, or a term the base segment lacks.
#[derive(Clone, Copy)]
enum Key<'t> {
    Ord(u32),
    Text(&'t str),
}

fn merge(mut fruits: Vec<SegmentFacets>) -> FacetCounts {
    let out = count(&mut fruits);
    for fruit in fruits {
        fruit.recycle();
    }
    out
}

fn count(fruits: &mut [SegmentFacets]) -> FacetCounts {
    // The base: the largest segment, whose ordinals the others' counts are mapped onto.
    let Some(largest) =
        fruits.iter().enumerate().max_by_key(|(i, f)| (f.terms.max_doc, std::cmp::Reverse(*i))).map(|(i, _)| i)
    else {
        return FacetCounts::default();
    };
    fruits.swap(0, largest);
    let Some((base, others)) = fruits.split_first_mut() else { return FacetCounts::default() };
    // The other segments' counts go onto the base's array where the base has the value,
    // and by text where it does not.
    let mut more_by_text: HashMap<&str, u64> = HashMap::new();
    for fruit in others.iter().filter(|f| !f.touched.is_empty()) {
        let mapping = fruit.terms.mapping_onto(&base.terms);
        for (ord, count) in fruit.counted() {
            let mapped = mapping.get(ord as usize).copied().unwrap_or(UNMAPPED);
            match base.counts.get_mut(mapped as usize) {
                Some(total) => {
                    if *total == 0 {
                        base.touched.push(mapped);
                    }
                    *total = total.saturating_add(count);
                }
                None => *more_by_text.entry(fruit.terms.terms.get(ord)).or_default() += u64::from(count),
            }
        }
    }
    let base: &SegmentFacets = base;
    let terms = &base.terms.terms;
    let mut tops = Kind::ALL.map(|kind| Top { kind, best: Vec::new() });
    for (ord, count) in base.counted() {
        if let Some(kind) = terms.kind(ord) {
            tops[kind as usize].offer(terms, u64::from(count), Key::Ord(ord));
        }
    }
    for (text, count) in more_by_text {
        if let Some(kind) = Kind::of(text) {
            tops[kind as usize].offer(terms, count, Key::Text(text));
        }
    }
    let mut out = FacetCounts::default();
    for top in tops {
        let values = top.best.into_iter().map(|(count, key)| {
            let value = key_text(terms, key).split_once(SEPARATOR).map_or("", |(_, value)| value).to_string();
            let label = match top.kind {
                Kind::Ndc => ndc_label(&value).unwrap_or(&value).to_string(),
                Kind::Available if value == ANYWHERE => ANYWHERE_LABEL.to_string(),
                _ => value.clone(),
            };
            FacetCount { value, label, count }
        });
        let list = match top.kind {
            Kind::Author => &mut out.author,
            Kind::Branch => &mut out.branch,
            Kind::Decade => &mut out.decade,
            Kind::Lang => &mut out.lang,
            Kind::Material => &mut out.material,
            Kind::Ndc => &mut out.ndc,
            Kind::Subject => &mut out.subject,
            Kind::Available => &mut out.available,
        };
        list.extend(values);
    }
    out.ndc.sort_by(|a, b| a.value.cmp(&b.value));
    out.decade.sort_by_key(|d| std::cmp::Reverse(decade(&term(Kind::Decade, &d.value))));
    out
}

fn key_text<'t>(terms: &'t Terms, key: Key<'t>) -> &'t str {
    match key {
        Key::Ord(ord) => terms.get(ord),
        Key::Text(text) => text,
    }
}

/// The decade of a decade term (`d\u{1}1990` -> 1990).
fn decade(term: &str) -> i64 {
    term.split_once(SEPARATOR).and_then(|(_, value)| value.parse().ok()).unwrap_or(i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_values_are_the_most_counted_then_the_first_in_order() {
        let terms = Terms::default();
        let mut top = Top { kind: Kind::Author, best: Vec::new() };
        for (ord, count) in (0..40u32).map(|ord| (ord, u64::from(ord % 7))) {
            top.offer(&terms, count, Key::Ord(ord));
        }
        let best: Vec<(u64, u32)> = top
            .best
            .iter()
            .map(|(count, key)| (*count, if let Key::Ord(ord) = key { *ord } else { u32::MAX }))
            .collect();
        assert_eq!(best, [(6, 6), (6, 13), (6, 20), (6, 27), (6, 34), (5, 5), (5, 12), (5, 19), (5, 26), (5, 33)]);
    }

    #[test]
    fn terms_are_read_by_ordinal() {
        let mut terms = Terms::default();
        for term in ["eng", "fre", "jpn"] {
            terms.text.push_str(term);
            terms.ends.push(terms.text.len() as u32);
        }
        assert_eq!(terms.get(1), "fre");
        assert_eq!(terms.get(2), "jpn");
        assert_eq!(terms.get(7), "");
    }

    #[test]
    fn kinds_sort_in_their_order_and_read_back() {
        let terms: Vec<String> = Kind::ALL.iter().map(|kind| term(*kind, "x")).collect();
        assert!(terms.windows(2).all(|w| w[0] < w[1]));
        for kind in Kind::ALL {
            assert_eq!(Kind::of(&term(kind, "夏目漱石")), Some(kind));
        }
        assert_eq!(Kind::of("x"), None);
        assert_eq!(decade(&term(Kind::Decade, "1990")), 1990);
    }
}
