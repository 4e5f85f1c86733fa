//! What the templates are given: plain data in the page's language, with every link
//! already built. No HTML is made here; the templates escape all of it.

use std::collections::BTreeMap;

use indexer::{FacetCount, FacetCounts, MAX_OFFSET, MatchMode, NDC_CLASSES, SearchResults, Sort};
use serde::Serialize;

use super::assets;
use super::messages::{self, fill, grouped, language_name, material_name, status_name, text};
use crate::api::HitJson;
use crate::lang::Lang;
use crate::params::{SearchParams, mode_name, sort_name};
use crate::record::RecordView;
use crate::server::Library;

/// What every page has: language, messages, assets, the language switch, the library.
#[derive(Debug, Serialize)]
pub(crate) struct Frame {
    /// `ja` or `en`: the `lang` of `<html>`.
    pub lang: &'static str,
    /// The messages of the page's language.
    pub t: &'static BTreeMap<&'static str, &'static str>,
    /// The document title.
    pub title: String,
    pub css: String,
    pub js: String,
    /// The link to the same page in the other language.
    pub switch: LangSwitch,
    /// The library the page belongs to (not on the list of libraries).
    pub library: Option<LibraryRef>,
    /// The search form, on a library's pages.
    pub form: Option<SearchForm>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LangSwitch {
    pub url: String,
    /// The other language's name in that language.
    pub label: &'static str,
    pub lang: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LibraryRef {
    pub code: String,
    pub name: String,
    /// `/{code}/`.
    pub home: String,
    pub suggest: String,
    pub opensearch: String,
}

impl LibraryRef {
    pub(crate) fn of(library: &Library) -> LibraryRef {
        let code = library.tenant.code.to_string();
        LibraryRef {
            home: format!("/{code}/"),
            suggest: format!("/api/v1/{code}/suggest"),
            opensearch: format!("/{code}/opensearch.xml"),
            name: library.tenant.name.clone(),
            code,
        }
    }
}

/// The search box and its options, as the current search left them.
#[derive(Debug, Serialize)]
pub(crate) struct SearchForm {
    pub action: String,
    pub suggest: String,
    pub q: String,
    pub modes: Vec<Choice>,
    /// A non-default sort, kept through a new search.
    pub sort: Option<&'static str>,
    /// `lang=` as given, kept for browsers without cookies.
    pub lang: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

impl SearchForm {
    pub(crate) fn new(lang: Lang, library: &LibraryRef, params: &SearchParams) -> SearchForm {
        let modes = [
            (MatchMode::Keywords, "mode_keywords"),
            (MatchMode::ExactTitle, "mode_exact"),
            (MatchMode::TitlePrefix, "mode_prefix"),
        ]
        .into_iter()
        .map(|(mode, key)| Choice { value: mode_name(mode), label: text(lang, key), selected: mode == params.mode })
        .collect();
        SearchForm {
            action: library.home.clone(),
            suggest: library.suggest.clone(),
            q: params.q.clone(),
            modes,
            sort: (params.sort != Sort::Relevance).then(|| sort_name(params.sort)),
            lang: params.lang.clone().filter(|l| Lang::parse(l).is_some()),
        }
    }
}

impl Frame {
    /// The frame of a page at `path` (query `raw`) in `lang`.
    pub(crate) fn new(
        lang: Lang,
        title: String,
        path: &str,
        raw: Option<&str>,
        library: Option<LibraryRef>,
        form: Option<SearchForm>,
    ) -> Frame {
        let other = match lang {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        };
        Frame {
            lang: lang.tag(),
            t: messages::table(lang),
            title,
            css: assets::url("opac.css"),
            js: assets::url("opac.js"),
            switch: LangSwitch {
                url: switch_url(path, raw, other),
                label: other.pick("日本語", "English"),
                lang: other.tag(),
            },
            library,
            form,
        }
    }
}

/// The same page with `lang=` set to `to`, other parameters kept.
fn switch_url(path: &str, raw: Option<&str>, to: Lang) -> String {
    // A path like `//host` would be a link to another site.
    let path = if path.starts_with('/') && !path.starts_with("//") { path } else { "/" };
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
    pairs.retain(|(name, _)| name != "lang");
    pairs.push(("lang".to_owned(), to.tag().to_owned()));
    format!("{path}?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

/// A run of a title, highlighted or not.
#[derive(Debug, Serialize)]
pub(crate) struct Part {
    pub text: String,
    pub mark: bool,
}

/// `title` cut at the byte ranges `ranges` (overlapping or unsorted ranges are merged;
/// ranges not on character boundaries are ignored).
pub(crate) fn parts(title: &str, ranges: &[(usize, usize)]) -> Vec<Part> {
    let mut ranges: Vec<(usize, usize)> = ranges
        .iter()
        .copied()
        .filter(|&(s, e)| s < e && e <= title.len() && title.is_char_boundary(s) && title.is_char_boundary(e))
        .collect();
    ranges.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end) in ranges {
        let start = start.max(at);
        if end <= start {
            continue;
        }
        if start > at {
            out.push(Part { text: title[at..start].to_owned(), mark: false });
        }
        out.push(Part { text: title[start..end].to_owned(), mark: true });
        at = end;
    }
    if at < title.len() || out.is_empty() {
        out.push(Part { text: title[at..].to_owned(), mark: false });
    }
    out
}

/// A piece of a title with the reading shown over it (ruby over kanji only), cut further
/// at the highlighted ranges.
#[derive(Debug, Serialize)]
pub(crate) struct RubyPiece {
    pub parts: Vec<Part>,
    pub reading: Option<String>,
}

/// `title` as ruby pieces: one per segment of `ruby` (the whole title without a reading
/// when there is none), each cut at the highlighted byte `ranges`.
pub(crate) fn ruby_pieces(
    title: &str,
    ranges: &[(usize, usize)],
    ruby: Option<&[tokenizer_dict::RubySegment]>,
) -> Vec<RubyPiece> {
    let Some(ruby) = ruby.filter(|r| r.iter().map(|s| s.text.len()).sum::<usize>() == title.len()) else {
        return vec![RubyPiece { parts: parts(title, ranges), reading: None }];
    };
    let mut out = Vec::new();
    let mut at = 0;
    for segment in ruby {
        let (start, end) = (at, at + segment.text.len());
        at = end;
        let inside: Vec<(usize, usize)> = ranges
            .iter()
            .filter(|&&(s, e)| s < end && e > start)
            .map(|&(s, e)| (s.max(start) - start, e.min(end) - start))
            .collect();
        out.push(RubyPiece { parts: parts(&segment.text, &inside), reading: segment.reading.clone() });
    }
    out
}

/// An availability summary and a class for its colour.
#[derive(Debug, Serialize)]
pub(crate) struct AvailabilityView {
    pub text: String,
    /// `available`, `out` or `none`.
    pub class: &'static str,
}

pub(crate) fn availability(lang: Lang, available: u32, total: u32, holds: u32) -> AvailabilityView {
    let (mut text, class) = if total == 0 {
        (messages::text(lang, "avail_none").to_owned(), "none")
    } else if available > 0 {
        (fill(messages::text(lang, "avail_some"), &[available.to_string(), total.to_string()]), "available")
    } else {
        (fill(messages::text(lang, "avail_all_out"), &[total.to_string()]), "out")
    };
    if holds > 0 {
        text.push_str(" · ");
        text.push_str(&fill(messages::text(lang, "holds_waiting"), &[holds.to_string()]));
    }
    AvailabilityView { text, class }
}

/// One hit of the result list.
#[derive(Debug, Serialize)]
pub(crate) struct HitView {
    pub number: usize,
    pub url: String,
    pub title: Vec<RubyPiece>,
    pub authors: Vec<String>,
    pub publisher: Option<String>,
    pub year: Option<i64>,
    pub availability: AvailabilityView,
}

/// A link with a label; `current` marks the page's own state.
#[derive(Debug, Serialize)]
pub(crate) struct Link {
    pub label: String,
    pub url: String,
    pub current: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct FacetGroup {
    pub name: &'static str,
    pub heading: &'static str,
    pub values: Vec<FacetLink>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FacetLink {
    pub label: String,
    pub count: String,
    pub url: String,
    pub active: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Chip {
    pub label: String,
    pub remove: String,
    pub remove_label: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Paging {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub pages: Vec<PageLink>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PageLink {
    /// 0 for a gap (…).
    pub number: usize,
    pub url: String,
    pub current: bool,
    pub label: String,
}

/// The results part of the search page.
#[derive(Debug, Serialize)]
pub(crate) struct Results {
    pub q: String,
    pub total: usize,
    pub count_text: String,
    pub heading: String,
    pub hits: Vec<HitView>,
    pub facets: Vec<FacetGroup>,
    pub chips: Vec<Chip>,
    pub clear_filters: Option<String>,
    pub sorts: Vec<Link>,
    pub paging: Option<Paging>,
    pub did_you_mean: Option<Link>,
    /// Said above the hits when they are near matches (no record had every word, or none
    /// was written as typed), with the words no record has.
    pub relaxed_text: Option<String>,
    pub none_text: String,
    pub first_page: Option<String>,
}

/// The label of a filter's name.
fn filter_heading(lang: Lang, key: &str) -> &'static str {
    match key {
        "ndc" => text(lang, "facet_ndc"),
        "decade" => text(lang, "facet_decade"),
        "year" => text(lang, "facet_year"),
        "lang" => text(lang, "facet_lang"),
        "material" => text(lang, "facet_material"),
        "author" => text(lang, "facet_author"),
        "branch" => text(lang, "facet_branch"),
        "available" => text(lang, "facet_available"),
        _ => text(lang, "facet_subject"),
    }
}

/// How a filter value reads: "9 文学", "1990年代", "日本語" …
fn filter_value_label(lang: Lang, key: &str, value: &str) -> String {
    match key {
        "ndc" => match NDC_CLASSES.iter().find(|(class, _, _)| *class == value) {
            Some((class, ja, en)) => format!("{class} {}", lang.pick(ja, en)),
            None => value.to_owned(),
        },
        "decade" => fill(text(lang, "decade_value"), &[value.to_owned()]),
        "lang" => language_name(lang, value),
        "material" => material_name(lang, value),
        "available" if value.trim() == indexer::ANYWHERE => lang.pick("すべての館", "Any branch").to_owned(),
        _ => value.to_owned(),
    }
}

impl Results {
    /// Puts ruby over the hits' titles: `rubies[i]` is the ruby of `hits[i]`'s title.
    pub(crate) fn set_ruby(&mut self, hits: &[HitJson], rubies: &[Option<Vec<tokenizer_dict::RubySegment>>]) {
        for ((view, hit), ruby) in self.hits.iter_mut().zip(hits).zip(rubies) {
            view.title = ruby_pieces(&hit.title, &hit.highlights, ruby.as_deref());
        }
    }

    /// The results of `params` on the page of `library`.
    pub(crate) fn build(
        lang: Lang,
        library: &LibraryRef,
        params: &SearchParams,
        results: &SearchResults,
        hits: &[HitJson],
    ) -> Results {
        let link = |query: String| format!("{}?{query}", library.home);
        let first = (params.page - 1) * params.per_page;
        let hits: Vec<HitView> = hits
            .iter()
            .enumerate()
            .map(|(i, hit)| HitView {
                number: first + i + 1,
                url: format!("{}records/{}", library.home, hit.id),
                title: ruby_pieces(&hit.title, &hit.highlights, None),
                authors: hit.authors.clone(),
                publisher: hit.publisher.clone(),
                year: hit.year,
                availability: availability(
                    lang,
                    hit.availability.available,
                    hit.availability.total,
                    hit.availability.holds,
                ),
            })
            .collect();
        let count_text = fill(
            text(lang, "results_count"),
            &[grouped(results.total as u64), grouped(first as u64 + 1), grouped((first + hits.len()) as u64)],
        );
        let chips = params
            .filters
            .iter()
            .enumerate()
            .map(|(i, (key, value))| {
                let value = match named(&results.facets, key, value.trim()) {
                    Some(name) => name.to_owned(),
                    None => filter_value_label(lang, key, value),
                };
                let label = format!("{}: {}", filter_heading(lang, key), value);
                Chip {
                    remove: link(params.url_with(None, None, Some(i))),
                    remove_label: fill(text(lang, "remove_filter"), std::slice::from_ref(&label)),
                    label,
                }
            })
            .collect();
        let clear_filters = (params.filters.len() > 1)
            .then(|| link(SearchParams { filters: Vec::new(), ..params.clone() }.url_with(Some(1), None, None)));
        let sorts = [
            (Sort::Relevance, "sort_relevance"),
            (Sort::YearDesc, "sort_newest"),
            (Sort::YearAsc, "sort_oldest"),
            (Sort::TitleReading, "sort_title"),
        ]
        .into_iter()
        .map(|(sort, key)| Link {
            label: text(lang, key).to_owned(),
            url: link(SearchParams { sort, ..params.clone() }.url_with(Some(1), None, None)),
            current: sort == params.sort,
        })
        .collect();
        let did_you_mean =
            results.did_you_mean.as_ref().filter(|_| results.total == 0 || results.relaxed).map(|suggestion| Link {
                label: suggestion.clone(),
                url: link(SearchParams { q: suggestion.clone(), filters: Vec::new(), ..params.clone() }.url_with(
                    Some(1),
                    None,
                    None,
                )),
                current: false,
            });
        let first_page = (hits.is_empty() && results.total > 0).then(|| link(params.url_with(Some(1), None, None)));
        Results {
            q: params.q.clone(),
            total: results.total,
            count_text,
            heading: fill(text(lang, "results_title"), std::slice::from_ref(&params.q)),
            hits,
            facets: facet_groups(lang, params, &results.facets, &link),
            chips,
            clear_filters,
            sorts,
            paging: paging(lang, params, results.total, &link),
            did_you_mean,
            relaxed_text: if results.near {
                let mut said = fill(text(lang, "results_near"), std::slice::from_ref(&params.q));
                if !results.unmatched_words.is_empty() {
                    let words = results.unmatched_words.iter().map(|w| format!("「{w}」")).collect::<String>();
                    said.push(' ');
                    said.push_str(&fill(text(lang, "results_unmatched"), &[words]));
                }
                Some(said)
            } else {
                results.relaxed.then(|| fill(text(lang, "results_relaxed"), std::slice::from_ref(&params.q)))
            },
            none_text: fill(text(lang, "results_none"), std::slice::from_ref(&params.q)),
            first_page,
        }
    }
}

/// Most values shown per facet.
const FACET_VALUES: usize = 12;

fn facet_groups(
    lang: Lang,
    params: &SearchParams,
    facets: &FacetCounts,
    link: &dyn Fn(String) -> String,
) -> Vec<FacetGroup> {
    let groups: [(&'static str, &Vec<FacetCount>); 8] = [
        ("available", &facets.available),
        ("branch", &facets.branch),
        ("ndc", &facets.ndc),
        ("decade", &facets.decade),
        ("lang", &facets.lang),
        ("material", &facets.material),
        ("author", &facets.author),
        ("subject", &facets.subject),
    ];
    groups
        .into_iter()
        .filter(|(_, counts)| !counts.is_empty())
        .map(|(name, counts)| {
            let mut counts: Vec<&FacetCount> = counts.iter().collect();
            if name == "decade" {
                counts.sort_by(|a, b| b.value.cmp(&a.value));
            }
            let values = counts
                .into_iter()
                .take(FACET_VALUES)
                .map(|count| {
                    let active = params.filters.iter().position(|(k, v)| k == name && v.trim() == count.value);
                    FacetLink {
                        label: match named(facets, name, &count.value) {
                            Some(label) => label.to_owned(),
                            None => filter_value_label(lang, name, &count.value),
                        },
                        count: grouped(count.count),
                        url: link(match active {
                            Some(i) => params.url_with(None, None, Some(i)),
                            None => params.url_with(None, Some((name, &count.value)), None),
                        }),
                        active: active.is_some(),
                    }
                })
                .collect();
            FacetGroup { name, heading: filter_heading(lang, name), values }
        })
        .collect()
}

/// The name of a branch facet value (`branch` or `available`), as the search labelled it
/// (the index holds codes; the names come from the catalogue).
fn named<'f>(facets: &'f FacetCounts, key: &str, value: &str) -> Option<&'f str> {
    let counts = match key {
        "branch" => &facets.branch,
        "available" => &facets.available,
        _ => return None,
    };
    counts.iter().find(|count| count.value == value).map(|count| count.label.as_str())
}

fn paging(lang: Lang, params: &SearchParams, total: usize, link: &dyn Fn(String) -> String) -> Option<Paging> {
    let reachable = MAX_OFFSET / params.per_page + 1;
    let last = total.div_ceil(params.per_page).min(reachable);
    if last <= 1 {
        return None;
    }
    let current = params.page;
    let url = |n: usize| link(params.url_with(Some(n), None, None));
    let mut pages = Vec::new();
    let mut previous = 0;
    for n in 1..=last {
        if n == 1 || n == last || n.abs_diff(current) <= 2 {
            if n > previous + 1 {
                pages.push(PageLink { number: 0, url: String::new(), current: false, label: String::new() });
            }
            pages.push(PageLink {
                number: n,
                url: url(n),
                current: n == current,
                label: fill(text(lang, "page_n"), &[n.to_string()]),
            });
            previous = n;
        }
    }
    Some(Paging {
        prev: (current > 1 && current <= last + 1).then(|| url(current - 1)),
        next: (current < last).then(|| url(current + 1)),
        pages,
    })
}

/// One value of a record field, maybe a link (to a search).
#[derive(Debug, Serialize)]
pub(crate) struct Cell {
    pub text: String,
    pub url: Option<String>,
    pub note: Option<&'static str>,
}

/// A labelled record field.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    pub label: &'static str,
    pub values: Vec<Cell>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ItemRow {
    pub branch: String,
    pub location: String,
    pub call_number: String,
    pub barcode: String,
    pub status: String,
    /// The status code, safe as a class name.
    pub status_class: String,
    pub due: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BranchRow {
    pub name: String,
    pub availability: AvailabilityView,
}

#[derive(Debug, Serialize)]
pub(crate) struct MarcRow {
    pub tag: String,
    pub indicators: String,
    /// (code, value); an empty code for control fields and the leader.
    pub subfields: Vec<(String, String)>,
}

/// The record page.
#[derive(Debug, Serialize)]
pub(crate) struct RecordPage {
    pub id: u64,
    pub title: Vec<RubyPiece>,
    pub authors: Vec<String>,
    pub rows: Vec<Row>,
    pub availability: AvailabilityView,
    pub branches: Vec<BranchRow>,
    pub items: Vec<ItemRow>,
    pub marc: Vec<MarcRow>,
    pub permalink: String,
    pub downloads: Vec<Link>,
    pub hold_action: String,
    /// The results page the patron came from (検索結果に戻る).
    pub back: Option<String>,
    /// The other volumes of the work, in the order of their numbers.
    pub volumes: Vec<Link>,
}

/// A search for a field's value, as a link.
fn search_link(library: &LibraryRef, field: &str, value: &str) -> String {
    let phrase: String = value.chars().filter(|c| *c != '"').collect();
    let query = serde_urlencoded::to_string([("q", format!("{field}:\"{phrase}\""))]).unwrap_or_default();
    format!("{}?{query}", library.home)
}

/// Seconds since the Unix epoch as a JST date and time.
pub(crate) fn jst(seconds: i64) -> String {
    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
    match jiff::Timestamp::from_second(seconds) {
        Ok(at) => format!("{} JST", at.to_zoned(zone).strftime("%Y-%m-%d %H:%M")),
        Err(_) => String::new(),
    }
}

impl RecordPage {
    /// The way back to the results and on to the other volumes.
    pub(crate) fn set_navigation(
        &mut self,
        library: &LibraryRef,
        volumes: &[crate::volumes::Volume],
        back: Option<String>,
    ) {
        self.back = back;
        self.volumes = volumes
            .iter()
            .map(|v| Link { label: v.title.clone(), url: format!("{}records/{}", library.home, v.id), current: false })
            .collect();
    }

    /// Puts ruby over the record's title.
    pub(crate) fn set_ruby(&mut self, title: &str, ruby: Option<&[tokenizer_dict::RubySegment]>) {
        self.title = ruby_pieces(title, &[], ruby);
    }

    pub(crate) fn build(lang: Lang, library: &LibraryRef, view: &RecordView) -> RecordPage {
        let plain = |values: &[String]| -> Vec<Cell> {
            values.iter().map(|v| Cell { text: v.clone(), url: None, note: None }).collect()
        };
        let linked = |values: &[String], field: &str| -> Vec<Cell> {
            values
                .iter()
                .map(|v| Cell { text: v.clone(), url: Some(search_link(library, field, v)), note: None })
                .collect()
        };
        let other_titles: Vec<String> = view.titles.iter().filter(|t| **t != view.title).cloned().collect();
        let ndc: Vec<String> = view
            .ndc
            .iter()
            .map(|n| {
                let class = n.chars().next().map(String::from).unwrap_or_default();
                match NDC_CLASSES.iter().find(|(c, _, _)| *c == class) {
                    Some((_, ja, en)) => format!("{n} ({})", lang.pick(ja, en)),
                    None => n.clone(),
                }
            })
            .collect();
        let languages: Vec<String> = view.languages.iter().map(|code| language_name(lang, code)).collect();
        let reading = if view.title_reading.trim().is_empty() {
            Vec::new()
        } else {
            vec![Cell {
                text: view.title_reading.clone(),
                url: None,
                note: (!view.title_reading_catalogued).then(|| text(lang, "reading_generated")),
            }]
        };
        let rows: Vec<Row> = [
            ("field_title_reading", reading),
            ("field_titles", plain(&other_titles)),
            ("field_title_romanised", plain(&view.title_romanised)),
            ("field_authors", linked(&view.authors, "author")),
            ("field_author_readings", plain(&view.author_readings)),
            ("field_edition", plain(&view.edition)),
            ("field_publishers", plain(&view.publishers)),
            ("field_year", plain(&view.year.map(|y| y.to_string()).into_iter().collect::<Vec<_>>())),
            ("field_extent", plain(&view.extent)),
            ("field_series", plain(&view.series)),
            ("field_subjects", linked(&view.subjects, "subject")),
            ("field_notes", plain(&view.notes)),
            ("field_isbn", plain(&view.isbn)),
            ("field_issn", plain(&view.issn)),
            ("field_ndc", plain(&ndc)),
            ("field_classes", plain(&view.classes)),
            ("field_languages", plain(&languages)),
            ("field_material", plain(&[material_name(lang, &view.material)])),
            ("field_control_number", plain(std::slice::from_ref(&view.control_number))),
            ("field_source", plain(std::slice::from_ref(&view.source))),
            ("field_bib_id", plain(&[view.id.to_string()])),
            ("field_updated", plain(&[jst(view.updated)])),
        ]
        .into_iter()
        .map(|(key, mut values)| {
            values.retain(|c| !c.text.trim().is_empty());
            Row { label: text(lang, key), values }
        })
        .filter(|row| !row.values.is_empty())
        .collect();
        let a = &view.availability;
        let branches = a
            .branches
            .iter()
            .map(|b| BranchRow {
                name: lang.pick(&b.name_ja, &b.name_en).to_owned(),
                availability: availability(lang, b.available, b.total, 0),
            })
            .collect();
        let items = view
            .items
            .iter()
            .map(|item| ItemRow {
                branch: lang.pick(&item.branch_name_ja, &item.branch_name_en).to_owned(),
                location: item.location.clone(),
                call_number: item.call_number.clone(),
                barcode: item.barcode.clone(),
                status: status_name(lang, &item.status),
                status_class: item.status.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
                due: item.due.clone(),
            })
            .collect();
        let marc = view
            .marc
            .iter()
            .map(|line| MarcRow {
                tag: line.tag.clone(),
                indicators: if line.subfields.iter().all(|(code, _)| *code == ' ') {
                    String::new()
                } else {
                    line.indicators.replace(' ', "#")
                },
                subfields: line
                    .subfields
                    .iter()
                    .map(|(code, value)| (if *code == ' ' { String::new() } else { format!("${code}") }, value.clone()))
                    .collect(),
            })
            .collect();
        let api = format!("/api/v1/{}/records/{}", library.code, view.id);
        RecordPage {
            id: view.id,
            title: ruby_pieces(&view.title, &[], None),
            authors: view.authors.clone(),
            rows,
            availability: availability(lang, a.available, a.total, a.holds),
            branches,
            items,
            marc,
            permalink: format!("{}records/{}", library.home, view.id),
            downloads: vec![
                Link {
                    label: text(lang, "download_marcxml").to_owned(),
                    url: format!("{api}.marcxml"),
                    current: false,
                },
                Link { label: text(lang, "download_mrc").to_owned(), url: format!("{api}.mrc"), current: false },
                Link { label: text(lang, "download_json").to_owned(), url: api.clone(), current: false },
            ],
            hold_action: format!("{}records/{}/hold", library.home, view.id),
            back: None,
            volumes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_cut_titles_on_character_boundaries() {
        let title = "図書館の歴史";
        let cut = parts(title, &[(0, 9), (3, 6), (100, 200), (1, 2)]);
        let shown: Vec<(&str, bool)> = cut.iter().map(|p| (p.text.as_str(), p.mark)).collect();
        assert_eq!(shown, [("図書館", true), ("の歴史", false)]);
        assert_eq!(parts("", &[]).len(), 1);
    }

    #[test]
    fn ruby_pieces_keep_the_highlights_inside_each_reading() {
        let ruby = [("図書館", Some("としょかん")), ("の", None), ("歴史", Some("れきし"))].map(|(text, reading)| {
            tokenizer_dict::RubySegment { text: text.to_owned(), reading: reading.map(str::to_owned) }
        });
        // 書館の (bytes 3..12) is highlighted across two pieces.
        let pieces = ruby_pieces("図書館の歴史", &[(3, 12)], Some(&ruby));
        type Shown<'a> = (Option<&'a str>, Vec<(&'a str, bool)>);
        let shown: Vec<Shown<'_>> = pieces
            .iter()
            .map(|p| (p.reading.as_deref(), p.parts.iter().map(|x| (x.text.as_str(), x.mark)).collect()))
            .collect();
        assert_eq!(
            shown,
            [
                (Some("としょかん"), vec![("図", false), ("書館", true)]),
                (None, vec![("の", true)]),
                (Some("れきし"), vec![("歴史", false)]),
            ]
        );
        // A ruby that is not of this title is not used.
        assert_eq!(ruby_pieces("別の本", &[], Some(&ruby))[0].reading, None);
    }

    #[test]
    fn dates_are_shown_in_japan_time() {
        assert_eq!(jst(0), "1970-01-01 09:00 JST");
    }

    #[test]
    fn paging_shows_a_window_with_gaps() {
        let params = SearchParams { q: "a".into(), page: 6, per_page: 10, ..SearchParams::default() };
        let paging = paging(Lang::Ja, &params, 200, &|q| format!("/t/?{q}")).unwrap();
        let numbers: Vec<usize> = paging.pages.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [1, 0, 4, 5, 6, 7, 8, 0, 20]);
        assert_eq!(paging.prev.as_deref(), Some("/t/?q=a&per_page=10&page=5"));
        assert_eq!(paging.next.as_deref(), Some("/t/?q=a&per_page=10&page=7"));
        assert!(super::paging(Lang::Ja, &params, 10, &|q| q).is_none());
    }
}
