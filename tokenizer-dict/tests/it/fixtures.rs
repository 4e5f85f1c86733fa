//! Agreement with catalogued readings in ../shared/fixtures: the analyser's readings and
//! romaji against what cataloguers wrote (Aozora Bunko, JAPAN/MARC, LC), the offsets and
//! normalisation over every vernacular LC title and name, and the opaceval queries.
//!
//! The agreement rates are quality figures, not correctness: each threshold sits a few
//! points below the rate measured when it was set (in the comment beside it), so a change
//! that makes readings worse fails here. Run with `--nocapture` to see the figures and the
//! first mismatches.

use std::collections::BTreeSet;
use std::error::Error;
use std::path::{Path, PathBuf};

use tokenizer_dict::{JapaneseAnalyzer, is_hiragana, normalize, romanize, to_hiragana};

type TestResult = Result<(), Box<dyn Error>>;

/// How many mismatches each test prints.
const SHOWN: usize = 10;

fn shared_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 }
}

/// Letters and digits only, after search normalisation (lowercase, macrons folded):
/// "Korekara no hon no hanashi o shiyo." and "Tōkyō" compare as "korekaranohon…", "tokyo".
/// Spacing modifier letters go too: ALA-LC writes the apostrophe of "Kanʼyaku" as ʼ
/// (U+02BC), which is a letter to Unicode.
fn squash(text: &str) -> String {
    normalize(text).as_str().chars().filter(|&c| c.is_alphanumeric() && !matches!(c, '\u{2B0}'..='\u{2FF}')).collect()
}

/// Only the hiragana of a reading, after normalisation and katakana -> hiragana.
fn hiragana_only(reading: &str) -> String {
    to_hiragana(normalize(reading).as_str()).chars().filter(|&c| is_hiragana(c)).collect()
}

/// The Aozora Bunko catalogue with its header, and a lookup of columns by name.
struct Aozora {
    header: csv::StringRecord,
    rows: Vec<csv::StringRecord>,
}

impl Aozora {
    fn read() -> Result<Self, Box<dyn Error>> {
        let path = shared_fixtures().join("japanese/aozora/aozora_list_person_all_extended_utf8.csv");
        let mut reader = csv::Reader::from_path(&path)?;
        let header = reader.headers()?.clone();
        let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
        Ok(Self { header, rows })
    }

    fn column(&self, name: &str) -> Result<usize, Box<dyn Error>> {
        self.header.iter().position(|h| h == name).ok_or_else(|| format!("aozora csv has no column {name}").into())
    }
}

fn get(row: &csv::StringRecord, column: usize) -> &str {
    row.get(column).unwrap_or_default().trim()
}

#[test]
fn aozora_person_name_romaji() -> TestResult {
    let aozora = Aozora::read()?;
    let [id, family_reading, given_reading, family_roman, given_roman] =
        ["人物ID", "姓読み", "名読み", "姓ローマ字", "名ローマ字"].map(|c| aozora.column(c));
    let (id, family_reading, given_reading) = (id?, family_reading?, given_reading?);
    let (family_roman, given_roman) = (family_roman?, given_roman?);
    let mut seen = BTreeSet::new();
    let (mut people, mut agree, mut foreign) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for row in &aozora.rows {
        let names = [get(row, family_reading), get(row, given_reading), get(row, family_roman), get(row, given_roman)];
        if names.iter().any(|n| n.is_empty()) || !seen.insert(get(row, id).to_string()) {
            continue;
        }
        let [family, given, family_latin, given_latin] = names;
        // Foreign writers have katakana readings and their own spelling as "romaji"
        // (アーヴィング / Irving): that is not a romanisation to check.
        if !family.chars().chain(given.chars()).all(is_hiragana) {
            foreign += 1;
            continue;
        }
        people += 1;
        let ours = [family, given].map(|r| romanize(r, None).hepburn);
        // "Shin'ichi": the apostrophe only separates n from the vowel; ours has none.
        let theirs = [family_latin, given_latin].map(|r| r.to_lowercase().replace('\'', ""));
        if ours == theirs {
            agree += 1;
        } else if mismatches.len() < SHOWN {
            mismatches.push(format!(
                "{family} {given}: ours {} {}, catalogued {} {}",
                ours[0], ours[1], theirs[0], theirs[1]
            ));
        }
    }
    let rate = percent(agree, people);
    eprintln!(
        "aozora names: {agree}/{people} people romanised as catalogued ({rate:.1}%), \
         {foreign} with katakana readings skipped"
    );
    for mismatch in &mismatches {
        eprintln!("  {mismatch}");
    }
    assert!(people >= 900, "only {people} people with readings and romaji");
    // Measured 93.6% (923/986); 275 people with katakana readings skipped.
    assert!(rate >= 90.0, "person-name agreement fell to {rate:.1}%");
    Ok(())
}

#[test]
fn aozora_title_readings() -> TestResult {
    let aozora = Aozora::read()?;
    let (id, title, reading) = (aozora.column("作品ID")?, aozora.column("作品名")?, aozora.column("作品名読み")?);
    let analyzer = JapaneseAnalyzer::new()?;
    let mut seen = BTreeSet::new();
    let (mut works, mut agree) = (0, 0);
    let mut mismatches = Vec::new();
    for row in &aozora.rows {
        let (title, reading) = (get(row, title), get(row, reading));
        if title.is_empty() || reading.is_empty() || !seen.insert(get(row, id).to_string()) {
            continue;
        }
        works += 1;
        let ours = hiragana_only(&analyzer.analyze(title)?.keys.reading);
        let theirs = hiragana_only(reading);
        if ours == theirs {
            agree += 1;
        } else if mismatches.len() < SHOWN {
            mismatches.push(format!("{title}: ours {ours}, catalogued {theirs}"));
        }
    }
    let rate = percent(agree, works);
    eprintln!("aozora titles: {agree}/{works} readings as catalogued ({rate:.1}%)");
    for mismatch in &mismatches {
        eprintln!("  {mismatch}");
    }
    assert!(works > 17_000, "only {works} works read");
    // Measured 74.8% (13,301/17,780).
    assert!(rate >= 72.0, "title-reading agreement fell to {rate:.1}%");
    Ok(())
}

/// Kana as a reading catalogued as pronounced spells them: small kana large, particles
/// as pronounced (は/わ, へ/え, を/お), ぢ/じ, づ/ず, old kana.
fn pronounced(reading: &str) -> String {
    reading
        .chars()
        .map(|c| match c {
            'ぁ' => 'あ',
            'ぃ' => 'い',
            'ぅ' => 'う',
            'ぇ' => 'え',
            'ぉ' => 'お',
            'っ' => 'つ',
            'ゃ' => 'や',
            'ゅ' => 'ゆ',
            'ょ' => 'よ',
            'ゎ' | 'は' => 'わ',
            'へ' => 'え',
            'を' => 'お',
            'ぢ' => 'じ',
            'づ' => 'ず',
            'ゐ' => 'い',
            'ゑ' => 'え',
            other => other,
        })
        .collect()
}

/// What became of one title's ruby, against its catalogued reading.
#[derive(Default, Debug)]
struct RubyTally {
    right: usize,
    without: usize,
    wrong: usize,
    shown: Vec<String>,
}

impl RubyTally {
    fn count(&mut self, title: &str, ruby: Option<Vec<tokenizer_dict::RubySegment>>, reading: &str) {
        let Some(ruby) = ruby else {
            self.without += 1;
            return;
        };
        assert_eq!(ruby.iter().map(|s| s.text.as_str()).collect::<String>(), title, "the pieces make the title");
        let joined: String = ruby.iter().map(|s| s.reading.clone().unwrap_or_else(|| s.text.clone())).collect();
        if pronounced(&hiragana_only(&joined)) == pronounced(&hiragana_only(reading)) {
            self.right += 1;
        } else {
            self.wrong += 1;
            if self.shown.len() < std::env::var("SHIORI_SHOWN").ok().and_then(|v| v.parse().ok()).unwrap_or(SHOWN) {
                let pieces: Vec<String> =
                    ruby.iter().map(|s| format!("{}({})", s.text, s.reading.as_deref().unwrap_or("-"))).collect();
                self.shown.push(format!("{title}: {} vs {reading}", pieces.join("")));
            }
        }
    }

    fn report(&self, what: &str) -> (f64, f64, f64) {
        let all = self.right + self.without + self.wrong;
        let rates = (percent(self.right, all), percent(self.without, all), percent(self.wrong, all));
        eprintln!(
            "aozora furigana, {what}: {all} titles; right {} ({:.2}%), without ruby {} ({:.2}%), wrong {} ({:.2}%)",
            self.right, rates.0, self.without, rates.1, self.wrong, rates.2
        );
        for line in &self.shown {
            eprintln!("  {line}");
        }
        rates
    }
}

/// Issues #16 and #18 (furigana): ruby over the kanji of every Aozora title, first from the
/// catalogued reading (aligned to the text, as the OPAC and the kids pages show it), then
/// from the dictionary alone; each against the catalogued reading. Titles with Latin
/// letters or digits are left out: their catalogued readings spell numbers in kana, which
/// ruby never shows.
#[test]
fn aozora_title_furigana() -> TestResult {
    let aozora = Aozora::read()?;
    let (id, title, reading) = (aozora.column("作品ID")?, aozora.column("作品名")?, aozora.column("作品名読み")?);
    let analyzer = JapaneseAnalyzer::new()?;
    let mut seen = BTreeSet::new();
    let (mut catalogued, mut dictionary) = (RubyTally::default(), RubyTally::default());
    for row in &aozora.rows {
        let (title, reading) = (get(row, title), get(row, reading));
        if title.is_empty() || reading.is_empty() || !seen.insert(get(row, id).to_string()) {
            continue;
        }
        if normalize(title).as_str().chars().any(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        if !title.chars().any(|c| !is_hiragana(c) && !tokenizer_dict::is_katakana(c) && c.is_alphabetic()) {
            continue; // nothing but kana: nothing to read
        }
        catalogued.count(title, analyzer.furigana(title, Some(reading))?, reading);
        dictionary.count(title, analyzer.furigana(title, None)?, reading);
    }
    let (right, without, wrong) = catalogued.report("from the catalogued reading");
    let (dict_right, _, dict_wrong) = dictionary.report("from the dictionary alone");
    assert!(catalogued.right + catalogued.without + catalogued.wrong > 15_000);
    // Measured 97.87% right, 2.11% without ruby, 0.02% wrong (4 of 16,811: まーじゃん
    // against まあじゃん, ヵ against か — the same reading spelt otherwise). The goal of
    // issue #18 is >= 95% right and < 1% wrong.
    assert!(right >= 97.0 && wrong < 0.2, "catalogued: {right:.2}% right, {without:.2}% without, {wrong:.2}% wrong");
    // Measured 61.14% right, 30.15% without ruby, 8.71% wrong: literary readings and old
    // kana (思ひ出) that no dictionary knows. Pages use this only for records with no
    // reading of their own.
    assert!(dict_right >= 58.0 && dict_wrong < 10.0, "dictionary: {dict_right:.2}% right, {dict_wrong:.2}% wrong");
    Ok(())
}

/// One variable field of an ISO 2709 record: tag, and data without its terminator
/// (indicators, then subfields each led by 0x1F).
struct Field<'a> {
    tag: &'a str,
    data: &'a str,
}

impl<'a> Field<'a> {
    /// Subfields as (code, value).
    fn subfields(&self) -> impl Iterator<Item = (char, &'a str)> + 'a {
        self.data.split('\u{1f}').skip(1).filter_map(|subfield| {
            let mut chars = subfield.chars();
            let code = chars.next()?;
            Some((code, chars.as_str()))
        })
    }

    fn subfield(&self, code: char) -> Option<&'a str> {
        self.subfields().find(|(c, _)| *c == code).map(|(_, v)| v)
    }

    /// The linkage ($6), e.g. `245-01/$1`.
    fn linkage(&self) -> &'a str {
        self.subfield('6').unwrap_or_default()
    }
}

/// Splits ISO 2709 bytes into records by the five-digit length that opens each leader.
fn marc_records(mut bytes: &[u8]) -> Result<Vec<&[u8]>, Box<dyn Error>> {
    let mut records = Vec::new();
    while !bytes.is_empty() {
        let length: usize = std::str::from_utf8(bytes.get(..5).ok_or("truncated leader")?)?.parse()?;
        if length < 24 {
            return Err(format!("record length {length} is shorter than a leader").into());
        }
        let record = bytes.get(..length).ok_or("record runs past the end")?;
        records.push(record);
        bytes = &bytes[length..];
    }
    Ok(records)
}

/// The variable fields of one UTF-8 record, from its directory.
fn marc_fields(record: &[u8]) -> Result<Vec<Field<'_>>, Box<dyn Error>> {
    let number = |range: std::ops::Range<usize>| -> Result<usize, Box<dyn Error>> {
        let digits = record.get(range).ok_or("record shorter than its leader")?;
        Ok(std::str::from_utf8(digits)?.parse()?)
    };
    let base = number(12..17)?;
    let directory = record.get(24..base.saturating_sub(1)).ok_or("base address past the end")?;
    let mut fields = Vec::new();
    for at in (0..directory.len() / 12).map(|entry| 24 + entry * 12) {
        let (length, start) = (number(at + 3..at + 7)?, number(at + 7..at + 12)?);
        let tag = std::str::from_utf8(&record[at..at + 3])?;
        let data = record.get(base + start..base + start + length).ok_or("field past the end")?;
        let data = std::str::from_utf8(data)?.trim_end_matches('\u{1e}');
        fields.push(Field { tag, data });
    }
    Ok(fields)
}

fn read_marc(relative: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    Ok(std::fs::read(shared_fixtures().join(relative))?)
}

#[test]
fn jpmarc_title_romanisation() -> TestResult {
    let bytes = read_marc("japanese/enju-jpmarc/jpmarc_marc21_enju.dat")?;
    let records = marc_records(&bytes)?;
    assert_eq!(records.len(), 233);
    let analyzer = JapaneseAnalyzer::new()?;
    let (mut titles, mut agree) = (0, 0);
    let mut mismatches = Vec::new();
    for record in &records {
        let fields = marc_fields(record)?;
        let Some(title) = fields.iter().find(|f| f.tag == "245").and_then(|f| f.subfield('a')) else {
            continue;
        };
        // The romanisation of 245 is the 880 linked to it with script code (B (Latin);
        // `/$1` is the katakana reading.
        let Some(roman) = fields
            .iter()
            .find(|f| f.tag == "880" && f.linkage().starts_with("245") && f.linkage().ends_with("/(B"))
            .and_then(|f| f.subfield('a'))
        else {
            continue;
        };
        titles += 1;
        let hepburn = analyzer.analyze(title)?.romaji.hepburn;
        let (ours, theirs) = (squash(&hepburn), squash(roman));
        if ours == theirs {
            agree += 1;
        } else if mismatches.len() < SHOWN {
            mismatches.push(format!("{title}: ours {ours}, catalogued {theirs}"));
        }
    }
    let rate = percent(agree, titles);
    eprintln!("jpmarc titles: {agree}/{titles} Hepburn as catalogued ({rate:.1}%)");
    for mismatch in &mismatches {
        eprintln!("  {mismatch}");
    }
    assert!(titles > 200, "only {titles} romanised titles");
    // Measured 71.6% (164/229).
    assert!(rate >= 68.0, "JAPAN/MARC romaji agreement fell to {rate:.1}%");
    Ok(())
}

/// Why an analysis of `input` is not well formed, if it is not.
fn offset_fault(input: &str, analysis: &tokenizer_dict::Analysis) -> Option<String> {
    for m in &analysis.morphemes {
        if input.get(m.start..m.end) != Some(m.surface.as_str()) {
            return Some(format!("morpheme {:?} at {}..{}", m.surface, m.start, m.end));
        }
    }
    for gram in analysis.bigrams.iter().chain(&analysis.unigrams) {
        if gram.start >= gram.end || input.get(gram.start..gram.end).is_none() {
            return Some(format!("gram {:?} at {}..{}", gram.text, gram.start, gram.end));
        }
    }
    let once = normalize(input);
    let twice = normalize(once.as_str());
    if once.as_str() != twice.as_str() {
        return Some(format!("normalize not idempotent: {:?} -> {:?}", once.as_str(), twice.as_str()));
    }
    None
}

#[test]
fn lc_vernacular_titles_and_names() -> TestResult {
    let bytes = read_marc("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc")?;
    let records = marc_records(&bytes)?;
    assert_eq!(records.len(), 7_495);
    let analyzer = JapaneseAnalyzer::new()?;
    let (mut analysed, mut titles, mut agree) = (0, 0, 0);
    let mut faults = Vec::new();
    let mut old_forms = Vec::new();
    let mut mismatches = Vec::new();
    for record in &records {
        let fields = marc_fields(record)?;
        let mut roman_title = None;
        let mut vernacular_title = None;
        for field in &fields {
            if field.tag == "245" {
                roman_title = roman_title.or(field.subfield('a'));
            }
            let linkage = field.linkage();
            let is_title = linkage.starts_with("245");
            if field.tag != "880" || !(is_title || ["100", "700"].iter().any(|t| linkage.starts_with(t))) {
                continue;
            }
            let text: Vec<&str> = field.subfields().filter(|(code, _)| *code != '6').map(|(_, value)| value).collect();
            let text = text.join(" ");
            let analysis = analyzer.analyze(&text)?;
            analysed += 1;
            if let Some(fault) = offset_fault(&text, &analysis) {
                faults.push(format!("{text}: {fault}"));
            }
            if !is_title {
                continue;
            }
            vernacular_title = vernacular_title.or(field.subfield('a'));
            let changed = text.chars().any(|c| {
                tokenizer_dict::standard_kanji(c).is_some_and(|standard| standard != c)
                    && !analysis.normalized.contains(c)
            });
            if changed {
                old_forms.push(format!("{text} -> {}", analysis.normalized));
            }
        }
        if let (Some(roman), Some(vernacular)) = (roman_title, vernacular_title) {
            titles += 1;
            let ours = squash(&analyzer.analyze(vernacular)?.romaji.hepburn);
            let theirs = squash(roman);
            if ours == theirs {
                agree += 1;
            } else if mismatches.len() < SHOWN {
                mismatches.push(format!("{vernacular}: ours {ours}, catalogued {theirs}"));
            }
        }
    }
    let rate = percent(agree, titles);
    eprintln!(
        "lc: {analysed} vernacular titles and names analysed, {} faults; {} titles with \
         old-form kanji folded; {agree}/{titles} titles romanised as catalogued ({rate:.1}%)",
        faults.len(),
        old_forms.len()
    );
    for example in old_forms.iter().take(5) {
        eprintln!("  old form: {example}");
    }
    for mismatch in &mismatches {
        eprintln!("  {mismatch}");
    }
    assert!(faults.is_empty(), "ill-formed analyses: {:?}", &faults[..faults.len().min(SHOWN)]);
    // Measured 13,716 fields (880 linked to 245, 100 and 700).
    assert!(analysed >= 13_000, "only {analysed} vernacular fields");
    assert!(!old_forms.is_empty(), "no old-form kanji folded in LC titles");
    // Measured 68.3% (5,113/7,490).
    assert!(rate >= 65.0, "LC romanisation agreement fell to {rate:.1}%");
    Ok(())
}

#[test]
fn opaceval_queries() -> TestResult {
    let text = std::fs::read_to_string(shared_fixtures().join("opaceval/queries.tsv"))?;
    let analyzer = JapaneseAnalyzer::new()?;
    let mut queries = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut columns = line.split('\t');
        let (Some(qid), Some(query)) = (columns.next(), columns.next()) else {
            return Err(format!("queries.tsv: bad line {line:?}").into());
        };
        let analysis = analyzer.analyze(query)?;
        assert!(!analysis.keys.exact.is_empty(), "{qid} {query:?} has no exact key");
        queries.push((query.trim().to_string(), analysis));
    }
    eprintln!("opaceval: {} queries analysed, all with exact keys", queries.len());
    assert_eq!(queries.len(), 22);
    let query = |text: &str| {
        queries
            .iter()
            .find(|(query, _)| query == text)
            .map(|(_, analysis)| analysis)
            .ok_or_else(|| format!("query {text:?} missing from queries.tsv"))
    };

    // QID-2020-02: the patron types こころ, the title page says こゝろ.
    let exact = |text: &str| analyzer.analyze(text).map(|a| a.keys.exact);
    assert_eq!(query("こころ")?.keys.exact, exact("こゝろ")?);
    // QID-2020-08: ASCII ? in the query (with trailing spaces), full-width ？ in the record.
    let cheese = query("チーズはどこへ消えた?")?;
    assert_eq!(cheese.keys.exact, exact("チーズはどこへ消えた？")?);
    // QID-2020-18: a wave dash typed for the long-vowel mark.
    let nazope = &query("算数脳パズル空間なぞぺ～")?.normalized;
    assert!(nazope.contains("なぞぺー"), "{nazope}");
    // QID-2020-01, -06: one- and two-letter Latin titles must survive as words.
    for word in ["i", "it"] {
        let analysis = query(word)?;
        let kept = analysis.keys.exact == word || analysis.morphemes.iter().any(|m| m.normalized == word);
        assert!(kept, "{word:?} lost: {analysis:?}");
    }
    Ok(())
}

/// The Latin shortcut (text normalising to ASCII is split without the dictionary) against
/// the dictionary itself, over every subfield and every whole field of the LC Japanese
/// subset (romanised titles and names, English notes, subjects, publishers) and inputs
/// chosen to trip it: both must agree on everything but the part of speech.
#[test]
fn latin_shortcut_agrees_with_the_dictionary() -> TestResult {
    let fast = JapaneseAnalyzer::new()?;
    let reference = JapaneseAnalyzer::new()?.without_latin_shortcut();
    let bytes = read_marc("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc")?;
    let mut texts: BTreeSet<String> = [
        "1Q84",
        "3rd ed.",
        "T.-p. wanting",
        "lover's discourse",
        "Kanʼyaku Shin'ichi Philosopher’s",
        "Shaʻʻār, Yaḥyá.",
        "e-mail (n.y.) [etc.] 1899-1901",
        "IBM PC/AT",
        "ＩＴパスポート",
        "  ",
        "",
        "''",
        "a'b'c",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for record in marc_records(&bytes)? {
        for field in marc_fields(record)? {
            let values: Vec<&str> = field.subfields().map(|(_, value)| value).collect();
            texts.insert(values.join(" "));
            texts.extend(values.into_iter().map(String::from));
        }
    }
    let mut latin = 0;
    let mut failures = Vec::new();
    for text in &texts {
        let mut shortcut = fast.analyze(text)?;
        let mut full = reference.analyze(text)?;
        latin += usize::from(shortcut.normalized.is_ascii());
        for m in shortcut.morphemes.iter_mut().chain(full.morphemes.iter_mut()) {
            m.part_of_speech.clear();
        }
        if shortcut != full && failures.len() < SHOWN {
            failures.push(format!("{text:?}:\n  shortcut {shortcut:?}\n  lindera  {full:?}"));
        }
    }
    assert!(latin > 20_000, "only {latin} Latin texts of {}", texts.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
