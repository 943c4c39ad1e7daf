//! Merging parsed files into one dataset, by the identity rules below.
//!
//! The identity rules (what counts once, what counts twice), with their reasons:
//! - **Every row of one file counts.** Two rows of one export with the same date, model, key
//!   name, workspace, tier, context, geo and speed are two API keys that share a name (the
//!   Console allows it) or two lines the export wrote: both are summed, never dropped.
//! - **Across files, the same usage counts once.** Usage of the same (period, model, key,
//!   workspace, tier, context, geo, speed) in two files is one usage exported twice (two
//!   overlapping monthly exports): it counts once, from the file whose copy has the most tokens
//!   (the later export of a day that was still partial in the earlier one), whatever the order
//!   the files were opened in; the dataset records which files overlapped on which days. With
//!   [`MergeOptions::sum_overlaps`] copies are added up instead (different organisations whose
//!   names happen to match). Billed rows (cost exports) follow the same rule on their amounts.
//! - **One API response counts once**, however many lines and files it was written to (Claude
//!   Code writes one line per streaming snapshot): see [`replaces`].
//! - **The same file reached by two paths is one file** (`f`, `./f`, a link): the loader
//!   reads it once (the pipeline's loader).
//! - **Two kinds of source covering the same days are flagged** as a likely double count (a
//!   daily and an hourly export of one day; a Console export and an Admin report; an
//!   organisation-wide export and a request log), with the choice to keep one: a view filter
//!   on the source (the view's `Filter::sources`).

use super::{Identity, ParsedFile};
use crate::domain::dataset::{
    BilledRow, Dataset, DoubleCount, FileSummary, MAX_REJECTED_KEPT, Note, Overlap, Source,
};
use crate::domain::records::{Bucket, Symbols, UsageRecord};
use crate::domain::time::{DAY, Period};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Identities are already 64-bit hashes: hashing them again (SipHash) only costs time.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        // Spread the bits a little: hashbrown uses the top bits of the hash.
        self.0 = v ^ (v >> 29);
    }
}

pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// The de-duplication rule for the lines of one API response (formats.md section 7): a
/// main-thread copy replaces a sidechain copy; between copies of the same kind the larger
/// token total wins, because earlier streaming snapshots carry partial output counts (keeping
/// the first seen undercounts). On a tie the copy already kept stays.
pub fn replaces(kept_sidechain: bool, kept_total: u64, sidechain: bool, total: u64) -> bool {
    if kept_sidechain != sidechain {
        !sidechain
    } else {
        total > kept_total
    }
}

/// [`replaces`] on two copies' counts: on a tie of totals, the larger counts category by
/// category (input first) win, so that which copy counts does not depend on the order the
/// copies (the files) were read in. Copies with equal counts are equal usage: the first stays.
pub fn replaces_copy(
    kept_sidechain: bool,
    kept: &crate::domain::records::Tokens<u64>,
    sidechain: bool,
    tokens: &crate::domain::records::Tokens<u64>,
) -> bool {
    let (kt, t) = (kept.total(), tokens.total());
    if kept_sidechain == sidechain && kt == t {
        tokens.as_array() > kept.as_array()
    } else {
        replaces(kept_sidechain, kt, sidechain, t)
    }
}

impl Dataset {
    /// Merges parsed files, in order, by the identity rules of this module.
    pub fn merge(files: impl IntoIterator<Item = ParsedFile>, opts: MergeOptions) -> Dataset {
        let mut m = Merger::new(opts);
        for f in files {
            m.add(f);
        }
        m.finish()
    }
}

/// How files are merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeOptions {
    /// Add up copies of the same rows found in different files, instead of counting them once.
    pub sum_overlaps: bool,
}

/// The row (or billed row) kept for an identity, and the file it came from.
#[derive(Clone, Copy, Debug)]
struct Kept {
    index: usize,
    file: u32,
}

/// The record kept for one API response, and where its reported cost is. Small (one per
/// response of a whole import: 3.5 million in a 10 GB Claude Code folder): two 32-bit words,
/// the copy's sidechain flag in the record index's top bit, so that an entry of the identity
/// map is 16 bytes, not 24 (at 10 GB the map's 4 million slots were 105 MB).
#[derive(Clone, Copy, Debug, PartialEq)]
struct KeptMessage {
    /// The record's index (low 31 bits) and whether the kept copy is a sidechain's (top bit).
    record_and_side: u32,
    /// Index in `Dataset::reported` of the kept line's `costUSD`, or `u32::MAX` for none.
    reported_at: u32,
}

const SIDECHAIN_BIT: u32 = 1 << 31;

impl KeptMessage {
    fn new(record: usize, sidechain: bool, reported: Option<usize>) -> KeptMessage {
        let record = u32::try_from(record)
            .ok()
            .filter(|r| r & SIDECHAIN_BIT == 0)
            .expect("fewer than 2 billion records");
        KeptMessage {
            record_and_side: record | if sidechain { SIDECHAIN_BIT } else { 0 },
            reported_at: reported.map_or(u32::MAX, |r| {
                u32::try_from(r)
                    .ok()
                    .filter(|&r| r != u32::MAX)
                    .expect("fewer than 4 billion reported costs")
            }),
        }
    }

    fn record(&self) -> usize {
        (self.record_and_side & !SIDECHAIN_BIT) as usize
    }

    fn sidechain(&self) -> bool {
        self.record_and_side & SIDECHAIN_BIT != 0
    }

    fn reported(&self) -> Option<usize> {
        (self.reported_at != u32::MAX).then_some(self.reported_at as usize)
    }
}

/// A file's number, its source, and the days it covers (sorted, none twice).
type Coverage = (u32, u8, Box<[i64]>);

#[derive(Default)]
struct OverlapAcc {
    days: BTreeSet<i64>,
    rows: u64,
}

/// Where each merged file's part of a dataset lies, and which files share usage with another:
/// what lets one changed file be merged again alone, its part of the dataset replaced
/// (`pipeline::splice`), instead of every file merged again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileParts {
    /// Per file merged (the dataset's `files`, in order): how many records, reported costs
    /// and symbols the dataset held once it was merged. A file's records (and reported costs,
    /// and the symbols it named first) are those between the previous file's ends and its own.
    pub ends: Vec<PartEnds>,
    /// Per file: whether an API response (or row, or billed row) of it is also in another
    /// file. The part of a file that shares nothing depends on no other file, and no other
    /// file's part depends on it.
    pub shared: Vec<bool>,
    /// Per record: the [`fingerprint`] of its API response's identity (0 for a record
    /// without one). To tell whether a file's responses are anywhere else without the
    /// merge's index: a match may be two identities with the same fingerprint, which only
    /// costs a whole merge, never a wrong splice.
    pub fingerprints: Vec<u32>,
}

/// See [`FileParts::ends`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartEnds {
    pub records: u32,
    pub reported: u32,
    pub symbols: u32,
}

/// 32 bits of an API response's identity (a 64-bit hash), for [`FileParts::fingerprints`];
/// never 0 (which stands for no identity).
pub fn fingerprint(id: u64) -> u32 {
    ((id ^ (id >> 32)) as u32).max(1)
}

/// Merges parsed files one at a time into a dataset (the de-duplication state lives here,
/// not in the dataset: a merged dataset is final).
pub struct Merger {
    data: Dataset,
    opts: MergeOptions,
    seen_rows: IdMap<Kept>,
    seen_billed: IdMap<Kept>,
    seen_messages: IdMap<KeptMessage>,
    /// (first file, later file) -> what they share.
    overlaps: BTreeMap<(u32, u32), OverlapAcc>,
    /// The files' notes met so far, each held once.
    notes: rustc_hash::FxHashSet<Note>,
    /// The files with usage: each one's number, source and days (a file without any is
    /// left out: at 10 GB, 134,482 empty lists of billed days were 8 MB of the merge).
    coverage: Vec<Coverage>,
    /// The files with billed rows: each one's number, source and days.
    billed_coverage: Vec<Coverage>,
    /// Each file's ends and whether it shares usage with another (see [`FileParts`]).
    ends: Vec<PartEnds>,
    shared: Vec<bool>,
}

impl Merger {
    pub fn new(opts: MergeOptions) -> Merger {
        Merger {
            data: Dataset::default(),
            opts,
            seen_rows: IdMap::default(),
            seen_billed: IdMap::default(),
            seen_messages: IdMap::default(),
            overlaps: BTreeMap::new(),
            notes: Default::default(),
            coverage: Vec::new(),
            billed_coverage: Vec::new(),
            ends: Vec::new(),
            shared: Vec::new(),
        }
    }

    /// A merger whose dataset starts with the names and sources `symbols` and `sources`
    /// (those of a dataset a file is merged again alone for: `pipeline::splice`).
    pub fn with_tables(
        opts: MergeOptions,
        symbols: crate::domain::records::Symbols,
        sources: Vec<Source>,
    ) -> Merger {
        let mut m = Merger::new(opts);
        m.data.symbols = symbols;
        m.data.sources = sources;
        m
    }

    /// How many files were merged so far.
    pub fn file_count(&self) -> usize {
        self.data.files.len()
    }

    /// Files `a` and `b` share usage (see [`FileParts::shared`]).
    fn share(&mut self, a: u32, b: u32) {
        for f in [a, b] {
            if let Some(s) = self.shared.get_mut(f as usize) {
                *s = true;
            }
        }
    }

    /// The file whose part of the records holds record `index` (merged before the current).
    fn file_of_record(&self, index: usize) -> u32 {
        self.ends.partition_point(|e| e.records as usize <= index) as u32
    }

    /// Merges one parsed file. Symbols are re-interned into the dataset's table.
    ///
    /// A cost the file reports for a record (`reported_per_record`) is counted only when that
    /// record is: of the lines of one API response the line that wins reports its own cost
    /// (if it has none, the cost of the line it replaced stays), so Claude Code's `costUSD` is
    /// not counted once per streaming snapshot.
    pub fn add(&mut self, mut file: ParsedFile) {
        let file_no = self.data.files.len() as u32;
        self.shared.push(false);
        let file_start = self.data.records.len();
        // Files met before that share a row or a billed row with this one, and records of
        // files met before that are an API response of this one too.
        let mut sharing: Vec<u32> = Vec::new();
        let mut sharing_records: Vec<usize> = Vec::new();
        let data = &mut self.data;
        let map: Vec<u32> = (0..file.symbols.len() as u32)
            .map(|i| data.symbols.intern(file.symbols.get(i)))
            .collect();
        let remap = |s: u32| map.get(s as usize).copied().unwrap_or(0);
        let bucket = file.records.first().map_or(Bucket::Day, |(r, _)| r.bucket);
        let source = data.source_index(Source::of(file.summary.format, bucket));
        // Admin API reports name keys and workspaces by ID: a row repeated in one file is a
        // page saved twice, not two keys that share a name. Console exports name them by name.
        let by_id = file.summary.format.keyed_by_id();
        let mut merged = 0;
        let mut within = 0;
        let mut repeated = 0;
        let mut days: Vec<i64> = Vec::new();
        // Rows of this file whose identity an earlier file holds: summed here first, then
        // compared with the kept copy once the whole file is read.
        let mut contested: IdMap<usize> = IdMap::default();
        let mut contested_rows: Vec<(u64, UsageRecord)> = Vec::new();
        let mut costs = file.reported_per_record.iter().copied().peekable();
        for (j, (mut r, id)) in file.records.into_iter().enumerate() {
            r.model = remap(r.model);
            r.workspace = remap(r.workspace);
            r.api_key = remap(r.api_key);
            r.project = remap(r.project);
            r.session = remap(r.session);
            r.machine = remap(r.machine);
            r.source = source;
            let day = r.time.div_euclid(DAY);
            if days.last() != Some(&day) {
                days.push(day);
            }
            while costs.next_if(|&(i, _)| i < j).is_some() {}
            let cost = costs
                .next_if(|&(i, _)| i == j)
                .map(|(_, usd)| (r.time, usd));
            match id {
                Identity::None => {
                    data.reported.extend(cost);
                    data.records.push(r);
                }
                Identity::Row(h) => match self.seen_rows.get(&h).copied() {
                    None => {
                        data.reported.extend(cost);
                        self.seen_rows.insert(
                            h,
                            Kept {
                                index: data.records.len(),
                                file: file_no,
                            },
                        );
                        data.records.push(r);
                    }
                    // Every row of one file counts (rows keyed by ID: one copy counts).
                    Some(k) if k.file == file_no => {
                        data.reported.extend(cost);
                        if by_id {
                            repeated += 1;
                            if more_usage(&r, &data.records.get(k.index)) {
                                data.records.set(k.index, r);
                            }
                        } else {
                            within += 1;
                            data.records.update(k.index, |old| add_usage(old, &r));
                        }
                    }
                    Some(k) => {
                        sharing.push(k.file);
                        data.reported.extend(cost);
                        match contested.get(&h) {
                            // Within this file, the same rule as for a file met first: rows
                            // keyed by ID are one row (a page saved twice: the larger copy),
                            // rows keyed by name are summed.
                            Some(&i) if by_id => {
                                repeated += 1;
                                if more_usage(&r, &contested_rows[i].1) {
                                    contested_rows[i].1 = r;
                                }
                            }
                            Some(&i) => {
                                within += 1;
                                add_usage(&mut contested_rows[i].1, &r);
                            }
                            None => {
                                contested.insert(h, contested_rows.len());
                                contested_rows.push((h, r));
                            }
                        }
                    }
                },
                Identity::Message { id, sidechain } => match self.seen_messages.get(&id).copied() {
                    None => {
                        let reported = cost.map(|c| {
                            data.reported.push(c);
                            data.reported.len() - 1
                        });
                        self.seen_messages.insert(
                            id,
                            KeptMessage::new(data.records.len(), sidechain, reported),
                        );
                        data.records.push(r);
                    }
                    Some(kept) => {
                        merged += 1;
                        if kept.record() < file_start {
                            sharing_records.push(kept.record());
                        }
                        // Claude Code writes one line per content block / streaming snapshot
                        // of the same response; see `replaces`.
                        let better = replaces_copy(
                            kept.sidechain(),
                            &data.records.get(kept.record()).tokens,
                            sidechain,
                            &r.tokens,
                        );
                        if better {
                            data.records.set(kept.record(), r);
                            let reported = match (cost, kept.reported()) {
                                (Some(c), Some(slot)) => {
                                    data.reported[slot] = c;
                                    Some(slot)
                                }
                                (Some(c), None) => {
                                    data.reported.push(c);
                                    Some(data.reported.len() - 1)
                                }
                                (None, slot) => slot,
                            };
                            self.seen_messages
                                .insert(id, KeptMessage::new(kept.record(), sidechain, reported));
                        }
                    }
                },
            }
        }
        // Rows an earlier file holds too: one copy counts, the one with the most tokens (or
        // both, summed, when asked).
        let mut overlapped = 0;
        // Copies that did not win (not counted from this file).
        let mut lost = 0;
        for (h, r) in contested_rows {
            let kept = self.seen_rows[&h];
            let acc = self.overlaps.entry((kept.file, file_no)).or_default();
            acc.rows += 1;
            acc.days.insert(r.time.div_euclid(DAY));
            overlapped += 1;
            if self.opts.sum_overlaps {
                data.records.update(kept.index, |old| add_usage(old, &r));
            } else if more_usage(&r, &data.records.get(kept.index)) {
                data.records.set(kept.index, r);
                self.seen_rows.insert(
                    h,
                    Kept {
                        index: kept.index,
                        file: file_no,
                    },
                );
            } else {
                lost += 1;
            }
        }
        // Billed rows: the same rules, on amounts.
        let mut contested_billed: IdMap<usize> = IdMap::default();
        let mut contested_b: Vec<(u64, BilledRow)> = Vec::new();
        let mut billed_within = 0;
        let mut billed_days: Vec<i64> = Vec::new();
        for mut b in file.billed {
            b.model = remap(b.model);
            b.workspace = remap(b.workspace);
            b.api_key = remap(b.api_key);
            b.source = source;
            let day = b.time.div_euclid(DAY);
            if billed_days.last() != Some(&day) {
                billed_days.push(day);
            }
            let h = billed_identity(&b, &data.symbols, by_id);
            match self.seen_billed.get(&h).copied() {
                None => {
                    self.seen_billed.insert(
                        h,
                        Kept {
                            index: data.billed.len(),
                            file: file_no,
                        },
                    );
                    data.billed.push(b);
                }
                Some(k) if k.file == file_no => {
                    let old = &mut data.billed[k.index];
                    if by_id {
                        repeated += 1;
                        if (b.usd.abs(), b.usd) > (old.usd.abs(), old.usd) {
                            *old = b;
                        }
                    } else {
                        billed_within += 1;
                        add_billed(old, &b);
                    }
                }
                Some(k) => {
                    sharing.push(k.file);
                    match contested_billed.get(&h) {
                        Some(&i) if by_id => {
                            repeated += 1;
                            let old = &mut contested_b[i].1;
                            if (b.usd.abs(), b.usd) > (old.usd.abs(), old.usd) {
                                *old = b;
                            }
                        }
                        Some(&i) => {
                            billed_within += 1;
                            add_billed(&mut contested_b[i].1, &b);
                        }
                        None => {
                            contested_billed.insert(h, contested_b.len());
                            contested_b.push((h, b));
                        }
                    }
                }
            }
        }
        for (h, b) in contested_b {
            let kept = self.seen_billed[&h];
            let acc = self.overlaps.entry((kept.file, file_no)).or_default();
            acc.rows += 1;
            acc.days.insert(b.time.div_euclid(DAY));
            overlapped += 1;
            let old = &mut data.billed[kept.index];
            if self.opts.sum_overlaps {
                add_billed(old, &b);
            } else if (b.usd.abs(), b.usd) > (old.usd.abs(), old.usd) {
                *old = b;
                self.seen_billed.insert(
                    h,
                    Kept {
                        index: kept.index,
                        file: file_no,
                    },
                );
            } else {
                lost += 1;
            }
        }
        if within + billed_within > 0 {
            file.summary.notes.push(Note::from(format!(
                "{} rows repeat the date, model, key, workspace and terms of another row of this file (two API keys can share a name): all are counted",
                within + billed_within
            )));
        }
        if repeated > 0 {
            file.summary.duplicates += repeated;
            file.summary.rows = file.summary.rows.saturating_sub(repeated);
            file.summary.notes.push(Note::from(format!(
                "{repeated} rows repeat a row of this file with the same IDs (a page saved twice): counted once"
            )));
        }
        if merged > 0 {
            file.summary.duplicates += merged;
            file.summary.rows = file.summary.rows.saturating_sub(merged);
            file.summary.notes.push(Note::from(format!(
                "{merged} lines repeat an API response already seen (same message id, and request id where logged) and were merged into one request"
            )));
        }
        if overlapped > 0 {
            file.summary.duplicates += overlapped;
            file.summary.rows = file.summary.rows.saturating_sub(lost);
            file.summary.notes.push(if self.opts.sum_overlaps {
                format!("{overlapped} rows are also in another file: added up (sum overlaps is on)").into()
            } else {
                Note::from(format!(
                    "{overlapped} rows are also in another file: each counted once, from the copy with more tokens"
                ))
            });
        }
        days.sort_unstable();
        days.dedup();
        file.summary.source = source;
        let first = days.first().into_iter().chain(billed_days.iter().min());
        let last = days.last().into_iter().chain(billed_days.iter().max());
        file.summary.covers = first.min().zip(last.max()).map(|(a, b)| (a * DAY, b * DAY));
        billed_days.sort_unstable();
        billed_days.dedup();
        if !days.is_empty() {
            self.coverage
                .push((file_no, source, days.into_boxed_slice()));
        }
        if !billed_days.is_empty() {
            self.billed_coverage
                .push((file_no, source, billed_days.into_boxed_slice()));
        }
        // A file that gave nothing says so (a log taken for another format once imported
        // nothing, with no word).
        if file.summary.rows == 0
            && file.rejected.is_empty()
            && file.summary.notes.is_empty()
            && file.summary.duplicates == 0
        {
            file.summary.notes.push(Note::from(format!(
                "no usage in this file ({} lines skipped as not usage)",
                file.summary.skipped
            )));
        }
        data.reported.extend(file.reported);
        data.rejected_total += file.rejected_total.max(file.rejected.len() as u64);
        for (k, n) in file.rejected_kinds {
            *data.rejected_kinds.entry(k).or_default() += n;
        }
        let room = MAX_REJECTED_KEPT.saturating_sub(data.rejected.len());
        data.rejected.extend(file.rejected.into_iter().take(room));
        // Held to the end, one summary per file: a note said before of another file is shared
        // with it (at 10 GB, 134,482 files' notes were 24 MB of text, and took 65 MB as
        // strings of their own made by `format!`, with room for twice their words).
        crate::domain::dataset::share_notes(&mut self.notes, &mut file.summary.notes);
        file.summary.notes.shrink_to_fit();
        data.files.push(file.summary);
        let ends = PartEnds {
            records: u32::try_from(data.records.len()).expect("fewer than 2 billion records"),
            reported: u32::try_from(data.reported.len())
                .expect("fewer than 4 billion reported costs"),
            symbols: u32::try_from(data.symbols.len()).expect("fewer than 4 billion names"),
        };
        for r in sharing_records {
            sharing.push(self.file_of_record(r));
        }
        for f in sharing {
            self.share(f, file_no);
        }
        self.ends.push(ends);
    }

    /// The summary of the file merged last (to add what only its caller knows).
    pub fn last_file(&mut self) -> Option<&mut FileSummary> {
        self.data.files.last_mut()
    }

    /// The merged dataset, with the overlaps and likely double counts found.
    pub fn finish(self) -> Dataset {
        self.finish_with_parts().0
    }

    /// [`Merger::finish`], with where each file's part of the dataset lies (see
    /// [`FileParts`]).
    pub fn finish_with_parts(mut self) -> (Dataset, FileParts) {
        let mut fingerprints = vec![0u32; self.data.records.len()];
        for (&id, kept) in &self.seen_messages {
            fingerprints[kept.record()] = fingerprint(id);
        }
        let parts = FileParts {
            ends: std::mem::take(&mut self.ends),
            shared: std::mem::take(&mut self.shared),
            fingerprints,
        };
        (self.finish_data(), parts)
    }

    fn finish_data(mut self) -> Dataset {
        let day_label = |d: i64| Period::Day.label(d * DAY);
        let files = &self.data.files;
        self.data.overlaps = self
            .overlaps
            .iter()
            .map(|(&(a, b), acc)| Overlap {
                files: [
                    files[a as usize].path.clone(),
                    files[b as usize].path.clone(),
                ],
                days: acc.days.iter().map(|&d| day_label(d)).collect(),
                rows: acc.rows,
                summed: self.opts.sum_overlaps,
            })
            .collect();
        // Usage of two kinds of source over the same days; billed money of two kinds of
        // cost export over the same days (a usage export and a cost export of the same days
        // are not compared: one is reconciled against the other).
        let mut found = double_counts(&self.coverage, &self.data.sources, files);
        found.extend(double_counts(
            &self.billed_coverage,
            &self.data.sources,
            files,
        ));
        self.data.double_counts = found;
        // The records grew by doubling: up to half their room is empty, and they live as long
        // as the import (the largest block of a report's memory).
        self.data.records.shrink_to_fit();
        self.data
    }
}

/// Kinds of source in `coverage` (per file: its source and its days) that cover the same days,
/// where at least one of the two is organisation-wide (request logs of different kinds are
/// different traffic).
fn double_counts(
    coverage: &[Coverage],
    sources: &[Source],
    files: &[FileSummary],
) -> Vec<DoubleCount> {
    let day_label = |d: i64| Period::Day.label(d * DAY);
    let mut by_source: BTreeMap<u8, BTreeSet<i64>> = BTreeMap::new();
    for (_, s, days) in coverage {
        by_source
            .entry(*s)
            .or_default()
            .extend(days.iter().copied());
    }
    let keys: Vec<u8> = by_source.keys().copied().collect();
    let mut out = Vec::new();
    for (i, &a) in keys.iter().enumerate() {
        for &b in &keys[i + 1..] {
            let (sa, sb) = (&sources[a as usize], &sources[b as usize]);
            if !(sa.org_wide || sb.org_wide) {
                continue;
            }
            let common: Vec<i64> = by_source[&a]
                .intersection(&by_source[&b])
                .copied()
                .collect();
            if common.is_empty() {
                continue;
            }
            let mut in_files: Vec<String> = coverage
                .iter()
                .filter(|(_, s, days)| {
                    (*s == a || *s == b) && days.iter().any(|d| common.binary_search(d).is_ok())
                })
                .map(|(f, _, _)| files[*f as usize].path.clone())
                .collect();
            in_files.truncate(50);
            out.push(DoubleCount {
                sources: [sa.key.clone(), sb.key.clone()],
                labels: [sa.label.clone(), sb.label.clone()],
                days: common.iter().map(|&d| day_label(d)).collect(),
                files: in_files,
            });
        }
    }
    out
}

/// Adds `r`'s usage into `into` (rows of the same identity: every field but the counts is
/// the same).
fn add_usage(into: &mut UsageRecord, r: &UsageRecord) {
    into.tokens = into.tokens.saturating_add(&r.tokens);
    into.web_search = into.web_search.saturating_add(r.web_search);
    into.requests = into.requests.saturating_add(r.requests);
}

fn add_billed(into: &mut BilledRow, b: &BilledRow) {
    into.usd += b.usd;
    into.rounding_usd += b.rounding_usd;
}

/// Whether copy `a` of a row holds more usage than copy `b`: more tokens, then (for a fixed
/// order whatever the order of the files) the larger counts category by category.
fn more_usage(a: &UsageRecord, b: &UsageRecord) -> bool {
    let key = |r: &UsageRecord| {
        (
            r.tokens.total(),
            r.tokens.as_array(),
            r.web_search,
            r.requests,
        )
    };
    key(a) > key(b)
}

/// The identity of a billed row: everything but the amount. Rows of an Admin report
/// (`by_id`) carry their own identity too ([`BilledRow::id`]: the whole result but its
/// amount, description included): two results of one day that the fields here do not tell
/// apart (two descriptions naming no model) are two amounts, not a page saved twice.
fn billed_identity(b: &BilledRow, s: &Symbols, by_id: bool) -> u64 {
    let own = if by_id { b.id.to_le_bytes() } else { [0; 8] };
    crate::import::stable_hash(&[
        b"billed",
        &own,
        &b.time.to_le_bytes(),
        s.get(b.model).as_bytes(),
        s.get(b.workspace).as_bytes(),
        s.get(b.api_key).as_bytes(),
        &[
            b.tier as u8,
            b.category.map_or(255, |c| c as u8),
            b.long_context as u8,
            b.geo as u8,
            b.speed as u8,
            b.cost_type as u8,
        ],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_message_packs_its_record_side_and_cost_into_two_words() {
        assert_eq!(std::mem::size_of::<(u64, KeptMessage)>(), 16);
        for (record, side, reported) in [
            (0, false, None),
            (0, true, Some(0)),
            (7, true, None),
            ((1 << 31) - 1, true, Some(u32::MAX as usize - 1)),
            ((1 << 31) - 1, false, Some(3)),
        ] {
            let k = KeptMessage::new(record, side, reported);
            assert_eq!(
                (k.record(), k.sidechain(), k.reported()),
                (record, side, reported)
            );
        }
        assert!(std::panic::catch_unwind(|| KeptMessage::new(1 << 31, false, None)).is_err());
    }
}
