//! A dataset: everything imported in one session, merged from any number of files (the
//! merging, with the identity rules, is done by the import layer): usage records, billed rows,
//! what each file contributed, the lines rejected, and what the merge found (overlaps, likely
//! double counts).

use crate::domain::format::Format;
use crate::domain::packed::Records;
use crate::domain::records::{Bucket, Category, Geo, Speed, Symbols, Tier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A line that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// What one file contributed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub path: String,
    pub format: Format,
    /// The first and last day (starts, Unix seconds) the file has usage or billed rows on:
    /// the span it covers. A day inside it without rows had nothing to report (zero spent);
    /// a day outside it is not covered by this file at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<(i64, i64)>,
    /// The index of its kind of source in the dataset's sources.
    #[serde(default)]
    pub source: u8,
    /// Rows (or requests) imported.
    pub rows: u64,
    /// Lines rejected with a reason.
    pub rejected: u64,
    /// Lines skipped by a documented rule (not usage, not billed, synthetic...).
    pub skipped: u64,
    /// Rows already loaded from this or another file, not counted twice.
    pub duplicates: u64,
    /// Things the user should know (assumptions made, data that was missing).
    /// Shared: a note said of many files is held once (see [`Note`]).
    pub notes: Vec<Note>,
    /// Rows that carry no time of their own and were dated by the date given or the file's
    /// modification date (see [`DefaultDate`]; the notes say which).
    #[serde(default)]
    pub default_dated: u64,
}

/// One row of a billed series (a cost export): what the invoice says, for reconciliation.
/// The fields added after the first release carry `#[serde(default)]`: rows are cached as JSON.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BilledRow {
    pub time: i64,
    /// Model name as the export has it (a display name in the Console's cost CSV, possibly a
    /// display name taken from the Admin cost report's `description`); empty when unknown.
    pub model: crate::domain::records::Sym,
    pub workspace: crate::domain::records::Sym,
    pub api_key: crate::domain::records::Sym,
    pub tier: Tier,
    pub category: Option<Category>,
    pub usd: f64,
    /// Identity of the row, to recognise the same bill loaded twice.
    pub id: u64,
    /// Long context: the row's `context_window` is a label beyond 200k (same rule as the usage
    /// CSV, the import layer's `values::context_label`); false when the source does not say.
    #[serde(default)]
    pub long_context: bool,
    /// `inference_geo`, where the source has it.
    #[serde(default)]
    pub geo: Geo,
    /// `speed`, where the source has it.
    #[serde(default)]
    pub speed: Speed,
    /// What the money is for (`cost_type`): tokens, web search, code execution, other.
    #[serde(default)]
    pub cost_type: CostType,
    /// Half a unit of the last decimal place the amount was written with, in dollars: the
    /// most the amount can differ from the exact cost by rounding (Console `0.08` -> 0.005,
    /// `12` -> 0.5; Admin cents `"123.45"` -> 0.00005, `"5000"` -> 0.005).
    #[serde(default)]
    pub rounding_usd: f64,
    /// The kind of cost export it came from: an index into the dataset's sources (set when
    /// files are merged; 0 in a parsed file).
    #[serde(default)]
    pub source: u8,
}

/// What billed money is for (`cost_type` of the cost exports).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum CostType {
    #[default]
    Tokens,
    WebSearch,
    CodeExecution,
    Other,
}

impl CostType {
    /// `token`/`tokens`, `web_search`, `code_execution` (any case, spaces or dashes for
    /// underscores); another word is `Other`; an empty value is `None` (not said).
    pub fn parse(s: &str) -> Option<CostType> {
        let s = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Some(match s.as_str() {
            "" | "null" => return None,
            "token" | "tokens" => CostType::Tokens,
            "web_search" | "web_searches" => CostType::WebSearch,
            "code_execution" => CostType::CodeExecution,
            _ => CostType::Other,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            CostType::Tokens => "tokens",
            CostType::WebSearch => "web_search",
            CostType::CodeExecution => "code_execution",
            CostType::Other => "other",
        }
    }
}

/// At most this many rejected lines of a file are kept as examples; all are counted, by
/// reason. (10 MB of bad lines once kept every one, with its whole field quoted: 1.4-2.5 GB
/// of memory and a 714 MB `--json`.)
pub const MAX_REJECTED_EXAMPLES: usize = 100;
/// A reason is cut to this many characters (a field quoted in it can be megabytes).
pub const MAX_REASON_CHARS: usize = 300;

/// A reason cut to [`MAX_REASON_CHARS`].
pub fn shorten_reason(reason: String) -> String {
    if reason.len() <= MAX_REASON_CHARS {
        return reason;
    }
    let mut cut = MAX_REASON_CHARS;
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}… ({} characters)",
        &reason[..cut],
        reason.chars().count()
    )
}

/// The kind of a reason, to count reasons that differ only in the value they quote: quoted
/// text becomes `"…"` and numbers `N`.
pub fn reason_kind(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len().min(160));
    let mut quoted = false;
    let mut last_digit = false;
    for c in reason.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
            continue;
        }
        if quoted {
            continue;
        }
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('N');
            }
            last_digit = true;
            continue;
        }
        last_digit = false;
        out.push(c);
        if out.len() > 160 {
            break;
        }
    }
    out
}

/// A kind of usage source, as far as counting the same usage twice goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Short name for filters and flags (`console_usage_daily`, `claude_code`, ...).
    pub key: String,
    pub label: String,
    /// An organisation-wide record of usage (Console export, Admin report): any other source
    /// of the same days is, at least in part, the same usage again.
    pub org_wide: bool,
}

impl Source {
    /// The source of a file of `format` whose rows are `bucket` wide.
    pub fn of(format: Format, bucket: Bucket) -> Source {
        let width = match bucket {
            Bucket::Day => "daily",
            Bucket::Hour => "hourly",
            Bucket::Minute => "per minute",
            Bucket::Request => "requests",
        };
        let key_width = width.replace(' ', "_");
        let (key, label) = match format {
            Format::ConsoleUsageCsv => (
                format!("console_usage_{key_width}"),
                format!("Console usage export ({width} rows)"),
            ),
            Format::AdminUsageJson => (
                format!("admin_usage_{key_width}"),
                format!("Admin API usage report ({width} buckets)"),
            ),
            Format::ConsoleCostCsv => ("console_cost".to_owned(), "Console cost export".to_owned()),
            Format::AdminCostJson => ("admin_cost".to_owned(), "Admin API cost report".to_owned()),
            Format::ClaudeCodeJsonl => ("claude_code".to_owned(), "Claude Code logs".to_owned()),
            Format::BatchResultsJsonl => (
                "batch_results".to_owned(),
                "Message Batches results".to_owned(),
            ),
            Format::MessagesJsonl | Format::MessagesJson | Format::MessagesSse => {
                ("messages".to_owned(), "Messages API logs".to_owned())
            }
        };
        Source {
            key,
            label,
            org_wide: format.org_wide(),
        }
    }

    /// A cost export (the Console's CSV or the Admin cost report): billed money, and the
    /// usage derived from it.
    pub fn is_cost(&self) -> bool {
        self.key == "console_cost" || self.key == "admin_cost"
    }
}

/// Two files that hold copies of the same rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    pub files: [String; 2],
    /// Days (YYYY-MM-DD) with rows in both.
    pub days: Vec<String>,
    /// Rows (identities) found in both.
    pub rows: u64,
    /// True when the copies were added up (`--sum-overlaps`); otherwise each row counted
    /// once, from the copy with more tokens.
    pub summed: bool,
}

/// Two kinds of source covering the same days: the same usage is likely counted twice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoubleCount {
    /// Source keys (see [`Source::key`]), and their labels.
    pub sources: [String; 2],
    pub labels: [String; 2],
    /// Days (YYYY-MM-DD) both cover.
    pub days: Vec<String>,
    /// Files of either kind with usage on those days.
    pub files: Vec<String>,
}

impl DoubleCount {
    /// What to tell the user, naming the fix.
    pub fn message(&self, cli: bool) -> String {
        let keep = if cli {
            format!(
                "keep one with --only-source {} or --only-source {}",
                self.sources[0], self.sources[1]
            )
        } else {
            "keep one (Keep only…)".to_owned()
        };
        format!(
            "{} and {} both cover {} ({}): the same usage is likely counted twice; {keep}",
            self.labels[0],
            self.labels[1],
            plural(self.days.len(), "day"),
            day_span(&self.days)
        )
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// "2026-08-01 to 2026-08-31" or the one day.
fn day_span(days: &[String]) -> String {
    match (days.first(), days.last()) {
        (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
        (Some(a), _) => a.clone(),
        _ => String::new(),
    }
}

/// A note about a file. Shared between the files it is said of: at 10 GB, 134,482 files'
/// notes were 24 MB of text, most of it a few sentences said of thousands of files each.
pub type Note = std::sync::Arc<str>;

/// Makes each of `notes` the copy `pool` holds of it, adding those it does not hold yet: a
/// note said of many files is then held once.
pub fn share_notes(pool: &mut rustc_hash::FxHashSet<Note>, notes: &mut [Note]) {
    for n in notes {
        match pool.get(n) {
            Some(shared) => *n = shared.clone(),
            None => {
                pool.insert(n.clone());
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct Dataset {
    pub symbols: Symbols,
    /// Packed: 44 bytes a record, not 96 (see [`Records`]).
    pub records: Records,
    pub billed: Vec<BilledRow>,
    /// Costs the sources themselves report (Claude Code's `costUSD`), by time.
    pub reported: Vec<(i64, f64)>,
    pub files: Vec<FileSummary>,
    /// Rejected lines kept as examples (the first of each file, at most
    /// [`MAX_REJECTED_KEPT`] in all); every one is counted in `rejected_total`, by reason.
    pub rejected: Vec<Rejected>,
    pub rejected_total: u64,
    pub rejected_kinds: BTreeMap<String, u64>,
    /// The kinds of source records came from; `UsageRecord::source` indexes it.
    pub sources: Vec<Source>,
    pub overlaps: Vec<Overlap>,
    pub double_counts: Vec<DoubleCount>,
    /// Things about the import as a whole (the same file given twice...).
    pub notes: Vec<String>,
    /// Set when the records were derived from a cost export (no usage file was loaded).
    pub derived: Option<Derived>,
    /// Files inside opened folders that are not usage files (skipped, listed).
    pub unrecognised: Vec<String>,
    /// Set when the usage history was used (kept and read back): see [`HistoryUse`].
    pub history: Option<HistoryUse>,
}

/// What the usage history added to an import.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryUse {
    /// The history database (this machine's).
    pub database: String,
    /// Requests only the history has: from logs deleted or rotated since they were imported.
    pub requests_from_deleted_logs: u64,
    /// Requests recorded into the history by this import.
    pub recorded: u64,
}

impl HistoryUse {
    /// "including 1,234 requests from deleted logs", for the report and the app.
    pub fn summary(&self) -> String {
        format!(
            "including {} requests from deleted logs (kept in the usage history {})",
            crate::domain::money::count(self.requests_from_deleted_logs),
            self.database
        )
    }
}

/// At most this many rejected lines are kept as examples over all files.
pub const MAX_REJECTED_KEPT: usize = 5_000;

impl Dataset {
    /// Adds a rejected line (or a problem with a file: `line` 0) to the examples and counts.
    pub fn reject(&mut self, r: Rejected) {
        self.rejected_total += 1;
        *self
            .rejected_kinds
            .entry(reason_kind(&r.reason))
            .or_default() += 1;
        if self.rejected.len() < MAX_REJECTED_KEPT {
            self.rejected.push(r);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.billed.is_empty()
    }

    /// First and last record time, Unix seconds.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let min = self.records.iter().map(|r| r.time).min()?;
        let max = self.records.iter().map(|r| r.time).max()?;
        Some((min, max))
    }

    /// The index of `source` in [`Dataset::sources`], added if new.
    pub fn source_index(&mut self, source: Source) -> u8 {
        match self.sources.iter().position(|s| *s == source) {
            Some(i) => i as u8,
            None => {
                self.sources.push(source);
                (self.sources.len() - 1).min(u8::MAX as usize) as u8
            }
        }
    }
}

/// What deriving usage from a cost export made, and what it could not (see
/// the engine's `derive`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Cost rows turned into usage rows.
    pub rows: u64,
    /// Their money, and the most it can differ from the exact cost by rounding.
    pub usd: f64,
    pub rounding_usd: f64,
    /// Tokens derived (rounded to whole tokens), and the range the rounding of the amounts
    /// allows.
    pub tokens: u64,
    pub tokens_min: f64,
    pub tokens_max: f64,
    /// Money that could not be turned into tokens, by reason.
    pub not_derived: Vec<NotDerived>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotDerived {
    pub reason: String,
    pub rows: u64,
    pub usd: f64,
}

impl Derived {
    /// One sentence for the report and the app.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "Usage derived from cost: {} tokens ({} to {} given the rounding of each amount) from {} cost rows ({}); the recomputed cost and every lever work on these derived counts",
            crate::domain::money::count(self.tokens),
            crate::domain::money::count(self.tokens_min.floor() as u64),
            crate::domain::money::count(self.tokens_max.ceil() as u64),
            crate::domain::money::count(self.rows),
            crate::domain::money::usd(self.usd),
        );
        for n in &self.not_derived {
            s.push_str(&format!(
                "; {} of {} ({} rows) stays billed money only",
                crate::domain::money::usd(n.usd),
                n.reason,
                n.rows
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Notes of the same words are one string however many files say them; others stay
    /// their own, and every note reads as it was made.
    #[test]
    fn notes_said_of_many_files_are_held_once() {
        let mut pool = Default::default();
        let made = |s: &str| -> Note { s.to_owned().into() };
        let mut first = vec![made("10 lines repeat"), made("a")];
        let mut second = vec![made("b"), made("10 lines repeat")];
        share_notes(&mut pool, &mut first);
        share_notes(&mut pool, &mut second);
        assert!(std::sync::Arc::ptr_eq(&first[0], &second[1]));
        assert!(!std::sync::Arc::ptr_eq(&first[1], &second[0]));
        let words = |v: &[Note]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(words(&first), ["10 lines repeat", "a"]);
        assert_eq!(words(&second), ["b", "10 lines repeat"]);
        assert_eq!(pool.len(), 3);
    }
}
