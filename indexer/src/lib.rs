//! Shiori's search index.
//!
//! The index is a derived cache of the catalogue: it is built only from the change feed
//! and can be deleted and rebuilt at any time. This first part adapts the Japanese
//! analyser of `tokenizer-dict` to tantivy, one tokenizer per analysis view, so a field
//! can be indexed and queried by morphemes, bigrams, readings or romaji.
//!
//! ```
//! use indexer::{JapaneseTokenizer, TokenView};
//! use tantivy::tokenizer::{TokenStream, Tokenizer};
//!
//! let analyzer = std::sync::Arc::new(tokenizer_dict::JapaneseAnalyzer::new()?);
//! let mut readings = JapaneseTokenizer::new(analyzer, TokenView::Readings);
//! let mut stream = readings.token_stream("図書館");
//! assert!(stream.advance());
//! assert_eq!(stream.token().text, "としょかん");
//! # Ok::<(), tokenizer_dict::Error>(())
//! ```

mod tokenizer;

pub use tokenizer::{JapaneseTokenizer, TokenView, register_japanese_tokenizers};
