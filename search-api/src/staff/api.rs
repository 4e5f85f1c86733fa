//! The staff API's JSON: login (a Bearer token), logout, password change, who am I, the
//! library's staff accounts and role switches, and the audit log's check.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalogue::{AuditEvent, Function, Role, RolePolicy, SESSION_IDLE_TIMEOUT, Scope};
use serde::{Deserialize, Serialize};

use super::cookies;
use super::guard::{Staff, Via, credential};
use super::login::{self, Attempted, ClientIp, Typed};
use crate::api::blocking;
use crate::error::ApiError;
use crate::server::{AppState, BODY_LIMIT, Principal};

/// `POST …/auth/login`. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct LoginBody {
    username: String,
    password: String,
    /// A TOTP code or a recovery code.
    #[serde(default)]
    totp: Option<String>,
}

#[derive(Serialize)]
struct LoginAnswer {
    token: String,
    expires_idle_seconds: i64,
    /// When the session ends if nothing else happens (RFC 3339).
    expires: String,
    must_change_password: bool,
    account: String,
    used_recovery_code: bool,
    recovery_codes_left: usize,
}

/// A request body that is not the JSON asked for: 415 without a JSON content type, 400
/// otherwise.
pub(crate) fn bad_json(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type: application/json で送ってください",
            "send the body as Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => crate::server::body_too_large(BODY_LIMIT),
        other => {
            let detail = other.body_text();
            ApiError::bad_request("bad_json", format!("JSON が正しくありません: {detail}"), detail)
        }
    }
}

/// Answers that hold a token or personal data are never stored by a cache.
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /api/v1/{tenant}/auth/login` with `{"username","password","totp"}`.
pub(crate) async fn login(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> Response {
    let library = match path.map_err(|_| ApiError::unknown_tenant("?")).and_then(|Path(t)| state.library(&t)) {
        Ok(library) => library,
        Err(err) => return err.into_response(),
    };
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection).into_response(),
    };
    let previous = credential(&headers, state.tls()).map(|(token, _)| token);
    let typed = Typed { username: body.username, password: body.password, second_factor: body.totp };
    match login::attempt(&state, &library, client, typed, previous).await {
        Ok(Attempted::LoggedIn(logged_in)) => {
            let session = &logged_in.session;
            let answer = LoginAnswer {
                token: logged_in.token.expose(),
                expires_idle_seconds: SESSION_IDLE_TIMEOUT.as_secs(),
                expires: session.expires.to_string(),
                must_change_password: session.must_change_password,
                account: session.principal.to_string(),
                used_recovery_code: logged_in.used_recovery_code,
                recovery_codes_left: logged_in.recovery_codes_left,
            };
            let mut response = no_store(Json(answer).into_response());
            response.extensions_mut().insert(Principal(session.principal.to_string()));
            response
        }
        Ok(Attempted::Wrong) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_credentials",
            "ユーザー名、パスワードまたは確認コードが正しくありません",
            "the username, password or code is wrong",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"shiori\""))
        .into_response(),
        Ok(Attempted::NeedSecondFactor) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "second_factor_required",
            "確認コード（認証アプリの 6 桁、またはリカバリーコード）を totp に入れて、もう一度送ってください",
            "send the username and password again with a TOTP code (or a recovery code) in totp",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"shiori\""))
        .into_response(),
        Ok(Attempted::Locked { until, retry_after }) => too_many(
            "locked",
            format!("ログインの失敗が続いたため、{} までログインできません", until),
            format!("too many failed attempts: the account is locked until {until}"),
            retry_after,
        ),
        Ok(Attempted::RateLimited { retry_after }) => too_many(
            "rate_limited",
            format!("ログインの試行が多すぎます。{retry_after} 秒後にもう一度お試しください"),
            format!("too many login attempts from this address: try again in {retry_after} seconds"),
            retry_after,
        ),
        Err(err) => err.into_response(),
    }
}

/// A 429 with `Retry-After`.
pub(crate) fn too_many(code: &'static str, ja: String, en: String, retry_after: u64) -> Response {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, ja, en)
        .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after))
        .into_response()
}

#[derive(Serialize)]
struct Me {
    account: String,
    tenant: Option<String>,
    username: String,
    display_name: Option<String>,
    role: Option<Role>,
    functions: Vec<Function>,
    must_change_password: bool,
    logged_in: String,
    expires: String,
}

/// `GET /api/v1/{tenant}/auth/me`: who the session is and what it may do here.
pub(crate) async fn me(State(state): State<AppState>, staff: Staff) -> Response {
    let system = state.system().clone();
    let id = staff.session.account();
    let info = match blocking(move || Ok(system.account(&id)?)).await {
        Ok(info) => info,
        Err(err) => return err.into_response(),
    };
    let session = &staff.session;
    let functions = Function::ALL.into_iter().filter(|f| session.may(staff.tenant(), *f)).collect();
    let me = Me {
        account: session.principal.to_string(),
        tenant: session.tenant().map(ToString::to_string),
        username: session.account().username.to_string(),
        display_name: info.as_ref().map(|i| i.display_name.clone()),
        role: info.and_then(|i| i.role),
        functions,
        must_change_password: session.must_change_password,
        logged_in: session.created.to_string(),
        expires: session.expires.to_string(),
    };
    no_store(Json(me).into_response())
}

/// The answer to a logout: 204, and the cookie cleared if it came in one.
fn logged_out(state: &AppState, staff: &Staff) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if staff.via == Via::Cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookies::clear(cookies::session(state.tls()), state.tls()));
    }
    no_store(response)
}

/// `POST /api/v1/{tenant}/auth/logout`: ends this session.
pub(crate) async fn logout(State(state): State<AppState>, staff: Staff) -> Response {
    let system = state.system().clone();
    let token = staff.token.clone();
    let writer = state.clone();
    let (code, event) = logout_event(&staff, "auth.logout");
    match blocking(move || {
        system.logout(&token)?;
        writer.audit(Some(&code), &event);
        Ok(())
    })
    .await
    {
        Ok(()) => logged_out(&state, &staff),
        Err(err) => err.into_response(),
    }
}

fn logout_event(staff: &Staff, action: &str) -> (catalogue::TenantCode, AuditEvent) {
    let target = format!("staff {}", staff.session.account().username);
    (staff.tenant().clone(), AuditEvent::new(&staff.session.principal, action, target))
}

/// `POST /api/v1/{tenant}/auth/logout-everywhere`: ends every session of the account.
pub(crate) async fn logout_everywhere(State(state): State<AppState>, staff: Staff) -> Response {
    let system = state.system().clone();
    let id = staff.session.account();
    let writer = state.clone();
    let (code, event) = logout_event(&staff, "auth.logout_everywhere");
    match blocking(move || {
        let ended = system.logout_everywhere(&id)?;
        writer.audit(Some(&code), &event.after(serde_json::json!({ "sessions_ended": ended })));
        Ok(())
    })
    .await
    {
        Ok(()) => logged_out(&state, &staff),
        Err(err) => err.into_response(),
    }
}

/// `POST …/auth/password`. No `Debug`: it holds passwords.
#[derive(Deserialize)]
pub(crate) struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Why a password change was refused, as an API error.
pub(crate) fn password_error(state: &AppState, err: catalogue::Error) -> ApiError {
    match err {
        catalogue::Error::WrongPassword => ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "現在のパスワードが正しくありません",
            "the current password is wrong",
        ),
        catalogue::Error::WeakPassword(reason) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            format!("このパスワードは使えません: {reason}"),
            format!("password refused: {reason}"),
        ),
        catalogue::Error::AccountLocked { until } => {
            let seconds = until.duration_since(state.clock().now()).as_secs_f64().ceil().max(1.0) as u64;
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                format!("失敗が続いたため、{until} まで変更できません"),
                format!("too many failed attempts: locked until {until}"),
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
        }
        catalogue::Error::SessionEnded => super::guard::Refusal::NotLoggedIn.api_error(),
        other => other.into(),
    }
}

/// Changes the session's password and writes the audit line; shared with the password page.
pub(crate) async fn change(state: &AppState, staff: &Staff, current: String, new: String) -> Result<(), ApiError> {
    let system = state.system().clone();
    let session = staff.session.clone();
    let writer = state.clone();
    let (code, event) = logout_event(staff, "auth.password_change");
    let changed = blocking(move || Ok(system.change_password(&session, &current, &new))).await?;
    match changed {
        Ok(()) => {
            blocking(move || {
                writer.audit(Some(&code), &event);
                Ok(())
            })
            .await
        }
        Err(err) => Err(password_error(state, err)),
    }
}

/// `POST /api/v1/{tenant}/auth/password` with `{"current_password","new_password"}`: 204.
/// Every other session of the account ends.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Json<PasswordBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection).into_response(),
    };
    match change(&state, &staff, body.current_password, body.new_password).await {
        Ok(()) => no_store(StatusCode::NO_CONTENT.into_response()),
        Err(err) => err.into_response(),
    }
}

#[derive(Serialize)]
struct AccountJson {
    username: String,
    display_name: String,
    role: Option<Role>,
    must_change_password: bool,
    disabled: bool,
    demo: bool,
    created: String,
    password_changed: String,
    recovery_codes_left: usize,
}

/// `GET /api/v1/{tenant}/staff/accounts`: the library's staff (no secret, no hash).
pub(crate) async fn accounts(State(state): State<AppState>, staff: Staff) -> Response {
    if let Err(err) = staff.require(Function::StaffAdmin) {
        return err.into_response();
    }
    let system = state.system().clone();
    let scope = Scope::Tenant(staff.tenant().clone());
    let listed = blocking(move || Ok(system.accounts(&scope)?)).await;
    match listed {
        Ok(accounts) => {
            let accounts: Vec<AccountJson> = accounts
                .into_iter()
                .map(|a| AccountJson {
                    username: a.id.username.to_string(),
                    display_name: a.display_name,
                    role: a.role,
                    must_change_password: a.must_change_password,
                    disabled: a.disabled,
                    demo: a.demo,
                    created: a.created.to_string(),
                    password_changed: a.password_changed.to_string(),
                    recovery_codes_left: a.recovery_codes_left,
                })
                .collect();
            no_store(Json(serde_json::json!({ "accounts": accounts })).into_response())
        }
        Err(err) => err.into_response(),
    }
}

/// A library's switches as JSON: the functions of every role.
fn policy_json(policy: &RolePolicy) -> serde_json::Value {
    let roles: serde_json::Map<String, serde_json::Value> = Role::ALL
        .into_iter()
        .map(|role| (role.as_str().to_owned(), serde_json::json!(policy.functions(role))))
        .collect();
    serde_json::json!({ "tenant": policy.tenant, "roles": roles })
}

/// `GET /api/v1/{tenant}/staff/roles`: which functions each role has in the library.
pub(crate) async fn roles(State(state): State<AppState>, staff: Staff) -> Response {
    if let Err(err) = staff.require(Function::StaffAdmin) {
        return err.into_response();
    }
    let system = state.system().clone();
    let code = staff.tenant().clone();
    match blocking(move || Ok(system.role_policy(&code)?)).await {
        Ok(policy) => Json(policy_json(&policy)).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `PUT /api/v1/{tenant}/staff/roles` with `{"role","function","on"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Switch {
    role: Role,
    function: Function,
    on: bool,
}

/// `PUT /api/v1/{tenant}/staff/roles`: switches one function on or off for a role (the
/// tenant admin's role and `staff_admin` cannot be switched: 422). Audited with the
/// role's functions before and after.
pub(crate) async fn switch_role_function(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Json<Switch>, JsonRejection>,
) -> Response {
    if let Err(err) = staff.require(Function::StaffAdmin) {
        return err.into_response();
    }
    let Json(switch) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection).into_response(),
    };
    let system = state.system().clone();
    let code = staff.tenant().clone();
    let principal = staff.session.principal.clone();
    let writer = state.clone();
    let done = blocking(move || {
        let mut policy = system.role_policy(&code)?;
        let before = policy.functions(switch.role);
        policy.set(switch.role, switch.function, switch.on)?;
        system.set_role_policy(&policy)?;
        let event = AuditEvent::new(&principal, "role_policy.set", format!("role {}", switch.role))
            .before(serde_json::json!({ "functions": before }))
            .after(serde_json::json!({ "functions": policy.functions(switch.role) }));
        writer.audit(Some(&code), &event);
        Ok(policy)
    })
    .await;
    match done {
        Ok(policy) => Json(policy_json(&policy)).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `GET /api/v1/{tenant}/audit/verify`: the library's audit log checked line by line.
pub(crate) async fn verify_audit(staff: Staff) -> Response {
    if let Err(err) = staff.require(Function::Audit) {
        return err.into_response();
    }
    let log = staff.library.audit.clone();
    let checked = blocking(move || match log.verify() {
        Ok(report) => Ok(Some(report)),
        // No staff action yet: no file.
        Err(catalogue::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err.into()),
    })
    .await;
    match checked {
        Ok(report) => {
            let (lines, head, problems) = match &report {
                Some(report) => (
                    report.lines,
                    report.head.as_ref().map(ToString::to_string),
                    report
                        .problems
                        .iter()
                        .map(|p| serde_json::json!({ "line": p.line, "problem": p.to_string() }))
                        .collect(),
                ),
                None => (0, None, Vec::new()),
            };
            let intact = problems.is_empty();
            no_store(
                Json(serde_json::json!({ "lines": lines, "head": head, "intact": intact, "problems": problems }))
                    .into_response(),
            )
        }
        Err(err) => err.into_response(),
    }
}
