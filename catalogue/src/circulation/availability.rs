//! What the OPAC and the index show of a record's copies: counts per branch, the number of
//! holds, and each copy with its shelf, its status (on the shelf, lent, 取置中 on the hold
//! shelf, in transit) and, when lent, its due date. Never who borrowed or asked for it.

use std::cell::RefCell;

use jiff::civil::Date;
use redb::{ReadOnlyMultimapTable, ReadOnlyTable, ReadTransaction, ReadableDatabase};
use serde::Serialize;

use super::branch::{Branch, get_branch};
use super::item::ItemStatus;
use super::item::{Item, dangling, get_item};
use super::loan::get_loan;
use super::{BRANCHES, HOLDS_BY_BIB, ITEMS, ITEMS_BY_BIB, LOANS};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// How many copies of a record there are and how many can be borrowed now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Copies in the collection: every item but withdrawn ones.
    pub total: u32,
    /// Copies that can be borrowed now: available and not reference items.
    pub available: u32,
    /// Holds on the record: patrons waiting for it, and those with a copy set aside.
    pub holds: u32,
    /// Copies on a hold shelf (取置中), set aside for a patron.
    pub on_hold_shelf: u32,
    /// Copies travelling between branches.
    pub in_transit: u32,
    /// The same counts per branch holding a copy, by branch code.
    pub branches: Vec<BranchAvailability>,
}

/// The copies of a record at one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BranchAvailability {
    /// The branch code.
    pub branch: String,
    /// Its Japanese name.
    pub name_ja: String,
    /// Its English name.
    pub name_en: String,
    /// Copies at this branch (withdrawn ones left out).
    pub total: u32,
    /// Copies at this branch that can be borrowed now.
    pub available: u32,
}

/// One copy of a record as the OPAC shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The item.
    pub item: Item,
    /// Its branch's Japanese name.
    pub branch_name_ja: String,
    /// Its branch's English name.
    pub branch_name_en: String,
    /// The due date, when the item is on loan. Who borrowed it is never part of a holding.
    pub due: Option<Date>,
}

impl Catalogue {
    /// The availability of a record's copies, withdrawn items left out (all zeros for a
    /// record without items, or an unknown one).
    pub fn availability(&self, bib_id: u64) -> Result<Availability> {
        let txn = self.db.begin_read()?;
        Tables::open(&txn)?.availability(bib_id)
    }

    /// The availability of each of these records, in the order given, all read in one
    /// transaction with the tables opened once: what the indexer asks for a batch of
    /// records it (re)indexes, at the cost of one index lookup per record without copies.
    pub fn availabilities(&self, bib_ids: &[u64]) -> Result<Vec<Availability>> {
        let txn = self.db.begin_read()?;
        let tables = Tables::open(&txn)?;
        bib_ids.iter().map(|&bib_id| tables.availability(bib_id)).collect()
    }

    /// A record's copies for the OPAC, withdrawn items left out, by branch code then item
    /// id, with their branch names and, when on loan, the due date (empty for a record
    /// without items, or an unknown one). All read in one transaction, so the copies and
    /// their loans agree.
    pub fn holdings(&self, bib_id: u64) -> Result<Vec<Holding>> {
        let txn = self.db.begin_read()?;
        Tables::open(&txn)?.holdings(bib_id, true)
    }
}

/// The tables a record's copies are read from, opened once in one read transaction.
struct Tables {
    by_bib: ReadOnlyMultimapTable<u64, u64>,
    items: ReadOnlyTable<u64, &'static [u8]>,
    loans: ReadOnlyTable<u64, &'static [u8]>,
    branches: ReadOnlyTable<&'static str, &'static [u8]>,
    holds_by_bib: ReadOnlyMultimapTable<u64, u64>,
    /// Branches met so far: a batch names the same few again and again.
    names: RefCell<Vec<Branch>>,
}

impl Tables {
    fn open(txn: &ReadTransaction) -> Result<Tables> {
        Ok(Tables {
            by_bib: txn.open_multimap_table(ITEMS_BY_BIB)?,
            items: txn.open_table(ITEMS)?,
            loans: txn.open_table(LOANS)?,
            branches: txn.open_table(BRANCHES)?,
            holds_by_bib: txn.open_multimap_table(HOLDS_BY_BIB)?,
            names: RefCell::new(Vec::new()),
        })
    }

    fn availability(&self, bib_id: u64) -> Result<Availability> {
        let holds = u32::try_from(self.holds_by_bib.get(bib_id)?.len()).unwrap_or(u32::MAX);
        let mut out = Availability { holds, ..Availability::default() };
        // Due dates are not counted: the loans table is left unread.
        for holding in self.holdings(bib_id, false)? {
            let lendable = u32::from(holding.item.is_lendable());
            out.total += 1;
            out.available += lendable;
            out.on_hold_shelf += u32::from(holding.item.status == ItemStatus::OnHoldShelf);
            out.in_transit += u32::from(holding.item.status == ItemStatus::InTransit);
            match out.branches.last_mut() {
                Some(last) if last.branch == holding.item.branch => {
                    last.total += 1;
                    last.available += lendable;
                }
                _ => out.branches.push(BranchAvailability {
                    branch: holding.item.branch,
                    name_ja: holding.branch_name_ja,
                    name_en: holding.branch_name_en,
                    total: 1,
                    available: lendable,
                }),
            }
        }
        Ok(out)
    }

    /// A record's copies for the OPAC, with their due dates if `due`.
    fn holdings(&self, bib_id: u64, due: bool) -> Result<Vec<Holding>> {
        let mut out = Vec::new();
        for id in self.by_bib.get(bib_id)? {
            let id = id?.value();
            let item = get_item(&self.items, id)?.ok_or_else(|| dangling(bib_id, id))?;
            if !item.is_held() {
                continue;
            }
            let branch = self.branch(&item.branch)?.ok_or_else(|| {
                Error::Storage(format!("item {id} names branch {:?}, which does not exist", item.branch))
            })?;
            let due = if due { get_loan(&self.loans, id)?.map(|loan| loan.due) } else { None };
            out.push(Holding { item, branch_name_ja: branch.name_ja, branch_name_en: branch.name_en, due });
        }
        // Item ids come in order; a stable sort keeps that order within a branch.
        out.sort_by(|a, b| a.item.branch.cmp(&b.item.branch));
        Ok(out)
    }

    fn branch(&self, code: &str) -> Result<Option<Branch>> {
        if let Some(branch) = self.names.borrow().iter().find(|b| b.code == code) {
            return Ok(Some(branch.clone()));
        }
        let branch = get_branch(&self.branches, code)?;
        if let Some(branch) = &branch {
            self.names.borrow_mut().push(branch.clone());
        }
        Ok(branch)
    }
}
