//! The one error type of the HTTP layer: a stable code, a message in the request's
//! language and the right status. Causes (I/O, corruption) go to the log, never to the
//! client.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::lang::Lang;

/// An error answered to a client as a JSON problem object (RFC 9457).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, e.g. `bad_query`.
    pub code: &'static str,
    /// The message in Japanese.
    pub message_ja: String,
    /// The message in English.
    pub message_en: String,
    /// The language to answer in.
    pub lang: Lang,
    /// Headers the answer carries besides the problem's own (`Retry-After`,
    /// `WWW-Authenticate`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with both messages.
    pub fn new(status: StatusCode, code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError { status, code, message_ja: ja.into(), message_en: en.into(), lang: Lang::Ja, headers: Vec::new() }
    }

    /// The same error with one more header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// A 400 about a request parameter.
    pub fn bad_request(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, ja, en)
    }

    /// The tenant in the URL does not exist (or is not a valid code: same answer, so the
    /// response does not tell which codes are well-formed).
    pub fn unknown_tenant(code: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_tenant",
            format!("図書館「{code}」は見つかりません"),
            format!("there is no library {code:?}"),
        )
    }

    /// No such record.
    pub fn no_record(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_record",
            format!("資料 {id} は見つかりません"),
            format!("there is no record {id}"),
        )
    }

    /// A fault of the system; `cause` is logged and not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "システムでエラーが発生しました。しばらくしてからもう一度お試しください",
            "something went wrong on our side; please try again later",
        )
    }

    /// The same error, answered in `lang`.
    pub fn in_lang(mut self, lang: Lang) -> ApiError {
        self.lang = lang;
        self
    }

    /// The message in the error's language.
    pub fn message(&self) -> &str {
        self.lang.pick(&self.message_ja, &self.message_en)
    }
}

impl From<indexer::Error> for ApiError {
    fn from(err: indexer::Error) -> ApiError {
        match err {
            indexer::Error::Query(query) => ApiError::bad_request("bad_query", query.message_ja(), query.to_string()),
            indexer::Error::Request(message) => {
                ApiError::bad_request("bad_parameter", format!("指定が正しくありません: {message}"), message)
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<catalogue::Error> for ApiError {
    fn from(err: catalogue::Error) -> ApiError {
        // The catalogue's messages name the record, item or patron concerned and nothing
        // internal, so the caller's mistakes are shown as they are: in Japanese where the
        // catalogue has a Japanese text (every circulation refusal does), else in English.
        let message = err.to_string();
        let ja = err.message_ja().unwrap_or_else(|| message.clone());
        match err.kind() {
            catalogue::ErrorKind::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", ja, message),
            catalogue::ErrorKind::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", ja, message),
            catalogue::ErrorKind::Invalid => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", ja, message),
            catalogue::ErrorKind::Denied => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "denied",
                "認証できませんでした。もう一度ログインしてください",
                "not authenticated: please log in again",
            ),
            _ => ApiError::internal(&err),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("error"),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.message(),
            "lang": self.lang.tag(),
        });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}
