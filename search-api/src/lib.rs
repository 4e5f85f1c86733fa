//! Shiori's server and command line.
//!
//! Only this crate does networking and talks to people: it parses, authorises, calls the
//! `catalogue`, `indexer` and `tokenizer-dict` crates, and renders. The `shiori` binary
//! (`src/main.rs`) is a thin command-line front over this library.
//!
//! ```
//! let analyzer = tokenizer_dict::JapaneseAnalyzer::new()?;
//! let json = search_api::analysis_json(&analyzer, "こゝろ", false)?;
//! assert!(json.contains(r#""normalized":"こころ""#));
//! # Ok::<(), anyhow::Error>(())
//! ```

mod analyze;

pub use analyze::analysis_json;
