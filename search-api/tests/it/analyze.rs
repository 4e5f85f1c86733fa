//! `shiori analyze` end to end: the real binary, its JSON, its errors.

use std::io::Write;
use std::process::{Command, Stdio};

fn shiori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shiori"))
}

fn analyze(args: &[&str]) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let output = shiori().arg("analyze").args(args).output()?;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    Ok(serde_json::from_slice(&output.stdout)?)
}

#[test]
fn prints_the_analysis_as_json() -> Result<(), Box<dyn std::error::Error>> {
    let text = "東京都立図書館の歴史";
    let json = analyze(&[text])?;
    assert_eq!(json["text"], text);
    assert_eq!(json["normalized"], text);
    let morphemes = json["morphemes"].as_array().ok_or("morphemes")?;
    let library = morphemes.iter().find(|m| m["surface"] == "図書館").ok_or("図書館")?;
    assert_eq!(library["reading"], "としょかん");
    assert_eq!(library["part_of_speech"], "名詞-一般");
    // Byte offsets into the original text.
    let (start, end) = (library["start"].as_u64().ok_or("start")?, library["end"].as_u64().ok_or("end")?);
    assert_eq!(&text[start as usize..end as usize], "図書館");
    assert!(json["bigrams"].as_array().ok_or("bigrams")?.iter().any(|g| g["text"] == "書館"));
    assert!(json["readings"].as_array().ok_or("readings")?.iter().any(|r| r == "としょかん"));
    assert_eq!(json["romaji"]["hepburn"], "tokyo toritsu toshokan no rekishi");
    assert_eq!(json["romaji"]["wapuro"], "toukyou toritsu toshokan no rekishi");
    assert_eq!(json["keys"]["exact"], text);
    Ok(())
}

#[test]
fn offsets_refer_to_the_original_full_width_text() -> Result<(), Box<dyn std::error::Error>> {
    let text = "ＩＴパスポート２０２４";
    let json = analyze(&["--compact", text])?;
    assert_eq!(json["normalized"], "itパスポート2024");
    let first = &json["morphemes"][0];
    assert_eq!(
        (first["surface"].as_str(), first["start"].as_u64(), first["end"].as_u64()),
        (Some("ＩＴ"), Some(0), Some(6))
    );
    Ok(())
}

#[test]
fn reads_standard_input_and_tolerates_invalid_utf8() -> Result<(), Box<dyn std::error::Error>> {
    let mut child = shiori().args(["analyze", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    child.stdin.take().ok_or("stdin")?.write_all(b"\xE3\x81\x93\xE3\x82\x9D\xE3\x82\x8D \xFF\xFE")?;
    let output = child.wait_with_output()?;
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(json["keys"]["exact"], "こころ");
    Ok(())
}

#[test]
fn a_user_dictionary_is_used_and_a_bad_one_is_reported() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("shiori-cli-userdic-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let good = dir.join("good.csv");
    std::fs::write(&good, "栞ヶ丘,カスタム名詞,シオリガオカ\n")?;
    let json = analyze(&["--user-dict", good.to_str().ok_or("path")?, "栞ヶ丘町立図書館"])?;
    assert!(json["morphemes"].as_array().ok_or("morphemes")?.iter().any(|m| m["reading"] == "しおりがおか"));

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "栞ヶ丘;カスタム名詞;シオリガオカ\n")?;
    let output = shiori().args(["analyze", "--user-dict", bad.to_str().ok_or("path")?, "本"]).output()?;
    std::fs::remove_dir_all(&dir)?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.csv") && stderr.contains("line 1"), "{stderr}");
    Ok(())
}

#[test]
fn missing_text_is_a_usage_error() -> Result<(), Box<dyn std::error::Error>> {
    let output = shiori().arg("analyze").output()?;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage"));
    Ok(())
}
