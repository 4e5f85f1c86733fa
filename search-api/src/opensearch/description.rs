//! The OpenSearch 1.1 description document of one library: what a browser or an
//! aggregator needs to add the library's catalogue as a search engine, with URL templates
//! for the OPAC page, the Atom and RSS results and the suggestions.

use std::io;

use crate::lang::Lang;
use crate::xml::Xml;

const OPENSEARCH_NS: &str = "http://a9.com/-/spec/opensearch/1.1/";
/// Firefox's extension namespace, for `moz:SearchForm` (the page to go to with no query).
const MOZ_NS: &str = "http://www.mozilla.org/2006/browser/search/";

/// OpenSearch's limits on the plain-text elements, in characters.
const SHORT_NAME_MAX: usize = 16;
const LONG_NAME_MAX: usize = 48;
const DESCRIPTION_MAX: usize = 1024;

/// What the description says about a library.
pub(super) struct Description<'a> {
    /// The library's name.
    pub(super) name: &'a str,
    /// Its tenant code (a URL segment: lower case letters, digits, `-` and `_` only).
    pub(super) code: &'a str,
    /// Scheme and host (and any path prefix) the templates start with, no trailing slash.
    pub(super) origin: &'a str,
    /// The language of the human-readable texts.
    pub(super) lang: Lang,
}

/// The description document.
pub(super) fn render(d: &Description<'_>) -> io::Result<String> {
    let base = format!("{}/{}", d.origin, d.code);
    let long_name = match d.lang {
        Lang::Ja => format!("{} 蔵書検索", d.name),
        Lang::En => format!("{} catalogue", d.name),
    };
    let description = match d.lang {
        Lang::Ja => format!(
            "{}の蔵書を検索します。書名・著者名・件名・ISBN で、漢字・かな・ローマ字のどれでも探せます。",
            d.name
        ),
        Lang::En => {
            format!("Search the catalogue of {} by title, author, subject or ISBN, in kanji, kana or romaji.", d.name)
        }
    };
    let html = format!("{base}/?q={{searchTerms}}&page={{startPage?}}");
    let feed = |format: &str| {
        format!("{base}/opensearch?q={{searchTerms}}&page={{startPage?}}&per_page={{count?}}&format={format}")
    };
    let atom = feed("atom");
    let rss = feed("rss");
    let suggest = format!("{base}/opensearch/suggest?q={{searchTerms}}");
    let this = format!("{base}/opensearch.xml");
    let home = format!("{base}/");

    let mut xml = Xml::document()?;
    xml.start("OpenSearchDescription", &[("xmlns", OPENSEARCH_NS), ("xmlns:moz", MOZ_NS)])?;
    xml.leaf("ShortName", &fit(d.name, SHORT_NAME_MAX))?;
    xml.leaf("Description", &fit(&description, DESCRIPTION_MAX))?;
    let paged = [("indexOffset", "1"), ("pageOffset", "1")];
    for (kind, template) in
        [("text/html", html.as_str()), ("application/atom+xml", atom.as_str()), ("application/rss+xml", rss.as_str())]
    {
        let mut attributes = vec![("type", kind), ("method", "get"), ("template", template)];
        attributes.extend(paged);
        xml.empty("Url", &attributes)?;
    }
    xml.empty(
        "Url",
        &[
            ("type", "application/x-suggestions+json"),
            ("rel", "suggestions"),
            ("method", "get"),
            ("template", &suggest),
        ],
    )?;
    xml.empty("Url", &[("type", "application/opensearchdescription+xml"), ("rel", "self"), ("template", &this)])?;
    xml.leaf("Tags", &format!("図書館 蔵書検索 OPAC library catalogue {}", d.code))?;
    xml.leaf("LongName", &fit(&long_name, LONG_NAME_MAX))?;
    xml.leaf("SyndicationRight", "open")?;
    xml.leaf("AdultContent", "false")?;
    xml.leaf("Language", "ja")?;
    xml.leaf("Language", "en")?;
    xml.leaf("InputEncoding", "UTF-8")?;
    xml.leaf("OutputEncoding", "UTF-8")?;
    xml.leaf("moz:SearchForm", &home)?;
    xml.end("OpenSearchDescription")?;
    Ok(xml.finish())
}

/// `text` in at most `max` characters: as it is when it fits; else without what it has
/// in brackets (`栞市立図書館 (Shiori City Library)` -> `栞市立図書館`); then, if still too
/// long, cut after the last whole word that leaves at least half of the room used, else
/// cut and ended with "…" (Japanese names have no spaces, so they are simply cut).
pub(super) fn fit(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let unbracketed = without_brackets(text);
    let text = if unbracketed.is_empty() { text } else { unbracketed.as_str() };
    if text.chars().count() <= max {
        return text.to_owned();
    }
    // One character more than fits, so that a space just after the limit still ends a word.
    let head: String = text.chars().take(max + 1).collect();
    if let Some(space) = head.rfind(char::is_whitespace) {
        let words = head[..space].trim_end_matches(|c: char| c.is_whitespace() || ",、・-–(（".contains(c));
        if words.chars().count() >= max / 2 {
            return words.to_owned();
        }
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// `text` without its bracketed parts, spaces collapsed.
fn without_brackets(text: &str) -> String {
    let mut depth = 0usize;
    let mut kept = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | '（' | '[' | '［' | '【' => depth += 1,
            ')' | '）' | ']' | '］' | '】' => depth = depth.saturating_sub(1),
            _ if depth == 0 => kept.push(c),
            _ => {}
        }
    }
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_the_limits_at_a_word_or_with_an_ellipsis() {
        assert_eq!(fit("栞市立図書館", 16), "栞市立図書館");
        assert_eq!(fit("  Shiori City Library  ", 16), "Shiori City");
        assert_eq!(fit("Shiori Municipal Library", 16), "Shiori Municipal");
        assert_eq!(fit("Tokyo Metropolitan Library", 16), "Tokyo Metropoli…");
        assert_eq!(fit("栞デモ図書館 (Shiori demo library)", 16), "栞デモ図書館");
        assert_eq!(fit("Shiori City Library (Central)", 16), "Shiori City");
        assert_eq!(fit("(((((((((((((((((((x", 16), "(((((((((((((((…");
        let long = "国立大学法人栞大学附属図書館医学部分館";
        assert_eq!(fit(long, 16), "国立大学法人栞大学附属図書館医…");
        for name in ["Shiori Municipal Library", "Tokyo Metropolitan Library", long, "a b c d e f g h i j k l m n"] {
            assert!(fit(name, 16).chars().count() <= 16, "{name}");
        }
    }

    #[test]
    fn the_description_has_every_template_with_the_origin() {
        let description =
            Description { name: "栞市立図書館", code: "tosho", origin: "http://opac.example.jp", lang: Lang::Ja };
        let xml = render(&description).unwrap();
        assert!(xml.contains("<ShortName>栞市立図書館</ShortName>"), "{xml}");
        assert!(xml.contains(
            "template=\"http://opac.example.jp/tosho/?q={searchTerms}&amp;page={startPage?}\" indexOffset=\"1\" pageOffset=\"1\""
        ));
        assert!(xml.contains("per_page={count?}&amp;format=atom"));
        assert!(xml.contains("per_page={count?}&amp;format=rss"));
        assert!(xml.contains("template=\"http://opac.example.jp/tosho/opensearch/suggest?q={searchTerms}\""));
        assert!(xml.contains("<Language>ja</Language>") && xml.contains("<Language>en</Language>"));
        let english = render(&Description { lang: Lang::En, ..description }).unwrap();
        assert!(english.contains("<LongName>栞市立図書館 catalogue</LongName>"), "{english}");
    }
}
