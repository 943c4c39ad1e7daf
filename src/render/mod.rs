//! The savings chart, drawn with egui_plot ([`chart`]), and its offscreen rendering to PNG with
//! egui + egui-wgpu ([`png`]): the app draws the dashboard chart with it, and `costlens export`
//! and the app's "Export chart as PNG…" render the same figure without a window.

pub mod chart;
pub mod png;
