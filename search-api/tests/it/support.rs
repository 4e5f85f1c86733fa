//! A library on disk for router tests: a temporary data folder with a tenant whose
//! catalogue holds real records, opened as the server opens it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use catalogue::{Catalogue, DataLayout, System, TenantCode};

/// JAPAN/MARC records from NDL (233), with katakana readings in 880 fields.
pub(crate) const JAPAN_MARC: &str = "../../shared/fixtures/japanese/enju-jpmarc/jpmarc_marc21_enju.dat";

/// A data folder removed when dropped.
pub(crate) struct TestData {
    /// The folder.
    pub(crate) root: PathBuf,
    /// Its layout.
    pub(crate) layout: DataLayout,
}

impl Drop for TestData {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TestData {
    /// An empty data folder of its own.
    pub(crate) fn new(name: &str) -> TestData {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("shiori-it-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let layout = DataLayout::new(&root);
        TestData { root, layout }
    }

    /// Registers `code` and imports `files` (paths relative to this crate) into it.
    pub(crate) fn tenant(&self, code: &str, name: &str, files: &[&str]) -> Catalogue {
        let code: TenantCode = code.parse().unwrap();
        System::open(&self.layout).unwrap().create_tenant(&code, name).unwrap();
        let catalogue = Catalogue::open(&self.layout, &code).unwrap();
        for file in files {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let report = catalogue::import_file(&catalogue, &path, &mut |_, _| {}).unwrap();
            assert!(report.created + report.updated + report.unchanged > 0, "{file}: nothing imported");
        }
        catalogue
    }

    /// The server state over this folder (catalogues must be closed first: redb files
    /// are opened once per process).
    pub(crate) fn state(&self) -> search_api::AppState {
        search_api::AppState::open(&self.layout).unwrap()
    }

    /// The server state with a clock the test moves.
    pub(crate) fn state_with_clock(&self, clock: &catalogue::ManualClock) -> search_api::AppState {
        search_api::AppState::open_with_clock(&self.layout, std::sync::Arc::new(clock.clone())).unwrap()
    }
}

/// Copies of the first JAPAN/MARC record (これからの本の話をしよう, 029455884) at two branches,
/// 中央図書館 (`chuo`) and 北分館 (`kita`), the one at kita lent: held at both, in at chuo
/// only (issue #4, the holding-branch and availability facets). Returns its bib id.
pub(crate) fn copies_at_two_branches(catalogue: &Catalogue) -> u64 {
    use catalogue::{Branch, NewItem, NewPatron};
    for (code, ja, en) in [("chuo", "中央図書館", "Central Library"), ("kita", "北分館", "North Branch")] {
        catalogue.put_branch(&Branch { code: code.into(), name_ja: ja.into(), name_en: en.into() }).unwrap();
    }
    let bib = catalogue.find_by_control_number("JTNDL", "029455884").unwrap().unwrap();
    catalogue.add_item(&NewItem::new(bib, "F0001", "chuo")).unwrap();
    catalogue.add_item(&NewItem::new(bib, "F0002", "kita")).unwrap();
    catalogue.add_patron(&NewPatron::new("FP001", "利用者", "chuo")).unwrap();
    catalogue.checkout("F0002", "FP001", "2026-04-01T01:00:00Z".parse().unwrap()).unwrap();
    bib
}
