//! The tantivy schema: stored fields for display, fast fields for facets and sorts, and
//! each searchable text indexed through several views of the Japanese analysis.
//!
//! A record reaches tantivy as a [`RecordDocument`]: each distinct text of the record is
//! analysed once (on the indexing thread that maps the record), and every view of it is
//! handed to tantivy as pre-tokenised text cut from that one analysis, so tantivy's own
//! threads only write postings. The views are exactly what [`crate::JapaneseTokenizer`]
//! emits for the same text, which is what queries are analysed with.

use std::sync::Arc;

use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
use tantivy::schema::{
    Document, FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::PreTokenizedString;
use tokenizer_dict::{Analysis, JapaneseAnalyzer};

use crate::document::BibDocument;
use crate::facets::facet_terms;
use crate::tokenizer::{TokenView, tokens};

/// Handles of every field of the schema.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub(crate) schema: Schema,
    pub(crate) id: Field,
    pub(crate) control_number: Field,
    pub(crate) title: Field,
    pub(crate) title_reading_display: Field,
    pub(crate) author: Field,
    pub(crate) publisher: Field,
    pub(crate) isbn: Field,
    pub(crate) issn: Field,
    pub(crate) ndc: Field,
    pub(crate) class: Field,
    pub(crate) year: Field,
    pub(crate) lang: Field,
    pub(crate) material: Field,
    pub(crate) facet: Field,
    pub(crate) title_sort: Field,
    pub(crate) title_morph: Field,
    pub(crate) title_bigram: Field,
    pub(crate) title_lead: Field,
    pub(crate) title_reading: Field,
    pub(crate) title_fold: Field,
    pub(crate) title_romaji: Field,
    pub(crate) title_exact: Field,
    pub(crate) author_morph: Field,
    pub(crate) author_bigram: Field,
    pub(crate) author_reading: Field,
    pub(crate) author_fold: Field,
    pub(crate) volume: Field,
    pub(crate) author_romaji: Field,
    pub(crate) subject_morph: Field,
    pub(crate) subject_bigram: Field,
    pub(crate) subject_reading: Field,
    pub(crate) publisher_morph: Field,
    pub(crate) publisher_bigram: Field,
    pub(crate) other_morph: Field,
    pub(crate) other_bigram: Field,
    pub(crate) suggest: Field,
}

fn text(view: TokenView, stored: bool) -> TextOptions {
    let record = match view {
        TokenView::ExactKey => IndexRecordOption::WithFreqs,
        TokenView::BigramLeads => IndexRecordOption::Basic,
        _ => IndexRecordOption::WithFreqsAndPositions,
    };
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(view.tokenizer_name()).set_index_option(record),
    );
    if stored { options.set_stored() } else { options }
}

impl Fields {
    pub(crate) fn new() -> Fields {
        let mut b = Schema::builder();
        let id = b.add_u64_field("id", INDEXED | STORED | FAST);
        let control_number = b.add_text_field("control_number", STRING | STORED);
        let title = b.add_text_field("title", STORED);
        let title_reading_display = b.add_text_field("title_reading", STORED);
        let author = b.add_text_field("author", STORED);
        let publisher = b.add_text_field("publisher", STORED);
        let isbn = b.add_text_field("isbn", STRING | STORED);
        let issn = b.add_text_field("issn", STRING | STORED);
        let ndc = b.add_text_field("ndc", STRING | STORED);
        let class = b.add_text_field("class", STRING | STORED);
        let year = b.add_i64_field("year", INDEXED | STORED | FAST);
        let lang = b.add_text_field("lang", STRING | STORED);
        let material = b.add_text_field("material", STRING | STORED);
        // Every facet value (see facets.rs): filtered on as terms, counted from the column.
        let facet = b.add_text_field(crate::facets::FIELD, STRING | FAST);
        // Sorted on, never searched: a column only.
        let title_sort = b.add_text_field("title_sort", FAST);
        let title_morph = b.add_text_field("title_morph", text(TokenView::Morphemes, false));
        let title_bigram = b.add_text_field("title_bigram", text(TokenView::Bigrams, false));
        let title_lead = b.add_text_field("title_lead", text(TokenView::BigramLeads, false));
        let title_reading = b.add_text_field("title_reading_bigram", text(TokenView::ReadingBigrams, false));
        let title_fold = b.add_text_field("title_fold", text(TokenView::FoldedReadingBigrams, false));
        let title_romaji = b.add_text_field("title_romaji", text(TokenView::Romaji, false));
        let title_exact = b.add_text_field("title_exact", text(TokenView::ExactKey, false));
        let author_morph = b.add_text_field("author_morph", text(TokenView::Morphemes, false));
        let author_bigram = b.add_text_field("author_bigram", text(TokenView::Bigrams, false));
        let author_reading = b.add_text_field("author_reading_bigram", text(TokenView::ReadingBigrams, false));
        let author_fold = b.add_text_field("author_fold", text(TokenView::FoldedReadingBigrams, false));
        let author_romaji = b.add_text_field("author_romaji", text(TokenView::Romaji, false));
        // Volume numbers in one form (volume.rs): terms only.
        let volume = b.add_text_field("volume", STRING);
        let subject_morph = b.add_text_field("subject_morph", text(TokenView::Morphemes, false));
        let subject_bigram = b.add_text_field("subject_bigram", text(TokenView::Bigrams, false));
        let subject_reading = b.add_text_field("subject_reading_bigram", text(TokenView::ReadingBigrams, false));
        let publisher_morph = b.add_text_field("publisher_morph", text(TokenView::Morphemes, false));
        let publisher_bigram = b.add_text_field("publisher_bigram", text(TokenView::Bigrams, false));
        let other_morph = b.add_text_field("other_morph", text(TokenView::Morphemes, false));
        let other_bigram = b.add_text_field("other_bigram", text(TokenView::Bigrams, false));
        let suggest = b.add_text_field("suggest", STRING);
        Fields {
            schema: b.build(),
            id,
            control_number,
            title,
            title_reading_display,
            author,
            publisher,
            isbn,
            issn,
            ndc,
            class,
            year,
            lang,
            material,
            facet,
            title_sort,
            title_morph,
            title_bigram,
            title_lead,
            title_reading,
            title_fold,
            title_romaji,
            title_exact,
            author_morph,
            author_bigram,
            author_reading,
            author_fold,
            volume,
            author_romaji,
            subject_morph,
            subject_bigram,
            subject_reading,
            publisher_morph,
            publisher_bigram,
            other_morph,
            other_bigram,
            suggest,
        }
    }

    /// The tantivy document of a record. `title_reading` is the reading shown and sorted
    /// on: the catalogued one when there is one, else the analyser's. Texts are analysed
    /// through `analyses`, once each.
    pub(crate) fn document(
        &self,
        doc: &BibDocument,
        title_reading: &str,
        suggestions: &[String],
        analyses: &mut Analyses<'_>,
    ) -> RecordDocument {
        let mut d = RecordDocument::default();
        d.add_u64(self.id, doc.id);
        d.add_text(self.control_number, &doc.control_number);
        d.add_text(self.title, &doc.title);
        d.add_text(self.title_reading_display, title_reading);
        d.add_text(self.title_sort, &sort_key(title_reading, &doc.title));
        for author in &doc.authors {
            d.add_text(self.author, author);
        }
        for publisher in &doc.publishers {
            d.add_text(self.publisher, publisher);
        }
        for isbn in &doc.isbns {
            d.add_text(self.isbn, isbn);
            if let Some(isbn10) = isbn10(isbn) {
                d.add_text(self.isbn, &isbn10);
            }
        }
        for issn in &doc.issns {
            d.add_text(self.issn, issn);
        }
        for ndc in &doc.ndc {
            d.add_text(self.ndc, ndc);
        }
        for class in &doc.classes {
            d.add_text(self.class, class);
        }
        if let Some(year) = doc.year {
            d.add_i64(self.year, year);
        }
        for lang in &doc.languages {
            d.add_text(self.lang, lang);
        }
        d.add_text(self.material, doc.material);
        for suggestion in suggestions {
            d.add_text(self.suggest, suggestion);
        }
        for term in facet_terms(doc) {
            d.add_text(self.facet, &term);
        }
        // The order of the values of a field is the order they were added in before the
        // views were pre-tokenised (positions continue from one value to the next).
        // The romaji view of a text that has no reading (an English title, a Latin name)
        // would repeat its morpheme view word for word: twice the postings for nothing, as
        // a romanised query word is looked for in both. Romanisations catalogued as such
        // (LC's romanised 245, 880 `/(B`, name readings) keep their romaji view.
        for title in &doc.titles {
            let analysis = analyses.get(title);
            for (field, view) in [
                (self.title_morph, TokenView::Morphemes),
                (self.title_bigram, TokenView::Bigrams),
                (self.title_lead, TokenView::BigramLeads),
                (self.title_reading, TokenView::ReadingBigrams),
                (self.title_fold, TokenView::FoldedReadingBigrams),
                (self.title_exact, TokenView::ExactKey),
            ] {
                d.add_view(field, &analysis, view);
            }
            if analysis.has_romaji() {
                d.add_view(self.title_romaji, &analysis, TokenView::Romaji);
            }
        }
        for proper in &doc.title_proper {
            d.add_view(self.title_exact, &analyses.get(proper), TokenView::ExactKey);
        }
        // The reading of the whole title is a key too: でんししょせきのつくりかた typed in
        // full is that title, not one that merely contains it.
        d.add_view(self.title_exact, &analyses.get(title_reading), TokenView::ExactKey);
        for reading in &doc.title_readings {
            let analysis = analyses.get(reading);
            d.add_view(self.title_reading, &analysis, TokenView::ReadingBigrams);
            d.add_view(self.title_fold, &analysis, TokenView::FoldedReadingBigrams);
            d.add_view(self.title_romaji, &analysis, TokenView::Romaji);
        }
        for romanised in &doc.title_romanised {
            let analysis = analyses.get(romanised);
            d.add_view(self.title_romaji, &analysis, TokenView::Romaji);
            d.add_view(self.title_exact, &analysis, TokenView::ExactKey);
        }
        for author in &doc.authors {
            let analysis = analyses.get(author);
            for (field, view) in [
                (self.author_morph, TokenView::Morphemes),
                (self.author_bigram, TokenView::Bigrams),
                (self.author_reading, TokenView::ReadingBigrams),
                (self.author_fold, TokenView::FoldedReadingBigrams),
            ] {
                d.add_view(field, &analysis, view);
            }
            if analysis.has_romaji() {
                d.add_view(self.author_romaji, &analysis, TokenView::Romaji);
            }
        }
        for reading in &doc.author_readings {
            let analysis = analyses.get(reading);
            d.add_view(self.author_reading, &analysis, TokenView::ReadingBigrams);
            d.add_view(self.author_fold, &analysis, TokenView::FoldedReadingBigrams);
            d.add_view(self.author_romaji, &analysis, TokenView::Romaji);
        }
        for subject in &doc.subjects {
            let analysis = analyses.get(subject);
            for (field, view) in [
                (self.subject_morph, TokenView::Morphemes),
                (self.subject_bigram, TokenView::Bigrams),
                (self.subject_reading, TokenView::ReadingBigrams),
            ] {
                d.add_view(field, &analysis, view);
            }
        }
        for volume in &doc.volumes {
            d.add_text(self.volume, volume);
        }
        for publisher in &doc.publishers {
            let analysis = analyses.get(publisher);
            d.add_view(self.publisher_morph, &analysis, TokenView::Morphemes);
            d.add_view(self.publisher_bigram, &analysis, TokenView::Bigrams);
        }
        for other in doc.series.iter().chain(&doc.notes) {
            let analysis = analyses.get(other);
            d.add_view(self.other_morph, &analysis, TokenView::Morphemes);
            d.add_view(self.other_bigram, &analysis, TokenView::Bigrams);
        }
        d
    }
}

/// A text and its analysis; `None` if the analyser failed on it, in which case the text
/// is indexed with no tokens rather than failing the whole batch (as the tokenizers do).
#[derive(Debug)]
pub(crate) struct Analysed {
    pub(crate) text: String,
    pub(crate) analysis: Option<Analysis>,
}

impl Analysed {
    /// Whether any word of the text has a romanised reading.
    fn has_romaji(&self) -> bool {
        self.analysis.as_ref().is_some_and(|a| a.morphemes.iter().any(|m| m.romaji.is_some()))
    }
}

/// The analyses of one record's texts: a text met again (the title is indexed through
/// five views, and read for suggestions and its reading) is not analysed again.
pub(crate) struct Analyses<'a> {
    analyzer: &'a JapaneseAnalyzer,
    done: Vec<Arc<Analysed>>,
}

impl<'a> Analyses<'a> {
    pub(crate) fn new(analyzer: &'a JapaneseAnalyzer) -> Analyses<'a> {
        Analyses { analyzer, done: Vec::new() }
    }

    /// `text` with its analysis.
    pub(crate) fn get(&mut self, text: &str) -> Arc<Analysed> {
        if let Some(done) = self.done.iter().find(|done| done.text == text) {
            return done.clone();
        }
        let analysed = Arc::new(Analysed { text: text.to_string(), analysis: self.analyzer.analyze(text).ok() });
        self.done.push(analysed.clone());
        analysed
    }
}

/// A record as handed to tantivy's index writer: plain values, and views of analysed
/// texts that become pre-tokenised text when tantivy reads them. It is indexed in place
/// (tantivy's writer takes any [`Document`]), so the tokens are not serialised and parsed
/// again as they would be inside a `TantivyDocument`.
#[derive(Debug, Default)]
pub(crate) struct RecordDocument {
    values: Vec<(Field, FieldValue)>,
}

/// One value of a [`RecordDocument`].
#[derive(Debug)]
pub(crate) enum FieldValue {
    Text(String),
    U64(u64),
    I64(i64),
    /// A view of an analysed text.
    View(Arc<Analysed>, TokenView),
}

impl RecordDocument {
    fn add_text(&mut self, field: Field, text: &str) {
        self.values.push((field, FieldValue::Text(text.to_string())));
    }

    fn add_u64(&mut self, field: Field, value: u64) {
        self.values.push((field, FieldValue::U64(value)));
    }

    fn add_i64(&mut self, field: Field, value: i64) {
        self.values.push((field, FieldValue::I64(value)));
    }

    fn add_view(&mut self, field: Field, analysed: &Arc<Analysed>, view: TokenView) {
        self.values.push((field, FieldValue::View(analysed.clone(), view)));
    }
}

impl<'a> Value<'a> for &'a FieldValue {
    type ArrayIter = std::iter::Empty<&'a FieldValue>;
    type ObjectIter = std::iter::Empty<(&'a str, &'a FieldValue)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match *self {
            FieldValue::Text(text) => ReferenceValueLeaf::Str(text),
            FieldValue::U64(value) => ReferenceValueLeaf::U64(*value),
            FieldValue::I64(value) => ReferenceValueLeaf::I64(*value),
            // The text itself is not needed: view fields are neither stored nor fast.
            FieldValue::View(analysed, view) => ReferenceValueLeaf::PreTokStr(Box::new(PreTokenizedString {
                text: String::new(),
                tokens: analysed.analysis.as_ref().map(|analysis| tokens(analysis, *view)).unwrap_or_default(),
            })),
        })
    }
}

fn field_value(entry: &(Field, FieldValue)) -> (Field, &FieldValue) {
    (entry.0, &entry.1)
}

impl Document for RecordDocument {
    type Value<'a> = &'a FieldValue;
    type FieldsValuesIter<'a> = std::iter::Map<
        std::slice::Iter<'a, (Field, FieldValue)>,
        fn(&'a (Field, FieldValue)) -> (Field, &'a FieldValue),
    >;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.values.iter().map(field_value as fn(&(Field, FieldValue)) -> (Field, &FieldValue))
    }
}

/// 五十音順: the hiragana reading (long-vowel marks and small kana as gojūon order
/// treats them is beyond a byte sort; the reading itself sorts close), then the title.
fn sort_key(reading: &str, title: &str) -> String {
    let reading: String = tokenizer_dict::to_hiragana(reading).chars().filter(|c| !c.is_whitespace()).collect();
    let base = if reading.is_empty() { title.to_lowercase() } else { reading };
    base.chars().take(64).collect()
}

/// The ISBN-10 form of an ISBN-13 beginning 978, so both forms match as terms.
pub(crate) fn isbn10(isbn13: &str) -> Option<String> {
    let nine = isbn13.strip_prefix("978")?.get(..9)?;
    let sum: u32 = nine.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * (10 - i as u32)).sum();
    let check = (11 - sum % 11) % 11;
    Some(format!("{nine}{}", if check == 10 { 'X' } else { char::from(b'0' + check as u8) }))
}

#[cfg(test)]
mod tests {
    // Test code may unwrap: a panic is a failing test with its message.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use tantivy::postings::Postings;
    use tantivy::schema::{FieldType, TantivyDocument};
    use tantivy::{DocSet, IndexWriter, TERMINATED};

    use super::*;
    use crate::tokenizer::register_japanese_tokenizers;

    fn fixture_records(path: &str, limit: usize) -> Vec<catalogue::Record> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures").join(path);
        let bytes = std::fs::read(&path).unwrap();
        catalogue::read_records(&bytes)
            .unwrap()
            .filter_map(|source| source.result.ok().map(|(record, _)| record))
            .take(limit)
            .collect()
    }

    /// The same document with every view as plain text, for tantivy to tokenise with the
    /// registered tokenizers, as documents were indexed before views were pre-tokenised.
    fn as_plain_text(doc: &RecordDocument) -> TantivyDocument {
        let mut plain = TantivyDocument::default();
        for (field, value) in &doc.values {
            match value {
                FieldValue::Text(text) => plain.add_text(*field, text),
                FieldValue::U64(value) => plain.add_u64(*field, *value),
                FieldValue::I64(value) => plain.add_i64(*field, *value),
                FieldValue::View(analysed, _) => plain.add_text(*field, &analysed.text),
            }
        }
        plain
    }

    /// (field name, term, [(doc, term frequency, positions)]) of every term.
    type AllPostings = Vec<(String, Vec<u8>, Vec<(u32, u32, Vec<u32>)>)>;

    /// Every term of every indexed field, with its documents, frequencies and positions.
    fn postings(index: &tantivy::Index, fields: &Fields) -> AllPostings {
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        let segment = &searcher.segment_readers()[0];
        let mut out = Vec::new();
        for (field, entry) in fields.schema.fields() {
            if !entry.is_indexed() {
                continue;
            }
            let option = match entry.field_type() {
                FieldType::Str(options) => {
                    options.get_indexing_options().map_or(IndexRecordOption::Basic, |o| o.index_option())
                }
                _ => IndexRecordOption::Basic,
            };
            let inverted = segment.inverted_index(field).unwrap();
            let mut terms = inverted.terms().stream().unwrap();
            while terms.advance() {
                let mut postings = inverted.read_postings_from_terminfo(terms.value(), option).unwrap();
                let mut docs = Vec::new();
                while postings.doc() != TERMINATED {
                    let mut positions = Vec::new();
                    if option.has_positions() {
                        postings.positions(&mut positions);
                    }
                    docs.push((postings.doc(), postings.term_freq(), positions));
                    postings.advance();
                }
                out.push((entry.name().to_string(), terms.key().to_vec(), docs));
            }
        }
        out
    }

    #[test]
    fn pre_tokenised_documents_index_what_the_tokenizers_would() {
        let analyzer = Arc::new(JapaneseAnalyzer::new().unwrap());
        let fields = Fields::new();
        let mut records = fixture_records("japanese/enju-jpmarc/jpmarc_marc21_enju.dat", 233);
        records.extend(fixture_records("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc", 400));
        let pre = tantivy::Index::create_in_ram(fields.schema.clone());
        let plain = tantivy::Index::create_in_ram(fields.schema.clone());
        register_japanese_tokenizers(pre.tokenizers(), analyzer.clone());
        register_japanese_tokenizers(plain.tokenizers(), analyzer.clone());
        let mut pre_writer: IndexWriter<RecordDocument> = pre.writer_with_num_threads(1, 100_000_000).unwrap();
        let mut plain_writer: IndexWriter<TantivyDocument> = plain.writer_with_num_threads(1, 100_000_000).unwrap();
        for (id, record) in records.iter().enumerate() {
            let doc =
                crate::index::document(&fields, &analyzer, id as u64, record, &catalogue::Availability::default());
            plain_writer.add_document(as_plain_text(&doc)).unwrap();
            pre_writer.add_document(doc).unwrap();
        }
        pre_writer.commit().unwrap();
        plain_writer.commit().unwrap();
        let (pre, plain) = (postings(&pre, &fields), postings(&plain, &fields));
        assert!(pre.len() > 10_000, "{} terms", pre.len());
        for (a, b) in pre.iter().zip(&plain) {
            assert_eq!(a, b, "{} {:?}", a.0, String::from_utf8_lossy(&a.1));
        }
        assert_eq!(pre.len(), plain.len());
    }
}
