//! The billed series (cost exports) follows the same filters as the usage, so a filtered view
//! reconciles against the part of the bill it covers.

use costlens::domain::prices::PriceTable;
use costlens::engine::cube::prompt_length_grid;
use costlens::engine::scenario::Levers;
use costlens::engine::view::{Filter, ViewSpec};
use costlens::import::Options;
use costlens::pipeline::load::{Analysis, load};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data");

/// Sum of `cost_usd` in the sample cost export over rows matching `keep`, read independently.
fn billed_where(keep: impl Fn(&csv::StringRecord) -> bool) -> f64 {
    let mut r =
        csv::Reader::from_path(format!("{DIR}/claude_api_cost_2026_08-10.csv")).expect("open");
    let h = r.headers().expect("header").clone();
    let cost = h.iter().position(|x| x == "cost_usd").expect("cost_usd");
    r.records()
        .map(|x| x.expect("row"))
        .filter(|x| keep(x))
        .map(|x| x[cost].parse::<f64>().expect("number"))
        .sum()
}

fn analysis() -> Analysis {
    let files = vec![
        format!("{DIR}/claude_api_tokens_2026_08-10.csv").into(),
        format!("{DIR}/claude_api_cost_2026_08-10.csv").into(),
    ];
    let loaded = load(&files, &Options::default(), &Default::default());
    assert!(loaded.errors.is_empty());
    Analysis::new(loaded.data, PriceTable::bundled(), &prompt_length_grid())
}

#[test]
fn model_and_workspace_filters_apply_to_the_bill() {
    let a = analysis();
    let spec = ViewSpec {
        filter: Filter {
            models: vec!["Claude Haiku 3".into()],
            workspaces: vec!["Support Bot".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let view = a.view(&spec);
    let billed: f64 = view.billed.as_ref().expect("billed series").iter().sum();
    let expected = billed_where(|r| &r[1] == "Claude Haiku 3" && &r[2] == "Support Bot");
    assert!(expected > 1.0);
    assert!((billed - expected).abs() < 1e-6, "{billed} vs {expected}");
    // And the recomputed cost of the same slice matches its bill to the cent.
    let ev = view.evaluate(
        &a.table,
        &Levers::default().resolve(&a.table).expect("levers"),
    );
    assert!(
        (ev.actual - billed).abs() < 0.01,
        "{} vs {billed}",
        ev.actual
    );
}

#[test]
fn unfiltered_bill_is_the_whole_cost_export() {
    let a = analysis();
    let view = a.view(&ViewSpec::default());
    let billed: f64 = view.billed.as_ref().expect("billed").iter().sum();
    assert!((billed - billed_where(|_| true)).abs() < 1e-6);
}
