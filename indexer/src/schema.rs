//! The tantivy schema: stored fields for display, fast fields for facets and sorts, and
//! each searchable text indexed through several views of the Japanese analysis.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::document::BibDocument;
use crate::tokenizer::TokenView;

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
    pub(crate) facets: Field,
    pub(crate) title_sort: Field,
    pub(crate) title_morph: Field,
    pub(crate) title_bigram: Field,
    pub(crate) title_reading: Field,
    pub(crate) title_romaji: Field,
    pub(crate) title_exact: Field,
    pub(crate) author_morph: Field,
    pub(crate) author_bigram: Field,
    pub(crate) author_reading: Field,
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
        let lang = b.add_text_field("lang", STRING | STORED | FAST);
        let material = b.add_text_field("material", STRING | STORED | FAST);
        let facets = b.add_facet_field("facets", FacetOptions::default());
        let title_sort = b.add_text_field("title_sort", STRING | FAST);
        let title_morph = b.add_text_field("title_morph", text(TokenView::Morphemes, false));
        let title_bigram = b.add_text_field("title_bigram", text(TokenView::Bigrams, false));
        let title_reading = b.add_text_field("title_reading_bigram", text(TokenView::ReadingBigrams, false));
        let title_romaji = b.add_text_field("title_romaji", text(TokenView::Romaji, false));
        let title_exact = b.add_text_field("title_exact", text(TokenView::ExactKey, false));
        let author_morph = b.add_text_field("author_morph", text(TokenView::Morphemes, false));
        let author_bigram = b.add_text_field("author_bigram", text(TokenView::Bigrams, false));
        let author_reading = b.add_text_field("author_reading_bigram", text(TokenView::ReadingBigrams, false));
        let author_romaji = b.add_text_field("author_romaji", text(TokenView::Romaji, false));
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
            facets,
            title_sort,
            title_morph,
            title_bigram,
            title_reading,
            title_romaji,
            title_exact,
            author_morph,
            author_bigram,
            author_reading,
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
    /// on: the catalogued one when there is one, else the analyser's.
    pub(crate) fn document(&self, doc: &BibDocument, title_reading: &str, suggestions: &[String]) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_u64(self.id, doc.id);
        d.add_text(self.control_number, &doc.control_number);
        d.add_text(self.title, &doc.title);
        d.add_text(self.title_reading_display, title_reading);
        d.add_text(self.title_sort, sort_key(title_reading, &doc.title));
        for author in &doc.authors {
            d.add_text(self.author, author);
        }
        for publisher in &doc.publishers {
            d.add_text(self.publisher, publisher);
        }
        for isbn in &doc.isbns {
            d.add_text(self.isbn, isbn);
            if let Some(isbn10) = isbn10(isbn) {
                d.add_text(self.isbn, isbn10);
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
        for facet in crate::facets::facets_of(doc) {
            d.add_facet(self.facets, facet);
        }
        for title in &doc.titles {
            for field in [self.title_morph, self.title_bigram, self.title_reading, self.title_romaji, self.title_exact]
            {
                d.add_text(field, title);
            }
        }
        for proper in &doc.title_proper {
            d.add_text(self.title_exact, proper);
        }
        // The reading of the whole title is a key too: でんししょせきのつくりかた typed in
        // full is that title, not one that merely contains it.
        d.add_text(self.title_exact, title_reading);
        for reading in &doc.title_readings {
            d.add_text(self.title_reading, reading);
            d.add_text(self.title_romaji, reading);
        }
        for romanised in &doc.title_romanised {
            d.add_text(self.title_romaji, romanised);
            d.add_text(self.title_exact, romanised);
        }
        for author in &doc.authors {
            for field in [self.author_morph, self.author_bigram, self.author_reading, self.author_romaji] {
                d.add_text(field, author);
            }
        }
        for reading in &doc.author_readings {
            d.add_text(self.author_reading, reading);
            d.add_text(self.author_romaji, reading);
        }
        for subject in &doc.subjects {
            for field in [self.subject_morph, self.subject_bigram, self.subject_reading] {
                d.add_text(field, subject);
            }
        }
        for publisher in &doc.publishers {
            d.add_text(self.publisher_morph, publisher);
            d.add_text(self.publisher_bigram, publisher);
        }
        for other in doc.series.iter().chain(&doc.notes) {
            d.add_text(self.other_morph, other);
            d.add_text(self.other_bigram, other);
        }
        d
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
