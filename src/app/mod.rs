//! The desktop app: a thin layer over the costlens core. `CostlensApp` owns the persisted
//! settings, the loaded analysis and the derived view; panels draw from it and return
//! commands (`Cmd`) that are applied once per frame.

pub mod calculator;
pub mod dashboard;
pub mod import_report;
pub mod levers;
pub mod prices_view;

use crate::render::png;
use costlens::domain::prices::{PriceFile, PriceTable};
use costlens::domain::time;
use costlens::engine::chart::ChartData;
use costlens::engine::estimate::Workload;
use costlens::engine::scenario::Levers;
use costlens::engine::view;
use costlens::engine::view::ViewSpec;
use costlens::import::{Control, Options};
use costlens::pipeline::Pipeline;
use costlens::pipeline::load::{self, Analysis, Loaded};
use costlens::store::cache::Cache;
use egui::{Key, KeyboardShortcut, Modifiers, RichText};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The bundled sample data: a 90-day Console usage export and its cost export.
pub const SAMPLE_FILES: &[(&str, &[u8])] = &[
    (
        "sample-data/claude_api_tokens_2026_08-10.csv",
        include_bytes!("../../sample-data/claude_api_tokens_2026_08-10.csv"),
    ),
    (
        "sample-data/claude_api_cost_2026_08-10.csv",
        include_bytes!("../../sample-data/claude_api_cost_2026_08-10.csv"),
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ThemeChoice {
    #[default]
    System,
    Dark,
    Light,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    #[default]
    Dashboard,
    Calculator,
    Prices,
}

/// Everything remembered between runs (eframe storage).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: ThemeChoice,
    pub tab: Tab,
    pub spec: ViewSpec,
    pub levers: Levers,
    pub cumulative: bool,
    pub recent: Vec<PathBuf>,
    pub overrides: PriceFile,
    pub workload: Workload,
    pub export_width: u32,
    pub export_height: u32,
    /// Date (YYYY-MM-DD) for files that carry none (batch results, saved responses); empty =
    /// each file's modification date. Settings of older versions call it `batch_date`.
    #[serde(alias = "batch_date")]
    pub date: String,
    /// Add up copies of the same rows found in different files (the import report's switch).
    pub sum_overlaps: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: ThemeChoice::System,
            tab: Tab::Dashboard,
            spec: ViewSpec::default(),
            levers: Levers::default(),
            cumulative: false,
            recent: Vec::new(),
            overrides: PriceFile::default(),
            workload: Workload {
                requests_per_day: 100.0,
                active_hours: 1.0,
                ..Workload::default()
            },
            export_width: 1600,
            export_height: 900,
            date: String::new(),
            sum_overlaps: false,
        }
    }
}

const RECENT_MAX: usize = 10;

/// File dialogs behind a trait, so tests never open a native dialog.
pub trait Dialogs {
    fn open_files(&self) -> Vec<PathBuf>;
    fn open_folder(&self) -> Option<PathBuf>;
    fn save_file(&self, default_name: &str, extension: &str) -> Option<PathBuf>;
    fn open_price_file(&self) -> Option<PathBuf>;
}

/// Native dialogs (rfd: the XDG portal, or zenity).
pub struct NativeDialogs;

impl Dialogs for NativeDialogs {
    fn open_files(&self) -> Vec<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open usage exports or logs")
            .add_filter(
                "Usage exports and logs",
                &["csv", "json", "jsonl", "ndjson"],
            )
            .add_filter("All files", &["*"])
            .pick_files()
            .unwrap_or_default()
    }

    fn open_folder(&self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open a folder of logs")
            .pick_folder()
    }

    fn save_file(&self, default_name: &str, extension: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_file_name(default_name)
            .add_filter(extension.to_uppercase(), &[extension])
            .save_file()
    }

    fn open_price_file(&self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Load a price file (costlens or LiteLLM JSON)")
            .add_filter("JSON", &["json"])
            .pick_file()
    }
}

/// Where the current data came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Sample,
    Files(Vec<PathBuf>),
}

struct ImportJob {
    control: Arc<Control>,
    rx: Receiver<(Loaded, Pipeline)>,
    paths: Vec<PathBuf>,
    started: Instant,
}

struct ExportJob {
    rx: Receiver<Result<PathBuf, String>>,
}

/// What panels ask the app to do, applied once per frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    OpenFiles,
    OpenFolder,
    OpenClaudeCode,
    Open(Vec<PathBuf>),
    AddFiles(Vec<PathBuf>),
    CancelImport,
    ExportPng,
    ExportCsv,
    LoadPriceFile,
    ResetPrices,
    MapModel(String, String),
    PricesChanged,
    ViewChanged,
    LeversChanged,
    ShowSample,
    Reimport,
}

/// A message in the status bar.
#[derive(Clone, Debug)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The values the filters offer, from the loaded data (computed when the data changes).
#[derive(Clone, Debug, Default)]
pub struct Choices {
    pub models: Vec<String>,
    pub workspaces: Vec<String>,
    pub api_keys: Vec<String>,
    /// First and last record time.
    pub time_range: Option<(i64, i64)>,
    /// The data these were computed from (its record count and first file), to notice a change.
    key: (usize, Option<String>),
}

impl Choices {
    fn of(a: &Analysis) -> Choices {
        use std::collections::BTreeSet;
        let data = &a.data;
        let (mut m, mut w, mut k) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for r in &data.records {
            m.insert(r.model);
            w.insert(r.workspace);
            k.insert(r.api_key);
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
            time_range: data.time_range(),
            key: Self::key_of(a),
        }
    }

    fn key_of(a: &Analysis) -> (usize, Option<String>) {
        (
            a.data.records.len(),
            a.data.files.first().map(|f| f.path.clone()),
        )
    }
}

pub struct CostlensApp {
    pub settings: Settings,
    pub choices: Choices,
    dialogs: Box<dyn Dialogs>,
    pub source: Source,
    /// Data, prices, view, evaluation: every stage from the import to the chart.
    pub pipeline: Pipeline,
    /// The chart of the current view (rebuilt when the pipeline is).
    pub chart: ChartData,
    /// The pipeline generation the chart and choices were made from.
    drawn: Option<u64>,
    pub load_errors: Vec<String>,
    pub unrecognised: Vec<String>,
    pub status: Option<Status>,
    pub show_report: bool,
    pub show_shortcuts: bool,
    pub show_export: bool,
    /// The date filter's From and To fields as typed.
    pub date_text: [String; 2],
    /// Where settings are saved; `None` in tests (nothing is written).
    settings_path: Option<PathBuf>,
    /// The import cache: the user's in the app, none in tests (the user's cache is neither
    /// read nor written by them).
    cache: Cache,
    job: Option<ImportJob>,
    export_job: Option<ExportJob>,
    pending: Vec<Cmd>,
}

impl CostlensApp {
    /// The app as eframe starts it: settings from storage, then `files` or the sample data.
    pub fn new(cc: &eframe::CreationContext<'_>, files: Vec<PathBuf>) -> Self {
        // Our own settings file, written atomically (eframe's storage truncates in place).
        let path = costlens::store::settings::settings_path();
        let (settings, problem) = match path
            .as_deref()
            .map(costlens::store::settings::load_json::<Settings>)
        {
            Some(costlens::store::settings::Loaded::Ok(s)) => (s, None),
            Some(costlens::store::settings::Loaded::Unreadable(why)) => (
                Settings::default(),
                Some(format!("Settings could not be read, using defaults: {why}")),
            ),
            _ => (Settings::default(), None),
        };
        let mut app = Self::with_settings(settings, Box::new(NativeDialogs));
        app.settings_path = path;
        app.cache = Cache::from_env();
        if let Some(p) = problem {
            app.set_status(p, true);
        }
        apply_theme(&cc.egui_ctx, app.settings.theme);
        if !files.is_empty() {
            app.start_import(files, &cc.egui_ctx);
        }
        app
    }

    /// The app on the sample data with the given settings and dialogs (tests use this).
    pub fn with_settings(settings: Settings, dialogs: Box<dyn Dialogs>) -> Self {
        let mut table = PriceTable::bundled();
        let mut status = None;
        if let Ok(text) = serde_json::to_string(&settings.overrides)
            && (!settings.overrides.models.is_empty() || !settings.overrides.map.is_empty())
            && let Err(e) = table.apply_text("saved price overrides", &text)
        {
            status = Some(Status {
                text: format!("Saved price overrides could not be applied: {e}"),
                error: true,
            });
        }
        let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
        let pipeline = Pipeline::new(loaded.data, table);
        let mut app = CostlensApp {
            settings,
            choices: Choices::default(),
            dialogs,
            source: Source::Sample,
            pipeline,
            chart: ChartData::default(),
            drawn: None,
            load_errors: loaded.errors.iter().map(|e| e.to_string()).collect(),
            unrecognised: Vec::new(),
            status,
            show_report: false,
            show_shortcuts: false,
            show_export: false,
            date_text: Default::default(),
            settings_path: None,
            cache: Cache::disabled(),
            job: None,
            export_job: None,
            pending: Vec::new(),
        };
        app.refresh();
        app
    }

    /// Writes the settings file (temp file + rename). Errors reach the status bar.
    pub fn save_settings(&mut self) {
        if let Some(p) = self.settings_path.clone()
            && let Err(e) = costlens::store::settings::save_json(&p, &self.settings)
        {
            self.set_status(
                format!("Cannot save settings to {}: {e}", p.display()),
                true,
            );
        }
    }

    /// Replaces the data (the sample data again, a test's).
    pub fn set_data(&mut self, data: costlens::domain::dataset::Dataset, source: Source) {
        self.pipeline.set_data(data);
        self.set_data_source(source);
    }

    /// After the pipeline's data was replaced: where it came from; filters start afresh.
    pub fn set_data_source(&mut self, source: Source) {
        self.drawn = None;
        self.source = source;
        self.settings.spec.filter = Default::default();
        self.choices = Choices::default();
    }

    /// Whether a chart export is being rendered (the UI tests wait on it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_exporting(&self) -> bool {
        self.export_job.is_some()
    }

    /// Whether an import runs (the UI tests wait on it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_importing(&self) -> bool {
        self.job.is_some()
    }

    pub fn push(&mut self, cmd: Cmd) {
        self.pending.push(cmd);
    }

    fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
        });
    }

    /// Brings the pipeline up to date with the settings (it rebuilds only what changed: a
    /// lever re-evaluates, a filter rebuilds the view) and the chart with it. Cheap enough to
    /// run every frame.
    pub fn refresh(&mut self) {
        self.pipeline.set_spec(self.settings.spec.clone());
        self.pipeline.set_levers(self.settings.levers.clone());
        self.pipeline.refresh();
        if self.drawn != Some(self.pipeline.generation()) {
            self.drawn = Some(self.pipeline.generation());
            if self.choices.key != Choices::key_of(self.pipeline.analysis())
                || self.choices.models.is_empty()
            {
                self.choices = Choices::of(self.pipeline.analysis());
            }
            let title = match &self.source {
                Source::Sample => "Claude API cost — sample data",
                _ => "Claude API cost: actual vs scenario",
            };
            self.chart = self.pipeline.chart(title);
        }
    }

    fn start_import(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        if paths.is_empty() {
            return;
        }
        if let Some(job) = &self.job {
            job.control
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let control = Control::new();
        let (tx, rx) = channel();
        let c = control.clone();
        let p = paths.clone();
        let table = self.pipeline.table().clone();
        let ctx = ctx.clone();
        let opts = self.import_options();
        let cache = self.cache.clone();
        std::thread::spawn(move || {
            let mut loaded = load::load_with_cache(&p, &opts, &c, &cache);
            // The dataset moves into a pipeline, built here off the UI thread (the cube of a
            // large import takes a moment); the rest of `loaded` goes to the report.
            let data = std::mem::take(&mut loaded.data);
            let pipeline = Pipeline::new(data, table);
            let _ = tx.send((loaded, pipeline));
            ctx.request_repaint();
        });
        self.job = Some(ImportJob {
            control,
            rx,
            paths,
            started: Instant::now(),
        });
    }

    /// Import options from the settings (the date for files that carry none).
    pub fn import_options(&self) -> Options {
        Options {
            date: time::Period::parse_day(self.settings.date.trim()),
            sum_overlaps: self.settings.sum_overlaps,
        }
    }

    /// Imports the current files again (after an import option changed).
    pub fn reimport(&mut self, ctx: &egui::Context) {
        if let Source::Files(p) = self.source.clone() {
            self.start_import(p, ctx);
        }
    }

    /// Applies a finished import, if one has finished.
    fn poll_jobs(&mut self, ctx: &egui::Context) {
        if let Some(job) = &self.job {
            match job.rx.try_recv() {
                Ok((loaded, pipeline)) => {
                    let job = self.job.take().expect("job is present");
                    if job.control.is_cancelled() {
                        self.set_status("Import cancelled: nothing changed", false);
                        return;
                    }
                    let secs = job.started.elapsed().as_secs_f64();
                    self.load_errors = loaded.errors.iter().map(|e| e.to_string()).collect();
                    self.unrecognised = loaded.unrecognised_in_folders;
                    if pipeline.data().is_empty() {
                        self.set_status(
                            format!(
                                "Nothing could be imported from {} — see the import report",
                                describe_paths(&job.paths)
                            ),
                            true,
                        );
                        self.show_report = true;
                        return;
                    }
                    let rows: u64 = pipeline.data().files.iter().map(|f| f.rows).sum();
                    let rejected = pipeline.data().rejected_total as usize;
                    // The scenario, filters aside, carries over to the new data.
                    let mut pipeline = pipeline;
                    pipeline.set_levers(self.settings.levers.clone());
                    self.pipeline = pipeline;
                    self.drawn = None;
                    self.choices = Choices::default();
                    self.source = Source::Files(job.paths.clone());
                    for p in job.paths.iter().rev() {
                        self.settings.recent.retain(|r| r != p);
                        self.settings.recent.insert(0, p.clone());
                    }
                    self.settings.recent.truncate(RECENT_MAX);
                    // Filters name things of the old data; start the new data unfiltered.
                    self.settings.spec.filter = Default::default();
                    self.refresh();
                    let problems =
                        rejected + self.load_errors.len() + self.pipeline.view().unpriced.len();
                    self.set_status(
                        format!(
                            "Imported {} rows from {} in {:.2} s{}{}",
                            costlens::domain::money::count(rows),
                            describe_paths(&job.paths),
                            secs,
                            if loaded.from_snapshot {
                                " (no file changed since the last import: read from the cache)"
                            } else {
                                ""
                            },
                            if problems > 0 {
                                " — some lines need a look (Import report)"
                            } else {
                                ""
                            }
                        ),
                        false,
                    );
                    if rejected > 0 || !self.load_errors.is_empty() {
                        self.show_report = true;
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    ctx.request_repaint_after(Duration::from_millis(100));
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.job = None;
                    self.set_status("The import stopped unexpectedly", true);
                }
            }
        }
        if let Some(job) = &self.export_job {
            match job.rx.try_recv() {
                Ok(r) => {
                    self.export_job = None;
                    match r {
                        Ok(p) => self.set_status(format!("Saved chart to {}", p.display()), false),
                        Err(e) => self.set_status(format!("Chart export failed: {e}"), true),
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    ctx.request_repaint_after(Duration::from_millis(100));
                }
                Err(_) => {
                    self.export_job = None;
                    self.set_status("Chart export failed: the renderer stopped", true);
                }
            }
        }
    }

    /// Renders the chart to `path` on a background thread.
    pub fn export_png_to(&mut self, path: PathBuf, ctx: &egui::Context) {
        let data = self.chart.clone();
        let (w, h) = (self.settings.export_width, self.settings.export_height);
        let cumulative = self.settings.cumulative;
        let inputs = self.input_paths();
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let r = png::render_png(&data, cumulative, w, h)
                .and_then(|img| png::write_png(&img, &path, &inputs).map(|_| path));
            let _ = tx.send(r);
            ctx.request_repaint();
        });
        self.export_job = Some(ExportJob { rx });
        self.set_status("Rendering chart…", false);
    }

    /// The files the current data was read from (an export must never replace one).
    fn input_paths(&self) -> Vec<PathBuf> {
        match &self.source {
            Source::Files(p) => p.clone(),
            Source::Sample => Vec::new(),
        }
    }

    /// Writes the current breakdown table as CSV.
    pub fn export_csv_to(&mut self, path: &std::path::Path) {
        let report = self.pipeline.report();
        match costlens::store::atomic::write_protecting(
            path,
            report.breakdown_csv().as_bytes(),
            &self.input_paths(),
        ) {
            Ok(()) => self.set_status(format!("Saved table to {}", path.display()), false),
            Err(e) => self.set_status(format!("Cannot write {}: {e}", path.display()), true),
        }
    }

    fn apply(&mut self, cmd: Cmd, ctx: &egui::Context) {
        match cmd {
            Cmd::OpenFiles => {
                let files = self.dialogs.open_files();
                self.start_import(files, ctx);
            }
            Cmd::OpenFolder => {
                if let Some(d) = self.dialogs.open_folder() {
                    self.start_import(vec![d], ctx);
                }
            }
            Cmd::OpenClaudeCode => {
                let dirs = costlens::import::claude_code::default_claude_code_dirs();
                if dirs.is_empty() {
                    self.set_status(
                        "No Claude Code logs found in ~/.claude/projects, ~/.config/claude/projects or $CLAUDE_CONFIG_DIR",
                        true,
                    );
                } else {
                    self.start_import(dirs, ctx);
                }
            }
            Cmd::Open(paths) => self.start_import(paths, ctx),
            Cmd::AddFiles(paths) => {
                let mut all = match &self.source {
                    Source::Files(f) => f.clone(),
                    _ => Vec::new(),
                };
                for p in paths {
                    if !all.contains(&p) {
                        all.push(p);
                    }
                }
                self.start_import(all, ctx);
            }
            Cmd::CancelImport => {
                if let Some(job) = &self.job {
                    job.control
                        .cancel
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Cmd::ExportPng => self.show_export = true,
            Cmd::ExportCsv => {
                let name = format!("costlens-by-{}.csv", self.settings.spec.dimension.key());
                if let Some(p) = self.dialogs.save_file(&name, "csv") {
                    self.export_csv_to(&p);
                }
            }
            Cmd::LoadPriceFile => {
                if let Some(p) = self.dialogs.open_price_file() {
                    self.load_price_file(&p);
                }
            }
            Cmd::ResetPrices => {
                self.settings.overrides = PriceFile::default();
                self.pipeline.edit_table(|t| *t = PriceTable::bundled());
                self.choices = Choices::default();
                self.set_status("Prices reset to the bundled list prices", false);
            }
            Cmd::MapModel(from, to) => {
                match self.pipeline.edit_table(|t| t.map_model(&from, &to)) {
                    Ok(()) => {
                        self.settings.overrides.map.insert(from.clone(), to.clone());
                        self.choices = Choices::default();
                        self.set_status(format!("{from} is now billed as {to}"), false);
                    }
                    Err(e) => self.set_status(e.to_string(), true),
                }
            }
            Cmd::PricesChanged => {
                // Model labels come from the price table.
                self.pipeline.edit_table(|_| ());
                self.choices = Choices::default();
            }
            // The pipeline compares the settings with what it shows (`refresh`).
            Cmd::ViewChanged | Cmd::LeversChanged => {}
            Cmd::Reimport => self.reimport(ctx),
            Cmd::ShowSample => {
                let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
                self.set_data(loaded.data, Source::Sample);
            }
        }
    }

    pub fn load_price_file(&mut self, path: &std::path::Path) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return self.set_status(format!("Cannot read {}: {e}", path.display()), true),
        };
        let name = path.display().to_string();
        match self.pipeline.edit_table(|t| t.apply_text(&name, &text)) {
            Ok(applied) => {
                // Remember the effect, not the path: the file may move.
                let mut probe = PriceTable::bundled();
                if probe.apply_text(&name, &text).is_ok() {
                    for m in &probe.models {
                        if applied.changed.contains(&m.id) {
                            self.settings.overrides.models.retain(|o| o.id != m.id);
                            self.settings.overrides.models.push(m.clone());
                        }
                    }
                }
                let as_of = self.pipeline.table().as_of;
                if as_of > self.settings.overrides.as_of.unwrap_or_default() {
                    self.settings.overrides.as_of = Some(as_of);
                }
                self.pending.push(Cmd::PricesChanged);
                let kept = if applied.kept.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; kept the bundled prices of {} models it also lists (they have dated prices and tiers the file cannot express)",
                        applied.kept.len()
                    )
                };
                self.set_status(
                    format!(
                        "Loaded {} prices from {}{kept}",
                        applied.changed.len(),
                        name
                    ),
                    false,
                );
            }
            Err(e) => self.set_status(e.to_string(), true),
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let cmd = |k| KeyboardShortcut::new(Modifiers::COMMAND, k);
        let cmd_shift = |k| KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, k);
        ctx.input_mut(|i| {
            if i.consume_shortcut(&cmd_shift(Key::O)) {
                self.pending.push(Cmd::OpenFolder);
            }
            if i.consume_shortcut(&cmd(Key::O)) {
                self.pending.push(Cmd::OpenFiles);
            }
            if i.consume_shortcut(&cmd_shift(Key::E)) {
                self.pending.push(Cmd::ExportCsv);
            }
            if i.consume_shortcut(&cmd(Key::E)) {
                self.pending.push(Cmd::ExportPng);
            }
            if i.consume_shortcut(&cmd(Key::R)) {
                self.settings.levers = Levers::default();
                self.pending.push(Cmd::LeversChanged);
            }
            if i.consume_shortcut(&cmd(Key::I)) {
                self.show_report = !self.show_report;
            }
            if i.consume_shortcut(&cmd(Key::Num1)) {
                self.settings.tab = Tab::Dashboard;
            }
            if i.consume_shortcut(&cmd(Key::Num2)) {
                self.settings.tab = Tab::Calculator;
            }
            if i.consume_shortcut(&cmd(Key::Num3)) {
                self.settings.tab = Tab::Prices;
            }
            if i.consume_key(Modifiers::NONE, Key::F1) {
                self.show_shortcuts = !self.show_shortcuts;
            }
            if i.key_pressed(Key::Escape) {
                self.show_shortcuts = false;
                self.show_export = false;
            }
        });
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::containers::menu::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.add(egui::Button::new("Open…").shortcut_text(ui.ctx().format_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::O)))).clicked() {
                    self.pending.push(Cmd::OpenFiles);
                }
                if ui.add(egui::Button::new("Open folder…").shortcut_text(ui.ctx().format_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::O)))).clicked() {
                    self.pending.push(Cmd::OpenFolder);
                }
                if ui.button("Open Claude Code logs").on_hover_text("Imports ~/.claude/projects, ~/.config/claude/projects or $CLAUDE_CONFIG_DIR").clicked() {
                    self.pending.push(Cmd::OpenClaudeCode);
                }
                ui.menu_button("Open Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.label("No recent files");
                    }
                    for p in self.settings.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            self.pending.push(Cmd::Open(vec![p]));
                        }
                    }
                    if !self.settings.recent.is_empty() && ui.button("Clear recent").clicked() {
                        self.settings.recent.clear();
                    }
                });
                if ui.button("Show sample data").clicked() {
                    self.pending.push(Cmd::ShowSample);
                }
                ui.separator();
                if ui.add(egui::Button::new("Export chart as PNG…").shortcut_text(ui.ctx().format_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::E)))).clicked() {
                    self.pending.push(Cmd::ExportPng);
                }
                if ui.add(egui::Button::new("Export table as CSV…").shortcut_text(ui.ctx().format_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::E)))).clicked() {
                    self.pending.push(Cmd::ExportCsv);
                }
                ui.separator();
                if ui.button("Import report").clicked() {
                    self.show_report = true;
                }
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.label("Theme");
                let before = self.settings.theme;
                ui.radio_value(&mut self.settings.theme, ThemeChoice::System, "Follow system");
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Dark, "Dark");
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Light, "Light");
                if before != self.settings.theme {
                    apply_theme(ui.ctx(), self.settings.theme);
                }
                ui.separator();
                ui.checkbox(&mut self.settings.cumulative, "Cumulative chart");
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Keyboard shortcuts (F1)").clicked() {
                    self.show_shortcuts = true;
                }
                ui.label(format!("costlens {}", env!("CARGO_PKG_VERSION")));
            });
            ui.separator();
            for (tab, label) in [
                (Tab::Dashboard, "Dashboard"),
                (Tab::Calculator, "Calculator"),
                (Tab::Prices, "Prices"),
            ] {
                ui.selectable_value(&mut self.settings.tab, tab, label);
            }
        });
    }

    fn shortcuts_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_shortcuts;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for (k, what) in [
                        ("Ctrl+O", "Open files"),
                        ("Ctrl+Shift+O", "Open a folder"),
                        ("Ctrl+E", "Export chart as PNG"),
                        ("Ctrl+Shift+E", "Export table as CSV"),
                        ("Ctrl+R", "Reset all levers"),
                        ("Ctrl+I", "Import report"),
                        ("Ctrl+1 / 2 / 3", "Dashboard / Calculator / Prices"),
                        ("F1", "This list"),
                        ("Drag & drop", "Add files or folders"),
                        ("Double-click chart", "Reset zoom"),
                    ] {
                        ui.monospace(k);
                        ui.label(what);
                        ui.end_row();
                    }
                });
            });
        self.show_shortcuts = open;
    }

    fn export_dialog(&mut self, ctx: &egui::Context) {
        if !self.show_export {
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("export_png")).show(ctx, |ui| {
            ui.heading("Export chart as PNG");
            ui.label("The chart as shown, with title, totals, legend and the lever settings as a caption.");
            egui::Grid::new("export_size").show(ui, |ui| {
                let l = ui.label("Width (px)");
                ui.add(egui::DragValue::new(&mut self.settings.export_width).range(400..=8000))
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Height (px)");
                ui.add(egui::DragValue::new(&mut self.settings.export_height).range(300..=8000))
                    .labelled_by(l.id);
                ui.end_row();
            });
            ui.horizontal(|ui| {
                for (w, h) in [(1600, 900), (1200, 675), (2400, 1350)] {
                    if ui.button(format!("{w}×{h}")).clicked() {
                        self.settings.export_width = w;
                        self.settings.export_height = h;
                    }
                }
            });
            ui.label("Rendered at 2x pixel density.");
            ui.separator();
            ui.horizontal(|ui| {
                if ui.button("Save PNG…").clicked() {
                    if let Some(p) = self.dialogs.save_file("costlens-savings.png", "png") {
                        self.export_png_to(p, ui.ctx());
                    }
                    self.show_export = false;
                }
                if ui.button("Cancel").clicked() {
                    self.show_export = false;
                }
            });
        });
        if modal.should_close() {
            self.show_export = false;
        }
    }

    fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            let cmd = if self.source == Source::Sample {
                Cmd::Open(dropped)
            } else {
                Cmd::AddFiles(dropped)
            };
            self.pending.push(cmd);
        }
    }

    /// One frame of UI; also what tests drive.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll_jobs(&ctx);
        self.shortcuts(&ctx);
        self.handle_drops(&ctx);
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        if let Some(job) = &self.job {
            let (done, total) = job.control.progress();
            let frac = if total > 0 {
                done as f32 / total as f32
            } else {
                0.0
            };
            let label = format!(
                "Importing {} — {} of {}",
                describe_paths(&job.paths),
                human_bytes(done),
                human_bytes(total)
            );
            let mut cancel = false;
            egui::Panel::top("progress").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.add(
                        egui::ProgressBar::new(frac)
                            .text(label)
                            .desired_width(ui.available_width() - 90.0),
                    );
                    cancel = ui.button("Cancel").clicked();
                });
            });
            if cancel {
                self.pending.push(Cmd::CancelImport);
            }
        }
        if self.source == Source::Sample && self.settings.tab == Tab::Dashboard {
            egui::Panel::top("sample_banner").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new("Sample data").strong());
                    ui.label("— this is a made-up 90-day Console export. Open your own export to see your spend:");
                    if ui.button("Open your export…").clicked() {
                        self.pending.push(Cmd::OpenFiles);
                    }
                    if ui.button("Open Claude Code logs").clicked() {
                        self.pending.push(Cmd::OpenClaudeCode);
                    }
                    ui.label("(or drop files here)");
                });
            });
        }
        self.price_guard(ui);
        match self.settings.tab {
            Tab::Dashboard => dashboard::show(self, ui),
            Tab::Calculator => calculator::show(self, ui),
            Tab::Prices => prices_view::show(self, ui),
        }
        self.shortcuts_window(&ctx);
        self.export_dialog(&ctx);
        import_report::window(self, &ctx);
        let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
        if hovering {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop_overlay"),
            ));
            let rect = ctx.content_rect();
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop usage files or folders to import",
                egui::FontId::proportional(24.0),
                egui::Color32::WHITE,
            );
        }
        for cmd in std::mem::take(&mut self.pending) {
            self.apply(cmd, &ctx);
        }
        self.refresh();
    }

    /// The stale-price banner: models the price table lacks, usage after its date, with the
    /// fixes one click away.
    fn price_guard(&mut self, ui: &mut egui::Ui) {
        let check = self.pipeline.price_check();
        if !check.fires() {
            return;
        }
        let messages = check.messages(false);
        let unknown = !check.unknown_models.is_empty();
        egui::Panel::top("price_guard").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let warn = ui.visuals().warn_fg_color;
                ui.label(RichText::new("⚠ Prices").strong().color(warn));
                for m in &messages {
                    ui.label(m);
                }
                if unknown
                    && ui
                        .button("Map…")
                        .on_hover_text("Bill an unknown model as a priced one (in the import report)")
                        .clicked()
                {
                    self.show_report = true;
                }
                if ui
                    .button("Load price file…")
                    .on_hover_text("A newer costlens price file, or LiteLLM's model_prices_and_context_window.json")
                    .clicked()
                {
                    self.pending.push(Cmd::LoadPriceFile);
                }
            });
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let files = &self.pipeline.data().files;
            let rows: u64 = files.iter().map(|f| f.rows).sum();
            let src = match &self.source {
                Source::Sample => "Sample data".to_owned(),
                Source::Files(p) => describe_paths(p),
            };
            ui.label(format!("{src} · {} files · {} rows", files.len(), costlens::domain::money::count(rows)));
            let rejected = self.pipeline.data().rejected_total as usize;
            let problems = rejected + self.load_errors.len();
            if problems > 0
                && ui
                    .link(format!("{problems} problems"))
                    .on_hover_text("Open the import report")
                    .clicked()
            {
                self.show_report = true;
            }
            let unpriced = self.pipeline.view().unpriced.len();
            if unpriced > 0
                && ui
                    .link(format!("{unpriced} unpriced models"))
                    .on_hover_text("Their tokens are not in the totals: map them to a priced model in the import report")
                    .clicked()
            {
                self.show_report = true;
            }
            // Timings go in the tooltip: the visible bar stays the same run to run.
            ui.label(format!("· {} priced groups", self.pipeline.view().groups())).on_hover_text(format!(
                "last re-price took {:.3} ms",
                self.pipeline.evaluate_ms
            ));
            if let Some(s) = &self.status {
                let color = if s.error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                ui.separator();
                ui.colored_label(color, &s.text);
            }
        });
    }
}

impl eframe::App for CostlensApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    /// eframe calls this every 30 s and on exit; settings go to our own file, atomically.
    fn save(&mut self, _storage: &mut dyn eframe::Storage) {
        self.save_settings();
    }
}

pub fn apply_theme(ctx: &egui::Context, theme: ThemeChoice) {
    ctx.set_theme(match theme {
        ThemeChoice::System => egui::ThemePreference::System,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
        ThemeChoice::Light => egui::ThemePreference::Light,
    });
}

pub fn describe_paths(p: &[PathBuf]) -> String {
    match p {
        [] => "nothing".into(),
        [one] => one
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| one.display().to_string()),
        many => format!("{} files", many.len()),
    }
}

pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} KB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// Starts the native app.
pub fn run(files: Vec<PathBuf>) -> eframe::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("costlens")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "costlens",
        options,
        Box::new(move |cc| Ok(Box::new(CostlensApp::new(cc, files)))),
    )
}
