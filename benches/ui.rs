//! The app's frame time while a slider is dragged, with a large import, start-up time on the
//! sample data, and peak memory: `cargo bench --bench ui [-- ROWS FRAMES]`. Figures go to
//! BENCHMARKS.md. Runs the real app headless through egui_kittest (layout and tessellation,
//! no GPU upload).

#[allow(dead_code)]
#[path = "../src/app/mod.rs"]
mod app;
#[allow(dead_code)]
#[path = "../src/render/mod.rs"]
mod render;

use app::{CostlensApp, Settings, Source};
use costlens::domain::prices::PriceTable;
use costlens::import::{self, Options};
use costlens::pipeline::Pipeline;
use egui_kittest::Harness;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; numbers after it are the rows and the frames.
    let nums: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let rows = nums.first().copied().unwrap_or(1_000_000);
    let frames = nums.get(1).copied().unwrap_or(200);
    // Start-up: settings to first frame on the embedded sample data.
    let t = Instant::now();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(|_cc| {
            CostlensApp::with_settings(Settings::default(), Box::new(app::NativeDialogs))
        });
    h.step();
    println!(
        "first frame on sample data: {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );

    // A large import.
    let t = Instant::now();
    let csv = costlens_testkit::usage_csv(&costlens_testkit::bulk_rows(rows, 7));
    let gen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let parsed =
        import::parse_bytes("bulk.csv", csv.as_bytes(), &Options::default()).expect("parse");
    let data = costlens::domain::dataset::Dataset::merge([parsed], Default::default());
    drop(csv);
    let pipeline = Pipeline::new(data, PriceTable::bundled());
    println!(
        "{rows} rows: generated in {gen_s:.2} s, imported + cube in {:.2} s ({} cube groups)",
        t.elapsed().as_secs_f64(),
        pipeline.analysis().cube.groups()
    );
    let app = h.state_mut();
    app.pipeline = pipeline;
    app.set_data_source(Source::Files(vec!["bulk.csv".into()]));
    let t = Instant::now();
    h.step();
    println!(
        "first frame with {rows} rows (view build): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    h.step();

    // Dragging: each frame moves a lever, re-prices and lays out the dashboard.
    let mut frame_ms = Vec::with_capacity(frames);
    let mut reprice_ms = Vec::with_capacity(frames);
    for i in 0..frames {
        let x = i as f64 / frames as f64;
        {
            let app = h.state_mut();
            app.settings.levers.traffic = 0.5 + 2.0 * x;
            app.settings.levers.batch_share = x;
        }
        let t = Instant::now();
        h.step();
        frame_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        reprice_ms.push(h.state().pipeline.evaluate_ms);
    }
    let max = frame_ms.iter().cloned().fold(0.0, f64::max);
    println!(
        "slider drag, {frames} frames: median {:.2} ms, max {:.2} ms per frame (re-price median {:.3} ms; {} view groups)",
        median(&mut frame_ms),
        max,
        median(&mut reprice_ms),
        h.state().pipeline.view().groups()
    );
    println!("peak memory (VmHWM): {:.0} MB", peak_rss_mb());
}
