//! Searching a tenant's index: the in-process API the HTTP layer calls.
//!
//! A query word is looked for in every view of every field (morphemes, bigrams, readings,
//! romaji), so 図書館, としょかん, トショカン and toshokan meet the same record; the views
//! are combined with a disjunction-max so a word counts once, at its best. (A word written
//! with kanji is not looked for by its reading: see `view_query`.) Ranking is built for
//! known-item search: the exact title first, then the title as a phrase, title words,
//! author, subject, and the rest; equal scores in bib id order, so pages follow on.
//! Hits, total and facets come from one pass over the matching documents.

use std::collections::HashSet;
use std::ops::Bound;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::sort_key::{
    NaturalComparator, SegmentSortKeyComputer, SortBySimilarityScore, SortByStaticFastValue, SortByString,
    SortKeyComputer,
};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocId, Order, Score, Searcher, SegmentReader, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::facets::{self, FacetCollector, Kind};
use crate::index::Index;
use crate::query::parse::{QueryNode, SearchField, parse_query};
use crate::tokenizer::{TokenView, cached_analysis};

/// How the query text is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    /// Words anywhere (the OPAC's default), in the query language.
    #[default]
    Keywords,
    /// The whole title, exactly (完全一致), whatever the spacing and punctuation.
    ExactTitle,
    /// The beginning of the title (前方一致).
    TitlePrefix,
}

/// The order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first.
    #[default]
    Relevance,
    /// Newest first.
    YearDesc,
    /// Oldest first.
    YearAsc,
    /// By title reading, in 五十音順.
    TitleReading,
}

/// Filters narrowing a search (facet selections).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// NDC first-level class, "0".."9".
    pub ndc: Option<String>,
    /// Earliest year.
    pub year_from: Option<i64>,
    /// Latest year.
    pub year_to: Option<i64>,
    /// Language code (`jpn`, `eng` …).
    pub lang: Option<String>,
    /// Material type (`book`, `serial` …).
    pub material: Option<String>,
    /// An author exactly as faceted.
    pub author: Option<String>,
    /// A subject heading exactly as faceted.
    pub subject: Option<String>,
    /// The code of a branch holding a copy.
    pub branch: Option<String>,
    /// A copy can be borrowed now: anywhere ([`ANYWHERE`](crate::ANYWHERE), `*`) or at
    /// the branch with this code.
    pub available: Option<String>,
}

/// One search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// What the patron typed.
    pub query: String,
    /// How to match it.
    pub mode: MatchMode,
    /// Facet selections.
    pub filters: Filters,
    /// Result order.
    pub sort: Sort,
    /// Hits to skip (paging).
    pub offset: usize,
    /// Hits to return (at most [`MAX_LIMIT`]).
    pub limit: usize,
    /// Whether to count facets.
    pub facets: bool,
    /// An already parsed query (from CQL, say) to search instead of parsing `query`;
    /// only with [`MatchMode::Keywords`]. `query` is then only used for did-you-mean.
    pub parsed: Option<QueryNode>,
}

/// The most hits one request may ask for.
pub const MAX_LIMIT: usize = 100;
/// The deepest result a request may page to.
pub const MAX_OFFSET: usize = 10_000;

impl SearchRequest {
    /// A keyword search for `query`, first page of 20, relevance order, with facets.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            mode: MatchMode::Keywords,
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            facets: true,
            parsed: None,
        }
    }
}

/// A found record, with what a result list shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The bib id.
    pub id: u64,
    /// 001.
    pub control_number: String,
    /// The title shown.
    pub title: String,
    /// Its reading (hiragana).
    pub title_reading: String,
    /// Names.
    pub authors: Vec<String>,
    /// Publishers.
    pub publisher: Vec<String>,
    /// Year of publication.
    pub year: Option<i64>,
    /// ISBN-13s.
    pub isbn: Vec<String>,
    /// NDC numbers.
    pub ndc: Vec<String>,
    /// Relevance score (0 when sorted otherwise).
    pub score: f32,
    /// Byte ranges of `title` that match the query, for highlighting.
    pub highlights: Vec<(usize, usize)>,
}

/// A facet value and how many hits have it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FacetCount {
    /// The value to filter on.
    pub value: String,
    /// What to show (the Japanese label of an NDC class, a branch's name, else the value).
    pub label: String,
    /// Hits with this value.
    pub count: u64,
}

/// Facet counts over all hits of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FacetCounts {
    /// NDC first-level classes.
    pub ndc: Vec<FacetCount>,
    /// Languages.
    pub lang: Vec<FacetCount>,
    /// Material types.
    pub material: Vec<FacetCount>,
    /// Decades of publication.
    pub decade: Vec<FacetCount>,
    /// Authors.
    pub author: Vec<FacetCount>,
    /// Subjects.
    pub subject: Vec<FacetCount>,
    /// Branches holding a copy, by branch code (labelled with branch names by
    /// [`FacetCounts::name_branches`]).
    pub branch: Vec<FacetCount>,
    /// Where a copy can be borrowed now: [`ANYWHERE`](crate::ANYWHERE) first, then by
    /// branch code.
    pub available: Vec<FacetCount>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchResults {
    /// All hits, not just this page.
    pub total: usize,
    /// This page of hits.
    pub hits: Vec<Hit>,
    /// Facet counts (empty unless asked for).
    pub facets: FacetCounts,
    /// For a keyword search that found nothing (or only near matches, see `relaxed`): a
    /// title or name read the same way.
    pub did_you_mean: Option<String>,
    /// True when no record had every word and these hits are records whose title has
    /// most of the characters of each long Japanese word (a title typed without the
    /// words cataloguers put in brackets inside it: 「消費者契約法の制定に向けて」 for
    /// 「消費者契約法 (仮称) の制定に向けて」).
    pub relaxed: bool,
    /// True when the words as typed found nothing and these hits are near matches: the
    /// reading with a slip (はくはっき, としよかん), kanji and kana mixed (夏目そうせき), romaji
    /// of any system run together (tosyokan, oosakawoaruku), a Latin word misspelt (libary,
    /// catalog), or all words but one (a title plus 小説 or a name the record lacks).
    pub near: bool,
    /// Words of the query that no record of the library has, even read loosely (for the
    /// page to say that they were left out).
    pub unmatched_words: Vec<String>,
}

/// Boosts of the fields, the design's order: exact title > title phrase > title words >
/// author > subject > the rest.
/// Large enough that the whole title typed as it is (or its reading, or an ISBN) comes
/// first whatever else matches: BM25 sums over many fields reach several hundred.
const EXACT_TITLE: f32 = 1000.0;
const TITLE_PHRASE: f32 = 8.0;
const TITLE: f32 = 4.0;
const AUTHOR: f32 = 2.5;
const SUBJECT: f32 = 1.5;
const OTHER: f32 = 1.0;
/// A volume number typed after a title (断腸亭日乗 2) meeting the record's 245 $n or 490 $v.
const VOLUME: f32 = 6.0;
/// Words patrons add to a title that catalogues do not have in it (こころ 小説): never
/// required of a near match.
const ADDED_WORDS: [&str; 12] =
    ["本", "小説", "作品", "全集", "文庫", "作品集", "選集", "著", "作", "集", "の本", "book"];

impl Index {
    /// Searches. A query that cannot be searched is [`Error::Query`], out-of-range paging
    /// [`Error::Request`]; both are the caller's mistakes.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults> {
        if request.limit > MAX_LIMIT {
            return Err(Error::Request(format!("per_page must be at most {MAX_LIMIT}")));
        }
        if request.offset > MAX_OFFSET {
            return Err(Error::Request(format!("results beyond {MAX_OFFSET} cannot be paged to")));
        }
        let searcher = self.reader.searcher();
        let (query, words) = self.build_query(request)?;
        let filtered = self.with_filters(query, &request.filters);
        let limit = request.limit.max(1);
        let top = || TopDocs::with_limit(limit).and_offset(request.offset);
        // Equal sort keys are ordered by bib id, so a page follows on from the one before
        // whatever segments the documents are in (a document moves when it is updated).
        let live: Vec<SegmentId> = searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
        self.id_columns.retain(&live);
        let by_id = || (ById(self.id_columns.clone()), Order::Asc);
        if request.facets {
            self.facet_terms.retain(&live);
        }
        // Hits, total and facets in one pass over the matching documents.
        let collect = |query: &dyn Query| -> Result<Collected> {
            let top = top();
            let facets = request.facets.then(|| FacetCollector::new(&self.facet_terms));
            Ok(match request.sort {
                Sort::Relevance => {
                    let top = top.order_by((SortBySimilarityScore, by_id()));
                    let (hits, total, facets) = searcher.search(query, &(top, Count, facets))?;
                    (total, hits.into_iter().map(|((score, _), address)| (score, address)).collect(), facets)
                }
                Sort::YearDesc | Sort::YearAsc => {
                    let order = if request.sort == Sort::YearDesc { Order::Desc } else { Order::Asc };
                    let top = top.order_by(((SortByStaticFastValue::<i64>::for_field("year"), order), by_id()));
                    search_unscored(&searcher, query, top, facets)?
                }
                Sort::TitleReading => {
                    let top = top.order_by(((SortByString::for_field("title_sort"), Order::Asc), by_id()));
                    search_unscored(&searcher, query, top, facets)?
                }
            })
        };
        let (mut total, mut addresses, mut facets): Collected = collect(filtered.as_ref())?;
        let mut relaxed = false;
        if total == 0
            && request.mode == MatchMode::Keywords
            && let Some(loose) = self.relaxed_query(request)?
        {
            let loose = self.with_filters(loose, &request.filters);
            (total, addresses, facets) = collect(loose.as_ref())?;
            relaxed = total > 0;
        }
        let mut near = false;
        let mut unmatched_words = Vec::new();
        if total == 0
            && request.mode == MatchMode::Keywords
            && let Some((loose, unmatched)) = self.near_query(request, &searcher)?
        {
            let loose = self.with_filters(loose, &request.filters);
            (total, addresses, facets) = collect(loose.as_ref())?;
            near = total > 0;
            unmatched_words = unmatched;
        }
        let hits = if request.limit == 0 { Vec::new() } else { self.hits(&searcher, &addresses, &words)? };
        let facets = facets.unwrap_or_default();
        // Near matches do not stop the correction: a title typed with a slip
        // (「…を考えう」) may be both.
        let did_you_mean = if (total == 0 || relaxed || near)
            && request.mode == MatchMode::Keywords
            && request.filters == Filters::default()
        {
            self.did_you_mean(&request.query)?
        } else {
            None
        };
        if !near {
            unmatched_words.clear();
        }
        Ok(SearchResults { total, hits, facets, did_you_mean, relaxed, near, unmatched_words })
    }

    /// For a keyword query of plain words that found nothing, even as near matches of
    /// long words: each word as typed or read loosely, all words but one required, and
    /// the words no record has even so. `None` when the query is not plain words, or
    /// loosening it could not find anything the strict query did not.
    ///
    /// A word is also looked for by its folded reading (`title_fold`, `author_fold`:
    /// the kana, the reading of kanji and kana mixed, romaji of any system read as kana),
    /// and a Latin word of five letters or more with one slip (two from eight letters),
    /// as the start of a longer word (catalog, catalogue) and in its other spelling.
    /// Words patrons add ([`ADDED_WORDS`]) are never required.
    fn near_query(&self, request: &SearchRequest, searcher: &Searcher) -> Result<Option<NearQuery>> {
        let node = request_node(request)?;
        if !is_plain_words(&node) {
            return Ok(None);
        }
        let mut words = Vec::new();
        collect_words(&node, &mut words);
        let f = &self.fields;
        let mut loosened = false;
        let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut optional: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut unmatched = Vec::new();
        let all_added = words.iter().all(|w| is_added_word(w));
        for word in &words {
            let strict = self.word_query(None, word);
            let mut alternatives: Vec<Box<dyn Query>> = vec![strict];
            if let Some(loose) = self.most_bigrams(word) {
                alternatives.push(Box::new(BoostQuery::new(loose, TITLE * 0.5)));
                loosened = true;
            }
            let normalized = tokenizer_dict::normalize(word).into_string();
            let readings = if normalized.is_ascii() {
                tokenizer_dict::romaji_readings(&normalized)
            } else {
                vec![normalized.clone()]
            };
            for text in readings.iter().filter(|t| t.chars().count() >= 2) {
                let tokens = self.positioned_tokens(TokenView::FoldedReadingBigrams, text);
                for (field, boost) in [(f.title_fold, TITLE * 0.5), (f.author_fold, AUTHOR * 0.5)] {
                    if let Some(query) = self.tokens_query(field, TokenView::FoldedReadingBigrams, &tokens) {
                        alternatives.push(Box::new(BoostQuery::new(query, boost)));
                        loosened = true;
                    }
                }
            }
            if normalized.chars().all(|c| c.is_ascii_alphabetic()) && normalized.len() >= 5 {
                let distance = if normalized.len() >= 8 { 2 } else { 1 };
                for (field, boost) in [(f.title_morph, TITLE * 0.4), (f.author_morph, AUTHOR * 0.4)] {
                    let term = self.term(field, &normalized);
                    alternatives
                        .push(Box::new(BoostQuery::new(Box::new(FuzzyTermQuery::new(term, distance, true)), boost)));
                    if normalized.len() >= 6 {
                        let prefix = RegexQuery::from_pattern(&format!("{}.+", regex_escape(&normalized)), field)?;
                        alternatives.push(Box::new(BoostQuery::new(Box::new(prefix), boost * 0.8)));
                    }
                    for other in other_spellings(&normalized) {
                        let exact = TermQuery::new(self.term(field, &other), IndexRecordOption::WithFreqs);
                        alternatives.push(Box::new(BoostQuery::new(Box::new(exact), boost * 1.5)));
                    }
                }
                loosened = true;
            }
            let either: Box<dyn Query> = Box::new(DisjunctionMaxQuery::with_tie_breaker(alternatives, 0.1));
            if searcher.search(either.as_ref(), &Count)? == 0 {
                unmatched.push(word.clone());
            }
            if is_added_word(word) && !all_added {
                optional.push((Occur::Should, either));
                loosened = true;
            } else {
                required.push((Occur::Should, either));
            }
        }
        if required.is_empty() {
            return Ok(None);
        }
        let minimum = if required.len() >= 2 {
            loosened = true;
            required.len() - 1
        } else {
            1
        };
        if !loosened {
            return Ok(None);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::with_minimum_required_clauses(required, minimum)))];
        clauses.extend(optional);
        Ok(Some((Box::new(BooleanQuery::new(clauses)), unmatched)))
    }

    /// For a keyword query of plain words that found nothing: each long Japanese word
    /// (four characters or more) as most of its title bigrams rather than all of them in
    /// order, the other words as they are. `None` when no word is long and Japanese.
    ///
    /// Catalogues put words inside a title that patrons leave out (「仮屋坂遺跡 (第 3次)
    /// 発掘調查概報」, 「[算術問答書] 卷二」); typed without them, the title lacks the
    /// bigram across the gap (跡発) and the phrase fails. One bigram in five may be
    /// missing, at least one.
    fn relaxed_query(&self, request: &SearchRequest) -> Result<Option<Box<dyn Query>>> {
        let node = request_node(request)?;
        if !is_plain_words(&node) {
            return Ok(None);
        }
        let mut words = Vec::new();
        collect_words(&node, &mut words);
        let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut loosened = false;
        for word in &words {
            match self.most_bigrams(word) {
                Some(loose) => {
                    musts.push((Occur::Must, loose));
                    loosened = true;
                }
                None => musts.push((Occur::Must, self.word_query(None, word))),
            }
        }
        Ok(loosened.then(|| Box::new(BooleanQuery::new(musts)) as Box<dyn Query>))
    }

    /// A long Japanese word (three title bigrams or more) as most of its title bigrams:
    /// one in five may be missing, at least one.
    fn most_bigrams(&self, word: &str) -> Option<Box<dyn Query>> {
        let grams: Vec<String> = self
            .view_tokens(TokenView::Bigrams, word)
            .into_iter()
            .map(|(_, gram)| gram)
            .filter(|gram| gram.chars().count() == 2)
            .collect();
        if grams.len() < 3 {
            return None;
        }
        let required = grams.len() - (grams.len() / 5).max(1);
        let clauses: Vec<(Occur, Box<dyn Query>)> = grams
            .iter()
            .map(|gram| {
                let term = self.term(self.fields.title_bigram, gram);
                (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
            })
            .collect();
        Some(Box::new(BooleanQuery::with_minimum_required_clauses(clauses, required)))
    }

    /// The tantivy query of a request, and the query's words (for highlighting).
    fn build_query(&self, request: &SearchRequest) -> Result<(Box<dyn Query>, Vec<String>)> {
        match request.mode {
            MatchMode::ExactTitle => {
                let key = self.tokens(TokenView::ExactKey, &request.query);
                let Some(key) = key.into_iter().next() else {
                    return Err(parse_query("")
                        .err()
                        .map_or_else(|| Error::Request("empty title".into()), Error::Query));
                };
                Ok((
                    Box::new(TermQuery::new(self.term(self.fields.title_exact, &key), IndexRecordOption::Basic)),
                    vec![request.query.clone()],
                ))
            }
            MatchMode::TitlePrefix => {
                let node = QueryNode::TitlePrefix(request.query.clone());
                Ok((self.node_query(&node)?, vec![request.query.clone()]))
            }
            MatchMode::Keywords => {
                let node = request_node(request)?;
                let mut words = Vec::new();
                collect_words(&node, &mut words);
                let mut query = self.node_query(&node)?;
                // Known-item boosts: the whole query as the exact title, and as a title phrase.
                let plain: Vec<&str> = words.iter().map(String::as_str).collect();
                if is_plain_words(&node) && !plain.is_empty() {
                    let whole = plain.join(" ");
                    let mut should: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
                    if let Some(analysis) = cached_analysis(&self.analyzer, &whole) {
                        let mut keys = vec![analysis.keys.exact.clone()];
                        if !keys.contains(&analysis.keys.reading) {
                            keys.push(analysis.keys.reading.clone());
                        }
                        for key in keys.into_iter().filter(|k| !k.is_empty()) {
                            let exact =
                                TermQuery::new(self.term(self.fields.title_exact, &key), IndexRecordOption::Basic);
                            should.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), EXACT_TITLE))));
                        }
                    }
                    if let Some(phrase) = self.view_query(self.fields.title_bigram, TokenView::Bigrams, &whole) {
                        should.push((Occur::Should, Box::new(BoostQuery::new(phrase, TITLE_PHRASE))));
                    }
                    query = Box::new(BooleanQuery::new(should));
                }
                Ok((query, words))
            }
        }
    }

    fn with_filters(&self, query: Box<dyn Query>, filters: &Filters) -> Box<dyn Query> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let selections = [
            (Kind::Ndc, &filters.ndc),
            (Kind::Lang, &filters.lang),
            (Kind::Material, &filters.material),
            (Kind::Author, &filters.author),
            (Kind::Subject, &filters.subject),
            (Kind::Branch, &filters.branch),
            (Kind::Available, &filters.available),
        ];
        for (kind, value) in selections {
            if let Some(value) = value {
                let term = Term::from_field_text(f.facet, &facets::term(kind, value));
                clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
            }
        }
        if filters.year_from.is_some() || filters.year_to.is_some() {
            clauses.push((Occur::Must, self.year_range(filters.year_from, filters.year_to)));
        }
        if clauses.is_empty() {
            return query;
        }
        clauses.insert(0, (Occur::Must, query));
        Box::new(BooleanQuery::new(clauses))
    }

    fn year_range(&self, from: Option<i64>, to: Option<i64>) -> Box<dyn Query> {
        let bound = |year: Option<i64>, inclusive: fn(Term) -> Bound<Term>| {
            year.map_or(Bound::Unbounded, |y| inclusive(Term::from_field_i64(self.fields.year, y)))
        };
        Box::new(RangeQuery::new(bound(from, Bound::Included), bound(to, Bound::Included)))
    }

    fn node_query(&self, node: &QueryNode) -> Result<Box<dyn Query>> {
        Ok(match node {
            QueryNode::Term { field, text } | QueryNode::Phrase { field, text } => self.word_query(*field, text),
            QueryNode::And(nodes) => {
                let mut clauses = Vec::with_capacity(nodes.len());
                let mut positive = false;
                for node in nodes {
                    match node {
                        QueryNode::Not(inner) => clauses.push((Occur::MustNot, self.node_query(inner)?)),
                        other => {
                            positive = true;
                            clauses.push((Occur::Must, self.node_query(other)?));
                        }
                    }
                }
                if !positive {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            QueryNode::Or(nodes) => {
                let mut clauses = Vec::with_capacity(nodes.len());
                for node in nodes {
                    clauses.push((Occur::Should, self.node_query(node)?));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            QueryNode::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.node_query(inner)?),
            ])),
            QueryNode::YearRange { from, to } => self.year_range(from.map(i64::from), to.map(i64::from)),
            QueryNode::ExactTitle(text) => match self.tokens(TokenView::ExactKey, text).into_iter().next() {
                Some(key) => {
                    Box::new(TermQuery::new(self.term(self.fields.title_exact, &key), IndexRecordOption::Basic))
                }
                None => Box::new(EmptyQuery),
            },
            QueryNode::TitlePrefix(text) => match self.tokens(TokenView::ExactKey, text).into_iter().next() {
                Some(key) => {
                    Box::new(RegexQuery::from_pattern(&format!("{}.*", regex_escape(&key)), self.fields.title_exact)?)
                }
                None => Box::new(EmptyQuery),
            },
        })
    }

    /// A word (or phrase) in one field, or in all of them.
    fn word_query(&self, field: Option<SearchField>, text: &str) -> Box<dyn Query> {
        let f = &self.fields;
        let mut views: Vec<(Field, TokenView, f32)> = Vec::new();
        let title = [
            (f.title_morph, TokenView::Morphemes, TITLE),
            (f.title_bigram, TokenView::Bigrams, TITLE * 0.8),
            (f.title_reading, TokenView::ReadingBigrams, TITLE * 0.6),
            (f.title_romaji, TokenView::Romaji, TITLE * 0.6),
        ];
        let author = [
            (f.author_morph, TokenView::Morphemes, AUTHOR),
            (f.author_bigram, TokenView::Bigrams, AUTHOR * 0.8),
            (f.author_reading, TokenView::ReadingBigrams, AUTHOR * 0.6),
            (f.author_romaji, TokenView::Romaji, AUTHOR * 0.6),
        ];
        let subject = [
            (f.subject_morph, TokenView::Morphemes, SUBJECT),
            (f.subject_bigram, TokenView::Bigrams, SUBJECT * 0.8),
            (f.subject_reading, TokenView::ReadingBigrams, SUBJECT * 0.5),
        ];
        let publisher =
            [(f.publisher_morph, TokenView::Morphemes, OTHER), (f.publisher_bigram, TokenView::Bigrams, OTHER * 0.8)];
        let other = [(f.other_morph, TokenView::Morphemes, OTHER), (f.other_bigram, TokenView::Bigrams, OTHER * 0.6)];
        let mut extra: Vec<Box<dyn Query>> = Vec::new();
        match field {
            None => {
                views.extend(title);
                views.extend(author);
                views.extend(subject);
                views.extend(publisher);
                views.extend(other);
                if let Some(isbn) = catalogue::isbn13(text).filter(|_| looks_like_isbn(text)) {
                    extra.push(Box::new(BoostQuery::new(Box::new(self.isbn_query(&isbn)), EXACT_TITLE)));
                }
                // 断腸亭日乗 2: the volume, whichever way its record writes the number ("02",
                // 第2巻, 490 $v), before the other volumes.
                if let Some(volume) = crate::volume::typed(text) {
                    let term = Term::from_field_text(f.volume, &volume);
                    extra.push(Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                        VOLUME,
                    )));
                }
            }
            Some(SearchField::Title) => views.extend(title),
            Some(SearchField::Author) => views.extend(author),
            Some(SearchField::Subject) => views.extend(subject),
            Some(SearchField::Publisher) => views.extend(publisher),
            Some(SearchField::Isbn) => {
                return match catalogue::isbn13(text) {
                    Some(isbn) => Box::new(self.isbn_query(&isbn)),
                    None => Box::new(EmptyQuery),
                };
            }
            Some(SearchField::Ndc) => {
                let class: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
                if class.is_empty() {
                    return Box::new(EmptyQuery);
                }
                return match RegexQuery::from_pattern(&format!("{}.*", regex_escape(&class)), f.ndc) {
                    Ok(query) => Box::new(query),
                    Err(_) => Box::new(EmptyQuery),
                };
            }
            Some(SearchField::Lang) => {
                return Box::new(TermQuery::new(
                    Term::from_field_text(f.lang, &text.trim().to_lowercase()),
                    IndexRecordOption::Basic,
                ));
            }
            Some(SearchField::Id) => {
                let text = text.trim();
                let by_control: Box<dyn Query> =
                    Box::new(TermQuery::new(Term::from_field_text(f.control_number, text), IndexRecordOption::Basic));
                return match text.parse::<u64>() {
                    Ok(id) => Box::new(BooleanQuery::union(vec![
                        by_control,
                        Box::new(TermQuery::new(Term::from_field_u64(f.id, id), IndexRecordOption::Basic)),
                    ])),
                    Err(_) => by_control,
                };
            }
        }
        // A one-character word (「城」) is also looked for at the start of longer title
        // words, below the titles where it stands alone.
        let mut chars = text.trim().chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && matches!(field, None | Some(SearchField::Title))
            && !c.is_ascii()
        {
            let c = tokenizer_dict::normalize(&c.to_string()).into_string();
            // Only words starting with it (城 finds 城下町; 古城 waits for a unigram
            // field): one term of the field of bigram leads, where a pattern over the
            // bigrams was a union of every bigram starting with it.
            let leads = TermQuery::new(self.term(f.title_lead, &c), IndexRecordOption::Basic);
            extra.push(Box::new(BoostQuery::new(Box::new(ConstScoreQuery::new(Box::new(leads), 1.0)), TITLE * 0.3)));
        }
        let mut disjuncts = extra;
        // The fields share views: each view of the word is computed once, not per field.
        let mut analysed: Vec<(TokenView, Vec<(usize, String)>)> = Vec::new();
        for (field, view, boost) in views {
            let index = match analysed.iter().position(|(v, _)| *v == view) {
                Some(index) => index,
                None => {
                    analysed.push((view, self.view_tokens(view, text)));
                    analysed.len() - 1
                }
            };
            let tokens = &analysed[index].1;
            if let Some(query) = self.tokens_query(field, view, tokens) {
                disjuncts.push(Box::new(BoostQuery::new(query, boost)));
            }
        }
        if disjuncts.is_empty() {
            return Box::new(EmptyQuery);
        }
        Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, 0.1))
    }

    fn isbn_query(&self, isbn13: &str) -> TermQuery {
        TermQuery::new(Term::from_field_text(self.fields.isbn, isbn13), IndexRecordOption::Basic)
    }

    /// `text` as analysed by `view`, as a term or phrase query on `field`.
    fn view_query(&self, field: Field, view: TokenView, text: &str) -> Option<Box<dyn Query>> {
        self.tokens_query(field, view, &self.view_tokens(view, text))
    }

    /// The positioned tokens of `text` that `view` looks for (none when the view does not
    /// apply to such a text).
    fn view_tokens(&self, view: TokenView, text: &str) -> Vec<(usize, String)> {
        if view == TokenView::Romaji && !tokenizer_dict::normalize(text).as_str().is_ascii() {
            return Vec::new(); // romaji match romanised input only
        }
        if view == TokenView::ReadingBigrams && text.chars().any(is_kanji) {
            // Readings carry words typed in kana (としょかん finds 図書館). A word with kanji
            // is found by its writing; by its reading it would only add homophones (公開
            // こうかい: 22 records of LC 250k, and 77 more of 航海, 後悔, 黄海 …) at the
            // price of phrase queries over the commonest kana pairs, 40 % of the time of a
            // query at 1M records.
            return Vec::new();
        }
        let mut tokens = self.positioned_tokens(view, text);
        if view == TokenView::Bigrams && tokens.len() > 1 {
            // One-character words share positions with bigrams: match by the bigrams.
            tokens.retain(|(_, token)| token.chars().count() == 2);
        }
        tokens
    }

    /// Tokens of one view as a term or phrase query on `field`.
    fn tokens_query(&self, field: Field, view: TokenView, tokens: &[(usize, String)]) -> Option<Box<dyn Query>> {
        match tokens.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(self.term(field, &tokens[0].1), IndexRecordOption::WithFreqs))),
            _ if view == TokenView::Romaji => {
                // Hepburn and wāpuro forms share a position: any form of each word.
                let mut by_position: Vec<(usize, Vec<Box<dyn Query>>)> = Vec::new();
                for (position, token) in tokens {
                    let position = *position;
                    let query: Box<dyn Query> =
                        Box::new(TermQuery::new(self.term(field, token), IndexRecordOption::WithFreqs));
                    match by_position.iter_mut().find(|(p, _)| *p == position) {
                        Some((_, forms)) => forms.push(query),
                        None => by_position.push((position, vec![query])),
                    }
                }
                let musts = by_position
                    .into_iter()
                    .map(|(_, forms)| (Occur::Must, Box::new(BooleanQuery::union(forms)) as Box<dyn Query>))
                    .collect();
                Some(Box::new(BooleanQuery::new(musts)))
            }
            _ => {
                let first = tokens[0].0;
                let terms: Vec<(usize, Term)> = tokens
                    .iter()
                    .map(|(position, token)| (position.saturating_sub(first), self.term(field, token)))
                    .collect();
                Some(Box::new(PhraseQuery::new_with_offset(terms)))
            }
        }
    }

    fn term(&self, field: Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }

    fn analyzer_for(&self, view: TokenView) -> Option<TextAnalyzer> {
        self.inner.tokenizers().get(view.tokenizer_name())
    }

    fn positioned_tokens(&self, view: TokenView, text: &str) -> Vec<(usize, String)> {
        let Some(mut analyzer) = self.analyzer_for(view) else { return Vec::new() };
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let token = stream.token();
            out.push((token.position, token.text.clone()));
        }
        out
    }

    fn tokens(&self, view: TokenView, text: &str) -> Vec<String> {
        self.positioned_tokens(view, text).into_iter().map(|(_, t)| t).collect()
    }

    fn hits(&self, searcher: &Searcher, addresses: &[(f32, DocAddress)], words: &[String]) -> Result<Vec<Hit>> {
        let f = &self.fields;
        let wanted = self.highlight_terms(words);
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(*address)?;
            let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let texts =
                |field: Field| doc.get_all(field).filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>();
            let title = text(f.title);
            let isbn: Vec<String> = texts(f.isbn).into_iter().filter(|i| i.len() == 13).collect();
            hits.push(Hit {
                id: doc.get_first(f.id).and_then(|v| v.as_u64()).unwrap_or_default(),
                control_number: text(f.control_number),
                highlights: self.highlights(&title, &wanted),
                title,
                title_reading: text(f.title_reading_display),
                authors: texts(f.author),
                publisher: texts(f.publisher),
                year: doc.get_first(f.year).and_then(|v| v.as_i64()),
                isbn,
                ndc: texts(f.ndc),
                score: *score,
            });
        }
        Ok(hits)
    }

    /// The morphemes and grams of the query words, analysed once per request (and
    /// usually not even that: building the query analysed them already).
    fn highlight_terms(&self, words: &[String]) -> Vec<String> {
        let mut wanted = HashSet::new();
        for word in words {
            if let Some(query) = cached_analysis(&self.analyzer, word) {
                wanted.extend(query.morphemes.iter().map(|m| m.normalized.clone()));
                wanted.extend(query.bigrams.iter().map(|g| g.text.clone()));
                wanted.extend(query.unigrams.iter().map(|g| g.text.clone()));
            }
        }
        wanted.into_iter().filter(|term| !term.is_empty()).collect()
    }

    /// Byte ranges of `title` where a query word's morphemes or grams occur, found in the
    /// normalised title rather than in its analysis: a hit list would otherwise segment
    /// twenty titles per query (40 % of a query's time at 250k records). Japanese terms
    /// match wherever they occur (a query's bigrams cover its words, as the title's own
    /// bigrams would); a Latin word or a number only as a whole word, where the
    /// segmenter would cut it (between letters and digits, at anything else).
    fn highlights(&self, title: &str, wanted: &[String]) -> Vec<(usize, usize)> {
        if wanted.is_empty() {
            return Vec::new();
        }
        let normalized = tokenizer_dict::normalize(title);
        let text = normalized.as_str();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for term in wanted {
            let (Some(first), Some(last)) = (term.chars().next(), term.chars().next_back()) else { continue };
            for (start, _) in text.match_indices(term.as_str()) {
                let end = start + term.len();
                let before = text[..start].chars().next_back();
                let after = text[end..].chars().next();
                let cut_before = before.is_none_or(|c| word_class(c) != word_class(first) || word_class(c).is_none());
                let cut_after = after.is_none_or(|c| word_class(c) != word_class(last) || word_class(c).is_none());
                if cut_before && cut_after {
                    let original = normalized.original_range(start..end);
                    ranges.push((original.start, original.end));
                }
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// For highlighting: letters and digits of scripts written with spaces between words
/// (the segmenter keeps a run of either together), `None` for anything else, Japanese
/// included.
fn word_class(c: char) -> Option<bool> {
    if (c as u32) >= 0x2E80 || !c.is_alphanumeric() {
        return None;
    }
    Some(c.is_numeric())
}

/// The `id` column of each segment searched, opened once: opening it parses its codec's
/// block index, which done for every query was 5 % of a query's time at 1M records.
#[derive(Default)]
pub(crate) struct IdColumns {
    segments: Mutex<HashMap<SegmentId, Column<u64>>>,
}

impl IdColumns {
    fn column(&self, reader: &SegmentReader) -> tantivy::Result<Column<u64>> {
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(column) = segments.get(&reader.segment_id()) {
            return Ok(column.clone());
        }
        let column = reader.fast_fields().u64("id")?;
        segments.insert(reader.segment_id(), column.clone());
        Ok(column)
    }

    /// Forgets segments that are no longer searched.
    fn retain(&self, live: &[SegmentId]) {
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if segments.len() > live.len() {
            segments.retain(|id, _| live.contains(id));
        }
    }
}

/// Sorts by bib id, read from the cached columns.
struct ById(Arc<IdColumns>);

impl SortKeyComputer for ById {
    type SortKey = Option<u64>;
    type Child = IdOfDoc;
    type Comparator = NaturalComparator;

    fn segment_sort_key_computer(&self, reader: &SegmentReader) -> tantivy::Result<IdOfDoc> {
        Ok(IdOfDoc(self.0.column(reader)?))
    }
}

/// The bib id of a document of one segment.
struct IdOfDoc(Column<u64>);

impl SegmentSortKeyComputer for IdOfDoc {
    type SortKey = Option<u64>;
    type SegmentSortKey = Option<u64>;
    type SegmentComparator = NaturalComparator;

    fn segment_sort_key(&mut self, doc: DocId, _score: Score) -> Option<u64> {
        self.0.first(doc)
    }

    fn convert_segment_sort_key(&self, id: Option<u64>) -> Option<u64> {
        id
    }
}

/// The near-match query of a search, and the words no record has even read loosely.
type NearQuery = (Box<dyn Query>, Vec<String>);

/// What one pass over the matching documents gives: the total, this page's hits with
/// their scores, and the facets if they were asked for.
type Collected = (usize, Vec<(f32, DocAddress)>, Option<FacetCounts>);

/// Runs an unscored search (a sort by a field) for its hits, total and facets.
fn search_unscored<K>(
    searcher: &Searcher,
    query: &dyn Query,
    top: impl Collector<Fruit = Vec<(K, DocAddress)>>,
    facets: Option<FacetCollector<'_>>,
) -> Result<Collected>
where
    K: Send + Sync + 'static,
{
    let (hits, total, facets) = searcher.search(query, &(top, Count, facets))?;
    Ok((total, hits.into_iter().map(|(_, address)| (0.0, address)).collect(), facets))
}

/// The parsed query of a keyword request (parsed by the caller, or here).
fn request_node(request: &SearchRequest) -> Result<QueryNode> {
    match &request.parsed {
        Some(node) => Ok(node.clone()),
        None => Ok(parse_query(&request.query)?),
    }
}

fn collect_words(node: &QueryNode, out: &mut Vec<String>) {
    match node {
        QueryNode::Term { text, .. } | QueryNode::Phrase { text, .. } => out.push(text.clone()),
        QueryNode::And(nodes) | QueryNode::Or(nodes) => nodes.iter().for_each(|n| collect_words(n, out)),
        QueryNode::ExactTitle(text) | QueryNode::TitlePrefix(text) => out.push(text.clone()),
        QueryNode::Not(_) | QueryNode::YearRange { .. } => {}
    }
}

/// Words without fields or operators: the query may be a title typed as it is.
fn is_plain_words(node: &QueryNode) -> bool {
    match node {
        QueryNode::Term { field: None, .. } | QueryNode::Phrase { field: None, .. } => true,
        QueryNode::And(nodes) => nodes
            .iter()
            .all(|n| matches!(n, QueryNode::Term { field: None, .. } | QueryNode::Phrase { field: None, .. })),
        _ => false,
    }
}

/// CJK ideographs (all blocks), and 々 〆 ヶ which behave like them.
fn is_kanji(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}'
        | '\u{3005}' | '\u{3006}' | '\u{3007}' | '\u{30F6}')
}

fn looks_like_isbn(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_alphanumeric).count();
    (digits == 10 || digits == 13) && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | 'x' | 'X' | ' '))
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A word patrons add to a title (本, 小説, 全集 …), which a near match does not require.
fn is_added_word(word: &str) -> bool {
    let normalized = tokenizer_dict::normalize(word).into_string();
    ADDED_WORDS.contains(&normalized.trim())
}

/// The other spelling of an English word, British or American (catalogue / catalog,
/// colour / color, centre / center, organise / organize), when it has one.
fn other_spellings(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let swaps: [(&str, &str); 8] = [
        ("logue", "log"),
        ("log", "logue"),
        ("our", "or"),
        ("or", "our"),
        ("tre", "ter"),
        ("ter", "tre"),
        ("ise", "ize"),
        ("ize", "ise"),
    ];
    for (from, to) in swaps {
        if let Some(stem) = word.strip_suffix(from)
            && stem.len() >= 3
        {
            out.push(format!("{stem}{to}"));
        }
    }
    for (from, to) in [("isation", "ization"), ("ization", "isation"), ("ogues", "ogs"), ("ours", "ors")] {
        if let Some(stem) = word.strip_suffix(from)
            && stem.len() >= 2
        {
            out.push(format!("{stem}{to}"));
        }
    }
    out
}
