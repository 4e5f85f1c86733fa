//! The library's copy-cataloguing targets (コピーカタロギングの検索先): the SRU servers a
//! librarian may copy a record from, in the order the staff pages offer them.
//!
//! The list is one JSON value in `cataloguing_settings` under `targets`. A library that never
//! set it has one target, [`CopyTarget::ndl`]; a library that stored an empty list has none.
//! Every target is checked ([`CopyTarget::validate`]) and the names are unique before the
//! list is stored, so a reader of the setting can trust it.

use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};

use super::SETTINGS;
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// The key of the list in `cataloguing_settings`.
const KEY: &str = "targets";

/// The longest name of a target.
const MAX_NAME_CHARS: usize = 32;

/// The longest label of a target.
const MAX_LABEL_CHARS: usize = 100;

/// The shortest and the longest timeout of a request, in milliseconds.
const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 100..=60_000;

/// The SRU versions a target may speak.
const VERSIONS: [&str; 3] = ["1.1", "1.2", "2.0"];

/// An SRU server records are copied from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyTarget {
    /// The short id the API and the staff pages name it by: `[a-z0-9-]{1,32}`.
    pub name: String,
    /// What the staff pages show (国立国会図書館サーチ).
    pub label: String,
    /// The SRU base URL, `http://` or `https://` (a query string of its own is kept; the
    /// request's parameters are appended to it).
    pub base_url: String,
    /// The record schema asked for, and so how the records are read.
    pub schema: TargetSchema,
    /// The SRU version spoken: `1.1`, `1.2` or `2.0`.
    pub version: String,
    /// The CQL index of ISBNs (`bath.isbn`, NDL's `isbn`).
    pub isbn_index: String,
    /// The CQL index of titles (`dc.title`, NDL's `title`).
    pub title_index: String,
    /// The CQL index of authors (`dc.creator`, NDL's `creator`).
    pub author_index: String,
    /// How long one request may take before the target is given up, in milliseconds
    /// (100 to 60,000).
    pub timeout_ms: u64,
}

/// The record schema of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetSchema {
    /// `recordSchema=marcxml`: MARC 21 slim records, copied as they are.
    MarcXml,
    /// `recordSchema=dcndl`: NDL Search's DC-NDL (RDF/XML), crosswalked to MARC 21 in the
    /// JAPAN/MARC layout.
    Dcndl,
}

impl TargetSchema {
    /// The value of `recordSchema` in a request.
    pub fn record_schema(self) -> &'static str {
        match self {
            TargetSchema::MarcXml => "marcxml",
            TargetSchema::Dcndl => "dcndl",
        }
    }
}

impl CopyTarget {
    /// The default target: NDL Search's SRU service, which answers in DC-NDL.
    pub fn ndl() -> CopyTarget {
        CopyTarget {
            name: "ndl".to_owned(),
            label: "国立国会図書館サーチ (NDL Search)".to_owned(),
            base_url: "https://ndlsearch.ndl.go.jp/api/sru".to_owned(),
            schema: TargetSchema::Dcndl,
            version: "1.2".to_owned(),
            isbn_index: "isbn".to_owned(),
            title_index: "title".to_owned(),
            author_index: "creator".to_owned(),
            timeout_ms: 8000,
        }
    }

    /// Checks the target: its name, label, URL, version, indexes and timeout
    /// ([`Error::Invalid`] naming the target and what is wrong).
    pub fn validate(&self) -> Result<()> {
        let refuse = |reason: String| Err(Error::invalid("copy target", format!("{}: {reason}", self.shown_name())));
        let name_ok = !self.name.is_empty()
            && self.name.chars().count() <= MAX_NAME_CHARS
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return refuse(format!("the name must be 1 to {MAX_NAME_CHARS} of a-z, 0-9 and -"));
        }
        let label = self.label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return refuse(format!("the label must be 1 to {MAX_LABEL_CHARS} characters, without control characters"));
        }
        if let Err(reason) = check_url(&self.base_url) {
            return refuse(reason.to_owned());
        }
        if !VERSIONS.contains(&self.version.as_str()) {
            return refuse(format!("SRU version {:?} is not one of 1.1, 1.2, 2.0", self.version));
        }
        for (what, index) in [("ISBN", &self.isbn_index), ("title", &self.title_index), ("author", &self.author_index)]
        {
            let ok = !index.is_empty() && index.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b));
            if !ok {
                return refuse(format!("the {what} index must be letters, digits, '.', '-' and '_'"));
            }
        }
        if !TIMEOUT_MS.contains(&self.timeout_ms) {
            return refuse(format!(
                "the timeout must be {} to {} ms, not {}",
                TIMEOUT_MS.start(),
                TIMEOUT_MS.end(),
                self.timeout_ms
            ));
        }
        Ok(())
    }

    /// The name for a message: as given when it is short and printable, else cut.
    fn shown_name(&self) -> String {
        let name: String = self.name.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
        format!("{name:?}")
    }
}

/// Why a base URL is refused: not http(s), no host, credentials, a fragment, blanks.
fn check_url(url: &str) -> std::result::Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("the base URL must start with http:// or https://")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the base URL must not contain blanks or control characters");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        // A password in the URL would be stored and shown in the settings: not supported.
        return Err("the base URL must not carry a user name or password");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err("the base URL has no host");
    }
    if url.contains('#') {
        return Err("the base URL must not have a fragment (#)");
    }
    Ok(())
}

impl Catalogue {
    /// The library's copy-cataloguing targets, in order: [`CopyTarget::ndl`] alone when the
    /// library never set them.
    pub fn copy_targets(&self) -> Result<Vec<CopyTarget>> {
        let txn = self.db.begin_read()?;
        let settings = txn.open_table(SETTINGS)?;
        match settings.get(KEY)? {
            Some(value) => serde_json::from_slice(value.value())
                .map_err(|_| Error::Storage("copy-cataloguing targets: stored value is damaged".to_owned())),
            None => Ok(vec![CopyTarget::ndl()]),
        }
    }

    /// Replaces the library's copy-cataloguing targets. Each is checked
    /// ([`CopyTarget::validate`]) and two may not share a name; if one fails, nothing is
    /// stored.
    pub fn set_copy_targets(&self, targets: &[CopyTarget]) -> Result<()> {
        for (index, target) in targets.iter().enumerate() {
            target.validate()?;
            if targets[..index].iter().any(|earlier| earlier.name == target.name) {
                return Err(Error::invalid("copy target", format!("{:?}: two targets have this name", target.name)));
            }
        }
        let value =
            serde_json::to_vec(targets).map_err(|e| Error::Storage(format!("copy-cataloguing targets: {e}")))?;
        let txn = self.db.begin_write()?;
        let mut settings = txn.open_table(SETTINGS)?;
        settings.insert(KEY, value.as_slice())?;
        drop(settings);
        txn.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataLayout, System, TenantCode};

    /// A catalogue in a folder of the system temp folder, removed when dropped.
    struct Scratch {
        catalogue: Option<Catalogue>,
        root: std::path::PathBuf,
    }

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let root = std::env::temp_dir().join(format!("shiori-targets-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            let layout = DataLayout::new(&root);
            let code: TenantCode = "shiori-city".parse().unwrap();
            System::open(&layout).unwrap().create_tenant(&code, "栞市立図書館").unwrap();
            Scratch { catalogue: Some(Catalogue::open(&layout, &code).unwrap()), root }
        }

        fn catalogue(&self) -> &Catalogue {
            self.catalogue.as_ref().unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            drop(self.catalogue.take());
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn zebra() -> CopyTarget {
        CopyTarget {
            name: "zebra".into(),
            label: "Zebra (test)".into(),
            base_url: "http://127.0.0.1:9999/biblios".into(),
            schema: TargetSchema::MarcXml,
            version: "1.2".into(),
            isbn_index: "bath.isbn".into(),
            title_index: "dc.title".into(),
            author_index: "dc.creator".into(),
            timeout_ms: 3000,
        }
    }

    #[test]
    fn the_default_is_ndl_search() {
        let scratch = Scratch::new("default");
        assert_eq!(scratch.catalogue().copy_targets().unwrap(), vec![CopyTarget::ndl()]);
        CopyTarget::ndl().validate().unwrap();
    }

    #[test]
    fn targets_round_trip_in_order() {
        let scratch = Scratch::new("round-trip");
        let targets = vec![zebra(), CopyTarget::ndl()];
        scratch.catalogue().set_copy_targets(&targets).unwrap();
        assert_eq!(scratch.catalogue().copy_targets().unwrap(), targets);
        scratch.catalogue().set_copy_targets(&[]).unwrap();
        assert_eq!(scratch.catalogue().copy_targets().unwrap(), vec![], "an empty list is kept, not the default");
    }

    #[test]
    fn the_schema_is_stored_in_lower_case() {
        let json = serde_json::to_value(CopyTarget::ndl()).unwrap();
        assert_eq!(json["schema"], "dcndl");
        assert_eq!(serde_json::to_value(TargetSchema::MarcXml).unwrap(), "marcxml");
    }

    #[test]
    fn an_invalid_target_is_refused_and_nothing_is_stored() {
        let scratch = Scratch::new("invalid");
        scratch.catalogue().set_copy_targets(&[zebra()]).unwrap();
        let mut bad = CopyTarget::ndl();
        bad.base_url = "ftp://ndlsearch.ndl.go.jp/api/sru".into();
        let refused = scratch.catalogue().set_copy_targets(&[CopyTarget::ndl(), bad]);
        assert!(matches!(&refused, Err(Error::Invalid { field: "copy target", .. })), "{refused:?}");
        assert_eq!(refused.unwrap_err().kind(), crate::ErrorKind::Invalid);
        assert_eq!(scratch.catalogue().copy_targets().unwrap(), vec![zebra()]);
    }

    #[test]
    fn duplicate_names_are_refused() {
        let scratch = Scratch::new("duplicate");
        let mut second = CopyTarget::ndl();
        second.name = "zebra".into();
        let refused = scratch.catalogue().set_copy_targets(&[zebra(), second]);
        assert!(refused.is_err_and(|e| e.to_string().contains("two targets have this name")));
        assert_eq!(scratch.catalogue().copy_targets().unwrap(), vec![CopyTarget::ndl()]);
    }

    /// A change made to a correct target.
    type Change = fn(&mut CopyTarget);

    #[test]
    fn what_validate_refuses() {
        let with = |change: fn(&mut CopyTarget)| {
            let mut target = zebra();
            change(&mut target);
            target.validate()
        };
        assert!(with(|_| {}).is_ok());
        assert!(with(|t| t.base_url = "https://[::1]:8080/sru?x-db=books".into()).is_ok());
        assert!(with(|t| t.version = "2.0".into()).is_ok());
        let refused: [(Change, &str); 14] = [
            (|t| t.name = String::new(), "the name"),
            (|t| t.name = "Zebra".into(), "the name"),
            (|t| t.name = "a".repeat(33), "the name"),
            (|t| t.label = " ".into(), "the label"),
            (|t| t.base_url = "127.0.0.1/biblios".into(), "http://"),
            (|t| t.base_url = "http:///biblios".into(), "no host"),
            (|t| t.base_url = "https://:80/".into(), "no host"),
            (|t| t.base_url = "https://user:secret@example.org/sru".into(), "password"),
            (|t| t.base_url = "https://example.org/s ru".into(), "blanks"),
            (|t| t.version = "3".into(), "version"),
            (|t| t.isbn_index = String::new(), "ISBN index"),
            (|t| t.title_index = "dc.title=x".into(), "title index"),
            (|t| t.timeout_ms = 99, "timeout"),
            (|t| t.timeout_ms = 60_001, "timeout"),
        ];
        for (change, said) in refused {
            let err = with(change).unwrap_err().to_string();
            assert!(err.contains(said), "{err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
