//! `shiori import` killed with SIGKILL in the middle of a large import, several times over:
//! afterwards the catalogue opens, its counts, lookups and change feed agree, what survived
//! is the start of the file, and running the import again finishes with exactly one copy of
//! every record.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use catalogue::{Catalogue, ChangeKind, DataLayout, TenantCode};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// 7,495 LC records of Japanese books, all with 003 DLC and a distinct 001.
const FIXTURE: &str = "../../shared/fixtures/japanese/lc-jpn-subset/lc_booksall_2016_part01_jpn.mrc";

/// Copies of the fixture in the input, each with its own control numbers: 59,960 records.
const COPIES: usize = 8;

const TENANT: &str = "crash-city";

/// A tenant the whole input is imported into once, to time it.
const WARM_UP: &str = "crash-warm-up";

/// A folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("shiori-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn number(bytes: &[u8]) -> TestResult<usize> {
    Ok(std::str::from_utf8(bytes)?.parse()?)
}

/// The ISO 2709 records of `data`, by their declared lengths.
fn split(data: &[u8]) -> TestResult<Vec<&[u8]>> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let length = number(data.get(at..at + 5).ok_or("truncated leader")?)?;
        let record = data.get(at..at + length).ok_or("truncated record")?;
        if record.last() != Some(&0x1D) {
            return Err(format!("the record at byte {at} does not end where its length says").into());
        }
        records.push(record);
        at += length;
    }
    Ok(records)
}

/// The record with `-suffix` appended to its 001 (directory and leader recomputed; every
/// other byte as it was), and its (003, new 001).
fn renumber(raw: &[u8], suffix: usize) -> TestResult<(Vec<u8>, (String, String))> {
    let base = number(&raw[12..17])?;
    let directory = &raw[24..base - 1];
    if !directory.len().is_multiple_of(12) {
        return Err("directory is not a whole number of entries".into());
    }
    let mut fields = Vec::new();
    let (mut organisation, mut control) = (String::new(), None);
    for entry in directory.chunks_exact(12) {
        let (length, start) = (number(&entry[3..7])?, number(&entry[7..12])?);
        let mut data = raw.get(base + start..base + start + length).ok_or("field outside its record")?.to_vec();
        let text = || std::str::from_utf8(&data[..data.len() - 1]).map(|t| t.trim().to_string());
        match &entry[..3] {
            b"001" => {
                let new = format!("{}-{suffix}", text()?);
                data = format!("{new}\u{1e}").into_bytes();
                control = Some(new);
            }
            b"003" => organisation = text()?,
            _ => {}
        }
        fields.push((&entry[..3], data));
    }
    let control = control.ok_or("a record without 001")?;
    let base = 24 + 12 * fields.len() + 1;
    let mut directory = Vec::new();
    let mut body = Vec::new();
    for (tag, data) in &fields {
        directory.extend_from_slice(tag);
        directory.extend_from_slice(format!("{:04}{:05}", data.len(), body.len()).as_bytes());
        body.extend_from_slice(data);
    }
    let mut record = format!("{:05}", base + body.len() + 1).into_bytes();
    record.extend_from_slice(&raw[5..12]);
    record.extend_from_slice(format!("{base:05}").as_bytes());
    record.extend_from_slice(&raw[17..24]);
    record.extend_from_slice(&directory);
    record.push(0x1E);
    record.extend_from_slice(&body);
    record.push(0x1D);
    Ok((record, (organisation, control)))
}

/// Writes the large input and returns each record's (003, 001) in file order.
fn write_input(path: &Path) -> TestResult<Vec<(String, String)>> {
    let fixture = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))?;
    let originals = split(&fixture)?;
    assert_eq!(originals.len(), 7_495, "records in {FIXTURE}");
    let mut out = Vec::with_capacity(fixture.len() * COPIES + COPIES * originals.len() * 2);
    let mut keys = Vec::with_capacity(COPIES * originals.len());
    for copy in 0..COPIES {
        for raw in &originals {
            let (record, key) = renumber(raw, copy)?;
            out.extend_from_slice(&record);
            keys.push(key);
        }
    }
    assert_eq!(keys.iter().collect::<BTreeSet<_>>().len(), keys.len(), "control numbers of the input are distinct");
    std::fs::write(path, out)?;
    Ok(keys)
}

fn shiori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shiori"))
}

/// Opens the catalogue after a crash and checks it holds a consistent start of the input;
/// returns how many records it holds.
fn check_consistent(layout: &DataLayout, tenant: &TenantCode, input: &[(String, String)]) -> TestResult<usize> {
    let catalogue = Catalogue::open(layout, tenant)?;
    let len = usize::try_from(catalogue.len()?)?;

    // A full scan: one bib per control number.
    let mut bibs: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = catalogue.bibs_after(after, 5_000)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for bib in page {
            let record = bib.record()?;
            let organisation = record.control_organisation().unwrap_or_default().to_string();
            let number = record.control_number().ok_or("a stored record without 001")?.to_string();
            if let Some(other) = bibs.insert((organisation, number), bib.id) {
                panic!("bibs {other} and {} have the same control number", bib.id);
            }
        }
    }
    assert_eq!(bibs.len(), len, "len() against the distinct control numbers of a full scan");

    // Batches are committed in file order, each whole or not at all: what survived is the
    // start of the file, not a record more or less.
    assert!(len <= input.len(), "{len} records stored from an input of {}", input.len());
    let start: BTreeSet<&(String, String)> = input[..len].iter().collect();
    assert!(bibs.keys().eq(start.iter().copied()), "the stored records are not the first {len} of the input");

    for ((organisation, number), id) in &bibs {
        assert_eq!(
            catalogue.find_by_control_number(organisation, number)?,
            Some(*id),
            "find_by_control_number({organisation:?}, {number:?})"
        );
    }

    // Only creates happened: one Created change per record, numbered 1, 2, 3…
    let changes = catalogue.changes_after(0, usize::MAX)?;
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Created), "a change other than Created");
    assert!(changes.iter().map(|c| c.seq).eq(1..=len as u64), "change sequence numbers are not 1..={len}");
    assert_eq!(catalogue.last_change_seq()?, len as u64, "last_change_seq");
    let changed: BTreeSet<u64> = changes.iter().map(|c| c.bib_id).collect();
    assert!(
        changed.iter().eq(bibs.values().collect::<BTreeSet<_>>()),
        "the feed names other bibs than the store holds"
    );
    Ok(len)
}

#[test]
fn an_import_killed_midway_leaves_a_consistent_catalogue_and_resumes() -> TestResult {
    let dir = TempDir::new("crash");
    std::fs::create_dir_all(&dir.0)?;
    let input = dir.0.join("lc-jpn-x8.mrc");
    let keys = write_input(&input)?;
    let total = keys.len();
    let data = dir.0.join("data");

    for code in [TENANT, WARM_UP] {
        let created =
            shiori().arg("--data").arg(&data).args(["tenant", "create", code, "--name", "栞市立図書館"]).output()?;
        assert!(created.status.success(), "tenant create: {}", String::from_utf8_lossy(&created.stderr));
    }
    let layout = DataLayout::new(&data);
    let tenant: TenantCode = TENANT.parse()?;

    // How long a whole import takes here, so the kills land at fractions of it.
    let started = Instant::now();
    let warm_up = shiori().arg("--data").arg(&data).args(["import", "--tenant", WARM_UP]).arg(&input).output()?;
    assert_eq!(warm_up.status.code(), Some(0), "import: {}", String::from_utf8_lossy(&warm_up.stderr));
    let whole = started.elapsed();
    std::fs::remove_dir_all(layout.tenant_dir(&WARM_UP.parse()?))?;

    // Kill the import after longer and longer delays, each run resuming what the previous
    // ones stored, until three kills were made and at least one left part of the file stored.
    let (mut kills, mut midway, mut stored) = (0, 0, 0);
    for fraction in [0.1, 0.2, 0.3, 0.45, 0.6, 0.8] {
        if (kills >= 3 && midway >= 1) || stored == total {
            break;
        }
        let mut child = shiori()
            .arg("--data")
            .arg(&data)
            .args(["import", "--tenant", TENANT])
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        std::thread::sleep(whole.mul_f64(fraction));
        let finished = child.try_wait()?.is_some();
        if !finished {
            child.kill()?; // SIGKILL: no destructor runs, the batch under way is not committed
        }
        let status = child.wait()?;
        assert!(!finished || status.success(), "the import failed on its own: {status}");
        let now = check_consistent(&layout, &tenant, &keys)?;
        assert!(now >= stored, "{stored} records stored before the crash, {now} after");
        eprintln!(
            "after {:?} ({}): {now} of {total} records stored",
            whole.mul_f64(fraction),
            if finished { "finished" } else { "killed" }
        );
        stored = now;
        if !finished {
            kills += 1;
            midway += usize::from(0 < stored && stored < total);
        }
    }
    assert!(midway >= 1, "none of {kills} kills landed in the middle of the import (a whole one takes {whole:?})");

    let output = shiori().arg("--data").arg(&data).args(["import", "--tenant", TENANT]).arg(&input).output()?;
    assert_eq!(output.status.code(), Some(0), "re-run import: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(check_consistent(&layout, &tenant, &keys)?, total, "records after the re-run import");
    Ok(())
}
