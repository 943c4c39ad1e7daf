//! The core engine's speed on a 1,000,000-row Console usage export (`BENCHMARKS.md`):
//!
//! - `import_and_price`: bytes -> parsed rows -> dataset -> cube -> the dashboard's view ->
//!   priced (target: under 1 s in release).
//! - `scenario_reprice`: the dashboard's view re-priced under non-neutral levers, what a slider
//!   move costs (target: under 5 ms).
//!
//! `cargo bench --bench engine` (about a minute). After criterion's figures, a plain summary
//! is printed: MB/s and rows/s, wall and CPU time of each phase (best of 5), the same work
//! from a file through `load::load`, and the largest view the data allows (hour x key).

use costlens::domain::dataset::Dataset;
use costlens::domain::prices::PriceTable;
use costlens::domain::time::Period;
use costlens::engine::cube;
use costlens::engine::scenario::{Levers, Ttl};
use costlens::engine::view::{Dimension, ViewSpec};
use costlens::import::{self, Control, Options};
use costlens::pipeline::load::{self, Analysis};
use costlens::store::cache::Cache;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROWS: usize = 1_000_000;

fn usage_file() -> Vec<u8> {
    costlens_testkit::usage_csv(&costlens_testkit::bulk_rows(ROWS, 7)).into_bytes()
}

fn dashboard_spec() -> ViewSpec {
    ViewSpec {
        period: Period::Day,
        dimension: Dimension::Model,
        filter: Default::default(),
    }
}

fn scenario_levers() -> Levers {
    Levers {
        traffic: 1.2,
        prompt_length: 1.1,
        output_length: 0.9,
        cache_share: Some(0.8),
        cache_hit: Some(0.9),
        cache_ttl: Some(Ttl::OneHour),
        route_share: 0.3,
        batch_share: 0.5,
        fast_to_standard: 0.5,
        us_to_global: 0.5,
        ..Levers::default()
    }
}

/// The same on request-level data: a generated Claude Code tree (TTL replay, minimum
/// prefixes and tokenizer factors banded in the cube). The TTL lever alone (the replay) and
/// every lever.
fn claude_code_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut spec = costlens_testkit::ClaudeTreeSpec::new(150 << 20, 2026);
    spec.cache_expiry = true;
    let stats = costlens_testkit::claude_code_tree(dir.path(), &spec).expect("tree");
    let loaded = load::load_with_cache(
        &[dir.path().to_path_buf()],
        &Options::default(),
        &Control::default(),
        &Cache::disabled(),
    );
    let (analysis, [cube, _]) = phase(|| {
        Analysis::new(
            loaded.data,
            PriceTable::bundled(),
            &cube::prompt_length_grid(),
        )
    });
    let view = analysis.view(&dashboard_spec());
    let ttl = Levers {
        cache_ttl: Some(Ttl::OneHour),
        ..Levers::default()
    };
    let best = |l: &Levers| {
        let r = l.resolve(&analysis.table).expect("levers");
        (0..20)
            .map(|_| time(|| black_box(view.evaluate(&analysis.table, &r).scenario)).1)
            .min()
            .expect("ran")
    };
    println!(
        "  Claude Code tree ({:.0} MB, {} requests): cube (with the TTL replay) {:.0} ms, {} cells; \
         dashboard view {} groups ({} at prompt length x1): re-price {:.3} ms (TTL 1h), \
         {:.3} ms (every lever)",
        stats.bytes as f64 / 1e6,
        stats.responses,
        ms(cube),
        analysis.cube.groups(),
        view.groups(),
        view.coarse_groups(),
        ms(best(&ttl)),
        ms(best(&scenario_levers()))
    );
}

/// Import + pricing, as the app does it on open. Returns the analysis so phases can be timed.
fn import_and_price(bytes: &[u8], spec: &ViewSpec) -> (Analysis, f64) {
    let parsed = import::parse_bytes("bench.csv", bytes, &Options::default()).expect("parses");
    let data = Dataset::merge([parsed], Default::default());
    let analysis = Analysis::new(data, PriceTable::bundled(), &cube::prompt_length_grid());
    let view = analysis.view(spec);
    let neutral = Levers::default()
        .resolve(&analysis.table)
        .expect("neutral levers");
    let actual = view.evaluate(&analysis.table, &neutral).actual;
    (analysis, actual)
}

fn benches(c: &mut Criterion, bytes: &[u8]) {
    let spec = dashboard_spec();
    let mut g = c.benchmark_group("engine");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("import_and_price_1M_rows", |b| {
        b.iter(|| black_box(import_and_price(black_box(bytes), &spec).1))
    });

    let (analysis, _) = import_and_price(bytes, &spec);
    let view = analysis.view(&spec);
    let levers = scenario_levers().resolve(&analysis.table).expect("levers");
    g.throughput(Throughput::Elements(view.groups() as u64));
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("scenario_reprice_dashboard_view", |b| {
        b.iter(|| black_box(view.evaluate(&analysis.table, black_box(&levers)).scenario))
    });
    g.finish();
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// CPU time of the whole process so far (user + system, all threads), from /proc on Linux:
/// a figure that other work on the machine disturbs less than wall time.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `f`, returning its value, its wall time and the process CPU time it took.
fn phase<T>(f: impl FnOnce() -> T) -> (T, [Duration; 2]) {
    let cpu0 = cpu_time();
    let (v, wall) = time(f);
    let cpu = match (cpu0, cpu_time()) {
        (Some(a), Some(b)) => b - a,
        _ => Duration::ZERO,
    };
    (v, [wall, cpu])
}

/// The same work, phase by phase: the best of a few runs, wall and CPU time.
fn summary(bytes: &[u8]) {
    let spec = dashboard_spec();
    let table = PriceTable::bundled();
    let levers = scenario_levers().resolve(&table).expect("levers");
    const PHASES: [&str; 5] = ["parse", "dataset", "cube", "view", "scenario"];
    let mut best_total: Option<(Duration, [[Duration; 2]; 5])> = None;
    let mut groups = (0, 0);
    for _ in 0..5 {
        let (parsed, p0) =
            phase(|| import::parse_bytes("bench.csv", bytes, &Options::default()).expect("parses"));
        assert_eq!(parsed.records.len(), ROWS);
        let (data, p1) = phase(|| Dataset::merge([parsed], Default::default()));
        let (analysis, p2) =
            phase(|| Analysis::new(data, table.clone(), &cube::prompt_length_grid()));
        let (view, p3) = phase(|| analysis.view(&spec));
        let (_, p4) = phase(|| view.evaluate(&analysis.table, &levers));
        let run = [p0, p1, p2, p3, p4];
        let total: Duration = run.iter().map(|p| p[0]).sum();
        groups = (analysis.cube.groups(), view.groups());
        if best_total.is_none_or(|(t, _)| total < t) {
            best_total = Some((total, run));
        }
    }
    let (total, run) = best_total.expect("ran");
    let secs = total.as_secs_f64();
    let cpu: Duration = run.iter().map(|p| p[1]).sum();
    println!();
    println!(
        "import + pricing of {ROWS} rows ({:.1} MB): {:.0} ms = {:.0} MB/s, {:.2} M rows/s \
         (CPU {:.0} ms on {} threads)",
        bytes.len() as f64 / 1e6,
        ms(total),
        bytes.len() as f64 / 1e6 / secs,
        ROWS as f64 / 1e6 / secs,
        ms(cpu),
        rayon::current_num_threads(),
    );
    for (name, [wall, cpu]) in PHASES.iter().zip(run) {
        println!(
            "  {name:<9} {:>8.3} ms wall {:>6.0} ms CPU",
            ms(wall),
            ms(cpu)
        );
    }
    println!("  cube cells {}, view groups {}", groups.0, groups.1);

    // The same from a file, through the loader the app and the CLI use (import cache off).
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("claude_api_tokens_bench.csv");
    std::fs::write(&path, bytes).expect("temp file");
    let from_file = (0..3)
        .map(|_| {
            time(|| {
                let loaded = load::load_with_cache(
                    std::slice::from_ref(&path),
                    &Options::default(),
                    &Control::default(),
                    &Cache::disabled(),
                );
                assert_eq!(loaded.data.records.len(), ROWS);
                let analysis =
                    Analysis::new(loaded.data, table.clone(), &cube::prompt_length_grid());
                let view = analysis.view(&spec);
                view.evaluate(&analysis.table, &levers).actual
            })
            .1
        })
        .min()
        .expect("ran");
    println!(
        "  from a file (load::load): {:.0} ms = {:.0} MB/s, {:.2} M rows/s",
        ms(from_file),
        bytes.len() as f64 / 1e6 / from_file.as_secs_f64(),
        ROWS as f64 / 1e6 / from_file.as_secs_f64()
    );

    // The largest view the data allows: every hour x every API key.
    let parsed = import::parse_bytes("bench.csv", bytes, &Options::default()).expect("parses");
    let data = Dataset::merge([parsed], Default::default());
    let analysis = Analysis::new(data, table, &cube::prompt_length_grid());
    let big = ViewSpec {
        period: Period::Hour,
        dimension: Dimension::Key,
        filter: Default::default(),
    };
    let (view, [build, _]) = phase(|| analysis.view(&big));
    let best = (0..5)
        .map(|_| time(|| view.evaluate(&analysis.table, &levers)).1)
        .min()
        .expect("ran");
    println!(
        "  hour x key view: {} periods x {} keys, {} groups: built in {:.0} ms, scenario {:.1} ms",
        view.periods.len(),
        view.dims.len(),
        view.groups(),
        ms(build),
        ms(best)
    );
}

/// The hand-written CSV reader and timestamp parser against the crates they stand in for
/// (the reason they are kept, `src/import/csv.rs` and `src/import/time.rs`).
fn readers_vs_crates(bytes: &[u8]) {
    let best = |f: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| time(|| black_box(f())))
            .min_by_key(|(_, d)| *d)
            .expect("ran")
    };
    let (n, ours) = best(&|| {
        let mut c = import::csv::CsvCursor::new(bytes, 1);
        let mut fields = Vec::new();
        let mut n = 0;
        while let Some(r) = c.next_record(&mut fields) {
            n += usize::from(r.is_ok()) * fields.len();
        }
        n
    });
    let (m, theirs) = best(&|| {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut rec = csv::ByteRecord::new();
        let mut n = 0;
        while rd.read_byte_record(&mut rec).expect("reads") {
            n += rec.len();
        }
        n
    });
    assert_eq!(n, m, "both read every field");
    println!(
        "  CSV reader, {:.1} MB: hand-written {:.0} ms, csv crate {:.0} ms ({:.1}x)",
        bytes.len() as f64 / 1e6,
        ms(ours),
        ms(theirs),
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
    let stamps: Vec<String> = (0..1_000_000i64)
        .map(|i| {
            chrono::DateTime::from_timestamp(1_760_000_000 + i * 37, (i % 1000) as u32 * 1_000_000)
                .expect("in range")
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        })
        .collect();
    let (a, ours) = best(&|| {
        stamps
            .iter()
            .filter_map(|s| import::time::parse_rfc3339_fast(s.as_bytes()))
            .count()
    });
    let (b, theirs) = best(&|| {
        stamps
            .iter()
            .filter_map(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .count()
    });
    assert_eq!(a, b, "both read every timestamp");
    println!(
        "  1M RFC 3339 timestamps: hand-written {:.0} ms, chrono {:.0} ms ({:.1}x)",
        ms(ours),
        ms(theirs),
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    if std::env::args().any(|a| a == "--list") {
        // Listing the benchmarks (as `cargo test --benches -- --list` does) needs no data.
        println!("engine/import_and_price_1M_rows: benchmark");
        println!("engine/scenario_reprice_dashboard_view: benchmark");
        return;
    }
    let bytes = usage_file();
    benches(&mut c, &bytes);
    c.final_summary();
    summary(&bytes);
    claude_code_summary();
    readers_vs_crates(&bytes);
}
