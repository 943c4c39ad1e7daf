//! The what-if panel: every lever of what-if.md with its neutral value, the observed value
//! beside it, a reset per lever and for all, and presets that start from what is observed.
//! Sliders take the panel's width; each shows its value in a box that can be typed in, steps
//! with the keyboard (focus it, arrow keys) or the − / + buttons (1% of the value), and a value typed
//! out of range is refused with a word, not clamped silently.

use super::money_delta;
use costlens::domain::money;
use costlens::domain::prices::PriceTable;
use costlens::engine::cube::prompt_length_grid;
use costlens::engine::scenario::{
    Levers, Observed, RouteTarget, SCALE_RANGE, TOKEN_FACTOR_RANGE, Ttl,
};
use costlens::engine::view::Evaluation;
use egui::{RichText, Ui};

/// Named starting points, relative to what the data shows: a caching preset never assumes less
/// caching than there is (it once set fixed values below the sample's own, and raised its bill
/// by 15.5%).
pub fn presets(obs: &Observed) -> Vec<(&'static str, String, Levers)> {
    vec![
        (
            "Cache the system prompt",
            format!(
                "Half of the input not cached today becomes a cached prefix, read at the observed hit rate ({:.1}%); caching there is today is kept, row by row",
                100.0 * obs.cache_hit
            ),
            Levers {
                cache_more: 0.5,
                ..Levers::default()
            },
        ),
        (
            "Easy work to Haiku",
            "30% of Sonnet and Opus usage priced as Claude Haiku 4.5".into(),
            Levers {
                route_share: 0.3,
                ..Levers::default()
            },
        ),
        (
            "Batch what can wait",
            "Half of non-batch usage moved to the Batch API (50% off)".into(),
            Levers {
                batch_share: 0.5,
                ..Levers::default()
            },
        ),
        (
            "Twice the traffic",
            "Twice the requests, same prompts".into(),
            Levers {
                traffic: 2.0,
                ..Levers::default()
            },
        ),
    ]
}

/// Snaps to the nearest grid value (the cube is exact at these prompt lengths).
pub fn snap(v: f64, grid: &[f64]) -> f64 {
    grid.iter()
        .copied()
        .chain([1.0])
        .min_by(|a, b| (a - v).abs().total_cmp(&(b - v).abs()))
        .unwrap_or(v)
}

/// The panel's own state.
#[derive(Debug, Default)]
pub struct LeversPanel {
    /// A value typed out of range, said until the next change.
    pub refused: Option<String>,
}

/// What the panel needs to know of the data.
pub struct LeverContext<'a> {
    pub observed: Observed,
    pub table: &'a PriceTable,
    /// Models in the data (display names).
    pub data_models: &'a [String],
    pub evaluation: &'a Evaluation,
    pub error: Option<String>,
    pub any_target: &'a mut bool,
    /// Models routing can target, cheapest per text first (the engine's list).
    pub route_targets: Vec<RouteTarget>,
    /// The tokenizer factor routing uses (the price table's unless set).
    pub token_factor: f64,
    /// What the minimum cacheable prefix leaves uncached, in words.
    pub cache_notes: Vec<String>,
    /// A monthly budget, USD (0: none).
    pub budget_usd: &'a mut f64,
}

impl LeversPanel {
    /// Draws the panel; returns whether a lever changed.
    pub fn ui(&mut self, ui: &mut Ui, l: &mut Levers, mut cx: LeverContext<'_>) -> bool {
        ui.heading("What if…");
        let obs = cx.observed;
        let grid = prompt_length_grid();
        let mut changed = false;
        ui.label(
            RichText::new("Drag (Shift: finer), type in the value box, or focus a slider and use the arrow keys")
                .small(),
        );

        ui.label(RichText::new("Volume").strong());
        changed |= self.scale(
            ui,
            "Traffic",
            &mut l.traffic,
            "Every count scales: tokens, searches, requests",
            None,
        );
        changed |= self.scale(
            ui,
            "Prompt length",
            &mut l.prompt_length,
            "Every input category scales; requests that cross a price tier's threshold (200K, or 100K on Haiku 5.5) move to its rates",
            Some(&grid),
        );
        changed |= self.scale(
            ui,
            "Output length",
            &mut l.output_length,
            "Output tokens scale",
            None,
        );

        ui.separator();
        ui.label(RichText::new("Prompt caching").strong());
        changed |= self.share_opt(
            ui,
            "Cacheable share",
            &mut l.cache_share,
            obs.cache_share,
            "Share of each request's input that is a cacheable prefix (system prompt, tools, documents)",
        );
        changed |= self.share_opt(
            ui,
            "Cache hit rate",
            &mut l.cache_hit,
            obs.cache_hit,
            "Share of cacheable input read from cache; the rest is written (which costs more than plain input)",
        );
        changed |= self.share(
            ui,
            "Extra caching",
            &mut l.cache_more,
            "Share of the input not cached today that becomes a cached prefix, read at the cache hit rate: it only adds caching, row by row (the two sliders above set every row alike)",
        );
        let replay = |h: Option<f64>| {
            h.map(|h| format!("; replayed on your requests: {:.0}% hit", 100.0 * h))
                .unwrap_or_default()
        };
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
                            format!("5 minutes (writes 1.25x{})", replay(obs.replay_hit_5m)),
                        )
                        .changed();
                    changed |= ui
                        .selectable_value(
                            &mut l.cache_ttl,
                            Some(Ttl::OneHour),
                            format!("1 hour (writes 2x{})", replay(obs.replay_hit_1h)),
                        )
                        .changed();
                });
            if reset_button(ui, l.cache_ttl.is_some()) {
                l.cache_ttl = None;
                changed = true;
            }
        });
        if obs.replay_hit_5m.is_some() {
            ui.label(
                RichText::new(
                    "Requests with times are replayed: at the TTL you pick, a request reads what the one before it in its session cached if it came within the TTL",
                )
                .small(),
            );
        }
        for n in &cx.cache_notes {
            ui.label(RichText::new(n).small());
        }

        ui.separator();
        ui.label(RichText::new("Route to a cheaper model").strong());
        changed |= self.share(
            ui,
            "Routed share",
            &mut l.route_share,
            "That share of each source-model row is priced as the target model",
        );
        changed |= route_target(ui, l, &mut cx);
        changed |= route_sources(ui, l, cx.data_models);

        ui.separator();
        ui.label(RichText::new("Batch API").strong());
        changed |= self.share(
            ui,
            "Moved to batch",
            &mut l.batch_share,
            "That share of non-batch usage moves to the Batch API, which costs 50% on every token category",
        );
        ui.label(
            RichText::new(format!(
                "observed: {:.1}% of tokens already batch",
                100.0 * obs.batch_share
            ))
            .small(),
        );

        ui.separator();
        ui.label(RichText::new("Speed and region").strong());
        changed |= self.share(
            ui,
            "Fast mode to standard",
            &mut l.fast_to_standard,
            "That share of fast-mode usage runs at standard speed and price",
        );
        changed |= self.share(
            ui,
            "US-only to global",
            &mut l.us_to_global,
            "That share of US-only inference (inference_geo = us, 1.1x) moves to global inference",
        );

        ui.separator();
        ui.label(RichText::new("Budget").strong());
        ui.horizontal(|ui| {
            let l = ui.label("Monthly budget");
            ui.add(
                egui::DragValue::new(cx.budget_usd)
                    .range(0.0..=1e9)
                    .speed(10.0)
                    .prefix("$")
                    .max_decimals(2),
            )
            .labelled_by(l.id)
            .on_hover_text("Compared with the month-end forecast, and drawn on the cumulative chart; $0 for none");
        });

        ui.separator();
        if let Some(r) = &self.refused {
            ui.colored_label(ui.visuals().warn_fg_color, r);
        }
        if ui
            .add_enabled(!l.is_neutral(), egui::Button::new("Reset all levers"))
            .on_hover_text("Ctrl+R")
            .clicked()
        {
            *l = Levers::default();
            changed = true;
        }
        ui.label(RichText::new("Presets").strong());
        ui.horizontal_wrapped(|ui| {
            for (name, help, preset) in presets(&obs) {
                if ui.button(name).on_hover_text(help).clicked() {
                    *l = preset;
                    changed = true;
                }
            }
        });
        if let Some(e) = &cx.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.separator();
        let ev = cx.evaluation;
        let (word, color, amount) = money_delta(ui, ev.savings());
        ui.label(format!("Scenario {}", money::usd(ev.scenario)));
        ui.colored_label(
            color,
            format!("{word} {amount} ({})", money::pct(ev.savings_pct().abs())),
        );
        if changed {
            self.refused = None;
        }
        changed
    }

    /// A multiplier slider (x0.1 - x10, logarithmic); `grid` snaps it to the given steps.
    fn scale(
        &mut self,
        ui: &mut Ui,
        label: &str,
        value: &mut f64,
        help: &str,
        grid: Option<&[f64]>,
    ) -> bool {
        let spec = SliderSpec {
            label,
            help: &format!("{help}\nRange ×0.1 to ×10; neutral ×1"),
            range: SCALE_RANGE,
            log: true,
            prefix: "×",
            suffix: "",
            decimals: 3,
            can_reset: *value != 1.0,
        };
        match self.slider_row(ui, *value, &spec) {
            Moved::To(v) => {
                let v = grid.map_or(v, |g| snap(v, g));
                let changed = v != *value;
                *value = v;
                changed
            }
            Moved::Reset => {
                *value = 1.0;
                true
            }
            Moved::No => false,
        }
    }

    /// A share slider (0 - 100%) for an optional lever: `None` shows the observed value.
    fn share_opt(
        &mut self,
        ui: &mut Ui,
        label: &str,
        value: &mut Option<f64>,
        observed: f64,
        help: &str,
    ) -> bool {
        // The observed value is shown unrounded: a 70.5% must not become a set 71% by being
        // drawn.
        let spec = SliderSpec {
            label,
            help,
            range: (0.0, 100.0),
            log: false,
            prefix: "",
            suffix: "%",
            decimals: 1,
            can_reset: value.is_some(),
        };
        let changed = match self.slider_row(ui, 100.0 * value.unwrap_or(observed), &spec) {
            Moved::To(pct) => {
                *value = Some(pct / 100.0);
                true
            }
            Moved::Reset => {
                *value = None;
                true
            }
            Moved::No => false,
        };
        ui.label(
            RichText::new(match value {
                None => format!("as observed: {:.1}%", 100.0 * observed),
                Some(_) => format!("observed: {:.1}%", 100.0 * observed),
            })
            .small(),
        );
        changed
    }

    fn share(&mut self, ui: &mut Ui, label: &str, value: &mut f64, help: &str) -> bool {
        let spec = SliderSpec {
            label,
            help,
            range: (0.0, 100.0),
            log: false,
            prefix: "",
            suffix: "%",
            decimals: 1,
            can_reset: *value != 0.0,
        };
        match self.slider_row(ui, 100.0 * *value, &spec) {
            Moved::To(pct) => {
                *value = pct / 100.0;
                true
            }
            Moved::Reset => {
                *value = 0.0;
                true
            }
            Moved::No => false,
        }
    }

    /// A lever as two rows: its name with a reset, then a slider as wide as the panel with its
    /// value box (type a value) and − / + fine steps. Shift while dragging moves ten times
    /// finer. A value typed out of range is refused and said (`refused`), not clamped.
    fn slider_row(&mut self, ui: &mut Ui, v: f64, s: &SliderSpec<'_>) -> Moved {
        let mut moved = Moved::No;
        let label_id = ui
            .horizontal(|ui| {
                let l = ui.label(s.label).on_hover_text(s.help);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if reset_button(ui, s.can_reset) {
                        moved = Moved::Reset;
                    }
                });
                l.id
            })
            .inner;
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = (ui.available_width() - 130.0).max(80.0);
            let width = ui.spacing().slider_width as f64;
            let (lo, hi) = s.range;
            let mut x = v;
            let r = ui
                .add(
                    egui::Slider::new(&mut x, lo..=hi)
                        .logarithmic(s.log)
                        .prefix(s.prefix)
                        .suffix(s.suffix)
                        .max_decimals(s.decimals)
                        .clamping(egui::SliderClamping::Never),
                )
                .labelled_by(label_id)
                .on_hover_text(s.help);
            let fine = r.dragged() && ui.input(|i| i.modifiers.shift);
            if fine {
                let dx = r.drag_delta().x as f64 / width / 10.0;
                x = if s.log {
                    v * ((hi / lo).ln() * dx).exp()
                } else {
                    v + (hi - lo) * dx
                }
                .clamp(lo, hi);
            }
            let step = if s.log { 1.01 } else { 1.0 };
            // A step past an end stops at the end (only a typed value is refused).
            let stepped = step_buttons(ui, &mut x, step, |x, k| {
                if s.log { x * k } else { x + (k - 1.0) * 100.0 }.clamp(lo, hi)
            });
            if (r.changed() || stepped || fine) && x != v {
                if (lo..=hi).contains(&x) && x.is_finite() {
                    moved = Moved::To(x);
                    self.refused = None;
                } else {
                    self.refused = Some(format!(
                        "{} must be between {}{lo}{} and {}{hi}{}: {}{x}{} was not applied",
                        s.label, s.prefix, s.suffix, s.prefix, s.suffix, s.prefix, s.suffix
                    ));
                }
            }
        });
        moved
    }
}

/// How a lever's slider is drawn.
struct SliderSpec<'a> {
    label: &'a str,
    help: &'a str,
    range: (f64, f64),
    log: bool,
    prefix: &'a str,
    suffix: &'a str,
    decimals: usize,
    can_reset: bool,
}

/// What a lever's row did this frame.
enum Moved {
    No,
    To(f64),
    Reset,
}

fn reset_button(ui: &mut Ui, enabled: bool) -> bool {
    ui.add_enabled(enabled, egui::Button::new("reset").small())
        .on_hover_text("Back to neutral")
        .clicked()
}

/// − and + beside a slider: a fine step (`k` is the factor of one step: 1.01 for a
/// multiplier, 1.0 meaning one point for a percentage, through `apply`).
fn step_buttons(ui: &mut Ui, v: &mut f64, k: f64, apply: impl Fn(f64, f64) -> f64) -> bool {
    let (down, up) = if k == 1.0 { (0.99, 1.01) } else { (1.0 / k, k) };
    let mut changed = false;
    if ui
        .small_button("−")
        .on_hover_text("A fine step down")
        .clicked()
    {
        *v = apply(*v, down);
        changed = true;
    }
    if ui
        .small_button("+")
        .on_hover_text("A fine step up")
        .clicked()
    {
        *v = apply(*v, up);
        changed = true;
    }
    changed
}

/// "$in / $out" per million tokens.
fn prices(t: &RouteTarget) -> String {
    format!("${} / ${}", t.input, t.output)
}

/// The routing target: the engine's list (models cheaper than the sources for the same text,
/// cheapest first, prices shown; every model with "show dearer models too"); a target that
/// is not cheaper than every source is said.
fn route_target(ui: &mut Ui, l: &mut Levers, cx: &mut LeverContext<'_>) -> bool {
    let table = cx.table;
    let mut changed = false;
    let target_i = if l.route_to.is_empty() {
        table.default_route_target()
    } else {
        table.lookup(&l.route_to)
    };
    let target_id = target_i.map(|i| table.model(i).id.clone());
    let current = cx
        .route_targets
        .iter()
        .find(|t| Some(&t.id) == target_id.as_ref())
        .cloned();
    let selected = match (&current, target_i) {
        (Some(t), _) => format!("{} ({})", t.name, prices(t)),
        (None, Some(i)) => table.model(i).display_name().to_owned(),
        (None, None) => l.route_to.clone(),
    };
    ui.horizontal(|ui| {
        egui::ComboBox::new("route_to", "target")
            .selected_text(selected)
            .width((ui.available_width() - 60.0).max(120.0))
            .show_ui(ui, |ui| {
                for t in &cx.route_targets {
                    let on = Some(&t.id) == target_id.as_ref();
                    let mut text = format!("{}  {}", t.name, prices(t));
                    if !t.cheaper_than_all_sources {
                        text.push_str("  (not cheaper than every source)");
                    }
                    if ui.selectable_label(on, text).clicked() {
                        let default = table
                            .default_route_target()
                            .map(|i| table.model(i).id.clone());
                        l.route_to = if Some(&t.id) == default.as_ref() {
                            String::new()
                        } else {
                            t.id.clone()
                        };
                        changed = true;
                    }
                }
            });
    });
    ui.checkbox(cx.any_target, "show dearer models too");
    let warn = match &current {
        Some(t) => !t.cheaper_than_all_sources,
        // Not in the list of cheaper targets: dearer than the sources.
        None => target_i.is_some(),
    };
    if warn && l.route_share > 0.0 {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "{} is not cheaper than every model routed to it for the same text: routing can raise the cost",
                target_i.map(|i| table.model(i).display_name()).unwrap_or_default()
            ),
        );
    }
    // Whether this routing crosses tokenizers (a Claude 4.7+ model on one side only).
    let target_ratio = target_i.map_or(1.0, |i| table.model(i).tokenizer_ratio);
    let crosses = cx
        .data_models
        .iter()
        .filter_map(|m| table.lookup(m))
        .any(|m| table.model(m).tokenizer_ratio != target_ratio);
    if crosses || l.route_token_factor.is_some() {
        ui.label(
            RichText::new(format!(
                "Different tokenizers: routed text counts ×{:.2} the tokens on the target",
                cx.token_factor
            ))
            .small(),
        );
        // A token factor the cube was not banded on rebuilds it (the pipeline keeps every
        // request on its side of the thresholds at that factor), which takes longer than a
        // frame on large data: while the handle is dragged the value shown is held here (with
        // the pass it was held in), and it is applied when the handle is let go; a click or a
        // key applies at once. A value held in an earlier pass than the last one belongs to a
        // drag that ended unseen (the panel hidden, the tab changed): it is dropped.
        let held = ui.make_persistent_id("token factor being dragged");
        let pass = ui.ctx().cumulative_pass_nr();
        let mut v = match ui.data(|d| d.get_temp::<(f64, u64)>(held)) {
            Some((v, at)) if at + 1 >= pass => v,
            _ => l.route_token_factor.unwrap_or(cx.token_factor),
        };
        ui.horizontal(|ui| {
            let lbl = ui.label("Token factor");
            let r = ui
                .add(
                    egui::Slider::new(&mut v, TOKEN_FACTOR_RANGE.0..=TOKEN_FACTOR_RANGE.1)
                        .max_decimals(2)
                        .prefix("×"),
                )
                .labelled_by(lbl.id)
                .on_hover_text("Tokens a Claude 4.7+ model makes for each token of an older one (the price table says 1.30); applied when the handle is let go");
            if r.dragged() && !r.drag_stopped() {
                ui.data_mut(|d| d.insert_temp(held, (v, pass)));
            } else {
                ui.data_mut(|d| d.remove::<(f64, u64)>(held));
                if (r.drag_stopped() || r.changed()) && l.route_token_factor != Some(v) {
                    l.route_token_factor = Some(v);
                    changed = true;
                }
            }
            if reset_button(ui, l.route_token_factor.is_some()) {
                l.route_token_factor = None;
                changed = true;
            }
        });
    }
    changed
}

/// The routing sources: the models in the data.
fn route_sources(ui: &mut Ui, l: &mut Levers, data_models: &[String]) -> bool {
    let mut changed = false;
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
        for m in data_models {
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
    changed
}
