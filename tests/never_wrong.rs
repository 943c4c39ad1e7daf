//! "No figure wrong without the user being told": one test (or a few) per case of the issue,
//! each with the figure it must give, typed in by hand from pricing.md's prices (never taken
//! from the code under test).
//!
//! Prices used here (pricing.md, standard tier, USD per million tokens):
//! Sonnet 4.5 input $3 (long context $6), output $15; Haiku 4.5 input $1.
//! So 1,000,000 Sonnet 4.5 input tokens cost $3.00.
//!
//! Most tests run the `costlens` binary on files written to a temporary folder (with the
//! import cache off, as `tests/cli.rs` does), and read its `--json`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SONNET: &str = "claude-sonnet-4-5-20250929";
const USAGE_HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count,inference_geo,speed";
const COST_HEADER: &str = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,cost_type,inference_geo,speed";
const SAMPLE: &str = "sample-data/claude_api_tokens_2026_08-10.csv";

// ---------------------------------------------------------------------------------------
// Helpers.

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_costlens"));
    // The user's usage history is neither written nor read by tests.
    c.env("COSTLENS_NO_HISTORY", "1");
    c.env("COSTLENS_NO_CACHE", "1")
        .env_remove("COSTLENS_CACHE_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    c
}

/// Runs `costlens args` in `dir` (without the import cache), with a time limit: a command
/// that blocks (writing into a FIFO) fails the test instead of hanging it.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = bin();
    c.args(args).current_dir(dir);
    run_limited(c, Duration::from_secs(300))
}

fn run_limited(mut c: Command, limit: Duration) -> Output {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Drain the pipes on threads so that a big output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("costlens did not finish within {limit:?}: {c:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `costlens report FILES... --json` in `dir`, which must succeed.
fn report(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.push("--json");
    let o = run_in(dir, &all);
    assert_eq!(o.status.code(), Some(0), "{all:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{all:?}: not JSON ({e})"))
}

fn usd(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[track_caller]
fn assert_usd(got: &Value, want: f64) {
    let g = usd(got);
    assert!(
        (g - want).abs() <= 1e-9 * want.abs().max(1.0),
        "got ${g}, want ${want}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A Console usage CSV row: `input` uncached input tokens of `model` on `date`.
fn usage_row(date: &str, model: &str, key: &str, ctx: &str, input: u64) -> String {
    format!("{date},{model},{key},Default,standard,{ctx},{input},0,0,0,0,0,not_available,")
}

/// A Console usage CSV of `rows`.
fn usage_csv(rows: &[String]) -> String {
    let mut s = String::from(USAGE_HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

/// A Console cost CSV row: `usd` of Sonnet 4.5 uncached input on `date`.
fn cost_row(date: &str, key: &str, usd: &str) -> String {
    format!(
        "{date},Claude Sonnet 4.5,Default,{key},standard,≤ 200k,input_no_cache,{usd},token,not_available,"
    )
}

fn cost_csv(rows: &[String]) -> String {
    let mut s = String::from(COST_HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn reasons(r: &Value) -> Vec<String> {
    r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reason"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Identity: every row of one file counts.

/// Two API keys named alike (the Console allows it) on the same day: $3 + $6 = $9.00. The
/// second row was dropped as "already loaded": $3.00.
#[test]
fn two_keys_sharing_a_name_on_one_day_both_count() {
    let d = tmp();
    write(
        d.path(),
        "keys.csv",
        &usage_csv(&[
            usage_row("2026-08-01", SONNET, "shared-name", "≤ 200k", 1_000_000),
            usage_row("2026-08-01", SONNET, "shared-name", "≤ 200k", 2_000_000),
        ]),
    );
    let r = report(d.path(), &["keys.csv"]);
    assert_usd(&r["actual_usd"], 9.00);
    assert_eq!(r["tokens"]["uncached_input"], 3_000_000);
    assert_eq!(r["files"][0]["rows"], 2);
    assert_eq!(r["files"][0]["duplicates"], 0);
    let notes = strings(&r["files"][0]["notes"]);
    assert!(
        notes.iter().any(|n| n.contains("all are counted")),
        "the report says the repeated row was counted: {notes:?}"
    );
}

/// Two equal rows in one file: both count, $3 + $3 = $6.00 (one was dropped: $3.00).
#[test]
fn two_equal_rows_in_one_file_both_count() {
    let d = tmp();
    let row = usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000);
    write(d.path(), "twice.csv", &usage_csv(&[row.clone(), row]));
    let r = report(d.path(), &["twice.csv"]);
    assert_usd(&r["actual_usd"], 6.00);
}

// ---------------------------------------------------------------------------------------
// Identity: across files the same usage counts once, from the copy with the most tokens.

/// The early export holds 2026-08-01 in full and 2026-08-02 still partial (300,000 tokens);
/// the late one 2026-08-02 in full (1,000,000) and 2026-08-03. Right: $3 + $3 + $3 = $9.00
/// in either order (the first file read used to win: $6.90 one way, $9.00 the other);
/// `--sum-overlaps` adds the copies: $3 + $0.90 + $3 + $3 = $9.90.
fn partial_day_exports(dir: &Path) {
    write(
        dir,
        "early.csv",
        &usage_csv(&[
            usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000),
            usage_row("2026-08-02", SONNET, "k", "≤ 200k", 300_000),
        ]),
    );
    write(
        dir,
        "late.csv",
        &usage_csv(&[
            usage_row("2026-08-02", SONNET, "k", "≤ 200k", 1_000_000),
            usage_row("2026-08-03", SONNET, "k", "≤ 200k", 1_000_000),
        ]),
    );
}

#[test]
fn overlapping_exports_with_a_partial_day_total_the_same_in_either_order() {
    let d = tmp();
    partial_day_exports(d.path());
    for order in [["early.csv", "late.csv"], ["late.csv", "early.csv"]] {
        let r = report(d.path(), &order);
        assert_usd(&r["actual_usd"], 9.00);
        assert_eq!(r["tokens"]["uncached_input"], 3_000_000, "{order:?}");
        // The overlap is reported: both files, the day they share, one row, not summed.
        let o = r["overlaps"].as_array().unwrap();
        assert_eq!(o.len(), 1, "{order:?}: {o:?}");
        assert_eq!(strings(&o[0]["files"]), order);
        assert_eq!(strings(&o[0]["days"]), ["2026-08-02"]);
        assert_eq!(o[0]["rows"], 1);
        assert_eq!(o[0]["summed"], false);
        // By day: the full copy of 2026-08-02 ($3.00), whatever the order.
        let day2 = r["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["period"] == "2026-08-02")
            .unwrap();
        assert_usd(&day2["actual_usd"], 3.00);
    }
}

#[test]
fn sum_overlaps_adds_the_copies_up() {
    let d = tmp();
    partial_day_exports(d.path());
    for order in [["early.csv", "late.csv"], ["late.csv", "early.csv"]] {
        let r = report(d.path(), &[order[0], order[1], "--sum-overlaps"]);
        assert_usd(&r["actual_usd"], 9.90);
        assert_eq!(r["overlaps"][0]["summed"], true);
        assert_eq!(strings(&r["overlaps"][0]["days"]), ["2026-08-02"]);
    }
    // The text report names both files and the day.
    let o = run_in(d.path(), &["report", "early.csv", "late.csv"]);
    let text = stdout(&o);
    assert!(
        text.contains("overlap: early.csv and late.csv") && text.contains("2026-08-02"),
        "{text}"
    );
}

/// Overlapping cost exports: 2026-08-02 is in both ($0.90 while partial, $3.00 in full):
/// billed $3 + $3 + $3 = $9.00 in either order (both copies were counted: $9.90).
#[test]
fn overlapping_cost_exports_are_billed_once() {
    let d = tmp();
    write(
        d.path(),
        "cost_early.csv",
        &cost_csv(&[
            cost_row("2026-08-01", "k", "3.00"),
            cost_row("2026-08-02", "k", "0.90"),
        ]),
    );
    write(
        d.path(),
        "cost_late.csv",
        &cost_csv(&[
            cost_row("2026-08-02", "k", "3.00"),
            cost_row("2026-08-03", "k", "3.00"),
        ]),
    );
    for order in [
        ["cost_early.csv", "cost_late.csv"],
        ["cost_late.csv", "cost_early.csv"],
    ] {
        let r = report(d.path(), &order);
        assert_usd(&r["billed_usd"], 9.00);
        assert_eq!(strings(&r["overlaps"][0]["days"]), ["2026-08-02"]);
        assert_eq!(strings(&r["overlaps"][0]["files"]), order);
        let r = report(d.path(), &[order[0], order[1], "--sum-overlaps"]);
        assert_usd(&r["billed_usd"], 9.90);
    }
}

/// An Admin API report names keys by ID: the same bucket saved twice in one file (a page
/// saved twice) counts once, and so does the file loaded again under another name.
/// $3.00 either way (a page repeated inside the second copy used to be summed against the
/// first: $6.00).
#[test]
fn an_admin_page_saved_twice_counts_once_in_one_file_and_across_files() {
    let d = tmp();
    let page = admin_page("2026-08-01", &[("apikey_01", 1_000_000)]);
    let text = format!("{page}\n{page}\n");
    write(d.path(), "pages.json", &text);
    write(d.path(), "pages-copy.json", &text);
    let r = report(d.path(), &["pages.json"]);
    assert_usd(&r["actual_usd"], 3.00);
    for order in [
        ["pages.json", "pages-copy.json"],
        ["pages-copy.json", "pages.json"],
    ] {
        let r = report(d.path(), &order);
        assert_usd(&r["actual_usd"], 3.00);
        assert_eq!(r["tokens"]["uncached_input"], 1_000_000);
    }
}

/// An Admin cost report without `group_by[]=description`: results carry only an amount, a
/// description and a cost type. Two results of one day whose descriptions name no model
/// ("Foo thing" $1.00, "Bar thing" $2.00) are two amounts, not a page saved twice; with
/// $3.00 and $4.00 of Sonnet input (two workspaces) the bill is $10.00 (the $1.00 was
/// dropped as a repeat of the $2.00: $9.00). The same report under another name adds
/// nothing; a later copy where a result grew ($4.00 to $5.00) counts the larger: $11.00.
#[test]
fn admin_cost_results_told_apart_only_by_description_are_all_billed() {
    let d = tmp();
    let page = |sonnet_w2_cents: &str| {
        serde_json::json!({
            "data": [{
                "starting_at": "2026-08-01T00:00:00Z",
                "ending_at": "2026-08-02T00:00:00Z",
                "results": [
                    {"currency": "USD", "amount": "100", "description": "Foo thing", "cost_type": "other"},
                    {"currency": "USD", "amount": "200", "description": "Bar thing", "cost_type": "other"},
                    {"currency": "USD", "amount": "300", "description": "Claude Sonnet 4.5 Usage - Input Tokens", "cost_type": "tokens", "workspace_id": "wrkspc_1"},
                    {"currency": "USD", "amount": sonnet_w2_cents, "description": "Claude Sonnet 4.5 Usage - Input Tokens", "cost_type": "tokens", "workspace_id": "wrkspc_2"}
                ]
            }],
            "has_more": false
        })
        .to_string()
    };
    write(d.path(), "cost.json", &page("400"));
    write(d.path(), "cost-again.json", &page("400"));
    write(d.path(), "cost-later.json", &page("500"));
    let r = report(d.path(), &["cost.json"]);
    assert_usd(&r["billed_usd"], 10.00);
    assert_eq!(r["files"][0]["rows"], 4);
    // A page saved twice in the file: still $10.00.
    write(
        d.path(),
        "twice.json",
        &format!("{}\n{}\n", page("400"), page("400")),
    );
    let r = report(d.path(), &["twice.json"]);
    assert_usd(&r["billed_usd"], 10.00);
    for order in [
        ["cost.json", "cost-again.json"],
        ["cost-again.json", "cost.json"],
    ] {
        let r = report(d.path(), &order);
        assert_usd(&r["billed_usd"], 10.00);
    }
    for order in [
        ["cost.json", "cost-later.json"],
        ["cost-later.json", "twice.json"],
    ] {
        let r = report(d.path(), &order);
        assert_usd(&r["billed_usd"], 11.00);
        assert_eq!(strings(&r["overlaps"][0]["days"]), ["2026-08-01"]);
    }
}

/// One Admin usage page (compact JSON) of one daily bucket: Sonnet 4.5 uncached input per key.
fn admin_page(day: &str, keys: &[(&str, u64)]) -> String {
    let results: Vec<Value> = keys
        .iter()
        .map(|(k, input)| {
            serde_json::json!({
                "api_key_id": k, "workspace_id": "wrkspc_01", "model": SONNET,
                "service_tier": "standard", "context_window": "0-200k",
                "inference_geo": "global", "uncached_input_tokens": input,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
                "cache_read_input_tokens": 0, "output_tokens": 0,
                "server_tool_use": {"web_search_requests": 0}
            })
        })
        .collect();
    let next = next_day(day);
    serde_json::json!({
        "data": [{
            "starting_at": format!("{day}T00:00:00Z"),
            "ending_at": format!("{next}T00:00:00Z"),
            "results": results
        }],
        "has_more": false,
        "next_page": null
    })
    .to_string()
}

fn next_day(day: &str) -> String {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    (d + chrono::Days::new(1)).format("%Y-%m-%d").to_string()
}

/// One API response (same id) in two logs, counted once, with the same total but split
/// otherwise (100,000 input tokens, $0.30, in one; 100,000 output tokens, $1.50, in the
/// other): which copy counts must not depend on the order of the files (the first read won:
/// $0.30 one way, $1.50 the other). The larger counts category by category win: input first.
#[test]
fn copies_of_one_response_with_equal_totals_count_the_same_in_either_order() {
    let d = tmp();
    let line = |input: u64, output: u64| {
        format!(
            "{{\"timestamp\":\"2026-08-01T10:00:00Z\",\"response\":{{\"id\":\"msg_same\",\"type\":\"message\",\"model\":\"{SONNET}\",\"usage\":{{\"input_tokens\":{input},\"output_tokens\":{output}}}}}}}\n"
        )
    };
    write(d.path(), "a.jsonl", &line(100_000, 0));
    write(d.path(), "b.jsonl", &line(0, 100_000));
    for order in [["a.jsonl", "b.jsonl"], ["b.jsonl", "a.jsonl"]] {
        let r = report(d.path(), &order);
        assert_usd(&r["actual_usd"], 0.30);
        assert_eq!(r["requests"], 1);
    }
    // The same within one file, whichever line comes first.
    write(
        d.path(),
        "ab.jsonl",
        &(line(100_000, 0) + &line(0, 100_000)),
    );
    write(
        d.path(),
        "ba.jsonl",
        &(line(0, 100_000) + &line(100_000, 0)),
    );
    for f in ["ab.jsonl", "ba.jsonl"] {
        assert_usd(&report(d.path(), &[f])["actual_usd"], 0.30);
    }
}

/// Flat Messages records without an `id` (never de-duplicated), the same file given as `f`,
/// `./f` and through a symbolic link: one file, 60,000 + 40,000 input tokens = $0.30 (it was
/// counted three times: $0.90).
#[test]
fn the_same_file_by_three_paths_counts_once() {
    let d = tmp();
    write(
        d.path(),
        "f.jsonl",
        &format!(
            "{{\"timestamp\":\"2026-08-01T10:00:00Z\",\"model\":\"{SONNET}\",\"input_tokens\":60000,\"output_tokens\":0}}\n\
             {{\"timestamp\":\"2026-08-01T11:00:00Z\",\"model\":\"{SONNET}\",\"input_tokens\":40000,\"output_tokens\":0}}\n"
        ),
    );
    std::os::unix::fs::symlink(d.path().join("f.jsonl"), d.path().join("link.jsonl")).unwrap();
    let r = report(d.path(), &["f.jsonl", "./f.jsonl", "link.jsonl"]);
    assert_usd(&r["actual_usd"], 0.30);
    assert_eq!(r["requests"], 2);
    let notes = strings(&r["notes"]);
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("is the same file as f.jsonl"))
            .count(),
        2,
        "{notes:?}"
    );
    // A folder and a file in it: the file is read once too.
    let r = report(d.path(), &[".", "f.jsonl"]);
    assert_usd(&r["actual_usd"], 0.30);
}

// ---------------------------------------------------------------------------------------
// Identity: two kinds of source over the same days are flagged.

/// A daily and an hourly export of one day: the same usage twice ($3 + $3 = $6.00), flagged
/// as a likely double count, and `--only-source console_usage_daily` gives the daily $3.00.
#[test]
fn a_daily_and_an_hourly_export_of_one_day_are_flagged() {
    let d = tmp();
    write(
        d.path(),
        "daily.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    write(
        d.path(),
        "hourly.csv",
        &usage_csv(&[
            usage_row("2026-08-01 09:00", SONNET, "k", "≤ 200k", 400_000),
            usage_row("2026-08-01 10:00", SONNET, "k", "≤ 200k", 600_000),
        ]),
    );
    let r = report(d.path(), &["daily.csv", "hourly.csv"]);
    assert_usd(&r["actual_usd"], 6.00);
    let dc = r["double_counts"].as_array().unwrap();
    assert_eq!(dc.len(), 1, "{dc:?}");
    assert_eq!(
        strings(&dc[0]["sources"]),
        ["console_usage_daily", "console_usage_hourly"]
    );
    assert_eq!(strings(&dc[0]["days"]), ["2026-08-01"]);
    assert_eq!(strings(&dc[0]["files"]), ["daily.csv", "hourly.csv"]);
    let r = report(
        d.path(),
        &[
            "daily.csv",
            "hourly.csv",
            "--only-source",
            "console_usage_daily",
        ],
    );
    assert_usd(&r["actual_usd"], 3.00);
    let r = report(
        d.path(),
        &[
            "daily.csv",
            "hourly.csv",
            "--only-source",
            "console_usage_hourly",
        ],
    );
    assert_usd(&r["actual_usd"], 3.00);
    // The text report and the JSON run's stderr say it, with the flag that fixes it.
    let text = stdout(&run_in(d.path(), &["report", "daily.csv", "hourly.csv"]));
    assert!(
        text.contains("likely counted twice") && text.contains("--only-source console_usage_daily"),
        "{text}"
    );
    let o = run_in(d.path(), &["report", "daily.csv", "hourly.csv", "--json"]);
    assert!(
        stderr(&o).contains("likely counted twice"),
        "{}",
        stderr(&o)
    );
}

/// A Console export and an Admin report of the same day: $6.00, flagged; keeping one gives
/// $3.00.
#[test]
fn a_console_export_and_an_admin_report_of_the_same_days_are_flagged() {
    let d = tmp();
    write(
        d.path(),
        "console.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    write(
        d.path(),
        "admin.json",
        &admin_page("2026-08-01", &[("apikey_01", 1_000_000)]),
    );
    let r = report(d.path(), &["console.csv", "admin.json"]);
    assert_usd(&r["actual_usd"], 6.00);
    let dc = r["double_counts"].as_array().unwrap();
    assert_eq!(dc.len(), 1, "{dc:?}");
    assert_eq!(
        strings(&dc[0]["sources"]),
        ["console_usage_daily", "admin_usage_daily"]
    );
    assert_eq!(strings(&dc[0]["days"]), ["2026-08-01"]);
    let r = report(
        d.path(),
        &[
            "console.csv",
            "admin.json",
            "--only-source",
            "admin_usage_daily",
        ],
    );
    assert_usd(&r["actual_usd"], 3.00);
}

/// The Console's cost export and the Admin cost report of the same day: the same $3.00 bill
/// twice ($6.00 billed, and $6.00 of usage derived from it), with no word. Flagged now, and
/// `--only-source` keeps one, billed rows included: $3.00.
#[test]
fn a_console_cost_export_and_an_admin_cost_report_of_the_same_days_are_flagged() {
    let d = tmp();
    write(
        d.path(),
        "cost.csv",
        &cost_csv(&[cost_row("2026-08-01", "k", "3.00")]),
    );
    let admin = serde_json::json!({
        "data": [{
            "starting_at": "2026-08-01T00:00:00Z",
            "ending_at": "2026-08-02T00:00:00Z",
            "results": [{
                "currency": "USD", "amount": "300", "cost_type": "tokens",
                "description": "Claude Sonnet 4.5 Usage - Input Tokens",
                "model": SONNET, "token_type": "uncached_input_tokens",
                "service_tier": "standard", "context_window": "0-200k"
            }]
        }],
        "has_more": false
    });
    write(d.path(), "cost.json", &admin.to_string());
    let r = report(d.path(), &["cost.csv", "cost.json"]);
    assert_usd(&r["billed_usd"], 6.00);
    let dc = r["double_counts"].as_array().unwrap();
    assert_eq!(dc.len(), 1, "{dc:?}");
    assert_eq!(strings(&dc[0]["sources"]), ["console_cost", "admin_cost"]);
    assert_eq!(strings(&dc[0]["days"]), ["2026-08-01"]);
    assert_eq!(strings(&dc[0]["files"]), ["cost.csv", "cost.json"]);
    for keep in ["console_cost", "admin_cost"] {
        let r = report(d.path(), &["cost.csv", "cost.json", "--only-source", keep]);
        assert_usd(&r["billed_usd"], 3.00);
        assert_usd(&r["actual_usd"], 3.00);
        assert_eq!(r["tokens"]["uncached_input"], 1_000_000, "{keep}");
    }
    // A usage export of the same day is reconciled against either, not flagged.
    write(
        d.path(),
        "usage.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    let r = report(d.path(), &["usage.csv", "cost.json"]);
    assert_eq!(r["double_counts"], serde_json::json!([]));
    assert_usd(&r["actual_usd"], 3.00);
    assert_usd(&r["billed_usd"], 3.00);
}

/// Two exports of different days of the same kind are not a double count, and neither are
/// a usage export and the cost export it is reconciled against.
#[test]
fn different_days_or_a_usage_and_a_cost_export_are_not_flagged() {
    let d = tmp();
    write(
        d.path(),
        "aug1.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    write(
        d.path(),
        "aug1_hourly_other_day.csv",
        &usage_csv(&[usage_row(
            "2026-08-02 10:00",
            SONNET,
            "k",
            "≤ 200k",
            1_000_000,
        )]),
    );
    write(
        d.path(),
        "cost.csv",
        &cost_csv(&[cost_row("2026-08-01", "k", "3.00")]),
    );
    let r = report(
        d.path(),
        &["aug1.csv", "aug1_hourly_other_day.csv", "cost.csv"],
    );
    assert_usd(&r["actual_usd"], 6.00);
    assert_usd(&r["billed_usd"], 3.00);
    assert_eq!(r["double_counts"], serde_json::json!([]));
    assert_eq!(r["overlaps"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------
// Context-window labels.

/// pricing.md's prices of the sample's models: input, 5m write, 1h write, read, output.
fn list_rates(model: &str, long: bool) -> [f64; 5] {
    match (model, long) {
        ("claude-sonnet-4-5-20250929", false) => [3.0, 3.75, 6.0, 0.30, 15.0],
        ("claude-sonnet-4-5-20250929", true) => [6.0, 7.50, 12.0, 0.60, 22.50],
        ("claude-haiku-4-5-20251001", _) => [1.0, 1.25, 2.0, 0.10, 5.0],
        ("claude-opus-4-5-20251101", _) => [5.0, 6.25, 10.0, 0.50, 25.0],
        ("claude-3-haiku-20240307", _) => [0.25, 0.30, 0.50, 0.03, 1.25],
        (m, _) => panic!("the sample has a model this test does not price: {m}"),
    }
}

/// The sample usage CSV priced row by row, by hand (batch at 50%, web search $10/1,000),
/// reading `≤ 200k` as standard and `> 200k` as long context.
fn recompute_sample() -> f64 {
    let mut rdr =
        csv::Reader::from_path(Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE)).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let tokens = [
        col("usage_input_tokens_no_cache"),
        col("usage_input_tokens_cache_write_5m"),
        col("usage_input_tokens_cache_write_1h"),
        col("usage_input_tokens_cache_read"),
        col("usage_output_tokens"),
    ];
    let (c_model, c_tier, c_ctx, c_web) = (
        col("model_version"),
        col("usage_type"),
        col("context_window"),
        col("web_search_count"),
    );
    let mut total = 0.0;
    for row in rdr.records() {
        let row = row.unwrap();
        let long = match &row[c_ctx] {
            "≤ 200k" => false,
            "> 200k" => true,
            other => panic!("the sample has a label this test does not know: {other}"),
        };
        let rates = list_rates(&row[c_model], long);
        let cost: f64 = tokens
            .iter()
            .zip(rates)
            .map(|(&c, rate)| row[c].parse::<f64>().unwrap() * rate / 1e6)
            .sum();
        let tier = if &row[c_tier] == "batch" { 0.5 } else { 1.0 };
        total += tier * cost + row[c_web].parse::<f64>().unwrap() * 10.0 / 1000.0;
    }
    total
}

/// The sample saved by Excel in a non-UTF-8 encoding: `≤ 200k` becomes `? 200k`. Read as up
/// to 200k, with a note: the total stays $3,869.49 (it was priced as long context:
/// $5,508.94).
#[test]
fn excel_question_mark_labels_are_standard_context_with_a_note() {
    let d = tmp();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE))
        .unwrap()
        .replace("≤ 200k", "? 200k");
    write(d.path(), "excel.csv", &text);
    let want = recompute_sample();
    assert!(
        (want - 3869.49).abs() < 0.005,
        "the sample recomputes to {want}"
    );
    let r = report(d.path(), &["excel.csv"]);
    let got = usd(&r["actual_usd"]);
    assert!((got - want).abs() < 1e-6, "got {got}, want {want}");
    // And the same as the file as exported.
    let untouched = report(Path::new(env!("CARGO_MANIFEST_DIR")), &[SAMPLE]);
    assert!((got - usd(&untouched["actual_usd"])).abs() < 1e-6);
    assert_eq!(r["rejected_total"], 0);
    let notes = strings(&r["files"][0]["notes"]);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("810 rows") && n.contains("\"? 200k\"")),
        "{notes:?}"
    );
}

/// The spellings of "up to 200k" are standard ($3.00 each); `N/A`, `-` and other unknown
/// labels are rejected with their reason (they were priced as long context: $6.00 each).
#[test]
fn unknown_context_labels_are_rejected_and_known_spellings_are_standard() {
    let d = tmp();
    let mut rows: Vec<String> = ["≤ 200k", "<=200k", "0-200k", "", "≤200k"]
        .iter()
        .map(|l| usage_row("2026-08-01", SONNET, &format!("key {l}"), l, 1_000_000))
        .collect();
    rows.push(usage_row("2026-08-01", SONNET, "na", "N/A", 1_000_000));
    rows.push(usage_row("2026-08-01", SONNET, "dash", "-", 1_000_000));
    rows.push(usage_row("2026-08-01", SONNET, "long", "> 200k", 1_000_000));
    write(d.path(), "labels.csv", &usage_csv(&rows));
    let r = report(d.path(), &["labels.csv"]);
    // Five standard rows at $3, one long-context row at $6.
    assert_usd(&r["actual_usd"], 5.0 * 3.00 + 6.00);
    assert_eq!(r["rejected_total"], 2);
    let why = reasons(&r);
    assert!(
        why.iter()
            .any(|w| w.contains("context_window: unknown label \"N/A\"")),
        "{why:?}"
    );
    assert!(
        why.iter()
            .any(|w| w.contains("context_window: unknown label \"-\"")),
        "{why:?}"
    );
    assert_eq!(r["rejected"][0]["line"], 7);

    // The sample with every `≤ 200k` written `N/A`: those 810 rows are rejected, and only the
    // three long-context rows are priced.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE))
        .unwrap()
        .replace("≤ 200k", "N/A");
    write(d.path(), "na.csv", &text);
    let r = report(d.path(), &["na.csv"]);
    assert_eq!(r["rejected_total"], 810);
    assert_eq!(r["files"][0]["rows"], 3);
    assert_eq!(r["rejected_by_reason"][0]["count"], 810);
}

/// A cost export with an unknown label: the row is rejected, not billed as long context.
#[test]
fn unknown_context_labels_in_a_cost_export_are_rejected() {
    let d = tmp();
    let good = cost_row("2026-08-01", "k", "3.00");
    let bad = good.replace("≤ 200k", "N/A").replace("3.00", "5.00");
    let excel = good.replace("≤ 200k", "? 200k").replace(",k,", ",k2,");
    write(d.path(), "cost.csv", &cost_csv(&[good, bad, excel]));
    let r = report(d.path(), &["cost.csv"]);
    assert_usd(&r["billed_usd"], 6.00);
    assert_eq!(r["rejected_total"], 1);
    assert!(reasons(&r)[0].contains("unknown label \"N/A\""));
}

// ---------------------------------------------------------------------------------------
// Misdetection.

/// A Messages log whose lines carry `sessionId` was taken for a Claude Code log and imported
/// nothing, exit 0. It imports: two requests of 100,000 input tokens, $0.30 + $0.30 = $0.60.
/// (A request of more than 200,000 input tokens is priced at Sonnet 4.5's long-context $6.)
#[test]
fn a_messages_log_with_session_ids_imports() {
    let d = tmp();
    let line = |id: &str, t: &str| {
        format!(
            "{{\"sessionId\":\"sess-1\",\"timestamp\":\"{t}\",\"id\":\"{id}\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"{SONNET}\",\"usage\":{{\"input_tokens\":100000,\"output_tokens\":0}}}}\n"
        )
    };
    write(
        d.path(),
        "log.jsonl",
        &(line("msg_01", "2026-08-01T10:00:00Z") + &line("msg_02", "2026-08-01T11:00:00Z")),
    );
    let r = report(d.path(), &["log.jsonl"]);
    assert_eq!(r["files"][0]["format"], "Messages API log");
    assert_usd(&r["actual_usd"], 0.60);
    assert_eq!(r["requests"], 2);
}

/// A file of a known format that gives nothing says so (a log taken for another format
/// once imported nothing, without a word): a Claude Code log of user lines only.
#[test]
fn a_file_that_imports_nothing_says_so() {
    let d = tmp();
    write(d.path(), "ok.jsonl", &usage_line("msg_01", 100_000));
    let user = "{\"type\":\"user\",\"sessionId\":\"s\",\"uuid\":\"u1\",\"timestamp\":\"2026-08-01T10:00:00Z\",\"message\":{\"role\":\"user\",\"content\":\"hi\"}}\n";
    write(d.path(), "cc.jsonl", &user.repeat(3));
    let r = report(d.path(), &["ok.jsonl", "cc.jsonl"]);
    assert_usd(&r["actual_usd"], 0.30);
    assert_eq!(r["files"][1]["format"], "Claude Code log");
    let notes = strings(&r["files"][1]["notes"]);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("no usage in this file (3 lines skipped")),
        "{notes:?}"
    );
}

/// A pretty-printed Admin report (keys sorted, as `jq -S` writes them: `ending_at`,
/// `results`, then `starting_at`) whose first bucket passes 64 KiB: detection gave up ("JSON
/// without usage fields"). 600 keys x 10,000 Sonnet input tokens = 6,000,000 = $18.00.
#[test]
fn a_pretty_printed_admin_report_with_a_big_first_bucket_imports() {
    let d = tmp();
    let keys: Vec<String> = (0..600).map(|i| format!("apikey_{i:04}")).collect();
    let pairs: Vec<(&str, u64)> = keys.iter().map(|k| (k.as_str(), 10_000)).collect();
    let page: Value = serde_json::from_str(&admin_page("2026-08-01", &pairs)).unwrap();
    let text = serde_json::to_string_pretty(&page).unwrap();
    let starting = text.find("\"starting_at\"").unwrap();
    assert!(starting > 64 * 1024, "starting_at at byte {starting}");
    assert!(text.starts_with("{\n"));
    write(d.path(), "report.json", &text);
    let r = report(d.path(), &["report.json"]);
    assert_eq!(r["files"][0]["format"], "Admin API usage report");
    assert_eq!(r["files"][0]["rows"], 600);
    assert_usd(&r["actual_usd"], 18.00);
}

fn error_line(i: usize) -> String {
    format!(
        "{{\"timestamp\":\"2026-08-01T09:{:02}:00Z\",\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded: the API is temporarily overloaded, retry later ({i}) {}\"}}}}\n",
        i % 60,
        "x".repeat(160)
    )
}

fn usage_line(id: &str, input: u64) -> String {
    format!(
        "{{\"timestamp\":\"2026-08-01T10:00:00Z\",\"response\":{{\"id\":\"{id}\",\"type\":\"message\",\"model\":\"{SONNET}\",\"usage\":{{\"input_tokens\":{input},\"output_tokens\":0}}}}}}\n"
    )
}

/// A log whose first 300 lines are API errors (more than the 64 KiB detection read) and then
/// usage: the usage imports (two requests of 100,000 input tokens: $0.60), the errors are
/// skipped.
#[test]
fn a_log_that_starts_with_hundreds_of_error_lines_imports_the_usage_after_them() {
    let d = tmp();
    let mut text: String = (0..300).map(error_line).collect();
    assert!(text.len() > 64 * 1024, "{} bytes of errors", text.len());
    text.push_str(&usage_line("msg_01", 100_000));
    text.push_str(&usage_line("msg_02", 100_000));
    write(d.path(), "log.jsonl", &text);
    let r = report(d.path(), &["log.jsonl"]);
    assert_eq!(r["files"][0]["format"], "Messages API log");
    assert_usd(&r["actual_usd"], 0.60);
    assert_eq!(r["files"][0]["skipped"], 300);
    assert_eq!(r["files"][0]["rows"], 2);
}

/// A log that starts with one record of 100 KB without usage, then usage: $0.30.
#[test]
fn a_log_that_starts_with_a_large_record_without_usage_imports() {
    let d = tmp();
    let mut text = format!(
        "{{\"timestamp\":\"2026-08-01T09:00:00Z\",\"event\":\"config\",\"prompt\":\"{}\"}}\n",
        "p".repeat(100_000)
    );
    text.push_str(&usage_line("msg_01", 100_000));
    write(d.path(), "log.jsonl", &text);
    let r = report(d.path(), &["log.jsonl"]);
    assert_eq!(r["files"][0]["format"], "Messages API log");
    assert_usd(&r["actual_usd"], 0.30);
}

/// A CSV whose first lines are blank and a `#` comment: imports ($3.00), with a note.
#[test]
fn a_csv_with_a_blank_and_a_comment_line_before_the_header_imports() {
    let d = tmp();
    let body = usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]);
    write(
        d.path(),
        "usage.csv",
        &format!("\n# exported 2026-08-02 by a tool\n{body}"),
    );
    let r = report(d.path(), &["usage.csv"]);
    assert_usd(&r["actual_usd"], 3.00);
    let notes = strings(&r["files"][0]["notes"]);
    assert!(notes.iter().any(|n| n.contains("comment")), "{notes:?}");
    // A cost CSV too.
    let cost = cost_csv(&[cost_row("2026-08-01", "k", "3.00")]);
    write(d.path(), "cost.csv", &format!("# billed\n\n{cost}"));
    let r = report(d.path(), &["cost.csv"]);
    assert_usd(&r["billed_usd"], 3.00);
}

/// Inside an opened folder, a file that is not a usage file is listed, not lost.
#[test]
fn unrecognised_files_in_a_folder_are_listed() {
    let d = tmp();
    let dir = d.path().join("exports");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "usage.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    write(&dir, "notes.txt", "meeting notes, not usage\n");
    let r = report(d.path(), &["exports"]);
    assert_usd(&r["actual_usd"], 3.00);
    assert_eq!(strings(&r["unrecognised_files"]), ["exports/notes.txt"]);
    let text = stdout(&run_in(d.path(), &["report", "exports"]));
    assert!(
        text.contains("1 files in the opened folders are not usage files")
            && text.contains("exports/notes.txt"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Accepted nonsense.

/// `3,75` in a cost row (a decimal comma) splits the field: rejected, with the reason; the
/// good row bills $1.00. It was read as $3, the extra field ignored: $4.00. With a header
/// whose last column (`list_price_usd`) is empty in the row, the width check alone let it
/// through (the extra field is empty, like a trailing comma): still $4.00 before this fix.
#[test]
fn a_decimal_comma_in_a_cost_row_is_rejected() {
    let d = tmp();
    write(
        d.path(),
        "cost.csv",
        &cost_csv(&[
            cost_row("2026-08-01", "k", "1.00"),
            cost_row("2026-08-02", "k", "3,75"),
        ]),
    );
    let narrow = "usage_date_utc,model,usage_type,token_type,cost_usd,list_price_usd\n\
                  2026-08-01,Claude Sonnet 4.5,standard,input_no_cache,1.00,\n\
                  2026-08-02,Claude Sonnet 4.5,standard,input_no_cache,3,75,\n";
    write(d.path(), "narrow.csv", narrow);
    for file in ["cost.csv", "narrow.csv"] {
        let r = report(d.path(), &[file]);
        assert_usd(&r["billed_usd"], 1.00);
        assert_eq!(r["rejected_total"], 1, "{file}");
        let why = reasons(&r);
        assert!(
            why[0].contains("\"3,75\" is a number written with a decimal comma"),
            "{file}: {why:?}"
        );
        assert_eq!(r["rejected"][0]["line"], 3);
    }
    // A trailing comma on every row is not a decimal comma.
    let trailing = "usage_date_utc,model,usage_type,token_type,cost_usd\n\
                    2026-08-01,Claude Sonnet 4.5,standard,input_no_cache,1.50,\n\
                    2026-08-02,Claude Sonnet 4.5,standard,input_no_cache,2.25,\n";
    write(d.path(), "trailing.csv", trailing);
    let r = report(d.path(), &["trailing.csv"]);
    assert_usd(&r["billed_usd"], 3.75);
    assert_eq!(r["rejected_total"], 0);
}

/// A header naming a column twice: which to read is a guess (the second was ignored: $0).
#[test]
fn a_header_naming_a_column_twice_is_rejected() {
    let d = tmp();
    let header = USAGE_HEADER.replace(
        "usage_input_tokens_no_cache",
        "usage_input_tokens_no_cache,usage_input_tokens_no_cache",
    );
    write(
        d.path(),
        "twice.csv",
        &format!(
            "{header}\n2026-08-01,{SONNET},k,Default,standard,≤ 200k,0,1000000,0,0,0,0,0,not_available,\n"
        ),
    );
    let o = run_in(d.path(), &["report", "twice.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the header names usage_input_tokens_no_cache twice (columns 7 and 8)"),
        "{}",
        stderr(&o)
    );
    // The cost export too.
    let header = COST_HEADER.replace("cost_usd", "cost_usd,cost_usd");
    write(
        d.path(),
        "cost.csv",
        &format!(
            "{header}\n2026-08-01,Claude Sonnet 4.5,Default,k,standard,≤ 200k,input_no_cache,0,3.00,token,not_available,\n"
        ),
    );
    let o = run_in(d.path(), &["report", "cost.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("names cost_usd twice"),
        "{}",
        stderr(&o)
    );
}

/// u64::MAX tokens ($55 trillion of Sonnet input) is rejected; the good row gives $3.00.
#[test]
fn u64_max_tokens_are_rejected() {
    let d = tmp();
    write(
        d.path(),
        "max.csv",
        &usage_csv(&[
            usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000),
            usage_row("2026-08-02", SONNET, "k", "≤ 200k", u64::MAX),
            // One more than a row can hold (ten trillion), and the largest that it can.
            usage_row("2026-08-03", SONNET, "k", "≤ 200k", 10_000_000_000_001),
        ]),
    );
    let r = report(d.path(), &["max.csv"]);
    assert_usd(&r["actual_usd"], 3.00);
    assert_eq!(r["rejected_total"], 2);
    for w in reasons(&r) {
        assert!(w.contains("more than one row can hold"), "{w}");
    }
    // A request log: at most 100,000,000 per category and request ($0.30 for the good one).
    write(
        d.path(),
        "log.jsonl",
        &(usage_line("msg_01", 100_000) + &usage_line("msg_02", u64::MAX)),
    );
    let r = report(d.path(), &["log.jsonl"]);
    assert_usd(&r["actual_usd"], 0.30);
    assert_eq!(r["rejected_total"], 1);
    assert!(reasons(&r)[0].contains("more than one request can hold"));
}

/// Dates in year 0 or 0026 are rejected; `--from 26-08-01` exits 2 (it meant year 26).
#[test]
fn implausible_dates_are_rejected() {
    let d = tmp();
    write(
        d.path(),
        "years.csv",
        &usage_csv(&[
            usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000),
            usage_row("0026-08-01", SONNET, "k", "≤ 200k", 1_000_000),
            usage_row("0000-08-01", SONNET, "k", "≤ 200k", 1_000_000),
        ]),
    );
    let r = report(d.path(), &["years.csv"]);
    assert_usd(&r["actual_usd"], 3.00);
    assert_eq!(r["rejected_total"], 2);
    let why = reasons(&r);
    assert!(
        why[0].contains("\"0026-08-01\" is not a plausible date"),
        "{why:?}"
    );
    let periods: Vec<&str> = r["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-08-01"]);
    for flag in ["--from", "--to"] {
        let o = run_in(d.path(), &["report", "years.csv", flag, "26-08-01"]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains("YYYY-MM-DD"), "{}", stderr(&o));
    }
    let o = run_in(d.path(), &["report", "years.csv", "--from", "0026-08-01"]);
    assert_eq!(o.status.code(), Some(2));
    // Cost rows and request logs too.
    write(
        d.path(),
        "cost.csv",
        &cost_csv(&[
            cost_row("2026-08-01", "k", "3.00"),
            cost_row("0026-08-01", "k", "3.00"),
        ]),
    );
    let r = report(d.path(), &["cost.csv"]);
    assert_usd(&r["billed_usd"], 3.00);
    assert_eq!(r["rejected_total"], 1);
}

/// A billed amount past any plausible bill (1e308, which summed to infinity) is rejected.
#[test]
fn implausible_amounts_are_rejected() {
    let d = tmp();
    write(
        d.path(),
        "cost.csv",
        &cost_csv(&[
            cost_row("2026-08-01", "k", "3.00"),
            cost_row("2026-08-02", "k", "1e308"),
            cost_row("2026-08-03", "k", "1e308"),
            cost_row("2026-08-04", "k", "inf"),
            cost_row("2026-08-05", "k", "NaN"),
        ]),
    );
    let r = report(d.path(), &["cost.csv"]);
    assert_usd(&r["billed_usd"], 3.00);
    assert_eq!(r["rejected_total"], 4);
    assert!(reasons(&r)[0].contains("not a plausible amount"));
}

/// Negative or 1e308 price overrides are refused (exit 1, with the reason).
#[test]
fn implausible_price_overrides_are_refused() {
    let d = tmp();
    write(
        d.path(),
        "usage.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    for bad in ["-3.0", "1e308"] {
        let prices = format!(
            "{{\"models\":[{{\"id\":\"{SONNET}\",\"prices\":[{{\"effective_from\":\"2025-09-29\",\"input\":{bad},\"cache_write_5m\":3.75,\"cache_write_1h\":6,\"cache_read\":0.3,\"output\":15}}]}}]}}"
        );
        write(d.path(), "prices.json", &prices);
        let o = run_in(
            d.path(),
            &["report", "usage.csv", "--prices", "prices.json", "--json"],
        );
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("input price") && stderr(&o).contains("is not between 0 and"),
            "{bad}: {}",
            stderr(&o)
        );
    }
    // A sane override is used: Sonnet input at $2 makes the row $2.00.
    write(
        d.path(),
        "prices.json",
        &format!(
            "{{\"models\":[{{\"id\":\"{SONNET}\",\"prices\":[{{\"effective_from\":\"2025-09-29\",\"input\":2,\"cache_write_5m\":3.75,\"cache_write_1h\":6,\"cache_read\":0.3,\"output\":15}}]}}]}}"
        ),
    );
    let r = report(d.path(), &["usage.csv", "--prices", "prices.json"]);
    assert_usd(&r["actual_usd"], 2.00);
}

/// A price file with 70,000 dated periods (past the 65,535 a 16-bit index holds): the day
/// and the month views give the same total, the one computed here by hand.
#[test]
fn a_price_file_with_70000_periods_prices_days_and_months_alike() {
    let d = tmp();
    let first = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    // Period i (from first + i days) prices input at $(1 + i % 7) per MTok.
    let mut periods = Vec::with_capacity(70_000);
    for i in 0..70_000u64 {
        let day = first + chrono::Days::new(i);
        let input = 1 + i % 7;
        periods.push(format!(
            "{{\"effective_from\":\"{day}\",\"input\":{input},\"cache_write_5m\":1,\"cache_write_1h\":1,\"cache_read\":1,\"output\":1}}"
        ));
    }
    write(
        d.path(),
        "prices.json",
        &format!(
            "{{\"models\":[{{\"id\":\"test-model-dated\",\"prices\":[{}]}}]}}",
            periods.join(",")
        ),
    );
    // Usage on 2090-03-01 .. 2090-03-10 (period indices past 69,000), 1,000,000 input a day.
    let mut rows = Vec::new();
    let mut want = 0.0;
    for k in 0..10u64 {
        let day = chrono::NaiveDate::from_ymd_opt(2090, 3, 1).unwrap() + chrono::Days::new(k);
        let i = (day - first).num_days() as u64;
        assert!(i > 65_535 && i < 70_000);
        want += (1 + i % 7) as f64 * 1_000_000.0 / 1e6;
        rows.push(usage_row(
            &day.to_string(),
            "test-model-dated",
            "k",
            "≤ 200k",
            1_000_000,
        ));
    }
    write(d.path(), "usage.csv", &usage_csv(&rows));
    let start = Instant::now();
    for period in ["day", "week", "month"] {
        let r = report(
            d.path(),
            &["usage.csv", "--prices", "prices.json", "--period", period],
        );
        assert_usd(&r["actual_usd"], want);
        let series: f64 = r["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| usd(&p["actual_usd"]))
            .sum();
        assert!((series - want).abs() < 1e-9, "{period}: {series} vs {want}");
    }
    assert!(start.elapsed() < Duration::from_secs(60));
}

/// A price file of 10,000 models loads in well under a second (it took 36 s).
#[test]
fn a_price_file_of_10000_models_loads_quickly() {
    let models: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                "{{\"id\":\"test-model-{i}\",\"display_names\":[\"Test Model {i}\"],\"aliases\":[\"tm-{i}\"],\"prices\":[{{\"effective_from\":\"2025-01-01\",\"input\":1,\"cache_write_5m\":1.25,\"cache_write_1h\":2,\"cache_read\":0.1,\"output\":5}}]}}"
            )
        })
        .collect();
    let text = format!("{{\"models\":[{}]}}", models.join(","));
    let start = Instant::now();
    let mut table = costlens::domain::prices::PriceTable::bundled();
    table.apply_text("many.json", &text).unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let i = table.lookup("tm-9999").unwrap();
    assert_eq!(table.model(i).id, "test-model-9999");
    assert!(table.lookup("Test Model 5000").is_some());
}

// ---------------------------------------------------------------------------------------
// Stale cache.

/// A usage CSV of 1,000 rows (at least 64 KiB, so it is cached) of `per_row` Sonnet input
/// tokens each, written with leading zeros so that every version has the same size.
fn cacheable_csv(per_row: u64) -> String {
    let rows: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                "2026-08-01,{SONNET},key-{i:05},Default,standard,≤ 200k,{per_row:010},0,0,0,0,0,not_available,"
            )
        })
        .collect();
    usage_csv(&rows)
}

/// The content changed with its size and modification time restored: the cache answered
/// with the old figure ($3,000 against $27,000). 1,000 rows x 1,000,000 tokens x $3/MTok =
/// $3,000; x 9,000,000 = $27,000.
#[test]
fn a_file_rewritten_with_its_size_and_mtime_restored_is_read_again() {
    let d = tmp();
    let cache = d.path().join("cache");
    let v1 = cacheable_csv(1_000_000);
    let v2 = cacheable_csv(9_000_000);
    assert_eq!(v1.len(), v2.len());
    assert!(v1.len() as u64 >= 64 * 1024, "{} bytes", v1.len());
    let path = write(d.path(), "usage.csv", &v1);
    let cached_report = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_costlens"));
        // The user's usage history is neither written nor read by tests.
        c.env("COSTLENS_NO_HISTORY", "1");
        c.args(["report", "usage.csv", "--json"])
            .current_dir(d.path())
            .env_remove("COSTLENS_NO_CACHE")
            .env("COSTLENS_CACHE_DIR", &cache);
        let o = run_limited(c, Duration::from_secs(120));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    assert_usd(&cached_report()["actual_usd"], 3_000.00);
    // The entry was written, and answers an unchanged file.
    assert!(
        std::fs::read_dir(&cache).unwrap().count() > 0,
        "nothing was cached"
    );
    assert_usd(&cached_report()["actual_usd"], 3_000.00);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::write(&path, &v2).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let m = std::fs::metadata(&path).unwrap();
    assert_eq!((m.len(), m.modified().unwrap()), (v1.len() as u64, mtime));
    assert_usd(&cached_report()["actual_usd"], 27_000.00);
}

// ---------------------------------------------------------------------------------------
// Unpriced.

/// Every model unpriced: the headline is "unpriced" (JSON null), not "Actual $0.00".
#[test]
fn when_nothing_is_priced_the_total_is_unpriced_not_zero() {
    let d = tmp();
    write(
        d.path(),
        "mine.csv",
        &usage_csv(&[usage_row(
            "2026-08-01",
            "my-own-model",
            "k",
            "≤ 200k",
            1_000_000,
        )]),
    );
    let r = report(d.path(), &["mine.csv"]);
    assert_eq!(r["actual_usd"], Value::Null);
    assert_eq!(r["scenario_usd"], Value::Null);
    assert_eq!(r["savings_usd"], Value::Null);
    assert_eq!(r["unpriced"][0]["model"], "my-own-model");
    assert_eq!(r["unpriced"][0]["tokens"], 1_000_000);
    let text = stdout(&run_in(d.path(), &["report", "mine.csv"]));
    let headline = text
        .lines()
        .find(|l| l.contains("Actual (recomputed)"))
        .unwrap();
    assert!(headline.trim_end().ends_with("unpriced"), "{headline}");
    for what in ["Scenario", "Savings"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(what))
            .unwrap();
        assert!(line.trim_end().ends_with("unpriced"), "{line}");
    }
    // What each lever saves is unknown too: not "$0.00".
    let levers = text.split("Savings by lever").nth(1).unwrap();
    let levers: Vec<&str> = levers
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(levers.len(), 8, "{text}");
    for l in levers {
        assert!(l.trim_end().ends_with("unpriced"), "{l}");
    }
    // Mapped to a priced model, it is priced: $3.00.
    let r = report(
        d.path(),
        &["mine.csv", "--map", &format!("my-own-model={SONNET}")],
    );
    assert_usd(&r["actual_usd"], 3.00);
    // One priced model among unpriced ones: the priced part is the total.
    write(
        d.path(),
        "mixed.csv",
        &usage_csv(&[
            usage_row("2026-08-01", "my-own-model", "k", "≤ 200k", 1_000_000),
            usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000),
        ]),
    );
    let r = report(d.path(), &["mixed.csv"]);
    assert_usd(&r["actual_usd"], 3.00);
}

// ---------------------------------------------------------------------------------------
// Destructive writes.

/// `export --png` onto a FIFO, and onto one of its own inputs: refused (exit 1), the
/// target untouched. (Each run renders the chart first: two renders.)
#[test]
fn export_refuses_a_fifo_and_an_input_file() {
    let d = tmp();
    let input = write(
        d.path(),
        "in.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]),
    );
    let before = std::fs::read(&input).unwrap();
    let small = ["--width", "320", "--height", "200"];
    let mut args = vec!["export", "in.csv", "--png", "in.csv"];
    args.extend(small);
    let o = run_in(d.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("it is an input file"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&input).unwrap(), before);

    let fifo = d.path().join("pipe.png");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut args = vec!["export", "in.csv", "--png", "pipe.png"];
    args.extend(small);
    // A write into the FIFO would block (no reader): the time limit fails the test then.
    let o = run_in(d.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// The write underneath (`atomic::write_protecting`): a symbolic link, a device node and an
/// input reached by another path are refused and left as they were; a regular file is
/// replaced.
#[test]
fn protected_writes_refuse_links_devices_and_inputs() {
    use costlens::store::atomic::write_protecting;
    let d = tmp();
    let target = write(d.path(), "target.png", "old");
    let link = d.path().join("link.png");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = write_protecting(&link, b"new", &[]).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"old");

    let e = write_protecting(Path::new("/dev/null"), b"new", &[]).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // The input named through a link is still the input.
    let input = write(d.path(), "in.csv", "usage");
    let via = d.path().join("via-link.csv");
    std::os::unix::fs::symlink(&input, &via).unwrap();
    let e = write_protecting(&input, b"png", &[via]).unwrap_err();
    assert!(e.to_string().contains("input file"), "{e}");
    assert_eq!(std::fs::read(&input).unwrap(), b"usage");

    write_protecting(&target, b"new", &[input]).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
}

// ---------------------------------------------------------------------------------------
// Bounded memory and output.

/// 10 MB of rejected lines: the first 100 kept as examples, every one counted by reason,
/// and `--json` under 1 MB (it kept all: 1.4-2.5 GB of memory, 714 MB of JSON).
#[test]
fn ten_megabytes_of_rejected_lines_keep_100_examples_and_count_all() {
    let d = tmp();
    let bad = format!(
        "2026-08-01,{SONNET},k,Default,standard,≤ 200k,not-a-number,0,0,0,0,0,not_available,\n"
    );
    let n = 10_000_000 / bad.len() + 1;
    let mut text = usage_csv(&[usage_row("2026-08-01", SONNET, "k", "≤ 200k", 1_000_000)]);
    text.reserve(n * bad.len());
    for _ in 0..n {
        text.push_str(&bad);
    }
    assert!(text.len() > 10_000_000);
    write(d.path(), "bad.csv", &text);
    let o = run_in(d.path(), &["report", "bad.csv", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        o.stdout.len() < 1_000_000,
        "{} bytes of JSON",
        o.stdout.len()
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_usd(&r["actual_usd"], 3.00);
    assert_eq!(r["rejected_total"], n as u64);
    assert_eq!(r["rejected"].as_array().unwrap().len(), 100);
    assert_eq!(r["rejected"][0]["line"], 3);
    assert_eq!(r["rejected"][99]["line"], 102);
    assert_eq!(r["files"][0]["rejected"], n as u64);
    let by = r["rejected_by_reason"].as_array().unwrap();
    assert_eq!(by.len(), 1, "{by:?}");
    assert_eq!(by[0]["count"], n as u64);
    // The text report shows 50 and counts the rest.
    let text = stdout(&run_in(d.path(), &["report", "bad.csv"]));
    assert!(
        text.contains(&format!("... and {} more; by reason:", n - 50)),
        "{}",
        &text[text.len().saturating_sub(2000)..]
    );
}

/// A log with a 70 MiB line (no API response comes near 64 MiB): rejected as too long,
/// without being held whole; the lines around it import (2 x 100,000 input tokens: $0.60).
#[test]
fn a_line_over_64_mib_is_rejected_and_the_lines_around_it_import() {
    let d = tmp();
    let path = d.path().join("log.jsonl");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(usage_line("msg_01", 100_000).as_bytes())
            .unwrap();
        let block = vec![b'x'; 1 << 20];
        for _ in 0..70 {
            f.write_all(&block).unwrap();
        }
        f.write_all(b"\n").unwrap();
        f.write_all(usage_line("msg_02", 100_000).as_bytes())
            .unwrap();
        f.flush().unwrap();
    }
    let r = report(d.path(), &["log.jsonl"]);
    assert_usd(&r["actual_usd"], 0.60);
    assert_eq!(r["files"][0]["rows"], 2);
    assert_eq!(r["rejected_total"], 1);
    assert_eq!(r["rejected"][0]["line"], 2);
    assert!(
        reasons(&r)[0].contains("longer than 64 MiB"),
        "{:?}",
        reasons(&r)
    );
}

/// `estimate --days 4294967295` aborted (a 103 GB allocation): now exit 2 with the reason.
#[test]
fn estimate_with_absurd_days_exits_2() {
    let d = tmp();
    let o = run_in(
        d.path(),
        &[
            "estimate",
            "--model",
            SONNET,
            "--requests-per-day",
            "100",
            "--cached-prefix",
            "2000",
            "--days",
            "4294967295",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("days"), "{}", stderr(&o));
    // The largest allowed still runs: 30 days of 100 requests of 2,000 prefix tokens, no
    // caching: 6,000,000 input tokens = $18.00.
    let o = run_in(
        d.path(),
        &[
            "estimate",
            "--model",
            SONNET,
            "--requests-per-day",
            "100",
            "--cached-prefix",
            "2000",
            "--days",
            "30",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_usd(&e["without_cache_usd"], 18.00);
}

/// 6,000 API keys: the report finishes with every key in the breakdown, and the chart
/// stacks the top 11 and "Other" (each series was stacked on every earlier one: 56 s).
/// Key i (1..=6000) has i x 1,000 Sonnet input tokens: $0.003 x i. Total
/// $0.003 x 6000 x 6001 / 2 = $54,009.00; the top 11 (5990..=6000) $0.003 x 65,945 = $197.835.
#[test]
fn six_thousand_keys_chart_as_twelve_series() {
    use costlens::engine::chart::{ChartData, MAX_SERIES};
    use costlens::engine::scenario::Levers;
    use costlens::engine::view::{Dimension, ViewSpec};
    let rows: Vec<String> = (1..=6000u64)
        .map(|i| {
            usage_row(
                "2026-08-01",
                SONNET,
                &format!("key-{i}"),
                "≤ 200k",
                i * 1000,
            )
        })
        .collect();
    let text = usage_csv(&rows);
    let start = Instant::now();
    let loaded = costlens::pipeline::load::load_bytes(
        &[("keys.csv", text.as_bytes())],
        &costlens::import::Options::default(),
    );
    let analysis = costlens::pipeline::load::Analysis::new(
        loaded.data,
        costlens::domain::prices::PriceTable::bundled(),
        &[1.0],
    );
    let view = analysis.view(&ViewSpec {
        dimension: Dimension::Key,
        ..ViewSpec::default()
    });
    assert_eq!(view.dims.len(), 6000);
    let levers = Levers::default();
    let ev = view.evaluate(&analysis.table, &levers.resolve(&analysis.table).unwrap());
    let chart = ChartData::new(&view, &ev, &levers, "keys");
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(MAX_SERIES, 12);
    assert_eq!(chart.dims.len(), 12);
    assert_eq!(chart.dims[11], "Other (5989 more)");
    let top: Vec<String> = (5990..=6000).map(|i| format!("key-{i}")).collect();
    let mut shown = chart.dims[..11].to_vec();
    shown.sort();
    let mut top_sorted = top.clone();
    top_sorted.sort();
    assert_eq!(shown, top_sorted);
    assert_eq!(chart.cells.len(), 12, "one period x 12 series");
    let total: f64 = chart.cells.iter().sum();
    assert!((total - 54_009.0).abs() < 1e-6, "{total}");
    assert!((chart.actual_total - 54_009.0).abs() < 1e-6);
    let top_sum: f64 = chart.cells[..11].iter().sum();
    assert!((top_sum - 197.835).abs() < 1e-9, "{top_sum}");
    assert!((chart.cells[11] - (54_009.0 - 197.835)).abs() < 1e-6);

    // The CLI's report by key, end to end.
    let d = tmp();
    write(d.path(), "keys.csv", &text);
    let r = report(d.path(), &["keys.csv", "--by", "key"]);
    assert_eq!(r["breakdown"].as_array().unwrap().len(), 6000);
    assert_usd(&r["actual_usd"], 54_009.00);
}

// ---------------------------------------------------------------------------------------
// Names from the data.

/// A workspace named with a carriage return and an escape sequence could overwrite its
/// report line with a fake "Actual $0.00": it is shown escaped.
#[test]
fn control_characters_in_names_reach_the_terminal_escaped() {
    let d = tmp();
    let evil = "evil\r  Actual (recomputed)  $0.00\u{1b}[2J";
    let row = format!(
        "2026-08-01,{SONNET},k,\"{evil}\",standard,≤ 200k,1000000,0,0,0,0,0,not_available,"
    );
    write(d.path(), "evil.csv", &usage_csv(&[row]));
    let o = run_in(d.path(), &["report", "evil.csv", "--by", "workspace"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains('\r'), "a raw carriage return: {text:?}");
    assert!(!text.contains('\u{1b}'), "a raw escape: {text:?}");
    assert!(
        text.contains("evil\\r  Actual (recomputed)  $0.00\\u{1b}[2J"),
        "{text}"
    );
    // The real headline is $3.00.
    assert!(
        text.lines()
            .any(|l| l.starts_with("  Actual (recomputed)") && l.trim_end().ends_with("$3.00")),
        "{text}"
    );
    // The JSON keeps the name as it is (JSON escapes it itself).
    let r = report(d.path(), &["evil.csv", "--by", "workspace"]);
    assert_eq!(r["breakdown"][0]["key"], evil);
}

/// The app's "Export table as CSV": a name that starts like a formula gets a leading `'`.
#[test]
fn the_csv_export_writes_formula_names_as_text() {
    use costlens::engine::scenario::Levers;
    use costlens::engine::view::{Dimension, ViewSpec};
    let rows = [
        format!(
            "2026-08-01,{SONNET},k,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",standard,≤ 200k,1000000,0,0,0,0,0,not_available,"
        ),
        format!("2026-08-01,{SONNET},k,+cmd,standard,≤ 200k,2000000,0,0,0,0,0,not_available,"),
        format!("2026-08-01,{SONNET},k,Plain,standard,≤ 200k,3000000,0,0,0,0,0,not_available,"),
    ];
    let text = usage_csv(&rows);
    let loaded = costlens::pipeline::load::load_bytes(
        &[("ws.csv", text.as_bytes())],
        &costlens::import::Options::default(),
    );
    let analysis = costlens::pipeline::load::Analysis::new(
        loaded.data,
        costlens::domain::prices::PriceTable::bundled(),
        &[1.0],
    );
    let view = analysis.view(&ViewSpec {
        dimension: Dimension::Workspace,
        ..ViewSpec::default()
    });
    let levers = Levers::default();
    let ev = view.evaluate(&analysis.table, &levers.resolve(&analysis.table).unwrap());
    let rep = costlens::engine::report::build(&analysis.data, &analysis.table, &view, &ev, &levers);
    let csv_text = rep.breakdown_csv();
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let mut by_name: Vec<(String, f64)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[1].parse().unwrap())
        })
        .collect();
    by_name.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        by_name,
        [
            ("'+cmd".to_owned(), 6.0),
            (
                "'=HYPERLINK(\"http://evil.example\",\"click\")".to_owned(),
                3.0
            ),
            ("Plain".to_owned(), 9.0),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Usage derived from a cost export.

/// A cost CSV alone: $0.03 of Sonnet 4.5 input = 0.03 / ($3 / 1,000,000) = 10,000 tokens
/// (rounding: $0.025 to $0.035 = 8,333.33 to 11,666.67); a $0.00 row = 0 tokens (0 to
/// $0.005 = 0 to 1,666.67). Recomputed $0.03, equal to the bill; `--batch-share 1` halves
/// the derived cost to $0.015.
#[test]
fn a_cost_export_alone_gives_usage_derived_from_cost() {
    let d = tmp();
    write(
        d.path(),
        "cost.csv",
        &cost_csv(&[
            cost_row("2026-08-01", "a", "0.03"),
            cost_row("2026-08-01", "b", "0.00"),
        ]),
    );
    let r = report(d.path(), &["cost.csv"]);
    let der = &r["derived_from_cost"];
    assert_eq!(der["rows"], 2);
    assert_eq!(der["tokens"], 10_000);
    let min = usd(&der["tokens_min"]);
    let max = usd(&der["tokens_max"]);
    assert!((min - 0.025 / 3e-6).abs() < 1e-6, "{min}");
    assert!(
        (max - (0.035 / 3e-6 + 0.005 / 3e-6)).abs() < 1e-6,
        "{max} vs 11,666.67 + 1,666.67"
    );
    assert!((0.005 / 3e-6 - 1666.6667_f64).abs() < 1e-3);
    assert_usd(&der["usd"], 0.03);
    assert_usd(&der["rounding_usd"], 0.01);
    assert_eq!(r["tokens"]["uncached_input"], 10_000);
    assert_usd(&r["billed_usd"], 0.03);
    let actual = usd(&r["actual_usd"]);
    assert!((actual - 0.03).abs() <= 0.01, "{actual}");
    assert_usd(&r["actual_usd"], 0.03);
    // The $0.00 row: no tokens, in the breakdown by key.
    let r = report(d.path(), &["cost.csv", "--by", "key"]);
    let b: Vec<(String, u64)> = r["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap().to_owned(),
                x["tokens"]["uncached_input"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(b.contains(&("a".to_owned(), 10_000)), "{b:?}");
    // A lever works on the derived counts: all of it through the Batch API is half.
    let r = report(d.path(), &["cost.csv", "--batch-share", "1"]);
    assert_usd(&r["actual_usd"], 0.03);
    assert_usd(&r["scenario_usd"], 0.015);
    assert_usd(&r["savings_usd"], 0.015);
    // The text says the usage is derived.
    let text = stdout(&run_in(d.path(), &["report", "cost.csv"]));
    assert!(
        text.contains("Usage derived from cost: 10,000 tokens"),
        "{text}"
    );
}

/// Derivation uses the row's terms: $0.03 of batch Sonnet input is 0.03 / $1.50 per MTok
/// = 20,000 tokens; $0.06 of long-context input 0.06 / $6 per MTok = 10,000 tokens. With a
/// usage file loaded too, nothing is derived (the usage is the usage).
#[test]
fn derived_usage_follows_the_terms_of_each_cost_row() {
    let d = tmp();
    let batch = cost_row("2026-08-01", "a", "0.03").replace(",standard,", ",batch,");
    let long = cost_row("2026-08-02", "a", "0.06").replace("≤ 200k", "> 200k");
    write(d.path(), "cost.csv", &cost_csv(&[batch, long]));
    let r = report(d.path(), &["cost.csv"]);
    assert_eq!(r["derived_from_cost"]["tokens"], 30_000);
    assert_usd(&r["actual_usd"], 0.09);
    write(
        d.path(),
        "usage.csv",
        &usage_csv(&[usage_row("2026-08-01", SONNET, "a", "≤ 200k", 1_000_000)]),
    );
    let r = report(d.path(), &["cost.csv", "usage.csv"]);
    assert_eq!(r["derived_from_cost"], Value::Null);
    assert_usd(&r["actual_usd"], 3.00);
    assert_usd(&r["billed_usd"], 0.09);
}
