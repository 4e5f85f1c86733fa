//! The HTTP face of OAI-PMH: `GET /{tenant}/oai?verb=…` and `POST` with the arguments as a
//! form (`application/x-www-form-urlencoded`), as the protocol allows both. Always HTTP 200
//! with XML, errors included (the protocol reports them in the answer); an unknown library
//! is the one 404, a fault of the server a 500 whose cause is logged.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::response::Repository;
use crate::error::ApiError;
use crate::server::AppState;

/// The content type of every answer.
const OAI_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The OAI-PMH route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/oai", get(oai).post(oai))
}

async fn oai(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let library = state.library(&tenant)?;
    let encoded =
        if method == Method::POST { String::from_utf8_lossy(&body).into_owned() } else { raw.unwrap_or_default() };
    // Arguments that cannot be decoded are bad arguments, answered as such.
    let pairs: Option<Vec<(String, String)>> = serde_urlencoded::from_str(&encoded).ok();
    let origin = crate::opensearch::origin(&state, &headers, &uri);
    let base_url = format!("{origin}/{}/oai", library.tenant.code);
    let admin_email = admin_email(&origin);
    let answer = crate::api::blocking(move || {
        let repository = Repository {
            tenant: &library.tenant,
            catalogue: &library.catalogue,
            harvests: &library.harvests,
            base_url,
            admin_email,
        };
        match repository.answer(pairs.as_deref()) {
            Ok(xml) => Ok(xml),
            Err(err) => Err(ApiError::internal(&format!("oai ({}): {}", library.tenant.code, err.message()))),
        }
    })
    .await?;
    Ok(crate::opensearch::xml_response(OAI_CONTENT_TYPE, answer).into_response())
}

/// The address Identify gives: the postmaster of the host the repository is reached at
/// (RFC 5321 requires every mail domain to have one); a host that is no mail domain
/// (`localhost`) gets the reserved `.invalid`, which says so rather than invent one.
fn admin_email(origin: &str) -> String {
    let host = origin.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
    let host = host.trim_matches(['[', ']']);
    if host.contains('.') {
        format!("postmaster@{host}")
    } else {
        format!("postmaster@{}.invalid", if host.is_empty() { "localhost" } else { host })
    }
}

#[cfg(test)]
mod tests {
    use super::admin_email;

    #[test]
    fn the_postmaster_of_the_host() {
        assert_eq!(admin_email("https://opac.example.jp"), "postmaster@opac.example.jp");
        assert_eq!(admin_email("http://127.0.0.1:8080"), "postmaster@127.0.0.1");
        assert_eq!(admin_email("http://localhost:8080"), "postmaster@localhost.invalid");
    }
}
