//! Where costlens keeps its own files (settings), and how it writes them: atomically, so a
//! crash or a kill mid-write leaves the previous version intact.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// The settings folder: `$COSTLENS_CONFIG_DIR`, else the platform's config dir
/// (`~/.config/costlens` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("COSTLENS_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "costlens").map(|p| p.config_dir().to_path_buf())
}

pub fn settings_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("settings.json"))
}

/// What loading a JSON file gave.
#[derive(Debug)]
pub enum Loaded<T> {
    /// The file does not exist yet.
    Missing,
    Ok(T),
    /// The file exists but cannot be read or parsed: the reason. It is left in place
    /// (renamed `*.unreadable`) so nothing is lost.
    Unreadable(String),
}

pub fn load_json<T: DeserializeOwned>(path: &Path) -> Loaded<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => return Loaded::Unreadable(format!("{}: {e}", path.display())),
    };
    match serde_json::from_str(&text) {
        Ok(v) => Loaded::Ok(v),
        Err(e) => {
            let keep = path.with_extension("json.unreadable");
            let _ = std::fs::rename(path, &keep);
            Loaded::Unreadable(format!(
                "{}: {e} (kept as {})",
                path.display(),
                keep.display()
            ))
        }
    }
}

/// Serialises `value` as pretty JSON and writes it atomically, creating the folder.
pub fn save_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    crate::store::atomic::write(path, &bytes)
}
