//! The staff cookies: the session, and the login form's pre-session CSRF token.
//!
//! Both are `HttpOnly`, `SameSite=Strict` and `Path=/`; under TLS they are `Secure` and
//! carry the `__Host-` prefix, which a browser only accepts from a secure origin without a
//! `Domain`, so a sibling host cannot plant one.

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie's name.
pub(crate) fn session(tls: bool) -> &'static str {
    if tls { "__Host-shiori-session" } else { "shiori-session" }
}

/// The login form's CSRF cookie's name.
pub(crate) fn login(tls: bool) -> &'static str {
    if tls { "__Host-shiori-login" } else { "shiori-login" }
}

/// The value of the first cookie called `name`.
pub(crate) fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key.trim() == name).then(|| value.trim()))
}

/// A `Set-Cookie` value. `value` is a token of hex digits (nothing to escape); `max_age`
/// in seconds, or a cookie for the browser session when `None`.
pub(crate) fn set(name: &str, value: &str, tls: bool, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if tls {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("shiori-invalid=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes the cookie.
pub(crate) fn clear(name: &str, tls: bool) -> HeaderValue {
    set(name, "", tls, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_attributes_and_reading() {
        assert_eq!(
            set(session(true), "ab", true, None),
            "__Host-shiori-session=ab; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(clear(login(false), false), "shiori-login=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("shiori_lang=en; shiori-session=12ab"));
        headers.append(header::COOKIE, HeaderValue::from_static("shiori-session=ffff"));
        assert_eq!(read(&headers, "shiori-session"), Some("12ab"));
        assert_eq!(read(&headers, "__Host-shiori-session"), None);
    }
}
