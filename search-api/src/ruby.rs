//! Ruby over the kanji of a title, as every page shows it (issues #16 and #18): from the
//! reading the record carries when it has one, else from the dictionary where it is likely
//! right, and none rather than a wrong one (`tokenizer_dict::JapaneseAnalyzer::furigana`).

use tokenizer_dict::{JapaneseAnalyzer, RubySegment};

/// The ruby of `title` whose index reading is `reading` (the catalogued reading, or the
/// analyser's when the record has none). A reading equal to what the analyser makes of the
/// title is taken for the analyser's, and read as such: only where it is likely right.
pub(crate) fn title_ruby(analyzer: &JapaneseAnalyzer, title: &str, reading: &str) -> Option<Vec<RubySegment>> {
    let reading = reading.trim();
    if reading.is_empty() {
        return analyzer.furigana(title, None).ok().flatten();
    }
    let squash = |s: &str| tokenizer_dict::to_hiragana(s).chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let machine = analyzer.analyze(title).ok()?.reading;
    let catalogued = squash(&machine) != squash(reading);
    analyzer.furigana(title, catalogued.then_some(reading)).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_reading_is_not_trusted_where_the_dictionary_guesses() {
        let analyzer = JapaneseAnalyzer::new().unwrap();
        let machine = analyzer.analyze("病跡学ノート").unwrap().reading;
        assert_eq!(title_ruby(&analyzer, "病跡学ノート", &machine), None, "{machine}");
        let ruby = title_ruby(&analyzer, "病跡学ノート", "ビョウセキガク ノート").unwrap();
        assert_eq!(ruby[0].reading.as_deref(), Some("びょうせきがく"));
        assert_eq!(title_ruby(&analyzer, "Library science", "library science"), None);
    }
}
