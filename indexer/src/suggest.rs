//! Suggestions as you type, and "did you mean" for searches that found nothing.
//!
//! Every record contributes entries `KEY \u{1} KIND` to an untokenised field: the
//! normalised key and the hiragana reading key of its title and of its first authors. The
//! term dictionary is then the suggestion index: a prefix of what the patron typed is a
//! range of terms, and each term's document frequency says how many records stand behind
//! it. So なつめ finds 夏目漱石 by reading, and 夏目 by writing. What is shown is read from
//! a record behind the term (its title, or the author whose key it is): the terms carry no
//! display text, which made them three times longer and the term dictionary the slowest
//! part of writing an index.

use std::collections::HashMap;

use serde::Serialize;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, TERMINATED, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::index::Index;
use crate::tokenizer::TokenView;

/// What a suggestion completes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A title.
    Title,
    /// A name.
    Author,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// What to show and search for.
    pub text: String,
    /// Title or author.
    pub kind: Kind,
    /// Records behind it.
    pub count: u64,
}

const SEPARATOR: char = '\u{1}';

/// Suggestion terms looked at per segment when correcting a query that found nothing.
const CORRECTION_SCAN: usize = 20_000;
const MAX_KEY: usize = 64;

/// Adds an entry for a title or name under `key` (skipped if the key is empty or
/// repeated).
pub(crate) fn push_entry(entries: &mut Vec<String>, key: &str, kind: Kind) {
    let key = entry_key(key);
    if key.is_empty() {
        return;
    }
    let tag = match kind {
        Kind::Title => 't',
        Kind::Author => 'a',
    };
    let entry = format!("{key}{SEPARATOR}{tag}");
    if !entries.contains(&entry) {
        entries.push(entry);
    }
}

/// A key as entries hold it: at most [`MAX_KEY`] characters.
fn entry_key(key: &str) -> String {
    key.chars().take(MAX_KEY).collect()
}

/// A name as suggested: "夏目, 漱石, 1867-1916" -> "夏目漱石"; Latin names keep a space.
pub(crate) fn author_display(name: &str) -> String {
    let parts: Vec<&str> = name
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .take(2)
        .collect();
    let japanese = parts.iter().all(|p| !p.is_ascii());
    parts.join(if japanese { "" } else { ", " })
}

impl Index {
    /// Completions of `prefix`: titles and names whose writing or reading starts with it
    /// (a prefix in romaji of any system is read as kana), most records first.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Suggestion>> {
        let Some(key) = self.exact_key(prefix) else { return Ok(Vec::new()) };
        let mut keys = vec![key.clone()];
        let hiragana = tokenizer_dict::to_hiragana(&key);
        if hiragana != key {
            keys.push(hiragana);
        }
        // Romaji typed for a reading (natsume, tosyokan): its kana, a syllable typed half
        // way (natsu|m) left out.
        if key.is_ascii() {
            let letters: String = key.chars().filter(char::is_ascii_alphabetic).collect();
            let whole = (0..=2.min(letters.len().saturating_sub(1)))
                .find_map(|cut| tokenizer_dict::romaji_to_kana(&letters[..letters.len() - cut]));
            if let Some(kana) = whole.filter(|kana| kana.chars().count() >= 2 && !keys.contains(kana)) {
                keys.push(kana);
            }
        }
        let mut candidates: HashMap<String, u64> = HashMap::new();
        for key in &keys {
            for (term, freq) in self.terms_with_prefix(key, 2_000)? {
                let count = candidates.entry(term).or_default();
                *count = (*count).max(freq);
            }
        }
        let mut candidates: Vec<(String, u64)> = candidates.into_iter().collect();
        candidates.sort_by(|(a, a_count), (b, b_count)| {
            b_count.cmp(a_count).then(a.chars().count().cmp(&b.chars().count())).then(a.cmp(b))
        });
        // Several keys (writing, reading) may lead to one title: shown once, with the
        // larger count, in the order of the counts.
        let mut out: Vec<Suggestion> = Vec::new();
        for (term, count) in candidates {
            if out.len() == limit {
                break;
            }
            let Some((kind, _)) = parse_entry(&term) else { continue };
            let Some(text) = self.entry_display(&term)? else { continue };
            if !out.iter().any(|s| s.kind == kind && s.text == text) {
                out.push(Suggestion { text, kind, count });
            }
        }
        Ok(out)
    }

    /// For a query that found nothing: the title or name whose writing or reading is
    /// closest to the query's (one or two characters apart), most records first.
    /// 「としょかんのれきし」 typed as 「としょかんのれきsi」 or 「夏目嗽石」 for 夏目漱石.
    pub(crate) fn did_you_mean(&self, query: &str) -> Result<Option<String>> {
        let Ok(analysis) = self.analyzer.analyze(query) else { return Ok(None) };
        let mut candidates: Vec<(usize, std::cmp::Reverse<u64>, String)> = Vec::new();
        for key in [analysis.keys.exact, analysis.keys.reading] {
            let length = key.chars().count();
            if length < 2 {
                continue;
            }
            let allowed = if length >= 8 { 2 } else { 1 };
            let Some(first) = key.chars().next() else { continue };
            for (term, freq) in self.terms_near(&first.to_string(), &key, allowed, CORRECTION_SCAN)? {
                let Some((term_key, _)) = term.split_once(SEPARATOR) else { continue };
                let distance = edit_distance(term_key, &key, allowed);
                candidates.push((distance, std::cmp::Reverse(freq), term));
            }
        }
        candidates.sort();
        for (_, _, term) in candidates {
            if let Some(display) = self.entry_display(&term)?
                && display != query
            {
                return Ok(Some(display));
            }
        }
        Ok(None)
    }

    /// What an entry stands for, read from the first live record behind it: the title, or
    /// the one of the first authors whose writing or reading is the entry's key.
    fn entry_display(&self, entry: &str) -> Result<Option<String>> {
        let Some((kind, key)) = parse_entry(entry) else { return Ok(None) };
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.suggest, entry);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.suggest)?;
            let Some(info) = inverted.get_term_info(&term).map_err(|e| Error::Index(e.to_string()))? else { continue };
            let mut postings = inverted
                .read_postings_from_terminfo(&info, IndexRecordOption::Basic)
                .map_err(|e| Error::Index(e.to_string()))?;
            let mut doc = postings.doc();
            while doc != TERMINATED && segment.alive_bitset().is_some_and(|alive| !alive.is_alive(doc)) {
                doc = postings.advance();
            }
            if doc == TERMINATED {
                continue;
            }
            let record: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, doc))?;
            let texts = |field| record.get_all(field).filter_map(|v| v.as_str().map(str::to_string));
            let display = match kind {
                Kind::Title => texts(self.fields.title).next(),
                Kind::Author => {
                    let names: Vec<String> = texts(self.fields.author).take(3).map(|a| author_display(&a)).collect();
                    let keyed = names.iter().find(|name| {
                        crate::tokenizer::cached_analysis(&self.analyzer, name).is_some_and(|analysis| {
                            entry_key(&analysis.keys.exact) == key || entry_key(&analysis.keys.reading) == key
                        })
                    });
                    keyed.or(names.first()).cloned()
                }
            };
            if let Some(display) = display.filter(|d| !d.trim().is_empty()) {
                return Ok(Some(display.trim().to_string()));
            }
        }
        Ok(None)
    }

    fn exact_key(&self, text: &str) -> Option<String> {
        let mut analyzer = self.inner.tokenizers().get(TokenView::ExactKey.tokenizer_name())?;
        let mut stream = analyzer.token_stream(text);
        stream.advance().then(|| stream.token().text.clone())
    }

    /// Terms of the suggestion field starting with `prefix` whose key is within `allowed`
    /// edits of `key` (but not equal to it), with their document frequency summed over
    /// segments; at most `limit` terms per segment are looked at. Terms are filtered on
    /// their bytes as they stream by, so only near ones are ever copied: a zero-hit query
    /// must not cost a copy of every term sharing its first letter.
    fn terms_near(&self, prefix: &str, key: &str, allowed: usize, limit: usize) -> Result<Vec<(String, u64)>> {
        let searcher = self.reader.searcher();
        let mut out: HashMap<String, u64> = HashMap::new();
        let mut upper = prefix.as_bytes().to_vec();
        upper.push(0xFF);
        let length = key.chars().count();
        let key_chars: Vec<char> = key.chars().collect();
        let mut separator = [0u8; 4];
        let separator = SEPARATOR.encode_utf8(&mut separator).as_bytes().to_vec();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.suggest)?;
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(&upper)
                .into_stream()
                .map_err(|e| Error::Index(e.to_string()))?;
            let mut read = 0;
            while stream.advance() && read < limit {
                read += 1;
                let bytes = stream.key();
                let Some(end) = bytes.windows(separator.len()).position(|w| w == separator.as_slice()) else {
                    continue;
                };
                let Ok(term_key) = std::str::from_utf8(&bytes[..end]) else { continue };
                if term_key.chars().count().abs_diff(length) > allowed {
                    continue;
                }
                let distance = edit_distance_chars(term_key, &key_chars, allowed);
                if distance == 0 || distance > allowed {
                    continue;
                }
                let term = String::from_utf8_lossy(bytes).into_owned();
                *out.entry(term).or_default() += u64::from(stream.value().doc_freq);
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Terms of the suggestion field starting with `prefix` and their document frequency,
    /// summed over segments; at most `limit` terms per segment are read.
    fn terms_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(String, u64)>> {
        let searcher = self.reader.searcher();
        let mut out: HashMap<String, u64> = HashMap::new();
        let mut upper = prefix.as_bytes().to_vec();
        upper.push(0xFF);
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.suggest)?;
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(&upper)
                .into_stream()
                .map_err(|e| Error::Index(e.to_string()))?;
            let mut read = 0;
            while stream.advance() && read < limit {
                read += 1;
                let term = String::from_utf8_lossy(stream.key()).into_owned();
                *out.entry(term).or_default() += u64::from(stream.value().doc_freq);
            }
        }
        Ok(out.into_iter().collect())
    }
}

/// Levenshtein distance over characters, giving up (returning `limit + 1`) once it exceeds
/// `limit`.
fn edit_distance(a: &str, b: &str, limit: usize) -> usize {
    let b: Vec<char> = b.chars().collect();
    edit_distance_chars(a, &b, limit)
}

fn edit_distance_chars(a: &str, b: &[char], limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|m| *m > limit) {
            return limit + 1;
        }
        previous = current;
    }
    previous[b.len()]
}

/// The kind of an entry and its key.
fn parse_entry(term: &str) -> Option<(Kind, &str)> {
    let (key, tag) = term.split_once(SEPARATOR)?;
    let kind = match tag {
        "t" => Kind::Title,
        "a" => Kind::Author,
        _ => return None,
    };
    Some((kind, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_names_are_shown_without_dates() {
        assert_eq!(author_display("夏目, 漱石, 1867-1916"), "夏目漱石");
        assert_eq!(author_display("Natsume, Sōseki, 1867-1916"), "Natsume, Sōseki");
        assert_eq!(author_display("図書館史研究会"), "図書館史研究会");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("なつめそうせき", "なつめそうせき", 1), 0);
        assert_eq!(edit_distance("夏目漱石", "夏目嗽石", 1), 1);
        assert_eq!(edit_distance("toshokan", "toshokam", 1), 1);
        assert_eq!(edit_distance("abc", "xyz", 1), 2);
        assert_eq!(edit_distance("", "ab", 2), 2);
    }

    #[test]
    fn entries_round_trip() {
        let mut entries = Vec::new();
        push_entry(&mut entries, "なつめそうせき", Kind::Author);
        push_entry(&mut entries, "なつめそうせき", Kind::Author);
        push_entry(&mut entries, "", Kind::Title);
        assert_eq!(entries.len(), 1);
        assert_eq!(parse_entry(&entries[0]), Some((Kind::Author, "なつめそうせき")));
    }
}
