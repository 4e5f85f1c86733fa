//! Patrons: the people who borrow, each with a unique card number, a category (which the
//! loan rules are keyed by), a home branch, a contact, possibly a school grade and class,
//! an expiry date or a block, and whether they opted in to a reading record.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::branch::existing_branch;
use super::reading::forget_reading;
use super::{
    BRANCHES, PATRON_BY_CARD, PATRONS, check_code, check_number, check_optional_text, check_text, clip, encode,
    get_row, jst_date, next_id,
};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// A patron's category; loan rules are keyed by it and the item's loan type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatronCategory {
    /// An adult (`adult`, 一般).
    Adult,
    /// A child (`child`, 児童).
    Child,
    /// A student (`student`, 学生).
    Student,
    /// A member of staff (`staff`, 職員).
    Staff,
}

impl PatronCategory {
    /// Every category, in the order above.
    pub const ALL: [PatronCategory; 4] =
        [PatronCategory::Adult, PatronCategory::Child, PatronCategory::Student, PatronCategory::Staff];

    /// The category's code: `adult`, `child`, `student`, `staff`.
    pub fn as_str(self) -> &'static str {
        match self {
            PatronCategory::Adult => "adult",
            PatronCategory::Child => "child",
            PatronCategory::Student => "student",
            PatronCategory::Staff => "staff",
        }
    }
}

impl FromStr for PatronCategory {
    type Err = Error;

    fn from_str(code: &str) -> Result<PatronCategory> {
        let code = code.trim();
        PatronCategory::ALL.into_iter().find(|c| c.as_str() == code).ok_or_else(|| {
            Error::invalid("category", format!("{:?} is not one of adult, child, student, staff", clip(code)))
        })
    }
}

impl fmt::Display for PatronCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A patron to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatron {
    /// The card number (利用者番号), unique in the tenant: 1 to 64 printable ASCII
    /// characters, no spaces.
    pub card: String,
    /// The patron's name (required).
    pub name: String,
    /// Its reading (よみ), if known.
    pub name_reading: Option<String>,
    /// The category.
    pub category: PatronCategory,
    /// The code of the patron's home branch (must exist).
    pub home_branch: String,
    /// The last day the card is valid (JST), if it expires.
    pub expiry: Option<Date>,
    /// Why the patron may not borrow, if blocked.
    pub blocked: Option<String>,
    /// How to reach the patron (e-mail address or telephone number), for notices.
    pub contact: Option<String>,
    /// A school library's grade (学年, 1 to 12), if the patron is a pupil.
    pub grade: Option<u8>,
    /// A school library's class (組, e.g. `1`, `A`, `さくら`), if the patron is a pupil.
    pub class: Option<String>,
    /// Whether the patron opted in to a reading record (読書記録): off unless asked for.
    pub reading_record: bool,
}

impl NewPatron {
    /// An adult with this card, name and home branch, no reading, no contact, no school
    /// class, no expiry, not blocked, no reading record.
    pub fn new(card: &str, name: &str, home_branch: &str) -> NewPatron {
        NewPatron {
            card: card.to_string(),
            name: name.to_string(),
            name_reading: None,
            category: PatronCategory::Adult,
            home_branch: home_branch.to_string(),
            expiry: None,
            blocked: None,
            contact: None,
            grade: None,
            class: None,
            reading_record: false,
        }
    }
}

/// A stored patron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patron {
    /// Its id, allocated from 1 and never reused.
    pub id: u64,
    /// The card number, unique in the tenant.
    pub card: String,
    /// The patron's name.
    pub name: String,
    /// Its reading, if known.
    pub name_reading: Option<String>,
    /// The category.
    pub category: PatronCategory,
    /// The code of the home branch.
    pub home_branch: String,
    /// The last day the card is valid (JST), if it expires.
    pub expiry: Option<Date>,
    /// Why the patron may not borrow, if blocked.
    pub blocked: Option<String>,
    /// How to reach the patron, for notices.
    pub contact: Option<String>,
    /// A school library's grade (1 to 12).
    pub grade: Option<u8>,
    /// A school library's class.
    pub class: Option<String>,
    /// Whether the patron opted in to a reading record.
    pub reading_record: bool,
}

impl Patron {
    /// Refuses a blocked patron ([`Error::PatronBlocked`]) or one whose card expired before
    /// the Japanese date at `now` ([`Error::PatronExpired`]).
    pub fn check_may_borrow(&self, now: Timestamp) -> Result<()> {
        if let Some(reason) = &self.blocked {
            return Err(Error::PatronBlocked { card: self.card.clone(), reason: reason.clone() });
        }
        match self.expiry {
            Some(expiry) if expiry < jst_date(now) => Err(Error::PatronExpired { card: self.card.clone(), expiry }),
            _ => Ok(()),
        }
    }

    /// The patron's fields without its id.
    pub(crate) fn to_new(&self) -> NewPatron {
        NewPatron {
            card: self.card.clone(),
            name: self.name.clone(),
            name_reading: self.name_reading.clone(),
            category: self.category,
            home_branch: self.home_branch.clone(),
            expiry: self.expiry,
            blocked: self.blocked.clone(),
            contact: self.contact.clone(),
            grade: self.grade,
            class: self.class.clone(),
            reading_record: self.reading_record,
        }
    }
}

/// The stored form of a patron (the id is the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PatronRow {
    card: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_reading: Option<String>,
    category: PatronCategory,
    home_branch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiry: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grade: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    class: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reading_record: bool,
}

impl PatronRow {
    fn into_patron(self, id: u64) -> Patron {
        Patron {
            id,
            card: self.card,
            name: self.name,
            name_reading: self.name_reading,
            category: self.category,
            home_branch: self.home_branch,
            expiry: self.expiry,
            blocked: self.blocked,
            contact: self.contact,
            grade: self.grade,
            class: self.class,
            reading_record: self.reading_record,
        }
    }
}

impl Catalogue {
    /// Adds a patron. Refuses a card number in use ([`Error::CardInUse`]), an unknown home
    /// branch ([`Error::UnknownBranch`]) and malformed fields ([`Error::Invalid`]).
    pub fn add_patron(&self, patron: &NewPatron) -> Result<Patron> {
        let txn = self.db.begin_write()?;
        let patron = insert_patron(&txn, patron)?;
        txn.commit()?;
        Ok(patron)
    }

    /// Stores `patron` over the patron with its id ([`Error::UnknownPatron`] if there is
    /// none), checked as [`add_patron`](Catalogue::add_patron) checks; a new card number
    /// replaces the old one (a lost card). Opting out of the reading record deletes it.
    pub fn update_patron(&self, patron: &Patron) -> Result<Patron> {
        let txn = self.db.begin_write()?;
        let (patron, _) = replace_patron(&txn, patron.id, &patron.to_new())?;
        txn.commit()?;
        Ok(patron)
    }

    /// The patron with this id.
    pub fn patron(&self, id: u64) -> Result<Option<Patron>> {
        let txn = self.db.begin_read()?;
        get_patron(&txn.open_table(PATRONS)?, id)
    }

    /// The patron with this card number (surrounding blanks ignored).
    pub fn patron_by_card(&self, card: &str) -> Result<Option<Patron>> {
        let txn = self.db.begin_read()?;
        let id = txn.open_table(PATRON_BY_CARD)?.get(card.trim())?.map(|v| v.value());
        match id {
            Some(id) => get_patron(&txn.open_table(PATRONS)?, id),
            None => Ok(None),
        }
    }
}

/// The patron with this id, from any transaction.
pub(crate) fn get_patron(patrons: &impl ReadableTable<u64, &'static [u8]>, id: u64) -> Result<Option<Patron>> {
    Ok(get_row::<PatronRow>(patrons, "patron", id)?.map(|row| row.into_patron(id)))
}

/// The patron with this card number, which must exist ([`Error::UnknownPatron`] otherwise).
pub(crate) fn patron_by_card_in(txn: &WriteTransaction, card: &str) -> Result<Patron> {
    let card = card.trim();
    let id = txn.open_table(PATRON_BY_CARD)?.get(card)?.map(|v| v.value());
    let patron = match id {
        Some(id) => get_patron(&txn.open_table(PATRONS)?, id)?,
        None => None,
    };
    patron.ok_or_else(|| Error::UnknownPatron(clip(card)))
}

/// Checks a patron's fields and home branch; reads only.
fn validate(txn: &WriteTransaction, patron: &NewPatron) -> Result<PatronRow> {
    let row = PatronRow {
        card: check_number("card number", &patron.card)?,
        name: check_text("name", &patron.name, true)?,
        name_reading: check_optional_text("name reading", patron.name_reading.as_deref())?,
        category: patron.category,
        home_branch: check_code("home branch", &patron.home_branch)?,
        expiry: patron.expiry,
        blocked: check_optional_text("block reason", patron.blocked.as_deref())?,
        contact: check_optional_text("contact", patron.contact.as_deref())?,
        grade: match patron.grade {
            Some(grade) if !(1..=12).contains(&grade) => {
                return Err(Error::invalid("grade", format!("{grade} is not between 1 and 12")));
            }
            grade => grade,
        },
        class: check_optional_text("class", patron.class.as_deref())?,
        reading_record: patron.reading_record,
    };
    existing_branch(&txn.open_table(BRANCHES)?, &row.home_branch)?;
    Ok(row)
}

/// Adds a patron inside `txn`: every check before the first write.
pub(crate) fn insert_patron(txn: &WriteTransaction, patron: &NewPatron) -> Result<Patron> {
    let row = validate(txn, patron)?;
    if txn.open_table(PATRON_BY_CARD)?.get(row.card.as_str())?.is_some() {
        return Err(Error::CardInUse(row.card));
    }
    let id = next_id(txn, "next_patron_id")?;
    txn.open_table(PATRONS)?.insert(id, encode(&row)?.as_slice())?;
    txn.open_table(PATRON_BY_CARD)?.insert(row.card.as_str(), id)?;
    Ok(row.into_patron(id))
}

/// Replaces a patron's fields inside `txn`: every check before the first write. Returns the
/// patron as stored and whether anything changed.
pub(crate) fn replace_patron(txn: &WriteTransaction, id: u64, patron: &NewPatron) -> Result<(Patron, bool)> {
    let old = get_row::<PatronRow>(&txn.open_table(PATRONS)?, "patron", id)?;
    let old = old.ok_or_else(|| Error::UnknownPatron(format!("#{id}")))?;
    let row = validate(txn, patron)?;
    if row == old {
        return Ok((row.into_patron(id), false));
    }
    if row.card != old.card && txn.open_table(PATRON_BY_CARD)?.get(row.card.as_str())?.is_some() {
        return Err(Error::CardInUse(row.card));
    }
    txn.open_table(PATRONS)?.insert(id, encode(&row)?.as_slice())?;
    if row.card != old.card {
        let mut by_card = txn.open_table(PATRON_BY_CARD)?;
        by_card.remove(old.card.as_str())?;
        by_card.insert(row.card.as_str(), id)?;
    }
    if old.reading_record && !row.reading_record {
        forget_reading(txn, id)?;
    }
    Ok((row.into_patron(id), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_codes_are_the_stored_names() {
        for category in PatronCategory::ALL {
            assert_eq!(serde_json::to_string(&category).ok(), Some(format!("{:?}", category.as_str())));
            assert_eq!(category.as_str().parse::<PatronCategory>().ok(), Some(category));
        }
    }

    #[test]
    fn a_card_is_valid_through_its_expiry_day_in_japan() {
        let mut patron = Patron {
            id: 1,
            card: "P1".into(),
            name: "名前".into(),
            name_reading: None,
            category: PatronCategory::Adult,
            home_branch: "chuo".into(),
            expiry: Some(jiff::civil::date(2026, 3, 31)),
            blocked: None,
            contact: None,
            grade: None,
            class: None,
            reading_record: false,
        };
        // 23:59 on 31 March in Japan, then 00:00 on 1 April.
        let last_minute: Timestamp = "2026-03-31T14:59:00Z".parse().unwrap_or_default();
        let next_day: Timestamp = "2026-03-31T15:00:00Z".parse().unwrap_or_default();
        assert!(patron.check_may_borrow(last_minute).is_ok());
        assert!(matches!(patron.check_may_borrow(next_day), Err(Error::PatronExpired { .. })));
        patron.expiry = None;
        patron.blocked = Some("督促中".into());
        assert!(matches!(patron.check_may_borrow(last_minute), Err(Error::PatronBlocked { .. })));
    }
}
