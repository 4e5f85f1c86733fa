//! 図書館, としょかん, トショカン and toshokan meet one record through the views of the
//! Japanese analysis, in a real (in-memory) tantivy index.

use std::sync::Arc;

use indexer::{TokenView, register_japanese_tokenizers};
use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, Term, doc};

struct Fixture {
    index: Index,
    fields: Vec<(TokenView, Field)>,
}

fn index_titles(titles: &[&str]) -> anyhow::Result<Fixture> {
    let mut builder = Schema::builder();
    let fields: Vec<(TokenView, Field)> = TokenView::ALL
        .iter()
        .map(|view| {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(view.tokenizer_name())
                .set_index_option(IndexRecordOption::WithFreqsAndPositions);
            (
                *view,
                builder.add_text_field(view.tokenizer_name(), TextOptions::default().set_indexing_options(indexing)),
            )
        })
        .collect();
    let index = Index::create_in_ram(builder.build());
    register_japanese_tokenizers(index.tokenizers(), Arc::new(tokenizer_dict::JapaneseAnalyzer::new()?));
    let mut writer = index.writer(50_000_000)?;
    for title in titles {
        let mut document = doc!();
        for (_, field) in &fields {
            document.add_text(*field, *title);
        }
        writer.add_document(document)?;
    }
    writer.commit()?;
    Ok(Fixture { index, fields })
}

impl Fixture {
    fn field(&self, view: TokenView) -> anyhow::Result<Field> {
        self.fields.iter().find(|(v, _)| *v == view).map(|(_, f)| *f).ok_or_else(|| anyhow::anyhow!("no field"))
    }

    /// Documents matching `query` analysed by `view`: all of its tokens, in order.
    fn count(&self, view: TokenView, query: &str) -> anyhow::Result<usize> {
        let field = self.field(view)?;
        let mut analyzer: TextAnalyzer =
            self.index.tokenizers().get(view.tokenizer_name()).ok_or_else(|| anyhow::anyhow!("tokenizer"))?;
        let mut stream = analyzer.token_stream(query);
        let mut terms = Vec::new();
        while stream.advance() {
            terms.push((stream.token().position, Term::from_field_text(field, &stream.token().text)));
        }
        if view == TokenView::Bigrams && terms.len() > 1 {
            // Unigrams (one-character words) share positions with bigrams: query by bigrams.
            terms.retain(|(_, term)| term.value().as_str().is_some_and(|t| t.chars().count() == 2));
        }
        let query: Box<dyn Query> = match terms.len() {
            0 => return Ok(0),
            1 => Box::new(TermQuery::new(terms.remove(0).1, IndexRecordOption::Basic)),
            _ if view == TokenView::ReadingBigrams || view == TokenView::Bigrams => {
                Box::new(PhraseQuery::new_with_offset(terms))
            }
            _ => Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|(_, term)| {
                        (Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
                    })
                    .collect(),
            )),
        };
        Ok(self.index.reader()?.searcher().search(&query, &Count)?)
    }
}

#[test]
fn scripts_and_spellings_meet_the_same_record() -> anyhow::Result<()> {
    let fixture = index_titles(&["東京都立図書館の歴史", "情報検索の基礎", "關西國際空港"])?;
    // Kanji by morphemes, hiragana and katakana by readings, romaji by romaji.
    assert_eq!(fixture.count(TokenView::Morphemes, "図書館")?, 1);
    assert_eq!(fixture.count(TokenView::ReadingBigrams, "としょかん")?, 1);
    assert_eq!(fixture.count(TokenView::ReadingBigrams, "トショカン")?, 1);
    assert_eq!(fixture.count(TokenView::Romaji, "toshokan")?, 1);
    assert_eq!(fixture.count(TokenView::Romaji, "Tōkyō")?, 1);
    assert_eq!(fixture.count(TokenView::Romaji, "toukyou")?, 1);
    // A part of a compound finds the whole; old forms meet new ones.
    assert_eq!(fixture.count(TokenView::Morphemes, "空港")?, 1);
    assert_eq!(fixture.count(TokenView::Morphemes, "関西国際空港")?, 1);
    // Bigrams find partial words; the exact key only the whole title.
    assert_eq!(fixture.count(TokenView::Bigrams, "書館の歴")?, 1);
    assert_eq!(fixture.count(TokenView::ExactKey, "情報検索の基礎")?, 1);
    assert_eq!(fixture.count(TokenView::ExactKey, "情報検索")?, 0);
    // And nothing matches what is not there.
    assert_eq!(fixture.count(TokenView::Morphemes, "美術館")?, 0);
    assert_eq!(fixture.count(TokenView::ReadingBigrams, "びじゅつかん")?, 0);
    Ok(())
}
