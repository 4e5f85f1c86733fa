//! Circulation: branches, items (the copies of a record on the shelves), patrons, loan
//! rules, calendars of closed days, loans, holds, the outbox of notices, and what is kept
//! of loans after they end (reading records by opt-in, per-title monthly counters), in the
//! same `catalogue.redb` as the records they belong to.
//!
//! These invariants hold after every committed transaction:
//! - an item's status is `on_loan` exactly when a loan row exists for it, and an item has
//!   at most one loan (the `loans` table is keyed by item id);
//! - an item is set aside for at most one hold (`hold_by_item` is keyed by item id), and
//!   exactly the holds `in_transit` or `ready` have one: the item is then `in_transit` or
//!   `on_hold_shelf`; only a hold's own patron can borrow it;
//! - a copy is only ever set aside for the first waiting hold of its record, and a patron
//!   has at most one hold per record and never one on a record they have on loan;
//! - every write that changes what the OPAC shows for a record (an item added, changed or
//!   deleted; a checkout, checkin or renewal; a hold placed, cancelled, set aside, expired
//!   or fulfilled) appends the record's bib id to the change feed, as
//!   [`ChangeKind::Holdings`](crate::ChangeKind::Holdings), in the same transaction;
//! - privacy: loan and hold rows are deleted when they end; a patron's reading record
//!   exists only if they opted in; rankings read counters that name no patron.
//!
//! Every check a write makes happens before its first write, so a refused operation leaves
//! the transaction untouched; CSV imports rely on this to skip a bad row and keep its good
//! neighbours in the same transaction.

mod availability;
mod branch;
mod calendar;
mod desk;
mod hold;
mod import;
mod item;
mod loan;
mod notice;
mod patron;
mod patron_login;
mod patron_totp;
mod policy;
mod reading;

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{MultimapTableDefinition, ReadableMultimapTable, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::store::META;

pub use availability::{Availability, BranchAvailability, Holding};
pub use branch::Branch;
pub use calendar::ClosedDay;
pub use hold::{Hold, HoldState};
pub use import::{RowRejection, RowReport};
pub use item::{Item, ItemStatus, NewItem};
pub(crate) use item::{get_item, insert_item, item_by_barcode_in, remove_item, replace_item};
pub use loan::{CheckinOutcome, Loan};
pub use notice::{Notice, NoticeKind};
pub use patron::{NewPatron, Patron, PatronCategory};
pub use patron_login::{
    PATRON_SESSION_ABSOLUTE_TIMEOUT, PATRON_SESSION_IDLE_TIMEOUT, PatronLoginOutcome, PatronSession,
};
pub use patron_totp::{PATRON_CHALLENGE_TIMEOUT, PatronChallenge, PatronCodeOutcome, PatronTotpStatus};
pub use policy::LoanPolicy;
pub use reading::{MonthlyLoans, ReadingEntry, TitleLoans};

/// Branch code -> JSON `{"name_ja","name_en"}`.
pub(crate) const BRANCHES: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("branches");
/// Item id -> JSON item row.
pub(crate) const ITEMS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("items");
/// Barcode -> item id.
pub(crate) const ITEM_BY_BARCODE: TableDefinition<'_, &str, u64> = TableDefinition::new("item_by_barcode");
/// Bib id -> item ids.
pub(crate) const ITEMS_BY_BIB: MultimapTableDefinition<'_, u64, u64> = MultimapTableDefinition::new("items_by_bib");
/// Patron id -> JSON patron row.
pub(crate) const PATRONS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("patrons");
/// Card number -> patron id.
pub(crate) const PATRON_BY_CARD: TableDefinition<'_, &str, u64> = TableDefinition::new("patron_by_card");
/// Item id -> JSON loan row (patron, out, due, renewals).
pub(crate) const LOANS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("loans");
/// Patron id -> item ids on loan to the patron.
pub(crate) const LOANS_BY_PATRON: MultimapTableDefinition<'_, u64, u64> =
    MultimapTableDefinition::new("loans_by_patron");
/// (patron category or `*`, item type or `*`) -> JSON loan rule.
pub(crate) const POLICIES: TableDefinition<'_, (&str, &str), &[u8]> = TableDefinition::new("policies");
/// (branch code, day as `YYYYMMDD`) -> note: the days the branch is closed.
pub(crate) const CALENDARS: TableDefinition<'_, (&str, u32), &str> = TableDefinition::new("calendars");
/// Hold id -> JSON hold row (record, patron, pickup branch, placed, state).
pub(crate) const HOLDS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("holds");
/// Bib id -> hold ids: the record's queue, in id (placement) order.
pub(crate) const HOLDS_BY_BIB: MultimapTableDefinition<'_, u64, u64> = MultimapTableDefinition::new("holds_by_bib");
/// Patron id -> hold ids.
pub(crate) const HOLDS_BY_PATRON: MultimapTableDefinition<'_, u64, u64> =
    MultimapTableDefinition::new("holds_by_patron");
/// Item id -> the hold it is set aside for (in transit or ready).
pub(crate) const HOLD_BY_ITEM: TableDefinition<'_, u64, u64> = TableDefinition::new("hold_by_item");
/// Notice id -> JSON notice waiting to be sent.
pub(crate) const NOTICES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("outbox");
/// (patron id, entry id) -> JSON reading record entry, for patrons who opted in.
pub(crate) const READING_RECORDS: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("reading_records");
/// (bib id, month as `YYYYMM`) -> checkouts that month.
pub(crate) const LOAN_COUNTS: TableDefinition<'_, (u64, u32), u64> = TableDefinition::new("loan_counts");

/// The reference item type: such items are for use in the library and are never lent.
pub(crate) const REFERENCE: &str = "reference";

/// Longest barcode or card number accepted.
const MAX_NUMBER_LEN: usize = 64;
/// Longest free text accepted (names, locations, call numbers, block reasons).
const MAX_TEXT_LEN: usize = 256;

/// Creates the circulation tables (schema versions 2 to 5) if they do not exist.
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    policy::create_table(txn)?;
    calendar::create_table(txn)?;
    hold::create_tables(txn)?;
    notice::create_table(txn)?;
    reading::create_tables(txn)?;
    patron_login::create_tables(txn)?;
    txn.open_table(BRANCHES)?;
    txn.open_table(ITEMS)?;
    txn.open_table(ITEM_BY_BARCODE)?;
    txn.open_multimap_table(ITEMS_BY_BIB)?;
    txn.open_table(PATRONS)?;
    txn.open_table(PATRON_BY_CARD)?;
    txn.open_table(LOANS)?;
    txn.open_multimap_table(LOANS_BY_PATRON)?;
    Ok(())
}

/// How many items belong to a record.
pub(crate) fn item_count_of_bib(txn: &WriteTransaction, bib_id: u64) -> Result<u64> {
    Ok(txn.open_multimap_table(ITEMS_BY_BIB)?.get(bib_id)?.len())
}

/// The date in Japan (JST, a fixed +09:00: Japan has no daylight saving) at `now`. Due
/// dates and expiry dates are Japanese calendar days.
pub(crate) fn jst_date(now: Timestamp) -> Date {
    jiff::tz::offset(9).to_datetime(now).date()
}

/// Allocates the next id of a kind (`next_item_id`, `next_patron_id`, `next_hold_id`,
/// `next_notice_id`, `next_reading_id` in `meta`): from 1, never reused.
fn next_id(txn: &WriteTransaction, key: &str) -> Result<u64> {
    let mut meta = txn.open_table(META)?;
    let next = meta.get(key)?.map_or(1, |v| v.value());
    meta.insert(key, next + 1)?;
    Ok(next)
}

fn encode<T: Serialize>(row: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(row).map_err(|e| Error::Storage(format!("encoding a row: {e}")))
}

fn decode<T: DeserializeOwned>(table: &str, key: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Storage(format!("{table} {key}: stored value is damaged: {e}")))
}

/// The row with `key` in a table of JSON rows keyed by id.
fn get_row<T: DeserializeOwned>(
    table: &impl ReadableTable<u64, &'static [u8]>,
    name: &str,
    key: u64,
) -> Result<Option<T>> {
    let value = table.get(key)?;
    value.map(|v| decode(name, key, v.value())).transpose()
}

/// A code (branch, item type): 1 to 32 lowercase ASCII letters, digits and '-'.
fn check_code(field: &'static str, code: &str) -> Result<String> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 {
        return Err(Error::invalid(field, format!("{:?} must be 1 to 32 characters long", clip(code))));
    }
    if !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(Error::invalid(
            field,
            format!("{:?}: only lowercase ASCII letters, digits and '-' are allowed", clip(code)),
        ));
    }
    Ok(code.to_string())
}

/// A barcode or card number: 1 to 64 printable ASCII characters without spaces (what a
/// scanner reads: digits, letters, NW-7 start and stop characters).
fn check_number(field: &'static str, number: &str) -> Result<String> {
    let number = number.trim();
    if number.is_empty() || number.len() > MAX_NUMBER_LEN {
        return Err(Error::invalid(field, format!("{:?} must be 1 to {MAX_NUMBER_LEN} characters long", clip(number))));
    }
    if !number.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(field, format!("{:?}: only printable ASCII without spaces", clip(number))));
    }
    Ok(number.to_string())
}

/// Free text: trimmed, without control characters, at most 256 characters; empty allowed
/// unless `required`.
fn check_text(field: &'static str, text: &str, required: bool) -> Result<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_LEN {
        return Err(Error::invalid(field, format!("longer than {MAX_TEXT_LEN} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(field, "contains control characters"));
    }
    Ok(text.to_string())
}

/// Optional free text: empty (after trimming) is none.
fn check_optional_text(field: &'static str, text: Option<&str>) -> Result<Option<String>> {
    let text = check_text(field, text.unwrap_or(""), false)?;
    Ok(if text.is_empty() { None } else { Some(text) })
}

/// At most 64 characters of a refused value, for messages.
fn clip(value: &str) -> String {
    value.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(check_code("branch code", " chuo ").ok().as_deref(), Some("chuo"));
        for ok in ["a", "kita-2", &"x".repeat(32)] {
            assert!(check_code("branch code", ok).is_ok(), "{ok:?}");
        }
        for bad in ["", " ", "Chuo", "中央", "a b", "a_b", "a.b", &"x".repeat(33)] {
            assert!(matches!(check_code("branch code", bad), Err(Error::Invalid { .. })), "{bad:?}");
        }
    }

    #[test]
    fn numbers_and_text() {
        assert_eq!(check_number("barcode", " A0012345B ").ok().as_deref(), Some("A0012345B"));
        for bad in ["", "12 34", "１２３", "12\t3", &"1".repeat(65)] {
            assert!(check_number("barcode", bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_text("location", " 開架 ", false).ok().as_deref(), Some("開架"));
        assert!(check_text("name", "  ", true).is_err());
        assert!(check_text("name", "a\nb", true).is_err());
        assert_eq!(check_optional_text("reading", Some("  ")).ok(), Some(None));
    }

    #[test]
    fn japanese_date_turns_at_midnight_jst() {
        let before: Timestamp = "2026-03-31T14:59:59Z".parse().unwrap_or_default();
        let after: Timestamp = "2026-03-31T15:00:00Z".parse().unwrap_or_default();
        assert_eq!(jst_date(before), jiff::civil::date(2026, 3, 31));
        assert_eq!(jst_date(after), jiff::civil::date(2026, 4, 1));
    }
}
