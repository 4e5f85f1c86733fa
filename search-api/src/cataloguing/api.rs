//! The records API of cataloguing (staff sessions with `catalogue_edit`):
//!
//! - `POST /api/v1/{tenant}/records`: a new record, as MARCXML (`application/marcxml+xml`)
//!   or as the cataloguing form in JSON (`application/json`, the fields of
//!   `catalogue::cataloguing::form::CatalogueForm`); 201 with `Location` and `ETag: "v1"`;
//! - `PUT /api/v1/{tenant}/records/{id}`: replaces it; `If-Match` with the `ETag` the
//!   client read is required (428 without, 412 when someone saved in between: the answer
//!   carries the current `ETag`);
//! - `DELETE /api/v1/{tenant}/records/{id}`: 204; 409 while a copy is on loan or held;
//! - `GET …/records/{id}/versions`, `GET …/records/{id}/versions/{v}` (the fields of that
//!   version and the changes from the one before), `POST …/versions/{v}/restore` (If-Match);
//! - `POST …/records/{id}/copies`: copies, with barcodes from the branch's range and call
//!   numbers suggested when not given; `POST /api/v1/{tenant}/items/{barcode}/withdraw`;
//! - `GET`/`PUT /api/v1/{tenant}/cataloguing/targets` and
//!   `GET /api/v1/{tenant}/cataloguing/copy?target=&isbn=&title=&author=` (copy cataloguing).
//!
//! A record the catalogue refuses is a 422 whose `problems` name each field at fault (tag,
//! field index, subfield, position, code, message), or each form input. Every change is
//! written to the library's audit log with the session's principal.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalogue::cataloguing::callnumber::CallNumber;
use catalogue::cataloguing::form::{CatalogueForm, FormProblem};
use catalogue::cataloguing::history::{FieldChange, Saver, VersionInfo, diff, line};
use catalogue::cataloguing::targets::CopyTarget;
use catalogue::{AuditEvent, Catalogue, Function, Item, NewItem, Record, StoredBib};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::copy::{self, CopyQuery};
use crate::api::blocking;
use crate::circulation::{circulation_error, jst_today};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::server::AppState;
use crate::staff::circulation::AskLang;
use crate::staff::guard::Staff;

/// The largest record body accepted (a MARC record is at most 99,999 bytes as ISO 2709;
/// MARCXML of one is a few times that).
pub(crate) const MAX_RECORD_BODY: usize = 1 << 20;

/// Why a cataloguing request was refused, before it became an HTTP answer.
pub(crate) enum Refused {
    /// The catalogue refused it.
    Catalogue(catalogue::Error),
    /// The form has inputs to fix.
    Form(Vec<FormProblem>),
    /// Anything else, already an API error.
    Api(ApiError),
}

impl From<catalogue::Error> for Refused {
    fn from(err: catalogue::Error) -> Refused {
        Refused::Catalogue(err)
    }
}

impl From<ApiError> for Refused {
    fn from(err: ApiError) -> Refused {
        Refused::Api(err)
    }
}

/// The `ETag` of a record version.
pub(crate) fn etag(version: u32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{version}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"v0\""))
}

/// The version an `If-Match` names (`"v3"`, `W/"v3"`); `Err` with the answer when it is
/// missing (428) or not one of ours (412).
fn if_match(headers: &HeaderMap, lang: Lang) -> Result<u32, Box<Response>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(Box::new(
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "If-Match ヘッダーに、読み込んだときの ETag を付けてください（他の人の変更を上書きしないため）",
                "send If-Match with the ETag you read, so that nobody's change is overwritten",
            )
            .in_lang(lang)
            .into_response(),
        ));
    };
    let text = value.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.strip_prefix("\"v").and_then(|t| t.strip_suffix('"')).and_then(|n| n.parse().ok()).ok_or_else(|| {
        Box::new(
            ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                "If-Match の ETag がこのレコードのものではありません。読み込み直してください",
                "the If-Match ETag is not one of this record's: read the record again",
            )
            .in_lang(lang)
            .into_response(),
        )
    })
}

/// A problem object with a `problems` list (422).
fn problems_answer<T: Serialize>(code: &'static str, ja: String, en: String, problems: &[T], lang: Lang) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "code": code,
        "detail": lang.pick(&ja, &en),
        "lang": lang.tag(),
        "problems": problems,
    });
    let mut response = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// The answer to a refusal.
pub(crate) fn refusal(refused: Refused, lang: Lang) -> Response {
    use catalogue::Error as E;
    match refused {
        Refused::Api(err) => err.in_lang(lang).into_response(),
        Refused::Form(problems) => problems_answer(
            "invalid_form",
            format!("入力を直してください（{} 件）", problems.len()),
            format!("{} inputs to fix", problems.len()),
            &problems,
            lang,
        ),
        Refused::Catalogue(err) => {
            let en = err.to_string();
            let ja = err.message_ja().unwrap_or_else(|| en.clone());
            match err {
                E::InvalidRecord { problems } => problems_answer("invalid_record", ja, en, &problems, lang),
                E::VersionMismatch { current, .. } => {
                    ApiError::new(StatusCode::PRECONDITION_FAILED, "version_mismatch", ja, en)
                        .with_header(header::ETAG, etag(current))
                        .in_lang(lang)
                        .into_response()
                }
                E::ControlNumberInUse { .. } => {
                    ApiError::new(StatusCode::CONFLICT, "control_number_in_use", ja, en).in_lang(lang).into_response()
                }
                E::RecordInUse { .. } => {
                    ApiError::new(StatusCode::CONFLICT, "record_in_use", ja, en).in_lang(lang).into_response()
                }
                E::UnknownVersion { .. } => {
                    ApiError::new(StatusCode::NOT_FOUND, "unknown_version", ja, en).in_lang(lang).into_response()
                }
                other => circulation_error(other).in_lang(lang).into_response(),
            }
        }
    }
}

/// What a write did, for the audit log.
pub(crate) struct Audit {
    pub(crate) action: &'static str,
    pub(crate) target: String,
    pub(crate) after: serde_json::Value,
}

/// Runs `work` on the library's catalogue on a blocking thread and writes its audit line.
pub(crate) async fn write<T: Send + 'static>(
    state: &AppState,
    staff: &Staff,
    work: impl FnOnce(&Catalogue, &str, Date) -> Result<(T, Option<Audit>), Refused> + Send + 'static,
) -> Result<T, Refused> {
    let library = staff.library.clone();
    let principal = staff.session.principal.clone();
    let writer = state.clone();
    let today = jst_today(state.clock().now());
    let outcome = blocking(move || {
        let by = principal.to_string();
        Ok(work(&library.catalogue, &by, today).map(|(answer, audit)| {
            if let Some(audit) = audit {
                let event = AuditEvent::new(&principal, audit.action, audit.target).after(audit.after);
                writer.audit(Some(&library.tenant.code), &event);
            }
            answer
        }))
    })
    .await;
    outcome.map_err(Refused::Api)?
}

/// A record as the API answers a write.
#[derive(Debug, Serialize)]
pub(crate) struct Saved {
    id: u64,
    version: u32,
    control_number: String,
    url: String,
    /// Other records with one of its ISBNs (a possible duplicate, for the cataloguer to look at).
    duplicates: Vec<u64>,
}

impl Saved {
    pub(crate) fn of(catalogue: &Catalogue, stored: &StoredBib) -> Result<Saved, catalogue::Error> {
        let record = stored.record()?;
        Ok(Saved {
            id: stored.id,
            version: stored.version,
            control_number: record.control_number().unwrap_or("").to_owned(),
            url: format!("/api/v1/{}/records/{}", catalogue.tenant(), stored.id),
            duplicates: duplicates(catalogue, &record, Some(stored.id))?,
        })
    }
}

/// The records other than `except` that share an ISBN with `record`.
pub(crate) fn duplicates(
    catalogue: &Catalogue,
    record: &Record,
    except: Option<u64>,
) -> Result<Vec<u64>, catalogue::Error> {
    let mut out = Vec::new();
    for value in record.fields_with_tag("020").flat_map(|f| f.subfield_values('a')) {
        if let Some(isbn) = catalogue::isbn13(value) {
            for id in catalogue.find_by_isbn(&isbn)? {
                if Some(id) != except && !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    Ok(out)
}

fn saved_answer(status: StatusCode, saved: &Saved) -> Response {
    let mut response = (status, Json(saved)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag(saved.version));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&saved.url)
    {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// The body of a record write: MARCXML, or the form as JSON (then `original` is the record
/// being replaced, whose fields the form does not manage are kept).
fn record_of(
    headers: &HeaderMap,
    body: &[u8],
    organisation: &str,
    today: Date,
    original: Option<&Record>,
) -> Result<Record, Refused> {
    if body.len() > MAX_RECORD_BODY {
        return Err(Refused::Api(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "レコードが大きすぎます（1 MiB まで）",
            "the record is too large (1 MiB at most)",
        )));
    }
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let kind = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match kind.as_str() {
        "application/json" => {
            let form: CatalogueForm = serde_json::from_slice(body).map_err(|err| {
                Refused::Api(ApiError::bad_request(
                    "bad_json",
                    format!("JSON が目録入力フォームの形ではありません: {err}"),
                    format!("the JSON is not a cataloguing form: {err}"),
                ))
            })?;
            match original {
                Some(original) => form.apply_to(original, organisation, today),
                None => form.to_record(organisation, today),
            }
            .map_err(Refused::Form)
        }
        "application/marcxml+xml" | "application/xml" | "text/xml" => {
            catalogue::cataloguing::parse_marcxml_record(body).map_err(|reason| {
                Refused::Api(ApiError::bad_request(
                    "bad_marcxml",
                    format!("MARCXML のレコードとして読めません: {reason}"),
                    format!("not a MARCXML record: {reason}"),
                ))
            })
        }
        _ => Err(Refused::Api(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type は application/marcxml+xml（MARCXML）か application/json（目録入力フォーム）にしてください",
            "send application/marcxml+xml (MARCXML) or application/json (the cataloguing form)",
        ))),
    }
}

fn bib_id_of(id: &str) -> Result<u64, Refused> {
    id.parse().map_err(|_| Refused::Api(ApiError::no_record(id)))
}

fn require(staff: &Staff, function: Function, lang: Lang) -> Result<(), Box<Response>> {
    staff.require(function).map_err(|err| Box::new(err.in_lang(lang).into_response()))
}

macro_rules! or_answer {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(response) => return *response,
        }
    };
}

/// `POST /api/v1/{tenant}/records`.
pub(crate) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let done = write(&state, &staff, move |c, by, today| {
        let record = record_of(&headers, &body, c.tenant().as_str(), today, None)?;
        let source = if headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
        {
            "form"
        } else {
            "api"
        };
        let stored = c.create_record(record, Saver { by, source })?;
        let saved = Saved::of(c, &stored)?;
        let audit = Audit {
            action: "record.create",
            target: format!("record {}", stored.id),
            after: serde_json::json!({ "version": stored.version, "source": source }),
        };
        Ok((saved, Some(audit)))
    })
    .await;
    match done {
        Ok(saved) => saved_answer(StatusCode::CREATED, &saved),
        Err(refused) => refusal(refused, lang),
    }
}

/// `PUT /api/v1/{tenant}/records/{id}`.
pub(crate) async fn replace(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let expected = or_answer!(if_match(&headers, lang));
    let done = write(&state, &staff, move |c, by, today| {
        let bib_id = bib_id_of(&id)?;
        let current = c.get(bib_id)?.ok_or_else(|| Refused::Api(ApiError::no_record(&id)))?;
        let original = current.record()?;
        let record = record_of(&headers, &body, c.tenant().as_str(), today, Some(&original))?;
        let source = if headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
        {
            "form"
        } else {
            "api"
        };
        let changed = diff(&original, &record)
            .iter()
            .filter(|c| c.kind != catalogue::cataloguing::history::ChangeKindOfField::Same)
            .count();
        let stored = c.replace_record(bib_id, record, expected, Saver { by, source })?;
        let audit = (stored.version != current.version).then(|| Audit {
            action: "record.update",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "version": stored.version, "source": source, "fields_changed": changed }),
        });
        Ok((Saved::of(c, &stored)?, audit))
    })
    .await;
    match done {
        Ok(saved) => saved_answer(StatusCode::OK, &saved),
        Err(refused) => refusal(refused, lang),
    }
}

/// `DELETE /api/v1/{tenant}/records/{id}` (`If-Match` optional: when sent, it must match).
pub(crate) async fn remove(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let expected =
        if headers.contains_key(header::IF_MATCH) { Some(or_answer!(if_match(&headers, lang))) } else { None };
    let done = write(&state, &staff, move |c, by, _| {
        let bib_id = bib_id_of(&id)?;
        let current = c.get(bib_id)?.ok_or_else(|| Refused::Api(ApiError::no_record(&id)))?;
        if let Some(expected) = expected
            && expected != current.version
        {
            return Err(catalogue::Error::VersionMismatch { bib_id, expected, current: current.version }.into());
        }
        if !c.delete_record(bib_id, by)? {
            return Err(Refused::Api(ApiError::no_record(&id)));
        }
        let audit = Audit {
            action: "record.delete",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "version": current.version }),
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => refusal(refused, lang),
    }
}

#[derive(Serialize)]
struct VersionsAnswer {
    id: u64,
    versions: Vec<VersionInfo>,
}

/// `GET /api/v1/{tenant}/records/{id}/versions`: newest first.
pub(crate) async fn versions(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let done = write(&state, &staff, move |c, _, _| {
        let bib_id = bib_id_of(&id)?;
        let versions = c.record_versions(bib_id)?;
        if versions.is_empty() {
            return Err(Refused::Api(ApiError::no_record(&id)));
        }
        Ok((VersionsAnswer { id: bib_id, versions }, None))
    })
    .await;
    json_answer(done, lang)
}

#[derive(Serialize)]
pub(crate) struct VersionAnswer {
    pub(crate) info: VersionInfo,
    /// The fields as editor lines (`245 10 $a…`), the leader first.
    pub(crate) fields: Vec<String>,
    /// The changes from the version before (all `added` for the first).
    pub(crate) changes: Vec<FieldChange>,
}

/// One version of a record and what it changed (blocking; shared with the history page).
pub(crate) fn version_of(c: &Catalogue, bib_id: u64, version: u32) -> Result<VersionAnswer, Refused> {
    let this = c.record_version(bib_id, version)?.ok_or(catalogue::Error::UnknownVersion { bib_id, version })?;
    let before = c.record_versions(bib_id)?.into_iter().filter(|v| v.version < version).map(|v| v.version).max();
    let before = match before {
        Some(v) => c.record_version(bib_id, v)?.map(|v| v.record),
        None => None,
    };
    let empty = Record { leader: this.record.leader.clone(), fields: Vec::new() };
    let changes = diff(before.as_ref().unwrap_or(&empty), &this.record);
    let mut fields = vec![format!("LDR {}", this.record.leader)];
    fields.extend(this.record.fields.iter().map(line));
    Ok(VersionAnswer { info: this.info, fields, changes })
}

/// `GET /api/v1/{tenant}/records/{id}/versions/{version}`.
pub(crate) async fn version(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, id, version)): Path<(String, String, String)>,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let done = write(&state, &staff, move |c, _, _| {
        let bib_id = bib_id_of(&id)?;
        let version: u32 = version.parse().map_err(|_| catalogue::Error::UnknownVersion { bib_id, version: 0 })?;
        Ok((version_of(c, bib_id, version)?, None))
    })
    .await;
    json_answer(done, lang)
}

/// `POST /api/v1/{tenant}/records/{id}/versions/{version}/restore` (`If-Match` required).
pub(crate) async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, id, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let expected = or_answer!(if_match(&headers, lang));
    let done = write(&state, &staff, move |c, by, _| {
        let bib_id = bib_id_of(&id)?;
        let version: u32 = version.parse().map_err(|_| catalogue::Error::UnknownVersion { bib_id, version: 0 })?;
        let stored = c.restore_version(bib_id, version, expected, by)?;
        let audit = Audit {
            action: "record.restore",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "version": stored.version, "restored": version }),
        };
        Ok((Saved::of(c, &stored)?, Some(audit)))
    })
    .await;
    match done {
        Ok(saved) => saved_answer(StatusCode::OK, &saved),
        Err(refused) => refusal(refused, lang),
    }
}

/// One copy to add.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CopyBody {
    /// Empty: the next free barcode of the branch's range.
    pub(crate) barcode: String,
    pub(crate) branch: String,
    pub(crate) location: String,
    /// Empty: the suggested call number.
    pub(crate) call_number: String,
    /// Empty: `book`.
    pub(crate) item_type: String,
    /// `YYYY-MM-DD`; empty: today.
    pub(crate) acquired: String,
}

#[derive(Debug, Deserialize)]
struct CopiesBody {
    copies: Vec<CopyBody>,
}

/// A copy as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct CopyView {
    id: u64,
    barcode: String,
    branch: String,
    location: String,
    call_number: String,
    item_type: String,
    status: &'static str,
    acquired: Option<String>,
}

impl CopyView {
    fn of(item: Item, acquired: Option<Date>) -> CopyView {
        CopyView {
            id: item.id,
            status: item.status.as_str(),
            barcode: item.barcode,
            branch: item.branch,
            location: item.location,
            call_number: item.call_number,
            item_type: item.item_type,
            acquired: acquired.map(|d| d.to_string()),
        }
    }
}

/// The call number suggested for copies of `record`: NDC, the main entry's reading (or
/// name), the volume.
pub(crate) fn suggested_call_number(record: &Record) -> String {
    let form = CatalogueForm::from_record(record);
    let (reading, name) = form.authors.first().map(|a| (a.reading.clone(), a.name.clone())).unwrap_or_default();
    let (reading, name) =
        if name.is_empty() { (form.title_reading.clone(), form.title.clone()) } else { (reading, name) };
    CallNumber::suggest(&form.ndc, &reading, &name, &form.volume).to_string()
}

/// Adds copies of `bib_id` (blocking; shared with the record page). Barcodes left empty
/// come from the branch's range; call numbers left empty are suggested.
pub(crate) fn add_copies_now(
    c: &Catalogue,
    bib_id: u64,
    copies: Vec<CopyBody>,
    today: Date,
) -> Result<Vec<CopyView>, Refused> {
    let bib = c.get(bib_id)?.ok_or(catalogue::Error::UnknownBib(bib_id))?;
    let suggested = suggested_call_number(&bib.record()?);
    let mut taken: Vec<String> = Vec::new();
    let mut batch = Vec::with_capacity(copies.len());
    if copies.is_empty() || copies.len() > 200 {
        return Err(catalogue::Error::invalid("copies", "add 1 to 200 copies at a time").into());
    }
    for copy in copies {
        let barcode = if copy.barcode.trim().is_empty() {
            c.next_free_barcode(copy.branch.trim(), &taken)?.ok_or_else(|| {
                Refused::Api(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "no_barcode",
                    format!(
                        "分館「{}」にはバーコードの範囲がないか、範囲を使い切りました。バーコードを入力してください",
                        copy.branch.trim()
                    ),
                    format!("branch {:?} has no barcode range left: give the barcode", copy.branch.trim()),
                ))
            })?
        } else {
            copy.barcode.trim().to_owned()
        };
        taken.push(barcode.clone());
        let acquired = if copy.acquired.trim().is_empty() {
            None
        } else {
            Some(copy.acquired.trim().parse::<Date>().map_err(|_| {
                catalogue::Error::invalid("acquired", format!("{:?} is not a date (YYYY-MM-DD)", copy.acquired.trim()))
            })?)
        };
        if acquired.is_some_and(|d| d > today) {
            return Err(catalogue::Error::invalid("acquired", "the acquisition date is in the future").into());
        }
        let mut new = NewItem::new(bib_id, &barcode, copy.branch.trim());
        new.location = copy.location.trim().to_owned();
        new.call_number =
            if copy.call_number.trim().is_empty() { suggested.clone() } else { copy.call_number.trim().to_owned() };
        if !copy.item_type.trim().is_empty() {
            new.item_type = copy.item_type.trim().to_owned();
        }
        batch.push((new, acquired));
    }
    let items = c.add_copies(&batch)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let acquired = c.item_details(item.id)?.acquired;
        out.push(CopyView::of(item, acquired));
    }
    Ok(out)
}

/// `POST /api/v1/{tenant}/records/{id}/copies`: `{"copies": [{"branch": "chuo", …}]}`; 201.
pub(crate) async fn add_copies(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let done = write(&state, &staff, move |c, _, today| {
        let bib_id = bib_id_of(&id)?;
        let body: CopiesBody = serde_json::from_slice(&body).map_err(|err| {
            Refused::Api(ApiError::bad_request(
                "bad_json",
                format!("JSON が正しくありません: {err}"),
                format!("bad JSON: {err}"),
            ))
        })?;
        let copies = add_copies_now(c, bib_id, body.copies, today)?;
        let audit = Audit {
            action: "item.create",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "barcodes": copies.iter().map(|c| c.barcode.as_str()).collect::<Vec<_>>() }),
        };
        Ok((copies, Some(audit)))
    })
    .await;
    match done {
        Ok(copies) => (StatusCode::CREATED, Json(serde_json::json!({ "copies": copies }))).into_response(),
        Err(refused) => refusal(refused, lang),
    }
}

#[derive(Debug, Deserialize)]
struct WithdrawBody {
    reason: String,
}

/// `POST /api/v1/{tenant}/items/{barcode}/withdraw`: `{"reason": "汚損"}`.
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    Path((_, barcode)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let done = write(&state, &staff, move |c, by, today| {
        let body: WithdrawBody = serde_json::from_slice(&body).map_err(|err| {
            Refused::Api(ApiError::bad_request(
                "bad_json",
                format!("JSON が正しくありません（reason が必要です）: {err}"),
                format!("bad JSON (reason is required): {err}"),
            ))
        })?;
        let item = c.withdraw_item(&barcode, &body.reason, by, today)?;
        let details = c.item_details(item.id)?;
        let audit = Audit {
            action: "item.withdraw",
            target: format!("item {}", item.barcode),
            after: serde_json::json!({ "reason": body.reason.trim() }),
        };
        Ok((CopyView::of(item, details.acquired), Some(audit)))
    })
    .await;
    json_answer(done, lang)
}

/// `GET /api/v1/{tenant}/cataloguing/targets`.
pub(crate) async fn targets(State(state): State<AppState>, staff: Staff, AskLang(lang): AskLang) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let done = write(&state, &staff, |c, _, _| Ok((serde_json::json!({ "targets": c.copy_targets()? }), None))).await;
    json_answer(done, lang)
}

#[derive(Debug, Deserialize)]
struct TargetsBody {
    targets: Vec<CopyTarget>,
}

/// `PUT /api/v1/{tenant}/cataloguing/targets` (the library's administrator).
pub(crate) async fn put_targets(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    body: Bytes,
) -> Response {
    or_answer!(require(&staff, Function::StaffAdmin, lang));
    let done = write(&state, &staff, move |c, _, _| {
        let body: TargetsBody = serde_json::from_slice(&body).map_err(|err| {
            Refused::Api(ApiError::bad_request(
                "bad_json",
                format!("JSON が正しくありません: {err}"),
                format!("bad JSON: {err}"),
            ))
        })?;
        c.set_copy_targets(&body.targets)?;
        let names: Vec<&str> = body.targets.iter().map(|t| t.name.as_str()).collect();
        let audit = Audit {
            action: "cataloguing.targets",
            target: "copy targets".to_owned(),
            after: serde_json::json!({ "targets": names }),
        };
        Ok((serde_json::json!({ "targets": body.targets }), Some(audit)))
    })
    .await;
    json_answer(done, lang)
}

/// A record found on a copy-cataloguing target, as the API and the page show it.
#[derive(Debug, Serialize)]
pub(crate) struct FoundView {
    pub(crate) position: u64,
    pub(crate) title: String,
    pub(crate) title_reading: String,
    pub(crate) responsibility: String,
    pub(crate) publisher: String,
    pub(crate) year: String,
    pub(crate) isbn: String,
    pub(crate) ndc: String,
    /// The record's fields as editor lines.
    pub(crate) fields: Vec<String>,
    /// The record as MARCXML, to create it with `POST …/records`.
    pub(crate) marcxml: String,
    /// Records of this library with one of its ISBNs.
    pub(crate) duplicates: Vec<u64>,
}

/// The answer of a copy-cataloguing search.
#[derive(Debug, Serialize)]
pub(crate) struct CopyAnswer {
    pub(crate) target: String,
    pub(crate) total: u64,
    pub(crate) records: Vec<FoundView>,
}

/// Searches `target` (by name; the first target when empty) for `query`, and marks what the
/// library already has.
pub(crate) async fn copy_search(
    state: &AppState,
    staff: &Staff,
    target: &str,
    query: CopyQuery,
) -> Result<CopyAnswer, Refused> {
    let wanted = target.trim().to_owned();
    let target = write(state, staff, move |c, _, _| {
        let targets = c.copy_targets()?;
        let found =
            if wanted.is_empty() { targets.into_iter().next() } else { targets.into_iter().find(|t| t.name == wanted) };
        let found = found.ok_or_else(|| {
            Refused::Api(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_target",
                format!("コピーカタロギングの検索先「{wanted}」は登録されていません"),
                format!("there is no copy-cataloguing target {wanted:?}"),
            ))
        })?;
        Ok((found, None))
    })
    .await?;
    let results = copy::search(http_client()?, &target, &query, 20).await.map_err(|err| {
        tracing::warn!(target = %target.name, error = %err.en(), "copy cataloguing search failed");
        Refused::Api(ApiError::new(err.status(), copy_code(&err), err.ja(), err.en()))
    })?;
    let name = target.name.clone();
    write(state, staff, move |c, _, _| {
        let mut records = Vec::with_capacity(results.records.len());
        for found in results.records {
            let form = CatalogueForm::from_record(&found.record);
            let mut fields = vec![format!("LDR {}", found.record.leader)];
            fields.extend(found.record.fields.iter().map(line));
            records.push(FoundView {
                position: found.position,
                duplicates: duplicates(c, &found.record, None)?,
                marcxml: catalogue::marcxml_record(&found.record, false),
                title: [form.title, form.subtitle]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" : "),
                title_reading: form.title_reading,
                responsibility: form.responsibility,
                publisher: form.publisher,
                year: form.year,
                isbn: form.isbn,
                ndc: form.ndc,
                fields,
            });
        }
        Ok((CopyAnswer { target: name, total: results.total, records }, None))
    })
    .await
}

/// The one HTTP client of copy cataloguing (it pools connections).
fn http_client() -> Result<&'static reqwest::Client, Refused> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| copy::client().map_err(|err| err.to_string()))
        .as_ref()
        .map_err(|err| Refused::Api(ApiError::internal(err)))
}

/// The stable code of a failed copy-cataloguing search.
fn copy_code(err: &copy::CopyError) -> &'static str {
    use copy::CopyError as C;
    match err {
        C::Timeout { .. } => "target_timeout",
        C::Unreachable { .. } => "target_unreachable",
        C::Http { .. } => "target_error",
        C::Diagnostic { .. } => "target_diagnostic",
        C::Malformed { .. } => "target_malformed",
        C::EmptyQuery => "empty_query",
    }
}

/// The query of a copy-cataloguing search.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CopyParams {
    pub(crate) target: String,
    pub(crate) isbn: String,
    pub(crate) title: String,
    pub(crate) author: String,
}

impl CopyParams {
    pub(crate) fn query(&self) -> CopyQuery {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        CopyQuery { isbn: some(&self.isbn), title: some(&self.title), author: some(&self.author) }
    }
}

/// `GET /api/v1/{tenant}/cataloguing/copy?target=ndl&isbn=…`: 504 when the target does not
/// answer in its time, 502 when it answers with an error or something unreadable.
pub(crate) async fn copy(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    RawQuery(raw): RawQuery,
) -> Response {
    or_answer!(require(&staff, Function::CatalogueEdit, lang));
    let params: CopyParams = match serde_urlencoded::from_str(raw.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(err) => {
            return ApiError::bad_request("bad_parameter", format!("指定が正しくありません: {err}"), err.to_string())
                .in_lang(lang)
                .into_response();
        }
    };
    match copy_search(&state, &staff, &params.target, params.query()).await {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refused) => refusal(refused, lang),
    }
}

fn json_answer<T: Serialize>(done: Result<T, Refused>, lang: Lang) -> Response {
    match done {
        Ok(value) => {
            let mut response = Json(value).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refused) => refusal(refused, lang),
    }
}
