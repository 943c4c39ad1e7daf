//! The pipeline, the top layer of the core: loading files ([`load`]), then
//! inputs → dataset → cube → view (a spec: period, breakdown, filter) →
//! evaluation (levers) → report, chart data and forecast. The CLI, the app, the PNG export
//! and the benchmarks all go through it, so the stages are put together in one place.
//!
//! Each stage is kept and rebuilt only when what it depends on changed: a lever change
//! re-evaluates the view (a few hundred groups, microseconds), a filter or breakdown change
//! rebuilds the view from the cube, new prices re-derive usage from cost where it was derived
//! and rebuild the cube when the table's tier thresholds changed, new data rebuilds it all.

pub mod load;
pub mod records;
mod splice;

use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::domain::time::Period;
use crate::engine::chart::ChartData;
use crate::engine::cube::prompt_length_grid;
use crate::engine::forecast::{self, Budget, Forecast, SourceDays};
use crate::engine::opportunities::{self, Opportunity};
use crate::engine::price_check::PriceCheck;
use crate::engine::report::{self, Report};
use crate::engine::scenario::{LeverError, Levers, ResolvedLevers, RouteTarget};
use crate::engine::view::{Evaluation, ReplaySummary, View, ViewSpec};
use load::Analysis;
use std::sync::OnceLock;

pub struct Pipeline {
    analysis: Analysis,
    spec: ViewSpec,
    levers: Levers,
    view: View,
    resolved: Result<ResolvedLevers, LeverError>,
    evaluation: Evaluation,
    forecast: Option<Forecast>,
    /// Monthly budget, USD.
    budget_usd: Option<f64>,
    /// Any instant of today (the clock's, from the CLI and the app): a month that ended
    /// before it is estimated, not forecast. `None`: nothing is past.
    today: Option<i64>,
    /// Computed on demand for the current view, dropped when it is rebuilt.
    replay: OnceLock<ReplaySummary>,
    opportunities: OnceLock<Vec<Opportunity>>,
    price_check: PriceCheck,
    stale_view: bool,
    /// Only the forecast is stale (today changed).
    stale_forecast: bool,
    stale_evaluation: bool,
    /// Milliseconds the last evaluation took.
    pub evaluate_ms: f64,
    /// Counts the rebuilds: whoever draws from the pipeline redraws when it changes.
    generation: u64,
}

impl Pipeline {
    /// A pipeline over `data` priced by `table`, exact at the prompt-length slider's steps.
    pub fn new(data: Dataset, table: PriceTable) -> Pipeline {
        Pipeline::with_grid(data, table, &prompt_length_grid())
    }

    /// [`Pipeline::new`] exact at the prompt-length values of `grid` (the CLI adds the one it
    /// was given).
    pub fn with_grid(data: Dataset, table: PriceTable, grid: &[f64]) -> Pipeline {
        Pipeline::from_analysis(Analysis::new(data, table, grid))
    }

    pub fn from_analysis(analysis: Analysis) -> Pipeline {
        Pipeline::from_analysis_at(analysis, None)
    }

    /// [`Pipeline::from_analysis`] with today set (see [`Pipeline::set_today`]) before the
    /// first view and forecast are made.
    pub fn from_analysis_at(analysis: Analysis, today: Option<i64>) -> Pipeline {
        let price_check = PriceCheck::of(&analysis.data, &analysis.table);
        let resolved = Levers::default().resolve(&analysis.table);
        let mut p = Pipeline {
            analysis,
            spec: ViewSpec::default(),
            levers: Levers::default(),
            view: View::default(),
            resolved,
            evaluation: Evaluation::default(),
            forecast: None,
            budget_usd: None,
            today,
            replay: OnceLock::new(),
            opportunities: OnceLock::new(),
            price_check,
            stale_view: true,
            stale_forecast: false,
            stale_evaluation: true,
            evaluate_ms: 0.0,
            generation: 0,
        };
        p.refresh();
        p
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    pub fn data(&self) -> &Dataset {
        &self.analysis.data
    }

    pub fn table(&self) -> &PriceTable {
        &self.analysis.table
    }

    pub fn spec(&self) -> &ViewSpec {
        &self.spec
    }

    pub fn levers(&self) -> &Levers {
        &self.levers
    }

    /// Replaces the data (a new import): every stage is rebuilt.
    pub fn set_data(&mut self, data: Dataset) {
        let grid = self.analysis.cube.grid().to_vec();
        let table = std::mem::take(&mut self.analysis.table);
        self.analysis = Analysis::for_levers(data, table, &grid, &self.levers);
        self.price_check = PriceCheck::of(&self.analysis.data, &self.analysis.table);
        self.stale_view = true;
    }

    /// Changes the price table through `edit` (a mapping, a price file, an edited price):
    /// usage derived from cost is derived again, the cube rebuilt if the tier thresholds
    /// changed, and the view and the guard recomputed.
    pub fn edit_table<R>(&mut self, edit: impl FnOnce(&mut PriceTable) -> R) -> R {
        let r = edit(&mut self.analysis.table);
        self.analysis.table_changed();
        self.price_check = PriceCheck::of(&self.analysis.data, &self.analysis.table);
        self.stale_view = true;
        r
    }

    /// Sets what the view shows; rebuilds it (at the next refresh) only if it changed.
    pub fn set_spec(&mut self, spec: ViewSpec) {
        if spec != self.spec {
            self.spec = spec;
            self.stale_view = true;
        }
    }

    /// Sets the levers; re-evaluates (at the next refresh) only if they changed.
    pub fn set_levers(&mut self, levers: Levers) {
        if levers != self.levers {
            // A prompt length or token factor the cube was not banded on rebuilds it first.
            if self.analysis.make_exact_at(&levers) {
                self.stale_view = true;
            }
            self.levers = levers;
            self.stale_evaluation = true;
        }
    }

    /// Rebuilds what is stale. Returns whether anything was.
    pub fn refresh(&mut self) -> bool {
        let rebuilt = self.stale_view || self.stale_forecast || self.stale_evaluation;
        if self.stale_view {
            let t = std::time::Instant::now();
            // The forecast's daily view by source is built beside the view shown.
            (self.view, self.forecast) = rayon::join(
                || self.analysis.view(&self.spec),
                || forecast(&self.analysis, &self.spec, self.today),
            );
            crate::domain::time::timing("view and forecast", t);
            self.replay = OnceLock::new();
            self.opportunities = OnceLock::new();
            self.stale_view = false;
            self.stale_forecast = false;
            self.stale_evaluation = true;
        }
        if self.stale_forecast {
            self.forecast = forecast(&self.analysis, &self.spec, self.today);
            self.stale_forecast = false;
            self.generation += 1;
        }
        if self.stale_evaluation {
            let t = std::time::Instant::now();
            self.resolved = self.levers.resolve(&self.analysis.table);
            let neutral;
            let levers = match &self.resolved {
                Ok(r) => r,
                // Levers naming a model the table lacks: the actual cost, and the error shown.
                Err(_) => {
                    neutral = Levers::default()
                        .resolve(&self.analysis.table)
                        .expect("neutral levers always resolve");
                    &neutral
                }
            };
            self.evaluation = self.view.evaluate(&self.analysis.table, levers);
            self.evaluate_ms = t.elapsed().as_secs_f64() * 1000.0;
            self.stale_evaluation = false;
            self.generation += 1;
        }
        rebuilt
    }

    /// Changes whenever the view or the evaluation was rebuilt.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn evaluation(&self) -> &Evaluation {
        &self.evaluation
    }

    /// The levers resolved against the table, or why they could not be.
    pub fn resolved(&self) -> Result<&ResolvedLevers, &LeverError> {
        self.resolved.as_ref()
    }

    pub fn forecast(&self) -> Option<&Forecast> {
        self.forecast.as_ref()
    }

    /// Sets today (any instant of it; `None`: nothing is past): the forecast is made again
    /// at the next refresh if the day changed.
    pub fn set_today(&mut self, today: Option<i64>) {
        let day = |t: Option<i64>| t.map(|t| crate::domain::time::Period::Day.start(t));
        if day(today) != day(self.today) {
            self.today = today;
            self.stale_forecast = true;
        }
    }

    /// Sets the monthly budget (USD; `None` for none).
    pub fn set_budget(&mut self, monthly_usd: Option<f64>) {
        let b = monthly_usd.filter(|v| v.is_finite() && *v > 0.0);
        if b != self.budget_usd {
            self.budget_usd = b;
            self.generation += 1;
        }
    }

    /// The budget against the month-end forecast, when a budget is set.
    pub fn budget(&self) -> Option<Budget> {
        let b = self.budget_usd?;
        Some(match &self.forecast {
            Some(f) => Budget::of(f, b),
            None => Budget {
                monthly_usd: b,
                ..Budget::default()
            },
        })
    }

    /// The TTL replay of the current view (computed once per view).
    pub fn replay(&self) -> &ReplaySummary {
        self.replay
            .get_or_init(|| self.view.replay_summary(&self.analysis.table))
    }

    /// Savings at realistic lever settings per API key, workspace, project and model of the
    /// current filter, largest first (computed once per view: a few view builds).
    pub fn opportunities(&self) -> &[Opportunity] {
        self.opportunities.get_or_init(|| {
            opportunities::find(
                &self.analysis.cube,
                &self.analysis.data,
                &self.analysis.table,
                &self.spec.filter,
            )
        })
    }

    /// Models the routing lever can target, cheapest first (only those cheaper than a source
    /// model unless `all`), with their prices.
    pub fn route_targets(&self, all: bool) -> Vec<RouteTarget> {
        crate::engine::scenario::route_targets(&self.analysis.table, &self.levers.route_from, all)
    }

    /// The stale-price guard over the whole dataset.
    pub fn price_check(&self) -> &PriceCheck {
        &self.price_check
    }

    /// What `report --json` prints and the app's tables export.
    pub fn report(&self) -> Report<'_> {
        let mut r = report::build(
            &self.analysis.data,
            &self.analysis.table,
            &self.view,
            &self.evaluation,
            &self.levers,
        );
        if let Ok(l) = &self.resolved {
            r.levers = l.shown();
        }
        let t = std::time::Instant::now();
        let replay = self.replay();
        crate::domain::time::timing("TTL replay", t);
        r.ttl_replay = replay.ttls.clone();
        r.ttl_replay_check = replay.check.clone();
        r.ttl_replay_notes = replay_notes(replay);
        r.forecast = self.forecast.clone();
        r.budget = self.budget();
        let t = std::time::Instant::now();
        r.opportunities = self.opportunities().to_vec();
        crate::domain::time::timing("opportunities", t);
        r.route_targets = self.route_targets(false);
        r
    }

    /// The chart of the current view and evaluation, with the forecast and the budget.
    pub fn chart(&self, title: &str) -> ChartData {
        let mut c =
            ChartData::new(&self.view, &self.evaluation, &self.levers, title).with_coverage(
                &crate::engine::coverage::Coverage::of(&self.analysis.data, &self.spec.filter),
            );
        c.forecast = self.forecast.clone();
        c.budget = self.budget();
        c
    }

    /// A view of another spec over the same data (the cube is shared), unpriced.
    pub fn view_of(&self, spec: &ViewSpec) -> View {
        self.analysis.view(spec)
    }
}

/// What the TTL replay covers, in words.
fn replay_notes(r: &ReplaySummary) -> Vec<String> {
    let mut notes = Vec::new();
    if r.ttls.is_empty() {
        if r.not_replayed_input_tokens > 0 {
            notes.push(
                "No request in this selection has a time of its own (aggregated exports, batch results): the TTL lever reprices cache writes at the other TTL's price, it cannot replay the timeline.".to_owned(),
            );
        }
        return notes;
    }
    notes.push(format!(
        "{} requests with times of their own replayed: streams are Claude Code sessions on one model, else API key x model x workspace; a request's cached tokens are read when the stream's previous request came less than the TTL earlier (up to what that request cached), written otherwise.",
        crate::domain::money::count(r.requests)
    ));
    if r.not_replayed_input_tokens > 0 {
        notes.push(format!(
            "{} input tokens have no request times (aggregated exports, batch results): the TTL lever reprices their writes only.",
            crate::domain::money::count(r.not_replayed_input_tokens)
        ));
    }
    if let Some(c) = &r.check {
        notes.push(format!(
            "Self-check: the 5-minute replay of the {} requests of streams that wrote 5-minute entries costs {} against {} actual ({:+.2}%).",
            crate::domain::money::count(c.requests),
            crate::domain::money::usd(c.replay_5m_usd),
            crate::domain::money::usd(c.actual_usd),
            c.difference_pct
        ));
    }
    notes
}

/// The month-end forecast of actual cost over the spec's filter, from a daily view by kind
/// of source ([`forecast::forecast`] states the method).
fn forecast(analysis: &Analysis, spec: &ViewSpec, today: Option<i64>) -> Option<Forecast> {
    let daily = ViewSpec {
        period: Period::Day,
        dimension: crate::engine::view::Dimension::Source,
        filter: spec.filter.clone(),
    };
    let view = analysis.view(&daily);
    let neutral = Levers::default().resolve(&analysis.table).ok()?;
    let ev = view.evaluate(&analysis.table, &neutral);
    let nd = view.dims.len().max(1);
    let sources: Vec<SourceDays> = view
        .dims
        .iter()
        .enumerate()
        .map(|(d, label)| SourceDays {
            label: label.clone(),
            days: view
                .periods
                .iter()
                .enumerate()
                .map(|(p, &t)| (t, ev.actual_cells[p * nd + d]))
                .collect(),
        })
        .collect();
    let data_last_day = analysis.data.records.iter().map(|r| r.time).max();
    forecast::forecast(&sources, data_last_day, today)
}
