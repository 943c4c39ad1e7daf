//! Formatting money and token counts for people (rounding happens only here, at the edge).

/// `$1,234.57`; negative amounts as `-$12.30`; amounts under a cent keep 4 decimals.
pub fn usd(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let neg = v < 0.0;
    let a = v.abs();
    let s = if a > 0.0 && a < 0.01 {
        format!("{a:.4}")
    } else {
        format!("{a:.2}")
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let sign = if neg && s.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        "-"
    } else {
        ""
    };
    format!("{sign}${}.{frac}", group(int))
}

/// Exact figure for tooltips: `$1,234.567891`.
pub fn usd_exact(v: f64) -> String {
    let s = format!("{:.6}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    format!("{}${}.{frac}", if v < 0.0 { "-" } else { "" }, group(int))
}

/// `1,234,567`.
pub fn count(v: u64) -> String {
    group(&v.to_string())
}

/// `1.2M`, `34.5K`, `999`.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}K", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// What a scenario's difference from the actual cost is called, and its size: a positive
/// difference is a "Saving", a negative one an "Extra cost" (never a saving with a minus sign).
pub fn saving_or_extra(saving: f64) -> (&'static str, f64) {
    if saving < 0.0 {
        ("Extra cost", -saving)
    } else {
        ("Saving", saving)
    }
}

/// `n file` or `n files`.
pub fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {one}s", count(n as u64))
    }
}

/// `12.3%`.
pub fn pct(v: f64) -> String {
    format!("{v:.1}%")
}

fn group(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
