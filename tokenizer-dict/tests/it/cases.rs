//! The analysis table: real titles and names from ../shared/fixtures (JAPAN/MARC, the LC
//! Japanese subset, Aozora Bunko, opaceval) and the pitfalls of NOTES-japanese.md.
//! One row, one expectation; a failing row names its input.

use tokenizer_dict::{Analysis, JapaneseAnalyzer, normalize};

/// What a row expects of its input.
enum Expect {
    /// Normalises to exactly this text.
    Normalized(&'static str),
    /// Normalises to the same text as another spelling.
    SameAs(&'static str),
    /// Has a morpheme (normalised) with this hiragana reading ("" = any reading).
    Morpheme(&'static str, &'static str),
    /// Has this morpheme as a part of a compound.
    CompoundPart(&'static str),
    /// The whole text reads (hiragana) exactly so.
    Reading(&'static str),
    /// The whole text romanises to these Hepburn and wāpuro forms (spaces between words).
    Romaji(&'static str, &'static str),
    /// Has this bigram.
    Bigram(&'static str),
    /// Has this unigram.
    Unigram(&'static str),
    /// Has no unigram at all (every run of kana and kanji is longer than one character).
    NoUnigram,
    /// The exact key of the whole text.
    ExactKey(&'static str),
}

use Expect::*;

/// Source tags: JM = JAPAN/MARC (NDL), LC = LC Japanese subset, AO = Aozora Bunko,
/// OE = opaceval queries, NJ = NOTES-japanese.md pitfalls.
const CASES: &[(&str, &str, Expect)] = &[
    // Variant kanji and old forms (LC, Aozora).
    ("LC", "新渡戶稲造", SameAs("新渡戸稲造")),
    ("AO", "芥川龍之介", SameAs("芥川竜之介")),
    ("LC", "產業", SameAs("産業")),
    ("LC", "別卷", SameAs("別巻")),
    ("NJ", "渡邊", SameAs("渡辺")),
    ("NJ", "渡邉", SameAs("渡辺")),
    ("NJ", "髙橋", SameAs("高橋")),
    ("NJ", "齋藤", SameAs("斎藤")),
    ("NJ", "濱田", SameAs("浜田")),
    ("NJ", "澤", SameAs("沢")),
    ("AO", "學問のすゝめ", SameAs("学問のすすめ")),
    ("AO", "森鷗外", SameAs("森鴎外")),
    ("AO", "銀河鐵道の夜", SameAs("銀河鉄道の夜")),
    ("NJ", "國語", Normalized("国語")),
    ("NJ", "學校圖書館", Normalized("学校図書館")),
    ("NJ", "眞實", Normalized("真実")),
    ("NJ", "櫻", Normalized("桜")),
    ("NJ", "惠", Normalized("恵")),
    ("NJ", "縣", Normalized("県")),
    ("NJ", "體", Normalized("体")),
    ("NJ", "藝術", Normalized("芸術")),
    ("NJ", "舊字體", Normalized("旧字体")),
    // Chinese simplified forms are not Japanese and are left alone.
    ("NJ", "图书馆", Normalized("图书馆")),
    // Iteration marks; 々 stays (時々 is a word).
    ("AO", "こゝろ", SameAs("こころ")),
    ("OE", "こころ", ExactKey("こころ")),
    ("NJ", "いすゞ", Normalized("いすず")),
    ("NJ", "ほゞ", Normalized("ほぼ")),
    ("NJ", "時々", Normalized("時々")),
    ("NJ", "バナヽ", Normalized("バナナ")),
    // Width, case and diacritics.
    ("NJ", "ＩＴパスポート２０２４", Normalized("itパスポート2024")),
    ("NJ", "ｼｽﾃﾑ", SameAs("システム")),
    ("NJ", "ｶﾞｲﾄﾞﾌﾞｯｸ", Normalized("ガイドブック")),
    ("NJ", "か\u{309B}いと\u{309B}", Normalized("がいど")),
    ("NJ", "Tōkyō", Normalized("tokyo")),
    ("LC", "Nihon kindai bungaku taikei / Ōtsuka", Normalized("nihon kindai bungaku taikei / otsuka")),
    ("NJ", "Müller Éducation", Normalized("muller education")),
    ("NJ", "源氏\u{3000}物語", Normalized("源氏 物語")),
    // Long-vowel marks and wave dashes.
    ("OE", "算数脳パズル空間なぞぺ～", Normalized("算数脳パズル空間なぞぺー")),
    ("OE", "なぞぺ〜", SameAs("なぞぺー")),
    ("NJ", "コンピュータ―", SameAs("コンピューター")),
    ("NJ", "ラ－メン", SameAs("ラーメン")),
    ("NJ", "1〜3巻", Normalized("1~3巻")),
    ("NJ", "ｺｰﾋｰ", Normalized("コーヒー")),
    // Middle dots and ヴ.
    ("NJ", "ハリー・ポッター", SameAs("ハリーポッター")),
    ("JM", "電子図書館・電子書籍貸出サービス調査報告", Normalized("電子図書館電子書籍貸出サービス調査報告")),
    ("NJ", "A・B", Normalized("a b")),
    ("NJ", "ヴァイオリン", SameAs("バイオリン")),
    ("NJ", "ヴェネツィア", SameAs("ベネツィア")),
    // Morphemes and readings (JAPAN/MARC, Aozora, opaceval titles).
    ("NJ", "東京都立図書館の歴史", Morpheme("図書館", "としょかん")),
    ("NJ", "東京都立図書館の歴史", Morpheme("東京", "とうきょう")),
    ("NJ", "東京都立図書館の歴史", Morpheme("都立", "とりつ")),
    ("NJ", "情報検索の基礎", Morpheme("検索", "けんさく")),
    ("NJ", "ＩＴパスポート試験対策２０２４", Morpheme("it", "")),
    ("NJ", "ＩＴパスポート試験対策２０２４", Morpheme("パスポート", "ぱすぽーと")),
    ("NJ", "ＩＴパスポート試験対策２０２４", Morpheme("2024", "")),
    ("AO", "吾輩は猫である", Morpheme("吾輩", "わがはい")),
    ("AO", "吾輩は猫である", Morpheme("猫", "ねこ")),
    ("AO", "銀河鉄道の夜", Morpheme("鉄道", "てつどう")),
    ("AO", "檸檬", Bigram("檸檬")),
    ("AO", "武蔵野", Reading("むさしの")),
    ("AO", "走れメロス", Reading("はしれめろす")),
    ("AO", "夏目漱石", Reading("なつめそうせき")),
    ("AO", "芥川龍之介", Morpheme("芥川", "あくたがわ")),
    ("AO", "宮沢賢治", Reading("みやざわけんじ")),
    ("JM", "電子書籍の制作と販売", Reading("でんししょせきのせいさくとはんばい")),
    ("JM", "学校図書館における電子書籍利用モデルの構築報告書", Morpheme("構築", "こうちく")),
    ("JM", "脳を創る読書", Morpheme("読書", "どくしょ")),
    ("JM", "ウェブ小説の衝撃", Morpheme("衝撃", "しょうげき")),
    ("JM", "ネッター解剖学アトラス", Morpheme("アトラス", "あとらす")),
    ("OE", "思考の整理学", Morpheme("思考", "しこう")),
    ("OE", "唐代の国際関係", Morpheme("国際", "こくさい")),
    ("OE", "後悔しない死の迎え方", Morpheme("後悔", "こうかい")),
    ("OE", "村上ラヂオ", Morpheme("村上", "むらかみ")),
    ("NJ", "トショカン", Reading("としょかん")),
    ("NJ", "図書館", Reading("としょかん")),
    ("NJ", "ユビキタスコンピューティング", Morpheme("ユビキタスコンピューティング", "ゆびきたすこんぴゅーてぃんぐ")),
    // Compounds also emit their parts.
    ("NJ", "関西国際空港", CompoundPart("空港")),
    ("NJ", "関西国際空港", CompoundPart("関西")),
    ("NJ", "関西国際空港", CompoundPart("国際")),
    ("AO", "源氏物語", CompoundPart("物語")),
    ("NJ", "ハリー・ポッター", CompoundPart("ハリー")),
    ("NJ", "ハリー・ポッター", CompoundPart("ポッター")),
    // Romaji: Hepburn without macrons, and wāpuro.
    ("NJ", "トウキョウ", Romaji("tokyo", "toukyou")),
    ("NJ", "東京", Romaji("tokyo", "toukyou")),
    ("NJ", "京都", Romaji("kyoto", "kyouto")),
    ("NJ", "大阪", Romaji("osaka", "oosaka")),
    ("NJ", "北海道", Romaji("hokkaido", "hokkaidou")),
    ("JM", "学校", Romaji("gakko", "gakkou")),
    ("AO", "夏目漱石", Romaji("natsume soseki", "natsume souseki")),
    ("LC", "新渡戶稲造", Romaji("nitobe inazo", "nitobe inazou")),
    ("NJ", "東京都立図書館の歴史", Romaji("tokyo toritsu toshokan no rekishi", "toukyou toritsu toshokan no rekishi")),
    ("AO", "吾輩は猫である", Romaji("wagahai wa neko de aru", "wagahai ha neko de aru")),
    (
        "JM",
        "これからの本の話をしよう",
        Romaji("korekara no hon no hanashi o shiyo", "korekara no hon no hanashi wo shiyou"),
    ),
    ("NJ", "チーズ", Romaji("chizu", "chiizu")),
    ("JM", "電子書籍", Romaji("denshi shoseki", "denshi shoseki")),
    (
        "JM",
        "やってみよう!スポーツボランティアハンドブック",
        Romaji("yatte miyo supotsu borantia handobukku", "yatte miyou supootsu borantia handobukku"),
    ),
    ("JM", "本と暮らせば", Romaji("hon to kuraseba", "hon to kuraseba")),
    ("LC", "日本近代文学大系", Morpheme("日本", "にほん")),
    ("LC", "Kanʼyaku Shin'ichi Philosopher’s", Normalized("kanyaku shinichi philosophers")),
    ("LC", "調查報告", SameAs("調査報告")),
    // Bigrams and unigrams.
    ("NJ", "図書館", Bigram("書館")),
    ("NJ", "城", Unigram("城")),
    ("OE", "i", Morpheme("i", "")),
    ("OE", "it", Morpheme("it", "")),
    ("OE", "1984", Morpheme("1984", "")),
    ("AO", "吾輩は猫である", Unigram("猫")),
    ("OE", "少年と犬", Unigram("犬")),
    ("OE", "骨を彩る", Unigram("骨")),
    ("OE", "陰陽師 鉄輪", Bigram("鉄輪")),
    ("OE", "人生を変えるメンターと出会う法", Bigram("出会")),
    ("OE", "ぐりとぐら", Bigram("ぐら")),
    ("NJ", "情報検索", NoUnigram),
    // LC spaces the words of vernacular titles; the bigram across the space is kept.
    ("LC", "仮屋坂 遺跡 発掘 調查 概報", Bigram("坂遺")),
    ("LC", "痘疹 活幼 心法", Bigram("疹活")),
    ("LC", "日本 の 歴史", Bigram("の歴")),
    ("NJ", "城 下町", Unigram("城")),
    ("NJ", "図書館情報学", Unigram("学")),
    // Whole-text keys for 完全一致 / 前方一致.
    ("OE", "チーズはどこへ消えた？", ExactKey("チーズはどこへ消えた")),
    ("OE", "チーズはどこへ消えた?   ", ExactKey("チーズはどこへ消えた")),
    ("OE", "広辞苑　第七版", ExactKey("広辞苑第7版")),
    ("OE", "広辞苑 第七版", SameAs("広辞苑 第7版")),
    ("NJ", "七夕", Normalized("七夕")),
    ("OE", "夜9時からの、癒しのスープ ", ExactKey("夜9時からの癒しのスープ")),
    ("NJ", "Harry Potter and the Philosopher's Stone", ExactKey("harrypotterandthephilosophersstone")),
    // The parts of a word joined by an apostrophe are words too (HTTP load bench: `lover`
    // and `affaire` found nothing in "A lover's question", "L'affaire de Louvain").
    ("LC", "A lover's question", Morpheme("lover", "")),
    ("LC", "A lover's question", Morpheme("lovers", "")),
    ("LC", "L'affaire de Louvain", Morpheme("affaire", "")),
];

fn fail(source: &str, input: &str, what: String, analysis: &Analysis) -> String {
    let words: Vec<String> = analysis
        .morphemes
        .iter()
        .map(|m| format!("{}/{}", m.normalized, m.reading.as_deref().unwrap_or("-")))
        .collect();
    format!(
        "[{source}] {input:?}: {what}\n  normalized {:?}\n  morphemes {words:?}\n  reading {:?} romaji {:?}",
        analysis.normalized, analysis.reading, analysis.romaji
    )
}

#[test]
fn analysis_table() -> Result<(), Box<dyn std::error::Error>> {
    assert!(CASES.len() >= 80, "the table keeps at least 80 cases");
    let analyzer = JapaneseAnalyzer::new()?;
    let mut failures = Vec::new();
    for (source, input, expect) in CASES {
        let analysis = analyzer.analyze(input)?;
        let problem = match expect {
            Normalized(expected) => (analysis.normalized != *expected)
                .then(|| format!("normalizes to {:?}, expected {expected:?}", analysis.normalized)),
            SameAs(other) => {
                let other_norm = normalize(other);
                (analysis.normalized != other_norm.as_str())
                    .then(|| format!("normalizes unlike {other:?} ({:?})", other_norm.as_str()))
            }
            Morpheme(word, reading) => {
                let found = analysis
                    .morphemes
                    .iter()
                    .any(|m| m.normalized == *word && (reading.is_empty() || m.reading.as_deref() == Some(*reading)));
                (!found).then(|| format!("no morpheme {word:?} read {reading:?}"))
            }
            CompoundPart(word) => {
                let found = analysis.morphemes.iter().any(|m| m.compound_part && m.normalized == *word);
                (!found).then(|| format!("no compound part {word:?}"))
            }
            Reading(expected) => {
                (analysis.reading != *expected).then(|| format!("reads {:?}, expected {expected:?}", analysis.reading))
            }
            Romaji(hepburn, wapuro) => (analysis.romaji.hepburn != *hepburn || analysis.romaji.wapuro != *wapuro)
                .then(|| format!("romaji {:?}, expected {hepburn:?} / {wapuro:?}", analysis.romaji)),
            Bigram(gram) => (!analysis.bigrams.iter().any(|g| g.text == *gram)).then(|| format!("no bigram {gram:?}")),
            Unigram(gram) => {
                (!analysis.unigrams.iter().any(|g| g.text == *gram)).then(|| format!("no unigram {gram:?}"))
            }
            NoUnigram => {
                (!analysis.unigrams.is_empty()).then(|| format!("unexpected unigrams {:?}", analysis.unigrams))
            }
            ExactKey(key) => {
                (analysis.keys.exact != *key).then(|| format!("exact key {:?}, expected {key:?}", analysis.keys.exact))
            }
        };
        if let Some(what) = problem {
            failures.push(fail(source, input, what, &analysis));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    Ok(())
}

#[test]
fn spaced_words_have_the_bigrams_of_the_unspaced_text() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = JapaneseAnalyzer::new()?;
    let texts = |text: &str| -> Result<Vec<String>, tokenizer_dict::Error> {
        let mut grams = analyzer.analyze(text)?.bigrams;
        grams.sort_by_key(|g| g.start);
        Ok(grams.into_iter().map(|g| g.text).collect())
    };
    for (spaced, unspaced) in [
        ("仮屋坂 遺跡 発掘 調查 概報", "仮屋坂遺跡発掘調查概報"),
        ("痘疹　活幼　心法", "痘疹活幼心法"),
        ("日本 の 歴史", "日本の歴史"),
    ] {
        assert_eq!(texts(spaced)?, texts(unspaced)?, "{spaced:?}");
    }
    // Only spaces bridge: punctuation and Latin words end the run (a middle dot is
    // dropped by normalisation, so 東京・大阪 is one run anyway).
    let grams = texts("東京、大阪 / 地図 map 案内")?;
    for absent in ["京大", "阪地", "図案"] {
        assert!(!grams.iter().any(|g| g == absent), "{absent} in {grams:?}");
    }
    Ok(())
}

#[test]
fn offsets_point_into_the_original_text() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = JapaneseAnalyzer::new()?;
    for (_, input, _) in CASES {
        let analysis = analyzer.analyze(input)?;
        for m in &analysis.morphemes {
            assert_eq!(input.get(m.start..m.end), Some(m.surface.as_str()), "{input:?}: {m:?}");
        }
        for g in analysis.bigrams.iter().chain(&analysis.unigrams) {
            assert!(input.get(g.start..g.end).is_some_and(|s| !s.is_empty()), "{input:?}: {g:?}");
        }
    }
    Ok(())
}

#[test]
fn full_width_title_offsets_cover_the_full_width_characters() -> Result<(), Box<dyn std::error::Error>> {
    let input = "ＩＴパスポート２０２４";
    let analysis = JapaneseAnalyzer::new()?.analyze(input)?;
    let surfaces: Vec<&str> = analysis.morphemes.iter().map(|m| m.surface.as_str()).collect();
    assert_eq!(surfaces, ["ＩＴ", "パスポート", "２０２４"]);
    Ok(())
}

#[test]
fn normalisation_is_idempotent_on_the_table() {
    for (_, input, _) in CASES {
        let once = normalize(input);
        assert_eq!(normalize(once.as_str()).as_str(), once.as_str(), "{input:?}");
    }
}
