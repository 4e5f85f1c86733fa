//! Shiori's authoritative store.
//!
//! The catalogue is the only source of truth: tenants, MARC records, circulation
//! (branches, items, patrons, loan rules, calendars, loans, holds, notices), the change feed the indexer follows,
//! and security (staff and operator accounts, sessions, permissions, audit and access
//! logs). It knows nothing of tantivy or HTTP. Every file belongs to exactly one tenant,
//! named by a validated [`TenantCode`], at a path given by [`DataLayout`]; each tenant's
//! records and circulation live in its own redb file ([`Catalogue`]), registered in
//! `system.redb` ([`System`]).
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
//!
//! Circulation: a copy of a record at a branch, lent and returned. Every change of what
//! the OPAC shows appends the record to the change feed in the same transaction.
//!
//! ```
//! use catalogue::{Branch, Catalogue, ChangeKind, DataLayout, Error, NewItem, NewPatron, System, TenantCode};
//! use jiff::civil::date;
//!
//! # let dir = std::env::temp_dir().join(format!("shiori-doc-circ-{}", std::process::id()));
//! # let layout = DataLayout::new(&dir);
//! # let code: TenantCode = "shiori-city".parse()?;
//! # System::open(&layout)?.create_tenant(&code, "栞市立図書館")?;
//! # let catalogue = Catalogue::open(&layout, &code)?;
//! # use catalogue::{Field, Record, Subfield};
//! # let record = Record { leader: "00000nam a2200000 i 4500".into(), fields: vec![
//! #     Field::Control { tag: "001".parse().unwrap(), value: "jp0001".into() },
//! #     Field::Data { tag: "245".parse().unwrap(), ind1: '1', ind2: '0',
//! #         subfields: vec![Subfield { code: 'a', value: "ぐりとぐら".into() }] },
//! # ] };
//! # let bib_id = match catalogue.upsert(vec![record], "doc.mrc")?[0] {
//! #     catalogue::Outcome::Created(id) => id,
//! #     other => panic!("{other:?}"),
//! # };
//! catalogue.put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central Library".into() })?;
//! catalogue.add_item(&NewItem::new(bib_id, "1000001", "chuo"))?;
//! catalogue.add_patron(&NewPatron::new("P0001", "山田太郎", "chuo"))?;
//!
//! let seq = catalogue.last_change_seq()?;
//! let now: jiff::Timestamp = "2026-04-01T01:00:00Z".parse().unwrap(); // 10:00 in Japan
//! let loan = catalogue.checkout("1000001", "P0001", now)?; // the default rule: 14 days
//! assert_eq!(loan.due, date(2026, 4, 15));
//! assert_eq!(catalogue.availability(bib_id)?.available, 0);
//! assert!(matches!(catalogue.checkout("1000001", "P0001", now), Err(Error::ItemOnLoan { .. })));
//! let change = catalogue.changes_after(seq, 10)?;
//! assert_eq!((change.len(), change[0].bib_id, change[0].kind), (1, bib_id, ChangeKind::Holdings));
//!
//! catalogue.checkin("1000001", now)?;
//! assert_eq!(catalogue.loan_of_item(loan.item_id)?, None); // a loan is forgotten at return
//! # drop(catalogue);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), catalogue::Error>(())
//! ```
//!
//! Security: staff log in with a password and a TOTP code; [`may`] (through
//! [`Session::may`]) decides what a session may do. Time comes from an injected [`Clock`].
//!
//! ```
//! use std::sync::Arc;
//! use catalogue::{Clock, DataLayout, Function, LoginAttempt, LoginOutcome, ManualClock, Role, Scope, System};
//! use catalogue::{TenantCode, totp_code};
//!
//! # let dir = std::env::temp_dir().join(format!("shiori-doc-sec-{}", std::process::id()));
//! # let layout = DataLayout::new(&dir);
//! let clock = ManualClock::new("2026-04-01T01:00:00Z".parse()?);
//! let system = System::open_with_clock(&layout, Arc::new(clock.clone()))?;
//! let city: TenantCode = "shiori-city".parse()?;
//! system.create_tenant(&city, "栞市立図書館")?;
//! let issued = system.create_staff(&city, "yamada", "山田 太郎", Role::Circulation)?;
//!
//! let code = totp_code(issued.totp.secret.expose(), clock.now())?;
//! let attempt = LoginAttempt { username: "yamada", password: issued.password.expose(), second_factor: Some(&code) };
//! let LoginOutcome::LoggedIn(login) = system.login(&Scope::Tenant(city.clone()), &attempt, None)? else {
//!     unreachable!()
//! };
//! // A one-time password: nothing is allowed until it is changed.
//! assert!(!login.session.may(&city, Function::Circulation));
//! system.change_password(&login.session, issued.password.expose(), "tea and 栞 every morning")?;
//!
//! let session = system.session(&login.token)?.expect("a live session");
//! assert!(session.may(&city, Function::Circulation));
//! assert!(!session.may(&city, Function::CatalogueEdit));
//! # drop(system);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backup;
pub mod cataloguing;
mod circulation;
mod error;
mod export;
mod import;
mod isbn;
mod layout;
mod marc;
mod oai;
mod security;
mod store;
mod system;
mod tenant;

pub use backup::{
    BACKUP_GENERATIONS, Backup, BackupReport, RestoreReport, backup_name, list_backups, parse_backup_name,
    restore_backup,
};
pub use circulation::{
    Availability, Branch, BranchAvailability, CheckinOutcome, ClosedDay, Hold, HoldState, Holding, Item, ItemStatus,
    Loan, LoanPolicy, MonthlyLoans, NewItem, NewPatron, Notice, NoticeKind, PATRON_CHALLENGE_TIMEOUT,
    PATRON_SESSION_ABSOLUTE_TIMEOUT, PATRON_SESSION_IDLE_TIMEOUT, Patron, PatronCategory, PatronChallenge,
    PatronCodeOutcome, PatronLoginOutcome, PatronSession, PatronTotpStatus, ReadingEntry, RowRejection, RowReport,
    TitleLoans,
};
pub use error::{Error, ErrorKind, Result};
pub use export::{
    ExportFormat, ExportReport, SkippedRecord, check_record, export, iso2709_record, marcxml_record, try_marcxml_record,
};
pub use import::{ImportReport, Rejection, import_bytes, import_file};
pub use isbn::isbn13;
pub use layout::DataLayout;
pub use marc::iso2709::SourceEncoding;
pub use marc::record::{Field, Record, Subfield, Tag, trim_isbd};
pub use marc::source::{
    Format, MAX_DECOMPRESSED_BYTES, SourceRecord, decompress, detect as detect_format, records as read_records,
};
pub use marc::{LanguageName, language_name};
pub use oai::{OaiCursor, OaiEntry, OaiSelection, OaiSet, OaiSnapshot, ndc_classes};
pub use security::{
    ACCESS_LOG_RETENTION_DAYS, AccessEntry, AccessLogs, AccountId, AccountInfo, AuditEvent, AuditHead, AuditLog,
    AuditProblem, AuditProblemKind, Clock, DEMO_USERNAME, DeletionReport, DemoCredentials, Function, FunctionSet,
    IssuedCredentials, LOCKOUT_FIRST, LOCKOUT_MAX, LOCKOUT_THRESHOLD, LoggedIn, LoginAttempt, LoginOutcome,
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, ManualClock, Principal, PruneReport, RECOVERY_CODES, Role, RolePolicy,
    SESSION_ABSOLUTE_TIMEOUT, SESSION_IDLE_TIMEOUT, Scope, SecretString, Session, SessionToken, SystemClock,
    TOTP_DIGITS, TOTP_STEP_SECONDS, TotpEnrolment, Username, VerifyReport, check_password_rules, may,
    purge_access_logs, qr_svg, qr_text, totp_code, verify_audit_log,
};
pub use store::{Catalogue, Change, ChangeKind, Outcome, SCHEMA_VERSION, StoredBib};
pub use system::{SYSTEM_SCHEMA_VERSION, System, Tenant};
pub use tenant::TenantCode;
