//! The JSON API through the router, without a socket: every route, good and bad input.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    get_with(app, uri, &[]).await
}

async fn get_with(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, String, Vec<u8>) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, content_type, body)
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

fn app(data: &TestData) -> axum::Router {
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    search_api::router(data.state())
}

#[tokio::test]
async fn search_finds_japanese_records_with_facets_and_paging() {
    let data = TestData::new("api-search");
    let app = app(&data);
    let (status, content_type, body) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(content_type.starts_with("application/json"));
    let found = json(&body);
    let total = found["total"].as_u64().unwrap();
    assert!(total >= 2, "図書館 found {total}");
    let first = &found["hits"][0];
    for key in ["id", "control_number", "title", "title_reading", "authors", "publisher", "year", "isbn", "ndc"] {
        assert!(first.get(key).is_some(), "hit lacks {key}: {first}");
    }
    for key in ["available", "total", "holds"] {
        assert!(first["availability"][key].is_u64(), "availability lacks {key}");
    }
    assert!(found["facets"]["ndc"].as_array().is_some_and(|a| !a.is_empty()), "no NDC facet: {}", found["facets"]);
    assert_eq!(found["relaxed"], false, "every hit has 図書館");

    // A title typed with a slip finds no record with every character, so the answer is
    // the near matches, flagged, with the likely title offered as a correction.
    let slip = "トポスとしての図書館・読書空間を考えう";
    let query = serde_urlencoded::to_string([("q", slip)]).unwrap();
    let (status, _, body) = get(&app, &format!("/api/v1/tosho/search?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    let near = json(&body);
    assert_eq!(near["relaxed"], true, "{near}");
    assert_eq!(near["hits"][0]["title"], "トポスとしての図書館・読書空間を考える", "{near}");

    // The reading in hiragana or katakana finds the records whose title holds 図書館.
    let titled: Vec<&Value> =
        found["hits"].as_array().unwrap().iter().filter(|h| h["title"].as_str().unwrap().contains("図書館")).collect();
    assert!(!titled.is_empty());
    for reading in ["%E3%81%A8%E3%81%97%E3%82%87%E3%81%8B%E3%82%93", "%E3%83%88%E3%82%B7%E3%83%A7%E3%82%AB%E3%83%B3"] {
        let (_, _, body) = get(&app, &format!("/api/v1/tosho/search?q={reading}&facets=false&per_page=100")).await;
        let ids: Vec<Value> = json(&body)["hits"].as_array().unwrap().iter().map(|h| h["id"].clone()).collect();
        for hit in &titled {
            assert!(ids.contains(&hit["id"]), "reading {reading} misses {}", hit["title"]);
        }
    }

    // Pages of one hit each walk through distinct records.
    let (_, _, one) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8&per_page=1&page=1").await;
    let (_, _, two) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8&per_page=1&page=2").await;
    let (one, two) = (json(&one), json(&two));
    assert_eq!(one["hits"].as_array().unwrap().len(), 1);
    assert_ne!(one["hits"][0]["id"], two["hits"][0]["id"]);

    // A filter narrows: every hit in NDC class 0 has an NDC starting with 0.
    let (status, _, body) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8&filter=ndc:0").await;
    assert_eq!(status, StatusCode::OK);
    let filtered = json(&body);
    assert!(filtered["total"].as_u64().unwrap() <= total);
    for hit in filtered["hits"].as_array().unwrap() {
        assert!(hit["ndc"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with('0')), "{hit}");
    }
}

/// Issue #4: the holding-branch and availability facets, their filters and their labels.
#[tokio::test]
async fn branch_and_availability_facets_filter_and_name_the_branches() {
    let data = TestData::new("api-branches");
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    let bib = crate::support::copies_at_two_branches(&catalogue);
    drop(catalogue);
    let app = search_api::router(data.state());
    // これからの本の話をしよう as the exact title.
    let title =
        "%E3%81%93%E3%82%8C%E3%81%8B%E3%82%89%E3%81%AE%E6%9C%AC%E3%81%AE%E8%A9%B1%E3%82%92%E3%81%97%E3%82%88%E3%81%86";
    let search = |more: &str| format!("/api/v1/tosho/search?q={title}&mode=exact{more}");
    let facet = |found: &Value, name: &str| -> Vec<(String, String, u64)> {
        let values = found["facets"][name].as_array().unwrap_or_else(|| panic!("no {name} facet: {found}"));
        values
            .iter()
            .map(|v| {
                (v["value"].as_str().unwrap().into(), v["label"].as_str().unwrap().into(), v["count"].as_u64().unwrap())
            })
            .collect()
    };
    let owned = |list: &[(&str, &str, u64)]| -> Vec<(String, String, u64)> {
        list.iter().map(|(v, l, c)| (v.to_string(), l.to_string(), *c)).collect()
    };

    let (status, _, body) = get(&app, &search("")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let found = json(&body);
    assert_eq!(found["hits"][0]["id"], bib, "{found}");
    assert_eq!(facet(&found, "branch"), owned(&[("chuo", "中央図書館", 1), ("kita", "北分館", 1)]));
    assert_eq!(facet(&found, "available"), owned(&[("*", "すべての館", 1), ("chuo", "中央図書館", 1)]));
    let (_, _, body) = get(&app, &search("&lang=en")).await;
    let english = json(&body);
    assert_eq!(facet(&english, "branch"), owned(&[("chuo", "Central Library", 1), ("kita", "North Branch", 1)]));
    assert_eq!(facet(&english, "available"), owned(&[("*", "Any branch", 1), ("chuo", "Central Library", 1)]));

    // Filters: held at kita, but in only at chuo.
    for (filter, total) in [("branch:kita", 1), ("available:*", 1), ("available:chuo", 1), ("available:kita", 0)] {
        let (status, _, body) = get(&app, &search(&format!("&filter={filter}"))).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {}", String::from_utf8_lossy(&body));
        assert_eq!(json(&body)["total"], total, "{filter}");
    }
    // Across the library, only this record has a copy in.
    let (_, _, body) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8&filter=available:*").await;
    assert_eq!(json(&body)["total"], 0, "図書館 finds no record with a copy in");

    for bad in ["branch:Chuo", "branch:*", "branch:%E4%B8%AD%E5%A4%AE", "available:a_b", "available:%20chuo"] {
        let (status, content_type, body) = get(&app, &search(&format!("&filter={bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {}", String::from_utf8_lossy(&body));
        assert_eq!(content_type, "application/problem+json", "{bad}");
        assert_eq!(json(&body)["code"], "bad_parameter", "{bad}");
    }
}

#[tokio::test]
async fn bad_input_is_a_4xx_problem_never_a_500() {
    let data = TestData::new("api-bad");
    let app = app(&data);
    let long = "%E3%81%82".repeat(1_001);
    let cases = [
        ("/api/v1/tosho/search", StatusCode::BAD_REQUEST, "empty_query"),
        ("/api/v1/tosho/search?q=", StatusCode::BAD_REQUEST, "empty_query"),
        ("/api/v1/tosho/search?q=a&page=0", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=a&page=abc", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=a&per_page=101", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=a&page=101&per_page=10", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=a&sort=random", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=a&filter=year:abc", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=a&filter=secret:1", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/api/v1/tosho/search?q=%22", StatusCode::BAD_REQUEST, "bad_query"),
        ("/api/v1/tosho/search?q=AND", StatusCode::BAD_REQUEST, "bad_query"),
        ("/api/v1/tosho/search?q=%25%25%25", StatusCode::BAD_REQUEST, "bad_query"),
        ("/api/v1/nowhere/search?q=a", StatusCode::NOT_FOUND, "unknown_tenant"),
        ("/api/v1/..%2F..%2Fetc/search?q=a", StatusCode::NOT_FOUND, "unknown_tenant"),
        ("/api/v1/TOSHO/search?q=a", StatusCode::NOT_FOUND, "unknown_tenant"),
        ("/api/v1/tosho/records/999999", StatusCode::NOT_FOUND, "no_record"),
        ("/api/v1/tosho/records/abc", StatusCode::NOT_FOUND, "no_record"),
        ("/api/v1/tosho/records/1.exe", StatusCode::NOT_FOUND, "no_record"),
        ("/api/v1/tosho/suggest?q=a&limit=0", StatusCode::BAD_REQUEST, "bad_parameter"),
        ("/no/such/page", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (uri, status, code) in cases {
        let (got, content_type, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}: {}", String::from_utf8_lossy(&body));
        assert_eq!(content_type, "application/problem+json", "{uri}");
        let problem = json(&body);
        assert_eq!(problem["code"], code, "{uri}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    let (status, _, body) = get(&app, &format!("/api/v1/tosho/search?q={long}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["code"], "query_too_long");

    // Japanese by default, English on request, by parameter or header.
    let (_, _, body) = get(&app, "/api/v1/tosho/search?q=a&page=0").await;
    assert_eq!(json(&body)["lang"], "ja");
    let (_, _, body) = get(&app, "/api/v1/tosho/search?q=a&page=0&lang=en").await;
    assert!(json(&body)["detail"].as_str().unwrap().contains("page must be"));
    let (_, _, body) = get_with(&app, "/api/v1/tosho/search?q=a&page=0", &[("accept-language", "en-US,en")]).await;
    assert_eq!(json(&body)["lang"], "en");
}

#[tokio::test]
async fn records_come_as_json_marcxml_and_iso2709() {
    let data = TestData::new("api-records");
    let app = app(&data);
    let (_, _, body) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8&per_page=1").await;
    let id = json(&body)["hits"][0]["id"].as_u64().unwrap();

    let (status, _, body) = get(&app, &format!("/api/v1/tosho/records/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let record = json(&body);
    assert_eq!(record["id"], id);
    assert!(record["title"].as_str().unwrap().contains('図') || !record["title"].as_str().unwrap().is_empty());
    assert!(record["marc"].as_array().unwrap().iter().any(|line| line["tag"] == "245"));
    assert!(record["title_reading_catalogued"].as_bool().unwrap(), "JAPAN/MARC carries readings: {record}");

    let (status, content_type, xml) = get(&app, &format!("/api/v1/tosho/records/{id}.marcxml")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/marcxml+xml"));
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains("<collection xmlns=\"http://www.loc.gov/MARC21/slim\">") && xml.contains("tag=\"245\""));

    let (status, content_type, marc) = get(&app, &format!("/api/v1/tosho/records/{id}.mrc")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/marc");
    let records: Vec<_> = catalogue::read_records(&marc).unwrap().collect();
    assert_eq!(records.len(), 1);
    assert_eq!(marc.last(), Some(&0x1d), "ISO 2709 ends with the record terminator");
}

#[tokio::test]
async fn suggestions_health_metrics_openapi_and_cors() {
    let data = TestData::new("api-misc");
    let app = app(&data);
    let (status, _, body) = get(&app, "/api/v1/tosho/suggest?q=%E3%81%A8%E3%81%97%E3%82%87").await;
    assert_eq!(status, StatusCode::OK);
    let suggestions = json(&body);
    assert!(!suggestions.as_array().unwrap().is_empty(), "としょ suggests nothing");

    let (status, _, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["libraries"][0], "tosho");

    let (_, _, body) = get(&app, "/api/v1/libraries").await;
    assert_eq!(json(&body)[0]["name"], "栞市立図書館");

    let (status, content_type, body) = get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"));
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("shiori_http_requests_total{route=\"/api/v1/{tenant}/suggest\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("shiori_index_documents{tenant=\"tosho\"} 233"), "{text}");
    assert!(text.contains("shiori_index_lag_changes{tenant=\"tosho\"}"));

    let (status, _, body) = get(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc = json(&body);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/{tenant}/search"]["get"].is_object());

    let response = app
        .clone()
        .oneshot(
            Request::get("/api/v1/tosho/search?q=a")
                .header("origin", "https://library.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers().get("access-control-allow-origin").unwrap(), "*");
    assert_eq!(response.headers().get("x-content-type-options").unwrap(), "nosniff");
}

/// Issue #16 (highlights for JavaScript): each hit's highlight ranges come as UTF-8 bytes
/// and as UTF-16 code units, and both cut the same text out of the title.
#[tokio::test]
async fn highlights_come_in_bytes_and_in_utf16_units() {
    let data = TestData::new("api-highlights");
    let app = app(&data);
    let (status, _, body) = get(&app, "/api/v1/tosho/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8").await;
    assert_eq!(status, StatusCode::OK);
    let found = json(&body);
    let mut checked = 0;
    for hit in found["hits"].as_array().unwrap() {
        let title = hit["title"].as_str().unwrap();
        let utf16: Vec<u16> = title.encode_utf16().collect();
        let bytes = hit["highlights"].as_array().unwrap();
        let units = hit["highlights_utf16"].as_array().unwrap();
        assert_eq!(bytes.len(), units.len(), "{hit}");
        for (b, u) in bytes.iter().zip(units) {
            let (bs, be) = (b[0].as_u64().unwrap() as usize, b[1].as_u64().unwrap() as usize);
            let (us, ue) = (u[0].as_u64().unwrap() as usize, u[1].as_u64().unwrap() as usize);
            let by_bytes = &title[bs..be];
            let by_units = String::from_utf16(&utf16[us..ue]).unwrap();
            assert_eq!(by_bytes, by_units, "{title}");
            checked += 1;
        }
    }
    assert!(checked > 0, "図書館 is highlighted in some title: {found}");
}
