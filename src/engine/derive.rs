//! Usage derived from a cost export, for people who have only the bill (many download only
//! the Console's cost CSV, or only the Admin cost report).
//!
//! A cost row is money for one model, token category and set of terms on one day; divided by
//! the list price of that category (with the batch, residency, fast and long-context terms of
//! the row) it gives the token count back, up to the rounding of the amount: Console amounts
//! have two decimals, so a $0.00 row is anything from 0 to half a cent's worth of tokens. The
//! derived rows then go through the same cube, views and levers as any usage, marked as
//! derived, with that uncertainty carried to the report. Money that names no model or token
//! category (code execution, a description the report could not read) stays billed money
//! only, and the report says how much.

use crate::domain::cost::{Terms, token_multiplier};
use crate::domain::dataset::{CostType, Dataset, Derived, NotDerived, Source};
use crate::domain::format::Format;
use crate::domain::prices::{PriceTable, Prompt};
use crate::domain::records::{Bucket, Context, Tokens, UsageRecord};
use std::collections::BTreeMap;

/// Adds usage rows derived from `data`'s billed rows, when the data holds no usage rows of
/// its own (a cost export alone); returns what was derived. Replaces rows derived before (the
/// price table may have changed since: a model mapped, a price file loaded).
pub fn derive_from_cost(data: &mut Dataset, table: &PriceTable) -> Option<Derived> {
    let is_cost = |data: &Dataset, s: u8| data.sources.get(s as usize).is_some_and(Source::is_cost);
    let only_derived = data.records.iter().all(|r| is_cost(data, r.source));
    if data.billed.is_empty() || !only_derived {
        return None;
    }
    data.records.clear();
    // Derived rows are of the kind of cost export their money came from (a filter on the
    // source keeps one of two).
    let mut sources: Vec<u8> = data.billed.iter().map(|b| b.source).collect();
    if sources.iter().any(|&s| !is_cost(data, s)) {
        // Rows merged without their source (not through the merger).
        let fallback = data.source_index(Source::of(Format::ConsoleCostCsv, Bucket::Day));
        for s in &mut sources {
            if !is_cost(data, *s) {
                *s = fallback;
            }
        }
    }
    let mut derived = Derived::default();
    let mut skipped: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    // One lookup per model name.
    let mut models: Vec<Option<Option<usize>>> = vec![None; data.symbols.len()];
    for (b, &source) in data.billed.iter().zip(&sources) {
        let model = *models[b.model as usize]
            .get_or_insert_with(|| table.lookup(data.symbols.get(b.model)));
        let name = data.symbols.get(b.model);
        let mut skip = |why: String| {
            let e = skipped.entry(why).or_default();
            e.0 += 1;
            e.1 += b.usd;
        };
        if b.usd < 0.0 {
            skip("negative amounts (credits)".into());
            continue;
        }
        let Some(m) = model else {
            skip(if name.is_empty() {
                match b.cost_type {
                    CostType::CodeExecution => "code execution".into(),
                    CostType::WebSearch => "web search without a model".into(),
                    _ => "cost without a model".into(),
                }
            } else {
                format!("the unpriced model {name}")
            });
            continue;
        };
        let entry = table.model(m);
        let period = entry.period_at(b.time);
        let prompt = Prompt::Long(b.long_context);
        let terms = Terms {
            tier: b.tier,
            prompt,
            geo: b.geo,
            speed: b.speed,
        };
        let mut tokens = [0u64; 5];
        let mut web_search = 0;
        // What the money bought (a token category, or searches), and its price per unit.
        let (category, unit) = match (b.cost_type, b.category) {
            (CostType::Tokens, Some(c)) => {
                let rates = entry.effective(period.rates_for(prompt).0);
                let unit =
                    rates.as_array()[c.index()] * token_multiplier(entry, period, &terms) / 1e6;
                (Some(c), unit)
            }
            (CostType::WebSearch, _) => (None, table.web_search_per_1k / 1000.0),
            (CostType::CodeExecution, _) => {
                skip("code execution".into());
                continue;
            }
            _ => {
                skip("cost without a token type".into());
                continue;
            }
        };
        if !(unit.is_finite() && unit > 0.0) {
            skip(format!("{name}, which has no list price for it"));
            continue;
        }
        let count = (b.usd / unit).round();
        let (lo, hi) = (
            ((b.usd - b.rounding_usd).max(0.0) / unit),
            (b.usd + b.rounding_usd) / unit,
        );
        match category {
            None => web_search = count as u64,
            Some(c) => {
                tokens[c.index()] = count as u64;
                derived.tokens += count as u64;
                derived.tokens_min += lo;
                derived.tokens_max += hi;
            }
        }
        derived.rows += 1;
        derived.usd += b.usd;
        derived.rounding_usd += b.rounding_usd;
        data.records.push(UsageRecord {
            time: b.time,
            bucket: Bucket::Day,
            model: b.model,
            tier: b.tier,
            context: Context::Flag(b.long_context),
            geo: b.geo,
            speed: b.speed,
            workspace: b.workspace,
            api_key: b.api_key,
            project: 0,
            session: 0,
            machine: 0,
            tokens: Tokens::from_array(tokens),
            web_search,
            requests: 0,
            source,
        });
    }
    derived.not_derived = skipped
        .into_iter()
        .map(|(reason, (rows, usd))| NotDerived { reason, rows, usd })
        .collect();
    Some(derived)
}
