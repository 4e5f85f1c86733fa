//! What the circulation desk lists: the hold shelf of a branch and the loans falling due.
//! For staff only: each entry names its patron (by id; the caller looks up the card).

use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable};

use super::hold::{Hold, HoldState, get_hold};
use super::item::{Item, get_item};
use super::loan::{Loan, get_loan};
use super::{HOLDS, ITEMS, LOANS};
use crate::error::{Error, Result};
use crate::store::Catalogue;

impl Catalogue {
    /// The holds ready on the hold shelf of `branch`, with their copies, the ones expiring
    /// first first (then by hold id).
    pub fn hold_shelf(&self, branch: &str) -> Result<Vec<(Hold, Item)>> {
        let txn = self.db.begin_read()?;
        let holds = txn.open_table(HOLDS)?;
        let items = txn.open_table(ITEMS)?;
        let mut out = Vec::new();
        for entry in holds.iter()? {
            let (id, _) = entry?;
            let Some(hold) = get_hold(&holds, id.value())? else { continue };
            if let HoldState::Ready { item_id, .. } = hold.state
                && hold.pickup_branch == branch
            {
                let item = get_item(&items, item_id)?.ok_or_else(|| {
                    Error::Storage(format!("hold {} names item {item_id}, which does not exist", hold.id))
                })?;
                out.push((hold, item));
            }
        }
        out.sort_by_key(|(hold, _)| match hold.state {
            HoldState::Ready { until, .. } => (until, hold.id),
            _ => (Date::MAX, hold.id),
        });
        Ok(out)
    }

    /// Every loan due on or before `day` (JST), with its copy, by due date then item id:
    /// with `day` today, the loans due today and the overdue ones.
    pub fn loans_due_by(&self, day: Date) -> Result<Vec<(Loan, Item)>> {
        let txn = self.db.begin_read()?;
        let loans = txn.open_table(LOANS)?;
        let items = txn.open_table(ITEMS)?;
        let mut out = Vec::new();
        for entry in loans.iter()? {
            let (id, _) = entry?;
            let Some(loan) = get_loan(&loans, id.value())? else { continue };
            if loan.due <= day {
                let item = get_item(&items, loan.item_id)?
                    .ok_or_else(|| Error::Storage(format!("the loan of item {} has no item", loan.item_id)))?;
                out.push((loan, item));
            }
        }
        out.sort_by_key(|(loan, _)| (loan.due, loan.item_id));
        Ok(out)
    }
}
