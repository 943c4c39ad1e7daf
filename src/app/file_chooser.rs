//! File dialogs: the system's (rfd: the XDG desktop portal, or zenity) when there is one,
//! else costlens's own chooser: a path field with completion and a list of what is there.
//! Many minimal and tiling Linux desktops have neither a portal nor zenity; there, a system
//! dialog silently returns nothing, which used to read as "cancelled" (Open and Export did
//! nothing, with no word).

use std::path::{Path, PathBuf};

/// What a dialog is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Usage files to import (several).
    OpenFiles,
    /// A folder to import.
    OpenFolder,
    /// A price file.
    OpenPriceFile,
    /// Where to save, with a default file name and extension.
    Save { name: String, extension: String },
}

impl Purpose {
    pub fn title(&self) -> String {
        match self {
            Purpose::OpenFiles => "Open usage exports or logs".into(),
            Purpose::OpenFolder => "Open a folder of logs".into(),
            Purpose::OpenPriceFile => "Load a price file (costlens or LiteLLM JSON)".into(),
            Purpose::Save { extension, .. } => format!("Save as {}", extension.to_uppercase()),
        }
    }
}

/// What a dialog gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Picked {
    Paths(Vec<PathBuf>),
    Cancelled,
    /// No dialog could be shown (the reason): the app falls back to its own chooser.
    Unavailable(String),
}

/// System dialogs behind a trait, so tests never open one (a test gives a fake, including one
/// that fails).
pub trait Dialogs {
    fn pick(&self, purpose: &Purpose) -> Picked;
}

/// The system's dialogs (rfd).
pub struct NativeDialogs;

/// Why no system dialog can be shown here, if none can: on Linux, rfd needs the desktop
/// portal over D-Bus or the `zenity` program.
pub fn native_unavailable() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let on_path = |prog: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
    };
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty());
    let portal = [
        "/usr/share/dbus-1/services",
        "/usr/local/share/dbus-1/services",
    ]
    .iter()
    .any(|d| {
        Path::new(d)
            .join("org.freedesktop.portal.Desktop.service")
            .is_file()
    });
    if (bus && portal) || on_path("zenity") || on_path("kdialog") {
        None
    } else {
        Some(
            "no system file dialog here (no desktop portal and no zenity): using costlens's own"
                .into(),
        )
    }
}

impl Dialogs for NativeDialogs {
    fn pick(&self, purpose: &Purpose) -> Picked {
        if let Some(why) = native_unavailable() {
            return Picked::Unavailable(why);
        }
        let d = rfd::FileDialog::new().set_title(purpose.title());
        let got: Option<Vec<PathBuf>> = match purpose {
            Purpose::OpenFiles => d
                .add_filter(
                    "Usage exports and logs",
                    &["csv", "json", "jsonl", "ndjson", "txt", "log", "sqlite"],
                )
                .add_filter("All files", &["*"])
                .pick_files(),
            Purpose::OpenFolder => d.pick_folder().map(|p| vec![p]),
            Purpose::OpenPriceFile => d.add_filter("JSON", &["json"]).pick_file().map(|p| vec![p]),
            Purpose::Save { name, extension } => d
                .set_file_name(name)
                .add_filter(extension.to_uppercase(), &[extension.as_str()])
                .save_file()
                .map(|p| vec![p]),
        };
        match got {
            Some(p) if !p.is_empty() => Picked::Paths(p),
            _ => Picked::Cancelled,
        }
    }
}

/// costlens's own chooser: a path field (Tab completes), the folder's entries as a list,
/// and for opening files, the set chosen so far.
#[derive(Clone, Debug)]
pub struct Chooser {
    pub purpose: Purpose,
    /// The path being typed.
    pub text: String,
    /// Files chosen so far (opening several).
    pub chosen: Vec<PathBuf>,
    /// Why it is shown (the system dialog was missing, or the user prefers this one).
    pub why: String,
    pub error: Option<String>,
}

/// What the chooser decided this frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Done(Vec<PathBuf>),
    Cancelled,
}

impl Chooser {
    pub fn new(purpose: Purpose, start: &Path, why: String) -> Chooser {
        // `start` is a folder (it may be gone: then saving says so).
        let mut text = start.display().to_string();
        if !text.is_empty() && !text.ends_with(std::path::MAIN_SEPARATOR) {
            text.push(std::path::MAIN_SEPARATOR);
        }
        if let Purpose::Save { name, .. } = &purpose {
            text.push_str(name);
        }
        Chooser {
            purpose,
            text,
            chosen: Vec::new(),
            why,
            error: None,
        }
    }

    /// The folder the typed path is in, and the start of a name typed after it.
    fn split(&self) -> (PathBuf, String) {
        let t = expand_home(&self.text);
        if t.as_os_str().is_empty() {
            return (PathBuf::from("."), String::new());
        }
        if self.text.ends_with('/') || self.text.ends_with(std::path::MAIN_SEPARATOR) {
            return (t, String::new());
        }
        match (t.parent(), t.file_name()) {
            (Some(p), Some(n)) => (
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                },
                n.to_string_lossy().into_owned(),
            ),
            _ => (t, String::new()),
        }
    }

    /// The entries of the typed folder that start with the typed name: folders first, then
    /// files, by name; hidden ones only when a dot is typed.
    pub fn matches(&self) -> Vec<(String, bool)> {
        let (dir, prefix) = self.split();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut v: Vec<(String, bool)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name.starts_with(&prefix) && (prefix.starts_with('.') || !name.starts_with('.')))
                    .then(|| (name, e.path().is_dir()))
            })
            .collect();
        v.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(a.0.to_lowercase().cmp(&b.0.to_lowercase()))
        });
        v.truncate(500);
        v
    }

    /// Completes the typed name as far as every match agrees (Tab).
    pub fn complete(&mut self) {
        let (dir, prefix) = self.split();
        let names: Vec<(String, bool)> = self.matches();
        let Some((first, _)) = names.first() else {
            return;
        };
        let common = names.iter().fold(first.clone(), |acc, (n, _)| {
            acc.chars()
                .zip(n.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect()
        });
        if common.len() >= prefix.len() {
            let mut p = dir.join(&common).display().to_string();
            if names.len() == 1 && names[0].1 {
                p.push(std::path::MAIN_SEPARATOR);
            }
            self.text = p;
        }
    }

    /// The path typed, expanded (`~`).
    pub fn path(&self) -> PathBuf {
        expand_home(&self.text)
    }

    /// Accepts the typed path if it fits the purpose; else says why (kept open).
    pub fn accept(&mut self) -> Option<Outcome> {
        let p = self.path();
        match &self.purpose {
            Purpose::OpenFolder => {
                if p.is_dir() {
                    return Some(Outcome::Done(vec![p]));
                }
                self.error = Some(format!("{} is not a folder", p.display()));
            }
            Purpose::OpenFiles | Purpose::OpenPriceFile => {
                if p.is_file()
                    || (self.purpose == Purpose::OpenFiles && p.is_dir() && self.chosen.is_empty())
                {
                    let mut all = std::mem::take(&mut self.chosen);
                    if !all.contains(&p) {
                        all.push(p);
                    }
                    return Some(Outcome::Done(all));
                }
                if !self.chosen.is_empty() && (self.text.ends_with('/') || p.is_dir()) {
                    return Some(Outcome::Done(std::mem::take(&mut self.chosen)));
                }
                self.error = Some(format!("{} is not a file", p.display()));
            }
            Purpose::Save { .. } => {
                let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
                if p.is_dir() || p.file_name().is_none() {
                    self.error = Some("type a file name".into());
                } else if dir.is_some_and(|d| !d.is_dir()) {
                    self.error = Some(format!(
                        "the folder {} does not exist",
                        dir.map(|d| d.display().to_string()).unwrap_or_default()
                    ));
                } else {
                    return Some(Outcome::Done(vec![p]));
                }
            }
        }
        None
    }

    /// Draws the chooser as a window; returns what the user decided.
    pub fn show(&mut self, ctx: &egui::Context) -> Outcome {
        let mut outcome = Outcome::Open;
        let mut open = true;
        egui::Window::new(self.purpose.title())
            .id(egui::Id::unique("costlens_file_chooser"))
            .open(&mut open)
            .collapsible(false)
            .default_size([620.0, 420.0])
            .show(ctx, |ui| {
                ui.label(egui::RichText::new(&self.why).small().weak());
                let l = ui.label("Path");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.text)
                            .desired_width(f32::INFINITY)
                            .hint_text("~/Downloads/claude_api_tokens_2026_10.csv"),
                    )
                    .labelled_by(l.id);
                if r.changed() {
                    self.error = None;
                }
                if r.has_focus()
                    && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Tab))
                {
                    self.complete();
                    r.request_focus();
                }
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.label(
                    egui::RichText::new("Tab completes; click a folder to enter it")
                        .small()
                        .weak(),
                );
                egui::ScrollArea::vertical()
                    .max_height(220.0)
                    .show(ui, |ui| {
                        let (dir, _) = self.split();
                        for (name, is_dir) in self.matches() {
                            let shown = if is_dir {
                                format!("📁 {name}/")
                            } else {
                                format!("   {name}")
                            };
                            if ui.selectable_label(false, shown).clicked() {
                                let mut p = dir.join(&name).display().to_string();
                                if is_dir {
                                    p.push(std::path::MAIN_SEPARATOR);
                                } else if self.purpose == Purpose::OpenFiles {
                                    let f = dir.join(&name);
                                    if !self.chosen.contains(&f) {
                                        self.chosen.push(f);
                                    }
                                }
                                self.text = p;
                                self.error = None;
                            }
                        }
                    });
                if self.purpose == Purpose::OpenFiles && !self.chosen.is_empty() {
                    ui.label(format!("Chosen ({}):", self.chosen.len()));
                    let mut drop = None;
                    for (i, f) in self.chosen.iter().enumerate() {
                        ui.horizontal(|ui| {
                            ui.label(f.display().to_string());
                            if ui.small_button("remove").clicked() {
                                drop = Some(i);
                            }
                        });
                    }
                    if let Some(i) = drop {
                        self.chosen.remove(i);
                    }
                }
                if let Some(e) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                ui.horizontal(|ui| {
                    let ok = match self.purpose {
                        Purpose::Save { .. } => "Save",
                        _ => "Open",
                    };
                    if (ui.button(ok).clicked() || enter)
                        && let Some(o) = self.accept()
                    {
                        outcome = o;
                    }
                    if ui.button("Cancel").clicked() {
                        outcome = Outcome::Cancelled;
                    }
                });
            });
        if !open {
            outcome = Outcome::Cancelled;
        }
        outcome
    }
}

/// `~/x` as the home folder's `x`.
fn expand_home(t: &str) -> PathBuf {
    let t = t.trim();
    if let Some(rest) = t.strip_prefix("~/").or_else(|| (t == "~").then_some(""))
        && let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
    {
        return home.join(rest);
    }
    PathBuf::from(t)
}
