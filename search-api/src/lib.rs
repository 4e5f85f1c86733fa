//! Shiori's server and command line.
//!
//! Only this crate does networking and talks to people: it parses, authorises, calls the
//! `catalogue`, `indexer` and `tokenizer-dict` crates, and renders. The `shiori` binary
//! (`src/main.rs`) is a thin command-line front over this library; [`router`] is the whole
//! HTTP interface (JSON API, OPAC pages, SRU, OpenSearch, staff login and staff API) over an
//! [`AppState`]; every route that needs a staff session is in [`STAFF_ROUTES`], and every
//! route of the patrons' own pages in [`PATRON_ROUTES`].
//!
//! ```
//! let analyzer = tokenizer_dict::JapaneseAnalyzer::new()?;
//! let json = search_api::analysis_json(&analyzer, "こゝろ", false)?;
//! assert!(json.contains(r#""normalized":"こころ""#));
//! # Ok::<(), anyhow::Error>(())
//! ```

mod analyze;
mod api;
mod cataloguing;
mod circulation;
pub mod demo;
mod error;
mod holdings;
mod lang;
pub mod mailer;
mod oai;
mod opac;
mod opensearch;
mod params;
mod record;
mod ruby;
mod server;
mod sru;
mod staff;
mod volumes;
mod xml;

pub use analyze::analysis_json;
pub use api::openapi_document;
pub use circulation::daily_circulation;
pub use error::ApiError;
pub use lang::Lang;
pub use opac::patron::{PATRON_ROUTES, PatronAccess, PatronRoute};
pub use params::SearchParams;
pub use record::RecordView;
pub use server::config::{self, Overrides};
pub use server::tls::{SELF_SIGNED_NAMES, TlsSource};
pub use server::{AppState, Config, Library, LogFormat, Metrics, router, serve};
pub use sru::{
    CqlQuery, ExplainRequest, RecordPacking, RecordSchema, SRU_CONTENT_TYPE, SRU_DEFAULT_RECORDS, SRU_DEFAULT_TERMS,
    SRU_MAX_RECORDS, SRU_MAX_TERMS, ScanRequest, SearchRetrieveRequest, SruDiagnostic, SruError, SruOperation,
    SruQueryType, SruRequest, SruServer, SruVersion, parse_cql,
};
pub use staff::{Access, STAFF_ROUTES, StaffRoute, Surface};
