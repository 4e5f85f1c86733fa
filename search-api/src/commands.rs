//! The command-line commands: parse, call a crate, print.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use catalogue::{
    AuditEvent, AuditLog, Catalogue, DataLayout, ExportFormat, IssuedCredentials, Role, System, TenantCode,
};
use tokenizer_dict::JapaneseAnalyzer;

/// Exit status of an import that stored what it could but rejected some records, and of
/// an export that left out records its format cannot carry.
const EXIT_REJECTED: u8 = 3;

/// Skipped records listed one by one on standard error by `export` (all are counted).
const MAX_SKIPS_LISTED: usize = 100;

pub(crate) fn analyze(text: String, user_dict: Option<PathBuf>, compact: bool) -> anyhow::Result<ExitCode> {
    let text = if text == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        text
    };
    let analyzer = match user_dict {
        Some(path) => JapaneseAnalyzer::with_user_dictionary(&path)?,
        None => JapaneseAnalyzer::new()?,
    };
    println!("{}", search_api::analysis_json(&analyzer, &text, !compact)?);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn tenant_create(data: &Path, code: &str, name: &str) -> anyhow::Result<ExitCode> {
    let code: TenantCode = code.parse()?;
    if name.trim().is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    let layout = DataLayout::new(data);
    let system = System::open(&layout)?;
    let tenant = system.create_tenant(&code, name)?;
    Catalogue::open(&layout, &code)?;
    audit(&system, None, AuditEvent::new(cli_principal(), "tenant.create", format!("tenant {code}")))?;
    println!("created tenant {} ({}) in {}", tenant.code, tenant.name, layout.tenant_dir(&code).display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn tenant_list(data: &Path) -> anyhow::Result<ExitCode> {
    let layout = DataLayout::new(data);
    let system = System::open(&layout)?;
    let tenants = system.tenants()?;
    if tenants.is_empty() {
        println!("no tenants yet: create one with `shiori tenant create CODE --name NAME`");
    }
    for tenant in tenants {
        let records = Catalogue::open(&layout, &tenant.code)?.len()?;
        println!("{}\t{}\t{records} records", tenant.code, tenant.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// Who the command line acts as in the audit log: `cli:<login name>`.
fn cli_principal() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    let user: String = user.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).take(32).collect();
    format!("cli:{user}")
}

/// Appends to a library's audit log, or the deployment's (`None`).
fn audit(system: &System, tenant: Option<&TenantCode>, event: AuditEvent) -> anyhow::Result<()> {
    let clock = system.clock().clone();
    let log = match tenant {
        Some(code) => AuditLog::for_tenant(system.layout(), code, clock),
        None => AuditLog::for_system(system.layout(), clock),
    };
    log.append(&event).with_context(|| format!("writing the audit log {}", log.path().display()))?;
    Ok(())
}

/// Opens `system.redb`, saying what to do when a running server holds it.
fn open_system(layout: &DataLayout) -> anyhow::Result<System> {
    System::open(layout).with_context(|| {
        format!(
            "opening {} (is `shiori serve` running on this data folder? stop it first)",
            layout.system_file().display()
        )
    })
}

pub(crate) fn tenant_delete(data: &Path, code: &str, yes: bool) -> anyhow::Result<ExitCode> {
    let code: TenantCode = code.parse()?;
    let layout = DataLayout::new(data);
    let system = open_system(&layout)?;
    if !yes && std::io::stdin().is_terminal() {
        eprint!("this deletes the library {code} and every file of it, for good; type its code to go on: ");
        let mut typed = String::new();
        std::io::stdin().read_line(&mut typed)?;
        if typed.trim() != code.as_str() {
            eprintln!("not deleted");
            return Ok(ExitCode::FAILURE);
        }
    }
    let report = system.delete_tenant(&code)?;
    for path in &report.removed {
        println!("removed {}", path.display());
    }
    println!(
        "deleted library {}: {} files and folders ({} backup generations), {} staff accounts, {} sessions{}",
        report.tenant,
        report.removed.len(),
        report.backups,
        report.accounts,
        report.sessions,
        if report.registered { "" } else { " (it was no longer registered: an earlier deletion was finished)" }
    );
    let event = AuditEvent::new(cli_principal(), "tenant.delete", format!("tenant {code}")).after(serde_json::json!({
        "paths_removed": report.removed.len(),
        "backups": report.backups,
        "accounts": report.accounts,
        "sessions": report.sessions,
    }));
    audit(&system, None, event)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints credentials that are shown once.
fn print_credentials(issued: &IssuedCredentials) -> anyhow::Result<()> {
    println!("account:           {}", issued.account);
    println!("one-time password: {}", issued.password.expose());
    println!("                   (to be changed at the first login)");
    println!("TOTP secret:       {}", issued.totp.secret.expose());
    println!("TOTP URI:          {}", issued.totp.uri.expose());
    println!("Scan this with an authenticator app:");
    println!("{}", issued.totp.qr_text()?);
    println!("Recovery codes (each works once instead of a TOTP code):");
    for code in &issued.recovery_codes {
        println!("  {}", code.expose());
    }
    println!("None of this is stored in the clear or shown again: hand it over now.");
    Ok(())
}

pub(crate) fn admin_bootstrap(data: &Path, username: &str) -> anyhow::Result<ExitCode> {
    let layout = DataLayout::new(data);
    let system = open_system(&layout)?;
    let issued = system.bootstrap_operator(username)?;
    audit(&system, None, AuditEvent::new(cli_principal(), "operator.bootstrap", format!("operator {username}")))?;
    println!("created the first operator");
    print_credentials(&issued)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn staff_create(
    data: &Path,
    tenant: &str,
    username: &str,
    role: Role,
    name: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let code: TenantCode = tenant.parse()?;
    let layout = DataLayout::new(data);
    let system = open_system(&layout)?;
    let issued = system.create_staff(&code, username, name.unwrap_or(username), role)?;
    let event = AuditEvent::new(cli_principal(), "staff.create", format!("staff {}", issued.account.username))
        .after(serde_json::json!({ "role": role }));
    audit(&system, Some(&code), event)?;
    println!("created {role} {} of {code}", issued.account.username);
    print_credentials(&issued)?;
    println!("Log in at /{code}/staff/login or POST /api/v1/{code}/auth/login.");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn audit_verify(data: &Path, tenant: Option<&str>) -> anyhow::Result<ExitCode> {
    let layout = DataLayout::new(data);
    let path = match tenant {
        Some(code) => layout.audit_log(&code.parse()?),
        None => layout.system_audit_log(),
    };
    if !path.exists() {
        println!("{}: no audit log yet (nothing has been recorded)", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let report = catalogue::verify_audit_log(&path)?;
    for problem in &report.problems {
        println!("{}: {problem}", path.display());
    }
    let head = report.head.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string);
    if report.is_intact() {
        println!("{}: intact, {} lines, head {head}", path.display(), report.lines);
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{}: TAMPERED OR DAMAGED: {} problems in {} lines, head {head}",
            path.display(),
            report.problems.len(),
            report.lines
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Opens a registered tenant's catalogue, or explains why not.
fn open_catalogue(data: &Path, tenant: &str) -> anyhow::Result<(DataLayout, Catalogue)> {
    let code: TenantCode = tenant.parse()?;
    let layout = DataLayout::new(data);
    let system = System::open(&layout)?;
    if system.tenant(&code)?.is_none() {
        return Err(catalogue::Error::UnknownTenant(code.to_string()).into());
    }
    let catalogue = Catalogue::open(&layout, &code)?;
    Ok((layout, catalogue))
}

pub(crate) fn import(data: &Path, tenant: &str, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let (layout, catalogue) = open_catalogue(data, tenant)?;
    let rejects_dir = layout.tenant_dir(catalogue.tenant()).join("rejects");
    let mut any_rejected = false;
    for file in files {
        let report = with_progress(&file.display().to_string(), |progress| {
            Ok(catalogue::import_file(&catalogue, file, progress)?)
        })?;
        println!("{}", report.summary());
        for rejection in report.rejected.iter().take(20) {
            eprintln!(
                "  rejected {} record {} at byte {}: {}",
                file.display(),
                rejection.ordinal,
                rejection.offset,
                rejection.reason
            );
        }
        if report.rejected.len() > 20 {
            eprintln!("  … and {} more rejected records", report.rejected.len() - 20);
        }
        for written in report.write_rejects(&rejects_dir)? {
            eprintln!("  rejects written to {}", written.display());
        }
        any_rejected |= !report.rejected.is_empty();
    }
    Ok(if any_rejected { ExitCode::from(EXIT_REJECTED) } else { ExitCode::SUCCESS })
}

/// Runs `work` with a progress callback (done, total) drawn as a bar when standard error is
/// a terminal, and cleared when the work ends.
fn with_progress<T>(
    label: &str,
    work: impl FnOnce(&mut dyn FnMut(u64, u64)) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        let style = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        bar
    });
    let result = work(&mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}

pub(crate) fn export(data: &Path, tenant: &str, format: ExportFormat, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (_, catalogue) = open_catalogue(data, tenant)?;
    let report = match out {
        Some(path) => {
            // Write to a temporary file and rename, so a failed export never leaves a
            // truncated file under the requested name.
            let partial = path.with_extension("partial");
            let file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let report = catalogue::export(&catalogue, format, &mut writer)?;
            writer.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&partial, path).with_context(|| format!("renaming to {}", path.display()))?;
            report
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            let report = catalogue::export(&catalogue, format, &mut lock)?;
            lock.flush()?;
            report
        }
    };
    for skipped in report.skipped.iter().take(MAX_SKIPS_LISTED) {
        eprintln!("  skipped record {} (not valid {}): {}", skipped.bib_id, format.name(), skipped.reason);
    }
    if report.skipped.len() > MAX_SKIPS_LISTED {
        eprintln!("  … and {} more skipped records", report.skipped.len() - MAX_SKIPS_LISTED);
    }
    eprintln!("{}", report.summary());
    Ok(if report.skipped.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED) })
}

pub(crate) fn reindex(data: &Path, tenant: &str) -> anyhow::Result<ExitCode> {
    let (layout, catalogue) = open_catalogue(data, tenant)?;
    let analyzer = std::sync::Arc::new(JapaneseAnalyzer::new()?);
    let report =
        with_progress("reindex", |progress| Ok(indexer::Index::rebuild(&layout, &catalogue, analyzer, progress)?))?;
    println!(
        "reindexed {}: {} records, {:.2} s, {:.0} records/s, complete up to change {}",
        catalogue.tenant(),
        report.documents,
        report.seconds,
        report.documents as f64 / report.seconds.max(1e-9),
        report.seq
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn search(
    data: &Path,
    tenant: &str,
    request: &indexer::SearchRequest,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (layout, catalogue) = open_catalogue(data, tenant)?;
    let analyzer = std::sync::Arc::new(JapaneseAnalyzer::new()?);
    let index = indexer::Index::open(&layout, catalogue.tenant(), analyzer)?;
    index.catch_up(&catalogue)?;
    let results = index.search(request)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} hits", results.total);
    if let Some(suggestion) = &results.did_you_mean {
        println!("did you mean: {suggestion}");
    }
    if results.relaxed {
        println!("no record has every word; near matches:");
    }
    if results.near {
        println!("nothing as typed; near readings and spellings, or every word but one:");
        if !results.unmatched_words.is_empty() {
            println!("words no record has: {}", results.unmatched_words.join(", "));
        }
    }
    for (rank, hit) in results.hits.iter().enumerate() {
        let year = hit.year.map(|y| y.to_string()).unwrap_or_default();
        println!(
            "{:>3}. {} ({}) {} {} [bib {}]",
            request.offset + rank + 1,
            hit.title,
            hit.title_reading,
            hit.authors.join("; "),
            year,
            hit.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn serve(config: Option<&Path>, overrides: search_api::Overrides, demo: bool) -> anyhow::Result<ExitCode> {
    let config = search_api::Config::load(config, overrides)?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let layout = DataLayout::new(&config.data);
        let opening = layout.clone();
        if demo {
            let demo_layout = layout.clone();
            let report = tokio::task::spawn_blocking(move || search_api::demo::ensure(&demo_layout)).await??;
            if !report.existed {
                println!(
                    "created the demo library: {} records, {} items, {} loans",
                    report.records, report.items, report.loans
                );
            }
        }
        let base_url = config.base_url.clone();
        let state = tokio::task::spawn_blocking(move || search_api::AppState::open(&opening)).await??;
        let state = state.with_base_url(base_url);
        // Demo mode has its known staff account; outside it there is no default account.
        let system = state.system().clone();
        let demo_staff = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            if demo {
                let code: TenantCode = search_api::demo::DEMO_TENANT.parse()?;
                let mut credentials = system.ensure_demo_staff(&code)?;
                credentials.patron_card = Some(search_api::demo::DEMO_PATRON_CARD.to_owned());
                credentials.patron_password =
                    Some(catalogue::SecretString::new(search_api::demo::DEMO_PATRON_PASSWORD));
                system.save_demo_credentials(&credentials)?;
                Ok(Some(credentials))
            } else {
                let removed = system.remove_demo_staff()?;
                if removed > 0 {
                    tracing::info!(accounts = removed, "demo staff accounts removed: not in demo mode");
                }
                Ok(None)
            }
        })
        .await??;
        let libraries: Vec<String> = state.libraries().map(|l| l.tenant.code.to_string()).collect();
        search_api::serve(&config, state, |address, scheme| {
            let base = config.base_url.clone().unwrap_or_else(|| format!("{scheme}://{address}"));
            println!("Shiori is serving {} at {base}/", config.data.display());
            for code in &libraries {
                println!("  OPAC: {base}/{code}/   SRU: {base}/{code}/sru   API: {base}/api/v1/{code}/search?q=…");
            }
            if libraries.is_empty() {
                println!("  no libraries yet: `shiori tenant create CODE --name NAME`, or start with --demo");
            }
            if config.tls == Some(search_api::TlsSource::SelfSigned) {
                println!(
                    "  TLS: a self-signed certificate for {} in {}/tls/: trust it in your client",
                    search_api::SELF_SIGNED_NAMES.join(", "),
                    config.data.display()
                );
            }
            if let Some(demo) = &demo_staff {
                println!("  Demo staff login: {base}/{}/staff/login", demo.tenant);
                println!("    username:    {}", demo.username);
                println!("    password:    {}", demo.password.expose());
                println!("    TOTP secret: {}  (add it to an authenticator app)", demo.totp_secret.expose());
                println!("  Demo patron login (OPAC): {base}/{}/my/login", demo.tenant);
                if let (Some(card), Some(password)) = (&demo.patron_card, &demo.patron_password) {
                    println!("    card number: {card}");
                    println!("    password:    {}", password.expose());
                }
                println!("    (also in {})", layout.demo_credentials_file().display());
            }
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(format: search_api::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHIORI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        search_api::LogFormat::Human => builder.try_init(),
        search_api::LogFormat::Json => builder.json().try_init(),
    };
}

/// Opens a registered library's catalogue for a backup or restore, saying what to do when
/// a running server holds the files.
fn registered(system: &System, tenant: &str) -> anyhow::Result<TenantCode> {
    let code: TenantCode = tenant.parse()?;
    if system.tenant(&code)?.is_none() {
        return Err(catalogue::Error::UnknownTenant(code.to_string()).into());
    }
    Ok(code)
}

pub(crate) fn backup(data: &Path, tenant: Option<&str>) -> anyhow::Result<ExitCode> {
    let Some(tenant) = tenant else {
        anyhow::bail!("give the library: `shiori backup --tenant T` (or `shiori backup list --tenant T`)");
    };
    let layout = DataLayout::new(data);
    let system = System::open(&layout).with_context(|| {
        format!(
            "opening {}: is `shiori serve` running on this data folder? It backs up every library daily \
             (--backup-hour); stop it to back up now",
            layout.system_file().display()
        )
    })?;
    let code = registered(&system, tenant)?;
    let catalogue = Catalogue::open(&layout, &code)?;
    let report = catalogue.backup(&layout, jiff::Timestamp::now())?;
    println!(
        "backed up {code}: {} ({} bytes, {} entries in {} tables) at {}",
        report.backup.name,
        report.backup.bytes,
        report.entries(),
        report.tables.len(),
        report.backup.path.display()
    );
    for removed in &report.removed {
        println!("removed the older generation {}", removed.display());
    }
    let removed: Vec<String> =
        report.removed.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    let event = AuditEvent::new(cli_principal(), "backup.create", format!("backup {}", report.backup.name))
        .after(serde_json::json!({ "bytes": report.backup.bytes, "entries": report.entries(), "removed": removed }));
    audit(&system, Some(&code), event)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn backup_list(data: &Path, tenant: &str) -> anyhow::Result<ExitCode> {
    let code: TenantCode = tenant.parse()?;
    let layout = DataLayout::new(data);
    let backups = catalogue::list_backups(&layout, &code)?;
    if backups.is_empty() {
        println!("no backups of {code} yet: `shiori backup --tenant {code}`");
    }
    for backup in backups {
        let time = backup.time.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)));
        println!("{}\t{}\t{} bytes", backup.name, time.strftime("%Y-%m-%d %H:%M:%S JST"), backup.bytes);
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn restore(data: &Path, tenant: &str, generation: Option<&str>, yes: bool) -> anyhow::Result<ExitCode> {
    let layout = DataLayout::new(data);
    let system = open_system(&layout)?;
    let code = registered(&system, tenant)?;
    if !yes && std::io::stdin().is_terminal() {
        eprint!(
            "this replaces the catalogue of {code} by {}; changes since then are set aside; type its code to go on: ",
            generation.unwrap_or("its latest backup")
        );
        let mut typed = String::new();
        std::io::stdin().read_line(&mut typed)?;
        if typed.trim() != code.as_str() {
            eprintln!("not restored");
            return Ok(ExitCode::FAILURE);
        }
    }
    let report = catalogue::restore_backup(&layout, &code, generation, jiff::Timestamp::now())?;
    println!("restored {code} from the backup {}", report.restored.name);
    if let Some(replaced) = &report.replaced {
        println!("the replaced catalogue is kept as {}", replaced.display());
    }
    let catalogue = Catalogue::open(&layout, &code)?;
    let analyzer = std::sync::Arc::new(JapaneseAnalyzer::new()?);
    let rebuilt =
        with_progress("reindex", |progress| Ok(indexer::Index::rebuild(&layout, &catalogue, analyzer, progress)?))?;
    println!("rebuilt the index: {} records", rebuilt.documents);
    let event = AuditEvent::new(cli_principal(), "backup.restore", format!("backup {}", report.restored.name)).after(
        serde_json::json!({
            "records": rebuilt.documents,
            "replaced": report.replaced.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
        }),
    );
    audit(&system, Some(&code), event)?;
    Ok(ExitCode::SUCCESS)
}

/// A circulation command.
pub(crate) enum Circ {
    Checkout {
        item: String,
        patron: String,
    },
    Checkin {
        item: String,
        branch: Option<String>,
    },
    Renew {
        item: String,
    },
    Hold {
        bib: u64,
        patron: String,
        pickup: String,
    },
    HoldCancel {
        id: u64,
    },
    Daily,
    /// List the outbox, or send it when a mailer is given.
    Notices {
        mailer: Option<Box<search_api::mailer::Mailer>>,
        base_url: Option<String>,
    },
}

/// `shiori circ …`: on the files directly, with the server stopped. Audit lines name the
/// item or the hold, never the patron.
pub(crate) fn circ(data: &Path, tenant: &str, op: Circ) -> anyhow::Result<ExitCode> {
    let layout = DataLayout::new(data);
    let system = System::open(&layout).with_context(|| {
        format!(
            "opening {}: is `shiori serve` running on this data folder? While it runs it owns the files: \
             use the staff API (POST /api/v1/{tenant}/circulation/…) or the desk page /{tenant}/staff/desk, \
             or stop the server",
            layout.system_file().display()
        )
    })?;
    let code = registered(&system, tenant)?;
    let catalogue = Catalogue::open(&layout, &code)?;
    let now = jiff::Timestamp::now();
    let refused = |err: catalogue::Error| -> anyhow::Error {
        match err.message_ja() {
            Some(ja) => anyhow::anyhow!("{err} ({ja})"),
            None => err.into(),
        }
    };
    let (action, target, after) = match op {
        Circ::Checkout { item, patron } => {
            let loan = catalogue.checkout(&item, &patron, now).map_err(refused)?;
            println!("lent {item} to {}: due {} (JST)", patron.trim(), loan.due);
            (
                "circulation.checkout",
                format!("item {}", item.trim()),
                serde_json::json!({ "due": loan.due.to_string() }),
            )
        }
        Circ::Checkin { item, branch } => {
            let outcome = match branch.as_deref() {
                Some(branch) => catalogue.checkin_at(&item, branch, now),
                None => catalogue.checkin(&item, now),
            }
            .map_err(refused)?;
            let mut said = format!("checked in {}: now {}", outcome.item.barcode, outcome.item.status.as_str());
            if outcome.days_overdue > 0 {
                said.push_str(&format!(", {} days overdue", outcome.days_overdue));
            }
            if let Some(hold) = &outcome.hold {
                let card = catalogue.patron(hold.patron_id)?.map(|p| p.card).unwrap_or_default();
                said.push_str(&format!(", set aside for hold {} (card {card}, {})", hold.id, hold.state.as_str()));
            }
            if let Some(destination) = &outcome.destination {
                said.push_str(&format!(", send it to {destination}"));
            }
            println!("{said}");
            let after = serde_json::json!({
                "previous_status": outcome.previous_status.as_str(),
                "status": outcome.item.status.as_str(),
                "hold": outcome.hold.as_ref().map(|h| h.id),
            });
            ("circulation.checkin", format!("item {}", outcome.item.barcode), after)
        }
        Circ::Renew { item } => {
            let loan = catalogue.renew(&item, now).map_err(refused)?;
            println!("renewed {}: due {} (JST), renewal {}", item.trim(), loan.due, loan.renewals);
            let after = serde_json::json!({ "due": loan.due.to_string(), "renewals": loan.renewals });
            ("circulation.renew", format!("item {}", item.trim()), after)
        }
        Circ::Hold { bib, patron, pickup } => {
            let hold = catalogue.place_hold(bib, &patron, &pickup, now).map_err(refused)?;
            let queue = catalogue.holds_of_bib(bib)?.len();
            println!(
                "placed hold {} on record {bib} for {}: pickup at {}, number {queue} in line",
                hold.id,
                patron.trim(),
                hold.pickup_branch
            );
            (
                "hold.place",
                format!("hold {}", hold.id),
                serde_json::json!({ "bib_id": bib, "pickup_branch": hold.pickup_branch }),
            )
        }
        Circ::HoldCancel { id } => {
            let hold = catalogue.cancel_hold(id, now).map_err(refused)?;
            println!("cancelled hold {id} on record {}", hold.bib_id);
            ("hold.cancel", format!("hold {id}"), serde_json::json!({ "bib_id": hold.bib_id }))
        }
        Circ::Notices { mailer: None, .. } => {
            let pending = catalogue.pending_notices(usize::MAX)?;
            for notice in &pending {
                let patron = catalogue.patron(notice.patron_id)?;
                let card = patron.as_ref().map(|p| p.card.as_str()).unwrap_or("?");
                let reach = match patron.as_ref().and_then(|p| p.contact.as_deref()) {
                    Some(contact) if contact.contains('@') => "e-mail",
                    Some(_) => "telephone",
                    None => "no contact",
                };
                println!(
                    "{}\t{}\t{}\tcard {card}\titem {}\t{reach}",
                    notice.id,
                    notice.kind.as_str(),
                    notice.date,
                    notice.item_barcode
                );
            }
            println!("{} notice(s) waiting", pending.len());
            return Ok(ExitCode::SUCCESS);
        }
        Circ::Notices { mailer: Some(mailer), base_url } => {
            let tenant = system.tenant(&code)?.ok_or_else(|| catalogue::Error::UnknownTenant(code.to_string()))?;
            let report = mailer.drain(&catalogue, &tenant, base_url.as_deref(), now)?;
            println!(
                "{} sent, {} dropped (their cause had gone), {} left for the staff, {} left for later",
                report.sent, report.obsolete, report.for_staff, report.deferred
            );
            let after = serde_json::to_value(report)?;
            audit(&system, Some(&code), AuditEvent::new(cli_principal(), "notices.send", "outbox").after(after))?;
            return Ok(if report.deferred > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS });
        }
        Circ::Daily => {
            let expired = catalogue.expire_holds(now)?;
            let notices = catalogue.notify_overdue(now)?;
            println!("{} hold(s) expired, {} overdue notice(s) written", expired.len(), notices.len());
            let after = serde_json::json!({
                "holds_expired": expired.iter().map(|h| h.id).collect::<Vec<_>>(),
                "overdue_notices": notices.len(),
            });
            ("circulation.daily", "holds and notices".to_owned(), after)
        }
    };
    audit(&system, Some(&code), AuditEvent::new(cli_principal(), action, target).after(after))?;
    Ok(ExitCode::SUCCESS)
}
