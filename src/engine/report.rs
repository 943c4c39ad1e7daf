//! The report: what `costlens report --json` prints, and what the app's tables export. One
//! structure, built from a priced view.

use crate::domain::dataset::Dataset;
use crate::domain::dataset::{DoubleCount, Overlap, Source};
use crate::domain::dataset::{FileSummary, Rejected};
use crate::domain::prices::PriceTable;
use crate::domain::records::Tokens;
use crate::domain::time::Period;
use crate::engine::forecast::{Budget, Forecast};
use crate::engine::opportunities::Opportunity;
use crate::engine::price_check::PriceCheck;
use crate::engine::scenario::{Levers, Observed, RouteTarget};
use crate::engine::view::{Dimension, Evaluation, ReplayCheck, TtlReplay, Unpriced, View};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WaterfallStep {
    pub lever: &'static str,
    pub label: &'static str,
    pub savings_usd: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeriesPoint {
    pub period: String,
    pub start: i64,
    pub actual_usd: f64,
    pub scenario_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_usd: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BreakdownRow {
    pub key: String,
    pub actual_usd: f64,
    pub scenario_usd: f64,
    /// The part of `scenario_usd` priced on the routing target (routed work stays on the row
    /// it came from).
    pub routed_usd: f64,
    pub tokens: Tokens<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report<'a> {
    /// `null` when nothing in the selection is priced (every model unknown): unknown, not $0.
    pub actual_usd: Option<f64>,
    pub scenario_usd: Option<f64>,
    pub savings_usd: Option<f64>,
    pub savings_pct: Option<f64>,
    /// What the cost exports say was billed, over the same periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_usd: Option<f64>,
    /// Recomputed minus billed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_difference_usd: Option<f64>,
    /// What the logs themselves report (Claude Code `costUSD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_usd: Option<f64>,
    pub period: Period,
    pub by: Dimension,
    pub levers: Levers,
    pub observed: Observed,
    pub tokens: Tokens<u64>,
    pub requests: u64,
    pub waterfall: Vec<WaterfallStep>,
    pub series: Vec<SeriesPoint>,
    pub breakdown: Vec<BreakdownRow>,
    pub unpriced: Vec<Unpriced>,
    /// The stale-price guard: the table's date, models it lacks, usage after its date.
    pub price_table: PriceCheck,
    /// How the figures were priced, where the user should know (secondary prices...).
    pub price_notes: Vec<String>,
    /// Rejected lines: the first of each file as examples (`file:line: reason`), then how
    /// many in all, and how many for each kind of reason (quoted values and numbers aside).
    pub rejected: Vec<Rejected>,
    pub rejected_total: u64,
    pub rejected_by_reason: Vec<ReasonCount>,
    /// The dataset's, borrowed: at 10 GB, 134,482 files' summaries and notes, which a copy
    /// added to the report's peak.
    pub files: &'a [FileSummary],
    /// Kinds of source the usage came from (keys for `--only-source`).
    pub sources: Vec<Source>,
    /// Files holding copies of the same rows (counted once unless `--sum-overlaps`).
    pub overlaps: Vec<Overlap>,
    /// Kinds of source covering the same days: likely the same usage twice.
    pub double_counts: Vec<DoubleCount>,
    /// About the import as a whole (the same file given twice...).
    pub notes: Vec<String>,
    /// Set when the usage was derived from a cost export (tokens = cost / list price).
    pub derived_from_cost: Option<crate::domain::dataset::Derived>,
    /// Files inside opened folders that are not usage files (skipped).
    pub unrecognised_files: Vec<String>,
    /// What the minimum cacheable prefix did to the scenario (set when caching or routing
    /// levers are).
    pub cache_minimum: Option<CacheMinimum>,
    /// The TTL replay of the requests with times of their own, at 5m and 1h (empty when
    /// none has a time: aggregated exports).
    pub ttl_replay: Vec<TtlReplay>,
    /// The replay's self-check: streams that wrote only 5-minute entries, actual cost against
    /// their 5-minute replay.
    pub ttl_replay_check: Option<ReplayCheck>,
    /// What the replay covers, in words.
    pub ttl_replay_notes: Vec<String>,
    /// The month-end forecast (method in `forecast.method`).
    pub forecast: Option<Forecast>,
    /// The monthly budget against the forecast (`--budget`).
    pub budget: Option<Budget>,
    /// Savings per API key, workspace, project and model at realistic lever settings,
    /// largest first.
    pub opportunities: Vec<Opportunity>,
    /// Models routing can target, cheapest first, with their prices.
    pub route_targets: Vec<RouteTarget>,
    /// What the usage history added (requests from deleted logs), when it was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::domain::dataset::HistoryUse>,
}

/// What the minimum cacheable prefix did to a scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CacheMinimum {
    /// Input tokens (scenario counts) in requests under the minimum cacheable prefix of the
    /// model they are priced on: left uncached.
    pub excluded_input_tokens: f64,
    /// Their share of the scenario's input.
    pub excluded_share: f64,
    /// Input tokens of aggregated rows (no request sizes): the minimum could not be checked.
    pub unsized_input_tokens: f64,
    pub notes: Vec<String>,
}

impl CacheMinimum {
    pub fn of(ev: &Evaluation) -> CacheMinimum {
        let share = |v: f64| {
            if ev.scenario_input > 0.0 {
                v / ev.scenario_input
            } else {
                0.0
            }
        };
        let mut notes = Vec::new();
        if ev.cache_excluded_input > 0.0 {
            notes.push(format!(
                "{} input tokens ({} of the scenario's input) are in requests under the minimum cacheable prefix of the model they are priced on: not cached.",
                crate::domain::money::count(ev.cache_excluded_input.round() as u64),
                crate::domain::money::pct(100.0 * share(ev.cache_excluded_input))
            ));
        }
        if ev.cache_unsized_input > 0.0 {
            notes.push(format!(
                "{} input tokens come from aggregated exports, which carry no request sizes: the minimum cacheable prefix could not be checked there, the caching levers apply to all of it.",
                crate::domain::money::count(ev.cache_unsized_input.round() as u64)
            ));
        }
        CacheMinimum {
            excluded_input_tokens: ev.cache_excluded_input,
            excluded_share: share(ev.cache_excluded_input),
            unsized_input_tokens: ev.cache_unsized_input,
            notes,
        }
    }
}

pub fn build<'a>(
    data: &'a Dataset,
    table: &PriceTable,
    view: &View,
    ev: &Evaluation,
    levers: &Levers,
) -> Report<'a> {
    let nd = view.dims.len().max(1);
    let actual_p = ev.actual_by_period(nd);
    let scen_p = ev.scenario_by_period(nd);
    let series = view
        .periods
        .iter()
        .enumerate()
        .map(|(i, &start)| SeriesPoint {
            period: view.spec.period.label(start),
            start,
            actual_usd: actual_p.get(i).copied().unwrap_or(0.0),
            scenario_usd: scen_p.get(i).copied().unwrap_or(0.0),
            billed_usd: view.billed.as_ref().map(|b| b[i]),
            reported_usd: view.reported.as_ref().map(|b| b[i]),
        })
        .collect();
    let (a_d, s_d) = (ev.actual_by_dim(nd), ev.scenario_by_dim(nd));
    let breakdown = view
        .dims
        .iter()
        .enumerate()
        .map(|(i, k)| BreakdownRow {
            key: k.clone(),
            actual_usd: a_d[i],
            scenario_usd: s_d[i],
            routed_usd: ev.routed_by_dim.get(i).copied().unwrap_or(0.0),
            tokens: view.dim_tokens.get(i).copied().unwrap_or_default(),
        })
        .collect();
    let billed = view.billed.as_ref().map(|b| b.iter().sum::<f64>());
    let priced = !view.nothing_priced();
    let known = |v: f64| priced.then_some(v);
    Report {
        actual_usd: known(ev.actual),
        scenario_usd: known(ev.scenario),
        savings_usd: known(ev.savings()),
        savings_pct: known(ev.savings_pct()),
        billed_usd: billed,
        billed_difference_usd: billed.filter(|_| priced).map(|b| ev.actual - b),
        reported_usd: view.reported.as_ref().map(|b| b.iter().sum()),
        period: view.spec.period,
        by: view.spec.dimension,
        levers: levers.clone(),
        observed: view.observed,
        tokens: view.tokens,
        requests: view.requests,
        waterfall: ev
            .waterfall
            .iter()
            .map(|&(st, s)| WaterfallStep {
                lever: st.key(),
                label: st.label(),
                savings_usd: s,
            })
            .collect(),
        series,
        breakdown,
        unpriced: view.unpriced.clone(),
        price_table: PriceCheck::of(data, table),
        price_notes: view.price_notes.clone(),
        rejected: data.rejected.clone(),
        rejected_total: data.rejected_total,
        rejected_by_reason: {
            let mut v: Vec<ReasonCount> = data
                .rejected_kinds
                .iter()
                .map(|(reason, &count)| ReasonCount {
                    reason: reason.clone(),
                    count,
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
            v
        },
        files: &data.files,
        sources: data.sources.clone(),
        overlaps: data.overlaps.clone(),
        double_counts: data.double_counts.clone(),
        notes: data.notes.clone(),
        derived_from_cost: data.derived.clone(),
        unrecognised_files: data.unrecognised.clone(),
        cache_minimum: (levers.caching_set() || levers.route_share > 0.0)
            .then(|| CacheMinimum::of(ev)),
        ttl_replay: Vec::new(),
        ttl_replay_check: None,
        ttl_replay_notes: Vec::new(),
        forecast: None,
        budget: None,
        opportunities: Vec::new(),
        route_targets: Vec::new(),
        history: data.history.clone(),
    }
}

/// A text cell as a spreadsheet will read it: a name from the data that starts like a formula
/// (`=HYPERLINK(...)`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so that
/// Excel, LibreOffice and Google Sheets show it as text instead of running it (OWASP's advice
/// for CSV injection).
pub fn spreadsheet_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

impl Report<'_> {
    /// The breakdown as CSV (the app's "Export table as CSV").
    pub fn breakdown_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            self.by.key(),
            "actual_usd",
            "scenario_usd",
            "savings_usd",
            "uncached_input",
            "cache_write_5m",
            "cache_write_1h",
            "cache_read",
            "output",
            "scenario_routed_usd",
        ]);
        for r in &self.breakdown {
            let t = r.tokens.as_array();
            let mut row = vec![
                spreadsheet_safe(&r.key),
                format!("{:.6}", r.actual_usd),
                format!("{:.6}", r.scenario_usd),
                format!("{:.6}", r.actual_usd - r.scenario_usd),
            ];
            row.extend(t.iter().map(|v| v.to_string()));
            row.push(format!("{:.6}", r.routed_usd));
            let _ = w.write_record(&row);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The series as CSV.
    pub fn series_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["period", "actual_usd", "scenario_usd", "billed_usd"]);
        for p in &self.series {
            let _ = w.write_record([
                p.period.clone(),
                format!("{:.6}", p.actual_usd),
                format!("{:.6}", p.scenario_usd),
                p.billed_usd.map(|b| format!("{b:.6}")).unwrap_or_default(),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}
