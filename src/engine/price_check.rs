//! The stale-price guard. Prices change every few months and people run old builds: when the
//! data names a model the price table does not know, or has usage dated after the day the table
//! was last checked (`as_of`), the report, the CLI and the app say so, with the fixes (map the
//! model to a priced one, or load a newer price file).

use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// A model the table cannot price, and how much of the data it holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnknownModel {
    pub model: String,
    /// Tokens of usage rows (left out of every total).
    pub tokens: u64,
    /// Billed money of cost rows naming it (kept in the billed totals).
    pub billed_usd: f64,
}

/// What `report --json` prints as `price_table`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriceCheck {
    /// The day the prices were last checked.
    pub as_of: NaiveDate,
    /// Where the prices came from (the bundled table, then each file applied).
    pub sources: Vec<String>,
    /// Names the table has no price for, most tokens first.
    pub unknown_models: Vec<String>,
    /// The same, with volumes.
    pub unknown_model_volumes: Vec<UnknownModel>,
    /// True when some usage or billing is dated after `as_of`.
    pub usage_after_as_of: bool,
    /// The last day with usage or billing, if any.
    pub last_usage_day: Option<NaiveDate>,
}

impl PriceCheck {
    /// Checks every record and billed row of `data` against `table`.
    pub fn of(data: &Dataset, table: &PriceTable) -> PriceCheck {
        let mut unknown: BTreeMap<&str, UnknownModel> = BTreeMap::new();
        // One lookup per model symbol, not per record.
        let mut known: Vec<Option<bool>> = vec![None; data.symbols.len()];
        let mut is_known = |sym: u32| {
            *known[sym as usize]
                .get_or_insert_with(|| table.lookup(data.symbols.get(sym)).is_some())
        };
        let mut last: Option<i64> = None;
        for r in &data.records {
            last = last.max(Some(r.time));
            if !is_known(r.model) {
                let name = data.symbols.get(r.model);
                let e = unknown.entry(name).or_insert_with(|| UnknownModel {
                    model: name.to_owned(),
                    tokens: 0,
                    billed_usd: 0.0,
                });
                e.tokens = e.tokens.saturating_add(r.tokens.total());
            }
        }
        for b in &data.billed {
            last = last.max(Some(b.time));
            // Cost rows without a model (web search, code execution) need no price.
            let name = data.symbols.get(b.model);
            if !name.is_empty() && !is_known(b.model) {
                let e = unknown.entry(name).or_insert_with(|| UnknownModel {
                    model: name.to_owned(),
                    tokens: 0,
                    billed_usd: 0.0,
                });
                e.billed_usd += b.usd;
            }
        }
        let mut volumes: Vec<UnknownModel> = unknown.into_values().collect();
        volumes.sort_by(|a, b| {
            b.tokens
                .cmp(&a.tokens)
                .then(b.billed_usd.total_cmp(&a.billed_usd))
                .then(a.model.cmp(&b.model))
        });
        PriceCheck {
            as_of: table.as_of,
            sources: table.sources.clone(),
            unknown_models: volumes.iter().map(|u| u.model.clone()).collect(),
            unknown_model_volumes: volumes,
            usage_after_as_of: last.is_some_and(|t| t >= table.as_of_end()),
            last_usage_day: last
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| t.date_naive()),
        }
    }

    /// True when there is something to tell the user.
    pub fn fires(&self) -> bool {
        !self.unknown_models.is_empty() || self.usage_after_as_of
    }

    /// What to tell the user, in sentences, with the fix one flag away (`cli`: flags are
    /// named as the CLI spells them; otherwise as the app's buttons say).
    pub fn messages(&self, cli: bool) -> Vec<String> {
        let mut out = Vec::new();
        let (map, load) = if cli {
            (
                "map it to a priced model (--map NAME=MODEL)",
                "load a newer price file (--prices FILE: a costlens price file or LiteLLM's model_prices_and_context_window.json)",
            )
        } else {
            (
                "map it to a priced model (Map…)",
                "load a newer price file (Load price file…)",
            )
        };
        if !self.unknown_models.is_empty() {
            let shown: Vec<String> = self
                .unknown_model_volumes
                .iter()
                .take(5)
                .map(|u| {
                    if u.tokens > 0 {
                        format!(
                            "{} ({} tokens)",
                            u.model,
                            crate::domain::money::count(u.tokens)
                        )
                    } else {
                        format!(
                            "{} ({} billed)",
                            u.model,
                            crate::domain::money::usd(u.billed_usd)
                        )
                    }
                })
                .collect();
            let more = self.unknown_models.len().saturating_sub(5);
            let n = self.unknown_models.len();
            out.push(format!(
                "{} not in the price table (prices as of {}): {}{}. Their tokens are left out of the totals, never priced at $0: {map}, or {load}.",
                if n == 1 {
                    "1 model is".to_owned()
                } else {
                    format!("{n} models are")
                },
                self.as_of,
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if self.usage_after_as_of {
            out.push(format!(
                "Usage runs to {}, after the day the prices were last checked ({}): prices may have changed since; {load}.",
                self.last_usage_day.map(|d| d.to_string()).unwrap_or_default(),
                self.as_of
            ));
        }
        out
    }
}
