//! The savings chart, drawn with egui_plot ([`chart`]), and its offscreen rendering to PNG with
//! egui + egui-wgpu ([`png`]). Always built: the app draws the dashboard chart with it (behind
//! the `gui` feature), and `costlens export` renders the same figure without a window, also in
//! a build without the `gui` feature.

pub mod chart;
pub mod png;
