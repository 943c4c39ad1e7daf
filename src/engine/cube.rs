//! The cube: records summed once per import (hour or day x every dimension x price terms).
//! Views are projected from it ([`super::view`]); a lever change re-prices a view's groups,
//! never the raw rows.
//!
//! Rules that depend on the size of ONE request (the long-context and Haiku 5.5 request
//! tiers, the minimum cacheable prefix) stay exact on the aggregate because requests are
//! banded ([`Banding`]): two requests share a cell only when they are on the same side of
//! every tier threshold and every minimum prefix of the price table, at every prompt-length
//! grid value and every tokenizer factor routing can apply. The TTL replay ([`Replay`]) is
//! computed per request when the cube is built and summed into the cells.

use super::order::TimeOrder;
use super::replay::{Kind, Replay};
use crate::domain::packed::Records;
use crate::domain::prices::PriceTable;
use crate::domain::records::{Bucket, Context, Geo, Speed, Sym, Tier, Tokens, UsageRecord};
use crate::domain::time::Period;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// How the request-tier rule is keyed in the cube.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum CtxKey {
    Flag(bool),
    /// Requests, banded ([`Banding::band`]): requests in one band are over or under every
    /// tier threshold, and at or under every minimum cacheable prefix, together at every grid
    /// value and tokenizer factor, so a group can stand for them all.
    Band(u64),
}

/// What requests are banded on: prompt-length values, the table's tier thresholds and
/// minimum cacheable prefixes, and the token factors routing applies between tokenizers.
///
/// A request of `x` input tokens is over a threshold `t` at prompt length `g` and factor `f`
/// when `x * g * f > t` (computed in that order, as the scenario does), and reaches a minimum
/// prefix `m` when `x * g * f >= m`. Each of these is monotone in `x`, so it holds from a
/// critical request size on: the band of a request is how many critical sizes of each kind
/// it has reached. Equal bands mean equal answers to every question.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Banding {
    grid: Vec<f64>,
    thresholds: Vec<u64>,
    minima: Vec<u64>,
    factors: Vec<f64>,
    /// Sorted critical sizes of the tier thresholds and of the minimum prefixes.
    over: Vec<u64>,
    reach: Vec<u64>,
}

/// The smallest request size (tokens) at which `pred` holds, for a `pred` monotone in the
/// size; `u64::MAX` when it never does.
fn critical(estimate: f64, pred: impl Fn(f64) -> bool) -> u64 {
    let mut x = if estimate.is_finite() && estimate > 0.0 {
        (estimate.floor() as u64).saturating_sub(2)
    } else {
        0
    };
    if x as f64 > 9e15 {
        return u64::MAX;
    }
    while !pred(x as f64) {
        if x as f64 > 9e15 {
            return u64::MAX;
        }
        x += 1;
    }
    while x > 0 && pred((x - 1) as f64) {
        x -= 1;
    }
    x
}

impl Banding {
    /// The banding for `table` at the prompt-length values of `grid` (1.0 is always added),
    /// with `extra_factors` besides the tokenizer factors of the table (a routing token factor
    /// given by the user, and its inverse).
    pub fn new(grid: &[f64], table: &PriceTable, extra_factors: &[f64]) -> Banding {
        let mut grid: Vec<f64> = grid
            .iter()
            .copied()
            .filter(|g| g.is_finite() && *g > 0.0)
            .chain([1.0])
            .collect();
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        grid.truncate(255);
        let thresholds: Vec<u64> = table
            .thresholds()
            .iter()
            .copied()
            .take(crate::domain::prices::MAX_THRESHOLDS)
            .collect();
        // The table's factors are capped (a price file with many tokenizer ratios has their
        // squares); the factors given (a routing token factor and its inverse) are always kept,
        // so that a cube rebuilt for them is exact at them.
        let mut factors = table_factors(table);
        factors.truncate(16);
        factors.extend(
            extra_factors
                .iter()
                .copied()
                .filter(|f| f.is_finite() && *f > 0.0),
        );
        factors.sort_by(f64::total_cmp);
        factors.dedup();
        let mut minima: Vec<u64> = table
            .models
            .iter()
            .filter(|m| m.caching)
            .filter_map(|m| m.min_cacheable_tokens)
            .collect();
        minima.sort_unstable();
        minima.dedup();
        minima.truncate(16);
        let mut over = Vec::new();
        let mut reach = Vec::new();
        for &g in &grid {
            for &f in &factors {
                for &t in &thresholds {
                    let t = t as f64;
                    over.push(critical(t / (g * f), |x| x * g * f > t));
                }
                for &m in &minima {
                    let m = m as f64;
                    reach.push(critical(m / (g * f), |x| x * g * f >= m));
                }
            }
        }
        over.sort_unstable();
        reach.sort_unstable();
        Banding {
            grid,
            thresholds,
            minima,
            factors,
            over,
            reach,
        }
    }

    /// The band of a request of `x` prompt tokens.
    pub(crate) fn band(&self, x: u64) -> u64 {
        let over = self.over.partition_point(|&c| c <= x) as u64;
        let reach = self.reach.partition_point(|&c| c <= x) as u64;
        over << 32 | reach
    }

    pub fn grid(&self) -> &[f64] {
        &self.grid
    }

    pub fn thresholds(&self) -> &[u64] {
        &self.thresholds
    }

    pub fn factors(&self) -> &[f64] {
        &self.factors
    }

    /// The minimum cacheable prefixes requests were banded on.
    pub fn minima(&self) -> &[u64] {
        &self.minima
    }

    /// The factors given besides the table's (kept when the cube is rebuilt for new prices).
    pub fn extra_factors(&self, table: &PriceTable) -> Vec<f64> {
        let own = table_factors(table);
        self.factors
            .iter()
            .copied()
            .filter(|f| !own.contains(f))
            .collect()
    }

    /// True when requests banded this way are exact at prompt length `g` and, when routing is
    /// given a token factor `route_factor`, at it and its inverse (an invalid value is not a
    /// scenario and asks for nothing).
    pub fn is_exact_at(&self, g: f64, route_factor: Option<f64>) -> bool {
        let valid = |v: f64| v.is_finite() && v > 0.0;
        (!valid(g) || self.grid.contains(&g))
            && route_factor
                .filter(|&f| valid(f))
                .is_none_or(|f| self.factors.contains(&f) && self.factors.contains(&(1.0 / f)))
    }

    /// True when requests banded this way are exact for `table`: the same thresholds and
    /// minimum prefixes, and every tokenizer factor of the table.
    pub fn fits(&self, table: &PriceTable) -> bool {
        let fresh = Banding::new(&self.grid, table, &[]);
        fresh.thresholds == self.thresholds
            && fresh.minima == self.minima
            && fresh.factors.iter().all(|f| self.factors.contains(f))
    }
}

/// Token factors of routing between the table's models: every ratio of two tokenizer ratios
/// (1, 1.30 old to new, 1/1.30 back), computed as the scenario computes them.
pub fn table_factors(table: &PriceTable) -> Vec<f64> {
    let mut ratios: Vec<f64> = table.models.iter().map(|m| m.tokenizer_ratio).collect();
    ratios.sort_by(f64::total_cmp);
    ratios.dedup();
    let mut f: Vec<f64> = vec![1.0];
    for &a in &ratios {
        for &b in &ratios {
            f.push(a / b);
        }
    }
    f.sort_by(f64::total_cmp);
    f.dedup();
    f
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
    pub(crate) replay: Kind,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell {
    pub(crate) tokens: Tokens<u64>,
    pub(crate) web_search: u64,
    pub(crate) requests: u64,
    pub(crate) rows: u64,
    pub(crate) min_input: u64,
    /// Cache reads of the TTL replay at 5m and 1h (replayed records only).
    pub(crate) replay_read: [u64; 2],
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
    banding: Banding,
}

impl Cube {
    /// `banding`: the prompt-length values, thresholds, minimum prefixes and tokenizer
    /// factors the scenario must be exact at ([`Banding::new`]). The TTL replay of the
    /// records is computed here and summed into the cells.
    ///
    /// Records are summed one time bucket (hour or day) at a time, so the table of cells
    /// being filled stays small enough for the CPU cache however many cells there are in all.
    /// Buckets are split between threads. Exports and logs are mostly in time order already;
    /// when they are not, the records are visited through an index sorted by bucket.
    pub fn build(records: &Records, banding: &Banding) -> Cube {
        let replay = Replay::of(records);
        // The passes that put the records in order read only their time and bucket.
        let bucket_at = |i: usize| match records.time_bucket_tier(i) {
            (time, Bucket::Day, _) => Period::Day.start(time),
            (time, ..) => Period::Hour.start(time),
        };
        let key_of = |r: &UsageRecord, time: i64, replay: Kind| {
            let ctx = match r.context {
                Context::Flag(b) => CtxKey::Flag(b),
                Context::Request => CtxKey::Band(banding.band(r.tokens.total_input())),
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
                replay,
            }
        };
        let in_order = (0..records.len()).map(bucket_at).is_sorted();
        let order = if in_order {
            TimeOrder::Wide(Vec::new())
        } else {
            TimeOrder::sorted((0..records.len()).map(|i| (bucket_at(i), i as u32)))
        };
        let n = records.len();
        let at = |i: usize| -> (i64, UsageRecord, usize) {
            if in_order {
                (bucket_at(i), records.get(i), i)
            } else {
                let (b, j) = order.get(i);
                (b, records.get(j as usize), j as usize)
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
            // Room for a cell per record (the most there can be), given back at the end: grown
            // by doubling, the two vectors took twice their size while they were copied.
            let mut keys = Vec::with_capacity(to - from);
            let mut cells: Vec<Cell> = Vec::with_capacity(to - from);
            let mut current = None;
            for i in from..to {
                let (time, r, j) = at(i);
                if current != Some(time) {
                    current = Some(time);
                    index.clear();
                }
                let (replay_read, kind) = replay.get(j);
                let key = key_of(&r, time, kind);
                let i = *index.entry(key).or_insert_with(|| {
                    keys.push(key);
                    cells.push(Cell {
                        tokens: Tokens::default(),
                        web_search: 0,
                        requests: 0,
                        rows: 0,
                        min_input: u64::MAX,
                        replay_read: [0, 0],
                    });
                    (cells.len() - 1) as u32
                });
                let c = &mut cells[i as usize];
                c.tokens = c.tokens.saturating_add(&r.tokens);
                c.web_search = c.web_search.saturating_add(r.web_search);
                c.requests = c.requests.saturating_add(r.requests);
                c.rows += 1;
                c.min_input = c.min_input.min(r.tokens.total_input());
                c.replay_read[0] = c.replay_read[0].saturating_add(replay_read[0]);
                c.replay_read[1] = c.replay_read[1].saturating_add(replay_read[1]);
            }
            keys.shrink_to_fit();
            cells.shrink_to_fit();
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
            banding: banding.clone(),
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
        self.banding.grid()
    }

    /// The tier thresholds requests were banded on.
    pub fn thresholds(&self) -> &[u64] {
        self.banding.thresholds()
    }

    /// What requests were banded on.
    pub fn banding(&self) -> &Banding {
        &self.banding
    }
}
