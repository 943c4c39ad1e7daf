//! What every target checks after an importer has read the input: the result goes through the
//! rest of the pipeline (merge, cube, pricing, report) without a panic or an overflow (fuzz
//! builds have debug assertions on), and, for line-based formats, every non-blank line is
//! accounted for: imported, rejected with a reason, skipped by a rule, or a duplicate.

use costlens::dataset::Dataset;
use costlens::import::{Format, ParsedFile};
use costlens::prices::PriceTable;
use costlens::aggregate::ViewSpec;
use costlens::report;
use costlens::scenario::Levers;
use costlens::session::Analysis;

pub fn check(format: Format, input: &[u8], parsed: ParsedFile) {
    let s = parsed.summary.clone();
    assert_eq!(s.rejected, parsed.rejected.len() as u64);
    for r in &parsed.rejected {
        assert!(r.line >= 1, "a rejected line has a line number: {r}");
        assert!(!r.reason.is_empty(), "a rejected line says why: {r}");
    }
    let line_based = matches!(
        format,
        Format::MessagesJsonl | Format::BatchResultsJsonl | Format::ClaudeCodeJsonl
    );
    if line_based {
        let lines = input
            .split(|&b| b == b'\n')
            .filter(|l| !l.trim_ascii().is_empty())
            .count() as u64;
        assert_eq!(
            s.rows + s.rejected + s.skipped + s.duplicates,
            lines,
            "every line accounted for: {s:?}"
        );
    }
    let mut data = Dataset::default();
    data.add(parsed);
    let analysis = Analysis::new(data, PriceTable::bundled(), &[0.5, 1.0, 2.0]);
    let view = analysis.view(&ViewSpec::default());
    let neutral = Levers::default().resolve(&analysis.table).expect("neutral levers");
    let ev = view.evaluate(&analysis.table, &neutral);
    // Whatever was imported, neutral levers reproduce the actual cost exactly (NaN never
    // equals itself, so a NaN cost fails here too).
    assert_eq!(ev.scenario, ev.actual);
    assert!(ev.actual.is_finite() && ev.actual >= 0.0, "cost {}", ev.actual);
    let levers = Levers {
        traffic: 3.0,
        prompt_length: 2.0,
        batch_share: 0.5,
        ..Levers::default()
    };
    if let Ok(resolved) = levers.resolve(&analysis.table) {
        let ev = view.evaluate(&analysis.table, &resolved);
        assert!(!ev.scenario.is_nan(), "scenario cost is NaN");
        let _ = report::build(&analysis, &view, &ev, &levers);
    }
}
