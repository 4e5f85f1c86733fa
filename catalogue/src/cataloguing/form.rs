//! The cataloguing form (簡易目録入力): what a librarian fills in for the common case — a
//! Japanese book in print — and the MARC 21 record it makes, in the layout of NDL's
//! JAPAN/MARC (MARC 21 format): the vernacular in the fields themselves, the reading
//! (ヨミ) in katakana in a linked 880 whose `$6` ends in `/$1`, 084 for the NDC, 650 _7
//! `$2 ndlsh` for subjects. The demo records (`fixtures/demo/make-japanese-demo.py`) have
//! the same layout, so a record made here indexes, shows and exports like them.
//!
//! Readings may be typed in hiragana: they are stored in katakana, as NDL does. A record
//! opened in the form is read back with [`CatalogueForm::from_record`]; saving it with
//! [`CatalogueForm::apply_to`] replaces only the fields the form manages and keeps the rest
//! (a contents note, a 041, identifiers of other agencies) with their readings.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::isbn;
use crate::marc::record::{Field, Record, Subfield, Tag, trim_isbd};

/// The form's fields. Empty strings are "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogueForm {
    /// 本タイトル (245 $a).
    pub title: String,
    /// タイトルのヨミ (880 of 245), kana.
    pub title_reading: String,
    /// タイトル関連情報・副書名 (245 $b).
    pub subtitle: String,
    /// 副書名のヨミ.
    pub subtitle_reading: String,
    /// 巻次 (245 $n), e.g. `上` or `第2巻`.
    pub volume: String,
    /// 責任表示 (245 $c), as on the title page: `夏目漱石 著`.
    pub responsibility: String,
    /// 著者 (100/110 for the first, 700/710 for the others).
    pub authors: Vec<FormAuthor>,
    /// 版表示 (250 $a).
    pub edition: String,
    /// 出版地 (260 $a).
    pub place: String,
    /// 出版者 (260 $b).
    pub publisher: String,
    /// 出版者のヨミ (880 of 260).
    pub publisher_reading: String,
    /// 出版年: four digits (260 $c and 008/07-10).
    pub year: String,
    /// ページ数など (300 $a), `254p`; `1冊` when not given.
    pub extent: String,
    /// 大きさ (300 $c), `20cm`.
    pub size: String,
    /// シリーズ名 (490 $a).
    pub series: String,
    /// シリーズ名のヨミ (880 of 490).
    pub series_reading: String,
    /// シリーズ番号 (490 $v).
    pub series_number: String,
    /// ISBN (020 $a), 10 or 13 digits, hyphens allowed.
    pub isbn: String,
    /// 価格 (020 $c), e.g. `1700円`.
    pub price: String,
    /// NDC 分類記号 (084 $a), `913.6`.
    pub ndc: String,
    /// The NDC edition: `9` or `10` (084 $2 `njb/09` or `njb/10`); `9` when empty.
    pub ndc_edition: String,
    /// 件名 (650 _7 $2 ndlsh).
    pub subjects: Vec<FormSubject>,
    /// 注記: one 500 per non-empty line.
    pub notes: String,
    /// 利用対象: `general` or `juvenile` (008/22 `j`, the children's OPAC shows it).
    pub audience: String,
    /// 本文の言語 (008/35-37 and 040 $b), MARC code; `jpn` when empty.
    pub language: String,
}

/// An author of the form: the name as NDL writes it (`夏目, 漱石` for a person, family name
/// first), its reading, dates, and whether it is an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FormAuthor {
    /// 著者名.
    pub name: String,
    /// 著者名のヨミ (kana; not needed for a name in Latin script).
    pub reading: String,
    /// 生没年 (`1867-1916`), $d.
    pub dates: String,
    /// A corporate body (110/710) rather than a person (100/700).
    pub corporate: bool,
}

/// A subject heading: NDLSH form, subdivisions after `--` (`図書館--歴史`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FormSubject {
    /// 件名.
    pub heading: String,
    /// 件名のヨミ.
    pub reading: String,
}

/// Something the librarian must fix in the form, named by the input it belongs to
/// (`title_reading`, `authors.1.reading`, `isbn`, …) so the page shows it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormProblem {
    /// The input's name: a field of [`CatalogueForm`], `authors.{i}.{field}` or
    /// `subjects.{i}.{field}`.
    pub input: String,
    /// A stable code: `required`, `reading_not_kana`, `year_form`, `isbn_check_digit`,
    /// `isbn_form`, `ndc_form`, `ndc_edition`, `audience`, `language_code`.
    pub code: &'static str,
    /// What to do, in Japanese.
    pub ja: String,
    /// The same in English.
    pub en: String,
}

impl FormProblem {
    fn new(input: impl Into<String>, code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> FormProblem {
        FormProblem { input: input.into(), code, ja: ja.into(), en: en.into() }
    }
}

/// Tags the form writes; `apply_to` replaces these and keeps every other field.
const MANAGED: &[&str] = &[
    "005", "007", "008", "020", "040", "084", "100", "110", "245", "250", "260", "264", "300", "490", "500", "650",
    "700", "710",
];

/// Hiragana to katakana (ゝゞ too); everything else as it is. Readings are kept in katakana.
pub fn to_katakana(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Whether `text` can be a reading: kana, the long-vowel mark, the middle dot, spaces,
/// ASCII letters and digits, and the punctuation of names and titles.
fn is_reading(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | 'ヽ' | 'ヾ' | '\u{3000}')
            || c.is_ascii_alphanumeric()
            || matches!(c, ' ' | ',' | '.' | '-' | ':' | ';' | '!' | '?' | '\'' | '(' | ')' | '&' | '=' | '/')
    })
}

fn has_non_latin(text: &str) -> bool {
    text.chars().any(|c| !c.is_ascii() && !matches!(c, '\u{00C0}'..='\u{024F}'))
}

/// Only called with the literal three-digit tags of this file.
fn tag(s: &str) -> Tag {
    s.parse().unwrap_or(Tag::DIGITS_999)
}

fn sub(code: char, value: impl Into<String>) -> Subfield {
    Subfield { code, value: value.into() }
}

fn data(t: &str, ind1: char, ind2: char, subfields: Vec<Subfield>) -> Field {
    Field::Data { tag: tag(t), ind1, ind2, subfields }
}

/// Appends `mark` to the last subfield's value (ISBD punctuation before the next element).
fn end_with(subfields: &mut [Subfield], mark: &str) {
    if let Some(last) = subfields.last_mut() {
        last.value.push_str(mark);
    }
}

/// Fields and their reading 880s, linked `880-NN` / `{tag}-NN/$1`, numbered from `next`.
struct Linked {
    fields: Vec<Field>,
    readings: Vec<Field>,
    next: u32,
}

impl Linked {
    fn add(&mut self, t: &str, ind1: char, ind2: char, subfields: Vec<Subfield>, reading: Option<Vec<Subfield>>) {
        match reading {
            Some(reading) if !reading.iter().all(|s| s.value.trim().is_empty()) => {
                let n = self.next;
                self.next += 1;
                let mut linked = vec![sub('6', format!("880-{n:02}"))];
                linked.extend(subfields);
                self.fields.push(data(t, ind1, ind2, linked));
                let mut r = vec![sub('6', format!("{t}-{n:02}/$1"))];
                r.extend(reading);
                self.readings.push(data("880", ind1, ind2, r));
            }
            _ => self.fields.push(data(t, ind1, ind2, subfields)),
        }
    }
}

impl CatalogueForm {
    /// What must be fixed before the form can make a record; empty when it can.
    pub fn problems(&self) -> Vec<FormProblem> {
        let mut out = Vec::new();
        let required = |out: &mut Vec<FormProblem>, input: &str, value: &str, ja: &str, en: &str| {
            if value.trim().is_empty() {
                out.push(FormProblem::new(
                    input,
                    "required",
                    format!("{ja}を入力してください。"),
                    format!("{en} is required"),
                ));
            }
        };
        let reading = |out: &mut Vec<FormProblem>, input: &str, value: &str| {
            if !value.trim().is_empty() && !is_reading(value) {
                out.push(FormProblem::new(
                    input,
                    "reading_not_kana",
                    "ヨミはカタカナかひらがなで入力してください（漢字は使えません）。",
                    "a reading is written in kana (no kanji)",
                ));
            }
        };
        required(&mut out, "title", &self.title, "タイトル", "the title");
        if has_non_latin(&self.title) {
            required(&mut out, "title_reading", &self.title_reading, "タイトルのヨミ", "the title's reading");
        }
        reading(&mut out, "title_reading", &self.title_reading);
        reading(&mut out, "subtitle_reading", &self.subtitle_reading);
        reading(&mut out, "publisher_reading", &self.publisher_reading);
        reading(&mut out, "series_reading", &self.series_reading);
        for (i, author) in self.authors.iter().enumerate() {
            if author.name.trim().is_empty() {
                continue;
            }
            if has_non_latin(&author.name) {
                required(
                    &mut out,
                    &format!("authors.{i}.reading"),
                    &author.reading,
                    "著者名のヨミ",
                    "the author's reading",
                );
            }
            reading(&mut out, &format!("authors.{i}.reading"), &author.reading);
        }
        for (i, subject) in self.subjects.iter().enumerate() {
            if !subject.heading.trim().is_empty() {
                reading(&mut out, &format!("subjects.{i}.reading"), &subject.reading);
            }
        }
        let year = self.year.trim();
        if year.is_empty() {
            required(&mut out, "year", year, "出版年", "the year of publication");
        } else if !(year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())) {
            out.push(FormProblem::new(
                "year",
                "year_form",
                "出版年は西暦4桁で入力してください（例: 2024）。",
                "the year is four digits (e.g. 2024)",
            ));
        }
        let isbn = self.isbn.trim();
        if !isbn.is_empty() {
            match isbn::leading_isbn(isbn) {
                None => out.push(FormProblem::new(
                    "isbn",
                    "isbn_form",
                    "ISBNは10桁か13桁の数字です（ハイフンは入れても構いません）。",
                    "an ISBN has 10 or 13 digits (hyphens allowed)",
                )),
                Some(digits) => {
                    let expected = isbn::check_digit(&digits[..digits.len() - 1]);
                    if expected != digits.chars().last() {
                        let expected = expected.map(String::from).unwrap_or_default();
                        out.push(FormProblem::new(
                            "isbn",
                            "isbn_check_digit",
                            format!("ISBNのチェックディジットが合いません（末尾は「{expected}」のはずです）。入力を確かめてください。"),
                            format!("the ISBN's check digit is wrong (it should end in {expected}): check what was typed"),
                        ));
                    }
                }
            }
        }
        let ndc = self.ndc.trim();
        if !ndc.is_empty() && !is_ndc(ndc) {
            out.push(FormProblem::new(
                "ndc",
                "ndc_form",
                "NDCは3桁の数字と小数点以下の数字です（例: 913.6）。",
                "an NDC number is three digits and decimals (e.g. 913.6)",
            ));
        }
        if !matches!(self.ndc_edition.trim(), "" | "9" | "10") {
            out.push(FormProblem::new(
                "ndc_edition",
                "ndc_edition",
                "NDCの版は9か10です。",
                "the NDC edition is 9 or 10",
            ));
        }
        if !matches!(self.audience.trim(), "" | "general" | "juvenile") {
            out.push(FormProblem::new(
                "audience",
                "audience",
                "利用対象は「一般」か「児童」です。",
                "the audience is general or juvenile",
            ));
        }
        let language = self.language.trim();
        if !language.is_empty() && crate::marc::language_name(language).is_none() {
            out.push(FormProblem::new(
                "language",
                "language_code",
                format!("言語コード「{language}」はMARC言語コードにありません（日本語は jpn）。"),
                format!("\"{language}\" is not a MARC language code (Japanese is jpn)"),
            ));
        }
        out
    }

    /// The record the form describes, for a new record of library `organisation` (040)
    /// entered on `entered` (008/00-05); the form's [`problems`](Self::problems) if any.
    pub fn to_record(&self, organisation: &str, entered: Date) -> Result<Record, Vec<FormProblem>> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let (fields, readings) = self.fields(organisation, entered, None, 1);
        let mut record = Record { leader: "00000nam a2200000 i 4500".to_string(), fields };
        record.fields.sort_by_key(Field::tag);
        record.fields.extend(readings);
        Ok(record)
    }

    /// `original` with the fields the form manages replaced by the form's (and their 880
    /// readings), every other field kept as it was; its 001 and 003 stay.
    pub fn apply_to(&self, original: &Record, organisation: &str, entered: Date) -> Result<Record, Vec<FormProblem>> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let managed = |t: &str| MANAGED.contains(&t);
        // The links of the managed fields go with them; the others keep their numbers.
        let dropped_links: Vec<String> = original
            .fields
            .iter()
            .filter(|f| managed(f.tag().as_str()))
            .flat_map(|f| f.subfield_values('6').map(|v| link_number(v).to_string()).collect::<Vec<_>>())
            .collect();
        let mut kept: Vec<Field> = Vec::new();
        let mut kept_readings: Vec<Field> = Vec::new();
        let mut highest = 0;
        for field in &original.fields {
            let t = field.tag();
            if managed(t.as_str()) {
                continue;
            }
            if t.as_str() == "880" {
                let link = field.subfield_values('6').next().unwrap_or("");
                let linked_tag = link.get(..3).unwrap_or("");
                if managed(linked_tag) && dropped_links.iter().any(|n| n == link_number(link)) {
                    continue;
                }
                kept_readings.push(field.clone());
            } else {
                kept.push(field.clone());
            }
            for value in field.subfield_values('6') {
                highest = highest.max(link_number(value).parse().unwrap_or(0));
            }
        }
        let old_008 = original.control_value("008");
        let (fields, readings) = self.fields(organisation, entered, old_008, highest + 1);
        kept.extend(fields);
        kept.sort_by_key(Field::tag);
        kept.extend(kept_readings);
        kept.extend(readings);
        Ok(Record { leader: original.leader.clone(), fields: kept })
    }

    /// The form's fields (not sorted) and their readings, links numbered from `first_link`.
    fn fields(
        &self,
        organisation: &str,
        entered: Date,
        old_008: Option<&str>,
        first_link: u32,
    ) -> (Vec<Field>, Vec<Field>) {
        let mut out = vec![
            Field::Control { tag: tag("007"), value: "ta".to_string() },
            Field::Control { tag: tag("008"), value: self.field_008(entered, old_008) },
        ];
        out.push(data("040", ' ', ' ', vec![sub('a', organisation), sub('b', "jpn"), sub('c', organisation)]));
        if let Some(digits) = isbn::leading_isbn(self.isbn.trim()) {
            let mut subfields = vec![sub('a', digits)];
            if !self.price.trim().is_empty() {
                subfields[0].value.push_str(" :");
                subfields.push(sub('c', self.price.trim()));
            }
            out.push(data("020", ' ', ' ', subfields));
        }
        if !self.ndc.trim().is_empty() {
            let edition = if self.ndc_edition.trim() == "10" { "njb/10" } else { "njb/09" };
            out.push(data("084", ' ', ' ', vec![sub('a', self.ndc.trim()), sub('2', edition)]));
        }
        let mut linked = Linked { fields: Vec::new(), readings: Vec::new(), next: first_link };

        // 245 first, so its reading is the first 880 as in JAPAN/MARC.
        let authors: Vec<&FormAuthor> = self.authors.iter().filter(|a| !a.name.trim().is_empty()).collect();
        let (title, reading) = self.title_subfields();
        linked.add("245", if authors.is_empty() { '0' } else { '1' }, '0', title, reading);
        for (i, author) in authors.iter().enumerate() {
            let t = match (i == 0, author.corporate) {
                (true, false) => "100",
                (true, true) => "110",
                (false, false) => "700",
                (false, true) => "710",
            };
            let ind1 = if author.corporate { '2' } else { '1' };
            let reading = to_katakana(author.reading.trim());
            linked.add(
                t,
                ind1,
                ' ',
                name_subfields(author.name.trim(), author.dates.trim()),
                (!reading.is_empty()).then(|| name_subfields(&reading, author.dates.trim())),
            );
        }
        if !self.edition.trim().is_empty() {
            out.push(data("250", ' ', ' ', vec![sub('a', self.edition.trim())]));
        }
        let place = if self.place.trim().is_empty() { "[出版地不明]" } else { self.place.trim() };
        let mut imprint = vec![sub('a', format!("{place} :"))];
        let publisher = if self.publisher.trim().is_empty() { "[出版者不明]" } else { self.publisher.trim() };
        imprint.push(sub('b', format!("{publisher},")));
        imprint.push(sub('c', format!("{}.", self.year.trim())));
        let publisher_reading = to_katakana(self.publisher_reading.trim());
        linked.add(
            "260",
            ' ',
            ' ',
            imprint,
            (!publisher_reading.is_empty()).then(|| vec![sub('b', format!("{publisher_reading}."))]),
        );
        let extent = if self.extent.trim().is_empty() { "1冊" } else { self.extent.trim() };
        let physical = if self.size.trim().is_empty() {
            vec![sub('a', format!("{extent}."))]
        } else {
            vec![sub('a', format!("{extent} ;")), sub('c', format!("{}.", self.size.trim()))]
        };
        out.push(data("300", ' ', ' ', physical));
        if !self.series.trim().is_empty() {
            let number = self.series_number.trim();
            let series = |text: &str| {
                if number.is_empty() {
                    vec![sub('a', text)]
                } else {
                    vec![sub('a', format!("{text} ;")), sub('v', number)]
                }
            };
            let series_reading = to_katakana(self.series_reading.trim());
            linked.add(
                "490",
                '0',
                ' ',
                series(self.series.trim()),
                (!series_reading.is_empty()).then(|| series(&series_reading)),
            );
        }
        for line in self.notes.lines().map(str::trim).filter(|l| !l.is_empty()) {
            out.push(data("500", ' ', ' ', vec![sub('a', line)]));
        }
        for subject in self.subjects.iter().filter(|s| !s.heading.trim().is_empty()) {
            let mut subfields = heading_subfields(subject.heading.trim());
            subfields.push(sub('2', "ndlsh"));
            let reading = to_katakana(subject.reading.trim());
            linked.add("650", ' ', '7', subfields, (!reading.is_empty()).then(|| heading_subfields(&reading)));
        }
        out.extend(linked.fields);
        (out, linked.readings)
    }

    fn title_subfields(&self) -> (Vec<Subfield>, Option<Vec<Subfield>>) {
        let subtitle = self.subtitle.trim();
        let volume = self.volume.trim();
        let mut title = vec![sub('a', self.title.trim())];
        let reading_text = to_katakana(self.title_reading.trim());
        let mut reading = vec![sub('a', reading_text.clone())];
        if !subtitle.is_empty() {
            end_with(&mut title, " :");
            end_with(&mut reading, " :");
            title.push(sub('b', subtitle));
            reading.push(sub('b', to_katakana(self.subtitle_reading.trim())));
        }
        if !volume.is_empty() {
            end_with(&mut title, ".");
            end_with(&mut reading, ".");
            title.push(sub('n', volume));
            reading.push(sub('n', volume));
        }
        if self.responsibility.trim().is_empty() {
            end_with(&mut title, ".");
        } else {
            end_with(&mut title, " /");
            title.push(sub('c', format!("{}.", self.responsibility.trim().trim_end_matches('.'))));
        }
        end_with(&mut reading, ".");
        (title, (!reading_text.is_empty()).then_some(reading))
    }

    fn language_code(&self) -> String {
        let language = self.language.trim();
        if language.is_empty() { "jpn".to_string() } else { language.to_string() }
    }

    /// 008 for books: the entry date, `s` + year, place `ja `, audience, literary form from
    /// the NDC, language. A record being edited keeps its entry date and the positions the
    /// form does not set.
    fn field_008(&self, entered: Date, old: Option<&str>) -> String {
        let mut chars: Vec<char> = match old {
            Some(old) if old.chars().count() == 40 => old.chars().collect(),
            _ => {
                let entered =
                    format!("{:02}{:02}{:02}", entered.year().rem_euclid(100), entered.month(), entered.day());
                format!("{entered}s        ja            000 0 jpn d").chars().collect()
            }
        };
        for (i, c) in self.year.trim().chars().take(4).enumerate() {
            chars[7 + i] = c;
        }
        chars[6] = 's';
        chars[22] = if self.audience.trim() == "juvenile" { 'j' } else { ' ' };
        chars[33] = literary_form(self.ndc.trim());
        for (i, c) in self.language_code().chars().take(3).enumerate() {
            chars[35 + i] = c;
        }
        chars.into_iter().collect()
    }

    /// The form of a stored record, for editing it. Fields the form does not manage are
    /// not in it; [`apply_to`](Self::apply_to) keeps them.
    pub fn from_record(record: &Record) -> CatalogueForm {
        let reading_of = |field: &Field| -> Option<&Field> {
            let link = field.subfield_values('6').next()?;
            let n = link_number(link);
            let t = field.tag();
            record.fields_with_tag("880").find(|r| {
                r.subfield_values('6').next().is_some_and(|v| v.get(..3) == Some(t.as_str()) && link_number(v) == n)
            })
        };
        let text = |field: Option<&Field>, code: char| -> String {
            field.and_then(|f| f.subfield_values(code).next()).map(|v| trim_isbd(v).to_string()).unwrap_or_default()
        };
        let mut form = CatalogueForm::default();
        if let Some(title) = record.fields_with_tag("245").next() {
            let reading = reading_of(title);
            form.title = text(Some(title), 'a');
            form.title_reading = text(reading, 'a');
            form.subtitle = text(Some(title), 'b');
            form.subtitle_reading = text(reading, 'b');
            form.volume = text(Some(title), 'n');
            form.responsibility = text(Some(title), 'c');
        }
        for field in record.fields.iter().filter(|f| matches!(f.tag().as_str(), "100" | "110" | "700" | "710")) {
            let corporate = matches!(field.tag().as_str(), "110" | "710");
            form.authors.push(FormAuthor {
                name: text(Some(field), 'a'),
                reading: text(reading_of(field), 'a'),
                dates: text(Some(field), 'd'),
                corporate,
            });
        }
        form.edition = text(record.fields_with_tag("250").next(), 'a');
        if let Some(imprint) = record.fields.iter().find(|f| matches!(f.tag().as_str(), "260" | "264")) {
            form.place = text(Some(imprint), 'a');
            form.publisher = text(Some(imprint), 'b');
            form.publisher_reading = text(reading_of(imprint), 'b');
            form.year = text(Some(imprint), 'c').chars().filter(char::is_ascii_digit).take(4).collect();
        }
        if form.year.len() != 4 {
            form.year = record.control_value("008").and_then(|v| v.get(7..11)).unwrap_or("").trim().to_string();
        }
        let physical = record.fields_with_tag("300").next();
        form.extent = text(physical, 'a');
        form.size = text(physical, 'c');
        if let Some(series) = record.fields_with_tag("490").next() {
            form.series = text(Some(series), 'a');
            form.series_reading = text(reading_of(series), 'a');
            form.series_number = text(Some(series), 'v');
        }
        if let Some(isbn_field) = record.fields_with_tag("020").next() {
            form.isbn = text(Some(isbn_field), 'a');
            form.price = text(Some(isbn_field), 'c');
        }
        // The NDC is the 084 whose $2 is njb/…; another scheme's 084 (kktb, say) is not it.
        let is_ndc = |f: &&Field| f.subfield_values('2').next().is_some_and(|s| s.starts_with("njb"));
        if let Some(class) = record.fields_with_tag("084").find(is_ndc) {
            form.ndc = text(Some(class), 'a');
            form.ndc_edition = match class.subfield_values('2').next() {
                Some("njb/10") => "10".to_string(),
                _ => "9".to_string(),
            };
        }
        for field in record.fields_with_tag("650") {
            let heading = joined_heading(field);
            let reading = reading_of(field).map(joined_heading).unwrap_or_default();
            form.subjects.push(FormSubject { heading, reading });
        }
        form.notes = record
            .fields_with_tag("500")
            .map(|f| text(Some(f), 'a'))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let fixed = record.control_value("008").unwrap_or("");
        form.audience =
            if matches!(fixed.chars().nth(22), Some('a' | 'b' | 'c' | 'j')) { "juvenile" } else { "general" }
                .to_string();
        form.language = fixed.get(35..38).map(str::trim).filter(|l| !l.is_empty()).unwrap_or("jpn").to_string();
        form
    }
}

/// `NN` of `880-NN` or `245-NN/$1`.
fn link_number(link: &str) -> &str {
    link.get(4..).map(|rest| rest.split('/').next().unwrap_or("")).unwrap_or("")
}

fn is_ndc(ndc: &str) -> bool {
    let (whole, decimals) = ndc.split_once('.').unwrap_or((ndc, ""));
    whole.len() == 3
        && whole.bytes().all(|b| b.is_ascii_digit())
        && decimals.bytes().all(|b| b.is_ascii_digit())
        && !(ndc.contains('.') && decimals.is_empty())
}

/// 008/33 from the NDC: in class 9 (literature) the third digit is the form —
/// 1 poetry, 2 drama, 3 fiction, 4 essays, 5 diaries and letters; elsewhere not fiction.
fn literary_form(ndc: &str) -> char {
    let digits: Vec<u8> = ndc.bytes().take(3).collect();
    if digits.len() == 3 && digits[0] == b'9' && digits[1].is_ascii_digit() && digits[1] != b'0' {
        match digits[2] {
            b'1' => 'p',
            b'2' => 'd',
            b'3' => '1',
            b'4' => 'e',
            b'5' => 'i',
            _ => '0',
        }
    } else {
        '0'
    }
}

/// `$a` (and `$d`) of a name in NDL form: `夏目, 漱石,` `$d1867-1916`.
fn name_subfields(name: &str, dates: &str) -> Vec<Subfield> {
    if dates.is_empty() { vec![sub('a', name)] } else { vec![sub('a', format!("{name},")), sub('d', dates)] }
}

/// `図書館--歴史--日本` -> `$a図書館 $x歴史 $z日本` (a place goes in $z, as NDL writes).
fn heading_subfields(heading: &str) -> Vec<Subfield> {
    let mut parts = heading.split("--").map(str::trim).filter(|p| !p.is_empty());
    let mut out = vec![sub('a', parts.next().unwrap_or(""))];
    for part in parts {
        out.push(sub(if is_place(part) { 'z' } else { 'x' }, part));
    }
    out
}

/// Subdivisions NDLSH writes as geographic ($z); the common ones of Japanese cataloguing.
fn is_place(part: &str) -> bool {
    const PLACES: &[&str] = &[
        "日本",
        "ニホン",
        "アメリカ合衆国",
        "アメリカ ガッシュウコク",
        "中国",
        "チュウゴク",
        "イギリス",
        "フランス",
        "ドイツ",
        "東京都",
        "トウキョウト",
        "大阪府",
        "オオサカフ",
        "京都府",
        "キョウトフ",
        "北海道",
        "ホッカイドウ",
        "沖縄県",
        "オキナワケン",
    ];
    PLACES.contains(&part)
}

fn joined_heading(field: &Field) -> String {
    field
        .subfields()
        .iter()
        .filter(|s| matches!(s.code, 'a' | 'x' | 'y' | 'z' | 'v'))
        .map(|s| trim_isbd(&s.value))
        .collect::<Vec<_>>()
        .join("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn katakana_and_readings() {
        assert_eq!(to_katakana("なつめ, そうせき"), "ナツメ, ソウセキ");
        assert_eq!(to_katakana("こゝろ"), "コヽロ");
        assert!(is_reading("ナツメ ソウセキ"));
        assert!(!is_reading("夏目"));
        assert_eq!(literary_form("913.6"), '1');
        assert_eq!(literary_form("911.56"), 'p');
        assert_eq!(literary_form("010.2"), '0');
        assert_eq!(literary_form("900"), '0');
        assert!(is_ndc("913.6") && is_ndc("726") && !is_ndc("91") && !is_ndc("913.") && !is_ndc("E"));
        assert_eq!(link_number("880-03"), "03");
        assert_eq!(link_number("245-01/$1"), "01");
    }
}
