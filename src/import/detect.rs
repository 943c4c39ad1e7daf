//! Format detection, by content (not by file name): the one place that knows what each
//! supported file looks like at its start.

pub use crate::domain::format::Format;

pub const SUPPORTED: &str = "a Console usage or cost CSV, an Admin API usage or cost report (JSON), \
a Messages API log (JSONL), saved Messages API responses (JSON) or streams (SSE), Message Batches \
results (JSONL), or a Claude Code log folder (~/.claude/projects)";

/// Detects the format from the first bytes of a file (64 KiB is plenty).
pub fn detect_format(head: &[u8]) -> Result<Format, String> {
    detect(head, true)
}

/// [`detect_format`], with or without the quick judgement of a Claude Code first line
/// ([`claude_code_first_line`]), which never changes the answer (tested).
fn detect(head: &[u8], quick: bool) -> Result<Format, String> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("the file is empty".into());
    }
    if let Some(kind) = binary_kind(head) {
        return Err(format!("this is {kind}, not a usage export ({SUPPORTED})"));
    }
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if matches!(head[start], b'{' | b'[') {
        let head = &head[start..];
        if quick && let Some(f) = claude_code_first_line(head) {
            return Ok(f);
        }
        return detect_json(head);
    }
    if is_sse(&head[start..]) {
        return Ok(Format::MessagesSse);
    }
    // A lone CR ends the line too (Excel for Mac's CSV); a CRLF file splits the same way.
    // Blank lines and `#` comments before the header are skipped (some tools write them).
    let first_line = head
        .split(|&b| b == b'\n' || b == b'\r')
        .find(|l| {
            let l = l.trim_ascii();
            !l.is_empty() && !l.starts_with(b"#")
        })
        .unwrap_or(head);
    let first_line = String::from_utf8_lossy(first_line);
    let header: Vec<String> = first_line
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let has = |name: &str| header.iter().any(|h| h == name);
    if has("usage_input_tokens_no_cache") || (has("usage_date_utc") && has("usage_output_tokens")) {
        return Ok(Format::ConsoleUsageCsv);
    }
    if has("token_type") && has("cost_usd") {
        return Ok(Format::ConsoleCostCsv);
    }
    Err(format!(
        "not a recognised usage file: expected {SUPPORTED}; the first line is {:?}",
        first_line.chars().take(120).collect::<String>()
    ))
}

fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "a PNG image"),
        // Excel's "Unicode Text" / UTF-16 CSV: said plainly rather than "a binary file".
        (
            b"\xff\xfe",
            "UTF-16 text (save it as CSV UTF-8, or export it again)",
        ),
        (
            b"\xfe\xff",
            "UTF-16 text (save it as CSV UTF-8, or export it again)",
        ),
        (b"PK\x03\x04", "a ZIP archive (unzip it first)"),
        (b"\x1f\x8b", "a gzip archive (decompress it first)"),
        (b"%PDF", "a PDF document"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"SQLite format 3", "an SQLite database"),
        (
            b"\xd0\xcf\x11\xe0",
            "an old Excel/Office file (save it as CSV)",
        ),
    ];
    if let Some((_, kind)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(kind);
    }
    let sample = &head[..head.len().min(4096)];
    if sample.contains(&0) {
        return Some("a binary file");
    }
    None
}

/// A captured SSE stream: among its first lines, `event:` or `data:` fields, and a Messages
/// API stream event (a curl capture may start with HTTP headers: they are skipped).
fn is_sse(head: &[u8]) -> bool {
    let fields = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(64)
        .any(|l| l.starts_with(b"event:") || l.starts_with(b"data:"));
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    fields && (has(b"message_start") || has(b"message_delta") || has(b"event: error"))
}

/// What one JSON value (a line of a JSONL file, or a whole one-line report) says about its
/// format, from its top-level keys; `None` when it could belong to several (an error line, a
/// blank record).
fn json_line_kind(v: &serde_json::Value) -> Option<Format> {
    if let Some(items) = v.as_array() {
        let first = items.first()?;
        if is_report_page(first) {
            return report_kind(v.to_string().as_bytes());
        }
        // A JSON array of responses (Messages, wrappers or flat records).
        return matches!(
            json_line_kind(first),
            Some(Format::MessagesJsonl | Format::MessagesJson)
        )
        .then_some(Format::MessagesJson);
    }
    let o = v.as_object()?;
    let has = |k: &str| o.contains_key(k);
    let obj_has = |k: &str, inner: &str| {
        o.get(k)
            .and_then(|x| x.as_object())
            .is_some_and(|x| x.contains_key(inner))
    };
    if is_report_page(v) {
        return report_kind(v.to_string().as_bytes());
    }
    if has("custom_id") && has("result") {
        return Some(Format::BatchResultsJsonl);
    }
    // Claude Code lines carry session bookkeeping that no API response has, and are typed
    // (user, assistant, summary...) with uuids. A sessionId alone is not enough: a user's own
    // request log may carry one (it was taken for a Claude Code log and imported nothing).
    let kind = o.get("type").and_then(|t| t.as_str());
    let session = has("sessionId") || has("parentUuid") || has("leafUuid");
    let claude_code_shape = has("uuid")
        || matches!(
            kind,
            Some("user" | "assistant" | "system" | "summary" | "file-history-snapshot")
        );
    if (session && claude_code_shape) || kind == Some("file-history-snapshot") {
        return Some(Format::ClaudeCodeJsonl);
    }
    if obj_has("response", "usage")
        || obj_has("message", "usage")
        || has("usage")
        || has("input_tokens")
        || has("output_tokens")
    {
        return Some(Format::MessagesJsonl);
    }
    None
}

/// A page of an Admin API report: `data` is an array of time buckets (or empty, next to the
/// paging fields).
fn is_report_page(v: &serde_json::Value) -> bool {
    match v.get("data").and_then(|d| d.as_array()) {
        Some(buckets) => match buckets.first() {
            Some(b) => b.get("starting_at").is_some(),
            None => v.get("has_more").is_some(),
        },
        None => false,
    }
}

/// Usage or cost report, from a page's text: cost results carry `amount` (next to `currency`,
/// `cost_type` or `description`: a result may carry only some of them), usage results token
/// counts. A page of empty buckets is read as a usage report (it adds nothing either way).
fn report_kind(text: &[u8]) -> Option<Format> {
    let has = |k: &[u8]| memchr::memmem::find(text, k).is_some();
    if has(b"\"amount\"")
        && (has(b"\"currency\"") || has(b"\"cost_type\"") || has(b"\"description\""))
    {
        Some(Format::AdminCostJson)
    } else {
        Some(Format::AdminUsageJson)
    }
}

/// JSON or JSONL, judged by the top-level keys of the first decisive complete lines; failing
/// that (a pretty-printed report, or a first line longer than the head), by the keys the head
/// contains. Lines come first: a Claude Code log may well quote a report in a tool result.
fn detect_json(head: &[u8]) -> Result<Format, String> {
    let mut lines = head.split(|&b| b == b'\n');
    // JSON lines: the first line, read whole by `detect_document`, is judged first and not
    // parsed again (a Claude Code session's first line is often a long prompt).
    let mut first = match detect_document(head) {
        Document::Is(f) => return Ok(f),
        Document::FirstLine(v) => {
            lines.next();
            Some(v)
        }
        Document::Neither => None,
    };
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    let mut keys_seen: Vec<String> = Vec::new();
    let mut complete_lines = 0;
    loop {
        let v = match first.take() {
            Some(v) => v,
            None => {
                let Some(line) = lines.next() else { break };
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                    continue;
                };
                v
            }
        };
        complete_lines += 1;
        if let Some(f) = json_line_kind(&v) {
            return Ok(f);
        }
        if keys_seen.is_empty()
            && let Some(o) = v.as_object()
        {
            keys_seen = o.keys().take(8).cloned().collect();
        }
        if complete_lines >= 20_000 {
            break;
        }
    }
    if complete_lines == 0 && (has(b"\"sessionId\"") || has(b"\"parentUuid\"")) {
        return Ok(Format::ClaudeCodeJsonl);
    }
    if has(b"\"starting_at\"") && has(b"\"data\"") && (has(b"\"results\"") || has(b"\"ending_at\""))
    {
        return report_kind(head).ok_or_else(String::new);
    }
    if complete_lines == 0 {
        if has(b"\"custom_id\"") && has(b"\"result\"") {
            return Ok(Format::BatchResultsJsonl);
        }
        if has(b"\"usage\"") && has(b"\"output_tokens\"") {
            return Ok(Format::MessagesJsonl);
        }
    }
    let what = if keys_seen.is_empty() {
        "JSON without usage fields".to_owned()
    } else {
        format!("JSON with fields {}", keys_seen.join(", "))
    };
    Err(format!(
        "not a recognised usage file: expected {SUPPORTED}; found {what}"
    ))
}

/// A first line that is a Claude Code log line by the rule of [`json_line_kind`], judged
/// without building its `serde_json::Value`: a session's first line (often a long prompt) had
/// each of its keys and strings allocated, 3% of the work of a cold import of a Claude Code
/// folder of 13,280 files, of which this line's kind is all that is used. `Some` only when the
/// line is one JSON object alone on its line (what [`detect_document`] hands to
/// `json_line_kind` as the first line), read with the checks of a `Value`'s reading (each value
/// through `deserialize_any`: strings checked as UTF-8 with their escapes, numbers in range,
/// a member given twice taken at its last), with no `data` member (a report page has one) and
/// not both of a batch result's `custom_id` and `result`, which `json_line_kind` judges
/// first. Anything else is left to the full reading.
fn claude_code_first_line(head: &[u8]) -> Option<Format> {
    use serde::Deserialize;
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    /// What a value is, for the `type` member (any other member's value is read the same
    /// way, and its answer not used).
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        /// `user`, `assistant`, `system` or `summary`.
        Entry,
        /// `file-history-snapshot`.
        Snapshot,
        Other,
    }
    struct Value(Kind);
    impl<'de> Deserialize<'de> for Value {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
            d.deserialize_any(ValueVisitor)
        }
    }
    struct ValueVisitor;
    impl<'de> Visitor<'de> for ValueVisitor {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
            Ok(Value(Kind::Other))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
            Ok(Value(Kind::Other))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
            Ok(Value(Kind::Other))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
            Ok(Value(Kind::Other))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
            Ok(Value(Kind::Other))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
            Ok(Value(match s {
                "user" | "assistant" | "system" | "summary" => Kind::Entry,
                "file-history-snapshot" => Kind::Snapshot,
                _ => Kind::Other,
            }))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
            while a.next_element::<Value>()?.is_some() {}
            Ok(Value(Kind::Other))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
            while a.next_key::<Key>()?.is_some() {
                a.next_value::<Value>()?;
            }
            Ok(Value(Kind::Other))
        }
    }
    /// A member's name, read as a `Value`'s keys are (`deserialize_str`).
    #[derive(PartialEq)]
    enum Key {
        Session,
        Uuid,
        Type,
        Data,
        CustomId,
        Result,
        Other,
    }
    impl<'de> Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
            d.deserialize_str(KeyVisitor)
        }
    }
    struct KeyVisitor;
    impl Visitor<'_> for KeyVisitor {
        type Value = Key;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a member name")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
            Ok(match s {
                "sessionId" | "parentUuid" | "leafUuid" => Key::Session,
                "uuid" => Key::Uuid,
                "type" => Key::Type,
                "data" => Key::Data,
                "custom_id" => Key::CustomId,
                "result" => Key::Result,
                _ => Key::Other,
            })
        }
    }
    /// The members of the line's object that the rule looks at.
    #[derive(Default)]
    struct Line {
        session: bool,
        uuid: bool,
        kind: Option<Kind>,
        data: bool,
        custom_id: bool,
        result: bool,
    }
    impl<'de> Deserialize<'de> for Line {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Line, D::Error> {
            d.deserialize_any(LineVisitor)
        }
    }
    struct LineVisitor;
    impl<'de> Visitor<'de> for LineVisitor {
        type Value = Line;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Line, A::Error> {
            let mut l = Line::default();
            while let Some(k) = a.next_key::<Key>()? {
                let v = a.next_value::<Value>()?;
                match k {
                    Key::Session => l.session = true,
                    Key::Uuid => l.uuid = true,
                    Key::Type => l.kind = Some(v.0),
                    Key::Data => l.data = true,
                    Key::CustomId => l.custom_id = true,
                    Key::Result => l.result = true,
                    Key::Other => {}
                }
            }
            Ok(l)
        }
    }

    let line = head.split(|&b| b == b'\n').next()?;
    let l: Line = serde_json::from_slice(line).ok()?;
    if l.data || (l.custom_id && l.result) {
        return None;
    }
    let shape = l.uuid || matches!(l.kind, Some(Kind::Entry | Kind::Snapshot));
    ((l.session && shape) || l.kind == Some(Kind::Snapshot)).then_some(Format::ClaudeCodeJsonl)
}

/// What [`detect_document`] found.
enum Document {
    /// A document of this format.
    Is(Format),
    /// JSON lines: the first line is this value, alone.
    FirstLine(serde_json::Value),
    /// Not a document of a format we read, nor a first line of JSON.
    Neither,
}

/// A JSON document rather than JSON lines: a first value written over several lines
/// (pretty-printed), or followed by another value on its line (values concatenated). A report
/// page or an array of pages is a report; a Message, a wrapper, a flat record or an array of
/// them is saved Messages API responses. `Neither` for anything else, or the first line's
/// value when it is alone on its line (JSON lines are judged line by line). A pretty-printed
/// value longer than the head is judged by the keys in the head. `head` starts at its first
/// character that is not whitespace.
fn detect_document(head: &[u8]) -> Document {
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    let mut stream = serde_json::Deserializer::from_slice(head).into_iter::<serde_json::Value>();
    let found = match stream.next() {
        None => return Document::Neither,
        Some(Ok(v)) => {
            let end = stream.byte_offset();
            let rest_of_line = head[end..]
                .split(|&b| b == b'\n')
                .next()
                .unwrap_or_default();
            if !head[..end].contains(&b'\n') && rest_of_line.trim_ascii().is_empty() {
                return Document::FirstLine(v);
            }
            let pages = v
                .as_array()
                .and_then(|a| a.first())
                .is_some_and(is_report_page);
            if is_report_page(&v) || pages {
                report_kind(head)
            } else {
                matches!(
                    json_line_kind(&v),
                    Some(Format::MessagesJsonl | Format::MessagesJson)
                )
                .then_some(Format::MessagesJson)
            }
        }
        // Cut off by the head (or the file), or broken further on: still a document when it
        // opens over several lines (a pretty-printer puts `{` or `[` alone on the first one).
        Some(Err(e)) if (e.is_eof() && e.line() > 1) || opens_alone(head) => {
            if has(b"\"starting_at\"") && has(b"\"data\"") {
                report_kind(head)
            } else {
                (has(b"\"usage\"") && (has(b"\"output_tokens\"") || has(b"\"input_tokens\"")))
                    .then_some(Format::MessagesJson)
            }
        }
        Some(Err(_)) => None,
    };
    found.map_or(Document::Neither, Document::Is)
}

/// The first line is `{` or `[` alone: a JSON document written over several lines (no line of
/// JSON lines is that).
fn opens_alone(head: &[u8]) -> bool {
    let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
    matches!(first.trim_ascii(), b"{" | b"[")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Heads to judge: the first 64 KiB of each sample and fixture file, each line of their
    /// Claude Code logs as a first line (with the next line after it), and first lines made by
    /// hand at the edges of the Claude Code rule and of a `Value`'s reading.
    fn heads() -> Vec<Vec<u8>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut heads: Vec<Vec<u8>> = Vec::new();
        for dir in ["sample-data", "tests/fixtures/real_world"] {
            for e in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
                if !e.file_type().is_file() {
                    continue;
                }
                let text = std::fs::read(e.path()).unwrap();
                heads.push(text[..text.len().min(64 << 10)].to_vec());
                if e.path().extension().is_some_and(|x| x == "jsonl") {
                    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
                    for w in lines.windows(2) {
                        heads.push([w[0], b"\n", w[1]].concat());
                    }
                }
            }
        }
        for made in [
            r#"{"type":"user","sessionId":"s","n":1e400}"#,
            r#"{"type":"user","sessionId":"s","n":-1e400}"#,
            r#"{"type":"user","sessionId":"s","n":123456789012345678901234567890}"#,
            r#"{"type":"user","sessionId":"s","x":"\ud800"}"#,
            r#"{"type":"user","sessionId":"s","x":"\ud800\udc00"}"#,
            r#"{"type":"user","sessionId":"s","type":3}"#,
            r#"{"type":3,"sessionId":"s","type":"user"}"#,
            r#"{"sessionId":"s","uuid":"u","data":[]}"#,
            r#"{"sessionId":"s","uuid":"u","data":[{"starting_at":"x"}]}"#,
            r#"{"custom_id":"c","result":{},"sessionId":"s","uuid":"u"}"#,
            r#"{"custom_id":"c","sessionId":"s","uuid":"u"}"#,
            r#"{"type":"file-history-snapshot"}"#,
            r#"{"type":"summary","leafUuid":"l"}"#,
            r#"{"type":"user","sessionId":"s"} {"x":1}"#,
            "{\n \"type\": \"user\", \"sessionId\": \"s\"\n}",
            "{\"type\":\"user\",\"sessionId\":\"s\"}\x0c",
            "{\"type\":\"user\",\"sessionId\":\"s\"}\r",
            r#"{"message":{"usage":{"input_tokens":1}},"sessionId":"s"}"#,
            r#"[{"type":"user","sessionId":"s"}]"#,
            r#"{"type":"user","sessionId":"s","a":[1,2,{"b":null}],"c":true}"#,
        ] {
            heads.push(made.as_bytes().to_vec());
            heads.push(format!("{made}\n{{\"usage\":{{\"output_tokens\":1}}}}").into_bytes());
        }
        heads.push(b"{\"type\":\"user\",\"sessionId\":\"s\",\"x\":\"\xff\"}\n{}".to_vec());
        heads.push(b"{\"type\":\"user\",\"sessionId\":\"s\",\"x\":\"\x01\"}".to_vec());
        heads
    }

    /// Whether the quick judgement is taken or not, detection gives the same answer (the same
    /// format, or the same words of refusal): over every head, and each one with its first line
    /// changed in 60 ways (a byte replaced, removed or doubled, the text cut).
    #[test]
    fn the_quick_judgement_of_a_claude_code_first_line_never_changes_the_answer() {
        let mut rng = fastrand::Rng::with_seed(11);
        let set = b"{}[]\",:\\0123456789-.eE+tfnul \t\r\xff\xc3\x00\x0c";
        let (mut quick, mut left) = (0, 0);
        for base in heads() {
            let first = base.iter().position(|&b| b == b'\n').unwrap_or(base.len());
            let mut variants = vec![base.clone()];
            for _ in 0..60 {
                let mut v = base.clone();
                if first == 0 {
                    break;
                }
                let at = rng.usize(..first);
                match rng.u8(..4) {
                    0 => v[at] = set[rng.usize(..set.len())],
                    1 => {
                        v.remove(at);
                    }
                    2 => v.insert(at, base[at]),
                    _ => v.truncate(at),
                }
                variants.push(v);
            }
            for v in variants {
                assert_eq!(
                    detect(&v, true),
                    detect(&v, false),
                    "{}",
                    String::from_utf8_lossy(&v)
                );
                let start = v.iter().position(|b| !b.is_ascii_whitespace());
                match start.and_then(|s| claude_code_first_line(&v[s..])) {
                    Some(_) => quick += 1,
                    None => left += 1,
                }
            }
        }
        assert!(
            quick > 500 && left > 500,
            "{quick} judged quickly, {left} left"
        );
        // The edges, one by one: what a `Value` refuses, or a report page's or batch result's
        // members, are left to the full reading.
        for refused in [
            &br#"{"type":"user","sessionId":"s","n":1e400}"#[..],
            br#"{"type":"user","sessionId":"s","x":"\ud800"}"#,
            b"{\"type\":\"user\",\"sessionId\":\"s\",\"x\":\"\xff\"}",
            br#"{"sessionId":"s","uuid":"u","data":[]}"#,
            br#"{"custom_id":"c","result":{},"sessionId":"s","uuid":"u"}"#,
            br#"{"type":"user","sessionId":"s","type":3}"#,
            br#"{"type":"user","sessionId":"s"} {"x":1}"#,
        ] {
            assert_eq!(
                claude_code_first_line(refused),
                None,
                "{}",
                String::from_utf8_lossy(refused)
            );
        }
        for taken in [
            &br#"{"type":3,"sessionId":"s","type":"user"}"#[..],
            br#"{"type":"file-history-snapshot"}"#,
            br#"{"sessionId":"s","uuid":"u","n":123456789012345678901234567890}"#,
            b"{\"type\":\"summary\",\"leafUuid\":\"l\"}\r\n{",
        ] {
            assert_eq!(
                claude_code_first_line(taken),
                Some(Format::ClaudeCodeJsonl),
                "{}",
                String::from_utf8_lossy(taken)
            );
        }
    }
}
