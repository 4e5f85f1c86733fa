//! The language of a response: Japanese first, English on request.

use axum::http::HeaderMap;

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 日本語, the default.
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// The language asked for: an explicit `lang=` parameter wins, then the `shiori_lang`
    /// cookie, then the first of Japanese or English in `Accept-Language`; Japanese otherwise.
    pub fn negotiate(param: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = param.and_then(Lang::parse) {
            return lang;
        }
        let cookie = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix("shiori_lang="))
            .find_map(Lang::parse);
        if let Some(lang) = cookie {
            return lang;
        }
        let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        accept
            .split(',')
            .filter_map(|part| Lang::parse(part.split(';').next().unwrap_or("").trim()))
            .next()
            .unwrap_or_default()
    }

    /// `ja`/`en` (and regional forms like `en-GB`) to a language.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "ja" | "jp" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_then_cookie_then_accept_language() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::negotiate(None, &headers), Lang::Ja);
        headers.insert("accept-language", "fr, en-GB;q=0.8, ja;q=0.5".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &headers), Lang::En);
        headers.insert("cookie", "a=b; shiori_lang=ja".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &headers), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("en"), &headers), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), &headers), Lang::Ja);
    }
}
