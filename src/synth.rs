//! Deterministic synthetic usage, for `sample-data/` (see `examples/gen_samples.rs`), the
//! benchmarks and tests. Realistic shapes, never real data.

use crate::cost::{self, Terms};
use crate::prices::PriceTable;
use crate::records::{Geo, Speed, Tier, Tokens};
use chrono::{Duration, NaiveDate};
use std::fmt::Write;

/// One Console usage row, before it is written out.
#[derive(Clone, Debug)]
pub struct Row {
    pub date: String,
    pub model: &'static str,
    pub api_key: String,
    pub workspace: &'static str,
    pub tier: Tier,
    pub long: bool,
    pub tokens: Tokens<u64>,
    pub web_search: u64,
}

struct Stream {
    workspace: &'static str,
    key: &'static str,
    model: &'static str,
    tier: Tier,
    requests: f64,
    uncached: f64,
    write_5m: f64,
    write_1h: f64,
    read: f64,
    output: f64,
    web_search: f64,
}

const STREAMS: &[Stream] = &[
    Stream { workspace: "Default", key: "prod-api", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 1800.0, uncached: 900.0, write_5m: 120.0, write_1h: 0.0, read: 3200.0, output: 380.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "prod-api", model: "claude-haiku-4-5-20251001", tier: Tier::Standard, requests: 2600.0, uncached: 700.0, write_5m: 60.0, write_1h: 0.0, read: 1500.0, output: 160.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "batch-nightly", model: "claude-sonnet-4-5-20250929", tier: Tier::Batch, requests: 900.0, uncached: 2400.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 600.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "batch-nightly", model: "claude-3-haiku-20240307", tier: Tier::Batch, requests: 3000.0, uncached: 1100.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 120.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "claude_code_key_alice", model: "claude-opus-4-5-20251101", tier: Tier::Standard, requests: 260.0, uncached: 40.0, write_5m: 0.0, write_1h: 2100.0, read: 42000.0, output: 520.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "claude_code_key_alice", model: "claude-haiku-4-5-20251001", tier: Tier::Standard, requests: 180.0, uncached: 300.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 60.0, web_search: 0.0 },
    Stream { workspace: "Support Bot", key: "support-prod", model: "claude-3-haiku-20240307", tier: Tier::Standard, requests: 1400.0, uncached: 350.0, write_5m: 90.0, write_1h: 0.0, read: 2600.0, output: 210.0, web_search: 0.0 },
    Stream { workspace: "Support Bot", key: "support-prod", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 320.0, uncached: 1200.0, write_5m: 400.0, write_1h: 0.0, read: 5200.0, output: 450.0, web_search: 0.06 },
    Stream { workspace: "Support Bot", key: "support-staging", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 40.0, uncached: 2000.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 300.0, web_search: 0.0 },
];

/// Daily Console usage rows over `days` days ending on `last` (inclusive).
pub fn console_rows(last: NaiveDate, days: u32, seed: u64) -> Vec<Row> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rows = Vec::new();
    for d in 0..days {
        let date = last - Duration::days((days - 1 - d) as i64);
        let weekday = chrono::Datelike::weekday(&date).num_days_from_monday();
        let weekend = if weekday >= 5 { 0.35 } else { 1.0 };
        let growth = 0.75 + 0.5 * d as f64 / days.max(1) as f64;
        for s in STREAMS {
            // Batch jobs run every night; people and bots follow the week.
            let k = if s.tier == Tier::Batch { growth } else { weekend * growth };
            let n = s.requests * k * (0.8 + 0.4 * rng.f64());
            if n < 1.0 {
                continue;
            }
            let jitter = |rng: &mut fastrand::Rng, per: f64| (n * per * (0.9 + 0.2 * rng.f64())).round() as u64;
            let tokens = Tokens {
                uncached_input: jitter(&mut rng, s.uncached),
                cache_write_5m: jitter(&mut rng, s.write_5m),
                cache_write_1h: jitter(&mut rng, s.write_1h),
                cache_read: jitter(&mut rng, s.read),
                output: jitter(&mut rng, s.output),
            };
            rows.push(Row {
                date: date.format("%Y-%m-%d").to_string(),
                model: s.model,
                api_key: s.key.to_owned(),
                workspace: s.workspace,
                tier: s.tier,
                long: false,
                tokens,
                web_search: (n * s.web_search).round() as u64,
            });
        }
        // A few days of long-context work on Sonnet 4.5 (1M-context beta).
        if d % 30 == 17 {
            rows.push(Row {
                date: date.format("%Y-%m-%d").to_string(),
                model: "claude-sonnet-4-5-20250929",
                api_key: "prod-api".into(),
                workspace: "Default",
                tier: Tier::Standard,
                long: true,
                tokens: Tokens {
                    uncached_input: 4_100_000 + rng.u64(0..400_000),
                    cache_write_5m: 0,
                    cache_write_1h: 0,
                    cache_read: 0,
                    output: 60_000 + rng.u64(0..10_000),
                },
                web_search: 0,
            });
        }
    }
    rows
}

/// Many rows for benchmarks: `n` hourly rows across many keys.
pub fn bulk_rows(n: usize, seed: u64) -> Vec<Row> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
    (0..n)
        .map(|i| {
            let s = &STREAMS[i % STREAMS.len()];
            let hour = (i / (STREAMS.len() * 200)) as i64;
            let t = start.and_hms_opt(0, 0, 0).expect("valid time") + Duration::hours(hour);
            let scale = 0.02 * (0.5 + rng.f64());
            let n = s.requests * scale;
            Row {
                date: t.format("%Y-%m-%d %H:%M").to_string(),
                model: s.model,
                api_key: format!("{}-{}", s.key, i % 200),
                workspace: s.workspace,
                tier: s.tier,
                long: false,
                tokens: Tokens {
                    uncached_input: (n * s.uncached) as u64,
                    cache_write_5m: (n * s.write_5m) as u64,
                    cache_write_1h: (n * s.write_1h) as u64,
                    cache_read: (n * s.read) as u64,
                    output: (n * s.output) as u64,
                },
                web_search: 0,
            }
        })
        .collect()
}

/// The newer Console usage header (with `context_window`, `inference_geo`, `speed`).
pub const USAGE_HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count,inference_geo,speed";

pub fn usage_csv(rows: &[Row]) -> String {
    let mut s = String::with_capacity(rows.len() * 130);
    s.push_str(USAGE_HEADER);
    s.push('\n');
    for r in rows {
        let t = &r.tokens;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},not_available,",
            r.date,
            r.model,
            r.api_key,
            r.workspace,
            r.tier.key(),
            if r.long { "> 200k" } else { "≤ 200k" },
            t.uncached_input,
            t.cache_write_5m,
            t.cache_write_1h,
            t.cache_read,
            t.output,
            r.web_search
        );
    }
    s
}

/// The matching Console cost export: one row per usage row and token type, in dollars.
pub fn cost_csv(rows: &[Row], table: &PriceTable) -> String {
    let mut s = String::from(
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed,api_key_id,api_key_status\n",
    );
    for r in rows {
        let Some(m) = table.lookup(r.model) else { continue };
        let time = NaiveDate::parse_from_str(&r.date[..10], "%Y-%m-%d")
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp())
            .unwrap_or(0);
        let terms = Terms {
            tier: r.tier,
            long: r.long,
            geo: Geo::NotAvailable,
            speed: Speed::Standard,
        };
        let c = cost::price(table, m, time, &r.tokens.to_f64(), r.web_search as f64, &terms);
        let display = table.model(m).display_name();
        let ctx = if r.long { "> 200k" } else { "≤ 200k" };
        let key_id = format!("apikey_{:08x}", crate::import::stable_hash(&[r.api_key.as_bytes()]) as u32);
        for (tt, usd, n) in [
            ("input_no_cache", c.uncached_input, r.tokens.uncached_input),
            ("input_cache_write_5m", c.cache_write_5m, r.tokens.cache_write_5m),
            ("input_cache_write_1h", c.cache_write_1h, r.tokens.cache_write_1h),
            ("input_cache_read", c.cache_read, r.tokens.cache_read),
            ("output", c.output, r.tokens.output),
        ] {
            if n == 0 {
                continue;
            }
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{:.6},{:.6},token,not_available,,{},active",
                &r.date[..10], display, r.workspace, r.api_key, r.tier.key(), ctx, tt, usd, usd, key_id
            );
        }
        if r.web_search > 0 {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},,{:.6},{:.6},web_search,not_available,,{},active",
                &r.date[..10], display, r.workspace, r.api_key, r.tier.key(), ctx, c.web_search, c.web_search, key_id
            );
        }
    }
    s
}
