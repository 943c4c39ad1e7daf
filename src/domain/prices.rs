//! The price table: bundled list prices (`assets/prices.json`), user overrides (our format or
//! LiteLLM's `model_prices_and_context_window.json`), and model-name lookup.
//!
//! Every rule that depends on the date or the request is data here, not code, so a user's
//! price file can say it too (`shared/docs/pricing.md`):
//! - prices come in dated periods (`effective_from`); usage is priced by the period in force on
//!   its day;
//! - a period may have whole-request tiers (`tiers`): a request whose prompt (input + cache
//!   writes + cache reads) exceeds a tier's `above_prompt_tokens` is billed entirely at that
//!   tier's rates, output included (Sonnet 4/4.5 long context > 200K; Opus/Sonnet 4.6 the same
//!   until 2026-03-12; Haiku 5.5's > 100K card);
//! - fast mode is a per-period multiplier (`fast_multiplier`); a period without one means fast
//!   mode had no price of its own then (usage is priced at standard speed, and reports say so);
//! - data residency (`inference_geo = us`) is a per-model multiplier;
//! - a model without prompt caching (`"caching": false`) bills cache categories as input.
//!
//! Secondary facts (from third-party tables, not Anthropic) carry `"confidence": "secondary"`;
//! the table carries the day it was last checked (`as_of`).

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The bundled table, compiled into the binary so the app works with no files around it.
pub const BUNDLED_PRICES: &str = include_str!("../../assets/prices.json");

/// The most distinct request-tier thresholds a table may use (each one multiplies the
/// aggregation's bands; no real price list has more than two).
pub const MAX_THRESHOLDS: usize = 8;
/// Prices above this (USD per million tokens) are refused as typos: the dearest model ever
/// listed costs $150 (Opus 4.6 output in fast mode).
pub const MAX_PRICE_PER_MTOK: f64 = 10_000.0;
/// Multipliers (fast mode, data residency) must lie in this range.
pub const MULTIPLIER_RANGE: (f64, f64) = (0.01, 100.0);

/// USD per million tokens for each category.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rates {
    pub input: f64,
    pub cache_write_5m: f64,
    pub cache_write_1h: f64,
    pub cache_read: f64,
    pub output: f64,
}

/// Rates as a file gives them: cache prices may be left out, and then follow the usual ratios
/// to the input price (5m write 1.25x, 1h write 2x, read 0.1x).
#[derive(Deserialize)]
struct RawRates {
    input: f64,
    #[serde(default)]
    cache_write_5m: Option<f64>,
    #[serde(default)]
    cache_write_1h: Option<f64>,
    #[serde(default)]
    cache_read: Option<f64>,
    output: f64,
}

impl From<RawRates> for Rates {
    fn from(r: RawRates) -> Rates {
        let usual = Rates::from_input_output(r.input, r.output);
        Rates {
            input: r.input,
            cache_write_5m: r.cache_write_5m.unwrap_or(usual.cache_write_5m),
            cache_write_1h: r.cache_write_1h.unwrap_or(usual.cache_write_1h),
            cache_read: r.cache_read.unwrap_or(usual.cache_read),
            output: r.output,
        }
    }
}

impl<'de> Deserialize<'de> for Rates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rates, D::Error> {
        RawRates::deserialize(d).map(Rates::from)
    }
}

impl Rates {
    /// The rates of a model priced by the usual ratios (1.25x, 2x, 0.1x of input).
    pub fn from_input_output(input: f64, output: f64) -> Rates {
        Rates {
            input,
            cache_write_5m: input * 1.25,
            cache_write_1h: input * 2.0,
            cache_read: input * 0.1,
            output,
        }
    }

    pub fn as_array(&self) -> [f64; 5] {
        [
            self.input,
            self.cache_write_5m,
            self.cache_write_1h,
            self.cache_read,
            self.output,
        ]
    }

    pub fn scaled(&self, k: f64) -> Rates {
        Rates {
            input: self.input * k,
            cache_write_5m: self.cache_write_5m * k,
            cache_write_1h: self.cache_write_1h * k,
            cache_read: self.cache_read * k,
            output: self.output * k,
        }
    }

    /// Cache categories billed as plain input (a model without prompt caching).
    fn without_caching(&self) -> Rates {
        Rates {
            cache_write_5m: self.input,
            cache_write_1h: self.input,
            cache_read: self.input,
            ..*self
        }
    }

    fn check(&self, what: &str) -> Result<(), String> {
        for (name, v) in [
            ("input", self.input),
            ("cache_write_5m", self.cache_write_5m),
            ("cache_write_1h", self.cache_write_1h),
            ("cache_read", self.cache_read),
            ("output", self.output),
        ] {
            if !(v.is_finite() && (0.0..=MAX_PRICE_PER_MTOK).contains(&v)) {
                return Err(format!(
                    "{what}: {name} price {} is not between 0 and {MAX_PRICE_PER_MTOK} USD per million tokens",
                    show(v)
                ));
            }
        }
        Ok(())
    }
}

/// How sure the table is of a fact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Published by Anthropic.
    #[default]
    Published,
    /// Only from third-party tools or posts.
    Secondary,
    /// Not published anywhere: a stated assumption.
    Assumed,
}

impl Confidence {
    pub fn is_published(&self) -> bool {
        *self == Confidence::Published
    }

    pub fn label(self) -> &'static str {
        match self {
            Confidence::Published => "published",
            Confidence::Secondary => "secondary source",
            Confidence::Assumed => "assumed",
        }
    }
}

/// A whole-request price tier: a request whose prompt exceeds `above_prompt_tokens` is billed
/// entirely (output included) at these rates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestTier {
    pub above_prompt_tokens: u64,
    #[serde(flatten)]
    pub rates: Rates,
    #[serde(default, skip_serializing_if = "Confidence::is_published")]
    pub confidence: Confidence,
}

/// The prices of one model from one day on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPeriod")]
pub struct PricePeriod {
    pub effective_from: NaiveDate,
    #[serde(flatten)]
    pub standard: Rates,
    /// Whole-request tiers, lowest threshold first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<RequestTier>,
    /// `speed = fast`: every category at this multiple; `None` = no fast price in this period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Confidence::is_published")]
    pub confidence: Confidence,
    #[serde(default, skip_serializing_if = "Confidence::is_published")]
    pub fast_confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A period as files write it; `long_context` is the first version's way of saying "a tier
/// above 200K".
#[derive(Deserialize)]
struct RawPeriod {
    effective_from: NaiveDate,
    #[serde(flatten)]
    standard: Rates,
    #[serde(default)]
    tiers: Vec<RequestTier>,
    #[serde(default)]
    long_context: Option<Rates>,
    #[serde(default)]
    fast_multiplier: Option<f64>,
    #[serde(default)]
    confidence: Confidence,
    #[serde(default)]
    fast_confidence: Confidence,
    #[serde(default)]
    note: Option<String>,
}

impl TryFrom<RawPeriod> for PricePeriod {
    type Error = String;
    fn try_from(r: RawPeriod) -> Result<PricePeriod, String> {
        let mut tiers = r.tiers;
        if let Some(rates) = r.long_context {
            tiers.push(RequestTier {
                above_prompt_tokens: crate::domain::records::LONG_CONTEXT_THRESHOLD,
                rates,
                confidence: Confidence::Published,
            });
        }
        tiers.sort_by_key(|t| t.above_prompt_tokens);
        if tiers
            .windows(2)
            .any(|w| w[0].above_prompt_tokens == w[1].above_prompt_tokens)
        {
            return Err(format!(
                "period from {}: two tiers with the same threshold",
                r.effective_from
            ));
        }
        Ok(PricePeriod {
            effective_from: r.effective_from,
            standard: r.standard,
            tiers,
            fast_multiplier: r.fast_multiplier,
            confidence: r.confidence,
            fast_confidence: r.fast_confidence,
            note: r.note,
        })
    }
}

impl PricePeriod {
    /// A period with standard rates only.
    pub fn simple(effective_from: NaiveDate, standard: Rates) -> PricePeriod {
        PricePeriod {
            effective_from,
            standard,
            tiers: Vec::new(),
            fast_multiplier: None,
            confidence: Confidence::Published,
            fast_confidence: Confidence::Published,
            note: None,
        }
    }

    /// The rates a request pays: the highest tier whose threshold its prompt exceeds, else the
    /// standard rates. An aggregated row flagged as long context pays the highest tier.
    pub fn rates_for(&self, prompt: Prompt) -> (&Rates, Option<&RequestTier>) {
        let tier = match prompt {
            Prompt::Tokens(x) => self
                .tiers
                .iter()
                .rev()
                .find(|t| x > t.above_prompt_tokens as f64),
            Prompt::Long(true) => self.tiers.last(),
            Prompt::Long(false) => None,
        };
        match tier {
            Some(t) => (&t.rates, Some(t)),
            None => (&self.standard, None),
        }
    }

    /// The long-context (first) tier, if the period has one (for tables and legacy output).
    pub fn long_context(&self) -> Option<&Rates> {
        self.tiers.first().map(|t| &t.rates)
    }
}

/// What decides a request's tier: its prompt size in tokens, or (aggregated exports) a flag
/// saying it was a long-context request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prompt {
    Tokens(f64),
    Long(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Fable,
    Opus,
    Sonnet,
    Haiku,
    #[default]
    Other,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn one() -> f64 {
    1.0
}
fn is_one(v: &f64) -> bool {
    *v == 1.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub id: String,
    #[serde(default)]
    pub display_names: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub family: Family,
    #[serde(default, skip_serializing_if = "Confidence::is_published")]
    pub confidence: Confidence,
    /// Tokens this model's tokenizer makes of a text, relative to the tokenizer of Sonnet 4.6
    /// and earlier (Claude 4.7 and later: about 1.30). Routing between models scales token
    /// counts by the ratio of the two.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub tokenizer_ratio: f64,
    /// Shorter prefixes are not cached (both cache counters read 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cacheable_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Confidence::is_published")]
    pub min_cacheable_confidence: Confidence,
    /// False for models without prompt caching: cache categories are billed as input.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub caching: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `inference_geo = us` (Claude 4.6 and later): every category at this multiple.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_residency_multiplier: Option<f64>,
    /// The first file version's fast-mode multiplier, for every period that sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_multiplier: Option<f64>,
    /// Sorted by `effective_from`, oldest first.
    pub prices: Vec<PricePeriod>,
}

impl ModelPrice {
    pub fn display_name(&self) -> &str {
        self.display_names
            .first()
            .map(String::as_str)
            .unwrap_or(&self.id)
    }

    /// The price period in force at `time` (Unix seconds). Usage older than the first entry
    /// is priced at the first entry.
    pub fn period_at(&self, time: i64) -> &PricePeriod {
        let day = chrono::DateTime::from_timestamp(time, 0)
            .map(|t| t.date_naive())
            .unwrap_or(NaiveDate::MIN);
        self.prices
            .iter()
            .rev()
            .find(|p| p.effective_from <= day)
            .unwrap_or(&self.prices[0])
    }

    /// The fast-mode multiplier in force in `period`, if fast mode had a price then.
    pub fn fast_multiplier_in(&self, period: &PricePeriod) -> Option<f64> {
        period.fast_multiplier.or(self.fast_multiplier)
    }

    /// The rates of a period as billed: cache categories as input where the model has no
    /// caching.
    pub fn effective(&self, rates: &Rates) -> Rates {
        if self.caching {
            *rates
        } else {
            rates.without_caching()
        }
    }

    /// True when any fact this entry prices by is not published by Anthropic.
    pub fn has_secondary_facts(&self) -> bool {
        self.confidence != Confidence::Published
            || self.prices.iter().any(|p| {
                p.confidence != Confidence::Published
                    || (p.fast_multiplier.is_some() && p.fast_confidence != Confidence::Published)
                    || p.tiers
                        .iter()
                        .any(|t| t.confidence != Confidence::Published)
            })
    }

    fn check(&self) -> Result<(), String> {
        let id = &self.id;
        if id.trim().is_empty() {
            return Err("a model has an empty id".into());
        }
        if self.prices.is_empty() {
            return Err(format!("model {id:?} has no prices"));
        }
        let in_range =
            |v: f64| v.is_finite() && (MULTIPLIER_RANGE.0..=MULTIPLIER_RANGE.1).contains(&v);
        for (what, v) in [
            ("data_residency_multiplier", self.data_residency_multiplier),
            ("fast_multiplier", self.fast_multiplier),
            ("tokenizer_ratio", Some(self.tokenizer_ratio)),
        ] {
            if let Some(v) = v
                && !in_range(v)
            {
                return Err(format!(
                    "model {id:?}: {what} {} is not between {} and {}",
                    show(v),
                    MULTIPLIER_RANGE.0,
                    MULTIPLIER_RANGE.1
                ));
            }
        }
        for p in &self.prices {
            let what = format!("model {id:?} from {}", p.effective_from);
            p.standard.check(&what)?;
            for t in &p.tiers {
                t.rates
                    .check(&format!("{what}, tier above {}", t.above_prompt_tokens))?;
            }
            if let Some(f) = p.fast_multiplier
                && !in_range(f)
            {
                return Err(format!(
                    "{what}: fast_multiplier {} is not between {} and {}",
                    show(f),
                    MULTIPLIER_RANGE.0,
                    MULTIPLIER_RANGE.1
                ));
            }
        }
        Ok(())
    }
}

/// The file format of a price table (bundled, or a user's override file in our format).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The day the prices were last checked against the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_per_1k: Option<f64>,
    #[serde(default)]
    pub models: Vec<ModelPrice>,
    /// Unknown model name -> priced model it should be billed as.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub map: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("{0}: cannot read price file: {1}")]
    Io(String, std::io::Error),
    #[error(
        "{0}: not a price file (expected costlens-prices JSON or LiteLLM's model_prices_and_context_window.json): {1}"
    )]
    Format(String, String),
    #[error("{0}: {1}")]
    Invalid(String, String),
    #[error("cannot map {0:?}: {1:?} is not a priced model")]
    UnknownTarget(String, String),
}

/// What applying a price file did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// Models (ids) added or replaced, mappings and settings changed, in file order.
    pub changed: Vec<String>,
    /// Models of a LiteLLM file that the table already prices better (dated periods, tiers):
    /// kept as they were.
    pub kept: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PriceTable {
    pub web_search_per_1k: f64,
    pub models: Vec<ModelPrice>,
    /// The day the prices were last checked (the bundled table's, or a newer file's).
    pub as_of: NaiveDate,
    /// Where the prices came from: the bundled table, then each file applied.
    pub sources: Vec<String>,
    /// Lower-cased ID or alias -> model index.
    names: HashMap<String, usize>,
    /// Lower-cased display name -> model index.
    display: HashMap<String, usize>,
    /// Sorted starts (Unix seconds) of every price period in the table: usage in the same
    /// epoch is priced by the same period of every model.
    epochs: Vec<i64>,
    /// Every tier threshold of the table, ascending.
    thresholds: Vec<u64>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::bundled()
    }
}

/// Midnight UTC starting `d`, Unix seconds.
pub fn day_start(d: NaiveDate) -> i64 {
    d.and_time(NaiveTime::MIN).and_utc().timestamp()
}

impl PriceTable {
    pub fn bundled() -> PriceTable {
        let file: PriceFile =
            serde_json::from_str(BUNDLED_PRICES).expect("bundled assets/prices.json is valid");
        let as_of = file.as_of;
        let mut t = PriceTable::from_file(file).expect("bundled assets/prices.json is valid");
        t.sources = vec![format!(
            "bundled list prices as of {}",
            as_of.map(|d| d.to_string()).unwrap_or_default()
        )];
        t
    }

    pub fn from_file(file: PriceFile) -> Result<PriceTable, String> {
        let mut t = PriceTable {
            web_search_per_1k: 10.0,
            models: Vec::new(),
            as_of: file.as_of.unwrap_or(NaiveDate::MIN),
            sources: Vec::new(),
            names: HashMap::new(),
            display: HashMap::new(),
            epochs: Vec::new(),
            thresholds: Vec::new(),
        };
        t.apply_price_file("price table", file)?;
        Ok(t)
    }

    /// Checks a file's models, then merges them in (replacing the prices of the models they
    /// match), then its mappings.
    fn apply_price_file(&mut self, name: &str, file: PriceFile) -> Result<Applied, String> {
        let mut applied = Applied::default();
        if let Some(w) = file.web_search_per_1k {
            if !(w.is_finite() && (0.0..=MAX_PRICE_PER_MTOK).contains(&w)) {
                return Err(format!(
                    "web_search_per_1k {w} is not between 0 and {MAX_PRICE_PER_MTOK}"
                ));
            }
            self.web_search_per_1k = w;
            applied.changed.push(format!("web search: ${w}/1,000"));
        }
        for m in &file.models {
            m.check()?;
        }
        let mut next = self.clone();
        for m in file.models {
            applied.changed.push(m.id.clone());
            next.upsert(m);
        }
        next.reindex();
        if next.thresholds.len() > MAX_THRESHOLDS {
            return Err(format!(
                "the table would have {} distinct tier thresholds; at most {MAX_THRESHOLDS} are supported",
                next.thresholds.len()
            ));
        }
        for (from, to) in file.map {
            next.map_model(&from, &to).map_err(|e| e.to_string())?;
            applied.changed.push(format!("{from} -> {to}"));
        }
        if let Some(d) = file.as_of
            && d > next.as_of
        {
            next.as_of = d;
        }
        next.sources.push(match file.as_of {
            Some(d) => format!("{name} (as of {d})"),
            None => name.to_owned(),
        });
        *self = next;
        Ok(applied)
    }

    fn reindex(&mut self) {
        self.names.clear();
        self.display.clear();
        let mut epochs = Vec::new();
        let mut thresholds = Vec::new();
        for (i, m) in self.models.iter_mut().enumerate() {
            m.prices.sort_by_key(|p| p.effective_from);
            for p in &m.prices {
                epochs.push(day_start(p.effective_from));
                thresholds.extend(p.tiers.iter().map(|t| t.above_prompt_tokens));
            }
            self.names.insert(m.id.to_ascii_lowercase(), i);
            for a in &m.aliases {
                self.names.entry(a.to_ascii_lowercase()).or_insert(i);
            }
            for d in &m.display_names {
                self.display.entry(normalise_display(d)).or_insert(i);
            }
        }
        epochs.sort_unstable();
        epochs.dedup();
        thresholds.sort_unstable();
        thresholds.dedup();
        self.epochs = epochs;
        self.thresholds = thresholds;
    }

    /// Adds a model, or replaces the prices (and any given names) of the model it matches.
    /// Names are indexed as they come (a file of many models loads in linear time); the caller
    /// reindexes at the end.
    fn upsert(&mut self, m: ModelPrice) {
        let existing = self
            .names
            .get(&m.id.to_ascii_lowercase())
            .copied()
            .or_else(|| self.lookup(&m.id));
        let i = match existing {
            Some(i) => {
                let e = &mut self.models[i];
                let mut m = m;
                for a in std::mem::take(&mut e.aliases) {
                    if !m.aliases.contains(&a) && a != m.id {
                        m.aliases.push(a);
                    }
                }
                for d in std::mem::take(&mut e.display_names) {
                    if !m.display_names.contains(&d) {
                        m.display_names.push(d);
                    }
                }
                if m.id != e.id && !m.aliases.contains(&e.id) {
                    m.aliases.push(e.id.clone());
                }
                // What the new entry leaves unsaid stays as it was.
                m.data_residency_multiplier =
                    m.data_residency_multiplier.or(e.data_residency_multiplier);
                m.fast_multiplier = m.fast_multiplier.or(e.fast_multiplier);
                m.min_cacheable_tokens = m.min_cacheable_tokens.or(e.min_cacheable_tokens);
                if m.note.is_none() {
                    m.note = e.note.take();
                }
                if m.family == Family::Other {
                    m.family = e.family;
                }
                if m.tokenizer_ratio == 1.0 {
                    m.tokenizer_ratio = e.tokenizer_ratio;
                }
                *e = m;
                i
            }
            None => {
                self.models.push(m);
                self.models.len() - 1
            }
        };
        let m = &self.models[i];
        self.names.insert(m.id.to_ascii_lowercase(), i);
        for a in &m.aliases {
            self.names.entry(a.to_ascii_lowercase()).or_insert(i);
        }
        for d in &m.display_names {
            self.display.entry(normalise_display(d)).or_insert(i);
        }
    }

    /// Bills `from` (an unpriced model name) as the priced model `to`.
    pub fn map_model(&mut self, from: &str, to: &str) -> Result<(), PriceError> {
        let i = self
            .lookup(to)
            .ok_or_else(|| PriceError::UnknownTarget(from.into(), to.into()))?;
        if from.trim().is_empty() {
            return Err(PriceError::UnknownTarget(from.into(), to.into()));
        }
        if !self.models[i].aliases.iter().any(|a| a == from) {
            self.models[i].aliases.push(from.to_owned());
        }
        self.reindex();
        Ok(())
    }

    /// Model lookup, in the documented order: exact ID, alias, the name without a dated
    /// suffix (`-20250929`), the name without Claude Code's `[1m]` suffix, display name.
    /// Case-insensitive; a provider prefix (`anthropic/`) is ignored.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        let lower = name.trim().to_ascii_lowercase();
        let lower = lower.strip_prefix("anthropic/").unwrap_or(&lower);
        let by_id = |n: &str| {
            self.names
                .get(n)
                .copied()
                .or_else(|| strip_date_suffix(n).and_then(|s| self.names.get(s).copied()))
        };
        if let Some(i) = by_id(lower) {
            return Some(i);
        }
        // Claude Code marks 1M-context sessions with a suffix on the model ID.
        if let Some(base) = lower.strip_suffix("[1m]")
            && let Some(i) = by_id(base.trim_end())
        {
            return Some(i);
        }
        self.display.get(&normalise_display(name)).copied()
    }

    pub fn model(&self, i: usize) -> &ModelPrice {
        &self.models[i]
    }

    /// Every tier threshold used anywhere in the table, ascending (the aggregation keeps
    /// requests apart on each of them).
    pub fn thresholds(&self) -> &[u64] {
        &self.thresholds
    }

    /// The index of the price epoch that `time` falls in.
    pub fn epoch_of(&self, time: i64) -> u32 {
        self.epochs.partition_point(|&e| e <= time) as u32
    }

    /// A time inside epoch `e`, for looking prices up by epoch.
    pub fn epoch_time(&self, e: u32) -> i64 {
        match e {
            0 => i64::MIN / 2,
            _ => self.epochs[e as usize - 1],
        }
    }

    /// Start (Unix seconds) of the day after `as_of`: usage from then on may be priced by a
    /// table that no longer holds.
    pub fn as_of_end(&self) -> i64 {
        day_start(self.as_of) + 86_400
    }

    /// Applies a user's price file: our format or LiteLLM's.
    pub fn apply_file(&mut self, path: &std::path::Path) -> Result<Applied, PriceError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PriceError::Io(name.clone(), e))?;
        self.apply_text(&name, &text)
    }

    /// Applies a price file's text. Our format replaces the models it names; LiteLLM's file
    /// only adds models the table does not price (it cannot express dated prices or request
    /// tiers, and has known bad values), and says which it kept.
    pub fn apply_text(&mut self, name: &str, text: &str) -> Result<Applied, PriceError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| PriceError::Format(name.into(), e.to_string()))?;
        let is_ours = value.get("models").is_some_and(|m| m.is_array());
        if is_ours {
            let file = serde_json::from_value::<PriceFile>(value)
                .map_err(|e| PriceError::Format(name.into(), e.to_string()))?;
            return self
                .apply_price_file(name, file)
                .map_err(|e| PriceError::Invalid(name.into(), e));
        }
        let mut file = litellm_to_price_file(name, &value)?;
        let mut kept = Vec::new();
        file.models.retain(|m| {
            let known = self.lookup(&m.id).is_some();
            if known {
                kept.push(m.id.clone());
            }
            !known
        });
        let mut applied = self
            .apply_price_file(name, file)
            .map_err(|e| PriceError::Invalid(name.into(), e))?;
        applied.kept = kept;
        Ok(applied)
    }

    /// Replaces one model's current prices (the Prices view's edit): a new period from
    /// `period.effective_from`. Tiers and the fast multiplier the new period leaves out are
    /// those of the period it follows (the view edits the five standard rates only).
    pub fn set_prices(&mut self, id: &str, mut period: PricePeriod) -> Result<(), PriceError> {
        let i = self
            .lookup(id)
            .ok_or_else(|| PriceError::UnknownTarget(id.into(), id.into()))?;
        let m = &mut self.models[i];
        let before = m.period_at(day_start(period.effective_from)).clone();
        if period.tiers.is_empty() {
            period.tiers = before.tiers;
        }
        if period.fast_multiplier.is_none() {
            period.fast_multiplier = before.fast_multiplier;
        }
        let mut candidate = m.clone();
        candidate
            .prices
            .retain(|p| p.effective_from != period.effective_from);
        candidate.prices.push(period);
        candidate
            .check()
            .map_err(|e| PriceError::Invalid(id.into(), e))?;
        *m = candidate;
        self.reindex();
        Ok(())
    }

    /// The table as our file format (for `costlens prices --json` and saving overrides).
    pub fn to_file(&self) -> PriceFile {
        PriceFile {
            schema: Some("costlens-prices/2".into()),
            as_of: Some(self.as_of),
            source: Some(self.sources.join("; ")),
            web_search_per_1k: Some(self.web_search_per_1k),
            models: self.models.clone(),
            map: BTreeMap::new(),
        }
    }

    /// Every model's display name, in table order (for model pickers).
    pub fn display_names(&self) -> Vec<String> {
        self.models
            .iter()
            .map(|m| m.display_name().to_owned())
            .collect()
    }

    /// The model a routing lever sends work to by default.
    pub fn default_route_target(&self) -> Option<usize> {
        self.lookup("claude-haiku-4-5")
    }
}

/// A number for a message: `1e308` rather than its 309 digits.
fn show(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e16 {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// Display names compare without case and with runs of spaces as one.
fn normalise_display(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`.
fn strip_date_suffix(name: &str) -> Option<&str> {
    let (head, tail) = name.rsplit_once('-')?;
    (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

/// Converts LiteLLM's per-token price file into ours (Anthropic entries only).
fn litellm_to_price_file(name: &str, v: &serde_json::Value) -> Result<PriceFile, PriceError> {
    let obj = v
        .as_object()
        .ok_or_else(|| PriceError::Format(name.into(), "the top level is not an object".into()))?;
    let mut models = Vec::new();
    for (model, entry) in obj {
        let Some(e) = entry.as_object() else { continue };
        let provider = e.get("litellm_provider").and_then(|p| p.as_str());
        if provider != Some("anthropic") {
            continue;
        }
        // USD per token -> USD per MTok, rounded to a millionth of a dollar so that 3e-06
        // reads back as 3 rather than 3.0000000000000004.
        let per_m = |k: &str| {
            e.get(k)
                .and_then(|x| x.as_f64())
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| (x * 1e12).round() / 1e6)
        };
        let (Some(input), Some(output)) = (
            per_m("input_cost_per_token"),
            per_m("output_cost_per_token"),
        ) else {
            continue;
        };
        let w5 = per_m("cache_creation_input_token_cost").unwrap_or(input * 1.25);
        // LiteLLM's 1h field is wrong for some models (6e-06, Sonnet's price, for Haiku 3 and
        // Opus 3). A 1h write costs 2x input on every model Anthropic lists, so a value that is
        // not above the 5m write, or above 3x input, falls back to 2x input.
        let w1 = per_m("cache_creation_input_token_cost_above_1hr")
            .filter(|&w| w > w5 && w <= input * 3.0)
            .unwrap_or(input * 2.0);
        let read = per_m("cache_read_input_token_cost").unwrap_or(input * 0.1);
        let tiers = per_m("input_cost_per_token_above_200k_tokens")
            .map(|li| RequestTier {
                above_prompt_tokens: crate::domain::records::LONG_CONTEXT_THRESHOLD,
                rates: Rates {
                    input: li,
                    cache_write_5m: per_m("cache_creation_input_token_cost_above_200k_tokens")
                        .unwrap_or(li * 1.25),
                    cache_write_1h: li * 2.0,
                    cache_read: per_m("cache_read_input_token_cost_above_200k_tokens")
                        .unwrap_or(li * 0.1),
                    output: per_m("output_cost_per_token_above_200k_tokens").unwrap_or(output),
                },
                confidence: Confidence::Secondary,
            })
            .into_iter()
            .collect();
        let specific = e.get("provider_specific_entry");
        let multiplier = |k: &str| {
            specific
                .and_then(|s| s.get(k))
                .and_then(|x| x.as_f64())
                .filter(|x| x.is_finite() && *x > 0.0)
        };
        let mut period = PricePeriod::simple(
            NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
            Rates {
                input,
                cache_write_5m: w5,
                cache_write_1h: w1,
                cache_read: read,
                output,
            },
        );
        period.tiers = tiers;
        period.fast_multiplier = multiplier("fast");
        period.confidence = Confidence::Secondary;
        models.push(ModelPrice {
            id: model.clone(),
            display_names: vec![],
            aliases: vec![],
            family: family_of(model),
            confidence: Confidence::Secondary,
            tokenizer_ratio: 1.0,
            min_cacheable_tokens: None,
            min_cacheable_confidence: Confidence::Published,
            caching: true,
            note: Some(format!("from {name}")),
            data_residency_multiplier: multiplier("us"),
            fast_multiplier: None,
            prices: vec![period],
        });
    }
    if models.is_empty() {
        return Err(PriceError::Format(
            name.into(),
            "no Anthropic models with input_cost_per_token / output_cost_per_token".into(),
        ));
    }
    Ok(PriceFile {
        models,
        ..Default::default()
    })
}

fn family_of(model: &str) -> Family {
    let m = model.to_ascii_lowercase();
    if m.contains("opus") {
        Family::Opus
    } else if m.contains("sonnet") {
        Family::Sonnet
    } else if m.contains("haiku") {
        Family::Haiku
    } else if m.contains("fable") || m.contains("mythos") {
        Family::Fable
    } else {
        Family::Other
    }
}
