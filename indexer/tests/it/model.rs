//! Model-based test: random sequences of import, update, delete, index crash (dropping the
//! open index without applying what is pending), incremental catch-up and full rebuild. After
//! each step the index, once caught up, holds exactly the catalogue's records — the index is
//! a replay of the change feed, and a rebuild from scratch gives the same.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::search::{Book, Scratch, analyzer};

#[derive(Debug, Clone)]
enum Op {
    /// Import (or re-import) book `n` with title variant `v`.
    Upsert { n: u8, v: u8 },
    /// Delete book `n` if present.
    Delete { n: u8 },
    /// Apply the feed incrementally.
    CatchUp,
    /// Apply at most a few changes, then "crash": drop the index and reopen it.
    CrashAfterPartial { changes: u8 },
    /// Rebuild from the catalogue and swap in.
    Rebuild,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12, 0u8..3).prop_map(|(n, v)| Op::Upsert { n, v }),
        2 => (0u8..12).prop_map(|n| Op::Delete { n }),
        2 => Just(Op::CatchUp),
        1 => (0u8..4).prop_map(|changes| Op::CrashAfterPartial { changes }),
        1 => Just(Op::Rebuild),
    ]
}

const TITLES: [&str; 3] = ["図書館の歴史", "こゝろ", "源氏物語の世界"];

fn title(n: u8, v: u8) -> String {
    format!("{} 第{n}巻", TITLES[usize::from(v) % TITLES.len()])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_index_is_a_replay_of_the_change_feed(ops in proptest::collection::vec(op(), 1..16)) {
        let (scratch, catalogue) = Scratch::new("model");
        let mut index = Some(scratch.index());
        // Model: control number -> title.
        let mut model: BTreeMap<String, String> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Upsert { n, v } => {
                    let id = format!("m{n}");
                    let title = title(n, v);
                    let book = Book { id: &id, title: &title, author: Some("模型太郎"), year: Some(2000 + i32::from(n)), ..Book::default() };
                    catalogue.upsert(vec![book.record()], "model").unwrap();
                    model.insert(id, title);
                }
                Op::Delete { n } => {
                    let id = format!("m{n}");
                    if let Some(bib) = catalogue.find_by_control_number("SHIORI-TEST", &id).unwrap() {
                        prop_assert!(catalogue.delete(bib).unwrap());
                        model.remove(&id);
                    }
                }
                Op::CatchUp => {
                    index.as_ref().unwrap().catch_up(&catalogue).unwrap();
                }
                Op::CrashAfterPartial { changes } => {
                    let open = index.take().unwrap();
                    open.apply_changes(&catalogue, usize::from(changes)).unwrap();
                    drop(open);
                    index = Some(scratch.index());
                }
                Op::Rebuild => {
                    indexer::Index::rebuild(&scratch.layout, &catalogue, analyzer(), &mut |_, _| {}).unwrap();
                    let open = index.as_mut().unwrap();
                    prop_assert!(open.reopen_if_swapped().unwrap());
                }
            }
            // Caught up, the index holds exactly the catalogue's records.
            let open = index.as_ref().unwrap();
            open.catch_up(&catalogue).unwrap();
            prop_assert_eq!(open.applied_seq().unwrap(), catalogue.last_change_seq().unwrap());
            let documents = open.documents().unwrap();
            let mut expected = BTreeMap::new();
            for (id, title) in &model {
                let bib = catalogue.find_by_control_number("SHIORI-TEST", id).unwrap().unwrap();
                expected.insert(bib, title.clone());
            }
            prop_assert_eq!(&documents, &expected);
            // And every record is findable by its title as a phrase.
            for (id, title) in &model {
                let results = open.search(&indexer::SearchRequest { limit: 50, ..indexer::SearchRequest::new(format!("\"{title}\"")) }).unwrap();
                let bib = catalogue.find_by_control_number("SHIORI-TEST", id).unwrap().unwrap();
                prop_assert!(results.hits.iter().any(|h| h.id == bib), "{} not found by its title {}", id, title);
            }
        }
    }
}
