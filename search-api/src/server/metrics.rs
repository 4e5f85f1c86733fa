//! Prometheus metrics: requests by route and status, latency histograms, index size and
//! indexing lag. Written in the text exposition format by hand: a few counters do not need
//! a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use super::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Request metrics, shared by all handlers.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

impl Metrics {
    /// Records one request. `route` is the matched route pattern, never the raw path, so
    /// the number of series stays bounded and no query text reaches the metrics.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let stats = routes.entry(route.to_owned()).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in stats.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        stats.count += 1;
        stats.sum_seconds += seconds;
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP shiori_http_requests_total HTTP requests by route and status.");
        let _ = writeln!(out, "# TYPE shiori_http_requests_total counter");
        let routes = match self.routes.lock() {
            Ok(routes) => routes,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (route, stats) in routes.iter() {
            for (status, count) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "shiori_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                    label(route)
                );
            }
        }
        let _ = writeln!(out, "# HELP shiori_http_request_duration_seconds HTTP request latency by route.");
        let _ = writeln!(out, "# TYPE shiori_http_request_duration_seconds histogram");
        for (route, stats) in routes.iter() {
            let route = label(route);
            for (bucket, bound) in stats.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "shiori_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {bucket}"
                );
            }
            let _ = writeln!(
                out,
                "shiori_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ =
                writeln!(out, "shiori_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", stats.sum_seconds);
            let _ = writeln!(out, "shiori_http_request_duration_seconds_count{{route=\"{route}\"}} {}", stats.count);
        }
        drop(routes);
        let _ = writeln!(out, "# HELP shiori_index_documents Documents in a library's search index.");
        let _ = writeln!(out, "# TYPE shiori_index_documents gauge");
        for library in state.libraries() {
            let _ = writeln!(
                out,
                "shiori_index_documents{{tenant=\"{}\"}} {}",
                library.tenant.code,
                library.index.num_docs()
            );
        }
        let _ = writeln!(out, "# HELP shiori_index_lag_changes Change-feed entries not yet applied to the index.");
        let _ = writeln!(out, "# TYPE shiori_index_lag_changes gauge");
        for library in state.libraries() {
            let last = library.catalogue.last_change_seq().unwrap_or(0);
            let applied = library.index.applied_seq().unwrap_or(0);
            let _ = writeln!(
                out,
                "shiori_index_lag_changes{{tenant=\"{}\"}} {}",
                library.tenant.code,
                last.saturating_sub(applied)
            );
        }
        let _ = writeln!(out, "# HELP shiori_uptime_seconds Seconds since the server started.");
        let _ = writeln!(out, "# TYPE shiori_uptime_seconds gauge");
        let _ = writeln!(out, "shiori_uptime_seconds {}", state.uptime().as_secs());
        out
    }
}

/// Escapes a label value.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
