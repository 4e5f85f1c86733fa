//! The patrons' own pages (マイページ) under `/{tenant}/my/`: log in with the card number
//! and password, see loans with their due dates, renew, see and cancel holds, place a
//! hold from a record's 予約する button.
//!
//! Plain HTML forms, no script needed. The session is a patron session of the library's
//! catalogue (`catalogue::PatronSession`), in its own cookie (`shiori-patron`, `HttpOnly`,
//! `SameSite=Strict`, `__Host-` and `Secure` under TLS): a staff lookup never finds it, so
//! it never passes the staff guard. Every form carries the session's CSRF token (the login
//! form a double-submit cookie, the code form its challenge's token); logins are limited
//! per client address and locked out per card number after repeated failures
//! (`catalogue`). A patron acts only on their own loans and holds: anything else is "not
//! found".
//!
//! A patron with two-step verification on logs in twice over: the password starts a
//! challenge (`catalogue::PatronChallenge`, five minutes, in the `shiori-patron-code`
//! cookie), and the code form completes it. Wrong codes count towards the card's lockout.
//!
//! Every route is an entry of [`PATRON_ROUTES`], from which the router is built, and the
//! integration tests walk the same list: each route's handler scopes it to the URL's
//! library (404 for an unknown one), and a [`PatronAccess::Session`] route answers a
//! request without a live session of that library with the login form's redirect and a
//! form without the session's CSRF token with 403.
//!
//! Routes:
//! - `GET /{tenant}/my/` loans and holds (the login form's redirect when logged out);
//! - `GET|POST /{tenant}/my/login`, `GET|POST /{tenant}/my/login/code` (the second step),
//!   `POST /{tenant}/my/logout`;
//! - `POST /{tenant}/my/renew` (`item`), `POST /{tenant}/my/holds/{id}/cancel`;
//! - `GET /{tenant}/my/hold?bib=` choose the pickup branch, `POST /{tenant}/my/hold`;
//! - `GET /{tenant}/my/settings` the password change and two-step verification,
//!   `POST /{tenant}/my/password`, `POST /{tenant}/my/totp/begin`, `GET /{tenant}/my/totp`
//!   (the QR code), `POST /{tenant}/my/totp/confirm` (the recovery codes, shown once),
//!   `POST /{tenant}/my/totp/disable`;
//! - `POST /{tenant}/records/{id}/hold` (the record page's button): to the hold form, or to
//!   the login first.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use catalogue::{
    PATRON_CHALLENGE_TIMEOUT, PatronChallenge, PatronCodeOutcome, PatronLoginOutcome, PatronSession, SessionToken,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::messages::{fill, text};
use super::render::{page, render};
use super::views::{Frame, LibraryRef};
use crate::api::{blocking, lang_param};
use crate::circulation::{HoldView, LoanView, circulation_error, jst_minute};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::server::{AppState, Library};
use crate::staff::circulation::{cancel_hold_now, place_hold_now, renew_now};
use crate::staff::cookies;
use crate::staff::login::ClientIp;

/// The login form's CSRF cookie lasts an hour.
const LOGIN_COOKIE_SECONDS: i64 = 60 * 60;

/// The patron session cookie's name.
pub(crate) fn session_cookie(tls: bool) -> &'static str {
    if tls { "__Host-shiori-patron" } else { "shiori-patron" }
}

fn login_cookie(tls: bool) -> &'static str {
    if tls { "__Host-shiori-patron-login" } else { "shiori-patron-login" }
}

/// The second step's cookie: the challenge started by a right password.
fn challenge_cookie(tls: bool) -> &'static str {
    if tls { "__Host-shiori-patron-code" } else { "shiori-patron-code" }
}

/// What a patron route asks of a request, besides a library that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatronAccess {
    /// Anyone: the way to the login and its two steps (each protected by its own CSRF
    /// token: the login form's cookie, the challenge's).
    Open,
    /// A live patron session of the URL's library (else the login form's redirect); a
    /// `POST` also the session's CSRF token (else 403).
    Session,
}

/// A route of the patrons' pages.
#[derive(Debug)]
pub struct PatronRoute {
    /// The method.
    pub method: Method,
    /// The route template; `{tenant}` is the library.
    pub path: &'static str,
    /// What the request needs.
    pub access: PatronAccess,
    handler: fn() -> MethodRouter<AppState>,
}

impl PatronRoute {
    const fn open(method: Method, path: &'static str, handler: fn() -> MethodRouter<AppState>) -> Self {
        Self { method, path, access: PatronAccess::Open, handler }
    }

    const fn session(method: Method, path: &'static str, handler: fn() -> MethodRouter<AppState>) -> Self {
        Self { method, path, access: PatronAccess::Session, handler }
    }
}

/// Every route of the patrons' pages. The router is built from this list, and the tests
/// prove each [`PatronAccess::Session`] entry refuses an anonymous request, a session of
/// another library and a form without the CSRF token.
pub static PATRON_ROUTES: &[PatronRoute] = &[
    PatronRoute::open(Method::GET, "/{tenant}/my", || get(to_my)),
    PatronRoute::session(Method::GET, "/{tenant}/my/", || get(home)),
    PatronRoute::open(Method::GET, "/{tenant}/my/login", || get(login_form)),
    PatronRoute::open(Method::POST, "/{tenant}/my/login", || post(login)),
    PatronRoute::open(Method::GET, "/{tenant}/my/login/code", || get(code_form)),
    PatronRoute::open(Method::POST, "/{tenant}/my/login/code", || post(code)),
    PatronRoute::session(Method::POST, "/{tenant}/my/logout", || post(logout)),
    PatronRoute::session(Method::POST, "/{tenant}/my/renew", || post(renew)),
    PatronRoute::session(Method::POST, "/{tenant}/my/holds/{id}/cancel", || post(cancel)),
    PatronRoute::session(Method::GET, "/{tenant}/my/hold", || get(hold_form)),
    PatronRoute::session(Method::POST, "/{tenant}/my/hold", || post(place)),
    PatronRoute::session(Method::GET, "/{tenant}/my/settings", || get(settings)),
    PatronRoute::session(Method::POST, "/{tenant}/my/password", || post(change_password)),
    PatronRoute::session(Method::POST, "/{tenant}/my/totp/begin", || post(begin_totp)),
    PatronRoute::session(Method::GET, "/{tenant}/my/totp", || get(totp_setup)),
    PatronRoute::session(Method::POST, "/{tenant}/my/totp/confirm", || post(confirm_totp)),
    PatronRoute::session(Method::POST, "/{tenant}/my/totp/disable", || post(disable_totp)),
];

/// The patron pages' routes: exactly [`PATRON_ROUTES`].
pub(crate) fn routes() -> Router<AppState> {
    PATRON_ROUTES.iter().fold(Router::new(), |router, route| router.route(route.path, (route.handler)()))
}

/// What a page needs about its request.
struct Ctx {
    lang: Lang,
    path: String,
    raw: Option<String>,
}

impl Ctx {
    fn new(uri: &Uri, headers: &HeaderMap) -> Ctx {
        let raw = uri.query().map(str::to_owned);
        let param = raw.as_deref().and_then(lang_param);
        Ctx { lang: Lang::negotiate(param.as_deref(), headers), path: uri.path().to_owned(), raw }
    }

    fn t(&self, key: &'static str) -> &'static str {
        text(self.lang, key)
    }

    fn frame(&self, title: &str, library: &Library) -> Frame {
        Frame::new(self.lang, title.to_owned(), &self.path, self.raw.as_deref(), Some(LibraryRef::of(library)), None)
    }

    /// A page that is never cached (it holds a token or a patron's loans).
    fn page<S: Serialize>(&self, status: StatusCode, template: &str, context: &S) -> Response {
        let mut response = match render(template, context) {
            Ok(html) => page(status, html, None),
            Err(err) => self.error(None, err),
        };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    fn error(&self, library: Option<&Library>, err: ApiError) -> Response {
        #[derive(Serialize)]
        struct ErrorPage {
            #[serde(flatten)]
            frame: Frame,
            heading: &'static str,
            message: String,
        }
        let err = err.in_lang(self.lang);
        let heading = match err.status {
            StatusCode::NOT_FOUND => self.t("error_title_404"),
            status if status.is_client_error() => self.t("error_title_400"),
            _ => self.t("error_title_500"),
        };
        let frame = Frame::new(
            self.lang,
            heading.to_owned(),
            &self.path,
            self.raw.as_deref(),
            library.map(LibraryRef::of),
            None,
        );
        let context = ErrorPage { frame, heading, message: err.message().to_owned() };
        let mut response = match render("error.html", &context) {
            Ok(html) => page(err.status, html, None),
            Err(_) => super::render::bare_error(err.status),
        };
        for (name, value) in err.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn library_of(state: &AppState, path: Result<Path<String>, PathRejection>) -> Result<Arc<Library>, ApiError> {
    path.map_err(|_| ApiError::unknown_tenant("?")).and_then(|Path(tenant)| state.library(&tenant))
}

fn my_url(library: &Library) -> String {
    format!("/{}/my/", library.tenant.code)
}

fn login_url(library: &Library, bib: Option<u64>) -> String {
    match bib {
        Some(bib) => format!("/{}/my/login?bib={bib}", library.tenant.code),
        None => format!("/{}/my/login", library.tenant.code),
    }
}

fn settings_url(library: &Library) -> String {
    format!("/{}/my/settings", library.tenant.code)
}

/// Where a login ends: the hold form of the record the patron came from, or their page.
fn after_login_url(library: &Library, bib: Option<u64>) -> String {
    match bib {
        Some(bib) => format!("/{}/my/hold?bib={bib}", library.tenant.code),
        None => my_url(library),
    }
}

/// The live patron session the request carries, if any.
async fn session(
    state: &AppState,
    library: &Arc<Library>,
    headers: &HeaderMap,
) -> Result<Option<(SessionToken, PatronSession)>, ApiError> {
    let Some(token) = cookies::read(headers, session_cookie(state.tls())).and_then(|v| v.parse::<SessionToken>().ok())
    else {
        return Ok(None);
    };
    let catalogue = library.catalogue.clone();
    let now = state.clock().now();
    let lookup = token.clone();
    let found = blocking(move || Ok(catalogue.patron_session(&lookup, now)?)).await?;
    Ok(found.map(|session| (token, session)))
}

/// 64 random hex digits.
fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| ApiError::internal(&err))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BibQuery {
    bib: Option<u64>,
    done: String,
    /// `1`: the login form is shown again because the second step's time ran out.
    expired: String,
}

fn bib_query(raw: Option<&str>) -> BibQuery {
    raw.and_then(|r| serde_urlencoded::from_str(r).ok()).unwrap_or_default()
}

/// What the login form is shown with: the card number typed, the record to hold after
/// login, and why it is shown again.
struct Typed<'a> {
    card: &'a str,
    bib: Option<u64>,
    message: Option<String>,
}

/// The login form at `status`, with its CSRF cookie.
fn login_page(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    library: &Library,
    status: StatusCode,
    typed: Typed<'_>,
) -> Response {
    #[derive(Serialize)]
    struct LoginPage {
        #[serde(flatten)]
        frame: Frame,
        action: String,
        csrf: String,
        card: String,
        bib: Option<u64>,
        message: Option<String>,
    }
    let tls = state.tls();
    let csrf = match cookies::read(headers, login_cookie(tls)).filter(|v| is_token(v)) {
        Some(existing) => existing.to_owned(),
        None => match random_token() {
            Ok(token) => token,
            Err(err) => return ctx.error(Some(library), err),
        },
    };
    let context = LoginPage {
        frame: ctx.frame(ctx.t("my_login_title"), library),
        action: format!("/{}/my/login", library.tenant.code),
        csrf: csrf.clone(),
        card: typed.card.chars().take(64).collect(),
        bib: typed.bib,
        message: typed.message,
    };
    let mut response = ctx.page(status, "my_login.html", &context);
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::set(login_cookie(tls), &csrf, tls, Some(LOGIN_COOKIE_SECONDS)));
    response
}

/// `GET /{tenant}/my`: to `/{tenant}/my/`.
async fn to_my(State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    match library_of(&state, path) {
        Ok(library) => see_other(&my_url(&library)),
        Err(err) => err.into_response(),
    }
}

/// `GET /{tenant}/my/login`.
async fn login_form(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    match library_of(&state, path) {
        Ok(library) => {
            let query = bib_query(raw.as_deref());
            let message = (query.expired == "1").then(|| ctx.t("my_code_expired").to_owned());
            let typed = Typed { card: "", bib: query.bib, message };
            login_page(&state, &ctx, &headers, &library, StatusCode::OK, typed)
        }
        Err(err) => ctx.error(None, err),
    }
}

/// The login form's fields. No `Debug`: it holds a password.
#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    card: String,
    password: String,
    csrf: String,
    bib: Option<u64>,
}

/// `POST /{tenant}/my/login`: the card number and password; a new patron session, then
/// the patron's page (or the hold form of the record they came from).
async fn login(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    let tls = state.tls();
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let expected = cookies::read(&headers, login_cookie(tls)).filter(|v| is_token(v)).unwrap_or("");
    let csrf_ok = !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(form.csrf.trim().as_bytes()));
    let again = |status, message: String| {
        let typed = Typed { card: &form.card, bib: form.bib, message: Some(message) };
        login_page(&state, &ctx, &headers, &library, status, typed)
    };
    if !csrf_ok {
        return again(StatusCode::FORBIDDEN, ctx.t("staff_csrf_message").to_owned());
    }
    let now = state.clock().now();
    if let Err(retry_after) = state.login_limiter().take(client, now) {
        let mut response =
            again(StatusCode::TOO_MANY_REQUESTS, fill(ctx.t("staff_rate_limited"), &[retry_after.to_string()]));
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return response;
    }
    let previous = cookies::read(&headers, session_cookie(tls)).and_then(|v| v.parse::<SessionToken>().ok());
    let catalogue = library.catalogue.clone();
    let (card, password) = (form.card.clone(), form.password.clone());
    let outcome = match blocking(move || Ok(catalogue.patron_login(&card, &password, previous.as_ref(), now)?)).await {
        Ok(outcome) => outcome,
        Err(err) => return ctx.error(Some(&library), err),
    };
    match outcome {
        PatronLoginOutcome::LoggedIn { token, .. } => {
            state.login_limiter().give_back(client);
            let mut response = see_other(&after_login_url(&library, form.bib));
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, cookies::set(session_cookie(tls), &token.expose(), tls, None));
            headers.append(header::SET_COOKIE, cookies::clear(login_cookie(tls), tls));
            response
        }
        PatronLoginOutcome::NeedSecondFactor { token, .. } => {
            // The attempt is given back to the limiter only when the code is right too.
            let target = match form.bib {
                Some(bib) => format!("/{}/my/login/code?bib={bib}", library.tenant.code),
                None => format!("/{}/my/login/code", library.tenant.code),
            };
            let mut response = see_other(&target);
            let seconds = PATRON_CHALLENGE_TIMEOUT.as_secs();
            let cookie = cookies::set(challenge_cookie(tls), &token.expose(), tls, Some(seconds));
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        PatronLoginOutcome::Locked { until } => {
            let retry_after = until.duration_since(now).as_secs_f64().ceil().max(1.0) as u64;
            let mut response =
                again(StatusCode::TOO_MANY_REQUESTS, fill(ctx.t("my_login_locked"), &[jst_minute(until)]));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        _ => again(StatusCode::UNAUTHORIZED, ctx.t("my_login_wrong").to_owned()),
    }
}

/// A loan as the patron's page shows it.
#[derive(Serialize)]
struct MyLoan {
    #[serde(flatten)]
    loan: LoanView,
    url: String,
    due_text: String,
    /// Why 延長 would be refused now (then no button is offered), in the page's language.
    renew_refused: Option<String>,
}

/// A hold as the patron's page shows it.
#[derive(Serialize)]
struct MyHold {
    title: String,
    url: String,
    state_text: String,
    pickup: String,
    cancel_action: String,
}

#[derive(Serialize)]
struct MyPage {
    #[serde(flatten)]
    frame: Frame,
    name: String,
    card: String,
    csrf: String,
    loans: Vec<MyLoan>,
    holds: Vec<MyHold>,
    renew_action: String,
    logout_action: String,
    settings_url: String,
    notice: Option<String>,
    message: Option<String>,
}

/// The patron's page, at `status`, with a notice or an error message.
async fn my_page(
    state: &AppState,
    ctx: &Ctx,
    library: &Arc<Library>,
    session: &PatronSession,
    status: StatusCode,
    notice: Option<String>,
    message: Option<String>,
) -> Response {
    let catalogue = library.catalogue.clone();
    let patron = session.patron.clone();
    let now = state.clock().now();
    let lang = ctx.lang;
    let lists = blocking(move || {
        let (loans, holds) = crate::circulation::loans_and_holds(&catalogue, &patron, now)?;
        let names: Vec<(String, String, String)> =
            catalogue.branches()?.into_iter().map(|b| (b.code, b.name_ja, b.name_en)).collect();
        let refusals: Vec<(String, String)> = catalogue
            .renewal_refusals(patron.id, now)?
            .into_iter()
            .filter_map(|(barcode, refusal)| {
                let refusal = crate::circulation::circulation_error(refusal?).in_lang(lang);
                Some((barcode, refusal.message().to_owned()))
            })
            .collect();
        Ok((loans, holds, names, refusals))
    })
    .await;
    let (loans, holds, names, refusals) = match lists {
        Ok(lists) => lists,
        Err(err) => return ctx.error(Some(library), err),
    };
    let code = library.tenant.code.to_string();
    let branch_name = |code: &str| {
        names
            .iter()
            .find(|(c, _, _)| c == code)
            .map(|(_, ja, en)| if lang == Lang::En && !en.is_empty() { en.clone() } else { ja.clone() })
            .unwrap_or_else(|| code.to_owned())
    };
    let context = MyPage {
        frame: ctx.frame(ctx.t("my_title"), library),
        name: session.patron.name.clone(),
        card: session.patron.card.clone(),
        csrf: session.csrf_token().expose().to_owned(),
        loans: loans
            .into_iter()
            .map(|loan| MyLoan {
                url: format!("/{code}/records/{}", loan.bib_id),
                due_text: fill(ctx.t("my_due_jst"), &[loan.due.to_string()]),
                renew_refused: refusals.iter().find(|(b, _)| *b == loan.item_barcode).map(|(_, m)| m.clone()),
                loan,
            })
            .collect(),
        holds: holds
            .into_iter()
            .map(|h: HoldView| MyHold {
                url: format!("/{code}/records/{}", h.bib_id),
                state_text: hold_state_text(ctx, &h),
                pickup: branch_name(&h.pickup_branch),
                cancel_action: format!("/{code}/my/holds/{}/cancel", h.id),
                title: h.title,
            })
            .collect(),
        renew_action: format!("/{code}/my/renew"),
        logout_action: format!("/{code}/my/logout"),
        settings_url: settings_url(library),
        notice,
        message,
    };
    ctx.page(status, "my_home.html", &context)
}

fn hold_state_text(ctx: &Ctx, hold: &HoldView) -> String {
    match hold.state {
        "ready" => fill(ctx.t("my_hold_ready"), &[hold.ready_until.map(|d| d.to_string()).unwrap_or_default()]),
        "waiting" => {
            let mut text = ctx.t("hold_state_waiting").to_owned();
            if let Some(position) = hold.position {
                text.push_str(&format!(" ({})", fill(ctx.t("my_position"), &[position.to_string()])));
            }
            text
        }
        "in_transit" => ctx.t("hold_state_in_transit").to_owned(),
        other => other.to_owned(),
    }
}

/// `GET /{tenant}/my/`: the patron's loans and holds, or the login form.
async fn home(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    match session(&state, &library, &headers).await {
        Ok(Some((_, session))) => {
            let notice = match bib_query(raw.as_deref()).done.as_str() {
                "renewed" => Some(ctx.t("my_done_renewed").to_owned()),
                "cancelled" => Some(ctx.t("my_done_cancelled").to_owned()),
                "held" => Some(ctx.t("my_done_held").to_owned()),
                _ => None,
            };
            my_page(&state, &ctx, &library, &session, StatusCode::OK, notice, None).await
        }
        Ok(None) => see_other(&login_url(&library, None)),
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// A form POST of the patron's pages, checked before the handler runs: the URL's library
/// (404), a live patron session (else the login form) and its CSRF token (403).
struct PatronForm {
    ctx: Ctx,
    library: Arc<Library>,
    token: SessionToken,
    session: PatronSession,
    /// The URL-encoded form.
    body: Bytes,
}

impl FromRequest<AppState> for PatronForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<PatronForm, Response> {
        let (mut parts, body) = request.into_parts();
        let ctx = Ctx::new(&parts.uri, &parts.headers);
        let tenant = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .ok()
            .and_then(|params| params.iter().find(|(key, _)| *key == "tenant").map(|(_, value)| value.to_owned()));
        let library = tenant
            .ok_or_else(|| ApiError::unknown_tenant("?"))
            .and_then(|tenant| state.library(&tenant))
            .map_err(|err| ctx.error(None, err))?;
        let headers = parts.headers.clone();
        let body =
            Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(IntoResponse::into_response)?;
        let (token, session) = checked_form(state, &ctx, &library, &headers, &body).await?;
        Ok(PatronForm { ctx, library, token, session, body })
    }
}

/// A form of the patron's pages, checked: the library, a live session, its CSRF token.
/// `Err` is the answer to give instead (the login form, or a refusal).
async fn checked_form(
    state: &AppState,
    ctx: &Ctx,
    library: &Arc<Library>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(SessionToken, PatronSession), Response> {
    let Some((token, session)) = session(state, library, headers).await.map_err(|err| ctx.error(Some(library), err))?
    else {
        return Err(see_other(&login_url(library, None)));
    };
    let given = crate::staff::guard_form_field(body, "csrf").unwrap_or_default();
    if !session.check_csrf(&given) {
        let err = ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            text(Lang::Ja, "staff_csrf_message"),
            text(Lang::En, "staff_csrf_message"),
        );
        return Err(ctx.error(Some(library), err));
    }
    Ok((token, session))
}

/// `POST /{tenant}/my/logout`.
async fn logout(State(state): State<AppState>, PatronForm { ctx, library, token, .. }: PatronForm) -> Response {
    let catalogue = library.catalogue.clone();
    if let Err(err) = blocking(move || Ok(catalogue.patron_logout(&token)?)).await {
        return ctx.error(Some(&library), err);
    }
    let tls = state.tls();
    let mut response = see_other(&format!("/{}/", library.tenant.code));
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(session_cookie(tls), tls));
    response
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RenewForm {
    item: String,
}

/// `POST /{tenant}/my/renew` (`item`: the barcode of one of the patron's loans).
async fn renew(State(state): State<AppState>, PatronForm { ctx, library, session, body, .. }: PatronForm) -> Response {
    let form: RenewForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let catalogue = library.catalogue.clone();
    let patron_id = session.patron.id;
    let now = state.clock().now();
    let done = blocking(move || {
        let item = catalogue.item_by_barcode(&form.item)?;
        let mine = match &item {
            Some(item) => catalogue.loan_of_item(item.id)?.is_some_and(|loan| loan.patron_id == patron_id),
            None => false,
        };
        if !mine {
            return Err(circulation_error(catalogue::Error::NotOnLoan(form.item.chars().take(64).collect())));
        }
        renew_now(&catalogue, &form.item, now).map(|(loan, _)| loan).map_err(circulation_error)
    })
    .await;
    match done {
        Ok(_) => see_other(&format!("{}?done=renewed", my_url(&library))),
        Err(err) => {
            let status = err.status;
            let message = err.in_lang(ctx.lang).message().to_owned();
            my_page(&state, &ctx, &library, &session, status, None, Some(message)).await
        }
    }
}

/// `POST /{tenant}/my/holds/{id}/cancel`: one of the patron's holds.
async fn cancel(
    State(state): State<AppState>,
    path: Result<Path<(String, u64)>, PathRejection>,
    PatronForm { ctx, library, session, .. }: PatronForm,
) -> Response {
    let Ok(Path((_, id))) = path else {
        return ctx.error(
            Some(&library),
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "ページが見つかりません", "no such page"),
        );
    };
    let catalogue = library.catalogue.clone();
    let patron_id = session.patron.id;
    let now = state.clock().now();
    let done = blocking(move || {
        if catalogue.hold(id)?.is_none_or(|hold| hold.patron_id != patron_id) {
            return Err(circulation_error(catalogue::Error::UnknownHold(id)));
        }
        cancel_hold_now(&catalogue, id, now).map(|_| ()).map_err(circulation_error)
    })
    .await;
    match done {
        Ok(()) => see_other(&format!("{}?done=cancelled", my_url(&library))),
        Err(err) => {
            let status = err.status;
            let message = err.in_lang(ctx.lang).message().to_owned();
            my_page(&state, &ctx, &library, &session, status, None, Some(message)).await
        }
    }
}

#[derive(Serialize)]
struct BranchChoice {
    value: String,
    label: String,
    selected: bool,
}

/// The hold form of a record: its title and the pickup branches.
async fn hold_page(
    ctx: &Ctx,
    library: &Arc<Library>,
    session: &PatronSession,
    bib: u64,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    #[derive(Serialize)]
    struct HoldPage {
        #[serde(flatten)]
        frame: Frame,
        action: String,
        csrf: String,
        bib: u64,
        title: String,
        branches: Vec<BranchChoice>,
        record_url: String,
        my_url: String,
        message: Option<String>,
    }
    let catalogue = library.catalogue.clone();
    let home = session.patron.home_branch.clone();
    let lang = ctx.lang;
    let found = blocking(move || {
        if catalogue.get(bib)?.is_none() {
            return Err(ApiError::no_record(&bib.to_string()));
        }
        let title = crate::circulation::title_of(&catalogue, bib);
        let branches = catalogue
            .branches()?
            .into_iter()
            .map(|b| BranchChoice {
                selected: b.code == home,
                label: if lang == Lang::En && !b.name_en.is_empty() { b.name_en } else { b.name_ja },
                value: b.code,
            })
            .collect();
        Ok((title, branches))
    })
    .await;
    let (title, branches) = match found {
        Ok(found) => found,
        Err(err) => return ctx.error(Some(library), err),
    };
    let code = &library.tenant.code;
    let context = HoldPage {
        frame: ctx.frame(ctx.t("my_hold_title"), library),
        action: format!("/{code}/my/hold"),
        csrf: session.csrf_token().expose().to_owned(),
        bib,
        title,
        branches,
        record_url: format!("/{code}/records/{bib}"),
        my_url: my_url(library),
        message,
    };
    ctx.page(status, "my_hold.html", &context)
}

/// `GET /{tenant}/my/hold?bib=`: choose where to pick the record up.
async fn hold_form(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    let bib = bib_query(raw.as_deref()).bib;
    match session(&state, &library, &headers).await {
        Ok(Some((_, session))) => match bib {
            Some(bib) => hold_page(&ctx, &library, &session, bib, StatusCode::OK, None).await,
            None => ctx.error(Some(&library), ApiError::no_record("?")),
        },
        Ok(None) => see_other(&login_url(&library, bib)),
        Err(err) => ctx.error(Some(&library), err),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HoldForm {
    bib: u64,
    pickup: String,
}

/// `POST /{tenant}/my/hold` (`bib`, `pickup`): places the hold for the logged-in patron.
async fn place(State(state): State<AppState>, PatronForm { ctx, library, session, body, .. }: PatronForm) -> Response {
    let form: HoldForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let catalogue = library.catalogue.clone();
    let card = session.patron.card.clone();
    let now = state.clock().now();
    let (bib, pickup) = (form.bib, form.pickup.clone());
    let done =
        blocking(move || place_hold_now(&catalogue, bib, &card, &pickup, now).map(|_| ()).map_err(circulation_error))
            .await;
    match done {
        Ok(()) => see_other(&format!("{}?done=held", my_url(&library))),
        Err(err) => {
            let status = err.status;
            let message = err.in_lang(ctx.lang).message().to_owned();
            hold_page(&ctx, &library, &session, form.bib, status, Some(message)).await
        }
    }
}

/// `POST /{tenant}/records/{id}/hold`, the record page's 予約する button: the hold form
/// (a page with the session's CSRF token: the record page, which anyone may cache, has
/// none), or the login form first.
pub(crate) async fn record_hold(state: &AppState, library: &Arc<Library>, headers: &HeaderMap, bib: u64) -> Response {
    match session(state, library, headers).await {
        Ok(Some(_)) => see_other(&format!("/{}/my/hold?bib={bib}", library.tenant.code)),
        Ok(None) => see_other(&login_url(library, Some(bib))),
        Err(err) => err.into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// The second step of a login: the code.

/// The live challenge the request's cookie names, if any.
async fn challenge(
    state: &AppState,
    library: &Arc<Library>,
    headers: &HeaderMap,
) -> Result<Option<(SessionToken, PatronChallenge)>, ApiError> {
    let Some(token) =
        cookies::read(headers, challenge_cookie(state.tls())).and_then(|v| v.parse::<SessionToken>().ok())
    else {
        return Ok(None);
    };
    let catalogue = library.catalogue.clone();
    let now = state.clock().now();
    let lookup = token.clone();
    let found = blocking(move || Ok(catalogue.patron_challenge(&lookup, now)?)).await?;
    Ok(found.map(|challenge| (token, challenge)))
}

/// Back to the login form, which says the time for the code ran out; the challenge's
/// cookie goes.
fn restart_login(state: &AppState, library: &Library, bib: Option<u64>) -> Response {
    let code = &library.tenant.code;
    let target = match bib {
        Some(bib) => format!("/{code}/my/login?expired=1&bib={bib}"),
        None => format!("/{code}/my/login?expired=1"),
    };
    let mut response = see_other(&target);
    let tls = state.tls();
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(challenge_cookie(tls), tls));
    response
}

/// The code form at `status`.
fn code_page(
    ctx: &Ctx,
    library: &Library,
    challenge: &PatronChallenge,
    bib: Option<u64>,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    #[derive(Serialize)]
    struct CodePage {
        #[serde(flatten)]
        frame: Frame,
        action: String,
        csrf: String,
        bib: Option<u64>,
        login_url: String,
        message: Option<String>,
    }
    let context = CodePage {
        frame: ctx.frame(ctx.t("my_code_title"), library),
        action: format!("/{}/my/login/code", library.tenant.code),
        csrf: challenge.csrf_token().expose().to_owned(),
        bib,
        login_url: login_url(library, bib),
        message,
    };
    ctx.page(status, "my_code.html", &context)
}

/// Seconds until `until`, at least one: a `Retry-After`.
fn seconds_until(until: Timestamp, now: Timestamp) -> u64 {
    until.duration_since(now).as_secs_f64().ceil().max(1.0) as u64
}

fn with_retry_after(mut response: Response, retry_after: Option<u64>) -> Response {
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `GET /{tenant}/my/login/code`: the code form, for the browser holding a live challenge
/// (else back to the login).
async fn code_form(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    let bib = bib_query(raw.as_deref()).bib;
    match challenge(&state, &library, &headers).await {
        Ok(Some((_, challenge))) => code_page(&ctx, &library, &challenge, bib, StatusCode::OK, None),
        Ok(None) => restart_login(&state, &library, bib),
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// The code form's fields. No `Debug`: it holds a code.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CodeForm {
    code: String,
    csrf: String,
    bib: Option<u64>,
}

/// `POST /{tenant}/my/login/code`: a TOTP or recovery code for the browser's challenge; a
/// new patron session, then the patron's page (or the hold form of the record they came
/// from; the settings page after a recovery code, which shows how many are left).
async fn code(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    let tls = state.tls();
    let form: CodeForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (token, challenge) = match challenge(&state, &library, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return restart_login(&state, &library, form.bib),
        Err(err) => return ctx.error(Some(&library), err),
    };
    let again = |status, message: String| code_page(&ctx, &library, &challenge, form.bib, status, Some(message));
    if !challenge.check_csrf(&form.csrf) {
        return again(StatusCode::FORBIDDEN, ctx.t("staff_csrf_message").to_owned());
    }
    let now = state.clock().now();
    if let Err(retry_after) = state.login_limiter().take(client, now) {
        let response =
            again(StatusCode::TOO_MANY_REQUESTS, fill(ctx.t("staff_rate_limited"), &[retry_after.to_string()]));
        return with_retry_after(response, Some(retry_after));
    }
    let previous = cookies::read(&headers, session_cookie(tls)).and_then(|v| v.parse::<SessionToken>().ok());
    let catalogue = library.catalogue.clone();
    let typed = form.code.clone();
    let outcome = match blocking(move || Ok(catalogue.patron_login_code(&token, &typed, previous.as_ref(), now)?)).await
    {
        Ok(outcome) => outcome,
        Err(err) => return ctx.error(Some(&library), err),
    };
    match outcome {
        PatronCodeOutcome::LoggedIn { token, used_recovery_code, .. } => {
            state.login_limiter().give_back(client);
            let target = if used_recovery_code {
                format!("{}?done=recovery", settings_url(&library))
            } else {
                after_login_url(&library, form.bib)
            };
            let mut response = see_other(&target);
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, cookies::set(session_cookie(tls), &token.expose(), tls, None));
            headers.append(header::SET_COOKIE, cookies::clear(challenge_cookie(tls), tls));
            headers.append(header::SET_COOKIE, cookies::clear(login_cookie(tls), tls));
            response
        }
        PatronCodeOutcome::WrongCode => again(StatusCode::UNAUTHORIZED, ctx.t("my_code_wrong").to_owned()),
        PatronCodeOutcome::Locked { until } => {
            // The challenge ended with the lock: the login starts again, after the lock.
            let message = fill(ctx.t("my_login_locked"), &[jst_minute(until)]);
            let typed = Typed { card: "", bib: form.bib, message: Some(message) };
            let response = login_page(&state, &ctx, &headers, &library, StatusCode::TOO_MANY_REQUESTS, typed);
            let mut response = with_retry_after(response, Some(seconds_until(until, now)));
            response.headers_mut().append(header::SET_COOKIE, cookies::clear(challenge_cookie(tls), tls));
            response
        }
        // Expired, and any outcome a newer catalogue may add: log in again.
        _ => restart_login(&state, &library, form.bib),
    }
}

// ---------------------------------------------------------------------------------------
// Settings: the password change and two-step verification.

/// The settings page's notice, and the message of the form that was refused.
#[derive(Default)]
struct SettingsMessages {
    notice: Option<String>,
    password: Option<String>,
    totp: Option<String>,
}

/// The settings page at `status`.
async fn settings_page(
    ctx: &Ctx,
    library: &Arc<Library>,
    session: &PatronSession,
    status: StatusCode,
    messages: SettingsMessages,
) -> Response {
    #[derive(Serialize)]
    struct SettingsPage {
        #[serde(flatten)]
        frame: Frame,
        name: String,
        card: String,
        csrf: String,
        notice: Option<String>,
        password_message: Option<String>,
        totp_message: Option<String>,
        /// "On since …", when it is on.
        totp_on: Option<String>,
        codes_left: usize,
        pending: bool,
        password_action: String,
        begin_action: String,
        disable_action: String,
        setup_url: String,
        my_url: String,
    }
    let catalogue = library.catalogue.clone();
    let id = session.patron.id;
    let totp = match blocking(move || Ok(catalogue.patron_totp_status(id)?)).await {
        Ok(totp) => totp,
        Err(err) => return ctx.error(Some(library), err),
    };
    let code = &library.tenant.code;
    let context = SettingsPage {
        frame: ctx.frame(ctx.t("my_settings_title"), library),
        name: session.patron.name.clone(),
        card: session.patron.card.clone(),
        csrf: session.csrf_token().expose().to_owned(),
        notice: messages.notice,
        password_message: messages.password,
        totp_message: messages.totp,
        totp_on: totp.enabled.then(|| fill(ctx.t("my_totp_on"), &[totp.since.map(jst_minute).unwrap_or_default()])),
        codes_left: totp.recovery_codes_left,
        pending: totp.pending,
        password_action: format!("/{code}/my/password"),
        begin_action: format!("/{code}/my/totp/begin"),
        disable_action: format!("/{code}/my/totp/disable"),
        setup_url: format!("/{code}/my/totp"),
        my_url: my_url(library),
    };
    ctx.page(status, "my_settings.html", &context)
}

/// The reason the password rules gave for refusing a new password, in the page's language
/// (the English reason itself if the rules learnt a new one).
fn weak_reason(lang: Lang, reason: &str) -> String {
    const KEYS: [(&str, &str); 8] = [
        ("it must be at least 12 characters long", "password_rule_short"),
        ("it must be at most 256 characters long", "password_rule_long"),
        ("it must not contain control characters", "password_rule_control"),
        ("it is one of the most common passwords", "password_rule_common"),
        ("it must not contain the username", "password_rule_card"),
        ("it must not be one short piece repeated", "password_rule_repeated"),
        ("it must not be a run like abcdef or 987654", "password_rule_run"),
        ("it must differ from the current password", "password_rule_same"),
    ];
    match KEYS.iter().find(|(english, _)| *english == reason) {
        Some(&(_, key)) => text(lang, key).to_owned(),
        None => reason.to_owned(),
    }
}

/// How a settings form says a refusal that is the patron's to fix: its status, its message
/// and, for a lock, the `Retry-After`. `None` for anything else (an error page).
fn refusal(ctx: &Ctx, err: &catalogue::Error, now: Timestamp) -> Option<(StatusCode, String, Option<u64>)> {
    Some(match err {
        catalogue::Error::WrongPassword => (StatusCode::FORBIDDEN, ctx.t("my_password_wrong").to_owned(), None),
        catalogue::Error::WrongCode => (StatusCode::FORBIDDEN, ctx.t("my_code_wrong").to_owned(), None),
        catalogue::Error::WeakPassword(reason) => {
            (StatusCode::UNPROCESSABLE_ENTITY, fill(ctx.t("my_password_weak"), &[weak_reason(ctx.lang, reason)]), None)
        }
        catalogue::Error::AccountLocked { until } => (
            StatusCode::TOO_MANY_REQUESTS,
            fill(ctx.t("my_locked"), &[jst_minute(*until)]),
            Some(seconds_until(*until, now)),
        ),
        catalogue::Error::TotpEnabled => (StatusCode::CONFLICT, ctx.t("my_totp_already_on").to_owned(), None),
        _ => return None,
    })
}

/// `GET /{tenant}/my/settings`: the password change and two-step verification.
async fn settings(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    match session(&state, &library, &headers).await {
        Ok(Some((_, session))) => {
            let notice = match bib_query(raw.as_deref()).done.as_str() {
                "password" => Some(ctx.t("my_done_password").to_owned()),
                "totp_off" => Some(ctx.t("my_done_totp_off").to_owned()),
                "recovery" => Some(ctx.t("my_done_recovery").to_owned()),
                _ => None,
            };
            let messages = SettingsMessages { notice, ..SettingsMessages::default() };
            settings_page(&ctx, &library, &session, StatusCode::OK, messages).await
        }
        Ok(None) => see_other(&login_url(&library, None)),
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// The password form's fields. No `Debug`: it holds passwords.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// `POST /{tenant}/my/password`: the patron changes their password. Every session of the
/// patron ends; this browser gets a new session id in the same response.
async fn change_password(
    State(state): State<AppState>,
    PatronForm { ctx, library, token, session, body }: PatronForm,
) -> Response {
    let form: PasswordForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let refused = |status, message: String| {
        let messages = SettingsMessages { password: Some(message), ..SettingsMessages::default() };
        settings_page(&ctx, &library, &session, status, messages)
    };
    if form.new != form.confirm {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("my_password_mismatch").to_owned()).await;
    }
    let catalogue = library.catalogue.clone();
    let now = state.clock().now();
    let changed = blocking(move || Ok(catalogue.change_patron_password(&token, &form.current, &form.new, now))).await;
    match changed {
        Ok(Ok((token, _))) => {
            let tls = state.tls();
            let mut response = see_other(&format!("{}?done=password", settings_url(&library)));
            let cookie = cookies::set(session_cookie(tls), &token.expose(), tls, None);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Ok(Err(catalogue::Error::SessionEnded)) => see_other(&login_url(&library, None)),
        Ok(Err(err)) => match refusal(&ctx, &err, now) {
            Some((status, message, retry_after)) => with_retry_after(refused(status, message).await, retry_after),
            None => ctx.error(Some(&library), err.into()),
        },
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// `POST /{tenant}/my/totp/begin`: a new secret, then the page with its QR code.
async fn begin_totp(State(state): State<AppState>, PatronForm { ctx, library, session, .. }: PatronForm) -> Response {
    let catalogue = library.catalogue.clone();
    let id = session.patron.id;
    let now = state.clock().now();
    // The enrolment is shown by the page it redirects to, read back from the catalogue,
    // so a reload shows the same secret instead of drawing another.
    match blocking(move || Ok(catalogue.begin_patron_totp(id).map(|_| ()))).await {
        Ok(Ok(())) => see_other(&format!("/{}/my/totp", library.tenant.code)),
        Ok(Err(err)) => match refusal(&ctx, &err, now) {
            Some((status, message, retry_after)) => {
                let messages = SettingsMessages { totp: Some(message), ..SettingsMessages::default() };
                with_retry_after(settings_page(&ctx, &library, &session, status, messages).await, retry_after)
            }
            None => ctx.error(Some(&library), err.into()),
        },
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// The page of an enrolment begun: its QR code, its key for typing, and the form that
/// confirms it. To the settings page when none was begun.
async fn totp_page(
    ctx: &Ctx,
    library: &Arc<Library>,
    session: &PatronSession,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    #[derive(Serialize)]
    struct TotpPage {
        #[serde(flatten)]
        frame: Frame,
        /// SVG drawn by `catalogue::qr_svg` from the URI: modules only, nothing typed.
        qr: String,
        key: String,
        action: String,
        csrf: String,
        card: String,
        settings_url: String,
        message: Option<String>,
    }
    let catalogue = library.catalogue.clone();
    let id = session.patron.id;
    let drawn = blocking(move || {
        let Some(enrolment) = catalogue.patron_totp_enrolment(id)? else { return Ok(None) };
        let qr = catalogue::qr_svg(enrolment.uri.expose(), 4)?;
        Ok(Some((qr, enrolment.secret)))
    })
    .await;
    let (qr, secret) = match drawn {
        Ok(Some(drawn)) => drawn,
        Ok(None) => return see_other(&settings_url(library)),
        Err(err) => return ctx.error(Some(library), err),
    };
    // In groups of four, as authenticator apps show keys.
    let key = secret.expose().as_bytes().chunks(4).map(String::from_utf8_lossy).collect::<Vec<_>>().join(" ");
    let context = TotpPage {
        frame: ctx.frame(ctx.t("my_totp_setup_title"), library),
        qr,
        key,
        action: format!("/{}/my/totp/confirm", library.tenant.code),
        csrf: session.csrf_token().expose().to_owned(),
        card: session.patron.card.clone(),
        settings_url: settings_url(library),
        message,
    };
    ctx.page(status, "my_totp.html", &context)
}

/// `GET /{tenant}/my/totp`: the enrolment begun.
async fn totp_setup(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let library = match library_of(&state, path) {
        Ok(library) => library,
        Err(err) => return ctx.error(None, err),
    };
    match session(&state, &library, &headers).await {
        Ok(Some((_, session))) => totp_page(&ctx, &library, &session, StatusCode::OK, None).await,
        Ok(None) => see_other(&login_url(&library, None)),
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// The fields of the forms that ask for the password and a code. No `Debug`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PasswordAndCode {
    password: String,
    code: String,
}

/// `POST /{tenant}/my/totp/confirm`: a code from the new secret and the password turn
/// two-step verification on; the answer is the only page that shows the recovery codes.
async fn confirm_totp(
    State(state): State<AppState>,
    PatronForm { ctx, library, token, session, body }: PatronForm,
) -> Response {
    #[derive(Serialize)]
    struct RecoveryPage {
        #[serde(flatten)]
        frame: Frame,
        codes: Vec<String>,
        settings_url: String,
        my_url: String,
    }
    let form: PasswordAndCode = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let catalogue = library.catalogue.clone();
    let now = state.clock().now();
    let confirmed = blocking(move || Ok(catalogue.confirm_patron_totp(&token, &form.password, &form.code, now))).await;
    match confirmed {
        Ok(Ok(codes)) => {
            let context = RecoveryPage {
                frame: ctx.frame(ctx.t("my_recovery_title"), &library),
                codes: codes.iter().map(|code| code.expose().to_owned()).collect(),
                settings_url: settings_url(&library),
                my_url: my_url(&library),
            };
            ctx.page(StatusCode::OK, "my_recovery.html", &context)
        }
        Ok(Err(catalogue::Error::SessionEnded)) => see_other(&login_url(&library, None)),
        Ok(Err(err)) => match refusal(&ctx, &err, now) {
            Some((status, message, retry_after)) => {
                with_retry_after(totp_page(&ctx, &library, &session, status, Some(message)).await, retry_after)
            }
            None => ctx.error(Some(&library), err.into()),
        },
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// `POST /{tenant}/my/totp/disable`: the password and a code turn two-step verification
/// off.
async fn disable_totp(
    State(state): State<AppState>,
    PatronForm { ctx, library, token, session, body }: PatronForm,
) -> Response {
    let form: PasswordAndCode = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let catalogue = library.catalogue.clone();
    let now = state.clock().now();
    let disabled = blocking(move || Ok(catalogue.disable_patron_totp(&token, &form.password, &form.code, now))).await;
    match disabled {
        Ok(Ok(())) => see_other(&format!("{}?done=totp_off", settings_url(&library))),
        Ok(Err(catalogue::Error::SessionEnded)) => see_other(&login_url(&library, None)),
        Ok(Err(err)) => match refusal(&ctx, &err, now) {
            Some((status, message, retry_after)) => {
                let messages = SettingsMessages { totp: Some(message), ..SettingsMessages::default() };
                with_retry_after(settings_page(&ctx, &library, &session, status, messages).await, retry_after)
            }
            None => ctx.error(Some(&library), err.into()),
        },
        Err(err) => ctx.error(Some(&library), err),
    }
}
