//! What a patron types: the forms of titles, readings, names and ISBNs that the quality
//! harness and the search bench's query sets are made of, from what records hold.

use catalogue::trim_isbd;
use tokenizer_dict::JapaneseAnalyzer;

/// The normalised form titles are compared in: the analyser's normalisation (NFKC, case,
/// variant kanji, iteration marks …) with everything but letters and digits removed.
pub fn key(text: &str) -> String {
    tokenizer_dict::normalize(text).as_str().chars().filter(|c| c.is_alphanumeric()).collect()
}

/// A kanji (CJK unified ideographs, extensions, compatibility forms, 々 and 〆).
pub fn is_kanji(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{323AF}' | '々' | '〆')
}

/// Hiragana, katakana or the long-vowel mark ー.
pub fn is_kana(c: char) -> bool {
    tokenizer_dict::is_hiragana(c) || tokenizer_dict::is_katakana(c) || c == 'ー'
}

/// Kana with spaces and punctuation only: no kanji, Latin letters or digits.
pub fn is_kana_text(text: &str) -> bool {
    text.chars().any(is_kana) && text.chars().all(|c| is_kana(c) || !c.is_alphanumeric())
}

/// A reading as typed: its kana only, no spaces or punctuation; `None` unless it is all
/// kana.
pub fn reading_as_typed(reading: &str) -> Option<String> {
    is_kana_text(reading).then(|| reading.chars().filter(|&c| is_kana(c)).collect())
}

/// Hiragana (with ゝ ゞ) turned into katakana; everything else as it is.
pub fn to_katakana(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// ASCII typed in full width (an IME left in 全角 mode), spaces as ideographic spaces.
pub fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// A romanised title as a patron types it: lower case, no macrons or other diacritics,
/// no apostrophes or soft signs, ISBD punctuation trimmed, single spaces.
pub fn romanised_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded = match c {
            'ā' | 'á' | 'à' | 'â' | 'ä' | 'Ā' | 'Á' | 'À' | 'Â' | 'Ä' => 'a',
            'ē' | 'é' | 'è' | 'ê' | 'ë' | 'Ē' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'ī' | 'í' | 'ì' | 'î' | 'ï' | 'Ī' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
            'ō' | 'ó' | 'ò' | 'ô' | 'ö' | 'Ō' | 'Ó' | 'Ò' | 'Ô' | 'Ö' => 'o',
            'ū' | 'ú' | 'ù' | 'û' | 'ü' | 'Ū' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
            '\u{0300}'..='\u{036F}' | '\u{02B9}' | '\u{02BB}' | '\u{02BC}' | '\'' | '\u{2018}' | '\u{2019}' => {
                continue;
            }
            other => other,
        };
        out.extend(folded.to_lowercase());
    }
    let trimmed = trim_isbd(&out);
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The ISBN-10 of a 978 ISBN-13.
pub fn isbn10(isbn13: &str) -> Option<String> {
    let nine = isbn13.strip_prefix("978")?.get(..9)?;
    let sum: u32 = nine.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * (10 - i as u32)).sum();
    let check = (11 - sum % 11) % 11;
    Some(format!("{nine}{}", if check == 10 { 'X' } else { char::from(b'0' + check as u8) }))
}

/// A 978 ISBN-13 of registration group 0 or 1 (English) or 4 (Japan) hyphenated as
/// printed: prefix, group, publisher, title, check digit. The publisher code's length is
/// read from the group's ranges, as the International ISBN Agency publishes them (the
/// long-standing ranges; group 0's later small blocks are not told apart). `None` for
/// other groups.
pub fn hyphenated_isbn13(isbn13: &str) -> Option<String> {
    // Per group: the lowest 7-digit prefix (publisher and title, padded) of each publisher
    // length, in increasing order.
    const GROUP_0_AND_4: [(u32, usize); 6] =
        [(0, 2), (2_000_000, 3), (7_000_000, 4), (8_500_000, 5), (9_000_000, 6), (9_500_000, 7)];
    const GROUP_1: [(u32, usize); 6] =
        [(0, 2), (1_000_000, 3), (4_000_000, 4), (5_500_000, 5), (8_698_000, 6), (9_990_000, 7)];
    let rest = isbn13.strip_prefix("978")?;
    let (group, body, check) = (rest.get(..1)?, rest.get(1..9)?, rest.get(9..10)?);
    let ranges = match group {
        "0" | "4" => &GROUP_0_AND_4,
        "1" => &GROUP_1,
        _ => return None,
    };
    if !body.bytes().chain(check.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u32 = body.get(..7)?.parse().ok()?;
    let length = ranges.iter().rev().find(|(start, _)| prefix >= *start).map(|(_, length)| *length)?;
    Some(format!("978-{group}-{}-{}-{check}", &body[..length], &body[length..]))
}

/// A title as a patron types it: without what cataloguers add in brackets or after a
/// space in parentheses (「2014春夏 (ヤンキースでメジャーに挑む田中将大)」, 「\[富山県逐次刊行物\]」)
/// and without a parallel title (「川合玉堂展 = Kawai Gyokudo retrospective」), unless
/// nothing would be left. Parentheses that belong to the title (「無題（八）」) stay.
pub fn as_typed(title: &str) -> String {
    let proper = title.split(" = ").next().unwrap_or(title);
    let mut out = String::with_capacity(proper.len());
    let mut depth = 0usize;
    let mut previous = ' ';
    for c in proper.chars() {
        match c {
            '(' | '（' if depth > 0 || previous.is_whitespace() => depth += 1,
            ')' | '）' if depth > 0 => depth -= 1,
            '[' | ']' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
        previous = c;
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if key(&out).is_empty() { title.to_string() } else { out }
}

/// The family name of a vernacular personal name: before the comma (NDL, Aozora: 萩野, 正昭),
/// before a space, or the dictionary's family-name morpheme (LC: 阿部主計 -> 阿部); else
/// the whole name.
pub fn family_name(analyzer: &JapaneseAnalyzer, name: &str) -> anyhow::Result<String> {
    let name = trim_isbd(name);
    if let Some((family, _)) = name.split_once(',') {
        return Ok(family.trim().to_string());
    }
    if let Some((family, _)) = name.split_once([' ', '\u{3000}']) {
        return Ok(family.trim().to_string());
    }
    let analysis = analyzer.analyze(name)?;
    Ok(match analysis.morphemes.first() {
        Some(m) if m.start == 0 && m.part_of_speech.ends_with("人名-姓") && m.end < name.len() => m.surface.clone(),
        _ => name.to_string(),
    })
}

/// Unvoiced kana and their voiced forms (か が … は ば), then は-row and ぱ-row.
const VOICING: &[(char, char)] = &[
    ('か', 'が'),
    ('き', 'ぎ'),
    ('く', 'ぐ'),
    ('け', 'げ'),
    ('こ', 'ご'),
    ('さ', 'ざ'),
    ('し', 'じ'),
    ('す', 'ず'),
    ('せ', 'ぜ'),
    ('そ', 'ぞ'),
    ('た', 'だ'),
    ('ち', 'ぢ'),
    ('つ', 'づ'),
    ('て', 'で'),
    ('と', 'ど'),
    ('は', 'ば'),
    ('ひ', 'び'),
    ('ふ', 'ぶ'),
    ('へ', 'べ'),
    ('ほ', 'ぼ'),
    ('は', 'ぱ'),
    ('ひ', 'ぴ'),
    ('ふ', 'ぷ'),
    ('へ', 'ぺ'),
    ('ほ', 'ぽ'),
];

/// Small kana and the large ones they are mistyped as.
const SMALL: &[(char, char)] = &[
    ('ゃ', 'や'),
    ('ゅ', 'ゆ'),
    ('ょ', 'よ'),
    ('っ', 'つ'),
    ('ぁ', 'あ'),
    ('ぃ', 'い'),
    ('ぅ', 'う'),
    ('ぇ', 'え'),
    ('ぉ', 'お'),
];

/// One slip a patron makes in a reading typed in hiragana, chosen by `seed` among those the
/// reading allows: a dakuten dropped or added (あらし -> あらじ), a small kana typed large or a
/// large one small (としょかん -> としよかん, はくはつき -> はくはっき), a long vowel spelled
/// another way (おう -> おお or おー, えい -> ええ). `None` when the reading allows none.
pub fn kana_slip(hiragana: &str, seed: u64) -> Option<String> {
    let chars: Vec<char> = hiragana.chars().collect();
    let mut slips: Vec<Vec<char>> = Vec::new();
    let with = |i: usize, replacement: &[char]| {
        let mut out = chars[..i].to_vec();
        out.extend_from_slice(replacement);
        out.extend_from_slice(&chars[i + 1..]);
        out
    };
    for (i, &c) in chars.iter().enumerate() {
        if let Some(&(plain, _)) = VOICING.iter().find(|(_, voiced)| *voiced == c) {
            slips.push(with(i, &[plain]));
        }
        if let Some(&(_, voiced)) = VOICING.iter().find(|(plain, _)| *plain == c) {
            // Not the first kana: a patron hears how a word begins.
            if i > 0 {
                slips.push(with(i, &[voiced]));
            }
        }
        if let Some(&(_, large)) = SMALL.iter().find(|(small, _)| *small == c) {
            slips.push(with(i, &[large]));
        }
        if let Some(&(small, _)) = SMALL.iter().take(3).find(|(_, large)| *large == c)
            && i > 0
            && chars.get(i - 1).is_some_and(|p| "きしちにひみりぎじびぴ".contains(*p))
        {
            slips.push(with(i, &[small]));
        }
        if c == 'つ' && i > 0 && i + 1 < chars.len() {
            slips.push(with(i, &['っ']));
        }
        let previous = if i > 0 { chars.get(i - 1).copied() } else { None };
        let o_row = previous.is_some_and(|p| "おこそとのほもよろごぞどぼぽょ".contains(p));
        let e_row = previous.is_some_and(|p| "えけせてねへめれげぜでべぺ".contains(p));
        match c {
            'う' if o_row => {
                slips.push(with(i, &['お']));
                slips.push(with(i, &['ー']));
            }
            'お' if o_row => slips.push(with(i, &['う'])),
            'い' if e_row => slips.push(with(i, &['え'])),
            _ => {}
        }
    }
    slips.dedup();
    slips.retain(|slip| slip != &chars);
    if slips.is_empty() {
        return None;
    }
    let pick = (seed % slips.len() as u64) as usize;
    Some(slips[pick].iter().collect())
}

/// How a patron romanises a reading they type in romaji.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RomajiStyle {
    /// Kunrei-shiki, as taught at school: si, ti, tu, hu, zi, sya, tya; を o; ん n.
    Kunrei,
    /// Kana by kana as an IME takes it: shi, chi, tsu, fu, ji; を wo; ん nn; long vowels
    /// spelled out (toukyou).
    Wapuro,
}

/// A hiragana reading typed in romaji without spaces, in `style`; `None` if it has anything
/// but kana (and spaces).
pub fn romaji_typed(hiragana: &str, style: RomajiStyle) -> Option<String> {
    let kunrei = style == RomajiStyle::Kunrei;
    let chars: Vec<char> = hiragana.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = String::new();
    let mut geminate = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c == 'っ' {
            geminate = true;
            continue;
        }
        if c == 'ー' {
            if let Some(vowel) = out.chars().last().filter(|v| "aiueo".contains(*v)) {
                out.push(vowel);
            }
            continue;
        }
        let mut syllable = kana_romaji(c, kunrei)?.to_string();
        if let Some(&next) = chars.get(i)
            && let Some(glide) = match next {
                'ゃ' => Some('a'),
                'ゅ' => Some('u'),
                'ょ' => Some('o'),
                _ => None,
            }
            && syllable.ends_with('i')
            && syllable.len() >= 2
        {
            i += 1;
            let stem = &syllable[..syllable.len() - 1];
            syllable = match stem {
                "sh" | "ch" | "j" => format!("{stem}{glide}"),
                _ => format!("{stem}y{glide}"),
            };
        }
        if geminate {
            geminate = false;
            if let Some(first) = syllable.chars().next().filter(|c| !"aiueon".contains(*c)) {
                out.push(if syllable.starts_with("ch") { 't' } else { first });
            }
        }
        if c == 'ん' && !kunrei {
            syllable = "nn".into();
        }
        out.push_str(&syllable);
    }
    (!out.is_empty()).then_some(out)
}

fn kana_romaji(c: char, kunrei: bool) -> Option<&'static str> {
    const ROWS: &[(&str, [&str; 5])] = &[
        ("あいうえお", ["a", "i", "u", "e", "o"]),
        ("かきくけこ", ["ka", "ki", "ku", "ke", "ko"]),
        ("がぎぐげご", ["ga", "gi", "gu", "ge", "go"]),
        ("さしすせそ", ["sa", "shi", "su", "se", "so"]),
        ("ざじずぜぞ", ["za", "ji", "zu", "ze", "zo"]),
        ("たちつてと", ["ta", "chi", "tsu", "te", "to"]),
        ("だぢづでど", ["da", "ji", "zu", "de", "do"]),
        ("なにぬねの", ["na", "ni", "nu", "ne", "no"]),
        ("はひふへほ", ["ha", "hi", "fu", "he", "ho"]),
        ("ばびぶべぼ", ["ba", "bi", "bu", "be", "bo"]),
        ("ぱぴぷぺぽ", ["pa", "pi", "pu", "pe", "po"]),
        ("まみむめも", ["ma", "mi", "mu", "me", "mo"]),
        ("らりるれろ", ["ra", "ri", "ru", "re", "ro"]),
    ];
    let hepburn = match c {
        'や' => "ya",
        'ゆ' => "yu",
        'よ' => "yo",
        'わ' => "wa",
        'を' => return Some(if kunrei { "o" } else { "wo" }),
        'ん' => "n",
        'ぁ' => "a",
        'ぃ' => "i",
        'ぅ' => "u",
        'ぇ' => "e",
        'ぉ' => "o",
        'ゐ' => "i",
        'ゑ' => "e",
        'ゔ' => "vu",
        _ => ROWS.iter().find_map(|(row, romaji)| row.chars().position(|k| k == c).map(|p| romaji[p]))?,
    };
    Some(if kunrei {
        match hepburn {
            "shi" => "si",
            "chi" => "ti",
            "tsu" => "tu",
            "fu" => "hu",
            "ji" => "zi",
            other => other,
        }
    } else {
        hepburn
    })
}

/// A Latin word with one slip of the keyboard, chosen by `seed`: a letter left out
/// (libary), two letters swapped, or one doubled. Words shorter than five letters are
/// left alone (`None`).
pub fn letter_slip(word: &str, seed: u64) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 5 || !chars.iter().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    // Not the first letter: patrons know how a word begins.
    let at = 1 + (seed / 3) as usize % (chars.len() - 2);
    let mut out = chars.clone();
    match seed % 3 {
        0 => {
            out.remove(at);
        }
        1 => out.swap(at, at + 1),
        _ => out.insert(at, chars[at]),
    }
    (out != chars).then(|| out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn isbn_forms() {
        // Shinchōsha (publisher 10), and the two English groups' textbook examples.
        assert_eq!(hyphenated_isbn13("9784101010137").as_deref(), Some("978-4-10-101013-7"));
        assert_eq!(hyphenated_isbn13("9780306406157").as_deref(), Some("978-0-306-40615-7"));
        assert_eq!(hyphenated_isbn13("9781861972712").as_deref(), Some("978-1-86197-271-2"));
        assert_eq!(hyphenated_isbn13("9782070360024"), None);
        assert_eq!(isbn10("9780306406157").as_deref(), Some("0306406152"));
        assert_eq!(isbn10("9784101010137").as_deref(), Some("4101010137"));
    }

    #[test]
    fn slips_and_romaji_as_patrons_type_them() {
        let slips: BTreeSet<String> = (0..40).filter_map(|seed| kana_slip("はくはつき", seed)).collect();
        assert!(slips.contains("はぐはつき") && slips.contains("はくはっき"), "{slips:?}");
        assert!(!slips.contains("はくはつき"));
        let slips: BTreeSet<String> = (0..40).filter_map(|seed| kana_slip("としょかん", seed)).collect();
        assert!(slips.contains("としよかん"), "{slips:?}");
        let slips: BTreeSet<String> = (0..40).filter_map(|seed| kana_slip("とうきょう", seed)).collect();
        assert!(slips.contains("とおきょう") && slips.contains("とーきょう"), "{slips:?}");
        assert_eq!(kana_slip("ん", 0), None);
        assert_eq!(romaji_typed("としょかん", RomajiStyle::Kunrei).as_deref(), Some("tosyokan"));
        assert_eq!(romaji_typed("なつめ", RomajiStyle::Kunrei).as_deref(), Some("natume"));
        assert_eq!(romaji_typed("しんり", RomajiStyle::Kunrei).as_deref(), Some("sinri"));
        assert_eq!(romaji_typed("おおさか を あるく", RomajiStyle::Wapuro).as_deref(), Some("oosakawoaruku"));
        assert_eq!(romaji_typed("あかねとんぼ", RomajiStyle::Wapuro).as_deref(), Some("akanetonnbo"));
        assert_eq!(romaji_typed("まっちゃ", RomajiStyle::Wapuro).as_deref(), Some("matcha"));
        assert_eq!(romaji_typed("こーひー", RomajiStyle::Wapuro).as_deref(), Some("koohii"));
        assert_eq!(romaji_typed("東京", RomajiStyle::Wapuro), None);
        let typos: BTreeSet<String> = (0..30).filter_map(|seed| letter_slip("library", seed)).collect();
        assert!(typos.contains("libary") || typos.contains("lbrary") || typos.contains("liibrary"), "{typos:?}");
        assert!(typos.iter().all(|t| t.starts_with('l') && t != "library"));
        assert_eq!(letter_slip("japan", 0).map(|t| t.len()), Some(4));
        assert_eq!(letter_slip("map", 0), None);
    }
}
