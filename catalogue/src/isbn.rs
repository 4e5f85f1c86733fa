//! ISBN normalisation: every ISBN is kept and looked up as ISBN-13, so ISBN-10, hyphenated
//! and qualified forms ("4-00-310101-4 (pbk.)") all meet.

/// The ISBN-13 of an ISBN-10 or ISBN-13 written with or without hyphens or spaces and
/// optionally followed by a qualifier; `None` if there is no ISBN with a valid check digit.
///
/// ```
/// assert_eq!(catalogue::isbn13("4-00-310101-4").as_deref(), Some("9784003101018"));
/// assert_eq!(catalogue::isbn13("978-4-00-310101-8 (pbk.)").as_deref(), Some("9784003101018"));
/// assert_eq!(catalogue::isbn13("4-00-310101-5"), None);
/// ```
pub fn isbn13(text: &str) -> Option<String> {
    let mut digits = String::with_capacity(13);
    for c in text.trim_start().chars() {
        match c {
            '0'..='9' => digits.push(c),
            'X' | 'x' if digits.len() == 9 => digits.push('X'),
            '-' | ' ' | '\u{2010}' | '\u{2011}' if digits.len() < 13 => {}
            _ => break,
        }
        if digits.len() == 13 {
            break;
        }
    }
    match digits.len() {
        13 if check13(&digits[..12]) == digits.as_bytes()[12] - b'0' && digits.starts_with("97") => Some(digits),
        10 if valid10(&digits) => {
            let stem = format!("978{}", &digits[..9]);
            let check = check13(&stem);
            Some(format!("{stem}{check}"))
        }
        _ => None,
    }
}

fn check13(twelve: &str) -> u8 {
    let sum: u32 = twelve.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    ((10 - sum % 10) % 10) as u8
}

fn valid10(ten: &str) -> bool {
    let sum: u32 = ten
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let value = if b == b'X' { 10 } else { u32::from(b - b'0') };
            value * (10 - i as u32)
        })
        .sum();
    sum.is_multiple_of(11)
}

/// The digits of the ISBN a 020 subfield begins with, hyphens and spaces left out (an
/// ISBN-10's last may be `X`, returned upper case), whatever its check digit: `None` when
/// the text does not begin with 10 or 13 digits. For the cataloguing checks, which tell a
/// wrong check digit from a number that is not an ISBN at all.
pub(crate) fn leading_isbn(text: &str) -> Option<String> {
    let text = text.trim();
    // The digits up to the first character that cannot be part of an ISBN ("4-00-310101-4
    // (pbk.)", "978-4-7949-7075-6 : 1700円"); else the first word ("4003101014 4003101022").
    let run: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, 'X' | 'x' | ' ' | '-' | '\u{2010}' | '\u{2011}'))
        .collect();
    let word = text.split_whitespace().next().unwrap_or("");
    [run.as_str(), word].into_iter().find_map(|candidate| {
        let digits: String = candidate.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{2010}' | '\u{2011}')).collect();
        let digits = digits.to_ascii_uppercase();
        let well_formed = match digits.len() {
            10 => {
                digits[..9].bytes().all(|b| b.is_ascii_digit())
                    && (digits.as_bytes()[9].is_ascii_digit() || digits.ends_with('X'))
            }
            13 => digits.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        well_formed.then_some(digits)
    })
}

/// The check digit that ends an ISBN whose other digits are `stem`: 9 digits for an
/// ISBN-10 (`0`-`9` or `X`), 12 for an ISBN-13; `None` for anything else.
pub(crate) fn check_digit(stem: &str) -> Option<char> {
    if !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match stem.len() {
        12 => Some(char::from(b'0' + check13(stem))),
        9 => {
            let sum: u32 = stem.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * (10 - i as u32)).sum();
            match (11 - sum % 11) % 11 {
                10 => Some('X'),
                digit => char::from_digit(digit, 10),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_real_isbns() {
        // 「i」 (opaceval), ぐりとぐら in both forms, a 10-digit X check.
        assert_eq!(isbn13("9784591164457").as_deref(), Some("9784591164457"));
        assert_eq!(isbn13("978-4-8340-0082-5").as_deref(), Some("9784834000825"));
        assert_eq!(isbn13("4-8340-0082-6").as_deref(), Some("9784834000825"));
        assert_eq!(isbn13("080442957X").as_deref(), Some("9780804429573"));
        assert_eq!(isbn13("0-8044-2957-x (v. 1)").as_deref(), Some("9780804429573"));
        for bad in ["", "abc", "978400080131", "9784000801315", "12345", "1234567890"] {
            assert_eq!(isbn13(bad), None, "{bad}");
        }
    }

    #[test]
    fn leading_isbn_and_check_digit() {
        assert_eq!(leading_isbn("4-00-310101-4 (pbk.)").as_deref(), Some("4003101014"));
        assert_eq!(leading_isbn("978-4-7949-7075-6 : 1700円").as_deref(), Some("9784794970756"));
        assert_eq!(leading_isbn("0-8044-2957-x").as_deref(), Some("080442957X"));
        assert_eq!(leading_isbn("4003101014 4003101022").as_deref(), Some("4003101014"));
        for bad in ["", "12345", "40031010X4", "978400310101", "(pbk.)"] {
            assert_eq!(leading_isbn(bad), None, "{bad}");
        }
        assert_eq!(check_digit("400310101"), Some('4'));
        assert_eq!(check_digit("080442957"), Some('X'));
        assert_eq!(check_digit("978479497075"), Some('6'));
        assert_eq!(check_digit("97847949707"), None);
        // Every ISBN isbn13 accepts ends in the digit check_digit gives.
        for good in ["9784591164457", "4834000826", "080442957X"] {
            let digits = leading_isbn(good).unwrap_or_default();
            assert_eq!(check_digit(&digits[..digits.len() - 1]), digits.chars().last(), "{good}");
        }
    }
}
