//! Records out: one priced row per request (or aggregated row) with every dimension, for data
//! warehouses (DuckDB, Spark, BigQuery read the CSV as it is). Priced by the same function as
//! every figure of the report (`crate::domain::cost::price_record`), so the column `cost_usd`
//! adds up to the report's actual cost over the same filter.

use crate::domain::cost::price_record;
use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::engine::view::{Filter, THIS_MACHINE, model_label};
use crate::store::history::{geo_key, speed_key};
use std::collections::HashSet;

/// The columns, in order.
pub const COLUMNS: [&str; 31] = [
    "time",
    "unix_time",
    "bucket",
    "source",
    "model",
    "priced_as",
    "project",
    "session",
    "machine",
    "workspace",
    "api_key",
    "tier",
    "context",
    "geo",
    "speed",
    "requests",
    "uncached_input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "web_search_requests",
    "input_cost_usd",
    "cache_write_5m_cost_usd",
    "cache_write_1h_cost_usd",
    "cache_read_cost_usd",
    "output_cost_usd",
    "web_search_cost_usd",
    "cost_usd",
    "priced",
    "prices_as_of",
];

/// Writes the records of `data` that `filter` keeps as CSV (header [`COLUMNS`]), in time
/// order. A model without a price has empty cost columns and `priced` false: its cost is
/// unknown, not $0. Returns how many rows were written.
pub fn write_csv(
    data: &Dataset,
    table: &PriceTable,
    filter: &Filter,
    out: impl std::io::Write,
) -> Result<u64, csv::Error> {
    let syms = &data.symbols;
    let set = |v: &[String]| -> Option<HashSet<String>> {
        (!v.is_empty()).then(|| v.iter().cloned().collect())
    };
    let (models, workspaces, keys, machines) = (
        set(&filter.models),
        set(&filter.workspaces),
        set(&filter.api_keys),
        set(&filter.machines),
    );
    let ok = |s: &Option<HashSet<String>>, v: &str| s.as_ref().is_none_or(|s| s.contains(v));
    // Per symbol, once: the price entry and the label the model filter uses.
    let priced: Vec<Option<usize>> = (0..syms.len() as u32)
        .map(|s| table.lookup(syms.get(s)))
        .collect();
    let label: Vec<String> = (0..syms.len() as u32)
        .map(|s| model_label(table, syms.get(s)))
        .collect();
    let mut order: Vec<usize> = (0..data.records.len()).collect();
    order.sort_by_key(|&i| data.records.time(i));
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let as_of = table.as_of.to_string();
    let mut n = 0;
    let money = |v: f64| format!("{v:.10}");
    for i in order {
        let r = &data.records.get(i);
        let source = data.sources.get(r.source as usize);
        let machine = match syms.get(r.machine) {
            "" => THIS_MACHINE,
            m => m,
        };
        if filter.from.is_some_and(|f| r.time < f)
            || filter.to.is_some_and(|t| r.time >= t)
            || !(filter.sources.is_empty()
                || source.is_some_and(|s| filter.sources.contains(&s.key)))
            || !ok(&models, &label[r.model as usize])
            || !ok(&workspaces, syms.get(r.workspace))
            || !ok(&keys, syms.get(r.api_key))
            || !ok(&machines, machine)
        {
            continue;
        }
        let time = chrono::DateTime::from_timestamp(r.time, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        let t = &r.tokens;
        let model = priced[r.model as usize];
        let cost = model.map(|m| price_record(table, m, r));
        let c = |f: fn(&crate::domain::cost::Cost) -> f64| {
            cost.as_ref().map_or(String::new(), |c| money(f(c)))
        };
        let row: [String; 31] = [
            time,
            r.time.to_string(),
            match r.bucket {
                crate::domain::records::Bucket::Request => "request",
                crate::domain::records::Bucket::Minute => "minute",
                crate::domain::records::Bucket::Hour => "hour",
                crate::domain::records::Bucket::Day => "day",
            }
            .to_owned(),
            source.map_or(String::new(), |s| s.key.clone()),
            syms.get(r.model).to_owned(),
            model.map_or(String::new(), |m| table.model(m).id.clone()),
            syms.get(r.project).to_owned(),
            syms.get(r.session).to_owned(),
            machine.to_owned(),
            syms.get(r.workspace).to_owned(),
            syms.get(r.api_key).to_owned(),
            r.tier.key().to_owned(),
            match r.context {
                crate::domain::records::Context::Request => "request",
                crate::domain::records::Context::Flag(true) => "long",
                crate::domain::records::Context::Flag(false) => "short",
            }
            .to_owned(),
            geo_key(r.geo).to_owned(),
            speed_key(r.speed).to_owned(),
            r.requests.to_string(),
            t.uncached_input.to_string(),
            t.cache_write_5m.to_string(),
            t.cache_write_1h.to_string(),
            t.cache_read.to_string(),
            t.output.to_string(),
            r.web_search.to_string(),
            c(|c| c.uncached_input),
            c(|c| c.cache_write_5m),
            c(|c| c.cache_write_1h),
            c(|c| c.cache_read),
            c(|c| c.output),
            c(|c| c.web_search),
            c(|c| c.total()),
            model.is_some().to_string(),
            as_of.clone(),
        ];
        w.write_record(&row)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}
