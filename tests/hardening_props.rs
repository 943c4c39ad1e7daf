//! Issue 5, hardening: every importer is fed the sample files mutated at random (truncated at
//! a random byte, bytes flipped, lines duplicated, CSV columns swapped with their header) and
//! must never panic. For line-based formats every non-blank data line is accounted for
//! (imported + rejected + skipped by a rule + merged duplicates), and for the mutations whose
//! outcome is known exactly (line duplication, column swap) the tokens imported equal a sum
//! computed here independently (csv crate / serde_json), not by the importer.

use costlens::domain::dataset::{Dataset, MAX_REJECTED_EXAMPLES};
use costlens::import::{self, Format, Options, ParsedFile, detect_format};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data")
            .join(rel),
    )
    .expect("sample file")
}

const USAGE_CSV: &str = "claude_api_tokens_2026_08-10.csv";
const COST_CSV: &str = "claude_api_cost_2026_08-10.csv";
const ADMIN_USAGE: &str = "admin_usage_report.json";
const ADMIN_COST: &str = "admin_cost_report.json";
const MESSAGES: &str = "messages_log.jsonl";
const BATCH: &str = "batch_results.jsonl";
const CLAUDE_CODE: &str =
    "claude-code/projects/-home-dev-src-webshop/896fff3b-5368-416d-a066-3994f3f45609.jsonl";
const SUBAGENT: &str = "claude-code/projects/-home-dev-src-webshop/896fff3b-5368-416d-a066-3994f3f45609/subagents/agent-e83a6893.jsonl";

/// The CSV samples are cut to their first lines: the properties are about shapes, not volume,
/// and the whole test set must stay fast in debug builds.
fn head_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for l in bytes.split_inclusive(|&b| b == b'\n').take(n) {
        out.extend_from_slice(l);
    }
    out
}

fn opts() -> Options {
    Options {
        date: Some(1_790_000_000),
        ..Options::default()
    }
}

/// Lines as the importers count them: split on `\n`, a trailing `\r` dropped, blank lines
/// (ASCII whitespace only) not counted.
fn non_blank_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect()
}

fn is_jsonl(f: Format) -> bool {
    matches!(
        f,
        Format::MessagesJsonl | Format::BatchResultsJsonl | Format::ClaudeCodeJsonl
    )
}

fn is_csv(f: Format) -> bool {
    matches!(f, Format::ConsoleUsageCsv | Format::ConsoleCostCsv)
}

/// Parses `bytes` (must not panic) and checks the line accounting where it is defined.
fn parse_and_account(name: &str, bytes: &[u8]) -> Option<ParsedFile> {
    let format = detect_format(bytes).ok();
    let parsed = import::parse_bytes(name, bytes, &opts());
    let Ok(p) = parsed else {
        // Detection refused the file: a whole-file error with a reason, never a panic.
        assert!(
            format.is_none(),
            "detected {format:?} yet parse_bytes failed"
        );
        return None;
    };
    let format = format.expect("parse_bytes succeeded, so detection did");
    let s = &p.summary;
    // Every rejected line is counted; the first 100 of a file are kept as examples (a flipped
    // byte in a 120-line CSV's header rejects all 119 rows).
    assert_eq!(s.rejected, p.rejected_total);
    assert_eq!(
        p.rejected.len() as u64,
        p.rejected_total.min(MAX_REJECTED_EXAMPLES as u64)
    );
    for r in &p.rejected {
        assert!(!r.reason.is_empty(), "a rejection without a reason: {r:?}");
        assert!(r.line >= 1, "{r:?}");
    }
    let lines = non_blank_lines(bytes);
    if is_jsonl(format) {
        // Every non-blank line is imported, rejected, skipped by a documented rule (no usage,
        // <synthetic>, API error, not billed) or merged into a repeat of the same response.
        assert_eq!(
            s.rows + s.rejected + s.skipped + s.duplicates,
            lines.len() as u64,
            "{name} ({format:?}): {s:?}"
        );
        let max_line = bytes.split(|&b| b == b'\n').count() as u64;
        assert!(p.rejected.iter().all(|r| r.line <= max_line));
    } else if is_csv(format) {
        let header_rejected =
            s.rows == 0 && p.rejected.len() == 1 && p.rejected[0].line == 1 && p.billed.is_empty();
        // A `"` may open a quoted field spanning lines (one record for several lines), so the
        // one-record-per-line accounting only holds for a file without quotes.
        // A CSV with a CR and no LF at all has lone-CR line ends (Excel for Mac).
        let cr_only: Vec<u8>;
        let lines = if !bytes.contains(&b'\n') && bytes.contains(&b'\r') {
            cr_only = bytes
                .iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect();
            non_blank_lines(&cr_only)
        } else {
            lines
        };
        if !header_rejected && !bytes.contains(&b'"') {
            let rows = s.rows;
            assert_eq!(
                rows + s.rejected,
                lines.len() as u64 - 1,
                "{name} ({format:?}): {s:?} {:?}",
                p.rejected.first()
            );
        }
    }
    Some(p)
}

fn dataset_of(p: ParsedFile) -> Dataset {
    Dataset::merge([p], Default::default())
}

fn dataset_tokens(d: &Dataset) -> [u64; 5] {
    d.records.iter().fold([0; 5], |mut a, r| {
        for (x, y) in a.iter_mut().zip(r.tokens.as_array()) {
            *x += y;
        }
        a
    })
}

// ---------------------------------------------------------------------------------------
// Independent expectations.

/// Console usage CSV, by the csv crate: rows valid by a simple check here (a YYYY-MM-DD or
/// YYYY-MM-DD HH:MM date, a model, whole-number token columns), every row counted, token
/// columns summed by NAME.
fn expected_usage_csv(bytes: &[u8]) -> ([u64; 5], u64) {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes));
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let tok = [
        "usage_input_tokens_no_cache",
        "usage_input_tokens_cache_write_5m",
        "usage_input_tokens_cache_write_1h",
        "usage_input_tokens_cache_read",
        "usage_output_tokens",
    ]
    .map(col);
    // Every row of one file counts (two API keys may share a name): no row is dropped.
    let mut sum = [0u64; 5];
    let mut rows = 0;
    for rec in rd.records() {
        let rec = rec.unwrap();
        if rec.len() < header.len() {
            continue;
        }
        let date = rec[col("usage_date_utc")].trim();
        let date_ok = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
            || chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M").is_ok();
        let toks: Option<Vec<u64>> = tok.iter().map(|&c| rec[c].trim().parse().ok()).collect();
        let (true, Some(toks)) = (
            date_ok && !rec[col("model_version")].trim().is_empty(),
            toks,
        ) else {
            continue;
        };
        rows += 1;
        for (s, t) in sum.iter_mut().zip(toks) {
            *s += t;
        }
    }
    (sum, rows)
}

/// Console cost CSV: the sum of `cost_usd` over every row.
fn expected_cost_csv(bytes: &[u8]) -> (f64, u64) {
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let c = header.iter().position(|h| h == "cost_usd").unwrap();
    // Every row of one file counts: a repeated line is billed money again.
    let (mut usd, mut n) = (0.0, 0);
    for rec in rd.records() {
        let rec = rec.unwrap();
        usd += rec[c].trim().parse::<f64>().unwrap();
        n += 1;
    }
    (usd, n)
}

fn u(v: &Value, p: &str) -> u64 {
    v.pointer(p).and_then(Value::as_u64).unwrap_or(0)
}

/// Token total of a Messages API `usage` object: input + cache writes (the 5m/1h split when
/// given, else `cache_creation_input_tokens`) + cache reads + output.
fn usage_total(usage: &Value) -> u64 {
    let split = u(usage, "/cache_creation/ephemeral_5m_input_tokens")
        + u(usage, "/cache_creation/ephemeral_1h_input_tokens");
    let writes = if split > 0 {
        split
    } else {
        u(usage, "/cache_creation_input_tokens")
    };
    u(usage, "/input_tokens")
        + writes
        + u(usage, "/cache_read_input_tokens")
        + u(usage, "/output_tokens")
}

/// JSONL files, by serde_json: the token total of the lines that are billed usage, repeats of
/// one response (same id) counted once by the rule of formats.md §7 (a main-thread copy over
/// a sidechain copy, else the larger total), lines without an id counted each time.
fn expected_jsonl_total(format: Format, bytes: &[u8]) -> u64 {
    let mut by_id: HashMap<String, (bool, u64)> = HashMap::new();
    let mut anonymous = 0;
    for line in non_blank_lines(bytes) {
        let v: Value = serde_json::from_slice(line).expect("sample lines are valid JSON");
        let (usage, id, sidechain) = match format {
            Format::ClaudeCodeJsonl => {
                let model = v.pointer("/message/model").and_then(Value::as_str);
                if v.get("isApiErrorMessage") == Some(&Value::Bool(true))
                    || model == Some("<synthetic>")
                {
                    continue;
                }
                let id = v
                    .pointer("/message/id")
                    .and_then(Value::as_str)
                    .map(|m| format!("{m}/{}", v["requestId"].as_str().unwrap_or("")));
                (
                    v.pointer("/message/usage"),
                    id,
                    v["isSidechain"] == Value::Bool(true),
                )
            }
            Format::BatchResultsJsonl => {
                if v.pointer("/result/type").and_then(Value::as_str) != Some("succeeded") {
                    continue;
                }
                let id = v
                    .pointer("/result/message/id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| v["custom_id"].as_str().map(|c| format!("{c}/{line:?}")));
                (v.pointer("/result/message/usage"), id, false)
            }
            _ => {
                // A wrapper (`response` / `message`), a full Message (`usage`), or a flat
                // record whose token fields sit at the top level next to `id`.
                let m = ["/response", "/message", ""]
                    .iter()
                    .find_map(|p| v.pointer(p).filter(|m| m.get("usage").is_some()));
                let (m, usage) = match m {
                    Some(m) => (m, m.get("usage")),
                    None if v.get("output_tokens").is_some() => (&v, Some(&v)),
                    None => continue,
                };
                (
                    usage,
                    m.get("id").and_then(Value::as_str).map(str::to_owned),
                    false,
                )
            }
        };
        let Some(usage) = usage.filter(|x| x.is_object()) else {
            continue;
        };
        let total = usage_total(usage);
        match id.filter(|i| !i.is_empty()) {
            None => anonymous += total,
            Some(id) => {
                let e = by_id.entry(id).or_insert((sidechain, total));
                let better = if e.0 != sidechain {
                    !sidechain
                } else {
                    total > e.1
                };
                if better {
                    *e = (sidechain, total);
                }
            }
        }
    }
    anonymous + by_id.values().map(|v| v.1).sum::<u64>()
}

// ---------------------------------------------------------------------------------------
// Mutations.

fn truncate(bytes: &[u8], at: usize) -> Vec<u8> {
    bytes[..at % (bytes.len() + 1)].to_vec()
}

fn flip(bytes: &[u8], flips: &[(usize, u8)]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if !b.is_empty() {
        for &(i, x) in flips {
            let i = i % b.len();
            b[i] ^= x.max(1);
        }
    }
    b
}

/// Inserts a copy of some lines right after them (from line `from` on: 1 keeps a CSV header
/// unique). Always ends the file with a line break first, so no two lines get glued.
fn duplicate_lines(bytes: &[u8], picks: &[usize], from: usize) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|l| {
            let mut l = l.to_vec();
            if l.last() != Some(&b'\n') {
                l.push(b'\n');
            }
            l
        })
        .collect();
    let n = lines.len();
    if n <= from {
        return bytes.to_vec();
    }
    let mut picked: Vec<usize> = picks.iter().map(|p| from + p % (n - from)).collect();
    picked.sort_unstable();
    picked.dedup();
    for &i in picked.iter().rev() {
        let copy = lines[i].clone();
        lines.insert(i + 1, copy);
    }
    lines.concat()
}

/// Applies the same column permutation to every record (the header included), with the csv
/// crate, so quoting stays valid.
fn permute_columns(bytes: &[u8], seed: u64) -> Vec<u8> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let width = recs[0].len();
    let mut perm: Vec<usize> = (0..width).collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    rng.shuffle(&mut perm);
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in &recs {
        w.write_record(perm.iter().map(|&i| r.get(i).unwrap_or("")))
            .unwrap();
    }
    w.into_inner().unwrap()
}

fn cases() -> u32 {
    std::env::var("HARDENING_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

struct Samples {
    all: Vec<(&'static str, Vec<u8>)>,
}

fn samples() -> &'static Samples {
    static S: std::sync::OnceLock<Samples> = std::sync::OnceLock::new();
    S.get_or_init(|| Samples {
        all: vec![
            (USAGE_CSV, head_lines(&sample(USAGE_CSV), 120)),
            (COST_CSV, head_lines(&sample(COST_CSV), 120)),
            (ADMIN_USAGE, sample(ADMIN_USAGE)),
            (ADMIN_COST, sample(ADMIN_COST)),
            (MESSAGES, sample(MESSAGES)),
            (BATCH, sample(BATCH)),
            (CLAUDE_CODE, sample(CLAUDE_CODE)),
            (SUBAGENT, sample(SUBAGENT)),
        ],
    })
}

/// Found by `bytes_flipped`: one changed byte in the cost export's header line rejects all
/// 119 of its rows; every one is counted, and the first 100 are kept as examples.
#[test]
fn more_rejected_lines_than_examples_are_all_counted() {
    let (name, bytes) = &samples().all[1];
    let p = parse_and_account(name, &flip(bytes, &[(10_996_404_949_286_231_604, 0)]))
        .expect("still parses");
    assert_eq!(p.rejected_total, 119);
    assert_eq!(p.summary.rejected, 119);
    assert_eq!(p.rejected.len(), MAX_REJECTED_EXAMPLES);
}

/// The untouched samples: the independent sums agree with the importers (this is what makes
/// them trustworthy as expectations for the mutated files).
#[test]
fn independent_sums_match_the_unmutated_samples() {
    for (name, bytes) in &samples().all {
        let p = parse_and_account(name, bytes).expect("sample parses");
        assert!(p.rejected.is_empty(), "{name}: {:?}", p.rejected);
        let format = detect_format(bytes).unwrap();
        let d = dataset_of(p);
        match format {
            Format::ConsoleUsageCsv => {
                let (sum, rows) = expected_usage_csv(bytes);
                assert!(rows > 50);
                assert_eq!(dataset_tokens(&d), sum, "{name}");
                assert_eq!(d.records.len() as u64, rows);
            }
            Format::ConsoleCostCsv => {
                let (usd, n) = expected_cost_csv(bytes);
                let got: f64 = d.billed.iter().map(|b| b.usd).sum();
                assert!((got - usd).abs() < 1e-6, "{got} vs {usd}");
                assert_eq!(d.billed.len() as u64, n);
            }
            f if is_jsonl(f) => {
                let got: u64 = d.records.iter().map(|r| r.tokens.total()).sum();
                assert_eq!(got, expected_jsonl_total(f, bytes), "{name}");
                assert!(got > 0);
            }
            _ => assert!(!d.is_empty(), "{name}"),
        }
    }
}

proptest! {
    // 64 cases keep the suite fast; HARDENING_CASES=5000 searches harder.
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Cut at any byte: no panic, every line accounted for. A JSONL line cut in the middle is
    /// rejected (never imported with a partial count that would lose tokens silently).
    #[test]
    fn truncated_anywhere(which in 0usize..8, at in any::<usize>()) {
        let (name, bytes) = &samples().all[which];
        let cut = truncate(bytes, at);
        if let Some(p) = parse_and_account(name, &cut)
            && let Ok(f) = detect_format(&cut)
            && is_jsonl(f)
            && !cut.ends_with(b"\n")
        {
            // The last (partial) line is either a complete JSON value, or rejected/skipped;
            // the complete lines before it import exactly as in the whole file.
            let whole_lines = cut.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let prefix = parse_and_account(name, &cut[..whole_lines]);
            let prefix_rows = prefix.map_or(0, |q| q.summary.rows + q.summary.duplicates);
            prop_assert!(p.summary.rows + p.summary.duplicates <= prefix_rows + 1);
        }
    }

    /// Random bytes flipped (up to 8): no panic, every line accounted for.
    #[test]
    fn bytes_flipped(which in 0usize..8, flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let (name, bytes) = &samples().all[which];
        parse_and_account(name, &flip(bytes, &flips));
    }

    /// Lines repeated: every line is accounted for — a CSV row repeated in one file counts
    /// each time (two API keys may share a name); a JSONL response logged twice counts once (a
    /// line without an id counts each time); an Admin page repeated counts once (its rows are
    /// keyed by IDs): all as computed independently.
    #[test]
    fn lines_duplicated(which in 0usize..8, picks in prop::collection::vec(any::<usize>(), 1..6)) {
        let (name, bytes) = &samples().all[which];
        let format = detect_format(bytes).unwrap();
        let dup = duplicate_lines(bytes, &picks, usize::from(is_csv(format)));
        let p = parse_and_account(name, &dup).expect("still parses");
        prop_assert!(p.rejected.is_empty() || !is_jsonl(format) && !is_csv(format));
        let d = dataset_of(p);
        let f = &d.files[0];
        match format {
            Format::ConsoleUsageCsv => {
                let (sum, rows) = expected_usage_csv(&dup);
                prop_assert_eq!(dataset_tokens(&d), sum);
                prop_assert_eq!(f.rows, rows);
                prop_assert_eq!(f.rows + f.duplicates, non_blank_lines(&dup).len() as u64 - 1);
            }
            Format::ConsoleCostCsv => {
                let (usd, n) = expected_cost_csv(&dup);
                let got: f64 = d.billed.iter().map(|b| b.usd).sum();
                prop_assert!((got - usd).abs() < 1e-6);
                prop_assert_eq!(f.rows, n);
            }
            fmt if is_jsonl(fmt) => {
                let got: u64 = d.records.iter().map(|r| r.tokens.total()).sum();
                prop_assert_eq!(got, expected_jsonl_total(fmt, &dup));
                prop_assert_eq!(
                    f.rows + f.rejected + f.skipped + f.duplicates,
                    non_blank_lines(&dup).len() as u64
                );
            }
            // Admin reports: a repeated page line (the usage sample has one page per line) is
            // the same buckets again, counted once; in the pretty-printed cost sample a
            // repeated line is a syntax error or a repeated key. Either the figures are
            // exactly the original ones, or something is reported as rejected.
            _ => {
                let orig = dataset_of(import::parse_bytes(name, bytes, &opts()).unwrap());
                if d.rejected.is_empty() {
                    prop_assert_eq!(dataset_tokens(&d), dataset_tokens(&orig));
                    let usd = |x: &Dataset| x.billed.iter().map(|b| b.usd).sum::<f64>();
                    prop_assert!((usd(&d) - usd(&orig)).abs() < 1e-9);
                } else {
                    prop_assert!(d.rejected.iter().all(|r| !r.reason.is_empty()));
                }
            }
        }
    }

    /// CSV columns in another order (header and rows alike): importers read by header NAME,
    /// so every figure is unchanged.
    #[test]
    fn csv_columns_swapped(which in 0usize..2, seed in any::<u64>()) {
        let (name, bytes) = &samples().all[which];
        let swapped = permute_columns(bytes, seed);
        let p = parse_and_account(name, &swapped).expect("detection does not depend on order");
        prop_assert!(p.rejected.is_empty(), "{:?}", p.rejected.first());
        let d = dataset_of(p);
        if which == 0 {
            let (sum, rows) = expected_usage_csv(bytes);
            prop_assert_eq!(expected_usage_csv(&swapped), (sum, rows));
            prop_assert_eq!(dataset_tokens(&d), sum);
            prop_assert_eq!(d.records.len() as u64, rows);
        } else {
            let (usd, n) = expected_cost_csv(bytes);
            let got: f64 = d.billed.iter().map(|b| b.usd).sum();
            prop_assert!((got - usd).abs() < 1e-6, "{} vs {}", got, usd);
            prop_assert_eq!(d.billed.len() as u64, n);
        }
    }

    /// Arbitrary bytes under any detected format: no panic.
    #[test]
    fn random_bytes(prefix in 0usize..8, noise in prop::collection::vec(any::<u8>(), 0..400)) {
        // Start from a real header / first line so the bytes reach the importers' parsers.
        let (name, bytes) = &samples().all[prefix];
        let mut b = head_lines(bytes, 1);
        b.extend_from_slice(&noise);
        parse_and_account(name, &b);
    }
}

/// Files big enough to be cut into pieces parsed in parallel (a CSV body over 2 MiB, a JSONL
/// file over 8 MiB, both read from disk): bad lines at known places, including right at the
/// piece boundaries, are rejected with their exact line numbers, and no figure of the good
/// lines is lost or counted twice.
#[test]
fn big_files_cut_in_pieces_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(42);

    // Messages log, ~18 MB: three chunks of 8 MiB.
    let pad = "p".repeat(150);
    let mut text = String::new();
    let mut bad = Vec::new();
    let (mut want_rows, mut want_tokens) = (0u64, 0u64);
    let mut line = 0u64;
    while text.len() < 18 << 20 {
        line += 1;
        // Bad lines near every 8 MiB boundary and a few at random.
        let near_cut = (text.len() as u64 % (8 << 20)) > (8 << 20) - 400;
        if near_cut || rng.u32(0..20_000) == 0 {
            text.push_str("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"id\":\"broken\n");
            bad.push(line);
            continue;
        }
        let (i, o) = (rng.u64(0..100_000), rng.u64(0..10_000));
        text.push_str(&format!(
            "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"id\":\"msg_{line}\",\"model\":\"claude-sonnet-4-5\",\"input_tokens\":{i},\"output_tokens\":{o},\"pad\":\"{pad}\"}}\n"
        ));
        want_rows += 1;
        want_tokens += i + o;
    }
    assert!(bad.len() >= 3);
    let f = dir.path().join("big.jsonl");
    std::fs::write(&f, &text).unwrap();
    let from_file = import::parse_path(&f, &opts(), &import::Control::default()).unwrap();
    let from_bytes = import::parse_bytes("big.jsonl", text.as_bytes(), &opts()).unwrap();
    for p in [&from_file, &from_bytes] {
        assert_eq!(p.summary.rows, want_rows);
        let got: u64 = p.records.iter().map(|(r, _)| r.tokens.total()).sum();
        assert_eq!(got, want_tokens);
        let lines: Vec<u64> = p.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, bad);
    }

    // Console usage CSV, ~3 MB of body: several pieces.
    let header = "usage_date_utc,model_version,api_key,workspace,usage_type,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count\n";
    let mut csv_text = String::from(header);
    let (mut bad, mut want) = (Vec::new(), [0u64; 5]);
    let mut line = 1u64;
    while csv_text.len() < 3 << 20 {
        line += 1;
        if rng.u32(0..5_000) == 0 || line.is_multiple_of(20_011) {
            csv_text.push_str("2026-01-01,claude-haiku-4-5,k,w,standard,1,2,3,4,-5,0\n");
            bad.push(line);
            continue;
        }
        let t: [u64; 5] = std::array::from_fn(|_| rng.u64(0..1_000_000));
        // Each row its own key name: no two rows share a dimension tuple.
        csv_text.push_str(&format!(
            "2026-01-01,claude-haiku-4-5,key{line},w,standard,{},{},{},{},{},0\n",
            t[0], t[1], t[2], t[3], t[4]
        ));
        for (w, x) in want.iter_mut().zip(t) {
            *w += x;
        }
    }
    let c = dir.path().join("big.csv");
    std::fs::write(&c, &csv_text).unwrap();
    let p = import::parse_path(&c, &opts(), &import::Control::default()).unwrap();
    let lines: Vec<u64> = p.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, bad);
    assert!(
        p.rejected
            .iter()
            .all(|r| r.reason == "usage_output_tokens: negative count -5")
    );
    assert_eq!(dataset_tokens(&dataset_of(p)), want);
}

/// What a load gave, to compare two loads: per-file rows/rejected/duplicates, token sums,
/// billed sum.
fn load_summary(l: &costlens::pipeline::load::Loaded) -> (Vec<(u64, u64, u64)>, [u64; 5], u64) {
    let files = l
        .data
        .files
        .iter()
        .map(|f| (f.rows, f.rejected, f.duplicates))
        .collect();
    let cents = l.data.billed.iter().map(|b| b.usd).sum::<f64>() * 1e6;
    (files, dataset_tokens(&l.data), cents.round() as u64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases() / 4))]

    /// The import cache damaged at random (entries truncated or bytes flipped, as a crash or
    /// a full disk would leave them): a load through it gives exactly what a load without a
    /// cache gives. A damaged entry is rebuilt, never trusted.
    #[test]
    fn damaged_import_cache_changes_nothing(
        cut in any::<usize>(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        truncate_it in any::<bool>(),
    ) {
        use costlens::store::cache::Cache;
        let dir = tempfile::tempdir().unwrap();
        let inputs = dir.path().join("in");
        std::fs::create_dir(&inputs).unwrap();
        // The files above the cache's size threshold.
        for name in [USAGE_CSV, COST_CSV, ADMIN_COST] {
            std::fs::write(inputs.join(name), sample(name)).unwrap();
        }
        let load = |cache: &Cache| {
            costlens::pipeline::load::load_with_cache(
                std::slice::from_ref(&inputs),
                &opts(),
                &import::Control::default(),
                cache,
            )
        };
        let want = load_summary(&load(&Cache::disabled()));
        let cache = Cache::at(dir.path().join("cache"));
        prop_assert_eq!(&load_summary(&load(&cache)), &want);
        let (mut entries, mut damaged) = (0, 0);
        for e in walkdir::WalkDir::new(dir.path().join("cache")) {
            let e = e.unwrap();
            if !e.file_type().is_file() {
                continue;
            }
            entries += 1;
            let bytes = std::fs::read(e.path()).unwrap();
            let new = if truncate_it { truncate(&bytes, cut) } else { flip(&bytes, &flips) };
            damaged += usize::from(new != bytes);
            std::fs::write(e.path(), new).unwrap();
        }
        prop_assert!(entries > 0, "the cache wrote nothing: the property would be vacuous");
        prop_assert_eq!(&load_summary(&load(&cache)), &want, "{} files damaged", damaged);
        // And once more, from the rebuilt entries.
        prop_assert_eq!(&load_summary(&load(&cache)), &want);
    }
}
