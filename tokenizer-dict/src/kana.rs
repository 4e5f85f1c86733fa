//! Kana: script tests, hiragana/katakana conversion, iteration marks, and romaji.
//!
//! Romaji come in two forms so that whatever a patron types meets the record:
//! Hepburn without macrons, the way libraries romanise (東京 -> tokyo, 大野 -> ono), and
//! the wāpuro form, kana by kana, the way people type (トウキョウ -> toukyou).

use std::borrow::Cow;

/// True for hiragana, katakana (including half-width forms already NFKC'd) and ー.
pub(crate) fn is_kana_or_prolonged(c: char) -> bool {
    is_hiragana(c) || is_katakana(c) || c == 'ー'
}

/// Hiragana letters and marks (ぁ..ゖ, ゝ ゞ ゟ).
pub fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309F}')
}

/// Katakana letters and marks (ァ..ヺ, ヽ ヾ ヿ, the small katakana extension).
pub fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}')
}

/// Converts katakana to hiragana; everything else (ー, kanji, Latin) is kept.
///
/// ```
/// assert_eq!(tokenizer_dict::to_hiragana("トショカン"), "としょかん");
/// assert_eq!(tokenizer_dict::to_hiragana("コンピューター"), "こんぴゅーたー");
/// ```
pub fn to_hiragana(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' | '\u{30FD}' | '\u{30FE}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// Expands a kana iteration mark (ゝ ゞ ヽ ヾ) after `previous`; `None` if `mark` is not one
/// or `previous` is not kana of the same script.
pub(crate) fn iterate(mark: char, previous: char) -> Option<char> {
    let (hiragana, voiced) = match mark {
        'ゝ' => (true, false),
        'ゞ' => (true, true),
        'ヽ' => (false, false),
        'ヾ' => (false, true),
        _ => return None,
    };
    let same_script = if hiragana { is_hiragana(previous) } else { is_katakana(previous) };
    if !same_script {
        return None;
    }
    let base = unvoiced(previous);
    Some(if voiced { voiced_form(base).unwrap_or(base) } else { base })
}

/// ヴ (already folded to ブ) followed by a small vowel: ブ+ァ -> バ, ブ+ィ -> ビ …
pub(crate) fn fold_vu_syllable(folded_vu: char, small: char) -> Option<char> {
    let katakana = match small {
        'ァ' | 'ぁ' => 'バ',
        'ィ' | 'ぃ' => 'ビ',
        'ゥ' | 'ぅ' => 'ブ',
        'ェ' | 'ぇ' => 'ベ',
        'ォ' | 'ぉ' => 'ボ',
        _ => return None,
    };
    match folded_vu {
        'ブ' => Some(katakana),
        'ぶ' => Some(to_hiragana(&katakana.to_string()).chars().next().unwrap_or(katakana)),
        _ => None,
    }
}

/// The unvoiced kana of a voiced or semi-voiced one (が -> か, ぱ -> は).
fn unvoiced(c: char) -> char {
    let decomposed: Vec<char> = unicode_normalization::UnicodeNormalization::nfd(std::iter::once(c)).collect();
    match decomposed.as_slice() {
        [base, '\u{3099}' | '\u{309A}'] => *base,
        _ => c,
    }
}

fn voiced_form(c: char) -> Option<char> {
    let composed: Vec<char> = unicode_normalization::UnicodeNormalization::nfc([c, '\u{3099}'].into_iter()).collect();
    match composed.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Romanised forms of one reading.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Romaji {
    /// Hepburn without macrons: long vowels written once (とうきょう -> tokyo).
    pub hepburn: String,
    /// The wāpuro form, kana by kana (とうきょう -> toukyou, を -> wo).
    pub wapuro: String,
}

/// Romanises a hiragana or katakana reading. `pronunciation` (IPADIC's 発音 field, with
/// ー for long vowels and ワ for the particle は) gives the Hepburn form where known;
/// without it long vowels are collapsed from the reading (おう, おお, うう).
///
/// ```
/// let r = tokenizer_dict::romanize("トウキョウ", Some("トーキョー"));
/// assert_eq!((r.hepburn.as_str(), r.wapuro.as_str()), ("tokyo", "toukyou"));
/// let r = tokenizer_dict::romanize("とうきょう", None);
/// assert_eq!(r.hepburn, "tokyo");
/// ```
pub fn romanize(reading: &str, pronunciation: Option<&str>) -> Romaji {
    let reading = to_hiragana(reading);
    let hepburn = match pronunciation {
        Some(p) => romanize_with(&to_hiragana(p), Style::Hepburn { collapse_kana_long_vowels: false }),
        None => romanize_with(&reading, Style::Hepburn { collapse_kana_long_vowels: true }),
    };
    Romaji { hepburn, wapuro: romanize_with(&reading, Style::Wapuro) }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Hepburn { collapse_kana_long_vowels: bool },
    Wapuro,
}

fn romanize_with(hiragana: &str, style: Style) -> String {
    let chars: Vec<char> = hiragana.chars().collect();
    let mut out = String::with_capacity(hiragana.len());
    let mut geminate = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            'っ' => {
                geminate = true;
                continue;
            }
            'ー' => {
                // Hepburn drops the mark (no macrons); wāpuro repeats the vowel.
                if style == Style::Wapuro
                    && let Some(vowel) = out.chars().last().filter(|v| "aiueo".contains(*v))
                {
                    out.push(vowel);
                }
                continue;
            }
            _ => {}
        }
        let Some(base) = base_romaji(c, style) else {
            geminate = false;
            out.push(c);
            continue;
        };
        // Small kana combine with the syllable before: き+ゃ -> kya, ふ+ぁ -> fa.
        let syllable: Cow<'static, str> = match chars.get(i).and_then(|&next| combine_small(base, next)) {
            Some(combined) => {
                i += 1;
                Cow::Owned(combined)
            }
            None => Cow::Borrowed(base),
        };
        if geminate {
            geminate = false;
            let doubled = if syllable.starts_with("ch") && matches!(style, Style::Hepburn { .. }) {
                't'
            } else {
                syllable.chars().next().unwrap_or('t')
            };
            if !"aiueon".contains(doubled) {
                out.push(doubled);
            }
        }
        if let Style::Hepburn { collapse_kana_long_vowels: true } = style {
            // おう/おお -> o, うう -> u: the long vowel is written once.
            let last_vowel = syllable.chars().last();
            while let Some(&next) = chars.get(i) {
                let long = matches!((last_vowel, next), (Some('o'), 'う' | 'お') | (Some('u'), 'う'));
                if !long {
                    break;
                }
                i += 1;
            }
        }
        out.push_str(&syllable);
    }
    out
}

fn combine_small(syllable: &str, small: char) -> Option<String> {
    let glide = match small {
        'ゃ' => "a",
        'ゅ' => "u",
        'ょ' => "o",
        'ぁ' => "A",
        'ぃ' => "I",
        'ぅ' => "U",
        'ぇ' => "E",
        'ぉ' => "O",
        _ => return None,
    };
    let stem = syllable.strip_suffix(['a', 'i', 'u', 'e', 'o'])?;
    if glide.chars().all(|g| g.is_ascii_lowercase()) {
        // Yōon: only after an i-row syllable (き, し, ち …).
        if !syllable.ends_with('i') || syllable == "i" {
            return None;
        }
        let palatal = matches!(stem, "sh" | "ch" | "j");
        return Some(format!("{stem}{}{glide}", if palatal { "" } else { "y" }));
    }
    let vowel = glide.to_ascii_lowercase();
    Some(match syllable {
        "u" => format!("w{vowel}"),
        "i" => format!("y{vowel}"),
        "tsu" => format!("ts{vowel}"),
        "te" | "de" | "to" | "do" => format!("{}{vowel}", &syllable[..1]),
        _ => format!("{stem}{vowel}"),
    })
}

fn base_romaji(c: char, style: Style) -> Option<&'static str> {
    let wapuro = style == Style::Wapuro;
    Some(match c {
        'あ' | 'ぁ' => "a",
        'い' | 'ぃ' => "i",
        'う' | 'ぅ' => "u",
        'え' | 'ぇ' => "e",
        'お' | 'ぉ' => "o",
        'か' | 'ゕ' => "ka",
        'き' => "ki",
        'く' => "ku",
        'け' | 'ゖ' => "ke",
        'こ' => "ko",
        'が' => "ga",
        'ぎ' => "gi",
        'ぐ' => "gu",
        'げ' => "ge",
        'ご' => "go",
        'さ' => "sa",
        'し' => "shi",
        'す' => "su",
        'せ' => "se",
        'そ' => "so",
        'ざ' => "za",
        'じ' => "ji",
        'ず' => "zu",
        'ぜ' => "ze",
        'ぞ' => "zo",
        'た' => "ta",
        'ち' => "chi",
        'つ' => "tsu",
        'て' => "te",
        'と' => "to",
        'だ' => "da",
        'ぢ' => "ji",
        'づ' => "zu",
        'で' => "de",
        'ど' => "do",
        'な' => "na",
        'に' => "ni",
        'ぬ' => "nu",
        'ね' => "ne",
        'の' => "no",
        'は' => "ha",
        'ひ' => "hi",
        'ふ' => "fu",
        'へ' => "he",
        'ほ' => "ho",
        'ば' => "ba",
        'び' => "bi",
        'ぶ' => "bu",
        'べ' => "be",
        'ぼ' => "bo",
        'ぱ' => "pa",
        'ぴ' => "pi",
        'ぷ' => "pu",
        'ぺ' => "pe",
        'ぽ' => "po",
        'ま' => "ma",
        'み' => "mi",
        'む' => "mu",
        'め' => "me",
        'も' => "mo",
        'や' | 'ゃ' => "ya",
        'ゆ' | 'ゅ' => "yu",
        'よ' | 'ょ' => "yo",
        'ら' => "ra",
        'り' => "ri",
        'る' => "ru",
        'れ' => "re",
        'ろ' => "ro",
        'わ' | 'ゎ' => "wa",
        'ゐ' => "i",
        'ゑ' => "e",
        'を' if wapuro => "wo",
        'を' => "o",
        'ん' => "n",
        'ゔ' => "vu",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romanizes_table() {
        let cases = [
            ("とうきょう", None, "tokyo", "toukyou"),
            ("トウキョウ", Some("トーキョー"), "tokyo", "toukyou"),
            ("がっこう", Some("ガッコー"), "gakko", "gakkou"),
            ("まっちゃ", None, "matcha", "maccha"),
            ("しんいち", None, "shinichi", "shinichi"),
            ("じゅんいちろう", None, "junichiro", "junichirou"),
            ("コンピューター", None, "konpyuta", "konpyuutaa"),
            ("ふぁいる", None, "fairu", "fairu"),
            ("てぃっしゅ", None, "tisshu", "tisshu"),
            ("おおさか", None, "osaka", "oosaka"),
            ("を", None, "o", "wo"),
            ("ちぇっく", None, "chekku", "chekku"),
            ("うぃすきー", None, "wisuki", "wisukii"),
            ("おもう", Some("オモウ"), "omou", "omou"),
            ("なつめそうせき", Some("ナツメソーセキ"), "natsumesoseki", "natsumesouseki"),
        ];
        for (reading, pronunciation, hepburn, wapuro) in cases {
            let r = romanize(reading, pronunciation);
            assert_eq!((r.hepburn.as_str(), r.wapuro.as_str()), (hepburn, wapuro), "{reading}");
        }
    }

    #[test]
    fn iteration_marks() {
        assert_eq!(iterate('ゝ', 'こ'), Some('こ'));
        assert_eq!(iterate('ゞ', 'す'), Some('ず'));
        assert_eq!(iterate('ゝ', 'ぶ'), Some('ふ'));
        assert_eq!(iterate('ヾ', 'ハ'), Some('バ'));
        assert_eq!(iterate('ゝ', 'カ'), None);
    }
}
