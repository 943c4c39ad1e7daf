//! Writes the API-format and Claude Code samples in `sample-data/` (deterministic: the same
//! bytes every run): `cargo run --example gen_log_samples`
//!
//! - `admin_usage_report.json`, `admin_cost_report.json`: the Admin API reports of one
//!   organisation over two weeks (the cost report bills exactly the usage report's rows);
//! - `messages_log.jsonl`: a support bot's own request log; `batch_results.jsonl`: a nightly
//!   batch of summaries;
//! - `claude-code/projects/<two projects>/...`: Claude Code logs with a subagents folder.

use chrono::NaiveDate;
use costlens_testkit::ClaudeTreeSpec;

fn main() -> std::io::Result<()> {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    std::fs::create_dir_all(&out)?;
    let first = NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date");
    let s = costlens_testkit::api_samples(first, 14, 2026);
    std::fs::write(out.join("admin_usage_report.json"), &s.admin_usage)?;
    std::fs::write(out.join("admin_cost_report.json"), &s.admin_cost)?;
    std::fs::write(out.join("messages_log.jsonl"), &s.messages_log)?;
    std::fs::write(out.join("batch_results.jsonl"), &s.batch_results)?;
    let tree = out.join("claude-code");
    if tree.exists() {
        std::fs::remove_dir_all(&tree)?;
    }
    let mut spec = ClaudeTreeSpec::new(100_000, 2026);
    spec.projects = 2;
    spec.weeks = 2;
    spec.last_day = NaiveDate::from_ymd_opt(2026, 11, 14).expect("valid date");
    spec.tool_result_scale = 0.04;
    spec.session_scale = 0.15;
    let stats = costlens_testkit::claude_code_tree(&tree, &spec)?;
    println!(
        "wrote the API samples and {} Claude Code files ({} KB) to {}",
        stats.files,
        stats.bytes / 1024,
        out.display()
    );
    Ok(())
}
