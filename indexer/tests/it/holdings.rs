//! The holding-branch and availability facets (issue #4, item 6): read from the
//! catalogue's copies when a record is indexed, and kept current by the change feed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use catalogue::{Branch, Catalogue, NewItem, NewPatron};
use indexer::{ANYWHERE, BibDocument, FacetCount, Filters, Index, SearchRequest};
use jiff::Timestamp;

use crate::search::{Book, Scratch, analyzer};

fn now() -> Timestamp {
    "2026-04-01T01:00:00Z".parse().unwrap()
}

/// (value, count) of a facet's values, in their order.
fn values(counts: &[FacetCount]) -> Vec<(&str, u64)> {
    counts.iter().map(|c| (c.value.as_str(), c.count)).collect()
}

/// Two branches; 銀河鉄道の夜 with a copy at each, the one at kita lent; 風の又三郎 with
/// one copy at chuo; 春と修羅 with none. Returns the bib ids in that order.
fn library(catalogue: &Catalogue) -> [u64; 3] {
    for (code, ja, en) in [("chuo", "中央図書館", "Central Library"), ("kita", "北分館", "North Branch")] {
        catalogue.put_branch(&Branch { code: code.into(), name_ja: ja.into(), name_en: en.into() }).unwrap();
    }
    let books = [
        Book { id: "h1", title: "銀河鉄道の夜", author: Some("宮沢賢治"), ..Book::default() },
        Book { id: "h2", title: "風の又三郎", author: Some("宮沢賢治"), ..Book::default() },
        Book { id: "h3", title: "春と修羅", author: Some("宮沢賢治"), ..Book::default() },
    ];
    catalogue.upsert(books.iter().map(Book::record).collect(), "test").unwrap();
    let id = |control: &str| catalogue.find_by_control_number("SHIORI-TEST", control).unwrap().unwrap();
    let ids = [id("h1"), id("h2"), id("h3")];
    catalogue.add_item(&NewItem::new(ids[0], "1001", "chuo")).unwrap();
    catalogue.add_item(&NewItem::new(ids[0], "1002", "kita")).unwrap();
    catalogue.add_item(&NewItem::new(ids[1], "2001", "chuo")).unwrap();
    for card in ["P1", "P2"] {
        catalogue.add_patron(&NewPatron::new(card, "利用者", "chuo")).unwrap();
    }
    catalogue.checkout("1002", "P1", now()).unwrap();
    ids
}

fn search(index: &Index, filters: Filters) -> indexer::SearchResults {
    index.search(&SearchRequest { filters, ..SearchRequest::new("宮沢賢治") }).unwrap()
}

#[test]
fn a_record_is_faceted_by_the_branches_holding_it_and_where_a_copy_is_in() {
    let (scratch, catalogue) = Scratch::new("holdings-map");
    let [ginga, ..] = library(&catalogue);
    let stored = catalogue.get(ginga).unwrap().unwrap();
    let mut doc = BibDocument::from_record(ginga, &stored.record().unwrap());
    assert!(doc.branches.is_empty(), "the MARC record alone says nothing of copies");
    doc.set_availability(&catalogue.availability(ginga).unwrap());
    assert_eq!(doc.branches, ["chuo", "kita"]);
    assert_eq!(doc.available_at, ["chuo"], "the copy at kita is lent");

    let index = scratch.index();
    index.catch_up(&catalogue).unwrap();
    let one =
        index.search(&SearchRequest { filters: Filters::default(), ..SearchRequest::new("銀河鉄道の夜") }).unwrap();
    assert_eq!(one.total, 1);
    assert_eq!(values(&one.facets.branch), [("chuo", 1), ("kita", 1)]);
    assert_eq!(values(&one.facets.available), [(ANYWHERE, 1), ("chuo", 1)]);

    let all = search(&index, Filters::default());
    assert_eq!(all.total, 3);
    assert_eq!(values(&all.facets.branch), [("chuo", 2), ("kita", 1)]);
    assert_eq!(values(&all.facets.available), [(ANYWHERE, 2), ("chuo", 2)]);
}

#[test]
fn filters_narrow_to_a_branch_and_to_what_is_in() {
    let (scratch, catalogue) = Scratch::new("holdings-filter");
    let [ginga, matasaburo, _] = library(&catalogue);
    let index = scratch.index();
    index.catch_up(&catalogue).unwrap();
    let ids = |filters: Filters| {
        let mut ids: Vec<u64> = search(&index, filters).hits.iter().map(|h| h.id).collect();
        ids.sort_unstable();
        ids
    };
    let at = |branch: &str| Filters { branch: Some(branch.into()), ..Filters::default() };
    let available = |value: &str| Filters { available: Some(value.into()), ..Filters::default() };
    assert_eq!(ids(at("chuo")), [ginga, matasaburo]);
    assert_eq!(ids(at("kita")), [ginga]);
    assert_eq!(ids(at("minami")), Vec::<u64>::new(), "a branch that holds nothing");
    assert_eq!(ids(available(ANYWHERE)), [ginga, matasaburo], "春と修羅 has no copy");
    assert_eq!(ids(available("chuo")), [ginga, matasaburo]);
    assert_eq!(ids(available("kita")), Vec::<u64>::new(), "the copy at kita is lent");
    let both = Filters { branch: Some("kita".into()), available: Some(ANYWHERE.into()), ..Filters::default() };
    assert_eq!(ids(both), [ginga], "held at kita, and in at chuo");
}

#[test]
fn checkouts_checkins_and_the_hold_shelf_change_the_facet_once_applied() {
    let (scratch, catalogue) = Scratch::new("holdings-feed");
    let [_, matasaburo, _] = library(&catalogue);
    let index = scratch.index();
    index.catch_up(&catalogue).unwrap();
    let in_now = Filters { available: Some(ANYWHERE.into()), ..Filters::default() };
    let available_ids =
        |index: &Index| -> Vec<u64> { search(index, in_now.clone()).hits.iter().map(|h| h.id).collect() };
    assert!(available_ids(&index).contains(&matasaburo));

    // The only copy of 風の又三郎 lent: not available once the feed is applied.
    catalogue.checkout("2001", "P2", now()).unwrap();
    assert!(available_ids(&index).contains(&matasaburo), "the index learns only from the feed");
    let applied = index.apply_changes(&catalogue, 100).unwrap();
    assert_eq!((applied.changes, applied.records), (1, 1));
    assert!(!available_ids(&index).contains(&matasaburo));
    let facets = search(&index, Filters::default()).facets;
    assert_eq!(values(&facets.available), [(ANYWHERE, 1), ("chuo", 1)]);
    assert_eq!(values(&facets.branch), [("chuo", 2), ("kita", 1)], "a lent copy is still held");

    // Returned while P1 waits for it: set aside on the hold shelf, still not available.
    catalogue.place_hold(matasaburo, "P1", "chuo", now()).unwrap();
    catalogue.checkin("2001", now()).unwrap();
    index.catch_up(&catalogue).unwrap();
    assert!(!available_ids(&index).contains(&matasaburo), "a copy on the hold shelf is not in");

    // Borrowed by P1 and returned with nobody waiting: in again.
    catalogue.checkout("2001", "P1", now()).unwrap();
    catalogue.checkin("2001", now()).unwrap();
    index.catch_up(&catalogue).unwrap();
    assert!(available_ids(&index).contains(&matasaburo));

    // Incremental and rebuilt indexes agree.
    let before = search(&index, Filters::default()).facets;
    drop(index);
    Index::rebuild(&scratch.layout, &catalogue, analyzer(), &mut |_, _| {}).unwrap();
    let rebuilt = scratch.index();
    assert_eq!(search(&rebuilt, Filters::default()).facets, before);
}

#[test]
fn a_follower_shows_a_checkout_in_the_facet_within_its_cycle() {
    let (scratch, catalogue) = Scratch::new("holdings-follow");
    let [ginga, ..] = library(&catalogue);
    let catalogue = Arc::new(catalogue);
    let index = Arc::new(scratch.index());
    index.catch_up(&catalogue).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let follower = indexer::follow(index.clone(), catalogue.clone(), Duration::from_millis(20), stop.clone());
    let in_now = Filters { available: Some(ANYWHERE.into()), ..Filters::default() };
    assert!(search(&index, in_now.clone()).hits.iter().any(|h| h.id == ginga));
    catalogue.checkout("1001", "P2", now()).unwrap();
    // Polled, not timed: the change must appear; how fast is measured by the benches.
    let deadline = Instant::now() + Duration::from_secs(30);
    while search(&index, in_now.clone()).hits.iter().any(|h| h.id == ginga) {
        assert!(Instant::now() < deadline, "the follower never applied the checkout");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    follower.join().unwrap().unwrap();
}
