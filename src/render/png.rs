//! Offscreen rendering of the savings chart to PNG, for the app's "Export chart as PNG…" and
//! the headless `costlens export`. It renders the same egui code as the dashboard through
//! egui_kittest's wgpu renderer, which needs no window or display (Mesa llvmpipe via EGL here).

use super::chart::export_figure;
use costlens::engine::chart::ChartData;
use std::path::Path;

/// Pixel density of exported charts: a 1600x900 PNG is laid out as 800x450 points.
pub const EXPORT_PIXELS_PER_POINT: f32 = 2.0;

pub fn render_png(
    data: &ChartData,
    cumulative: bool,
    width: u32,
    height: u32,
) -> Result<image::RgbaImage, String> {
    if !(200..=8000).contains(&width) || !(150..=8000).contains(&height) {
        return Err(format!(
            "chart size {width}x{height} is out of range (200-8000 x 150-8000 pixels)"
        ));
    }
    // The software renderer (llvmpipe, when there is no GPU) can miss wgpu's 10 s wait for
    // a frame on a machine busy with other work: one more try before giving up.
    match render_once(data, cumulative, width, height) {
        Err(e) if e.contains("timed out") => render_once(data, cumulative, width, height),
        other => other,
    }
}

fn render_once(
    data: &ChartData,
    cumulative: bool,
    width: u32,
    height: u32,
) -> Result<image::RgbaImage, String> {
    let data = data.clone();
    let ppp = EXPORT_PIXELS_PER_POINT;
    let size = egui::vec2(width as f32 / ppp, height as f32 / ppp);
    // A renderer that cannot start (no GPU and no software rasteriser) panics inside wgpu;
    // turn that into an error the user can read.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut harness = egui_kittest::Harness::builder()
            .with_size(size)
            .with_pixels_per_point(ppp)
            .with_theme(egui::Theme::Light)
            .wgpu()
            .build_ui(move |ui| export_figure(ui, &data, cumulative));
        harness.run_steps(3);
        harness.render()
    }));
    match result {
        Ok(Ok(img)) => Ok(img),
        Ok(Err(e)) => Err(format!("rendering failed: {e}")),
        Err(p) => Err(format!(
            "rendering failed: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the renderer could not start".into())
        )),
    }
}

/// Encodes `img` as PNG and writes it atomically (temp file + rename), so a failed write
/// (unwritable folder, full disk) leaves no half-written file and says why. Only a new path or
/// a regular file of ours that is not one of `inputs` is replaced ([`costlens::store::atomic`]).
pub fn write_png(
    img: &image::RgbaImage,
    path: &Path,
    inputs: &[std::path::PathBuf],
) -> Result<(), String> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| format!("cannot encode PNG: {e}"))?;
    costlens::store::atomic::write_protecting(path, &bytes, inputs).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied && e.to_string().starts_with("refusing")
        {
            e.to_string()
        } else {
            format!("cannot write {}: {e}", path.display())
        }
    })
}
