//! Rendering: one template environment built at first use from templates embedded in the
//! binary, auto-escaping every `.html` template, and the headers every page carries.
//!
//! Record and patron text only ever reaches a page as a template variable, so the
//! template engine escapes it; nothing here concatenates HTML.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::value::Rest;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use super::messages;
use crate::error::ApiError;
use crate::lang::Lang;

/// The content security policy of every page: no inline script or style, no framing.
pub(crate) const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                              frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The templates, by name (the `.html` suffix turns auto-escaping on).
const TEMPLATES: [(&str, &str); 28] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("record.html", include_str!("../../templates/record.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("staff_login.html", include_str!("../../templates/staff_login.html")),
    ("staff_home.html", include_str!("../../templates/staff_home.html")),
    ("staff_password.html", include_str!("../../templates/staff_password.html")),
    ("staff_message.html", include_str!("../../templates/staff_message.html")),
    ("staff_nav.html", include_str!("../../templates/staff_nav.html")),
    ("staff_desk.html", include_str!("../../templates/staff_desk.html")),
    ("staff_patron.html", include_str!("../../templates/staff_patron.html")),
    ("staff_hold_shelf.html", include_str!("../../templates/staff_hold_shelf.html")),
    ("staff_due.html", include_str!("../../templates/staff_due.html")),
    ("my_login.html", include_str!("../../templates/my_login.html")),
    ("my_home.html", include_str!("../../templates/my_home.html")),
    ("my_hold.html", include_str!("../../templates/my_hold.html")),
    ("my_code.html", include_str!("../../templates/my_code.html")),
    ("my_settings.html", include_str!("../../templates/my_settings.html")),
    ("my_totp.html", include_str!("../../templates/my_totp.html")),
    ("my_recovery.html", include_str!("../../templates/my_recovery.html")),
    ("cataloguing_nav.html", include_str!("../../templates/cataloguing_nav.html")),
    ("cataloguing_form.html", include_str!("../../templates/cataloguing_form.html")),
    ("cataloguing_record.html", include_str!("../../templates/cataloguing_record.html")),
    ("cataloguing_marc.html", include_str!("../../templates/cataloguing_marc.html")),
    ("cataloguing_history.html", include_str!("../../templates/cataloguing_history.html")),
    ("cataloguing_copy.html", include_str!("../../templates/cataloguing_copy.html")),
];

static ENVIRONMENT: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();

fn build_environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    // A misspelt variable or message key is an error, not an empty string on a page.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("fill", |template: String, args: Rest<Value>| -> String {
        let args: Vec<String> = args.0.iter().map(ToString::to_string).collect();
        messages::fill(&template, &args)
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|err| format!("template {name}: {err:#}"))?;
    }
    Ok(env)
}

fn environment() -> Result<&'static Environment<'static>, ApiError> {
    ENVIRONMENT.get_or_init(build_environment).as_ref().map_err(|err| ApiError::internal(err))
}

/// Renders a template with a serialisable context.
pub(crate) fn render<S: Serialize>(name: &str, context: &S) -> Result<String, ApiError> {
    let template = environment()?.get_template(name).map_err(|err| ApiError::internal(&err))?;
    template.render(context).map_err(|err| ApiError::internal(&format!("{err:#}")))
}

/// A page's HTTP response: the HTML, its status, the security headers and, when the
/// language was chosen by `lang=`, the cookie that remembers it.
pub(crate) fn page(status: StatusCode, html: String, remember: Option<Lang>) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    security_headers(headers);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-language, cookie"));
    if let Some(lang) = remember {
        let cookie = match lang {
            Lang::Ja => "shiori_lang=ja; Path=/; SameSite=Lax; Max-Age=31536000; HttpOnly",
            Lang::En => "shiori_lang=en; Path=/; SameSite=Lax; Max-Age=31536000; HttpOnly",
        };
        headers.insert(header::SET_COOKIE, HeaderValue::from_static(cookie));
    }
    response
}

/// The headers of every HTML answer, error pages included.
pub(crate) fn security_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// The last resort when even the error page cannot be rendered: fixed text, no data.
pub(crate) fn bare_error(status: StatusCode) -> Response {
    let html = "<!doctype html><html lang=\"ja\"><meta charset=\"utf-8\"><title>Shiori</title>\
                <h1>エラーが発生しました / Something went wrong</h1></html>";
    page(status, html.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_every_message_key_exists() {
        if let Err(err) = build_environment() {
            panic!("{err}");
        }
        for (name, source) in TEMPLATES {
            let mut rest = source;
            while let Some(at) = rest.find("t.") {
                let before = rest[..at].chars().last();
                let key: String =
                    rest[at + 2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let is_word_start = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if is_word_start && !key.is_empty() {
                    for lang in [Lang::Ja, Lang::En] {
                        assert!(messages::lookup(lang, &key).is_some(), "{name}: no message {key}");
                    }
                }
                rest = &rest[at + 2..];
            }
        }
    }
}
