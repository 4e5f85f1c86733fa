//! `shiori analyze`: the analysis of a text as JSON.

use serde::Serialize;
use tokenizer_dict::{Analysis, JapaneseAnalyzer};

/// The JSON document `shiori analyze` prints: the input and its analysis.
#[derive(Serialize)]
struct AnalysisDocument<'a> {
    text: &'a str,
    #[serde(flatten)]
    analysis: Analysis,
    readings: Vec<&'a str>,
}

/// Analyses `text` and renders it as JSON: the normalised text, each morpheme (surface,
/// reading, part of speech, byte offsets into `text`), the bigrams and unigrams, the
/// readings, the romaji forms and the whole-text keys.
pub fn analysis_json(analyzer: &JapaneseAnalyzer, text: &str, pretty: bool) -> anyhow::Result<String> {
    let analysis = analyzer.analyze(text)?;
    let mut readings: Vec<String> = Vec::new();
    for morpheme in &analysis.morphemes {
        if let Some(reading) = &morpheme.reading
            && !readings.contains(reading)
        {
            readings.push(reading.clone());
        }
    }
    let document = AnalysisDocument { text, readings: readings.iter().map(String::as_str).collect(), analysis };
    Ok(if pretty { serde_json::to_string_pretty(&document)? } else { serde_json::to_string(&document)? })
}
