//! Admin API reports (JSON, `formats.md` sections 3 and 4): the usage report
//! (`/v1/organizations/usage_report/messages`) and the cost report
//! (`/v1/organizations/cost_report`), as a user saves them: one page, a JSON array of pages,
//! or several page objects concatenated or one per line.
//!
//! Pages are small (they are API responses), so a file is read whole; a page that does not
//! parse is rejected with its line and the pages before it are kept. Each usage row gets an
//! identity from its bucket and dimensions, so overlapping pages saved twice count once.

use super::console_cost::token_type_category;
use super::console_usage::is_long_context_label;
use super::api::{CacheCreation, ServerToolUse, reject};
use super::{BilledRow, Identity, ParsedFile, line_of_offset, parse_time_str, stable_hash};
use crate::records::{Bucket, Context, Geo, Speed, Tier, Tokens, UsageRecord};
use serde::Deserialize;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};

/// Which report a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Usage,
    Cost,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Option<Vec<TimeBucket>>,
}

#[derive(Deserialize)]
struct TimeBucket {
    #[serde(default)]
    starting_at: Option<String>,
    #[serde(default)]
    ending_at: Option<String>,
    #[serde(default)]
    results: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct UsageResult {
    #[serde(default)]
    api_key_id: Option<String>,
    #[serde(default)]
    workspace_id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    service_tier: Option<String>,
    #[serde(default)]
    context_window: Option<String>,
    #[serde(default)]
    inference_geo: Option<String>,
    #[serde(default)]
    speed: Option<String>,
    #[serde(default)]
    uncached_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    server_tool_use: Option<ServerToolUse>,
}

#[derive(Deserialize)]
struct CostResult {
    #[serde(default)]
    amount: Option<serde_json::Value>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    cost_type: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    service_tier: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    workspace_id: Option<String>,
}

/// Collects the pages of a JSON array one by one, so that a broken page keeps the ones before.
struct PagesSeed<'p>(&'p mut Vec<Page>);

impl<'de> DeserializeSeed<'de> for PagesSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PagesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of report pages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(p) = seq.next_element::<Page>()? {
            self.0.push(p);
        }
        Ok(())
    }
}

#[derive(Default)]
struct Counts {
    no_model: u64,
    no_tier: u64,
    no_context: u64,
    empty_buckets: u64,
}

/// Parses a saved report (the whole file's bytes).
pub fn parse(name: &str, bytes: &[u8], report: Report) -> ParsedFile {
    let mut out = ParsedFile::default();
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // (page, line it starts on)
    let mut pages: Vec<(Page, u64)> = Vec::new();
    let first = text.iter().position(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|i| text[i] == b'[') {
        let mut got = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(text);
        let r = PagesSeed(&mut got)
            .deserialize(&mut de)
            .and_then(|_| de.end());
        let line = line_of_offset(text, first.unwrap_or(0));
        pages.extend(got.into_iter().map(|p| (p, line)));
        if let Err(e) = r {
            reject(
                &mut out,
                name,
                e.line() as u64,
                format!("not valid JSON: {e} (the pages before it were imported)"),
            );
        }
    } else {
        let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<Page>();
        loop {
            let at = stream.byte_offset();
            let start = text[at..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .map_or(at, |i| at + i);
            match stream.next() {
                None => break,
                Some(Ok(p)) => pages.push((p, line_of_offset(text, start))),
                Some(Err(e)) => {
                    let why = if e.is_eof() {
                        "the file ends inside a page (truncated?)".to_owned()
                    } else {
                        e.to_string()
                    };
                    reject(
                        &mut out,
                        name,
                        e.line() as u64,
                        format!("not a valid report page: {why}"),
                    );
                    break;
                }
            }
        }
    }
    let mut counts = Counts::default();
    for (i, (page, line)) in pages.into_iter().enumerate() {
        let Some(data) = page.data else {
            reject(
                &mut out,
                name,
                line,
                format!("page {}: not a report page (no data array)", i + 1),
            );
            continue;
        };
        for bucket in data {
            let Some(start_s) = bucket.starting_at.as_deref() else {
                reject(
                    &mut out,
                    name,
                    line,
                    format!("page {}: a bucket has no starting_at", i + 1),
                );
                continue;
            };
            let Some(start) = parse_time_str(start_s) else {
                reject(
                    &mut out,
                    name,
                    line,
                    format!("page {}: starting_at is not a time: {start_s:?}", i + 1),
                );
                continue;
            };
            let end_s = bucket.ending_at.as_deref().unwrap_or("");
            let width = parse_time_str(end_s).map(|e| e - start);
            let results = bucket.results.unwrap_or_default();
            if results.is_empty() {
                counts.empty_buckets += 1;
            }
            for (k, v) in results.into_iter().enumerate() {
                let at = |why: String| {
                    format!("page {}, bucket {start_s}, result {}: {why}", i + 1, k + 1)
                };
                let r = match report {
                    Report::Usage => {
                        usage_row(&mut out, &mut counts, start, width, start_s, end_s, v)
                    }
                    Report::Cost => cost_row(&mut out, start, start_s, end_s, v),
                };
                if let Err(why) = r {
                    reject(&mut out, name, line, at(why));
                }
            }
        }
    }
    out.summary.rows = (out.records.len() + out.billed.len()) as u64;
    let notes = &mut out.summary.notes;
    if counts.no_model > 0 {
        notes.push(format!(
            "{} rows have no model (the report was not grouped by model): they cannot be priced; save it with group_by[]=model",
            counts.no_model
        ));
    }
    if counts.no_tier > 0 {
        notes.push(format!(
            "{} rows have no service_tier (not grouped by service tier): priced as standard",
            counts.no_tier
        ));
    }
    if counts.no_context > 0 {
        notes.push(format!(
            "{} rows have no context_window (not grouped by context window): priced as up to 200k",
            counts.no_context
        ));
    }
    if out.records.is_empty() && out.billed.is_empty() && out.rejected.is_empty() {
        notes.push(format!(
            "no usage in this report ({} empty buckets)",
            counts.empty_buckets
        ));
    }
    out
}

fn dim(s: &Option<String>) -> &str {
    s.as_deref().map(str::trim).unwrap_or("")
}

fn usage_row(
    out: &mut ParsedFile,
    counts: &mut Counts,
    start: i64,
    width: Option<i64>,
    start_s: &str,
    end_s: &str,
    v: serde_json::Value,
) -> Result<(), String> {
    let r: UsageResult = serde_json::from_value(v).map_err(|e| e.to_string())?;
    let tier = match r.service_tier.as_deref() {
        None => {
            counts.no_tier += 1;
            Tier::Standard
        }
        Some(s) => Tier::parse(s).ok_or_else(|| format!("service_tier: unknown value {s:?}"))?,
    };
    let long = match r.context_window.as_deref() {
        None => {
            counts.no_context += 1;
            false
        }
        Some(s) => is_long_context_label(s),
    };
    let geo_s = dim(&r.inference_geo);
    let geo = Geo::parse(geo_s).ok_or_else(|| format!("inference_geo: unknown value {geo_s:?}"))?;
    let speed_s = dim(&r.speed);
    let speed = Speed::parse(speed_s).ok_or_else(|| format!("speed: unknown value {speed_s:?}"))?;
    let model = dim(&r.model);
    if model.is_empty() {
        counts.no_model += 1;
    }
    let cc = r.cache_creation.unwrap_or_default();
    let tokens = Tokens {
        uncached_input: r.uncached_input_tokens.unwrap_or(0),
        cache_write_5m: cc.ephemeral_5m_input_tokens.unwrap_or(0),
        cache_write_1h: cc.ephemeral_1h_input_tokens.unwrap_or(0),
        cache_read: r.cache_read_input_tokens.unwrap_or(0),
        output: r.output_tokens.unwrap_or(0),
    };
    let bucket = match width {
        Some(w) if w <= 60 => Bucket::Minute,
        Some(w) if w <= 3600 => Bucket::Hour,
        _ => Bucket::Day,
    };
    // A row is its bucket and its dimensions (null where not grouped by); the same row in
    // two overlapping saved pages is one row.
    fn null(o: &Option<String>) -> &[u8] {
        o.as_deref().map_or(b"\0null", str::as_bytes)
    }
    let id = stable_hash(&[
        b"admin-usage",
        start_s.as_bytes(),
        end_s.as_bytes(),
        null(&r.api_key_id),
        null(&r.workspace_id),
        null(&r.model),
        null(&r.service_tier),
        null(&r.context_window),
        null(&r.inference_geo),
        null(&r.speed),
    ]);
    let s = &mut out.symbols;
    let rec = UsageRecord {
        time: start,
        bucket,
        model: s.intern(model),
        tier,
        context: Context::Flag(long),
        geo,
        speed,
        workspace: s.intern(dim(&r.workspace_id)),
        api_key: s.intern(dim(&r.api_key_id)),
        project: 0,
        tokens,
        web_search: r
            .server_tool_use
            .and_then(|s| s.web_search_requests)
            .unwrap_or(0),
        requests: 0,
    };
    out.records.push((rec, Identity::Row(id)));
    Ok(())
}

fn cost_row(
    out: &mut ParsedFile,
    start: i64,
    start_s: &str,
    end_s: &str,
    v: serde_json::Value,
) -> Result<(), String> {
    // The canonical text of the result (serde_json sorts keys) identifies it.
    let canonical = v.to_string();
    let r: CostResult = serde_json::from_value(v).map_err(|e| e.to_string())?;
    // `amount` is a decimal string in cents: "123.45" is $1.2345.
    let cents = match &r.amount {
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        _ => None,
    }
    .filter(|c| c.is_finite())
    .ok_or_else(|| {
        format!(
            "amount: not a decimal amount in cents: {}",
            r.amount
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or("missing".into())
        )
    })?;
    let currency = dim(&r.currency);
    if !currency.is_empty() && !currency.eq_ignore_ascii_case("USD") {
        return Err(format!("currency {currency}: only USD is supported"));
    }
    let tier = match r.service_tier.as_deref() {
        None => Tier::Standard,
        Some(s) => Tier::parse(s).ok_or_else(|| format!("service_tier: unknown value {s:?}"))?,
    };
    let token_type = dim(&r.token_type);
    let category = token_type_category(token_type);
    let cost_type = dim(&r.cost_type);
    if category.is_none() && (cost_type.is_empty() || cost_type == "tokens") {
        return Err(format!("token_type: unknown value {token_type:?}"));
    }
    let id = stable_hash(&[
        b"admin-cost",
        start_s.as_bytes(),
        end_s.as_bytes(),
        canonical.as_bytes(),
    ]);
    let s = &mut out.symbols;
    out.billed.push(BilledRow {
        time: start,
        model: s.intern(dim(&r.model)),
        workspace: s.intern(dim(&r.workspace_id)),
        api_key: 0,
        tier,
        category,
        usd: cents / 100.0,
        id,
    });
    Ok(())
}
