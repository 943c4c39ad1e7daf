//! The what-if engine (`shared/docs/what-if.md`) through the cube, the view and the
//! evaluation, against prices computed here record by record.
//!
//! The properties: neutral levers reproduce the actual cost exactly; batch and routing to a
//! cheaper model never raise cost (routing: where every request reaches the target's minimum
//! cacheable prefix); the waterfall adds up to the total saving; and the cube is exact:
//! pricing the aggregate equals pricing every raw record, under any levers (the minimum
//! cacheable prefix, the TTL replay and the tokenizer factor applied request by request
//! here), and at every prompt-length grid value for the per-request long-context rule.

use chrono::{TimeZone, Utc};
use costlens::domain::cost::{self, Terms};
use costlens::domain::dataset::Dataset;
use costlens::domain::prices::{Family, PriceTable, Prompt};
use costlens::domain::records::{Bucket, Context, Geo, Speed, Tier, Tokens, UsageRecord};
use costlens::domain::time::Period;
use costlens::engine::cube;
use costlens::engine::scenario::{LeverError, Levers, Observed, Stage, Ttl};
use costlens::engine::view::{Dimension, ViewSpec};
use costlens::pipeline::load::Analysis;
use proptest::prelude::*;
use std::collections::HashMap;

const MODELS: &[&str] = &[
    "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-6",
    "claude-sonnet-4-20250514",
    "claude-opus-4-6",
    "claude-opus-4-1",
    "claude-haiku-4-5",
    "claude-3-5-haiku-20241022",
    "claude-3-haiku-20240307",
    "Claude Sonnet 3.7",
    "claude-opus-4-7",
    "mystery-model-9",
];

fn day(y: i32, m: u32, d: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp()
}

fn rel_close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-9)
}

/// One raw record, with names instead of symbols.
#[derive(Clone, Debug)]
struct Raw {
    model: &'static str,
    workspace: &'static str,
    key: &'static str,
    record: UsageRecord,
}

fn raw_strategy() -> impl Strategy<Value = Raw> {
    let tokens = prop_oneof![
        // Requests around the minimum cacheable prefixes (512 - 4,096 tokens).
        prop::array::uniform5(0u64..1_500),
        // Small requests and day rows.
        prop::array::uniform5(0u64..50_000),
        // Around the 200K threshold at prompt lengths 0.1 - 10.
        prop::array::uniform5(0u64..120_000),
        prop::array::uniform5(0u64..3_000_000),
    ];
    (
        0..MODELS.len(),
        prop_oneof![
            // From before the Haiku 3.5 price cut to after every release.
            day(2024, 10, 1)..day(2026, 6, 1),
            // Two busy hours: requests of a stream within a TTL of each other (the replay).
            day(2026, 3, 2)..day(2026, 3, 2) + 7200,
        ],
        0..3usize,
        prop_oneof![
            Just(Tier::Standard),
            Just(Tier::Batch),
            Just(Tier::Priority)
        ],
        prop_oneof![
            3 => Just(Context::Request),
            1 => Just(Context::Flag(false)),
            1 => Just(Context::Flag(true))
        ],
        prop_oneof![Just(Geo::NotAvailable), Just(Geo::Global), Just(Geo::Us)],
        prop_oneof![3 => Just(Speed::Standard), 1 => Just(Speed::Fast)],
        (0..3usize, 0..3usize),
        tokens,
        prop_oneof![3 => Just(0u64), 1 => 0u64..40],
    )
        .prop_map(
            |(m, time, bucket, tier, context, geo, speed, (ws, key), t, web)| Raw {
                model: MODELS[m],
                workspace: ["Default", "Support", "Research"][ws],
                key: ["prod", "batch", "alice"][key],
                record: UsageRecord {
                    time,
                    bucket: [Bucket::Request, Bucket::Hour, Bucket::Day][bucket],
                    model: 0,
                    tier,
                    context,
                    geo,
                    speed,
                    workspace: 0,
                    api_key: 0,
                    project: 0,
                    session: 0,
                    machine: 0,
                    tokens: Tokens::from_array(t),
                    web_search: web,
                    requests: 1,
                    source: 0,
                },
            },
        )
}

fn dataset(raws: &[Raw]) -> Dataset {
    let mut d = Dataset::default();
    for r in raws {
        let mut rec = r.record;
        rec.model = d.symbols.intern(r.model);
        rec.workspace = d.symbols.intern(r.workspace);
        rec.api_key = d.symbols.intern(r.key);
        d.records.push(rec);
    }
    d
}

fn analysis(raws: &[Raw]) -> Analysis {
    Analysis::new(
        dataset(raws),
        PriceTable::bundled(),
        &cube::prompt_length_grid(),
    )
}

/// The analysis a scenario with `levers` needs: exact at its prompt length and routing token
/// factor too (as the pipeline makes it).
fn analysis_for(raws: &[Raw], levers: &Levers) -> Analysis {
    Analysis::for_levers(
        dataset(raws),
        PriceTable::bundled(),
        &cube::prompt_length_grid(),
        levers,
    )
}

/// The TTL replay by hand (what-if.md): requests with times of their own (not batch),
/// streams of API key x model x workspace (these records have no session), in time order
/// (ties in input order); a request's cached tokens are read, up to what the stream's
/// previous request with cached tokens cached, when that request came less than the TTL
/// earlier. `None`: not replayed.
fn replay_by_hand(raws: &[Raw]) -> Vec<Option<[u64; 2]>> {
    let mut out = vec![None; raws.len()];
    let replayed = |r: &Raw| r.record.bucket == Bucket::Request && r.record.tier != Tier::Batch;
    let mut order: Vec<usize> = (0..raws.len()).filter(|&i| replayed(&raws[i])).collect();
    order.sort_by_key(|&i| (raws[i].record.time, i));
    let mut last: HashMap<(&str, &str, &str), (i64, u64)> = HashMap::new();
    for i in order {
        let r = &raws[i];
        let t = &r.record.tokens;
        let cached = t.cache_write_5m + t.cache_write_1h + t.cache_read;
        let mut reads = [0u64; 2];
        let key = (r.model, r.key, r.workspace);
        if cached > 0 {
            if let Some(&(t0, c0)) = last.get(&key) {
                for (k, ttl) in [300i64, 3600].into_iter().enumerate() {
                    if r.record.time - t0 < ttl {
                        reads[k] = cached.min(c0);
                    }
                }
            }
            last.insert(key, (r.record.time, cached));
        }
        out[i] = Some(reads);
    }
    out
}

fn spec(period: Period, dimension: Dimension) -> ViewSpec {
    ViewSpec {
        period,
        dimension,
        filter: Default::default(),
    }
}

fn spec_strategy() -> impl Strategy<Value = ViewSpec> {
    (
        prop::sample::select(Period::ALL.to_vec()),
        prop::sample::select(Dimension::ALL.to_vec()),
    )
        .prop_map(|(p, d)| spec(p, d))
}

/// Observed cache behaviour over every record, from what-if.md's definitions.
fn observed(raws: &[Raw]) -> Observed {
    let (mut input, mut writes, mut w1h, mut reads, mut all, mut batch) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for r in raws {
        let t = &r.record.tokens;
        input += t.total_input();
        writes += t.cache_write_5m + t.cache_write_1h;
        w1h += t.cache_write_1h;
        reads += t.cache_read;
        all += t.total();
        if r.record.tier == Tier::Batch {
            batch += t.total();
        }
    }
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    // The replay's hit rates over the replayed requests of priced models.
    let table = PriceTable::bundled();
    let (mut cached, mut replay_read) = (0u64, [0u64; 2]);
    for (r, rp) in raws.iter().zip(replay_by_hand(raws)) {
        if let Some(rp) = rp
            && table.lookup(r.model).is_some()
        {
            let t = &r.record.tokens;
            cached += t.cache_write_5m + t.cache_write_1h + t.cache_read;
            replay_read[0] += rp[0];
            replay_read[1] += rp[1];
        }
    }
    Observed {
        cache_share: ratio(writes + reads, input),
        cache_hit: ratio(reads, writes + reads),
        ttl_1h_share: ratio(w1h, writes),
        batch_share: ratio(batch, all),
        replay_hit_5m: (cached > 0).then(|| replay_read[0] as f64 / cached as f64),
        replay_hit_1h: (cached > 0).then(|| replay_read[1] as f64 / cached as f64),
    }
}

/// The caching rule of what-if.md on tokens `t`, by hand. `replay`: the replay's reads at
/// 5m and 1h in the same counts.
fn caching_by_hand(
    t: &Tokens<f64>,
    replay: Option<[f64; 2]>,
    l: &Levers,
    obs: &Observed,
) -> Tokens<f64> {
    let i = t.total_input();
    let cached = t.cache_write_5m + t.cache_write_1h + t.cache_read;
    let cacheable = l.cache_share.map_or(cached, |c| c * i);
    let k = |ttl: Ttl| usize::from(ttl == Ttl::OneHour);
    let (read, write) = match (l.cache_share, l.cache_hit, l.cache_ttl, replay) {
        (_, Some(h), _, _) => (h * cacheable, (1.0 - h) * cacheable),
        (None, None, Some(ttl), Some(r)) => {
            let read = r[k(ttl)].min(cached);
            (read, (cached - read).max(0.0))
        }
        (None, None, _, _) => (t.cache_read, t.cache_write_5m + t.cache_write_1h),
        (Some(_), None, Some(ttl), Some(_)) => {
            let h = obs.replay_hit(ttl).unwrap();
            (h * cacheable, (1.0 - h) * cacheable)
        }
        (Some(_), None, _, _) => (obs.cache_hit * cacheable, (1.0 - obs.cache_hit) * cacheable),
    };
    let share_1h = match l.cache_ttl {
        Some(Ttl::FiveMinutes) => 0.0,
        Some(Ttl::OneHour) => 1.0,
        None => obs.ttl_1h_share,
    };
    // Extra caching: that share of what is still uncached, at the hit rate.
    let more = l.cache_more * (i - cacheable);
    let h = l.cache_hit.unwrap_or(obs.cache_hit);
    let (read, write, cacheable) = (read + h * more, write + (1.0 - h) * more, cacheable + more);
    Tokens {
        uncached_input: i - cacheable,
        cache_write_5m: write * (1.0 - share_1h),
        cache_write_1h: write * share_1h,
        cache_read: read,
        output: t.output,
    }
}

/// The scenario cost of one raw record, applying what-if.md's levers by hand and pricing the
/// pieces with the one pricing function. `replay`: the record's replayed reads
/// ([`replay_by_hand`]). `None` for an unpriced model.
fn scenario_cost(
    table: &PriceTable,
    raw: &Raw,
    replay: Option<[u64; 2]>,
    l: &Levers,
    obs: &Observed,
    target: &str,
) -> Option<f64> {
    let model = table.lookup(raw.model)?;
    let r = &raw.record;
    let x = r.tokens.total_input() as f64;
    let g = l.prompt_length;
    let mut t = r.tokens.to_f64();
    // Volume: traffic scales every count, prompt length every input category.
    t = t.scale(l.traffic);
    let web = r.web_search as f64 * l.traffic;
    t.uncached_input *= g;
    t.cache_write_5m *= g;
    t.cache_write_1h *= g;
    t.cache_read *= g;
    t.output *= l.output_length;
    let replay = replay.map(|rp| rp.map(|v| v as f64 * l.traffic * g));
    // A request is long when ITS input (prompt length applied, and the tokenizer factor on
    // the model it is routed to; traffic is more requests, not longer ones) exceeds a tier.
    let prompt = |f: f64| match r.context {
        Context::Request => Prompt::Tokens(x * g * f),
        Context::Flag(b) => Prompt::Long(b),
    };
    // Whether a model can cache this request: its minimum prefix, for requests.
    let reaches = |m: usize, f: f64| -> Option<bool> {
        let e = table.model(m);
        if !e.caching {
            return Some(false);
        }
        match r.context {
            Context::Request => Some(
                e.min_cacheable_tokens
                    .is_none_or(|min| x * g * f >= min as f64),
            ),
            Context::Flag(_) => None,
        }
    };
    let caching = l.cache_share.is_some()
        || l.cache_hit.is_some()
        || l.cache_ttl.is_some()
        || l.cache_more > 0.0;
    let own = if caching && reaches(model, 1.0) != Some(false) {
        caching_by_hand(&t, replay, l, obs)
    } else {
        t
    };
    let target = table.lookup(target).unwrap();
    // The default sources: Sonnet and Opus models the target is cheaper than.
    let is_source = model != target
        && matches!(table.model(model).family, Family::Sonnet | Family::Opus)
        && costlens::engine::scenario::cheaper(
            table,
            target,
            model,
            costlens::domain::prices::day_start(table.as_of),
        );
    let route = if is_source { l.route_share } else { 0.0 };
    // Routed tokens scale by the tokenizer factor between the two models.
    let new = |m: usize| table.model(m).tokenizer_ratio > 1.0;
    let f = match l.route_token_factor {
        None => table.model(target).tokenizer_ratio / table.model(model).tokenizer_ratio,
        Some(f) => match (new(model), new(target)) {
            (false, true) => f,
            (true, false) => 1.0 / f,
            _ => 1.0,
        },
    };
    let scaled = t.scale(f);
    let routed = match reaches(target, f) {
        // The target cannot cache it: every input token is uncached input there.
        Some(false) => Tokens {
            uncached_input: scaled.total_input(),
            cache_write_5m: 0.0,
            cache_write_1h: 0.0,
            cache_read: 0.0,
            output: scaled.output,
        },
        _ if caching => caching_by_hand(&scaled, replay.map(|rp| rp.map(|v| v * f)), l, obs),
        _ => scaled,
    };
    let batch = if r.tier == Tier::Batch {
        0.0
    } else {
        l.batch_share
    };
    let mut total = 0.0;
    for (m, share, tokens, f) in [(model, 1.0 - route, &own, 1.0), (target, route, &routed, f)] {
        for (tier, part, moved) in [(r.tier, 1.0 - batch, false), (Tier::Batch, batch, true)] {
            // The Batch API has no fast mode.
            let speed = if moved { Speed::Standard } else { r.speed };
            let fast = if speed == Speed::Fast {
                l.fast_to_standard
            } else {
                0.0
            };
            for (speed, fpart) in [(speed, 1.0 - fast), (Speed::Standard, fast)] {
                let us = if r.geo == Geo::Us {
                    l.us_to_global
                } else {
                    0.0
                };
                for (geo, gpart) in [(r.geo, 1.0 - us), (Geo::Global, us)] {
                    let w = share * part * fpart * gpart;
                    if w == 0.0 {
                        continue;
                    }
                    let terms = Terms {
                        tier,
                        prompt: prompt(f),
                        geo,
                        speed,
                    };
                    total += w * cost::price(table, m, r.time, tokens, web, &terms).total();
                }
            }
        }
    }
    Some(total)
}

/// Every record's scenario cost, summed (routing to Haiku 4.5).
fn scenario_by_hand(table: &PriceTable, raws: &[Raw], l: &Levers, obs: &Observed) -> f64 {
    scenario_by_hand_to(table, raws, l, obs, "claude-haiku-4-5")
}

/// Every record's scenario cost, summed, routing to `target`.
fn scenario_by_hand_to(
    table: &PriceTable,
    raws: &[Raw],
    l: &Levers,
    obs: &Observed,
    target: &str,
) -> f64 {
    raws.iter()
        .zip(replay_by_hand(raws))
        .filter_map(|(r, rp)| scenario_cost(table, r, rp, l, obs, target))
        .sum()
}

fn levers_strategy() -> impl Strategy<Value = Levers> {
    (
        prop_oneof![Just(1.0), 0.1f64..10.0],
        prop_oneof![Just(1.0), 0.1f64..10.0],
        prop::option::of(0.0f64..=1.0),
        prop::option::of(0.0f64..=1.0),
        prop::option::of(prop_oneof![Just(Ttl::FiveMinutes), Just(Ttl::OneHour)]),
        prop_oneof![Just(0.0), 0.0f64..=1.0],
        prop_oneof![Just(0.0), 0.0f64..=1.0],
        prop_oneof![3 => Just(0.0), 1 => 0.0f64..=1.0],
        prop_oneof![3 => Just(0.0), 1 => 0.0f64..=1.0],
        prop_oneof![3 => Just(None), 1 => (0.5f64..=2.0).prop_map(Some)],
        prop_oneof![3 => Just(0.0), 1 => 0.0f64..=1.0],
    )
        .prop_map(
            |(
                traffic,
                output_length,
                cache_share,
                cache_hit,
                cache_ttl,
                route_share,
                batch_share,
                fast_to_standard,
                us_to_global,
                route_token_factor,
                cache_more,
            )| Levers {
                traffic,
                output_length,
                cache_share,
                cache_hit,
                cache_ttl,
                route_share,
                batch_share,
                fast_to_standard,
                us_to_global,
                route_token_factor,
                cache_more,
                ..Levers::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn neutral_levers_reproduce_the_actual_cost_exactly(
        raws in prop::collection::vec(raw_strategy(), 0..60),
        spec in spec_strategy(),
    ) {
        let a = analysis(&raws);
        let view = a.view(&spec);
        let neutral = Levers::default().resolve(&a.table).unwrap();
        let ev = view.evaluate(&a.table, &neutral);
        prop_assert_eq!(ev.scenario, ev.actual);
        prop_assert_eq!(&ev.scenario_cells, &ev.actual_cells);
        prop_assert_eq!(ev.scenario_by_category, ev.actual_by_category);
        prop_assert!(ev.waterfall.iter().all(|&(_, s)| s == 0.0), "{:?}", ev.waterfall);
        prop_assert_eq!(ev.savings(), 0.0);
        // Neutral with the new settings about: a routing target and token factor while
        // nothing is routed.
        let idle = Levers {
            route_to: "claude-haiku-5-5".into(),
            route_token_factor: Some(1.35),
            ..Levers::default()
        };
        let ev2 = view.evaluate(&a.table, &idle.resolve(&a.table).unwrap());
        prop_assert_eq!(ev2.scenario, ev.actual);
        prop_assert_eq!(&ev2.scenario_cells, &ev.actual_cells);
        // And the actual cost is every priced record priced on its own.
        let by_record: f64 = raws
            .iter()
            .filter_map(|r| a.table.lookup(r.model).map(|m| cost::price_record(&a.table, m, &r.record).total()))
            .sum();
        prop_assert!(rel_close(ev.actual, by_record), "cube {} vs records {}", ev.actual, by_record);
        let cells: f64 = ev.actual_cells.iter().sum();
        prop_assert!(rel_close(cells, ev.actual), "cells {} vs total {}", cells, ev.actual);
    }

    #[test]
    fn the_cube_prices_like_the_raw_records_under_any_levers(
        raws in prop::collection::vec(raw_strategy(), 1..60),
        spec in spec_strategy(),
        levers in levers_strategy(),
    ) {
        let a = analysis_for(&raws, &levers);
        let view = a.view(&spec);
        let obs = observed(&raws);
        prop_assert_eq!(view.observed, obs);
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        let by_record = scenario_by_hand(&a.table, &raws, &levers, &obs);
        prop_assert!(rel_close(ev.scenario, by_record), "cube {} vs records {} under {:?}", ev.scenario, by_record, levers);
        let neutral = scenario_by_hand(&a.table, &raws, &Levers::default(), &obs);
        prop_assert!(rel_close(ev.actual, neutral), "actual {} vs records {}", ev.actual, neutral);
    }

    #[test]
    fn the_waterfall_adds_up_to_the_total_saving(
        raws in prop::collection::vec(raw_strategy(), 1..60),
        spec in spec_strategy(),
        levers in levers_strategy(),
        grid_step in 0usize..67,
    ) {
        let mut levers = levers;
        levers.prompt_length = cube::prompt_length_grid()[grid_step];
        let a = analysis_for(&raws, &levers);
        let view = a.view(&spec);
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        let stages: Vec<Stage> = ev.waterfall.iter().map(|w| w.0).collect();
        prop_assert_eq!(stages, Stage::ALL.to_vec());
        let sum: f64 = ev.waterfall.iter().map(|w| w.1).sum();
        let saving = ev.actual - ev.scenario;
        prop_assert!(
            (sum - saving).abs() <= 1e-9 * ev.actual.abs().max(ev.scenario.abs()).max(1e-9),
            "waterfall {} vs saving {}", sum, saving
        );
    }

    #[test]
    fn batch_and_routing_to_a_cheaper_model_never_raise_cost(
        raws in prop::collection::vec(raw_strategy(), 1..60),
        route in 0.0f64..=1.0,
        batch in 0.0f64..=1.0,
        more in 0.0f64..=1.0,
    ) {
        // Haiku 4.5 caches no request under 4,096 tokens: a routed request that was cached
        // below that is billed uncached there, and can cost more (see
        // `routing_a_request_under_the_targets_minimum_prices_its_cache_as_input`). Here every
        // request either reaches the minimum (newer-tokenizer sources shrink by 1/1.30) or
        // used no cache.
        let mut raws = raws;
        for r in &mut raws {
            let t = &mut r.record.tokens;
            if r.record.context == Context::Request && t.total_input() < 5_400 {
                *t = Tokens::from_array([t.total_input(), 0, 0, 0, t.output]);
            }
        }
        let a = analysis(&raws);
        let view = a.view(&spec(Period::Day, Dimension::Model));
        let eval = |l: Levers| view.evaluate(&a.table, &l.resolve(&a.table).unwrap());
        let actual = eval(Levers::default()).actual;
        let slack = 1e-12 * actual.max(1.0);
        let b = eval(Levers { batch_share: batch, ..Levers::default() }).scenario;
        prop_assert!(b <= actual + slack, "batch {} raised {} to {}", batch, actual, b);
        let b2 = eval(Levers { batch_share: batch.max(more), ..Levers::default() }).scenario;
        prop_assert!(b2 <= b + slack, "more batch raised cost: {} -> {}", b, b2);
        // Routing Sonnet and Opus to Haiku 4.5, cheaper in every category and tier.
        let r = eval(Levers { route_share: route, ..Levers::default() }).scenario;
        prop_assert!(r <= actual + slack, "route {} raised {} to {}", route, actual, r);
        let r2 = eval(Levers { route_share: route.max(more), ..Levers::default() }).scenario;
        prop_assert!(r2 <= r + slack, "more routing raised cost: {} -> {}", r, r2);
        let both = eval(Levers { route_share: route, batch_share: batch, ..Levers::default() }).scenario;
        prop_assert!(both <= r.min(b) + slack);
    }

    #[test]
    fn prompt_length_at_a_grid_value_reapplies_the_per_request_rule_exactly(
        raws in prop::collection::vec(raw_strategy(), 1..60),
        grid_step in 0usize..67,
        spec in spec_strategy(),
    ) {
        let grid = cube::prompt_length_grid();
        prop_assert_eq!(grid.len(), 67);
        let g = grid[grid_step];
        let a = analysis(&raws);
        let view = a.view(&spec);
        let levers = Levers { prompt_length: g, ..Levers::default() };
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        // By hand: scale every input category by g; a request is long when its scaled input
        // exceeds 200K; a flagged row keeps its flag.
        let mut want = 0.0;
        let mut long_requests = 0;
        for r in &raws {
            let Some(m) = a.table.lookup(r.model) else { continue };
            let rec = &r.record;
            let mut t = rec.tokens.to_f64();
            t.uncached_input *= g;
            t.cache_write_5m *= g;
            t.cache_write_1h *= g;
            t.cache_read *= g;
            let long = rec.context == Context::Request && rec.tokens.total_input() as f64 * g > 200_000.0;
            long_requests += usize::from(long);
            let prompt = match rec.context {
                Context::Request => Prompt::Tokens(rec.tokens.total_input() as f64 * g),
                Context::Flag(b) => Prompt::Long(b),
            };
            let terms = Terms { tier: rec.tier, prompt, geo: rec.geo, speed: rec.speed };
            want += cost::price(&a.table, m, rec.time, &t, rec.web_search as f64, &terms).total();
        }
        prop_assert!(rel_close(ev.scenario, want), "x{}: cube {} vs records {} ({} long)", g, ev.scenario, want, long_requests);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The new levers go through the piece machinery (not the neutral shortcut); with nothing
    /// to act on (no fast mode, no US-only inference, nothing routed) the scenario is still
    /// the actual cost exactly, stage by stage.
    #[test]
    fn fast_and_residency_levers_with_nothing_to_act_on_reproduce_the_actual_cost_exactly(
        raws in prop::collection::vec(raw_strategy(), 0..60),
        spec in spec_strategy(),
        fast in 0.0f64..=1.0,
        us in 0.0f64..=1.0,
        factor in 0.5f64..=2.0,
    ) {
        let mut raws = raws;
        for r in &mut raws {
            r.record.speed = Speed::Standard;
            if r.record.geo == Geo::Us {
                r.record.geo = Geo::Global;
            }
        }
        let levers = Levers {
            fast_to_standard: fast,
            us_to_global: us,
            route_token_factor: Some(factor),
            ..Levers::default()
        };
        let a = analysis_for(&raws, &levers);
        let view = a.view(&spec);
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        prop_assert_eq!(ev.scenario, ev.actual);
        prop_assert_eq!(&ev.scenario_cells, &ev.actual_cells);
        prop_assert!(ev.waterfall.iter().all(|&(_, s)| s == 0.0), "{:?}", ev.waterfall);
    }
}

/// Requests of a few streams (one key, workspace and two models) minutes apart: the TTL
/// replay has reads to find.
fn streams_strategy() -> impl Strategy<Value = Vec<Raw>> {
    prop::collection::vec(
        (
            0..2usize,
            0i64..1500,
            prop::array::uniform5(0u64..40_000),
            prop_oneof![4 => Just(Tier::Standard), 1 => Just(Tier::Batch)],
            prop_oneof![4 => Just(Bucket::Request), 1 => Just(Bucket::Hour)],
        ),
        1..50,
    )
    .prop_map(|v| {
        let mut t = day(2026, 3, 2);
        v.into_iter()
            .map(|(m, gap, tokens, tier, bucket)| {
                t += gap;
                let mut r = one_row(tier, tokens);
                r.model = ["claude-sonnet-4-5", "claude-opus-4-7"][m];
                r.record.time = t;
                r.record.bucket = bucket;
                r.record.context = Context::Request;
                r.record.requests = 1;
                r
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_ttl_replay_prices_like_the_requests_replayed_by_hand(
        raws in streams_strategy(),
        ttl in prop_oneof![Just(Ttl::FiveMinutes), Just(Ttl::OneHour)],
        share in prop::option::of(0.0f64..=1.0),
        spec in spec_strategy(),
    ) {
        let a = analysis(&raws);
        let view = a.view(&spec);
        let obs = observed(&raws);
        prop_assert_eq!(view.observed, obs);
        let levers = Levers { cache_ttl: Some(ttl), cache_share: share, ..Levers::default() };
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        let want = scenario_by_hand(&a.table, &raws, &levers, &obs);
        prop_assert!(rel_close(ev.scenario, want), "cube {} vs records {}", ev.scenario, want);
        // The replay summary: every replayed request's cache rebuilt at each TTL.
        let sum = view.replay_summary(&a.table);
        let replays = replay_by_hand(&raws);
        for (k, t) in sum.ttls.iter().enumerate() {
            let reads: u64 = replays.iter().flatten().map(|r| r[k]).sum();
            prop_assert_eq!(t.cache_read_tokens, reads as f64);
        }
    }
}

/// Requests that share every dimension (one hour, model, key...) and differ only in size:
/// they land in one cube cell unless the long-context banding keeps them apart.
fn cluster_strategy() -> impl Strategy<Value = Vec<Raw>> {
    (
        prop::sample::select(vec![
            "claude-sonnet-4-5",
            "claude-sonnet-4-6",
            "claude-haiku-4-5",
        ]),
        prop::collection::vec(
            (
                prop::array::uniform4(0u64..120_000),
                0u64..5_000,
                prop::bool::ANY,
            ),
            1..40,
        ),
    )
        .prop_map(|(model, sizes)| {
            sizes
                .into_iter()
                .map(|(input, output, batch)| {
                    let mut r = one_row(
                        if batch { Tier::Batch } else { Tier::Standard },
                        [input[0], input[1], input[2], input[3], output],
                    );
                    r.model = model;
                    r.record.bucket = Bucket::Request;
                    r.record.context = Context::Request;
                    r.record.requests = 1;
                    r
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn requests_in_one_cell_are_long_or_not_each_on_its_own(raws in cluster_strategy()) {
        let a = analysis(&raws);
        let view = a.view(&spec(Period::Month, Dimension::Tier));
        for &g in cube::prompt_length_grid().iter().chain(&[1.0]) {
            let levers = Levers { prompt_length: g, ..Levers::default() };
            let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
            let want: f64 = raws
                .iter()
                .map(|r| {
                    let m = a.table.lookup(r.model).unwrap();
                    let rec = &r.record;
                    let mut t = rec.tokens.to_f64();
                    t.uncached_input *= g;
                    t.cache_write_5m *= g;
                    t.cache_write_1h *= g;
                    t.cache_read *= g;
                    let prompt = Prompt::Tokens(rec.tokens.total_input() as f64 * g);
                    let terms = Terms { tier: rec.tier, prompt, geo: rec.geo, speed: rec.speed };
                    cost::price(&a.table, m, rec.time, &t, 0.0, &terms).total()
                })
                .sum();
            prop_assert!(rel_close(ev.scenario, want), "x{}: cube {} vs records {}", g, ev.scenario, want);
        }
    }
}

/// Requests of one hour, key and model (so one cube cell unless banding keeps them apart),
/// sized around the minimum cacheable prefixes, some of a newer-tokenizer model.
fn small_cluster_strategy() -> impl Strategy<Value = Vec<Raw>> {
    (
        prop::sample::select(vec![
            "claude-opus-4-7",
            "claude-sonnet-4-5",
            "claude-opus-4-6",
        ]),
        // Mostly 2,500 - 7,300 input tokens: around 4,096 and 4,096 x 1.30.
        prop::collection::vec(
            (
                prop::array::uniform3(0u64..600),
                prop_oneof![4_800u64..5_300, 2_500u64..5_500, 0u64..3_000],
                0u64..2_000,
            ),
            1..40,
        ),
    )
        .prop_map(|(model, sizes)| {
            sizes
                .into_iter()
                .map(|(input, read, output)| {
                    let mut r =
                        one_row(Tier::Standard, [input[0], input[1], input[2], read, output]);
                    r.model = model;
                    r.record.time = day(2026, 5, 4) + 3600;
                    r.record.bucket = Bucket::Day;
                    r.record.context = Context::Request;
                    r.record.requests = 1;
                    r
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whether a request reaches a model's minimum cacheable prefix (its own, or the routing
    /// target's at the tokenizer factor) is decided request by request, even inside one cell.
    #[test]
    fn requests_in_one_cell_reach_the_minimum_prefix_each_on_its_own(
        raws in small_cluster_strategy(),
        route in prop_oneof![Just(0.0), 0.0f64..=1.0],
        target in prop::sample::select(vec!["claude-haiku-4-5", "claude-haiku-5-5", "claude-3-5-haiku-20241022"]),
        share in prop::option::of(0.0f64..=1.0),
        hit in prop::option::of(0.0f64..=1.0),
        g in prop_oneof![Just(1.0), prop::sample::select(cube::prompt_length_grid())],
    ) {
        let a = analysis(&raws);
        let view = a.view(&spec(Period::Month, Dimension::Tier));
        let levers = Levers {
            prompt_length: g,
            cache_share: share,
            cache_hit: hit,
            route_share: route,
            route_to: target.into(),
            ..Levers::default()
        };
        let obs = observed(&raws);
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        let want = scenario_by_hand_to(&a.table, &raws, &levers, &obs, target);
        prop_assert!(rel_close(ev.scenario, want), "cube {} vs records {} under {:?}", ev.scenario, want, levers);
    }
}

/// A view of one Sonnet 4.5 day row (and optionally more rows).
fn one_row(tier: Tier, tokens: [u64; 5]) -> Raw {
    Raw {
        model: "claude-sonnet-4-5",
        workspace: "Default",
        key: "prod",
        record: UsageRecord {
            time: day(2026, 3, 2),
            bucket: Bucket::Day,
            model: 0,
            tier,
            context: Context::Flag(false),
            geo: Geo::NotAvailable,
            speed: Speed::Standard,
            workspace: 0,
            api_key: 0,
            project: 0,
            session: 0,
            machine: 0,
            tokens: Tokens::from_array(tokens),
            web_search: 0,
            requests: 0,
            source: 0,
        },
    }
}

fn evaluate(raws: &[Raw], levers: Levers) -> costlens::engine::view::Evaluation {
    let a = analysis_for(raws, &levers);
    let view = a.view(&spec(Period::Day, Dimension::Model));
    view.evaluate(&a.table, &levers.resolve(&a.table).unwrap())
}

fn assert_usd(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn caching_lever_moves_input_into_reads_and_writes() {
    // 1M uncached input tokens of Sonnet 4.5: $3.
    let raws = [one_row(Tier::Standard, [1_000_000, 0, 0, 0, 0])];
    let ev = evaluate(
        &raws,
        Levers {
            cache_share: Some(1.0),
            cache_hit: Some(0.99),
            cache_ttl: Some(Ttl::FiveMinutes),
            ..Levers::default()
        },
    );
    assert_usd(ev.actual, 3.0, "actual");
    // 990K reads at $0.30 + 10K 5m writes at $3.75.
    assert_usd(ev.scenario, 0.297 + 0.0375, "cached");
    // Caching with no hits costs more than not caching: shown, not clamped.
    let ev = evaluate(
        &raws,
        Levers {
            cache_share: Some(0.5),
            cache_hit: Some(0.0),
            cache_ttl: Some(Ttl::OneHour),
            ..Levers::default()
        },
    );
    assert_usd(ev.scenario, 1.5 + 0.5 * 6.0, "all writes at 1h");
    assert!(ev.savings() < 0.0);
    assert_usd(
        ev.waterfall[3].1,
        3.0 - 4.5,
        "the caching step of the waterfall",
    );
}

#[test]
fn batch_share_one_halves_non_batch_cost_exactly() {
    let raws = [
        one_row(
            Tier::Standard,
            [1_000_000, 100_000, 10_000, 2_000_000, 50_000],
        ),
        one_row(Tier::Batch, [400_000, 0, 0, 0, 100_000]),
    ];
    let standard = 3.0 + 0.375 + 0.06 + 0.6 + 0.75;
    let batch = 0.5 * (1.2 + 1.5);
    let ev = evaluate(
        &raws,
        Levers {
            batch_share: 1.0,
            ..Levers::default()
        },
    );
    assert_usd(ev.actual, standard + batch, "actual");
    assert_usd(ev.scenario, standard / 2.0 + batch, "all moved to batch");
    assert_usd(ev.waterfall[5].1, standard / 2.0, "batch step");
}

#[test]
fn routing_prices_the_routed_share_as_the_target() {
    let raws = [one_row(Tier::Standard, [1_000_000, 0, 0, 0, 100_000])];
    let ev = evaluate(
        &raws,
        Levers {
            route_share: 0.25,
            ..Levers::default()
        },
    );
    // 75% at Sonnet ($3 + $1.50), 25% at Haiku 4.5 ($1 + $0.50).
    assert_usd(ev.scenario, 0.75 * 4.5 + 0.25 * 1.5, "routed");
    let ev = evaluate(
        &raws,
        Levers {
            route_share: 1.0,
            route_to: "claude-3-haiku-20240307".into(),
            ..Levers::default()
        },
    );
    assert_usd(ev.scenario, 0.25 + 0.125, "routed to Haiku 3");
    // A model outside the sources stays where it is.
    let ev = evaluate(
        &raws,
        Levers {
            route_share: 1.0,
            route_from: vec!["claude-opus-4-1".into()],
            ..Levers::default()
        },
    );
    assert_usd(ev.scenario, 4.5, "not a source");
}

#[test]
fn volume_levers_scale_counts() {
    let raws = [one_row(Tier::Standard, [1_000_000, 0, 0, 0, 100_000])];
    let ev = evaluate(
        &raws,
        Levers {
            traffic: 2.0,
            prompt_length: 0.5,
            output_length: 3.0,
            ..Levers::default()
        },
    );
    // x2 traffic, then half the input, then 3x the output: 1M input, 600K output.
    assert_usd(ev.scenario, 3.0 + 9.0, "scaled");
    assert_usd(ev.waterfall[0].1, -4.5, "traffic step");
    assert_usd(ev.waterfall[1].1, 3.0, "prompt length step");
    assert_usd(ev.waterfall[2].1, -6.0, "output length step");
}

#[test]
fn unpriced_models_are_listed_with_their_tokens_not_priced() {
    let mut raws = vec![one_row(Tier::Standard, [1_000_000, 0, 0, 0, 0])];
    let mut mystery = one_row(Tier::Standard, [5, 6, 7, 8, 9]);
    mystery.model = "mystery-model-9";
    raws.push(mystery);
    let a = analysis(&raws);
    let view = a.view(&spec(Period::Day, Dimension::Model));
    assert_eq!(view.unpriced.len(), 1);
    assert_eq!(view.unpriced[0].model, "mystery-model-9");
    assert_eq!(view.unpriced[0].tokens, 35);
    assert_eq!(
        view.unpriced[0].by_category,
        Tokens::from_array([5, 6, 7, 8, 9])
    );
    assert_eq!(view.dims, vec!["Claude Sonnet 4.5".to_owned()]);
    let ev = view.evaluate(&a.table, &Levers::default().resolve(&a.table).unwrap());
    assert_usd(ev.actual, 3.0, "only the priced model");
}

#[test]
fn levers_are_validated() {
    let t = PriceTable::bundled();
    let bad = |l: Levers| l.resolve(&t).unwrap_err();
    assert_eq!(
        bad(Levers {
            traffic: 11.0,
            ..Levers::default()
        }),
        LeverError::OutOfRange("traffic", 0.1, 10.0, 11.0)
    );
    assert_eq!(
        bad(Levers {
            batch_share: -0.1,
            ..Levers::default()
        }),
        LeverError::OutOfRange("batch share", 0.0, 1.0, -0.1)
    );
    assert_eq!(
        bad(Levers {
            cache_hit: Some(1.5),
            ..Levers::default()
        }),
        LeverError::OutOfRange("cache hit rate", 0.0, 1.0, 1.5)
    );
    assert_eq!(
        bad(Levers {
            route_to: "gpt-4o".into(),
            ..Levers::default()
        }),
        LeverError::UnknownTarget("gpt-4o".into())
    );
    assert_eq!(
        bad(Levers {
            route_from: vec!["nope".into()],
            ..Levers::default()
        }),
        LeverError::UnknownSource("nope".into())
    );
    assert!(matches!(
        bad(Levers {
            output_length: f64::NAN,
            ..Levers::default()
        }),
        LeverError::OutOfRange("output length", ..)
    ));
}

#[test]
fn a_large_dataset_summed_on_several_threads_prices_like_its_records() {
    // Enough rows for the cube to be built in shards, and requests around the threshold.
    let mut raws: Vec<Raw> = Vec::new();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    for i in 0..150_000u64 {
        let mut r = one_row(
            if i % 5 == 0 {
                Tier::Batch
            } else {
                Tier::Standard
            },
            [
                next(90_000),
                next(30_000),
                next(20_000),
                next(120_000),
                next(4_000),
            ],
        );
        r.model = MODELS[(i % MODELS.len() as u64) as usize];
        r.key = ["prod", "batch", "alice"][(i % 3) as usize];
        r.record.time = day(2026, 1, 1) + (next(24 * 40) * 3600) as i64;
        r.record.bucket = Bucket::Request;
        r.record.context = if i % 7 == 0 {
            Context::Flag(true)
        } else {
            Context::Request
        };
        r.record.requests = 1;
        raws.push(r);
    }
    // As generated (out of time order), and sorted by time as exports are.
    let mut sorted = raws.clone();
    sorted.sort_by_key(|r| r.record.time);
    for raws in [raws, sorted] {
        check_large(&raws);
    }
}

fn check_large(raws: &[Raw]) {
    let a = analysis(raws);
    assert!(a.cube.groups() > 1000);
    let obs = observed(raws);
    for (spec, levers) in [
        (spec(Period::Day, Dimension::Model), Levers::default()),
        (spec(Period::Hour, Dimension::Key), Levers::default()),
        (
            spec(Period::Week, Dimension::Tier),
            Levers {
                traffic: 1.3,
                prompt_length: 1.5,
                output_length: 0.8,
                cache_share: Some(0.7),
                cache_hit: None,
                cache_ttl: Some(Ttl::OneHour),
                route_share: 0.4,
                batch_share: 0.6,
                ..Levers::default()
            },
        ),
    ] {
        let view = a.view(&spec);
        assert_eq!(view.observed, obs);
        assert_eq!(view.rows, raws.len() as u64);
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        let want = scenario_by_hand(&a.table, raws, &levers, &obs);
        assert!(
            rel_close(ev.scenario, want),
            "{spec:?}: cube {} vs records {want}",
            ev.scenario
        );
        let actual: f64 = raws
            .iter()
            .filter_map(|r| {
                a.table
                    .lookup(r.model)
                    .map(|m| cost::price_record(&a.table, m, &r.record).total())
            })
            .sum();
        assert!(
            rel_close(ev.actual, actual),
            "{spec:?}: actual {} vs records {actual}",
            ev.actual
        );
    }
}

#[test]
fn the_prompt_length_grid_holds_the_slider_steps_exactly() {
    let g = cube::prompt_length_grid();
    assert_eq!(g.len(), 67);
    assert!(g.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    for v in [
        0.1, 0.15, 0.5, 0.95, 1.0, 1.1, 1.5, 2.9, 3.0, 3.25, 7.5, 10.0,
    ] {
        assert!(g.contains(&v), "{v} is a step");
    }
}

/// One request of `model` at 2026-05-04 10:00 with `tokens`.
fn request(model: &'static str, tokens: [u64; 5]) -> Raw {
    let mut r = one_row(Tier::Standard, tokens);
    r.model = model;
    r.record.time = day(2026, 5, 4) + 10 * 3600;
    r.record.bucket = Bucket::Request;
    r.record.context = Context::Request;
    r.record.requests = 1;
    r
}

#[test]
fn routing_across_tokenizers_scales_tokens_and_checks_the_targets_minimum_per_request() {
    // Two Opus 4.7 requests (newer tokenizer) of 5,200 and 5,460 input tokens, each with
    // 5,000 cache-read tokens, routed entirely to Haiku 4.5 (older tokenizer): their tokens
    // become x 1/1.30 there: 4,000 and 4,200 input tokens. Haiku 4.5 caches nothing under
    // 4,096 tokens: the first request's cached tokens are uncached input there, the second's
    // stay cache reads.
    let raws = [
        request("claude-opus-4-7", [200, 0, 0, 5_000, 1_300]),
        request("claude-opus-4-7", [460, 0, 0, 5_000, 1_300]),
    ];
    let ev = evaluate(
        &raws,
        Levers {
            route_share: 1.0,
            ..Levers::default()
        },
    );
    // Actual: Opus 4.7 $5 input, $0.50 read, $25 output.
    let actual = (660.0 * 5.0 + 10_000.0 * 0.5 + 2_600.0 * 25.0) / 1e6;
    assert_usd(ev.actual, actual, "actual");
    let k = 1.0 / 1.3;
    // Haiku 4.5: $1 input, $0.10 read, $5 output.
    let first = (5_200.0 * k * 1.0 + 1_300.0 * k * 5.0) / 1e6;
    let second = (460.0 * k * 1.0 + 5_000.0 * k * 0.1 + 1_300.0 * k * 5.0) / 1e6;
    assert_usd(ev.scenario, first + second, "routed across tokenizers");
    assert_usd(
        ev.cache_excluded_input,
        5_200.0 * k,
        "input of the request under Haiku 4.5's minimum",
    );
    // Back the other way: Sonnet 4.5 (older) to Haiku 5.5 (newer): x 1.30.
    let raws = [request("claude-sonnet-4-5", [10_000, 0, 0, 0, 1_000])];
    let ev = evaluate(
        &raws,
        Levers {
            route_share: 1.0,
            route_to: "claude-haiku-5-5".into(),
            ..Levers::default()
        },
    );
    assert_usd(
        ev.scenario,
        (13_000.0 * 0.10 + 1_300.0 * 0.50) / 1e6,
        "old to new x1.30",
    );
    // The user's factor instead of the table's.
    let ev = evaluate(
        &raws,
        Levers {
            route_share: 1.0,
            route_to: "claude-haiku-5-5".into(),
            route_token_factor: Some(1.35),
            ..Levers::default()
        },
    );
    assert_usd(
        ev.scenario,
        (13_500.0 * 0.10 + 1_350.0 * 0.50) / 1e6,
        "old to new x1.35",
    );
}
