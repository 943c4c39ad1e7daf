//! The what-if engine (`shared/docs/what-if.md`): levers act on token counts, in a fixed
//! order (volume, caching, routing, batch), and the one pricing function prices the result.
//! The saving of each lever is the cost before it minus the cost after it (the waterfall).

use crate::domain::cost::{self, Cost, Terms};
use crate::domain::prices::{Family, PriceTable, Prompt};
use crate::domain::records::{Tier, Tokens};
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
    /// Which write price the scenario's writes pay; `None` = as observed.
    pub cache_ttl: Option<Ttl>,
    /// Share of each source-model row priced as `route_to`.
    pub route_share: f64,
    /// Target model name; empty = Claude Haiku 4.5.
    pub route_to: String,
    /// Source model names; empty = every Sonnet and Opus model.
    pub route_from: Vec<String>,
    /// Share of non-batch rows moved to the batch tier.
    pub batch_share: f64,
}

impl Default for Levers {
    fn default() -> Self {
        Levers {
            traffic: 1.0,
            prompt_length: 1.0,
            output_length: 1.0,
            cache_share: None,
            cache_hit: None,
            cache_ttl: None,
            route_share: 0.0,
            route_to: String::new(),
            route_from: Vec::new(),
            batch_share: 0.0,
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
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Traffic,
        Stage::PromptLength,
        Stage::OutputLength,
        Stage::Caching,
        Stage::Routing,
        Stage::Batch,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Traffic => "traffic",
            Stage::PromptLength => "prompt_length",
            Stage::OutputLength => "output_length",
            Stage::Caching => "caching",
            Stage::Routing => "routing",
            Stage::Batch => "batch",
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
        }
    }
}

/// Ranges of the levers, as what-if.md gives them.
pub const SCALE_RANGE: (f64, f64) = (0.1, 10.0);

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
    pub fn is_neutral(&self) -> bool {
        self.traffic == 1.0
            && self.prompt_length == 1.0
            && self.output_length == 1.0
            && !self.caching_set()
            && self.route_share == 0.0
            && self.batch_share == 0.0
    }

    pub fn caching_set(&self) -> bool {
        self.cache_share.is_some() || self.cache_hit.is_some() || self.cache_ttl.is_some()
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
            ("route share", self.route_share),
            ("batch share", self.batch_share),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(LeverError::OutOfRange(name, 0.0, 1.0, v));
            }
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
            for (i, m) in table.models.iter().enumerate() {
                route_from[i] = matches!(m.family, Family::Sonnet | Family::Opus);
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
        Ok(ResolvedLevers {
            levers: self.clone(),
            route_to,
            route_from,
        })
    }
}

/// Levers with model names resolved to price-table entries.
#[derive(Clone, Debug)]
pub struct ResolvedLevers {
    pub levers: Levers,
    pub route_to: Option<usize>,
    pub route_from: Vec<bool>,
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
        match *self {
            LongRule::Flag(b) => Prompt::Long(b),
            LongRule::Request { min_input } => Prompt::Tokens(min_input * prompt_length),
        }
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
    pub geo: crate::domain::records::Geo,
    pub speed: crate::domain::records::Speed,
    pub tokens: Tokens<f64>,
    pub web_search: f64,
}

/// Cost of one usage group: actual, after every stage, and the final scenario by category.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    pub actual: Cost,
    /// Total cost after each stage of [`Stage::ALL`].
    pub after_stage: [f64; 6],
    pub scenario: Cost,
    pub scenario_tokens: Tokens<f64>,
}

fn price_usage(
    table: &PriceTable,
    u: &Usage,
    model: usize,
    tier: Tier,
    prompt_length: f64,
) -> Cost {
    let terms = Terms {
        tier,
        prompt: u.long.prompt(prompt_length),
        geo: u.geo,
        speed: u.speed,
    };
    cost::price(table, model, u.time, &u.tokens, u.web_search, &terms)
}

/// Applies the levers to one group and prices every stage.
pub fn evaluate(table: &PriceTable, u: &Usage, lv: &ResolvedLevers, obs: &Observed) -> Outcome {
    let l = &lv.levers;
    let actual = price_usage(table, u, u.model, u.tier, 1.0);
    let mut out = Outcome {
        actual,
        after_stage: [actual.total(); 6],
        scenario: actual,
        scenario_tokens: u.tokens,
    };
    if l.is_neutral() {
        return out;
    }
    let mut cur = *u;
    let mut last = actual;

    // Volume.
    if l.traffic != 1.0 {
        cur.tokens = cur.tokens.scale(l.traffic);
        cur.web_search *= l.traffic;
        last = price_usage(table, &cur, cur.model, cur.tier, 1.0);
    }
    out.after_stage[0] = last.total();
    if l.prompt_length != 1.0 {
        let t = &mut cur.tokens;
        t.uncached_input *= l.prompt_length;
        t.cache_write_5m *= l.prompt_length;
        t.cache_write_1h *= l.prompt_length;
        t.cache_read *= l.prompt_length;
        last = price_usage(table, &cur, cur.model, cur.tier, l.prompt_length);
    }
    out.after_stage[1] = last.total();
    if l.output_length != 1.0 {
        cur.tokens.output *= l.output_length;
        last = price_usage(table, &cur, cur.model, cur.tier, l.prompt_length);
    }
    out.after_stage[2] = last.total();

    // Caching. Every rule here is linear in the group's token counts, so applying it to an
    // aggregate gives the same tokens as applying it row by row and summing.
    if l.caching_set() {
        let t = cur.tokens;
        let input = t.total_input();
        let cached_now = t.cache_write_5m + t.cache_write_1h + t.cache_read;
        let cacheable = l.cache_share.map_or(cached_now, |c| c * input);
        let (read, write) = match (l.cache_hit, l.cache_share) {
            (Some(h), _) => (h * cacheable, (1.0 - h) * cacheable),
            // Only the TTL changed: reads and writes stay as they were.
            (None, None) => (t.cache_read, t.cache_write_5m + t.cache_write_1h),
            (None, Some(_)) => (obs.cache_hit * cacheable, (1.0 - obs.cache_hit) * cacheable),
        };
        let share_1h = match l.cache_ttl {
            Some(Ttl::FiveMinutes) => 0.0,
            Some(Ttl::OneHour) => 1.0,
            None => obs.ttl_1h_share,
        };
        cur.tokens.uncached_input = input - cacheable;
        cur.tokens.cache_read = read;
        cur.tokens.cache_write_1h = write * share_1h;
        cur.tokens.cache_write_5m = write * (1.0 - share_1h);
        last = price_usage(table, &cur, cur.model, cur.tier, l.prompt_length);
    }
    out.after_stage[3] = last.total();

    // Routing, then batch: up to four pieces (stays/routed x standard/batch).
    let mut pieces: [(usize, f64); 2] = [(cur.model, 1.0), (cur.model, 0.0)];
    if l.route_share > 0.0
        && let Some(target) = lv.route_to
        && lv.route_from.get(cur.model).copied().unwrap_or(false)
    {
        pieces = [(cur.model, 1.0 - l.route_share), (target, l.route_share)];
        last = Cost::default();
        for &(m, share) in &pieces {
            let mut c = price_usage(table, &cur, m, cur.tier, l.prompt_length);
            scale_cost(&mut c, share);
            last.add(&c);
        }
    }
    out.after_stage[4] = last.total();

    if l.batch_share > 0.0 && cur.tier != Tier::Batch {
        last = Cost::default();
        for &(m, share) in &pieces {
            if share == 0.0 {
                continue;
            }
            let mut stay = price_usage(table, &cur, m, cur.tier, l.prompt_length);
            scale_cost(&mut stay, share * (1.0 - l.batch_share));
            let mut moved = price_usage(table, &cur, m, Tier::Batch, l.prompt_length);
            scale_cost(&mut moved, share * l.batch_share);
            last.add(&stay);
            last.add(&moved);
        }
    }
    out.after_stage[5] = last.total();
    out.scenario = last;
    out.scenario_tokens = cur.tokens;
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
