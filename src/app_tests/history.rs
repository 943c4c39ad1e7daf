//! The usage history in the app: requests of deleted Claude Code logs stay counted (and the
//! import report's switch turns that off), and histories of other machines given as inputs
//! bring a machine filter and breakdown; the logs' own costUSD is set against the recomputed cost
//! only where every request gives one.

use super::*;
use costlens::engine::view::Dimension;
use costlens::import::Control;
use costlens::pipeline::load::HistoryChoice;
use costlens::store::cache::Cache;

/// One Claude Code response of Opus 4.5 in session `session` of project folder `-w`.
fn session_log(root: &std::path::Path, session: &str, input: u64, output: u64) -> PathBuf {
    let dir = root.join("projects").join("-w");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let line = serde_json::json!({
        "type": "assistant", "sessionId": session, "cwd": "/w", "version": "2.1.0",
        "timestamp": "2026-11-20T10:00:00.000Z", "requestId": format!("req_{session}"),
        "uuid": format!("u_{session}"),
        "message": {"id": format!("msg_{session}"), "type": "message", "role": "assistant",
            "model": "claude-opus-4-5-20251101", "content": [],
            "usage": {"input_tokens": input, "output_tokens": output,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "service_tier": "standard"}}
    });
    let p = dir.join(format!("{session}.jsonl"));
    std::fs::write(&p, format!("{line}\n")).expect("write");
    p
}

fn actual(h: &Harness<'static, CostlensApp>) -> f64 {
    h.state().pipeline.evaluation().actual
}

#[test]
fn requests_of_deleted_logs_stay_counted_until_the_switch_is_turned_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("claude");
    // Opus 4.5 at $5 / $25 a million: 100K in + 20K out = $0.50 + $0.50 = $1.00;
    // 150K in + 40K out = $0.75 + $1.00 = $1.75.
    session_log(&root, "s1", 100_000, 20_000);
    let gone = session_log(&root, "s2", 150_000, 40_000);
    let mut h = harness();
    h.state_mut().history_db = Some(dir.path().join("history.sqlite"));
    h.run();
    import(&mut h, vec![root.clone()]);
    assert!((actual(&h) - 2.75).abs() < 1e-9, "{}", actual(&h));
    // Claude Code deletes the log; the history still has its request.
    std::fs::remove_file(&gone).expect("rm");
    import(&mut h, vec![root.clone()]);
    assert!((actual(&h) - 2.75).abs() < 1e-9, "{}", actual(&h));
    h.get_by_label("Actual (recomputed): $2.75");
    h.get_by_label_contains("s, 1 request from deleted logs");
    // The dashboard keeps saying it, with a way out (checked below through the report's switch).
    h.get_by_label("Including 1 request from deleted logs, kept in the usage history");
    h.get_by_label("Leave them out");
    // The import report says where and offers the switch.
    h.state_mut().show_report = true;
    h.run();
    h.get_by_label_contains("including 1 requests from deleted logs");
    h.get_by_label_contains("Keep Claude Code usage in the history")
        .click_accesskit();
    wait_for_import(&mut h);
    assert!(!h.state().settings.keep_history);
    // Without the history only the log left counts: $1.00.
    assert!((actual(&h) - 1.0).abs() < 1e-9, "{}", actual(&h));
    h.get_by_label("Actual (recomputed): $1.00");
    assert!(h.query_by_label("Leave them out").is_none());
}

/// An import big enough to be snapshotted writes its snapshot (beside the cube's build), and
/// the same folder opened again is read from it, with the same money.
#[test]
fn a_folder_opened_again_unchanged_is_read_from_its_snapshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("claude");
    // Opus 4.5 at $5 / $25 a million: 100K in + 20K out = $1.00; 150K in + 40K out = $1.75.
    let logs = [
        session_log(&root, "s1", 100_000, 20_000),
        session_log(&root, "s2", 150_000, 40_000),
    ];
    // A user line with a large tool result in each (no usage): 1.2 MB in all, over the
    // 1 MiB an import needs to be snapshotted.
    for log in &logs {
        let pad = serde_json::json!({"type": "user", "sessionId": "s", "cwd": "/w",
            "timestamp": "2026-11-20T09:59:00.000Z",
            "message": {"role": "user", "content": [{"type": "tool_result",
                "content": "x".repeat(600_000)}]}});
        let text = std::fs::read_to_string(log).expect("read") + &format!("{pad}\n");
        std::fs::write(log, text).expect("write");
    }
    let snapshots = || {
        std::fs::read_dir(dir.path().join("cache"))
            .map(|d| {
                (d.flatten())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
                    .count()
            })
            .unwrap_or(0)
    };
    let mut h = harness();
    h.state_mut().cache = Cache::at(dir.path().join("cache"));
    h.run();
    import(&mut h, vec![root.clone()]);
    assert!((actual(&h) - 2.75).abs() < 1e-9, "{}", actual(&h));
    assert_eq!(snapshots(), 1, "the import wrote its snapshot");
    h.get_by_label_contains("Imported 2 rows from");
    assert!(h.query_by_label_contains("read from the cache").is_none());
    import(&mut h, vec![root.clone()]);
    h.get_by_label_contains("no file changed since the last import: read from the cache");
    assert!((actual(&h) - 2.75).abs() < 1e-9, "{}", actual(&h));
    h.get_by_label("Actual (recomputed): $2.75");
}

#[test]
fn the_dashboard_leaves_requests_of_deleted_logs_out_in_one_click() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("claude");
    session_log(&root, "s1", 100_000, 20_000);
    let gone = session_log(&root, "s2", 150_000, 40_000);
    let mut h = harness();
    h.state_mut().history_db = Some(dir.path().join("history.sqlite"));
    h.run();
    import(&mut h, vec![root.clone()]);
    std::fs::remove_file(&gone).expect("rm");
    import(&mut h, vec![root.clone()]);
    assert!((actual(&h) - 2.75).abs() < 1e-9, "{}", actual(&h));
    h.get_by_label("Leave them out").click_accesskit();
    wait_for_import(&mut h);
    assert!(!h.state().settings.keep_history);
    assert!((actual(&h) - 1.0).abs() < 1e-9, "{}", actual(&h));
}

#[test]
fn a_file_opened_alone_neither_keeps_nor_reads_the_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = session_log(&dir.path().join("claude"), "s1", 100_000, 20_000);
    let db = dir.path().join("history.sqlite");
    let mut h = harness();
    h.state_mut().history_db = Some(db.clone());
    h.run();
    import(&mut h, vec![log]);
    assert!((actual(&h) - 1.0).abs() < 1e-9);
    assert!(!db.exists(), "no database for a file opened alone");
    // Nor a switch for it in the import report.
    h.state_mut().show_report = true;
    h.run();
    assert!(h.query_by_label("Usage history").is_none());
}

#[test]
fn histories_of_two_machines_bring_a_machine_filter_and_breakdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Alice's and Bob's histories, each recorded from their own logs.
    for (who, input, output) in [("alice", 100_000, 20_000), ("bob", 150_000, 40_000)] {
        let root = dir.path().join(who);
        session_log(&root, &format!("{who}-1"), input, output);
        let choice = HistoryChoice {
            path: dir.path().join(format!("{who}.sqlite")),
            all_files: false,
        };
        let loaded = costlens::pipeline::load::load_with_history(
            &[root],
            &Options::default(),
            &Control::new(),
            &Cache::disabled(),
            Some(&choice),
        );
        assert!(
            loaded.history_warnings.is_empty(),
            "{:?}",
            loaded.history_warnings
        );
    }
    let mut h = harness();
    h.run();
    import(
        &mut h,
        vec![
            dir.path().join("alice.sqlite"),
            dir.path().join("bob.sqlite"),
        ],
    );
    assert!((actual(&h) - 2.75).abs() < 1e-9, "{}", actual(&h));
    assert_eq!(h.state().choices.machines, ["alice", "bob"]);
    // The breakdown by machine, then a click on Bob's row keeps his usage only: $1.75.
    h.state_mut().settings.spec.dimension = Dimension::Machine;
    h.run();
    h.get_by_role_and_label(egui::accesskit::Role::Link, "bob")
        .click_accesskit();
    h.run();
    assert_eq!(h.state().settings.spec.filter.machines, ["bob"]);
    assert!((actual(&h) - 1.75).abs() < 1e-9, "{}", actual(&h));
    // The filters panel lists the machines.
    h.get_by_label_contains("Machines");
}

/// A Claude Code line of Sonnet 4.5 with 1M input tokens ($3.00), with `costUSD` when given.
fn line_with_cost(id: &str, cost: Option<f64>) -> String {
    let mut v = serde_json::json!({
        "type": "assistant", "sessionId": "s", "cwd": "/w", "version": "1.0.30",
        "timestamp": "2026-06-20T10:00:00.000Z", "requestId": format!("req_{id}"),
        "uuid": format!("u_{id}"),
        "message": {"id": format!("msg_{id}"), "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [],
            "usage": {"input_tokens": 100_000, "output_tokens": 0,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
    });
    if let Some(c) = cost {
        v["costUSD"] = serde_json::json!(c);
    }
    v.to_string()
}

#[test]
fn reported_cost_is_compared_only_when_every_request_gives_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("s.jsonl");
    // 100K input of Sonnet 4.5 at $3 a million: $0.30 a request.
    std::fs::write(
        &log,
        format!(
            "{}\n{}\n",
            line_with_cost("a", Some(0.25)),
            line_with_cost("b", None)
        ),
    )
    .expect("write");
    let mut h = harness();
    h.run();
    import(&mut h, vec![log.clone()]);
    assert!((actual(&h) - 0.60).abs() < 1e-9, "{}", actual(&h));
    // costUSD on one request of two: its $0.25 is not set against the $0.60 recomputed.
    h.get_by_label("Reported by logs (costUSD)");
    h.get_by_label("on 1 of 2 requests only");
    assert!(h.query_by_label_contains("recomputed differs").is_none());
    // On both: compared. $0.60 - ($0.25 + $0.20) = $0.15.
    std::fs::write(
        &log,
        format!(
            "{}\n{}\n",
            line_with_cost("a", Some(0.25)),
            line_with_cost("b", Some(0.20))
        ),
    )
    .expect("write");
    import(&mut h, vec![log]);
    h.get_by_label("recomputed differs by $0.15");
}
