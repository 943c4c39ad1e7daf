//! What every target checks after an importer has read the input: the result goes through the
//! rest of the pipeline (merge, cube, pricing, report) without a panic or an overflow (fuzz
//! builds have debug assertions on), and, for line-based formats, every non-blank line is
//! accounted for: imported, rejected with a reason, skipped by a rule, or a duplicate.
//!
//! Then the identity rules of `costlens::dataset` ([`identity`]): the same bytes loaded as two
//! files add nothing but the records that have no identity, and two files merge to the same
//! totals in either order.

use costlens::domain::dataset::Dataset;
use costlens::domain::prices::PriceTable;
use costlens::engine::report;
use costlens::engine::scenario::Levers;
use costlens::engine::view::ViewSpec;
use costlens::import::merge::MergeOptions;
use costlens::import::{
    Format, Identity, Options, ParsedFile, detect_format, parse_as, parse_bytes,
};
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
                Ok(parsed) => {
                    check(detect_format(data).unwrap(), data, parsed);
                    identity(
                        |name| parse_bytes(name, data, &Options::default()).unwrap(),
                        ["fuzz.input", "copy/fuzz.input"],
                    );
                }
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
            check(format, rest, parsed);
            identity(
                |name| parse_as(format, name, rest, &Options::default()),
                ["fuzz.json", "copy/fuzz.json"],
            );
            return;
        }
        "console_usage" => Format::ConsoleUsageCsv,
        "console_cost" => Format::ConsoleCostCsv,
        "messages" => Format::MessagesJsonl,
        "batch" => Format::BatchResultsJsonl,
        "claude_code" => Format::ClaudeCodeJsonl,
        _ => unreachable!("unknown target {target}"),
    };
    let names = if format == Format::ClaudeCodeJsonl {
        [
            "/home/u/.claude/projects/-home-u-app/0b0c.jsonl",
            "/home/u/.claude/projects/-home-u-app/0b0d.jsonl",
        ]
    } else {
        ["fuzz.input", "copy/fuzz.input"]
    };
    let opts = Options {
        date: Some(1_763_942_400),
        ..Options::default()
    };
    check(format, data, parse_as(format, names[0], data, &opts));
    identity(|name| parse_as(format, name, data, &opts), names);
}

/// What the identity rules must keep: records, tokens by category, web searches, billed rows
/// and money (summed wide: no overflow).
#[derive(Clone, Debug, PartialEq)]
struct Totals {
    records: usize,
    tokens: [u128; 5],
    web_search: u128,
    billed: usize,
    billed_usd: f64,
}

impl Totals {
    fn of(d: &Dataset) -> Totals {
        let mut t = Totals {
            records: d.records.len(),
            tokens: [0; 5],
            web_search: 0,
            billed: d.billed.len(),
            billed_usd: d.billed.iter().map(|b| b.usd).sum(),
        };
        for r in &d.records {
            t.add(&r.tokens.as_array(), r.web_search);
        }
        t
    }

    fn add(&mut self, tokens: &[u64; 5], web_search: u64) {
        for (s, &v) in self.tokens.iter_mut().zip(tokens) {
            *s += v as u128;
        }
        self.web_search += web_search as u128;
    }

    /// Equal, the money up to the order it was added in.
    fn assert_same(&self, other: &Totals, what: &str) {
        let money = |t: &Totals| Totals {
            billed_usd: 0.0,
            ..t.clone()
        };
        assert_eq!(money(self), money(other), "{what}");
        let (a, b) = (self.billed_usd, other.billed_usd);
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
            "{what}: billed {a} vs {b}"
        );
    }
}

/// Another file of the same kind that shares rows with the one parsed: every third record has
/// half its counts, every third twice as many, and every third the same total split otherwise
/// (its categories rotated: a tie that the order of the files must not decide); every other
/// billed row twice the amount (the later export of a day that was partial, or an earlier one).
fn variant(mut p: ParsedFile) -> ParsedFile {
    for (i, (r, _)) in p.records.iter_mut().enumerate() {
        let scale = |v: u64| match i % 3 {
            0 => v / 2,
            1 => v.saturating_mul(2),
            _ => v,
        };
        let mut t = r.tokens.as_array().map(scale);
        if i % 3 == 2 {
            t.rotate_left(1);
        }
        r.tokens = costlens::domain::records::Tokens::from_array(t);
        r.web_search = scale(r.web_search);
    }
    for (i, b) in p.billed.iter_mut().enumerate() {
        if i % 2 == 0 {
            b.usd *= 2.0;
        }
    }
    p
}

/// The identity rules (`costlens::dataset`), on the file `parse` gives under either of
/// `names` (the same bytes):
/// - loaded twice, as two files, it adds nothing: the second copy of every row, billed row and
///   API response is the same usage. Only records without an identity (`Identity::None`: a log
///   line without a message id) cannot be told apart, and count again, with the costs their
///   lines report;
/// - merged with another file that shares its rows, the totals and the overlap found are the
///   same in either order.
pub fn identity(parse: impl Fn(&str) -> ParsedFile, names: [&str; 2]) {
    let first = parse(names[0]);
    // What a second copy adds: the records without an identity, and their reported costs.
    let mut again = Totals {
        records: 0,
        tokens: [0; 5],
        web_search: 0,
        billed: 0,
        billed_usd: 0.0,
    };
    let mut again_reported = 0.0;
    let no_identity: Vec<bool> = first
        .records
        .iter()
        .map(|(_, id)| *id == Identity::None)
        .collect();
    for (r, _) in first.records.iter().filter(|(_, id)| *id == Identity::None) {
        again.records += 1;
        again.add(&r.tokens.as_array(), r.web_search);
    }
    for &(i, usd) in &first.reported_per_record {
        if no_identity.get(i).copied().unwrap_or(false) {
            again_reported += usd;
        }
    }
    let once = Dataset::merge([first], MergeOptions::default());
    let twice = Dataset::merge([parse(names[0]), parse(names[1])], MergeOptions::default());
    let mut want = Totals::of(&once);
    want.records += again.records;
    for (w, a) in want.tokens.iter_mut().zip(again.tokens) {
        *w += a;
    }
    want.web_search += again.web_search;
    Totals::of(&twice).assert_same(&want, "the same file loaded twice");
    let reported = |d: &Dataset| d.reported.iter().map(|r| r.1).sum::<f64>();
    let (got, want) = (reported(&twice), reported(&once) + again_reported);
    assert!(
        (got - want).abs() <= 1e-9 * got.abs().max(want.abs()).max(1.0),
        "reported costs: {got} vs {want}"
    );
    assert!(twice.double_counts.is_empty(), "{:?}", twice.double_counts);

    // Two files that share rows: the same totals in either order.
    let ab = Dataset::merge(
        [parse(names[0]), variant(parse(names[1]))],
        MergeOptions::default(),
    );
    let ba = Dataset::merge(
        [variant(parse(names[1])), parse(names[0])],
        MergeOptions::default(),
    );
    Totals::of(&ab).assert_same(&Totals::of(&ba), "two files merged in either order");
    let shared = |d: &Dataset| {
        d.overlaps
            .iter()
            .map(|o| (o.days.clone(), o.rows))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shared(&ab),
        shared(&ba),
        "the overlap found in either order"
    );
    // Adding the copies up (`--sum-overlaps`) never gives less.
    let summed = Dataset::merge(
        [parse(names[0]), variant(parse(names[1]))],
        MergeOptions { sum_overlaps: true },
    );
    let (s, m) = (Totals::of(&summed), Totals::of(&ab));
    assert_eq!(s.records, m.records, "summing keeps the same rows");
    for (a, b) in s.tokens.iter().zip(m.tokens) {
        assert!(*a >= b, "summed overlaps give fewer tokens: {s:?} vs {m:?}");
    }
}
