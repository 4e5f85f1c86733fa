//! The staff API of circulation: checkout, checkin, renewal, holds, the patron at the
//! desk, the hold shelf and the loans falling due, and what a script needs to set a library
//! up (branches, loan rules, closed days, patrons and their OPAC passwords, items).
//!
//! Every handler asks the session for its function again (`Staff::require`), runs the
//! catalogue's write on a blocking thread, writes the audit line, and answers JSON. The
//! catalogue's refusals keep their stable codes (`circulation::circulation_error`): 404
//! for unknown things, 409 for what the state or the rules refuse, 422 for malformed values.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalogue::{AuditEvent, Branch, Catalogue, Function, ItemStatus, LoanPolicy, NewItem, NewPatron, PatronCategory};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::api::bad_json;
use super::guard::Staff;
use crate::api::{blocking, lang_param};
use crate::circulation::{CheckinView, HoldView, LoanView, PatronView, circulation_error, jst_today};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::server::AppState;

/// The language of an API answer: `lang=`, the cookie, `Accept-Language`; Japanese else.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AskLang(pub(crate) Lang);

impl<S: Send + Sync> FromRequestParts<S> for AskLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<AskLang, Self::Rejection> {
        let param = parts.uri.query().and_then(lang_param);
        Ok(AskLang(Lang::negotiate(param.as_deref(), &parts.headers)))
    }
}

/// What a write did, for the audit log: action, target and a summary. Circulation lines
/// never name the patron.
pub(crate) struct Audit {
    pub(crate) action: &'static str,
    pub(crate) target: String,
    pub(crate) after: serde_json::Value,
}

/// Runs `work` on the library's catalogue on a blocking thread at the clock's time, writes
/// its audit line as the session's principal, and gives back its answer.
pub(crate) async fn run<T: Send + 'static>(
    state: &AppState,
    staff: &Staff,
    work: impl FnOnce(&Catalogue, Timestamp) -> Result<(T, Option<Audit>), catalogue::Error> + Send + 'static,
) -> Result<T, ApiError> {
    let library = staff.library.clone();
    let principal = staff.session.principal.clone();
    let writer = state.clone();
    let now = state.clock().now();
    blocking(move || {
        let (answer, audit) = work(&library.catalogue, now).map_err(circulation_error)?;
        if let Some(audit) = audit {
            let event = AuditEvent::new(&principal, audit.action, audit.target).after(audit.after);
            writer.audit(Some(&library.tenant.code), &event);
        }
        Ok(answer)
    })
    .await
}

fn answer<T: Serialize>(status: StatusCode, value: Result<T, ApiError>, lang: Lang) -> Response {
    match value {
        Ok(value) => {
            let mut response = (status, Json(value)).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => err.in_lang(lang).into_response(),
    }
}

fn body<T>(body: Result<Json<T>, JsonRejection>, lang: Lang) -> Result<T, Box<Response>> {
    body.map(|Json(b)| b).map_err(|rejection| Box::new(bad_json(rejection).in_lang(lang).into_response()))
}

fn path<T>(path: Result<Path<T>, PathRejection>, lang: Lang) -> Result<T, Box<Response>> {
    path.map(|Path(p)| p).map_err(|rejection| {
        Box::new(
            ApiError::bad_request("bad_path", format!("URL が正しくありません: {rejection}"), rejection.to_string())
                .in_lang(lang)
                .into_response(),
        )
    })
}

macro_rules! unwrap_or_answer {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(response) => return *response,
        }
    };
}

// Checkout, checkin, renewal.

/// `POST …/circulation/checkout`.
#[derive(Debug, Deserialize)]
pub(crate) struct CheckoutBody {
    item_barcode: String,
    patron_card: String,
}

/// Lends an item (blocking part, shared with the desk page).
pub(crate) fn checkout_now(
    catalogue: &Catalogue,
    item: &str,
    card: &str,
    now: Timestamp,
) -> Result<(LoanView, Option<Audit>), catalogue::Error> {
    let loan = catalogue.checkout(item, card, now)?;
    let item = catalogue.item(loan.item_id)?.ok_or_else(|| catalogue::Error::UnknownItem(item.to_owned()))?;
    let view = LoanView::of(catalogue, &loan, &item, card.trim(), now);
    let audit = Audit {
        action: "circulation.checkout",
        target: format!("item {}", item.barcode),
        after: serde_json::json!({ "due": loan.due.to_string() }),
    };
    Ok((view, Some(audit)))
}

/// `POST /api/v1/{tenant}/circulation/checkout` with `{"item_barcode","patron_card"}`: 200
/// with the loan; 404 unknown item or card; 409 with the reason (on loan, held for another
/// patron, limits, a blocked or expired card, an overdue item).
pub(crate) async fn checkout(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<CheckoutBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Circulation) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, now| checkout_now(c, &b.item_barcode, &b.patron_card, now)).await;
    answer(StatusCode::OK, done, lang)
}

/// `POST …/circulation/checkin`.
#[derive(Debug, Deserialize)]
pub(crate) struct CheckinBody {
    item_barcode: String,
    /// The desk's branch; the item's own when absent.
    #[serde(default)]
    branch: Option<String>,
}

/// Takes an item back (blocking part, shared with the desk page).
pub(crate) fn checkin_now(
    catalogue: &Catalogue,
    item: &str,
    branch: Option<&str>,
    now: Timestamp,
) -> Result<(CheckinView, Option<Audit>), catalogue::Error> {
    let outcome = match branch.map(str::trim).filter(|b| !b.is_empty()) {
        Some(branch) => catalogue.checkin_at(item, branch, now)?,
        None => catalogue.checkin(item, now)?,
    };
    let view = CheckinView::of(catalogue, &outcome);
    let audit = Audit {
        action: "circulation.checkin",
        target: format!("item {}", view.item_barcode),
        after: serde_json::json!({
            "previous_status": view.previous_status,
            "status": view.status,
            "days_overdue": view.days_overdue,
            "hold": view.hold.as_ref().map(|h| h.id),
        }),
    };
    Ok((view, Some(audit)))
}

/// `POST /api/v1/{tenant}/circulation/checkin` with `{"item_barcode","branch"?}`: 200 with
/// what became of the item (on the shelf, set aside for a hold, in transit).
pub(crate) async fn checkin(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<CheckinBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Circulation) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, now| checkin_now(c, &b.item_barcode, b.branch.as_deref(), now)).await;
    answer(StatusCode::OK, done, lang)
}

/// `POST …/circulation/renew`.
#[derive(Debug, Deserialize)]
pub(crate) struct RenewBody {
    item_barcode: String,
}

/// Renews a loan (blocking part, shared with the desk and the patron's page).
pub(crate) fn renew_now(
    catalogue: &Catalogue,
    item: &str,
    now: Timestamp,
) -> Result<(LoanView, Option<Audit>), catalogue::Error> {
    let loan = catalogue.renew(item, now)?;
    let item = catalogue.item(loan.item_id)?.ok_or_else(|| catalogue::Error::UnknownItem(item.to_owned()))?;
    let card = catalogue.patron(loan.patron_id)?.map(|p| p.card).unwrap_or_default();
    let view = LoanView::of(catalogue, &loan, &item, &card, now);
    let audit = Audit {
        action: "circulation.renew",
        target: format!("item {}", item.barcode),
        after: serde_json::json!({ "due": loan.due.to_string(), "renewals": loan.renewals }),
    };
    Ok((view, Some(audit)))
}

/// `POST /api/v1/{tenant}/circulation/renew` with `{"item_barcode"}`: 200 with the loan's
/// new due date; 409 when another patron waits for the record (`hold_waiting`), no renewal
/// is left, or the borrower may not borrow.
pub(crate) async fn renew(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<RenewBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Circulation) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, now| renew_now(c, &b.item_barcode, now)).await;
    answer(StatusCode::OK, done, lang)
}

/// The loans due today and the overdue ones, as answered.
#[derive(Debug, Serialize)]
pub(crate) struct DueLists {
    /// Today in Japan.
    pub(crate) today: Date,
    pub(crate) due_today: Vec<LoanView>,
    pub(crate) overdue: Vec<LoanView>,
}

/// The loans due today and overdue, optionally of one branch's items (blocking).
pub(crate) fn due_lists(catalogue: &Catalogue, branch: Option<&str>, now: Timestamp) -> catalogue::Result<DueLists> {
    let today = jst_today(now);
    let mut lists = DueLists { today, due_today: Vec::new(), overdue: Vec::new() };
    for (loan, item) in catalogue.loans_due_by(today)? {
        if branch.is_some_and(|b| b != item.branch) {
            continue;
        }
        let card = catalogue.patron(loan.patron_id)?.map(|p| p.card).unwrap_or_default();
        let view = LoanView::of(catalogue, &loan, &item, &card, now);
        if loan.due == today { lists.due_today.push(view) } else { lists.overdue.push(view) }
    }
    Ok(lists)
}

/// `?branch=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct BranchQuery {
    #[serde(default)]
    branch: Option<String>,
}

/// `GET /api/v1/{tenant}/circulation/due?branch=`: the loans due today and the overdue
/// ones (of one branch's items, or all).
pub(crate) async fn due(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    query: Result<axum::extract::Query<BranchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Circulation) {
        return err.in_lang(lang).into_response();
    }
    let branch = query.ok().and_then(|q| q.0.branch).filter(|b| !b.trim().is_empty());
    let done = run(&state, &staff, move |c, now| Ok((due_lists(c, branch.as_deref(), now)?, None))).await;
    answer(StatusCode::OK, done, lang)
}

// Notices.

/// A notice waiting in the outbox, as the staff see it: to whom, and how they can be
/// reached (an e-mail address the mailer will use, or not).
#[derive(Debug, Serialize)]
pub(crate) struct NoticeView {
    id: u64,
    kind: &'static str,
    date: jiff::civil::Date,
    patron_card: String,
    contact: Option<String>,
    by_email: bool,
    item_barcode: String,
    title: String,
    created: jiff::Timestamp,
}

/// `GET /api/v1/{tenant}/notices`: the notices not sent yet, oldest first. Those with
/// `by_email: false` wait for the staff (a telephone call, a postcard).
pub(crate) async fn notices(State(state): State<AppState>, staff: Staff, AskLang(lang): AskLang) -> Response {
    if let Err(err) = staff.require(Function::Circulation) {
        return err.in_lang(lang).into_response();
    }
    let done = run(&state, &staff, move |c, _| {
        let mut out = Vec::new();
        for notice in c.pending_notices(usize::MAX)? {
            let patron = c.patron(notice.patron_id)?;
            let contact = patron.as_ref().and_then(|p| p.contact.clone());
            out.push(NoticeView {
                id: notice.id,
                kind: notice.kind.as_str(),
                date: notice.date,
                patron_card: patron.map(|p| p.card).unwrap_or_default(),
                by_email: contact.as_deref().is_some_and(|c| c.trim().parse::<lettre::Address>().is_ok()),
                contact,
                title: crate::circulation::title_of(c, notice.bib_id),
                item_barcode: notice.item_barcode,
                created: notice.created,
            });
        }
        Ok((serde_json::json!({ "notices": out }), None))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

/// `DELETE /api/v1/{tenant}/notices/{id}`: the staff have told the patron themselves; the
/// notice leaves the outbox (204), or was gone already (404).
pub(crate) async fn notice_done(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    id: Result<Path<(String, u64)>, PathRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Circulation) {
        return err.in_lang(lang).into_response();
    }
    let (_, id) = unwrap_or_answer!(path(id, lang));
    let done = run(&state, &staff, move |c, _| {
        let removed = c.mark_notice_sent(id)?;
        let audit = removed.then(|| Audit {
            action: "notice.done",
            target: format!("notice {id}"),
            after: serde_json::json!({ "by": "staff" }),
        });
        Ok((removed, audit))
    })
    .await;
    match done {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_notice",
            format!("通知 {id} は見つかりません（送信済みか、対応済みです）"),
            format!("no notice {id}: it was sent or dealt with already"),
        )
        .in_lang(lang)
        .into_response(),
        Err(err) => err.in_lang(lang).into_response(),
    }
}

// Holds.

/// `POST /api/v1/{tenant}/holds`.
#[derive(Debug, Deserialize)]
pub(crate) struct HoldBody {
    bib_id: u64,
    patron_card: String,
    pickup_branch: String,
}

/// Places a hold (blocking part, shared with the patron's page).
pub(crate) fn place_hold_now(
    catalogue: &Catalogue,
    bib_id: u64,
    card: &str,
    pickup: &str,
    now: Timestamp,
) -> Result<(HoldView, Option<Audit>), catalogue::Error> {
    let hold = catalogue.place_hold(bib_id, card, pickup, now)?;
    let view = HoldView::of(catalogue, &hold, card.trim());
    let audit = Audit {
        action: "hold.place",
        target: format!("hold {}", hold.id),
        after: serde_json::json!({ "bib_id": bib_id, "pickup_branch": hold.pickup_branch }),
    };
    Ok((view, Some(audit)))
}

/// `POST /api/v1/{tenant}/holds` with `{"bib_id","patron_card","pickup_branch"}`: 201 with
/// the hold and its place in the queue.
pub(crate) async fn place_hold(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<HoldBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Holds) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done =
        run(&state, &staff, move |c, now| place_hold_now(c, b.bib_id, &b.patron_card, &b.pickup_branch, now)).await;
    answer(StatusCode::CREATED, done, lang)
}

/// Cancels a hold (blocking part, shared with the patron's page).
pub(crate) fn cancel_hold_now(
    catalogue: &Catalogue,
    id: u64,
    now: Timestamp,
) -> Result<(HoldView, Option<Audit>), catalogue::Error> {
    let hold = catalogue.cancel_hold(id, now)?;
    let card = catalogue.patron(hold.patron_id)?.map(|p| p.card).unwrap_or_default();
    let view = HoldView::of(catalogue, &hold, &card);
    let audit = Audit {
        action: "hold.cancel",
        target: format!("hold {id}"),
        after: serde_json::json!({ "bib_id": hold.bib_id }),
    };
    Ok((view, Some(audit)))
}

/// `DELETE /api/v1/{tenant}/holds/{id}`: 200 with the hold, now `cancelled`; a copy set
/// aside for it goes to the next hold or back to the shelf.
pub(crate) async fn cancel_hold(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    id: Result<Path<(String, u64)>, PathRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Holds) {
        return err.in_lang(lang).into_response();
    }
    let (_, id) = unwrap_or_answer!(path(id, lang));
    let done = run(&state, &staff, move |c, now| cancel_hold_now(c, id, now)).await;
    answer(StatusCode::OK, done, lang)
}

/// The holds ready on a branch's hold shelf (blocking).
pub(crate) fn hold_shelf_of(catalogue: &Catalogue, branch: &str) -> catalogue::Result<Vec<HoldView>> {
    let mut out = Vec::new();
    for (hold, _) in catalogue.hold_shelf(branch)? {
        let card = catalogue.patron(hold.patron_id)?.map(|p| p.card).unwrap_or_default();
        out.push(HoldView::of(catalogue, &hold, &card));
    }
    Ok(out)
}

/// `GET /api/v1/{tenant}/branches/{code}/hold-shelf`: the holds ready there, the ones
/// expiring first first.
pub(crate) async fn hold_shelf(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    code: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Holds) {
        return err.in_lang(lang).into_response();
    }
    let (_, code) = unwrap_or_answer!(path(code, lang));
    let done = run(&state, &staff, move |c, _| {
        if c.branch(&code)?.is_none() {
            return Err(catalogue::Error::UnknownBranch(code));
        }
        Ok((serde_json::json!({ "branch": code, "holds": hold_shelf_of(c, &code)? }), None))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

// Patrons.

/// `GET /api/v1/{tenant}/patrons/{card}`: the patron with loans (due dates) and holds.
pub(crate) async fn patron(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    card: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Patrons) {
        return err.in_lang(lang).into_response();
    }
    let (_, card) = unwrap_or_answer!(path(card, lang));
    let done = run(&state, &staff, move |c, now| {
        let patron = c.patron_by_card(&card)?.ok_or_else(|| catalogue::Error::UnknownPatron(clip(&card)))?;
        Ok((PatronView::of(c, &patron, now)?, None))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

fn clip(text: &str) -> String {
    text.trim().chars().take(64).collect()
}

/// A patron's fields, to create or replace.
#[derive(Debug, Deserialize)]
pub(crate) struct PatronBody {
    /// Required to create; to replace, a new card number (a lost card), else kept.
    #[serde(default)]
    card: Option<String>,
    name: String,
    #[serde(default)]
    name_reading: Option<String>,
    #[serde(default)]
    category: Option<PatronCategory>,
    home_branch: String,
    #[serde(default)]
    expiry: Option<Date>,
    #[serde(default)]
    blocked: Option<String>,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    grade: Option<u8>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    reading_record: bool,
}

impl PatronBody {
    fn into_new(self, card: String) -> NewPatron {
        NewPatron {
            card,
            name: self.name,
            name_reading: self.name_reading,
            category: self.category.unwrap_or(PatronCategory::Adult),
            home_branch: self.home_branch,
            expiry: self.expiry,
            blocked: self.blocked,
            contact: self.contact,
            grade: self.grade,
            class: self.class,
            reading_record: self.reading_record,
        }
    }
}

/// `POST /api/v1/{tenant}/patrons`: 201 with the patron; 409 when the card is in use.
pub(crate) async fn create_patron(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<PatronBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Patrons) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, now| {
        let card = b.card.clone().unwrap_or_default();
        let patron = c.add_patron(&b.into_new(card))?;
        let audit = Audit {
            action: "patron.create",
            target: format!("patron {}", patron.card),
            after: serde_json::Value::Null,
        };
        Ok((PatronView::of(c, &patron, now)?, Some(audit)))
    })
    .await;
    answer(StatusCode::CREATED, done, lang)
}

/// `PUT /api/v1/{tenant}/patrons/{card}`: replaces the patron's fields (a `card` in the
/// body gives a new card number); 200 with the patron.
pub(crate) async fn update_patron(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    card: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<PatronBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Patrons) {
        return err.in_lang(lang).into_response();
    }
    let (_, card) = unwrap_or_answer!(path(card, lang));
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, now| {
        let old = c.patron_by_card(&card)?.ok_or_else(|| catalogue::Error::UnknownPatron(clip(&card)))?;
        let new_card = b.card.clone().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| old.card.clone());
        let fields = b.into_new(new_card);
        let patron = catalogue::Patron {
            id: old.id,
            card: fields.card,
            name: fields.name,
            name_reading: fields.name_reading,
            category: fields.category,
            home_branch: fields.home_branch,
            expiry: fields.expiry,
            blocked: fields.blocked,
            contact: fields.contact,
            grade: fields.grade,
            class: fields.class,
            reading_record: fields.reading_record,
        };
        let patron = c.update_patron(&patron)?;
        let audit = Audit {
            action: "patron.update",
            target: format!("patron {}", old.card),
            after: serde_json::json!({ "card": patron.card }),
        };
        Ok((PatronView::of(c, &patron, now)?, Some(audit)))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

/// `PUT …/patrons/{card}/password`. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct PatronPasswordBody {
    password: String,
}

/// `DELETE /api/v1/{tenant}/patrons/{card}/totp`: turns a patron's two-step verification
/// off when they lost both the authenticator and the recovery codes (after the desk has
/// checked who they are); their sessions end, the password stays. 204.
pub(crate) async fn reset_patron_totp(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    card: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Patrons) {
        return err.in_lang(lang).into_response();
    }
    let (_, card) = unwrap_or_answer!(path(card, lang));
    let done = run(&state, &staff, move |c, _| {
        let patron = c.reset_patron_totp(&card)?;
        let audit = Audit {
            action: "patron.totp_reset",
            target: format!("patron {}", patron.card),
            after: serde_json::Value::Null,
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => err.in_lang(lang).into_response(),
    }
}

/// `PUT /api/v1/{tenant}/patrons/{card}/password` with `{"password"}`: sets or resets the
/// patron's OPAC password (the staff password rules, the card number in place of the
/// username); every session of the patron ends. 204; 422 `weak_password`.
pub(crate) async fn set_patron_password(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    card: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<PatronPasswordBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::Patrons) {
        return err.in_lang(lang).into_response();
    }
    let (_, card) = unwrap_or_answer!(path(card, lang));
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, now| {
        let patron = c.set_patron_password(&card, &b.password, now)?;
        let audit = Audit {
            action: "patron.password_set",
            target: format!("patron {}", patron.card),
            after: serde_json::Value::Null,
        };
        Ok(((), Some(audit)))
    })
    .await;
    match done {
        Ok(()) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => err.in_lang(lang).into_response(),
    }
}

// Library set-up: branches, loan rules, closed days, items.

#[derive(Debug, Serialize)]
struct BranchJson {
    code: String,
    name_ja: String,
    name_en: String,
}

impl BranchJson {
    fn of(branch: Branch) -> BranchJson {
        BranchJson { code: branch.code, name_ja: branch.name_ja, name_en: branch.name_en }
    }
}

/// `GET /api/v1/{tenant}/branches`.
pub(crate) async fn branches(State(state): State<AppState>, staff: Staff, AskLang(lang): AskLang) -> Response {
    if let Err(err) = staff.require(Function::View) {
        return err.in_lang(lang).into_response();
    }
    let done = run(&state, &staff, |c, _| {
        let branches: Vec<BranchJson> = c.branches()?.into_iter().map(BranchJson::of).collect();
        Ok((serde_json::json!({ "branches": branches }), None))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

/// `PUT …/branches/{code}`.
#[derive(Debug, Deserialize)]
pub(crate) struct BranchBody {
    name_ja: String,
    #[serde(default)]
    name_en: String,
}

/// `PUT /api/v1/{tenant}/branches/{code}` with `{"name_ja","name_en"}`: creates or renames
/// the branch.
pub(crate) async fn put_branch(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    code: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<BranchBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::StaffAdmin) {
        return err.in_lang(lang).into_response();
    }
    let (_, code) = unwrap_or_answer!(path(code, lang));
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, _| {
        let branch = c.put_branch(&Branch { code, name_ja: b.name_ja, name_en: b.name_en })?;
        let audit = Audit {
            action: "branch.put",
            target: format!("branch {}", branch.code),
            after: serde_json::json!({ "name_ja": branch.name_ja, "name_en": branch.name_en }),
        };
        Ok((BranchJson::of(branch), Some(audit)))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

/// `PUT …/branches/{code}/calendar`.
#[derive(Debug, Deserialize)]
pub(crate) struct CalendarBody {
    #[serde(default)]
    closed: Vec<Date>,
    #[serde(default)]
    open: Vec<Date>,
    #[serde(default)]
    note: String,
}

/// `PUT /api/v1/{tenant}/branches/{code}/calendar` with `{"closed":[dates],"open":[dates],
/// "note"}`: closes and reopens days; answers how many changed.
pub(crate) async fn put_calendar(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    code: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<CalendarBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::StaffAdmin) {
        return err.in_lang(lang).into_response();
    }
    let (_, code) = unwrap_or_answer!(path(code, lang));
    let b = unwrap_or_answer!(body(json, lang));
    if b.closed.len() + b.open.len() > 3_660 {
        return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "日付が多すぎます", "too many dates")
            .in_lang(lang)
            .into_response();
    }
    let done = run(&state, &staff, move |c, _| {
        let closed = c.set_closed_days(&code, &b.closed, &b.note)?;
        let opened = c.set_open_days(&code, &b.open)?;
        let audit = Audit {
            action: "calendar.set",
            target: format!("branch {code}"),
            after: serde_json::json!({ "closed": b.closed, "open": b.open }),
        };
        Ok((serde_json::json!({ "branch": code, "closed": closed, "opened": opened }), Some(audit)))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

/// A loan rule as sent: every number defaults to the default rule's.
#[derive(Debug, Deserialize)]
pub(crate) struct PolicyBody {
    #[serde(default)]
    category: Option<PatronCategory>,
    #[serde(default)]
    item_type: Option<String>,
    #[serde(default)]
    loan_days: Option<u32>,
    #[serde(default)]
    max_loans: Option<u32>,
    #[serde(default)]
    max_renewals: Option<u32>,
    #[serde(default)]
    max_holds: Option<u32>,
    #[serde(default)]
    hold_pickup_days: Option<u32>,
    #[serde(default)]
    suspend_while_overdue: Option<bool>,
}

/// `GET /api/v1/{tenant}/policies`: the stored loan rules.
pub(crate) async fn policies(State(state): State<AppState>, staff: Staff, AskLang(lang): AskLang) -> Response {
    if let Err(err) = staff.require(Function::View) {
        return err.in_lang(lang).into_response();
    }
    let done = run(&state, &staff, |c, _| Ok((serde_json::json!({ "policies": c.policies()? }), None))).await;
    answer(StatusCode::OK, done, lang)
}

/// `PUT /api/v1/{tenant}/policies` with a rule: stores it over the rule of the same
/// category and item type (`null` for any).
pub(crate) async fn put_policy(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<PolicyBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::StaffAdmin) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, _| {
        let base = LoanPolicy::new(b.category, b.item_type.as_deref().filter(|t| !t.trim().is_empty()));
        let policy = LoanPolicy {
            loan_days: b.loan_days.unwrap_or(base.loan_days),
            max_loans: b.max_loans.unwrap_or(base.max_loans),
            max_renewals: b.max_renewals.unwrap_or(base.max_renewals),
            max_holds: b.max_holds.unwrap_or(base.max_holds),
            hold_pickup_days: b.hold_pickup_days.unwrap_or(base.hold_pickup_days),
            suspend_while_overdue: b.suspend_while_overdue.unwrap_or(base.suspend_while_overdue),
            ..base
        };
        let stored = c.put_policy(&policy)?;
        let audit = Audit {
            action: "policy.put",
            target: format!(
                "policy {}/{}",
                stored.category.map_or("*", PatronCategory::as_str),
                stored.item_type.as_deref().unwrap_or("*")
            ),
            after: serde_json::to_value(&stored).unwrap_or_default(),
        };
        Ok((stored, Some(audit)))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}

/// An item's fields, to create or replace.
#[derive(Debug, Deserialize)]
pub(crate) struct ItemBody {
    bib_id: u64,
    /// Required to create; to replace, a new barcode, else kept.
    #[serde(default)]
    barcode: Option<String>,
    branch: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    call_number: String,
    #[serde(default)]
    item_type: Option<String>,
    #[serde(default)]
    status: Option<ItemStatus>,
}

#[derive(Debug, Serialize)]
struct ItemJson {
    id: u64,
    bib_id: u64,
    barcode: String,
    branch: String,
    location: String,
    call_number: String,
    item_type: String,
    status: &'static str,
}

impl ItemJson {
    fn of(item: catalogue::Item) -> ItemJson {
        ItemJson {
            id: item.id,
            bib_id: item.bib_id,
            status: item.status.as_str(),
            barcode: item.barcode,
            branch: item.branch,
            location: item.location,
            call_number: item.call_number,
            item_type: item.item_type,
        }
    }
}

/// `POST /api/v1/{tenant}/items`: adds a copy of a record; 201; 409 when the barcode is
/// in use. The index learns of it from the change feed.
pub(crate) async fn create_item(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    json: Result<Json<ItemBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::CatalogueEdit) {
        return err.in_lang(lang).into_response();
    }
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, _| {
        if c.get(b.bib_id)?.is_none() {
            return Err(catalogue::Error::UnknownBib(b.bib_id));
        }
        let mut new = NewItem::new(b.bib_id, b.barcode.as_deref().unwrap_or(""), &b.branch);
        new.location = b.location;
        new.call_number = b.call_number;
        if let Some(item_type) = b.item_type.filter(|t| !t.trim().is_empty()) {
            new.item_type = item_type;
        }
        if let Some(status) = b.status {
            new.status = status;
        }
        let item = c.add_item(&new)?;
        let audit = Audit {
            action: "item.create",
            target: format!("item {}", item.barcode),
            after: serde_json::json!({ "bib_id": item.bib_id, "branch": item.branch, "status": item.status.as_str() }),
        };
        Ok((ItemJson::of(item), Some(audit)))
    })
    .await;
    answer(StatusCode::CREATED, done, lang)
}

/// `PUT /api/v1/{tenant}/items/{barcode}`: replaces a copy's fields (a `barcode` in the
/// body gives it a new one); `on_loan` is checkout's alone.
pub(crate) async fn update_item(
    State(state): State<AppState>,
    staff: Staff,
    AskLang(lang): AskLang,
    barcode: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<ItemBody>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::CatalogueEdit) {
        return err.in_lang(lang).into_response();
    }
    let (_, barcode) = unwrap_or_answer!(path(barcode, lang));
    let b = unwrap_or_answer!(body(json, lang));
    let done = run(&state, &staff, move |c, _| {
        let old = c.item_by_barcode(&barcode)?.ok_or_else(|| catalogue::Error::UnknownItem(clip(&barcode)))?;
        let item = catalogue::Item {
            id: old.id,
            bib_id: b.bib_id,
            barcode: b.barcode.filter(|b| !b.trim().is_empty()).unwrap_or_else(|| old.barcode.clone()),
            branch: b.branch,
            location: b.location,
            call_number: b.call_number,
            item_type: b.item_type.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| old.item_type.clone()),
            status: b.status.unwrap_or(old.status),
        };
        let item = c.update_item(&item)?;
        let audit = Audit {
            action: "item.update",
            target: format!("item {}", old.barcode),
            after: serde_json::json!({ "barcode": item.barcode, "branch": item.branch, "status": item.status.as_str() }),
        };
        Ok((ItemJson::of(item), Some(audit)))
    })
    .await;
    answer(StatusCode::OK, done, lang)
}
