//! OAI-PMH 2.0, the protocol union catalogues and discovery services harvest libraries
//! with, at `/{tenant}/oai` (GET, or POST with a form body).
//!
//! - Identify; ListMetadataFormats (`oai_dc`, `marcxml`); ListSets (the NDC classes:
//!   `ndc`, `ndc:0` … `ndc:9`); GetRecord; ListIdentifiers and ListRecords with `from`,
//!   `until` (day or second granularity, UTC) and `set`.
//! - Items are the catalogue's records, `oai:shiori:{tenant}:{bib id}`, with the datestamp
//!   of their last change; a deleted record is listed as deleted for good (deletedRecord
//!   `persistent`) from the tombstones the catalogue keeps (`catalogue::OaiSnapshot`).
//! - Lists come in pages (100 records, 500 identifiers) read from one catalogue snapshot
//!   per harvest (`harvests.rs`), with resumption tokens, `completeListSize` and `cursor`;
//!   a harvest never holds more than a page in memory.
//! - Every protocol error is answered with its code (`badVerb`, `badArgument`,
//!   `badResumptionToken`, `cannotDisseminateFormat`, `idDoesNotExist`, `noRecordsMatch`,
//!   `noSetHierarchy`), with HTTP 200 as the protocol wants; an unknown library is a 404.
//!
//! Answers are valid against OAI-PMH.xsd with their metadata against oai_dc.xsd and
//! MARC21slim.xsd (tests/it/oai.rs checks with xmllint and harvests with Sickle).

mod harvests;
mod request;
mod response;
mod routes;

pub(crate) use harvests::Harvests;
pub(crate) use routes::routes;

/// An OAI-PMH error condition, with a message for the harvester's operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OaiError {
    /// An illegal or missing argument, or a repeated one.
    BadArgument(String),
    /// The token is unknown, expired, or not of this list.
    BadResumptionToken(String),
    /// Not a verb, or none.
    BadVerb(String),
    /// The metadataPrefix is not disseminated (by the repository, or for this item).
    CannotDisseminateFormat(String),
    /// No item has this identifier.
    IdDoesNotExist(String),
    /// The list is empty.
    NoRecordsMatch(String),
    /// The repository has no sets (here: no record carries an NDC number).
    NoSetHierarchy(String),
    /// A fault of the server: answered as a 500, its cause logged.
    Internal(String),
}

impl OaiError {
    /// The protocol's error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            OaiError::BadArgument(_) => "badArgument",
            OaiError::BadResumptionToken(_) => "badResumptionToken",
            OaiError::BadVerb(_) => "badVerb",
            OaiError::CannotDisseminateFormat(_) => "cannotDisseminateFormat",
            OaiError::IdDoesNotExist(_) => "idDoesNotExist",
            OaiError::NoRecordsMatch(_) => "noRecordsMatch",
            OaiError::NoSetHierarchy(_) => "noSetHierarchy",
            OaiError::Internal(_) => "internal",
        }
    }

    /// The message.
    pub(crate) fn message(&self) -> &str {
        match self {
            OaiError::BadArgument(m)
            | OaiError::BadResumptionToken(m)
            | OaiError::BadVerb(m)
            | OaiError::CannotDisseminateFormat(m)
            | OaiError::IdDoesNotExist(m)
            | OaiError::NoRecordsMatch(m)
            | OaiError::NoSetHierarchy(m)
            | OaiError::Internal(m) => m,
        }
    }
}

impl From<catalogue::Error> for OaiError {
    fn from(err: catalogue::Error) -> OaiError {
        OaiError::Internal(err.to_string())
    }
}
