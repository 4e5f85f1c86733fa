//! One tenant's search index: opening it, rebuilding it from the catalogue and swapping
//! the new one in atomically, and applying the change feed incrementally.
//!
//! On disk, `DATA/tenants/<code>/index/` holds generations (`gen-<n>/`, each a tantivy
//! index) and `CURRENT`, naming the live one. A rebuild writes a new generation while the
//! old one keeps serving, then replaces `CURRENT` by rename (atomic), so a search never
//! sees a half-built index. Every commit carries the last applied change-feed seq in its
//! payload; incremental indexing resumes from there, so a crash at any point loses
//! nothing and re-applying a change is harmless (a bib's document is replaced whole).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use catalogue::{Catalogue, DataLayout, TenantCode};
use rayon::prelude::*;
use tantivy::indexer::NoMergePolicy;
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tokenizer_dict::JapaneseAnalyzer;

use crate::document::BibDocument;
use crate::error::{Error, Result};
use crate::facets::FacetTermsCache;
use crate::schema::{Analyses, Fields, RecordDocument};
use crate::search::IdColumns;
use crate::tokenizer::register_japanese_tokenizers;

/// Memory of the incremental writer.
const WRITER_MEMORY: usize = 50_000_000;
/// Bytes of stored documents compressed together (about ten records).
const DOCSTORE_BLOCK: usize = 4_096;
/// Decompressed blocks of stored documents kept per segment (tantivy's default is 100):
/// a results page reads twenty records, each from its own block, so the records patrons
/// keep opening stay decompressed. Up to 16 MiB per library.
const DOCSTORE_CACHE_BLOCKS: usize = 4_096;
/// Records read from the catalogue and mapped in parallel at a time while rebuilding.
const PAGE: usize = 2_000;
/// What an index holds beyond its schema: how texts are analysed into the views, what
/// the facet fields contain. An index of another format is never read (its payload says
/// which it is; indexes from before this marker have none): it is rebuilt.
/// 3: the holding-branch and availability facets.
/// 4: bigrams across the spaces between Japanese words (「仮屋坂 遺跡」 has 坂遺); no
/// romaji view of titles and names that have no reading (it repeated their morphemes);
/// the title's bigram leads (`title_lead`).
/// 5: folded reading bigrams of titles and names (`title_fold`, `author_fold`) and the
/// volume numbers (`volume`), for what patrons type with slips and volume numbers.
const FORMAT: u32 = 5;

/// A tenant's search index.
pub struct Index {
    tenant: TenantCode,
    root: PathBuf,
    generation: String,
    pub(crate) inner: tantivy::Index,
    pub(crate) reader: IndexReader,
    writer: Mutex<Option<IndexWriter<RecordDocument>>>,
    pub(crate) fields: Fields,
    pub(crate) analyzer: Arc<JapaneseAnalyzer>,
    /// Decoded facet dictionaries of the segments searched (see facets.rs).
    pub(crate) facet_terms: FacetTermsCache,
    /// The bib id columns of the segments searched, for ordering equal scores.
    pub(crate) id_columns: Arc<IdColumns>,
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    /// Records indexed.
    pub documents: u64,
    /// The change-feed seq the new index is complete up to.
    pub seq: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// What one incremental pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Change-feed entries read.
    pub changes: usize,
    /// Distinct records re-indexed or removed.
    pub records: usize,
    /// The seq the index is now complete up to.
    pub seq: u64,
}

/// The commit payload: the change-feed seq applied and the index format.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    seq: u64,
    /// [`FORMAT`]; absent (0) in indexes written before it existed.
    #[serde(default)]
    format: u32,
}

impl Index {
    /// Opens the tenant's live index, creating an empty one if there is none.
    pub fn open(layout: &DataLayout, tenant: &TenantCode, analyzer: Arc<JapaneseAnalyzer>) -> Result<Index> {
        let root = layout.index_dir(tenant);
        std::fs::create_dir_all(&root).map_err(Error::io(&root))?;
        let fields = Fields::new();
        let generation = match read_current(&root)? {
            Some(generation) => generation,
            None => {
                let generation = new_generation(&root)?;
                create(&root.join(&generation), &fields, &analyzer, 0)?;
                write_current(&root, &generation)?;
                generation
            }
        };
        Index::open_generation(&root, &generation, tenant, analyzer)
    }

    /// The tenant this index belongs to.
    pub fn tenant(&self) -> &TenantCode {
        &self.tenant
    }

    /// The generated hiragana reading of a text (what a record without a catalogued
    /// reading shows and sorts by); empty when the text cannot be analysed.
    pub fn reading_of(&self, text: &str) -> String {
        self.analyzer.analyze(text).map(|a| a.reading).unwrap_or_default()
    }

    /// The change-feed seq this index is complete up to (from its last commit).
    pub fn applied_seq(&self) -> Result<u64> {
        Ok(read_payload(&self.inner)?.map_or(0, |p| p.seq))
    }

    /// The bib ids of every document visible to searches, with their stored titles: what
    /// the index holds, to compare with the catalogue (tests, `shiori reindex --check`).
    pub fn documents(&self) -> Result<std::collections::BTreeMap<u64, String>> {
        use tantivy::schema::Value;
        let searcher = self.reader.searcher();
        let mut out = std::collections::BTreeMap::new();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let store = segment.get_store_reader(64).map_err(|e| Error::Index(e.to_string()))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = store.get(doc_id)?;
                let id = doc.get_first(self.fields.id).and_then(|v| v.as_u64());
                let title = doc.get_first(self.fields.title).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                match id {
                    Some(id) => {
                        if out.insert(id, title).is_some() {
                            return Err(Error::Index(format!("bib {id} is indexed twice (segment {ordinal})")));
                        }
                    }
                    None => return Err(Error::Index(format!("a document of segment {ordinal} has no bib id"))),
                }
            }
        }
        Ok(out)
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Builds a complete new generation from the catalogue (in parallel), then makes it the
    /// live one. Searches on an open [`Index`] keep working meanwhile; call
    /// [`Index::reopen_if_swapped`] (or open again) to see the new generation.
    pub fn rebuild(
        layout: &DataLayout,
        catalogue: &Catalogue,
        analyzer: Arc<JapaneseAnalyzer>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport> {
        let started = Instant::now();
        let root = layout.index_dir(catalogue.tenant());
        std::fs::create_dir_all(&root).map_err(Error::io(&root))?;
        let fields = Fields::new();
        let generation = new_generation(&root)?;
        let dir = root.join(&generation);
        // Changes committed after this point are re-applied by the incremental indexer;
        // re-applying one is harmless, missing one impossible.
        let seq = catalogue.last_change_seq()?;
        let total = catalogue.len()?;
        let index = create(&dir, &fields, &analyzer, seq)?;
        let (threads, memory) = rebuild_writer_budget();
        let mut writer: IndexWriter<RecordDocument> = index.writer_with_num_threads(threads, memory)?;
        // Segments are merged once, at the end, rather than level by level meanwhile.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let mut documents = 0;
        // A reader thread pages through the catalogue while the pages before are analysed
        // (rayon) and handed to the writer: reading the store, analysing and indexing
        // overlap instead of taking turns.
        let (pages, arrivals) = std::sync::mpsc::sync_channel::<Result<Page>>(2);
        std::thread::scope(|scope| -> Result<()> {
            scope.spawn(move || {
                let mut after = None;
                loop {
                    let page = read_page(catalogue, after);
                    let next = match &page {
                        Ok((bibs, _)) => bibs.last().map(|last| last.id),
                        Err(_) => None,
                    };
                    let stop = next.is_none();
                    // The receiver has gone only if indexing failed: nothing more to do.
                    if pages.send(page).is_err() || stop {
                        return;
                    }
                    after = next;
                }
            });
            for page in arrivals {
                let (bibs, availability) = page?;
                if bibs.is_empty() {
                    break;
                }
                let docs: Vec<RecordDocument> = bibs
                    .par_iter()
                    .zip(availability.par_iter())
                    .filter_map(|(bib, copies)| {
                        bib.record().ok().map(|r| document(&fields, &analyzer, bib.id, &r, copies))
                    })
                    .collect();
                for doc in docs {
                    writer.add_document(doc)?;
                    documents += 1;
                }
                progress(documents, total);
            }
            Ok(())
        })?;
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload(seq));
        commit.commit()?;
        // One segment: every query pays per segment (term lookups, facet dictionaries).
        let segments = index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        write_current(&root, &generation)?;
        remove_other_generations(&root, &generation);
        Ok(RebuildReport { documents, seq, seconds: started.elapsed().as_secs_f64() })
    }

    /// Reopens the live generation if a rebuild swapped it in since this index was opened.
    /// Returns whether it did.
    pub fn reopen_if_swapped(&mut self) -> Result<bool> {
        match read_current(&self.root)? {
            Some(generation) if generation != self.generation => {
                let layout_root = self.root.clone();
                let fresh = Index::open_generation(&layout_root, &generation, &self.tenant, self.analyzer.clone())?;
                *self = fresh;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Opens one generation, refusing ([`Error::SchemaChanged`]) one written with another
    /// schema or format rather than misreading it.
    fn open_generation(
        root: &Path,
        generation: &str,
        tenant: &TenantCode,
        analyzer: Arc<JapaneseAnalyzer>,
    ) -> Result<Index> {
        let fields = Fields::new();
        let inner = tantivy::Index::open_in_dir(root.join(generation))?;
        let same_schema = serde_json::to_string(&inner.schema()).ok() == serde_json::to_string(&fields.schema).ok();
        let same_format = read_payload(&inner)?.is_some_and(|p| p.format == FORMAT);
        if !same_schema || !same_format {
            return Err(Error::SchemaChanged(tenant.to_string()));
        }
        register_japanese_tokenizers(inner.tokenizers(), analyzer.clone());
        let reader = inner
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOCSTORE_CACHE_BLOCKS)
            .try_into()?;
        Ok(Index {
            tenant: tenant.clone(),
            root: root.to_path_buf(),
            generation: generation.to_string(),
            inner,
            reader,
            writer: Mutex::new(None),
            fields,
            analyzer,
            facet_terms: FacetTermsCache::default(),
            id_columns: Arc::default(),
        })
    }

    /// Applies up to `max_changes` entries of the change feed after the index's seq: the
    /// batch is collapsed to its bib ids, their documents replaced (or removed), and the
    /// commit records the last seq applied. Searches see the result when this returns.
    pub fn apply_changes(&self, catalogue: &Catalogue, max_changes: usize) -> Result<Applied> {
        let seq = self.applied_seq()?;
        let changes = catalogue.changes_after(seq, max_changes)?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(Applied { seq, ..Applied::default() });
        };
        let bibs: BTreeSet<u64> = changes.iter().map(|c| c.bib_id).collect();
        let mut guard = self.writer.lock().map_err(|_| Error::Index("index writer lock poisoned".into()))?;
        if guard.is_none() {
            *guard = Some(self.inner.writer_with_num_threads(1, WRITER_MEMORY)?);
        }
        let Some(writer) = guard.as_mut() else { return Err(Error::Index("no index writer".into())) };
        // Every kind of change re-reads the copies too: a checkout, checkin, hold or item
        // change (`ChangeKind::Holdings`) changes nothing else of the document.
        let ids: Vec<u64> = bibs.iter().copied().collect();
        let availability = catalogue.availabilities(&ids)?;
        for (&bib, copies) in ids.iter().zip(&availability) {
            writer.delete_term(Term::from_field_u64(self.fields.id, bib));
            if let Some(stored) = catalogue.get(bib)? {
                let record = stored.record()?;
                writer.add_document(document(&self.fields, &self.analyzer, bib, &record, copies))?;
            }
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload(last));
        commit.commit()?;
        self.reader.reload()?;
        Ok(Applied { changes: changes.len(), records: bibs.len(), seq: last })
    }

    /// Applies the whole feed, batch after batch, until the index has caught up.
    pub fn catch_up(&self, catalogue: &Catalogue) -> Result<Applied> {
        let mut total = Applied { seq: self.applied_seq()?, ..Applied::default() };
        loop {
            let applied = self.apply_changes(catalogue, 10_000)?;
            if applied.changes == 0 {
                return Ok(total);
            }
            total.changes += applied.changes;
            total.records += applied.records;
            total.seq = applied.seq;
        }
    }
}

/// Indexing threads and total memory of the writer of a rebuild. The records are mapped
/// and analysed on rayon's threads (two thirds of the work) and tantivy's threads only
/// write postings, so one tantivy thread per three cores keeps up; with 2 GB each, a
/// thread holds a 1M-record catalogue in one segment and nothing needs merging. Measured
/// on 2 cores: LC 250k in 36 s with one thread, 40-43 s with two (two segments, then a
/// merge that costs more than the parallel writing saves); 1M records in 104 s and 99 s.
/// A page of records after a bib id, with their copies (read in one transaction: a
/// lookup per record without any).
type Page = (Vec<catalogue::StoredBib>, Vec<catalogue::Availability>);

fn read_page(catalogue: &Catalogue, after: Option<u64>) -> Result<Page> {
    let bibs = catalogue.bibs_after(after, PAGE)?;
    let ids: Vec<u64> = bibs.iter().map(|bib| bib.id).collect();
    let availability = catalogue.availabilities(&ids)?;
    Ok((bibs, availability))
}

fn rebuild_writer_budget() -> (usize, usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.div_ceil(3).clamp(1, 4);
    (threads, threads * 2_000_000_000)
}

/// The tantivy document of one catalogue record and its copies; each of its texts is
/// analysed once.
pub(crate) fn document(
    fields: &Fields,
    analyzer: &JapaneseAnalyzer,
    id: u64,
    record: &catalogue::Record,
    copies: &catalogue::Availability,
) -> RecordDocument {
    let mut doc = BibDocument::from_record(id, record);
    doc.set_availability(copies);
    let mut analyses = Analyses::new(analyzer);
    let title = analyses.get(&doc.title);
    let title = title.analysis.as_ref();
    let reading = match doc.title_readings.first() {
        Some(catalogued) => tokenizer_dict::to_hiragana(catalogued),
        None => title.map(|a| a.reading.clone()).unwrap_or_default(),
    };
    let mut suggestions = Vec::new();
    if let Some(title) = title {
        let catalogued = analyses.get(&reading).analysis.as_ref().map(|a| a.keys.exact.clone());
        for key in [Some(title.keys.exact.clone()), Some(title.keys.reading.clone()), catalogued].into_iter().flatten()
        {
            crate::suggest::push_entry(&mut suggestions, &key, crate::suggest::Kind::Title);
        }
    }
    for author in doc.authors.iter().take(3) {
        let display = crate::suggest::author_display(author);
        if let Some(analysis) = &analyses.get(&display).analysis {
            for key in [&analysis.keys.exact, &analysis.keys.reading] {
                crate::suggest::push_entry(&mut suggestions, key, crate::suggest::Kind::Author);
            }
        }
    }
    fields.document(&doc, &reading, &suggestions, &mut analyses)
}

fn payload(seq: u64) -> String {
    serde_json::to_string(&Payload { seq, format: FORMAT })
        .unwrap_or_else(|_| format!("{{\"seq\":{seq},\"format\":{FORMAT}}}"))
}

/// The payload of the index's last commit; `None` if it has none or it is not ours.
fn read_payload(index: &tantivy::Index) -> Result<Option<Payload>> {
    let metas = index.load_metas()?;
    Ok(metas.payload.as_deref().and_then(|p| serde_json::from_str::<Payload>(p).ok()))
}

fn create(dir: &Path, fields: &Fields, analyzer: &Arc<JapaneseAnalyzer>, seq: u64) -> Result<tantivy::Index> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    // A hit list reads 20 stored documents, each from a compressed block of its own:
    // small blocks make that cheap (tantivy's default 16 KiB block was 15 % of a query).
    let settings = tantivy::IndexSettings { docstore_blocksize: DOCSTORE_BLOCK, ..tantivy::IndexSettings::default() };
    let index = tantivy::Index::builder().schema(fields.schema.clone()).settings(settings).create_in_dir(dir)?;
    register_japanese_tokenizers(index.tokenizers(), analyzer.clone());
    // An empty first commit carries the seq, so even an empty index knows where it stands.
    let mut writer: IndexWriter<RecordDocument> = index.writer_with_num_threads(1, 15_000_000)?;
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&payload(seq));
    commit.commit()?;
    writer.wait_merging_threads()?;
    Ok(index)
}

fn read_current(root: &Path) -> Result<Option<String>> {
    let path = root.join("CURRENT");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let generation = text.trim().to_string();
            let valid = generation.starts_with("gen-") && generation[4..].bytes().all(|b| b.is_ascii_digit());
            if !valid || !root.join(&generation).is_dir() {
                return Err(Error::Index(format!("{}: names no generation of this index", path.display())));
            }
            Ok(Some(generation))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::Io { path, source: err }),
    }
}

fn write_current(root: &Path, generation: &str) -> Result<()> {
    let tmp = root.join("CURRENT.tmp");
    let path = root.join("CURRENT");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp).map_err(Error::io(&tmp))?;
        file.write_all(generation.as_bytes()).map_err(Error::io(&tmp))?;
        file.sync_all().map_err(Error::io(&tmp))?;
    }
    std::fs::rename(&tmp, &path).map_err(Error::io(&path))?;
    if let Ok(dir) = std::fs::File::open(root) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn new_generation(root: &Path) -> Result<String> {
    let newest = std::fs::read_dir(root)
        .map_err(Error::io(root))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_prefix("gen-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("gen-{}", newest + 1))
}

/// Removes generations other than the live one. A process still searching an old one
/// keeps its memory-mapped files until it reopens.
fn remove_other_generations(root: &Path, live: &str) {
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("gen-") && name != live {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
