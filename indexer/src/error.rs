//! Errors of the indexer: the caller's mistakes (a bad query) apart from faults.

/// What can go wrong indexing or searching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query cannot be searched (the patron's mistake: answer 400).
    #[error(transparent)]
    Query(#[from] crate::query::parse::QueryError),
    /// A request parameter is out of range (page, per_page, sort, filter).
    #[error("{0}")]
    Request(String),
    /// The index on disk was built with another schema: run `shiori reindex`.
    #[error("the index of {0} was built by another version of shiori: run `shiori reindex --tenant {0}`")]
    SchemaChanged(String),
    /// The catalogue could not be read.
    #[error(transparent)]
    Catalogue(#[from] catalogue::Error),
    /// tantivy failed (I/O, corruption, a lock held by another process).
    #[error("search index: {0}")]
    Index(String),
    /// The dictionary could not be loaded.
    #[error(transparent)]
    Analyzer(#[from] tokenizer_dict::Error),
    /// Reading or writing an index file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<tantivy::TantivyError> for Error {
    fn from(err: tantivy::TantivyError) -> Error {
        Error::Index(err.to_string())
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for Error {
    fn from(err: tantivy::directory::error::OpenDirectoryError) -> Error {
        Error::Index(err.to_string())
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<std::path::PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// Result of the indexer.
pub type Result<T> = std::result::Result<T, Error>;
