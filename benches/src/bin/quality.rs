//! The known-item quality command: builds the test tenant from `../shared/fixtures`, runs
//! the query set and prints success@1, success@10 and MRR per kind as a Markdown table,
//! then the failing queries of each kind with what came first.
//!
//! `cargo run --release -p benches --bin quality [-- --per-kind N] [--aozora N] [--failures N]
//! [--samples N] [--misses-at-1 N]`: `--samples` lists the first queries of each kind with
//! the rank of their answer, `--misses-at-1` the queries answered below the first hit;
//! `--keep DIR` builds the test tenant (`quality`) in a new folder DIR and leaves it there
//! for `shiori --data DIR search --tenant quality …`.
//!
//! Exits with status 1 when success@10 falls below the bars (0.95 overall, 0.90 per kind).

use std::process::ExitCode;

use anyhow::{Context, bail};
use benches::quality::{self, Config};

fn main() -> anyhow::Result<ExitCode> {
    let mut config = Config::full();
    let mut shown = 10;
    let mut samples = 0;
    let mut misses = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> anyhow::Result<usize> {
            let text = args.next().with_context(|| format!("{name} needs a number"))?;
            text.parse().with_context(|| format!("{name} {text}: not a number"))
        };
        match arg.as_str() {
            "--per-kind" => config.per_kind = value("--per-kind")?,
            "--aozora" => config.aozora_works = value("--aozora")?,
            "--failures" => shown = value("--failures")?,
            "--samples" => samples = value("--samples")?,
            "--misses-at-1" => misses = value("--misses-at-1")?,
            "--keep" => config.keep = Some(args.next().context("--keep needs a folder")?.into()),
            "-h" | "--help" => {
                println!(
                    "usage: quality [--per-kind N (150)] [--aozora N (3000)] [--failures N (10)] \\
                     [--samples N (0)] [--misses-at-1 N (0)] [--keep NEW_DATA_DIR]"
                );
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    let report = quality::run(&config)?;
    quality::print_table(&report);
    print!("{}", quality::failures(&report, shown));
    if misses > 0 {
        print!("{}", quality::misses_at_1(&report, misses));
    }
    if samples > 0 {
        print!("{}", quality::samples(&report, samples));
    }
    let violations = report.violations();
    if violations.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    println!();
    for violation in &violations {
        println!("below the bar: {violation}");
    }
    Ok(ExitCode::FAILURE)
}
