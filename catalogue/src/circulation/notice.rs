//! The outbox of notices to patrons (a hold is ready, an item is overdue), written in the
//! same transaction as the change that calls for them and drained by a mailer: it lists
//! the pending notices, sends them, and marks each one sent, which deletes it. So a
//! notice is never lost (it is committed with its cause) and never kept once sent.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::item::get_item;
use super::loan::LoanRow;
use super::{ITEMS, LOANS, NOTICES, decode, encode, get_row, jst_date, next_id};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// What a notice tells the patron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A copy waits on the hold shelf until [`Notice::date`] (`hold_ready`, 予約資料のご用意).
    HoldReady,
    /// A loan was due on [`Notice::date`] and has not come back (`overdue`, 返却のお願い).
    Overdue,
}

impl NoticeKind {
    /// The kind's code: `hold_ready`, `overdue`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::HoldReady => "hold_ready",
            NoticeKind::Overdue => "overdue",
        }
    }
}

/// A notice waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its id, allocated from 1 and never reused.
    pub id: u64,
    /// What it tells.
    pub kind: NoticeKind,
    /// To whom (the mailer reads the patron's contact).
    pub patron_id: u64,
    /// The record concerned.
    pub bib_id: u64,
    /// The copy concerned.
    pub item_barcode: String,
    /// The ready-until date of a hold, or the due date of an overdue loan (JST).
    pub date: Date,
    /// When it was written.
    pub created: Timestamp,
}

/// The stored form of a notice (the id is the key).
#[derive(Serialize, Deserialize)]
struct NoticeRow {
    kind: NoticeKind,
    patron: u64,
    bib: u64,
    item_barcode: String,
    date: Date,
    created: Timestamp,
}

impl Catalogue {
    /// Up to `limit` notices waiting to be sent, oldest first.
    pub fn pending_notices(&self, limit: usize) -> Result<Vec<Notice>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(NOTICES)?;
        let mut out = Vec::new();
        for row in table.iter()?.take(limit) {
            let (id, value) = row?;
            let row: NoticeRow = decode("notice", id.value(), value.value())?;
            out.push(row.into_notice(id.value()));
        }
        Ok(out)
    }

    /// Up to `limit` notices waiting to be sent whose id is above `after`, oldest first: a
    /// mailer pages through the outbox with it, past notices it has to leave (a patron with
    /// no e-mail address, whom the staff will telephone).
    pub fn pending_notices_after(&self, after: u64, limit: usize) -> Result<Vec<Notice>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(NOTICES)?;
        let mut out = Vec::new();
        let Some(from) = after.checked_add(1) else { return Ok(out) };
        for row in table.range(from..)?.take(limit) {
            let (id, value) = row?;
            let row: NoticeRow = decode("notice", id.value(), value.value())?;
            out.push(row.into_notice(id.value()));
        }
        Ok(out)
    }

    /// Marks a notice sent: it is deleted. `false` if there was none (sent already).
    pub fn mark_notice_sent(&self, notice_id: u64) -> Result<bool> {
        let txn = self.db.begin_write()?;
        let removed = txn.open_table(NOTICES)?.remove(notice_id)?.is_some();
        txn.commit()?;
        Ok(removed)
    }

    /// Writes an overdue notice for every loan due before the Japanese date at `now` that
    /// has not had one, in one transaction: once per loan (a renewal, which moves the due
    /// date, allows one more). Returns the notices written. The OPAC shows nothing new, so
    /// nothing goes to the change feed.
    pub fn notify_overdue(&self, now: Timestamp) -> Result<Vec<Notice>> {
        let today = jst_date(now);
        let txn = self.db.begin_write()?;
        let mut late = Vec::new();
        {
            let loans = txn.open_table(LOANS)?;
            for row in loans.iter()? {
                let (item_id, value) = row?;
                let loan: LoanRow = decode("loan of item", item_id.value(), value.value())?;
                if loan.due < today && !loan.overdue_noticed {
                    late.push((item_id.value(), loan));
                }
            }
        }
        let mut out = Vec::with_capacity(late.len());
        for (item_id, mut loan) in late {
            let item = get_item(&txn.open_table(ITEMS)?, item_id)?
                .ok_or_else(|| Error::Storage(format!("a loan names item {item_id}, which does not exist")))?;
            out.push(push_notice(&txn, NoticeKind::Overdue, loan.patron, item.bib_id, &item.barcode, loan.due, now)?);
            loan.overdue_noticed = true;
            txn.open_table(LOANS)?.insert(item_id, encode(&loan)?.as_slice())?;
        }
        txn.commit()?;
        Ok(out)
    }

    /// The notice with this id, if it is still pending.
    pub fn notice(&self, notice_id: u64) -> Result<Option<Notice>> {
        let txn = self.db.begin_read()?;
        Ok(get_row::<NoticeRow>(&txn.open_table(NOTICES)?, "notice", notice_id)?.map(|row| row.into_notice(notice_id)))
    }
}

impl NoticeRow {
    fn into_notice(self, id: u64) -> Notice {
        Notice {
            id,
            kind: self.kind,
            patron_id: self.patron,
            bib_id: self.bib,
            item_barcode: self.item_barcode,
            date: self.date,
            created: self.created,
        }
    }
}

/// Adds a notice to the outbox inside `txn`.
pub(crate) fn push_notice(
    txn: &WriteTransaction,
    kind: NoticeKind,
    patron: u64,
    bib: u64,
    item_barcode: &str,
    date: Date,
    now: Timestamp,
) -> Result<Notice> {
    let id = next_id(txn, "next_notice_id")?;
    let row = NoticeRow { kind, patron, bib, item_barcode: item_barcode.to_string(), date, created: now };
    txn.open_table(NOTICES)?.insert(id, encode(&row)?.as_slice())?;
    Ok(row.into_notice(id))
}

/// Creates the outbox table if it does not exist.
pub(crate) fn create_table(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(NOTICES)?;
    Ok(())
}
