//! Errors of the catalogue. The caller's mistakes (a bad tenant code, an unknown tenant, a
//! file that is not MARC, a checkout the rules refuse) are kept apart from faults (I/O, a
//! damaged store): [`Error::kind`] says which is which, so the HTTP layer can answer 404,
//! 409 or 422 for the first and 500 for the second.

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;

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
    /// Reading an import (CSV or TSV) from its reader failed.
    #[error("reading the import: {0}")]
    ReadInput(#[source] std::io::Error),

    // Circulation: the caller's mistakes and the rules' refusals.
    /// A value the caller gave is malformed (a branch code with upper case, an empty
    /// barcode, a due date in the past, a CSV header without a required column).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// What was invalid (`barcode`, `branch code`, `due date`, `header`, …).
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// No bibliographic record with this id.
    #[error("no record {0}")]
    UnknownBib(u64),
    /// No branch with this code.
    #[error("no branch {0:?}")]
    UnknownBranch(String),
    /// No item with this barcode (or id, written `#id`).
    #[error("no item {0:?}")]
    UnknownItem(String),
    /// No patron with this card number (or id, written `#id`).
    #[error("no patron {0:?}")]
    UnknownPatron(String),
    /// Another item already has this barcode.
    #[error("barcode {0:?} is already used by another item")]
    BarcodeInUse(String),
    /// Another patron already has this card number.
    #[error("card {0:?} is already used by another patron")]
    CardInUse(String),
    /// The item is on loan, and the operation needs it not to be (checkout, delete, a
    /// change of status). The borrower is never named.
    #[error("item {barcode:?} is on loan, due {due}")]
    ItemOnLoan {
        /// The item's barcode.
        barcode: String,
        /// Its due date.
        due: Date,
    },
    /// The item is not on loan, and the operation needs it to be (renew).
    #[error("item {0:?} is not on loan")]
    NotOnLoan(String),
    /// The item cannot be lent: a reference item, or one that is not on the shelf
    /// (missing, withdrawn, on the hold shelf, in transit).
    #[error("item {barcode:?} cannot be lent: {reason}")]
    NotLendable {
        /// The item's barcode.
        barcode: String,
        /// Why, for people.
        reason: &'static str,
    },
    /// The patron's card has expired.
    #[error("patron card {card:?} expired on {expiry}")]
    PatronExpired {
        /// The card number.
        card: String,
        /// The last day the card was valid.
        expiry: Date,
    },
    /// The patron is blocked from borrowing.
    #[error("patron card {card:?} is blocked: {reason}")]
    PatronBlocked {
        /// The card number.
        card: String,
        /// The reason the library recorded.
        reason: String,
    },
    /// A record cannot be deleted while items are attached to it.
    #[error("record {bib_id} still has {items} item(s): delete or move them first")]
    BibHasItems {
        /// The record.
        bib_id: u64,
        /// How many items it has.
        items: u64,
    },
    /// No hold with this id (it may have ended: ended holds are not kept).
    #[error("no hold {0}")]
    UnknownHold(u64),
    /// The item is set aside for another patron's hold (on the hold shelf or in transit
    /// to it): it can be lent only to that patron, and cannot be deleted or given another
    /// status until the hold ends. The patron is never named.
    #[error("item {barcode:?} is set aside for a hold")]
    ItemHeld {
        /// The item's barcode.
        barcode: String,
    },
    /// The patron has an overdue item, and the loan rule suspends borrowing (checkout,
    /// renewal, holds) until it comes back.
    #[error("patron card {card:?} has {items} overdue item(s): borrowing is suspended until they are returned")]
    PatronOverdue {
        /// The card number.
        card: String,
        /// How many items are overdue.
        items: u32,
    },
    /// The patron has as many loans as the loan rule allows.
    #[error("patron card {card:?} already has the most loans allowed ({limit})")]
    TooManyLoans {
        /// The card number.
        card: String,
        /// The rule's limit.
        limit: u32,
    },
    /// The patron has as many holds as the loan rule allows.
    #[error("patron card {card:?} already has the most holds allowed ({limit})")]
    TooManyHolds {
        /// The card number.
        card: String,
        /// The rule's limit.
        limit: u32,
    },
    /// The loan was renewed as often as the loan rule allows.
    #[error("item {barcode:?} cannot be renewed again (at most {limit} renewal(s))")]
    NoRenewalsLeft {
        /// The item's barcode.
        barcode: String,
        /// The rule's limit.
        limit: u32,
    },
    /// Another patron is waiting for the record (a hold), so the loan cannot be renewed.
    #[error("item {barcode:?} cannot be renewed: another patron is waiting for it")]
    HoldWaiting {
        /// The item's barcode.
        barcode: String,
    },
    /// The patron already has a hold on the record.
    #[error("patron card {card:?} already has a hold on record {bib_id}")]
    HoldExists {
        /// The card number.
        card: String,
        /// The record.
        bib_id: u64,
    },
    /// The patron has a copy of the record on loan, so a hold on it is refused.
    #[error("patron card {card:?} already has record {bib_id} on loan")]
    AlreadyBorrowed {
        /// The card number.
        card: String,
        /// The record.
        bib_id: u64,
    },
    /// The record has no copy that could be lent (none, or only reference, missing or
    /// withdrawn ones), so it cannot be held.
    #[error("record {0} has no copy that can be lent, so it cannot be held")]
    NotHoldable(u64),
    /// The branch's calendar has no open day within a year from `from`: no due date or
    /// hold shelf date can be given.
    #[error("branch {branch:?} has no open day within a year from {from}")]
    NoOpenDay {
        /// The branch code.
        branch: String,
        /// The first day looked at.
        from: Date,
    },

    // Security: accounts, sessions and logs (see docs/security.md).
    /// No account with this name (operator, or staff of the tenant).
    #[error("no account {0}")]
    UnknownAccount(String),
    /// An account with this name already exists in its scope.
    #[error("account {0} already exists")]
    AccountExists(String),
    /// `shiori admin bootstrap` found an operator: bootstrap runs only once.
    #[error("an operator already exists: bootstrap creates only the first one")]
    OperatorExists,
    /// A new password that the password rules refuse (too short, too common, …).
    #[error("password refused: {0}")]
    WeakPassword(&'static str),
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// A one-time code (TOTP) that is wrong, or was already used.
    #[error("the code is wrong or was already used")]
    WrongCode,
    /// The session ended (expired, logged out) while the request was under way: log in again.
    #[error("the session has ended: log in again")]
    SessionEnded,
    /// Two-step verification is already on: turn it off before setting it up again.
    #[error("two-step verification is already on: turn it off first")]
    TotpEnabled,
    /// Too many failed attempts: the account accepts no password until `until`.
    #[error("too many failed attempts: try again after {until}")]
    AccountLocked {
        /// When attempts are accepted again.
        until: Timestamp,
    },
    /// A path that would leave the data folder (a symbolic link, an odd mount).
    #[error("{path}: refused: {reason}")]
    UnsafePath {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// An audit log whose last line cannot be chained to (damaged or tampered with):
    /// `shiori audit verify` says where.
    #[error("{path}: line {line}: {reason}")]
    AuditLog {
        /// The log file.
        path: PathBuf,
        /// The line (from 1).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Hashing a password or drawing randomness failed.
    #[error("security: {0}")]
    Crypto(String),

    // Backups.
    /// No backup generation of this name (or none at all, for the latest).
    #[error("no backup {0}: `shiori backup list` shows the generations")]
    UnknownBackup(String),
    /// The file is open elsewhere (`shiori serve`, another command), and the operation
    /// needs the library closed.
    #[error("{path} is open in another process or handle: stop `shiori serve` (or that command) first")]
    InUse {
        /// The file.
        path: PathBuf,
    },

    // Cataloguing.
    /// A record failed the cataloguing checks
    /// ([`validate`](crate::cataloguing::validate::validate)); nothing was stored.
    #[error("the record is not valid MARC 21: {}", first_problem(problems))]
    InvalidRecord {
        /// Every problem found, leader first, then fields in order.
        problems: Vec<crate::cataloguing::validate::Problem>,
    },
    /// The record changed since the caller read it: another save came first.
    #[error("record {bib_id} is at version {current}, not {expected}: reload it and make the change again")]
    VersionMismatch {
        /// The record.
        bib_id: u64,
        /// The version the caller read.
        expected: u32,
        /// The version stored now.
        current: u32,
    },
    /// Another record has this 003 + 001.
    #[error("control number {number:?} ({organisation:?}) is already record {bib_id}'s")]
    ControlNumberInUse {
        /// 003 (may be empty).
        organisation: String,
        /// 001.
        number: String,
        /// The record that has it.
        bib_id: u64,
    },
    /// A record cannot be deleted while copies are on loan or patrons wait for it.
    #[error("record {bib_id} has {loans} copies on loan and {holds} holds: it cannot be deleted")]
    RecordInUse {
        /// The record.
        bib_id: u64,
        /// Its copies on loan.
        loans: u32,
        /// Its holds.
        holds: u32,
    },
    /// No such version of the record is kept.
    #[error("record {bib_id} has no version {version}")]
    UnknownVersion {
        /// The record.
        bib_id: u64,
        /// The version asked for.
        version: u32,
    },
}

/// Which side an [`Error`] is on: a caller's mistake (and which), or a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Something named does not exist (HTTP 404).
    NotFound,
    /// The request is well formed but the current state refuses it: an item on loan, a
    /// barcode in use, a blocked patron (HTTP 409).
    Conflict,
    /// The request itself is malformed (HTTP 422 or 400).
    Invalid,
    /// The caller did not prove who they are: a wrong password or one-time code, a locked
    /// account (HTTP 401 or 403; 429 with `Retry-After` for a locked account).
    Denied,
    /// Not the caller's fault: I/O, a damaged or newer store (HTTP 500).
    Fault,
}

impl Error {
    /// Whether this is the caller's mistake (and which kind) or a fault.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidTenantCode { .. }
            | Error::NotMarc { .. }
            | Error::Export { .. }
            | Error::Invalid { .. }
            | Error::InvalidRecord { .. }
            | Error::WeakPassword(_) => ErrorKind::Invalid,
            Error::UnknownTenant(_)
            | Error::UnknownBib(_)
            | Error::UnknownBranch(_)
            | Error::UnknownItem(_)
            | Error::UnknownPatron(_)
            | Error::UnknownHold(_)
            | Error::UnknownAccount(_)
            | Error::UnknownBackup(_)
            | Error::UnknownVersion { .. } => ErrorKind::NotFound,
            Error::TenantExists(_)
            | Error::BarcodeInUse(_)
            | Error::CardInUse(_)
            | Error::ItemOnLoan { .. }
            | Error::NotOnLoan(_)
            | Error::NotLendable { .. }
            | Error::PatronExpired { .. }
            | Error::PatronBlocked { .. }
            | Error::BibHasItems { .. }
            | Error::ItemHeld { .. }
            | Error::PatronOverdue { .. }
            | Error::TooManyLoans { .. }
            | Error::TooManyHolds { .. }
            | Error::NoRenewalsLeft { .. }
            | Error::HoldWaiting { .. }
            | Error::HoldExists { .. }
            | Error::AlreadyBorrowed { .. }
            | Error::NotHoldable(_)
            | Error::NoOpenDay { .. }
            | Error::AccountExists(_)
            | Error::OperatorExists
            | Error::TotpEnabled
            | Error::InUse { .. }
            | Error::VersionMismatch { .. }
            | Error::ControlNumberInUse { .. }
            | Error::RecordInUse { .. } => ErrorKind::Conflict,
            Error::WrongPassword | Error::WrongCode | Error::SessionEnded | Error::AccountLocked { .. } => {
                ErrorKind::Denied
            }
            Error::SchemaTooNew { .. }
            | Error::Io { .. }
            | Error::Storage(_)
            | Error::ReadInput(_)
            | Error::UnsafePath { .. }
            | Error::AuditLog { .. }
            | Error::Crypto(_) => ErrorKind::Fault,
        }
    }

    /// The message in Japanese, for the circulation desk and the OPAC, when there is one:
    /// every refusal of circulation (the caller's mistakes and the rules') has one, naming
    /// the same item, card or record as [`Display`](std::fmt::Display) does in English.
    /// `None` for the rest (faults, accounts, tenants), whose callers have their own texts.
    pub fn message_ja(&self) -> Option<String> {
        Some(match self {
            Error::Invalid { field, reason } => format!("入力内容が正しくありません（{field}: {reason}）"),
            Error::UnknownBib(id) => format!("資料 {id} は見つかりません"),
            Error::InvalidRecord { problems } => match problems.first() {
                Some(p) => format!("レコードに誤りがあります（{} 件）: {} {}", problems.len(), p.tag, p.ja),
                None => "レコードに誤りがあります".to_owned(),
            },
            Error::VersionMismatch { bib_id, expected, current } => format!(
                "資料 {bib_id} はほかの方が更新しました（開いた版 {expected}、現在の版 {current}）。開き直してから変更してください"
            ),
            Error::ControlNumberInUse { number, bib_id, .. } => {
                format!("レコード番号 {number} はすでに資料 {bib_id} で使われています")
            }
            Error::RecordInUse { bib_id, loans, holds } => {
                format!("資料 {bib_id} は貸出中 {loans} 点・予約 {holds} 件があるため削除できません")
            }
            Error::UnknownVersion { bib_id, version } => format!("資料 {bib_id} に版 {version} はありません"),
            Error::UnknownBranch(code) => format!("館「{code}」は見つかりません"),
            Error::UnknownItem(barcode) => format!("資料番号 {barcode} の資料は見つかりません"),
            Error::UnknownPatron(card) => format!("利用者番号 {card} の利用者は見つかりません"),
            Error::UnknownHold(id) => format!("予約 {id} は見つかりません（すでに終了している可能性があります）"),
            Error::BarcodeInUse(barcode) => format!("資料番号 {barcode} はほかの資料で使われています"),
            Error::CardInUse(card) => format!("利用者番号 {card} はほかの利用者で使われています"),
            Error::ItemOnLoan { barcode, due } => format!("資料番号 {barcode} は貸出中です（返却期限 {due}）"),
            Error::NotOnLoan(barcode) => format!("資料番号 {barcode} は貸出中ではありません"),
            Error::NotLendable { barcode, reason } => {
                let reason = match *reason {
                    "reference items are for use in the library only" => "館内利用のみの参考資料です",
                    "it is missing" => "所在不明です",
                    "it has been withdrawn" => "除籍済みです",
                    "it is on the hold shelf" => "取置中です",
                    "it is in transit" => "回送中です",
                    other => other,
                };
                format!("資料番号 {barcode} は貸出できません（{reason}）")
            }
            Error::PatronExpired { card, expiry } => {
                format!("利用者番号 {card} の利用者カードは有効期限（{expiry}）が切れています")
            }
            Error::PatronBlocked { card, reason } => format!("利用者番号 {card} は貸出停止中です（{reason}）"),
            Error::BibHasItems { bib_id, items } => {
                format!("資料 {bib_id} には所蔵が {items} 点あります。先に所蔵を削除するか移してください")
            }
            Error::ItemHeld { barcode } => format!("資料番号 {barcode} は予約の取置資料です"),
            Error::PatronOverdue { card, items } => {
                format!("利用者番号 {card} に延滞資料が {items} 点あります。返却されるまで貸出・延長・予約はできません")
            }
            Error::TooManyLoans { card, limit } => {
                format!("利用者番号 {card} は貸出上限（{limit} 点）に達しています")
            }
            Error::TooManyHolds { card, limit } => {
                format!("利用者番号 {card} は予約上限（{limit} 件）に達しています")
            }
            Error::NoRenewalsLeft { barcode, limit } => {
                format!("資料番号 {barcode} はこれ以上延長できません（延長は {limit} 回まで）")
            }
            Error::HoldWaiting { barcode } => {
                format!("資料番号 {barcode} は次の予約者がいるため延長できません")
            }
            Error::HoldExists { card, bib_id } => format!("利用者番号 {card} は資料 {bib_id} をすでに予約しています"),
            Error::AlreadyBorrowed { card, bib_id } => {
                format!("利用者番号 {card} は資料 {bib_id} を借りています")
            }
            Error::NotHoldable(bib_id) => format!("資料 {bib_id} には貸出できる所蔵がないため予約できません"),
            Error::NoOpenDay { branch, from } => {
                format!("館「{branch}」は {from} から1年以内に開館日がありません")
            }
            _ => return None,
        })
    }

    /// A value the caller gave is malformed: `field` names it, `reason` says why.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::Invalid { field, reason: reason.into() }
    }

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

fn first_problem(problems: &[crate::cataloguing::validate::Problem]) -> String {
    match problems.first() {
        Some(p) if problems.len() > 1 => format!("{} {} (and {} more)", p.tag, p.en, problems.len() - 1),
        Some(p) => format!("{} {}", p.tag, p.en),
        None => "no problem listed".to_owned(),
    }
}
