//! Time: the period widths a chart is drawn in, and days. Usage times are Unix seconds, UTC.

use chrono::{Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Seconds in an hour and in a day (UTC has no leap seconds in Unix time).
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;

/// The start (Unix seconds) of the UTC day holding `t`.
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Hour,
    #[default]
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Hour, Period::Day, Period::Week, Period::Month];

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.key() == s)
    }

    pub fn key(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// Start of the period containing `t` (UTC; weeks are ISO weeks, starting Monday).
    #[inline]
    pub fn start(self, t: i64) -> i64 {
        match self {
            Period::Hour => t.div_euclid(3600) * 3600,
            Period::Day => t.div_euclid(86400) * 86400,
            Period::Week => {
                let day = t.div_euclid(86400);
                // 1970-01-01 was a Thursday: Monday-based weekday = (day + 3) mod 7.
                (day - (day + 3).rem_euclid(7)) * 86400
            }
            // Calendar arithmetic, not chrono: views by month call this once per cube cell
            // (`month_start_matches_chrono` holds it to chrono on every day of 1900-2200).
            Period::Month => {
                let day = t.div_euclid(86400);
                let (_, _, d) = civil_from_days(day);
                (day - (d as i64 - 1)) * 86400
            }
        }
    }

    /// Start of the period after the one starting at `start`.
    pub fn next(self, start: i64) -> i64 {
        match self {
            Period::Hour => start + 3600,
            Period::Day => start + 86400,
            Period::Week => start + 7 * 86400,
            Period::Month => self.start(start + 32 * 86400),
        }
    }

    /// The start (UTC, Unix seconds) of a day written YYYY-MM-DD, from 2000 to 2099; `None`
    /// when it is not one (`26-08-01` is not the year 26: chrono would read it so).
    pub fn parse_day(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        if !(2000..=2099).contains(&d.year()) {
            return None;
        }
        Some(d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
    }

    /// A short label for an axis tick: `14:00` under hours (`Aug 12 14:00` at midnight),
    /// `Aug 12`, `W32`, `Aug 2026`.
    pub fn axis_label(self, start: i64) -> String {
        let d = Utc.timestamp_opt(start, 0).single().unwrap_or_default();
        match self {
            Period::Hour => d.format("%b %d %H:00").to_string(),
            Period::Day => d.format("%b %d").to_string(),
            Period::Week => format!("W{:02}", d.iso_week().week()),
            Period::Month => d.format("%b %Y").to_string(),
        }
    }

    /// The label and, for a week, the days it spans: `2026-W32 (Aug 03 to Aug 09)`.
    pub fn long_label(self, start: i64) -> String {
        match self {
            Period::Week => {
                let end = self.next(start) - DAY;
                format!(
                    "{} ({} to {})",
                    self.label(start),
                    Period::Day.axis_label(start),
                    Period::Day.axis_label(end)
                )
            }
            Period::Month => {
                let d = Utc.timestamp_opt(start, 0).single().unwrap_or_default();
                d.format("%B %Y").to_string()
            }
            _ => self.label(start),
        }
    }

    pub fn label(self, start: i64) -> String {
        let d = Utc.timestamp_opt(start, 0).single().unwrap_or_default();
        match self {
            Period::Hour => d.format("%Y-%m-%d %H:00").to_string(),
            Period::Day => d.format("%Y-%m-%d").to_string(),
            Period::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Period::Month => d.format("%Y-%m").to_string(),
        }
    }
}

/// With `$COSTLENS_TIMINGS` set, how long a phase took, on stderr (for profiling; the CLI's
/// `--json` output is unchanged), and where the process's memory stands when it ends (on
/// Linux: resident now and its peak so far).
pub fn timing(phase: &str, since: std::time::Instant) {
    if std::env::var_os("COSTLENS_TIMINGS").is_some() {
        eprintln!(
            "costlens: timing: {phase}: {:.1} ms{}",
            since.elapsed().as_secs_f64() * 1000.0,
            resident_memory()
        );
    }
}

/// `, resident N MB (peak M MB)` from `/proc/self/status`; empty where that is not there.
fn resident_memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let mb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb / 1024)
    };
    match (mb("VmRSS:"), mb("VmHWM:")) {
        (Some(now), Some(peak)) => format!(", resident {now} MB (peak {peak} MB)"),
        _ => String::new(),
    }
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_start_matches_chrono() {
        // Every day from 1900 to 2200, at midnight and one second before the next.
        let first = Utc
            .with_ymd_and_hms(1900, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let last = Utc
            .with_ymd_and_hms(2200, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let mut t = first;
        while t < last {
            for u in [t, t + 86_399] {
                let d = Utc.timestamp_opt(u, 0).single().unwrap();
                let want = Utc
                    .with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
                    .unwrap()
                    .timestamp();
                assert_eq!(Period::Month.start(u), want, "{d}");
                let (y, m, day) = civil_from_days(u.div_euclid(86_400));
                assert_eq!((y, m, day), (d.year() as i64, d.month(), d.day()), "{d}");
            }
            t += 86_400;
        }
    }
}
