//! The checks a record must pass before the catalogue stores it from the cataloguing form,
//! the MARC editor or the records API (MARC 21 Bibliographic). Imports do not use them: a
//! file is kept as its source wrote it, and the export checks (`marc/check.rs`) say what a
//! format cannot carry.
//!
//! Each [`Problem`] names the field at fault by its index in `record.fields` (and the
//! subfield, indicator or character position where there is one) with a stable code and a
//! message in Japanese and English that says what to do, so a page can show it beside the
//! field. Problems come in record order: the leader, then each field in turn (a field's
//! linkage with the others with the field), then the fields that are missing.
//!
//! ```
//! use catalogue::cataloguing::validate::validate;
//! use catalogue::{Field, Record, Subfield};
//!
//! let record = Record {
//!     leader: "00000nam a2200000 i 4500".to_string(),
//!     fields: vec![
//!         Field::Control { tag: "008".parse().unwrap(), value: "250101s1914    ja            000 1 jpn d".to_string() },
//!         Field::Data {
//!             tag: "245".parse().unwrap(),
//!             ind1: '1',
//!             ind2: '0',
//!             subfields: vec![Subfield { code: 'a', value: "こゝろ".to_string() }],
//!         },
//!     ],
//! };
//! assert!(validate(&record).is_empty());
//! ```

use std::collections::HashMap;

use serde::Serialize;

use crate::isbn;
use crate::marc::language_name;
use crate::marc::record::{Field, Record, Subfield};

/// One thing wrong with a record, named so a page can show it beside the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Index of the field in `record.fields`; `None` for the leader, and for a required
    /// field the record does not have (`missing_field`).
    pub field: Option<usize>,
    /// The field's tag ("LDR" for the leader).
    pub tag: String,
    /// The subfield concerned, if one.
    pub subfield: Option<char>,
    /// The character position concerned (leader, 008: the first position of the element at
    /// fault, e.g. 35 for the language at 008/35-37), or the indicator (1 or 2) for
    /// `bad_indicator`; `None` otherwise.
    pub position: Option<usize>,
    /// A stable code: `leader_length`, `leader_position`, `control_after_data`, `bad_tag`,
    /// `field_kind` (a 00X tag with indicators and subfields, or a 010-999 tag without),
    /// `not_repeatable`, `missing_field` (245, 008), `missing_subfield` (245 $a),
    /// `f008_length`, `f008_position`, `language_code`, `bad_indicator`, `no_subfields`,
    /// `bad_subfield_code`, `empty_subfield`, `isbn_check_digit`, `isbn_form`, `linkage`
    /// ($6 malformed, or pointing to no field), `control_has_subfield_mark` and
    /// `subfield_has_delimiter` (U+001F, U+001E or U+001D in a value).
    pub code: &'static str,
    /// The message in Japanese (for librarians: plain, says what to do).
    pub ja: String,
    /// The same in English.
    pub en: String,
}

impl Problem {
    fn new(field: Option<usize>, tag: &str, code: &'static str, ja: String, en: String) -> Problem {
        Problem { field, tag: tag.to_string(), subfield: None, position: None, code, ja, en }
    }

    fn subfield(mut self, code: char) -> Problem {
        self.subfield = Some(code);
        self
    }

    fn position(mut self, position: usize) -> Problem {
        self.position = Some(position);
        self
    }
}

/// Everything wrong with `record` for the catalogue to store it from cataloguing: an empty
/// list when it may be stored. See [`Problem`] for the codes.
pub fn validate(record: &Record) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_leader(&record.leader, &mut problems);

    let links = Links::of(record);
    let mut seen_data = false;
    let mut reported_order = false;
    let mut occurrences: HashMap<&str, usize> = HashMap::new();
    let mut main_entry: Option<&str> = None;
    for (index, field) in record.fields.iter().enumerate() {
        let tag = tag_of(field);
        if !tag.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(Problem::new(
                Some(index),
                tag,
                "bad_tag",
                format!(
                    "タグ「{tag}」は使えません。タグは3桁の数字です（英字を含むローカルタグは目録登録では使えません）。"
                ),
                format!("tag \"{tag}\" is not allowed: a tag is three digits (local tags with letters cannot be catalogued here)"),
            ));
            continue;
        }
        let control = tag.starts_with("00");
        if control != matches!(field, Field::Control { .. }) {
            problems.push(if control {
                Problem::new(
                    Some(index),
                    tag,
                    "field_kind",
                    format!("{tag} は制御フィールドです。指示子やサブフィールドを付けず、値だけを記録してください。"),
                    format!("{tag} is a control field: give it a value, without indicators or subfields"),
                )
            } else {
                Problem::new(
                    Some(index),
                    tag,
                    "field_kind",
                    format!("{tag} はデータフィールドです。指示子2つとサブフィールドで記録してください。"),
                    format!("{tag} is a data field: give it two indicators and subfields"),
                )
            });
            continue;
        }

        if control && seen_data && !reported_order {
            reported_order = true;
            problems.push(Problem::new(
                Some(index),
                tag,
                "control_after_data",
                format!("制御フィールド {tag} がデータフィールドの後にあります。制御フィールド（00X）はすべてデータフィールドより前に置いてください。"),
                format!("control field {tag} comes after a data field: put every control field (00X) before the data fields"),
            ));
        }
        seen_data |= !control;

        let seen = occurrences.entry(tag).or_insert(0);
        *seen += 1;
        if MAIN_ENTRIES.contains(&tag) {
            if let Some(first) = main_entry {
                problems.push(if first == tag {
                    not_repeatable(index, tag)
                } else {
                    Problem::new(
                        Some(index),
                        tag,
                        "not_repeatable",
                        format!("基本記入（100・110・111・130）は1つだけです（すでに {first} があります）。ほかの著者は 700・710・711 に、統一タイトルは 730 に記録してください。"),
                        format!("only one main entry (100, 110, 111, 130) is allowed and there is already a {first}: record other names in 700, 710 or 711 and a uniform title in 730"),
                    )
                });
            } else {
                main_entry = Some(tag);
            }
        } else if *seen > 1 && NOT_REPEATABLE.contains(&tag) {
            problems.push(not_repeatable(index, tag));
        }

        match field {
            Field::Control { value, .. } => check_control(index, tag, value, &mut problems),
            Field::Data { ind1, ind2, subfields, .. } => {
                check_data(index, tag, [*ind1, *ind2], subfields, &links, &mut problems);
            }
        }
    }

    if !record.fields.iter().any(|f| f.tag().as_str() == "245") {
        problems.push(Problem::new(
            None,
            "245",
            "missing_field",
            "245（タイトルと責任表示）がありません。本タイトルを 245 $a に記録してください。".to_string(),
            "there is no 245 (title statement): record the title proper in 245 $a".to_string(),
        ));
    }
    if !record.fields.iter().any(|f| f.tag().as_str() == "008") {
        problems.push(Problem::new(
            None,
            "008",
            "missing_field",
            "008（固定長データ）がありません。入力年月日・出版年・言語などを 008 に記録してください。".to_string(),
            "there is no 008 (fixed-length data elements): record the date entered, dates and language in 008"
                .to_string(),
        ));
    }
    problems
}

/// The main entries (1XX): a record has at most one.
const MAIN_ENTRIES: [&str; 4] = ["100", "110", "111", "130"];

/// The fields MARC 21 Bibliographic defines as not repeatable (NR) among those a library
/// meets (the 1XX are counted together, see `MAIN_ENTRIES`).
const NOT_REPEATABLE: [&str; 28] = [
    "001", "003", "005", "008", "010", "018", "036", "038", "040", "042", "043", "044", "045", "066", "240", "243",
    "245", "254", "256", "263", "306", "357", "384", "507", "514", "841", "842", "844",
];

fn not_repeatable(index: usize, tag: &str) -> Problem {
    Problem::new(
        Some(index),
        tag,
        "not_repeatable",
        format!(
            "{tag} は1レコードに1つだけです（繰り返し不可）。重複している {tag} を削除するか、1つにまとめてください。"
        ),
        format!("{tag} is not repeatable: remove the extra {tag} or merge them into one"),
    )
}

/// What a character position (or a run of them) of the leader or 008 may hold.
enum Allowed {
    /// One of these characters.
    OneOf(&'static str),
    /// Exactly this text.
    Exactly(&'static str),
}

/// A checked element of the leader: first position, length, what it may hold, names.
struct Element {
    at: usize,
    len: usize,
    allowed: Allowed,
    ja: &'static str,
    en: &'static str,
}

const LEADER: [Element; 10] = [
    Element { at: 5, len: 1, allowed: Allowed::OneOf("acdnp"), ja: "レコードの状態", en: "record status" },
    Element {
        at: 6, len: 1, allowed: Allowed::OneOf("acdefgijkmoprt"), ja: "レコード種別", en: "type of record"
    },
    Element { at: 7, len: 1, allowed: Allowed::OneOf("abcdims"), ja: "書誌レベル", en: "bibliographic level" },
    Element { at: 8, len: 1, allowed: Allowed::OneOf(" a"), ja: "コントロールの種類", en: "type of control" },
    Element { at: 9, len: 1, allowed: Allowed::OneOf(" a"), ja: "文字コード", en: "character coding scheme" },
    Element {
        at: 10,
        len: 2,
        allowed: Allowed::Exactly("22"),
        ja: "指示子の数とサブフィールドコードの長さ",
        en: "indicator count and subfield code length",
    },
    // The OCLC (I, K, L, M) and JAPAN/MARC (NDL writes z) values are met in real records.
    Element { at: 17, len: 1, allowed: Allowed::OneOf(" 12345678uzIKLM"), ja: "入力レベル", en: "encoding level" },
    Element {
        at: 18,
        len: 1,
        allowed: Allowed::OneOf(" acinu"),
        ja: "記述目録形式",
        en: "descriptive cataloguing form",
    },
    Element {
        at: 19,
        len: 1,
        allowed: Allowed::OneOf(" abc"),
        ja: "複数巻資料のレコードレベル",
        en: "multipart resource record level",
    },
    Element { at: 20, len: 4, allowed: Allowed::Exactly("4500"), ja: "エントリマップ", en: "entry map" },
];

fn check_leader(leader: &str, problems: &mut Vec<Problem>) {
    let chars: Vec<char> = leader.chars().collect();
    if chars.len() != 24 {
        problems.push(Problem::new(
            None,
            "LDR",
            "leader_length",
            format!("リーダーが{}文字です。リーダーはちょうど24文字にしてください。", chars.len()),
            format!("the leader has {} characters: it must have exactly 24", chars.len()),
        ));
        return;
    }
    for element in &LEADER {
        let value: String = chars[element.at..element.at + element.len].iter().collect();
        let ok = match element.allowed {
            Allowed::OneOf(set) => set.contains(value.as_str()),
            Allowed::Exactly(text) => value == text,
        };
        if !ok {
            let (ja_hint, en_hint) = hint(&element.allowed);
            let range = range(element.at, element.len);
            problems.push(
                Problem::new(
                    None,
                    "LDR",
                    "leader_position",
                    format!("リーダー/{range}（{}）が不正です: \"{value}\"。{ja_hint}", element.ja),
                    format!("leader/{range} ({}) is not valid: \"{value}\"; {en_hint}", element.en),
                )
                .position(element.at),
            );
        }
    }
}

/// "06" or "07-10": how MARC 21 names character positions.
fn range(at: usize, len: usize) -> String {
    if len == 1 { format!("{at:02}") } else { format!("{at:02}-{:02}", at + len - 1) }
}

/// What to write instead, in Japanese and English.
fn hint(allowed: &Allowed) -> (String, String) {
    match allowed {
        Allowed::OneOf(set) => {
            let list = |blank: &str| {
                set.chars()
                    .map(|c| if c == ' ' { blank.to_string() } else { c.to_string() })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (format!("使える値: {}", list("空白")), format!("use one of: {}", list("blank")))
        }
        Allowed::Exactly(text) => (format!("\"{text}\" にしてください。"), format!("it must be \"{text}\"")),
    }
}

fn check_control(index: usize, tag: &str, value: &str, problems: &mut Vec<Problem>) {
    if value.contains(['\u{1F}', '\u{1E}', '\u{1D}']) {
        problems.push(Problem::new(
            Some(index),
            tag,
            "control_has_subfield_mark",
            format!("{tag} の値にサブフィールド区切り・フィールド終端・レコード終端の文字があります。制御フィールドには値だけを記録してください。"),
            format!("the value of {tag} holds a subfield delimiter, field or record terminator: a control field holds its value only"),
        ));
    }
    if tag == "008" {
        check_008(index, value, problems);
    }
}

/// What an element of 008 may hold.
enum Rule {
    /// One of these characters.
    OneOf(&'static str),
    /// Six digits (yymmdd) or six blanks.
    DateEntered,
    /// Four of digits, `u`, blank or `|`.
    Year,
    /// A MARC language code, or blanks, fill, `und`, `mul`, `zxx`.
    Language,
}

/// The positions of 008 common to every type of material (00-17 and 35-39; 18-34 depend
/// on leader/06 and are the form's business).
const F008: [(usize, usize, Rule, &str, &str); 7] = [
    (0, 6, Rule::DateEntered, "入力年月日", "date entered on file"),
    (6, 1, Rule::OneOf("bcdeikmnpqrstu|"), "日付の種類", "type of date"),
    (7, 4, Rule::Year, "日付1", "date 1"),
    (11, 4, Rule::Year, "日付2", "date 2"),
    (35, 3, Rule::Language, "言語", "language"),
    (38, 1, Rule::OneOf(" dorsx|"), "修正レコード", "modified record"),
    (39, 1, Rule::OneOf(" cdu|"), "目録作成源", "cataloging source"),
];

fn check_008(index: usize, value: &str, problems: &mut Vec<Problem>) {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() != 40 {
        problems.push(Problem::new(
            Some(index),
            "008",
            "f008_length",
            format!("008 が{}文字です。008 はちょうど40文字にしてください（空白も1文字です）。", chars.len()),
            format!("008 has {} characters: it must have exactly 40 (blanks count)", chars.len()),
        ));
        return;
    }
    for (at, len, rule, ja, en) in &F008 {
        let part = &chars[*at..at + len];
        let text: String = part.iter().collect();
        let range = range(*at, *len);
        let (ok, code, ja_hint, en_hint) = match rule {
            Rule::OneOf(set) => {
                let (ja_hint, en_hint) = hint(&Allowed::OneOf(set));
                (set.contains(text.as_str()), "f008_position", ja_hint, en_hint)
            }
            Rule::DateEntered => (
                part.iter().all(char::is_ascii_digit) || part.iter().all(|c| *c == ' '),
                "f008_position",
                "年月日を6桁の数字（yymmdd）で記録してください。".to_string(),
                "write the date as six digits (yymmdd)".to_string(),
            ),
            Rule::Year => (
                part.iter().all(|c| c.is_ascii_digit() || matches!(c, 'u' | ' ' | '|')),
                "f008_position",
                "年を4桁の数字で記録してください（不明な桁は u、該当しないときは空白）。".to_string(),
                "write the year as four digits (u for an unknown digit, blanks when there is none)".to_string(),
            ),
            Rule::Language => (
                matches!(text.as_str(), "   " | "|||" | "und" | "mul" | "zxx") || language_name(&text).is_some(),
                "language_code",
                "MARC 言語コード（日本語は jpn、英語は eng）を小文字3字で記録してください。".to_string(),
                "use a MARC language code in lower case (jpn for Japanese, eng for English)".to_string(),
            ),
        };
        if !ok {
            problems.push(
                Problem::new(
                    Some(index),
                    "008",
                    code,
                    format!("008/{range}（{ja}）が不正です: \"{text}\"。{ja_hint}"),
                    format!("008/{range} ({en}) is not valid: \"{text}\"; {en_hint}"),
                )
                .position(*at),
            );
        }
    }
}

fn check_data(
    index: usize,
    tag: &str,
    indicators: [char; 2],
    subfields: &[Subfield],
    links: &Links<'_>,
    problems: &mut Vec<Problem>,
) {
    for (number, indicator) in indicators.into_iter().enumerate() {
        if !(indicator == ' ' || indicator.is_ascii_digit() || indicator.is_ascii_lowercase()) {
            let number = number + 1;
            problems.push(
                Problem::new(
                    Some(index),
                    tag,
                    "bad_indicator",
                    format!("{tag} の第{number}指示子が不正です: \"{indicator}\"。空白・数字・英小文字のいずれかにしてください。"),
                    format!("indicator {number} of {tag} is not valid: \"{indicator}\"; use a blank, a digit or a lower-case letter"),
                )
                .position(number),
            );
        }
    }
    if subfields.is_empty() {
        problems.push(Problem::new(
            Some(index),
            tag,
            "no_subfields",
            format!("{tag} にサブフィールドがありません。内容を記録するか、フィールドを削除してください。"),
            format!("{tag} has no subfields: fill it in or remove the field"),
        ));
        return;
    }
    for subfield in subfields {
        let code = subfield.code;
        if !(code.is_ascii_lowercase() || code.is_ascii_digit()) {
            problems.push(
                Problem::new(
                    Some(index),
                    tag,
                    "bad_subfield_code",
                    format!("{tag} のサブフィールドコード \"{code}\" は使えません。英小文字か数字にしてください。"),
                    format!("subfield code \"{code}\" of {tag} is not allowed: use a lower-case letter or a digit"),
                )
                .subfield(code),
            );
        }
        if subfield.value.trim().is_empty() {
            problems.push(
                Problem::new(
                    Some(index),
                    tag,
                    "empty_subfield",
                    format!("{tag} ${code} が空です。内容を記録するか、サブフィールドを削除してください。"),
                    format!("{tag} ${code} is empty: fill it in or remove the subfield"),
                )
                .subfield(code),
            );
        }
        if subfield.value.contains(['\u{1F}', '\u{1E}', '\u{1D}']) {
            problems.push(
                Problem::new(
                    Some(index),
                    tag,
                    "subfield_has_delimiter",
                    format!("{tag} ${code} にサブフィールド区切り・フィールド終端・レコード終端の文字があります。削除してください。"),
                    format!("{tag} ${code} holds a subfield delimiter, field or record terminator: remove it"),
                )
                .subfield(code),
            );
        }
    }
    match tag {
        "020" => check_isbns(index, subfields, problems),
        "245" if !subfields.iter().any(|s| s.code == 'a') => problems.push(
            Problem::new(
                Some(index),
                tag,
                "missing_subfield",
                "245 に $a（本タイトル）がありません。本タイトルを $a に記録してください。".to_string(),
                "245 has no $a (title proper): record the title proper in $a".to_string(),
            )
            .subfield('a'),
        ),
        _ => {}
    }
    links.check(index, tag, subfields, problems);
}

/// 020 $a: the ISBN it begins with has 10 or 13 digits and a right check digit. $z holds
/// cancelled or invalid ISBNs by definition and is not checked.
fn check_isbns(index: usize, subfields: &[Subfield], problems: &mut Vec<Problem>) {
    for value in subfields.iter().filter(|s| s.code == 'a').map(|s| s.value.trim()) {
        if value.is_empty() {
            continue; // empty_subfield says it
        }
        match isbn::leading_isbn(value) {
            None => problems.push(
                Problem::new(
                    Some(index),
                    "020",
                    "isbn_form",
                    format!("020 $a の ISBN が10桁または13桁ではありません: \"{value}\"。本の ISBN を確かめてください（誤りとわかっている ISBN は $z に記録します）。"),
                    format!("the ISBN in 020 $a does not have 10 or 13 digits: \"{value}\"; check the book's ISBN (record a known invalid ISBN in $z)"),
                )
                .subfield('a'),
            ),
            Some(digits) if digits.len() == 13 && !(digits.starts_with("978") || digits.starts_with("979")) => problems
                .push(
                    Problem::new(
                        Some(index),
                        "020",
                        "isbn_form",
                        format!("020 $a の13桁の番号が ISBN ではありません（ISBN-13 は 978 か 979 で始まります）: \"{value}\"。本の ISBN を確かめてください。"),
                        format!("the 13 digits in 020 $a are not an ISBN (an ISBN-13 begins with 978 or 979): \"{value}\"; check the book's ISBN"),
                    )
                    .subfield('a'),
                ),
            Some(digits) => {
                let expected = isbn::check_digit(&digits[..digits.len() - 1]);
                let last = digits[digits.len() - 1..].chars().next();
                if expected != last {
                    let expected = expected.map(String::from).unwrap_or_default();
                    problems.push(
                        Problem::new(
                            Some(index),
                            "020",
                            "isbn_check_digit",
                            format!("020 $a の ISBN のチェックデジットが合いません: \"{value}\"（この番号なら末尾は {expected}）。本の ISBN を確かめてください（誤りとわかっている ISBN は $z に記録します）。"),
                            format!("the check digit of the ISBN in 020 $a is wrong: \"{value}\" (these digits end in {expected}); check the book's ISBN (record a known invalid ISBN in $z)"),
                        )
                        .subfield('a'),
                    );
                }
            }
        }
    }
}

/// A $6 linkage: the linked tag and the occurrence number ("245-01/$1" -> 245, 01).
fn parse_link(value: &str) -> Option<(&str, &str)> {
    let value = value.trim();
    let tag = value.get(..3).filter(|t| t.bytes().all(|b| b.is_ascii_digit()))?;
    let rest = value.get(3..)?.strip_prefix('-')?;
    let occurrence = rest.split('/').next().unwrap_or(rest);
    (occurrence.len() >= 2 && occurrence.bytes().all(|b| b.is_ascii_digit())).then_some((tag, occurrence))
}

/// The $6 linkages of a record: which (tag, occurrence) each field's $6 names.
struct Links<'a> {
    /// (the field's own tag, the tag its $6 names, the occurrence number).
    all: Vec<(&'a str, &'a str, &'a str)>,
}

impl<'a> Links<'a> {
    fn of(record: &'a Record) -> Links<'a> {
        let all = record
            .fields
            .iter()
            .flat_map(|f| {
                let tag = tag_of(f);
                f.subfield_values('6').filter_map(parse_link).map(move |(to, occurrence)| (tag, to, occurrence))
            })
            .collect();
        Links { all }
    }

    /// Whether a field `tag` has a $6 naming `to` with `occurrence`.
    fn has(&self, tag: &str, to: &str, occurrence: &str) -> bool {
        self.all.iter().any(|(t, o, n)| *t == tag && *o == to && *n == occurrence)
    }

    /// An 880 must have a well-formed $6 naming its field (occurrence 00: none); a field
    /// whose $6 names an 880 must have that 880.
    fn check(&self, index: usize, tag: &str, subfields: &[Subfield], problems: &mut Vec<Problem>) {
        let sixes: Vec<&str> = subfields.iter().filter(|s| s.code == '6').map(|s| s.value.as_str()).collect();
        if tag == "880" && sixes.is_empty() {
            problems.push(
                Problem::new(
                    Some(index),
                    tag,
                    "linkage",
                    "880 に $6（リンク）がありません。対応するフィールドのタグと番号を $6 に記録してください（例: 245-01/$1）。".to_string(),
                    "880 has no $6 (linkage): record the tag and occurrence of the field it goes with in $6 (e.g. 245-01/$1)".to_string(),
                )
                .subfield('6'),
            );
        }
        for six in sixes {
            let Some((to, occurrence)) = parse_link(six) else {
                problems.push(
                    Problem::new(
                        Some(index),
                        tag,
                        "linkage",
                        format!("{tag} $6（リンク）の形が不正です: \"{six}\"。「タグ-番号」の形にしてください（例: 245-01/$1、880-01）。"),
                        format!("{tag} $6 (linkage) is malformed: \"{six}\"; write the tag, a hyphen and the occurrence (e.g. 245-01/$1, 880-01)"),
                    )
                    .subfield('6'),
                );
                continue;
            };
            let linked = if tag == "880" {
                occurrence.bytes().all(|b| b == b'0') || self.has(to, "880", occurrence)
            } else if to == "880" {
                self.has("880", tag, occurrence)
            } else {
                // Another tag in $6 of a regular field: not a link to an 880, not checked.
                true
            };
            if !linked {
                let (other, back) = if tag == "880" { (to, "880") } else { ("880", tag) };
                problems.push(
                    Problem::new(
                        Some(index),
                        tag,
                        "linkage",
                        format!("{tag} $6 \"{six}\" の相手がありません。$6 が \"{back}-{occurrence}\" の {other} を加えるか、$6 の番号を直してください。"),
                        format!("{tag} $6 \"{six}\" links to nothing: add the {other} whose $6 is \"{back}-{occurrence}\" or correct the number"),
                    )
                    .subfield('6'),
                );
            }
        }
    }
}

/// A field's tag, borrowed from the field.
fn tag_of(field: &Field) -> &str {
    match field {
        Field::Control { tag, .. } | Field::Data { tag, .. } => tag.as_str(),
    }
}
