//! The HTTP face of SRU: `GET /{tenant}/sru`, form-encoded `POST` (yaz-client's `sru
//! post`) and SOAP `POST` (SRW, yaz-client's default): parse, search or scan, read the
//! records, render. Always HTTP 200 with XML, as SRU reports errors in diagnostics (and
//! SOAP requests it cannot read in a SOAP fault, as YAZ's own server does); unknown
//! libraries are the one 404.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::soap::{self, SoapVersion};
use super::{SRU_CONTENT_TYPE, SruDiagnostic, SruError, SruOperation, SruRequest, SruServer, SruVersion};
use crate::error::ApiError;
use crate::server::{AppState, Library};

/// The SRU route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/sru", get(sru).post(sru))
}

async fn sru(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let library = state.library(&tenant)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let (pairs, binding) = if method == Method::POST && soap::is_soap(content_type, &body) {
        match soap::parse(&body) {
            Ok(request) => (request.pairs, Some(request.soap)),
            Err(fault) => {
                tracing::debug!(reason = %fault.message, "sru: a SOAP request that cannot be read");
                return Ok(crate::opensearch::xml_response(fault.soap.content_type(), fault.render()).into_response());
            }
        }
    } else {
        let encoded =
            if method == Method::POST { String::from_utf8_lossy(&body).into_owned() } else { raw.unwrap_or_default() };
        match serde_urlencoded::from_str::<Vec<(String, String)>>(&encoded) {
            Ok(pairs) => (pairs, None),
            Err(_) => {
                let error = SruError {
                    version: SruVersion::V2_0,
                    operation: SruOperation::SearchRetrieve,
                    diagnostic: SruDiagnostic {
                        code: 1,
                        details: None,
                        message: "the parameters cannot be decoded".to_owned(),
                    },
                };
                return Ok(reply(None, error.render()));
            }
        }
    };
    let request = match SruRequest::from_query(&pairs) {
        Ok(request) => request,
        Err(error) => return Ok(reply(binding, error.render())),
    };
    let origin = crate::opensearch::origin(&state, &headers, &uri);
    let (host, port) = host_and_port(&origin);
    let server = SruServer {
        host,
        port,
        database: format!("{}/sru", library.tenant.code),
        title: library.tenant.name.clone(),
        title_en: None,
    };
    let body = crate::api::blocking(move || Ok(answer(&library, request, &server))).await?;
    Ok(reply(binding, body))
}

/// The response to a request, whichever binding it came by.
fn answer(library: &Library, request: SruRequest, server: &SruServer) -> String {
    match request {
        SruRequest::Explain(explain) => explain.render(server),
        SruRequest::SearchRetrieve(search) => match library.index.search(&search.search_request()) {
            Ok(results) => {
                let mut records = Vec::with_capacity(results.hits.len());
                for hit in &results.hits {
                    let record = match library.catalogue.get(hit.id) {
                        Ok(Some(bib)) => bib.record().ok(),
                        Ok(None) => None,
                        Err(err) => {
                            tracing::error!(error = %err, bib = hit.id, "sru: reading a record");
                            None
                        }
                    };
                    records.push(record);
                }
                search.render(results.total, &records)
            }
            Err(err) => {
                if !matches!(err, indexer::Error::Query(_) | indexer::Error::Request(_)) {
                    tracing::error!(error = %err, "sru: search failed");
                }
                search.render_diagnostic(&SruDiagnostic::from_search_error(&err))
            }
        },
        SruRequest::Scan(scan) => {
            let start = library.index.scan_start(&scan.term);
            match library.index.scan(scan.index, &start, scan.before(), scan.after(), scan.includes_start()) {
                Ok(list) => scan.render(&list),
                Err(err) => {
                    tracing::error!(error = %err, "sru: scan failed");
                    scan.render_diagnostic(&SruDiagnostic::system_error())
                }
            }
        }
    }
}

/// An SRU response as XML, or inside a SOAP envelope for a SOAP request.
fn reply(binding: Option<SoapVersion>, body: String) -> Response {
    match binding {
        None => xml(body),
        Some(version) => {
            crate::opensearch::xml_response(version.content_type(), soap::envelope(version, &body)).into_response()
        }
    }
}

fn xml(body: String) -> Response {
    crate::opensearch::xml_response(SRU_CONTENT_TYPE, body).into_response()
}

/// Host and port of an origin like `http://127.0.0.1:8080` or `http://[::1]:8080`; port 80
/// when none is given.
fn host_and_port(origin: &str) -> (String, u16) {
    let authority = origin.split("://").nth(1).unwrap_or("localhost").split('/').next().unwrap_or("localhost");
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((address, tail)) => (format!("[{address}]"), tail.strip_prefix(':')),
            None => (authority.to_owned(), None),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        },
    };
    (host, port.and_then(|p| p.parse().ok()).unwrap_or(80))
}

#[cfg(test)]
mod tests {
    use super::host_and_port;

    #[test]
    fn origins_split_into_host_and_port() {
        assert_eq!(host_and_port("http://127.0.0.1:8080"), ("127.0.0.1".to_owned(), 8080));
        assert_eq!(host_and_port("http://[::1]:8080"), ("[::1]".to_owned(), 8080));
        assert_eq!(host_and_port("http://[::1]"), ("[::1]".to_owned(), 80));
        assert_eq!(host_and_port("https://opac.example.jp/base"), ("opac.example.jp".to_owned(), 80));
        assert_eq!(host_and_port(""), ("localhost".to_owned(), 80));
    }
}
