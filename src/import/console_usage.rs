//! The Console usage export (CSV), both header versions (`formats.md` section 1).
//!
//! An hourly export of a busy organisation runs to millions of rows, so the file is read into
//! memory once and, when it holds no quoted field, cut at line breaks into pieces parsed in
//! parallel. The CSV reader is [`super::csv`].

use super::csv::{
    CsvCursor, check_unique_header, check_width, cr_only_to_lf, header_names, parse_usage_time,
    parse_whole, skip_preamble, trim,
};
use super::{Identity, ParsedFile, parse_count, stable_hash};
use crate::domain::dataset::Note;
use crate::domain::records::{
    Bucket, Context, Geo, Speed, Sym, Symbols, Tier, Tokens, UsageRecord,
};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::io::Read;

/// Columns by name; `None` where the header version lacks one.
struct Columns {
    date: usize,
    model: usize,
    api_key: Option<usize>,
    workspace: Option<usize>,
    usage_type: Option<usize>,
    context_window: Option<usize>,
    tokens: [usize; 5],
    web_search: Option<usize>,
    geo: Option<usize>,
    speed: Option<usize>,
}

const TOKEN_COLUMNS: [&str; 5] = [
    "usage_input_tokens_no_cache",
    "usage_input_tokens_cache_write_5m",
    "usage_input_tokens_cache_write_1h",
    "usage_input_tokens_cache_read",
    "usage_output_tokens",
];

impl Columns {
    fn from_header(names: &[String]) -> Result<Columns, String> {
        check_unique_header(names)?;
        let find = |n: &str| names.iter().position(|x| x == n);
        let need = |n: &str| find(n).ok_or_else(|| format!("header has no {n} column"));
        let mut tokens = [0; 5];
        for (i, n) in TOKEN_COLUMNS.iter().enumerate() {
            tokens[i] = need(n)?;
        }
        Ok(Columns {
            date: need("usage_date_utc")?,
            model: find("model_version")
                .or_else(|| find("model"))
                .ok_or("header has no model_version column")?,
            api_key: find("api_key"),
            workspace: find("workspace"),
            usage_type: find("usage_type"),
            context_window: find("context_window"),
            tokens,
            web_search: find("web_search_count"),
            geo: find("inference_geo"),
            speed: find("speed"),
        })
    }
}

/// Bodies smaller than this are parsed on the calling thread.
const PARALLEL_MIN: usize = 2 << 20;

pub fn parse<R: Read>(name: &str, reader: R) -> ParsedFile {
    parse_whole(name, reader, parse_text)
}

fn parse_text(name: &str, bytes: &[u8]) -> ParsedFile {
    let bytes = &*cr_only_to_lf(bytes);
    let mut out = ParsedFile::default();
    let reject = |out: &mut ParsedFile, line: u64, reason: String| out.reject(name, line, reason);
    let mut cursor = CsvCursor::new(bytes, 1);
    let mut fields = Vec::new();
    let (header, comments) = skip_preamble(&mut cursor, &mut fields);
    if comments > 0 {
        out.summary.notes.push(Note::from(format!(
            "{comments} comment lines (starting with #) before the header were skipped"
        )));
    }
    let cols = match header {
        None => {
            reject(&mut out, 1, "the file is empty".into());
            return out;
        }
        Some(Err((line, why))) => {
            reject(&mut out, line, format!("cannot read header: {why}"));
            return out;
        }
        Some(Ok(line)) => match Columns::from_header(&header_names(&fields)) {
            Ok(c) => c,
            Err(e) => {
                reject(&mut out, line, e);
                return out;
            }
        },
    };
    let width = fields.len();
    let body_line = cursor.line();
    let body = cursor.rest();

    // Pieces end just after a line break. A quote could hide a line break inside a field, so
    // a body with any quote is read in one piece.
    let mut pieces: Vec<&[u8]> = Vec::new();
    if body.len() >= PARALLEL_MIN && memchr::memchr(b'"', body).is_none() {
        let want = (rayon::current_num_threads() * 4).max(1);
        let size = (body.len() / want).max(1 << 20);
        let mut rest = body;
        while rest.len() > size {
            let cut = memchr::memchr(b'\n', &rest[size..]).map_or(rest.len(), |k| size + k + 1);
            let (piece, tail) = rest.split_at(cut);
            pieces.push(piece);
            rest = tail;
        }
        if !rest.is_empty() {
            pieces.push(rest);
        }
    } else {
        pieces.push(body);
    }
    let parse_piece = |piece: &[u8]| Piece::parse(piece, &cols, width);
    let parsed: Vec<Piece> = if pieces.len() > 1 {
        pieces.into_par_iter().map(parse_piece).collect()
    } else {
        pieces.into_iter().map(parse_piece).collect()
    };

    // The pieces' rows are copied into one list on every thread (the copy is as long as the
    // parse is on one thread, mostly in fresh memory).
    let total: usize = parsed.iter().map(|p| p.records.len()).sum();
    out.records.reserve_exact(total);
    let mut first_line = body_line;
    let excel: u64 = parsed.iter().map(|p| p.excel_labels).sum();
    for p in parsed {
        let map: Vec<Sym> = (0..p.symbols.len() as Sym)
            .map(|s| out.symbols.intern(p.symbols.get(s)))
            .collect();
        let remap = |&(mut r, id): &(UsageRecord, Identity)| {
            r.model = map[r.model as usize];
            r.workspace = map[r.workspace as usize];
            r.api_key = map[r.api_key as usize];
            (r, id)
        };
        if p.records.len() >= 1 << 14 {
            out.records.par_extend(p.records.par_iter().map(remap));
        } else {
            out.records.extend(p.records.iter().map(remap));
        }
        // The piece kept its first rejected lines with their reasons and counted the rest.
        let room = super::MAX_REJECTED_EXAMPLES.saturating_sub(out.rejected.len());
        for (line, reason) in p.rejected.into_iter().take(room) {
            out.rejected.push(super::Rejected {
                file: name.to_owned(),
                line: first_line + line - 1,
                reason,
            });
        }
        out.rejected_total += p.rejected_total;
        for (k, n) in p.rejected_kinds {
            *out.rejected_kinds.entry(k).or_default() += n;
        }
        first_line += p.lines;
    }
    out.summary.rows = out.records.len() as u64;
    if out.records.is_empty() && out.rejected.is_empty() {
        out.summary
            .notes
            .push("only a header: no usage rows".into());
    }
    if excel > 0 {
        out.summary
            .notes
            .push(super::values::excel_label_note(excel).into());
    }
    out
}

/// What one piece of a file contributed; lines are counted from 1 at the piece's start.
struct Piece {
    records: Vec<(UsageRecord, Identity)>,
    symbols: Symbols,
    /// The first rejected lines (line, reason), and every one counted by reason.
    rejected: Vec<(u64, String)>,
    rejected_total: u64,
    rejected_kinds: std::collections::BTreeMap<String, u64>,
    /// Line breaks in the piece.
    lines: u64,
    /// Rows whose context window Excel wrote as `? 200k`.
    excel_labels: u64,
}

impl Piece {
    fn reject(&mut self, line: u64, reason: String) {
        let reason = super::shorten_reason(reason);
        self.rejected_total += 1;
        *self
            .rejected_kinds
            .entry(super::reason_kind(&reason))
            .or_default() += 1;
        if self.rejected.len() < super::MAX_REJECTED_EXAMPLES {
            self.rejected.push((line, reason));
        }
    }

    fn parse(text: &[u8], cols: &Columns, width: usize) -> Piece {
        let mut p = Piece {
            records: Vec::with_capacity(text.len() / 100),
            symbols: Symbols::default(),
            rejected: Vec::new(),
            rejected_total: 0,
            rejected_kinds: Default::default(),
            lines: 0,
            excel_labels: 0,
        };
        let mut cursor = CsvCursor::new(text, 1);
        let mut fields = Vec::with_capacity(width + 2);
        let mut memo = Memo::default();
        while let Some(next) = cursor.next_record(&mut fields) {
            match next {
                Ok(line) => match parse_row(
                    cols,
                    &fields,
                    width,
                    &mut p.symbols,
                    &mut memo,
                    &mut p.excel_labels,
                ) {
                    Ok(row) => p.records.push(row),
                    Err(reason) => p.reject(line, reason),
                },
                Err((line, reason)) => p.reject(line, reason),
            }
        }
        p.lines = cursor.line() - 1;
        p
    }
}

/// The last value seen in a column, and what it parsed to: consecutive rows of an export
/// mostly repeat their date, tier and labels.
struct Last<T> {
    raw: Vec<u8>,
    value: Option<T>,
}

impl<T: Clone> Default for Last<T> {
    fn default() -> Self {
        Last {
            raw: Vec::new(),
            value: None,
        }
    }
}

impl<T: Clone> Last<T> {
    fn get(&mut self, raw: &[u8], parse: impl FnOnce() -> T) -> T {
        if let Some(v) = &self.value
            && self.raw == raw
        {
            return v.clone();
        }
        let v = parse();
        self.raw.clear();
        self.raw.extend_from_slice(raw);
        self.value = Some(v.clone());
        v
    }
}

#[derive(Default)]
struct Memo<'a> {
    date: Last<Result<(i64, Bucket), String>>,
    tier: Last<Result<Tier, String>>,
    long: Last<Result<super::values::ContextLabel, String>>,
    geo: Last<Result<Geo, String>>,
    speed: Last<Result<Speed, String>>,
    /// Names already interned, by their bytes in the text: no UTF-8 check or SipHash again.
    names: FxHashMap<&'a [u8], Sym>,
}

impl<'a> Memo<'a> {
    /// The symbol of a name column's (trimmed) value.
    fn name(
        &mut self,
        symbols: &mut Symbols,
        fields: &[Cow<'a, [u8]>],
        column: Option<usize>,
        value: &[u8],
        what: &str,
    ) -> Result<Sym, String> {
        if let Some(&s) = self.names.get(value) {
            return Ok(s);
        }
        let sym = symbols.intern(utf8(value, what)?);
        // Remembered only when borrowed from the text (a quoted field with escapes is not).
        if let Some(Cow::Borrowed(b)) = column.and_then(|i| fields.get(i)) {
            self.names.insert(trim(b), sym);
        }
        Ok(sym)
    }
}

fn utf8<'s>(b: &'s [u8], name: &str) -> Result<&'s str, String> {
    std::str::from_utf8(b).map_err(|_| format!("{name}: not valid UTF-8"))
}

/// A token count: plain digits directly, anything else through [`parse_count`] (which
/// accepts `12.0` and spaces, and words the reason for a bad value).
fn count(name: &str, raw: &[u8]) -> Result<u64, String> {
    if !raw.is_empty() && raw.len() < 20 && raw.iter().all(u8::is_ascii_digit) {
        return Ok(raw.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')));
    }
    parse_count(name, raw)
}

fn parse_row<'a>(
    cols: &Columns,
    fields: &[Cow<'a, [u8]>],
    width: usize,
    symbols: &mut Symbols,
    memo: &mut Memo<'a>,
    excel_labels: &mut u64,
) -> Result<(UsageRecord, Identity), String> {
    check_width(fields, width)?;
    // Trimmed bytes of a column; an absent column reads as empty.
    let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).map_or(&[][..], |f| trim(f));
    let date = get(Some(cols.date));
    let (time, bucket) = memo.date.get(date, || {
        let s = utf8(date, "usage_date_utc")?;
        let (t, b) = parse_usage_time(s).ok_or_else(|| {
            format!("usage_date_utc: not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM): {s:?}")
        })?;
        super::values::check_time("usage_date_utc", s, t).map(|t| (t, b))
    })?;
    let model = get(Some(cols.model));
    if model.is_empty() {
        return Err("model_version is empty".into());
    }
    let model_sym = memo.name(symbols, fields, Some(cols.model), model, "model_version")?;
    // The values every export uses are matched directly; others go through the parsers.
    let tier_b = get(cols.usage_type);
    let tier = match tier_b {
        b"standard" => Tier::Standard,
        b"batch" => Tier::Batch,
        _ => memo.tier.get(tier_b, || {
            let s = utf8(tier_b, "usage_type")?;
            Tier::parse(s).ok_or_else(|| format!("usage_type: unknown service tier {s:?}"))
        })?,
    };
    let ctx = get(cols.context_window);
    let long = match ctx {
        b"" => false,
        _ if ctx == "≤ 200k".as_bytes() => false,
        b"> 200k" => true,
        _ => {
            let label = memo.long.get(ctx, || {
                utf8(ctx, "context_window").and_then(super::values::context_label)
            })?;
            *excel_labels += u64::from(label == super::values::ContextLabel::ExcelStandard);
            label.is_long()
        }
    };
    let geo_b = get(cols.geo);
    let geo = match geo_b {
        b"not_available" | b"" => Geo::NotAvailable,
        _ => memo.geo.get(geo_b, || {
            let s = utf8(geo_b, "inference_geo")?;
            Geo::parse(s).ok_or_else(|| format!("inference_geo: unknown value {s:?}"))
        })?,
    };
    let speed_b = get(cols.speed);
    let speed = match speed_b {
        b"" => Speed::Standard,
        _ => memo.speed.get(speed_b, || {
            let s = utf8(speed_b, "speed")?;
            Speed::parse(s).ok_or_else(|| format!("speed: unknown value {s:?}"))
        })?,
    };
    let mut t = [0u64; 5];
    for (i, &c) in cols.tokens.iter().enumerate() {
        t[i] = count(TOKEN_COLUMNS[i], fields.get(c).map_or(&[][..], |f| f))?;
    }
    let web_search = match cols.web_search {
        Some(c) => count("web_search_count", fields.get(c).map_or(&[][..], |f| f))?,
        None => 0,
    };
    let tokens = Tokens::from_array(t);
    super::values::check_tokens(&tokens, web_search, false)?;
    let workspace = get(cols.workspace);
    let workspace_sym = memo.name(symbols, fields, cols.workspace, workspace, "workspace")?;
    let api_key = get(cols.api_key);
    let api_key_sym = memo.name(symbols, fields, cols.api_key, api_key, "api_key")?;
    // Terms by their meaning, not their spelling: the same row written `message` or
    // `standard`, `? 200k` or `≤ 200k` by another export is the same row.
    let id = stable_hash(&[
        date,
        model,
        api_key,
        workspace,
        &[tier as u8, long as u8, geo as u8, speed as u8],
    ]);
    let r = UsageRecord {
        time,
        bucket,
        model: model_sym,
        tier,
        context: Context::Flag(long),
        geo,
        speed,
        workspace: workspace_sym,
        api_key: api_key_sym,
        project: 0,
        session: 0,
        machine: 0,
        tokens,
        web_search,
        requests: 0,
        source: 0,
    };
    Ok((r, Identity::Row(id)))
}
