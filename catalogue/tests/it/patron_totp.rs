//! Patrons' optional second factor and their own password change (issue 7: "TOTP required
//! for staff, optional for patrons; recovery codes; password change"): enrolment and its
//! confirmation, a login that needs the code, wrong codes counted towards the lockout, a
//! TOTP step and a recovery code accepted once, turning it off, the password change ending
//! the other sessions, and the migration from schema 4.

use catalogue::{
    Catalogue, Error, PatronChallenge, PatronCodeOutcome, PatronLoginOutcome, SessionToken, TotpEnrolment, totp_code,
};
use jiff::{SignedDuration, Timestamp};

use crate::circulation::{Library, now, set_schema, table_names, version_5_tables};

const PASSWORD: &str = "yomu-koto-ga-suki-42";
const NEW_PASSWORD: &str = "hon-wo-yomu-hi-mo-ame-7";

/// `seconds` after [`now`].
fn at(seconds: i64) -> Timestamp {
    now().checked_add(SignedDuration::from_secs(seconds)).unwrap()
}

/// A library whose patron P0001 has a password.
fn library(name: &str) -> Library {
    let lib = Library::new(name);
    lib.catalogue.set_patron_password("P0001", PASSWORD, now()).unwrap();
    lib
}

fn patron_id(c: &Catalogue) -> u64 {
    c.patron_by_card("P0001").unwrap().unwrap().id
}

/// Logs in with the password alone; the session's token.
fn login(c: &Catalogue, password: &str, when: Timestamp) -> SessionToken {
    match c.patron_login("P0001", password, None, when).unwrap() {
        PatronLoginOutcome::LoggedIn { token, .. } => token,
        other => panic!("not logged in: {other:?}"),
    }
}

/// The password step of a two-step login: the challenge.
fn challenge(c: &Catalogue, when: Timestamp) -> (SessionToken, PatronChallenge) {
    match c.patron_login("P0001", PASSWORD, None, when).unwrap() {
        PatronLoginOutcome::NeedSecondFactor { token, challenge } => (token, *challenge),
        other => panic!("no second step: {other:?}"),
    }
}

/// Turns the second factor on at `when`; the secret and the recovery codes.
fn enrol(c: &Catalogue, session: &SessionToken, when: Timestamp) -> (String, Vec<String>) {
    let enrolment: TotpEnrolment = c.begin_patron_totp(patron_id(c)).unwrap();
    let secret = enrolment.secret.expose().to_owned();
    let codes = c.confirm_patron_totp(session, PASSWORD, &totp_code(&secret, when).unwrap(), when).unwrap();
    (secret, codes.iter().map(|code| code.expose().to_owned()).collect())
}

#[test]
fn enrolment_is_confirmed_with_a_code_and_then_logins_need_one() {
    let lib = library("totp-enrol");
    let c = &lib.catalogue;
    let id = patron_id(c);
    let session = login(c, PASSWORD, now());
    let other = login(c, PASSWORD, now());
    assert!(!c.patron_totp_status(id).unwrap().enabled);

    let enrolment = c.begin_patron_totp(id).unwrap();
    let secret = enrolment.secret.expose().to_owned();
    assert!(
        enrolment.uri.expose().starts_with("otpauth://totp/Shiori:P0001%40circ-city?"),
        "{:?}",
        enrolment.uri.expose()
    );
    assert_eq!(c.patron_totp_enrolment(id).unwrap(), Some(enrolment));
    let status = c.patron_totp_status(id).unwrap();
    assert!(status.pending && !status.enabled);
    // Only begun: the password still logs in alone.
    assert!(matches!(c.patron_login("P0001", PASSWORD, None, now()).unwrap(), PatronLoginOutcome::LoggedIn { .. }));

    let code = totp_code(&secret, now()).unwrap();
    assert!(matches!(c.confirm_patron_totp(&session, "wrong password", &code, now()), Err(Error::WrongPassword)));
    assert!(matches!(c.confirm_patron_totp(&session, PASSWORD, "000000", now()), Err(Error::WrongCode)));
    let codes = c.confirm_patron_totp(&session, PASSWORD, &code, now()).unwrap();
    assert_eq!(codes.len(), 10);
    let status = c.patron_totp_status(id).unwrap();
    assert_eq!(
        (status.enabled, status.pending, status.recovery_codes_left, status.since),
        (true, false, 10, Some(now()))
    );
    assert_eq!(c.patron_totp_enrolment(id).unwrap(), None);
    // Confirming ends the sessions opened with the password alone, except this one.
    assert!(c.patron_session(&session, now()).unwrap().is_some());
    assert!(c.patron_session(&other, now()).unwrap().is_none());
    assert!(matches!(c.begin_patron_totp(id), Err(Error::TotpEnabled)));

    // The password alone no longer logs in: it starts a challenge.
    let (token, pending) = challenge(c, now());
    assert_eq!((pending.patron_id, pending.expires), (id, at(300)));
    assert!(pending.check_csrf(pending.csrf_token().expose()) && !pending.check_csrf(""));
    assert_eq!(c.patron_challenge(&token, now()).unwrap().map(|p| p.patron_id), Some(id));
    // The code that confirmed the enrolment is spent: its step is refused.
    assert!(matches!(c.patron_login_code(&token, &code, None, now()).unwrap(), PatronCodeOutcome::WrongCode));
    let next = totp_code(&secret, at(30)).unwrap();
    let PatronCodeOutcome::LoggedIn { token: logged_in, session: s, used_recovery_code, recovery_codes_left } =
        c.patron_login_code(&token, &format!(" {next} "), Some(&session), at(30)).unwrap()
    else {
        panic!("the right code did not log in")
    };
    assert_eq!((s.patron.id, used_recovery_code, recovery_codes_left), (id, false, 10));
    assert!(c.patron_session(&logged_in, at(30)).unwrap().is_some());
    assert!(c.patron_session(&session, at(30)).unwrap().is_none(), "the browser's previous session ended");
    // The challenge is used up, and the same code does not start another session.
    assert!(matches!(c.patron_login_code(&token, &next, None, at(30)).unwrap(), PatronCodeOutcome::Expired));
    let (again, _) = challenge(c, at(30));
    assert!(matches!(c.patron_login_code(&again, &next, None, at(40)).unwrap(), PatronCodeOutcome::WrongCode));
    // A wrong password is still just wrong.
    let wrong = c.patron_login("P0001", "not the password", None, at(40)).unwrap();
    assert!(matches!(wrong, PatronLoginOutcome::WrongCredentials));
}

#[test]
fn wrong_codes_count_towards_the_lockout_and_end_the_challenge() {
    let lib = library("totp-lockout");
    let c = &lib.catalogue;
    let session = login(c, PASSWORD, now());
    let (secret, _) = enrol(c, &session, now());

    // Four wrong codes, then the password again: the count is not forgotten by a right
    // password, so the fifth wrong code locks the card.
    let (token, _) = challenge(c, at(60));
    for _ in 0..4 {
        assert!(matches!(c.patron_login_code(&token, "123456", None, at(60)).unwrap(), PatronCodeOutcome::WrongCode));
    }
    let (token, _) = challenge(c, at(61));
    let PatronCodeOutcome::Locked { until } = c.patron_login_code(&token, "654321", None, at(61)).unwrap() else {
        panic!("five wrong codes did not lock the card")
    };
    assert_eq!(until, at(121));
    assert_eq!(c.patron_locked_until("P0001", at(61)).unwrap(), Some(until));
    // The challenge ended with the lock: even the right code needs the password again.
    let right = totp_code(&secret, at(62)).unwrap();
    assert!(matches!(c.patron_login_code(&token, &right, None, at(62)).unwrap(), PatronCodeOutcome::Expired));
    assert!(c.patron_challenge(&token, at(62)).unwrap().is_none());
    assert!(matches!(c.patron_login("P0001", PASSWORD, None, at(62)).unwrap(), PatronLoginOutcome::Locked { .. }));

    // After the lock, the right code logs in and the count is forgotten.
    let (token, _) = challenge(c, at(130));
    let right = totp_code(&secret, at(130)).unwrap();
    assert!(matches!(c.patron_login_code(&token, &right, None, at(130)).unwrap(), PatronCodeOutcome::LoggedIn { .. }));
    assert_eq!(c.patron_locked_until("P0001", at(130)).unwrap(), None);
    let (token, _) = challenge(c, at(131));
    assert!(matches!(c.patron_login_code(&token, "111111", None, at(131)).unwrap(), PatronCodeOutcome::WrongCode));
    // An empty code is not an attempt.
    assert!(matches!(c.patron_login_code(&token, "  ", None, at(131)).unwrap(), PatronCodeOutcome::WrongCode));
}

#[test]
fn a_recovery_code_works_once() {
    let lib = library("totp-recovery");
    let c = &lib.catalogue;
    let session = login(c, PASSWORD, now());
    let (_, codes) = enrol(c, &session, now());

    let (token, _) = challenge(c, at(60));
    let typed = codes[3].to_uppercase().replace('-', " ");
    let PatronCodeOutcome::LoggedIn { used_recovery_code, recovery_codes_left, .. } =
        c.patron_login_code(&token, &typed, None, at(60)).unwrap()
    else {
        panic!("the recovery code did not log in")
    };
    assert_eq!((used_recovery_code, recovery_codes_left), (true, 9));
    assert_eq!(c.patron_totp_status(patron_id(c)).unwrap().recovery_codes_left, 9);
    let (token, _) = challenge(c, at(90));
    assert!(matches!(c.patron_login_code(&token, &codes[3], None, at(90)).unwrap(), PatronCodeOutcome::WrongCode));
    assert!(matches!(
        c.patron_login_code(&token, &codes[4], None, at(90)).unwrap(),
        PatronCodeOutcome::LoggedIn { .. }
    ));
}

#[test]
fn a_challenge_ends_after_five_minutes_and_when_the_password_is_set() {
    let lib = library("totp-challenge");
    let c = &lib.catalogue;
    let session = login(c, PASSWORD, now());
    let (secret, _) = enrol(c, &session, now());

    let (token, _) = challenge(c, at(60));
    assert!(c.patron_challenge(&token, at(359)).unwrap().is_some());
    assert!(c.patron_challenge(&token, at(360)).unwrap().is_none());
    let late = totp_code(&secret, at(360)).unwrap();
    assert!(matches!(c.patron_login_code(&token, &late, None, at(360)).unwrap(), PatronCodeOutcome::Expired));
    // An id the server never gave out.
    let made_up: SessionToken = "ab".repeat(32).parse().unwrap();
    assert!(matches!(c.patron_login_code(&made_up, &late, None, at(360)).unwrap(), PatronCodeOutcome::Expired));

    // A librarian setting the password ends the challenges of the old one.
    let (token, _) = challenge(c, at(400));
    c.set_patron_password("P0001", NEW_PASSWORD, at(410)).unwrap();
    let code = totp_code(&secret, at(420)).unwrap();
    assert!(matches!(c.patron_login_code(&token, &code, None, at(420)).unwrap(), PatronCodeOutcome::Expired));

    // Expired challenges are pruned with the sessions.
    let _ = c.patron_login("P0001", NEW_PASSWORD, None, at(500)).unwrap();
    assert!(c.prune_patron_logins(at(3600)).unwrap().0 >= 1);
}

#[test]
fn turning_it_off_needs_the_password_and_a_code() {
    let lib = library("totp-disable");
    let c = &lib.catalogue;
    let id = patron_id(c);
    let session = login(c, PASSWORD, now());
    let (secret, codes) = enrol(c, &session, now());

    let code = totp_code(&secret, at(30)).unwrap();
    assert!(matches!(c.disable_patron_totp(&session, "wrong password", &code, at(30)), Err(Error::WrongPassword)));
    assert!(matches!(c.disable_patron_totp(&session, PASSWORD, "000000", at(30)), Err(Error::WrongCode)));
    assert!(c.patron_totp_status(id).unwrap().enabled);
    // Those two failures count: three more lock the card.
    for _ in 0..2 {
        assert!(matches!(c.disable_patron_totp(&session, PASSWORD, "000000", at(30)), Err(Error::WrongCode)));
    }
    assert!(matches!(c.disable_patron_totp(&session, PASSWORD, "000000", at(30)), Err(Error::AccountLocked { .. })));
    assert!(matches!(c.disable_patron_totp(&session, PASSWORD, &code, at(31)), Err(Error::AccountLocked { .. })));

    let later = at(30 * 60);
    let session = {
        let (token, _) = challenge(c, later);
        match c.patron_login_code(&token, &codes[0], None, later).unwrap() {
            PatronCodeOutcome::LoggedIn { token, .. } => token,
            other => panic!("{other:?}"),
        }
    };
    c.disable_patron_totp(&session, PASSWORD, &totp_code(&secret, later).unwrap(), later).unwrap();
    assert!(!c.patron_totp_status(id).unwrap().enabled);
    assert!(matches!(c.patron_login("P0001", PASSWORD, None, later).unwrap(), PatronLoginOutcome::LoggedIn { .. }));

    // A librarian can turn it off for a patron who lost everything.
    let (_, _) = enrol(c, &session, at(30 * 60 + 30));
    assert!(c.patron_totp_status(id).unwrap().enabled);
    c.reset_patron_totp("P0001").unwrap();
    assert!(!c.patron_totp_status(id).unwrap().enabled);
    assert!(c.patron_session(&session, at(30 * 60 + 31)).unwrap().is_none());
}

#[test]
fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let lib = library("password-change");
    let c = &lib.catalogue;
    let mine = login(c, PASSWORD, now());
    let other = login(c, PASSWORD, now());

    assert!(matches!(c.change_patron_password(&mine, "wrong", NEW_PASSWORD, now()), Err(Error::WrongPassword)));
    assert!(matches!(c.change_patron_password(&mine, PASSWORD, "short", now()), Err(Error::WeakPassword(_))));
    assert!(matches!(
        c.change_patron_password(&mine, PASSWORD, "P0001-is-my-card-number", now()),
        Err(Error::WeakPassword(_))
    ));
    assert!(matches!(c.change_patron_password(&mine, PASSWORD, PASSWORD, now()), Err(Error::WeakPassword(_))));
    // Refusals changed nothing.
    assert!(c.patron_session(&other, now()).unwrap().is_some());

    let (token, session) = c.change_patron_password(&mine, PASSWORD, NEW_PASSWORD, at(60)).unwrap();
    assert_eq!((session.patron.card.as_str(), session.created), ("P0001", now()), "the login time carries over");
    assert!(c.patron_session(&token, at(60)).unwrap().is_some());
    assert!(c.patron_session(&mine, at(60)).unwrap().is_none(), "the old id is replaced");
    assert!(c.patron_session(&other, at(60)).unwrap().is_none(), "other sessions end");
    assert!(matches!(c.patron_login("P0001", PASSWORD, None, at(60)).unwrap(), PatronLoginOutcome::WrongCredentials));
    login(c, NEW_PASSWORD, at(60));
    // The wrong current password of earlier was forgotten by the change; a session that
    // ended can change nothing.
    assert!(matches!(c.change_patron_password(&mine, NEW_PASSWORD, PASSWORD, at(60)), Err(Error::SessionEnded)));

    // Wrong current passwords count towards the lockout of the card.
    for _ in 0..4 {
        assert!(matches!(c.change_patron_password(&token, "wrong", PASSWORD, at(70)), Err(Error::WrongPassword)));
    }
    let locked = c.change_patron_password(&token, "wrong", PASSWORD, at(70));
    assert!(matches!(locked, Err(Error::AccountLocked { .. })), "{locked:?}");
    assert!(matches!(c.patron_login("P0001", NEW_PASSWORD, None, at(70)).unwrap(), PatronLoginOutcome::Locked { .. }));
}

#[test]
fn a_schema_4_file_gains_the_second_factor_tables() {
    let Library { scratch, tenant, catalogue, .. } = library("totp-migrate");
    drop(catalogue);
    set_schema(&scratch.layout, &tenant, 4, true);
    let names = table_names(&scratch.layout, &tenant);
    let (tables, _) = version_5_tables();
    assert!(tables.iter().all(|t| !names.contains(*t)), "a version-4 file: {names:?}");

    let c = Catalogue::open(&scratch.layout, &tenant).unwrap();
    assert_eq!(c.schema_version().unwrap(), catalogue::SCHEMA_VERSION);
    // Patrons of a version-4 file log in with their password alone, as before.
    let session = login(&c, PASSWORD, now());
    let (secret, _) = enrol(&c, &session, now());
    let (token, _) = challenge(&c, at(30));
    let code = totp_code(&secret, at(30)).unwrap();
    assert!(matches!(c.patron_login_code(&token, &code, None, at(30)).unwrap(), PatronCodeOutcome::LoggedIn { .. }));
}
