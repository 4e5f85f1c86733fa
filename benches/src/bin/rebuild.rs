//! Bulk indexing on its own, for profiling: imports the LC "Books All 2016 part 01" file
//! (250,000 records) into a tenant of a data folder once, then times `Index::rebuild` of
//! that tenant, as often as asked. The search bench measures import + index end to end;
//! this command makes the indexing half quick to repeat under `perf`.
//!
//! `cargo run --release -p benches --bin rebuild -- [--data DIR] [--runs N] [--jpn]`:
//! `--data` keeps the imported catalogue in DIR between runs (default: a temporary folder,
//! removed at the end); `--jpn` uses the 7,495-record LC Japanese subset instead, which
//! needs no download.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use catalogue::{Catalogue, DataLayout, System, TenantCode, import_file};
use indexer::Index;
use tokenizer_dict::JapaneseAnalyzer;

fn main() -> anyhow::Result<()> {
    let mut data: Option<PathBuf> = None;
    let mut runs = 1usize;
    let mut jpn = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = Some(args.next().context("--data needs a folder")?.into()),
            "--runs" => {
                let text = args.next().context("--runs needs a number")?;
                runs = text.parse().with_context(|| format!("--runs {text}: not a number"))?;
            }
            "--jpn" => jpn = true,
            "-h" | "--help" => {
                println!("usage: rebuild [--data DIR] [--runs N (1)] [--jpn]");
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
