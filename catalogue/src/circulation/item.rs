//! Items: the physical copies of a record, each with a unique barcode, at a branch, on a
//! shelf, with a loan type and a status.

use std::fmt;
use std::str::FromStr;

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::branch::existing_branch;
use super::loan::get_loan;
use super::{
    BRANCHES, HOLD_BY_ITEM, ITEM_BY_BARCODE, ITEMS, ITEMS_BY_BIB, LOANS, REFERENCE, check_code, check_number,
    check_text, encode, get_row, next_id,
};
use crate::error::{Error, Result};
use crate::store::{BIBS, Catalogue, ChangeKind, append_change};

/// Where an item is, as far as lending goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// On the shelf (`available`).
    Available,
    /// Lent to a patron (`on_loan`): set by checkout, cleared by checkin, never by hand.
    OnLoan,
    /// Waiting on the hold shelf for a patron (`on_hold_shelf`).
    OnHoldShelf,
    /// Travelling between branches (`in_transit`).
    InTransit,
    /// Not found where it should be (`missing`).
    Missing,
    /// Removed from the collection (`withdrawn`); kept as a row, shown nowhere in the OPAC.
    Withdrawn,
}

impl ItemStatus {
    /// Every status, in the order above.
    pub const ALL: [ItemStatus; 6] = [
        ItemStatus::Available,
        ItemStatus::OnLoan,
        ItemStatus::OnHoldShelf,
        ItemStatus::InTransit,
        ItemStatus::Missing,
        ItemStatus::Withdrawn,
    ];

    /// The status's code: `available`, `on_loan`, `on_hold_shelf`, `in_transit`,
    /// `missing`, `withdrawn`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Available => "available",
            ItemStatus::OnLoan => "on_loan",
            ItemStatus::OnHoldShelf => "on_hold_shelf",
            ItemStatus::InTransit => "in_transit",
            ItemStatus::Missing => "missing",
            ItemStatus::Withdrawn => "withdrawn",
        }
    }
}

impl FromStr for ItemStatus {
    type Err = Error;

    fn from_str(code: &str) -> Result<ItemStatus> {
        let code = code.trim();
        ItemStatus::ALL.into_iter().find(|s| s.as_str() == code).ok_or_else(|| {
            Error::invalid(
                "status",
                format!(
                    "{:?} is not one of available, on_loan, on_hold_shelf, in_transit, missing, withdrawn",
                    super::clip(code)
                ),
            )
        })
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item to add, or the new state of an item to update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// The record it is a copy of (must exist).
    pub bib_id: u64,
    /// Its barcode, unique in the tenant: 1 to 64 printable ASCII characters, no spaces.
    pub barcode: String,
    /// The code of its branch (must exist).
    pub branch: String,
    /// Its shelf, e.g. 開架, 児童書, 閉架書庫 (may be empty).
    pub location: String,
    /// Its call number (請求記号), e.g. `913.6/ナ` (may be empty).
    pub call_number: String,
    /// Its loan type, a code like `book`, `av` or `reference`; `reference` items are
    /// never lent. Loan rules are keyed by patron category and this type.
    pub item_type: String,
    /// Its status; a new item cannot be `on_loan` (only checkout lends).
    pub status: ItemStatus,
}

impl NewItem {
    /// An available `book` at `branch`, with no location and no call number.
    pub fn new(bib_id: u64, barcode: &str, branch: &str) -> NewItem {
        NewItem {
            bib_id,
            barcode: barcode.to_string(),
            branch: branch.to_string(),
            location: String::new(),
            call_number: String::new(),
            item_type: "book".to_string(),
            status: ItemStatus::Available,
        }
    }
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its id, allocated from 1 and never reused.
    pub id: u64,
    /// The record it is a copy of.
    pub bib_id: u64,
    /// Its barcode, unique in the tenant.
    pub barcode: String,
    /// The code of its branch.
    pub branch: String,
    /// Its shelf (may be empty).
    pub location: String,
    /// Its call number (may be empty).
    pub call_number: String,
    /// Its loan type (`book`, `av`, `reference`, …).
    pub item_type: String,
    /// Its status.
    pub status: ItemStatus,
}

impl Item {
    /// True for reference items (loan type `reference`), which are never lent.
    pub fn is_reference(&self) -> bool {
        self.item_type == REFERENCE
    }

    /// True when the item could be lent now, as far as the item goes: available and not a
    /// reference item. These are the items [`Availability`](crate::Availability) counts as
    /// available.
    pub fn is_lendable(&self) -> bool {
        self.status == ItemStatus::Available && !self.is_reference()
    }

    /// Withdrawn items are no longer part of the collection: the OPAC shows them nowhere.
    pub(crate) fn is_held(&self) -> bool {
        self.status != ItemStatus::Withdrawn
    }

    /// The item's fields without its id.
    pub(crate) fn to_new(&self) -> NewItem {
        NewItem {
            bib_id: self.bib_id,
            barcode: self.barcode.clone(),
            branch: self.branch.clone(),
            location: self.location.clone(),
            call_number: self.call_number.clone(),
            item_type: self.item_type.clone(),
            status: self.status,
        }
    }
}

/// The stored form of an item (the id is the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ItemRow {
    bib: u64,
    barcode: String,
    branch: String,
    location: String,
    call_number: String,
    item_type: String,
    status: ItemStatus,
}

impl ItemRow {
    fn into_item(self, id: u64) -> Item {
        Item {
            id,
            bib_id: self.bib,
            barcode: self.barcode,
            branch: self.branch,
            location: self.location,
            call_number: self.call_number,
            item_type: self.item_type,
            status: self.status,
        }
    }

    fn of(item: &Item) -> ItemRow {
        ItemRow {
            bib: item.bib_id,
            barcode: item.barcode.clone(),
            branch: item.branch.clone(),
            location: item.location.clone(),
            call_number: item.call_number.clone(),
            item_type: item.item_type.clone(),
            status: item.status,
        }
    }
}

impl Catalogue {
    /// Adds an item to a record. Refuses an unknown record ([`Error::UnknownBib`]) or
    /// branch ([`Error::UnknownBranch`]), a barcode in use ([`Error::BarcodeInUse`]),
    /// malformed fields and the status `on_loan` ([`Error::Invalid`]). Appends the record to
    /// the change feed.
    pub fn add_item(&self, item: &NewItem) -> Result<Item> {
        let txn = self.db.begin_write()?;
        let item = insert_item(&txn, item)?;
        txn.commit()?;
        Ok(item)
    }

    /// Stores `item` over the item with its id ([`Error::UnknownItem`] if there is none):
    /// a new barcode, branch, shelf, call number, loan type, status, or even another record,
    /// checked as [`add_item`](Catalogue::add_item) checks. The status `on_loan` is
    /// checkout's alone: an item on loan keeps it ([`Error::ItemOnLoan`] otherwise: check it
    /// in first) and no other item may take it. Appends the record to the change feed (both
    /// records when the item moves to another), unless nothing changed. An item set aside
    /// for a hold keeps its status, record and loan type ([`Error::ItemHeld`] otherwise:
    /// cancel the hold or lend the item first).
    pub fn update_item(&self, item: &Item) -> Result<Item> {
        let txn = self.db.begin_write()?;
        let (item, _) = replace_item(&txn, item.id, &item.to_new())?;
        txn.commit()?;
        Ok(item)
    }

    /// Deletes an item; `false` if there was none. An item on loan ([`Error::ItemOnLoan`])
    /// or set aside for a hold ([`Error::ItemHeld`]) is refused. Appends the record to the
    /// change feed.
    pub fn delete_item(&self, id: u64) -> Result<bool> {
        let txn = self.db.begin_write()?;
        let deleted = remove_item(&txn, id)?;
        txn.commit()?;
        Ok(deleted)
    }

    /// The item with this id.
    pub fn item(&self, id: u64) -> Result<Option<Item>> {
        let txn = self.db.begin_read()?;
        get_item(&txn.open_table(ITEMS)?, id)
    }

    /// The item with this barcode (surrounding blanks ignored).
    pub fn item_by_barcode(&self, barcode: &str) -> Result<Option<Item>> {
        let txn = self.db.begin_read()?;
        let id = txn.open_table(ITEM_BY_BARCODE)?.get(barcode.trim())?.map(|v| v.value());
        match id {
            Some(id) => get_item(&txn.open_table(ITEMS)?, id),
            None => Ok(None),
        }
    }

    /// The items of a record, withdrawn ones included, by item id; none for an unknown
    /// record.
    pub fn items_of_bib(&self, bib_id: u64) -> Result<Vec<Item>> {
        let txn = self.db.begin_read()?;
        let by_bib = txn.open_multimap_table(ITEMS_BY_BIB)?;
        let items = txn.open_table(ITEMS)?;
        let mut out = Vec::new();
        for id in by_bib.get(bib_id)? {
            let id = id?.value();
            out.push(get_item(&items, id)?.ok_or_else(|| dangling(bib_id, id))?);
        }
        Ok(out)
    }
}

pub(crate) fn dangling(bib_id: u64, item_id: u64) -> Error {
    Error::Storage(format!("record {bib_id} lists item {item_id}, which does not exist"))
}

/// The item with this id, from any transaction.
pub(crate) fn get_item(items: &impl ReadableTable<u64, &'static [u8]>, id: u64) -> Result<Option<Item>> {
    Ok(get_row::<ItemRow>(items, "item", id)?.map(|row| row.into_item(id)))
}

/// The item with this barcode, which must exist ([`Error::UnknownItem`] otherwise).
pub(crate) fn item_by_barcode_in(txn: &WriteTransaction, barcode: &str) -> Result<Item> {
    let barcode = barcode.trim();
    let id = txn.open_table(ITEM_BY_BARCODE)?.get(barcode)?.map(|v| v.value());
    let item = match id {
        Some(id) => get_item(&txn.open_table(ITEMS)?, id)?,
        None => None,
    };
    item.ok_or_else(|| Error::UnknownItem(super::clip(barcode)))
}

/// Rewrites an item's row only: its indexes (barcode, record) must not change. Used by
/// circulation to change the status; the caller appends to the change feed.
pub(crate) fn write_item_row(txn: &WriteTransaction, item: &Item) -> Result<()> {
    txn.open_table(ITEMS)?.insert(item.id, encode(&ItemRow::of(item))?.as_slice())?;
    Ok(())
}

/// Checks an item's fields and the things they refer to; reads only.
fn validate(txn: &WriteTransaction, item: &NewItem) -> Result<ItemRow> {
    let row = ItemRow {
        bib: item.bib_id,
        barcode: check_number("barcode", &item.barcode)?,
        branch: check_code("branch code", &item.branch)?,
        location: check_text("location", &item.location, false)?,
        call_number: check_text("call number", &item.call_number, false)?,
        item_type: check_code("item type", &item.item_type)?,
        status: item.status,
    };
    if txn.open_table(BIBS)?.get(row.bib)?.is_none() {
        return Err(Error::UnknownBib(row.bib));
    }
    existing_branch(&txn.open_table(BRANCHES)?, &row.branch)?;
    Ok(row)
}

/// Adds an item inside `txn`: every check before the first write.
pub(crate) fn insert_item(txn: &WriteTransaction, item: &NewItem) -> Result<Item> {
    let row = validate(txn, item)?;
    if row.status == ItemStatus::OnLoan {
        return Err(Error::invalid("status", "an item is put on loan by checkout, not by hand"));
    }
    if txn.open_table(ITEM_BY_BARCODE)?.get(row.barcode.as_str())?.is_some() {
        return Err(Error::BarcodeInUse(row.barcode));
    }
    let id = next_id(txn, "next_item_id")?;
    txn.open_table(ITEMS)?.insert(id, encode(&row)?.as_slice())?;
    txn.open_table(ITEM_BY_BARCODE)?.insert(row.barcode.as_str(), id)?;
    txn.open_multimap_table(ITEMS_BY_BIB)?.insert(row.bib, id)?;
    append_change(txn, row.bib, ChangeKind::Holdings)?;
    crate::cataloguing::copies::note_added(txn, id, super::jst_date(jiff::Timestamp::now()))?;
    Ok(row.into_item(id))
}

/// Replaces an item's fields inside `txn`: every check before the first write. Returns the
/// item as stored and whether anything changed.
pub(crate) fn replace_item(txn: &WriteTransaction, id: u64, item: &NewItem) -> Result<(Item, bool)> {
    let old = get_row::<ItemRow>(&txn.open_table(ITEMS)?, "item", id)?;
    let old = old.ok_or_else(|| Error::UnknownItem(format!("#{id}")))?;
    let row = validate(txn, item)?;
    if row == old {
        return Ok((row.into_item(id), false));
    }
    let loan = get_loan(&txn.open_table(LOANS)?, id)?;
    match (&loan, row.status) {
        (Some(loan), status) if status != ItemStatus::OnLoan => {
            return Err(Error::ItemOnLoan { barcode: old.barcode, due: loan.due });
        }
        (None, ItemStatus::OnLoan) => {
            return Err(Error::invalid("status", "an item is put on loan by checkout, not by hand"));
        }
        _ => {}
    }
    let held = txn.open_table(HOLD_BY_ITEM)?.get(id)?.is_some();
    if held && (row.status != old.status || row.bib != old.bib || row.item_type != old.item_type) {
        return Err(Error::ItemHeld { barcode: old.barcode });
    }
    if row.barcode != old.barcode && txn.open_table(ITEM_BY_BARCODE)?.get(row.barcode.as_str())?.is_some() {
        return Err(Error::BarcodeInUse(row.barcode));
    }

    txn.open_table(ITEMS)?.insert(id, encode(&row)?.as_slice())?;
    if row.barcode != old.barcode {
        let mut by_barcode = txn.open_table(ITEM_BY_BARCODE)?;
        by_barcode.remove(old.barcode.as_str())?;
        by_barcode.insert(row.barcode.as_str(), id)?;
    }
    if row.bib != old.bib {
        let mut by_bib = txn.open_multimap_table(ITEMS_BY_BIB)?;
        by_bib.remove(old.bib, id)?;
        by_bib.insert(row.bib, id)?;
        drop(by_bib);
        append_change(txn, old.bib, ChangeKind::Holdings)?;
    }
    append_change(txn, row.bib, ChangeKind::Holdings)?;
    Ok((row.into_item(id), true))
}

/// Deletes an item inside `txn`; `false` if there was none.
pub(crate) fn remove_item(txn: &WriteTransaction, id: u64) -> Result<bool> {
    let old = get_row::<ItemRow>(&txn.open_table(ITEMS)?, "item", id)?;
    let Some(old) = old else { return Ok(false) };
    if let Some(loan) = get_loan(&txn.open_table(LOANS)?, id)? {
        return Err(Error::ItemOnLoan { barcode: old.barcode, due: loan.due });
    }
    if txn.open_table(HOLD_BY_ITEM)?.get(id)?.is_some() {
        return Err(Error::ItemHeld { barcode: old.barcode });
    }
    txn.open_table(ITEMS)?.remove(id)?;
    txn.open_table(ITEM_BY_BARCODE)?.remove(old.barcode.as_str())?;
    txn.open_multimap_table(ITEMS_BY_BIB)?.remove(old.bib, id)?;
    append_change(txn, old.bib, ChangeKind::Holdings)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_the_stored_names() {
        for status in ItemStatus::ALL {
            assert_eq!(serde_json::to_string(&status).ok(), Some(format!("{:?}", status.as_str())));
            assert_eq!(status.as_str().parse::<ItemStatus>().ok(), Some(status));
        }
        assert!(matches!("lost".parse::<ItemStatus>(), Err(Error::Invalid { field: "status", .. })));
    }
}
