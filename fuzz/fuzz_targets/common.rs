//! What every target checks after an importer has read the input: the result goes through the
//! rest of the pipeline (merge, cube, pricing, report) without a panic or an overflow (fuzz
//! builds have debug assertions on), and, for line-based formats, every non-blank line is
//! accounted for: imported, rejected with a reason, skipped by a rule, or a duplicate.

use costlens::domain::dataset::Dataset;
use costlens::domain::prices::PriceTable;
use costlens::engine::report;
use costlens::engine::scenario::Levers;
use costlens::engine::view::ViewSpec;
use costlens::import::{Format, Options, ParsedFile, detect_format, parse_as, parse_bytes};
use costlens::pipeline::load::Analysis;

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
    let data = Dataset::merge([parsed], Default::default());
    let analysis = Analysis::new(data, PriceTable::bundled(), &[0.5, 1.0, 2.0]);
    let view = analysis.view(&ViewSpec::default());
    let neutral = Levers::default()
        .resolve(&analysis.table)
        .expect("neutral levers");
    let ev = view.evaluate(&analysis.table, &neutral);
    // Whatever was imported, neutral levers reproduce the actual cost exactly (NaN never
    // equals itself, so a NaN cost fails here too).
    assert_eq!(ev.scenario, ev.actual);
    assert!(
        ev.actual.is_finite() && ev.actual >= 0.0,
        "cost {}",
        ev.actual
    );
    let levers = Levers {
        traffic: 3.0,
        prompt_length: 2.0,
        batch_share: 0.5,
        ..Levers::default()
    };
    if let Ok(resolved) = levers.resolve(&analysis.table) {
        let ev = view.evaluate(&analysis.table, &resolved);
        assert!(!ev.scenario.is_nan(), "scenario cost is NaN");
        let _ = report::build(&analysis.data, &analysis.table, &view, &ev, &levers);
    }
}

/// What target `target` does with its input (each `fuzz_targets/<target>.rs` calls this, and
/// so does `tests/fuzz_regressions.rs`).
pub fn run(target: &str, data: &[u8]) {
    let format = match target {
        "detect" => {
            match parse_bytes("fuzz.input", data, &Options::default()) {
                Ok(parsed) => check(detect_format(data).unwrap(), data, parsed),
                Err(e) => assert!(e.to_string().contains(&detect_format(data).unwrap_err())),
            }
            return;
        }
        "admin" => {
            let Some((&pick, rest)) = data.split_first() else {
                return;
            };
            let format = if pick & 1 == 0 {
                Format::AdminUsageJson
            } else {
                Format::AdminCostJson
            };
            let parsed = parse_as(format, "fuzz.json", rest, &Options::default());
            return check(format, rest, parsed);
        }
        "console_usage" => Format::ConsoleUsageCsv,
        "console_cost" => Format::ConsoleCostCsv,
        "messages" => Format::MessagesJsonl,
        "batch" => Format::BatchResultsJsonl,
        "claude_code" => Format::ClaudeCodeJsonl,
        _ => unreachable!("unknown target {target}"),
    };
    let name = if format == Format::ClaudeCodeJsonl {
        "/home/u/.claude/projects/-home-u-app/0b0c.jsonl"
    } else {
        "fuzz.input"
    };
    let opts = Options {
        date: Some(1_763_942_400),
        ..Options::default()
    };
    check(format, data, parse_as(format, name, data, &opts));
}
