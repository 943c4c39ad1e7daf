//! The workload calculator (`what-if.md`): what a synthetic workload costs with and without
//! prompt caching, no import needed.

use crate::domain::cost::{self, Cost, Terms};
use crate::domain::prices::PriceTable;
use crate::domain::prices::Prompt;
use crate::domain::records::{Geo, Speed, Tier, Tokens};
use crate::engine::scenario::Ttl;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workload {
    pub model: String,
    pub requests_per_day: f64,
    /// Hours a day over which requests are spread evenly.
    pub active_hours: f64,
    pub days: u32,
    /// Tokens of the shared prefix (system prompt, tools, documents) that can be cached.
    pub cached_prefix: f64,
    /// Other input tokens per request (never cached).
    pub input: f64,
    pub output: f64,
    pub ttl: Ttl,
    /// Share of requests sent through the Batch API (50%).
    pub batch_share: f64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            model: "claude-sonnet-4-5".into(),
            requests_per_day: 100.0,
            active_hours: 24.0,
            days: 1,
            cached_prefix: 1000.0,
            input: 0.0,
            output: 0.0,
            ttl: Ttl::FiveMinutes,
            batch_share: 0.0,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub model: String,
    pub without_cache_usd: f64,
    pub with_cache_usd: f64,
    pub savings_usd: f64,
    pub savings_pct: f64,
    /// What the API would bill: `with_cache_usd` when the prefix can be cached, else the
    /// uncached cost (a prefix under the model's minimum cacheable length is not cached, and
    /// both cache counters read 0).
    pub billed_with_cache_usd: f64,
    /// The model's minimum cacheable prefix (tokens), where the price table knows it.
    pub min_cacheable_tokens: Option<u64>,
    /// What the user should know about these figures, one sentence each.
    pub warnings: Vec<String>,
    pub requests: f64,
    /// Cache writes and reads over the whole workload.
    pub cache_writes: f64,
    pub cache_reads: f64,
    /// Seconds between requests within the active hours.
    pub gap_seconds: f64,
    /// Whether the prefix stays cached between requests (gap shorter than the TTL).
    pub stays_cached: bool,
    pub without_cache: Cost,
    pub with_cache: Cost,
    /// Cost per day: (day number from 1, without caching, with caching).
    pub per_day: Vec<(u32, f64, f64)>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EstimateError {
    #[error("unknown model {0:?} (see `costlens prices`)")]
    UnknownModel(String),
    #[error("{0} must be {1}")]
    Invalid(&'static str, &'static str),
}

/// The calculator's bounds (see [`estimate`]).
pub const MAX_DAYS: u32 = 3660;
pub const MAX_REQUESTS_PER_DAY: f64 = 1e9;
pub const MAX_TOKENS_PER_REQUEST: f64 = 1e7;

pub fn estimate(table: &PriceTable, w: &Workload) -> Result<Estimate, EstimateError> {
    let model = table
        .lookup(&w.model)
        .ok_or_else(|| EstimateError::UnknownModel(w.model.clone()))?;
    // Bounds that keep every figure finite and every allocation small: ten years of days, a
    // billion requests a day, ten million tokens a request (the largest context is 1M).
    let count = |v: f64, max: f64| v.is_finite() && (0.0..=max).contains(&v);
    let checks = [
        (
            "requests per day",
            count(w.requests_per_day, MAX_REQUESTS_PER_DAY),
            "between 0 and 1,000,000,000",
        ),
        (
            "active hours",
            w.active_hours > 0.0 && w.active_hours <= 24.0,
            "above 0 and at most 24",
        ),
        (
            "days",
            (1..=MAX_DAYS).contains(&w.days),
            "between 1 and 3,660 (ten years)",
        ),
        (
            "cached prefix",
            count(w.cached_prefix, MAX_TOKENS_PER_REQUEST),
            "between 0 and 10,000,000 tokens",
        ),
        (
            "input",
            count(w.input, MAX_TOKENS_PER_REQUEST),
            "between 0 and 10,000,000 tokens",
        ),
        (
            "output",
            count(w.output, MAX_TOKENS_PER_REQUEST),
            "between 0 and 10,000,000 tokens",
        ),
        (
            "batch share",
            (0.0..=1.0).contains(&w.batch_share),
            "between 0 and 1",
        ),
    ];
    if let Some((name, _, want)) = checks.iter().find(|c| !c.1) {
        return Err(EstimateError::Invalid(name, want));
    }
    let entry = table.model(model);
    let time = entry
        .prices
        .last()
        .map(|p| {
            p.effective_from
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp()
        })
        .unwrap_or(0);
    let n = w.requests_per_day;
    let gap = if n > 0.0 {
        w.active_hours * 3600.0 / n
    } else {
        f64::INFINITY
    };
    // While requests come closer together than the TTL, each read refreshes the cache: one
    // write per active day, every later request reads. Otherwise every request writes.
    let stays_cached = gap < w.ttl.seconds();
    let (writes, reads) = if n == 0.0 {
        (0.0, 0.0)
    } else if stays_cached {
        (1.0, n - 1.0)
    } else {
        (n, 0.0)
    };
    let prompt = Prompt::Tokens(w.cached_prefix + w.input);
    let without_t = Tokens {
        uncached_input: n * (w.cached_prefix + w.input),
        output: n * w.output,
        ..Default::default()
    };
    let mut with_t = Tokens {
        uncached_input: n * w.input,
        cache_read: reads * w.cached_prefix,
        output: n * w.output,
        ..Default::default()
    };
    match w.ttl {
        Ttl::FiveMinutes => with_t.cache_write_5m = writes * w.cached_prefix,
        Ttl::OneHour => with_t.cache_write_1h = writes * w.cached_prefix,
    }
    let price_day = |t: &Tokens<f64>| -> Cost {
        let mut total = Cost::default();
        for (tier, share) in [
            (Tier::Standard, 1.0 - w.batch_share),
            (Tier::Batch, w.batch_share),
        ] {
            if share == 0.0 {
                continue;
            }
            let terms = Terms {
                tier,
                prompt,
                geo: Geo::NotAvailable,
                speed: Speed::Standard,
            };
            let c = cost::price(table, model, time, &t.scale(share), 0.0, &terms);
            total.add(&c);
        }
        total
    };
    let day_without = price_day(&without_t);
    let day_with = price_day(&with_t);
    let days = w.days.max(1);
    let scale = |c: &Cost| {
        let mut s = *c;
        let k = days as f64;
        s.uncached_input *= k;
        s.cache_write_5m *= k;
        s.cache_write_1h *= k;
        s.cache_read *= k;
        s.output *= k;
        s.web_search *= k;
        s
    };
    let (without, with) = (scale(&day_without), scale(&day_with));
    let (a, b) = (without.total(), with.total());
    let name = entry.display_name().to_owned();
    let min = entry.min_cacheable_tokens.filter(|_| entry.caching);
    let mut warnings = Vec::new();
    let cacheable = if !entry.caching {
        warnings.push(format!(
            "{name} has no prompt caching: the API bills {} (no caching); {} is the caching arithmetic only.",
            usd_short(a),
            usd_short(b)
        ));
        false
    } else if let Some(m) = min
        && w.cached_prefix > 0.0
        && w.cached_prefix < m as f64
    {
        warnings.push(format!(
            "A {}-token prefix is below {name}'s minimum cacheable prefix of {} tokens: the API would not cache it and bills {} (no caching); {} is the caching arithmetic only.",
            crate::domain::money::count(w.cached_prefix.round() as u64),
            crate::domain::money::count(m),
            usd_short(a),
            usd_short(b)
        ));
        false
    } else {
        true
    };
    if let Some(m) = min
        && entry.min_cacheable_confidence != crate::domain::prices::Confidence::Published
    {
        warnings.push(format!(
            "{name}'s minimum cacheable prefix is not published: {} tokens {} ({}).",
            crate::domain::money::count(m),
            match entry.min_cacheable_confidence {
                crate::domain::prices::Confidence::Assumed => "assumed",
                _ => "from a secondary source",
            },
            entry.min_cacheable_confidence.label()
        ));
    }
    Ok(Estimate {
        model: name,
        without_cache_usd: a,
        with_cache_usd: b,
        savings_usd: a - b,
        savings_pct: if a > 0.0 { 100.0 * (a - b) / a } else { 0.0 },
        billed_with_cache_usd: if cacheable { b } else { a },
        min_cacheable_tokens: min,
        warnings,
        requests: n * days as f64,
        cache_writes: writes * days as f64,
        cache_reads: reads * days as f64,
        gap_seconds: gap,
        stays_cached,
        without_cache: without,
        with_cache: with,
        per_day: (1..=days)
            .map(|d| (d, day_without.total(), day_with.total()))
            .collect(),
    })
}

/// Dollars to the last significant digit of six decimals, at least cents: `$0.30`,
/// `$0.03345`.
fn usd_short(v: f64) -> String {
    let mut s = crate::domain::money::usd_exact(v);
    while s.ends_with('0') && s.split_once('.').is_some_and(|(_, f)| f.len() > 2) {
        s.pop();
    }
    s
}
