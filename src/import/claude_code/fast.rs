//! A fast reading of the usual Claude Code usage line: one pass over the bytes that takes
//! the few fields costlens needs (`timestamp`, `cwd`, `sessionId`, `requestId`, `isSidechain`,
//! `isApiErrorMessage`, `costUSD`, `message.id`, `message.model`, and the `message.usage`
//! object, which serde then reads) and steps over everything else (content blocks, tool
//! input, thinking text: most of a usage line's bytes) without decoding it.
//!
//! It is a shortcut, never a second set of rules: it checks the whole line is JSON as serde
//! would (strings closed, escapes valid, no control characters, numbers well formed, no
//! trailing commas, nothing after the object), and answers `None`, sending the line to the
//! serde reading, whenever anything is not the usual shape: a field it takes that is not a
//! plain string (escapes), bool or number, a field given twice, nesting deeper than serde
//! allows. What it returns is what the serde reading of the same line gives.

use crate::import::Text;
use crate::import::json::{ApiUsage, CacheCreation, ServerToolUse};
use std::borrow::Cow;
use wide::u8x16;

/// The fields of a usage line, borrowed from the line.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct FastLine<'a> {
    pub timestamp: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub is_sidechain: Option<bool>,
    pub is_api_error: Option<bool>,
    pub cost_usd: Option<f64>,
    /// `None` when the line has no `message` (or it is null).
    pub message: Option<FastMessage<'a>>,
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct FastMessage<'a> {
    pub id: Option<&'a str>,
    pub model: Option<&'a str>,
    /// The bytes of the `usage` object; `None` when absent or null.
    pub usage: Option<&'a [u8]>,
}

/// serde_json's nesting limit.
const MAX_DEPTH: usize = 120;

struct Scan<'a, 'm> {
    b: &'a [u8],
    i: usize,
    /// `b`'s quotes and backslashes ([`with_marks`]).
    marks: &'m [u64],
    /// `b` as text when it is all UTF-8 (checked once, rather than each string taken; a
    /// line that is not is read all the same: only the strings taken must be UTF-8).
    text: Option<&'a str>,
}

impl<'a> Scan<'a, '_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// Where the first `"` or `\\` at or after `from` is.
    #[inline]
    fn next_mark(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut bits = self.marks.get(w)? & (u64::MAX << (from % 64));
        while bits == 0 {
            w += 1;
            bits = *self.marks.get(w)?;
        }
        Some(w * 64 + bits.trailing_zeros() as usize)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string starting at the quote; returns its content and whether it had escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i = self.next_mark(self.i)?;
            if self.b[self.i] == b'"' {
                let s = &self.b[start..self.i];
                self.i += 1;
                return Some((s, escaped));
            }
            escaped = true;
            // An escape: \" \\ \/ \b \f \n \r \t or \uXXXX.
            match *self.b.get(self.i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                b'u' => {
                    let hex = self.b.get(self.i + 2..self.i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    self.i += 6;
                }
                _ => return None,
            }
        }
    }

    /// A plain string value (no escapes: those go to serde) or null.
    fn plain_string(&mut self) -> Option<Option<&'a str>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        let start = self.i + 1;
        let (s, escaped) = self.string()?;
        if escaped {
            return None;
        }
        let text = match self.text {
            // Cut from the line checked once (at quotes: always a character boundary).
            Some(line) => line.get(start..start + s.len()),
            None => std::str::from_utf8(s).ok(),
        };
        Some(Some(text?))
    }

    fn bool_or_null(&mut self) -> Option<Option<bool>> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|_| Some(true)),
            b'f' => self.literal(b"false").map(|_| Some(false)),
            b'n' => self.literal(b"null").map(|_| None),
            _ => None,
        }
    }

    #[inline]
    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + lit.len())? == lit {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// A number as JSON has it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let _ = self.eat(b'-');
        let digits = |s: &mut Self| {
            let d = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            s.i - d
        };
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && digits(self) == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(&self.b[start..self.i])
    }

    /// A token count as serde reads a `u64`: a plain unsigned integer that fits (or null).
    /// A fraction, an exponent or a sign goes to serde.
    fn count(&mut self) -> Option<Option<u64>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(Some(v))
    }

    /// Null, or an object of `T`'s members read by `member` (with the flags of the members
    /// already seen).
    fn nullable_object<T: Default, const N: usize>(
        &mut self,
        mut member: impl FnMut(&mut Self, &mut T, &mut [bool; N], &'a [u8]) -> Option<()>,
    ) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        let mut t = T::default();
        let mut seen = [false; N];
        self.object(|s, key| member(s, &mut t, &mut seen, key))?;
        Some(Some(t))
    }

    /// Any value, checked and stepped over.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.ws();
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.ws();
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// The members of an object (at its `{`), handing each key to `member`, which must read
    /// the value (or return `None`).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let (key, escaped) = self.string()?;
            // serde reads every key of a struct as a `str`: one that is not UTF-8 fails it,
            // known or not (an unknown value's strings are stepped over unchecked by both).
            if escaped || (!key.is_ascii() && std::str::from_utf8(key).is_err()) {
                return None;
            }
            self.ws();
            self.eat(b':')?;
            self.ws();
            member(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Marks the quotes and backslashes of `b`, a bit per byte (byte `64 * w + k` is bit `k` of
/// word `w`), 16 bytes at a time with SIMD compares (`wide`: safe, SSE2 on x86-64); then the
/// end of each string is the next bit set, found in a register. Before, each string was searched
/// on its own (its first 16 bytes a word at a time, the rest with `memchr2`): ids, times, paths
/// and model names are longer than 16 bytes, so most strings paid for a `memchr2` call and its
/// setup. Hands `f` the marks, or answers `None` when `b` holds a control character: those are
/// not allowed inside JSON strings, and compact JSON has none outside. Lines up to 4 KiB (most
/// usage lines) are marked on the stack.
#[inline]
fn with_marks<R>(b: &[u8], f: impl FnOnce(&[u64]) -> Option<R>) -> Option<R> {
    const STACK_WORDS: usize = 64;
    let words = b.len().div_ceil(64);
    if words <= STACK_WORDS {
        let mut marks = [0u64; STACK_WORDS];
        mark(b, &mut marks[..words]).then_some(())?;
        f(&marks[..words])
    } else {
        let mut marks = vec![0u64; words];
        mark(b, &mut marks).then_some(())?;
        f(&marks)
    }
}

/// Fills `out` (`b.len()` / 64 words, rounded up) with the marks of `b`; whether `b` is free of
/// control characters (bytes below 0x20).
fn mark(b: &[u8], out: &mut [u64]) -> bool {
    let quote = u8x16::splat(b'"');
    let backslash = u8x16::splat(b'\\');
    let mut least = u8x16::splat(u8::MAX);
    let mut block = |c: &[u8]| {
        let mut bits = 0u64;
        for (k, v) in c.chunks_exact(16).enumerate() {
            let mut lanes = [0u8; 16];
            lanes.copy_from_slice(v);
            let v = u8x16::new(lanes);
            let hits = v.simd_eq(quote) | v.simd_eq(backslash);
            bits |= u64::from(hits.to_bitmask()) << (16 * k);
            least = least.min(v);
        }
        bits
    };
    let mut blocks = b.chunks_exact(64);
    for (w, c) in out.iter_mut().zip(&mut blocks) {
        *w = block(c);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // Padded with spaces: neither marked nor a control character.
        let mut last = [b' '; 64];
        last[..rest.len()].copy_from_slice(rest);
        out[b.len() / 64] = block(&last);
    }
    least.reduce_min() >= 0x20
}

/// Sets `slot` once: a key given twice goes to serde (which refuses it).
#[inline]
fn once<T>(slot: &mut Option<T>, seen: &mut bool, v: Option<T>) -> Option<()> {
    if std::mem::replace(seen, true) {
        return None;
    }
    *slot = v;
    Some(())
}

/// The line read fast, or `None` to read it with serde.
pub(crate) fn read(line: &[u8]) -> Option<FastLine<'_>> {
    with_marks(line, |marks| read_marked(line, marks))
}

fn read_marked<'a>(line: &'a [u8], marks: &[u64]) -> Option<FastLine<'a>> {
    let mut s = Scan {
        b: line,
        i: 0,
        marks,
        text: std::str::from_utf8(line).ok(),
    };
    let mut out = FastLine::default();
    let mut seen = [false; 8];
    s.ws();
    s.object(|s, key| match key {
        b"timestamp" => {
            let v = s.plain_string()?;
            once(&mut out.timestamp, &mut seen[0], v)
        }
        b"cwd" => {
            let v = s.plain_string()?;
            once(&mut out.cwd, &mut seen[1], v)
        }
        b"sessionId" => {
            let v = s.plain_string()?;
            once(&mut out.session_id, &mut seen[2], v)
        }
        b"requestId" => {
            let v = s.plain_string()?;
            once(&mut out.request_id, &mut seen[3], v)
        }
        b"isSidechain" => {
            let v = s.bool_or_null()?;
            once(&mut out.is_sidechain, &mut seen[4], v)
        }
        b"isApiErrorMessage" => {
            let v = s.bool_or_null()?;
            once(&mut out.is_api_error, &mut seen[5], v)
        }
        b"costUSD" => {
            let v = if s.peek()? == b'n' {
                s.literal(b"null")?;
                None
            } else {
                Some(serde_json::from_slice::<f64>(s.number()?).ok()?)
            };
            once(&mut out.cost_usd, &mut seen[6], v)
        }
        b"message" => {
            if std::mem::replace(&mut seen[7], true) {
                return None;
            }
            if s.peek()? == b'n' {
                return s.literal(b"null");
            }
            let mut m = FastMessage::default();
            let mut mseen = [false; 3];
            s.object(|s, key| match key {
                b"id" => {
                    let v = s.plain_string()?;
                    once(&mut m.id, &mut mseen[0], v)
                }
                b"model" => {
                    let v = s.plain_string()?;
                    once(&mut m.model, &mut mseen[1], v)
                }
                b"usage" => {
                    let v = match s.peek()? {
                        b'n' => {
                            s.literal(b"null")?;
                            None
                        }
                        b'{' => {
                            let start = s.i;
                            s.skip(2)?;
                            Some(&s.b[start..s.i])
                        }
                        _ => return None,
                    };
                    once(&mut m.usage, &mut mseen[2], v)
                }
                _ => s.skip(2),
            })?;
            out.message = Some(m);
            Some(())
        }
        _ => s.skip(1),
    })?;
    s.ws();
    (s.i == line.len()).then_some(out)
}

/// The `usage` object (its bytes, as [`read`] returns them) read in one pass: the token counts
/// as unsigned integers or null, `cache_creation` and `server_tool_use` as objects of those,
/// `service_tier`, `inference_geo` and `speed` as plain strings or null, any other member
/// checked and stepped over. `None` sends it to serde (the same rules as [`read`]: a count that
/// is not a plain unsigned integer, a string with escapes, a field given twice, anything not
/// JSON). What it returns is what serde's reading of the same bytes gives. serde's derived
/// reading was a tenth of a Claude Code import's CPU time, for an object of a dozen members.
pub(crate) fn usage(bytes: &[u8]) -> Option<ApiUsage<'_>> {
    // As in `read`: no control characters (whitespace between members included; a usage
    // object laid out over lines goes to serde).
    with_marks(bytes, |marks| usage_marked(bytes, marks))
}

fn usage_marked<'a>(bytes: &'a [u8], marks: &[u64]) -> Option<ApiUsage<'a>> {
    let mut s = Scan {
        b: bytes,
        i: 0,
        marks,
        text: None,
    };
    let mut u = ApiUsage::default();
    let mut seen = [false; 9];
    s.ws();
    s.object(|s, key| match key {
        b"input_tokens" => {
            let v = s.count()?;
            once(&mut u.input_tokens, &mut seen[0], v)
        }
        b"output_tokens" => {
            let v = s.count()?;
            once(&mut u.output_tokens, &mut seen[1], v)
        }
        b"cache_creation_input_tokens" => {
            let v = s.count()?;
            once(&mut u.cache_creation_input_tokens, &mut seen[2], v)
        }
        b"cache_read_input_tokens" => {
            let v = s.count()?;
            once(&mut u.cache_read_input_tokens, &mut seen[3], v)
        }
        b"cache_creation" => {
            let v =
                s.nullable_object(
                    |s, c: &mut CacheCreation, cseen: &mut [bool; 2], key| match key {
                        b"ephemeral_5m_input_tokens" => {
                            let v = s.count()?;
                            once(&mut c.ephemeral_5m_input_tokens, &mut cseen[0], v)
                        }
                        b"ephemeral_1h_input_tokens" => {
                            let v = s.count()?;
                            once(&mut c.ephemeral_1h_input_tokens, &mut cseen[1], v)
                        }
                        _ => s.skip(3),
                    },
                )?;
            once(&mut u.cache_creation, &mut seen[4], v)
        }
        b"server_tool_use" => {
            let v =
                s.nullable_object(
                    |s, t: &mut ServerToolUse, tseen: &mut [bool; 1], key| match key {
                        b"web_search_requests" => {
                            let v = s.count()?;
                            once(&mut t.web_search_requests, &mut tseen[0], v)
                        }
                        _ => s.skip(3),
                    },
                )?;
            once(&mut u.server_tool_use, &mut seen[5], v)
        }
        b"service_tier" => {
            let v = s.plain_string()?.map(|t| Text(Cow::Borrowed(t)));
            once(&mut u.service_tier, &mut seen[6], v)
        }
        b"inference_geo" => {
            let v = s.plain_string()?.map(|t| Text(Cow::Borrowed(t)));
            once(&mut u.inference_geo, &mut seen[7], v)
        }
        b"speed" => {
            let v = s.plain_string()?.map(|t| Text(Cow::Borrowed(t)));
            once(&mut u.speed, &mut seen[8], v)
        }
        _ => s.skip(2),
    })?;
    s.ws();
    (s.i == bytes.len()).then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_line_and_refuses_what_is_not_json() {
        let line = br#"{"parentUuid":null,"isSidechain":false,"cwd":"/home/u/app","sessionId":"s1","message":{"id":"msg_1","type":"message","model":"claude-sonnet-4-5","content":[{"type":"text","text":"a \"quoted\" word \u00e9 \n"},{"type":"tool_use","input":{"n":[1,-2.5e3,0,true,null]}}],"usage":{"input_tokens":3,"output_tokens":7}},"requestId":"req_1","timestamp":"2026-10-01T10:00:00.000Z","costUSD":0.25}"#;
        let f = read(line).unwrap();
        assert_eq!(f.timestamp, Some("2026-10-01T10:00:00.000Z"));
        assert_eq!(f.cwd, Some("/home/u/app"));
        assert_eq!(f.session_id, Some("s1"));
        assert_eq!(f.request_id, Some("req_1"));
        assert_eq!(f.is_sidechain, Some(false));
        assert_eq!(f.cost_usd, Some(0.25));
        let m = f.message.unwrap();
        assert_eq!(m.id, Some("msg_1"));
        assert_eq!(m.model, Some("claude-sonnet-4-5"));
        assert_eq!(
            m.usage,
            Some(&br#"{"input_tokens":3,"output_tokens":7}"#[..])
        );
        for bad in [
            &br#"{"a":1,}"#[..],
            br#"{"a":01}"#,
            br#"{"a":"x\q"}"#,
            br#"{"a":[1,2,]}"#,
            br#"{"a":tru}"#,
            br#"{"a":1} x"#,
            br#"{"a":"unclosed}"#,
            b"{\"a\":\"tab\there\"}",
            br#"{"timestamp":"a","timestamp":"b"}"#,
            br#"{"cwd":"with \"escape\""}"#,
            br#"{"isSidechain":"yes"}"#,
            br#"{"message":{"usage":[1]}}"#,
            br#"{"a":1.}"#,
            br#"{"a":-}"#,
            b"{\"\xff\":1,\"timestamp\":\"a\"}",
            b"{\"message\":{\"\xc3\":1}}",
        ] {
            assert_eq!(read(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(read(deep.as_bytes()), None);
        // A line that is not all UTF-8 is still read when the strings taken are (serde steps
        // over the others unchecked), and refused when one of them is not; text in other
        // scripts is taken as it is.
        let f = read(b"{\"text\":\"\xff\xfe\",\"cwd\":\"/home/u/caf\xc3\xa9\"}").unwrap();
        assert_eq!(f.cwd, Some("/home/u/caf\u{e9}"));
        assert_eq!(read(b"{\"text\":\"ok\",\"cwd\":\"/home/u/caf\xc3\"}"), None);
        let f =
            read("{\"cwd\":\"/home/\u{7530}\u{4e2d}\",\"sessionId\":\"\u{e9}t\u{e9}\"}".as_bytes())
                .unwrap();
        assert_eq!(f.cwd, Some("/home/\u{7530}\u{4e2d}"));
        assert_eq!(f.session_id, Some("\u{e9}t\u{e9}"));
    }

    /// The marks find what `memchr2` finds from any place, in bytes of any length (within a
    /// word, across words, in the padded last word), and a control character wherever it is.
    #[test]
    fn the_marks_agree_with_memchr2_and_a_byte_by_byte_look() {
        let mut rng = fastrand::Rng::with_seed(5);
        let (mut marked, mut refused) = (0, 0);
        for round in 0..6_000 {
            // Past 4 KiB too: those lines are marked on the heap.
            let len = if round % 100 == 0 {
                rng.usize(4000..9000)
            } else {
                rng.usize(0..300)
            };
            let odds = if len > 1000 { 20_000 } else { 400 };
            let b: Vec<u8> = (0..len)
                .map(|_| match rng.u16(0..odds) {
                    0..=9 => b'"',
                    10..=19 => b'\\',
                    20 => rng.u8(0..0x20),
                    21 => rng.u8(0x80..=0xff),
                    _ => rng.u8(b' '..=b'~'),
                })
                .collect();
            let control = b.iter().any(|&c| c < 0x20);
            let got = with_marks(&b, |marks| {
                assert_eq!(marks.len(), b.len().div_ceil(64));
                let s = Scan {
                    b: &b,
                    i: 0,
                    marks,
                    text: None,
                };
                for from in 0..=b.len() {
                    assert_eq!(
                        s.next_mark(from),
                        memchr::memchr2(b'"', b'\\', &b[from..]).map(|k| k + from),
                        "from {from} of {}",
                        String::from_utf8_lossy(&b)
                    );
                }
                Some(())
            });
            assert_eq!(got.is_none(), control, "{}", String::from_utf8_lossy(&b));
            if control {
                refused += 1;
            } else {
                marked += 1;
            }
        }
        assert!(
            marked > 3000 && refused > 1000,
            "{marked} marked, {refused} refused"
        );
    }

    #[test]
    fn reads_the_usual_usage_and_leaves_the_rest_to_serde() {
        let u = usage(br#"{"input_tokens":3,"cache_creation_input_tokens":1200,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":1200},"output_tokens":7,"service_tier":"standard","server_tool_use":{"web_search_requests":2},"inference_geo":"us","iterations":[{"a":1}]}"#).unwrap();
        assert_eq!(u.input_tokens, Some(3));
        assert_eq!(u.output_tokens, Some(7));
        assert_eq!(u.cache_creation_input_tokens, Some(1200));
        assert_eq!(u.cache_read_input_tokens, Some(0));
        let c = u.cache_creation.unwrap();
        assert_eq!(
            (c.ephemeral_5m_input_tokens, c.ephemeral_1h_input_tokens),
            (Some(0), Some(1200))
        );
        assert_eq!(u.web_search(), 2);
        assert_eq!(u.service_tier.as_deref(), Some("standard"));
        assert_eq!(u.inference_geo.as_deref(), Some("us"));
        assert!(u.speed.is_none());
        let u = usage(br#"{"input_tokens":null,"cache_creation":null,"speed":null}"#).unwrap();
        assert!(u.input_tokens.is_none() && u.cache_creation.is_none() && u.speed.is_none());
        assert_eq!(
            usage(br#"{"output_tokens":18446744073709551615}"#)
                .unwrap()
                .output_tokens,
            Some(u64::MAX)
        );
        for to_serde in [
            &br#"{"output_tokens":18446744073709551616}"#[..],
            br#"{"output_tokens":1.0}"#,
            br#"{"output_tokens":1e3}"#,
            br#"{"output_tokens":-1}"#,
            br#"{"output_tokens":01}"#,
            br#"{"output_tokens":"5"}"#,
            br#"{"output_tokens":1,"output_tokens":2}"#,
            br#"{"cache_creation":{"ephemeral_1h_input_tokens":1,"ephemeral_1h_input_tokens":1}}"#,
            br#"{"cache_creation":[]}"#,
            br#"{"service_tier":"stand\u0061rd"}"#,
            br#"{"service_tier":1}"#,
            br#"{"output_tokens":1,}"#,
            b"{\"output_tokens\":\n1}",
            br#"{"output_tokens":1"#,
            b"{\"output_tokens\":5,\"\xff\":0}",
            b"{\"cache_creation\":{\"\xc3\":1}}",
        ] {
            assert!(
                usage(to_serde).is_none(),
                "{}",
                String::from_utf8_lossy(to_serde)
            );
        }
        // Trailing whitespace is JSON; serde reads it too.
        assert_eq!(
            usage(br#"{"output_tokens":1} "#).unwrap().output_tokens,
            Some(1)
        );
    }
}
