//! The audit log: staff actions, append-only and hash-chained, one file per library
//! (`DATA/tenants/<code>/logs/audit.log`) and one for the deployment's own actions
//! (`DATA/logs/audit.log`: operators creating and deleting libraries).
//!
//! Each line is a JSON object whose last member is `hash`:
//!
//! ```text
//! {"seq":1,"time":"2026-04-01T10:00:00.000+09:00","principal":"shiori-city/yamada","action":"record.update","target":"bib 42","before":{…},"after":{…},"prev_hash":"00…00","hash":"9f…"}
//! ```
//!
//! `hash` is the SHA-256 of the previous line's hash (32 bytes; zeros for the first line)
//! followed by the line's bytes without its hash member, that is everything up to
//! `,"hash":` with a closing `}`. `seq` counts lines from 1. So editing a line breaks its
//! hash, deleting, inserting or reordering lines breaks the `seq` run and the `prev_hash`
//! links, and [`verify_audit_log`] says on which line. Cutting lines off the end leaves a
//! shorter valid chain: compare [`VerifyReport::head`] with a copy kept elsewhere to see that.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::layout::DataLayout;
use crate::security::clock::{Clock, jst_rfc3339};
use crate::security::secret::{hex, sha256, unhex};
use crate::tenant::TenantCode;

/// A before or after summary longer than this (as JSON) is cut.
const MAX_SUMMARY_BYTES: usize = 8 * 1024;
/// Principal, action and target longer than this (in characters) are cut.
const MAX_FIELD_CHARS: usize = 512;
/// What follows the body of every line: `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;

/// One staff action to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Who did it: [`Principal`](crate::Principal)'s display form (`shiori-city/yamada`,
    /// `operator:admin`), or `cli:<user>` for the command line.
    pub principal: String,
    /// What, as a dotted name: `record.update`, `item.delete`, `staff.create`,
    /// `role_policy.set`, `import`, `tenant.delete`, `auth.login`, …
    pub action: String,
    /// Which: `bib 42`, `item 1000001`, `staff yamada`, …
    pub target: String,
    /// A summary of the state before (no secrets, no more personal data than needed).
    pub before: Option<Value>,
    /// A summary of the state after.
    pub after: Option<Value>,
}

impl AuditEvent {
    /// An event without before/after summaries.
    pub fn new(principal: impl fmt::Display, action: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            principal: principal.to_string(),
            action: action.into(),
            target: target.into(),
            before: None,
            after: None,
        }
    }

    /// With a summary of the state before.
    pub fn before(mut self, summary: Value) -> Self {
        self.before = Some(summary);
        self
    }

    /// With a summary of the state after.
    pub fn after(mut self, summary: Value) -> Self {
        self.after = Some(summary);
        self
    }
}

/// The body of a line: everything but its hash, in this order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    seq: u64,
    time: String,
    principal: String,
    action: String,
    target: String,
    before: Option<Value>,
    after: Option<Value>,
    prev_hash: String,
}

/// Where a chain stands: the last line's `seq` and `hash`. Written `seq:hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// The last line's seq (its line number in an intact log).
    pub seq: u64,
    /// Its hash (hex).
    pub hash: String,
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// An append-only, hash-chained audit log. Share one per file (in an `Arc`); appends from
/// several threads are serialised by a mutex, and by an exclusive file lock against other
/// handles and processes. Each append is on disk (fsync) before it returns.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    /// The folder that must exist already (the tenant's), so a log never recreates the
    /// folder of a deleted library.
    home: PathBuf,
    clock: Arc<dyn Clock>,
    lock: Mutex<()>,
}

impl AuditLog {
    /// The audit log of a library: `DATA/tenants/<code>/logs/audit.log`.
    pub fn for_tenant(layout: &DataLayout, tenant: &TenantCode, clock: Arc<dyn Clock>) -> Self {
        Self { path: layout.audit_log(tenant), home: layout.tenant_dir(tenant), clock, lock: Mutex::new(()) }
    }

    /// The deployment's audit log (operators' actions): `DATA/logs/audit.log`.
    pub fn for_system(layout: &DataLayout, clock: Arc<dyn Clock>) -> Self {
        Self { path: layout.system_audit_log(), home: layout.root().to_path_buf(), clock, lock: Mutex::new(()) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an event; its place in the chain.
    pub fn append(&self, event: &AuditEvent) -> Result<AuditHead> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.home.is_dir() {
            return Err(Error::Io {
                path: self.home.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "the folder of this log does not exist"),
            });
        }
        let dir = self.path.parent().unwrap_or(&self.home);
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let mut file =
            OpenOptions::new().read(true).append(true).create(true).open(&self.path).map_err(Error::io(&self.path))?;
        file.lock().map_err(Error::io(&self.path))?;
        let (head, torn) = last_line(&mut file).map_err(Error::io(&self.path))?;
        let (seq, prev) = match head {
            None => (1, [0u8; 32]),
            Some(line) => match parse_line(&line) {
                Ok((body, hash)) => (body.seq + 1, hash),
                Err(reason) => {
                    return Err(Error::AuditLog {
                        path: self.path.clone(),
                        line: count_lines(&self.path).unwrap_or(0),
                        reason: format!("the last line cannot be chained to ({reason}): run `shiori audit verify`"),
                    });
                }
            },
        };
        let body = Body {
            seq,
            time: jst_rfc3339(self.clock.now()),
            principal: clip(&event.principal),
            action: clip(&event.action),
            target: clip(&event.target),
            before: event.before.clone().map(cap),
            after: event.after.clone().map(cap),
            prev_hash: hex(&prev),
        };
        let body = serde_json::to_string(&body).map_err(|e| Error::Storage(format!("encoding an audit line: {e}")))?;
        let hash = sha256(&[&prev, body.as_bytes()]);
        let mut line = String::with_capacity(body.len() + HASH_SUFFIX_LEN + 2);
        if torn {
            // A line cut short by a crash stays as it is (verify reports it); the chain
            // goes on from the last whole line.
            line.push('\n');
        }
        line.push_str(&body[..body.len() - 1]);
        line.push_str(",\"hash\":\"");
        line.push_str(&hex(&hash));
        line.push_str("\"}\n");
        let created = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        file.write_all(line.as_bytes()).map_err(Error::io(&self.path))?;
        file.sync_data().map_err(Error::io(&self.path))?;
        if created {
            sync_dir(dir);
        }
        Ok(AuditHead { seq, hash: hex(&hash) })
    }

    /// Verifies this log ([`verify_audit_log`]).
    pub fn verify(&self) -> Result<VerifyReport> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        verify_audit_log(&self.path)
    }
}

/// What is wrong with a line of an audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblemKind {
    /// Not a line this log writes: not JSON, a missing or extra member, no hash at the end
    /// (also a line cut short by a crash).
    Unreadable(String),
    /// The line's content does not give its hash: it was edited.
    HashMismatch,
    /// The line's `seq` is not the one after the previous line's: a line before it was
    /// deleted, or lines were inserted or reordered.
    SeqOutOfOrder {
        /// The seq that should be here.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// The line's `prev_hash` is not the previous line's hash: the previous line was
    /// replaced (with a recomputed hash) or a line was inserted or removed.
    BrokenLink,
}

/// A problem found on a line (numbered from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditProblem {
    /// The line, from 1.
    pub line: u64,
    /// What is wrong.
    pub kind: AuditProblemKind,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            AuditProblemKind::Unreadable(reason) => write!(f, "unreadable: {reason}"),
            AuditProblemKind::HashMismatch => write!(f, "its hash does not match its content: it was changed"),
            AuditProblemKind::SeqOutOfOrder { expected, found } => write!(
                f,
                "seq {found} where {expected} was expected: lines were deleted, inserted or reordered before it"
            ),
            AuditProblemKind::BrokenLink => {
                write!(f, "prev_hash is not the previous line's hash: the previous line was replaced or removed")
            }
        }
    }
}

/// What [`verify_audit_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The file.
    pub path: PathBuf,
    /// Lines read.
    pub lines: u64,
    /// The last line's place in the chain (`None` for an empty log).
    pub head: Option<AuditHead>,
    /// Every problem, in line order. After a problem, checking goes on from that line as
    /// if it were right, so one edit is one problem, not a cascade.
    pub problems: Vec<AuditProblem>,
}

impl VerifyReport {
    /// No problem found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first problem.
    pub fn first_problem(&self) -> Option<&AuditProblem> {
        self.problems.first()
    }
}

/// Reads an audit log from the start and checks every line's hash, `seq` and link to the
/// line before. A missing file is an error ([`Error::Io`]), not an empty log.
pub fn verify_audit_log(path: &Path) -> Result<VerifyReport> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let mut report = VerifyReport { path: path.to_path_buf(), lines: 0, head: None, problems: Vec::new() };
    let mut expected_seq = 1u64;
    let mut expected_prev = [0u8; 32];
    let mut text = bytes.as_slice();
    if text.last() == Some(&b'\n') {
        text = &text[..text.len() - 1];
    }
    if text.is_empty() {
        return Ok(report);
    }
    for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
        let number = i as u64 + 1;
        report.lines = number;
        let problem = |kind| AuditProblem { line: number, kind };
        let line = match std::str::from_utf8(raw) {
            Ok(line) => line,
            Err(_) => {
                report.problems.push(problem(AuditProblemKind::Unreadable("not UTF-8".into())));
                continue;
            }
        };
        let (body, hash) = match parse_line(line) {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.problems.push(problem(AuditProblemKind::Unreadable(reason)));
                continue;
            }
        };
        let stated_prev = unhex::<32>(&body.prev_hash).unwrap_or([0xff; 32]);
        let computed = sha256(&[&stated_prev, body_text(line).as_bytes()]);
        if unhex::<32>(&body.prev_hash).is_none() {
            report.problems.push(problem(AuditProblemKind::Unreadable("prev_hash is not 64 hex digits".into())));
        } else if computed != hash {
            report.problems.push(problem(AuditProblemKind::HashMismatch));
        } else if body.seq != expected_seq {
            report.problems.push(problem(AuditProblemKind::SeqOutOfOrder { expected: expected_seq, found: body.seq }));
        } else if stated_prev != expected_prev {
            report.problems.push(problem(AuditProblemKind::BrokenLink));
        }
        expected_seq = body.seq.saturating_add(1);
        expected_prev = hash;
        report.head = Some(AuditHead { seq: body.seq, hash: hex(&hash) });
    }
    Ok(report)
}

/// A line's body (the text its hash covers): the line without `,"hash":"…"` and with the
/// closing brace. Only called on lines [`parse_line`] accepted.
fn body_text(line: &str) -> String {
    let mut body = line[..line.len() - HASH_SUFFIX_LEN].to_string();
    body.push('}');
    body
}

/// Splits a line into its body and its stated hash.
fn parse_line(line: &str) -> std::result::Result<(Body, [u8; 32]), String> {
    if line.len() < HASH_SUFFIX_LEN + 2 || !line.is_char_boundary(line.len() - HASH_SUFFIX_LEN) {
        return Err("too short to be an audit line".into());
    }
    let suffix = &line[line.len() - HASH_SUFFIX_LEN..];
    let hash = suffix
        .strip_prefix(",\"hash\":\"")
        .and_then(|rest| rest.strip_suffix("\"}"))
        .and_then(unhex::<32>)
        .ok_or_else(|| "it does not end with its hash".to_string())?;
    let body: Body = serde_json::from_str(&body_text(line)).map_err(|e| format!("not an audit line: {e}"))?;
    Ok((body, hash))
}

/// The last whole line of the file (without its newline), and whether the file ends in a
/// line cut short (no final newline).
fn last_line(file: &mut File) -> std::io::Result<(Option<String>, bool)> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok((None, false));
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    let torn = last[0] != b'\n';
    // Read backwards in chunks until the whole last line (ending at the last newline) is in.
    let mut tail: Vec<u8> = Vec::new();
    let mut start = len;
    let chunk = 16 * 1024u64;
    loop {
        let from = start.saturating_sub(chunk);
        let mut buf = vec![0u8; (start - from) as usize];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut buf)?;
        buf.extend_from_slice(&tail);
        tail = buf;
        start = from;
        // The end of the last whole line: the last newline.
        let Some(end) = tail.iter().rposition(|b| *b == b'\n') else {
            if start == 0 {
                return Ok((None, torn));
            }
            continue;
        };
        if let Some(begin) = tail[..end].iter().rposition(|b| *b == b'\n') {
            return Ok((Some(String::from_utf8_lossy(&tail[begin + 1..end]).into_owned()), torn));
        }
        if start == 0 {
            return Ok((Some(String::from_utf8_lossy(&tail[..end]).into_owned()), torn));
        }
    }
}

fn count_lines(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    Some(bytes.iter().filter(|b| **b == b'\n').count() as u64)
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect()
}

fn cap(summary: Value) -> Value {
    let text = summary.to_string();
    if text.len() <= MAX_SUMMARY_BYTES {
        return summary;
    }
    let mut cut = MAX_SUMMARY_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    serde_json::json!({ "truncated": &text[..cut] })
}

/// Makes a new file's directory entry durable (Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
