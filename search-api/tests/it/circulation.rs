//! Circulation over HTTP (issue 7), through the router without a socket: the scripted
//! scenario of the issue (a library set up, a checkout seen by the OPAC JSON, a refused
//! second checkout, a hold that blocks renewal and is trapped at checkin, its expiry with a
//! moved clock), the desk pages, and the patrons' OPAC login with CSRF and lockout.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use catalogue::{Branch, Catalogue, Clock, ManualClock, NewItem, NewPatron, Role, System, TenantCode};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

const NEW_PASSWORD: &str = "hikari-no-michi-91-kaze";
const PATRON_PASSWORD: &str = "yomu-koto-ga-suki-42";

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub(crate) fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }

    pub(crate) fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    fn csrf_field(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf field: {}", self.body));
        self.body[at + 19..at + 19 + 64].to_owned()
    }
}

pub(crate) async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub(crate) fn api(method: Method, uri: &str, body: Option<Value>, token: &str) -> Request<Body> {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap()
}

fn page(uri: &str, cookies: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get(uri);
    let cookie = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

pub(crate) fn form(
    uri: &str,
    cookies: &[(&str, &str)],
    bearer: Option<&str>,
    fields: &[(&str, &str)],
) -> Request<Body> {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let cookie = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie);
    }
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(serde_urlencoded::to_string(fields).unwrap())).unwrap()
}

pub(crate) struct Fixture {
    // Dropped last: the folder goes when the state is gone.
    pub(crate) app: Router,
    pub(crate) state: search_api::AppState,
    pub(crate) clock: ManualClock,
    pub(crate) data: TestData,
}

/// A library `tosho` of JAPAN/MARC records, a tenant admin logged in (its Bearer token),
/// and `prepare` run on the catalogue before the server opens it.
pub(crate) async fn fixture(name: &str, prepare: impl FnOnce(&Catalogue)) -> (Fixture, String) {
    let data = TestData::new(name);
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    prepare(&catalogue);
    drop(catalogue);
    let clock = ManualClock::new("2026-04-01T01:00:00Z".parse().unwrap());
    let issued = {
        let system = System::open_with_clock(&data.layout, std::sync::Arc::new(clock.clone())).unwrap();
        let code: TenantCode = "tosho".parse().unwrap();
        system.create_staff(&code, "kanri", "管理者", Role::TenantAdmin).unwrap()
    };
    let state = data.state_with_clock(&clock);
    let app = search_api::router(state.clone());
    let f = Fixture { app, state, clock, data };
    f.clock.advance(SignedDuration::from_secs(30));
    let code = catalogue::totp_code(issued.totp.secret.expose(), f.clock.now()).unwrap();
    let body = json!({ "username": "kanri", "password": issued.password.expose(), "totp": code });
    let login = send(
        &f.app,
        Request::post("/api/v1/tosho/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let change = json!({ "current_password": issued.password.expose(), "new_password": NEW_PASSWORD });
    let changed = send(&f.app, api(Method::POST, "/api/v1/tosho/auth/password", Some(change), &token)).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    (f, token)
}

async fn availability(app: &Router, bib: u64) -> Value {
    let answer = send(app, page(&format!("/api/v1/tosho/records/{bib}"), &[])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["availability"].clone()
}

/// Issue 7, "Show": the scripted scenario over HTTP with an injected clock.
#[tokio::test]
async fn issue_7_scripted_circulation_scenario_over_http() {
    let (f, token) = fixture("circ-scenario", |_| {}).await;
    let app = &f.app;
    let call = |method: Method, uri: &str, body: Option<Value>| api(method, uri, body, &token);

    // The library set up over HTTP: two branches, a loan rule, a closed day, patrons, an item.
    for (code, ja, en) in [("chuo", "中央図書館", "Central Library"), ("kita", "北分館", "North Branch")] {
        let body = json!({ "name_ja": ja, "name_en": en });
        let put = send(app, call(Method::PUT, &format!("/api/v1/tosho/branches/{code}"), Some(body))).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    }
    let rule = json!({ "category": "adult", "loan_days": 14, "max_renewals": 2, "hold_pickup_days": 3 });
    let put = send(app, call(Method::PUT, "/api/v1/tosho/policies", Some(rule))).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.json()["hold_pickup_days"], 3);
    // 2026-04-15 is a closed day: a loan due then is due the day after.
    let closed = json!({ "closed": ["2026-04-15"], "note": "休館日" });
    let put = send(app, call(Method::PUT, "/api/v1/tosho/branches/chuo/calendar", Some(closed))).await;
    assert_eq!((put.status, put.json()["closed"].as_u64()), (StatusCode::OK, Some(1)), "{}", put.body);
    for (card, name) in [("P0001", "山田 太郎"), ("P0002", "佐藤 花子")] {
        let body = json!({ "card": card, "name": name, "home_branch": "chuo" });
        let created = send(app, call(Method::POST, "/api/v1/tosho/patrons", Some(body))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let item = json!({ "bib_id": 1, "barcode": "B0001", "branch": "chuo", "call_number": "913.6" });
    let created = send(app, call(Method::POST, "/api/v1/tosho/items", Some(item))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(availability(app, 1).await["available"], 1);

    // Checkout: the OPAC's JSON shows the copy unavailable within a second.
    let started = Instant::now();
    let checkout = json!({ "item_barcode": "B0001", "patron_card": "P0001" });
    let lent = send(app, call(Method::POST, "/api/v1/tosho/circulation/checkout", Some(checkout))).await;
    assert_eq!(lent.status, StatusCode::OK, "{}", lent.body);
    assert_eq!(lent.json()["due"], "2026-04-16", "14 days, moved past the closed day");
    loop {
        if availability(app, 1).await["available"] == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "the checkout is not visible within 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(1));

    // A second checkout of the same item: 409 with a clear message, in either language.
    let again = json!({ "item_barcode": "B0001", "patron_card": "P0002" });
    let refused = send(app, call(Method::POST, "/api/v1/tosho/circulation/checkout", Some(again.clone()))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::CONFLICT, "item_on_loan"));
    assert_eq!(refused.json()["detail"], "資料番号 B0001 は貸出中です（返却期限 2026-04-16）");
    let english = send(app, call(Method::POST, "/api/v1/tosho/circulation/checkout?lang=en", Some(again))).await;
    assert_eq!(english.json()["detail"], "item \"B0001\" is on loan, due 2026-04-16");

    // Another patron places a hold; the renewal is refused because of it.
    let hold = json!({ "bib_id": 1, "patron_card": "P0002", "pickup_branch": "chuo" });
    let placed = send(app, call(Method::POST, "/api/v1/tosho/holds", Some(hold))).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!((placed.json()["state"].as_str(), placed.json()["position"].as_u64()), (Some("waiting"), Some(1)));
    assert_eq!(availability(app, 1).await["holds"], 1);
    let renew = json!({ "item_barcode": "B0001" });
    let refused = send(app, call(Method::POST, "/api/v1/tosho/circulation/renew", Some(renew))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::CONFLICT, "hold_waiting"), "{}", refused.body);

    // The patron's loans and holds, for the desk.
    let lookup = send(app, call(Method::GET, "/api/v1/tosho/patrons/P0001", None)).await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
    assert_eq!(lookup.json()["loans"][0]["due"], "2026-04-16");
    let lookup = send(app, call(Method::GET, "/api/v1/tosho/patrons/P0002", None)).await;
    assert_eq!(lookup.json()["holds"][0]["state"], "waiting");

    // Checkin at the pickup branch traps the hold: the record page says 取置中.
    let checkin = json!({ "item_barcode": "B0001", "branch": "chuo" });
    let back = send(app, call(Method::POST, "/api/v1/tosho/circulation/checkin", Some(checkin))).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let back = back.json();
    assert_eq!((back["status"].as_str(), back["returned"].as_bool()), (Some("on_hold_shelf"), Some(true)));
    assert_eq!((back["hold"]["state"].as_str(), back["hold"]["patron_card"].as_str()), (Some("ready"), Some("P0002")));
    let until = back["hold"]["ready_until"].as_str().unwrap().to_owned();
    assert_eq!(until, "2026-04-04", "three open days from 1 April");
    let record = send(app, page("/tosho/records/1", &[])).await;
    assert!(record.body.contains("取置中"), "{}", record.body);
    let shelf = send(app, call(Method::GET, "/api/v1/tosho/branches/chuo/hold-shelf", None)).await;
    assert_eq!(shelf.json()["holds"].as_array().map(Vec::len), Some(1), "{}", shelf.body);
    assert_eq!(availability(app, 1).await["available"], 0);

    // Nothing expires on the last day; the day after, the daily work expires the hold.
    let library = f.state.library("tosho").unwrap();
    f.clock.advance(SignedDuration::from_hours(24 * 3));
    assert_eq!(search_api::daily_circulation(&f.state, &library).unwrap().0, 0);
    f.clock.advance(SignedDuration::from_hours(24));
    assert_eq!(search_api::daily_circulation(&f.state, &library).unwrap().0, 1);
    // (The staff session has timed out by now: the shelf is read from the catalogue.)
    assert!(library.catalogue.hold_shelf("chuo").unwrap().is_empty());
    let now = availability(app, 1).await;
    assert_eq!((now["available"].as_u64(), now["holds"].as_u64()), (Some(1), Some(0)), "{now}");

    // The audit log has every staff action, and no circulation line names a patron.
    let audit = std::fs::read_to_string(f.data.root.join("tenants/tosho/logs/audit.log")).unwrap();
    for action in ["branch.put", "policy.put", "calendar.set", "patron.create", "item.create", "circulation.checkout"] {
        assert!(audit.contains(&format!("\"action\":\"{action}\"")), "{action} not audited: {audit}");
    }
    for line in audit.lines().filter(|l| l.contains("\"circulation.") || l.contains("\"hold.")) {
        assert!(!line.contains("P0001") && !line.contains("P0002"), "a circulation line names a patron: {line}");
    }
}

/// Refusals keep their codes: unknown things 404, malformed bodies 400/422, a role
/// without the function 403 (the STAFF_ROUTES walk checks the rest).
#[tokio::test]
async fn circulation_errors_have_stable_codes() {
    let (f, token) = fixture("circ-errors", |c| {
        c.put_branch(&Branch { code: "chuo".into(), name_ja: "中央".into(), name_en: String::new() }).unwrap();
        c.add_patron(&NewPatron::new("P1", "利用者", "chuo")).unwrap();
    })
    .await;
    let app = &f.app;
    let call = |method: Method, uri: &str, body: Option<Value>| api(method, uri, body, &token);
    let unknown = json!({ "item_barcode": "NOPE", "patron_card": "P1" });
    let answer = send(app, call(Method::POST, "/api/v1/tosho/circulation/checkout", Some(unknown))).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::NOT_FOUND, "unknown_item"));
    let answer = send(app, call(Method::GET, "/api/v1/tosho/patrons/NOPE", None)).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::NOT_FOUND, "unknown_patron"));
    let answer = send(app, call(Method::DELETE, "/api/v1/tosho/holds/99", None)).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::NOT_FOUND, "unknown_hold"));
    let answer = send(app, call(Method::POST, "/api/v1/tosho/circulation/checkout", Some(json!({ "x": 1 })))).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::BAD_REQUEST, "bad_json"));
    let bad = json!({ "bib_id": 1, "barcode": "has space", "branch": "chuo" });
    let answer = send(app, call(Method::POST, "/api/v1/tosho/items", Some(bad))).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    let weak = json!({ "password": "short" });
    let answer = send(app, call(Method::PUT, "/api/v1/tosho/patrons/P1/password", Some(weak))).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"));
    let due = send(app, call(Method::GET, "/api/v1/tosho/circulation/due", None)).await;
    assert_eq!((due.status, due.json()["today"].as_str()), (StatusCode::OK, Some("2026-04-01")));
}

/// The desk screen without JavaScript: each scan a form POST answered by a redirect, the
/// results on the screen; the hold shelf and the due lists.
#[tokio::test]
async fn desk_pages_checkout_and_checkin_by_scanning() {
    let (f, token) = fixture("circ-desk", |c| {
        c.put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() }).unwrap();
        c.add_patron(&NewPatron::new("P1", "山田 太郎", "chuo")).unwrap();
        c.add_item(&NewItem::new(1, "B1", "chuo")).unwrap();
    })
    .await;
    let app = &f.app;
    let bearer = Some(token.as_str());
    let screen = send(app, api(Method::GET, "/tosho/staff/desk", None, &token)).await;
    assert_eq!(screen.status, StatusCode::OK, "{}", screen.body);
    assert!(screen.body.contains("id=\"scan\"") && screen.body.contains("autofocus"), "{}", screen.body);
    assert!(screen.body.contains("aria-live=\"polite\""));
    assert!(screen.body.contains("desk.js?v="));

    let home = send(app, api(Method::GET, "/tosho/staff/", None, &token)).await;
    assert!(home.body.contains("href=\"&#x2f;tosho&#x2f;staff&#x2f;desk\""), "{}", home.body);

    // The card, then the item.
    let scanned = send(app, form("/tosho/staff/desk", &[], bearer, &[("mode", "checkout"), ("scan", "P1")])).await;
    assert_eq!(scanned.status, StatusCode::SEE_OTHER);
    assert_eq!(scanned.location(), "/tosho/staff/desk?mode=checkout&patron=P1");
    let screen = send(app, api(Method::GET, scanned.location(), None, &token)).await;
    assert!(screen.body.contains("利用者: 山田 太郎（P1）"), "{}", screen.body);
    assert!(screen.body.contains("name=\"patron\" value=\"P1\""));
    let lent =
        send(app, form("/tosho/staff/desk", &[], bearer, &[("mode", "checkout"), ("patron", "P1"), ("scan", "B1")]))
            .await;
    assert_eq!(lent.location(), "/tosho/staff/desk?mode=checkout&patron=P1");
    let screen = send(app, api(Method::GET, lent.location(), None, &token)).await;
    assert!(screen.body.contains("貸出: B1"), "{}", screen.body);
    assert!(screen.body.contains("返却期限 2026-04-15"), "{}", screen.body);
    // The same item again: the refusal is on the screen.
    send(app, form("/tosho/staff/desk", &[], bearer, &[("mode", "checkout"), ("patron", "P1"), ("scan", "B1")])).await;
    let screen = send(app, api(Method::GET, "/tosho/staff/desk?mode=checkout&patron=P1", None, &token)).await;
    assert!(screen.body.contains("desk-line--error") && screen.body.contains("貸出中です"), "{}", screen.body);

    let due = send(app, api(Method::GET, "/tosho/staff/due", None, &token)).await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.body);
    let patron = send(app, api(Method::GET, "/tosho/staff/patron?card=P1", None, &token)).await;
    assert!(patron.body.contains("B1") && patron.body.contains("2026-04-15"), "{}", patron.body);

    // Checkin.
    let back = send(app, form("/tosho/staff/desk", &[], bearer, &[("mode", "checkin"), ("scan", "B1")])).await;
    assert_eq!(back.location(), "/tosho/staff/desk?mode=checkin");
    let screen = send(app, api(Method::GET, back.location(), None, &token)).await;
    assert!(screen.body.contains("返却: B1"), "{}", screen.body);
    let shelf = send(app, api(Method::GET, "/tosho/staff/hold-shelf?branch=chuo", None, &token)).await;
    assert_eq!(shelf.status, StatusCode::OK, "{}", shelf.body);

    // A cookie session's scan without the CSRF token is refused by the guard.
    let no_csrf = send(app, form("/tosho/staff/desk", &[("shiori-session", &token)], None, &[("scan", "B1")])).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
}

/// Holds at the desk: the patron page places a hold on the record of a scanned copy (or a
/// record number) for the patron at the desk, lists it with a cancel button, and cancels
/// only that patron's holds.
#[tokio::test]
async fn desk_patron_page_places_and_cancels_holds() {
    let (f, token) = fixture("circ-desk-holds", |c| {
        c.put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() }).unwrap();
        c.put_branch(&Branch { code: "kita".into(), name_ja: "北分館".into(), name_en: "North".into() }).unwrap();
        c.add_patron(&NewPatron::new("P1", "山田 太郎", "chuo")).unwrap();
        c.add_patron(&NewPatron::new("P2", "佐藤 花子", "kita")).unwrap();
        c.add_item(&NewItem::new(1, "B1", "chuo")).unwrap();
        c.add_item(&NewItem::new(2, "B2", "kita")).unwrap();
    })
    .await;
    let app = &f.app;
    let bearer = Some(token.as_str());
    // P2 has B1 on loan, so P1's hold on record 1 waits in the queue.
    let lent = json!({ "item_barcode": "B1", "patron_card": "P2" });
    let lent = send(app, api(Method::POST, "/api/v1/tosho/circulation/checkout", Some(lent), &token)).await;
    assert_eq!(lent.status, StatusCode::OK, "{}", lent.body);

    let page = send(app, api(Method::GET, "/tosho/staff/patron?card=P1", None, &token)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("action=\"&#x2f;tosho&#x2f;staff&#x2f;patron&#x2f;holds\""), "{}", page.body);
    // The pickup branch offered first is the patron's home branch.
    assert!(page.body.contains("<option value=\"chuo\" selected>"), "{}", page.body);

    // By the copy's barcode.
    let placed = send(
        app,
        form("/tosho/staff/patron/holds", &[], bearer, &[("card", "P1"), ("record", "B1"), ("pickup", "chuo")]),
    )
    .await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER, "{}", placed.body);
    assert_eq!(placed.location(), "/tosho/staff/patron?card=P1&done=hold_placed");
    let page = send(app, api(Method::GET, placed.location(), None, &token)).await;
    assert!(page.body.contains("予約を受け付けました。"), "{}", page.body);
    assert!(page.body.contains("順番待ち"), "{}", page.body);
    let patron = send(app, api(Method::GET, "/api/v1/tosho/patrons/P1", None, &token)).await.json();
    let holds = patron["holds"].as_array().unwrap();
    assert_eq!(holds.len(), 1, "{patron}");
    assert_eq!(holds[0]["bib_id"], 1);
    let hold_id = holds[0]["id"].as_u64().unwrap().to_string();

    // The same record again: refused with the reason on the page, nothing placed.
    let again = send(
        app,
        form("/tosho/staff/patron/holds", &[], bearer, &[("card", "P1"), ("record", "B1"), ("pickup", "chuo")]),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("role=\"alert\""), "{}", again.body);
    // An unknown barcode or record number.
    let unknown = send(
        app,
        form("/tosho/staff/patron/holds", &[], bearer, &[("card", "P1"), ("record", "NOPE-9"), ("pickup", "chuo")]),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert!(unknown.body.contains("NOPE-9"), "{}", unknown.body);
    // By record number, for pickup at the other branch.
    let by_number = send(
        app,
        form("/tosho/staff/patron/holds", &[], bearer, &[("card", "P1"), ("record", "2"), ("pickup", "kita")]),
    )
    .await;
    assert_eq!(by_number.status, StatusCode::SEE_OTHER, "{}", by_number.body);
    let patron = send(app, api(Method::GET, "/api/v1/tosho/patrons/P1", None, &token)).await.json();
    assert_eq!(patron["holds"].as_array().unwrap().len(), 2, "{patron}");

    // Cancelling P1's hold from P2's page is refused: the hold is not P2's.
    let wrong =
        send(app, form("/tosho/staff/patron/holds/cancel", &[], bearer, &[("card", "P2"), ("hold", hold_id.as_str())]))
            .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND, "{}", wrong.body);
    let cancelled =
        send(app, form("/tosho/staff/patron/holds/cancel", &[], bearer, &[("card", "P1"), ("hold", hold_id.as_str())]))
            .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "{}", cancelled.body);
    assert_eq!(cancelled.location(), "/tosho/staff/patron?card=P1&done=hold_cancelled");
    let patron = send(app, api(Method::GET, "/api/v1/tosho/patrons/P1", None, &token)).await.json();
    let holds = patron["holds"].as_array().unwrap();
    assert_eq!(holds.len(), 1, "{patron}");
    assert_eq!(holds[0]["bib_id"], 2);

    // A cookie session without the CSRF token is refused by the guard.
    let no_csrf = send(
        app,
        form("/tosho/staff/patron/holds", &[("shiori-session", &token)], None, &[("card", "P1"), ("record", "B2")]),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
}

/// A patron who lost both the authenticator and the recovery codes: the desk turns their
/// two-step verification off; the password alone logs in again.
#[tokio::test]
async fn staff_reset_a_patrons_two_step_verification() {
    let at: jiff::Timestamp = "2026-03-31T00:00:00Z".parse().unwrap();
    let (f, token) = fixture("circ-totp-reset", |c| {
        c.put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() }).unwrap();
        let patron = c.add_patron(&NewPatron::new("P1", "山田 太郎", "chuo")).unwrap();
        c.set_patron_password("P1", PATRON_PASSWORD, at).unwrap();
        let catalogue::PatronLoginOutcome::LoggedIn { token, .. } =
            c.patron_login("P1", PATRON_PASSWORD, None, at).unwrap()
        else {
            panic!("no session")
        };
        let enrolment = c.begin_patron_totp(patron.id).unwrap();
        let code = catalogue::totp_code(enrolment.secret.expose(), at).unwrap();
        c.confirm_patron_totp(&token, PATRON_PASSWORD, &code, at).unwrap();
    })
    .await;
    let library = f.state.library("tosho").unwrap();
    let later = at + SignedDuration::from_mins(5);
    let outcome = library.catalogue.patron_login("P1", PATRON_PASSWORD, None, later).unwrap();
    assert!(matches!(outcome, catalogue::PatronLoginOutcome::NeedSecondFactor { .. }));

    let unknown = send(&f.app, api(Method::DELETE, "/api/v1/tosho/patrons/NOPE/totp", None, &token)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    let reset = send(&f.app, api(Method::DELETE, "/api/v1/tosho/patrons/P1/totp", None, &token)).await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.body);
    let outcome = library.catalogue.patron_login("P1", PATRON_PASSWORD, None, later).unwrap();
    assert!(matches!(outcome, catalogue::PatronLoginOutcome::LoggedIn { .. }));
}

/// The patrons' OPAC login: CSRF on every form, lockout after repeated failures, a patron
/// session that never passes the staff guard, loans with due dates, renewal, holds placed
/// from the record page and cancelled.
#[tokio::test]
async fn patron_login_loans_renewal_and_holds() {
    let now: jiff::Timestamp = "2026-04-01T01:00:00Z".parse().unwrap();
    let (f, _) = fixture("circ-patron", |c| {
        c.put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() }).unwrap();
        for card in ["P1", "P2"] {
            c.add_patron(&NewPatron::new(card, "読書 好子", "chuo")).unwrap();
            c.set_patron_password(card, PATRON_PASSWORD, now).unwrap();
        }
        c.add_item(&NewItem::new(1, "B1", "chuo")).unwrap();
        c.add_item(&NewItem::new(2, "B2", "chuo")).unwrap();
        c.checkout("B1", "P1", now).unwrap();
    })
    .await;
    let app = &f.app;

    // Logged out: the patron's page sends to the login form.
    let my = send(app, page("/tosho/my/", &[])).await;
    assert_eq!((my.status, my.location()), (StatusCode::SEE_OTHER, "/tosho/my/login"));
    let form_page = send(app, page("/tosho/my/login", &[])).await;
    assert_eq!(form_page.status, StatusCode::OK);
    let login_cookie = form_page.cookie("shiori-patron-login").unwrap();
    let csrf = form_page.csrf_field();
    assert_eq!(login_cookie, csrf);

    // No CSRF token: refused. Wrong passwords: refused, then locked.
    let no_csrf = send(app, form("/tosho/my/login", &[], None, &[("card", "P1"), ("password", PATRON_PASSWORD)])).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let cookies = [("shiori-patron-login", login_cookie.as_str())];
    for attempt in 1..=5 {
        let wrong = send(
            app,
            form(
                "/tosho/my/login",
                &cookies,
                None,
                &[("csrf", &csrf), ("card", "P2"), ("password", "wrong password!")],
            ),
        )
        .await;
        let expected = if attempt < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(wrong.status, expected, "attempt {attempt}: {}", wrong.body);
    }
    let locked = send(
        app,
        form("/tosho/my/login", &cookies, None, &[("csrf", &csrf), ("card", "P2"), ("password", PATRON_PASSWORD)]),
    )
    .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "the right password is not even tried while locked");
    // An unknown card is answered like a wrong password.
    let unknown =
        send(app, form("/tosho/my/login", &cookies, None, &[("csrf", &csrf), ("card", "NOPE"), ("password", "x")]))
            .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    f.clock.advance(SignedDuration::from_mins(2));
    let logged_in = send(
        app,
        form("/tosho/my/login", &cookies, None, &[("csrf", &csrf), ("card", "P1"), ("password", PATRON_PASSWORD)]),
    )
    .await;
    assert_eq!((logged_in.status, logged_in.location()), (StatusCode::SEE_OTHER, "/tosho/my/"), "{}", logged_in.body);
    let session = logged_in.cookie("shiori-patron").unwrap();
    assert_eq!(session.len(), 64);
    let me = [("shiori-patron", session.as_str())];

    // The patron session never passes the staff guard, whatever it is sent as.
    let as_bearer = send(app, api(Method::GET, "/api/v1/tosho/auth/me", None, &session)).await;
    assert_eq!(as_bearer.status, StatusCode::UNAUTHORIZED);
    let as_cookie = send(app, page("/tosho/staff/", &[("shiori-session", &session)])).await;
    assert_eq!(as_cookie.status, StatusCode::UNAUTHORIZED);

    // Loans with their due dates in Japan, and a renewal (with the CSRF token only).
    let my = send(app, page("/tosho/my/", &me)).await;
    assert_eq!(my.status, StatusCode::OK, "{}", my.body);
    assert!(my.body.contains("2026-04-15（日本時間）"), "{}", my.body);
    assert_eq!(my.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(my.body.contains("延長する</button>") && !my.body.contains("延長できません"), "{}", my.body);
    let csrf = my.csrf_field();
    let forged = send(app, form("/tosho/my/renew", &me, None, &[("item", "B1")])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let not_mine = send(app, form("/tosho/my/renew", &me, None, &[("csrf", &csrf), ("item", "B2")])).await;
    assert_eq!(not_mine.status, StatusCode::CONFLICT, "{}", not_mine.body);
    let renewed = send(app, form("/tosho/my/renew", &me, None, &[("csrf", &csrf), ("item", "B1")])).await;
    assert_eq!((renewed.status, renewed.location()), (StatusCode::SEE_OTHER, "/tosho/my/?done=renewed"));
    let my = send(app, page("/tosho/my/?done=renewed", &me)).await;
    assert!(my.body.contains("延長しました") && my.body.contains(r#"<td data-label="延長回数">1</td>"#), "{}", my.body);
    // Issue #16: the rule allows one renewal, so 延長する is no longer offered, and the page
    // says why instead.
    assert!(!my.body.contains("延長する</button>"), "{}", my.body);
    assert!(my.body.contains("延長できません"), "{}", my.body);

    // The record page's 予約する button: to the hold form, then the hold.
    let button = send(app, form("/tosho/records/2/hold", &me, None, &[])).await;
    assert_eq!((button.status, button.location()), (StatusCode::SEE_OTHER, "/tosho/my/hold?bib=2"));
    let anonymous = send(app, form("/tosho/records/2/hold", &[], None, &[])).await;
    assert_eq!(anonymous.location(), "/tosho/my/login?bib=2");
    let hold_form = send(app, page("/tosho/my/hold?bib=2", &me)).await;
    assert_eq!(hold_form.status, StatusCode::OK, "{}", hold_form.body);
    assert!(hold_form.body.contains("中央図書館"));
    let placed =
        send(app, form("/tosho/my/hold", &me, None, &[("csrf", &csrf), ("bib", "2"), ("pickup", "chuo")])).await;
    assert_eq!((placed.status, placed.location()), (StatusCode::SEE_OTHER, "/tosho/my/?done=held"), "{}", placed.body);
    let twice =
        send(app, form("/tosho/my/hold", &me, None, &[("csrf", &csrf), ("bib", "2"), ("pickup", "chuo")])).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let my = send(app, page("/tosho/my/?done=held", &me)).await;
    assert!(my.body.contains("予約しました") && my.body.contains("順番待ち"), "{}", my.body);
    let hold_id = 1;

    // Another patron cannot cancel it; its patron can.
    let other = {
        let form_page = send(app, page("/tosho/my/login", &[])).await;
        let (cookie, csrf) = (form_page.cookie("shiori-patron-login").unwrap(), form_page.csrf_field());
        f.clock.advance(SignedDuration::from_hours(2));
        let answer = send(
            app,
            form(
                "/tosho/my/login",
                &[("shiori-patron-login", &cookie)],
                None,
                &[("csrf", &csrf), ("card", "P2"), ("password", PATRON_PASSWORD)],
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        answer.cookie("shiori-patron").unwrap()
    };
    let theirs = [("shiori-patron", other.as_str())];
    let their_csrf = send(app, page("/tosho/my/", &theirs)).await.csrf_field();
    let cancel = format!("/tosho/my/holds/{hold_id}/cancel");
    let refused = send(app, form(&cancel, &theirs, None, &[("csrf", &their_csrf)])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    // The first patron's session ended after 15 idle minutes: log in again.
    let expired = send(app, page("/tosho/my/", &me)).await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);

    // Logout ends the session.
    let out = send(app, form("/tosho/my/logout", &theirs, None, &[("csrf", &their_csrf)])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(send(app, page("/tosho/my/", &theirs)).await.status, StatusCode::SEE_OTHER);
}

fn shiori(data: &TestData, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shiori"))
        .arg("--data")
        .arg(&data.root)
        .args(args)
        .env("SHIORI_LOG", "warn")
        .output()
        .unwrap()
}

/// `shiori circ …` on the files, and its refusal while another process (a server) owns them.
#[test]
fn circ_commands_work_on_the_files_and_refuse_while_a_server_owns_them() {
    let data = TestData::new("circ-cli");
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    catalogue
        .put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: String::new() })
        .unwrap();
    catalogue.add_patron(&NewPatron::new("P1", "山田 太郎", "chuo")).unwrap();
    catalogue.add_patron(&NewPatron::new("P2", "佐藤 花子", "chuo")).unwrap();
    catalogue.add_item(&NewItem::new(1, "B1", "chuo")).unwrap();
    drop(catalogue);
    let text = |output: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    };

    let lent = shiori(&data, &["circ", "checkout", "--tenant", "tosho", "--item", "B1", "--patron", "P1"]);
    assert!(lent.status.success(), "{}", text(&lent));
    assert!(text(&lent).contains("lent B1 to P1: due "), "{}", text(&lent));
    let again = shiori(&data, &["circ", "checkout", "--tenant", "tosho", "--item", "B1", "--patron", "P2"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("is on loan") && text(&again).contains("貸出中"), "{}", text(&again));
    let hold =
        shiori(&data, &["circ", "hold", "--tenant", "tosho", "--bib", "1", "--patron", "P2", "--pickup", "chuo"]);
    assert!(text(&hold).contains("placed hold 1 on record 1"), "{}", text(&hold));
    let renew = shiori(&data, &["circ", "renew", "--tenant", "tosho", "--item", "B1"]);
    assert!(!renew.status.success() && text(&renew).contains("another patron is waiting"), "{}", text(&renew));
    let back = shiori(&data, &["circ", "checkin", "--tenant", "tosho", "--item", "B1"]);
    assert!(
        text(&back).contains("now on_hold_shelf") && text(&back).contains("set aside for hold 1"),
        "{}",
        text(&back)
    );
    let cancel = shiori(&data, &["circ", "hold-cancel", "--tenant", "tosho", "--id", "1"]);
    assert!(cancel.status.success(), "{}", text(&cancel));

    // While a server holds the files, the command says so.
    let server = System::open(&data.layout).unwrap();
    let refused = shiori(&data, &["circ", "checkin", "--tenant", "tosho", "--item", "B1"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("is `shiori serve` running"), "{}", text(&refused));
    drop(server);
    let help = shiori(&data, &["circ", "--help"]);
    assert!(text(&help).contains("while `shiori serve` runs it owns the files"), "{}", text(&help));
}
