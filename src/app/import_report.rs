//! The import report: each file with its detected format, rows, rejected lines
//! (`file:line: reason`) and notes; files that could not be read; unpriced models, each with a
//! way to bill it as a priced model.

use super::{Action, CostlensApp};
use costlens::domain::money;
use egui::RichText;

pub fn window(app: &mut CostlensApp, ctx: &egui::Context) {
    if !app.show_report {
        return;
    }
    let mut open = true;
    let mut cmds = Vec::new();
    egui::Window::new("Import report")
        .open(&mut open)
        .default_size([720.0, 480.0])
        .vscroll(true)
        .show(ctx, |ui| {
            for e in &app.load_errors {
                ui.colored_label(ui.visuals().error_fg_color, format!("Error: {e}"));
            }
            if !app.unrecognised.is_empty() {
                egui::CollapsingHeader::new(format!(
                    "{} files in opened folders are not usage files (skipped)",
                    app.unrecognised.len()
                ))
                .show(ui, |ui| {
                    for f in &app.unrecognised {
                        ui.label(f);
                    }
                });
            }
            egui::Grid::new("files")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for h in ["File", "Format", "Rows", "Rejected", "Duplicates"] {
                        ui.label(RichText::new(h).weak());
                    }
                    ui.end_row();
                    // A log tree can be thousands of files: the first 300 here (all in --json).
                    for f in app.pipeline.data().files.iter().take(300) {
                        ui.label(&f.path);
                        ui.label(f.format.label());
                        ui.label(money::count(f.rows));
                        ui.label(money::count(f.rejected));
                        ui.label(money::count(f.duplicates));
                        ui.end_row();
                    }
                });
            if app.pipeline.data().files.len() > 300 {
                ui.label(format!(
                    "… and {} more files",
                    app.pipeline.data().files.len() - 300
                ));
            }
            for f in app.pipeline.data().files.iter().take(300) {
                for n in &f.notes {
                    ui.label(format!("Note: {}: {n}", f.path));
                }
            }
            let data = &app.pipeline.data();
            let rejected = &data.rejected;
            if data.rejected_total > 0 {
                egui::CollapsingHeader::new(format!(
                    "{} rejected lines",
                    money::count(data.rejected_total)
                ))
                .default_open(rejected.len() <= 20)
                .show(ui, |ui| {
                    if data.rejected_kinds.len() > 1 || data.rejected_total > rejected.len() as u64
                    {
                        ui.label(RichText::new("By reason").weak());
                        let mut kinds: Vec<(&String, &u64)> = data.rejected_kinds.iter().collect();
                        kinds.sort_by(|a, b| b.1.cmp(a.1));
                        for (reason, n) in kinds.into_iter().take(20) {
                            ui.label(format!("{:>9}  {reason}", money::count(*n)));
                        }
                        ui.label(RichText::new("The first lines of each file").weak());
                    }
                    for r in rejected.iter().take(1000) {
                        ui.monospace(r.to_string());
                    }
                });
            }
            if !app.pipeline.view().unpriced.is_empty() {
                ui.separator();
                ui.label(RichText::new("Unpriced models").strong());
                ui.label("These tokens are not in any total. Bill a model as a priced one:");
                let models: Vec<String> = app.pipeline.table().display_names();
                for u in &app.pipeline.view().unpriced {
                    ui.horizontal(|ui| {
                        ui.label(format!("{} — {} tokens", u.model, money::count(u.tokens)));
                        egui::ComboBox::new(("map", &u.model), "bill as")
                            .selected_text("choose a model")
                            .show_ui(ui, |ui| {
                                for m in &models {
                                    if ui.selectable_label(false, m).clicked() {
                                        cmds.push(Action::MapModel(u.model.clone(), m.clone()));
                                    }
                                }
                            });
                    });
                }
            }
            // Files that carry no time (batch results, saved responses) were dated by a
            // default: the date field lets the user give the right one.
            let default_dated = app
                .pipeline
                .data()
                .files
                .iter()
                .any(|f| f.default_dated > 0);
            if default_dated || !app.settings.date.is_empty() {
                ui.separator();
                ui.horizontal(|ui| {
                    let l = ui
                        .label("Date for files that carry none (batch results, saved responses):");
                    ui.add(
                        egui::TextEdit::singleline(&mut app.settings.date)
                            .hint_text("YYYY-MM-DD")
                            .desired_width(100.0),
                    )
                    .labelled_by(l.id);
                    let valid = app.settings.date.is_empty() || app.import_options().date.is_some();
                    if !valid {
                        ui.colored_label(ui.visuals().error_fg_color, "not a date");
                    }
                    if ui
                        .add_enabled(valid, egui::Button::new("Apply and re-import"))
                        .clicked()
                    {
                        cmds.push(Action::Reimport);
                    }
                });
            }
            overlaps(app, ui, &mut cmds);
            history(app, ui, &mut cmds);
            if app.pipeline.data().files.is_empty() && app.load_errors.is_empty() {
                ui.label("Nothing imported yet.");
            }
        });
    for c in cmds {
        app.push(c);
    }
    app.show_report = open;
}

/// The usage history: what it added, its problems, and the switch that keeps it.
fn history(app: &mut CostlensApp, ui: &mut egui::Ui, cmds: &mut Vec<Action>) {
    // Only where it applies: a folder opened (Claude Code logs), or the switch turned off.
    let in_use = app.pipeline.data().history.is_some() || !app.history_notes.is_empty();
    if app.history_db.is_none() || (!in_use && app.settings.keep_history) {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Usage history").strong());
    for n in &app.history_notes {
        ui.label(n);
    }
    let before = app.settings.keep_history;
    ui.checkbox(
        &mut app.settings.keep_history,
        "Keep Claude Code usage in the history (requests of logs deleted later stay counted)",
    )
    .on_hover_text(format!(
        "Claude Code deletes session logs after 30 days; the history keeps their usage in {}",
        app.history_db
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ));
    if before != app.settings.keep_history {
        cmds.push(Action::Reimport);
    }
}

/// Files that hold the same rows, and kinds of source that cover the same days: what was
/// counted once, what is likely counted twice, and the switches that decide.
fn overlaps(app: &mut CostlensApp, ui: &mut egui::Ui, cmds: &mut Vec<Action>) {
    let data = &app.pipeline.data();
    if data.notes.is_empty() && data.overlaps.is_empty() && data.double_counts.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Overlaps").strong());
    for n in &data.notes {
        ui.label(n);
    }
    for o in &data.overlaps {
        ui.label(format!(
            "{} and {} hold the same {} rows on {} days ({} to {}): {}",
            o.files[0],
            o.files[1],
            money::count(o.rows),
            o.days.len(),
            o.days.first().map(String::as_str).unwrap_or(""),
            o.days.last().map(String::as_str).unwrap_or(""),
            if o.summed {
                "added up"
            } else {
                "each counted once, from the copy with more tokens"
            }
        ));
    }
    if !data.overlaps.is_empty() || app.settings.sum_overlaps {
        let before = app.settings.sum_overlaps;
        ui.checkbox(
            &mut app.settings.sum_overlaps,
            "Add up rows found in several files (different organisations that share names)",
        );
        if before != app.settings.sum_overlaps {
            cmds.push(Action::Reimport);
        }
    }
    let doubles = data.double_counts.clone();
    for d in &doubles {
        ui.colored_label(ui.visuals().warn_fg_color, d.message(false));
        ui.horizontal(|ui| {
            for (key, label) in d.sources.iter().zip(&d.labels) {
                let keeping = app.settings.spec.filter.sources == [key.clone()];
                if ui
                    .add_enabled(!keeping, egui::Button::new(format!("Keep only {label}")))
                    .clicked()
                {
                    app.settings.spec.filter.sources = vec![key.clone()];
                }
            }
            if !app.settings.spec.filter.sources.is_empty() && ui.button("Keep both").clicked() {
                app.settings.spec.filter.sources.clear();
            }
        });
    }
}
