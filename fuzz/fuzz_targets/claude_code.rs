//! The Claude Code log importer fed arbitrary bytes (format detection skipped). The path
//! names a project folder, as in `~/.claude/projects/<project>/<session>.jsonl`.
#![no_main]

mod common;

use costlens::import::{Format, Options, parse_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = "/home/u/.claude/projects/-home-u-app/0b0c.jsonl";
    let parsed = parse_as(Format::ClaudeCodeJsonl, name, data, &Options::default());
    common::check(Format::ClaudeCodeJsonl, data, parsed);
});
