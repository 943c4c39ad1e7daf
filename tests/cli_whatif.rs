//! The CLI contract of the grounded what-if: `estimate --json`'s minimum-prefix fields,
//! `report --json`'s `ttl_replay`, `budget`, `forecast`, `opportunities`, the routing token
//! factor and the fast-mode and residency levers, on the sample data.

use serde_json::Value;
use std::process::{Command, Output};

fn costlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_costlens"))
        .args(args)
        .env("COSTLENS_NO_CACHE", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> Value {
    let o = costlens(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

const LOGS: [&str; 2] = ["sample-data/claude-code", "sample-data/messages_log.jsonl"];
const USAGE: &str = "sample-data/claude_api_tokens_2026_08-10.csv";

#[test]
fn estimate_says_what_the_api_bills_under_the_minimum_prefix() {
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
    assert!(close(f(&e["with_cache_usd"]), 0.03345));
    assert!(close(f(&e["billed_with_cache_usd"]), 0.30));
    assert_eq!(e["min_cacheable_tokens"], 1024);
    let w = e["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].as_str().unwrap().contains("minimum cacheable prefix"));
    // Text: the billed line and the warning.
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
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("billed by the API") && text.contains("warning:"),
        "{text}"
    );
    // Over the minimum: no warning, billed as cached.
    let e = json(&[
        "estimate",
        "--model",
        "claude-sonnet-4-5",
        "--requests-per-day",
        "100",
        "--active-hours",
        "1",
        "--cached-prefix",
        "2000",
        "--json",
    ]);
    assert_eq!(e["warnings"].as_array().unwrap().len(), 0);
    assert!(close(
        f(&e["billed_with_cache_usd"]),
        f(&e["with_cache_usd"])
    ));
}

#[test]
fn report_json_has_the_ttl_replay_forecast_budget_and_opportunities() {
    let mut args = vec!["report"];
    args.extend(LOGS);
    args.extend(["--json", "--budget", "2"]);
    let r = json(&args);
    let replay = r["ttl_replay"].as_array().unwrap();
    assert_eq!(replay.len(), 2);
    assert_eq!(replay[0]["ttl"], "5m");
    assert_eq!(replay[1]["ttl"], "1h");
    for t in replay {
        for k in [
            "hit_rate",
            "cache_write_tokens",
            "cache_read_tokens",
            "cost_usd",
        ] {
            assert!(t[k].is_number(), "{k}: {t}");
        }
        assert!(close(f(&t["actual_usd"]), f(&r["actual_usd"])));
    }
    // A longer TTL never finds fewer reads.
    assert!(f(&replay[1]["cache_read_tokens"]) >= f(&replay[0]["cache_read_tokens"]));
    assert!(r["ttl_replay_check"]["difference_pct"].is_number());
    let b = &r["budget"];
    assert_eq!(b["monthly_usd"], 2.0);
    assert_eq!(b["month"], "2026-11");
    for k in ["spent_usd", "forecast_usd"] {
        assert!(b[k].is_number(), "{k}: {b}");
    }
    assert!(b["exceeds_on"].is_string(), "{b}");
    assert!(
        r["forecast"]["method"]
            .as_str()
            .unwrap()
            .contains("Data ends on 2026-11-14")
    );
    let ops = r["opportunities"].as_array().unwrap();
    assert!(!ops.is_empty());
    let mut last = f64::INFINITY;
    for o in ops {
        for k in ["dimension", "key", "lever", "detail"] {
            assert!(o[k].is_string(), "{k}: {o}");
        }
        let s = f(&o["savings_usd"]);
        assert!(s <= last && s <= f(&o["actual_usd"]) + 1e-12, "{o}");
        last = s;
    }
    // The routing token factor used, and the routing targets with their prices.
    assert!(close(f(&r["levers"]["route_token_factor"]), 1.3));
    let targets = r["route_targets"].as_array().unwrap();
    assert!(
        targets
            .iter()
            .any(|t| t["id"] == "claude-haiku-4-5-20251001")
    );
    assert!(targets.iter().all(|t| t["input"].is_number()));
    // No budget asked: null.
    let mut args = vec!["report"];
    args.extend(LOGS);
    args.push("--json");
    assert!(json(&args)["budget"].is_null());
}

#[test]
fn aggregated_exports_say_they_cannot_be_replayed_or_sized() {
    let r = json(&["report", USAGE, "--json", "--cache-share", "0.9"]);
    assert_eq!(r["ttl_replay"].as_array().unwrap().len(), 0);
    let notes = r["ttl_replay_notes"].as_array().unwrap();
    assert!(
        notes[0].as_str().unwrap().contains("has a time of its own"),
        "{notes:?}"
    );
    let m = &r["cache_minimum"];
    assert!(f(&m["unsized_input_tokens"]) > 0.0);
    assert!(
        m["notes"][0]
            .as_str()
            .unwrap()
            .contains("carry no request sizes"),
        "{m}"
    );
    // The sample's months: the forecast month is over at its last day.
    assert_eq!(r["forecast"]["complete"], true);
}

#[test]
fn fast_mode_residency_and_token_factor_levers_are_flags() {
    let r = json(&[
        "report",
        USAGE,
        "--json",
        "--fast-to-standard",
        "0.5",
        "--us-to-global",
        "1",
        "--route-share",
        "0.3",
        "--route-token-factor",
        "1.35",
    ]);
    let keys: Vec<&str> = r["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["lever"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
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
    assert_eq!(r["levers"]["fast_to_standard"], 0.5);
    assert_eq!(r["levers"]["us_to_global"], 1.0);
    assert!(close(f(&r["levers"]["route_token_factor"]), 1.35));
    let sum: f64 = r["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| f(&w["savings_usd"]))
        .sum();
    assert!(close(sum, f(&r["savings_usd"])));
    for bad in [
        ["--fast-to-standard", "1.5"],
        ["--us-to-global", "-0.1"],
        ["--route-token-factor", "3"],
        ["--budget", "0"],
    ] {
        let o = costlens(&["report", USAGE, bad[0], bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn a_month_that_ended_before_today_is_reported_as_an_estimate() {
    // Claude Code logs of 2026-09-14 only, reported after September: the month is over but
    // the data stops on the 14th, so its figure is an estimate of the 16 days it misses
    // (Sep 15 - 30) at the one day's cost, not a forecast.
    let dir = "tests/fixtures/real_world/claude-code";
    let r = json(&["report", dir, "--json", "--no-history"]);
    let fc = &r["forecast"];
    assert_eq!(fc["month"], "2026-09");
    assert_eq!(fc["past"], true);
    assert_eq!(fc["complete"], false);
    let spent = f(&fc["to_date"]);
    assert!(spent > 0.0);
    assert!(close(f(&fc["month_end"]), spent * 17.0), "{fc}");
    assert!(
        fc["method"]
            .as_str()
            .unwrap()
            .contains("2026-09 ended before today"),
        "{fc}"
    );
    let o = costlens(&["report", dir, "--no-history"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\nEstimated 2026-09\n"), "{text}");
    assert!(text.contains("Month (estimated)"), "{text}");
    assert!(!text.contains("Forecast 2026-09"), "{text}");
}

/// The report bands requests on its own prompt length only (not the app's slider steps):
/// two Sonnet 4.5 requests of 155,000 and 158,000 prompt tokens in one hour, at x1.28, are
/// 198,400 tokens (under the 200K long-context threshold) and 202,240 (over it), each priced
/// on its side.
#[test]
fn a_report_at_any_prompt_length_prices_each_request_on_its_side_of_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let line = |id: &str, minute: u32, input: u64| {
        format!(
            r#"{{"request_id":"req_{id}","response":{{"id":"msg_{id}","model":"claude-sonnet-4-5","role":"assistant","type":"message","usage":{{"input_tokens":{input},"output_tokens":1000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"service_tier":"standard"}}}},"timestamp":"2026-10-01T10:{minute:02}:00Z"}}"#
        )
    };
    std::fs::write(
        &log,
        format!("{}\n{}\n", line("a", 0, 155_000), line("b", 10, 158_000)),
    )
    .unwrap();
    let log = log.to_str().unwrap();
    for g in ["1.28", "1.3"] {
        let r = json(&["report", log, "--json", "--prompt-length", g]);
        assert!(close(f(&r["actual_usd"]), 0.969), "{r}");
        let want = if g == "1.28" {
            // 198,400 x $3 + 1,000 x $15; 202,240 x $6 + 1,000 x $22.50.
            (198_400.0 * 3.0 + 15_000.0 + 202_240.0 * 6.0 + 22_500.0) / 1e6
        } else {
            // Both over: 201,500 and 205,400 tokens at $6, 2 x 1,000 at $22.50.
            (201_500.0 * 6.0 + 205_400.0 * 6.0 + 45_000.0) / 1e6
        };
        assert!(close(f(&r["scenario_usd"]), want), "x{g}: {r}");
    }
}
