//! Importers: one module per file format, all producing [`UsageRecord`]s into a
//! [`ParsedFile`]. Format detection lives in [`detect`]. Importers parse by header or field
//! name, never by position, and report each rejected line as `file:line: reason`.

pub mod console_cost;
pub mod console_usage;
pub mod detect;

use crate::records::{Category, Symbols, Tier, UsageRecord};
use serde::Serialize;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use detect::{Format, detect_format};

/// A line that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub format: String,
    /// Rows (or requests) imported.
    pub rows: u64,
    /// Lines rejected with a reason.
    pub rejected: u64,
    /// Lines skipped by a documented rule (not usage, not billed, synthetic...).
    pub skipped: u64,
    /// Rows already loaded from this or another file, not counted twice.
    pub duplicates: u64,
    /// Things the user should know (assumptions made, data that was missing).
    pub notes: Vec<String>,
}

/// One row of a billed series (a cost export): what the invoice says, for reconciliation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BilledRow {
    pub time: i64,
    /// Model name as the export has it (a display name in the Console's cost CSV).
    pub model: crate::records::Sym,
    pub workspace: crate::records::Sym,
    pub api_key: crate::records::Sym,
    pub tier: Tier,
    pub category: Option<Category>,
    pub usd: f64,
    /// Identity of the row, to recognise the same bill loaded twice.
    pub id: u64,
}

/// How a record is recognised when the same usage is loaded twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// An aggregated export row: a hash of every dimension (time, model, tier, ...). Two
    /// rows with equal identity are the same row loaded twice.
    Row(u64),
    /// One API response (Claude Code writes several lines per response); `sidechain` and the
    /// token total decide which duplicate wins.
    Message { id: u64, sidechain: bool },
    /// No identity known: never de-duplicated.
    None,
}

/// The result of parsing one file. Symbols in records and billed rows index `symbols`.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub symbols: Symbols,
    pub records: Vec<(UsageRecord, Identity)>,
    pub billed: Vec<BilledRow>,
    /// A cost the source itself reports (`costUSD` in Claude Code logs), for comparison.
    pub reported: Vec<(i64, f64)>,
    pub rejected: Vec<Rejected>,
    pub summary: FileSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Unrecognised(String, String),
    #[error("{0}: import cancelled")]
    Cancelled(String),
}

/// Progress and cancellation shared between an import and whoever watches it.
#[derive(Debug, Default)]
pub struct Control {
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub cancel: AtomicBool,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control::default())
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn progress(&self) -> (u64, u64) {
        (
            self.bytes_done.load(Ordering::Relaxed),
            self.bytes_total.load(Ordering::Relaxed),
        )
    }
}

/// A reader that counts bytes into [`Control::bytes_done`] and stops when cancelled.
pub struct Counted<'a, R> {
    inner: R,
    control: &'a Control,
}

impl<'a, R: Read> Counted<'a, R> {
    pub fn new(inner: R, control: &'a Control) -> Self {
        Counted { inner, control }
    }
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.control.is_cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "import cancelled",
            ));
        }
        let n = self.inner.read(buf)?;
        self.control.bytes_done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Options a user can give an import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Date for files that carry none (Message Batches results), Unix seconds.
    pub batch_date: Option<i64>,
}

/// Opens `path` read-only, detects its format and parses it.
pub fn parse_path(path: &Path, opts: &Options, control: &Control) -> Result<ParsedFile, ImportError> {
    let name = path.display().to_string();
    let io = |e| ImportError::Io(name.clone(), e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut head = vec![0u8; 64 * 1024];
    let n = read_up_to(&mut file, &mut head).map_err(io)?;
    head.truncate(n);
    let format = detect_format(&head).map_err(|why| ImportError::Unrecognised(name.clone(), why))?;
    let file = std::fs::File::open(path).map_err(io)?;
    let reader = Counted::new(std::io::BufReader::with_capacity(256 * 1024, file), control);
    let mut parsed = match format {
        Format::ConsoleUsageCsv => console_usage::parse(&name, reader),
        Format::ConsoleCostCsv => console_cost::parse(&name, reader),
    };
    let _ = opts;
    if control.is_cancelled() {
        return Err(ImportError::Cancelled(name));
    }
    parsed.summary.path = name;
    parsed.summary.format = format.label().to_owned();
    parsed.summary.rejected = parsed.rejected.len() as u64;
    Ok(parsed)
}

/// Parses in-memory bytes (tests, the embedded sample data).
pub fn parse_bytes(name: &str, bytes: &[u8], opts: &Options) -> Result<ParsedFile, ImportError> {
    let format =
        detect_format(bytes).map_err(|why| ImportError::Unrecognised(name.to_owned(), why))?;
    let _ = opts;
    let mut parsed = match format {
        Format::ConsoleUsageCsv => console_usage::parse(name, bytes),
        Format::ConsoleCostCsv => console_cost::parse(name, bytes),
    };
    parsed.summary.path = name.to_owned();
    parsed.summary.format = format.label().to_owned();
    parsed.summary.rejected = parsed.rejected.len() as u64;
    Ok(parsed)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Parses a non-negative token count, with the reason when it is not one.
pub fn parse_count(field: &str, raw: &[u8]) -> Result<u64, String> {
    let s = std::str::from_utf8(raw)
        .map_err(|_| format!("{field}: not valid UTF-8"))?
        .trim();
    if s.is_empty() {
        return Ok(0);
    }
    if let Some(rest) = s.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{field}: negative count {s}"));
        }
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map_err(|_| format!("{field}: number too large ({s})"));
    }
    // Some exports write counts as "12.0".
    if let Some(int) = s.strip_suffix(".0")
        && int.bytes().all(|b| b.is_ascii_digit())
        && !int.is_empty()
    {
        return int
            .parse::<u64>()
            .map_err(|_| format!("{field}: number too large ({s})"));
    }
    Err(format!("{field}: not a whole number: {s:?}"))
}

/// A stable 64-bit hash (FNV-1a) for row identities; stable across runs so it can be cached.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
