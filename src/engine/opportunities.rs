//! Opportunities (`what-if.md`, "Planning"): for each API key, workspace, project and model
//! of the selection, what each lever at a realistic setting would save on that slice, ranked
//! by dollars. Each comes with the levers and the filter that make it the scenario.
//!
//! The realistic settings, grounded in the data:
//! - **batch**: half of the standard-tier traffic of keys whose requests can wait: keys that
//!   already send at least 10% of their tokens through the Batch API, or whose name or
//!   workspace says so (batch, nightly, cron, etl, offline, backfill, eval, job, async, bulk,
//!   scheduled, report). Keyless traffic (Claude Code, most logs) is interactive: never.
//! - **caching**: the cache hit rate of the slice raised to the best hit rate observed in
//!   another slice of the same dimension (one with at least 1% of the dimension's cached
//!   input), the cacheable share as observed.
//! - **cache_ttl_1h**: the 1-hour TTL, where requests carry times and the replay says it
//!   pays (more reads than the dearer writes cost).
//! - **routing**: 30% of the slice's Sonnet and Opus work to Claude Haiku 4.5 (the "easy
//!   work" preset), tokens scaled between tokenizers.
//! - **fast_mode**: half of the slice's fast-mode traffic at standard speed.
//!
//! A slice's saving is its actual cost minus its scenario cost, so it is never above its
//! actual cost; only savings of at least half a cent are listed.

use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::domain::records::{Speed, Tier};
use crate::domain::time::Period;
use crate::engine::cube::Cube;
use crate::engine::scenario::{Levers, Ttl};
use crate::engine::view::{Dimension, Filter, View, ViewSpec};
use rayon::prelude::*;
use serde::Serialize;

/// The dimensions opportunities are sought along.
pub const DIMENSIONS: [Dimension; 4] = [
    Dimension::Key,
    Dimension::Workspace,
    Dimension::Project,
    Dimension::Model,
];

/// Words in a key's or workspace's name that say its requests can wait.
pub const CAN_WAIT_WORDS: [&str; 12] = [
    "batch",
    "nightly",
    "cron",
    "etl",
    "offline",
    "backfill",
    "eval",
    "job",
    "async",
    "bulk",
    "scheduled",
    "report",
];

/// Share of a key's tokens on the Batch API from which its other requests count as able to
/// wait.
pub const BATCHED_ALREADY: f64 = 0.10;
/// Realistic settings.
pub const BATCH_SHARE: f64 = 0.5;
pub const ROUTE_SHARE: f64 = 0.3;
pub const FAST_TO_STANDARD: f64 = 0.5;
/// Smallest saving listed, USD.
pub const MIN_SAVING: f64 = 0.005;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Opportunity {
    /// `key`, `workspace`, `project` or `model`.
    pub dimension: Dimension,
    /// The slice, as the breakdown names it.
    pub key: String,
    /// `batch`, `caching`, `cache_ttl_1h`, `routing` or `fast_mode`.
    pub lever: &'static str,
    pub savings_usd: f64,
    /// The slice's actual cost (the saving is never above it).
    pub actual_usd: f64,
    pub detail: String,
    /// The scenario that realises it: these levers on this filter.
    pub levers: Levers,
    pub filter: Filter,
}

fn can_wait_by_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    CAN_WAIT_WORDS.iter().any(|w| n.contains(w))
}

fn restrict(base: &Filter, d: Dimension, key: &str) -> Filter {
    let mut f = base.clone();
    let one = vec![key.to_owned()];
    match d {
        Dimension::Key => f.api_keys = one,
        Dimension::Workspace => f.workspaces = one,
        Dimension::Project => f.projects = one,
        Dimension::Model => f.models = one,
        _ => {}
    }
    f
}

/// Keys of the selection whose requests can wait (see the module documentation).
pub fn keys_that_can_wait(
    cube: &Cube,
    data: &Dataset,
    table: &PriceTable,
    base: &Filter,
) -> Vec<String> {
    let by_key = View::build(
        cube,
        data,
        table,
        &ViewSpec {
            period: Period::Month,
            dimension: Dimension::Key,
            filter: base.clone(),
        },
    );
    let batch = by_key.dim_tokens_where(|u| u.tier == Tier::Batch);
    let all = by_key.dim_tokens_where(|_| true);
    // Workspaces each key's usage is in, for the name rule.
    let by_ws: std::collections::HashSet<&str> = data
        .records
        .iter()
        .filter(|r| can_wait_by_name(data.symbols.get(r.workspace)))
        .map(|r| data.symbols.get(r.api_key))
        .collect();
    by_key
        .dims
        .iter()
        .enumerate()
        .filter(|(i, k)| {
            let total = all[*i].total_input() + all[*i].output;
            let batched = batch[*i].total_input() + batch[*i].output;
            let standard = total - batched;
            k.as_str() != "(none)"
                && standard > 0.0
                && (batched >= BATCHED_ALREADY * total
                    || can_wait_by_name(k)
                    || by_ws.contains(k.as_str()))
        })
        .map(|(_, k)| k.clone())
        .collect()
}

/// Every opportunity of the selection `base`, largest saving first.
pub fn find(cube: &Cube, data: &Dataset, table: &PriceTable, base: &Filter) -> Vec<Opportunity> {
    // A dimension no record names (API keys and workspaces of Claude Code logs) has only
    // "(none)", which is never an opportunity: its views are not built.
    let named = |d: Dimension| {
        data.records.iter().any(|r| match d {
            Dimension::Key => r.api_key != 0,
            Dimension::Workspace => r.workspace != 0,
            Dimension::Project => r.project != 0,
            _ => true,
        })
    };
    let waiting = if named(Dimension::Key) {
        keys_that_can_wait(cube, data, table, base)
    } else {
        Vec::new()
    };
    // Each dimension on its own thread: a few view builds and evaluations each.
    let per_dim = |d: Dimension| -> Vec<Opportunity> {
        let mut out = Vec::new();
        if !named(d) {
            return out;
        }
        let spec = ViewSpec {
            period: Period::Month,
            dimension: d,
            filter: base.clone(),
        };
        let view = View::build(cube, data, table, &spec);
        if view.groups() == 0 {
            return out;
        }
        let nd = view.dims.len().max(1);
        let eval = |v: &View, l: &Levers| l.resolve(table).ok().map(|r| v.evaluate(table, &r));
        let Some(neutral) = eval(&view, &Levers::default()) else {
            return out;
        };
        let actual = neutral.actual_by_dim(nd);
        let mut push = |key: &str,
                        lever: &'static str,
                        saving: f64,
                        detail: String,
                        levers: Levers,
                        filter: Filter,
                        actual: f64| {
            if key == "(none)" || saving.is_nan() || saving < MIN_SAVING {
                return;
            }
            out.push(Opportunity {
                dimension: d,
                key: key.to_owned(),
                lever,
                savings_usd: saving,
                actual_usd: actual,
                detail,
                levers,
                filter,
            });
        };
        let savings = |l: &Levers| -> Option<Vec<f64>> {
            let ev = eval(&view, l)?;
            Some(
                ev.scenario_by_dim(nd)
                    .iter()
                    .zip(&actual)
                    .map(|(s, a)| a - s)
                    .collect(),
            )
        };

        // Batch: the traffic of keys that can wait.
        if !waiting.is_empty() {
            let mut f = base.clone();
            f.api_keys = if base.api_keys.is_empty() {
                waiting.clone()
            } else {
                waiting
                    .iter()
                    .filter(|k| base.api_keys.contains(k))
                    .cloned()
                    .collect()
            };
            if !f.api_keys.is_empty() {
                let wait_view = View::build(
                    cube,
                    data,
                    table,
                    &ViewSpec {
                        period: Period::Month,
                        dimension: d,
                        filter: f.clone(),
                    },
                );
                let levers = Levers {
                    batch_share: BATCH_SHARE,
                    ..Levers::default()
                };
                if let (Some(n), Some(s)) = (
                    eval(&wait_view, &Levers::default()),
                    eval(&wait_view, &levers),
                ) {
                    let wn = wait_view.dims.len().max(1);
                    let (a, b) = (n.actual_by_dim(wn), s.scenario_by_dim(wn));
                    for (i, key) in wait_view.dims.iter().enumerate() {
                        let slice_actual = view
                            .dims
                            .iter()
                            .position(|k| k == key)
                            .map_or(a[i], |j| actual[j]);
                        let keys = if d == Dimension::Key {
                            key.clone()
                        } else {
                            f.api_keys.join(", ")
                        };
                        push(
                            key,
                            "batch",
                            a[i] - b[i],
                            format!(
                                "half of the standard-tier traffic of keys whose requests can wait ({keys}) moved to the Batch API (50% off)"
                            ),
                            levers.clone(),
                            restrict(&f, d, key),
                            slice_actual,
                        );
                    }
                }
            }
        }

        // Caching at the best hit rate observed elsewhere.
        let tokens = view.dim_tokens_where(|_| true);
        let cached: Vec<(f64, f64)> = tokens
            .iter()
            .map(|t| {
                let c = t.cache_write_5m + t.cache_write_1h + t.cache_read;
                (c, if c > 0.0 { t.cache_read / c } else { 0.0 })
            })
            .collect();
        let all_cached: f64 = cached.iter().map(|c| c.0).sum();
        let eligible = |j: usize| {
            view.dims[j] != "(none)" && cached[j].0 > 0.0 && cached[j].0 >= 0.01 * all_cached
        };
        let mut by_hit: std::collections::HashMap<u64, Option<Vec<f64>>> =
            std::collections::HashMap::new();
        for i in 0..view.dims.len() {
            if cached[i].0 <= 0.0 {
                continue;
            }
            let best = (0..view.dims.len())
                .filter(|&j| j != i && eligible(j))
                .max_by(|&a, &b| cached[a].1.total_cmp(&cached[b].1));
            let Some(j) = best else { continue };
            let h = cached[j].1;
            if h <= cached[i].1 + 0.005 {
                continue;
            }
            let levers = Levers {
                cache_hit: Some(h),
                ..Levers::default()
            };
            // Most slices share the same best slice: one evaluation per hit rate.
            let s = match by_hit.entry(h.to_bits()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(savings(&levers)),
            };
            let Some(s) = s else { continue };
            push(
                &view.dims[i],
                "caching",
                s[i],
                format!(
                    "cache hit rate {:.1}% raised to {:.1}%, the best observed ({} {}), cacheable share as observed",
                    100.0 * cached[i].1,
                    100.0 * h,
                    d.label().to_lowercase(),
                    view.dims[j]
                ),
                levers,
                restrict(base, d, &view.dims[i]),
                actual[i],
            );
        }

        // The 1-hour TTL, where the replay says it pays.
        if let (Some(h5), Some(h1)) = (view.observed.replay_hit_5m, view.observed.replay_hit_1h) {
            let levers = Levers {
                cache_ttl: Some(Ttl::OneHour),
                ..Levers::default()
            };
            if let Some(s) = savings(&levers) {
                for (i, key) in view.dims.iter().enumerate() {
                    push(
                        key,
                        "cache_ttl_1h",
                        s[i],
                        format!(
                            "1-hour cache TTL: the replay of the request times reads more of the cache than the dearer writes cost (replayed hit rate over the selection {:.1}% at 5m, {:.1}% at 1h)",
                            100.0 * h5,
                            100.0 * h1
                        ),
                        levers.clone(),
                        restrict(base, d, key),
                        actual[i],
                    );
                }
            }
        }

        // Routing easy work.
        let levers = Levers {
            route_share: ROUTE_SHARE,
            ..Levers::default()
        };
        if let Ok(r) = levers.resolve(table) {
            let target = r
                .route_to
                .map(|t| table.model(t).display_name().to_owned())
                .unwrap_or_default();
            let ev = view.evaluate(table, &r);
            let sc = ev.scenario_by_dim(nd);
            for (i, key) in view.dims.iter().enumerate() {
                push(
                    key,
                    "routing",
                    actual[i] - sc[i],
                    format!(
                        "30% of the Sonnet and Opus work (the easy share) priced as {target}; tokens scaled x{:.2} (or back) where routing crosses tokenizers",
                        r.token_factor
                    ),
                    levers.clone(),
                    restrict(base, d, key),
                    actual[i],
                );
            }
        }

        // Fast mode.
        let fast = view.dim_tokens_where(|u| u.speed == Speed::Fast);
        if fast.iter().any(|t| t.total_input() + t.output > 0.0) {
            let levers = Levers {
                fast_to_standard: FAST_TO_STANDARD,
                ..Levers::default()
            };
            if let Some(s) = savings(&levers) {
                for (i, key) in view.dims.iter().enumerate() {
                    push(
                        key,
                        "fast_mode",
                        s[i],
                        "half of the fast-mode traffic at standard speed".to_owned(),
                        levers.clone(),
                        restrict(base, d, key),
                        actual[i],
                    );
                }
            }
        }
        out
    };
    let mut out: Vec<Opportunity> = DIMENSIONS
        .par_iter()
        .map(|&d| per_dim(d))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    out.sort_by(|a, b| {
        b.savings_usd
            .total_cmp(&a.savings_usd)
            .then(a.dimension.key().cmp(b.dimension.key()))
            .then(a.key.cmp(&b.key))
            .then(a.lever.cmp(b.lever))
    });
    out
}
