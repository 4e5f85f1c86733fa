//! The HTTP server: shared state, the router, start-up and graceful shutdown.

mod backups;
pub mod config;
mod metrics;
pub(crate) mod tls;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use catalogue::{
    AccessEntry, AccessLogs, AuditEvent, AuditLog, Catalogue, Clock, DataLayout, System, SystemClock, Tenant,
    TenantCode,
};
use indexer::Index;
use tokenizer_dict::JapaneseAnalyzer;
use tower_http::cors::CorsLayer;

pub use config::{Config, LogFormat};
pub use metrics::Metrics;

use crate::error::ApiError;

/// How often the indexer looks at the change feed: a change is searchable within about
/// this plus one commit (budget: 1 s).
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The largest request body accepted anywhere but the MARC import route, which has its own
/// limit ([`AppState::import_limit`], `Config::max_import_bytes`).
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// How often expired sessions and stale login-failure counts are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// The policy of every answer that is not a page (JSON, XML, text): it loads nothing and
/// may not be framed. Pages carry the OPAC's own policy (`opac::render::CSP`).
const CSP_NOT_HTML: &str = "default-src 'none'; frame-ancestors 'none'";

/// HSTS under TLS: a year. No `includeSubDomains`: the deployment does not own its
/// parent domain's other hosts.
const HSTS: &str = "max-age=31536000";

/// One library as the server holds it: its catalogue, its index, and the thread that keeps
/// the index following the catalogue's change feed.
pub struct Library {
    /// The registry entry (code, name).
    pub tenant: Tenant,
    /// The authoritative store.
    pub catalogue: Arc<Catalogue>,
    /// The search index.
    pub index: Arc<Index>,
    /// The library's audit log (staff actions, hash-chained).
    pub audit: Arc<AuditLog>,
    /// The OAI-PMH harvests open on the catalogue (their snapshots and resumption tokens).
    pub(crate) harvests: crate::oai::Harvests,
    follower: std::sync::Mutex<Option<JoinHandle<indexer::Result<()>>>>,
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
    /// The public base URL (scheme, host and any path prefix, no trailing slash) that
    /// absolute links start with, when configured; else they are built from `Host`.
    base_url: Option<Arc<str>>,
    /// Served over TLS: cookies are `Secure` (and `__Host-`), answers carry HSTS.
    tls: bool,
    /// The largest MARC upload accepted by the import route.
    import_limit: usize,
}

struct Shared {
    layout: DataLayout,
    /// The one handle on `system.redb` (redb allows one per file and process): tenants,
    /// accounts, sessions.
    system: Arc<System>,
    /// The access logs of every library and of the deployment.
    access: AccessLogs,
    /// The deployment's audit log (operators' actions).
    system_audit: Arc<AuditLog>,
    /// Login attempts per client address.
    login_limiter: crate::staff::LoginLimiter,
    libraries: BTreeMap<TenantCode, Arc<Library>>,
    analyzer: Arc<JapaneseAnalyzer>,
    metrics: Metrics,
    stop: Arc<AtomicBool>,
    started: Instant,
}

impl AppState {
    /// Opens every registered library of the data folder: its catalogue, its index
    /// (rebuilt when missing or built by another version), caught up with the change feed,
    /// and a follower thread per library.
    pub fn open(layout: &DataLayout) -> anyhow::Result<AppState> {
        Self::open_with_clock(layout, Arc::new(SystemClock))
    }

    /// [`AppState::open`] with the clock that sessions, lockouts, TOTP, rate limits and log
    /// timestamps use (tests pass a [`catalogue::ManualClock`]).
    pub fn open_with_clock(layout: &DataLayout, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
        let analyzer = Arc::new(JapaneseAnalyzer::new()?);
        let system = Arc::new(System::open_with_clock(layout, clock.clone())?);
        let stop = Arc::new(AtomicBool::new(false));
        let mut libraries = BTreeMap::new();
        for tenant in system.tenants()? {
            let library = open_library(layout, tenant, &analyzer, &clock, &stop)?;
            libraries.insert(library.tenant.code.clone(), Arc::new(library));
        }
        Ok(AppState {
            inner: Arc::new(Shared {
                layout: layout.clone(),
                access: AccessLogs::new(layout),
                system_audit: Arc::new(AuditLog::for_system(layout, clock)),
                login_limiter: crate::staff::LoginLimiter::default(),
                system,
                libraries,
                analyzer,
                metrics: Metrics::default(),
                stop,
                started: Instant::now(),
            }),
            base_url: None,
            tls: false,
            import_limit: config::DEFAULT_MAX_IMPORT_BYTES,
        })
    }

    /// The same state, told whether it is served over TLS (cookies and HSTS depend on it).
    pub fn with_tls(mut self, tls: bool) -> AppState {
        self.tls = tls;
        self
    }

    /// Whether the server speaks TLS.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The same state with another limit on MARC uploads (`Config::max_import_bytes`).
    pub fn with_import_limit(mut self, bytes: usize) -> AppState {
        self.import_limit = bytes;
        self
    }

    /// The largest MARC upload `POST /api/v1/{tenant}/import` accepts, in bytes.
    pub fn import_limit(&self) -> usize {
        self.import_limit
    }

    /// The deployment's registry: tenants, accounts, sessions.
    pub fn system(&self) -> &Arc<System> {
        &self.inner.system
    }

    /// The clock security decisions use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.inner.system.clock()
    }

    /// The access logs.
    pub fn access_logs(&self) -> &AccessLogs {
        &self.inner.access
    }

    /// The audit log of a library (`Some`) or of the deployment (`None`).
    pub fn audit_log(&self, tenant: Option<&TenantCode>) -> Option<Arc<AuditLog>> {
        match tenant {
            Some(code) => self.inner.libraries.get(code).map(|l| l.audit.clone()),
            None => Some(self.inner.system_audit.clone()),
        }
    }

    /// Appends to a library's audit log (blocking: the line is fsynced). A failure is
    /// logged, not answered: the action it records has happened.
    pub(crate) fn audit(&self, tenant: Option<&TenantCode>, event: &AuditEvent) {
        if let Some(log) = self.audit_log(tenant)
            && let Err(err) = log.append(event)
        {
            tracing::error!(error = %err, action = %event.action, "cannot write the audit log");
        }
    }

    pub(crate) fn login_limiter(&self) -> &crate::staff::LoginLimiter {
        &self.inner.login_limiter
    }

    /// A registered library by its parsed code.
    pub(crate) fn library_by_code(&self, code: &TenantCode) -> Option<&Arc<Library>> {
        self.inner.libraries.get(code)
    }

    /// The same state with the public base URL absolute links start with (OpenSearch,
    /// feeds), e.g. `https://opac.example.jp` behind a proxy: `Config::base_url`.
    pub fn with_base_url(mut self, base_url: Option<String>) -> AppState {
        self.base_url = base_url
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .map(Arc::from);
        self
    }

    /// The configured public base URL, without a trailing slash.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// The library of a URL's tenant segment, or a 404 that does not say whether the code
    /// was well-formed.
    pub fn library(&self, code: &str) -> Result<Arc<Library>, ApiError> {
        let parsed: TenantCode = code.parse().map_err(|_| ApiError::unknown_tenant(code))?;
        self.inner.libraries.get(&parsed).cloned().ok_or_else(|| ApiError::unknown_tenant(code))
    }

    /// Every library, in code order.
    pub fn libraries(&self) -> impl Iterator<Item = &Arc<Library>> {
        self.inner.libraries.values()
    }

    /// The shared Japanese analyser.
    pub fn analyzer(&self) -> &Arc<JapaneseAnalyzer> {
        &self.inner.analyzer
    }

    /// The data folder.
    pub fn layout(&self) -> &DataLayout {
        &self.inner.layout
    }

    /// Request and index metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Seconds since the state was opened.
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// Stops the follower threads and waits for them; a follower that failed is logged.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        for library in self.libraries() {
            let handle = library.follower.lock().ok().and_then(|mut slot| slot.take());
            if let Some(handle) = handle {
                match handle.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => tracing::error!(tenant = %library.tenant.code, error = %err, "indexer stopped"),
                    Err(_) => tracing::error!(tenant = %library.tenant.code, "indexer thread panicked"),
                }
            }
        }
    }
}

fn open_library(
    layout: &DataLayout,
    tenant: Tenant,
    analyzer: &Arc<JapaneseAnalyzer>,
    clock: &Arc<dyn Clock>,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Library> {
    let catalogue = Arc::new(Catalogue::open(layout, &tenant.code)?);
    let index = match Index::open(layout, &tenant.code, analyzer.clone()) {
        Ok(index) => index,
        Err(indexer::Error::SchemaChanged(_)) => {
            // The index is a derived cache: an index of another version is rebuilt.
            tracing::info!(tenant = %tenant.code, "index built by another version: rebuilding");
            Index::rebuild(layout, &catalogue, analyzer.clone(), &mut |_, _| {})?;
            Index::open(layout, &tenant.code, analyzer.clone())?
        }
        Err(err) => return Err(err.into()),
    };
    let index = if index_out_of_step(&index, &catalogue)? {
        // A restored catalogue (its feed behind the index), or a feed pruned past what the
        // index applied: the feed cannot bring the index up to date, a rebuild can.
        tracing::info!(tenant = %tenant.code, "index out of step with the catalogue: rebuilding");
        drop(index);
        Index::rebuild(layout, &catalogue, analyzer.clone(), &mut |_, _| {})?;
        Index::open(layout, &tenant.code, analyzer.clone())?
    } else {
        index
    };
    let caught_up = index.catch_up(&catalogue)?;
    tracing::info!(
        tenant = %tenant.code,
        documents = index.num_docs(),
        applied = caught_up.changes,
        seq = caught_up.seq,
        "library open"
    );
    let index = Arc::new(index);
    let follower = indexer::follow(index.clone(), catalogue.clone(), FOLLOW_POLL, stop.clone());
    let audit = Arc::new(AuditLog::for_tenant(layout, &tenant.code, clock.clone()));
    Ok(Library {
        tenant,
        catalogue,
        index,
        audit,
        harvests: crate::oai::Harvests::default(),
        follower: std::sync::Mutex::new(Some(follower)),
    })
}

/// Whether the change feed cannot bring the index up to date: the index has applied
/// changes the catalogue never made (a restored backup), or the oldest change still in the
/// feed comes after a gap the index has not applied.
fn index_out_of_step(index: &Index, catalogue: &Catalogue) -> anyhow::Result<bool> {
    let applied = index.applied_seq()?;
    let last = catalogue.last_change_seq()?;
    if applied > last {
        return Ok(true);
    }
    if applied == last {
        return Ok(false);
    }
    let oldest = catalogue.changes_after(0, 1)?.first().map(|c| c.seq);
    Ok(oldest.is_none_or(|oldest| oldest > applied + 1))
}

/// The whole HTTP interface of Shiori.
pub fn router(state: AppState) -> Router {
    // Read-only endpoints may be called from any library's web pages.
    let cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_origin(tower_http::cors::Any)
        .allow_headers([header::ACCEPT, header::ACCEPT_LANGUAGE, header::CONTENT_TYPE]);
    let api = crate::api::routes().layer(cors);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(api)
        .merge(crate::opac::routes())
        .merge(crate::sru::routes())
        .merge(crate::oai::routes())
        .merge(crate::opensearch::routes())
        .merge(crate::staff::routes(&state))
        .fallback(not_found)
        // Pages, JSON and assets go out compressed (br or gzip) to clients that accept it.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), limit_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    let libraries: Vec<_> = state.libraries().map(|l| l.tenant.code.to_string()).collect();
    axum::Json(serde_json::json!({ "status": "ok", "libraries": libraries })).into_response()
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let body = state.metrics().render(&state);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], body)
        .into_response()
}

/// A URL no route serves: an HTML page for a browser outside the API, else the problem.
async fn not_found(State(state): State<AppState>, uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    if !uri.path().starts_with("/api/") && crate::opac::wants_html(&headers) {
        return crate::opac::not_found_page(&state, &uri, &headers);
    }
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "ページが見つかりません", "no such page").into_response()
}

/// Bounds every request body: [`BODY_LIMIT`], or the import limit on the import route.
/// A declared length beyond it is refused at once; a body that grows beyond it while read
/// fails the read, which the handlers answer with the same 413.
async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let import = request.extensions().get::<MatchedPath>().is_some_and(|p| p.as_str() == crate::staff::IMPORT_PATH);
    let limit = if import { state.import_limit() } else { BODY_LIMIT };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return body_too_large(limit).into_response();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// The 413 of a body beyond `limit` bytes.
pub(crate) fn body_too_large(limit: usize) -> ApiError {
    let mib = limit as f64 / (1024.0 * 1024.0);
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("送られたデータが大きすぎます（上限 {mib:.1} MiB、{limit} バイト）"),
        format!("the request body is too large (at most {mib:.1} MiB, {limit} bytes)"),
    )
}

/// Whether reading a body failed because it passed its limit.
pub(crate) fn is_too_large(err: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Who a request acted as, put in a response's extensions by the staff guard (and by a
/// login) for the access log.
#[derive(Debug, Clone)]
pub(crate) struct Principal(pub(crate) String);

/// Counts and times every request by route and status, writes it to the access log of its
/// library (or the deployment's), and adds the security headers every answer carries.
///
/// The log names the matched route template, never the URL: a query holds what a patron
/// searched for.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let time = state.clock().now();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let tenant = tenant_of(&state, &request);
    let client = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    let route_label = route.as_deref().unwrap_or("unmatched");
    state.metrics().observe(route_label, status.as_u16(), elapsed);
    tracing::info!(
        method = %method,
        route = %route_label,
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    let principal = response.extensions().get::<Principal>().map(|p| p.0.clone());
    let entry = AccessEntry {
        time,
        tenant,
        principal,
        method: method.to_string(),
        route: route.unwrap_or_else(|| "-".to_owned()),
        status: status.as_u16(),
        latency_ms: elapsed.as_secs_f64() * 1000.0,
        client,
    };
    // One small append to an open file: not worth a thread hop.
    if let Err(err) = state.access_logs().record(&entry) {
        tracing::warn!(error = %err, "cannot write the access log");
    }
    security_headers(response.headers_mut(), state.tls());
    response
}

/// The library a request is about: its route's `{tenant}` when that is a hosted library.
fn tenant_of(state: &AppState, request: &Request) -> Option<TenantCode> {
    let matched = request.extensions().get::<MatchedPath>()?;
    let template = matched.as_str();
    // The `{tenant}` segment's position in the template gives its value in the path.
    let position = template.split('/').position(|segment| segment == "{tenant}")?;
    let value = request.uri().path().split('/').nth(position)?;
    let code: TenantCode = value.parse().ok()?;
    state.library_by_code(&code).map(|_| code)
}

/// The headers of every answer: no sniffing, no referrer to other sites, no framing (a
/// policy for answers that are not pages; pages carry their own), and HSTS under TLS.
fn security_headers(headers: &mut HeaderMap, tls: bool) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let html = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
        let policy = if html { crate::opac::CSP } else { CSP_NOT_HTML };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    if tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}

/// Runs the server on `config.listen` (HTTPS when `config.tls` is set) until Ctrl-C or
/// SIGTERM, then stops accepting, finishes the requests in flight and stops the indexers.
/// `on_ready` is told the address and the scheme once the socket listens.
pub async fn serve(
    config: &Config,
    state: AppState,
    on_ready: impl FnOnce(std::net::SocketAddr, &'static str),
) -> anyhow::Result<()> {
    let tls = match &config.tls {
        Some(source) => Some(tls::load(source, state.layout())?.0),
        None => None,
    };
    let state = state.with_tls(tls.is_some()).with_import_limit(config.max_import_bytes);
    let listener = std::net::TcpListener::bind(&config.listen)
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", config.listen))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let app = router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let backups = tokio::spawn(backups::daily(state.clone(), config.backup_hour));
    let circulation = tokio::spawn(crate::circulation::daily(state.clone()));
    let mailer = match (&config.smtp_url, &config.mail_from) {
        (Some(url), Some(from)) => {
            let mailer = std::sync::Arc::new(crate::mailer::Mailer::new(url, from)?);
            tracing::info!(from = %from, "notices are e-mailed every minute");
            Some(tokio::spawn(crate::mailer::every_minute(state.clone(), mailer)))
        }
        _ => None,
    };
    match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            on_ready(address, "http");
            axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopping = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                stopping.graceful_shutdown(Some(Duration::from_secs(30)));
            });
            let server =
                axum_server::from_tcp_rustls(listener, axum_server::tls_rustls::RustlsConfig::from_config(tls))?;
            on_ready(address, "https");
            server.handle(handle).serve(app).await?;
        }
    }
    housekeeping.abort();
    backups.abort();
    circulation.abort();
    if let Some(mailer) = mailer {
        mailer.abort();
    }
    let stopping = state.clone();
    tokio::task::spawn_blocking(move || stopping.shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Every hour: deletes expired sessions and stale login-failure counts, and access logs
/// past keeping of libraries that had no request today (a request purges its own).
async fn housekeeping(state: AppState) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let state = state.clone();
        let done = tokio::task::spawn_blocking(move || {
            let pruned = state.system().prune()?;
            let now = state.clock().now();
            let mut purged = catalogue::purge_access_logs(state.layout(), None, now)?.len();
            for library in state.libraries() {
                purged += catalogue::purge_access_logs(state.layout(), Some(&library.tenant.code), now)?.len();
            }
            Ok::<_, catalogue::Error>((pruned, purged))
        })
        .await;
        match done {
            Ok(Ok((pruned, purged))) => tracing::info!(
                sessions = pruned.sessions,
                failure_counts = pruned.failure_counts,
                access_logs = purged,
                "housekeeping"
            ),
            Ok(Err(err)) => tracing::error!(error = %err, "housekeeping failed"),
            Err(err) => tracing::error!(error = %err, "housekeeping panicked"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
