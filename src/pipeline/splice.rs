//! An import in which a few files changed since the last (a live Claude Code session appends
//! to its log), answered from the last import's snapshot with only those files merged again:
//! each one's part of the dataset (its records, reported costs and summary) is replaced by
//! what merging its new version gives.
//!
//! That is exactly what merging every file again gives, and is done only when it must be:
//! - the files found are the same, at the same places, in the same order, and only the ones
//!   spliced changed; the usage history is at the revision the snapshot was made with;
//! - the dataset holds Claude Code usage only, of one kind of source (no billed rows, no
//!   overlaps or likely double counts between files, which a changed file could change);
//! - a spliced file shares no API response with any other file, before or after the change
//!   (the merge marks files that do, [`FileParts::shared`], and each record's response has a
//!   fingerprint, [`FileParts::fingerprints`]: a match, even of two responses that only share
//!   a fingerprint, sends the import through the whole merge): no other file's part depends on
//!   it, and its own part depends on no other file;
//! - it names nothing the dataset does not already name, in the order the whole merge would
//!   name it (the dataset's names are numbered in the order the files name them first);
//! - it has no rejected line, before or after (the dataset keeps the first rejected lines in
//!   file order), and is still read as a Claude Code log.
//!
//! Otherwise the import goes through the whole merge, as it did before this existed. The
//! files' cache packs are not rewritten for the spliced files (the next whole merge parses
//! them again: a few files).

use super::load::HistoryChoice;
use crate::domain::dataset::Dataset;
use crate::domain::packed::Records;
use crate::import::merge::{FileParts, MergeOptions, Merger, PartEnds};
use crate::import::{self, Control, Format, Options};
use crate::store::cache::Key;
use crate::store::history::{FileUsage, History};
use crate::store::snapshot::{Snapshot, WalkEntry};
use std::path::PathBuf;

/// At most this many changed files are merged again alone; more go through the whole merge
/// (which then costs little more).
pub const MAX_SPLICED: usize = 64;

/// The files an import found: as shown, whether each was found in a folder opened, each
/// one's key (none when it could not be examined), and their [`WalkEntry`]s.
pub(super) struct Found<'a> {
    pub paths: &'a [PathBuf],
    pub in_folders: &'a [bool],
    pub keys: &'a [Option<Key>],
    pub walk: &'a [WalkEntry],
}

/// What a splice gives: the dataset, its parts, the files found (with their summaries'
/// indexes), and what it recorded in the history (requests, and whether a file was).
pub(super) struct Spliced {
    pub data: Dataset,
    pub parts: FileParts,
    pub walk: Vec<WalkEntry>,
    pub recorded: u64,
    pub bumped: bool,
    /// How many files were merged again.
    pub files: usize,
}

/// No splice (and with `$COSTLENS_TIMINGS` set, why not, on stderr).
fn refused<T>(why: &str) -> Option<T> {
    if std::env::var_os("COSTLENS_TIMINGS").is_some() {
        eprintln!("costlens: timing: no splice: {why}");
    }
    None
}

/// One changed file, parsed and merged alone.
struct Changed {
    /// Its index among the dataset's files.
    file: usize,
    records: Records,
    fingerprints: Vec<u32>,
    reported: Vec<(i64, f64)>,
    summary: crate::domain::dataset::FileSummary,
}

/// The import of `found` answered from snapshot `old` with the changed files merged again, if
/// that is exactly what the whole merge gives (see the module documentation); `None` to go
/// through the whole merge. The usage of the changed files is recorded in `hist` (committed
/// only when the splice is done).
pub(super) fn splice(
    old: Snapshot,
    found: &Found,
    opts: &Options,
    control: &Control,
    hist: Option<&mut History>,
    history: Option<&HistoryChoice>,
    revision: u64,
) -> Option<Spliced> {
    let parts = old.parts?;
    let mut data = old.data;
    if parts.revision != revision || parts.walk.len() != found.walk.len() {
        return refused("another history revision or another number of files");
    }
    let mut changed: Vec<usize> = Vec::new();
    for (i, (was, is)) in parts.walk.iter().zip(found.walk).enumerate() {
        if was.place != is.place {
            return refused("files found at other places");
        }
        if was.stamp != is.stamp {
            changed.push(i);
            if changed.len() > MAX_SPLICED || was.file == WalkEntry::NOT_MERGED {
                return refused("too many files changed, or one not merged before");
            }
        }
    }
    if changed.is_empty()
        || !data.billed.is_empty()
        || !data.overlaps.is_empty()
        || !data.double_counts.is_empty()
        || data.sources.len() != 1
    {
        return refused(
            "nothing changed, or billed rows, overlaps, double counts or several sources",
        );
    }
    let files = &parts.files;
    for &i in &changed {
        let f = parts.walk[i].file as usize;
        let s = &data.files[f];
        if s.format != Format::ClaudeCodeJsonl || s.rejected != 0 || files.shared[f] {
            return refused("a changed file was not a lone Claude Code log without rejected lines");
        }
        // Two paths to one file are read once: a changed file must stay a file of its own.
        let k = found.keys[i].as_ref()?;
        if k.ino != 0
            && found.keys.iter().enumerate().any(|(j, o)| {
                j != i && o.as_ref().is_some_and(|o| (o.dev, o.ino) == (k.dev, k.ino))
            })
        {
            return refused("a changed file has two paths");
        }
    }
    // Parsed (a few files, in parallel), then checked and merged alone, in order.
    let parsed: Vec<_> = {
        use rayon::prelude::*;
        changed
            .par_iter()
            .map(|&i| import::parse_file(&found.paths[i], opts, control).ok())
            .collect()
    };
    let initial_symbols = Dataset::default().symbols.len() as u32;
    let mut symbols = std::mem::take(&mut data.symbols);
    let mut spliced: Vec<Changed> = Vec::with_capacity(changed.len());
    let mut to_record = Vec::new();
    for (&i, p) in changed.iter().zip(parsed) {
        let (p, _) = p?;
        let f = parts.walk[i].file as usize;
        if p.summary.format != Format::ClaudeCodeJsonl
            || p.summary.rejected != 0
            || p.rejected_total != 0
            || !p.rejected.is_empty()
            || !p.billed.is_empty()
            || p.records
                .iter()
                .any(|(_, id)| matches!(id, import::Identity::Row(_)))
        {
            return refused("a changed file now has rejected lines, billed or row usage");
        }
        // The names it gives: known, and those the whole merge would number in its turn
        // exactly the ones it did.
        let start = if f == 0 {
            initial_symbols
        } else {
            files.ends[f - 1].symbols
        };
        let mut next = start;
        for s in 0..p.symbols.len() as u32 {
            let id = symbols.lookup(p.symbols.get(s))?;
            if id >= start {
                if id != next {
                    return refused("a changed file names something in another order");
                }
                next += 1;
            }
        }
        if next != files.ends[f].symbols {
            return refused("a changed file names something new");
        }
        if let (Some(choice), Some(k)) = (history, found.keys[i].as_ref())
            && super::load::history_keeps(choice, p.summary.format, found.in_folders[i])
        {
            to_record.push((
                k,
                super::load::stamp_of(k),
                p.symbols.clone(),
                p.records.clone(),
            ));
        }
        let mut m = Merger::with_tables(
            MergeOptions {
                sum_overlaps: opts.sum_overlaps,
            },
            symbols,
            std::mem::take(&mut data.sources),
        );
        m.add(p);
        let (mut alone, alone_parts) = m.finish_with_parts();
        symbols = std::mem::take(&mut alone.symbols);
        data.sources = std::mem::take(&mut alone.sources);
        if data.sources.len() != 1 || !alone.double_counts.is_empty() {
            return refused("a changed file made a double count or another source");
        }
        spliced.push(Changed {
            file: f,
            records: alone.records,
            fingerprints: alone_parts.fingerprints,
            reported: alone.reported,
            summary: alone.files.pop()?,
        });
    }
    data.symbols = symbols;
    // No response of a changed file anywhere else: not in another file's part, not in another
    // changed file (within one file a response's lines are one record: a repeat is another
    // file's, or two responses that share a fingerprint).
    let mut theirs: rustc_hash::FxHashSet<u32> = Default::default();
    for c in &spliced {
        for &fp in c.fingerprints.iter().filter(|&&fp| fp != 0) {
            if !theirs.insert(fp) {
                return refused("a response in two changed files");
            }
        }
    }
    let own = |r: usize| -> bool {
        spliced
            .iter()
            .any(|c| part_of(&files.ends, c.file, |e| e.records).contains(&r))
    };
    if files
        .fingerprints
        .iter()
        .enumerate()
        .any(|(r, fp)| *fp != 0 && theirs.contains(fp) && !own(r))
    {
        return refused("a response of a changed file is in another file");
    }
    // Recorded, then committed: nothing is kept if the history fails (the whole merge then
    // meets the failure and says it), nor if the import was cancelled (the whole merge then
    // says so).
    if control.is_cancelled() {
        return refused("cancelled");
    }
    let (mut recorded, mut bumped) = (0, false);
    if let Some(h) = hist
        && !to_record.is_empty()
    {
        let mut due = Vec::with_capacity(to_record.len());
        for r in to_record {
            if h.recorded_stamp(&r.0.path).ok()? != Some(r.1) {
                due.push(r);
            }
        }
        if !due.is_empty() {
            let mut rec = h.recorder().ok()?;
            for (k, stamp, syms, records) in &due {
                rec.add(&FileUsage {
                    path: &k.path,
                    format: Format::ClaudeCodeJsonl,
                    stamp: *stamp,
                    symbols: syms,
                    records,
                })
                .ok()?;
            }
            bumped = rec.files() > 0;
            recorded = rec.commit().ok()?;
        }
    }
    if let Some(h) = data.history.as_mut() {
        h.recorded = recorded;
    }
    let files_merged = spliced.len();
    let (data, files) = compose(data, parts.files, spliced);
    // The files as they are now, each with its summary where it was.
    let walk = (found.walk.iter().zip(&parts.walk))
        .map(|(now, was)| WalkEntry {
            file: was.file,
            ..*now
        })
        .collect();
    Some(Spliced {
        data,
        parts: files,
        walk,
        recorded,
        bumped,
        files: files_merged,
    })
}

/// The range of file `f`'s part, of what `end` gives of each file's ends.
fn part_of(ends: &[PartEnds], f: usize, end: impl Fn(&PartEnds) -> u32) -> std::ops::Range<usize> {
    let start = if f == 0 {
        0
    } else {
        end(&ends[f - 1]) as usize
    };
    start..end(&ends[f]) as usize
}

/// `data` and its parts with each changed file's part replaced by its new one (`changed` in
/// the files' order), in place: at 10 GB the records are 152 MB, which a copy would hold
/// twice.
fn compose(mut data: Dataset, mut parts: FileParts, changed: Vec<Changed>) -> (Dataset, FileParts) {
    // From the last file back: the parts before the one replaced stay where they are.
    for c in changed.into_iter().rev() {
        let r = part_of(&parts.ends, c.file, |e| e.records);
        let p = part_of(&parts.ends, c.file, |e| e.reported);
        let dr = c.records.len() as i64 - r.len() as i64;
        let dp = c.reported.len() as i64 - p.len() as i64;
        data.records.replace_range(r.clone(), c.records.iter());
        let fps = &mut parts.fingerprints;
        fps.reserve_exact(c.fingerprints.len().saturating_sub(r.len()));
        fps.splice(r, c.fingerprints);
        data.reported.splice(p, c.reported);
        for e in &mut parts.ends[c.file..] {
            e.records = (e.records as i64 + dr) as u32;
            e.reported = (e.reported as i64 + dp) as u32;
        }
        data.files[c.file] = c.summary;
    }
    (data, parts)
}
