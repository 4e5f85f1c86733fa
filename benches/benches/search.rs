//! The search engine against DESIGN.md's performance budgets: bulk index throughput, warm
//! in-process query latency (keyword query with total count and top 20, without and with
//! facets; and by kind of known-item query: title, author, subject, one character,
//! hiragana reading, romaji, ISBN) and change -> visible latency.
//!
//! Corpora: the LC "Books All 2016 part 01" file (250,000 records) and the 7,495-record LC
//! Japanese subset imported into one tenant; and, with `SHIORI_BENCH_1M=1`, 1,000,000
//! synthetic records (the size the budgets are stated for) made by the deterministic
//! generator of [`benches::synthetic`] from the words of real titles: Aozora Bunko titles,
//! LC vernacular titles and LC English titles, with real LC names, subjects and publishers
//! (`cargo run --release -p benches --bin generate` writes the same records to a file).
//!
//! Run: `bash fixtures/fetch-lc-books-all.sh && cargo bench -p benches --bench search`, and
//! `SHIORI_BENCH_1M=1 cargo bench -p benches --bench search` for the 1M corpus too (on 2
//! busy cores, 2.5 minutes without it and 5 with it). Criterion measures query throughput;
//! latency percentiles, index throughput and change -> visible latency are measured here
//! with `Instant`, printed on stderr and written to `target/bench-search.json`. Without `--bench`
//! (`cargo test --benches`) a smoke run over the Japanese subset and 5,000 synthetic
//! records checks the code and writes nothing.

use std::collections::BTreeSet;
use std::fmt::{Display, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::kinds::{self, Kind};
use benches::synthetic::{self, Generator, Vocabulary, XorShift, is_word};
use catalogue::{Catalogue, DataLayout, Field, System, TenantCode, import_file};
use criterion::{Criterion, SamplingMode, Throughput};
use indexer::{Index, SearchRequest};
use tokenizer_dict::JapaneseAnalyzer;

/// Records in `BooksAll.2016.part01.utf8`.
const LC_BOOKS_ALL_RECORDS: u64 = 250_000;
/// Synthetic records with `SHIORI_BENCH_1M=1`.
const SYNTHETIC_RECORDS: u64 = 1_000_000;
/// Records per `Catalogue::upsert` transaction while generating.
const SYNTHETIC_BATCH: usize = 5_000;
/// Queries per set: half Japanese, half English.
const QUERIES: usize = 200;
/// Queries per kind (known-item title, author, …): see [`benches::kinds`].
const QUERIES_PER_KIND: usize = 100;
/// Timed passes over the query set (after one untimed warm-up pass).
const PASSES: usize = 5;
/// Edits timed from upsert to visible.
const CHANGES: usize = 200;
/// `apply_changes` batch size, as the incremental indexer would use it.
const APPLY_MAX: usize = 1_000;

/// How much of the bench runs.
#[derive(Clone, Copy)]
struct Scale {
    /// `cargo bench` (`--bench`), as opposed to the smoke run of `cargo test --benches`.
    full: bool,
    synthetic_records: u64,
    queries: usize,
    /// Queries per set of [`latency_by_kind`].
    queries_per_kind: usize,
    passes: usize,
    changes: usize,
}

/// Unwraps, or panics saying what failed: a bench that cannot run must not report figures.
trait OrDie<T> {
    fn or_die(self, what: &str) -> T;
}

impl<T, E: Display> OrDie<T> for Result<T, E> {
    fn or_die(self, what: &str) -> T {
        match self {
            Ok(value) => value,
            Err(err) => panic!("{what}: {err}"),
        }
    }
}

/// A tenant with its catalogue and live index. Fields drop in order: the index and the
/// catalogue are closed before their folder is removed.
struct Tenant {
    name: &'static str,
    index: Index,
    catalogue: Catalogue,
    _data: benches::TempData,
}

/// A fresh data folder with one registered, empty tenant.
fn empty_tenant(name: &'static str) -> (benches::TempData, DataLayout, Catalogue) {
    let data = benches::TempData::new(&format!("search-{name}"));
    let layout = DataLayout::new(&data.root);
    let code: TenantCode = "bench".parse().or_die("tenant code");
    let catalogue = System::open(&layout)
        .and_then(|system| system.create_tenant(&code, "Bench"))
        .and_then(|_| Catalogue::open(&layout, &code))
        .or_die(&format!("creating a tenant in {}", data.root.display()));
    (data, layout, catalogue)
}

/// How a corpus got into a tenant and its index.
struct Build {
    records: u64,
    /// Import (LC) or generate + upsert (synthetic) seconds.
    load_seconds: f64,
    /// `Index::rebuild` seconds, from the catalogue to the swapped-in generation.
    index_seconds: f64,
    index_bytes: u64,
    /// tantivy segments of the live generation after the rebuild's merges.
    segments: u64,
    /// Cores other processes kept busy meanwhile (see [`CpuClock`]).
    other_cores: f64,
}

impl Build {
    fn report(&self, name: &str) -> String {
        let rate = |seconds: f64| self.records as f64 / seconds;
        format!(
            "search/{name}: {} records; load {:.1} s ({:.0} records/s); index rebuild {:.1} s ({:.0} records/s); \
             load + index {:.1} s ({:.0} records/s); index {:.0} MiB in {} segments; other processes used {:.2} \
             cores meanwhile",
            self.records,
            self.load_seconds,
            rate(self.load_seconds),
            self.index_seconds,
            rate(self.index_seconds),
            self.load_seconds + self.index_seconds,
            rate(self.load_seconds + self.index_seconds),
            self.index_bytes as f64 / (1024.0 * 1024.0),
            self.segments,
            self.other_cores,
        )
    }

    fn json(&self) -> Json {
        let rate = |seconds: f64| Json::Num(self.records as f64 / seconds);
        Json::Obj(vec![
            ("records".into(), Json::Num(self.records as f64)),
            ("load_seconds".into(), Json::Num(self.load_seconds)),
            ("load_records_per_s".into(), rate(self.load_seconds)),
            ("index_seconds".into(), Json::Num(self.index_seconds)),
            ("index_records_per_s".into(), rate(self.index_seconds)),
            ("load_and_index_records_per_s".into(), rate(self.load_seconds + self.index_seconds)),
            ("index_bytes".into(), Json::Num(self.index_bytes as f64)),
            ("segments".into(), Json::Num(self.segments as f64)),
            ("other_processes_cores".into(), Json::Num(self.other_cores)),
        ])
    }
}

/// Rebuilds the tenant's index from its catalogue and opens it.
fn index_tenant(
    name: &'static str,
    data: benches::TempData,
    layout: DataLayout,
    catalogue: Catalogue,
    analyzer: &Arc<JapaneseAnalyzer>,
    load_seconds: f64,
    clock: &CpuClock,
) -> (Tenant, Build) {
    let started = Instant::now();
    let report = Index::rebuild(&layout, &catalogue, analyzer.clone(), &mut |_, _| {}).or_die("rebuilding the index");
    let index = Index::open(&layout, catalogue.tenant(), analyzer.clone()).or_die("opening the index");
    let index_seconds = started.elapsed().as_secs_f64();
    assert_eq!(index.num_docs(), report.documents, "{name}: documents visible after the rebuild");
    let (index_bytes, segments) = dir_stats(&layout.index_dir(catalogue.tenant()));
    let build = Build {
        records: report.documents,
        load_seconds,
        index_seconds,
        index_bytes,
        segments,
        other_cores: clock.others(),
    };
    eprintln!("{}", build.report(name));
    (Tenant { name, index, catalogue, _data: data }, build)
}

/// Bytes under `dir`, and the tantivy segments there (one `.term` file each).
fn dir_stats(dir: &Path) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return (0, 0) };
    entries.flatten().fold((0, 0), |(bytes, segments), entry| match entry.metadata() {
        Ok(meta) if meta.is_dir() => {
            let (b, s) = dir_stats(&entry.path());
            (bytes + b, segments + s)
        }
        Ok(meta) => (bytes + meta.len(), segments + u64::from(entry.path().extension().is_some_and(|e| e == "term"))),
        Err(_) => (bytes, segments),
    })
}

/// CPU time the whole machine and this process have used since a starting point, from
/// `/proc` (Linux; USER_HZ taken as 100). The bench shares its 2 cores with whatever else
/// runs, so each phase reports how many cores other processes kept busy meanwhile: figures
/// taken while that is well above 0 are not the engine's alone.
struct CpuClock {
    machine: u64,
    own: u64,
    at: Instant,
}

impl CpuClock {
    fn start() -> CpuClock {
        let (machine, own) = CpuClock::ticks();
        CpuClock { machine, own, at: Instant::now() }
    }

    /// (busy ticks of all CPUs, ticks of this process).
    fn ticks() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let numbers = |line: &str| -> Vec<u64> { line.split_whitespace().filter_map(|n| n.parse().ok()).collect() };
        // cpu user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        let cpu = stat.lines().next().map(numbers).unwrap_or_default();
        let machine = cpu.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, n)| n).take(7).sum();
        let own_stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name: state is the first, utime the 12th, stime the 13th.
        let after_name = own_stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let own = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
        (machine, own)
    }

    /// Average cores used by other processes since `start`.
    fn others(&self) -> f64 {
        let (machine, own) = CpuClock::ticks();
        let others = machine.saturating_sub(self.machine).saturating_sub(own.saturating_sub(self.own));
        others as f64 / 100.0 / self.at.elapsed().as_secs_f64().max(1e-9)
    }
}

/// The LC tenant: the 250k file and the Japanese subset (which repeats records of the 250k
/// file: most come out unchanged), imported and indexed.
fn lc_tenant(analyzer: &Arc<JapaneseAnalyzer>, scale: Scale) -> (Tenant, Build) {
    let clock = CpuClock::start();
    let (data, layout, catalogue) = empty_tenant("lc");
    let files = if scale.full {
        vec![benches::lc_books_all(), benches::lc_jpn_subset()]
    } else {
        vec![benches::lc_jpn_subset()]
    };
    let started = Instant::now();
    for file in files {
        let report = import_file(&catalogue, &file, &mut |_, _| {}).or_die(&format!("importing {}", file.display()));
        eprintln!(
            "search/lc: imported {}: read {}, new {}, updated {}, unchanged {}, rejected {} in {:.1} s",
            file.display(),
            report.read,
            report.created,
            report.updated,
            report.unchanged,
            report.rejected.len(),
            report.seconds
        );
    }
    let load_seconds = started.elapsed().as_secs_f64();
    if scale.full {
        let records = catalogue.len().or_die("counting records");
        assert!(records >= LC_BOOKS_ALL_RECORDS, "expected at least {LC_BOOKS_ALL_RECORDS} records, found {records}");
    }
    index_tenant("lc", data, layout, catalogue, analyzer, load_seconds, &clock)
}

/// Titles of the tenant's records, vernacular and English, for sampling queries.
struct Titles {
    japanese: Vec<String>,
    english: Vec<String>,
}

/// Parts of speech a patron searches for: nouns, verbs, adjectives (not particles,
/// auxiliaries, suffixes, numbers or pronouns).
fn is_content_word(part_of_speech: &str) -> bool {
    let wanted = ["名詞", "動詞", "形容詞"].iter().any(|p| part_of_speech.starts_with(p));
    let unwanted = ["非自立", "接尾", "数", "代名詞"].iter().any(|p| part_of_speech.contains(p));
    wanted && !unwanted
}

const ENGLISH_STOP_WORDS: [&str; 24] = [
    "the", "and", "for", "with", "from", "into", "its", "his", "her", "their", "our", "your", "that", "this", "are",
    "was", "not", "but", "all", "who", "how", "what", "when", "there",
];

/// 1-3 consecutive content words of a title, as a patron would type them (space-separated).
fn japanese_query(analyzer: &JapaneseAnalyzer, title: &str, rng: &mut XorShift) -> Option<String> {
    let analysis = analyzer.analyze(title).ok()?;
    let words: Vec<&str> = analysis
        .morphemes
        .iter()
        .filter(|m| !m.compound_part && is_content_word(&m.part_of_speech) && is_word(&m.surface))
        // A lone kana (み of 見る) is a fragment of the title, not a word anyone types.
        .filter(|m| {
            m.surface.chars().count() > 1
                || !m.surface.chars().all(|c| tokenizer_dict::is_hiragana(c) || tokenizer_dict::is_katakana(c))
        })
        .map(|m| m.surface.as_str())
        .collect();
    consecutive(&words, rng)
}

fn english_query(title: &str, rng: &mut XorShift) -> Option<String> {
    let words: Vec<String> = title
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_alphanumeric()))
        .filter(|w| !ENGLISH_STOP_WORDS.contains(&w.as_str()))
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    consecutive(&words, rng)
}

fn consecutive(words: &[&str], rng: &mut XorShift) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let count = 1 + rng.below(3);
    let start = rng.below(words.len());
    Some(words[start..(start + count).min(words.len())].join(" "))
}

/// A query and the language of the title it came from.
#[derive(Clone)]
struct Query {
    text: String,
    japanese: bool,
}

/// `count` distinct queries, half from Japanese titles, half from English ones.
fn sample_queries(analyzer: &JapaneseAnalyzer, titles: &Titles, count: usize, seed: u64) -> Vec<Query> {
    let mut rng = XorShift::new(seed);
    let mut seen = BTreeSet::new();
    let mut queries = Vec::with_capacity(count);
    for japanese in [true, false] {
        let pool = if japanese { &titles.japanese } else { &titles.english };
        let want = if japanese { count / 2 } else { count - queries.len() };
        let mut found = 0;
        for _ in 0..want * 50 {
            if found == want || pool.is_empty() {
                break;
            }
            let title = rng.pick(pool);
            let text =
                if japanese { japanese_query(analyzer, title, &mut rng) } else { english_query(title, &mut rng) };
            if let Some(text) = text.filter(|t| seen.insert(t.clone())) {
                queries.push(Query { text, japanese });
                found += 1;
            }
        }
    }
    queries
}

/// Latency percentiles of one query set.
struct Latencies {
    samples: Vec<Duration>,
    queries: usize,
    zero_hits: usize,
    mean_total: f64,
}

impl Latencies {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or_default()
    }

    fn ms(&self, p: f64) -> f64 {
        self.percentile(p).as_secs_f64() * 1e3
    }

    fn report(&self) -> String {
        format!(
            "p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} samples of {} queries; mean total hits {:.0}, \
             {} with none)",
            self.ms(50.0),
            self.ms(90.0),
            self.ms(99.0),
            self.ms(100.0),
            self.samples.len(),
            self.queries,
            self.mean_total,
            self.zero_hits
        )
    }

    fn json(&self) -> Json {
        Json::Obj(vec![
            ("queries".into(), Json::Num(self.queries as f64)),
            ("samples".into(), Json::Num(self.samples.len() as f64)),
            ("p50_ms".into(), Json::Num(self.ms(50.0))),
            ("p90_ms".into(), Json::Num(self.ms(90.0))),
            ("p99_ms".into(), Json::Num(self.ms(99.0))),
            ("max_ms".into(), Json::Num(self.ms(100.0))),
            ("mean_total_hits".into(), Json::Num(self.mean_total)),
            ("zero_hit_queries".into(), Json::Num(self.zero_hits as f64)),
        ])
    }
}

fn request(query: &Query, facets: bool) -> SearchRequest {
    SearchRequest { limit: 20, facets, ..SearchRequest::new(query.text.clone()) }
}

/// One untimed warm-up pass, then `passes` timed passes, each search timed on its own.
fn measure_latency(index: &Index, queries: &[Query], facets: bool, passes: usize) -> Latencies {
    let requests: Vec<SearchRequest> = queries.iter().map(|q| request(q, facets)).collect();
    let mut totals = 0usize;
    let mut zero_hits = 0;
    for request in &requests {
        let results = index.search(request).or_die(&format!("searching {:?}", request.query));
        totals += results.total;
        zero_hits += usize::from(results.total == 0);
    }
    let mut samples = Vec::with_capacity(requests.len() * passes);
    for _ in 0..passes {
        for request in &requests {
            let started = Instant::now();
            let results = index.search(request).or_die(&format!("searching {:?}", request.query));
            samples.push(started.elapsed());
            std::hint::black_box(results);
        }
    }
    Latencies { samples, queries: requests.len(), zero_hits, mean_total: totals as f64 / requests.len().max(1) as f64 }
}

/// The query sets of a tenant, timed here (percentiles) and by criterion (throughput).
fn query_latency(c: &mut Criterion, tenant: &Tenant, queries: &[Query], scale: Scale) -> Json {
    let mut sets = Vec::new();
    for (label, facets) in [("keyword", false), ("keyword+facets", true)] {
        let mut by_language = Vec::new();
        let all = measure_latency(&tenant.index, queries, facets, scale.passes);
        eprintln!("search/{}/{label}: {}", tenant.name, all.report());
        for (language, japanese) in [("ja", true), ("en", false)] {
            let subset: Vec<Query> = queries.iter().filter(|q| q.japanese == japanese).cloned().collect();
            if subset.is_empty() {
                continue;
            }
            let latencies = measure_latency(&tenant.index, &subset, facets, scale.passes);
            eprintln!("search/{}/{label}/{language}: {}", tenant.name, latencies.report());
            by_language.push((language.to_string(), latencies.json()));
        }
        let mut json = match all.json() {
            Json::Obj(fields) => fields,
            _ => Vec::new(),
        };
        json.push(("by_language".into(), Json::Obj(by_language)));
        sets.push((label.to_string(), Json::Obj(json)));
    }

    let mut group = c.benchmark_group(format!("search/{}", tenant.name));
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(1));
    for (label, facets) in [("keyword", false), ("keyword+facets", true)] {
        let requests: Vec<SearchRequest> = queries.iter().map(|q| request(q, facets)).collect();
        let mut next = 0;
        group.bench_function(format!("{label}/{}-queries", requests.len()), |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    let request = &requests[next % requests.len()];
                    next += 1;
                    std::hint::black_box(index_search(&tenant.index, request));
                }
                started.elapsed()
            })
        });
    }
    group.finish();
    Json::Obj(sets)
}

/// The query sets by kind ([`benches::kinds`]) of a tenant, drawn from its records, each
/// timed as the keyword set is (without facets) and by criterion.
fn latency_by_kind(c: &mut Criterion, tenant: &Tenant, analyzer: &JapaneseAnalyzer, scale: Scale) -> Json {
    let mut sets = Vec::new();
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        let seed = 0x0B_1EC7_0000 + i as u64;
        let sampled = kinds::sample(&tenant.catalogue, analyzer, kind, scale.queries_per_kind, seed)
            .or_die(&format!("sampling {} queries", kind.name()));
        let queries: Vec<Query> =
            sampled.iter().map(|q| Query { text: q.text.clone(), japanese: q.japanese }).collect();
        if queries.is_empty() {
            eprintln!("search/{}/kind/{}: no query of this kind in the corpus", tenant.name, kind.name());
            continue;
        }
        let latencies = measure_latency(&tenant.index, &queries, false, scale.passes);
        let japanese = queries.iter().filter(|q| q.japanese).count();
        // A few of each language: Japanese records are 3% of the LC corpus.
        let examples: Vec<&Query> = [true, false]
            .into_iter()
            .flat_map(|language| queries.iter().filter(move |q| q.japanese == language).take(3))
            .collect();
        // Known-item queries that find nothing are search-quality findings: name them.
        let misses: Vec<&Query> = if latencies.zero_hits == 0 {
            Vec::new()
        } else {
            queries.iter().filter(|q| index_search(&tenant.index, &request(q, false)) == 0).collect()
        };
        let texts = |list: &[&Query]| list.iter().map(|q| format!("\"{}\"", q.text)).collect::<Vec<_>>().join(", ");
        eprintln!(
            "search/{}/kind/{}: {} ({japanese} from Japanese records; e.g. {}{})",
            tenant.name,
            kind.name(),
            latencies.report(),
            texts(&examples),
            if misses.is_empty() { String::new() } else { format!("; no hits: {}", texts(&misses)) }
        );
        let mut json = match latencies.json() {
            Json::Obj(fields) => fields,
            _ => Vec::new(),
        };
        json.push(("from_japanese_records".into(), Json::Num(japanese as f64)));
        let list = |list: &[&Query]| {
            Json::Obj(list.iter().enumerate().map(|(i, q)| (i.to_string(), Json::Str(q.text.clone()))).collect())
        };
        json.push(("examples".into(), list(&examples)));
        json.push(("queries_without_hits".into(), list(&misses)));
        sets.push((kind, queries, json));
    }

    let mut group = c.benchmark_group(format!("search/{}/kind", tenant.name));
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    for (kind, queries, _) in &sets {
        let requests: Vec<SearchRequest> = queries.iter().map(|q| request(q, false)).collect();
        let mut next = 0;
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    let request = &requests[next % requests.len()];
                    next += 1;
                    std::hint::black_box(index_search(&tenant.index, request));
                }
                started.elapsed()
            })
        });
    }
    group.finish();
    Json::Obj(sets.into_iter().map(|(kind, _, json)| (kind.name().to_string(), Json::Obj(json))).collect())
}

fn index_search(index: &Index, request: &SearchRequest) -> usize {
    index.search(request).or_die(&format!("searching {:?}", request.query)).total
}

/// A word no corpus has: `qzx` and letters for `n`.
fn marker(n: usize) -> String {
    let mut out = String::from("qzx");
    let mut n = n;
    for _ in 0..5 {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    out
}

/// Edits `scale.changes` records (a marker word appended to the title) and times each from
/// before the upsert to the edited record being found by a search for the marker.
fn change_to_visible(tenant: &Tenant, scale: Scale) -> Json {
    let mut rng = XorShift::new(0x5EED_C4A7);
    let bibs = tenant.catalogue.len().or_die("counting records");
    let mut samples = Vec::with_capacity(scale.changes);
    let (mut upserts, mut applies, mut searches) = (Vec::new(), Vec::new(), Vec::new());
    let mut edit = 0;
    while samples.len() < scale.changes {
        // Bib ids are dense from 1 in a tenant that has only been appended to.
        let id = 1 + rng.below(bibs as usize) as u64;
        let Some(stored) = tenant.catalogue.get(id).or_die("reading a record") else { continue };
        let Ok(mut record) = stored.record() else { continue };
        if record.control_number().is_none() {
            continue; // its generated control number would change with its content
        }
        let word = marker(edit);
        edit += 1;
        let Some(title) = record.fields.iter_mut().find_map(|f| match f {
            Field::Data { tag, subfields, .. } if tag.as_str() == "245" => subfields.iter_mut().find(|s| s.code == 'a'),
            _ => None,
        }) else {
            continue;
        };
        title.value = format!("{} {word}", title.value.trim_end_matches([' ', '/', ':', ';', ',', '=', '.']));
        let search = SearchRequest { limit: 20, facets: false, ..SearchRequest::new(word.clone()) };

        let started = Instant::now();
        tenant.catalogue.upsert(vec![record], "bench-edit").or_die("upserting an edit");
        let upserted = Instant::now();
        let mut applied = upserted;
        let deadline = started + Duration::from_secs(30);
        loop {
            let applied_now = tenant.index.apply_changes(&tenant.catalogue, APPLY_MAX).or_die("applying changes");
            if applied_now.records > 0 {
                applied = Instant::now();
            }
            let results = tenant.index.search(&search).or_die("searching the edit");
            if results.hits.iter().any(|hit| hit.id == id) {
                break;
            }
            assert!(Instant::now() < deadline, "the edit of bib {id} is not visible after 30 s");
        }
        let found = Instant::now();
        samples.push(found - started);
        upserts.push(upserted - started);
        applies.push(applied - upserted);
        searches.push(found - applied);
    }
    let latencies = |samples: Vec<Duration>| Latencies { samples, queries: 0, zero_hits: 0, mean_total: 0.0 };
    let (total, upsert, apply, search) =
        (latencies(samples), latencies(upserts), latencies(applies), latencies(searches));
    eprintln!(
        "search/{}/change-to-visible: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} edits; p50 of the parts: \
         upsert {:.1} ms, apply_changes {:.1} ms, search {:.2} ms (p99 {:.1} / {:.1} / {:.2} ms)",
        tenant.name,
        total.ms(50.0),
        total.ms(99.0),
        total.ms(100.0),
        total.samples.len(),
        upsert.ms(50.0),
        apply.ms(50.0),
        search.ms(50.0),
        upsert.ms(99.0),
        apply.ms(99.0),
        search.ms(99.0),
    );
    let part = |l: &Latencies| {
        Json::Obj(vec![("p50_ms".into(), Json::Num(l.ms(50.0))), ("p99_ms".into(), Json::Num(l.ms(99.0)))])
    };
    Json::Obj(vec![
        ("edits".into(), Json::Num(total.samples.len() as f64)),
        ("p50_ms".into(), Json::Num(total.ms(50.0))),
        ("p90_ms".into(), Json::Num(total.ms(90.0))),
        ("p99_ms".into(), Json::Num(total.ms(99.0))),
        ("max_ms".into(), Json::Num(total.ms(100.0))),
        ("upsert".into(), part(&upsert)),
        ("apply_changes".into(), part(&apply)),
        ("search".into(), part(&search)),
    ])
}

/// The synthetic tenant: the first `records` records of the generator, upserted in
/// batches, then indexed.
fn synthetic_tenant(analyzer: &Arc<JapaneseAnalyzer>, v: &Vocabulary, records: u64) -> (Tenant, Build, Titles) {
    let clock = CpuClock::start();
    let (data, layout, catalogue) = empty_tenant("synthetic");
    let mut generator = Generator::new(v);
    let mut titles = Titles { japanese: Vec::new(), english: Vec::new() };
    let (mut generating, mut upserting) = (Duration::ZERO, Duration::ZERO);
    let mut n = 0;
    while n < records {
        let started = Instant::now();
        let size = (records - n).min(SYNTHETIC_BATCH as u64);
        let mut batch = Vec::with_capacity(size as usize);
        for synthetic in generator.by_ref().take(size as usize) {
            n = synthetic.n;
            // A deterministic sample of ~1,000 titles to draw queries from.
            if n % (records / 1_000).max(1) == 0 {
                if synthetic.japanese {
                    titles.japanese.push(synthetic.title)
                } else {
                    titles.english.push(synthetic.title)
                }
            }
            batch.push(synthetic.record);
        }
        let generated = Instant::now();
        catalogue.upsert(batch, "synthetic").or_die("upserting synthetic records");
        generating += generated - started;
        upserting += generated.elapsed();
    }
    eprintln!(
        "search/synthetic: generated {records} records in {:.1} s, upserted in {:.1} s ({:.0} records/s)",
        generating.as_secs_f64(),
        upserting.as_secs_f64(),
        records as f64 / upserting.as_secs_f64()
    );
    assert_eq!(catalogue.len().or_die("counting records"), records, "every synthetic record is new");
    let (tenant, build) = index_tenant("synthetic", data, layout, catalogue, analyzer, upserting.as_secs_f64(), &clock);
    (tenant, build, titles)
}

/// The minimal JSON the record file needs (the bench crate has no serde).
enum Json {
    Num(f64),
    Str(String),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Num(n) if n.is_finite() => {
                let _ = write!(out, "{}", (n * 1e4).round() / 1e4);
            }
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Json::Str(key.clone()).write(out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info.lines().find_map(|l| l.strip_prefix("model name")?.split(':').nth(1)).unwrap_or("?");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{} x {cores}", model.trim())
}

/// Where the figures are kept: `target/bench-search.json` of this workspace.
fn json_path() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("bench-search.json"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-search.json"),
    }
}

fn run_tenant(
    c: &mut Criterion,
    tenant: &Tenant,
    build: &Build,
    queries: &[Query],
    analyzer: &JapaneseAnalyzer,
    scale: Scale,
) -> Json {
    let clock = CpuClock::start();
    let queries_json = query_latency(c, tenant, queries, scale);
    let by_kind = latency_by_kind(c, tenant, analyzer, scale);
    let changes = change_to_visible(tenant, scale);
    let other_cores = clock.others();
    eprintln!("search/{}: other processes used {other_cores:.2} cores during the measurements", tenant.name);
    let examples: Vec<(String, Json)> =
        queries.iter().take(10).enumerate().map(|(i, q)| (i.to_string(), Json::Str(q.text.clone()))).collect();
    let english: Vec<(String, Json)> = queries
        .iter()
        .filter(|q| !q.japanese)
        .take(10)
        .enumerate()
        .map(|(i, q)| (i.to_string(), Json::Str(q.text.clone())))
        .collect();
    Json::Obj(vec![
        ("build".into(), build.json()),
        (
            "query_examples".into(),
            Json::Obj(examples.into_iter().chain(english.into_iter().map(|(i, q)| (format!("en{i}"), q))).collect()),
        ),
        ("latency".into(), queries_json),
        ("latency_by_kind".into(), by_kind),
        ("change_to_visible".into(), changes),
        ("other_processes_cores_while_measuring".into(), Json::Num(other_cores)),
    ])
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let million = std::env::var("SHIORI_BENCH_1M").is_ok_and(|v| v == "1");
    let scale = if full {
        Scale {
            full,
            synthetic_records: if million { SYNTHETIC_RECORDS } else { 0 },
            queries: QUERIES,
            queries_per_kind: QUERIES_PER_KIND,
            passes: PASSES,
            changes: CHANGES,
        }
    } else {
        Scale { full, synthetic_records: 5_000, queries: 20, queries_per_kind: 10, passes: 1, changes: 5 }
    };
    let mut c = Criterion::default().configure_from_args();
    let analyzer = Arc::new(JapaneseAnalyzer::new().or_die("loading the dictionary"));
    let mut tenants = Vec::new();

    let (lc, build) = lc_tenant(&analyzer, scale);
    let lc_vernacular = benches::lc_vernacular_titles().or_die("reading the LC vernacular titles");
    let lc_words = synthetic::lc_vocabulary(&lc.catalogue).or_die("reading the LC vocabulary");
    let lc_titles = Titles { japanese: lc_vernacular.clone(), english: lc_words.english_titles.clone() };
    let queries = sample_queries(&analyzer, &lc_titles, scale.queries, 0x1C_B00C5);
    tenants.push(("lc".to_string(), run_tenant(&mut c, &lc, &build, &queries, &analyzer, scale)));
    drop(lc);

    if scale.synthetic_records > 0 {
        let japanese_titles = synthetic::japanese_titles(lc_vernacular).or_die("reading the Aozora titles");
        let v = synthetic::vocabulary(&analyzer, lc_words, &japanese_titles);
        eprintln!(
            "search/synthetic: vocabulary of {} Japanese nouns, {} particles, {} English words (occurrences)",
            v.nouns.len(),
            v.particles.len(),
            v.english_words.len()
        );
        let (synthetic, build, titles) = synthetic_tenant(&analyzer, &v, scale.synthetic_records);
        let queries = sample_queries(&analyzer, &titles, scale.queries, 0x5_1417);
        tenants.push(("synthetic".to_string(), run_tenant(&mut c, &synthetic, &build, &queries, &analyzer, scale)));
    } else {
        eprintln!("search/synthetic: skipped (SHIORI_BENCH_1M=1 builds and measures the 1M-record corpus)");
    }

    if full {
        let record = Json::Obj(vec![
            ("machine".into(), Json::Str(cpu_model())),
            ("passes".into(), Json::Num(scale.passes as f64)),
            ("tenants".into(), Json::Obj(tenants)),
        ]);
        let mut text = String::new();
        record.write(&mut text);
        text.push('\n');
        let path = json_path();
        match std::fs::write(&path, text) {
            Ok(()) => eprintln!("search: figures written to {}", path.display()),
            Err(err) => eprintln!("search: could not write {}: {err}", path.display()),
        }
    }
    c.final_summary();
}
