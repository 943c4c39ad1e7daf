//! The dashboard: summary cards, the cost chart, the per-lever waterfall and the breakdown
//! table, with the filters on the left and the what-if levers on the right. Side panels are
//! resizable and can be hidden (Ctrl+[ and Ctrl+]); below 1,200 points they start narrower,
//! the toolbar wraps, and the waterfall and the table stack when the centre is narrow.

use super::{Action, Command, CostlensApp, levers, money_delta};
use crate::render::chart::{ChartStyle, SCENARIO_COLOR, savings_chart, series_color};
use costlens::domain::money;
use costlens::domain::time::{DAY, Period};
use costlens::engine::chart::readable_label;
use costlens::engine::view::Dimension;
use egui::{RichText, Ui};

/// The hour view is offered up to this many days (more hours are a smear, not a chart).
pub const HOUR_VIEW_MAX_DAYS: i64 = 14;

/// How the breakdown table is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortBy {
    Name,
    #[default]
    Actual,
    Scenario,
    Saving,
    Tokens,
}

/// The dashboard's own UI state.
#[derive(Debug)]
pub struct DashboardPanel {
    pub sort: SortBy,
    pub descending: bool,
    /// The opportunities list is open (it is computed when it is).
    pub opportunities: bool,
}

impl Default for DashboardPanel {
    fn default() -> Self {
        DashboardPanel {
            sort: SortBy::Actual,
            descending: true,
            opportunities: false,
        }
    }
}

/// The most opportunities listed.
pub const OPPORTUNITIES_SHOWN: usize = 8;

/// The most rows the table draws (the CSV export has them all).
pub const TABLE_ROWS: usize = 200;

pub fn show(app: &mut CostlensApp, ui: &mut Ui) {
    let width = ui.ctx().content_rect().width();
    let narrow = width < 1200.0;
    if app.settings.show_filters {
        egui::Panel::left("filters")
            .resizable(true)
            .default_size(if narrow { 180.0 } else { 220.0 })
            .min_size(150.0)
            .max_size((width * 0.3).max(160.0))
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let choices = app.choices.clone();
                    app.filters_panel
                        .ui(ui, &choices, &mut app.settings.spec.filter);
                });
            });
    }
    if app.settings.show_levers {
        egui::Panel::right("levers")
            .resizable(true)
            .default_size(if narrow { 300.0 } else { 360.0 })
            .min_size(250.0)
            .max_size((width * 0.42).max(260.0))
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| levers_panel(app, ui));
            });
    }
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            toolbar(app, ui);
            if app.pipeline.view().rows == 0 && app.chart.starts.is_empty() {
                empty_state(app, ui);
                return;
            }
            cards(app, ui);
            ui.add_space(4.0);
            let height = (ui.ctx().content_rect().height() * 0.45).clamp(220.0, 480.0);
            savings_chart(
                ui,
                &app.chart,
                ChartStyle {
                    cumulative: app.settings.cumulative,
                    interactive: true,
                    height,
                    reset: std::mem::take(&mut app.chart_reset),
                },
            );
            coverage_note(app, ui);
            history_note(app, ui);
            ui.add_space(8.0);
            let w = ui.available_width();
            if w >= 980.0 {
                // The table gets the larger part: it has six columns.
                let gap = 16.0;
                let left = ((w - gap) * 0.38).floor();
                ui.horizontal_top(|ui| {
                    ui.allocate_ui_with_layout(
                        egui::vec2(left, 0.0),
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
                            ui.set_width(left);
                            waterfall(app, ui);
                        },
                    );
                    ui.add_space(gap);
                    ui.vertical(|ui| breakdown(app, ui));
                });
            } else {
                waterfall(app, ui);
                ui.add_space(8.0);
                breakdown(app, ui);
            }
            ui.add_space(8.0);
            opportunities(app, ui);
        });
    });
}

/// What realistic lever settings would save per API key, workspace, project and model,
/// largest first, each one click from being the scenario. Computed when opened (a few view
/// builds), then kept for the view.
fn opportunities(app: &mut CostlensApp, ui: &mut Ui) {
    let r = egui::CollapsingHeader::new(RichText::new("Savings opportunities").strong())
        .id_salt("opportunities")
        .open(Some(app.dashboard.opportunities))
        .show(ui, |ui| {
            let list: Vec<_> = app
                .pipeline
                .opportunities()
                .iter()
                .take(OPPORTUNITIES_SHOWN)
                .cloned()
                .collect();
            if list.is_empty() {
                ui.label(
                    "Nothing found: no slice of this selection would save with the usual settings.",
                );
                return;
            }
            // One block each: the saving, Apply and the slice on a line, what the levers do
            // wrapped below (a grid of long sentences pushed the money out of sight).
            for (i, o) in list.iter().enumerate() {
                ui.horizontal(|ui| {
                    let (_, color, amount) = money_delta(ui, o.savings_usd);
                    ui.add_sized(
                        [84.0, ui.spacing().interact_size.y],
                        egui::Label::new(RichText::new(amount).color(color).strong()),
                    )
                    .on_hover_text(format!(
                        "saves {} of the slice's {}",
                        money::usd_exact(o.savings_usd),
                        money::usd_exact(o.actual_usd)
                    ));
                    if ui
                        .button("Apply")
                        .on_hover_text("Show this slice with these levers")
                        .clicked()
                    {
                        app.push(Action::ApplyOpportunity(i));
                    }
                    ui.label(format!("{} {}", o.dimension.label(), o.key));
                });
                ui.add(egui::Label::new(RichText::new(&o.detail).small().weak()).wrap());
                ui.add_space(2.0);
            }
        });
    if r.header_response.clicked() {
        app.dashboard.opportunities = !app.dashboard.opportunities;
    }
}

fn levers_panel(app: &mut CostlensApp, ui: &mut Ui) {
    let observed = app.pipeline.view().observed;
    let error = app.pipeline.resolved().err().map(|e| e.to_string());
    let models = app.choices.models.clone();
    let token_factor = app.pipeline.resolved().map_or(1.0, |r| r.token_factor);
    let cx = levers::LeverContext {
        observed,
        table: app.pipeline.table(),
        data_models: &models,
        evaluation: app.pipeline.evaluation(),
        error,
        route_targets: app.pipeline.route_targets(app.settings.route_any_target),
        any_target: &mut app.settings.route_any_target,
        token_factor,
        cache_notes: costlens::engine::report::CacheMinimum::of(app.pipeline.evaluation()).notes,
        budget_usd: &mut app.settings.budget_usd,
    };
    app.levers_panel.ui(ui, &mut app.settings.levers, cx);
}

fn empty_state(app: &mut CostlensApp, ui: &mut Ui) {
    ui.vertical_centered(|ui| {
        ui.add_space(60.0);
        let filtered = app.settings.spec.filter != Default::default();
        if filtered {
            ui.heading("No usage in this selection");
            ui.label("The filters on the left leave nothing: widen the dates or clear them.");
            ui.add_space(8.0);
            if ui.button("Clear filters").clicked() {
                app.settings.spec.filter = Default::default();
            }
        } else {
            ui.heading("No usage loaded");
            ui.label("Open a Console usage or cost export, an Admin API report, your request logs or Claude Code's logs.");
            ui.add_space(8.0);
            if ui.button("Open files…").clicked() {
                app.push(Action::Run(Command::OpenFiles));
            }
            if ui.button("Open Claude Code logs").clicked() {
                app.push(Action::Run(Command::OpenClaudeCode));
            }
        }
    });
}

/// A card: a caption over a large figure, with the exact figure in the tooltip.
struct Card {
    caption: String,
    value: String,
    sub: String,
    exact: String,
    color: Option<egui::Color32>,
}

/// Lays cards out in as many rows as the width needs; in a narrow centre they are compact
/// (the chart must stay above the fold at 1000×700).
fn card_rows(ui: &mut Ui, cards: Vec<Card>) {
    let avail = ui.available_width();
    let compact = avail < 800.0;
    let margin = if compact { 6.0 } else { 10.0 };
    let gap = ui.spacing().item_spacing.x + 2.0 * margin + 2.0;
    let min = if compact { 112.0 } else { 150.0 };
    let per_row = ((avail / (min + gap)).floor() as usize).clamp(1, cards.len().max(1));
    let width = ((avail / per_row as f32) - gap).clamp(min, 220.0);
    for row in cards.chunks(per_row) {
        ui.horizontal(|ui| {
            for c in row {
                card_ui(ui, c, width, compact);
            }
        });
    }
}

fn card_ui(ui: &mut Ui, c: &Card, width: f32, compact: bool) {
    let (margin, big, small) = if compact {
        (6, 17.0, 11.5)
    } else {
        (10, 21.0, 12.0)
    };
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::same(margin))
        .show(ui, |ui| {
            ui.set_width(width);
            ui.spacing_mut().item_spacing.y = if compact { 1.0 } else { 3.0 };
            ui.vertical(|ui| {
                ui.add(egui::Label::new(RichText::new(&c.caption).size(small + 0.5)).truncate());
                let mut value = RichText::new(&c.value).size(big).strong();
                if let Some(col) = c.color {
                    value = value.color(col);
                }
                let r = ui.label(value);
                // Screen readers (and the UI tests) read the figure with its caption.
                r.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::accesskit::Role::Label,
                        true,
                        format!("{}: {}", c.caption, c.value),
                    )
                });
                r.on_hover_text(&c.exact);
                if !c.sub.is_empty() {
                    ui.add(egui::Label::new(RichText::new(&c.sub).size(small)).truncate())
                        .on_hover_text(&c.sub);
                }
            });
        });
}

fn cards(app: &mut CostlensApp, ui: &mut Ui) {
    let ev = app.pipeline.evaluation();
    let view = app.pipeline.view();
    let obs = view.observed;
    let mut cards = Vec::new();
    let unpriced = view.nothing_priced();
    // Nothing priced: the figures are unknown, not $0.
    let usd = |v: f64| {
        if unpriced {
            "Unpriced".to_owned()
        } else {
            money::usd(v)
        }
    };
    cards.push(Card {
        caption: "Actual (recomputed)".into(),
        value: usd(ev.actual),
        sub: if view.requests > 0 {
            format!(
                "{} requests · {} tokens",
                money::compact(view.requests as f64),
                money::compact(view.tokens.total() as f64)
            )
        } else {
            format!("{} tokens", money::compact(view.tokens.total() as f64))
        },
        exact: money::usd_exact(ev.actual),
        color: None,
    });
    cards.push(Card {
        caption: "Scenario".into(),
        value: usd(ev.scenario),
        sub: if app.settings.levers.is_neutral() {
            "no levers moved".into()
        } else {
            "with the levers on the right".into()
        },
        exact: money::usd_exact(ev.scenario),
        color: None,
    });
    let (word, color, _) = money_delta(ui, ev.savings());
    let (_, amount) = money::saving_or_extra(ev.savings());
    cards.push(Card {
        caption: word.into(),
        value: usd(amount),
        sub: if unpriced {
            "no model in this selection has a price".to_owned()
        } else {
            format!("{} of actual", money::pct(ev.savings_pct().abs()))
        },
        exact: format!("actual − scenario = {}", money::usd_exact(ev.savings())),
        color: (!unpriced && ev.savings() != 0.0).then_some(color),
    });
    if let Some(billed) = app.chart.billed_total {
        let diff = ev.actual - billed;
        cards.push(Card {
            caption: "Billed (cost export)".into(),
            value: money::usd(billed),
            sub: format!("recomputed differs by {}", money::usd(diff)),
            exact: format!(
                "billed {} · recomputed − billed = {}",
                money::usd_exact(billed),
                money::usd_exact(diff)
            ),
            color: None,
        });
    }
    if let Some(rep) = view.reported.as_ref().map(|r| r.iter().sum::<f64>()) {
        cards.push(Card {
            caption: "Reported by logs (costUSD)".into(),
            value: money::usd(rep),
            // Logs give costUSD on some lines only (older Claude Code versions): the sums are
            // only compared when every request of the view carries one.
            sub: if view.reported_requests >= view.requests {
                format!("recomputed differs by {}", money::usd(ev.actual - rep))
            } else {
                format!(
                    "on {} of {} requests only",
                    money::count(view.reported_requests),
                    money::count(view.requests)
                )
            },
            exact: if view.reported_requests >= view.requests {
                money::usd_exact(rep)
            } else {
                format!(
                    "{}: the sum of costUSD over the {} requests that give one; the other {} carry none, so it is not compared with the recomputed cost",
                    money::usd_exact(rep),
                    money::count(view.reported_requests),
                    money::count(view.requests - view.reported_requests)
                )
            },
            color: None,
        });
    }
    cards.push(Card {
        caption: "Cache".into(),
        value: format!("{:.0}% hit", 100.0 * obs.cache_hit),
        sub: format!("{:.0}% of input cacheable", 100.0 * obs.cache_share),
        exact: format!(
            "cache reads / (writes + reads) = {:.2}%\n(writes + reads) / input = {:.2}%\n1h writes: {:.1}% of writes",
            100.0 * obs.cache_hit,
            100.0 * obs.cache_share,
            100.0 * obs.ttl_1h_share
        ),
        color: None,
    });
    cards.push(Card {
        caption: "Batch".into(),
        value: format!("{:.0}%", 100.0 * obs.batch_share),
        sub: "of tokens on the Batch API".into(),
        exact: format!("{:.2}% of tokens", 100.0 * obs.batch_share),
        color: None,
    });
    if let Some(f) = app.pipeline.forecast() {
        cards.push(if f.complete {
            Card {
                caption: format!("Month {}", f.month),
                value: money::usd(f.to_date),
                sub: "month over: not projected".into(),
                exact: f.method.clone(),
                color: None,
            }
        } else {
            // A month that ended before today is an estimate of the days the data misses.
            let (caption, seen, end) = if f.past {
                ("Estimated", "in data", "month (estimated)")
            } else {
                ("Forecast", "so far", "month end")
            };
            Card {
                caption: format!("{caption} {}", f.month),
                value: money::usd(f.month_end),
                sub: format!(
                    "{} {seen} · {}/day",
                    money::usd(f.to_date),
                    money::usd(f.daily_rate)
                ),
                exact: format!("{}\n{end}: {}", f.method, money::usd_exact(f.month_end)),
                color: None,
            }
        });
    }
    if let Some(b) = app.pipeline.budget() {
        let over = b.exceeds_on.is_some();
        cards.push(Card {
            caption: format!("Budget {}", b.month),
            value: money::usd(b.monthly_usd),
            sub: match &b.exceeds_on {
                Some(d) => format!("passed on {d}"),
                None => format!(
                    "{} left at month end",
                    money::usd(b.monthly_usd - b.forecast_usd)
                ),
            },
            exact: format!(
                "spent {} · forecast {} · budget {}",
                money::usd_exact(b.spent_usd),
                money::usd_exact(b.forecast_usd),
                money::usd_exact(b.monthly_usd)
            ),
            color: over.then(|| ui.visuals().error_fg_color),
        });
    }
    card_rows(ui, cards);
    let unpriced = &app.pipeline.view().unpriced;
    if !unpriced.is_empty() {
        let text = format!(
            "{} no price and {} not in these totals: {}",
            money::plural(unpriced.len(), "model has"),
            if unpriced.len() == 1 { "is" } else { "are" },
            unpriced
                .iter()
                .map(|u| format!("{} ({} tokens)", u.model, money::compact(u.tokens as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .replace("models has", "models have");
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {text}"));
            if ui.button("Map to a price…").clicked() {
                app.show_report = true;
            }
        });
    }
}

/// Whether the hour view can be offered, and if not, why.
pub fn hour_view(app: &CostlensApp) -> Result<(), String> {
    if !app.choices.hourly {
        return Err("This data has daily figures only".into());
    }
    let f = &app.settings.spec.filter;
    let Some((first, last)) = app.choices.time_range else {
        return Err("No dated usage".into());
    };
    let from = f.from.unwrap_or(first).max(first);
    let to = f.to.unwrap_or(last + DAY).min(last + DAY);
    let days = (to - from + DAY - 1) / DAY;
    if days > HOUR_VIEW_MAX_DAYS {
        return Err(format!(
            "Hours are shown for up to {HOUR_VIEW_MAX_DAYS} days: pick a shorter date range ({days} days now)"
        ));
    }
    Ok(())
}

fn toolbar(app: &mut CostlensApp, ui: &mut Ui) {
    let hour = hour_view(app);
    if hour.is_err() && app.settings.spec.period == Period::Hour {
        app.settings.spec.period = Period::Day;
    }
    ui.horizontal_wrapped(|ui| {
        for (on, c) in [
            (app.settings.show_filters, Command::ToggleFilters),
            (app.settings.show_levers, Command::ToggleLevers),
        ] {
            let label = if c == Command::ToggleFilters {
                "Filters"
            } else {
                "What if"
            };
            if ui
                .selectable_label(on, label)
                .on_hover_text(format!("{} ({})", c.help(), c.shortcut_text(ui.ctx())))
                .clicked()
            {
                app.push(Action::Run(c));
            }
        }
        ui.separator();
        ui.label("Per");
        for p in Period::ALL {
            let enabled = p != Period::Hour || hour.is_ok();
            let r = ui.add_enabled(
                enabled,
                egui::Button::selectable(app.settings.spec.period == p, p.key()),
            );
            let r = match (&hour, p) {
                (Err(why), Period::Hour) => r.on_disabled_hover_text(why),
                _ => r,
            };
            if r.clicked() {
                app.settings.spec.period = p;
            }
        }
        ui.separator();
        egui::ComboBox::new("dimension", "by")
            .selected_text(app.settings.spec.dimension.label())
            .show_ui(ui, |ui| {
                for d in Dimension::ALL {
                    // The machine breakdown only means something with several machines.
                    if d == Dimension::Machine
                        && app.choices.machines.len() < 2
                        && app.settings.spec.dimension != d
                    {
                        continue;
                    }
                    ui.selectable_value(&mut app.settings.spec.dimension, d, d.label());
                }
            });
        ui.separator();
        let c = Command::ToggleCumulative;
        ui.checkbox(&mut app.settings.cumulative, "Cumulative")
            .on_hover_text(format!("{} ({})", c.help(), c.shortcut_text(ui.ctx())));
        let c = Command::ResetChartView;
        if ui
            .button("Reset view")
            .on_hover_text(format!(
                "{} ({}, or double-click the chart)",
                c.help(),
                c.shortcut_text(ui.ctx())
            ))
            .clicked()
        {
            app.push(Action::Run(c));
        }
        ui.separator();
        for c in [Command::ExportPng, Command::ExportCsv] {
            let label = if c == Command::ExportPng {
                "Export PNG…"
            } else {
                "Export CSV…"
            };
            if ui
                .button(label)
                .on_hover_text(format!("{} ({})", c.help(), c.shortcut_text(ui.ctx())))
                .clicked()
            {
                app.push(Action::Run(c));
            }
        }
    });
    ui.add_space(4.0);
}

/// Says where the chart has gaps (no file covers them) and where the bill ends.
fn coverage_note(app: &CostlensApp, ui: &mut Ui) {
    let c = &app.chart;
    let gaps = (0..c.starts.len()).filter(|&i| !c.usage_covers(i)).count();
    let mut notes = Vec::new();
    if gaps > 0 {
        notes.push(format!(
            "{} without usage data left blank (no file covers {})",
            money::plural(gaps, c.period.key()),
            if gaps == 1 { "it" } else { "them" }
        ));
    }
    if c.billed.is_some() {
        let billed: Vec<usize> = (0..c.starts.len())
            .filter(|&i| c.billed_covers(i))
            .collect();
        if let (Some(&a), Some(&b)) = (billed.first(), billed.last())
            && (a > 0 || b + 1 < c.starts.len())
        {
            notes.push(format!(
                "the cost export covers {} to {}",
                c.period.label(c.starts[a]),
                c.period.label(c.starts[b])
            ));
        }
    }
    if !notes.is_empty() {
        let mut s = notes.join("; ");
        if let Some(f) = s.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        ui.label(RichText::new(s).small());
    }
}

/// Requests only the usage history still has (their logs deleted since), with the switch.
fn history_note(app: &mut CostlensApp, ui: &mut Ui) {
    // Cloned only when there is something to say (the closure below needs `app` mutably).
    let Some(h) = (app.pipeline.data().history.as_ref())
        .filter(|h| h.requests_from_deleted_logs > 0)
        .cloned()
    else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "Including {} from deleted logs, kept in the usage history",
                money::plural(h.requests_from_deleted_logs as usize, "request")
            ))
            .small(),
        )
        .on_hover_text(h.summary());
        if ui
            .small_button("Leave them out")
            .on_hover_text(
                "Import again without the usage history (the import report turns it back on)",
            )
            .clicked()
        {
            app.settings.keep_history = false;
            app.push(Action::Reimport);
        }
    });
}

/// The per-lever waterfall as rows: each lever's step from the actual cost to the scenario
/// as a floating bar on one scale, with its amount; a saving in green, an extra cost in red.
fn waterfall(app: &CostlensApp, ui: &mut Ui) {
    ui.label(RichText::new("Actual to scenario, lever by lever").strong());
    let ev = app.pipeline.evaluation();
    let moved: Vec<_> = ev.waterfall.iter().filter(|(_, s)| *s != 0.0).collect();
    let mut level = ev.actual;
    let mut rows: Vec<(String, f64, f64, Option<f64>)> =
        vec![("Actual".into(), 0.0, ev.actual, None)];
    for (stage, saved) in &moved {
        let after = level - saved;
        rows.push((
            stage.label().to_owned(),
            after.min(level),
            after.max(level),
            Some(*saved),
        ));
        level = after;
    }
    rows.push(("Scenario".into(), 0.0, ev.scenario, None));
    let top = rows.iter().map(|r| r.2).fold(0.0f64, f64::max).max(1e-9);
    let label_w = 150.0f32.min(ui.available_width() * 0.35);
    let amount_w = 96.0;
    let bar_w = (ui.available_width() - label_w - amount_w - 16.0).max(40.0);
    let row_h = 22.0;
    let green = money_delta(ui, 1.0).1;
    for (name, lo, hi, saved) in &rows {
        let (rect, resp) = ui.allocate_exact_size(
            egui::vec2(label_w + bar_w + amount_w + 16.0, row_h),
            egui::Sense::hover(),
        );
        let p = ui.painter_at(rect);
        let text = ui.visuals().text_color();
        p.text(
            rect.left_center(),
            egui::Align2::LEFT_CENTER,
            name,
            egui::FontId::proportional(13.0),
            text,
        );
        let x0 = rect.left() + label_w + 8.0;
        let sx = |v: f64| x0 + (v / top) as f32 * bar_w;
        let color = match saved {
            None if name == "Actual" => series_color(0),
            None => SCENARIO_COLOR,
            Some(s) if *s >= 0.0 => green,
            Some(_) => ui.visuals().error_fg_color,
        };
        let bar = egui::Rect::from_min_max(
            egui::pos2(sx(*lo), rect.top() + 4.0),
            egui::pos2(sx(*hi).max(sx(*lo) + 1.5), rect.bottom() - 4.0),
        );
        p.rect_filled(bar, 2.0, color);
        let amount = match saved {
            None => money::usd(*hi),
            Some(s) if *s >= 0.0 => format!("−{}", money::usd(*s)),
            Some(s) => format!("+{}", money::usd(-s)),
        };
        p.text(
            egui::pos2(rect.right(), rect.center().y),
            egui::Align2::RIGHT_CENTER,
            &amount,
            egui::FontId::proportional(13.0),
            if saved.is_some() { color } else { text },
        );
        resp.on_hover_text(match saved {
            None => format!("{name}: {}", money::usd_exact(*hi)),
            Some(s) => {
                let (word, a) = money::saving_or_extra(*s);
                format!("{name}: {word} {}", money::usd_exact(a))
            }
        });
    }
    if moved.is_empty() {
        ui.label(
            RichText::new("Move a lever on the right to see what each one saves or adds.").small(),
        );
    }
}

/// One row of the breakdown table.
struct Row {
    /// The value a filter on it takes (`None`: not filterable).
    filter: Option<String>,
    label: String,
    color: usize,
    actual: f64,
    scenario: f64,
    /// The part of `scenario` priced on the routing target.
    routed: f64,
    tokens: costlens::domain::records::Tokens<u64>,
}

fn breakdown(app: &mut CostlensApp, ui: &mut Ui) {
    let dim = app.settings.spec.dimension;
    let view = app.pipeline.view();
    let nd = view.dims.len().max(1);
    let actual = app.pipeline.evaluation().actual_by_dim(nd);
    let scenario = app.pipeline.evaluation().scenario_by_dim(nd);
    let filterable = !matches!(dim, Dimension::Category | Dimension::Tier);
    let mut rows: Vec<Row> = view
        .dims
        .iter()
        .enumerate()
        .map(|(i, raw)| Row {
            filter: (filterable && raw != "(none)").then(|| match dim {
                Dimension::Source => app
                    .choices
                    .sources
                    .iter()
                    .find(|s| &s.1 == raw)
                    .map_or_else(|| raw.clone(), |s| s.0.clone()),
                _ => raw.clone(),
            }),
            label: readable_label(dim, raw),
            color: i,
            actual: actual.get(i).copied().unwrap_or(0.0),
            scenario: scenario.get(i).copied().unwrap_or(0.0),
            routed: app
                .pipeline
                .evaluation()
                .routed_by_dim
                .get(i)
                .copied()
                .unwrap_or(0.0),
            tokens: view.dim_tokens.get(i).copied().unwrap_or_default(),
        })
        .collect();
    let (sort, desc) = (app.dashboard.sort, app.dashboard.descending);
    rows.sort_by(|a, b| {
        let o = match sort {
            SortBy::Name => a.label.to_lowercase().cmp(&b.label.to_lowercase()),
            SortBy::Actual => a.actual.total_cmp(&b.actual),
            SortBy::Scenario => a.scenario.total_cmp(&b.scenario),
            SortBy::Saving => (a.actual - a.scenario).total_cmp(&(b.actual - b.scenario)),
            SortBy::Tokens => a.tokens.total().cmp(&b.tokens.total()),
        };
        if desc { o.reverse() } else { o }
    });
    let total_actual: f64 = rows.iter().map(|r| r.actual).sum();
    let total_scenario: f64 = rows.iter().map(|r| r.scenario).sum();
    let total_tokens: u64 = rows.iter().map(|r| r.tokens.total()).sum();
    let total_routed: f64 = rows.iter().map(|r| r.routed).sum();
    let any_routed = total_routed != 0.0;
    let target = {
        let t = app.pipeline.table();
        let l = &app.settings.levers;
        let i = if l.route_to.is_empty() {
            t.default_route_target()
        } else {
            t.lookup(&l.route_to)
        };
        i.map_or_else(
            || l.route_to.clone(),
            |i| t.model(i).display_name().to_owned(),
        )
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("By {}", dim.label().to_lowercase())).strong());
        if filterable {
            ui.label(RichText::new("click a name to show only it").small());
        }
    });
    let mut clicked: Option<String> = None;
    let mut sort_to: Option<SortBy> = None;
    let shown = rows.len().min(TABLE_ROWS);
    egui::ScrollArea::horizontal().id_salt("breakdown_scroll").show(ui, |ui| {
        egui::Grid::new("breakdown")
            .striped(true)
            .num_columns(if any_routed { 7 } else { 6 })
            .show(ui, |ui| {
                let mut headers = vec![
                    (SortBy::Name, dim.label()),
                    (SortBy::Actual, "Actual"),
                    (SortBy::Actual, "Share"),
                    (SortBy::Scenario, "Scenario"),
                ];
                if any_routed {
                    headers.push((SortBy::Scenario, "of it routed"));
                }
                headers.extend([(SortBy::Saving, "Saving"), (SortBy::Tokens, "Tokens")]);
                for (col, name) in headers {
                    let arrow = if sort == col && name != "Share" && name != "of it routed" {
                        if desc { " ⏷" } else { " ⏶" }
                    } else {
                        ""
                    };
                    if ui
                        .add(egui::Button::new(RichText::new(format!("{name}{arrow}")).strong()).frame(false))
                        .on_hover_text("Sort by this column (again: reverse)")
                        .clicked()
                    {
                        sort_to = Some(col);
                    }
                }
                ui.end_row();
                for r in &rows[..shown] {
                    ui.horizontal(|ui| {
                        let (rect, _) =
                            ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                        ui.painter().rect_filled(rect, 2.0, series_color(r.color));
                        match &r.filter {
                            Some(v) => {
                                if ui
                                    .link(&r.label)
                                    .on_hover_text(format!("Show only {}", r.label))
                                    .clicked()
                                {
                                    clicked = Some(v.clone());
                                }
                            }
                            None => {
                                ui.label(&r.label);
                            }
                        }
                    });
                    money_cell(ui, r.actual);
                    right(ui, |ui| {
                        ui.label(share(r.actual, total_actual));
                    });
                    money_cell(ui, r.scenario);
                    if any_routed {
                        right(ui, |ui| {
                            if r.routed != 0.0 {
                                ui.label(money::usd(r.routed)).on_hover_text(format!(
                                    "{} of this row's scenario is its routed work, priced on {target}",
                                    money::usd_exact(r.routed)
                                ));
                            }
                        });
                    }
                    saving_cell(ui, r.actual - r.scenario);
                    let t = r.tokens;
                    ui.horizontal(|ui| {
                        ui.label(money::compact(t.total() as f64)).on_hover_text(format!(
                            "uncached input {}\ncache write 5m {}\ncache write 1h {}\ncache read {}\noutput {}",
                            money::count(t.uncached_input),
                            money::count(t.cache_write_5m),
                            money::count(t.cache_write_1h),
                            money::count(t.cache_read),
                            money::count(t.output)
                        ));
                    });
                    ui.end_row();
                }
                ui.label(RichText::new(format!("Total ({})", rows.len())).strong());
                money_cell(ui, total_actual);
                right(ui, |ui| {
                    ui.label(if total_actual > 0.0 { "100%" } else { "" });
                });
                money_cell(ui, total_scenario);
                if any_routed {
                    money_cell(ui, total_routed);
                }
                saving_cell(ui, total_actual - total_scenario);
                ui.label(money::compact(total_tokens as f64))
                    .on_hover_text(money::count(total_tokens));
                ui.end_row();
            });
    });
    if rows.len() > shown {
        ui.label(
            RichText::new(format!(
                "The {shown} largest of {} are shown; Export CSV has every row.",
                rows.len()
            ))
            .small(),
        );
    }
    if let Some(col) = sort_to {
        if app.dashboard.sort == col {
            app.dashboard.descending = !app.dashboard.descending;
        } else {
            app.dashboard.sort = col;
            app.dashboard.descending = col != SortBy::Name;
        }
    }
    if let Some(v) = clicked {
        app.push(Action::FilterTo(dim, v));
    }
}

fn share(v: f64, total: f64) -> String {
    if total > 0.0 {
        money::pct(100.0 * v / total)
    } else {
        String::new()
    }
}

fn right(ui: &mut Ui, add: impl FnOnce(&mut Ui)) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), add);
}

fn money_cell(ui: &mut Ui, v: f64) {
    right(ui, |ui| {
        ui.label(money::usd(v)).on_hover_text(money::usd_exact(v));
    });
}

/// A saving in green, an extra cost in red and said (never a saving with a minus sign).
fn saving_cell(ui: &mut Ui, saving: f64) {
    let (word, color, amount) = money_delta(ui, saving);
    right(ui, |ui| {
        let text = if saving < 0.0 {
            format!("{amount} extra")
        } else {
            amount
        };
        let r = if saving == 0.0 {
            ui.label(text)
        } else {
            ui.colored_label(color, text)
        };
        r.on_hover_text(format!("{word} {}", money::usd_exact(saving.abs())));
    });
}
