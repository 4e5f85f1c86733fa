//! The JSON API of DESIGN.md: search, records (JSON, MARCXML, ISO 2709), suggestions, the
//! list of libraries, and the OpenAPI document that describes them.

mod openapi;

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::lang::Lang;
use crate::params::SearchParams;
use crate::record::RecordView;
use crate::server::{AppState, Library};

pub use openapi::openapi_document;

/// The API's routes (state supplied by the caller).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/libraries", get(libraries))
        .route("/api/v1/{tenant}/search", get(search))
        .route("/api/v1/{tenant}/suggest", get(suggest))
        .route("/api/v1/{tenant}/records/{id}", get(record))
}

/// Runs blocking index or store work off the async threads, at most one piece of work per
/// core at a time, first come first served.
///
/// Without the gate every request in flight gets its own blocking thread and the cores are
/// shared among all of them, so one slow search under load takes as long as the slowest
/// share the scheduler gives it: at 16 connections on 2 cores a 1.6 ms search took 10 ms
/// or more (p99). Queued instead, a request waits for those before it and then runs at full
/// speed; the mean is the same, and the tail is the queue plus its own work.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = gate().acquire().await.map_err(|err| ApiError::internal(&err))?;
    tokio::task::spawn_blocking(work).await.map_err(|err| ApiError::internal(&err))?
}

/// Runs a search (short work on the CPU: a fraction of a millisecond, bounded by the
/// query's length and the paging limits) on this async thread, in its turn at the same
/// gate as [`blocking`]. Handing it to a blocking thread and back cost more than many
/// searches themselves: two thread switches, a fifth of the server's time under load.
pub(crate) async fn searching<T>(work: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    let _turn = gate().acquire().await.map_err(|err| ApiError::internal(&err))?;
    work()
}

/// One turn per core.
fn gate() -> &'static Semaphore {
    static GATE: OnceLock<Semaphore> = OnceLock::new();
    GATE.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

#[derive(Serialize)]
struct LibraryJson {
    code: String,
    name: String,
    records: u64,
}

async fn libraries(State(state): State<AppState>) -> Result<Json<Vec<LibraryJson>>, ApiError> {
    let libraries: Vec<Arc<Library>> = state.libraries().cloned().collect();
    blocking(move || {
        libraries
            .iter()
            .map(|l| {
                Ok(LibraryJson {
                    code: l.tenant.code.to_string(),
                    name: l.tenant.name.clone(),
                    records: l.index.num_docs(),
                })
            })
            .collect()
    })
    .await
    .map(Json)
}

/// Availability of a record, as the result list shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct AvailabilityJson {
    /// Items that can be borrowed now.
    pub available: u32,
    /// All lendable and reference items.
    pub total: u32,
    /// Holds waiting.
    pub holds: u32,
}

/// One hit of the JSON search.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HitJson {
    /// Bib id.
    pub id: u64,
    /// 001.
    pub control_number: String,
    /// Title.
    pub title: String,
    /// Title reading (hiragana).
    pub title_reading: String,
    /// Names.
    pub authors: Vec<String>,
    /// The first publisher statement.
    pub publisher: Option<String>,
    /// Year.
    pub year: Option<i64>,
    /// ISBN-13s.
    pub isbn: Vec<String>,
    /// NDC numbers.
    pub ndc: Vec<String>,
    /// Items and holds.
    pub availability: AvailabilityJson,
    /// Byte ranges (UTF-8, end exclusive) of `title` matching the query, for Rust, Go or
    /// Python bytes.
    pub highlights: Vec<(usize, usize)>,
    /// The same ranges in UTF-16 code units, as JavaScript's `String.prototype.slice`
    /// counts (a widget's offsets).
    pub highlights_utf16: Vec<(usize, usize)>,
    /// The record's API URL.
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
struct SearchJson {
    total: usize,
    page: usize,
    per_page: usize,
    hits: Vec<HitJson>,
    facets: indexer::FacetCounts,
    did_you_mean: Option<String>,
    relaxed: bool,
    near: bool,
    unmatched_words: Vec<String>,
}

/// Searches a library and turns the hits into [`HitJson`]s (with availability).
pub(crate) fn run_search(
    library: &Library,
    params: &SearchParams,
) -> Result<(indexer::SearchResults, Vec<HitJson>), ApiError> {
    let request = params.request()?;
    let results = library.index.search(&request)?;
    let hits = results.hits.iter().map(|hit| hit_json(library, hit)).collect::<Result<Vec<_>, _>>()?;
    Ok((results, hits))
}

fn hit_json(library: &Library, hit: &indexer::Hit) -> Result<HitJson, ApiError> {
    let availability = crate::record::availability(library, hit.id)?;
    Ok(HitJson {
        id: hit.id,
        control_number: hit.control_number.clone(),
        title: hit.title.clone(),
        title_reading: hit.title_reading.clone(),
        authors: hit.authors.clone(),
        publisher: hit.publisher.first().cloned(),
        year: hit.year,
        isbn: hit.isbn.clone(),
        ndc: hit.ndc.clone(),
        availability: AvailabilityJson {
            available: availability.available,
            total: availability.total,
            holds: availability.holds,
        },
        highlights: hit.highlights.clone(),
        highlights_utf16: utf16_ranges(&hit.title, &hit.highlights),
        url: format!("/api/v1/{}/records/{}", library.tenant.code, hit.id),
    })
}

/// Byte ranges of `text` as UTF-16 code-unit ranges (a range that does not fall on
/// character boundaries is left out rather than guessed).
fn utf16_ranges(text: &str, ranges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let units = |end: usize| text.get(..end).map(|prefix| prefix.encode_utf16().count());
    ranges.iter().filter_map(|&(start, end)| Some((units(start)?, units(end)?))).collect()
}

async fn search(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang_param = raw.as_deref().and_then(lang_param);
    let lang = Lang::negotiate(lang_param.as_deref(), &headers);
    let answer = async {
        let library = state.library(&tenant)?;
        let params = SearchParams::from_query(raw.as_deref())?;
        if params.q.trim().is_empty() {
            return Err(ApiError::bad_request("empty_query", "検索語を入力してください", "q is required"));
        }
        searching(move || {
            let (mut results, hits) = run_search(&library, &params)?;
            crate::holdings::name_branch_facets(&library, &mut results.facets, lang)?;
            Ok(SearchJson {
                total: results.total,
                page: params.page,
                per_page: params.per_page,
                hits,
                facets: results.facets,
                did_you_mean: results.did_you_mean,
                relaxed: results.relaxed,
                near: results.near,
                unmatched_words: results.unmatched_words,
            })
        })
        .await
    };
    match answer.await {
        Ok(json) => Ok(Json(json).into_response()),
        Err(err) => Err(err.in_lang(lang)),
    }
}

#[derive(Serialize)]
struct SuggestionJson {
    text: String,
    kind: &'static str,
    count: u64,
}

async fn suggest(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Vec<SuggestionJson>>, ApiError> {
    let lang = Lang::negotiate(raw.as_deref().and_then(lang_param).as_deref(), &headers);
    let answer = async {
        let library = state.library(&tenant)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
        let Some(q) = pairs.iter().find(|(k, _)| k == "q").map(|(_, v)| v.clone()) else {
            return Err(ApiError::bad_request("empty_query", "入力がありません", "q is required"));
        };
        let limit = match pairs.iter().find(|(k, _)| k == "limit").map(|(_, v)| v.parse::<usize>()) {
            None => 8,
            Some(Ok(n)) if (1..=20).contains(&n) => n,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "bad_parameter",
                    "limit は 1 から 20 までの整数で指定してください",
                    "limit must be a whole number from 1 to 20",
                ));
            }
        };
        if q.chars().count() > 100 {
            return Err(ApiError::bad_request(
                "query_too_long",
                "入力が長すぎます（100文字まで）",
                "q is longer than 100 characters",
            ));
        }
        blocking(move || {
            let suggestions = library.index.suggest(&q, limit)?;
            Ok(suggestions
                .into_iter()
                .map(|s| SuggestionJson {
                    text: s.text,
                    kind: match s.kind {
                        indexer::SuggestionKind::Title => "title",
                        indexer::SuggestionKind::Author => "author",
                    },
                    count: s.count,
                })
                .collect::<Vec<_>>())
        })
        .await
    };
    answer.await.map(Json).map_err(|err| err.in_lang(lang))
}

async fn record(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = Lang::negotiate(raw.as_deref().and_then(lang_param).as_deref(), &headers);
    let answer = async {
        let library = state.library(&tenant)?;
        let (number, format) = match id.rsplit_once('.') {
            Some((number, "marcxml")) => (number, RecordFormat::MarcXml),
            Some((number, "mrc")) => (number, RecordFormat::Marc),
            Some((number, "json")) => (number, RecordFormat::Json),
            Some(_) => return Err(ApiError::no_record(&id)),
            None => (id.as_str(), RecordFormat::Json),
        };
        let bib_id: u64 = number.parse().map_err(|_| ApiError::no_record(&id))?;
        let shown = id.clone();
        blocking(move || {
            let bib = library.catalogue.get(bib_id)?.ok_or_else(|| ApiError::no_record(&shown))?;
            // The version, for a staff client to send back in If-Match when it saves.
            let etag = crate::cataloguing::api::etag(bib.version);
            let mut response = match format {
                RecordFormat::Marc => {
                    // As every export writes it: control fields first, nothing repaired.
                    let marc = catalogue::iso2709_record(&bib.record()?).map_err(|reason| {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "not_exportable",
                            format!("このレコードは MARC（ISO 2709）として書き出せません: {reason}"),
                            format!("this record cannot be written as MARC (ISO 2709): {reason}"),
                        )
                    })?;
                    (
                        [
                            (header::CONTENT_TYPE, HeaderValue::from_static("application/marc")),
                            (header::CONTENT_DISPOSITION, attachment(bib_id, "mrc")),
                        ],
                        marc,
                    )
                        .into_response()
                }
                RecordFormat::MarcXml => {
                    let record = bib.record()?;
                    (
                        [(header::CONTENT_TYPE, HeaderValue::from_static("application/marcxml+xml; charset=utf-8"))],
                        catalogue::marcxml_record(&record, true),
                    )
                        .into_response()
                }
                RecordFormat::Json => Json(RecordView::build(&library, &bib)?).into_response(),
            };
            response.headers_mut().insert(header::ETAG, etag);
            Ok(response)
        })
        .await
    };
    answer.await.map_err(|err| err.in_lang(lang))
}

enum RecordFormat {
    Json,
    MarcXml,
    Marc,
}

fn attachment(id: u64, extension: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("attachment; filename=\"record-{id}.{extension}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The `lang` parameter of a raw query string.
pub(crate) fn lang_param(raw: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).ok()?;
    pairs.into_iter().find(|(k, _)| k == "lang").map(|(_, v)| v)
}
