//! Facets: NDC first-level class (with its Japanese label), language, material type,
//! decade, author and subject.

use tantivy::schema::Facet;

use crate::document::BibDocument;

/// The ten classes of the Nippon Decimal Classification (NDC), first level.
pub const NDC_CLASSES: [(&str, &str, &str); 10] = [
    ("0", "総記", "General works"),
    ("1", "哲学", "Philosophy"),
    ("2", "歴史", "History"),
    ("3", "社会科学", "Social sciences"),
    ("4", "自然科学", "Natural sciences"),
    ("5", "技術", "Technology"),
    ("6", "産業", "Industry"),
    ("7", "芸術", "Arts"),
    ("8", "言語", "Language"),
    ("9", "文学", "Literature"),
];

/// The Japanese label of an NDC first-level class ("9" -> 文学).
pub fn ndc_label(class: &str) -> Option<&'static str> {
    NDC_CLASSES.iter().find(|(c, _, _)| *c == class).map(|(_, ja, _)| *ja)
}

/// At most this many authors and subjects of a record become facets.
const PER_RECORD: usize = 3;

pub(crate) fn facets_of(doc: &BibDocument) -> Vec<Facet> {
    let mut out = Vec::new();
    for ndc in &doc.ndc {
        if let Some(first) = ndc.chars().next().filter(char::is_ascii_digit) {
            let facet = Facet::from_path(["ndc", &first.to_string()]);
            if !out.contains(&facet) {
                out.push(facet);
            }
        }
    }
    for lang in &doc.languages {
        out.push(Facet::from_path(["lang", lang.as_str()]));
    }
    out.push(Facet::from_path(["material", doc.material]));
    if let Some(year) = doc.year {
        out.push(Facet::from_path(["decade", &(year / 10 * 10).to_string()]));
    }
    for author in doc.authors.iter().take(PER_RECORD) {
        out.push(Facet::from_path(["author", author.as_str()]));
    }
    for subject in doc.subjects.iter().take(PER_RECORD) {
        let heading = subject.split(" -- ").next().unwrap_or(subject);
        out.push(Facet::from_path(["subject", heading]));
    }
    out
}
