//! The other volumes of a multi-volume work, as a record page lists them: the records
//! whose title proper (245 $a) is this record's, when this record is a numbered volume
//! (245 $n, 490 $v), in the order of their numbers.

use catalogue::StoredBib;
use indexer::{BibDocument, MatchMode, SearchRequest, Sort};

use crate::error::ApiError;
use crate::server::Library;

/// The most volumes listed.
const MAX_VOLUMES: usize = 60;

/// Another volume: its bib id and full title (with its number and part).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Volume {
    pub id: u64,
    pub title: String,
}

/// The other volumes of the work `bib` is a volume of; empty when it is not numbered.
pub(crate) fn other_volumes(library: &Library, bib: &StoredBib) -> Result<Vec<Volume>, ApiError> {
    let doc = BibDocument::from_record(bib.id, &bib.record()?);
    if doc.volumes.is_empty() {
        return Ok(Vec::new());
    }
    let Some(proper) = doc.title_proper.iter().map(|t| catalogue::trim_isbd(t)).find(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut request = SearchRequest::new(proper);
    request.mode = MatchMode::ExactTitle;
    request.sort = Sort::TitleReading;
    request.limit = MAX_VOLUMES;
    request.facets = false;
    let results = library.index.search(&request)?;
    let mut volumes: Vec<Volume> = results
        .hits
        .into_iter()
        .filter(|hit| hit.id != doc.id)
        .map(|hit| Volume { id: hit.id, title: hit.title })
        .collect();
    volumes.sort_by(|a, b| natural_key(&a.title).cmp(&natural_key(&b.title)).then(a.id.cmp(&b.id)));
    Ok(volumes)
}

/// A title as a sort key in which numbers compare by value (巻2 before 巻10).
fn natural_key(title: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut chars = title.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut number = u64::from(c as u8 - b'0');
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                number = number.saturating_mul(10).saturating_add(u64::from(d as u8 - b'0'));
                chars.next();
            }
            key.push((std::mem::take(&mut text), number));
        } else {
            text.push(c);
        }
    }
    key.push((text, 0));
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_by_value() {
        let mut titles = vec!["安吾人生案内 10", "安吾人生案内 2", "安吾人生案内 01"];
        titles.sort_by_key(|t| natural_key(t));
        assert_eq!(titles, ["安吾人生案内 01", "安吾人生案内 2", "安吾人生案内 10"]);
    }
}
