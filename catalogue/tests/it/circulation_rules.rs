//! Circulation under rules (issue #7): loan rules and calendars giving due dates and
//! limits, overdue suspension, renewals, holds from placement to the hold shelf and
//! checkout, transit between branches, expiry and cancellation, the outbox of notices,
//! reading records by opt-in and monthly counters, the migration from schema 2, and holds
//! placed by concurrent threads.

use std::sync::{Arc, Barrier};

use catalogue::{
    Catalogue, ChangeKind, Error, ErrorKind, HoldState, ItemStatus, LoanPolicy, NewItem, NewPatron, NoticeKind,
    PatronCategory,
};
use jiff::Timestamp;
use jiff::civil::{Date, date};

use crate::circulation::{Library, now, set_schema, today};

/// 10:00 in Japan on `date`.
fn at(date: Date) -> Timestamp {
    date.at(10, 0, 0, 0).to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).unwrap().timestamp()
}

fn card_id(catalogue: &Catalogue, card: &str) -> u64 {
    catalogue.patron_by_card(card).unwrap().unwrap().id
}

fn add_patron(lib: &Library, card: &str, category: PatronCategory) -> u64 {
    let mut patron = NewPatron::new(card, "利用者", "chuo");
    patron.category = category;
    lib.catalogue.add_patron(&patron).unwrap().id
}

#[test]
fn rules_and_calendars_give_the_due_date() {
    let lib = Library::new("rules-due");
    let c = &lib.catalogue;
    assert_eq!(c.policies().unwrap(), []);
    assert_eq!(c.policy_for(PatronCategory::Adult, Some("book")).unwrap(), LoanPolicy::DEFAULT);

    let mut bad = LoanPolicy::new(None, None);
    bad.loan_days = 0;
    assert!(matches!(c.put_policy(&bad).unwrap_err(), Error::Invalid { field: "loan days", .. }));
    let bad = LoanPolicy::new(None, Some("AV"));
    let err = c.put_policy(&bad).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "item type", .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.message_ja().unwrap().contains("入力内容"), "{:?}", err.message_ja());

    let child = LoanPolicy { loan_days: 7, max_loans: 2, ..LoanPolicy::new(Some(PatronCategory::Child), None) };
    let av = LoanPolicy { loan_days: 7, max_loans: 1, max_renewals: 0, ..LoanPolicy::new(None, Some("av")) };
    assert_eq!(c.put_policy(&child).unwrap(), child);
    assert_eq!(c.put_policy(&LoanPolicy { item_type: Some(" av ".into()), ..av.clone() }).unwrap(), av);
    // The category's rule comes before the type's; the type's before the default.
    assert_eq!(c.policy_for(PatronCategory::Child, Some("av")).unwrap(), child);
    assert_eq!(c.policy_for(PatronCategory::Adult, Some("av")).unwrap(), av);
    assert_eq!(c.policy_for(PatronCategory::Adult, None).unwrap(), LoanPolicy::DEFAULT);
    assert_eq!(c.policies().unwrap(), [av.clone(), child.clone()], "by category code, `*` first");
    assert_eq!(c.policy(None, Some("av")).unwrap(), Some(av));
    assert_eq!(c.policy(Some(PatronCategory::Staff), None).unwrap(), None);

    // Wednesday 15 and Thursday 16 April are closed at chuo.
    let closed = [date(2026, 4, 15), date(2026, 4, 16)];
    assert_eq!(c.set_closed_days("chuo", &closed, "蔵書点検").unwrap(), 2);
    assert_eq!(c.set_closed_days("chuo", &closed[..1], "休館日").unwrap(), 0, "already closed");
    let days = c.closed_days("chuo", date(2026, 4, 1), date(2026, 4, 30)).unwrap();
    let days: Vec<(Date, &str)> = days.iter().map(|d| (d.date, d.note.as_str())).collect();
    assert_eq!(days, [(date(2026, 4, 15), "休館日"), (date(2026, 4, 16), "蔵書点検")]);
    assert!(!c.is_open("chuo", date(2026, 4, 15)).unwrap());
    assert!(c.is_open("kita", date(2026, 4, 15)).unwrap(), "calendars are per branch");
    assert_eq!(c.next_open_day("chuo", date(2026, 4, 15)).unwrap(), date(2026, 4, 17));
    let err = c.set_closed_days("minami", &closed, "").unwrap_err();
    assert!(matches!(err, Error::UnknownBranch(_)), "{err}");

    lib.item(0, "C1", "chuo");
    lib.item(0, "K1", "kita");
    lib.item(1, "C2", "chuo");
    // Due in 14 days, on the 15th: closed at chuo, so the 17th; kita is open on the 15th.
    assert_eq!(c.checkout("C1", "P0001", now()).unwrap().due, date(2026, 4, 17));
    assert_eq!(c.checkout("K1", "P0001", now()).unwrap().due, date(2026, 4, 15));
    // A child's rule: 7 days.
    assert_eq!(c.checkout("C2", "P0002", now()).unwrap().due, date(2026, 4, 8));

    assert_eq!(c.set_open_days("chuo", &closed).unwrap(), 2);
    assert!(c.delete_policy(Some(PatronCategory::Child), None).unwrap());
    assert!(!c.delete_policy(Some(PatronCategory::Child), None).unwrap());
    assert_eq!(c.policy_for(PatronCategory::Child, Some("book")).unwrap(), LoanPolicy::DEFAULT);

    // A branch closed for more than a year lends nothing.
    let mut day = date(2026, 4, 1);
    let mut year = Vec::new();
    for _ in 0..400 {
        year.push(day);
        day = day.tomorrow().unwrap();
    }
    c.set_closed_days("kita", &year, "改修工事").unwrap();
    c.checkin("K1", now()).unwrap();
    let err = c.checkout("K1", "P0002", now()).unwrap_err();
    assert!(matches!(err, Error::NoOpenDay { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[test]
fn loan_limits_are_per_rule() {
    let lib = Library::new("rules-limits");
    let c = &lib.catalogue;
    c.put_policy(&LoanPolicy { max_loans: 2, ..LoanPolicy::new(None, None) }).unwrap();
    c.put_policy(&LoanPolicy { max_loans: 1, ..LoanPolicy::new(None, Some("av")) }).unwrap();
    for barcode in ["B1", "B2", "B3"] {
        lib.item(0, barcode, "chuo");
    }
    for barcode in ["V1", "V2"] {
        let mut av = NewItem::new(lib.bibs[1], barcode, "chuo");
        av.item_type = "av".into();
        c.add_item(&av).unwrap();
    }
    c.checkout("B1", "P0001", now()).unwrap();
    c.checkout("B2", "P0001", now()).unwrap();
    let seq = lib.last_seq();
    let err = c.checkout("B3", "P0001", now()).unwrap_err();
    assert!(matches!(&err, Error::TooManyLoans { card, limit: 2 } if card == "P0001"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message_ja().unwrap().contains("貸出上限"));
    // AV loans are counted under their own rule.
    c.checkout("V1", "P0001", now()).unwrap();
    let seq2 = lib.last_seq();
    assert!(matches!(c.checkout("V2", "P0001", now()).unwrap_err(), Error::TooManyLoans { limit: 1, .. }));
    assert_eq!(lib.changes_since(seq2), [], "a refusal writes no change");
    assert_eq!(lib.changes_since(seq).len(), 1);
    // The override lends anyway.
    c.checkout_until("B3", "P0001", date(2026, 4, 20), now()).unwrap();
    // A rule of 0 loans: the category may not borrow the type at all.
    c.put_policy(&LoanPolicy { max_loans: 0, ..LoanPolicy::new(Some(PatronCategory::Child), Some("av")) }).unwrap();
    assert!(matches!(c.checkout("V2", "P0002", now()).unwrap_err(), Error::TooManyLoans { limit: 0, .. }));
}

#[test]
fn an_overdue_item_suspends_borrowing_and_is_noticed_once() {
    let lib = Library::new("rules-overdue");
    let c = &lib.catalogue;
    let a = lib.item(0, "1000001", "chuo");
    lib.item(0, "1000002", "chuo");
    lib.item(1, "1000003", "chuo");
    c.checkout_until("1000001", "P0001", date(2026, 4, 5), now()).unwrap();
    // On the due day nothing is overdue yet.
    let due_day = at(date(2026, 4, 5));
    assert!(c.notify_overdue(due_day).unwrap().is_empty());
    let later = at(date(2026, 4, 6));
    let seq = lib.last_seq();

    let err = c.checkout("1000002", "P0001", later).unwrap_err();
    assert!(matches!(&err, Error::PatronOverdue { card, items: 1 } if card == "P0001"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message_ja().unwrap().contains("延滞資料が 1 点"), "{:?}", err.message_ja());
    assert!(matches!(c.renew("1000001", later).unwrap_err(), Error::PatronOverdue { .. }));
    assert!(matches!(c.place_hold(lib.bibs[1], "P0001", "chuo", later).unwrap_err(), Error::PatronOverdue { .. }));
    assert_eq!(lib.changes_since(seq), []);
    // Another patron is not concerned.
    c.checkout("1000002", "P0002", later).unwrap();

    // The outbox: one overdue notice per loan.
    let notices = c.notify_overdue(later).unwrap();
    assert_eq!(notices.len(), 1);
    let notice = &notices[0];
    assert_eq!(
        (notice.kind, notice.patron_id, notice.bib_id, notice.item_barcode.as_str(), notice.date),
        (NoticeKind::Overdue, card_id(c, "P0001"), lib.bibs[0], "1000001", date(2026, 4, 5))
    );
    assert!(c.notify_overdue(at(date(2026, 4, 9))).unwrap().is_empty(), "once per loan");
    assert_eq!(c.pending_notices(10).unwrap(), notices);
    assert_eq!(lib.changes_since(seq).len(), 1, "notices are not in the change feed");
    assert!(c.mark_notice_sent(notice.id).unwrap());
    assert!(!c.mark_notice_sent(notice.id).unwrap());
    assert_eq!(c.pending_notices(10).unwrap(), []);
    // A renewal moves the due date: one more notice may come.
    c.renew_until("1000001", date(2026, 4, 20), later).unwrap();
    assert!(c.notify_overdue(at(date(2026, 4, 20))).unwrap().is_empty());
    // (P0002's loan of the 6th, due on the 20th, is late too.)
    let late: Vec<String> =
        c.notify_overdue(at(date(2026, 4, 21))).unwrap().into_iter().map(|n| n.item_barcode).collect();
    assert_eq!(late, ["1000001", "1000002"]);

    // A rule without suspension lets the patron borrow while an item is overdue.
    c.put_policy(&LoanPolicy { suspend_while_overdue: false, ..LoanPolicy::new(None, None) }).unwrap();
    c.checkout("1000003", "P0001", at(date(2026, 4, 21))).unwrap();
    let outcome = c.checkin("1000001", at(date(2026, 4, 23))).unwrap();
    assert_eq!((outcome.days_overdue, outcome.item.id), (3, a.id));
}

#[test]
fn renewals_follow_the_rule_and_the_queue() {
    let lib = Library::new("rules-renew");
    let c = &lib.catalogue;
    lib.item(0, "1000001", "chuo");
    lib.item(1, "1000002", "chuo");
    c.checkout("1000001", "P0001", now()).unwrap();
    let seq = lib.last_seq();
    // Renewed three days later: 14 days from then, never earlier than it was.
    let renewed = c.renew("1000001", at(date(2026, 4, 4))).unwrap();
    assert_eq!((renewed.due, renewed.renewals), (date(2026, 4, 18), 1));
    let err = c.renew("1000001", at(date(2026, 4, 5))).unwrap_err();
    assert!(matches!(&err, Error::NoRenewalsLeft { barcode, limit: 1 } if barcode == "1000001"), "{err}");
    assert!(err.message_ja().unwrap().contains("延長"));
    c.put_policy(&LoanPolicy { max_renewals: 3, loan_days: 7, ..LoanPolicy::new(None, None) }).unwrap();
    let again = c.renew("1000001", at(date(2026, 4, 5))).unwrap();
    assert_eq!((again.due, again.renewals), (date(2026, 4, 18), 2), "7 days from the 5th is earlier: kept");
    assert_eq!(lib.changes_since(seq).len(), 2);

    // Someone waits for the record: no renewal, not even by override.
    c.checkout("1000002", "P0001", now()).unwrap();
    c.place_hold(lib.bibs[1], "P0002", "kita", now()).unwrap();
    let seq = lib.last_seq();
    let err = c.renew("1000002", now()).unwrap_err();
    assert!(matches!(&err, Error::HoldWaiting { barcode } if barcode == "1000002"), "{err}");
    assert!(!err.to_string().contains("P0002"), "the waiting patron is not named: {err}");
    assert!(matches!(c.renew_until("1000002", date(2026, 5, 1), now()).unwrap_err(), Error::HoldWaiting { .. }));
    assert_eq!(lib.changes_since(seq), []);
}

#[test]
fn a_hold_goes_from_the_queue_to_the_hold_shelf_and_to_its_patron() {
    let lib = Library::new("holds-flow");
    let c = &lib.catalogue;
    let b0 = lib.bibs[0];
    let p3 = add_patron(&lib, "P0003", PatronCategory::Adult);
    let p2 = card_id(c, "P0002");
    // Closed at chuo on Friday 3 and Monday 6 April.
    c.set_closed_days("chuo", &[date(2026, 4, 3), date(2026, 4, 6)], "休館日").unwrap();
    let a = lib.item(0, "A", "chuo");
    c.checkout("A", "P0001", now()).unwrap();

    let seq = lib.last_seq();
    let h1 = c.place_hold(b0, "P0002", "chuo", now()).unwrap();
    let h2 = c.place_hold(b0, " P0003 ", " kita ", now()).unwrap();
    assert_eq!((h1.patron_id, h1.pickup_branch.as_str(), h1.state), (p2, "chuo", HoldState::Waiting));
    assert_eq!((h2.patron_id, h2.pickup_branch.as_str(), h2.placed), (p3, "kita", now()));
    assert!(h1.id < h2.id);
    assert_eq!(lib.changes_since(seq), [(ChangeKind::Holdings, b0); 2]);
    assert_eq!(c.holds_of_bib(b0).unwrap(), [h1.clone(), h2.clone()], "queue order");
    assert_eq!(c.holds_of_patron(p2).unwrap(), std::slice::from_ref(&h1));
    assert_eq!(c.hold(h1.id).unwrap(), Some(h1.clone()));
    assert_eq!(c.availability(b0).unwrap().holds, 2);
    let err = c.place_hold(b0, "P0002", "kita", now()).unwrap_err();
    assert!(matches!(err, Error::HoldExists { bib_id, .. } if bib_id == b0), "{err}");
    let err = c.place_hold(b0, "P0001", "chuo", now()).unwrap_err();
    assert!(matches!(err, Error::AlreadyBorrowed { .. }), "{err}");

    // Returned at chuo: the first hold is ready there, for 7 open days of chuo.
    let seq = lib.last_seq();
    let back = c.checkin("A", at(date(2026, 4, 1))).unwrap();
    let ready = HoldState::Ready { item_id: a.id, until: date(2026, 4, 10) };
    assert_eq!(back.hold.as_ref().map(|h| (h.id, h.state)), Some((h1.id, ready)));
    assert_eq!((back.item.status, back.destination.as_deref()), (ItemStatus::OnHoldShelf, None));
    assert_eq!(lib.changes_since(seq), [(ChangeKind::Holdings, b0)]);
    let notices = c.pending_notices(10).unwrap();
    let got: Vec<_> = notices.iter().map(|n| (n.kind, n.patron_id, n.item_barcode.as_str(), n.date)).collect();
    assert_eq!(got, [(NoticeKind::HoldReady, p2, "A", date(2026, 4, 10))]);
    let availability = c.availability(b0).unwrap();
    assert_eq!((availability.available, availability.holds, availability.on_hold_shelf), (0, 2, 1));
    let holding = &c.holdings(b0).unwrap()[0];
    assert_eq!((holding.item.status, holding.due), (ItemStatus::OnHoldShelf, None));

    // Nobody else may take it, and it cannot be changed by hand.
    let seq = lib.last_seq();
    for card in ["P0003", "P0001"] {
        let err = c.checkout("A", card, now()).unwrap_err();
        assert!(matches!(&err, Error::ItemHeld { barcode } if barcode == "A"), "{err}");
        assert!(!err.to_string().contains("P0002"), "{err}");
    }
    let mut by_hand = c.item(a.id).unwrap().unwrap();
    by_hand.status = ItemStatus::Available;
    assert!(matches!(c.update_item(&by_hand).unwrap_err(), Error::ItemHeld { .. }));
    assert!(matches!(c.delete_item(a.id).unwrap_err(), Error::ItemHeld { .. }));
    assert_eq!(lib.changes_since(seq), []);

    // Its patron takes it: the hold is fulfilled and forgotten.
    c.checkout("A", "P0002", now()).unwrap();
    assert_eq!(c.hold(h1.id).unwrap(), None);
    assert_eq!(c.holds_of_patron(p2).unwrap(), []);
    assert_eq!(c.availability(b0).unwrap().holds, 1);

    // Returned at chuo again: the next hold is picked up at kita, so the copy travels.
    let back = c.checkin("A", now()).unwrap();
    assert_eq!(back.hold.as_ref().map(|h| h.state), Some(HoldState::InTransit { item_id: a.id }));
    assert_eq!((back.item.status, back.destination.as_deref()), (ItemStatus::InTransit, Some("kita")));
    assert_eq!(c.availability(b0).unwrap().in_transit, 1);
    let seq = lib.last_seq();
    let passing = c.checkin("A", now()).unwrap();
    assert_eq!(passing.item.status, ItemStatus::InTransit, "checked in away from kita: still travelling");
    assert_eq!(lib.changes_since(seq), []);
    let arrived = c.checkin_at("A", "kita", now()).unwrap();
    let until = date(2026, 4, 8); // kita has no closed day
    assert_eq!(arrived.hold.as_ref().map(|h| h.state), Some(HoldState::Ready { item_id: a.id, until }));
    assert_eq!(arrived.item.status, ItemStatus::OnHoldShelf);
    assert_eq!(c.pending_notices(10).unwrap().len(), 2);
    assert!(matches!(c.checkin_at("A", "minami", now()).unwrap_err(), Error::UnknownBranch(_)));

    // Not picked up: on the 9th it expires; the copy goes home to chuo.
    assert_eq!(c.expire_holds(at(until)).unwrap(), []);
    let seq = lib.last_seq();
    let expired = c.expire_holds(at(date(2026, 4, 9))).unwrap();
    assert_eq!(expired.iter().map(|h| (h.id, h.state)).collect::<Vec<_>>(), [(h2.id, HoldState::Expired)]);
    assert_eq!(lib.changes_since(seq), [(ChangeKind::Holdings, b0)]);
    assert_eq!(c.holds_of_bib(b0).unwrap(), []);
    assert_eq!(c.item(a.id).unwrap().unwrap().status, ItemStatus::InTransit);
    let home = c.checkin("A", at(date(2026, 4, 9))).unwrap();
    assert_eq!(
        (home.previous_status, home.item.status, home.hold),
        (ItemStatus::InTransit, ItemStatus::Available, None)
    );
    assert_eq!(c.availability(b0).unwrap().available, 1);
}

#[test]
fn cancelling_or_lending_elsewhere_hands_the_copy_on() {
    let lib = Library::new("holds-cancel");
    let c = &lib.catalogue;
    let b0 = lib.bibs[0];
    add_patron(&lib, "P0003", PatronCategory::Adult);
    let a = lib.item(0, "A", "chuo");
    lib.item(0, "B", "chuo");
    let h1 = c.place_hold(b0, "P0001", "chuo", now()).unwrap();
    let h2 = c.place_hold(b0, "P0002", "chuo", now()).unwrap();
    let h3 = c.place_hold(b0, "P0003", "kita", now()).unwrap();

    // Pulled from the shelf (a checkin of an available copy): ready for the first hold.
    let pulled = c.checkin("A", now()).unwrap();
    assert_eq!(pulled.hold.map(|h| h.id), Some(h1.id));
    // Cancelling it hands the copy to the next hold, ready at once (same pickup branch).
    let seq = lib.last_seq();
    let cancelled = c.cancel_hold(h1.id, now()).unwrap();
    assert_eq!((cancelled.id, cancelled.state), (h1.id, HoldState::Cancelled));
    assert_eq!(lib.changes_since(seq), [(ChangeKind::Holdings, b0)]);
    let h2_now = c.hold(h2.id).unwrap().unwrap();
    assert_eq!(h2_now.state.trapped_item(), Some(a.id));
    assert_eq!(h2_now.state.as_str(), "ready");
    assert!(matches!(c.cancel_hold(h1.id, now()).unwrap_err(), Error::UnknownHold(_)));
    assert_eq!(Error::UnknownHold(1).kind(), ErrorKind::NotFound);

    // P0002 borrows the other copy instead: the hold is fulfilled, and copy A goes on to
    // the next hold, picked up at kita: in transit.
    c.checkout("B", "P0002", now()).unwrap();
    assert_eq!(c.hold(h2.id).unwrap(), None);
    assert_eq!(c.hold(h3.id).unwrap().unwrap().state, HoldState::InTransit { item_id: a.id });
    assert_eq!(c.item(a.id).unwrap().unwrap().status, ItemStatus::InTransit);

    // Cancelling a hold whose copy travels leaves the copy travelling; its checkin decides.
    c.cancel_hold(h3.id, now()).unwrap();
    assert_eq!(c.item(a.id).unwrap().unwrap().status, ItemStatus::InTransit);
    assert_eq!(c.checkin("A", now()).unwrap().item.status, ItemStatus::Available);

    // A waiting hold is fulfilled by borrowing any copy of the record.
    c.checkin("B", now()).unwrap();
    let h4 = c.place_hold(b0, "P0003", "chuo", now()).unwrap();
    c.checkout("B", "P0003", now()).unwrap();
    assert_eq!(c.hold(h4.id).unwrap(), None);
    assert_eq!(c.availability(b0).unwrap().holds, 0);
}

#[test]
fn hold_refusals_write_nothing() {
    let lib = Library::new("holds-refusals");
    let c = &lib.catalogue;
    let [b0, b1] = lib.bibs;
    lib.item(0, "A", "chuo");
    let mut reference = NewItem::new(b1, "R", "chuo");
    reference.item_type = "reference".into();
    c.add_item(&reference).unwrap();
    let mut blocked = NewPatron::new("B0001", "停止中", "chuo");
    blocked.blocked = Some("督促中".into());
    c.add_patron(&blocked).unwrap();
    c.put_policy(&LoanPolicy { max_holds: 1, ..LoanPolicy::new(Some(PatronCategory::Child), None) }).unwrap();
    let seq = lib.last_seq();

    let refuse = |bib: u64, card: &str, branch: &str| c.place_hold(bib, card, branch, now()).unwrap_err();
    assert!(matches!(refuse(999, "P0001", "chuo"), Error::UnknownBib(999)));
    assert!(matches!(refuse(b0, "P9999", "chuo"), Error::UnknownPatron(_)));
    assert!(matches!(refuse(b0, "P0001", "minami"), Error::UnknownBranch(_)));
    assert!(matches!(refuse(b0, "P0001", "Chuo"), Error::Invalid { .. }));
    assert!(matches!(refuse(b0, "B0001", "chuo"), Error::PatronBlocked { .. }));
    let err = refuse(b1, "P0001", "chuo");
    assert!(matches!(err, Error::NotHoldable(bib) if bib == b1), "{err}");
    assert!(err.message_ja().unwrap().contains("予約できません"));
    assert_eq!(lib.changes_since(seq), []);

    c.place_hold(b0, "P0002", "kita", now()).unwrap();
    lib.item(1, "B", "kita");
    let err = refuse(b1, "P0002", "kita");
    assert!(matches!(&err, Error::TooManyHolds { card, limit: 1 } if card == "P0002"), "{err}");
    assert_eq!(c.holds_of_patron(card_id(c, "P0002")).unwrap().len(), 1);
}

#[test]
fn reading_records_only_by_opt_in_and_counters_without_patrons() {
    let lib = Library::new("privacy");
    let c = &lib.catalogue;
    lib.item(0, "A", "chuo");
    lib.item(1, "B", "chuo");
    let mut reader = c.patron_by_card("P0001").unwrap().unwrap();
    reader.reading_record = true;
    reader.contact = Some("yamada@example.jp".into());
    reader.grade = Some(4);
    reader.class = Some("2".into());
    let reader = c.update_patron(&reader).unwrap();
    assert_eq!((reader.grade, reader.class.as_deref()), (Some(4), Some("2")));
    let mut bad = reader.clone();
    bad.grade = Some(13);
    assert!(matches!(c.update_patron(&bad).unwrap_err(), Error::Invalid { field: "grade", .. }));

    c.checkout("A", "P0001", now()).unwrap();
    c.checkout("B", "P0002", now()).unwrap();
    c.checkin("A", at(date(2026, 4, 10))).unwrap();
    c.checkin("B", at(date(2026, 4, 10))).unwrap();
    let record = c.reading_record(reader.id).unwrap();
    assert_eq!(record.len(), 1);
    assert_eq!((record[0].bib_id, record[0].out, record[0].returned), (lib.bibs[0], today(), date(2026, 4, 10)));
    assert_eq!(c.reading_record(card_id(c, "P0002")).unwrap(), [], "no opt-in, no record");

    // May: A twice, B once; renewals are not loans.
    let may = at(date(2026, 5, 2));
    c.checkout("A", "P0002", may).unwrap();
    c.renew("A", may).unwrap();
    c.checkin("A", may).unwrap();
    c.checkout("A", "P0002", may).unwrap();
    c.checkout("B", "P0001", may).unwrap();
    let months: Vec<_> = c.monthly_loans(lib.bibs[0]).unwrap().iter().map(|m| (m.year, m.month, m.loans)).collect();
    assert_eq!(months, [(2026, 4, 1), (2026, 5, 2)]);
    let ranking: Vec<_> =
        c.loan_ranking(date(2026, 4, 1), date(2026, 5, 31), 10).unwrap().iter().map(|t| (t.bib_id, t.loans)).collect();
    assert_eq!(ranking, [(lib.bibs[0], 3), (lib.bibs[1], 2)]);
    let april: Vec<_> =
        c.loan_ranking(date(2026, 4, 1), date(2026, 4, 30), 1).unwrap().iter().map(|t| (t.bib_id, t.loans)).collect();
    assert_eq!(april, [(lib.bibs[0], 1)], "ties by bib id, cut at the limit");

    // Opting out forgets the record.
    let mut reader = c.patron(reader.id).unwrap().unwrap();
    reader.reading_record = false;
    c.update_patron(&reader).unwrap();
    assert_eq!(c.reading_record(reader.id).unwrap(), []);

    // The CSV import knows the new columns.
    let csv = "card,name,home_branch,contact,grade,class,reading_record\n\
               S0001,児童 一郎,kita,,3,さくら,yes\n\
               S0002,児童 二郎,kita,,13,,no\n\
               S0003,児童 三郎,kita,,,,maybe\n";
    let report = c.import_patrons(csv.as_bytes()).unwrap();
    assert_eq!((report.created, report.rejected.len()), (1, 2), "{report:#?}");
    let pupil = c.patron_by_card("S0001").unwrap().unwrap();
    assert_eq!((pupil.grade, pupil.class.as_deref(), pupil.reading_record), (Some(3), Some("さくら"), true));
}

#[test]
fn a_schema_2_file_is_migrated_to_3_keeping_everything() {
    let lib = Library::new("migrate-3");
    let a = lib.item(0, "A", "chuo");
    lib.item(1, "B", "chuo");
    let loan = lib.catalogue.checkout_until("A", "P0001", date(2026, 4, 15), now()).unwrap();
    let patrons: Vec<_> = ["P0001", "P0002"].iter().map(|c| lib.catalogue.patron_by_card(c).unwrap()).collect();
    let feed = lib.catalogue.changes_after(0, usize::MAX).unwrap();
    let Library { scratch, tenant, catalogue, bibs } = lib;
    drop(catalogue);

    set_schema(&scratch.layout, &tenant, 2, true);
    let names = crate::circulation::table_names(&scratch.layout, &tenant);
    let (tables, multimaps) = crate::circulation::version_3_tables();
    assert!(tables.iter().chain(&multimaps).all(|t| !names.contains(*t)), "a version-2 file: {names:?}");

    let catalogue = Catalogue::open(&scratch.layout, &tenant).unwrap();
    assert_eq!(catalogue.schema_version().unwrap(), catalogue::SCHEMA_VERSION);
    assert_eq!(catalogue.loan_of_item(a.id).unwrap(), Some(loan));
    let again: Vec<_> = ["P0001", "P0002"].iter().map(|c| catalogue.patron_by_card(c).unwrap()).collect();
    assert_eq!(again, patrons);
    assert_eq!(catalogue.changes_after(0, usize::MAX).unwrap(), feed);
    assert_eq!(catalogue.policies().unwrap(), []);
    // Circulation with rules and holds works on the migrated file.
    catalogue.place_hold(bibs[0], "P0002", "chuo", now()).unwrap();
    assert_eq!(catalogue.checkin("A", now()).unwrap().item.status, ItemStatus::OnHoldShelf);
    assert_eq!(catalogue.checkout("B", "P0001", now()).unwrap().due, date(2026, 4, 15));
}

#[test]
fn holds_placed_by_concurrent_threads_all_join_the_queue_once() {
    let lib = Library::new("holds-race");
    let c = &lib.catalogue;
    lib.item(0, "A", "chuo");
    let cards: Vec<String> = (0..8).map(|n| format!("T{n:04}")).collect();
    for card in &cards {
        add_patron(&lib, card, PatronCategory::Adult);
    }
    for round in 0..10 {
        let seq = lib.last_seq();
        let barrier = Arc::new(Barrier::new(cards.len() * 2));
        let results: Vec<_> = std::thread::scope(|scope| {
            // Each patron asks twice at once: exactly one of the two succeeds.
            let handles: Vec<_> = cards
                .iter()
                .chain(&cards)
                .map(|card| {
                    let barrier = Arc::clone(&barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        c.place_hold(lib.bibs[0], card, "chuo", now())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let placed: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(placed.len(), cards.len(), "round {round}: {results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, Error::HoldExists { .. })));
        let queue = c.holds_of_bib(lib.bibs[0]).unwrap();
        let mut ids: Vec<u64> = placed.iter().map(|h| h.id).collect();
        ids.sort_unstable();
        assert_eq!(queue.iter().map(|h| h.id).collect::<Vec<_>>(), ids, "round {round}: the queue is by id");
        assert_eq!(lib.changes_since(seq).len(), cards.len(), "round {round}: one change per hold");
        assert_eq!(c.availability(lib.bibs[0]).unwrap().holds as usize, cards.len());
        for hold in queue {
            c.cancel_hold(hold.id, now()).unwrap();
        }
    }
}
