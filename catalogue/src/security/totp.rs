//! The second factor: TOTP (RFC 6238) and one-time recovery codes.
//!
//! TOTP is HMAC-SHA1, 6 digits, 30-second steps, accepting the step before and after the
//! current one for clock drift. A code is accepted once: the account remembers the last
//! step it accepted and refuses that step and every earlier one, so a code seen over a
//! shoulder or replayed from a captured request is dead (RFC 6238 §5.2).
//!
//! Recovery codes are 16 symbols of Crockford's base 32 (80 bits) in groups of four, ten
//! per account; only their SHA-256 is stored, and a used one is removed.

use jiff::Timestamp;
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};
use crate::security::secret::{SecretString, constant_time_eq, hex, normalise_code, random_bytes, random_code, sha256};

/// Seconds per TOTP step.
pub const TOTP_STEP_SECONDS: u64 = 30;
/// Digits of a TOTP code.
pub const TOTP_DIGITS: usize = 6;
/// Steps accepted either side of the current one.
const SKEW: u64 = 1;
/// How many recovery codes an account gets.
pub const RECOVERY_CODES: usize = 10;
/// The issuer shown by authenticator apps.
const ISSUER: &str = "Shiori";

/// What a person needs to set up their authenticator app: the secret (base 32, for typing)
/// and the `otpauth://` URI (for a QR code). Both are secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The shared secret in base 32, without padding.
    pub secret: SecretString,
    /// `otpauth://totp/Shiori:<account>?secret=…&issuer=Shiori`.
    pub uri: SecretString,
}

impl TotpEnrolment {
    /// The URI as a QR code drawn with Unicode half blocks (`▀`, `▄`, `█`), two modules a
    /// character, dark on light, with the quiet zone: for printing to a terminal.
    pub fn qr_text(&self) -> Result<String> {
        qr_text(self.uri.expose())
    }
}

/// Any text as a terminal QR code (see [`TotpEnrolment::qr_text`]).
pub fn qr_text(text: &str) -> Result<String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| Error::Crypto(format!("drawing a QR code: {e}")))?;
    Ok(code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build())
}

/// Any text as an SVG QR code, for a web page: one `<path>` of dark modules on a light
/// square with the quiet zone, `scale` pixels a module, sized by attributes (no `style`,
/// so a strict content security policy allows it inline). It is hidden from assistive
/// technology: a page showing it also shows the text (the TOTP secret, for typing).
pub fn qr_svg(text: &str, scale: u32) -> Result<String> {
    use std::fmt::Write;
    let code = QrCode::new(text.as_bytes()).map_err(|e| Error::Crypto(format!("drawing a QR code: {e}")))?;
    const QUIET: usize = 4;
    let width = code.width();
    let side = width + 2 * QUIET;
    let pixels = side as u32 * scale.max(1);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{pixels}\" \
         height=\"{pixels}\" shape-rendering=\"crispEdges\" aria-hidden=\"true\" focusable=\"false\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            // Writing to a String cannot fail.
            let _ = write!(svg, "M{x} {y}h1v1h-1z");
        }
    }
    svg.push_str("\"/></svg>");
    Ok(svg)
}

/// A new random TOTP secret: 160 bits, as RFC 4226 recommends.
pub(crate) fn new_secret() -> Result<[u8; 20]> {
    random_bytes()
}

fn totp(secret: &[u8], account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(TOTP_DIGITS as u8)
        .with_skew(0)
        .with_step_duration(TOTP_STEP_SECONDS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|e| Error::Crypto(format!("TOTP: {e}")))
}

/// The secret in base 32 (as stored and as shown).
pub(crate) fn encode_secret(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

pub(crate) fn decode_secret(base32: &str) -> Result<Vec<u8>> {
    Secret::try_from_base32(base32)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|_| Error::Storage("a stored TOTP secret is not base 32".into()))
}

/// The enrolment for a secret; `account` is the label the app shows (`yamada@shiori-city`).
pub(crate) fn enrolment(secret: &[u8], account: &str) -> Result<TotpEnrolment> {
    let uri = totp(secret, account)?.to_url().map_err(|e| Error::Crypto(format!("TOTP: {e}")))?;
    Ok(TotpEnrolment { secret: SecretString::new(encode_secret(secret)), uri: SecretString::new(uri) })
}

/// The label an authenticator app shows for an account. It may not hold `:` (the
/// `otpauth://` URI's separator of issuer and account), so any is replaced.
pub(crate) fn account_label(label: &str) -> String {
    label.replace(':', "-")
}

/// The step of an instant.
fn step_of(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0) / TOTP_STEP_SECONDS
}

/// The step `code` is valid for at `now`, if it is valid within ±1 step and later than
/// `last_used` (the last step this secret accepted): so the same code, or an older one,
/// is never accepted twice.
pub(crate) fn check_code(
    secret_base32: &str,
    code: &str,
    now: Timestamp,
    last_used: Option<u64>,
) -> Result<Option<u64>> {
    let code: String = code.nfkc().filter(|c| !c.is_whitespace()).collect();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(&decode_secret(secret_base32)?, "")?;
    let origin = step_of(now);
    let mut found = None;
    // Every candidate is computed and compared, so the time taken does not say which matched.
    for step in origin.saturating_sub(SKEW)..=origin + SKEW {
        let expected = totp.generate(step * TOTP_STEP_SECONDS).to_string();
        let fresh = last_used.is_none_or(|last| step > last);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) && fresh && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

/// The TOTP code of a base-32 secret at an instant: what an authenticator app shows. For
/// tests and the demo; a server never needs it to check a code.
pub fn totp_code(secret_base32: &str, at: Timestamp) -> Result<String> {
    let totp = totp(&decode_secret(secret_base32.trim())?, "")?;
    Ok(totp.generate(step_of(at) * TOTP_STEP_SECONDS).to_string())
}

/// Ten new recovery codes, as shown (`xxxx-xxxx-xxxx-xxxx`), and their stored hashes.
pub(crate) fn new_recovery_codes() -> Result<(Vec<SecretString>, Vec<String>)> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut stored = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = random_code(16, 4)?;
        stored.push(recovery_hash(&code).unwrap_or_default());
        shown.push(SecretString::new(code));
    }
    Ok((shown, stored))
}

/// The stored form of a typed recovery code, or `None` if it cannot be one (a TOTP code,
/// a typo with a letter outside the alphabet, the wrong length).
pub(crate) fn recovery_hash(typed: &str) -> Option<String> {
    let code = normalise_code(typed)?;
    (code.len() == 16).then(|| hex(&sha256(&[b"shiori recovery code\0", code.as_bytes()])))
}

/// What a typed second factor turned out to be, checked against a snapshot of what an
/// account stores (staff in `system.redb`, patrons in their library's catalogue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecondFactor {
    /// Nothing was typed.
    Missing,
    /// A TOTP code, valid for this step and newer than the last one accepted.
    Totp(u64),
    /// One of the unused recovery codes: its stored hash.
    Recovery(String),
    /// Neither.
    Wrong,
}

impl SecondFactor {
    /// Checks what was typed: a TOTP code of `secret` (base 32) newer than `last_step`, or
    /// one of the `recovery` hashes.
    pub(crate) fn check(
        secret: &str,
        last_step: Option<u64>,
        recovery: &[String],
        typed: Option<&str>,
        now: Timestamp,
    ) -> Result<SecondFactor> {
        let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(SecondFactor::Missing) };
        if let Some(step) = check_code(secret, typed, now, last_step)? {
            return Ok(SecondFactor::Totp(step));
        }
        if let Some(i) = find_recovery_code(recovery, typed) {
            return Ok(SecondFactor::Recovery(recovery[i].clone()));
        }
        Ok(SecondFactor::Wrong)
    }

    /// Uses the factor on the account as it is now (re-read in the write transaction):
    /// records the TOTP step, so it and earlier ones are refused from now on, or removes
    /// the recovery code. `Some(used a recovery code)`, or `None` if the factor is no
    /// longer good (the step was used meanwhile, the code spent) or was never good.
    pub(crate) fn spend(&self, last_step: &mut Option<u64>, recovery: &mut Vec<String>) -> Option<bool> {
        match self {
            SecondFactor::Totp(step) if last_step.is_none_or(|last| *step > last) => {
                *last_step = Some(*step);
                Some(false)
            }
            SecondFactor::Recovery(hash) => {
                let i = recovery.iter().position(|h| h == hash)?;
                recovery.remove(i);
                Some(true)
            }
            _ => None,
        }
    }
}

/// The index of the stored hash `typed` matches. Every stored hash is compared.
pub(crate) fn find_recovery_code(stored: &[String], typed: &str) -> Option<usize> {
    let hash = recovery_hash(typed)?;
    let mut found = None;
    for (i, candidate) in stored.iter().enumerate() {
        if constant_time_eq(candidate.as_bytes(), hash.as_bytes()) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1: the secret is the ASCII "12345678901234567890"; the
    /// table's 8-digit codes end in these 6 digits.
    #[test]
    fn rfc_6238_vectors() -> Result<()> {
        let secret = encode_secret(b"12345678901234567890");
        for (seconds, code) in [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")]
        {
            let at = Timestamp::from_second(seconds).map_err(|e| Error::Crypto(e.to_string()))?;
            assert_eq!(totp_code(&secret, at)?, code);
            assert!(check_code(&secret, code, at, None)?.is_some());
        }
        Ok(())
    }

    #[test]
    fn recovery_codes_match_typed_variants() -> Result<()> {
        let (shown, stored) = new_recovery_codes()?;
        assert_eq!(shown.len(), 10);
        let typed = shown[3].expose().to_uppercase().replace('-', " ");
        assert_eq!(find_recovery_code(&stored, &typed), Some(3));
        assert_eq!(find_recovery_code(&stored, "123456"), None);
        Ok(())
    }

    #[test]
    fn a_factor_is_spent_once() -> Result<()> {
        let secret = encode_secret(b"12345678901234567890");
        let at = Timestamp::from_second(1111111109).map_err(|e| Error::Crypto(e.to_string()))?;
        let (shown, mut recovery) = new_recovery_codes()?;
        let mut last = None;
        let code = totp_code(&secret, at)?;
        let factor = SecondFactor::check(&secret, last, &recovery, Some(&code), at)?;
        assert!(matches!(factor, SecondFactor::Totp(_)));
        assert_eq!(factor.spend(&mut last, &mut recovery), Some(false));
        assert_eq!(factor.spend(&mut last, &mut recovery), None, "the same step again");
        assert_eq!(SecondFactor::check(&secret, last, &recovery, Some(&code), at)?, SecondFactor::Wrong);
        let factor = SecondFactor::check(&secret, last, &recovery, Some(shown[0].expose()), at)?;
        assert_eq!(factor.spend(&mut last, &mut recovery), Some(true));
        assert_eq!((recovery.len(), factor.spend(&mut last, &mut recovery)), (RECOVERY_CODES - 1, None));
        assert_eq!(SecondFactor::check(&secret, last, &recovery, Some(" "), at)?, SecondFactor::Missing);
        Ok(())
    }

    #[test]
    fn qr_svg_draws_every_dark_module() -> Result<()> {
        let text = "otpauth://totp/Shiori:P0001@tosho?secret=JBSWY3DPEHPK3PXP&issuer=Shiori";
        let svg = qr_svg(text, 4)?;
        let code = QrCode::new(text.as_bytes()).map_err(|e| Error::Crypto(e.to_string()))?;
        let dark = code.to_colors().iter().filter(|c| **c == qrcode::Color::Dark).count();
        assert_eq!(svg.matches('M').count(), dark);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>") && !svg.contains("style"), "{svg}");
        Ok(())
    }

    #[test]
    fn qr_code_renders() -> Result<()> {
        let text = qr_text("otpauth://totp/Shiori:demo@demo?secret=JBSWY3DPEHPK3PXP&issuer=Shiori")?;
        assert!(text.lines().count() > 10);
        assert!(text.contains('█') || text.contains('▀') || text.contains('▄'));
        Ok(())
    }
}
