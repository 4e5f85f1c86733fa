//! The catalogue against a model: random sequences of imports, identical re-imports, edits
//! (same 003 + 001, other content), deletes, records without 001, pruning of the change feed
//! and reopening are applied to a real [`Catalogue`] in a temporary data folder and to a
//! plain `BTreeMap`, and the two are compared after every step. The change feed is followed
//! as the indexer follows it: every step must append exactly the changes the model predicts,
//! with no gap in the sequence numbers, and replaying the whole feed from the start (re-reading
//! each changed bib) must rebuild exactly the records the store holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use catalogue::{
    Catalogue, Change, ChangeKind, DataLayout, Field, Outcome, Record, StoredBib, Subfield, System, Tag, TenantCode,
};
use proptest::collection::vec;
use proptest::prelude::*;

const LEADER: &str = "00000nam a2200000 i 4500";

/// 003 values; `None` is a record without 003, and a blank 003 is as good as none.
const ORGANISATIONS: [Option<&str>; 4] = [None, Some("JTNDL"), Some("DLC"), Some("  ")];

/// 001 values. The third is the first with blanks around it: the same control number, so
/// importing it updates the record the first created.
const NUMBERS: [&str; 4] = ["jp0001", "jp0002", " jp0001 ", "2016123456"];

const TITLES: [&str; 6] = ["ぐりとぐら", "こゝろ", "吾輩は猫である", "銀河鉄道の夜", "i", "羅生門"];

/// 020 $a values and the ISBN-13 each one stands for; the last has a wrong check digit and is
/// never indexed. ぐりとぐら and 岩波文庫's こゝろ appear in several forms.
const ISBNS: [(&str, Option<&str>); 7] = [
    ("9784591164457", Some("9784591164457")),
    ("978-4-8340-0082-5", Some("9784834000825")),
    ("4-8340-0082-6", Some("9784834000825")),
    ("4834000826 (上製)", Some("9784834000825")),
    ("4-00-310101-4", Some("9784003101018")),
    ("9784003101018", Some("9784003101018")),
    ("4-00-310101-5", None),
];

// ---------------------------------------------------------------------------------------
// Operations

/// How a generated record carries its control number.
#[derive(Debug, Clone, Copy)]
enum Number {
    /// 001 is `NUMBERS[i]`.
    Given(usize),
    /// No 001 field: the store generates a number from the content.
    Missing,
    /// A 001 field of blanks: as good as missing.
    Blank,
}

/// A record to import, as indexes into the pools above.
#[derive(Debug, Clone)]
struct Spec {
    organisation: usize,
    number: Number,
    title: usize,
    isbns: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Op {
    /// One `upsert` call (one transaction) of one to three records, new or not.
    Import(Vec<Spec>),
    /// The n-th live record again: exactly as last imported (possibly without 001), or as
    /// stored (with its generated 001). Must change nothing.
    Reimport { nth: usize, as_stored: bool },
    /// The n-th live record with the same 003 + 001 and another title and ISBNs.
    Edit { nth: usize, title: usize, isbns: Vec<usize> },
    /// Delete the n-th live record.
    Delete { nth: usize },
    /// Delete a bib id that is not live: `false`, no change.
    DeleteMissing,
    /// `prune_changes_below(checkpoint)`.
    Prune { checkpoint: u64 },
    /// Drop the catalogue and open it again.
    Reopen,
}

fn spec() -> impl Strategy<Value = Spec> {
    let number = prop_oneof![
        3 => (0..NUMBERS.len()).prop_map(Number::Given),
        1 => Just(Number::Missing),
        1 => Just(Number::Blank),
    ];
    (0..ORGANISATIONS.len(), number, 0..TITLES.len(), vec(0..ISBNS.len(), 0..=2))
        .prop_map(|(organisation, number, title, isbns)| Spec { organisation, number, title, isbns })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => vec(spec(), 1..=3).prop_map(Op::Import),
        2 => (0..8usize, any::<bool>()).prop_map(|(nth, as_stored)| Op::Reimport { nth, as_stored }),
        2 => (0..8usize, 0..TITLES.len(), vec(0..ISBNS.len(), 0..=2))
            .prop_map(|(nth, title, isbns)| Op::Edit { nth, title, isbns }),
        2 => (0..8usize).prop_map(|nth| Op::Delete { nth }),
        1 => Just(Op::DeleteMissing),
        1 => (0..64u64).prop_map(|checkpoint| Op::Prune { checkpoint }),
        1 => Just(Op::Reopen),
    ]
}

// ---------------------------------------------------------------------------------------
// Records

/// Whatever goes wrong in the store; an assertion failure is a panic.
type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn tag(name: &str) -> Tag {
    name.parse().unwrap_or_else(|()| panic!("bad tag {name:?}"))
}

fn control(name: &str, value: &str) -> Field {
    Field::Control { tag: tag(name), value: value.to_string() }
}

fn data(name: &str, ind1: char, ind2: char, subfields: &[(char, &str)]) -> Field {
    Field::Data {
        tag: tag(name),
        ind1,
        ind2,
        subfields: subfields.iter().map(|&(code, value)| Subfield { code, value: value.to_string() }).collect(),
    }
}

/// The 020s and 245 of a record with this title and these ISBNs.
fn description(title: usize, isbns: &[usize]) -> Vec<Field> {
    let mut fields: Vec<Field> = isbns.iter().map(|&i| data("020", ' ', ' ', &[('a', ISBNS[i].0)])).collect();
    fields.push(data("245", '1', '0', &[('a', TITLES[title]), ('c', "作者不詳")]));
    fields
}

impl Spec {
    fn record(&self) -> Record {
        let mut fields = Vec::new();
        match self.number {
            Number::Given(n) => fields.push(control("001", NUMBERS[n])),
            Number::Blank => fields.push(control("001", "   ")),
            Number::Missing => {}
        }
        if let Some(organisation) = ORGANISATIONS[self.organisation] {
            fields.push(control("003", organisation));
        }
        fields.extend(description(self.title, &self.isbns));
        Record { leader: LEADER.to_string(), fields }
    }
}

fn control_value(record: &Record, name: &str) -> Option<String> {
    record.fields.iter().find_map(|field| match field {
        Field::Control { tag: t, value } if *t == tag(name) => Some(value.trim().to_string()),
        _ => None,
    })
}

/// The record's 001, trimmed, unless missing or blank.
fn number_of(record: &Record) -> Option<String> {
    control_value(record, "001").filter(|n| !n.is_empty())
}

/// The record's 003, trimmed ("" when missing).
fn organisation_of(record: &Record) -> String {
    control_value(record, "003").unwrap_or_default()
}

/// The record with its 001 set to `number`: replaced where it is, else added in tag order.
fn with_number(record: &Record, number: &str) -> Record {
    let mut record = record.clone();
    let tag_001 = tag("001");
    if let Some(Field::Control { value, .. }) = record.fields.iter_mut().find(|f| f.tag() == tag_001) {
        *value = number.to_string();
    } else {
        let at = record.fields.iter().position(|f| f.tag() > tag_001).unwrap_or(record.fields.len());
        record.fields.insert(at, control("001", number));
    }
    record
}

/// True when one of the record's 020 $a stands for `isbn13`.
fn carries(record: &Record, isbn13: &str) -> bool {
    record
        .fields
        .iter()
        .filter(|f| f.tag() == tag("020"))
        .flat_map(|f| f.subfield_values('a'))
        .any(|value| ISBNS.iter().any(|&(form, canonical)| form == value && canonical == Some(isbn13)))
}

// ---------------------------------------------------------------------------------------
// The model

/// A live record as the model knows it.
#[derive(Debug)]
struct Live {
    id: u64,
    /// The record as the store must hold it (with its generated 001 if it came without).
    stored: Record,
    /// The record as last imported (perhaps without 001).
    imported: Record,
    version: u32,
    source: String,
}

#[derive(Default)]
struct Model {
    /// (003, 001), both trimmed -> the live record.
    live: BTreeMap<(String, String), Live>,
    /// Records imported without 001, by content, and the number generated for each.
    generated: Vec<(Record, String)>,
    /// Every key ever stored, to check deleted ones are no longer found.
    seen: BTreeSet<(String, String)>,
    /// Bib ids deleted so far.
    deleted: Vec<u64>,
    /// Every change read from the feed since the start, read after each step and before any
    /// prune: the feed as an indexer followed it.
    journal: Vec<Change>,
    /// What the feed must still hold after the prunes so far.
    feed: Vec<Change>,
}

impl Model {
    fn nth_live(&self, nth: usize) -> Option<&Live> {
        let len = self.live.len();
        (len > 0).then(|| self.live.values().nth(nth % len)).flatten()
    }

    /// Checks one outcome of an `upsert` against the model and applies it; pushes the change
    /// the feed must show.
    fn upsert(
        &mut self,
        catalogue: &Catalogue,
        record: Record,
        outcome: Outcome,
        source: &str,
        changes: &mut Vec<(ChangeKind, u64)>,
    ) -> TestResult {
        let (number, stored) = match number_of(&record) {
            Some(number) => (number, record.clone()),
            None => {
                let known = self.generated.iter().find(|(content, _)| *content == record).map(|(_, n)| n.clone());
                let number = match known {
                    Some(number) => number,
                    None => {
                        // Content never seen: the store made a number up; learn it from the
                        // record it stored.
                        let Outcome::Created(id) = outcome else {
                            panic!("a record without 001 never imported before gave {outcome:?}: {record:?}")
                        };
                        let bib = catalogue.get(id)?.ok_or("a Created bib is missing")?;
                        let number = number_of(&bib.record()?).ok_or("a stored record has no 001")?;
                        assert!(number.starts_with("SH"), "generated control number {number:?}");
                        assert!(
                            self.generated.iter().all(|(_, other)| *other != number),
                            "two different records without 001 were given the same number {number}"
                        );
                        self.generated.push((record.clone(), number.clone()));
                        number
                    }
                };
                let stored = with_number(&record, &number);
                (number, stored)
            }
        };
        let key = (organisation_of(&record), number);
        self.seen.insert(key.clone());
        let expected = match self.live.get_mut(&key) {
            Some(live) if live.stored == stored => Outcome::Unchanged(live.id),
            Some(live) => {
                live.stored = stored;
                live.imported = record;
                live.version += 1;
                live.source = source.to_string();
                changes.push((ChangeKind::Updated, live.id));
                Outcome::Updated(live.id)
            }
            None => {
                let Outcome::Created(id) = outcome else {
                    panic!("{key:?} is not in the catalogue: expected Created, got {outcome:?}")
                };
                assert!(self.live.values().all(|l| l.id != id), "bib id {id} given to {key:?} is in use");
                self.live
                    .insert(key.clone(), Live { id, stored, imported: record, version: 1, source: source.to_string() });
                changes.push((ChangeKind::Created, id));
                Outcome::Created(id)
            }
        };
        assert_eq!(outcome, expected, "outcome for {key:?}");
        Ok(())
    }

    /// Reads the changes appended by the last step: exactly `expected`, numbered on from
    /// the last one read.
    fn follow_feed(&mut self, catalogue: &Catalogue, expected: &[(ChangeKind, u64)]) -> TestResult {
        let last = self.journal.last().map_or(0, |c| c.seq);
        let new = catalogue.changes_after(last, usize::MAX)?;
        let seqs: Vec<u64> = new.iter().map(|c| c.seq).collect();
        let want: Vec<u64> = (last + 1..=last + expected.len() as u64).collect();
        assert_eq!(seqs, want, "sequence numbers of the changes appended after {last}");
        let got: Vec<(ChangeKind, u64)> = new.iter().map(|c| (c.kind, c.bib_id)).collect();
        assert_eq!(got, expected, "changes appended after seq {last}");
        self.journal.extend_from_slice(&new);
        self.feed.extend_from_slice(&new);
        Ok(())
    }
}

/// Compares the whole store with the model.
fn check(catalogue: &Catalogue, model: &Model) -> TestResult {
    assert_eq!(catalogue.len()?, model.live.len() as u64, "len");
    assert_eq!(catalogue.is_empty()?, model.live.is_empty(), "is_empty");

    // A full scan, in small pages.
    let mut scanned: BTreeMap<u64, StoredBib> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = catalogue.bibs_after(after, 3)?;
        assert!(page.len() <= 3, "a page of {} for a limit of 3", page.len());
        if page.is_empty() {
            break;
        }
        for bib in page {
            assert!(after < Some(bib.id), "bibs_after({after:?}) gave bib {} out of order", bib.id);
            after = Some(bib.id);
            scanned.insert(bib.id, bib);
        }
    }
    let live_ids: BTreeSet<u64> = model.live.values().map(|l| l.id).collect();
    assert_eq!(scanned.keys().copied().collect::<BTreeSet<_>>(), live_ids, "bib ids of a full scan");

    for ((organisation, number), live) in &model.live {
        assert_eq!(
            catalogue.find_by_control_number(organisation, number)?,
            Some(live.id),
            "find_by_control_number({organisation:?}, {number:?})"
        );
        let bib = &scanned[&live.id];
        assert_eq!(catalogue.get(live.id)?.as_ref(), Some(bib), "get({})", live.id);
        assert_eq!(bib.record()?.fields, live.stored.fields, "fields of bib {}", live.id);
        assert_eq!(bib.version, live.version, "version of bib {}", live.id);
        assert_eq!(bib.source, live.source, "source of bib {}", live.id);
    }
    for (organisation, number) in model.seen.iter().filter(|key| !model.live.contains_key(*key)) {
        assert_eq!(
            catalogue.find_by_control_number(organisation, number)?,
            None,
            "deleted ({organisation:?}, {number:?}) is still found"
        );
    }
    for (form, isbn13) in ISBNS {
        let mut expected: Vec<u64> = match isbn13 {
            Some(isbn13) => model.live.values().filter(|l| carries(&l.stored, isbn13)).map(|l| l.id).collect(),
            None => Vec::new(),
        };
        let mut found = catalogue.find_by_isbn(form)?;
        expected.sort_unstable();
        found.sort_unstable();
        assert_eq!(found, expected, "find_by_isbn({form:?})");
    }

    // The feed: numbered 1, 2, 3… without gaps; what pruning left is exactly the tail.
    let total = model.journal.len() as u64;
    assert!(model.journal.iter().map(|c| c.seq).eq(1..=total), "journal sequence numbers");
    assert_eq!(catalogue.last_change_seq()?, total, "last_change_seq");
    assert_eq!(catalogue.changes_after(0, usize::MAX)?, model.feed, "the feed after pruning");
    let mut paged = Vec::new();
    let mut after = 0;
    while let Some(last) = {
        let page = catalogue.changes_after(after, 2)?;
        assert!(page.len() <= 2);
        paged.extend_from_slice(&page);
        page.last().copied()
    } {
        after = last.seq;
    }
    assert_eq!(paged, model.feed, "the feed read two changes at a time");

    // Replaying every change ever made onto an empty map rebuilds the store.
    let mut replayed: BTreeMap<u64, StoredBib> = BTreeMap::new();
    for change in &model.journal {
        let current = match change.kind {
            ChangeKind::Deleted => None,
            ChangeKind::Created | ChangeKind::Updated | ChangeKind::Holdings => catalogue.get(change.bib_id)?,
        };
        match current {
            Some(bib) => replayed.insert(change.bib_id, bib),
            None => replayed.remove(&change.bib_id),
        };
    }
    assert_eq!(replayed, scanned, "replay of the change feed");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Running a sequence

/// A data folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("shiori-model-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(ops: &[Op]) -> TestResult {
    let dir = TempDir::new();
    let layout = DataLayout::new(&dir.0);
    let tenant: TenantCode = "model-city".parse()?;
    System::open(&layout)?.create_tenant(&tenant, "模型市立図書館")?;
    let mut catalogue = Catalogue::open(&layout, &tenant)?;
    let mut model = Model::default();
    check(&catalogue, &model)?;

    for (step, op) in ops.iter().enumerate() {
        let source = format!("step-{step}.mrc");
        let mut changes = Vec::new();
        let import = |records: Vec<Record>, model: &mut Model, changes: &mut Vec<(ChangeKind, u64)>| {
            let outcomes = catalogue.upsert(records.clone(), &source)?;
            assert_eq!(outcomes.len(), records.len(), "one outcome per record");
            for (record, outcome) in records.into_iter().zip(outcomes) {
                model.upsert(&catalogue, record, outcome, &source, changes)?;
            }
            TestResult::Ok(())
        };
        match op {
            Op::Import(specs) => import(specs.iter().map(Spec::record).collect(), &mut model, &mut changes)?,
            Op::Reimport { nth, as_stored } => {
                if let Some(live) = model.nth_live(*nth) {
                    let record = if *as_stored { live.stored.clone() } else { live.imported.clone() };
                    import(vec![record], &mut model, &mut changes)?;
                    assert!(changes.is_empty(), "re-importing an identical record changed it");
                }
            }
            Op::Edit { nth, title, isbns } => {
                if let Some(live) = model.nth_live(*nth) {
                    let mut fields: Vec<Field> =
                        live.stored.fields.iter().filter(|f| f.tag().is_control()).cloned().collect();
                    fields.extend(description(*title, isbns));
                    let record = Record { leader: LEADER.to_string(), fields };
                    import(vec![record], &mut model, &mut changes)?;
                }
            }
            Op::Delete { nth } => {
                if let Some(live) = model.nth_live(*nth) {
                    let id = live.id;
                    assert!(catalogue.delete(id)?, "delete({id}) of a live record");
                    model.live.retain(|_, l| l.id != id);
                    model.deleted.push(id);
                    changes.push((ChangeKind::Deleted, id));
                }
            }
            Op::DeleteMissing => {
                let live: BTreeSet<u64> = model.live.values().map(|l| l.id).collect();
                let id = model.deleted.iter().rev().copied().find(|id| !live.contains(id)).unwrap_or(1_000_000);
                assert!(!catalogue.delete(id)?, "delete({id}) of a bib that is not there");
            }
            Op::Prune { checkpoint } => {
                let below = model.feed.iter().filter(|c| c.seq < *checkpoint).count() as u64;
                assert_eq!(catalogue.prune_changes_below(*checkpoint)?, below, "prune below {checkpoint}");
                model.feed.retain(|c| c.seq >= *checkpoint);
            }
            Op::Reopen => {
                drop(catalogue);
                catalogue = Catalogue::open(&layout, &tenant)?;
            }
        }
        model.follow_feed(&catalogue, &changes)?;
        check(&catalogue, &model)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_catalogue_behaves_like_a_map(ops in vec(op(), 1..=40)) {
        run(&ops).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

/// Every kind of step at least once, whatever the random cases draw.
#[test]
fn a_scripted_sequence_agrees_with_the_model() -> TestResult {
    let given = |organisation, number, title, isbns: &[usize]| Spec {
        organisation,
        number: Number::Given(number),
        title,
        isbns: isbns.to_vec(),
    };
    let without = |number, title, isbns: &[usize]| Spec { organisation: 1, number, title, isbns: isbns.to_vec() };
    run(&[
        Op::Import(vec![given(1, 0, 0, &[1]), given(2, 1, 1, &[4, 6]), without(Number::Missing, 2, &[0])]),
        // The same three again: nothing changes, not even the record without 001.
        Op::Import(vec![given(1, 0, 0, &[1]), given(2, 1, 1, &[4, 6]), without(Number::Missing, 2, &[0])]),
        // " jp0001 " is jp0001: an update of the first record, found by its ISBN-10 form.
        Op::Import(vec![given(1, 2, 3, &[2])]),
        Op::Reimport { nth: 0, as_stored: false },
        Op::Reimport { nth: 0, as_stored: true },
        Op::Edit { nth: 1, title: 4, isbns: vec![3] },
        Op::Import(vec![without(Number::Blank, 5, &[]), without(Number::Blank, 5, &[])]),
        Op::Prune { checkpoint: 4 },
        Op::Reopen,
        Op::Delete { nth: 0 },
        Op::DeleteMissing,
        Op::Import(vec![without(Number::Missing, 2, &[0])]),
        Op::Prune { checkpoint: 100 },
        Op::Reopen,
        Op::Import(vec![given(0, 3, 0, &[5]), given(0, 3, 1, &[5])]),
        Op::Delete { nth: 3 },
        Op::Reopen,
    ])
}
