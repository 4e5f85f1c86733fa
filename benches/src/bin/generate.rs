//! Writes the synthetic corpus of the search bench ([`benches::synthetic`]) to a MARC file
//! (ISO 2709, UTF-8), for loading it into Shiori or a peer engine outside the bench.
//!
//! `cargo run --release -p benches --bin generate -- --records 1000000 --out FILE.mrc`
//!
//! The generator draws on the LC "Books All 2016 part 01" file (`bash
//! fixtures/fetch-lc-books-all.sh` fetches it) and on `../shared/fixtures`, as the search
//! bench does: both files are imported into a tenant of a temporary data folder, whose
//! records give the LC names, subjects, publishers and English title words. The records
//! are then upserted into a second tenant and exported with `catalogue::export`, so the
//! bytes are those of the catalogue's own ISO 2709 writer, and the file holds exactly the
//! records the search bench indexes (its first `--records` records). Printed on stdout:
//! the number of records, the Japanese/Western split, the bytes and the sha256 of the
//! file. The same seed, fixtures and dictionary give the same file; a shorter run gives a
//! prefix of a longer one's records.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use benches::synthetic::{self, Generator};
use catalogue::{Catalogue, DataLayout, ExportFormat, Outcome, System, TenantCode, import_file};
use sha2::{Digest, Sha256};
use tokenizer_dict::JapaneseAnalyzer;

/// Records per `Catalogue::upsert` transaction, as in the search bench.
const BATCH: usize = 5_000;

/// A writer that counts and hashes what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn main() -> anyhow::Result<()> {
    let mut records: u64 = 1_000_000;
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--records" => {
                let text = args.next().context("--records needs a number")?;
                records = text.replace('_', "").parse().with_context(|| format!("--records {text}: not a number"))?;
            }
            "--out" => out = Some(args.next().context("--out needs a file")?.into()),
            "-h" | "--help" => {
                println!("usage: generate [--records N (1000000)] --out FILE.mrc");
                return Ok(());
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    let Some(out) = out else { bail!("--out FILE.mrc is required (try --help)") };
    let lc_file = benches::lc_books_all_location();
    if !lc_file.is_file() {
        bail!(
            "{} is missing: run `bash fixtures/fetch-lc-books-all.sh` from the workspace root first",
            lc_file.display()
        );
    }
    let started = Instant::now();
    let analyzer = JapaneseAnalyzer::new()?;
    let data = benches::TempData::new("generate");
    let layout = DataLayout::new(&data.root);
    let system = System::open(&layout)?;

    let lc = tenant(&system, &layout, "lc")?;
    for file in [lc_file, benches::lc_jpn_subset()] {
        let report =
            import_file(&lc, &file, &mut |_, _| {}).with_context(|| format!("importing {}", file.display()))?;
        eprintln!("generate: imported {} ({} records read)", file.display(), report.read);
    }
    let lc_words = synthetic::lc_vocabulary(&lc)?;
    drop(lc);
    let japanese_titles = synthetic::japanese_titles(benches::lc_vernacular_titles()?)?;
    let vocabulary = synthetic::vocabulary(&analyzer, lc_words, &japanese_titles);
    eprintln!(
        "generate: vocabulary of {} Japanese nouns, {} particles, {} English words (occurrences)",
        vocabulary.nouns.len(),
        vocabulary.particles.len(),
        vocabulary.english_words.len()
    );

    let catalogue = tenant(&system, &layout, "synthetic")?;
    let mut generator = Generator::new(&vocabulary);
    let (mut written, mut japanese) = (0u64, 0u64);
    while written < records {
        let size = (records - written).min(BATCH as u64) as usize;
        let mut batch = Vec::with_capacity(size);
        for record in generator.by_ref().take(size) {
            japanese += u64::from(record.japanese);
            batch.push(record.record);
        }
        for outcome in catalogue.upsert(batch, "synthetic")? {
            if !matches!(outcome, Outcome::Created(_)) {
                bail!("a synthetic record was not new: {outcome:?}");
            }
        }
        written += size as u64;
        if written % 100_000 == 0 {
            eprintln!("generate: {written} records");
        }
    }

    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    // Written beside the target and renamed, so an interrupted run leaves no partial file
    // under the final name.
    let partial = out.with_extension("mrc.part");
    let file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut writer = Hashing { inner: std::io::BufWriter::new(file), hasher: Sha256::new(), bytes: 0 };
    let exported = catalogue::export(&catalogue, ExportFormat::Marc, &mut writer)?.written;
    let Hashing { inner, hasher, bytes } = writer;
    inner.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all()).context("writing the file")?;
    std::fs::rename(&partial, &out).with_context(|| format!("renaming {} to {}", partial.display(), out.display()))?;
    if exported != records {
        bail!("exported {exported} records, expected {records}");
    }
    let sha256: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("records  {records}");
    println!("japanese {japanese} ({:.1}%)", 100.0 * japanese as f64 / records.max(1) as f64);
    println!("western  {}", records - japanese);
    println!("bytes    {bytes}");
    println!("sha256   {sha256}");
    println!("file     {}", out.display());
    eprintln!("generate: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A new tenant `code` of `system`, opened.
fn tenant(system: &System, layout: &DataLayout, code: &str) -> anyhow::Result<Catalogue> {
    let code: TenantCode = code.parse()?;
    system.create_tenant(&code, "Generator")?;
    Ok(Catalogue::open(layout, &code)?)
}
