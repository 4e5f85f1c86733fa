//! The HTTP server: shared state, the router, start-up and graceful shutdown.

pub mod config;
mod metrics;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use catalogue::{Catalogue, DataLayout, System, Tenant, TenantCode};
use indexer::Index;
use tokenizer_dict::JapaneseAnalyzer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;

pub use config::{Config, LogFormat};
pub use metrics::Metrics;

use crate::error::ApiError;

/// How often the indexer looks at the change feed: a change is searchable within about
/// this plus one commit (budget: 1 s).
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The largest request body accepted anywhere (MARC uploads come with staff routes).
const BODY_LIMIT: usize = 1024 * 1024;

/// One library as the server holds it: its catalogue, its index, and the thread that keeps
/// the index following the catalogue's change feed.
pub struct Library {
    /// The registry entry (code, name).
    pub tenant: Tenant,
    /// The authoritative store.
    pub catalogue: Arc<Catalogue>,
    /// The search index.
    pub index: Arc<Index>,
    follower: std::sync::Mutex<Option<JoinHandle<indexer::Result<()>>>>,
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
    /// The public base URL (scheme, host and any path prefix, no trailing slash) that
    /// absolute links start with, when configured; else they are built from `Host`.
    base_url: Option<Arc<str>>,
}

struct Shared {
    layout: DataLayout,
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
        let analyzer = Arc::new(JapaneseAnalyzer::new()?);
        let system = System::open(layout)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut libraries = BTreeMap::new();
        for tenant in system.tenants()? {
            let library = open_library(layout, tenant, &analyzer, &stop)?;
            libraries.insert(library.tenant.code.clone(), Arc::new(library));
        }
        Ok(AppState {
            inner: Arc::new(Shared {
                layout: layout.clone(),
                libraries,
                analyzer,
                metrics: Metrics::default(),
                stop,
                started: Instant::now(),
            }),
            base_url: None,
        })
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
    Ok(Library { tenant, catalogue, index, follower: std::sync::Mutex::new(Some(follower)) })
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
        .merge(crate::opensearch::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
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

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "ページが見つかりません", "no such page")
}

/// Counts and times every request by route and status, and logs it.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    state.metrics().observe(&route, status.as_u16(), elapsed);
    tracing::info!(
        method = %method,
        route = %route,
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Runs the server on `config.listen` until Ctrl-C or SIGTERM, then stops accepting,
/// finishes the requests in flight and stops the indexers.
pub async fn serve(
    config: &Config,
    state: AppState,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", config.listen))?;
    let address = listener.local_addr()?;
    on_ready(address);
    let app = router(state.clone());
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    let stopping = state.clone();
    tokio::task::spawn_blocking(move || stopping.shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
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
