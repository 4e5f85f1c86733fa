//! Cataloguing (目録登録): what a librarian does to describe a book in the staff pages
//! rather than import a file.
//!
//! - `validate.rs`: the checks a record must pass before the catalogue stores it from a
//!   cataloguing form or editor (control fields first, leader and 008 positions, the
//!   repeatability of the common tags, indicators and subfield codes, ISBN check digits),
//!   each problem naming the field at fault;
//! - `form.rs`: the form of the common case (書名・ヨミ・責任表示・著者・出版・ISBN・NDC …)
//!   to a MARC 21 record with the project's JAPAN/MARC conventions (880 vernacular and
//!   reading fields), and back;
//! - `history.rs`: saving a record by id with an expected version (two librarians cannot
//!   overwrite each other), every previous version kept with who and when, diff and
//!   restore, and deleting a record only when no copy is on loan or hold;
//! - `copies.rs`: what cataloguing adds to a copy: its acquisition date, withdrawal
//!   (除籍) with a reason, the barcode ranges of branches;
//! - `callnumber.rs`: the call number (請求記号) suggested from NDC, author reading and volume;
//! - `targets.rs`: the library's copy-cataloguing targets (SRU servers).
//!
//! Tables (created on every open, new in schema 7):
//! - `bib_versions`: `(bib id, version)` -> a previous version of a record (who, when,
//!   source, the record as ISO 2709), written in the transaction that replaces it;
//! - `item_details`: item id -> JSON of what cataloguing knows of a copy beyond its row
//!   (acquisition date, withdrawal);
//! - `cataloguing_settings`: a name -> JSON (`targets`, `barcode_range:{branch}`).

use redb::{TableDefinition, WriteTransaction};

use crate::error::Result;
use crate::marc::record::Record;
use crate::marc::{marcxml, mnemonic};

pub mod callnumber;
pub mod copies;
pub mod form;
pub mod history;
pub mod targets;
pub mod validate;

pub(crate) const BIB_VERSIONS: TableDefinition<'_, (u64, u32), &[u8]> = TableDefinition::new("bib_versions");
pub(crate) const ITEM_DETAILS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("item_details");
pub(crate) const SETTINGS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("cataloguing_settings");

/// Creates the tables if missing (every open).
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(BIB_VERSIONS)?;
    txn.open_table(ITEM_DETAILS)?;
    txn.open_table(SETTINGS)?;
    Ok(())
}

/// A record as the MARC editor shows it: MarcEdit's mnemonic lines (`=245  10$a…`), the
/// leader first, then one line per field in record order; `Err` says why the record cannot
/// be written so (a value holding a MARC delimiter).
pub fn editor_text(record: &Record) -> std::result::Result<String, String> {
    let mut out = String::new();
    mnemonic::write(record, &mut out)?;
    Ok(out)
}

/// The one record of a MARC editor's text; an error names the line. The record's fields
/// are in the order of the lines, so field `i` of the record is line `i + 2` (the leader is
/// line 1) when the text starts with the leader and has no blank lines between fields.
pub fn parse_editor_text(text: &str) -> std::result::Result<Record, String> {
    let mut records = mnemonic::read(text.as_bytes());
    match records.len() {
        0 => Err("empty: write the leader (=LDR) and the fields, one per line".to_string()),
        1 => records.pop().map_or_else(|| Err("empty".to_string()), |r| r.result),
        n => Err(format!("{n} records: the editor holds one record (remove the blank lines between fields)")),
    }
}

/// The one record of a MARCXML document (`<record>` or a `<collection>` of one).
pub fn parse_marcxml_record(data: &[u8]) -> std::result::Result<Record, String> {
    let mut records = marcxml::read(data);
    match records.len() {
        0 => Err("no MARCXML <record> in the MARC 21 slim namespace".to_string()),
        1 => records.pop().map_or_else(|| Err("empty".to_string()), |r| r.result),
        n => Err(format!("{n} records: send one record at a time")),
    }
}
