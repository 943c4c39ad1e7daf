//! The fuzz targets' checks (`fuzz/fuzz_targets/common.rs`, shared, not copied) run in
//! `cargo test` over every seed in `fuzz/seeds/` and every input a fuzz run has found to
//! crash, hang or overflow, saved under `tests/fuzz-crashes/<target>/`: an input that once
//! broke an importer stays a test after the bug is fixed.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod common;

use std::path::{Path, PathBuf};

/// The inputs of one target: its seeds and its saved crashes.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = [
        root.join("fuzz/seeds").join(target),
        root.join("tests/fuzz-crashes").join(target),
    ]
    .iter()
    .filter_map(|d| std::fs::read_dir(d).ok())
    .flatten()
    .map(|e| e.unwrap().path())
    .collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_every_saved_crash_passes_the_fuzz_checks() {
    let mut seen = 0;
    for target in [
        "detect",
        "console_usage",
        "console_cost",
        "admin",
        "messages",
        "batch",
        "claude_code",
    ] {
        let files = inputs(target);
        assert!(!files.is_empty(), "{target}: no seeds");
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let outcome = std::panic::catch_unwind(|| common::run(target, &data));
            assert!(outcome.is_ok(), "{target}: {} fails", f.display());
            seen += 1;
        }
    }
    assert!(seen >= 25, "{seen} inputs");
}
