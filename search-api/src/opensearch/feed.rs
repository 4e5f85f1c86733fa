//! A page of search results as an OpenSearch 1.1 response: Atom 1.0 (RFC 4287) or
//! RSS 2.0, each with the OpenSearch elements (`totalResults`, `startIndex`,
//! `itemsPerPage`, the request as a `Query`) and paging links.
//!
//! Entries carry Dublin Core and DC-NDL elements as NDL Search's OpenSearch does
//! (`dc:title`, `dcndl:titleTranscription` for the reading, `dc:creator`, `dc:publisher`,
//! `dcterms:issued`, `dc:identifier xsi:type="dcndl:ISBN"`), so tools written for NDL
//! Search read them too. Times are JST (+09:00), the libraries' own time.

use std::io;

use crate::api::AvailabilityJson;
use crate::lang::Lang;
use crate::xml::Xml;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const OPENSEARCH_NS: &str = "http://a9.com/-/spec/opensearch/1.1/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS_NS: &str = "http://purl.org/dc/terms/";
const DCNDL_NS: &str = "http://ndl.go.jp/dcndl/terms/";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The two syndication formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// Atom 1.0, the default.
    Atom,
    /// RSS 2.0.
    Rss,
}

impl Format {
    /// `format=` as a URL gives it (empty: the default).
    pub(super) fn parse(value: &str) -> Option<Format> {
        match value {
            "" | "atom" => Some(Format::Atom),
            "rss" => Some(Format::Rss),
            _ => None,
        }
    }

    /// The `format=` value.
    pub(super) fn name(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
        }
    }

    /// The media type, as the description's templates and the links name it.
    pub(super) fn media_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml",
            Format::Rss => "application/rss+xml",
        }
    }

    /// The `Content-Type` of a response.
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
        }
    }
}

/// Links of a page of results, all absolute when the origin is known.
#[derive(Debug, Clone)]
pub(super) struct Links {
    /// This page in this format.
    pub(super) this: String,
    /// Pages 1, before, after and the last one that can be paged to.
    pub(super) first: String,
    pub(super) previous: Option<String>,
    pub(super) next: Option<String>,
    pub(super) last: String,
    /// The same page of the OPAC.
    pub(super) html: String,
    /// The library's description document.
    pub(super) description: String,
}

/// One record found.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The OPAC's record page: the link, and the entry's permanent id.
    pub(super) url: String,
    /// The record as MARCXML.
    pub(super) marcxml: String,
    pub(super) title: String,
    /// Hiragana; written in katakana as DC-NDL does.
    pub(super) reading: String,
    pub(super) authors: Vec<String>,
    pub(super) publisher: Option<String>,
    pub(super) year: Option<i64>,
    /// ISBN-13s.
    pub(super) isbn: Vec<String>,
    pub(super) ndc: Vec<String>,
    pub(super) availability: AvailabilityJson,
    /// Last change of the record, seconds since the Unix epoch.
    pub(super) updated: i64,
}

/// A page of results.
#[derive(Debug, Clone)]
pub(super) struct Feed {
    pub(super) lang: Lang,
    pub(super) library: String,
    pub(super) query: String,
    /// All hits.
    pub(super) total: usize,
    /// 1-based.
    pub(super) page: usize,
    pub(super) per_page: usize,
    /// A query read the same way that finds something, when this one found nothing.
    pub(super) correction: Option<String>,
    /// Seconds since the Unix epoch: the newest entry, or now when there are none.
    pub(super) updated: i64,
    pub(super) links: Links,
    pub(super) entries: Vec<Entry>,
}

impl Feed {
    fn title(&self) -> String {
        match self.lang {
            Lang::Ja => format!("{} 蔵書検索: {}", self.library, self.query),
            Lang::En => format!("{} catalogue: {}", self.library, self.query),
        }
    }

    fn subtitle(&self) -> String {
        match self.lang {
            Lang::Ja => format!("「{}」の検索結果 {} 件", self.query, self.total),
            Lang::En => format!("{} results for “{}”", self.total, self.query),
        }
    }

    /// 1-based index of the first entry.
    fn start_index(&self) -> usize {
        (self.page - 1) * self.per_page + 1
    }

    fn opensearch(&self, xml: &mut Xml, prefix: &str) -> io::Result<()> {
        xml.leaf(&format!("{prefix}:totalResults"), &self.total.to_string())?;
        xml.leaf(&format!("{prefix}:startIndex"), &self.start_index().to_string())?;
        xml.leaf(&format!("{prefix}:itemsPerPage"), &self.per_page.to_string())?;
        let (page, count) = (self.page.to_string(), self.per_page.to_string());
        xml.empty(
            &format!("{prefix}:Query"),
            &[("role", "request"), ("searchTerms", &self.query), ("startPage", &page), ("count", &count)],
        )?;
        if let Some(correction) = &self.correction {
            xml.empty(&format!("{prefix}:Query"), &[("role", "correction"), ("searchTerms", correction)])?;
        }
        Ok(())
    }

    /// The paging and search links, as Atom `link` elements (`atom:link` in RSS).
    fn links(&self, xml: &mut Xml, name: &str, format: Format) -> io::Result<()> {
        let own = format.media_type();
        let links = &self.links;
        xml.empty(name, &[("rel", "self"), ("type", own), ("href", &links.this)])?;
        xml.empty(name, &[("rel", "alternate"), ("type", "text/html"), ("href", &links.html)])?;
        xml.empty(name, &[("rel", "first"), ("type", own), ("href", &links.first)])?;
        if let Some(previous) = &links.previous {
            xml.empty(name, &[("rel", "previous"), ("type", own), ("href", previous)])?;
        }
        if let Some(next) = &links.next {
            xml.empty(name, &[("rel", "next"), ("type", own), ("href", next)])?;
        }
        xml.empty(name, &[("rel", "last"), ("type", own), ("href", &links.last)])?;
        xml.empty(
            name,
            &[("rel", "search"), ("type", "application/opensearchdescription+xml"), ("href", &links.description)],
        )
    }
}

impl Entry {
    /// What a feed reader shows: names, publisher, year, and whether a copy is in.
    fn summary(&self, lang: Lang) -> String {
        let mut parts = Vec::new();
        let (authors, publisher, year) = match lang {
            Lang::Ja => ("著者", "出版者", "出版年"),
            Lang::En => ("By", "Publisher", "Year"),
        };
        if !self.authors.is_empty() {
            parts.push(format!("{authors}: {}", self.authors.join("; ")));
        }
        if let Some(name) = &self.publisher {
            parts.push(format!("{publisher}: {name}"));
        }
        if let Some(y) = self.year {
            parts.push(format!("{year}: {y}"));
        }
        let AvailabilityJson { available, total, holds } = self.availability;
        parts.push(match (lang, total, available) {
            (Lang::Ja, 0, _) => "所蔵なし".to_owned(),
            (Lang::Ja, _, 0) => format!("すべて貸出中 ({total} 冊)"),
            (Lang::Ja, _, _) => format!("貸出可 {available} / {total} 冊"),
            (Lang::En, 0, _) => "No copies".to_owned(),
            (Lang::En, _, 0) => format!("All {total} copies out"),
            (Lang::En, _, _) => format!("{available} of {total} available"),
        });
        if holds > 0 {
            parts.push(match lang {
                Lang::Ja => format!("予約 {holds} 件"),
                Lang::En => format!("{holds} holds"),
            });
        }
        parts.join(" / ")
    }

    /// The Dublin Core and DC-NDL description of the record, as NDL Search writes it.
    fn dublin_core(&self, xml: &mut Xml) -> io::Result<()> {
        xml.leaf("dc:title", &self.title)?;
        if !self.reading.is_empty() {
            xml.leaf("dcndl:titleTranscription", &katakana(&self.reading))?;
        }
        for author in &self.authors {
            xml.leaf("dc:creator", author)?;
        }
        if let Some(publisher) = &self.publisher {
            xml.leaf("dc:publisher", publisher)?;
        }
        if let Some(year) = self.year.filter(|y| (0..=9999).contains(y)) {
            xml.leaf_with("dcterms:issued", &[("xsi:type", "dcterms:W3CDTF")], &format!("{year:04}"))?;
        }
        for isbn in &self.isbn {
            xml.leaf_with("dc:identifier", &[("xsi:type", "dcndl:ISBN")], isbn)?;
        }
        for ndc in &self.ndc {
            xml.leaf_with("dc:subject", &[("xsi:type", "dcndl:NDC")], ndc)?;
        }
        Ok(())
    }
}

/// The namespaces both formats declare on their root.
const NAMESPACES: [(&str, &str); 5] = [
    ("xmlns:opensearch", OPENSEARCH_NS),
    ("xmlns:dc", DC_NS),
    ("xmlns:dcterms", DCTERMS_NS),
    ("xmlns:dcndl", DCNDL_NS),
    ("xmlns:xsi", XSI_NS),
];

/// The page as an Atom 1.0 feed.
pub(super) fn atom(feed: &Feed) -> io::Result<String> {
    let mut xml = Xml::document()?;
    let mut root = vec![("xmlns", ATOM_NS)];
    root.extend(NAMESPACES);
    root.push(("xml:lang", feed.lang.tag()));
    xml.start("feed", &root)?;
    xml.leaf("title", &feed.title())?;
    xml.leaf("subtitle", &feed.subtitle())?;
    xml.leaf("id", &feed.links.this)?;
    xml.leaf("updated", &rfc3339(feed.updated))?;
    // Atom wants an author for every entry; records without names have the library's.
    xml.start("author", &[])?;
    xml.leaf("name", &feed.library)?;
    xml.end("author")?;
    xml.leaf("generator", "Shiori")?;
    feed.links(&mut xml, "link", Format::Atom)?;
    feed.opensearch(&mut xml, "opensearch")?;
    for entry in &feed.entries {
        xml.start("entry", &[])?;
        xml.leaf("title", &entry.title)?;
        xml.leaf("id", &entry.url)?;
        xml.empty("link", &[("rel", "alternate"), ("type", "text/html"), ("href", &entry.url)])?;
        xml.empty("link", &[("rel", "alternate"), ("type", "application/marcxml+xml"), ("href", &entry.marcxml)])?;
        xml.leaf("updated", &rfc3339(entry.updated))?;
        for author in &entry.authors {
            xml.start("author", &[])?;
            xml.leaf("name", author)?;
            xml.end("author")?;
        }
        xml.leaf_with("summary", &[("type", "text")], &entry.summary(feed.lang))?;
        entry.dublin_core(&mut xml)?;
        xml.end("entry")?;
    }
    xml.end("feed")?;
    Ok(xml.finish())
}

/// The page as an RSS 2.0 channel.
pub(super) fn rss(feed: &Feed) -> io::Result<String> {
    let mut xml = Xml::document()?;
    let mut root = vec![("version", "2.0"), ("xmlns:atom", ATOM_NS)];
    root.extend(NAMESPACES);
    xml.start("rss", &root)?;
    xml.start("channel", &[])?;
    xml.leaf("title", &feed.title())?;
    xml.leaf("link", &feed.links.html)?;
    xml.leaf("description", &feed.subtitle())?;
    xml.leaf("language", feed.lang.tag())?;
    xml.leaf("lastBuildDate", &rfc2822(feed.updated))?;
    xml.leaf("generator", "Shiori")?;
    feed.links(&mut xml, "atom:link", Format::Rss)?;
    feed.opensearch(&mut xml, "opensearch")?;
    for entry in &feed.entries {
        xml.start("item", &[])?;
        xml.leaf("title", &entry.title)?;
        xml.leaf("link", &entry.url)?;
        xml.leaf("description", &entry.summary(feed.lang))?;
        xml.leaf_with("guid", &[("isPermaLink", "true")], &entry.url)?;
        xml.leaf("pubDate", &rfc2822(entry.updated))?;
        // RSS's own <author> is an e-mail address; names go in dc:creator.
        entry.dublin_core(&mut xml)?;
        xml.end("item")?;
    }
    xml.end("channel")?;
    xml.end("rss")?;
    Ok(xml.finish())
}

fn jst(seconds: i64) -> jiff::Zoned {
    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
    jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone)
}

/// `2024-04-01T09:30:00+09:00` (RFC 3339, as Atom wants).
fn rfc3339(seconds: i64) -> String {
    jst(seconds).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// `Mon, 01 Apr 2024 09:30:00 +0900` (RFC 822 as RSS wants, with a four-digit year).
fn rfc2822(seconds: i64) -> String {
    jst(seconds).strftime("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// Hiragana to katakana; everything else as it is.
fn katakana(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ぁ'..='ゖ' | 'ゝ' | 'ゞ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lang: Lang) -> Feed {
        let entry = Entry {
            url: "http://opac.example.jp/tosho/records/7".into(),
            marcxml: "http://opac.example.jp/api/v1/tosho/records/7.marcxml".into(),
            title: "図書館の<歴史>".into(),
            reading: "としょかん の れきし".into(),
            authors: vec!["栞, 太郎".into()],
            publisher: Some("栞書房".into()),
            year: Some(2005),
            isbn: vec!["9784000000002".into()],
            ndc: vec!["010.2".into()],
            availability: AvailabilityJson { available: 1, total: 2, holds: 3 },
            updated: 1_711_931_400,
        };
        let page = |n: usize| format!("http://opac.example.jp/tosho/opensearch?q=x&page={n}");
        Feed {
            lang,
            library: "栞市立図書館".into(),
            query: "図書館 & <b>".into(),
            total: 45,
            page: 2,
            per_page: 20,
            correction: None,
            updated: 1_711_931_400,
            links: Links {
                this: page(2),
                first: page(1),
                previous: Some(page(1)),
                next: Some(page(3)),
                last: page(3),
                html: "http://opac.example.jp/tosho/?q=x&page=2".into(),
                description: "http://opac.example.jp/tosho/opensearch.xml".into(),
            },
            entries: vec![entry],
        }
    }

    #[test]
    fn atom_has_the_opensearch_elements_and_dublin_core() {
        let xml = atom(&feed(Lang::Ja)).unwrap();
        for expected in [
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"",
            "<title>栞市立図書館 蔵書検索: 図書館 &amp; &lt;b&gt;</title>",
            "<updated>2024-04-01T09:30:00+09:00</updated>",
            "<opensearch:totalResults>45</opensearch:totalResults>",
            "<opensearch:startIndex>21</opensearch:startIndex>",
            "<opensearch:itemsPerPage>20</opensearch:itemsPerPage>",
            "<opensearch:Query role=\"request\" searchTerms=\"図書館 &amp; &lt;b&gt;\" startPage=\"2\" count=\"20\"/>",
            "<link rel=\"next\" type=\"application/atom+xml\" href=\"http://opac.example.jp/tosho/opensearch?q=x&amp;page=3\"/>",
            "<id>http://opac.example.jp/tosho/records/7</id>",
            "<title>図書館の&lt;歴史&gt;</title>",
            "<dcndl:titleTranscription>トショカン ノ レキシ</dcndl:titleTranscription>",
            "<summary type=\"text\">著者: 栞, 太郎 / 出版者: 栞書房 / 出版年: 2005 / 貸出可 1 / 2 冊 / 予約 3 件</summary>",
            "<dcterms:issued xsi:type=\"dcterms:W3CDTF\">2005</dcterms:issued>",
            "<dc:identifier xsi:type=\"dcndl:ISBN\">9784000000002</dc:identifier>",
        ] {
            assert!(xml.contains(expected), "{expected}\n{xml}");
        }
    }

    #[test]
    fn rss_has_a_channel_with_items_and_rfc822_dates() {
        let xml = rss(&feed(Lang::En)).unwrap();
        for expected in [
            "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"",
            "<link>http://opac.example.jp/tosho/?q=x&amp;page=2</link>",
            "<description>45 results for “図書館 &amp; &lt;b&gt;”</description>",
            "<language>en</language>",
            "<atom:link rel=\"previous\" type=\"application/rss+xml\"",
            "<guid isPermaLink=\"true\">http://opac.example.jp/tosho/records/7</guid>",
            "<pubDate>Mon, 01 Apr 2024 09:30:00 +0900</pubDate>",
            "<description>By: 栞, 太郎 / Publisher: 栞書房 / Year: 2005 / 1 of 2 available / 3 holds</description>",
        ] {
            assert!(xml.contains(expected), "{expected}\n{xml}");
        }
    }

    #[test]
    fn katakana_of_a_reading() {
        assert_eq!(katakana("としょかん ゝ abc"), "トショカン ヽ abc");
    }
}
