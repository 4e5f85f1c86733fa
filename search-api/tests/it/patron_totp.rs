//! Patrons' two-step verification and password change over HTTP (issue 7: "TOTP required
//! for staff, optional for patrons; recovery codes; password change"), through the router
//! without a socket: set up from the settings page with its QR code, codes computed with
//! totp-rs from the key the page shows (as an authenticator app would), a login that needs
//! the code, CSRF refusals, sessions of another library refused, the password change.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use catalogue::{Branch, Clock, ManualClock, NewPatron};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use tower::ServiceExt;

use crate::support::TestData;

const CARD: &str = "P1001";
const PASSWORD: &str = "yomu-koto-ga-suki-42";
const NEW_PASSWORD: &str = "ame-no-hi-wa-toshokan-8";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The value a `Set-Cookie` gives the cookie `name` (empty when it deletes it).
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

    /// The texts between every `open` and the next `close`.
    fn between(&self, open: &str, close: &str) -> Vec<String> {
        self.body.split(open).skip(1).filter_map(|rest| rest.split(close).next()).map(str::to_owned).collect()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn cookie_header(cookies: &[(&str, &str)]) -> String {
    cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
}

fn page(uri: &str, cookies: &[(&str, &str)]) -> Request<Body> {
    Request::get(uri).header(header::COOKIE, cookie_header(cookies)).body(Body::empty()).unwrap()
}

fn form(uri: &str, cookies: &[(&str, &str)], fields: &[(&str, &str)]) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie_header(cookies))
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap()
}

/// The code an authenticator app shows at the clock's time for a key as the page shows it
/// (groups of four, base 32), computed by totp-rs: RFC 6238 defaults, SHA-1, 6 digits, 30 s.
fn app_code(key: &str, clock: &ManualClock) -> String {
    let secret = totp_rs::Secret::try_from_base32(key.replace(' ', "")).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(clock.now().as_second() as u64).to_string()
}

struct Fixture {
    app: Router,
    clock: ManualClock,
    _state: search_api::AppState,
    // Dropped last (fields drop in order): the folder goes once the state closed its files.
    _data: TestData,
}

/// Two libraries, `tosho` and `other`, each with a patron of card [`CARD`] who has a
/// password.
fn fixture(name: &str) -> Fixture {
    let data = TestData::new(name);
    let clock = ManualClock::new("2026-04-01T01:00:00Z".parse().unwrap());
    for (code, library) in [("tosho", "栞市立図書館"), ("other", "隣町図書館")] {
        let catalogue = data.tenant(code, library, &[]);
        let chuo = Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central Library".into() };
        catalogue.put_branch(&chuo).unwrap();
        catalogue.add_patron(&NewPatron::new(CARD, "山田 太郎", "chuo")).unwrap();
        catalogue.set_patron_password(CARD, PASSWORD, clock.now()).unwrap();
    }
    let state = data.state_with_clock(&clock);
    let app = search_api::router(state.clone());
    Fixture { app, clock, _state: state, _data: data }
}

impl Fixture {
    /// The password step of a login at `tenant`: the answer (a session, or the way to the
    /// code form).
    async fn password_step(&self, tenant: &str, password: &str) -> Answer {
        let login = format!("/{tenant}/my/login");
        let form_page = send(&self.app, page(&login, &[])).await;
        let cookie = form_page.cookie("shiori-patron-login").unwrap();
        let fields = [("csrf", form_page.csrf_field()), ("card", CARD.into()), ("password", password.into())];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        send(&self.app, form(&login, &[("shiori-patron-login", &cookie)], &fields)).await
    }

    /// Logs in with the password alone; the session cookie's value.
    async fn login(&self, tenant: &str, password: &str) -> String {
        let answer = self.password_step(tenant, password).await;
        assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, &*format!("/{tenant}/my/")));
        answer.cookie("shiori-patron").unwrap()
    }

    /// The CSRF token of a page of the session's.
    async fn csrf(&self, uri: &str, session: &str) -> String {
        let answer = send(&self.app, page(uri, &[("shiori-patron", session)])).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.csrf_field()
    }

    /// Moves to the next TOTP step (a step is accepted once) and gives the app's code.
    fn next_code(&self, key: &str) -> String {
        self.clock.advance(SignedDuration::from_secs(30));
        app_code(key, &self.clock)
    }
}

#[tokio::test]
async fn two_step_verification_from_the_settings_page_to_the_login() {
    let f = fixture("patron-totp");
    let app = &f.app;
    let session = f.login("tosho", PASSWORD).await;
    let me = [("shiori-patron", session.as_str())];

    // The patron's page links to the settings; they say it is off.
    let my = send(app, page("/tosho/my/", &me)).await;
    assert!(my.body.contains("href=\"&#x2f;tosho&#x2f;my&#x2f;settings\""), "{}", my.body);
    let settings = send(app, page("/tosho/my/settings", &me)).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert!(settings.body.contains("二段階認証はオフです"), "{}", settings.body);
    assert_eq!(settings.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let csrf = settings.csrf_field();

    // Setting it up: without the CSRF token, refused; with it, the QR code and the key.
    let forged = send(app, form("/tosho/my/totp/begin", &me, &[])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let begun = send(app, form("/tosho/my/totp/begin", &me, &[("csrf", &csrf)])).await;
    assert_eq!((begun.status, begun.location()), (StatusCode::SEE_OTHER, "/tosho/my/totp"));
    let setup = send(app, page("/tosho/my/totp", &me)).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    assert_eq!(setup.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(setup.body.contains("<svg ") && setup.body.contains("<path fill=\"#000\" d=\"M"), "{}", setup.body);
    assert!(setup.body.contains("<label for=\"code\">確認コード（6桁）</label>"), "{}", setup.body);
    let key = setup.between("<code class=\"totp-key\">", "</code>").pop().unwrap();
    assert_eq!(key.replace(' ', "").len(), 32, "160 bits in base 32: {key}");
    // A reload shows the same key (the secret is not drawn again).
    let again = send(app, page("/tosho/my/totp", &me)).await;
    assert_eq!(again.between("<code class=\"totp-key\">", "</code>").pop(), Some(key.clone()));

    // Confirming needs the CSRF token, the password and a code of the key.
    let confirm = |fields: &[(&str, &str)]| send(app, form("/tosho/my/totp/confirm", &me, fields));
    let code = f.next_code(&key);
    let no_csrf = confirm(&[("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let wrong_password = confirm(&[("csrf", &csrf), ("password", "not my password"), ("code", &code)]).await;
    assert_eq!(wrong_password.status, StatusCode::FORBIDDEN);
    assert!(wrong_password.body.contains("現在のパスワードが正しくありません"), "{}", wrong_password.body);
    let wrong_code = confirm(&[("csrf", &csrf), ("password", PASSWORD), ("code", "000000")]).await;
    assert_eq!(wrong_code.status, StatusCode::FORBIDDEN);
    assert!(wrong_code.body.contains("確認コードが正しくない"), "{}", wrong_code.body);
    let confirmed = confirm(&[("csrf", &csrf), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(confirmed.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let recovery = confirmed.between("<li><code>", "</code></li>");
    assert_eq!(recovery.len(), 10, "{}", confirmed.body);
    let settings = send(app, page("/tosho/my/settings?lang=en", &me)).await;
    assert!(settings.body.contains("Two-step verification is on (since 2026-04-01 10:00)"), "{}", settings.body);
    assert!(settings.body.contains("Recovery codes left: 10"), "{}", settings.body);

    // Log out; the password alone no longer logs in: it leads to the code form.
    let out = send(app, form("/tosho/my/logout", &me, &[("csrf", &csrf)])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let step = f.password_step("tosho", PASSWORD).await;
    assert_eq!((step.status, step.location()), (StatusCode::SEE_OTHER, "/tosho/my/login/code"), "{}", step.body);
    assert_eq!(step.cookie("shiori-patron"), None, "no session before the code");
    let challenge = step.cookie("shiori-patron-code").unwrap();
    assert_eq!(challenge.len(), 64);
    let pending = [("shiori-patron-code", challenge.as_str())];
    // The challenge is not a session, here or in another library.
    let my = send(app, page("/tosho/my/", &pending)).await;
    assert_eq!((my.status, my.location()), (StatusCode::SEE_OTHER, "/tosho/my/login"));
    let elsewhere = send(app, page("/other/my/login/code", &pending)).await;
    assert_eq!((elsewhere.status, elsewhere.location()), (StatusCode::SEE_OTHER, "/other/my/login?expired=1"));

    let code_form = send(app, page("/tosho/my/login/code", &pending)).await;
    assert_eq!(code_form.status, StatusCode::OK, "{}", code_form.body);
    assert!(code_form.body.contains("<label for=\"code\">確認コードまたは復旧コード</label>"), "{}", code_form.body);
    let code_csrf = code_form.csrf_field();
    let enter = |code: String, csrf: Option<&str>| {
        let mut fields = vec![("code", code)];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf.to_owned()));
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        send(app, form("/tosho/my/login/code", &pending, &fields))
    };
    let current = app_code(&key, &f.clock);
    assert_eq!(enter(current.clone(), None).await.status, StatusCode::FORBIDDEN, "no CSRF token");
    let wrong = enter("123456".into(), Some(&code_csrf)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert!(wrong.body.contains("確認コードが正しくないか、すでに使われています"), "{}", wrong.body);
    // The code that confirmed the setup was spent then.
    assert_eq!(enter(current, Some(&code_csrf)).await.status, StatusCode::UNAUTHORIZED, "a replayed step");
    let logged_in = enter(f.next_code(&key), Some(&code_csrf)).await;
    assert_eq!((logged_in.status, logged_in.location()), (StatusCode::SEE_OTHER, "/tosho/my/"), "{}", logged_in.body);
    assert_eq!(logged_in.cookie("shiori-patron-code").as_deref(), Some(""), "the challenge cookie goes");
    let session = logged_in.cookie("shiori-patron").unwrap();
    let me = [("shiori-patron", session.as_str())];
    assert_eq!(send(app, page("/tosho/my/", &me)).await.status, StatusCode::OK);
    // The challenge was used up.
    let reused = enter(f.next_code(&key), Some(&code_csrf)).await;
    assert_eq!((reused.status, reused.location()), (StatusCode::SEE_OTHER, "/tosho/my/login?expired=1"));

    // This library's session is nobody in another library.
    let other_settings = send(app, page("/other/my/settings", &me)).await;
    assert_eq!((other_settings.status, other_settings.location()), (StatusCode::SEE_OTHER, "/other/my/login"));
    let csrf = f.csrf("/tosho/my/settings", &session).await;
    let fields = [("csrf", csrf.as_str()), ("password", PASSWORD), ("code", "000000")];
    let other_disable = send(app, form("/other/my/totp/disable", &me, &fields)).await;
    assert_eq!((other_disable.status, other_disable.location()), (StatusCode::SEE_OTHER, "/other/my/login"));

    // A recovery code logs in once, and the settings page says so.
    send(app, form("/tosho/my/logout", &me, &[("csrf", &csrf)])).await;
    let step = f.password_step("tosho", PASSWORD).await;
    let challenge = step.cookie("shiori-patron-code").unwrap();
    let pending = [("shiori-patron-code", challenge.as_str())];
    let code_csrf = send(app, page("/tosho/my/login/code", &pending)).await.csrf_field();
    let fields = [("csrf", code_csrf.as_str()), ("code", recovery[0].as_str())];
    let by_recovery = send(app, form("/tosho/my/login/code", &pending, &fields)).await;
    assert_eq!(
        (by_recovery.status, by_recovery.location()),
        (StatusCode::SEE_OTHER, "/tosho/my/settings?done=recovery"),
        "{}",
        by_recovery.body
    );
    let session = by_recovery.cookie("shiori-patron").unwrap();
    let me = [("shiori-patron", session.as_str())];
    let settings = send(app, page("/tosho/my/settings?done=recovery", &me)).await;
    assert!(
        settings.body.contains("復旧コードでログインしました") && settings.body.contains("未使用の復旧コード: 9 個")
    );

    // Turning it off needs the password and a code; then the password alone logs in.
    let csrf = settings.csrf_field();
    let disable = |fields: &[(&str, &str)]| send(app, form("/tosho/my/totp/disable", &me, fields));
    let refused = disable(&[("csrf", &csrf), ("password", PASSWORD), ("code", "000000")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("確認コードが正しくない"), "{}", refused.body);
    let code = f.next_code(&key);
    assert_eq!(disable(&[("password", PASSWORD), ("code", &code)]).await.status, StatusCode::FORBIDDEN);
    let off = disable(&[("csrf", &csrf), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!((off.status, off.location()), (StatusCode::SEE_OTHER, "/tosho/my/settings?done=totp_off"));
    f.login("tosho", PASSWORD).await;
}

#[tokio::test]
async fn wrong_codes_lock_the_card_over_http() {
    let f = fixture("patron-totp-lock");
    let app = &f.app;
    let session = f.login("tosho", PASSWORD).await;
    let me = [("shiori-patron", session.as_str())];
    let csrf = f.csrf("/tosho/my/settings", &session).await;
    send(app, form("/tosho/my/totp/begin", &me, &[("csrf", &csrf)])).await;
    let setup = send(app, page("/tosho/my/totp", &me)).await;
    let key = setup.between("<code class=\"totp-key\">", "</code>").pop().unwrap();
    let code = f.next_code(&key);
    let fields = [("csrf", csrf.as_str()), ("password", PASSWORD), ("code", code.as_str())];
    assert_eq!(send(app, form("/tosho/my/totp/confirm", &me, &fields)).await.status, StatusCode::OK);

    let step = f.password_step("tosho", PASSWORD).await;
    let challenge = step.cookie("shiori-patron-code").unwrap();
    let pending = [("shiori-patron-code", challenge.as_str())];
    let code_csrf = send(app, page("/tosho/my/login/code", &pending)).await.csrf_field();
    let fields = [("csrf", code_csrf.as_str()), ("code", "999999")];
    for attempt in 1..=4 {
        let wrong = send(app, form("/tosho/my/login/code", &pending, &fields)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}: {}", wrong.body);
    }
    let locked = send(app, form("/tosho/my/login/code", &pending, &fields)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.body);
    assert_eq!(locked.headers.get(header::RETRY_AFTER).unwrap(), "60");
    assert!(locked.body.contains("ログインの失敗が続いたため"), "{}", locked.body);
    // Locked: the password is not even tried, and the challenge is gone.
    let step = f.password_step("tosho", PASSWORD).await;
    assert_eq!(step.status, StatusCode::TOO_MANY_REQUESTS);
    let right = [("csrf", code_csrf.as_str()), ("code", &app_code(&key, &f.clock))];
    let gone = send(app, form("/tosho/my/login/code", &pending, &right)).await;
    assert_eq!((gone.status, gone.location()), (StatusCode::SEE_OTHER, "/tosho/my/login?expired=1"));
    // The second step's time runs out after five minutes.
    f.clock.advance(SignedDuration::from_mins(2));
    let step = f.password_step("tosho", PASSWORD).await;
    let challenge = step.cookie("shiori-patron-code").unwrap();
    let pending = [("shiori-patron-code", challenge.as_str())];
    f.clock.advance(SignedDuration::from_mins(5));
    let late = send(app, page("/tosho/my/login/code", &pending)).await;
    assert_eq!((late.status, late.location()), (StatusCode::SEE_OTHER, "/tosho/my/login?expired=1"));
    let login = send(app, page("/tosho/my/login?expired=1", &[])).await;
    assert!(login.body.contains("確認コードの入力時間が過ぎました"), "{}", login.body);
}

#[tokio::test]
async fn a_patron_changes_their_password_and_other_sessions_end() {
    let f = fixture("patron-password");
    let app = &f.app;
    let session = f.login("tosho", PASSWORD).await;
    let elsewhere = f.login("tosho", PASSWORD).await;
    let me = [("shiori-patron", session.as_str())];
    let csrf = f.csrf("/tosho/my/settings", &session).await;
    let change = |fields: &[(&str, &str)]| send(app, form("/tosho/my/password", &me, fields));

    let forged = change(&[("current", PASSWORD), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let mismatch = change(&[("csrf", &csrf), ("current", PASSWORD), ("new", NEW_PASSWORD), ("confirm", "x")]).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("新しいパスワードが一致しません"), "{}", mismatch.body);
    let wrong =
        change(&[("csrf", &csrf), ("current", "wrong"), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("現在のパスワードが正しくありません"), "{}", wrong.body);
    let weak = change(&[("csrf", &csrf), ("current", PASSWORD), ("new", "short"), ("confirm", "short")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("このパスワードは使えません（12文字以上にしてください）"), "{}", weak.body);
    let uri = "/tosho/my/password?lang=en";
    let with_card = "p1001-yomu-library";
    let fields = [("csrf", csrf.as_str()), ("current", PASSWORD), ("new", with_card), ("confirm", with_card)];
    let weak = send(app, form(uri, &me, &fields)).await;
    assert!(weak.body.contains("This password cannot be used (it must not contain your card number)"), "{}", weak.body);
    // Refusals end nothing.
    assert_eq!(send(app, page("/tosho/my/", &[("shiori-patron", &elsewhere)])).await.status, StatusCode::OK);

    let changed =
        change(&[("csrf", &csrf), ("current", PASSWORD), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)]).await;
    assert_eq!((changed.status, changed.location()), (StatusCode::SEE_OTHER, "/tosho/my/settings?done=password"));
    let renewed = changed.cookie("shiori-patron").unwrap();
    assert!(renewed.len() == 64 && renewed != session, "a new session id");
    let settings = send(app, page("/tosho/my/settings?done=password", &[("shiori-patron", &renewed)])).await;
    assert!(settings.body.contains("パスワードを変更しました"), "{}", settings.body);
    for ended in [&session, &elsewhere] {
        let answer = send(app, page("/tosho/my/", &[("shiori-patron", ended)])).await;
        assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/tosho/my/login"));
    }
    assert_eq!(f.password_step("tosho", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    f.login("tosho", NEW_PASSWORD).await;
    // The other library's patron with the same card is somebody else: unchanged.
    f.login("other", PASSWORD).await;
}
