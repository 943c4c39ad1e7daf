//! Messages API responses kept as JSON documents (`formats.md` section 5): one pretty-printed
//! Message per `.json` file as an SDK or curl prints it, several such objects concatenated,
//! or a JSON array of responses in any of the log's three shapes (Message, wrapper with a
//! timestamp, flat record).
//!
//! The file is read whole (saved responses are small). Each response's extent is found first
//! (a syntax error stops the reading there, keeping the responses before it, and is reported
//! on its line); then each response is read on its own, so a response with a field of the
//! wrong type is rejected alone, on the line it starts on.

use super::{Counts, LogLine, NO_TIMESTAMP, finish, import_response};
use crate::import::json::{json_error_reason, reject};
use crate::import::{DefaultDate, ParsedFile};

/// Where the responses of a document are: byte ranges of JSON objects, with the line each
/// starts on; and a value that is not a response object, by its line.
enum Item {
    Object { line: u64, start: usize, end: usize },
    NotAnObject { line: u64, what: &'static str },
}

/// Counts lines as offsets move forward through the text (no rescanning from the start).
struct Lines<'t> {
    text: &'t [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    fn line_of(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset >= self.at {
            self.line += memchr::memchr_iter(b'\n', &self.text[self.at..offset]).count() as u64;
        } else {
            self.line -= memchr::memchr_iter(b'\n', &self.text[offset..self.at]).count() as u64;
        }
        self.at = offset;
        self.line
    }
}

fn skip_ws(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end of the JSON value that starts at `start`, or why it does not parse, with the
/// error's line counted from the value's first line (as serde_json counts it).
fn value_end(text: &[u8], start: usize) -> Result<usize, (u64, String)> {
    let mut stream =
        serde_json::Deserializer::from_slice(&text[start..]).into_iter::<serde::de::IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => Ok(start + stream.byte_offset()),
        Some(Err(e)) => {
            let why = if e.is_eof() {
                "the file ends inside a response (truncated?)".to_owned()
            } else {
                // serde_json's own position counts from the value's start: the line is
                // reported as the file's line instead.
                let e = e.to_string();
                format!(
                    "not valid JSON: {}",
                    e.split(" at line ").next().unwrap_or(&e)
                )
            };
            Err((e.line().max(1) as u64 - 1, why))
        }
        None => Ok(text.len()),
    }
}

fn kind_of(b: u8) -> &'static str {
    match b {
        b'"' => "a string",
        b'[' => "an array",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    }
}

/// The responses of the document, in order; stops at a syntax error, returned with its line.
fn items(text: &[u8], lines: &mut Lines) -> (Vec<Item>, Option<(u64, String)>) {
    let mut items = Vec::new();
    let mut i = skip_ws(text, 0);
    while i < text.len() {
        match text[i] {
            b'{' => match value_end(text, i) {
                Ok(end) => {
                    items.push(Item::Object {
                        line: lines.line_of(i),
                        start: i,
                        end,
                    });
                    i = end;
                }
                Err((below, why)) => return (items, Some((lines.line_of(i) + below, why))),
            },
            b'[' => {
                // An array of responses: each element is read on its own.
                i = skip_ws(text, i + 1);
                loop {
                    if i >= text.len() {
                        let line = lines.line_of(text.len());
                        return (
                            items,
                            Some((
                                line,
                                "the file ends inside the array (truncated?)".to_owned(),
                            )),
                        );
                    }
                    if text[i] == b']' {
                        i += 1;
                        break;
                    }
                    let end = match value_end(text, i) {
                        Ok(end) => end,
                        Err((below, why)) => {
                            return (items, Some((lines.line_of(i) + below, why)));
                        }
                    };
                    let line = lines.line_of(i);
                    items.push(if text[i] == b'{' {
                        Item::Object {
                            line,
                            start: i,
                            end,
                        }
                    } else {
                        Item::NotAnObject {
                            line,
                            what: kind_of(text[i]),
                        }
                    });
                    i = skip_ws(text, end);
                    match text.get(i) {
                        Some(b',') => i = skip_ws(text, i + 1),
                        Some(b']') => {}
                        Some(_) => {
                            let line = lines.line_of(i);
                            return (
                                items,
                                Some((line, "not valid JSON: expected `,` or `]`".to_owned())),
                            );
                        }
                        None => {}
                    }
                }
            }
            b => {
                let line = lines.line_of(i);
                return (
                    items,
                    Some((
                        line,
                        format!(
                            "not a response: expected a JSON object or array, found {}",
                            if b.is_ascii_graphic() {
                                format!("`{}`", b as char)
                            } else {
                                format!("byte 0x{b:02x}")
                            }
                        ),
                    )),
                );
            }
        }
        i = skip_ws(text, i);
    }
    (items, None)
}

/// Parses a JSON document of responses (the whole file's bytes).
pub(crate) fn parse(name: &str, bytes: &[u8], date: DefaultDate) -> ParsedFile {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = ParsedFile::default();
    let mut lines = Lines {
        text,
        at: 0,
        line: 1,
    };
    let (items, error) = items(text, &mut lines);
    // Each response on its own; whether any has a time decides how undated ones are dated.
    let mut read: Vec<(u64, Result<LogLine, String>)> = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Object { line, start, end } => {
                let slice = &text[start..end];
                let r = serde_json::from_slice::<LogLine>(slice)
                    .map_err(|e| json_error_reason::<LogLine>(slice, &e));
                read.push((line, r));
            }
            Item::NotAnObject { line, what } => {
                read.push((line, Err(format!("not a response: {what}, not an object"))))
            }
        }
    }
    let any_time = read
        .iter()
        .any(|(_, r)| r.as_ref().is_ok_and(|l| l.has_stamp()));
    let default = if any_time { None } else { date.time() };
    let mut counts = Counts::default();
    for (line, r) in read {
        counts.lines += 1;
        match r {
            Ok(mut l) => {
                let stamp = l.take_stamp();
                let (id, model, usage) = l.resolve();
                import_response(
                    name,
                    line,
                    stamp,
                    id,
                    model,
                    usage,
                    default,
                    NO_TIMESTAMP,
                    &mut out,
                    &mut counts,
                );
            }
            Err(why) => reject(&mut out, name, line, why),
        }
    }
    if let Some((line, why)) = error {
        let why = if out.records.is_empty() {
            why
        } else {
            format!("{why} (the responses before it were imported)")
        };
        reject(&mut out, name, line, why);
    }
    finish(&mut out, &counts, date, "responses");
    if text.iter().all(u8::is_ascii_whitespace) {
        out.summary
            .notes
            .push("the file is empty".to_owned().into());
    }
    out
}
