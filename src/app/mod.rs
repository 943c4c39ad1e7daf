//! The desktop app: a thin layer over the costlens core, built the way egui_demo_app and rerun
//! are. `CostlensApp` owns the persisted settings, the pipeline and the background jobs; each
//! panel is a struct with its own UI state that draws from the app and returns [`Action`]s;
//! every named action is a [`Command`] (menus, shortcuts and the F1 sheet read one table);
//! actions are applied once per frame, and jobs are polled once per frame.

pub mod calculator;
pub mod command;
pub mod dashboard;
pub mod file_chooser;
pub mod filters;
pub mod import_report;
pub mod levers;
pub mod prices_view;
pub mod settings;

pub use command::Command;
pub use file_chooser::{Chooser, Dialogs, NativeDialogs, Outcome, Picked, Purpose};
pub use filters::Choices;
pub use settings::{ChooserChoice, Settings, Tab, ThemeChoice};

use crate::render::png;
use costlens::domain::money;
use costlens::domain::prices::{PriceFile, PriceTable};
use costlens::domain::time;
use costlens::engine::chart::{ChartData, levers_caption};
use costlens::engine::scenario::Levers;
use costlens::engine::view::Dimension;
use costlens::import::{Control, Options};
use costlens::pipeline::Pipeline;
use costlens::pipeline::load::{self, Loaded};
use costlens::store::cache::Cache;
use egui::RichText;
use std::path::{Path, PathBuf};
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

/// Where the current data came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Sample,
    Files(Vec<PathBuf>),
}

/// What panels ask the app to do, applied once per frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A named command (a menu entry, a shortcut, a button).
    Run(Command),
    Open(Vec<PathBuf>),
    AddFiles(Vec<PathBuf>),
    CancelImport,
    LoadPriceFile,
    ResetPrices,
    MapModel(String, String),
    /// The price table was edited in place.
    PricesChanged,
    /// Import again with the current options.
    Reimport,
    /// Choose where to save the chart, then render it.
    SaveChart,
    /// Keep only this value of a breakdown dimension (a click in the table).
    FilterTo(Dimension, String),
    /// Keep the scenario the notice is about.
    KeepScenario,
    /// Make the n-th savings opportunity the scenario: its filter and its levers.
    ApplyOpportunity(usize),
}

/// What to do with the paths a file dialog gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    Import,
    SavePng,
    SaveCsv,
    LoadPrices,
}

/// A message in the status bar. Information goes after [`STATUS_TTL`]; an error stays until
/// the user does something else.
#[derive(Clone, Debug)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub at: Instant,
}

pub const STATUS_TTL: Duration = Duration::from_secs(12);

struct ImportJob {
    control: Arc<Control>,
    rx: Receiver<(Loaded, Pipeline)>,
    paths: Vec<PathBuf>,
    started: Instant,
}

struct ExportJob {
    rx: Receiver<Result<PathBuf, String>>,
}

/// A saved scenario applied to data it was not made on: said, with a reset one click away.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioNotice {
    pub caption: String,
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
    /// The pipeline generation the chart was made from.
    drawn: Option<u64>,
    /// Bumped when the data or the price table changes (the filters' choices follow it).
    data_epoch: u64,
    choices_epoch: Option<u64>,
    /// The chart's zoom and pan are dropped on the next frame (new data, other periods).
    pub chart_reset: bool,
    chart_key: Option<(time::Period, Option<i64>, Option<i64>)>,
    pub load_errors: Vec<String>,
    pub unrecognised: Vec<String>,
    pub status: Option<Status>,
    pub show_report: bool,
    pub show_shortcuts: bool,
    pub show_export: bool,
    pub scenario_notice: Option<ScenarioNotice>,
    pub filters_panel: filters::FiltersPanel,
    pub levers_panel: levers::LeversPanel,
    pub dashboard: dashboard::DashboardPanel,
    /// costlens's own file chooser, when open, and what its paths are for.
    chooser: Option<(Chooser, After)>,
    /// Where settings are saved; `None` in tests (nothing is written).
    settings_path: Option<PathBuf>,
    autosave: settings::Autosave,
    /// The import cache: the user's in the app, none in tests (the user's cache is neither
    /// read nor written by them, unless they give one).
    pub(crate) cache: Cache,
    /// The usage history database: the user's in the app (unless $COSTLENS_NO_HISTORY), none
    /// in tests unless they give one.
    pub history_db: Option<PathBuf>,
    /// What the last import said about the history (requests from deleted logs, problems).
    pub history_notes: Vec<String>,
    /// Today (the clock's, in the app; none in tests unless they give one): a month that
    /// ended before it is estimated, not forecast.
    pub today: Option<i64>,
    /// Whether `today` follows the clock (the app as eframe starts it).
    follow_clock: bool,
    job: Option<ImportJob>,
    export_job: Option<ExportJob>,
    pending: Vec<Action>,
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
        app.history_db = costlens::store::history::on_by_default()
            .then(costlens::store::history::default_path)
            .flatten();
        if let Some(p) = problem {
            app.set_status(p, true);
        }
        app.follow_clock = true;
        app.set_today(Some(chrono::Utc::now().timestamp()));
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
                at: Instant::now(),
            });
        }
        let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
        let pipeline = Pipeline::new(loaded.data, table);
        let autosave = settings::Autosave::new(&settings);
        let mut app = CostlensApp {
            settings,
            choices: Choices::default(),
            dialogs,
            source: Source::Sample,
            pipeline,
            chart: ChartData::default(),
            drawn: None,
            data_epoch: 0,
            choices_epoch: None,
            chart_reset: true,
            chart_key: None,
            load_errors: loaded.errors.iter().map(|e| e.to_string()).collect(),
            unrecognised: Vec::new(),
            status,
            show_report: false,
            show_shortcuts: false,
            show_export: false,
            scenario_notice: None,
            filters_panel: Default::default(),
            levers_panel: Default::default(),
            dashboard: Default::default(),
            chooser: None,
            settings_path: None,
            autosave,
            cache: Cache::disabled(),
            history_db: None,
            today: None,
            follow_clock: false,
            history_notes: Vec::new(),
            job: None,
            export_job: None,
            pending: Vec::new(),
        };
        app.notice_saved_scenario();
        app.refresh();
        app
    }

    /// Saves settings to `path` shortly after each change (tests of the autosave use this).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn save_settings_to(&mut self, path: PathBuf) {
        self.settings_path = Some(path);
    }

    /// Writes the settings file (temp file + rename). Errors reach the status bar.
    pub fn save_settings(&mut self) {
        if let Some(p) = self.settings_path.clone() {
            match costlens::store::settings::save_json(&p, &self.settings) {
                Ok(()) => self.autosave.saved(&self.settings),
                Err(e) => {
                    // Not retried every frame: the next change tries again.
                    self.autosave.saved(&self.settings);
                    self.set_status(
                        format!("Cannot save settings to {}: {e}", p.display()),
                        true,
                    );
                }
            }
        }
    }

    /// Replaces the data (the sample data again, a test's).
    pub fn set_data(&mut self, data: costlens::domain::dataset::Dataset, source: Source) {
        self.pipeline.set_data(data);
        self.set_data_source(source);
    }

    /// After the pipeline's data was replaced: where it came from; filters start afresh, the
    /// chart fits the new data, and a saved scenario applied to it is said.
    pub fn set_data_source(&mut self, source: Source) {
        self.drawn = None;
        self.data_epoch += 1;
        self.chart_reset = true;
        self.source = source;
        self.settings.spec.filter = Default::default();
        self.notice_saved_scenario();
    }

    fn notice_saved_scenario(&mut self) {
        self.scenario_notice = (!self.settings.levers.is_neutral()).then(|| ScenarioNotice {
            caption: levers_caption(&self.settings.levers, &self.pipeline.view().observed),
        });
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

    /// costlens's own file chooser, if open (the UI tests read it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn chooser(&self) -> Option<&Chooser> {
        self.chooser.as_ref().map(|c| &c.0)
    }

    pub fn push(&mut self, action: Action) {
        self.pending.push(action);
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            at: Instant::now(),
        });
    }

    /// Brings the pipeline up to date with the settings (it rebuilds only what changed: a
    /// lever re-evaluates, a filter rebuilds the view) and the chart with it. Cheap enough to
    /// run every frame.
    pub fn refresh(&mut self) {
        self.pipeline.set_spec(self.settings.spec.clone());
        self.pipeline.set_levers(self.settings.levers.clone());
        self.pipeline.set_budget(Some(self.settings.budget_usd));
        self.pipeline.refresh();
        if self.choices_epoch != Some(self.data_epoch) {
            self.choices_epoch = Some(self.data_epoch);
            self.choices = Choices::of(self.pipeline.analysis());
        }
        if self.drawn != Some(self.pipeline.generation()) {
            self.drawn = Some(self.pipeline.generation());
            let title = match &self.source {
                Source::Sample => "Claude API cost — sample data",
                _ => "Claude API cost: actual vs scenario",
            };
            self.chart = self.pipeline.chart(title);
            // Other periods (a filter, another bucket size): fit them, do not keep a zoom
            // into periods no longer shown.
            let key = (
                self.chart.period,
                self.chart.starts.first().copied(),
                self.chart.starts.last().copied(),
            );
            if self.chart_key != Some(key) {
                self.chart_key = Some(key);
                self.chart_reset = true;
            }
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
        let history = self.history_choice(&paths);
        let today = self.today;
        let levers = self.settings.levers.clone();
        std::thread::spawn(move || {
            let mut loaded =
                load::load_unless_unchanged(&p, &opts, &c, &cache, history.as_ref(), None);
            // The dataset moves into a pipeline, built here off the UI thread (the cube of a
            // large import takes a moment), exact at the levers in force so that setting them
            // on the UI thread does not build it again, while the import's snapshot is written;
            // the rest of `loaded` goes to the report.
            let data = std::mem::take(&mut loaded.data);
            let snapshot = loaded.snapshot.take();
            let analysis = load::Analysis::for_levers_saving(
                data,
                table,
                &costlens::engine::cube::prompt_length_grid(),
                &levers,
                snapshot,
            );
            let pipeline = Pipeline::from_analysis_at(analysis, today);
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

    /// Sets today (see [`CostlensApp::today`]); the forecast is made again if the day changed.
    pub fn set_today(&mut self, today: Option<i64>) {
        self.today = today;
        self.pipeline.set_today(today);
        self.refresh();
    }

    /// Import options from the settings (the date for files that carry none).
    pub fn import_options(&self) -> Options {
        Options {
            date: time::Period::parse_day(self.settings.date.trim()),
            sum_overlaps: self.settings.sum_overlaps,
        }
    }

    /// The usage history this import keeps and reads back: only when a folder is opened (where
    /// Claude Code logs are found) and the import report's switch is on.
    fn history_choice(&self, paths: &[PathBuf]) -> Option<load::HistoryChoice> {
        let path = self.history_db.clone()?;
        (self.settings.keep_history && paths.iter().any(|p| p.is_dir())).then_some(
            load::HistoryChoice {
                path,
                all_files: false,
            },
        )
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
                    self.import_done(job, loaded, pipeline);
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

    fn import_done(&mut self, job: ImportJob, loaded: Loaded, pipeline: Pipeline) {
        if job.control.is_cancelled() {
            self.set_status("Import cancelled: nothing changed", false);
            return;
        }
        let secs = job.started.elapsed().as_secs_f64();
        self.load_errors = loaded.errors.iter().map(|e| e.to_string()).collect();
        self.unrecognised = loaded.unrecognised_in_folders;
        self.history_notes = loaded.history_warnings.clone();
        if let Some(h) = &pipeline.data().history {
            self.history_notes.insert(
                0,
                format!(
                    "Usage history: {} newly recorded, {}",
                    money::plural(h.recorded as usize, "request"),
                    h.summary()
                ),
            );
        }
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
        // The scenario, filters aside, carries over to the new data (and the notice says so).
        let mut pipeline = pipeline;
        pipeline.set_levers(self.settings.levers.clone());
        pipeline.set_today(self.today);
        self.pipeline = pipeline;
        self.set_data_source(Source::Files(job.paths.clone()));
        self.settings.remember(&job.paths);
        self.refresh();
        self.notice_saved_scenario();
        let problems = rejected + self.load_errors.len() + self.pipeline.view().unpriced.len();
        self.set_status(
            format!(
                "Imported {} from {} in {:.2} s{}{}{}",
                money::plural(rows as usize, "row"),
                describe_paths(&job.paths),
                secs,
                if loaded.from_snapshot {
                    " (no file changed since the last import: read from the cache)"
                } else {
                    ""
                },
                match &self.pipeline.data().history {
                    Some(h) if h.requests_from_deleted_logs > 0 => format!(
                        ", {} from deleted logs",
                        money::plural(h.requests_from_deleted_logs as usize, "request")
                    ),
                    _ => String::new(),
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
    pub fn export_csv_to(&mut self, path: &Path) {
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

    /// Asks for paths: the system's dialog, or costlens's own chooser when the user prefers
    /// it or there is no system dialog (said in the status bar, not taken for "cancelled").
    fn choose(&mut self, purpose: Purpose, after: After, ctx: &egui::Context) {
        let why = if self.settings.chooser == ChooserChoice::BuiltIn {
            "costlens's file chooser (View > File chooser > System dialog to use the system's)"
                .to_owned()
        } else {
            match self.dialogs.pick(&purpose) {
                Picked::Paths(p) => return self.chosen(after, p, ctx),
                Picked::Cancelled => return,
                Picked::Unavailable(why) => {
                    self.set_status(format!("{why}: type or pick a path"), false);
                    why
                }
            }
        };
        let start = self.start_dir();
        self.chooser = Some((Chooser::new(purpose, &start, why), after));
    }

    /// Where the chooser starts: the folder of the last files opened, else home.
    fn start_dir(&self) -> PathBuf {
        self.settings
            .recent
            .first()
            .and_then(|r| r.paths().first().cloned())
            .and_then(|p| {
                if p.is_dir() {
                    Some(p)
                } else {
                    p.parent().map(Path::to_path_buf)
                }
            })
            .filter(|d| d.is_dir())
            .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn chosen(&mut self, after: After, paths: Vec<PathBuf>, ctx: &egui::Context) {
        let Some(first) = paths.first().cloned() else {
            return;
        };
        match after {
            After::Import => self.start_import(paths, ctx),
            After::SavePng => self.export_png_to(first, ctx),
            After::SaveCsv => self.export_csv_to(&first),
            After::LoadPrices => self.load_price_file(&first),
        }
    }

    fn run(&mut self, c: Command, ctx: &egui::Context) {
        match c {
            Command::OpenFiles => self.choose(Purpose::OpenFiles, After::Import, ctx),
            Command::OpenFolder => self.choose(Purpose::OpenFolder, After::Import, ctx),
            Command::OpenClaudeCode => {
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
            Command::ShowSample => {
                let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
                self.load_errors.clear();
                self.unrecognised.clear();
                self.set_data(loaded.data, Source::Sample);
            }
            Command::ExportPng => self.show_export = true,
            Command::ExportCsv => {
                let name = format!("costlens-by-{}.csv", self.settings.spec.dimension.key());
                self.choose(
                    Purpose::Save {
                        name,
                        extension: "csv".into(),
                    },
                    After::SaveCsv,
                    ctx,
                );
            }
            Command::ImportReport => self.show_report = !self.show_report,
            Command::ResetLevers => {
                // A value box being typed in would write its text back when it loses focus.
                if let Some(id) = ctx.memory(|m| m.focused()) {
                    ctx.memory_mut(|m| m.surrender_focus(id));
                }
                self.settings.levers = Levers::default();
                self.scenario_notice = None;
                self.levers_panel.refused = None;
            }
            Command::ResetChartView => self.chart_reset = true,
            Command::ToggleCumulative => self.settings.cumulative = !self.settings.cumulative,
            Command::ToggleFilters => self.settings.show_filters = !self.settings.show_filters,
            Command::ToggleLevers => self.settings.show_levers = !self.settings.show_levers,
            Command::Dashboard => self.settings.tab = Tab::Dashboard,
            Command::Calculator => self.settings.tab = Tab::Calculator,
            Command::Prices => self.settings.tab = Tab::Prices,
            Command::Shortcuts => self.show_shortcuts = !self.show_shortcuts,
            Command::Quit => {
                self.save_settings();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    fn apply(&mut self, action: Action, ctx: &egui::Context) {
        // What the user does next replaces an old message, an error too.
        if !matches!(action, Action::PricesChanged) {
            self.status = None;
        }
        match action {
            Action::Run(c) => self.run(c, ctx),
            Action::Open(paths) => self.start_import(paths, ctx),
            Action::AddFiles(paths) => {
                let mut all = self.input_paths();
                for p in paths {
                    if !all.contains(&p) {
                        all.push(p);
                    }
                }
                self.start_import(all, ctx);
            }
            Action::CancelImport => {
                if let Some(job) = &self.job {
                    job.control
                        .cancel
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Action::SaveChart => {
                self.show_export = false;
                self.choose(
                    Purpose::Save {
                        name: "costlens-savings.png".into(),
                        extension: "png".into(),
                    },
                    After::SavePng,
                    ctx,
                );
            }
            Action::LoadPriceFile => self.choose(Purpose::OpenPriceFile, After::LoadPrices, ctx),
            Action::ResetPrices => {
                self.settings.overrides = PriceFile::default();
                self.pipeline.edit_table(|t| *t = PriceTable::bundled());
                self.data_epoch += 1;
                self.set_status("Prices reset to the bundled list prices", false);
            }
            Action::MapModel(from, to) => {
                match self.pipeline.edit_table(|t| t.map_model(&from, &to)) {
                    Ok(()) => {
                        self.settings.overrides.map.insert(from.clone(), to.clone());
                        self.data_epoch += 1;
                        self.set_status(format!("{from} is now billed as {to}"), false);
                    }
                    Err(e) => self.set_status(e.to_string(), true),
                }
            }
            Action::PricesChanged => {
                // Model labels come from the price table.
                self.pipeline.edit_table(|_| ());
                self.data_epoch += 1;
            }
            Action::Reimport => self.reimport(ctx),
            Action::FilterTo(dim, value) => self.filter_to(dim, value),
            Action::KeepScenario => self.scenario_notice = None,
            Action::ApplyOpportunity(i) => {
                if let Some(o) = self.pipeline.opportunities().get(i).cloned() {
                    self.settings.spec.filter = o.filter;
                    self.settings.levers = o.levers;
                    self.set_status(
                        format!(
                            "Scenario: {} for {} {} (Clear filters and Reset levers to go back)",
                            o.detail,
                            o.dimension.label().to_lowercase(),
                            o.key
                        ),
                        false,
                    );
                }
            }
        }
    }

    /// Drill-down: keep only `value` of `dim` (a click on a breakdown row).
    fn filter_to(&mut self, dim: Dimension, value: String) {
        let f = &mut self.settings.spec.filter;
        let list = match dim {
            Dimension::Model => &mut f.models,
            Dimension::Workspace => &mut f.workspaces,
            Dimension::Key => &mut f.api_keys,
            Dimension::Project => &mut f.projects,
            Dimension::Source => &mut f.sources,
            Dimension::Machine => &mut f.machines,
            Dimension::Category | Dimension::Tier => return,
        };
        *list = vec![value.clone()];
        let shown = match dim {
            Dimension::Source => self
                .choices
                .sources
                .iter()
                .find(|s| s.0 == value)
                .map_or(value.clone(), |s| s.1.clone()),
            _ => value,
        };
        self.set_status(
            format!(
                "Showing {} {shown} only (Clear filters to see everything)",
                dim.label().to_lowercase()
            ),
            false,
        );
    }

    pub fn load_price_file(&mut self, path: &Path) {
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
                self.data_epoch += 1;
                let kept = if applied.kept.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; kept the bundled prices of {} it also lists (they have dated prices and tiers the file cannot express)",
                        money::plural(applied.kept.len(), "model")
                    )
                };
                self.set_status(
                    format!(
                        "Loaded prices of {} from {}{kept}",
                        money::plural(applied.changed.len(), "model"),
                        name
                    ),
                    false,
                );
            }
            Err(e) => self.set_status(e.to_string(), true),
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        let run = |c: Command, ui: &mut egui::Ui, acts: &mut Vec<Action>| {
            if c.menu_button(ui) {
                acts.push(Action::Run(c));
            }
        };
        let mut acts = Vec::new();
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                run(Command::OpenFiles, ui, &mut acts);
                run(Command::OpenFolder, ui, &mut acts);
                run(Command::OpenClaudeCode, ui, &mut acts);
                ui.menu_button("Open Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.label(RichText::new("Nothing opened yet").weak());
                    }
                    for entry in self.settings.recent.clone() {
                        let paths = entry.paths();
                        let missing = paths.iter().filter(|p| !p.exists()).count();
                        let mut label = describe_set(&paths);
                        if missing > 0 {
                            label.push_str(&format!(" ({missing} missing)"));
                        }
                        let hover = paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join("\n");
                        if ui
                            .add_enabled(missing < paths.len(), egui::Button::new(label))
                            .on_hover_text(hover)
                            .clicked()
                        {
                            acts.push(Action::Open(paths));
                        }
                    }
                    if !self.settings.recent.is_empty() {
                        ui.separator();
                        if ui.button("Clear recent").clicked() {
                            self.settings.recent.clear();
                        }
                    }
                });
                run(Command::ShowSample, ui, &mut acts);
                ui.separator();
                run(Command::ExportPng, ui, &mut acts);
                run(Command::ExportCsv, ui, &mut acts);
                ui.separator();
                if ui
                    .button("Load price file…")
                    .on_hover_text(
                        "A costlens price JSON or LiteLLM's model_prices_and_context_window.json",
                    )
                    .clicked()
                {
                    acts.push(Action::LoadPriceFile);
                }
                run(Command::ImportReport, ui, &mut acts);
                ui.separator();
                run(Command::Quit, ui, &mut acts);
            });
            ui.menu_button("View", |ui| {
                ui.label(RichText::new("Theme").weak());
                let before = self.settings.theme;
                ui.radio_value(
                    &mut self.settings.theme,
                    ThemeChoice::System,
                    "Follow system",
                );
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Dark, "Dark");
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Light, "Light");
                if before != self.settings.theme {
                    apply_theme(ui.ctx(), self.settings.theme);
                }
                ui.separator();
                for (c, on) in [
                    (Command::ToggleCumulative, self.settings.cumulative),
                    (Command::ToggleFilters, self.settings.show_filters),
                    (Command::ToggleLevers, self.settings.show_levers),
                ] {
                    let mut v = on;
                    if ui
                        .checkbox(&mut v, c.label())
                        .on_hover_text(format!("{} ({})", c.help(), c.shortcut_text(ui.ctx())))
                        .clicked()
                    {
                        acts.push(Action::Run(c));
                    }
                }
                run(Command::ResetChartView, ui, &mut acts);
                ui.separator();
                ui.label(RichText::new("File chooser").weak());
                ui.radio_value(
                    &mut self.settings.chooser,
                    ChooserChoice::System,
                    "System dialog",
                )
                .on_hover_text("The desktop's file dialog; costlens's own when there is none");
                ui.radio_value(
                    &mut self.settings.chooser,
                    ChooserChoice::BuiltIn,
                    "costlens's own (a path field with Tab completion)",
                );
            });
            ui.menu_button("Help", |ui| {
                run(Command::Shortcuts, ui, &mut acts);
                ui.label(format!("costlens {}", env!("CARGO_PKG_VERSION")));
            });
            ui.separator();
            for (tab, c) in [
                (Tab::Dashboard, Command::Dashboard),
                (Tab::Calculator, Command::Calculator),
                (Tab::Prices, Command::Prices),
            ] {
                if ui
                    .selectable_label(self.settings.tab == tab, c.label())
                    .on_hover_text(c.shortcut_text(ui.ctx()))
                    .clicked()
                {
                    acts.push(Action::Run(c));
                }
            }
        });
        self.pending.extend(acts);
    }

    fn shortcuts_window(&mut self, ctx: &egui::Context) {
        use strum::IntoEnumIterator;
        let mut open = self.show_shortcuts;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for c in Command::iter().filter(|c| c.shortcut().is_some()) {
                        ui.monospace(c.shortcut_text(ctx));
                        ui.label(c.help());
                        ui.end_row();
                    }
                    for (k, what) in [
                        ("← →", "Step a focused slider"),
                        ("Shift + drag", "Move a slider ten times finer"),
                        ("Drag & drop", "Add files or folders"),
                        ("Double-click chart", "Fit the chart to the data"),
                        ("Click a table row", "Show only that model, key, workspace…"),
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
                    self.pending.push(Action::SaveChart);
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
            let action = if self.source == Source::Sample {
                Action::Open(dropped)
            } else {
                Action::AddFiles(dropped)
            };
            self.pending.push(action);
        }
    }

    /// One frame of UI; also what tests drive.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll_jobs(&ctx);
        // Settings changed outside a frame (a test, a job) are drawn now, not one frame late.
        self.refresh();
        // Shortcuts first, so a focused text field does not take them.
        for c in Command::pressed(&ctx) {
            self.pending.push(Action::Run(c));
        }
        self.handle_drops(&ctx);
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        self.progress(ui);
        self.banners(ui);
        match self.settings.tab {
            Tab::Dashboard => dashboard::show(self, ui),
            Tab::Calculator => calculator::show(self, ui),
            Tab::Prices => prices_view::show(self, ui),
        }
        self.shortcuts_window(&ctx);
        self.export_dialog(&ctx);
        import_report::window(self, &ctx);
        if let Some((chooser, after)) = &mut self.chooser {
            match chooser.show(&ctx) {
                Outcome::Open => {}
                Outcome::Cancelled => self.chooser = None,
                Outcome::Done(paths) => {
                    let after = *after;
                    self.chooser = None;
                    self.chosen(after, paths, &ctx);
                }
            }
        }
        drop_overlay(&ctx);
        for action in std::mem::take(&mut self.pending) {
            self.apply(action, &ctx);
        }
        // What this frame changed is drawn in the next one, right away.
        let before = self.pipeline.generation();
        self.refresh();
        if self.pipeline.generation() != before {
            ctx.request_repaint();
        }
        self.housekeeping(&ctx);
    }

    /// Saves settings a moment after they change, and lets an old message go.
    fn housekeeping(&mut self, ctx: &egui::Context) {
        if self.settings_path.is_some() {
            if self.autosave.due(&self.settings, Instant::now()) {
                self.save_settings();
            } else if self.autosave.pending() {
                ctx.request_repaint_after(settings::SAVE_AFTER);
            }
        }
        if let Some(s) = &self.status
            && !s.error
            && self.job.is_none()
            && self.export_job.is_none()
        {
            let age = s.at.elapsed();
            if age >= STATUS_TTL {
                self.status = None;
            } else {
                ctx.request_repaint_after(STATUS_TTL - age);
            }
        }
    }

    fn progress(&mut self, ui: &mut egui::Ui) {
        let Some(job) = &self.job else {
            return;
        };
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
                        .desired_width((ui.available_width() - 90.0).max(100.0)),
                );
                cancel = ui.button("Cancel").clicked();
            });
        });
        if cancel {
            self.pending.push(Action::CancelImport);
        }
    }

    /// The banners under the menu: sample data, a saved scenario applied to new data, prices
    /// that cannot be trusted for this data.
    fn banners(&mut self, ui: &mut egui::Ui) {
        if self.source == Source::Sample && self.settings.tab == Tab::Dashboard {
            egui::Panel::top("sample_banner").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("Sample data").strong());
                    ui.label("— a made-up 90-day Console export. Open your own to see your spend:");
                    if ui.button("Open your export…").clicked() {
                        self.pending.push(Action::Run(Command::OpenFiles));
                    }
                    if ui.button("Open Claude Code logs").clicked() {
                        self.pending.push(Action::Run(Command::OpenClaudeCode));
                    }
                    ui.label("(or drop files here)");
                });
            });
        }
        if let Some(n) = self.scenario_notice.clone()
            && self.settings.tab == Tab::Dashboard
        {
            egui::Panel::top("scenario_notice").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new("Saved scenario applied")
                            .strong()
                            .color(ui.visuals().warn_fg_color),
                    );
                    ui.label(format!("{} — the scenario columns use it.", n.caption));
                    if ui.button("Reset levers").clicked() {
                        self.pending.push(Action::Run(Command::ResetLevers));
                    }
                    if ui.button("Keep").clicked() {
                        self.pending.push(Action::KeepScenario);
                    }
                });
            });
        }
        self.price_guard(ui);
        self.derived_banner(ui);
    }

    /// With only cost exports loaded, the usage is derived from the money: said, with the
    /// range the rounding of the amounts allows and the money that stays money only.
    fn derived_banner(&self, ui: &mut egui::Ui) {
        if self.settings.tab != Tab::Dashboard {
            return;
        }
        let Some(d) = &self.pipeline.data().derived else {
            return;
        };
        egui::Panel::top("derived_banner").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new("Usage derived from cost").strong())
                    .on_hover_text(d.summary());
                ui.label(format!(
                    "No usage file is loaded: {} tokens were derived from {} (cost / list price, {} to {} given the rounding of the amounts, up to {}); the recomputed cost and the levers work on them.",
                    money::count(d.tokens),
                    money::plural(d.rows as usize, "cost row"),
                    money::count(d.tokens_min.floor() as u64),
                    money::count(d.tokens_max.ceil() as u64),
                    money::usd(d.rounding_usd)
                ));
                for n in &d.not_derived {
                    ui.label(format!(
                        "{} of {} ({}) stays billed money only.",
                        money::usd(n.usd),
                        n.reason,
                        money::plural(n.rows as usize, "row")
                    ));
                }
            });
        });
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
                    self.pending.push(Action::LoadPriceFile);
                }
            });
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let files = &self.pipeline.data().files;
            let rows: u64 = files.iter().map(|f| f.rows).sum();
            let src = match &self.source {
                Source::Sample => "Sample data".to_owned(),
                Source::Files(p) => describe_set(p),
            };
            ui.label(format!(
                "{src} · {} · {}",
                money::plural(files.len(), "file"),
                money::plural(rows as usize, "row")
            ));
            let rejected = self.pipeline.data().rejected_total as usize;
            let problems = rejected + self.load_errors.len();
            if problems > 0
                && ui
                    .link(money::plural(problems, "problem"))
                    .on_hover_text("Open the import report")
                    .clicked()
            {
                self.show_report = true;
            }
            let unpriced = self.pipeline.view().unpriced.len();
            if unpriced > 0
                && ui
                    .link(money::plural(unpriced, "unpriced model"))
                    .on_hover_text("Their tokens are not in the totals: map them to a priced model in the import report")
                    .clicked()
            {
                self.show_report = true;
            }
            // Timings go in the tooltip: the visible bar stays the same run to run.
            ui.label(format!("· {}", money::plural(self.pipeline.view().groups(), "priced group")))
                .on_hover_text(format!(
                    "last re-price took {:.3} ms",
                    self.pipeline.evaluate_ms
                ));
            if let Some(s) = &self.status {
                let color = if s.error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().text_color()
                };
                ui.separator();
                ui.colored_label(color, &s.text);
            }
        });
    }
}

impl eframe::App for CostlensApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // Past midnight, a month may have ended: the forecast follows the clock.
        if self.follow_clock {
            self.today = Some(chrono::Utc::now().timestamp());
            self.pipeline.set_today(self.today);
        }
        self.frame(ui);
    }

    /// eframe calls this every 30 s and on exit; settings go to our own file, atomically.
    fn save(&mut self, _storage: &mut dyn eframe::Storage) {
        self.save_settings();
    }
}

fn drop_overlay(ctx: &egui::Context) {
    if ctx.input(|i| i.raw.hovered_files.is_empty()) {
        return;
    }
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

/// A saving in words and colour: "Saving" in green, or "Extra cost" in red when the scenario
/// costs more (never a saving with a minus sign); the amount is positive.
pub fn money_delta(ui: &egui::Ui, saving: f64) -> (&'static str, egui::Color32, String) {
    let (word, amount) = money::saving_or_extra(saving);
    let color = if saving <= -0.005 {
        ui.visuals().error_fg_color
    } else if saving < 0.005 {
        // Under half a cent is no saving to colour.
        ui.visuals().text_color()
    } else if ui.visuals().dark_mode {
        egui::Color32::from_rgb(90, 200, 120)
    } else {
        egui::Color32::from_rgb(20, 130, 60)
    };
    (word, color, money::usd(amount))
}

pub fn apply_theme(ctx: &egui::Context, theme: ThemeChoice) {
    ctx.set_theme(match theme {
        ThemeChoice::System => egui::ThemePreference::System,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
        ThemeChoice::Light => egui::ThemePreference::Light,
    });
}

/// One input by its name, several by count: "usage.csv", "3 files".
pub fn describe_paths(p: &[PathBuf]) -> String {
    match p {
        [] => "nothing".into(),
        [one] => file_name(one),
        many => money::plural(many.len(), "file"),
    }
}

/// A set of inputs by name: "tokens.csv + cost.csv", "a.csv + 2 more".
pub fn describe_set(p: &[PathBuf]) -> String {
    match p {
        [] => "nothing".into(),
        [one] => file_name(one),
        [a, b] => format!("{} + {}", file_name(a), file_name(b)),
        [a, rest @ ..] => format!("{} + {} more", file_name(a), rest.len()),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
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
            .with_min_inner_size([800.0, 560.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "costlens",
        options,
        Box::new(move |cc| Ok(Box::new(CostlensApp::new(cc, files)))),
    )
}
