//! The Console cost export (CSV), every variant (`formats.md` section 2): what was billed,
//! kept as its own series to reconcile against the recomputed cost.

use super::{BilledRow, ParsedFile, Rejected, stable_hash};
use super::console_usage::parse_usage_time;
use crate::records::{Category, Tier};
use std::io::Read;

pub fn token_type_category(s: &str) -> Option<Category> {
    Some(match s.trim() {
        "input_no_cache" | "uncached_input_tokens" => Category::UncachedInput,
        "input_cache_read" | "cache_read_input_tokens" => Category::CacheRead,
        "input_cache_write_5m" | "cache_creation.ephemeral_5m_input_tokens" => Category::CacheWrite5m,
        "input_cache_write_1h" | "cache_creation.ephemeral_1h_input_tokens" => Category::CacheWrite1h,
        "output" | "output_tokens" => Category::Output,
        _ => return None,
    })
}

pub fn parse<R: Read>(name: &str, reader: R) -> ParsedFile {
    let mut out = ParsedFile::default();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut rec = csv::StringRecord::new();
    let reject = |out: &mut ParsedFile, line: u64, reason: String| {
        out.rejected.push(Rejected {
            file: name.to_owned(),
            line,
            reason,
        })
    };
    let header: Vec<String> = match rdr.read_record(&mut rec) {
        Ok(true) => rec
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect(),
        Ok(false) => {
            reject(&mut out, 1, "the file is empty".into());
            return out;
        }
        Err(e) => {
            reject(&mut out, 1, format!("cannot read header: {e}"));
            return out;
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
    let width = header.len();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let io = e.is_io_error();
                reject(&mut out, line, format!("malformed CSV or not UTF-8: {e}"));
                if io {
                    break;
                }
                continue;
            }
        }
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() < width {
            reject(&mut out, line, format!("expected {width} columns, found {}", rec.len()));
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim();
        let date = get(Some(c_date));
        let Some((time, _)) = parse_usage_time(date) else {
            reject(&mut out, line, format!("usage_date_utc: not a date: {date:?}"));
            continue;
        };
        let cost_s = get(Some(c_cost));
        let usd = match cost_s.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                reject(&mut out, line, format!("cost_usd: not a number: {cost_s:?}"));
                continue;
            }
        };
        let tier_s = get(c_tier);
        let Some(tier) = Tier::parse(tier_s) else {
            reject(&mut out, line, format!("usage_type: unknown service tier {tier_s:?}"));
            continue;
        };
        let token_type = get(Some(c_type));
        let category = token_type_category(token_type);
        let cost_type = get(c_cost_type);
        if category.is_none() && (cost_type.is_empty() || cost_type == "token") {
            reject(&mut out, line, format!("token_type: unknown value {token_type:?}"));
            continue;
        }
        let model = get(Some(c_model));
        let (ws, key) = (get(c_ws), get(c_key));
        let fields: Vec<&[u8]> = rec.iter().map(str::as_bytes).collect();
        let id = stable_hash(&fields);
        let s = &mut out.symbols;
        out.billed.push(BilledRow {
            time,
            model: s.intern(model),
            workspace: s.intern(ws),
            api_key: s.intern(key),
            tier,
            category,
            usd,
            id,
        });
    }
    out.summary.rows = out.billed.len() as u64;
    out
}
