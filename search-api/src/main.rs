//! The `shiori` command line.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Import MARC files (ISO 2709 in UTF-8 or MARC-8, or MARCXML; detected from the
    /// bytes). Re-importing updates records by 003 + 001 instead of duplicating them.
    /// Exit status 0: all imported; 3: some records were rejected (see the rejects files).
    Import {
        /// The tenant to import into.
        #[arg(long)]
        tenant: String,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
        /// A TOML configuration file (keys: data, listen, log_format, base_url); flags and
        /// SHIORI_* environment variables override it.
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
        /// two branches and some loans.
        #[arg(long)]
        demo: bool,
    },
    /// Export a tenant's catalogue as UTF-8 ISO 2709 or MARCXML.
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
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// ISO 2709, UTF-8.
    Marc,
    /// MARCXML (MARC 21 slim).
    Marcxml,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_flag = cli.data.clone();
    let cli = Cli { data: Some(cli.data.unwrap_or_else(|| PathBuf::from(search_api::config::DEFAULT_DATA))), ..cli };
    let data = cli.data.clone().unwrap_or_default();
    let result = match cli.command {
        Command::Serve { listen, config, log_format, base_url, demo } => {
            let overrides = search_api::Overrides { data: data_flag, listen, log_format, base_url };
            commands::serve(config.as_deref(), overrides, demo)
        }
        Command::Analyze { text, user_dict, compact } => commands::analyze(text, user_dict, compact),
        Command::Tenant { command: TenantCommand::Create { code, name } } => {
            commands::tenant_create(&data, &code, &name)
        }
        Command::Tenant { command: TenantCommand::List } => commands::tenant_list(&data),
        Command::Import { tenant, files } => commands::import(&data, &tenant, &files),
        Command::Reindex { tenant } => commands::reindex(&data, &tenant),
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
