//! The filters panel: date range (presets or typed days), and the values each dimension of the
//! loaded data offers (models, workspaces, API keys, projects, machines, sources), as checklists.

use costlens::domain::records::Bucket;
use costlens::domain::time::{DAY, Period};
use costlens::engine::view::{self, Filter};
use costlens::pipeline::load::Analysis;
use egui::{RichText, Ui};

/// The values the filters offer, from the loaded data (computed when the data changes).
#[derive(Clone, Debug, Default)]
pub struct Choices {
    pub models: Vec<String>,
    pub workspaces: Vec<String>,
    pub api_keys: Vec<String>,
    pub projects: Vec<String>,
    /// Machines (history databases given as inputs; [`view::THIS_MACHINE`] for this one).
    pub machines: Vec<String>,
    /// Source keys and labels.
    pub sources: Vec<(String, String)>,
    /// First and last record time.
    pub time_range: Option<(i64, i64)>,
    /// Whether any usage is finer than a day (hourly rows, requests): the hour view needs it.
    pub hourly: bool,
}

impl Choices {
    pub fn of(a: &Analysis) -> Choices {
        use std::collections::BTreeSet;
        let data = &a.data;
        let (mut m, mut w, mut k, mut p) = (
            BTreeSet::new(),
            BTreeSet::new(),
            BTreeSet::new(),
            BTreeSet::new(),
        );
        let mut sources = BTreeSet::new();
        let mut machines = BTreeSet::new();
        let mut hourly = false;
        for r in &data.records {
            m.insert(r.model);
            w.insert(r.workspace);
            k.insert(r.api_key);
            p.insert(r.project);
            sources.insert(r.source);
            machines.insert(r.machine);
            hourly |= r.bucket != Bucket::Day;
        }
        let names = |s: BTreeSet<u32>| -> Vec<String> {
            let mut v: Vec<String> = s
                .into_iter()
                .map(|x| data.symbols.get(x).to_owned())
                .filter(|x| !x.is_empty())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let mut models: Vec<String> = m
            .into_iter()
            .map(|x| view::model_label(&a.table, data.symbols.get(x)))
            .collect();
        models.sort();
        models.dedup();
        Choices {
            models,
            workspaces: names(w),
            api_keys: names(k),
            projects: names(p),
            machines: {
                let mut v: Vec<String> = machines
                    .into_iter()
                    .map(|x| match data.symbols.get(x) {
                        "" => view::THIS_MACHINE.to_owned(),
                        s => s.to_owned(),
                    })
                    .collect();
                v.sort();
                v.dedup();
                v
            },
            sources: sources
                .into_iter()
                .filter_map(|s| data.sources.get(s as usize))
                .map(|s| (s.key.clone(), s.label.clone()))
                .collect(),
            time_range: data.time_range(),
            hourly,
        }
    }
}

/// The panel's own state: the date fields as typed.
#[derive(Debug, Default)]
pub struct FiltersPanel {
    date_text: [String; 2],
}

impl FiltersPanel {
    /// Draws the panel; returns whether the filter changed.
    pub fn ui(&mut self, ui: &mut Ui, choices: &Choices, f: &mut Filter) -> bool {
        ui.heading("Filters");
        let mut changed = false;
        ui.label(RichText::new("Date range").strong());
        if let Some((first, last)) = choices.time_range {
            let last_day = Period::Day.start(last);
            ui.horizontal_wrapped(|ui| {
                for (label, days) in [
                    ("All", 0),
                    ("Last 7 days", 7),
                    ("Last 30 days", 30),
                    ("Last 90 days", 90),
                ] {
                    let from = (days > 0).then(|| last_day - (days - 1) * DAY);
                    let selected = f.from == from && f.to.is_none();
                    if ui
                        .selectable_label(selected, label)
                        .on_hover_text("Counted back from the last day with data")
                        .clicked()
                    {
                        f.from = from;
                        f.to = None;
                        changed = true;
                    }
                }
            });
            let [from_text, to_text] = &mut self.date_text;
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
                .small(),
            );
        } else {
            ui.label(RichText::new("No dated usage loaded").small());
        }
        ui.separator();
        changed |= checklist(ui, "Models", &choices.models, &mut f.models);
        changed |= checklist(ui, "Workspaces", &choices.workspaces, &mut f.workspaces);
        changed |= checklist(ui, "API keys", &choices.api_keys, &mut f.api_keys);
        changed |= checklist(ui, "Projects", &choices.projects, &mut f.projects);
        if choices.machines.len() > 1 || !f.machines.is_empty() {
            changed |= checklist(ui, "Machines", &choices.machines, &mut f.machines);
        }
        if choices.sources.len() > 1 {
            let keys: Vec<String> = choices.sources.iter().map(|s| s.0.clone()).collect();
            changed |= checklist_labelled(ui, "Sources", &keys, &choices.sources, &mut f.sources);
        }
        if ui
            .add_enabled(*f != Filter::default(), egui::Button::new("Clear filters"))
            .clicked()
        {
            *f = Filter::default();
            changed = true;
        }
        changed
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
    let labelled: Vec<(String, String)> = all.iter().map(|a| (a.clone(), a.clone())).collect();
    checklist_labelled(ui, title, all, &labelled, selected)
}

fn checklist_labelled(
    ui: &mut Ui,
    title: &str,
    all: &[String],
    labels: &[(String, String)],
    selected: &mut Vec<String>,
) -> bool {
    if all.is_empty() {
        return false;
    }
    let mut changed = false;
    egui::CollapsingHeader::new(format!(
        "{title} ({})",
        if selected.is_empty() {
            "all".to_owned()
        } else {
            format!("{} of {}", selected.len(), all.len())
        }
    ))
    .id_salt(title)
    .default_open(all.len() <= 6)
    .show(ui, |ui| {
        for (name, label) in labels {
            let mut on = selected.is_empty() || selected.contains(name);
            if ui.checkbox(&mut on, label).changed() {
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
