//! What the app remembers between runs, in our own JSON file (`costlens::store::settings`),
//! written shortly after each change (a crash loses at most a second of it), not only on a
//! clean quit.

use costlens::domain::prices::PriceFile;
use costlens::engine::estimate::Workload;
use costlens::engine::scenario::Levers;
use costlens::engine::view::ViewSpec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

/// How files are chosen: the system's dialog when there is one, or always costlens's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ChooserChoice {
    #[default]
    System,
    BuiltIn,
}

/// The files opened together once (a usage export and its cost export): reopened together.
/// Older settings kept single paths; they read as sets of one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecentEntry {
    Set(Vec<PathBuf>),
    One(PathBuf),
}

impl RecentEntry {
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            RecentEntry::Set(v) => v.clone(),
            RecentEntry::One(p) => vec![p.clone()],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: ThemeChoice,
    pub tab: Tab,
    pub spec: ViewSpec,
    pub levers: Levers,
    pub cumulative: bool,
    pub recent: Vec<RecentEntry>,
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
    pub chooser: ChooserChoice,
    pub show_filters: bool,
    pub show_levers: bool,
    /// Show every model as a routing target, dearer ones too.
    pub route_any_target: bool,
    /// A monthly budget in dollars (0: none), drawn on the cumulative chart.
    pub budget_usd: f64,
    /// Keep the usage of Claude Code logs in opened folders in the usage history, and count
    /// the requests of logs deleted since (the import report's switch).
    pub keep_history: bool,
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
            chooser: ChooserChoice::System,
            show_filters: true,
            show_levers: true,
            route_any_target: false,
            budget_usd: 0.0,
            keep_history: true,
        }
    }
}

pub const RECENT_MAX: usize = 10;

impl Settings {
    /// Puts a set of files first in Open Recent.
    pub fn remember(&mut self, paths: &[PathBuf]) {
        let set = RecentEntry::Set(paths.to_vec());
        self.recent.retain(|r| r.paths() != paths);
        self.recent.insert(0, set);
        self.recent.truncate(RECENT_MAX);
    }
}

/// Saves the settings a moment after they last changed.
#[derive(Debug, Default)]
pub struct Autosave {
    /// What was last written (or read).
    saved: Option<Settings>,
    /// When the settings were first seen to differ from it.
    dirty_since: Option<Instant>,
}

/// How long settings must stay unchanged before they are written (a slider drag writes once).
pub const SAVE_AFTER: Duration = Duration::from_millis(700);

impl Autosave {
    pub fn new(saved: &Settings) -> Autosave {
        Autosave {
            saved: Some(saved.clone()),
            dirty_since: None,
        }
    }

    /// Whether `now` is the moment to write `current`: it differs from what was saved and has
    /// stayed so for [`SAVE_AFTER`]. The caller writes, then calls [`Autosave::saved`].
    pub fn due(&mut self, current: &Settings, now: Instant) -> bool {
        if self.saved.as_ref() == Some(current) {
            self.dirty_since = None;
            return false;
        }
        let since = *self.dirty_since.get_or_insert(now);
        now.duration_since(since) >= SAVE_AFTER
    }

    pub fn saved(&mut self, current: &Settings) {
        self.saved = Some(current.clone());
        self.dirty_since = None;
    }

    /// Whether a save is waiting (the app asks for a repaint to do it).
    pub fn pending(&self) -> bool {
        self.dirty_since.is_some()
    }
}
