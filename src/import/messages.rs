//! Messages API logs (JSONL, `formats.md` section 5): the user's own request log, one JSON
//! object per line, in any of three shapes:
//!
//! - a full Message response: `{"id":"msg_..","type":"message","model":..,"usage":{..}}`;
//! - a wrapper: `{"timestamp"|"created_at"|"time": .., "response"|"message": {<Message>}}`;
//! - a flat record: `{"timestamp":..,"model":..,"input_tokens":..,"output_tokens":..,...}`.
//!
//! Also home of the `usage` object that Messages responses, Message Batches results and
//! Claude Code lines share ([`ApiUsage`]).

use super::{Identity, LineFormat, ParsedFile, Rejected, Stamp, Text, stable_hash};
use crate::records::{Geo, Speed, Tier, Tokens, UsageRecord};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct CacheCreation {
    #[serde(default)]
    pub ephemeral_5m_input_tokens: Option<u64>,
    #[serde(default)]
    pub ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct ServerToolUse {
    #[serde(default)]
    pub web_search_requests: Option<u64>,
}

/// The Messages API `usage` object. Every field is optional: older responses lack the
/// `cache_creation` split, `service_tier`, `inference_geo` and `speed`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct ApiUsage<'a> {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation: Option<CacheCreation>,
    #[serde(default)]
    pub server_tool_use: Option<ServerToolUse>,
    #[serde(borrow, default)]
    pub service_tier: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub inference_geo: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub speed: Option<Text<'a>>,
}

/// Price terms of one request, from its `usage`.
pub(crate) struct UsageTerms {
    pub tier: Tier,
    pub geo: Geo,
    pub speed: Speed,
}

impl ApiUsage<'_> {
    /// Token counts by category, and whether the cache writes had to be taken as 5-minute
    /// writes: `cache_creation_input_tokens` is the sum of both write kinds, and when a log has
    /// only the sum (older API versions) pricing.md says to count it as 5-minute writes.
    pub fn tokens(&self) -> (Tokens<u64>, bool) {
        let total_writes = self.cache_creation_input_tokens.unwrap_or(0);
        let (w5, w1, assumed) = match self.cache_creation {
            Some(c) => {
                let (w5, w1) = (
                    c.ephemeral_5m_input_tokens.unwrap_or(0),
                    c.ephemeral_1h_input_tokens.unwrap_or(0),
                );
                // A split of zeros next to a non-zero sum says nothing about the TTL.
                if w5 + w1 == 0 && total_writes > 0 {
                    (total_writes, 0, true)
                } else {
                    (w5, w1, false)
                }
            }
            None => (total_writes, 0, total_writes > 0),
        };
        let t = Tokens {
            uncached_input: self.input_tokens.unwrap_or(0),
            cache_write_5m: w5,
            cache_write_1h: w1,
            cache_read: self.cache_read_input_tokens.unwrap_or(0),
            output: self.output_tokens.unwrap_or(0),
        };
        (t, assumed)
    }

    pub fn web_search(&self) -> u64 {
        self.server_tool_use
            .and_then(|s| s.web_search_requests)
            .unwrap_or(0)
    }

    pub fn terms(&self) -> Result<UsageTerms, String> {
        let tier_s = self.service_tier.as_deref().unwrap_or("");
        let tier = Tier::parse(tier_s)
            .ok_or_else(|| format!("usage.service_tier: unknown service tier {tier_s:?}"))?;
        let geo_s = self.inference_geo.as_deref().unwrap_or("");
        let geo = Geo::parse(geo_s)
            .ok_or_else(|| format!("usage.inference_geo: unknown value {geo_s:?}"))?;
        let speed_s = self.speed.as_deref().unwrap_or("");
        let speed = Speed::parse(speed_s)
            .ok_or_else(|| format!("usage.speed: unknown value {speed_s:?}"))?;
        Ok(UsageTerms { tier, geo, speed })
    }
}

/// The parts of a Message response that usage needs.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiMessage<'a> {
    #[serde(borrow, default)]
    pub id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub model: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub usage: Option<ApiUsage<'a>>,
}

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

/// Why a line that serde could not read as a `T` was not imported: broken JSON (a truncated
/// line), or valid JSON with a field of an unexpected type, named by its path. Lines that
/// fail are read a second time to find the path, so the common case pays nothing for it.
pub(crate) fn json_error_reason<'a, T: Deserialize<'a>>(
    line: &'a [u8],
    e: &serde_json::Error,
) -> String {
    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
        Err(_) if e.is_eof() => "not valid JSON: the line ends early (truncated?)".to_owned(),
        Err(e2) => format!("not valid JSON: {e2}"),
        Ok(_) => {
            let mut de = serde_json::Deserializer::from_slice(line);
            let Err(err) = serde_path_to_error::deserialize::<_, T>(&mut de) else {
                return format!("unexpected field type: {e}");
            };
            let path = err.path().to_string();
            let inner = err.inner().to_string();
            // serde_json reads an integer beyond u64 as a float: say what a count must be.
            let what = match inner.split_once("invalid type: floating point `") {
                Some((_, rest)) if inner.contains("expected u64") => {
                    let v = rest.split('`').next().unwrap_or_default();
                    format!(
                        "not a count: {v} (counts are whole numbers from 0 to {})",
                        u64::MAX
                    )
                }
                _ => inner
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            };
            format!("{path}: {what}")
        }
    }
}

pub(crate) fn reject(out: &mut ParsedFile, file: &str, line: u64, reason: String) {
    out.rejected.push(Rejected {
        file: file.to_owned(),
        line,
        reason,
    });
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

/// The note for lines whose cache writes had no 5m/1h split.
pub(crate) fn assumed_5m_note(n: u64) -> String {
    format!(
        "{n} lines give cache writes only as cache_creation_input_tokens (no 5m/1h split): counted as 5-minute writes"
    )
}
