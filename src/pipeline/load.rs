//! Loading files into a dataset, and the analysis that the CLI and the app share: a dataset,
//! its price table and its cube, from which views are projected and priced.

use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::domain::time::timing;
use crate::engine::cube::{Banding, Cube};
use crate::engine::scenario::Levers;
use crate::engine::view::{View, ViewSpec};
use crate::import::merge::{MergeOptions, Merger};
use crate::import::{self, Control, ImportError, Options};
use crate::store::cache::{self, Cache};
use crate::store::history::{self, FileStamp, FileUsage, History};
use crate::store::snapshot::{self, Manifest, WalkEntry};
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
        data: Dataset,
        table: PriceTable,
        grid: &[f64],
        factors: &[f64],
    ) -> Analysis {
        Analysis::saving(data, table, grid, factors, None)
    }

    /// [`Analysis::with_factors`], writing the import's snapshot `snapshot` (see
    /// [`Loaded::snapshot`]) beside the cube's build when the data is used as it was loaded
    /// (both only read it; on two cores the snapshot's write took 64 of an appended report's
    /// 440 ms, the cube's 76).
    fn saving(
        mut data: Dataset,
        table: PriceTable,
        grid: &[f64],
        factors: &[f64],
        snapshot: Option<PendingSnapshot>,
    ) -> Analysis {
        let banding = Banding::new(grid, &table, factors);
        match snapshot {
            // Nothing to derive (there is no money without usage): the records are used as
            // they were loaded.
            Some(s) if data.billed.is_empty() => {
                let cube = std::thread::scope(|scope| {
                    let data = &data;
                    let written = scope.spawn(move || s.write(data));
                    let cube = Cube::build(&data.records, &banding);
                    // A write that fails is let go (`snapshot::write`: it only saves time); a
                    // panic in it goes on as it would have without the thread.
                    if let Err(panic) = written.join() {
                        std::panic::resume_unwind(panic);
                    }
                    cube
                });
                data.derived = None;
                return Analysis { data, table, cube };
            }
            // Usage derived from a cost export changes the records: the snapshot keeps them
            // as they were loaded, so it is written first.
            Some(s) => s.write(&data),
            None => {}
        }
        // A cost export alone: its money becomes usage (see `derive`).
        data.derived = crate::engine::derive::derive_from_cost(&mut data, &table);
        let cube = Cube::build(&data.records, &banding);
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

    /// [`Analysis::new`] on `grid`, exact at `levers` too (their prompt length and routing
    /// token factor added): the cube is built once.
    pub fn for_levers(data: Dataset, table: PriceTable, grid: &[f64], levers: &Levers) -> Analysis {
        let mut grid = grid.to_vec();
        grid.push(levers.prompt_length);
        Analysis::with_factors(data, table, &grid, &levers_factors(levers))
    }

    /// [`Analysis::for_levers`] on the data [`load_unless_unchanged`] loaded, writing its
    /// snapshot ([`Loaded::snapshot`], taken from it), if it has one, beside the cube's build.
    pub fn for_levers_saving(
        data: Dataset,
        table: PriceTable,
        grid: &[f64],
        levers: &Levers,
        snapshot: Option<PendingSnapshot>,
    ) -> Analysis {
        let mut grid = grid.to_vec();
        grid.push(levers.prompt_length);
        Analysis::saving(data, table, &grid, &levers_factors(levers), snapshot)
    }

    /// Makes the cube exact at `levers`: requests are banded on the prompt-length values and
    /// routing token factors a scenario may use, so a prompt length or token factor it was not
    /// banded on rebuilds it with them added (a group could otherwise hold requests on both
    /// sides of a tier threshold at that length, and be priced as one of them). Returns whether
    /// it was rebuilt.
    pub fn make_exact_at(&mut self, levers: &Levers) -> bool {
        let b = self.cube.banding();
        if b.is_exact_at(levers.prompt_length, levers.token_factor_in_use()) {
            return false;
        }
        // The slider steps it had stay (the app's), and a value given before for other levers
        // goes: what is added stays bounded however many values are tried.
        let steps = crate::engine::cube::prompt_length_grid();
        let mut grid: Vec<f64> = b
            .grid()
            .iter()
            .copied()
            .filter(|g| steps.contains(g))
            .collect();
        grid.push(levers.prompt_length);
        self.cube = Cube::build(
            &self.data.records,
            &Banding::new(&grid, &self.table, &levers_factors(levers)),
        );
        true
    }

    pub fn view(&self, spec: &ViewSpec) -> View {
        View::build(&self.cube, &self.data, &self.table, spec)
    }
}

/// The token factors a cube must be banded on for `levers` besides the table's: the routing
/// token factor in use, and its inverse.
pub fn levers_factors(levers: &Levers) -> Vec<f64> {
    levers
        .token_factor_in_use()
        .map(|f| vec![f, 1.0 / f])
        .unwrap_or_default()
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
    /// Problems with the usage history (a corrupt database set aside, a write that failed):
    /// the import went on without it. Also in the dataset's notes.
    pub history_warnings: Vec<String>,
    /// Set by [`load_unless_unchanged`] when the inputs are as they were: nothing loaded.
    pub unchanged: bool,
    /// How many changed files were merged again alone into the last import's snapshot (see
    /// `pipeline::splice`); 0 when the import was merged whole (or came whole from the
    /// snapshot).
    pub spliced: usize,
    /// What the import was made from (every file's path and stamps, the options, the
    /// history's revision), when it is one an answer can be kept for: several files, 1 MiB or
    /// more, every file read to its end, no history problem.
    pub manifest: Option<Manifest>,
    /// The snapshot of this import still to write, left by [`load_unless_unchanged`]:
    /// [`Loaded::write_snapshot`] writes it, [`Analysis::for_levers_saving`] beside the cube.
    pub snapshot: Option<PendingSnapshot>,
}

impl Loaded {
    /// Writes the import's snapshot, if it has one to write (see [`Loaded::snapshot`]).
    pub fn write_snapshot(&mut self) {
        if let Some(s) = self.snapshot.take() {
            s.write(&self.data);
        }
    }
}

/// An import's snapshot, to write with the data it was loaded as (see [`snapshot::write`]).
#[derive(Debug)]
pub struct PendingSnapshot {
    dir: PathBuf,
    inputs: snapshot::Inputs,
    manifest: Manifest,
    unrecognised: Vec<String>,
    parts: Option<snapshot::Parts>,
}

impl PendingSnapshot {
    fn write(&self, data: &Dataset) {
        let t = std::time::Instant::now();
        snapshot::write(
            &self.dir,
            &self.inputs,
            &self.manifest,
            data,
            &self.unrecognised,
            self.parts.as_ref(),
        );
        timing("load: snapshot written", t);
    }
}

/// A batch of the files an import found: the first one's index, and each one's path (as
/// shown) and key.
struct WalkBatch {
    first: usize,
    paths: Vec<PathBuf>,
    keys: Vec<Option<cache::Key>>,
}

/// Keeping usage in the history database while loading, and reading back what only it has.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryChoice {
    /// The database (created if missing): [`history::default_path`] for the user's.
    pub path: PathBuf,
    /// Keep the usage of every file imported; otherwise only of Claude Code logs found in
    /// the folders opened (the default).
    pub all_files: bool,
}

/// Whether a file's usage goes into the history: Claude Code logs in opened folders, or
/// every file when asked.
pub(super) fn history_keeps(
    choice: &HistoryChoice,
    format: import::Format,
    in_folder: bool,
) -> bool {
    choice.all_files || (in_folder && format == import::Format::ClaudeCodeJsonl)
}

pub(super) fn stamp_of(k: &cache::Key) -> FileStamp {
    FileStamp {
        size: k.size,
        mtime_ns: k.mtime_secs.saturating_mul(1_000_000_000) + k.mtime_nanos as i64,
        ctime_ns: k.ctime_secs.saturating_mul(1_000_000_000) + k.ctime_nanos,
        ino: k.ino,
    }
}

/// Whether `path` (absolute) is one of `inputs` (absolute) or inside one of them.
fn within(path: &str, inputs: &[String]) -> bool {
    inputs.iter().any(|i| {
        path == i
            || (path.starts_with(i.as_str())
                && (i.ends_with('/') || path[i.len()..].starts_with(['/', '\\'])))
    })
}

/// A history database given as an input (a team member's): by its name and first bytes.
fn is_history_input(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("sqlite" | "sqlite3" | "db")) && history::is_sqlite(path)
}

/// The name a history given as an input is shown under (the machine dimension): its file
/// name without extension (`alice.sqlite` is alice), or for a file named `history.*` the
/// machine name recorded in it.
fn machine_label(path: &Path, h: &History) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.is_empty() || stem.eq_ignore_ascii_case("history") {
        let m = h.machine();
        if !m.is_empty() {
            return m;
        }
    }
    stem
}

/// Imports `paths` (files and folders), in parallel across files, merging in input order.
/// Unchanged files come from the user's import cache ([`Cache::from_env`]).
pub fn load(paths: &[PathBuf], opts: &Options, control: &Control) -> Loaded {
    load_with_cache(paths, opts, control, &Cache::from_env())
}

/// How much an import parses before merging what it parsed (see [`load_with_cache`]).
const BATCH_BYTES: u64 = 256 << 20;
const BATCH_FILES: usize = 1024;

/// [`load`] with an explicit cache (tests, or [`Cache::disabled`]). Files are parsed in
/// parallel (and big files in parallel chunks); a cancel through `control` stops the import
/// and returns nothing but the `Cancelled` error.
pub fn load_with_cache(
    paths: &[PathBuf],
    opts: &Options,
    control: &Control,
    cache: &Cache,
) -> Loaded {
    load_with_history(paths, opts, control, cache, None)
}

/// [`load_with_cache`], keeping usage in the history `history` and merging back what only
/// it has (the logs deleted since, under the folders opened; see [`crate::store::history`]).
/// History databases among the inputs (`alice.sqlite`: a team's machines) are read whole,
/// their usage under their machine's name. A history that cannot be used is said in
/// [`Loaded::history_warnings`] and the import goes on without it.
pub fn load_with_history(
    paths: &[PathBuf],
    opts: &Options,
    control: &Control,
    cache: &Cache,
    history: Option<&HistoryChoice>,
) -> Loaded {
    let mut loaded = load_unless_unchanged(paths, opts, control, cache, history, None);
    loaded.write_snapshot();
    loaded
}

/// [`load_with_history`], or nothing but `unchanged` when the inputs are as they were when
/// the import with manifest `since` was made (a kept answer, [`crate::store::answer`]): the
/// folders walked and the files examined, nothing read. Otherwise [`Loaded::manifest`] says
/// what the import was made from, when it is one to keep an answer for. The snapshot of the
/// import is left to write ([`Loaded::snapshot`]).
pub fn load_unless_unchanged(
    paths: &[PathBuf],
    opts: &Options,
    control: &Control,
    cache: &Cache,
    history: Option<&HistoryChoice>,
    since: Option<Manifest>,
) -> Loaded {
    let mut warnings: Vec<String> = Vec::new();
    let mut hist: Option<History> = history.and_then(|c| match History::open(&c.path) {
        Ok(h) => {
            warnings.extend(h.notes.iter().cloned());
            Some(h)
        }
        Err(e) => {
            warnings.push(format!("usage history not used: {e}"));
            None
        }
    });
    let state = hist.as_ref().and_then(|h| h.state().ok());
    if hist.is_some() && state.is_none() {
        warnings.push("usage history not used: its state cannot be read".to_owned());
        hist = None;
    }
    // History databases among the inputs (a team view) are not snapshotted: their WAL can
    // change without the file.
    let team_inputs = paths.iter().any(|p| is_history_input(p));
    // The snapshot of the last import of the same inputs is read while the files are
    // examined, and used if none of them changed since: the whole import answered at once.
    let inputs = cache
        .dir()
        .filter(|_| !team_inputs)
        .and_then(|dir| Some((dir, snapshot::Inputs::new(paths, opts)?)));
    let inputs = inputs.map(|(dir, i)| match (history, &state) {
        (Some(c), Some((id, _))) => (
            dir,
            i.with(&[
                c.path.to_string_lossy().as_bytes(),
                &[c.all_files as u8],
                id.as_bytes(),
            ]),
        ),
        _ => (dir, i),
    });
    let t = std::time::Instant::now();
    let ((files, errors, keys), old) = rayon::join(
        || {
            let e = crate::store::walk::examine(paths, opts);
            (e.files, e.errors, e.keys)
        },
        // With an answer to check, the snapshot is read only if the answer does not do.
        || {
            inputs
                .filter(|_| since.is_none())
                .and_then(|(dir, i)| snapshot::read(dir, &i))
        },
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
    // Of the files alone; the history's revision is added to it (now, and again after this
    // import's own records are committed), so that the walk need not be kept to the end.
    let files_manifest = manifest.map(|(_, _, m)| m);
    // The history's revision: a snapshot made before it changed (usage forgotten, or
    // recorded by another import) is not used.
    let manifest = manifest.map(|(dir, i, m)| {
        let rev = state.as_ref().map_or(0, |s| s.1);
        (dir, i, m.with(&rev.to_le_bytes()))
    });
    if let (Some((dir, i, m)), Some(since)) = (&manifest, since)
        && since == *m
        && warnings.is_empty()
    {
        control.bytes_done.store(total, Ordering::Relaxed);
        snapshot::mark_unread_used(dir, i, keys.iter().flatten());
        return Loaded {
            errors,
            unchanged: true,
            manifest: Some(*m),
            ..Loaded::default()
        };
    }
    let old = match (old, since, &manifest) {
        (Some(old), _, _) => Some(old),
        // Made from these files (the answer was not: the snapshot rarely is), or from files of
        // which a few changed since (a live session's log): spliced below.
        (None, Some(_), Some(_)) => inputs.and_then(|(dir, i)| snapshot::read(dir, &i)),
        _ => None,
    };
    if let (Some((dir, _, m)), Some(o)) = (&manifest, &old)
        && o.manifest == *m
    {
        let old = old.expect("matched above");
        control.bytes_done.store(total, Ordering::Relaxed);
        old.mark_used(dir, keys.iter().flatten());
        let clean = warnings.is_empty();
        let mut data = old.data;
        // Recorded by the import that made the snapshot, not by this one.
        if let Some(h) = data.history.as_mut() {
            h.recorded = 0;
        }
        return Loaded {
            data,
            errors,
            unrecognised_in_folders: old.unrecognised,
            from_snapshot: true,
            notes: Vec::new(),
            history_warnings: warnings,
            unchanged: false,
            spliced: 0,
            manifest: clean.then_some(*m),
            snapshot: None,
        };
    }
    timing("load: examine the files", t);
    // Each file found, as the snapshot of this import keeps them (to tell next time which
    // changed), when there is to be one.
    let mut walk: Option<Vec<WalkEntry>> = manifest.map(|_| {
        (file_paths.iter().zip(&in_folders).zip(&keys))
            .map(|((p, &folder), k)| {
                let k = k.as_ref().expect("a manifest is made of keys");
                WalkEntry::of(p, k, folder, WalkEntry::NOT_MERGED)
            })
            .collect()
    });
    // A few files changed since the snapshot (a live session's log grew): merged again
    // alone, if that gives exactly what merging every file again does.
    if let (Some(old), Some(w), Some((dir, inputs, _))) = (old, &walk, &manifest)
        && warnings.is_empty()
    {
        let t = std::time::Instant::now();
        let unrecognised = old.unrecognised.clone();
        // The packs outlive the snapshots spliced into, for the day the whole import is
        // merged again.
        snapshot::mark_packs_used(dir, keys.iter().flatten());
        let found = super::splice::Found {
            paths: &file_paths,
            in_folders: &in_folders,
            keys: &keys,
            walk: w,
        };
        let revision = state.as_ref().map_or(0, |s| s.1);
        if let Some(s) =
            super::splice::splice(old, &found, opts, control, hist.as_mut(), history, revision)
        {
            control.bytes_done.store(total, Ordering::Relaxed);
            timing("load: changed files merged again alone", t);
            let mut loaded = Loaded {
                data: s.data,
                errors,
                unrecognised_in_folders: unrecognised.clone(),
                spliced: s.files,
                ..Loaded::default()
            };
            let made = files_manifest.zip(made_with(&hist, &state, s.bumped));
            if let Some((files_manifest, rev)) = made {
                let m = files_manifest.with(&rev.to_le_bytes());
                loaded.snapshot = Some(PendingSnapshot {
                    dir: dir.to_path_buf(),
                    inputs: *inputs,
                    manifest: m,
                    unrecognised,
                    parts: Some(snapshot::Parts {
                        walk: s.walk,
                        files: s.parts,
                        revision: rev,
                    }),
                });
                loaded.manifest = (s.recorded == 0).then_some(m);
            }
            return loaded;
        }
    }
    let t = std::time::Instant::now();
    let recorded = match hist.as_ref().map(History::recorded_stamps) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            warnings.push(history_failed(&mut hist, e));
            Default::default()
        }
        None => Default::default(),
    };
    let mut errors = errors;
    let mut loaded = Loaded::default();
    // The same file reached by two paths (`f`, `./f`, a link, a folder and a file in it) is
    // read once.
    let mut seen_files: rustc_hash::FxHashMap<(u64, u64), usize> = Default::default();
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
    // Not held through the merge (6.5 MB at 134,482 files).
    drop(seen_files);
    let mut merger = Merger::new(MergeOptions {
        sum_overlaps: opts.sum_overlaps,
    });
    let is_team: Vec<bool> = file_paths.iter().map(|p| is_history_input(p)).collect();
    // Files are parsed a batch at a time (in parallel within the batch) and merged in input
    // order: parsed files hold every line's record before de-duplication, so holding all of
    // a 10 GB tree's at once would cost several hundred MB. The next batches are parsed and
    // recorded in the history while this one is merged, in order (the stages below; the
    // history's connection goes to the recording thread and comes back).
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
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
        ranges.push(start..end);
        start = end;
    }
    // A file met before under another path is skipped.
    let parsed = |i: &usize| !same[*i] && !is_team[*i];
    // Each folder's cache pack is written once, after the batch with its last file.
    let run = cache.run(
        (0..file_paths.len())
            .filter(parsed)
            .filter_map(|i| keys[i].as_ref()),
    );
    // History databases given as inputs are read after the logs.
    let team: Vec<PathBuf> = (0..file_paths.len())
        .filter(|&i| is_team[i] && !same[i])
        .map(|i| file_paths[i].clone())
        .collect();
    // Each batch owns its files' paths and keys, and they go with it once it is merged: held
    // to the end of the import, the walk's 134,482 paths and keys were 50 MB of a 10 GB
    // import's peak. Kept instead: each file's path key, for the history's deleted logs.
    let mut walked = file_paths.into_iter().zip(keys);
    let batches: Vec<WalkBatch> = ranges
        .into_iter()
        .map(|r| {
            let (paths, keys) = walked.by_ref().take(r.len()).unzip();
            WalkBatch {
                first: r.start,
                paths,
                keys,
            }
        })
        .collect();
    let mut present: history::PathKeyed<()> = Default::default();
    let parse_batch = |b: WalkBatch| {
        let picked: Vec<usize> = (0..b.paths.len())
            .filter(|j| parsed(&(b.first + j)))
            .collect();
        let batch_paths: Vec<PathBuf> = picked.iter().map(|&j| b.paths[j].clone()).collect();
        let batch_keys = picked.iter().map(|&j| b.keys[j].clone()).collect();
        let outcomes = run.parse(&batch_paths, batch_keys, opts, control);
        (b, picked, outcomes)
    };
    // One thread parses the batches in turn, handing each over when the last is taken; the
    // next stage records each batch's files in the history, and this thread merges them, in
    // order: one batch is merged while the next is recorded and the one after it parsed, never
    // more. (Recorded on this thread, the history's inserts held up the merge: a first import
    // of the 1 GB benchmark tree used 1.6 of the 2 cores.)
    let (cancelled, stage) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        let parsing = scope.spawn(move || {
            for b in batches {
                if tx.send(parse_batch(b)).is_err() {
                    break;
                }
            }
        });
        let (merge_tx, merge_rx) = std::sync::mpsc::sync_channel(0);
        // Sent once every batch is merged: what was recorded is kept only then.
        let (keep_tx, keep_rx) = std::sync::mpsc::channel::<()>();
        let hist = hist.take();
        let in_folders = &in_folders;
        let recording = scope.spawn(move || {
            record_batches(hist, history, recorded, in_folders, rx, merge_tx, keep_rx)
        });
        let mut cancelled = false;
        for (b, picked, outcomes) in merge_rx.iter() {
            if control.is_cancelled() {
                // The stages before stop at their next hand-over (the receiver is gone).
                cancelled = true;
                break;
            }
            for (p, k) in b.paths.iter().zip(&b.keys) {
                let key = match k {
                    Some(k) => history::path_key(&k.path),
                    None => history::path_key(
                        &std::path::absolute(p)
                            .unwrap_or_else(|_| p.clone())
                            .to_string_lossy(),
                    ),
                };
                present.insert(key, ());
            }
            for (&j, r) in picked.iter().zip(outcomes) {
                let i = b.first + j;
                match r {
                    Ok((p, _from_cache)) => {
                        if let Some(w) = walk.as_mut() {
                            w[i].file = merger.file_count() as u32;
                        }
                        merger.add(p)
                    }
                    Err(ImportError::Unrecognised(..)) if in_folders[i] => loaded
                        .unrecognised_in_folders
                        .push(b.paths[j].display().to_string()),
                    Err(e) => errors.push(e),
                }
            }
        }
        // Every batch came through, unless the parsing stopped on a panic: what was recorded
        // is then let go before the panic goes on.
        let parse_panic = if cancelled {
            None
        } else {
            parsing.join().err()
        };
        if !cancelled && parse_panic.is_none() {
            let _ = keep_tx.send(());
        }
        drop((keep_tx, merge_rx));
        let stage = recording
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if let Some(panic) = parse_panic {
            std::panic::resume_unwind(panic);
        }
        (cancelled, stage)
    });
    let mut hist = stage.hist;
    warnings.extend(stage.warning);
    run.finish(control);
    if cancelled {
        let what = paths
            .first()
            .map_or_else(|| "import".to_owned(), |p| p.display().to_string());
        return Loaded {
            errors: vec![ImportError::Cancelled(what)],
            ..Loaded::default()
        };
    }
    // What only the history has: the usage of files recorded under the folders (and files)
    // opened that this import did not find (deleted or rotated logs).
    let mut from_deleted = 0u64;
    let mut recorded_now = 0u64;
    timing("load: parse and merge", t);
    let t = std::time::Instant::now();
    // What this import did to the history's revision (one bump if it recorded a file).
    let mut bumped = 0u64;
    match stage.committed {
        Ok((n, files)) => {
            recorded_now = n;
            bumped = u64::from(files > 0);
        }
        Err(e) => warnings.push(history_failed(&mut hist, e)),
    }
    if let (Some(h), Some(choice)) = (hist.as_ref(), history) {
        let scope: Vec<String> = paths
            .iter()
            .map(|p| {
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let gone = h.recorded_files_where(|p| {
            !present.contains_key(&history::path_key(p)) && within(p, &scope)
        });
        match gone.and_then(|(gone, _)| h.read(Some(&gone), "")) {
            Ok(parts) => {
                for mut part in parts {
                    if !choice.all_files && part.summary.format != import::Format::ClaudeCodeJsonl {
                        continue;
                    }
                    part.summary.path = format!("{} (usage history)", h.path().display());
                    let n = part.records.len();
                    merger.add(part);
                    if let Some(f) = merger.last_file() {
                        from_deleted += f.rows;
                        f.notes.push(
                            format!(
                                "{} requests kept in the usage history from logs no longer on disk ({} already in the logs read: counted once)",
                                crate::domain::money::count(f.rows),
                                crate::domain::money::count(n as u64 - f.rows)
                            )
                            .into(),
                        );
                    }
                }
            }
            Err(e) => warnings.push(history_failed(&mut hist, e)),
        }
    }
    // History databases given as inputs: every request they hold, under their machine.
    for p in &team {
        match History::open_read_only(p) {
            Ok(h) => {
                let machine = machine_label(p, &h);
                match h.read(None, &machine) {
                    Ok(parts) => {
                        for mut part in parts {
                            part.summary.path =
                                format!("{} (usage history of {machine})", p.display());
                            merger.add(part);
                        }
                    }
                    Err(e) => errors.push(ImportError::Unrecognised(
                        p.display().to_string(),
                        e.to_string(),
                    )),
                }
            }
            Err(e) => errors.push(ImportError::Unrecognised(
                p.display().to_string(),
                e.to_string(),
            )),
        }
    }
    loaded.errors = errors;
    let (data, file_parts) = merger.finish_with_parts();
    loaded.data = data;
    if let (Some(h), Some(_)) = (hist.as_ref(), history) {
        loaded.data.history = Some(crate::domain::dataset::HistoryUse {
            database: h.path().display().to_string(),
            requests_from_deleted_logs: from_deleted,
            recorded: recorded_now,
        });
    }
    for w in &warnings {
        loaded.notes.push(w.clone());
    }
    loaded.history_warnings = warnings;
    loaded.data.notes.append(&mut loaded.notes);
    loaded.data.unrecognised = loaded.unrecognised_in_folders.clone();
    timing("load: history", t);
    let t = std::time::Instant::now();
    if let Some(dir) = cache.dir() {
        // Housekeeping, on this slow path only (an unchanged import is answered above):
        // packs and snapshots left half-written by a killed import, and those not used for
        // a month (folders and imports not opened since).
        crate::store::atomic::remove_stale_temps(dir, crate::store::atomic::STALE_AFTER);
        cache.prune(cache::UNUSED_FOR);
    }
    timing("load: housekeeping", t);
    // Not snapshotted when a file could not be read to its end: the next import tries again.
    let read_error =
        (loaded.data.rejected.iter()).any(|r| r.reason.starts_with(import::READ_ERROR));
    // Made with the history as it is now (this import's records committed).
    let manifest = manifest
        .zip(files_manifest)
        .map(|((dir, i, _), m)| (dir, i, m));
    let manifest = manifest.and_then(|(dir, i, files_manifest)| {
        let rev = made_with(&hist, &state, bumped > 0)?;
        Some((dir, i, files_manifest.with(&rev.to_le_bytes()), rev))
    });
    if let Some((dir, inputs, m, rev)) = &manifest
        && loaded.errors.is_empty()
        && loaded.history_warnings.is_empty()
        && !read_error
        && !control.is_cancelled()
    {
        loaded.snapshot = Some(PendingSnapshot {
            dir: dir.to_path_buf(),
            inputs: *inputs,
            manifest: *m,
            unrecognised: loaded.unrecognised_in_folders.clone(),
            parts: walk.map(|walk| snapshot::Parts {
                walk,
                files: file_parts,
                revision: *rev,
            }),
        });
        // An answer made now would say the requests this import recorded, each time.
        loaded.manifest = (recorded_now == 0).then_some(*m);
    }
    loaded
}

/// The history's revision an import's snapshot (and answer) is made with: the one it started
/// from (`state`, when the history was opened), plus one if it recorded a file (`bumped`).
/// `None` when another process wrote to the history in between (a `history forget`, another
/// import: what it did may be missing from the data, which a snapshot or an answer must not
/// keep), or when the history could not be used to the end; 0 without a history.
fn made_with(hist: &Option<History>, state: &Option<(String, u64)>, bumped: bool) -> Option<u64> {
    match (hist, state) {
        (Some(h), Some((_, at_open))) => {
            let now = h.state().ok()?.1;
            (now == at_open + u64::from(bumped)).then_some(now)
        }
        (None, Some(_)) => None,
        _ => Some(0),
    }
}

/// What the history's recording stage of an import gives back: the history, what it said when
/// it could not record, and its commit (requests recorded, files recorded) or why it failed.
struct Recorded {
    hist: Option<History>,
    warning: Option<String>,
    committed: Result<(u64, u64), history::HistoryError>,
}

/// A parsed batch: the walk's batch, the indexes of the files parsed in it, and each one's
/// outcome.
type ParsedBatch = (
    WalkBatch,
    Vec<usize>,
    Vec<Result<(import::ParsedFile, bool), ImportError>>,
);

/// The history's stage of an import: records the files of each batch from `parsed` that the
/// history keeps and has not recorded as they are now (one transaction), hands the batch on
/// to the merge (`merged`), and commits once `keep` says every batch was merged; a merge that
/// stopped (cancelled) leaves the history as it was. After a failed insert nothing more is
/// recorded, and the failure is the commit's.
fn record_batches(
    mut hist: Option<History>,
    history: Option<&HistoryChoice>,
    recorded: history::PathKeyed<FileStamp>,
    in_folders: &[bool],
    parsed: std::sync::mpsc::Receiver<ParsedBatch>,
    merged: std::sync::mpsc::SyncSender<ParsedBatch>,
    keep: std::sync::mpsc::Receiver<()>,
) -> Recorded {
    let mut warning = None;
    let mut recorder = match hist.as_mut().map(History::recorder) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            warning = Some(format!("usage history not used: {e}"));
            None
        }
        None => None,
    };
    let mut failed: Option<history::HistoryError> = None;
    let mut stopped = false;
    for batch in parsed.iter() {
        let (b, picked, outcomes) = &batch;
        if let (Some(rec), Some(choice)) = (recorder.as_mut(), history) {
            for (&j, r) in picked.iter().zip(outcomes) {
                let (Ok((p, _)), Some(k), None) = (r, b.keys[j].as_ref(), failed.as_ref()) else {
                    continue;
                };
                if history_keeps(choice, p.summary.format, in_folders[b.first + j])
                    && recorded.get(&history::path_key(&k.path)) != Some(&stamp_of(k))
                {
                    let usage = FileUsage {
                        path: &k.path,
                        format: p.summary.format,
                        stamp: stamp_of(k),
                        symbols: &p.symbols,
                        records: &p.records,
                    };
                    if let Err(e) = rec.add(&usage) {
                        failed = Some(e);
                    }
                }
            }
        }
        if merged.send(batch).is_err() {
            stopped = true;
            break;
        }
    }
    drop((merged, parsed, recorded));
    let kept = !stopped && keep.recv().is_ok();
    let committed = match (recorder, failed) {
        (Some(r), None) if kept => {
            let files = r.files();
            r.commit().map(|n| (n, files))
        }
        (Some(_), Some(e)) => Err(e),
        // Dropped without a commit: nothing recorded is kept.
        _ => Ok((0, 0)),
    };
    Recorded {
        hist,
        warning,
        committed,
    }
}

/// What to say when the history failed part way: a corrupt database is set aside (a new one
/// is started by the next import), anything else is said and left as it is.
fn history_failed(hist: &mut Option<History>, e: history::HistoryError) -> String {
    if let (history::HistoryError::Corrupt(..), Some(h)) = (&e, hist.take()) {
        let path = h.path().to_path_buf();
        drop(h);
        return match History::open(&path) {
            Ok(fresh) => format!(
                "usage history not used this time: {e}; {}",
                fresh.notes.join("; ")
            ),
            Err(e2) => format!("usage history not used: {e}; {e2}"),
        };
    }
    *hist = None;
    format!("usage history not used: {e}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, sync_channel};

    /// Two Claude Code logs on disk, each parsed, as the parsing stage hands a batch on (with
    /// the history's choice of keeping Claude Code logs of the folders opened).
    fn batch(dir: &Path) -> ParsedBatch {
        let line = |n: u32| {
            format!(
                r#"{{"type":"assistant","timestamp":"2026-11-0{n}T10:00:00Z","sessionId":"s{n}","cwd":"/src/a","requestId":"req_{n}","message":{{"id":"msg_{n}","model":"claude-sonnet-4-5","usage":{{"input_tokens":{n}00,"output_tokens":7}}}}}}"#
            )
        };
        let opts = Options::default();
        let (mut paths, mut keys, mut outcomes) = (Vec::new(), Vec::new(), Vec::new());
        for (name, lines) in [("a.jsonl", [1, 2]), ("b.jsonl", [3, 4])] {
            let path = dir.join(name);
            let text = format!("{}\n{}\n", line(lines[0]), line(lines[1]));
            std::fs::write(&path, &text).unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            keys.push(cache::key_from(&path, &meta, &opts));
            outcomes.push(Ok((
                import::parse_bytes(name, text.as_bytes(), &opts).unwrap(),
                false,
            )));
            paths.push(path);
        }
        (
            WalkBatch {
                first: 0,
                paths,
                keys,
            },
            vec![0, 1],
            outcomes,
        )
    }

    /// Runs the history's stage over one batch; `merge` says whether the merge takes it and
    /// says every batch was merged. Returns what the stage gave and the requests the history
    /// then holds.
    fn run_stage(dir: &Path, merge: bool) -> (Recorded, u64) {
        let db = dir.join("history.sqlite");
        let choice = HistoryChoice {
            path: db.clone(),
            all_files: false,
        };
        let (parsed_tx, parsed_rx) = sync_channel(0);
        let (merged_tx, merged_rx) = sync_channel(0);
        let (keep_tx, keep_rx) = channel();
        let in_folders = [true, true];
        let stage = std::thread::scope(|scope| {
            let b = batch(dir);
            scope.spawn(move || parsed_tx.send(b).unwrap());
            let stage = scope.spawn(|| {
                record_batches(
                    Some(History::open(&db).unwrap()),
                    Some(&choice),
                    Default::default(),
                    &in_folders,
                    parsed_rx,
                    merged_tx,
                    keep_rx,
                )
            });
            if merge {
                let (b, picked, outcomes) = merged_rx.recv().unwrap();
                assert_eq!((b.paths.len(), picked.len(), outcomes.len()), (2, 2, 2));
                assert!(
                    merged_rx.recv().is_err(),
                    "one batch, then the stage is done"
                );
                keep_tx.send(()).unwrap();
            } else {
                // The merge stops (an import cancelled): it takes nothing more.
                drop((merged_rx, keep_tx));
            }
            stage.join().unwrap()
        });
        let requests = History::open(&db).unwrap().stats().unwrap().requests;
        (stage, requests)
    }

    /// The history's stage keeps what it recorded only once the merge has taken every batch:
    /// four requests of two files then, nothing when the merge stopped (one transaction,
    /// dropped), and the history handed back either way.
    #[test]
    fn the_history_stage_keeps_its_records_only_when_every_batch_was_merged() {
        let dir = tempfile::tempdir().unwrap();
        let (stage, requests) = run_stage(dir.path(), true);
        assert_eq!(stage.committed.unwrap(), (4, 2));
        assert!(stage.hist.is_some() && stage.warning.is_none());
        assert_eq!(requests, 4);
        let dir = tempfile::tempdir().unwrap();
        let (stage, requests) = run_stage(dir.path(), false);
        assert_eq!(stage.committed.unwrap(), (0, 0));
        assert!(stage.hist.is_some());
        assert_eq!(requests, 0);
    }
}
