//! The what-if engine (`shared/docs/what-if.md`): levers act on token counts, in a fixed
//! order (volume, caching, routing, batch), and the one pricing function prices the result.
//! The saving of each lever is the cost before it minus the cost after it (the waterfall).

use crate::domain::cost::{self, Cost, Terms};
use crate::domain::prices::{Family, PriceTable, Prompt, day_start};
use crate::domain::records::{Geo, Speed, Tier, Tokens};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Ttl {
    #[default]
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "1h")]
    OneHour,
}

impl Ttl {
    pub fn parse(s: &str) -> Option<Ttl> {
        match s.trim() {
            "5m" => Some(Ttl::FiveMinutes),
            "1h" => Some(Ttl::OneHour),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Ttl::FiveMinutes => "5m",
            Ttl::OneHour => "1h",
        }
    }

    pub fn seconds(self) -> f64 {
        match self {
            Ttl::FiveMinutes => 300.0,
            Ttl::OneHour => 3600.0,
        }
    }
}

/// The settings of every lever. `Levers::default()` is neutral: the scenario is the actual cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Levers {
    /// x0.1 - x10: every count (tokens, searches, requests) scales.
    pub traffic: f64,
    /// x0.1 - x10: every input category scales.
    pub prompt_length: f64,
    /// x0.1 - x10: output tokens scale.
    pub output_length: f64,
    /// Share of each row's total input that is a cacheable prefix; `None` = as observed.
    pub cache_share: Option<f64>,
    /// Share of cacheable input read from cache (the rest is written); `None` = as observed.
    pub cache_hit: Option<f64>,
    /// Share of the input not cached today (after the two levers above) that becomes a
    /// cached prefix, read at the cache hit rate (the lever's, else the observed one). It
    /// only adds caching, row by row: never less caching than a row has. 0 = none.
    pub cache_more: f64,
    /// Which write price the scenario's writes pay; `None` = as observed. On requests with
    /// times of their own the reads and writes at this TTL come from the replay
    /// ([`super::replay`]).
    pub cache_ttl: Option<Ttl>,
    /// Share of each source-model row priced as `route_to`.
    pub route_share: f64,
    /// Target model name; empty = Claude Haiku 4.5.
    pub route_to: String,
    /// Source model names; empty = every Sonnet and Opus model the target is cheaper than.
    pub route_from: Vec<String>,
    /// Tokens a model of the newer tokenizer (Claude 4.7 and later) makes of a text for each
    /// token of an older one; routed input and output tokens scale by it (old to new) or by
    /// its inverse (new to old). `None` = the price table's `tokenizer_ratio` of each model
    /// (1.30). In a report, the factor used.
    pub route_token_factor: Option<f64>,
    /// Share of non-batch rows moved to the batch tier.
    pub batch_share: f64,
    /// Share of fast-mode usage run at standard speed (standard price).
    pub fast_to_standard: f64,
    /// Share of US-only usage (`inference_geo = us`) moved to global inference (no 1.1x).
    pub us_to_global: f64,
}

impl Default for Levers {
    fn default() -> Self {
        Levers {
            traffic: 1.0,
            prompt_length: 1.0,
            output_length: 1.0,
            cache_share: None,
            cache_hit: None,
            cache_more: 0.0,
            cache_ttl: None,
            route_share: 0.0,
            route_to: String::new(),
            route_from: Vec::new(),
            route_token_factor: None,
            batch_share: 0.0,
            fast_to_standard: 0.0,
            us_to_global: 0.0,
        }
    }
}

/// The waterfall stages, in the order they are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Traffic,
    PromptLength,
    OutputLength,
    Caching,
    Routing,
    Batch,
    FastMode,
    Residency,
}

/// How many stages the waterfall has.
pub const STAGES: usize = 8;

impl Stage {
    pub const ALL: [Stage; STAGES] = [
        Stage::Traffic,
        Stage::PromptLength,
        Stage::OutputLength,
        Stage::Caching,
        Stage::Routing,
        Stage::Batch,
        Stage::FastMode,
        Stage::Residency,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Traffic => "traffic",
            Stage::PromptLength => "prompt_length",
            Stage::OutputLength => "output_length",
            Stage::Caching => "caching",
            Stage::Routing => "routing",
            Stage::Batch => "batch",
            Stage::FastMode => "fast_mode",
            Stage::Residency => "residency",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Traffic => "Traffic",
            Stage::PromptLength => "Prompt length",
            Stage::OutputLength => "Output length",
            Stage::Caching => "Caching",
            Stage::Routing => "Route to cheaper model",
            Stage::Batch => "Batch API",
            Stage::FastMode => "Fast mode to standard",
            Stage::Residency => "US-only to global",
        }
    }

    /// A short name (axis labels).
    pub fn short(self) -> &'static str {
        match self {
            Stage::Traffic => "Traffic",
            Stage::PromptLength => "Prompt",
            Stage::OutputLength => "Output",
            Stage::Caching => "Cache",
            Stage::Routing => "Route",
            Stage::Batch => "Batch",
            Stage::FastMode => "Fast",
            Stage::Residency => "Geo",
        }
    }
}

/// Ranges of the levers, as what-if.md gives them.
pub const SCALE_RANGE: (f64, f64) = (0.1, 10.0);
/// Range of the routing token factor (the documented ratio is 1.30, up to 1.35).
pub const TOKEN_FACTOR_RANGE: (f64, f64) = (0.5, 2.0);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LeverError {
    #[error("{0} must be between {1} and {2}, got {3}")]
    OutOfRange(&'static str, f64, f64, f64),
    #[error("unknown route target model {0:?}")]
    UnknownTarget(String),
    #[error("unknown route source model {0:?}")]
    UnknownSource(String),
}

impl Levers {
    /// The routing token factor in force: the one given, while some work is routed (a factor
    /// with nothing routed prices nothing).
    pub fn token_factor_in_use(&self) -> Option<f64> {
        self.route_token_factor.filter(|_| self.route_share > 0.0)
    }

    pub fn is_neutral(&self) -> bool {
        self.traffic == 1.0
            && self.prompt_length == 1.0
            && self.output_length == 1.0
            && !self.caching_set()
            && self.route_share == 0.0
            && self.batch_share == 0.0
            && self.fast_to_standard == 0.0
            && self.us_to_global == 0.0
    }

    pub fn caching_set(&self) -> bool {
        self.cache_share.is_some()
            || self.cache_hit.is_some()
            || self.cache_ttl.is_some()
            || self.cache_more > 0.0
    }

    pub fn validate(&self) -> Result<(), LeverError> {
        let scale = [
            ("traffic", self.traffic),
            ("prompt length", self.prompt_length),
            ("output length", self.output_length),
        ];
        for (name, v) in scale {
            if !(SCALE_RANGE.0..=SCALE_RANGE.1).contains(&v) {
                return Err(LeverError::OutOfRange(
                    name,
                    SCALE_RANGE.0,
                    SCALE_RANGE.1,
                    v,
                ));
            }
        }
        let shares = [
            ("cache share", self.cache_share.unwrap_or(0.0)),
            ("cache hit rate", self.cache_hit.unwrap_or(0.0)),
            ("extra cached share", self.cache_more),
            ("route share", self.route_share),
            ("batch share", self.batch_share),
            ("fast-to-standard share", self.fast_to_standard),
            ("US-to-global share", self.us_to_global),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(LeverError::OutOfRange(name, 0.0, 1.0, v));
            }
        }
        if let Some(f) = self.route_token_factor
            && !(TOKEN_FACTOR_RANGE.0..=TOKEN_FACTOR_RANGE.1).contains(&f)
        {
            return Err(LeverError::OutOfRange(
                "route token factor",
                TOKEN_FACTOR_RANGE.0,
                TOKEN_FACTOR_RANGE.1,
                f,
            ));
        }
        Ok(())
    }

    /// Resolves model names against the price table.
    pub fn resolve(&self, table: &PriceTable) -> Result<ResolvedLevers, LeverError> {
        self.validate()?;
        let route_to = if self.route_to.trim().is_empty() {
            table.default_route_target()
        } else {
            Some(
                table
                    .lookup(&self.route_to)
                    .ok_or_else(|| LeverError::UnknownTarget(self.route_to.clone()))?,
            )
        };
        let mut route_from = vec![false; table.models.len()];
        if self.route_from.is_empty() {
            // Every Sonnet and Opus model the target is cheaper than: routing by default
            // never moves work to a dearer model.
            let now = day_start(table.as_of);
            for (i, m) in table.models.iter().enumerate() {
                route_from[i] = matches!(m.family, Family::Sonnet | Family::Opus)
                    && route_to.is_none_or(|t| cheaper(table, t, i, now));
            }
        } else {
            for name in &self.route_from {
                let i = table
                    .lookup(name)
                    .ok_or_else(|| LeverError::UnknownSource(name.clone()))?;
                route_from[i] = true;
            }
        }
        if let Some(t) = route_to {
            route_from[t] = false;
        }
        let ratio = |i: usize| table.model(i).tokenizer_ratio;
        let new_gen = |i: usize| ratio(i) > 1.0;
        let route_scale = (0..table.models.len())
            .map(|s| match (route_to, self.route_token_factor) {
                (None, _) => 1.0,
                // The user's factor: old to new, its inverse back, 1 within a generation.
                (Some(t), Some(f)) => match (new_gen(s), new_gen(t)) {
                    (false, true) => f,
                    (true, false) => 1.0 / f,
                    _ => 1.0,
                },
                (Some(t), None) => ratio(t) / ratio(s),
            })
            .collect();
        // The old-to-new factor in force: the user's, else the table's ratio of the target
        // (a new-tokenizer target), else of the newest source, else the table's.
        let table_ratio = table
            .models
            .iter()
            .map(|m| m.tokenizer_ratio)
            .fold(1.0, f64::max);
        let token_factor = self.route_token_factor.unwrap_or_else(|| {
            route_to
                .filter(|&t| new_gen(t))
                .map(ratio)
                .or_else(|| {
                    (0..table.models.len())
                        .filter(|&s| route_from[s] && new_gen(s))
                        .map(ratio)
                        .reduce(f64::max)
                })
                .unwrap_or(table_ratio)
        });
        Ok(ResolvedLevers {
            levers: self.clone(),
            route_to,
            route_from,
            route_scale,
            token_factor,
        })
    }
}

/// Levers with model names resolved to price-table entries.
#[derive(Clone, Debug)]
pub struct ResolvedLevers {
    pub levers: Levers,
    pub route_to: Option<usize>,
    pub route_from: Vec<bool>,
    /// Per model: how many tokens of the target its routed tokens become (the tokenizer
    /// factor between the two; 1 within a tokenizer generation).
    pub route_scale: Vec<f64>,
    /// The old-to-new tokenizer factor in force (the user's, else the price table's).
    pub token_factor: f64,
}

impl ResolvedLevers {
    /// True when requests are priced at their observed size on every model: prompt length
    /// x1, nothing routed across tokenizers.
    pub fn at_unit_scale(&self) -> bool {
        let l = &self.levers;
        l.prompt_length == 1.0
            && (l.route_share == 0.0
                || self.route_to.is_none()
                || self
                    .route_from
                    .iter()
                    .zip(&self.route_scale)
                    .all(|(&from, &scale)| !from || scale == 1.0))
    }

    /// The levers as a report shows them: with the routing token factor used.
    pub fn shown(&self) -> Levers {
        Levers {
            route_token_factor: Some(self.token_factor),
            ..self.levers.clone()
        }
    }
}

/// A model's rates per text at `time`: standard rates of the period in force, times its
/// tokenizer ratio (a model of the newer tokenizer bills about 30% more tokens for a text).
pub fn rates_per_text(table: &PriceTable, model: usize, time: i64) -> [f64; 5] {
    let m = table.model(model);
    let rates = m.effective(&m.period_at(time).standard).as_array();
    rates.map(|r| r * m.tokenizer_ratio)
}

/// True when `a` is cheaper than `b` for the same text at `time`: no dearer in any token
/// category, cheaper in one.
pub fn cheaper(table: &PriceTable, a: usize, b: usize, time: i64) -> bool {
    let (ra, rb) = (
        rates_per_text(table, a, time),
        rates_per_text(table, b, time),
    );
    ra.iter().zip(&rb).all(|(x, y)| x <= y) && ra.iter().zip(&rb).any(|(x, y)| x < y)
}

/// A model routing can send work to, with its prices (USD per million tokens).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteTarget {
    pub id: String,
    pub name: String,
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    /// Tokens it makes of a text relative to the older tokenizer (1.30 for Claude 4.7+).
    pub tokenizer_ratio: f64,
    /// True when it is cheaper than every source model for the same text.
    pub cheaper_than_all_sources: bool,
}

/// Models routing can target, cheapest first (by input + output price per text): by default
/// only those cheaper than at least one source model (`from`, model names; empty = every
/// Sonnet and Opus model) for the same text, and with prompt caching (models without it are
/// retired); `all` lists every model.
pub fn route_targets(table: &PriceTable, from: &[String], all: bool) -> Vec<RouteTarget> {
    let now = day_start(table.as_of);
    let sources: Vec<usize> = if from.is_empty() {
        (0..table.models.len())
            .filter(|&i| matches!(table.model(i).family, Family::Sonnet | Family::Opus))
            .collect()
    } else {
        from.iter().filter_map(|n| table.lookup(n)).collect()
    };
    let mut out: Vec<(f64, RouteTarget)> = (0..table.models.len())
        .filter_map(|t| {
            let m = table.model(t);
            let below: Vec<bool> = sources
                .iter()
                .filter(|&&s| s != t)
                .map(|&s| cheaper(table, t, s, now))
                .collect();
            if !all && (!m.caching || !below.iter().any(|&b| b)) {
                return None;
            }
            let r = m.effective(&m.period_at(now).standard);
            let per_text = rates_per_text(table, t, now);
            Some((
                per_text[0] + per_text[4],
                RouteTarget {
                    id: m.id.clone(),
                    name: m.display_name().to_owned(),
                    input: r.input,
                    output: r.output,
                    cache_read: r.cache_read,
                    tokenizer_ratio: m.tokenizer_ratio,
                    cheaper_than_all_sources: !below.is_empty() && below.iter().all(|&b| b),
                },
            ))
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    out.into_iter().map(|(_, t)| t).collect()
}

/// Observed cache behaviour over the current selection: the starting point of the caching
/// sliders, and the values used for a caching lever the user has not set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    /// Cache writes + reads over total input.
    pub cache_share: f64,
    /// Cache reads over cache writes + reads.
    pub cache_hit: f64,
    /// 1-hour writes over all writes.
    pub ttl_1h_share: f64,
    /// Tokens in the batch tier over all tokens.
    pub batch_share: f64,
    /// Hit rate of the TTL replay at 5 minutes and at 1 hour over the requests with times of
    /// their own (`None` when there are none): the hit rate a caching lever uses at that TTL
    /// when the hit rate is left as observed.
    pub replay_hit_5m: Option<f64>,
    pub replay_hit_1h: Option<f64>,
}

impl Observed {
    pub fn from_tokens(t: &Tokens<f64>, batch_tokens: f64) -> Observed {
        let input = t.total_input();
        let writes = t.cache_write_5m + t.cache_write_1h;
        let cached = writes + t.cache_read;
        let all = input + t.output;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        Observed {
            cache_share: ratio(cached, input),
            cache_hit: ratio(t.cache_read, cached),
            ttl_1h_share: ratio(t.cache_write_1h, writes),
            batch_share: ratio(batch_tokens, all),
            replay_hit_5m: None,
            replay_hit_1h: None,
        }
    }

    /// The replay's hit rate at `ttl`, if any request was replayed.
    pub fn replay_hit(&self, ttl: Ttl) -> Option<f64> {
        match ttl {
            Ttl::FiveMinutes => self.replay_hit_5m,
            Ttl::OneHour => self.replay_hit_1h,
        }
    }
}

/// How the long-context rule applies to a priced group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LongRule {
    /// Aggregated rows carrying the flag.
    Flag(bool),
    /// Requests: the tier is that of a request of `min_input x prompt_length` prompt tokens.
    /// Groups only hold requests that agree on every tier threshold at every prompt-length
    /// value the cube was built for.
    Request { min_input: f64 },
}

impl LongRule {
    /// What picks the request tier at a prompt-length multiple.
    pub fn prompt(&self, prompt_length: f64) -> Prompt {
        self.prompt_at(prompt_length, 1.0)
    }

    /// What picks the request tier at a prompt-length multiple, on a model whose tokenizer
    /// makes `factor` times as many tokens (routing). Computed as the cube's banding computes
    /// it (`x * g * f`), so that a group's requests agree.
    pub fn prompt_at(&self, prompt_length: f64, factor: f64) -> Prompt {
        match *self {
            LongRule::Flag(b) => Prompt::Long(b),
            LongRule::Request { min_input } => Prompt::Tokens(min_input * prompt_length * factor),
        }
    }
}

/// Whether the requests of a usage can be cached on `model` at a prompt-length multiple and
/// token factor: `Some(false)` for a model without prompt caching or requests under its
/// minimum cacheable prefix, `None` for aggregated rows (no request sizes: unknown).
pub fn reaches_minimum(
    table: &PriceTable,
    long: &LongRule,
    model: usize,
    prompt_length: f64,
    factor: f64,
) -> Option<bool> {
    let m = table.model(model);
    if !m.caching {
        return Some(false);
    }
    match *long {
        LongRule::Flag(_) => None,
        LongRule::Request { min_input } => Some(
            m.min_cacheable_tokens
                .is_none_or(|min| min_input * prompt_length * factor >= min as f64),
        ),
    }
}

/// A priceable amount of usage: one model, one set of terms.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub model: usize,
    /// A time inside the price epoch of the usage.
    pub time: i64,
    pub tier: Tier,
    pub long: LongRule,
    pub geo: Geo,
    pub speed: Speed,
    pub tokens: Tokens<f64>,
    pub web_search: f64,
    /// Cache reads of the TTL replay at 5 minutes and 1 hour, for requests with times of
    /// their own; `None` for usage that cannot be replayed.
    pub replay: Option<[f64; 2]>,
}

/// Cost of one usage group: actual, after every stage, and the final scenario by category.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    pub actual: Cost,
    /// Total cost after each stage of [`Stage::ALL`].
    pub after_stage: [f64; STAGES],
    pub scenario: Cost,
    /// The scenario's tokens (routed tokens in the target's tokens).
    pub scenario_tokens: Tokens<f64>,
    /// Input tokens (scenario counts) the caching could not touch because their requests are
    /// under the minimum cacheable prefix of the model they are priced on (or it has no
    /// caching).
    pub cache_excluded_input: f64,
    /// Input tokens of aggregated rows the caching levers acted on without request sizes
    /// (the minimum prefix could not be checked).
    pub cache_unsized_input: f64,
    /// The part of `scenario` priced on the routing target (routed work).
    pub routed: f64,
}

/// One share of a group after routing, batch, fast mode and residency split it.
#[derive(Clone, Copy, Debug)]
struct Piece {
    model: usize,
    share: f64,
    /// Routed (the target's tokens and factor) or not.
    routed: bool,
    tier: Tier,
    speed: Speed,
    geo: Geo,
}

/// Up to 2 (routing) x 2 (batch) x 2 (fast mode) x 2 (residency) pieces.
struct Pieces {
    items: [Piece; 16],
    len: usize,
}

impl Pieces {
    fn one(p: Piece) -> Pieces {
        Pieces {
            items: [p; 16],
            len: 1,
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Piece> {
        self.items[..self.len].iter()
    }

    /// Splits every piece `eligible` accepts: `share` of it becomes `moved(piece)`.
    fn split(
        &mut self,
        share: f64,
        eligible: impl Fn(&Piece) -> bool,
        moved: impl Fn(Piece) -> Piece,
    ) -> bool {
        if share <= 0.0 {
            return false;
        }
        let mut any = false;
        for i in 0..self.len {
            let p = self.items[i];
            if p.share == 0.0 || !eligible(&p) || self.len == self.items.len() {
                continue;
            }
            let mut m = moved(p);
            m.share = p.share * share;
            self.items[i].share = p.share * (1.0 - share);
            self.items[self.len] = m;
            self.len += 1;
            any = true;
        }
        any
    }
}

/// The tokens of a group before and after routing, with the prompt-length multiple.
struct Priced<'a> {
    table: &'a PriceTable,
    u: &'a Usage,
    prompt_length: f64,
    web_search: f64,
    own: Tokens<f64>,
    routed: Tokens<f64>,
    factor: f64,
}

impl Priced<'_> {
    fn cost(&self, p: &Piece) -> Cost {
        let (tokens, factor) = if p.routed {
            (&self.routed, self.factor)
        } else {
            (&self.own, 1.0)
        };
        let terms = Terms {
            tier: p.tier,
            prompt: self.u.long.prompt_at(self.prompt_length, factor),
            geo: p.geo,
            speed: p.speed,
        };
        let mut c = cost::price(
            self.table,
            p.model,
            self.u.time,
            tokens,
            self.web_search,
            &terms,
        );
        scale_cost(&mut c, p.share);
        c
    }

    fn total(&self, pieces: &Pieces) -> Cost {
        let mut c = Cost::default();
        for p in pieces.iter().filter(|p| p.share != 0.0) {
            c.add(&self.cost(p));
        }
        c
    }
}

fn price_usage(
    table: &PriceTable,
    u: &Usage,
    tokens: &Tokens<f64>,
    web_search: f64,
    prompt_length: f64,
) -> Cost {
    let terms = Terms {
        tier: u.tier,
        prompt: u.long.prompt(prompt_length),
        geo: u.geo,
        speed: u.speed,
    };
    cost::price(table, u.model, u.time, tokens, web_search, &terms)
}

/// Prices `tokens` on the usage's own model and terms (web searches as observed).
pub fn price_tokens(table: &PriceTable, u: &Usage, tokens: &Tokens<f64>) -> Cost {
    price_usage(table, u, tokens, u.web_search, 1.0)
}

/// Cached tokens priced as uncached input: what a model bills for requests it cannot cache.
fn uncached(t: &Tokens<f64>) -> Tokens<f64> {
    Tokens {
        uncached_input: t.total_input(),
        cache_write_5m: 0.0,
        cache_write_1h: 0.0,
        cache_read: 0.0,
        output: t.output,
    }
}

/// The caching levers (what-if.md) applied to tokens `t`. `replay`: the TTL replay's reads
/// at 5m and 1h in the same counts, for requests with times of their own.
///
/// Every rule here is linear in the token counts, so applying it to an aggregate gives the
/// same tokens as applying it request by request and summing.
fn apply_caching(
    t: &Tokens<f64>,
    replay: Option<[f64; 2]>,
    l: &Levers,
    obs: &Observed,
) -> Tokens<f64> {
    let input = t.total_input();
    let cached_now = t.cache_write_5m + t.cache_write_1h + t.cache_read;
    let cacheable = l.cache_share.map_or(cached_now, |c| c * input);
    let ttl_index = |ttl: Ttl| match ttl {
        Ttl::FiveMinutes => 0,
        Ttl::OneHour => 1,
    };
    let (read, write) = match (l.cache_hit, l.cache_share, l.cache_ttl, replay) {
        (Some(h), _, _, _) => (h * cacheable, (1.0 - h) * cacheable),
        // Only the TTL changed, on requests with times: the replay's reads and writes.
        (None, None, Some(ttl), Some(r)) => {
            let read = r[ttl_index(ttl)].min(cached_now);
            (read, (cached_now - read).max(0.0))
        }
        // Only the TTL changed: reads and writes stay as they were.
        (None, None, _, _) => (t.cache_read, t.cache_write_5m + t.cache_write_1h),
        // The cacheable share changed at a replayed TTL: the replay's hit rate.
        (None, Some(_), Some(ttl), Some(_)) => {
            let h = obs.replay_hit(ttl).unwrap_or(obs.cache_hit);
            (h * cacheable, (1.0 - h) * cacheable)
        }
        (None, Some(_), _, _) => (obs.cache_hit * cacheable, (1.0 - obs.cache_hit) * cacheable),
    };
    let share_1h = match l.cache_ttl {
        Some(Ttl::FiveMinutes) => 0.0,
        Some(Ttl::OneHour) => 1.0,
        None => obs.ttl_1h_share,
    };
    // Extra caching: a share of what is still uncached becomes a cached prefix (linear too).
    let more = l.cache_more * (input - cacheable);
    let h = l.cache_hit.unwrap_or(obs.cache_hit);
    let (read, write, cacheable) = (read + h * more, write + (1.0 - h) * more, cacheable + more);
    Tokens {
        uncached_input: input - cacheable,
        cache_write_5m: write * (1.0 - share_1h),
        cache_write_1h: write * share_1h,
        cache_read: read,
        output: t.output,
    }
}

/// Applies the levers to one group and prices every stage.
///
/// Order: volume (traffic, prompt length, output length), caching, routing, batch, fast
/// mode, residency. Request-level rules: the caching levers leave alone requests under the
/// minimum cacheable prefix of their model; a routed share of requests under the target's
/// minimum is billed uncached there; routed tokens scale by the tokenizer factor between
/// the two models. A share moved to the Batch API runs at standard speed (the Batch API has
/// no fast mode).
pub fn evaluate(table: &PriceTable, u: &Usage, lv: &ResolvedLevers, obs: &Observed) -> Outcome {
    let l = &lv.levers;
    let actual = price_usage(table, u, &u.tokens, u.web_search, 1.0);
    let mut out = Outcome {
        actual,
        after_stage: [actual.total(); STAGES],
        scenario: actual,
        scenario_tokens: u.tokens,
        ..Outcome::default()
    };
    if l.is_neutral() {
        return out;
    }
    let mut t = u.tokens;
    let mut web = u.web_search;
    let mut last = actual;
    let g = l.prompt_length;

    // Volume.
    if l.traffic != 1.0 {
        t = t.scale(l.traffic);
        web *= l.traffic;
        last = price_usage(table, u, &t, web, 1.0);
    }
    out.after_stage[0] = last.total();
    if l.prompt_length != 1.0 {
        t.uncached_input *= g;
        t.cache_write_5m *= g;
        t.cache_write_1h *= g;
        t.cache_read *= g;
        last = price_usage(table, u, &t, web, g);
    }
    out.after_stage[1] = last.total();
    if l.output_length != 1.0 {
        t.output *= l.output_length;
        last = price_usage(table, u, &t, web, g);
    }
    out.after_stage[2] = last.total();
    let volume = t;
    // Replayed reads scale with the input they are part of.
    let replay = u.replay.map(|r| r.map(|x| x * l.traffic * g));

    // Caching.
    let caching = l.caching_set();
    let sized_levers = l.cache_share.is_some() || l.cache_hit.is_some() || l.cache_more > 0.0;
    let own_ok = reaches_minimum(table, &u.long, u.model, g, 1.0);
    let mut own_excluded = 0.0;
    let own = if !caching {
        volume
    } else if own_ok == Some(false) {
        if sized_levers {
            own_excluded = volume.total_input();
        }
        volume
    } else {
        if own_ok.is_none() && sized_levers {
            out.cache_unsized_input = volume.total_input();
        }
        apply_caching(&volume, replay, l, obs)
    };
    if caching {
        last = price_usage(table, u, &own, web, g);
    }
    out.after_stage[3] = last.total();

    // Routing, then batch, fast mode and residency: up to sixteen pieces.
    let mut pieces = Pieces::one(Piece {
        model: u.model,
        share: 1.0,
        routed: false,
        tier: u.tier,
        speed: u.speed,
        geo: u.geo,
    });
    let mut priced = Priced {
        table,
        u,
        prompt_length: g,
        web_search: web,
        own,
        routed: own,
        factor: 1.0,
    };
    out.cache_excluded_input = own_excluded;
    if l.route_share > 0.0
        && let Some(target) = lv.route_to
        && lv.route_from.get(u.model).copied().unwrap_or(false)
    {
        let f = lv.route_scale.get(u.model).copied().unwrap_or(1.0);
        let scaled = volume.scale(f);
        let mut routed_excluded = 0.0;
        let routed = match reaches_minimum(table, &u.long, target, g, f) {
            // The target cannot cache these requests: everything is input there.
            Some(false) => {
                let cached = scaled.cache_write_5m + scaled.cache_write_1h + scaled.cache_read;
                if sized_levers || cached > 0.0 {
                    routed_excluded = scaled.total_input();
                }
                uncached(&scaled)
            }
            _ if caching => apply_caching(&scaled, replay.map(|r| r.map(|x| x * f)), l, obs),
            _ => scaled,
        };
        out.cache_excluded_input =
            own_excluded * (1.0 - l.route_share) + routed_excluded * l.route_share;
        priced.routed = routed;
        priced.factor = f;
        pieces.split(
            l.route_share,
            |_| true,
            |p| Piece {
                model: target,
                routed: true,
                ..p
            },
        );
        last = priced.total(&pieces);
    }
    out.after_stage[4] = last.total();

    if pieces.split(
        l.batch_share,
        |p| p.tier != Tier::Batch,
        |p| Piece {
            tier: Tier::Batch,
            // The Batch API has no fast mode.
            speed: Speed::Standard,
            ..p
        },
    ) {
        last = priced.total(&pieces);
    }
    out.after_stage[5] = last.total();
    if pieces.split(
        l.fast_to_standard,
        |p| p.speed == Speed::Fast,
        |p| Piece {
            speed: Speed::Standard,
            ..p
        },
    ) {
        last = priced.total(&pieces);
    }
    out.after_stage[6] = last.total();
    if pieces.split(
        l.us_to_global,
        |p| p.geo == Geo::Us,
        |p| Piece {
            geo: Geo::Global,
            ..p
        },
    ) {
        last = priced.total(&pieces);
    }
    out.after_stage[7] = last.total();
    out.scenario = last;
    out.routed = pieces
        .iter()
        .filter(|p| p.routed && p.share != 0.0)
        .map(|p| priced.cost(p).total())
        .sum();
    let mut tokens = Tokens::<f64>::default();
    for p in pieces.iter() {
        let t = if p.routed {
            &priced.routed
        } else {
            &priced.own
        };
        tokens = tokens.add(&t.scale(p.share));
    }
    out.scenario_tokens = tokens;
    out
}

fn scale_cost(c: &mut Cost, k: f64) {
    c.uncached_input *= k;
    c.cache_write_5m *= k;
    c.cache_write_1h *= k;
    c.cache_read *= k;
    c.output *= k;
    c.web_search *= k;
}
