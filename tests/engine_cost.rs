//! The pricing rules of `shared/docs/pricing.md` through the one pricing function: the
//! long-context whole-request rule, batch, data residency, fast mode and web search stacking,
//! and the workload calculator's worked example.
//!
//! Expected dollars are computed here from pricing.md's per-MTok prices, by hand.

use chrono::{TimeZone, Utc};
use costlens::domain::cost;
use costlens::domain::prices::PriceTable;
use costlens::domain::records::{Bucket, Context, Geo, Speed, Tier, Tokens, UsageRecord};
use costlens::engine::estimate::{self, EstimateError, Workload};
use costlens::engine::scenario::Ttl;

const MTOK: f64 = 1e6;

fn day(y: i32, m: u32, d: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp()
}

fn assert_usd(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn tokens(uncached: u64, w5: u64, w1: u64, read: u64, output: u64) -> Tokens<u64> {
    Tokens {
        uncached_input: uncached,
        cache_write_5m: w5,
        cache_write_1h: w1,
        cache_read: read,
        output,
    }
}

fn record(t: Tokens<u64>, context: Context) -> UsageRecord {
    UsageRecord {
        time: day(2026, 3, 1),
        bucket: Bucket::Request,
        model: 1,
        tier: Tier::Standard,
        context,
        geo: Geo::NotAvailable,
        speed: Speed::Standard,
        workspace: 0,
        api_key: 0,
        project: 0,
        session: 0,
        machine: 0,
        tokens: t,
        web_search: 0,
        requests: 1,
        source: 0,
    }
}

fn model(t: &PriceTable, name: &str) -> usize {
    t.lookup(name).unwrap_or_else(|| panic!("{name} is priced"))
}

/// Dollars of a token mix at per-MTok rates [input, 5m, 1h, read, output].
fn by_hand(t: &Tokens<u64>, r: [f64; 5]) -> f64 {
    t.as_array()
        .iter()
        .zip(r)
        .map(|(&n, rate)| n as f64 * rate / MTOK)
        .sum()
}

const SONNET: [f64; 5] = [3.0, 3.75, 6.0, 0.30, 15.0];
const SONNET_LONG: [f64; 5] = [6.0, 7.50, 12.0, 0.60, 22.50];

#[test]
fn long_context_is_decided_by_the_whole_request_input() {
    let t = PriceTable::bundled();
    let sonnet = model(&t, "claude-sonnet-4-5");
    let cases = [
        // (tokens, long?)
        (tokens(199_999, 0, 0, 0, 1_000), false),
        (tokens(200_000, 0, 0, 0, 1_000), false),
        (tokens(200_001, 0, 0, 0, 1_000), true),
        // Cache writes and reads count towards the 200K.
        (tokens(1, 100_000, 50_000, 49_999, 2_000), false),
        (tokens(2, 100_000, 50_000, 49_999, 2_000), true),
        (tokens(100_001, 50_000, 25_000, 25_000, 3_000), true),
        // Output does not.
        (tokens(150_000, 0, 0, 0, 900_000), false),
    ];
    for (tk, long) in cases {
        let got = cost::price_record(&t, sonnet, &record(tk, Context::Request));
        let want = by_hand(&tk, if long { SONNET_LONG } else { SONNET });
        assert_usd(got.total(), want, &format!("{tk:?}"));
    }
    // The whole request moves, not the part above 200K: 200,001 uncached + 1,000 output.
    let got = cost::price_record(
        &t,
        sonnet,
        &record(tokens(200_001, 0, 0, 0, 1_000), Context::Request),
    );
    assert_usd(
        got.total(),
        200_001.0 * 6.0 / MTOK + 1_000.0 * 22.5 / MTOK,
        "whole request",
    );
    assert_usd(got.total(), 1.222506, "whole request, in dollars");
    // Every cache category at its long-context price: 7.50 / 12 / 0.60.
    let tk = tokens(100_001, 50_000, 25_000, 25_000, 3_000);
    let c = cost::price_record(&t, sonnet, &record(tk, Context::Request));
    assert_usd(c.uncached_input, 0.600006, "long uncached");
    assert_usd(c.cache_write_5m, 0.375, "long 5m write");
    assert_usd(c.cache_write_1h, 0.3, "long 1h write");
    assert_usd(c.cache_read, 0.015, "long read");
    assert_usd(c.output, 0.0675, "long output");
}

#[test]
fn aggregated_rows_carry_the_long_context_flag() {
    let t = PriceTable::bundled();
    let sonnet = model(&t, "claude-sonnet-4-20250514");
    // A day's row of many small requests billed long (the export says so).
    let tk = tokens(10_000, 1_000, 0, 5_000, 2_000);
    let got = cost::price_record(&t, sonnet, &record(tk, Context::Flag(true)));
    assert_usd(got.total(), by_hand(&tk, SONNET_LONG), "flag true");
    // A day's row of 5M tokens that the export says was standard.
    let tk = tokens(5_000_000, 0, 0, 0, 100_000);
    let got = cost::price_record(&t, sonnet, &record(tk, Context::Flag(false)));
    assert_usd(got.total(), 15.0 + 1.5, "flag false");
}

#[test]
fn models_without_long_context_prices_are_unaffected() {
    let t = PriceTable::bundled();
    let tk = tokens(300_000, 10_000, 0, 0, 1_000);
    for (name, r) in [
        ("claude-haiku-4-5", [1.0, 1.25, 2.0, 0.10, 5.0]),
        ("claude-opus-4-5", [5.0, 6.25, 10.0, 0.50, 25.0]),
        ("claude-3-7-sonnet-latest", SONNET),
    ] {
        let m = model(&t, name);
        for ctx in [Context::Request, Context::Flag(true)] {
            let got = cost::price_record(&t, m, &record(tk, ctx));
            assert_usd(got.total(), by_hand(&tk, r), name);
        }
    }
}

#[test]
fn batch_halves_every_category_including_cache_writes_and_reads() {
    let t = PriceTable::bundled();
    let sonnet = model(&t, "claude-sonnet-4-5");
    let tk = tokens(1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000);
    // A day's row (flagged standard), not one 4M-token request.
    let mut r = record(tk, Context::Flag(false));
    r.tier = Tier::Batch;
    let c = cost::price_record(&t, sonnet, &r);
    assert_usd(c.uncached_input, 1.5, "batch input");
    assert_usd(c.cache_write_5m, 1.875, "batch 5m write");
    assert_usd(c.cache_write_1h, 3.0, "batch 1h write");
    assert_usd(c.cache_read, 0.15, "batch read");
    assert_usd(c.output, 7.5, "batch output");
    // Batch stacks on long context: 50% of the $6 / $22.50 rates.
    let mut r = record(tokens(250_000, 0, 0, 0, 10_000), Context::Request);
    r.tier = Tier::Batch;
    let c = cost::price_record(&t, sonnet, &r);
    assert_usd(
        c.total(),
        0.5 * (250_000.0 * 6.0 + 10_000.0 * 22.5) / MTOK,
        "batch x long",
    );
    // Priority is its own tier, at list price.
    let mut r = record(tk, Context::Flag(false));
    r.tier = Tier::Priority;
    assert_usd(
        cost::price_record(&t, sonnet, &r).total(),
        3.0 + 3.75 + 6.0 + 0.3 + 15.0,
        "priority",
    );
}

#[test]
fn data_residency_is_1_1x_only_on_the_4_6_models() {
    let t = PriceTable::bundled();
    let tk = tokens(1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000);
    let opus_sum = 5.0 + 6.25 + 10.0 + 0.5 + 25.0;
    let sonnet_sum = 3.0 + 3.75 + 6.0 + 0.3 + 15.0;
    for (name, list, mult) in [
        ("claude-opus-4-6", opus_sum, 1.1),
        ("claude-sonnet-4-6", sonnet_sum, 1.1),
        ("claude-opus-4-5", opus_sum, 1.0),
        ("claude-sonnet-4-5", sonnet_sum, 1.0),
        ("claude-haiku-4-5", 1.0 + 1.25 + 2.0 + 0.1 + 5.0, 1.0),
    ] {
        let m = model(&t, name);
        let mut r = record(tk, Context::Flag(false));
        for (geo, k) in [
            (Geo::NotAvailable, 1.0),
            (Geo::Global, 1.0),
            (Geo::Us, mult),
        ] {
            r.geo = geo;
            assert_usd(
                cost::price_record(&t, m, &r).total(),
                list * k,
                &format!("{name} {geo:?}"),
            );
        }
    }
}

#[test]
fn fast_mode_is_6x_on_opus_4_6_and_modifiers_stack() {
    let t = PriceTable::bundled();
    let tk = tokens(1_000_000, 0, 0, 0, 100_000);
    let opus46 = model(&t, "claude-opus-4-6");
    let mut r = record(tk, Context::Request);
    r.speed = Speed::Fast;
    // On 2026-03-01 the 1M-token prompt pays Opus 4.6's long-context card ($10 / $37.50),
    // times 6 for fast mode.
    assert_usd(
        cost::price_record(&t, opus46, &r).total(),
        6.0 * (10.0 + 3.75),
        "fast x long",
    );
    // From 2026-03-13 the same request is at standard rates.
    r.time = day(2026, 4, 1);
    assert_usd(
        cost::price_record(&t, opus46, &r).total(),
        6.0 * (5.0 + 2.5),
        "fast",
    );
    // Batch x residency x fast, multiplicatively: 0.5 x 1.1 x 6 = 3.3.
    r.tier = Tier::Batch;
    r.geo = Geo::Us;
    assert_usd(
        cost::price_record(&t, opus46, &r).total(),
        3.3 * 7.5,
        "batch x us x fast",
    );
    // Opus 4.5 has no fast mode price: list.
    let opus45 = model(&t, "claude-opus-4-5");
    let mut r = record(tk, Context::Request);
    r.speed = Speed::Fast;
    assert_usd(
        cost::price_record(&t, opus45, &r).total(),
        7.5,
        "no fast on 4.5",
    );
    // Sonnet 4.6 (on 2026-03-01, before the 1M window became standard-priced): long
    // context x residency.
    let s46 = model(&t, "claude-sonnet-4-6");
    let mut r = record(tokens(300_000, 0, 0, 0, 0), Context::Request);
    r.geo = Geo::Us;
    assert_usd(
        cost::price_record(&t, s46, &r).total(),
        1.1 * 300_000.0 * 6.0 / MTOK,
        "long x us",
    );
}

#[test]
fn web_search_is_ten_dollars_per_thousand() {
    let t = PriceTable::bundled();
    let m = model(&t, "claude-sonnet-4-5");
    let mut r = record(Tokens::default(), Context::Request);
    r.web_search = 1_000;
    let c = cost::price_record(&t, m, &r);
    assert_usd(c.web_search, 10.0, "1000 searches");
    assert_usd(c.total(), 10.0, "searches only");
    r.web_search = 7;
    assert_usd(cost::price_record(&t, m, &r).total(), 0.07, "7 searches");
    // Searches are not tokens: batch does not halve them.
    r.tier = Tier::Batch;
    assert_usd(
        cost::price_record(&t, m, &r).web_search,
        0.07,
        "7 searches in batch",
    );
}

fn sonnet_workload(requests: f64, hours: f64, ttl: Ttl) -> Workload {
    Workload {
        model: "claude-sonnet-4-5".into(),
        requests_per_day: requests,
        active_hours: hours,
        days: 1,
        cached_prefix: 1000.0,
        input: 0.0,
        output: 0.0,
        ttl,
        batch_share: 0.0,
    }
}

#[test]
fn worked_example_of_pricing_md() {
    let t = PriceTable::bundled();
    let e = estimate::estimate(&t, &sonnet_workload(100.0, 1.0, Ttl::FiveMinutes)).unwrap();
    // 100,000 x $3/MTok.
    assert_usd(e.without_cache_usd, 0.30, "without caching");
    // 1 write (1,000 x $3.75/MTok) + 99 reads (99,000 x $0.30/MTok).
    assert_usd(e.with_cache_usd, 0.00375 + 0.0297, "with caching");
    assert_usd(
        e.with_cache_usd,
        0.03345,
        "with caching, as pricing.md writes it",
    );
    assert_usd(e.savings_usd, 0.26655, "savings");
    assert!(
        (e.savings_pct - 88.85).abs() < 1e-9,
        "about 89%: {}",
        e.savings_pct
    );
    assert_eq!((e.cache_writes, e.cache_reads), (1.0, 99.0));
    assert_eq!(e.gap_seconds, 36.0);
    assert!(e.stays_cached);
    assert_eq!(e.model, "Claude Sonnet 4.5");
}

#[test]
fn every_request_writes_when_the_gap_exceeds_the_ttl() {
    let t = PriceTable::bundled();
    // 100 requests over 24 hours: one every 864 s, longer than 5 minutes.
    let e = estimate::estimate(&t, &sonnet_workload(100.0, 24.0, Ttl::FiveMinutes)).unwrap();
    assert!(!e.stays_cached);
    assert_eq!((e.cache_writes, e.cache_reads), (100.0, 0.0));
    assert_usd(e.without_cache_usd, 0.30, "without");
    // 100 writes of 1,000 tokens at $3.75: caching costs more, shown honestly.
    assert_usd(e.with_cache_usd, 0.375, "with");
    assert_usd(e.savings_usd, -0.075, "negative savings");
    assert!((e.savings_pct + 25.0).abs() < 1e-9, "{}", e.savings_pct);
}

#[test]
fn one_hour_ttl_keeps_the_prefix_across_longer_gaps() {
    let t = PriceTable::bundled();
    // 100 requests over 24 h (864 s apart) fit in a 1-hour TTL: 1 write at $6 + 99 reads.
    let e = estimate::estimate(&t, &sonnet_workload(100.0, 24.0, Ttl::OneHour)).unwrap();
    assert!(e.stays_cached);
    assert_usd(
        e.with_cache_usd,
        1_000.0 * 6.0 / MTOK + 99_000.0 * 0.30 / MTOK,
        "1h",
    );
    assert_usd(e.with_cache_usd, 0.0357, "1h, in dollars");
    assert_usd(e.with_cache.cache_write_1h, 0.006, "1h write");
    assert_eq!(e.with_cache.cache_write_5m, 0.0);
    // 10 requests over 20 h: 7,200 s apart, longer than 1 hour: every request writes at $6.
    let e = estimate::estimate(&t, &sonnet_workload(10.0, 20.0, Ttl::OneHour)).unwrap();
    assert!(!e.stays_cached);
    assert_usd(e.with_cache_usd, 0.06, "1h, all writes");
    assert_usd(e.without_cache_usd, 0.03, "without");
}

#[test]
fn estimate_scales_days_and_batch_and_other_tokens() {
    let t = PriceTable::bundled();
    let mut w = sonnet_workload(100.0, 1.0, Ttl::FiveMinutes);
    w.days = 30;
    w.input = 200.0;
    w.output = 300.0;
    w.batch_share = 0.5;
    let e = estimate::estimate(&t, &w).unwrap();
    // Per day: uncached 100 x 1,200 at $3 = 0.36, output 30,000 at $15 = 0.45; half of it at 50%.
    let day_without = (0.36 + 0.45) * 0.75;
    let day_with = (20_000.0 * 3.0 / MTOK + 0.03345 + 0.45) * 0.75;
    assert_usd(e.without_cache_usd, 30.0 * day_without, "30 days without");
    assert_usd(e.with_cache_usd, 30.0 * day_with, "30 days with");
    assert_eq!(e.per_day.len(), 30);
    assert_eq!(e.requests, 3000.0);
}

#[test]
fn estimate_rejects_bad_input() {
    let t = PriceTable::bundled();
    let mut w = sonnet_workload(100.0, 1.0, Ttl::FiveMinutes);
    w.model = "gpt-4o".into();
    assert_eq!(
        estimate::estimate(&t, &w),
        Err(EstimateError::UnknownModel("gpt-4o".into()))
    );
    let mut w = sonnet_workload(100.0, 25.0, Ttl::FiveMinutes);
    assert!(matches!(
        estimate::estimate(&t, &w),
        Err(EstimateError::Invalid("active hours", _))
    ));
    w.active_hours = 1.0;
    w.batch_share = 1.5;
    assert!(matches!(
        estimate::estimate(&t, &w),
        Err(EstimateError::Invalid("batch share", _))
    ));
    w.batch_share = 0.0;
    w.requests_per_day = -1.0;
    assert!(matches!(
        estimate::estimate(&t, &w),
        Err(EstimateError::Invalid("requests per day", _))
    ));
}
