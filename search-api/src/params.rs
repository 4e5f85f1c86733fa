//! Search parameters from a URL query string, shared by the JSON API and the OPAC pages:
//! `q`, `mode`, `page`, `per_page`, `sort`, `filter` (repeatable), `facets`, `lang`.

use indexer::{Filters, MAX_LIMIT, MAX_OFFSET, MatchMode, SearchRequest, Sort};

use crate::error::ApiError;

/// The longest query accepted, in characters (the parser's own limit is the same).
pub(crate) const MAX_QUERY_CHARS: usize = 1_000;
/// The last page a search can be paged to (with at most 100 hits a page, within the
/// index's paging depth).
pub(crate) const MAX_PAGE: usize = 100;
/// Hits per page unless asked otherwise.
pub(crate) const DEFAULT_PER_PAGE: usize = 20;

/// A search as asked for in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    /// The query text (may be empty: then no search is made).
    pub q: String,
    /// 1-based page.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// The order.
    pub sort: Sort,
    /// Keywords, exact title or title prefix.
    pub mode: MatchMode,
    /// Facet selections, as `name:value` strings in the order given.
    pub filters: Vec<(String, String)>,
    /// Whether to count facets.
    pub facets: bool,
    /// `lang=` if given.
    pub lang: Option<String>,
}

impl Default for SearchParams {
    fn default() -> SearchParams {
        SearchParams {
            q: String::new(),
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            sort: Sort::Relevance,
            mode: MatchMode::Keywords,
            filters: Vec::new(),
            facets: true,
            lang: None,
        }
    }
}

/// The URL names of the sorts.
pub(crate) fn sort_name(sort: Sort) -> &'static str {
    match sort {
        Sort::Relevance => "relevance",
        Sort::YearDesc => "newest",
        Sort::YearAsc => "oldest",
        Sort::TitleReading => "title",
    }
}

/// The URL names of the match modes.
pub(crate) fn mode_name(mode: MatchMode) -> &'static str {
    match mode {
        MatchMode::Keywords => "keywords",
        MatchMode::ExactTitle => "exact",
        MatchMode::TitlePrefix => "prefix",
    }
}

/// The filter names a URL may use.
pub(crate) const FILTER_NAMES: [&str; 9] =
    ["ndc", "lang", "material", "year", "decade", "author", "subject", "branch", "available"];

impl SearchParams {
    /// Parses a raw query string. Unknown parameters are ignored (browsers and widgets add
    /// their own); known ones with bad values are a 400 naming the parameter.
    pub fn from_query(raw: Option<&str>) -> Result<SearchParams, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|_| {
            ApiError::bad_request("bad_parameter", "URL の検索条件を読めません", "the query string cannot be decoded")
        })?;
        SearchParams::from_pairs(&pairs)
    }

    /// Parses decoded `name=value` pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<SearchParams, ApiError> {
        let mut params = SearchParams::default();
        for (name, value) in pairs {
            // Clients fill optional template parameters with nothing (OpenSearch's
            // `{startPage?}`): an empty paging or ordering value means "not given".
            if value.is_empty() && matches!(name.as_str(), "page" | "per_page" | "sort" | "mode" | "facets") {
                continue;
            }
            match name.as_str() {
                "q" => {
                    if value.chars().count() > MAX_QUERY_CHARS {
                        return Err(ApiError::bad_request(
                            "query_too_long",
                            format!("検索語が長すぎます（{MAX_QUERY_CHARS}文字まで）"),
                            format!("the query is longer than {MAX_QUERY_CHARS} characters"),
                        ));
                    }
                    params.q = value.clone();
                }
                "page" => params.page = number(name, value, 1, MAX_PAGE)?,
                "per_page" => params.per_page = number(name, value, 1, MAX_LIMIT)?,
                "sort" => {
                    params.sort = match value.as_str() {
                        "" | "relevance" => Sort::Relevance,
                        "newest" => Sort::YearDesc,
                        "oldest" => Sort::YearAsc,
                        "title" => Sort::TitleReading,
                        _ => return Err(bad_value(name, value, "relevance, newest, oldest, title")),
                    }
                }
                "mode" => {
                    params.mode = match value.as_str() {
                        "" | "keywords" => MatchMode::Keywords,
                        "exact" => MatchMode::ExactTitle,
                        "prefix" => MatchMode::TitlePrefix,
                        _ => return Err(bad_value(name, value, "keywords, exact, prefix")),
                    }
                }
                "filter" => {
                    if value.is_empty() {
                        continue;
                    }
                    let Some((key, val)) = value.split_once(':') else {
                        return Err(bad_value(name, value, "name:value, e.g. ndc:9"));
                    };
                    if !FILTER_NAMES.contains(&key) || val.is_empty() {
                        return Err(bad_value(name, value, &FILTER_NAMES.map(|n| format!("{n}:…")).join(", ")));
                    }
                    if matches!(key, "year" | "decade") {
                        year_range(key, val)?;
                    }
                    if matches!(key, "branch" | "available") {
                        branch_value(key, val)?;
                    }
                    // A blank facet value selects nothing: the filter is left out.
                    if !val.trim().is_empty() {
                        params.filters.push((key.to_owned(), val.to_owned()));
                    }
                }
                "facets" => {
                    params.facets = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad_value(name, value, "true, false")),
                    }
                }
                "lang" => params.lang = Some(value.clone()),
                _ => {}
            }
        }
        // MAX_PAGE pages of at most MAX_LIMIT hits stay within the index's paging depth.
        const _: () = assert!((MAX_PAGE - 1) * MAX_LIMIT <= MAX_OFFSET);
        Ok(params)
    }

    /// The index request, or a 400 for a bad filter value.
    pub fn request(&self) -> Result<SearchRequest, ApiError> {
        let mut filters = Filters::default();
        for (key, value) in &self.filters {
            let value = value.trim();
            match key.as_str() {
                "ndc" => filters.ndc = Some(value.to_owned()),
                "lang" => filters.lang = Some(value.to_owned()),
                "material" => filters.material = Some(value.to_owned()),
                "author" => filters.author = Some(value.to_owned()),
                "subject" => filters.subject = Some(value.to_owned()),
                "branch" => filters.branch = Some(branch_value(key, value)?),
                "available" => filters.available = Some(branch_value(key, value)?),
                "year" | "decade" => {
                    let (from, to) = year_range(key, value)?;
                    filters.year_from = from.or(filters.year_from);
                    filters.year_to = to.or(filters.year_to);
                }
                _ => {}
            }
        }
        Ok(SearchRequest {
            query: self.q.clone(),
            mode: self.mode,
            filters,
            sort: self.sort,
            offset: (self.page - 1) * self.per_page,
            limit: self.per_page,
            facets: self.facets,
            parsed: None,
        })
    }

    /// The query string of these parameters with some changed: for paging, sorting and
    /// facet links. Always percent-encoded.
    pub fn url_with(
        &self,
        page: Option<usize>,
        add_filter: Option<(&str, &str)>,
        remove_filter: Option<usize>,
    ) -> String {
        let mut pairs: Vec<(&str, String)> = vec![("q", self.q.clone())];
        if self.mode != MatchMode::Keywords {
            pairs.push(("mode", mode_name(self.mode).to_owned()));
        }
        if self.sort != Sort::Relevance {
            pairs.push(("sort", sort_name(self.sort).to_owned()));
        }
        for (i, (key, value)) in self.filters.iter().enumerate() {
            if Some(i) != remove_filter {
                pairs.push(("filter", format!("{key}:{value}")));
            }
        }
        if let Some((key, value)) = add_filter {
            pairs.push(("filter", format!("{key}:{value}")));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        let page = page.unwrap_or(if add_filter.is_some() || remove_filter.is_some() { 1 } else { self.page });
        if page != 1 {
            pairs.push(("page", page.to_string()));
        }
        if let Some(lang) = &self.lang {
            pairs.push(("lang", lang.clone()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

fn number(name: &str, value: &str, min: usize, max: usize) -> Result<usize, ApiError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            "bad_parameter",
            format!("{name} は {min} から {max} までの整数で指定してください"),
            format!("{name} must be a whole number from {min} to {max}"),
        )),
    }
}

fn bad_value(name: &str, value: &str, allowed: &str) -> ApiError {
    let shown: String = value.chars().take(50).collect();
    ApiError::bad_request(
        "bad_parameter",
        format!("{name} の値「{shown}」は使えません（使えるもの: {allowed}）"),
        format!("{name} cannot be {shown:?} (allowed: {allowed})"),
    )
}

/// A branch code as the catalogue allows them (1 to 32 lowercase ASCII letters, digits and
/// '-'), or for `available` also `*`, a copy in at any branch. Nothing else, not even
/// spaces: what the API document says.
fn branch_value(key: &str, value: &str) -> Result<String, ApiError> {
    let code = !value.is_empty()
        && value.len() <= 32
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if code || (key == "available" && value == indexer::ANYWHERE) {
        return Ok(value.to_owned());
    }
    let allowed = if key == "available" { "available:*, available:<branch code>" } else { "branch:<branch code>" };
    Err(bad_value("filter", &format!("{key}:{value}"), allowed))
}

/// `1990-2000`, `1990-`, `-2000`, `1990` (one year) or, for `decade`, `1990` (1990–1999).
fn year_range(key: &str, value: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let bad = || bad_value("filter", &format!("{key}:{value}"), "year:1990-2000, year:1990-, year:-2000, decade:1990");
    // One to four ASCII digits, nothing else (no sign, no spaces): what the API document says.
    let year = |s: &str| -> Result<Option<i64>, ApiError> {
        if s.is_empty() {
            return Ok(None);
        }
        if s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<i64>().map(Some).map_err(|_| bad())
    };
    if key == "decade" {
        let from = year(value)?.ok_or_else(bad)?;
        return Ok((Some(from), Some(from + 9)));
    }
    match value.split_once('-') {
        Some((from, to)) => match (year(from)?, year(to)?) {
            (None, None) => Err(bad()),
            // A range typed backwards means the same years.
            (Some(f), Some(t)) if f > t => Ok((Some(t), Some(f))),
            (from, to) => Ok((from, to)),
        },
        None => {
            let y = year(value)?.ok_or_else(bad)?;
            Ok((Some(y), Some(y)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_with_the_parameter_named() {
        let params = SearchParams::from_query(Some(
            "q=%E5%9B%B3%E6%9B%B8%E9%A4%A8&page=2&per_page=10&sort=newest&filter=ndc:9&filter=year:1990-2000",
        ))
        .unwrap();
        assert_eq!(params.q, "図書館");
        let request = params.request().unwrap();
        assert_eq!((request.offset, request.limit), (10, 10));
        assert_eq!(request.filters.ndc.as_deref(), Some("9"));
        assert_eq!((request.filters.year_from, request.filters.year_to), (Some(1990), Some(2000)));
        for bad in ["page=0", "page=-1", "page=x", "per_page=1000", "sort=best", "filter=colour:red", "filter=ndc"] {
            let err = SearchParams::from_query(Some(bad)).unwrap_err();
            assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
        let reversed = SearchParams::from_query(Some("filter=year:2000-1990")).unwrap().request().unwrap();
        assert_eq!((reversed.filters.year_from, reversed.filters.year_to), (Some(1990), Some(2000)));
        for bad in ["filter=year:+1990", "filter=year: 1990", "filter=year:-", "filter=decade:19900", "filter=ndc:"] {
            assert_eq!(SearchParams::from_query(Some(bad)).unwrap_err().code, "bad_parameter", "{bad}");
        }
        assert!(SearchParams::from_query(Some("filter=ndc:%20")).unwrap().filters.is_empty());
        let held =
            SearchParams::from_query(Some("filter=branch:kita-2&filter=available:*")).unwrap().request().unwrap();
        assert_eq!((held.filters.branch.as_deref(), held.filters.available.as_deref()), (Some("kita-2"), Some("*")));
        let at = SearchParams::from_query(Some("filter=available:chuo")).unwrap().request().unwrap();
        assert_eq!(at.filters.available.as_deref(), Some("chuo"));
        for bad in [
            "filter=branch:*",
            "filter=branch:Chuo",
            "filter=branch:%20",
            "filter=available:%20chuo",
            "filter=branch:%E4%B8%AD%E5%A4%AE",
            "filter=available:a_b",
        ] {
            assert_eq!(SearchParams::from_query(Some(bad)).unwrap_err().code, "bad_parameter", "{bad}");
        }
        let long = format!("q={}", "あ".repeat(MAX_QUERY_CHARS + 1));
        assert_eq!(SearchParams::from_query(Some(&long)).unwrap_err().code, "query_too_long");
    }

    #[test]
    fn links_keep_the_search_and_reset_the_page_on_a_new_filter() {
        let params = SearchParams::from_query(Some("q=a+b&page=3&filter=lang:jpn")).unwrap();
        assert_eq!(params.url_with(Some(4), None, None), "q=a+b&filter=lang%3Ajpn&page=4");
        assert_eq!(params.url_with(None, Some(("ndc", "9")), None), "q=a+b&filter=lang%3Ajpn&filter=ndc%3A9");
        assert_eq!(params.url_with(None, None, Some(0)), "q=a+b");
    }
}
