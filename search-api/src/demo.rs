//! The demo library of `shiori serve --demo`: real records (Library of Congress records
//! from the pymarc 5.4.0 sdist, and Japanese books the project catalogued from facts, see
//! `fixtures/demo/README.md`), two branches, copies, demo patrons and some loans. All of it
//! is embedded in the binary, so the demo needs no files and no network.
//!
//! Creating it is idempotent (records by control number, items by barcode, patrons by card,
//! a loan only for a copy not yet lent), and a marker file is written last: a start that
//! was interrupted half-way simply finishes the job on the next start.

use std::io::Write;

use anyhow::Context;
use catalogue::{Branch, Catalogue, DataLayout, System, TenantCode};

/// The demo library's code.
pub const DEMO_TENANT: &str = "demo";
const DEMO_NAME: &str = "栞デモ図書館 (Shiori demo library)";

const RECORDS: [(&str, &[u8]); 2] = [
    ("japanese-demo.mrc", include_bytes!("../../fixtures/demo/japanese-demo.mrc")),
    ("lc-demo.mrc", include_bytes!("../../fixtures/demo/lc-demo.mrc")),
];
const BRANCHES: &str = include_str!("../../fixtures/demo/branches.tsv");
const ITEMS: &str = include_str!("../../fixtures/demo/items.tsv");
const PATRONS: &str = include_str!("../../fixtures/demo/patrons.tsv");
const LOANS: &str = include_str!("../../fixtures/demo/loans.tsv");

const MARKER: &str = "demo-complete";

/// The demo patron printed with the demo credentials (every demo patron has the same
/// password, so any card of `fixtures/demo/patrons.tsv` logs in to the OPAC).
pub const DEMO_PATRON_CARD: &str = "2000000001";
/// The demo patrons' OPAC password: known, like everything of demo mode.
pub const DEMO_PATRON_PASSWORD: &str = "shiori-demo-yomu";

/// What setting up the demo found or did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// True when the demo library already existed (nothing was done).
    pub existed: bool,
    /// Records in the catalogue.
    pub records: u64,
    /// Items imported.
    pub items: u64,
    /// Loans made.
    pub loans: u64,
}

/// Creates the demo library in `layout` unless it is complete already.
pub fn ensure(layout: &DataLayout) -> anyhow::Result<DemoReport> {
    let code: TenantCode = DEMO_TENANT.parse()?;
    let marker = layout.tenant_dir(&code).join(MARKER);
    let system = System::open(layout)?;
    if marker.exists() {
        let catalogue = Catalogue::open(layout, &code)?;
        // A demo library made before patrons had passwords gets them now.
        ensure_patron_passwords(&catalogue)?;
        let records = catalogue.len()?;
        return Ok(DemoReport { existed: true, records, ..DemoReport::default() });
    }
    if system.tenant(&code)?.is_none() {
        system.create_tenant(&code, DEMO_NAME)?;
    }
    drop(system);
    let catalogue = Catalogue::open(layout, &code)?;
    for (name, bytes) in RECORDS {
        let records = catalogue::read_records(bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let mut batch = Vec::new();
        for record in records {
            let (record, _) = record.result.map_err(|e| anyhow::anyhow!("{name} record {}: {e}", record.ordinal))?;
            batch.push(record);
        }
        catalogue.upsert(batch, name)?;
    }
    for row in rows(BRANCHES) {
        let [code, name_ja, name_en] = columns(&row, "branches.tsv")?;
        catalogue.put_branch(&Branch { code: code.into(), name_ja: name_ja.into(), name_en: name_en.into() })?;
    }
    let items = catalogue.import_items(ITEMS.as_bytes())?;
    anyhow::ensure!(items.rejected.is_empty(), "demo items refused: {:?}", items.rejected.first());
    let patrons = catalogue.import_patrons(PATRONS.as_bytes())?;
    anyhow::ensure!(patrons.rejected.is_empty(), "demo patrons refused: {:?}", patrons.rejected.first());
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).date();
    let mut loans = 0;
    for row in rows(LOANS) {
        let [barcode, card, due_in_days, out_days_ago] = columns(&row, "loans.tsv")?;
        let days = |value: &str| -> anyhow::Result<i64> {
            value.parse().with_context(|| format!("loans.tsv: {value:?} is not a number of days"))
        };
        let on_loan = catalogue.item_by_barcode(barcode)?.is_some_and(|i| i.status == catalogue::ItemStatus::OnLoan);
        if !on_loan {
            // Lent some days ago, so an overdue loan was not overdue the day it was made.
            let due = today.checked_add(jiff::Span::new().days(days(due_in_days)?))?;
            let out = now.checked_sub(jiff::SignedDuration::from_hours(24 * days(out_days_ago)?))?;
            catalogue.checkout_until(barcode, card, due, out)?;
            loans += 1;
        }
    }
    ensure_patron_passwords(&catalogue)?;
    let records = catalogue.len()?;
    let mut file = std::fs::File::create(&marker).with_context(|| format!("creating {}", marker.display()))?;
    writeln!(file, "demo library created {now}: {records} records, {} items, {loans} loans", items.read)?;
    Ok(DemoReport { existed: false, records, items: items.read, loans })
}

/// Gives every demo patron without a password [`DEMO_PATRON_PASSWORD`].
fn ensure_patron_passwords(catalogue: &Catalogue) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    for row in rows(PATRONS) {
        let [card] = columns(&row, "patrons.tsv")?;
        if let Some(patron) = catalogue.patron_by_card(card)?
            && !catalogue.patron_has_password(patron.id)?
        {
            catalogue.set_patron_password(card, DEMO_PATRON_PASSWORD, now)?;
        }
    }
    Ok(())
}

/// The data lines of an embedded TSV (header and blank lines left out).
fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split('\t').collect())
}

fn columns<'a, const N: usize>(row: &[&'a str], file: &str) -> anyhow::Result<[&'a str; N]> {
    row.get(..N)
        .and_then(|c| <[&str; N]>::try_from(c).ok())
        .with_context(|| format!("{file}: a row has fewer than {N} columns"))
}
