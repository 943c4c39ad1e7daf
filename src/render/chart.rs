//! Drawing the savings chart with egui_plot. The same function draws the dashboard chart and
//! the exported PNG (see `png.rs`), so what a user exports is what they saw.

use costlens::domain::money;
use costlens::domain::time::Period;
use costlens::engine::chart::ChartData;
use egui::{Color32, RichText, Stroke};
use egui_plot::{Bar, BarChart, Corner, FilledArea, Legend, Line, LineStyle, Plot};

/// Distinct, colour-blind-friendly series colours (Okabe-Ito, then Tableau).
pub const PALETTE: [Color32; 10] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(240, 228, 66),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
];

pub const SCENARIO_COLOR: Color32 = Color32::from_rgb(220, 50, 47);
pub const SAVING_COLOR: Color32 = Color32::from_rgba_unmultiplied_const(40, 160, 80, 60);
pub const SAVED_CAP: Color32 = Color32::from_rgba_unmultiplied_const(255, 255, 255, 170);
pub const EXTRA_CAP: Color32 = Color32::from_rgba_unmultiplied_const(220, 50, 47, 60);
pub const SAVING_STROKE: Color32 = Color32::from_rgb(40, 160, 80);
pub const BILLED_COLOR: Color32 = Color32::from_rgb(120, 120, 120);
pub const BUDGET_COLOR: Color32 = Color32::from_rgb(213, 94, 0);

pub fn series_color(i: usize) -> Color32 {
    PALETTE[i % PALETTE.len()]
}

#[derive(Clone, Copy, Debug)]
pub struct ChartStyle {
    pub cumulative: bool,
    pub interactive: bool,
    pub height: f32,
    /// Drop the zoom and pan this frame: fit the data again (new data, Reset view).
    pub reset: bool,
}

/// The plot's id (the dashboard's and the calculator's charts are the interactive one).
pub fn chart_id(interactive: bool) -> egui::Id {
    egui::Id::unique(("savings_chart", interactive))
}

/// The points of a series split where `covered` is false: a line never runs across a gap.
pub fn segments(xs: &[f64], ys: &[f64], covered: impl Fn(usize) -> bool) -> Vec<Vec<[f64; 2]>> {
    let mut out: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut cur: Vec<[f64; 2]> = Vec::new();
    for (i, (&x, &y)) in xs.iter().zip(ys).enumerate() {
        if covered(i) {
            cur.push([x, y]);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The series as drawn (running totals in the cumulative view).
struct Series {
    xs: Vec<f64>,
    actual: Vec<f64>,
    scenario: Vec<f64>,
    billed: Option<Vec<f64>>,
}

impl Series {
    fn of(data: &ChartData, cumulative: bool) -> Series {
        let half = data.period_seconds() / 2.0;
        let run = |v: &[f64]| {
            if cumulative {
                ChartData::cumulative(v)
            } else {
                v.to_vec()
            }
        };
        Series {
            xs: data.starts.iter().map(|&s| s as f64 + half).collect(),
            actual: run(&data.actual),
            scenario: run(&data.scenario),
            billed: data.billed.as_deref().map(run),
        }
    }
}

/// Ticks under the middle of periods, as many as fit (`base_step_size` is the spacing egui
/// wants at least), so a week chart says W32, W33 and a month chart Aug 2026.
fn period_marks(p: Period, secs: f64, input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    if hi <= lo || !hi.is_finite() || !lo.is_finite() {
        return Vec::new();
    }
    // `base_step_size` is 8 points: labels (60 points apart at least for egui_plot to draw
    // them, and as wide as "Aug 2026") get about 100.
    let stride = ((12.5 * input.base_step_size / secs).ceil() as usize).max(1);
    // Nice strides: 1, 2, 3 (hours: 6, 12, 24), 7 for days, then multiples.
    let nice: &[usize] = match p {
        Period::Hour => &[1, 2, 3, 6, 12, 24, 48, 168, 336, 720],
        Period::Day => &[1, 2, 7, 14, 28, 56, 91, 182, 364],
        Period::Week => &[1, 2, 4, 8, 13, 26, 52],
        Period::Month => &[1, 2, 3, 6, 12, 24],
    };
    let stride = nice
        .iter()
        .copied()
        .find(|&n| n >= stride)
        .unwrap_or(stride);
    let mut marks = Vec::new();
    let mut t = p.start(lo as i64);
    let mut i: usize = 0;
    while (t as f64) <= hi && marks.len() < 400 {
        let idx = match p {
            // Aligned to whole days and weeks, not to where the view starts.
            Period::Hour => (t / 3600) as usize,
            Period::Day => (t / 86_400) as usize,
            Period::Week => ((t / 86_400 + 3) / 7) as usize,
            Period::Month => i,
        };
        if idx % stride == 0 {
            let x = t as f64 + secs / 2.0;
            if x >= lo && x <= hi {
                marks.push(egui_plot::GridMark {
                    value: x,
                    step_size: secs * stride as f64,
                });
            }
        }
        t = p.next(t);
        i += 1;
    }
    marks
}

/// Draws stacked actual-cost bars by the breakdown dimension, the scenario as a line, the
/// saving shaded between them, billed cost (if loaded) and the month-end forecast. Periods no
/// file covers are left empty (no bar, no line across them); one tooltip gives the hovered
/// period's every figure.
pub fn savings_chart(ui: &mut egui::Ui, data: &ChartData, style: ChartStyle) -> egui::Response {
    let half = data.period_seconds() / 2.0;
    let period_s = data.period_seconds();
    let series = Series::of(data, style.cumulative);
    let xs = series.xs.clone();
    let nd = data.dims.len().max(1);
    let top = series
        .actual
        .iter()
        .chain(&series.scenario)
        .chain(series.billed.iter().flatten())
        .fold(0.0f64, |m, v| m.max(*v));
    // The legend sits top-left: leave it room in proportion to its entries.
    let headroom = top * (1.2 + 0.05 * (data.dims.len() + 3) as f64);
    let period = data.period;
    let mut plot = Plot::new(("savings_chart", style.interactive))
        .id(chart_id(style.interactive))
        .height(style.height)
        .legend(Legend::default().position(Corner::LeftTop))
        .allow_zoom(style.interactive)
        .allow_drag(style.interactive)
        .allow_scroll(false)
        .allow_boxed_zoom(style.interactive)
        .show_crosshair(false)
        .include_y(0.0)
        // Headroom above the tallest bar so the legend does not cover data.
        .include_y(headroom)
        .y_axis_label("USD")
        .y_axis_min_width(56.0)
        .x_grid_spacer(move |input| period_marks(period, period_s, input))
        .x_axis_formatter(move |mark, _range| period.axis_label(period.start(mark.value as i64)))
        .y_axis_formatter(|mark, _range| money::usd(mark.value))
        // The tooltip is ours (below): egui_plot's own label is plain text at the pointer.
        .label_formatter(|_| None);
    if style.reset {
        plot = plot.reset();
    }
    let cells = data.cells.clone();
    let dims = data.dims.clone();
    let covered: Vec<bool> = (0..xs.len()).map(|i| data.usage_covers(i)).collect();
    let billed_covered: Vec<bool> = (0..xs.len()).map(|i| data.billed_covers(i)).collect();
    let series_ref = &series;
    let response = plot.show(ui, |plot_ui| {
        // The hovered period, shaded.
        let hovered = plot_ui
            .pointer_coordinate()
            .filter(|_| plot_ui.response().hovered())
            .and_then(|p| nearest(&xs, p.x).filter(|&i| (xs[i] - p.x).abs() <= half));
        if let Some(i) = hovered {
            plot_ui.span(
                egui_plot::Span::new("", (xs[i] - half)..=(xs[i] + half))
                    .fill(ui_hover_fill(plot_ui.ctx()))
                    .border_width(0.0),
            );
        }
        let (actual, scenario) = (&series_ref.actual, &series_ref.scenario);
        if !style.cumulative {
            let mut charts: Vec<BarChart> = Vec::new();
            for (d, name) in dims.iter().enumerate() {
                let bars: Vec<Bar> = xs
                    .iter()
                    .enumerate()
                    .filter(|(p, _)| covered[*p])
                    .map(|(p, &x)| {
                        Bar::new(x, cells.get(p * nd + d).copied().unwrap_or(0.0))
                            .width(period_s * 0.8)
                            .fill(series_color(d))
                            .stroke(Stroke::new(0.5, series_color(d)))
                    })
                    .collect();
                let mut chart = BarChart::new(name.clone(), bars)
                    .color(series_color(d))
                    .allow_hover(false);
                let below: Vec<&BarChart> = charts.iter().collect();
                if !below.is_empty() {
                    chart = chart.stack_on(&below);
                }
                charts.push(chart);
            }
            for c in charts {
                plot_ui.bar_chart(c);
            }
        } else {
            for seg in segments(&xs, actual, |i| covered[i]) {
                plot_ui.line(
                    Line::new("Actual (cumulative)", seg)
                        .color(series_color(0))
                        .width(2.5)
                        .allow_hover(false),
                );
            }
        }
        if style.cumulative {
            // The saving between the two running totals, covered stretch by covered stretch.
            for seg in segments(&xs, actual, |i| covered[i]) {
                if seg.len() < 2 {
                    continue;
                }
                let first = xs.iter().position(|&x| x == seg[0][0]).unwrap_or(0);
                let idx = first..first + seg.len();
                let x: Vec<f64> = xs[idx.clone()].to_vec();
                let lo: Vec<f64> = idx.clone().map(|i| actual[i].min(scenario[i])).collect();
                let hi: Vec<f64> = idx.map(|i| actual[i].max(scenario[i])).collect();
                plot_ui.add(
                    FilledArea::new("Saving", &x, &lo, &hi)
                        .fill_color(SAVING_COLOR)
                        .stroke(Stroke::NONE)
                        .allow_hover(false),
                );
            }
        } else {
            // The saved part of each bar (from the scenario up to the actual cost) is washed
            // out and outlined in green; an extra cost (scenario above actual) in red.
            let mut saved_caps = Vec::new();
            let mut extra_caps = Vec::new();
            for (i, &x) in xs.iter().enumerate() {
                let (a, sc) = (actual[i], scenario[i]);
                if !covered[i] || a == sc {
                    continue;
                }
                let (l, h) = (a.min(sc), a.max(sc));
                let saved = sc <= a;
                let bar = Bar::new(x, h - l)
                    .base_offset(l)
                    .width(period_s * 0.8)
                    .fill(if saved { SAVED_CAP } else { EXTRA_CAP })
                    .stroke(Stroke::new(
                        1.5,
                        if saved { SAVING_STROKE } else { SCENARIO_COLOR },
                    ));
                if saved {
                    saved_caps.push(bar);
                } else {
                    extra_caps.push(bar);
                }
            }
            if !saved_caps.is_empty() {
                plot_ui.bar_chart(
                    BarChart::new("Saving", saved_caps)
                        .color(SAVING_STROKE)
                        .allow_hover(false),
                );
            }
            if !extra_caps.is_empty() {
                plot_ui.bar_chart(
                    BarChart::new("Extra cost", extra_caps)
                        .color(SCENARIO_COLOR)
                        .allow_hover(false),
                );
            }
        }
        for seg in segments(&xs, scenario, |i| covered[i]) {
            plot_ui.line(
                Line::new("Scenario", seg)
                    .color(SCENARIO_COLOR)
                    .width(2.5)
                    .allow_hover(false),
            );
        }
        if let Some(b) = &series_ref.billed {
            for seg in segments(&xs, b, |i| billed_covered[i]) {
                plot_ui.line(
                    Line::new("Billed", seg)
                        .color(BILLED_COLOR)
                        .style(LineStyle::dotted_dense())
                        .width(1.5)
                        .allow_hover(false),
                );
            }
        }
        if style.cumulative
            && let Some(f) = &data.forecast
            && let (Some(&last_x), Some(&last_y)) = (xs.last(), actual.last())
            // Only where the chart's last period holds the forecast's last day.
            && (f.last_day as f64) <= last_x + half
            && f.month_end_time as f64 > last_x - half
        {
            // The month's running cost as the forecast has it, day by day (each source
            // projected from its own last day), on top of what the chart ran up before it.
            let at_last = f
                .path
                .iter()
                .find(|(d, _)| *d == f.last_day)
                .map_or(f.to_date, |p| p.1);
            let base = last_y - at_last;
            if !f.complete {
                let mut pts = vec![[last_x, last_y]];
                pts.extend(
                    f.path
                        .iter()
                        .filter(|(d, _)| *d > f.last_day)
                        .map(|&(d, v)| [d as f64 + 86_400.0, base + v]),
                );
                if pts.len() > 1 {
                    plot_ui.line(
                        Line::new("Month-end forecast", pts)
                            .color(series_color(0))
                            .style(LineStyle::dashed_loose())
                            .width(1.5)
                            .allow_hover(false),
                    );
                }
            }
            if let Some(b) = &data.budget
                && b.month == f.month
            {
                let y = base + b.monthly_usd;
                plot_ui.line(
                    Line::new(
                        format!("Budget {}", money::usd(b.monthly_usd)),
                        vec![[f.month_start as f64, y], [f.month_end_time as f64, y]],
                    )
                    .color(BUDGET_COLOR)
                    .style(LineStyle::dashed_dense())
                    .width(1.5)
                    .allow_hover(false),
                );
            }
        }
        hovered
    });
    let hovered = response.inner;
    let mut resp = response.response;
    if style.interactive
        && let Some(i) = hovered
    {
        resp = resp
            .on_hover_ui_at_pointer(|ui| period_tooltip(ui, data, &series, i, style.cumulative));
    }
    resp
}

fn ui_hover_fill(ctx: &egui::Context) -> Color32 {
    if ctx.global_style().visuals.dark_mode {
        Color32::from_white_alpha(14)
    } else {
        Color32::from_black_alpha(12)
    }
}

/// The tooltip of period `i`: every series of the breakdown, then actual, scenario, the
/// saving or extra cost, and the bill, in money, right-aligned.
fn period_tooltip(
    ui: &mut egui::Ui,
    data: &ChartData,
    series: &Series,
    i: usize,
    cumulative: bool,
) {
    let start = data.starts[i];
    // Right-aligned figures would take all the width a tooltip may have.
    ui.set_max_width(300.0);
    ui.label(RichText::new(data.period.long_label(start)).strong());
    if !data.usage_covers(i) {
        ui.label(RichText::new("No usage data covers this period").weak());
    }
    let nd = data.dims.len().max(1);
    egui::Grid::new("chart_tooltip")
        .num_columns(2)
        .spacing([16.0, 2.0])
        .show(ui, |ui| {
            if !cumulative && data.usage_covers(i) {
                // Largest first; series without cost this period are left out.
                let mut rows: Vec<(usize, f64)> = (0..data.dims.len())
                    .map(|d| (d, data.cells.get(i * nd + d).copied().unwrap_or(0.0)))
                    .filter(|(_, v)| *v != 0.0)
                    .collect();
                rows.sort_by(|a, b| b.1.total_cmp(&a.1));
                for (d, v) in rows {
                    ui.horizontal(|ui| {
                        let (rect, _) =
                            ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                        ui.painter().rect_filled(rect, 2.0, series_color(d));
                        ui.label(&data.dims[d]);
                    });
                    money_cell(ui, v);
                    ui.end_row();
                }
            }
            let run = if cumulative { " (to date)" } else { "" };
            if data.usage_covers(i) {
                ui.label(RichText::new(format!("Actual{run}")).strong());
                money_cell(ui, series.actual[i]);
                ui.end_row();
                ui.label(format!("Scenario{run}"));
                money_cell(ui, series.scenario[i]);
                ui.end_row();
                let (word, amount) = money::saving_or_extra(series.actual[i] - series.scenario[i]);
                ui.label(word);
                // Under half a cent is no saving to colour.
                let color = if amount < 0.005 {
                    ui.visuals().text_color()
                } else if word == "Saving" {
                    SAVING_STROKE
                } else {
                    SCENARIO_COLOR
                };
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.colored_label(color, money::usd(amount));
                });
                ui.end_row();
            }
            if let Some(b) = &series.billed {
                ui.label(format!("Billed{run}"));
                if data.billed_covers(i) {
                    money_cell(ui, b[i]);
                } else {
                    ui.label(RichText::new("not in the cost export").weak());
                }
                ui.end_row();
            }
        });
}

fn money_cell(ui: &mut egui::Ui, v: f64) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.label(money::usd(v));
    });
}

fn nearest(xs: &[f64], x: f64) -> Option<usize> {
    // xs ascend: the nearest is at the partition point or just before it.
    let i = xs.partition_point(|&v| v < x);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter(|&j| j < xs.len())
        .min_by(|&a, &b| (xs[a] - x).abs().total_cmp(&(xs[b] - x).abs()))
}

/// The whole exportable figure: title, subtitle, chart with legend, totals and the lever
/// settings as a caption.
pub fn export_figure(ui: &mut egui::Ui, data: &ChartData, cumulative: bool) {
    let fill = ui.visuals().panel_fill;
    ui.painter().rect_filled(ui.ctx().content_rect(), 0.0, fill);
    // A margin of 16 points around the figure (8 outside the panel's frame, 8 inside).
    egui::Frame::central_panel(ui.style())
        .outer_margin(8.0)
        .show(ui, |ui| {
            ui.label(RichText::new(&data.title).size(22.0).strong());
            ui.label(format!(
                "Cost per {} by {}{}",
                data.period.key(),
                data.dimension.label().to_lowercase(),
                match (data.labels.first(), data.labels.last()) {
                    (Some(a), Some(b)) => format!(", {a} to {b}"),
                    _ => String::new(),
                }
            ));
            ui.add_space(4.0);
            ui.label(RichText::new(data.totals_line()).size(15.0).strong());
            let caption_h = 48.0;
            let h = (ui.available_height() - caption_h).max(100.0);
            savings_chart(
                ui,
                data,
                ChartStyle {
                    cumulative,
                    interactive: false,
                    height: h,
                    reset: false,
                },
            );
            ui.label(RichText::new(&data.caption).italics());
            ui.label(
                RichText::new(
                    "Made with costlens · cost recomputed from token counts at list prices",
                )
                .small()
                .weak(),
            );
        });
}
