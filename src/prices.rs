//! The price table: bundled list prices (`assets/prices.json`), user overrides (our format or
//! LiteLLM's `model_prices_and_context_window.json`), and model-name lookup.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The bundled table, compiled into the binary so the app works with no files around it.
pub const BUNDLED_PRICES: &str = include_str!("../assets/prices.json");

/// USD per million tokens for each category.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub input: f64,
    pub cache_write_5m: f64,
    pub cache_write_1h: f64,
    pub cache_read: f64,
    pub output: f64,
}

impl Rates {
    /// The rates of a model priced by the standard multipliers (1.25x, 2x, 0.1x of input).
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricePeriod {
    pub effective_from: NaiveDate,
    #[serde(flatten)]
    pub standard: Rates,
    /// Rates for a whole request whose input exceeds 200K tokens (Sonnet 4 / 4.5 / 4.6 1M beta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<Rates>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Opus,
    Sonnet,
    Haiku,
    #[default]
    Other,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `inference_geo = us` on Opus 4.6 and newer: 1.1x on every token category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_residency_multiplier: Option<f64>,
    /// `speed = fast` (Opus 4.6): 6x.
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
}

/// The file format of a price table (bundled, or a user's override file in our format).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PriceFile {
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub web_search_per_1k: Option<f64>,
    #[serde(default)]
    pub models: Vec<ModelPrice>,
    /// Unknown model name -> priced model it should be billed as.
    #[serde(default)]
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
    #[error("{0}: model {1:?} has no prices")]
    Empty(String, String),
    #[error("cannot map {0:?}: {1:?} is not a priced model")]
    UnknownTarget(String, String),
}

#[derive(Clone, Debug)]
pub struct PriceTable {
    pub web_search_per_1k: f64,
    pub models: Vec<ModelPrice>,
    /// Lower-cased ID or alias -> model index.
    names: HashMap<String, usize>,
    /// Lower-cased display name -> model index.
    display: HashMap<String, usize>,
    /// Sorted starts (Unix seconds) of every price period in the table: usage in the same
    /// epoch is priced by the same period of every model.
    epochs: Vec<i64>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::bundled()
    }
}

fn day_start(d: NaiveDate) -> i64 {
    d.and_time(NaiveTime::MIN).and_utc().timestamp()
}

impl PriceTable {
    pub fn bundled() -> PriceTable {
        let file: PriceFile =
            serde_json::from_str(BUNDLED_PRICES).expect("bundled assets/prices.json is valid");
        PriceTable::from_file(file)
    }

    pub fn from_file(file: PriceFile) -> PriceTable {
        let mut t = PriceTable {
            web_search_per_1k: file.web_search_per_1k.unwrap_or(10.0),
            models: Vec::new(),
            names: HashMap::new(),
            display: HashMap::new(),
            epochs: Vec::new(),
        };
        for m in file.models {
            t.upsert(m);
        }
        for (from, to) in file.map {
            // A bad mapping in the bundled file is a bug; in overrides it is reported by apply.
            let _ = t.map_model(&from, &to);
        }
        t.reindex();
        t
    }

    fn reindex(&mut self) {
        self.names.clear();
        self.display.clear();
        let mut epochs = Vec::new();
        for (i, m) in self.models.iter_mut().enumerate() {
            m.prices.sort_by_key(|p| p.effective_from);
            for p in &m.prices {
                epochs.push(day_start(p.effective_from));
            }
            self.names.insert(m.id.to_ascii_lowercase(), i);
            for a in &m.aliases {
                self.names.entry(a.to_ascii_lowercase()).or_insert(i);
            }
            for d in &m.display_names {
                self.display.entry(d.to_ascii_lowercase()).or_insert(i);
            }
        }
        epochs.sort_unstable();
        epochs.dedup();
        self.epochs = epochs;
    }

    /// Adds a model, or replaces the prices (and any given names) of the model it matches.
    fn upsert(&mut self, m: ModelPrice) {
        let existing = self
            .names
            .get(&m.id.to_ascii_lowercase())
            .copied()
            .or_else(|| self.lookup(&m.id));
        match existing {
            Some(i) => {
                let e = &mut self.models[i];
                e.prices = m.prices;
                for a in m.aliases {
                    if !e.aliases.contains(&a) {
                        e.aliases.push(a);
                    }
                }
                for d in m.display_names {
                    if !e.display_names.contains(&d) {
                        e.display_names.push(d);
                    }
                }
                if m.data_residency_multiplier.is_some() {
                    e.data_residency_multiplier = m.data_residency_multiplier;
                }
                if m.fast_multiplier.is_some() {
                    e.fast_multiplier = m.fast_multiplier;
                }
                if m.note.is_some() {
                    e.note = m.note;
                }
            }
            None => self.models.push(m),
        }
        self.reindex();
    }

    /// Bills `from` (an unpriced model name) as the priced model `to`.
    pub fn map_model(&mut self, from: &str, to: &str) -> Result<(), PriceError> {
        let i = self
            .lookup(to)
            .ok_or_else(|| PriceError::UnknownTarget(from.into(), to.into()))?;
        if !self.models[i].aliases.iter().any(|a| a == from) {
            self.models[i].aliases.push(from.to_owned());
        }
        self.reindex();
        Ok(())
    }

    /// Model lookup, in the documented order: exact ID, alias, the name without a dated
    /// suffix (`-20250929`), display name. Case-insensitive; a provider prefix
    /// (`anthropic/`) is ignored.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        let lower = name.trim().to_ascii_lowercase();
        let lower = lower.strip_prefix("anthropic/").unwrap_or(&lower);
        if let Some(&i) = self.names.get(lower) {
            return Some(i);
        }
        if let Some(stripped) = strip_date_suffix(lower)
            && let Some(&i) = self.names.get(stripped)
        {
            return Some(i);
        }
        self.display.get(lower).copied()
    }

    pub fn model(&self, i: usize) -> &ModelPrice {
        &self.models[i]
    }

    /// The index of the price epoch that `time` falls in.
    pub fn epoch_of(&self, time: i64) -> u16 {
        self.epochs.partition_point(|&e| e <= time) as u16
    }

    /// A time inside epoch `e`, for looking prices up by epoch.
    pub fn epoch_time(&self, e: u16) -> i64 {
        match e {
            0 => i64::MIN / 2,
            _ => self.epochs[e as usize - 1],
        }
    }

    /// Applies a user's price file: our format or LiteLLM's. Returns what was changed.
    pub fn apply_file(&mut self, path: &std::path::Path) -> Result<Vec<String>, PriceError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PriceError::Io(name.clone(), e))?;
        self.apply_text(&name, &text)
    }

    pub fn apply_text(&mut self, name: &str, text: &str) -> Result<Vec<String>, PriceError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| PriceError::Format(name.into(), e.to_string()))?;
        let is_ours = value.get("models").is_some_and(|m| m.is_array());
        let file = if is_ours {
            serde_json::from_value::<PriceFile>(value)
                .map_err(|e| PriceError::Format(name.into(), e.to_string()))?
        } else {
            litellm_to_price_file(name, &value)?
        };
        let mut changed = Vec::new();
        if let Some(w) = file.web_search_per_1k {
            self.web_search_per_1k = w;
            changed.push(format!("web search: ${w}/1,000"));
        }
        for m in file.models {
            if m.prices.is_empty() {
                return Err(PriceError::Empty(name.into(), m.id));
            }
            changed.push(m.id.clone());
            self.upsert(m);
        }
        for (from, to) in file.map {
            self.map_model(&from, &to)?;
            changed.push(format!("{from} -> {to}"));
        }
        Ok(changed)
    }

    /// Replaces one model's current prices (the Prices view's edit): a new period from `from`.
    pub fn set_prices(&mut self, id: &str, period: PricePeriod) -> Result<(), PriceError> {
        let i = self
            .lookup(id)
            .ok_or_else(|| PriceError::UnknownTarget(id.into(), id.into()))?;
        let prices = &mut self.models[i].prices;
        prices.retain(|p| p.effective_from != period.effective_from);
        prices.push(period);
        self.reindex();
        Ok(())
    }

    /// The table as our file format (for `costlens prices --json` and saving overrides).
    pub fn to_file(&self) -> PriceFile {
        PriceFile {
            schema: Some("costlens-prices/1".into()),
            source: None,
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
        let long_context = per_m("input_cost_per_token_above_200k_tokens").map(|li| Rates {
            input: li,
            cache_write_5m: per_m("cache_creation_input_token_cost_above_200k_tokens")
                .unwrap_or(li * 1.25),
            cache_write_1h: li * 2.0,
            cache_read: per_m("cache_read_input_token_cost_above_200k_tokens").unwrap_or(li * 0.1),
            output: per_m("output_cost_per_token_above_200k_tokens").unwrap_or(output),
        });
        models.push(ModelPrice {
            id: model.clone(),
            display_names: vec![],
            aliases: vec![],
            family: family_of(model),
            note: Some(format!("from {name}")),
            data_residency_multiplier: None,
            fast_multiplier: None,
            prices: vec![PricePeriod {
                effective_from: NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
                standard: Rates {
                    input,
                    cache_write_5m: w5,
                    cache_write_1h: w1,
                    cache_read: read,
                    output,
                },
                long_context,
            }],
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
    } else {
        Family::Other
    }
}
