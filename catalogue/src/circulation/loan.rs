//! Loans: checkout, checkin and renewal. A loan row exists exactly while its item is
//! `on_loan`, and is deleted at return: the catalogue forgets who borrowed what, unless the
//! patron opted in to a reading record.
//!
//! Checkout and renewal follow the loan rules ([`LoanPolicy`](crate::LoanPolicy)): the due
//! date is today plus the rule's loan days, moved to the next day the item's branch is
//! open; the rule limits loans and renewals, and suspends borrowing while the patron has
//! an overdue item. The `_until` variants take the due date from the caller instead and
//! apply no limit of the rules: they are for loans carried over from another system (and
//! the demo) and for a librarian's override; everything about the item and the card is
//! still checked.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::branch::existing_branch;
use super::calendar::{add_days, next_open_day};
use super::hold::{
    Hold, Settle, apply_release, apply_settle, hold_of_patron_on, hold_on_item, others_waiting, plan_release,
    plan_settle, plan_trap, remove_hold,
};
use super::item::{Item, ItemStatus, get_item, item_by_barcode_in, write_item_row};
use super::patron::{Patron, get_patron, patron_by_card_in};
use super::policy::{LoanPolicy, resolve};
use super::reading::{ReadingEntry, count_loan, record_reading};
use super::{
    BRANCHES, CALENDARS, ITEMS, LOANS, LOANS_BY_PATRON, PATRONS, POLICIES, check_code, decode, encode, jst_date,
};
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
    /// The item after the checkin: `available` on the shelf of its branch; `on_hold_shelf`
    /// set aside for [`hold`](CheckinOutcome::hold); `in_transit` to
    /// [`destination`](CheckinOutcome::destination); a withdrawn item stays withdrawn (the
    /// desk decides what to do with it).
    pub item: Item,
    /// The loan that ended, if the item was on loan; it is no longer stored.
    pub loan: Option<Loan>,
    /// The item's status before the checkin: `on_loan` for a return, `missing` for an item
    /// found, `in_transit` for one arriving, and so on.
    pub previous_status: ItemStatus,
    /// Calendar days between the due date and the day of return (JST), 0 when returned in
    /// time or not on loan.
    pub days_overdue: u32,
    /// The hold the item is set aside for after this checkin (ready on the hold shelf, or
    /// in transit to its pickup branch), if any: the desk puts it on the shelf or sends it.
    pub hold: Option<Hold>,
    /// The branch an item `in_transit` is to be sent to (the hold's pickup branch, or the
    /// item's own branch).
    pub destination: Option<String>,
}

/// The stored form of a loan (the item id is the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LoanRow {
    pub(crate) patron: u64,
    out: Timestamp,
    pub(crate) due: Date,
    renewals: u32,
    /// An overdue notice was written for the current due date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) overdue_noticed: bool,
}

impl LoanRow {
    fn into_loan(self, item_id: u64) -> Loan {
        Loan { item_id, patron_id: self.patron, out: self.out, due: self.due, renewals: self.renewals }
    }

    fn of(loan: &Loan) -> LoanRow {
        LoanRow {
            patron: loan.patron_id,
            out: loan.out,
            due: loan.due,
            renewals: loan.renewals,
            overdue_noticed: false,
        }
    }
}

impl Catalogue {
    /// Lends the item with `item_barcode` to the patron with `patron_card` under the loan
    /// rule for the patron's category and the item's type: due after the rule's loan days,
    /// on the next open day of the item's branch. Refuses, before writing anything: an
    /// unknown item ([`Error::UnknownItem`]) or patron ([`Error::UnknownPatron`]); an item
    /// already on loan ([`Error::ItemOnLoan`]); an item set aside for another patron's hold
    /// ([`Error::ItemHeld`]); an item that cannot be lent ([`Error::NotLendable`]: a
    /// reference item, or one not `available`); a blocked patron ([`Error::PatronBlocked`])
    /// or an expired card ([`Error::PatronExpired`]); a patron with an overdue item when
    /// the rule suspends borrowing ([`Error::PatronOverdue`]); a patron at the rule's limit
    /// ([`Error::TooManyLoans`]). The patron's hold on the record, if any, is fulfilled
    /// (and a copy set aside for it elsewhere goes to the next hold). Counts the loan in
    /// the record's monthly counter; appends the record to the change feed.
    ///
    /// Two checkouts of the same item never both succeed: redb serialises write
    /// transactions, and each one checks the item's loan inside its own transaction.
    pub fn checkout(&self, item_barcode: &str, patron_card: &str, now: Timestamp) -> Result<Loan> {
        let txn = self.db.begin_write()?;
        let loan = checkout_in(&txn, item_barcode, patron_card, None, now)?;
        txn.commit()?;
        Ok(loan)
    }

    /// Lends as [`checkout`](Catalogue::checkout) does, but until `due` (a Japanese date,
    /// not before today: [`Error::Invalid`] otherwise) and without the limits of the loan
    /// rules (number of loans, overdue suspension): for loans carried over from another
    /// system and a librarian's override.
    pub fn checkout_until(&self, item_barcode: &str, patron_card: &str, due: Date, now: Timestamp) -> Result<Loan> {
        let txn = self.db.begin_write()?;
        let loan = checkout_in(&txn, item_barcode, patron_card, Some(due), now)?;
        txn.commit()?;
        Ok(loan)
    }

    /// Takes back the item with `item_barcode` at its own branch; see
    /// [`checkin_at`](Catalogue::checkin_at).
    pub fn checkin(&self, item_barcode: &str, now: Timestamp) -> Result<CheckinOutcome> {
        let txn = self.db.begin_write()?;
        let outcome = checkin_in(&txn, item_barcode, None, now)?;
        txn.commit()?;
        Ok(outcome)
    }

    /// Takes back the item with `item_barcode` at the desk of branch `at`
    /// ([`Error::UnknownItem`], [`Error::UnknownBranch`] if there is none). An item on
    /// loan: its loan row is deleted (a line is added to the patron's reading record if
    /// the patron opted in). Then, unless the item is withdrawn (left as it is): an item
    /// set aside for a hold and in transit becomes ready on the hold shelf when `at` is the
    /// pickup branch (and stays in transit elsewhere); any other item is set aside for the
    /// record's first waiting hold (ready when `at` is its pickup branch, with a "hold
    /// ready" notice in the outbox; in transit otherwise), or else goes on the shelf when
    /// `at` is the item's branch, in transit back to it otherwise. Appends the record to
    /// the change feed when the item changed.
    pub fn checkin_at(&self, item_barcode: &str, at: &str, now: Timestamp) -> Result<CheckinOutcome> {
        let txn = self.db.begin_write()?;
        let outcome = checkin_in(&txn, item_barcode, Some(at), now)?;
        txn.commit()?;
        Ok(outcome)
    }

    /// Renews the loan of the item with `item_barcode` under the loan rule: due after the
    /// rule's loan days from today, on an open day (never earlier than it was), and
    /// counts the renewal. Refuses an unknown item ([`Error::UnknownItem`]), an item not
    /// on loan ([`Error::NotOnLoan`]), a borrower who is blocked or whose card has expired,
    /// a loan renewed as often as the rule allows ([`Error::NoRenewalsLeft`]), a record
    /// another patron is waiting for ([`Error::HoldWaiting`]), and a borrower with an
    /// overdue item (this one included) when the rule suspends borrowing
    /// ([`Error::PatronOverdue`]).
    pub fn renew(&self, item_barcode: &str, now: Timestamp) -> Result<Loan> {
        let txn = self.db.begin_write()?;
        let loan = renew_in(&txn, item_barcode, None, now)?;
        txn.commit()?;
        Ok(loan)
    }

    /// Renews as [`renew`](Catalogue::renew) does, but until `new_due` (not before today:
    /// [`Error::Invalid`] otherwise) and without the limits of the loan rules (renewals,
    /// overdue suspension); a record another patron waits for is still refused.
    pub fn renew_until(&self, item_barcode: &str, new_due: Date, now: Timestamp) -> Result<Loan> {
        let txn = self.db.begin_write()?;
        let loan = renew_in(&txn, item_barcode, Some(new_due), now)?;
        txn.commit()?;
        Ok(loan)
    }

    /// What renewing each of the patron's loans would answer now, by barcode, without
    /// renewing any: `None` where [`renew`](Catalogue::renew) would succeed, else its
    /// refusal. Pages use it to offer 延長 only where renewing is allowed. The renewals are
    /// tried in one write transaction that is then aborted, so the answer is exactly the
    /// rules' and nothing is written.
    pub fn renewal_refusals(&self, patron_id: u64, now: Timestamp) -> Result<Vec<(String, Option<Error>)>> {
        let txn = self.db.begin_write()?;
        let mut out = Vec::new();
        for (_, item) in loans_of_patron_in(&txn, patron_id)? {
            let refusal = match renew_in(&txn, &item.barcode, None, now) {
                Ok(_) => None,
                Err(err) if err.kind() == crate::ErrorKind::Fault => return Err(err),
                Err(err) => Some(err),
            };
            out.push((item.barcode, refusal));
        }
        txn.abort()?;
        Ok(out)
    }

    /// The patron's loans, by item id.
    pub fn loans_of_patron(&self, patron_id: u64) -> Result<Vec<Loan>> {
        let txn = self.db.begin_read()?;
        let by_patron = txn.open_multimap_table(LOANS_BY_PATRON)?;
        let loans = txn.open_table(LOANS)?;
        let mut out = Vec::new();
        for item_id in by_patron.get(patron_id)? {
            let item_id = item_id?.value();
            out.push(get_loan(&loans, item_id)?.ok_or_else(|| missing_loan(patron_id, item_id))?);
        }
        Ok(out)
    }

    /// The loan of the item with this id, if it is on loan.
    pub fn loan_of_item(&self, item_id: u64) -> Result<Option<Loan>> {
        let txn = self.db.begin_read()?;
        get_loan(&txn.open_table(LOANS)?, item_id)
    }
}

fn missing_loan(patron_id: u64, item_id: u64) -> Error {
    Error::Storage(format!("patron {patron_id} lists a loan of item {item_id}, which does not exist"))
}

/// The loan of an item, from any transaction.
pub(crate) fn get_loan(loans: &impl ReadableTable<u64, &'static [u8]>, item_id: u64) -> Result<Option<Loan>> {
    let value = loans.get(item_id)?;
    value.map(|v| decode::<LoanRow>("loan of item", item_id, v.value()).map(|row| row.into_loan(item_id))).transpose()
}

/// The patron's loans with their items.
fn loans_of_patron_in(txn: &WriteTransaction, patron_id: u64) -> Result<Vec<(Loan, Item)>> {
    let loans = txn.open_table(LOANS)?;
    let items = txn.open_table(ITEMS)?;
    let mut out = Vec::new();
    for item_id in txn.open_multimap_table(LOANS_BY_PATRON)?.get(patron_id)? {
        let item_id = item_id?.value();
        let loan = get_loan(&loans, item_id)?.ok_or_else(|| missing_loan(patron_id, item_id))?;
        let item = get_item(&items, item_id)?
            .ok_or_else(|| Error::Storage(format!("the loan of item {item_id} has no item")))?;
        out.push((loan, item));
    }
    Ok(out)
}

/// How many of the patron's loans were due before `today`.
pub(crate) fn overdue_loans(txn: &WriteTransaction, patron_id: u64, today: Date) -> Result<u32> {
    let loans = loans_of_patron_in(txn, patron_id)?;
    Ok(u32::try_from(loans.iter().filter(|(loan, _)| loan.due < today).count()).unwrap_or(u32::MAX))
}

fn check_due(due: Date, now: Timestamp) -> Result<()> {
    let today = jst_date(now);
    if due < today {
        return Err(Error::invalid("due date", format!("{due} is before today ({today}, JST)")));
    }
    Ok(())
}

/// Why an item that is not on loan and not set aside for the borrower cannot be lent, if
/// it cannot.
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

/// The limits of a rule that checkout and renewal share: no overdue item while the rule
/// suspends borrowing.
fn check_not_overdue(txn: &WriteTransaction, patron: &Patron, policy: &LoanPolicy, today: Date) -> Result<()> {
    if policy.suspend_while_overdue {
        let items = overdue_loans(txn, patron.id, today)?;
        if items > 0 {
            return Err(Error::PatronOverdue { card: patron.card.clone(), items });
        }
    }
    Ok(())
}

fn checkout_in(txn: &WriteTransaction, barcode: &str, card: &str, due: Option<Date>, now: Timestamp) -> Result<Loan> {
    let mut item = item_by_barcode_in(txn, barcode)?;
    let patron = patron_by_card_in(txn, card)?;
    if let Some(loan) = get_loan(&txn.open_table(LOANS)?, item.id)? {
        return Err(Error::ItemOnLoan { barcode: item.barcode, due: loan.due });
    }
    match hold_on_item(txn, item.id)? {
        Some(hold) if hold.patron_id != patron.id => return Err(Error::ItemHeld { barcode: item.barcode }),
        // Set aside for this patron: on the hold shelf or on its way, it is theirs to take.
        Some(_) => {}
        None => refuse_unlendable(&item)?,
    }
    patron.check_may_borrow(now)?;
    let today = jst_date(now);
    let due = match due {
        Some(due) => {
            check_due(due, now)?;
            due
        }
        None => {
            let policies = txn.open_table(POLICIES)?;
            let policy = resolve(&policies, patron.category, Some(&item.item_type))?;
            check_not_overdue(txn, &patron, &policy, today)?;
            let mut same_rule = 0;
            for (_, lent) in loans_of_patron_in(txn, patron.id)? {
                if resolve(&policies, patron.category, Some(&lent.item_type))?.same_rule(&policy) {
                    same_rule += 1;
                }
            }
            if same_rule >= policy.max_loans {
                return Err(Error::TooManyLoans { card: patron.card, limit: policy.max_loans });
            }
            next_open_day(&txn.open_table(CALENDARS)?, &item.branch, add_days(today, policy.loan_days)?)?
        }
    };
    // The patron's hold on the record ends with this loan; a copy set aside for it on a
    // hold shelf goes to the next hold (one in transit stays in transit, no longer set aside).
    let fulfilled = hold_of_patron_on(txn, patron.id, item.bib_id)?;
    let release = match &fulfilled {
        Some(hold) if hold.state.trapped_item() != Some(item.id) => plan_release(txn, hold, today)?,
        _ => None,
    };

    let loan = Loan { item_id: item.id, patron_id: patron.id, out: now, due, renewals: 0 };
    txn.open_table(LOANS)?.insert(item.id, encode(&LoanRow::of(&loan))?.as_slice())?;
    txn.open_multimap_table(LOANS_BY_PATRON)?.insert(patron.id, item.id)?;
    item.status = ItemStatus::OnLoan;
    write_item_row(txn, &item)?;
    count_loan(txn, item.bib_id, now)?;
    if let Some(hold) = &fulfilled {
        remove_hold(txn, hold)?;
    }
    apply_release(txn, release, now)?;
    append_change(txn, item.bib_id, ChangeKind::Holdings)?;
    Ok(loan)
}

/// What a checkin does to the item once its loan (if any) is ended.
enum Plan {
    /// Nothing: the item stays as it is.
    Keep,
    /// Settled: set aside for a hold, or shelved.
    Settle(Settle),
}

fn checkin_in(txn: &WriteTransaction, barcode: &str, at: Option<&str>, now: Timestamp) -> Result<CheckinOutcome> {
    let mut item = item_by_barcode_in(txn, barcode)?;
    let at = match at {
        Some(at) => {
            let at = check_code("branch code", at)?;
            existing_branch(&txn.open_table(BRANCHES)?, &at)?;
            at
        }
        None => item.branch.clone(),
    };
    let today = jst_date(now);
    let previous_status = item.status;
    let loan = get_loan(&txn.open_table(LOANS)?, item.id)?;
    let days_overdue = match &loan {
        Some(loan) => today.since(loan.due).map_or(0, |span| span.get_days().max(0).unsigned_abs()),
        None => 0,
    };
    let trapped = hold_on_item(txn, item.id)?;
    let plan = match (&loan, item.status, &trapped) {
        (Some(_), _, _) => Plan::Settle(plan_settle(txn, &item, &at, today)?),
        (None, ItemStatus::OnLoan, _) => return Err(inconsistent(&item)),
        (None, ItemStatus::Withdrawn, _) => Plan::Keep,
        // Arriving at the pickup branch: onto the hold shelf.
        (None, _, Some(hold))
            if matches!(hold.state, super::HoldState::InTransit { .. }) && hold.pickup_branch == at =>
        {
            Plan::Settle(Settle::Trap(plan_trap(txn, hold, item.id, &at, today)?))
        }
        // Set aside, and either on the hold shelf already or passing through: unchanged.
        (None, _, Some(_)) => Plan::Keep,
        (None, status, None) => match plan_settle(txn, &item, &at, today)? {
            Settle::Shelve(new) if new == status => Plan::Keep,
            settle => Plan::Settle(settle),
        },
    };
    let reading = match &loan {
        Some(loan) => {
            let patron = patron_of_loan(txn, loan)?;
            patron
                .reading_record
                .then(|| (patron.id, ReadingEntry { bib_id: item.bib_id, out: jst_date(loan.out), returned: today }))
        }
        None => None,
    };

    if let Some(loan) = &loan {
        txn.open_table(LOANS)?.remove(item.id)?;
        txn.open_multimap_table(LOANS_BY_PATRON)?.remove(loan.patron_id, item.id)?;
    }
    if let Some((patron_id, entry)) = &reading {
        record_reading(txn, *patron_id, entry)?;
    }
    let hold = match plan {
        // Nothing changed, so the OPAC shows the same thing: no change either.
        Plan::Keep => {
            let destination = destination(&item, trapped.as_ref());
            return Ok(CheckinOutcome { item, loan, previous_status, days_overdue, hold: trapped, destination });
        }
        Plan::Settle(settle) => apply_settle(txn, &mut item, settle, now)?,
    };
    append_change(txn, item.bib_id, ChangeKind::Holdings)?;
    let destination = destination(&item, hold.as_ref());
    Ok(CheckinOutcome { item, loan, previous_status, days_overdue, hold, destination })
}

/// Where an item in transit is going: its hold's pickup branch, or home.
fn destination(item: &Item, hold: Option<&Hold>) -> Option<String> {
    (item.status == ItemStatus::InTransit)
        .then(|| hold.map_or_else(|| item.branch.clone(), |hold| hold.pickup_branch.clone()))
}

fn renew_in(txn: &WriteTransaction, barcode: &str, new_due: Option<Date>, now: Timestamp) -> Result<Loan> {
    let item = item_by_barcode_in(txn, barcode)?;
    let loan = get_loan(&txn.open_table(LOANS)?, item.id)?;
    let mut loan = loan.ok_or_else(|| Error::NotOnLoan(item.barcode.clone()))?;
    let patron = patron_of_loan(txn, &loan)?;
    patron.check_may_borrow(now)?;
    let today = jst_date(now);
    let new_due = match new_due {
        Some(due) => {
            check_due(due, now)?;
            due
        }
        None => {
            let policy = resolve(&txn.open_table(POLICIES)?, patron.category, Some(&item.item_type))?;
            if loan.renewals >= policy.max_renewals {
                return Err(Error::NoRenewalsLeft { barcode: item.barcode, limit: policy.max_renewals });
            }
            check_not_overdue(txn, &patron, &policy, today)?;
            let due = next_open_day(&txn.open_table(CALENDARS)?, &item.branch, add_days(today, policy.loan_days)?)?;
            due.max(loan.due)
        }
    };
    if others_waiting(txn, item.bib_id, patron.id)? {
        return Err(Error::HoldWaiting { barcode: item.barcode });
    }
    loan.due = new_due;
    loan.renewals = loan.renewals.saturating_add(1);
    // A new due date: a new overdue notice may be due one day.
    txn.open_table(LOANS)?.insert(item.id, encode(&LoanRow::of(&loan))?.as_slice())?;
    append_change(txn, item.bib_id, ChangeKind::Holdings)?;
    Ok(loan)
}
