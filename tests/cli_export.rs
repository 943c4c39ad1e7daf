//! `costlens export` end to end: the binary renders the savings chart offscreen (no display)
//! to a PNG of the requested size, and says why when it cannot write it. And the renderer
//! itself (`src/render/`, egui + egui-wgpu, which the binary builds with or without the `gui`
//! feature), called directly.

use std::process::Command;

/// The binary's renderer, compiled into this test as it is into the binary.
#[allow(dead_code)]
#[path = "../src/render/mod.rs"]
mod render;

fn costlens() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_costlens"));
    // The user's usage history is neither written nor read by tests.
    c.env("COSTLENS_NO_HISTORY", "1");
    c
}

const USAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/sample-data/claude_api_tokens_2026_08-10.csv"
);
const COST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/sample-data/claude_api_cost_2026_08-10.csv"
);

#[test]
fn export_writes_a_png_of_the_requested_size_that_is_not_blank() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("savings.png");
    let status = costlens()
        .args(["export", USAGE, COST, "--png"])
        .arg(&out)
        .args([
            "--width",
            "1200",
            "--height",
            "700",
            "--batch-share",
            "0.5",
            "--period",
            "week",
        ])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .status()
        .expect("run costlens");
    assert!(status.success());
    let img = image::open(&out).expect("a PNG").to_rgba8();
    assert_eq!((img.width(), img.height()), (1200, 700));
    // Not blank: the chart has bars, lines and text in many colours, and the series colours
    // of the legend (Okabe-Ito blue and orange) are present.
    let colours: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 100, "only {} colours", colours.len());
    let has = |rgb: [u8; 3]| img.pixels().any(|p| p.0[..3] == rgb);
    assert!(has([0, 114, 178]), "no series-blue pixel");
    assert!(has([230, 159, 0]), "no series-orange pixel");
}

#[test]
fn export_defaults_to_1600_by_900() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("default.png");
    let status = costlens()
        .args(["export", USAGE, "--png"])
        .arg(&out)
        .status()
        .expect("run");
    assert!(status.success());
    let img = image::open(&out).expect("a PNG");
    assert_eq!((img.width(), img.height()), (1600, 900));
}

#[test]
fn export_to_an_unwritable_place_says_why_and_exits_1() {
    let out = std::path::Path::new("/nonexistent-dir/sub/chart.png");
    let o = costlens()
        .args(["export", USAGE, "--png"])
        .arg(out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write /nonexistent-dir/sub/chart.png"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn export_rejects_an_absurd_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = costlens()
        .args(["export", USAGE, "--width", "10", "--png"])
        .arg(dir.path().join("x.png"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("out of range"));
}

#[test]
fn the_offscreen_renderer_draws_the_chart_without_a_window() {
    use costlens::domain::prices::PriceTable;
    use costlens::engine::scenario::Levers;
    use costlens::import::Options;
    use costlens::pipeline::{Pipeline, load};

    let files: Vec<(&str, Vec<u8>)> = [USAGE, COST]
        .iter()
        .map(|p| (*p, std::fs::read(p).expect("sample data")))
        .collect();
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    let loaded = load::load_bytes(&borrowed, &Options::default());
    let mut pipeline = Pipeline::new(loaded.data, PriceTable::bundled());
    pipeline.set_levers(Levers {
        batch_share: 0.5,
        ..Levers::default()
    });
    pipeline.refresh();
    let data = pipeline.chart("Claude API cost: actual vs scenario");
    for (cumulative, (w, h)) in [(false, (1200, 700)), (true, (640, 360))] {
        let img = render::png::render_png(&data, cumulative, w, h).expect("render");
        assert_eq!((img.width(), img.height()), (w, h));
        let colours: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
        assert!(
            colours.len() > 100,
            "only {} colours (cumulative: {cumulative})",
            colours.len()
        );
        // Opaque: the light theme's panel behind everything, no transparent pixel.
        assert!(img.pixels().all(|p| p.0[3] == 255));
        let has = |rgb: [u8; 3]| img.pixels().any(|p| p.0[..3] == rgb);
        assert!(has([0, 114, 178]), "no series-blue pixel");
        assert!(has([220, 50, 47]), "no scenario-red pixel");
    }
    let e = render::png::render_png(&data, false, 100, 100).expect_err("too small");
    assert!(e.contains("out of range"), "{e}");
}
