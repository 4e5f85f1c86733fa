//! Backups (issue 6): generations named by the time in Japan, three kept, a snapshot
//! consistent while writers commit, every table copied, restore of the latest or a named
//! generation only while the library is closed, and the index removed after a restore.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use catalogue::{
    BACKUP_GENERATIONS, Branch, Catalogue, ChangeKind, Error, Field, NewItem, Outcome, Record, Subfield, TenantCode,
    list_backups, restore_backup,
};
use jiff::{SignedDuration, Timestamp};

use crate::fixtures::Scratch;

fn record(number: &str, title: &str) -> Record {
    Record {
        leader: "00000nam a2200000 i 4500".to_string(),
        fields: vec![
            Field::Control { tag: "001".parse().unwrap(), value: number.to_string() },
            Field::Data {
                tag: "245".parse().unwrap(),
                ind1: '1',
                ind2: '0',
                subfields: vec![Subfield { code: 'a', value: title.to_string() }],
            },
        ],
    }
}

/// 2026-04-01 03:00 in Japan.
fn three_am() -> Timestamp {
    "2026-03-31T18:00:00Z".parse().unwrap()
}

fn created(outcomes: &[Outcome]) -> u64 {
    match outcomes[0] {
        Outcome::Created(id) => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn three_generations_are_kept_and_the_oldest_removed() {
    let scratch = Scratch::new("backup-generations");
    let catalogue = scratch.catalogue("tosho");
    let code = catalogue.tenant().clone();
    let dir = scratch.layout.backups_dir(&code);
    let mut names = Vec::new();
    for day in 0..5 {
        catalogue.upsert(vec![record(&format!("jp{day}"), &format!("本 {day}"))], "test").unwrap();
        if day == 3 {
            // What an interrupted backup leaves is removed by the next one.
            std::fs::write(dir.join("20260403T030000.000+0900.redb.partial"), b"half").unwrap();
        }
        let at = three_am() + SignedDuration::from_hours(24 * day);
        let report = catalogue.backup(&scratch.layout, at).unwrap();
        assert_eq!(report.backup.name, format!("2026040{}T030000.000+0900", day + 1));
        assert_eq!(report.tables["bibs"], day as u64 + 1, "the backup holds every record so far");
        assert_eq!(report.removed.len(), usize::from(day >= 3), "day {day}: {:?}", report.removed);
        names.push(report.backup.name);
    }
    let kept: Vec<String> = list_backups(&scratch.layout, &code).unwrap().into_iter().map(|b| b.name).collect();
    assert_eq!(kept.len(), BACKUP_GENERATIONS);
    assert_eq!(kept, names[2..], "the newest three, oldest first");
    let files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(files.len(), 3, "no partial file, no other generation: {files:?}");

    // Two backups in the same millisecond cannot share a name.
    let again = catalogue.backup(&scratch.layout, three_am() + SignedDuration::from_hours(96));
    assert!(matches!(again, Err(Error::Invalid { .. })), "{again:?}");
}

#[test]
fn every_table_is_copied_and_a_restore_brings_back_a_deleted_record() {
    let scratch = Scratch::new("backup-restore");
    let catalogue = scratch.catalogue("tosho");
    let code = catalogue.tenant().clone();
    let kept = created(&catalogue.upsert(vec![record("jp1", "ぐりとぐら")], "test").unwrap());
    let doomed = created(&catalogue.upsert(vec![record("jp2", "銀河鉄道の夜")], "test").unwrap());
    catalogue
        .put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() })
        .unwrap();
    catalogue.add_item(&NewItem::new(kept, "1000001", "chuo")).unwrap();
    let seq_at_backup = catalogue.last_change_seq().unwrap();

    let report = catalogue.backup(&scratch.layout, three_am()).unwrap();
    // Every table of the file, whichever module made it, is in the backup with every entry.
    for table in ["meta", "bibs", "bib_by_control", "changes", "branches", "items", "item_by_barcode"] {
        assert!(report.tables.contains_key(table), "{table} missing from {:?}", report.tables);
    }
    assert!(report.tables.contains_key("bib_by_isbn (multimap)"), "{:?}", report.tables);
    assert_eq!((report.tables["bibs"], report.tables["items"], report.tables["branches"]), (2, 1, 1));

    // Later: the record is deleted, another added.
    assert!(catalogue.delete(doomed).unwrap());
    catalogue.upsert(vec![record("jp3", "後から来た本")], "test").unwrap();
    assert!(catalogue.get(doomed).unwrap().is_none());

    // The library is open: nothing is touched.
    let refused = restore_backup(&scratch.layout, &code, None, three_am());
    assert!(matches!(refused, Err(Error::InUse { .. })), "{refused:?}");
    assert_eq!(catalogue.len().unwrap(), 2);
    let unknown = restore_backup(&scratch.layout, &code, Some("20990101T000000.000+0900"), three_am());
    drop(catalogue);
    assert!(matches!(unknown, Err(Error::UnknownBackup(_))), "{unknown:?}");
    let traversal = restore_backup(&scratch.layout, &code, Some("../../system"), three_am());
    assert!(matches!(traversal, Err(Error::UnknownBackup(_))), "{traversal:?}");

    let index = scratch.layout.index_dir(&code);
    std::fs::create_dir_all(index.join("some-generation")).unwrap();
    let restored =
        restore_backup(&scratch.layout, &code, Some(&format!("{}.redb", report.backup.name)), three_am()).unwrap();
    assert_eq!(restored.restored.name, report.backup.name);
    assert!(restored.index_removed && !index.exists(), "the index of the replaced catalogue is gone");
    let replaced = restored.replaced.clone().unwrap();
    assert!(replaced.starts_with(scratch.layout.backups_dir(&code)) && replaced.exists());
    assert_eq!(list_backups(&scratch.layout, &code).unwrap().len(), 1, "the replaced file is not a generation");

    let catalogue = Catalogue::open(&scratch.layout, &code).unwrap();
    let back = catalogue.get(doomed).unwrap().expect("the deleted record is back");
    assert_eq!(back.record().unwrap().fields.len(), 2);
    assert_eq!(catalogue.len().unwrap(), 2, "the record added after the backup is not");
    assert_eq!(catalogue.availability(kept).unwrap().total, 1, "circulation came back too");
    assert_eq!(catalogue.last_change_seq().unwrap(), seq_at_backup, "the change feed is the backup's");
    assert_eq!(catalogue.find_by_control_number("", "jp3").unwrap(), None);
    drop(catalogue);

    // With no generation named, the latest; a second restore keeps one replaced file only.
    let restored = restore_backup(&scratch.layout, &code, None, three_am() + SignedDuration::from_secs(1)).unwrap();
    assert_eq!(restored.restored.name, report.backup.name);
    assert!(!replaced.exists(), "only the latest replaced catalogue is kept");
    assert!(restored.replaced.unwrap().exists());
}

/// A backup taken while a writer commits one record (and its change) per transaction is
/// one committed state: as many records as creations in its feed, every one findable.
#[test]
fn a_backup_taken_during_writes_is_one_consistent_snapshot() {
    let scratch = Scratch::new("backup-consistent");
    let catalogue = Arc::new(scratch.catalogue("tosho"));
    let code = catalogue.tenant().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let catalogue = catalogue.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) || n < 50 {
                let batch = (0..3).map(|k| record(&format!("c{n}-{k}"), &format!("並行 {n} {k}"))).collect();
                catalogue.upsert(batch, "writer").unwrap();
                n += 1;
            }
            n
        })
    };
    let mut sizes = Vec::new();
    for k in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(15));
        let report = catalogue.backup(&scratch.layout, three_am() + SignedDuration::from_mins(k)).unwrap();
        sizes.push(report.tables["bibs"]);
    }
    stop.store(true, Ordering::Relaxed);
    let batches = writer.join().unwrap();
    assert!(batches >= 50);
    drop(catalogue);

    for (k, backup) in list_backups(&scratch.layout, &code).unwrap().into_iter().enumerate() {
        // Open the copy as a library of its own.
        let copy: TenantCode = format!("copy-{k}").parse().unwrap();
        std::fs::create_dir_all(scratch.layout.tenant_dir(&copy)).unwrap();
        std::fs::copy(&backup.path, scratch.layout.catalogue_file(&copy)).unwrap();
        let opened = Catalogue::open(&scratch.layout, &copy).unwrap();
        let records = opened.len().unwrap();
        assert_eq!(records % 3, 0, "{}: a transaction of three records is all there or not at all", backup.name);
        let changes = opened.changes_after(0, usize::MAX).unwrap();
        let creations = changes.iter().filter(|c| c.kind == ChangeKind::Created).count() as u64;
        assert_eq!(creations, records, "{}: records and change feed from the same moment", backup.name);
        assert_eq!(opened.last_change_seq().unwrap(), changes.last().map_or(0, |c| c.seq));
        for change in &changes {
            let bib = opened.get(change.bib_id).unwrap().expect("every change names a stored record");
            let number = bib.record().unwrap().fields.iter().find_map(|f| match f {
                Field::Control { value, .. } => Some(value.clone()),
                _ => None,
            });
            let number = number.unwrap();
            assert_eq!(opened.find_by_control_number("", &number).unwrap(), Some(bib.id), "lookups agree");
        }
    }
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
}
