//! Loading files into a dataset, and the analysis that the CLI and the app share: a dataset,
//! its price table and its cube, from which views are projected and priced.

use crate::aggregate::{Cube, View, ViewSpec};
use crate::dataset::Dataset;
use crate::import::cache::Cache;
use crate::import::{self, Control, ImportError, Options};
use crate::prices::PriceTable;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Everything a report or a dashboard is computed from.
#[derive(Debug, Default)]
pub struct Analysis {
    pub data: Dataset,
    pub table: PriceTable,
    pub cube: Cube,
}

impl Analysis {
    pub fn new(data: Dataset, table: PriceTable, grid: &[f64]) -> Analysis {
        let cube = Cube::build(&data.records, grid);
        Analysis { data, table, cube }
    }

    pub fn view(&self, spec: &ViewSpec) -> View {
        View::build(&self.cube, &self.data, &self.table, spec)
    }
}

/// Expands the user's paths: files as given, directories walked recursively (symlinks are
/// followed; loops are reported, not followed forever). Returns the files to import and
/// errors for paths that cannot be read.
pub fn expand_inputs(paths: &[PathBuf]) -> (Vec<(PathBuf, bool)>, Vec<ImportError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found: Vec<PathBuf> = Vec::new();
                for entry in walkdir::WalkDir::new(p).follow_links(true) {
                    match entry {
                        Ok(e) if e.file_type().is_file() => found.push(e.into_path()),
                        Ok(_) => {}
                        Err(e) => errors.push(ImportError::Io(
                            e.path().unwrap_or(p).display().to_string(),
                            std::io::Error::other(e.to_string()),
                        )),
                    }
                }
                found.sort();
                files.extend(found.into_iter().map(|f| (f, true)));
            }
            Ok(_) => files.push((p.clone(), false)),
            Err(e) => errors.push(ImportError::Io(p.display().to_string(), e)),
        }
    }
    (files, errors)
}

/// The outcome of loading: the merged dataset and what could not be imported at all.
#[derive(Debug, Default)]
pub struct Loaded {
    pub data: Dataset,
    pub errors: Vec<ImportError>,
    /// Files inside opened folders that are not usage files (skipped quietly, counted).
    pub unrecognised_in_folders: Vec<String>,
}

/// Imports `paths` (files and folders), in parallel across files, merging in input order.
/// Unchanged files come from the user's import cache ([`Cache::from_env`]).
pub fn load(paths: &[PathBuf], opts: &Options, control: &Control) -> Loaded {
    load_with_cache(paths, opts, control, &Cache::from_env())
}

/// [`load`] with an explicit cache (tests, or [`Cache::disabled`]). Files are parsed in
/// parallel (and big files in parallel chunks); a cancel through `control` stops the import
/// and returns nothing but the `Cancelled` error.
pub fn load_with_cache(
    paths: &[PathBuf],
    opts: &Options,
    control: &Control,
    cache: &Cache,
) -> Loaded {
    let (files, mut errors) = expand_inputs(paths);
    let total: u64 = files
        .iter()
        .filter_map(|(f, _)| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    control.bytes_total.store(total, Ordering::Relaxed);
    let (file_paths, in_folders): (Vec<PathBuf>, Vec<bool>) = files.into_iter().unzip();
    let outcomes = cache.parse_paths(&file_paths, opts, control);
    let parsed = file_paths
        .into_iter()
        .zip(in_folders)
        .zip(outcomes)
        .map(|((f, in_folder), r)| (f, in_folder, r));
    let mut loaded = Loaded::default();
    if control.is_cancelled() {
        let what = paths
            .first()
            .map_or_else(|| "import".to_owned(), |p| p.display().to_string());
        loaded.errors.push(ImportError::Cancelled(what));
        return loaded;
    }
    for (f, in_folder, r) in parsed {
        match r {
            Ok((p, _from_cache)) => loaded.data.add(p),
            Err(ImportError::Unrecognised(..)) if in_folder => {
                loaded.unrecognised_in_folders.push(f.display().to_string())
            }
            Err(e) => errors.push(e),
        }
    }
    loaded.errors = errors;
    loaded
}

/// Loads in-memory files (the embedded sample data, tests).
pub fn load_bytes(files: &[(&str, &[u8])], opts: &Options) -> Loaded {
    let mut loaded = Loaded::default();
    for (name, bytes) in files {
        match import::parse_bytes(name, bytes, opts) {
            Ok(p) => loaded.data.add(p),
            Err(e) => loaded.errors.push(e),
        }
    }
    loaded
}

/// True when `path` looks like something the user can open (used by file dialogs' filters).
pub fn is_candidate(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("csv" | "json" | "jsonl" | "ndjson" | "log" | "txt")
    )
}
