//! SRU (Search/Retrieve via URL) 1.1, 1.2 and 2.0: the catalogue for library systems
//! and tools (yaz-client, sruthi, MarcEdit, other OPACs), at `/{tenant}/sru`.
//!
//! Pure, socket-free code over plain data; the HTTP handler is a thin wrapper:
//!
//! 1. [`SruRequest::from_query`] reads the query-string pairs (of the URL, of a form
//!    POST, or of a SOAP envelope read by the `soap` module). An [`SruError`] is
//!    answered with [`SruError::render`].
//! 2. [`SruRequest::Explain`]: answer with [`ExplainRequest::render`].
//! 3. [`SruRequest::Scan`]: browse the index from the start term with
//!    [`indexer::Index::scan`] and answer with [`ScanRequest::render`].
//! 4. [`SruRequest::SearchRetrieve`]: search the index with
//!    [`SearchRetrieveRequest::search_request`], read each hit's record from the
//!    catalogue, and answer with [`SearchRetrieveRequest::render`]; if the search fails,
//!    with [`SearchRetrieveRequest::render_diagnostic`] of
//!    [`SruDiagnostic::from_search_error`] (logging the cause of a fault).
//!
//! Every response is XML ([`SRU_CONTENT_TYPE`]) with HTTP status 200: SRU reports errors
//! as diagnostics in the response, not with the HTTP status.
//!
//! CQL is parsed and translated to the indexer's query tree in [`parse_cql`] (module
//! `cql`, which documents the grammar and what each index and relation means).

mod cql;
mod diagnostic;
mod request;
mod response;
mod routes;
mod soap;

pub use cql::{CqlQuery, parse_cql};
pub use diagnostic::SruDiagnostic;
pub use request::{
    ExplainRequest, RecordPacking, RecordSchema, SRU_DEFAULT_RECORDS, SRU_DEFAULT_TERMS, SRU_MAX_RECORDS,
    SRU_MAX_TERMS, ScanRequest, SearchRetrieveRequest, SruError, SruOperation, SruQueryType, SruRequest, SruVersion,
};
pub(crate) use response::dublin_core;
pub use response::{SRU_CONTENT_TYPE, SruServer};
pub(crate) use routes::routes;
