//! A library's own words through a user dictionary.

use std::io::Write;

use tokenizer_dict::{Error, JapaneseAnalyzer};

#[test]
fn a_user_dictionary_adds_local_names() -> Result<(), Box<dyn std::error::Error>> {
    let title = "栞ヶ丘町立図書館の郷土資料";
    let plain = JapaneseAnalyzer::new()?.analyze(title)?;
    assert!(!plain.morphemes.iter().any(|m| m.normalized == "栞ヶ丘"), "{:?}", plain.morphemes);

    let mut file = tempfile()?;
    writeln!(file.1, "栞ヶ丘,カスタム名詞,シオリガオカ")?;
    let analyzer = JapaneseAnalyzer::with_user_dictionary(&file.0)?;
    let analysis = analyzer.analyze(title)?;
    let local = analysis.morphemes.iter().find(|m| m.normalized == "栞ヶ丘").ok_or("user word not found")?;
    assert_eq!(local.reading.as_deref(), Some("しおりがおか"));
    assert_eq!(local.romaji.as_ref().map(|r| r.hepburn.as_str()), Some("shiorigaoka"));
    Ok(())
}

#[test]
fn a_malformed_user_dictionary_is_a_clear_error() -> Result<(), Box<dyn std::error::Error>> {
    for csv in ["栞ヶ丘,カスタム名詞\n", "a,b,c,d\n", ",名詞,ヨミ\n"] {
        match JapaneseAnalyzer::with_user_dictionary_csv(csv) {
            Err(Error::UserDictionary { reason, .. }) => {
                assert!(reason.contains("line 1"), "{reason}")
            }
            Err(other) => return Err(format!("{csv:?}: unexpected error {other}").into()),
            Ok(_) => return Err(format!("{csv:?} must be refused").into()),
        }
    }
    let missing = JapaneseAnalyzer::with_user_dictionary(std::path::Path::new("/nonexistent/userdic.csv"));
    match missing {
        Err(err) => assert!(err.to_string().contains("/nonexistent/userdic.csv"), "{err}"),
        Ok(_) => return Err("a missing file must be refused".into()),
    }
    Ok(())
}

/// A file in the system temp folder, removed when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tempfile() -> std::io::Result<(std::path::PathBuf, std::fs::File, TempFile)> {
    let path = std::env::temp_dir().join(format!(
        "shiori-userdic-{}-{:?}.csv",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = std::fs::File::create(&path)?;
    Ok((path.clone(), file, TempFile(path)))
}
