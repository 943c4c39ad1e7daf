//! The Console usage export (CSV), both header versions (`formats.md` section 1).

use super::{Identity, ParsedFile, Rejected, parse_count, stable_hash};
use crate::records::{Bucket, Context, Geo, Speed, Tier, Tokens, UsageRecord};
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
    fn from_header(h: &csv::ByteRecord) -> Result<Columns, String> {
        let names: Vec<String> = h
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect();
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

/// Parses `YYYY-MM-DD` (a daily row) or `YYYY-MM-DD HH:MM` (an hourly row), UTC.
pub fn parse_usage_time(s: &str) -> Option<(i64, Bucket)> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((d.and_hms_opt(0, 0, 0)?.and_utc().timestamp(), Bucket::Day));
    }
    for f in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some((t.and_utc().timestamp(), Bucket::Hour));
        }
    }
    None
}

/// `≤ 200k` (U+2264), `<= 200k`, `0-200k` or empty: standard. Anything else (`> 200k`,
/// `200k-1M`, ...) means long context.
pub fn is_long_context_label(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    !(s.is_empty() || s == "≤ 200k" || s == "≤200k" || s == "<= 200k" || s == "0-200k" || s == "null")
}

fn text<'a>(rec: &'a csv::ByteRecord, i: Option<usize>, name: &str) -> Result<&'a str, String> {
    match i.and_then(|i| rec.get(i)) {
        None => Ok(""),
        Some(b) => std::str::from_utf8(b)
            .map(str::trim)
            .map_err(|_| format!("{name}: not valid UTF-8")),
    }
}

pub fn parse<R: Read>(name: &str, reader: R) -> ParsedFile {
    let mut out = ParsedFile::default();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut rec = csv::ByteRecord::new();
    let reject = |out: &mut ParsedFile, line: u64, reason: String| {
        out.rejected.push(Rejected {
            file: name.to_owned(),
            line,
            reason,
        })
    };
    // Header.
    let cols = match rdr.read_byte_record(&mut rec) {
        Ok(true) => match Columns::from_header(&rec) {
            Ok(c) => c,
            Err(e) => {
                reject(&mut out, 1, e);
                return out;
            }
        },
        Ok(false) => {
            reject(&mut out, 1, "the file is empty".into());
            return out;
        }
        Err(e) => {
            reject(&mut out, 1, format!("cannot read header: {e}"));
            return out;
        }
    };
    let width = rec.len();
    loop {
        let line = rdr.position().line();
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if e.is_io_error() {
                    let what = e.to_string();
                    reject(&mut out, line, format!("read error: {what}"));
                    break;
                }
                reject(&mut out, line, format!("malformed CSV: {e}"));
                continue;
            }
        }
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.iter().all(|b| b.is_ascii_whitespace())) {
            continue; // blank line
        }
        match parse_row(&cols, &rec, width, &mut out) {
            Ok((r, id)) => out.records.push((r, id)),
            Err(reason) => reject(&mut out, line, reason),
        }
    }
    out.summary.rows = out.records.len() as u64;
    if out.records.is_empty() && out.rejected.is_empty() {
        out.summary.notes.push("only a header: no usage rows".into());
    }
    out
}

fn parse_row(
    cols: &Columns,
    rec: &csv::ByteRecord,
    width: usize,
    out: &mut ParsedFile,
) -> Result<(UsageRecord, Identity), String> {
    if rec.len() < width {
        return Err(format!("expected {width} columns, found {}", rec.len()));
    }
    let date = text(rec, Some(cols.date), "usage_date_utc")?;
    let (time, bucket) = parse_usage_time(date).ok_or_else(|| {
        format!("usage_date_utc: not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM): {date:?}")
    })?;
    let model = text(rec, Some(cols.model), "model_version")?;
    if model.is_empty() {
        return Err("model_version is empty".into());
    }
    let tier_s = text(rec, cols.usage_type, "usage_type")?;
    let tier = Tier::parse(tier_s).ok_or_else(|| format!("usage_type: unknown service tier {tier_s:?}"))?;
    let ctx = text(rec, cols.context_window, "context_window")?;
    let geo_s = text(rec, cols.geo, "inference_geo")?;
    let geo = Geo::parse(geo_s).ok_or_else(|| format!("inference_geo: unknown value {geo_s:?}"))?;
    let speed_s = text(rec, cols.speed, "speed")?;
    let speed = Speed::parse(speed_s).ok_or_else(|| format!("speed: unknown value {speed_s:?}"))?;
    let mut t = [0u64; 5];
    for (i, &c) in cols.tokens.iter().enumerate() {
        t[i] = parse_count(TOKEN_COLUMNS[i], rec.get(c).unwrap_or_default())?;
    }
    let web_search = match cols.web_search {
        Some(c) => parse_count("web_search_count", rec.get(c).unwrap_or_default())?,
        None => 0,
    };
    let workspace = text(rec, cols.workspace, "workspace")?;
    let api_key = text(rec, cols.api_key, "api_key")?;
    let id = stable_hash(&[
        date.as_bytes(),
        model.as_bytes(),
        api_key.as_bytes(),
        workspace.as_bytes(),
        tier_s.as_bytes(),
        ctx.as_bytes(),
        geo_s.as_bytes(),
        speed_s.as_bytes(),
    ]);
    let s = &mut out.symbols;
    let r = UsageRecord {
        time,
        bucket,
        model: s.intern(model),
        tier,
        context: Context::Flag(is_long_context_label(ctx)),
        geo,
        speed,
        workspace: s.intern(workspace),
        api_key: s.intern(api_key),
        project: 0,
        tokens: Tokens::from_array(t),
        web_search,
        requests: 0,
    };
    Ok((r, Identity::Row(id)))
}
