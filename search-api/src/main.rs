//! The `shiori` command line.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Shiori (栞): a library system for Japanese public and school libraries.
#[derive(Parser)]
#[command(name = "shiori", version, about)]
struct Cli {
    /// The data folder (tenants, catalogues, indexes, logs) [default: ./shiori-data].
    #[arg(long, global = true, env = "SHIORI_DATA")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Japanese analysis of a text as JSON (normalised text, morphemes with
    /// readings and byte offsets, bigrams, readings, romaji, title keys).
    Analyze {
        /// The text to analyse; `-` reads it from standard input.
        text: String,
        /// A user dictionary: CSV lines of `surface,part_of_speech,reading` (katakana).
        #[arg(long)]
        user_dict: Option<PathBuf>,
        /// One line of JSON instead of indented JSON.
        #[arg(long)]
        compact: bool,
    },
    /// Manage libraries (tenants).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// The deployment's operators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// A library's staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The hash-chained audit logs.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Import MARC files (ISO 2709 in UTF-8 or MARC-8, MARCXML, MarcEdit .mrk or
    /// MARC-in-JSON, each also gzip-compressed; detected from the bytes). Re-importing
    /// updates records by 003 + 001 instead of duplicating them.
    /// Exit status 0: all imported; 3: some records were rejected (see the rejects files).
    Import {
        /// The tenant to import into.
        #[arg(long)]
        tenant: String,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Back up a library's catalogue now (`shiori backup --tenant T`; the server also backs
    /// up every library daily), or list its backups (`shiori backup list --tenant T`). The
    /// newest 3 generations are kept in DATA/tenants/T/backups/.
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        /// The library to back up.
        #[arg(long)]
        tenant: Option<String>,
        #[command(subcommand)]
        command: Option<BackupCommand>,
    },
    /// Replace a library's catalogue by its latest backup (or --generation NAME), then
    /// rebuild its index. Run it with the server stopped. The replaced catalogue is kept
    /// as `backups/replaced-<time>.redb`.
    Restore {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The backup to restore (a name from `shiori backup list`) [default: the latest].
        #[arg(long)]
        generation: Option<String>,
        /// Do not ask to type the library's code again (asked only on a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Circulation at the desk, from the command line: checkout, checkin, renew, holds.
    ///
    /// These commands open the library's files directly, so run them with the server
    /// stopped: while `shiori serve` runs it owns the files (redb is single-process) and the
    /// command refuses with a message saying so. With the server running, use the staff
    /// API (`POST /api/v1/{tenant}/circulation/checkout` …, with a Bearer token from
    /// `POST /api/v1/{tenant}/auth/login`) or the desk pages (`/{tenant}/staff/desk`): this
    /// command does not log in to the server for you, since that needs a staff member's
    /// password and TOTP code.
    Circ {
        #[command(subcommand)]
        command: CircCommand,
    },
    /// Rebuild a tenant's search index from its catalogue (in parallel) and swap it in.
    Reindex {
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Search a tenant's catalogue as the OPAC does (applying pending changes first).
    Search {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The query, in the OPAC's query language.
        query: String,
        /// Match the whole title exactly (完全一致).
        #[arg(long, conflicts_with = "prefix")]
        exact: bool,
        /// Match the beginning of the title (前方一致).
        #[arg(long)]
        prefix: bool,
        /// Result order.
        #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
        sort: SortArg,
        /// Number of hits.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the OPAC, the JSON API, SRU and OpenSearch over HTTP until Ctrl-C or SIGTERM.
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "SHIORI_LISTEN")]
        listen: Option<String>,
        /// A TOML configuration file (keys: data, listen, log_format, base_url, tls_cert,
        /// tls_key, tls_self_signed, backup_hour, max_import_bytes, smtp_url, mail_from); flags and SHIORI_*
        /// environment variables override it.
        #[arg(long, env = "SHIORI_CONFIG")]
        config: Option<PathBuf>,
        /// Log format: human or json.
        #[arg(long, env = "SHIORI_LOG_FORMAT")]
        log_format: Option<search_api::LogFormat>,
        /// The public base URL, when the server sits behind a proxy (links in OpenSearch
        /// and SRU use it).
        #[arg(long, env = "SHIORI_BASE_URL")]
        base_url: Option<String>,
        /// Create (on first start) and serve a demo library with real records, items in
        /// two branches and some loans, and its demo staff account (printed, and written
        /// to DATA/demo-credentials.json). Without it, no demo account exists.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, env = "SHIORI_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, env = "SHIORI_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve HTTPS with a self-signed certificate for localhost, 127.0.0.1 and ::1
        /// (made on first use in DATA/tls/ and reused): for trying things out locally.
        #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
        tls_self_signed: bool,
        /// The hour in Japan (0-23) at which every library is backed up each day [default: 3].
        #[arg(long, env = "SHIORI_BACKUP_HOUR")]
        backup_hour: Option<u8>,
        /// The largest MARC upload POST /api/v1/{tenant}/import accepts, in bytes
        /// [default: 67108864, 64 MiB].
        #[arg(long, env = "SHIORI_MAX_IMPORT_BYTES")]
        max_import_bytes: Option<usize>,
        /// The sender of e-mailed notices, e.g. "栞市立図書館 <noreply@lib.example.jp>".
        /// Notices are e-mailed every minute when SHIORI_SMTP_URL (or smtp_url in the
        /// configuration file) names the relay, e.g. smtp://user:pass@relay:587?tls=required.
        #[arg(long, env = "SHIORI_MAIL_FROM")]
        mail_from: Option<String>,
    },
    /// Export a tenant's catalogue as UTF-8 ISO 2709, MARCXML, MarcEdit .mrk or MARC-in-JSON,
    /// control fields first. Records the format cannot carry as they are are left out and
    /// listed on standard error with their bib id and reason (nothing is repaired).
    /// Exit status 0: all exported; 3: some records were left out.
    Export {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The format.
        #[arg(long, value_enum, default_value_t = Format::Marc)]
        format: Format,
        /// The output file (standard output if absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    /// Best match first.
    Relevance,
    /// Newest first.
    Newest,
    /// Oldest first.
    Oldest,
    /// Title reading, 五十音順.
    Title,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Register a library: CODE is its folder and URL name (lowercase letters, digits, '-').
    Create {
        /// The code, e.g. shiori-city.
        code: String,
        /// The name shown to people, e.g. 栞市立図書館.
        #[arg(long)]
        name: String,
    },
    /// List the registered libraries.
    List,
    /// Delete a library when its contract ends: its catalogue, index, backups, logs, staff
    /// accounts and sessions. Prints every path removed. Run it with the server stopped.
    Delete {
        /// The code of the library.
        code: String,
        /// Do not ask to type the code again (asked only on a terminal).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// List a library's backups, oldest first: name (the time in Japan), size.
    List {
        /// The library.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create the first operator and print its one-time password, TOTP enrolment (URI and
    /// a QR code) and recovery codes. Refused once an operator exists.
    Bootstrap {
        /// The operator's username.
        #[arg(long, default_value = "admin")]
        username: String,
    },
}

#[derive(Subcommand)]
enum CircCommand {
    /// Lend an item to a patron under the loan rules.
    Checkout {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The item's barcode.
        #[arg(long)]
        item: String,
        /// The patron's card number.
        #[arg(long)]
        patron: String,
    },
    /// Take an item back (and trap it for the first waiting hold of its record).
    Checkin {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The item's barcode.
        #[arg(long)]
        item: String,
        /// The branch of the desk [default: the item's own].
        #[arg(long)]
        branch: Option<String>,
    },
    /// Renew a loan.
    Renew {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The item's barcode.
        #[arg(long)]
        item: String,
    },
    /// Place a hold on a record for a patron.
    Hold {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The record's bib id.
        #[arg(long)]
        bib: u64,
        /// The patron's card number.
        #[arg(long)]
        patron: String,
        /// The branch where the patron picks it up.
        #[arg(long)]
        pickup: String,
    },
    /// Cancel a hold.
    HoldCancel {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The hold's id.
        #[arg(long)]
        id: u64,
    },
    /// The daily work the server does by itself: expire holds past their ready-until date,
    /// write overdue notices.
    Daily {
        /// The library.
        #[arg(long)]
        tenant: String,
    },
    /// List the notices waiting in the outbox (hold ready, overdue), or send them with
    /// --send through the SMTP relay of SHIORI_SMTP_URL (as the server does every minute
    /// when it is set). Notices to patrons without an e-mail address stay for the staff.
    Notices {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// E-mail them now.
        #[arg(long)]
        send: bool,
        /// The sender, e.g. "栞市立図書館 <noreply@lib.example.jp>" (needed with --send).
        #[arg(long, env = "SHIORI_MAIL_FROM")]
        mail_from: Option<String>,
        /// The OPAC's public base URL, for the link to マイページ in the e-mails.
        #[arg(long, env = "SHIORI_BASE_URL")]
        base_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account and print its one-time credentials (shown once).
    Create {
        /// The library.
        #[arg(long)]
        tenant: String,
        /// The login name (3 to 32 of a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        username: String,
        /// tenant_admin, cataloguer, circulation or read_only.
        #[arg(long)]
        role: catalogue::Role,
        /// The person's name as shown [default: the username].
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check an audit log's hash chain line by line. Exit status 1 if any line was changed,
    /// removed, inserted or reordered; prints the head (seq:hash) to keep elsewhere.
    Verify {
        /// The library whose log to check.
        #[arg(long, required_unless_present = "system", conflicts_with = "system")]
        tenant: Option<String>,
        /// Check the deployment's own log (operators' actions) instead.
        #[arg(long)]
        system: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// ISO 2709, UTF-8.
    Marc,
    /// MARCXML (MARC 21 slim).
    Marcxml,
    /// MarcEdit's mnemonic form (.mrk), UTF-8.
    Mrk,
    /// MARC-in-JSON (one array, a record per line; pymarc's JSONReader reads it).
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_flag = cli.data.clone();
    let cli = Cli { data: Some(cli.data.unwrap_or_else(|| PathBuf::from(search_api::config::DEFAULT_DATA))), ..cli };
    let data = cli.data.clone().unwrap_or_default();
    let result = match cli.command {
        Command::Serve {
            listen,
            config,
            log_format,
            base_url,
            demo,
            tls_cert,
            tls_key,
            tls_self_signed,
            backup_hour,
            max_import_bytes,
            mail_from,
        } => {
            let overrides = search_api::Overrides {
                data: data_flag,
                listen,
                log_format,
                base_url,
                tls_cert,
                tls_key,
                tls_self_signed: tls_self_signed.then_some(true),
                backup_hour,
                max_import_bytes,
                smtp_url: std::env::var("SHIORI_SMTP_URL").ok(),
                mail_from,
            };
            commands::serve(config.as_deref(), overrides, demo)
        }
        Command::Analyze { text, user_dict, compact } => commands::analyze(text, user_dict, compact),
        Command::Tenant { command: TenantCommand::Create { code, name } } => {
            commands::tenant_create(&data, &code, &name)
        }
        Command::Tenant { command: TenantCommand::List } => commands::tenant_list(&data),
        Command::Tenant { command: TenantCommand::Delete { code, yes } } => commands::tenant_delete(&data, &code, yes),
        Command::Admin { command: AdminCommand::Bootstrap { username } } => commands::admin_bootstrap(&data, &username),
        Command::Staff { command: StaffCommand::Create { tenant, username, role, name } } => {
            commands::staff_create(&data, &tenant, &username, role, name.as_deref())
        }
        Command::Audit { command: AuditCommand::Verify { tenant, system } } => {
            commands::audit_verify(&data, if system { None } else { tenant.as_deref() })
        }
        Command::Import { tenant, files } => commands::import(&data, &tenant, &files),
        Command::Reindex { tenant } => commands::reindex(&data, &tenant),
        Command::Circ { command } => {
            let (tenant, op) = match command {
                CircCommand::Checkout { tenant, item, patron } => (tenant, commands::Circ::Checkout { item, patron }),
                CircCommand::Checkin { tenant, item, branch } => (tenant, commands::Circ::Checkin { item, branch }),
                CircCommand::Renew { tenant, item } => (tenant, commands::Circ::Renew { item }),
                CircCommand::Hold { tenant, bib, patron, pickup } => {
                    (tenant, commands::Circ::Hold { bib, patron, pickup })
                }
                CircCommand::HoldCancel { tenant, id } => (tenant, commands::Circ::HoldCancel { id }),
                CircCommand::Daily { tenant } => (tenant, commands::Circ::Daily),
                CircCommand::Notices { tenant, send, mail_from, base_url } => {
                    let mailer = match (send, std::env::var("SHIORI_SMTP_URL").ok(), mail_from) {
                        (false, _, _) => None,
                        (true, Some(url), Some(from)) => {
                            match search_api::mailer::Mailer::new(&search_api::mailer::SmtpUrl(url), &from) {
                                Ok(mailer) => Some(Box::new(mailer)),
                                Err(err) => {
                                    eprintln!("shiori: {err:#}");
                                    return ExitCode::FAILURE;
                                }
                            }
                        }
                        (true, None, _) => {
                            eprintln!("shiori: --send needs the relay in SHIORI_SMTP_URL, e.g. smtp://relay:25");
                            return ExitCode::FAILURE;
                        }
                        (true, Some(_), None) => {
                            eprintln!("shiori: --send needs the sender: --mail-from or SHIORI_MAIL_FROM");
                            return ExitCode::FAILURE;
                        }
                    };
                    (tenant, commands::Circ::Notices { mailer, base_url })
                }
            };
            commands::circ(&data, &tenant, op)
        }
        Command::Backup { command: Some(BackupCommand::List { tenant }), .. } => commands::backup_list(&data, &tenant),
        Command::Backup { tenant, command: None } => commands::backup(&data, tenant.as_deref()),
        Command::Restore { tenant, generation, yes } => commands::restore(&data, &tenant, generation.as_deref(), yes),
        Command::Search { tenant, query, exact, prefix, sort, limit, json } => {
            let mode = if exact {
                indexer::MatchMode::ExactTitle
            } else if prefix {
                indexer::MatchMode::TitlePrefix
            } else {
                indexer::MatchMode::Keywords
            };
            let sort = match sort {
                SortArg::Relevance => indexer::Sort::Relevance,
                SortArg::Newest => indexer::Sort::YearDesc,
                SortArg::Oldest => indexer::Sort::YearAsc,
                SortArg::Title => indexer::Sort::TitleReading,
            };
            let mut request = indexer::SearchRequest::new(query);
            request.mode = mode;
            request.sort = sort;
            request.limit = limit;
            commands::search(&data, &tenant, &request, json)
        }
        Command::Export { tenant, format, out } => {
            let format = match format {
                Format::Marc => catalogue::ExportFormat::Marc,
                Format::Marcxml => catalogue::ExportFormat::MarcXml,
                Format::Mrk => catalogue::ExportFormat::Mnemonic,
                Format::Json => catalogue::ExportFormat::Json,
            };
            commands::export(&data, &tenant, format, out.as_deref())
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("shiori: {err:#}");
            ExitCode::FAILURE
        }
    }
}
