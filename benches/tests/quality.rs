//! The known-item quality bar of the search-engine issue: success@10 at least 0.95 over
//! all queries and at least 0.90 for every kind of query, on the full query set of
//! `cargo run --release -p benches --bin quality` (see `benches::quality`).

use benches::quality::{self, Config, Kind, MIN_SUCCESS_AT_10_OVERALL, MIN_SUCCESS_AT_10_PER_KIND};

#[test]
fn known_item_search_clears_the_quality_bar() {
    let report = quality::run(&Config::full()).unwrap();
    eprintln!("{}", quality::table(&report));
    eprintln!("{}", quality::failures(&report, 10));
    for kind in Kind::ALL {
        let metrics = report.kind(kind).unwrap();
        assert!(metrics.queries > 0, "{}: no queries were generated", kind.name());
    }
    assert_eq!(report.kind(Kind::Opaceval).unwrap().queries, 22);
    assert!(
        report.overall.success_at_10 >= MIN_SUCCESS_AT_10_OVERALL,
        "overall success@10 {:.3} < {MIN_SUCCESS_AT_10_OVERALL}",
        report.overall.success_at_10
    );
    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "success@10 below {MIN_SUCCESS_AT_10_PER_KIND} per kind or {MIN_SUCCESS_AT_10_OVERALL} overall: {violations:#?}"
    );
}
