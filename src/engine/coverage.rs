//! What the data covers: the days each file reports on. A chart draws zero where a source
//! covers a period and nothing was spent, and nothing (a gap, not a line across it) where no
//! source covers it: a cost export that simply ends is not a drop to $0, and weeks without
//! logs are not steady spend.

use crate::domain::dataset::Dataset;
use crate::domain::time::DAY;
use crate::engine::view::Filter;

/// Spans of time (start inclusive, end exclusive, Unix seconds) with usage data and with
/// billed data, merged and sorted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coverage {
    pub usage: Vec<(i64, i64)>,
    pub billed: Vec<(i64, i64)>,
}

impl Coverage {
    /// The coverage of the files of `data` that `filter` keeps (its sources and dates).
    pub fn of(data: &Dataset, filter: &Filter) -> Coverage {
        let mut usage = Vec::new();
        let mut billed = Vec::new();
        for f in &data.files {
            let Some((first, last)) = f.covers else {
                continue;
            };
            let source = data.sources.get(f.source as usize);
            if !filter.sources.is_empty()
                && !source.is_some_and(|s| filter.sources.contains(&s.key))
            {
                continue;
            }
            let mut span = (first, last + DAY);
            if let Some(from) = filter.from {
                span.0 = span.0.max(from);
            }
            if let Some(to) = filter.to {
                span.1 = span.1.min(to);
            }
            if span.0 >= span.1 {
                continue;
            }
            let cost = source.is_some_and(|s| s.is_cost());
            if cost {
                billed.push(span);
            }
            // A cost export alone is the usage too (derived from its money).
            if !cost || data.derived.is_some() {
                usage.push(span);
            }
        }
        Coverage {
            usage: merge(usage),
            billed: merge(billed),
        }
    }

    /// Whether usage data covers any of [start, end).
    pub fn usage_covers(&self, start: i64, end: i64) -> bool {
        covers(&self.usage, start, end)
    }

    /// Whether billed data covers any of [start, end).
    pub fn billed_covers(&self, start: i64, end: i64) -> bool {
        covers(&self.billed, start, end)
    }

    /// The first and last covered instant of either kind.
    pub fn range(&self) -> Option<(i64, i64)> {
        let lo = self.usage.iter().chain(&self.billed).map(|s| s.0).min()?;
        let hi = self.usage.iter().chain(&self.billed).map(|s| s.1).max()?;
        Some((lo, hi))
    }
}

fn merge(mut spans: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.0 <= last.1 => last.1 = last.1.max(s.1),
            _ => out.push(s),
        }
    }
    out
}

fn covers(spans: &[(i64, i64)], start: i64, end: i64) -> bool {
    // The first span ending after `start`; it covers if it starts before `end`.
    let i = spans.partition_point(|s| s.1 <= start);
    spans.get(i).is_some_and(|s| s.0 < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_and_answer_by_period() {
        let spans = merge(vec![(10 * DAY, 12 * DAY), (0, 3 * DAY), (2 * DAY, 5 * DAY)]);
        assert_eq!(spans, [(0, 5 * DAY), (10 * DAY, 12 * DAY)]);
        assert!(covers(&spans, 4 * DAY, 5 * DAY));
        assert!(!covers(&spans, 5 * DAY, 10 * DAY), "the gap");
        assert!(
            covers(&spans, 9 * DAY, 11 * DAY),
            "a period reaching into a span"
        );
        assert!(!covers(&spans, 12 * DAY, 20 * DAY));
    }
}
