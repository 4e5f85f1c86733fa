//! What patrons really type (issue #16): readings with a slip, kanji and kana mixed, romaji
//! of any system, words the record lacks, volume numbers and misspelt Latin words. Each
//! must find its book in the first ten; near matches say so and come only when the words
//! as typed found nothing.

use indexer::{Index, SearchRequest};

use crate::search::{Book, Scratch, shared};

fn library() -> (Scratch, catalogue::Catalogue, Index) {
    let (scratch, catalogue) = Scratch::new("typed");
    catalogue::import_file(&catalogue, &shared("japanese/enju-jpmarc/jpmarc_marc21_enju.dat"), &mut |_, _| {}).unwrap();
    let book = |id, title, reading, author| Book { id, title, reading, author, ..Book::default() };
    let volume =
        |id, title, number| Book { id, title, number: Some(number), author: Some("永井, 荷風"), ..Book::default() };
    let books = [
        book("t1", "白髪鬼", Some("ハクハツキ"), Some("江戸川, 乱歩")),
        book("t2", "嵐", Some("アラシ"), Some("島崎, 藤村")),
        book("t3", "東京都立図書館の歴史", None, Some("図書館史研究会")),
        book("t4", "ノルウェイの森", Some("ノルウェイ ノ モリ"), Some("村上, 春樹")),
        book("t5", "こころ", Some("ココロ"), Some("夏目, 漱石")),
        book("t6", "図書館戦争", Some("トショカン センソウ"), Some("有川, 浩")),
        book("t7", "大阪を歩く", Some("オオサカ オ アルク"), None),
        book("t8", "赤とんぼ", Some("アカトンボ"), Some("三木, 露風")),
        book("t9", "心理学入門", Some("シンリガク ニュウモン"), None),
        volume("v1", "断腸亭日乗", "01"),
        volume("v2", "断腸亭日乗", "02"),
        volume("v3", "断腸亭日乗", "第3巻"),
        volume("v4", "人間学講話", "上卷"),
        volume("v5", "人間学講話", "下卷"),
        Book { id: "w1", title: "Library science today", lang: Some("eng"), ..Book::default() },
        Book { id: "w2", title: "The catalogue of rare books", lang: Some("eng"), ..Book::default() },
        Book { id: "w3", title: "Color and light in painting", lang: Some("eng"), ..Book::default() },
    ];
    catalogue.upsert(books.iter().map(Book::record).collect(), "facts").unwrap();
    let index = scratch.index();
    index.catch_up(&catalogue).unwrap();
    (scratch, catalogue, index)
}

/// The control numbers of the first ten hits, and whether they were near matches.
fn top(index: &Index, catalogue: &catalogue::Catalogue, query: &str) -> (Vec<String>, bool) {
    let mut request = SearchRequest::new(query);
    request.limit = 10;
    let results = index.search(&request).unwrap();
    let ids = results
        .hits
        .iter()
        .map(|h| catalogue.get(h.id).unwrap().unwrap().record().unwrap().control_number().unwrap().to_string())
        .collect();
    (ids, results.near)
}

#[test]
fn every_kind_of_slip_finds_its_book_in_the_first_ten() {
    let (_scratch, catalogue, index) = library();
    let cases = [
        // Kana slips: dakuten, small kana, long vowels.
        ("はくはっき", "t1"),
        ("はぐはつき", "t1"),
        ("あらじ", "t2"),
        ("としよかん", "t3"),
        ("ノルウエイの森", "t4"),
        ("のるうぇーのもり", "t4"),
        // Kanji and kana mixed.
        ("夏目そうせき こころ", "t5"),
        ("図書館せんそう", "t6"),
        // Kunrei-shiki and wāpuro romaji, run together.
        ("tosyokansensou", "t6"),
        ("natume kokoro", "t5"),
        ("sinrigaku", "t9"),
        ("oosakawoaruku", "t7"),
        ("akatonnbo", "t8"),
        // Words patrons add, and a word the record lacks.
        ("こころ 小説", "t5"),
        ("図書館戦争 文庫", "t6"),
        ("赤とんぼ 露風 zzzz", "t8"),
        // Western slips.
        ("libary science", "w1"),
        ("catalog of rare books", "w2"),
        ("colour and light", "w3"),
    ];
    let mut failures = Vec::new();
    for (query, expected) in cases {
        let (ids, _) = top(&index, &catalogue, query);
        if !ids.iter().any(|id| id == expected) {
            failures.push(format!("{query}: {expected} not in {ids:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_volume_asked_for_comes_first() {
    let (_scratch, catalogue, index) = library();
    for (query, expected) in [
        ("断腸亭日乗 2", "v2"),
        ("断腸亭日乗 02", "v2"),
        ("断腸亭日乗 1", "v1"),
        ("断腸亭日乗 3", "v3"),
        ("断腸亭日乗 第3巻", "v3"),
        ("人間学講話 下", "v5"),
        ("人間学講話 上巻", "v4"),
    ] {
        let (ids, near) = top(&index, &catalogue, query);
        assert_eq!(ids.first().map(String::as_str), Some(expected), "{query}: {ids:?}");
        assert!(!near, "{query}: the volume is a match as typed");
    }
}

#[test]
fn near_matches_come_only_when_nothing_matched_as_typed_and_say_so() {
    let (_scratch, catalogue, index) = library();
    // Typed right: no near matches, and the fold does not widen the results.
    let exact = index.search(&SearchRequest::new("はくはつき")).unwrap();
    assert!(!exact.near && exact.total >= 1);
    let (ids, near) = top(&index, &catalogue, "図書館戦争");
    assert_eq!((ids.first().map(String::as_str), near), (Some("t6"), false));
    // A slip: near matches, said so, and the words no record has are named.
    let slip = index.search(&SearchRequest::new("赤とんぼ zzzz")).unwrap();
    assert!(slip.near && slip.total >= 1, "{slip:?}");
    assert_eq!(slip.unmatched_words, ["zzzz"]);
    // Nothing near either: still nothing, never everything.
    let nothing = index.search(&SearchRequest::new("ずずずずずずず")).unwrap();
    assert_eq!(nothing.total, 0, "{nothing:?}");
    let nothing = index.search(&SearchRequest::new("qqqqqqq")).unwrap();
    assert_eq!(nothing.total, 0, "{nothing:?}");
    // Fielded queries are taken as written.
    let fielded = index.search(&SearchRequest::new("title:はくはっき")).unwrap();
    assert_eq!((fielded.total, fielded.near), (0, false));
}

#[test]
fn romaji_suggestions_complete_readings() {
    let (_scratch, _catalogue, index) = library();
    let texts = |prefix: &str| index.suggest(prefix, 10).unwrap().into_iter().map(|s| s.text).collect::<Vec<_>>();
    assert!(texts("natsume").contains(&"夏目漱石".to_string()), "{:?}", texts("natsume"));
    assert!(texts("natume").contains(&"夏目漱石".to_string()), "{:?}", texts("natume"));
    assert!(texts("toshokans").iter().any(|t| t.starts_with("図書館戦争")), "{:?}", texts("toshokans"));
}
