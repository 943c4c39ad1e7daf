//! Loading files into a dataset, and the analysis that the CLI and the app share: a dataset,
//! its price table and its cube, from which views are projected and priced.

use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::engine::cube::{Banding, Cube};
use crate::engine::view::{View, ViewSpec};
use crate::import::merge::{MergeOptions, Merger};
use crate::import::{self, Control, ImportError, Options};
use crate::store::cache::{self, Cache};
use crate::store::snapshot;
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
        Analysis::with_factors(data, table, grid, &[])
    }

    /// [`Analysis::new`], exact also at routing token factors besides the table's (a
    /// `--route-token-factor` and its inverse).
    pub fn with_factors(
        mut data: Dataset,
        table: PriceTable,
        grid: &[f64],
        factors: &[f64],
    ) -> Analysis {
        // A cost export alone: its money becomes usage (see `derive`).
        data.derived = crate::engine::derive::derive_from_cost(&mut data, &table);
        let cube = Cube::build(&data.records, &Banding::new(grid, &table, factors));
        Analysis { data, table, cube }
    }

    /// The banding a cube for the current table needs (same grid and extra factors).
    fn banding(&self) -> Banding {
        let b = self.cube.banding();
        Banding::new(b.grid(), &self.table, &b.extra_factors(&self.table))
    }

    /// To call after the price table changed (a model mapped, a price file loaded, a price
    /// edited): usage derived from cost is derived again (the table decides its counts), and
    /// the cube is rebuilt when the table's tier thresholds changed (requests are banded on
    /// them).
    pub fn table_changed(&mut self) {
        if self.data.derived.is_some() {
            self.data.derived =
                crate::engine::derive::derive_from_cost(&mut self.data, &self.table);
            self.cube = Cube::build(&self.data.records, &self.banding());
        } else if !self.cube.banding().fits(&self.table) {
            self.cube = Cube::build(&self.data.records, &self.banding());
        }
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
                // Siblings sorted by name, depth first: the files come out in path order
                // (as `Vec<PathBuf>::sort` would give) without sorting thousands of paths
                // component by component afterwards.
                for entry in walkdir::WalkDir::new(p)
                    .follow_links(true)
                    .sort_by_file_name()
                {
                    match entry {
                        Ok(e) if e.file_type().is_file() => found.push(e.into_path()),
                        Ok(_) => {}
                        Err(e) => errors.push(ImportError::Io(
                            e.path().unwrap_or(p).display().to_string(),
                            std::io::Error::other(e.to_string()),
                        )),
                    }
                }
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
    /// True when none of the files changed since the same inputs were last imported and the
    /// whole result came from the import snapshot ([`snapshot`]).
    pub from_snapshot: bool,
    /// Said while loading, moved into the dataset's notes when it is merged.
    notes: Vec<String>,
}

/// Imports `paths` (files and folders), in parallel across files, merging in input order.
/// Unchanged files come from the user's import cache ([`Cache::from_env`]).
pub fn load(paths: &[PathBuf], opts: &Options, control: &Control) -> Loaded {
    load_with_cache(paths, opts, control, &Cache::from_env())
}

/// How much an import parses before merging what it parsed (see [`load_with_cache`]).
const BATCH_BYTES: u64 = 512 << 20;
const BATCH_FILES: usize = 2048;

/// [`load`] with an explicit cache (tests, or [`Cache::disabled`]). Files are parsed in
/// parallel (and big files in parallel chunks); a cancel through `control` stops the import
/// and returns nothing but the `Cancelled` error.
pub fn load_with_cache(
    paths: &[PathBuf],
    opts: &Options,
    control: &Control,
    cache: &Cache,
) -> Loaded {
    // The snapshot of the last import of the same inputs is read while the files are
    // examined, and used if none of them changed since: the whole import answered at once.
    let inputs = cache
        .dir()
        .and_then(|dir| Some((dir, snapshot::Inputs::new(paths, opts)?)));
    let ((files, errors, keys), old) = rayon::join(
        || {
            let (files, errors) = expand_inputs(paths);
            let paths: Vec<&PathBuf> = files.iter().map(|f| &f.0).collect();
            let keys = cache::keys_of(&paths, opts);
            (files, errors, keys)
        },
        || inputs.and_then(|(dir, i)| snapshot::read(dir, &i)),
    );
    let (file_paths, in_folders): (Vec<PathBuf>, Vec<bool>) = files.into_iter().unzip();
    let total: u64 = keys.iter().flatten().map(|k| k.size).sum();
    control.bytes_total.store(total, Ordering::Relaxed);
    let manifest = inputs
        // One file is answered by its own cache entry as fast as a snapshot would.
        .filter(|_| {
            errors.is_empty() && file_paths.len() > 1 && total >= snapshot::MIN_SNAPSHOT_BYTES
        })
        .and_then(|(dir, i)| Some((dir, i, i.manifest(&file_paths, &in_folders, &keys)?)));
    if let (Some((dir, _, m)), Some(old)) = (&manifest, old)
        && old.manifest == *m
    {
        control.bytes_done.store(total, Ordering::Relaxed);
        old.mark_used(dir, keys.iter().flatten());
        return Loaded {
            data: old.data,
            errors,
            unrecognised_in_folders: old.unrecognised,
            from_snapshot: true,
            notes: Vec::new(),
        };
    }
    let mut errors = errors;
    let mut loaded = Loaded::default();
    // The same file reached by two paths (`f`, `./f`, a link, a folder and a file in it) is
    // read once.
    let mut seen_files: std::collections::HashMap<(u64, u64), usize> = Default::default();
    let mut same: Vec<bool> = vec![false; file_paths.len()];
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k
            && k.ino != 0
        {
            match seen_files.get(&(k.dev, k.ino)) {
                Some(&first) => {
                    same[i] = true;
                    loaded.notes.push(format!(
                        "{} is the same file as {}: read once",
                        file_paths[i].display(),
                        file_paths[first].display()
                    ));
                }
                None => {
                    seen_files.insert((k.dev, k.ino), i);
                }
            }
        }
    }
    let mut merger = Merger::new(MergeOptions {
        sum_overlaps: opts.sum_overlaps,
    });
    // Files are parsed a batch at a time (in parallel within the batch) and merged in input
    // order: parsed files hold every line's record before de-duplication, so holding all of
    // a 10 GB tree's at once would cost several hundred MB.
    let mut start = 0;
    while start < file_paths.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < file_paths.len()
            && (end == start || (bytes < BATCH_BYTES && end - start < BATCH_FILES))
        {
            bytes += keys[end].as_ref().map_or(0, |k| k.size);
            end += 1;
        }
        // A file met before under another path is skipped.
        let batch: Vec<usize> = (start..end).filter(|&i| !same[i]).collect();
        let batch_paths: Vec<PathBuf> = batch.iter().map(|&i| file_paths[i].clone()).collect();
        let batch_keys = batch.iter().map(|&i| keys[i].clone()).collect();
        let outcomes = cache.parse_paths_with_keys(&batch_paths, batch_keys, opts, control);
        if control.is_cancelled() {
            let what = paths
                .first()
                .map_or_else(|| "import".to_owned(), |p| p.display().to_string());
            return Loaded {
                errors: vec![ImportError::Cancelled(what)],
                ..Loaded::default()
            };
        }
        for (&i, r) in batch.iter().zip(outcomes) {
            match r {
                Ok((p, _from_cache)) => merger.add(p),
                Err(ImportError::Unrecognised(..)) if in_folders[i] => loaded
                    .unrecognised_in_folders
                    .push(file_paths[i].display().to_string()),
                Err(e) => errors.push(e),
            }
        }
        start = end;
    }
    loaded.errors = errors;
    loaded.data = merger.finish();
    loaded.data.notes.append(&mut loaded.notes);
    loaded.data.unrecognised = loaded.unrecognised_in_folders.clone();
    if let Some(dir) = cache.dir() {
        // Housekeeping, on this slow path only (an unchanged import is answered above):
        // packs and snapshots left half-written by a killed import, and those not used for
        // a month (folders and imports not opened since).
        crate::store::atomic::remove_stale_temps(dir, crate::store::atomic::STALE_AFTER);
        cache.prune(cache::UNUSED_FOR);
    }
    // Not snapshotted when a file could not be read to its end: the next import tries again.
    let read_error =
        (loaded.data.rejected.iter()).any(|r| r.reason.starts_with(import::READ_ERROR));
    if let Some((dir, inputs, m)) = &manifest
        && loaded.errors.is_empty()
        && !read_error
        && !control.is_cancelled()
    {
        snapshot::write(
            dir,
            inputs,
            m,
            &loaded.data,
            &loaded.unrecognised_in_folders,
        );
    }
    loaded
}

/// Loads in-memory files (the embedded sample data, tests).
pub fn load_bytes(files: &[(&str, &[u8])], opts: &Options) -> Loaded {
    let mut loaded = Loaded::default();
    let mut merger = Merger::new(MergeOptions {
        sum_overlaps: opts.sum_overlaps,
    });
    for (name, bytes) in files {
        match import::parse_bytes(name, bytes, opts) {
            Ok(p) => merger.add(p),
            Err(e) => loaded.errors.push(e),
        }
    }
    loaded.data = merger.finish();
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
