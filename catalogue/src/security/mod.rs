//! Security and tenancy: accounts, sessions, permissions, audit and access logs, and the
//! deletion of a library (docs/security.md has the formats).
//!
//! Everything that needs the time takes it from the [`Clock`] of the [`System`], so tests
//! move time instead of sleeping. Secrets (passwords, TOTP secrets, recovery codes, session
//! ids) live in types whose `Debug` redacts them; what is stored is a hash, except the TOTP
//! secret, which the server must have to check a code (so `system.redb` is made readable by
//! its owner only).

mod access;
mod accounts;
mod audit;
mod clock;
mod deletion;
mod demo;
pub(crate) mod login;
pub(crate) mod password;
mod roles;
pub(crate) mod secret;
pub(crate) mod sessions;
pub(crate) mod totp;

pub use access::{ACCESS_LOG_RETENTION_DAYS, AccessEntry, AccessLogs, purge_access_logs};
pub use accounts::{AccountId, AccountInfo, IssuedCredentials, Scope, Username};
pub use audit::{AuditEvent, AuditHead, AuditLog, AuditProblem, AuditProblemKind, VerifyReport, verify_audit_log};
pub use clock::{Clock, ManualClock, SystemClock};
pub use deletion::DeletionReport;
pub use demo::{DEMO_USERNAME, DemoCredentials};
pub use login::{LOCKOUT_FIRST, LOCKOUT_MAX, LOCKOUT_THRESHOLD, LoggedIn, LoginAttempt, LoginOutcome, PruneReport};
pub use password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password_rules};
pub use roles::{Function, FunctionSet, Principal, Role, RolePolicy, may};
pub use secret::SecretString;
pub use sessions::{SESSION_ABSOLUTE_TIMEOUT, SESSION_IDLE_TIMEOUT, Session, SessionToken};
pub use totp::{RECOVERY_CODES, TOTP_DIGITS, TOTP_STEP_SECONDS, TotpEnrolment, qr_svg, qr_text, totp_code};

/// Creates the security tables of `system.redb` (schema version 2) if they do not exist.
pub(crate) fn create_tables(txn: &redb::WriteTransaction) -> crate::Result<()> {
    txn.open_table(accounts::ACCOUNTS)?;
    txn.open_table(accounts::ROLE_POLICIES)?;
    txn.open_table(login::LOGIN_FAILURES)?;
    txn.open_table(sessions::SESSIONS)?;
    txn.open_multimap_table(sessions::SESSIONS_BY_ACCOUNT)?;
    Ok(())
}
