//! tantivy tokenizers over the Japanese analyser.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer, TokenizerManager};
use tokenizer_dict::{Analysis, JapaneseAnalyzer};

/// Which view of the analysis a tokenizer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenView {
    /// Normalised morphemes; compound parts at their compound's position.
    Morphemes,
    /// CJK bigrams, and unigrams for one-character words and runs.
    Bigrams,
    /// Hiragana readings of the morphemes.
    Readings,
    /// Bigrams over the reading of the whole text, so a hiragana query meets the record
    /// however the dictionary segments the hiragana (としょかん alone splits badly).
    /// Nothing for a text whose reading has no kana (Latin letters, digits).
    ReadingBigrams,
    /// The reading bigrams of the whole text's reading folded as patrons' slips blur it
    /// ([`tokenizer_dict::fold_kana`]: no dakuten, small kana as large, long vowels once),
    /// for the near-spelling search of a reading that found too little.
    FoldedReadingBigrams,
    /// Romanised readings, Hepburn and wāpuro at the same position.
    Romaji,
    /// One token: the whole text's exact key, for 完全一致 and 前方一致.
    ExactKey,
    /// The first character of each bigram: a kana or kanji that begins a longer word, so
    /// a one-character query (「城」) finds 城下町 with one term instead of a union of every
    /// bigram starting with it.
    BigramLeads,
}

impl TokenView {
    /// Every view, in a fixed order.
    pub const ALL: [TokenView; 8] = [
        TokenView::Morphemes,
        TokenView::Bigrams,
        TokenView::Readings,
        TokenView::ReadingBigrams,
        TokenView::FoldedReadingBigrams,
        TokenView::Romaji,
        TokenView::ExactKey,
        TokenView::BigramLeads,
    ];

    /// The name the tokenizer is registered under.
    pub fn tokenizer_name(self) -> &'static str {
        match self {
            TokenView::Morphemes => "ja_morpheme",
            TokenView::Bigrams => "ja_bigram",
            TokenView::Readings => "ja_reading",
            TokenView::ReadingBigrams => "ja_reading_bigram",
            TokenView::FoldedReadingBigrams => "ja_folded_reading_bigram",
            TokenView::Romaji => "ja_romaji",
            TokenView::ExactKey => "ja_exact_key",
            TokenView::BigramLeads => "ja_bigram_lead",
        }
    }
}

/// A tantivy tokenizer emitting one [`TokenView`] of the Japanese analysis.
#[derive(Clone)]
pub struct JapaneseTokenizer {
    analyzer: Arc<JapaneseAnalyzer>,
    view: TokenView,
}

impl JapaneseTokenizer {
    /// A tokenizer for `view` sharing `analyzer` (and so its dictionaries).
    pub fn new(analyzer: Arc<JapaneseAnalyzer>, view: TokenView) -> Self {
        Self { analyzer, view }
    }
}

/// Registers a tokenizer for every [`TokenView`] under [`TokenView::tokenizer_name`].
pub fn register_japanese_tokenizers(manager: &TokenizerManager, analyzer: Arc<JapaneseAnalyzer>) {
    for view in TokenView::ALL {
        manager.register(view.tokenizer_name(), JapaneseTokenizer::new(analyzer.clone(), view));
    }
}

/// The tokens of one text, produced up front from one analysis.
pub struct JapaneseTokenStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl Tokenizer for JapaneseTokenizer {
    type TokenStream<'a> = JapaneseTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JapaneseTokenStream {
        // Segmentation errors are internal faults of lindera that no input is known to
        // cause; a text that cannot be analysed is indexed with no tokens of this view
        // rather than aborting the whole batch.
        let tokens = match cached_analysis(&self.analyzer, text) {
            Some(analysis) => tokens(&analysis, self.view),
            None => Vec::new(),
        };
        JapaneseTokenStream { tokens: tokens.into_iter(), current: Token::default() }
    }
}

impl TokenStream for JapaneseTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

/// Each field value is indexed through several views (morphemes, bigrams, readings,
/// romaji, key), each a separate tantivy field; the analysis of a text is kept for the
/// next few calls on this thread so it is computed once, not once per view.
const CACHED_ANALYSES: usize = 32;

thread_local! {
    /// (analyser instance, text, analysis): tenants may have different user dictionaries.
    static ANALYSES: RefCell<VecDeque<(u64, String, Rc<Analysis>)>> = const { RefCell::new(VecDeque::new()) };
}

/// The analysis of `text`, from this thread's recent ones when it is among them.
pub(crate) fn cached_analysis(analyzer: &JapaneseAnalyzer, text: &str) -> Option<Rc<Analysis>> {
    let identity = analyzer.instance_id();
    ANALYSES.with_borrow_mut(|cache| {
        if let Some((_, _, analysis)) = cache.iter().find(|(id, cached, _)| *id == identity && cached == text) {
            return Some(analysis.clone());
        }
        let analysis = Rc::new(analyzer.analyze(text).ok()?);
        if cache.len() == CACHED_ANALYSES {
            cache.pop_back();
        }
        cache.push_front((identity, text.to_string(), analysis.clone()));
        Some(analysis)
    })
}

fn token(text: &str, from: usize, to: usize, position: usize) -> Token {
    Token { offset_from: from, offset_to: to, position, text: text.to_string(), position_length: 1 }
}

pub(crate) fn tokens(analysis: &Analysis, view: TokenView) -> Vec<Token> {
    let mut out = Vec::new();
    match view {
        TokenView::Morphemes => {
            for m in &analysis.morphemes {
                out.push(token(&m.normalized, m.start, m.end, m.position));
            }
        }
        TokenView::Bigrams => {
            // Positions follow text order so phrase queries over bigrams work; a unigram
            // shares the position of the bigram starting at the same character, so the
            // one-character words of a title do not break its bigram phrases.
            let mut grams: Vec<_> = analysis
                .bigrams
                .iter()
                .map(|g| (g, false))
                .chain(analysis.unigrams.iter().map(|g| (g, true)))
                .collect();
            grams.sort_by_key(|(g, unigram)| (g.start, *unigram));
            let mut position = 0;
            let mut last_start = None;
            for (g, _) in grams {
                if last_start.is_some_and(|start| start != g.start) {
                    position += 1;
                }
                last_start = Some(g.start);
                out.push(token(&g.text, g.start, g.end, position));
            }
        }
        TokenView::Readings => {
            for m in analysis.morphemes.iter().filter(|m| !m.compound_part) {
                let reading = m.reading.as_deref().unwrap_or(&m.normalized);
                out.push(token(reading, m.start, m.end, m.position));
            }
        }
        TokenView::ReadingBigrams => reading_bigrams(&analysis.keys.reading, &mut out),
        TokenView::FoldedReadingBigrams => {
            reading_bigrams(&tokenizer_dict::fold_kana(&analysis.keys.reading), &mut out)
        }
        TokenView::Romaji => {
            for m in analysis.morphemes.iter().filter(|m| !m.compound_part) {
                match &m.romaji {
                    Some(romaji) => {
                        out.push(token(&romaji.hepburn, m.start, m.end, m.position));
                        if romaji.wapuro != romaji.hepburn {
                            out.push(token(&romaji.wapuro, m.start, m.end, m.position));
                        }
                    }
                    None => out.push(token(&m.normalized, m.start, m.end, m.position)),
                }
            }
        }
        TokenView::ExactKey => {
            if !analysis.keys.exact.is_empty() {
                out.push(token(&analysis.keys.exact, 0, 0, 0));
            }
        }
        TokenView::BigramLeads => {
            // Nothing asks for positions or offsets of this view: the bigram's will do.
            for (position, gram) in analysis.bigrams.iter().enumerate() {
                if let Some(first) = gram.text.chars().next() {
                    out.push(token(first.encode_utf8(&mut [0; 4]), gram.start, gram.end, position));
                }
            }
        }
    }
    out
}

/// Bigrams of the kana runs of a reading; anything else in the reading (digits, a Latin
/// word, whose "reading" is itself) is one token, so 第6版 and 第7版 stay apart and "novel"
/// is not the letter pairs no ov ve el of half of all English records.
fn reading_bigrams(reading: &str, out: &mut Vec<Token>) {
    let is_kana = |c: char| tokenizer_dict::is_hiragana(c) || tokenizer_dict::is_katakana(c) || c == 'ー';
    // A reading without kana (an English title, a number) says nothing the morphemes do
    // not, and its one token would be the whole text run together ("thehistoryofjapan"):
    // a unique term per record that no query meets.
    if !reading.chars().any(is_kana) {
        return;
    }
    let chars: Vec<char> = reading.chars().collect();
    let mut position = 0;
    let mut i = 0;
    while i < chars.len() {
        let kana = is_kana(chars[i]);
        let end = (i..chars.len()).find(|&j| is_kana(chars[j]) != kana).unwrap_or(chars.len());
        let run = &chars[i..end];
        if kana && run.len() > 1 {
            for pair in run.windows(2) {
                out.push(token(&pair.iter().collect::<String>(), 0, 0, position));
                position += 1;
            }
        } else {
            out.push(token(&run.iter().collect::<String>(), 0, 0, position));
            position += 1;
        }
        i = end;
    }
}
