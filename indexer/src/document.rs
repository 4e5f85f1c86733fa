//! MARC -> search document: what of a record is searched, shown, faceted and sorted.
//!
//! JAPAN/MARC and LC records arrange Japanese differently, and both are read here:
//! JAPAN/MARC has the vernacular in 245 and puts the katakana reading in an 880 whose $6
//! ends `/$1` and the romanisation in one ending `/(B`; LC has the romanisation in 245 and
//! the vernacular (kanji and kana) in an 880 ending `/$1`. So an 880's role is read from
//! its text: katakana-only text is a reading, `(B` is a romanisation, anything else is
//! the vernacular form of the field it links to.

use catalogue::{Field, Record, trim_isbd};
use unicode_normalization::UnicodeNormalization;

/// The searchable, displayable parts of one bibliographic record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BibDocument {
    /// The bib id in the catalogue.
    pub id: u64,
    /// 001.
    pub control_number: String,
    /// 003, or 040 $a when 003 is absent.
    pub source: String,
    /// The title to show: the vernacular 245 ($a $b $n $p) when there is one.
    pub title: String,
    /// Every title form: 245, 246, 240, 130, 740 and their vernacular 880s, and the title
    /// with its edition statement (250), so 広辞苑 第7版 is found as typed.
    pub titles: Vec<String>,
    /// Further forms matched only as a whole title (完全一致): the title proper (245 $a)
    /// alone, since patrons type it without the subtitle.
    pub title_proper: Vec<String>,
    /// Catalogued readings of the titles (katakana, from 880 `/$1`).
    pub title_readings: Vec<String>,
    /// Romanised titles (880 `/(B`, and 245 of records whose vernacular is in 880).
    pub title_romanised: Vec<String>,
    /// Names: 100, 110, 111, 700, 710, 711 and vernacular 880s.
    pub authors: Vec<String>,
    /// Catalogued readings and romanisations of the names.
    pub author_readings: Vec<String>,
    /// Subjects: 600-651 ($a and subdivisions joined with " -- ").
    pub subjects: Vec<String>,
    /// Series: 490 $a, 800-830 $a $t.
    pub series: Vec<String>,
    /// The volumes the record is, as one form ("2", "下"): 245 $n, 490 $v, 800-830 $v and
    /// their 880s (see `volume.rs`).
    pub volumes: Vec<String>,
    /// Publisher: 260/264 $b.
    pub publishers: Vec<String>,
    /// Notes and contents: 500 $a, 505 $a $t, 520 $a.
    pub notes: Vec<String>,
    /// ISBN-13s (020 $a, ISBN-10 converted).
    pub isbns: Vec<String>,
    /// ISSNs (022 $a).
    pub issns: Vec<String>,
    /// NDC numbers (084 with $2 njb*).
    pub ndc: Vec<String>,
    /// Other class numbers: NDLC (084 $2 kktb), LCC (050 $a), DDC (082 $a).
    pub classes: Vec<String>,
    /// Year of publication (008/07-10, else the first four-digit year in 260/264 $c).
    pub year: Option<i64>,
    /// Languages (008/35-37, 041 $a), MARC codes such as `jpn`.
    pub languages: Vec<String>,
    /// Material type from Leader/06-07.
    pub material: &'static str,
    /// Codes of the branches holding a copy (withdrawn copies left out). Read from the
    /// catalogue's items, not from the MARC record: empty until
    /// [`BibDocument::set_availability`].
    pub branches: Vec<String>,
    /// Codes of the branches where a copy can be borrowed now (on the shelf, not a
    /// reference copy; not lent, set aside on the hold shelf or in transit).
    pub available_at: Vec<String>,
}

/// The role of an 880 field, read from its $6 and its text.
enum Alternate {
    Vernacular,
    Reading,
    Romanised,
}

fn classify_880(field: &Field) -> Option<(String, Alternate)> {
    let link = field.subfield_values('6').next()?;
    let tag = link.get(..3)?.to_string();
    let script = link.split('/').nth(1).unwrap_or("");
    let text = display_text(field, &['6']);
    let role = if script.starts_with("(B") {
        Alternate::Romanised
    } else if is_reading(&text) {
        Alternate::Reading
    } else {
        Alternate::Vernacular
    };
    Some((tag, role))
}

/// Katakana text (with spaces, punctuation, Latin letters or digits) and no kanji: a reading.
fn is_reading(text: &str) -> bool {
    let has_katakana = text.chars().any(tokenizer_dict::is_katakana);
    let has_other_japanese = text.chars().any(|c| {
        tokenizer_dict::is_hiragana(c)
            || matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{323AF}')
    });
    has_katakana && !has_other_japanese
}

/// The subfields' values joined with spaces, trailing ISBD punctuation trimmed.
fn display_text(field: &Field, skip: &[char]) -> String {
    let parts: Vec<&str> = field
        .subfields()
        .iter()
        .filter(|s| !skip.contains(&s.code) && !s.code.is_ascii_digit())
        .map(|s| trim_isbd(&s.value))
        .filter(|v| !v.is_empty())
        .collect();
    parts.join(" ")
}

/// Adds a value once, in NFC: LC writes decomposed diacritics (o + U+0304), and the same
/// text must show and compare alike whatever form a record came in.
fn push_unique(list: &mut Vec<String>, value: String) {
    let value = if unicode_normalization::is_nfc(&value) { value } else { value.nfc().collect() };
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

impl BibDocument {
    /// Maps a catalogue record to its search document.
    pub fn from_record(id: u64, record: &Record) -> BibDocument {
        let mut doc = BibDocument {
            id,
            control_number: record.control_number().unwrap_or_default().to_string(),
            source: record
                .control_organisation()
                .map(str::to_string)
                .or_else(|| {
                    record.fields_with_tag("040").flat_map(|f| f.subfield_values('a')).next().map(str::to_string)
                })
                .unwrap_or_default(),
            material: material(&record.leader),
            ..BibDocument::default()
        };
        let mut main_title = String::new();
        let mut editions: Vec<String> = Vec::new();
        let mut vernacular_main_title = None;
        for field in &record.fields {
            let tag = field.tag();
            match tag.as_str() {
                "245" => {
                    main_title = field.text(&['a', 'b', 'n', 'p']);
                    push_unique(&mut doc.titles, main_title.clone());
                    push_unique(&mut doc.title_proper, field.text(&['a']));
                }
                "250" => editions.push(field.text(&['a'])),
                "246" | "240" | "130" | "740" => push_unique(&mut doc.titles, field.text(&['a', 'b', 'n', 'p'])),
                "100" | "110" | "111" | "700" | "710" | "711" => {
                    push_unique(&mut doc.authors, field.text(&['a', 'b', 'c', 'd', 'q']))
                }
                "600" | "610" | "611" | "630" | "650" | "651" => push_unique(&mut doc.subjects, subject_heading(field)),
                "490" => push_unique(&mut doc.series, field.text(&['a', 'v'])),
                "800" | "810" | "811" | "830" => push_unique(&mut doc.series, field.text(&['a', 't', 'v'])),
                "260" | "264" => {
                    for publisher in field.subfield_values('b') {
                        push_unique(&mut doc.publishers, trim_isbd(publisher).to_string());
                    }
                    if doc.year.is_none() {
                        doc.year = field.subfield_values('c').find_map(first_year);
                    }
                }
                "500" | "520" => push_unique(&mut doc.notes, field.text(&['a'])),
                "505" => push_unique(&mut doc.notes, field.text(&['a', 't', 'r'])),
                "020" => {
                    for isbn in field.subfield_values('a').filter_map(catalogue::isbn13) {
                        push_unique(&mut doc.isbns, isbn);
                    }
                }
                "022" => {
                    for issn in field.subfield_values('a') {
                        push_unique(&mut doc.issns, issn.trim().to_uppercase());
                    }
                }
                "084" => {
                    let scheme = field.subfield_values('2').next().unwrap_or("");
                    for number in field.subfield_values('a') {
                        let number = number.trim().to_string();
                        if scheme.starts_with("njb") {
                            push_unique(&mut doc.ndc, number);
                        } else {
                            push_unique(&mut doc.classes, number);
                        }
                    }
                }
                "050" | "082" => {
                    for number in field.subfield_values('a') {
                        push_unique(&mut doc.classes, number.trim().to_string());
                    }
                }
                "041" => {
                    for code in field.subfield_values('a') {
                        // Old records run codes together (`engjpn`); only codes of the MARC
                        // list are languages (no `a` or `iar` left by a slip).
                        for chunk in code.trim().as_bytes().chunks(3) {
                            let chunk = String::from_utf8_lossy(chunk).to_lowercase();
                            if catalogue::language_name(&chunk).is_some() {
                                push_unique(&mut doc.languages, chunk);
                            }
                        }
                    }
                }
                "880" => {
                    let Some((linked, role)) = classify_880(field) else { continue };
                    let text = match linked.as_str() {
                        "245" | "246" | "240" | "130" | "740" => field.text(&['a', 'b', 'n', 'p']),
                        _ => display_text(field, &['6']),
                    };
                    match (linked.as_str(), role) {
                        ("245" | "246" | "240" | "130" | "740", Alternate::Vernacular) => {
                            if linked == "245" && vernacular_main_title.is_none() {
                                vernacular_main_title = Some(text.clone());
                                push_unique(&mut doc.title_proper, field.text(&['a']));
                            }
                            push_unique(&mut doc.titles, text);
                        }
                        ("250", Alternate::Vernacular) => editions.push(field.text(&['a'])),
                        ("245" | "246" | "240" | "130" | "740", Alternate::Reading) => {
                            push_unique(&mut doc.title_readings, text)
                        }
                        ("245" | "246" | "240" | "130" | "740", Alternate::Romanised) => {
                            push_unique(&mut doc.title_romanised, text)
                        }
                        ("100" | "110" | "111" | "700" | "710" | "711", Alternate::Vernacular) => {
                            push_unique(&mut doc.authors, text)
                        }
                        ("100" | "110" | "111" | "700" | "710" | "711", _) => {
                            push_unique(&mut doc.author_readings, text)
                        }
                        ("600" | "610" | "611" | "630" | "650" | "651", Alternate::Vernacular) => {
                            push_unique(&mut doc.subjects, text)
                        }
                        ("490" | "800" | "810" | "811" | "830", Alternate::Vernacular) => {
                            push_unique(&mut doc.series, text)
                        }
                        ("260" | "264", Alternate::Vernacular) => {
                            let publisher = field.text(&['b']);
                            push_unique(&mut doc.publishers, publisher);
                        }
                        ("500" | "505" | "520", Alternate::Vernacular) => push_unique(&mut doc.notes, text),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        for field in &record.fields {
            let tag = field.tag();
            let linked = if tag.as_str() == "880" {
                field.subfield_values('6').next().and_then(|link| link.get(..3))
            } else {
                Some(tag.as_str())
            };
            let code = match linked {
                Some("245") => 'n',
                Some("490" | "800" | "810" | "811" | "830") => 'v',
                _ => continue,
            };
            for designation in field.subfield_values(code) {
                if let Some(volume) = crate::volume::catalogued(designation) {
                    push_unique(&mut doc.volumes, volume);
                }
            }
        }
        if let Some(field008) = record.control_value("008") {
            let year =
                field008.get(7..11).filter(|y| y.bytes().all(|b| b.is_ascii_digit())).and_then(|y| y.parse().ok());
            if year.is_some() {
                doc.year = year;
            }
            if let Some(lang) = field008
                .get(35..38)
                .map(str::trim)
                .map(str::to_lowercase)
                .filter(|l| catalogue::language_name(l).is_some())
            {
                doc.languages.retain(|l| *l != lang);
                doc.languages.insert(0, lang);
            }
        }
        // The title with each edition statement is a title form too (広辞苑 第7版).
        for edition in editions.iter().filter(|e| !e.is_empty()) {
            let proper = vernacular_main_title.as_deref().unwrap_or(&main_title);
            push_unique(&mut doc.titles, format!("{proper} {edition}"));
        }
        // A romanised 245 with a vernacular 880 (LC practice): show the vernacular, and
        // search the 245 as a romanisation too.
        match vernacular_main_title {
            Some(vernacular) => {
                push_unique(&mut doc.title_romanised, main_title);
                doc.title = vernacular.nfc().collect();
            }
            None => doc.title = main_title.nfc().collect(),
        }
        doc
    }

    /// Sets where the record's copies are and where one can be borrowed now, from the
    /// catalogue's availability of the record.
    pub fn set_availability(&mut self, availability: &catalogue::Availability) {
        self.branches = availability.branches.iter().map(|b| b.branch.clone()).collect();
        self.available_at =
            availability.branches.iter().filter(|b| b.available > 0).map(|b| b.branch.clone()).collect();
    }
}

/// A subject heading: the heading proper ($a $b $c $d $t, e.g. a name with its dates)
/// followed by its subdivisions ($v $x $y $z), joined with " -- " as catalogues show them.
fn subject_heading(field: &Field) -> String {
    let mut heading = field.text(&['a', 'b', 'c', 'd', 't']);
    for subdivision in field.subfields().iter().filter(|s| matches!(s.code, 'v' | 'x' | 'y' | 'z')) {
        let value = trim_isbd(&subdivision.value);
        if !value.is_empty() {
            heading.push_str(" -- ");
            heading.push_str(value);
        }
    }
    heading
}

fn first_year(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|i| {
        let window = bytes.get(i..i + 4)?;
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_digit();
        let after_ok = bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        (window.iter().all(u8::is_ascii_digit) && before_ok && after_ok)
            .then(|| std::str::from_utf8(window).ok()?.parse().ok())
            .flatten()
            .filter(|year| (1000..=2999).contains(year))
    })
}

/// Material type from Leader/06 (type of record) and /07 (bibliographic level).
fn material(leader: &str) -> &'static str {
    let bytes = leader.as_bytes();
    match (bytes.get(6), bytes.get(7)) {
        (Some(b'a' | b't'), Some(b's' | b'i')) => "serial",
        (Some(b'a' | b't'), _) => "book",
        (Some(b'c' | b'd'), _) => "score",
        (Some(b'e' | b'f'), _) => "map",
        (Some(b'g'), _) => "video",
        (Some(b'i'), _) => "audiobook",
        (Some(b'j'), _) => "music",
        (Some(b'k'), _) => "image",
        (Some(b'm'), _) => "electronic",
        (Some(b'o' | b'p'), _) => "kit",
        (Some(b'r'), _) => "object",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_found_in_publication_statements() {
        assert_eq!(first_year("2018.3"), Some(2018));
        assert_eq!(first_year("[c1998]"), Some(1998));
        assert_eq!(first_year("平成10 [1998]"), Some(1998));
        assert_eq!(first_year("12345"), None);
        assert_eq!(first_year(""), None);
    }

    #[test]
    fn katakana_text_is_a_reading() {
        assert!(is_reading("コレカラ ノ ホン ノ ハナシ オ シヨウ"));
        assert!(is_reading("スグ ツカエル Mac & Office カツヨウ トクホン"));
        assert!(!is_reading("これからの本の話をしよう"));
        assert!(!is_reading("Korekara no hon"));
    }
}
