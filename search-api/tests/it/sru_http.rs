//! SRU through the router: the route, records read from the catalogue, diagnostics with
//! HTTP 200, the unknown-library 404.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

async fn fetch(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_owned())
}

#[tokio::test]
async fn search_retrieve_pages_through_records_and_reports_diagnostics() {
    let data = TestData::new("sru-http");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    let app = search_api::router(data.state());
    let query = "dc.title%3D%E5%9B%B3%E6%9B%B8%E9%A4%A8";

    let (status, xml) = fetch(
        &app,
        Request::get(format!("/tosho/sru?version=1.2&operation=searchRetrieve&query={query}&maximumRecords=2"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let total: usize = element(&xml, "zs:numberOfRecords")
        .or_else(|| element(&xml, "numberOfRecords"))
        .map_or_else(|| panic!("no numberOfRecords: {xml}"), |n| n.parse().unwrap());
    assert!(total > 2, "{total}");
    assert_eq!(xml.matches("tag=\"245\"").count(), 2, "two MARCXML records: {xml}");
    assert!(xml.contains("nextRecordPosition>3<"), "{xml}");

    // The same search as a form POST (yaz-client's `sru post`).
    let (status, posted) = fetch(
        &app,
        Request::post("/tosho/sru")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("version=1.2&operation=searchRetrieve&query={query}&maximumRecords=2")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(posted, xml);

    // Bad CQL: a diagnostic, with HTTP 200 as SRU wants.
    let (status, xml) =
        fetch(&app, Request::get("/tosho/sru?query=dc.title%3D%28unbalanced").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("info:srw/diagnostic/1/10"), "{xml}");

    let (status, xml) = fetch(&app, Request::get("/tosho/sru").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("explainResponse"), "{xml}");

    let (status, _) = fetch(&app, Request::get("/nowhere/sru?query=a").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
