//! Atomic file writes: a temp file in the same folder, synced, then renamed over the target.
//! A crash or kill mid-write leaves the previous version intact, and at worst a temp file
//! named `.costlens-tmp-*`, which later writes to the same folder remove once it is older
//! than [`STALE_AFTER`] (a younger one may belong to a write still under way in another
//! costlens process).
//!
//! Only a new path or a regular file of our own is ever replaced: never a symbolic link (it
//! would be replaced by a file, not written through), a pipe, a device or a folder, a file of
//! another user (root writing a PNG must not replace someone's file, or `/dev/null`), nor one
//! of the files being read ([`write_protecting`]).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How our temp files start.
pub const TEMP_PREFIX: &str = ".costlens-tmp-";
/// Age after which a temp file is taken to be left by a killed write.
pub const STALE_AFTER: Duration = Duration::from_secs(600);

/// A new temp file in `dir`, named with [`TEMP_PREFIX`].
pub fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX);
    // Readable like any file the user creates (the umask applies), not 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir)
}

fn refuse(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!("refusing to replace {}: {why}", path.display()),
    )
}

/// Writes `bytes` to `path` atomically (see the module doc for what is refused).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_protecting(path, bytes, &[])
}

/// [`write`], also refusing to replace any of `inputs` (the files an export was made from),
/// whatever path names them.
pub fn write_protecting(
    path: &Path,
    bytes: &[u8],
    inputs: &[std::path::PathBuf],
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let existing = match std::fs::symlink_metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(m) = &existing {
        let t = m.file_type();
        if t.is_symlink() {
            return Err(refuse(
                path,
                "it is a symbolic link (write to its target instead)",
            ));
        }
        if t.is_dir() {
            return Err(refuse(path, "it is a folder"));
        }
        if !t.is_file() {
            return Err(refuse(
                path,
                "it is not a regular file (a pipe, socket or device)",
            ));
        }
        for input in inputs {
            if same_file::is_same_file(path, input).unwrap_or(false) {
                return Err(refuse(
                    path,
                    &format!("it is an input file ({})", input.display()),
                ));
            }
        }
    }
    let mut tmp = temp_in(dir)?;
    #[cfg(unix)]
    if let Some(m) = &existing {
        use std::os::unix::fs::MetadataExt;
        // The temp file is ours: a target owned by someone else is not replaced.
        let ours = tmp.as_file().metadata()?.uid();
        if m.uid() != ours {
            return Err(refuse(path, "it belongs to another user"));
        }
        // The replaced file keeps its permissions.
        tmp.as_file().set_permissions(m.permissions())?;
    }
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
