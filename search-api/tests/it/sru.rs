//! SRU: CQL translated to the indexer's query tree, requests read from query strings, and
//! responses parsed back with quick-xml and, where xmllint is installed (scripts/test.sh
//! installs libxml2-utils), checked by libxml2: well-formed, and the records valid against
//! MARC21slim.xsd and oai_dc.xsd from ../shared/schemas.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use indexer::{QueryNode, ScanIndex, SearchField, Sort};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use search_api::{
    RecordPacking, RecordSchema, SRU_CONTENT_TYPE, SRU_DEFAULT_TERMS, SRU_MAX_TERMS, SearchRetrieveRequest,
    SruDiagnostic, SruError, SruQueryType, SruRequest, SruServer, SruVersion, parse_cql,
};

const JAPAN_MARC: &str = "../../shared/fixtures/japanese/enju-jpmarc/jpmarc_marc21_enju.dat";
const LC_JAPANESE: &str = "../../shared/fixtures/japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc";
const SCHEMAS: &str = "../../shared/schemas";

const SRU_2: &str = "http://docs.oasis-open.org/ns/search-ws/sruResponse";
const SRU_1: &str = "http://www.loc.gov/zing/srw/";
const DIAG_2: &str = "http://docs.oasis-open.org/ns/search-ws/diagnostic";
const DIAG_1: &str = "http://www.loc.gov/zing/srw/diagnostic/";
const MARC: &str = "http://www.loc.gov/MARC21/slim";
const OAI_DC: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const ZEEREX: &str = "http://explain.z3950.org/dtd/2.0/";

// ---------------------------------------------------------------------------------------
// CQL -> QueryNode

fn t(text: &str) -> QueryNode {
    QueryNode::Term { field: None, text: text.to_owned() }
}

fn ft(field: SearchField, text: &str) -> QueryNode {
    QueryNode::Term { field: Some(field), text: text.to_owned() }
}

fn phrase(field: Option<SearchField>, text: &str) -> QueryNode {
    QueryNode::Phrase { field, text: text.to_owned() }
}

fn years(from: Option<i32>, to: Option<i32>) -> QueryNode {
    QueryNode::YearRange { from, to }
}

fn not(node: QueryNode) -> QueryNode {
    QueryNode::Not(Box::new(node))
}

fn and(nodes: Vec<QueryNode>) -> QueryNode {
    QueryNode::And(nodes)
}

fn or(nodes: Vec<QueryNode>) -> QueryNode {
    QueryNode::Or(nodes)
}

/// `cql.allRecords`.
fn all() -> QueryNode {
    QueryNode::And(Vec::new())
}

fn cql_cases() -> Vec<(&'static str, QueryNode)> {
    use SearchField::*;
    vec![
        // Bare terms search every field; `=` on several words means all of them.
        ("図書館", t("図書館")),
        ("\"図書館 情報学\"", and(vec![t("図書館"), t("情報学")])),
        ("\"図書館\u{3000}情報学\"", and(vec![t("図書館"), t("情報学")])),
        ("\"!!! 猫 ・\"", t("猫")),
        ("and", t("and")),
        ("猫 and and", and(vec![t("猫"), t("and")])),
        ("\"or\"", t("or")),
        ("cql.serverChoice = 猫", t("猫")),
        ("cql.anywhere all \"猫 犬\"", and(vec![t("猫"), t("犬")])),
        ("CQL.SERVERCHOICE any \"猫 犬\"", or(vec![t("猫"), t("犬")])),
        // Indexes, their aliases and case.
        ("dc.title = 源氏物語", ft(Title, "源氏物語")),
        ("DC.Title = 源氏物語", ft(Title, "源氏物語")),
        ("title=源氏物語", ft(Title, "源氏物語")),
        ("書名 = こころ", ft(Title, "こころ")),
        ("bath.title = こころ", ft(Title, "こころ")),
        ("dc.creator = 夏目漱石", ft(Author, "夏目漱石")),
        ("dc.contributor = 夏目", ft(Author, "夏目")),
        ("author = \"夏目 漱石\"", and(vec![ft(Author, "夏目"), ft(Author, "漱石")])),
        ("著者 = 漱石", ft(Author, "漱石")),
        ("dc.subject any \"猫 犬\"", or(vec![ft(Subject, "猫"), ft(Subject, "犬")])),
        ("dc.publisher = 岩波書店", ft(Publisher, "岩波書店")),
        ("bath.isbn = 978-4-00-080131-4", ft(Isbn, "978-4-00-080131-4")),
        ("isbn = 4000801317", ft(Isbn, "4000801317")),
        ("dc.identifier = 9784794970756", ft(Isbn, "9784794970756")),
        ("dc.identifier = \"URN:ISBN:9784794970756\"", ft(Isbn, "9784794970756")),
        ("dc.identifier = 9784000801314", ft(Id, "9784000801314")),
        ("dc.identifier = JP12345", ft(Id, "JP12345")),
        ("rec.id = 029455884", ft(Id, "029455884")),
        ("dc.language = jpn", ft(Lang, "jpn")),
        ("ndc = 913.6", ft(Ndc, "913.6")),
        ("ndc = 91*", ft(Ndc, "91")),
        // Relations.
        ("dc.title all \"吾輩 猫\"", and(vec![ft(Title, "吾輩"), ft(Title, "猫")])),
        ("dc.title adj \"吾輩は 猫である\"", phrase(Some(Title), "吾輩は 猫である")),
        ("dc.title == 吾輩は猫である", QueryNode::ExactTitle("吾輩は猫である".into())),
        ("dc.title exact \"吾輩は猫である\"", QueryNode::ExactTitle("吾輩は猫である".into())),
        ("dc.title cql.exact \"吾輩は猫である\"", QueryNode::ExactTitle("吾輩は猫である".into())),
        ("dc.creator == \"夏目 漱石\"", phrase(Some(Author), "夏目 漱石")),
        ("dc.title scr 猫", ft(Title, "猫")),
        ("dc.title ALL 猫", ft(Title, "猫")),
        // Relation modifiers accepted and ignored.
        ("dc.title =/ignoreCase 猫", ft(Title, "猫")),
        ("dc.title =/cql.ignoreCase/ignoreAccents/locale=ja 猫", ft(Title, "猫")),
        ("dc.title all/relevant/word \"猫 犬\"", and(vec![ft(Title, "猫"), ft(Title, "犬")])),
        // Masking and escapes.
        ("dc.title = \"吾輩*\"", QueryNode::TitlePrefix("吾輩".into())),
        ("dc.title == \"The Tale of*\"", QueryNode::TitlePrefix("The Tale of".into())),
        ("dc.title = 吾輩\\*", ft(Title, "吾輩*")),
        ("dc.title =/unmasked \"a*b?\"", ft(Title, "a*b?")),
        ("dc.title adj \"say \\\"hi\\\"\"", phrase(Some(Title), "say \"hi\"")),
        ("dc.title = \\^猫", ft(Title, "^猫")),
        // Years.
        ("dc.date = 1995", years(Some(1995), Some(1995))),
        ("dc.date = 1990-2000", years(Some(1990), Some(2000))),
        ("dc.date = \"1990-\"", years(Some(1990), None)),
        ("dc.date < 2000", years(None, Some(1999))),
        ("dc.date <= 2000", years(None, Some(2000))),
        ("dc.date > 2000", years(Some(2001), None)),
        ("dc.date >= 2000", years(Some(2000), None)),
        ("dc.date within \"1990 2000\"", years(Some(1990), Some(2000))),
        ("year = 2001-05-03", years(Some(2001), Some(2001))),
        ("出版年 = １９９５年", years(Some(1995), Some(1995))),
        ("dc.date any \"1990 1995\"", or(vec![years(Some(1990), Some(1990)), years(Some(1995), Some(1995))])),
        // Booleans: any case, equal precedence, left-associative.
        ("猫 and 犬", and(vec![t("猫"), t("犬")])),
        ("猫\u{3000}AND\u{3000}犬", and(vec![t("猫"), t("犬")])),
        ("猫 AND 犬 Or 鳥", or(vec![and(vec![t("猫"), t("犬")]), t("鳥")])),
        ("猫 or 犬 and 鳥", and(vec![or(vec![t("猫"), t("犬")]), t("鳥")])),
        ("猫 not 犬", and(vec![t("猫"), not(t("犬"))])),
        ("猫 NOT 犬 not 鳥", and(vec![t("猫"), not(t("犬")), not(t("鳥"))])),
        ("猫 not (犬 or 鳥)", and(vec![t("猫"), not(or(vec![t("犬"), t("鳥")]))])),
        ("猫 and (犬 or 鳥)", and(vec![t("猫"), or(vec![t("犬"), t("鳥")])])),
        ("((猫))", t("猫")),
        ("(猫 and 犬) and 鳥", and(vec![t("猫"), t("犬"), t("鳥")])),
        ("猫 or (犬 or 鳥)", or(vec![t("猫"), t("犬"), t("鳥")])),
        ("dc.title = 猫 and dc.date >= 2000", and(vec![ft(Title, "猫"), years(Some(2000), None)])),
        // All records.
        ("cql.allRecords = 1", all()),
        ("cql.allRecords = \"\"", all()),
        ("cql.allRecords = 1 not dc.title = 猫", and(vec![not(ft(Title, "猫"))])),
        ("cql.allRecords = 1 and dc.title = 猫", ft(Title, "猫")),
        ("dc.title = 猫 or cql.allRecords = 1", all()),
        // Prefix assignments.
        (">dc=\"info:srw/cql-context-set/1/dc-v1.1\" dc.title = 猫", ft(Title, "猫")),
        (">x=\"info:srw/cql-context-set/1/dc-v1.1\" x.title = 猫", ft(Title, "猫")),
        (">\"info:srw/cql-context-set/1/dc-v1.1\" title = 猫", ft(Title, "猫")),
        ("(>x=\"http://purl.org/dc/elements/1.1/\" x.creator = 漱石)", ft(Author, "漱石")),
    ]
}

#[test]
fn cql_translates_to_query_nodes() {
    let mut failures = Vec::new();
    for (input, expected) in cql_cases() {
        match parse_cql(input) {
            Ok(query) if query.node == expected && query.sort.is_none() => {}
            got => failures.push(format!("{input:?}\n  expected {expected:?}\n  got      {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sortby_chooses_the_order() {
    let cases = [
        ("猫 sortby dc.date", Sort::YearAsc),
        ("猫 sortby dc.date/sort.descending", Sort::YearDesc),
        ("猫 SORTBY year/descending", Sort::YearDesc),
        ("猫 sortby dc.date/sort.ascending/sort.ignoreCase", Sort::YearAsc),
        ("猫 and 犬 sortby dc.title", Sort::TitleReading),
    ];
    for (input, sort) in cases {
        let query = parse_cql(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(query.sort, Some(sort), "{input:?}");
    }
}

fn cql_error_cases() -> Vec<(String, u16)> {
    let mut cases: Vec<(String, u16)> = [
        ("", 10),
        ("   ", 10),
        ("(", 10),
        ("(猫 and 犬", 13),
        ("猫 and 犬)", 13),
        (")", 13),
        ("(猫 sortby dc.date)", 13),
        ("dc.nope = 猫", 16),
        ("bath.issn = 1234-5678", 16),
        ("foo.title = 猫", 15),
        (">x=\"http://example.org/set\" x.title = 猫", 15),
        ("猫 prox 犬", 39),
        ("猫 PROX/distance=1 犬", 39),
        ("猫 and/rel.combine=sum 犬", 46),
        ("dc.title encloses 猫", 19),
        ("dc.title <> 猫", 19),
        ("dc.title =/fuzzy 猫", 20),
        ("dc.title =/respectCase 猫", 20),
        ("dc.title =/ignoreCase=1 猫", 20),
        ("dc.title = \"\"", 27),
        ("\"\"", 27),
        ("dc.title = \"!!!\"", 27),
        ("dc.title < 猫", 22),
        ("dc.title within \"a b\"", 22),
        ("dc.date = 猫", 36),
        ("dc.date = 2000-1990", 36),
        ("dc.date within \"1 2 3\"", 36),
        ("dc.date < 2000-2010", 36),
        ("猫*", 28),
        ("dc.title = 吾*輩", 28),
        ("dc.title = 猫?", 28),
        ("dc.creator = 夏目*", 28),
        ("dc.title = ^猫", 31),
        ("\"猫", 14),
        ("dc.title = \"猫", 14),
        ("猫 \"犬\\\"", 14),
        ("猫 犬", 10),
        ("dc.title =", 10),
        ("dc.title = 猫 犬", 10),
        ("= 猫", 10),
        ("猫 and", 10),
        ("/ 猫", 10),
        ("猫 sortby", 10),
        ("猫 sortby dc.creator", 88),
        ("猫 sortby dc.date dc.title", 84),
        ("猫 sortby dc.title/sort.descending", 90),
        ("猫 sortby dc.date/sort.foo", 80),
    ]
    .into_iter()
    .map(|(input, code)| (input.to_owned(), code))
    .collect();
    // Length, depth and size limits.
    let ten_thousand: String = "dc.title = \"猫\" and (".chars().cycle().take(10_000).collect();
    cases.push((ten_thousand, 12));
    cases.push(("a".repeat(2_001), 12));
    cases.push((format!("{}猫{}", "(".repeat(17), ")".repeat(17)), 13));
    cases.push((format!("{}猫", "(".repeat(1_000)), 13));
    cases.push((vec!["猫"; 65].join(" and "), 38));
    let words: Vec<String> = (0..65).map(|i| format!("w{i}")).collect();
    cases.push((format!("dc.title all \"{}\"", words.join(" ")), 38));
    cases
}

#[test]
fn bad_cql_gives_the_standard_diagnostics() {
    let mut failures = Vec::new();
    for (input, code) in cql_error_cases() {
        match parse_cql(&input) {
            Err(d) if d.code == code => {
                // Messages are for people: lower case, no trailing period, never empty.
                if d.message.is_empty()
                    || d.message.ends_with('.')
                    || d.uri() != format!("info:srw/diagnostic/1/{code}")
                {
                    failures.push(format!("{:?}: bad diagnostic {d:?}", short(&input)));
                }
            }
            got => failures.push(format!("{:?}\n  expected diagnostic {code}\n  got {got:?}", short(&input))),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}

#[test]
fn limits_are_inclusive() {
    assert_eq!(parse_cql(&format!("{}猫{}", "(".repeat(16), ")".repeat(16))).unwrap().node, t("猫"));
    let node = parse_cql(&vec!["猫"; 64].join(" and ")).unwrap().node;
    assert!(matches!(node, QueryNode::And(children) if children.len() == 64));
    let words: Vec<String> = (0..64).map(|i| format!("w{i}")).collect();
    assert!(parse_cql(&format!("dc.title all \"{}\"", words.join(" "))).is_ok());
    assert!(parse_cql(&"猫".repeat(2_000)).is_ok());
    let d = parse_cql(&"猫".repeat(2_001)).unwrap_err();
    assert_eq!(d.details.as_deref(), Some("2000"));
}

#[test]
fn syntax_errors_say_where() {
    let d = parse_cql("dc.title = 猫 犬").unwrap_err();
    assert_eq!(d.details.as_deref(), Some("13"));
    assert!(d.message.contains("character 13"), "{d}");
    let d = parse_cql("(猫 and 犬").unwrap_err();
    assert_eq!((d.code, d.details.as_deref()), (13, Some("0")));
    let d = parse_cql("dc.nope = 猫").unwrap_err();
    assert_eq!(d.details.as_deref(), Some("dc.nope"));
    let d = parse_cql("猫 prox 犬").unwrap_err();
    assert_eq!(d.details.as_deref(), Some("prox"));
}

// ---------------------------------------------------------------------------------------
// Fuzzing: any input gives a query satisfying the indexer's invariants, or a diagnostic.

/// xorshift64*: a small deterministic generator, so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn char(&mut self) -> char {
        loop {
            let c = match self.below(4) {
                0 => self.below(0x80) as u32,
                1 => 0x3000 + self.below(0x100) as u32,
                2 => 0x4E00 + self.below(0x5000) as u32,
                _ => self.below(0x11_0000) as u32,
            };
            if let Some(c) = char::from_u32(c) {
                return c;
            }
        }
    }
}

const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "\"",
    "\\",
    "/",
    "=",
    "==",
    "<",
    ">",
    "<=",
    ">=",
    "<>",
    " ",
    " ",
    " ",
    "\u{3000}",
    "and",
    "or",
    "not",
    "prox",
    "sortby",
    "AND",
    "Or",
    "dc.title",
    "dc.date",
    "dc.creator",
    "cql.allRecords",
    "title",
    "rec.id",
    "dc.identifier",
    "foo.bar",
    "any",
    "all",
    "adj",
    "exact",
    "within",
    "encloses",
    "*",
    "?",
    "^",
    "ignoreCase",
    "unmasked",
    "locale",
    "1999",
    "2000-1990",
    "1990-",
    "図書館",
    "猫",
    "x",
    "sort.descending",
    ">dc=",
    "\"info:srw/cql-context-set/1/dc-v1.1\"",
    "=/",
    "ｘ",
    "\u{0}",
    "!!!",
    "URN:ISBN:9784000801314",
];

/// Checks the invariants of `QueryNode` that the indexer relies on, with the two shapes
/// CQL adds: `And([])` for all records, and an `And` of exclusions only (all but …).
fn check_tree(node: &QueryNode, parent_is_and: bool) -> Result<usize, String> {
    let searchable = |text: &str| !text.is_empty() && text.trim() == text && text.chars().any(char::is_alphanumeric);
    match node {
        QueryNode::Term { text, .. }
        | QueryNode::Phrase { text, .. }
        | QueryNode::ExactTitle(text)
        | QueryNode::TitlePrefix(text) => {
            if searchable(text) {
                Ok(1)
            } else {
                Err(format!("bad text {text:?}"))
            }
        }
        QueryNode::YearRange { from, to } => match (from, to) {
            (None, None) => Err("unbounded year range".to_owned()),
            (Some(from), Some(to)) if from > to => Err("backwards year range".to_owned()),
            _ => Ok(1),
        },
        QueryNode::Not(inner) => {
            if !parent_is_and {
                return Err("Not outside And".to_owned());
            }
            if matches!(**inner, QueryNode::Not(_)) {
                return Err("double Not".to_owned());
            }
            check_tree(inner, false)
        }
        QueryNode::And(children) => {
            if children.len() == 1 && !matches!(children[0], QueryNode::Not(_)) {
                return Err(format!("And of one {children:?}"));
            }
            if children.iter().any(|c| matches!(c, QueryNode::And(_))) {
                return Err(format!("And in And {children:?}"));
            }
            children.iter().map(|c| check_tree(c, true)).sum()
        }
        QueryNode::Or(children) => {
            if children.len() < 2 || children.iter().any(|c| matches!(c, QueryNode::Or(_))) {
                return Err(format!("bad Or {children:?}"));
            }
            children.iter().map(|c| check_tree(c, false)).sum()
        }
    }
}

fn check_cql(input: &str) {
    match parse_cql(input) {
        Ok(query) => {
            assert!(!matches!(query.node, QueryNode::Not(_)), "{input:?}: bare Not");
            match check_tree(&query.node, false) {
                Ok(leaves) => assert!(leaves <= 64, "{input:?}: {leaves} leaves"),
                Err(e) => panic!("{input:?}: {e} in {:?}", query.node),
            }
        }
        Err(d) => {
            assert!(!d.message.is_empty() && !d.message.ends_with('.'), "{input:?}: {d:?}");
            assert!((1..=100).contains(&d.code), "{input:?}: {d:?}");
        }
    }
}

#[test]
fn random_strings_never_panic() {
    let mut rng = Rng(0x5EED_0001);
    for _ in 0..20_000 {
        let len = rng.below(60);
        let input: String = (0..len).map(|_| rng.char()).collect();
        check_cql(&input);
    }
}

#[test]
fn random_token_soups_never_panic() {
    let mut rng = Rng(0x5EED_0002);
    for _ in 0..20_000 {
        let len = rng.below(40);
        let mut input = String::new();
        for _ in 0..len {
            if rng.below(8) == 0 {
                input.push(rng.char());
            } else {
                input.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
        }
        check_cql(&input);
    }
}

#[test]
fn worst_case_inputs_of_the_maximum_length_are_answered() {
    let inputs = [
        "(".repeat(2_000),
        ")".repeat(2_000),
        "\"".repeat(2_000),
        "\\".repeat(2_000),
        "/".repeat(2_000),
        "=".repeat(2_000),
        "a and ".repeat(333),
        "a/".repeat(1_000),
        ">a=b ".repeat(400),
        "a = ".repeat(500),
        format!("a sortby {}", "b/c ".repeat(400)),
        "猫 ".repeat(1_000),
    ];
    for input in &inputs {
        check_cql(input);
    }
}

// ---------------------------------------------------------------------------------------
// Requests

fn pairs(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn request(params: &[(&str, &str)]) -> Result<SruRequest, SruError> {
    SruRequest::from_query(&pairs(params))
}

fn search(params: &[(&str, &str)]) -> SearchRetrieveRequest {
    match request(params) {
        Ok(SruRequest::SearchRetrieve(search)) => search,
        other => panic!("{params:?}: {other:?}"),
    }
}

/// The version, code and details of a refused request.
type Refusal = (SruVersion, u16, Option<String>);

fn refused(params: &[(&str, &str)]) -> Refusal {
    match request(params) {
        Err(e) => (e.version, e.diagnostic.code, e.diagnostic.details),
        other => panic!("{params:?}: {other:?}"),
    }
}

#[test]
fn requests_default_to_sru_2_0() {
    let s = search(&[("query", "dc.title = 猫")]);
    assert_eq!(s.version, SruVersion::V2_0);
    assert_eq!((s.start_record, s.maximum_records), (1, 10));
    assert_eq!((s.record_schema, s.record_packing), (RecordSchema::MarcXml, RecordPacking::Xml));
    assert_eq!(s.query_type, SruQueryType::Cql);
    assert_eq!(s.node, ft(SearchField::Title, "猫"));
    assert_eq!(s.sort, Sort::Relevance);
    // Without a query, 2.0 is explain; so is an empty request.
    for params in [&[][..], &[("version", "2.0")][..], &[("version", "1.2")][..], &[("x-debug", "1")][..]] {
        match request(params) {
            Ok(SruRequest::Explain(e)) => assert_eq!(e.record_packing, RecordPacking::Xml),
            other => panic!("{params:?}: {other:?}"),
        }
    }
    match request(&[("version", "1.2"), ("operation", "explain"), ("recordPacking", "string")]) {
        Ok(SruRequest::Explain(e)) => {
            assert_eq!((e.version, e.record_packing), (SruVersion::V1_2, RecordPacking::String))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_parameters_are_read() {
    let s = search(&[
        ("version", "1.2"),
        ("operation", "searchRetrieve"),
        ("query", "dc.creator = 漱石 sortby dc.date/sort.descending"),
        ("startRecord", "11"),
        ("maximumRecords", "500"),
        ("recordSchema", "info:srw/schema/1/dc-v1.1"),
        ("recordPacking", "string"),
        ("stylesheet", "/sru.xsl"),
        ("x-shiori-trace", "1"),
    ]);
    assert_eq!(s.version, SruVersion::V1_2);
    assert_eq!((s.start_record, s.maximum_records), (11, 100));
    assert_eq!((s.record_schema, s.record_packing), (RecordSchema::Dc, RecordPacking::String));
    assert_eq!(s.sort, Sort::YearDesc);
    let r = s.search_request();
    assert_eq!((r.offset, r.limit, r.sort, r.facets), (10, 100, Sort::YearDesc, false));
    assert_eq!(r.parsed, Some(ft(SearchField::Author, "漱石")));
    assert_eq!(r.query, "漱石");

    let s =
        search(&[("query", "猫"), ("recordSchema", "DC"), ("recordXMLEscaping", "string"), ("maximumRecords", "0")]);
    assert_eq!((s.record_schema, s.record_packing, s.maximum_records), (RecordSchema::Dc, RecordPacking::String, 0));
    let s = search(&[("query", "猫"), ("recordSchema", "marcxml"), ("recordPacking", "packed")]);
    assert_eq!(s.record_packing, RecordPacking::Xml);
    let s = search(&[("version", "1.1"), ("operation", "searchRetrieve"), ("query", "猫"), ("sortKeys", "dc.date,,0")]);
    assert_eq!((s.version, s.sort), (SruVersion::V1_1, Sort::YearDesc));
    let s = search(&[("query", "夏目漱石 こころ"), ("queryType", "searchTerms")]);
    assert_eq!(s.query_type, SruQueryType::SearchTerms);
    assert_eq!(s.node, and(vec![t("夏目漱石"), t("こころ")]));
    assert_eq!(s.search_request().query, "夏目漱石 こころ");
    // Blank optional parameters count as not given (HTML forms send empty fields).
    let s = search(&[("query", "猫"), ("startRecord", ""), ("recordSchema", " ")]);
    assert_eq!((s.start_record, s.record_schema), (1, RecordSchema::MarcXml));
}

#[test]
fn scan_requests_name_an_index_a_start_and_a_window() {
    let scan = |params: &[(&str, &str)]| match request(params) {
        Ok(SruRequest::Scan(scan)) => scan,
        other => panic!("{params:?}: {other:?}"),
    };
    // What yaz-client sends with `sru get 1.2` and `scan dc.title=源氏`.
    let s = scan(&[
        ("version", "1.2"),
        ("operation", "scan"),
        ("scanClause", "dc.title=源氏"),
        ("responsePosition", "1"),
        ("maximumTerms", "20"),
    ]);
    assert_eq!((s.version, s.index, s.term.as_str()), (SruVersion::V1_2, ScanIndex::Title, "源氏"));
    assert_eq!((s.before(), s.after(), s.includes_start()), (0, 20, true));
    // SRU 2.0: the operation is implied by scanClause; defaults 1 and 20.
    let s = scan(&[("scanClause", "dc.creator = \"夏目 漱石*\"")]);
    assert_eq!((s.version, s.index, s.term.as_str()), (SruVersion::V2_0, ScanIndex::Author, "夏目 漱石"));
    assert_eq!((s.response_position, s.maximum_terms), (1, SRU_DEFAULT_TERMS));
    // A bare term is cql.serverChoice, which browses titles; 著者 is a name index.
    assert_eq!(scan(&[("scanClause", "こころ")]).index, ScanIndex::Title);
    assert_eq!(scan(&[("scanClause", "著者 exact なつめ")]).index, ScanIndex::Author);
    // The window around the start: responsePosition 0 starts after it, maximumTerms + 1
    // ends before it, maximumTerms is lowered to the bound.
    let s = scan(&[("scanClause", "dc.title=\"\""), ("responsePosition", "0"), ("maximumTerms", "5")]);
    assert_eq!((s.term.as_str(), s.before(), s.after(), s.includes_start()), ("", 0, 5, false));
    let s = scan(&[("scanClause", "dc.title=い"), ("responsePosition", "6"), ("maximumTerms", "5")]);
    assert_eq!((s.before(), s.after()), (5, 0));
    let s = scan(&[("scanClause", "dc.title=い"), ("responsePosition", "3"), ("maximumTerms", "100000")]);
    assert_eq!((s.maximum_terms, s.before(), s.after()), (SRU_MAX_TERMS, 2, SRU_MAX_TERMS - 2));
}

#[test]
fn several_sort_keys_are_refused_with_diagnostic_84_never_ignored() {
    // The index sorts by one key (year or title reading) and then by record id, so a second
    // key cannot be honoured: diagnostic 84 (too many sort keys, details: the most, 1).
    let cql = parse_cql("猫 sortBy dc.date/sort.descending dc.title").unwrap_err();
    assert_eq!((cql.code, cql.details.as_deref()), (84, Some("1")));
    assert!(cql.message.contains("one sort key"), "{}", cql.message);
    let keys = refused(&[
        ("version", "1.1"),
        ("operation", "searchRetrieve"),
        ("query", "猫"),
        ("sortKeys", "dc.date,,0 dc.title,,1"),
    ]);
    assert_eq!(keys, (SruVersion::V1_1, 84, Some("1".to_owned())));
    // One key of either form works.
    assert_eq!(parse_cql("猫 sortBy dc.date/sort.descending").unwrap().sort, Some(Sort::YearDesc));
}

#[test]
fn bad_requests_give_the_standard_diagnostics() {
    use SruVersion::*;
    let s = |v: &str| Some(v.to_owned());
    let cases: Vec<(&[(&str, &str)], Refusal)> = vec![
        (&[("version", "3.0")], (V2_0, 5, s("2.0"))),
        (&[("version", "1.0"), ("operation", "explain")], (V1_2, 5, s("2.0"))),
        (&[("version", "1.2"), ("query", "猫")], (V1_2, 7, s("operation"))),
        (&[("version", "1.2"), ("operation", "searchRetrieve")], (V1_2, 7, s("query"))),
        (&[("operation", "searchRetrieve"), ("query", "  ")], (V2_0, 7, s("query"))),
        (&[("operation", "scan")], (V2_0, 7, s("scanClause"))),
        (&[("version", "1.2"), ("operation", "scan"), ("scanClause", " ")], (V1_2, 7, s("scanClause"))),
        (&[("scanClause", "dc.date=2000")], (V2_0, 16, s("dc.date"))),
        (&[("scanClause", "dc.nope=猫")], (V2_0, 16, s("dc.nope"))),
        (&[("scanClause", "dc.title < 猫")], (V2_0, 19, s("<"))),
        (&[("scanClause", "dc.title=猫 and 犬")], (V2_0, 10, s("0"))),
        (&[("scanClause", "dc.title=(猫")], (V2_0, 10, s("9"))),
        (&[("scanClause", "dc.title=猫"), ("maximumTerms", "0")], (V2_0, 6, s("maximumTerms"))),
        (&[("scanClause", "dc.title=猫"), ("responsePosition", "-1")], (V2_0, 6, s("responsePosition"))),
        (&[("scanClause", "dc.title=猫"), ("responsePosition", "22")], (V2_0, 120, s("22"))),
        (&[("version", "1.1"), ("operation", "scan"), ("scanClause", "dc.title =/nope 猫")], (V1_1, 20, s("nope"))),
        (&[("operation", "update")], (V2_0, 4, s("update"))),
        (&[("query", "猫"), ("q", "猫")], (V2_0, 8, s("q"))),
        (&[("query", "猫"), ("Query", "猫")], (V2_0, 8, s("Query"))),
        (&[("query", "猫"), ("query", "犬")], (V2_0, 6, s("query"))),
        (&[("query", "猫"), ("startRecord", "0")], (V2_0, 6, s("startRecord"))),
        (&[("query", "猫"), ("startRecord", "-1")], (V2_0, 6, s("startRecord"))),
        (&[("query", "猫"), ("startRecord", "99999999999999999999999")], (V2_0, 6, s("startRecord"))),
        (&[("query", "猫"), ("startRecord", "10002")], (V2_0, 61, s("startRecord"))),
        (&[("query", "猫"), ("maximumRecords", "ten")], (V2_0, 6, s("maximumRecords"))),
        (&[("query", "猫"), ("recordSchema", "mods")], (V2_0, 66, s("mods"))),
        (&[("query", "猫"), ("recordXMLEscaping", "json")], (V2_0, 71, s("json"))),
        (
            &[("version", "1.2"), ("operation", "searchRetrieve"), ("query", "猫"), ("recordPacking", "packed")],
            (V1_2, 71, s("packed")),
        ),
        (&[("query", "猫"), ("recordPacking", "unpacked")], (V2_0, 6, s("recordPacking"))),
        (&[("query", "猫"), ("queryType", "pqf")], (V2_0, 6, s("queryType"))),
        (&[("query", "猫"), ("recordXPath", "/a")], (V2_0, 72, s("recordXPath"))),
        (&[("query", "猫"), ("sortKeys", "dc.creator")], (V2_0, 88, s("dc.creator"))),
        (&[("query", "dc.nope = 猫")], (V2_0, 16, s("dc.nope"))),
        (&[("version", "1.1"), ("operation", "searchRetrieve"), ("query", "猫 prox 犬")], (V1_1, 39, s("prox"))),
        (&[("query", "-"), ("queryType", "searchTerms")], (V2_0, 10, s("0"))),
    ];
    let mut failures = Vec::new();
    for (params, expected) in cases {
        let got = refused(params);
        if got != expected {
            failures.push(format!("{params:?}\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn random_parameters_never_panic_and_render_well_formed_xml() {
    let names = [
        "operation",
        "version",
        "query",
        "queryType",
        "startRecord",
        "maximumRecords",
        "recordPacking",
        "recordXMLEscaping",
        "recordSchema",
        "sortKeys",
        "stylesheet",
        "scanClause",
        "maximumTerms",
        "responsePosition",
        "x-a",
        "bogus",
    ];
    let values = [
        "",
        "1",
        "0",
        "2.0",
        "1.2",
        "1.1",
        "searchRetrieve",
        "explain",
        "scan",
        "dc.title=源氏",
        "xml",
        "string",
        "dc",
        "marcxml",
        "cql",
        "searchTerms",
        "猫 and 犬",
        "dc.date >= 2000",
        "\u{1}<&>\"'",
        "99999",
        "dc.date,,0",
    ];
    let mut rng = Rng(0x5EED_0003);
    let server = server();
    for _ in 0..3_000 {
        let params: Vec<(String, String)> = (0..rng.below(6))
            .map(|_| (names[rng.below(names.len())].to_owned(), values[rng.below(values.len())].to_owned()))
            .collect();
        let xml = match SruRequest::from_query(&params) {
            Ok(SruRequest::Explain(explain)) => explain.render(&server),
            Ok(SruRequest::SearchRetrieve(search)) => {
                let _ = search.search_request();
                search.render(3, &[None])
            }
            Ok(SruRequest::Scan(scan)) => scan.render(&indexer::ScanList::default()),
            Err(e) => e.render(),
        };
        parse_xml(&xml);
    }
}

// ---------------------------------------------------------------------------------------
// Responses

/// An element of a parsed response: namespace, local name, attributes, text, children.
#[derive(Debug, Default)]
struct El {
    ns: String,
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    /// The element at a path of local names (`records/record/recordData`).
    fn at(&self, path: &str) -> &El {
        path.split('/').fold(self, |el, name| {
            el.child(name).unwrap_or_else(|| panic!("no <{name}> in <{}> (path {path})", el.name))
        })
    }

    fn text_at(&self, path: &str) -> &str {
        self.at(path).text.trim()
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every descendant (and itself) named `name`.
    fn descendants<'a>(&'a self, name: &str, out: &mut Vec<&'a El>) {
        if self.name == name {
            out.push(self);
        }
        for child in &self.children {
            child.descendants(name, out);
        }
    }
}

/// Parses a whole document; panics (failing the test) if it is not well-formed.
fn parse_xml(xml: &str) -> El {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<El> = vec![El::default()];
    let element = |reader: &NsReader<&[u8]>, start: &quick_xml::events::BytesStart<'_>| {
        let (ns, local) = reader.resolve_element(start.name());
        let ns = match ns {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => panic!("unknown prefix {:?} in {xml}", String::from_utf8_lossy(&prefix)),
        };
        let attributes = start
            .attributes()
            .map(|a| {
                let a = a.unwrap_or_else(|e| panic!("bad attribute {e} in {xml}"));
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                (key, a.unescape_value().unwrap().into_owned())
            })
            .collect();
        El { ns, name: String::from_utf8_lossy(local.as_ref()).into_owned(), attributes, ..El::default() }
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                let el = element(&reader, &start);
                stack.push(el);
            }
            Ok(Event::Empty(start)) => {
                let el = element(&reader, &start);
                stack.last_mut().unwrap().children.push(el);
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().unwrap();
                stack.last_mut().expect("an end tag without a start").children.push(el);
            }
            Ok(Event::Text(text)) => stack.last_mut().unwrap().text.push_str(&text.xml_content().unwrap()),
            Ok(Event::CData(data)) => {
                stack.last_mut().unwrap().text.push_str(&String::from_utf8_lossy(&data.into_inner()))
            }
            Ok(Event::GeneralRef(reference)) => {
                let resolved = match reference.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity &{name}; in {xml}"))
                            .to_owned()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed XML ({e}) at {}:\n{xml}", reader.error_position()),
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements in\n{xml}");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "not one root element in\n{xml}");
    document.children.remove(0)
}

static NEXT_FILE: AtomicUsize = AtomicUsize::new(0);

/// Runs xmllint on a document (`--noout`, and `--schema` when given). Skipped, with a
/// note, where xmllint is not installed.
fn xmllint(xml: &str, schema: Option<&str>) {
    let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("shiori-sru-{}-{n}.xml", std::process::id()));
    std::fs::write(&path, xml).unwrap();
    let mut command = Command::new("xmllint");
    command.arg("--noout").arg("--nonet");
    if let Some(schema) = schema {
        command.arg("--schema").arg(schemas().join(schema));
    }
    let output = command.arg(&path).output();
    let _ = std::fs::remove_file(&path);
    match output {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!("xmllint is not installed (apt-get install libxml2-utils): not validated")
        }
        Err(e) => panic!("xmllint: {e}"),
        Ok(output) => {
            assert!(output.status.success(), "xmllint {schema:?}: {}\n{xml}", String::from_utf8_lossy(&output.stderr))
        }
    }
}

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMAS)
}

fn server() -> SruServer {
    SruServer {
        host: "opac.example.jp".into(),
        port: 8080,
        database: "shiori-city/sru".into(),
        title: "栞市立図書館".into(),
        title_en: Some("Shiori City Library".into()),
    }
}

fn fixture_records(path: &str, count: usize) -> Vec<catalogue::Record> {
    let data = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    catalogue::read_records(&data)
        .unwrap()
        .filter_map(|r| r.result.ok().map(|(record, _)| record))
        .take(count)
        .collect()
}

/// The XML between `<zs:recordData>` and `</zs:recordData>`, for each record, as written.
fn record_data(xml: &str) -> Vec<String> {
    xml.split("<zs:recordData>")
        .skip(1)
        .map(|rest| rest.split("</zs:recordData>").next().unwrap().trim().to_owned())
        .collect()
}

#[test]
fn content_type_is_xml() {
    assert_eq!(SRU_CONTENT_TYPE, "application/xml; charset=utf-8");
}

#[test]
fn explain_lists_the_server_indexes_and_schemas() {
    for (params, ns, version) in
        [(&[][..], SRU_2, "2.0"), (&[("version", "1.2"), ("operation", "explain")][..], SRU_1, "1.2")]
    {
        let Ok(SruRequest::Explain(explain)) = request(params) else { panic!("{params:?}") };
        let xml = explain.render(&server());
        xmllint(&xml, None);
        let root = parse_xml(&xml);
        assert_eq!((root.ns.as_str(), root.name.as_str()), (ns, "explainResponse"));
        assert_eq!(root.text_at("version"), version);
        assert_eq!(root.text_at("record/recordSchema"), ZEEREX);
        let explain = root.at("record/recordData/explain");
        assert_eq!(explain.ns, ZEEREX);
        let info = explain.at("serverInfo");
        assert_eq!(info.attribute("protocol"), Some("SRU"));
        assert_eq!(info.attribute("version"), Some(version));
        assert_eq!(
            (info.text_at("host"), info.text_at("port"), info.text_at("database")),
            ("opac.example.jp", "8080", "shiori-city/sru")
        );
        let titles: Vec<&str> = explain.at("databaseInfo").all("title").iter().map(|t| t.text.as_str()).collect();
        assert_eq!(titles, ["栞市立図書館", "Shiori City Library"]);
        // Every index with its Japanese and English title and its name in a context set.
        let indexes: Vec<(String, String, String)> = explain
            .at("indexInfo")
            .all("index")
            .iter()
            .map(|index| {
                let title = |lang: &str| {
                    index.all("title").iter().find(|t| t.attribute("lang") == Some(lang)).unwrap().text.clone()
                };
                let name = index.at("map/name");
                (format!("{}.{}", name.attribute("set").unwrap(), name.text), title("ja"), title("en"))
            })
            .collect();
        for (name, ja, en) in [
            ("cql.serverChoice", "すべての項目", "Any field"),
            ("dc.title", "書名", "Title"),
            ("dc.creator", "著者", "Author"),
            ("dc.subject", "件名", "Subject"),
            ("dc.publisher", "出版者", "Publisher"),
            ("dc.date", "出版年", "Year of publication"),
            ("bath.isbn", "ISBN", "ISBN"),
            ("rec.id", "書誌ID・管理番号", "Record identifier"),
            ("cql.allRecords", "全件", "All records"),
        ] {
            assert!(indexes.contains(&(name.into(), ja.into(), en.into())), "{name} missing from {indexes:?}");
        }
        let sets: Vec<&str> = explain.at("indexInfo").all("set").iter().filter_map(|s| s.attribute("name")).collect();
        assert_eq!(sets, ["cql", "dc", "bath", "rec"]);
        let schemas: Vec<(&str, &str)> = explain
            .at("schemaInfo")
            .all("schema")
            .iter()
            .map(|s| (s.attribute("name").unwrap(), s.attribute("identifier").unwrap()))
            .collect();
        assert_eq!(schemas, [("marcxml", "info:srw/schema/1/marcxml-v1.1"), ("dc", "info:srw/schema/1/dc-v1.1")]);
        let config = explain.at("configInfo");
        let setting = config.all("setting").into_iter().find(|s| s.attribute("type") == Some("maximumRecords"));
        assert_eq!(setting.map(|s| s.text.as_str()), Some("100"));
    }
}

#[test]
fn explain_as_a_string_carries_the_same_record() {
    let xml = |packing: &str| {
        let Ok(SruRequest::Explain(explain)) = request(&[("recordXMLEscaping", packing)]) else { panic!() };
        explain.render(&server())
    };
    let as_xml = xml("xml");
    let as_string = parse_xml(&xml("string"));
    assert_eq!(as_string.text_at("record/recordXMLEscaping"), "string");
    assert!(as_string.at("record/recordData").children.is_empty());
    assert_eq!(as_string.text_at("record/recordData"), record_data(&as_xml)[0]);
}

#[test]
fn search_responses_carry_marcxml_records_valid_against_the_schema() {
    let records = fixture_records(JAPAN_MARC, 3);
    for (version, ns) in [("2.0", SRU_2), ("1.2", SRU_1)] {
        let s = search(&[
            ("version", version),
            ("operation", "searchRetrieve"),
            ("query", "dc.title = 本"),
            ("startRecord", "4"),
            ("maximumRecords", "3"),
        ]);
        let page: Vec<Option<catalogue::Record>> = records.iter().cloned().map(Some).collect();
        let xml = s.render(20, &page);
        xmllint(&xml, None);
        let root = parse_xml(&xml);
        assert_eq!((root.ns.as_str(), root.name.as_str()), (ns, "searchRetrieveResponse"));
        assert_eq!(root.text_at("version"), version);
        assert_eq!(root.text_at("numberOfRecords"), "20");
        let records_el = root.all("records")[0].all("record");
        assert_eq!(records_el.len(), 3);
        for (i, record) in records_el.iter().enumerate() {
            assert_eq!(record.ns, ns);
            assert_eq!(record.text_at("recordSchema"), "info:srw/schema/1/marcxml-v1.1");
            let packing = if version == "2.0" { "recordXMLEscaping" } else { "recordPacking" };
            assert_eq!(record.text_at(packing), "xml");
            assert_eq!(record.text_at("recordPosition"), (4 + i).to_string());
            let marc = record.at("recordData/record");
            assert_eq!(marc.ns, MARC);
            let control: Vec<&El> = marc.all("controlfield");
            let first = control.iter().find(|c| c.attribute("tag") == Some("001")).unwrap();
            assert_eq!(first.text, records[i].control_number().unwrap());
        }
        assert_eq!(root.text_at("nextRecordPosition"), "7");
        let echo = root.at("echoedSearchRetrieveRequest");
        assert_eq!(
            (echo.text_at("query"), echo.text_at("startRecord"), echo.text_at("maximumRecords")),
            ("dc.title = 本", "4", "3")
        );
        assert!(root.child("diagnostics").is_none());
        assert_eq!(root.child("resultCountPrecision").is_some(), version == "2.0");
        // Each record alone is valid MARCXML.
        for data in record_data(&xml) {
            assert!(data.starts_with("<record xmlns=\"http://www.loc.gov/MARC21/slim\">"), "{data}");
            xmllint(&data, Some("MARC21slim.xsd"));
        }
    }
}

#[test]
fn next_record_position_only_while_records_remain() {
    let records: Vec<Option<catalogue::Record>> = fixture_records(JAPAN_MARC, 3).into_iter().map(Some).collect();
    let s = search(&[("query", "猫"), ("startRecord", "18"), ("maximumRecords", "3")]);
    let root = parse_xml(&s.render(25, &records));
    assert_eq!(root.text_at("nextRecordPosition"), "21");
    let root = parse_xml(&s.render(21, &records));
    assert_eq!(root.text_at("nextRecordPosition"), "21");
    let root = parse_xml(&s.render(20, &records));
    assert!(root.child("nextRecordPosition").is_none(), "the last page");
    let s = search(&[("query", "猫"), ("startRecord", "19"), ("maximumRecords", "3")]);
    let root = parse_xml(&s.render(20, &records[..2]));
    assert!(root.child("nextRecordPosition").is_none(), "a short last page");
    // Not beyond what the index can page to (startRecord 10,001 is the last).
    let s = search(&[("query", "猫"), ("startRecord", "9999"), ("maximumRecords", "2")]);
    let root = parse_xml(&s.render(50_000, &records[..2]));
    assert_eq!(root.text_at("nextRecordPosition"), "10001");
    assert!(matches!(request(&[("query", "猫"), ("startRecord", "10001")]), Ok(SruRequest::SearchRetrieve(_))));
    let s = search(&[("query", "猫"), ("startRecord", "10000"), ("maximumRecords", "2")]);
    let root = parse_xml(&s.render(50_000, &records[..2]));
    assert!(root.child("nextRecordPosition").is_none(), "10002 cannot be asked for");
    // maximumRecords=0: the count only.
    let s = search(&[("query", "猫"), ("maximumRecords", "0")]);
    let xml = s.render(20, &records);
    let root = parse_xml(&xml);
    assert_eq!(root.text_at("numberOfRecords"), "20");
    assert!(root.child("records").is_none() && root.child("nextRecordPosition").is_none(), "{xml}");
    // More records given than asked for: only maximumRecords are used.
    let s = search(&[("query", "猫"), ("maximumRecords", "2")]);
    let root = parse_xml(&s.render(20, &records));
    assert_eq!(root.at("records").all("record").len(), 2);
    assert_eq!(root.text_at("nextRecordPosition"), "3");
}

#[test]
fn dublin_core_has_vernacular_titles_names_and_isbns() {
    let jp = fixture_records(JAPAN_MARC, 1).remove(0);
    let lc = fixture_records(LC_JAPANESE, 1).remove(0);
    assert_eq!((jp.control_number(), lc.control_number()), (Some("029455884"), Some("00271342")));
    let s = search(&[("query", "猫"), ("recordSchema", "dc")]);
    let xml = s.render(2, &[Some(jp), Some(lc)]);
    xmllint(&xml, None);
    let root = parse_xml(&xml);
    let records = root.at("records").all("record");
    assert_eq!(records[0].text_at("recordSchema"), "info:srw/schema/1/dc-v1.1");
    let values = |record: &El, name: &str| -> Vec<String> {
        let dc = record.at("recordData/dc");
        assert_eq!(dc.ns, OAI_DC);
        dc.all(name)
            .iter()
            .map(|e| {
                assert_eq!(e.ns, DC);
                e.text.clone()
            })
            .collect()
    };
    // JAPAN/MARC: the 245 is the vernacular; the 880 /(B romanisation is a second title.
    let jp = records[0];
    assert_eq!(values(jp, "title"), ["これからの本の話をしよう", "Korekara no hon no hanashi o shiyo"]);
    assert_eq!(values(jp, "creator"), ["萩野, 正昭"]);
    assert_eq!(values(jp, "subject"), ["電子書籍", "電子出版"]);
    assert_eq!(values(jp, "publisher"), ["晶文社"]);
    assert_eq!(values(jp, "date"), ["2019"]);
    assert_eq!(values(jp, "type"), ["Text"]);
    assert_eq!(values(jp, "identifier"), ["URN:ISBN:9784794970756"]);
    assert_eq!(values(jp, "language"), ["jpn"]);
    // LC: the vernacular is in the 880, the 245 romanised (shown in NFC).
    let lc = records[1];
    assert_eq!(values(lc, "title"), ["伝統話芸・講談のすべて", "Dentō wagei kōdan no subete"]);
    let creators = values(lc, "creator");
    assert!(creators.iter().any(|c| c.starts_with("Abe, Kazue")), "{creators:?}");
    assert!(creators.iter().any(|c| c.starts_with("阿部主計")), "{creators:?}");
    assert_eq!(values(lc, "publisher"), ["Yūzankaku", "雄山閣"]);
    assert_eq!(values(lc, "date"), ["1999"]);
    assert_eq!(values(lc, "identifier"), ["URN:ISBN:9784639015925"]);
    // Each record alone is valid oai_dc.
    for data in record_data(&xml) {
        xmllint(&data, Some("oai_dc.xsd"));
    }
}

#[test]
fn string_packing_escapes_the_same_record() {
    let records: Vec<Option<catalogue::Record>> = fixture_records(LC_JAPANESE, 2).into_iter().map(Some).collect();
    for schema in ["marcxml", "dc"] {
        let as_xml = search(&[("query", "猫"), ("recordSchema", schema)]).render(2, &records);
        let s = search(&[("query", "猫"), ("recordSchema", schema), ("recordXMLEscaping", "string")]);
        let as_string = s.render(2, &records);
        xmllint(&as_string, None);
        let root = parse_xml(&as_string);
        for (record, expected) in root.at("records").all("record").iter().zip(record_data(&as_xml)) {
            assert_eq!(record.text_at("recordXMLEscaping"), "string");
            assert!(record.at("recordData").children.is_empty());
            assert_eq!(record.text_at("recordData"), expected);
        }
    }
    // SRU 1.2 says recordPacking.
    let s =
        search(&[("version", "1.2"), ("operation", "searchRetrieve"), ("query", "猫"), ("recordPacking", "string")]);
    let root = parse_xml(&s.render(2, &records));
    assert_eq!(root.text_at("records/record/recordPacking"), "string");
    assert_eq!(root.text_at("echoedSearchRetrieveRequest/recordPacking"), "string");
}

#[test]
fn unreadable_records_and_positions_beyond_the_end_are_diagnosed() {
    let records: Vec<Option<catalogue::Record>> = vec![Some(fixture_records(JAPAN_MARC, 1).remove(0)), None];
    for (version, diag_ns) in [("2.0", DIAG_2), ("1.2", DIAG_1)] {
        let s = search(&[("version", version), ("operation", "searchRetrieve"), ("query", "猫")]);
        let xml = s.render(2, &records);
        xmllint(&xml, None);
        let root = parse_xml(&xml);
        let surrogate = root.at("records").all("record")[1];
        assert_eq!(surrogate.text_at("recordSchema"), "info:srw/schema/1/diagnostics-v1.1");
        assert_eq!(surrogate.text_at("recordPosition"), "2");
        let diagnostic = surrogate.at("recordData/diagnostic");
        assert_eq!(diagnostic.ns, diag_ns);
        assert_eq!(diagnostic.text_at("uri"), "info:srw/diagnostic/1/65");
        // A first record beyond the hits: the count, no records, diagnostic 61.
        let s =
            search(&[("version", version), ("operation", "searchRetrieve"), ("query", "猫"), ("startRecord", "30")]);
        let xml = s.render(12, &[]);
        xmllint(&xml, None);
        let root = parse_xml(&xml);
        assert_eq!(root.text_at("numberOfRecords"), "12");
        assert!(root.child("records").is_none());
        let diagnostic = root.at("diagnostics/diagnostic");
        assert_eq!(diagnostic.ns, diag_ns);
        assert_eq!(diagnostic.text_at("uri"), "info:srw/diagnostic/1/61");
        // No hits is no error.
        let xml = search(&[("query", "猫")]).render(0, &[]);
        let root = parse_xml(&xml);
        assert_eq!(root.text_at("numberOfRecords"), "0");
        assert!(root.child("diagnostics").is_none() && root.child("records").is_none(), "{xml}");
    }
}

#[test]
fn refused_requests_render_a_diagnostic_in_their_version() {
    for (params, ns, diag_ns, code) in [
        (&[("query", "dc.nope = 猫")][..], SRU_2, DIAG_2, "16"),
        (&[("version", "1.2"), ("operation", "searchRetrieve"), ("query", "(猫")][..], SRU_1, DIAG_1, "13"),
        (
            &[("version", "1.1"), ("operation", "searchRetrieve"), ("query", "猫"), ("recordSchema", "mods")][..],
            SRU_1,
            DIAG_1,
            "66",
        ),
        (&[("version", "9.9")][..], SRU_2, DIAG_2, "5"),
    ] {
        let error = request(params).unwrap_err();
        let xml = error.render();
        xmllint(&xml, None);
        let root = parse_xml(&xml);
        assert_eq!((root.ns.as_str(), root.name.as_str()), (ns, "searchRetrieveResponse"), "{xml}");
        assert_eq!(root.text_at("numberOfRecords"), "0");
        let diagnostic = root.at("diagnostics/diagnostic");
        assert_eq!(diagnostic.ns, diag_ns);
        assert_eq!(diagnostic.text_at("uri"), format!("info:srw/diagnostic/1/{code}"));
        assert_eq!(diagnostic.text_at("details"), error.diagnostic.details.as_deref().unwrap());
        assert_eq!(diagnostic.text_at("message"), error.diagnostic.message);
    }
}

#[test]
fn search_failures_render_with_the_request_echoed() {
    let s = search(&[("query", "猫")]);
    let fault = indexer::Error::Index("disk on fire at /secret/path".into());
    let diagnostic = SruDiagnostic::from_search_error(&fault);
    assert_eq!(diagnostic, SruDiagnostic::system_error());
    let xml = s.render_diagnostic(&diagnostic);
    assert!(!xml.contains("secret"), "internals must not reach the client");
    let root = parse_xml(&xml);
    assert_eq!(root.text_at("diagnostics/diagnostic/uri"), "info:srw/diagnostic/1/1");
    assert_eq!(root.text_at("echoedSearchRetrieveRequest/query"), "猫");
    let refused = indexer::parse_query("-猫").unwrap_err();
    assert_eq!(SruDiagnostic::from_search_error(&indexer::Error::Query(refused)).code, 10);
}

#[test]
fn hostile_text_is_escaped() {
    let query = "dc.title = \"</zs:query><script>alert(1)</script> & \u{1}\u{7}猫 ]]>\"";
    let s = search(&[("query", query)]);
    let xml = s.render(0, &[]);
    xmllint(&xml, None);
    assert!(!xml.contains("<script>"), "{xml}");
    let root = parse_xml(&xml);
    let echoed = root.text_at("echoedSearchRetrieveRequest/query");
    assert_eq!(echoed, query.replace(['\u{1}', '\u{7}'], ""));
    // The same in a diagnostic's details and message.
    let error = request(&[("query", "\"dc.t<i>tle\u{1}\" = 猫")]).unwrap_err();
    let xml = error.render();
    xmllint(&xml, None);
    let root = parse_xml(&xml);
    assert_eq!(root.text_at("diagnostics/diagnostic/details"), "dc.t<i>tle");
    // A record with control characters and markup in it in it stays well-formed.
    let mut record = fixture_records(JAPAN_MARC, 1).remove(0);
    let title = record.fields.iter_mut().find(|f| f.tag().as_str() == "245");
    let Some(catalogue::Field::Data { subfields, .. }) = title else { panic!("no 245") };
    let a = subfields.iter_mut().find(|s| s.code == 'a').unwrap();
    a.value = "猫\u{1b}と<犬> & \"鳥\"".into();
    for schema in ["marcxml", "dc"] {
        let xml = search(&[("query", "猫"), ("recordSchema", schema)]).render(1, &[Some(record.clone())]);
        xmllint(&xml, None);
        let root = parse_xml(&xml);
        let mut texts = Vec::new();
        root.descendants(if schema == "dc" { "title" } else { "subfield" }, &mut texts);
        assert!(texts.iter().any(|t| t.text == "猫と<犬> & \"鳥\""), "{xml}");
    }
}
