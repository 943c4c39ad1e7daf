//! Captured SSE streams of the Messages API (`formats.md` section 5), as `curl -N` or a
//! proxy saves them:
//!
//! ```text
//! event: message_start
//! data: {"type":"message_start","message":{"id":"msg_..","model":"..","usage":{"input_tokens":..,...,"output_tokens":1}}}
//! event: content_block_delta ... event: ping ...
//! event: message_delta
//! data: {"type":"message_delta","delta":{..},"usage":{"output_tokens":312}}
//! event: message_stop
//! ```
//!
//! `message_start` carries the model and the input usage; `message_delta` the final usage,
//! and each field it carries replaces the start's. Several streams in one file are several
//! responses. A stream that ends in `event: error` was not billed: skipped and counted. A
//! `data:` line may come without its `event:` line (the JSON's `type` tells), lines may end
//! in CRLF, and other lines (`id:`, `retry:`, comments, HTTP headers) are ignored. A stream
//! cut off before its final usage is rejected on its `message_start` line. Streams carry no
//! time: they are dated by the date given or the file's date (see [`super`]).

use super::{Counts, finish, import_response};
use crate::domain::dataset::Note;
use crate::import::json::{ApiMessage, ApiUsage, json_error_reason, reject};
use crate::import::{DefaultDate, ParsedFile, Text};
use serde::Deserialize;

/// The reason given for a stream when no date is known (in-memory data without one given).
pub const UNDATED: &str = "a captured stream carries no time and no date was given (--date)";

/// One `data:` payload: only what usage needs.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    message: Option<ApiMessage<'a>>,
    #[serde(borrow, default)]
    usage: Option<ApiUsage<'a>>,
}

/// A response whose stream has started and not stopped.
struct Open<'a> {
    /// Line of its `message_start`.
    line: u64,
    id: Option<Text<'a>>,
    model: Option<Text<'a>>,
    usage: Option<ApiUsage<'a>>,
    /// A `message_delta` (the final usage) was seen.
    final_usage: bool,
}

/// The value of an SSE field line `name: value` (one space after the colon is dropped).
fn field<'t>(line: &'t [u8], name: &[u8]) -> Option<&'t [u8]> {
    let rest = line.strip_prefix(name)?.strip_prefix(b":")?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// Parses a captured stream (the whole file's bytes).
pub(crate) fn parse(name: &str, bytes: &[u8], date: DefaultDate) -> ParsedFile {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = ParsedFile::default();
    let mut counts = Counts::default();
    let mut error_streams = 0u64;
    let default = date.time();
    let close = |o: Open, stopped: bool, out: &mut ParsedFile, counts: &mut Counts| {
        if !stopped && !o.final_usage {
            return reject(
                out,
                name,
                o.line,
                "the stream ends before its final usage (message_delta): cut off?".to_owned(),
            );
        }
        counts.lines += 1;
        import_response(
            name, o.line, None, o.id, o.model, o.usage, default, UNDATED, out, counts,
        );
    };
    let mut open: Option<Open> = None;
    // The `event:` name of the block being read (until a blank line).
    let mut event: Option<&str> = None;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.trim_ascii().is_empty() {
            event = None;
            continue;
        }
        if let Some(ev_name) = field(line, b"event") {
            event = std::str::from_utf8(ev_name).ok().map(str::trim);
            continue;
        }
        let Some(data) = field(line, b"data") else {
            continue;
        };
        if data.trim_ascii().is_empty() {
            continue;
        }
        let ev: Event = match serde_json::from_slice(data) {
            Ok(ev) => ev,
            Err(e) => {
                reject(
                    &mut out,
                    name,
                    line_no,
                    json_error_reason::<Event>(data, &e),
                );
                continue;
            }
        };
        match ev.kind.as_deref().or(event).unwrap_or("") {
            "message_start" => {
                if let Some(o) = open.take() {
                    close(o, false, &mut out, &mut counts);
                }
                let m = ev.message.unwrap_or_default();
                open = Some(Open {
                    line: line_no,
                    id: m.id,
                    model: m.model,
                    usage: m.usage,
                    final_usage: false,
                });
            }
            "message_delta" => match &mut open {
                Some(o) => {
                    if let Some(u) = ev.usage {
                        match &mut o.usage {
                            Some(usage) => usage.update(u),
                            None => o.usage = Some(u),
                        }
                    }
                    o.final_usage = true;
                }
                None => reject(
                    &mut out,
                    name,
                    line_no,
                    "message_delta without a message_start before it".to_owned(),
                ),
            },
            "message_stop" => {
                if let Some(o) = open.take() {
                    close(o, true, &mut out, &mut counts);
                }
            }
            "error" => {
                // The response being streamed, if any, ends here and was not billed.
                open = None;
                error_streams += 1;
                out.summary.skipped += 1;
            }
            _ => {}
        }
    }
    if let Some(o) = open.take() {
        close(o, false, &mut out, &mut counts);
    }
    // Reported in line order (a stream cut off is known only when the next one starts).
    out.rejected.sort_by_key(|r| r.line);
    finish(&mut out, &counts, date, "streams");
    if error_streams > 0 {
        out.summary.notes.push(Note::from(format!(
            "{error_streams} streams ended in an error event (not billed) and were skipped"
        )));
    }
    if out.records.is_empty() && out.rejected.is_empty() && error_streams == 0 {
        out.summary.notes.push(
            "no message_start in this stream: nothing to import"
                .to_owned()
                .into(),
        );
    }
    out
}
