//! A dataset: everything imported in one session, merged from any number of files, with
//! duplicates (the same rows loaded twice) counted once.

use crate::import::{BilledRow, FileSummary, Identity, ParsedFile, Rejected};
use crate::records::{Symbols, UsageRecord};
use std::collections::{HashMap, HashSet};
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

pub(crate) type IdSet = HashSet<u64, BuildHasherDefault<IdentityHasher>>;
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

#[derive(Debug, Default)]
pub struct Dataset {
    pub symbols: Symbols,
    pub records: Vec<UsageRecord>,
    pub billed: Vec<BilledRow>,
    /// Costs the sources themselves report (Claude Code's `costUSD`), by time.
    pub reported: Vec<(i64, f64)>,
    pub files: Vec<FileSummary>,
    pub rejected: Vec<Rejected>,
    pub(crate) seen_rows: IdSet,
    pub(crate) seen_billed: IdSet,
    /// Message identity -> the record kept for it.
    pub(crate) seen_messages: IdMap<KeptMessage>,
}

/// The record kept for one API response, and where its reported cost is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct KeptMessage {
    pub(crate) record: usize,
    pub(crate) sidechain: bool,
    /// Index in `Dataset::reported` of the kept line's `costUSD`, if it had one.
    pub(crate) reported: Option<usize>,
}

impl Dataset {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.billed.is_empty()
    }

    /// Merges one parsed file. Symbols are re-interned into the dataset's table.
    ///
    /// A cost the file reports for a record (`reported_per_record`) is counted only when that
    /// record is: a row loaded twice reports once, and of the lines of one API response the
    /// line that wins reports its own cost (if it has none, the cost of the line it replaced
    /// stays), so Claude Code's `costUSD` is not counted once per streaming snapshot.
    pub fn add(&mut self, mut file: ParsedFile) {
        let map: Vec<u32> = (0..file.symbols.len() as u32)
            .map(|i| self.symbols.intern(file.symbols.get(i)))
            .collect();
        let remap = |s: u32| map.get(s as usize).copied().unwrap_or(0);
        let mut duplicates = 0;
        let mut merged = 0;
        let mut costs = file.reported_per_record.iter().copied().peekable();
        for (j, (mut r, id)) in file.records.into_iter().enumerate() {
            r.model = remap(r.model);
            r.workspace = remap(r.workspace);
            r.api_key = remap(r.api_key);
            r.project = remap(r.project);
            while costs.next_if(|&(i, _)| i < j).is_some() {}
            let cost = costs
                .next_if(|&(i, _)| i == j)
                .map(|(_, usd)| (r.time, usd));
            match id {
                Identity::None => {
                    self.reported.extend(cost);
                    self.records.push(r);
                }
                Identity::Row(h) => {
                    if self.seen_rows.insert(h) {
                        self.reported.extend(cost);
                        self.records.push(r);
                    } else {
                        duplicates += 1;
                    }
                }
                Identity::Message { id, sidechain } => match self.seen_messages.get(&id).copied() {
                    None => {
                        let reported = cost.map(|c| {
                            self.reported.push(c);
                            self.reported.len() - 1
                        });
                        self.seen_messages.insert(
                            id,
                            KeptMessage {
                                record: self.records.len(),
                                sidechain,
                                reported,
                            },
                        );
                        self.records.push(r);
                    }
                    Some(kept) => {
                        merged += 1;
                        // Claude Code writes one line per content block / streaming snapshot
                        // of the same response; see `replaces`.
                        let better = replaces(
                            kept.sidechain,
                            self.records[kept.record].tokens.total(),
                            sidechain,
                            r.tokens.total(),
                        );
                        if better {
                            self.records[kept.record] = r;
                            let reported = match (cost, kept.reported) {
                                (Some(c), Some(slot)) => {
                                    self.reported[slot] = c;
                                    Some(slot)
                                }
                                (Some(c), None) => {
                                    self.reported.push(c);
                                    Some(self.reported.len() - 1)
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
        for mut b in file.billed {
            if !self.seen_billed.insert(b.id) {
                duplicates += 1;
                continue;
            }
            b.model = remap(b.model);
            b.workspace = remap(b.workspace);
            b.api_key = remap(b.api_key);
            self.billed.push(b);
        }
        if duplicates > 0 {
            file.summary.duplicates += duplicates;
            file.summary.rows = file.summary.rows.saturating_sub(duplicates);
            file.summary.notes.push(format!(
                "{duplicates} rows were already loaded (same rows in this or another file) and are counted once"
            ));
        }
        if merged > 0 {
            file.summary.duplicates += merged;
            file.summary.rows = file.summary.rows.saturating_sub(merged);
            file.summary.notes.push(format!(
                "{merged} lines repeat an API response already seen (same message id, and request id where logged) and were merged into one request"
            ));
        }
        self.reported.extend(file.reported);
        self.rejected.extend(file.rejected);
        self.files.push(file.summary);
    }

    /// First and last record time, Unix seconds.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let min = self.records.iter().map(|r| r.time).min()?;
        let max = self.records.iter().map(|r| r.time).max()?;
        Some((min, max))
    }
}
