//! Security of the HTTP layer (issue 6), through the router without a socket: every staff
//! route refuses what it must, the login flows with TOTP, session fixation, CSRF, brute
//! force, rate limits, path traversal in tenant codes, the access log and the headers.
//! Time is a `ManualClock`, so TOTP codes, lockouts and timeouts need no sleeping.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use catalogue::{Clock, Function, ManualClock, Role, System, TenantCode};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use search_api::{Access, PATRON_ROUTES, PatronAccess, STAFF_ROUTES, Surface};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::TestData;

/// The password every test account changes to.
const NEW_PASSWORD: &str = "hikari-no-michi-91-kaze";

/// A staff account as handed over: its one-time password and TOTP secret.
struct Account {
    tenant: &'static str,
    username: &'static str,
    password: String,
    secret: String,
}

struct Fixture {
    data: TestData,
    clock: ManualClock,
    state: search_api::AppState,
    app: Router,
}

/// Two libraries, `tosho` and `other`, and the accounts asked for. With `reader_blind`,
/// `tosho`'s read-only role has `view` switched off, so it holds no function at all.
fn fixture(name: &str, accounts: &[(&'static str, &'static str, Role)], reader_blind: bool) -> (Fixture, Vec<Account>) {
    let data = TestData::new(name);
    drop(data.tenant("tosho", "栞市立図書館", &[]));
    drop(data.tenant("other", "隣町図書館", &[]));
    let clock = ManualClock::new("2026-04-01T01:00:00Z".parse().unwrap());
    let mut issued = Vec::new();
    {
        let system = System::open_with_clock(&data.layout, std::sync::Arc::new(clock.clone())).unwrap();
        for (tenant, username, role) in accounts {
            let code: TenantCode = tenant.parse().unwrap();
            let credentials = system.create_staff(&code, username, "Test", *role).unwrap();
            issued.push(Account {
                tenant,
                username,
                password: credentials.password.expose().to_owned(),
                secret: credentials.totp.secret.expose().to_owned(),
            });
        }
        if reader_blind {
            let code: TenantCode = "tosho".parse().unwrap();
            let mut policy = system.role_policy(&code).unwrap();
            policy.set(Role::ReadOnly, Function::View, false).unwrap();
            system.set_role_policy(&policy).unwrap();
        }
    }
    let state = data.state_with_clock(&clock);
    let app = search_api::router(state.clone());
    (Fixture { data, clock, state, app }, issued)
}

/// What a test looks at in an answer.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }

    /// The value a `Set-Cookie` gives the cookie `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    /// The hidden CSRF field of a form on the page.
    fn csrf_field(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf field: {}", self.body));
        self.body[at + 19..at + 19 + 64].to_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn json_request(method: Method, uri: &str, body: &Value, bearer: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_string())).unwrap()
}

fn get(uri: &str, bearer: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

fn form_request(uri: &str, cookies: &[(&str, &str)], fields: &[(&str, &str)]) -> Request<Body> {
    let cookie = cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(serde_urlencoded::to_string(fields).unwrap())).unwrap()
}

fn get_with_cookie(uri: &str, name: &str, value: &str) -> Request<Body> {
    Request::get(uri).header(header::COOKIE, format!("{name}={value}")).body(Body::empty()).unwrap()
}

impl Fixture {
    /// The TOTP code an authenticator shows now, after moving the clock to the next step
    /// (a code is accepted once).
    fn fresh_code(&self, account: &Account) -> String {
        self.clock.advance(SignedDuration::from_secs(30));
        catalogue::totp_code(&account.secret, self.clock.now()).unwrap()
    }

    async fn api_login(&self, account: &Account, password: &str) -> Answer {
        let code = self.fresh_code(account);
        let body = json!({ "username": account.username, "password": password, "totp": code });
        send(&self.app, json_request(Method::POST, &format!("/api/v1/{}/auth/login", account.tenant), &body, None))
            .await
    }

    /// Logs in with the one-time password, changes it, and returns the Bearer token.
    async fn ready(&self, account: &Account) -> String {
        let answer = self.api_login(account, &account.password).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let token = answer.json()["token"].as_str().unwrap().to_owned();
        let body = json!({ "current_password": account.password, "new_password": NEW_PASSWORD });
        let uri = format!("/api/v1/{}/auth/password", account.tenant);
        let changed = send(&self.app, json_request(Method::POST, &uri, &body, Some(&token))).await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
        token
    }
}

/// A request to a staff route of `tosho`, with a body of the route's kind.
fn staff_request(route: &search_api::StaffRoute, bearer: Option<&str>) -> Request<Body> {
    let uri = route.path.replace("{tenant}", "tosho");
    let mut request = Request::builder().method(route.method.clone()).uri(uri);
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match (route.surface, route.method == Method::GET) {
        (_, true) => Body::empty(),
        (Surface::Api, false) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from("{}")
        }
        (Surface::Page, false) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from("")
        }
    };
    request.body(body).unwrap()
}

/// Issue 6: every staff route of the router refuses an anonymous request (401), a session
/// of another library (403) and a role without the route's function (403). The router is
/// built from `STAFF_ROUTES`, so this walks every staff route there is.
#[tokio::test]
async fn every_staff_route_refuses_anonymous_other_library_and_missing_function() {
    let (f, accounts) = fixture(
        "sec-routes",
        &[
            ("tosho", "admin", Role::TenantAdmin),
            ("tosho", "reader", Role::ReadOnly),
            ("other", "admin", Role::TenantAdmin),
        ],
        true,
    );
    let reader = f.ready(&accounts[1]).await;
    let stranger = f.ready(&accounts[2]).await;
    assert!(STAFF_ROUTES.len() >= 10, "{} staff routes", STAFF_ROUTES.len());
    let mut with_function = 0;
    for route in STAFF_ROUTES {
        let what = format!("{} {}", route.method, route.path);
        assert!(route.path.contains("{tenant}"), "{what}: a staff route names its library");
        if route.surface == Surface::Page {
            assert!(route.path.starts_with("/{tenant}/staff/"), "{what}: staff pages live under /{{tenant}}/staff/");
        }

        let anonymous = send(&f.app, staff_request(route, None)).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{what} anonymous: {}", anonymous.body);
        match route.surface {
            Surface::Api => {
                assert_eq!(anonymous.code(), "not_logged_in", "{what}");
                assert_eq!(anonymous.header(header::WWW_AUTHENTICATE), "Bearer realm=\"shiori\"", "{what}");
            }
            // A page answers with the login form.
            Surface::Page => assert!(anonymous.body.contains("action=\"&#x2f;tosho&#x2f;staff&#x2f;login\""), "{what}"),
        }
        let malformed = send(&f.app, staff_request(route, Some("../../etc/passwd"))).await;
        assert_eq!(malformed.status, StatusCode::UNAUTHORIZED, "{what} malformed token");

        let other = send(&f.app, staff_request(route, Some(&stranger))).await;
        assert_eq!(other.status, StatusCode::FORBIDDEN, "{what} other library: {}", other.body);
        if route.surface == Surface::Api {
            assert_eq!(other.code(), "wrong_library", "{what}");
        }

        if let Access::Function(function) = route.access {
            with_function += 1;
            let refused = send(&f.app, staff_request(route, Some(&reader))).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{what} without {function}: {}", refused.body);
            if route.surface == Surface::Api {
                assert_eq!(refused.code(), "forbidden", "{what}");
            }
        }
    }
    assert!(with_function >= 4, "routes that need a function: {with_function}");

    // An unknown library is a 404 before anything else.
    let nowhere = send(&f.app, get("/api/v1/nowhere/auth/me", Some(&reader))).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    // After 30 idle minutes the session is gone: 401.
    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&reader))).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    f.clock.advance(SignedDuration::from_mins(31));
    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&reader))).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

/// A patron of `tenant` logs in to its OPAC (`card`, `password`): the session cookie's
/// value and the CSRF token of the patron's page.
async fn patron_login(app: &Router, tenant: &str, card: &str, password: &str) -> (String, String) {
    let login = format!("/{tenant}/my/login");
    let form_page = send(app, get(&login, None)).await;
    let cookie = form_page.cookie("shiori-patron-login").unwrap();
    let fields = [("csrf", form_page.csrf_field()), ("card", card.to_owned()), ("password", password.to_owned())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = send(app, form_request(&login, &[("shiori-patron-login", &cookie)], &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let session = answer.cookie("shiori-patron").unwrap();
    let csrf = send(app, get_with_cookie(&format!("/{tenant}/my/"), "shiori-patron", &session)).await.csrf_field();
    (session, csrf)
}

/// A request to a patron route of `tenant`, with the cookies and form fields given.
fn patron_request(
    route: &search_api::PatronRoute,
    tenant: &str,
    cookies: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Request<Body> {
    let uri = route.path.replace("{tenant}", tenant).replace("{id}", "1");
    if route.method == Method::GET {
        let cookie = cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        return Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    }
    form_request(&uri, cookies, fields)
}

/// Issue 7: every route of the patrons' pages belongs to the library of its URL (404 for
/// an unknown one); one that needs a patron session sends a request without a live session
/// of that library (none, a made-up one, another library's) to the login form, and refuses
/// a form without the session's CSRF token; the open ones (the login's two steps) never
/// start a session without their own token. The router is built from `PATRON_ROUTES`, so
/// this walks every patron route there is.
#[tokio::test]
async fn every_patron_route_is_scoped_to_its_library_and_guarded() {
    let data = TestData::new("sec-patron-routes");
    for (code, name) in [("tosho", "栞市立図書館"), ("other", "隣町図書館")] {
        let catalogue = data.tenant(code, name, &[]);
        let chuo = catalogue::Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: String::new() };
        catalogue.put_branch(&chuo).unwrap();
        catalogue.add_patron(&catalogue::NewPatron::new("P1001", "利用者", "chuo")).unwrap();
        catalogue.set_patron_password("P1001", NEW_PASSWORD, jiff::Timestamp::now()).unwrap();
    }
    let app = search_api::router(data.state());
    let (mine, my_csrf) = patron_login(&app, "tosho", "P1001", NEW_PASSWORD).await;
    let (theirs, their_csrf) = patron_login(&app, "other", "P1001", NEW_PASSWORD).await;
    let made_up = "ab".repeat(32);

    assert!(PATRON_ROUTES.len() >= 15, "{} patron routes", PATRON_ROUTES.len());
    let mut guarded = 0;
    for route in PATRON_ROUTES {
        let what = format!("{} {}", route.method, route.path);
        assert!(route.path.starts_with("/{tenant}/my"), "{what}: patron pages live under /{{tenant}}/my");
        let post = route.method == Method::POST;

        let nowhere = send(&app, patron_request(route, "nowhere", &[("shiori-patron", &mine)], &[])).await;
        assert_eq!(nowhere.status, StatusCode::NOT_FOUND, "{what} in an unknown library");
        let traversal = send(&app, patron_request(route, "..%2f..", &[], &[])).await;
        assert_eq!(traversal.status, StatusCode::NOT_FOUND, "{what} with a path for a library");

        match route.access {
            PatronAccess::Session => {
                guarded += 1;
                let login = "/tosho/my/login";
                for (who, cookies, csrf) in [
                    ("anonymous", vec![], String::new()),
                    ("made-up session", vec![("shiori-patron", made_up.as_str())], my_csrf.clone()),
                    ("another library's session", vec![("shiori-patron", theirs.as_str())], their_csrf.clone()),
                    ("a staff cookie", vec![("shiori-session", mine.as_str())], my_csrf.clone()),
                ] {
                    let fields = [("csrf", csrf.as_str())];
                    let answer = send(&app, patron_request(route, "tosho", &cookies, &fields)).await;
                    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{what} {who}: {}", answer.body);
                    assert!(answer.header(header::LOCATION).starts_with(login), "{what} {who}");
                    assert_eq!(answer.cookie("shiori-patron"), None, "{what} {who}");
                }
                if post {
                    let me = [("shiori-patron", mine.as_str())];
                    let no_token = send(&app, patron_request(route, "tosho", &me, &[])).await;
                    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "{what} without a CSRF token");
                    let wrong = send(&app, patron_request(route, "tosho", &me, &[("csrf", &their_csrf)])).await;
                    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{what} with another session's CSRF token");
                }
            }
            PatronAccess::Open => {
                if post {
                    let fields = [("card", "P1001"), ("password", NEW_PASSWORD), ("code", "000000")];
                    let answer = send(&app, patron_request(route, "tosho", &[], &fields)).await;
                    assert!(answer.status != StatusCode::OK, "{what} without a token: {}", answer.body);
                    assert_eq!(answer.cookie("shiori-patron"), None, "{what}: no session without a token");
                }
            }
        }
    }
    assert!(guarded >= 10, "routes that need a patron session: {guarded}");
    // The patron session used throughout is still live: the refusals ended nothing.
    let page = send(&app, get_with_cookie("/tosho/my/", "shiori-patron", &mine)).await;
    assert_eq!(page.status, StatusCode::OK);
}

/// The API login: the second factor asked for, wrong codes refused, a one-time password
/// that must be changed before anything else, a TOTP code accepted once, logout.
#[tokio::test]
async fn api_login_with_totp_then_password_change_and_logout() {
    let (f, accounts) = fixture("sec-api-login", &[("tosho", "yamada", Role::Cataloguer)], false);
    let yamada = &accounts[0];
    let login = "/api/v1/tosho/auth/login";

    let no_code = json!({ "username": "yamada", "password": yamada.password });
    let answer = send(&f.app, json_request(Method::POST, login, &no_code, None)).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::UNAUTHORIZED, "second_factor_required"));

    let wrong_code = json!({ "username": "yamada", "password": yamada.password, "totp": "000000" });
    let answer = send(&f.app, json_request(Method::POST, login, &wrong_code, None)).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::UNAUTHORIZED, "wrong_credentials"));

    // Malformed and mistyped bodies.
    let malformed = Request::post(login)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"username\":"))
        .unwrap();
    assert_eq!(send(&f.app, malformed).await.status, StatusCode::BAD_REQUEST);
    let missing = json!({ "username": "yamada" });
    assert_eq!(send(&f.app, json_request(Method::POST, login, &missing, None)).await.status, StatusCode::BAD_REQUEST);
    let not_json = Request::post(login).body(Body::from("username=yamada")).unwrap();
    assert_eq!(send(&f.app, not_json).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let code = f.fresh_code(yamada);
    let body = json!({ "username": "YAMADA", "password": yamada.password, "totp": code });
    let answer = send(&f.app, json_request(Method::POST, login, &body, None)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    let logged_in = answer.json();
    assert_eq!(logged_in["must_change_password"], true);
    assert_eq!(logged_in["expires_idle_seconds"], 1800);
    assert_eq!(logged_in["account"], "tosho/yamada");
    let token = logged_in["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    // The same code again is refused, even with the right password.
    let replay = send(&f.app, json_request(Method::POST, login, &body, None)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "a TOTP code is accepted once");

    // Until the one-time password is changed, only "me", logout and the change itself.
    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&token))).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["must_change_password"], true);
    assert_eq!(me.json()["functions"], json!([]));
    let audit = send(&f.app, get("/api/v1/tosho/audit/verify", Some(&token))).await;
    assert_eq!(audit.status, StatusCode::FORBIDDEN);

    let password = "/api/v1/tosho/auth/password";
    let weak = json!({ "current_password": yamada.password, "new_password": "password1234" });
    let answer = send(&f.app, json_request(Method::POST, password, &weak, Some(&token))).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"));
    let wrong = json!({ "current_password": "not-the-password", "new_password": NEW_PASSWORD });
    let answer = send(&f.app, json_request(Method::POST, password, &wrong, Some(&token))).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::FORBIDDEN, "wrong_password"));
    let good = json!({ "current_password": yamada.password, "new_password": NEW_PASSWORD });
    let answer = send(&f.app, json_request(Method::POST, password, &good, Some(&token))).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);

    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&token))).await;
    let me = me.json();
    assert_eq!(me["must_change_password"], false);
    assert_eq!(me["role"], "cataloguer");
    assert_eq!(me["functions"], json!(["view", "catalogue_edit", "import", "reports"]));

    // A cataloguer does not administer staff.
    let accounts = send(&f.app, get("/api/v1/tosho/staff/accounts", Some(&token))).await;
    assert_eq!(accounts.status, StatusCode::FORBIDDEN);

    let logout = send(&f.app, json_request(Method::POST, "/api/v1/tosho/auth/logout", &json!({}), Some(&token))).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&token))).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);

    // The new password works; logging out everywhere ends every session of the account.
    let one = f.api_login(yamada, NEW_PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let two = f.api_login(yamada, NEW_PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let uri = "/api/v1/tosho/auth/logout-everywhere";
    let answer = send(&f.app, json_request(Method::POST, uri, &json!({}), Some(&one))).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    for token in [&one, &two] {
        assert_eq!(send(&f.app, get("/api/v1/tosho/auth/me", Some(token))).await.status, StatusCode::UNAUTHORIZED);
    }
    // The logins, the change and the logouts are in the audit log, intact.
    let log = std::fs::read_to_string(f.data.layout.audit_log(&"tosho".parse().unwrap())).unwrap();
    let actions: Vec<String> =
        log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        actions,
        ["auth.login", "auth.password_change", "auth.logout", "auth.login", "auth.login", "auth.logout_everywhere"]
    );
    assert!(!log.contains(NEW_PASSWORD) && !log.contains(&yamada.password), "no password in the audit log");
    let report = catalogue::verify_audit_log(&f.data.layout.audit_log(&"tosho".parse().unwrap())).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
}

/// Issue 6: brute force engages the lockout (429 with Retry-After), and the right password
/// is refused while it lasts.
#[tokio::test]
async fn brute_force_engages_the_lockout() {
    let (f, accounts) = fixture("sec-lockout", &[("tosho", "suzuki", Role::Circulation)], false);
    let suzuki = &accounts[0];
    let mut statuses = Vec::new();
    for guess in 0..5 {
        let answer = f.api_login(suzuki, &format!("guess-number-{guess}-xyz")).await;
        statuses.push(answer.status);
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.code(), "locked");
            let retry: u64 = answer.header(header::RETRY_AFTER).parse().unwrap();
            assert!((1..=60).contains(&retry), "Retry-After {retry}");
        }
    }
    assert_eq!(statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS, "the fifth failure locks");

    // Locked: the right password is not even checked.
    let clock_before = f.clock.now();
    let answer = f.api_login(suzuki, &suzuki.password).await;
    assert_eq!((answer.status, answer.code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "locked"));
    assert!(f.clock.now().duration_since(clock_before) < SignedDuration::from_mins(1));

    // The lock ends after a minute.
    f.clock.advance(SignedDuration::from_mins(1));
    let answer = f.api_login(suzuki, &suzuki.password).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    // The web form locks the same way.
    let web = "/tosho/staff/login";
    let form = send(&f.app, get(web, None)).await;
    let cookie = form.cookie("shiori-login").unwrap();
    let mut last = None;
    for guess in 0..5 {
        let fields = [
            ("username", "suzuki"),
            ("password", &format!("web-guess-{guess}-abc")),
            ("totp", "123456"),
            ("csrf", &cookie),
        ];
        let answer = send(&f.app, form_request(web, &[("shiori-login", &cookie)], &fields)).await;
        last = Some(answer);
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last.body.contains("ログインの失敗が続いたため"), "the lock, not the rate limit: {}", last.body);
    assert!(!last.header(header::RETRY_AFTER).is_empty());
}

/// Issue 6: one client address trying many names is slowed down: 10 attempts a minute.
#[tokio::test]
async fn login_attempts_are_rate_limited_per_client() {
    let (f, _) = fixture("sec-rate", &[], false);
    let mut answers = Vec::new();
    for n in 0..11 {
        let body = json!({ "username": format!("nobody{n}"), "password": "whatever-it-is-1", "totp": "123456" });
        answers.push(send(&f.app, json_request(Method::POST, "/api/v1/tosho/auth/login", &body, None)).await);
    }
    assert!(answers[..10].iter().all(|a| a.status == StatusCode::UNAUTHORIZED));
    assert_eq!((answers[10].status, answers[10].code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(answers[10].header(header::RETRY_AFTER), "6");
    f.clock.advance(SignedDuration::from_secs(6));
    let body = json!({ "username": "nobody", "password": "whatever-it-is-1" });
    let answer = send(&f.app, json_request(Method::POST, "/api/v1/tosho/auth/login", &body, None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

/// Logs in through the form; the `Set-Cookie` answer.
async fn web_login(f: &Fixture, account: &Account, password: &str, session: Option<&str>) -> Answer {
    let form = send(&f.app, get("/tosho/staff/login", None)).await;
    assert_eq!(form.status, StatusCode::OK);
    let login_cookie = form.cookie("shiori-login").unwrap();
    assert_eq!(form.csrf_field(), login_cookie, "double submit: the field repeats the cookie");
    let code = f.fresh_code(account);
    let fields = [("username", account.username), ("password", password), ("totp", &code), ("csrf", &login_cookie)];
    let mut cookies = vec![("shiori-login", login_cookie.as_str())];
    if let Some(session) = session {
        cookies.push(("shiori-session", session));
    }
    send(&f.app, form_request("/tosho/staff/login", &cookies, &fields)).await
}

/// The staff pages: login with a one-time password, the forced password change, the staff
/// home, logout; the cookie's attributes; the session id changing at each step up.
#[tokio::test]
async fn web_login_password_change_home_and_logout() {
    let (f, accounts) = fixture("sec-web", &[("tosho", "clerk", Role::Circulation)], false);
    let clerk = &accounts[0];
    let answer = web_login(&f, clerk, &clerk.password, None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.header(header::LOCATION), "/tosho/staff/password");
    let set_cookie: Vec<&str> =
        answer.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    let session_cookie = set_cookie.iter().find(|c| c.starts_with("shiori-session=")).unwrap();
    assert!(session_cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict"), "{session_cookie}");
    assert!(set_cookie.iter().any(|c| c.starts_with("shiori-login=;") && c.contains("Max-Age=0")));
    let first = answer.cookie("shiori-session").unwrap();

    // The one-time password must be changed before the staff home.
    let home = send(&f.app, get_with_cookie("/tosho/staff/", "shiori-session", &first)).await;
    assert_eq!((home.status, home.header(header::LOCATION)), (StatusCode::SEE_OTHER, "/tosho/staff/password"));
    let page = send(&f.app, get_with_cookie("/tosho/staff/password", "shiori-session", &first)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    let csrf = page.csrf_field();
    let fields = [
        ("current", clerk.password.as_str()),
        ("new", NEW_PASSWORD),
        ("confirm", "something-else-entirely"),
        ("csrf", &csrf),
    ];
    let mismatch = send(&f.app, form_request("/tosho/staff/password", &[("shiori-session", &first)], &fields)).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields =
        [("current", clerk.password.as_str()), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD), ("csrf", &csrf)];
    let changed = send(&f.app, form_request("/tosho/staff/password", &[("shiori-session", &first)], &fields)).await;
    assert_eq!(
        (changed.status, changed.header(header::LOCATION)),
        (StatusCode::SEE_OTHER, "/tosho/staff/"),
        "{}",
        changed.body
    );
    let second = changed.cookie("shiori-session").unwrap();
    assert_ne!(first, second, "a new session id after the password change");
    let old = send(&f.app, get_with_cookie("/tosho/staff/", "shiori-session", &first)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the old id is dead");

    let home = send(&f.app, get_with_cookie("/tosho/staff/?lang=en", "shiori-session", &second)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("tosho&#x2f;clerk") && home.body.contains("Circulation"), "{}", home.body);
    assert!(home.body.contains("Checkout, checkin, renewals"));
    let csrf = home.csrf_field();

    // Logout needs the CSRF token.
    let refused = send(&f.app, form_request("/tosho/staff/logout", &[("shiori-session", &second)], &[])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out =
        send(&f.app, form_request("/tosho/staff/logout", &[("shiori-session", &second)], &[("csrf", &csrf)])).await;
    assert_eq!((out.status, out.header(header::LOCATION)), (StatusCode::SEE_OTHER, "/tosho/staff/login"));
    assert_eq!(out.cookie("shiori-session").as_deref(), Some(""));
    let after = send(&f.app, get_with_cookie("/tosho/staff/", "shiori-session", &second)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    // Wrong password on the form: 401 and the form again, the name kept, no password.
    let wrong = web_login(&f, clerk, "not-my-password-at-all", None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("value=\"clerk\"") && !wrong.body.contains("not-my-password-at-all"));
}

/// Issue 6, session fixation: an id planted in the browser before login is not the id
/// after it, and is ended by the login.
#[tokio::test]
async fn session_fixation_a_planted_id_is_replaced_and_ended() {
    let (f, accounts) = fixture("sec-fixation", &[("tosho", "victim", Role::ReadOnly)], false);
    let victim = &accounts[0];
    // The attacker's own live session (here: of the same account, the worst case).
    let planted = f.ready(victim).await;
    let answer = web_login(&f, victim, NEW_PASSWORD, Some(&planted)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let issued = answer.cookie("shiori-session").unwrap();
    assert_ne!(issued, planted);
    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&planted))).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "the planted session was ended at login");
    let home = send(&f.app, get_with_cookie("/tosho/staff/", "shiori-session", &issued)).await;
    assert_eq!(home.status, StatusCode::OK);

    // A made-up id planted in the cookie changes nothing either.
    let made_up = "ab".repeat(32);
    let answer = web_login(&f, victim, NEW_PASSWORD, Some(&made_up)).await;
    assert_ne!(answer.cookie("shiori-session").unwrap(), made_up);
}

/// Issue 6: a missing or wrong CSRF token is refused with 403, on the login form (double
/// submit) and on every state-changing request of a cookie session.
#[tokio::test]
async fn missing_or_wrong_csrf_tokens_are_refused() {
    let (f, accounts) = fixture("sec-csrf", &[("tosho", "kato", Role::TenantAdmin)], false);
    let kato = &accounts[0];
    let _ = f.ready(kato).await;
    let login = "/tosho/staff/login";
    let code = f.fresh_code(kato);
    let cookie = "cd".repeat(32);
    let wrong = "ef".repeat(32);
    // No cookie; a field that does not match the cookie; no field.
    let cases: [(Vec<(&str, &str)>, &str); 3] =
        [(vec![], ""), (vec![("shiori-login", &cookie)], &wrong), (vec![("shiori-login", &cookie)], "")];
    for (cookies, csrf) in &cases {
        let fields = [("username", "kato"), ("password", NEW_PASSWORD), ("totp", code.as_str()), ("csrf", csrf)];
        let answer = send(&f.app, form_request(login, cookies, &fields)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{cookies:?} {csrf:?}: {}", answer.body);
        assert!(answer.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(answer.cookie("shiori-session").is_none());
    }
    let answer = web_login(&f, kato, NEW_PASSWORD, None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let session = answer.cookie("shiori-session").unwrap();
    let home = send(&f.app, get_with_cookie("/tosho/staff/", "shiori-session", &session)).await;
    let csrf = home.csrf_field();

    // Every state-changing staff route, with the cookie session: no token, a wrong token.
    for route in STAFF_ROUTES.iter().filter(|r| r.method != Method::GET) {
        let uri = route.path.replace("{tenant}", "tosho");
        for token in [None, Some("0".repeat(64))] {
            let mut request = Request::builder()
                .method(route.method.clone())
                .uri(&uri)
                .header(header::COOKIE, format!("shiori-session={session}"));
            let body = match route.surface {
                Surface::Api => {
                    request = request.header(header::CONTENT_TYPE, "application/json");
                    if let Some(token) = &token {
                        request = request.header("x-csrf-token", token.as_str());
                    }
                    Body::from("{}")
                }
                Surface::Page => {
                    request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                    Body::from(token.as_ref().map(|t| format!("csrf={t}")).unwrap_or_default())
                }
            };
            let answer = send(&f.app, request.body(body).unwrap()).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{} {uri} token {token:?}: {}", route.method, answer.body);
        }
    }
    // The session survived all that; with the header the API accepts the cookie session.
    let request = Request::post("/api/v1/tosho/auth/logout")
        .header(header::COOKIE, format!("shiori-session={session}"))
        .header("x-csrf-token", &csrf)
        .body(Body::empty())
        .unwrap();
    let answer = send(&f.app, request).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    assert_eq!(answer.cookie("shiori-session").as_deref(), Some(""));
}

/// Issue 6: path traversal and odd names in the tenant segment are 404s, on the login
/// routes and the staff routes alike.
#[tokio::test]
async fn path_traversal_in_tenant_codes_is_refused() {
    let (f, _) = fixture("sec-traversal", &[], false);
    for tenant in ["..", "%2e%2e", "..%2F..%2Fetc", "TOSHO", "tosho%00", "api", "static", "-x-", "nowhere"] {
        for uri in [format!("/api/v1/{tenant}/auth/me"), format!("/{tenant}/staff/"), format!("/{tenant}/staff/login")]
        {
            let answer = send(&f.app, get(&uri, None)).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.body);
        }
        let body = json!({ "username": "admin", "password": "whatever-it-is-1", "totp": "123456" });
        let uri = format!("/api/v1/{tenant}/auth/login");
        let answer = send(&f.app, json_request(Method::POST, &uri, &body, None)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.body);
    }
    // File names: the embedded assets and record ids are looked up, never joined to a path.
    for uri in [
        "/static/..%2F..%2FCargo.toml",
        "/static/%2e%2e%2fsystem.redb",
        "/static/..%5c..%5csystem.redb",
        "/api/v1/tosho/records/..%2F..%2Fsystem.redb",
        "/tosho/records/..%2Fcatalogue.redb",
    ] {
        let answer = send(&f.app, get(uri, None)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.body);
        assert!(!answer.body.contains("redb") || answer.body.contains("見つかりません"), "{uri}: {}", answer.body);
    }
    // Nothing was made on disk for any of them.
    let tenants: Vec<String> = std::fs::read_dir(f.data.root.join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(tenants.len(), 2, "{tenants:?}");
}

/// Issue 6: the access log has a JST line per request in its library's file, with the
/// route template and never the URL (a search's words stay out of it), the principal of a
/// staff request, and requests outside a library in the deployment's log.
#[tokio::test]
async fn the_access_log_records_route_templates_principals_and_tenants() {
    let (f, accounts) = fixture("sec-access", &[("tosho", "sato", Role::ReadOnly)], false);
    let token = f.ready(&accounts[0]).await;
    let search = send(&f.app, get("/api/v1/tosho/search?q=himitsu-no-hon", None)).await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.body);
    let me = send(&f.app, get("/api/v1/tosho/auth/me", Some(&token))).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(send(&f.app, get("/healthz", None)).await.status, StatusCode::OK);
    assert_eq!(send(&f.app, get("/no/such/page/here", None)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&f.app, get("/other/", None)).await.status, StatusCode::OK);

    let read_logs = |dir: std::path::PathBuf| -> Vec<Value> {
        let mut lines = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("access-") {
                assert_eq!(name, "access-2026-04-01.log", "the Japanese day of 01:00 UTC plus a few minutes");
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains("himitsu"), "the query is not logged: {text}");
                lines.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()));
            }
        }
        lines
    };
    let tosho = read_logs(f.data.root.join("tenants/tosho/logs"));
    let routes: Vec<&str> = tosho.iter().map(|l| l["route"].as_str().unwrap()).collect();
    assert!(routes.contains(&"/api/v1/{tenant}/search"), "{routes:?}");
    assert!(tosho.iter().all(|l| l["tenant"] == "tosho" && l["time"].as_str().unwrap().ends_with("+09:00")));
    let me_line = tosho.iter().find(|l| l["route"] == "/api/v1/{tenant}/auth/me").unwrap();
    assert_eq!(
        (me_line["principal"].as_str(), me_line["method"].as_str(), me_line["status"].as_u64()),
        (Some("tosho/sato"), Some("GET"), Some(200))
    );
    let login_line = tosho.iter().find(|l| l["route"] == "/api/v1/{tenant}/auth/login").unwrap();
    assert_eq!(login_line["principal"], "tosho/sato", "a login logs who logged in");
    let search_line = tosho.iter().find(|l| l["route"] == "/api/v1/{tenant}/search").unwrap();
    assert!(search_line["principal"].is_null() && search_line["client"].is_null());
    assert!(search_line["latency_ms"].as_f64().unwrap() >= 0.0);

    let other = read_logs(f.data.root.join("tenants/other/logs"));
    assert_eq!(other.len(), 1);
    assert_eq!(other[0]["route"], "/{tenant}/");

    let deployment = read_logs(f.data.root.join("logs"));
    let routes: Vec<&str> = deployment.iter().map(|l| l["route"].as_str().unwrap()).collect();
    assert_eq!(routes, ["/healthz", "-"]);
    assert!(deployment.iter().all(|l| l["tenant"].is_null()));
}

/// Issue 6: every answer carries nosniff, a referrer policy and a policy against framing;
/// pages keep the OPAC's own CSP; HSTS and `Secure`/`__Host-` cookies only under TLS.
#[tokio::test]
async fn security_headers_and_tls_only_attributes() {
    let (f, _) = fixture("sec-headers", &[], false);
    for uri in [
        "/api/v1/libraries",
        "/healthz",
        "/tosho/sru?operation=explain",
        "/tosho/oai?verb=Identify",
        "/no/such/page/here",
    ] {
        let answer = send(&f.app, get(uri, None)).await;
        assert_eq!(
            answer.header(header::CONTENT_SECURITY_POLICY),
            "default-src 'none'; frame-ancestors 'none'",
            "{uri}"
        );
        assert_eq!(answer.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        assert_eq!(answer.header(header::REFERRER_POLICY), "same-origin", "{uri}");
        assert!(answer.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{uri}");
    }
    let page = send(&f.app, get("/tosho/staff/login", None)).await;
    assert!(page.header(header::CONTENT_SECURITY_POLICY).starts_with("default-src 'self';"));
    assert!(page.header(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
    let cookie = page.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("shiori-login=") && !cookie.contains("Secure"), "{cookie}");

    let tls = search_api::router(f.state.clone().with_tls(true));
    let page = send(&tls, get("/tosho/staff/login", None)).await;
    assert_eq!(page.header(header::STRICT_TRANSPORT_SECURITY), "max-age=31536000");
    let cookie = page.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Host-shiori-login=") && cookie.ends_with("; Secure"), "{cookie}");
    let json = send(&tls, get("/api/v1/libraries", None)).await;
    assert_eq!(json.header(header::STRICT_TRANSPORT_SECURITY), "max-age=31536000");
}

/// A tenant admin switches a function off for a role through the API: it applies at the
/// role's next request, and the change is in the audit log with before and after.
#[tokio::test]
async fn role_switches_apply_at_the_next_request_and_are_audited() {
    let (f, accounts) =
        fixture("sec-roles", &[("tosho", "boss", Role::TenantAdmin), ("tosho", "reader", Role::ReadOnly)], false);
    let boss = f.ready(&accounts[0]).await;
    let reader = f.ready(&accounts[1]).await;
    let home = send(&f.app, get("/tosho/staff/", Some(&reader))).await;
    assert_eq!(home.status, StatusCode::OK);

    let roles = send(&f.app, get("/api/v1/tosho/staff/roles", Some(&boss))).await;
    assert_eq!(roles.json()["roles"]["read_only"], json!(["view"]));
    let switch = json!({ "role": "read_only", "function": "view", "on": false });
    let answer = send(&f.app, json_request(Method::PUT, "/api/v1/tosho/staff/roles", &switch, Some(&boss))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json()["roles"]["read_only"], json!([]));
    let refused = json!({ "role": "read_only", "function": "staff_admin", "on": true });
    let answer = send(&f.app, json_request(Method::PUT, "/api/v1/tosho/staff/roles", &refused, Some(&boss))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);

    let home = send(&f.app, get("/tosho/staff/", Some(&reader))).await;
    assert_eq!(home.status, StatusCode::FORBIDDEN, "the switch applies at once");

    let listed = send(&f.app, get("/api/v1/tosho/staff/accounts", Some(&boss))).await;
    let names: Vec<String> = listed.json()["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["boss", "reader"]);
    assert!(!listed.body.contains("argon2") && !listed.body.contains("totp_secret"));

    let verified = send(&f.app, get("/api/v1/tosho/audit/verify", Some(&boss))).await;
    let verified = verified.json();
    assert_eq!(verified["intact"], true, "{verified}");
    let log = std::fs::read_to_string(f.data.layout.audit_log(&"tosho".parse().unwrap())).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "role_policy.set");
    assert_eq!(last["principal"], "tosho/boss");
    assert_eq!((last["before"]["functions"].clone(), last["after"]["functions"].clone()), (json!(["view"]), json!([])));
    assert_eq!(verified["head"].as_str().unwrap().split(':').next().unwrap(), log.lines().count().to_string());
}

fn shiori(data: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_shiori"));
    command.arg("--data").arg(data).env("USER", "tester");
    command
}

fn run(command: &mut std::process::Command) -> (bool, String, String) {
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The value after `label` on a line of printed output.
fn printed<'a>(out: &'a str, label: &str) -> &'a str {
    let line = out.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("no {label}: {out}"));
    line.trim_start()[label.len()..].split_whitespace().next().unwrap()
}

/// `shiori admin bootstrap` once and only once; `shiori staff create` prints one-time
/// credentials that log in (with the TOTP secret it printed).
#[tokio::test]
async fn cli_bootstrap_and_staff_create_print_credentials_that_log_in() {
    let data = TestData::new("sec-cli-accounts");
    let (ok, _, err) = run(shiori(&data.root).args(["tenant", "create", "tosho", "--name", "栞市立図書館"]));
    assert!(ok, "{err}");

    let (ok, out, err) = run(shiori(&data.root).args(["admin", "bootstrap"]));
    assert!(ok, "{err}");
    assert_eq!(printed(&out, "account:"), "operator:admin");
    assert!(printed(&out, "TOTP URI:").starts_with("otpauth://totp/Shiori:"), "{out}");
    assert_eq!(printed(&out, "one-time password:").len(), 23, "{out}");
    assert!(out.contains('█') || out.contains('▀') || out.contains('▄'), "a QR code: {out}");
    let codes = out.lines().filter(|l| l.starts_with("  ") && l.trim().len() == 19 && l.matches('-').count() == 3);
    assert_eq!(codes.count(), 10, "{out}");
    let (ok, _, err) = run(shiori(&data.root).args(["admin", "bootstrap", "--username", "second"]));
    assert!(!ok && err.contains("operator already exists"), "{err}");

    let (ok, out, err) = run(shiori(&data.root).args([
        "staff",
        "create",
        "--tenant",
        "tosho",
        "--username",
        "yamada",
        "--role",
        "circulation",
    ]));
    assert!(ok, "{err}");
    let password = printed(&out, "one-time password:").to_owned();
    let secret = printed(&out, "TOTP secret:").to_owned();
    let (ok, _, err) = run(shiori(&data.root).args([
        "staff",
        "create",
        "--tenant",
        "tosho",
        "--username",
        "xyz1",
        "--role",
        "librarian",
    ]));
    assert!(!ok && err.contains("not a role"), "{err}");
    let (ok, _, err) = run(shiori(&data.root).args([
        "staff",
        "create",
        "--tenant",
        "nowhere",
        "--username",
        "xyz1",
        "--role",
        "read_only",
    ]));
    assert!(!ok && err.contains("nowhere"), "{err}");

    let clock = ManualClock::new(jiff::Timestamp::now());
    let app = search_api::router(data.state_with_clock(&clock));
    let body = json!({ "username": "yamada", "password": password, "totp": catalogue::totp_code(&secret, clock.now()).unwrap() });
    let answer = send(&app, json_request(Method::POST, "/api/v1/tosho/auth/login", &body, None)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json()["must_change_password"], true);

    // Both creations are in the audit logs, by the command line's user.
    let log = std::fs::read_to_string(data.layout.audit_log(&"tosho".parse().unwrap())).unwrap();
    let first: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!((first["principal"].as_str(), first["action"].as_str()), (Some("cli:tester"), Some("staff.create")));
    let system_log = std::fs::read_to_string(data.layout.system_audit_log()).unwrap();
    assert!(system_log.contains("\"tenant.create\"") && system_log.contains("\"operator.bootstrap\""));
    assert!(!log.contains(&password) && !system_log.contains(&password));
}

/// Issue 6: `shiori audit verify` passes an intact log with its head, and fails (exit 1)
/// naming the line of a tampered one.
#[test]
fn cli_audit_verify_names_the_tampered_line() {
    let data = TestData::new("sec-cli-audit");
    assert!(run(shiori(&data.root).args(["tenant", "create", "tosho", "--name", "x"])).0);
    for name in ["ito", "abe", "ono"] {
        let (ok, _, err) = run(shiori(&data.root).args([
            "staff",
            "create",
            "--tenant",
            "tosho",
            "--username",
            name,
            "--role",
            "read_only",
        ]));
        assert!(ok, "{err}");
    }
    let (ok, out, _) = run(shiori(&data.root).args(["audit", "verify", "--tenant", "tosho"]));
    assert!(ok, "{out}");
    assert!(out.contains("intact, 3 lines, head 3:"), "{out}");
    let (ok, out, _) = run(shiori(&data.root).args(["audit", "verify", "--system"]));
    assert!(ok && out.contains("intact, 1 lines"), "{out}");

    let path = data.layout.audit_log(&"tosho".parse().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("staff abe", "staff eve", 1)).unwrap();
    let output = shiori(&data.root).args(["audit", "verify", "--tenant", "tosho"]).output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("line 2: its hash does not match"), "{out}");
    assert!(out.contains("TAMPERED"), "{out}");
}

/// Every file under a folder.
fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        }
        out.push(path);
    }
}

/// Issue 6: after `shiori tenant delete`, no file of that library remains on disk (the
/// data folder is walked), its accounts are gone, another library is untouched, and the
/// deletion is in the deployment's audit log.
#[tokio::test]
async fn cli_tenant_delete_leaves_no_file_of_the_library() {
    let data = TestData::new("sec-cli-delete");
    for code in ["tosho", "other"] {
        assert!(run(shiori(&data.root).args(["tenant", "create", code, "--name", code])).0);
        let (ok, _, err) = run(shiori(&data.root).args([
            "staff",
            "create",
            "--tenant",
            code,
            "--username",
            "kimura",
            "--role",
            "tenant_admin",
        ]));
        assert!(ok, "{err}");
    }
    let marc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(crate::support::JAPAN_MARC);
    let (ok, _, err) = run(shiori(&data.root).args(["import", "--tenant", "tosho"]).arg(&marc));
    assert!(ok, "{err}");
    // A served request or two (access logs, the index), then the server closes.
    {
        let state = data.state();
        let app = search_api::router(state.clone());
        assert_eq!(send(&app, get("/api/v1/tosho/search?q=a", None)).await.status, StatusCode::OK);
        assert_eq!(send(&app, get("/tosho/", None)).await.status, StatusCode::OK);
        state.shutdown();
    }
    // Two backup generations, listed before the deletion.
    for _ in 0..2 {
        let (ok, out, err) = run(shiori(&data.root).args(["backup", "--tenant", "tosho"]));
        assert!(ok && out.starts_with("backed up tosho: "), "{out} {err}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (ok, out, _) = run(shiori(&data.root).args(["backup", "list", "--tenant", "tosho"]));
    assert!(ok && out.lines().count() == 2 && out.contains("+0900"), "{out}");
    assert_eq!(catalogue::list_backups(&data.layout, &"tosho".parse().unwrap()).unwrap().len(), 2);

    let mut before = Vec::new();
    walk(&data.root, &mut before);
    let of_tosho = |p: &std::path::PathBuf| p.starts_with(data.root.join("tenants/tosho"));
    assert!(before.iter().filter(|p| of_tosho(p)).count() > 5, "{before:?}");

    let (ok, out, err) = run(shiori(&data.root).args(["tenant", "delete", "tosho"]));
    assert!(ok, "{err}");
    for path in before.iter().filter(|p| of_tosho(p)) {
        assert!(out.contains(&format!("removed {}", path.display())), "{} not said: {out}", path.display());
    }
    assert!(out.contains("1 staff accounts") && out.contains("(2 backup generations)"), "{out}");
    assert!(!data.root.join("tenants/tosho/backups").exists());
    assert!(catalogue::list_backups(&data.layout, &"tosho".parse().unwrap()).unwrap().is_empty());
    let mut after = Vec::new();
    walk(&data.root, &mut after);
    assert!(!data.root.join("tenants/tosho").exists());
    assert!(after.iter().all(|p| !of_tosho(p) && !p.to_string_lossy().contains("tenants/tosho")), "{after:?}");
    assert!(after.iter().any(|p| p.starts_with(data.root.join("tenants/other"))), "the other library stays");

    let (ok, out, _) = run(shiori(&data.root).args(["tenant", "list"]));
    assert!(ok && !out.contains("tosho") && out.contains("other"), "{out}");
    let system = System::open(&data.layout).unwrap();
    assert!(system.accounts(&catalogue::Scope::Tenant("tosho".parse().unwrap())).unwrap().is_empty());
    assert_eq!(system.accounts(&catalogue::Scope::Tenant("other".parse().unwrap())).unwrap().len(), 1);
    drop(system);
    let system_log = std::fs::read_to_string(data.layout.system_audit_log()).unwrap();
    assert!(system_log.lines().last().unwrap().contains("\"tenant.delete\""));
    let (ok, _, err) = run(shiori(&data.root).args(["tenant", "delete", "tosho"]));
    assert!(!ok && err.contains("tosho"), "{err}");
    for code in ["..", "../other", "tenants/other", "OTHER"] {
        let (ok, _, err) = run(shiori(&data.root).args(["tenant", "delete", code]));
        assert!(!ok && err.contains("invalid tenant code"), "{code}: {err}");
    }
    assert!(data.root.join("tenants/other/catalogue.redb").exists());
}

/// A `shiori serve` of the test, killed when dropped.
struct Server {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data: &std::path::Path, args: &[&str]) -> Server {
        let mut child = shiori(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, lines }
    }

    /// Printed lines up to one that starts with `last` (after trimming).
    fn read_until(&self, last: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(std::time::Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no {last}: {out:?}"));
            let done = line.trim_start().starts_with(last);
            out.push(line);
            if done {
                return out;
            }
        }
    }

    /// Stops it as an operator would (SIGTERM) and waits.
    fn stop(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.child.wait().unwrap()
    }
}

/// Runs `openssl s_client` against the port with extra arguments; (success, output).
fn s_client(port: u16, args: &[&str]) -> Option<(bool, String)> {
    let output = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-servername", "localhost"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Some((output.status.success(), text))
}

/// Issue 6, end to end: `serve --demo --tls-self-signed` prints https URLs and the demo
/// staff credentials, which log in over TLS with a real client (reqwest with rustls,
/// trusting the certificate it made); TLS 1.1 is refused and 1.2 and 1.3 accepted
/// (`openssl s_client`); HSTS and a `Secure` cookie come over TLS; started again without
/// `--demo`, the demo account and its credentials file are gone.
#[tokio::test(flavor = "multi_thread")]
async fn tls_with_a_real_client_and_demo_credentials() {
    let data = TestData::new("sec-tls");
    let server = Server::start(&data.root, &["--demo", "--tls-self-signed"]);
    let printed_lines = server.read_until("(also in").join("\n");
    let url = printed_lines
        .lines()
        .find_map(|l| l.split(" at ").nth(1).filter(|u| u.starts_with("https://")))
        .unwrap_or_else(|| panic!("no https URL: {printed_lines}"))
        .trim_end_matches('/')
        .to_owned();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert!(printed_lines.contains(&format!("Demo staff login: {url}/demo/staff/login")), "{printed_lines}");
    let password = printed(&printed_lines, "password:").to_owned();
    let secret = printed(&printed_lines, "TOTP secret:").to_owned();
    let written: Value =
        serde_json::from_slice(&std::fs::read(data.root.join("demo-credentials.json")).unwrap()).unwrap();
    assert_eq!(
        (written["password"].as_str(), written["totp_secret"].as_str()),
        (Some(password.as_str()), Some(secret.as_str()))
    );

    let cert = std::fs::read(data.root.join("tls/self-signed.crt")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    for base in [url.clone(), format!("https://localhost:{port}")] {
        let health = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), reqwest::StatusCode::OK, "{base}");
        assert_eq!(health.headers()["strict-transport-security"], "max-age=31536000");
    }
    let code = catalogue::totp_code(&secret, jiff::Timestamp::now()).unwrap();
    let login = client
        .post(format!("{url}/api/v1/demo/auth/login"))
        .json(&json!({ "username": "demo", "password": password, "totp": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), reqwest::StatusCode::OK);
    let token = login.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let me = client.get(format!("{url}/api/v1/demo/auth/me")).bearer_auth(&token).send().await.unwrap();
    let me: Value = me.json().await.unwrap();
    assert_eq!((me["account"].as_str(), me["role"].as_str()), (Some("demo/demo"), Some("tenant_admin")));
    let form = client.get(format!("{url}/demo/staff/login")).send().await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-shiori-login=") && cookie.ends_with("; Secure"), "{cookie}");
    // Plain HTTP on the TLS port gets nowhere.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    match s_client(port, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]) {
        Some((ok, text)) => {
            assert!(!ok, "TLS 1.1 must be refused: {text}");
            assert!(!text.contains("no protocols available"), "the client did not even try TLS 1.1: {text}");
            // rustls answers a TLS 1.1 hello with an alert (handshake_failure).
            assert!(text.contains("alert handshake failure") || text.contains("alert protocol version"), "{text}");
            for (flag, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
                let (ok, text) = s_client(port, &[flag]).unwrap();
                assert!(
                    ok && (text.contains(&format!("Protocol  : {name}")) || text.contains(&format!("New, {name}"))),
                    "{flag}: {text}"
                );
            }
        }
        None => eprintln!("openssl is not installed: the TLS 1.1 refusal was not tried"),
    }
    assert!(server.stop().success(), "SIGTERM stops the server cleanly");

    // Without --demo there is no default account.
    let server = Server::start(&data.root, &[]);
    let printed_lines = server.read_until("Shiori is serving").join("\n");
    assert!(printed_lines.contains("http://127.0.0.1:"), "{printed_lines}");
    assert!(!data.root.join("demo-credentials.json").exists());
    drop(server);
    let system = System::open(&data.layout).unwrap();
    assert!(system.accounts(&catalogue::Scope::Tenant("demo".parse().unwrap())).unwrap().is_empty());
}

/// The demo's LC records (public domain), in the repository.
const LC_DEMO: &str = "../fixtures/demo/lc-demo.mrc";

fn upload(uri: &str, bytes: Vec<u8>, bearer: &str, content_length: bool) -> Request<Body> {
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/marc")
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    if content_length {
        request = request.header(header::CONTENT_LENGTH, bytes.len());
    }
    request.body(Body::from(bytes)).unwrap()
}

/// The records of an ISO 2709 file, each with its terminator.
fn split_records(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split_inclusive(|b| *b == 0x1d).filter(|r| r.len() > 24).map(<[u8]>::to_vec).collect()
}

/// Issue 6: `POST /api/v1/{tenant}/import` stores a real MARC file for a cataloguer, the
/// index learns of it through the change feed, a broken record is reported with its
/// position and reason while its neighbours are stored, a body that is no MARC is 422,
/// an upload beyond the limit is 413 (declared or not), a role without `import` is 403,
/// and each import is in the audit log.
#[tokio::test(flavor = "multi_thread")]
async fn marc_import_route_stores_reports_rejects_limits_and_audits() {
    let (f, accounts) = fixture(
        "sec-import",
        &[("tosho", "cataloguer", Role::Cataloguer), ("tosho", "desk", Role::Circulation)],
        false,
    );
    let cataloguer = f.ready(&accounts[0]).await;
    let desk = f.ready(&accounts[1]).await;
    let uri = "/api/v1/tosho/import";
    let file = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LC_DEMO)).unwrap();
    let records = split_records(&file);
    assert!(records.len() >= 10, "{} records", records.len());

    let refused = send(&f.app, upload(uri, file.clone(), &desk, true)).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", refused.body);

    let answer = send(&f.app, upload(uri, file.clone(), &cataloguer, true)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = answer.json();
    let total = records.len() as u64;
    assert_eq!((report["read"].as_u64(), report["new"].as_u64()), (Some(total), Some(total)), "{report}");
    assert_eq!((report["rejected"].as_u64(), report["rejects"].clone()), (Some(0), json!([])));

    // The follower applies the change feed: the index counts the new records.
    let mut indexed = 0;
    for _ in 0..100 {
        let libraries = send(&f.app, get("/api/v1/libraries", None)).await.json();
        indexed =
            libraries.as_array().unwrap().iter().find(|l| l["code"] == "tosho").unwrap()["records"].as_u64().unwrap();
        if indexed == total {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(indexed, total, "the imported records reach the index");

    // Again: nothing new, everything unchanged.
    let again = send(&f.app, upload(uri, file.clone(), &cataloguer, false)).await.json();
    assert_eq!((again["new"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(total)), "{again}");

    // A broken record between two good ones: its ordinal, byte offset and reason.
    let mut broken = records[1].clone();
    broken[12..17].copy_from_slice(b"XXXXX");
    let mut body = records[0].clone();
    body.extend_from_slice(&broken);
    body.extend_from_slice(&records[2]);
    let mixed = send(&f.app, upload(uri, body, &cataloguer, true)).await;
    assert_eq!(mixed.status, StatusCode::OK, "{}", mixed.body);
    let mixed = mixed.json();
    assert_eq!((mixed["read"].as_u64(), mixed["rejected"].as_u64()), (Some(3), Some(1)), "{mixed}");
    assert_eq!(mixed["unchanged"].as_u64(), Some(2), "the good neighbours are stored: {mixed}");
    let reject = &mixed["rejects"][0];
    assert_eq!(reject["ordinal"], 2);
    assert_eq!(reject["offset"].as_u64(), Some(records[0].len() as u64));
    assert!(!reject["reason"].as_str().unwrap().is_empty(), "{reject}");

    // Not MARC at all.
    let nonsense = send(&f.app, upload(uri, b"{\"not\": \"marc\"}".to_vec(), &cataloguer, true)).await;
    assert_eq!((nonsense.status, nonsense.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "not_marc"));

    // Beyond the upload limit, declared in Content-Length or only found while reading.
    let small = search_api::router(f.state.clone().with_import_limit(4096));
    for declared in [true, false] {
        let too_big = send(&small, upload(uri, file.clone(), &cataloguer, declared)).await;
        assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE, "declared {declared}: {}", too_big.body);
        assert_eq!(too_big.code(), "payload_too_large");
        assert_eq!(too_big.header(header::CONTENT_TYPE), "application/problem+json");
    }
    let fits = send(&small, upload(uri, records[0].clone(), &cataloguer, true)).await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.body);
    // Every other route keeps its 1 MiB limit, even with the import limit raised.
    let big = search_api::router(f.state.clone().with_import_limit(64 << 20));
    let huge = json!({ "current_password": "x".repeat(2 << 20), "new_password": "y" });
    for declared in [true, false] {
        let mut request = json_request(Method::POST, "/api/v1/tosho/auth/password", &huge, Some(&cataloguer));
        if declared {
            let length = huge.to_string().len();
            request.headers_mut().insert(header::CONTENT_LENGTH, length.into());
        }
        let answer = send(&big, request).await;
        assert_eq!((answer.status, answer.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    }

    // The audit log: who imported how many records.
    let log = std::fs::read_to_string(f.data.layout.audit_log(&"tosho".parse().unwrap())).unwrap();
    let imports: Vec<Value> =
        log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|l| l["action"] == "import").collect();
    assert_eq!(imports.len(), 4, "{log}");
    assert_eq!(imports[0]["principal"], "tosho/cataloguer");
    assert_eq!((imports[0]["after"]["read"].as_u64(), imports[0]["after"]["new"].as_u64()), (Some(total), Some(total)));
    assert_eq!(imports[2]["after"]["rejected"], 1);
    let verified = catalogue::verify_audit_log(&f.data.layout.audit_log(&"tosho".parse().unwrap())).unwrap();
    assert!(verified.is_intact());
}

/// Issue 6: `shiori backup`, `backup list` and `restore`: a record deleted after the backup
/// comes back, a restore is refused while the catalogue is open, the index is rebuilt, and
/// both are in the library's audit log. `shiori serve` backs up at start-up a library that
/// has no backup of the last day.
#[tokio::test]
async fn cli_backup_and_restore_bring_back_a_deleted_record() {
    let data = TestData::new("sec-cli-backup");
    for code in ["tosho", "other"] {
        assert!(run(shiori(&data.root).args(["tenant", "create", code, "--name", code])).0);
    }
    let marc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LC_DEMO);
    let (ok, _, err) = run(shiori(&data.root).args(["import", "--tenant", "tosho"]).arg(&marc));
    assert!(ok, "{err}");
    let (ok, out, _) = run(shiori(&data.root).args(["backup", "list", "--tenant", "tosho"]));
    assert!(ok && out.contains("no backups"), "{out}");
    let (ok, out, err) = run(shiori(&data.root).args(["backup", "--tenant", "tosho"]));
    assert!(ok, "{out} {err}");
    let (ok, _, err) = run(shiori(&data.root).arg("backup"));
    assert!(!ok && err.contains("--tenant"), "{err}");

    let code: TenantCode = "tosho".parse().unwrap();
    let catalogue = catalogue::Catalogue::open(&data.layout, &code).unwrap();
    let total = catalogue.len().unwrap();
    let doomed = catalogue.bibs_after(None, 1).unwrap()[0].id;
    assert!(catalogue.delete(doomed).unwrap());
    // Open here: the restore refuses and changes nothing.
    let (ok, _, err) = run(shiori(&data.root).args(["restore", "--tenant", "tosho", "--yes"]));
    assert!(!ok && err.contains("is open"), "{err}");
    assert!(catalogue.get(doomed).unwrap().is_none());
    drop(catalogue);

    let (ok, out, err) = run(shiori(&data.root).args(["restore", "--tenant", "tosho", "--yes"]));
    assert!(ok, "{out} {err}");
    assert!(out.contains("restored tosho from the backup") && out.contains(&format!("rebuilt the index: {total}")));
    let catalogue = catalogue::Catalogue::open(&data.layout, &code).unwrap();
    assert!(catalogue.get(doomed).unwrap().is_some(), "the deleted record is back");
    assert_eq!(catalogue.len().unwrap(), total);
    drop(catalogue);
    let log = std::fs::read_to_string(data.layout.audit_log(&code)).unwrap();
    let actions: Vec<String> =
        log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["backup.create", "backup.restore"], "{log}");
    assert!(log.contains("\"principal\":\"cli:tester\""));
    let (ok, _, err) = run(shiori(&data.root).args(["restore", "--tenant", "tosho", "--generation", "nope", "--yes"]));
    assert!(!ok && err.contains("no backup nope"), "{err}");

    // The server backs up `other` (no backup yet) at start-up, not `tosho` (backed up today).
    let server = Server::start(&data.root, &[]);
    server.read_until("Shiori is serving");
    let other: TenantCode = "other".parse().unwrap();
    let mut made = Vec::new();
    for _ in 0..200 {
        made = catalogue::list_backups(&data.layout, &other).unwrap();
        if !made.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(made.len(), 1, "a start-up backup of the library without one");
    assert_eq!(catalogue::list_backups(&data.layout, &code).unwrap().len(), 1, "tosho was backed up today");
    // While the server runs, the command line cannot restore.
    let (ok, _, err) = run(shiori(&data.root).args(["restore", "--tenant", "tosho", "--yes"]));
    assert!(!ok && err.contains("shiori serve"), "{err}");
    assert!(server.stop().success());
    let log = std::fs::read_to_string(data.layout.audit_log(&other)).unwrap();
    assert!(log.contains("\"principal\":\"system:backup\"") && log.contains("\"backup.create\""), "{log}");
}
