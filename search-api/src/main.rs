//! The `shiori` command line.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokenizer_dict::JapaneseAnalyzer;

/// Shiori (栞): a library system for Japanese public and school libraries.
#[derive(Parser)]
#[command(name = "shiori", version, about)]
struct Cli {
    /// The data folder (tenants, catalogues, indexes, logs).
    #[arg(long, global = true, default_value = "./shiori-data")]
    data: PathBuf,
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _data = cli.data;
    match cli.command {
        Command::Analyze {
            text,
            user_dict,
            compact,
        } => {
            let text = if text == "-" {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context("reading standard input")?;
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                text
            };
            let analyzer = match user_dict {
                Some(path) => JapaneseAnalyzer::with_user_dictionary(&path)?,
                None => JapaneseAnalyzer::new()?,
            };
            println!("{}", search_api::analysis_json(&analyzer, &text, !compact)?);
        }
    }
    Ok(())
}
