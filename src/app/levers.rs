//! The what-if panel: every lever of what-if.md as a slider with its neutral value, the
//! observed value beside it, a reset per lever and for all, and named presets.

use super::{Cmd, CostlensApp};
use costlens::domain::money;
use costlens::engine::cube::prompt_length_grid;
use costlens::engine::scenario::{Levers, Ttl};
use egui::{RichText, Ui};

/// Named starting points.
pub fn presets() -> Vec<(&'static str, &'static str, Levers)> {
    vec![
        (
            "Cache the system prompt",
            "80% of input is a cacheable prefix, 90% of it read from cache (5-minute TTL)",
            Levers {
                cache_share: Some(0.8),
                cache_hit: Some(0.9),
                cache_ttl: Some(Ttl::FiveMinutes),
                ..Levers::default()
            },
        ),
        (
            "Easy work to Haiku",
            "30% of Sonnet and Opus usage priced as Claude Haiku 4.5",
            Levers {
                route_share: 0.3,
                ..Levers::default()
            },
        ),
        (
            "Batch what can wait",
            "Half of non-batch usage moved to the Batch API (50% off)",
            Levers {
                batch_share: 0.5,
                ..Levers::default()
            },
        ),
        (
            "Twice the traffic",
            "Twice the requests, same prompts",
            Levers {
                traffic: 2.0,
                ..Levers::default()
            },
        ),
    ]
}

fn reset_button(ui: &mut Ui, enabled: bool) -> bool {
    ui.add_enabled(enabled, egui::Button::new("reset").small())
        .on_hover_text("Reset to neutral")
        .clicked()
}

/// A multiplier slider (x0.1 - x10, logarithmic); `grid` snaps it to the given steps.
fn scale_slider(
    ui: &mut Ui,
    label: &str,
    value: &mut f64,
    help: &str,
    grid: Option<&[f64]>,
) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let r = ui
            .add(
                egui::Slider::new(value, 0.1..=10.0)
                    .logarithmic(true)
                    .text(label)
                    .prefix("×")
                    .fixed_decimals(2),
            )
            .on_hover_text(help);
        if r.changed() {
            if let Some(g) = grid {
                *value = snap(*value, g);
            }
            changed = true;
        }
        if reset_button(ui, *value != 1.0) {
            *value = 1.0;
            changed = true;
        }
    });
    changed
}

/// Snaps to the nearest grid value (the cube is exact at these prompt lengths).
pub fn snap(v: f64, grid: &[f64]) -> f64 {
    grid.iter()
        .copied()
        .chain([1.0])
        .min_by(|a, b| (a - v).abs().total_cmp(&(b - v).abs()))
        .unwrap_or(v)
}

/// A share slider (0 - 100%) for an optional lever: `None` shows the observed value.
fn share_slider(
    ui: &mut Ui,
    label: &str,
    value: &mut Option<f64>,
    observed: f64,
    help: &str,
) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let mut pct = 100.0 * value.unwrap_or(observed);
        let r = ui
            // No rounding and no clamping of the shown value: an observed 70.5% must not turn
            // into a set 71% just by being drawn.
            .add(
                egui::Slider::new(&mut pct, 0.0..=100.0)
                    .text(label)
                    .suffix("%")
                    .custom_formatter(|v, _| format!("{v:.1}"))
                    .clamping(egui::SliderClamping::Edits),
            )
            .on_hover_text(help);
        if r.changed() {
            *value = Some(pct / 100.0);
            changed = true;
        }
        if reset_button(ui, value.is_some()) {
            *value = None;
            changed = true;
        }
    });
    ui.label(
        RichText::new(match value {
            None => format!("    as observed: {:.1}%", 100.0 * observed),
            Some(_) => format!("    observed: {:.1}%", 100.0 * observed),
        })
        .small()
        .weak(),
    );
    changed
}

fn plain_share(ui: &mut Ui, label: &str, value: &mut f64, help: &str) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let mut pct = 100.0 * *value;
        if ui
            .add(
                egui::Slider::new(&mut pct, 0.0..=100.0)
                    .text(label)
                    .suffix("%")
                    .fixed_decimals(0),
            )
            .on_hover_text(help)
            .changed()
        {
            *value = pct / 100.0;
            changed = true;
        }
        if reset_button(ui, *value != 0.0) {
            *value = 0.0;
            changed = true;
        }
    });
    changed
}

pub fn show(app: &mut CostlensApp, ui: &mut Ui) {
    ui.heading("What if…");
    let obs = app.pipeline.view().observed;
    let table_models: Vec<String> = app.pipeline.table().display_names();
    let grid = prompt_length_grid();
    let l = &mut app.settings.levers;
    let mut changed = false;

    ui.label(RichText::new("Volume").strong());
    changed |= scale_slider(
        ui,
        "Traffic",
        &mut l.traffic,
        "Every count scales: tokens, searches, requests",
        None,
    );
    changed |= scale_slider(
        ui,
        "Prompt length",
        &mut l.prompt_length,
        "Every input category scales; requests over 200K input tokens move to long-context rates",
        Some(&grid),
    );
    changed |= scale_slider(
        ui,
        "Output length",
        &mut l.output_length,
        "Output tokens scale",
        None,
    );

    ui.separator();
    ui.label(RichText::new("Prompt caching").strong());
    changed |= share_slider(
        ui,
        "Cacheable share",
        &mut l.cache_share,
        obs.cache_share,
        "Share of each request's input that is a cacheable prefix (system prompt, tools, documents)",
    );
    changed |= share_slider(
        ui,
        "Cache hit rate",
        &mut l.cache_hit,
        obs.cache_hit,
        "Share of cacheable input read from cache; the rest is written (which costs more than plain input)",
    );
    ui.horizontal(|ui| {
        let text = match l.cache_ttl {
            None => format!("as observed ({:.0}% 1h)", 100.0 * obs.ttl_1h_share),
            Some(t) => t.label().to_owned(),
        };
        egui::ComboBox::from_label("Cache TTL")
            .selected_text(text)
            .show_ui(ui, |ui| {
                changed |= ui
                    .selectable_value(&mut l.cache_ttl, None, "as observed")
                    .changed();
                changed |= ui
                    .selectable_value(
                        &mut l.cache_ttl,
                        Some(Ttl::FiveMinutes),
                        "5 minutes (writes 1.25x)",
                    )
                    .changed();
                changed |= ui
                    .selectable_value(&mut l.cache_ttl, Some(Ttl::OneHour), "1 hour (writes 2x)")
                    .changed();
            });
        if reset_button(ui, l.cache_ttl.is_some()) {
            l.cache_ttl = None;
            changed = true;
        }
    });

    ui.separator();
    ui.label(RichText::new("Route to a cheaper model").strong());
    changed |= plain_share(
        ui,
        "Routed share",
        &mut l.route_share,
        "That share of each source-model row is priced as the target model",
    );
    ui.horizontal(|ui| {
        let target = if l.route_to.is_empty() {
            "Claude Haiku 4.5".to_owned()
        } else {
            l.route_to.clone()
        };
        egui::ComboBox::from_label("to")
            .selected_text(target)
            .show_ui(ui, |ui| {
                for m in &table_models {
                    let selected =
                        l.route_to == *m || (l.route_to.is_empty() && m == "Claude Haiku 4.5");
                    if ui.selectable_label(selected, m).clicked() {
                        l.route_to = if m == "Claude Haiku 4.5" {
                            String::new()
                        } else {
                            m.clone()
                        };
                        changed = true;
                    }
                }
            });
    });
    egui::CollapsingHeader::new(if l.route_from.is_empty() {
        "from: every Sonnet and Opus model".to_owned()
    } else {
        format!("from: {}", l.route_from.join(", "))
    })
    .id_salt("route_from")
    .show(ui, |ui| {
        if ui
            .selectable_label(l.route_from.is_empty(), "Every Sonnet and Opus model")
            .clicked()
        {
            l.route_from.clear();
            changed = true;
        }
        for m in &table_models {
            let mut on = l.route_from.contains(m);
            if ui.checkbox(&mut on, m).changed() {
                if on {
                    l.route_from.push(m.clone());
                } else {
                    l.route_from.retain(|x| x != m);
                }
                changed = true;
            }
        }
    });

    ui.separator();
    ui.label(RichText::new("Batch API").strong());
    changed |= plain_share(
        ui,
        "Moved to batch",
        &mut l.batch_share,
        "That share of non-batch usage moves to the Batch API, which costs 50% on every token category",
    );
    ui.label(
        RichText::new(format!(
            "    observed: {:.1}% of tokens already batch",
            100.0 * obs.batch_share
        ))
        .small()
        .weak(),
    );

    ui.separator();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!l.is_neutral(), egui::Button::new("Reset all levers"))
            .on_hover_text("Ctrl+R")
            .clicked()
        {
            *l = Levers::default();
            changed = true;
        }
    });
    ui.label(RichText::new("Presets").strong());
    ui.horizontal_wrapped(|ui| {
        for (name, help, preset) in presets() {
            if ui.button(name).on_hover_text(help).clicked() {
                *l = preset;
                changed = true;
            }
        }
    });
    if let Err(e) = app.pipeline.resolved() {
        ui.colored_label(ui.visuals().error_fg_color, e.to_string());
    }
    ui.separator();
    ui.label(RichText::new(format!(
        "Scenario {} · saving {} ({})",
        money::usd(app.pipeline.evaluation().scenario),
        money::usd(app.pipeline.evaluation().savings()),
        money::pct(app.pipeline.evaluation().savings_pct())
    )));
    if changed {
        app.push(Cmd::LeversChanged);
    }
}
