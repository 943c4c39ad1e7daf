//! The price table against `shared/docs/pricing.md`: every model, every category, the names a
//! model goes by, dated prices, LiteLLM and our own override files, and `map`.
//!
//! Every expected figure below is typed in from pricing.md, never read back from the table.

use chrono::{NaiveDate, TimeZone, Utc};
use costlens::cost::{self, Terms};
use costlens::prices::{PriceError, PriceTable, Rates};
use costlens::records::{Geo, Speed, Tier, Tokens};

/// Unix seconds of midnight UTC on a day.
fn day(y: i32, m: u32, d: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp()
}

/// A time at which every bundled model has been released.
fn now() -> i64 {
    day(2026, 6, 1)
}

fn assert_usd(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// One row of pricing.md's tables: names, then input, 5m write, 1h write, read, output.
struct Expected {
    id: &'static str,
    aliases: &'static [&'static str],
    display: &'static [&'static str],
    rates: [f64; 5],
    long: Option<[f64; 5]>,
}

const LONG: [f64; 5] = [6.0, 7.50, 12.0, 0.60, 22.50];

const EXPECTED: &[Expected] = &[
    Expected {
        id: "claude-opus-4-6",
        aliases: &[],
        display: &["Claude Opus 4.6"],
        rates: [5.0, 6.25, 10.0, 0.50, 25.0],
        long: None,
    },
    Expected {
        id: "claude-opus-4-5-20251101",
        aliases: &["claude-opus-4-5"],
        display: &["Claude Opus 4.5"],
        rates: [5.0, 6.25, 10.0, 0.50, 25.0],
        long: None,
    },
    Expected {
        id: "claude-opus-4-1-20250805",
        aliases: &["claude-opus-4-1"],
        display: &["Claude Opus 4.1"],
        rates: [15.0, 18.75, 30.0, 1.50, 75.0],
        long: None,
    },
    Expected {
        id: "claude-opus-4-20250514",
        aliases: &["claude-opus-4-0", "claude-4-opus-20250514"],
        display: &["Claude Opus 4"],
        rates: [15.0, 18.75, 30.0, 1.50, 75.0],
        long: None,
    },
    Expected {
        id: "claude-3-opus-20240229",
        aliases: &["claude-3-opus-latest"],
        display: &["Claude Opus 3"],
        rates: [15.0, 18.75, 30.0, 1.50, 75.0],
        long: None,
    },
    Expected {
        id: "claude-sonnet-4-6",
        aliases: &[],
        display: &["Claude Sonnet 4.6"],
        rates: [3.0, 3.75, 6.0, 0.30, 15.0],
        long: Some(LONG),
    },
    Expected {
        id: "claude-sonnet-4-5-20250929",
        aliases: &["claude-sonnet-4-5"],
        display: &["Claude Sonnet 4.5"],
        rates: [3.0, 3.75, 6.0, 0.30, 15.0],
        long: Some(LONG),
    },
    Expected {
        id: "claude-sonnet-4-20250514",
        aliases: &["claude-sonnet-4-0", "claude-4-sonnet-20250514"],
        display: &["Claude Sonnet 4"],
        rates: [3.0, 3.75, 6.0, 0.30, 15.0],
        long: Some(LONG),
    },
    Expected {
        id: "claude-3-7-sonnet-20250219",
        aliases: &["claude-3-7-sonnet-latest"],
        display: &["Claude Sonnet 3.7"],
        rates: [3.0, 3.75, 6.0, 0.30, 15.0],
        long: None,
    },
    Expected {
        id: "claude-3-5-sonnet-20241022",
        aliases: &["claude-3-5-sonnet-20240620", "claude-3-5-sonnet-latest"],
        display: &["Claude Sonnet 3.5"],
        rates: [3.0, 3.75, 6.0, 0.30, 15.0],
        long: None,
    },
    Expected {
        id: "claude-haiku-4-5-20251001",
        aliases: &["claude-haiku-4-5"],
        display: &["Claude Haiku 4.5"],
        rates: [1.0, 1.25, 2.0, 0.10, 5.0],
        long: None,
    },
    Expected {
        id: "claude-3-5-haiku-20241022",
        aliases: &["claude-3-5-haiku-latest"],
        display: &["Claude Haiku 3.5"],
        rates: [0.80, 1.00, 1.60, 0.08, 4.0],
        long: None,
    },
    Expected {
        id: "claude-3-haiku-20240307",
        aliases: &[],
        display: &["Claude Haiku 3"],
        rates: [0.25, 0.30, 0.50, 0.03, 1.25],
        long: None,
    },
];

fn rates_array(r: &Rates) -> [f64; 5] {
    [
        r.input,
        r.cache_write_5m,
        r.cache_write_1h,
        r.cache_read,
        r.output,
    ]
}

fn standard_terms() -> Terms {
    Terms {
        tier: Tier::Standard,
        long: false,
        geo: Geo::NotAvailable,
        speed: Speed::Standard,
    }
}

/// One million tokens of each category, priced: the dollar figure equals the per-MTok rate.
fn one_mtok_each(t: &PriceTable, model: usize, time: i64, terms: &Terms) -> [f64; 5] {
    let mut out = [0.0; 5];
    for (i, o) in out.iter_mut().enumerate() {
        let mut a = [0.0; 5];
        a[i] = 1e6;
        *o = cost::price(t, model, time, &Tokens::from_array(a), 0.0, terms).total();
    }
    out
}

#[test]
fn every_model_and_category_matches_pricing_md() {
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
        let p = t.model(i).period_at(now());
        assert_eq!(rates_array(&p.standard), e.rates, "{} rates", e.id);
        assert_eq!(
            p.long_context.as_ref().map(rates_array),
            e.long,
            "{} long-context rates",
            e.id
        );
        // Through the pricing function too: 1 MTok of a category costs its rate in dollars.
        let got = one_mtok_each(&t, i, now(), &standard_terms());
        for (c, (g, w)) in got.iter().zip(e.rates).enumerate() {
            assert_usd(*g, w, &format!("{} category {c}", e.id));
        }
        if let Some(long) = e.long {
            let terms = Terms {
                long: true,
                ..standard_terms()
            };
            let got = one_mtok_each(&t, i, now(), &terms);
            for (c, (g, w)) in got.iter().zip(long).enumerate() {
                assert_usd(*g, w, &format!("{} long category {c}", e.id));
            }
        }
    }
}

#[test]
fn aliases_dated_ids_and_display_names_resolve_to_one_entry() {
    let t = PriceTable::bundled();
    for e in EXPECTED {
        let i = t.lookup(e.id).unwrap();
        for name in e.aliases.iter().chain(e.display) {
            assert_eq!(t.lookup(name), Some(i), "{name} -> {}", e.id);
        }
        // Case and surrounding space do not matter; a provider prefix is ignored.
        assert_eq!(t.lookup(&e.id.to_ascii_uppercase()), Some(i));
        assert_eq!(t.lookup(&format!("  {}  ", e.id)), Some(i));
        assert_eq!(t.lookup(&format!("anthropic/{}", e.id)), Some(i));
    }
    // The Console's cost export also writes the older word order.
    let haiku3 = t.lookup("claude-3-haiku-20240307");
    assert_eq!(t.lookup("Claude 3 Haiku"), haiku3);
    assert_eq!(
        t.lookup("claude 3.5 sonnet"),
        t.lookup("claude-3-5-sonnet-20241022")
    );
}

#[test]
fn dated_suffix_is_stripped_only_as_a_fallback() {
    let t = PriceTable::bundled();
    // A snapshot date the table has never seen resolves through the alias.
    assert_eq!(
        t.lookup("claude-haiku-4-5-20991231"),
        t.lookup("claude-haiku-4-5-20251001")
    );
    assert_eq!(
        t.lookup("claude-sonnet-4-5-20260101"),
        t.lookup("claude-sonnet-4-5")
    );
    assert_eq!(
        t.lookup("claude-opus-4-1-20250101"),
        t.lookup("claude-opus-4-1")
    );
    assert_eq!(
        t.lookup("claude-sonnet-4-6-20260301"),
        t.lookup("claude-sonnet-4-6")
    );
    // Both Sonnet 3.5 snapshots are one entry (exact match, before any stripping).
    assert_eq!(
        t.lookup("claude-3-5-sonnet-20240620"),
        t.lookup("claude-3-5-sonnet-20241022")
    );
    // Only an 8-digit date is a dated suffix.
    assert_eq!(t.lookup("claude-haiku-4-5-2025"), None);
    assert_eq!(t.lookup("claude-haiku-4-5-beta"), None);
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
        "claude-2.1",
        "claude-instant-1.2",
        "sonnet",
        "<synthetic>",
    ] {
        assert_eq!(t.lookup(name), None, "{name:?}");
    }
}

#[test]
fn haiku_3_has_explicit_cache_prices_not_multipliers() {
    let t = PriceTable::bundled();
    let i = t.lookup("claude-3-haiku-20240307").unwrap();
    let r = &t.model(i).period_at(now()).standard;
    // The multipliers would give 0.3125 / 0.025; the list says 0.30 / 0.03 / 0.50.
    assert_eq!(
        (r.cache_write_5m, r.cache_read, r.cache_write_1h),
        (0.30, 0.03, 0.50)
    );
    let tokens = Tokens {
        uncached_input: 2_000_000.0,
        cache_write_5m: 1_000_000.0,
        cache_write_1h: 100_000.0,
        cache_read: 10_000_000.0,
        output: 400_000.0,
    };
    let c = cost::price(&t, i, now(), &tokens, 0.0, &standard_terms());
    // 2 x 0.25 + 1 x 0.30 + 0.1 x 0.50 + 10 x 0.03 + 0.4 x 1.25
    assert_usd(c.total(), 0.50 + 0.30 + 0.05 + 0.30 + 0.50, "Haiku 3 mix");
    assert_usd(c.cache_read, 0.30, "Haiku 3 reads");
}

#[test]
fn haiku_3_5_is_priced_by_the_date_of_use() {
    let t = PriceTable::bundled();
    let i = t.lookup("claude-3-5-haiku-latest").unwrap();
    let tokens = Tokens {
        uncached_input: 1e6,
        cache_write_5m: 1e6,
        cache_write_1h: 1e6,
        cache_read: 1e6,
        output: 1e6,
    };
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
    assert_usd(at(day(2025, 6, 1)), cut, "after the cut");
    // Usage dated before the first entry is priced at the first entry, not dropped.
    assert_usd(at(day(2024, 1, 1)), launch, "before launch");
    let dates: Vec<NaiveDate> = t.model(i).prices.iter().map(|p| p.effective_from).collect();
    assert!(
        dates.windows(2).all(|w| w[0] < w[1]),
        "periods oldest first: {dates:?}"
    );
}

#[test]
fn every_entry_has_an_effective_date_and_the_web_search_price() {
    let t = PriceTable::bundled();
    assert_eq!(t.web_search_per_1k, 10.0);
    for m in &t.models {
        assert!(!m.prices.is_empty(), "{}", m.id);
    }
    // Geo and speed multipliers live only on the models that have them.
    for m in &t.models {
        let is_46 = m.id == "claude-opus-4-6" || m.id == "claude-sonnet-4-6";
        assert_eq!(
            m.data_residency_multiplier,
            is_46.then_some(1.1),
            "{} geo",
            m.id
        );
        assert_eq!(
            m.fast_multiplier,
            (m.id == "claude-opus-4-6").then_some(6.0),
            "{} fast",
            m.id
        );
    }
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
  "claude-3-opus-20240229": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 1.5e-05, "output_cost_per_token": 7.5e-05,
    "cache_creation_input_token_cost": 1.875e-05, "cache_read_input_token_cost": 1.5e-06,
    "cache_creation_input_token_cost_above_1hr": 6e-06
  },
  "claude-sonnet-4-5-20250929": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 2.9e-06, "output_cost_per_token": 1.45e-05,
    "cache_creation_input_token_cost": 3.7e-06, "cache_read_input_token_cost": 2.9e-07,
    "cache_creation_input_token_cost_above_1hr": 5.8e-06,
    "input_cost_per_token_above_200k_tokens": 5.8e-06, "output_cost_per_token_above_200k_tokens": 2.2e-05,
    "cache_creation_input_token_cost_above_200k_tokens": 7.25e-06,
    "cache_read_input_token_cost_above_200k_tokens": 5.8e-07
  },
  "claude-new-model-20270101": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05
  },
  "claude-no-prices": {"litellm_provider": "anthropic", "mode": "chat"}
}"#;

#[test]
fn litellm_file_import_with_sanity_fallback() {
    let mut t = PriceTable::bundled();
    let n = t.models.len();
    let changed = t.apply_text("litellm.json", LITELLM).unwrap();
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert_eq!(t.models.len(), n + 1, "one model was new");
    let rates = |name: &str| {
        let i = t.lookup(name).unwrap_or_else(|| panic!("{name}"));
        let p = t.model(i).period_at(now()).clone();
        (
            rates_array(&p.standard),
            p.long_context.as_ref().map(rates_array),
        )
    };
    // Haiku 3: LiteLLM's 1h field (6e-06 = $6/MTok, 24x input) is a known bug; the 1h write is
    // 2x input ($0.50) everywhere Anthropic documents it.
    assert_eq!(
        rates("claude-3-haiku-20240307"),
        ([0.25, 0.30, 0.50, 0.03, 1.25], None)
    );
    // Opus 3: the same bad 6e-06 is lower than the 5m write: fallback to 2x input = $30.
    assert_eq!(
        rates("claude-3-opus-latest"),
        ([15.0, 18.75, 30.0, 1.50, 75.0], None)
    );
    // A plausible file (prices 3% off list) is taken as given, long-context fields included.
    assert_eq!(
        rates("claude-sonnet-4-5"),
        (
            [2.9, 3.7, 5.8, 0.29, 14.5],
            Some([5.8, 7.25, 11.6, 0.58, 22.0])
        )
    );
    // Missing cache fields follow the standard multipliers.
    assert_eq!(
        rates("claude-new-model-20270101"),
        ([2.0, 2.5, 4.0, 0.2, 10.0], None)
    );
    // Names the bundled entry already had still resolve to it after the override.
    assert_eq!(
        t.lookup("Claude Sonnet 4.5"),
        t.lookup("claude-sonnet-4-5-20250929")
    );
    // Non-Anthropic entries are ignored.
    assert_eq!(t.lookup("gpt-4o"), None);
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
fn own_override_format() {
    let mut t = PriceTable::bundled();
    let file = r#"{
      "schema": "costlens-prices/1",
      "web_search_per_1k": 12.5,
      "models": [
        {"id": "claude-sonnet-4-5", "prices": [
          {"effective_from": "2026-01-01", "input": 2.0, "cache_write_5m": 2.5, "cache_write_1h": 4.0, "cache_read": 0.2, "output": 10.0}
        ]},
        {"id": "acme-llm-2", "display_names": ["Acme LLM 2"], "aliases": ["acme-2"], "family": "other", "prices": [
          {"effective_from": "2025-01-01", "input": 0.5, "cache_write_5m": 0.6, "cache_write_1h": 1.0, "cache_read": 0.05, "output": 2.0}
        ]}
      ],
      "map": {"my-proxy-haiku": "claude-haiku-4-5"}
    }"#;
    let changed = t.apply_text("mine.json", file).unwrap();
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert_eq!(t.web_search_per_1k, 12.5);
    let i = t.lookup("claude-sonnet-4-5-20250929").unwrap();
    assert_eq!(
        rates_array(&t.model(i).period_at(now()).standard),
        [2.0, 2.5, 4.0, 0.2, 10.0]
    );
    // The override replaces the prices; the entry keeps its names.
    assert_eq!(t.lookup("Claude Sonnet 4.5"), Some(i));
    let acme = t.lookup("acme-llm-2").unwrap();
    assert_eq!(t.lookup("Acme LLM 2"), Some(acme));
    assert_eq!(t.lookup("acme-2"), Some(acme));
    assert_eq!(t.lookup("my-proxy-haiku"), t.lookup("claude-haiku-4-5"));
    let c = cost::price(
        &t,
        acme,
        now(),
        &Tokens {
            output: 1e6,
            ..Default::default()
        },
        4.0,
        &standard_terms(),
    );
    assert_usd(c.total(), 2.0 + 4.0 * 12.5 / 1000.0, "override priced");
}

#[test]
fn override_with_an_empty_price_list_or_a_bad_map_is_refused() {
    let mut t = PriceTable::bundled();
    let e = t
        .apply_text("e.json", r#"{"models": [{"id": "x", "prices": []}]}"#)
        .unwrap_err();
    assert_eq!(e.to_string(), "e.json: model \"x\" has no prices");
    let e = t
        .apply_text("m.json", r#"{"models": [], "map": {"a": "no-such-model"}}"#)
        .unwrap_err();
    assert!(matches!(e, PriceError::UnknownTarget(..)), "{e}");
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
        now(),
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
}
