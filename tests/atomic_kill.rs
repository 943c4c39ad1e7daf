//! Issue 5, "nothing lost": a kill in the middle of writing settings leaves the previous
//! version intact, and importing never writes to the user's input files.
//!
//! The writer is this test binary run again (`unsafe` is forbidden in the crate, so no fork):
//! with `COSTLENS_TEST_WRITER=<path>` set, the test `writer_child` writes ever newer versions
//! of a large JSON document to `<path>` through `costlens::store::settings::save_json` until killed.
//! Without that variable `writer_child` does nothing.

use costlens::import::{Control, Options};
use costlens::pipeline::load;
use costlens::store::atomic;
use costlens::store::cache::Cache;
use costlens::store::settings::{self as store, Loaded};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const WRITER_ENV: &str = "COSTLENS_TEST_WRITER";

/// A settings-like document, large enough (about 4 MB) that writing it takes a while. Every
/// field is derived from `version`, along the whole payload, so a document read back can be
/// checked to be one complete version (not a mix, not a prefix).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Doc {
    version: u64,
    payload: String,
    end: String,
}

fn doc(version: u64) -> Doc {
    Doc {
        version,
        payload: format!("v{version};").repeat(400_000),
        end: format!("complete version {version}"),
    }
}

/// The JSON of `doc(version)`, built without serde: serialising through generic serde code
/// compiled in this (debug) test crate took ~150 ms, so kills landed mostly outside the write.
/// Built like this the writer spends most of its time inside `atomic::write`.
fn doc_json(version: u64) -> Vec<u8> {
    let d = doc(version);
    format!(
        "{{\"version\":{},\"payload\":\"{}\",\"end\":\"{}\"}}",
        d.version, d.payload, d.end
    )
    .into_bytes()
}

#[test]
fn writer_child() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let path = PathBuf::from(path);
    let start: u64 = std::env::var("COSTLENS_TEST_WRITER_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut v = start;
    while Instant::now() < deadline {
        // Alternate the two entry points settings go through.
        if v.is_multiple_of(2) {
            atomic::write(&path, &doc_json(v)).expect("writes");
        } else {
            store::save_json(&path, &doc(v)).expect("writes");
        }
        v += 1;
    }
}

/// Files in `dir` other than `keep`.
fn others(dir: &Path, keep: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != keep)
        .collect();
    v.sort();
    v
}

#[test]
fn a_kill_mid_write_leaves_a_complete_version() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("settings.json");
    store::save_json(&target, &doc(0)).unwrap();
    let mut rng = fastrand::Rng::with_seed(5);
    let mut last = 0;
    let mut advanced = 0;
    for round in 0..10 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "atomic_kill::writer_child",
                "--test-threads=1",
                "--quiet",
            ])
            .env(WRITER_ENV, &target)
            .env("COSTLENS_TEST_WRITER_FROM", (last + 1).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A random moment: from before the child's first write to several writes in.
        std::thread::sleep(Duration::from_millis(rng.u64(30..300)));
        child.kill().unwrap();
        child.wait().unwrap();
        // The target parses and is exactly one complete version, not older than the last.
        let got: Doc = match store::load_json(&target) {
            Loaded::Ok(d) => d,
            other => panic!("round {round}: settings lost: {other:?}"),
        };
        assert!(
            got.version >= last,
            "round {round}: went back to {}",
            got.version
        );
        assert_eq!(got, doc(got.version), "round {round}: a mix of versions");
        advanced += u64::from(got.version > last);
        last = got.version;
        // A kill inside a write may leave the temp file (`.costlens-tmp-*`, in the same
        // folder); it never replaces the target and does not block later writes. Stray temp
        // files are accepted here (the OS does not let a killed process clean up), nothing
        // else is; later writes remove them (below).
        for p in others(dir.path(), &target) {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                name.starts_with(atomic::TEMP_PREFIX),
                "round {round}: unexpected file {name}"
            );
        }
    }
    assert!(
        advanced > 0,
        "the writer never completed a write: kills too early"
    );
    // How many kills landed inside a write (left a temp file), for whoever runs --nocapture.
    eprintln!(
        "atomic_kill: last version {last}, {advanced} rounds advanced, {} stray temp files",
        others(dir.path(), &target).len()
    );
    // Temp files left by killed writes are removed by a later write once they are old
    // enough not to belong to a write under way (made old here rather than waited for).
    let stray = dir.path().join(format!("{}killed", atomic::TEMP_PREFIX));
    std::fs::write(&stray, b"{\"version\": 1, \"payl").unwrap();
    let young = dir
        .path()
        .join(format!("{}in-progress", atomic::TEMP_PREFIX));
    std::fs::write(&young, b"{").unwrap();
    let old = SystemTime::now() - atomic::STALE_AFTER - Duration::from_secs(1);
    for p in others(dir.path(), &target) {
        if p != young {
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(old).unwrap();
        }
    }
    // A later write still works and replaces the target.
    store::save_json(&target, &doc(last + 1)).unwrap();
    assert_eq!(
        others(dir.path(), &target),
        [young],
        "stale temp files removed, a young one (another write under way) kept"
    );
    match store::load_json::<Doc>(&target) {
        Loaded::Ok(d) => assert_eq!(d, doc(last + 1)),
        other => panic!("{other:?}"),
    }
}

/// Imports copies of every sample format (and a Claude Code folder), with and without an
/// import cache: no input file changes (bytes and mtime), and no file appears next to them.
#[test]
fn importing_never_writes_input_files() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    copy_tree(&samples, &inputs);
    let files = walk(&inputs);
    assert!(files.len() >= 8, "{files:?}");
    let snapshot = |files: &[PathBuf]| -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
        files
            .iter()
            .map(|f| {
                let m = std::fs::metadata(f).unwrap();
                (f.clone(), std::fs::read(f).unwrap(), m.modified().unwrap())
            })
            .collect()
    };
    let before = snapshot(&files);
    let cache_dir = dir.path().join("cache");
    for cache in [
        Cache::disabled(),
        Cache::at(&cache_dir),
        Cache::at(&cache_dir),
    ] {
        let l = load::load_with_cache(
            std::slice::from_ref(&inputs),
            &Options::default(),
            &Control::default(),
            &cache,
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert!(!l.data.records.is_empty());
        assert!(!l.data.billed.is_empty());
    }
    // The CLI too (no user cache).
    let out = Command::new(env!("CARGO_BIN_EXE_costlens"))
        .env("COSTLENS_NO_HISTORY", "1")
        .arg("report")
        .arg(&inputs)
        .arg("--json")
        .env("COSTLENS_NO_CACHE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        walk(&inputs),
        files,
        "files appeared or vanished among the inputs"
    );
    assert_eq!(snapshot(&files), before, "an input file was written");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}
