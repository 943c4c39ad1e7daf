//! The Claude Code log importer fed arbitrary bytes (format detection skipped). The path
//! names a project folder, as in `~/.claude/projects/<project>/<session>.jsonl`.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::run("claude_code", data));
