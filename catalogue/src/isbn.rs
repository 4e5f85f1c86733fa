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
}
