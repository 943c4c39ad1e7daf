//! Measures the parsing alone, on one thread, of files already in memory: `cargo run --release
//! --example parse_speed -- DIR [MB]`. Reads the `.jsonl` files under DIR (in path order, up to
//! MB megabytes, 300 by default), then parses them all five times with `parse_bytes` and prints
//! each round and the best one's MB/s. Neither the disk, the cache, the merge nor the other
//! cores take part: set against `import_speed` and a `report`'s timings, it says how much of
//! an import is parsing.

use costlens::import::{Options, parse_bytes};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: parse_speed DIR [MB]");
        std::process::exit(2);
    };
    let limit: usize = args.next().and_then(|m| m.parse().ok()).unwrap_or(300) * 1_000_000;
    let mut files = Vec::new();
    let mut total = 0usize;
    for path in jsonl_under(Path::new(&dir)) {
        if total >= limit {
            break;
        }
        let bytes = std::fs::read(&path).expect("readable file");
        total += bytes.len();
        files.push((path.display().to_string(), bytes));
    }
    let opts = Options::default();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut records = 0;
        for (name, bytes) in &files {
            records += parse_bytes(name, bytes, &opts).map_or(0, |p| p.records.len());
        }
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        println!("{secs:.3} s  {records} records");
    }
    println!(
        "{} files, {:.1} MB: best {best:.3} s, {:.0} MB/s on one thread",
        files.len(),
        total as f64 / 1e6,
        total as f64 / 1e6 / best
    );
}

/// The `.jsonl` files under `dir`, in path order.
fn jsonl_under(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for p in entries {
        if p.is_dir() {
            out.extend(jsonl_under(&p));
        } else if p.extension().is_some_and(|x| x == "jsonl") {
            out.push(p);
        }
    }
    out
}
