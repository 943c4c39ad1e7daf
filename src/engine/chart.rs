//! The data behind the savings chart, shared by the app's dashboard, the PNG export and the
//! headless `costlens export`. Pure data: drawing lives in the app.

use crate::domain::money;
use crate::domain::time::Period;
use crate::engine::coverage::Coverage;
use crate::engine::scenario::{Levers, Observed};
use crate::engine::view::{Dimension, Evaluation, View};
use serde::Serialize;

pub use crate::engine::forecast::{Budget, Forecast, forecast_month_end};

#[derive(Clone, Debug, Default, Serialize)]
pub struct ChartData {
    pub title: String,
    pub period: Period,
    pub dimension: Dimension,
    /// Period starts (Unix seconds) and their labels.
    pub starts: Vec<i64>,
    pub labels: Vec<String>,
    /// Breakdown values (legend entries) and actual cost per [period][dim].
    pub dims: Vec<String>,
    pub cells: Vec<f64>,
    pub actual: Vec<f64>,
    pub scenario: Vec<f64>,
    pub billed: Option<Vec<f64>>,
    pub actual_total: f64,
    pub scenario_total: f64,
    pub billed_total: Option<f64>,
    pub caption: String,
    pub forecast: Option<Forecast>,
    /// Per period: whether usage data covers it (a file reports on it). A covered period
    /// without spend is a zero; an uncovered one is a gap, drawn as nothing. Empty: every
    /// period is covered (a chart not made from files, the calculator's).
    pub usage_covered: Vec<bool>,
    /// Per period: whether the cost export covers it (a bill that ends is not a drop to $0).
    pub billed_covered: Vec<bool>,
    /// The monthly budget against the forecast, when one is set: the cumulative chart draws
    /// it as a line.
    pub budget: Option<Budget>,
}

/// The most periods a chart is filled out to (every hour of a year is 8,760).
pub const MAX_DENSE_PERIODS: usize = 20_000;

/// The most series a chart stacks: beyond it the smallest are drawn as one "other" series
/// (6,000 API keys stacked one on another took a minute to draw, and no one reads them).
pub const MAX_SERIES: usize = 12;

/// Keeps the `MAX_SERIES - 1` dimension values with the most actual cost (in their order) and
/// sums the rest into one "Other" series: (labels, row-major [period][series] cells).
fn top_series(dims: Vec<String>, cells: &[f64], periods: usize) -> (Vec<String>, Vec<f64>) {
    let nd = dims.len();
    if nd <= MAX_SERIES {
        return (dims, cells.to_vec());
    }
    let mut totals = vec![0.0f64; nd];
    for (i, c) in cells.iter().enumerate() {
        totals[i % nd] += c;
    }
    let mut order: Vec<usize> = (0..nd).collect();
    order.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
    let mut keep: Vec<usize> = order[..MAX_SERIES - 1].to_vec();
    keep.sort_unstable();
    let mut slot = vec![MAX_SERIES - 1; nd];
    for (k, &d) in keep.iter().enumerate() {
        slot[d] = k;
    }
    let mut labels: Vec<String> = keep.iter().map(|&d| dims[d].clone()).collect();
    labels.push(format!("Other ({} more)", nd - keep.len()));
    let mut out = vec![0.0; periods * MAX_SERIES];
    for p in 0..periods {
        for d in 0..nd {
            out[p * MAX_SERIES + slot[d]] += cells.get(p * nd + d).copied().unwrap_or(0.0);
        }
    }
    (labels, out)
}

impl ChartData {
    pub fn new(view: &View, ev: &Evaluation, levers: &Levers, title: &str) -> ChartData {
        let nd = view.dims.len().max(1);
        let billed = view.billed.clone();
        let dims = view
            .dims
            .iter()
            .map(|d| readable_label(view.spec.dimension, d))
            .collect();
        let (dims, cells) = top_series(dims, &ev.actual_cells, view.periods.len());
        ChartData {
            title: title.to_owned(),
            period: view.spec.period,
            dimension: view.spec.dimension,
            starts: view.periods.clone(),
            labels: view
                .periods
                .iter()
                .map(|&p| view.spec.period.label(p))
                .collect(),
            dims,
            cells,
            actual: ev.actual_by_period(nd),
            scenario: ev.scenario_by_period(nd),
            billed_total: billed.as_ref().map(|b| b.iter().sum()),
            billed,
            actual_total: ev.actual,
            scenario_total: ev.scenario,
            caption: levers_caption(levers, &view.observed),
            forecast: None,
            usage_covered: Vec::new(),
            billed_covered: Vec::new(),
            budget: None,
        }
    }

    /// Every period from the first to the last one the data covers or has figures for (zeros
    /// where nothing was recorded), and which of them each kind of data covers. Charts with
    /// more than [`MAX_DENSE_PERIODS`] periods stay as they are (only periods with figures).
    pub fn with_coverage(mut self, cov: &Coverage) -> ChartData {
        let p = self.period;
        let Some((lo, hi)) = cov.range() else {
            return self;
        };
        let first = self
            .starts
            .first()
            .map_or(p.start(lo), |&s| s.min(p.start(lo)));
        let last = self
            .starts
            .last()
            .map_or(p.start(hi - 1), |&s| s.max(p.start(hi - 1)));
        let mut dense = Vec::new();
        let mut t = first;
        while t <= last && dense.len() <= MAX_DENSE_PERIODS {
            dense.push(t);
            t = p.next(t);
        }
        if dense.len() <= MAX_DENSE_PERIODS && dense.len() > self.starts.len() {
            let nd = self.dims.len().max(1);
            let mut cells = vec![0.0; dense.len() * nd];
            let mut actual = vec![0.0; dense.len()];
            let mut scenario = vec![0.0; dense.len()];
            let mut billed = self.billed.as_ref().map(|_| vec![0.0; dense.len()]);
            let mut j = 0;
            for (i, s) in self.starts.iter().enumerate() {
                while dense[j] < *s {
                    j += 1;
                }
                cells[j * nd..(j + 1) * nd].copy_from_slice(&self.cells[i * nd..(i + 1) * nd]);
                actual[j] = self.actual[i];
                scenario[j] = self.scenario[i];
                if let (Some(b), Some(old)) = (billed.as_mut(), self.billed.as_ref()) {
                    b[j] = old[i];
                }
            }
            self.labels = dense.iter().map(|&s| p.label(s)).collect();
            self.starts = dense;
            self.cells = cells;
            self.actual = actual;
            self.scenario = scenario;
            self.billed = billed;
        }
        // A period with figures is covered whatever the files say (a file without dates).
        self.usage_covered = (self
            .starts
            .iter()
            .zip(self.cells.chunks(self.dims.len().max(1))))
        .map(|(&s, c)| cov.usage_covers(s, p.next(s)) || c.iter().any(|v| *v != 0.0))
        .collect();
        self.billed_covered = (self.starts.iter().enumerate())
            .map(|(i, &s)| {
                cov.billed_covers(s, p.next(s)) || self.billed.as_ref().is_some_and(|b| b[i] != 0.0)
            })
            .collect();
        self
    }

    /// Whether usage data covers period `i`.
    pub fn usage_covers(&self, i: usize) -> bool {
        self.usage_covered.get(i).copied().unwrap_or(true)
    }

    /// Whether the cost export covers period `i`.
    pub fn billed_covers(&self, i: usize) -> bool {
        self.billed_covered.get(i).copied().unwrap_or(true)
    }

    pub fn savings(&self) -> f64 {
        self.actual_total - self.scenario_total
    }

    pub fn savings_pct(&self) -> f64 {
        if self.actual_total > 0.0 {
            100.0 * self.savings() / self.actual_total
        } else {
            0.0
        }
    }

    /// Width of one period in seconds (for bar widths).
    pub fn period_seconds(&self) -> f64 {
        match self.period {
            Period::Hour => 3600.0,
            Period::Day => 86400.0,
            Period::Week => 7.0 * 86400.0,
            Period::Month => 30.0 * 86400.0,
        }
    }

    /// Running totals of a series.
    pub fn cumulative(v: &[f64]) -> Vec<f64> {
        v.iter()
            .scan(0.0, |acc, x| {
                *acc += x;
                Some(*acc)
            })
            .collect()
    }

    /// One line of totals for captions: "Actual $X · Scenario $Y · Saving $Z (N%)", or
    /// "Extra cost" when the scenario costs more.
    pub fn totals_line(&self) -> String {
        let (word, amount) = money::saving_or_extra(self.savings());
        let mut s = format!(
            "Actual {}  ·  Scenario {}  ·  {word} {} ({})",
            money::usd(self.actual_total),
            money::usd(self.scenario_total),
            money::usd(amount),
            money::pct(self.savings_pct().abs())
        );
        if let Some(b) = self.billed_total {
            s.push_str(&format!("  ·  Billed {}", money::usd(b)));
        }
        s
    }
}

/// A breakdown value as people read it: token categories and tiers in words ("Cache read",
/// "Batch"); other values as they are.
pub fn readable_label(dim: Dimension, raw: &str) -> String {
    match dim {
        Dimension::Category => category_label(raw).to_owned(),
        Dimension::Tier => {
            let mut c = raw.chars();
            c.next()
                .map(|f| {
                    f.to_uppercase()
                        .chain(c)
                        .collect::<String>()
                        .replace('_', " ")
                })
                .unwrap_or_default()
        }
        _ => raw.to_owned(),
    }
}

/// "cache_read" -> "Cache read", for legends.
pub fn category_label(key: &str) -> &str {
    crate::domain::records::Category::ALL
        .iter()
        .find(|c| c.key() == key)
        .map(|c| c.label())
        .unwrap_or(if key == "web_search" {
            "Web search"
        } else {
            key
        })
}

/// The lever settings in words, for captions and exported charts.
pub fn levers_caption(l: &Levers, obs: &Observed) -> String {
    let mut parts = Vec::new();
    if l.traffic != 1.0 {
        parts.push(format!("traffic ×{:.2}", l.traffic));
    }
    if l.prompt_length != 1.0 {
        parts.push(format!("prompt length ×{:.2}", l.prompt_length));
    }
    if l.output_length != 1.0 {
        parts.push(format!("output length ×{:.2}", l.output_length));
    }
    if let Some(c) = l.cache_share {
        parts.push(format!(
            "cacheable share {:.0}% (observed {:.0}%)",
            100.0 * c,
            100.0 * obs.cache_share
        ));
    }
    if let Some(h) = l.cache_hit {
        parts.push(format!(
            "cache hit rate {:.0}% (observed {:.0}%)",
            100.0 * h,
            100.0 * obs.cache_hit
        ));
    }
    if l.cache_more > 0.0 {
        parts.push(format!(
            "{:.0}% of uncached input made a cached prefix",
            100.0 * l.cache_more
        ));
    }
    if let Some(t) = l.cache_ttl {
        parts.push(format!("cache TTL {}", t.label()));
    }
    if l.route_share > 0.0 {
        let to = if l.route_to.is_empty() {
            "Claude Haiku 4.5"
        } else {
            &l.route_to
        };
        let from = if l.route_from.is_empty() {
            "Sonnet and Opus".to_owned()
        } else {
            l.route_from.join(", ")
        };
        let tokens = match l.route_token_factor {
            Some(f) => format!(" (tokens x{f:.2} old to new tokenizer)"),
            None => String::new(),
        };
        parts.push(format!(
            "{:.0}% of {from} routed to {to}{tokens}",
            100.0 * l.route_share
        ));
    }
    if l.batch_share > 0.0 {
        parts.push(format!(
            "{:.0}% moved to the Batch API",
            100.0 * l.batch_share
        ));
    }
    if l.fast_to_standard > 0.0 {
        parts.push(format!(
            "{:.0}% of fast mode at standard speed",
            100.0 * l.fast_to_standard
        ));
    }
    if l.us_to_global > 0.0 {
        parts.push(format!(
            "{:.0}% of US-only inference moved to global",
            100.0 * l.us_to_global
        ));
    }
    if parts.is_empty() {
        "Scenario: no levers moved (scenario = actual)".to_owned()
    } else {
        format!("Scenario: {}", parts.join(", "))
    }
}
