//! Writes a deterministic, realistic Claude Code log tree (for benchmarks and demos):
//! `cargo run --release --example gen_claude_logs -- <out_dir> <approx_bytes> [seed] [--small] [--cache-expiry]`
//!
//! `approx_bytes` takes a K, M or G suffix (`50M`, `1G`). `--small` writes many small sessions
//! (`ClaudeTreeSpec::many_small`: about 14,000 files and 350,000 API responses per GB, 1-3
//! lines per response, 30% of sessions with a subagent log) instead of the default shape
//! (about 4,000 larger files and 96,000 responses per GB, 2-4 lines per response). The tree is `<out_dir>/projects/...`:
//! point Claude Code tools at it with `CLAUDE_CONFIG_DIR=<out_dir>`, or open `<out_dir>` in
//! costlens.

use costlens_testkit::{ClaudeTreeSpec, claude_code_tree};
use std::process::ExitCode;

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1u64 << 10),
        'M' => (&s[..s.len() - 1], 1 << 20),
        'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<f64>().ok().map(|n| (n * mult as f64) as u64)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--cache-expiry`: cache reads as the API makes them (ClaudeTreeSpec::cache_expiry).
    let expiry = args.iter().any(|a| a == "--cache-expiry");
    // `--small`: many small sessions (ClaudeTreeSpec::many_small).
    let small = args.iter().any(|a| a == "--small");
    args.retain(|a| a != "--cache-expiry" && a != "--small");
    let (Some(out), Some(size)) = (args.first(), args.get(1).and_then(|s| parse_size(s))) else {
        eprintln!(
            "usage: gen_claude_logs <out_dir> <approx_bytes, e.g. 50M or 1G> [seed] [--small] [--cache-expiry]"
        );
        return ExitCode::from(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2026);
    let started = std::time::Instant::now();
    let mut spec = if small {
        ClaudeTreeSpec::many_small(size, seed)
    } else {
        ClaudeTreeSpec::new(size, seed)
    };
    spec.cache_expiry = expiry;
    match claude_code_tree(std::path::Path::new(out), &spec) {
        Ok(s) => {
            println!(
                "wrote {} files, {:.1} MB, {} lines ({} usage lines, {} API responses) to {}/projects in {:.1} s",
                s.files,
                s.bytes as f64 / 1e6,
                s.lines,
                s.usage_lines,
                s.responses,
                out,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_claude_logs: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
