//! The CSV reader the Console importers share, and the helpers around it.
//!
//! Hand-written rather than the csv crate's for two reasons, both measured (BENCHMARKS.md,
//! "CSV reader"): line numbers are counted as an editor shows them (the csv crate's positions
//! lag one line behind after CRLF line ends and blank lines, and every rejected line is
//! reported as `file:line: reason`), and fields are borrowed from the text, with no copy
//! unless a quoted field holds an escaped quote, which parses a 1M-row export faster. A
//! quoted field never closed rejects its own line only (the rest of the file imports). A
//! property test compares it with the csv crate on random well-formed input
//! (`tests` below).

use super::ParsedFile;
use crate::domain::records::Bucket;
use std::borrow::Cow;
use std::io::Read;

/// Header names as importers compare them: trimmed, lower case, without a BOM.
pub fn header_names(fields: &[Cow<[u8]>]) -> Vec<String> {
    fields
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase()
        })
        .collect()
}

/// A header that names a column twice is refused: which of the two to read would be a guess
/// (the second used to be ignored, silently, giving $0).
pub fn check_unique_header(names: &[String]) -> Result<(), String> {
    for (j, n) in names.iter().enumerate() {
        if n.is_empty() {
            continue;
        }
        if let Some(i) = names[..j].iter().position(|m| m == n) {
            return Err(format!(
                "the header names {n} twice (columns {} and {})",
                i + 1,
                j + 1
            ));
        }
    }
    Ok(())
}

/// A row's fields against the header's width: fewer is a broken row; more is one too, unless
/// the extra fields are empty (a trailing comma) — a decimal comma (`3,75`) splits a field in
/// two and shifts every column after it.
pub fn check_width<T: AsRef<[u8]>>(fields: &[T], width: usize) -> Result<(), String> {
    let n = fields.len();
    if n < width || (n > width && fields[width..].iter().any(|f| !trim(f.as_ref()).is_empty())) {
        let hint = if n > width {
            " (a number written with a decimal comma, like 3,75, splits its field in two)"
        } else {
            ""
        };
        return Err(format!("expected {width} columns, found {n}{hint}"));
    }
    Ok(())
}

/// What [`CsvCursor::next_record`] gives: the line a record starts on, or a line that could
/// not be read and why.
pub type NextRecord = Result<u64, (u64, String)>;

/// Skips the lines before a CSV header that are not data: blank lines and `#` comments
/// (some tools write a comment line first). Returns how many comment lines were skipped.
pub fn skip_preamble<'a>(
    cursor: &mut CsvCursor<'a>,
    fields: &mut Vec<Cow<'a, [u8]>>,
) -> (Option<NextRecord>, u64) {
    let mut comments = 0;
    loop {
        let next = cursor.next_record(fields);
        match &next {
            Some(Ok(_)) if fields.first().is_some_and(|f| f.starts_with(b"#")) => comments += 1,
            _ => return (next, comments),
        }
    }
}

/// Parses `YYYY-MM-DD` (a daily row) or `YYYY-MM-DD HH:MM` (an hourly row), UTC.
pub fn parse_usage_time(s: &str) -> Option<(i64, Bucket)> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((d.and_hms_opt(0, 0, 0)?.and_utc().timestamp(), Bucket::Day));
    }
    for f in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some((t.and_utc().timestamp(), Bucket::Hour));
        }
    }
    None
}

/// Reads all of `reader`. Stops at the first error, `Interrupted` included: a cancelled
/// import reports it, and `read_to_end` would retry it forever, so it is passed on as
/// another kind.
pub fn read_all<R: Read>(reader: R) -> (Vec<u8>, Option<std::io::Error>) {
    struct NoRetry<R>(R);
    impl<R: Read> Read for NoRetry<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf).map_err(|e| match e.kind() {
                std::io::ErrorKind::Interrupted => std::io::Error::other(e),
                _ => e,
            })
        }
    }
    let mut bytes = Vec::new();
    let error = NoRetry(reader).read_to_end(&mut bytes).err();
    (bytes, error)
}

/// Walks the records of CSV text, counting lines (1-based) the way an editor shows them.
/// Fields are borrowed from the text unless a quoted field holds an escaped quote. Blank lines
/// are skipped. Only `\n` ends a line (a `\r` before it is dropped).
pub struct CsvCursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
    /// Set once a quoted field was never closed: the quotes of the rest of the file do not
    /// pair up, so from then on a quoted field must close on its own line. (Letting every
    /// later record search to the end of the file again made such files take quadratic time.)
    single_line_quotes: bool,
}

impl<'a> CsvCursor<'a> {
    pub fn new(bytes: &'a [u8], first_line: u64) -> Self {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        CsvCursor {
            bytes,
            pos: 0,
            line: first_line,
            single_line_quotes: false,
        }
    }

    /// The line the next record would start on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The text not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    /// Reads the next record into `fields` and returns the line it starts on, or `None` at
    /// the end. `Err((line, reason))` for a quoted field never closed (that line is skipped).
    pub fn next_record(
        &mut self,
        fields: &mut Vec<Cow<'a, [u8]>>,
    ) -> Option<Result<u64, (u64, String)>> {
        let bytes = self.bytes;
        loop {
            if self.pos >= bytes.len() {
                return None;
            }
            let start = self.line;
            let line_end = memchr::memchr(b'\n', self.rest()).map_or(bytes.len(), |k| self.pos + k);
            let raw = &bytes[self.pos..line_end];
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            fields.clear();
            if memchr::memchr(b'"', raw).is_none() {
                // The common case: one line, no quotes.
                self.pos = (line_end + 1).min(bytes.len());
                self.line += 1;
                if raw.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                fields.extend(raw.split(|&b| b == b',').map(Cow::Borrowed));
                return Some(Ok(start));
            }
            if let Err(why) = self.quoted_record(fields) {
                // A quote never closed would make the rest of the file one field: only the
                // line it is on is rejected, and reading resumes on the next line.
                self.pos = (line_end + 1).min(bytes.len());
                self.line = start + 1;
                self.single_line_quotes = true;
                return Some(Err((start, why)));
            }
            if fields.len() == 1 && fields[0].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(start));
        }
    }

    /// A record with quoted fields (which may span lines), as RFC 4180 writes them; text
    /// after a closing quote is kept, as the csv crate does.
    fn quoted_record(&mut self, fields: &mut Vec<Cow<'a, [u8]>>) -> Result<(), String> {
        let bytes = self.bytes;
        let n = bytes.len();
        loop {
            let field_start = self.pos;
            if self.pos < n && bytes[self.pos] == b'"' {
                let mut owned: Option<Vec<u8>> = None;
                let mut seg = self.pos + 1;
                let limit = if self.single_line_quotes {
                    memchr::memchr(b'\n', &bytes[seg..]).map_or(n, |k| seg + k)
                } else {
                    n
                };
                let close = loop {
                    let Some(k) = memchr::memchr(b'"', &bytes[seg..limit]) else {
                        return Err("a quoted field is never closed".into());
                    };
                    let q = seg + k;
                    if bytes.get(q + 1) == Some(&b'"') {
                        owned
                            .get_or_insert_with(Vec::new)
                            .extend_from_slice(&bytes[seg..=q]);
                        seg = q + 2;
                        continue;
                    }
                    break q;
                };
                self.line += memchr::memchr_iter(b'\n', &bytes[field_start..close]).count() as u64;
                let end =
                    memchr::memchr2(b',', b'\n', &bytes[close + 1..]).map_or(n, |k| close + 1 + k);
                let mut after = &bytes[close + 1..end];
                if end == n || bytes[end] == b'\n' {
                    after = after.strip_suffix(b"\r").unwrap_or(after);
                }
                let field = match (owned, after.is_empty()) {
                    (None, true) => Cow::Borrowed(&bytes[seg..close]),
                    (owned, _) => {
                        let mut v = owned.unwrap_or_default();
                        v.extend_from_slice(&bytes[seg..close]);
                        v.extend_from_slice(after);
                        Cow::Owned(v)
                    }
                };
                fields.push(field);
                self.pos = end;
            } else {
                let end =
                    memchr::memchr2(b',', b'\n', &bytes[self.pos..]).map_or(n, |k| self.pos + k);
                let mut f = &bytes[self.pos..end];
                if end == n || bytes[end] == b'\n' {
                    f = f.strip_suffix(b"\r").unwrap_or(f);
                }
                fields.push(Cow::Borrowed(f));
                self.pos = end;
            }
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(_) => {
                    self.pos += 1;
                    self.line += 1;
                    return Ok(());
                }
                None => return Ok(()),
            }
        }
    }
}

/// Reads the whole file, parses it with `parse_text`, and reports a read error that cut the
/// file short on the line where it stopped (what was read before it is kept).
pub fn parse_whole<R: Read>(
    name: &str,
    reader: R,
    parse_text: fn(&str, &[u8]) -> ParsedFile,
) -> ParsedFile {
    let (bytes, error) = read_all(reader);
    let mut out = parse_text(name, &bytes);
    if let Some(e) = error {
        let line = 1 + memchr::memchr_iter(b'\n', &bytes).count() as u64;
        out.reject(name, line, format!("{}{e}", super::READ_ERROR));
    }
    out
}

/// Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR. Such a file (a CR and no LF
/// at all) is read with LFs instead; without this its rows were taken for the rest of the
/// header and silently dropped ("only a header", issue 5). Other files are borrowed as is.
pub fn cr_only_to_lf(bytes: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\n', bytes).is_none() && memchr::memchr(b'\r', bytes).is_some() {
        Cow::Owned(
            bytes
                .iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(bytes)
    }
}

/// Whitespace as `str::trim` sees it, in ASCII.
pub fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Trims a field like `str::trim`: ASCII spaces here; a field that starts or ends with a
/// non-ASCII byte goes through `str::trim` itself (Unicode spaces).
pub fn trim(b: &[u8]) -> &[u8] {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l > b' ' && l < 0x80 => return b,
        _ => {}
    }
    let start = b.iter().position(|&c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |e| e + 1);
    let t = &b[start..end];
    match (t.first(), t.last()) {
        (Some(&f), Some(&l)) if f >= 0x80 || l >= 0x80 => {
            std::str::from_utf8(t).map_or(t, |s| s.trim().as_bytes())
        }
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A field as a spreadsheet writes it: quoted when it holds a comma, a quote or a line
    /// break, quotes doubled.
    fn encode(f: &str) -> String {
        if f.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_owned()
        }
    }

    fn records_of_csv_crate(text: &str) -> Vec<Vec<Vec<u8>>> {
        let mut rd = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        rd.byte_records()
            .map(|r| r.expect("well-formed").iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    fn records_of_cursor(text: &str) -> Vec<Vec<Vec<u8>>> {
        let mut c = CsvCursor::new(text.as_bytes(), 1);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while let Some(r) = c.next_record(&mut fields) {
            r.expect("well-formed");
            out.push(fields.iter().map(|f| f.to_vec()).collect());
        }
        out
    }

    proptest! {
        /// On well-formed CSV (any mix of commas, quotes, line breaks and CRLF inside quoted
        /// fields, LF or CRLF between rows), the cursor reads the same records as the csv
        /// crate. (Rows of a single blank field are skipped by both as blank lines, so each
        /// row here has two fields or more.)
        #[test]
        fn reads_the_same_records_as_the_csv_crate(
            rows in prop::collection::vec(
                prop::collection::vec("[a-z0-9 ,\"\r\n≤]{0,6}", 2..6),
                1..25,
            ),
            crlf in any::<bool>(),
        ) {
            let sep = if crlf { "\r\n" } else { "\n" };
            let text: String = rows
                .iter()
                .map(|r| r.iter().map(|f| encode(f)).collect::<Vec<_>>().join(","))
                .collect::<Vec<_>>()
                .join(sep);
            prop_assert_eq!(records_of_cursor(&text), records_of_csv_crate(&text));
        }
    }

    #[test]
    fn counts_lines_as_an_editor_shows_them() {
        let text = "a,b\r\n\r\n\"x\ny\",z\nc,d\n";
        let mut c = CsvCursor::new(text.as_bytes(), 1);
        let mut fields = Vec::new();
        let starts: Vec<u64> = std::iter::from_fn(|| c.next_record(&mut fields))
            .map(|r| r.unwrap())
            .collect();
        // The blank line 2 is skipped; the quoted field spans lines 3 and 4.
        assert_eq!(starts, [1, 3, 5]);
    }
}
