//! Volume and part numbers: what a patron types after a title (断腸亭日乗 2, 銭形平次捕物控 39,
//! 人間学講話 下, 第2巻) and what catalogues record in 245 $n, 490 $v and 800-830 $v
//! ("02", "第2巻", "v. 2", "dai 4-kan", "巻之二", "下卷"), brought to one form so the volume
//! asked for can be ranked first.
//!
//! The form is the number without leading zeros ("2"), or for the volumes of a set named by
//! position the position's kanji (上, 中, 下, 前, 後).

/// The volume a catalogued designation (245 $n, 490 $v …) names: its first number (Arabic
/// or kanji numerals, full-width digits included), or 上 中 下 前 後 when it names the
/// volume so; `None` for a designation without either ("Henshusha no gakko").
pub(crate) fn catalogued(designation: &str) -> Option<String> {
    let text = tokenizer_dict::normalize(designation).into_string();
    if let Some(number) = first_number(&text) {
        return Some(number);
    }
    positional(&text)
}

/// The volume a query word names, when the whole word is a volume designation: a number of
/// one to four digits ("2", "039"), a kanji numeral, 第2巻, 2巻, 第二, その五, vol.2, 上, 下巻,
/// 前編 …; `None` for any other word.
pub(crate) fn typed(word: &str) -> Option<String> {
    let text = tokenizer_dict::normalize(word).into_string();
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.chars().all(|c| c.is_ascii_digit()) {
        return (text.len() <= 4).then(|| strip_zeros(text));
    }
    let mut core = text;
    for prefix in ["第", "その", "vol.", "vol", "v.", "no.", "巻之", "卷之"] {
        if let Some(rest) = core.strip_prefix(prefix) {
            core = rest.trim_start();
            break;
        }
    }
    for suffix in ["巻", "卷", "冊", "集", "部", "編", "篇", "号", "輯"] {
        if let Some(rest) = core.strip_suffix(suffix) {
            core = rest;
            break;
        }
    }
    if core.is_empty() {
        return None;
    }
    if core.chars().all(|c| c.is_ascii_digit()) {
        return (core.len() <= 4).then(|| strip_zeros(core));
    }
    if core.chars().all(|c| kanji_digit(c).is_some() || matches!(c, '十' | '百' | '千')) {
        // A bare kanji numeral other than the volume words is a word too (一 in 一休):
        // only a designated one (第二, 二巻) or one of two or more characters counts.
        if core != text || core.chars().count() >= 2 {
            return kanji_number(core).map(|n| n.to_string());
        }
        return None;
    }
    positional(text).filter(|_| text.chars().count() <= 3)
}

/// 上 中 下 前 後 as the name of a volume (上, 上巻, 前編, 後篇 …).
fn positional(text: &str) -> Option<String> {
    let text = text.trim();
    for (marker, words) in [
        ("上", &["上", "上巻", "上卷", "上編", "上篇", "上冊"][..]),
        ("中", &["中", "中巻", "中卷", "中編", "中篇", "中冊"][..]),
        ("下", &["下", "下巻", "下卷", "下編", "下篇", "下冊"][..]),
        ("前", &["前編", "前篇"][..]),
        ("後", &["後編", "後篇"][..]),
    ] {
        if words.iter().any(|w| text == *w || text.starts_with(&format!("{w} "))) {
            return Some(marker.to_string());
        }
    }
    None
}

/// The first number in a text: a run of ASCII digits, or of kanji numerals.
fn first_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let run: String = chars[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
            return Some(strip_zeros(&run));
        }
        if kanji_digit(c).is_some() || (matches!(c, '十' | '百') && i + 1 < chars.len()) {
            let run: String = chars[i..]
                .iter()
                .take_while(|&&c| kanji_digit(c).is_some() || matches!(c, '十' | '百' | '千'))
                .collect();
            // A kanji numeral counts where it designates: after 第, 巻之, その or at the start.
            let designated = i == 0 || matches!(chars[i - 1], '第' | '之' | 'の' | ' ');
            if designated && let Some(n) = kanji_number(&run) {
                return Some(n.to_string());
            }
            i += run.chars().count();
            continue;
        }
        i += 1;
    }
    None
}

fn strip_zeros(digits: &str) -> String {
    let stripped = digits.trim_start_matches('0');
    if stripped.is_empty() { "0".to_string() } else { stripped.to_string() }
}

fn kanji_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' | '壱' => 1,
        '二' | '弐' => 2,
        '三' | '参' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 二 -> 2, 十二 -> 12, 四十九 -> 49, 百二十 -> 120, 二〇一五 -> 2015.
fn kanji_number(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    if !text.chars().any(|c| matches!(c, '十' | '百' | '千')) {
        // Digit by digit (二〇一五).
        return text.chars().try_fold(0u32, |n, c| Some(n.checked_mul(10)? + kanji_digit(c)?));
    }
    let mut total = 0u32;
    let mut digit: Option<u32> = None;
    for c in text.chars() {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            other => {
                digit = Some(kanji_digit(other)?);
                continue;
            }
        };
        total += digit.unwrap_or(1) * unit;
        digit = None;
    }
    Some(total + digit.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogued_designations_name_their_volume() {
        let cases = [
            ("02", Some("2")),
            ("039 冬の蝶", Some("39")),
            ("01 その一 〔判官巷を往く〕", Some("1")),
            ("第2巻", Some("2")),
            ("v. 12", Some("12")),
            ("dai 4-kan", Some("4")),
            ("卷第四十九--卷第六十一", Some("49")),
            ("巻之二", Some("2")),
            ("下卷", Some("下")),
            ("上編", Some("上")),
            ("上", Some("上")),
            ("後篇", Some("後")),
            ("2015春夏", Some("2015")),
            ("no.11", Some("11")),
            ("Henshusha no gakko", None),
            ("初篇", None),
        ];
        for (designation, volume) in cases {
            assert_eq!(catalogued(designation).as_deref(), volume, "{designation}");
        }
    }

    #[test]
    fn typed_words_that_are_volumes() {
        let cases = [
            ("2", Some("2")),
            ("039", Some("39")),
            ("２", Some("2")),
            ("第2巻", Some("2")),
            ("2巻", Some("2")),
            ("第二", Some("2")),
            ("二巻", Some("2")),
            ("その五", Some("5")),
            ("十二", Some("12")),
            ("vol.3", Some("3")),
            ("上", Some("上")),
            ("下巻", Some("下")),
            ("前編", Some("前")),
            ("一", None),
            ("12345", None),
            ("こころ", None),
            ("上野", None),
            ("history", None),
        ];
        for (word, volume) in cases {
            assert_eq!(typed(word).as_deref(), volume, "{word}");
        }
    }
}
