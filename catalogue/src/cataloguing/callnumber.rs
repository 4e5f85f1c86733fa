//! The call number (請求記号) a Japanese public library writes on the spine label, in three
//! parts: the classification (分類記号, NDC), the book mark (図書記号; here the author mark,
//! 著者記号: the first kana of the author's reading) and the volume (巻冊記号). The
//! catalogue suggests it from the record; the librarian may change it before the copy is
//! saved.
//!
//! ```
//! use catalogue::cataloguing::callnumber::CallNumber;
//!
//! let call = CallNumber::suggest("913.6", "なつめ そうせき", "夏目漱石", "第2巻");
//! assert_eq!(call.to_string(), "913.6/ナ/2");
//! assert_eq!(CallNumber::suggest("E", "", "Carle, Eric", "").to_string(), "E/C");
//! ```

use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// A call number: classification / author mark / volume, each possibly empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallNumber {
    /// 分類記号: the NDC number cut to one decimal place (`913.6`), or `E` / `K` for
    /// picture books and kamishibai; empty when none was given.
    pub class: String,
    /// 著者記号: the first kana of the author's reading in katakana (`ナ`), or the first
    /// letter of a Latin-script name upper-cased (`M`); empty when there is neither.
    pub author_mark: String,
    /// 巻冊記号: the volume number (`2`), `上` `中` `下` `前` `後`, or the volume as written
    /// (at most 8 characters); empty for a book in one volume.
    pub volume: String,
}

impl CallNumber {
    /// The call number of a book classed `ndc` (as catalogued, e.g. 084 $a), by the author
    /// whose reading is `author_reading` (hiragana or katakana, may be empty) and whose
    /// name is `author_name`, with the volume `volume` (245 $n or 490 $v as written).
    pub fn suggest(ndc: &str, author_reading: &str, author_name: &str, volume: &str) -> CallNumber {
        CallNumber {
            class: class(ndc),
            author_mark: author_mark(author_reading, author_name),
            volume: volume_mark(volume),
        }
    }
}

impl fmt::Display for CallNumber {
    /// The parts joined by `/`, the empty ones left out with their slash: `913.6/ナ/2`,
    /// `913.6/ナ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [&self.class, &self.author_mark, &self.volume];
        let mut first = true;
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            if !first {
                f.write_str("/")?;
            }
            f.write_str(part)?;
            first = false;
        }
        Ok(())
    }
}

/// Full-width ASCII (`９１３．６`, `Ｅ`) to ASCII; everything else as it is.
fn narrow(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// The NDC cut to three digits and one decimal ("913.68" -> "913.6"); `E` or `K` as given
/// (upper-cased); "" when the text does not begin with an NDC number.
fn class(ndc: &str) -> String {
    let text: String = ndc.trim().chars().map(narrow).collect();
    let text = text.trim();
    if text.eq_ignore_ascii_case("e") || text.eq_ignore_ascii_case("k") {
        return text.to_ascii_uppercase();
    }
    let digits: String = text.chars().take_while(char::is_ascii_digit).take(3).collect();
    if digits.is_empty() {
        return String::new();
    }
    let rest = &text[digits.len()..];
    match rest.strip_prefix('.').and_then(|r| r.chars().next()).filter(char::is_ascii_digit) {
        Some(decimal) if digits.len() == 3 => format!("{digits}.{decimal}"),
        _ => digits,
    }
}

/// The first kana of the reading in katakana; else the first letter of the name.
fn author_mark(reading: &str, name: &str) -> String {
    match first_letter(reading) {
        Some(Letter::Kana(kana)) => return kana,
        Some(Letter::Latin(letter)) => return letter.to_string(),
        Some(Letter::Other) | None => {}
    }
    match first_letter(name) {
        Some(Letter::Kana(kana)) => kana,
        Some(Letter::Latin(letter)) => letter.to_string(),
        Some(Letter::Other) | None => String::new(),
    }
}

/// The first letter of a text, past spaces, punctuation, digits and leading long marks.
enum Letter {
    /// A kana as a full-width katakana, large, with its (han)dakuten (`ナ`, `ヴ`, `ゴ`).
    Kana(String),
    /// A Latin letter, upper-cased without its diacritic (`M`, `E` for É).
    Latin(char),
    /// Something else (a kanji): no mark from this text.
    Other,
}

fn first_letter(text: &str) -> Option<Letter> {
    let mut chars = text.chars().map(narrow).peekable();
    while let Some(c) = chars.next() {
        if let Some(kana) = katakana(c) {
            let mark = match chars.peek() {
                Some('\u{3099}' | '\u{FF9E}' | '\u{309B}') => Some('\u{3099}'),
                Some('\u{309A}' | '\u{FF9F}' | '\u{309C}') => Some('\u{309A}'),
                _ => None,
            };
            let kana: String = match mark {
                Some(mark) => [kana, mark].into_iter().nfc().collect(),
                None => kana.to_string(),
            };
            return Some(Letter::Kana(kana));
        }
        if c.is_whitespace() || c.is_ascii_punctuation() || c.is_ascii_digit() || is_skipped(c) {
            continue;
        }
        // É -> E: the base letter of a decomposed Latin letter.
        let base = std::iter::once(c).nfd().next().unwrap_or(c);
        return Some(if base.is_ascii_alphabetic() { Letter::Latin(base.to_ascii_uppercase()) } else { Letter::Other });
    }
    None
}

/// What may come before a reading's first kana and is no part of it: long marks, iteration
/// marks, the middle dot, Japanese brackets and punctuation.
fn is_skipped(c: char) -> bool {
    matches!(c, '\u{30FC}' | '\u{FF70}' | '\u{30FB}' | '\u{FF65}' | '\u{309D}' | '\u{309E}' | '\u{30FD}' | '\u{30FE}')
        || matches!(c, '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301F}' | '\u{FF61}'..='\u{FF64}')
        || c == '\u{301C}'
}

/// A kana (hiragana, katakana, half-width katakana) as full-width large katakana without
/// a following (han)dakuten; `None` for anything else. Precomposed voiced kana stay
/// voiced (ガ, ヴ).
fn katakana(c: char) -> Option<char> {
    let c = match c {
        // Hiragana ぁ-ゖ (and ゔ) sit 0x60 below their katakana.
        '\u{3041}'..='\u{3096}' => char::from_u32(u32::from(c) + 0x60)?,
        '\u{FF66}'..='\u{FF9D}' => half_width(c)?,
        '\u{30A1}'..='\u{30FA}' => c,
        // Small katakana for Ainu (ㇰ ㇱ …).
        '\u{31F0}'..='\u{31FF}' => {
            return "クシストヌハヒフヘホムラリルレロ".chars().nth(usize::try_from(u32::from(c) - 0x31F0).ok()?);
        }
        _ => return None,
    };
    Some(match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        other => other,
    })
}

/// Half-width katakana (U+FF66-U+FF9D) to full width, small ones already large.
fn half_width(c: char) -> Option<char> {
    const TABLE: &str = "ヲアイウエオヤユヨツーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";
    TABLE.chars().nth(usize::try_from(u32::from(c) - 0xFF66).ok()?).filter(|k| *k != 'ー')
}

/// The volume mark of a volume as written: its number ("第2巻", "v. 2", "２", "第三巻" ->
/// "2", "3"), `上` `中` `下` `前` `後` for the parts so named, else the text (at most 8
/// characters).
fn volume_mark(volume: &str) -> String {
    let text: String = volume.chars().map(narrow).collect();
    let text = crate::marc::record::trim_isbd(&text);
    if text.is_empty() {
        return String::new();
    }
    if let Some(number) = volume_number(text) {
        return number;
    }
    let mut chars = text.chars();
    if let (Some(first), rest) = (chars.next(), chars.as_str()) {
        let part_suffix = matches!(rest, "" | "巻" | "編" | "篇" | "冊");
        if part_suffix && matches!(first, '上' | '中' | '下' | '前' | '後') {
            return first.to_string();
        }
    }
    text.chars().take(8).collect()
}

/// "第2巻", "2巻", "v. 2", "vol.2", "no. 3", "2", "第三巻", "巻2" -> the number without leading
/// zeros; `None` when the text is more than a numbered volume.
fn volume_number(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let mut rest = lower.as_str();
    for prefix in ["第", "巻", "vol.", "vol", "v.", "v", "no.", "no", "bd.", "t."] {
        if let Some(after) = rest.strip_prefix(prefix) {
            rest = after.trim_start();
            break;
        }
    }
    let numeral: String = rest.chars().take_while(|c| c.is_ascii_digit() || kanji_digit(*c).is_some()).collect();
    let suffix = rest[numeral.len()..].trim();
    if numeral.is_empty() || !matches!(suffix, "" | "巻" | "冊" | "部" | "集" | "編" | "篇" | "号" | "分冊") {
        return None;
    }
    if numeral.bytes().all(|b| b.is_ascii_digit()) {
        let number = numeral.trim_start_matches('0');
        return Some(if number.is_empty() { "0".to_string() } else { number.to_string() });
    }
    kanji_number(&numeral).map(|n| n.to_string())
}

fn kanji_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九十".chars().position(|k| k == c).and_then(|p| u32::try_from(p).ok())
}

/// 一 .. 九十九 written with 十 (三, 十二, 二十, 二十五); `None` for other forms.
fn kanji_number(text: &str) -> Option<u32> {
    let digits: Vec<u32> = text.chars().map(kanji_digit).collect::<Option<_>>()?;
    match digits.as_slice() {
        [d] if *d < 10 => Some(*d),
        [10] => Some(10),
        [10, d] if (1..10).contains(d) => Some(10 + d),
        [t, 10] if (2..10).contains(t) => Some(t * 10),
        [t, 10, d] if (2..10).contains(t) && (1..10).contains(d) => Some(t * 10 + d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_numbers_of_real_books() {
        let cases = [
            // ndc, reading, name, volume -> call number
            ("913.6", "なつめ そうせき", "夏目漱石", "", "913.6/ナ"),
            ("913.6", "ナツメ, ソウセキ", "夏目, 漱石", "上", "913.6/ナ/上"),
            ("913.6", "ムラカミ, ハルキ", "村上, 春樹", "BOOK1", "913.6/ム/BOOK1"),
            ("953.6", "ヴェルヌ", "Verne, Jules", "", "953.6/ヴ"),
            ("933.7", "", "Murakami, Haruki", "v. 2", "933.7/M/2"),
            ("913.68", "ゴトウ", "後藤", "第2巻", "913.6/ゴ/2"),
            ("E", "", "Carle, Eric", "", "E/C"),
            ("k", "", "", "", "K"),
            ("", "", "", "", ""),
            ("", "", "村上春樹", "２", "2"),
            ("９１３．６", "ｱｸﾀｶﾞﾜ", "芥川龍之介", "", "913.6/ア"),
            ("913.6", "ｶﾞﾓｳ", "", "", "913.6/ガ"),
            ("913.6", "", "紫式部", "前編", "913.6/前"),
        ];
        for (ndc, reading, name, volume, expected) in cases {
            let call = CallNumber::suggest(ndc, reading, name, volume);
            assert_eq!(call.to_string(), expected, "{ndc} {reading} {name} {volume}");
        }
    }

    #[test]
    fn class_is_cut_to_one_decimal() {
        for (ndc, expected) in [
            ("913.6", "913.6"),
            ("913.68", "913.6"),
            (" 913 ", "913"),
            ("913.", "913"),
            ("010.1 (NDC10)", "010.1"),
            ("9136", "913"),
            ("e", "E"),
            ("K", "K"),
            ("Y94", ""),
            ("abc", ""),
            ("", ""),
        ] {
            assert_eq!(class(ndc), expected, "{ndc}");
        }
    }

    #[test]
    fn author_mark_folds_kana() {
        for (reading, name, expected) in [
            ("なつめ そうせき", "夏目漱石", "ナ"),
            ("ヴェルヌ", "", "ヴ"),
            ("ゔぇるぬ", "", "ヴ"),
            ("ょしもと", "", "ヨ"),
            ("ッ", "", "ツ"),
            ("ーアイ", "", "ア"),
            ("「アイ」", "", "ア"),
            ("・アイ", "", "ア"),
            ("か\u{3099}もう", "", "ガ"),
            ("ﾊﾟﾝ", "", "パ"),
            ("", "Murakami, Haruki", "M"),
            ("", "émile zola", "E"),
            ("", "ばばばあちゃん", "バ"),
            ("", "谷川俊太郎", ""),
            ("", "", ""),
            ("谷川", "Tanikawa", "T"),
        ] {
            assert_eq!(author_mark(reading, name), expected, "{reading} {name}");
        }
    }

    #[test]
    fn volume_marks() {
        for (volume, expected) in [
            ("第2巻", "2"),
            ("2巻", "2"),
            ("v. 2", "2"),
            ("Vol.12", "12"),
            ("２", "2"),
            ("第02巻", "2"),
            ("第三巻", "3"),
            ("第二十五巻", "25"),
            ("第1部", "1"),
            ("上", "上"),
            ("下巻", "下"),
            ("上編 /", "上"),
            ("前編", "前"),
            ("後篇", "後"),
            ("中", "中"),
            ("BOOK1", "BOOK1"),
            ("2019春夏", "2019春夏"),
            ("別巻ガイドブック付録", "別巻ガイドブック"),
            ("", ""),
            ("  ", ""),
        ] {
            assert_eq!(volume_mark(volume), expected, "{volume}");
        }
    }
}
