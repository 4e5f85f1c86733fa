//! The staff pages: the login form, the staff home, the password change, logout.
//!
//! The login form is protected against CSRF before any session exists by a double submit:
//! a random token in a `SameSite=Strict` cookie and the same token in a hidden field.
//! After login, every form carries the session's CSRF token, checked by the guard. Pages
//! holding a token are never cached (`Cache-Control: no-store`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use catalogue::{Function, Principal as Who, Session, SessionToken};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::api::change;
use super::cookies;
use super::guard::{Refusal, Staff, credential, url_library};
use super::login::{self, Attempted, ClientIp, Typed};
use crate::api::{blocking, lang_param};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::opac::messages::{fill, text};
use crate::opac::render::{page, render};
use crate::opac::views::{Frame, LibraryRef};
use crate::server::{AppState, Library, Principal};

/// The login form's CSRF cookie lasts an hour: a form left open longer is reloaded.
const LOGIN_COOKIE_SECONDS: i64 = 60 * 60;

/// What a page needs to know about its request.
pub(crate) struct Ctx {
    pub(crate) lang: Lang,
    path: String,
    raw: Option<String>,
}

impl Ctx {
    pub(crate) fn new(uri: &Uri, headers: &HeaderMap) -> Ctx {
        let raw = uri.query().map(str::to_owned);
        let param = raw.as_deref().and_then(lang_param);
        Ctx { lang: Lang::negotiate(param.as_deref(), headers), path: uri.path().to_owned(), raw }
    }

    pub(crate) fn frame(&self, title: &str, library: Option<&Library>) -> Frame {
        Frame::new(self.lang, title.to_owned(), &self.path, self.raw.as_deref(), library.map(LibraryRef::of), None)
    }

    pub(crate) fn t(&self, key: &'static str) -> &'static str {
        text(self.lang, key)
    }

    /// A rendered page, never cached.
    pub(crate) fn page<S: Serialize>(&self, status: StatusCode, template: &str, context: &S) -> Response {
        let mut response = match render(template, context) {
            Ok(html) => page(status, html, None),
            Err(err) => self.message(None, err.status, self.t("error_title_500"), err.message().to_owned(), Vec::new()),
        };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// A page with a heading, a message and links.
    fn message(
        &self,
        library: Option<&Library>,
        status: StatusCode,
        heading: &str,
        message: String,
        links: Vec<Link>,
    ) -> Response {
        #[derive(Serialize)]
        struct MessagePage<'a> {
            #[serde(flatten)]
            frame: Frame,
            heading: &'a str,
            message: String,
            links: Vec<Link>,
        }
        let context = MessagePage { frame: self.frame(heading, library), heading, message, links };
        let mut response = match render("staff_message.html", &context) {
            Ok(html) => page(status, html, None),
            Err(_) => crate::opac::render::bare_error(status),
        };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// An error as a page.
    pub(crate) fn error(&self, library: Option<&Library>, err: ApiError) -> Response {
        let err = err.in_lang(self.lang);
        let heading = match err.status {
            StatusCode::NOT_FOUND => self.t("error_title_404"),
            status if status.is_client_error() => self.t("error_title_400"),
            _ => self.t("error_title_500"),
        };
        let message = err.message().to_owned();
        let mut response = self.message(library, err.status, heading, message, Vec::new());
        for (name, value) in err.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

#[derive(Serialize)]
struct Link {
    url: String,
    label: &'static str,
}

fn login_url(library: &Library) -> String {
    format!("/{}/staff/login", library.tenant.code)
}

fn home_url(library: &Library) -> String {
    format!("/{}/staff/", library.tenant.code)
}

fn password_url(library: &Library) -> String {
    format!("/{}/staff/password", library.tenant.code)
}

pub(crate) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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

#[derive(Serialize)]
struct LoginPage {
    #[serde(flatten)]
    frame: Frame,
    action: String,
    csrf: String,
    username: String,
    message: Option<String>,
}

/// The login form (at `status`), with its CSRF cookie: the one the browser has if it is
/// well-formed, else a new one.
fn login_page(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    library: &Library,
    status: StatusCode,
    username: &str,
    message: Option<String>,
) -> Response {
    let tls = state.tls();
    let csrf = match cookies::read(headers, cookies::login(tls)).filter(|v| is_token(v)) {
        Some(existing) => existing.to_owned(),
        None => match random_token() {
            Ok(token) => token,
            Err(err) => return ctx.error(Some(library), err),
        },
    };
    let context = LoginPage {
        frame: ctx.frame(ctx.t("staff_login_title"), Some(library)),
        action: login_url(library),
        csrf: csrf.clone(),
        username: username.chars().take(64).collect(),
        message,
    };
    let mut response = ctx.page(status, "staff_login.html", &context);
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::set(cookies::login(tls), &csrf, tls, Some(LOGIN_COOKIE_SECONDS)));
    response
}

fn library_of(state: &AppState, path: Result<Path<String>, PathRejection>) -> Result<Arc<Library>, ApiError> {
    path.map_err(|_| ApiError::unknown_tenant("?")).and_then(|Path(tenant)| state.library(&tenant))
}

/// `GET /{tenant}/staff/login`.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    match library_of(&state, path) {
        Ok(library) => login_page(&state, &ctx, &headers, &library, StatusCode::OK, "", None),
        Err(err) => ctx.error(None, err),
    }
}

/// The login form's fields. No `Debug`: it holds a password.
#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    totp: String,
    csrf: String,
}

/// `POST /{tenant}/staff/login`: logs in and sets the session cookie (a new id: the
/// session the browser came with is ended), then goes to the staff home, or to the
/// password page after a one-time password.
pub(crate) async fn login(
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
    let expected = cookies::read(&headers, cookies::login(tls)).filter(|v| is_token(v)).unwrap_or("");
    let csrf_ok = !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(form.csrf.trim().as_bytes()));
    if !csrf_ok {
        return csrf_refused(&ctx, &library);
    }
    let previous: Option<SessionToken> = credential(&headers, tls).map(|(token, _)| token);
    let username = form.username.clone();
    let second_factor = Some(form.totp).filter(|code| !code.trim().is_empty());
    let typed = Typed { username: form.username, password: form.password, second_factor };
    let attempted = login::attempt(&state, &library, client, typed, previous).await;
    let again =
        |status, message: String| login_page(&state, &ctx, &headers, &library, status, &username, Some(message));
    match attempted {
        Ok(Attempted::LoggedIn(logged_in)) => {
            let target =
                if logged_in.session.must_change_password { password_url(&library) } else { home_url(&library) };
            let mut response = see_other(&target);
            let headers = response.headers_mut();
            headers
                .append(header::SET_COOKIE, cookies::set(cookies::session(tls), &logged_in.token.expose(), tls, None));
            headers.append(header::SET_COOKIE, cookies::clear(cookies::login(tls), tls));
            response.extensions_mut().insert(Principal(logged_in.session.principal.to_string()));
            response
        }
        Ok(Attempted::Wrong) => again(StatusCode::UNAUTHORIZED, ctx.t("staff_login_wrong").to_owned()),
        Ok(Attempted::NeedSecondFactor) => again(StatusCode::UNAUTHORIZED, ctx.t("staff_login_need_code").to_owned()),
        Ok(Attempted::Locked { until, retry_after }) => {
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, fill(ctx.t("staff_login_locked"), &[jst(until)]));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Ok(Attempted::RateLimited { retry_after }) => {
            let message = fill(ctx.t("staff_rate_limited"), &[retry_after.to_string()]);
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, message);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Err(err) => ctx.error(Some(&library), err),
    }
}

/// An instant as Japanese local time, `2026-04-01 10:00`.
fn jst(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).strftime("%Y-%m-%d %H:%M").to_string()
}

fn csrf_refused(ctx: &Ctx, library: &Library) -> Response {
    let links = vec![Link { url: login_url(library), label: ctx.t("staff_login_link") }];
    ctx.message(
        Some(library),
        StatusCode::FORBIDDEN,
        ctx.t("staff_refused_title"),
        ctx.t("staff_csrf_message").to_owned(),
        links,
    )
}

/// How the guard refuses a page: the login form for no session (401), the password page
/// for a one-time password (303), a page saying why otherwise (403, 404).
pub(crate) async fn refusal(state: &AppState, parts: &mut Parts, refusal: Refusal) -> Response {
    let ctx = Ctx::new(&parts.uri, &parts.headers);
    let library = match refusal {
        Refusal::UnknownTenant(err) => return ctx.error(None, err),
        _ => match url_library(state, parts).await {
            Ok(library) => library,
            Err(other) => return ctx.error(None, other.api_error()),
        },
    };
    let login_link = || vec![Link { url: login_url(&library), label: ctx.t("staff_login_link") }];
    match refusal {
        Refusal::NotLoggedIn => login_page(state, &ctx, &parts.headers, &library, StatusCode::UNAUTHORIZED, "", None),
        Refusal::MustChangePassword => see_other(&password_url(&library)),
        Refusal::WrongTenant => ctx.message(
            Some(&library),
            StatusCode::FORBIDDEN,
            ctx.t("staff_refused_title"),
            ctx.t("staff_other_library_message").to_owned(),
            login_link(),
        ),
        Refusal::NotAllowed => ctx.message(
            Some(&library),
            StatusCode::FORBIDDEN,
            ctx.t("staff_refused_title"),
            ctx.t("staff_forbidden_message").to_owned(),
            Vec::new(),
        ),
        Refusal::Csrf => csrf_refused(&ctx, &library),
        Refusal::UnknownTenant(err) | Refusal::Fault(err) => ctx.error(Some(&library), err),
    }
}

fn role_name(lang: Lang, session: &Session) -> &'static str {
    match &session.principal {
        Who::Operator { .. } => text(lang, "role_operator"),
        Who::Staff { role, .. } => match role {
            catalogue::Role::TenantAdmin => text(lang, "role_tenant_admin"),
            catalogue::Role::Cataloguer => text(lang, "role_cataloguer"),
            catalogue::Role::Circulation => text(lang, "role_circulation"),
            catalogue::Role::ReadOnly => text(lang, "role_read_only"),
        },
    }
}

fn function_name(lang: Lang, function: Function) -> &'static str {
    match function {
        Function::View => text(lang, "function_view"),
        Function::CatalogueEdit => text(lang, "function_catalogue_edit"),
        Function::Import => text(lang, "function_import"),
        Function::Circulation => text(lang, "function_circulation"),
        Function::Holds => text(lang, "function_holds"),
        Function::Patrons => text(lang, "function_patrons"),
        Function::Reports => text(lang, "function_reports"),
        Function::Audit => text(lang, "function_audit"),
        Function::StaffAdmin => text(lang, "function_staff_admin"),
        Function::ManageTenants => text(lang, "function_manage_tenants"),
    }
}

/// `GET /{tenant}/staff/`: who is logged in, what they may do, and the way out.
pub(crate) async fn home(State(state): State<AppState>, staff: Staff, uri: Uri, headers: HeaderMap) -> Response {
    #[derive(Serialize)]
    struct HomePage {
        #[serde(flatten)]
        frame: Frame,
        who: String,
        expires: String,
        functions: Vec<&'static str>,
        password_url: String,
        logout_url: String,
        csrf: String,
        /// The circulation desk, for a session that may use it.
        desk_url: Option<String>,
        /// Cataloguing: a new record, copy cataloguing (with `catalogue_edit`).
        cataloguing: Option<(String, String)>,
    }
    let ctx = Ctx::new(&uri, &headers);
    let system = state.system().clone();
    let id = staff.session.account();
    let display = match blocking(move || Ok(system.account(&id)?)).await {
        Ok(info) => info.map(|i| i.display_name).filter(|name| !name.trim().is_empty()),
        Err(err) => return ctx.error(Some(&staff.library), err),
    };
    let session = &staff.session;
    let name = match display {
        Some(display) => format!("{display} ({})", session.principal),
        None => session.principal.to_string(),
    };
    let context = HomePage {
        frame: ctx.frame(ctx.t("staff_home_title"), Some(&staff.library)),
        who: fill(ctx.t("staff_logged_in_as"), &[name, role_name(ctx.lang, session).to_owned()]),
        expires: fill(ctx.t("staff_session_expires"), &[jst(session.expires)]),
        functions: Function::ALL
            .into_iter()
            .filter(|f| session.may(staff.tenant(), *f))
            .map(|f| function_name(ctx.lang, f))
            .collect(),
        password_url: password_url(&staff.library),
        logout_url: format!("/{}/staff/logout", staff.tenant()),
        csrf: session.csrf_token().expose().to_owned(),
        desk_url: session.may(staff.tenant(), Function::Circulation).then(|| format!("/{}/staff/desk", staff.tenant())),
        cataloguing: session.may(staff.tenant(), Function::CatalogueEdit).then(|| {
            (format!("/{}/staff/records/new", staff.tenant()), format!("/{}/staff/copy-cataloguing", staff.tenant()))
        }),
    };
    ctx.page(StatusCode::OK, "staff_home.html", &context)
}

#[derive(Serialize)]
struct PasswordPage {
    #[serde(flatten)]
    frame: Frame,
    action: String,
    home_url: String,
    csrf: String,
    username: String,
    must_change: bool,
    message: Option<String>,
}

fn password_page(ctx: &Ctx, staff: &Staff, status: StatusCode, message: Option<String>) -> Response {
    let context = PasswordPage {
        frame: ctx.frame(ctx.t("staff_password_title"), Some(&staff.library)),
        action: password_url(&staff.library),
        home_url: home_url(&staff.library),
        csrf: staff.session.csrf_token().expose().to_owned(),
        username: staff.session.account().username.to_string(),
        must_change: staff.session.must_change_password,
        message,
    };
    ctx.page(status, "staff_password.html", &context)
}

/// `GET /{tenant}/staff/password`.
pub(crate) async fn password_form(staff: Staff, uri: Uri, headers: HeaderMap) -> Response {
    password_page(&Ctx::new(&uri, &headers), &staff, StatusCode::OK, None)
}

/// The password form's fields. No `Debug`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// `POST /{tenant}/staff/password`: changes the password (every other session of the
/// account ends) and gives this session a new id, then goes to the staff home.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let form: PasswordForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if form.new != form.confirm {
        let message = ctx.t("staff_password_mismatch").to_owned();
        return password_page(&ctx, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    }
    if let Err(err) = change(&state, &staff, form.current, form.new).await {
        let message = match err.code {
            "wrong_password" => ctx.t("staff_password_wrong").to_owned(),
            "weak_password" => {
                let reason = err.message_en.trim_start_matches("password refused: ").to_owned();
                fill(ctx.t("staff_password_weak"), &[reason])
            }
            _ => err.clone().in_lang(ctx.lang).message().to_owned(),
        };
        let mut response = password_page(&ctx, &staff, err.status, Some(message));
        for (name, value) in err.headers {
            response.headers_mut().append(name, value);
        }
        return response;
    }
    // A new id for the cookie session now that its rights changed (a Bearer client
    // would not learn of a new token, so it keeps its own).
    let mut response = see_other(&home_url(&staff.library));
    if staff.via == super::guard::Via::Cookie {
        let system = state.system().clone();
        let token = staff.token.clone();
        match blocking(move || Ok(system.rotate_session(&token)?)).await {
            Ok(Some((token, _))) => {
                let tls = state.tls();
                let cookie = cookies::set(cookies::session(tls), &token.expose(), tls, None);
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(None) => return see_other(&login_url(&staff.library)),
            Err(err) => return ctx.error(Some(&staff.library), err),
        }
    }
    response
}

/// `POST /{tenant}/staff/logout`: ends the session, clears the cookie, back to the login.
pub(crate) async fn logout(State(state): State<AppState>, staff: Staff, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&uri, &headers);
    let system = state.system().clone();
    let token = staff.token.clone();
    let writer = state.clone();
    let code = staff.tenant().clone();
    let event = catalogue::AuditEvent::new(
        &staff.session.principal,
        "auth.logout",
        format!("staff {}", staff.session.account().username),
    );
    let done = blocking(move || {
        system.logout(&token)?;
        writer.audit(Some(&code), &event);
        Ok(())
    })
    .await;
    if let Err(err) = done {
        return ctx.error(Some(&staff.library), err);
    }
    let tls = state.tls();
    let mut response = see_other(&login_url(&staff.library));
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::session(tls), tls));
    response
}
