//! SRU diagnostics: what went wrong, as the standard list at
//! <https://www.loc.gov/standards/sru/diagnostics/diagnosticsList.html> numbers it.

use std::fmt;

/// The diagnostic codes this server sends, from the standard list (`info:srw/diagnostic/1/N`).
pub(crate) mod code {
    /// General system error: a fault of ours, never the client's.
    pub(crate) const GENERAL_SYSTEM_ERROR: u16 = 1;
    /// Unsupported operation (an unknown one).
    pub(crate) const UNSUPPORTED_OPERATION: u16 = 4;
    /// Unsupported version; details: the highest version supported.
    pub(crate) const UNSUPPORTED_VERSION: u16 = 5;
    /// Unsupported parameter value; details: the parameter's name.
    pub(crate) const UNSUPPORTED_PARAMETER_VALUE: u16 = 6;
    /// Mandatory parameter not supplied; details: the parameter's name.
    pub(crate) const MANDATORY_PARAMETER: u16 = 7;
    /// Unsupported parameter; details: the parameter's name.
    pub(crate) const UNSUPPORTED_PARAMETER: u16 = 8;
    /// Query syntax error.
    pub(crate) const QUERY_SYNTAX: u16 = 10;
    /// Too many characters in query; details: the maximum.
    pub(crate) const QUERY_TOO_LONG: u16 = 12;
    /// Invalid or unsupported use of parentheses; details: the character offset.
    pub(crate) const PARENTHESES: u16 = 13;
    /// Invalid or unsupported use of quotes; details: the character offset.
    pub(crate) const QUOTES: u16 = 14;
    /// Unsupported context set; details: its URI or short name.
    pub(crate) const UNSUPPORTED_CONTEXT_SET: u16 = 15;
    /// Unsupported index; details: its name.
    pub(crate) const UNSUPPORTED_INDEX: u16 = 16;
    /// Unsupported relation; details: the relation.
    pub(crate) const UNSUPPORTED_RELATION: u16 = 19;
    /// Unsupported relation modifier; details: the modifier.
    pub(crate) const UNSUPPORTED_RELATION_MODIFIER: u16 = 20;
    /// Unsupported combination of relation and index; details: "index relation".
    pub(crate) const UNSUPPORTED_RELATION_FOR_INDEX: u16 = 22;
    /// Empty term unsupported.
    pub(crate) const EMPTY_TERM: u16 = 27;
    /// Masking character not supported.
    pub(crate) const MASKING: u16 = 28;
    /// Anchoring character not supported.
    pub(crate) const ANCHORING: u16 = 31;
    /// Term in invalid format for index or relation.
    pub(crate) const TERM_FORMAT: u16 = 36;
    /// Too many boolean operators in query; details: the maximum number of terms.
    pub(crate) const TOO_MANY_TERMS: u16 = 38;
    /// Proximity not supported.
    pub(crate) const PROXIMITY: u16 = 39;
    /// Unsupported boolean modifier; details: the modifier.
    pub(crate) const UNSUPPORTED_BOOLEAN_MODIFIER: u16 = 46;
    /// First record position out of range.
    pub(crate) const FIRST_RECORD_OUT_OF_RANGE: u16 = 61;
    /// Record does not exist (a surrogate diagnostic in place of a record).
    pub(crate) const RECORD_DOES_NOT_EXIST: u16 = 65;
    /// Unknown schema for retrieval; details: the schema asked for.
    pub(crate) const UNKNOWN_SCHEMA: u16 = 66;
    /// Unsupported record packing (SRU 2.0: unsupported recordXMLEscaping value).
    pub(crate) const UNSUPPORTED_PACKING: u16 = 71;
    /// XPath retrieval unsupported.
    pub(crate) const XPATH_UNSUPPORTED: u16 = 72;
    /// Sort not supported.
    pub(crate) const SORT_UNSUPPORTED: u16 = 80;
    /// Too many sort keys; details: the maximum.
    pub(crate) const TOO_MANY_SORT_KEYS: u16 = 84;
    /// Unsupported path for sort; details: the index.
    pub(crate) const UNSUPPORTED_SORT_PATH: u16 = 88;
    /// Unsupported sort direction.
    pub(crate) const UNSUPPORTED_SORT_DIRECTION: u16 = 90;
    /// Response position out of range (scan).
    pub(crate) const RESPONSE_POSITION_OUT_OF_RANGE: u16 = 120;
}

/// One SRU diagnostic: a standard code, optional details in the form the standard gives
/// for that code (a parameter name, an index, a character offset …), and a message for
/// people, in English, lower case, without a trailing period.
///
/// Every diagnostic this module makes is the client's mistake or a feature this server
/// does not have, except [`SruDiagnostic::system_error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SruDiagnostic {
    /// The number in the standard list: the URI is `info:srw/diagnostic/1/{code}`.
    pub code: u16,
    /// What the standard says to put in `details` for this code, when there is something.
    pub details: Option<String>,
    /// What went wrong, for people.
    pub message: String,
}

impl SruDiagnostic {
    /// A diagnostic with details.
    pub(crate) fn new(code: u16, details: impl Into<String>, message: impl Into<String>) -> SruDiagnostic {
        SruDiagnostic { code, details: Some(details.into()), message: message.into() }
    }

    /// A diagnostic without details.
    pub(crate) fn bare(code: u16, message: impl Into<String>) -> SruDiagnostic {
        SruDiagnostic { code, details: None, message: message.into() }
    }

    /// The diagnostic's URI, `info:srw/diagnostic/1/{code}`.
    pub fn uri(&self) -> String {
        format!("info:srw/diagnostic/1/{}", self.code)
    }

    /// Diagnostic 1, general system error, for a fault of the server (an I/O error, a
    /// corrupt index). It says nothing about the cause: that goes to the log.
    pub fn system_error() -> SruDiagnostic {
        SruDiagnostic::bare(code::GENERAL_SYSTEM_ERROR, "the search could not be carried out")
    }

    /// The diagnostic for an error of [`indexer::Index::search`]: a query the indexer
    /// refuses is a query syntax error (10), out-of-range paging is 61, and anything else
    /// is a fault (1), whose cause the caller should log.
    pub fn from_search_error(error: &indexer::Error) -> SruDiagnostic {
        match error {
            indexer::Error::Query(e) => SruDiagnostic::query_error(e),
            indexer::Error::Request(message) => {
                SruDiagnostic::new(code::FIRST_RECORD_OUT_OF_RANGE, "startRecord", message.clone())
            }
            _ => SruDiagnostic::system_error(),
        }
    }

    /// A query in the OPAC language (`queryType=searchTerms`) the parser refused.
    pub(crate) fn query_error(error: &indexer::QueryError) -> SruDiagnostic {
        SruDiagnostic::new(code::QUERY_SYNTAX, error.position.to_string(), error.message.clone())
    }
}

impl fmt::Display for SruDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.uri())?;
        if let Some(details) = &self.details {
            write!(f, ": {details}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SruDiagnostic {}
