//! Integration tests of the indexer: the Japanese tokenizers inside a real tantivy index.

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod holdings;
mod mapping;
mod model;
mod search;
mod tokenizers;
mod typed;
