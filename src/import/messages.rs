//! Messages API logs (JSONL, `formats.md` section 5): the user's own request log, one JSON
//! object per line, in any of three shapes:
//!
//! - a full Message response: `{"id":"msg_..","type":"message","model":..,"usage":{..}}`;
//! - a wrapper: `{"timestamp"|"created_at"|"time": .., "response"|"message": {<Message>}}`;
//! - a flat record: `{"timestamp":..,"model":..,"input_tokens":..,"output_tokens":..,...}`.
//!
//! Users also keep responses as they come from an SDK or curl: JSON documents (one
//! pretty-printed Message per file, several concatenated, or a JSON array of any of the three
//! shapes; [`document`]) and captured SSE streams ([`sse`]). All of them go through
//! [`import_response`], so a response reads the same whichever way it was saved, and the same
//! response saved twice (same message id) counts once.
//!
//! Responses carry no time unless a logger added one. A JSONL log in which some lines have a
//! timestamp rejects the lines without one ([`NO_TIMESTAMP`]): placing them at a made-up time
//! would draw a false spike. A file in which NO response has a time (a saved response, a
//! stream, a log written without times) is dated by the date the user gives, else by the
//! file's modification date ([`DefaultDate`]), and the notes say which.
//!
//! The `usage` object and the Message response are in [`super::json`].

pub(crate) mod document;
pub(crate) mod sse;

use super::json::{
    ApiMessage, ApiUsage, CacheCreation, ServerToolUse, assumed_5m_note, json_error_reason, reject,
};
use super::{DefaultDate, Identity, LineFormat, ParsedFile, Stamp, Text, stable_hash};
use crate::domain::dataset::Note;
use crate::domain::records::UsageRecord;
use serde::Deserialize;

/// One log line (or one response of a JSON document), whichever of the three shapes it has.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LogLine<'a> {
    #[serde(default)]
    timestamp: Option<Stamp>,
    #[serde(default)]
    created_at: Option<Stamp>,
    #[serde(default)]
    time: Option<Stamp>,
    #[serde(borrow, default)]
    response: Option<ApiMessage<'a>>,
    #[serde(borrow, default)]
    message: Option<ApiMessage<'a>>,
    // A full Message, or a flat record.
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    model: Option<Text<'a>>,
    #[serde(borrow, default)]
    usage: Option<ApiUsage<'a>>,
    // A flat record's usage fields.
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
    #[serde(default)]
    server_tool_use: Option<ServerToolUse>,
    #[serde(borrow, default)]
    service_tier: Option<Text<'a>>,
    #[serde(borrow, default)]
    inference_geo: Option<Text<'a>>,
    #[serde(borrow, default)]
    speed: Option<Text<'a>>,
}

impl<'a> LogLine<'a> {
    /// The line's own time field (`timestamp`, else `created_at`, else `time`), taken out.
    fn take_stamp(&mut self) -> Option<Stamp> {
        self.timestamp
            .take()
            .or(self.created_at.take())
            .or(self.time.take())
    }

    fn has_stamp(&self) -> bool {
        self.timestamp.is_some() || self.created_at.is_some() || self.time.is_some()
    }

    /// (message id, model, usage) from whichever shape the line has.
    fn resolve(self) -> (Option<Text<'a>>, Option<Text<'a>>, Option<ApiUsage<'a>>) {
        if let Some(m) = self.response.or(self.message) {
            return (m.id, m.model.or(self.model), m.usage);
        }
        if self.usage.is_some() {
            return (self.id, self.model, self.usage);
        }
        let flat = self.input_tokens.is_some()
            || self.output_tokens.is_some()
            || self.cache_creation_input_tokens.is_some()
            || self.cache_read_input_tokens.is_some();
        let usage = flat.then_some(ApiUsage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            cache_read_input_tokens: self.cache_read_input_tokens,
            cache_creation: self.cache_creation,
            server_tool_use: self.server_tool_use,
            service_tier: self.service_tier,
            inference_geo: self.inference_geo,
            speed: self.speed,
        });
        (self.id, self.model, usage)
    }
}

#[derive(Default)]
pub(crate) struct Counts {
    no_usage: u64,
    assumed_5m: u64,
    /// Responses without a time rejected (some other response of the file has one).
    no_timestamp: u64,
    /// Responses dated by the default date (no response of the file has a time).
    dated_by_default: u64,
    /// Lines or responses that carry a time field (a valid time or not).
    stamped: u64,
    lines: u64,
}

impl Counts {
    fn merge(&mut self, from: Counts) {
        self.no_usage += from.no_usage;
        self.assumed_5m += from.assumed_5m;
        self.no_timestamp += from.no_timestamp;
        self.dated_by_default += from.dated_by_default;
        self.stamped += from.stamped;
        self.lines += from.lines;
    }

    /// No response of the file has a time of its own, and some were rejected for it: the
    /// file is one to date by the default date.
    pub(crate) fn all_undated(&self) -> bool {
        self.stamped == 0 && self.no_timestamp > 0
    }
}

/// The reason given for a line without a timestamp.
pub const NO_TIMESTAMP: &str = "no timestamp field (timestamp, created_at or time)";

/// Imports one response: its own time (`stamp`), else `default` (the file's default date,
/// given only when no response of the file has a time), else it is rejected with
/// `undated_reason`. Responses without usage (errors, other events) are skipped and counted.
#[allow(clippy::too_many_arguments)]
pub(crate) fn import_response(
    name: &str,
    line_no: u64,
    stamp: Option<Stamp>,
    id: Option<Text<'_>>,
    model: Option<Text<'_>>,
    usage: Option<ApiUsage<'_>>,
    default: Option<i64>,
    undated_reason: &str,
    out: &mut ParsedFile,
    counts: &mut Counts,
) {
    counts.stamped += stamp.is_some() as u64;
    let Some(usage) = usage else {
        // Error responses and other events carry no usage: nothing was billed for them.
        counts.no_usage += 1;
        out.summary.skipped += 1;
        return;
    };
    let time = match stamp {
        Some(Stamp::At(t)) => t,
        Some(Stamp::Invalid(v)) => {
            return reject(
                out,
                name,
                line_no,
                format!("timestamp: not RFC 3339 or Unix seconds: {v}"),
            );
        }
        None => match default {
            Some(t) => {
                counts.dated_by_default += 1;
                t
            }
            None => {
                counts.no_timestamp += 1;
                return reject(out, name, line_no, undated_reason.to_owned());
            }
        },
    };
    let model = model.as_deref().unwrap_or("").trim();
    if model.is_empty() {
        return reject(out, name, line_no, "no model field".to_owned());
    }
    let terms = match usage.terms() {
        Ok(t) => t,
        Err(e) => return reject(out, name, line_no, e),
    };
    let (tokens, assumed) = usage.tokens();
    if let Err(why) = super::values::check_tokens(&tokens, usage.web_search(), true) {
        return reject(out, name, line_no, why);
    }
    counts.assumed_5m += assumed as u64;
    let identity = match id.as_deref().filter(|s| !s.is_empty()) {
        // The same response logged twice (or the log loaded twice, or the same response
        // saved as JSON and as a stream) counts once.
        Some(id) => Identity::Message {
            id: stable_hash(&[b"message", id.as_bytes()]),
            sidechain: false,
        },
        None => Identity::None,
    };
    let r = UsageRecord {
        time,
        model: out.symbols.intern(model),
        tier: terms.tier,
        geo: terms.geo,
        speed: terms.speed,
        tokens,
        web_search: usage.web_search(),
        ..UsageRecord::REQUEST
    };
    out.records.push((r, identity));
}

/// The summary of a file of responses once all are read: rows and notes. `what` names the
/// file's units ("lines", "responses").
pub(crate) fn finish(out: &mut ParsedFile, c: &Counts, date: DefaultDate, what: &str) {
    out.summary.rows = out.records.len() as u64;
    out.summary.default_dated = c.dated_by_default;
    let notes = &mut out.summary.notes;
    if c.assumed_5m > 0 {
        notes.push(assumed_5m_note(c.assumed_5m).into());
    }
    if c.no_usage > 0 {
        notes.push(Note::from(format!(
            "{} {what} have no usage object (errors or other events) and were skipped",
            c.no_usage
        )));
    }
    if c.dated_by_default > 0 {
        notes.push(Note::from(date.note(c.dated_by_default, "responses")));
    }
    if c.no_timestamp > 0 {
        let which = if c.stamped == 0 {
            "no response of this file has a time and no date was given, so nothing was imported (give one with --date YYYY-MM-DD)".to_owned()
        } else {
            format!(
                "{} {what} have no timestamp and were rejected",
                c.no_timestamp
            )
        };
        notes.push(Note::from(format!(
            "{which}: usage must be placed in time; log each response with one, \
             e.g. {{\"timestamp\":\"2026-02-18T11:30:24Z\",\"response\":{{...}}}}"
        )));
    }
}

/// The user's Messages API log (JSONL). `date` dates lines without a time; it is
/// [`DefaultDate::Unknown`] on a first reading, and the file is read again with the real
/// default only when no line had a time ([`MessagesLog::all_undated`]).
pub(crate) struct MessagesLog<'n> {
    pub name: &'n str,
    pub date: DefaultDate,
    all_undated: std::sync::atomic::AtomicBool,
}

impl<'n> MessagesLog<'n> {
    pub fn new(name: &'n str, date: DefaultDate) -> Self {
        MessagesLog {
            name,
            date,
            all_undated: Default::default(),
        }
    }

    /// After a reading: no line had a time, and some were rejected for it.
    pub fn all_undated(&self) -> bool {
        self.all_undated.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl LineFormat for MessagesLog<'_> {
    type Counts = Counts;

    fn file_name(&self) -> &str {
        self.name
    }

    fn parse_line(&self, line: &[u8], line_no: u64, out: &mut ParsedFile, counts: &mut Counts) {
        counts.lines += 1;
        let mut parsed: LogLine = match serde_json::from_slice(line) {
            Ok(l) => l,
            Err(e) => {
                return reject(
                    out,
                    self.name,
                    line_no,
                    json_error_reason::<LogLine>(line, &e),
                );
            }
        };
        let stamp = parsed.take_stamp();
        let (id, model, usage) = parsed.resolve();
        import_response(
            self.name,
            line_no,
            stamp,
            id,
            model,
            usage,
            self.date.time(),
            NO_TIMESTAMP,
            out,
            counts,
        );
    }

    fn merge_counts(into: &mut Counts, from: Counts) {
        into.merge(from);
    }

    fn finish(&self, out: &mut ParsedFile, c: Counts) {
        self.all_undated
            .store(c.all_undated(), std::sync::atomic::Ordering::Relaxed);
        finish(out, &c, self.date, "lines");
    }
}
