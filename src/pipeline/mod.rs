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

use crate::domain::dataset::Dataset;
use crate::domain::prices::PriceTable;
use crate::domain::time::Period;
use crate::engine::chart::{ChartData, Forecast, forecast_month_end};
use crate::engine::cube::prompt_length_grid;
use crate::engine::price_check::PriceCheck;
use crate::engine::report::{self, Report};
use crate::engine::scenario::{LeverError, Levers, ResolvedLevers};
use crate::engine::view::{Evaluation, View, ViewSpec};
use load::Analysis;

pub struct Pipeline {
    analysis: Analysis,
    spec: ViewSpec,
    levers: Levers,
    view: View,
    resolved: Result<ResolvedLevers, LeverError>,
    evaluation: Evaluation,
    forecast: Option<Forecast>,
    price_check: PriceCheck,
    stale_view: bool,
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
            price_check,
            stale_view: true,
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
        self.analysis = Analysis::new(data, table, &grid);
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
            self.levers = levers;
            self.stale_evaluation = true;
        }
    }

    /// Rebuilds what is stale. Returns whether anything was.
    pub fn refresh(&mut self) -> bool {
        let rebuilt = self.stale_view || self.stale_evaluation;
        if self.stale_view {
            self.view = self.analysis.view(&self.spec);
            self.forecast = forecast(&self.analysis, &self.spec);
            self.stale_view = false;
            self.stale_evaluation = true;
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

    /// The stale-price guard over the whole dataset.
    pub fn price_check(&self) -> &PriceCheck {
        &self.price_check
    }

    /// What `report --json` prints and the app's tables export.
    pub fn report(&self) -> Report {
        report::build(
            &self.analysis.data,
            &self.analysis.table,
            &self.view,
            &self.evaluation,
            &self.levers,
        )
    }

    /// The chart of the current view and evaluation, with the forecast.
    pub fn chart(&self, title: &str) -> ChartData {
        let mut c = ChartData::new(&self.view, &self.evaluation, &self.levers, title);
        c.forecast = self.forecast.clone();
        c
    }

    /// A view of another spec over the same data (the cube is shared), unpriced.
    pub fn view_of(&self, spec: &ViewSpec) -> View {
        self.analysis.view(spec)
    }
}

/// The month-end forecast of actual cost over the spec's filter, from a daily view.
fn forecast(analysis: &Analysis, spec: &ViewSpec) -> Option<Forecast> {
    let daily = ViewSpec {
        period: Period::Day,
        dimension: crate::engine::view::Dimension::Tier,
        filter: spec.filter.clone(),
    };
    let view = analysis.view(&daily);
    let neutral = Levers::default().resolve(&analysis.table).ok()?;
    let ev = view.evaluate(&analysis.table, &neutral);
    let per_day = ev.actual_by_period(view.dims.len().max(1));
    let days: Vec<(i64, f64)> = view.periods.iter().copied().zip(per_day).collect();
    forecast_month_end(&days)
}
