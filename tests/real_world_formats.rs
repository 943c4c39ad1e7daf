//! Real-world file shapes (`shared/docs/formats.md`, the importer half of "Real-world
//! fidelity"): the Console's 2024 cost exports, Admin cost reports whose results carry only
//! an amount and a description, Messages API responses kept as pretty-printed JSON, JSON
//! arrays and captured SSE streams, the dating of files that carry no time, and the fields
//! real Claude Code logs carry.
//!
//! Every expected figure is written here by hand from the fixture's text (the fixtures under
//! `tests/fixtures/real_world/` were written for these tests), never computed by the code
//! under test.

use costlens::dataset::Dataset;
use costlens::import::cache::Cache;
use costlens::import::{
    self, BilledRow, Control, CostType, Format, Identity, Options, ParsedFile, detect_format,
};
use costlens::records::{Category, Geo, Speed, Tier, Tokens, UsageRecord};
use costlens::session::{self, Loaded};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real_world")
        .join(name)
}

fn parse_file(path: &Path, opts: &Options) -> ParsedFile {
    import::parse_path(path, opts, &Control::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn load(paths: &[PathBuf], opts: &Options) -> Loaded {
    session::load_with_cache(paths, opts, &Control::default(), &Cache::disabled())
}

fn rejected(p: &ParsedFile) -> Vec<String> {
    p.rejected.iter().map(|r| r.to_string()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn billed_total(rows: &[BilledRow]) -> f64 {
    rows.iter().map(|b| b.usd).sum()
}

/// Unix seconds of midnight UTC of a day.
fn day(y: i32, m: u32, d: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

fn tokens(a: [u64; 5]) -> Tokens<u64> {
    Tokens::from_array(a)
}

// --- Console cost CSV, 2024 variants ---------------------------------------------------------

/// (model, workspace, api key, tier, category, usd, rounding) of each billed row.
type Row = (String, String, String, Tier, Option<Category>, f64, f64);

fn rows(p: &ParsedFile) -> Vec<Row> {
    p.billed
        .iter()
        .map(|b| {
            (
                p.symbols.get(b.model).to_owned(),
                p.symbols.get(b.workspace).to_owned(),
                p.symbols.get(b.api_key).to_owned(),
                b.tier,
                b.category,
                b.usd,
                b.rounding_usd,
            )
        })
        .collect()
}

fn row(
    model: &str,
    ws: &str,
    key: &str,
    tier: Tier,
    c: Category,
    usd: f64,
    rounding: f64,
) -> Row {
    (
        model.into(),
        ws.into(),
        key.into(),
        tier,
        Some(c),
        usd,
        rounding,
    )
}

#[test]
fn console_cost_csv_2024_without_key_or_workspace() {
    let p = parse_file(&fixture("claude_api_cost_2024_03.csv"), &Options::default());
    assert_eq!(p.summary.format, "Console cost CSV");
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(p.summary.rows, 5);
    use Category::*;
    use Tier::Standard as S;
    assert_eq!(
        rows(&p),
        [
            row("Claude 3 Opus", "", "", S, UncachedInput, 1.25, 0.005),
            row("Claude 3 Opus", "", "", S, Output, 3.40, 0.005),
            row("Claude 3 Sonnet", "", "", S, UncachedInput, 0.0, 0.005),
            row("Claude 2", "", "", S, Output, 0.72, 0.005),
            row("Claude Instant", "", "", S, UncachedInput, 0.01, 0.005),
        ]
    );
    // 1.25 + 3.40 + 0.00 + 0.72 + 0.01
    assert!(close(billed_total(&p.billed), 5.38));
    assert_eq!(p.billed[0].time, day(2024, 3, 14));
    assert_eq!(p.billed[4].time, day(2024, 3, 15));
    for b in &p.billed {
        assert_eq!(b.cost_type, CostType::Tokens);
        assert!(!b.long_context);
        assert_eq!((b.geo, b.speed), (Geo::NotAvailable, Speed::Standard));
    }
}

#[test]
fn console_cost_csv_2024_with_key() {
    let p = parse_file(&fixture("claude_api_cost_2024_07.csv"), &Options::default());
    assert_eq!(rejected(&p), Vec::<String>::new());
    use Category::*;
    use Tier::{Batch as B, Standard as S};
    let sonnet = "Claude 3.5 Sonnet 2024-06-20";
    assert_eq!(
        rows(&p),
        [
            row(sonnet, "", "prod-key", S, UncachedInput, 2.10, 0.005),
            // `input_cache_write` has no TTL: a 5-minute write.
            row(sonnet, "", "prod-key", S, CacheWrite5m, 0.30, 0.005),
            row(sonnet, "", "prod-key", S, CacheRead, 0.02, 0.005),
            row("Claude 3 Haiku", "", "batch-key", B, Output, 0.45, 0.005),
            row("Claude 3 Haiku", "", "batch-key", B, UncachedInput, 0.0, 0.005),
        ]
    );
    // 2.10 + 0.30 + 0.02 + 0.45 + 0.00
    assert!(close(billed_total(&p.billed), 2.87));
}

#[test]
fn console_cost_csv_2024_with_workspace_and_key_bom_crlf() {
    let path = fixture("claude_api_cost_2024_10.csv");
    let p = parse_file(&path, &Options::default());
    assert_eq!(rejected(&p), Vec::<String>::new());
    use Category::*;
    use Tier::{Batch as B, Standard as S};
    let sonnet = "Claude 3.5 Sonnet 2024-10-22";
    assert_eq!(
        rows(&p),
        [
            // An empty workspace is the Default workspace, stored under that name.
            row(sonnet, "Default", "Stéphane", S, CacheWrite5m, 0.08, 0.005),
            row(sonnet, "Default", "Stéphane", S, CacheRead, 0.0, 0.005),
            // `12` has no decimals: it may be off by up to half a dollar.
            row(sonnet, "Research", "Stéphane", S, Output, 12.0, 0.5),
            row("Claude 3 Opus", "Research", "lab", B, UncachedInput, 0.75, 0.005),
            row("Claude 3 Opus", "Default", "lab", S, Output, 1.5, 0.05),
        ]
    );
    // 0.08 + 0.00 + 12 + 0.75 + 1.5
    assert!(close(billed_total(&p.billed), 14.33));
    assert_eq!(p.billed[3].time, day(2024, 10, 29));

    // The same export loaded twice counts once (row identity).
    let loaded = load(&[path.clone(), path], &Options::default());
    assert!(loaded.errors.is_empty());
    assert_eq!(loaded.data.billed.len(), 5);
    assert!(close(billed_total(&loaded.data.billed), 14.33));
    assert_eq!(loaded.data.files[1].duplicates, 5);
    assert_eq!(loaded.data.files[1].rows, 0);
}

#[test]
fn console_cost_csv_newer_columns_fill_the_billed_row() {
    let text = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed\n\
        2026-08-03,Claude Opus 4.6,,k,standard,> 200k,output,37.5,37.5,token,us,fast\n\
        2026-08-03,Claude Opus 4.6,W,k,priority,≤ 200k,,0.120000,0.12,web_search,global,\n\
        2026-08-03,Claude Opus 4.6,W,k,standard,≤ 200k,,2.5,2.5,code_execution,not_available,\n\
        2026-08-03,Claude Opus 4.6,W,k,standard,≤ 200k,,1,1,support_plan,,\n";
    let p = import::parse_bytes("cost.csv", text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(rejected(&p), Vec::<String>::new());
    let b = &p.billed;
    assert_eq!(b.len(), 4);
    assert_eq!(p.symbols.get(b[0].workspace), "Default");
    assert!(b[0].long_context && !b[1].long_context);
    assert_eq!((b[0].geo, b[0].speed), (Geo::Us, Speed::Fast));
    assert_eq!((b[1].geo, b[1].speed), (Geo::Global, Speed::Standard));
    assert_eq!(
        b.iter().map(|r| r.cost_type).collect::<Vec<_>>(),
        [
            CostType::Tokens,
            CostType::WebSearch,
            CostType::CodeExecution,
            CostType::Other
        ]
    );
    assert_eq!(b[1].tier, Tier::Priority);
    assert_eq!(
        b.iter().map(|r| r.rounding_usd).collect::<Vec<_>>(),
        [0.05, 0.000_000_5, 0.05, 0.5]
    );
}

// --- Admin API cost report: results with only an amount and a description ---------------------

#[test]
fn admin_cost_report_description_only_bills_every_result() {
    let p = parse_file(
        &fixture("admin_cost_description_only.json"),
        &Options::default(),
    );
    assert_eq!(p.summary.format, "Admin API cost report");
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(p.billed.len(), 3);
    // Amounts are cents: "2500" = $25.00, "12345" = $123.45, "5000" = $50.00.
    assert!(close(billed_total(&p.billed), 198.45));
    let b = &p.billed;
    assert_eq!((b[0].usd, b[1].usd, b[2].usd), (25.0, 123.45, 50.0));
    assert_eq!(
        (b[0].cost_type, b[0].category, p.symbols.get(b[0].model)),
        (CostType::WebSearch, None, "")
    );
    assert_eq!(
        (b[1].cost_type, b[1].category, p.symbols.get(b[1].model)),
        (
            CostType::Tokens,
            Some(Category::UncachedInput),
            "Claude Sonnet 4"
        )
    );
    assert_eq!(
        (b[2].cost_type, b[2].category, p.symbols.get(b[2].model)),
        (CostType::Tokens, Some(Category::Output), "Claude Sonnet 4")
    );
    // Whole cents: each amount may be off by half a cent.
    assert!(b.iter().all(|r| r.rounding_usd == 0.005));
    assert!(b.iter().all(|r| r.time == day(2025, 9, 1)));
    // Nothing was left unattributed.
    assert_eq!(p.summary.notes, Vec::<String>::new());
}

#[test]
fn admin_cost_report_descriptions_name_model_category_and_ttl() {
    let p = parse_file(&fixture("admin_cost_descriptions.json"), &Options::default());
    assert_eq!(rejected(&p), Vec::<String>::new());
    let got: Vec<(String, Option<Category>, CostType)> = p
        .billed
        .iter()
        .map(|b| (p.symbols.get(b.model).to_owned(), b.category, b.cost_type))
        .collect();
    use Category::*;
    let want: Vec<(String, Option<Category>, CostType)> = vec![
        ("Claude Sonnet 4.5".into(), Some(CacheWrite5m), CostType::Tokens),
        ("Claude Sonnet 4.5".into(), Some(CacheRead), CostType::Tokens),
        ("Claude Opus 4.1".into(), Some(CacheWrite1h), CostType::Tokens),
        ("claude haiku 3.5".into(), Some(CacheRead), CostType::Tokens),
        (String::new(), None, CostType::CodeExecution),
        (String::new(), None, CostType::Tokens),
        (String::new(), None, CostType::Other),
        ("claude-opus-4-6".into(), Some(Output), CostType::Tokens),
    ];
    assert_eq!(got, want);
    // Cents: 776.257875 + 381.72417 + 100 + 40 + 75 + 999 + 1 + 300.5 = 2673.482045.
    assert!(close(billed_total(&p.billed), 26.73482045));
    let b = &p.billed;
    assert_eq!(
        b.iter().map(|r| r.rounding_usd).collect::<Vec<_>>(),
        [
            0.000_000_005,
            0.000_000_05,
            0.005,
            0.005,
            0.005,
            0.005,
            0.005,
            0.000_5
        ]
    );
    // The grouped result's dimensions reach the billed row.
    let last = &b[7];
    assert!(last.long_context);
    assert_eq!((last.geo, last.speed), (Geo::Us, Speed::Fast));
    assert_eq!(p.symbols.get(last.workspace), "wrkspc_01");
    assert!(!b[0].long_context);
    assert_eq!(
        p.summary.notes,
        ["2 cost results were kept without a model or token type: neither their fields nor their description name one (descriptions such as \"Priority Tier Commitment\"); they count in the billed total but not by model or token type (save the report with group_by[]=description for both)"]
    );
}

#[test]
fn admin_cost_report_odd_values_keep_the_money() {
    let text = r#"{"data":[{"starting_at":"2026-01-05T00:00:00Z","ending_at":"2026-01-06T00:00:00Z","results":[
        {"amount":"10","currency":"USD","cost_type":"tokens","model":"claude-opus-5","token_type":"cache_creation.ephemeral_24h_input_tokens","service_tier":"turbo"},
        {"amount":20,"currency":"USD","cost_type":"tokens","model":"claude-opus-5","token_type":"output_tokens","inference_geo":"eu"}]}],"has_more":false}"#;
    let p = import::parse_bytes("cost.json", text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(p.billed.len(), 2);
    assert!(close(billed_total(&p.billed), 0.30));
    assert_eq!(p.billed[0].tier, Tier::Standard);
    assert_eq!(p.billed[0].category, None);
    assert_eq!(p.billed[1].geo, Geo::NotAvailable);
    assert_eq!(
        p.summary.notes,
        [
            "1 cost results were kept without a model or token type: neither their fields nor their description name one (they have no description); they count in the billed total but not by model or token type (save the report with group_by[]=description for both)",
            "2 cost results have values not understood (inference_geo \"eu\"; service_tier \"turbo\"; token_type \"cache_creation.ephemeral_24h_input_tokens\"): kept as billed money, shown as standard tier / no geo / standard speed / no token type"
        ]
    );
}

// --- Dating files that carry no time -----------------------------------------------------------

#[test]
fn batch_results_use_the_same_dating_rule() {
    let line = r#"{"custom_id":"r1","result":{"type":"succeeded","message":{"id":"msg_b1","model":"claude-haiku-4-5","usage":{"input_tokens":10,"output_tokens":4}}}}"#;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("batch.jsonl");
    std::fs::write(&f, format!("{line}\n")).unwrap();
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(day(2026, 10, 3) as u64);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let p = parse_file(&f, &Options::default());
    assert_eq!(p.records[0].0.time, day(2026, 10, 3));
    assert_eq!(p.records[0].0.tier, Tier::Batch);
    assert_eq!(p.summary.default_dated, 1);
    assert!(p.summary.notes.contains(
        &"1 results carry no time: dated 2026-10-03, the file's modification date; give --date YYYY-MM-DD to set another".to_owned()
    ));
    let p = import::parse_bytes("b.jsonl", line.as_bytes(), &Options::default()).unwrap();
    assert_eq!(
        rejected(&p),
        ["b.jsonl:1: Message Batches results carry no date and none was given (--date)"]
    );
}
