//! Kept answers (`store::answer`): a report asked again while nothing changed is answered from
//! the one kept, byte for byte; any change to what it depends on (a file appended to, a price
//! file edited in place, other arguments, the usage history forgotten) is noticed.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const SESSION: &str = "0c0ffee0-0000-4000-8000-00000000000";

/// An assistant line of a Claude Code log with this usage (claude-sonnet-4-5, 2026-09-14).
fn assistant(session: &str, id: &str, input: u64, output: u64) -> String {
    format!(
        r#"{{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/u/app","sessionId":"{session}","version":"2.0.31","uuid":"u-{id}","timestamp":"2026-09-14T10:00:00.000Z","type":"assistant","requestId":"req_{id}","message":{{"id":"msg_{id}","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":{input},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":{output},"service_tier":"standard"}}}}}}"#
    ) + "\n"
}

/// A user line carrying a large tool result (no usage): what makes real logs big.
fn padding(session: &str, n: usize) -> String {
    format!(
        r#"{{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/u/app","sessionId":"{session}","version":"2.0.31","uuid":"pad","timestamp":"2026-09-14T09:59:00.000Z","type":"user","message":{{"role":"user","content":[{{"type":"tool_result","content":"{}"}}]}}}}"#,
        "x".repeat(n)
    ) + "\n"
}

/// Two sessions, 1.2 MB in all (an import big enough to be snapshotted and answered):
/// A: 100,000 input + 100,000 output tokens = $0.30 + $1.50 = $1.80;
/// B: 200,000 input tokens (not above the 200K tier) = $0.60. $2.40 in all.
fn tree(dir: &Path) -> (PathBuf, PathBuf) {
    let project = dir.join("logs/projects/-home-u-app");
    std::fs::create_dir_all(&project).unwrap();
    let (a, b) = (format!("{SESSION}1"), format!("{SESSION}2"));
    let fa = project.join(format!("{a}.jsonl"));
    let fb = project.join(format!("{b}.jsonl"));
    std::fs::write(
        &fa,
        padding(&a, 600_000) + &assistant(&a, "A", 100_000, 100_000),
    )
    .unwrap();
    std::fs::write(&fb, padding(&b, 600_000) + &assistant(&b, "B", 200_000, 0)).unwrap();
    (fa, fb)
}

/// `costlens report ARGS --json` with its cache and history in `dir`: (report, whether it
/// was answered from a kept answer, the JSON as written).
fn report(dir: &Path, args: &[&str]) -> (Value, bool, Vec<u8>) {
    let o = Command::new(env!("CARGO_BIN_EXE_costlens"))
        .current_dir(dir)
        .env("COSTLENS_CACHE_DIR", dir.join("cache"))
        .env("COSTLENS_HISTORY_DB", dir.join("history.sqlite"))
        .env("COSTLENS_TIMINGS", "1")
        .arg("report")
        .args(args)
        .arg("--json")
        .output()
        .expect("runs costlens");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let json: Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    (json, err.contains("report answered as kept"), o.stdout)
}

fn actual(r: &Value) -> f64 {
    r["actual_usd"].as_f64().expect("actual_usd")
}

fn cents(usd: f64) -> i64 {
    (usd * 100.0).round() as i64
}

fn answers(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cache"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "answer"))
                .count()
        })
        .unwrap_or(0)
}

/// The import snapshots in the cache (written beside the cube's build by a report).
fn snapshots(dir: &Path) -> Vec<Vec<u8>> {
    let mut s: Vec<Vec<u8>> = std::fs::read_dir(dir.join("cache"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
                .map(|e| std::fs::read(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    s.sort();
    s
}

#[test]
fn an_unchanged_report_is_answered_as_kept_and_a_grown_file_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (_, fb) = tree(dir.path());
    // The first import records both requests in the history: its report says so, and an
    // answer kept from it would say it again each time, so none is kept.
    let (first, answered, _) = report(dir.path(), &["logs"]);
    assert!(!answered);
    assert_eq!(cents(actual(&first)), 240);
    assert_eq!(first["history"]["recorded"], 2);
    assert_eq!(answers(dir.path()), 0);
    let written = snapshots(dir.path());
    assert_eq!(
        written.len(),
        1,
        "the first report writes the import's snapshot"
    );
    // Nothing changed: made from the snapshot (recorded 0 now) and kept.
    let (second, answered, second_bytes) = report(dir.path(), &["logs"]);
    assert!(!answered);
    assert_eq!(second["history"]["recorded"], 0);
    assert_eq!(answers(dir.path()), 1);
    let (third, answered, third_bytes) = report(dir.path(), &["logs"]);
    assert!(answered, "the third report is answered as kept");
    assert_eq!(third_bytes, second_bytes);
    assert_eq!(cents(actual(&third)), 240);

    // A live session appends a request (200,000 output tokens: $3.00).
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(&fb).unwrap();
    f.write_all(assistant(&format!("{SESSION}2"), "C", 0, 200_000).as_bytes())
        .unwrap();
    drop(f);
    let (grown, answered, _) = report(dir.path(), &["logs"]);
    assert!(!answered);
    assert_eq!(cents(actual(&grown)), 540);
    let rewritten = snapshots(dir.path());
    assert_eq!(rewritten.len(), 1, "one snapshot per set of inputs");
    assert_ne!(
        rewritten, written,
        "the snapshot is made again with the new request"
    );
    // Another view of the same files is another request, made from that snapshot.
    let (monthly, answered, _) = report(dir.path(), &["logs", "--period", "month"]);
    assert!(!answered);
    assert_eq!(cents(actual(&monthly)), 540);
    let (_, answered, _) = report(dir.path(), &["logs", "--period", "month"]);
    assert!(answered);
}

#[test]
fn a_price_file_edited_in_place_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let prices = dir.path().join("prices.json");
    let file = |input: f64| {
        format!(
            r#"{{"schema":"costlens-prices/2","as_of":"2026-12-01","models":[{{"id":"claude-sonnet-4-5-20250929","display_names":["Claude Sonnet 4.5"],"aliases":["claude-sonnet-4-5"],"family":"sonnet","min_cacheable_tokens":1024,"prices":[{{"effective_from":"2025-09-29","input":{input},"cache_write_5m":3.75,"cache_write_1h":6.0,"cache_read":0.3,"output":15.0}}]}}]}}"#
        )
    };
    // Input at $6/M: A 0.6 + 1.5, B 1.2 = $3.30.
    std::fs::write(&prices, file(6.0)).unwrap();
    let args = ["logs", "--prices", "prices.json"];
    for _ in 0..3 {
        let (r, _, _) = report(dir.path(), &args);
        assert_eq!(cents(actual(&r)), 330);
    }
    let (_, answered, _) = report(dir.path(), &args);
    assert!(answered);
    // The same path, new prices: input at $9/M: A 0.9 + 1.5, B 1.8 = $4.20.
    std::fs::write(&prices, file(9.0)).unwrap();
    let (r, answered, _) = report(dir.path(), &args);
    assert!(!answered);
    assert_eq!(cents(actual(&r)), 420);
}

#[test]
fn a_price_file_from_a_pipe_is_read_once() {
    // `--prices /dev/stdin` (or `<(curl ...)`): the text keys the answer and prices the
    // report; a pipe read twice would price with nothing.
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let text = r#"{"schema":"costlens-prices/2","as_of":"2026-12-01","models":[{"id":"claude-sonnet-4-5-20250929","display_names":["Claude Sonnet 4.5"],"aliases":["claude-sonnet-4-5"],"family":"sonnet","min_cacheable_tokens":1024,"prices":[{"effective_from":"2025-09-29","input":6.0,"cache_write_5m":3.75,"cache_write_1h":6.0,"cache_read":0.3,"output":15.0}]}]}"#;
    for _ in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_costlens"))
            .current_dir(dir.path())
            .env("COSTLENS_CACHE_DIR", dir.path().join("cache"))
            .env("COSTLENS_HISTORY_DB", dir.path().join("history.sqlite"))
            .args(["report", "logs", "--json", "--prices", "/dev/stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        // Input at $6/M: A 0.6 + 1.5, B 1.2 = $3.30.
        assert_eq!(cents(actual(&r)), 330);
    }
}

#[test]
fn forgetting_history_or_a_damaged_answer_is_never_answered_from() {
    let dir = tempfile::tempdir().unwrap();
    let (fa, _) = tree(dir.path());
    report(dir.path(), &["logs"]);
    // Session A's log is deleted: its $1.80 is still counted, from the history.
    std::fs::remove_file(&fa).unwrap();
    // A single file left is below what is answered: add a second session ($0.00 of usage).
    let c = format!("{SESSION}3");
    std::fs::write(
        dir.path()
            .join("logs/projects/-home-u-app")
            .join(format!("{c}.jsonl")),
        padding(&c, 600_000),
    )
    .unwrap();
    for _ in 0..2 {
        let (r, _, _) = report(dir.path(), &["logs"]);
        assert_eq!(cents(actual(&r)), 240);
        assert_eq!(r["history"]["requests_from_deleted_logs"], 1);
    }
    let (_, answered, _) = report(dir.path(), &["logs"]);
    assert!(answered);
    // Forgetting the history before October leaves only B's $0.60 (its log is still there).
    let o = Command::new(env!("CARGO_BIN_EXE_costlens"))
        .env("COSTLENS_HISTORY_DB", dir.path().join("history.sqlite"))
        .args(["history", "forget", "--before", "2026-10-01"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (r, answered, _) = report(dir.path(), &["logs"]);
    assert!(!answered);
    assert_eq!(cents(actual(&r)), 60);
    // Kept again, then damaged: a flipped byte is not answered from.
    report(dir.path(), &["logs"]);
    let (_, answered, _) = report(dir.path(), &["logs"]);
    assert!(answered);
    for e in std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "answer") {
            let mut bytes = std::fs::read(e.path()).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x20;
            std::fs::write(e.path(), bytes).unwrap();
        }
    }
    let (r, answered, _) = report(dir.path(), &["logs"]);
    assert!(!answered);
    assert_eq!(cents(actual(&r)), 60);
}

/// A cost export alone, whose money is turned into usage after the import, is snapshotted
/// too (before that, as it was read), and an import from the snapshot gives the same money.
#[test]
fn a_cost_export_is_snapshotted_as_read_and_priced_the_same_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("costs");
    std::fs::create_dir_all(&folder).unwrap();
    // Two exports of 4,000 rows each (1.2 MB in all, over the 1 MiB an import needs to be
    // snapshotted), each row $1.50 of Sonnet 4.5 output under its own API key:
    // 8,000 × $1.50 = $12,000.00.
    for (file, month) in [
        ("claude_api_cost_a.csv", "08"),
        ("claude_api_cost_b.csv", "09"),
    ] {
        let mut text = String::from(
            "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,\
             cost_usd,list_price_usd,cost_type,inference_geo,speed,api_key_id,api_key_status\n",
        );
        for i in 0..4_000 {
            text += &format!(
                "2026-{month}-{:02},Claude Sonnet 4.5,Default,key-{month}-{i},standard,≤ 200k,\
                 output,1.500000,1.500000,token,not_available,,apikey_{month}{i:05},active\n",
                i % 28 + 1
            );
        }
        std::fs::write(folder.join(file), text).unwrap();
    }
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_costlens"))
            .current_dir(dir.path())
            .env("COSTLENS_CACHE_DIR", dir.path().join("cache"))
            .env("COSTLENS_HISTORY_DB", dir.path().join("history.sqlite"))
            .env("COSTLENS_TIMINGS", "1")
            .args(["report", "costs", "--json"])
            .args(args)
            .output()
            .expect("runs costlens");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        let json: Value = serde_json::from_slice(&o.stdout).expect("JSON report");
        (json, err)
    };
    let (first, err) = run(&[]);
    assert!(err.contains("load: parse and merge"), "{err}");
    assert_eq!(cents(actual(&first)), 1_200_000);
    assert_eq!(
        snapshots(dir.path()).len(),
        1,
        "the import wrote its snapshot"
    );
    // Another view: made from the snapshot, nothing parsed, the same money.
    let (monthly, err) = run(&["--period", "month"]);
    assert!(!err.contains("load: parse and merge"), "{err}");
    assert_eq!(cents(actual(&monthly)), 1_200_000);
}
