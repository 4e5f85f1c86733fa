//! Throughput of the Japanese analyser (MB/s of title text) on real titles:
//! the Aozora Bunko catalogue and the LC Japanese subset's vernacular titles.
//! Run: `cargo bench -p benches --bench analyzer`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokenizer_dict::{JapaneseAnalyzer, normalize};

fn bench(c: &mut Criterion) {
    let analyzer = match JapaneseAnalyzer::new() {
        Ok(analyzer) => analyzer,
        Err(err) => panic!("dictionary: {err}"),
    };
    let corpora = [("aozora", benches::aozora_titles()), ("lc-jpn", benches::lc_vernacular_titles())];
    c.bench_function("dictionary/load-embedded-ipadic", |b| b.iter(JapaneseAnalyzer::new));
    let mut group = c.benchmark_group("analyzer");
    group.sample_size(10);
    for (name, titles) in corpora {
        let titles = match titles {
            Ok(titles) => titles,
            Err(err) => panic!("{name}: {err:#} (the corpora live in ../shared/fixtures)"),
        };
        let bytes: usize = titles.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("analyze/{name}/{}-titles", titles.len()), |b| {
            b.iter(|| {
                let mut tokens = 0;
                for title in &titles {
                    if let Ok(analysis) = analyzer.analyze(title) {
                        tokens += analysis.morphemes.len() + analysis.bigrams.len();
                    }
                }
                tokens
            })
        });
        group.bench_function(format!("normalize/{name}/{}-titles", titles.len()), |b| {
            b.iter(|| titles.iter().map(|t| normalize(t).as_str().len()).sum::<usize>())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
