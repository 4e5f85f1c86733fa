//! The search engine end to end: a real catalogue, a real index on disk, real queries.
//! Records are written here from facts (title, author, year, ISBN, NDC), mixed with the
//! 233 JAPAN/MARC records of ../shared/fixtures as a realistic background.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use catalogue::{Catalogue, DataLayout, Field, Record, Subfield, System, Tag, TenantCode};
use indexer::{Error, Filters, Index, MatchMode, SearchRequest, Sort};
use tokenizer_dict::JapaneseAnalyzer;

/// A data folder removed when dropped.
pub(crate) struct Scratch {
    pub(crate) layout: DataLayout,
    root: PathBuf,
    pub(crate) code: TenantCode,
}

impl Scratch {
    pub(crate) fn new(name: &str) -> (Scratch, Catalogue) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("shiori-index-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let layout = DataLayout::new(&root);
        let code: TenantCode = "lib".parse().unwrap();
        System::open(&layout).unwrap().create_tenant(&code, "test").unwrap();
        let catalogue = Catalogue::open(&layout, &code).unwrap();
        (Scratch { layout, root, code }, catalogue)
    }

    pub(crate) fn index(&self) -> Index {
        Index::open(&self.layout, &self.code, analyzer()).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub(crate) fn analyzer() -> Arc<JapaneseAnalyzer> {
    Arc::new(JapaneseAnalyzer::new().unwrap())
}

fn tag(t: &[u8; 3]) -> Tag {
    Tag::new(*t).unwrap()
}

fn data(t: &[u8; 3], ind: &str, subfields: &[(char, &str)]) -> Field {
    let mut ind = ind.chars();
    Field::Data {
        tag: tag(t),
        ind1: ind.next().unwrap_or(' '),
        ind2: ind.next().unwrap_or(' '),
        subfields: subfields.iter().map(|(code, value)| Subfield { code: *code, value: value.to_string() }).collect(),
    }
}

/// A book written from facts: control number, title (with an optional katakana reading in
/// 880 as JAPAN/MARC does), author, year, ISBN, NDC.
#[derive(Default, Clone)]
pub(crate) struct Book<'a> {
    pub(crate) id: &'a str,
    pub(crate) title: &'a str,
    pub(crate) reading: Option<&'a str>,
    pub(crate) author: Option<&'a str>,
    pub(crate) year: Option<i32>,
    pub(crate) isbn: Option<&'a str>,
    pub(crate) ndc: Option<&'a str>,
    pub(crate) subject: Option<&'a str>,
    pub(crate) lang: Option<&'a str>,
    /// 245 $n: the volume.
    pub(crate) number: Option<&'a str>,
}

impl Book<'_> {
    pub(crate) fn record(&self) -> Record {
        let year = self.year.map_or("    ".to_string(), |y| y.to_string());
        let lang = self.lang.unwrap_or("jpn");
        let mut fields = vec![
            Field::Control { tag: tag(b"001"), value: self.id.to_string() },
            Field::Control { tag: tag(b"003"), value: "SHIORI-TEST".to_string() },
            Field::Control { tag: tag(b"008"), value: format!("260101s{year}    ja            000 0 {lang} d") },
        ];
        if let Some(isbn) = self.isbn {
            fields.push(data(b"020", "  ", &[('a', isbn)]));
        }
        if let Some(ndc) = self.ndc {
            fields.push(data(b"084", "  ", &[('a', ndc), ('2', "njb/09")]));
        }
        if let Some(author) = self.author {
            fields.push(data(b"100", "1 ", &[('a', author)]));
        }
        let mut title = vec![('a', self.title)];
        if let Some(number) = self.number {
            title.push(('n', number));
        }
        if self.reading.is_some() {
            title.insert(0, ('6', "880-01"));
        }
        fields.push(data(b"245", "10", &title));
        if let Some(year) = self.year {
            fields.push(data(b"260", "  ", &[('b', "試験出版"), ('c', &year.to_string())]));
        }
        if let Some(subject) = self.subject {
            fields.push(data(b"650", " 7", &[('a', subject)]));
        }
        if let Some(reading) = self.reading {
            fields.push(data(b"880", "10", &[('6', "245-01/$1"), ('a', reading)]));
        }
        Record { leader: "00000nam a2200000 i 4500".to_string(), fields }
    }
}

pub(crate) fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures").join(path)
}

/// The test library: known items and their confusable neighbours, over JAPAN/MARC.
fn library() -> (Scratch, Catalogue, Index) {
    let (scratch, catalogue) = Scratch::new("search");
    catalogue::import_file(&catalogue, &shared("japanese/enju-jpmarc/jpmarc_marc21_enju.dat"), &mut |_, _| {}).unwrap();
    let books = [
        Book {
            id: "k1",
            title: "こゝろ",
            reading: Some("ココロ"),
            author: Some("夏目漱石"),
            year: Some(1914),
            ndc: Some("913.6"),
            ..Book::default()
        },
        Book {
            id: "k2",
            title: "こころの処方箋",
            author: Some("河合隼雄"),
            year: Some(1998),
            ndc: Some("146.8"),
            ..Book::default()
        },
        Book {
            id: "k3",
            title: "i",
            author: Some("西加奈子"),
            year: Some(2016),
            isbn: Some("9784591164457"),
            ndc: Some("913.6"),
            ..Book::default()
        },
        Book {
            id: "k4",
            title: "IT革命の真実",
            author: Some("情報太郎"),
            year: Some(2001),
            ndc: Some("007.3"),
            ..Book::default()
        },
        Book {
            id: "k5",
            title: "it",
            author: Some("キング, スティーヴン"),
            year: Some(1994),
            ndc: Some("933.7"),
            lang: Some("jpn"),
            ..Book::default()
        },
        Book {
            id: "k6", title: "城", author: Some("カフカ"), year: Some(1971), ndc: Some("943.7"), ..Book::default()
        },
        Book {
            id: "k7",
            title: "城下町の歴史",
            author: Some("歴史花子"),
            year: Some(2005),
            ndc: Some("210.5"),
            ..Book::default()
        },
        Book {
            id: "k8",
            title: "広辞苑 第7版",
            author: Some("新村出"),
            year: Some(2018),
            isbn: Some("978-4-00-080131-7"),
            ndc: Some("813.1"),
            ..Book::default()
        },
        Book {
            id: "k9",
            title: "広辞苑 第6版",
            author: Some("新村出"),
            year: Some(2008),
            ndc: Some("813.1"),
            ..Book::default()
        },
        Book {
            id: "k10",
            title: "武士道",
            author: Some("新渡戶稲造"),
            year: Some(1938),
            ndc: Some("156"),
            ..Book::default()
        },
        Book {
            id: "k11",
            title: "陰陽師 鉄輪",
            author: Some("夢枕獏"),
            year: Some(2002),
            ndc: Some("913.6"),
            ..Book::default()
        },
        Book {
            id: "k12",
            title: "チーズはどこへ消えた？",
            author: Some("ジョンソン, スペンサー"),
            year: Some(2000),
            ndc: Some("159"),
            ..Book::default()
        },
        Book {
            id: "k13",
            title: "1984",
            author: Some("オーウェル, ジョージ"),
            year: Some(2009),
            ndc: Some("933.7"),
            ..Book::default()
        },
        Book {
            id: "k14",
            title: "1Q84",
            author: Some("村上春樹"),
            year: Some(2009),
            ndc: Some("913.6"),
            ..Book::default()
        },
        Book {
            id: "k15",
            title: "東京都立図書館の歴史",
            author: Some("図書館史研究会"),
            year: Some(1990),
            subject: Some("図書館 -- 歴史"),
            ndc: Some("016.2"),
            ..Book::default()
        },
        // LC word-spaces vernacular titles; patrons type them run together.
        Book { id: "k16", title: "痘疹 活幼 心法", ..Book::default() },
        // A title with a cataloguer's bracket inside it (LC 00506716).
        Book { id: "k17", title: "消費者契約法 (仮称) の制定に向けて", ..Book::default() },
    ];
    catalogue.upsert(books.iter().map(Book::record).collect(), "facts").unwrap();
    let index = scratch.index();
    index.catch_up(&catalogue).unwrap();
    (scratch, catalogue, index)
}

fn ids(index: &Index, catalogue: &Catalogue, request: &SearchRequest) -> Vec<String> {
    let results = index.search(request).unwrap();
    results
        .hits
        .iter()
        .map(|h| {
            let stored = catalogue.get(h.id).unwrap().unwrap();
            stored.record().unwrap().control_number().unwrap_or_default().to_string()
        })
        .collect()
}

fn first(index: &Index, catalogue: &Catalogue, query: &str) -> Option<String> {
    ids(index, catalogue, &SearchRequest::new(query)).into_iter().next()
}

#[test]
fn known_items_come_first() {
    let (_scratch, catalogue, index) = library();
    let cases = [
        ("こころ", "k1"),
        ("こゝろ", "k1"),
        ("i", "k3"),
        ("it", "k5"),
        ("城", "k6"),
        ("広辞苑 第七版", "k8"),
        ("広辞苑 第7版", "k8"),
        ("鉄輪", "k11"),
        ("チーズはどこへ消えた?", "k12"),
        ("1984", "k13"),
        ("新渡戸稲造 武士道", "k10"),
        ("武士道", "k10"),
        ("東京都立図書館の歴史", "k15"),
        ("痘疹活幼心法", "k16"),
        ("痘疹 活幼 心法", "k16"),
        ("\"疹活幼\"", "k16"),
        ("4-00-080131-7", "k8"),
        ("9784591164457", "k3"),
        ("978-4-591-16445-7", "k3"),
    ];
    let mut failures = Vec::new();
    for (query, expected) in cases {
        let got = first(&index, &catalogue, query);
        if got.as_deref() != Some(expected) {
            failures.push(format!("{query:?}: expected {expected}, first was {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_title_typed_without_its_bracketed_words_is_a_near_match() {
    let (_scratch, catalogue, index) = library();
    // Every word present: an ordinary search, not a near match.
    let whole = index.search(&SearchRequest::new("消費者契約法 (仮称) の制定に向けて")).unwrap();
    assert!(!whole.relaxed);
    assert_eq!(first(&index, &catalogue, "消費者契約法 (仮称) の制定に向けて").as_deref(), Some("k17"));
    // Typed as the patron remembers it, without 「(仮称)」: the bigram 法の is missing,
    // so the phrase finds nothing, and the near match finds the title first.
    let typed = SearchRequest::new("消費者契約法の制定に向けて");
    let results = index.search(&typed).unwrap();
    assert!(results.relaxed, "{results:?}");
    assert_eq!(ids(&index, &catalogue, &typed).first().map(String::as_str), Some("k17"));
    // A word no record has is left out only by the near matches of what patrons type
    // (issue #16), which say so.
    let mixed = index.search(&SearchRequest::new("消費者契約法の制定に向けて zzzqqq")).unwrap();
    assert!(!mixed.relaxed && mixed.near, "{mixed:?}");
    assert_eq!(mixed.unmatched_words, ["zzzqqq"]);
    // Words that share too few bigrams with any title find nothing, as before.
    let unrelated = index.search(&SearchRequest::new("量子色力学の格子計算")).unwrap();
    assert_eq!((unrelated.total, unrelated.relaxed), (0, false));
    // Fielded or operator queries are taken as written.
    let fielded = index.search(&SearchRequest::new("title:消費者契約法の制定に向けて")).unwrap();
    assert_eq!((fielded.total, fielded.relaxed), (0, false));
}

#[test]
fn scripts_and_spellings_meet() {
    let (_scratch, catalogue, index) = library();
    for query in ["図書館", "としょかん", "トショカン", "toshokan", "Toshokan", "ＴＯＳＨＯＫＡＮ"]
    {
        let found = ids(&index, &catalogue, &SearchRequest { limit: 100, ..SearchRequest::new(query) });
        assert!(found.contains(&"k15".to_string()), "{query}: {found:?}");
        assert!(found.len() > 3, "{query}: JAPAN/MARC has several 図書館 titles, found {}", found.len());
    }
    // The catalogued reading (880 /$1) finds こゝろ by its reading in katakana and hiragana.
    for query in ["ココロ", "kokoro"] {
        assert!(ids(&index, &catalogue, &SearchRequest::new(query)).contains(&"k1".to_string()), "{query}");
    }
}

#[test]
fn the_query_language_works() {
    let (_scratch, catalogue, index) = library();
    let found = |q: &str| ids(&index, &catalogue, &SearchRequest { limit: 100, ..SearchRequest::new(q) });
    assert_eq!(found("author:夏目漱石"), ["k1"]);
    assert_eq!(found("title:城"), ["k6", "k7"]);
    assert!(found("広辞苑 -第6版").iter().all(|id| id != "k9"));
    assert!(found("広辞苑 -第6版").contains(&"k8".to_string()));
    let either = found("鉄輪 OR 武士道");
    assert!(either.contains(&"k11".to_string()) && either.contains(&"k10".to_string()), "{either:?}");
    let nineties = found("広辞苑 year:2000-2010");
    assert_eq!(nineties, ["k9"]);
    assert_eq!(found("isbn:4-591-16445-2"), Vec::<String>::new(), "a bad check digit finds nothing");
    assert_eq!(found("isbn:4591164454"), ["k3"]);
    let mut ndc = found("ndc:813");
    ndc.sort();
    assert_eq!(ndc, ["k8", "k9"]);
    assert_eq!(found("title_exact:\"チーズはどこへ消えた?\""), ["k12"]);
    assert_eq!(found("前方一致:城下"), ["k7"]);
}

#[test]
fn exact_and_prefix_modes() {
    let (_scratch, catalogue, index) = library();
    let mode = |q: &str, mode| ids(&index, &catalogue, &SearchRequest { mode, limit: 100, ..SearchRequest::new(q) });
    assert_eq!(mode("こころ", MatchMode::ExactTitle), ["k1"]);
    assert_eq!(mode("こころの処方箋", MatchMode::ExactTitle), ["k2"]);
    assert_eq!(mode("こころ", MatchMode::TitlePrefix).len(), 2);
    assert_eq!(mode("広辞苑", MatchMode::TitlePrefix).len(), 2);
    assert_eq!(mode("辞苑", MatchMode::TitlePrefix).len(), 0);
}

#[test]
fn facets_filters_and_sorts() {
    let (_scratch, _catalogue, index) = library();
    let query = "author:新村出 OR author:カフカ OR author:夢枕獏";
    let results = index.search(&SearchRequest { limit: 100, ..SearchRequest::new(query) }).unwrap();
    assert_eq!(results.total, 4);
    let literature = results.facets.ndc.iter().find(|f| f.value == "9").unwrap();
    assert_eq!((literature.label.as_str(), literature.count), ("文学", 2));
    let language = results.facets.ndc.iter().find(|f| f.value == "8").unwrap();
    assert_eq!((language.label.as_str(), language.count), ("言語", 2));
    assert_eq!(results.facets.decade.iter().map(|d| d.value.as_str()).collect::<Vec<_>>(), ["2010", "2000", "1970"]);

    let filtered = index
        .search(&SearchRequest {
            filters: Filters { ndc: Some("8".into()), ..Filters::default() },
            ..SearchRequest::new(query)
        })
        .unwrap();
    assert_eq!(filtered.total, 2);
    let filtered = index
        .search(&SearchRequest {
            filters: Filters { year_from: Some(2000), year_to: Some(2009), ..Filters::default() },
            ..SearchRequest::new(query)
        })
        .unwrap();
    assert_eq!(filtered.total, 2, "広辞苑 第6版 (2008) and 陰陽師 鉄輪 (2002)");

    let newest = index.search(&SearchRequest { sort: Sort::YearDesc, ..SearchRequest::new(query) }).unwrap();
    let years: Vec<_> = newest.hits.iter().map(|h| h.year.unwrap()).collect();
    assert_eq!(years, [2018, 2008, 2002, 1971]);
    let oldest = index.search(&SearchRequest { sort: Sort::YearAsc, ..SearchRequest::new(query) }).unwrap();
    assert_eq!(oldest.hits.iter().map(|h| h.year.unwrap()).collect::<Vec<_>>(), [1971, 2002, 2008, 2018]);

    // 五十音順 by reading.
    let by_reading = index.search(&SearchRequest { sort: Sort::TitleReading, ..SearchRequest::new(query) }).unwrap();
    let readings: Vec<_> = by_reading.hits.iter().map(|h| h.title_reading.clone()).collect();
    let mut sorted = readings.clone();
    sorted.sort();
    assert_eq!(readings, sorted);
    assert_eq!(readings.len(), 4);

    // Paging: the second page continues the first.
    let all = index.search(&SearchRequest { limit: 4, ..SearchRequest::new("図書館") }).unwrap();
    let next = index.search(&SearchRequest { limit: 4, offset: 4, ..SearchRequest::new("図書館") }).unwrap();
    assert_eq!(all.total, next.total);
    assert!(all.hits.iter().all(|h| next.hits.iter().all(|n| n.id != h.id)));
}

#[test]
fn highlights_point_at_the_matching_words() {
    let (_scratch, _catalogue, index) = library();
    let results = index.search(&SearchRequest::new("東京都立図書館の歴史")).unwrap();
    let hit = &results.hits[0];
    let marked: Vec<&str> = hit.highlights.iter().map(|(s, e)| &hit.title[*s..*e]).collect();
    assert_eq!(marked, ["東京都立図書館の歴史"]);
    let results = index.search(&SearchRequest::new("としょかん 歴史")).unwrap();
    let hit = results.hits.iter().find(|h| h.title == "東京都立図書館の歴史").unwrap();
    let marked: Vec<&str> = hit.highlights.iter().map(|(s, e)| &hit.title[*s..*e]).collect();
    assert!(marked.contains(&"歴史"), "{marked:?}");
}

#[test]
fn bad_input_is_an_error_or_a_result_never_a_panic() {
    let (_scratch, _catalogue, index) = library();
    for query in [
        "\"図書館",
        "図書館)",
        "(((城",
        "OR",
        "- 城",
        "title:",
        "：",
        "城 OR",
        "\u{0}",
        "😀",
        "𠮷野家",
        "図書館".repeat(300).as_str(),
    ] {
        match index.search(&SearchRequest::new(query)) {
            Ok(_) | Err(Error::Query(_)) => {}
            Err(other) => panic!("{query:?}: {other}"),
        }
    }
    for query in ["", "   ", "、。「」", "-城"] {
        assert!(matches!(index.search(&SearchRequest::new(query)), Err(Error::Query(_))), "{query:?}");
    }
    let long = "図書館 ".repeat(2_000);
    assert!(matches!(index.search(&SearchRequest::new(long)), Err(Error::Query(_))));
    assert!(matches!(
        index.search(&SearchRequest { limit: 1_000, ..SearchRequest::new("城") }),
        Err(Error::Request(_))
    ));
    assert!(matches!(
        index.search(&SearchRequest { offset: 1_000_000, ..SearchRequest::new("城") }),
        Err(Error::Request(_))
    ));
}

#[test]
fn changes_are_visible_after_they_are_applied_and_survive_reopening() {
    let (scratch, catalogue, index) = library();
    assert!(first(&index, &catalogue, "吾輩は猫である").is_none_or(|id| id != "n1"));
    let book =
        Book {
            id: "n1", title: "吾輩は猫である", author: Some("夏目漱石"), year: Some(1905), ..Book::default()
        };
    catalogue.upsert(vec![book.record()], "new").unwrap();
    let applied = index.apply_changes(&catalogue, 100).unwrap();
    assert_eq!((applied.changes, applied.records), (1, 1));
    assert_eq!(first(&index, &catalogue, "吾輩は猫である").as_deref(), Some("n1"));

    let bib = catalogue.find_by_control_number("SHIORI-TEST", "n1").unwrap().unwrap();
    catalogue.delete(bib).unwrap();
    index.apply_changes(&catalogue, 100).unwrap();
    assert!(!index.documents().unwrap().contains_key(&bib));
    let seq = index.applied_seq().unwrap();
    assert_eq!(seq, catalogue.last_change_seq().unwrap());
    drop(index);

    // Reopened, the index resumes from its commit and has nothing left to apply.
    let index = scratch.index();
    assert_eq!(index.applied_seq().unwrap(), seq);
    assert_eq!(index.apply_changes(&catalogue, 100).unwrap().changes, 0);
}

#[test]
fn a_rebuild_swaps_in_atomically_while_searches_keep_working() {
    let (scratch, catalogue, mut index) = library();
    let before = index.documents().unwrap();
    let report = Index::rebuild(&scratch.layout, &catalogue, analyzer(), &mut |_, _| {}).unwrap();
    assert_eq!(report.documents as usize, before.len());
    // The open index still answers from the old generation until it reopens.
    assert_eq!(first(&index, &catalogue, "こころ").as_deref(), Some("k1"));
    assert!(index.reopen_if_swapped().unwrap());
    assert_eq!(index.documents().unwrap(), before, "the rebuilt index holds the same documents");
    assert_eq!(first(&index, &catalogue, "こころ").as_deref(), Some("k1"));
    assert_eq!(index.applied_seq().unwrap(), catalogue.last_change_seq().unwrap());
}

#[test]
fn suggestions_complete_writing_and_reading() {
    let (_scratch, _catalogue, index) = library();
    let texts = |prefix: &str| index.suggest(prefix, 10).unwrap().into_iter().map(|s| s.text).collect::<Vec<_>>();
    for prefix in ["なつめ", "ナツメ", "夏目", "夏目漱"] {
        assert!(texts(prefix).contains(&"夏目漱石".to_string()), "{prefix}: {:?}", texts(prefix));
    }
    assert!(texts("こころ").contains(&"こゝろ".to_string()), "{:?}", texts("こころ"));
    assert!(texts("こうじえん").iter().any(|t| t.starts_with("広辞苑")), "{:?}", texts("こうじえん"));
    assert!(texts("zzzz").is_empty());
    assert!(texts("").is_empty());
    let kinds = index.suggest("夏目", 10).unwrap();
    assert!(kinds.iter().any(|s| s.kind == indexer::SuggestionKind::Author));
}

#[test]
fn a_search_that_finds_nothing_says_what_was_meant() {
    let (_scratch, _catalogue, index) = library();
    // Nothing as typed: near matches (鉄輪 alone), and the correction with them.
    let results = index.search(&SearchRequest::new("陰陽帥 鉄輪")).unwrap();
    assert!(results.near && results.total > 0, "{results:?}");
    assert_eq!(results.did_you_mean.as_deref(), Some("陰陽師 鉄輪"));
    let results = index.search(&SearchRequest::new("こころの処方せん")).unwrap();
    if results.total == 0 {
        assert_eq!(results.did_you_mean.as_deref(), Some("こころの処方箋"));
    }
    let found = index.search(&SearchRequest::new("鉄輪")).unwrap();
    assert!(found.total > 0 && found.did_you_mean.is_none());
}

#[test]
fn a_follower_makes_a_change_searchable_without_being_asked() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let (scratch, catalogue) = Scratch::new("follow");
    let catalogue = Arc::new(catalogue);
    let index = Arc::new(scratch.index());
    let stop = Arc::new(AtomicBool::new(false));
    let follower = indexer::follow(index.clone(), catalogue.clone(), Duration::from_millis(20), stop.clone());
    let book = Book { id: "f1", title: "銀河鉄道の夜", author: Some("宮沢賢治"), ..Book::default() };
    catalogue.upsert(vec![book.record()], "follow").unwrap();
    // Polled, not timed: the change must appear; how fast is measured by the benches.
    let deadline = Instant::now() + Duration::from_secs(30);
    while index.search(&SearchRequest::new("銀河鉄道")).unwrap().total == 0 {
        assert!(Instant::now() < deadline, "the follower never applied the change");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    follower.join().unwrap().unwrap();
    assert_eq!(index.applied_seq().unwrap(), catalogue.last_change_seq().unwrap());
}

#[test]
fn facets_count_alike_over_one_segment_and_many() {
    let (scratch, catalogue, mut index) = library();
    // Each applied batch is a commit, and so a segment of its own: values the first
    // segment has (新村出, 913.6) and values it lacks (a new author, subject and decade).
    let later = [
        Book {
            id: "s1",
            title: "広辞苑 第5版",
            author: Some("新村出"),
            year: Some(1998),
            ndc: Some("813.1"),
            subject: Some("日本語 -- 辞書"),
            ..Book::default()
        },
        Book {
            id: "s2",
            title: "辞書の歴史",
            author: Some("辞書学太郎"),
            year: Some(1850),
            ndc: Some("813"),
            subject: Some("辞書 -- 歴史"),
            ..Book::default()
        },
        Book { id: "s3", title: "歴史の辞典", author: Some("新村出"), lang: Some("eng"), ..Book::default() },
    ];
    for book in &later {
        catalogue.upsert(vec![book.record()], "later").unwrap();
        index.apply_changes(&catalogue, 100).unwrap();
    }
    let requests = [
        SearchRequest { limit: 5, ..SearchRequest::new("辞苑 OR 辞書 OR 歴史 OR 図書館") },
        SearchRequest { limit: 5, ..SearchRequest::new("author:新村出") },
        SearchRequest {
            filters: Filters { subject: Some("辞書".into()), ..Filters::default() },
            ..SearchRequest::new("歴史")
        },
        SearchRequest {
            filters: Filters { author: Some("新村出".into()), lang: Some("eng".into()), ..Filters::default() },
            ..SearchRequest::new("歴史")
        },
    ];
    let before: Vec<_> = requests.iter().map(|r| index.search(r).unwrap()).collect();
    let authors = &before[1].facets.author;
    assert_eq!(authors.iter().map(|f| (f.value.as_str(), f.count)).collect::<Vec<_>>(), [("新村出", 4)]);
    assert_eq!(before[2].total, 1, "{:?}", before[2].hits);
    assert_eq!(before[3].total, 1, "{:?}", before[3].hits);
    let wide = &before[0].facets;
    assert!(wide.decade.iter().any(|d| d.value == "1850" && d.count == 1), "{:?}", wide.decade);
    let subjects = &before[2].facets.subject;
    assert_eq!(subjects.iter().map(|f| (f.value.as_str(), f.count)).collect::<Vec<_>>(), [("辞書", 1)]);
    assert!(wide.lang.iter().any(|l| l.value == "eng" && l.count == 1), "{:?}", wide.lang);
    let counted: u64 = wide.ndc.iter().map(|n| n.count).sum();
    assert!(counted > 0 && wide.ndc.windows(2).all(|w| w[0].value < w[1].value), "{:?}", wide.ndc);
    for list in [&wide.lang, &wide.material, &wide.author, &wide.subject] {
        assert!(
            list.windows(2).all(|w| w[0].count > w[1].count || (w[0].count == w[1].count && w[0].value < w[1].value))
        );
    }

    // Rebuilt, the same documents are in one segment: the same counts.
    Index::rebuild(&scratch.layout, &catalogue, analyzer(), &mut |_, _| {}).unwrap();
    assert!(index.reopen_if_swapped().unwrap());
    for (request, before) in requests.iter().zip(&before) {
        let after = index.search(request).unwrap();
        assert_eq!(after.total, before.total, "{:?}", request.query);
        assert_eq!(after.facets, before.facets, "{:?}", request.query);
    }
}

#[test]
fn equal_scores_are_ordered_by_bib_id_so_pages_follow_on() {
    let (_scratch, catalogue, index) = library();
    let ids: Vec<String> = (0..12).map(|n| format!("t{n:02}")).collect();
    let books: Vec<Book<'_>> = ids
        .iter()
        .map(|id| Book { id, title: "同名異本の研究", author: Some("同名太郎"), ..Book::default() })
        .collect();
    catalogue.upsert(books.iter().map(Book::record).collect(), "twins").unwrap();
    index.catch_up(&catalogue).unwrap();
    // Editing some of them (the year is not searched, so their scores stay equal) moves
    // their documents to a newer segment, after the others in tantivy's own order.
    let edited: Vec<Record> =
        books.iter().step_by(3).map(|b| Book { year: Some(2020), ..b.clone() }.record()).collect();
    catalogue.upsert(edited, "edit").unwrap();
    index.catch_up(&catalogue).unwrap();

    let all = index.search(&SearchRequest { limit: 100, ..SearchRequest::new("同名異本の研究") }).unwrap();
    assert_eq!(all.total, 12);
    assert!(all.hits.windows(2).all(|w| w[0].score == w[1].score), "the twins score alike");
    let order: Vec<u64> = all.hits.iter().map(|h| h.id).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "equal scores in bib id order");
    let mut paged = Vec::new();
    for page in 0..4 {
        let request = SearchRequest { limit: 3, offset: page * 3, ..SearchRequest::new("同名異本の研究") };
        paged.extend(index.search(&request).unwrap().hits.into_iter().map(|h| h.id));
    }
    assert_eq!(paged, order, "pages of 3 are the list of 12 cut in four");

    // Sorted by year, records of the same year are in bib id order too.
    let by_year = index
        .search(&SearchRequest { limit: 100, sort: Sort::YearDesc, ..SearchRequest::new("同名異本の研究") })
        .unwrap();
    let (dated, undated): (Vec<_>, Vec<_>) = by_year.hits.iter().partition(|h| h.year.is_some());
    assert_eq!((dated.len(), undated.len()), (4, 8));
    assert!(by_year.hits.iter().take(4).all(|h| h.year == Some(2020)), "undated records come last");
    for group in [dated, undated] {
        assert!(group.windows(2).all(|w| w[0].id < w[1].id));
    }
}

#[test]
fn an_index_of_another_format_is_refused_not_misread() {
    let (scratch, _catalogue, index) = library();
    drop(index);
    // The commit payload of indexes written before the format marker: a seq alone.
    let root = scratch.layout.index_dir(&scratch.code);
    let generation = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    let old = tantivy::Index::open_in_dir(root.join(generation.trim())).unwrap();
    indexer::register_japanese_tokenizers(old.tokenizers(), analyzer());
    let mut writer: tantivy::IndexWriter = old.writer_with_num_threads(1, 15_000_000).unwrap();
    let mut commit = writer.prepare_commit().unwrap();
    commit.set_payload(r#"{"seq":3}"#);
    commit.commit().unwrap();
    assert!(matches!(Index::open(&scratch.layout, &scratch.code, analyzer()), Err(Error::SchemaChanged(_))));
    // Format 2 had no holding-branch and availability facets (issue #4): rebuilt too.
    let mut commit = writer.prepare_commit().unwrap();
    commit.set_payload(r#"{"seq":3,"format":2}"#);
    commit.commit().unwrap();
    drop(writer);
    assert!(matches!(Index::open(&scratch.layout, &scratch.code, analyzer()), Err(Error::SchemaChanged(_))));
}

#[test]
fn kana_finds_words_by_their_reading_and_kanji_by_their_writing() {
    let (_scratch, catalogue, index) = library();
    let books = [
        Book { id: "h1", title: "公開講座の記録", author: Some("講座太郎"), ..Book::default() },
        Book { id: "h2", title: "航海日誌", author: Some("船乗花子"), ..Book::default() },
    ];
    catalogue.upsert(books.iter().map(Book::record).collect(), "homophones").unwrap();
    index.catch_up(&catalogue).unwrap();
    let found = |q: &str| {
        let mut found = ids(&index, &catalogue, &SearchRequest { limit: 100, ..SearchRequest::new(q) });
        found.retain(|id| id.starts_with('h'));
        found.sort();
        found
    };
    // こうかい is both; 公開 is only the one written so, not its homophone 航海.
    assert_eq!(found("こうかい"), ["h1", "h2"]);
    assert_eq!(found("コウカイ"), ["h1", "h2"]);
    assert_eq!(found("公開"), ["h1"]);
    assert_eq!(found("航海"), ["h2"]);
}

#[test]
fn highlights_mark_whole_latin_words_and_japanese_anywhere() {
    let (_scratch, catalogue, index) = library();
    let book = Book { id: "w1", title: "History of the historians", lang: Some("eng"), ..Book::default() };
    catalogue.upsert(vec![book.record()], "highlights").unwrap();
    index.catch_up(&catalogue).unwrap();
    let marked = |query: &str, title: &str| {
        let results = index.search(&SearchRequest { limit: 100, ..SearchRequest::new(query) }).unwrap();
        let hit = results.hits.iter().find(|h| h.title == title).unwrap();
        hit.highlights.iter().map(|(s, e)| hit.title[*s..*e].to_string()).collect::<Vec<_>>()
    };
    assert_eq!(marked("history", "History of the historians"), ["History"]);
    assert_eq!(marked("it", "IT革命の真実"), ["IT"]);
    assert_eq!(marked("革命", "IT革命の真実"), ["革命"]);
    assert_eq!(marked("城", "城下町の歴史"), ["城"]);
}
