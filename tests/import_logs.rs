//! Importers of the Admin API reports, Messages API logs, Message Batches results and Claude
//! Code logs: sample files against totals computed here independently (serde_json), every
//! de-duplication rule, detection, merging, truncated lines, the import cache, cancellation.

use costlens::domain::dataset::Dataset;
use costlens::domain::packed::Records;
use costlens::domain::records::{Bucket, Context, Tier, Tokens, UsageRecord};
use costlens::import::{
    self, Control, Format, Identity, ImportError, Options, ParsedFile, detect_format,
};
use costlens::pipeline::load::{self, Loaded};
use costlens::store::cache::{self, Cache};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join(rel)
}

fn sum(records: &Records) -> Tokens<u64> {
    records
        .iter()
        .fold(Tokens::default(), |a, r| a.saturating_add(&r.tokens))
}

fn sum_parsed(p: &ParsedFile) -> Tokens<u64> {
    p.records
        .iter()
        .fold(Tokens::default(), |a, (r, _)| a.saturating_add(&r.tokens))
}

fn load(paths: &[PathBuf]) -> Loaded {
    load::load_with_cache(
        paths,
        &Options::default(),
        &Control::default(),
        &Cache::disabled(),
    )
}

fn parse_file(path: &Path) -> ParsedFile {
    import::parse_path(path, &Options::default(), &Control::default()).expect("parses")
}

pub(crate) fn u(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Tokens of a Messages API `usage` object, by the rules of pricing.md: the 5m/1h split
/// when present, else `cache_creation_input_tokens` as 5-minute writes.
pub(crate) fn usage_tokens(usage: &Value) -> Tokens<u64> {
    let cci = u(usage, "cache_creation_input_tokens");
    let (w5, w1) = match usage.get("cache_creation").filter(|c| c.is_object()) {
        Some(c)
            if u(c, "ephemeral_5m_input_tokens") + u(c, "ephemeral_1h_input_tokens") > 0
                || cci == 0 =>
        {
            (
                u(c, "ephemeral_5m_input_tokens"),
                u(c, "ephemeral_1h_input_tokens"),
            )
        }
        _ => (cci, 0),
    };
    Tokens {
        uncached_input: u(usage, "input_tokens"),
        cache_write_5m: w5,
        cache_write_1h: w1,
        cache_read: u(usage, "cache_read_input_tokens"),
        output: u(usage, "output_tokens"),
    }
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("readable")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

// --- samples, against independent totals ---------------------------------------------------

#[test]
fn admin_usage_sample_has_exact_totals() {
    let path = sample("admin_usage_report.json");
    let mut expected = Tokens::default();
    let mut rows = 0;
    let mut long_rows = 0;
    let mut empty_buckets = 0;
    for page in jsonl(&path) {
        for bucket in page["data"].as_array().expect("data") {
            let results = bucket["results"].as_array().expect("results");
            empty_buckets += results.is_empty() as u32;
            for r in results {
                rows += 1;
                long_rows += (r["context_window"] == "200k-1M") as u32;
                let c = &r["cache_creation"];
                expected = expected.saturating_add(&Tokens {
                    uncached_input: u(r, "uncached_input_tokens"),
                    cache_write_5m: u(c, "ephemeral_5m_input_tokens"),
                    cache_write_1h: u(c, "ephemeral_1h_input_tokens"),
                    cache_read: u(r, "cache_read_input_tokens"),
                    output: u(r, "output_tokens"),
                });
            }
        }
    }
    assert!(
        rows > 50 && long_rows > 0 && empty_buckets == 1,
        "{rows} {long_rows} {empty_buckets}"
    );
    let p = parse_file(&path);
    assert_eq!(p.summary.format, "Admin API usage report");
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.records.len(), rows as usize);
    assert_eq!(sum_parsed(&p), expected);
    assert_eq!(
        p.records
            .iter()
            .filter(|(r, _)| r.context == Context::Flag(true))
            .count(),
        long_rows as usize
    );
    assert!(
        p.records
            .iter()
            .all(|(r, id)| r.bucket == Bucket::Day && matches!(id, Identity::Row(_)))
    );
    assert!(p.records.iter().any(|(r, _)| r.tier == Tier::Priority));
    assert!(p.records.iter().any(|(r, _)| r.tier == Tier::Batch));
}

#[test]
fn admin_cost_sample_is_in_cents_and_reconciles_with_the_usage_report() {
    let path = sample("admin_cost_report.json");
    let page: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut expected_usd = 0.0;
    let mut n = 0;
    for bucket in page["data"].as_array().unwrap() {
        for r in bucket["results"].as_array().unwrap() {
            expected_usd += r["amount"].as_str().unwrap().parse::<f64>().unwrap() / 100.0;
            n += 1;
        }
    }
    let p = parse_file(&path);
    assert_eq!(p.summary.format, "Admin API cost report");
    assert!(p.records.is_empty() && p.rejected.is_empty());
    assert_eq!(p.billed.len(), n);
    let billed: f64 = p.billed.iter().map(|b| b.usd).sum();
    assert!(
        (billed - expected_usd).abs() < 1e-9,
        "{billed} vs {expected_usd}"
    );
    // The two samples describe the same usage: recomputed cost equals the bill to the cent.
    let loaded = load(&[sample("admin_usage_report.json"), path]);
    let analysis = load::Analysis::new(
        loaded.data,
        costlens::domain::prices::PriceTable::bundled(),
        &[],
    );
    let view = analysis.view(&Default::default());
    let levers = costlens::engine::scenario::Levers::default()
        .resolve(&analysis.table)
        .unwrap();
    let ev = view.evaluate(&analysis.table, &levers);
    assert!(
        (ev.actual - expected_usd).abs() < 0.01,
        "recomputed {} vs billed {}",
        ev.actual,
        expected_usd
    );
}

#[test]
fn messages_log_sample_has_exact_totals_and_says_what_it_assumed() {
    let path = sample("messages_log.jsonl");
    let mut expected = Tokens::default();
    let (mut rows, mut no_usage, mut assumed_5m) = (0, 0, 0);
    for v in jsonl(&path) {
        // The three shapes: wrapper with response/message, or a flat record.
        let inner = v.get("response").or(v.get("message"));
        let usage = match inner {
            Some(m) => m.get("usage").cloned(),
            None if v.get("input_tokens").is_some() => Some(v.clone()),
            None => v.get("usage").cloned(),
        };
        let Some(usage) = usage else {
            no_usage += 1;
            continue;
        };
        rows += 1;
        if !usage.get("cache_creation").is_some_and(Value::is_object)
            && u(&usage, "cache_creation_input_tokens") > 0
        {
            assumed_5m += 1;
        }
        expected = expected.saturating_add(&usage_tokens(&usage));
    }
    let p = parse_file(&path);
    assert_eq!(p.summary.format, "Messages API log");
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.records.len(), rows);
    assert_eq!(sum_parsed(&p), expected);
    assert_eq!(p.summary.skipped, no_usage);
    assert!(assumed_5m > 0);
    let note = format!("{assumed_5m} lines give cache writes only as cache_creation_input_tokens");
    assert!(
        p.summary.notes.iter().any(|n| n.starts_with(&note)),
        "{:?}",
        p.summary.notes
    );
    assert!(
        p.records
            .iter()
            .all(|(r, _)| r.context == Context::Request && r.requests == 1)
    );
    // One request of the sample is long context (total input over 200K).
    assert_eq!(
        p.records
            .iter()
            .filter(|(r, _)| r.is_long_context_observed())
            .count(),
        1
    );
}

#[test]
fn batch_results_sample_bills_only_succeeded_results_at_batch_tier() {
    let path = sample("batch_results.jsonl");
    let mut expected = Tokens::default();
    let (mut ok, mut other) = (0, 0);
    for v in jsonl(&path) {
        if v["result"]["type"] == "succeeded" {
            ok += 1;
            expected = expected.saturating_add(&usage_tokens(&v["result"]["message"]["usage"]));
        } else {
            other += 1;
        }
    }
    let day = 1_793_491_200; // 2026-11-01
    let opts = Options {
        date: Some(day),
        ..Options::default()
    };
    let p = import::parse_path(&path, &opts, &Control::default()).unwrap();
    assert_eq!(p.summary.format, "Message Batches results");
    assert_eq!((p.records.len(), p.summary.skipped), (ok, other));
    assert_eq!(sum_parsed(&p), expected);
    assert!(
        p.records
            .iter()
            .all(|(r, _)| r.tier == Tier::Batch && r.time == day)
    );
    for n in [
        "2 results errored",
        "2 results expired",
        "1 results canceled",
        "dated 2026-11-01 (the date given)",
    ] {
        assert!(
            p.summary.notes.iter().any(|x| x.contains(n)),
            "{n} not in {:?}",
            p.summary.notes
        );
    }
    // Without a date: the file's modification date, and the summary says so.
    let p = parse_file(&path);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mday = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 86_400
        * 86_400;
    assert!(p.records.iter().all(|(r, _)| r.time == mday));
    assert!(
        p.summary
            .notes
            .iter()
            .any(|n| n.contains("the file's modification date"))
    );
    // In memory there is no file date: without --date nothing can be dated.
    let bytes = std::fs::read(&path).unwrap();
    let p = import::parse_bytes("batch.jsonl", &bytes, &Options::default()).unwrap();
    assert_eq!(p.records.len(), 0);
    assert_eq!(p.rejected.len(), ok);
    assert!(p.rejected[0].reason.contains("--date"));
}

/// Claude Code totals computed here from the rules of formats.md section 7.
struct CcExpected {
    tokens: Tokens<u64>,
    responses: usize,
    reported: f64,
    projects: Vec<String>,
}

fn claude_code_expected(root: &Path) -> CcExpected {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "jsonl"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    // key -> (sidechain, tokens, cost)
    let mut kept: Vec<(bool, Tokens<u64>, Option<f64>)> = Vec::new();
    let mut index: std::collections::HashMap<(String, String), usize> = Default::default();
    let mut projects = std::collections::BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap();
        let folder = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        for v in jsonl(f) {
            let Some(usage) = v.pointer("/message/usage") else {
                continue;
            };
            if v["isApiErrorMessage"] == true || v["message"]["model"] == "<synthetic>" {
                continue;
            }
            // The project is the line's cwd with /home/<user> written ~ (the folder's name
            // for a line without cwd).
            projects.insert(match v["cwd"].as_str() {
                Some(cwd) => {
                    let rest = cwd.strip_prefix("/home/").unwrap();
                    format!("~{}", &rest[rest.find('/').unwrap()..])
                }
                None => folder.clone(),
            });
            let side = v["isSidechain"] == true;
            let t = usage_tokens(usage);
            let cost = v.get("costUSD").and_then(Value::as_f64);
            let Some(id) = v["message"]["id"].as_str() else {
                kept.push((side, t, cost));
                continue;
            };
            let key = (
                id.to_owned(),
                v["requestId"].as_str().unwrap_or("").to_owned(),
            );
            match index.get(&key) {
                None => {
                    index.insert(key, kept.len());
                    kept.push((side, t, cost));
                }
                Some(&i) => {
                    let (ks, kt, kc) = kept[i];
                    let better = if ks != side {
                        !side
                    } else {
                        t.total() > kt.total()
                    };
                    if better {
                        kept[i] = (side, t, cost.or(kc));
                    }
                }
            }
        }
    }
    CcExpected {
        tokens: kept
            .iter()
            .fold(Tokens::default(), |a, k| a.saturating_add(&k.1)),
        responses: kept.len(),
        reported: kept.iter().filter_map(|k| k.2).sum(),
        projects: projects.into_iter().collect(),
    }
}

#[test]
fn claude_code_sample_tree_has_exact_totals_after_deduplication() {
    let root = sample("claude-code/projects");
    let expected = claude_code_expected(&root);
    let loaded = load(&[sample("claude-code")]);
    assert!(loaded.errors.is_empty() && loaded.unrecognised_in_folders.is_empty());
    let d = &loaded.data;
    assert!(d.files.len() >= 3 && d.files.iter().any(|f| f.path.contains("/subagents/")));
    assert!(d.files.iter().all(|f| f.format == "Claude Code log"));
    assert!(d.rejected.is_empty(), "{:?}", d.rejected);
    assert_eq!(d.records.len(), expected.responses);
    assert_eq!(sum(&d.records), expected.tokens);
    let reported: f64 = d.reported.iter().map(|r| r.1).sum();
    assert!((reported - expected.reported).abs() < 1e-9);
    let mut projects: Vec<String> = d
        .records
        .iter()
        .map(|r| d.symbols.get(r.project).to_owned())
        .collect();
    projects.sort();
    projects.dedup();
    assert_eq!(projects, expected.projects);
    assert_eq!(projects.len(), 2);
    // Streaming snapshots were merged, and the summary says how many.
    let merged: u64 = d.files.iter().map(|f| f.duplicates).sum();
    assert!(merged > 0);
    assert!(d.files.iter().any(|f| {
        f.notes
            .iter()
            .any(|n| n.contains("merged into one request"))
    }));
}

#[test]
fn claude_code_generated_tree_matches_independent_totals() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = costlens_testkit::ClaudeTreeSpec::new(3_000_000, 7);
    spec.tool_result_scale = 0.3;
    let stats = costlens_testkit::claude_code_tree(dir.path(), &spec).unwrap();
    let expected = claude_code_expected(&dir.path().join("projects"));
    let loaded = load(&[dir.path().to_path_buf()]);
    assert_eq!(loaded.data.records.len(), expected.responses);
    assert_eq!(loaded.data.records.len() as u64, stats.responses);
    assert_eq!(sum(&loaded.data.records), expected.tokens);
    let reported: f64 = loaded.data.reported.iter().map(|r| r.1).sum();
    assert!(expected.reported > 0.0 && (reported - expected.reported).abs() < 1e-6);
    let skipped: u64 = loaded.data.files.iter().map(|f| f.skipped).sum();
    assert!(
        skipped > stats.usage_lines / 4,
        "tool results and prompts are skipped"
    );
}

// --- de-duplication rules ---------------------------------------------------------------

fn cc_line(
    id: Option<&str>,
    req: Option<&str>,
    sidechain: bool,
    model: &str,
    input: u64,
    output: u64,
) -> String {
    let mut v = serde_json::json!({
        "type": "assistant", "timestamp": "2026-02-18T11:30:24.575Z", "sessionId": "s-1",
        "isSidechain": sidechain, "cwd": "/home/u/proj",
        "message": {"model": model, "content": [{"type": "text", "text": "ok"}],
                    "usage": {"input_tokens": input, "output_tokens": output, "service_tier": "standard"}},
    });
    if let Some(id) = id {
        v["message"]["id"] = id.into();
    }
    if let Some(req) = req {
        v["requestId"] = req.into();
    }
    v.to_string()
}

fn with_cost(line: String, usd: f64) -> String {
    let mut v: Value = serde_json::from_str(&line).unwrap();
    v["costUSD"] = usd.into();
    v.to_string()
}

const SONNET: &str = "claude-sonnet-4-5-20250929";

/// Parses Claude Code lines as one file of project `p` and merges them into a dataset.
fn cc_dataset(lines: &[String]) -> Dataset {
    let text = lines.join("\n") + "\n";
    let p =
        import::parse_bytes("projects/p/s.jsonl", text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(p.summary.format, "Claude Code log");
    Dataset::merge([p], Default::default())
}

#[test]
fn same_message_and_request_id_counts_once_with_the_larger_total() {
    let d = cc_dataset(&[
        cc_line(Some("msg_1"), Some("req_1"), false, SONNET, 100, 10),
        cc_line(Some("msg_1"), Some("req_1"), false, SONNET, 100, 250),
        cc_line(Some("msg_1"), Some("req_1"), false, SONNET, 100, 120),
    ]);
    assert_eq!(d.records.len(), 1);
    assert_eq!(d.records.get(0).tokens.output, 250);
    assert_eq!(d.files[0].duplicates, 2);
    assert_eq!(d.files[0].rows, 1);
}

#[test]
fn the_non_sidechain_copy_wins_whatever_the_order_and_totals() {
    for lines in [
        [
            cc_line(Some("m"), Some("r"), true, SONNET, 100, 900),
            cc_line(Some("m"), Some("r"), false, SONNET, 100, 5),
        ],
        [
            cc_line(Some("m"), Some("r"), false, SONNET, 100, 5),
            cc_line(Some("m"), Some("r"), true, SONNET, 100, 900),
        ],
    ] {
        let d = cc_dataset(&lines);
        assert_eq!(d.records.len(), 1);
        assert_eq!(
            d.records.get(0).tokens.output,
            5,
            "the main-thread copy is kept"
        );
    }
}

#[test]
fn different_request_ids_and_lines_without_message_id_are_not_merged() {
    let d = cc_dataset(&[
        cc_line(Some("m"), Some("r1"), false, SONNET, 100, 5),
        cc_line(Some("m"), Some("r2"), false, SONNET, 100, 5),
        cc_line(None, Some("r3"), false, SONNET, 7, 1),
        cc_line(None, Some("r3"), false, SONNET, 7, 1),
    ]);
    assert_eq!(d.records.len(), 4);
    assert_eq!(sum(&d.records).uncached_input, 214);
}

#[test]
fn synthetic_and_api_error_lines_are_skipped_and_counted() {
    let mut error =
        serde_json::from_str::<Value>(&cc_line(Some("e"), Some("re"), false, SONNET, 50, 50))
            .unwrap();
    error["isApiErrorMessage"] = true.into();
    let d = cc_dataset(&[
        cc_line(Some("s"), Some("rs"), false, "<synthetic>", 0, 0),
        error.to_string(),
        cc_line(Some("k"), Some("rk"), false, SONNET, 10, 20),
        r#"{"type":"user","sessionId":"s-1","message":{"role":"user","content":"what is my usage?"}}"#.to_owned(),
    ]);
    assert_eq!(d.records.len(), 1);
    let f = &d.files[0];
    assert_eq!(f.skipped, 3);
    assert!(
        f.notes
            .iter()
            .any(|n| n.starts_with("1 lines with model <synthetic>"))
    );
    assert!(f.notes.iter().any(|n| n.starts_with("1 API error lines")));
}

#[test]
fn reported_cost_is_counted_once_per_merged_response_and_follows_the_winner() {
    let d = cc_dataset(&[
        with_cost(cc_line(Some("m"), Some("r"), false, SONNET, 100, 10), 0.01),
        with_cost(cc_line(Some("m"), Some("r"), false, SONNET, 100, 300), 0.03),
        with_cost(cc_line(Some("m"), Some("r"), true, SONNET, 100, 900), 0.09),
        with_cost(cc_line(Some("x"), Some("rx"), false, SONNET, 1, 1), 0.5),
    ]);
    assert_eq!(d.records.len(), 2);
    let mut reported: Vec<f64> = d.reported.iter().map(|r| r.1).collect();
    reported.sort_by(f64::total_cmp);
    assert_eq!(reported, vec![0.03, 0.5]);
    // The same file loaded again adds nothing, reported cost included.
    let text = [with_cost(
        cc_line(Some("m"), Some("r"), false, SONNET, 100, 300),
        0.03,
    )]
    .join("\n");
    let first = [
        with_cost(cc_line(Some("m"), Some("r"), false, SONNET, 100, 10), 0.01),
        with_cost(cc_line(Some("m"), Some("r"), false, SONNET, 100, 300), 0.03),
        with_cost(cc_line(Some("m"), Some("r"), true, SONNET, 100, 900), 0.09),
        with_cost(cc_line(Some("x"), Some("rx"), false, SONNET, 1, 1), 0.5),
    ]
    .join("\n");
    let d2 = Dataset::merge(
        [first, text].map(|t| {
            import::parse_bytes("projects/p/s.jsonl", t.as_bytes(), &Options::default()).unwrap()
        }),
        Default::default(),
    );
    assert_eq!(d2.records.len(), 2);
    assert_eq!(d2.reported.iter().map(|r| r.1).sum::<f64>(), 0.53);
    // Across files the same rule holds: a later file's fuller copy replaces the kept one, and
    // its cost replaces the kept cost.
    let part = |out: u64, usd: f64, side: bool| {
        let text = with_cost(cc_line(Some("q"), Some("rq"), side, SONNET, 100, out), usd);
        import::parse_bytes("projects/p/a.jsonl", text.as_bytes(), &Options::default()).unwrap()
    };
    let d3 = Dataset::merge(
        [
            part(10, 0.01, false),
            part(300, 0.03, false),
            part(900, 0.09, true),
        ],
        Default::default(),
    );
    assert_eq!(d3.records.len(), 1);
    assert_eq!(d3.records.get(0).tokens.output, 300);
    assert_eq!(d3.reported.iter().map(|r| r.1).collect::<Vec<_>>(), [0.03]);
    assert_eq!(
        d3.files.iter().map(|f| f.duplicates).collect::<Vec<_>>(),
        [0, 1, 1]
    );
}

// --- detection -----------------------------------------------------------------------------

#[test]
fn every_format_is_detected_by_content() {
    let cases = [
        ("admin_usage_report.json", Format::AdminUsageJson),
        ("admin_cost_report.json", Format::AdminCostJson),
        ("messages_log.jsonl", Format::MessagesJsonl),
        ("batch_results.jsonl", Format::BatchResultsJsonl),
        ("claude_api_tokens_2026_08-10.csv", Format::ConsoleUsageCsv),
        ("claude_api_cost_2026_08-10.csv", Format::ConsoleCostCsv),
    ];
    for (file, format) in cases {
        let bytes = std::fs::read(sample(file)).unwrap();
        assert_eq!(
            detect_format(&bytes[..bytes.len().min(64 * 1024)]),
            Ok(format),
            "{file}"
        );
    }
    let cc = walkdir::WalkDir::new(sample("claude-code"))
        .into_iter()
        .filter_map(Result::ok);
    for e in cc.filter(|e| e.file_type().is_file()) {
        assert_eq!(
            detect_format(&std::fs::read(e.path()).unwrap()),
            Ok(Format::ClaudeCodeJsonl)
        );
    }
    // Other page layouts: a JSON array of pages, pages concatenated without newlines.
    let page = r#"{"data":[{"starting_at":"2025-08-01T00:00:00Z","ending_at":"2025-08-02T00:00:00Z","results":[{"model":"m","uncached_input_tokens":1}]}],"has_more":false}"#;
    assert_eq!(
        detect_format(format!("[{page},{page}]").as_bytes()),
        Ok(Format::AdminUsageJson)
    );
    assert_eq!(
        detect_format(format!("{page}{page}").as_bytes()),
        Ok(Format::AdminUsageJson)
    );
    // A Claude Code log whose first line is longer than the detection window.
    let huge = format!(
        "{{\"parentUuid\":null,\"sessionId\":\"s\",\"type\":\"user\",\"message\":{{\"content\":\"{}\"}}}}\n",
        "x".repeat(100_000)
    );
    assert_eq!(
        detect_format(&huge.as_bytes()[..64 * 1024]),
        Ok(Format::ClaudeCodeJsonl)
    );
    // A Claude Code session that quotes a saved report in a tool result is still a session.
    let quoting = format!(
        "{}\n{}\n",
        serde_json::json!({"type": "user", "sessionId": "s", "parentUuid": null,
            "message": {"role": "user", "content": [{"type": "tool_result", "content": page}]}}),
        cc_line(Some("m"), Some("r"), false, SONNET, 1, 1)
    );
    assert_eq!(
        detect_format(quoting.as_bytes()),
        Ok(Format::ClaudeCodeJsonl)
    );
    // Some other API's `data` array is not a report.
    assert!(detect_format(br#"{"data":[1,2],"object":"list"}"#).is_err());
    // A flat Messages record and a wrapper.
    assert_eq!(
        detect_format(br#"{"time":1,"model":"m","input_tokens":1,"output_tokens":2}"#),
        Ok(Format::MessagesJsonl)
    );
}

#[test]
fn an_unrecognised_file_gets_a_clear_message() {
    for (bytes, found) in [
        (
            &br#"{"display":"hello","pastedContents":{},"timestamp":1}"#[..],
            "JSON with fields display, pastedContents, timestamp",
        ),
        (b"[]", "JSON without usage fields"),
        (
            b"date,amount\n2026-01-01,3\n",
            "the first line is \"date,amount\"",
        ),
    ] {
        let err = detect_format(bytes).unwrap_err();
        assert!(
            err.starts_with("not a recognised usage file: expected a Console usage or cost CSV"),
            "{err}"
        );
        assert!(err.contains("Claude Code"), "{err}");
        assert!(err.contains(found), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("history.jsonl");
    std::fs::write(&f, "{\"display\":\"hello\",\"timestamp\":1}\n").unwrap();
    match import::parse_path(&f, &Options::default(), &Control::default()) {
        Err(ImportError::Unrecognised(path, why)) => {
            assert!(path.ends_with("history.jsonl") && why.contains("not a recognised usage file"))
        }
        other => panic!("expected Unrecognised, got {other:?}"),
    }
    // Inside a folder it is skipped quietly and listed.
    std::fs::copy(sample("messages_log.jsonl"), dir.path().join("log.jsonl")).unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    assert!(loaded.errors.is_empty());
    assert_eq!(loaded.unrecognised_in_folders.len(), 1);
    assert_eq!(loaded.data.files.len(), 1);
}

// --- Admin reports: layouts, widths, dimensions ---------------------------------------------

#[test]
fn admin_usage_pages_in_every_layout_bucket_width_and_dimension() {
    let bucket = |s: &str, e: &str, results: &str| {
        format!(r#"{{"starting_at":"{s}","ending_at":"{e}","results":[{results}]}}"#)
    };
    let r = |tier: &str, ctx: &str, model: &str, n: u64| {
        format!(
            r#"{{"api_key_id":null,"workspace_id":null,"model":{model},"service_tier":{tier},"context_window":{ctx},"inference_geo":null,"uncached_input_tokens":{n},"cache_creation":{{"ephemeral_1h_input_tokens":2,"ephemeral_5m_input_tokens":3}},"cache_read_input_tokens":4,"output_tokens":5,"server_tool_use":{{"web_search_requests":1}}}}"#
        )
    };
    let p1 = format!(
        r#"{{"data":[{},{},{}],"has_more":true,"next_page":"page_2"}}"#,
        bucket(
            "2025-08-01T00:00:00Z",
            "2025-08-01T00:01:00Z",
            &r("\"flex\"", "\"0-200k\"", "\"claude-haiku-4-5\"", 10)
        ),
        bucket(
            "2025-08-01T01:00:00Z",
            "2025-08-01T02:00:00Z",
            &r(
                "\"priority_on_demand\"",
                "\"200k-1M\"",
                "\"claude-sonnet-4-5\"",
                20
            )
        ),
        bucket("2025-08-02T00:00:00Z", "2025-08-03T00:00:00Z", "")
    );
    let p2 = format!(
        r#"{{"data":[{}],"has_more":false,"next_page":null}}"#,
        bucket(
            "2025-08-03T00:00:00Z",
            "2025-08-04T00:00:00Z",
            &[
                r("\"flex_discount\"", "null", "null", 30),
                r("null", "\"0-200k\"", "\"claude-haiku-4-5\"", 40)
            ]
            .join(",")
        )
    );
    for text in [
        format!("{p1}\n{p2}\n"),
        format!("{p1}{p2}"),
        format!("[{p1},\n{p2}]"),
    ] {
        let p = import::parse_bytes("usage.json", text.as_bytes(), &Options::default()).unwrap();
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        let rec: Vec<&UsageRecord> = p.records.iter().map(|(r, _)| r).collect();
        assert_eq!(rec.len(), 4);
        assert_eq!(
            rec.iter().map(|r| r.bucket).collect::<Vec<_>>(),
            [Bucket::Minute, Bucket::Hour, Bucket::Day, Bucket::Day]
        );
        assert_eq!(
            rec.iter().map(|r| r.tier).collect::<Vec<_>>(),
            [
                Tier::Flex,
                Tier::PriorityOnDemand,
                Tier::FlexDiscount,
                Tier::Standard
            ]
        );
        assert_eq!(
            rec.iter().map(|r| r.context).collect::<Vec<_>>(),
            [
                Context::Flag(false),
                Context::Flag(true),
                Context::Flag(false),
                Context::Flag(false)
            ]
        );
        assert_eq!(rec[0].time, 1_754_006_400);
        assert_eq!(
            sum_parsed(&p),
            Tokens {
                uncached_input: 100,
                cache_write_5m: 12,
                cache_write_1h: 8,
                cache_read: 16,
                output: 20
            }
        );
        assert_eq!(rec.iter().map(|r| r.web_search).sum::<u64>(), 4);
        assert!(rec.iter().all(|r| r.workspace == 0 && r.api_key == 0));
        let notes = p.summary.notes.join("|");
        assert!(notes.contains("1 rows have no model"), "{notes}");
        assert!(notes.contains("1 rows have no service_tier"), "{notes}");
        assert!(notes.contains("1 rows have no context_window"), "{notes}");
    }
    // Overlapping saves (page 1 alone, then both pages) count page 1 once.
    let d = Dataset::merge(
        [
            import::parse_bytes("a.json", p1.as_bytes(), &Options::default()).unwrap(),
            import::parse_bytes(
                "b.json",
                format!("{p1}\n{p2}").as_bytes(),
                &Options::default(),
            )
            .unwrap(),
        ],
        Default::default(),
    );
    assert_eq!(d.records.len(), 4);
    assert_eq!(d.files[1].duplicates, 2);
    assert!(
        d.files[1]
            .notes
            .iter()
            .any(|n| n.contains("also in another file"))
    );
    // An empty report says so.
    let empty = format!(
        r#"{{"data":[{}],"has_more":false}}"#,
        bucket("2025-08-01T00:00:00Z", "2025-08-02T00:00:00Z", "")
    );
    let p = import::parse_bytes("empty.json", empty.as_bytes(), &Options::default()).unwrap();
    assert!(p.records.is_empty() && p.rejected.is_empty());
    assert_eq!(
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        ["no usage in this report (1 empty buckets)"]
    );
}

#[test]
fn admin_cost_amounts_are_decimal_cents() {
    let text = r#"{"data":[{"starting_at":"2025-08-01T00:00:00Z","ending_at":"2025-08-02T00:00:00Z","results":[
        {"currency":"USD","amount":"123.45","workspace_id":null,"description":"Claude Sonnet 4.5 Usage - Input Tokens","cost_type":"tokens","context_window":"0-200k","model":"claude-sonnet-4-5-20250929","service_tier":"standard","token_type":"uncached_input_tokens"},
        {"currency":"USD","amount":"0.5","workspace_id":"wrkspc_1","description":"Web Search","cost_type":"web_search","context_window":null,"model":null,"service_tier":null,"token_type":null},
        {"currency":"EUR","amount":"1","cost_type":"tokens","token_type":"output_tokens"}]}],"has_more":false}"#;
    let p = import::parse_bytes("cost.json", text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(p.summary.format, "Admin API cost report");
    assert_eq!(p.billed.len(), 2);
    assert!((p.billed[0].usd - 1.2345).abs() < 1e-12);
    assert!((p.billed[1].usd - 0.005).abs() < 1e-12);
    assert_eq!(
        p.billed[0].category,
        Some(costlens::domain::records::Category::UncachedInput)
    );
    assert_eq!(p.billed[1].category, None);
    assert_eq!(p.rejected.len(), 1);
    assert!(
        p.rejected[0]
            .reason
            .ends_with("currency EUR: only USD is supported"),
        "{}",
        p.rejected[0]
    );
}

// --- Messages logs: shapes and timestamps ------------------------------------------------------

#[test]
fn messages_log_timestamps_and_the_missing_timestamp_rule() {
    let usage = r#""usage":{"input_tokens":10,"output_tokens":5}"#;
    let lines = [
        format!(
            r#"{{"timestamp":"2026-02-18T11:30:24.575+02:00","response":{{"id":"msg_a","model":"claude-haiku-4-5",{usage}}}}}"#
        ),
        format!(
            r#"{{"created_at":1771400000,"message":{{"id":"msg_b","model":"claude-haiku-4-5",{usage}}}}}"#
        ),
        r#"{"time":"1771400000","model":"claude-haiku-4-5","input_tokens":10,"output_tokens":5}"#
            .to_owned(),
        format!(
            r#"{{"timestamp":1771400000123,"id":"msg_c","type":"message","model":"claude-haiku-4-5",{usage}}}"#
        ),
        format!(r#"{{"id":"msg_d","type":"message","model":"claude-haiku-4-5",{usage}}}"#),
        format!(r#"{{"timestamp":"yesterday","id":"msg_e","model":"claude-haiku-4-5",{usage}}}"#),
    ];
    let p = import::parse_bytes(
        "api.jsonl",
        (lines.join("\n") + "\n").as_bytes(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(p.summary.format, "Messages API log");
    let times: Vec<i64> = p.records.iter().map(|(r, _)| r.time).collect();
    assert_eq!(
        times,
        [1_771_407_024, 1_771_400_000, 1_771_400_000, 1_771_400_000]
    );
    // A line without a timestamp is rejected with the reason, not placed at a made-up time.
    let rejected: Vec<String> = p.rejected.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        rejected,
        [
            "api.jsonl:5: no timestamp field (timestamp, created_at or time)".to_owned(),
            "api.jsonl:6: timestamp: not RFC 3339 or Unix seconds: \"yesterday\"".to_owned()
        ]
    );
    assert!(
        p.summary
            .notes
            .iter()
            .any(|n| n.starts_with("1 lines have no timestamp and were rejected")),
        "{:?}",
        p.summary.notes
    );
    assert!(matches!(p.records[0].1, Identity::Message { .. }));
    assert_eq!(p.records[2].1, Identity::None);
}

// --- truncated lines, merging, chunked big files -------------------------------------------

#[test]
fn a_truncated_last_line_is_rejected_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let full = cc_line(Some("m2"), Some("r2"), false, SONNET, 3, 4);
    let cut = &full[..full.len() / 2];
    // The cut keeps "usage" or not: either way the line is reported.
    for cut in [cut, &full[..60]] {
        let f = dir.path().join("projects").join("p").join("s.jsonl");
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(
            &f,
            format!(
                "{}\n{}\n{cut}",
                cc_line(Some("m1"), Some("r1"), false, SONNET, 1, 2),
                full
            ),
        )
        .unwrap();
        let p = parse_file(&f);
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.rejected.len(), 1);
        let shown = p.rejected[0].to_string();
        assert_eq!(
            shown,
            format!(
                "{}:3: not valid JSON: the line ends early (truncated?)",
                f.display()
            )
        );
    }
    // A Messages log and a saved report: the same.
    let m = sample("messages_log.jsonl");
    let text = std::fs::read_to_string(&m).unwrap();
    let lines = text.lines().count() as u64;
    let cut_text = format!(
        "{text}{{\"timestamp\":\"2026-11-02T10:00:00Z\",\"response\":{{\"id\":\"msg_x\",\"usa"
    );
    let p = import::parse_bytes("m.jsonl", cut_text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(p.records.len(), 80);
    assert_eq!(p.rejected[0].line, lines + 1);
    assert!(
        p.rejected[0].reason.contains("truncated"),
        "{}",
        p.rejected[0]
    );
    let usage = std::fs::read_to_string(sample("admin_usage_report.json")).unwrap();
    let first_page = usage.lines().next().unwrap();
    let cut_report = format!("{usage}{}", &first_page[..500]);
    let p = import::parse_bytes("u.json", cut_report.as_bytes(), &Options::default()).unwrap();
    assert_eq!(
        p.records.len(),
        parse_file(&sample("admin_usage_report.json")).records.len()
    );
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].line, 3);
    assert!(
        p.rejected[0].reason.contains("truncated"),
        "{}",
        p.rejected[0]
    );
}

#[test]
fn the_same_files_loaded_twice_are_counted_once_and_the_report_says_so() {
    let files = [
        sample("admin_usage_report.json"),
        sample("messages_log.jsonl"),
        sample("claude-code/projects"),
    ];
    let once = load(&files);
    // The same paths twice: each file is read once, and the import says so.
    let twice = load(&[files.to_vec(), files.to_vec()].concat());
    assert_eq!(twice.data.records, once.data.records);
    assert_eq!(twice.data.files.len(), once.data.files.len());
    assert_eq!(twice.data.notes.len(), once.data.files.len());
    assert!(
        twice.data.notes.iter().all(|n| n.ends_with(": read once")),
        "{:?}",
        twice.data.notes
    );
    // Copies of the files (other paths, same content): every row and response counts once,
    // and each copy's summary says its rows were already there.
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        if from.is_file() {
            std::fs::copy(from, to).unwrap();
            return;
        }
        for e in walkdir::WalkDir::new(from) {
            let e = e.unwrap();
            let dest = to.join(e.path().strip_prefix(from).unwrap());
            if e.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else {
                std::fs::copy(e.path(), &dest).unwrap();
            }
        }
    };
    let copies: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            let dest = dir.path().join(f.file_name().unwrap());
            copy(f, &dest);
            dest
        })
        .collect();
    let both = load(&[files.to_vec(), copies].concat());
    assert_eq!(both.data.records.len(), once.data.records.len());
    assert_eq!(sum(&both.data.records), sum(&once.data.records));
    assert_eq!(both.data.files.len(), 2 * once.data.files.len());
    let n = once.data.files.len();
    for (first, second) in once.data.files.iter().zip(&both.data.files[n..]) {
        assert_eq!(second.rows, 0, "{}", second.path);
        assert_eq!(
            second.duplicates,
            first.rows + first.duplicates,
            "{}",
            second.path
        );
        assert!(
            second
                .notes
                .iter()
                .any(|x| x.contains("also in another file") || x.contains("already seen")),
            "{:?}",
            second.notes
        );
    }
    let r1: f64 = once.data.reported.iter().map(|r| r.1).sum();
    let r2: f64 = both.data.reported.iter().map(|r| r.1).sum();
    assert_eq!(r1, r2);
}

#[test]
fn a_file_bigger_than_a_chunk_keeps_its_line_numbers_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("projects").join("big").join("s.jsonl");
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    let filler = format!(
        "{{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{{\"role\":\"user\",\"content\":\"{}\"}}}}",
        "y".repeat(3000)
    );
    let mut text = String::new();
    let mut bad_lines = Vec::new();
    let mut n = 0u64;
    let mut expected_output = 0;
    while (text.len() as u64) < 3 * import::CHUNK_BYTES + 12_345 {
        n += 1;
        if n.is_multiple_of(9) {
            text.push_str(&cc_line(
                Some(&format!("m{n}")),
                Some("r"),
                false,
                SONNET,
                1,
                n,
            ));
            expected_output += n;
        } else if n.is_multiple_of(1001) {
            text.push_str("{\"message\":{\"usage\":{\"input_tokens\":-1}},\"timestamp\":\"2026-01-01T00:00:00Z\"}");
            bad_lines.push(n);
        } else {
            text.push_str(&filler);
        }
        text.push('\n');
    }
    std::fs::write(&f, &text).unwrap();
    let control = Control::default();
    let p = import::parse_path(&f, &Options::default(), &control).unwrap();
    assert_eq!(
        p.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
        bad_lines
    );
    assert_eq!(sum_parsed(&p).output, expected_output);
    assert_eq!(p.records.len() as u64, n / 9);
    assert_eq!(p.summary.skipped, n - n / 9 - bad_lines.len() as u64);
    assert_eq!(
        control.progress().0,
        text.len() as u64,
        "progress adds up to the file size"
    );
    // The in-memory path chunks the same way.
    let q = import::parse_bytes(
        &f.display().to_string(),
        text.as_bytes(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(q.rejected, p.rejected);
    assert_eq!(sum_parsed(&q), sum_parsed(&p));
}

// --- the import cache --------------------------------------------------------------------------

fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn the_cache_answers_unchanged_files_and_notices_changed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = Cache::at(&cache_dir);
    let f = dir.path().join("projects").join("p").join("s.jsonl");
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    let line = |out: u64| {
        with_cost(
            cc_line(Some("m1"), Some("r1"), false, SONNET, 10, out),
            0.25,
        )
    };
    // A prompt line makes the file big enough to be cached (small files are parsed each time).
    let pad = format!(
        "{{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{{\"role\":\"user\",\"content\":\"{}\"}}}}",
        "z".repeat(cache::MIN_CACHED_BYTES as usize)
    );
    let content = |out: u64| {
        format!(
            "{}\n{}\n{pad}\n",
            line(out),
            cc_line(None, None, true, SONNET, 1, 1)
        )
    };
    std::fs::write(&f, content(100)).unwrap();
    let opts = Options::default();
    let (p, hit) = cache.parse_path(&f, &opts, &Control::default()).unwrap();
    assert!(!hit);
    assert_eq!(sum_parsed(&p).output, 101);
    assert_eq!(cache_entries(&cache_dir).len(), 1);
    let control = Control::default();
    let (q, hit) = cache.parse_path(&f, &opts, &control).unwrap();
    assert!(hit, "unchanged file comes from the cache");
    assert_eq!(control.progress().0, std::fs::metadata(&f).unwrap().len());
    assert_eq!(q.records, p.records);
    assert_eq!(q.reported_per_record, p.reported_per_record);
    assert_eq!(q.summary, p.summary);
    // The project is the line's cwd (/home/u/proj), the home folder written ~.
    assert_eq!(q.symbols.get(q.records[0].0.project), "~/proj");
    // Another batch date is another result.
    let (_, hit) = cache
        .parse_path(
            &f,
            &Options {
                date: Some(0),
                ..Options::default()
            },
            &Control::default(),
        )
        .unwrap();
    assert!(!hit);

    // Same size, new content and modification time: parsed again.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&f, content(200)).unwrap();
    let (p2, hit) = cache.parse_path(&f, &opts, &Control::default()).unwrap();
    assert!(!hit);
    assert_eq!(sum_parsed(&p2).output, 201);
    // Same content, only the modification time changed: parsed again too.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(!cache.parse_path(&f, &opts, &Control::default()).unwrap().1);
    assert!(cache.parse_path(&f, &opts, &Control::default()).unwrap().1);
    // Appended to (a live session): new totals through load::load as well.
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str(&cc_line(Some("m9"), Some("r9"), false, SONNET, 1, 1000));
    text.push('\n');
    std::fs::write(&f, text).unwrap();
    let loaded =
        load::load_with_cache(std::slice::from_ref(&f), &opts, &Control::default(), &cache);
    assert_eq!(sum(&loaded.data.records).output, 1201);
    assert_eq!(loaded.data.reported.iter().map(|r| r.1).sum::<f64>(), 0.25);
}

#[test]
fn a_corrupt_or_foreign_cache_entry_is_ignored_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = Cache::at(&cache_dir);
    let f = dir.path().join("m.jsonl");
    let mut text = std::fs::read_to_string(sample("messages_log.jsonl")).unwrap();
    // An error response with a long message: skipped, and makes the file big enough to cache.
    let big = "o".repeat(cache::MIN_CACHED_BYTES as usize);
    text.push_str(&format!(
        "{{\"timestamp\":\"2026-11-02T10:00:00Z\",\"response\":{{\"type\":\"error\",\"error\":{{\"message\":\"{big}\"}}}}}}\n"
    ));
    std::fs::write(&f, text).unwrap();
    let opts = Options::default();
    let (fresh, _) = cache.parse_path(&f, &opts, &Control::default()).unwrap();
    assert_eq!(fresh.records.len(), 80);
    let entry = cache_entries(&cache_dir).pop().unwrap();
    let good = std::fs::read(&entry).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let mut other_version = good.clone();
    other_version[16] ^= 1;
    for bad in [
        b"garbage".to_vec(),
        good[..good.len() / 3].to_vec(),
        flipped,
        other_version,
        Vec::new(),
    ] {
        std::fs::write(&entry, bad).unwrap();
        let (p, hit) = cache.parse_path(&f, &opts, &Control::default()).unwrap();
        assert!(!hit);
        assert_eq!(p.records, fresh.records);
        assert_eq!(std::fs::read(&entry).unwrap(), good, "rebuilt");
        assert!(cache.parse_path(&f, &opts, &Control::default()).unwrap().1);
    }
    // A small file is cached too, in its folder's pack (no cache file of its own).
    let small = dir.path().join("small.jsonl");
    std::fs::copy(sample("messages_log.jsonl"), &small).unwrap();
    assert!(
        !cache
            .parse_path(&small, &opts, &Control::default())
            .unwrap()
            .1
    );
    assert!(
        cache
            .parse_path(&small, &opts, &Control::default())
            .unwrap()
            .1
    );
    assert_eq!(cache_entries(&cache_dir).len(), 1);
    // An unwritable cache folder never fails an import.
    let blocked = Cache::at(f.join("not-a-dir"));
    assert_eq!(
        blocked
            .parse_path(&f, &opts, &Control::default())
            .unwrap()
            .0
            .records,
        fresh.records
    );
}

// --- progress and cancellation -------------------------------------------------------------

#[test]
fn progress_reaches_the_total_and_cancel_stops_within_100_ms() {
    let dir = tempfile::tempdir().unwrap();
    let stats = costlens_testkit::claude_code_tree(
        dir.path(),
        &costlens_testkit::ClaudeTreeSpec::new(40_000_000, 3),
    )
    .unwrap();
    let paths = [dir.path().to_path_buf()];
    let control = Control::new();
    let loaded = load::load_with_cache(&paths, &Options::default(), &control, &Cache::disabled());
    assert!(loaded.errors.is_empty());
    assert_eq!(control.progress(), (stats.bytes, stats.bytes));

    // Cancel once the import is under way; it must return promptly with `Cancelled`.
    let control = Control::new();
    let watcher = {
        let control = control.clone();
        std::thread::spawn(move || {
            while control.progress().0 < 2_000_000 {
                std::thread::yield_now();
            }
            control.cancel.store(true, Ordering::Relaxed);
            Instant::now()
        })
    };
    let loaded = load::load_with_cache(&paths, &Options::default(), &control, &Cache::disabled());
    let returned = Instant::now();
    let cancelled_at = watcher.join().unwrap();
    assert!(control.progress().0 < stats.bytes, "stopped before the end");
    assert!(
        matches!(loaded.errors.as_slice(), [ImportError::Cancelled(_)]),
        "{:?}",
        loaded.errors
    );
    assert!(loaded.data.is_empty());
    let latency = returned.duration_since(cancelled_at);
    eprintln!(
        "cancel latency {latency:?}, stopped at {} of {} bytes",
        control.progress().0,
        stats.bytes
    );
    assert!(
        latency < Duration::from_millis(100),
        "took {latency:?} to stop"
    );

    // Cancelled before it starts: nothing is read.
    let control = Control::new();
    control.cancel.store(true, Ordering::Relaxed);
    let loaded = load::load_with_cache(&paths, &Options::default(), &control, &Cache::disabled());
    assert!(matches!(
        loaded.errors.as_slice(),
        [ImportError::Cancelled(_)]
    ));
    assert_eq!(control.progress().0, 0);
}

#[test]
fn project_folder_is_the_session_files_own_not_an_ancestor_named_projects() {
    use costlens::import::claude_code::project_of;
    assert_eq!(
        project_of(Path::new("/home/u/.claude/projects/-home-u-app/abc.jsonl")),
        "-home-u-app"
    );
    assert_eq!(
        project_of(Path::new(
            "/home/u/.claude/projects/-home-u-app/abc/subagents/agent-1.jsonl"
        )),
        "-home-u-app"
    );
    assert_eq!(
        project_of(Path::new("/tmp/-home-u-app/abc/subagents/agent-1.jsonl")),
        "-home-u-app"
    );
    assert_eq!(
        project_of(Path::new("/tmp/-home-u-app/abc.jsonl")),
        "-home-u-app"
    );
    // A folder named `projects` further up (a copy of the logs kept in ~/projects) does not
    // make every project one.
    assert_eq!(
        project_of(Path::new("/home/u/projects/backup/-home-u-app/abc.jsonl")),
        "-home-u-app"
    );
    assert_eq!(
        project_of(Path::new(
            "/home/u/projects/backup/-home-u-web/abc/subagents/agent-1.jsonl"
        )),
        "-home-u-web"
    );
}

#[test]
fn project_labels_write_any_home_folder_as_tilde() {
    use costlens::import::claude_code::project_label;
    for (cwd, want) in [
        (
            "/Users/dain/workspace/JSSoundRecorder",
            "~/workspace/JSSoundRecorder",
        ),
        ("/home/alice/src/app", "~/src/app"),
        ("/home/alice", "~"),
        ("/root/work", "~/work"),
        ("C:\\Users\\bob\\code\\app", "~\\code\\app"),
        ("/srv/build/app", "/srv/build/app"),
        ("/rootless/x", "/rootless/x"),
        ("/home/", "/home/"),
    ] {
        assert_eq!(project_label(cwd), want, "{cwd}");
    }
}

/// A log line of an assistant response, with `cwd` or without.
fn cwd_line(cwd: Option<&str>, msg: &str, session: &str) -> String {
    let cwd = cwd.map_or(String::new(), |c| format!("\"cwd\":\"{c}\","));
    format!(
        "{{\"parentUuid\":null,\"isSidechain\":false,{cwd}\"sessionId\":\"{session}\",\"type\":\"assistant\",\"timestamp\":\"2026-10-05T10:00:00.000Z\",\"requestId\":\"req_{msg}\",\"message\":{{\"id\":\"msg_{msg}\",\"model\":\"claude-sonnet-4-5-20250929\",\"usage\":{{\"input_tokens\":10,\"output_tokens\":5}}}}}}"
    )
}

#[test]
fn projects_come_from_the_lines_cwd_and_the_folder_only_without_one() {
    let dir = tempfile::tempdir().unwrap();
    // Logs kept under a folder named `projects` that is not Claude Code's: every project
    // folder is its own project all the same.
    let root = dir.path().join("projects").join("backup");
    let a = root.join("-Users-dain-workspace-JSSoundRecorder");
    let b = root.join("-home-alice-src-my-app");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(b.join("s2").join("subagents")).unwrap();
    std::fs::write(
        a.join("s1.jsonl"),
        [
            cwd_line(Some("/Users/dain/workspace/JSSoundRecorder"), "1", "s1"),
            cwd_line(
                Some("/Users/dain/workspace/JSSoundRecorder/sub.dir"),
                "2",
                "s1",
            ),
            cwd_line(None, "3", "s1"),
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(
        b.join("s2.jsonl"),
        cwd_line(Some("/home/alice/src/my-app"), "4", "s2"),
    )
    .unwrap();
    std::fs::write(
        b.join("s2").join("subagents").join("agent-1.jsonl"),
        cwd_line(None, "5", "s2"),
    )
    .unwrap();
    let d = load(&[dir.path().to_path_buf()]).data;
    let mut got: Vec<(String, u64)> = Vec::new();
    for r in &d.records {
        let p = d.symbols.get(r.project).to_owned();
        match got.iter_mut().find(|g| g.0 == p) {
            Some(g) => g.1 += 1,
            None => got.push((p, 1)),
        }
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("-Users-dain-workspace-JSSoundRecorder".to_owned(), 1),
            ("-home-alice-src-my-app".to_owned(), 1),
            ("~/src/my-app".to_owned(), 1),
            ("~/workspace/JSSoundRecorder".to_owned(), 1),
            ("~/workspace/JSSoundRecorder/sub.dir".to_owned(), 1),
        ]
    );
}

#[test]
fn the_cache_keeps_one_pack_per_folder_and_reparses_only_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = Cache::at(&cache_dir);
    let project = dir.path().join("projects").join("p");
    std::fs::create_dir_all(&project).unwrap();
    let pad = format!(
        "{{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{{\"content\":\"{}\"}}}}",
        "w".repeat(cache::MIN_CACHED_BYTES as usize)
    );
    let files: Vec<PathBuf> = (0..4u64)
        .map(|i| {
            let f = project.join(format!("s{i}.jsonl"));
            let line = cc_line(Some(&format!("m{i}")), Some("r"), false, SONNET, 1, 10 + i);
            std::fs::write(&f, format!("{line}\n{pad}\n")).unwrap();
            f
        })
        .collect();
    let opts = Options::default();
    let hits = |c: &Cache| -> Vec<bool> {
        c.parse_paths(&files, &opts, &Control::default())
            .into_iter()
            .map(|r| r.unwrap().1)
            .collect()
    };
    assert_eq!(hits(&cache), [false; 4]);
    assert_eq!(
        cache_entries(&cache_dir).len(),
        1,
        "one pack for the folder"
    );
    assert_eq!(hits(&cache), [true; 4]);
    // One session grows: only it is parsed again, and its new totals are used.
    let mut text = std::fs::read_to_string(&files[2]).unwrap();
    text.push_str(&cc_line(Some("m9"), Some("r9"), false, SONNET, 1, 500));
    text.push('\n');
    std::fs::write(&files[2], text).unwrap();
    let outcomes = cache.parse_paths(&files, &opts, &Control::default());
    let flags: Vec<bool> = outcomes.iter().map(|r| r.as_ref().unwrap().1).collect();
    assert_eq!(flags, [true, true, false, true]);
    assert_eq!(sum_parsed(&outcomes[2].as_ref().unwrap().0).output, 512);
    assert_eq!(hits(&cache), [true; 4]);
    // Importing one file keeps the others' entries; a deleted file's entry is dropped.
    assert!(
        cache
            .parse_path(&files[0], &opts, &Control::default())
            .unwrap()
            .1
    );
    let pack = cache_entries(&cache_dir).pop().unwrap();
    let before = std::fs::metadata(&pack).unwrap().len();
    std::fs::remove_file(&files[3]).unwrap();
    std::fs::write(
        &files[1],
        format!(
            "{}\n{pad}\n",
            cc_line(Some("m1"), Some("r"), false, SONNET, 1, 99)
        ),
    )
    .unwrap();
    assert!(
        !cache
            .parse_path(&files[1], &opts, &Control::default())
            .unwrap()
            .1
    );
    assert!(std::fs::metadata(&pack).unwrap().len() < before);
    let rest = cache.parse_paths(&files[..3], &opts, &Control::default());
    assert!(rest.iter().all(|r| r.as_ref().unwrap().1));
    cache.clear().unwrap();
    assert!(cache_entries(&cache_dir).is_empty());
}

/// An import parses a folder's files over several batches: the folder's pack is written
/// once, after the batch with its last file (not by every batch: a 22,000-session folder was
/// rewritten 22 times), with every file's entry; a second import is answered from it whole.
/// A file that grew is parsed again and its entry replaced, the others copied over; an import
/// cancelled half way leaves the old pack as it was and no temporary file.
#[test]
fn a_folders_pack_is_written_once_per_import_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = Cache::at(&cache_dir);
    let project = dir.path().join("projects").join("p");
    std::fs::create_dir_all(project.join("s0").join("subagents")).unwrap();
    // Six sessions and a subagent log (its entry goes to the project's pack).
    let mut files: Vec<PathBuf> = (0..6u64)
        .map(|i| {
            let f = project.join(format!("s{i}.jsonl"));
            let line = cc_line(Some(&format!("m{i}")), Some("r"), false, SONNET, 1, 10 + i);
            std::fs::write(&f, format!("{line}\n")).unwrap();
            f
        })
        .collect();
    let agent = project.join("s0").join("subagents").join("agent-a.jsonl");
    std::fs::write(
        &agent,
        cc_line(Some("m6"), Some("r"), true, SONNET, 1, 16) + "\n",
    )
    .unwrap();
    files.push(agent);
    let opts = Options::default();
    let control = Control::default();
    let refs: Vec<&PathBuf> = files.iter().collect();
    let keys = cache::keys_of(&refs, &opts);
    let packs = || {
        cache_entries(&cache_dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pack"))
            .collect::<Vec<_>>()
    };
    let batches = [0..3, 3..5, 5..7];
    let run_batches = |control: &Control, stop_after: Option<usize>| {
        let run = cache.run(keys.iter().flatten());
        let mut outcomes = Vec::new();
        let mut packs_seen = Vec::new();
        for (b, r) in batches.iter().enumerate() {
            outcomes.extend(run.parse(&files[r.clone()], keys[r.clone()].to_vec(), &opts, control));
            packs_seen.push(packs().len());
            if stop_after == Some(b) {
                control.cancel.store(true, Ordering::Relaxed);
            }
        }
        run.finish(control);
        (outcomes, packs_seen)
    };
    let (first, seen) = run_batches(&control, None);
    assert!(first.iter().all(|o| !o.as_ref().unwrap().1));
    // No pack until the batch with the folder's last file, then one.
    assert_eq!(seen, [0, 0, 1]);
    let pack = packs().pop().unwrap();
    let (second, _) = run_batches(&control, None);
    let outputs = |o: &[cache::Outcome]| -> Vec<u64> {
        o.iter()
            .map(|o| sum_parsed(&o.as_ref().unwrap().0).output)
            .collect()
    };
    assert!(
        second.iter().all(|o| o.as_ref().unwrap().1),
        "all from the pack"
    );
    assert_eq!(outputs(&second), [10, 11, 12, 13, 14, 15, 16]);

    // Session 4 grows: parsed again; the pack holds its new entry and the six others.
    let mut text = std::fs::read_to_string(&files[4]).unwrap();
    text.push_str(&(cc_line(Some("m9"), Some("r9"), false, SONNET, 1, 500) + "\n"));
    std::fs::write(&files[4], &text).unwrap();
    let keys = cache::keys_of(&refs, &opts);
    let run = cache.run(keys.iter().flatten());
    let third: Vec<cache::Outcome> = batches
        .iter()
        .flat_map(|r| run.parse(&files[r.clone()], keys[r.clone()].to_vec(), &opts, &control))
        .collect();
    run.finish(&control);
    let from_cache: Vec<bool> = third.iter().map(|o| o.as_ref().unwrap().1).collect();
    assert_eq!(from_cache, [true, true, true, true, false, true, true]);
    assert_eq!(outputs(&third), [10, 11, 12, 13, 514, 15, 16]);
    let run = cache.run(keys.iter().flatten());
    let fourth = run.parse(&files, keys.clone(), &opts, &control);
    run.finish(&control);
    assert!(fourth.iter().all(|o| o.as_ref().unwrap().1));
    assert_eq!(outputs(&fourth), [10, 11, 12, 13, 514, 15, 16]);

    // Session 1 changes, and the import is cancelled after its batch: the pack stays as it
    // was, and no temporary file is left.
    let before = std::fs::read(&pack).unwrap();
    std::fs::write(
        &files[1],
        cc_line(Some("m1"), Some("r"), false, SONNET, 1, 99) + "\n",
    )
    .unwrap();
    let cancel = Control::new();
    let keys_now = cache::keys_of(&refs, &opts);
    let run = cache.run(keys_now.iter().flatten());
    let _ = run.parse(&files[..3], keys_now[..3].to_vec(), &opts, &cancel);
    cancel.cancel.store(true, Ordering::Relaxed);
    let _ = run.parse(&files[3..], keys_now[3..].to_vec(), &opts, &cancel);
    run.finish(&cancel);
    assert_eq!(std::fs::read(&pack).unwrap(), before);
    assert_eq!(cache_entries(&cache_dir), [pack]);

    // A file that changed after it was examined (its key taken; session 1, whose new entry
    // the cancelled import did not keep) is parsed as it is now, and not cached under the key
    // it no longer has: the next import parses it again.
    std::fs::write(
        &files[1],
        cc_line(Some("m1"), Some("r"), false, SONNET, 1, 555) + "\n",
    )
    .unwrap();
    let stale = cache.parse_paths_with_keys(&files, keys_now.clone(), &opts, &control);
    assert!(!stale[1].as_ref().unwrap().1);
    assert_eq!(sum_parsed(&stale[1].as_ref().unwrap().0).output, 555);
    let stale = cache.parse_paths_with_keys(&files, keys_now.clone(), &opts, &control);
    assert!(
        !stale[1].as_ref().unwrap().1,
        "not cached under the stale key"
    );
    let again = cache.parse_paths(&files, &opts, &control);
    let from_cache: Vec<bool> = again.iter().map(|o| o.as_ref().unwrap().1).collect();
    assert_eq!(from_cache, [true, false, true, true, true, true, true]);
    assert_eq!(outputs(&again), [10, 555, 12, 13, 514, 15, 16]);
    assert!(
        cache
            .parse_paths(&files, &opts, &control)
            .iter()
            .all(|o| o.as_ref().unwrap().1)
    );
}

/// `CLAUDE_CONFIG_DIR` can only be set for a child process (`set_var` is unsafe, and this
/// crate forbids unsafe code): the test runs itself again with the variable set.
#[test]
fn default_claude_code_dirs_follow_claude_config_dir() {
    use costlens::import::claude_code::{claude_code_dir_candidates, default_claude_code_dirs};
    if let Ok(expect) = std::env::var("COSTLENS_TEST_EXPECT_DIRS") {
        let got: Vec<String> = claude_code_dir_candidates()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(got.join(","), expect);
        let existing: Vec<PathBuf> = default_claude_code_dirs();
        assert_eq!(existing.len(), 1, "{existing:?}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(a.join("projects")).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "import_logs::default_claude_code_dirs_follow_claude_config_dir",
            "--test-threads=1",
        ])
        .env(
            "CLAUDE_CONFIG_DIR",
            format!("{}, {}", a.display(), b.display()),
        )
        .env(
            "COSTLENS_TEST_EXPECT_DIRS",
            format!(
                "{},{}",
                a.join("projects").display(),
                b.join("projects").display()
            ),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

// --- the import snapshot ----------------------------------------------------------------

fn snapshot_files(dir: &Path) -> Vec<PathBuf> {
    cache_entries(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .collect()
}

/// Everything a report is made from must be the same whether the import parsed the files
/// or came from the snapshot.
fn assert_same_dataset(a: &Dataset, b: &Dataset) {
    assert_eq!(a.records, b.records);
    assert_eq!(a.files, b.files);
    assert_eq!(a.rejected, b.rejected);
    assert_eq!(a.billed, b.billed);
    assert_eq!(a.reported, b.reported);
    assert_eq!(a.symbols.len(), b.symbols.len());
    for i in 0..a.symbols.len() as u32 {
        assert_eq!(a.symbols.get(i), b.symbols.get(i));
    }
}

#[test]
fn an_unchanged_import_comes_whole_from_the_snapshot_and_any_change_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let mut spec = costlens_testkit::ClaudeTreeSpec::new(3_000_000, 11);
    spec.tool_result_scale = 0.3;
    costlens_testkit::claude_code_tree(&tree, &spec).unwrap();
    // A file that is not a log: remembered as unrecognised by the snapshot too.
    std::fs::write(tree.join("projects").join("notes.txt"), "not a log\n").unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = Cache::at(&cache_dir);
    let opts = Options::default();
    let run = |paths: &[PathBuf], opts: &Options| {
        load::load_with_cache(paths, opts, &Control::default(), &cache)
    };
    let inputs = vec![tree.clone()];
    let parsed = load(&inputs);
    assert!(!parsed.from_snapshot);

    let cold = run(&inputs, &opts);
    assert!(!cold.from_snapshot);
    assert_same_dataset(&cold.data, &parsed.data);
    assert_eq!(snapshot_files(&cache_dir).len(), 1);
    let control = Control::default();
    let warm = load::load_with_cache(&inputs, &opts, &control, &cache);
    assert!(
        warm.from_snapshot,
        "nothing changed: answered by the snapshot"
    );
    assert_same_dataset(&warm.data, &parsed.data);
    assert_eq!(warm.unrecognised_in_folders, parsed.unrecognised_in_folders);
    assert_eq!(warm.unrecognised_in_folders.len(), 1);
    let (done, total) = control.progress();
    assert_eq!(done, total);
    assert!(total > 2_000_000);
    // The snapshot is read only when made from these files: its manifest is checked on the
    // first bytes, before the rest is read and decoded.
    {
        use costlens::store::snapshot::{self, Manifest};
        let e = costlens::store::walk::examine(&inputs, &opts);
        let (files, folders): (Vec<PathBuf>, Vec<bool>) = e.files.into_iter().unzip();
        let i = snapshot::Inputs::new(&inputs, &opts).unwrap();
        let m = i
            .manifest(&files, &folders, &e.keys)
            .unwrap()
            .with(&0u64.to_le_bytes());
        let kept = snapshot::read_if(&cache_dir, &i, &m).expect("made from these files");
        assert_same_dataset(&kept.data, &parsed.data);
        let other = Manifest::from_raw(m.raw() ^ 1);
        assert!(snapshot::read_if(&cache_dir, &i, &other).is_none());
    }

    let session = parsed
        .data
        .files
        .iter()
        .map(|f| PathBuf::from(&f.path))
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();

    // A pack or snapshot left half-written by a killed import is removed by the next
    // import that parses; so is a pack or snapshot unused for a month, and one used is marked
    // as used.
    let stray = cache_dir.join(format!("{}pack", costlens::store::atomic::TEMP_PREFIX));
    std::fs::write(&stray, b"costlens-pack\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stray)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let unused = cache_dir.join("0000000000000000.pack");
    std::fs::write(&unused, b"costlens-pack\n").unwrap();
    // Not ours (the cache folder may be shared): never removed.
    let foreign = cache_dir.join("notes.bin");
    std::fs::write(&foreign, b"someone else's").unwrap();
    let month_ago = std::time::SystemTime::now() - cache::UNUSED_FOR - Duration::from_secs(60);
    for p in cache_entries(&cache_dir) {
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(month_ago).unwrap();
    }
    assert!(run(&inputs, &opts).from_snapshot);
    let snap = snapshot_files(&cache_dir).pop().unwrap();
    let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    // The packs the snapshot's files are in are marked too: they must outlive it.
    let packs: Vec<PathBuf> = cache_entries(&cache_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "pack") && *p != unused)
        .collect();
    assert!(!packs.is_empty());
    assert!(
        packs
            .iter()
            .all(|p| modified(p) > month_ago + Duration::from_secs(3600))
    );
    assert!(modified(&unused) < month_ago + Duration::from_secs(3600));
    let used = modified(&snap);
    assert!(
        used > month_ago + Duration::from_secs(3600),
        "marked as used"
    );
    // A session grows (a live Claude Code session): its new response is counted.
    let mut text = std::fs::read_to_string(&session).unwrap();
    text.push_str(&cc_line(
        Some("m-new"),
        Some("r-new"),
        false,
        SONNET,
        7,
        4321,
    ));
    text.push('\n');
    std::fs::write(&session, text).unwrap();
    let grown = run(&inputs, &opts);
    assert!(!grown.from_snapshot);
    assert!(!stray.exists() && !unused.exists());
    assert!(snap.exists() && packs.iter().all(|p| p.exists()) && foreign.exists());
    assert_eq!(grown.data.records.len(), parsed.data.records.len() + 1);
    assert_eq!(
        sum(&grown.data.records).output,
        sum(&parsed.data.records).output + 4321
    );
    let warm = run(&inputs, &opts);
    assert!(warm.from_snapshot);
    assert_same_dataset(&warm.data, &grown.data);

    // Only touched (same bytes, new modification time): not trusted, parsed again.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&session)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(!run(&inputs, &opts).from_snapshot);
    assert!(run(&inputs, &opts).from_snapshot);

    // A new session file, then a deleted one: both noticed.
    let extra = session.with_file_name("zz-new-session.jsonl");
    std::fs::write(
        &extra,
        format!(
            "{}\n",
            cc_line(Some("m-x"), Some("r-x"), false, SONNET, 1, 5)
        ),
    )
    .unwrap();
    let added = run(&inputs, &opts);
    assert!(!added.from_snapshot);
    assert_eq!(added.data.records.len(), grown.data.records.len() + 1);
    std::fs::remove_file(&extra).unwrap();
    let removed = run(&inputs, &opts);
    assert!(!removed.from_snapshot);
    assert_same_dataset(&removed.data, &grown.data);

    // A damaged snapshot is ignored and rebuilt.
    let snap = snapshot_files(&cache_dir).pop().unwrap();
    let mut bytes = std::fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&snap, &bytes).unwrap();
    let rebuilt = run(&inputs, &opts);
    assert!(!rebuilt.from_snapshot);
    assert_same_dataset(&rebuilt.data, &grown.data);
    assert!(run(&inputs, &opts).from_snapshot);
    std::fs::write(&snap, &bytes[..mid]).unwrap();
    assert!(!run(&inputs, &opts).from_snapshot);

    // Other inputs or options are another snapshot, not a wrong answer.
    let one_project = vec![
        tree.join("projects").join(
            session
                .strip_prefix(tree.join("projects"))
                .unwrap()
                .components()
                .next()
                .unwrap(),
        ),
    ];
    let part = run(&one_project, &opts);
    assert!(!part.from_snapshot);
    assert!(part.data.records.len() < grown.data.records.len());
    let dated = Options {
        date: Some(1_700_000_000),
        ..Options::default()
    };
    assert!(!run(&inputs, &dated).from_snapshot);
    assert!(run(&inputs, &opts).from_snapshot);

    // An import that met an error is not snapshotted: the error is met again next time.
    let missing = vec![tree.clone(), dir.path().join("no-such-file.csv")];
    let failed = run(&missing, &opts);
    assert_eq!(failed.errors.len(), 1);
    let again = run(&missing, &opts);
    assert!(!again.from_snapshot);
    assert_eq!(again.errors.len(), 1);
    cache.clear().unwrap();
    assert!(snapshot_files(&cache_dir).is_empty());
    assert_eq!(cache_entries(&cache_dir), [foreign]);
}

/// An import of thousands of files is parsed a batch at a time and merged in order: the
/// same responses spread over files of different batches are still counted once, with the
/// de-duplication rules applied across batches.
#[test]
fn responses_repeated_across_thousands_of_files_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("projects").join("p");
    std::fs::create_dir_all(&project).unwrap();
    let n = 2_600u64;
    let mut expected: std::collections::BTreeMap<String, (bool, u64)> = Default::default();
    for k in 0..n {
        // 40 responses, each written by 65 sessions far apart in the file order: copy k has
        // output k (of copies of one kind the largest wins) and every other round of 40 is
        // a sidechain copy (a main-thread copy wins over any sidechain copy).
        let id = format!("m{}", k % 40);
        let sidechain = (k / 40) % 2 == 1;
        let line = cc_line(
            Some(&id),
            Some(&format!("r{}", k % 40)),
            sidechain,
            SONNET,
            1,
            k,
        );
        std::fs::write(project.join(format!("s{k:05}.jsonl")), line + "\n").unwrap();
        let e = expected.entry(id).or_insert((sidechain, k));
        if costlens::import::merge::replaces(e.0, 1 + e.1, sidechain, 1 + k) {
            *e = (sidechain, k);
        }
    }
    let loaded = load(&[dir.path().to_path_buf()]);
    assert!(loaded.errors.is_empty());
    assert_eq!(loaded.data.files.len(), n as usize);
    assert_eq!(loaded.data.records.len(), 40);
    let want: u64 = expected.values().map(|e| e.1).sum();
    assert_eq!(sum(&loaded.data.records).output, want);
    // Main-thread copies win, and the largest of them: rounds 0, 2, ... 64, so the last.
    let mut kept: Vec<u64> = loaded
        .data
        .records
        .iter()
        .map(|r| r.tokens.output)
        .collect();
    kept.sort();
    assert_eq!(kept, (0..40).map(|j| 64 * 40 + j).collect::<Vec<u64>>());
    let merged: u64 = loaded.data.files.iter().map(|f| f.duplicates).sum();
    assert_eq!(merged, n - 40);
}

/// An import of more files than one batch holds (files are parsed a batch at a time, the next
/// batch while the last is merged and recorded): duplicates across batches count once, by the
/// rules of formats.md section 7 (the main-thread copy over a sidechain copy, else the larger
/// token total), and the history keeps every file, so that deleting half of them changes
/// nothing. The figures are worked out here from how the files were written.
#[test]
fn an_import_of_several_batches_merges_across_them_and_records_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("projects");
    let n = 2_500usize;
    let line = |id: usize, sidechain: bool, output: u64| {
        let id = format!("msg_{id}");
        let req = id.replace("msg", "req");
        cc_line(Some(&id), Some(&req), sidechain, SONNET, 10, output)
    };
    // File i holds response i (10 input, i + 1 output tokens); some files also hold a copy
    // of a response of a file in another batch.
    let mut files: Vec<Vec<String>> = (0..n).map(|i| vec![line(i, false, i as u64 + 1)]).collect();
    // Sidechain copies with more output: the main-thread copies (outputs 4, 701, 1101) stay.
    for (of, into) in [(3, 1_500), (700, 2_400), (1_100, 50)] {
        files[into].push(line(of, true, 100_000));
    }
    // A main-thread copy with more output in a later batch: it replaces response 20's 21.
    files[2_000].push(line(20, false, 5_000));
    let mut paths = Vec::new();
    for (i, lines) in files.iter().enumerate() {
        let folder = root.join(format!("p{:02}", i / 100));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("s{i:04}.jsonl"));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        paths.push(path);
    }
    let output: u64 = (1..=n as u64).sum::<u64>() - 21 + 5_000;
    assert_eq!(output, 3_131_229);
    let choice = load::HistoryChoice {
        path: dir.path().join("history.sqlite"),
        all_files: false,
    };
    let run = || {
        load::load_with_history(
            std::slice::from_ref(&root),
            &Options::default(),
            &Control::default(),
            &Cache::disabled(),
            Some(&choice),
        )
    };
    let first = run();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(first.data.files.len(), n);
    assert_eq!(first.data.records.len(), n);
    let t = sum(&first.data.records);
    assert_eq!((t.uncached_input, t.output), (25_000, 3_131_229));
    let h = first.data.history.as_ref().expect("history used");
    // Every file's records, before the files are merged: 2,500 plus the 4 copies.
    assert_eq!((h.recorded, h.requests_from_deleted_logs), (2_504, 0));

    // Every second file deleted (among them files 3, 1,500, 2,000 and 20's copy's): their
    // usage comes from the history, counted once.
    for p in paths.iter().step_by(2) {
        std::fs::remove_file(p).unwrap();
    }
    let second = run();
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    let t = sum(&second.data.records);
    assert_eq!((t.uncached_input, t.output), (25_000, 3_131_229));
    assert_eq!(second.data.records.len(), n);
    let h = second.data.history.as_ref().expect("history used");
    assert_eq!(h.recorded, 0);
    assert_eq!(h.requests_from_deleted_logs, 1_250);

    // A file that is left grows by one response: it alone is recorded again (its two
    // records), the 1,249 others not; the new response counts once more.
    let grown = &paths[1];
    let mut text = std::fs::read_to_string(grown).unwrap();
    text.push_str(&(line(n, false, 7) + "\n"));
    std::fs::write(grown, text).unwrap();
    let third = run();
    assert!(third.errors.is_empty(), "{:?}", third.errors);
    let t = sum(&third.data.records);
    assert_eq!((t.uncached_input, t.output), (25_010, 3_131_236));
    let h = third.data.history.as_ref().expect("history used");
    assert_eq!((h.recorded, h.requests_from_deleted_logs), (2, 1_250));

    // Cancelled: the import stops at the first batch handed over (the thread parsing the
    // next one stops too) and says so, with nothing imported.
    let control = Control::new();
    control.cancel.store(true, Ordering::Relaxed);
    let cancelled = load::load_with_cache(
        std::slice::from_ref(&root),
        &Options::default(),
        &control,
        &Cache::disabled(),
    );
    assert!(
        matches!(cancelled.errors.as_slice(), [ImportError::Cancelled(_)]),
        "{:?}",
        cancelled.errors
    );
    assert!(cancelled.data.is_empty());
}
