//! Circulation under load (issue 7's bench): sustained checkouts and checkins per second
//! through the staff API while the OPAC serves searches, and how long a loan takes to show
//! in search (change -> visible) under that load.
//!
//! One command (builds `shiori` in release first):
//!
//! ```text
//! bash benches/circulation/run.sh            # or, with a built binary:
//! cargo run --release -p benches --bin circulation -- --shiori target/release/shiori
//! ```
//!
//! It makes a data folder (the LC Japanese subset of ../shared/fixtures, 7,495 real
//! records; a copy of each of the first `--items` records at one branch; 500 patrons; a
//! circulation staff account), starts `shiori serve` on a free loopback port, logs in
//! through the API with the account's one-time password and TOTP code, then for
//! `--seconds`:
//!
//! - `--desks` threads each lend a copy to a patron and take it back, again and again
//!   (`POST /circulation/checkout`, `POST /circulation/checkin`), over their own copies;
//! - `--searchers` threads run OPAC keyword searches (`GET /api/v1/circ/search`, top 20);
//! - one probe lends and takes back copies of records with a unique ISBN, and after each
//!   answer polls `isbn:… filter=available:*` every millisecond until the search shows the
//!   change: the time from the checkout's (checkin's) answer to the first search that sees
//!   it is one change -> visible sample.
//!
//! It prints operations per second, latency percentiles of each kind and the change ->
//! visible percentiles, and fails if any request failed. Budget (DESIGN.md): change ->
//! visible p99 <= 1 s.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use catalogue::{Branch, Catalogue, DataLayout, NewItem, NewPatron, Role, System, TenantCode};

const TENANT: &str = "circ";
const PATRONS: usize = 500;
/// Queries the searchers cycle through: common words of Japanese titles, in the scripts
/// patrons type.
const QUERIES: &[&str] = &[
    "日本",
    "歴史",
    "文学",
    "東京",
    "研究",
    "社会",
    "経済",
    "教育",
    "戦争",
    "文化",
    "政治",
    "小説",
    "にほん",
    "れきし",
    "nihon",
    "rekishi",
    "思想",
    "法律",
    "美術",
    "宗教",
    "図書館",
    "としょかん",
    "科学",
    "明治",
];

struct Args {
    shiori: PathBuf,
    dir: PathBuf,
    seconds: u64,
    desks: usize,
    searchers: usize,
    items: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        shiori: PathBuf::from("target/release/shiori"),
        dir: PathBuf::from("target/circulation-bench"),
        seconds: 20,
        desks: 2,
        searchers: 2,
        items: 2_000,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--shiori" => args.shiori = PathBuf::from(value()?),
            "--dir" => args.dir = PathBuf::from(value()?),
            "--seconds" => args.seconds = value()?.parse()?,
            "--desks" => args.desks = value()?.parse()?,
            "--searchers" => args.searchers = value()?.parse()?,
            "--items" => args.items = value()?.parse()?,
            other => bail!(
                "unknown argument {other}: use --shiori BIN --dir DIR --seconds N --desks N --searchers N --items N"
            ),
        }
    }
    if args.desks == 0 || args.items < args.desks * 2 + 40 {
        bail!("give at least one desk and --items of at least 2 x desks + 40");
    }
    Ok(args)
}

/// What the bench needs of the library it made.
struct Library {
    /// The staff account's one-time password.
    password: String,
    /// Its TOTP secret (base32).
    secret: String,
    /// The probe's copies: (barcode, the record's unique ISBN).
    probes: Vec<(String, String)>,
}

/// The library: records, copies, patrons, and a staff account.
fn make_library(args: &Args) -> anyhow::Result<Library> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir)?;
    let layout = DataLayout::new(&args.dir);
    let code: TenantCode = TENANT.parse()?;
    let system = System::open(&layout)?;
    system.create_tenant(&code, "栞ベンチ図書館")?;
    let issued = system.create_staff(&code, "desk", "カウンター", Role::Circulation)?;
    let catalogue = Catalogue::open(&layout, &code)?;
    let file = benches::lc_jpn_subset();
    let report = catalogue::import_file(&catalogue, &file, &mut |_, _| {})?;
    println!("imported {} records from {}", report.created, file.display());
    catalogue
        .put_branch(&Branch { code: "chuo".into(), name_ja: "中央図書館".into(), name_en: "Central".into() })?;
    for n in 0..PATRONS {
        catalogue.add_patron(&NewPatron::new(&format!("P{n:05}"), &format!("利用者 {n}"), "chuo"))?;
    }
    let mut probes = Vec::new();
    let mut added = 0;
    for bib in catalogue.bibs_after(None, args.items)? {
        let barcode = format!("B{added:06}");
        catalogue.add_item(&NewItem::new(bib.id, &barcode, "chuo"))?;
        added += 1;
        // The probe's copies: the last 40, of records found by one ISBN only.
        if added > args.items - 40 {
            let document = indexer::BibDocument::from_record(bib.id, &bib.record()?);
            if let Some(isbn) = document.isbns.first()
                && catalogue.find_by_isbn(isbn)?.len() == 1
            {
                probes.push((barcode, isbn.clone()));
            }
        }
    }
    if probes.is_empty() {
        bail!("no record among the probe's copies has a unique ISBN");
    }
    println!("{added} copies, {PATRONS} patrons, {} probe records", probes.len());
    Ok(Library {
        password: issued.password.expose().to_owned(),
        secret: issued.totp.secret.expose().to_owned(),
        probes,
    })
}

/// `shiori serve` on a free port, and its base URL once it prints "Shiori is serving".
fn start_server(args: &Args) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(&args.shiori)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&args.dir)
        .env("SHIORI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!("starting {} (build it: cargo build --release -p search-api)", args.shiori.display())
        })?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let Some(line) = lines.next() else { bail!("the server stopped before serving") };
        let line = line?;
        if let Some(at) = line.find("http://") {
            let url = line[at..].split_whitespace().next().unwrap_or("").trim_end_matches('/').to_owned();
            if line.contains("Shiori is serving") {
                break url;
            }
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Ok((child, base))
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).max_idle_connections_per_host(64).build()
}

fn post(agent: &ureq::Agent, url: &str, token: &str, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let answer = agent
        .post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    match answer {
        Ok(response) => Ok(serde_json::from_str(&response.into_string()?).unwrap_or(serde_json::Value::Null)),
        Err(ureq::Error::Status(status, response)) => {
            bail!("POST {url}: {status} {}", response.into_string().unwrap_or_default())
        }
        Err(err) => bail!("POST {url}: {err}"),
    }
}

fn login(agent: &ureq::Agent, base: &str, password: &str, secret: &str) -> anyhow::Result<String> {
    let code = catalogue::totp_code(secret, jiff::Timestamp::now())?;
    let body = serde_json::json!({ "username": "desk", "password": password, "totp": code });
    let answer = agent
        .post(&format!("{base}/api/v1/{TENANT}/auth/login"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .map_err(|err| anyhow::anyhow!("login: {err}"))?;
    let json: serde_json::Value = serde_json::from_str(&answer.into_string()?)?;
    let token = json["token"].as_str().context("no token in the login answer")?.to_owned();
    // A one-time password must be changed before the account may do anything.
    let change = serde_json::json!({ "current_password": password, "new_password": "kaunta-no-yoru-77-hoshi" });
    post(agent, &format!("{base}/api/v1/{TENANT}/auth/password"), &token, &change)?;
    Ok(token)
}

/// Latencies in microseconds.
#[derive(Default)]
struct Samples(Vec<u64>);

impl Samples {
    fn percentile(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.sort_unstable();
        let rank = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        self.0[rank.min(self.0.len() - 1)] as f64 / 1000.0
    }

    fn row(&mut self, name: &str, seconds: f64) -> String {
        let n = self.0.len();
        format!(
            "| {name} | {n} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            n as f64 / seconds,
            self.percentile(50.0),
            self.percentile(90.0),
            self.percentile(99.0),
            self.percentile(100.0)
        )
    }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Whether the probe's record shows as available in search.
fn shows_available(agent: &ureq::Agent, base: &str, isbn: &str) -> anyhow::Result<bool> {
    let response = agent
        .get(&format!("{base}/api/v1/{TENANT}/search"))
        .query("q", &format!("isbn:{isbn}"))
        .query("filter", "available:*")
        .query("per_page", "1")
        .call()
        .map_err(|err| anyhow::anyhow!("probe search: {err}"))?;
    let json: serde_json::Value = serde_json::from_str(&response.into_string()?)?;
    Ok(json["total"].as_u64().context("no total in a search answer")? > 0)
}

/// Polls until the record shows `available` (or 5 s pass); the time it took, in µs.
fn until_visible(agent: &ureq::Agent, base: &str, isbn: &str, available: bool) -> anyhow::Result<u64> {
    let since = Instant::now();
    while shows_available(agent, base, isbn)? != available {
        if since.elapsed() > Duration::from_secs(5) {
            bail!("the change to isbn:{isbn} was not visible in search after 5 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(micros(since))
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let library = make_library(&args)?;
    let (mut server, base) = start_server(&args)?;
    let outcome = run(&args, &base, &library);
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

fn run(args: &Args, base: &str, library: &Library) -> anyhow::Result<()> {
    let token = login(&agent(), base, &library.password, &library.secret)?;
    let probes = &library.probes;
    println!("serving at {base}; {} s of load", args.seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let checkouts = Arc::new(Mutex::new(Samples::default()));
    let checkins = Arc::new(Mutex::new(Samples::default()));
    let searches = Arc::new(Mutex::new(Samples::default()));
    let visible = Arc::new(Mutex::new(Samples::default()));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let started = Instant::now();
    std::thread::scope(|scope| {
        // Desks: copies [desk * share, (desk + 1) * share) of the non-probe ones.
        let share = (args.items - 40) / args.desks;
        for desk in 0..args.desks {
            let (stop, failures, first_error) = (stop.clone(), failures.clone(), first_error.clone());
            let (checkouts, checkins, token) = (checkouts.clone(), checkins.clone(), token.clone());
            scope.spawn(move || {
                let agent = agent();
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let barcode = format!("B{:06}", desk * share + n % share);
                    let card = format!("P{:05}", (desk * 7919 + n) % PATRONS);
                    n += 1;
                    let t = Instant::now();
                    let out = post(
                        &agent,
                        &format!("{base}/api/v1/{TENANT}/circulation/checkout"),
                        &token,
                        &serde_json::json!({ "item_barcode": barcode, "patron_card": card }),
                    );
                    let out_us = micros(t);
                    let t = Instant::now();
                    let back = out.and_then(|_| {
                        post(
                            &agent,
                            &format!("{base}/api/v1/{TENANT}/circulation/checkin"),
                            &token,
                            &serde_json::json!({ "item_barcode": barcode }),
                        )
                    });
                    match back {
                        Ok(_) => {
                            if let Ok(mut s) = checkouts.lock() {
                                s.0.push(out_us);
                            }
                            if let Ok(mut s) = checkins.lock() {
                                s.0.push(micros(t));
                            }
                        }
                        Err(err) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut first) = first_error.lock() {
                                first.get_or_insert(err.to_string());
                            }
                        }
                    }
                }
            });
        }
        for searcher in 0..args.searchers {
            let (stop, failures, searches, first_error) =
                (stop.clone(), failures.clone(), searches.clone(), first_error.clone());
            scope.spawn(move || {
                let agent = agent();
                let mut n = searcher * 5;
                while !stop.load(Ordering::Relaxed) {
                    let q = QUERIES[n % QUERIES.len()];
                    n += 1;
                    let t = Instant::now();
                    let answer = agent
                        .get(&format!("{base}/api/v1/{TENANT}/search"))
                        .query("q", q)
                        .query("per_page", "20")
                        .call()
                        .map_err(|err| anyhow::anyhow!("search {q}: {err}"))
                        .and_then(|r| Ok(r.into_string()?));
                    match answer {
                        Ok(_) => {
                            if let Ok(mut s) = searches.lock() {
                                s.0.push(micros(t));
                            }
                        }
                        Err(err) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut first) = first_error.lock() {
                                first.get_or_insert(err.to_string());
                            }
                        }
                    }
                }
            });
        }
        // The probe, on this thread.
        let agent = agent();
        let mut n = 0usize;
        while started.elapsed() < Duration::from_secs(args.seconds) {
            let (barcode, isbn) = &probes[n % probes.len()];
            let card = format!("P{:05}", n % PATRONS);
            n += 1;
            let round = (|| -> anyhow::Result<(u64, u64)> {
                let url = format!("{base}/api/v1/{TENANT}/circulation/checkout");
                post(&agent, &url, &token, &serde_json::json!({ "item_barcode": barcode, "patron_card": card }))?;
                let lent = until_visible(&agent, base, isbn, false)?;
                let url = format!("{base}/api/v1/{TENANT}/circulation/checkin");
                post(&agent, &url, &token, &serde_json::json!({ "item_barcode": barcode }))?;
                let back = until_visible(&agent, base, isbn, true)?;
                Ok((lent, back))
            })();
            match round {
                Ok((lent, back)) => {
                    if let Ok(mut s) = visible.lock() {
                        s.0.extend([lent, back]);
                    }
                }
                Err(err) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = first_error.lock() {
                        first.get_or_insert(err.to_string());
                    }
                    break;
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    let seconds = started.elapsed().as_secs_f64();
    let take = |m: &Mutex<Samples>| m.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
    let (mut out, mut back, mut search, mut seen) =
        (take(&checkouts), take(&checkins), take(&searches), take(&visible));
    println!("\n{seconds:.1} s, {} desks, {} searchers, one probe\n", args.desks, args.searchers);
    println!("| what | count | per second | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|---|");
    println!("{}", out.row("checkout (desk)", seconds));
    println!("{}", back.row("checkin (desk)", seconds));
    println!(
        "| checkouts + checkins | {} | **{:.0}** | | | | |",
        out.0.len() + back.0.len(),
        (out.0.len() + back.0.len()) as f64 / seconds
    );
    println!("{}", search.row("search (OPAC, top 20)", seconds));
    println!("{}", seen.row("change -> visible in search", seconds));
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        let first = first_error.lock().ok().and_then(|f| f.clone()).unwrap_or_default();
        bail!("{failed} request(s) failed; the first: {first}");
    }
    let p99 = seen.percentile(99.0);
    println!(
        "\nchange -> visible p99 {p99:.1} ms (budget 1,000 ms): {}",
        if p99 <= 1000.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
