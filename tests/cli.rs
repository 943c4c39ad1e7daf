//! The CLI end to end: the `costlens` binary on `sample-data/` and on small files written
//! here, its JSON, and its exit codes (0 ok, 1 input problem, 2 bad flags).
//!
//! Dollar figures are recomputed here from the sample CSV with pricing.md's prices, by hand.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MTOK: f64 = 1e6;

fn costlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_costlens"))
        .env("COSTLENS_NO_HISTORY", "1")
        .args(args)
        // Test the importers, not entries of the user's import cache (and write none).
        .env("COSTLENS_NO_CACHE", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and parses the JSON of a successful command.
fn json(args: &[&str]) -> Value {
    let o = costlens(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

/// Exit code and stderr of a failing command.
fn fails(args: &[&str]) -> (i32, String) {
    let o = costlens(args);
    (o.status.code().expect("exited"), stderr(&o))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

const USAGE: &str = "sample-data/claude_api_tokens_2026_08-10.csv";
const COST: &str = "sample-data/claude_api_cost_2026_08-10.csv";

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

/// The sample usage CSV priced row by row: (token cost of standard rows, token cost of
/// batch rows, web search cost, cost by day).
struct Recomputed {
    standard: f64,
    batch: f64,
    web_search: f64,
    by_day: BTreeMap<String, f64>,
    by_model: BTreeMap<String, f64>,
}

fn recompute_sample() -> Recomputed {
    let mut rdr =
        csv::Reader::from_path(Path::new(env!("CARGO_MANIFEST_DIR")).join(USAGE)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap()
    };
    let (c_date, c_model, c_tier, c_ctx, c_web) = (
        col("usage_date_utc"),
        col("model_version"),
        col("usage_type"),
        col("context_window"),
        col("web_search_count"),
    );
    let c_tokens = [
        col("usage_input_tokens_no_cache"),
        col("usage_input_tokens_cache_write_5m"),
        col("usage_input_tokens_cache_write_1h"),
        col("usage_input_tokens_cache_read"),
        col("usage_output_tokens"),
    ];
    let mut r = Recomputed {
        standard: 0.0,
        batch: 0.0,
        web_search: 0.0,
        by_day: BTreeMap::new(),
        by_model: BTreeMap::new(),
    };
    for row in rdr.records() {
        let row = row.unwrap();
        let model = &row[c_model];
        let long = &row[c_ctx] != "≤ 200k";
        let rates = list_rates(model, long);
        let tokens: f64 = c_tokens
            .iter()
            .zip(rates)
            .map(|(&c, rate)| row[c].parse::<f64>().unwrap() * rate / MTOK)
            .sum();
        let web = row[c_web].parse::<f64>().unwrap() * 10.0 / 1000.0;
        let batch = &row[c_tier] == "batch";
        if batch {
            r.batch += 0.5 * tokens;
        } else {
            assert_eq!(&row[c_tier], "standard");
            r.standard += tokens;
        }
        r.web_search += web;
        let cost = if batch { 0.5 * tokens } else { tokens } + web;
        *r.by_day.entry(row[c_date].to_owned()).or_default() += cost;
        *r.by_model.entry(model.to_owned()).or_default() += cost;
    }
    r
}

fn billed_total() -> f64 {
    let mut rdr = csv::Reader::from_path(Path::new(env!("CARGO_MANIFEST_DIR")).join(COST)).unwrap();
    let c = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "cost_usd")
        .unwrap();
    rdr.records()
        .map(|r| r.unwrap()[c].parse::<f64>().unwrap())
        .sum()
}

#[test]
fn report_json_on_the_sample_data() {
    let r = json(&["report", USAGE, COST, "--json"]);
    for field in [
        "actual_usd",
        "scenario_usd",
        "savings_usd",
        "savings_pct",
        "waterfall",
        "series",
        "breakdown",
        "unpriced",
        "rejected",
        "files",
        "billed_usd",
    ] {
        assert!(r.get(field).is_some(), "report has {field}");
    }
    let want = recompute_sample();
    let actual = f(&r["actual_usd"]);
    let total = want.standard + want.batch + want.web_search;
    assert!(
        close(actual, total),
        "actual {actual} vs recomputed {total}"
    );
    // Neutral levers: the scenario is the actual cost, exactly.
    assert_eq!(f(&r["scenario_usd"]), actual);
    assert_eq!(f(&r["savings_usd"]), 0.0);
    assert_eq!(f(&r["savings_pct"]), 0.0);
    let levers: Vec<&str> = r["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["lever"].as_str().unwrap())
        .collect();
    assert_eq!(
        levers,
        [
            "traffic",
            "prompt_length",
            "output_length",
            "caching",
            "routing",
            "batch",
            "fast_mode",
            "residency"
        ]
    );
    assert!(
        r["waterfall"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| f(&w["savings_usd"]) == 0.0)
    );
    // What the cost export says was billed (it rounds each line to a millionth of a dollar).
    let billed = f(&r["billed_usd"]);
    assert!(close(billed, billed_total()), "billed {billed}");
    assert!(
        (billed - actual).abs() < 0.01,
        "the sample's bill reconciles: {billed} vs {actual}"
    );
    // 90 days, one point each; each day's cost as recomputed.
    let series = r["series"].as_array().unwrap();
    assert_eq!(series.len(), want.by_day.len());
    for (p, (day, usd)) in series.iter().zip(&want.by_day) {
        assert_eq!(p["period"].as_str().unwrap(), day);
        assert!(close(f(&p["actual_usd"]), *usd), "{day}");
        assert!(p["billed_usd"].is_number());
    }
    // By model, under the display names.
    let by_model: BTreeMap<String, f64> = r["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap().to_owned(), f(&b["actual_usd"])))
        .collect();
    let names = [
        ("Claude Haiku 3", "claude-3-haiku-20240307"),
        ("Claude Haiku 4.5", "claude-haiku-4-5-20251001"),
        ("Claude Opus 4.5", "claude-opus-4-5-20251101"),
        ("Claude Sonnet 4.5", "claude-sonnet-4-5-20250929"),
    ];
    assert_eq!(
        by_model.keys().cloned().collect::<Vec<_>>(),
        names.map(|n| n.0.to_owned())
    );
    for (display, id) in names {
        assert!(close(by_model[display], want.by_model[id]), "{display}");
    }
    assert_eq!(r["unpriced"].as_array().unwrap().len(), 0);
    assert_eq!(r["rejected"].as_array().unwrap().len(), 0);
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let rows: u64 = files.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 813 + 2616);
}

#[test]
fn batch_share_one_halves_the_non_batch_token_cost_exactly() {
    let want = recompute_sample();
    let r = json(&["report", USAGE, "--json", "--batch-share", "1"]);
    let actual = f(&r["actual_usd"]);
    let scenario = f(&r["scenario_usd"]);
    // Web searches are not tokens: the Batch API does not halve them.
    let expected = want.batch + 0.5 * want.standard + want.web_search;
    assert!(
        close(scenario, expected),
        "scenario {scenario} vs {expected}"
    );
    assert!(close(f(&r["savings_usd"]), 0.5 * want.standard));
    assert!(close(
        f(&r["savings_pct"]),
        100.0 * 0.5 * want.standard / actual
    ));
    let batch_step = r["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["lever"] == "batch")
        .unwrap();
    assert!(close(f(&batch_step["savings_usd"]), 0.5 * want.standard));
    assert!(r.get("billed_usd").is_none(), "no cost export loaded");
}

#[test]
fn levers_change_the_scenario_as_documented() {
    let base = f(&json(&["report", USAGE, "--json"])["actual_usd"]);
    let traffic = json(&["report", USAGE, "--json", "--traffic", "2"]);
    assert!(close(f(&traffic["scenario_usd"]), 2.0 * base));
    assert_eq!(f(&traffic["actual_usd"]), base);
    // Routing every Sonnet and Opus token to Haiku 4.5 saves money on this sample.
    let routed = json(&["report", USAGE, "--json", "--route-share", "1"]);
    assert!(f(&routed["scenario_usd"]) < base);
    let haiku3 = json(&[
        "report",
        USAGE,
        "--json",
        "--route-share",
        "1",
        "--route-to",
        "claude-3-haiku-20240307",
    ]);
    assert!(f(&haiku3["scenario_usd"]) < f(&routed["scenario_usd"]));
    // Caching everything at a 100% hit rate: every input token is a read (0.1x).
    let cached = json(&[
        "report",
        USAGE,
        "--json",
        "--cache-share",
        "1",
        "--cache-hit",
        "1",
    ]);
    assert!(f(&cached["scenario_usd"]) < base);
    let levers = &cached["levers"];
    assert_eq!(f(&levers["cache_share"]), 1.0);
    // The waterfall adds up to the saving.
    let all = json(&[
        "report",
        USAGE,
        "--json",
        "--traffic",
        "1.5",
        "--prompt-length",
        "1.3",
        "--output-length",
        "0.7",
        "--cache-share",
        "0.9",
        "--cache-hit",
        "0.8",
        "--cache-ttl",
        "1h",
        "--route-share",
        "0.5",
        "--batch-share",
        "0.3",
    ]);
    let sum: f64 = all["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| f(&w["savings_usd"]))
        .sum();
    assert!(
        close(sum, f(&all["savings_usd"])),
        "{sum} vs {}",
        all["savings_usd"]
    );
}

#[test]
fn by_and_period_variants() {
    let actual = f(&json(&["report", USAGE, "--json"])["actual_usd"]);
    let cases: &[(&str, &str, usize, &str)] = &[
        // (--by, --period, breakdown rows, first period label)
        ("model", "day", 4, "2026-08-03"),
        ("category", "week", 6, "2026-W32"),
        ("workspace", "month", 2, "2026-08"),
        ("key", "day", 5, "2026-08-03"),
        ("tier", "month", 2, "2026-08"),
        ("project", "hour", 1, "2026-08-03 00:00"),
    ];
    for &(by, period, rows, first) in cases {
        let r = json(&["report", USAGE, "--json", "--by", by, "--period", period]);
        assert_eq!(r["by"], by);
        assert_eq!(r["period"], period);
        let breakdown = r["breakdown"].as_array().unwrap();
        assert_eq!(breakdown.len(), rows, "--by {by}: {breakdown:?}");
        let sum: f64 = breakdown.iter().map(|b| f(&b["actual_usd"])).sum();
        assert!(close(sum, actual), "--by {by} adds up");
        let series = r["series"].as_array().unwrap();
        assert_eq!(series[0]["period"], first, "--period {period}");
        let sum: f64 = series.iter().map(|p| f(&p["actual_usd"])).sum();
        assert!(close(sum, actual), "--period {period} adds up");
        assert!(
            close(f(&r["actual_usd"]), actual),
            "--by/--period do not change the total"
        );
    }
    let months = json(&["report", USAGE, "--json", "--period", "month"]);
    let labels: Vec<&str> = months["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2026-08", "2026-09", "2026-10"]);
    let cats = json(&["report", USAGE, "--json", "--by", "category"]);
    let keys: Vec<&str> = cats["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "uncached_input",
            "cache_write_5m",
            "cache_write_1h",
            "cache_read",
            "output",
            "web_search"
        ]
    );
    let tiers = json(&["report", USAGE, "--json", "--by", "tier"]);
    let keys: Vec<&str> = tiers["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["batch", "standard"]);
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

const HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count,inference_geo,speed";

#[test]
fn rejected_lines_are_reported_and_the_rest_priced() {
    let dir = temp_dir();
    let path = dir.path().join("usage.csv");
    std::fs::write(
        &path,
        format!(
            "{HEADER}\r\n\
             2026-03-01,claude-sonnet-4-5,k,W,standard,≤ 200k,1000000,0,0,0,100000,0,not_available,\r\n\
             2026-03-01,claude-sonnet-4-5,k,W,standard,≤ 200k,-3,0,0,0,1,0,not_available,\r\n\
             \r\n\
             2026-03-02,claude-haiku-4-5,k,W,batch,≤ 200k,1000000,0,0,0,0,0,not_available,\r\n\
             2026-03-02,claude-haiku-4-5,k,W\r\n"
        ),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let r = json(&["report", p, "--json"]);
    assert!(close(f(&r["actual_usd"]), 3.0 + 1.5 + 0.5));
    let rejected: Vec<String> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{}:{}: {}",
                x["file"].as_str().unwrap(),
                x["line"],
                x["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            format!("{p}:3: usage_input_tokens_no_cache: negative count -3"),
            format!("{p}:6: expected 14 columns, found 4"),
        ]
    );
    assert_eq!(r["files"][0]["rejected"], 2);
    assert_eq!(r["files"][0]["rows"], 2);
    // The text report lists them too, and still exits 0.
    let o = costlens(&["report", p]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "{p}:3: usage_input_tokens_no_cache: negative count -3"
        )),
        "{text}"
    );
    assert!(text.contains("Actual (recomputed)"), "{text}");
}

#[test]
fn unknown_models_are_shown_unpriced_never_zero() {
    let dir = temp_dir();
    let path = dir.path().join("usage.csv");
    std::fs::write(
        &path,
        format!(
            "{HEADER}\n\
             2026-03-01,claude-sonnet-4-5,k,W,standard,≤ 200k,1000000,0,0,0,0,0,not_available,\n\
             2026-03-01,acme-llm-7,k,W,standard,≤ 200k,100,20,30,40,50,0,not_available,\n\
             2026-03-02,acme-llm-7,k,W,standard,≤ 200k,1,2,3,4,5,0,not_available,\n"
        ),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let r = json(&["report", p, "--json"]);
    assert!(
        close(f(&r["actual_usd"]), 3.0),
        "the unknown model is excluded from actual"
    );
    let unpriced = r["unpriced"].as_array().unwrap();
    assert_eq!(unpriced.len(), 1);
    assert_eq!(unpriced[0]["model"], "acme-llm-7");
    assert_eq!(unpriced[0]["tokens"], 255);
    assert_eq!(
        unpriced[0]["by_category"],
        serde_json::json!({"uncached_input": 101, "cache_write_5m": 22, "cache_write_1h": 33, "cache_read": 44, "output": 55})
    );
    // The text report says so.
    let text = String::from_utf8_lossy(&costlens(&["report", p]).stdout).into_owned();
    assert!(
        text.contains("Unpriced models") && text.contains("acme-llm-7"),
        "{text}"
    );
    // Mapped to a priced model, it is priced.
    let r = json(&[
        "report",
        p,
        "--json",
        "--map",
        "acme-llm-7=claude-haiku-4-5",
    ]);
    assert_eq!(r["unpriced"].as_array().unwrap().len(), 0);
    let acme = (101.0 * 1.0 + 22.0 * 1.25 + 33.0 * 2.0 + 44.0 * 0.1 + 55.0 * 5.0) / MTOK;
    assert!(close(f(&r["actual_usd"]), 3.0 + acme));
    // Mapping to something that is not priced is a bad flag.
    let (code, err) = fails(&["report", p, "--map", "acme-llm-7=gpt-4o"]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = fails(&["report", p, "--map", "no-equals-sign"]);
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
}

#[test]
fn stale_price_guard_names_unknown_models_and_usage_after_the_tables_date() {
    let dir = temp_dir();
    let path = dir.path().join("usage.csv");
    // A model released after this build's table, and usage after its as_of (2026-12-01).
    std::fs::write(
        &path,
        format!(
            "{HEADER}\n\
             2026-11-30,claude-opus-4-8,k,W,standard,≤ 200k,1000000,0,0,0,0,0,global,\n\
             2026-12-02,claude-opus-4-8,k,W,standard,≤ 200k,1000000,0,0,0,0,0,global,\n\
             2026-12-02,claude-opus-6,k,W,standard,≤ 200k,2000,0,0,0,500,0,global,\n"
        ),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let o = costlens(&["report", p, "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let pt = &r["price_table"];
    assert_eq!(pt["as_of"], "2026-12-01");
    assert_eq!(pt["unknown_models"], serde_json::json!(["claude-opus-6"]));
    assert_eq!(pt["usage_after_as_of"], true);
    assert_eq!(pt["last_usage_day"], "2026-12-02");
    // Opus 4.8 is priced ($5 per MTok of input), the unknown model is not in the total.
    assert!(close(f(&r["actual_usd"]), 10.0));
    // A pipeline's log shows it too.
    let err = stderr(&o);
    assert!(
        err.contains("warning: 1 model is not in the price table (prices as of 2026-12-01): claude-opus-6 (2,500 tokens)"),
        "{err}"
    );
    assert!(
        err.contains("--map NAME=MODEL") && err.contains("--prices FILE"),
        "{err}"
    );
    assert!(
        err.contains(
            "Usage runs to 2026-12-02, after the day the prices were last checked (2026-12-01)"
        ),
        "{err}"
    );
    // The text report says it before the totals.
    let text = String::from_utf8_lossy(&costlens(&["report", p]).stdout).into_owned();
    let warn = text
        .find("prices: 1 model is not in the price table")
        .expect(&text);
    assert!(warn < text.find("Actual (recomputed)").unwrap(), "{text}");
    // `prices --check` lists what would be unpriced, and exits 1.
    let o = costlens(&["prices", "--check", p]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("claude-opus-6") && out.contains("2,500 tokens"),
        "{out}"
    );
    assert!(!out.contains("claude-opus-4-8 "), "{out}");
    let j = {
        let o = costlens(&["prices", "--check", p, "--json"]);
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    assert_eq!(j["unknown_model_volumes"][0]["tokens"], 2500);
    // Mapped, or covered by a newer price file, nothing is unpriced and the check passes.
    let newer = dir.path().join("newer.json");
    std::fs::write(
        &newer,
        r#"{"schema": "costlens-prices/2", "as_of": "2027-01-05", "models": [
            {"id": "claude-opus-6", "family": "opus", "prices": [{"effective_from": "2026-11-25", "input": 6.0, "output": 30.0}]}]}"#,
    )
    .unwrap();
    let o = costlens(&["prices", "--check", p, "--prices", newer.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&["report", p, "--json", "--prices", newer.to_str().unwrap()]);
    assert_eq!(r["price_table"]["unknown_models"], serde_json::json!([]));
    assert_eq!(r["price_table"]["usage_after_as_of"], false);
    assert_eq!(r["price_table"]["as_of"], "2027-01-05");
    assert!(close(
        f(&r["actual_usd"]),
        10.0 + (2000.0 * 6.0 + 500.0 * 30.0) / MTOK
    ));
    let r = json(&[
        "report",
        p,
        "--json",
        "--map",
        "claude-opus-6=claude-opus-5",
    ]);
    assert_eq!(r["price_table"]["unknown_models"], serde_json::json!([]));
}

#[test]
fn input_problems_exit_1_with_one_line() {
    let dir = temp_dir();
    let png = dir.path().join("chart.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let header_only = dir.path().join("empty_usage.csv");
    std::fs::write(&header_only, format!("{HEADER}\n")).unwrap();
    let all_bad = dir.path().join("bad.csv");
    std::fs::write(
        &all_bad,
        format!("{HEADER}\n2026-13-01,claude-haiku-4-5,k,W,standard,,1,0,0,0,1,0,,\n"),
    )
    .unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello\nworld\n").unwrap();
    let missing = dir.path().join("missing.csv");
    let cases = [
        (missing.to_str().unwrap().to_owned(), "cannot read"),
        (png.to_str().unwrap().to_owned(), "PNG image"),
        (
            text.to_str().unwrap().to_owned(),
            "not a recognised usage file",
        ),
        (
            header_only.to_str().unwrap().to_owned(),
            "nothing could be imported",
        ),
        (
            all_bad.to_str().unwrap().to_owned(),
            "nothing could be imported (first problem: ",
        ),
    ];
    for (path, why) in &cases {
        let (code, err) = fails(&["report", path, "--json"]);
        assert_eq!(code, 1, "{path}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("costlens: "), "{err}");
        assert!(err.contains(why), "{path}: {err}");
    }
    // A folder of files none of which is usage: nothing imported.
    let folder = temp_dir();
    std::fs::write(folder.path().join("a.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    let (code, err) = fails(&["report", folder.path().to_str().unwrap()]);
    assert_eq!((code, err.lines().count()), (1, 1), "{err}");
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["report", USAGE, "--batch-share", "1.5"][..],
        &["report", USAGE, "--traffic", "0"],
        &["report", USAGE, "--cache-hit", "-0.1"],
        &[
            "report",
            USAGE,
            "--route-to",
            "gpt-4o",
            "--route-share",
            "0.5",
        ],
        &["report", USAGE, "--frobnicate"],
        &["report", USAGE, "--period", "year"],
        &["report", USAGE, "--by", "colour"],
        &["report", USAGE, "--cache-ttl", "2h"],
        &["report", USAGE, "--traffic", "lots"],
        &["report"],
        &[
            "estimate",
            "--model",
            "gpt-4o",
            "--requests-per-day",
            "10",
            "--cached-prefix",
            "10",
        ],
        &[
            "estimate",
            "--model",
            "claude-haiku-4-5",
            "--requests-per-day",
            "10",
            "--cached-prefix",
            "10",
            "--active-hours",
            "30",
        ],
    ] {
        let (code, err) = fails(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?} says why");
    }
    let (_, err) = fails(&["report", USAGE, "--batch-share", "1.5"]);
    assert_eq!(
        err.trim_end(),
        "costlens: batch share must be between 0 and 1, got 1.5"
    );
}

#[test]
fn prices_json_is_the_table() {
    let p = json(&["prices", "--json"]);
    assert_eq!(f(&p["web_search_per_1k"]), 10.0);
    assert_eq!(p["as_of"], "2026-12-01");
    let models = p["models"].as_array().unwrap();
    assert_eq!(
        models.len(),
        27,
        "every model of pricing.md, legacy ones included"
    );
    let sonnet = models
        .iter()
        .find(|m| m["id"] == "claude-sonnet-4-5-20250929")
        .unwrap();
    let period = &sonnet["prices"][0];
    assert_eq!(
        [
            &period["input"],
            &period["cache_write_5m"],
            &period["cache_write_1h"],
            &period["cache_read"],
            &period["output"]
        ]
        .map(f),
        [3.0, 3.75, 6.0, 0.30, 15.0]
    );
    assert_eq!(period["tiers"][0]["above_prompt_tokens"], 200_000);
    assert_eq!(f(&period["tiers"][0]["output"]), 22.5);
    assert_eq!(period["effective_from"], "2025-09-29");
    let haiku35 = models
        .iter()
        .find(|m| m["id"] == "claude-3-5-haiku-20241022")
        .unwrap();
    assert_eq!(
        haiku35["prices"].as_array().unwrap().len(),
        2,
        "dated prices"
    );
    // The text table too.
    let o = costlens(&["prices"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("claude-3-haiku-20240307"));
}

#[test]
fn prices_override_file_changes_the_report() {
    let dir = temp_dir();
    // LiteLLM's file fills gaps only: its Haiku 4.5 price is not taken over the bundled one,
    // its unknown model is added.
    let litellm = dir.path().join("litellm.json");
    std::fs::write(
        &litellm,
        r#"{"claude-haiku-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05},
            "claude-proxy-9": {"litellm_provider": "anthropic", "input_cost_per_token": 4e-06, "output_cost_per_token": 2e-05}}"#,
    )
    .unwrap();
    // Our own format replaces the entries it names.
    let ours = dir.path().join("prices.json");
    std::fs::write(
        &ours,
        r#"{"schema": "costlens-prices/2", "models": [{"id": "claude-haiku-4-5", "prices": [
            {"effective_from": "2025-10-15", "input": 2.0, "output": 10.0}]}]}"#,
    )
    .unwrap();
    let usage = dir.path().join("usage.csv");
    std::fs::write(
        &usage,
        format!(
            "{HEADER}\n2026-03-01,claude-haiku-4-5-20251001,k,W,standard,,1000000,0,0,0,100000,0,,\n\
             2026-03-01,claude-proxy-9,k,W,standard,,1000000,0,0,0,0,0,,\n"
        ),
    )
    .unwrap();
    let (u, lf, of) = (
        usage.to_str().unwrap(),
        litellm.to_str().unwrap(),
        ours.to_str().unwrap(),
    );
    // Bundled: Haiku 4.5 at $1 / $5; claude-proxy-9 unpriced.
    let plain = json(&["report", u, "--json"]);
    assert!(close(f(&plain["actual_usd"]), 1.0 + 0.5));
    assert_eq!(plain["price_table"]["unknown_models"][0], "claude-proxy-9");
    // LiteLLM: Haiku kept, the proxy model priced at $4 per MTok.
    let with_litellm = json(&["report", u, "--json", "--prices", lf]);
    assert!(close(f(&with_litellm["actual_usd"]), 1.0 + 0.5 + 4.0));
    assert_eq!(
        with_litellm["price_table"]["unknown_models"],
        serde_json::json!([])
    );
    // Ours: Haiku at $2 / $10.
    assert!(close(
        f(&json(&["report", u, "--json", "--prices", of])["actual_usd"]),
        2.0 + 1.0
    ));
    let p = json(&["prices", "--json", "--prices", of]);
    let haiku = p["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "claude-haiku-4-5")
        .unwrap();
    assert_eq!(f(&haiku["prices"][0]["input"]), 2.0);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let (code, err) = fails(&["report", u, "--prices", bad.to_str().unwrap()]);
    assert_eq!((code, err.lines().count()), (1, 1), "{err}");
}

#[test]
fn estimate_worked_example() {
    let e = json(&[
        "estimate",
        "--model",
        "claude-sonnet-4-5",
        "--requests-per-day",
        "100",
        "--active-hours",
        "1",
        "--cached-prefix",
        "1000",
        "--json",
    ]);
    assert!(close(f(&e["without_cache_usd"]), 0.30));
    assert!(close(f(&e["with_cache_usd"]), 0.00375 + 0.0297));
    assert!(close(f(&e["with_cache_usd"]), 0.03345));
    assert!(close(f(&e["savings_usd"]), 0.26655));
    assert!((f(&e["savings_pct"]) - 88.85).abs() < 1e-9);
    assert_eq!((f(&e["cache_writes"]), f(&e["cache_reads"])), (1.0, 99.0));
    assert_eq!(e["stays_cached"], true);
    // Spread over 24 hours the prefix expires between requests: every request writes.
    let e = json(&[
        "estimate",
        "--model",
        "claude-sonnet-4-5",
        "--requests-per-day",
        "100",
        "--cached-prefix",
        "1000",
        "--json",
    ]);
    assert!(close(f(&e["with_cache_usd"]), 0.375));
    assert_eq!(e["stays_cached"], false);
    // ...unless the TTL is an hour.
    let e = json(&[
        "estimate",
        "--model",
        "claude-sonnet-4-5",
        "--requests-per-day",
        "100",
        "--cached-prefix",
        "1000",
        "--ttl",
        "1h",
        "--json",
    ]);
    assert!(close(f(&e["with_cache_usd"]), 0.006 + 0.0297));
    let o = costlens(&[
        "estimate",
        "--model",
        "claude-sonnet-4-5",
        "--requests-per-day",
        "100",
        "--active-hours",
        "1",
        "--cached-prefix",
        "1000",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("$0.30") && text.contains("$0.03\n"), "{text}");
}

#[test]
fn the_sample_folder_imports_every_file_in_it() {
    let folder = json(&["report", sample_dir().to_str().unwrap(), "--json"]);
    let csvs = json(&["report", USAGE, COST, "--json"]);
    let paths: Vec<&str> = folder["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let n = std::fs::read_dir(sample_dir()).unwrap().count();
    assert!(
        paths.len() >= n,
        "every sample file (and folder) is imported: {paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("claude_api_tokens_2026_08-10.csv")),
        "{paths:?}"
    );
    // The Console CSVs are part of it.
    assert!(f(&folder["actual_usd"]) >= f(&csvs["actual_usd"]));
    // The same file twice is counted once.
    let twice = json(&["report", USAGE, USAGE, "--json"]);
    assert_eq!(
        twice["actual_usd"],
        json(&["report", USAGE, "--json"])["actual_usd"]
    );
    assert_eq!(twice["files"].as_array().unwrap().len(), 1);
    assert_eq!(
        twice["notes"][0],
        format!("{USAGE} is the same file as {USAGE}: read once")
    );
}

/// A file named on the command line that cannot be read ends the run with exit 1; a problem
/// inside an opened folder is reported with the rejected lines and the rest is imported.
#[test]
fn unreadable_entry_inside_a_folder_does_not_stop_the_report() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/sample-data/claude_api_tokens_2026_08-10.csv"
        ),
        dir.path().join("usage.csv"),
    )
    .expect("copy");
    std::os::unix::fs::symlink(dir.path().join("gone.csv"), dir.path().join("dangling.csv"))
        .expect("link");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_costlens"))
        .env("COSTLENS_NO_HISTORY", "1")
        .args(["report", "--json"])
        .arg(dir.path())
        .env("COSTLENS_NO_CACHE", "1")
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let rejected = r["rejected"].as_array().expect("rejected");
    assert!(
        rejected.iter().any(|x| x["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("dangling.csv"))),
        "{rejected:?}"
    );
    assert!(r["actual_usd"].as_f64().expect("actual") > 1000.0);

    // Named directly, the same dangling link is fatal.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_costlens"))
        .env("COSTLENS_NO_HISTORY", "1")
        .arg("report")
        .arg(dir.path().join("dangling.csv"))
        .env("COSTLENS_NO_CACHE", "1")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dangling.csv: cannot read"));
}

#[test]
fn from_and_to_limit_the_report_to_those_days() {
    let want = recompute_sample();
    let september: f64 = want
        .by_day
        .iter()
        .filter(|(d, _)| d.starts_with("2026-09-"))
        .map(|(_, c)| c)
        .sum();
    assert!(september > 0.0);
    let r = json(&[
        "report",
        USAGE,
        "--json",
        "--period",
        "month",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
    ]);
    assert!(
        close(f(&r["actual_usd"]), september),
        "{} vs {september}",
        r["actual_usd"]
    );
    let periods: Vec<&str> = r["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-09"]);
    // One day, both ends included.
    let day = json(&[
        "report",
        USAGE,
        "--json",
        "--from",
        "2026-09-15",
        "--to",
        "2026-09-15",
    ]);
    assert!(close(f(&day["actual_usd"]), want.by_day["2026-09-15"]));
    let (code, err) = fails(&["report", USAGE, "--from", "15/09/2026"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--from wants a day YYYY-MM-DD from 2000 to 2099, got \"15/09/2026\""),
        "{err}"
    );
    let (code, err) = fails(&[
        "report",
        USAGE,
        "--from",
        "2026-09-02",
        "--to",
        "2026-09-01",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--from 2026-09-02 is after --to 2026-09-01"),
        "{err}"
    );
}
