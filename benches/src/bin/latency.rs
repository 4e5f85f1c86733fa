//! Query latency on an existing index, for profiling: opens a tenant of a data folder (as
//! `shiori serve` would, reading only), runs a query list one query at a time and prints
//! the latency percentiles per query kind. The search bench measures the same thing from a
//! fresh build; this command makes it quick to repeat under `perf` after a change to the
//! search path.
//!
//! `cargo run --release -p benches --bin latency -- --data DIR --tenant T [--queries FILE]
//! [--passes N] [--facets] [--limit N]`: the queries default to the HTTP bench's mix
//! (`benches/http/queries.txt`, `KIND <TAB> FACETS <TAB> QUERY`; a line without tabs is one
//! query of kind `query`). `--facets` counts facets for every query; otherwise each line's
//! FACETS column decides. One untimed pass first, then N timed passes (default 3).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use catalogue::{DataLayout, TenantCode};
use indexer::{Index, SearchRequest};
use tokenizer_dict::JapaneseAnalyzer;

struct Query {
    kind: String,
    facets: bool,
    text: String,
}

fn main() -> anyhow::Result<()> {
    let mut data: Option<PathBuf> = None;
    let mut tenant: Option<String> = None;
    let mut queries = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/http/queries.txt"));
    let mut passes = 3usize;
    let mut all_facets = false;
    let mut limit = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--data" => data = Some(value("a folder")?.into()),
            "--tenant" => tenant = Some(value("a library code")?),
            "--queries" => queries = value("a file")?.into(),
            "--passes" => passes = value("a number")?.parse().context("--passes: not a number")?,
            "--limit" => limit = value("a number")?.parse().context("--limit: not a number")?,
            "--facets" => all_facets = true,
            "-h" | "--help" => {
                println!(
                    "usage: latency --data DIR --tenant T [--queries FILE] [--passes N (3)] [--facets] [--limit N (20)]"
                );
                return Ok(());
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    let data = data.context("--data DIR is required")?;
    let code: TenantCode = tenant.context("--tenant T is required")?.parse().context("tenant code")?;
    let text = std::fs::read_to_string(&queries).with_context(|| format!("reading {}", queries.display()))?;
    let list: Vec<Query> = text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [kind, facets, query] => {
                Query { kind: kind.to_string(), facets: all_facets || facets == "1", text: query.to_string() }
            }
            _ => Query { kind: "query".to_string(), facets: all_facets, text: line.to_string() },
        })
        .collect();
    if list.is_empty() {
        bail!("{}: no queries", queries.display());
    }
    let analyzer = Arc::new(JapaneseAnalyzer::new()?);
    let layout = DataLayout::new(&data);
    let index = Index::open(&layout, &code, analyzer)?;
    println!("{} documents, {} queries, {passes} timed passes", index.num_docs(), list.len());
    let request = |query: &Query| SearchRequest { limit, facets: query.facets, ..SearchRequest::new(&query.text) };
    for query in &list {
        index.search(&request(query)).with_context(|| format!("query {:?}", query.text))?;
    }
    let mut by_kind: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let started = Instant::now();
    for _ in 0..passes {
        for query in &list {
            let began = Instant::now();
            let results = index.search(&request(query))?;
            let micros = began.elapsed().as_secs_f64() * 1e6;
            std::hint::black_box(results);
            by_kind.entry(&query.kind).or_default().push(micros);
            by_kind.entry("(all)").or_default().push(micros);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("| kind | n | p50 µs | p90 µs | p99 µs | max µs | mean µs |");
    println!("|---|---|---|---|---|---|---|");
    for (kind, mut samples) in by_kind {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        println!(
            "| {kind} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {mean:.0} |",
            samples.len(),
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0)
        );
    }
    println!("{:.0} queries/s on one thread", (passes * list.len()) as f64 / seconds);
    Ok(())
}
