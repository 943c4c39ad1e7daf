//! The Console cost export (CSV), every variant (`formats.md` section 2): what was billed,
//! kept as its own series to reconcile against the recomputed cost.
//!
//! Columns are found by name. The 2024 exports are narrower (no workspace or key column, no
//! context, geo, speed or cost type) and use other words: `usage_type` `message` is the
//! standard tier ([`Tier::parse`]), `token_type` `input_cache_write` a 5-minute cache write
//! (the only kind then). An empty workspace is the Default workspace, and is stored under that
//! name, as the usage CSV writes it (so filters and reconciliation line up).

use super::csv::{
    CsvCursor, check_unique_header, check_width, cr_only_to_lf, header_names, parse_usage_time,
    parse_whole, skip_preamble,
};
use super::values::{self, ContextLabel};
use super::{BilledRow, CostType, ParsedFile, rounding_of, stable_hash};
use crate::domain::dataset::Note;
use crate::domain::records::{Category, Geo, Speed, Tier};
use std::borrow::Cow;
use std::io::Read;

pub fn token_type_category(s: &str) -> Option<Category> {
    Some(match s.trim() {
        "input_no_cache" | "uncached_input_tokens" => Category::UncachedInput,
        "input_cache_read" | "cache_read_input_tokens" => Category::CacheRead,
        // `input_cache_write` (2024 exports): no TTL, 5-minute writes were the only kind.
        "input_cache_write_5m"
        | "input_cache_write"
        | "cache_creation.ephemeral_5m_input_tokens" => Category::CacheWrite5m,
        "input_cache_write_1h" | "cache_creation.ephemeral_1h_input_tokens" => {
            Category::CacheWrite1h
        }
        "output" | "output_tokens" => Category::Output,
        _ => return None,
    })
}

pub fn parse<R: Read>(name: &str, reader: R) -> ParsedFile {
    parse_whole(name, reader, parse_text)
}

fn parse_text(name: &str, bytes: &[u8]) -> ParsedFile {
    // Lone-CR line ends (Excel for Mac), see `cr_only_to_lf`.
    let bytes = &*cr_only_to_lf(bytes);
    let mut out = ParsedFile::default();
    let reject = |out: &mut ParsedFile, line: u64, reason: String| out.reject(name, line, reason);
    let mut cursor = CsvCursor::new(bytes, 1);
    let mut rec: Vec<Cow<[u8]>> = Vec::new();
    let (first, comments) = skip_preamble(&mut cursor, &mut rec);
    if comments > 0 {
        out.summary.notes.push(Note::from(format!(
            "{comments} comment lines (starting with #) before the header were skipped"
        )));
    }
    let header = match first {
        None => {
            reject(&mut out, 1, "the file is empty".into());
            return out;
        }
        Some(Err((line, why))) => {
            reject(&mut out, line, format!("cannot read header: {why}"));
            return out;
        }
        Some(Ok(line)) => {
            let names = header_names(&rec);
            if let Err(e) = check_unique_header(&names) {
                reject(&mut out, line, e);
                return out;
            }
            names
        }
    };
    let find = |n: &str| header.iter().position(|x| x == n);
    let (Some(c_date), Some(c_model), Some(c_type), Some(c_cost)) = (
        find("usage_date_utc"),
        find("model"),
        find("token_type"),
        find("cost_usd"),
    ) else {
        reject(
            &mut out,
            1,
            "header lacks usage_date_utc, model, token_type or cost_usd".into(),
        );
        return out;
    };
    let c_ws = find("workspace");
    let c_key = find("api_key");
    let c_tier = find("usage_type");
    let c_cost_type = find("cost_type");
    let [c_context, c_geo, c_speed] = ["context_window", "inference_geo", "speed"].map(find);
    let width = header.len();
    let mut excel = 0;
    while let Some(next) = cursor.next_record(&mut rec) {
        let line = match next {
            Ok(line) => line,
            Err((line, why)) => {
                reject(&mut out, line, why);
                continue;
            }
        };
        match parse_row(
            &rec,
            width,
            [c_date, c_model, c_type, c_cost],
            [c_ws, c_key, c_tier, c_cost_type, c_context, c_geo, c_speed],
            &mut out,
            &mut excel,
        ) {
            Ok(b) => out.billed.push(b),
            Err(why) => reject(&mut out, line, why),
        }
    }
    out.summary.rows = out.billed.len() as u64;
    if excel > 0 {
        out.summary
            .notes
            .push(values::excel_label_note(excel).into());
    }
    out
}

fn parse_row(
    rec: &[Cow<[u8]>],
    width: usize,
    [c_date, c_model, c_type, c_cost]: [usize; 4],
    [c_ws, c_key, c_tier, c_cost_type, c_context, c_geo, c_speed]: [Option<usize>; 7],
    out: &mut ParsedFile,
    excel: &mut u64,
) -> Result<BilledRow, String> {
    check_width(rec, width)?;
    // A row one field wider than the header whose extra field is empty passes the width check
    // (a trailing comma), and so does `3,75` when the last column is empty (no list price,
    // no key status): the amount would read as 3. Digits on both sides of the comma after
    // cost_usd say which it is.
    if rec.len() > width {
        let digits = |i: usize| {
            rec.get(i).is_some_and(|f| {
                let f = f.trim_ascii();
                !f.is_empty() && f.iter().all(u8::is_ascii_digit)
            })
        };
        if digits(c_cost) && digits(c_cost + 1) {
            return Err(format!(
                "cost_usd: {:?} is a number written with a decimal comma (expected {width} columns, found {}); export it with a decimal point",
                format!(
                    "{},{}",
                    String::from_utf8_lossy(rec[c_cost].trim_ascii()),
                    String::from_utf8_lossy(rec[c_cost + 1].trim_ascii())
                ),
                rec.len()
            ));
        }
    }
    let get = |i: Option<usize>, name: &str| -> Result<&str, String> {
        match i.and_then(|i| rec.get(i)) {
            None => Ok(""),
            Some(f) => std::str::from_utf8(f)
                .map(str::trim)
                .map_err(|_| format!("{name}: not valid UTF-8")),
        }
    };
    let date = get(Some(c_date), "usage_date_utc")?;
    let (time, _) =
        parse_usage_time(date).ok_or_else(|| format!("usage_date_utc: not a date: {date:?}"))?;
    let time = values::check_time("usage_date_utc", date, time)?;
    let cost_s = get(Some(c_cost), "cost_usd")?;
    let usd = match cost_s.parse::<f64>() {
        Ok(v) => values::check_amount("cost_usd", cost_s, v)?,
        _ => return Err(format!("cost_usd: not a number: {cost_s:?}")),
    };
    let tier_s = get(c_tier, "usage_type")?;
    let tier = Tier::parse(tier_s)
        .ok_or_else(|| format!("usage_type: unknown service tier {tier_s:?}"))?;
    let token_type = get(Some(c_type), "token_type")?;
    let category = token_type_category(token_type);
    let cost_type_s = get(c_cost_type, "cost_type")?;
    let cost_type = match CostType::parse(cost_type_s) {
        Some(CostType::Tokens) | None if category.is_none() => {
            return Err(format!("token_type: unknown value {token_type:?}"));
        }
        Some(c) => c,
        None => CostType::Tokens,
    };
    let label = values::context_label(get(c_context, "context_window")?)?;
    *excel += u64::from(label == ContextLabel::ExcelStandard);
    let long_context = label.is_long();
    let geo_s = get(c_geo, "inference_geo")?;
    let geo = Geo::parse(geo_s).ok_or_else(|| format!("inference_geo: unknown value {geo_s:?}"))?;
    let speed_s = get(c_speed, "speed")?;
    let speed = Speed::parse(speed_s).ok_or_else(|| format!("speed: unknown value {speed_s:?}"))?;
    let model = get(Some(c_model), "model")?;
    let (ws, key) = (get(c_ws, "workspace")?, get(c_key, "api_key")?);
    // An empty workspace is the Default workspace (the usage CSV names it).
    let ws = if c_ws.is_some() && ws.is_empty() {
        "Default"
    } else {
        ws
    };
    let fields: Vec<&[u8]> = rec.iter().map(|f| &f[..]).collect();
    let id = stable_hash(&fields);
    let s = &mut out.symbols;
    Ok(BilledRow {
        time,
        model: s.intern(model),
        workspace: s.intern(ws),
        api_key: s.intern(key),
        tier,
        category,
        usd,
        id,
        long_context,
        geo,
        speed,
        cost_type,
        rounding_usd: rounding_of(cost_s, 0).unwrap_or(0.0),
        source: 0,
    })
}
