//! OpenSearch 1.1 for each library: a browser or an aggregator adds the catalogue as a
//! search engine from its description document, and reads results as Atom or RSS.
//!
//! Routes:
//! - `GET /{tenant}/opensearch.xml` the description document (URL templates for the OPAC
//!   page, Atom and RSS results and suggestions); the OPAC's pages link to it with
//!   `<link rel="search">`;
//! - `GET /{tenant}/opensearch?q=&page=&per_page=&format=atom|rss` a page of results
//!   (every parameter of the JSON search is understood: `sort`, `mode`, `filter`, `lang`);
//! - `GET /{tenant}/opensearch/suggest?q=` completions as OpenSearch suggestions JSON,
//!   `["query", ["completion", …]]`.
//!
//! Links must be absolute for OpenSearch clients. They start with the configured public
//! base URL ([`AppState::base_url`]); without one, with `http://` and the request's `Host`
//! (which must be a plain `host[:port]`: anything else is ignored rather than echoed);
//! with neither, links are relative to the server. Mistakes in the request are the JSON
//! API's problem objects (400, unknown library 404).

mod description;
mod feed;

use std::collections::HashSet;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use indexer::{MAX_OFFSET, MatchMode};
use tower_http::cors::CorsLayer;

use self::description::Description;
use self::feed::{Entry, Feed, Format, Links};
use crate::api::{HitJson, blocking, lang_param, run_search};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::params::SearchParams;
use crate::server::{AppState, Library};

/// The description's media type (OpenSearch 1.1).
const DESCRIPTION_TYPE: &str = "application/opensearchdescription+xml; charset=utf-8";
/// The suggestions' media type (OpenSearch suggestions extension 1.0).
const SUGGESTIONS_TYPE: &str = "application/x-suggestions+json";
/// Completions offered per request.
const SUGGESTIONS: usize = 10;
/// The longest text completed, in characters (as the JSON API's suggestions).
const SUGGEST_MAX_CHARS: usize = 100;
/// XML documents are data, never a page: nothing in them may run or be framed.
const XML_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// OpenSearch's routes. Read-only, so any library's web page may call them.
pub(crate) fn routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_origin(tower_http::cors::Any)
        .allow_headers([header::ACCEPT, header::ACCEPT_LANGUAGE]);
    Router::new()
        .route("/{tenant}/opensearch.xml", get(description))
        .route("/{tenant}/opensearch", get(results))
        .route("/{tenant}/opensearch/suggest", get(suggest))
        .layer(cors)
}

/// `GET /{tenant}/opensearch.xml`.
async fn description(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(raw.as_deref().and_then(lang_param).as_deref(), &headers);
    let answer = library(&state, path).and_then(|library| {
        let origin = origin(&state, &headers, &uri);
        let code = library.tenant.code.to_string();
        description::render(&Description { name: &library.tenant.name, code: &code, origin: &origin, lang })
            .map_err(|err| ApiError::internal(&err))
    });
    match answer {
        Ok(xml) => xml_response(DESCRIPTION_TYPE, xml),
        Err(err) => err.in_lang(lang).into_response(),
    }
}

/// `GET /{tenant}/opensearch`: a page of results as Atom or RSS.
async fn results(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(raw.as_deref().and_then(lang_param).as_deref(), &headers);
    let origin = origin(&state, &headers, &uri);
    let answer = async {
        let library = library(&state, path)?;
        let (format, params) = feed_params(raw.as_deref())?;
        blocking(move || {
            let (results, hits) = run_search(&library, &params)?;
            let feed = build_feed(&library, &params, format, lang, &origin, results, hits)?;
            let xml = match format {
                Format::Atom => feed::atom(&feed),
                Format::Rss => feed::rss(&feed),
            };
            xml.map(|xml| (format, xml)).map_err(|err| ApiError::internal(&err))
        })
        .await
    };
    match answer.await {
        Ok((format, xml)) => xml_response(format.content_type(), xml),
        Err(err) => err.in_lang(lang).into_response(),
    }
}

/// `GET /{tenant}/opensearch/suggest`: `["query", ["completion", …]]`.
async fn suggest(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(raw.as_deref().and_then(lang_param).as_deref(), &headers);
    let answer = async {
        let library = library(&state, path)?;
        let pairs = pairs(raw.as_deref())?;
        let q = pairs.into_iter().find(|(name, _)| name == "q").map(|(_, q)| q).unwrap_or_default();
        if q.chars().count() > SUGGEST_MAX_CHARS {
            return Err(ApiError::bad_request(
                "query_too_long",
                format!("入力が長すぎます（{SUGGEST_MAX_CHARS}文字まで）"),
                format!("q is longer than {SUGGEST_MAX_CHARS} characters"),
            ));
        }
        blocking(move || {
            let suggestions = library.index.suggest(&q, SUGGESTIONS)?;
            // A title and a name can read the same: offer the text once.
            let mut seen = HashSet::new();
            let completions: Vec<String> =
                suggestions.into_iter().map(|s| s.text).filter(|text| seen.insert(text.clone())).collect();
            Ok(serde_json::json!([q, completions]))
        })
        .await
    };
    match answer.await {
        Ok(json) => {
            let mut response = Json(json).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SUGGESTIONS_TYPE));
            response
        }
        Err(err) => err.in_lang(lang).into_response(),
    }
}

/// The library of the URL, or the unknown-library 404 (also for a segment that is not
/// even text).
fn library(state: &AppState, path: Result<Path<String>, PathRejection>) -> Result<Arc<Library>, ApiError> {
    match path {
        Ok(Path(tenant)) => state.library(&tenant),
        Err(_) => Err(ApiError::unknown_tenant("?")),
    }
}

/// Scheme, host and path prefix of absolute links, without a trailing slash: the
/// configured base URL; else `http://` and the request's host (the `Host` header, or the
/// authority of an HTTP/2 request) when it is a plain `host[:port]`; else empty, making
/// links relative to the server.
pub(crate) fn origin(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    if let Some(base) = state.base_url() {
        return base.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()));
    match host {
        Some(host) if plain_host(host) => format!("http://{host}"),
        _ => String::new(),
    }
}

/// A host name, IPv4 or bracketed IPv6 address, and optional port: nothing that could
/// change a URL's meaning (`/`, `@`, `?`, `#`, spaces, quotes) when echoed into one.
fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// A raw query string as decoded pairs, or the JSON API's 400.
fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|_| {
        ApiError::bad_request("bad_parameter", "URL の検索条件を読めません", "the query string cannot be decoded")
    })
}

/// The format and the search of a results URL. OpenSearch clients may fill an optional
/// template parameter they do not use with nothing (`page=&per_page=`): an empty `page`,
/// `per_page` or `format` means the default.
fn feed_params(raw: Option<&str>) -> Result<(Format, SearchParams), ApiError> {
    let pairs: Vec<(String, String)> = pairs(raw)?
        .into_iter()
        .filter(|(name, value)| !(value.is_empty() && matches!(name.as_str(), "page" | "per_page" | "format")))
        .collect();
    let mut format = Format::Atom;
    for (name, value) in &pairs {
        if name == "format" {
            format = Format::parse(value).ok_or_else(|| {
                let shown: String = value.chars().take(50).collect();
                ApiError::bad_request(
                    "bad_parameter",
                    format!("format の値「{shown}」は使えません（使えるもの: atom, rss）"),
                    format!("format cannot be {shown:?} (allowed: atom, rss)"),
                )
            })?;
        }
    }
    let mut params = SearchParams::from_pairs(&pairs)?;
    if params.q.trim().is_empty() && params.mode == MatchMode::Keywords {
        return Err(ApiError::bad_request("empty_query", "検索語を入力してください", "q is required"));
    }
    // A feed has no facet list to show.
    params.facets = false;
    Ok((format, params))
}

/// The feed of a page of results: links to the other pages, and each hit's record page
/// and last change.
fn build_feed(
    library: &Library,
    params: &SearchParams,
    format: Format,
    lang: Lang,
    origin: &str,
    results: indexer::SearchResults,
    hits: Vec<HitJson>,
) -> Result<Feed, ApiError> {
    let code = &library.tenant.code;
    let page_url = |page: usize| {
        format!("{origin}/{code}/opensearch?{}&format={}", params.url_with(Some(page), None, None), format.name())
    };
    // The last page that has hits and that can be paged to at all.
    let last = results.total.div_ceil(params.per_page).clamp(1, MAX_OFFSET / params.per_page + 1);
    let links = Links {
        this: page_url(params.page),
        first: page_url(1),
        previous: (params.page > 1).then(|| page_url((params.page - 1).min(last))),
        next: (params.page < last).then(|| page_url(params.page + 1)),
        last: page_url(last),
        html: format!("{origin}/{code}/?{}", params.url_with(Some(params.page), None, None)),
        description: format!("{origin}/{code}/opensearch.xml"),
    };
    let mut entries = Vec::with_capacity(hits.len());
    for hit in hits {
        // A record deleted since the index was read still has its hit; "now" will do.
        let updated = match library.catalogue.get(hit.id)? {
            Some(bib) => bib.updated,
            None => jiff::Timestamp::now().as_second(),
        };
        entries.push(Entry {
            url: format!("{origin}/{code}/records/{}", hit.id),
            marcxml: format!("{origin}/api/v1/{code}/records/{}.marcxml", hit.id),
            title: hit.title,
            reading: hit.title_reading,
            authors: hit.authors,
            publisher: hit.publisher,
            year: hit.year,
            isbn: hit.isbn,
            ndc: hit.ndc,
            availability: hit.availability,
            updated,
        });
    }
    let updated = entries.iter().map(|entry| entry.updated).max().unwrap_or_else(|| jiff::Timestamp::now().as_second());
    Ok(Feed {
        lang,
        library: library.tenant.name.clone(),
        query: params.q.clone(),
        total: results.total,
        page: params.page,
        per_page: params.per_page,
        correction: results.did_you_mean,
        updated,
        links,
        entries,
    })
}

/// An XML answer: its type, and headers that keep a browser from treating it as a page.
pub(crate) fn xml_response(content_type: &'static str, xml: String) -> Response {
    let mut response = (StatusCode::OK, xml).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(XML_CSP));
    // The texts follow the request's language (parameter, cookie or Accept-Language).
    headers.insert(header::VARY, HeaderValue::from_static("accept-language, cookie"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_host_is_echoed() {
        for good in ["opac.example.jp", "opac.example.jp:8080", "127.0.0.1:8080", "[::1]:8080", "localhost"] {
            assert!(plain_host(good), "{good}");
        }
        for bad in ["", "evil.example/x", "a@b", "a b", "a\"b", "a<b", "x?y", "x#y", &"a".repeat(256)] {
            assert!(!plain_host(bad), "{bad}");
        }
    }

    #[test]
    fn empty_optional_parameters_mean_the_defaults() {
        let (format, params) = feed_params(Some("q=x&page=&per_page=&format=")).unwrap();
        assert_eq!((format, params.page, params.per_page), (Format::Atom, 1, 20));
        let (format, params) = feed_params(Some("q=x&page=2&per_page=5&format=rss&facets=true")).unwrap();
        assert_eq!((format, params.page, params.per_page, params.facets), (Format::Rss, 2, 5, false));
        for bad in ["q=x&format=json", "q=x&page=0", "q=x&per_page=500", "q=", "page=2"] {
            assert_eq!(feed_params(Some(bad)).unwrap_err().status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
