//! What OAI-PMH reads: an entry per record at its last change, tombstones that stay, sets
//! from the NDC classes, a snapshot that does not see later changes, and the 5 -> 6
//! migration of a file that already has records and deletions.

use catalogue::{Catalogue, Field, OaiSelection, OaiSet, Outcome, Record, Subfield, TenantCode};

use crate::circulation::{record, set_schema, table_names, version_6_tables};
use crate::fixtures::Scratch;

fn classified(number: &str, title: &str, ndc: &[&str]) -> Record {
    let mut record = record(number, title);
    for class in ndc {
        record.fields.push(Field::Data {
            tag: "084".parse().unwrap(),
            ind1: ' ',
            ind2: ' ',
            subfields: vec![
                Subfield { code: 'a', value: (*class).to_string() },
                Subfield { code: '2', value: "njb/09".to_string() },
            ],
        });
    }
    record
}

fn created(outcome: Outcome) -> u64 {
    match outcome {
        Outcome::Created(id) => id,
        other => panic!("{other:?}"),
    }
}

/// (bib id, deleted) of every entry of a selection, a page of `limit` at a time.
fn all(catalogue: &Catalogue, selection: &OaiSelection, limit: usize) -> Vec<(u64, bool)> {
    let snapshot = catalogue.oai_snapshot().unwrap();
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = snapshot.page(selection, after, limit, true).unwrap();
        for entry in &page {
            assert_eq!(entry.record.is_some(), !entry.deleted, "a record with metadata unless deleted");
        }
        out.extend(page.iter().map(|e| (e.bib_id, e.deleted)));
        after = page.last().map(|e| (e.datestamp, e.bib_id));
        if !more {
            return out;
        }
        assert!(!page.is_empty());
    }
}

#[test]
fn entries_follow_changes_deletions_stay_and_sets_come_from_ndc() {
    let scratch = Scratch::new("oai-entries");
    let catalogue = scratch.catalogue("oai-city");
    let outcomes = catalogue
        .upsert(
            vec![
                classified("n1", "こころ", &["913.6"]),
                classified("n2", "物理学入門", &["420", "913"]),
                classified("n3", "図書館のひみつ", &["010"]),
                record("n4", "Untitled LC record"),
            ],
            "a.mrc",
        )
        .unwrap();
    let ids: Vec<u64> = outcomes.into_iter().map(created).collect();
    let everything = OaiSelection::default();
    assert_eq!(all(&catalogue, &everything, 2), ids.iter().map(|&id| (id, false)).collect::<Vec<_>>());

    // Sets: the NDC first-level classes; `ndc` is every record with one.
    let literature = OaiSelection { set: Some(OaiSet::NdcClass(b'9')), ..Default::default() };
    assert_eq!(all(&catalogue, &literature, 1), vec![(ids[0], false), (ids[1], false)]);
    let with_ndc = OaiSelection { set: Some(OaiSet::Ndc), ..Default::default() };
    assert_eq!(catalogue.oai_snapshot().unwrap().count(&with_ndc).unwrap(), 3);
    let (classes, any) = catalogue.oai_snapshot().unwrap().class_counts().unwrap();
    assert_eq!((classes[0], classes[4], classes[9], classes[5], any), (1, 1, 2, 0, 3));

    // A snapshot taken now does not see what follows.
    let before = catalogue.oai_snapshot().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // The first record changes class and moves to the end; the third is deleted.
    catalogue.upsert(vec![classified("n1", "こころ", &["210"])], "b.mrc").unwrap();
    assert!(catalogue.delete(ids[2]).unwrap());
    assert_eq!(
        all(&catalogue, &everything, 10),
        vec![(ids[1], false), (ids[3], false), (ids[0], false), (ids[2], true)]
    );
    assert_eq!(all(&catalogue, &literature, 10), vec![(ids[1], false)], "no longer in class 9");
    let (old, _) = before.page(&everything, None, 10, false).unwrap();
    assert_eq!(
        old.iter().map(|e| (e.bib_id, e.deleted)).collect::<Vec<_>>(),
        ids.iter().map(|&id| (id, false)).collect::<Vec<_>>()
    );

    // from/until select by datestamp, inclusive; the tombstone keeps its sets.
    let changed_at = catalogue.oai_snapshot().unwrap().entry(ids[0], false).unwrap().unwrap().datestamp;
    let recent = OaiSelection { from: Some(changed_at), ..Default::default() };
    assert_eq!(all(&catalogue, &recent, 10), vec![(ids[0], false), (ids[2], true)]);
    let older = OaiSelection { until: Some(changed_at - 1), ..Default::default() };
    assert_eq!(all(&catalogue, &older, 10), vec![(ids[1], false), (ids[3], false)]);
    let tombstone = catalogue.oai_snapshot().unwrap().entry(ids[2], true).unwrap().unwrap();
    assert!(tombstone.deleted && tombstone.record.is_none());
    assert_eq!(tombstone.sets, vec![OaiSet::Ndc, OaiSet::NdcClass(b'0')]);
    assert_eq!(catalogue.oai_snapshot().unwrap().entry(999, false).unwrap(), None);
    // Re-importing an identical record changes nothing, datestamp included.
    catalogue.upsert(vec![record("n4", "Untitled LC record")], "c.mrc").unwrap();
    assert_eq!(all(&catalogue, &everything, 10).len(), 4);
    assert_eq!(all(&catalogue, &older, 10), vec![(ids[1], false), (ids[3], false)]);
}

#[test]
fn a_schema_5_file_gets_an_entry_per_record_and_tombstones_from_the_feed() {
    let scratch = Scratch::new("oai-migrate");
    let tenant: TenantCode = "old-city".parse().unwrap();
    let catalogue = scratch.catalogue("old-city");
    let ids: Vec<u64> = catalogue
        .upsert(vec![classified("m1", "坊っちゃん", &["913.6"]), record("m2", "b"), record("m3", "c")], "old.mrc")
        .unwrap()
        .into_iter()
        .map(created)
        .collect();
    assert!(catalogue.delete(ids[1]).unwrap());
    let bibs = catalogue.bibs_after(None, usize::MAX).unwrap();
    drop(catalogue);

    set_schema(&scratch.layout, &tenant, 5, true);
    let names = table_names(&scratch.layout, &tenant);
    assert!(version_6_tables().0.iter().all(|t| !names.contains(*t)), "a version-5 file: {names:?}");

    let catalogue = Catalogue::open(&scratch.layout, &tenant).unwrap();
    assert_eq!(catalogue.schema_version().unwrap(), catalogue::SCHEMA_VERSION);
    let entries = all(&catalogue, &OaiSelection::default(), 10);
    assert_eq!(entries.len(), 3);
    assert!(
        entries.contains(&(ids[0], false)) && entries.contains(&(ids[2], false)) && entries.contains(&(ids[1], true))
    );
    let snapshot = catalogue.oai_snapshot().unwrap();
    for bib in &bibs {
        assert_eq!(snapshot.entry(bib.id, false).unwrap().unwrap().datestamp, bib.updated, "at its last change");
    }
    assert_eq!(snapshot.entry(ids[0], false).unwrap().unwrap().sets, vec![OaiSet::Ndc, OaiSet::NdcClass(b'9')]);
}

#[test]
fn after_a_restore_harvesters_see_every_record_again_and_what_went_away_as_deleted() {
    let scratch = Scratch::new("oai-restore");
    let tenant: TenantCode = "restored-city".parse().unwrap();
    let catalogue = scratch.catalogue("restored-city");
    let kept = created(catalogue.upsert(vec![classified("r1", "ぐりとぐら", &["913"])], "a").unwrap()[0]);
    let doomed = created(catalogue.upsert(vec![record("r2", "銀河鉄道の夜")], "a").unwrap()[0]);
    let backed_up = jiff::Timestamp::now();
    catalogue.backup(&scratch.layout, backed_up).unwrap();
    // After the backup: one record deleted, one added (in class 4), both harvested since.
    assert!(catalogue.delete(doomed).unwrap());
    let later = created(catalogue.upsert(vec![classified("r3", "後から来た本", &["410"])], "b").unwrap()[0]);
    drop(catalogue);

    let restore_at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    catalogue::restore_backup(&scratch.layout, &tenant, None, restore_at).unwrap();
    let catalogue = Catalogue::open(&scratch.layout, &tenant).unwrap();
    let since = OaiSelection { from: Some(restore_at.as_second()), ..Default::default() };
    // Everything of the restored catalogue is stamped at the restore, and the record that
    // the backup never had is deleted, still in its set.
    assert_eq!(all(&catalogue, &since, 10), vec![(kept, false), (doomed, false), (later, true)]);
    let gone = catalogue.oai_snapshot().unwrap().entry(later, false).unwrap().unwrap();
    assert_eq!(gone.sets, vec![OaiSet::Ndc, OaiSet::NdcClass(b'4')]);
    assert!(catalogue.get(later).unwrap().is_none());
}
