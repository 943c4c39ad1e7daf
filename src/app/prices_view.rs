//! The Prices view: the effective price table, editable per model; overrides are remembered;
//! load a price file (ours or LiteLLM's); reset to bundled.

use super::{Action, CostlensApp};
use costlens::domain::prices::PricePeriod;
use egui::{RichText, Ui};

pub fn show(app: &mut CostlensApp, ui: &mut Ui) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.heading("Prices");
            ui.label(RichText::new("USD per million tokens. Edit a price to override it; overrides are remembered.").weak());
        });
        ui.horizontal(|ui| {
            if ui.button("Load price file…").on_hover_text("A costlens price JSON or LiteLLM's model_prices_and_context_window.json").clicked() {
                app.push(Action::LoadPriceFile);
            }
            if ui.button("Reset to bundled prices").clicked() {
                app.push(Action::ResetPrices);
            }
            let n = app.settings.overrides.models.len() + app.settings.overrides.map.len();
            if n > 0 {
                ui.label(format!("{n} override(s) active"));
            }
        });
        let table = app.pipeline.table();
        ui.label(format!(
            "Prices as of {} · web search ${} per 1,000 searches · {}",
            table.as_of,
            table.web_search_per_1k,
            table.sources.join("; ")
        ));
        ui.separator();
        let mut edited: Option<(String, PricePeriod)> = None;
        egui::ScrollArea::both().show(ui, |ui| {
            egui::Grid::new("prices").striped(true).num_columns(11).show(ui, |ui| {
                for h in ["Model", "ID", "From", "Input", "5m write", "1h write", "Cache read", "Output", "Request tiers", "Fast mode", "Source"] {
                    ui.label(RichText::new(h).weak());
                }
                ui.end_row();
                for m in &app.pipeline.table().models {
                    let Some(p) = m.prices.last() else { continue };
                    ui.label(m.display_name()).on_hover_text(
                        std::iter::once(format!("aliases: {}", m.aliases.join(", ")))
                            .chain(m.note.clone())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    ui.monospace(&m.id);
                    ui.label(p.effective_from.to_string()).on_hover_text(if m.prices.len() > 1 {
                        m.prices.iter().map(|q| format!("from {}: ${} / ${}", q.effective_from, q.standard.input, q.standard.output)).collect::<Vec<_>>().join("\n")
                    } else {
                        "one price since this date".into()
                    });
                    let mut r = p.standard;
                    let mut any = false;
                    for (what, v) in [
                        ("input", &mut r.input),
                        ("5m write", &mut r.cache_write_5m),
                        ("1h write", &mut r.cache_write_1h),
                        ("cache read", &mut r.cache_read),
                        ("output", &mut r.output),
                    ] {
                        let name = format!("{} {what}", m.display_name());
                        let resp = ui.add(egui::DragValue::new(v).range(0.0..=1000.0).speed(0.01).max_decimals(4).prefix("$"));
                        resp.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::SpinButton, true, &name));
                        any |= resp.changed();
                    }
                    let tiers: Vec<String> = p
                        .tiers
                        .iter()
                        .map(|t| format!("> {}K: ${} / ${}", t.above_prompt_tokens / 1000, t.rates.input, t.rates.output))
                        .collect();
                    ui.label(if tiers.is_empty() { "—".to_owned() } else { tiers.join("; ") })
                        .on_hover_text("A request whose prompt (input + cache writes + reads) exceeds the threshold is billed entirely at these rates, output included.");
                    ui.label(match m.fast_multiplier_in(p) {
                        Some(f) => format!("{f}x"),
                        None => "—".into(),
                    });
                    let confidence = if m.has_secondary_facts() { "secondary facts" } else { "published" };
                    ui.label(confidence).on_hover_text(
                        m.prices
                            .iter()
                            .filter_map(|q| q.note.as_ref().map(|n| format!("from {}: {n}", q.effective_from)))
                            .chain(m.note.clone())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    ui.end_row();
                    if any {
                        edited = Some((m.id.clone(), PricePeriod { standard: r, ..p.clone() }));
                    }
                }
            });
        });
        if let Some((id, period)) = edited
            && app.pipeline.edit_table(|t| t.set_prices(&id, period)).is_ok()
            && let Some(i) = app.pipeline.table().lookup(&id)
        {
            let m = app.pipeline.table().model(i).clone();
            app.settings.overrides.models.retain(|o| o.id != m.id);
            app.settings.overrides.models.push(m);
            app.push(Action::PricesChanged);
        }
    });
}
