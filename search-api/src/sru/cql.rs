//! CQL, the Contextual Query Language of SRU (CQL 1.2, as SRU 1.2 and 2.0 use it), parsed
//! and translated into the indexer's [`QueryNode`].
//!
//! # Grammar
//!
//! ```text
//! sortedQuery  = { prefixAssign } scopedClause [ "sortby" sortKey { sortKey } ] ;
//! cqlQuery     = { prefixAssign } scopedClause ;
//! prefixAssign = ">" term [ "=" term ] ;                  (* tolerated, see below *)
//! scopedClause = searchClause { boolean { modifier } searchClause } ;  (* left-assoc *)
//! boolean      = "and" | "or" | "not" | "prox" ;           (* any case, unquoted *)
//! searchClause = "(" cqlQuery ")" | [ index relation { modifier } ] term ;
//! relation     = "=" | "==" | "<" | ">" | "<=" | ">=" | "<>" | name ;
//! modifier     = "/" term [ comparison term ] ;
//! sortKey      = term { modifier } ;
//! term         = word | '"' { char | "\" char } '"' ;
//! word         = characters other than white space, ( ) = < > " / ;
//! ```
//!
//! The booleans have equal precedence and associate to the left, as the specification
//! says: `a or b and c` is `(a or b) and c`. Index names, relation names, modifiers and
//! booleans are case-insensitive; a `cql.` prefix on a relation or modifier is allowed.
//!
//! # Meaning
//!
//! - Indexes: `cql.serverChoice` (also `cql.anywhere`, and what a bare term searches),
//!   `dc.title`, `dc.creator` (and `dc.contributor`), `dc.subject`, `dc.publisher`,
//!   `dc.date`, `dc.identifier` (an ISBN, or else a record id), `dc.language`,
//!   `bath.isbn`, `rec.id`, `cql.allRecords`, and the short names in [`INDEXES`] (`title`,
//!   `author`, `subject`, `isbn`, `year`, `ndc`, 書名, 著者 …).
//! - `=`, `all` (and the CQL 1.1 `scr`): every word of the term (words are separated by
//!   white space, including U+3000); `any`: at least one; `adj`: the term as a phrase;
//!   `==` and `exact`: the whole title on `dc.title` (完全一致), a phrase elsewhere.
//!   Japanese needs no spaces: the indexer's analysis splits `図書館情報学` itself.
//! - `dc.date` takes a year (`2001`, also `2001-05-03`), a range `1990-2000` with `=`,
//!   `<`, `>`, `<=`, `>=`, and `within "1990 2000"`, and becomes a year range.
//! - `dc.title = "吾輩*"` (an unescaped `*` at the very end of a title term) is a title
//!   prefix search (前方一致). Other masking (`*`, `?`) and anchoring (`^`) are
//!   refused with a diagnostic unless the relation has `/unmasked`; `\*`, `\?`, `\^`, `\"`
//!   and `\\` are the characters themselves.
//! - `a not b` is `a` and not `b`. `cql.allRecords = 1` matches every record; the
//!   translation represents it as an `And` with no children, which the indexer searches
//!   as "all documents" (and `cql.allRecords = 1 not b` as everything but `b`).
//! - Relation modifiers `ignoreCase`, `ignoreAccents`, `relevant`, `word`, `string`,
//!   `masked`, `unmasked` and `locale=…` are accepted (the analysis folds case and
//!   accents anyway); any other modifier is diagnostic 20. Boolean modifiers are 46,
//!   `prox` is 39.
//! - `sortby dc.date/sort.descending` (or `/sort.ascending`) sorts by year,
//!   `sortby dc.title` by title reading; a single key only (a second key, or two
//!   `sortKeys`, is diagnostic 84 rather than being ignored: the index orders by one key,
//!   then by record id).
//! - Prefix assignments (`>dc="info:srw/cql-context-set/1/dc-v1.1"`) are accepted; an
//!   assigned prefix naming a known context set can be used in index names, and one naming
//!   an unknown set gives diagnostic 15 when used.
//!
//! Any input gives a query or a diagnostic, never a panic: the input is refused above
//! [`MAX_QUERY_CHARS`] characters, parentheses nest at most [`MAX_DEPTH`] deep, and a
//! query has at most [`MAX_CLAUSES`] search clauses and [`MAX_TERMS`] words, phrases and
//! ranges after translation, so both the work and the recursion are bounded.

use indexer::{QueryNode, ScanIndex, SearchField, Sort};

use super::diagnostic::{SruDiagnostic, code};

/// Longest accepted query, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 2_000;
/// Deepest nesting of parentheses.
pub(crate) const MAX_DEPTH: usize = 16;
/// Most search clauses in one query.
pub(crate) const MAX_CLAUSES: usize = 64;
/// Most words, phrases and ranges after translation (the indexer's own limit).
pub(crate) const MAX_TERMS: usize = 64;

/// A CQL query translated for the indexer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CqlQuery {
    /// What to search. `cql.allRecords` is `QueryNode::And(vec![])`.
    pub node: QueryNode,
    /// The order asked for with `sortby`, if any.
    pub sort: Option<Sort>,
}

/// The indexes a CQL query may name: the index as written in the explain record, its
/// Japanese and English titles, and every name it answers to (lower case).
pub(crate) struct IndexInfo {
    /// Context set and name, as the explain record lists it (`dc.title`).
    pub(crate) name: &'static str,
    /// Japanese title.
    pub(crate) title_ja: &'static str,
    /// English title.
    pub(crate) title_en: &'static str,
    /// Every name it is known by, lower case, context set included where it has one.
    pub(crate) aliases: &'static [&'static str],
    kind: IndexKind,
}

/// What an index searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndexKind {
    /// Every field.
    Anywhere,
    /// One field of the indexer.
    Field(SearchField),
    /// The year of publication.
    Year,
    /// An ISBN, or else a record id.
    Identifier,
    /// Every record.
    AllRecords,
}

/// The indexes, in the order the explain record lists them.
pub(crate) const INDEXES: &[IndexInfo] = &[
    IndexInfo {
        name: "cql.serverChoice",
        title_ja: "すべての項目",
        title_en: "Any field",
        aliases: &[
            "cql.serverchoice",
            "cql.anywhere",
            "serverchoice",
            "anywhere",
            "keyword",
            "keywords",
            "kw",
            "キーワード",
        ],
        kind: IndexKind::Anywhere,
    },
    IndexInfo {
        name: "dc.title",
        title_ja: "書名",
        title_en: "Title",
        aliases: &["dc.title", "bath.title", "title", "ti", "タイトル", "書名"],
        kind: IndexKind::Field(SearchField::Title),
    },
    IndexInfo {
        name: "dc.creator",
        title_ja: "著者",
        title_en: "Author",
        aliases: &[
            "dc.creator",
            "dc.contributor",
            "bath.author",
            "bath.name",
            "bath.personalname",
            "bath.corporatename",
            "author",
            "creator",
            "au",
            "著者",
        ],
        kind: IndexKind::Field(SearchField::Author),
    },
    IndexInfo {
        name: "dc.subject",
        title_ja: "件名",
        title_en: "Subject",
        aliases: &["dc.subject", "bath.subject", "subject", "su", "件名"],
        kind: IndexKind::Field(SearchField::Subject),
    },
    IndexInfo {
        name: "dc.publisher",
        title_ja: "出版者",
        title_en: "Publisher",
        aliases: &["dc.publisher", "bath.publisher", "publisher", "pb", "出版者"],
        kind: IndexKind::Field(SearchField::Publisher),
    },
    IndexInfo {
        name: "dc.date",
        title_ja: "出版年",
        title_en: "Year of publication",
        aliases: &["dc.date", "date", "year", "出版年"],
        kind: IndexKind::Year,
    },
    IndexInfo {
        name: "dc.identifier",
        title_ja: "識別子（ISBN・書誌ID）",
        title_en: "Identifier (ISBN or record id)",
        aliases: &["dc.identifier", "identifier"],
        kind: IndexKind::Identifier,
    },
    IndexInfo {
        name: "bath.isbn",
        title_ja: "ISBN",
        title_en: "ISBN",
        aliases: &["bath.isbn", "isbn"],
        kind: IndexKind::Field(SearchField::Isbn),
    },
    IndexInfo {
        name: "dc.language",
        title_ja: "言語",
        title_en: "Language",
        aliases: &["dc.language", "language", "lang", "言語"],
        kind: IndexKind::Field(SearchField::Lang),
    },
    IndexInfo {
        name: "ndc",
        title_ja: "日本十進分類法（NDC）",
        title_en: "Nippon Decimal Classification",
        aliases: &["ndc", "分類"],
        kind: IndexKind::Field(SearchField::Ndc),
    },
    IndexInfo {
        name: "rec.id",
        title_ja: "書誌ID・管理番号",
        title_en: "Record identifier",
        aliases: &["rec.id", "id"],
        kind: IndexKind::Field(SearchField::Id),
    },
    IndexInfo {
        name: "cql.allRecords",
        title_ja: "全件",
        title_en: "All records",
        aliases: &["cql.allrecords"],
        kind: IndexKind::AllRecords,
    },
];

/// The context sets index names may use, by the URIs that identify them.
pub(crate) const CONTEXT_SETS: &[(&str, &str)] = &[
    ("cql", "info:srw/cql-context-set/1/cql-v1.2"),
    ("dc", "info:srw/cql-context-set/1/dc-v1.1"),
    ("bath", "http://zing.z3950.org/cql/bath/2.0/"),
    ("rec", "info:srw/cql-context-set/2/rec-1.1"),
];

/// Further URIs of the same sets (older versions).
const CONTEXT_SET_ALIASES: &[(&str, &str)] = &[
    ("cql", "info:srw/cql-context-set/1/cql-v1.1"),
    ("cql", "info:srw/cql-context-set/1/cql-v1.0"),
    ("dc", "info:srw/cql-context-set/1/dc-v1.0"),
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("rec", "info:srw/cql-context-set/2/rec-1.0"),
];

/// Parses and translates a CQL query; a query this server cannot answer is the SRU
/// diagnostic saying why.
///
/// ```
/// use indexer::{QueryNode, SearchField, Sort};
///
/// let query = search_api::parse_cql("dc.title = 源氏物語 and dc.date >= 2000 sortby dc.date")?;
/// assert_eq!(
///     query.node,
///     QueryNode::And(vec![
///         QueryNode::Term { field: Some(SearchField::Title), text: "源氏物語".into() },
///         QueryNode::YearRange { from: Some(2000), to: None },
///     ])
/// );
/// assert_eq!(query.sort, Some(Sort::YearAsc));
/// let unknown = search_api::parse_cql("dc.nope = 猫").unwrap_err();
/// assert_eq!(unknown.uri(), "info:srw/diagnostic/1/16");
/// # Ok::<(), search_api::SruDiagnostic>(())
/// ```
pub fn parse_cql(input: &str) -> Result<CqlQuery, SruDiagnostic> {
    // Checked before anything is allocated.
    if input.chars().nth(MAX_QUERY_CHARS).is_some() {
        return Err(SruDiagnostic::new(
            code::QUERY_TOO_LONG,
            MAX_QUERY_CHARS.to_string(),
            format!("the query is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let chars: Vec<char> = input.chars().collect();
    let tokens = lex(&chars)?;
    let mut parser = Parser { tokens: &tokens, next: 0, clauses: 0, prefixes: Vec::new(), end: chars.len() };
    let ast = parser.query(0)?;
    let sort_keys = if parser.peek_keyword("sortby") {
        parser.next += 1;
        parser.sort_keys()?
    } else {
        Vec::new()
    };
    if let Some(token) = parser.peek() {
        return Err(match token.kind {
            Kind::Close => paren_error(token.position, "unbalanced ')'"),
            _ => syntax_error(token.position, format!("unexpected {}", token.describe())),
        });
    }
    let mut translator = Translator { prefixes: &parser.prefixes, terms: 0 };
    let node = translator.node(&ast)?;
    if matches!(node, QueryNode::Not(_)) {
        // Unreachable by construction (a `Not` is always wrapped in an `And`); kept so
        // the indexer never receives a query made only of an exclusion.
        return Err(syntax_error(0, "a query needs something to search besides an exclusion".to_owned()));
    }
    let sort = translator.sort(&sort_keys)?;
    Ok(CqlQuery { node, sort })
}

fn syntax_error(position: usize, what: String) -> SruDiagnostic {
    SruDiagnostic::new(
        code::QUERY_SYNTAX,
        position.to_string(),
        format!("query syntax error at character {position}: {what}"),
    )
}

fn paren_error(position: usize, what: &str) -> SruDiagnostic {
    SruDiagnostic::new(code::PARENTHESES, position.to_string(), format!("{what} at character {position}"))
}

// ---------------------------------------------------------------------------------------
// Lexing

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    Slash,
    /// A comparison symbol: `=`, `==`, `<`, `>`, `<=`, `>=`, `<>`.
    Symbol(&'static str),
    /// An unquoted word, as written (backslashes kept).
    Word(String),
    /// The inside of a quoted string, as written (backslashes kept).
    Quoted(String),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// Character offset of the token's first character.
    position: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            Kind::Open => "'('".to_owned(),
            Kind::Close => "')'".to_owned(),
            Kind::Slash => "'/'".to_owned(),
            Kind::Symbol(symbol) => format!("'{symbol}'"),
            Kind::Word(word) => format!("'{}'", shorten(word)),
            Kind::Quoted(text) => format!("\"{}\"", shorten(text)),
        }
    }
}

/// At most 40 characters of a text, for messages.
fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '=' | '<' | '>' | '"' | '/')
}

/// Splits the input into tokens. Every loop turn consumes at least one character.
fn lex(chars: &[char]) -> Result<Vec<Token>, SruDiagnostic> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let position = i;
        let next = chars.get(i + 1).copied();
        let (kind, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Kind::Open, 1),
            ')' => (Kind::Close, 1),
            '/' => (Kind::Slash, 1),
            '=' if next == Some('=') => (Kind::Symbol("=="), 2),
            '=' => (Kind::Symbol("="), 1),
            '<' if next == Some('=') => (Kind::Symbol("<="), 2),
            '<' if next == Some('>') => (Kind::Symbol("<>"), 2),
            '<' => (Kind::Symbol("<"), 1),
            '>' if next == Some('=') => (Kind::Symbol(">="), 2),
            '>' => (Kind::Symbol(">"), 1),
            '"' => {
                let mut j = i + 1;
                let mut text = String::new();
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(SruDiagnostic::new(
                                code::QUOTES,
                                position.to_string(),
                                format!("the quote opened at character {position} is never closed"),
                            ));
                        }
                        Some('"') => break,
                        Some('\\') => {
                            text.push('\\');
                            if let Some(&escaped) = chars.get(j + 1) {
                                text.push(escaped);
                                j += 1;
                            }
                        }
                        Some(&other) => text.push(other),
                    }
                    j += 1;
                }
                (Kind::Quoted(text), j + 1 - i)
            }
            _ => {
                let mut j = i;
                let mut text = String::new();
                while let Some(&d) = chars.get(j) {
                    if ends_word(d) {
                        break;
                    }
                    text.push(d);
                    if d == '\\'
                        && let Some(&escaped) = chars.get(j + 1)
                    {
                        text.push(escaped);
                        j += 1;
                    }
                    j += 1;
                }
                (Kind::Word(text), j - i)
            }
        };
        tokens.push(Token { kind, position });
        i += len;
    }
    Ok(tokens)
}

/// Removes CQL escapes: `\x` is `x`; a lone backslash at the end stays.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boolean {
    And,
    Or,
    Not,
}

#[derive(Debug, Clone)]
enum Ast {
    Clause(Clause),
    Boolean(Boolean, Box<Ast>, Box<Ast>),
}

/// A term as written: its raw text (escapes kept) and where it starts.
#[derive(Debug, Clone)]
struct Term {
    raw: String,
    position: usize,
}

#[derive(Debug, Clone)]
struct Modifier {
    name: String,
    value: Option<String>,
    position: usize,
}

#[derive(Debug, Clone)]
struct Clause {
    /// Index name (unescaped) and relation, or `None` for a bare term.
    index: Option<(Term, Relation)>,
    term: Term,
}

#[derive(Debug, Clone)]
struct Relation {
    /// `=`, `==`, …, or a name as written.
    name: String,
    modifiers: Vec<Modifier>,
    position: usize,
}

#[derive(Debug, Clone)]
struct SortKey {
    index: Term,
    modifiers: Vec<Modifier>,
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    clauses: usize,
    /// Prefix assignments: prefix (lower case) -> context set URI.
    prefixes: Vec<(String, String)>,
    /// Length of the input, the position of "end of input".
    end: usize,
}

fn is_boolean(word: &str) -> bool {
    ["and", "or", "not", "prox"].iter().any(|b| word.eq_ignore_ascii_case(b))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
    }

    fn position(&self) -> usize {
        self.peek().map_or(self.end, |t| t.position)
    }

    /// A word or quoted string.
    fn term(&mut self, what: &str) -> Result<Term, SruDiagnostic> {
        match self.peek() {
            Some(Token { kind: Kind::Word(raw) | Kind::Quoted(raw), position }) => {
                let term = Term { raw: raw.clone(), position: *position };
                self.next += 1;
                Ok(term)
            }
            Some(token) => Err(syntax_error(token.position, format!("expected {what}, found {}", token.describe()))),
            None => Err(syntax_error(self.end, format!("expected {what} at the end of the query"))),
        }
    }

    /// `cqlQuery`: prefix assignments, then a scoped clause.
    fn query(&mut self, depth: usize) -> Result<Ast, SruDiagnostic> {
        while matches!(self.peek(), Some(Token { kind: Kind::Symbol(">"), .. })) {
            self.next += 1;
            let first = self.term("a context set prefix or URI after '>'")?;
            if matches!(self.peek(), Some(Token { kind: Kind::Symbol("="), .. })) {
                self.next += 1;
                let uri = self.term("a context set URI")?;
                self.prefixes.push((unescape(&first.raw).to_lowercase(), unescape(&uri.raw)));
            }
            // `>"uri"` sets the default context set of unprefixed indexes. The names
            // this server knows are the same whichever set is the default, so it is noted
            // by being accepted.
        }
        self.scoped(depth)
    }

    /// `scopedClause`: clauses joined by booleans, left-associative, equal precedence.
    fn scoped(&mut self, depth: usize) -> Result<Ast, SruDiagnostic> {
        let mut left = self.clause(depth)?;
        loop {
            let (boolean, position) = match self.peek() {
                Some(Token { kind: Kind::Word(word), position }) if is_boolean(word) => {
                    (word.to_ascii_lowercase(), *position)
                }
                _ => return Ok(left),
            };
            self.next += 1;
            let modifiers = self.modifiers()?;
            let boolean = match boolean.as_str() {
                "and" => Boolean::And,
                "or" => Boolean::Or,
                "not" => Boolean::Not,
                _ => {
                    return Err(SruDiagnostic::new(
                        code::PROXIMITY,
                        "prox",
                        format!("proximity (prox at character {position}) is not supported"),
                    ));
                }
            };
            if let Some(modifier) = modifiers.first() {
                return Err(SruDiagnostic::new(
                    code::UNSUPPORTED_BOOLEAN_MODIFIER,
                    modifier.name.clone(),
                    format!("boolean modifiers are not supported (at character {})", modifier.position),
                ));
            }
            let right = self.clause(depth)?;
            left = Ast::Boolean(boolean, Box::new(left), Box::new(right));
        }
    }

    /// `searchClause`: a parenthesised query, `index relation term`, or a bare term.
    fn clause(&mut self, depth: usize) -> Result<Ast, SruDiagnostic> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            return Err(SruDiagnostic::new(
                code::TOO_MANY_TERMS,
                (MAX_CLAUSES - 1).to_string(),
                format!("the query has more than {MAX_CLAUSES} search clauses"),
            ));
        }
        let position = self.position();
        match self.peek().map(|t| &t.kind) {
            Some(Kind::Open) => {
                if depth >= MAX_DEPTH {
                    return Err(paren_error(position, &format!("parentheses nested deeper than {MAX_DEPTH} levels")));
                }
                self.next += 1;
                let inner = self.query(depth + 1)?;
                match self.peek() {
                    Some(Token { kind: Kind::Close, .. }) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    Some(token) => Err(paren_error(
                        token.position,
                        &format!("expected ')' to close the '(' at character {position}, found {}", token.describe()),
                    )),
                    None => Err(paren_error(position, "'(' never closed, opened")),
                }
            }
            Some(Kind::Close) => Err(paren_error(position, "expected a search term, found ')'")),
            Some(Kind::Word(_) | Kind::Quoted(_)) => {
                let first = self.term("a search term")?;
                let relation = match self.peek() {
                    Some(Token { kind: Kind::Symbol(symbol), position }) => {
                        let relation =
                            Relation { name: (*symbol).to_owned(), modifiers: Vec::new(), position: *position };
                        self.next += 1;
                        Some(relation)
                    }
                    Some(Token { kind: Kind::Word(word), position })
                        if !is_boolean(word) && !word.eq_ignore_ascii_case("sortby") =>
                    {
                        let relation = Relation { name: unescape(word), modifiers: Vec::new(), position: *position };
                        self.next += 1;
                        Some(relation)
                    }
                    _ => None,
                };
                match relation {
                    None => Ok(Ast::Clause(Clause { index: None, term: first })),
                    Some(mut relation) => {
                        relation.modifiers = self.modifiers()?;
                        let term = self.term("a search term after the relation")?;
                        Ok(Ast::Clause(Clause { index: Some((first, relation)), term }))
                    }
                }
            }
            Some(_) => Err(syntax_error(
                position,
                format!("expected a search term, found {}", self.peek().map(Token::describe).unwrap_or_default()),
            )),
            None => Err(syntax_error(position, "expected a search term at the end of the query".to_owned())),
        }
    }

    /// `{ "/" name [ comparison value ] }`.
    fn modifiers(&mut self) -> Result<Vec<Modifier>, SruDiagnostic> {
        let mut modifiers = Vec::new();
        while matches!(self.peek(), Some(Token { kind: Kind::Slash, .. })) {
            self.next += 1;
            let name = self.term("a modifier name after '/'")?;
            let value = match self.peek() {
                Some(Token { kind: Kind::Symbol(_), .. }) => {
                    self.next += 1;
                    Some(unescape(&self.term("a modifier value")?.raw))
                }
                _ => None,
            };
            if modifiers.len() >= MAX_CLAUSES {
                return Err(syntax_error(name.position, "too many modifiers".to_owned()));
            }
            modifiers.push(Modifier { name: unescape(&name.raw), value, position: name.position });
        }
        Ok(modifiers)
    }

    /// The keys after `sortby`, up to the end of the input.
    fn sort_keys(&mut self) -> Result<Vec<SortKey>, SruDiagnostic> {
        let mut keys = Vec::new();
        loop {
            let index = self.term("a sort key after sortby")?;
            let modifiers = self.modifiers()?;
            keys.push(SortKey { index, modifiers });
            if !matches!(self.peek(), Some(Token { kind: Kind::Word(_) | Kind::Quoted(_), .. })) {
                return Ok(keys);
            }
            if keys.len() >= MAX_CLAUSES {
                return Err(SruDiagnostic::new(
                    code::TOO_MANY_SORT_KEYS,
                    "1",
                    "only one sort key is supported: the index orders by year or by title reading, not both",
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Translation

struct Translator<'a> {
    prefixes: &'a [(String, String)],
    /// Words, phrases and ranges made so far.
    terms: usize,
}

/// The node standing for every record.
fn all_records() -> QueryNode {
    QueryNode::And(Vec::new())
}

fn is_all_records(node: &QueryNode) -> bool {
    matches!(node, QueryNode::And(children) if children.is_empty())
}

/// Children ANDed, keeping the indexer's invariants: no `And` directly inside an `And`,
/// at least two children unless the only one is an exclusion, "all records" absorbed.
fn and_of(children: Vec<QueryNode>) -> QueryNode {
    let mut flat = Vec::with_capacity(children.len());
    for child in children {
        match child {
            QueryNode::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 && !matches!(flat[0], QueryNode::Not(_)) {
        return flat.remove(0);
    }
    QueryNode::And(flat)
}

/// Children ORed: no `Or` directly inside an `Or`, and "all records" absorbs the rest.
fn or_of(children: Vec<QueryNode>) -> QueryNode {
    if children.iter().any(is_all_records) {
        return all_records();
    }
    let mut flat = Vec::with_capacity(children.len());
    for child in children {
        match child {
            QueryNode::Or(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        return flat.remove(0);
    }
    QueryNode::Or(flat)
}

/// A relation, normalised: lower case, without a `cql.` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Eq,
    Exact,
    All,
    Any,
    Adj,
    Lt,
    Gt,
    Le,
    Ge,
    Within,
}

fn relation_of(relation: &Relation) -> Result<Rel, SruDiagnostic> {
    let name = relation.name.to_lowercase();
    let name = name.strip_prefix("cql.").unwrap_or(&name);
    Ok(match name {
        "=" | "scr" => Rel::Eq,
        "==" | "exact" => Rel::Exact,
        "all" => Rel::All,
        "any" => Rel::Any,
        "adj" => Rel::Adj,
        "<" => Rel::Lt,
        ">" => Rel::Gt,
        "<=" => Rel::Le,
        ">=" => Rel::Ge,
        "within" => Rel::Within,
        _ => {
            return Err(SruDiagnostic::new(
                code::UNSUPPORTED_RELATION,
                relation.name.clone(),
                format!("unsupported relation '{}' at character {}", shorten(&relation.name), relation.position),
            ));
        }
    })
}

/// Checks the relation modifiers; returns whether masking is off (`/unmasked`).
fn check_modifiers(modifiers: &[Modifier]) -> Result<bool, SruDiagnostic> {
    let mut unmasked = false;
    for modifier in modifiers {
        let name = modifier.name.to_lowercase();
        let name = name.strip_prefix("cql.").unwrap_or(&name);
        let accepted = match (name, &modifier.value) {
            ("ignorecase" | "ignoreaccents" | "relevant" | "word" | "string" | "masked", None) => true,
            ("unmasked", None) => {
                unmasked = true;
                true
            }
            ("locale", _) => true,
            _ => false,
        };
        if !accepted {
            return Err(SruDiagnostic::new(
                code::UNSUPPORTED_RELATION_MODIFIER,
                modifier.name.clone(),
                format!(
                    "unsupported relation modifier '{}' at character {}",
                    shorten(&modifier.name),
                    modifier.position
                ),
            ));
        }
    }
    Ok(unmasked)
}

/// A term's text with escapes removed, and what unescaped special characters it has.
struct TermText {
    text: String,
    /// An unescaped `*` as the very last character (after trimming).
    trailing_star: bool,
    /// An unescaped `*` or `?` anywhere else.
    other_masks: bool,
    /// An unescaped `^`.
    anchors: bool,
}

fn term_text(raw: &str, unmasked: bool) -> TermText {
    let mut chars: Vec<(char, bool)> = Vec::with_capacity(raw.len());
    let mut iter = raw.chars();
    while let Some(c) = iter.next() {
        if c == '\\' {
            match iter.next() {
                Some(escaped) => chars.push((escaped, true)),
                None => chars.push(('\\', true)),
            }
        } else {
            chars.push((c, unmasked));
        }
    }
    // Trim white space (escaped or not) at both ends.
    while chars.last().is_some_and(|(c, _)| c.is_whitespace()) {
        chars.pop();
    }
    let start = chars.iter().position(|(c, _)| !c.is_whitespace()).unwrap_or(chars.len());
    let chars = &chars[start..];
    let special = |(c, literal): &(char, bool), set: &[char]| !literal && set.contains(c);
    let trailing_star = chars.last().is_some_and(|last| special(last, &['*']));
    let body = if trailing_star { &chars[..chars.len() - 1] } else { chars };
    TermText {
        text: body.iter().map(|(c, _)| *c).collect::<String>().trim_end().to_owned(),
        trailing_star,
        other_masks: body.iter().any(|c| special(c, &['*', '?'])),
        anchors: chars.iter().any(|c| special(c, &['^'])),
    }
}

/// Text the indexer can search: at least one letter or digit.
fn searchable(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

fn words(text: &str) -> Vec<&str> {
    text.split(char::is_whitespace).filter(|w| searchable(w)).collect()
}

impl Translator<'_> {
    fn count(&mut self, added: usize) -> Result<(), SruDiagnostic> {
        self.terms += added;
        if self.terms > MAX_TERMS {
            return Err(SruDiagnostic::new(
                code::TOO_MANY_TERMS,
                (MAX_TERMS - 1).to_string(),
                format!("the query has more than {MAX_TERMS} search terms"),
            ));
        }
        Ok(())
    }

    fn node(&mut self, ast: &Ast) -> Result<QueryNode, SruDiagnostic> {
        match ast {
            Ast::Clause(clause) => self.clause(clause),
            Ast::Boolean(boolean, left, right) => {
                let left = self.node(left)?;
                let right = self.node(right)?;
                Ok(match boolean {
                    Boolean::And => and_of(vec![left, right]),
                    Boolean::Or => or_of(vec![left, right]),
                    Boolean::Not => {
                        // `x not (all records)` matches nothing; the indexer searches it so.
                        and_of(vec![left, QueryNode::Not(Box::new(right))])
                    }
                })
            }
        }
    }

    /// Resolves an index name to what it searches.
    fn index(&self, index: &Term) -> Result<(IndexKind, &'static str), SruDiagnostic> {
        let written = unescape(&index.raw);
        let lower = written.to_lowercase();
        let name = match lower.split_once('.') {
            Some((prefix, rest)) if !CONTEXT_SETS.iter().any(|(set, _)| *set == prefix) => {
                // A prefix assigned in the query (the last assignment wins).
                let assigned = self.prefixes.iter().rev().find(|(p, _)| p == prefix).map(|(_, uri)| uri.as_str());
                let Some(uri) = assigned else {
                    return Err(SruDiagnostic::new(
                        code::UNSUPPORTED_CONTEXT_SET,
                        prefix,
                        format!("unsupported context set '{}' in index '{}'", shorten(prefix), shorten(&written)),
                    ));
                };
                let set = CONTEXT_SETS
                    .iter()
                    .chain(CONTEXT_SET_ALIASES)
                    .find(|(_, known)| known.eq_ignore_ascii_case(uri.trim()))
                    .map(|(set, _)| *set);
                match set {
                    Some(set) => format!("{set}.{rest}"),
                    None => {
                        return Err(SruDiagnostic::new(
                            code::UNSUPPORTED_CONTEXT_SET,
                            uri,
                            format!("unsupported context set '{}'", shorten(uri)),
                        ));
                    }
                }
            }
            _ => lower,
        };
        INDEXES.iter().find(|info| info.aliases.contains(&name.as_str())).map(|info| (info.kind, info.name)).ok_or_else(
            || {
                SruDiagnostic::new(
                    code::UNSUPPORTED_INDEX,
                    written.clone(),
                    format!("unsupported index '{}' at character {}", shorten(&written), index.position),
                )
            },
        )
    }

    fn clause(&mut self, clause: &Clause) -> Result<QueryNode, SruDiagnostic> {
        let (kind, index_name, rel, unmasked, rel_name) = match &clause.index {
            None => (IndexKind::Anywhere, "cql.serverChoice", Rel::Eq, false, "=".to_owned()),
            Some((index, relation)) => {
                let (kind, name) = self.index(index)?;
                let rel = relation_of(relation)?;
                let unmasked = check_modifiers(&relation.modifiers)?;
                (kind, name, rel, unmasked, relation.name.clone())
            }
        };
        let term = term_text(&clause.term.raw, unmasked);
        let position = clause.term.position;
        let unsupported_combination = || {
            SruDiagnostic::new(
                code::UNSUPPORTED_RELATION_FOR_INDEX,
                format!("{index_name} {rel_name}"),
                format!("relation '{}' cannot be used with {index_name}", shorten(&rel_name)),
            )
        };
        if kind == IndexKind::AllRecords {
            return Ok(all_records());
        }
        if term.anchors {
            return Err(SruDiagnostic::new(
                code::ANCHORING,
                shorten(&clause.term.raw),
                format!("anchoring (^) is not supported (term at character {position}); write \\^ for the character"),
            ));
        }
        let prefix_search = term.trailing_star
            && !term.other_masks
            && (kind == IndexKind::Field(SearchField::Title) || kind == IndexKind::Field(SearchField::Ndc));
        if term.other_masks || (term.trailing_star && !prefix_search) {
            return Err(SruDiagnostic::new(
                code::MASKING,
                shorten(&clause.term.raw),
                format!(
                    "masking (* or ?) is supported only at the end of a title term (term at character {position}); \
                     write \\* or \\? for the characters"
                ),
            ));
        }
        if !searchable(&term.text) {
            return Err(SruDiagnostic::bare(
                code::EMPTY_TERM,
                format!("the term at character {position} has no letter or digit to search"),
            ));
        }
        let text = term.text;
        match kind {
            IndexKind::AllRecords => Ok(all_records()),
            IndexKind::Year => self.year(rel, &text, position),
            IndexKind::Field(SearchField::Title) if prefix_search => {
                if !matches!(rel, Rel::Eq | Rel::Exact | Rel::All | Rel::Adj) {
                    return Err(unsupported_combination());
                }
                self.count(1)?;
                Ok(QueryNode::TitlePrefix(text))
            }
            IndexKind::Identifier
            | IndexKind::Field(SearchField::Isbn | SearchField::Id | SearchField::Lang | SearchField::Ndc) => {
                let field = match kind {
                    IndexKind::Field(field) => Some(field),
                    _ => None,
                };
                let one = |text: &str| {
                    let field = field.unwrap_or_else(|| identifier_field(text));
                    let stripped = strip_urn(text, "urn:isbn:");
                    let text = if field == SearchField::Isbn && searchable(stripped) { stripped } else { text };
                    QueryNode::Term { field: Some(field), text: text.trim().to_owned() }
                };
                match rel {
                    Rel::Eq | Rel::Exact | Rel::Adj | Rel::All => {
                        self.count(1)?;
                        Ok(one(&text))
                    }
                    Rel::Any => {
                        let values = words(&text);
                        self.count(values.len())?;
                        Ok(or_of(values.into_iter().map(one).collect()))
                    }
                    Rel::Lt | Rel::Gt | Rel::Le | Rel::Ge | Rel::Within => Err(unsupported_combination()),
                }
            }
            IndexKind::Anywhere | IndexKind::Field(_) => {
                let field = match kind {
                    IndexKind::Field(field) => Some(field),
                    _ => None,
                };
                let term = |word: &str| QueryNode::Term { field, text: word.to_owned() };
                match rel {
                    Rel::Eq | Rel::All => {
                        let values = words(&text);
                        self.count(values.len())?;
                        Ok(and_of(values.into_iter().map(term).collect()))
                    }
                    Rel::Any => {
                        let values = words(&text);
                        self.count(values.len())?;
                        Ok(or_of(values.into_iter().map(term).collect()))
                    }
                    Rel::Adj => {
                        self.count(1)?;
                        Ok(QueryNode::Phrase { field, text })
                    }
                    Rel::Exact => {
                        self.count(1)?;
                        Ok(match field {
                            Some(SearchField::Title) => QueryNode::ExactTitle(text),
                            _ => QueryNode::Phrase { field, text },
                        })
                    }
                    Rel::Lt | Rel::Gt | Rel::Le | Rel::Ge | Rel::Within => Err(unsupported_combination()),
                }
            }
        }
    }

    fn year(&mut self, rel: Rel, text: &str, position: usize) -> Result<QueryNode, SruDiagnostic> {
        let invalid = || {
            SruDiagnostic::new(
                code::TERM_FORMAT,
                shorten(text),
                format!(
                    "'{}' (at character {position}) is not a year: use four digits, like 1995, or a range 1990-2000",
                    shorten(text)
                ),
            )
        };
        let range = |from: Option<i32>, to: Option<i32>| match (from, to) {
            (Some(from), Some(to)) if from > to => Err(SruDiagnostic::new(
                code::TERM_FORMAT,
                shorten(text),
                format!("the year range {from}-{to} starts after it ends"),
            )),
            _ => Ok(QueryNode::YearRange { from, to }),
        };
        let node = match rel {
            Rel::Eq | Rel::Exact | Rel::All | Rel::Adj => {
                let (from, to) = year_or_range(text).ok_or_else(invalid)?;
                range(from, to)?
            }
            Rel::Any => {
                let mut years = Vec::new();
                for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
                    let (from, to) = year_or_range(word).ok_or_else(invalid)?;
                    years.push(range(from, to)?);
                }
                self.count(years.len().saturating_sub(1))?;
                or_of(years)
            }
            Rel::Within => {
                let parts: Vec<&str> = text.split(char::is_whitespace).filter(|w| !w.is_empty()).collect();
                match parts.as_slice() {
                    [from, to] => range(Some(year(from).ok_or_else(invalid)?), Some(year(to).ok_or_else(invalid)?))?,
                    [one] => {
                        let (from, to) = year_or_range(one).ok_or_else(invalid)?;
                        range(from, to)?
                    }
                    _ => return Err(invalid()),
                }
            }
            Rel::Lt | Rel::Le | Rel::Gt | Rel::Ge => {
                let y = year(text).ok_or_else(invalid)?;
                match rel {
                    Rel::Lt => range(None, Some(y - 1))?,
                    Rel::Le => range(None, Some(y))?,
                    Rel::Gt => range(Some(y + 1), None)?,
                    _ => range(Some(y), None)?,
                }
            }
        };
        self.count(1)?;
        Ok(node)
    }

    /// The order asked for after `sortby`.
    fn sort(&self, keys: &[SortKey]) -> Result<Option<Sort>, SruDiagnostic> {
        let Some(key) = keys.first() else { return Ok(None) };
        if keys.len() > 1 {
            return Err(SruDiagnostic::new(
                code::TOO_MANY_SORT_KEYS,
                "1",
                "only one sort key is supported: the index orders by year or by title reading, not both",
            ));
        }
        let mut descending = false;
        for modifier in &key.modifiers {
            let lower = modifier.name.to_lowercase();
            match lower.strip_prefix("sort.").unwrap_or(&lower) {
                "ascending" => descending = false,
                "descending" => descending = true,
                "ignorecase" | "respectcase" | "missinglow" | "missinghigh" | "missingomit" | "missingfail" => {}
                _ => {
                    return Err(SruDiagnostic::new(
                        code::SORT_UNSUPPORTED,
                        modifier.name.clone(),
                        format!("unsupported sort modifier '{}'", shorten(&modifier.name)),
                    ));
                }
            }
        }
        self.sort_by(&key.index, descending).map(Some)
    }

    /// The order of one sort key.
    fn sort_by(&self, index: &Term, descending: bool) -> Result<Sort, SruDiagnostic> {
        let (kind, name) = self.index(index).map_err(|_| {
            let written = unescape(&index.raw);
            SruDiagnostic::new(
                code::UNSUPPORTED_SORT_PATH,
                written.clone(),
                format!("cannot sort by '{}': sort by dc.date or dc.title", shorten(&written)),
            )
        })?;
        match (kind, descending) {
            (IndexKind::Year, false) => Ok(Sort::YearAsc),
            (IndexKind::Year, true) => Ok(Sort::YearDesc),
            (IndexKind::Field(SearchField::Title), false) => Ok(Sort::TitleReading),
            (IndexKind::Field(SearchField::Title), true) => Err(SruDiagnostic::new(
                code::UNSUPPORTED_SORT_DIRECTION,
                "descending",
                "titles can be sorted only in ascending order",
            )),
            _ => Err(SruDiagnostic::new(
                code::UNSUPPORTED_SORT_PATH,
                name,
                format!("cannot sort by {name}: sort by dc.date or dc.title"),
            )),
        }
    }
}

/// A scan clause read for [`super::ScanRequest`]: the index browsed and the start term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanClause {
    pub(crate) index: ScanIndex,
    pub(crate) term: String,
}

/// The indexes a scan can browse, as the explain record marks them (`scan="true"`).
pub(crate) fn scannable(name: &str) -> bool {
    matches!(name, "dc.title" | "dc.creator")
}

/// Parses SRU scan's `scanClause`: one search clause (prefix assignments allowed), `index
/// relation term` or a bare term (cql.serverChoice, which browses titles). The index is
/// `dc.title` or `dc.creator` under any of their names (16 otherwise); the relation `=`,
/// `==`, `exact`, `all`, `any`, `adj` or `scr` (19 otherwise: a scan starts at a term,
/// the relation does not change where); modifiers as in searches. The term is the start
/// term with escapes removed and a trailing `*` dropped; an empty one starts at the
/// beginning. Booleans and `sortby` are 10.
pub(crate) fn parse_scan_clause(input: &str) -> Result<ScanClause, SruDiagnostic> {
    if input.chars().nth(MAX_QUERY_CHARS).is_some() {
        return Err(SruDiagnostic::new(
            code::QUERY_TOO_LONG,
            MAX_QUERY_CHARS.to_string(),
            format!("the scan clause is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let chars: Vec<char> = input.chars().collect();
    let tokens = lex(&chars)?;
    let mut parser = Parser { tokens: &tokens, next: 0, clauses: 0, prefixes: Vec::new(), end: chars.len() };
    let ast = parser.query(0)?;
    if let Some(token) = parser.peek() {
        return Err(match token.kind {
            Kind::Close => paren_error(token.position, "unbalanced ')'"),
            _ => syntax_error(token.position, format!("unexpected {}", token.describe())),
        });
    }
    let Ast::Clause(clause) = ast else {
        return Err(syntax_error(0, "a scan clause is one index, relation and term, without booleans".to_owned()));
    };
    let translator = Translator { prefixes: &parser.prefixes, terms: 0 };
    let index = match &clause.index {
        None => ScanIndex::Title,
        Some((index, relation)) => {
            let (kind, name) = translator.index(index)?;
            let scan_index = match kind {
                IndexKind::Anywhere | IndexKind::Field(SearchField::Title) => ScanIndex::Title,
                IndexKind::Field(SearchField::Author) => ScanIndex::Author,
                _ => {
                    return Err(SruDiagnostic::new(
                        code::UNSUPPORTED_INDEX,
                        name,
                        format!("{name} cannot be scanned: scan dc.title or dc.creator"),
                    ));
                }
            };
            match relation_of(relation)? {
                Rel::Eq | Rel::Exact | Rel::All | Rel::Any | Rel::Adj => {}
                _ => {
                    return Err(SruDiagnostic::new(
                        code::UNSUPPORTED_RELATION,
                        relation.name.clone(),
                        format!("a scan starts at a term: use '=', not '{}'", shorten(&relation.name)),
                    ));
                }
            }
            check_modifiers(&relation.modifiers)?;
            scan_index
        }
    };
    let mut term = unescape(&clause.term.raw);
    if clause.term.raw.ends_with('*') && !clause.term.raw.ends_with("\\*") {
        term.pop();
    }
    Ok(ScanClause { index, term: term.trim().to_owned() })
}

/// SRU 1.1 and 1.2's `sortKeys` parameter: space-separated keys, each
/// `path,schema,ascending,caseSensitive,missingValue`, of which one key with a path naming
/// dc.date or dc.title is supported (`ascending` is 1, the default, or 0).
pub(crate) fn sort_keys_parameter(value: &str) -> Result<Option<Sort>, SruDiagnostic> {
    let keys: Vec<&str> = value.split_whitespace().collect();
    let key = match keys.as_slice() {
        [] => return Ok(None),
        [key] => *key,
        _ => {
            return Err(SruDiagnostic::new(
                code::TOO_MANY_SORT_KEYS,
                "1",
                "only one sort key is supported: the index orders by year or by title reading, not both",
            ));
        }
    };
    let mut parts = key.split(',');
    let path = parts.next().unwrap_or_default();
    let _schema = parts.next();
    let descending = match parts.next().map(str::trim).unwrap_or_default() {
        "" | "1" | "true" => false,
        "0" | "false" => true,
        other => {
            return Err(SruDiagnostic::new(
                code::UNSUPPORTED_SORT_DIRECTION,
                shorten(other),
                format!("the ascending part of a sort key is 1 or 0, not {}", shorten(other)),
            ));
        }
    };
    let translator = Translator { prefixes: &[], terms: 0 };
    translator.sort_by(&Term { raw: path.to_owned(), position: 0 }, descending).map(Some)
}

/// `dc.identifier`: an ISBN when the text is one (with or without `urn:isbn:`), else a
/// record id.
fn identifier_field(text: &str) -> SearchField {
    if catalogue::isbn13(strip_urn(text, "urn:isbn:")).is_some() { SearchField::Isbn } else { SearchField::Id }
}

fn strip_urn<'t>(text: &'t str, urn: &str) -> &'t str {
    let trimmed = text.trim();
    match trimmed.get(..urn.len()) {
        Some(head) if head.eq_ignore_ascii_case(urn) => trimmed[urn.len()..].trim(),
        _ => trimmed,
    }
}

/// Four digits (ASCII or full-width), optionally followed by 年 or by `-MM[-DD]`.
fn year(text: &str) -> Option<i32> {
    let text = text.trim().trim_end_matches('年');
    let digits: Vec<u32> = text.chars().map_while(|c| c.to_digit(10).or_else(|| full_width_digit(c))).collect();
    if digits.len() != 4 {
        return None;
    }
    let rest: String = text.chars().skip(4).collect();
    // An ISO date's month and day: "-05" or "-05-03".
    let date_tail = rest.is_empty()
        || (rest.len() <= 6
            && rest.starts_with('-')
            && rest[1..].split('-').all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())));
    if !date_tail {
        return None;
    }
    Some(digits.iter().fold(0_i32, |year, &d| year * 10 + d as i32))
}

fn full_width_digit(c: char) -> Option<u32> {
    ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32)
}

/// A year, or a range `1990-2000`, `1990-`, `-2000` (also with ～ or 〜).
fn year_or_range(text: &str) -> Option<(Option<i32>, Option<i32>)> {
    if let Some(y) = year(text) {
        return Some((Some(y), Some(y)));
    }
    let (from, to) = text.split_once(['-', '～', '〜', '~'])?;
    let bound = |part: &str| if part.trim().is_empty() { Ok(None) } else { year(part).map(Some).ok_or(()) };
    match (bound(from), bound(to)) {
        (Ok(None), Ok(None)) => None,
        (Ok(from), Ok(to)) => Some((from, to)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years() {
        assert_eq!(year("1995"), Some(1995));
        assert_eq!(year("１９９５年"), Some(1995));
        assert_eq!(year("2001-05-03"), Some(2001));
        assert_eq!(year("2001-5"), None);
        assert_eq!(year("199"), None);
        assert_eq!(year("19950"), None);
        assert_eq!(year_or_range("1990-2000"), Some((Some(1990), Some(2000))));
        assert_eq!(year_or_range("1990-"), Some((Some(1990), None)));
        assert_eq!(year_or_range("-2000"), Some((None, Some(2000))));
        assert_eq!(year_or_range("-"), None);
    }

    #[test]
    fn term_text_finds_unescaped_specials() {
        let t = term_text(r"吾輩*", false);
        assert!(t.trailing_star && !t.other_masks && t.text == "吾輩");
        let t = term_text(r"吾輩\*", false);
        assert!(!t.trailing_star && t.text == "吾輩*");
        let t = term_text(r"a*b", false);
        assert!(t.other_masks);
        let t = term_text(r"a*b?", true);
        assert!(!t.other_masks && !t.trailing_star && t.text == "a*b?");
        let t = term_text(r"\^x", false);
        assert!(!t.anchors && t.text == "^x");
    }
}
