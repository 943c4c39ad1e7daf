//! The what-if engine (`shared/docs/what-if.md`) through the cube, the view and the
//! evaluation, against prices computed here record by record.
//!
//! The properties: neutral levers reproduce the actual cost exactly; batch and routing to a
//! cheaper model never raise cost; the waterfall adds up to the total saving; and the cube is
//! exact: pricing the aggregate equals pricing every raw record, under any levers, and at every
//! prompt-length grid value for the per-request long-context rule.

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
        // Small requests and day rows.
        prop::array::uniform5(0u64..50_000),
        // Around the 200K threshold at prompt lengths 0.1 - 10.
        prop::array::uniform5(0u64..120_000),
        prop::array::uniform5(0u64..3_000_000),
    ];
    (
        0..MODELS.len(),
        // From before the Haiku 3.5 price cut to after every release.
        day(2024, 10, 1)..day(2026, 6, 1),
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
    Observed {
        cache_share: ratio(writes + reads, input),
        cache_hit: ratio(reads, writes + reads),
        ttl_1h_share: ratio(w1h, writes),
        batch_share: ratio(batch, all),
    }
}

/// The scenario cost of one raw record, applying what-if.md's levers by hand and pricing the
/// pieces with the one pricing function. `None` for an unpriced model.
fn scenario_cost(table: &PriceTable, raw: &Raw, l: &Levers, obs: &Observed) -> Option<f64> {
    let model = table.lookup(raw.model)?;
    let r = &raw.record;
    let input = r.tokens.total_input() as f64;
    let mut t = r.tokens.to_f64();
    // Volume: traffic scales every count, prompt length every input category.
    t = t.scale(l.traffic);
    let web = r.web_search as f64 * l.traffic;
    t.uncached_input *= l.prompt_length;
    t.cache_write_5m *= l.prompt_length;
    t.cache_write_1h *= l.prompt_length;
    t.cache_read *= l.prompt_length;
    t.output *= l.output_length;
    // A request is long when ITS input (prompt length applied; traffic is more requests, not
    // longer ones) exceeds 200K.
    let prompt = match r.context {
        Context::Request => Prompt::Tokens(input * l.prompt_length),
        Context::Flag(b) => Prompt::Long(b),
    };
    if l.cache_share.is_some() || l.cache_hit.is_some() || l.cache_ttl.is_some() {
        let i = t.total_input();
        let cached = t.cache_write_5m + t.cache_write_1h + t.cache_read;
        let cacheable = l.cache_share.map_or(cached, |c| c * i);
        let (read, write) = match (l.cache_share, l.cache_hit) {
            (_, Some(h)) => (h * cacheable, (1.0 - h) * cacheable),
            (None, None) => (t.cache_read, t.cache_write_5m + t.cache_write_1h),
            (Some(_), None) => (obs.cache_hit * cacheable, (1.0 - obs.cache_hit) * cacheable),
        };
        let share_1h = match l.cache_ttl {
            Some(Ttl::FiveMinutes) => 0.0,
            Some(Ttl::OneHour) => 1.0,
            None => obs.ttl_1h_share,
        };
        t.uncached_input = i - cacheable;
        t.cache_read = read;
        t.cache_write_1h = write * share_1h;
        t.cache_write_5m = write * (1.0 - share_1h);
    }
    let target = table.lookup("claude-haiku-4-5").unwrap();
    let is_source =
        model != target && matches!(table.model(model).family, Family::Sonnet | Family::Opus);
    let route = if is_source { l.route_share } else { 0.0 };
    let batch = if r.tier == Tier::Batch {
        0.0
    } else {
        l.batch_share
    };
    let mut total = 0.0;
    for (m, share) in [(model, 1.0 - route), (target, route)] {
        for (tier, part) in [(r.tier, 1.0 - batch), (Tier::Batch, batch)] {
            if share * part == 0.0 {
                continue;
            }
            let terms = Terms {
                tier,
                prompt,
                geo: r.geo,
                speed: r.speed,
            };
            total += share * part * cost::price(table, m, r.time, &t, web, &terms).total();
        }
    }
    Some(total)
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
            )| Levers {
                traffic,
                output_length,
                cache_share,
                cache_hit,
                cache_ttl,
                route_share,
                batch_share,
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
        let a = analysis(&raws);
        let view = a.view(&spec);
        let obs = observed(&raws);
        prop_assert_eq!(view.observed, obs);
        let ev = view.evaluate(&a.table, &levers.resolve(&a.table).unwrap());
        let by_record: f64 = raws.iter().filter_map(|r| scenario_cost(&a.table, r, &levers, &obs)).sum();
        prop_assert!(rel_close(ev.scenario, by_record), "cube {} vs records {} under {:?}", ev.scenario, by_record, levers);
        let neutral: f64 = raws.iter().filter_map(|r| scenario_cost(&a.table, r, &Levers::default(), &obs)).sum();
        prop_assert!(rel_close(ev.actual, neutral), "actual {} vs records {}", ev.actual, neutral);
    }

    #[test]
    fn the_waterfall_adds_up_to_the_total_saving(
        raws in prop::collection::vec(raw_strategy(), 1..60),
        spec in spec_strategy(),
        levers in levers_strategy(),
        grid_step in 0usize..67,
    ) {
        let a = analysis(&raws);
        let view = a.view(&spec);
        let mut levers = levers;
        levers.prompt_length = cube::prompt_length_grid()[grid_step];
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
    let a = analysis(raws);
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
        let want: f64 = raws
            .iter()
            .filter_map(|r| scenario_cost(&a.table, r, &levers, &obs))
            .sum();
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
