//! Errors of the catalogue.

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
}

/// Result of the catalogue.
pub type Result<T> = std::result::Result<T, Error>;
