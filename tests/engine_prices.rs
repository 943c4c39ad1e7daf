//! The price table against `shared/docs/pricing.md` (as of 2026-12-01): every model, every
//! category, the names a model goes by, dated periods, whole-request tiers, fast mode, data
//! residency, LiteLLM and our own override files, and `map`.
//!
//! Every expected figure below is typed in from pricing.md, never read back from the table.

use chrono::{NaiveDate, TimeZone, Utc};
use costlens::domain::cost::{self, Terms};
use costlens::domain::prices::{Confidence, PriceError, PriceTable, Prompt, Rates};
use costlens::domain::records::{Geo, Speed, Tier, Tokens};

/// Unix seconds of midnight UTC on a day.
fn day(y: i32, m: u32, d: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp()
}

fn assert_usd(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

type R5 = [f64; 5];

/// One period of one model: from (y, m, d), the five standard rates (input, 5m write, 1h write,
/// read, output), whole-request tiers (threshold, rates), fast multiplier.
struct Period {
    from: (i32, u32, u32),
    rates: R5,
    tiers: &'static [(u64, R5)],
    fast: Option<f64>,
}

struct Expected {
    id: &'static str,
    names: &'static [&'static str],
    periods: &'static [Period],
    residency: bool,
}

const SONNET: R5 = [3.0, 3.75, 6.0, 0.30, 15.0];
const SONNET_LONG: R5 = [6.0, 7.50, 12.0, 0.60, 22.50];
const OPUS_45: R5 = [5.0, 6.25, 10.0, 0.50, 25.0];
const OPUS_41: R5 = [15.0, 18.75, 30.0, 1.50, 75.0];

const fn p(from: (i32, u32, u32), rates: R5) -> Period {
    Period {
        from,
        rates,
        tiers: &[],
        fast: None,
    }
}

const EXPECTED: &[Expected] = &[
    Expected {
        id: "claude-fable-5-2",
        names: &["claude-mythos-5-2", "Claude Fable 5.2", "Claude Mythos 5.2"],
        periods: &[p((2026, 11, 9), [8.0, 10.0, 16.0, 0.20, 40.0])],
        residency: true,
    },
    Expected {
        id: "claude-fable-5-1",
        names: &["claude-mythos-5-1", "Claude Fable 5.1"],
        periods: &[p((2026, 9, 1), [10.0, 12.50, 20.0, 0.25, 50.0])],
        residency: true,
    },
    Expected {
        id: "claude-fable-5",
        names: &["claude-mythos-5", "Claude Fable 5", "Claude Mythos 5"],
        periods: &[p((2026, 6, 9), [10.0, 12.50, 20.0, 1.00, 50.0])],
        residency: true,
    },
    Expected {
        id: "claude-opus-5-5",
        names: &["Claude Opus 5.5"],
        periods: &[Period {
            from: (2026, 9, 22),
            rates: [4.0, 5.0, 8.0, 0.20, 20.0],
            tiers: &[],
            fast: Some(2.0),
        }],
        residency: true,
    },
    Expected {
        id: "claude-opus-5",
        names: &["Claude Opus 5"],
        periods: &[Period {
            from: (2026, 7, 24),
            rates: OPUS_45,
            tiers: &[],
            fast: Some(2.0),
        }],
        residency: true,
    },
    Expected {
        id: "claude-opus-4-8",
        names: &["Claude Opus 4.8"],
        periods: &[
            Period {
                from: (2026, 5, 28),
                rates: OPUS_45,
                tiers: &[],
                fast: Some(2.0),
            },
            // Fast mode removed 2026-11-30 (secondary).
            p((2026, 11, 30), OPUS_45),
        ],
        residency: true,
    },
    Expected {
        id: "claude-opus-4-7",
        names: &["claude-opus-4-7-20260416", "Claude Opus 4.7"],
        periods: &[
            Period {
                from: (2026, 4, 16),
                rates: OPUS_45,
                tiers: &[],
                fast: Some(6.0),
            },
            // Fast mode removed 2026-07-24.
            p((2026, 7, 24), OPUS_45),
        ],
        residency: true,
    },
    Expected {
        id: "claude-opus-4-6",
        names: &["claude-opus-4-6-20260205", "Claude Opus 4.6"],
        periods: &[
            Period {
                from: (2026, 2, 5),
                rates: OPUS_45,
                // $10 in / $37.50 out, cache categories at the usual ratios, until 2026-03-12.
                tiers: &[(200_000, [10.0, 12.50, 20.0, 1.0, 37.50])],
                fast: Some(6.0),
            },
            Period {
                from: (2026, 3, 13),
                rates: OPUS_45,
                tiers: &[],
                fast: Some(6.0),
            },
        ],
        residency: true,
    },
    Expected {
        id: "claude-opus-4-5-20251101",
        names: &["claude-opus-4-5", "Claude Opus 4.5"],
        periods: &[p((2025, 11, 24), OPUS_45)],
        residency: false,
    },
    Expected {
        id: "claude-opus-4-1-20250805",
        names: &["claude-opus-4-1", "Claude Opus 4.1"],
        periods: &[p((2025, 8, 5), OPUS_41)],
        residency: false,
    },
    Expected {
        id: "claude-opus-4-20250514",
        names: &["claude-opus-4-0", "Claude Opus 4"],
        periods: &[p((2025, 5, 22), OPUS_41)],
        residency: false,
    },
    Expected {
        id: "claude-3-opus-20240229",
        names: &["claude-3-opus-latest", "Claude 3 Opus", "Claude Opus 3"],
        periods: &[p((2024, 3, 4), OPUS_41)],
        residency: false,
    },
    Expected {
        id: "claude-sonnet-5-5",
        names: &["Claude Sonnet 5.5"],
        periods: &[
            p((2026, 9, 28), [2.0, 2.50, 4.0, 0.20, 10.0]),
            // Reads $0.10 from 2026-10-07 (secondary).
            p((2026, 10, 7), [2.0, 2.50, 4.0, 0.10, 10.0]),
        ],
        residency: true,
    },
    Expected {
        id: "claude-sonnet-5",
        names: &["Claude Sonnet 5"],
        periods: &[p((2026, 6, 30), [2.0, 2.50, 4.0, 0.20, 10.0])],
        residency: true,
    },
    Expected {
        id: "claude-sonnet-4-6",
        names: &["Claude Sonnet 4.6"],
        periods: &[
            Period {
                from: (2026, 2, 17),
                rates: SONNET,
                tiers: &[(200_000, SONNET_LONG)],
                fast: None,
            },
            // The 1M window at standard pricing from 2026-03-13.
            p((2026, 3, 13), SONNET),
        ],
        residency: true,
    },
    Expected {
        id: "claude-sonnet-4-5-20250929",
        names: &["claude-sonnet-4-5", "Claude Sonnet 4.5"],
        periods: &[Period {
            from: (2025, 9, 29),
            rates: SONNET,
            tiers: &[(200_000, SONNET_LONG)],
            fast: None,
        }],
        residency: false,
    },
    Expected {
        id: "claude-sonnet-4-20250514",
        names: &["claude-sonnet-4-0", "Claude Sonnet 4"],
        periods: &[Period {
            from: (2025, 5, 22),
            rates: SONNET,
            tiers: &[(200_000, SONNET_LONG)],
            fast: None,
        }],
        residency: false,
    },
    Expected {
        id: "claude-3-7-sonnet-20250219",
        names: &[
            "claude-3-7-sonnet-latest",
            "Claude Sonnet 3.7",
            "Claude 3.7 Sonnet",
        ],
        periods: &[p((2025, 2, 24), SONNET)],
        residency: false,
    },
    Expected {
        id: "claude-3-5-sonnet-20241022",
        names: &[
            "claude-3-5-sonnet-latest",
            "Claude Sonnet 3.5",
            "Claude 3.5 Sonnet 2024-10-22",
        ],
        periods: &[p((2024, 10, 22), SONNET)],
        residency: false,
    },
    Expected {
        id: "claude-3-5-sonnet-20240620",
        names: &["Claude 3.5 Sonnet 2024-06-20"],
        periods: &[p((2024, 6, 20), SONNET)],
        residency: false,
    },
    Expected {
        id: "claude-haiku-5-5",
        names: &["Claude Haiku 5.5"],
        periods: &[Period {
            from: (2026, 10, 7),
            rates: [0.10, 0.125, 0.20, 0.01, 0.50],
            tiers: &[(100_000, [0.50, 0.625, 1.00, 0.05, 2.50])],
            fast: None,
        }],
        residency: true,
    },
    Expected {
        id: "claude-haiku-4-5-20251001",
        names: &["claude-haiku-4-5", "Claude Haiku 4.5"],
        periods: &[p((2025, 10, 15), [1.0, 1.25, 2.0, 0.10, 5.0])],
        residency: false,
    },
    Expected {
        id: "claude-3-5-haiku-20241022",
        names: &[
            "claude-3-5-haiku-latest",
            "Claude Haiku 3.5",
            "Claude 3.5 Haiku",
        ],
        periods: &[
            p((2024, 11, 4), [1.0, 1.25, 2.0, 0.10, 5.0]),
            p((2024, 12, 1), [0.80, 1.00, 1.60, 0.08, 4.0]),
        ],
        residency: false,
    },
    Expected {
        id: "claude-3-haiku-20240307",
        names: &["Claude Haiku 3", "Claude 3 Haiku"],
        // Its own cache prices, not the usual ratios.
        periods: &[p((2024, 3, 13), [0.25, 0.30, 0.50, 0.03, 1.25])],
        residency: false,
    },
    Expected {
        id: "claude-3-sonnet-20240229",
        names: &["Claude 3 Sonnet"],
        // No caching: cache categories are billed as input.
        periods: &[p((2024, 3, 4), [3.0, 3.0, 3.0, 3.0, 15.0])],
        residency: false,
    },
    Expected {
        id: "claude-2.1",
        names: &["claude-2.0", "Claude 2"],
        periods: &[p((2023, 7, 11), [8.0, 8.0, 8.0, 8.0, 24.0])],
        residency: false,
    },
    Expected {
        id: "claude-instant-1.2",
        names: &["Claude Instant"],
        periods: &[p((2023, 8, 9), [0.80, 0.80, 0.80, 0.80, 2.40])],
        residency: false,
    },
];

fn terms(prompt: Prompt) -> Terms {
    Terms {
        tier: Tier::Standard,
        prompt,
        geo: Geo::NotAvailable,
        speed: Speed::Standard,
    }
}

fn standard_terms() -> Terms {
    terms(Prompt::Tokens(1000.0))
}

/// One million tokens of each category, priced: the dollar figure equals the per-MTok rate.
fn one_mtok_each(t: &PriceTable, model: usize, time: i64, terms: &Terms) -> R5 {
    let mut out = [0.0; 5];
    for (i, o) in out.iter_mut().enumerate() {
        let mut a = [0.0; 5];
        a[i] = 1e6;
        *o = cost::price(t, model, time, &Tokens::from_array(a), 0.0, terms).total();
    }
    out
}

fn assert_rates(got: R5, want: R5, what: &str) {
    for (c, (g, w)) in got.iter().zip(want).enumerate() {
        assert_usd(*g, w, &format!("{what}, category {c}"));
    }
}

#[test]
fn every_model_of_pricing_md_is_priced_in_every_period() {
    let t = PriceTable::bundled();
    assert_eq!(
        t.models.len(),
        EXPECTED.len(),
        "one entry per model of pricing.md"
    );
    for e in EXPECTED {
        let i = t
            .lookup(e.id)
            .unwrap_or_else(|| panic!("{} is in the table", e.id));
        assert_eq!(t.model(i).id, e.id);
        assert_eq!(t.model(i).prices.len(), e.periods.len(), "{} periods", e.id);
        for (k, period) in e.periods.iter().enumerate() {
            let (y, m, d) = period.from;
            // The first and the last day of the period (or a year on for the last period).
            let first = day(y, m, d);
            let last = e.periods.get(k + 1).map_or(first + 365 * 86_400, |n| {
                day(n.from.0, n.from.1, n.from.2) - 1
            });
            for time in [first, last] {
                let what = format!("{} at {time}", e.id);
                let std = one_mtok_each(&t, i, time, &standard_terms());
                assert_rates(std, period.rates, &what);
                // A prompt just over each tier's threshold pays that tier, output included;
                // a prompt at the threshold does not.
                for &(above, rates) in period.tiers {
                    let over =
                        one_mtok_each(&t, i, time, &terms(Prompt::Tokens(above as f64 + 1.0)));
                    assert_rates(over, rates, &format!("{what} over {above}"));
                    let at = one_mtok_each(&t, i, time, &terms(Prompt::Tokens(above as f64)));
                    assert_rates(at, period.rates, &format!("{what} at {above}"));
                    // An export row flagged long context pays the tier.
                    let flagged = one_mtok_each(&t, i, time, &terms(Prompt::Long(true)));
                    assert_rates(flagged, rates, &format!("{what} flagged long"));
                }
                if period.tiers.is_empty() {
                    let big = one_mtok_each(&t, i, time, &terms(Prompt::Tokens(900_000.0)));
                    assert_rates(big, period.rates, &format!("{what}: no tier"));
                    let flagged = one_mtok_each(&t, i, time, &terms(Prompt::Long(true)));
                    assert_rates(flagged, period.rates, &format!("{what}: flag, no tier"));
                }
                // Fast mode: the period's multiplier, or standard speed where it has none.
                let fast = one_mtok_each(
                    &t,
                    i,
                    time,
                    &Terms {
                        speed: Speed::Fast,
                        ..standard_terms()
                    },
                );
                let k = period.fast.unwrap_or(1.0);
                assert_rates(fast, period.rates.map(|r| r * k), &format!("{what} fast"));
                // Data residency: 1.1x on Claude 4.6 and later, nothing before.
                let us = one_mtok_each(
                    &t,
                    i,
                    time,
                    &Terms {
                        geo: Geo::Us,
                        ..standard_terms()
                    },
                );
                let k = if e.residency { 1.1 } else { 1.0 };
                assert_rates(us, period.rates.map(|r| r * k), &format!("{what} us"));
                // Batch: half of every category.
                let batch = one_mtok_each(
                    &t,
                    i,
                    time,
                    &Terms {
                        tier: Tier::Batch,
                        ..standard_terms()
                    },
                );
                assert_rates(
                    batch,
                    period.rates.map(|r| r * 0.5),
                    &format!("{what} batch"),
                );
            }
        }
    }
}

#[test]
fn every_name_a_model_goes_by_resolves_to_its_entry() {
    let t = PriceTable::bundled();
    for e in EXPECTED {
        let i = t.lookup(e.id).unwrap();
        for name in e.names {
            assert_eq!(t.lookup(name), Some(i), "{name} -> {}", e.id);
        }
        // Case and surrounding space do not matter; a provider prefix is ignored.
        assert_eq!(t.lookup(&e.id.to_ascii_uppercase()), Some(i));
        assert_eq!(t.lookup(&format!("  {}  ", e.id)), Some(i));
        assert_eq!(t.lookup(&format!("anthropic/{}", e.id)), Some(i));
        // Claude Code's 1M-context suffix.
        assert_eq!(t.lookup(&format!("{}[1m]", e.id)), Some(i), "{}[1m]", e.id);
    }
    // Console display names as real exports write them, with odd spacing.
    assert_eq!(
        t.lookup("Claude  3.5 Sonnet   2024-10-22"),
        t.lookup("claude-3-5-sonnet-20241022")
    );
    assert_eq!(
        t.lookup("claude 3 opus"),
        t.lookup("claude-3-opus-20240229")
    );
}

#[test]
fn lookup_order_exact_alias_date_strip_1m_strip_display() {
    let t = PriceTable::bundled();
    // A snapshot date the table has never seen resolves through the alias.
    assert_eq!(
        t.lookup("claude-haiku-4-5-20991231"),
        t.lookup("claude-haiku-4-5-20251001")
    );
    assert_eq!(
        t.lookup("claude-sonnet-4-6-20260301"),
        t.lookup("claude-sonnet-4-6")
    );
    // Date and [1m] together, as Claude Code writes dated IDs.
    assert_eq!(
        t.lookup("claude-sonnet-4-5-20250929[1m]"),
        t.lookup("claude-sonnet-4-5")
    );
    assert_eq!(t.lookup("claude-opus-5-5[1M]"), t.lookup("claude-opus-5-5"));
    // Both Sonnet 3.5 snapshots are their own entries (exact match before any stripping).
    assert_ne!(
        t.lookup("claude-3-5-sonnet-20240620"),
        t.lookup("claude-3-5-sonnet-20241022")
    );
    // Only an 8-digit date is a dated suffix, and only `[1m]` is stripped.
    assert_eq!(t.lookup("claude-haiku-4-5-2025"), None);
    assert_eq!(t.lookup("claude-haiku-4-5-beta"), None);
    assert_eq!(t.lookup("claude-haiku-4-5[2m]"), None);
    // Stripping `-20240307` off Haiku 3 leaves a name nothing is called.
    assert_eq!(t.lookup("claude-3-haiku-20250101"), None);
}

#[test]
fn unknown_models_are_unpriced() {
    let t = PriceTable::bundled();
    for name in [
        "",
        "gpt-4o",
        "claude-sonnet-9",
        "claude-opus-6",
        "claude-haiku-6-0",
        "sonnet",
        "<synthetic>",
        "[1m]",
    ] {
        assert_eq!(t.lookup(name), None, "{name:?}");
    }
}

#[test]
fn worked_examples_of_pricing_md() {
    let t = PriceTable::bundled();
    // Opus 4.7: input 6, cache write 1,389 (5m), read 50,352, output 3,922 = $0.13193725.
    let opus47 = t.lookup("claude-opus-4-7").unwrap();
    let tokens = Tokens {
        uncached_input: 6.0,
        cache_write_5m: 1389.0,
        cache_write_1h: 0.0,
        cache_read: 50352.0,
        output: 3922.0,
    };
    let c = cost::price(
        &t,
        opus47,
        day(2026, 6, 1),
        &tokens,
        0.0,
        &terms(Prompt::Tokens(6.0 + 1389.0 + 50352.0)),
    );
    assert_usd(
        c.total(),
        (6.0 * 5.0 + 1389.0 * 6.25 + 50352.0 * 0.50 + 3922.0 * 25.0) / 1e6,
        "Opus 4.7 by hand",
    );
    assert_usd(c.total(), 0.13193725, "Opus 4.7 worked example");
    // Opus 4.6, 240,000 input tokens: $2.40 on 2026-03-01, $1.20 on 2026-05-01.
    let opus46 = t.lookup("claude-opus-4-6").unwrap();
    let input = Tokens {
        uncached_input: 240_000.0,
        ..Default::default()
    };
    let at = |time| {
        cost::price(
            &t,
            opus46,
            time,
            &input,
            0.0,
            &terms(Prompt::Tokens(240_000.0)),
        )
        .total()
    };
    assert_usd(
        at(day(2026, 3, 1)),
        2.40,
        "Opus 4.6 long context, March 1st",
    );
    assert_usd(at(day(2026, 3, 12)), 2.40, "the last day of the premium");
    assert_usd(at(day(2026, 3, 13)), 1.20, "the first day without it");
    assert_usd(at(day(2026, 5, 1)), 1.20, "Opus 4.6 standard, May 1st");
}

#[test]
fn sonnet_4_6_long_requests_pay_no_premium_after_2026_03_12() {
    // One Claude Code request with a 480K prompt: 10 uncached, 12,000 5m writes, 468,000
    // reads, 2,500 output.
    let t = PriceTable::bundled();
    let i = t.lookup("claude-sonnet-4-6").unwrap();
    let tokens = Tokens {
        uncached_input: 10.0,
        cache_write_5m: 12_000.0,
        cache_write_1h: 0.0,
        cache_read: 468_000.0,
        output: 2_500.0,
    };
    let prompt = Prompt::Tokens(480_010.0);
    let price = |time| cost::price(&t, i, time, &tokens, 0.0, &terms(prompt)).total();
    let standard = (10.0 * 3.0 + 12_000.0 * 3.75 + 468_000.0 * 0.30 + 2_500.0 * 15.0) / 1e6;
    let premium = (10.0 * 6.0 + 12_000.0 * 7.50 + 468_000.0 * 0.60 + 2_500.0 * 22.50) / 1e6;
    assert_usd(
        price(day(2026, 4, 20)),
        standard,
        "after 2026-03-12: standard",
    );
    assert_usd(
        price(day(2026, 3, 1)),
        premium,
        "before: the (secondary) premium",
    );
}

#[test]
fn haiku_5_5_bills_the_whole_request_at_the_card_its_prompt_falls_in() {
    let t = PriceTable::bundled();
    let i = t.lookup("claude-haiku-5-5").unwrap();
    let when = day(2026, 11, 1);
    // 100,000 prompt tokens exactly: the small card; one more: the > 100K card for all of it.
    let small = Tokens {
        uncached_input: 40_000.0,
        cache_write_5m: 10_000.0,
        cache_write_1h: 0.0,
        cache_read: 50_000.0,
        output: 1_000.0,
    };
    let c = cost::price(&t, i, when, &small, 0.0, &terms(Prompt::Tokens(100_000.0)));
    assert_usd(
        c.total(),
        (40_000.0 * 0.10 + 10_000.0 * 0.125 + 50_000.0 * 0.01 + 1_000.0 * 0.50) / 1e6,
        "100K prompt",
    );
    let big = Tokens {
        uncached_input: 40_001.0,
        ..small
    };
    let c = cost::price(&t, i, when, &big, 0.0, &terms(Prompt::Tokens(100_001.0)));
    assert_usd(
        c.total(),
        (40_001.0 * 0.50 + 10_000.0 * 0.625 + 50_000.0 * 0.05 + 1_000.0 * 2.50) / 1e6,
        "100,001 prompt",
    );
}

#[test]
fn rules_stack_multiplicatively() {
    let t = PriceTable::bundled();
    let i = t.lookup("claude-opus-4-6").unwrap();
    let tokens = Tokens {
        uncached_input: 300_000.0,
        output: 1_000.0,
        ..Default::default()
    };
    // 2026-03-01: long context ($10 / $37.50) x batch 0.5 x residency 1.1.
    let c = cost::price(
        &t,
        i,
        day(2026, 3, 1),
        &tokens,
        0.0,
        &Terms {
            tier: Tier::Batch,
            prompt: Prompt::Tokens(300_000.0),
            geo: Geo::Us,
            speed: Speed::Standard,
        },
    );
    assert_usd(
        c.total(),
        (300_000.0 * 10.0 + 1_000.0 * 37.5) / 1e6 * 0.5 * 1.1,
        "long x batch x us",
    );
    // Fast mode x residency on the standard card: 6 x 1.1.
    let c = cost::price(
        &t,
        i,
        day(2026, 4, 1),
        &tokens,
        0.0,
        &Terms {
            tier: Tier::Standard,
            prompt: Prompt::Tokens(300_000.0),
            geo: Geo::Us,
            speed: Speed::Fast,
        },
    );
    assert_usd(
        c.total(),
        (300_000.0 * 5.0 + 1_000.0 * 25.0) / 1e6 * 6.0 * 1.1,
        "fast x us",
    );
}

#[test]
fn table_states_its_date_confidence_minimums_and_tokenizers() {
    let t = PriceTable::bundled();
    assert_eq!(t.as_of, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    assert_eq!(t.web_search_per_1k, 10.0);
    let m = |id: &str| t.model(t.lookup(id).unwrap());
    // Secondary facts are marked.
    assert_eq!(m("claude-fable-5-2").confidence, Confidence::Secondary);
    assert!(m("claude-fable-5-2").has_secondary_facts());
    assert_eq!(
        m("claude-sonnet-5-5").prices[1].confidence,
        Confidence::Secondary,
        "the $0.10 read price"
    );
    assert_eq!(
        m("claude-opus-5-5").prices[0].fast_confidence,
        Confidence::Secondary
    );
    assert_eq!(
        m("claude-sonnet-4-6").prices[0].tiers[0].confidence,
        Confidence::Secondary
    );
    assert!(!m("claude-opus-4-5").has_secondary_facts());
    // Minimum cacheable prefix, from pricing.md; unpublished ones assumed 1,024 and marked.
    let minimums: &[(&str, u64)] = &[
        ("claude-opus-5", 512),
        ("claude-fable-5", 512),
        ("claude-fable-5-1", 512),
        ("claude-opus-4-8", 1024),
        ("claude-sonnet-5", 1024),
        ("claude-sonnet-4-6", 1024),
        ("claude-sonnet-4-5", 1024),
        ("claude-sonnet-4-0", 1024),
        ("claude-opus-4-1", 1024),
        ("claude-opus-4-0", 1024),
        ("claude-3-7-sonnet-20250219", 1024),
        ("claude-opus-4-7", 2048),
        ("claude-3-5-haiku-20241022", 2048),
        ("claude-3-haiku-20240307", 2048),
        ("claude-opus-4-6", 4096),
        ("claude-opus-4-5", 4096),
        ("claude-haiku-4-5", 4096),
    ];
    for &(id, min) in minimums {
        assert_eq!(m(id).min_cacheable_tokens, Some(min), "{id}");
        assert_eq!(
            m(id).min_cacheable_confidence,
            Confidence::Published,
            "{id}"
        );
    }
    for id in [
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-fable-5-2",
    ] {
        assert_eq!(m(id).min_cacheable_tokens, Some(1024), "{id}");
        assert_eq!(m(id).min_cacheable_confidence, Confidence::Assumed, "{id}");
    }
    // Models without caching have no minimum.
    assert_eq!(m("claude-2.1").min_cacheable_tokens, None);
    assert!(!m("claude-2.1").caching);
    // Claude 4.7 and later count about 30% more tokens for the same text.
    for e in EXPECTED {
        let newer = [
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-opus-5",
            "claude-opus-5-5",
            "claude-sonnet-5",
            "claude-sonnet-5-5",
            "claude-haiku-5-5",
            "claude-fable-5",
            "claude-fable-5-1",
            "claude-fable-5-2",
        ]
        .contains(&e.id);
        assert_eq!(
            m(e.id).tokenizer_ratio,
            if newer { 1.30 } else { 1.0 },
            "{} tokenizer",
            e.id
        );
    }
    // Every tier threshold of the table: 100K (Haiku 5.5) and 200K.
    assert_eq!(t.thresholds(), &[100_000, 200_000]);
}

#[test]
fn haiku_3_5_is_priced_by_the_date_of_use() {
    let t = PriceTable::bundled();
    let i = t.lookup("claude-3-5-haiku-latest").unwrap();
    let tokens = Tokens::from_array([1e6; 5]);
    let at = |time: i64| cost::price(&t, i, time, &tokens, 0.0, &standard_terms()).total();
    let launch = 1.0 + 1.25 + 2.0 + 0.10 + 5.0;
    let cut = 0.80 + 1.00 + 1.60 + 0.08 + 4.0;
    assert_usd(at(day(2024, 11, 10)), launch, "before the cut");
    assert_usd(
        at(day(2024, 12, 1) - 1),
        launch,
        "the last second before the cut",
    );
    assert_usd(at(day(2024, 12, 1)), cut, "from the day of the cut");
    // Usage dated before the first entry is priced at the first entry, not dropped.
    assert_usd(at(day(2024, 1, 1)), launch, "before launch");
}

/// A small file in LiteLLM's format: USD per token, with its known-bad 1h fields.
const LITELLM: &str = r#"{
  "sample_spec": {"litellm_provider": "openai", "input_cost_per_token": 0.0},
  "gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05},
  "claude-3-haiku-20240307": {
    "litellm_provider": "anthropic", "mode": "chat", "max_input_tokens": 200000,
    "input_cost_per_token": 2.5e-07, "output_cost_per_token": 1.25e-06,
    "cache_creation_input_token_cost": 3e-07, "cache_read_input_token_cost": 3e-08,
    "cache_creation_input_token_cost_above_1hr": 6e-06
  },
  "claude-sonnet-4-5-20250929": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 2.9e-06, "output_cost_per_token": 1.45e-05
  },
  "claude-new-model-20270101": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05,
    "cache_creation_input_token_cost_above_1hr": 1.2e-05,
    "input_cost_per_token_above_200k_tokens": 4e-06, "output_cost_per_token_above_200k_tokens": 1.5e-05,
    "provider_specific_entry": {"us": 1.1, "fast": 6.0}
  },
  "claude-no-prices": {"litellm_provider": "anthropic", "mode": "chat"}
}"#;

#[test]
fn litellm_file_fills_gaps_and_never_overwrites_a_bundled_entry() {
    let mut t = PriceTable::bundled();
    let n = t.models.len();
    let applied = t.apply_text("litellm.json", LITELLM).unwrap();
    assert_eq!(
        applied.changed,
        vec!["claude-new-model-20270101".to_owned()]
    );
    assert_eq!(
        applied.kept,
        vec![
            "claude-3-haiku-20240307".to_owned(),
            "claude-sonnet-4-5-20250929".to_owned()
        ]
    );
    assert_eq!(t.models.len(), n + 1, "one model was new");
    // The bundled Sonnet 4.5 keeps its list price and its long-context tier.
    let s45 = t.lookup("claude-sonnet-4-5").unwrap();
    let p = t.model(s45).period_at(day(2026, 1, 1));
    assert_eq!(p.standard.as_array(), SONNET);
    assert_eq!(p.tiers[0].rates.as_array(), SONNET_LONG);
    // The new model: per-token prices per MTok, the bad 1h field ($12, 6x input) replaced by
    // 2x input, the
    // 200K tier and the multipliers LiteLLM gives; all of it marked secondary.
    let i = t.lookup("claude-new-model-20270101").unwrap();
    let m = t.model(i);
    let p = &m.prices[0];
    assert_eq!(p.standard.as_array(), [2.0, 2.5, 4.0, 0.2, 10.0]);
    assert_eq!(p.tiers[0].above_prompt_tokens, 200_000);
    assert_eq!(p.tiers[0].rates.input, 4.0);
    assert_eq!(p.tiers[0].rates.output, 15.0);
    assert_eq!(p.fast_multiplier, Some(6.0));
    assert_eq!(m.data_residency_multiplier, Some(1.1));
    assert_eq!(m.confidence, Confidence::Secondary);
    assert_eq!(
        t.lookup("gpt-4o"),
        None,
        "non-Anthropic entries are ignored"
    );
}

#[test]
fn litellm_file_without_anthropic_models_is_refused() {
    let mut t = PriceTable::bundled();
    let e = t
        .apply_text("x.json", r#"{"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}}"#)
        .unwrap_err();
    assert!(matches!(e, PriceError::Format(..)), "{e}");
    assert!(e.to_string().starts_with("x.json: not a price file"), "{e}");
    let e = t.apply_text("y.json", "not json at all").unwrap_err();
    assert!(e.to_string().starts_with("y.json: not a price file"), "{e}");
}

#[test]
fn first_version_override_files_still_apply() {
    let mut t = PriceTable::bundled();
    let file = r#"{
      "schema": "costlens-prices/1",
      "web_search_per_1k": 12.5,
      "models": [
        {"id": "claude-sonnet-4-5", "prices": [
          {"effective_from": "2026-01-01", "input": 2.0, "cache_write_5m": 2.5, "cache_write_1h": 4.0, "cache_read": 0.2, "output": 10.0,
           "long_context": {"input": 4.0, "cache_write_5m": 5.0, "cache_write_1h": 8.0, "cache_read": 0.4, "output": 15.0}}
        ]},
        {"id": "acme-llm-2", "display_names": ["Acme LLM 2"], "aliases": ["acme-2"], "family": "other",
         "fast_multiplier": 3.0, "prices": [
          {"effective_from": "2025-01-01", "input": 0.5, "cache_write_5m": 0.6, "cache_write_1h": 1.0, "cache_read": 0.05, "output": 2.0}
        ]}
      ],
      "map": {"my-proxy-haiku": "claude-haiku-4-5"}
    }"#;
    let applied = t.apply_text("mine.json", file).unwrap();
    assert_eq!(applied.changed.len(), 4, "{applied:?}");
    assert_eq!(t.web_search_per_1k, 12.5);
    let i = t.lookup("claude-sonnet-4-5-20250929").unwrap();
    let now = day(2026, 6, 1);
    assert_rates(
        one_mtok_each(&t, i, now, &standard_terms()),
        [2.0, 2.5, 4.0, 0.2, 10.0],
        "override",
    );
    // `long_context` is a tier above 200K.
    assert_rates(
        one_mtok_each(&t, i, now, &terms(Prompt::Tokens(200_001.0))),
        [4.0, 5.0, 8.0, 0.4, 15.0],
        "v1 long context",
    );
    // The entry keeps its names.
    assert_eq!(t.lookup("Claude Sonnet 4.5"), Some(i));
    let acme = t.lookup("acme-llm-2").unwrap();
    assert_eq!(t.lookup("Acme LLM 2"), Some(acme));
    assert_eq!(t.lookup("acme-2"), Some(acme));
    assert_eq!(t.lookup("my-proxy-haiku"), t.lookup("claude-haiku-4-5"));
    // A model-level fast multiplier applies to periods that set none.
    let c = cost::price(
        &t,
        acme,
        now,
        &Tokens {
            output: 1e6,
            ..Default::default()
        },
        4.0,
        &Terms {
            speed: Speed::Fast,
            ..standard_terms()
        },
    );
    assert_usd(
        c.total(),
        2.0 * 3.0 + 4.0 * 12.5 / 1000.0,
        "override priced",
    );
}

#[test]
fn a_user_price_file_expresses_a_dated_whole_request_tier() {
    // A made-up model billed at a 128K card from 2027-01-01 (with its own as_of, newer than
    // the bundled table).
    let file = r#"{
      "schema": "costlens-prices/2",
      "as_of": "2027-02-01",
      "models": [{"id": "claude-example-6", "display_names": ["Claude Example 6"], "family": "sonnet",
        "data_residency_multiplier": 1.1,
        "prices": [
          {"effective_from": "2026-12-15", "input": 2.0, "cache_write_5m": 2.5, "cache_write_1h": 4.0, "cache_read": 0.2, "output": 10.0},
          {"effective_from": "2027-01-01", "input": 2.0, "cache_write_5m": 2.5, "cache_write_1h": 4.0, "cache_read": 0.2, "output": 10.0,
           "fast_multiplier": 2.5,
           "tiers": [{"above_prompt_tokens": 128000, "input": 4.0, "output": 18.0}]}
        ]}]
    }"#;
    let mut t = PriceTable::bundled();
    t.apply_text("newer.json", file).unwrap();
    assert_eq!(t.as_of, NaiveDate::from_ymd_opt(2027, 2, 1).unwrap());
    assert_eq!(t.thresholds(), &[100_000, 128_000, 200_000]);
    let i = t.lookup("Claude Example 6").unwrap();
    let tokens = Tokens {
        uncached_input: 100_000.0,
        cache_read: 50_000.0,
        output: 2_000.0,
        ..Default::default()
    };
    let price = |time, prompt| cost::price(&t, i, time, &tokens, 0.0, &terms(prompt)).total();
    let standard = (100_000.0 * 2.0 + 50_000.0 * 0.2 + 2_000.0 * 10.0) / 1e6;
    // Cache prices left out follow the usual ratios of the tier's input: read 0.1 x $4.
    let tier = (100_000.0 * 4.0 + 50_000.0 * 0.4 + 2_000.0 * 18.0) / 1e6;
    assert_usd(
        price(day(2026, 12, 20), Prompt::Tokens(150_000.0)),
        standard,
        "before the tier",
    );
    assert_usd(
        price(day(2027, 1, 2), Prompt::Tokens(150_000.0)),
        tier,
        "over 128K",
    );
    assert_usd(
        price(day(2027, 1, 2), Prompt::Tokens(128_000.0)),
        standard,
        "at 128K",
    );
}

#[test]
fn nonsense_in_a_price_file_is_refused_with_the_reason() {
    let model = |prices: &str| format!(r#"{{"models": [{{"id": "x-1", "prices": [{prices}]}}]}}"#);
    let cases: &[(String, &str)] = &[
        (
            r#"{"models": [{"id": "x", "prices": []}]}"#.into(),
            "e.json: model \"x\" has no prices",
        ),
        (
            model(r#"{"effective_from": "2026-01-01", "input": -1.0, "output": 2.0}"#),
            "e.json: model \"x-1\" from 2026-01-01: input price -1 is not between 0 and 10000 USD per million tokens",
        ),
        (
            model(r#"{"effective_from": "2026-01-01", "input": 1e308, "output": 2.0}"#),
            "e.json: model \"x-1\" from 2026-01-01: input price 1e308 is not between 0 and 10000 USD per million tokens",
        ),
        (
            model(
                r#"{"effective_from": "2026-01-01", "input": 1.0, "output": 2.0, "fast_multiplier": 1e9}"#,
            ),
            "e.json: model \"x-1\" from 2026-01-01: fast_multiplier 1000000000 is not between 0.01 and 100",
        ),
        (
            model(
                r#"{"effective_from": "2026-01-01", "input": 1.0, "output": 2.0, "tiers": [{"above_prompt_tokens": 5, "input": 1.0, "output": -3.0}]}"#,
            ),
            "e.json: model \"x-1\" from 2026-01-01, tier above 5: output price -3 is not between 0 and 10000 USD per million tokens",
        ),
    ];
    for (file, want) in cases {
        let mut t = PriceTable::bundled();
        let e = t.apply_text("e.json", file).unwrap_err();
        assert_eq!(e.to_string(), *want);
        assert_eq!(t.lookup("x-1"), None, "a refused file changes nothing");
    }
    // More distinct tier thresholds than the aggregation can band on.
    let tiers: Vec<String> = (1..=9)
        .map(|k| {
            format!(
                r#"{{"above_prompt_tokens": {}, "input": 1.0, "output": 1.0}}"#,
                k * 1000
            )
        })
        .collect();
    let file = model(&format!(
        r#"{{"effective_from": "2026-01-01", "input": 1.0, "output": 2.0, "tiers": [{}]}}"#,
        tiers.join(",")
    ));
    let mut t = PriceTable::bundled();
    let e = t.apply_text("e.json", &file).unwrap_err();
    assert_eq!(
        e.to_string(),
        "e.json: the table would have 11 distinct tier thresholds; at most 8 are supported"
    );
    let e = t
        .apply_text("m.json", r#"{"models": [], "map": {"a": "no-such-model"}}"#)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "m.json: cannot map \"a\": \"no-such-model\" is not a priced model"
    );
}

#[test]
fn map_bills_an_unpriced_model_as_a_priced_one() {
    let mut t = PriceTable::bundled();
    assert_eq!(t.lookup("bedrock-sonnet"), None);
    t.map_model("bedrock-sonnet", "Claude Sonnet 4.5").unwrap();
    let i = t.lookup("bedrock-sonnet").unwrap();
    assert_eq!(Some(i), t.lookup("claude-sonnet-4-5-20250929"));
    assert_eq!(t.lookup("BEDROCK-SONNET"), Some(i));
    let c = cost::price(
        &t,
        i,
        day(2026, 1, 1),
        &Tokens {
            uncached_input: 1e6,
            output: 1e6,
            ..Default::default()
        },
        0.0,
        &standard_terms(),
    );
    assert_usd(c.total(), 3.0 + 15.0, "mapped model priced as Sonnet 4.5");
    let e = t.map_model("x", "gpt-4o").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot map \"x\": \"gpt-4o\" is not a priced model"
    );
    assert_eq!(t.lookup("x"), None);
}

#[test]
fn table_round_trips_through_its_file_format() {
    let t = PriceTable::bundled();
    let json = serde_json::to_string(&t.to_file()).unwrap();
    let mut u = PriceTable::bundled();
    u.apply_text("round.json", &json).unwrap();
    assert_eq!(t.models, u.models);
    assert_eq!(t.as_of, u.as_of);
}

#[test]
fn rates_without_cache_prices_follow_the_usual_ratios() {
    let r: Rates = serde_json::from_str(r#"{"input": 4.0, "output": 20.0}"#).unwrap();
    assert_eq!(r.as_array(), [4.0, 5.0, 8.0, 0.4, 20.0]);
}
