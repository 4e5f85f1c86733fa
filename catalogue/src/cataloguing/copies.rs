//! What cataloguing knows of a copy beyond its row in `items`: the day it was acquired
//! (受入日), its withdrawal (除籍) with the reason, who and when, and the barcode ranges from
//! which a branch's next free barcode is taken.
//!
//! The details live in `item_details` (item id -> JSON), written in the same transaction as
//! the item: every copy added by any path gets the day it was added (JST) as its acquisition
//! date unless the caller gives one.

use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{ITEM_DETAILS, SETTINGS};
use crate::circulation::{self, Item, ItemStatus, NewItem};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// Longest withdrawal reason kept.
const MAX_REASON_CHARS: usize = 200;

/// What cataloguing knows of a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDetails {
    /// The day it was acquired (受入日).
    #[serde(default)]
    pub acquired: Option<Date>,
    /// Its withdrawal, while it is withdrawn.
    #[serde(default)]
    pub withdrawal: Option<Withdrawal>,
}

/// A copy's withdrawal (除籍).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Why (汚損・破損, 紛失, 寄贈, 更新 …).
    pub reason: String,
    /// The day (JST).
    pub on: Date,
    /// The staff account that withdrew it.
    pub by: String,
    /// Its status before, put back if the withdrawal is undone.
    pub previous: ItemStatus,
}

/// A branch's barcode range: barcodes `first..=last`, written as `width` digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarcodeRange {
    /// The first barcode of the range.
    pub first: u64,
    /// The last barcode of the range.
    pub last: u64,
    /// Digits written (zero-padded), at least those of `last`.
    pub width: u8,
}

impl BarcodeRange {
    /// A range, checked: `first <= last`, `width` 1-20 and wide enough for `last`.
    pub fn new(first: u64, last: u64, width: u8) -> Result<BarcodeRange> {
        if first > last {
            return Err(Error::invalid("barcode range", format!("first {first} is after last {last}")));
        }
        let digits = last.checked_ilog10().map_or(1, |d| d + 1);
        if !(1..=20).contains(&width) || u32::from(width) < digits {
            return Err(Error::invalid("barcode range", format!("width {width} cannot hold {last}")));
        }
        Ok(BarcodeRange { first, last, width })
    }

    /// A barcode of the range, zero-padded.
    pub fn format(&self, n: u64) -> String {
        format!("{n:0width$}", width = usize::from(self.width))
    }
}

impl Catalogue {
    /// Adds copies to a record in one transaction (all or none), each with its acquisition
    /// date (`None`: today in Japan), checked as [`add_item`](Catalogue::add_item) checks.
    pub fn add_copies(&self, copies: &[(NewItem, Option<Date>)]) -> Result<Vec<Item>> {
        let txn = self.db.begin_write()?;
        let mut out = Vec::with_capacity(copies.len());
        for (item, acquired) in copies {
            let stored = circulation::insert_item(&txn, item)?;
            if let Some(acquired) = acquired {
                update_details(&txn, stored.id, |d| d.acquired = Some(*acquired))?;
            }
            out.push(stored);
        }
        txn.commit()?;
        Ok(out)
    }

    /// What cataloguing knows of an item (nothing for an unknown one).
    pub fn item_details(&self, item_id: u64) -> Result<ItemDetails> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ITEM_DETAILS)?;
        let value = table.get(item_id)?;
        value.map(|v| decode(item_id, v.value())).transpose().map(Option::unwrap_or_default)
    }

    /// Sets the day an item was acquired.
    pub fn set_acquired(&self, item_id: u64, acquired: Date) -> Result<()> {
        let txn = self.db.begin_write()?;
        if circulation::get_item(&txn.open_table(circulation::ITEMS)?, item_id)?.is_none() {
            return Err(Error::UnknownItem(format!("#{item_id}")));
        }
        update_details(&txn, item_id, |d| d.acquired = Some(acquired))?;
        txn.commit()?;
        Ok(())
    }

    /// Withdraws a copy (除籍) with a reason: its status becomes `withdrawn`, so the OPAC no
    /// longer shows it. A copy on loan ([`Error::ItemOnLoan`]) or set aside for a hold
    /// ([`Error::ItemHeld`]) is refused, as is an empty reason.
    pub fn withdraw_item(&self, barcode: &str, reason: &str, by: &str, on: Date) -> Result<Item> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid("reason", "say why the copy is withdrawn"));
        }
        let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
        let txn = self.db.begin_write()?;
        let item = circulation::item_by_barcode_in(&txn, barcode)?;
        if item.status == ItemStatus::Withdrawn {
            return Err(Error::invalid("status", format!("{} is already withdrawn", item.barcode)));
        }
        let mut new = item.to_new();
        new.status = ItemStatus::Withdrawn;
        let (stored, _) = circulation::replace_item(&txn, item.id, &new)?;
        let withdrawal = Withdrawal { reason, on, by: by.to_owned(), previous: item.status };
        update_details(&txn, item.id, |d| d.withdrawal = Some(withdrawal))?;
        txn.commit()?;
        Ok(stored)
    }

    /// Undoes a withdrawal: the copy gets its status from before.
    pub fn reinstate_item(&self, barcode: &str) -> Result<Item> {
        let txn = self.db.begin_write()?;
        let item = circulation::item_by_barcode_in(&txn, barcode)?;
        let details = details_in(&txn, item.id)?;
        let (Some(withdrawal), ItemStatus::Withdrawn) = (details.withdrawal, item.status) else {
            return Err(Error::invalid("status", format!("{} is not withdrawn", item.barcode)));
        };
        let mut new = item.to_new();
        new.status = match withdrawal.previous {
            ItemStatus::OnLoan | ItemStatus::Withdrawn => ItemStatus::Available,
            other => other,
        };
        let (stored, _) = circulation::replace_item(&txn, item.id, &new)?;
        update_details(&txn, item.id, |d| d.withdrawal = None)?;
        txn.commit()?;
        Ok(stored)
    }

    /// Sets (or with `None` removes) a branch's barcode range.
    pub fn set_barcode_range(&self, branch: &str, range: Option<BarcodeRange>) -> Result<()> {
        let txn = self.db.begin_write()?;
        if txn.open_table(circulation::BRANCHES)?.get(branch)?.is_none() {
            return Err(Error::UnknownBranch(branch.to_owned()));
        }
        let key = range_key(branch);
        let mut settings = txn.open_table(SETTINGS)?;
        match range {
            Some(range) => {
                let value = serde_json::to_vec(&range).map_err(|e| Error::Storage(format!("barcode range: {e}")))?;
                settings.insert(key.as_str(), value.as_slice())?;
            }
            None => {
                settings.remove(key.as_str())?;
            }
        }
        drop(settings);
        txn.commit()?;
        Ok(())
    }

    /// A branch's barcode range, if it has one.
    pub fn barcode_range(&self, branch: &str) -> Result<Option<BarcodeRange>> {
        let txn = self.db.begin_read()?;
        let settings = txn.open_table(SETTINGS)?;
        let value = settings.get(range_key(branch).as_str())?;
        value
            .map(|v| {
                serde_json::from_slice(v.value())
                    .map_err(|_| Error::Storage(format!("barcode range of {branch}: stored value is damaged")))
            })
            .transpose()
    }

    /// The lowest barcode of a branch's range that no item has, skipping `taken` (barcodes
    /// the caller is about to use); `None` when the branch has no range or it is full.
    pub fn next_free_barcode(&self, branch: &str, taken: &[String]) -> Result<Option<String>> {
        let Some(range) = self.barcode_range(branch)? else { return Ok(None) };
        let txn = self.db.begin_read()?;
        let by_barcode = txn.open_table(circulation::ITEM_BY_BARCODE)?;
        // Barcodes of one width sort as numbers: walk the used ones in order to the first gap.
        let first = range.format(range.first);
        let last = range.format(range.last);
        let mut expected = range.first;
        for row in by_barcode.range(first.as_str()..=last.as_str())? {
            let (key, _) = row?;
            let key = key.value();
            if key.len() != usize::from(range.width) {
                continue;
            }
            let Ok(n) = key.parse::<u64>() else { continue };
            while n > expected {
                let candidate = range.format(expected);
                if !taken.contains(&candidate) {
                    return Ok(Some(candidate));
                }
                expected += 1;
            }
            if n == expected {
                if expected == range.last {
                    return Ok(None);
                }
                expected += 1;
            }
        }
        while expected <= range.last {
            let candidate = range.format(expected);
            if !taken.contains(&candidate) {
                return Ok(Some(candidate));
            }
            if expected == range.last {
                break;
            }
            expected += 1;
        }
        Ok(None)
    }
}

/// Notes the acquisition date of a copy just added (today in Japan unless it has one).
/// Called by `insert_item` in the transaction that adds it.
pub(crate) fn note_added(txn: &WriteTransaction, item_id: u64, today: Date) -> Result<()> {
    let existing = details_in(txn, item_id)?;
    if existing.acquired.is_none() {
        update_details(txn, item_id, |d| d.acquired = Some(today))?;
    }
    Ok(())
}

fn range_key(branch: &str) -> String {
    format!("barcode_range:{branch}")
}

fn decode(item_id: u64, bytes: &[u8]) -> Result<ItemDetails> {
    serde_json::from_slice(bytes).map_err(|_| Error::Storage(format!("item {item_id}: stored details are damaged")))
}

fn details_in(txn: &WriteTransaction, item_id: u64) -> Result<ItemDetails> {
    let table = txn.open_table(ITEM_DETAILS)?;
    let value = table.get(item_id)?;
    value.map(|v| decode(item_id, v.value())).transpose().map(Option::unwrap_or_default)
}

fn update_details(txn: &WriteTransaction, item_id: u64, change: impl FnOnce(&mut ItemDetails)) -> Result<()> {
    let mut details = details_in(txn, item_id)?;
    change(&mut details);
    let value = serde_json::to_vec(&details).map_err(|e| Error::Storage(format!("item details: {e}")))?;
    txn.open_table(ITEM_DETAILS)?.insert(item_id, value.as_slice())?;
    Ok(())
}
