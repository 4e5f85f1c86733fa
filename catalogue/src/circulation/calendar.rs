//! Calendars of closed days (休館日): per branch, the Japanese dates it is closed. A due
//! date that falls on a closed day of the item's branch moves to the next open day, and a
//! hold waits on the hold shelf for a number of the pickup branch's open days.
//!
//! Dates are Japanese calendar days: the date at +09:00, which is Asia/Tokyo's offset
//! every day since 1951 (Japan has no daylight saving), so no time-zone database is needed.

use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::branch::existing_branch;
use super::{BRANCHES, CALENDARS, check_code, check_text};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// Longest run of closed days looked through for an open one: a branch closed for more
/// than a year (a rebuild) has no due dates, and lending from it is refused.
const MAX_CLOSED_RUN: u32 = 366;

/// A day a branch is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedDay {
    /// The branch code.
    pub branch: String,
    /// The day (JST).
    pub date: Date,
    /// Why, for people: 休館日, 年末年始, 蔵書点検 (may be empty).
    pub note: String,
}

impl Catalogue {
    /// Marks days as closed at a branch (each with `note`), in one transaction; days
    /// already closed take the new note. Refuses an unknown branch ([`Error::UnknownBranch`])
    /// and a date outside the years 1900 to 9999 ([`Error::Invalid`]). Returns how many
    /// days were not closed before. Loans already made keep their due date.
    pub fn set_closed_days(&self, branch: &str, dates: &[Date], note: &str) -> Result<usize> {
        let branch = check_code("branch code", branch)?;
        let note = check_text("note", note, false)?;
        for &date in dates {
            date_key(date)?;
        }
        let txn = self.db.begin_write()?;
        existing_branch(&txn.open_table(BRANCHES)?, &branch)?;
        let mut added = 0;
        {
            let mut table = txn.open_table(CALENDARS)?;
            for &date in dates {
                if table.insert((branch.as_str(), date_key(date)?), note.as_str())?.is_none() {
                    added += 1;
                }
            }
        }
        txn.commit()?;
        Ok(added)
    }

    /// Marks days as open again at a branch; returns how many were closed.
    pub fn set_open_days(&self, branch: &str, dates: &[Date]) -> Result<usize> {
        let branch = check_code("branch code", branch)?;
        let txn = self.db.begin_write()?;
        let mut removed = 0;
        {
            let mut table = txn.open_table(CALENDARS)?;
            for &date in dates {
                if table.remove((branch.as_str(), date_key(date)?))?.is_some() {
                    removed += 1;
                }
            }
        }
        txn.commit()?;
        Ok(removed)
    }

    /// The closed days of a branch from `from` to `to` (both included), in date order.
    pub fn closed_days(&self, branch: &str, from: Date, to: Date) -> Result<Vec<ClosedDay>> {
        let branch = branch.trim();
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CALENDARS)?;
        let mut out = Vec::new();
        for row in table.range((branch, date_key(from)?)..=(branch, date_key(to)?))? {
            let (key, note) = row?;
            let (_, day) = key.value();
            out.push(ClosedDay { branch: branch.to_string(), date: key_date(day)?, note: note.value().to_string() });
        }
        Ok(out)
    }

    /// Whether a branch is open on a day (a branch with no calendar is always open).
    pub fn is_open(&self, branch: &str, date: Date) -> Result<bool> {
        let txn = self.db.begin_read()?;
        is_open(&txn.open_table(CALENDARS)?, branch.trim(), date)
    }

    /// The first day from `date` (included) on which the branch is open: the due date of
    /// a loan whose period ends on `date`. Refuses a branch closed for over a year from
    /// `date` ([`Error::NoOpenDay`]).
    pub fn next_open_day(&self, branch: &str, date: Date) -> Result<Date> {
        let txn = self.db.begin_read()?;
        next_open_day(&txn.open_table(CALENDARS)?, branch.trim(), date)
    }
}

/// A date as its key: `YYYYMMDD` as a number, which sorts as the dates do.
pub(crate) fn date_key(date: Date) -> Result<u32> {
    let year = u32::try_from(date.year()).ok().filter(|y| (1900..=9999).contains(y));
    let year = year.ok_or_else(|| Error::invalid("date", format!("{date} is outside the years 1900 to 9999")))?;
    Ok(year * 10_000 + date.month().unsigned_abs() as u32 * 100 + date.day().unsigned_abs() as u32)
}

fn key_date(key: u32) -> Result<Date> {
    let part = |value: u32| i8::try_from(value).map_err(|_| Error::Storage(format!("calendar day {key} is damaged")));
    let year = i16::try_from(key / 10_000).map_err(|_| Error::Storage(format!("calendar day {key} is damaged")))?;
    Date::new(year, part(key / 100 % 100)?, part(key % 100)?)
        .map_err(|_| Error::Storage(format!("calendar day {key} is damaged")))
}

/// Whether the branch is open on `date`, from any transaction.
pub(crate) fn is_open(
    table: &impl ReadableTable<(&'static str, u32), &'static str>,
    branch: &str,
    date: Date,
) -> Result<bool> {
    Ok(table.get((branch, date_key(date)?))?.is_none())
}

/// The day after `date`.
fn next_day(date: Date) -> Result<Date> {
    date.tomorrow().map_err(|_| Error::invalid("date", format!("there is no day after {date}")))
}

/// The first open day from `date` (included).
pub(crate) fn next_open_day(
    table: &impl ReadableTable<(&'static str, u32), &'static str>,
    branch: &str,
    date: Date,
) -> Result<Date> {
    let mut day = date;
    for _ in 0..=MAX_CLOSED_RUN {
        if is_open(table, branch, day)? {
            return Ok(day);
        }
        day = next_day(day)?;
    }
    Err(Error::NoOpenDay { branch: branch.to_string(), from: date })
}

/// The `n`-th open day after `date` (`date` itself not counted; `n` = 0 is `date`).
pub(crate) fn add_open_days(
    table: &impl ReadableTable<(&'static str, u32), &'static str>,
    branch: &str,
    date: Date,
    n: u32,
) -> Result<Date> {
    let mut day = date;
    for _ in 0..n {
        day = next_open_day(table, branch, next_day(day)?)?;
    }
    Ok(day)
}

/// `date` plus `days` calendar days.
pub(crate) fn add_days(date: Date, days: u32) -> Result<Date> {
    date.checked_add(jiff::Span::new().days(i64::from(days)))
        .map_err(|_| Error::invalid("date", format!("{date} plus {days} days is out of range")))
}

/// Creates the calendars table if it does not exist.
pub(crate) fn create_table(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(CALENDARS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn date_keys_sort_as_dates_and_round_trip() {
        let days = [date(1999, 12, 31), date(2026, 1, 1), date(2026, 4, 30), date(2026, 12, 1)];
        let keys: Vec<u32> = days.iter().map(|&d| date_key(d).unwrap_or_default()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        for (&day, &key) in days.iter().zip(&keys) {
            assert_eq!(key_date(key).ok(), Some(day));
        }
        assert!(date_key(date(1899, 12, 31)).is_err());
        assert!(key_date(20261341).is_err());
    }
}
