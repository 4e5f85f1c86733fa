//! Tenant codes: the name of a library in paths, URLs and keys.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A library's code, e.g. `shiori-city`: 2 to 32 characters of lowercase ASCII letters,
/// digits and inner hyphens. Because it becomes a folder name and a URL segment, anything
/// else (dots, slashes, upper case, non-ASCII) is refused, so no code can climb out of
/// the data folder or collide with another tenant's on a case-insensitive file system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantCode(String);

/// Codes that would shadow the server's own top-level routes.
const RESERVED: &[&str] = &["api", "static", "healthz", "metrics", "admin", "assets", "favicon.ico"];

impl TenantCode {
    /// The code as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TenantCode {
    type Err = Error;

    fn from_str(code: &str) -> Result<Self, Error> {
        let refuse = |reason| Err(Error::InvalidTenantCode { code: code.chars().take(64).collect(), reason });
        if code.len() < 2 || code.len() > 32 {
            return refuse("must be 2 to 32 characters long");
        }
        if !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return refuse("only lowercase ASCII letters, digits and '-' are allowed");
        }
        if code.starts_with('-') || code.ends_with('-') {
            return refuse("must not start or end with '-'");
        }
        if RESERVED.contains(&code) {
            return refuse("is reserved for the server's own paths");
        }
        Ok(Self(code.to_string()))
    }
}

impl fmt::Display for TenantCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for TenantCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TenantCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_codes() {
        for code in ["ab", "shiori-city", "lib01", "a-b-c", "x".repeat(32).as_str()] {
            assert_eq!(code.parse::<TenantCode>().map(|t| t.to_string()).ok().as_deref(), Some(code));
        }
    }

    #[test]
    fn refuses_path_traversal_and_odd_names() {
        let long = "x".repeat(33);
        for code in [
            "",
            "a",
            "..",
            "../etc",
            "a/b",
            "a\\b",
            ".hidden",
            "Shiori",
            "図書館",
            "a b",
            "-ab",
            "ab-",
            "api",
            "a\0b",
            "%2e%2e",
            long.as_str(),
        ] {
            assert!(code.parse::<TenantCode>().is_err(), "{code:?} must be refused");
        }
    }
}
