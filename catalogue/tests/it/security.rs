//! Security and tenancy (issue 6): password hashing and rules, TOTP with replay refused,
//! recovery codes, sessions (idle and absolute timeouts, rotation, logout everywhere, CSRF),
//! lockout with backoff, unknown users indistinguishable from wrong passwords, the
//! permission table, bootstrap, demo credentials, the audit chain and its tampering, access
//! log retention, and deleting a tenant — all with an injected clock.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use catalogue::{
    AccessEntry, AccessLogs, AccountId, AuditEvent, AuditLog, AuditProblemKind, Catalogue, Clock, DataLayout, Error,
    ErrorKind, Function, LoginAttempt, LoginOutcome, ManualClock, Principal, Role, RolePolicy, Scope, SecretString,
    Session, SessionToken, System, TenantCode, may, purge_access_logs, totp_code, verify_audit_log,
};
use jiff::{SignedDuration, Timestamp};

use crate::fixtures::Scratch;

/// 2026-04-01 10:00 in Japan.
fn start() -> Timestamp {
    "2026-04-01T01:00:00Z".parse().unwrap()
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// A data folder with one library (`city`), a system on a manual clock, and a staff member.
struct Env {
    scratch: Scratch,
    clock: ManualClock,
    system: System,
    city: TenantCode,
}

/// A person's credentials after they chose their own password.
struct Person {
    id: AccountId,
    username: String,
    password: String,
    totp: SecretString,
    recovery: Vec<SecretString>,
}

impl Env {
    fn new(name: &str) -> Env {
        let scratch = Scratch::new(&format!("security-{name}"));
        let clock = ManualClock::new(start());
        let system = System::open_with_clock(&scratch.layout, Arc::new(clock.clone())).unwrap();
        let city: TenantCode = "city".parse().unwrap();
        system.create_tenant(&city, "栞市立図書館").unwrap();
        Env { scratch, clock, system, city }
    }

    fn layout(&self) -> &DataLayout {
        &self.scratch.layout
    }

    fn scope(&self) -> Scope {
        Scope::Tenant(self.city.clone())
    }

    /// The current TOTP code of a secret.
    fn code(&self, secret: &SecretString) -> String {
        totp_code(secret.expose(), self.clock.now()).unwrap()
    }

    /// Moves to the next TOTP step (a code is accepted once per step).
    fn next_step(&self) {
        self.clock.advance(SignedDuration::from_secs(30));
    }

    fn login(&self, username: &str, password: &str, second: Option<&str>) -> LoginOutcome {
        let attempt = LoginAttempt { username, password, second_factor: second };
        self.system.login(&self.scope(), &attempt, None).unwrap()
    }

    fn logged_in(&self, person: &Person) -> (SessionToken, Session) {
        let code = self.code(&person.totp);
        match self.login(&person.username, &person.password, Some(&code)) {
            LoginOutcome::LoggedIn(done) => (done.token, done.session),
            other => panic!("{other:?}"),
        }
    }

    /// A staff member who has logged in once and set their own password.
    fn staff(&self, username: &str, role: Role) -> Person {
        let issued = self.system.create_staff(&self.city, username, "山田 太郎", role).unwrap();
        let code = self.code(&issued.totp.secret);
        let (token, session) = match self.login(username, issued.password.expose(), Some(&code)) {
            LoginOutcome::LoggedIn(done) => (done.token, done.session),
            other => panic!("{other:?}"),
        };
        assert!(session.must_change_password);
        let password = "tea and 栞 every morning".to_string();
        self.system.change_password(&session, issued.password.expose(), &password).unwrap();
        self.system.logout(&token).unwrap();
        self.next_step();
        Person {
            id: issued.account,
            username: username.to_string(),
            password,
            totp: issued.totp.secret,
            recovery: issued.recovery_codes,
        }
    }
}

fn kind(outcome: &LoginOutcome) -> String {
    match outcome {
        LoginOutcome::LoggedIn(_) => "logged in".into(),
        LoginOutcome::WrongCredentials => "wrong".into(),
        LoginOutcome::NeedSecondFactor => "need second factor".into(),
        LoginOutcome::Locked { until } => format!("locked until {until}"),
        other => format!("{other:?}"),
    }
}

#[test]
fn passwords_are_hashed_and_the_rules_refuse_bad_ones() {
    let env = Env::new("passwords");
    let issued = env.system.create_staff(&env.city, "Yamada", "山田", Role::Cataloguer).unwrap();
    assert_eq!(issued.account.to_string(), "city/yamada");

    // A one-time password must be changed before anything else.
    let code = env.code(&issued.totp.secret);
    let (token, session) = match env.login("yamada", issued.password.expose(), Some(&code)) {
        LoginOutcome::LoggedIn(done) => (done.token, done.session),
        other => panic!("{other:?}"),
    };
    assert!(session.must_change_password);
    assert!(!session.may(&env.city, Function::View), "nothing until the password is changed");

    let current = issued.password.expose();
    assert!(matches!(
        env.system.change_password(&session, "not the password", "a fine new passphrase"),
        Err(Error::WrongPassword)
    ));
    for weak in
        ["short", "password1234", "Password2024!", "yamada-at-the-desk", "abcabcabcabc", "ｐａｓｓｗｏｒｄ１２３４"]
    {
        let refused = env.system.change_password(&session, current, weak);
        assert!(matches!(refused, Err(Error::WeakPassword(_))), "{weak:?}: {refused:?}");
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::Invalid);
    }
    assert!(matches!(env.system.change_password(&session, current, current), Err(Error::WeakPassword(_))));
    env.system.change_password(&session, current, "図書館で本を借りるのが好き").unwrap();
    let session = env.system.session(&token).unwrap().unwrap();
    assert!(!session.must_change_password);
    assert!(session.may(&env.city, Function::View));

    // The old password is dead, the new one works (typed full-width, too: NFKC).
    env.next_step();
    let code = env.code(&issued.totp.secret);
    assert!(matches!(env.login("yamada", current, Some(&code)), LoginOutcome::WrongCredentials));
    env.next_step();
    let code = env.code(&issued.totp.secret);
    assert!(matches!(env.login(" YAMADA ", "図書館で本を借りるのが好き", Some(&code)), LoginOutcome::LoggedIn(_)));

    // Nothing secret is in system.redb in the clear: not the passwords, not the session id,
    // not the recovery codes; the password is an argon2id PHC string.
    let stored = std::fs::read(env.layout().system_file()).unwrap();
    let contains = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"$argon2id$v=19$m=19456,t=2,p=1$"));
    for secret in [current, "図書館で本を借りるのが好き", &token.expose(), issued.recovery_codes[0].expose()]
    {
        assert!(!contains(secret.as_bytes()), "{secret:?} is stored in the clear");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.layout().system_file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn totp_accepts_the_window_and_refuses_replay() {
    let env = Env::new("totp");
    let person = env.staff("sato", Role::Circulation);
    // Well past the step the first login used.
    env.clock.advance(SignedDuration::from_secs(60));
    let secret = person.totp.expose();
    let now = env.clock.now();
    let at = |offset: i64| totp_code(secret, now.checked_add(SignedDuration::from_secs(offset)).unwrap()).unwrap();

    // No code: the password was right, ask for the code. Not a failure.
    assert!(matches!(env.login("sato", &person.password, None), LoginOutcome::NeedSecondFactor));
    assert!(matches!(env.login("sato", &person.password, Some(" ")), LoginOutcome::NeedSecondFactor));
    // Two steps away is outside the window.
    assert!(matches!(env.login("sato", &person.password, Some(&at(60))), LoginOutcome::WrongCredentials));
    assert!(matches!(env.login("sato", &person.password, Some(&at(-60))), LoginOutcome::WrongCredentials));
    assert!(matches!(env.login("sato", &person.password, Some("12345")), LoginOutcome::WrongCredentials));
    // The previous step is accepted (clock drift), with spaces as some apps show it.
    let previous = at(-30);
    let spaced = format!("{} {}", &previous[..3], &previous[3..]);
    assert!(matches!(env.login("sato", &person.password, Some(&spaced)), LoginOutcome::LoggedIn(_)));
    // The same code again is a replay; so is any older one.
    assert!(matches!(env.login("sato", &person.password, Some(&previous)), LoginOutcome::WrongCredentials));
    env.system.unlock(&person.id).unwrap();
    // The current step is later than the one used: accepted, once.
    assert!(matches!(env.login("sato", &person.password, Some(&at(0))), LoginOutcome::LoggedIn(_)));
    assert!(matches!(env.login("sato", &person.password, Some(&at(0))), LoginOutcome::WrongCredentials));
    assert!(matches!(env.login("sato", &person.password, Some(&at(-30))), LoginOutcome::WrongCredentials));
    // The next step, when it comes.
    env.next_step();
    assert!(matches!(env.login("sato", &person.password, Some(&at(30))), LoginOutcome::LoggedIn(_)));
}

#[test]
fn totp_enrolment_replaces_the_secret_only_when_confirmed() {
    let env = Env::new("enrol");
    let person = env.staff("kato", Role::ReadOnly);
    let enrolment = env.system.begin_totp_enrolment(&person.id).unwrap();
    assert!(
        enrolment.uri.expose().starts_with("otpauth://totp/Shiori:kato%40city?secret="),
        "{:?}",
        enrolment.uri.expose()
    );
    // Until confirmed, the old secret still logs in.
    let (_, _) = env.logged_in(&person);
    env.next_step();
    assert!(matches!(env.system.confirm_totp_enrolment(&person.id, "000000"), Err(Error::WrongCode)));
    let code = env.code(&enrolment.secret);
    env.system.confirm_totp_enrolment(&person.id, &code).unwrap();
    // The code used to confirm is spent; the next step of the new secret logs in.
    assert!(matches!(env.login("kato", &person.password, Some(&code)), LoginOutcome::WrongCredentials));
    env.next_step();
    let old = env.code(&person.totp);
    assert!(matches!(env.login("kato", &person.password, Some(&old)), LoginOutcome::WrongCredentials));
    let new = env.code(&enrolment.secret);
    assert!(matches!(env.login("kato", &person.password, Some(&new)), LoginOutcome::LoggedIn(_)));
}

#[test]
fn recovery_codes_work_once_each() {
    let env = Env::new("recovery");
    let person = env.staff("ito", Role::Cataloguer);
    assert_eq!(person.recovery.len(), 10);
    let first = person.recovery[0].expose().to_uppercase();
    match env.login("ito", &person.password, Some(&first)) {
        LoginOutcome::LoggedIn(done) => {
            assert!(done.used_recovery_code);
            assert_eq!(done.recovery_codes_left, 9);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(env.login("ito", &person.password, Some(&first)), LoginOutcome::WrongCredentials));
    assert!(matches!(env.login("ito", &person.password, Some(person.recovery[1].expose())), LoginOutcome::LoggedIn(_)));
    assert_eq!(env.system.account(&person.id).unwrap().unwrap().recovery_codes_left, 8);
    // A recovery code is no password.
    assert!(matches!(
        env.login("ito", person.recovery[2].expose(), Some(person.recovery[3].expose())),
        LoginOutcome::WrongCredentials
    ));
    // New codes replace the old ones.
    let fresh = env.system.regenerate_recovery_codes(&person.id).unwrap();
    assert!(matches!(
        env.login("ito", &person.password, Some(person.recovery[4].expose())),
        LoginOutcome::WrongCredentials
    ));
    assert!(matches!(env.login("ito", &person.password, Some(fresh[0].expose())), LoginOutcome::LoggedIn(_)));
}

#[test]
fn sessions_end_when_idle_and_at_the_absolute_timeout() {
    let env = Env::new("expiry");
    let person = env.staff("ueda", Role::Circulation);

    // Idle: 29 minutes apart is fine, 31 is not.
    let (token, session) = env.logged_in(&person);
    assert_eq!(session.expires, env.clock.now().checked_add(mins(30)).unwrap());
    env.clock.advance(mins(29));
    assert!(env.system.session(&token).unwrap().is_some());
    env.clock.advance(mins(29));
    assert!(env.system.session(&token).unwrap().is_some());
    env.clock.advance(mins(31));
    assert!(env.system.session(&token).unwrap().is_none());
    assert!(env.system.session(&token).unwrap().is_none(), "an expired session stays dead");

    // Absolute: busy every 20 minutes, still over after 12 hours.
    env.next_step();
    let (token, session) = env.logged_in(&person);
    let login = session.created;
    while env.clock.now() < login.checked_add(SignedDuration::from_hours(12)).unwrap() {
        assert!(env.system.session(&token).unwrap().is_some(), "at {}", env.clock.now());
        env.clock.advance(mins(20));
    }
    assert!(env.system.session(&token).unwrap().is_none());

    // Expired sessions are pruned.
    env.next_step();
    let (_live, _) = env.logged_in(&person);
    env.next_step();
    let (_old, _) = env.logged_in(&person);
    env.clock.advance(mins(31));
    env.next_step();
    let (live, _) = env.logged_in(&person);
    let pruned = env.system.prune().unwrap();
    assert_eq!(pruned.sessions, 2);
    assert!(env.system.session(&live).unwrap().is_some());
}

#[test]
fn login_rotates_the_session_and_rotation_kills_the_old_id() {
    let env = Env::new("rotation");
    let person = env.staff("oda", Role::Cataloguer);
    let (first, _) = env.logged_in(&person);
    // Logging in with a session in hand (a fixed one, say) ends it.
    env.next_step();
    let code = env.code(&person.totp);
    let attempt = LoginAttempt { username: "oda", password: &person.password, second_factor: Some(&code) };
    let second = match env.system.login(&env.scope(), &attempt, Some(&first)).unwrap() {
        LoginOutcome::LoggedIn(done) => done.token,
        other => panic!("{other:?}"),
    };
    assert_ne!(first, second);
    assert!(env.system.session(&first).unwrap().is_none());
    let before = env.system.session(&second).unwrap().unwrap();

    env.clock.advance(mins(5));
    let (third, after) = env.system.rotate_session(&second).unwrap().unwrap();
    assert!(env.system.session(&second).unwrap().is_none());
    assert_eq!(after.created, before.created, "the absolute timeout carries over");
    assert_ne!(after.csrf_token(), before.csrf_token());
    assert!(env.system.session(&third).unwrap().is_some());
    assert!(env.system.rotate_session(&second).unwrap().is_none());
}

#[test]
fn logout_and_logout_everywhere() {
    let env = Env::new("logout");
    let person = env.staff("mori", Role::ReadOnly);
    let other = env.staff("noda", Role::ReadOnly);
    let (desk, _) = env.logged_in(&person);
    env.next_step();
    let (phone, phone_session) = env.logged_in(&person);
    env.next_step();
    let (tablet, _) = env.logged_in(&person);
    let (theirs, _) = env.logged_in(&other);

    assert!(env.system.logout(&desk).unwrap());
    assert!(!env.system.logout(&desk).unwrap());
    assert!(env.system.session(&desk).unwrap().is_none());
    assert_eq!(env.system.sessions_of(&person.id).unwrap().len(), 2);

    assert_eq!(env.system.logout_everywhere(&person.id).unwrap(), 2);
    assert!(env.system.session(&phone).unwrap().is_none());
    assert!(env.system.session(&tablet).unwrap().is_none());
    assert!(env.system.session(&theirs).unwrap().is_some(), "another person's session is untouched");
    let stale = env.system.change_password(&phone_session, &person.password, "a whole new passphrase");
    assert!(matches!(stale, Err(Error::SessionEnded)), "{stale:?}");

    // Disabling and resetting credentials end sessions too.
    env.next_step();
    let (again, _) = env.logged_in(&other);
    env.system.set_disabled(&other.id, true).unwrap();
    assert!(env.system.session(&again).unwrap().is_none());
    env.system.set_disabled(&other.id, false).unwrap();
    env.next_step();
    let (again, _) = env.logged_in(&other);
    env.system.reset_credentials(&other.id).unwrap();
    assert!(env.system.session(&again).unwrap().is_none());
}

#[test]
fn csrf_tokens_are_per_session() {
    let env = Env::new("csrf");
    let person = env.staff("hara", Role::Circulation);
    let (_, one) = env.logged_in(&person);
    env.next_step();
    let (_, two) = env.logged_in(&person);
    let token = one.csrf_token().expose().to_string();
    assert_eq!(token.len(), 64);
    assert!(one.check_csrf(&token));
    assert!(!one.check_csrf(two.csrf_token().expose()));
    assert!(!one.check_csrf(""));
    assert!(!one.check_csrf(&token[..63]));
    assert!(!format!("{one:?}").contains(&token), "Debug shows no CSRF token");
}

#[test]
fn lockout_backs_off_and_success_resets_it() {
    let env = Env::new("lockout");
    let person = env.staff("abe", Role::Circulation);
    for _ in 0..4 {
        assert!(matches!(env.login("abe", "wrong password!", None), LoginOutcome::WrongCredentials));
    }
    let now = env.clock.now();
    let minute = now.checked_add(mins(1)).unwrap();
    assert_eq!(kind(&env.login("abe", "wrong password!", None)), format!("locked until {minute}"));
    // While locked, even the right credentials are not looked at.
    let code = env.code(&person.totp);
    assert!(
        matches!(env.login("abe", &person.password, Some(&code)), LoginOutcome::Locked { until } if until == minute)
    );
    assert_eq!(env.system.locked_until(&person.id).unwrap(), Some(minute));

    // The next failure after the lock doubles it, then again.
    env.clock.set(minute);
    let two = minute.checked_add(mins(2)).unwrap();
    assert_eq!(kind(&env.login("abe", "wrong again!!", None)), format!("locked until {two}"));
    env.clock.set(two);
    let four = two.checked_add(mins(4)).unwrap();
    assert_eq!(kind(&env.login("abe", "wrong again!!", None)), format!("locked until {four}"));

    // Changing the password with a wrong current one counts too, and is refused while locked.
    env.clock.set(four);
    env.next_step();
    let (_, session) = env.logged_in(&person);
    // Success reset the count: four more failures lock nothing.
    for _ in 0..4 {
        assert!(matches!(env.login("abe", "wrong password!", None), LoginOutcome::WrongCredentials));
    }
    let refused = env.system.change_password(&session, "wrong password!", "a brand new passphrase");
    assert!(matches!(refused, Err(Error::AccountLocked { .. })), "{refused:?}");
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::Denied);

    // An admin can lift it.
    env.system.unlock(&person.id).unwrap();
    env.next_step();
    assert!(matches!(env.login("abe", &person.password, Some(&env.code(&person.totp))), LoginOutcome::LoggedIn(_)));
}

#[test]
fn an_unknown_user_is_indistinguishable_from_a_wrong_password() {
    let env = Env::new("unknown");
    let person = env.staff("real", Role::ReadOnly);
    let run = |username: &str| -> Vec<String> {
        (0..7).map(|_| kind(&env.login(username, "guess guess guess", Some("123456")))).collect()
    };
    let known = run("real");
    let unknown = run("nobody");
    assert_eq!(known, unknown);
    assert_eq!(known[..4], ["wrong", "wrong", "wrong", "wrong"]);
    assert!(known[4].starts_with("locked until"));

    // The same argon2 work: an unknown name is not answered faster (loosely: a third of
    // the time at least, on a machine that may be busy with other tests).
    env.clock.advance(SignedDuration::from_hours(2));
    env.system.unlock(&person.id).unwrap();
    let time = |username: &str| {
        let started = Instant::now();
        let outcome = env.login(username, "another guess!!", Some("123456"));
        assert!(matches!(outcome, LoginOutcome::WrongCredentials));
        started.elapsed()
    };
    let known = (0..3).map(|_| time("real")).min().unwrap();
    let unknown = (0..3).map(|_| time("ghost")).min().unwrap();
    assert!(unknown * 3 >= known, "unknown {unknown:?} vs known {known:?}");
    // A name that cannot exist, a disabled account: the same answer.
    assert!(matches!(env.login("../../etc", "guess guess guess", None), LoginOutcome::WrongCredentials));
    let disabled = env.staff("gone", Role::ReadOnly);
    env.system.set_disabled(&disabled.id, true).unwrap();
    let code = env.code(&disabled.totp);
    assert!(matches!(env.login("gone", &disabled.password, Some(&code)), LoginOutcome::WrongCredentials));
    // The right password of a disabled account does not even ask for the code.
    assert!(matches!(env.login("gone", &disabled.password, None), LoginOutcome::WrongCredentials));
}

#[test]
fn may_decides_every_role_and_function() {
    use Function::*;
    let city: TenantCode = "city".parse().unwrap();
    let town: TenantCode = "town".parse().unwrap();
    let policy = RolePolicy::defaults(&city);
    let staff = |role: Role| Principal::Staff {
        tenant: city.clone(),
        username: "someone".parse().unwrap(),
        role,
        functions: policy.functions(role),
    };
    // Rows: View, CatalogueEdit, Import, Circulation, Holds, Patrons, Reports, Audit,
    // StaffAdmin, ManageTenants.
    let table: [(Role, [bool; 10]); 4] = [
        (Role::TenantAdmin, [true, true, true, true, true, true, true, true, true, false]),
        (Role::Cataloguer, [true, true, true, false, false, false, true, false, false, false]),
        (Role::Circulation, [true, false, false, true, true, true, false, false, false, false]),
        (Role::ReadOnly, [true, false, false, false, false, false, false, false, false, false]),
    ];
    assert_eq!(
        Function::ALL,
        [View, CatalogueEdit, Import, Circulation, Holds, Patrons, Reports, Audit, StaffAdmin, ManageTenants]
    );
    for (role, row) in table {
        for (function, expected) in Function::ALL.into_iter().zip(row) {
            assert_eq!(may(&staff(role), &city, function), expected, "{role} {function}");
            // Another library's session may nothing there, whatever its role.
            assert!(!may(&staff(role), &town, function), "{role} {function} in another library");
        }
    }
    let operator = Principal::Operator { username: "admin".parse().unwrap() };
    for function in Function::ALL {
        let expected = matches!(function, ManageTenants | StaffAdmin);
        assert_eq!(may(&operator, &city, function), expected, "operator {function}");
        assert_eq!(may(&operator, &town, function), expected, "operator {function}");
    }
    // A principal claiming staff_admin through its function set still has no such right.
    let forged = Principal::Staff {
        tenant: city.clone(),
        username: "someone".parse().unwrap(),
        role: Role::ReadOnly,
        functions: catalogue::FunctionSet::of(&Function::ALL),
    };
    assert!(!may(&forged, &city, StaffAdmin));
    assert!(!may(&forged, &city, ManageTenants));
    assert!(may(&forged, &city, Patrons));
}

#[test]
fn a_tenant_admin_switches_functions_and_sessions_follow() {
    let env = Env::new("switches");
    let person = env.staff("desk", Role::Circulation);
    let (token, session) = env.logged_in(&person);
    assert!(session.may(&env.city, Function::Patrons));
    assert!(!session.may(&env.city, Function::Reports));

    let mut policy = env.system.role_policy(&env.city).unwrap();
    assert_eq!(policy, RolePolicy::defaults(&env.city));
    policy.set(Role::Circulation, Function::Patrons, false).unwrap();
    policy.set(Role::Circulation, Function::Reports, true).unwrap();
    env.system.set_role_policy(&policy).unwrap();
    let session = env.system.session(&token).unwrap().unwrap();
    assert!(!session.may(&env.city, Function::Patrons));
    assert!(session.may(&env.city, Function::Reports));

    // A role change applies at the next request too.
    env.system.set_role(&person.id, Role::ReadOnly).unwrap();
    let session = env.system.session(&token).unwrap().unwrap();
    assert!(!session.may(&env.city, Function::Circulation));
    assert!(session.may(&env.city, Function::View));
    assert_eq!(session.principal.to_string(), "city/desk");

    let other: TenantCode = "nowhere".parse().unwrap();
    assert!(matches!(env.system.set_role_policy(&RolePolicy::defaults(&other)), Err(Error::UnknownTenant(_))));
    assert!(matches!(env.system.create_staff(&other, "x-y", "", Role::ReadOnly), Err(Error::UnknownTenant(_))));
    assert!(matches!(env.system.create_staff(&env.city, "desk", "", Role::ReadOnly), Err(Error::AccountExists(_))));
}

#[test]
fn a_staff_session_is_refused_in_another_library() {
    let env = Env::new("cross-tenant");
    let town: TenantCode = "town".parse().unwrap();
    env.system.create_tenant(&town, "町立図書館").unwrap();
    let person = env.staff("chief", Role::TenantAdmin);
    let (_, session) = env.logged_in(&person);
    for function in Function::ALL {
        assert!(!session.may(&town, function), "{function}");
    }
    assert_eq!(session.tenant(), Some(&env.city));
    // The same name and password do not log in to the other library.
    env.next_step();
    let code = env.code(&person.totp);
    let attempt = LoginAttempt { username: "chief", password: &person.password, second_factor: Some(&code) };
    assert!(matches!(env.system.login(&Scope::Tenant(town), &attempt, None).unwrap(), LoginOutcome::WrongCredentials));
    assert!(matches!(env.system.login(&Scope::Operators, &attempt, None).unwrap(), LoginOutcome::WrongCredentials));
}

#[test]
fn bootstrap_creates_the_first_operator_once() {
    let env = Env::new("bootstrap");
    let issued = env.system.bootstrap_operator("admin").unwrap();
    assert_eq!(issued.account.to_string(), "operator:admin");
    assert!(issued.totp.uri.expose().starts_with("otpauth://totp/Shiori:admin%20%28operator%29?secret="));
    let qr = issued.totp.qr_text().unwrap();
    assert!(qr.lines().count() > 15);
    assert!(matches!(env.system.bootstrap_operator("other"), Err(Error::OperatorExists)));
    assert!(matches!(env.system.bootstrap_operator("admin"), Err(Error::OperatorExists)));

    let code = env.code(&issued.totp.secret);
    let attempt = LoginAttempt { username: "admin", password: issued.password.expose(), second_factor: Some(&code) };
    let session = match env.system.login(&Scope::Operators, &attempt, None).unwrap() {
        LoginOutcome::LoggedIn(done) => done.session,
        other => panic!("{other:?}"),
    };
    assert!(session.must_change_password);
    assert!(!session.may(&env.city, Function::ManageTenants), "not before the password is changed");
    env.system.change_password(&session, issued.password.expose(), "operators keep the lights on").unwrap();
    let accounts = env.system.accounts(&Scope::Operators).unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(!accounts[0].must_change_password);
    // Staff of a library are not operators.
    assert!(env.system.accounts(&env.scope()).unwrap().is_empty());
}

#[test]
fn demo_credentials_exist_only_in_demo_mode() {
    let env = Env::new("demo");
    let path = env.layout().demo_credentials_file();
    let first = env.system.ensure_demo_staff(&env.city).unwrap();
    assert_eq!(first.username, "demo");
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["tenant"], "city");
    assert_eq!(json["password"], first.password.expose());
    assert_eq!(json["totp_secret"], first.totp_secret.expose());
    // Idempotent.
    let again = env.system.ensure_demo_staff(&env.city).unwrap();
    assert_eq!(again, first);
    // The credentials log in, with no password change asked.
    let code = env.code(&first.totp_secret);
    match env.login("demo", first.password.expose(), Some(&code)) {
        LoginOutcome::LoggedIn(done) => {
            assert!(!done.session.must_change_password);
            assert!(done.session.may(&env.city, Function::Circulation));
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{first:?}").contains(first.password.expose()));

    // Deleting the demo library takes its credentials file along.
    let demo_city: TenantCode = "demo-city".parse().unwrap();
    env.system.create_tenant(&demo_city, "demo").unwrap();
    let other = env.system.ensure_demo_staff(&demo_city).unwrap();
    assert_ne!(other.password, first.password);
    let report = env.system.delete_tenant(&demo_city).unwrap();
    assert_eq!(report.removed.last(), Some(&path));
    assert!(!path.exists());
    let first = env.system.ensure_demo_staff(&env.city).unwrap();

    // Without demo mode: no demo account, no file.
    assert_eq!(env.system.remove_demo_staff().unwrap(), 1);
    assert!(!path.exists());
    assert!(env.system.accounts(&env.scope()).unwrap().is_empty());
    env.next_step();
    let code = env.code(&first.totp_secret);
    assert!(matches!(env.login("demo", first.password.expose(), Some(&code)), LoginOutcome::WrongCredentials));
    // A real person called demo is never taken over.
    env.system.create_staff(&env.city, "demo", "", Role::ReadOnly).unwrap();
    assert!(matches!(env.system.ensure_demo_staff(&env.city), Err(Error::AccountExists(_))));
}

#[test]
fn debug_output_shows_no_secret() {
    let env = Env::new("debug");
    let issued = env.system.create_staff(&env.city, "suzuki", "", Role::ReadOnly).unwrap();
    let code = env.code(&issued.totp.secret);
    let attempt = LoginAttempt { username: "suzuki", password: issued.password.expose(), second_factor: Some(&code) };
    let outcome = env.system.login(&env.scope(), &attempt, None).unwrap();
    let LoginOutcome::LoggedIn(done) = &outcome else { panic!("{outcome:?}") };
    let printed = format!("{issued:?} {attempt:?} {outcome:?} {:?} {:?}", done.session, env.system);
    let mut secrets = vec![
        issued.password.expose().to_string(),
        issued.totp.secret.expose().to_string(),
        issued.totp.uri.expose().to_string(),
        done.token.expose(),
        done.session.csrf_token().expose().to_string(),
        code,
    ];
    secrets.extend(issued.recovery_codes.iter().map(|c| c.expose().to_string()));
    for secret in secrets {
        assert!(!printed.contains(&secret), "{secret:?} printed");
    }
    assert!(printed.contains("[redacted]"));
}

#[test]
fn system_schema_1_is_migrated_and_a_newer_one_refused() {
    let scratch = Scratch::new("security-migrate");
    std::fs::create_dir_all(scratch.layout.root()).unwrap();
    {
        // A version-1 system.redb: the tenants registry only.
        let db = redb::Database::create(scratch.layout.system_file()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(redb::TableDefinition::<&str, u64>::new("meta")).unwrap();
            meta.insert("schema_version", 1).unwrap();
            let mut tenants = txn.open_table(redb::TableDefinition::<&str, &[u8]>::new("tenants")).unwrap();
            tenants.insert("old-city", br#"{"code":"old-city","name":"Old","created":1}"#.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let system = System::open(&scratch.layout).unwrap();
    assert_eq!(system.schema_version().unwrap(), catalogue::SYSTEM_SCHEMA_VERSION);
    assert_eq!(system.tenants().unwrap().len(), 1);
    assert!(system.accounts(&Scope::Operators).unwrap().is_empty(), "no default account");
    system.bootstrap_operator("admin").unwrap();
    drop(system);
    {
        let db = redb::Database::create(scratch.layout.system_file()).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("meta")).unwrap().insert("schema_version", 99).unwrap();
        txn.commit().unwrap();
    }
    assert!(matches!(System::open(&scratch.layout), Err(Error::SchemaTooNew { found: 99, .. })));
}

// --- The audit log ---------------------------------------------------------------------

fn audit_fixture(env: &Env, lines: usize) -> (AuditLog, PathBuf) {
    let log = AuditLog::for_tenant(env.layout(), &env.city, Arc::new(env.clock.clone()));
    for i in 1..=lines {
        let event = AuditEvent::new("city/yamada", "record.update", format!("bib {i}"))
            .before(serde_json::json!({ "title": "ぐりとぐら", "version": i }))
            .after(serde_json::json!({ "title": "ぐりとぐらのおきゃくさま", "version": i + 1 }));
        let head = log.append(&event).unwrap();
        assert_eq!(head.seq, i as u64);
        env.clock.advance(SignedDuration::from_secs(1));
    }
    let path = log.path().to_path_buf();
    (log, path)
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

fn first_problem(path: &Path) -> (u64, AuditProblemKind) {
    let report = verify_audit_log(path).unwrap();
    let problem = report.first_problem().unwrap_or_else(|| panic!("no problem found in {report:?}"));
    (problem.line, problem.kind.clone())
}

#[test]
fn the_audit_chain_verifies_and_every_tampering_is_found() {
    let env = Env::new("audit");
    let (_log, path) = audit_fixture(&env, 5);
    assert_eq!(path, env.layout().tenant_dir(&env.city).join("logs/audit.log"));
    let report = verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.lines, 5);
    assert_eq!(report.head.as_ref().map(|h| h.seq), Some(5));

    let original = lines_of(&path);
    let line: serde_json::Value = serde_json::from_str(&original[0]).unwrap();
    assert_eq!(line["seq"], 1);
    assert_eq!(line["time"], "2026-04-01T10:00:00.000+09:00");
    assert_eq!(line["principal"], "city/yamada");
    assert_eq!(line["prev_hash"], "0".repeat(64));
    assert_eq!(line["before"]["title"], "ぐりとぐら");
    let keys: Vec<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 9, "{keys:?}");
    assert!(original[0].ends_with(&format!(",\"hash\":\"{}\"}}", line["hash"].as_str().unwrap())));

    // A field edited.
    let mut edited = original.clone();
    edited[2] = edited[2].replace("ぐりとぐらのおきゃくさま", "ぐりとぐらのえんそく");
    write_lines(&path, &edited);
    assert_eq!(first_problem(&path), (3, AuditProblemKind::HashMismatch));
    assert_eq!(verify_audit_log(&path).unwrap().problems.len(), 1, "one edit, one problem");

    // The principal changed.
    let mut edited = original.clone();
    edited[1] = edited[1].replace("city/yamada", "city/suzuki");
    write_lines(&path, &edited);
    assert_eq!(first_problem(&path), (2, AuditProblemKind::HashMismatch));

    // A line deleted.
    let mut deleted = original.clone();
    deleted.remove(2);
    write_lines(&path, &deleted);
    assert_eq!(first_problem(&path), (3, AuditProblemKind::SeqOutOfOrder { expected: 3, found: 4 }));

    // The first line deleted.
    write_lines(&path, &original[1..]);
    assert_eq!(first_problem(&path), (1, AuditProblemKind::SeqOutOfOrder { expected: 1, found: 2 }));

    // Two lines swapped.
    let mut swapped = original.clone();
    swapped.swap(1, 2);
    write_lines(&path, &swapped);
    assert_eq!(first_problem(&path), (2, AuditProblemKind::SeqOutOfOrder { expected: 2, found: 3 }));

    // A line inserted (a copy of a real one).
    let mut inserted = original.clone();
    inserted.insert(3, original[1].clone());
    write_lines(&path, &inserted);
    assert_eq!(first_problem(&path), (4, AuditProblemKind::SeqOutOfOrder { expected: 4, found: 2 }));

    // A line rewritten with its hash recomputed: the next line's link breaks.
    let mut rewritten = original.clone();
    rewritten[1] = rehash(&original[1].replace("bib 2", "bib 99"));
    write_lines(&path, &rewritten);
    assert_eq!(first_problem(&path), (3, AuditProblemKind::BrokenLink));

    // Garbage.
    let mut garbage = original.clone();
    garbage[3] = "not json".into();
    write_lines(&path, &garbage);
    assert!(matches!(first_problem(&path), (4, AuditProblemKind::Unreadable(_))));

    // An extra member is not accepted either, even with a recomputed hash.
    let mut extra = original.clone();
    extra[0] = rehash(&original[0].replacen("{\"seq\":1,", "{\"seq\":1,\"note\":\"x\",", 1));
    write_lines(&path, &extra);
    assert!(matches!(first_problem(&path), (1, AuditProblemKind::Unreadable(_))));

    // Back to the original: intact, and appending continues the chain.
    write_lines(&path, &original);
    let log = AuditLog::for_tenant(env.layout(), &env.city, Arc::new(env.clock.clone()));
    assert_eq!(log.append(&AuditEvent::new("city/yamada", "item.delete", "item 1")).unwrap().seq, 6);
    assert!(log.verify().unwrap().is_intact());

    // Appending after a tampered last line is refused rather than chained to it.
    let mut tampered = lines_of(&path);
    let last = tampered.len() - 1;
    tampered[last] = "tampered".into();
    write_lines(&path, &tampered);
    assert!(matches!(log.append(&AuditEvent::new("x", "y", "z")), Err(Error::AuditLog { line: 6, .. })));
    assert!(matches!(verify_audit_log(&env.layout().audit_log(&"nowhere".parse().unwrap())), Err(Error::Io { .. })));
}

/// Recomputes a line's hash the way the log does, as a forger with the file would.
fn rehash(line: &str) -> String {
    use sha2::{Digest, Sha256};
    // The body is the line without `,"hash":"<64 hex>"` (75 bytes with the closing brace).
    let body = format!("{}}}", &line[..line.len() - 75]);
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    let prev_hex = value["prev_hash"].as_str().unwrap();
    let prev: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&prev_hex[i * 2..i * 2 + 2], 16).unwrap()).collect();
    let mut hasher = Sha256::new();
    hasher.update(&prev);
    hasher.update(body.as_bytes());
    let hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{},\"hash\":\"{hash}\"}}", &line[..line.len() - 75])
}

#[test]
fn audit_appends_from_many_threads_keep_the_chain() {
    let env = Env::new("audit-threads");
    let log = Arc::new(AuditLog::for_tenant(env.layout(), &env.city, Arc::new(env.clock.clone())));
    // A second handle on the same file, as another part of the server might hold: the file
    // lock keeps it in order too.
    let other = Arc::new(AuditLog::for_tenant(env.layout(), &env.city, Arc::new(env.clock.clone())));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = if t % 2 == 0 { log.clone() } else { other.clone() };
            std::thread::spawn(move || {
                for i in 0..25 {
                    log.append(&AuditEvent::new(format!("city/t{t}"), "circulation.checkout", format!("item {i}")))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let report = log.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.first_problem());
    assert_eq!(report.lines, 200);
}

#[test]
fn a_line_torn_by_a_crash_is_reported_and_the_chain_goes_on() {
    let env = Env::new("audit-torn");
    let (log, path) = audit_fixture(&env, 3);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"seq\":4,\"time\":\"2026-04-01T10:0");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(log.append(&AuditEvent::new("city/yamada", "item.add", "item 9")).unwrap().seq, 4);
    let report = verify_audit_log(&path).unwrap();
    assert_eq!(report.lines, 5);
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(matches!(report.problems[0].kind, AuditProblemKind::Unreadable(_)));
    assert_eq!(report.problems[0].line, 4);
}

// --- Access logs -----------------------------------------------------------------------

fn entry(env: &Env, time: Timestamp, route: &str) -> AccessEntry {
    AccessEntry {
        time,
        tenant: Some(env.city.clone()),
        principal: Some("city/yamada".into()),
        method: "GET".into(),
        route: route.into(),
        status: 200,
        latency_ms: 1.23456,
        client: Some("192.0.2.1".into()),
    }
}

#[test]
fn access_logs_rotate_by_japanese_day_and_keep_six_months() {
    let env = Env::new("access");
    let logs = AccessLogs::new(env.layout());
    // 23:59:59 and 00:00:00 in Japan are two days.
    let late: Timestamp = "2026-03-31T14:59:59Z".parse().unwrap();
    let midnight: Timestamp = "2026-03-31T15:00:00Z".parse().unwrap();
    logs.record(&entry(&env, late, "/api/v1/{tenant}/search")).unwrap();
    logs.record(&entry(&env, midnight, "/{tenant}/")).unwrap();
    logs.record(&AccessEntry { tenant: None, principal: None, ..entry(&env, midnight, "/healthz") }).unwrap();
    let day1 = env.layout().access_log(&env.city, jiff::civil::date(2026, 3, 31));
    let day2 = env.layout().access_log(&env.city, jiff::civil::date(2026, 4, 1));
    let line: serde_json::Value = serde_json::from_str(&lines_of(&day1)[0]).unwrap();
    assert_eq!(
        line,
        serde_json::json!({
            "time": "2026-03-31T23:59:59.000+09:00", "tenant": "city", "principal": "city/yamada",
            "method": "GET", "route": "/api/v1/{tenant}/search", "status": 200, "latency_ms": 1.235,
            "client": "192.0.2.1"
        })
    );
    assert_eq!(lines_of(&day2).len(), 1);
    assert!(env.layout().system_logs_dir().join("access-2026-04-01.log").exists());

    // Old files, by the date in their name: today is 2026-04-01 in Japan, so 2025-09-30
    // (183 days ago) is kept and 2025-09-29 is not.
    let logs_dir = env.layout().logs_dir(&env.city);
    for name in [
        "access-2025-01-01.log",
        "access-2025-09-29.log",
        "access-2025-09-30.log",
        "access-2026-01-01.log",
        "notes.txt",
        "audit.log",
    ] {
        std::fs::write(logs_dir.join(name), "x\n").unwrap();
    }
    let removed = purge_access_logs(env.layout(), Some(&env.city), midnight).unwrap();
    assert_eq!(removed, [logs_dir.join("access-2025-01-01.log"), logs_dir.join("access-2025-09-29.log")]);
    let left: BTreeSet<String> =
        std::fs::read_dir(&logs_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let expected = [
        "access-2025-09-30.log",
        "access-2026-01-01.log",
        "access-2026-03-31.log",
        "access-2026-04-01.log",
        "audit.log",
        "notes.txt",
    ];
    assert_eq!(left, expected.iter().map(|s| s.to_string()).collect());

    // The writer purges by itself when a new day begins.
    let next_day: Timestamp = "2026-04-01T15:00:00Z".parse().unwrap();
    logs.record(&entry(&env, next_day, "/{tenant}/")).unwrap();
    assert!(!logs_dir.join("access-2025-09-30.log").exists());
    assert!(logs_dir.join("access-2026-04-02.log").exists());

    // A library whose folder is gone is not recreated by its log.
    let gone: TenantCode = "gone".parse().unwrap();
    let refused = logs.record(&AccessEntry { tenant: Some(gone.clone()), ..entry(&env, next_day, "/") });
    assert!(refused.is_err());
    assert!(!env.layout().tenant_dir(&gone).exists());
}

// --- Deleting a tenant -----------------------------------------------------------------

fn walk(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path.clone());
            }
            out.insert(path);
        }
    }
    out
}

/// Fills a library with everything a library has on disk, and a staff member logged in.
fn populate(env: &Env, code: &TenantCode) -> (Person, SessionToken) {
    if env.system.tenant(code).unwrap().is_none() {
        env.system.create_tenant(code, "library").unwrap();
    }
    drop(Catalogue::open(env.layout(), code).unwrap());
    let index = env.layout().index_dir(code).join("gen-1");
    std::fs::create_dir_all(&index).unwrap();
    std::fs::write(index.join("meta.json"), "{}").unwrap();
    std::fs::write(env.layout().index_dir(code).join("CURRENT"), "gen-1").unwrap();
    std::fs::create_dir_all(env.layout().backups_dir(code)).unwrap();
    std::fs::write(env.layout().backups_dir(code).join("catalogue-2026-04-01.redb"), "backup").unwrap();
    std::fs::create_dir_all(env.layout().tenant_dir(code).join("rejects")).unwrap();
    std::fs::write(env.layout().tenant_dir(code).join("rejects/import-1.mrc"), "bad").unwrap();
    AuditLog::for_tenant(env.layout(), code, Arc::new(env.clock.clone()))
        .append(&AuditEvent::new("x", "tenant.create", code.as_str()))
        .unwrap();
    AccessLogs::new(env.layout())
        .record(&AccessEntry { tenant: Some(code.clone()), ..entry(env, env.clock.now(), "/") })
        .unwrap();

    let issued = env.system.create_staff(code, "chief", "", Role::TenantAdmin).unwrap();
    let password = "the head librarian reads a lot".to_string();
    let attempt = |password: &str, code_now: &str| {
        let attempt = LoginAttempt { username: "chief", password, second_factor: Some(code_now) };
        match env.system.login(&Scope::Tenant(code.clone()), &attempt, None).unwrap() {
            LoginOutcome::LoggedIn(done) => done,
            other => panic!("{other:?}"),
        }
    };
    let first = attempt(issued.password.expose(), &env.code(&issued.totp.secret));
    env.system.change_password(&first.session, issued.password.expose(), &password).unwrap();
    let person = Person {
        id: issued.account,
        username: "chief".into(),
        password,
        totp: issued.totp.secret,
        recovery: issued.recovery_codes,
    };
    (person, first.token)
}

#[test]
fn deleting_a_tenant_leaves_no_file_of_it_and_spares_the_others() {
    let env = Env::new("delete");
    let doomed: TenantCode = "doomed".parse().unwrap();
    let (_, doomed_session) = populate(&env, &doomed);
    let city = env.city.clone();
    let (_, city_session) = populate(&env, &city);
    env.system.create_staff(&doomed, "clerk", "", Role::Circulation).unwrap();
    // A link inside the library to a file outside it: the link goes, the file stays.
    let outside = env.layout().root().join("precious.txt");
    std::fs::write(&outside, "keep me").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, env.layout().tenant_dir(&doomed).join("link")).unwrap();

    let doomed_dir = env.layout().tenant_dir(&doomed);
    let before = walk(env.layout().root());
    let city_before: BTreeSet<PathBuf> = before.iter().filter(|p| !p.starts_with(&doomed_dir)).cloned().collect();
    let doomed_files: BTreeSet<PathBuf> = before.iter().filter(|p| p.starts_with(&doomed_dir)).cloned().collect();
    assert!(doomed_files.len() > 8, "{doomed_files:?}");

    let report = env.system.delete_tenant(&doomed).unwrap();
    assert!(report.registered);
    assert_eq!(report.accounts, 2);
    assert_eq!(report.sessions, 1);
    let root = std::fs::canonicalize(env.layout().root()).unwrap();
    let canonical_doomed = root.join("tenants/doomed");
    assert_eq!(report.removed.last(), Some(&canonical_doomed));
    let removed: BTreeSet<PathBuf> = report.removed.iter().cloned().collect();
    let expected: BTreeSet<PathBuf> = doomed_files
        .iter()
        .map(|p| canonical_doomed.join(p.strip_prefix(&doomed_dir).unwrap()))
        .chain([canonical_doomed.clone()])
        .collect();
    assert_eq!(removed, expected, "the report names every file removed");

    // Nothing of that library is left on disk; everything else is as it was.
    let after = walk(env.layout().root());
    assert!(after.iter().all(|p| !p.to_string_lossy().contains("doomed")), "{after:?}");
    assert_eq!(after, city_before);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");

    // Nor in system.redb: no registration, no account, no session.
    assert!(env.system.tenant(&doomed).unwrap().is_none());
    assert!(env.system.accounts(&Scope::Tenant(doomed.clone())).unwrap().is_empty());
    assert!(env.system.session(&doomed_session).unwrap().is_none());
    assert!(env.system.session(&city_session).unwrap().is_some(), "the other library's session lives on");
    assert_eq!(env.system.accounts(&env.scope()).unwrap().len(), 1);
    assert!(matches!(env.system.delete_tenant(&doomed), Err(Error::UnknownTenant(_))));
}

#[cfg(unix)]
#[test]
fn a_tenant_folder_that_leads_outside_the_data_folder_is_refused() {
    let env = Env::new("delete-link");
    let trap: TenantCode = "trap".parse().unwrap();
    env.system.create_tenant(&trap, "trap").unwrap();
    let elsewhere = Scratch::new("security-elsewhere");
    std::fs::create_dir_all(elsewhere.layout.root()).unwrap();
    std::fs::write(elsewhere.layout.root().join("keep.txt"), "keep").unwrap();
    let dir = env.layout().tenant_dir(&trap);
    std::fs::remove_dir(&dir).unwrap();
    std::os::unix::fs::symlink(elsewhere.layout.root(), &dir).unwrap();
    let refused = env.system.delete_tenant(&trap);
    assert!(matches!(refused, Err(Error::UnsafePath { .. })), "{refused:?}");
    assert!(elsewhere.layout.root().join("keep.txt").exists());
    assert!(env.system.tenant(&trap).unwrap().is_some(), "nothing was touched");
}

#[test]
fn an_interrupted_deletion_can_be_finished() {
    let env = Env::new("delete-again");
    let half: TenantCode = "half".parse().unwrap();
    populate(&env, &half);
    // As if a crash came after the registry transaction: the folder is still there.
    let folder = env.layout().tenant_dir(&half);
    let copy = env.layout().root().join("copy");
    std::fs::rename(&folder, &copy).unwrap();
    env.system.delete_tenant(&half).unwrap();
    std::fs::rename(&copy, &folder).unwrap();
    let report = env.system.delete_tenant(&half).unwrap();
    assert!(!report.registered);
    assert!(!report.removed.is_empty());
    assert!(!folder.exists());
}
