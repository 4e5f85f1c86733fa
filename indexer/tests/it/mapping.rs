//! MARC -> document mapping on real records: JAPAN/MARC (vernacular 245, katakana reading
//! and romanisation in 880) and LC (romanised 245, vernacular in 880).

use catalogue::Record;
use indexer::BibDocument;

use crate::search::shared;

fn records(path: &str) -> Vec<Record> {
    let data = std::fs::read(shared(path)).unwrap();
    catalogue::read_records(&data).unwrap().map(|r| r.result.unwrap().0).collect()
}

#[test]
fn a_japan_marc_record() {
    let jp = records("japanese/enju-jpmarc/jpmarc_marc21_enju.dat");
    assert_eq!(jp.len(), 233);
    let doc = BibDocument::from_record(1, &jp[0]);
    assert_eq!(
        doc,
        BibDocument {
            id: 1,
            control_number: "029455884".into(),
            source: "JTNDL".into(),
            title: "これからの本の話をしよう".into(),
            titles: vec!["これからの本の話をしよう".into()],
            title_proper: vec!["これからの本の話をしよう".into()],
            title_readings: vec!["コレカラ ノ ホン ノ ハナシ オ シヨウ".into()],
            title_romanised: vec!["Korekara no hon no hanashi o shiyo".into()],
            authors: vec!["萩野, 正昭".into()],
            author_readings: vec!["Hagino, Masaki".into(), "ハギノ, マサアキ".into()],
            subjects: vec!["電子書籍".into(), "電子出版".into()],
            series: vec![],
            volumes: vec![],
            publishers: vec!["晶文社".into()],
            notes: vec![],
            isbns: vec!["9784794970756".into()],
            issns: vec![],
            ndc: vec!["023".into()],
            classes: vec!["UE13".into()],
            year: Some(2019),
            languages: vec!["jpn".into()],
            material: "book",
            branches: vec![],
            available_at: vec![],
        }
    );
}

#[test]
fn an_lc_record_shows_its_vernacular_and_searches_its_romanisation() {
    let lc = records("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc");
    assert_eq!(lc.len(), 7_495);
    let record = lc.iter().find(|r| r.control_number() == Some("00271346")).unwrap();
    let doc = BibDocument::from_record(2, record);
    assert_eq!(
        doc.title, "真理への途上 苦渋に満ちた生涯田中正造・原胤昭・新渡戶稲造",
        "the 880 vernacular, as catalogued (戶)"
    );
    assert_eq!(
        doc.title_romanised,
        ["Shinri e no tojō kujū ni michita shōgai Tanaka Shōzō, Hara Taneaki, Nitobe Inazō"]
    );
    assert!(doc.titles.contains(&doc.title) && doc.titles.contains(&doc.title_romanised[0]));
    assert_eq!(doc.authors, ["Amagai, Yukimaro 1938-", "雨貝行麿 1938-"]);
    // Names keep their dates with a space; subdivisions are joined with " -- ".
    assert!(doc.subjects.contains(&"Tanaka, Shōzō 1841-1903".to_string()), "{:?}", doc.subjects);
    assert!(doc.subjects.contains(&"新渡戶稲造 1862-1933".to_string()), "{:?}", doc.subjects);
    assert!(doc.subjects.contains(&"Japan -- History -- 1868- -- Biography".to_string()), "{:?}", doc.subjects);
    assert_eq!(doc.publishers, ["Kindai Bungeisha", "近代文芸社"]);
    assert_eq!((doc.year, doc.languages.as_slice(), doc.material), (Some(1999), &["jpn".to_string()][..], "book"));
    assert_eq!(doc.isbns, ["9784773364330"]);
    assert_eq!(doc.source, "DLC");
}

#[test]
fn every_fixture_record_maps_without_losing_its_title() {
    for path in
        ["japanese/enju-jpmarc/jpmarc_marc21_enju.dat", "japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc"]
    {
        let records = records(path);
        let mut without_year = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let doc = BibDocument::from_record(i as u64, record);
            assert!(!doc.title.is_empty(), "{path} #{i}: no title");
            assert!(doc.titles.contains(&doc.title), "{path} #{i}");
            assert!(unicode_normalization::is_nfc(&doc.title), "{path} #{i}: title not NFC");
            match doc.year {
                Some(year) => assert!((1000..=2100).contains(&year), "{path} #{i}: year {year}"),
                None => without_year.push(record.control_value("008").unwrap_or_default().to_string()),
            }
        }
        // Records whose 008 and 260 $c carry no year at all (Edo and Meiji books dated
        // "18uu", "[18--]") are few: 172 of the LC subset's 7,495.
        assert!(
            without_year.len() * 100 <= records.len() * 3,
            "{path}: {} without a year: {without_year:?}",
            without_year.len()
        );
    }
}

/// Issue #16 (language facet junk): every language a record is indexed under is a code of
/// the MARC list, whatever 008 and 041 hold; run-together 041 codes are split.
#[test]
fn languages_are_codes_of_the_marc_list() {
    let mut seen = std::collections::BTreeSet::new();
    for path in [
        "japanese/enju-jpmarc/jpmarc_marc21_enju.dat",
        "japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc",
        "western/pymarc-5.4.0/test.dat",
    ] {
        for (n, record) in records(path).iter().enumerate() {
            let doc = BibDocument::from_record(n as u64, record);
            for lang in &doc.languages {
                assert!(catalogue::language_name(lang).is_some(), "{path} #{n}: {lang:?}");
                seen.insert(lang.clone());
            }
        }
    }
    assert!(seen.contains("jpn") && seen.contains("eng"), "{seen:?}");

    let record = |f041: &str, f008_lang: &str| Record {
        leader: "00000nam a2200000 i 4500".into(),
        fields: vec![
            catalogue::Field::Control {
                tag: "008".parse().unwrap(),
                value: format!("{:<35}{f008_lang} d", "990101s1999    ja"),
            },
            catalogue::Field::Data {
                tag: "041".parse().unwrap(),
                ind1: '0',
                ind2: ' ',
                subfields: vec![catalogue::Subfield { code: 'a', value: f041.into() }],
            },
        ],
    };
    assert_eq!(BibDocument::from_record(1, &record("engjpna", "iar")).languages, ["eng", "jpn"]);
    assert_eq!(BibDocument::from_record(1, &record("fre", "JPN")).languages, ["jpn", "fre"]);
}
