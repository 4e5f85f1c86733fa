//! The OPAC's stylesheet and scripts (the OPAC's, and the circulation desk's), embedded in the binary and served with long cache
//! lifetimes. Pages link them with a hash of their content (`?v=…`), so a new build is
//! fetched at once while an unchanged file is never asked for again.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub(crate) struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// A hash of the content, hex: the version in links and the ETag.
    version: String,
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        asset("opac.css", "text/css; charset=utf-8", include_str!("../../static/opac.css")),
        asset("opac.js", "text/javascript; charset=utf-8", include_str!("../../static/opac.js")),
        asset("desk.js", "text/javascript; charset=utf-8", include_str!("../../static/desk.js")),
    ]
});

fn asset(name: &'static str, content_type: &'static str, body: &'static str) -> Asset {
    // FNV-1a: enough to tell builds apart, no dependency.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Asset { name, content_type, body, version: format!("{hash:016x}") }
}

/// The URL of an embedded file, with its version.
pub(crate) fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => format!("/static/{}?v={}", asset.name, asset.version),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/{file}`.
pub(crate) async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found\n")
            .into_response();
    };
    let etag = format!("\"{}\"", asset.version);
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let etag_value = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)])
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, cache),
            (header::ETAG, etag_value),
        ],
        asset.body,
    )
        .into_response()
}
