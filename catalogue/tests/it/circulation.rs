//! Circulation: branches, items, patrons, loans and availability, every refusal, the
//! change feed (one entry per change, none for a refusal), concurrent checkouts with real
//! threads, reopening, the migration from schema 1, CSV imports, and a model of random
//! circulation against plain maps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use catalogue::{
    Branch, Catalogue, Change, ChangeKind, DataLayout, Error, ErrorKind, Field, ItemStatus, NewItem, NewPatron,
    PatronCategory, Record, Subfield, TenantCode,
};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use proptest::prelude::*;

use crate::fixtures::Scratch;

const LEADER: &str = "00000nam a2200000 i 4500";

/// 2026-04-01 10:00 in Japan.
pub(crate) fn now() -> Timestamp {
    "2026-04-01T01:00:00Z".parse().unwrap()
}

pub(crate) fn today() -> Date {
    date(2026, 4, 1)
}

pub(crate) fn record(number: &str, title: &str) -> Record {
    Record {
        leader: LEADER.to_string(),
        fields: vec![
            Field::Control { tag: "001".parse().unwrap(), value: number.to_string() },
            Field::Data {
                tag: "245".parse().unwrap(),
                ind1: '1',
                ind2: '0',
                subfields: vec![Subfield { code: 'a', value: title.to_string() }],
            },
        ],
    }
}

pub(crate) fn branch(code: &str, name_ja: &str, name_en: &str) -> Branch {
    Branch { code: code.to_string(), name_ja: name_ja.to_string(), name_en: name_en.to_string() }
}

/// A library with two branches (kita added before chuo, to check ordering), two records
/// (ぐりとぐら, 銀河鉄道の夜) and two patrons (an adult, a child).
pub(crate) struct Library {
    pub(crate) scratch: Scratch,
    pub(crate) tenant: TenantCode,
    pub(crate) catalogue: Catalogue,
    pub(crate) bibs: [u64; 2],
}

impl Library {
    pub(crate) fn new(name: &str) -> Library {
        let scratch = Scratch::new(&format!("circ-{name}"));
        let catalogue = scratch.catalogue("circ-city");
        catalogue.put_branch(&branch("kita", "北分館", "North Branch")).unwrap();
        catalogue.put_branch(&branch("chuo", "中央図書館", "Central Library")).unwrap();
        let outcomes =
            catalogue.upsert(vec![record("b1", "ぐりとぐら"), record("b2", "銀河鉄道の夜")], "test.mrc").unwrap();
        let ids: Vec<u64> = outcomes
            .into_iter()
            .map(|o| match o {
                catalogue::Outcome::Created(id) => id,
                other => panic!("{other:?}"),
            })
            .collect();
        catalogue.add_patron(&NewPatron::new("P0001", "山田太郎", "chuo")).unwrap();
        let mut child = NewPatron::new("P0002", "佐藤花子", "kita");
        child.category = PatronCategory::Child;
        child.name_reading = Some("サトウ ハナコ".into());
        catalogue.add_patron(&child).unwrap();
        Library { scratch, tenant: "circ-city".parse().unwrap(), catalogue, bibs: [ids[0], ids[1]] }
    }

    pub(crate) fn item(&self, bib: usize, barcode: &str, branch: &str) -> catalogue::Item {
        self.catalogue.add_item(&NewItem::new(self.bibs[bib], barcode, branch)).unwrap()
    }

    pub(crate) fn last_seq(&self) -> u64 {
        self.catalogue.last_change_seq().unwrap()
    }

    /// The changes after `seq`, as (kind, bib id).
    pub(crate) fn changes_since(&self, seq: u64) -> Vec<(ChangeKind, u64)> {
        self.catalogue.changes_after(seq, usize::MAX).unwrap().into_iter().map(|c| (c.kind, c.bib_id)).collect()
    }

    /// Closes the catalogue and opens it again (redb allows one open handle per file).
    pub(crate) fn reopen(self) -> Library {
        let Library { scratch, tenant, catalogue, bibs } = self;
        drop(catalogue);
        let catalogue = Catalogue::open(&scratch.layout, &tenant).unwrap();
        Library { scratch, tenant, catalogue, bibs }
    }
}

// ---------------------------------------------------------------------------------------
// Branches, items, patrons

#[test]
fn branches_are_checked_and_listed_by_code() {
    let lib = Library::new("branches");
    let codes: Vec<String> = lib.catalogue.branches().unwrap().into_iter().map(|b| b.code).collect();
    assert_eq!(codes, ["chuo", "kita"]);

    // A second put renames; surrounding blanks are trimmed.
    let renamed = lib.catalogue.put_branch(&branch(" kita ", " 北図書館 ", "")).unwrap();
    assert_eq!(renamed, branch("kita", "北図書館", ""));
    assert_eq!(lib.catalogue.branch("kita").unwrap(), Some(renamed));
    assert_eq!(lib.catalogue.branch("minami").unwrap(), None);

    for code in ["", "Chuo", "中央", "a b", "a_b", "../x", &"x".repeat(33)] {
        let err = lib.catalogue.put_branch(&branch(code, "名前", "Name")).unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "branch code", .. }), "{code:?}: {err}");
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }
    let err = lib.catalogue.put_branch(&branch("minami", "  ", "South")).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "branch name", .. }), "{err}");
    assert_eq!(lib.catalogue.branches().unwrap().len(), 2, "refused branches are not stored");
}

#[test]
fn items_are_added_found_updated_and_deleted() {
    let lib = Library::new("items");
    let mut new = NewItem::new(lib.bibs[0], " 1000001 ", "chuo");
    new.location = "児童書".into();
    new.call_number = "E/ナ".into();
    let item = lib.catalogue.add_item(&new).unwrap();
    assert_eq!(item.barcode, "1000001");
    assert_eq!((item.bib_id, item.branch.as_str(), item.status), (lib.bibs[0], "chuo", ItemStatus::Available));
    assert_eq!(lib.catalogue.item(item.id).unwrap().as_ref(), Some(&item));
    assert_eq!(lib.catalogue.item_by_barcode("1000001").unwrap().as_ref(), Some(&item));
    assert_eq!(lib.catalogue.item_by_barcode(" 1000001\n").unwrap().as_ref(), Some(&item));
    assert_eq!(lib.catalogue.items_of_bib(lib.bibs[0]).unwrap(), std::slice::from_ref(&item));
    assert_eq!(lib.catalogue.items_of_bib(lib.bibs[1]).unwrap(), []);
    assert_eq!(lib.catalogue.items_of_bib(999).unwrap(), []);
    let second = lib.item(0, "1000002", "kita");
    assert!(second.id > item.id, "ids are allocated in order");

    // Refusals, each with its own variant, nothing stored.
    let refuse = |new: NewItem| lib.catalogue.add_item(&new).unwrap_err();
    let err = refuse(NewItem::new(999, "2000001", "chuo"));
    assert!(matches!(err, Error::UnknownBib(999)), "{err}");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = refuse(NewItem::new(lib.bibs[0], "2000001", "minami"));
    assert!(matches!(&err, Error::UnknownBranch(b) if b == "minami"), "{err}");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = refuse(NewItem::new(lib.bibs[1], "1000001", "chuo"));
    assert!(matches!(&err, Error::BarcodeInUse(b) if b == "1000001"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    for barcode in ["", "  ", "12 34", "１２３４"] {
        let err = refuse(NewItem::new(lib.bibs[0], barcode, "chuo"));
        assert!(matches!(err, Error::Invalid { field: "barcode", .. }), "{barcode:?}: {err}");
    }
    let mut typed = NewItem::new(lib.bibs[0], "2000001", "chuo");
    typed.item_type = "Book".into();
    assert!(matches!(refuse(typed), Error::Invalid { field: "item type", .. }));
    let mut lent = NewItem::new(lib.bibs[0], "2000001", "chuo");
    lent.status = ItemStatus::OnLoan;
    assert!(matches!(refuse(lent), Error::Invalid { field: "status", .. }));
    assert_eq!(lib.catalogue.item_by_barcode("2000001").unwrap(), None);

    // Update: new barcode, shelf and record; the old barcode is free again.
    let mut changed = item.clone();
    changed.barcode = "1000009".into();
    changed.location = "開架".into();
    changed.bib_id = lib.bibs[1];
    let updated = lib.catalogue.update_item(&changed).unwrap();
    assert_eq!(updated, changed);
    assert_eq!(lib.catalogue.item_by_barcode("1000001").unwrap(), None);
    assert_eq!(lib.catalogue.item_by_barcode("1000009").unwrap(), Some(changed.clone()));
    assert_eq!(lib.catalogue.items_of_bib(lib.bibs[0]).unwrap(), std::slice::from_ref(&second));
    assert_eq!(lib.catalogue.items_of_bib(lib.bibs[1]).unwrap(), [changed.clone()]);
    lib.item(0, "1000001", "chuo");

    // Update refusals.
    let mut clash = changed.clone();
    clash.barcode = second.barcode.clone();
    assert!(matches!(lib.catalogue.update_item(&clash).unwrap_err(), Error::BarcodeInUse(_)));
    let mut nowhere = changed.clone();
    nowhere.branch = "minami".into();
    assert!(matches!(lib.catalogue.update_item(&nowhere).unwrap_err(), Error::UnknownBranch(_)));
    let mut orphan = changed.clone();
    orphan.bib_id = 999;
    assert!(matches!(lib.catalogue.update_item(&orphan).unwrap_err(), Error::UnknownBib(999)));
    let mut ghost = changed.clone();
    ghost.id = 999;
    let err = lib.catalogue.update_item(&ghost).unwrap_err();
    assert!(matches!(&err, Error::UnknownItem(key) if key == "#999"), "{err}");
    assert_eq!(lib.catalogue.item(changed.id).unwrap(), Some(changed.clone()), "refused updates change nothing");

    assert!(lib.catalogue.delete_item(changed.id).unwrap());
    assert!(!lib.catalogue.delete_item(changed.id).unwrap());
    assert_eq!(lib.catalogue.item(changed.id).unwrap(), None);
    assert_eq!(lib.catalogue.item_by_barcode("1000009").unwrap(), None);
    assert_eq!(lib.catalogue.items_of_bib(lib.bibs[1]).unwrap(), []);
}

#[test]
fn patrons_are_added_found_and_updated() {
    let lib = Library::new("patrons");
    let adult = lib.catalogue.patron_by_card("P0001").unwrap().unwrap();
    assert_eq!(
        (adult.name.as_str(), adult.category, adult.home_branch.as_str()),
        ("山田太郎", PatronCategory::Adult, "chuo")
    );
    assert_eq!(lib.catalogue.patron(adult.id).unwrap(), Some(adult.clone()));
    let child = lib.catalogue.patron_by_card(" P0002 ").unwrap().unwrap();
    assert_eq!((child.category, child.name_reading.as_deref()), (PatronCategory::Child, Some("サトウ ハナコ")));
    assert_eq!(lib.catalogue.patron_by_card("P9999").unwrap(), None);
    assert_eq!(lib.catalogue.patron(999).unwrap(), None);

    let err = lib.catalogue.add_patron(&NewPatron::new("P0001", "別人", "chuo")).unwrap_err();
    assert!(matches!(&err, Error::CardInUse(c) if c == "P0001"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = lib.catalogue.add_patron(&NewPatron::new("P0003", "別人", "minami")).unwrap_err();
    assert!(matches!(err, Error::UnknownBranch(_)), "{err}");
    let err = lib.catalogue.add_patron(&NewPatron::new("P0003", " ", "chuo")).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "name", .. }), "{err}");
    let err = lib.catalogue.add_patron(&NewPatron::new("", "名前", "chuo")).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "card number", .. }), "{err}");

    // A lost card: the new number replaces the old one.
    let mut renewed = adult.clone();
    renewed.card = "P0101".into();
    renewed.blocked = Some("  ".into());
    renewed.expiry = Some(date(2027, 3, 31));
    let stored = lib.catalogue.update_patron(&renewed).unwrap();
    assert_eq!(stored.blocked, None, "a blank block reason is no block");
    assert_eq!(lib.catalogue.patron_by_card("P0001").unwrap(), None);
    assert_eq!(lib.catalogue.patron_by_card("P0101").unwrap(), Some(stored.clone()));
    let mut clash = stored.clone();
    clash.card = "P0002".into();
    assert!(matches!(lib.catalogue.update_patron(&clash).unwrap_err(), Error::CardInUse(_)));
    let mut ghost = stored.clone();
    ghost.id = 999;
    assert!(matches!(lib.catalogue.update_patron(&ghost).unwrap_err(), Error::UnknownPatron(_)));
    assert_eq!("staff".parse::<PatronCategory>().unwrap(), PatronCategory::Staff);
    assert!(matches!("teacher".parse::<PatronCategory>(), Err(Error::Invalid { field: "category", .. })));
}

// ---------------------------------------------------------------------------------------
// Loans

#[test]
fn checkout_renew_and_checkin() {
    let lib = Library::new("loans");
    let item = lib.item(0, "1000001", "chuo");
    let other = lib.item(0, "1000002", "chuo");
    let patron = lib.catalogue.patron_by_card("P0001").unwrap().unwrap();
    let due = date(2026, 4, 15);

    let loan = lib.catalogue.checkout_until(" 1000001 ", "P0001", due, now()).unwrap();
    assert_eq!((loan.item_id, loan.patron_id, loan.out, loan.due, loan.renewals), (item.id, patron.id, now(), due, 0));
    assert_eq!(lib.catalogue.item(item.id).unwrap().unwrap().status, ItemStatus::OnLoan);
    assert_eq!(lib.catalogue.loan_of_item(item.id).unwrap(), Some(loan.clone()));
    assert_eq!(lib.catalogue.loan_of_item(other.id).unwrap(), None);
    let second = lib.catalogue.checkout_until("1000002", "P0001", today(), now()).unwrap();
    assert_eq!(lib.catalogue.loans_of_patron(patron.id).unwrap(), [loan.clone(), second]);

    let renewed = lib.catalogue.renew_until("1000001", date(2026, 4, 29), now()).unwrap();
    assert_eq!((renewed.due, renewed.renewals, renewed.out), (date(2026, 4, 29), 1, now()));
    let renewed = lib.catalogue.renew_until("1000001", date(2026, 5, 13), now()).unwrap();
    assert_eq!(renewed.renewals, 2);
    assert_eq!(lib.catalogue.loan_of_item(item.id).unwrap(), Some(renewed.clone()));

    // Returned five days late (2026-05-18 in Japan, still 05-17 in UTC).
    let back: Timestamp = "2026-05-17T16:00:00Z".parse().unwrap();
    let outcome = lib.catalogue.checkin("1000001", back).unwrap();
    assert_eq!(outcome.loan, Some(renewed));
    assert_eq!(outcome.previous_status, ItemStatus::OnLoan);
    assert_eq!(outcome.item.status, ItemStatus::Available);
    assert_eq!(outcome.days_overdue, 5);
    assert_eq!(lib.catalogue.item(item.id).unwrap().unwrap().status, ItemStatus::Available);
    // Privacy: the loan is forgotten.
    assert_eq!(lib.catalogue.loan_of_item(item.id).unwrap(), None);
    assert_eq!(lib.catalogue.loans_of_patron(patron.id).unwrap().len(), 1);
    let outcome = lib.catalogue.checkin("1000002", now()).unwrap();
    assert_eq!(outcome.days_overdue, 0);
    assert_eq!(lib.catalogue.loans_of_patron(patron.id).unwrap(), []);

    // Lent again after the return, with a fresh renewal count.
    let again = lib.catalogue.checkout_until("1000001", "P0002", due, now()).unwrap();
    assert_eq!(again.renewals, 0);
}

#[test]
fn checkout_refusals_are_distinct_and_write_nothing() {
    let lib = Library::new("checkout-refusals");
    lib.item(0, "1000001", "chuo");
    let mut reference = NewItem::new(lib.bibs[0], "R000001", "chuo");
    reference.item_type = "reference".into();
    lib.catalogue.add_item(&reference).unwrap();
    for (barcode, status) in [
        ("M000001", ItemStatus::Missing),
        ("W000001", ItemStatus::Withdrawn),
        ("H000001", ItemStatus::OnHoldShelf),
        ("T000001", ItemStatus::InTransit),
    ] {
        let mut new = NewItem::new(lib.bibs[1], barcode, "kita");
        new.status = status;
        lib.catalogue.add_item(&new).unwrap();
    }
    let mut expired = NewPatron::new("E0001", "期限切", "chuo");
    expired.expiry = Some(date(2026, 3, 31));
    lib.catalogue.add_patron(&expired).unwrap();
    let mut last_day = NewPatron::new("E0002", "本日まで", "chuo");
    last_day.expiry = Some(today());
    lib.catalogue.add_patron(&last_day).unwrap();
    let mut blocked = NewPatron::new("B0001", "停止中", "chuo");
    blocked.blocked = Some("延滞資料あり".into());
    lib.catalogue.add_patron(&blocked).unwrap();
    let due = date(2026, 4, 15);
    lib.catalogue.checkout_until("1000001", "P0001", due, now()).unwrap();

    let seq = lib.last_seq();
    let refuse =
        |barcode: &str, card: &str, due: Date| lib.catalogue.checkout_until(barcode, card, due, now()).unwrap_err();

    let err = refuse("9999999", "P0002", due);
    assert!(matches!(&err, Error::UnknownItem(b) if b == "9999999"), "{err}");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = refuse("M000001", "P9999", due);
    assert!(matches!(&err, Error::UnknownPatron(c) if c == "P9999"), "{err}");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = refuse("1000001", "P0002", due);
    assert!(matches!(&err, Error::ItemOnLoan { barcode, due: d } if barcode == "1000001" && *d == due), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(!err.to_string().contains("P0001"), "the borrower is never named: {err}");
    for barcode in ["R000001", "M000001", "W000001", "H000001", "T000001"] {
        let err = refuse(barcode, "P0002", due);
        assert!(matches!(&err, Error::NotLendable { barcode: b, .. } if b == barcode), "{barcode}: {err}");
        assert_eq!(err.kind(), ErrorKind::Conflict);
    }
    let mut item2 = NewItem::new(lib.bibs[1], "1000002", "kita");
    item2.location = "開架".into();
    lib.catalogue.add_item(&item2).unwrap();
    let seq = seq.max(lib.last_seq());
    let err = refuse("1000002", "E0001", due);
    assert!(matches!(&err, Error::PatronExpired { card, expiry } if card == "E0001" && *expiry == date(2026, 3, 31)));
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = refuse("1000002", "B0001", due);
    assert!(matches!(&err, Error::PatronBlocked { card, reason } if card == "B0001" && reason == "延滞資料あり"));
    let err = refuse("1000002", "P0002", date(2026, 3, 31));
    assert!(matches!(err, Error::Invalid { field: "due date", .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Invalid);

    assert_eq!(lib.changes_since(seq), [], "a refusal writes no change");
    assert_eq!(lib.catalogue.item_by_barcode("1000002").unwrap().unwrap().status, ItemStatus::Available);
    for card in ["P0002", "E0001", "B0001"] {
        let patron = lib.catalogue.patron_by_card(card).unwrap().unwrap();
        assert_eq!(lib.catalogue.loans_of_patron(patron.id).unwrap(), [], "{card}");
    }

    // The card is valid through its expiry day (JST), and a loan may be due today.
    lib.catalogue.checkout_until("1000002", "E0002", today(), now()).unwrap();
}

#[test]
fn renew_and_checkin_refusals() {
    let lib = Library::new("renew-refusals");
    lib.item(0, "1000001", "chuo");
    lib.item(0, "1000002", "chuo");
    let due = date(2026, 4, 15);
    lib.catalogue.checkout_until("1000001", "P0001", due, now()).unwrap();
    let seq = lib.last_seq();

    let err = lib.catalogue.renew_until("9999999", due, now()).unwrap_err();
    assert!(matches!(err, Error::UnknownItem(_)), "{err}");
    let err = lib.catalogue.renew_until("1000002", due, now()).unwrap_err();
    assert!(matches!(&err, Error::NotOnLoan(b) if b == "1000002"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = lib.catalogue.renew_until("1000001", date(2026, 3, 1), now()).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "due date", .. }), "{err}");
    let mut patron = lib.catalogue.patron_by_card("P0001").unwrap().unwrap();
    patron.blocked = Some("督促中".into());
    lib.catalogue.update_patron(&patron).unwrap();
    let err = lib.catalogue.renew_until("1000001", date(2026, 4, 29), now()).unwrap_err();
    assert!(matches!(err, Error::PatronBlocked { .. }), "{err}");
    patron.blocked = None;
    patron.expiry = Some(date(2026, 3, 31));
    lib.catalogue.update_patron(&patron).unwrap();
    let err = lib.catalogue.renew_until("1000001", date(2026, 4, 29), now()).unwrap_err();
    assert!(matches!(err, Error::PatronExpired { .. }), "{err}");
    assert_eq!(lib.catalogue.loan_of_item(1).unwrap().unwrap().renewals, 0);

    let err = lib.catalogue.checkin("9999999", now()).unwrap_err();
    assert!(matches!(err, Error::UnknownItem(_)), "{err}");
    assert_eq!(lib.changes_since(seq), [], "a refusal writes no change");

    // An item on loan can be neither deleted nor given another status by hand.
    let item = lib.catalogue.item_by_barcode("1000001").unwrap().unwrap();
    let err = lib.catalogue.delete_item(item.id).unwrap_err();
    assert!(matches!(&err, Error::ItemOnLoan { due: d, .. } if *d == due), "{err}");
    let mut missing = item.clone();
    missing.status = ItemStatus::Missing;
    assert!(matches!(lib.catalogue.update_item(&missing).unwrap_err(), Error::ItemOnLoan { .. }));
    // Other fields of an item on loan may change.
    let mut moved = item.clone();
    moved.location = "書庫".into();
    assert_eq!(lib.catalogue.update_item(&moved).unwrap(), moved);
    let mut lent = lib.catalogue.item_by_barcode("1000002").unwrap().unwrap();
    lent.status = ItemStatus::OnLoan;
    assert!(matches!(lib.catalogue.update_item(&lent).unwrap_err(), Error::Invalid { field: "status", .. }));
}

#[test]
fn checkin_of_an_item_not_on_loan() {
    let lib = Library::new("checkin-shelf");
    let shelf = lib.item(0, "1000001", "chuo");
    let mut found = NewItem::new(lib.bibs[0], "1000002", "chuo");
    found.status = ItemStatus::Missing;
    lib.catalogue.add_item(&found).unwrap();
    let mut gone = NewItem::new(lib.bibs[0], "1000003", "chuo");
    gone.status = ItemStatus::Withdrawn;
    lib.catalogue.add_item(&gone).unwrap();
    let seq = lib.last_seq();

    let outcome = lib.catalogue.checkin("1000001", now()).unwrap();
    assert_eq!((outcome.item, outcome.loan, outcome.previous_status), (shelf, None, ItemStatus::Available));
    assert_eq!(lib.changes_since(seq), [], "nothing changed, nothing in the feed");

    let outcome = lib.catalogue.checkin("1000002", now()).unwrap();
    assert_eq!((outcome.previous_status, outcome.item.status), (ItemStatus::Missing, ItemStatus::Available));
    assert_eq!(lib.changes_since(seq), [(ChangeKind::Holdings, lib.bibs[0])]);

    let outcome = lib.catalogue.checkin("1000003", now()).unwrap();
    assert_eq!(outcome.item.status, ItemStatus::Withdrawn, "a withdrawn item stays withdrawn");
    assert_eq!(lib.changes_since(seq).len(), 1);
}

// ---------------------------------------------------------------------------------------
// The change feed

#[test]
fn every_change_of_holdings_appends_exactly_one_entry() {
    let lib = Library::new("feed");
    let [b0, b1] = lib.bibs;
    let holdings = |bib| (ChangeKind::Holdings, bib);
    let due = date(2026, 4, 15);
    // Each step and the entries it must append, read right after it returns.
    let mut seq = lib.last_seq();
    let mut step = |expected: &[(ChangeKind, u64)]| {
        let got = lib.changes_since(seq);
        assert_eq!(got, expected);
        seq = lib.last_seq();
    };

    let item = lib.item(0, "1000001", "chuo");
    step(&[holdings(b0)]);
    lib.catalogue.checkout_until("1000001", "P0001", due, now()).unwrap();
    step(&[holdings(b0)]);
    lib.catalogue.renew_until("1000001", date(2026, 4, 29), now()).unwrap();
    step(&[holdings(b0)]);
    lib.catalogue.checkin("1000001", now()).unwrap();
    step(&[holdings(b0)]);
    let mut changed = lib.catalogue.item(item.id).unwrap().unwrap();
    changed.call_number = "E/ナ".into();
    lib.catalogue.update_item(&changed).unwrap();
    step(&[holdings(b0)]);
    lib.catalogue.update_item(&changed).unwrap();
    step(&[]); // identical: nothing written
    changed.bib_id = b1;
    lib.catalogue.update_item(&changed).unwrap();
    step(&[holdings(b0), holdings(b1)]); // moved: both records show something else
    lib.catalogue.delete_item(changed.id).unwrap();
    step(&[holdings(b1)]);
    lib.catalogue.delete_item(changed.id).unwrap();
    step(&[]);
    // Patrons and branches are not shown by the OPAC: no entry.
    lib.catalogue.add_patron(&NewPatron::new("P0003", "新規", "chuo")).unwrap();
    lib.catalogue.put_branch(&branch("minami", "南分館", "South Branch")).unwrap();
    step(&[]);

    // Sequence numbers stay strictly increasing across kinds.
    let all: Vec<Change> = lib.catalogue.changes_after(0, usize::MAX).unwrap();
    assert!(all.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
}

#[test]
fn a_record_with_items_cannot_be_deleted() {
    let lib = Library::new("delete-bib");
    let a = lib.item(0, "1000001", "chuo");
    let b = lib.item(0, "1000002", "kita");
    let seq = lib.last_seq();
    let err = lib.catalogue.delete(lib.bibs[0]).unwrap_err();
    assert!(matches!(err, Error::BibHasItems { bib_id, items: 2 } if bib_id == lib.bibs[0]), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("delete or move them first"), "{err}");
    assert!(lib.catalogue.get(lib.bibs[0]).unwrap().is_some());
    assert_eq!(lib.changes_since(seq), []);

    lib.catalogue.delete_item(a.id).unwrap();
    lib.catalogue.delete_item(b.id).unwrap();
    assert!(lib.catalogue.delete(lib.bibs[0]).unwrap());
    assert_eq!(lib.changes_since(seq).last(), Some(&(ChangeKind::Deleted, lib.bibs[0])));
}

// ---------------------------------------------------------------------------------------
// Concurrency, durability, schema

#[test]
fn two_threads_checking_out_the_same_item_only_one_wins() {
    let lib = Library::new("race");
    let rounds = 100;
    lib.item(0, "1000001", "chuo");
    let patrons = ["P0001", "P0002"];
    for round in 0..rounds {
        let seq = lib.last_seq();
        let barrier = Arc::new(Barrier::new(2));
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = patrons
                .iter()
                .map(|card| {
                    let barrier = Arc::clone(&barrier);
                    let catalogue = &lib.catalogue;
                    scope.spawn(move || {
                        barrier.wait();
                        catalogue.checkout("1000001", card, now())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one checkout succeeds: {results:?}");
        let lost = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(matches!(lost, Error::ItemOnLoan { .. }), "round {round}: {lost}");
        assert_eq!(lib.catalogue.loan_of_item(won[0].item_id).unwrap().as_ref(), Some(won[0]));
        let on_loan: usize = patrons
            .iter()
            .map(|c| lib.catalogue.patron_by_card(c).unwrap().unwrap())
            .map(|p| lib.catalogue.loans_of_patron(p.id).unwrap().len())
            .sum();
        assert_eq!(on_loan, 1, "round {round}: one loan in all");
        assert_eq!(lib.changes_since(seq).len(), 1, "round {round}: one change");
        lib.catalogue.checkin("1000001", now()).unwrap();
    }
}

#[test]
fn reopening_keeps_everything() {
    let lib = Library::new("reopen");
    let a = lib.item(0, "1000001", "chuo");
    lib.item(1, "1000002", "kita");
    let loan = lib.catalogue.checkout_until("1000001", "P0002", date(2026, 4, 15), now()).unwrap();
    let branches = lib.catalogue.branches().unwrap();
    let patron = lib.catalogue.patron_by_card("P0002").unwrap();
    let availability = lib.catalogue.availability(lib.bibs[0]).unwrap();
    let changes = lib.catalogue.changes_after(0, usize::MAX).unwrap();

    let lib = lib.reopen();
    assert_eq!(lib.catalogue.schema_version().unwrap(), catalogue::SCHEMA_VERSION);
    assert_eq!(lib.catalogue.branches().unwrap(), branches);
    assert_eq!(lib.catalogue.patron_by_card("P0002").unwrap(), patron);
    assert_eq!(lib.catalogue.item(a.id).unwrap().unwrap().status, ItemStatus::OnLoan);
    assert_eq!(lib.catalogue.loan_of_item(a.id).unwrap(), Some(loan));
    assert_eq!(lib.catalogue.availability(lib.bibs[0]).unwrap(), availability);
    assert_eq!(lib.catalogue.changes_after(0, usize::MAX).unwrap(), changes);
    // Ids continue after the reopen: never reused.
    let c = lib.item(1, "1000003", "kita");
    assert!(c.id > a.id + 1);
    let p = lib.catalogue.add_patron(&NewPatron::new("P0003", "新規", "chuo")).unwrap();
    assert_eq!(p.id, 3);
}

/// The tables of version 2 (circulation): (tables, multimap tables).
/// Issue 7: a patron's OPAC password, login, lockout per card tried, sessions that end at
/// logout, after 15 idle minutes and when the password is set again, and the CSRF token.
#[test]
fn patron_passwords_logins_lockout_and_sessions() {
    use catalogue::PatronLoginOutcome;
    let lib = Library::new("patron-login");
    let c = &lib.catalogue;
    let minutes = |m: i64| now().checked_add(jiff::SignedDuration::from_mins(m)).unwrap();
    assert!(matches!(c.set_patron_password("P0001", "short", now()), Err(Error::WeakPassword(_))));
    assert!(matches!(c.set_patron_password("P0001", "P0001-and-more-text", now()), Err(Error::WeakPassword(_))));
    assert!(matches!(c.set_patron_password("NOPE", "yomu-koto-ga-suki-42", now()), Err(Error::UnknownPatron(_))));
    let patron = c.set_patron_password("P0001", "yomu-koto-ga-suki-42", now()).unwrap();
    assert!(c.patron_has_password(patron.id).unwrap());

    // No password, an unknown card, a wrong password: the same answer.
    for (card, password) in [("P0002", "anything at all"), ("NOPE", "yomu-koto-ga-suki-42"), ("P0001", "wrong")] {
        assert!(matches!(c.patron_login(card, password, None, now()).unwrap(), PatronLoginOutcome::WrongCredentials));
    }
    let PatronLoginOutcome::LoggedIn { token, session } =
        c.patron_login(" P0001 ", "yomu-koto-ga-suki-42", None, now()).unwrap()
    else {
        panic!("not logged in")
    };
    assert_eq!(session.patron.id, patron.id);
    assert!(session.check_csrf(session.csrf_token().expose()) && !session.check_csrf("0"));
    assert!(c.patron_session(&token, minutes(14)).unwrap().is_some());
    // Idle 15 minutes from the last request: gone.
    assert!(c.patron_session(&token, minutes(30)).unwrap().is_none());

    // Logging in again ends the session the browser came with.
    let login = |previous, at| match c.patron_login("P0001", "yomu-koto-ga-suki-42", previous, at).unwrap() {
        PatronLoginOutcome::LoggedIn { token, .. } => token,
        other => panic!("{other:?}"),
    };
    let first = login(None, minutes(31));
    let second = login(Some(&first), minutes(31));
    assert!(c.patron_session(&first, minutes(31)).unwrap().is_none());
    assert!(c.patron_logout(&second).unwrap());
    assert!(c.patron_session(&second, minutes(31)).unwrap().is_none());
    // Setting the password ends every session of the patron.
    let third = login(None, minutes(32));
    c.set_patron_password("P0001", "another-long-phrase-77", minutes(32)).unwrap();
    assert!(c.patron_session(&third, minutes(32)).unwrap().is_none());

    // Five failures lock the card, even against the right password, until the lock ends.
    for _ in 0..4 {
        assert!(matches!(
            c.patron_login("P0001", "wrong", None, minutes(33)).unwrap(),
            PatronLoginOutcome::WrongCredentials
        ));
    }
    assert!(matches!(c.patron_login("P0001", "wrong", None, minutes(33)).unwrap(), PatronLoginOutcome::Locked { .. }));
    let right = c.patron_login("P0001", "another-long-phrase-77", None, minutes(33)).unwrap();
    assert!(matches!(right, PatronLoginOutcome::Locked { .. }));
    assert!(c.patron_locked_until("P0001", minutes(33)).unwrap().is_some());
    let right = c.patron_login("P0001", "another-long-phrase-77", None, minutes(35)).unwrap();
    assert!(matches!(right, PatronLoginOutcome::LoggedIn { .. }));
    assert_eq!(c.prune_patron_logins(minutes(24 * 60 * 2)).unwrap().0, 1);
}

fn circulation_tables() -> (Vec<&'static str>, Vec<&'static str>) {
    (
        vec!["branches", "items", "item_by_barcode", "patrons", "patron_by_card", "loans"],
        vec!["items_by_bib", "loans_by_patron"],
    )
}

/// The tables of version 3 (rules, calendars, holds, outbox, reading records, counters).
pub(crate) fn version_3_tables() -> (Vec<&'static str>, Vec<&'static str>) {
    (
        vec!["policies", "calendars", "holds", "hold_by_item", "outbox", "reading_records", "loan_counts"],
        vec!["holds_by_bib", "holds_by_patron"],
    )
}

/// The tables schema version 4 added: patrons' OPAC passwords and sessions.
pub(crate) fn version_4_tables() -> (Vec<&'static str>, Vec<&'static str>) {
    (vec!["patron_passwords", "patron_login_failures", "patron_sessions"], vec![])
}

/// The tables schema version 5 added: patrons' second factor and login challenges.
pub(crate) fn version_5_tables() -> (Vec<&'static str>, Vec<&'static str>) {
    (vec!["patron_totp", "patron_login_challenges"], vec![])
}

/// The tables schema version 6 added: what OAI-PMH harvests read.
pub(crate) fn version_6_tables() -> (Vec<&'static str>, Vec<&'static str>) {
    (vec!["oai_stamps", "oai_stamp_of"], vec![])
}

/// The tables schema version 7 added: cataloguing.
pub(crate) fn version_7_tables() -> (Vec<&'static str>, Vec<&'static str>) {
    (vec!["bib_versions", "item_details", "cataloguing_settings"], vec![])
}

/// Turns a catalogue file back into schema version `version`, as far as the meta table
/// goes, dropping the tables later versions added when `drop_tables` is set.
pub(crate) fn set_schema(layout: &DataLayout, tenant: &TenantCode, version: u64, drop_tables: bool) {
    let db = redb::Database::create(layout.catalogue_file(tenant)).unwrap();
    let txn = db.begin_write().unwrap();
    if drop_tables {
        let mut dropped = (Vec::new(), Vec::new());
        for (at, (tables, multimaps)) in [
            circulation_tables(),
            version_3_tables(),
            version_4_tables(),
            version_5_tables(),
            version_6_tables(),
            version_7_tables(),
        ]
        .into_iter()
        .enumerate()
        {
            if at as u64 + 2 > version {
                dropped.0.extend(tables);
                dropped.1.extend(multimaps);
            }
        }
        let (tables, multimaps) = dropped;
        for name in tables {
            assert!(txn.delete_table(redb::TableDefinition::<u64, u64>::new(name)).unwrap(), "{name}");
        }
        for name in multimaps {
            assert!(txn.delete_multimap_table(redb::MultimapTableDefinition::<u64, u64>::new(name)).unwrap());
        }
    }
    txn.open_table(redb::TableDefinition::<&str, u64>::new("meta")).unwrap().insert("schema_version", version).unwrap();
    txn.commit().unwrap();
}

pub(crate) fn table_names(layout: &DataLayout, tenant: &TenantCode) -> BTreeSet<String> {
    use redb::{MultimapTableHandle, ReadableDatabase, TableHandle};
    let db = redb::Database::create(layout.catalogue_file(tenant)).unwrap();
    let txn = db.begin_read().unwrap();
    let mut names: BTreeSet<String> = txn.list_tables().unwrap().map(|t| t.name().to_string()).collect();
    names.extend(txn.list_multimap_tables().unwrap().map(|t| t.name().to_string()));
    names
}

#[test]
fn a_schema_1_file_is_migrated_to_the_current_version() {
    let scratch = Scratch::new("circ-migrate");
    let tenant: TenantCode = "old-city".parse().unwrap();
    let catalogue = scratch.catalogue("old-city");
    catalogue.upsert(vec![record("b1", "こゝろ")], "old.mrc").unwrap();
    let before = catalogue.bibs_after(None, usize::MAX).unwrap();
    let feed = catalogue.changes_after(0, usize::MAX).unwrap();
    drop(catalogue);

    // A version-1 file: the records, the feed, and no circulation table.
    set_schema(&scratch.layout, &tenant, 1, true);
    let names = table_names(&scratch.layout, &tenant);
    assert_eq!(
        names,
        ["bib_by_control", "bib_by_isbn", "bibs", "changes", "meta"].map(String::from).into_iter().collect()
    );

    let catalogue = Catalogue::open(&scratch.layout, &tenant).unwrap();
    assert_eq!(catalogue.schema_version().unwrap(), catalogue::SCHEMA_VERSION);
    assert_eq!(catalogue.bibs_after(None, usize::MAX).unwrap(), before, "records untouched");
    assert_eq!(catalogue.changes_after(0, usize::MAX).unwrap(), feed, "feed untouched");
    catalogue.put_branch(&branch("chuo", "中央図書館", "Central Library")).unwrap();
    catalogue.add_item(&NewItem::new(before[0].id, "1000001", "chuo")).unwrap();
    drop(catalogue);
    let names = table_names(&scratch.layout, &tenant);
    for (tables, multimaps) in [
        circulation_tables(),
        version_3_tables(),
        version_4_tables(),
        version_5_tables(),
        version_6_tables(),
        version_7_tables(),
    ] {
        assert!(tables.iter().chain(&multimaps).all(|t| names.contains(*t)), "{names:?}");
    }

    // Opening again is idempotent.
    let catalogue = Catalogue::open(&scratch.layout, &tenant).unwrap();
    assert_eq!(catalogue.schema_version().unwrap(), catalogue::SCHEMA_VERSION);
    assert_eq!(catalogue.items_of_bib(before[0].id).unwrap().len(), 1);
    drop(catalogue);

    // A newer file is refused, not half-understood.
    let newer = catalogue::SCHEMA_VERSION + 1;
    set_schema(&scratch.layout, &tenant, newer, false);
    let err = Catalogue::open(&scratch.layout, &tenant).err().unwrap();
    assert!(
        matches!(err, Error::SchemaTooNew { found, supported, .. } if found == newer && supported == catalogue::SCHEMA_VERSION),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Fault);
}

// ---------------------------------------------------------------------------------------
// Availability and holdings

#[test]
fn availability_and_holdings_for_the_opac() {
    let lib = Library::new("availability");
    let [b0, b1] = lib.bibs;
    let add = |barcode: &str, branch: &str, item_type: &str, status| {
        let mut new = NewItem::new(b0, barcode, branch);
        new.item_type = item_type.into();
        new.status = status;
        new.location = "開架".into();
        lib.catalogue.add_item(&new).unwrap()
    };
    // Added out of branch order, to check the sort.
    let k1 = add("K1", "kita", "book", ItemStatus::Available);
    let c1 = add("C1", "chuo", "book", ItemStatus::Available);
    let c2 = add("C2", "chuo", "reference", ItemStatus::Available);
    let c3 = add("C3", "chuo", "av", ItemStatus::Missing);
    add("C4", "chuo", "book", ItemStatus::Withdrawn);
    let k2 = add("K2", "kita", "book", ItemStatus::Available);
    lib.catalogue.checkout_until("K2", "P0002", date(2026, 4, 15), now()).unwrap();

    let availability = lib.catalogue.availability(b0).unwrap();
    assert_eq!((availability.total, availability.available, availability.holds), (5, 2, 0));
    let per_branch: Vec<_> = availability
        .branches
        .iter()
        .map(|b| (b.branch.as_str(), b.name_ja.as_str(), b.name_en.as_str(), b.total, b.available))
        .collect();
    assert_eq!(per_branch, [("chuo", "中央図書館", "Central Library", 3, 1), ("kita", "北分館", "North Branch", 2, 1)]);

    let holdings = lib.catalogue.holdings(b0).unwrap();
    let ids: Vec<u64> = holdings.iter().map(|h| h.item.id).collect();
    assert_eq!(ids, [c1.id, c2.id, c3.id, k1.id, k2.id], "by branch, then item id; withdrawn left out");
    assert_eq!(holdings[0].branch_name_ja, "中央図書館");
    assert_eq!(holdings[3].branch_name_en, "North Branch");
    assert_eq!(holdings[4].due, Some(date(2026, 4, 15)));
    assert!(holdings[..4].iter().all(|h| h.due.is_none()));
    assert_eq!(holdings[4].item.status, ItemStatus::OnLoan);

    let empty = lib.catalogue.availability(b1).unwrap();
    assert_eq!(empty, catalogue::Availability::default());
    assert_eq!(lib.catalogue.availability(999).unwrap(), catalogue::Availability::default());
    assert_eq!(lib.catalogue.holdings(999).unwrap(), []);

    lib.catalogue.checkin("K2", now()).unwrap();
    assert_eq!(lib.catalogue.availability(b0).unwrap().available, 3);
}

// ---------------------------------------------------------------------------------------
// CSV and TSV imports

fn lines(report: &catalogue::RowReport) -> Vec<u64> {
    report.rejected.iter().map(|r| r.line).collect()
}

#[test]
fn importing_items_keeps_good_rows_and_reports_bad_ones() {
    let lib = Library::new("import-items");
    let csv = format!(
        "\u{feff}Barcode,bib_id,control_number,branch,location,call_number,item_type,status\n\
         2000001,{b0},,chuo,開架,913.6/ナ,book,\n\
         2000002,,b2,kita,\"児童書, 絵本\",E/ナ,,\n\
         2000003,999,,chuo,,,,\n\
         2000004,{b0},,minami,,,,\n\
         2000001,{b1},,chuo,,,,\n\
         ,{b0},,chuo,,,,\n\
         2000005,{b0},,chuo,,,book,lost\n\
         2000006,{b0},,chuo\n\
         2000007,,nope,chuo,,,,\n\
         2000008,,,chuo,,,,\n\
         2000009,{b0},,chuo,,,reference,missing\n",
        b0 = lib.bibs[0],
        b1 = lib.bibs[1],
    );
    let seq = lib.last_seq();
    let report = lib.catalogue.import_items(csv.as_bytes()).unwrap();
    assert_eq!((report.read, report.created, report.updated, report.unchanged), (11, 3, 0, 0), "{report:#?}");
    assert_eq!(lines(&report), [4, 5, 6, 7, 8, 9, 10, 11], "{report:#?}");
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].contains("no record 999"), "{reasons:?}");
    assert!(reasons[1].contains("minami"), "{reasons:?}");
    assert!(reasons[2].contains("already on line 2"), "{reasons:?}");
    assert!(reasons[3].contains("barcode"), "{reasons:?}");
    assert!(reasons[4].contains("lost"), "{reasons:?}");
    assert!(reasons[5].contains("4 fields where the header has 8"), "{reasons:?}");
    assert!(reasons[6].contains("nope"), "{reasons:?}");
    assert!(reasons[7].contains("bib_id"), "{reasons:?}");

    let first = lib.catalogue.item_by_barcode("2000001").unwrap().unwrap();
    assert_eq!((first.location.as_str(), first.call_number.as_str()), ("開架", "913.6/ナ"));
    let second = lib.catalogue.item_by_barcode("2000002").unwrap().unwrap();
    assert_eq!((second.bib_id, second.location.as_str()), (lib.bibs[1], "児童書, 絵本"));
    let ninth = lib.catalogue.item_by_barcode("2000009").unwrap().unwrap();
    assert_eq!((ninth.item_type.as_str(), ninth.status), ("reference", ItemStatus::Missing));
    assert_eq!(lib.changes_since(seq).len(), 3, "one change per stored item");

    // The same file again changes nothing; a TSV with only barcode and status updates.
    let seq = lib.last_seq();
    let again = lib.catalogue.import_items(csv.as_bytes()).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3), "{again:#?}");
    assert_eq!(lines(&again), lines(&report));
    assert_eq!(lib.changes_since(seq), []);
    let inventory = "barcode\tstatus\n2000001\tmissing\n2000002\t\n2999999\tmissing\n";
    let report = lib.catalogue.import_items(inventory.as_bytes()).unwrap();
    assert_eq!((report.updated, report.unchanged, lines(&report)), (1, 1, vec![4]), "{report:#?}");
    let first = lib.catalogue.item_by_barcode("2000001").unwrap().unwrap();
    assert_eq!((first.status, first.location.as_str()), (ItemStatus::Missing, "開架"), "other fields kept");

    // A header the import does not understand refuses the whole file.
    for header in ["barcode,shelf\n1,x\n", "branch\nchuo\n", "barcode,barcode\n1,1\n"] {
        let err = lib.catalogue.import_items(header.as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "header", .. }), "{header:?}: {err}");
    }
}

#[test]
fn importing_patrons_keeps_good_rows_and_reports_bad_ones() {
    let lib = Library::new("import-patrons");
    let csv = "card,name,name_reading,category,home_branch,expiry,blocked\n\
               C001,鈴木一郎,スズキ イチロウ,adult,chuo,2027-03-31,\n\
               C002,高橋,,child,kita,2027/03/31,\n\
               C003,田中,,teacher,chuo,,\n\
               C004,伊藤,,,minami,,\n\
               C005,渡辺,,,chuo,31-03-2027,\n\
               C006,,,,chuo,,\n\
               P0001,山田太郎,ヤマダ タロウ,,chuo,,督促中\n";
    let report = lib.catalogue.import_patrons(csv.as_bytes()).unwrap();
    assert_eq!((report.read, report.created, report.updated), (7, 2, 1), "{report:#?}");
    assert_eq!(lines(&report), [4, 5, 6, 7], "{report:#?}");
    let c1 = lib.catalogue.patron_by_card("C001").unwrap().unwrap();
    assert_eq!((c1.name_reading.as_deref(), c1.expiry), (Some("スズキ イチロウ"), Some(date(2027, 3, 31))));
    let c2 = lib.catalogue.patron_by_card("C002").unwrap().unwrap();
    assert_eq!((c2.category, c2.expiry, c2.name_reading), (PatronCategory::Child, Some(date(2027, 3, 31)), None));
    let yamada = lib.catalogue.patron_by_card("P0001").unwrap().unwrap();
    assert_eq!(yamada.blocked.as_deref(), Some("督促中"));
    assert_eq!(yamada.category, PatronCategory::Adult);

    // Lifting the block by file: an empty cell clears it, an absent column keeps values.
    let tsv = "card\tblocked\nP0001\t\nC001\t\n";
    let report = lib.catalogue.import_patrons(tsv.as_bytes()).unwrap();
    assert_eq!((report.updated, report.unchanged), (1, 1), "{report:#?}");
    let yamada = lib.catalogue.patron_by_card("P0001").unwrap().unwrap();
    assert_eq!((yamada.blocked, yamada.name_reading.as_deref()), (None, Some("ヤマダ タロウ")));

    // Not UTF-8 (a Shift_JIS name): the row is reported, its neighbours stored.
    let mut bytes = b"card,name,home_branch\nS001,".to_vec();
    bytes.extend_from_slice(&[0x8e, 0x52, 0x93, 0x63]); // 山田 in Shift_JIS
    bytes.extend_from_slice(b",chuo\nS002,ok,chuo\n");
    let report = lib.catalogue.import_patrons(bytes.as_slice()).unwrap();
    assert_eq!((report.created, lines(&report)), (1, vec![2]), "{report:#?}");
    assert!(report.rejected[0].reason.contains("UTF-8"), "{report:#?}");
}

// ---------------------------------------------------------------------------------------
// A model of random circulation

#[derive(Debug, Clone)]
enum Op {
    AddItem { bib: usize, branch: usize, reference: bool, status: ItemStatus },
    Checkout { nth: usize, patron: usize },
    Checkin { nth: usize },
    Renew { nth: usize, days: i16 },
    SetStatus { nth: usize, status: ItemStatus },
    DeleteItem { nth: usize },
    Reopen,
}

const BRANCHES: [&str; 2] = ["chuo", "kita"];
/// Two patrons who may borrow and a blocked one.
const CARDS: [&str; 3] = ["P0001", "P0002", "B0001"];
const SHELF_STATUSES: [ItemStatus; 5] =
    [ItemStatus::Available, ItemStatus::Missing, ItemStatus::Withdrawn, ItemStatus::InTransit, ItemStatus::OnHoldShelf];

fn op() -> impl Strategy<Value = Op> {
    let status = prop_oneof![4 => Just(ItemStatus::Available), 1 => proptest::sample::select(SHELF_STATUSES.to_vec())];
    prop_oneof![
        3 => (0..2usize, 0..2usize, proptest::bool::weighted(0.2), status.clone())
            .prop_map(|(bib, branch, reference, status)| Op::AddItem { bib, branch, reference, status }),
        4 => (0..6usize, 0..3usize).prop_map(|(nth, patron)| Op::Checkout { nth, patron }),
        3 => (0..6usize).prop_map(|nth| Op::Checkin { nth }),
        2 => (0..6usize, -3..30i16).prop_map(|(nth, days)| Op::Renew { nth, days }),
        1 => (0..6usize, status).prop_map(|(nth, status)| Op::SetStatus { nth, status }),
        1 => (0..6usize).prop_map(|nth| Op::DeleteItem { nth }),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Debug, Clone)]
struct ModelItem {
    bib: usize,
    branch: usize,
    barcode: String,
    reference: bool,
    status: ItemStatus,
}

#[derive(Debug, Default)]
struct Model {
    items: BTreeMap<u64, ModelItem>,
    /// Item id -> (patron index, due, renewals). A map: at most one loan per item.
    loans: BTreeMap<u64, (usize, Date, u32)>,
}

impl Model {
    /// The barcode of the n-th item (a barcode nobody has when there are none).
    fn nth(&self, nth: usize) -> Option<(u64, ModelItem)> {
        if self.items.is_empty() {
            return None;
        }
        self.items.iter().nth(nth % self.items.len()).map(|(id, item)| (*id, item.clone()))
    }
}

/// What kind of outcome the model predicts; the store must agree.
fn outcome<T: std::fmt::Debug>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(Error::UnknownItem(_)) => "unknown item",
        Err(Error::ItemOnLoan { .. }) => "on loan",
        Err(Error::NotOnLoan(_)) => "not on loan",
        Err(Error::NotLendable { .. }) => "not lendable",
        Err(Error::PatronBlocked { .. }) => "blocked",
        Err(Error::Invalid { .. }) => "invalid",
        Err(other) => panic!("unexpected error: {other}"),
    }
}

fn run_model(ops: &[Op]) {
    let mut lib = Library::new(&format!("model-{}", NEXT_MODEL.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    let mut blocked = NewPatron::new("B0001", "停止中", "chuo");
    blocked.blocked = Some("延滞".into());
    lib.catalogue.add_patron(&blocked).unwrap();
    let patron_ids: Vec<u64> = CARDS.iter().map(|c| lib.catalogue.patron_by_card(c).unwrap().unwrap().id).collect();
    let mut model = Model::default();
    let mut next_barcode = 0;
    let due = date(2026, 4, 15);

    for (step, op) in ops.iter().enumerate() {
        let seq = lib.last_seq();
        // The bibs the step must append to the feed, in order.
        let mut expected: Vec<usize> = Vec::new();
        let nth_barcode = |nth| model.nth(nth).map_or_else(|| "NONE".to_string(), |(_, i)| i.barcode);
        match op {
            Op::AddItem { bib, branch, reference, status } => {
                next_barcode += 1;
                let barcode = format!("M{next_barcode:05}");
                let mut new = NewItem::new(lib.bibs[*bib], &barcode, BRANCHES[*branch]);
                new.status = *status;
                if *reference {
                    new.item_type = "reference".into();
                }
                let item = lib.catalogue.add_item(&new).unwrap();
                let model_item =
                    ModelItem { bib: *bib, branch: *branch, barcode, reference: *reference, status: *status };
                model.items.insert(item.id, model_item);
                expected.push(*bib);
            }
            Op::Checkout { nth, patron } => {
                let barcode = nth_barcode(*nth);
                let got = lib.catalogue.checkout_until(&barcode, CARDS[*patron], due, now());
                let want = match model.nth(*nth) {
                    None => "unknown item",
                    Some((id, _)) if model.loans.contains_key(&id) => "on loan",
                    Some((_, item)) if item.reference || item.status != ItemStatus::Available => "not lendable",
                    Some(_) if *patron == 2 => "blocked",
                    Some((id, item)) => {
                        model.loans.insert(id, (*patron, due, 0));
                        model.items.entry(id).and_modify(|i| i.status = ItemStatus::OnLoan);
                        expected.push(item.bib);
                        "ok"
                    }
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            Op::Checkin { nth } => {
                let barcode = nth_barcode(*nth);
                let got = lib.catalogue.checkin(&barcode, now());
                let want = match model.nth(*nth) {
                    None => "unknown item",
                    Some((id, item)) => {
                        let loan = model.loans.remove(&id);
                        if let Ok(outcome) = &got {
                            assert_eq!(outcome.loan.as_ref().map(|l| l.patron_id), loan.map(|l| patron_ids[l.0]));
                        }
                        if !matches!(item.status, ItemStatus::Available | ItemStatus::Withdrawn) {
                            model.items.entry(id).and_modify(|i| i.status = ItemStatus::Available);
                            expected.push(item.bib);
                        }
                        "ok"
                    }
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            Op::Renew { nth, days } => {
                let barcode = nth_barcode(*nth);
                let new_due = today() + jiff::Span::new().days(i64::from(*days));
                let got = lib.catalogue.renew_until(&barcode, new_due, now());
                let want = match model.nth(*nth) {
                    None => "unknown item",
                    Some((id, _)) if !model.loans.contains_key(&id) => "not on loan",
                    Some((id, _)) if model.loans[&id].0 == 2 => "blocked",
                    Some(_) if *days < 0 => "invalid",
                    Some((id, item)) => {
                        model.loans.entry(id).and_modify(|l| {
                            l.1 = new_due;
                            l.2 += 1;
                        });
                        expected.push(item.bib);
                        "ok"
                    }
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            Op::SetStatus { nth, status } => {
                let Some((id, item)) = model.nth(*nth) else { continue };
                let mut stored = lib.catalogue.item(id).unwrap().unwrap();
                stored.status = *status;
                let got = lib.catalogue.update_item(&stored);
                let want = if model.loans.contains_key(&id) {
                    "on loan"
                } else {
                    if item.status != *status {
                        model.items.entry(id).and_modify(|i| i.status = *status);
                        expected.push(item.bib);
                    }
                    "ok"
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            Op::DeleteItem { nth } => {
                let Some((id, item)) = model.nth(*nth) else { continue };
                let got = lib.catalogue.delete_item(id);
                let want = if model.loans.contains_key(&id) {
                    "on loan"
                } else {
                    model.items.remove(&id);
                    expected.push(item.bib);
                    "ok"
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            Op::Reopen => lib = lib.reopen(),
        }

        // The feed got exactly the predicted entries.
        let want: Vec<(ChangeKind, u64)> = expected.iter().map(|&b| (ChangeKind::Holdings, lib.bibs[b])).collect();
        assert_eq!(lib.changes_since(seq), want, "step {step}: {op:?}: the feed");

        // Availability agrees with the model, record by record and branch by branch.
        for (b, &bib) in lib.bibs.iter().enumerate() {
            let mut per_branch: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
            for item in model.items.values().filter(|i| i.bib == b && i.status != ItemStatus::Withdrawn) {
                let counts = per_branch.entry(BRANCHES[item.branch]).or_default();
                counts.0 += 1;
                counts.1 += u32::from(item.status == ItemStatus::Available && !item.reference);
            }
            let got = lib.catalogue.availability(bib).unwrap();
            let got_branches: BTreeMap<&str, (u32, u32)> =
                got.branches.iter().map(|a| (a.branch.as_str(), (a.total, a.available))).collect();
            let branch_order: Vec<&str> = got.branches.iter().map(|a| a.branch.as_str()).collect();
            assert!(branch_order.windows(2).all(|w| w[0] < w[1]), "branches sorted: {branch_order:?}");
            assert_eq!(got_branches, per_branch, "step {step}: availability of bib {b} per branch");
            assert_eq!(got.total, per_branch.values().map(|c| c.0).sum::<u32>(), "step {step}");
            assert_eq!(got.available, per_branch.values().map(|c| c.1).sum::<u32>(), "step {step}");
            let due_dates: Vec<Option<Date>> =
                lib.catalogue.holdings(bib).unwrap().iter().filter(|h| h.due.is_some()).map(|h| h.due).collect();
            let model_dues = model.loans.iter().filter(|(id, _)| model.items[*id].bib == b).count();
            assert_eq!(due_dates.len(), model_dues, "step {step}: holdings on loan");
        }

        // Loans agree, by item and by patron; every item's status agrees.
        for (&id, item) in &model.items {
            let stored = lib.catalogue.item(id).unwrap().unwrap();
            assert_eq!(stored.status, item.status, "step {step}: status of item {id}");
            let loan = lib.catalogue.loan_of_item(id).unwrap().map(|l| (l.patron_id, l.due, l.renewals));
            let want = model.loans.get(&id).map(|&(p, due, renewals)| (patron_ids[p], due, renewals));
            assert_eq!(loan, want, "step {step}: loan of item {id}");
        }
        for (p, &patron_id) in patron_ids.iter().enumerate() {
            let got: Vec<u64> = lib.catalogue.loans_of_patron(patron_id).unwrap().iter().map(|l| l.item_id).collect();
            let want: Vec<u64> = model.loans.iter().filter(|(_, l)| l.0 == p).map(|(id, _)| *id).collect();
            assert_eq!(got, want, "step {step}: loans of patron {p}");
        }
    }
}

static NEXT_MODEL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn circulation_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..=40)) {
        run_model(&ops);
    }
}

/// Every kind of step at least once, whatever the random cases draw.
#[test]
fn a_scripted_circulation_agrees_with_the_model() {
    run_model(&[
        Op::Checkout { nth: 0, patron: 0 },
        Op::AddItem { bib: 0, branch: 0, reference: false, status: ItemStatus::Available },
        Op::AddItem { bib: 0, branch: 1, reference: true, status: ItemStatus::Available },
        Op::AddItem { bib: 1, branch: 1, reference: false, status: ItemStatus::Missing },
        Op::Checkout { nth: 0, patron: 0 },
        Op::Checkout { nth: 0, patron: 1 },
        Op::Checkout { nth: 1, patron: 1 },
        Op::Checkout { nth: 2, patron: 1 },
        Op::Renew { nth: 0, days: 14 },
        Op::Renew { nth: 0, days: -1 },
        Op::Renew { nth: 1, days: 14 },
        Op::DeleteItem { nth: 0 },
        Op::SetStatus { nth: 0, status: ItemStatus::Missing },
        Op::Reopen,
        Op::Checkin { nth: 0 },
        Op::Checkin { nth: 2 },
        Op::Checkout { nth: 2, patron: 2 },
        Op::SetStatus { nth: 1, status: ItemStatus::Withdrawn },
        Op::DeleteItem { nth: 0 },
        Op::Checkin { nth: 0 },
    ]);
}
