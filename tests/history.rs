//! The usage history (`store::history`): usage outlives deleted logs, two machines' histories
//! merge without counting anything twice, a killed import leaves the database consistent, a
//! corrupt database is set aside (never emptied), `history stats|forget|export`, and the
//! records export read back with the `csv` crate.
//!
//! Expected figures are computed here from the generated logs with serde_json (the rules of
//! formats.md section 7: one response per message id and request id, the main-thread copy
//! over a sidechain copy, else the larger token total), never read back from costlens.

use crate::import_logs::{u, usage_tokens};
use costlens::domain::records::{Bucket, Context, Geo, Speed, Symbols, Tier, Tokens, UsageRecord};
use costlens::import::Identity;
use costlens::store::history::{FileStamp, FileUsage, History};
use costlens_testkit::{ClaudeTreeSpec, claude_code_tree};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The costlens binary with history database `db` (a folder of its own for the cache).
fn costlens(db: &Path, args: &[&str]) -> Output {
    let cache = db.with_extension("cache");
    Command::new(env!("CARGO_BIN_EXE_costlens"))
        .args(args)
        .env_remove("COSTLENS_NO_HISTORY")
        .env_remove("COSTLENS_NO_CACHE")
        .env("COSTLENS_HISTORY_DB", db)
        .env("COSTLENS_CACHE_DIR", &cache)
        .env("COSTLENS_MACHINE", "test-machine")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("runs")
}

fn ok_json(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

/// One API response as the logs hold it: the copy that counts, and every file it is in.
#[derive(Clone, Debug)]
struct Resp {
    sidechain: bool,
    tokens: Tokens<u64>,
    time: String,
    files: BTreeSet<PathBuf>,
}

/// Every response of the `.jsonl` files under `root`, by (message id, request id).
fn responses(root: &Path) -> BTreeMap<(String, String), Resp> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "jsonl"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut out: BTreeMap<(String, String), Resp> = BTreeMap::new();
    for f in &files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).unwrap();
            let Some(usage) = v.pointer("/message/usage") else {
                continue;
            };
            if v["isApiErrorMessage"] == true || v["message"]["model"] == "<synthetic>" {
                continue;
            }
            let key = (
                v["message"]["id"]
                    .as_str()
                    .expect("every line has an id")
                    .to_owned(),
                v["requestId"].as_str().unwrap_or("").to_owned(),
            );
            let side = v["isSidechain"] == true;
            let t = usage_tokens(usage);
            let time = v["timestamp"].as_str().unwrap().to_owned();
            match out.get_mut(&key) {
                None => {
                    out.insert(
                        key,
                        Resp {
                            sidechain: side,
                            tokens: t,
                            time,
                            files: [f.clone()].into(),
                        },
                    );
                }
                Some(r) => {
                    r.files.insert(f.clone());
                    let better = if r.sidechain != side {
                        !side
                    } else {
                        t.total() > r.tokens.total()
                            || (t.total() == r.tokens.total() && t.as_array() > r.tokens.as_array())
                    };
                    if better {
                        r.sidechain = side;
                        r.tokens = t;
                        r.time = time;
                    }
                }
            }
        }
    }
    out
}

fn total<'a>(rs: impl Iterator<Item = &'a Resp>) -> Tokens<u64> {
    rs.fold(Tokens::default(), |a, r| a.saturating_add(&r.tokens))
}

/// The report's token totals.
fn tokens_of(report: &Value) -> Tokens<u64> {
    let t = &report["tokens"];
    Tokens {
        uncached_input: u(t, "uncached_input"),
        cache_write_5m: u(t, "cache_write_5m"),
        cache_write_1h: u(t, "cache_write_1h"),
        cache_read: u(t, "cache_read"),
        output: u(t, "output"),
    }
}

/// A small generated Claude Code tree (many small sessions, subagent logs) under `dir`.
fn tree(dir: &Path, seed: u64) -> PathBuf {
    claude_code_tree(dir, &ClaudeTreeSpec::many_small(1_500_000, seed)).unwrap();
    dir.join("projects")
}

/// The files under `root`, sorted.
pub(crate) fn session_files(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

#[test]
fn history_survives_deleting_half_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(&dir.path().join("claude"), 7);
    let db = dir.path().join("history.sqlite");
    let before = responses(&root);
    let root_s = root.to_str().unwrap();
    let first = ok_json(&costlens(&db, &["report", root_s, "--json"]));
    assert_eq!(tokens_of(&first), total(before.values()));
    assert_eq!(first["requests"].as_u64(), Some(before.len() as u64));
    assert_eq!(first["history"]["requests_from_deleted_logs"], 0);
    // Responses replayed in another file are recorded from each (one row kept).
    assert!(first["history"]["recorded"].as_u64().unwrap() >= before.len() as u64);
    // Half the logs go (every other file, subagent logs included).
    let files = session_files(&root);
    assert!(files.len() >= 20, "{} files", files.len());
    let mut deleted = BTreeSet::new();
    for f in files.iter().step_by(2) {
        std::fs::remove_file(f).unwrap();
        deleted.insert(f.clone());
    }
    // Requests whose every copy was in a deleted file: only the history has them.
    let only_history = before
        .values()
        .filter(|r| r.files.iter().all(|f| deleted.contains(f)))
        .count() as u64;
    assert!(only_history > 100, "{only_history}");
    let left = responses(&root);
    assert!(total(left.values()).total() < total(before.values()).total());
    for run in 0..2 {
        // The second run is answered by the import snapshot: the same answer.
        let again = ok_json(&costlens(&db, &["report", root_s, "--json"]));
        assert_eq!(tokens_of(&again), total(before.values()), "run {run}");
        assert_eq!(again["requests"], first["requests"], "run {run}");
        assert_eq!(again["actual_usd"], first["actual_usd"], "run {run}");
        assert_eq!(
            again["history"]["requests_from_deleted_logs"], only_history,
            "run {run}"
        );
    }
    // The text report says it.
    let text = costlens(&db, &["report", root_s]);
    let text = String::from_utf8_lossy(&text.stdout);
    let n = costlens::domain::money::count(only_history);
    assert!(
        text.contains(&format!("including {n} requests from deleted logs")),
        "{text}"
    );
    // Without the history only what is left counts.
    let without = ok_json(&costlens(
        &db,
        &["report", root_s, "--json", "--no-history"],
    ));
    assert_eq!(tokens_of(&without), total(left.values()));
    assert!(without.get("history").is_none());
}

#[test]
fn two_machines_histories_merge_with_no_double_counting() {
    let dir = tempfile::tempdir().unwrap();
    let a_root = tree(&dir.path().join("alice"), 11);
    let b_root = tree(&dir.path().join("bob"), 12);
    // Bob's machine also holds copies of a third of Alice's sessions (synced folders, a
    // resumed session): the same requests, to be counted once.
    let shared: Vec<PathBuf> = session_files(&a_root).into_iter().step_by(3).collect();
    for f in &shared {
        let to = b_root.join(f.strip_prefix(&a_root).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(f, &to).unwrap();
    }
    let alice = responses(&a_root);
    let bob = responses(&b_root);
    let both_keys: BTreeSet<_> = alice.keys().chain(bob.keys()).cloned().collect();
    let common = bob.keys().filter(|k| alice.contains_key(*k)).count();
    assert!(common > 10, "{common}");
    let alice_db = dir.path().join("alice.sqlite");
    let bob_db = dir.path().join("bob.sqlite");
    ok_json(&costlens(
        &alice_db,
        &["report", a_root.to_str().unwrap(), "--json"],
    ));
    ok_json(&costlens(
        &bob_db,
        &["report", b_root.to_str().unwrap(), "--json"],
    ));
    // Bob's logs are deleted: his history still holds them.
    std::fs::remove_dir_all(&b_root).unwrap();
    let other = dir.path().join("none.sqlite");
    let (a, b) = (alice_db.to_str().unwrap(), bob_db.to_str().unwrap());
    let merged = ok_json(&costlens(
        &other,
        &["report", a, b, "--json", "--by", "machine"],
    ));
    // Every request once: Alice's, and Bob's that Alice does not have.
    let mut expected = total(alice.values());
    for (k, r) in &bob {
        if !alice.contains_key(k) {
            expected = expected.saturating_add(&r.tokens);
        }
    }
    assert_eq!(tokens_of(&merged), expected);
    assert_eq!(merged["requests"].as_u64(), Some(both_keys.len() as u64));
    // The machine breakdown splits them: shared requests count for the history read first.
    let by: BTreeMap<String, u64> = merged["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let t = &b["tokens"];
            let sum = [
                "uncached_input",
                "cache_write_5m",
                "cache_write_1h",
                "cache_read",
                "output",
            ]
            .iter()
            .map(|k| u(t, k))
            .sum();
            (b["key"].as_str().unwrap().to_owned(), sum)
        })
        .collect();
    let bob_only: u64 = bob
        .iter()
        .filter(|(k, _)| !alice.contains_key(*k))
        .map(|(_, r)| r.tokens.total())
        .sum();
    assert_eq!(
        by,
        BTreeMap::from([
            ("alice".to_owned(), total(alice.values()).total()),
            ("bob".to_owned(), bob_only),
        ])
    );
    // The filter keeps one machine.
    let only_bob = ok_json(&costlens(
        &other,
        &["report", a, b, "--json", "--machine", "bob"],
    ));
    assert_eq!(tokens_of(&only_bob).total(), bob_only);
    // The same history given twice (or a copy of it) counts once.
    let copy = dir.path().join("alice-copy.sqlite");
    std::fs::copy(&alice_db, &copy).unwrap();
    let twice = ok_json(&costlens(
        &other,
        &["report", a, copy.to_str().unwrap(), "--json"],
    ));
    assert_eq!(tokens_of(&twice), total(alice.values()));
    // And a history merged with the live logs it was made from counts them once.
    let with_logs = ok_json(&costlens(
        &other,
        &[
            "report",
            a,
            a_root.to_str().unwrap(),
            "--json",
            "--no-history",
        ],
    ));
    assert_eq!(tokens_of(&with_logs), total(alice.values()));
}

const WRITER_ENV: &str = "COSTLENS_TEST_HISTORY_WRITER";
/// Files per import of the writer child, and records per file.
const FILES_PER_IMPORT: u64 = 8;
const RECORDS_PER_FILE: u64 = 4_000;

/// The writer child: with `COSTLENS_TEST_HISTORY_WRITER=<db>`, records "imports" into the
/// history until killed, each one transaction of FILES_PER_IMPORT files of RECORDS_PER_FILE
/// records (import v's files are `/v<v>/f<k>.jsonl`). Without the variable it does nothing.
#[test]
fn writer_child() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let mut h = History::open(Path::new(&path)).expect("opens");
    let start = h.stats().map(|s| s.files / FILES_PER_IMPORT).unwrap_or(0) + 1;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut symbols = Symbols::default();
    let model = symbols.intern("claude-sonnet-4-5-20250929");
    let mut v = start;
    while std::time::Instant::now() < deadline {
        let records: Vec<Vec<(UsageRecord, Identity)>> = (0..FILES_PER_IMPORT)
            .map(|k| {
                (0..RECORDS_PER_FILE)
                    .map(|i| {
                        let r = UsageRecord {
                            time: 1_790_000_000 + i as i64,
                            bucket: Bucket::Request,
                            model,
                            tier: Tier::Standard,
                            context: Context::Request,
                            geo: Geo::NotAvailable,
                            speed: Speed::Standard,
                            tokens: Tokens {
                                output: v,
                                ..Tokens::default()
                            },
                            ..UsageRecord::REQUEST
                        };
                        let id = costlens::import::stable_hash(&[
                            &v.to_le_bytes(),
                            &k.to_le_bytes(),
                            &i.to_le_bytes(),
                        ]);
                        (
                            r,
                            Identity::Message {
                                id,
                                sidechain: false,
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        let paths: Vec<String> = (0..FILES_PER_IMPORT)
            .map(|k| format!("/v{v}/f{k}.jsonl"))
            .collect();
        let usage: Vec<FileUsage> = (0..FILES_PER_IMPORT as usize)
            .map(|k| FileUsage {
                path: &paths[k],
                format: costlens::domain::format::Format::ClaudeCodeJsonl,
                stamp: FileStamp {
                    size: v,
                    mtime_ns: 0,
                    ctime_ns: 0,
                    ino: 0,
                },
                symbols: &symbols,
                records: &records[k],
            })
            .collect();
        h.record(&usage).expect("records");
        v += 1;
    }
}

#[test]
fn a_killed_import_leaves_the_history_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite");
    let mut rng = fastrand::Rng::with_seed(9);
    let mut last_imports = 0;
    let mut advanced = 0;
    for round in 0..8 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "history::writer_child",
                "--test-threads=1",
                "--quiet",
            ])
            .env(WRITER_ENV, &db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(150..900)));
        child.kill().unwrap();
        child.wait().unwrap();
        // Reopened: not corrupt, and every import is whole or absent.
        let h = History::open(&db).unwrap();
        assert!(h.notes.is_empty(), "round {round}: {:?}", h.notes);
        let s = h.stats().unwrap();
        assert_eq!(s.integrity, "ok", "round {round}");
        assert_eq!(
            s.files % FILES_PER_IMPORT,
            0,
            "round {round}: half an import"
        );
        let imports = s.files / FILES_PER_IMPORT;
        assert_eq!(s.requests, s.files * RECORDS_PER_FILE, "round {round}");
        assert_eq!(s.revision, imports, "round {round}");
        // Each import's records carry its number as output tokens: 1 + 2 + ... + imports.
        assert_eq!(
            s.tokens.output,
            RECORDS_PER_FILE * FILES_PER_IMPORT * imports * (imports + 1) / 2,
            "round {round}"
        );
        assert!(imports >= last_imports, "round {round}: went back");
        advanced += u64::from(imports > last_imports);
        last_imports = imports;
    }
    assert!(advanced > 0, "the writer never committed an import");
}

#[test]
fn a_corrupt_history_is_set_aside_with_a_message_never_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(&dir.path().join("claude"), 3);
    let root_s = root.to_str().unwrap();
    let expected = total(responses(&root).values());
    let db = dir.path().join("history.sqlite");
    // Not a database at all.
    let garbage = b"this was a history database once, then something wrote over it".repeat(100);
    std::fs::write(&db, &garbage).unwrap();
    let o = costlens(&db, &["report", root_s, "--json"]);
    let report = ok_json(&o);
    assert_eq!(tokens_of(&report), expected);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is corrupt") && err.contains("set aside as"),
        "{err}"
    );
    let aside: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("history.sqlite.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), garbage, "kept as it was");
    // A new history was started and holds this import.
    let stats: Value =
        serde_json::from_slice(&costlens(&db, &["history", "stats", "--json"]).stdout).unwrap();
    assert_eq!(stats["integrity"], "ok");
    assert_eq!(stats["requests"], report["requests"]);

    // A database whose pages were overwritten in the middle (a disk error): found when read,
    // set aside, and the report goes on with the logs.
    let h = History::open(&db).unwrap();
    drop(h);
    // Fold the WAL into the database file first, so that the pages overwritten are used.
    {
        let c = rusqlite_checkpoint(&db);
        assert!(c, "checkpoint");
    }
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 4 * 4096, "{}", bytes.len());
    let end = bytes.len() - 1;
    for b in &mut bytes[4096..end] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    // Logs deleted, so that the history must be read.
    for f in session_files(&root).iter().step_by(2) {
        std::fs::remove_file(f).unwrap();
    }
    let o = costlens(&db, &["report", root_s, "--json", "--period", "month"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("corrupt") && err.contains("set aside"),
        "{err}"
    );
    let aside: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.contains("history.sqlite.corrupt-") && !n.ends_with("-wal") && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(aside.len(), 2, "{aside:?}");
    assert!(
        aside.iter().any(|p| std::fs::read(p).unwrap() == bytes),
        "the damaged database is kept byte for byte"
    );
}

/// Checkpoints the WAL of `db` into the database file (with the sqlite3 library costlens
/// links, through a history opened and closed: closing the last connection checkpoints).
fn rusqlite_checkpoint(db: &Path) -> bool {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    drop(History::open(db).unwrap());
    !wal.exists()
        || std::fs::metadata(&wal)
            .map(|m| m.len() == 0)
            .unwrap_or(true)
}

#[test]
fn history_stats_forget_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(&dir.path().join("claude"), 5);
    let db = dir.path().join("history.sqlite");
    let all = responses(&root);
    ok_json(&costlens(
        &db,
        &["report", root.to_str().unwrap(), "--json"],
    ));
    let stats = |db: &Path| -> Value {
        serde_json::from_slice(&costlens(db, &["history", "stats", "--json"]).stdout).unwrap()
    };
    let s = stats(&db);
    assert_eq!(s["requests"], all.len() as u64);
    assert_eq!(s["files"], session_files(&root).len() as u64);
    assert_eq!(s["files_gone"], 0);
    assert_eq!(s["machine"], "test-machine");
    let t = total(all.values());
    assert_eq!(s["tokens"]["output"], t.output);
    assert_eq!(s["tokens"]["cache_read"], t.cache_read);
    // Forget what came before a day in the middle of the data.
    let mut days: Vec<&str> = all.values().map(|r| &r.time[..10]).collect();
    days.sort();
    let cut = days[days.len() / 2];
    let kept: Vec<&Resp> = all.values().filter(|r| &r.time[..10] >= cut).collect();
    let o = costlens(&db, &["history", "forget", "--before", cut]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let forgotten = (all.len() - kept.len()) as u64;
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "forgot {} requests",
            costlens::domain::money::count(forgotten)
        )),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let s = stats(&db);
    assert_eq!(s["requests"], kept.len() as u64);
    assert_eq!(s["tokens"]["output"], total(kept.iter().copied()).output);
    assert!(s["first"].as_str().unwrap() >= cut);
    // Export, read back with the csv crate.
    let out = dir.path().join("history.csv");
    let o = costlens(&db, &["history", "export", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_path(&out).unwrap();
    let headers = r.headers().unwrap().clone();
    for col in [
        "id",
        "file",
        "time",
        "model",
        "project",
        "session",
        "machine",
        "tier",
        "uncached_input",
        "cache_write_5m",
        "cache_write_1h",
        "cache_read",
        "output",
    ] {
        assert!(headers.iter().any(|h| h == col), "{col} in {headers:?}");
    }
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (out_i, time_i, proj_i) = (col("output"), col("time"), col("project"));
    let mut n = 0;
    let mut output = 0u64;
    for rec in r.records() {
        let rec = rec.unwrap();
        n += 1;
        output += rec[out_i].parse::<u64>().unwrap();
        assert!(&rec[time_i][..10] >= cut);
        assert!(rec[proj_i].starts_with("~/"), "{}", &rec[proj_i]);
    }
    assert_eq!(n, kept.len());
    assert_eq!(output, total(kept.iter().copied()).output);
    // No history yet: said, not created.
    let none = dir.path().join("none.sqlite");
    let o = costlens(&none, &["history", "stats"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!none.exists());
}

#[test]
fn records_csv_reads_back_with_the_csv_crate() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(&dir.path().join("claude"), 21);
    let db = dir.path().join("history.sqlite");
    let all = responses(&root);
    let out = dir.path().join("records.csv");
    let root_s = root.to_str().unwrap();
    let o = costlens(
        &db,
        &[
            "export",
            root_s,
            "--records",
            out.to_str().unwrap(),
            "--no-history",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = ok_json(&costlens(
        &db,
        &["report", root_s, "--json", "--no-history"],
    ));
    let mut r = csv::Reader::from_path(&out).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {headers:?}"))
    };
    let (ti, mi, pi, si, mai) = (
        col("time"),
        col("model"),
        col("project"),
        col("session"),
        col("machine"),
    );
    let tok = [
        col("uncached_input_tokens"),
        col("cache_write_5m_tokens"),
        col("cache_write_1h_tokens"),
        col("cache_read_tokens"),
        col("output_tokens"),
    ];
    let (ci, pri, reqi) = (col("cost_usd"), col("priced"), col("requests"));
    for c in [
        "tier",
        "geo",
        "speed",
        "workspace",
        "api_key",
        "source",
        "priced_as",
    ] {
        col(c);
    }
    let mut n = 0u64;
    let mut tokens = [0u64; 5];
    let mut cost = 0.0;
    let mut by_time: BTreeMap<String, u64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        n += rec[reqi].parse::<u64>().unwrap();
        for (k, &i) in tok.iter().enumerate() {
            tokens[k] += rec[i].parse::<u64>().unwrap();
        }
        assert_eq!(&rec[pri], "true");
        cost += rec[ci].parse::<f64>().unwrap();
        assert!(rec[mi].starts_with("claude-"));
        assert!(
            rec[pi].starts_with("~/src/") || rec[pi].starts_with("~/notes"),
            "{}",
            &rec[pi]
        );
        assert_eq!(rec[si].len(), 36, "a session id");
        assert_eq!(&rec[mai], "(this machine)");
        *by_time.entry(rec[ti][..10].to_owned()).or_default() += 1;
    }
    assert_eq!(n, all.len() as u64);
    assert_eq!(Tokens::from_array(tokens), total(all.values()));
    let mut days: BTreeMap<String, u64> = BTreeMap::new();
    for r in all.values() {
        *days.entry(r.time[..10].to_owned()).or_default() += 1;
    }
    assert_eq!(by_time, days);
    let actual = report["actual_usd"].as_f64().unwrap();
    assert!(
        (cost - actual).abs() < 1e-6 * actual.max(1.0),
        "{cost} vs {actual}"
    );
}
