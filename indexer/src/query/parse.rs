//! The OPAC query language: what a patron types into the search box, and what the JSON
//! API passes through unchanged.
//!
//! [`parse_query`] turns that string into a [`QueryNode`] tree. The parser only recognises
//! structure; the text of words and phrases is kept exactly as typed (trimmed), because the
//! one analysis chain (`tokenizer_dict::JapaneseAnalyzer`) normalises and segments query
//! text the same way as record text.
//!
//! # Grammar
//!
//! ```text
//! query    = sequence ;
//! sequence = { operand | "OR" | "AND" | ")" } ;        (* operands are ANDed *)
//! operand  = [ "-" ] primary ;
//! primary  = [ field ] ( word | phrase | group ) ;
//! group    = "(" sequence [ ")" ] ;                    (* ")" optional at the end *)
//! field    = name ( ":" | "：" ) ;                      (* name case-insensitive *)
//! name     = "title" | "タイトル" | "書名" | "author" | "著者"
//!          | "subject" | "件名" | "publisher" | "出版者"
//!          | "isbn" | "ndc" | "lang" | "id" | "year"
//!          | "title_exact" | "完全一致" | "title_prefix" | "前方一致" ;
//! phrase   = open-quote { any char } [ close-quote ] ; (* "…" ＂…＂ “…” 「…」 『…』 *)
//! word     = any run of characters without white space, parentheses or quotes ;
//! year     = yyyy | yyyy sep yyyy | yyyy sep | sep yyyy ;
//! yyyy     = four ASCII or full-width digits, optionally followed by "年" ;
//! sep      = "-" | "－" | "ー" | "‐" | "–" | "—" | "~" | "〜" | "～" ;
//! ```
//!
//! - White space (including the ideographic space U+3000) separates operands, which are
//!   ANDed. `OR` (upper case only), `ＯＲ` and `または` join the operands on either side;
//!   OR binds tighter than the implicit AND, so `猫 OR 犬 本` is `(猫 OR 犬) AND 本`. An
//!   upper-case `AND` (or `ＡＮＤ`) is accepted and means the same as white space.
//! - Parentheses `( )` and full-width `（ ）` group; they also end a word, so
//!   `源氏物語（上）` searches `源氏物語` and `上`.
//! - A quote opens a phrase wherever it appears, even inside a word (`映画「君の名は。」`
//!   is the word `映画` and the phrase `君の名は。`). Each opening quote is closed only by
//!   its partner; nothing inside a phrase is syntax.
//! - `-` (or `－`) excludes the operand right after it, but only at the start of the input
//!   or after white space or `(`: `CD-ROM`, `1990-2000` and `title:-x` are plain words.
//! - A field applies to the next word, phrase or group; applied to a group it applies to
//!   every word and phrase inside that has no field of its own, so `year:(1990 OR 1995)`
//!   and `著者:(夏目 -漱石)` work. `year:` turns its value into a [`QueryNode::YearRange`],
//!   `title_exact:` / `完全一致:` into [`QueryNode::ExactTitle`], `title_prefix:` /
//!   `前方一致:` into [`QueryNode::TitlePrefix`]. A word whose text before the first colon
//!   is not a field name (`http://x`, `C:`, `3:2`) is an ordinary word.
//!
//! # Leniency
//!
//! A patron's typo should not fail the search, so only input that leaves nothing to
//! search, or that is plainly wrong in a way the patron must fix, is an error:
//!
//! - An unclosed quote takes the rest of the input as the phrase. A missing `)` closes at
//!   the end of the input; a stray `)` is ignored. A stray closing quote (`”`, `」`, `』`)
//!   separates words like white space.
//! - `OR` with nothing on one side (leading, trailing, doubled) is ignored. `OR` next to an
//!   exclusion is ignored too, since "A or not B" is not a search a catalogue can answer:
//!   `猫 OR -犬` is `猫 -犬`.
//! - A `-` with nothing after it is ignored; `--猫` is the same as `-猫`. Excluding a group
//!   made only of exclusions follows De Morgan: `-(-猫 -犬)` is `猫 OR 犬`.
//! - A field with nothing usable after it (`title:` at the end, before `OR`, `)` or `-`) is
//!   ignored rather than searched as the word "title". White space after the colon is
//!   allowed: `著者: 夏目漱石` is `著者:夏目漱石`, and `year: -2000` is still the range
//!   "up to 2000" (a `-` after `year: ` excludes only when what follows is not a year).
//! - Words and phrases without a single letter or digit (`!!!`, `・`, `""`) are dropped,
//!   and a field whose value is dropped is dropped with it.
//!
//! Errors: nothing searchable left ("empty query"); more than [`MAX_QUERY_CHARS`]
//! characters; more than [`MAX_TERMS`] words, phrases and filters; parentheses nested
//! deeper than [`MAX_DEPTH`]; only exclusions; a `year:` value that is not a year or a
//! range, or a range whose start is after its end. Work is linear in the input, which is
//! itself bounded, and recursion is bounded by [`MAX_DEPTH`].

/// Longest accepted query, in characters (not bytes).
pub(crate) const MAX_QUERY_CHARS: usize = 1_000;

/// Most words, phrases and filters in one query.
pub(crate) const MAX_TERMS: usize = 64;

/// Deepest accepted nesting of parentheses.
pub(crate) const MAX_DEPTH: usize = 16;

/// A parsed query.
///
/// Invariants of every tree [`parse_query`] returns: `And` and `Or` have at least two
/// children and never a child of their own kind; `Not` appears only as a child of an `And`
/// that also has a child which is not a `Not`; texts are trimmed and contain at least one
/// letter or digit; a `YearRange` has at least one bound and `from <= to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryNode {
    /// One word, searched in `field` or, without a field, in all of them.
    Term {
        /// The field to search, or `None` for every field.
        field: Option<SearchField>,
        /// The word as typed.
        text: String,
    },
    /// A quoted phrase: its words in order.
    Phrase {
        /// The field to search, or `None` for every field.
        field: Option<SearchField>,
        /// The text between the quotes, trimmed.
        text: String,
    },
    /// Records matching every child.
    And(Vec<QueryNode>),
    /// Records matching at least one child.
    Or(Vec<QueryNode>),
    /// Records not matching the child; only ever inside an `And` next to a positive child.
    Not(Box<QueryNode>),
    /// Records published in a range of years, both ends included.
    YearRange {
        /// First year, or `None` for no lower bound.
        from: Option<i32>,
        /// Last year, or `None` for no upper bound.
        to: Option<i32>,
    },
    /// Records whose title is exactly this text (完全一致).
    ExactTitle(String),
    /// Records whose title starts with this text (前方一致).
    TitlePrefix(String),
}

/// A field a word or phrase can be restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchField {
    /// Titles: `title:`, `タイトル:`, `書名:`.
    Title,
    /// Authors and other contributors: `author:`, `著者:`.
    Author,
    /// Subject headings: `subject:`, `件名:`.
    Subject,
    /// ISBNs: `isbn:`.
    Isbn,
    /// Publishers: `publisher:`, `出版者:`.
    Publisher,
    /// Nippon Decimal Classification numbers: `ndc:`.
    Ndc,
    /// Language codes: `lang:`.
    Lang,
    /// The record's control number (001) or bib id: `id:`.
    Id,
}

/// Why a query could not be parsed: the patron's mistake, never a fault of the system.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct QueryError {
    /// Where the problem is, as a character (not byte) index into the input.
    pub position: usize,
    /// What is wrong, in English: lower case, no trailing period.
    pub message: String,
    kind: ErrorKind,
}

/// The cause of a [`QueryError`], kept so the message can be given in Japanese too.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ErrorKind {
    Empty,
    TooLong,
    TooManyTerms,
    TooDeep,
    OnlyExclusions,
    InvalidYear(String),
    YearRangeBackwards { from: i32, to: i32 },
}

impl QueryError {
    fn new(kind: ErrorKind, position: usize) -> Self {
        let message = match &kind {
            ErrorKind::Empty => "empty query".to_owned(),
            ErrorKind::TooLong => "query is too long (at most 1,000 characters)".to_owned(),
            ErrorKind::TooManyTerms => format!("too many search terms (at most {MAX_TERMS})"),
            ErrorKind::TooDeep => {
                format!("parentheses are nested too deeply (at most {MAX_DEPTH} levels)")
            }
            ErrorKind::OnlyExclusions => "a query needs at least one word that is not excluded".to_owned(),
            ErrorKind::InvalidYear(text) => {
                format!("invalid year \"{text}\": use four digits, like 1995, 1990-2000, 1990- or -2000")
            }
            ErrorKind::YearRangeBackwards { from, to } => {
                format!("year range {from}-{to} starts after it ends")
            }
        };
        Self { position, message, kind }
    }

    /// The message in Japanese, for the OPAC.
    pub fn message_ja(&self) -> String {
        match &self.kind {
            ErrorKind::Empty => "検索語を入力してください".to_owned(),
            ErrorKind::TooLong => "検索語が長すぎます（1,000文字まで）".to_owned(),
            ErrorKind::TooManyTerms => format!("検索語が多すぎます（{MAX_TERMS}語まで）"),
            ErrorKind::TooDeep => format!("括弧の入れ子が深すぎます（{MAX_DEPTH}段まで）"),
            ErrorKind::OnlyExclusions => "除外（-）する語のほかに、検索語を1つ以上入力してください".to_owned(),
            ErrorKind::InvalidYear(text) => format!(
                "出版年「{text}」を読み取れません。1995、1990-2000、1990-、-2000 のように4桁の西暦で指定してください"
            ),
            ErrorKind::YearRangeBackwards { from, to } => {
                format!("出版年の範囲 {from}-{to} は開始年が終了年より後になっています")
            }
        }
    }
}

/// Parses a query typed by a patron.
///
/// Never panics, and the work done is linear in the input, which is rejected early when
/// longer than 1,000 characters. See the module docs for the grammar and leniency rules.
pub fn parse_query(input: &str) -> Result<QueryNode, QueryError> {
    // Checked before anything is allocated, so a huge input costs 1,001 chars of scanning.
    if input.chars().nth(MAX_QUERY_CHARS).is_some() {
        return Err(QueryError::new(ErrorKind::TooLong, MAX_QUERY_CHARS));
    }
    let chars: Vec<char> = input.chars().collect();
    let tokens = lex(&chars);
    let mut parser = Parser { tokens: &tokens, next: 0, leaves: 0 };
    let parts = parser.sequence(None, 0)?;
    if parts.is_empty() {
        return Err(QueryError::new(ErrorKind::Empty, 0));
    }
    if !parts.iter().any(|part| matches!(part, Part::Pos(_))) {
        let position = parts
            .iter()
            .find_map(|part| match part {
                Part::Neg(_, position) => Some(*position),
                Part::Pos(_) => None,
            })
            .unwrap_or(0);
        return Err(QueryError::new(ErrorKind::OnlyExclusions, position));
    }
    Ok(and_of(parts))
}

/// What a field prefix does to the value after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Search(SearchField),
    Year,
    ExactTitle,
    TitlePrefix,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    Word(String),
    Phrase(String),
    Field(FieldKind),
    Minus,
    Or,
    And,
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: TokenKind,
    /// Character index of the token's first character.
    position: usize,
}

fn is_open_paren(c: char) -> bool {
    matches!(c, '(' | '（')
}

fn is_close_paren(c: char) -> bool {
    matches!(c, ')' | '）')
}

/// The closing partner of an opening quote.
fn quote_closer(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '＂' => Some('＂'),
        '“' => Some('”'),
        '「' => Some('」'),
        '『' => Some('』'),
        _ => None,
    }
}

/// A closing quote met outside a phrase: it separates words, like white space.
fn is_stray_closer(c: char) -> bool {
    matches!(c, '”' | '」' | '』')
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '－')
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || is_open_paren(c) || is_close_paren(c) || quote_closer(c).is_some() || is_stray_closer(c)
}

/// A field prefix at the start of `word`: the field and the index of its colon.
fn field_prefix(word: &[char]) -> Option<(FieldKind, usize)> {
    let colon = word.iter().position(|&c| matches!(c, ':' | '：'))?;
    let name: String = word[..colon].iter().collect::<String>().to_ascii_lowercase();
    let kind = match name.as_str() {
        "title" | "タイトル" | "書名" => FieldKind::Search(SearchField::Title),
        "author" | "著者" => FieldKind::Search(SearchField::Author),
        "subject" | "件名" => FieldKind::Search(SearchField::Subject),
        "isbn" => FieldKind::Search(SearchField::Isbn),
        "publisher" | "出版者" => FieldKind::Search(SearchField::Publisher),
        "ndc" => FieldKind::Search(SearchField::Ndc),
        "lang" => FieldKind::Search(SearchField::Lang),
        "id" => FieldKind::Search(SearchField::Id),
        "year" => FieldKind::Year,
        "title_exact" | "完全一致" => FieldKind::ExactTitle,
        "title_prefix" | "前方一致" => FieldKind::TitlePrefix,
        _ => return None,
    };
    Some((kind, colon))
}

/// Splits the input into tokens. Every loop turn consumes at least one character.
fn lex(chars: &[char]) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    // True at the start and after white space or `(`: the places where `-` excludes.
    let mut may_exclude = true;
    while i < chars.len() {
        let c = chars[i];
        let position = i;
        if c.is_whitespace() || is_stray_closer(c) {
            i += 1;
            may_exclude = true;
        } else if is_open_paren(c) {
            tokens.push(Token { kind: TokenKind::Open, position });
            i += 1;
            may_exclude = true;
        } else if is_close_paren(c) {
            tokens.push(Token { kind: TokenKind::Close, position });
            i += 1;
            may_exclude = false;
        } else if let Some(closer) = quote_closer(c) {
            // An unclosed quote takes the rest of the input.
            let start = i + 1;
            let end = chars[start..].iter().position(|&d| d == closer).map_or(chars.len(), |offset| start + offset);
            let text: String = chars[start..end].iter().collect();
            tokens.push(Token { kind: TokenKind::Phrase(text), position });
            i = (end + 1).min(chars.len());
            may_exclude = false;
        } else if is_hyphen(c) && may_exclude {
            let mut j = i;
            while j < chars.len() && is_hyphen(chars[j]) {
                j += 1;
            }
            // A `-` before white space, `)` or the end excludes nothing and is dropped.
            if j < chars.len() && !chars[j].is_whitespace() && !is_close_paren(chars[j]) && !is_stray_closer(chars[j]) {
                tokens.push(Token { kind: TokenKind::Minus, position });
            }
            i = j;
            may_exclude = false;
        } else {
            let start = i;
            while i < chars.len() && !ends_word(chars[i]) {
                i += 1;
            }
            let word = &chars[start..i];
            // `-OR` excludes the word "OR"; it is not an operator.
            // A Minus token is always followed at once by the operand it excludes.
            let after_minus = tokens.last().is_some_and(|t| t.kind == TokenKind::Minus);
            if let Some((field, colon)) = field_prefix(word) {
                tokens.push(Token { kind: TokenKind::Field(field), position });
                // The rest of the word is the value, taken literally: `title:OR`,
                // `year:-2000` and `title:author:x` are values, not syntax.
                if colon + 1 < word.len() {
                    tokens.push(Token {
                        kind: TokenKind::Word(word[colon + 1..].iter().collect()),
                        position: start + colon + 1,
                    });
                }
            } else {
                let text: String = word.iter().collect();
                let kind = match text.as_str() {
                    "OR" | "ＯＲ" | "または" if !after_minus => TokenKind::Or,
                    "AND" | "ＡＮＤ" if !after_minus => TokenKind::And,
                    _ => TokenKind::Word(text),
                };
                tokens.push(Token { kind, position });
            }
            may_exclude = false;
        }
    }
    tokens
}

/// One AND-ed item of a sequence: a positive node, or an excluded node with the position
/// of its `-`.
#[derive(Debug)]
enum Part {
    Pos(QueryNode),
    Neg(QueryNode, usize),
}

/// A parsed operand: positive, or made only of exclusions (a `-x`, or a group like
/// `(-x -y)`), which cannot be an operand of OR and is spliced into the enclosing AND.
#[derive(Debug)]
enum Unit {
    Pos(QueryNode),
    Neg(Vec<(QueryNode, usize)>),
}

impl Unit {
    fn from_parts(parts: Vec<Part>) -> Option<Self> {
        if parts.is_empty() {
            None
        } else if parts.iter().any(|part| matches!(part, Part::Pos(_))) {
            Some(Self::Pos(and_of(parts)))
        } else {
            let negs = parts
                .into_iter()
                .filter_map(|part| match part {
                    Part::Neg(node, position) => Some((node, position)),
                    Part::Pos(_) => None,
                })
                .collect();
            Some(Self::Neg(negs))
        }
    }

    fn negate(self, position: usize) -> Self {
        match self {
            Self::Pos(node) => Self::Neg(vec![(node, position)]),
            // De Morgan: not (not a and not b) is (a or b).
            Self::Neg(negs) => Self::Pos(or_of(negs.into_iter().map(|(node, _)| node).collect())),
        }
    }
}

/// An AND of parts with at least one positive part, flattened; a lone part unwrapped.
fn and_of(parts: Vec<Part>) -> QueryNode {
    let mut nodes = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Part::Pos(QueryNode::And(children)) => nodes.extend(children),
            Part::Pos(node) => nodes.push(node),
            Part::Neg(node, _) => nodes.push(QueryNode::Not(Box::new(node))),
        }
    }
    unwrap_single(nodes, QueryNode::And)
}

/// An OR of positive nodes, flattened; a lone node unwrapped.
fn or_of(nodes: Vec<QueryNode>) -> QueryNode {
    let mut flat = Vec::with_capacity(nodes.len());
    for node in nodes {
        match node {
            QueryNode::Or(children) => flat.extend(children),
            node => flat.push(node),
        }
    }
    unwrap_single(flat, QueryNode::Or)
}

fn unwrap_single(mut nodes: Vec<QueryNode>, wrap: fn(Vec<QueryNode>) -> QueryNode) -> QueryNode {
    if nodes.len() == 1
        && let Some(node) = nodes.pop()
    {
        return node;
    }
    wrap(nodes)
}

/// A sequence item before OR is resolved.
enum Piece {
    Unit(Unit),
    Or,
}

struct Parser<'t> {
    tokens: &'t [Token],
    next: usize,
    /// Words, phrases and filters produced so far, for the [`MAX_TERMS`] limit.
    leaves: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.next).map(|t| &t.kind)
    }

    /// Parses operands up to the end of the input, or up to the `)` closing this group
    /// when `depth > 0`; returns them as AND-ed parts with OR resolved.
    fn sequence(&mut self, field: Option<FieldKind>, depth: usize) -> Result<Vec<Part>, QueryError> {
        let mut pieces = Vec::new();
        while let Some(token) = self.tokens.get(self.next) {
            match token.kind {
                TokenKind::Close => {
                    self.next += 1;
                    if depth > 0 {
                        break;
                    }
                    // A stray `)` at the top level is ignored.
                }
                TokenKind::Or => {
                    self.next += 1;
                    pieces.push(Piece::Or);
                }
                TokenKind::And => self.next += 1,
                TokenKind::Minus => {
                    self.next += 1;
                    if let Some(unit) = self.primary(field, depth)? {
                        pieces.push(Piece::Unit(unit.negate(token.position)));
                    }
                }
                // Word, phrase, group or field: `primary` consumes at least one token.
                _ => {
                    if let Some(unit) = self.primary(field, depth)? {
                        pieces.push(Piece::Unit(unit));
                    }
                }
            }
        }
        Ok(resolve_or(pieces))
    }

    /// Parses a word, phrase, group or field with its value. Returns `None` when there is
    /// nothing searchable; consumes nothing when the next token cannot start a primary.
    fn primary(&mut self, field: Option<FieldKind>, depth: usize) -> Result<Option<Unit>, QueryError> {
        let Some(token) = self.tokens.get(self.next) else {
            return Ok(None);
        };
        let position = token.position;
        match &token.kind {
            TokenKind::Word(text) => {
                self.next += 1;
                self.leaf(field, false, text, position)
            }
            TokenKind::Phrase(text) => {
                self.next += 1;
                self.leaf(field, true, text, position)
            }
            TokenKind::Open => {
                self.next += 1;
                if depth >= MAX_DEPTH {
                    return Err(QueryError::new(ErrorKind::TooDeep, position));
                }
                let parts = self.sequence(field, depth + 1)?;
                Ok(Unit::from_parts(parts))
            }
            TokenKind::Field(kind) => {
                let kind = *kind;
                self.next += 1;
                match self.peek() {
                    Some(TokenKind::Word(_) | TokenKind::Phrase(_) | TokenKind::Open) => {
                        self.primary(Some(kind), depth)
                    }
                    Some(TokenKind::Minus) if kind == FieldKind::Year => self.spaced_year_to(),
                    // Nothing usable after the field: it is ignored.
                    _ => Ok(None),
                }
            }
            TokenKind::Minus | TokenKind::Or | TokenKind::And | TokenKind::Close => Ok(None),
        }
    }

    /// After `year:` and white space, `-2000` is the open range "up to 2000", not an
    /// exclusion. Anything else after the `-` leaves the field ignored and the `-` an
    /// exclusion.
    fn spaced_year_to(&mut self) -> Result<Option<Unit>, QueryError> {
        let (Some(minus), Some(word)) = (self.tokens.get(self.next), self.tokens.get(self.next + 1)) else {
            return Ok(None);
        };
        match &word.kind {
            TokenKind::Word(text) if parse_one_year(text).is_some() => {
                self.next += 2;
                self.leaf(Some(FieldKind::Year), false, &format!("-{text}"), minus.position)
            }
            _ => Ok(None),
        }
    }

    fn leaf(
        &mut self,
        field: Option<FieldKind>,
        phrase: bool,
        text: &str,
        position: usize,
    ) -> Result<Option<Unit>, QueryError> {
        let text = text.trim();
        if !text.chars().any(char::is_alphanumeric) {
            return Ok(None);
        }
        self.leaves += 1;
        if self.leaves > MAX_TERMS {
            return Err(QueryError::new(ErrorKind::TooManyTerms, position));
        }
        let text = text.to_owned();
        let node = match field {
            None | Some(FieldKind::Search(_)) => {
                let field = match field {
                    Some(FieldKind::Search(field)) => Some(field),
                    _ => None,
                };
                if phrase { QueryNode::Phrase { field, text } } else { QueryNode::Term { field, text } }
            }
            Some(FieldKind::Year) => parse_year(&text, position)?,
            Some(FieldKind::ExactTitle) => QueryNode::ExactTitle(text),
            Some(FieldKind::TitlePrefix) => QueryNode::TitlePrefix(text),
        };
        Ok(Some(Unit::Pos(node)))
    }
}

/// Joins the operands on both sides of each OR. An OR missing an operand on either side,
/// or next to an exclusion, is dropped.
fn resolve_or(pieces: Vec<Piece>) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chain: Vec<QueryNode> = Vec::new();
    let mut pending_or = false;
    for piece in pieces {
        match piece {
            Piece::Or => pending_or = true,
            Piece::Unit(Unit::Pos(node)) => {
                // The OR joins this operand to the chain only if the chain has one.
                let joins_chain = pending_or && !chain.is_empty();
                if !joins_chain {
                    flush_chain(&mut chain, &mut parts);
                }
                chain.push(node);
                pending_or = false;
            }
            Piece::Unit(Unit::Neg(negs)) => {
                flush_chain(&mut chain, &mut parts);
                parts.extend(negs.into_iter().map(|(node, position)| Part::Neg(node, position)));
                pending_or = false;
            }
        }
    }
    flush_chain(&mut chain, &mut parts);
    parts
}

fn flush_chain(chain: &mut Vec<QueryNode>, parts: &mut Vec<Part>) {
    if !chain.is_empty() {
        parts.push(Part::Pos(or_of(std::mem::take(chain))));
    }
}

/// Parses a `year:` value: `1995`, `1990-2000`, `1990-`, `-2000`, with ASCII or full-width
/// digits and an optional `年` after each year.
fn parse_year(text: &str, position: usize) -> Result<QueryNode, QueryError> {
    let invalid = || QueryError::new(ErrorKind::InvalidYear(text.to_owned()), position);
    let is_sep = |c: char| matches!(c, '-' | '－' | 'ー' | '‐' | '–' | '—' | '~' | '〜' | '～');
    let (from, to) = match text.find(is_sep) {
        None => {
            let year = parse_one_year(text).ok_or_else(invalid)?;
            (Some(year), Some(year))
        }
        Some(at) => {
            let (left, right) = text.split_at(at);
            // Drop the separator itself (any width) from the right-hand side.
            let right: String = right.chars().skip(1).collect();
            let bound = |side: &str| -> Result<Option<i32>, QueryError> {
                if side.is_empty() { Ok(None) } else { parse_one_year(side).map(Some).ok_or_else(invalid) }
            };
            (bound(left)?, bound(&right)?)
        }
    };
    match (from, to) {
        (None, None) => Err(invalid()),
        (Some(from), Some(to)) if from > to => {
            Err(QueryError::new(ErrorKind::YearRangeBackwards { from, to }, position))
        }
        _ => Ok(QueryNode::YearRange { from, to }),
    }
}

/// Four ASCII or full-width digits, optionally followed by `年`.
fn parse_one_year(text: &str) -> Option<i32> {
    let digits = text.strip_suffix('年').unwrap_or(text);
    let mut year = 0i32;
    let mut count = 0;
    for c in digits.chars() {
        let digit = match c {
            '0'..='9' => c.to_digit(10),
            '０'..='９' => Some(u32::from(c) - u32::from('０')),
            _ => None,
        }?;
        count += 1;
        if count > 4 {
            return None;
        }
        year = year * 10 + i32::try_from(digit).ok()?;
    }
    (count == 4).then_some(year)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use QueryNode::{And, ExactTitle, Or, TitlePrefix};

    fn t(text: &str) -> QueryNode {
        QueryNode::Term { field: None, text: text.to_owned() }
    }

    fn ft(field: SearchField, text: &str) -> QueryNode {
        QueryNode::Term { field: Some(field), text: text.to_owned() }
    }

    fn p(text: &str) -> QueryNode {
        QueryNode::Phrase { field: None, text: text.to_owned() }
    }

    fn fp(field: SearchField, text: &str) -> QueryNode {
        QueryNode::Phrase { field: Some(field), text: text.to_owned() }
    }

    fn not(node: QueryNode) -> QueryNode {
        QueryNode::Not(Box::new(node))
    }

    fn years(from: Option<i32>, to: Option<i32>) -> QueryNode {
        QueryNode::YearRange { from, to }
    }

    fn exact(text: &str) -> QueryNode {
        ExactTitle(text.to_owned())
    }

    fn prefix(text: &str) -> QueryNode {
        TitlePrefix(text.to_owned())
    }

    use SearchField::{Author, Isbn, Lang, Ndc, Publisher, Subject, Title};

    /// Input, expected tree.
    fn ok_cases() -> Vec<(&'static str, QueryNode)> {
        vec![
            // Words and the implicit AND.
            ("猫", t("猫")),
            ("  猫  ", t("猫")),
            ("夏目漱石 こころ", And(vec![t("夏目漱石"), t("こころ")])),
            ("夏目漱石\u{3000}こころ", And(vec![t("夏目漱石"), t("こころ")])),
            ("広辞苑 第七版", And(vec![t("広辞苑"), t("第七版")])),
            ("CD-ROM", t("CD-ROM")),
            ("1990-2000", t("1990-2000")),
            ("http://example.com", t("http://example.com")),
            ("C: drive", And(vec![t("C:"), t("drive")])),
            ("3:2", t("3:2")),
            ("or and", And(vec![t("or"), t("and")])),
            ("猫 AND 犬", And(vec![t("猫"), t("犬")])),
            // Phrases in every quote style.
            ("\"a phrase\"", p("a phrase")),
            ("＂吾輩は猫である＂", p("吾輩は猫である")),
            ("“wuthering heights”", p("wuthering heights")),
            ("「こころ」", p("こころ")),
            ("『坊っちゃん』 漱石", And(vec![p("坊っちゃん"), t("漱石")])),
            ("映画「君の名は。」", And(vec![t("映画"), p("君の名は。")])),
            ("\" 空白 \"", p("空白")),
            ("「a \"b\" (c)」", p("a \"b\" (c)")),
            // Exclusion.
            ("-\"新版\" 源氏物語", And(vec![not(p("新版")), t("源氏物語")])),
            ("猫 -犬", And(vec![t("猫"), not(t("犬"))])),
            ("猫 －犬", And(vec![t("猫"), not(t("犬"))])),
            ("猫 --犬", And(vec![t("猫"), not(t("犬"))])),
            ("猫 -author:漱石", And(vec![t("猫"), not(ft(Author, "漱石"))])),
            ("猫 -OR", And(vec![t("猫"), not(t("OR"))])),
            ("猫 -(犬 鳥)", And(vec![t("猫"), not(And(vec![t("犬"), t("鳥")]))])),
            ("猫 -(-犬 -鳥)", And(vec![t("猫"), Or(vec![t("犬"), t("鳥")])])),
            ("(-犬) 猫", And(vec![not(t("犬")), t("猫")])),
            ("猫 - 犬", And(vec![t("猫"), t("犬")])),
            ("猫 -", t("猫")),
            ("(猫 -)", t("猫")),
            ("猫-犬", t("猫-犬")),
            // OR.
            ("猫 OR 犬", Or(vec![t("猫"), t("犬")])),
            ("猫 OR 犬 本", And(vec![Or(vec![t("猫"), t("犬")]), t("本")])),
            ("本 猫 または 犬", And(vec![t("本"), Or(vec![t("猫"), t("犬")])])),
            ("猫 ＯＲ 犬 OR 鳥", Or(vec![t("猫"), t("犬"), t("鳥")])),
            ("(猫 OR 犬) OR 鳥", Or(vec![t("猫"), t("犬"), t("鳥")])),
            ("(猫 犬) OR 鳥", Or(vec![And(vec![t("猫"), t("犬")]), t("鳥")])),
            ("OR 猫", t("猫")),
            ("猫 OR", t("猫")),
            ("猫 OR OR 犬", Or(vec![t("猫"), t("犬")])),
            ("猫 OR -犬", And(vec![t("猫"), not(t("犬"))])),
            ("-犬 OR 猫", And(vec![not(t("犬")), t("猫")])),
            ("猫 OR !!! OR 犬", Or(vec![t("猫"), t("犬")])),
            // Parentheses.
            ("(猫 犬)", And(vec![t("猫"), t("犬")])),
            ("((猫))", t("猫")),
            ("(猫 OR 犬", Or(vec![t("猫"), t("犬")])),
            ("猫) 犬", And(vec![t("猫"), t("犬")])),
            ("源氏物語（上）", And(vec![t("源氏物語"), t("上")])),
            ("() 猫", t("猫")),
            // Fields.
            ("title:こころ", ft(Title, "こころ")),
            ("TITLE:こころ", ft(Title, "こころ")),
            ("タイトル:こころ", ft(Title, "こころ")),
            ("著者：夏目漱石 書名:「こころ」", And(vec![ft(Author, "夏目漱石"), fp(Title, "こころ")])),
            ("件名:猫 出版者:岩波書店", And(vec![ft(Subject, "猫"), ft(Publisher, "岩波書店")])),
            ("isbn:978-4-00-080131-4", ft(Isbn, "978-4-00-080131-4")),
            ("ndc:913.6 lang:jpn", And(vec![ft(Ndc, "913.6"), ft(Lang, "jpn")])),
            ("publisher:\"岩波書店", fp(Publisher, "岩波書店")),
            ("著者: 夏目漱石", ft(Author, "夏目漱石")),
            ("author:(夏目 OR 森) 猫", And(vec![Or(vec![ft(Author, "夏目"), ft(Author, "森")]), t("猫")])),
            (
                "author:(漱石 title:猫 -\"新版\")",
                And(vec![ft(Author, "漱石"), ft(Title, "猫"), not(fp(Author, "新版"))]),
            ),
            ("title:author:x", ft(Title, "author:x")),
            ("title:OR", ft(Title, "OR")),
            ("title:-x", ft(Title, "-x")),
            ("title: 猫", ft(Title, "猫")),
            ("猫 title:", t("猫")),
            ("猫 title: OR 犬", Or(vec![t("猫"), t("犬")])),
            ("(title:) 猫", t("猫")),
            ("猫 title:!!!", t("猫")),
            // Years.
            ("year:1995", years(Some(1995), Some(1995))),
            ("year:1990-2000", years(Some(1990), Some(2000))),
            ("year:１９９０-２０００", years(Some(1990), Some(2000))),
            ("year:１９９０－２０００", years(Some(1990), Some(2000))),
            ("year:1990ー2000", years(Some(1990), Some(2000))),
            ("year:1990年〜2000年", years(Some(1990), Some(2000))),
            ("year:1990-", years(Some(1990), None)),
            ("year:-2000", years(None, Some(2000))),
            ("year: -2000 猫", And(vec![years(None, Some(2000)), t("猫")])),
            ("year: 1990- 猫", And(vec![years(Some(1990), None), t("猫")])),
            ("猫 year: -犬", And(vec![t("猫"), not(t("犬"))])),
            ("year:\"2000\"", years(Some(2000), Some(2000))),
            (
                "year:(1990 OR 1995) 猫",
                And(vec![Or(vec![years(Some(1990), Some(1990)), years(Some(1995), Some(1995))]), t("猫")]),
            ),
            ("猫 -year:2000-", And(vec![t("猫"), not(years(Some(2000), None))])),
            // Exact title and title prefix.
            ("title_exact:\"吾輩は猫である\"", exact("吾輩は猫である")),
            ("完全一致:「こころ」", exact("こころ")),
            ("完全一致：吾輩は猫である", exact("吾輩は猫である")),
            ("前方一致:吾輩", prefix("吾輩")),
            ("title_prefix:\"The Tale of\"", prefix("The Tale of")),
            ("前方一致:(吾輩 OR 我輩)", Or(vec![prefix("吾輩"), prefix("我輩")])),
            // Lenient quotes.
            ("猫 \"長靴をはいた", And(vec![t("猫"), p("長靴をはいた")])),
            ("12\" record", And(vec![t("12"), p("record")])),
            ("こころ」 漱石", And(vec![t("こころ"), t("漱石")])),
            ("\"\" 猫", t("猫")),
            ("!!! 猫 ・", t("猫")),
        ]
    }

    /// Input, expected English message, expected position.
    fn err_cases() -> Vec<(&'static str, &'static str, usize)> {
        vec![
            ("", "empty query", 0),
            ("   \u{3000} ", "empty query", 0),
            ("!!! ・・・ 。", "empty query", 0),
            ("OR", "empty query", 0),
            ("OR OR または", "empty query", 0),
            ("-", "empty query", 0),
            ("title:", "empty query", 0),
            ("著者:", "empty query", 0),
            ("\"\"", "empty query", 0),
            ("()", "empty query", 0),
            (")(", "empty query", 0),
            ("-猫", "a query needs at least one word that is not excluded", 0),
            ("-猫 OR -犬", "a query needs at least one word that is not excluded", 0),
            ("-猫 -犬", "a query needs at least one word that is not excluded", 0),
            ("!!! -猫", "a query needs at least one word that is not excluded", 4),
            ("year:2000-1990", "year range 2000-1990 starts after it ends", 5),
            ("year:abc", "invalid year \"abc\": use four digits, like 1995, 1990-2000, 1990- or -2000", 5),
            ("猫 year:199", "invalid year \"199\": use four digits, like 1995, 1990-2000, 1990- or -2000", 7),
            ("year:19900", "invalid year \"19900\": use four digits, like 1995, 1990-2000, 1990- or -2000", 5),
            (
                "year:1990-2000-2010",
                "invalid year \"1990-2000-2010\": use four digits, like 1995, 1990-2000, 1990- or -2000",
                5,
            ),
            ("year:-", "empty query", 0),
        ]
    }

    #[test]
    fn table_of_queries() {
        let mut failures = Vec::new();
        for (input, expected) in ok_cases() {
            let got = parse_query(input);
            if got.as_ref() != Ok(&expected) {
                failures.push(format!("{input:?}\n  expected {expected:?}\n  got      {got:?}"));
            }
        }
        for (input, message, position) in err_cases() {
            match parse_query(input) {
                Err(e) if e.message == message && e.position == position => {}
                got => failures.push(format!("{input:?}\n  expected error {message:?} at {position}\n  got {got:?}")),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(ok_cases().len() + err_cases().len() >= 40);
    }

    #[test]
    fn errors_display_and_translate() {
        let e = parse_query("  ").unwrap_err();
        assert_eq!(e.to_string(), "empty query (at character 0)");
        assert_eq!(e.message_ja(), "検索語を入力してください");
        let e = parse_query("猫 year:2000-1990").unwrap_err();
        assert_eq!(e.position, 7);
        assert!(e.message_ja().contains("2000-1990"), "{}", e.message_ja());
        // Every kind has a Japanese message distinct from the English one.
        for input in ["", "-猫", "year:x", "year:2-1", &"a ".repeat(65), &"(".repeat(17)] {
            let e = parse_query(input).unwrap_err();
            assert!(!e.message.ends_with('.') && e.message.chars().next().is_some_and(char::is_lowercase));
            assert!(e.message_ja().chars().any(|c| c > '\u{3000}'), "{input:?}: {}", e.message_ja());
        }
    }

    #[test]
    fn length_limit_counts_characters_not_bytes() {
        let at_limit = "猫".repeat(MAX_QUERY_CHARS);
        assert_eq!(parse_query(&at_limit), Ok(t(&at_limit)));
        let over = "猫".repeat(MAX_QUERY_CHARS + 1);
        let e = parse_query(&over).unwrap_err();
        assert_eq!(e.message, "query is too long (at most 1,000 characters)");
        assert_eq!(e.position, MAX_QUERY_CHARS);
        assert_eq!(e.message_ja(), "検索語が長すぎます（1,000文字まで）");
    }

    // Speed belongs in benches, not in timed unit tests: these check the answers only.
    #[test]
    fn ten_thousand_characters_are_refused() {
        let input: String = "猫 (title:\"犬 OR -".chars().cycle().take(10_000).collect();
        let e = parse_query(&input).unwrap_err();
        assert_eq!(e.message, "query is too long (at most 1,000 characters)");
        let huge = "a".repeat(10_000_000);
        assert!(parse_query(&huge).is_err());
    }

    #[test]
    fn worst_case_inputs_of_the_maximum_length_are_answered() {
        let inputs = [
            "(".repeat(1000),
            ")".repeat(1000),
            "\"".repeat(1000),
            "「".repeat(1000),
            "-".repeat(1000),
            "- ".repeat(500),
            "OR ".repeat(333),
            "title:".repeat(166),
            "year:".repeat(200),
            "a:".repeat(500),
            "a ".repeat(500),
            "(-".repeat(500),
            format!("{}猫", "(".repeat(16)),
            "猫".repeat(1000),
        ];
        for input in &inputs {
            match parse_query(input) {
                Ok(node) => assert!(!format!("{node:?}").is_empty()),
                Err(e) => assert!(!e.message.is_empty() && e.position <= input.chars().count(), "{input:?}: {e:?}"),
            }
        }
    }

    #[test]
    fn at_most_64_terms() {
        let words: Vec<String> = (0..65).map(|i| format!("w{i}")).collect();
        let ok = parse_query(&words[..64].join(" ")).unwrap();
        assert!(matches!(&ok, And(children) if children.len() == 64));
        let e = parse_query(&words.join(" ")).unwrap_err();
        assert_eq!(e.message, "too many search terms (at most 64)");
        // The 65th word starts after 64 words and their spaces.
        let position = words[..64].iter().map(|w| w.chars().count() + 1).sum::<usize>();
        assert_eq!(e.position, position);
        // Dropped punctuation and operators do not count.
        let padded = format!("{} {}", "OR !!! - ".repeat(20), words[..64].join(" "));
        assert!(parse_query(&padded).is_ok());
    }

    #[test]
    fn at_most_16_levels_of_parentheses() {
        let deep = |n: usize| format!("{}猫{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(parse_query(&deep(16)), Ok(t("猫")));
        let e = parse_query(&deep(17)).unwrap_err();
        assert_eq!(e.message, "parentheses are nested too deeply (at most 16 levels)");
        assert_eq!(e.position, 16);
        // Unclosed groups count too, and full-width parentheses are parentheses.
        assert!(parse_query(&"（".repeat(17)).is_err());
        assert!(parse_query(&format!("{}猫", "(".repeat(16))).is_ok());
    }

    /// Checks the invariants documented on [`QueryNode`].
    fn check_tree(node: &QueryNode, parent_is_and: bool) -> Result<usize, String> {
        let searchable =
            |text: &str| !text.is_empty() && text.trim() == text && text.chars().any(char::is_alphanumeric);
        match node {
            QueryNode::Term { text, .. } | QueryNode::Phrase { text, .. } | ExactTitle(text) | TitlePrefix(text) => {
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
            And(children) => {
                if children.len() < 2 || children.iter().any(|c| matches!(c, And(_))) {
                    return Err(format!("bad And {children:?}"));
                }
                if children.iter().all(|c| matches!(c, QueryNode::Not(_))) {
                    return Err("And of only exclusions".to_owned());
                }
                children.iter().map(|c| check_tree(c, true)).sum()
            }
            Or(children) => {
                if children.len() < 2 || children.iter().any(|c| matches!(c, Or(_))) {
                    return Err(format!("bad Or {children:?}"));
                }
                children.iter().map(|c| check_tree(c, false)).sum()
            }
        }
    }

    fn check_input(input: &str) -> Result<(), TestCaseError> {
        match parse_query(input) {
            Ok(node) => {
                let leaves = check_tree(&node, false).map_err(TestCaseError::fail)?;
                prop_assert!(leaves <= MAX_TERMS);
            }
            Err(e) => {
                prop_assert!(e.position <= input.chars().count());
                prop_assert!(!e.message.is_empty() && !e.message.ends_with('.'));
                prop_assert!(!e.message_ja().is_empty());
            }
        }
        Ok(())
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(vec![
                "\"", "＂", "“", "”", "「", "」", "『", "』", "(", ")", "（", "）", "-", "－",
                ":", "：", "OR", "または", "AND", " ", " ", " ", "\u{3000}", "title:", "著者：",
                "year:", "完全一致:", "前方一致:", "isbn:", "!", "・",
            ])
            .prop_map(str::to_owned),
            2 => "[a-z0-9]{1,4}",
            2 => "[猫犬本夏目漱石こころ0-9０-９年ー〜]{1,4}",
            1 => any::<char>().prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn mixed_syntax_never_panics(parts in prop::collection::vec(fragment(), 0..120)) {
            check_input(&parts.concat())?;
        }

        #[test]
        fn arbitrary_strings_never_panic(input in any::<String>()) {
            check_input(&input)?;
        }
    }
}
