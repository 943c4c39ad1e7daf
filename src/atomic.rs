//! Atomic file writes: a temp file in the same folder, synced, then renamed over the target.
//! A crash or kill mid-write leaves the previous version intact, and at worst a temp file
//! named `.costlens-tmp-*`, which later writes to the same folder remove once it is older
//! than [`STALE_AFTER`] (a younger one may belong to a write still under way in another
//! costlens process).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How our temp files start.
pub const TEMP_PREFIX: &str = ".costlens-tmp-";
/// Age after which a temp file is taken to be left by a killed write.
pub const STALE_AFTER: Duration = Duration::from_secs(600);

/// A new temp file in `dir`, named with [`TEMP_PREFIX`].
pub fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
}

pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = temp_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    remove_stale_temps(dir, STALE_AFTER);
    Ok(())
}

/// Removes our temp files in `dir` last modified more than `age` ago; returns how many.
/// Errors are ignored: a temp file that stays costs only disk space.
pub fn remove_stale_temps(dir: &Path, age: Duration) -> usize {
    remove_old_files(dir, age, |name| name.starts_with(TEMP_PREFIX))
}

/// Removes the files of `dir` whose name matches `pick` and that were last modified more than
/// `age` ago; returns how many. Errors are ignored.
pub fn remove_old_files(dir: &Path, age: Duration, pick: impl Fn(&str) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    entries
        .flatten()
        .filter(|e| pick(&e.file_name().to_string_lossy()))
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age)
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}
