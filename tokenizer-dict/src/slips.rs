//! What patrons get slightly wrong when they type a reading: the kana fold that makes
//! their slips meet the record, and romaji in whatever system they learnt.
//!
//! [`fold_kana`] forgets the distinctions a slip of the finger or of the ear blurs:
//! dakuten and handakuten (はくはっき for はくはつき, あらじ for あらし), small and large
//! kana (としよかん, ノルウエイ), and how a long vowel is spelled (おう / おお / おー).
//! Records and queries are folded alike, so a folded reading is a weaker match than the
//! reading itself: the search engine asks for it only when the exact reading found too
//! little, and ranks it below.
//!
//! [`romaji_to_kana`] reads romaji typed in Hepburn, Kunrei-shiki, Nihon-shiki or the
//! wāpuro way (tosyokan, natume, sinri, oosakawoaruku, akanetonbo with ん as nn), with or
//! without spaces, into hiragana; the fold then takes care of long vowels typed once
//! (tokyo for とうきょう).

use crate::kana::{is_hiragana, to_hiragana};

/// The folded form of a reading: hiragana without dakuten or handakuten, small kana as
/// large, ゐ ゑ を as い え お, ち ぢ じ as し and つ づ ず as す (a dakuten added to ち is
/// ぢ, which sounds as じ), and a long vowel written once (its second vowel kana or ー
/// dropped). Characters that are not kana are kept as they are.
///
/// ```
/// use tokenizer_dict::fold_kana;
/// assert_eq!(fold_kana("はくはっき"), fold_kana("はくはつき"));
/// assert_eq!(fold_kana("あらじ"), fold_kana("あらし"));
/// assert_eq!(fold_kana("としよかん"), fold_kana("としょかん"));
/// assert_eq!(fold_kana("ノルウエイ"), fold_kana("ノルウェイ"));
/// assert_eq!(fold_kana("おおさか"), fold_kana("おーさか"));
/// assert_eq!(fold_kana("とうきょう"), fold_kana("ときょ"));
/// ```
pub fn fold_kana(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_vowel: Option<char> = None;
    for c in to_hiragana(text).chars() {
        if !(is_hiragana(c) || c == 'ー') {
            out.push(c);
            last_vowel = None;
            continue;
        }
        let plain = plain_kana(c);
        if plain == 'ー' {
            continue; // the long-vowel mark lengthens; it is not a sound of its own
        }
        let lengthens = matches!(
            (last_vowel, plain),
            (Some('a'), 'あ')
                | (Some('i'), 'い')
                | (Some('u'), 'う')
                | (Some('e'), 'い' | 'え')
                | (Some('o'), 'う' | 'お')
        );
        if lengthens {
            continue;
        }
        out.push(plain);
        last_vowel = vowel_of(plain);
    }
    out
}

/// A kana without its voicing marks and at its full size (ぱ -> は, ょ -> よ, ヴ -> う);
/// ゐ ゑ を become い え お, ち ぢ じ し all し, つ っ づ ず all す.
fn plain_kana(c: char) -> char {
    match c {
        'が' => 'か',
        'ぎ' => 'き',
        'ぐ' => 'く',
        'げ' => 'け',
        'ご' => 'こ',
        'ざ' => 'さ',
        'じ' => 'し',
        'ず' => 'す',
        'ぜ' => 'せ',
        'ぞ' => 'そ',
        'だ' => 'た',
        // ぢ sounds as じ and is mistyped for ち: ち, ぢ, し and じ all fold to し, and
        // つ, づ, す and ず to す.
        'ぢ' | 'ち' => 'し',
        'づ' | 'つ' => 'す',
        'で' => 'て',
        'ど' => 'と',
        'ば' | 'ぱ' => 'は',
        'び' | 'ぴ' => 'ひ',
        'ぶ' | 'ぷ' => 'ふ',
        'べ' | 'ぺ' => 'へ',
        'ぼ' | 'ぽ' => 'ほ',
        'ゔ' => 'う',
        'ぁ' => 'あ',
        'ぃ' => 'い',
        'ぅ' => 'う',
        'ぇ' => 'え',
        'ぉ' => 'お',
        'っ' => 'す',
        'ゃ' => 'や',
        'ゅ' => 'ゆ',
        'ょ' => 'よ',
        'ゎ' => 'わ',
        'ゕ' => 'か',
        'ゖ' => 'け',
        'ゐ' => 'い',
        'ゑ' => 'え',
        'を' => 'お',
        other => other,
    }
}

/// The vowel a (folded) kana ends in.
fn vowel_of(c: char) -> Option<char> {
    const ROWS: [(char, &str); 5] = [
        ('a', "あかさたなはまやらわ"),
        ('i', "いきしちにひみり"),
        ('u', "うくすつぬふむゆる"),
        ('e', "えけせてねへめれ"),
        ('o', "おこそとのほもよろ"),
    ];
    ROWS.iter().find(|(_, row)| row.contains(c)).map(|(vowel, _)| *vowel)
}

/// Romaji as hiragana, or `None` when `text` is not romaji: anything but ASCII letters,
/// spaces, hyphens and apostrophes, or letters no romanisation system writes (an English
/// word: "library", "catalog"). Spaces are dropped; Hepburn (shi, chi, tsu, fu, ji), Kunrei
/// and Nihon-shiki (si, ti, tu, hu, zi, di, du, sya, tya), wāpuro (wo, nn, xtu / ltu for
/// a small kana) are all read; a doubled consonant is っ, n before a consonant or at the
/// end ん, as are nn and n'.
///
/// ```
/// use tokenizer_dict::romaji_to_kana;
/// assert_eq!(romaji_to_kana("tosyokan").as_deref(), Some("としょかん"));
/// assert_eq!(romaji_to_kana("natume").as_deref(), Some("なつめ"));
/// assert_eq!(romaji_to_kana("oosakawoaruku").as_deref(), Some("おおさかをあるく"));
/// assert_eq!(romaji_to_kana("akanetonnbo").as_deref(), Some("あかねとんぼ"));
/// assert_eq!(romaji_to_kana("library"), None);
/// ```
pub fn romaji_to_kana(text: &str) -> Option<String> {
    parse_romaji(text, false)
}

/// Every hiragana reading `text` may be romaji for: [`romaji_to_kana`]'s, and where it
/// differs the reading of an IME, for which nn is ん before a vowel too (amazonnappuru is
/// あまぞんあっぷる to an IME, あまぞんなっぷる in Hepburn). Empty when it is not romaji.
///
/// ```
/// use tokenizer_dict::romaji_readings;
/// assert_eq!(romaji_readings("mannenn"), ["まんねん", "まんえん"]);
/// assert_eq!(romaji_readings("natume"), ["なつめ"]);
/// ```
pub fn romaji_readings(text: &str) -> Vec<String> {
    let mut out: Vec<String> = parse_romaji(text, false).into_iter().collect();
    if let Some(ime) = parse_romaji(text, true)
        && !out.contains(&ime)
    {
        out.push(ime);
    }
    out
}

fn parse_romaji(text: &str, ime: bool) -> Option<String> {
    let letters: Vec<u8> = text.bytes().filter(|b| !matches!(b, b' ' | b'-')).map(|b| b.to_ascii_lowercase()).collect();
    if letters.is_empty() || !letters.iter().all(|b| b.is_ascii_lowercase() || *b == b'\'') {
        return None;
    }
    let mut out = String::with_capacity(letters.len() * 2);
    let mut i = 0;
    while i < letters.len() {
        let rest = &letters[i..];
        if rest[0] == b'\'' {
            i += 1;
            continue;
        }
        // n: ん before a consonant other than y, before an apostrophe, at the end, and nn.
        if rest[0] == b'n' {
            match rest.get(1) {
                None => {
                    out.push('ん');
                    i += 1;
                    continue;
                }
                Some(b'n') => {
                    out.push('ん');
                    // Before a vowel, Hepburn's nn is ん and the n of the next syllable
                    // (konnichiha); an IME's nn is ん whatever follows.
                    let hepburn_double = rest.get(2).is_some_and(|b| is_vowel(*b) || *b == b'y');
                    i += if hepburn_double && !ime { 1 } else { 2 };
                    continue;
                }
                Some(b'\'') => {
                    out.push('ん');
                    i += 2;
                    continue;
                }
                Some(next) if !is_vowel(*next) && *next != b'y' => {
                    out.push('ん');
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        // m before b, m, p is ん in Hepburn as LC writes it (shimbun).
        if rest[0] == b'm' && rest.get(1).is_some_and(|b| matches!(b, b'b' | b'p')) {
            out.push('ん');
            i += 1;
            continue;
        }
        // A doubled consonant (and tch) is っ.
        if let Some(&next) = rest.get(1)
            && !is_vowel(rest[0])
            && rest[0] != b'n'
            && (next == rest[0] || (rest[0] == b't' && next == b'c'))
        {
            out.push('っ');
            i += 1;
            continue;
        }
        let (kana, used) = syllable(rest)?;
        out.push_str(kana);
        i += used;
    }
    Some(out)
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'i' | b'u' | b'e' | b'o')
}

/// The kana of the syllable `rest` begins with, and how many letters it used; the
/// longest spelling wins.
fn syllable(rest: &[u8]) -> Option<(&'static str, usize)> {
    for length in (1..=4).rev() {
        let Some(head) = rest.get(..length) else { continue };
        let Ok(head) = std::str::from_utf8(head) else { continue };
        if let Some(kana) = SYLLABLES.iter().find(|(romaji, _)| *romaji == head).map(|(_, kana)| *kana) {
            return Some((kana, length));
        }
    }
    None
}

/// Every spelling of every syllable, in Hepburn, Kunrei, Nihon-shiki and wāpuro.
const SYLLABLES: &[(&str, &str)] = &[
    ("a", "あ"),
    ("i", "い"),
    ("u", "う"),
    ("e", "え"),
    ("o", "お"),
    ("ka", "か"),
    ("ki", "き"),
    ("ku", "く"),
    ("ke", "け"),
    ("ko", "こ"),
    ("kya", "きゃ"),
    ("kyu", "きゅ"),
    ("kyo", "きょ"),
    ("ga", "が"),
    ("gi", "ぎ"),
    ("gu", "ぐ"),
    ("ge", "げ"),
    ("go", "ご"),
    ("gya", "ぎゃ"),
    ("gyu", "ぎゅ"),
    ("gyo", "ぎょ"),
    ("sa", "さ"),
    ("si", "し"),
    ("shi", "し"),
    ("su", "す"),
    ("se", "せ"),
    ("so", "そ"),
    ("sya", "しゃ"),
    ("syu", "しゅ"),
    ("syo", "しょ"),
    ("sye", "しぇ"),
    ("sha", "しゃ"),
    ("shu", "しゅ"),
    ("sho", "しょ"),
    ("she", "しぇ"),
    ("za", "ざ"),
    ("zi", "じ"),
    ("ji", "じ"),
    ("zu", "ず"),
    ("ze", "ぜ"),
    ("zo", "ぞ"),
    ("zya", "じゃ"),
    ("zyu", "じゅ"),
    ("zyo", "じょ"),
    ("ja", "じゃ"),
    ("ju", "じゅ"),
    ("jo", "じょ"),
    ("je", "じぇ"),
    ("jya", "じゃ"),
    ("jyu", "じゅ"),
    ("jyo", "じょ"),
    ("ta", "た"),
    ("ti", "ち"),
    ("chi", "ち"),
    ("tu", "つ"),
    ("tsu", "つ"),
    ("te", "て"),
    ("to", "と"),
    ("tya", "ちゃ"),
    ("tyu", "ちゅ"),
    ("tyo", "ちょ"),
    ("cha", "ちゃ"),
    ("chu", "ちゅ"),
    ("cho", "ちょ"),
    ("che", "ちぇ"),
    ("cya", "ちゃ"),
    ("cyu", "ちゅ"),
    ("cyo", "ちょ"),
    ("thi", "てぃ"),
    ("tsa", "つぁ"),
    ("da", "だ"),
    ("di", "ぢ"),
    ("du", "づ"),
    ("de", "で"),
    ("do", "ど"),
    ("dya", "ぢゃ"),
    ("dyu", "ぢゅ"),
    ("dyo", "ぢょ"),
    ("dhi", "でぃ"),
    ("na", "な"),
    ("ni", "に"),
    ("nu", "ぬ"),
    ("ne", "ね"),
    ("no", "の"),
    ("nya", "にゃ"),
    ("nyu", "にゅ"),
    ("nyo", "にょ"),
    ("ha", "は"),
    ("hi", "ひ"),
    ("hu", "ふ"),
    ("fu", "ふ"),
    ("he", "へ"),
    ("ho", "ほ"),
    ("hya", "ひゃ"),
    ("hyu", "ひゅ"),
    ("hyo", "ひょ"),
    ("fa", "ふぁ"),
    ("fi", "ふぃ"),
    ("fe", "ふぇ"),
    ("fo", "ふぉ"),
    ("ba", "ば"),
    ("bi", "び"),
    ("bu", "ぶ"),
    ("be", "べ"),
    ("bo", "ぼ"),
    ("bya", "びゃ"),
    ("byu", "びゅ"),
    ("byo", "びょ"),
    ("pa", "ぱ"),
    ("pi", "ぴ"),
    ("pu", "ぷ"),
    ("pe", "ぺ"),
    ("po", "ぽ"),
    ("pya", "ぴゃ"),
    ("pyu", "ぴゅ"),
    ("pyo", "ぴょ"),
    ("ma", "ま"),
    ("mi", "み"),
    ("mu", "む"),
    ("me", "め"),
    ("mo", "も"),
    ("mya", "みゃ"),
    ("myu", "みゅ"),
    ("myo", "みょ"),
    ("ya", "や"),
    ("yu", "ゆ"),
    ("yo", "よ"),
    ("ra", "ら"),
    ("ri", "り"),
    ("ru", "る"),
    ("re", "れ"),
    ("ro", "ろ"),
    ("rya", "りゃ"),
    ("ryu", "りゅ"),
    ("ryo", "りょ"),
    ("la", "ら"),
    ("li", "り"),
    ("lu", "る"),
    ("le", "れ"),
    ("lo", "ろ"),
    ("wa", "わ"),
    ("wi", "うぃ"),
    ("we", "うぇ"),
    ("wo", "を"),
    ("va", "ゔぁ"),
    ("vi", "ゔぃ"),
    ("vu", "ゔ"),
    ("ve", "ゔぇ"),
    ("vo", "ゔぉ"),
    ("xa", "ぁ"),
    ("xi", "ぃ"),
    ("xu", "ぅ"),
    ("xe", "ぇ"),
    ("xo", "ぉ"),
    ("xya", "ゃ"),
    ("xyu", "ゅ"),
    ("xyo", "ょ"),
    ("xtu", "っ"),
    ("xtsu", "っ"),
    ("ltu", "っ"),
    ("ltsu", "っ"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fold_meets_each_kind_of_slip() {
        let same = [
            ("はくはっき", "はくはつき"),
            ("あらじ", "あらし"),
            ("あらし", "あらじ"),
            ("としよかん", "としょかん"),
            ("ノルウエイのもり", "のるうぇいのもり"),
            ("とうきょう", "とおきょお"),
            ("とーきょー", "ときょ"),
            ("おおさか", "おうさか"),
            ("せんせい", "せんせー"),
            ("ぢしん", "じしん"),
            ("うぢむら", "うちむら"),
            ("ぎじゅづ", "ぎじゅつ"),
            ("みかづき", "みかずき"),
            ("ヴァイオリン", "うあいおりん"),
            ("おおさかをあるく", "おさかおあるく"),
        ];
        for (typed, catalogued) in same {
            assert_eq!(fold_kana(typed), fold_kana(catalogued), "{typed} / {catalogued}");
        }
        let apart = [("ちず", "ちえ"), ("つき", "すく"), ("かわ", "かな"), ("はな", "はなし")];
        for (a, b) in apart {
            assert_ne!(fold_kana(a), fold_kana(b), "{a} / {b}");
        }
        assert_eq!(fold_kana("東京とうきょう"), "東京ときよ");
    }

    #[test]
    fn romaji_of_every_system_reads_as_kana() {
        let cases = [
            ("tosyokan", "としょかん"),
            ("toshokan", "としょかん"),
            ("natume", "なつめ"),
            ("natsume", "なつめ"),
            ("sinri", "しんり"),
            ("shinri", "しんり"),
            ("oosakawoaruku", "おおさかをあるく"),
            ("akanetonbo", "あかねとんぼ"),
            ("akanetonnbo", "あかねとんぼ"),
            ("kon'ya", "こんや"),
            ("konnyaku", "こんにゃく"),
            ("konnnichiha", "こんにちは"),
            ("gakkou", "がっこう"),
            ("matcha", "まっちゃ"),
            ("shimbun", "しんぶん"),
            ("hutatu", "ふたつ"),
            ("tizu", "ちず"),
            ("ginga tetsudo no yoru", "ぎんがてつどのよる"),
            ("Kokoro", "こころ"),
        ];
        for (romaji, kana) in cases {
            assert_eq!(romaji_to_kana(romaji).as_deref(), Some(kana), "{romaji}");
        }
        for english in ["library", "catalog", "history", "world", "3", "東京", "", "qa"] {
            assert_eq!(romaji_to_kana(english), None, "{english}");
            assert!(romaji_readings(english).is_empty(), "{english}");
        }
        assert_eq!(romaji_readings("amazonnappuru"), ["あまぞんなっぷる", "あまぞんあっぷる"]);
        assert_eq!(romaji_readings("konnnichiha"), ["こんにちは"]);
    }
}
