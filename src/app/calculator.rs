//! The workload calculator (what-if.md): a synthetic workload's cost with and without prompt
//! caching, with the same cards and chart as the dashboard.

use super::CostlensApp;
use crate::render::chart::{ChartStyle, savings_chart};
use costlens::domain::money;
use costlens::domain::time::Period;
use costlens::engine::chart::ChartData;
use costlens::engine::estimate::{self, Estimate};
use costlens::engine::scenario::Ttl;
use costlens::engine::view::Dimension;
use egui::{RichText, Ui};

/// The calculator's result as chart data: "without caching" as the actual bars, "with
/// caching" as the scenario line, one point per day.
pub fn chart_data(e: &Estimate) -> ChartData {
    let day0 = 1_767_225_600; // 2026-01-01: days are relative, the axis shows the day number.
    let starts: Vec<i64> = e
        .per_day
        .iter()
        .map(|(d, _, _)| day0 + (*d as i64 - 1) * 86400)
        .collect();
    let without: Vec<f64> = e.per_day.iter().map(|x| x.1).collect();
    let with: Vec<f64> = e.per_day.iter().map(|x| x.2).collect();
    ChartData {
        title: format!("{}: with and without prompt caching", e.model),
        period: Period::Day,
        dimension: Dimension::Category,
        labels: e
            .per_day
            .iter()
            .map(|(d, _, _)| format!("day {d}"))
            .collect(),
        starts,
        dims: vec!["Without caching".into()],
        cells: without.clone(),
        actual: without,
        scenario: with,
        billed: None,
        actual_total: e.without_cache_usd,
        scenario_total: e.with_cache_usd,
        billed_total: None,
        caption: format!(
            "{} requests, {} cache writes, {} cache reads",
            e.requests, e.cache_writes, e.cache_reads
        ),
        forecast: None,
        ..ChartData::default()
    }
}

pub fn show(app: &mut CostlensApp, ui: &mut Ui) {
    let models: Vec<String> = app.pipeline.table().display_names();
    egui::Panel::left("calc_inputs").default_size(320.0).show(ui, |ui| {
        ui.heading("Workload");
        let w = &mut app.settings.workload;
        egui::Grid::new("workload").num_columns(2).show(ui, |ui| {
            ui.label("");
            let current = app.pipeline.table().lookup(&w.model).map(|i| app.pipeline.table().model(i).display_name().to_owned()).unwrap_or_else(|| w.model.clone());
            egui::ComboBox::new("calc_model", "Model")
                .width(180.0).selected_text(current).show_ui(ui, |ui| {
                for m in &models {
                    if ui.selectable_label(false, m).clicked() {
                        w.model = m.clone();
                    }
                }
            });
            ui.end_row();
            let l = ui.label("Requests per day");
            ui.add(egui::DragValue::new(&mut w.requests_per_day).range(0.0..=1e9).speed(1.0)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Active hours per day");
            ui.add(egui::DragValue::new(&mut w.active_hours).range(0.1..=24.0).speed(0.1)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Days");
            ui.add(egui::DragValue::new(&mut w.days).range(1..=366)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Cached prefix (tokens)");
            ui.add(egui::DragValue::new(&mut w.cached_prefix).range(0.0..=1e7).speed(10.0)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Other input (tokens)");
            ui.add(egui::DragValue::new(&mut w.input).range(0.0..=1e7).speed(10.0)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Output (tokens)");
            ui.add(egui::DragValue::new(&mut w.output).range(0.0..=1e7).speed(10.0)).labelled_by(l.id);
            ui.end_row();
            ui.label("Cache TTL");
            ui.horizontal(|ui| {
                ui.selectable_value(&mut w.ttl, Ttl::FiveMinutes, "5 minutes");
                ui.selectable_value(&mut w.ttl, Ttl::OneHour, "1 hour");
            });
            ui.end_row();
            let l = ui.label("Batch share");
            let mut pct = 100.0 * w.batch_share;
            if ui.add(egui::Slider::new(&mut pct, 0.0..=100.0).suffix("%")).labelled_by(l.id).changed() {
                w.batch_share = pct / 100.0;
            }
            ui.end_row();
        });
        ui.add_space(8.0);
        if ui.button("Example: 1,000-token system prompt sent 100 times in an hour").clicked() {
            *w = costlens::engine::estimate::Workload {
                model: "Claude Sonnet 4.5".into(),
                requests_per_day: 100.0,
                active_hours: 1.0,
                days: 1,
                cached_prefix: 1000.0,
                input: 0.0,
                output: 0.0,
                ttl: Ttl::FiveMinutes,
                batch_share: 0.0,
            };
        }
        ui.label(RichText::new(
            "Requests are spread evenly over the active hours. While the gap between requests is shorter than the TTL the prefix stays cached: one write per active day, every later request reads. Otherwise every request writes.",
        ).small().weak());
    });
    egui::CentralPanel::default().show(ui, |ui| {
        match estimate::estimate(app.pipeline.table(), &app.settings.workload) {
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
            Ok(e) => {
                ui.horizontal_wrapped(|ui| {
                    for (caption, v, sub) in [
                        (
                            "Without caching",
                            e.without_cache_usd,
                            format!("{} requests", e.requests),
                        ),
                        (
                            "With caching",
                            e.with_cache_usd,
                            format!(
                                "{} · {}",
                                money::plural(e.cache_writes as usize, "write"),
                                money::plural(e.cache_reads as usize, "read")
                            ),
                        ),
                        (
                            if e.savings_usd < 0.0 {
                                "Extra cost with caching"
                            } else {
                                "Saving with caching"
                            },
                            e.savings_usd.abs(),
                            money::pct(e.savings_pct.abs()),
                        ),
                    ]
                    .into_iter()
                    .chain((e.billed_with_cache_usd != e.with_cache_usd).then(|| {
                        (
                            "Billed with caching",
                            e.billed_with_cache_usd,
                            "what the API bills (see below)".to_owned(),
                        )
                    })) {
                        egui::Frame::group(ui.style())
                            .inner_margin(egui::Margin::same(10))
                            .show(ui, |ui| {
                                ui.set_min_width(170.0);
                                ui.vertical(|ui| {
                                    ui.label(RichText::new(caption).small().weak());
                                    ui.label(RichText::new(money::usd(v)).size(22.0).strong())
                                        .on_hover_text(money::usd_exact(v));
                                    ui.label(RichText::new(sub).small());
                                });
                            });
                    }
                });
                for w in &e.warnings {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {w}"));
                }
                ui.label(format!(
                    "A request every {:.0} s: the prefix {} the {} TTL.",
                    e.gap_seconds,
                    if e.stays_cached {
                        "stays cached within"
                    } else {
                        "expires between requests, longer than"
                    },
                    app.settings.workload.ttl.label()
                ));
                let data = chart_data(&e);
                savings_chart(
                    ui,
                    &data,
                    ChartStyle {
                        cumulative: app.settings.cumulative,
                        interactive: true,
                        height: 320.0,
                        reset: false,
                    },
                );
            }
        }
    });
}
