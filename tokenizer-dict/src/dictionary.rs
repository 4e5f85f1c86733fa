//! The IPADIC dictionary, embedded in the binary, and optional user dictionaries.
//!
//! `build.rs` compiles the committed MeCab source into lindera's format; the files are
//! embedded with `include_bytes!` and read in place (zero-copy), so loading takes about a
//! millisecond and the `shiori` binary needs no dictionary files beside it.

use std::io::Read;
use std::path::Path;

use lindera::dictionary::{Dictionary, UserDictionary};
use lindera_dictionary::builder::DictionaryBuilder;

use crate::error::{Error, Result};

#[allow(missing_docs, unreachable_pub, dead_code)]
mod embedded {
    lindera_dictionary::embedded_dictionary!("/ipadic", EmbeddedIpadicLoader);
}

/// The system dictionary. Loading is zero-copy over the embedded bytes (about a
/// millisecond, see `benches/RESULTS.md`), so it is not cached: every analyser gets its own
/// handle onto the same static data.
pub(crate) fn system_dictionary() -> Result<Dictionary> {
    embedded::load().map_err(|err| Error::Dictionary(err.to_string()))
}

/// Reads a user dictionary in lindera's simple CSV form: `surface,part_of_speech,reading`
/// per line (reading in katakana), e.g. `栞町立図書館,固有名詞,シオリチョウリツトショカン`.
pub(crate) fn load_user_dictionary(path: &Path, system: &Dictionary) -> Result<UserDictionary> {
    let fail = |reason: String| Error::UserDictionary { path: path.to_path_buf(), reason };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(|err| fail(err.to_string()))?;
    user_dictionary_from_csv(&text, system).map_err(fail)
}

pub(crate) fn user_dictionary_from_csv(text: &str, system: &Dictionary) -> std::result::Result<UserDictionary, String> {
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let columns = line.split(',').count();
        if columns != 3 {
            return Err(format!(
                "line {}: expected 3 columns (surface,part_of_speech,reading), found {columns}",
                number + 1
            ));
        }
        if line.split(',').any(|column| column.trim().is_empty()) {
            return Err(format!("line {}: a column is empty", number + 1));
        }
    }
    let builder = DictionaryBuilder::new((*system.metadata).clone());
    builder.build_user_dict_from_reader(text.as_bytes()).map_err(|err| err.to_string())
}
