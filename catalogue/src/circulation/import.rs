//! Importing items and patrons from CSV or TSV (a spreadsheet's export, or a previous
//! system's): columns named by a header line, every good row stored, every bad one reported
//! with its line and reason. Rows are upserts keyed by barcode or card number, so importing
//! the same file twice changes nothing the second time.

use std::collections::HashMap;
use std::io::Read;

use csv::StringRecord;
use jiff::civil::Date;
use redb::{ReadableTable, WriteTransaction};

use super::item::{Item, ItemStatus, NewItem, get_item, insert_item, replace_item};
use super::patron::{NewPatron, Patron, PatronCategory, get_patron, insert_patron, replace_patron};
use super::{ITEM_BY_BARCODE, ITEMS, PATRON_BY_CARD, PATRONS, clip};
use crate::error::{Error, ErrorKind, Result};
use crate::store::{BIB_BY_CONTROL, Catalogue, key_of};

/// Rows per write transaction: one commit per row would be slow, one for the whole file
/// would hold the write lock (and the desk's checkouts) for the whole import.
const BATCH: usize = 1_000;

/// The columns of an item import.
const ITEM_COLUMNS: &[&str] = &[
    "barcode",
    "bib_id",
    "control_number",
    "control_organisation",
    "branch",
    "location",
    "call_number",
    "item_type",
    "status",
];

/// The columns of a patron import.
const PATRON_COLUMNS: &[&str] = &[
    "card",
    "name",
    "name_reading",
    "category",
    "home_branch",
    "expiry",
    "blocked",
    "contact",
    "grade",
    "class",
    "reading_record",
];

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRejection {
    /// The 1-based line the row starts on (the header is line 1).
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
}

/// What a CSV or TSV import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowReport {
    /// Rows read (stored or rejected).
    pub read: u64,
    /// New items or patrons.
    pub created: u64,
    /// Existing ones (same barcode or card number) that changed.
    pub updated: u64,
    /// Existing ones that the row left as they were.
    pub unchanged: u64,
    /// Rows refused, in file order.
    pub rejected: Vec<RowRejection>,
}

/// What one row did.
enum RowOutcome {
    Created,
    Updated,
    Unchanged,
}

impl Catalogue {
    /// Imports items from CSV or TSV (UTF-8, a byte-order mark allowed; a tab in the header
    /// line means TSV). The header names the columns, in any order: `barcode` (required),
    /// `bib_id` or `control_number` (with `control_organisation`, the record's 003),
    /// `branch`, `location`, `call_number`, `item_type`, `status`; an unknown or repeated
    /// column refuses the whole file ([`Error::Invalid`]). A row whose barcode exists
    /// updates that item (a barcode on two rows of one file is refused the second time), and a column left out (or, for `item_type` and `status`, an empty
    /// cell) keeps the item's value; a new item needs its record and branch and defaults
    /// to an `available` `book`. Each row is checked as [`add_item`](Catalogue::add_item)
    /// checks; a refused row is reported and the others are stored. A fault (I/O, storage)
    /// stops the import: the rows of earlier batches stay stored, and running the import
    /// again is harmless.
    pub fn import_items(&self, reader: impl Read) -> Result<RowReport> {
        self.import_rows(reader, ITEM_COLUMNS, "barcode", item_row)
    }

    /// Imports patrons from CSV or TSV, as [`import_items`](Catalogue::import_items) does
    /// items. Columns: `card` (required), `name`, `name_reading`, `category` (`adult`,
    /// `child`, `student`, `staff`), `home_branch`, `expiry` (`YYYY-MM-DD` or
    /// `YYYY/MM/DD`), `blocked` (the reason), `contact`, `grade` (1 to 12), `class`,
    /// `reading_record` (`yes`/`no`, `true`/`false`, `1`/`0`). A row whose card exists
    /// updates that patron: a column left out keeps the patron's value, and an empty
    /// `name_reading`, `expiry`, `blocked`, `contact`, `grade` or `class` cell clears it (so
    /// a file can lift blocks); an empty `reading_record` cell keeps it. A new patron needs `name` and
    /// `home_branch`, and is an adult unless `category` says otherwise.
    pub fn import_patrons(&self, reader: impl Read) -> Result<RowReport> {
        self.import_rows(reader, PATRON_COLUMNS, "card", patron_row)
    }

    fn import_rows(
        &self,
        mut reader: impl Read,
        known: &'static [&'static str],
        key: &'static str,
        mut apply: impl FnMut(&WriteTransaction, &Header, &StringRecord) -> Result<RowOutcome>,
    ) -> Result<RowReport> {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(Error::ReadInput)?;
        let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&data);
        let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
        let delimiter = if first_line.contains(&b'\t') { b'\t' } else { b',' };
        let mut csv =
            csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).trim(csv::Trim::All).from_reader(data);
        let header = Header::read(&mut csv, known, key)?;

        let mut report = RowReport::default();
        // The line each key (barcode, card number) was stored from: a key twice in one file
        // is a mistake in the file (two copies with one barcode), not an update.
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut txn = self.db.begin_write()?;
        let mut in_batch = 0;
        let mut last_line = 1;
        for record in csv.records() {
            report.read += 1;
            let record = match record {
                Ok(record) => record,
                Err(err) => {
                    let line = err.position().map_or(last_line + 1, |p| p.line());
                    last_line = line;
                    report.rejected.push(RowRejection { line, reason: csv_reason(&err) });
                    continue;
                }
            };
            let line = record.position().map_or(last_line + 1, |p| p.line());
            last_line = line;
            if record.len() != header.width {
                let reason = format!("{} fields where the header has {}", record.len(), header.width);
                report.rejected.push(RowRejection { line, reason });
                continue;
            }
            let key_value = header.value(&record, key).unwrap_or_default().to_string();
            if let Some(first) = seen.get(&key_value) {
                let reason = format!("{key} {:?} is already on line {first} of this file", clip(&key_value));
                report.rejected.push(RowRejection { line, reason });
                continue;
            }
            let stored = apply(&txn, &header, &record);
            if stored.is_ok() {
                seen.insert(key_value, line);
            }
            match stored {
                Ok(RowOutcome::Created) => report.created += 1,
                Ok(RowOutcome::Updated) => report.updated += 1,
                Ok(RowOutcome::Unchanged) => report.unchanged += 1,
                // Every check of a row comes before its first write, so a refused row left
                // the transaction as it was.
                Err(err) if err.kind() != ErrorKind::Fault => {
                    report.rejected.push(RowRejection { line, reason: err.to_string() });
                }
                Err(err) => return Err(err),
            }
            in_batch += 1;
            if in_batch == BATCH {
                txn.commit()?;
                txn = self.db.begin_write()?;
                in_batch = 0;
            }
        }
        txn.commit()?;
        Ok(report)
    }
}

fn csv_reason(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 (save the file as UTF-8)".to_string(),
        _ => err.to_string(),
    }
}

/// The columns a file has, by name.
struct Header {
    index: HashMap<&'static str, usize>,
    width: usize,
}

impl Header {
    fn read(csv: &mut csv::Reader<&[u8]>, known: &'static [&'static str], key: &'static str) -> Result<Header> {
        let invalid = |reason: String| Error::invalid("header", reason);
        let names = csv.headers().map_err(|err| invalid(csv_reason(&err)))?;
        let mut index = HashMap::new();
        for (at, name) in names.iter().enumerate() {
            let lower = name.trim().to_ascii_lowercase();
            let Some(&column) = known.iter().find(|&&k| k == lower) else {
                return Err(invalid(format!("unknown column {:?}; the columns are {}", clip(name), known.join(", "))));
            };
            if index.insert(column, at).is_some() {
                return Err(invalid(format!("column {column:?} appears twice")));
            }
        }
        if !index.contains_key(key) {
            return Err(invalid(format!("no {key:?} column")));
        }
        Ok(Header { index, width: names.len() })
    }

    /// The cell of `column`: `None` when the file has no such column.
    fn cell<'r>(&self, record: &'r StringRecord, column: &str) -> Option<&'r str> {
        self.index.get(column).and_then(|&at| record.get(at))
    }

    /// The cell of `column` when the file has it and it is not empty.
    fn value<'r>(&self, record: &'r StringRecord, column: &str) -> Option<&'r str> {
        self.cell(record, column).filter(|v| !v.is_empty())
    }
}

/// A new item or patron without a value it needs; `columns` says which, for people.
fn missing(field: &'static str, columns: &str) -> Error {
    Error::invalid(field, format!("a new row needs a value in {columns}"))
}

fn item_row(txn: &WriteTransaction, header: &Header, record: &StringRecord) -> Result<RowOutcome> {
    let barcode = header.value(record, "barcode").ok_or_else(|| Error::invalid("barcode", "is empty"))?;
    let id = txn.open_table(ITEM_BY_BARCODE)?.get(barcode)?.map(|v| v.value());
    let existing: Option<Item> = match id {
        Some(id) => get_item(&txn.open_table(ITEMS)?, id)?,
        None => None,
    };
    let bib_id = if let Some(bib) = header.value(record, "bib_id") {
        bib.parse::<u64>().map_err(|_| Error::invalid("bib_id", format!("{:?} is not a record id", clip(bib))))?
    } else if let Some(number) = header.value(record, "control_number") {
        let organisation = header.value(record, "control_organisation").unwrap_or("");
        let bib = txn.open_table(BIB_BY_CONTROL)?.get(key_of(organisation, number).as_str())?.map(|v| v.value());
        bib.ok_or_else(|| {
            Error::invalid("control_number", format!("no record with control number {:?}", clip(number)))
        })?
    } else {
        existing.as_ref().map(|e| e.bib_id).ok_or_else(|| missing("record", "bib_id or control_number"))?
    };
    let text = |column: &str, current: Option<&String>| match header.cell(record, column) {
        Some(cell) => cell.to_string(),
        None => current.cloned().unwrap_or_default(),
    };
    let item = NewItem {
        bib_id,
        barcode: barcode.to_string(),
        branch: match header.value(record, "branch") {
            Some(branch) => branch.to_string(),
            None => existing.as_ref().map(|e| e.branch.clone()).ok_or_else(|| missing("branch code", "branch"))?,
        },
        location: text("location", existing.as_ref().map(|e| &e.location)),
        call_number: text("call_number", existing.as_ref().map(|e| &e.call_number)),
        item_type: match header.value(record, "item_type") {
            Some(item_type) => item_type.to_string(),
            None => existing.as_ref().map_or_else(|| "book".to_string(), |e| e.item_type.clone()),
        },
        status: match header.value(record, "status") {
            Some(status) => status.parse()?,
            None => existing.as_ref().map_or(ItemStatus::Available, |e| e.status),
        },
    };
    Ok(match existing {
        Some(existing) => match replace_item(txn, existing.id, &item)? {
            (_, true) => RowOutcome::Updated,
            (_, false) => RowOutcome::Unchanged,
        },
        None => {
            insert_item(txn, &item)?;
            RowOutcome::Created
        }
    })
}

fn patron_row(txn: &WriteTransaction, header: &Header, record: &StringRecord) -> Result<RowOutcome> {
    let card = header.value(record, "card").ok_or_else(|| Error::invalid("card number", "is empty"))?;
    let id = txn.open_table(PATRON_BY_CARD)?.get(card)?.map(|v| v.value());
    let existing: Option<Patron> = match id {
        Some(id) => get_patron(&txn.open_table(PATRONS)?, id)?,
        None => None,
    };
    // A column present sets the value (an empty cell clears it); a column left out keeps it.
    let optional = |column: &str, current: Option<&String>| match header.cell(record, column) {
        Some(cell) => (!cell.is_empty()).then(|| cell.to_string()),
        None => current.cloned(),
    };
    let expiry = match header.cell(record, "expiry") {
        Some("") => None,
        Some(cell) => Some(parse_date(cell)?),
        None => existing.as_ref().and_then(|e| e.expiry),
    };
    let patron = NewPatron {
        card: card.to_string(),
        name: match header.value(record, "name") {
            Some(name) => name.to_string(),
            None => existing.as_ref().map(|e| e.name.clone()).ok_or_else(|| missing("name", "name"))?,
        },
        name_reading: optional("name_reading", existing.as_ref().and_then(|e| e.name_reading.as_ref())),
        category: match header.value(record, "category") {
            Some(category) => category.parse()?,
            None => existing.as_ref().map_or(PatronCategory::Adult, |e| e.category),
        },
        home_branch: match header.value(record, "home_branch") {
            Some(branch) => branch.to_string(),
            None => {
                existing.as_ref().map(|e| e.home_branch.clone()).ok_or_else(|| missing("home branch", "home_branch"))?
            }
        },
        expiry,
        blocked: optional("blocked", existing.as_ref().and_then(|e| e.blocked.as_ref())),
        contact: optional("contact", existing.as_ref().and_then(|e| e.contact.as_ref())),
        grade: match header.cell(record, "grade") {
            Some("") => None,
            Some(cell) => Some(
                cell.parse()
                    .map_err(|_| Error::invalid("grade", format!("{:?} is not a grade (1 to 12)", clip(cell))))?,
            ),
            None => existing.as_ref().and_then(|e| e.grade),
        },
        class: optional("class", existing.as_ref().and_then(|e| e.class.as_ref())),
        reading_record: match header.value(record, "reading_record") {
            Some(cell) => parse_flag("reading_record", cell)?,
            None => existing.as_ref().is_some_and(|e| e.reading_record),
        },
    };
    Ok(match existing {
        Some(existing) => match replace_patron(txn, existing.id, &patron)? {
            (_, true) => RowOutcome::Updated,
            (_, false) => RowOutcome::Unchanged,
        },
        None => {
            insert_patron(txn, &patron)?;
            RowOutcome::Created
        }
    })
}

/// A yes/no cell: `yes`, `true`, `1` or `no`, `false`, `0` (case ignored).
fn parse_flag(field: &'static str, text: &str) -> Result<bool> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        _ => Err(Error::invalid(field, format!("{:?} is not yes or no", clip(text)))),
    }
}

/// A date as `YYYY-MM-DD` or `YYYY/MM/DD` (the way Japanese spreadsheets write it).
fn parse_date(text: &str) -> Result<Date> {
    text.replace('/', "-")
        .parse()
        .map_err(|_| Error::invalid("expiry", format!("{:?} is not a date (YYYY-MM-DD)", clip(text))))
}
