//! What a value in a usage file may be: the labels of the context window, and the bounds past
//! which a count, an amount or a date is not usage but a typo, a corrupt file or an attack
//! (`u64::MAX` tokens once made $55 trillion; year 0026 made a chart of twenty centuries).
//! Every importer checks its values here, so the bounds are one set, and a value past them is
//! rejected with its reason, never imported.

use crate::domain::records::Tokens;

/// The most tokens one API request can hold in one category (the largest context window is
/// 1M tokens; output is smaller): generous, so only nonsense is refused.
pub const MAX_REQUEST_TOKENS: u64 = 100_000_000;
/// The most tokens one aggregated row (an organisation's day of one model) can hold in one
/// category: ten trillion, about $30 million of Sonnet input.
pub const MAX_ROW_TOKENS: u64 = 10_000_000_000_000;
/// The most web searches one row can count.
pub const MAX_ROW_SEARCHES: u64 = 1_000_000_000;
/// The largest amount one cost row can bill, in dollars.
pub const MAX_ROW_USD: f64 = 1_000_000_000.0;
/// Usage times must fall in [2020-01-01, 2100-01-01) (the Claude API began in 2023).
pub const FIRST_TIME: i64 = 1_577_836_800;
pub const END_TIME: i64 = 4_102_444_800;

/// Checks a row's token counts: `request` for one API request, else an aggregated row.
pub fn check_tokens(tokens: &Tokens<u64>, web_search: u64, request: bool) -> Result<(), String> {
    let max = if request {
        MAX_REQUEST_TOKENS
    } else {
        MAX_ROW_TOKENS
    };
    for c in crate::domain::records::Category::ALL {
        let v = tokens.get(c);
        if v > max {
            return Err(format!(
                "{} tokens of {} are more than {} can hold (at most {})",
                crate::domain::money::count(v),
                c.label().to_lowercase(),
                if request { "one request" } else { "one row" },
                crate::domain::money::count(max)
            ));
        }
    }
    if web_search > MAX_ROW_SEARCHES {
        return Err(format!(
            "{} web searches are more than one row can hold (at most {})",
            crate::domain::money::count(web_search),
            crate::domain::money::count(MAX_ROW_SEARCHES)
        ));
    }
    Ok(())
}

/// Checks a billed amount in dollars, written `raw` in `field`.
pub fn check_amount(field: &str, raw: &str, usd: f64) -> Result<f64, String> {
    if !usd.is_finite() || usd.abs() > MAX_ROW_USD {
        return Err(format!(
            "{field}: {raw:?} is not a plausible amount (at most $1,000,000,000 a row)"
        ));
    }
    Ok(usd)
}

/// Checks a usage time (Unix seconds) written as `shown` in `field`.
pub fn check_time(field: &str, shown: &str, t: i64) -> Result<i64, String> {
    if (FIRST_TIME..END_TIME).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "{field}: {shown:?} is not a plausible date (usage dates run from 2020 to 2099)"
        ))
    }
}

/// A `context_window` label, as the Console exports and the Admin API write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextLabel {
    /// Up to 200K (`≤ 200k`, `<= 200k`, `0-200k`, empty).
    Standard,
    /// `? 200k`: how Excel saves `≤ 200k` in a CSV that is not UTF-8 (the `≤` becomes `?`).
    /// A `>` survives such a save, so this can only have been `≤ 200k`.
    ExcelStandard,
    /// Over 200K (`> 200k`, `200k-1M`).
    Long,
}

impl ContextLabel {
    pub fn is_long(self) -> bool {
        self == ContextLabel::Long
    }
}

/// Reads a `context_window` label. Anything not known is rejected with the reason: an
/// unknown label was once priced as long context (the sample's total from $3,869.49 to
/// $5,508.94, without a word).
pub fn context_label(s: &str) -> Result<ContextLabel, String> {
    let t: String = s
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(match t.as_str() {
        "" | "≤200k" | "<=200k" | "<200k" | "0-200k" | "upto200k" | "null" => {
            ContextLabel::Standard
        }
        "?200k" => ContextLabel::ExcelStandard,
        ">200k" | "200k-1m" | ">200k-1m" | "200k+" => ContextLabel::Long,
        _ => {
            return Err(format!(
                "context_window: unknown label {:?} (expected ≤ 200k, 0-200k, > 200k or 200k-1M)",
                s.trim()
            ));
        }
    })
}

/// The note for rows whose context window was written `? 200k`.
pub fn excel_label_note(rows: u64) -> String {
    format!(
        "{rows} rows have context_window \"? 200k\", how Excel saves \"≤ 200k\" in a CSV that is not UTF-8: read as up to 200k"
    )
}

/// Half a unit of the last decimal place written in `amount` (a decimal number as text, such
/// as `0.08`, `12`, `-1.5e-3`), in units of 10^`shift` of the amount's own unit: `shift` 0
/// for an amount in dollars, 2 for cents to dollars. `None` when `amount` is not a decimal.
pub fn rounding_of(amount: &str, shift: i32) -> Option<f64> {
    let s = amount.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // The last place is 10^-places of the unit; in dollars, 10^-(places + shift).
    let places = (frac.len() as i32).checked_sub(exp)?.checked_add(shift)?;
    Some(if places >= 0 {
        0.5 / 10f64.powi(places)
    } else {
        0.5 * 10f64.powi(-places)
    })
}
