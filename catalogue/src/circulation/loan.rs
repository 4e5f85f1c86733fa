//! Loans: checkout, checkin and renewal. A loan row exists exactly while its item is
//! `on_loan`, and is deleted at return: the catalogue forgets who borrowed what.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::item::{Item, ItemStatus, item_by_barcode_in, write_item_row};
use super::patron::{Patron, get_patron, patron_id_by_card};
use super::{LOANS, LOANS_BY_PATRON, PATRON_BY_CARD, PATRONS, clip, decode, encode, jst_date};
use crate::error::{Error, Result};
use crate::store::{Catalogue, ChangeKind, append_change};

/// An item lent to a patron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    /// The item lent (an item has at most one loan).
    pub item_id: u64,
    /// The patron who borrowed it.
    pub patron_id: u64,
    /// When it was checked out.
    pub out: Timestamp,
    /// The day it is due back (JST).
    pub due: Date,
    /// How many times it has been renewed.
    pub renewals: u32,
}

/// What a checkin did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinOutcome {
    /// The item after the checkin: `available`, unless it was withdrawn (a withdrawn item
    /// stays withdrawn; the desk decides what to do with it).
    pub item: Item,
    /// The loan that ended, if the item was on loan; it is no longer stored.
    pub loan: Option<Loan>,
    /// The item's status before the checkin: `on_loan` for a return, `missing` for an item
    /// found, `in_transit` for one arriving, and so on.
    pub previous_status: ItemStatus,
    /// Calendar days between the due date and the day of return (JST), 0 when returned in
    /// time or not on loan. Closed days are not taken into account (calendars come later).
    pub days_overdue: u32,
}

/// The stored form of a loan (the item id is the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LoanRow {
    patron: u64,
    out: Timestamp,
    due: Date,
    renewals: u32,
}

impl LoanRow {
    fn into_loan(self, item_id: u64) -> Loan {
        Loan { item_id, patron_id: self.patron, out: self.out, due: self.due, renewals: self.renewals }
    }

    fn of(loan: &Loan) -> LoanRow {
        LoanRow { patron: loan.patron_id, out: loan.out, due: loan.due, renewals: loan.renewals }
    }
}

impl Catalogue {
    /// Lends the item with `item_barcode` to the patron with `patron_card` until `due` (a
    /// Japanese date, computed by the caller: loan rules come later). Refuses, before
    /// writing anything: an unknown item ([`Error::UnknownItem`]) or patron
    /// ([`Error::UnknownPatron`]); an item already on loan ([`Error::ItemOnLoan`]); an item
    /// that cannot be lent ([`Error::NotLendable`]: a reference item, or one that is not
    /// `available`); a blocked patron ([`Error::PatronBlocked`]) or an expired card
    /// ([`Error::PatronExpired`]); a due date before today in Japan ([`Error::Invalid`]).
    ///
    /// Two checkouts of the same item never both succeed: redb serialises write
    /// transactions, and each one checks the item's loan inside its own transaction.
    pub fn checkout(&self, item_barcode: &str, patron_card: &str, due: Date, now: Timestamp) -> Result<Loan> {
        let txn = self.db.begin_write()?;
        let loan = checkout_in(&txn, item_barcode, patron_card, due, now)?;
        txn.commit()?;
        Ok(loan)
    }

    /// Takes back the item with `item_barcode` ([`Error::UnknownItem`] if there is none).
    /// An item on loan: its loan row is deleted and it becomes `available`. An item not on
    /// loan (found, arriving from another branch) also becomes `available`, except a
    /// withdrawn one, which is left as it is. Appends the record to the change feed when
    /// the item changed.
    pub fn checkin(&self, item_barcode: &str, now: Timestamp) -> Result<CheckinOutcome> {
        let txn = self.db.begin_write()?;
        let outcome = checkin_in(&txn, item_barcode, now)?;
        txn.commit()?;
        Ok(outcome)
    }

    /// Extends the loan of the item with `item_barcode` to `new_due` and counts the
    /// renewal. Refuses an unknown item ([`Error::UnknownItem`]), an item not on loan
    /// ([`Error::NotOnLoan`]), a borrower who is blocked or whose card has expired, and a
    /// due date before today in Japan ([`Error::Invalid`]).
    pub fn renew(&self, item_barcode: &str, new_due: Date, now: Timestamp) -> Result<Loan> {
        let txn = self.db.begin_write()?;
        let loan = renew_in(&txn, item_barcode, new_due, now)?;
        txn.commit()?;
        Ok(loan)
    }

    /// The patron's loans, by item id.
    pub fn loans_of_patron(&self, patron_id: u64) -> Result<Vec<Loan>> {
        let txn = self.db.begin_read()?;
        let by_patron = txn.open_multimap_table(LOANS_BY_PATRON)?;
        let loans = txn.open_table(LOANS)?;
        let mut out = Vec::new();
        for item_id in by_patron.get(patron_id)? {
            let item_id = item_id?.value();
            let loan = get_loan(&loans, item_id)?.ok_or_else(|| {
                Error::Storage(format!("patron {patron_id} lists a loan of item {item_id}, which does not exist"))
            })?;
            out.push(loan);
        }
        Ok(out)
    }

    /// The loan of the item with this id, if it is on loan.
    pub fn loan_of_item(&self, item_id: u64) -> Result<Option<Loan>> {
        let txn = self.db.begin_read()?;
        get_loan(&txn.open_table(LOANS)?, item_id)
    }
}

/// The loan of an item, from any transaction.
pub(crate) fn get_loan(loans: &impl ReadableTable<u64, &'static [u8]>, item_id: u64) -> Result<Option<Loan>> {
    let value = loans.get(item_id)?;
    value.map(|v| decode::<LoanRow>("loan of item", item_id, v.value()).map(|row| row.into_loan(item_id))).transpose()
}

fn check_due(due: Date, now: Timestamp) -> Result<()> {
    let today = jst_date(now);
    if due < today {
        return Err(Error::invalid("due date", format!("{due} is before today ({today}, JST)")));
    }
    Ok(())
}

/// Why an item that is not on loan cannot be lent, if it cannot.
fn refuse_unlendable(item: &Item) -> Result<()> {
    let reason = if item.is_reference() {
        "reference items are for use in the library only"
    } else {
        match item.status {
            ItemStatus::Available => return Ok(()),
            ItemStatus::Missing => "it is missing",
            ItemStatus::Withdrawn => "it has been withdrawn",
            ItemStatus::OnHoldShelf => "it is on the hold shelf",
            ItemStatus::InTransit => "it is in transit",
            ItemStatus::OnLoan => return Err(inconsistent(item)),
        }
    };
    Err(Error::NotLendable { barcode: item.barcode.clone(), reason })
}

fn inconsistent(item: &Item) -> Error {
    Error::Storage(format!("item {} is on_loan but has no loan", item.id))
}

fn patron_of_loan(txn: &WriteTransaction, loan: &Loan) -> Result<Patron> {
    let patron = get_patron(&txn.open_table(PATRONS)?, loan.patron_id)?;
    patron.ok_or_else(|| {
        Error::Storage(format!("the loan of item {} names patron {}, who does not exist", loan.item_id, loan.patron_id))
    })
}

fn checkout_in(txn: &WriteTransaction, barcode: &str, card: &str, due: Date, now: Timestamp) -> Result<Loan> {
    let mut item = item_by_barcode_in(txn, barcode)?;
    let patron_id = patron_id_by_card(&txn.open_table(PATRON_BY_CARD)?, card)?;
    let patron = match patron_id {
        Some(id) => get_patron(&txn.open_table(PATRONS)?, id)?,
        None => None,
    };
    let patron = patron.ok_or_else(|| Error::UnknownPatron(clip(card.trim())))?;
    if let Some(loan) = get_loan(&txn.open_table(LOANS)?, item.id)? {
        return Err(Error::ItemOnLoan { barcode: item.barcode, due: loan.due });
    }
    refuse_unlendable(&item)?;
    patron.check_may_borrow(now)?;
    check_due(due, now)?;

    let loan = Loan { item_id: item.id, patron_id: patron.id, out: now, due, renewals: 0 };
    txn.open_table(LOANS)?.insert(item.id, encode(&LoanRow::of(&loan))?.as_slice())?;
    txn.open_multimap_table(LOANS_BY_PATRON)?.insert(patron.id, item.id)?;
    item.status = ItemStatus::OnLoan;
    write_item_row(txn, &item)?;
    append_change(txn, item.bib_id, ChangeKind::Holdings)?;
    Ok(loan)
}

fn checkin_in(txn: &WriteTransaction, barcode: &str, now: Timestamp) -> Result<CheckinOutcome> {
    let mut item = item_by_barcode_in(txn, barcode)?;
    let previous_status = item.status;
    let loan = get_loan(&txn.open_table(LOANS)?, item.id)?;
    let days_overdue = match &loan {
        Some(loan) => jst_date(now).since(loan.due).map_or(0, |span| span.get_days().max(0).unsigned_abs()),
        None => 0,
    };
    if let Some(loan) = &loan {
        txn.open_table(LOANS)?.remove(item.id)?;
        txn.open_multimap_table(LOANS_BY_PATRON)?.remove(loan.patron_id, item.id)?;
    } else {
        match item.status {
            // Nothing to do: the OPAC shows the same thing, so no change either.
            ItemStatus::Available | ItemStatus::Withdrawn => {
                return Ok(CheckinOutcome { item, loan, previous_status, days_overdue });
            }
            ItemStatus::OnLoan => return Err(inconsistent(&item)),
            // Holds will decide here whether an arriving item goes to the hold shelf.
            ItemStatus::Missing | ItemStatus::InTransit | ItemStatus::OnHoldShelf => {}
        }
    }
    item.status = ItemStatus::Available;
    write_item_row(txn, &item)?;
    append_change(txn, item.bib_id, ChangeKind::Holdings)?;
    Ok(CheckinOutcome { item, loan, previous_status, days_overdue })
}

fn renew_in(txn: &WriteTransaction, barcode: &str, new_due: Date, now: Timestamp) -> Result<Loan> {
    let item = item_by_barcode_in(txn, barcode)?;
    let loan = get_loan(&txn.open_table(LOANS)?, item.id)?;
    let mut loan = loan.ok_or_else(|| Error::NotOnLoan(item.barcode.clone()))?;
    patron_of_loan(txn, &loan)?.check_may_borrow(now)?;
    check_due(new_due, now)?;
    loan.due = new_due;
    loan.renewals = loan.renewals.saturating_add(1);
    txn.open_table(LOANS)?.insert(item.id, encode(&LoanRow::of(&loan))?.as_slice())?;
    append_change(txn, item.bib_id, ChangeKind::Holdings)?;
    Ok(loan)
}
