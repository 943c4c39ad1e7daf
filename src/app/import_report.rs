//! The import report: each file with its detected format, rows, rejected lines
//! (`file:line: reason`) and notes; files that could not be read; unpriced models, each with a
//! way to bill it as a priced model.

use super::{Cmd, CostlensApp};
use costlens::money;
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
                    for f in app.analysis.data.files.iter().take(300) {
                        ui.label(&f.path);
                        ui.label(&f.format);
                        ui.label(money::count(f.rows));
                        ui.label(money::count(f.rejected));
                        ui.label(money::count(f.duplicates));
                        ui.end_row();
                    }
                });
            if app.analysis.data.files.len() > 300 {
                ui.label(format!(
                    "… and {} more files",
                    app.analysis.data.files.len() - 300
                ));
            }
            for f in app.analysis.data.files.iter().take(300) {
                for n in &f.notes {
                    ui.label(format!("Note: {}: {n}", f.path));
                }
            }
            let rejected = &app.analysis.data.rejected;
            if !rejected.is_empty() {
                egui::CollapsingHeader::new(format!("{} rejected lines", rejected.len()))
                    .default_open(rejected.len() <= 20)
                    .show(ui, |ui| {
                        for r in rejected.iter().take(1000) {
                            ui.monospace(r.to_string());
                        }
                        if rejected.len() > 1000 {
                            ui.label(format!(
                                "… and {} more (all of them are in `costlens report --json`)",
                                rejected.len() - 1000
                            ));
                        }
                    });
            }
            if !app.view.unpriced.is_empty() {
                ui.separator();
                ui.label(RichText::new("Unpriced models").strong());
                ui.label("These tokens are not in any total. Bill a model as a priced one:");
                let models: Vec<String> = app.analysis.table.display_names();
                for u in &app.view.unpriced {
                    ui.horizontal(|ui| {
                        ui.label(format!("{} — {} tokens", u.model, money::count(u.tokens)));
                        egui::ComboBox::new(("map", &u.model), "bill as")
                            .selected_text("choose a model")
                            .show_ui(ui, |ui| {
                                for m in &models {
                                    if ui.selectable_label(false, m).clicked() {
                                        cmds.push(Cmd::MapModel(u.model.clone(), m.clone()));
                                    }
                                }
                            });
                    });
                }
            }
            // Files that carry no time (batch results, saved responses) were dated by a
            // default: the date field lets the user give the right one.
            let default_dated = app.analysis.data.files.iter().any(|f| f.default_dated > 0);
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
                        cmds.push(Cmd::Reimport);
                    }
                });
            }
            if app.analysis.data.files.is_empty() && app.load_errors.is_empty() {
                ui.label("Nothing imported yet.");
            }
        });
    for c in cmds {
        app.push(c);
    }
    app.show_report = open;
}
