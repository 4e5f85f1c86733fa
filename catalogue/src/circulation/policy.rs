//! Loan rules (貸出条件): for a patron category and an item type, how long a loan lasts, how
//! many items and holds a patron may have, how often a loan may be renewed, how many open
//! days a hold waits on the hold shelf, and whether an overdue item suspends borrowing.
//!
//! A rule is stored for a category and an item type, either of which may be "any". The rule
//! that applies to a patron and an item is the most specific one stored:
//! (category, type), then (category, any), then (any, type), then (any, any), and when none
//! is stored, [`LoanPolicy::DEFAULT`]. Holds are on records, not items, so hold limits and
//! the hold shelf period come from the rule for (category, any type).

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::patron::PatronCategory;
use super::{POLICIES, check_code, decode, encode};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// The key part that stands for "any category" or "any item type".
const ANY: &str = "*";

/// The loan rule for a patron category and an item type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoanPolicy {
    /// The patron category it applies to; `None` for any.
    pub category: Option<PatronCategory>,
    /// The item type (`book`, `av`, …) it applies to; `None` for any.
    pub item_type: Option<String>,
    /// Days a loan lasts (1 to 365); a due date on a closed day moves to the next open day.
    pub loan_days: u32,
    /// Items a patron may have on loan at once under this rule (0 to 1,000; 0: this
    /// category may not borrow this type). Loans under other rules are not counted.
    pub max_loans: u32,
    /// Times a loan may be renewed (0 to 99).
    pub max_renewals: u32,
    /// Holds a patron may have at once (0 to 1,000); read from the (category, any) rule.
    pub max_holds: u32,
    /// Open days of the pickup branch a hold waits on the hold shelf (1 to 90); read from
    /// the (category, any) rule.
    pub hold_pickup_days: u32,
    /// While the patron has an overdue item, no checkout, renewal or hold under this rule
    /// (the usual rule of Japanese public libraries, which charge no fines).
    pub suspend_while_overdue: bool,
}

impl LoanPolicy {
    /// The rule when none is stored: two weeks, ten items, one renewal, ten holds, a week
    /// of open days on the hold shelf, borrowing suspended while an item is overdue.
    pub const DEFAULT: LoanPolicy = LoanPolicy {
        category: None,
        item_type: None,
        loan_days: 14,
        max_loans: 10,
        max_renewals: 1,
        max_holds: 10,
        hold_pickup_days: 7,
        suspend_while_overdue: true,
    };

    /// The default rule's values for a category and an item type (either may be any).
    pub fn new(category: Option<PatronCategory>, item_type: Option<&str>) -> LoanPolicy {
        LoanPolicy { category, item_type: item_type.map(str::to_string), ..LoanPolicy::DEFAULT }
    }

    /// The stored key: category code or `*`, item type or `*`.
    fn key(&self) -> (&str, &str) {
        (self.category.map_or(ANY, PatronCategory::as_str), self.item_type.as_deref().unwrap_or(ANY))
    }

    /// Whether two rules are the same rule (same category and item type).
    pub(crate) fn same_rule(&self, other: &LoanPolicy) -> bool {
        self.key() == other.key()
    }
}

/// The stored form of a rule (category and item type are the key).
#[derive(Serialize, Deserialize)]
struct PolicyRow {
    loan_days: u32,
    max_loans: u32,
    max_renewals: u32,
    max_holds: u32,
    hold_pickup_days: u32,
    suspend_while_overdue: bool,
}

impl PolicyRow {
    fn of(policy: &LoanPolicy) -> PolicyRow {
        PolicyRow {
            loan_days: policy.loan_days,
            max_loans: policy.max_loans,
            max_renewals: policy.max_renewals,
            max_holds: policy.max_holds,
            hold_pickup_days: policy.hold_pickup_days,
            suspend_while_overdue: policy.suspend_while_overdue,
        }
    }

    fn into_policy(self, category: Option<PatronCategory>, item_type: Option<String>) -> LoanPolicy {
        LoanPolicy {
            category,
            item_type,
            loan_days: self.loan_days,
            max_loans: self.max_loans,
            max_renewals: self.max_renewals,
            max_holds: self.max_holds,
            hold_pickup_days: self.hold_pickup_days,
            suspend_while_overdue: self.suspend_while_overdue,
        }
    }
}

impl Catalogue {
    /// Stores a loan rule, replacing the one for the same category and item type. Refuses
    /// a malformed item type or a number out of range ([`Error::Invalid`]). Loans already
    /// made keep their due date; the rule applies from the next checkout or renewal.
    pub fn put_policy(&self, policy: &LoanPolicy) -> Result<LoanPolicy> {
        let policy = validate(policy)?;
        let txn = self.db.begin_write()?;
        txn.open_table(POLICIES)?.insert(policy.key(), encode(&PolicyRow::of(&policy))?.as_slice())?;
        txn.commit()?;
        Ok(policy)
    }

    /// Deletes the rule stored for this category and item type (`None`: any); `false` if
    /// there was none. The next more general rule then applies.
    pub fn delete_policy(&self, category: Option<PatronCategory>, item_type: Option<&str>) -> Result<bool> {
        let key = LoanPolicy::new(category, item_type.map(str::trim));
        let txn = self.db.begin_write()?;
        let removed = txn.open_table(POLICIES)?.remove(key.key())?.is_some();
        txn.commit()?;
        Ok(removed)
    }

    /// The rule stored for exactly this category and item type (`None`: any).
    pub fn policy(&self, category: Option<PatronCategory>, item_type: Option<&str>) -> Result<Option<LoanPolicy>> {
        let wanted = LoanPolicy::new(category, item_type.map(str::trim));
        let txn = self.db.begin_read()?;
        get_policy(&txn.open_table(POLICIES)?, wanted.key())
    }

    /// Every stored rule, by category code then item type (`*`, any, sorts first).
    pub fn policies(&self) -> Result<Vec<LoanPolicy>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(POLICIES)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (key, value) = row?;
            let (category, item_type) = key.value();
            out.push(policy_of(category, item_type, value.value())?);
        }
        Ok(out)
    }

    /// The rule that applies to a patron of `category` borrowing an item of `item_type`
    /// (`None`: the rule for holds, which are not tied to an item type).
    pub fn policy_for(&self, category: PatronCategory, item_type: Option<&str>) -> Result<LoanPolicy> {
        let txn = self.db.begin_read()?;
        resolve(&txn.open_table(POLICIES)?, category, item_type)
    }
}

/// The rule that applies to `category` and `item_type`, from any transaction.
pub(crate) fn resolve(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    category: PatronCategory,
    item_type: Option<&str>,
) -> Result<LoanPolicy> {
    let category = category.as_str();
    let candidates = match item_type {
        Some(item_type) => vec![(category, item_type), (category, ANY), (ANY, item_type), (ANY, ANY)],
        None => vec![(category, ANY), (ANY, ANY)],
    };
    for key in candidates {
        if let Some(policy) = get_policy(table, key)? {
            return Ok(policy);
        }
    }
    Ok(LoanPolicy::DEFAULT)
}

/// The rule stored under exactly this key.
fn get_policy(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    key: (&str, &str),
) -> Result<Option<LoanPolicy>> {
    let value = table.get(key)?;
    value.map(|v| policy_of(key.0, key.1, v.value())).transpose()
}

fn policy_of(category: &str, item_type: &str, bytes: &[u8]) -> Result<LoanPolicy> {
    let row: PolicyRow = decode("policy", format_args!("{category}/{item_type}"), bytes)?;
    let category = match category {
        ANY => None,
        code => Some(code.parse().map_err(|_| Error::Storage(format!("policy for unknown category {code:?}")))?),
    };
    let item_type = (item_type != ANY).then(|| item_type.to_string());
    Ok(row.into_policy(category, item_type))
}

/// Checks a rule's numbers and item type; the rule as it will be stored.
fn validate(policy: &LoanPolicy) -> Result<LoanPolicy> {
    let item_type = match policy.item_type.as_deref().map(str::trim) {
        None | Some(ANY) => None,
        Some(item_type) => Some(check_code("item type", item_type)?),
    };
    let range = |field: &'static str, value: u32, min: u32, max: u32| {
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(Error::invalid(field, format!("{value} is not between {min} and {max}")))
        }
    };
    range("loan days", policy.loan_days, 1, 365)?;
    range("max loans", policy.max_loans, 0, 1_000)?;
    range("max renewals", policy.max_renewals, 0, 99)?;
    range("max holds", policy.max_holds, 0, 1_000)?;
    range("hold pickup days", policy.hold_pickup_days, 1, 90)?;
    Ok(LoanPolicy { item_type, ..policy.clone() })
}

/// Creates the rules table if it does not exist (nothing is stored: the default applies).
pub(crate) fn create_table(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(POLICIES)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_are_refused() {
        let mut policy = LoanPolicy::new(Some(PatronCategory::Child), Some("book"));
        assert!(validate(&policy).is_ok());
        policy.loan_days = 0;
        assert!(matches!(validate(&policy), Err(Error::Invalid { field: "loan days", .. })));
        policy.loan_days = 366;
        assert!(validate(&policy).is_err());
        policy.loan_days = 14;
        policy.hold_pickup_days = 0;
        assert!(matches!(validate(&policy), Err(Error::Invalid { field: "hold pickup days", .. })));
        policy.hold_pickup_days = 7;
        policy.item_type = Some("AV".into());
        assert!(matches!(validate(&policy), Err(Error::Invalid { field: "item type", .. })));
        policy.item_type = Some("*".into());
        assert_eq!(validate(&policy).ok().and_then(|p| p.item_type), None, "`*` is any type");
    }
}
