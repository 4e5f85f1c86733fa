//! MARC codecs: ISO 2709 (UTF-8 and MARC-8), MARCXML, MarcEdit's `.mrk` and MARC-in-JSON
//! in (each also gzip-compressed); UTF-8 ISO 2709, MARCXML, `.mrk` and MARC-in-JSON out,
//! every record checked first (`check.rs`) so that an export is valid or says why not.
//!
//! Written here rather than taken from the `marc-record` crate because the catalogue
//! needs what that crate does not do: write records, read MARCXML, decode MARC-8 CJK
//! (EACC), keep the leader as it was, and say where in a file a bad record lies.

pub(crate) mod check;
pub(crate) mod iso2709;
pub(crate) mod json;
pub(crate) mod languages;
pub(crate) mod marc8;
pub(crate) mod marcxml;
pub(crate) mod mnemonic;
pub(crate) mod record;
pub(crate) mod source;

/// A MARC language code's names: English, and Japanese where the project has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LanguageName {
    /// The English name, e.g. `Thai`.
    pub english: &'static str,
    /// The Japanese name, e.g. `タイ語`, for the languages a Japanese library meets most.
    pub japanese: Option<&'static str>,
}

/// The names of a MARC language code (lower case, three letters, e.g. `jpn`), or `None`
/// when it is not a code of the MARC list (ISO 639-2/B): what cataloguers' slips leave in
/// 008/35-37 and 041 (`a`, `iar`) is not a language.
pub fn language_name(code: &str) -> Option<LanguageName> {
    languages::LANGUAGES
        .binary_search_by(|(c, _, _)| (*c).cmp(code))
        .ok()
        .map(|at| LanguageName { english: languages::LANGUAGES[at].1, japanese: languages::LANGUAGES[at].2 })
}

#[cfg(test)]
mod tests {
    use super::record::{Field, Record, Subfield, Tag};
    use super::*;
    use proptest::prelude::*;

    fn pick(chars: &str) -> impl Strategy<Value = char> + use<> {
        prop::sample::select(chars.chars().collect::<Vec<_>>())
    }

    /// Text with what each format escapes or gives a meaning to: `$ { } \ |`, blanks at
    /// either end, a tab, `=` at the start, kana, kanji, a precomposed letter.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(pick("a Z0$${}\\|=@#\té漱ゝ"), 0..12).prop_map(|c| c.into_iter().collect())
    }

    fn tag(choices: &'static [&'static str]) -> impl Strategy<Value = Tag> {
        prop::sample::select(choices).prop_map(|t| t.parse().unwrap_or_else(|()| unreachable!("{t}")))
    }

    fn field() -> impl Strategy<Value = Field> {
        let control =
            (tag(&["001", "003", "005", "008", "00A"]), text()).prop_map(|(tag, value)| Field::Control { tag, value });
        let subfield = (pick("a0z9!\"{}|@~\\"), text()).prop_map(|(code, value)| Subfield { code, value });
        let data = (
            tag(&["020", "245", "500", "880", "9ab", "ZZZ"]),
            pick("0189az |"),
            pick("0189az |"),
            prop::collection::vec(subfield, 0..4),
        )
            .prop_map(|(tag, ind1, ind2, subfields)| Field::Data { tag, ind1, ind2, subfields });
        prop_oneof![control, data]
    }

    fn record() -> impl Strategy<Value = Record> {
        (prop::collection::vec(pick("acmnpz0129 #|"), 19), prop::collection::vec(field(), 1..8)).prop_map(
            |(leader, fields)| Record { leader: format!("00000{}", leader.into_iter().collect::<String>()), fields },
        )
    }

    proptest! {
        /// Issue #19: what the `.mrk`, MARC-in-JSON and ISO 2709 exports write, our
        /// readers read back as the same record: control fields first, the leader with
        /// its lengths, every value and code as it was.
        #[test]
        fn exports_read_back_identically(record in record()) {
            let fields: Vec<Field> = record.exchange_order().cloned().collect();
            let leader = iso2709::exchange_leader(&record).map_err(|e| TestCaseError::fail(e.0))?;

            let mut mrk = String::new();
            mnemonic::write(&record, &mut mrk).map_err(TestCaseError::fail)?;
            let back = mnemonic::read(mrk.as_bytes());
            prop_assert_eq!(back.len(), 1);
            let back = back.into_iter().next().map(|r| r.result);
            prop_assert_eq!(back, Some(Ok(Record { leader: leader.clone(), fields: fields.clone() })), "{}", mrk);

            let mut json_text = String::new();
            json::write(&record, &mut json_text).map_err(TestCaseError::fail)?;
            let back = json::read(json_text.as_bytes()).into_iter().next().map(|r| r.result);
            prop_assert_eq!(back, Some(Ok(Record { leader: leader.clone(), fields: fields.clone() })));

            let mut marc = Vec::new();
            iso2709::write_exchange(&record, &mut marc).map_err(TestCaseError::fail)?;
            let back = iso2709::parse(&marc).map(|(r, _)| r).map_err(|e| e.reason);
            prop_assert_eq!(back, Ok(Record { leader, fields }));
        }
    }

    #[test]
    fn language_codes_of_the_marc_list_only() {
        assert!(languages::LANGUAGES.windows(2).all(|w| w[0].0 < w[1].0), "the table is sorted and unique");
        assert_eq!(language_name("jpn").and_then(|n| n.japanese), Some("日本語"));
        assert_eq!(language_name("tha").map(|n| n.english), Some("Thai"));
        for junk in ["a", "iar", "JPN", "", "eng ", "xx"] {
            assert_eq!(language_name(junk), None, "{junk:?}");
        }
    }
}
