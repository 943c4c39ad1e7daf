//! Admin API reports (JSON, `formats.md` sections 3 and 4): the usage report
//! (`/v1/organizations/usage_report/messages`) and the cost report
//! (`/v1/organizations/cost_report`), as a user saves them: one page, a JSON array of pages,
//! or several page objects concatenated or one per line.
//!
//! Pages are small (they are API responses), so a file is read whole; a page that does not
//! parse is rejected with its line and the pages before it are kept. Each usage row gets an
//! identity from its bucket and dimensions, so overlapping pages saved twice count once.
//!
//! Every cost result is billed money, and none is dropped because a field is missing: without
//! `group_by[]=description` a result may carry only `currency`, `amount`, `description` and
//! `cost_type`, and the model and token category are then read from the description
//! ("Claude Sonnet 4 Usage - Input Tokens", "... - Input Tokens, Cache Write",
//! "Web Search Usage"); a result whose description names neither is kept, unattributed, and
//! the summary says how many. Unknown tier, geo or speed values do not drop a result either:
//! they are shown as standard and named in a note.

use super::console_cost::token_type_category;
use super::json::{CacheCreation, ServerToolUse, reject};
use super::{
    BilledRow, CostType, Identity, ParsedFile, line_of_offset, parse_time_str, rounding_of,
    stable_hash,
};
use crate::domain::dataset::Note;
use crate::domain::records::{Bucket, Category, Context, Geo, Speed, Tier, Tokens, UsageRecord};
use serde::Deserialize;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet};

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
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    context_window: Option<String>,
    #[serde(default)]
    inference_geo: Option<String>,
    #[serde(default)]
    speed: Option<String>,
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
    /// Cost results kept without a model or token category, and some of their descriptions.
    unattributed: u64,
    unattributed_descriptions: BTreeSet<String>,
    /// Cost result fields with values not understood (kept as standard / unknown), by field.
    odd_values: BTreeMap<&'static str, BTreeSet<String>>,
    odd_results: u64,
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
            let start = match super::values::check_time("starting_at", start_s, start) {
                Ok(t) => t,
                Err(why) => {
                    reject(&mut out, name, line, format!("page {}: {why}", i + 1));
                    continue;
                }
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
                    Report::Cost => cost_row(&mut out, &mut counts, start, start_s, end_s, v),
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
        notes.push(Note::from(format!(
            "{} rows have no model (the report was not grouped by model): they cannot be priced; save it with group_by[]=model",
            counts.no_model
        )));
    }
    if counts.no_tier > 0 {
        notes.push(Note::from(format!(
            "{} rows have no service_tier (not grouped by service tier): priced as standard",
            counts.no_tier
        )));
    }
    if counts.no_context > 0 {
        notes.push(Note::from(format!(
            "{} rows have no context_window (not grouped by context window): priced as up to 200k",
            counts.no_context
        )));
    }
    if counts.unattributed > 0 {
        let shown: Vec<String> = (counts.unattributed_descriptions.iter().take(3))
            .map(|d| format!("{d:?}"))
            .collect();
        let examples = if shown.is_empty() {
            "they have no description".to_owned()
        } else {
            format!("descriptions such as {}", shown.join(", "))
        };
        notes.push(Note::from(format!(
            "{} cost results were kept without a model or token type: neither their fields nor their description name one ({examples}); they count in the billed total but not by model or token type (save the report with group_by[]=description for both)",
            counts.unattributed
        )));
    }
    if counts.odd_results > 0 {
        let values: Vec<String> = (counts.odd_values.iter())
            .map(|(field, v)| {
                let v: Vec<String> = v.iter().take(5).map(|x| format!("{x:?}")).collect();
                format!("{field} {}", v.join(", "))
            })
            .collect();
        notes.push(Note::from(format!(
            "{} cost results have values not understood ({}): kept as billed money, shown as standard tier / no geo / standard speed / no token type",
            counts.odd_results,
            values.join("; ")
        )));
    }
    if out.records.is_empty() && out.billed.is_empty() && out.rejected.is_empty() {
        notes.push(Note::from(format!(
            "no usage in this report ({} empty buckets)",
            counts.empty_buckets
        )));
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
        Some(s) => super::values::context_label(s)?.is_long(),
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
    let web_search = r
        .server_tool_use
        .and_then(|s| s.web_search_requests)
        .unwrap_or(0);
    super::values::check_tokens(&tokens, web_search, false)?;
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
        session: 0,
        machine: 0,
        tokens,
        web_search,
        requests: 0,
        source: 0,
    };
    out.records.push((rec, Identity::Row(id)));
    Ok(())
}

/// What a cost result's `description` names: the model (as written, a display name), the
/// token category, or a non-token cost. Liberal, case-insensitive: "Claude Sonnet 4 Usage -
/// Input Tokens", "... - Output Tokens", "... - Input Tokens, Cache Hit" / "Cache Read" /
/// "Prompt Caching Read", "... Cache Write" / "Cache Creation" / "Prompt Caching Write" (with
/// "1h", "1 hour" or "60m" for the 1-hour TTL, else 5 minutes), "Web Search Usage",
/// "Code Execution Usage".
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Described<'a> {
    pub model: Option<&'a str>,
    pub category: Option<Category>,
    pub cost_type: Option<CostType>,
    /// The description says "Long Context" (or "> 200k").
    pub long_context: bool,
}

pub(crate) fn describe(d: &str) -> Described<'_> {
    let lower = d.to_ascii_lowercase();
    let has = |w: &str| lower.contains(w);
    if has("web search") || has("web_search") {
        return Described {
            cost_type: Some(CostType::WebSearch),
            ..Described::default()
        };
    }
    if has("code execution") || has("code_execution") {
        return Described {
            cost_type: Some(CostType::CodeExecution),
            ..Described::default()
        };
    }
    let caching = has("cache") || has("caching");
    let category = if caching && (has("read") || has("hit") || has("refresh")) {
        Some(Category::CacheRead)
    } else if caching && (has("write") || has("creat")) {
        let one_hour = ["1h", "1 h", "1-h", "1 hour", "one hour", "60m", "60 m"]
            .iter()
            .any(|w| has(w));
        Some(if one_hour {
            Category::CacheWrite1h
        } else {
            Category::CacheWrite5m
        })
    } else if has("output") {
        Some(Category::Output)
    } else if has("input") || has("prompt") {
        Some(Category::UncachedInput)
    } else {
        None
    };
    // The model is what comes before " Usage" (or before " - "), as written.
    let end = lower
        .find(" usage")
        .or_else(|| lower.find(" - "))
        .unwrap_or(0);
    let model = d[..end].trim().trim_end_matches(['-', ':', ',']).trim();
    let model_lower = model.to_ascii_lowercase();
    let names_model = !model.is_empty()
        && !["usage", "token", "cache", "caching", "input", "output"]
            .iter()
            .any(|w| model_lower.contains(w));
    Described {
        model: names_model.then_some(model),
        category,
        cost_type: category.map(|_| CostType::Tokens),
        long_context: has("long context") || has("> 200k") || has(">200k"),
    }
}

fn cost_row(
    out: &mut ParsedFile,
    counts: &mut Counts,
    start: i64,
    start_s: &str,
    end_s: &str,
    v: serde_json::Value,
) -> Result<(), String> {
    // The canonical text of the result (serde_json sorts keys) without its amount identifies
    // it: two results of one bucket that differ in anything else (a description the report
    // could not read) are two amounts, both billed; the same result saved twice (or again,
    // later, with a larger amount) is one.
    let mut v = v;
    let amount = v.as_object_mut().and_then(|o| o.remove("amount"));
    let canonical = v.to_string();
    if let (Some(o), Some(a)) = (v.as_object_mut(), amount) {
        o.insert("amount".to_owned(), a);
    }
    let r: CostResult = serde_json::from_value(v).map_err(|e| e.to_string())?;
    // `amount` is a decimal string in cents: "123.45" is $1.2345, "5000" is $50.00.
    let amount_text = match &r.amount {
        Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let cents = amount_text
        .as_deref()
        .and_then(|s| s.parse::<f64>().ok())
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
    let rounding_usd = amount_text
        .as_deref()
        .and_then(|s| rounding_of(s, 2))
        .unwrap_or(0.0);
    let currency = dim(&r.currency);
    if !currency.is_empty() && !currency.eq_ignore_ascii_case("USD") {
        return Err(format!("currency {currency}: only USD is supported"));
    }
    // A value not understood is named in a note, never a reason to drop billed money.
    let mut odd = false;
    let mut note = |field: &'static str, value: &str| {
        odd = true;
        counts
            .odd_values
            .entry(field)
            .or_default()
            .insert(value.to_owned());
    };
    let tier_s = dim(&r.service_tier);
    let tier = Tier::parse(tier_s).unwrap_or_else(|| {
        note("service_tier", tier_s);
        Tier::Standard
    });
    let geo_s = dim(&r.inference_geo);
    let geo = Geo::parse(geo_s).unwrap_or_else(|| {
        note("inference_geo", geo_s);
        Geo::NotAvailable
    });
    let speed_s = dim(&r.speed);
    let speed = Speed::parse(speed_s).unwrap_or_else(|| {
        note("speed", speed_s);
        Speed::Standard
    });
    let described = describe(dim(&r.description));
    let token_type = dim(&r.token_type);
    let category = if token_type.is_empty() {
        described.category
    } else {
        let c = token_type_category(token_type);
        if c.is_none() {
            note("token_type", token_type);
        }
        c
    };
    counts.odd_results += odd as u64;
    let cost_type = CostType::parse(dim(&r.cost_type))
        .or(described.cost_type)
        .unwrap_or(if category.is_some() {
            CostType::Tokens
        } else {
            CostType::Other
        });
    let model = match dim(&r.model) {
        "" => described.model.unwrap_or(""),
        m => m,
    };
    if matches!(cost_type, CostType::Tokens | CostType::Other)
        && (model.is_empty() || category.is_none())
    {
        counts.unattributed += 1;
        if counts.unattributed_descriptions.len() < 3 {
            let d = dim(&r.description);
            if !d.is_empty() {
                counts.unattributed_descriptions.insert(d.to_owned());
            }
        }
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
        model: s.intern(model),
        workspace: s.intern(dim(&r.workspace_id)),
        api_key: 0,
        tier,
        category,
        usd: super::values::check_amount(
            "amount",
            &r.amount.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            cents / 100.0,
        )?,
        id,
        long_context: match r.context_window.as_deref() {
            Some(label) => super::values::context_label(label)?.is_long(),
            None => described.long_context,
        },
        geo,
        speed,
        cost_type,
        rounding_usd,
        source: 0,
    });
    Ok(())
}
