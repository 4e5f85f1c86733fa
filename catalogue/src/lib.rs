//! Shiori's authoritative store.
//!
//! The catalogue is the only source of truth: tenants, MARC records, items, patrons,
//! loans and holds, and the change feed the indexer follows. It knows nothing of
//! tantivy or HTTP. This first part fixes the one rule every other part relies on:
//! every file belongs to exactly one tenant, named by a validated [`TenantCode`], at a
//! path given by [`DataLayout`].
//!
//! ```
//! use catalogue::{DataLayout, TenantCode};
//!
//! let layout = DataLayout::new("shiori-data");
//! let tenant: TenantCode = "shiori-city".parse()?;
//! assert_eq!(
//!     layout.catalogue_file(&tenant),
//!     std::path::Path::new("shiori-data/tenants/shiori-city/catalogue.redb"),
//! );
//! assert!("../etc".parse::<TenantCode>().is_err());
//! # Ok::<(), catalogue::Error>(())
//! ```

mod error;
mod layout;
mod tenant;

pub use error::{Error, Result};
pub use layout::DataLayout;
pub use tenant::TenantCode;
