//! Bulk indexing on its own, for profiling: imports the LC "Books All 2016 part 01" file
//! (250,000 records) into a tenant of a data folder once, then times `Index::rebuild` of
//! that tenant, as often as asked. The search bench measures import + index end to end;
//! this command makes the indexing half quick to repeat under `perf`.
//!
//! `cargo run --release -p benches --bin rebuild -- [--data DIR] [--runs N] [--jpn] [--items]`:
//! `--data` keeps the imported catalogue in DIR between runs (default: a temporary folder,
//! removed at the end); `--jpn` uses the 7,495-record LC Japanese subset instead, which
//! needs no download; `--items` gives every record one to three copies at three branches
//! (some missing, some for reference only) when the catalogue has none, so a rebuild reads
//! copies as it would in a library (the branch and availability facets).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use catalogue::{Branch, Catalogue, DataLayout, System, TenantCode, import_file};
use indexer::Index;
use tokenizer_dict::JapaneseAnalyzer;

fn main() -> anyhow::Result<()> {
    let mut data: Option<PathBuf> = None;
    let mut runs = 1usize;
    let mut jpn = false;
    let mut items = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = Some(args.next().context("--data needs a folder")?.into()),
            "--runs" => {
                let text = args.next().context("--runs needs a number")?;
                runs = text.parse().with_context(|| format!("--runs {text}: not a number"))?;
            }
            "--jpn" => jpn = true,
            "--items" => items = true,
            "-h" | "--help" => {
                println!("usage: rebuild [--data DIR] [--runs N (1)] [--jpn] [--items]");
                return Ok(());
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    let temporary = data.is_none().then(|| benches::TempData::new("rebuild"));
    let root = match (&data, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temp)) => temp.root.clone(),
        (None, None) => bail!("no data folder"),
    };
    let layout = DataLayout::new(&root);
    let code: TenantCode = "bench".parse().context("tenant code")?;
    let system = System::open(&layout)?;
    let exists = system.tenants()?.iter().any(|t| t.code == code);
    if !exists {
        system.create_tenant(&code, "Bench")?;
    }
    drop(system);
    let catalogue = Catalogue::open(&layout, &code)?;
    if catalogue.len()? == 0 {
        let file = if jpn { benches::lc_jpn_subset() } else { benches::lc_books_all() };
        let started = Instant::now();
        let report = import_file(&catalogue, &file, &mut |_, _| {})?;
        let seconds = started.elapsed().as_secs_f64();
        println!("import: {} records in {seconds:.2} s ({:.0} records/s)", report.read, report.read as f64 / seconds);
    }
    if items && catalogue.branches()?.is_empty() {
        add_copies(&catalogue)?;
    }
    if items {
        // What a rebuild pays for the copies: one read per page of 2,000 records.
        let (mut after, mut records, mut copies, mut seconds) = (None, 0usize, 0u64, 0.0);
        loop {
            let page = catalogue.bibs_after(after, 2_000)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let ids: Vec<u64> = page.iter().map(|bib| bib.id).collect();
            let started = Instant::now();
            let read = catalogue.availabilities(&ids)?;
            seconds += started.elapsed().as_secs_f64();
            records += read.len();
            copies += read.iter().map(|a| u64::from(a.total)).sum::<u64>();
        }
        println!("copies: {copies} of {records} records read in {:.1} ms", seconds * 1e3);
    }
    let analyzer = Arc::new(JapaneseAnalyzer::new()?);
    for run in 1..=runs {
        let started = Instant::now();
        let report = Index::rebuild(&layout, &catalogue, analyzer.clone(), &mut |_, _| {})?;
        let seconds = started.elapsed().as_secs_f64();
        let index = Index::open(&layout, &code, analyzer.clone())?;
        if index.num_docs() != report.documents {
            bail!("{} documents indexed, {} visible", report.documents, index.num_docs());
        }
        println!(
            "rebuild {run}: {} records in {seconds:.2} s ({:.0} records/s); {} segments",
            report.documents,
            report.documents as f64 / seconds,
            term_files(&layout.index_dir(&code))
        );
    }
    Ok(())
}

/// One to three copies of every record at three branches; every fifth copy missing and
/// every seventh for reference only.
fn add_copies(catalogue: &Catalogue) -> anyhow::Result<()> {
    let started = Instant::now();
    let branches = ["chuo", "kita", "minami"];
    for (code, name) in branches.iter().zip(["中央図書館", "北分館", "南分館"]) {
        catalogue.put_branch(&Branch { code: code.to_string(), name_ja: name.into(), name_en: String::new() })?;
    }
    let mut csv = String::from("barcode,bib_id,branch,item_type,status\n");
    let mut after = None;
    let mut n = 0u64;
    loop {
        let page = catalogue.bibs_after(after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for bib in &page {
            for copy in 0..=(bib.id % 3) {
                n += 1;
                let branch = branches[((bib.id + copy) % 3) as usize];
                let kind = if n.is_multiple_of(7) { "reference" } else { "book" };
                let status = if n.is_multiple_of(5) { "missing" } else { "available" };
                csv.push_str(&format!("B{n:08},{},{branch},{kind},{status}\n", bib.id));
            }
        }
    }
    let report = catalogue.import_items(csv.as_bytes())?;
    if !report.rejected.is_empty() {
        bail!("{} item rows refused, the first: {:?}", report.rejected.len(), report.rejected[0]);
    }
    println!("items: {} copies in {:.2} s", report.created, started.elapsed().as_secs_f64());
    Ok(())
}

/// tantivy segments under `dir`: one `.term` file each.
fn term_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() { term_files(&path) } else { usize::from(path.extension().is_some_and(|e| e == "term")) }
        })
        .sum()
}
