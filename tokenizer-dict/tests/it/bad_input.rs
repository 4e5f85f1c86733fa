//! Input nobody should send, which must still be handled without a panic.

use tokenizer_dict::{JapaneseAnalyzer, normalize};

#[test]
fn empty_and_blank_text() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = JapaneseAnalyzer::new()?;
    for input in ["", " ", "\u{3000}\t\n", "、。・「」", "???", "\u{200B}\u{FEFF}"] {
        let analysis = analyzer.analyze(input)?;
        assert!(analysis.morphemes.is_empty(), "{input:?}: {:?}", analysis.morphemes);
        assert!(analysis.bigrams.is_empty() && analysis.keys.exact.is_empty(), "{input:?}");
    }
    Ok(())
}

#[test]
fn one_megabyte_of_text() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = JapaneseAnalyzer::new()?;
    let sentence = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。";
    let text = sentence.repeat(1_000_000 / sentence.len() + 1);
    assert!(text.len() >= 1_000_000);
    let analysis = analyzer.analyze(&text)?;
    assert!(analysis.morphemes.len() > 100_000);
    let last = analysis.morphemes.last().ok_or("no morphemes")?;
    assert_eq!(text.get(last.start..last.end), Some(last.surface.as_str()));
    // A megabyte with no punctuation at all: one unbroken run for the lattice.
    let run = "図書館".repeat(350_000);
    let analysis = analyzer.analyze(&run)?;
    assert!(!analysis.morphemes.is_empty());
    Ok(())
}

#[test]
fn control_characters_emoji_and_rare_cjk() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = JapaneseAnalyzer::new()?;
    let cases = [
        "図書\u{0000}館\u{0007}の\u{001B}[31m歴史\u{007F}",
        "本が好き😀📚👨‍👩‍👧",
        "𠮷野家と𩸽(ほっけ)",
        "\u{2A6D6}\u{30000}\u{3134A}",
        "\u{E000}私用領域\u{F8FF}",
        "a\u{0301}\u{0301}\u{0301}",
        "\u{0301}先頭の結合文字",
        "ゝゞヽヾ",
        "ー～〜・",
        "ヴ",
        "\u{FFFD}\u{FFFD}",
        "\u{202E}右から左\u{202C}",
    ];
    for input in cases {
        let analysis = analyzer.analyze(input)?;
        for m in &analysis.morphemes {
            assert_eq!(input.get(m.start..m.end), Some(m.surface.as_str()), "{input:?}: {m:?}");
        }
        let once = normalize(input);
        assert_eq!(normalize(once.as_str()).as_str(), once.as_str(), "{input:?}");
        assert!(!once.as_str().chars().any(|c| c.is_control()), "{input:?} -> {:?}", once.as_str());
    }
    // Supplementary-plane kanji survive normalisation and make bigrams; 𠮷 (U+20BB7) is
    // an 異体字 of 吉 and folds to it, so 𠮷野家 and 吉野家 meet.
    let analysis = analyzer.analyze("𠮷野家")?;
    assert_eq!(analysis.normalized, "吉野家");
    let analysis = analyzer.analyze("𩸽の干物")?;
    assert_eq!(analysis.normalized, "𩸽の干物");
    assert!(analysis.bigrams.iter().any(|g| g.text == "𩸽の"));
    Ok(())
}

#[test]
fn json_with_invalid_surrogates_is_refused_cleanly() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = JapaneseAnalyzer::new()?;
    // A lone surrogate cannot become a Rust string: the JSON layer refuses it with an error.
    for json in [r#"{"text":"\ud800"}"#, r#"{"text":"図書\udfff館"}"#, r#"{"text":"\ude00\ud83d"}"#] {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(json);
        assert!(parsed.is_err(), "{json} must be refused");
    }
    // A valid pair is an ordinary character.
    let value: serde_json::Value = serde_json::from_str(r#"{"text":"本\ud83d\udcda"}"#)?;
    let text = value["text"].as_str().ok_or("no text")?;
    assert_eq!(text, "本📚");
    assert!(!analyzer.analyze(text)?.morphemes.is_empty());
    // Invalid UTF-8 decoded lossily reaches the analyser as U+FFFD, which is harmless.
    let lossy = String::from_utf8_lossy(b"\xE5\x9B\xB3\xFF\xFE\xE6\x9B\xB8");
    analyzer.analyze(&lossy)?;
    Ok(())
}
