//! The OPAC: server-rendered HTML pages for patrons, in Japanese unless English is asked
//! for (`lang=en`, remembered in the `shiori_lang` cookie).
//!
//! Every page works as plain HTML with GET forms; `static/opac.js` only adds suggestions
//! as you type. Pages come from auto-escaping templates (`render.rs`), their words from
//! one message catalogue (`messages.rs`), and their data from view models that hold only
//! text and ready-made links (`views.rs`). Mistakes in the request (an unknown library or
//! record, a bad parameter or query) are HTML pages with 404 or 400, never a 500.
//!
//! Routes:
//! - `GET /` the libraries hosted here;
//! - `GET /{tenant}/` the search form and, with `q`, the results (facets, sorts, paging);
//! - `GET /{tenant}/records/{id}` a record: every field, holdings, MARC, downloads;
//! - `POST /{tenant}/records/{id}/hold` placing a hold: to the patron's hold form, through
//!   the patron login when needed (`patron.rs`, which has the patron pages `/{tenant}/my/`);
//! - `GET /static/{file}` the stylesheet and the script.

mod assets;
pub(crate) mod messages;
pub(crate) mod patron;
pub(crate) mod render;
pub(crate) mod views;

pub(crate) use assets::url as assets_url;
pub(crate) use render::CSP;

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use self::messages::{fill, grouped, text};
use self::render::{page, render};
use self::views::{Frame, LibraryRef, RecordPage, Results, SearchForm};
use crate::api::{blocking, lang_param, run_search};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::params::{MAX_QUERY_CHARS, SearchParams};
use crate::record::RecordView;
use crate::server::{AppState, Library};

/// The OPAC's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(assets::serve))
        .route("/{tenant}", get(to_library_home))
        .route("/{tenant}/", get(search))
        .route("/{tenant}/records/{id}", get(record))
        .route("/{tenant}/records/{id}/hold", post(hold))
        .merge(patron::routes())
}

/// What a request says about how to answer it: language, and where it was.
struct Request {
    lang: Lang,
    /// Set when `lang=` chose the language: the cookie remembers it.
    remember: Option<Lang>,
    path: String,
    raw: Option<String>,
}

impl Request {
    fn new(uri: &Uri, raw: Option<String>, headers: &HeaderMap) -> Request {
        let param = raw.as_deref().and_then(lang_param);
        let remember = param.as_deref().and_then(Lang::parse);
        Request { lang: Lang::negotiate(param.as_deref(), headers), remember, path: uri.path().to_owned(), raw }
    }

    fn frame(&self, title: String, library: Option<LibraryRef>, form: Option<SearchForm>) -> Frame {
        Frame::new(self.lang, title, &self.path, self.raw.as_deref(), library, form)
    }

    /// A page, or the error page if it cannot be rendered.
    fn page<S: Serialize>(&self, status: StatusCode, template: &str, context: &S) -> Response {
        match render(template, context) {
            Ok(html) => page(status, html, self.remember),
            Err(err) => self.error(None, None, err),
        }
    }

    /// The error page: the error's status and message, and a way back.
    fn error(&self, library: Option<&LibraryRef>, params: Option<&SearchParams>, err: ApiError) -> Response {
        #[derive(Serialize)]
        struct ErrorPage {
            #[serde(flatten)]
            frame: Frame,
            heading: &'static str,
            message: String,
        }
        let err = err.in_lang(self.lang);
        let heading = match err.status {
            StatusCode::NOT_FOUND => text(self.lang, "error_title_404"),
            status if status.is_client_error() => text(self.lang, "error_title_400"),
            _ => text(self.lang, "error_title_500"),
        };
        let form = library.map(|l| SearchForm::new(self.lang, l, params.unwrap_or(&SearchParams::default())));
        let frame = self.frame(heading.to_owned(), library.cloned(), form);
        let context = ErrorPage { frame, heading, message: err.message().to_owned() };
        match render("error.html", &context) {
            Ok(html) => page(err.status, html, self.remember),
            Err(_) => render::bare_error(err.status),
        }
    }
}

/// The answer to a URL that no route serves, for a browser: the OPAC's error page (404),
/// in the request's language, with a way back to the library when the path names one.
/// Everything under `/api/` and every client that does not ask for HTML gets the problem
/// object instead (see `server::not_found`).
pub(crate) fn not_found_page(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Response {
    let request = Request::new(uri, uri.query().map(str::to_owned), headers);
    let library = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .and_then(|code| state.library(code).ok())
        .map(|library| LibraryRef::of(&library));
    let err = ApiError::new(StatusCode::NOT_FOUND, "not_found", "ページが見つかりません", "no such page");
    request.error(library.as_ref(), None, err)
}

/// Whether a client asked for HTML (a browser's `Accept`).
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().starts_with("text/html")))
}

/// `GET /`: the libraries hosted here.
async fn home(State(state): State<AppState>, uri: Uri, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    #[derive(Serialize)]
    struct Entry {
        name: String,
        url: String,
        records: String,
    }
    #[derive(Serialize)]
    struct HomePage {
        #[serde(flatten)]
        frame: Frame,
        libraries: Vec<Entry>,
    }
    let request = Request::new(&uri, raw, &headers);
    let libraries: Vec<Arc<Library>> = state.libraries().cloned().collect();
    let lang = request.lang;
    let entries = blocking(move || {
        Ok(libraries
            .iter()
            .map(|l| Entry {
                name: l.tenant.name.clone(),
                url: format!("/{}/", l.tenant.code),
                records: fill(text(lang, "home_records"), &[grouped(l.index.num_docs())]),
            })
            .collect::<Vec<_>>())
    })
    .await;
    match entries {
        Ok(libraries) => {
            let frame = request.frame(text(lang, "home_title").to_owned(), None, None);
            request.page(StatusCode::OK, "home.html", &HomePage { frame, libraries })
        }
        Err(err) => request.error(None, None, err),
    }
}

/// `GET /{tenant}`: the library's pages live under `/{tenant}/`.
async fn to_library_home(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let request = Request::new(&uri, raw, &headers);
    let library = path.map_err(|_| ApiError::unknown_tenant("?")).and_then(|Path(tenant)| state.library(&tenant));
    match library {
        Ok(library) => {
            let target = match &request.raw {
                Some(raw) => format!("/{}/?{raw}", library.tenant.code),
                None => format!("/{}/", library.tenant.code),
            };
            match HeaderValue::from_str(&target) {
                Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response(),
                Err(_) => request.error(None, None, ApiError::unknown_tenant("?")),
            }
        }
        Err(err) => request.error(None, None, err),
    }
}

#[derive(Serialize)]
struct SearchPage {
    #[serde(flatten)]
    frame: Frame,
    results: Option<Results>,
}

/// `GET /{tenant}/`: the search form, and the results when there is a query.
async fn search(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let request = Request::new(&uri, raw, &headers);
    let library = match path.map_err(|_| ApiError::unknown_tenant("?")).and_then(|Path(t)| state.library(&t)) {
        Ok(library) => library,
        Err(err) => return request.error(None, None, err),
    };
    let here = LibraryRef::of(&library);
    let params = match SearchParams::from_query(request.raw.as_deref()) {
        Ok(params) => params,
        Err(err) => {
            // Keep what was typed in the box, so the patron can correct the rest.
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(request.raw.as_deref().unwrap_or("")).unwrap_or_default();
            let q = pairs.into_iter().find(|(name, _)| name == "q").map(|(_, q)| q).unwrap_or_default();
            let typed = SearchParams { q: q.chars().take(MAX_QUERY_CHARS).collect(), ..SearchParams::default() };
            return request.error(Some(&here), Some(&typed), err);
        }
    };
    let lang = request.lang;
    let form = SearchForm::new(lang, &here, &params);
    if params.q.trim().is_empty() {
        let title = fill(text(lang, "library_search_title"), std::slice::from_ref(&here.name));
        let frame = request.frame(title, Some(here), Some(form));
        return request.page(StatusCode::OK, "search.html", &SearchPage { frame, results: None });
    }
    let searching = params.clone();
    let analyzer = state.analyzer().clone();
    let found = crate::api::searching(move || {
        let (mut results, hits) = run_search(&library, &searching)?;
        crate::holdings::name_branch_facets(&library, &mut results.facets, lang)?;
        let rubies: Vec<_> =
            hits.iter().map(|h| crate::ruby::title_ruby(&analyzer, &h.title, &h.title_reading)).collect();
        Ok((results, hits, rubies))
    })
    .await;
    match found {
        Ok((results, hits, rubies)) => {
            let mut results = Results::build(lang, &here, &params, &results, &hits);
            results.set_ruby(&hits, &rubies);
            let title = format!("{} ({}) - {}", results.heading, grouped(results.total as u64), here.name);
            let frame = request.frame(title, Some(here), Some(form));
            request.page(StatusCode::OK, "search.html", &SearchPage { frame, results: Some(results) })
        }
        Err(err) => request.error(Some(&here), Some(&params), err),
    }
}

/// A record URL that names no record: the library if there is one, and the 404.
type NoRecord = (Option<Arc<Library>>, ApiError);

/// The library and record id of a record URL.
fn record_of(
    state: &AppState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(Arc<Library>, u64), NoRecord> {
    let Ok(Path((tenant, id))) = path else {
        return Err((None, ApiError::unknown_tenant("?")));
    };
    let library = state.library(&tenant).map_err(|err| (None, err))?;
    match id.parse::<u64>() {
        Ok(number) => Ok((library, number)),
        Err(_) => Err((Some(library), ApiError::no_record(&id))),
    }
}

/// `GET /{tenant}/records/{id}`: one record.
async fn record(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    #[derive(Serialize)]
    struct Page {
        #[serde(flatten)]
        frame: Frame,
        record: RecordPage,
    }
    let request = Request::new(&uri, raw, &headers);
    let (library, id) = match record_of(&state, path) {
        Ok(found) => found,
        Err((library, err)) => return request.error(library.map(|l| LibraryRef::of(&l)).as_ref(), None, err),
    };
    let here = LibraryRef::of(&library);
    let analyzer = state.analyzer().clone();
    let view = blocking(move || {
        let bib = library.catalogue.get(id)?.ok_or_else(|| ApiError::no_record(&id.to_string()))?;
        let view = RecordView::build(&library, &bib)?;
        let ruby = crate::ruby::title_ruby(&analyzer, &view.title, &view.title_reading);
        let volumes = crate::volumes::other_volumes(&library, &bib)?;
        Ok((view, ruby, volumes))
    })
    .await;
    let lang = request.lang;
    match view {
        Ok((view, ruby, volumes)) => {
            let mut record = RecordPage::build(lang, &here, &view);
            record.set_ruby(&view.title, ruby.as_deref());
            record.set_navigation(&here, &volumes, back_to_results(&headers, &here));
            let form = SearchForm::new(lang, &here, &SearchParams::default());
            let frame = request.frame(format!("{} - {}", view.title, here.name), Some(here), Some(form));
            request.page(StatusCode::OK, "record.html", &Page { frame, record })
        }
        Err(err) => request.error(Some(&here), None, err),
    }
}

/// The results page the patron came from, from the `Referer` a browser sends within the
/// site (the policy is `same-origin`): a search of this library, as a path and query of
/// this site, never another site's URL.
fn back_to_results(headers: &HeaderMap, library: &LibraryRef) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let after_scheme = referer.strip_prefix("https://").or_else(|| referer.strip_prefix("http://"))?;
    let (referer_host, path) = after_scheme.split_at(after_scheme.find('/')?);
    if !referer_host.eq_ignore_ascii_case(host) {
        return None;
    }
    let (route, query) = path.split_once('?')?;
    let searched = route == format!("{}search", library.home) || route == library.home;
    let has_query = query.split('&').any(|pair| pair.starts_with("q=") || pair.starts_with("filter="));
    (searched && has_query && !path.contains(['\\', '"', '<', '>'])).then(|| path.to_string())
}

/// `POST /{tenant}/records/{id}/hold`: the record page's 予約する button, answered by the
/// patron's hold form, through the patron login when there is no patron session.
async fn hold(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let request = Request::new(&uri, raw, &headers);
    let (library, id) = match record_of(&state, path) {
        Ok(found) => found,
        Err((library, err)) => return request.error(library.map(|l| LibraryRef::of(&l)).as_ref(), None, err),
    };
    let here = LibraryRef::of(&library);
    let catalogue = library.catalogue.clone();
    let exists = blocking(move || Ok(catalogue.get(id)?.is_some())).await;
    match exists {
        Ok(true) => patron::record_hold(&state, &library, &headers, id).await,
        Ok(false) => request.error(Some(&here), None, ApiError::no_record(&id.to_string())),
        Err(err) => request.error(Some(&here), None, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Availability, BranchCount, ItemView, MarcLine};

    fn item(branch: &str, status: &str, due: Option<&str>) -> ItemView {
        ItemView {
            barcode: format!("1000{branch}"),
            branch: branch.to_owned(),
            branch_name_ja: format!("{branch}館"),
            branch_name_en: format!("{branch} Library"),
            location: "一般書架".to_owned(),
            call_number: "010/ト".to_owned(),
            status: status.to_owned(),
            due: due.map(str::to_owned),
        }
    }

    fn view() -> RecordView {
        RecordView {
            id: 7,
            control_number: "024103978".to_owned(),
            source: "JTNDL".to_owned(),
            title: "図書館の歴史".to_owned(),
            title_reading: "としょかん の れきし".to_owned(),
            title_reading_catalogued: false,
            titles: vec!["図書館の歴史".to_owned()],
            title_romanised: Vec::new(),
            authors: vec!["山田, 花子".to_owned()],
            author_readings: Vec::new(),
            edition: Vec::new(),
            publishers: vec!["東京 : 栞書房, 2020".to_owned()],
            year: Some(2020),
            extent: Vec::new(),
            series: Vec::new(),
            subjects: vec!["図書館".to_owned()],
            notes: Vec::new(),
            isbn: Vec::new(),
            issn: Vec::new(),
            ndc: vec!["010.2".to_owned()],
            classes: Vec::new(),
            languages: vec!["jpn".to_owned()],
            material: "book".to_owned(),
            availability: Availability {
                available: 1,
                total: 2,
                holds: 3,
                branches: vec![
                    BranchCount {
                        branch: "chuo".into(),
                        name_ja: "中央館".into(),
                        name_en: "Central".into(),
                        available: 1,
                        total: 1,
                    },
                    BranchCount {
                        branch: "kita".into(),
                        name_ja: "北館".into(),
                        name_en: "North".into(),
                        available: 0,
                        total: 1,
                    },
                ],
            },
            items: vec![item("chuo", "available", None), item("kita", "on_loan", Some("2026-12-01"))],
            marc: vec![MarcLine {
                tag: "245".into(),
                indicators: "0 ".into(),
                subfields: vec![('a', "図書館の歴史".into())],
            }],
            version: 1,
            updated: 0,
        }
    }

    /// Holdings are empty until circulation is wired, so the items table is checked here.
    #[test]
    fn record_page_shows_items_by_branch_with_status_and_due_date() {
        let library = LibraryRef {
            code: "tosho".into(),
            name: "栞市立図書館".into(),
            home: "/tosho/".into(),
            suggest: "/api/v1/tosho/suggest".into(),
            opensearch: "/tosho/opensearch.xml".into(),
        };
        #[derive(Serialize)]
        struct Page {
            #[serde(flatten)]
            frame: Frame,
            record: RecordPage,
        }
        for (lang, expect) in [
            (
                Lang::Ja,
                [
                    "貸出可 1 &#x2f; 2 冊 · 予約 3 件",
                    "中央館",
                    "貸出中",
                    "(総記)",
                    "（自動付与）",
                    "1970-01-01 09:00 JST",
                ],
            ),
            (
                Lang::En,
                ["1 of 2 available · 3 holds", "Central", "On loan", "(General works)", "(generated)", "Japanese"],
            ),
        ] {
            let mut record = RecordPage::build(lang, &library, &view());
            let ruby =
                [("図書館", Some("としょかん")), ("の", None), ("歴史", Some("れきし"))].map(|(text, reading)| {
                    tokenizer_dict::RubySegment { text: text.to_owned(), reading: reading.map(str::to_owned) }
                });
            record.set_ruby("図書館の歴史", Some(&ruby));
            let frame = Frame::new(lang, "x".into(), "/tosho/records/7", None, Some(library.clone()), None);
            let html = render("record.html", &Page { frame, record }).unwrap();
            for text in expect {
                assert!(html.contains(text), "{lang:?}: no {text}");
            }
            assert!(html.contains("<time datetime=\"2026-12-01\">2026-12-01</time>"));
            assert!(html.contains("class=\"status status--on_loan\""));
            assert!(html.contains("<th scope=\"row\">245</th><td>0#</td>"));
            // Each reading over its own kanji (issue #16).
            assert!(
                html.contains("<ruby>図書館<rt>としょかん</rt></ruby>の<ruby>歴史<rt>れきし</rt></ruby>"),
                "{html}"
            );
        }
    }
}
