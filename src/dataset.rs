//! A dataset: everything imported in one session, merged from any number of files.
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
//!   reads it once ([`crate::session`]).
//! - **Two kinds of source covering the same days are flagged** as a likely double count (a
//!   daily and an hourly export of one day; a Console export and an Admin report; an
//!   organisation-wide export and a request log), with the choice to keep one: a view filter
//!   on the source ([`crate::aggregate::Filter::sources`]).

use crate::import::{BilledRow, FileSummary, Identity, ParsedFile, Rejected};
use crate::records::{Bucket, Symbols, UsageRecord};
use serde::{Deserialize, Serialize};
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

/// A kind of usage source, as far as counting the same usage twice goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Short name for filters and flags (`console_usage_daily`, `claude_code`, ...).
    pub key: String,
    pub label: String,
    /// An organisation-wide record of usage (Console export, Admin report): any other source
    /// of the same days is, at least in part, the same usage again.
    pub org_wide: bool,
}

impl Source {
    /// The source of a file of format `format` (its label) whose rows are `bucket` wide.
    pub fn of(format: &str, bucket: Bucket) -> Source {
        let width = match bucket {
            Bucket::Day => "daily",
            Bucket::Hour => "hourly",
            Bucket::Minute => "per minute",
            Bucket::Request => "requests",
        };
        let (key, label, org_wide) = if format.starts_with("Console usage") {
            (
                format!("console_usage_{}", width.replace(' ', "_")),
                format!("Console usage export ({width} rows)"),
                true,
            )
        } else if format.starts_with("Admin API usage") {
            (
                format!("admin_usage_{}", width.replace(' ', "_")),
                format!("Admin API usage report ({width} buckets)"),
                true,
            )
        } else if format.starts_with("Console cost") || format.starts_with("Admin API cost") {
            (
                "cost_export".to_owned(),
                "cost export (tokens derived from cost)".to_owned(),
                true,
            )
        } else if format.starts_with("Claude Code") {
            (
                "claude_code".to_owned(),
                "Claude Code logs".to_owned(),
                false,
            )
        } else if format.contains("Batches") {
            (
                "batch_results".to_owned(),
                "Message Batches results".to_owned(),
                false,
            )
        } else {
            ("messages".to_owned(), "Messages API logs".to_owned(), false)
        };
        Source {
            key,
            label,
            org_wide,
        }
    }
}

/// Two files that hold copies of the same rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    pub files: [String; 2],
    /// Days (YYYY-MM-DD) with rows in both.
    pub days: Vec<String>,
    /// Rows (identities) found in both.
    pub rows: u64,
    /// True when the copies were added up (`--sum-overlaps`); otherwise each row counted
    /// once, from the copy with more tokens.
    pub summed: bool,
}

/// Two kinds of source covering the same days: the same usage is likely counted twice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoubleCount {
    /// Source keys (see [`Source::key`]), and their labels.
    pub sources: [String; 2],
    pub labels: [String; 2],
    /// Days (YYYY-MM-DD) both cover.
    pub days: Vec<String>,
    /// Files of either kind with usage on those days.
    pub files: Vec<String>,
}

impl DoubleCount {
    /// What to tell the user, naming the fix.
    pub fn message(&self, cli: bool) -> String {
        let keep = if cli {
            format!(
                "keep one with --only-source {} or --only-source {}",
                self.sources[0], self.sources[1]
            )
        } else {
            "keep one (Keep only…)".to_owned()
        };
        format!(
            "{} and {} both cover {} ({}): the same usage is likely counted twice; {keep}",
            self.labels[0],
            self.labels[1],
            plural(self.days.len(), "day"),
            day_span(&self.days)
        )
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// "2026-08-01 to 2026-08-31" or the one day.
fn day_span(days: &[String]) -> String {
    match (days.first(), days.last()) {
        (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
        (Some(a), _) => a.clone(),
        _ => String::new(),
    }
}

#[derive(Debug, Default)]
pub struct Dataset {
    pub symbols: Symbols,
    pub records: Vec<UsageRecord>,
    pub billed: Vec<BilledRow>,
    /// Costs the sources themselves report (Claude Code's `costUSD`), by time.
    pub reported: Vec<(i64, f64)>,
    pub files: Vec<FileSummary>,
    /// Rejected lines kept as examples (the first of each file, at most
    /// [`MAX_REJECTED_KEPT`] in all); every one is counted in `rejected_total`, by reason.
    pub rejected: Vec<Rejected>,
    pub rejected_total: u64,
    pub rejected_kinds: BTreeMap<String, u64>,
    /// The kinds of source records came from; `UsageRecord::source` indexes it.
    pub sources: Vec<Source>,
    pub overlaps: Vec<Overlap>,
    pub double_counts: Vec<DoubleCount>,
    /// Things about the import as a whole (the same file given twice...).
    pub notes: Vec<String>,
    /// Set when the records were derived from a cost export (no usage file was loaded).
    pub derived: Option<crate::derive::Derived>,
    /// Files inside opened folders that are not usage files (skipped, listed).
    pub unrecognised: Vec<String>,
}

/// At most this many rejected lines are kept as examples over all files.
pub const MAX_REJECTED_KEPT: usize = 5_000;

impl Dataset {
    /// Adds a rejected line (or a problem with a file: `line` 0) to the examples and counts.
    pub fn reject(&mut self, r: Rejected) {
        self.rejected_total += 1;
        *self
            .rejected_kinds
            .entry(crate::import::reason_kind(&r.reason))
            .or_default() += 1;
        if self.rejected.len() < MAX_REJECTED_KEPT {
            self.rejected.push(r);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.billed.is_empty()
    }

    /// Merges parsed files, in order, by the identity rules of this module.
    pub fn merge(files: impl IntoIterator<Item = ParsedFile>, opts: MergeOptions) -> Dataset {
        let mut m = Merger::new(opts);
        for f in files {
            m.add(f);
        }
        m.finish()
    }

    /// First and last record time, Unix seconds.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let min = self.records.iter().map(|r| r.time).min()?;
        let max = self.records.iter().map(|r| r.time).max()?;
        Some((min, max))
    }

    /// The index of `source` in [`Dataset::sources`], added if new.
    pub fn source_index(&mut self, source: Source) -> u8 {
        match self.sources.iter().position(|s| *s == source) {
            Some(i) => i as u8,
            None => {
                self.sources.push(source);
                (self.sources.len() - 1).min(u8::MAX as usize) as u8
            }
        }
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

/// The record kept for one API response, and where its reported cost is.
#[derive(Clone, Copy, Debug, PartialEq)]
struct KeptMessage {
    record: usize,
    sidechain: bool,
    /// Index in `Dataset::reported` of the kept line's `costUSD`, if it had one.
    reported: Option<usize>,
}

#[derive(Default)]
struct OverlapAcc {
    days: BTreeSet<i64>,
    rows: u64,
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
    /// Per file: its source and the days it has usage on.
    coverage: Vec<(u8, Vec<i64>)>,
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
            coverage: Vec::new(),
        }
    }

    /// Merges one parsed file. Symbols are re-interned into the dataset's table.
    ///
    /// A cost the file reports for a record (`reported_per_record`) is counted only when that
    /// record is: of the lines of one API response the line that wins reports its own cost
    /// (if it has none, the cost of the line it replaced stays), so Claude Code's `costUSD` is
    /// not counted once per streaming snapshot.
    pub fn add(&mut self, mut file: ParsedFile) {
        let data = &mut self.data;
        let file_no = data.files.len() as u32;
        let map: Vec<u32> = (0..file.symbols.len() as u32)
            .map(|i| data.symbols.intern(file.symbols.get(i)))
            .collect();
        let remap = |s: u32| map.get(s as usize).copied().unwrap_or(0);
        let bucket = file.records.first().map_or(Bucket::Day, |(r, _)| r.bucket);
        let source = data.source_index(Source::of(&file.summary.format, bucket));
        // Admin API reports name keys and workspaces by ID: a row repeated in one file is a
        // page saved twice, not two keys that share a name. Console exports name them by name.
        let by_id = file.summary.format.starts_with("Admin API");
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
            r.source = source;
            let day = r.time.div_euclid(86_400);
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
                        let old = &mut data.records[k.index];
                        if by_id {
                            repeated += 1;
                            if more_usage(&r, old) {
                                *old = r;
                            }
                        } else {
                            within += 1;
                            add_usage(old, &r);
                        }
                    }
                    Some(_) => {
                        data.reported.extend(cost);
                        match contested.get(&h) {
                            Some(&i) => add_usage(&mut contested_rows[i].1, &r),
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
                            KeptMessage {
                                record: data.records.len(),
                                sidechain,
                                reported,
                            },
                        );
                        data.records.push(r);
                    }
                    Some(kept) => {
                        merged += 1;
                        // Claude Code writes one line per content block / streaming snapshot
                        // of the same response; see `replaces`.
                        let better = replaces(
                            kept.sidechain,
                            data.records[kept.record].tokens.total(),
                            sidechain,
                            r.tokens.total(),
                        );
                        if better {
                            data.records[kept.record] = r;
                            let reported = match (cost, kept.reported) {
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
                            self.seen_messages.insert(
                                id,
                                KeptMessage {
                                    record: kept.record,
                                    sidechain,
                                    reported,
                                },
                            );
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
            acc.days.insert(r.time.div_euclid(86_400));
            overlapped += 1;
            let old = &mut data.records[kept.index];
            if self.opts.sum_overlaps {
                add_usage(old, &r);
            } else if more_usage(&r, old) {
                *old = r;
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
        for mut b in file.billed {
            b.model = remap(b.model);
            b.workspace = remap(b.workspace);
            b.api_key = remap(b.api_key);
            let h = billed_identity(&b, &data.symbols);
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
                Some(_) => match contested_billed.get(&h) {
                    Some(&i) => add_billed(&mut contested_b[i].1, &b),
                    None => {
                        contested_billed.insert(h, contested_b.len());
                        contested_b.push((h, b));
                    }
                },
            }
        }
        for (h, b) in contested_b {
            let kept = self.seen_billed[&h];
            let acc = self.overlaps.entry((kept.file, file_no)).or_default();
            acc.rows += 1;
            acc.days.insert(b.time.div_euclid(86_400));
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
            file.summary.notes.push(format!(
                "{} rows repeat the date, model, key, workspace and terms of another row of this file (two API keys can share a name): all are counted",
                within + billed_within
            ));
        }
        if repeated > 0 {
            file.summary.duplicates += repeated;
            file.summary.rows = file.summary.rows.saturating_sub(repeated);
            file.summary.notes.push(format!(
                "{repeated} rows repeat a row of this file with the same IDs (a page saved twice): counted once"
            ));
        }
        if merged > 0 {
            file.summary.duplicates += merged;
            file.summary.rows = file.summary.rows.saturating_sub(merged);
            file.summary.notes.push(format!(
                "{merged} lines repeat an API response already seen (same message id, and request id where logged) and were merged into one request"
            ));
        }
        if overlapped > 0 {
            file.summary.duplicates += overlapped;
            file.summary.rows = file.summary.rows.saturating_sub(lost);
            file.summary.notes.push(if self.opts.sum_overlaps {
                format!("{overlapped} rows are also in another file: added up (sum overlaps is on)")
            } else {
                format!(
                    "{overlapped} rows are also in another file: each counted once, from the copy with more tokens"
                )
            });
        }
        days.sort_unstable();
        days.dedup();
        if !days.is_empty() {
            self.coverage.push((source, days));
        } else {
            self.coverage.push((source, Vec::new()));
        }
        // A file that gave nothing says so (a log taken for another format once imported
        // nothing, with no word).
        if file.summary.rows == 0
            && file.rejected.is_empty()
            && file.summary.notes.is_empty()
            && file.summary.duplicates == 0
        {
            file.summary.notes.push(format!(
                "no usage in this file ({} lines skipped as not usage)",
                file.summary.skipped
            ));
        }
        data.reported.extend(file.reported);
        data.rejected_total += file.rejected_total.max(file.rejected.len() as u64);
        for (k, n) in file.rejected_kinds {
            *data.rejected_kinds.entry(k).or_default() += n;
        }
        let room = MAX_REJECTED_KEPT.saturating_sub(data.rejected.len());
        data.rejected.extend(file.rejected.into_iter().take(room));
        data.files.push(file.summary);
    }

    /// The merged dataset, with the overlaps and likely double counts found.
    pub fn finish(mut self) -> Dataset {
        let day_label = |d: i64| crate::aggregate::Period::Day.label(d * 86_400);
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
        // Days each source covers, and which files cover which.
        let mut by_source: BTreeMap<u8, BTreeSet<i64>> = BTreeMap::new();
        for (s, days) in &self.coverage {
            by_source
                .entry(*s)
                .or_default()
                .extend(days.iter().copied());
        }
        let sources = &self.data.sources;
        let keys: Vec<u8> = by_source.keys().copied().collect();
        for (i, &a) in keys.iter().enumerate() {
            for &b in &keys[i + 1..] {
                let (sa, sb) = (&sources[a as usize], &sources[b as usize]);
                // Request logs of different kinds are different traffic; an organisation-wide
                // record with anything else of the same days is the same usage again.
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
                let mut in_files: Vec<String> = self
                    .coverage
                    .iter()
                    .enumerate()
                    .filter(|(_, (s, days))| {
                        (*s == a || *s == b) && days.iter().any(|d| common.binary_search(d).is_ok())
                    })
                    .map(|(f, _)| files[f].path.clone())
                    .collect();
                in_files.truncate(50);
                self.data.double_counts.push(DoubleCount {
                    sources: [sa.key.clone(), sb.key.clone()],
                    labels: [sa.label.clone(), sb.label.clone()],
                    days: common.iter().map(|&d| day_label(d)).collect(),
                    files: in_files,
                });
            }
        }
        self.data
    }
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

/// The identity of a billed row: everything but the amount.
fn billed_identity(b: &BilledRow, s: &Symbols) -> u64 {
    crate::import::stable_hash(&[
        b"billed",
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
