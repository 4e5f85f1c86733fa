//! Holds (予約): a patron asks for a record, to be picked up at a branch. Holds on a record
//! form a queue in the order they were placed. A copy checked in while the record has a
//! waiting hold is trapped for the first one: put on the hold shelf (取置中) with a
//! ready-until date when it is at the pickup branch, otherwise sent there (in transit) and
//! put on the hold shelf when it is checked in at the pickup branch. Checking the copy out
//! to that patron fulfils the hold; a hold not picked up in time expires and the copy goes
//! to the next hold in the queue, or back to the shelf.
//!
//! Privacy: a hold row is deleted when the hold ends (fulfilled, cancelled, expired), as a
//! loan row is at return. Only the answer to the operation carries its final state.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::branch::existing_branch;
use super::calendar::add_open_days;
use super::item::{Item, ItemStatus, dangling, get_item, write_item_row};
use super::loan::{get_loan, overdue_loans};
use super::notice::{NoticeKind, push_notice};
use super::patron::{Patron, get_patron, patron_by_card_in};
use super::policy::resolve;
use super::{
    BRANCHES, CALENDARS, HOLD_BY_ITEM, HOLDS, HOLDS_BY_BIB, HOLDS_BY_PATRON, ITEMS, ITEMS_BY_BIB, LOANS,
    LOANS_BY_PATRON, PATRONS, POLICIES, check_code, encode, get_row, jst_date, next_id,
};
use crate::error::{Error, Result};
use crate::store::{BIBS, Catalogue, ChangeKind, append_change};

/// Where a hold stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HoldState {
    /// In the queue, no copy set aside yet (`waiting`).
    Waiting,
    /// A copy is on its way to the pickup branch (`in_transit`).
    InTransit {
        /// The copy.
        item_id: u64,
    },
    /// A copy waits on the pickup branch's hold shelf until the end of `until` (JST)
    /// (`ready`).
    Ready {
        /// The copy.
        item_id: u64,
        /// The last day it waits.
        until: Date,
    },
    /// The copy was checked out to the patron (`fulfilled`); the hold is no longer stored.
    Fulfilled {
        /// The copy lent.
        item_id: u64,
    },
    /// Cancelled by the patron or the library (`cancelled`); no longer stored.
    Cancelled,
    /// Not picked up by its ready-until date (`expired`); no longer stored.
    Expired,
}

impl HoldState {
    /// The state's code: `waiting`, `in_transit`, `ready`, `fulfilled`, `cancelled`,
    /// `expired`.
    pub fn as_str(&self) -> &'static str {
        match self {
            HoldState::Waiting => "waiting",
            HoldState::InTransit { .. } => "in_transit",
            HoldState::Ready { .. } => "ready",
            HoldState::Fulfilled { .. } => "fulfilled",
            HoldState::Cancelled => "cancelled",
            HoldState::Expired => "expired",
        }
    }

    /// The copy set aside (in transit or ready), if any.
    pub fn trapped_item(&self) -> Option<u64> {
        match *self {
            HoldState::InTransit { item_id } | HoldState::Ready { item_id, .. } => Some(item_id),
            _ => None,
        }
    }
}

/// A patron's request for a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Its id, allocated from 1 and never reused; the queue of a record is in id order.
    pub id: u64,
    /// The record asked for.
    pub bib_id: u64,
    /// The patron who asked.
    pub patron_id: u64,
    /// The branch where the patron picks it up.
    pub pickup_branch: String,
    /// When it was placed.
    pub placed: Timestamp,
    /// Where it stands.
    pub state: HoldState,
}

/// The stored form of a hold (the id is the key).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HoldRow {
    bib: u64,
    patron: u64,
    pickup: String,
    placed: Timestamp,
    #[serde(flatten)]
    state: HoldState,
}

impl HoldRow {
    fn into_hold(self, id: u64) -> Hold {
        Hold {
            id,
            bib_id: self.bib,
            patron_id: self.patron,
            pickup_branch: self.pickup,
            placed: self.placed,
            state: self.state,
        }
    }

    fn of(hold: &Hold) -> HoldRow {
        HoldRow {
            bib: hold.bib_id,
            patron: hold.patron_id,
            pickup: hold.pickup_branch.clone(),
            placed: hold.placed,
            state: hold.state,
        }
    }
}

/// What becomes of a copy that is free (returned, found, released by a hold that ended).
#[derive(Debug, Clone)]
pub(crate) enum Settle {
    /// Set aside for this hold, in its new state (ready or in transit).
    Trap(Hold),
    /// No hold wants it: on the shelf (`available`) at its own branch, or `in_transit`
    /// back to it.
    Shelve(ItemStatus),
}

impl Catalogue {
    /// Places a hold on record `bib_id` for the patron with `patron_card`, to be picked up
    /// at `pickup_branch`; it joins the end of the record's queue. Refuses, before writing
    /// anything: an unknown record, patron or branch ([`Error::UnknownBib`],
    /// [`Error::UnknownPatron`], [`Error::UnknownBranch`]); a blocked patron or an expired
    /// card; a patron with an overdue item when the rule suspends borrowing
    /// ([`Error::PatronOverdue`]); a second hold of the patron on the record
    /// ([`Error::HoldExists`]); a record the patron has on loan ([`Error::AlreadyBorrowed`]);
    /// a patron at the rule's limit of holds ([`Error::TooManyHolds`]); a record with no
    /// copy that can be lent ([`Error::NotHoldable`]). Appends the record to the change feed
    /// (its hold count changed).
    pub fn place_hold(&self, bib_id: u64, patron_card: &str, pickup_branch: &str, now: Timestamp) -> Result<Hold> {
        let txn = self.db.begin_write()?;
        let hold = place_in(&txn, bib_id, patron_card, pickup_branch, now)?;
        txn.commit()?;
        Ok(hold)
    }

    /// Cancels a hold ([`Error::UnknownHold`] if there is none). A copy set aside for it
    /// goes to the next hold in the queue, or back to the shelf (a copy in transit stays in
    /// transit: it is on its way, and its checkin decides). The hold is no longer stored;
    /// the answer has the state `cancelled`. Appends the record to the change feed.
    pub fn cancel_hold(&self, hold_id: u64, now: Timestamp) -> Result<Hold> {
        let txn = self.db.begin_write()?;
        let hold = existing_hold(&txn, hold_id)?;
        let release = plan_release(&txn, &hold, jst_date(now))?;
        remove_hold(&txn, &hold)?;
        apply_release(&txn, release, now)?;
        append_change(&txn, hold.bib_id, ChangeKind::Holdings)?;
        txn.commit()?;
        Ok(Hold { state: HoldState::Cancelled, ..hold })
    }

    /// Ends every hold whose copy waited on the hold shelf past its ready-until date (the
    /// Japanese date at `now` is later), in one transaction; each copy goes to the next
    /// hold of its record, or back to the shelf. Returns the holds that expired (no longer
    /// stored), by id. Appends each record concerned to the change feed once.
    pub fn expire_holds(&self, now: Timestamp) -> Result<Vec<Hold>> {
        let today = jst_date(now);
        let txn = self.db.begin_write()?;
        let mut due = Vec::new();
        {
            let holds = txn.open_table(HOLDS)?;
            for row in holds.iter()? {
                let (id, _) = row?;
                let hold = get_hold(&holds, id.value())?.ok_or_else(|| missing_hold(id.value()))?;
                if matches!(hold.state, HoldState::Ready { until, .. } if until < today) {
                    due.push(hold);
                }
            }
        }
        let mut expired = Vec::with_capacity(due.len());
        let mut bibs: Vec<u64> = Vec::new();
        for hold in due {
            // Planned after the earlier expiries were written: the queue has moved.
            let release = plan_release(&txn, &hold, today)?;
            remove_hold(&txn, &hold)?;
            apply_release(&txn, release, now)?;
            if !bibs.contains(&hold.bib_id) {
                bibs.push(hold.bib_id);
            }
            expired.push(Hold { state: HoldState::Expired, ..hold });
        }
        for bib in bibs {
            append_change(&txn, bib, ChangeKind::Holdings)?;
        }
        txn.commit()?;
        Ok(expired)
    }

    /// The hold with this id.
    pub fn hold(&self, hold_id: u64) -> Result<Option<Hold>> {
        let txn = self.db.begin_read()?;
        get_hold(&txn.open_table(HOLDS)?, hold_id)
    }

    /// The holds on a record in queue order (the order they were placed). For staff: each
    /// names its patron.
    pub fn holds_of_bib(&self, bib_id: u64) -> Result<Vec<Hold>> {
        let txn = self.db.begin_read()?;
        let holds = txn.open_table(HOLDS)?;
        let mut out = Vec::new();
        for id in txn.open_multimap_table(HOLDS_BY_BIB)?.get(bib_id)? {
            let id = id?.value();
            out.push(get_hold(&holds, id)?.ok_or_else(|| missing_hold(id))?);
        }
        Ok(out)
    }

    /// A patron's holds, by id.
    pub fn holds_of_patron(&self, patron_id: u64) -> Result<Vec<Hold>> {
        let txn = self.db.begin_read()?;
        let holds = txn.open_table(HOLDS)?;
        let mut out = Vec::new();
        for id in txn.open_multimap_table(HOLDS_BY_PATRON)?.get(patron_id)? {
            let id = id?.value();
            out.push(get_hold(&holds, id)?.ok_or_else(|| missing_hold(id))?);
        }
        Ok(out)
    }
}

fn missing_hold(id: u64) -> Error {
    Error::Storage(format!("hold {id} is listed but does not exist"))
}

/// The hold with this id, from any transaction.
pub(crate) fn get_hold(holds: &impl ReadableTable<u64, &'static [u8]>, id: u64) -> Result<Option<Hold>> {
    Ok(get_row::<HoldRow>(holds, "hold", id)?.map(|row| row.into_hold(id)))
}

fn existing_hold(txn: &WriteTransaction, id: u64) -> Result<Hold> {
    get_hold(&txn.open_table(HOLDS)?, id)?.ok_or(Error::UnknownHold(id))
}

/// The hold a copy is set aside for (in transit or on the hold shelf), if any.
pub(crate) fn hold_on_item(txn: &WriteTransaction, item_id: u64) -> Result<Option<Hold>> {
    let id = txn.open_table(HOLD_BY_ITEM)?.get(item_id)?.map(|v| v.value());
    match id {
        Some(id) => Ok(Some(get_hold(&txn.open_table(HOLDS)?, id)?.ok_or_else(|| missing_hold(id))?)),
        None => Ok(None),
    }
}

/// The holds of a record in queue order, from a write transaction.
fn holds_of_bib_in(txn: &WriteTransaction, bib_id: u64) -> Result<Vec<Hold>> {
    let holds = txn.open_table(HOLDS)?;
    let mut out = Vec::new();
    for id in txn.open_multimap_table(HOLDS_BY_BIB)?.get(bib_id)? {
        let id = id?.value();
        out.push(get_hold(&holds, id)?.ok_or_else(|| missing_hold(id))?);
    }
    Ok(out)
}

/// The patron's hold on a record, if any (a patron has at most one per record).
pub(crate) fn hold_of_patron_on(txn: &WriteTransaction, patron_id: u64, bib_id: u64) -> Result<Option<Hold>> {
    let holds = txn.open_table(HOLDS)?;
    for id in txn.open_multimap_table(HOLDS_BY_PATRON)?.get(patron_id)? {
        let id = id?.value();
        let hold = get_hold(&holds, id)?.ok_or_else(|| missing_hold(id))?;
        if hold.bib_id == bib_id {
            return Ok(Some(hold));
        }
    }
    Ok(None)
}

/// Whether a patron other than `patron_id` is waiting for the record (a hold with no copy
/// set aside yet).
pub(crate) fn others_waiting(txn: &WriteTransaction, bib_id: u64, patron_id: u64) -> Result<bool> {
    Ok(holds_of_bib_in(txn, bib_id)?.iter().any(|h| h.state == HoldState::Waiting && h.patron_id != patron_id))
}

/// Stores a hold's row (a new one, or a new state).
fn write_hold(txn: &WriteTransaction, hold: &Hold) -> Result<()> {
    txn.open_table(HOLDS)?.insert(hold.id, encode(&HoldRow::of(hold))?.as_slice())?;
    Ok(())
}

/// Deletes a hold and its index entries (an ended hold is not kept).
pub(crate) fn remove_hold(txn: &WriteTransaction, hold: &Hold) -> Result<()> {
    txn.open_table(HOLDS)?.remove(hold.id)?;
    txn.open_multimap_table(HOLDS_BY_BIB)?.remove(hold.bib_id, hold.id)?;
    txn.open_multimap_table(HOLDS_BY_PATRON)?.remove(hold.patron_id, hold.id)?;
    if let Some(item_id) = hold.state.trapped_item() {
        txn.open_table(HOLD_BY_ITEM)?.remove(item_id)?;
    }
    Ok(())
}

/// The hold, set aside a copy at branch `at`: ready on the hold shelf when `at` is the
/// pickup branch (until the hold shelf period of the patron's rule, counted in the pickup
/// branch's open days from `today`), otherwise in transit to it. Reads only.
pub(crate) fn plan_trap(txn: &WriteTransaction, hold: &Hold, item_id: u64, at: &str, today: Date) -> Result<Hold> {
    let state = if hold.pickup_branch == at {
        let patron = patron_of_hold(txn, hold)?;
        let policy = resolve(&txn.open_table(POLICIES)?, patron.category, None)?;
        let until = add_open_days(&txn.open_table(CALENDARS)?, at, today, policy.hold_pickup_days)?;
        HoldState::Ready { item_id, until }
    } else {
        HoldState::InTransit { item_id }
    };
    Ok(Hold { state, ..hold.clone() })
}

/// What becomes of a free copy at branch `at`: set aside for the record's first waiting
/// hold (reference copies are never), else on the shelf at its own branch or in transit
/// back to it. Reads only.
pub(crate) fn plan_settle(txn: &WriteTransaction, item: &Item, at: &str, today: Date) -> Result<Settle> {
    if !item.is_reference() {
        let first = holds_of_bib_in(txn, item.bib_id)?.into_iter().find(|h| h.state == HoldState::Waiting);
        if let Some(hold) = first {
            return Ok(Settle::Trap(plan_trap(txn, &hold, item.id, at, today)?));
        }
    }
    Ok(Settle::Shelve(if at == item.branch { ItemStatus::Available } else { ItemStatus::InTransit }))
}

/// Carries out a [`Settle`] on `item` (whose other changes the caller has made). Returns
/// the hold the copy was set aside for. A hold becoming ready puts a "hold ready" notice in
/// the outbox. The caller appends to the change feed.
pub(crate) fn apply_settle(
    txn: &WriteTransaction,
    item: &mut Item,
    settle: Settle,
    now: Timestamp,
) -> Result<Option<Hold>> {
    match settle {
        Settle::Shelve(status) => {
            item.status = status;
            write_item_row(txn, item)?;
            Ok(None)
        }
        Settle::Trap(hold) => {
            write_hold(txn, &hold)?;
            txn.open_table(HOLD_BY_ITEM)?.insert(item.id, hold.id)?;
            item.status = match hold.state {
                HoldState::Ready { until, .. } => {
                    push_notice(txn, NoticeKind::HoldReady, hold.patron_id, hold.bib_id, &item.barcode, until, now)?;
                    ItemStatus::OnHoldShelf
                }
                _ => ItemStatus::InTransit,
            };
            write_item_row(txn, item)?;
            Ok(Some(hold))
        }
    }
}

/// What to do with the copy of a hold that ends: a copy on the hold shelf is settled at
/// the pickup branch; a copy in transit stays in transit, no longer set aside.
pub(crate) type Release = Option<(Item, Settle)>;

/// Plans the release of the copy set aside for `hold`, which is about to end. Reads only.
pub(crate) fn plan_release(txn: &WriteTransaction, hold: &Hold, today: Date) -> Result<Release> {
    let HoldState::Ready { item_id, .. } = hold.state else { return Ok(None) };
    let item = get_item(&txn.open_table(ITEMS)?, item_id)?.ok_or_else(|| dangling(hold.bib_id, item_id))?;
    // The ending hold is not waiting, so the plan never gives the copy back to it.
    let settle = plan_settle(txn, &item, &hold.pickup_branch, today)?;
    Ok(Some((item, settle)))
}

/// Carries out a [`Release`], after the hold was removed.
pub(crate) fn apply_release(txn: &WriteTransaction, release: Release, now: Timestamp) -> Result<()> {
    if let Some((mut item, settle)) = release {
        apply_settle(txn, &mut item, settle, now)?;
    }
    Ok(())
}

fn patron_of_hold(txn: &WriteTransaction, hold: &Hold) -> Result<Patron> {
    get_patron(&txn.open_table(PATRONS)?, hold.patron_id)?
        .ok_or_else(|| Error::Storage(format!("hold {} names patron {}, who does not exist", hold.id, hold.patron_id)))
}

fn place_in(txn: &WriteTransaction, bib_id: u64, card: &str, pickup: &str, now: Timestamp) -> Result<Hold> {
    if txn.open_table(BIBS)?.get(bib_id)?.is_none() {
        return Err(Error::UnknownBib(bib_id));
    }
    let patron = patron_by_card_in(txn, card)?;
    let pickup = check_code("pickup branch", pickup)?;
    existing_branch(&txn.open_table(BRANCHES)?, &pickup)?;
    patron.check_may_borrow(now)?;
    let policy = resolve(&txn.open_table(POLICIES)?, patron.category, None)?;
    if policy.suspend_while_overdue {
        let overdue = overdue_loans(txn, patron.id, jst_date(now))?;
        if overdue > 0 {
            return Err(Error::PatronOverdue { card: patron.card, items: overdue });
        }
    }
    if hold_of_patron_on(txn, patron.id, bib_id)?.is_some() {
        return Err(Error::HoldExists { card: patron.card, bib_id });
    }
    let items = txn.open_table(ITEMS)?;
    let loans = txn.open_table(LOANS)?;
    for item_id in txn.open_multimap_table(LOANS_BY_PATRON)?.get(patron.id)? {
        let item_id = item_id?.value();
        let item = get_item(&items, item_id)?;
        if item.is_some_and(|i| i.bib_id == bib_id) && get_loan(&loans, item_id)?.is_some() {
            return Err(Error::AlreadyBorrowed { card: patron.card, bib_id });
        }
    }
    let holds = txn.open_multimap_table(HOLDS_BY_PATRON)?.get(patron.id)?.len();
    if holds >= u64::from(policy.max_holds) {
        return Err(Error::TooManyHolds { card: patron.card, limit: policy.max_holds });
    }
    let mut holdable = false;
    for item_id in txn.open_multimap_table(ITEMS_BY_BIB)?.get(bib_id)? {
        let item_id = item_id?.value();
        let item = get_item(&items, item_id)?.ok_or_else(|| dangling(bib_id, item_id))?;
        holdable |= !item.is_reference() && !matches!(item.status, ItemStatus::Withdrawn | ItemStatus::Missing);
    }
    if !holdable {
        return Err(Error::NotHoldable(bib_id));
    }
    drop((items, loans));

    let id = next_id(txn, "next_hold_id")?;
    let hold = Hold { id, bib_id, patron_id: patron.id, pickup_branch: pickup, placed: now, state: HoldState::Waiting };
    write_hold(txn, &hold)?;
    txn.open_multimap_table(HOLDS_BY_BIB)?.insert(bib_id, id)?;
    txn.open_multimap_table(HOLDS_BY_PATRON)?.insert(patron.id, id)?;
    append_change(txn, bib_id, ChangeKind::Holdings)?;
    Ok(hold)
}

/// Creates the holds tables if they do not exist.
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(HOLDS)?;
    txn.open_multimap_table(HOLDS_BY_BIB)?;
    txn.open_multimap_table(HOLDS_BY_PATRON)?;
    txn.open_table(HOLD_BY_ITEM)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_rows_are_flat_json() {
        let hold = Hold {
            id: 3,
            bib_id: 7,
            patron_id: 2,
            pickup_branch: "kita".into(),
            placed: Timestamp::UNIX_EPOCH,
            state: HoldState::Ready { item_id: 9, until: jiff::civil::date(2026, 4, 8) },
        };
        let json = serde_json::to_string(&HoldRow::of(&hold)).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"bib":7,"patron":2,"pickup":"kita","placed":"1970-01-01T00:00:00Z","state":"ready","item_id":9,"until":"2026-04-08"}"#
        );
        let back: Option<HoldRow> = serde_json::from_str(&json).ok();
        assert_eq!(back.map(|row| row.into_hold(3)), Some(hold));
        let waiting: Option<HoldRow> = serde_json::from_str(
            r#"{"bib":1,"patron":1,"pickup":"a","placed":"2026-04-01T00:00:00Z","state":"waiting"}"#,
        )
        .ok();
        assert_eq!(waiting.map(|r| r.state), Some(HoldState::Waiting));
    }
}
