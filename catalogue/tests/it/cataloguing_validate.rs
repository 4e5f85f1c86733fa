//! Issue #17: the checks a record passes before cataloguing stores it. A correct book and
//! every demo record pass; each other case breaks one rule of a correct book and must give
//! exactly that problem, at that field, subfield and position; the real JAPAN/MARC records
//! of ../shared give the problems counted here.

use std::collections::BTreeMap;
use std::path::Path;

use catalogue::cataloguing::validate::{Problem, validate};
use catalogue::{Field, Record, Subfield};

fn control(tag: &str, value: &str) -> Field {
    Field::Control { tag: tag.parse().unwrap(), value: value.to_string() }
}

fn data(tag: &str, indicators: &str, subfields: &[(char, &str)]) -> Field {
    let mut ind = indicators.chars();
    Field::Data {
        tag: tag.parse().unwrap(),
        ind1: ind.next().unwrap(),
        ind2: ind.next().unwrap(),
        subfields: subfields.iter().map(|(code, value)| Subfield { code: *code, value: value.to_string() }).collect(),
    }
}

const F008: &str = "250101s1914    ja            000 1 jpn d";

/// こゝろ as the cataloguing form writes it: JAPAN/MARC layout, readings in linked 880s.
fn book() -> Record {
    assert_eq!(F008.chars().count(), 40);
    Record {
        leader: "00000nam a2200000 i 4500".to_string(),
        fields: vec![
            control("001", "SHIORITEST0001"),                                                // 0
            control("003", "SHIORI"),                                                        // 1
            control("008", F008),                                                            // 2
            data("020", "  ", &[('a', "978-4-00-310101-8"), ('c', "600円")]),                // 3
            data("040", "  ", &[('a', "SHIORI"), ('b', "jpn"), ('c', "SHIORI")]),            // 4
            data("084", "  ", &[('a', "913.6"), ('2', "njb/09")]),                           // 5
            data("100", "1 ", &[('6', "880-02"), ('a', "夏目, 漱石,"), ('d', "1867-1916")]), // 6
            data("245", "10", &[('6', "880-01"), ('a', "こゝろ /"), ('c', "夏目漱石 著.")]), // 7
            data("260", "  ", &[('6', "880-03"), ('a', "東京 :"), ('b', "岩波書店,"), ('c', "1914.")]), // 8
            data("300", "  ", &[('a', "1冊.")]),                                             // 9
            data("880", "10", &[('6', "245-01/$1"), ('a', "ココロ.")]),                      // 10
            data("880", "1 ", &[('6', "100-02/$1"), ('a', "ナツメ, ソウセキ,"), ('d', "1867-1916")]), // 11
            data("880", "  ", &[('6', "260-03/$1"), ('b', "イワナミ ショテン.")]),           // 12
        ],
    }
}

/// What a test compares: code, field, subfield, position.
type Found = (&'static str, Option<usize>, Option<char>, Option<usize>);

fn found(problems: &[Problem]) -> Vec<Found> {
    problems.iter().map(|p| (p.code, p.field, p.subfield, p.position)).collect()
}

fn with_leader(at: usize, text: &str) -> Record {
    let mut record = book();
    record.leader.replace_range(at..at + text.len(), text);
    record
}

fn with_008(at: usize, text: &str) -> Record {
    let mut value = F008.to_string();
    value.replace_range(at..at + text.len(), text);
    with_field(2, control("008", &value))
}

fn with_field(index: usize, field: Field) -> Record {
    let mut record = book();
    record.fields[index] = field;
    record
}

fn with_subfields(index: usize, subfields: &[(char, &str)]) -> Record {
    let mut record = book();
    let (tag, ind) = match &record.fields[index] {
        Field::Data { tag, ind1, ind2, .. } => (tag.to_string(), format!("{ind1}{ind2}")),
        Field::Control { .. } => unreachable!(),
    };
    record.fields[index] = data(&tag, &ind, subfields);
    record
}

fn pushed(field: Field) -> Record {
    let mut record = book();
    record.fields.push(field);
    record
}

#[test]
fn a_correct_book_passes() {
    assert_eq!(validate(&book()), vec![]);
    // The lengths (00-04, 12-16) are recomputed on output and not checked.
    assert_eq!(validate(&with_leader(0, "abcde")), vec![]);
    assert_eq!(validate(&with_leader(12, "xyzzy")), vec![]);
    // OCLC and JAPAN/MARC encoding levels, a blank leader/09 (MARC-8), leader/18 i.
    for (at, value) in [(17, "z"), (17, "I"), (17, "u"), (9, " "), (18, "a"), (19, "a")] {
        assert_eq!(validate(&with_leader(at, value)), vec![], "leader/{at} {value:?}");
    }
    // 008: blanks and fill where MARC 21 allows them, the language codes for none.
    for (at, value) in
        [(0, "      "), (6, "|"), (7, "19uu"), (7, "||||"), (11, "1916"), (35, "und"), (35, "mul"), (35, "zxx")]
    {
        assert_eq!(validate(&with_008(at, value)), vec![], "008/{at} {value:?}");
    }
    for code in ["eng", "chi", "kor", "ger", "   ", "|||"] {
        assert_eq!(validate(&with_008(35, code)), vec![], "{code:?}");
    }
    // $z holds invalid ISBNs by definition; a qualifier after the ISBN; an ISBN-10 with X.
    for isbn in ["4-00-310101-4 (pbk.)", "080442957x", "978-4-7949-7075-6 : 1700円"] {
        assert_eq!(validate(&with_subfields(3, &[('a', isbn)])), vec![], "{isbn}");
    }
    assert_eq!(validate(&with_subfields(3, &[('z', "4-00-310101-5")])), vec![]);
    // An unlinked 880 (occurrence 00), two 880s linked to one field (reading, romanisation).
    assert_eq!(validate(&pushed(data("880", "  ", &[('6', "500-00/$1"), ('a', "チュウキ")]))), vec![]);
    assert_eq!(validate(&pushed(data("880", "10", &[('6', "245-01/(B"), ('a', "Kokoro.")]))), vec![]);
}

#[test]
fn leader_positions() {
    let cases: [(usize, &str, usize); 11] = [
        (5, "x", 5),
        (6, "z", 6),
        (7, "x", 7),
        (8, "b", 8),
        (9, "b", 9),
        (10, "3", 10),
        (17, "9", 17),
        (18, "x", 18),
        (19, "d", 19),
        (20, "5", 20),
        (23, "1", 20),
    ];
    for (at, value, position) in cases {
        let problems = validate(&with_leader(at, value));
        assert_eq!(found(&problems), vec![("leader_position", None, None, Some(position))], "leader/{at} {value:?}");
        assert_eq!(problems[0].tag, "LDR");
    }
    let problems = validate(&with_leader(6, "z"));
    assert!(problems[0].ja.starts_with("リーダー/06（レコード種別）が不正です: \"z\""), "{}", problems[0].ja);
    assert!(problems[0].en.starts_with("leader/06 (type of record) is not valid: \"z\""), "{}", problems[0].en);
    let problems = validate(&with_leader(20, "4501"));
    assert!(problems[0].ja.starts_with("リーダー/20-23（エントリマップ）"), "{}", problems[0].ja);

    for leader in ["00000nam a2200000 i 450", "00000nam a2200000 i 45000", ""] {
        let mut record = book();
        record.leader = leader.to_string();
        assert_eq!(found(&validate(&record)), vec![("leader_length", None, None, None)], "{leader:?}");
    }
}

#[test]
fn control_fields_come_first() {
    // 008 moved after 020: reported on the 008, once even with a second one late.
    let mut record = book();
    let f008 = record.fields.remove(2);
    record.fields.insert(3, f008);
    assert_eq!(found(&validate(&record)), vec![("control_after_data", Some(3), None, None)]);
    let f003 = record.fields.remove(1);
    record.fields.insert(4, f003);
    assert_eq!(found(&validate(&record)), vec![("control_after_data", Some(2), None, None)]);

    assert_eq!(
        found(&validate(&with_field(0, control("001", "SHIORI\u{1F}0001")))),
        vec![("control_has_subfield_mark", Some(0), None, None)]
    );
    assert_eq!(
        found(&validate(&with_field(1, control("003", "SHIORI\u{1E}")))),
        vec![("control_has_subfield_mark", Some(1), None, None)]
    );
}

#[test]
fn tags_and_field_kinds() {
    assert_eq!(
        found(&validate(&with_field(9, data("9AB", "  ", &[('a', "1冊.")])))),
        vec![("bad_tag", Some(9), None, None)]
    );
    assert_eq!(
        found(&validate(&with_field(9, data("00A", "  ", &[('a', "x")])))),
        vec![("bad_tag", Some(9), None, None)]
    );
    // A data field under a control tag, a control field under a data tag.
    assert_eq!(
        found(&validate(&with_field(1, data("003", "  ", &[('a', "SHIORI")])))),
        vec![("field_kind", Some(1), None, None)]
    );
    assert_eq!(found(&validate(&with_field(9, control("300", "1冊.")))), vec![("field_kind", Some(9), None, None)]);
}

#[test]
fn not_repeatable_fields() {
    let mut record = book();
    record.fields.insert(8, data("245", "10", &[('a', "こころ")]));
    record.fields.insert(9, data("245", "10", &[('a', "心")]));
    assert_eq!(
        found(&validate(&record)),
        vec![("not_repeatable", Some(8), None, None), ("not_repeatable", Some(9), None, None)]
    );

    let mut record = book();
    record.fields.insert(5, data("040", "  ", &[('a', "JTNDL")]));
    assert_eq!(found(&validate(&record)), vec![("not_repeatable", Some(5), None, None)]);

    let mut record = book();
    record.fields.insert(2, control("001", "SHIORITEST0002"));
    assert_eq!(found(&validate(&record)), vec![("not_repeatable", Some(2), None, None)]);

    // One main entry in all: a 110 after the 100 is refused, a 700 is not.
    let mut record = book();
    record.fields.insert(7, data("110", "2 ", &[('a', "岩波書店")]));
    let problems = validate(&record);
    assert_eq!(found(&problems), vec![("not_repeatable", Some(7), None, None)]);
    assert!(problems[0].ja.contains("すでに 100 があります"), "{}", problems[0].ja);
    let mut record = book();
    record.fields.insert(7, data("100", "1 ", &[('a', "漱石")]));
    assert_eq!(found(&validate(&record)), vec![("not_repeatable", Some(7), None, None)]);
    let mut record = book();
    record.fields.insert(10, data("700", "1 ", &[('a', "漱石")]));
    record.fields.insert(10, data("700", "1 ", &[('a', "鷗外")]));
    assert_eq!(validate(&record), vec![]);
}

#[test]
fn required_fields() {
    let mut record = book();
    record.fields.remove(7);
    record.fields.remove(9); // the 880 of 245, now at 9
    let problems = validate(&record);
    assert_eq!(found(&problems), vec![("missing_field", None, None, None)]);
    assert_eq!(problems[0].tag, "245");

    let mut record = book();
    record.fields.remove(2);
    let problems = validate(&record);
    assert_eq!(found(&problems), vec![("missing_field", None, None, None)]);
    assert_eq!(problems[0].tag, "008");

    assert_eq!(
        found(&validate(&with_subfields(7, &[('6', "880-01"), ('c', "夏目漱石 著.")]))),
        vec![("missing_subfield", Some(7), Some('a'), None)]
    );
    assert_eq!(
        found(&validate(&with_subfields(7, &[('6', "880-01"), ('a', " ")]))),
        vec![("empty_subfield", Some(7), Some('a'), None)]
    );
}

#[test]
fn f008_positions() {
    let cases: [(usize, &str, &str, usize); 12] = [
        (0, "2501a1", "f008_position", 0),
        (0, "25010 ", "f008_position", 0),
        (6, "x", "f008_position", 6),
        (7, "19x4", "f008_position", 7),
        (8, "-", "f008_position", 7),
        (11, "ab  ", "f008_position", 11),
        (35, "ja ", "language_code", 35),
        (35, "JPN", "language_code", 35),
        (35, "xxx", "language_code", 35),
        (38, "q", "f008_position", 38),
        (39, "x", "f008_position", 39),
        (39, "a", "f008_position", 39),
    ];
    for (at, value, code, position) in cases {
        assert_eq!(
            found(&validate(&with_008(at, value))),
            vec![(code, Some(2), None, Some(position))],
            "008/{at} {value:?}"
        );
    }
    let problems = validate(&with_008(35, "ja "));
    assert!(problems[0].ja.starts_with("008/35-37（言語）が不正です: \"ja \""), "{}", problems[0].ja);

    for value in [&F008[..39], format!("{F008} ").as_str(), ""] {
        assert_eq!(
            found(&validate(&with_field(2, control("008", value)))),
            vec![("f008_length", Some(2), None, None)],
            "{value:?}"
        );
    }
}

#[test]
fn indicators_and_subfields() {
    assert_eq!(
        found(&validate(&with_field(9, data("300", "A ", &[('a', "1冊.")])))),
        vec![("bad_indicator", Some(9), None, Some(1))]
    );
    assert_eq!(
        found(&validate(&with_field(9, data("300", " #", &[('a', "1冊.")])))),
        vec![("bad_indicator", Some(9), None, Some(2))]
    );
    assert_eq!(
        found(&validate(&with_field(9, data("300", " |", &[('a', "1冊.")])))),
        vec![("bad_indicator", Some(9), None, Some(2))]
    );
    assert_eq!(found(&validate(&with_field(9, data("300", "  ", &[])))), vec![("no_subfields", Some(9), None, None)]);
    assert_eq!(
        found(&validate(&with_subfields(9, &[('A', "1冊.")]))),
        vec![("bad_subfield_code", Some(9), Some('A'), None)]
    );
    assert_eq!(
        found(&validate(&with_subfields(9, &[('a', "1冊."), ('$', "19cm")]))),
        vec![("bad_subfield_code", Some(9), Some('$'), None)]
    );
    assert_eq!(
        found(&validate(&with_subfields(8, &[('6', "880-03"), ('a', "東京 :"), ('b', "  "), ('c', "1914.")]))),
        vec![("empty_subfield", Some(8), Some('b'), None)]
    );
    assert_eq!(
        found(&validate(&with_subfields(9, &[('a', "1冊\u{1D}")]))),
        vec![("subfield_has_delimiter", Some(9), Some('a'), None)]
    );
}

#[test]
fn isbn_check_digits() {
    for (isbn, code) in [
        ("978-4-00-310101-9", "isbn_check_digit"),
        ("4-00-310101-5 (pbk.)", "isbn_check_digit"),
        ("0804429571", "isbn_check_digit"),
        ("4-00-31010", "isbn_form"),
        ("97840031010189", "isbn_form"),
        ("1234567890128", "isbn_form"),
        ("(pbk.)", "isbn_form"),
    ] {
        let problems = validate(&with_subfields(3, &[('a', isbn), ('c', "600円")]));
        assert_eq!(found(&problems), vec![(code, Some(3), Some('a'), None)], "{isbn}");
    }
    let problems = validate(&with_subfields(3, &[('a', "978-4-00-310101-9")]));
    assert!(problems[0].ja.contains("末尾は 8"), "{}", problems[0].ja);
}

#[test]
fn linkage_of_880() {
    let cases: [(Field, usize, &str); 4] = [
        (data("880", "10", &[('a', "ココロ.")]), 10, "no $6"),
        (data("880", "10", &[('6', "24-01/$1"), ('a', "ココロ.")]), 10, "short tag"),
        (data("880", "10", &[('6', "245/$1"), ('a', "ココロ.")]), 10, "no occurrence"),
        (data("880", "10", &[('6', "245-1/$1"), ('a', "ココロ.")]), 10, "one digit"),
    ];
    for (field, index, why) in cases {
        let mut record = book();
        // The 245 keeps its $6 880-01 only where the 880 still names it.
        record.fields[7] = data("245", "10", &[('a', "こゝろ /"), ('c', "夏目漱石 著.")]);
        record.fields[index] = field;
        assert_eq!(found(&validate(&record)), vec![("linkage", Some(index), Some('6'), None)], "{why}");
    }

    // An 880 naming an occurrence no field has, and one naming a field that is not there.
    assert_eq!(
        found(&validate(&pushed(data("880", "  ", &[('6', "245-09/$1"), ('a', "ココロ")])))),
        vec![("linkage", Some(13), Some('6'), None)]
    );
    assert_eq!(
        found(&validate(&pushed(data("880", "  ", &[('6', "490-04/$1"), ('a', "イワナミ ブンコ")])))),
        vec![("linkage", Some(13), Some('6'), None)]
    );
    // A field whose $6 names an 880 that is not there.
    assert_eq!(
        found(&validate(&with_subfields(9, &[('6', "880-04"), ('a', "1冊.")]))),
        vec![("linkage", Some(9), Some('6'), None)]
    );
    // The 880 of 260 removed: the 260 points nowhere.
    let mut record = book();
    record.fields.remove(12);
    assert_eq!(found(&validate(&record)), vec![("linkage", Some(8), Some('6'), None)]);
}

#[test]
fn problems_come_in_record_order() {
    let mut record = with_leader(6, "z");
    record.fields.remove(2); // no 008
    record.fields[2] = data("020", "  ", &[('a', "978-4-00-310101-9")]);
    record.fields[8] = data("300", "AA", &[('a', "")]);
    record.fields.insert(0, data("500", "  ", &[('a', "注記")]));
    let found = found(&validate(&record));
    assert_eq!(
        found,
        vec![
            ("leader_position", None, None, Some(6)),
            ("control_after_data", Some(1), None, None),
            ("isbn_check_digit", Some(3), Some('a'), None),
            ("bad_indicator", Some(9), None, Some(1)),
            ("bad_indicator", Some(9), None, Some(2)),
            ("empty_subfield", Some(9), Some('a'), None),
            ("missing_field", None, None, None),
        ]
    );
}

#[test]
fn problems_serialise_for_the_pages() {
    let problems = validate(&with_008(35, "ja "));
    let json = serde_json::to_value(&problems).unwrap();
    assert_eq!(json[0]["code"], "language_code");
    assert_eq!(json[0]["field"], 2);
    assert_eq!(json[0]["tag"], "008");
    assert_eq!(json[0]["position"], 35);
    assert_eq!(json[0]["subfield"], serde_json::Value::Null);
    assert!(json[0]["en"].as_str().unwrap().starts_with("008/35-37 (language) is not valid"));
}

fn records(path: &Path) -> Vec<Record> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    catalogue::read_records(&bytes).unwrap().map(|r| r.result.unwrap().0).collect()
}

/// The demo library's records, the project's and LC's, are what cataloguing must accept.
#[test]
fn demo_records_pass() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
    for (file, count) in [("japanese-demo.mrc", 88), ("lc-demo.mrc", 320)] {
        let records = records(&demo.join(file));
        assert_eq!(records.len(), count, "{file}");
        for record in &records {
            let problems = validate(record);
            assert_eq!(problems, vec![], "{file} {:?}", record.control_number());
        }
    }
}

/// Real JAPAN/MARC (NDL records exported by Next-L Enju): what cataloguing would ask a
/// librarian to correct before saving them from the editor. Everything else in them passes
/// (NDL's leader/17 `z`, 008 fill characters, 880 readings and romanisations both linked to
/// one field); four fields name an 880 the record does not have.
#[test]
fn enju_jpmarc_problems() {
    let records = records(&crate::fixtures::shared("japanese/enju-jpmarc/jpmarc_marc21_enju.dat"));
    assert_eq!(records.len(), 233);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut linkage = Vec::new();
    for record in &records {
        for problem in validate(record) {
            *counts.entry(problem.code).or_default() += 1;
            if problem.code == "linkage" {
                linkage.push((record.control_number().unwrap_or("").to_string(), problem.tag, problem.subfield));
            }
        }
    }
    assert_eq!(counts, BTreeMap::from([("linkage", 4)]));
    let linkage: Vec<(&str, &str, Option<char>)> =
        linkage.iter().map(|(id, tag, subfield)| (id.as_str(), tag.as_str(), *subfield)).collect();
    assert_eq!(
        linkage,
        vec![
            // 245 $6 880-01 without the 880 245-01 (the 880s are of 653, 700, 710).
            ("028064297", "245", Some('6')),
            // 260 $6 880-02 without the 880 260-02 (a Korean book: only 245's 880 is there).
            ("024929826", "260", Some('6')),
            ("000009300231", "245", Some('6')),
            ("000007029824", "245", Some('6')),
        ]
    );
}
