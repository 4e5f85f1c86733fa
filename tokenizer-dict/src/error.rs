//! Errors of the dictionary and analyser.

use std::path::PathBuf;

/// What can go wrong loading the dictionary or a user dictionary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dictionary built into the binary could not be loaded (a build fault).
    #[error("the built-in IPADIC dictionary could not be loaded: {0}")]
    Dictionary(String),
    /// A library's user dictionary is unreadable or malformed (the caller's mistake).
    #[error("user dictionary {path}: {reason}")]
    UserDictionary {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Segmentation failed inside lindera.
    #[error("morphological analysis failed: {0}")]
    Segmentation(String),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;
