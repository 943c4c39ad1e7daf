//! Importers: one module per file format, all producing [`UsageRecord`]s into a
//! [`ParsedFile`]. Format detection lives in [`detect`]. Importers parse by header or field
//! name, never by position, and report each rejected line as `file:line: reason`.

pub mod admin;
pub mod batch;
pub mod claude_code;
pub mod console_cost;
pub mod console_usage;
pub mod csv;
pub mod detect;
pub mod json;
pub mod merge;
pub mod messages;
pub mod time;
pub mod values;

use crate::domain::records::{Symbols, UsageRecord};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use crate::domain::dataset::{
    BilledRow, CostType, FileSummary, MAX_REASON_CHARS, MAX_REJECTED_EXAMPLES, Rejected,
    reason_kind, shorten_reason,
};
pub use detect::{Format, detect_format};
pub use time::{Stamp, parse_time_number, parse_time_str};
pub use values::rounding_of;

/// How the reason of a line starts when the file could not be read beyond it (a disk or
/// network error part way through a file read whole).
pub const READ_ERROR: &str = "read error: ";

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
    /// A cost the source itself reports, not tied to one record, for comparison.
    pub reported: Vec<(i64, f64)>,
    /// A cost the source reports for one record (`costUSD` of a Claude Code line), as
    /// (index into `records`, USD). It follows its record through de-duplication, so a
    /// response written as several lines is reported once (see [`crate::domain::dataset::Dataset::add`]).
    pub reported_per_record: Vec<(usize, f64)>,
    /// The first [`MAX_REJECTED_EXAMPLES`] rejected lines, in file order.
    pub rejected: Vec<Rejected>,
    /// Every rejected line, counted by reason (see [`ParsedFile::reject`]).
    pub rejected_total: u64,
    pub rejected_kinds: BTreeMap<String, u64>,
    pub summary: FileSummary,
}

impl ParsedFile {
    /// Rejects line `line` of `file` with `reason`: counted always, kept as an example while
    /// fewer than [`MAX_REJECTED_EXAMPLES`] are.
    pub fn reject(&mut self, file: &str, line: u64, reason: String) {
        let reason = shorten_reason(reason);
        self.rejected_total += 1;
        *self.rejected_kinds.entry(reason_kind(&reason)).or_default() += 1;
        if self.rejected.len() < MAX_REJECTED_EXAMPLES {
            self.rejected.push(Rejected {
                file: file.to_owned(),
                line,
                reason,
            });
        }
    }

    /// How many lines were rejected (examples and the rest).
    pub fn rejected_count(&self) -> u64 {
        self.rejected_total.max(self.rejected.len() as u64)
    }
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
        self.control
            .bytes_done
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Options a user can give an import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Date for files that carry none (Message Batches results, saved Messages API responses
    /// and streams, a Messages log in which no line has a timestamp), Unix seconds (the start
    /// of a UTC day). Without it such files are dated by their modification date.
    pub date: Option<i64>,
    /// Add up copies of the same rows found in different files instead of counting them once
    /// (see [`crate::dataset`]).
    pub sum_overlaps: bool,
}

/// Where records that carry no time of their own are dated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultDate {
    /// The date the user gave ([`Options::date`], `--date`), Unix seconds.
    Given(i64),
    /// The file's modification date (start of the UTC day), Unix seconds.
    FileModified(i64),
    /// Neither is known (in-memory data without a date given): undated records are rejected.
    Unknown,
}

impl DefaultDate {
    /// For a file on disk: the date given, else the file's modification date.
    pub fn for_file(opts: &Options, path: &Path) -> DefaultDate {
        if let Some(t) = opts.date {
            return DefaultDate::Given(t);
        }
        match std::fs::metadata(path).and_then(|m| m.modified()) {
            Ok(m) => {
                let secs = m
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                DefaultDate::FileModified(secs.div_euclid(86_400) * 86_400)
            }
            Err(_) => DefaultDate::Unknown,
        }
    }

    /// For in-memory data: the date given, if any.
    pub fn for_bytes(opts: &Options) -> DefaultDate {
        opts.date.map_or(DefaultDate::Unknown, DefaultDate::Given)
    }

    pub fn time(self) -> Option<i64> {
        match self {
            DefaultDate::Given(t) | DefaultDate::FileModified(t) => Some(t),
            DefaultDate::Unknown => None,
        }
    }

    /// The note for `n` `what` (results, responses...) dated by this default.
    pub(crate) fn note(self, n: u64, what: &str) -> String {
        let day = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        match self {
            DefaultDate::Given(t) => {
                format!(
                    "{n} {what} carry no time: dated {} (the date given)",
                    day(t)
                )
            }
            DefaultDate::FileModified(t) => format!(
                "{n} {what} carry no time: dated {}, the file's modification date; give --date YYYY-MM-DD to set another",
                day(t)
            ),
            DefaultDate::Unknown => format!("{n} {what} carry no time and no date was given"),
        }
    }
}

/// Files up to this size are read whole at once (see [`parse_path`]).
const SMALL_FILE_BYTES: u64 = 4 << 20;
/// How much of a file's start format detection reads.
const HEAD_BYTES: u64 = 64 * 1024;
/// How far detection reads when the head does not decide (see [`parse_path`]).
const FIRST_LINE_MAX: u64 = 64 << 20;

/// Opens `path` read-only, detects its format and parses it.
pub fn parse_path(
    path: &Path,
    opts: &Options,
    control: &Control,
) -> Result<ParsedFile, ImportError> {
    parse_file(path, opts, control).map(|(parsed, _)| parsed)
}

/// Opens a file to read, never blocking: a named pipe with no writer would block `open`
/// forever (`costlens report FIFO` hung, issue 5); what it is is asked of the file opened.
fn open_to_read(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::File::options();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    #[cfg(not(unix))]
    {
        if !std::fs::metadata(path)?.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
    }
    o.open(path)
}

/// [`parse_path`], with the file's metadata after it was read, taken from the file opened
/// (not looked up again by path): how the cache tells that a file changed while it was read.
pub fn parse_file(
    path: &Path,
    opts: &Options,
    control: &Control,
) -> Result<(ParsedFile, std::fs::Metadata), ImportError> {
    let name = path.display().to_string();
    let io = |e| ImportError::Io(name.clone(), e);
    let file = open_to_read(path).map_err(io)?;
    // Only regular files: pipes and devices cannot be read in chunks.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other(
            "not a regular file (a pipe, socket or device): save it to a file first",
        )));
    }
    let parsed = parse_open(path, &name, &file, &meta, opts, control)?;
    let after = file.metadata().map_err(io)?;
    Ok((parsed, after))
}

fn parse_open(
    path: &Path,
    name: &str,
    file: &std::fs::File,
    meta: &std::fs::Metadata,
    opts: &Options,
    control: &Control,
) -> Result<ParsedFile, ImportError> {
    let name = name.to_owned();
    let io = |e| ImportError::Io(name.clone(), e);
    // A small file (most Claude Code sessions) is read once, whole: detected and parsed from
    // memory, not opened and read again per chunk.
    if meta.len() <= SMALL_FILE_BYTES {
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        (&*file).read_to_end(&mut bytes).map_err(io)?;
        let head = &bytes[..bytes.len().min(HEAD_BYTES as usize)];
        let format = detect_format(head).or_else(|why| {
            if head.len() < bytes.len() {
                detect_format(&bytes[..bytes.len().min(FIRST_LINE_MAX as usize)])
            } else {
                Err(why)
            }
        });
        if let Ok(Format::ClaudeCodeJsonl) = format {
            let fmt = claude_code::ClaudeCodeLog {
                name: &name,
                project: claude_code::project_of(path),
            };
            let mut parsed = parse_lines_bytes(&fmt, &bytes, control);
            if control.is_cancelled() {
                return Err(ImportError::Cancelled(name));
            }
            parsed.summary.path = name;
            parsed.summary.format = Format::ClaudeCodeJsonl;
            parsed.summary.rejected = parsed.rejected_count();
            return Ok(parsed);
        }
        // Another format: read as below, from the start.
        (&*file).seek(SeekFrom::Start(0)).map_err(io)?;
    }
    let mut head = Vec::with_capacity(HEAD_BYTES as usize);
    file.take(HEAD_BYTES).read_to_end(&mut head).map_err(io)?;
    let format = match detect_format(&head) {
        Ok(f) => f,
        // Undecided on the head alone: a first line longer than the head (a Messages log
        // whose first response has >64 KiB of content before its `usage`), a pretty-printed
        // report whose first bucket passes 64 KiB, a log that starts with hundreds of lines
        // without usage. Detection is retried on more of the file, up to FIRST_LINE_MAX
        // (these files were refused as "JSON without usage fields", issues 5 and 10).
        Err(_) if head.len() as u64 == HEAD_BYTES => {
            // The head doubles each time (128 KiB, 256 KiB, ...): a file that no amount of
            // reading decides costs a few passes, not one per block.
            let mut last = Err(String::new());
            while (head.len() as u64) < FIRST_LINE_MAX {
                let mut block = vec![0u8; head.len()];
                let k = read_up_to(&mut &*file, &mut block).map_err(io)?;
                head.extend_from_slice(&block[..k]);
                last = detect_format(&head);
                if last.is_ok() || k < block.len() {
                    break;
                }
            }
            last.map_err(|why| ImportError::Unrecognised(name.clone(), why))?
        }
        Err(why) => return Err(ImportError::Unrecognised(name.clone(), why)),
    };
    // CSV and report files are read through one counted reader from the start; JSONL files
    // are read in chunks by `parse_lines_file`.
    let reader = || -> Result<_, ImportError> {
        (&*file).seek(SeekFrom::Start(0)).map_err(io)?;
        Ok(Counted::new(
            std::io::BufReader::with_capacity(256 * 1024, file),
            control,
        ))
    };
    let mut parsed = match format {
        Format::ConsoleUsageCsv => console_usage::parse(&name, reader()?),
        Format::ConsoleCostCsv => console_cost::parse(&name, reader()?),
        Format::AdminUsageJson | Format::AdminCostJson => {
            let mut bytes = Vec::new();
            reader()?.read_to_end(&mut bytes).map_err(io)?;
            admin::parse(&name, &bytes, admin_report(format))
        }
        Format::MessagesJsonl => {
            let date = DefaultDate::for_file(opts, path);
            read_messages_log(&name, date, |fmt, again| {
                if again {
                    // Read a second time: progress counts the file once.
                    let len = std::fs::metadata(path).map_or(0, |m| m.len());
                    let _ = control.bytes_done.fetch_update(
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                        |d| Some(d.saturating_sub(len)),
                    );
                }
                parse_lines_file(fmt, path, control)
            })
            .map_err(io)?
        }
        Format::MessagesJson | Format::MessagesSse => {
            let mut bytes = Vec::new();
            reader()?.read_to_end(&mut bytes).map_err(io)?;
            let date = DefaultDate::for_file(opts, path);
            if format == Format::MessagesJson {
                messages::document::parse(&name, &bytes, date)
            } else {
                messages::sse::parse(&name, &bytes, date)
            }
        }
        Format::BatchResultsJsonl => {
            let date = DefaultDate::for_file(opts, path);
            parse_lines_file(&batch::BatchResults { name: &name, date }, path, control)
                .map_err(io)?
        }
        Format::ClaudeCodeJsonl => {
            let fmt = claude_code::ClaudeCodeLog {
                name: &name,
                project: claude_code::project_of(path),
            };
            parse_lines_file(&fmt, path, control).map_err(io)?
        }
    };
    if control.is_cancelled() {
        return Err(ImportError::Cancelled(name));
    }
    parsed.summary.path = name;
    parsed.summary.format = format;
    parsed.summary.rejected = parsed.rejected_count();
    Ok(parsed)
}

/// Reads a Messages API log with `read` (given the format and whether this is a second
/// reading). Lines without a time are rejected on the first reading; when NO line had one and
/// a default date is known, the log is read again with every line dated by it.
fn read_messages_log<E>(
    name: &str,
    date: DefaultDate,
    mut read: impl FnMut(&messages::MessagesLog, bool) -> Result<ParsedFile, E>,
) -> Result<ParsedFile, E> {
    let first = messages::MessagesLog::new(name, DefaultDate::Unknown);
    let parsed = read(&first, false)?;
    if first.all_undated() && date.time().is_some() {
        return read(&messages::MessagesLog::new(name, date), true);
    }
    Ok(parsed)
}

fn admin_report(format: Format) -> admin::Report {
    if format == Format::AdminCostJson {
        admin::Report::Cost
    } else {
        admin::Report::Usage
    }
}

/// Parses in-memory bytes (tests, the embedded sample data). `name` stands for the path:
/// a Claude Code log's project is taken from it.
pub fn parse_bytes(name: &str, bytes: &[u8], opts: &Options) -> Result<ParsedFile, ImportError> {
    let format =
        detect_format(bytes).map_err(|why| ImportError::Unrecognised(name.to_owned(), why))?;
    Ok(parse_as(format, name, bytes, opts))
}

/// Parses in-memory bytes as `format`, whatever they hold (detection skipped: the fuzz
/// targets feed each importer arbitrary bytes this way).
pub fn parse_as(format: Format, name: &str, bytes: &[u8], opts: &Options) -> ParsedFile {
    let control = Control::default();
    let mut parsed = match format {
        Format::ConsoleUsageCsv => console_usage::parse(name, bytes),
        Format::ConsoleCostCsv => console_cost::parse(name, bytes),
        Format::AdminUsageJson | Format::AdminCostJson => {
            admin::parse(name, bytes, admin_report(format))
        }
        Format::MessagesJsonl => {
            let date = DefaultDate::for_bytes(opts);
            let read = |fmt: &messages::MessagesLog, _| -> Result<_, ()> {
                Ok(parse_lines_bytes(fmt, bytes, &control))
            };
            read_messages_log(name, date, read).unwrap_or_default()
        }
        Format::MessagesJson => {
            messages::document::parse(name, bytes, DefaultDate::for_bytes(opts))
        }
        Format::MessagesSse => messages::sse::parse(name, bytes, DefaultDate::for_bytes(opts)),
        Format::BatchResultsJsonl => {
            let date = DefaultDate::for_bytes(opts);
            parse_lines_bytes(&batch::BatchResults { name, date }, bytes, &control)
        }
        Format::ClaudeCodeJsonl => {
            let fmt = claude_code::ClaudeCodeLog {
                name,
                project: claude_code::project_of(Path::new(name)),
            };
            parse_lines_bytes(&fmt, bytes, &control)
        }
    };
    parsed.summary.path = name.to_owned();
    parsed.summary.format = format;
    parsed.summary.rejected = parsed.rejected_count();
    parsed
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
    if let Some(rest) = s.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{field}: negative count {s}"));
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

/// A stable 64-bit hash for row identities; stable across runs so it can be cached.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    // xxh3: fast, and fixed by its specification, so identities (and the cache that stores
    // them) are the same from run to run and build to build. Each part is prefixed by its
    // length, so ("ab", "c") and ("a", "bc") differ.
    //
    // The usual input (a Claude Code response: a tag, a message id, a request id) is under
    // 128 bytes: laid out on the stack and hashed in one call, which gives what the streaming
    // hasher gives (`stable_hash_is_the_streaming_hash`) without setting up its state.
    const SHORT: usize = 128;
    let len: usize = parts.iter().map(|p| 8 + p.len()).sum();
    if len <= SHORT {
        let mut buf = [0u8; SHORT];
        let mut at = 0;
        for p in parts {
            buf[at..at + 8].copy_from_slice(&(p.len() as u64).to_le_bytes());
            buf[at + 8..at + 8 + p.len()].copy_from_slice(p);
            at += 8 + p.len();
        }
        return xxhash_rust::xxh3::xxh3_64(&buf[..at]);
    }
    stable_hash_streamed(parts)
}

fn stable_hash_streamed(parts: &[&[u8]]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.digest()
}

// ---------------------------------------------------------------------------------------
// Line-oriented (JSONL) files, parsed in chunks.

/// A line longer than this is not parsed (no API response comes near it): it is rejected
/// without being held in memory whole.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Big files are cut into chunks of about this size at line boundaries; chunks are parsed in
/// parallel and their results concatenated in file order (line numbers stay right).
pub const CHUNK_BYTES: u64 = 8 << 20;

/// One JSONL format: how a line becomes records. Implementations keep per-file facts (name,
/// project, date) in `self`; everything a line produces goes to `out` and `counts`.
pub(crate) trait LineFormat: Sync {
    /// What `finish` needs to write the summary and its notes (lines skipped by each rule...).
    type Counts: Default + Send;
    /// The file's name as rejected lines show it.
    fn file_name(&self) -> &str;
    /// `line` has no line terminator and is not blank. `line_no` counts from 1 within the
    /// current chunk; rejected lines are renumbered when chunks are joined.
    fn parse_line(
        &self,
        line: &[u8],
        line_no: u64,
        out: &mut ParsedFile,
        counts: &mut Self::Counts,
    );
    fn merge_counts(into: &mut Self::Counts, from: Self::Counts);
    /// Sets `out.summary` (rows, skipped, notes) once all chunks are joined.
    fn finish(&self, out: &mut ParsedFile, counts: Self::Counts);
}

struct ChunkResult<C> {
    parsed: ParsedFile,
    counts: C,
    lines: u64,
}

/// Parses the complete lines in `data` (a chunk that starts and ends at line boundaries).
fn parse_chunk<F: LineFormat>(
    fmt: &F,
    data: &[u8],
    nominal: u64,
    control: &Control,
) -> ChunkResult<F::Counts> {
    let mut out = ParsedFile::default();
    let mut counts = F::Counts::default();
    let mut lines = 0u64;
    let mut pos = 0usize;
    // Progress is published every MiB, capped at the chunk's nominal size so that the
    // chunks of a file add up to exactly its length.
    let mut published = 0u64;
    let publish = |upto: u64, published: &mut u64| {
        let upto = upto.min(nominal);
        if upto > *published {
            control
                .bytes_done
                .fetch_add(upto - *published, Ordering::Relaxed);
            *published = upto;
        }
    };
    while pos < data.len() {
        // Checked per line: a cancel is honoured within one line's parse time.
        if control.is_cancelled() {
            return ChunkResult {
                parsed: out,
                counts,
                lines,
            };
        }
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let mut line = &data[pos..end];
        pos = end + 1;
        lines += 1;
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.len() > MAX_LINE_BYTES {
            out.reject(
                fmt.file_name(),
                lines,
                format!(
                    "the line is longer than {} MiB: skipped",
                    MAX_LINE_BYTES >> 20
                ),
            );
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            fmt.parse_line(line, lines, &mut out, &mut counts);
        }
        if pos as u64 - published >= 1 << 20 {
            publish(pos as u64, &mut published);
        }
    }
    publish(nominal, &mut published);
    ChunkResult {
        parsed: out,
        counts,
        lines,
    }
}

/// Appends `part` (parsed from a later part of the same file) to `into`, re-interning its
/// symbols and renumbering its rejected lines by `line_offset`.
pub(crate) fn append_parsed(into: &mut ParsedFile, part: ParsedFile, line_offset: u64) {
    let map: Vec<u32> = (0..part.symbols.len() as u32)
        .map(|i| into.symbols.intern(part.symbols.get(i)))
        .collect();
    let remap = |s: u32| map.get(s as usize).copied().unwrap_or(0);
    let base = into.records.len();
    into.records
        .extend(part.records.into_iter().map(|(mut r, id)| {
            r.model = remap(r.model);
            r.workspace = remap(r.workspace);
            r.api_key = remap(r.api_key);
            r.project = remap(r.project);
            r.session = remap(r.session);
            r.machine = remap(r.machine);
            (r, id)
        }));
    into.billed.extend(part.billed.into_iter().map(|mut b| {
        b.model = remap(b.model);
        b.workspace = remap(b.workspace);
        b.api_key = remap(b.api_key);
        b
    }));
    into.reported.extend(part.reported);
    into.reported_per_record.extend(
        part.reported_per_record
            .into_iter()
            .map(|(i, usd)| (i + base, usd)),
    );
    let room = MAX_REJECTED_EXAMPLES.saturating_sub(into.rejected.len());
    into.rejected
        .extend(part.rejected.into_iter().take(room).map(|mut r| {
            r.line += line_offset;
            r
        }));
    into.rejected_total += part.rejected_total;
    for (k, n) in part.rejected_kinds {
        *into.rejected_kinds.entry(k).or_default() += n;
    }
    into.summary.rows += part.summary.rows;
    into.summary.skipped += part.summary.skipped;
    into.summary.duplicates += part.summary.duplicates;
    into.summary.notes.extend(part.summary.notes);
}

fn join_chunks<F: LineFormat>(fmt: &F, chunks: Vec<ChunkResult<F::Counts>>) -> ParsedFile {
    let mut chunks = chunks.into_iter();
    // The first chunk (a file's only one, unless it is over [`CHUNK_BYTES`]) is taken as it
    // is: appended to an empty file it would be copied record by record, every symbol
    // interned again, for the same result (0.7% of the instructions of a cold report of a
    // 42 MB Claude Code folder, counted with callgrind).
    let (mut out, mut counts, mut offset) = match chunks.next() {
        Some(c) => (as_first_part(c.parsed), c.counts, c.lines),
        None => (ParsedFile::default(), F::Counts::default(), 0),
    };
    for c in chunks {
        append_parsed(&mut out, c.parsed, offset);
        F::merge_counts(&mut counts, c.counts);
        offset += c.lines;
    }
    fmt.finish(&mut out, counts);
    out
}

/// `part`, the first part of a file, as [`append_parsed`] makes it of an empty file: the same
/// symbols in the same order, records, costs and rejected lines, and of its summary the
/// counts and notes alone (the rest is the file's, set by `finish`).
fn as_first_part(mut part: ParsedFile) -> ParsedFile {
    part.rejected.truncate(MAX_REJECTED_EXAMPLES);
    let s = std::mem::take(&mut part.summary);
    part.summary = FileSummary {
        rows: s.rows,
        skipped: s.skipped,
        duplicates: s.duplicates,
        notes: s.notes,
        ..FileSummary::default()
    };
    part
}

/// Start of the first line that begins at or after `p`.
fn line_start_at_or_after(bytes: &[u8], p: usize) -> usize {
    if p == 0 || p >= bytes.len() {
        return p.min(bytes.len());
    }
    memchr::memchr(b'\n', &bytes[p - 1..]).map_or(bytes.len(), |i| p + i)
}

fn chunk_ranges(len: u64) -> Vec<(u64, u64)> {
    let n = len.div_ceil(CHUNK_BYTES).max(1);
    (0..n)
        .map(|i| (i * CHUNK_BYTES, ((i + 1) * CHUNK_BYTES).min(len)))
        .collect()
}

/// Parses JSONL already in memory (tests, embedded samples), chunked like a file.
pub(crate) fn parse_lines_bytes<F: LineFormat>(
    fmt: &F,
    bytes: &[u8],
    control: &Control,
) -> ParsedFile {
    use rayon::prelude::*;
    let chunks: Vec<_> = chunk_ranges(bytes.len() as u64)
        .into_par_iter()
        .map(|(s, e)| {
            let (a, b) = (
                line_start_at_or_after(bytes, s as usize),
                line_start_at_or_after(bytes, e as usize),
            );
            parse_chunk(fmt, &bytes[a..b.max(a)], e - s, control)
        })
        .collect();
    join_chunks(fmt, chunks)
}

thread_local! {
    /// One read buffer per worker thread, reused from chunk to chunk.
    static CHUNK_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads the lines that start in `[s, e)` of the file (see [`CHUNK_BYTES`]) into `buf` and
/// returns where they are in it: the byte before `s` tells whether a line starts at `s`, and
/// the last line is read to its end even past `e`.
fn read_chunk(
    file: &mut std::fs::File,
    s: u64,
    e: u64,
    len: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<(usize, usize)> {
    let from = s.saturating_sub(1);
    file.seek(SeekFrom::Start(from))?;
    buf.clear();
    // `read_to_end` reads into spare capacity without zeroing it first.
    file.take(e - from).read_to_end(buf)?;
    let start = if s == 0 {
        0
    } else {
        match memchr::memchr(b'\n', buf) {
            Some(i) => i + 1,
            // The whole range is inside one line that began in an earlier chunk.
            None => return Ok((0, 0)),
        }
    };
    if e < len && buf.last() != Some(&b'\n') {
        // The last line is read to its end, but no more than MAX_LINE_BYTES of it is kept:
        // parse_chunk rejects a longer line (a 1.5 GB run of NULs once took 1.5 GB).
        let line_start = memchr::memrchr(b'\n', buf).map_or(start, |i| i + 1);
        let mut block = [0u8; 64 * 1024];
        loop {
            let k = read_up_to(file, &mut block)?;
            if k == 0 {
                break;
            }
            let nl = memchr::memchr(b'\n', &block[..k]);
            let take = nl.map_or(k, |i| i + 1);
            if buf.len() - line_start <= MAX_LINE_BYTES {
                buf.extend_from_slice(&block[..take]);
            } else if nl.is_some() {
                buf.push(b'\n');
            }
            if nl.is_some() {
                break;
            }
        }
    }
    Ok((start, buf.len().max(start)))
}

/// Parses a JSONL file in chunks, in parallel, never holding more than a chunk per worker.
pub(crate) fn parse_lines_file<F: LineFormat>(
    fmt: &F,
    path: &Path,
    control: &Control,
) -> std::io::Result<ParsedFile> {
    use rayon::prelude::*;
    let len = std::fs::metadata(path)?.len();
    let chunks: std::io::Result<Vec<_>> = chunk_ranges(len)
        .into_par_iter()
        .map(|(s, e)| {
            if control.is_cancelled() {
                return Ok(ChunkResult {
                    parsed: ParsedFile::default(),
                    counts: F::Counts::default(),
                    lines: 0,
                });
            }
            let mut file = std::fs::File::open(path)?;
            CHUNK_BUF.with(|b| {
                let mut buf = b.borrow_mut();
                let (a, z) = read_chunk(&mut file, s, e, len, &mut buf)?;
                let r = parse_chunk(fmt, &buf[a..z], e - s, control);
                // A buffer that grew for one huge chunk is not kept forever.
                if buf.capacity() > 4 * CHUNK_BYTES as usize {
                    *buf = Vec::new();
                }
                Ok(r)
            })
        })
        .collect();
    Ok(join_chunks(fmt, chunks?))
}

/// The line of `bytes` (1-based) that byte `offset` is on.
pub(crate) fn line_of_offset(bytes: &[u8], offset: usize) -> u64 {
    1 + memchr::memchr_iter(b'\n', &bytes[..offset.min(bytes.len())]).count() as u64
}

/// A JSON string field borrowed from the line when it has no escapes (serde borrows a
/// `Cow<str>` only as a direct field, never inside `Option`): no allocation per field on the
/// hot path of JSONL imports.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Text<'a>(pub std::borrow::Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text<'a>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Merges the lines of one file that are the same API response (the same
/// `Identity::Message`), by the rule of [`crate::import::merge::replaces`], keeping the first line's
/// place; a cost reported for a line follows the line that wins (or stays, if the winner has
/// none). The dataset applies the same rule across files, so merging a file first gives the
/// same result, with the work done in parallel per file and far fewer records to merge and
/// cache. Returns the number of lines merged away.
pub(crate) fn merge_repeated_messages(p: &mut ParsedFile) -> u64 {
    let mut cost: Vec<Option<f64>> = vec![None; p.records.len()];
    for &(i, usd) in &p.reported_per_record {
        if let Some(c) = cost.get_mut(i) {
            *c = Some(usd);
        }
    }
    // Identities are hashes already: the identity hasher, not SipHash.
    let mut first: merge::IdMap<usize> = Default::default();
    let mut kept: Vec<(UsageRecord, Identity, Option<f64>)> =
        Vec::with_capacity(p.records.len() / 2);
    let mut merged = 0;
    for ((r, id), c) in p.records.drain(..).zip(cost) {
        let Identity::Message { id: h, sidechain } = id else {
            kept.push((r, id, c));
            continue;
        };
        match first.get(&h) {
            None => {
                first.insert(h, kept.len());
                kept.push((r, id, c));
            }
            Some(&k) => {
                merged += 1;
                let (kr, kid, kc) = kept[k];
                let kept_sidechain = matches!(
                    kid,
                    Identity::Message {
                        sidechain: true,
                        ..
                    }
                );
                if merge::replaces_copy(kept_sidechain, &kr.tokens, sidechain, &r.tokens) {
                    kept[k] = (r, id, c.or(kc));
                }
            }
        }
    }
    p.reported_per_record = kept
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.2.map(|c| (i, c)))
        .collect();
    p.records = kept.into_iter().map(|(r, id, _)| (r, id)).collect();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file's first part taken as it is ([`as_first_part`]) is what appending it to an
    /// empty file gives: symbols, records with their identities, costs, rejected lines and
    /// the summary's counts and notes, its other fields left to `finish`.
    #[test]
    fn a_first_part_taken_whole_is_the_part_appended_to_nothing() {
        let log = claude_code::ClaudeCodeLog {
            name: "s.jsonl",
            project: "p".to_owned(),
        };
        let line = |id: &str, model: &str, cwd: &str, cost: &str| {
            format!(
                r#"{{"type":"assistant","timestamp":"2026-11-0{id}T10:00:00Z","sessionId":"s{id}","cwd":"{cwd}","requestId":"req_{id}","costUSD":{cost},"message":{{"id":"msg_{id}","model":"{model}","usage":{{"input_tokens":{id}0,"output_tokens":5}}}}}}"#
            )
        };
        let text = [
            line("1", "claude-sonnet-4-5", "/src/a", "0.01"),
            "{not json".to_owned(),
            line("2", "claude-haiku-4-5", "/src/b", "0.02"),
            line("1", "claude-sonnet-4-5", "/src/a", "0.01"),
            line("3", "claude-opus-4-5", "/src/a", "0.5"),
        ]
        .join("\n");
        let chunk = || {
            parse_chunk(
                &log,
                text.as_bytes(),
                text.len() as u64,
                &Control::default(),
            )
        };
        let mut part = chunk().parsed;
        part.summary.path = "set by finish".to_owned();
        part.summary.covers = Some((1, 2));
        part.summary.default_dated = 7;
        assert!(part.records.len() >= 3 && part.rejected_total == 1 && part.symbols.len() > 4);
        let mut appended = ParsedFile::default();
        let mut whole_part = chunk().parsed;
        whole_part.summary = part.summary.clone();
        append_parsed(&mut appended, whole_part, 0);
        let taken = as_first_part(part);
        assert_eq!(taken.symbols.names(), appended.symbols.names());
        assert_eq!(taken.records, appended.records);
        assert_eq!(taken.billed, appended.billed);
        assert_eq!(taken.reported, appended.reported);
        assert_eq!(taken.reported_per_record, appended.reported_per_record);
        assert_eq!(
            format!("{:?}", taken.rejected),
            format!("{:?}", appended.rejected)
        );
        assert_eq!(taken.rejected_total, appended.rejected_total);
        assert_eq!(taken.rejected_kinds, appended.rejected_kinds);
        assert_eq!(
            format!("{:?}", taken.summary),
            format!("{:?}", appended.summary)
        );
        assert_eq!(taken.summary.path, "");
        assert_eq!(taken.summary.default_dated, 0);
    }

    /// The one-call hash of a short input is the streaming hasher's, on either side of the
    /// length where it switches (identities are stored in caches and histories).
    #[test]
    fn stable_hash_is_the_streaming_hash() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..20_000 {
            let parts: Vec<Vec<u8>> = (0..rng.usize(0..5))
                .map(|_| (0..rng.usize(0..70)).map(|_| rng.u8(..)).collect())
                .collect();
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            assert_eq!(
                stable_hash(&parts),
                stable_hash_streamed(&parts),
                "{parts:?}"
            );
        }
        let id = b"msg_01o8J1LDUTGLctovaC7VsiSv";
        let req = b"req_011ChxvSpTWhHcPHDFP0KS4h";
        assert_eq!(
            stable_hash(&[b"claude-code", id, req]),
            stable_hash_streamed(&[b"claude-code", id, req])
        );
    }
}
