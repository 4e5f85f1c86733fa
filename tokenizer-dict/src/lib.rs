//! Shiori's Japanese dictionary and analyser.
//!
//! The IPADIC dictionary is compiled from its MeCab source at build time and embedded in
//! the binary. [`JapaneseAnalyzer`] runs the one analysis chain that index and query
//! share: normalisation ([`normalize`]), morphemes with readings and compound parts,
//! CJK bigrams and unigrams, romaji, and whole-text keys. This crate knows nothing of
//! tantivy; the `indexer` crate adapts it.
//!
//! ```
//! use tokenizer_dict::JapaneseAnalyzer;
//!
//! let analyzer = JapaneseAnalyzer::new()?;
//! let analysis = analyzer.analyze("関西国際空港")?;
//! let words: Vec<&str> = analysis.morphemes.iter().map(|m| m.normalized.as_str()).collect();
//! assert!(words.contains(&"空港"));
//! assert_eq!(analysis.romaji.hepburn.replace(' ', ""), "kansaikokusaikuko");
//! # Ok::<(), tokenizer_dict::Error>(())
//! ```

mod analyzer;
mod dictionary;
mod error;
mod furigana;
mod kana;
mod normalize;
mod slips;
mod variants;

pub use analyzer::{Analysis, Gram, JapaneseAnalyzer, Morpheme, TitleKeys};
pub use error::{Error, Result};
pub use furigana::RubySegment;
pub use kana::{Romaji, is_hiragana, is_katakana, romanize, to_hiragana};
pub use normalize::{Normalized, normalize};
pub use slips::{fold_kana, romaji_readings, romaji_to_kana};
pub use variants::{standard_form as standard_kanji, variant_count};
