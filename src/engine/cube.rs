//! The cube: records summed once per import (hour or day x every dimension x price terms).
//! Views are projected from it ([`super::view`]); a lever change re-prices a view's groups,
//! never the raw rows.

use crate::domain::records::{Bucket, Context, Geo, Speed, Sym, Tier, Tokens, UsageRecord};
use crate::domain::time::Period;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// How the request-tier rule is keyed in the cube.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum CtxKey {
    Flag(bool),
    /// Requests, banded by how many prompt-length grid values lift them over each tier
    /// threshold of the price table (one byte per threshold): requests in one band are over or
    /// under every threshold together at every grid value, so a group can stand for them all.
    Band(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CubeKey {
    pub(crate) time: i64,
    pub(crate) model: Sym,
    pub(crate) tier: Tier,
    pub(crate) ctx: CtxKey,
    pub(crate) geo: Geo,
    pub(crate) speed: Speed,
    pub(crate) workspace: Sym,
    pub(crate) api_key: Sym,
    pub(crate) project: Sym,
    pub(crate) machine: Sym,
    pub(crate) source: u8,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell {
    pub(crate) tokens: Tokens<u64>,
    pub(crate) web_search: u64,
    pub(crate) requests: u64,
    pub(crate) rows: u64,
    pub(crate) min_input: u64,
}

/// Prompt-length values at which request-level long-context status is exact: the slider's
/// steps (0.1 - 1 by 0.05, 1 - 3 by 0.1, 3 - 10 by 0.25).
pub fn prompt_length_grid() -> Vec<f64> {
    // Divided, not multiplied (`i as f64 * 0.1` is 1.5000000000000002 at i = 15): each
    // value is the double nearest its decimal, the one a slider or `--prompt-length 1.5` gives.
    let mut g = Vec::new();
    g.extend((2..=20).map(|i| i as f64 / 20.0));
    g.extend((11..=30).map(|i| i as f64 / 10.0));
    g.extend((13..=40).map(|i| i as f64 / 4.0));
    g
}

/// Usage summed once per import: cells and their keys, in parts (one per thread that summed
/// them; kept apart rather than copied together).
#[derive(Clone, Debug, Default)]
pub struct Cube {
    parts: Vec<(Vec<CubeKey>, Vec<Cell>)>,
    grid: Vec<f64>,
    thresholds: Vec<u64>,
}

impl Cube {
    /// `grid`: prompt-length values the scenario must be exact at (1.0 is always added);
    /// `thresholds`: the request-tier thresholds of the price table
    /// ([`PriceTable::thresholds`]).
    ///
    /// Records are summed one time bucket (hour or day) at a time, so the table of cells
    /// being filled stays small enough for the CPU cache however many cells there are in all.
    /// Buckets are split between threads. Exports and logs are mostly in time order already;
    /// when they are not, the records are visited through an index sorted by bucket.
    pub fn build(records: &[UsageRecord], grid: &[f64], thresholds: &[u64]) -> Cube {
        let mut grid: Vec<f64> = grid
            .iter()
            .copied()
            .filter(|g| g.is_finite() && *g > 0.0)
            .chain([1.0])
            .collect();
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        // A band is one byte per threshold: at most 255 grid values, 8 thresholds.
        grid.truncate(255);
        let thresholds: Vec<u64> = thresholds
            .iter()
            .copied()
            .take(crate::domain::prices::MAX_THRESHOLDS)
            .collect();
        let bucket_of = |r: &UsageRecord| match r.bucket {
            Bucket::Day => Period::Day.start(r.time),
            _ => Period::Hour.start(r.time),
        };
        let key_of = |r: &UsageRecord, time: i64| {
            let ctx = match r.context {
                Context::Flag(b) => CtxKey::Flag(b),
                Context::Request => {
                    // How many grid values lift the request over each threshold: `x * g > t`
                    // is monotone in g (the grid is sorted), false then true along the grid.
                    let x = r.tokens.total_input() as f64;
                    let band = thresholds.iter().fold(0u64, |band, &t| {
                        let under = grid.partition_point(|&g| x * g <= t as f64);
                        band << 8 | (grid.len() - under) as u64
                    });
                    CtxKey::Band(band)
                }
            };
            CubeKey {
                time,
                model: r.model,
                tier: r.tier,
                ctx,
                geo: r.geo,
                speed: r.speed,
                workspace: r.workspace,
                api_key: r.api_key,
                project: r.project,
                machine: r.machine,
                source: r.source,
            }
        };
        let in_order = records
            .windows(2)
            .all(|w| bucket_of(&w[0]) <= bucket_of(&w[1]));
        let order: Vec<(i64, u32)> = if in_order {
            Vec::new()
        } else {
            let mut o: Vec<(i64, u32)> = records
                .iter()
                .enumerate()
                .map(|(i, r)| (bucket_of(r), i as u32))
                .collect();
            o.par_sort_unstable();
            o
        };
        let n = records.len();
        let at = |i: usize| -> (i64, &UsageRecord) {
            if in_order {
                let r = &records[i];
                (bucket_of(r), r)
            } else {
                let (b, j) = order[i];
                (b, &records[j as usize])
            }
        };
        // Cut the sequence into one part per thread, each cut at a bucket boundary.
        let parts = if n >= 1 << 16 {
            rayon::current_num_threads().max(1)
        } else {
            1
        };
        let mut cuts = vec![0usize];
        for p in 1..parts {
            let mut c = (n * p / parts).max(*cuts.last().unwrap_or(&0));
            while c > 0 && c < n && at(c).0 == at(c - 1).0 {
                c += 1;
            }
            cuts.push(c.min(n));
        }
        cuts.push(n);
        let sum_part = |(from, to): (usize, usize)| {
            let mut index: FxHashMap<CubeKey, u32> = FxHashMap::default();
            let mut keys = Vec::new();
            let mut cells: Vec<Cell> = Vec::new();
            let mut current = None;
            for i in from..to {
                let (time, r) = at(i);
                if current != Some(time) {
                    current = Some(time);
                    index.clear();
                }
                let key = key_of(r, time);
                let i = *index.entry(key).or_insert_with(|| {
                    keys.push(key);
                    cells.push(Cell {
                        tokens: Tokens::default(),
                        web_search: 0,
                        requests: 0,
                        rows: 0,
                        min_input: u64::MAX,
                    });
                    (cells.len() - 1) as u32
                });
                let c = &mut cells[i as usize];
                c.tokens = c.tokens.saturating_add(&r.tokens);
                c.web_search = c.web_search.saturating_add(r.web_search);
                c.requests = c.requests.saturating_add(r.requests);
                c.rows += 1;
                c.min_input = c.min_input.min(r.tokens.total_input());
            }
            (keys, cells)
        };
        let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
        let parts = if ranges.len() > 1 {
            ranges.into_par_iter().map(sum_part).collect()
        } else {
            ranges.into_iter().map(sum_part).collect()
        };
        Cube {
            parts,
            grid,
            thresholds,
        }
    }

    /// Every cell with its key, in order.
    pub(crate) fn cells(&self) -> impl Iterator<Item = (&CubeKey, &Cell)> {
        self.parts.iter().flat_map(|(k, c)| k.iter().zip(c))
    }

    pub fn groups(&self) -> usize {
        self.parts.iter().map(|p| p.0.len()).sum()
    }

    pub fn grid(&self) -> &[f64] {
        &self.grid
    }

    /// The tier thresholds requests were banded on.
    pub fn thresholds(&self) -> &[u64] {
        &self.thresholds
    }
}
