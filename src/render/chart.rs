//! Drawing the savings chart with egui_plot. The same function draws the dashboard chart and
//! the exported PNG (see `png.rs`), so what a user exports is what they saw.

use costlens::domain::money;
use costlens::engine::chart::ChartData;
use egui::{Color32, RichText, Stroke};
use egui_plot::{Bar, BarChart, Corner, FilledArea, HoverPosition, Legend, Line, LineStyle, Plot};

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

pub fn series_color(i: usize) -> Color32 {
    PALETTE[i % PALETTE.len()]
}

#[derive(Clone, Copy, Debug)]
pub struct ChartStyle {
    pub cumulative: bool,
    pub interactive: bool,
    pub height: f32,
}

/// Draws stacked actual-cost bars by the breakdown dimension, the scenario as a line, the
/// saving shaded between them, billed cost (if loaded) and the month-end forecast.
pub fn savings_chart(ui: &mut egui::Ui, data: &ChartData, style: ChartStyle) -> egui::Response {
    let half = data.period_seconds() / 2.0;
    let xs: Vec<f64> = data.starts.iter().map(|&s| s as f64 + half).collect();
    let nd = data.dims.len().max(1);
    let (actual, scenario) = if style.cumulative {
        (
            ChartData::cumulative(&data.actual),
            ChartData::cumulative(&data.scenario),
        )
    } else {
        (data.actual.clone(), data.scenario.clone())
    };
    let labels = data.labels.clone();
    let (a_hover, s_hover) = (actual.clone(), scenario.clone());
    let xs_hover = xs.clone();
    let period_s = data.period_seconds();
    let top = actual
        .iter()
        .chain(&scenario)
        .chain(data.billed.iter().flatten())
        .fold(0.0f64, |m, v| m.max(*v));
    // The legend sits top-left: leave it room in proportion to its entries.
    let headroom = top * (1.2 + 0.05 * (data.dims.len() + 3) as f64);
    let plot = Plot::new(("savings_chart", style.interactive))
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
        .x_axis_formatter(move |mark, _range| {
            chrono::DateTime::from_timestamp(mark.value as i64, 0)
                .map(|d| {
                    if period_s < 86400.0 {
                        d.format("%m-%d %H:%M").to_string()
                    } else {
                        d.format("%Y-%m-%d").to_string()
                    }
                })
                .unwrap_or_default()
        })
        .y_axis_formatter(|mark, _range| money::usd(mark.value))
        .label_formatter(move |pos: &HoverPosition<'_>| {
            let x = match pos {
                HoverPosition::NearDataPoint { position, .. } => position.x,
                HoverPosition::Elsewhere { position } => position.x,
            };
            let i = nearest(&xs_hover, x)?;
            let (a, s) = (a_hover[i], s_hover[i]);
            Some(format!(
                "{}\nActual:   {}\nScenario: {}\nSaving:   {}",
                labels[i],
                money::usd_exact(a),
                money::usd_exact(s),
                money::usd_exact(a - s)
            ))
        });
    let cells = data.cells.clone();
    let dims = data.dims.clone();
    let bar_labels = data.labels.clone();
    plot.show(ui, |plot_ui| {
        if !style.cumulative {
            let mut charts: Vec<BarChart> = Vec::new();
            for (d, name) in dims.iter().enumerate() {
                let bars: Vec<Bar> = xs
                    .iter()
                    .enumerate()
                    .map(|(p, &x)| {
                        Bar::new(x, cells.get(p * nd + d).copied().unwrap_or(0.0))
                            .width(period_s * 0.8)
                            .fill(series_color(d))
                            .stroke(Stroke::new(0.5, series_color(d)))
                            .name(format!("{name} · {}", bar_labels[p]))
                    })
                    .collect();
                let mut chart = BarChart::new(name.clone(), bars)
                    .color(series_color(d))
                    .element_formatter(Box::new(|bar, _| {
                        format!("{}\n{}", bar.name, money::usd_exact(bar.value))
                    }));
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
            plot_ui.line(
                Line::new(
                    "Actual (cumulative)",
                    xs.iter()
                        .zip(&actual)
                        .map(|(&x, &y)| [x, y])
                        .collect::<Vec<_>>(),
                )
                .color(series_color(0))
                .width(2.5),
            );
        }
        let lo: Vec<f64> = actual
            .iter()
            .zip(&scenario)
            .map(|(a, s)| a.min(*s))
            .collect();
        let hi: Vec<f64> = actual
            .iter()
            .zip(&scenario)
            .map(|(a, s)| a.max(*s))
            .collect();
        if style.cumulative {
            if xs.len() > 1 {
                plot_ui.add(
                    FilledArea::new("Saving", &xs, &lo, &hi)
                        .fill_color(SAVING_COLOR)
                        .stroke(Stroke::NONE),
                );
            }
        } else {
            // The saved part of each bar (from the scenario up to the actual cost) is washed
            // out and outlined in green; an extra cost (scenario above actual) in red.
            let caps: Vec<Bar> = xs
                .iter()
                .zip(lo.iter().zip(&hi))
                .zip(actual.iter().zip(&scenario))
                .filter(|((_, (l, h)), _)| *h - *l > 0.0)
                .map(|((&x, (&l, &h)), (&a, &sc))| {
                    let saved = sc <= a;
                    Bar::new(x, h - l)
                        .base_offset(l)
                        .width(period_s * 0.8)
                        .fill(if saved { SAVED_CAP } else { EXTRA_CAP })
                        .stroke(Stroke::new(
                            1.5,
                            if saved { SAVING_STROKE } else { SCENARIO_COLOR },
                        ))
                        .name(if saved { "Saving" } else { "Extra cost" })
                })
                .collect();
            if !caps.is_empty() {
                plot_ui.bar_chart(
                    BarChart::new("Saving", caps)
                        .color(SAVING_STROKE)
                        .element_formatter(Box::new(|bar, _| {
                            format!("{}\n{}", bar.name, money::usd_exact(bar.value))
                        })),
                );
            }
        }
        plot_ui.line(
            Line::new(
                "Scenario",
                xs.iter()
                    .zip(&scenario)
                    .map(|(&x, &y)| [x, y])
                    .collect::<Vec<_>>(),
            )
            .color(SCENARIO_COLOR)
            .width(2.5),
        );
        if let Some(b) = &data.billed {
            let b = if style.cumulative {
                ChartData::cumulative(b)
            } else {
                b.clone()
            };
            plot_ui.line(
                Line::new(
                    "Billed",
                    xs.iter().zip(&b).map(|(&x, &y)| [x, y]).collect::<Vec<_>>(),
                )
                .color(BILLED_COLOR)
                .style(LineStyle::dotted_dense())
                .width(1.5),
            );
        }
        if style.cumulative
            && let Some(f) = &data.forecast
            && let (Some(&last_x), Some(&last_y)) = (xs.last(), actual.last())
        {
            // Only meaningful when the chart's last period is the forecast month.
            if (f.last_day as f64) <= last_x + half && f.month_end_time as f64 > last_x {
                let end_y = last_y
                    + f.daily_rate
                        * ((f.month_end_time - f.last_day) as f64 / 86400.0 - 1.0).max(0.0);
                plot_ui.line(
                    Line::new(
                        "Month-end forecast",
                        vec![[last_x, last_y], [f.month_end_time as f64, end_y]],
                    )
                    .color(series_color(0))
                    .style(LineStyle::dashed_loose())
                    .width(1.5),
                );
            }
        }
    })
    .response
}

fn nearest(xs: &[f64], x: f64) -> Option<usize> {
    xs.iter()
        .enumerate()
        .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
        .map(|(i, _)| i)
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
