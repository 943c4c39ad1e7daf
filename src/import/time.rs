//! Timestamps as logs write them: RFC 3339 strings and Unix seconds (or milliseconds).
//!
//! The common shape `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` is parsed by hand: a Claude Code
//! log has one per line and this is the hot path of its import; the hand-written parser is
//! several times faster than chrono's (BENCHMARKS.md, "Timestamps"). Anything else goes
//! through chrono. A property test checks it against chrono on random timestamps (`tests`
//! below).

use super::values;
use serde::Deserialize;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The common shape `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` without chrono: Claude Code logs
/// have one per line, and this is the hot path of their import.
pub fn parse_rfc3339_fast(b: &[u8]) -> Option<i64> {
    fn num(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    }
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])? as i64, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = num(&[*h1, *h2])? as i64;
            let om = num(&[*m1, *m2])? as i64;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s.min(59)) as i64;
    Some(secs - offset)
}

/// Parses a timestamp string: RFC 3339 (`2026-02-18T11:30:24.575Z`, `...+02:00`), the same
/// without a zone (taken as UTC), or Unix seconds written as a string. Fractions of a second
/// are dropped. Returns Unix seconds.
pub fn parse_time_str(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(t) = parse_rfc3339_fast(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s.parse::<f64>().ok().and_then(parse_time_number);
    }
    None
}

/// A numeric timestamp: Unix seconds. Values above 10^11 (later than the year 5000 as
/// seconds) can only be milliseconds, which some loggers write; they are read as such.
/// `None` for a negative time or one after the year 9999.
pub fn parse_time_number(x: f64) -> Option<i64> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    let secs = if x > 1e11 { x / 1000.0 } else { x };
    // Later than 9999-12-31T23:59:59Z is not a time any log wrote (a 1e300 used to saturate
    // to i64::MAX and be imported as a date billions of years away; issue 5).
    if secs > 253_402_300_799.0 {
        return None;
    }
    Some(secs.floor() as i64)
}

/// A timestamp field as JSON logs write it: an RFC 3339 string or a Unix-seconds number.
/// Deserializes without failing: a value that is not a time is kept, for the error message.
#[derive(Clone, Debug, PartialEq)]
pub enum Stamp {
    At(i64),
    Invalid(String),
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Stamp;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a timestamp (RFC 3339 string or Unix seconds)")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Stamp, E> {
                Ok(match parse_time_str(s) {
                    None => Stamp::Invalid(format!("{s:?}")),
                    Some(t) if !(values::FIRST_TIME..values::END_TIME).contains(&t) => {
                        Stamp::Invalid(format!("{s:?} (dates run from 2020 to 2099)"))
                    }
                    Some(t) => Stamp::At(t),
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Stamp, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Stamp, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Stamp, E> {
                // A huge number is shown as 1e300, not as its 301 digits.
                let shown = || {
                    if v.abs() < 1e16 {
                        v.to_string()
                    } else {
                        format!("{v:e}")
                    }
                };
                Ok(match parse_time_number(v) {
                    None => Stamp::Invalid(shown()),
                    Some(t) if !(values::FIRST_TIME..values::END_TIME).contains(&t) => {
                        Stamp::Invalid(format!("{} (dates run from 2020 to 2099)", shown()))
                    }
                    Some(t) => Stamp::At(t),
                })
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Stamp, E> {
                Ok(Stamp::Invalid(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written parser agrees with chrono on every RFC 3339 timestamp of the
        /// common shape: any date from 1970 to 9999, fractions of any length, Z or an offset.
        #[test]
        fn agrees_with_chrono(
            secs in 0i64..253_402_300_799,
            frac in prop::option::of("[0-9]{1,9}"),
            offset in prop::option::of((any::<bool>(), 0u32..24, 0u32..60)),
            t_sep in prop_oneof![Just('T'), Just(' ')],
        ) {
            let d = chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
            let zone = match offset {
                None => "Z".to_owned(),
                Some((plus, h, m)) => format!("{}{h:02}:{m:02}", if plus { '+' } else { '-' }),
            };
            let text = format!(
                "{}{t_sep}{}{}{zone}",
                d.format("%Y-%m-%d"),
                d.format("%H:%M:%S"),
                frac.map(|f| format!(".{f}")).unwrap_or_default()
            );
            let ours = parse_rfc3339_fast(text.as_bytes());
            let theirs = chrono::DateTime::parse_from_rfc3339(&text).ok().map(|t| t.timestamp());
            prop_assert_eq!(ours, theirs, "{}", text);
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for s in [
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339_fast(s.as_bytes()), None, "{s}");
        }
    }
}
