//! Offscreen rendering of the savings chart to PNG, for the app's "Export chart as PNG…" and
//! `costlens export`. It runs the same egui code as the dashboard ([`export_figure`]) in an
//! `egui::Context` of the export's size, tessellates it and draws it with egui-wgpu's renderer
//! into a texture, then reads the texture back. No window and no display: wgpu picks a
//! software rasteriser when there is one (Mesa's llvmpipe through EGL, or lavapipe), so an
//! export looks the same on every machine, and a GPU otherwise.

use super::chart::export_figure;
use costlens::engine::chart::ChartData;
use egui_wgpu::wgpu;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Pixel density of exported charts: a 1600x900 PNG is laid out as 800x450 points.
pub const EXPORT_PIXELS_PER_POINT: f32 = 2.0;

/// How long to wait for the GPU (or the software rasteriser) to finish a frame or a read-back.
/// llvmpipe on a machine busy with other work can take a few seconds for a large chart; a
/// device that hangs must not hang the CLI or the app's export thread.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// egui passes before the frame that is drawn: the first lays out with fonts not yet measured,
/// the plot sizes its axes from the previous pass. At least `MIN_PASSES`, then until egui stops
/// asking for an immediate repaint (at most `MAX_PASSES`).
const MIN_PASSES: usize = 3;
const MAX_PASSES: usize = 10;

/// The largest texture egui makes (its font atlas): one size on every adapter (2048 is the
/// least any of them supports), as the atlas's width changes how some glyphs (italics) are
/// sampled.
const ATLAS_SIDE: usize = 2048;

/// The texture format drawn into and read back: 8-bit RGBA in gamma space, what egui-wgpu's
/// shader writes for a non-sRGB target, and what `image::RgbaImage` holds.
const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Why a render failed.
#[derive(Debug)]
enum RenderError {
    /// No adapter, or the device could not be created.
    NoRenderer(String),
    /// The GPU did not finish in [`WAIT_TIMEOUT`].
    Timeout,
    Failed(String),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::NoRenderer(why) => write!(
                f,
                "cannot render a PNG here: no GPU or software renderer (install Mesa's libegl1/libgl1-mesa-dri){why}"
            ),
            RenderError::Timeout => write!(
                f,
                "rendering timed out: the renderer did not finish within {} s (twice)",
                WAIT_TIMEOUT.as_secs()
            ),
            RenderError::Failed(why) => write!(f, "rendering failed: {why}"),
        }
    }
}

/// Renders the export figure of `data` (bars, or cumulative lines) to a `width` x `height`
/// image in the light theme.
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
    // The software renderer can miss the wait on a machine busy with other work: one more try
    // before giving up.
    match render_guarded(data, cumulative, width, height) {
        Err(RenderError::Timeout) => render_guarded(data, cumulative, width, height),
        other => other,
    }
    .map_err(|e| e.to_string())
}

/// [`render_once`], with a panic inside wgpu or a driver (which should not happen: errors are
/// returned) turned into an error the user can read.
fn render_guarded(
    data: &ChartData,
    cumulative: bool,
    width: u32,
    height: u32,
) -> Result<image::RgbaImage, RenderError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render_once(data, cumulative, width, height)
    }))
    .unwrap_or_else(|p| {
        Err(RenderError::Failed(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the renderer stopped".into()),
        ))
    })
}

fn render_once(
    data: &ChartData,
    cumulative: bool,
    width: u32,
    height: u32,
) -> Result<image::RgbaImage, RenderError> {
    let ctx = egui::Context::default();
    ctx.set_theme(egui::Theme::Light);
    ctx.all_styles_mut(|style| {
        style.animation_time = 0.0;
        style.visuals.text_cursor.blink = false;
    });
    let gpu = Gpu::new(width.max(height), ctx.global_style().visuals.panel_fill)?;
    let mut renderer = egui_wgpu::Renderer::new(
        &gpu.device,
        FORMAT,
        // No dithering, filtering done in the shader: the same pixels on every adapter.
        egui_wgpu::RendererOptions::PREDICTABLE,
    );
    let ppp = EXPORT_PIXELS_PER_POINT;
    let input = || {
        let mut input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(width as f32 / ppp, height as f32 / ppp),
            )),
            max_texture_side: Some(ATLAS_SIDE),
            ..Default::default()
        };
        if let Some(root) = input.viewports.get_mut(&egui::ViewportId::ROOT) {
            root.native_pixels_per_point = Some(ppp);
        }
        input
    };

    let mut pass = 0;
    let mut output = loop {
        pass += 1;
        let mut output = ctx.run_ui(input(), |ui| export_figure(ui, data, cumulative));
        let settled = output
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_none_or(|v| !v.repaint_delay.is_zero());
        if pass >= MAX_PASSES || (pass >= MIN_PASSES && settled) {
            break output;
        }
        // Textures (the font atlas) are uploaded as they come; what a pass frees, the next
        // one no longer draws.
        for id in gpu.apply(&mut renderer, &mut output.textures_delta) {
            renderer.free_texture(&id);
        }
    };
    let freed = gpu.apply(&mut renderer, &mut output.textures_delta);
    let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    let screen = egui_wgpu::ScreenDescriptor {
        size_in_pixels: [width, height],
        pixels_per_point: output.pixels_per_point,
    };
    let image = gpu.draw(&mut renderer, &primitives, &screen);
    for id in freed {
        renderer.free_texture(&id);
    }
    image
}

/// A wgpu device with no surface.
struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// What the target starts as (the figure paints its own background over all of it).
    clear: wgpu::Color,
}

impl Gpu {
    /// A device that can hold a texture `side` pixels wide and high. Prefers a software
    /// adapter (the same output on every machine), then a discrete GPU, then any other.
    fn new(side: u32, clear: egui::Color32) -> Result<Gpu, RenderError> {
        let backends =
            wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY | wgpu::Backends::GL);
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            flags: wgpu::InstanceFlags::from_build_config().with_env(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        // A stable sort: by backend first, then by kind, so the kind decides.
        adapters.sort_by_key(|a| match a.get_info().backend {
            wgpu::Backend::Metal => 0,
            wgpu::Backend::Vulkan => 1,
            wgpu::Backend::Dx12 => 2,
            wgpu::Backend::Gl => 3,
            wgpu::Backend::BrowserWebGpu | wgpu::Backend::Noop => 4,
        });
        adapters.sort_by_key(|a| match a.get_info().device_type {
            wgpu::DeviceType::Cpu => 0,
            wgpu::DeviceType::DiscreteGpu => 1,
            wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
            | wgpu::DeviceType::Other => 2,
        });
        let adapter = adapters
            .into_iter()
            .find(|a| a.get_info().backend != wgpu::Backend::Noop)
            .ok_or_else(|| RenderError::NoRenderer(String::new()))?;
        let info = adapter.get_info();
        let supported = adapter.limits().max_texture_dimension_2d;
        if supported < side {
            return Err(RenderError::Failed(format!(
                "the renderer ({}) draws at most {supported} pixels wide or high",
                info.name
            )));
        }
        let base = if info.backend == wgpu::Backend::Gl {
            wgpu::Limits::downlevel_webgl2_defaults()
        } else {
            wgpu::Limits::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("costlens export"),
            required_limits: wgpu::Limits {
                max_texture_dimension_2d: side.max(ATLAS_SIDE as u32),
                ..base
            },
            ..Default::default()
        }))
        .map_err(|e| RenderError::NoRenderer(format!(": {} ({e})", info.name)))?;
        let [r, g, b, a] = clear.to_array().map(|c| f64::from(c) / 255.0);
        Ok(Gpu {
            device,
            queue,
            clear: wgpu::Color { r, g, b, a },
        })
    }

    /// Uploads the textures a pass created or changed (the font atlas) and returns those it
    /// freed, to free once drawn. `delta` is emptied first: egui checks that no delta is
    /// dropped unapplied, also while a failed render unwinds.
    fn apply(
        &self,
        renderer: &mut egui_wgpu::Renderer,
        delta: &mut egui::TexturesDelta,
    ) -> Vec<egui::TextureId> {
        let set = std::mem::take(&mut delta.set);
        let freed = delta.free.drain().collect();
        for (id, images) in set {
            for image in &images {
                renderer.update_texture(&self.device, &self.queue, id, image);
            }
        }
        freed
    }

    /// Draws `primitives` into a new texture of the screen's size and reads it back.
    fn draw(
        &self,
        renderer: &mut egui_wgpu::Renderer,
        primitives: &[egui::ClippedPrimitive],
        screen: &egui_wgpu::ScreenDescriptor,
    ) -> Result<image::RgbaImage, RenderError> {
        let [width, height] = screen.size_in_pixels;
        let size = wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        };
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("costlens export target"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());

        // Rows of a texture-to-buffer copy start at multiples of 256 bytes.
        let row = 4 * width;
        let padded_row =
            row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("costlens export read-back"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("costlens export"),
            });
        let callbacks =
            renderer.update_buffers(&self.device, &self.queue, &mut encoder, primitives, screen);
        {
            let mut pass = encoder
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("costlens export"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: &view,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(self.clear),
                            store: wgpu::StoreOp::Store,
                        },
                        depth_slice: None,
                    })],
                    ..Default::default()
                })
                .forget_lifetime();
            renderer.render(&mut pass, primitives, screen);
        }
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row),
                    rows_per_image: None,
                },
            },
            size,
        );
        let submitted = self
            .queue
            .submit(callbacks.into_iter().chain(Some(encoder.finish())));

        let (tx, rx) = mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submitted),
                timeout: Some(WAIT_TIMEOUT),
            })
            .map_err(|e| match e {
                wgpu::PollError::Timeout => RenderError::Timeout,
                e => RenderError::Failed(e.to_string()),
            })?;
        // The wait above ran the mapping's callback; if it did not, the GPU is not done.
        match rx.recv_timeout(WAIT_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(RenderError::Failed(format!(
                    "cannot read the image back: {e}"
                )));
            }
            Err(_) => return Err(RenderError::Timeout),
        }
        let mapped = buffer
            .get_mapped_range(..)
            .map_err(|e| RenderError::Failed(format!("cannot read the image back: {e}")))?;
        let mut pixels = Vec::with_capacity((row * height) as usize);
        for line in mapped.chunks_exact(padded_row as usize) {
            pixels.extend_from_slice(&line[..row as usize]);
        }
        drop(mapped);
        buffer.unmap();
        image::RgbaImage::from_raw(width, height, pixels)
            .ok_or_else(|| RenderError::Failed("the image read back has the wrong size".into()))
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
