//! Passwords: the rules a new one must pass, and argon2id hashing.
//!
//! Rules follow NIST SP 800-63B rather than composition rules: at least 12 characters, not
//! one of the most common passwords (an embedded list, also matched after stripping the
//! digits and symbols people pad a word with), not the username, not one piece repeated or
//! a run like `abcdefghijkl`. Passwords are compared after NFKC normalisation, so the same
//! password typed with a Japanese input method in full-width characters still matches.
//!
//! Hashes are argon2id PHC strings with OWASP's parameters (19 MiB, 2 passes, 1 lane, a
//! random 16-byte salt). A hash records its parameters, so raising them later keeps old
//! hashes verifiable.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};
use crate::security::secret::{random_bytes, random_code};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in characters (argon2 takes any length; this bounds the
/// work a request can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

const COMMON: &str = include_str!("common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect())
}

/// Checks a new password against the rules; the error says which rule refused it, in
/// words that can be shown to the person choosing it.
pub fn check_password_rules(password: &str, username: &str) -> Result<()> {
    let normalised: String = password.nfkc().collect();
    let chars: Vec<char> = normalised.chars().collect();
    if chars.len() < MIN_PASSWORD_CHARS {
        return Err(Error::WeakPassword("it must be at least 12 characters long"));
    }
    if chars.len() > MAX_PASSWORD_CHARS {
        return Err(Error::WeakPassword("it must be at most 256 characters long"));
    }
    if chars.iter().any(|c| c.is_control()) {
        return Err(Error::WeakPassword("it must not contain control characters"));
    }
    let lower = normalised.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if common().contains(lower.as_str()) || common().contains(core) {
        return Err(Error::WeakPassword("it is one of the most common passwords"));
    }
    let username = username.trim().to_lowercase();
    if username.chars().count() >= 3 && lower.contains(&username) {
        return Err(Error::WeakPassword("it must not contain the username"));
    }
    let repeated = (1..=chars.len() / 2)
        .filter(|unit| chars.len().is_multiple_of(*unit))
        .any(|unit| chars.chunks(unit).all(|chunk| chunk == &chars[..unit]));
    if repeated {
        return Err(Error::WeakPassword("it must not be one short piece repeated"));
    }
    let steps: Vec<i64> = chars.windows(2).map(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0]))).collect();
    if steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1) {
        return Err(Error::WeakPassword("it must not be a run like abcdef or 987654"));
    }
    Ok(())
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|e| Error::Crypto(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The argon2id PHC string of a password (NFKC-normalised first).
pub(crate) fn hash_password(password: &str) -> Result<String> {
    hash_with_salt(password, &random_bytes::<16>()?)
}

fn hash_with_salt(password: &str, salt: &[u8]) -> Result<String> {
    let normalised: String = password.nfkc().collect();
    let hash = argon2()?
        .hash_password_with_salt(normalised.as_bytes(), salt)
        .map_err(|e| Error::Crypto(format!("hashing a password: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string. A damaged hash matches nothing.
pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    let normalised: String = password.nfkc().collect();
    match argon2() {
        Ok(argon2) => argon2.verify_password(normalised.as_bytes(), phc).is_ok(),
        Err(_) => false,
    }
}

/// Spends the work of one verification, so a login for an unknown (or disabled) account
/// takes as long as one for a real account. The result is thrown away: the dummy hash's
/// password needs no secrecy, only the same parameters as real hashes.
pub(crate) fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_with_salt("shiori dummy password", b"shiori-dummy-salt").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

/// A one-time password: 20 random symbols in four groups of five (100 bits), that passes
/// the rules for `username`.
pub(crate) fn one_time_password(username: &str) -> Result<String> {
    // A draw fails the rules only if it happens to hold the username: vanishingly rare.
    for _ in 0..100 {
        let password = random_code(20, 5)?;
        if check_password_rules(&password, username).is_ok() {
            return Ok(password);
        }
    }
    Err(Error::Crypto("no acceptable one-time password could be drawn".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        for good in ["correct horse battery", "図書館の本を読むのが好きです", "k3x9q-7mfta-z2wbc-8rn4d"] {
            assert!(check_password_rules(good, "yamada").is_ok(), "{good:?}");
        }
        for bad in [
            "short",
            "password1234",
            "Password2024!",
            "!!QWERTYUIOP!!",
            "ｐａｓｓｗｏｒｄ１２３４",
            "yamada-is-here-1",
            "abcabcabcabc",
            "aaaaaaaaaaaaaaaa",
            "abcdefghijklmn",
            "zyxwvutsrqponm",
            "toshokan2025!!",
        ] {
            assert!(matches!(check_password_rules(bad, "yamada"), Err(Error::WeakPassword(_))), "{bad:?}");
        }
    }

    #[test]
    fn hash_and_verify() -> Result<()> {
        let hash = hash_password("correct horse battery")?;
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        // Full-width input is the same password.
        assert!(verify_password("ｃｏｒｒｅｃｔ　ｈｏｒｓｅ　ｂａｔｔｅｒｙ", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery")?, "salted");
        Ok(())
    }

    #[test]
    fn one_time_passwords_pass_the_rules() -> Result<()> {
        for _ in 0..20 {
            check_password_rules(&one_time_password("admin")?, "admin")?;
        }
        Ok(())
    }
}
