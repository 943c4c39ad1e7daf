//! Times what the app does when a lever moves, on any files: `cargo run --release --example
//! lever_speed -- <files or folders...>`. Loads them (no cache), makes the pipeline as the app
//! does (the cube banded on the 67 prompt-length slider steps), then sets one lever at a time
//! and times `set_levers` + `refresh`: a slider step re-prices the view's groups, and a token
//! factor the cube was not banded on rebuilds the cube first.

use costlens::domain::prices::PriceTable;
use costlens::engine::scenario::Levers;
use costlens::import::{Control, Options};
use costlens::pipeline::{Pipeline, load};
use costlens::store::cache::Cache;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: lever_speed <files or folders...>");
        std::process::exit(2);
    }
    let control = Control::default();
    let t = Instant::now();
    let loaded = load::load_with_cache(&paths, &Options::default(), &control, &Cache::disabled());
    println!(
        "import: {:.3} s, {} records",
        t.elapsed().as_secs_f64(),
        loaded.data.records.len()
    );
    let t = Instant::now();
    let mut p = Pipeline::new(loaded.data, PriceTable::bundled());
    p.refresh();
    println!(
        "pipeline (cube, view, forecast): {:.3} s, {} cells, {} priced groups",
        t.elapsed().as_secs_f64(),
        p.analysis().cube.groups(),
        p.view().groups()
    );
    let moves = [
        (
            "traffic x2",
            Levers {
                traffic: 2.0,
                ..Levers::default()
            },
        ),
        (
            "prompt length x1.5",
            Levers {
                prompt_length: 1.5,
                ..Levers::default()
            },
        ),
        (
            "prompt length x1.6",
            Levers {
                prompt_length: 1.6,
                ..Levers::default()
            },
        ),
        (
            "routed share 30%",
            Levers {
                route_share: 0.3,
                ..Levers::default()
            },
        ),
        (
            "routed 30%, prompt x1.5",
            Levers {
                route_share: 0.3,
                prompt_length: 1.5,
                ..Levers::default()
            },
        ),
        (
            "token factor x1.25 (cube rebuilt)",
            Levers {
                route_share: 0.3,
                route_token_factor: Some(1.25),
                ..Levers::default()
            },
        ),
        ("back to neutral", Levers::default()),
    ];
    for (name, levers) in moves {
        let t = Instant::now();
        p.set_levers(levers);
        p.refresh();
        println!(
            "{name:<34} {:>8.1} ms   scenario ${:.4}",
            t.elapsed().as_secs_f64() * 1e3,
            p.evaluation().scenario
        );
    }
}
