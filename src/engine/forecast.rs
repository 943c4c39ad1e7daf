//! The month-end forecast and the budget (`what-if.md`, "Planning").
//!
//! The method, as the dashboard and `report --json` state it:
//!
//! - The month forecast is the month of the last day with data in the selection (D). A month
//!   that ended before the data's last day (a date filter, or a selection whose usage stopped
//!   while the data goes on) is over: its figure is what was spent, nothing is projected.
//!   When every source's data reaches the month's last day, the month is complete too.
//! - Each kind of source (Console export, Claude Code logs, ...) is projected on its own, over
//!   the days it covers: its coverage runs from its first to its last day with data. Its run
//!   rate is its cost over the last 7 calendar days of its coverage (days without usage
//!   count as zero; a source covering fewer days is averaged over those), and it is projected
//!   from the day after its own last day to the end of the month. A source whose data ends
//!   before the month began is not projected.
//! - The forecast is what was spent in the month plus every source's projection.
//!
//! - A month that ended before today (an old export that stops inside its month) is not a
//!   forecast: the same projection estimates the days the data does not cover, and is said
//!   to be that ("Estimated", not "Forecast"). Today is given by the caller (the CLI and the
//!   app pass the clock's date; without one nothing is past).
//!
//! So one $5.45 day in a week of otherwise empty logs is a run rate of $0.78 a day, not
//! $5.45, and a Console export that ends on the 10th is projected from the 11th even when the
//! Claude Code logs go on to the 20th.

use crate::domain::time::{DAY, Period};
use chrono::{Datelike, TimeZone, Utc};
use serde::Serialize;

/// Calendar days the run rate is taken over.
pub const RUN_RATE_DAYS: i64 = 7;

/// The daily actual cost of one kind of source: `(day start, cost)`, ascending.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceDays {
    pub label: String,
    pub days: Vec<(i64, f64)>,
}

/// How one source was projected.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceForecast {
    pub source: String,
    /// Its coverage: first and last day with data (YYYY-MM-DD).
    pub first_day: String,
    pub last_day: String,
    /// Spent in the month, up to its last day.
    pub spent_usd: f64,
    /// Its cost over the run-rate window, per calendar day.
    pub daily_rate_usd: f64,
    /// Calendar days of the run-rate window (7, or fewer when it covers fewer).
    pub rate_days: u32,
    /// Days projected: from the day after its last day to the end of the month.
    pub projected_days: u32,
    pub forecast_usd: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Forecast {
    /// e.g. "2026-10".
    pub month: String,
    /// Spent so far in the month.
    pub to_date: f64,
    /// Forecast total at month end (= `to_date` when the month is over).
    pub month_end: f64,
    /// Sum of the projected sources' daily run rates.
    pub daily_rate: f64,
    /// First instant of the month and first instant after it, Unix seconds.
    pub month_start: i64,
    pub month_end_time: i64,
    /// Last day with data in the selection (its start), Unix seconds.
    pub last_day: i64,
    /// The month is over: nothing is projected.
    pub complete: bool,
    /// The month ended before today while the data stops short of its end: the projection
    /// estimates the days the data does not cover (nothing is still to come).
    pub past: bool,
    /// The method and what it found, in words (shown beside the figure).
    pub method: String,
    pub sources: Vec<SourceForecast>,
    /// Cumulative cost of the month at the end of each of its days (actual, then projected
    /// per source): what the budget line is crossed on.
    #[serde(skip)]
    pub path: Vec<(i64, f64)>,
}

fn day_label(t: i64) -> String {
    Period::Day.label(t)
}

/// The forecast of the month of the last day with data in `sources` (see the module
/// documentation). `data_last_day`: the last day with data in the whole dataset, which
/// tells a month that is over from one the selection merely ends in. `today`: any instant of
/// today, which tells a month still running from one that ended before today.
pub fn forecast(
    sources: &[SourceDays],
    data_last_day: Option<i64>,
    today: Option<i64>,
) -> Option<Forecast> {
    // Coverage of each source: its first and last day with data.
    let covered: Vec<(&SourceDays, i64, i64)> = sources
        .iter()
        .filter_map(|s| {
            let mut with = s.days.iter().filter(|(_, c)| *c != 0.0);
            let first = with.next()?.0;
            let last = with.next_back().map_or(first, |d| d.0);
            Some((s, Period::Day.start(first), Period::Day.start(last)))
        })
        .collect();
    let last_day = covered.iter().map(|c| c.2).max()?;
    let month_start = Period::Month.start(last_day);
    let month_end_time = Period::Month.next(month_start);
    let d = Utc.timestamp_opt(last_day, 0).single()?;
    let month = format!("{}-{:02}", d.year(), d.month());
    let data_end = data_last_day
        .map(|t| Period::Day.start(t))
        .unwrap_or(last_day);
    let over = data_end >= month_end_time;
    let days_in_month = ((month_end_time - month_start) / DAY) as usize;
    // Actual cost per day of the month, all sources.
    let mut per_day = vec![0.0f64; days_in_month];
    let mut f = Forecast {
        month,
        month_start,
        month_end_time,
        last_day,
        ..Forecast::default()
    };
    // Projection per day of the month (added from each source's day after its last day).
    let mut projected = vec![0.0f64; days_in_month];
    for &(s, first, last) in &covered {
        let in_month = |t: i64| t >= month_start && t < month_end_time;
        let spent: f64 = s
            .days
            .iter()
            .filter(|(t, _)| in_month(*t))
            .map(|(_, c)| c)
            .sum();
        for &(t, c) in s.days.iter().filter(|(t, _)| in_month(*t)) {
            per_day[((Period::Day.start(t) - month_start) / DAY) as usize] += c;
        }
        let mut sf = SourceForecast {
            source: s.label.clone(),
            first_day: day_label(first),
            last_day: day_label(last),
            spent_usd: spent,
            forecast_usd: spent,
            ..SourceForecast::default()
        };
        if !over && last >= month_start && last + DAY < month_end_time {
            let from = first.max(last - (RUN_RATE_DAYS - 1) * DAY);
            let window: f64 = s
                .days
                .iter()
                .filter(|(t, _)| *t >= from && *t < last + DAY)
                .map(|(_, c)| c)
                .sum();
            let n = (last - from) / DAY + 1;
            let rate = window / n as f64;
            let projected_days = ((month_end_time - last) / DAY - 1).max(0);
            sf.daily_rate_usd = rate;
            sf.rate_days = n as u32;
            sf.projected_days = projected_days as u32;
            sf.forecast_usd = spent + rate * projected_days as f64;
            for p in projected
                .iter_mut()
                .skip(((last + DAY - month_start) / DAY) as usize)
            {
                *p += rate;
            }
            f.daily_rate += rate;
        }
        f.to_date += spent;
        f.month_end += sf.forecast_usd;
        f.sources.push(sf);
    }
    let complete = over || f.sources.iter().all(|s| s.projected_days == 0);
    f.complete = complete;
    let today = today.map(|t| Period::Day.start(t));
    f.past = !complete && today.is_some_and(|t| t >= month_end_time);
    let mut cumulative = 0.0;
    f.path = (0..days_in_month)
        .map(|i| {
            cumulative += per_day[i] + projected[i];
            (month_start + i as i64 * DAY, cumulative)
        })
        .collect();
    let ends = format!("Data ends on {}", day_label(last_day));
    f.method = if over {
        format!(
            "{ends}; the data goes on to {}: {} is over, nothing is projected.",
            day_label(data_end),
            f.month
        )
    } else if complete {
        format!("{ends}, the month's last day: {} is complete.", f.month)
    } else {
        let stopped: Vec<&str> = f
            .sources
            .iter()
            .zip(&covered)
            .filter(|(_, c)| c.2 < month_start)
            .map(|(s, _)| s.source.as_str())
            .collect();
        let mut m = if f.past {
            format!(
                "{ends}, but {} ended before today ({}): the data misses its last days. Estimated: spent in the data plus each source's run rate over the last {RUN_RATE_DAYS} calendar days it covers (days without usage count as zero), for the days after its last day. Load the rest of the month for its real figure.",
                f.month,
                day_label(today.unwrap_or_default())
            )
        } else {
            format!(
                "{ends}. Spent so far plus each source's run rate over the last {RUN_RATE_DAYS} calendar days it covers (days without usage count as zero), from the day after its last day to the end of the month."
            )
        };
        if !stopped.is_empty() {
            m.push_str(&format!(
                " Not projected (no data this month): {}.",
                stopped.join(", ")
            ));
        }
        m
    };
    Some(f)
}

/// Month-end forecast from one series of daily costs `(day start, cost)`, ascending.
pub fn forecast_month_end(days: &[(i64, f64)]) -> Option<Forecast> {
    forecast(
        &[SourceDays {
            label: "all".into(),
            days: days.to_vec(),
        }],
        None,
        None,
    )
}

/// The monthly budget against the forecast (`report --json` `budget`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Budget {
    pub monthly_usd: f64,
    /// The forecast's month, e.g. "2026-10".
    pub month: String,
    pub spent_usd: f64,
    pub forecast_usd: f64,
    /// The first day on which the month's cumulative cost (actual, then forecast) is above
    /// the budget (YYYY-MM-DD); `None` when it stays within it.
    pub exceeds_on: Option<String>,
}

impl Budget {
    pub fn of(f: &Forecast, monthly_usd: f64) -> Budget {
        Budget {
            monthly_usd,
            month: f.month.clone(),
            spent_usd: f.to_date,
            forecast_usd: f.month_end,
            exceeds_on: f
                .path
                .iter()
                .find(|(_, c)| *c > monthly_usd)
                .map(|(t, _)| day_label(*t)),
        }
    }

    /// True when the forecast is above the budget.
    pub fn exceeded(&self) -> bool {
        self.forecast_usd > self.monthly_usd
    }
}
