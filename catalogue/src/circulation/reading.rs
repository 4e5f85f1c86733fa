//! What is remembered of loans after they end, and nothing more (図書館の自由に関する宣言:
//! the library keeps its patrons' reading secret).
//!
//! - A patron's reading record (読書記録) exists only if the patron opted in: each return
//!   adds the record, the day it went out and the day it came back. Opting out deletes it.
//! - Rankings read per-title monthly counters, (bib id, month) -> loans, counted at
//!   checkout; they name no patron.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{LOAN_COUNTS, READING_RECORDS, decode, encode, jst_date, next_id};
use crate::error::Result;
use crate::store::Catalogue;

/// One returned loan in a patron's reading record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingEntry {
    /// The record read.
    pub bib_id: u64,
    /// The day it was checked out (JST).
    pub out: Date,
    /// The day it came back (JST).
    pub returned: Date,
}

/// Loans of a title in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonthlyLoans {
    /// The record.
    pub bib_id: u64,
    /// The year (JST).
    pub year: i16,
    /// The month, 1 to 12.
    pub month: i8,
    /// Checkouts of any of its copies that month (renewals not counted).
    pub loans: u64,
}

/// Loans of a title over a span of months: a line of a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TitleLoans {
    /// The record.
    pub bib_id: u64,
    /// Checkouts in the span.
    pub loans: u64,
}

impl Catalogue {
    /// The patron's reading record, oldest return first: empty unless the patron opted in
    /// ([`Patron::reading_record`](crate::Patron::reading_record)).
    pub fn reading_record(&self, patron_id: u64) -> Result<Vec<ReadingEntry>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(READING_RECORDS)?;
        let mut out = Vec::new();
        for row in table.range((patron_id, 0)..=(patron_id, u64::MAX))? {
            let (key, value) = row?;
            out.push(decode("reading record", format_args!("{:?}", key.value()), value.value())?);
        }
        Ok(out)
    }

    /// A title's checkouts month by month, oldest first (months without loans left out).
    pub fn monthly_loans(&self, bib_id: u64) -> Result<Vec<MonthlyLoans>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(LOAN_COUNTS)?;
        let mut out = Vec::new();
        for row in table.range((bib_id, 0)..=(bib_id, u32::MAX))? {
            let (key, loans) = row?;
            out.push(monthly(key.value(), loans.value()));
        }
        Ok(out)
    }

    /// The `limit` titles most lent in the months of `from` to `to` (both included), most
    /// lent first, ties by bib id: a ranking (貸出ランキング) that names no patron.
    pub fn loan_ranking(&self, from: Date, to: Date, limit: usize) -> Result<Vec<TitleLoans>> {
        let (first, last) = (month_key(from), month_key(to));
        let txn = self.db.begin_read()?;
        let table = txn.open_table(LOAN_COUNTS)?;
        let mut totals: Vec<TitleLoans> = Vec::new();
        for row in table.iter()? {
            let (key, loans) = row?;
            let (bib_id, month) = key.value();
            if !(first..=last).contains(&month) {
                continue;
            }
            // Keys come by bib id, so a title's months are together.
            match totals.last_mut() {
                Some(last) if last.bib_id == bib_id => last.loans += loans.value(),
                _ => totals.push(TitleLoans { bib_id, loans: loans.value() }),
            }
        }
        totals.sort_by(|a, b| b.loans.cmp(&a.loans).then(a.bib_id.cmp(&b.bib_id)));
        totals.truncate(limit);
        Ok(totals)
    }
}

/// A month as its key: `YYYYMM` as a number.
fn month_key(date: Date) -> u32 {
    u32::try_from(i32::from(date.year()) * 100 + i32::from(date.month())).unwrap_or(0)
}

fn monthly((bib_id, month): (u64, u32), loans: u64) -> MonthlyLoans {
    MonthlyLoans {
        bib_id,
        year: i16::try_from(month / 100).unwrap_or(0),
        month: i8::try_from(month % 100).unwrap_or(0),
        loans,
    }
}

/// Counts a checkout of the record in the month of `now` (JST).
pub(crate) fn count_loan(txn: &WriteTransaction, bib_id: u64, now: Timestamp) -> Result<()> {
    let key = (bib_id, month_key(jst_date(now)));
    let mut table = txn.open_table(LOAN_COUNTS)?;
    let loans = table.get(key)?.map_or(0, |v| v.value());
    table.insert(key, loans.saturating_add(1))?;
    Ok(())
}

/// Adds a returned loan to the patron's reading record (the caller checked the opt-in).
pub(crate) fn record_reading(txn: &WriteTransaction, patron_id: u64, entry: &ReadingEntry) -> Result<()> {
    let id = next_id(txn, "next_reading_id")?;
    txn.open_table(READING_RECORDS)?.insert((patron_id, id), encode(entry)?.as_slice())?;
    Ok(())
}

/// Deletes a patron's reading record (the patron opted out).
pub(crate) fn forget_reading(txn: &WriteTransaction, patron_id: u64) -> Result<()> {
    let mut table = txn.open_table(READING_RECORDS)?;
    let mut keys = Vec::new();
    for row in table.range((patron_id, 0)..=(patron_id, u64::MAX))? {
        keys.push(row?.0.value());
    }
    for key in keys {
        table.remove(key)?;
    }
    Ok(())
}

/// Creates the reading record and counter tables if they do not exist.
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(READING_RECORDS)?;
    txn.open_table(LOAN_COUNTS)?;
    Ok(())
}
