//! The dashboard: summary cards, the cost chart, the per-lever waterfall and the breakdown
//! table, with filters on the left and the what-if levers on the right.

use super::{Cmd, CostlensApp, levers};
use crate::render::chart::{ChartStyle, savings_chart, series_color};
use costlens::domain::money;
use costlens::domain::time::Period;
use costlens::engine::view::Dimension;
use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Plot};

pub fn show(app: &mut CostlensApp, ui: &mut Ui) {
    egui::Panel::left("filters")
        .resizable(true)
        .default_size(210.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| filters(app, ui));
        });
    egui::Panel::right("levers")
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| levers::show(app, ui));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            if app.pipeline.view().rows == 0 && app.pipeline.view().periods.is_empty() {
                empty_state(app, ui);
                return;
            }
            cards(app, ui);
            ui.add_space(6.0);
            chart_controls(app, ui);
            savings_chart(
                ui,
                &app.chart,
                ChartStyle {
                    cumulative: app.settings.cumulative,
                    interactive: true,
                    height: 340.0,
                },
            );
            ui.add_space(8.0);
            ui.columns(2, |cols| {
                waterfall(app, &mut cols[0]);
                breakdown(app, &mut cols[1]);
            });
        });
    });
}

fn empty_state(app: &mut CostlensApp, ui: &mut Ui) {
    ui.vertical_centered(|ui| {
        ui.add_space(80.0);
        ui.heading("No usage in this selection");
        ui.label("Open a Console usage export, an Admin API report, your request logs or Claude Code's logs.");
        ui.add_space(8.0);
        if ui.button("Open files…").clicked() {
            app.push(Cmd::OpenFiles);
        }
        if ui.button("Clear filters").clicked() {
            app.settings.spec.filter = Default::default();
            app.push(Cmd::ViewChanged);
        }
    });
}

/// A card: a small caption over a large figure, with the exact figure in the tooltip.
struct Card {
    caption: String,
    value: String,
    sub: String,
    exact: String,
}

const CARD_WIDTH: f32 = 168.0;

/// Lays cards out in as many rows as the width needs.
fn card_rows(ui: &mut Ui, cards: Vec<Card>) {
    let per_row = ((ui.available_width() / (CARD_WIDTH + 30.0)).floor() as usize).max(1);
    for row in cards.chunks(per_row) {
        ui.horizontal(|ui| {
            for c in row {
                card_ui(ui, c);
            }
        });
    }
}

fn card_ui(ui: &mut Ui, c: &Card) {
    let (caption, value, sub, exact) = (&c.caption, &c.value, &c.sub, &c.exact);
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            ui.set_width(CARD_WIDTH);
            ui.vertical(|ui| {
                ui.label(RichText::new(caption).small().weak());
                let r = ui.label(RichText::new(value).size(22.0).strong());
                // Screen readers (and the UI tests) read the figure with its caption.
                r.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::accesskit::Role::Label,
                        true,
                        format!("{caption}: {value}"),
                    )
                });
                r.on_hover_text(exact);
                if !sub.is_empty() {
                    ui.label(RichText::new(sub).small());
                }
            });
        });
}

fn cards(app: &mut CostlensApp, ui: &mut Ui) {
    let ev = app.pipeline.evaluation();
    let obs = app.pipeline.view().observed;
    let mut cards = Vec::new();
    let mut card = |caption: &str, value: String, sub: String, exact: String| {
        cards.push(Card {
            caption: caption.to_owned(),
            value,
            sub,
            exact,
        });
    };
    let unpriced = app.pipeline.view().nothing_priced();
    // Nothing priced: the figures are unknown, not $0.
    let usd = |v: f64| {
        if unpriced {
            "Unpriced".to_owned()
        } else {
            money::usd(v)
        }
    };
    {
        card(
            "Actual (recomputed)",
            usd(ev.actual),
            if app.pipeline.view().requests > 0 {
                format!(
                    "{} requests · {} tokens",
                    money::compact(app.pipeline.view().requests as f64),
                    money::compact(app.pipeline.view().tokens.total() as f64)
                )
            } else {
                format!(
                    "{} tokens",
                    money::compact(app.pipeline.view().tokens.total() as f64)
                )
            },
            money::usd_exact(ev.actual),
        );
        card(
            "Scenario",
            usd(ev.scenario),
            if app.settings.levers.is_neutral() {
                "no levers moved".into()
            } else {
                "with the levers on the right".into()
            },
            money::usd_exact(ev.scenario),
        );
        let saving = ev.savings();
        card(
            if saving >= 0.0 {
                "Saving"
            } else {
                "Extra cost"
            },
            usd(saving.abs()),
            if unpriced {
                "no model in this selection has a price".to_owned()
            } else {
                money::pct(ev.savings_pct().abs())
            },
            money::usd_exact(saving),
        );
        if let Some(billed) = app.chart.billed_total {
            let diff = ev.actual - billed;
            card(
                "Billed (cost export)",
                money::usd(billed),
                format!("recomputed differs by {}", money::usd(diff)),
                format!(
                    "billed {} · recomputed − billed = {}",
                    money::usd_exact(billed),
                    money::usd_exact(diff)
                ),
            );
        }
        if let Some(rep) = app
            .pipeline
            .view()
            .reported
            .as_ref()
            .map(|r| r.iter().sum::<f64>())
        {
            card(
                "Reported by logs (costUSD)",
                money::usd(rep),
                format!("recomputed differs by {}", money::usd(ev.actual - rep)),
                money::usd_exact(rep),
            );
        }
        card(
            "Cache",
            format!("{:.0}% hit", 100.0 * obs.cache_hit),
            format!("{:.0}% of input cacheable", 100.0 * obs.cache_share),
            format!(
                "cache reads / (writes + reads) = {:.2}%\n(writes + reads) / input = {:.2}%\n1h writes: {:.1}% of writes",
                100.0 * obs.cache_hit,
                100.0 * obs.cache_share,
                100.0 * obs.ttl_1h_share
            ),
        );
        card(
            "Batch",
            format!("{:.0}%", 100.0 * obs.batch_share),
            "of tokens on the Batch API".into(),
            format!("{:.2}% of tokens", 100.0 * obs.batch_share),
        );
        if let Some(f) = app.pipeline.forecast() {
            card(
                &format!("Forecast {}", f.month),
                money::usd(f.month_end),
                format!(
                    "{} so far · {}/day",
                    money::usd(f.to_date),
                    money::usd(f.daily_rate)
                ),
                format!(
                    "run rate of the last 7 days with data: {}/day",
                    money::usd_exact(f.daily_rate)
                ),
            );
        }
    }
    card_rows(ui, cards);
    if !app.pipeline.view().unpriced.is_empty() {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "Warning: {} model(s) have no price and are not in these totals: {}",
                    app.pipeline.view().unpriced.len(),
                    app.pipeline
                        .view()
                        .unpriced
                        .iter()
                        .map(|u| format!(
                            "{} ({} tokens)",
                            u.model,
                            money::compact(u.tokens as f64)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            if ui.button("Map to a price…").clicked() {
                app.show_report = true;
            }
        });
    }
}

fn chart_controls(app: &mut CostlensApp, ui: &mut Ui) {
    ui.horizontal(|ui| {
        ui.label("Per");
        let mut changed = false;
        for p in Period::ALL {
            changed |= ui
                .selectable_value(&mut app.settings.spec.period, p, p.key())
                .changed();
        }
        ui.separator();
        egui::ComboBox::new("dimension", "breakdown")
            .selected_text(app.settings.spec.dimension.label())
            .show_ui(ui, |ui| {
                for d in Dimension::ALL {
                    changed |= ui
                        .selectable_value(&mut app.settings.spec.dimension, d, d.label())
                        .changed();
                }
            });
        ui.separator();
        ui.checkbox(&mut app.settings.cumulative, "Cumulative");
        if changed {
            app.push(Cmd::ViewChanged);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Export PNG…").on_hover_text("Ctrl+E").clicked() {
                app.push(Cmd::ExportPng);
            }
            if ui
                .button("Export CSV…")
                .on_hover_text("Ctrl+Shift+E")
                .clicked()
            {
                app.push(Cmd::ExportCsv);
            }
        });
    });
}

fn waterfall(app: &CostlensApp, ui: &mut Ui) {
    ui.label(RichText::new("Saving by lever").strong());
    let ev = app.pipeline.evaluation();
    let mut bars = Vec::new();
    let mut level = ev.actual;
    bars.push(
        Bar::new(0.0, ev.actual)
            .name("Actual")
            .fill(series_color(0)),
    );
    for (i, (stage, saved)) in ev.waterfall.iter().enumerate() {
        let after = level - saved;
        let (lo, hi) = (after.min(level), after.max(level));
        let color = if *saved >= 0.0 {
            egui::Color32::from_rgb(40, 160, 80)
        } else {
            egui::Color32::from_rgb(220, 50, 47)
        };
        bars.push(
            Bar::new((i + 1) as f64, hi - lo)
                .base_offset(lo)
                .name(format!("{}: {}", stage.label(), money::usd_exact(*saved)))
                .fill(color),
        );
        level = after;
    }
    bars.push(
        Bar::new((ev.waterfall.len() + 1) as f64, ev.scenario)
            .name("Scenario")
            .fill(crate::render::chart::SCENARIO_COLOR),
    );
    // Short axis names; the full names and exact figures are in the hover text and the table.
    let names: Vec<&str> = std::iter::once("Actual")
        .chain(ev.waterfall.iter().map(|(s, _)| match s {
            costlens::engine::scenario::Stage::Traffic => "Traffic",
            costlens::engine::scenario::Stage::PromptLength => "Prompt",
            costlens::engine::scenario::Stage::OutputLength => "Output",
            costlens::engine::scenario::Stage::Caching => "Cache",
            costlens::engine::scenario::Stage::Routing => "Route",
            costlens::engine::scenario::Stage::Batch => "Batch",
        }))
        .chain(std::iter::once("Scenario"))
        .collect();
    // Bar names are drawn under the bars (axis labels would be thinned out at this width).
    let top = ev.actual.max(ev.scenario).max(1e-9);
    Plot::new("waterfall")
        .height(200.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .show_grid([false, true])
        .show_axes([false, true])
        .include_y(-0.08 * top)
        .include_y(top * 1.05)
        .y_axis_formatter(|m, _| {
            if m.value < 0.0 {
                String::new()
            } else {
                money::usd(m.value)
            }
        })
        .show(ui, |p| {
            p.bar_chart(
                BarChart::new("waterfall", bars)
                    .width(0.7)
                    .element_formatter(Box::new(|b, _| b.name.clone())),
            );
            for (i, n) in names.iter().enumerate() {
                p.text(
                    egui_plot::Text::new(*n, egui_plot::PlotPoint::new(i as f64, 0.0), *n)
                        .anchor(egui::Align2::CENTER_TOP),
                );
            }
        });
    egui::Grid::new("waterfall_table")
        .striped(true)
        .show(ui, |ui| {
            for (stage, saved) in &ev.waterfall {
                ui.label(stage.label());
                ui.label(money::usd(*saved))
                    .on_hover_text(money::usd_exact(*saved));
                ui.end_row();
            }
        });
}

fn breakdown(app: &mut CostlensApp, ui: &mut Ui) {
    let nd = app.pipeline.view().dims.len().max(1);
    let actual = app.pipeline.evaluation().actual_by_dim(nd);
    let scenario = app.pipeline.evaluation().scenario_by_dim(nd);
    ui.label(
        RichText::new(format!(
            "By {}",
            app.settings.spec.dimension.label().to_lowercase()
        ))
        .strong(),
    );
    egui::Grid::new("breakdown")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            ui.label(RichText::new(app.settings.spec.dimension.label()).weak());
            ui.label(RichText::new("Actual").weak());
            ui.label(RichText::new("Scenario").weak());
            ui.label(RichText::new("Saving").weak());
            ui.label(RichText::new("Tokens").weak());
            ui.end_row();
            for (i, name) in app.pipeline.view().dims.iter().enumerate() {
                ui.horizontal(|ui| {
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, series_color(i));
                    ui.label(name);
                });
                let (a, s) = (actual[i], scenario[i]);
                ui.label(money::usd(a)).on_hover_text(money::usd_exact(a));
                ui.label(money::usd(s)).on_hover_text(money::usd_exact(s));
                ui.label(money::usd(a - s))
                    .on_hover_text(money::usd_exact(a - s));
                let t = app
                    .pipeline
                    .view()
                    .dim_tokens
                    .get(i)
                    .copied()
                    .unwrap_or_default();
                ui.label(money::compact(t.total() as f64)).on_hover_text(format!(
                "uncached input {}\ncache write 5m {}\ncache write 1h {}\ncache read {}\noutput {}",
                money::count(t.uncached_input),
                money::count(t.cache_write_5m),
                money::count(t.cache_write_1h),
                money::count(t.cache_read),
                money::count(t.output)
            ));
                ui.end_row();
            }
        });
}

fn filters(app: &mut CostlensApp, ui: &mut Ui) {
    ui.heading("Filters");
    let mut changed = false;
    let range = app.choices.time_range;
    ui.label("Date range");
    if let Some((first, last)) = range {
        let last_day = Period::Day.start(last);
        let f = &mut app.settings.spec.filter;
        ui.horizontal_wrapped(|ui| {
            for (label, days) in [
                ("All", 0),
                ("Last 7 days", 7),
                ("Last 30 days", 30),
                ("Last 90 days", 90),
            ] {
                let from = (days > 0).then(|| last_day - (days - 1) * 86400);
                let selected = f.from == from && f.to.is_none();
                if ui.selectable_label(selected, label).clicked() {
                    f.from = from;
                    f.to = None;
                    changed = true;
                }
            }
        });
        let [from_text, to_text] = &mut app.date_text;
        changed |= date_field(ui, "From", from_text, &mut f.from, false);
        changed |= date_field(ui, "To", to_text, &mut f.to, true);
        if let (Some(from), Some(to)) = (f.from, f.to)
            && from >= to
        {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "From is after To: no days match",
            );
        }
        ui.label(
            RichText::new(format!(
                "Data: {} to {}",
                Period::Day.label(first),
                Period::Day.label(last)
            ))
            .small()
            .weak(),
        );
    }
    ui.separator();
    let choices = &app.choices;
    let (models, workspaces, keys) = (
        choices.models.clone(),
        choices.workspaces.clone(),
        choices.api_keys.clone(),
    );
    let f = &mut app.settings.spec.filter;
    changed |= checklist(ui, "Models", &models, &mut f.models);
    changed |= checklist(ui, "Workspaces", &workspaces, &mut f.workspaces);
    changed |= checklist(ui, "API keys", &keys, &mut f.api_keys);
    if ui.button("Clear filters").clicked() {
        *f = Default::default();
        changed = true;
    }
    if changed {
        app.push(Cmd::ViewChanged);
    }
}

/// A day typed as YYYY-MM-DD, both ends included: `from` is the start of the day, `to` (the
/// filter's exclusive end) the start of the next. Empty means open-ended. While the field is
/// not being edited it shows the filter (so the presets update it); an invalid entry is
/// flagged and not applied. Returns whether the filter changed.
fn date_field(
    ui: &mut Ui,
    label: &str,
    text: &mut String,
    bound: &mut Option<i64>,
    end: bool,
) -> bool {
    const DAY: i64 = 86_400;
    let mut changed = false;
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let resp = ui
            .add(
                egui::TextEdit::singleline(text)
                    .desired_width(96.0)
                    .hint_text("YYYY-MM-DD"),
            )
            .labelled_by(l.id)
            .on_hover_text(if end {
                "Last day included (UTC)"
            } else {
                "First day included (UTC)"
            });
        if !resp.has_focus() && !resp.lost_focus() {
            *text = bound
                .map(|t| Period::Day.label(if end { t - DAY } else { t }))
                .unwrap_or_default();
            return;
        }
        let parsed = if text.trim().is_empty() {
            Some(None)
        } else {
            Period::parse_day(text.trim()).map(|t| Some(t + if end { DAY } else { 0 }))
        };
        match parsed {
            Some(v) => {
                if v != *bound {
                    *bound = v;
                    changed = true;
                }
            }
            None => {
                ui.colored_label(ui.visuals().error_fg_color, "YYYY-MM-DD");
            }
        }
    });
    changed
}

/// A collapsible list of checkboxes; `selected` empty means "all".
fn checklist(ui: &mut Ui, title: &str, all: &[String], selected: &mut Vec<String>) -> bool {
    if all.is_empty() {
        return false;
    }
    let mut changed = false;
    egui::CollapsingHeader::new(format!(
        "{title} ({})",
        if selected.is_empty() {
            "all".to_owned()
        } else {
            selected.len().to_string()
        }
    ))
    .id_salt(title)
    .default_open(all.len() <= 6)
    .show(ui, |ui| {
        for name in all {
            let mut on = selected.is_empty() || selected.contains(name);
            if ui.checkbox(&mut on, name).changed() {
                if selected.is_empty() {
                    *selected = all.to_vec();
                }
                if on {
                    selected.push(name.clone());
                } else {
                    selected.retain(|s| s != name);
                }
                selected.sort();
                selected.dedup();
                if selected.len() == all.len() {
                    selected.clear();
                }
                changed = true;
            }
        }
    });
    changed
}
