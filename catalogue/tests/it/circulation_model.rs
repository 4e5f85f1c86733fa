//! Circulation with loan rules, calendars and holds against a plain model (issue #7).
//! Random sequences of checkouts, checkins at either branch, renewals, holds placed and
//! cancelled, expiry, overdue notices, days passing on a [`ManualClock`] and reopening are
//! applied to a real [`Catalogue`] and to plain maps, and after every step the two must
//! agree: each outcome (success or which refusal), every item's status, every loan (its
//! due date computed by the model from its own rules and closed days), every hold's state
//! and queue, availability, the outbox, and the change feed, which must have received
//! exactly one Holdings entry per successful transition. Two invariants are also checked on
//! the store alone: a copy is only ever set aside for the first waiting holds of its
//! record, and a copy set aside has the status its hold says.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use catalogue::{
    ChangeKind, Clock, Error, HoldState, ItemStatus, LoanPolicy, ManualClock, NewItem, NewPatron, PatronCategory,
};
use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, Span};
use proptest::prelude::*;

use crate::circulation::{Library, now};

const BRANCHES: [&str; 2] = ["chuo", "kita"];
/// The copies: (record, branch, item type). The reference copy is never lent or set aside.
const ITEMS: [(usize, usize, &str); 4] = [(0, 0, "book"), (0, 1, "av"), (1, 0, "book"), (1, 1, "reference")];
/// Two adults and a child (P0001 and P0002 come with the library).
const CARDS: [&str; 3] = ["P0001", "P0002", "P0003"];
const CATEGORIES: [PatronCategory; 3] = [PatronCategory::Adult, PatronCategory::Child, PatronCategory::Adult];

/// The stored rules, as the model reads them.
fn default_rule() -> LoanPolicy {
    LoanPolicy {
        loan_days: 14,
        max_loans: 2,
        max_renewals: 1,
        max_holds: 2,
        hold_pickup_days: 3,
        suspend_while_overdue: true,
        ..LoanPolicy::new(None, None)
    }
}

fn child_rule() -> LoanPolicy {
    LoanPolicy {
        loan_days: 7,
        max_loans: 1,
        max_renewals: 0,
        max_holds: 1,
        hold_pickup_days: 2,
        suspend_while_overdue: true,
        ..LoanPolicy::new(Some(PatronCategory::Child), None)
    }
}

fn av_rule() -> LoanPolicy {
    LoanPolicy {
        loan_days: 7,
        max_loans: 1,
        max_renewals: 2,
        max_holds: 5,
        hold_pickup_days: 4,
        suspend_while_overdue: false,
        ..LoanPolicy::new(None, Some("av"))
    }
}

/// The model's reading of the rules: the category's rule before the type's.
fn rule(patron: usize, item_type: Option<&str>) -> LoanPolicy {
    match (CATEGORIES[patron], item_type) {
        (PatronCategory::Child, _) => child_rule(),
        (_, Some("av")) => av_rule(),
        _ => default_rule(),
    }
}

/// Closed days: chuo on Mondays and the 15th, kita on Sundays.
fn closed(branch: usize, day: Date) -> bool {
    match branch {
        0 => day.weekday() == Weekday::Monday || day.day() == 15,
        _ => day.weekday() == Weekday::Sunday,
    }
}

fn plus(day: Date, days: u32) -> Date {
    day.checked_add(Span::new().days(i64::from(days))).unwrap()
}

fn next_open(branch: usize, mut day: Date) -> Date {
    while closed(branch, day) {
        day = day.tomorrow().unwrap();
    }
    day
}

fn add_open(branch: usize, mut day: Date, n: u32) -> Date {
    for _ in 0..n {
        day = next_open(branch, day.tomorrow().unwrap());
    }
    day
}

#[derive(Debug, Clone)]
enum Op {
    Checkout { item: usize, patron: usize },
    Checkin { item: usize, at: usize },
    Renew { item: usize },
    Place { bib: usize, patron: usize, pickup: usize },
    Cancel { nth: usize },
    Expire,
    NotifyOverdue,
    Advance { days: u8 },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..4usize, 0..3usize).prop_map(|(item, patron)| Op::Checkout { item, patron }),
        5 => (0..4usize, 0..2usize).prop_map(|(item, at)| Op::Checkin { item, at }),
        2 => (0..4usize).prop_map(|item| Op::Renew { item }),
        5 => (0..2usize, 0..3usize, 0..2usize).prop_map(|(bib, patron, pickup)| Op::Place { bib, patron, pickup }),
        1 => (0..8usize).prop_map(|nth| Op::Cancel { nth }),
        2 => Just(Op::Expire),
        1 => Just(Op::NotifyOverdue),
        3 => (0..6u8).prop_map(|days| Op::Advance { days }),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MState {
    Waiting,
    InTransit(usize),
    Ready(usize, Date),
}

#[derive(Debug, Clone)]
struct MHold {
    bib: usize,
    patron: usize,
    pickup: usize,
    state: MState,
}

#[derive(Debug, Clone)]
struct MLoan {
    patron: usize,
    due: Date,
    renewals: u32,
    noticed: bool,
}

#[derive(Debug)]
struct Model {
    status: [ItemStatus; 4],
    loans: BTreeMap<usize, MLoan>,
    holds: BTreeMap<u64, MHold>,
    next_hold: u64,
    notices: usize,
    today: Date,
}

impl Model {
    fn item_type(item: usize) -> &'static str {
        ITEMS[item].2
    }

    fn overdue(&self, patron: usize) -> bool {
        self.loans.values().any(|l| l.patron == patron && l.due < self.today)
    }

    fn trapped_on(&self, item: usize) -> Option<u64> {
        self.holds.iter().find_map(|(&id, h)| match h.state {
            MState::InTransit(i) | MState::Ready(i, _) if i == item => Some(id),
            _ => None,
        })
    }

    /// Sets the hold's copy aside at branch `at`.
    fn trap(&mut self, id: u64, item: usize, at: usize) {
        let hold = self.holds.get_mut(&id).unwrap();
        if hold.pickup == at {
            let until = add_open(at, self.today, rule(hold.patron, None).hold_pickup_days);
            hold.state = MState::Ready(item, until);
            self.status[item] = ItemStatus::OnHoldShelf;
            self.notices += 1;
        } else {
            hold.state = MState::InTransit(item);
            self.status[item] = ItemStatus::InTransit;
        }
    }

    /// A free copy at `at`: to the first waiting hold, or shelved. Whether it changed.
    fn settle(&mut self, item: usize, at: usize) -> bool {
        let (bib, branch, item_type) = ITEMS[item];
        if item_type != "reference" {
            let first = self.holds.iter().find(|(_, h)| h.bib == bib && h.state == MState::Waiting).map(|(&id, _)| id);
            if let Some(id) = first {
                self.trap(id, item, at);
                return true;
            }
        }
        let status = if at == branch { ItemStatus::Available } else { ItemStatus::InTransit };
        let changed = self.status[item] != status;
        self.status[item] = status;
        changed
    }

    /// Ends a hold; a copy on its hold shelf is settled at the pickup branch.
    fn end_hold(&mut self, id: u64) {
        let hold = self.holds.remove(&id).unwrap();
        if let MState::Ready(item, _) = hold.state {
            self.settle(item, hold.pickup);
        }
    }
}

fn outcome<T: std::fmt::Debug>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(Error::ItemOnLoan { .. }) => "on loan",
        Err(Error::ItemHeld { .. }) => "held",
        Err(Error::NotLendable { .. }) => "not lendable",
        Err(Error::PatronOverdue { .. }) => "overdue",
        Err(Error::TooManyLoans { .. }) => "too many loans",
        Err(Error::NotOnLoan(_)) => "not on loan",
        Err(Error::NoRenewalsLeft { .. }) => "no renewals",
        Err(Error::HoldWaiting { .. }) => "hold waiting",
        Err(Error::HoldExists { .. }) => "hold exists",
        Err(Error::AlreadyBorrowed { .. }) => "already borrowed",
        Err(Error::TooManyHolds { .. }) => "too many holds",
        Err(Error::UnknownHold(_)) => "unknown hold",
        Err(other) => panic!("unexpected error: {other}"),
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn run(ops: &[Op]) {
    let mut lib = Library::new(&format!("holds-model-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    let clock = ManualClock::new(now());
    lib.catalogue.add_patron(&NewPatron::new("P0003", "鈴木一郎", "kita")).unwrap();
    for rule in [default_rule(), child_rule(), av_rule()] {
        lib.catalogue.put_policy(&rule).unwrap();
    }
    let first = crate::circulation::today();
    for (branch, code) in BRANCHES.iter().enumerate() {
        let days: Vec<Date> = (0..500).map(|n| plus(first, n)).filter(|&d| closed(branch, d)).collect();
        lib.catalogue.set_closed_days(code, &days, "休館日").unwrap();
    }
    let mut item_ids = Vec::new();
    let mut barcodes = Vec::new();
    for (n, (bib, branch, item_type)) in ITEMS.iter().enumerate() {
        let barcode = format!("I{n}");
        let mut new = NewItem::new(lib.bibs[*bib], &barcode, BRANCHES[*branch]);
        new.item_type = (*item_type).to_string();
        item_ids.push(lib.catalogue.add_item(&new).unwrap().id);
        barcodes.push(barcode);
    }
    let patron_ids: Vec<u64> = CARDS.iter().map(|c| lib.catalogue.patron_by_card(c).unwrap().unwrap().id).collect();
    let item_index = |id: u64| item_ids.iter().position(|&i| i == id).unwrap();
    let mut model = Model {
        status: [ItemStatus::Available; 4],
        loans: BTreeMap::new(),
        holds: BTreeMap::new(),
        next_hold: 1,
        notices: 0,
        today: first,
    };

    for (step, op) in ops.iter().enumerate() {
        let t = clock.now();
        let seq = lib.last_seq();
        let waiting_before: Vec<Vec<u64>> = lib
            .bibs
            .iter()
            .map(|&b| {
                let holds = lib.catalogue.holds_of_bib(b).unwrap();
                holds.iter().filter(|h| h.state == HoldState::Waiting).map(|h| h.id).collect()
            })
            .collect();
        // The records the step must append to the feed, in order.
        let mut expected: Vec<usize> = Vec::new();
        let c = &lib.catalogue;
        match op {
            &Op::Checkout { item, patron } => {
                let got = c.checkout(&barcodes[item], CARDS[patron], t);
                let (bib, branch, item_type) = ITEMS[item];
                let policy = rule(patron, Some(item_type));
                let trapped = model.trapped_on(item);
                let want = if model.loans.contains_key(&item) {
                    "on loan"
                } else if trapped.is_some_and(|h| model.holds[&h].patron != patron) {
                    "held"
                } else if trapped.is_none() && (item_type == "reference" || model.status[item] != ItemStatus::Available)
                {
                    "not lendable"
                } else if policy.suspend_while_overdue && model.overdue(patron) {
                    "overdue"
                } else if model
                    .loans
                    .iter()
                    .filter(|(i, l)| l.patron == patron && rule(patron, Some(Model::item_type(**i))) == policy)
                    .count()
                    >= policy.max_loans as usize
                {
                    "too many loans"
                } else {
                    let due = next_open(branch, plus(model.today, policy.loan_days));
                    if let Ok(loan) = &got {
                        assert_eq!((loan.due, loan.renewals, loan.out), (due, 0, t), "step {step}");
                    }
                    model.loans.insert(item, MLoan { patron, due, renewals: 0, noticed: false });
                    model.status[item] = ItemStatus::OnLoan;
                    let own = model.holds.iter().find(|(_, h)| h.patron == patron && h.bib == bib).map(|(&id, _)| id);
                    if let Some(id) = own {
                        match model.holds[&id].state {
                            MState::Ready(other, _) if other != item => model.end_hold(id),
                            _ => {
                                model.holds.remove(&id);
                            }
                        }
                    }
                    expected.push(bib);
                    "ok"
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            &Op::Checkin { item, at } => {
                let got = c.checkin_at(&barcodes[item], BRANCHES[at], t).unwrap();
                let bib = ITEMS[item].0;
                let loan = model.loans.remove(&item);
                assert_eq!(
                    got.loan.as_ref().map(|l| (l.patron_id, l.due)),
                    loan.as_ref().map(|l| (patron_ids[l.patron], l.due))
                );
                let changed = if loan.is_some() {
                    model.settle(item, at)
                } else {
                    match model.trapped_on(item) {
                        Some(id)
                            if matches!(model.holds[&id].state, MState::InTransit(_))
                                && model.holds[&id].pickup == at =>
                        {
                            model.trap(id, item, at);
                            true
                        }
                        Some(_) => false,
                        None => model.settle(item, at),
                    }
                };
                if changed || loan.is_some() {
                    expected.push(bib);
                }
                assert_eq!(got.item.status, model.status[item], "step {step}: {op:?}");
            }
            &Op::Renew { item } => {
                let got = c.renew(&barcodes[item], t);
                let (bib, branch, item_type) = ITEMS[item];
                let want = match model.loans.get(&item).cloned() {
                    None => "not on loan",
                    Some(loan) => {
                        let policy = rule(loan.patron, Some(item_type));
                        let others = model
                            .holds
                            .values()
                            .any(|h| h.bib == bib && h.state == MState::Waiting && h.patron != loan.patron);
                        if loan.renewals >= policy.max_renewals {
                            "no renewals"
                        } else if policy.suspend_while_overdue && model.overdue(loan.patron) {
                            "overdue"
                        } else if others {
                            "hold waiting"
                        } else {
                            let due = next_open(branch, plus(model.today, policy.loan_days)).max(loan.due);
                            let renewals = loan.renewals + 1;
                            model.loans.insert(item, MLoan { due, renewals, noticed: false, ..loan });
                            expected.push(bib);
                            "ok"
                        }
                    }
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            &Op::Place { bib, patron, pickup } => {
                let got = c.place_hold(lib.bibs[bib], CARDS[patron], BRANCHES[pickup], t);
                let policy = rule(patron, None);
                let want = if policy.suspend_while_overdue && model.overdue(patron) {
                    "overdue"
                } else if model.holds.values().any(|h| h.patron == patron && h.bib == bib) {
                    "hold exists"
                } else if model.loans.iter().any(|(&i, l)| l.patron == patron && ITEMS[i].0 == bib) {
                    "already borrowed"
                } else if model.holds.values().filter(|h| h.patron == patron).count() >= policy.max_holds as usize {
                    "too many holds"
                } else {
                    if let Ok(hold) = &got {
                        assert_eq!(hold.id, model.next_hold, "step {step}: hold ids from 1, in order");
                    }
                    model.holds.insert(model.next_hold, MHold { bib, patron, pickup, state: MState::Waiting });
                    model.next_hold += 1;
                    expected.push(bib);
                    "ok"
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            &Op::Cancel { nth } => {
                let id = model.holds.keys().nth(nth % model.holds.len().max(1)).copied();
                let got = c.cancel_hold(id.unwrap_or(9_999), t);
                let want = match id {
                    None => "unknown hold",
                    Some(id) => {
                        expected.push(model.holds[&id].bib);
                        model.end_hold(id);
                        "ok"
                    }
                };
                assert_eq!(outcome(&got), want, "step {step}: {op:?}");
            }
            Op::Expire => {
                let got = c.expire_holds(t).unwrap();
                let due: Vec<u64> = model
                    .holds
                    .iter()
                    .filter(|(_, h)| matches!(h.state, MState::Ready(_, until) if until < model.today))
                    .map(|(&id, _)| id)
                    .collect();
                for &id in &due {
                    let bib = model.holds[&id].bib;
                    if !expected.contains(&bib) {
                        expected.push(bib);
                    }
                    model.end_hold(id);
                }
                assert_eq!(got.iter().map(|h| h.id).collect::<Vec<_>>(), due, "step {step}: expired");
                assert!(got.iter().all(|h| h.state == HoldState::Expired));
            }
            Op::NotifyOverdue => {
                let got = c.notify_overdue(t).unwrap();
                let mut want = Vec::new();
                for (&item, loan) in model.loans.iter_mut() {
                    if loan.due < model.today && !loan.noticed {
                        loan.noticed = true;
                        want.push(barcodes[item].clone());
                    }
                }
                model.notices += want.len();
                assert_eq!(got.into_iter().map(|n| n.item_barcode).collect::<Vec<_>>(), want, "step {step}");
            }
            &Op::Advance { days } => {
                clock.advance(SignedDuration::from_hours(24 * i64::from(days)));
                model.today = plus(model.today, u32::from(days));
            }
            Op::Reopen => lib = lib.reopen(),
        }
        let c = &lib.catalogue;

        // The feed got exactly one entry per successful transition.
        let want: Vec<(ChangeKind, u64)> = expected.iter().map(|&b| (ChangeKind::Holdings, lib.bibs[b])).collect();
        assert_eq!(lib.changes_since(seq), want, "step {step}: {op:?}: the feed");

        // Items, loans and holds agree with the model.
        for (n, &id) in item_ids.iter().enumerate() {
            assert_eq!(c.item(id).unwrap().unwrap().status, model.status[n], "step {step}: status of item {n}");
            let loan = c.loan_of_item(id).unwrap().map(|l| (l.patron_id, l.due, l.renewals));
            let want = model.loans.get(&n).map(|l| (patron_ids[l.patron], l.due, l.renewals));
            assert_eq!(loan, want, "step {step}: loan of item {n}");
        }
        for (p, &patron_id) in patron_ids.iter().enumerate() {
            let got: Vec<u64> = c.loans_of_patron(patron_id).unwrap().iter().map(|l| l.item_id).collect();
            let want: Vec<u64> = model.loans.iter().filter(|(_, l)| l.patron == p).map(|(&i, _)| item_ids[i]).collect();
            assert_eq!(got, want, "step {step}: loans of patron {p}");
        }
        for (b, &bib) in lib.bibs.iter().enumerate() {
            let queue = c.holds_of_bib(bib).unwrap();
            let got: Vec<(u64, u64, &str, MState)> = queue
                .iter()
                .map(|h| {
                    let state = match h.state {
                        HoldState::Waiting => MState::Waiting,
                        HoldState::InTransit { item_id } => MState::InTransit(item_index(item_id)),
                        HoldState::Ready { item_id, until } => MState::Ready(item_index(item_id), until),
                        other => panic!("step {step}: an ended hold is stored: {other:?}"),
                    };
                    (h.id, h.patron_id, h.pickup_branch.as_str(), state)
                })
                .collect();
            let want: Vec<(u64, u64, &str, MState)> = model
                .holds
                .iter()
                .filter(|(_, h)| h.bib == b)
                .map(|(&id, h)| (id, patron_ids[h.patron], BRANCHES[h.pickup], h.state))
                .collect();
            assert_eq!(got, want, "step {step}: {op:?}: holds of record {b}");

            // On the store alone: copies set aside in this step went to the first waiting
            // holds (of those still there), and every copy set aside has its hold's status.
            let newly: Vec<u64> = queue
                .iter()
                .filter(|h| h.state.trapped_item().is_some() && waiting_before[b].contains(&h.id))
                .map(|h| h.id)
                .collect();
            let still: Vec<u64> =
                waiting_before[b].iter().copied().filter(|id| queue.iter().any(|h| h.id == *id)).collect();
            assert_eq!(newly, still[..newly.len()], "step {step}: only the first waiting holds are trapped");
            for hold in &queue {
                let (item_id, status) = match hold.state {
                    HoldState::InTransit { item_id } => (item_id, ItemStatus::InTransit),
                    HoldState::Ready { item_id, .. } => (item_id, ItemStatus::OnHoldShelf),
                    _ => continue,
                };
                assert_eq!(c.item(item_id).unwrap().unwrap().status, status, "step {step}");
            }

            let availability = c.availability(bib).unwrap();
            let of_bib: Vec<usize> = (0..ITEMS.len()).filter(|&i| ITEMS[i].0 == b).collect();
            let count = |status: ItemStatus| of_bib.iter().filter(|&&i| model.status[i] == status).count() as u32;
            let available = of_bib
                .iter()
                .filter(|&&i| model.status[i] == ItemStatus::Available && ITEMS[i].2 != "reference")
                .count() as u32;
            assert_eq!(
                (availability.total, availability.available, availability.holds),
                (of_bib.len() as u32, available, want.len() as u32),
                "step {step}: availability of record {b}"
            );
            assert_eq!(
                (availability.on_hold_shelf, availability.in_transit),
                (count(ItemStatus::OnHoldShelf), count(ItemStatus::InTransit)),
                "step {step}"
            );
        }
        assert_eq!(c.pending_notices(usize::MAX).unwrap().len(), model.notices, "step {step}: the outbox");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn circulation_with_holds_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..=60)) {
        run(&ops);
    }
}

/// Every kind of step and the main paths, whatever the random cases draw.
#[test]
fn a_scripted_circulation_with_holds_agrees_with_the_model() {
    run(&[
        Op::Checkout { item: 0, patron: 0 },
        Op::Place { bib: 0, patron: 1, pickup: 1 },
        Op::Place { bib: 0, patron: 2, pickup: 0 },
        Op::Place { bib: 0, patron: 0, pickup: 0 },
        Op::Renew { item: 0 },
        Op::Checkin { item: 0, at: 0 },
        Op::Checkout { item: 0, patron: 2 },
        Op::Checkin { item: 0, at: 1 },
        Op::Checkin { item: 1, at: 1 },
        Op::Checkout { item: 1, patron: 2 },
        Op::Reopen,
        Op::Advance { days: 5 },
        Op::Expire,
        Op::Checkin { item: 0, at: 0 },
        Op::Checkout { item: 3, patron: 0 },
        Op::Checkout { item: 2, patron: 1 },
        Op::Checkout { item: 2, patron: 0 },
        Op::Place { bib: 1, patron: 1, pickup: 0 },
        Op::Renew { item: 2 },
        Op::Advance { days: 5 },
        Op::Advance { days: 5 },
        Op::Advance { days: 5 },
        Op::NotifyOverdue,
        Op::NotifyOverdue,
        Op::Checkout { item: 0, patron: 0 },
        Op::Renew { item: 2 },
        Op::Place { bib: 0, patron: 0, pickup: 1 },
        Op::Cancel { nth: 0 },
        Op::Cancel { nth: 1 },
        Op::Checkin { item: 2, at: 1 },
        Op::Checkin { item: 2, at: 0 },
        Op::Checkin { item: 1, at: 0 },
        Op::Cancel { nth: 3 },
        Op::Expire,
    ]);
}
