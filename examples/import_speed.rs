//! Measures the import alone (no pricing, no report): `cargo run --release --example
//! import_speed -- <files or folders...>`. Prints MB/s parsing without the cache, with a cold
//! cache (entries written) and with a warm one (every file answered from the cache).

use costlens::import::{Control, Options};
use costlens::pipeline::load;
use costlens::store::cache::Cache;
use std::path::PathBuf;
use std::time::Instant;

fn run(paths: &[PathBuf], cache: &Cache) -> (f64, u64, usize) {
    let control = Control::default();
    let t = Instant::now();
    let loaded = load::load_with_cache(paths, &Options::default(), &control, cache);
    let secs = t.elapsed().as_secs_f64();
    (secs, control.progress().1, loaded.data.records.len())
}

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: import_speed <files or folders...>");
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let report = |what: &str, (secs, bytes, records): (f64, u64, usize)| {
        println!(
            "{what:<14} {secs:>7.3} s  {:>8.0} MB/s  ({:.1} MB, {records} records)",
            bytes as f64 / 1e6 / secs,
            bytes as f64 / 1e6
        );
    };
    for i in 0..3 {
        report("no cache", run(&paths, &Cache::disabled()));
        let cache = Cache::at(dir.path().join(format!("cold{i}")));
        report("cold cache", run(&paths, &cache));
        report("warm cache", run(&paths, &cache));
    }
}
