//! Shiori's search index.
//!
//! The index is a derived cache of the catalogue: it is built only from the catalogue and
//! its change feed, and can be deleted and rebuilt at any time (`shiori reindex`). One
//! index per tenant ([`Index`]); each record becomes one document ([`BibDocument`]) whose
//! texts are indexed through several views of the Japanese analysis ([`TokenView`]), and
//! [`Index::search`] answers the OPAC's queries ([`SearchRequest`] -> [`SearchResults`]).
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

mod document;
mod error;
mod facets;
mod follow;
mod index;
mod query;
mod scan;
mod schema;
mod search;
mod suggest;
mod tokenizer;
mod volume;

pub use document::BibDocument;
pub use error::{Error, Result};
pub use facets::{ANYWHERE, NDC_CLASSES, ndc_label};
pub use follow::follow;
pub use index::{Applied, Index, RebuildReport};
pub use query::parse::{QueryError, QueryNode, SearchField, parse_query};
pub use scan::{MAX_SCAN_TERMS, ScanIndex, ScanList, ScanTerm};
pub use search::{
    FacetCount, FacetCounts, Filters, Hit, MAX_LIMIT, MAX_OFFSET, MatchMode, SearchRequest, SearchResults, Sort,
};
pub use suggest::{Kind as SuggestionKind, Suggestion};
pub use tokenizer::{JapaneseTokenizer, TokenView, register_japanese_tokenizers};
