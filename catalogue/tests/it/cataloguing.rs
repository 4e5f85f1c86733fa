//! Issue #17: cataloguing in the catalogue crate — the form makes a record in the JAPAN/MARC
//! layout that passes validation and reads back; saves are versioned (a stale version is
//! refused and writes nothing), every previous version is kept with who saved it, diffs and
//! restores; a record with a copy on loan or a hold cannot be deleted; copies get an
//! acquisition date, barcodes from the branch's range and are withdrawn with a reason.

use catalogue::cataloguing::callnumber::CallNumber;
use catalogue::cataloguing::copies::BarcodeRange;
use catalogue::cataloguing::form::{CatalogueForm, FormAuthor, FormSubject, to_katakana};
use catalogue::cataloguing::history::{ChangeKindOfField, Saver, diff};
use catalogue::cataloguing::validate::validate;
use catalogue::{Error, ErrorKind, Field, ItemStatus, NewItem, NewPatron, Subfield};
use jiff::civil::date;

use crate::circulation::{Library, now, today};

const FORM: Saver<'static> = Saver { by: "sato", source: "form" };

/// 「これからの本の話をしよう」 (萩野正昭, 晶文社 2019) as a librarian types it, readings in
/// hiragana.
fn form() -> CatalogueForm {
    CatalogueForm {
        title: "これからの本の話をしよう".into(),
        title_reading: "これから の ほん の はなし を しよう".into(),
        responsibility: "萩野正昭 著".into(),
        authors: vec![FormAuthor {
            name: "萩野, 正昭".into(),
            reading: "はぎの, まさあき".into(),
            dates: "1946-".into(),
            corporate: false,
        }],
        place: "東京".into(),
        publisher: "晶文社".into(),
        publisher_reading: "しょうぶんしゃ".into(),
        year: "2019".into(),
        extent: "238p".into(),
        size: "19cm".into(),
        isbn: "978-4-7949-7075-6".into(),
        price: "1700円".into(),
        ndc: "023.1".into(),
        ndc_edition: "10".into(),
        subjects: vec![FormSubject { heading: "出版--日本".into(), reading: "しゅっぱん--にほん".into() }],
        notes: "索引あり\n\n".into(),
        ..CatalogueForm::default()
    }
}

fn value<'a>(record: &'a catalogue::Record, tag: &'a str, code: char) -> Vec<&'a str> {
    record.fields_with_tag(tag).flat_map(|f| f.subfield_values(code)).collect()
}

#[test]
fn the_form_makes_a_valid_japan_marc_record_that_reads_back() {
    let record = form().to_record("circ-city", date(2026, 12, 7)).unwrap();
    assert_eq!(validate(&record), vec![], "{record:#?}");
    assert_eq!(value(&record, "245", 'a'), ["これからの本の話をしよう /"]);
    assert_eq!(value(&record, "245", 'c'), ["萩野正昭 著."]);
    assert_eq!(value(&record, "245", '6'), ["880-01"]);
    // The readings are in katakana in the linked 880s, in the order 245, 100, 260, 650.
    let readings: Vec<(String, String)> = record
        .fields_with_tag("880")
        .map(|f| (f.subfield_values('6').next().unwrap().to_string(), f.text(&['a', 'b'])))
        .collect();
    assert_eq!(
        readings,
        [
            ("245-01/$1".to_string(), "コレカラ ノ ホン ノ ハナシ ヲ シヨウ".to_string()),
            ("100-02/$1".to_string(), "ハギノ, マサアキ".to_string()),
            ("260-03/$1".to_string(), "ショウブンシャ".to_string()),
            ("650-04/$1".to_string(), "シュッパン".to_string()),
        ]
    );
    assert_eq!(value(&record, "880", 'z'), ["ニホン"]);
    assert_eq!(value(&record, "020", 'a'), ["9784794970756 :"]);
    assert_eq!(value(&record, "084", '2'), ["njb/10"]);
    assert_eq!(value(&record, "650", 'z'), ["日本"]);
    assert_eq!(value(&record, "500", 'a'), ["索引あり"], "one note per non-empty line");
    let f008 = record.control_value("008").unwrap();
    assert_eq!((&f008[..6], &f008[6..11], &f008[35..38]), ("261207", "s2019", "jpn"));
    assert_eq!(f008.chars().nth(22), Some(' '));
    // Tags in order, the 880s last.
    let tags: Vec<String> = record.fields.iter().map(|f| f.tag().to_string()).collect();
    assert_eq!(
        tags,
        ["007", "008", "020", "040", "084", "100", "245", "260", "300", "500", "650", "880", "880", "880", "880"]
    );

    let back = CatalogueForm::from_record(&record);
    let mut expected = form();
    expected.title_reading = to_katakana(&expected.title_reading);
    expected.authors[0].reading = to_katakana(&expected.authors[0].reading);
    expected.publisher_reading = to_katakana(&expected.publisher_reading);
    expected.subjects[0].reading = to_katakana(&expected.subjects[0].reading);
    expected.isbn = "9784794970756".into();
    expected.notes = "索引あり".into();
    expected.audience = "general".into();
    expected.language = "jpn".into();
    assert_eq!(back, expected);
}

#[test]
fn the_form_names_each_input_to_fix() {
    let mut bad = form();
    bad.title_reading = "これからの本".into();
    bad.authors[0].reading.clear();
    bad.year = "令和元年".into();
    bad.isbn = "978-4-7949-7075-5".into();
    bad.ndc = "23".into();
    let problems = bad.to_record("circ-city", today()).unwrap_err();
    let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.input.as_str(), p.code)).collect();
    assert_eq!(
        got,
        [
            ("title_reading", "reading_not_kana"),
            ("authors.0.reading", "required"),
            ("year", "year_form"),
            ("isbn", "isbn_check_digit"),
            ("ndc", "ndc_form"),
        ]
    );
    assert!(problems[3].ja.contains("「6」"), "{}", problems[3].ja);
    // A Latin-script title and author need no reading.
    let english = CatalogueForm {
        title: "The Library Book".into(),
        authors: vec![FormAuthor { name: "Orlean, Susan".into(), ..FormAuthor::default() }],
        year: "2018".into(),
        ..CatalogueForm::default()
    };
    assert_eq!(english.problems(), vec![]);
    assert_eq!(validate(&english.to_record("circ-city", today()).unwrap()), vec![]);
}

#[test]
fn editing_through_the_form_keeps_what_the_form_does_not_manage() {
    let mut original = form().to_record("circ-city", date(2025, 1, 1)).unwrap();
    // A contents note and a linked 740 with its reading, which the form knows nothing of.
    original.fields.push(Field::Data {
        tag: "505".parse().unwrap(),
        ind1: '0',
        ind2: '0',
        subfields: vec![Subfield { code: 't', value: "本の未来.".into() }],
    });
    original.fields.push(Field::Data {
        tag: "740".parse().unwrap(),
        ind1: '0',
        ind2: '2',
        subfields: vec![
            Subfield { code: '6', value: "880-05".into() },
            Subfield { code: 'a', value: "本の未来".into() },
        ],
    });
    original.fields.push(Field::Data {
        tag: "880".parse().unwrap(),
        ind1: '0',
        ind2: '2',
        subfields: vec![
            Subfield { code: '6', value: "740-05/$1".into() },
            Subfield { code: 'a', value: "ホン ノ ミライ".into() },
        ],
    });
    assert_eq!(validate(&original), vec![]);
    // Another scheme's 084 before the NDC (as JAPAN/MARC records have): not the NDC.
    original.fields.insert(
        4,
        Field::Data {
            tag: "084".parse().unwrap(),
            ind1: ' ',
            ind2: ' ',
            subfields: vec![Subfield { code: 'a', value: "UE17".into() }, Subfield { code: '2', value: "kktb".into() }],
        },
    );
    let mut edited = CatalogueForm::from_record(&original);
    assert_eq!((edited.ndc.as_str(), edited.ndc_edition.as_str()), ("023.1", "10"));
    edited.subtitle = "電子書籍の時代に".into();
    edited.subtitle_reading = "でんししょせき の じだい に".into();
    edited.audience = "juvenile".into();
    let saved = edited.apply_to(&original, "circ-city", date(2026, 12, 7)).unwrap();
    assert_eq!(validate(&saved), vec![], "{saved:#?}");
    assert_eq!(value(&saved, "245", 'b'), ["電子書籍の時代に /"]);
    assert_eq!(value(&saved, "505", 't'), ["本の未来."]);
    assert_eq!(value(&saved, "740", '6'), ["880-05"], "kept fields keep their links");
    // The form's links are renumbered after the kept ones, so none collides.
    let links: Vec<&str> = value(&saved, "880", '6');
    assert_eq!(links, ["740-05/$1", "245-06/$1", "100-07/$1", "260-08/$1", "650-09/$1"]);
    let f008 = saved.control_value("008").unwrap();
    assert_eq!(&f008[..6], "250101", "the entry date stays");
    assert_eq!(f008.chars().nth(22), Some('j'));
}

#[test]
fn saves_are_versioned_and_a_stale_version_is_refused() {
    let lib = Library::new("versions");
    let cat = &lib.catalogue;
    let record = form().to_record("circ-city", today()).unwrap();
    let created = cat.create_record(record.clone(), FORM).unwrap();
    assert_eq!(created.version, 1);
    let stored = created.record().unwrap();
    let number = format!("circ-city-{:08}", created.id);
    assert_eq!(stored.control_number(), Some(number.as_str()), "the library's own 001");
    assert_eq!(stored.control_organisation(), Some("circ-city"));
    assert_eq!(cat.find_by_isbn("9784794970756").unwrap(), [created.id]);
    // The same 003 + 001 again is refused: open the record instead.
    let err = cat.create_record(stored.clone(), FORM).unwrap_err();
    assert!(matches!(err, Error::ControlNumberInUse { bib_id, .. } if bib_id == created.id), "{err}");

    // Two librarians open version 1; the first saves, the second is refused.
    let mut first = form();
    first.edition = "新装版".into();
    let first = first.apply_to(&stored, "circ-city", today()).unwrap();
    let v2 = cat.replace_record(created.id, first.clone(), 1, Saver { by: "sato", source: "form" }).unwrap();
    assert_eq!(v2.version, 2);
    let mut second = form();
    second.price = "2000円".into();
    let second = second.apply_to(&stored, "circ-city", today()).unwrap();
    let seq = lib.last_seq();
    let err = cat.replace_record(created.id, second, 1, Saver { by: "suzuki", source: "editor" }).unwrap_err();
    assert!(matches!(err, Error::VersionMismatch { expected: 1, current: 2, .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(cat.get(created.id).unwrap().unwrap().record().unwrap().fields, first.fields, "nothing written");
    assert_eq!(lib.changes_since(seq), [], "no change feed entry for a refusal");

    // A record sent without its 001 keeps the library's number (and is the same record).
    let mut anonymous = first.clone();
    anonymous.fields.retain(|f| !matches!(f.tag().as_str(), "001" | "003"));
    let same = cat.replace_record(created.id, anonymous, 2, FORM).unwrap();
    assert_eq!(same.version, 2, "nothing changed");
    assert_eq!(same.record().unwrap().control_number(), Some(number.as_str()));

    // An invalid record is refused with the field named, and nothing is written.
    let mut broken = first.clone();
    broken.fields.retain(|f| f.tag().as_str() != "245");
    let err = cat.replace_record(created.id, broken, 2, FORM).unwrap_err();
    let Error::InvalidRecord { problems } = &err else { panic!("{err}") };
    let named: Vec<(&str, &str)> = problems.iter().map(|p| (p.code, p.tag.as_str())).collect();
    // The 245 is missing, and its reading's 880 now links to nothing.
    assert_eq!(named, [("linkage", "880"), ("missing_field", "245")]);

    let versions = cat.record_versions(created.id).unwrap();
    let summary: Vec<(u32, &str, &str, bool)> =
        versions.iter().map(|v| (v.version, v.by.as_str(), v.source.as_str(), v.current)).collect();
    assert_eq!(summary, [(2, "sato", "form", true), (1, "sato", "form", false)]);

    let old = cat.record_version(created.id, 1).unwrap().unwrap();
    assert_eq!(old.record.fields, stored.fields);
    let changes = diff(&old.record, &first);
    let added: Vec<&str> =
        changes.iter().filter(|c| c.kind == ChangeKindOfField::Added).map(|c| c.new.as_deref().unwrap()).collect();
    assert_eq!(added, ["250    $a新装版"]);

    // Restoring version 1 makes version 3 with version 1's record; history is not rewritten.
    let v3 = cat.restore_version(created.id, 1, 2, "suzuki").unwrap();
    assert_eq!(v3.version, 3);
    assert_eq!(v3.record().unwrap().fields, stored.fields);
    assert_eq!(cat.record_versions(created.id).unwrap().len(), 3);
    let err = cat.restore_version(created.id, 9, 3, "suzuki").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // History survives reopening the file.
    let id = created.id;
    let lib = lib.reopen();
    assert_eq!(lib.catalogue.record_versions(id).unwrap().len(), 3);
}

#[test]
fn a_record_with_a_copy_on_loan_or_a_hold_is_not_deleted() {
    let lib = Library::new("delete");
    let cat = &lib.catalogue;
    let bib = cat.create_record(form().to_record("circ-city", today()).unwrap(), FORM).unwrap().id;
    cat.add_item(&NewItem::new(bib, "9000001", "chuo")).unwrap();
    cat.add_item(&NewItem::new(bib, "9000002", "kita")).unwrap();
    cat.checkout("9000001", "P0001", now()).unwrap();
    let err = cat.delete_record(bib, "sato").unwrap_err();
    assert!(matches!(err, Error::RecordInUse { loans: 1, holds: 0, .. }), "{err}");
    cat.checkin("9000001", now()).unwrap();
    cat.place_hold(bib, "P0002", "kita", now()).unwrap();
    let err = cat.delete_record(bib, "sato").unwrap_err();
    assert!(matches!(err, Error::RecordInUse { loans: 0, holds: 1, .. }), "{err}");
    assert!(cat.get(bib).unwrap().is_some() && cat.items_of_bib(bib).unwrap().len() == 2, "nothing deleted");
    let hold = cat.holds_of_bib(bib).unwrap()[0].id;
    cat.cancel_hold(hold, now()).unwrap();
    assert!(cat.delete_record(bib, "sato").unwrap());
    assert!(cat.get(bib).unwrap().is_none());
    assert_eq!(cat.item_by_barcode("9000001").unwrap(), None, "its copies go with it");
    assert!(cat.find_by_isbn("9784794970756").unwrap().is_empty());
    assert!(!cat.delete_record(bib, "sato").unwrap(), "already gone");
}

#[test]
fn copies_get_dates_barcodes_from_the_range_and_are_withdrawn_with_a_reason() {
    let lib = Library::new("copies");
    let cat = &lib.catalogue;
    let bib = lib.bibs[0];
    cat.set_barcode_range("chuo", Some(BarcodeRange::new(1_000_001, 1_000_003, 8).unwrap())).unwrap();
    assert!(BarcodeRange::new(5, 4, 8).is_err());
    assert_eq!(cat.next_free_barcode("chuo", &[]).unwrap().as_deref(), Some("01000001"));
    assert_eq!(cat.next_free_barcode("kita", &[]).unwrap(), None, "no range");

    let acquired = date(2026, 11, 30);
    let added = cat
        .add_copies(&[
            (NewItem::new(bib, "01000001", "chuo"), Some(acquired)),
            (NewItem::new(bib, "01000003", "chuo"), None),
        ])
        .unwrap();
    assert_eq!(added.len(), 2);
    assert_eq!(cat.item_details(added[0].id).unwrap().acquired, Some(acquired));
    assert!(cat.item_details(added[1].id).unwrap().acquired.is_some(), "the day it was added");
    // The gap is offered first, then nothing: the range is full once 01000002 is taken.
    assert_eq!(cat.next_free_barcode("chuo", &[]).unwrap().as_deref(), Some("01000002"));
    assert_eq!(cat.next_free_barcode("chuo", &["01000002".into()]).unwrap(), None);
    // A duplicate barcode in a batch adds none of it.
    let err = cat
        .add_copies(&[(NewItem::new(bib, "01000002", "chuo"), None), (NewItem::new(bib, "01000001", "chuo"), None)])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(cat.item_by_barcode("01000002").unwrap(), None);

    cat.add_patron(&NewPatron::new("P0009", "田中一郎", "chuo")).unwrap();
    cat.checkout("01000001", "P0009", now()).unwrap();
    assert_eq!(cat.withdraw_item("01000001", "汚損", "sato", today()).unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(cat.withdraw_item("01000003", "  ", "sato", today()).unwrap_err().kind(), ErrorKind::Invalid);
    let withdrawn = cat.withdraw_item("01000003", "汚損のため", "sato", today()).unwrap();
    assert_eq!(withdrawn.status, ItemStatus::Withdrawn);
    let details = cat.item_details(withdrawn.id).unwrap();
    let w = details.withdrawal.unwrap();
    assert_eq!(
        (w.reason.as_str(), w.by.as_str(), w.on, w.previous),
        ("汚損のため", "sato", today(), ItemStatus::Available)
    );
    assert!(cat.withdraw_item("01000003", "again", "sato", today()).is_err());
    assert_eq!(cat.reinstate_item("01000003").unwrap().status, ItemStatus::Available);
    assert!(cat.item_details(withdrawn.id).unwrap().withdrawal.is_none());
}

#[test]
fn call_numbers_are_suggested_from_ndc_author_and_volume() {
    assert_eq!(CallNumber::suggest("913.6", "ハギノ, マサアキ", "萩野, 正昭", "").to_string(), "913.6/ハ");
    assert_eq!(CallNumber::suggest("023.1", "", "Orlean, Susan", "2").to_string(), "023.1/O/2");
}
