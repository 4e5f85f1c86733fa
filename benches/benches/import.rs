//! Import throughput (MARC records/s) into a fresh tenant's on-disk redb catalogue, and the
//! peak resident memory of one import, on the Library of Congress "Books All 2016 part 01"
//! file (250,000 records, DESIGN.md's reference corpus) and on its 7,495-record Japanese
//! subset in `../shared/fixtures`.
//!
//! Run: `bash fixtures/fetch-lc-books-all.sh && cargo bench -p benches --bench import`.
//! The 250k file lives outside the repository
//! (`${SHIORI_CORPUS_DIR:-$HOME/.cache/shiori/corpus}`); without it this bench fails
//! rather than report nothing. `cargo bench -p benches --bench import -- lc-jpn` runs the
//! subset alone, which needs no download.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use catalogue::{Catalogue, DataLayout, ImportReport, System, TenantCode, import_file};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// Records in `BooksAll.2016.part01.utf8`.
const LC_BOOKS_ALL_RECORDS: u64 = 250_000;
/// Records in the LC Japanese subset.
const LC_JPN_RECORDS: u64 = 7_495;

/// A fresh data folder with one registered tenant and its opened catalogue.
fn fresh_catalogue() -> (benches::TempData, Catalogue) {
    let data = benches::TempData::new("import");
    let layout = DataLayout::new(&data.root);
    let code: TenantCode = match "bench".parse() {
        Ok(code) => code,
        Err(err) => panic!("tenant code: {err}"),
    };
    let opened = System::open(&layout)
        .and_then(|system| system.create_tenant(&code, "Bench"))
        .and_then(|_| Catalogue::open(&layout, &code));
    match opened {
        Ok(catalogue) => (data, catalogue),
        Err(err) => panic!("creating a tenant in {}: {err}", data.root.display()),
    }
}

/// Imports `file` into a fresh tenant; only the import itself is timed. The catalogue is
/// closed and its folder removed before returning.
fn import_once(file: &Path) -> (Duration, ImportReport) {
    let (data, catalogue) = fresh_catalogue();
    let started = Instant::now();
    let report = match import_file(&catalogue, file, &mut |_, _| {}) {
        Ok(report) => report,
        Err(err) => panic!("importing {}: {err}", file.display()),
    };
    let elapsed = started.elapsed();
    drop(catalogue);
    drop(data);
    (elapsed, report)
}

/// `field` of `/proc/self/status` in kB (Linux), e.g. `VmHWM` (peak resident set).
fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One untimed import that reports the peak resident memory it reached, and checks the
/// file was read whole. Writing 5 to `/proc/self/clear_refs` resets VmHWM to the current
/// RSS, so the peak is this import's, not an earlier one's.
fn report_peak_memory(name: &str, file: &Path, expected_records: u64) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = proc_status_kb("VmRSS");
    let (elapsed, report) = import_once(file);
    let peak = proc_status_kb("VmHWM");
    assert_eq!(report.read, expected_records, "{}: expected {expected_records} records", file.display());
    let mib = |kb: Option<u64>| kb.map_or_else(|| "?".to_string(), |kb| format!("{:.0} MiB", kb as f64 / 1024.0));
    eprintln!(
        "import/{name}: {} records ({} rejected) in {:.2} s = {:.0} records/s; \
         peak RSS {} (VmHWM{}; RSS before {})",
        report.read,
        report.rejected.len(),
        elapsed.as_secs_f64(),
        report.read as f64 / elapsed.as_secs_f64(),
        mib(peak),
        if reset { ", reset before the import" } else { " of the whole process" },
        mib(before),
    );
}

/// A file to import and how long criterion may spend measuring it.
struct Corpus {
    name: &'static str,
    /// Finds the file, panicking with what to do when it is absent.
    locate: fn() -> PathBuf,
    records: u64,
    /// Measurement time: with flat sampling, 10 samples of at least one import each.
    seconds: u64,
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    // Every iteration imports a whole file into a new data folder: few, flat samples.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));

    let corpora = [
        Corpus { name: "lc-jpn", locate: benches::lc_jpn_subset, records: LC_JPN_RECORDS, seconds: 10 },
        Corpus { name: "lc-books-all", locate: benches::lc_books_all, records: LC_BOOKS_ALL_RECORDS, seconds: 120 },
    ];
    for Corpus { name, locate, records, seconds } in corpora {
        group.throughput(Throughput::Elements(records));
        group.measurement_time(Duration::from_secs(seconds));
        // The closure runs once per sample; the file is located (failing loudly when it is
        // absent) and the memory measured only on the first run, and only when the bench
        // is selected, so `-- lc-jpn` works without the 250k download.
        let mut file = None;
        group.bench_function(format!("{name}/{records}-records"), |b| {
            let file = file.get_or_insert_with(|| {
                let file = locate();
                report_peak_memory(name, &file, records);
                file
            });
            b.iter_custom(|iters| (0..iters).map(|_| import_once(file).0).sum());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
