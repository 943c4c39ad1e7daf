//! The one pricing function. Everything that has a price (actual usage, every scenario stage,
//! the calculator) goes through [`price`], so the long-context, batch, geo and speed rules live
//! in one place.

use crate::domain::prices::{ModelPrice, PricePeriod, PriceTable, Prompt};
use crate::domain::records::{Category, Geo, Speed, Tier, Tokens, UsageRecord};
use serde::Serialize;

pub use crate::domain::records::LONG_CONTEXT_THRESHOLD;

/// Batch API: 50% of every token category, cache reads and writes included.
pub const BATCH_MULTIPLIER: f64 = 0.5;

/// Cost in US dollars, by category. Unrounded: rounding happens only where it is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Cost {
    pub uncached_input: f64,
    pub cache_write_5m: f64,
    pub cache_write_1h: f64,
    pub cache_read: f64,
    pub output: f64,
    pub web_search: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.uncached_input
            + self.cache_write_5m
            + self.cache_write_1h
            + self.cache_read
            + self.output
            + self.web_search
    }

    pub fn category(&self, c: Category) -> f64 {
        match c {
            Category::UncachedInput => self.uncached_input,
            Category::CacheWrite5m => self.cache_write_5m,
            Category::CacheWrite1h => self.cache_write_1h,
            Category::CacheRead => self.cache_read,
            Category::Output => self.output,
        }
    }

    pub fn add(&mut self, o: &Cost) {
        self.uncached_input += o.uncached_input;
        self.cache_write_5m += o.cache_write_5m;
        self.cache_write_1h += o.cache_write_1h;
        self.cache_read += o.cache_read;
        self.output += o.output;
        self.web_search += o.web_search;
    }
}

/// Everything besides the model and the counts that decides a price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Terms {
    pub tier: Tier,
    /// What picks the request tier (long context, Haiku 5.5's > 100K card).
    pub prompt: Prompt,
    pub geo: Geo,
    pub speed: Speed,
}

/// The multiplier that stacks on every token category: batch 50%, data residency and fast mode
/// where the table prices them (`model` in `period`).
pub fn token_multiplier(model: &ModelPrice, period: &PricePeriod, terms: &Terms) -> f64 {
    let mut m = 1.0;
    if terms.tier == Tier::Batch {
        m *= BATCH_MULTIPLIER;
    }
    if terms.geo == Geo::Us {
        m *= model.data_residency_multiplier.unwrap_or(1.0);
    }
    if terms.speed == Speed::Fast {
        // No fast price in the period: billed at standard speed (reports say so).
        m *= model.fast_multiplier_in(period).unwrap_or(1.0);
    }
    m
}

/// Prices token counts of one model at `time` (which picks the dated price period).
pub fn price(
    table: &PriceTable,
    model: usize,
    time: i64,
    tokens: &Tokens<f64>,
    web_search: f64,
    terms: &Terms,
) -> Cost {
    let entry = table.model(model);
    let period = entry.period_at(time);
    let (rates, _) = period.rates_for(terms.prompt);
    let rates = entry.effective(rates);
    let k = token_multiplier(entry, period, terms) / 1e6;
    Cost {
        uncached_input: tokens.uncached_input * rates.input * k,
        cache_write_5m: tokens.cache_write_5m * rates.cache_write_5m * k,
        cache_write_1h: tokens.cache_write_1h * rates.cache_write_1h * k,
        cache_read: tokens.cache_read * rates.cache_read * k,
        output: tokens.output * rates.output * k,
        web_search: web_search * table.web_search_per_1k / 1000.0,
    }
}

/// What decides the request tier of a record: the request's prompt tokens, or the row's flag.
pub fn prompt_of(context: crate::domain::records::Context, total_input: f64) -> Prompt {
    match context {
        crate::domain::records::Context::Request => Prompt::Tokens(total_input),
        crate::domain::records::Context::Flag(b) => Prompt::Long(b),
    }
}

/// Prices one record whose model is table entry `model`.
pub fn price_record(table: &PriceTable, model: usize, r: &UsageRecord) -> Cost {
    let tokens = r.tokens.to_f64();
    let terms = Terms {
        tier: r.tier,
        prompt: prompt_of(r.context, tokens.total_input()),
        geo: r.geo,
        speed: r.speed,
    };
    price(table, model, r.time, &tokens, r.web_search as f64, &terms)
}
