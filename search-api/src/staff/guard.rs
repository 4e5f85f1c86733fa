//! The guard in front of every staff route, and the `Staff` extractor it feeds.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use catalogue::{Function, Session, SessionToken, TenantCode, may};

use super::{Access, StaffRoute, Surface, cookies, pages};
use crate::api::blocking;
use crate::error::ApiError;
use crate::server::{AppState, BODY_LIMIT, Library, Principal};

/// The header a script sends a cookie session's CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries it.
pub(crate) const CSRF_FIELD: &str = "csrf";

/// How the session id came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// `Authorization: Bearer …`: a browser never adds it by itself, so no CSRF token.
    Bearer,
    /// The session cookie: state-changing requests need the CSRF token.
    Cookie,
}

/// A staff member's request that passed the guard: the live session, which belongs to
/// `library` (or is an operator's with the route's function there).
#[derive(Clone)]
pub(crate) struct Staff {
    /// The session, with the role's functions as they are now.
    pub(crate) session: Session,
    /// Its id, to log out or rotate.
    pub(crate) token: SessionToken,
    /// The library of the URL.
    pub(crate) library: Arc<Library>,
    /// Bearer or cookie.
    pub(crate) via: Via,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("session", &self.session)
            .field("library", &self.library.tenant.code)
            .field("via", &self.via)
            .finish_non_exhaustive()
    }
}

impl Staff {
    /// The library of the URL.
    pub(crate) fn tenant(&self) -> &TenantCode {
        &self.library.tenant.code
    }

    /// A 403 unless the session may use `function` here. The guard has checked the route's
    /// own [`Access`]; handlers ask again for the function they use, so a handler mounted
    /// under a looser entry still refuses.
    pub(crate) fn require(&self, function: Function) -> Result<(), ApiError> {
        if self.session.may(self.tenant(), function) { Ok(()) } else { Err(Refusal::NotAllowed.api_error()) }
    }
}

/// Why the guard said no.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The URL's library does not exist (or is not a valid code): 404.
    UnknownTenant(ApiError),
    /// No session, a malformed id, or an ended session: 401.
    NotLoggedIn,
    /// A session of another library: 403.
    WrongTenant,
    /// The role lacks the function: 403.
    NotAllowed,
    /// A one-time password must be changed first: 403 (API) or the password page (303).
    MustChangePassword,
    /// A cookie session's state-changing request without its CSRF token: 403.
    Csrf,
    /// A fault while checking.
    Fault(ApiError),
}

impl Refusal {
    pub(crate) fn api_error(self) -> ApiError {
        match self {
            Refusal::UnknownTenant(err) | Refusal::Fault(err) => err,
            Refusal::NotLoggedIn => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "not_logged_in",
                "ログインしていないか、ログインの有効期限が切れています",
                "no session, or the session has ended: log in",
            )
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"shiori\"")),
            Refusal::WrongTenant => ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_library",
                "この図書館の職員としてログインしていません",
                "the session belongs to another library",
            ),
            Refusal::NotAllowed => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "この操作を行う権限がありません",
                "your role may not do this",
            ),
            Refusal::MustChangePassword => ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "初回ログインのパスワードを変更してください",
                "change the one-time password first (POST auth/password)",
            ),
            Refusal::Csrf => ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "CSRF トークンがないか、正しくありません",
                "the CSRF token is missing or wrong",
            ),
        }
    }
}

/// The guard of one [`StaffRoute`]: checks, then runs the handler with [`Staff`] in the
/// request, or answers the refusal in the route's surface. Either way the principal (if a
/// session was found) goes to the access log.
pub(crate) async fn guard(
    State((state, route)): State<(AppState, &'static StaffRoute)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let checked = match check(&state, route.access, &mut parts).await {
        Ok(staff) => check_csrf(staff, &parts, body).await,
        Err(refused) => Err(refused),
    };
    match checked {
        Ok((staff, body)) => {
            let principal = Principal(staff.session.principal.to_string());
            parts.extensions.insert(staff);
            let mut response = next.run(Request::from_parts(parts, body)).await;
            if response.extensions().get::<Principal>().is_none() {
                response.extensions_mut().insert(principal);
            }
            response
        }
        Err((refusal, principal)) => {
            let mut response = match route.surface {
                Surface::Api => refusal.api_error().into_response(),
                Surface::Page => pages::refusal(&state, &mut parts, refusal).await,
            };
            if let Some(principal) = principal {
                response.extensions_mut().insert(Principal(principal));
            }
            response
        }
    }
}

type Refused = (Refusal, Option<String>);

/// The library of the URL, the session, its tenant and its access: everything but the
/// CSRF token of a form (which is in the body).
async fn check(state: &AppState, access: Access, parts: &mut Parts) -> Result<Staff, Refused> {
    let library = url_library(state, parts).await.map_err(|refusal| (refusal, None))?;
    let Some((token, via)) = credential(&parts.headers, state.tls()) else {
        return Err((Refusal::NotLoggedIn, None));
    };
    let system = state.system().clone();
    let lookup = token.clone();
    let session = blocking(move || Ok(system.session(&lookup)?)).await.map_err(|err| (Refusal::Fault(err), None))?;
    let Some(session) = session else { return Err((Refusal::NotLoggedIn, None)) };
    let principal = Some(session.principal.to_string());
    let tenant = &library.tenant.code;
    match access {
        Access::Session => {
            if session.tenant() != Some(tenant) {
                return Err((Refusal::WrongTenant, principal));
            }
        }
        Access::Function(function) => {
            if !may(&session.principal, tenant, function) {
                let refusal = match session.tenant() {
                    Some(home) if home != tenant => Refusal::WrongTenant,
                    _ => Refusal::NotAllowed,
                };
                return Err((refusal, principal));
            }
            if !session.may(tenant, function) {
                return Err((Refusal::MustChangePassword, principal));
            }
        }
    }
    Ok(Staff { session, token, library, via })
}

/// A state-changing request of a cookie session must carry the session's CSRF token, in
/// the `X-CSRF-Token` header or a form's `csrf` field (the body is read for it and put
/// back; it is bounded by the router's body limit).
async fn check_csrf(staff: Staff, parts: &Parts, body: Body) -> Result<(Staff, Body), Refused> {
    if staff.via == Via::Bearer || is_safe(&parts.method) {
        return Ok((staff, body));
    }
    let refused = |staff: &Staff| (Refusal::Csrf, Some(staff.session.principal.to_string()));
    if let Some(given) = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if staff.session.check_csrf(given) { Ok((staff, body)) } else { Err(refused(&staff)) };
    }
    if !is_form(&parts.headers) {
        return Err(refused(&staff));
    }
    let bytes: Bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return Err(refused(&staff)),
    };
    let given = form_field(&bytes, CSRF_FIELD);
    if given.as_deref().is_some_and(|given| staff.session.check_csrf(given)) {
        Ok((staff, Body::from(bytes)))
    } else {
        Err(refused(&staff))
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

/// The first value of a field of a URL-encoded form.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded_pairs(body).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// The registered library named by the route's `{tenant}`.
pub(crate) async fn url_library(state: &AppState, parts: &mut Parts) -> Result<Arc<Library>, Refusal> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| Refusal::UnknownTenant(ApiError::unknown_tenant("?")))?;
    let code = params.iter().find(|(key, _)| *key == "tenant").map(|(_, value)| value.to_owned());
    let code = code.ok_or_else(|| Refusal::UnknownTenant(ApiError::unknown_tenant("?")))?;
    state.library(&code).map_err(Refusal::UnknownTenant)
}

/// The session id a request carries: `Authorization: Bearer` first, then the session
/// cookie. A malformed id counts as none.
pub(crate) fn credential(headers: &HeaderMap, tls: bool) -> Option<(SessionToken, Via)> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        return token.trim().parse().ok().map(|token| (token, Via::Bearer));
    }
    let cookie = cookies::read(headers, cookies::session(tls))?;
    cookie.parse().ok().map(|token| (token, Via::Cookie))
}

/// The `Staff` a guarded handler was given. A handler mounted without the guard (not in
/// `STAFF_ROUTES`) still gets a checked one: any session of the URL's library, with the
/// CSRF header for a cookie session's state-changing request.
impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, Response> {
        if let Some(staff) = parts.extensions.get::<Staff>() {
            return Ok(staff.clone());
        }
        tracing::warn!(path = %parts.uri.path(), "a staff handler outside STAFF_ROUTES");
        let staff =
            check(state, Access::Session, parts).await.map_err(|(refusal, _)| refusal.api_error().into_response())?;
        if staff.via == Via::Cookie && !is_safe(&parts.method) {
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !staff.session.check_csrf(given) {
                return Err(Refusal::Csrf.api_error().into_response());
            }
        }
        Ok(staff)
    }
}
