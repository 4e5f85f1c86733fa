//! One login attempt, shared by the API and the login form: the client's rate limit, then
//! `System::login`, then the audit line of a success.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use catalogue::{AuditEvent, LoggedIn, LoginAttempt, LoginOutcome, Scope, SessionToken};
use jiff::Timestamp;

use crate::api::blocking;
use crate::error::ApiError;
use crate::server::{AppState, Library};

/// The client's address, when the server was given it (`ConnectInfo`); `None` in tests
/// without a socket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// What a person typed.
pub(crate) struct Typed {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) second_factor: Option<String>,
}

/// How an attempt ended.
pub(crate) enum Attempted {
    LoggedIn(Box<LoggedIn>),
    Wrong,
    NeedSecondFactor,
    /// The account is locked until then.
    Locked {
        until: Timestamp,
        retry_after: u64,
    },
    /// This client tried too often.
    RateLimited {
        retry_after: u64,
    },
}

/// Tries to log in to `library` as its staff. `previous` is the session the client came
/// with: it is ended whatever happens next, so the new session's id is new.
pub(crate) async fn attempt(
    state: &AppState,
    library: &Arc<Library>,
    client: Option<IpAddr>,
    typed: Typed,
    previous: Option<SessionToken>,
) -> Result<Attempted, ApiError> {
    let now = state.clock().now();
    if let Err(retry_after) = state.login_limiter().take(client, now) {
        tracing::warn!(tenant = %library.tenant.code, client = ?client, "login attempts rate-limited");
        return Ok(Attempted::RateLimited { retry_after });
    }
    let scope = Scope::Tenant(library.tenant.code.clone());
    let system = state.system().clone();
    let outcome = blocking(move || {
        let attempt = LoginAttempt {
            username: &typed.username,
            password: &typed.password,
            second_factor: typed.second_factor.as_deref(),
        };
        Ok(system.login(&scope, &attempt, previous.as_ref())?)
    })
    .await?;
    Ok(match outcome {
        LoginOutcome::LoggedIn(logged_in) => {
            state.login_limiter().give_back(client);
            let code = library.tenant.code.clone();
            let writer = state.clone();
            let event = AuditEvent::new(
                &logged_in.session.principal,
                "auth.login",
                format!("staff {}", logged_in.session.principal.account().username),
            )
            .after(serde_json::json!({
                "second_factor": if logged_in.used_recovery_code { "recovery_code" } else { "totp" },
                "must_change_password": logged_in.session.must_change_password,
            }));
            blocking(move || {
                writer.audit(Some(&code), &event);
                Ok(())
            })
            .await?;
            Attempted::LoggedIn(logged_in)
        }
        LoginOutcome::NeedSecondFactor => Attempted::NeedSecondFactor,
        LoginOutcome::Locked { until } => {
            let seconds = until.duration_since(state.clock().now()).as_secs_f64().ceil().max(1.0) as u64;
            Attempted::Locked { until, retry_after: seconds }
        }
        // WrongCredentials, and any outcome a newer catalogue may add: not logged in.
        _ => Attempted::Wrong,
    })
}
