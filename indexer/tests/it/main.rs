//! Integration tests of the indexer: the Japanese tokenizers inside a real tantivy index.

mod tokenizers;
