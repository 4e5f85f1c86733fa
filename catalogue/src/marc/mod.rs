//! MARC codecs: ISO 2709 (UTF-8 and MARC-8) and MARCXML in, UTF-8 ISO 2709 and MARCXML out.
//!
//! Written here rather than taken from the `marc-record` crate because the catalogue
//! needs what that crate does not do: write records, read MARCXML, decode MARC-8 CJK
//! (EACC), keep the leader as it was, and say where in a file a bad record lies.

pub(crate) mod iso2709;
pub(crate) mod languages;
pub(crate) mod marc8;
pub(crate) mod marcxml;
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
    use super::*;

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
