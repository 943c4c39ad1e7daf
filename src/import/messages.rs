//! Messages API logs (JSONL, `formats.md` section 5): the user's own request log, one JSON
//! object per line, in any of three shapes:
//!
//! - a full Message response: `{"id":"msg_..","type":"message","model":..,"usage":{..}}`;
//! - a wrapper: `{"timestamp"|"created_at"|"time": .., "response"|"message": {<Message>}}`;
//! - a flat record: `{"timestamp":..,"model":..,"input_tokens":..,"output_tokens":..,...}`.
//!
//! The `usage` object and the Message response are in [`super::api`].

use super::api::{
    ApiMessage, ApiUsage, CacheCreation, ServerToolUse, assumed_5m_note, json_error_reason, reject,
};
use super::{Identity, LineFormat, ParsedFile, Stamp, Text, stable_hash};
use crate::records::UsageRecord;
use serde::Deserialize;

/// One log line, whichever of the three shapes it has.
#[derive(Debug, Default, Deserialize)]
struct LogLine<'a> {
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
    no_timestamp: u64,
    lines: u64,
}

pub(crate) struct MessagesLog<'n> {
    pub name: &'n str,
}

/// The reason given for a line without a timestamp.
pub const NO_TIMESTAMP: &str = "no timestamp field (timestamp, created_at or time)";

impl LineFormat for MessagesLog<'_> {
    type Counts = Counts;

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
        let stamp = parsed
            .timestamp
            .take()
            .or(parsed.created_at.take())
            .or(parsed.time.take());
        let (id, model, usage) = parsed.resolve();
        let Some(usage) = usage else {
            // Error responses and other events carry no usage: nothing was billed for them.
            counts.no_usage += 1;
            out.summary.skipped += 1;
            return;
        };
        // A request log without times cannot be plotted, and placing every request at the
        // file's date would draw a false spike; such lines are rejected with the reason (and
        // `finish` explains how to log a timestamp) rather than imported at a made-up time.
        let time = match stamp {
            Some(Stamp::At(t)) => t,
            Some(Stamp::Invalid(v)) => {
                return reject(
                    out,
                    self.name,
                    line_no,
                    format!("timestamp: not RFC 3339 or Unix seconds: {v}"),
                );
            }
            None => {
                counts.no_timestamp += 1;
                return reject(out, self.name, line_no, NO_TIMESTAMP.to_owned());
            }
        };
        let model = model.as_deref().unwrap_or("").trim();
        if model.is_empty() {
            return reject(out, self.name, line_no, "no model field".to_owned());
        }
        let terms = match usage.terms() {
            Ok(t) => t,
            Err(e) => return reject(out, self.name, line_no, e),
        };
        let (tokens, assumed) = usage.tokens();
        counts.assumed_5m += assumed as u64;
        let identity = match id.as_deref().filter(|s| !s.is_empty()) {
            // The same response logged twice (or the log loaded twice) counts once.
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

    fn merge_counts(into: &mut Counts, from: Counts) {
        into.no_usage += from.no_usage;
        into.assumed_5m += from.assumed_5m;
        into.no_timestamp += from.no_timestamp;
        into.lines += from.lines;
    }

    fn finish(&self, out: &mut ParsedFile, c: Counts) {
        out.summary.rows = out.records.len() as u64;
        let notes = &mut out.summary.notes;
        if c.assumed_5m > 0 {
            notes.push(assumed_5m_note(c.assumed_5m));
        }
        if c.no_usage > 0 {
            notes.push(format!(
                "{} lines have no usage object (errors or other events) and were skipped",
                c.no_usage
            ));
        }
        if c.no_timestamp > 0 {
            let which = if c.no_timestamp == c.lines {
                "no line of this log has a timestamp, so nothing was imported".to_owned()
            } else {
                format!(
                    "{} lines have no timestamp and were rejected",
                    c.no_timestamp
                )
            };
            notes.push(format!(
                "{which}: usage must be placed in time; log each response with one, \
                 e.g. {{\"timestamp\":\"2026-02-18T11:30:24Z\",\"response\":{{...}}}}"
            ));
        }
    }
}

