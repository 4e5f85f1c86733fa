//! `POST /api/v1/{tenant}/import`: a MARC upload (ISO 2709 in UTF-8 or MARC-8, or
//! MARCXML; the catalogue detects which from the bytes). Every good record is stored, every
//! bad one reported with its position and reason; the index learns of the new and changed
//! records from the change feed, as it does of any change.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalogue::{AuditEvent, Function};
use serde::Serialize;

use super::guard::Staff;
use crate::api::blocking;
use crate::error::ApiError;
use crate::server::{AppState, body_too_large, is_too_large};

/// The route, also named by the body limit (this route alone takes large bodies).
pub(crate) const IMPORT_PATH: &str = "/api/v1/{tenant}/import";

/// At most this many rejected records are listed in the answer (all are counted).
const MAX_REJECTS_LISTED: usize = 1_000;

#[derive(Serialize)]
struct RejectJson {
    /// 1-based position of the record in the upload.
    ordinal: usize,
    /// Byte offset of the record in the upload.
    offset: usize,
    reason: String,
}

#[derive(Serialize)]
struct ImportJson {
    read: u64,
    new: u64,
    updated: u64,
    unchanged: u64,
    /// Records read as MARC-8 (or mislabelled UTF-8) and converted.
    converted: u64,
    rejected: usize,
    rejects: Vec<RejectJson>,
    /// More records were rejected than `rejects` lists.
    rejects_truncated: bool,
}

/// `POST /api/v1/{tenant}/import` with the MARC file as the body: 200 with what was
/// stored and what was refused, 413 beyond the upload limit, 422 if the body is no MARC.
pub(crate) async fn import(State(state): State<AppState>, staff: Staff, body: Body) -> Response {
    if let Err(err) = staff.require(Function::Import) {
        return err.into_response();
    }
    let limit = state.import_limit();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(err) if is_too_large(&err) => return body_too_large(limit).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "reading an import upload");
            return ApiError::bad_request(
                "bad_body",
                "送られたデータを最後まで読めませんでした",
                "the upload could not be read to its end",
            )
            .into_response();
        }
    };
    let catalogue = staff.library.catalogue.clone();
    let principal = staff.session.principal.clone();
    let tenant = staff.tenant().clone();
    let writer = state.clone();
    let size = bytes.len();
    let done = blocking(move || {
        let report = match catalogue::import_bytes(&catalogue, &bytes, "upload", &mut |_, _| {}) {
            Ok(report) => report,
            Err(catalogue::Error::NotMarc { reason, .. }) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "not_marc",
                    format!("MARC（ISO 2709、MARCXML、.mrk、MARC-in-JSON、その gzip）として読めません: {reason}"),
                    format!("the upload is not MARC (ISO 2709, MARCXML, .mrk, MARC-in-JSON, or gzip of one): {reason}"),
                ));
            }
            Err(err) => return Err(err.into()),
        };
        let event = AuditEvent::new(&principal, "import", "records").after(serde_json::json!({
            "bytes": size,
            "read": report.read,
            "new": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected.len(),
        }));
        writer.audit(Some(&tenant), &event);
        tracing::info!(
            tenant = %tenant,
            principal = %principal,
            read = report.read,
            new = report.created,
            updated = report.updated,
            rejected = report.rejected.len(),
            "import"
        );
        Ok(report)
    })
    .await;
    match done {
        Ok(report) => {
            let answer = ImportJson {
                read: report.read,
                new: report.created,
                updated: report.updated,
                unchanged: report.unchanged,
                converted: report.converted,
                rejected: report.rejected.len(),
                rejects_truncated: report.rejected.len() > MAX_REJECTS_LISTED,
                rejects: report
                    .rejected
                    .into_iter()
                    .take(MAX_REJECTS_LISTED)
                    .map(|r| RejectJson { ordinal: r.ordinal, offset: r.offset, reason: r.reason })
                    .collect(),
            };
            let mut response = Json(answer).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => err.into_response(),
    }
}
