//! MARC parsing throughput (records/s and MB/s): ISO 2709 and MARCXML read into the
//! catalogue's `Record`s by `catalogue::read_records`, the reader every import uses, and
//! the mapping of a record to its search document (`indexer::BibDocument::from_record`,
//! what is searched, shown and faceted; the analysis of its texts and the tantivy document
//! are crate-private and measured inside `Index::rebuild` by the search bench).
//!
//! Corpora: the 7,495-record LC Japanese subset of `../shared/fixtures` (romanised fields
//! with kanji and kana in 880s) and, when `fixtures/fetch-lc-books-all.sh` has fetched it,
//! the 250,000-record LC "Books All 2016 part 01" file. Both are UTF-8 ISO 2709; their
//! MARCXML form is written in memory by the catalogue's MARCXML writer
//! (`catalogue::marcxml_record`) before measuring, so the two formats hold the same records.
//!
//! Run: `cargo bench -p benches --bench marc` (about 4 minutes with the 250k file on 2
//! cores). Without `--bench` (`cargo test --benches`) each bench runs once on the subset.

use std::time::Duration;

use catalogue::{Record, marcxml_record, read_records};
use criterion::{Criterion, SamplingMode, Throughput};
use indexer::BibDocument;

/// Records in the LC Japanese subset.
const LC_JPN_RECORDS: usize = 7_495;
/// Records in `BooksAll.2016.part01.utf8`.
const LC_BOOKS_ALL_RECORDS: usize = 250_000;

/// One corpus in both formats, and its records parsed once for the mapping bench.
struct Corpus {
    name: &'static str,
    iso2709: Vec<u8>,
    marcxml: Vec<u8>,
    records: Vec<Record>,
}

/// Parses every record of `data` (either format); returns how many were read and how
/// many refused.
fn parse(data: &[u8]) -> (usize, usize) {
    let records = match read_records(data) {
        Ok(records) => records,
        Err(reason) => panic!("not MARC: {reason}"),
    };
    let (mut read, mut refused) = (0, 0);
    for record in records {
        match record.result {
            Ok(parsed) => {
                std::hint::black_box(parsed);
                read += 1;
            }
            Err(_) => refused += 1,
        }
    }
    (read, refused)
}

fn load(name: &'static str, path: &std::path::Path, expected: usize) -> Corpus {
    let iso2709 = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => panic!("reading {}: {err}", path.display()),
    };
    let records: Vec<Record> = match read_records(&iso2709) {
        Ok(records) => records.filter_map(|r| r.result.ok().map(|(record, _)| record)).collect(),
        Err(reason) => panic!("{}: not MARC: {reason}", path.display()),
    };
    assert_eq!(records.len(), expected, "{}: records read", path.display());
    let mut marcxml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    marcxml.push_str("<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n");
    for record in &records {
        marcxml.push_str(&marcxml_record(record, false));
    }
    marcxml.push_str("</collection>\n");
    let marcxml = marcxml.into_bytes();
    assert_eq!(parse(&marcxml), (expected, 0), "{name}: the MARCXML form reads back whole");
    eprintln!(
        "marc/{name}: {} records, ISO 2709 {:.1} MB, MARCXML {:.1} MB",
        records.len(),
        iso2709.len() as f64 / 1e6,
        marcxml.len() as f64 / 1e6
    );
    Corpus { name, iso2709, marcxml, records }
}

fn bench(c: &mut Criterion, corpus: &Corpus, large: bool) {
    let mut group = c.benchmark_group(format!("marc/{}", corpus.name));
    // Seconds of measurement for a pass of about `pass` seconds (measured on 2 cores):
    // enough for the samples, no more.
    let budget = |pass: f64| Duration::from_secs_f64((pass * if large { 11.0 } else { 25.0 }).max(5.0));
    if large {
        // One pass over the 250k file takes about a second (5 s for MARCXML): few, flat
        // samples.
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_secs(3));
    } else {
        group.sample_size(20);
        group.sampling_mode(SamplingMode::Flat);
    }
    let records = corpus.records.len() as u64;
    let scale = records as f64 / LC_BOOKS_ALL_RECORDS as f64;
    for (format, data, pass) in [("iso2709", &corpus.iso2709, 0.85), ("marcxml", &corpus.marcxml, 5.0)] {
        group.measurement_time(budget(pass * scale));
        group.throughput(Throughput::ElementsAndBytes { elements: records, bytes: data.len() as u64 });
        group.bench_function(format!("parse-{format}"), |b| b.iter(|| parse(data)));
    }
    group.measurement_time(budget(1.2 * scale));
    group.throughput(Throughput::Elements(records));
    group.bench_function("to-bib-document", |b| {
        b.iter(|| {
            for (i, record) in corpus.records.iter().enumerate() {
                std::hint::black_box(BibDocument::from_record(i as u64 + 1, record));
            }
        })
    });
    group.finish();
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let mut c = Criterion::default().configure_from_args();
    let jpn = load("lc-jpn", &benches::lc_jpn_subset(), LC_JPN_RECORDS);
    bench(&mut c, &jpn, false);
    drop(jpn);
    let books_all = benches::lc_books_all_location();
    if !full {
        eprintln!("marc/lc-250k: skipped in the smoke run (`cargo bench` measures it)");
    } else if books_all.is_file() {
        let corpus = load("lc-250k", &books_all, LC_BOOKS_ALL_RECORDS);
        bench(&mut c, &corpus, true);
    } else {
        eprintln!(
            "marc/lc-250k: skipped, {} is missing (`bash fixtures/fetch-lc-books-all.sh` fetches it)",
            books_all.display()
        );
    }
    c.final_summary();
}
