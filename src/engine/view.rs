//! Views: the cube ([`super::cube`]) projected onto one period width, one breakdown
//! dimension and a filter; [`View::evaluate`] prices a view under a scenario.

use super::cube::{Banding, CtxKey, Cube, CubeKey};
use super::replay::Kind;
use super::scenario::{
    self, Levers, LongRule, Observed, ResolvedLevers, STAGES, Stage, Ttl, Usage,
};
use crate::domain::cost::Cost;
use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::domain::records::{Category, Geo, Speed, Symbols, Tier, Tokens};
use crate::domain::time::Period;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    #[default]
    Model,
    Category,
    Workspace,
    Key,
    Tier,
    Project,
    Source,
    /// The machine usage came from: this one, or a history database given as an input.
    Machine,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Model,
        Dimension::Category,
        Dimension::Workspace,
        Dimension::Key,
        Dimension::Tier,
        Dimension::Project,
        Dimension::Source,
        Dimension::Machine,
    ];

    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.key() == s)
    }

    pub fn key(self) -> &'static str {
        match self {
            Dimension::Model => "model",
            Dimension::Category => "category",
            Dimension::Workspace => "workspace",
            Dimension::Key => "key",
            Dimension::Tier => "tier",
            Dimension::Project => "project",
            Dimension::Source => "source",
            Dimension::Machine => "machine",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Model => "Model",
            Dimension::Category => "Token category",
            Dimension::Workspace => "Workspace",
            Dimension::Key => "API key",
            Dimension::Tier => "Tier",
            Dimension::Project => "Project",
            Dimension::Source => "Source",
            Dimension::Machine => "Machine",
        }
    }
}

/// The labels of the category breakdown: the five token categories, then web search.
pub const CATEGORY_LABELS: [&str; 6] = [
    "uncached_input",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
    "output",
    "web_search",
];

/// Which rows a view covers. Empty lists mean "all"; names are as the UI shows them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Inclusive start, Unix seconds.
    pub from: Option<i64>,
    /// Exclusive end, Unix seconds.
    pub to: Option<i64>,
    pub models: Vec<String>,
    pub workspaces: Vec<String>,
    pub api_keys: Vec<String>,
    /// Projects (Claude Code logs) as shown.
    pub projects: Vec<String>,
    /// Source keys ([`crate::domain::dataset::Source::key`]): keep only usage from these kinds of
    /// source (the choice to keep one of two that count the same usage).
    pub sources: Vec<String>,
    /// Machines, as the machine breakdown names them ([`THIS_MACHINE`] for this one).
    pub machines: Vec<String>,
}

/// How the machine dimension names usage of this machine (imported here, not from another
/// machine's history).
pub const THIS_MACHINE: &str = "(this machine)";

fn machine_label(syms: &Symbols, m: crate::domain::records::Sym) -> &str {
    match syms.get(m) {
        "" => THIS_MACHINE,
        s => s,
    }
}

impl Filter {
    fn time_ok(&self, t: i64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSpec {
    pub period: Period,
    pub dimension: Dimension,
    pub filter: Filter,
}

#[derive(Clone, Debug)]
struct ViewGroup {
    period: u32,
    dim: u32,
    usage: Usage,
    replay: Kind,
}

/// Tokens of a model no price entry matches: shown, never priced at $0 silently.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unpriced {
    pub model: String,
    pub tokens: u64,
    pub by_category: Tokens<u64>,
}

/// The label a model is shown under: the price entry's display name, else the raw name.
pub fn model_label(table: &PriceTable, name: &str) -> String {
    match table.lookup(name) {
        Some(i) => table.model(i).display_name().to_owned(),
        None => name.to_owned(),
    }
}

/// A cube projected onto periods x one dimension, ready to price under any levers.
#[derive(Clone, Debug, Default)]
pub struct View {
    pub spec: ViewSpec,
    /// Period starts, ascending.
    pub periods: Vec<i64>,
    /// Labels of the breakdown dimension's values.
    pub dims: Vec<String>,
    groups: Vec<ViewGroup>,
    /// The same usage with requests grouped only by their side of each tier threshold and
    /// minimum prefix at prompt length x1 and no tokenizer factor: what the levers need
    /// unless they change prompt lengths or route across tokenizers (far fewer groups on
    /// logs). Empty when it would not be smaller.
    coarse: Vec<ViewGroup>,
    /// How the cube's requests were banded: the tier thresholds and minimum prefixes, and the
    /// prompt lengths and token factors at which the view is exact.
    banding: Banding,
    /// Observed tokens per dimension value (for the breakdown table).
    pub dim_tokens: Vec<Tokens<u64>>,
    pub tokens: Tokens<u64>,
    pub requests: u64,
    pub rows: u64,
    /// Requests of the priced groups that were replayed, by kind of stream.
    replayed_requests: [u64; 2],
    pub observed: Observed,
    pub unpriced: Vec<Unpriced>,
    /// What the user should know about how this view was priced (secondary prices, fast
    /// mode without a price of its own, tiers without a public price), one sentence each.
    pub price_notes: Vec<String>,
    /// Billed cost per period (from cost exports), when any was loaded.
    pub billed: Option<Vec<f64>>,
    /// Cost the logs themselves report (Claude Code `costUSD`), when any.
    pub reported: Option<Vec<f64>>,
    /// How many requests of the view carry a reported cost: the comparison with the
    /// recomputed cost only holds when every request does.
    pub reported_requests: u64,
}

/// The priced result of a view under a scenario.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub actual: f64,
    pub scenario: f64,
    /// Saving of each stage, in [`Stage::ALL`] order.
    pub waterfall: Vec<(Stage, f64)>,
    /// Row-major [period][dim] costs.
    pub actual_cells: Vec<f64>,
    pub scenario_cells: Vec<f64>,
    pub actual_by_category: Cost,
    pub scenario_by_category: Cost,
    pub scenario_tokens: Tokens<f64>,
    /// Input tokens (scenario counts) the caching could not touch: requests under the
    /// minimum cacheable prefix of the model they are priced on ([`scenario::Outcome`]).
    pub cache_excluded_input: f64,
    /// Input tokens of aggregated rows the caching levers acted on without request sizes.
    pub cache_unsized_input: f64,
    /// All input tokens of the scenario (to say what share the two above are).
    pub scenario_input: f64,
    /// Per dimension value: the part of its scenario cost priced on the routing target (the
    /// routed work stays on the row it came from, and this says how much of it there is).
    pub routed_by_dim: Vec<f64>,
}

/// The TTL replay of a view's requests at one TTL (`report --json` `ttl_replay`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TtlReplay {
    pub ttl: Ttl,
    /// Cache reads over cached tokens (reads + writes) of the replay.
    pub hit_rate: f64,
    pub cache_write_tokens: f64,
    pub cache_read_tokens: f64,
    /// What the replayed requests cost with the cache as the replay has it at this TTL
    /// (writes at this TTL's price), everything else as observed.
    pub cost_usd: f64,
    /// What the same requests actually cost.
    pub actual_usd: f64,
}

/// The replay's self-check: requests of streams that wrote only 5-minute entries, actual
/// cost against their 5-minute replay.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplayCheck {
    pub requests: u64,
    pub actual_usd: f64,
    pub replay_5m_usd: f64,
    /// (replay - actual) / actual, in percent.
    pub difference_pct: f64,
}

/// Everything the replay says about a view.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplaySummary {
    /// 5m, then 1h; empty when no request of the view has a time of its own.
    pub ttls: Vec<TtlReplay>,
    pub check: Option<ReplayCheck>,
    /// Requests replayed, and input tokens left out (aggregated rows, batch results).
    pub requests: u64,
    pub replayed_input_tokens: u64,
    pub not_replayed_input_tokens: u64,
}

impl Evaluation {
    pub fn savings(&self) -> f64 {
        self.actual - self.scenario
    }

    pub fn savings_pct(&self) -> f64 {
        if self.actual > 0.0 {
            100.0 * self.savings() / self.actual
        } else {
            0.0
        }
    }

    fn row_sums(cells: &[f64], dims: usize) -> Vec<f64> {
        if dims == 0 {
            return vec![];
        }
        cells.chunks(dims).map(|c| c.iter().sum()).collect()
    }

    pub fn actual_by_period(&self, dims: usize) -> Vec<f64> {
        Self::row_sums(&self.actual_cells, dims)
    }

    pub fn scenario_by_period(&self, dims: usize) -> Vec<f64> {
        Self::row_sums(&self.scenario_cells, dims)
    }

    fn col_sums(cells: &[f64], dims: usize) -> Vec<f64> {
        let mut v = vec![0.0; dims];
        for (i, x) in cells.iter().enumerate() {
            v[i % dims] += x;
        }
        v
    }

    pub fn actual_by_dim(&self, dims: usize) -> Vec<f64> {
        Self::col_sums(&self.actual_cells, dims)
    }

    pub fn scenario_by_dim(&self, dims: usize) -> Vec<f64> {
        Self::col_sums(&self.scenario_cells, dims)
    }
}

impl View {
    pub fn build(cube: &Cube, data: &Dataset, table: &PriceTable, spec: &ViewSpec) -> View {
        // Requests are banded on the table's tier thresholds: a table with other thresholds
        // (a price file loaded since the cube was built) needs a cube banded on them.
        let rebuilt;
        let cube = if cube.banding().fits(table) {
            cube
        } else {
            let b = cube.banding();
            let banding = Banding::new(b.grid(), table, &b.extra_factors(table));
            rebuilt = Cube::build(&data.records, &banding);
            &rebuilt
        };
        let syms = &data.symbols;
        let f = &spec.filter;
        fn set(v: &[String]) -> Option<HashSet<&str>> {
            (!v.is_empty()).then(|| v.iter().map(String::as_str).collect())
        }
        let (models_ok, ws_ok, keys_ok) = (set(&f.models), set(&f.workspaces), set(&f.api_keys));
        let projects_ok = set(&f.projects);
        let machines_ok = set(&f.machines);
        let source_ok: Vec<bool> = data
            .sources
            .iter()
            .map(|s| f.sources.is_empty() || f.sources.contains(&s.key))
            .collect();
        // Per-symbol model resolution, done once, for the symbols that name a model (most
        // name sessions and projects: a Claude Code folder has thousands).
        let mut is_model = vec![false; syms.len()];
        let models_in = cube
            .cells()
            .map(|(k, _)| k.model)
            .chain(data.billed.iter().map(|b| b.model));
        for m in models_in {
            if let Some(v) = is_model.get_mut(m as usize) {
                *v = true;
            }
        }
        let model_idx: Vec<Option<usize>> = (0..syms.len() as u32)
            .map(|s| {
                is_model[s as usize]
                    .then(|| table.lookup(syms.get(s)))
                    .flatten()
            })
            .collect();
        let model_lbl: Vec<String> = (0..syms.len() as u32)
            .map(|s| {
                if is_model[s as usize] {
                    model_label(table, syms.get(s))
                } else {
                    String::new()
                }
            })
            .collect();
        let name_ok =
            |ok: &Option<HashSet<&str>>, s: &str| ok.as_ref().is_none_or(|o| o.contains(s));

        let mut periods: Vec<i64> = Vec::new();
        let mut period_seen: FxHashMap<i64, ()> = FxHashMap::default();
        let mut last_period = None;
        let mut dim_ix: HashMap<String, u32> = HashMap::new();
        // The dimension value of each symbol (or tier), worked out once: labels are strings,
        // and a cube can have a million cells.
        let tier_slot = |t: Tier| syms.len() + t as usize;
        let source_slot = |s: u8| syms.len() + 8 + s as usize;
        let mut dim_of_slot: Vec<u32> = vec![u32::MAX; syms.len() + 8 + 256];
        let mut dims: Vec<String> = Vec::new();
        if spec.dimension == Dimension::Category {
            dims = CATEGORY_LABELS.iter().map(|s| s.to_string()).collect();
        }
        #[derive(Hash, PartialEq, Eq)]
        struct GKey {
            period: i64,
            dim: u32,
            model: usize,
            epoch: u32,
            tier: Tier,
            ctx: CtxKey,
            geo: Geo,
            speed: Speed,
            replay: Kind,
        }
        #[derive(Default)]
        struct GSum {
            tokens: Tokens<u64>,
            web: u64,
            min_input: u64,
            requests: u64,
            replay: [u64; 2],
        }
        let mut gmap: FxHashMap<GKey, GSum> = FxHashMap::default();
        let mut unpriced: HashMap<String, Tokens<u64>> = HashMap::new();
        let mut view = View {
            spec: spec.clone(),
            ..Default::default()
        };
        let mut batch_tokens = 0u64;
        for (k, c) in cube.cells() {
            if !f.time_ok(k.time)
                || !source_ok.get(k.source as usize).copied().unwrap_or(true)
                || !name_ok(&models_ok, &model_lbl[k.model as usize])
                || !name_ok(&ws_ok, syms.get(k.workspace))
                || !name_ok(&keys_ok, syms.get(k.api_key))
                || !name_ok(&projects_ok, syms.get(k.project))
                || !name_ok(&machines_ok, machine_label(syms, k.machine))
            {
                continue;
            }
            view.tokens = view.tokens.saturating_add(&c.tokens);
            view.requests += c.requests;
            view.rows += c.rows;
            if k.tier == Tier::Batch {
                batch_tokens += c.tokens.total();
            }
            let Some(model) = model_idx[k.model as usize] else {
                let e = unpriced.entry(syms.get(k.model).to_owned()).or_default();
                *e = e.saturating_add(&c.tokens);
                continue;
            };
            let p = spec.period.start(k.time);
            if last_period != Some(p) {
                last_period = Some(p);
                if period_seen.insert(p, ()).is_none() {
                    periods.push(p);
                }
            }
            let dim = match spec.dimension {
                Dimension::Category => 0,
                d => {
                    let slot = match d {
                        Dimension::Model => k.model as usize,
                        Dimension::Workspace => k.workspace as usize,
                        Dimension::Key => k.api_key as usize,
                        Dimension::Project => k.project as usize,
                        Dimension::Source => source_slot(k.source),
                        Dimension::Machine => k.machine as usize,
                        Dimension::Tier | Dimension::Category => tier_slot(k.tier),
                    };
                    if dim_of_slot[slot] == u32::MAX {
                        let label = dim_label(d, k, syms, &model_lbl, &data.sources);
                        let next = dims.len() as u32;
                        dim_of_slot[slot] = *dim_ix.entry(label.clone()).or_insert_with(|| {
                            dims.push(label);
                            next
                        });
                    }
                    dim_of_slot[slot]
                }
            };
            let g = gmap
                .entry(GKey {
                    period: p,
                    dim,
                    model,
                    epoch: table.epoch_of(k.time),
                    tier: k.tier,
                    ctx: k.ctx,
                    geo: k.geo,
                    speed: k.speed,
                    replay: k.replay,
                })
                .or_insert_with(|| GSum {
                    min_input: u64::MAX,
                    ..GSum::default()
                });
            g.tokens = g.tokens.saturating_add(&c.tokens);
            g.web = g.web.saturating_add(c.web_search);
            g.min_input = g.min_input.min(c.min_input);
            g.requests = g.requests.saturating_add(c.requests);
            g.replay[0] = g.replay[0].saturating_add(c.replay_read[0]);
            g.replay[1] = g.replay[1].saturating_add(c.replay_read[1]);
        }
        // The bill is filtered like the usage (its model names are display names, which the
        // model labels resolve to). Logs' own costs carry no model, workspace or key: they are
        // shown only while the filter is on time alone.
        let billed_ok = |b: &&crate::domain::dataset::BilledRow| {
            f.time_ok(b.time)
                && source_ok.get(b.source as usize).copied().unwrap_or(true)
                && name_ok(&models_ok, &model_lbl[b.model as usize])
                && name_ok(&ws_ok, syms.get(b.workspace))
                && name_ok(&keys_ok, syms.get(b.api_key))
                && projects_ok.is_none()
                && name_ok(&machines_ok, THIS_MACHINE)
        };
        let time_only = f.models.is_empty()
            && f.workspaces.is_empty()
            && f.api_keys.is_empty()
            && f.projects.is_empty()
            && f.sources.is_empty()
            && f.machines.is_empty();
        let reported_ok = |r: &&(i64, f64)| time_only && f.time_ok(r.0);
        // Billed and reported series may cover periods without usage.
        let billed_periods: Vec<i64> = data
            .billed
            .iter()
            .filter(billed_ok)
            .map(|b| spec.period.start(b.time))
            .chain(
                data.reported
                    .iter()
                    .filter(reported_ok)
                    .map(|r| spec.period.start(r.0)),
            )
            .collect();
        periods.extend(billed_periods);
        periods.sort_unstable();
        periods.dedup();
        let period_pos: FxHashMap<i64, u32> = periods
            .iter()
            .enumerate()
            .map(|(i, &p)| (p, i as u32))
            .collect();

        // Sort dimension values by name for a stable legend.
        let mut order: Vec<u32> = (0..dims.len() as u32).collect();
        if spec.dimension != Dimension::Category {
            order.sort_by(|&a, &b| dims[a as usize].cmp(&dims[b as usize]));
        }
        let mut remap = vec![0u32; dims.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        let dims: Vec<String> = order.iter().map(|&o| dims[o as usize].clone()).collect();

        view.dim_tokens = vec![Tokens::default(); dims.len()];
        let (mut replay_cached, mut replay_read) = (0u64, [0u64; 2]);
        let mut groups: Vec<ViewGroup> = gmap
            .into_iter()
            .map(|(k, sum)| {
                let GSum {
                    tokens,
                    web,
                    min_input,
                    requests,
                    replay,
                } = sum;
                if k.replay.is_replayed() {
                    replay_cached = replay_cached.saturating_add(
                        tokens
                            .cache_write_5m
                            .saturating_add(tokens.cache_write_1h)
                            .saturating_add(tokens.cache_read),
                    );
                    replay_read[0] = replay_read[0].saturating_add(replay[0]);
                    replay_read[1] = replay_read[1].saturating_add(replay[1]);
                    let i = usize::from(k.replay == Kind::OneHourStream);
                    view.replayed_requests[i] += requests;
                }
                let dim = remap.get(k.dim as usize).copied().unwrap_or(0);
                if spec.dimension == Dimension::Category {
                    for (i, c) in Category::ALL.iter().enumerate() {
                        let t = &mut view.dim_tokens[i];
                        *t = t.saturating_add(&single(*c, tokens.get(*c)));
                    }
                } else {
                    let t = &mut view.dim_tokens[dim as usize];
                    *t = t.saturating_add(&tokens);
                }
                ViewGroup {
                    period: period_pos[&k.period],
                    dim,
                    usage: Usage {
                        model: k.model,
                        time: table.epoch_time(k.epoch).max(k.period),
                        tier: k.tier,
                        long: match k.ctx {
                            CtxKey::Flag(b) => LongRule::Flag(b),
                            CtxKey::Band(_) => LongRule::Request {
                                min_input: min_input as f64,
                            },
                        },
                        geo: k.geo,
                        speed: k.speed,
                        tokens: tokens.to_f64(),
                        web_search: web as f64,
                        replay: k.replay.is_replayed().then(|| replay.map(|x| x as f64)),
                    },
                    replay: k.replay,
                }
            })
            .collect();
        view.price_notes = price_notes(table, &groups);
        sort_groups(&mut groups);
        view.observed = Observed::from_tokens(&view.tokens.to_f64(), batch_tokens as f64);
        if replay_cached > 0 {
            view.observed.replay_hit_5m = Some(replay_read[0] as f64 / replay_cached as f64);
            view.observed.replay_hit_1h = Some(replay_read[1] as f64 / replay_cached as f64);
        }
        let mut unpriced: Vec<Unpriced> = unpriced
            .into_iter()
            .map(|(model, t)| Unpriced {
                model,
                tokens: t.total(),
                by_category: t,
            })
            .collect();
        unpriced.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.model.cmp(&b.model)));
        view.unpriced = unpriced;
        if !data.billed.is_empty() {
            let mut billed = vec![0.0; periods.len()];
            for b in data.billed.iter().filter(billed_ok) {
                billed[period_pos[&spec.period.start(b.time)] as usize] += b.usd;
            }
            view.billed = Some(billed);
        }
        if !data.reported.is_empty() && time_only {
            let mut rep = vec![0.0; periods.len()];
            for &(t, usd) in data.reported.iter().filter(reported_ok) {
                rep[period_pos[&spec.period.start(t)] as usize] += usd;
                view.reported_requests += 1;
            }
            view.reported = Some(rep);
        }
        view.periods = periods;
        view.dims = dims;
        view.banding = cube.banding().clone();
        view.coarse = merge_groups(
            &groups,
            view.banding.thresholds(),
            view.banding.minima(),
            1.0,
            &|_| None,
        );
        view.groups = groups;
        view
    }

    /// Whether [`View::evaluate`] prices `levers` exactly: their prompt length and routing
    /// token factor (and its inverse) are among those the cube's requests were banded on. A
    /// [`crate::pipeline::Pipeline`] makes sure of it; a caller of `evaluate` outside one must.
    pub fn is_exact_at(&self, levers: &Levers) -> bool {
        self.banding
            .is_exact_at(levers.prompt_length, levers.token_factor_in_use())
    }

    /// Priced groups (of the fine grouping, exact at every prompt-length step and tokenizer
    /// factor).
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Priced groups when prompt lengths are as observed and nothing is routed across
    /// tokenizers.
    pub fn coarse_groups(&self) -> usize {
        if self.coarse.is_empty() {
            self.groups.len()
        } else {
            self.coarse.len()
        }
    }

    /// The groups to price under `levers`: the coarse ones at prompt length x1 without
    /// routing across tokenizers, else the fine ones merged for the levers' prompt length
    /// and routing factors (merging is cheaper than pricing).
    fn groups_for<'a>(
        &'a self,
        levers: &ResolvedLevers,
        merged: &'a mut Vec<ViewGroup>,
    ) -> &'a [ViewGroup] {
        if levers.at_unit_scale() {
            return if self.coarse.is_empty() {
                &self.groups
            } else {
                &self.coarse
            };
        }
        let l = &levers.levers;
        let routes = l.route_share > 0.0 && levers.route_to.is_some();
        let scale = |m: usize| {
            (routes && levers.route_from.get(m).copied().unwrap_or(false))
                .then(|| levers.route_scale.get(m).copied().unwrap_or(1.0))
        };
        *merged = merge_groups(
            &self.groups,
            self.banding.thresholds(),
            self.banding.minima(),
            l.prompt_length,
            &scale,
        );
        if merged.is_empty() {
            &self.groups
        } else {
            merged
        }
    }

    /// True when the view has usage and none of it is priced (every model unknown): its
    /// figures are not $0, they are unknown, and are shown as "unpriced".
    pub fn nothing_priced(&self) -> bool {
        let unpriced: u64 = self.unpriced.iter().map(|u| u.tokens).sum();
        unpriced > 0 && unpriced >= self.tokens.total()
    }

    /// Prices the view under `levers`. With neutral levers the scenario equals the actual
    /// cost exactly: both come from the same pricing call.
    pub fn evaluate(&self, table: &PriceTable, levers: &ResolvedLevers) -> Evaluation {
        debug_assert!(
            self.is_exact_at(&levers.levers),
            "a view priced at a prompt length or token factor its cube was not banded on \
             (Pipeline::set_levers rebuilds the cube for them)"
        );
        let nd = self.dims.len().max(1);
        let mut ev = Evaluation {
            actual_cells: vec![0.0; self.periods.len() * nd],
            scenario_cells: vec![0.0; self.periods.len() * nd],
            routed_by_dim: vec![0.0; nd],
            ..Default::default()
        };
        let mut stages = [0.0f64; STAGES];
        let (mut actual, mut scenario) = (0.0, 0.0);
        let mut merged = Vec::new();
        for g in self.groups_for(levers, &mut merged) {
            let o = scenario::evaluate(table, &g.usage, levers, &self.observed);
            let base = g.period as usize * nd;
            if self.spec.dimension == Dimension::Category {
                for (i, (a, s)) in cost_fields(&o.actual)
                    .iter()
                    .zip(cost_fields(&o.scenario))
                    .enumerate()
                {
                    ev.actual_cells[base + i] += a;
                    ev.scenario_cells[base + i] += s;
                }
            } else {
                ev.actual_cells[base + g.dim as usize] += o.actual.total();
                ev.scenario_cells[base + g.dim as usize] += o.scenario.total();
                ev.routed_by_dim[g.dim as usize] += o.routed;
            }
            actual += o.actual.total();
            scenario += o.scenario.total();
            ev.actual_by_category.add(&o.actual);
            ev.scenario_by_category.add(&o.scenario);
            ev.scenario_tokens = ev.scenario_tokens.add(&o.scenario_tokens);
            ev.cache_excluded_input += o.cache_excluded_input;
            ev.cache_unsized_input += o.cache_unsized_input;
            ev.scenario_input += o.scenario_tokens.total_input();
            for (s, v) in stages.iter_mut().zip(o.after_stage) {
                *s += v;
            }
        }
        ev.actual = actual;
        ev.scenario = scenario;
        let mut before = ev.actual;
        ev.waterfall = Stage::ALL
            .iter()
            .zip(stages)
            .map(|(&st, after)| {
                let saved = before - after;
                before = after;
                (st, saved)
            })
            .collect();
        ev
    }
}

impl View {
    /// Tokens per dimension value of the priced groups `keep` accepts (the category
    /// breakdown counts every group under its first column).
    pub fn dim_tokens_where(&self, keep: impl Fn(&Usage) -> bool) -> Vec<Tokens<f64>> {
        let mut v = vec![Tokens::<f64>::default(); self.dims.len().max(1)];
        for g in self.groups.iter().filter(|g| keep(&g.usage)) {
            let d = &mut v[g.dim as usize];
            *d = d.add(&g.usage.tokens);
        }
        v
    }

    /// The TTL replay of the view's requests that carry times of their own, at 5 minutes
    /// and at 1 hour, priced (writes at the TTL's price, everything else as observed), and
    /// the self-check on streams that wrote only 5-minute entries.
    pub fn replay_summary(&self, table: &PriceTable) -> ReplaySummary {
        let mut sum = ReplaySummary::default();
        let mut ttls: Vec<TtlReplay> = [Ttl::FiveMinutes, Ttl::OneHour]
            .into_iter()
            .map(|ttl| TtlReplay {
                ttl,
                hit_rate: 0.0,
                cache_write_tokens: 0.0,
                cache_read_tokens: 0.0,
                cost_usd: 0.0,
                actual_usd: 0.0,
            })
            .collect();
        let mut check = ReplayCheck::default();
        let mut any = false;
        let groups = if self.coarse.is_empty() {
            &self.groups
        } else {
            &self.coarse
        };
        for g in groups {
            let u = &g.usage;
            let Some(reads) = u.replay else {
                sum.not_replayed_input_tokens += u.tokens.total_input() as u64;
                continue;
            };
            any = true;
            sum.replayed_input_tokens += u.tokens.total_input() as u64;
            let actual = scenario::price_tokens(table, u, &u.tokens);
            let cached = u.tokens.cache_write_5m + u.tokens.cache_write_1h + u.tokens.cache_read;
            for (i, r) in ttls.iter_mut().enumerate() {
                let read = reads[i].min(cached);
                let write = cached - read;
                let mut t = u.tokens;
                t.cache_read = read;
                t.cache_write_5m = if i == 0 { write } else { 0.0 };
                t.cache_write_1h = if i == 1 { write } else { 0.0 };
                let cost = scenario::price_tokens(table, u, &t).total();
                r.cache_read_tokens += read;
                r.cache_write_tokens += write;
                r.cost_usd += cost;
                r.actual_usd += actual.total();
                if i == 0 && g.replay == Kind::FiveMinuteStream {
                    check.actual_usd += actual.total();
                    check.replay_5m_usd += cost;
                }
            }
        }
        if !any {
            return sum;
        }
        for r in &mut ttls {
            let c = r.cache_read_tokens + r.cache_write_tokens;
            r.hit_rate = if c > 0.0 {
                r.cache_read_tokens / c
            } else {
                0.0
            };
        }
        sum.ttls = ttls;
        sum.requests = self.replayed_requests[0] + self.replayed_requests[1];
        check.requests = self.replayed_requests[0];
        if check.requests > 0 {
            check.difference_pct = if check.actual_usd > 0.0 {
                100.0 * (check.replay_5m_usd - check.actual_usd) / check.actual_usd
            } else {
                0.0
            };
            sum.check = Some(check);
        }
        sum
    }
}

/// The order groups are summed in (a fixed order makes sums reproducible run to run).
fn sort_groups(groups: &mut [ViewGroup]) {
    groups.sort_unstable_by(|a, b| {
        (a.period, a.dim, a.usage.model)
            .cmp(&(b.period, b.dim, b.usage.model))
            .then(
                a.usage
                    .tokens
                    .total_input()
                    .total_cmp(&b.usage.tokens.total_input()),
            )
            .then(a.usage.tokens.output.total_cmp(&b.usage.tokens.output))
    });
}

/// Merges the groups of requests that are on the same side of every tier threshold and
/// minimum prefix at prompt length `g` (and at x1, for the actual cost), on their own model
/// and (for a model routing sends on, `scale(model)`) at the routing tokenizer factor; empty
/// when nothing merges. The
/// scenario decides those rules from a group's smallest request (`min_input * g * f > t`,
/// `>= m`), the same for every request of a merged group: pricing the merged groups is
/// pricing the groups.
fn merge_groups(
    groups: &[ViewGroup],
    thresholds: &[u64],
    minima: &[u64],
    g: f64,
    scale: &dyn Fn(usize) -> Option<f64>,
) -> Vec<ViewGroup> {
    #[derive(Hash, PartialEq, Eq)]
    struct Key {
        period: u32,
        dim: u32,
        model: usize,
        time: i64,
        tier: Tier,
        sides: u128,
        geo: Geo,
        speed: Speed,
        replay: Kind,
    }
    // 24 bits: each threshold (up to 8) and minimum (up to 16) at prompt length `g` and
    // factor `f`.
    let sides = |x: f64, g: f64, f: f64| {
        let over = thresholds
            .iter()
            .take(8)
            .enumerate()
            .fold(0u128, |b, (i, &t)| {
                b | u128::from(x * g * f > t as f64) << i
            });
        minima.iter().take(16).enumerate().fold(over, |b, (j, &m)| {
            b | u128::from(x * g * f >= m as f64) << (8 + j)
        })
    };
    // Aggregated rows only (exports): nothing to merge.
    if !groups
        .iter()
        .any(|g| matches!(g.usage.long, LongRule::Request { .. }))
    {
        return Vec::new();
    }
    let mut index: FxHashMap<Key, usize> = FxHashMap::default();
    let mut out: Vec<ViewGroup> = Vec::with_capacity(groups.len());
    let mut merged = false;
    for gr in groups {
        let LongRule::Request { min_input } = gr.usage.long else {
            out.push(gr.clone());
            continue;
        };
        // At the levers' prompt length on the own model and on the routing target, and as
        // observed (the actual cost).
        let routed = scale(gr.usage.model).map_or(0, |f| sides(min_input, g, f));
        let key = Key {
            period: gr.period,
            dim: gr.dim,
            model: gr.usage.model,
            time: gr.usage.time,
            tier: gr.usage.tier,
            sides: sides(min_input, g, 1.0) | routed << 24 | sides(min_input, 1.0, 1.0) << 48,
            geo: gr.usage.geo,
            speed: gr.usage.speed,
            replay: gr.replay,
        };
        match index.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                merged = true;
                let u = &mut out[*e.get()].usage;
                u.tokens = u.tokens.add(&gr.usage.tokens);
                u.web_search += gr.usage.web_search;
                if let LongRule::Request { min_input: m } = &mut u.long {
                    *m = m.min(min_input);
                }
                if let (Some(a), Some(b)) = (&mut u.replay, gr.usage.replay) {
                    a[0] += b[0];
                    a[1] += b[1];
                }
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(gr.clone());
            }
        }
    }
    if !merged {
        return Vec::new();
    }
    sort_groups(&mut out);
    out
}

/// The sentences of [`View::price_notes`], from the view's priced groups: one per model and
/// kind of note, with the tokens it concerns.
fn price_notes(table: &PriceTable, groups: &[ViewGroup]) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut notes: BTreeMap<(u8, usize), u64> = BTreeMap::new();
    for g in groups {
        let u = &g.usage;
        let entry = table.model(u.model);
        let period = entry.period_at(u.time);
        let tokens = u.tokens.total_input() as u64 + u.tokens.output as u64;
        let mut note = |kind: u8| *notes.entry((kind, u.model)).or_default() += tokens;
        if u.speed == Speed::Fast && entry.fast_multiplier_in(period).is_none() {
            note(0);
        }
        if matches!(
            u.tier,
            Tier::Priority | Tier::PriorityOnDemand | Tier::Flex | Tier::FlexDiscount
        ) {
            note(1);
        }
        let secondary = entry.confidence != crate::domain::prices::Confidence::Published
            || period.confidence != crate::domain::prices::Confidence::Published
            || (u.speed == Speed::Fast
                && period.fast_multiplier.is_some()
                && period.fast_confidence != crate::domain::prices::Confidence::Published)
            || period
                .rates_for(u.long.prompt(1.0))
                .1
                .is_some_and(|t| t.confidence != crate::domain::prices::Confidence::Published);
        if secondary {
            note(2);
        }
    }
    notes
        .into_iter()
        .map(|((kind, m), tokens)| {
            let name = table.model(m).display_name();
            let tokens = crate::domain::money::count(tokens);
            match kind {
                0 => format!(
                    "{tokens} tokens of {name} in fast mode fall on days when fast mode had no price of its own: priced at standard speed"
                ),
                1 => format!(
                    "{tokens} tokens of {name} in the priority or flex tier, which has no public price: priced at list"
                ),
                _ => format!(
                    "{tokens} tokens of {name} are priced with facts from a secondary source (third-party price tables, not Anthropic's list): see `costlens prices`"
                ),
            }
        })
        .collect()
}

fn single(c: Category, v: u64) -> Tokens<u64> {
    let mut a = [0u64; 5];
    a[c.index()] = v;
    Tokens::from_array(a)
}

fn cost_fields(c: &Cost) -> [f64; 6] {
    [
        c.uncached_input,
        c.cache_write_5m,
        c.cache_write_1h,
        c.cache_read,
        c.output,
        c.web_search,
    ]
}

fn dim_label(
    d: Dimension,
    k: &CubeKey,
    syms: &Symbols,
    model_lbl: &[String],
    sources: &[crate::domain::dataset::Source],
) -> String {
    let or_none = |s: &str| {
        if s.is_empty() {
            "(none)".to_owned()
        } else {
            s.to_owned()
        }
    };
    match d {
        Dimension::Model => model_lbl[k.model as usize].clone(),
        Dimension::Category => String::new(),
        Dimension::Workspace => or_none(syms.get(k.workspace)),
        Dimension::Key => or_none(syms.get(k.api_key)),
        Dimension::Tier => k.tier.key().to_owned(),
        Dimension::Project => or_none(syms.get(k.project)),
        Dimension::Source => sources
            .get(k.source as usize)
            .map_or_else(|| "(none)".to_owned(), |s| s.label.clone()),
        Dimension::Machine => machine_label(syms, k.machine).to_owned(),
    }
}
