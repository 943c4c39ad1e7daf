//! A few changed files merged again alone into the last import's snapshot (`pipeline::splice`,
//! the live session's path): the result must be, field by field, what merging every file
//! again gives, whatever changed. Generated Claude Code trees (subagent logs, sidechain
//! responses replayed in the main log, several lines per response) are changed step after step
//! (lines appended, a response's later snapshot, a response copied from another file, a new
//! model, a broken line, a file cut short, added, deleted or only touched), and each import,
//! made from the snapshot the step before left, is compared with a whole import of the same
//! files made without any cache, over a copy of the usage history as it was.
//!
//! Whether a step may be spliced is decided here from the files themselves (which message ids
//! each file holds), not by costlens: a step that can be spliced must be (else the path would
//! be dead code), one that cannot must not be.

use costlens::domain::dataset::Dataset;
use costlens::import::{Control, Options};
use costlens::pipeline::load::{HistoryChoice, Loaded, load_with_history};
use costlens::store::cache::Cache;
use costlens_testkit::{ClaudeTreeSpec, claude_code_tree};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn import(root: &Path, cache: &Cache, db: &Path) -> Loaded {
    let choice = HistoryChoice {
        path: db.to_path_buf(),
        all_files: false,
    };
    load_with_history(
        &[root.to_path_buf()],
        &Options::default(),
        &Control::new(),
        cache,
        Some(&choice),
    )
}

/// Every field of the two datasets but the history database's path (the reference import
/// uses a copy), and but the requests recorded when `recorded` is false (an import answered
/// whole from a snapshot records nothing).
fn assert_same(got: &Dataset, want: &Dataset, what: &str, recorded: bool) {
    assert_eq!(got.symbols.names(), want.symbols.names(), "{what}: names");
    assert_eq!(
        got.records.len(),
        want.records.len(),
        "{what}: record count"
    );
    assert_eq!(
        got.records.to_vec(),
        want.records.to_vec(),
        "{what}: records"
    );
    assert_eq!(got.reported, want.reported, "{what}: reported costs");
    // The history part is named after its database: the reference reads a copy.
    let files = |d: &Dataset| {
        let mut files = d.files.clone();
        for f in &mut files {
            if f.path.ends_with(" (usage history)") {
                f.path = "history (usage history)".to_owned();
            }
        }
        files
    };
    assert_eq!(files(got), files(want), "{what}: file summaries");
    assert_eq!(got.rejected, want.rejected, "{what}: rejected lines");
    assert_eq!(got.rejected_total, want.rejected_total, "{what}");
    assert_eq!(got.rejected_kinds, want.rejected_kinds, "{what}");
    assert_eq!(got.billed, want.billed, "{what}: billed");
    assert_eq!(got.sources, want.sources, "{what}: sources");
    assert_eq!(got.overlaps, want.overlaps, "{what}: overlaps");
    assert_eq!(got.double_counts, want.double_counts, "{what}");
    assert_eq!(got.notes, want.notes, "{what}: notes");
    assert_eq!(got.unrecognised, want.unrecognised, "{what}");
    let h = |d: &Dataset| {
        d.history.as_ref().map(|h| {
            (
                h.requests_from_deleted_logs,
                if recorded { h.recorded } else { 0 },
            )
        })
    };
    assert_eq!(h(got), h(want), "{what}: history (deleted logs, recorded)");
}

/// The assistant lines with usage of a file, parsed.
fn usage_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"]["usage"].is_object() && v["message"]["id"].is_string())
        .collect()
}

/// Per file, the message ids it holds.
fn ids(root: &Path) -> BTreeMap<PathBuf, BTreeSet<String>> {
    super::history::session_files(root)
        .into_iter()
        .map(|f| {
            let ids = usage_lines(&f)
                .iter()
                .map(|v| v["message"]["id"].as_str().unwrap().to_owned())
                .collect();
            (f, ids)
        })
        .collect()
}

/// Whether `f` holds a message id another file holds too.
fn shares(all: &BTreeMap<PathBuf, BTreeSet<String>>, f: &Path) -> bool {
    let mine = &all[f];
    all.iter()
        .any(|(g, theirs)| g != f && !mine.is_disjoint(theirs))
}

/// Whether `f` has a line that is not JSON.
fn broken(f: &Path) -> bool {
    std::fs::read_to_string(f)
        .unwrap()
        .lines()
        .any(|l| serde_json::from_str::<Value>(l).is_err())
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A copy of `line` as a new response (ids of its own, `n` more output tokens).
fn new_response(line: &Value, tag: &str, n: u64) -> String {
    let mut v = line.clone();
    v["message"]["id"] = Value::from(format!("msg_spliced_{tag}"));
    v["requestId"] = Value::from(format!("req_spliced_{tag}"));
    v["uuid"] = Value::from(format!("uuid-spliced-{tag}"));
    let out = v["message"]["usage"]["output_tokens"].as_u64().unwrap_or(0);
    v["message"]["usage"]["output_tokens"] = Value::from(out + n);
    serde_json::to_string(&v).unwrap() + "\n"
}

fn copy_history(db: &Path, to: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{ext}", db.display()));
        let dest = PathBuf::from(format!("{}{ext}", to.display()));
        let _ = std::fs::remove_file(&dest);
        if from.exists() {
            std::fs::copy(&from, &dest).unwrap();
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Change {
    /// A new response appended to one file, or to two.
    NewResponse,
    TwoFiles,
    /// The file's last response again, with more output tokens (a later streaming snapshot).
    LaterSnapshot,
    /// A response of another file appended (a resumed session's copy).
    CopiedFromAnother,
    /// A new response of a model no file names yet.
    NewModel,
    /// A line that is not JSON.
    Broken,
    /// The file cut to its first half of lines.
    CutShort,
    /// The same bytes, a new modification time.
    Touched,
    /// A new session file; a session file deleted (its usage then comes from the history).
    Added,
    Deleted,
}

const CHANGES: [Change; 10] = [
    Change::NewResponse,
    Change::TwoFiles,
    Change::LaterSnapshot,
    Change::CopiedFromAnother,
    Change::NewModel,
    Change::Broken,
    Change::CutShort,
    Change::Touched,
    Change::Added,
    Change::Deleted,
];

/// Applies `change` to the tree under `root` and says how many files a splice must merge
/// again (`Some(0)`: it must not splice; `None`: either is right, as long as the result is).
fn apply(root: &Path, change: Change, rng: &mut fastrand::Rng, step: usize) -> Option<usize> {
    let all = ids(root);
    let files: Vec<PathBuf> = all
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(f, _)| f.clone())
        .collect();
    // Files a splice can take: no response shared with another file, no rejected line.
    let alone: Vec<PathBuf> = files
        .iter()
        .filter(|f| !shares(&all, f) && !broken(f))
        .cloned()
        .collect();
    let any = |rng: &mut fastrand::Rng, v: &[PathBuf]| v[rng.usize(..v.len())].clone();
    let tag = |k: usize| format!("{step}_{k}");
    match change {
        Change::NewResponse | Change::TwoFiles | Change::LaterSnapshot => {
            let n = if matches!(change, Change::TwoFiles) {
                2
            } else {
                1
            };
            if alone.len() < n {
                return None;
            }
            let mut picked = Vec::new();
            while picked.len() < n {
                let f = any(rng, &alone);
                if !picked.contains(&f) {
                    picked.push(f);
                }
            }
            for (k, f) in picked.iter().enumerate() {
                let last = usage_lines(f).pop().unwrap();
                let line = if matches!(change, Change::LaterSnapshot) {
                    let mut v = last.clone();
                    let out = v["message"]["usage"]["output_tokens"].as_u64().unwrap();
                    v["message"]["usage"]["output_tokens"] = Value::from(out + 250);
                    serde_json::to_string(&v).unwrap() + "\n"
                } else {
                    new_response(&last, &tag(k), 40 + k as u64)
                };
                append(f, &line);
            }
            Some(n)
        }
        Change::CopiedFromAnother => {
            let f = any(rng, &files);
            let other = files.iter().find(|g| **g != f && !all[*g].is_empty())?;
            let line = usage_lines(other).swap_remove(0);
            append(&f, &(serde_json::to_string(&line).unwrap() + "\n"));
            Some(0)
        }
        Change::NewModel => {
            let f = any(rng, &files);
            let mut v: Value =
                serde_json::from_str(&new_response(&usage_lines(&f).pop().unwrap(), &tag(0), 9))
                    .unwrap();
            v["message"]["model"] = Value::from(format!("claude-model-of-step-{step}"));
            append(&f, &(serde_json::to_string(&v).unwrap() + "\n"));
            Some(0)
        }
        Change::Broken => {
            append(&any(rng, &files), "{\"type\":\"assistant\",\"message\":{\n");
            Some(0)
        }
        Change::CutShort => {
            let f = any(rng, &files);
            let text = std::fs::read_to_string(&f).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let keep = lines[..lines.len().div_ceil(2)].join("\n") + "\n";
            std::fs::write(&f, keep).unwrap();
            None
        }
        Change::Touched => {
            if alone.is_empty() {
                return None;
            }
            let f = any(rng, &alone);
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(step as u64);
            std::fs::File::options()
                .write(true)
                .open(&f)
                .unwrap()
                .set_modified(later)
                .unwrap();
            Some(1)
        }
        Change::Added => {
            let f = any(rng, &files);
            let added = f.with_file_name(format!("added-{step}.jsonl"));
            let last = usage_lines(&f).pop().unwrap();
            std::fs::write(&added, new_response(&last, &tag(0), 3)).unwrap();
            Some(0)
        }
        Change::Deleted => {
            std::fs::remove_file(any(rng, &files)).unwrap();
            Some(0)
        }
    }
}

/// Step after step of changes to generated trees: every import made from the last one's
/// snapshot equals a whole import made without a cache; the changes a splice can take are
/// spliced, the others are not.
#[test]
fn a_spliced_import_is_the_whole_merge_whatever_changed() {
    let mut spliced_files = 0;
    let mut steps = 0;
    for seed in 1..=4u64 {
        let dir = tempfile::tempdir().unwrap();
        claude_code_tree(
            &dir.path().join("claude"),
            &ClaudeTreeSpec::many_small(1_300_000, seed),
        )
        .unwrap();
        let root = dir.path().join("claude/projects");
        let cache = Cache::at(dir.path().join("cache"));
        let db = dir.path().join("history.sqlite");
        let first = import(&root, &cache, &db);
        assert!(first.errors.is_empty() && first.spliced == 0);
        let mut rng = fastrand::Rng::with_seed(seed);
        for step in 0..12 {
            let change = if step < CHANGES.len() {
                CHANGES[(step + seed as usize) % CHANGES.len()]
            } else {
                CHANGES[rng.usize(..CHANGES.len())]
            };
            let what = format!("seed {seed}, step {step}: {change:?}");
            let expect = apply(&root, change, &mut rng, step);
            let reference_db = dir.path().join(format!("reference-{step}.sqlite"));
            copy_history(&db, &reference_db);
            let got = import(&root, &cache, &db);
            let want = import(&root, &Cache::disabled(), &reference_db);
            assert!(got.errors.is_empty(), "{what}: {:?}", got.errors);
            assert_same(&got.data, &want.data, &what, true);
            if let Some(n) = expect {
                assert_eq!(got.spliced, n, "{what}: files merged again alone");
            }
            spliced_files += got.spliced;
            steps += 1;
            // The snapshot it left answers the same files whole, and as the whole merge.
            if step % 4 == 3 {
                let again = import(&root, &cache, &db);
                assert!(again.from_snapshot, "{what}: answered from the snapshot");
                assert_same(&again.data, &want.data, &format!("{what}, again"), false);
            }
        }
    }
    assert_eq!(steps, 48);
    assert!(spliced_files >= 12, "{spliced_files} files spliced");
}
