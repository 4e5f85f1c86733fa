//! The cataloguing pages of the staff site (目録登録): the form of the common case (new and
//! edit), the record with its copies, the MARC editor, the history of a record, and copy
//! cataloguing. Every page works without JavaScript: each action is a form POST carrying
//! the session's CSRF token, answered by a redirect (post/redirect/get) or, when something
//! must be fixed, by the same page with what was typed kept and each problem shown beside
//! its input (or, in the editor, with its line).
//!
//! Saves carry the version the page was opened at: a librarian who saves after a colleague
//! gets the page again with their input and a message, not a silent overwrite.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use catalogue::cataloguing::form::{CatalogueForm, FormAuthor, FormProblem, FormSubject, to_katakana};
use catalogue::cataloguing::history::{ChangeKindOfField, Saver, line};
use catalogue::{Catalogue, Record};
use serde::Serialize;

use super::api::{
    Audit, CopyBody, CopyParams, FoundView, Refused, add_copies_now, duplicates, suggested_call_number, version_of,
    write,
};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::opac::views::Frame;
use crate::server::AppState;
use crate::staff::guard::Staff;
use crate::staff::pages::{Ctx, see_other};

/// Rows of authors and subjects the form always offers (more when a record has more).
const FORM_ROWS: usize = 3;

/// The links of the cataloguing pages.
#[derive(Serialize)]
struct Links {
    home: String,
    new: String,
    copy: String,
}

impl Links {
    fn of(staff: &Staff) -> Links {
        let t = staff.tenant();
        Links {
            home: format!("/{t}/staff/"),
            new: format!("/{t}/staff/records/new"),
            copy: format!("/{t}/staff/copy-cataloguing"),
        }
    }
}

fn record_url(staff: &Staff, id: u64) -> String {
    format!("/{}/staff/records/{id}", staff.tenant())
}

fn pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn all<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
}

/// The form as posted: single inputs by name, author and subject rows by position.
fn form_of(pairs: &[(String, String)]) -> CatalogueForm {
    let s = |name: &str| field(pairs, name).to_owned();
    let names = all(pairs, "author_name");
    let readings = all(pairs, "author_reading");
    let dates = all(pairs, "author_dates");
    let kinds = all(pairs, "author_kind");
    let authors = (0..names.len())
        .map(|i| FormAuthor {
            name: names[i].to_owned(),
            reading: readings.get(i).copied().unwrap_or("").to_owned(),
            dates: dates.get(i).copied().unwrap_or("").to_owned(),
            corporate: kinds.get(i).copied() == Some("corporate"),
        })
        .filter(|a| !(a.name.trim().is_empty() && a.reading.trim().is_empty()))
        .collect();
    let headings = all(pairs, "subject_heading");
    let subject_readings = all(pairs, "subject_reading");
    let subjects = (0..headings.len())
        .map(|i| FormSubject {
            heading: headings[i].to_owned(),
            reading: subject_readings.get(i).copied().unwrap_or("").to_owned(),
        })
        .filter(|s| !(s.heading.trim().is_empty() && s.reading.trim().is_empty()))
        .collect();
    CatalogueForm {
        title: s("title"),
        title_reading: s("title_reading"),
        subtitle: s("subtitle"),
        subtitle_reading: s("subtitle_reading"),
        volume: s("volume"),
        responsibility: s("responsibility"),
        authors,
        edition: s("edition"),
        place: s("place"),
        publisher: s("publisher"),
        publisher_reading: s("publisher_reading"),
        year: s("year"),
        extent: s("extent"),
        size: s("size"),
        series: s("series"),
        series_reading: s("series_reading"),
        series_number: s("series_number"),
        isbn: s("isbn"),
        price: s("price"),
        ndc: s("ndc"),
        ndc_edition: s("ndc_edition"),
        subjects,
        notes: s("notes"),
        audience: s("audience"),
        language: s("language"),
    }
}

/// Fills the readings left empty from the dictionary's (in katakana): what a librarian
/// checks rather than types. Returns whether any was filled.
fn fill_readings(form: &mut CatalogueForm, reading_of: impl Fn(&str) -> String) -> bool {
    let mut filled = false;
    let mut fill = |reading: &mut String, text: &str, name: bool| {
        if reading.trim().is_empty() && !text.trim().is_empty() && !text.is_ascii() {
            let source = if name { text.replace(',', " ") } else { text.to_owned() };
            let generated = to_katakana(&reading_of(&source));
            if !generated.trim().is_empty() {
                *reading = if name { name_reading(text, &reading_of) } else { generated };
                filled = true;
            }
        }
    };
    let (title, subtitle, publisher, series) =
        (form.title.clone(), form.subtitle.clone(), form.publisher.clone(), form.series.clone());
    fill(&mut form.title_reading, &title, false);
    fill(&mut form.subtitle_reading, &subtitle, false);
    fill(&mut form.publisher_reading, &publisher, false);
    fill(&mut form.series_reading, &series, false);
    for author in &mut form.authors {
        let name = author.name.clone();
        fill(&mut author.reading, &name, true);
    }
    for subject in &mut form.subjects {
        let heading = subject.heading.clone();
        fill(&mut subject.reading, &heading, false);
    }
    filled
}

/// `夏目, 漱石` -> `ナツメ, ソウセキ`. The whole name is read first, as the dictionary reads
/// a name best in one piece (太宰治 -> ダザイオサム, where 治 alone is チ), and split after
/// the family name's reading; when they do not line up, each part is read on its own.
fn name_reading(name: &str, reading_of: &impl Fn(&str) -> String) -> String {
    let parts: Vec<&str> = name.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if let [family, given] = parts.as_slice() {
        let whole = to_katakana(&reading_of(&format!("{family}{given}")));
        let family_reading = to_katakana(&reading_of(family));
        if let Some(rest) = whole.strip_prefix(family_reading.as_str())
            && !family_reading.is_empty()
            && !rest.is_empty()
        {
            return format!("{family_reading}, {rest}");
        }
    }
    parts.iter().map(|part| to_katakana(&reading_of(part))).collect::<Vec<_>>().join(", ")
}

#[derive(Serialize)]
struct Row<T> {
    index: usize,
    value: T,
}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct Duplicate {
    id: u64,
    url: String,
    title: String,
}

#[derive(Serialize)]
struct FormPage {
    #[serde(flatten)]
    frame: Frame,
    links: Links,
    heading: String,
    action: String,
    csrf: String,
    /// The version the form was opened at (edit only).
    version: Option<u32>,
    /// The form's values (`form` is the frame's search form).
    entry: CatalogueForm,
    authors: Vec<Row<FormAuthor>>,
    subjects: Vec<Row<FormSubject>>,
    audiences: Vec<Choice>,
    ndc_editions: Vec<Choice>,
    /// Input name -> messages.
    problems: BTreeMap<String, Vec<String>>,
    problem_list: Vec<ProblemLine>,
    notice: Option<String>,
    duplicates: Vec<Duplicate>,
    record_url: Option<String>,
}

#[derive(Serialize)]
struct ProblemLine {
    input: String,
    message: String,
}

fn rows<T: Default + Clone>(values: &[T]) -> Vec<Row<T>> {
    let n = values.len().max(FORM_ROWS);
    (0..n).map(|index| Row { index, value: values.get(index).cloned().unwrap_or_default() }).collect()
}

struct FormState {
    form: CatalogueForm,
    problems: Vec<FormProblem>,
    notice: Option<String>,
    duplicates: Vec<Duplicate>,
}

fn form_page(ctx: &Ctx, staff: &Staff, editing: Option<(u64, u32)>, state: FormState, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let heading = match editing {
        Some((id, _)) => crate::opac::messages::fill(ctx.t("cat_edit_title"), &[id.to_string()]),
        None => ctx.t("cat_new_title").to_owned(),
    };
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problem_list = Vec::new();
    for p in &state.problems {
        let message = lang.pick(&p.ja, &p.en).to_owned();
        problems.entry(p.input.clone()).or_default().push(message.clone());
        problem_list.push(ProblemLine { input: input_id(&p.input), message });
    }
    let form = state.form;
    let choice = |value: &'static str, key: &'static str, current: &str| Choice {
        value,
        label: ctx.t(key),
        selected: value == current,
    };
    let audience = if form.audience.is_empty() { "general" } else { form.audience.as_str() };
    let edition = if form.ndc_edition.is_empty() { "9" } else { form.ndc_edition.as_str() };
    let context = FormPage {
        frame: ctx.frame(&heading, Some(&staff.library)),
        links: Links::of(staff),
        action: match editing {
            Some((id, _)) => format!("{}/form", record_url(staff, id)),
            None => format!("/{}/staff/records/new", staff.tenant()),
        },
        csrf: staff.session.csrf_token().expose().to_owned(),
        version: editing.map(|(_, v)| v),
        authors: rows(&form.authors),
        subjects: rows(&form.subjects),
        audiences: vec![
            choice("general", "cat_audience_general", audience),
            choice("juvenile", "cat_audience_juvenile", audience),
        ],
        ndc_editions: vec![choice("9", "cat_ndc9", edition), choice("10", "cat_ndc10", edition)],
        problems,
        problem_list,
        notice: state.notice,
        duplicates: state.duplicates,
        record_url: editing.map(|(id, _)| record_url(staff, id)),
        heading,
        entry: form,
    };
    ctx.page(status, "cataloguing_form.html", &context)
}

/// The id of an input on the page (`authors.1.reading` -> `author_reading_1`).
fn input_id(input: &str) -> String {
    let parts: Vec<&str> = input.split('.').collect();
    match parts.as_slice() {
        ["authors", i, f] => format!("author_{f}_{i}"),
        ["subjects", i, f] => format!("subject_{f}_{i}"),
        _ => input.to_owned(),
    }
}

/// `GET /{tenant}/staff/records/new`: the empty form.
pub(crate) async fn new_form(staff: Staff, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let form = CatalogueForm {
        language: "jpn".into(),
        audience: "general".into(),
        ndc_edition: "10".into(),
        ..CatalogueForm::default()
    };
    form_page(
        &ctx,
        &staff,
        None,
        FormState { form, problems: Vec::new(), notice: None, duplicates: Vec::new() },
        StatusCode::OK,
    )
}

/// What to do with a posted form: `readings` fills empty readings and shows it again;
/// otherwise saves, unless it has problems (then readings that can be filled are, and the
/// form is shown again to check them), or it shares an ISBN with another record and the
/// librarian has not confirmed it (`confirm_duplicate`).
enum FormOutcome {
    Again(Box<FormState>),
    Saved(u64),
}

fn duplicate_views(c: &Catalogue, staff_tenant: &str, ids: Vec<u64>) -> Result<Vec<Duplicate>, catalogue::Error> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(bib) = c.get(id)? {
            let record = bib.record()?;
            let title = record.fields_with_tag("245").next().map(|f| f.text(&['a', 'b', 'n'])).unwrap_or_default();
            out.push(Duplicate { id, url: format!("/{staff_tenant}/staff/records/{id}"), title });
        }
    }
    Ok(out)
}

async fn post_form(
    state: &AppState,
    staff: &Staff,
    lang: Lang,
    editing: Option<(u64, u32)>,
    body: Bytes,
) -> Result<FormOutcome, Refused> {
    let pairs = pairs(&body);
    let mut form = form_of(&pairs);
    let action = field(&pairs, "action").to_owned();
    let confirmed = field(&pairs, "confirm_duplicate") == "yes";
    let index = staff.library.index.clone();
    let tenant = staff.tenant().to_string();
    write(state, staff, move |c, by, today| {
        let reading_of = |text: &str| index.reading_of(text);
        if action == "readings" {
            let filled = fill_readings(&mut form, reading_of);
            let notice = Some(text(lang, if filled { "cat_readings_filled" } else { "cat_readings_none" }));
            return Ok((
                FormOutcome::Again(Box::new(FormState { form, problems: Vec::new(), notice, duplicates: Vec::new() })),
                None,
            ));
        }
        let problems = form.problems();
        if !problems.is_empty() {
            let missing_reading = problems.iter().any(|p| p.code == "required" && p.input.ends_with("reading"));
            let notice =
                (missing_reading && fill_readings(&mut form, reading_of)).then(|| text(lang, "cat_readings_filled"));
            let problems = if notice.is_some() { form.problems() } else { problems };
            return Ok((
                FormOutcome::Again(Box::new(FormState { form, problems, notice, duplicates: Vec::new() })),
                None,
            ));
        }
        let organisation = c.tenant().as_str().to_owned();
        let (record, original_version) = match editing {
            Some((id, version)) => {
                let current = c.get(id)?.ok_or(catalogue::Error::UnknownBib(id))?;
                (form.apply_to(&current.record()?, &organisation, today).map_err(Refused::Form)?, Some(version))
            }
            None => (form.to_record(&organisation, today).map_err(Refused::Form)?, None),
        };
        let dups = duplicates(c, &record, editing.map(|(id, _)| id))?;
        if !dups.is_empty() && !confirmed {
            let duplicates = duplicate_views(c, &tenant, dups)?;
            let notice = Some(text(lang, "cat_duplicate_notice"));
            return Ok((
                FormOutcome::Again(Box::new(FormState { form, problems: Vec::new(), notice, duplicates })),
                None,
            ));
        }
        let saver = Saver { by, source: "form" };
        let stored = match (editing, original_version) {
            (Some((id, _)), Some(version)) => c.replace_record(id, record, version, saver)?,
            _ => c.create_record(record, saver)?,
        };
        let audit = Audit {
            action: if editing.is_some() { "record.update" } else { "record.create" },
            target: format!("record {}", stored.id),
            after: serde_json::json!({ "version": stored.version, "source": "form" }),
        };
        Ok((FormOutcome::Saved(stored.id), Some(audit)))
    })
    .await
}

fn text(lang: Lang, key: &'static str) -> String {
    crate::opac::messages::text(lang, key).to_owned()
}

/// The message of a refusal on a page; `None` for what the page shows itself (form problems).
fn refusal_message(refused: Refused, lang: Lang) -> Result<String, ApiError> {
    match refused {
        Refused::Catalogue(catalogue::Error::VersionMismatch { current, .. }) => Ok(crate::opac::messages::fill(
            crate::opac::messages::text(lang, "cat_version_conflict"),
            &[current.to_string()],
        )),
        Refused::Catalogue(err) if err.kind() != catalogue::ErrorKind::Fault => {
            let en = err.to_string();
            Ok(if lang == Lang::Ja { err.message_ja().unwrap_or(en) } else { en })
        }
        Refused::Catalogue(err) => Err(ApiError::from(err)),
        Refused::Form(problems) => {
            Ok(problems.iter().map(|p| lang.pick(&p.ja, &p.en).to_owned()).collect::<Vec<_>>().join(" "))
        }
        Refused::Api(err) if err.status.is_client_error() => Ok(err.in_lang(lang).message().to_owned()),
        Refused::Api(err) => Err(err),
    }
}

/// `POST /{tenant}/staff/records/new`.
pub(crate) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let form = form_of(&pairs(&body));
    match post_form(&state, &staff, ctx.lang, None, body).await {
        Ok(FormOutcome::Saved(id)) => see_other(&format!("{}?saved=1", record_url(&staff, id))),
        Ok(FormOutcome::Again(again)) => {
            let status = if again.problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            form_page(&ctx, &staff, None, *again, status)
        }
        Err(Refused::Form(problems)) => form_page(
            &ctx,
            &staff,
            None,
            FormState { form, problems, notice: None, duplicates: Vec::new() },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(refused) => match refusal_message(refused, ctx.lang) {
            Ok(message) => form_page(
                &ctx,
                &staff,
                None,
                FormState { form, problems: Vec::new(), notice: Some(message), duplicates: Vec::new() },
                StatusCode::CONFLICT,
            ),
            Err(err) => ctx.error(Some(&staff.library), err),
        },
    }
}

fn id_of(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::no_record(id))
}

/// The stored record `id` and its version (blocking).
fn load(c: &Catalogue, id: &str) -> Result<(u64, u32, Record), Refused> {
    let bib_id = id_of(id)?;
    let bib = c.get(bib_id)?.ok_or_else(|| Refused::Api(ApiError::no_record(id)))?;
    Ok((bib_id, bib.version, bib.record()?))
}

/// `GET /{tenant}/staff/records/{id}/form`.
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    match write(&state, &staff, move |c, _, _| Ok((load(c, &id)?, None))).await {
        Ok((bib_id, version, record)) => {
            let form = CatalogueForm::from_record(&record);
            form_page(
                &ctx,
                &staff,
                Some((bib_id, version)),
                FormState { form, problems: Vec::new(), notice: None, duplicates: Vec::new() },
                StatusCode::OK,
            )
        }
        Err(refused) => page_refusal(&ctx, &staff, refused),
    }
}

fn page_refusal(ctx: &Ctx, staff: &Staff, refused: Refused) -> Response {
    let err = match refused {
        Refused::Api(err) => err,
        Refused::Catalogue(err) => crate::circulation::circulation_error(err),
        Refused::Form(problems) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_form",
            problems.iter().map(|p| p.ja.clone()).collect::<Vec<_>>().join(" "),
            problems.iter().map(|p| p.en.clone()).collect::<Vec<_>>().join(" "),
        ),
    };
    ctx.error(Some(&staff.library), err)
}

fn posted_version(body: &[u8]) -> Option<u32> {
    field(&pairs(body), "version").parse().ok()
}

/// `POST /{tenant}/staff/records/{id}/form`.
pub(crate) async fn save_form(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let Ok(bib_id) = id_of(&id) else { return ctx.error(Some(&staff.library), ApiError::no_record(&id)) };
    let version = posted_version(&body).unwrap_or(0);
    let form = form_of(&pairs(&body));
    let editing = Some((bib_id, version));
    match post_form(&state, &staff, ctx.lang, editing, body).await {
        Ok(FormOutcome::Saved(id)) => see_other(&format!("{}?saved=1", record_url(&staff, id))),
        Ok(FormOutcome::Again(again)) => {
            let status = if again.problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            form_page(&ctx, &staff, editing, *again, status)
        }
        Err(Refused::Form(problems)) => form_page(
            &ctx,
            &staff,
            editing,
            FormState { form, problems, notice: None, duplicates: Vec::new() },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(refused) => {
            let conflict = matches!(refused, Refused::Catalogue(catalogue::Error::VersionMismatch { .. }));
            match refusal_message(refused, ctx.lang) {
                Ok(message) => form_page(
                    &ctx,
                    &staff,
                    editing,
                    FormState { form, problems: Vec::new(), notice: Some(message), duplicates: Vec::new() },
                    if conflict { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY },
                ),
                Err(err) => ctx.error(Some(&staff.library), err),
            }
        }
    }
}

// The record page: summary, fields, copies.

#[derive(Serialize)]
struct CopyRow {
    barcode: String,
    branch: String,
    location: String,
    call_number: String,
    status: String,
    status_code: &'static str,
    acquired: String,
    withdrawal: Option<String>,
}

#[derive(Serialize)]
struct BranchChoice {
    value: String,
    label: String,
    next_barcode: Option<String>,
}

#[derive(Serialize)]
struct RecordPage {
    #[serde(flatten)]
    frame: Frame,
    links: Links,
    heading: String,
    csrf: String,
    id: u64,
    version: u32,
    control_number: String,
    title: String,
    fields: Vec<String>,
    copies: Vec<CopyRow>,
    branches: Vec<BranchChoice>,
    call_number: String,
    today: String,
    notice: Option<String>,
    error: Option<String>,
    opac_url: String,
    form_url: String,
    marc_url: String,
    history_url: String,
    copies_action: String,
    withdraw_action: String,
    delete_action: String,
}

async fn record_page(
    state: &AppState,
    staff: &Staff,
    ctx: &Ctx,
    id: String,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let loaded = write(state, staff, move |c, _, today| {
        let (bib_id, version, record) = load(c, &id)?;
        let mut copies = Vec::new();
        for item in c.items_of_bib(bib_id)? {
            let details = c.item_details(item.id)?;
            copies.push(CopyRow {
                status: crate::opac::messages::status_name(lang, item.status.as_str()),
                status_code: item.status.as_str(),
                acquired: details.acquired.map(|d| d.to_string()).unwrap_or_default(),
                withdrawal: details.withdrawal.map(|w| format!("{} ({} {})", w.reason, w.on, w.by)),
                barcode: item.barcode,
                branch: item.branch,
                location: item.location,
                call_number: item.call_number,
            });
        }
        let mut branches = Vec::new();
        for b in c.branches()? {
            let next_barcode = c.next_free_barcode(&b.code, &[])?;
            let label = if lang == Lang::En && !b.name_en.is_empty() { b.name_en } else { b.name_ja };
            branches.push(BranchChoice { value: b.code, label, next_barcode });
        }
        let title = record.fields_with_tag("245").next().map(|f| f.text(&['a', 'b', 'n', 'p'])).unwrap_or_default();
        let mut fields = vec![format!("LDR {}", record.leader)];
        fields.extend(record.fields.iter().map(line));
        Ok((
            (
                bib_id,
                version,
                record.control_number().unwrap_or("").to_owned(),
                title,
                fields,
                copies,
                branches,
                suggested_call_number(&record),
                today,
            ),
            None,
        ))
    })
    .await;
    let (bib_id, version, control_number, title, fields, copies, branches, call_number, today) = match loaded {
        Ok(v) => v,
        Err(refused) => return page_refusal(ctx, staff, refused),
    };
    let url = record_url(staff, bib_id);
    let context = RecordPage {
        frame: ctx.frame(&title, Some(&staff.library)),
        links: Links::of(staff),
        heading: title.clone(),
        csrf: staff.session.csrf_token().expose().to_owned(),
        id: bib_id,
        version,
        control_number,
        title,
        fields,
        copies,
        branches,
        call_number,
        today: today.to_string(),
        notice,
        error,
        opac_url: format!("/{}/records/{bib_id}", staff.tenant()),
        form_url: format!("{url}/form"),
        marc_url: format!("{url}/marc"),
        history_url: format!("{url}/history"),
        copies_action: format!("{url}/copies"),
        withdraw_action: format!("{url}/withdraw"),
        delete_action: format!("{url}/delete"),
    };
    ctx.page(status, "cataloguing_record.html", &context)
}

/// `GET /{tenant}/staff/records/{id}`.
pub(crate) async fn record(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let query: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let notice = match field(&query, "done") {
        _ if field(&query, "saved") == "1" => Some(text(ctx.lang, "cat_saved")),
        "copies" => Some(text(ctx.lang, "cat_copies_added")),
        "withdrawn" => Some(text(ctx.lang, "cat_withdrawn")),
        "restored" => Some(text(ctx.lang, "cat_restored")),
        _ => None,
    };
    record_page(&state, &staff, &ctx, id, notice, None, StatusCode::OK).await
}

/// `POST /{tenant}/staff/records/{id}/copies`: `count` copies at `branch` (barcodes typed
/// one per line in `barcodes`, or from the branch's range), call number, acquisition date.
pub(crate) async fn add_copies(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let pairs = pairs(&body);
    let typed: Vec<String> =
        field(&pairs, "barcodes").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let count: usize = field(&pairs, "count").trim().parse().unwrap_or(1).clamp(1, 200);
    let n = if typed.is_empty() { count } else { typed.len() };
    let copy = |barcode: String| CopyBody {
        barcode,
        branch: field(&pairs, "branch").to_owned(),
        location: field(&pairs, "location").to_owned(),
        call_number: field(&pairs, "call_number").to_owned(),
        item_type: field(&pairs, "item_type").to_owned(),
        acquired: field(&pairs, "acquired").to_owned(),
    };
    let copies: Vec<CopyBody> = (0..n).map(|i| copy(typed.get(i).cloned().unwrap_or_default())).collect();
    let target = id.clone();
    let done = write(&state, &staff, move |c, _, today| {
        let bib_id = id_of(&target)?;
        let added = add_copies_now(c, bib_id, copies, today)?;
        let barcodes: Vec<String> = added
            .iter()
            .map(|c| {
                serde_json::to_value(c).ok().and_then(|v| v["barcode"].as_str().map(str::to_owned)).unwrap_or_default()
            })
            .collect();
        let audit = Audit {
            action: "item.create",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "barcodes": barcodes }),
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => see_other(&format!("{}?done=copies", record_url_of(&staff, &id))),
        Err(refused) => match refusal_message(refused, ctx.lang) {
            Ok(message) => {
                record_page(&state, &staff, &ctx, id, None, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(err) => ctx.error(Some(&staff.library), err),
        },
    }
}

fn record_url_of(staff: &Staff, id: &str) -> String {
    format!("/{}/staff/records/{}", staff.tenant(), id.parse::<u64>().unwrap_or(0))
}

/// `POST /{tenant}/staff/records/{id}/withdraw`: `barcode`, `reason`.
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let pairs = pairs(&body);
    let barcode = field(&pairs, "barcode").to_owned();
    let reason = field(&pairs, "reason").to_owned();
    let target = id.clone();
    let done = write(&state, &staff, move |c, by, today| {
        let bib_id = id_of(&target)?;
        match c.item_by_barcode(&barcode)? {
            Some(item) if item.bib_id == bib_id => {}
            _ => return Err(catalogue::Error::UnknownItem(barcode.chars().take(64).collect()).into()),
        }
        let item = c.withdraw_item(&barcode, &reason, by, today)?;
        let audit = Audit {
            action: "item.withdraw",
            target: format!("item {}", item.barcode),
            after: serde_json::json!({ "reason": reason.trim() }),
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => see_other(&format!("{}?done=withdrawn", record_url_of(&staff, &id))),
        Err(refused) => match refusal_message(refused, ctx.lang) {
            Ok(message) => record_page(&state, &staff, &ctx, id, None, Some(message), StatusCode::CONFLICT).await,
            Err(err) => ctx.error(Some(&staff.library), err),
        },
    }
}

/// `POST /{tenant}/staff/records/{id}/delete`: refused while a copy is on loan or held.
pub(crate) async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let version = posted_version(&body);
    let target = id.clone();
    let done = write(&state, &staff, move |c, by, _| {
        let (bib_id, current, _) = load(c, &target)?;
        if let Some(expected) = version
            && expected != current
        {
            return Err(catalogue::Error::VersionMismatch { bib_id, expected, current }.into());
        }
        c.delete_record(bib_id, by)?;
        let audit = Audit {
            action: "record.delete",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "version": current }),
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => {
            see_other(&format!("/{}/staff/records/new?deleted={}", staff.tenant(), id.parse::<u64>().unwrap_or(0)))
        }
        Err(refused) => match refusal_message(refused, ctx.lang) {
            Ok(message) => record_page(&state, &staff, &ctx, id, None, Some(message), StatusCode::CONFLICT).await,
            Err(err) => ctx.error(Some(&staff.library), err),
        },
    }
}

// The MARC editor.

#[derive(Serialize)]
struct EditorProblem {
    line: Option<usize>,
    tag: String,
    message: String,
}

#[derive(Serialize)]
struct EditorPage {
    #[serde(flatten)]
    frame: Frame,
    links: Links,
    heading: String,
    csrf: String,
    action: String,
    record_url: String,
    version: u32,
    text: String,
    rows: usize,
    problems: Vec<EditorProblem>,
    notice: Option<String>,
}

/// What the editor shows: the record's text (as typed, after a refusal) and why it was refused.
struct EditorState {
    bib_id: u64,
    version: u32,
    text: String,
    problems: Vec<EditorProblem>,
    notice: Option<String>,
}

fn editor_page(ctx: &Ctx, staff: &Staff, state: EditorState, status: StatusCode) -> Response {
    let EditorState { bib_id, version, text, problems, notice } = state;
    let heading = crate::opac::messages::fill(ctx.t("cat_editor_title"), &[bib_id.to_string()]);
    let context = EditorPage {
        frame: ctx.frame(&heading, Some(&staff.library)),
        links: Links::of(staff),
        heading,
        csrf: staff.session.csrf_token().expose().to_owned(),
        action: format!("{}/marc", record_url(staff, bib_id)),
        record_url: record_url(staff, bib_id),
        version,
        rows: text.lines().count().clamp(12, 60) + 2,
        text,
        problems,
        notice,
    };
    ctx.page(status, "cataloguing_marc.html", &context)
}

/// `GET /{tenant}/staff/records/{id}/marc`: the record as MarcEdit lines.
pub(crate) async fn editor(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let loaded = write(&state, &staff, move |c, _, _| {
        let (bib_id, version, record) = load(c, &id)?;
        let text = catalogue::cataloguing::editor_text(&record).map_err(|reason| {
            Refused::Api(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_editable",
                format!("このレコードはエディタで開けません: {reason}"),
                format!("this record cannot be opened in the editor: {reason}"),
            ))
        })?;
        Ok(((bib_id, version, text), None))
    })
    .await;
    match loaded {
        Ok((bib_id, version, text)) => editor_page(
            &ctx,
            &staff,
            EditorState { bib_id, version, text, problems: Vec::new(), notice: None },
            StatusCode::OK,
        ),
        Err(refused) => page_refusal(&ctx, &staff, refused),
    }
}

/// `POST /{tenant}/staff/records/{id}/marc`: saves the edited lines at the version opened.
pub(crate) async fn save_editor(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let lang = ctx.lang;
    let Ok(bib_id) = id_of(&id) else { return ctx.error(Some(&staff.library), ApiError::no_record(&id)) };
    let pairs = pairs(&body);
    let version: u32 = field(&pairs, "version").parse().unwrap_or(0);
    let typed = field(&pairs, "marc").replace("\r\n", "\n");
    let text_kept = typed.clone();
    let done = write(&state, &staff, move |c, by, _| {
        let record = match catalogue::cataloguing::parse_editor_text(&typed) {
            Ok(record) => record,
            Err(reason) => {
                return Ok((Err(vec![EditorProblem { line: None, tag: String::new(), message: reason }]), None));
            }
        };
        // Field i of the record is on the i-th non-blank line after the leader.
        let lines: Vec<usize> =
            typed.lines().enumerate().filter(|(_, l)| l.starts_with('=')).map(|(n, _)| n + 1).collect();
        match c.replace_record(bib_id, record, version, Saver { by, source: "editor" }) {
            Ok(stored) => {
                let audit = Audit {
                    action: "record.update",
                    target: format!("record {bib_id}"),
                    after: serde_json::json!({ "version": stored.version, "source": "editor" }),
                };
                Ok((Ok(()), Some(audit)))
            }
            Err(catalogue::Error::InvalidRecord { problems }) => Ok((
                Err(problems
                    .into_iter()
                    .map(|p| EditorProblem {
                        line: match p.field {
                            Some(i) => lines.get(i + 1).copied(),
                            None if p.tag == "LDR" => lines.first().copied(),
                            None => None,
                        },
                        tag: p.tag.clone(),
                        message: lang.pick(&p.ja, &p.en).to_owned(),
                    })
                    .collect()),
                None,
            )),
            Err(err) => Err(err.into()),
        }
    })
    .await;
    match done {
        Ok(Ok(())) => see_other(&format!("{}?saved=1", record_url(&staff, bib_id))),
        Ok(Err(problems)) => editor_page(
            &ctx,
            &staff,
            EditorState { bib_id, version, text: text_kept, problems, notice: None },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(refused) => {
            let status = if matches!(refused, Refused::Catalogue(catalogue::Error::VersionMismatch { .. })) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            match refusal_message(refused, lang) {
                Ok(message) => editor_page(
                    &ctx,
                    &staff,
                    EditorState { bib_id, version, text: text_kept, problems: Vec::new(), notice: Some(message) },
                    status,
                ),
                Err(err) => ctx.error(Some(&staff.library), err),
            }
        }
    }
}

// History.

#[derive(Serialize)]
struct VersionRow {
    version: u32,
    saved: String,
    by: String,
    source: String,
    current: bool,
    url: String,
    selected: bool,
}

#[derive(Serialize)]
struct ChangeRow {
    kind: &'static str,
    label: &'static str,
    old: String,
    new: String,
}

#[derive(Serialize)]
struct HistoryPage {
    #[serde(flatten)]
    frame: Frame,
    links: Links,
    heading: String,
    csrf: String,
    action: String,
    record_url: String,
    current: u32,
    versions: Vec<VersionRow>,
    selected: u32,
    selected_current: bool,
    changes: Vec<ChangeRow>,
    error: Option<String>,
}

async fn history_page(
    state: &AppState,
    staff: &Staff,
    ctx: &Ctx,
    id: String,
    selected: Option<u32>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let loaded = write(state, staff, move |c, _, _| {
        let bib_id = id_of(&id)?;
        let versions = c.record_versions(bib_id)?;
        let current = versions
            .iter()
            .find(|v| v.current)
            .map(|v| v.version)
            .ok_or_else(|| Refused::Api(ApiError::no_record(&id)))?;
        let selected = selected.filter(|s| versions.iter().any(|v| v.version == *s)).unwrap_or(current);
        let answer = version_of(c, bib_id, selected)?;
        Ok(((bib_id, current, versions, selected, answer), None))
    })
    .await;
    let (bib_id, current, versions, selected, answer) = match loaded {
        Ok(v) => v,
        Err(refused) => return page_refusal(ctx, staff, refused),
    };
    let url = record_url(staff, bib_id);
    let heading = crate::opac::messages::fill(ctx.t("cat_history_title"), &[bib_id.to_string()]);
    let changes = answer
        .changes
        .into_iter()
        .filter(|c| c.kind != ChangeKindOfField::Same)
        .map(|c| {
            let (kind, key) = match c.kind {
                ChangeKindOfField::Added => ("added", "cat_change_added"),
                ChangeKindOfField::Removed => ("removed", "cat_change_removed"),
                ChangeKindOfField::Changed => ("changed", "cat_change_changed"),
                ChangeKindOfField::Same => ("same", "cat_change_changed"),
            };
            ChangeRow {
                kind,
                label: crate::opac::messages::text(lang, key),
                old: c.old.unwrap_or_default(),
                new: c.new.unwrap_or_default(),
            }
        })
        .collect();
    let context = HistoryPage {
        frame: ctx.frame(&heading, Some(&staff.library)),
        links: Links::of(staff),
        heading,
        csrf: staff.session.csrf_token().expose().to_owned(),
        action: format!("{url}/history"),
        record_url: url.clone(),
        current,
        versions: versions
            .into_iter()
            .map(|v| VersionRow {
                saved: jiff::Timestamp::from_second(v.saved).map(crate::circulation::jst_minute).unwrap_or_default(),
                url: format!("{url}/history?v={}", v.version),
                selected: v.version == selected,
                version: v.version,
                by: v.by,
                source: v.source,
                current: v.current,
            })
            .collect(),
        selected,
        selected_current: selected == current,
        changes,
        error,
    };
    ctx.page(status, "cataloguing_history.html", &context)
}

/// `GET /{tenant}/staff/records/{id}/history?v=N`: the versions, and what version N changed.
pub(crate) async fn history(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let query: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let selected = field(&query, "v").parse().ok();
    history_page(&state, &staff, &ctx, id, selected, None, StatusCode::OK).await
}

/// `POST /{tenant}/staff/records/{id}/history`: `restore` = a version, `version` = the
/// current version the page showed.
pub(crate) async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let pairs = pairs(&body);
    let wanted: u32 = field(&pairs, "restore").parse().unwrap_or(0);
    let expected: u32 = field(&pairs, "version").parse().unwrap_or(0);
    let target = id.clone();
    let done = write(&state, &staff, move |c, by, _| {
        let bib_id = id_of(&target)?;
        let stored = c.restore_version(bib_id, wanted, expected, by)?;
        let audit = Audit {
            action: "record.restore",
            target: format!("record {bib_id}"),
            after: serde_json::json!({ "version": stored.version, "restored": wanted }),
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => see_other(&format!("{}?done=restored", record_url_of(&staff, &id))),
        Err(refused) => match refusal_message(refused, ctx.lang) {
            Ok(message) => {
                history_page(&state, &staff, &ctx, id, Some(wanted), Some(message), StatusCode::CONFLICT).await
            }
            Err(err) => ctx.error(Some(&staff.library), err),
        },
    }
}

// Copy cataloguing.

#[derive(Serialize)]
struct TargetChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct LocalRecord {
    id: u64,
    url: String,
    fields: Vec<String>,
}

#[derive(Serialize)]
struct FoundRow {
    #[serde(flatten)]
    found: FoundView,
    /// The library's record with the same ISBN, for the side-by-side view.
    local: Option<LocalRecord>,
}

#[derive(Serialize)]
struct CopyPage {
    #[serde(flatten)]
    frame: Frame,
    links: Links,
    heading: String,
    csrf: String,
    action: String,
    targets: Vec<TargetChoice>,
    target: String,
    isbn: String,
    /// The title searched for (`title` is the page's).
    query_title: String,
    author: String,
    searched: bool,
    total: u64,
    results: Vec<FoundRow>,
    error: Option<String>,
}

/// `GET /{tenant}/staff/copy-cataloguing?target=&isbn=&title=&author=`.
pub(crate) async fn copy_search(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let params: CopyParams = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    copy_page(&state, &staff, &ctx, params, None).await
}

async fn copy_page(state: &AppState, staff: &Staff, ctx: &Ctx, params: CopyParams, error: Option<String>) -> Response {
    let lang = ctx.lang;
    let targets = match write(state, staff, |c, _, _| Ok((c.copy_targets()?, None))).await {
        Ok(t) => t,
        Err(refused) => return page_refusal(ctx, staff, refused),
    };
    let target = if params.target.trim().is_empty() {
        targets.first().map(|t| t.name.clone()).unwrap_or_default()
    } else {
        params.target.trim().to_owned()
    };
    let query = params.query();
    let searched = query.isbn.is_some() || query.title.is_some() || query.author.is_some();
    let (mut total, mut results, mut error) = (0, Vec::new(), error);
    let mut status = StatusCode::OK;
    if searched {
        match super::api::copy_search(state, staff, &target, query).await {
            Ok(answer) => {
                total = answer.total;
                let tenant = staff.tenant().to_string();
                let locals = write(state, staff, move |c, _, _| {
                    let mut rows = Vec::new();
                    for found in answer.records {
                        let local = match found.duplicates.first() {
                            Some(id) => c
                                .get(*id)?
                                .map(|bib| -> Result<LocalRecord, catalogue::Error> {
                                    let record = bib.record()?;
                                    let mut fields = vec![format!("LDR {}", record.leader)];
                                    fields.extend(record.fields.iter().map(line));
                                    Ok(LocalRecord {
                                        id: bib.id,
                                        url: format!("/{tenant}/staff/records/{}", bib.id),
                                        fields,
                                    })
                                })
                                .transpose()?,
                            None => None,
                        };
                        rows.push(FoundRow { found, local });
                    }
                    Ok((rows, None))
                })
                .await;
                match locals {
                    Ok(rows) => results = rows,
                    Err(refused) => return page_refusal(ctx, staff, refused),
                }
            }
            Err(refused) => {
                status = match &refused {
                    Refused::Api(err) => err.status,
                    _ => StatusCode::BAD_GATEWAY,
                };
                match refused {
                    Refused::Api(err) => error = Some(err.in_lang(lang).message().to_owned()),
                    other => match refusal_message(other, lang) {
                        Ok(message) => error = Some(message),
                        Err(err) => return ctx.error(Some(&staff.library), err),
                    },
                }
            }
        }
    }
    let heading = ctx.t("cat_copy_title").to_owned();
    let context = CopyPage {
        frame: ctx.frame(&heading, Some(&staff.library)),
        links: Links::of(staff),
        heading,
        csrf: staff.session.csrf_token().expose().to_owned(),
        action: format!("/{}/staff/copy-cataloguing", staff.tenant()),
        targets: targets
            .iter()
            .map(|t| TargetChoice { value: t.name.clone(), label: t.label.clone(), selected: t.name == target })
            .collect(),
        target,
        isbn: params.isbn,
        query_title: params.title,
        author: params.author,
        searched,
        total,
        results,
        error,
    };
    ctx.page(status, "cataloguing_copy.html", &context)
}

/// `POST /{tenant}/staff/copy-cataloguing`: creates the record found (`marcxml`, from
/// `target`) in this library, then opens it.
pub(crate) async fn copy_take(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let pairs = pairs(&body);
    let marcxml = field(&pairs, "marcxml").to_owned();
    let target: String =
        field(&pairs, "target").chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(32).collect();
    let params = CopyParams {
        target: target.clone(),
        isbn: field(&pairs, "isbn").to_owned(),
        title: field(&pairs, "title").to_owned(),
        author: field(&pairs, "author").to_owned(),
    };
    let done = write(&state, &staff, move |c, by, _| {
        let record = catalogue::cataloguing::parse_marcxml_record(marcxml.as_bytes()).map_err(|reason| {
            Refused::Api(ApiError::bad_request(
                "bad_marcxml",
                format!("MARCXML のレコードとして読めません: {reason}"),
                format!("not a MARCXML record: {reason}"),
            ))
        })?;
        let source = format!("copy:{target}");
        let stored = c.create_record(record, Saver { by, source: &source })?;
        let audit = Audit {
            action: "record.create",
            target: format!("record {}", stored.id),
            after: serde_json::json!({ "version": 1, "source": source }),
        };
        Ok((stored.id, Some(audit)))
    })
    .await;
    match done {
        Ok(id) => see_other(&format!("{}?saved=1", record_url(&staff, id))),
        Err(refused) => match refusal_message(refused, ctx.lang) {
            Ok(message) => copy_page(&state, &staff, &ctx, params, Some(message)).await,
            Err(err) => ctx.error(Some(&staff.library), err),
        },
    }
}
