//! Issue #17 over HTTP: a record catalogued through the records API (the form as JSON and
//! MARCXML), its ETag versions and the refusal of a stale save, the 422 that names the
//! field, history and restore, copies from the branch's barcode range with a suggested
//! call number, withdrawal, the rule that a record in use is not deleted, the staff pages
//! of the form and the editor, and copy cataloguing from a second Shiori over real SRU on
//! loopback and from a target that never answers.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use catalogue::cataloguing::copies::BarcodeRange;
use catalogue::{Branch, NewPatron};
use serde_json::{Value, json};

use crate::circulation::{Answer, api, fixture, form, send};
use crate::support::{JAPAN_MARC, TestData};

/// ぐりとぐら (福音館書店, 1967) as a librarian types it into the form, readings in hiragana.
fn guri_to_gura() -> Value {
    json!({
        "title": "ぐりとぐら",
        "title_reading": "ぐり と ぐら",
        "responsibility": "なかがわりえこ [著] ; おおむらゆりこ [画]",
        "authors": [
            { "name": "中川, 李枝子", "reading": "なかがわ, りえこ", "dates": "1935-" },
            { "name": "大村, 百合子", "reading": "おおむら, ゆりこ", "dates": "1941-" }
        ],
        "place": "東京", "publisher": "福音館書店", "publisher_reading": "ふくいんかんしょてん", "year": "1967",
        "extent": "27p", "size": "20×27cm", "isbn": "978-4-8340-0082-5",
        "ndc": "726.6", "ndc_edition": "9", "audience": "juvenile",
        "subjects": [{ "heading": "絵本", "reading": "えほん" }]
    })
}

fn with_body(
    method: Method,
    uri: &str,
    token: &str,
    kind: &str,
    body: String,
    if_match: Option<&str>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, kind);
    if let Some(tag) = if_match {
        request = request.header(header::IF_MATCH, tag);
    }
    request.body(Body::from(body)).unwrap()
}

fn etag(answer: &Answer) -> &str {
    answer.headers.get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Waits until the index has seen the catalogue's changes: `q` finds `want` records.
async fn found(app: &axum::Router, q: &str, want: u64) -> Value {
    let started = Instant::now();
    loop {
        let uri = format!("/api/v1/tosho/search?q={}", urlencode(q));
        let answer = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let json = answer.json();
        if json["total"].as_u64() == Some(want) {
            return json;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{q}: {} after 10 s, not {want}", json["total"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("q", text)]).unwrap().trim_start_matches("q=").to_owned()
}

#[tokio::test]
async fn records_api_versions_refusals_copies_and_deletion() {
    let (f, token) = fixture("cat-api", |c| {
        c.put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() }).unwrap();
        c.set_barcode_range("chuo", Some(BarcodeRange::new(2_000_001, 2_999_999, 8).unwrap())).unwrap();
        c.add_patron(&NewPatron::new("P1", "山田 太郎", "chuo")).unwrap();
    })
    .await;
    let app = &f.app;
    found(app, "ぐりとぐら", 0).await;

    // The form as JSON: 201, where it is, its version.
    let created = send(app, api(Method::POST, "/api/v1/tosho/records", Some(guri_to_gura()), &token)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_u64().unwrap();
    assert_eq!(created.location(), format!("/api/v1/tosho/records/{id}"));
    assert_eq!(etag(&created), "\"v1\"");
    assert_eq!(created.json()["control_number"], format!("tosho-{id:08}"));
    assert_eq!(created.json()["duplicates"], json!([]));

    // The OPAC finds it by title, by its reading in hiragana and by ISBN-13.
    found(app, "ぐりとぐら", 1).await;
    for q in ["ぐり と ぐら", "9784834000825", "なかがわ りえこ"] {
        let hits = found(app, q, 1).await;
        assert_eq!(hits["hits"][0]["id"].as_u64(), Some(id), "{q}: {hits}");
    }
    let read =
        send(app, Request::get(format!("/api/v1/tosho/records/{id}.marcxml")).body(Body::empty()).unwrap()).await;
    assert_eq!(etag(&read), "\"v1\"");
    assert!(read.body.contains("880-01") && read.body.contains("グリ ト グラ"), "{}", read.body);

    // The same book again is created but flagged as a possible duplicate.
    let again = send(app, api(Method::POST, "/api/v1/tosho/records", Some(guri_to_gura()), &token)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.json()["duplicates"], json!([id]));
    let second = again.json()["id"].as_u64().unwrap();

    // Saves need the version read; a stale one is refused with the current ETag.
    let marcxml = read.body.replace("20×27cm", "20×27 cm");
    let uri = format!("/api/v1/tosho/records/{id}");
    let xml = "application/marcxml+xml";
    let no_tag = send(app, with_body(Method::PUT, &uri, &token, xml, marcxml.clone(), None)).await;
    assert_eq!((no_tag.status, no_tag.code().as_str()), (StatusCode::PRECONDITION_REQUIRED, "if_match_required"));
    let saved = send(app, with_body(Method::PUT, &uri, &token, xml, marcxml.clone(), Some("\"v1\""))).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(etag(&saved), "\"v2\"");
    let stale = send(app, with_body(Method::PUT, &uri, &token, xml, read.body.clone(), Some("\"v1\""))).await;
    assert_eq!((stale.status, stale.code().as_str()), (StatusCode::PRECONDITION_FAILED, "version_mismatch"));
    assert_eq!(etag(&stale), "\"v2\"");

    // A record without 245 is refused naming the field; a form with a bad ISBN names the input.
    let start = marcxml.find("<datafield tag=\"245\"").unwrap();
    let end = start + marcxml[start..].find("</datafield>").unwrap() + "</datafield>".len();
    let broken = format!("{}{}", &marcxml[..start], &marcxml[end..]);
    let refused = send(app, with_body(Method::PUT, &uri, &token, xml, broken, Some("\"v2\""))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_record"));
    let problems = refused.json()["problems"].clone();
    let named: Vec<(&str, &str)> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["code"].as_str().unwrap(), p["tag"].as_str().unwrap()))
        .collect();
    assert!(named.contains(&("missing_field", "245")), "{problems}");
    let mut bad = guri_to_gura();
    bad["isbn"] = json!("978-4-8340-0082-4");
    let refused = send(app, api(Method::POST, "/api/v1/tosho/records", Some(bad), &token)).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_form"));
    assert_eq!(refused.json()["problems"][0]["input"], "isbn");
    assert_eq!(refused.json()["problems"][0]["code"], "isbn_check_digit");
    let text =
        send(app, with_body(Method::POST, "/api/v1/tosho/records", &token, "text/plain", "x".into(), None)).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // History: two versions; version 2 changed 300; restoring version 1 makes version 3.
    let versions = send(app, api(Method::GET, &format!("{uri}/versions"), None, &token)).await;
    let list: Vec<(u64, bool)> = versions.json()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_u64().unwrap(), v["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(list, [(2, true), (1, false)]);
    assert_eq!(versions.json()["versions"][1]["by"], "tosho/kanri");
    let v2 = send(app, api(Method::GET, &format!("{uri}/versions/2"), None, &token)).await;
    let changes = v2.json()["changes"].as_array().unwrap().clone();
    let changed: Vec<&Value> = changes.iter().filter(|c| c["kind"] != "same").collect();
    assert_eq!(changed.len(), 1, "{}", v2.body);
    assert_eq!(changed[0]["tag"], "300");
    let restore = format!("{uri}/versions/1/restore");
    let restored =
        send(app, with_body(Method::POST, &restore, &token, "application/json", String::new(), Some("\"v2\""))).await;
    assert_eq!((restored.status, etag(&restored)), (StatusCode::OK, "\"v3\""), "{}", restored.body);

    // Copies: barcodes from the branch's range, the call number suggested.
    let copies = json!({ "copies": [{ "branch": "chuo" }, { "branch": "chuo", "location": "児童書", "acquired": "2026-03-30" }] });
    let added = send(app, api(Method::POST, &format!("{uri}/copies"), Some(copies), &token)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let added = added.json()["copies"].clone();
    assert_eq!((added[0]["barcode"].as_str(), added[1]["barcode"].as_str()), (Some("02000001"), Some("02000002")));
    assert_eq!(added[0]["call_number"], "726.6/ナ");
    assert_eq!(added[1]["acquired"], "2026-03-30");
    let future = json!({ "copies": [{ "branch": "chuo", "acquired": "2027-01-01" }] });
    let refused = send(app, api(Method::POST, &format!("{uri}/copies"), Some(future), &token)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);

    // Withdrawal needs a reason; a withdrawn copy stops counting in the OPAC.
    let withdraw = "/api/v1/tosho/items/02000002/withdraw";
    let refused = send(app, api(Method::POST, withdraw, Some(json!({ "reason": " " })), &token)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let withdrawn = send(app, api(Method::POST, withdraw, Some(json!({ "reason": "汚損" })), &token)).await;
    assert_eq!((withdrawn.status, withdrawn.json()["status"].as_str()), (StatusCode::OK, Some("withdrawn")));

    // A record with a copy on loan is not deleted; once returned, it is.
    let lend = json!({ "item_barcode": "02000001", "patron_card": "P1" });
    let lent = send(app, api(Method::POST, "/api/v1/tosho/circulation/checkout", Some(lend), &token)).await;
    assert_eq!(lent.status, StatusCode::OK, "{}", lent.body);
    let refused = send(app, api(Method::DELETE, &uri, None, &token)).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::CONFLICT, "record_in_use"), "{}", refused.body);
    let back = json!({ "item_barcode": "02000001" });
    send(app, api(Method::POST, "/api/v1/tosho/circulation/checkin", Some(back), &token)).await;
    let deleted = send(app, api(Method::DELETE, &uri, None, &token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let gone = send(app, Request::get(&uri).body(Body::empty()).unwrap()).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // The index follows: only the duplicate remains.
    let started = Instant::now();
    loop {
        let hits = found(app, "ぐりとぐら", 1).await;
        if hits["hits"][0]["id"].as_u64() == Some(second) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{hits}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn staff_pages_keep_input_name_the_field_and_refuse_a_stale_save() {
    let (f, token) = fixture("cat-pages", |_| {}).await;
    let app = &f.app;
    let bearer = Some(token.as_str());
    let empty = send(app, api(Method::GET, "/tosho/staff/records/new", None, &token)).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("name=\"title_reading\""));

    // Empty readings are filled from the dictionary and the form comes back to be checked.
    let fields = [
        ("title", "ぐりとぐら"),
        ("author_name", "中川, 李枝子"),
        ("author_reading", ""),
        ("author_dates", ""),
        ("author_kind", "person"),
        ("publisher", "福音館書店"),
        ("year", "1967"),
        ("isbn", "4834000826"),
        ("ndc", "726.6"),
        ("action", "save"),
    ];
    let again = send(app, form("/tosho/staff/records/new", &[], bearer, &fields)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(again.body.contains("ヨミを辞書から補いました"), "{}", again.body);
    // Each part of the name read on its own: the family name as the dictionary knows it
    // (given names it often reads otherwise, which is why the librarian checks).
    assert!(again.body.contains("name=\"author_reading\" value=\"ナカガワ, "), "{}", again.body);
    assert!(
        again.body.contains("value=\"グリトグラ\"") || again.body.contains("value=\"グリ ト グラ\""),
        "{}",
        again.body
    );
    // What was typed is kept; a wrong year is shown beside its input.
    let mut bad = fields.to_vec();
    bad.retain(|(k, _)| *k != "year");
    bad.push(("year", "昭和42"));
    bad.push(("title_reading", "グリトグラ"));
    bad.retain(|(k, _)| *k != "author_reading");
    bad.push(("author_reading", "ナカガワ, リエコ"));
    let refused = send(app, form("/tosho/staff/records/new", &[], bearer, &bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("id=\"year-error\""), "{}", refused.body);
    assert!(refused.body.contains("value=\"昭和42\"") && refused.body.contains("value=\"福音館書店\""));

    bad.retain(|(k, _)| *k != "year");
    bad.push(("year", "1967"));
    let created = send(app, form("/tosho/staff/records/new", &[], bearer, &bad)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let record_url = created.location().split('?').next().unwrap().to_owned();
    let page = send(app, api(Method::GET, created.location(), None, &token)).await;
    assert!(page.body.contains("保存しました") && page.body.contains("ぐりとぐら"), "{}", page.body);

    // Two librarians open the editor at version 1; the second save is refused, input kept.
    let editor = send(app, api(Method::GET, &format!("{record_url}/marc"), None, &token)).await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.body);
    let area = editor.body.find("<textarea id=\"marc\"").unwrap();
    let start = area + editor.body[area..].find('>').unwrap() + 1;
    let end = editor.body[start..].find("</textarea>").unwrap() + start;
    let text = html_unescape(&editor.body[start..end]);
    let first = text.replace("=300  \\\\$a1冊.", "=300  \\\\$a27p.");
    assert_ne!(first, text, "{text}");
    let saved =
        send(app, form(&format!("{record_url}/marc"), &[], bearer, &[("version", "1"), ("marc", &first)])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let second = text.replace("=300  \\\\$a1冊.", "=300  \\\\$a27p ;$c20×27cm.");
    let stale =
        send(app, form(&format!("{record_url}/marc"), &[], bearer, &[("version", "1"), ("marc", &second)])).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("ほかの人が保存しました"), "{}", stale.body);
    assert!(stale.body.contains("$a27p ;$c20×27cm."), "the second librarian's input is kept");
    // A broken field is reported with its line, and nothing is saved.
    let broken: String =
        first.lines().map(|l| if l.starts_with("=245") { "=245  10$a" } else { l }).collect::<Vec<_>>().join("\n");
    let line = first.lines().position(|l| l.starts_with("=245")).unwrap() + 1;
    let refused =
        send(app, form(&format!("{record_url}/marc"), &[], bearer, &[("version", "2"), ("marc", &broken)])).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(&format!("{line} 行目")), "line {line}: {}", refused.body);
    let history = send(app, api(Method::GET, &format!("{record_url}/history"), None, &token)).await;
    assert!(history.body.contains("版 2 で変わったフィールド"), "{}", history.body);
    assert!(history.body.contains("300    $a27p."), "{}", history.body);
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Serves `app` on a free loopback port, for the life of the test's runtime.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{address}")
}

#[tokio::test]
async fn copy_cataloguing_from_another_shiori_over_sru_and_from_a_silent_target() {
    // The other library: a second Shiori with the JAPAN/MARC records, on real loopback HTTP.
    let other = TestData::new("cat-copy-source");
    drop(other.tenant("yoso", "よその図書館", &[JAPAN_MARC]));
    let source = serve(search_api::router(other.state())).await;
    // A target that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/sru", silent.local_addr().unwrap());

    let (f, token) = fixture("cat-copy", |c| {
        // This library has only one of the JAPAN/MARC records: a different one.
        let first = c.find_by_control_number("JTNDL", "029455884").unwrap().unwrap();
        for id in 1..=300 {
            if id != first {
                let _ = c.delete(id);
            }
        }
    })
    .await;
    let app = &f.app;
    let target = |name: &str, url: &str, timeout: u64| {
        json!({ "name": name, "label": name, "base_url": url, "schema": "marcxml", "version": "1.2",
                "isbn_index": "bath.isbn", "title_index": "dc.title", "author_index": "dc.creator", "timeout_ms": timeout })
    };
    let targets =
        json!({ "targets": [target("yoso", &format!("{source}/yoso/sru"), 5000), target("silent", &silent_url, 300)] });
    let put = send(app, api(Method::PUT, "/api/v1/tosho/cataloguing/targets", Some(targets), &token)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);

    // 「紙の本は、滅びない」 by ISBN: found there, not here.
    let answer =
        send(app, api(Method::GET, "/api/v1/tosho/cataloguing/copy?target=yoso&isbn=978-4-591-13742-0", None, &token))
            .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["total"], 1, "{json}");
    let found = &json["records"][0];
    assert!(found["title"].as_str().unwrap().contains("紙の本は、滅びない"), "{found}");
    assert_eq!(found["duplicates"], json!([]));
    assert!(
        found["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("035") && f.as_str().unwrap().contains("025095671")),
        "{found}"
    );

    // The one this library has is marked as held, on the page side by side.
    let page =
        send(app, api(Method::GET, "/tosho/staff/copy-cataloguing?target=yoso&isbn=9784794970756", None, &token)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("この図書館に同じ ISBN の書誌があります"), "{}", page.body);

    // Taking the found record: a record of this library, source copy:yoso, searchable.
    let marcxml = found["marcxml"].as_str().unwrap();
    let taken = send(
        app,
        form("/tosho/staff/copy-cataloguing", &[], Some(&token), &[("target", "yoso"), ("marcxml", marcxml)]),
    )
    .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let id: u64 =
        taken.location().trim_start_matches("/tosho/staff/records/").split('?').next().unwrap().parse().unwrap();
    let versions = send(app, api(Method::GET, &format!("/api/v1/tosho/records/{id}/versions"), None, &token)).await;
    assert_eq!(versions.json()["versions"][0]["source"], "copy:yoso", "{}", versions.body);
    let record = send(app, Request::get(format!("/api/v1/tosho/records/{id}")).body(Body::empty()).unwrap()).await;
    assert!(record.body.contains("紙の本は、滅びない"), "{}", record.body);

    // The silent target: a 504 within its time, not a hung request.
    let started = Instant::now();
    let answer =
        send(app, api(Method::GET, "/api/v1/tosho/cataloguing/copy?target=silent&title=本", None, &token)).await;
    assert_eq!(answer.status, StatusCode::GATEWAY_TIMEOUT, "{}", answer.body);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let page =
        send(app, api(Method::GET, "/tosho/staff/copy-cataloguing?target=silent&title=%E6%9C%AC", None, &token)).await;
    assert_eq!(page.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(page.body.contains("role=\"alert\""), "{}", page.body);
    drop(silent);
    // No target named so, and no query: clear refusals.
    let unknown =
        send(app, api(Method::GET, "/api/v1/tosho/cataloguing/copy?target=nowhere&isbn=1", None, &token)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    let empty = send(app, api(Method::GET, "/api/v1/tosho/cataloguing/copy?target=yoso", None, &token)).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.body);
}
