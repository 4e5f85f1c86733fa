//! Secrets in memory: random values, their hashes, and a string type whose `Debug` and
//! `Display` never show it.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// A secret text: a one-time password, a TOTP secret or its `otpauth://` URI, a recovery
/// code, a session or CSRF token. `Debug` and `Display` print `[redacted]`, so a secret
/// cannot reach a log through `{:?}` by accident; [`SecretString::expose`] is the one way
/// to read it, and should appear only where it is shown to its owner or sent in a cookie.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl serde::Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretString)
    }
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::Crypto(format!("no randomness from the system: {e}")))?;
    Ok(bytes)
}

/// The alphabet of codes people type (one-time passwords, recovery codes): Crockford's
/// base 32, the digits and the lowercase letters without i, l, o and u. 32 symbols, so the
/// low 5 bits of a random byte pick one without bias; [`normalise_code`] reads the
/// look-alikes (o as 0, i and l as 1) back.
const ALPHABET32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `len` random symbols of the code alphabet, in groups of `group` joined by `-`.
pub(crate) fn random_code(len: usize, group: usize) -> Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| Error::Crypto(format!("no randomness from the system: {e}")))?;
    let mut out = String::with_capacity(len + len / group.max(1));
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && group > 0 && i % group == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET32[usize::from(b & 31)]));
    }
    Ok(out)
}

/// A typed code in its stored form: full-width characters folded (NFKC), spaces and `-`
/// dropped, lowercase, o read as 0 and i, l as 1. `None` when a character is not in the
/// alphabet.
pub(crate) fn normalise_code(typed: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(typed.len());
    for c in typed.nfkc() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '-' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET32.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Bytes from lowercase or uppercase hexadecimal of exactly `N` bytes.
pub(crate) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != N * 2 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// SHA-256 of `parts`, concatenated.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Equality that takes the same time wherever the first difference is.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let secret = SecretString::new("hunter2-hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        assert_eq!(secret.expose(), "hunter2-hunter2");
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_code("AB0L-ｃｄ ef").as_deref(), Some("ab01cdef"));
        assert_eq!(normalise_code("Oil").as_deref(), Some("011"));
        assert_eq!(normalise_code("abu"), None);
        assert_eq!(normalise_code("ab!"), None);
    }

    #[test]
    fn hex_round_trip() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex::<4>("0001ABff"), Some(bytes));
        assert_eq!(unhex::<4>("0001abf"), None);
        assert_eq!(unhex::<4>("0001abfg"), None);
    }

    #[test]
    fn codes_use_the_alphabet() -> Result<()> {
        let code = random_code(16, 4)?;
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        assert!(code.bytes().all(|b| b == b'-' || ALPHABET32.contains(&b)));
        let mut seen = ALPHABET32.to_vec();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 32);
        Ok(())
    }
}
