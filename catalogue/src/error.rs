//! Errors of the catalogue. The caller's mistakes (a bad tenant code, an unknown tenant, a
//! file that is not MARC) are kept apart from faults (I/O, a damaged store).

use std::path::PathBuf;

/// What can go wrong in the catalogue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tenant code that is not safe to use as a folder name or URL segment.
    #[error("invalid tenant code {code:?}: {reason}")]
    InvalidTenantCode {
        /// The code as given (for the message only; never used as a path).
        code: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The tenant is not registered.
    #[error("no tenant {0:?}: create it with `shiori tenant create`")]
    UnknownTenant(String),
    /// The tenant already exists.
    #[error("tenant {0:?} already exists")]
    TenantExists(String),
    /// A store written by a newer Shiori.
    #[error(
        "{path}: schema version {found} is newer than this shiori supports ({supported}); upgrade shiori to open it"
    )]
    SchemaTooNew {
        /// The store file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The newest version this binary knows.
        supported: u64,
    },
    /// A file that is not MARC in a format the catalogue reads.
    #[error("{path}: {reason}")]
    NotMarc {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A record that cannot be written in the requested format.
    #[error("record {bib_id}: {reason}")]
    Export {
        /// The bib id.
        bib_id: u64,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The redb store failed (I/O, corruption, or another process holding it).
    #[error("catalogue store: {0}")]
    Storage(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

macro_rules! storage_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(err: $t) -> Error {
                Error::Storage(err.to_string())
            }
        }
    )*};
}

storage_errors!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Result of the catalogue.
pub type Result<T> = std::result::Result<T, Error>;
