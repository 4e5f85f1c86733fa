//! Shiori's authoritative store.
//!
//! The catalogue is the only source of truth: tenants, MARC records (and later items,
//! patrons, loans and holds), and the change feed the indexer follows. It knows nothing
//! of tantivy or HTTP. Every file belongs to exactly one tenant, named by a validated
//! [`TenantCode`], at a path given by [`DataLayout`]; each tenant's records live in its own
//! redb file ([`Catalogue`]), registered in `system.redb` ([`System`]).
//!
//! ```
//! use catalogue::{Catalogue, DataLayout, System, TenantCode};
//!
//! let dir = std::env::temp_dir().join(format!("shiori-doc-{}", std::process::id()));
//! let layout = DataLayout::new(&dir);
//! let code: TenantCode = "shiori-city".parse()?;
//! System::open(&layout)?.create_tenant(&code, "栞市立図書館")?;
//! let catalogue = Catalogue::open(&layout, &code)?;
//! assert_eq!(catalogue.len()?, 0);
//! assert!("../etc".parse::<TenantCode>().is_err());
//! # drop(catalogue);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), catalogue::Error>(())
//! ```

mod error;
mod export;
mod import;
mod isbn;
mod layout;
mod marc;
mod store;
mod system;
mod tenant;

pub use error::{Error, Result};
pub use export::{ExportFormat, export};
pub use import::{ImportReport, Rejection, import_file};
pub use isbn::isbn13;
pub use layout::DataLayout;
pub use marc::iso2709::SourceEncoding;
pub use marc::record::{Field, Record, Subfield, Tag, trim_isbd};
pub use marc::source::{Format, SourceRecord, detect as detect_format, records as read_records};
pub use store::{Catalogue, Change, ChangeKind, Outcome, SCHEMA_VERSION, StoredBib};
pub use system::{System, Tenant};
pub use tenant::TenantCode;
