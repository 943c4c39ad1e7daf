//! What-if grounded in the user's own traffic (what-if.md, "Grounding levers" and "Planning"),
//! with figures computed here by hand: the minimum cacheable prefix (calculator and scenario),
//! the TTL replay, the fast-mode and residency levers, the month-end forecast and the budget,
//! and the opportunities.

use chrono::{TimeZone, Utc};
use costlens::domain::dataset::{Dataset, Source};
use costlens::domain::format::Format;
use costlens::domain::prices::PriceTable;
use costlens::domain::records::{Bucket, Context, Geo, Speed, Tier, Tokens, UsageRecord};
use costlens::domain::time::Period;
use costlens::engine::cube;
use costlens::engine::estimate::{self, Workload};
use costlens::engine::forecast::{self, Budget, SourceDays};
use costlens::engine::scenario::{Levers, Stage, Ttl};
use costlens::engine::view::{Dimension, Filter, ViewSpec};
use costlens::pipeline::Pipeline;
use costlens::pipeline::load::Analysis;

const M: f64 = 1e6;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp()
}

fn day(y: i32, mo: u32, d: u32) -> i64 {
    at(y, mo, d, 0, 0, 0)
}

fn assert_usd(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// A record builder with names instead of symbols.
#[derive(Clone)]
struct Rec {
    model: &'static str,
    key: &'static str,
    workspace: &'static str,
    project: &'static str,
    session: &'static str,
    record: UsageRecord,
}

fn req(model: &'static str, time: i64, tokens: [u64; 5]) -> Rec {
    Rec {
        model,
        key: "",
        workspace: "",
        project: "",
        session: "",
        record: UsageRecord {
            time,
            tokens: Tokens::from_array(tokens),
            ..UsageRecord::REQUEST
        },
    }
}

fn day_row(model: &'static str, key: &'static str, time: i64, tokens: [u64; 5]) -> Rec {
    Rec {
        model,
        key,
        workspace: "Default",
        project: "",
        session: "",
        record: UsageRecord {
            time,
            bucket: Bucket::Day,
            context: Context::Flag(false),
            requests: 0,
            tokens: Tokens::from_array(tokens),
            ..UsageRecord::REQUEST
        },
    }
}

fn dataset(recs: &[Rec]) -> Dataset {
    let mut d = Dataset::default();
    for r in recs {
        let mut rec = r.record;
        rec.model = d.symbols.intern(r.model);
        rec.api_key = d.symbols.intern(r.key);
        rec.workspace = d.symbols.intern(r.workspace);
        rec.project = d.symbols.intern(r.project);
        rec.session = d.symbols.intern(r.session);
        d.records.push(rec);
    }
    d
}

fn analysis(recs: &[Rec]) -> Analysis {
    Analysis::new(
        dataset(recs),
        PriceTable::bundled(),
        &cube::prompt_length_grid(),
    )
}

fn spec(period: Period, dimension: Dimension) -> ViewSpec {
    ViewSpec {
        period,
        dimension,
        filter: Filter::default(),
    }
}

fn evaluate(recs: &[Rec], levers: Levers) -> costlens::engine::view::Evaluation {
    let a = analysis(recs);
    let view = a.view(&spec(Period::Day, Dimension::Model));
    view.evaluate(&a.table, &levers.resolve(&a.table).unwrap())
}

fn stage(ev: &costlens::engine::view::Evaluation, s: Stage) -> f64 {
    ev.waterfall.iter().find(|w| w.0 == s).unwrap().1
}

// --- the minimum cacheable prefix ---------------------------------------------------------

fn seeds(prefix: f64) -> Workload {
    Workload {
        model: "claude-sonnet-4-5".into(),
        requests_per_day: 100.0,
        active_hours: 1.0,
        days: 1,
        cached_prefix: prefix,
        input: 0.0,
        output: 0.0,
        ttl: Ttl::FiveMinutes,
        batch_share: 0.0,
    }
}

#[test]
fn a_prefix_under_the_minimum_keeps_the_caching_arithmetic_and_bills_it_uncached() {
    let t = PriceTable::bundled();
    // The seeds' 1,000-token prompt sent 100 times in an hour on Sonnet 4.5 (min 1,024).
    let e = estimate::estimate(&t, &seeds(1000.0)).unwrap();
    assert_usd(e.without_cache_usd, 0.30, "uncached: 100 x 1,000 x $3/M");
    // The arithmetic stays: 1 write at $3.75/M + 99 reads at $0.30/M.
    assert_usd(
        e.with_cache_usd,
        (1000.0 * 3.75 + 99.0 * 1000.0 * 0.30) / M,
        "cached",
    );
    assert_usd(e.with_cache_usd, 0.03345, "the seeds' figure");
    // What the API bills: nothing cached under 1,024 tokens.
    assert_usd(e.billed_with_cache_usd, 0.30, "billed");
    assert_eq!(e.min_cacheable_tokens, Some(1024));
    assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
    assert!(
        e.warnings[0].contains("1,000-token prefix")
            && e.warnings[0].contains("1,024")
            && e.warnings[0].contains("$0.30")
            && e.warnings[0].contains("$0.03345"),
        "{}",
        e.warnings[0]
    );
}

#[test]
fn a_prefix_at_or_over_the_minimum_is_billed_cached() {
    let t = PriceTable::bundled();
    let e = estimate::estimate(&t, &seeds(1024.0)).unwrap();
    let cached = (1024.0 * 3.75 + 99.0 * 1024.0 * 0.30) / M;
    assert_usd(e.with_cache_usd, cached, "cached");
    assert_usd(e.billed_with_cache_usd, cached, "billed as cached");
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    // Haiku 4.5's minimum is 4,096: 2,000 tokens are not cached there.
    let e = estimate::estimate(
        &t,
        &Workload {
            model: "claude-haiku-4-5".into(),
            ..seeds(2000.0)
        },
    )
    .unwrap();
    assert_eq!(e.min_cacheable_tokens, Some(4096));
    assert_usd(
        e.billed_with_cache_usd,
        100.0 * 2000.0 * 1.0 / M,
        "Haiku 4.5",
    );
    // Opus 5.5's minimum is not published: assumed, and said.
    let e = estimate::estimate(
        &t,
        &Workload {
            model: "claude-opus-5-5".into(),
            ..seeds(5000.0)
        },
    )
    .unwrap();
    assert!(
        e.warnings.iter().any(|w| w.contains("not published")),
        "{:?}",
        e.warnings
    );
    // A model without prompt caching bills uncached.
    let e = estimate::estimate(
        &t,
        &Workload {
            model: "claude-2.1".into(),
            ..seeds(5000.0)
        },
    )
    .unwrap();
    assert_usd(e.billed_with_cache_usd, e.without_cache_usd, "no caching");
}

#[test]
fn the_caching_levers_skip_requests_under_the_minimum_and_say_how_much_input() {
    // Sonnet 4.5 (minimum 1,024): a request of 800 input tokens and one of 5,000.
    let t0 = at(2026, 3, 2, 10, 0, 0);
    let recs = [
        req("claude-sonnet-4-5", t0, [800, 0, 0, 0, 0]),
        req("claude-sonnet-4-5", t0 + 10, [5_000, 0, 0, 0, 0]),
    ];
    let levers = Levers {
        cache_share: Some(1.0),
        cache_hit: Some(0.9),
        cache_ttl: Some(Ttl::FiveMinutes),
        ..Levers::default()
    };
    let ev = evaluate(&recs, levers.clone());
    assert_usd(ev.actual, 5_800.0 * 3.0 / M, "actual");
    // Under the minimum: 800 uncached at $3. Over: 4,500 reads at $0.30 + 500 writes at $3.75.
    let want = (800.0 * 3.0 + 4_500.0 * 0.30 + 500.0 * 3.75) / M;
    assert_usd(ev.scenario, want, "scenario");
    assert_usd(ev.cache_excluded_input, 800.0, "excluded input");
    assert_eq!(ev.cache_unsized_input, 0.0);
    // At prompt length x2 the first request (1,600 tokens) reaches the minimum.
    let ev = evaluate(
        &recs,
        Levers {
            prompt_length: 2.0,
            ..levers.clone()
        },
    );
    assert_eq!(ev.cache_excluded_input, 0.0);
    assert_usd(
        ev.scenario,
        (11_600.0 * 0.9 * 0.30 + 11_600.0 * 0.1 * 3.75) / M,
        "both cached at x2",
    );
    // An aggregated row carries no request sizes: acted on, and counted as unsized.
    let recs = [day_row(
        "claude-sonnet-4-5",
        "prod",
        day(2026, 3, 2),
        [800, 0, 0, 0, 0],
    )];
    let ev = evaluate(&recs, levers);
    assert_usd(
        ev.scenario,
        (720.0 * 0.30 + 80.0 * 3.75) / M,
        "aggregated: cached",
    );
    assert_usd(ev.cache_unsized_input, 800.0, "unsized input");
    let m = costlens::engine::report::CacheMinimum::of(&ev);
    assert!(m.notes[0].contains("no request sizes"), "{:?}", m.notes);
}

#[test]
fn routing_a_request_under_the_targets_minimum_prices_its_cache_as_input() {
    // Sonnet 4.5 caches from 1,024 tokens, Haiku 4.5 from 4,096: a 3,000-token request read
    // from cache on Sonnet is uncached input on Haiku, and routing it costs more.
    let recs = [req(
        "claude-sonnet-4-5",
        at(2026, 3, 2, 10, 0, 0),
        [100, 0, 0, 2_900, 10],
    )];
    let ev = evaluate(
        &recs,
        Levers {
            route_share: 1.0,
            ..Levers::default()
        },
    );
    assert_usd(
        ev.actual,
        (100.0 * 3.0 + 2_900.0 * 0.30 + 10.0 * 15.0) / M,
        "actual",
    );
    assert_usd(
        ev.scenario,
        (3_000.0 * 1.0 + 10.0 * 5.0) / M,
        "uncached on Haiku",
    );
    assert!(ev.savings() < 0.0, "routing can cost more: shown");
    assert_usd(ev.cache_excluded_input, 3_000.0, "excluded");
}

// --- the TTL replay -----------------------------------------------------------------------

/// A Claude Code session on Sonnet 4.5 as a 5-minute cache bills it (cached prefix C: reads
/// of the previous prefix within 5 minutes, writes of the rest), with a gap of 340 s (over
/// 5 minutes) and one of exactly an hour; a second session interleaved with it; and a Haiku
/// side call in the first session (a stream of its own: caches are per model).
fn session_recs() -> Vec<Rec> {
    let t0 = at(2026, 3, 2, 9, 0, 0);
    let s = |time: i64, w5: u64, read: u64| Rec {
        session: "s1",
        project: "app",
        ..req("claude-sonnet-4-5", time, [10, w5, 0, read, 500])
    };
    let s2 = |time: i64, w5: u64, read: u64| Rec {
        session: "s2",
        project: "app",
        ..req("claude-sonnet-4-5", time, [10, w5, 0, read, 500])
    };
    vec![
        // Cached prefix 10,000, 12,000, 13,000, 15,000, 16,000.
        s(t0, 10_000, 0),
        s(t0 + 60, 2_000, 10_000),
        s(t0 + 400, 13_000, 0),
        s(t0 + 4_000, 15_000, 0),
        s(t0 + 4_100, 1_000, 15_000),
        // Another session, between them: its own prefix of 8,000.
        s2(t0 + 30, 8_000, 0),
        s2(t0 + 200, 0, 8_000),
        // Haiku in the first session 10 s after its second request: not its prefix.
        Rec {
            session: "s1",
            project: "app",
            ..req("claude-haiku-4-5", t0 + 70, [10, 5_000, 0, 0, 100])
        },
    ]
}

#[test]
fn a_stream_with_gaps_over_five_minutes_replays_at_5m_and_1h() {
    let a = analysis(&session_recs());
    let view = a.view(&spec(Period::Day, Dimension::Model));
    let sum = view.replay_summary(&a.table);
    assert_eq!(sum.ttls.len(), 2);
    let (r5, r1) = (&sum.ttls[0], &sum.ttls[1]);
    assert_eq!((r5.ttl, r1.ttl), (Ttl::FiveMinutes, Ttl::OneHour));
    // Session 1 at 5m: write 10,000; read 10,000 + write 2,000 (60 s); write 13,000 (340 s);
    // write 15,000 (3,600 s); read 15,000 + write 1,000 (100 s). Session 2: write 8,000; read
    // 8,000 (170 s). Haiku: write 5,000.
    assert_eq!(r5.cache_read_tokens, 10_000.0 + 15_000.0 + 8_000.0);
    assert_eq!(
        r5.cache_write_tokens,
        10_000.0 + 2_000.0 + 13_000.0 + 15_000.0 + 1_000.0 + 8_000.0 + 5_000.0
    );
    // At 1h the 340 s gap reads (12,000 of the 13,000); the gap of exactly an hour does not.
    assert_eq!(
        r1.cache_read_tokens,
        10_000.0 + 12_000.0 + 15_000.0 + 8_000.0
    );
    assert_eq!(
        r1.cache_write_tokens,
        10_000.0 + 2_000.0 + 1_000.0 + 15_000.0 + 1_000.0 + 8_000.0 + 5_000.0
    );
    assert_usd(r5.hit_rate, 33_000.0 / 87_000.0, "5m hit rate");
    assert_usd(r1.hit_rate, 45_000.0 / 87_000.0, "1h hit rate");
    // Priced: Sonnet 4.5 $3 input, $3.75 5m write, $6 1h write, $0.30 read, $15 output;
    // Haiku 4.5 $1, $1.25, $2, $0.10, $5.
    let other = (70.0 * 3.0 + 3_500.0 * 15.0 + 10.0 * 1.0 + 100.0 * 5.0) / M;
    let haiku_5m = 5_000.0 * 1.25 / M;
    let sonnet_5m = (49_000.0 * 3.75 + 33_000.0 * 0.30) / M;
    assert_usd(r5.cost_usd, other + haiku_5m + sonnet_5m, "5m replay cost");
    let sonnet_1h = (37_000.0 * 6.0 + 45_000.0 * 0.30) / M;
    assert_usd(
        r1.cost_usd,
        other + 5_000.0 * 2.0 / M + sonnet_1h,
        "1h cost",
    );
    // The data is what a 5-minute cache bills: the 5m replay reproduces it exactly.
    assert_usd(r5.actual_usd, r5.cost_usd, "actual = 5m replay");
    let check = sum.check.as_ref().unwrap();
    assert_eq!(check.requests, 8);
    assert_usd(check.difference_pct, 0.0, "self-check");
    // The TTL lever on these requests IS the replay.
    let ev = view.evaluate(
        &a.table,
        &Levers {
            cache_ttl: Some(Ttl::OneHour),
            ..Levers::default()
        }
        .resolve(&a.table)
        .unwrap(),
    );
    assert_usd(ev.scenario, r1.cost_usd, "TTL 1h lever");
    assert_usd(
        stage(&ev, Stage::Caching),
        r5.actual_usd - r1.cost_usd,
        "the caching step",
    );
    assert_eq!(view.observed.replay_hit_1h, Some(45_000.0 / 87_000.0));
}

#[test]
fn aggregated_rows_and_batch_results_are_not_replayed() {
    let mut b = req(
        "claude-sonnet-4-5",
        at(2026, 3, 2, 9, 0, 0),
        [10, 2_000, 0, 0, 5],
    );
    b.record.tier = Tier::Batch;
    let recs = [
        day_row(
            "claude-sonnet-4-5",
            "prod",
            day(2026, 3, 2),
            [10, 100, 0, 900, 5],
        ),
        b,
    ];
    let a = analysis(&recs);
    let view = a.view(&spec(Period::Day, Dimension::Model));
    let sum = view.replay_summary(&a.table);
    assert!(sum.ttls.is_empty());
    assert_eq!(sum.not_replayed_input_tokens, 1_010 + 2_010);
    assert_eq!(view.observed.replay_hit_5m, None);
    // The TTL lever reprices their writes only: 1h writes at $6 instead of $3.75.
    let ev = view.evaluate(
        &a.table,
        &Levers {
            cache_ttl: Some(Ttl::OneHour),
            ..Levers::default()
        }
        .resolve(&a.table)
        .unwrap(),
    );
    assert_usd(
        ev.actual - ev.scenario,
        -(100.0 * (6.0 - 3.75) + 2_000.0 * (6.0 - 3.75) * 0.5) / M,
        "writes repriced",
    );
}

// --- fast mode and data residency ---------------------------------------------------------

#[test]
fn fast_mode_and_residency_levers_price_the_moved_share_at_standard_and_global() {
    // Opus 4.6 on 2026-04-01 (fast mode 6x, US-only 1.1x, no long-context premium any
    // more): 1M input, 100K output = $7.50 at standard speed, global.
    let t = at(2026, 4, 1, 12, 0, 0);
    let mut fast = req("claude-opus-4-6", t, [1_000_000, 0, 0, 0, 100_000]);
    fast.record.speed = Speed::Fast;
    let ev = evaluate(
        std::slice::from_ref(&fast),
        Levers {
            fast_to_standard: 0.5,
            ..Levers::default()
        },
    );
    assert_usd(ev.actual, 45.0, "fast: 6 x $7.50");
    assert_usd(ev.scenario, 0.5 * 45.0 + 0.5 * 7.5, "half at standard");
    assert_usd(stage(&ev, Stage::FastMode), 18.75, "fast_mode step");

    let mut us = fast.clone();
    us.record.speed = Speed::Standard;
    us.record.geo = Geo::Us;
    let ev = evaluate(
        std::slice::from_ref(&us),
        Levers {
            us_to_global: 1.0,
            ..Levers::default()
        },
    );
    assert_usd(ev.actual, 8.25, "US-only: 1.1 x $7.50");
    assert_usd(ev.scenario, 7.5, "global");
    assert_usd(stage(&ev, Stage::Residency), 0.75, "residency step");

    // Both on one row, both levers: fast first (6 x 1.1 -> 1.1), then residency.
    let mut both = fast.clone();
    both.record.geo = Geo::Us;
    let ev = evaluate(
        &[both.clone()],
        Levers {
            fast_to_standard: 1.0,
            us_to_global: 1.0,
            ..Levers::default()
        },
    );
    assert_usd(ev.actual, 49.5, "fast and US-only");
    assert_usd(stage(&ev, Stage::FastMode), 49.5 - 8.25, "fast_mode step");
    assert_usd(stage(&ev, Stage::Residency), 0.75, "residency step");
    assert_usd(ev.scenario, 7.5, "standard, global");

    // The Batch API has no fast mode: fast usage moved to batch runs at standard speed.
    let ev = evaluate(
        &[fast],
        Levers {
            batch_share: 1.0,
            ..Levers::default()
        },
    );
    assert_usd(ev.scenario, 7.5 * 0.5, "batch, standard speed");
}

// --- forecast and budget ------------------------------------------------------------------

fn days(first: i64, costs: &[f64]) -> Vec<(i64, f64)> {
    costs
        .iter()
        .enumerate()
        .map(|(i, &c)| (first + i as i64 * 86_400, c))
        .filter(|(_, c)| *c != 0.0)
        .collect()
}

#[test]
fn a_sparse_week_is_a_run_rate_over_calendar_days_with_zeros() {
    // Data on Oct 1 ($2) and Oct 19 ($5.45) only: the run rate is the last 7 calendar days
    // (Oct 13 - 19) over 7, not $5.45 a day.
    let s = SourceDays {
        label: "Claude Code".into(),
        days: vec![(day(2026, 10, 1), 2.0), (day(2026, 10, 19), 5.45)],
    };
    let f = forecast::forecast(&[s], None, None).unwrap();
    assert_eq!(f.month, "2026-10");
    assert!(!f.complete);
    assert_usd(f.to_date, 7.45, "spent");
    assert_usd(f.daily_rate, 5.45 / 7.0, "run rate");
    // Oct 20 - 31: 12 days.
    assert_usd(f.month_end, 7.45 + 12.0 * 5.45 / 7.0, "forecast");
    assert_eq!(f.sources[0].rate_days, 7);
    assert_eq!(f.sources[0].projected_days, 12);
    assert!(f.method.contains("Data ends on 2026-10-19"), "{}", f.method);
    // A source that covers three days only: its rate is over those three.
    let s = SourceDays {
        label: "logs".into(),
        days: vec![(day(2026, 10, 17), 3.0), (day(2026, 10, 19), 6.0)],
    };
    let f = forecast::forecast(&[s], None, None).unwrap();
    assert_usd(f.daily_rate, 9.0 / 3.0, "three days covered");
    assert_eq!(f.sources[0].rate_days, 3);
}

#[test]
fn a_month_that_ended_before_today_is_estimated_not_forecast() {
    // Data on Oct 13 - 19 at $1 a day; October ended before today (Dec 1).
    let s = SourceDays {
        label: "Console".into(),
        days: days(day(2026, 10, 13), &[1.0; 7]),
    };
    let today = day(2026, 12, 1) + 9 * 3600;
    let f = forecast::forecast(std::slice::from_ref(&s), None, Some(today)).unwrap();
    assert!(f.past && !f.complete);
    // The same figure as a forecast: $7 in the data plus $1 a day for Oct 20 - 31.
    assert_usd(f.month_end, 7.0 + 12.0, "estimated month");
    assert!(
        f.method.contains("2026-10 ended before today (2026-12-01)"),
        "{}",
        f.method
    );
    assert!(f.method.contains("Estimated"), "{}", f.method);
    // On Oct 25 the month is still running: a forecast.
    let f = forecast::forecast(std::slice::from_ref(&s), None, Some(day(2026, 10, 25))).unwrap();
    assert!(!f.past);
    assert!(f.method.contains("Spent so far"), "{}", f.method);
    // On Nov 1, 00:00 the month has ended.
    let f = forecast::forecast(std::slice::from_ref(&s), None, Some(day(2026, 11, 1))).unwrap();
    assert!(f.past);
    // A complete month is never "estimated".
    let full = SourceDays {
        label: "Console".into(),
        days: days(day(2026, 10, 1), &[1.0; 31]),
    };
    let f = forecast::forecast(&[full], None, Some(today)).unwrap();
    assert!(f.complete && !f.past);
    assert_usd(f.month_end, 31.0, "complete month");
}

/// A Console export of Oct 1 - 10 at $10 a day, Claude Code logs of Oct 5 - 20 at $2.
fn two_sources() -> Vec<SourceDays> {
    vec![
        SourceDays {
            label: "Console".into(),
            days: days(day(2026, 10, 1), &[10.0; 10]),
        },
        SourceDays {
            label: "Claude Code".into(),
            days: days(day(2026, 10, 5), &[2.0; 16]),
        },
    ]
}

#[test]
fn each_source_is_projected_from_its_own_last_day() {
    let f = forecast::forecast(&two_sources(), None, None).unwrap();
    // Console: $100 spent, $10/day over Oct 4 - 10, projected Oct 11 - 31 (21 days).
    // Claude Code: $32 spent, $2/day over Oct 14 - 20, projected Oct 21 - 31 (11 days).
    assert_usd(f.to_date, 132.0, "spent");
    assert_usd(f.month_end, 100.0 + 210.0 + 32.0 + 22.0, "forecast");
    assert_usd(f.daily_rate, 12.0, "rates");
    assert_eq!(f.sources[0].projected_days, 21);
    assert_eq!(f.sources[1].projected_days, 11);
    assert_usd(
        f.path.last().unwrap().1,
        f.month_end,
        "path ends at the forecast",
    );
}

#[test]
fn a_source_that_ended_before_the_month_is_not_projected() {
    let s = vec![
        SourceDays {
            label: "Console".into(),
            days: days(day(2026, 9, 1), &[10.0; 30]),
        },
        SourceDays {
            label: "Claude Code".into(),
            days: days(day(2026, 10, 1), &[1.0; 5]),
        },
    ];
    let f = forecast::forecast(&s, None, None).unwrap();
    assert_eq!(f.month, "2026-10");
    // Claude Code covers 5 days: $1/day, Oct 6 - 31 (26 days).
    assert_usd(f.month_end, 5.0 + 26.0, "only Claude Code projected");
    assert_eq!(f.sources[0].projected_days, 0);
    assert!(f.method.contains("Not projected"), "{}", f.method);
}

#[test]
fn a_month_that_is_over_is_not_forecast() {
    // The selection ends on Oct 20, the data on Nov 3: October is over.
    let f = forecast::forecast(&two_sources(), Some(at(2026, 11, 3, 15, 0, 0)), None).unwrap();
    assert!(f.complete);
    assert_usd(f.month_end, f.to_date, "no projection");
    assert_eq!(f.daily_rate, 0.0);
    assert!(
        f.method.contains("Data ends on 2026-10-20") && f.method.contains("2026-11-03"),
        "{}",
        f.method
    );
    // Data up to the month's last day: complete too.
    let s = SourceDays {
        label: "x".into(),
        days: days(day(2026, 10, 1), &[1.0; 31]),
    };
    let f = forecast::forecast(&[s], None, None).unwrap();
    assert!(f.complete);
    assert_usd(f.month_end, 31.0, "complete month");
}

#[test]
fn the_budget_is_crossed_mid_month_on_the_day_the_forecast_passes_it() {
    let f = forecast::forecast(&two_sources(), None, None).unwrap();
    // Cumulative: $10/day Oct 1 - 4 (40), $12/day to Oct 10 (112), then $10 projected
    // Console + $2 actual Claude Code to Oct 20 (232), then $12 projected: 244 on Oct 21, 256
    // on Oct 22.
    let b = Budget::of(&f, 250.0);
    assert_eq!(b.exceeds_on.as_deref(), Some("2026-10-22"));
    assert_eq!(b.month, "2026-10");
    assert_usd(b.spent_usd, 132.0, "spent");
    assert_usd(b.forecast_usd, 364.0, "forecast");
    assert!(b.exceeded());
    // Already spent past it: the day the actual cost crossed it.
    assert_eq!(
        Budget::of(&f, 50.0).exceeds_on.as_deref(),
        Some("2026-10-05")
    );
    // Within it.
    let b = Budget::of(&f, 400.0);
    assert_eq!(b.exceeds_on, None);
    assert!(!b.exceeded());
}

#[test]
fn the_pipeline_forecasts_per_kind_of_source_and_holds_the_budget() {
    // Console daily rows of $3 (1M Sonnet 4.5 input) Oct 1 - 10 and Claude Code requests of
    // $0.30 (100K input) Oct 5 - 20.
    let mut recs = Vec::new();
    for d in 1..=10 {
        recs.push(day_row(
            "claude-sonnet-4-5",
            "prod",
            day(2026, 10, d),
            [1_000_000, 0, 0, 0, 0],
        ));
    }
    let mut d = dataset(&recs);
    let console = d.source_index(Source::of(Format::ConsoleUsageCsv, Bucket::Day));
    for i in 0..d.records.len() {
        d.records.set_source(i, console);
    }
    let cc = d.source_index(Source::of(Format::ClaudeCodeJsonl, Bucket::Request));
    let model = d.symbols.intern("claude-sonnet-4-5");
    for day_no in 5..=20 {
        d.records.push(UsageRecord {
            time: day(2026, 10, day_no) + 3_600,
            model,
            source: cc,
            tokens: Tokens::from_array([100_000, 0, 0, 0, 0]),
            ..UsageRecord::REQUEST
        });
    }
    let mut p = Pipeline::new(d, PriceTable::bundled());
    p.set_budget(Some(60.0));
    p.refresh();
    let f = p.forecast().unwrap();
    assert_eq!(f.sources.len(), 2);
    // Console: $30 + $3 x 21; Claude Code: $4.80 + $0.30 x 11.
    assert_usd(f.month_end, 30.0 + 63.0 + 4.8 + 3.3, "forecast");
    let b = p.budget().unwrap();
    assert_usd(b.monthly_usd, 60.0, "budget");
    // 30 + 1.8 (Oct 5 - 10) = 31.8 on Oct 10; then $3.30 a day: 61.5 on Oct 19.
    assert_eq!(b.exceeds_on.as_deref(), Some("2026-10-19"));
    assert_eq!(p.report().budget, Some(b));
}

// --- opportunities ------------------------------------------------------------------------

#[test]
fn opportunities_are_ranked_by_dollars_and_never_above_the_slice_cost() {
    let t = day(2026, 3, 2);
    let recs = vec![
        // prod: $3 uncached + cache: 1M writes + 1M reads (hit 50%).
        day_row(
            "claude-sonnet-4-5",
            "prod",
            t,
            [1_000_000, 1_000_000, 0, 1_000_000, 0],
        ),
        // support: 100K writes, 900K reads (hit 90%), the best hit rate.
        day_row(
            "claude-sonnet-4-5",
            "support",
            t,
            [0, 100_000, 0, 900_000, 0],
        ),
        // nightly-etl: its name says it can wait; 2M uncached input of Sonnet 4.5: $6.
        day_row(
            "claude-sonnet-4-5",
            "nightly-etl",
            t,
            [2_000_000, 0, 0, 0, 0],
        ),
    ];
    let a = analysis(&recs);
    let ops = costlens::engine::opportunities::find(&a.cube, &a.data, &a.table, &Filter::default());
    assert!(!ops.is_empty());
    assert!(
        ops.windows(2).all(|w| w[0].savings_usd >= w[1].savings_usd),
        "ranked"
    );
    for o in &ops {
        assert!(
            o.savings_usd > 0.0 && o.savings_usd <= o.actual_usd + 1e-12,
            "{o:?}"
        );
    }
    let find = |d: Dimension, key: &str, lever: &str| {
        ops.iter()
            .find(|o| o.dimension == d && o.key == key && o.lever == lever)
            .unwrap_or_else(|| panic!("no {lever} for {key}: {ops:#?}"))
    };
    // Batch half of nightly-etl: $6 x 0.5 x 50% = $1.50.
    let b = find(Dimension::Key, "nightly-etl", "batch");
    assert_usd(b.savings_usd, 1.5, "batch");
    assert_eq!(b.filter.api_keys, vec!["nightly-etl".to_owned()]);
    assert_eq!(b.levers.batch_share, 0.5);
    // Nothing else can wait.
    assert!(
        !ops.iter()
            .any(|o| o.lever == "batch" && o.key != "nightly-etl" && o.dimension == Dimension::Key)
    );
    // prod's 2M cached tokens at support's 90%: reads 1.8M, writes 0.2M (5m) instead of
    // 1M + 1M: saves 0.8M x ($3.75 - $0.30).
    let c = find(Dimension::Key, "prod", "caching");
    assert_usd(c.savings_usd, 800_000.0 * (3.75 - 0.30) / M, "caching");
    assert_eq!(c.levers.cache_hit, Some(0.9));
    // Routing 30% of every key's Sonnet to Haiku 4.5 (a third of the price, same tokenizer):
    // nightly-etl saves 30% x 2/3 x $6.
    assert_usd(
        find(Dimension::Key, "nightly-etl", "routing").savings_usd,
        0.3 * 6.0 * 2.0 / 3.0,
        "routing",
    );
    // The model dimension too.
    find(Dimension::Model, "Claude Sonnet 4.5", "routing");
    // The batch opportunity of the model: the waiting keys' traffic only.
    let m = find(Dimension::Model, "Claude Sonnet 4.5", "batch");
    assert_usd(m.savings_usd, 1.5, "batch of the model");
    // Applying an opportunity as the scenario gives its saving.
    let mut p = Pipeline::new(dataset(&recs), PriceTable::bundled());
    p.set_spec(ViewSpec {
        filter: b.filter.clone(),
        ..p.spec().clone()
    });
    p.set_levers(b.levers.clone());
    p.refresh();
    assert_usd(p.evaluation().savings(), b.savings_usd, "applied");
}

#[test]
fn the_one_hour_ttl_is_an_opportunity_where_the_replay_says_it_pays() {
    // Requests 10 minutes apart with a 50,000-token prefix: at 5m every one writes, at 1h
    // every one after the first reads.
    let t0 = at(2026, 3, 2, 9, 0, 0);
    let recs: Vec<Rec> = (0..6)
        .map(|i| Rec {
            session: "s",
            project: "app",
            ..req("claude-sonnet-4-5", t0 + i * 600, [10, 50_000, 0, 0, 100])
        })
        .collect();
    let a = analysis(&recs);
    let ops = costlens::engine::opportunities::find(&a.cube, &a.data, &a.table, &Filter::default());
    let o = ops
        .iter()
        .find(|o| o.lever == "cache_ttl_1h" && o.dimension == Dimension::Project)
        .unwrap_or_else(|| panic!("{ops:#?}"));
    // Actual: 6 x 50,000 5m writes at $3.75. 1h replay: 1 write at $6, 5 reads at $0.30.
    let want = (300_000.0 * 3.75 - 50_000.0 * 6.0 - 250_000.0 * 0.30) / M;
    assert_usd(o.savings_usd, want, "1h TTL");
    assert_eq!(o.key, "app");
    assert_eq!(o.filter.projects, vec!["app".to_owned()]);
}

#[test]
fn extra_caching_only_adds_caching_row_by_row() {
    // Two Sonnet 4.5 requests: A caches nothing, B caches 80% of its input at a 7/8 hit rate.
    let t0 = at(2026, 10, 1, 9, 0, 0);
    let recs = [
        req("claude-sonnet-4-5-20250929", t0, [10_000, 0, 0, 0, 0]),
        req(
            "claude-sonnet-4-5-20250929",
            t0 + 60,
            [2_000, 1_000, 0, 7_000, 0],
        ),
    ];
    // Actual: A 10,000 x $3; B 2,000 x $3 + 1,000 x $3.75 + 7,000 x $0.30 (per million).
    let actual = (30_000.0 + 6_000.0 + 3_750.0 + 2_100.0) / M;
    // Observed hit rate 7,000 / 8,000 = 0.875. Half of each request's uncached input becomes
    // a cached prefix at that rate: A moves 5,000 (4,375 read, 625 written), B moves 1,000
    // (875 read, 125 written); 5-minute writes (no 1-hour writes observed).
    let a = 5_000.0 * 3.0 + 4_375.0 * 0.30 + 625.0 * 3.75;
    let b = 1_000.0 * 3.0 + 1_125.0 * 3.75 + 7_875.0 * 0.30;
    let ev = evaluate(
        &recs,
        Levers {
            cache_more: 0.5,
            ..Levers::default()
        },
    );
    assert_usd(ev.actual, actual, "actual");
    assert_usd(ev.scenario, (a + b) / M, "extra caching");
    assert!(ev.scenario < ev.actual);
    // The absolute lever at the observed share (8,000 / 20,000 = 40%) instead lowers B's
    // caching (from 80% to 40%): B alone costs more.
    let only_b = &recs[1..];
    let ev_b = evaluate(
        only_b,
        Levers {
            cache_share: Some(0.4),
            ..Levers::default()
        },
    );
    assert!(
        ev_b.scenario > ev_b.actual,
        "{} <= {}",
        ev_b.scenario,
        ev_b.actual
    );
    let ev_b = evaluate(
        only_b,
        Levers {
            cache_more: 0.5,
            ..Levers::default()
        },
    );
    assert_usd(ev_b.scenario, b / M, "B with extra caching");
}

#[test]
fn routed_work_is_counted_on_the_row_it_came_from_and_said() {
    let t0 = at(2026, 10, 1, 9, 0, 0);
    let recs = [req(
        "claude-sonnet-4-5-20250929",
        t0,
        [10_000, 0, 0, 0, 1_000],
    )];
    let ev = evaluate(
        &recs,
        Levers {
            route_share: 0.3,
            ..Levers::default()
        },
    );
    // 30% priced on Claude Haiku 4.5 ($1 / $5), 70% stays on Sonnet 4.5 ($3 / $15).
    let routed = 0.3 * (10_000.0 * 1.0 + 1_000.0 * 5.0) / M;
    let stays = 0.7 * (10_000.0 * 3.0 + 1_000.0 * 15.0) / M;
    assert_usd(ev.scenario, stays + routed, "scenario");
    assert_eq!(ev.routed_by_dim.len(), 1, "one model row");
    assert_usd(ev.routed_by_dim[0], routed, "routed part of the Sonnet row");
}

// --- exact at any prompt length -----------------------------------------------------------

/// Two Sonnet 4.5 requests of the same hour, 155,000 and 158,000 prompt tokens: the slider
/// steps put them in one band (every step's 200K critical size is below 153,847 or above
/// 166,666), but at x1.28 the first is 198,400 tokens and the second 202,240, over the
/// long-context threshold. Each must be priced on its own side of it, whatever prompt lengths
/// the cube was banded on.
#[test]
fn a_prompt_length_the_cube_was_not_banded_on_is_priced_exactly() {
    let time = at(2026, 10, 1, 10, 0, 0);
    let recs = [
        req("claude-sonnet-4-5", time, [155_000, 0, 0, 0, 1_000]),
        req("claude-sonnet-4-5", time + 600, [158_000, 0, 0, 0, 1_000]),
    ];
    // x1: $3 in, $15 out. x1.28: 198,400 x $3 + 1,000 x $15 (under 200K), then every token
    // of the other at the long-context card: 202,240 x $6 + 1,000 x $22.50.
    let actual = (155_000.0 * 3.0 + 15_000.0) / M + (158_000.0 * 3.0 + 15_000.0) / M;
    let scenario = (198_400.0 * 3.0 + 15_000.0) / M + (202_240.0 * 6.0 + 22_500.0) / M;
    assert_usd(actual, 0.969, "actual by hand");
    assert_usd(scenario, 1.84614, "scenario by hand");
    let levers = Levers {
        prompt_length: 1.28,
        ..Levers::default()
    };
    // The app's grid, and no grid at all (x1 only): set_levers rebuilds the cube at x1.28.
    for grid in [cube::prompt_length_grid(), Vec::new()] {
        let mut p = Pipeline::with_grid(dataset(&recs), PriceTable::bundled(), &grid);
        p.refresh();
        assert_usd(p.evaluation().actual, actual, "actual");
        p.set_levers(levers.clone());
        p.refresh();
        assert_usd(p.evaluation().actual, actual, "actual at x1.28");
        assert_usd(p.evaluation().scenario, scenario, "scenario at x1.28");
        // A new import keeps the cube exact at the levers in force.
        p.set_data(dataset(&recs));
        p.refresh();
        assert_usd(
            p.evaluation().scenario,
            scenario,
            "scenario after a new import",
        );
    }
}

/// What a cube is exact at: x1 always, the prompt lengths it was banded on, and a routing
/// token factor only with its inverse; invalid values ask for nothing.
#[test]
fn a_banding_says_which_prompt_lengths_and_token_factors_it_is_exact_at() {
    let table = PriceTable::bundled();
    let plain = cube::Banding::new(&[], &table, &[]);
    assert!(plain.is_exact_at(1.0, None));
    assert!(!plain.is_exact_at(1.28, None));
    assert!(!plain.is_exact_at(1.0, Some(1.28)));
    assert!(plain.is_exact_at(f64::NAN, Some(0.0)));
    let only_one_way = cube::Banding::new(&[1.28], &table, &[1.28]);
    assert!(only_one_way.is_exact_at(1.28, None));
    assert!(!only_one_way.is_exact_at(1.28, Some(1.28)));
    let both = cube::Banding::new(&[1.28], &table, &[1.28, 1.0 / 1.28]);
    assert!(both.is_exact_at(1.28, Some(1.28)));
    assert!(both.is_exact_at(1.0, Some(1.0 / 1.28)));
}

/// Token factors tried one after the other (the app's slider) each make the cube exact at
/// that factor, and the banding does not grow with them.
#[test]
fn every_token_factor_tried_is_exact_and_the_banding_stays_bounded() {
    let time = at(2026, 10, 1, 10, 0, 0);
    let recs = [req("claude-sonnet-4-5", time, [155_000, 0, 0, 0, 1_000])];
    let mut p = Pipeline::new(dataset(&recs), PriceTable::bundled());
    for i in 0..40 {
        let f = 0.8 + i as f64 / 100.0;
        p.set_levers(Levers {
            route_share: 0.3,
            route_token_factor: Some(f),
            ..Levers::default()
        });
        p.refresh();
        let b = p.analysis().cube.banding();
        assert!(b.is_exact_at(1.0, Some(f)), "x{f}");
        assert!(b.factors().len() <= cube::table_factors(&p.analysis().table).len() + 2);
        assert_eq!(b.grid(), cube::prompt_length_grid().as_slice());
    }
}

/// A price table with many tokenizer ratios has more routing factors than a banding keeps of
/// the table's; a token factor given is kept all the same, so a cube rebuilt for it is exact
/// at it (and is not rebuilt again on the next lever move).
#[test]
fn a_token_factor_given_is_banded_on_whatever_the_table_has() {
    let mut table = PriceTable::bundled();
    for (m, r) in table
        .models
        .iter_mut()
        .zip([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6])
    {
        m.tokenizer_ratio = r;
    }
    assert!(cube::table_factors(&table).len() > 16);
    let b = cube::Banding::new(&[], &table, &[1.9, 1.0 / 1.9]);
    assert!(b.is_exact_at(1.0, Some(1.9)));
    let time = at(2026, 10, 1, 10, 0, 0);
    let recs = [req("claude-sonnet-4-5", time, [155_000, 0, 0, 0, 1_000])];
    let mut p = Pipeline::new(dataset(&recs), table);
    let routed = Levers {
        route_share: 0.5,
        route_token_factor: Some(1.9),
        ..Levers::default()
    };
    p.set_levers(routed.clone());
    p.refresh();
    assert!(p.view().is_exact_at(&routed));
    assert!(p.analysis().cube.banding().is_exact_at(1.0, Some(1.9)));
}
