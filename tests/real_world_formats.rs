//! Real-world file shapes (`shared/docs/formats.md`, the importer half of "Real-world
//! fidelity"): the Console's 2024 cost exports, Admin cost reports whose results carry only
//! an amount and a description, Messages API responses kept as pretty-printed JSON, JSON
//! arrays and captured SSE streams, the dating of files that carry no time, and the fields
//! real Claude Code logs carry.
//!
//! Every expected figure is written here by hand from the fixture's text (the fixtures under
//! `tests/fixtures/real_world/` were written for these tests), never computed by the code
//! under test.

use costlens::domain::dataset::Dataset;
use costlens::domain::records::{Category, Geo, Speed, Tier, Tokens, UsageRecord};
use costlens::import::{
    self, BilledRow, Control, CostType, Format, Identity, Options, ParsedFile, detect_format,
};
use costlens::pipeline::load::{self, Loaded};
use costlens::store::cache::Cache;
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
    load::load_with_cache(paths, opts, &Control::default(), &Cache::disabled())
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

fn row(model: &str, ws: &str, key: &str, tier: Tier, c: Category, usd: f64, rounding: f64) -> Row {
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
            row(
                "Claude 3 Haiku",
                "",
                "batch-key",
                B,
                UncachedInput,
                0.0,
                0.005
            ),
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
            row(
                "Claude 3 Opus",
                "Research",
                "lab",
                B,
                UncachedInput,
                0.75,
                0.005
            ),
            row("Claude 3 Opus", "Default", "lab", S, Output, 1.5, 0.05),
        ]
    );
    // 0.08 + 0.00 + 12 + 0.75 + 1.5
    assert!(close(billed_total(&p.billed), 14.33));
    assert_eq!(p.billed[3].time, day(2024, 10, 29));

    // The same export loaded twice is read once.
    let loaded = load(&[path.clone(), path], &Options::default());
    assert!(loaded.errors.is_empty());
    assert_eq!(loaded.data.billed.len(), 5);
    assert!(close(billed_total(&loaded.data.billed), 14.33));
    assert_eq!(loaded.data.files.len(), 1);
    assert_eq!(loaded.data.notes.len(), 1);
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
    assert_eq!(
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        Vec::<String>::new()
    );
}

#[test]
fn admin_cost_report_descriptions_name_model_category_and_ttl() {
    let p = parse_file(
        &fixture("admin_cost_descriptions.json"),
        &Options::default(),
    );
    assert_eq!(rejected(&p), Vec::<String>::new());
    let got: Vec<(String, Option<Category>, CostType)> = p
        .billed
        .iter()
        .map(|b| (p.symbols.get(b.model).to_owned(), b.category, b.cost_type))
        .collect();
    use Category::*;
    let want: Vec<(String, Option<Category>, CostType)> = vec![
        (
            "Claude Sonnet 4.5".into(),
            Some(CacheWrite5m),
            CostType::Tokens,
        ),
        (
            "Claude Sonnet 4.5".into(),
            Some(CacheRead),
            CostType::Tokens,
        ),
        (
            "Claude Opus 4.1".into(),
            Some(CacheWrite1h),
            CostType::Tokens,
        ),
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
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        [
            "2 cost results were kept without a model or token type: neither their fields nor their description name one (descriptions such as \"Priority Tier Commitment\"); they count in the billed total but not by model or token type (save the report with group_by[]=description for both)"
        ]
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
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        [
            "1 cost results were kept without a model or token type: neither their fields nor their description name one (they have no description); they count in the billed total but not by model or token type (save the report with group_by[]=description for both)",
            "2 cost results have values not understood (inference_geo \"eu\"; service_tier \"turbo\"; token_type \"cache_creation.ephemeral_24h_input_tokens\"): kept as billed money, shown as standard tier / no geo / standard speed / no token type"
        ]
    );
}

#[test]
fn admin_cost_descriptions_are_read_liberally() {
    let results = [
        ("Claude Sonnet 4 Usage - Input Tokens (Long Context)", "10"),
        ("CLAUDE OPUS 4 USAGE - OUTPUT TOKENS", "20"),
        ("Claude Haiku 3 Usage - Cache Creation, 1h", "30"),
        ("Claude Haiku 3 Usage - Prompt Caching Write", "40"),
        ("Claude Sonnet 3.7 Usage - Input Tokens, Cached Read", "50"),
        ("Claude Opus 4.1 - Output Tokens", "60"),
        ("Usage - Input Tokens", "70"),
    ];
    let items: Vec<String> = results
        .iter()
        .map(|(d, a)| format!(r#"{{"amount":"{a}","currency":"USD","description":"{d}"}}"#))
        .collect();
    let text = format!(
        r#"{{"data":[{{"starting_at":"2025-09-01T00:00:00Z","ending_at":"2025-09-02T00:00:00Z","results":[{}]}}],"has_more":false}}"#,
        items.join(",")
    );
    let p = import::parse_bytes("d.json", text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(rejected(&p), Vec::<String>::new());
    let got: Vec<(&str, Option<Category>, bool)> = p
        .billed
        .iter()
        .map(|b| (p.symbols.get(b.model), b.category, b.long_context))
        .collect();
    use Category::*;
    assert_eq!(
        got,
        [
            ("Claude Sonnet 4", Some(UncachedInput), true),
            ("CLAUDE OPUS 4", Some(Output), false),
            ("Claude Haiku 3", Some(CacheWrite1h), false),
            ("Claude Haiku 3", Some(CacheWrite5m), false),
            ("Claude Sonnet 3.7", Some(CacheRead), false),
            ("Claude Opus 4.1", Some(Output), false),
            // A category without a model: kept, unattributed, and counted in the note.
            ("", Some(UncachedInput), false),
        ]
    );
    // 10 + 20 + ... + 70 cents.
    assert!(close(billed_total(&p.billed), 2.80));
    assert!(p.billed.iter().all(|b| b.cost_type == CostType::Tokens));
    assert_eq!(p.summary.notes.len(), 1);
    assert!(
        p.summary.notes[0].starts_with("1 cost results were kept without a model or token type")
    );
}

// --- Messages API responses as users keep them -------------------------------------------------

fn record_tokens(p: &ParsedFile) -> Vec<Tokens<u64>> {
    p.records.iter().map(|(r, _)| r.tokens).collect()
}

fn models(p: &ParsedFile) -> Vec<&str> {
    p.records
        .iter()
        .map(|(r, _)| p.symbols.get(r.model))
        .collect()
}

fn given(y: i32, m: u32, d: u32) -> Options {
    Options {
        date: Some(day(y, m, d)),
        ..Options::default()
    }
}

#[test]
fn a_pretty_printed_message_json_is_one_response() {
    let path = fixture("message_pretty.json");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(detect_format(&bytes), Ok(Format::MessagesJson));
    let p = parse_file(&path, &given(2026, 10, 3));
    assert_eq!(p.summary.format, "Messages API responses (JSON)");
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(p.summary.rows, 1);
    // input 25; cache writes 200 (5m) + 1000 (1h); reads 3000; output 150.
    assert_eq!(record_tokens(&p), [tokens([25, 200, 1000, 3000, 150])]);
    let r = &p.records[0].0;
    assert_eq!(models(&p), ["claude-sonnet-4-5-20250929"]);
    assert_eq!(
        (r.tier, r.geo, r.speed),
        (Tier::Standard, Geo::Global, Speed::Standard)
    );
    // Web fetches are free and not counted; searches are.
    assert_eq!(r.web_search, 2);
    assert_eq!(r.time, day(2026, 10, 3));
    assert!(matches!(p.records[0].1, Identity::Message { .. }));
    assert_eq!(p.summary.default_dated, 1);
    assert_eq!(
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        ["1 responses carry no time: dated 2026-10-03 (the date given)"]
    );
    // In memory, without a date, it cannot be placed in time: rejected with the reason.
    let p = import::parse_bytes("message_pretty.json", &bytes, &Options::default()).unwrap();
    assert_eq!(
        rejected(&p),
        ["message_pretty.json:1: no timestamp field (timestamp, created_at or time)"]
    );
    assert!(p.records.is_empty());
}

#[test]
fn concatenated_pretty_messages_are_several_responses() {
    let p = parse_file(&fixture("messages_concatenated.json"), &given(2026, 10, 3));
    assert_eq!(p.summary.format, "Messages API responses (JSON)");
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(models(&p), ["claude-opus-4-6", "claude-haiku-4-5"]);
    // The second gives its 40 cache-write tokens without a 5m/1h split: 5-minute writes.
    assert_eq!(
        record_tokens(&p),
        [tokens([10, 0, 0, 0, 20]), tokens([7, 40, 0, 0, 3])]
    );
    let r = &p.records[0].0;
    assert_eq!((r.geo, r.speed), (Geo::Us, Speed::Fast));
    assert!(p.summary.notes.contains(&std::sync::Arc::<str>::from(
        "2 responses carry no time: dated 2026-10-03 (the date given)".to_owned()
    )));
    assert!(
        p.summary.notes.iter().any(|n| n.starts_with(
            "1 lines give cache writes only as cache_creation_input_tokens"
        ))
    );
}

#[test]
fn a_json_array_of_log_shapes() {
    let path = fixture("messages_array.json");
    assert_eq!(
        detect_format(&std::fs::read(&path).unwrap()),
        Ok(Format::MessagesJson)
    );
    // Some responses carry a time: the one without is rejected, as in a JSONL log, even
    // though the file has a modification date.
    let p = parse_file(&path, &Options::default());
    let name = path.display().to_string();
    assert_eq!(
        rejected(&p),
        [
            format!("{name}:12: no timestamp field (timestamp, created_at or time)"),
            format!("{name}:13: not a response: a number, not an object"),
        ]
    );
    assert_eq!(
        models(&p),
        ["claude-haiku-4-5", "claude-haiku-4-5", "claude-sonnet-4-5"]
    );
    let times: Vec<i64> = p.records.iter().map(|(r, _)| r.time).collect();
    let d = day(2026, 5, 4);
    assert_eq!(times, [d + 10 * 3600, d + 11 * 3600, d + 12 * 3600]);
    assert_eq!(
        record_tokens(&p),
        [
            tokens([100, 0, 0, 0, 10]),
            tokens([5, 0, 0, 0, 6]),
            tokens([1, 0, 0, 0, 2])
        ]
    );
    // The wrapper and the Message have ids; the flat record has none.
    assert!(matches!(p.records[0].1, Identity::Message { .. }));
    assert_eq!(p.records[1].1, Identity::None);
    assert_eq!(
        (p.summary.rows, p.summary.skipped, p.summary.rejected),
        (3, 1, 2)
    );
    assert_eq!(p.summary.default_dated, 0);
    // A one-line array is a JSON document too.
    assert_eq!(
        detect_format(br#"[{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":2}}]"#),
        Ok(Format::MessagesJson)
    );
}

#[test]
fn a_broken_json_document_keeps_the_responses_before_the_error() {
    let text = "[\n  {\"id\":\"m1\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}},\n  {\"id\":\"m2\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":\"many\"}},\n  {\"id\":\"m3\",\n   \"model\": oops}\n]\n";
    let p = import::parse_bytes("saved.json", text.as_bytes(), &given(2026, 1, 2)).unwrap();
    assert_eq!(p.summary.format, "Messages API responses (JSON)");
    assert_eq!(
        rejected(&p),
        [
            "saved.json:3: usage.input_tokens: invalid type: string \"many\", expected u64",
            "saved.json:5: not valid JSON: expected value (the responses before it were imported)"
        ]
    );
    assert_eq!(record_tokens(&p), [tokens([1, 0, 0, 0, 1])]);
}

#[test]
fn an_sse_stream_with_two_messages_and_an_error_stream() {
    let path = fixture("stream_two_messages.txt");
    assert_eq!(
        detect_format(&std::fs::read(&path).unwrap()),
        Ok(Format::MessagesSse)
    );
    let p = parse_file(&path, &given(2026, 10, 3));
    assert_eq!(p.summary.format, "Messages API stream (SSE)");
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(
        models(&p),
        ["claude-sonnet-4-5-20250929", "claude-opus-4-6"]
    );
    assert_eq!(
        record_tokens(&p),
        [
            // message_start: 12 in, 500 5m writes, 8000 reads, output 1; message_delta: 345 out.
            tokens([12, 500, 0, 8000, 345]),
            // No `event:` lines; the delta carries every count and the 1h split: they replace
            // the start's (0 writes, output 1).
            tokens([3, 0, 1500, 20000, 88]),
        ]
    );
    let (a, b) = (&p.records[0].0, &p.records[1].0);
    assert_eq!(
        (a.geo, a.speed, a.web_search),
        (Geo::NotAvailable, Speed::Standard, 0)
    );
    assert_eq!((b.geo, b.speed, b.web_search), (Geo::Us, Speed::Fast, 1));
    assert!(p.records.iter().all(|(r, _)| r.time == day(2026, 10, 3)));
    assert_eq!((p.summary.rows, p.summary.skipped), (2, 1));
    assert_eq!(
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        [
            "2 responses carry no time: dated 2026-10-03 (the date given)",
            "1 streams ended in an error event (not billed) and were skipped"
        ]
    );
    // The same response saved as a stream and as JSON counts once.
    let json = r#"{"id":"msg_sse1","type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":12,"output_tokens":345}}"#;
    let d = Dataset::merge(
        [
            p,
            import::parse_bytes("same.json", json.as_bytes(), &given(2026, 10, 3)).unwrap(),
        ],
        Default::default(),
    );
    assert_eq!(d.records.len(), 2);

    // In memory without a date: each stream is rejected on its message_start line.
    let bytes = std::fs::read(&path).unwrap();
    let p = import::parse_bytes("s.txt", &bytes, &Options::default()).unwrap();
    let why = "a captured stream carries no time and no date was given (--date)";
    assert_eq!(
        rejected(&p),
        [format!("s.txt:2: {why}"), format!("s.txt:28: {why}")]
    );
}

#[test]
fn sse_streams_cut_off_or_broken_are_reported_on_their_lines() {
    let text = "event: message_delta\n\
        data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}\n\
        \n\
        event: message_start\n\
        data: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\n\
        \n\
        event: content_block_delta\n\
        data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"cut\n\
        \n\
        event: message_start\n\
        data: {\"type\":\"message_start\",\"message\":{\"id\":\"m2\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":6,\"output_tokens\":1}}}\n\
        event: message_delta\n\
        data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":70}}\n";
    let p = import::parse_bytes("cut.sse", text.as_bytes(), &given(2026, 2, 1)).unwrap();
    assert_eq!(p.summary.format, "Messages API stream (SSE)");
    assert_eq!(
        rejected(&p),
        [
            "cut.sse:2: message_delta without a message_start before it",
            "cut.sse:5: the stream ends before its final usage (message_delta): cut off?",
            "cut.sse:8: not valid JSON: the line ends early (truncated?)",
        ]
    );
    // The last stream has its final usage though no message_stop: imported.
    assert_eq!(record_tokens(&p), [tokens([6, 0, 0, 0, 70])]);
}

// --- Dating files that carry no time -----------------------------------------------------------

/// Copies fixtures into a temporary folder, each file's modification time set to
/// 2026-10-03 15:20 UTC.
fn copies_dated_2026_10_03(names: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mtime = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs((day(2026, 10, 3) + 15 * 3600 + 20 * 60) as u64);
    let paths = names
        .iter()
        .map(|n| {
            let p = dir.path().join(n);
            std::fs::copy(fixture(n), &p).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(mtime).unwrap();
            p
        })
        .collect();
    (dir, paths)
}

const UNDATED: [&str; 3] = [
    "messages_no_timestamps.jsonl",
    "message_pretty.json",
    "stream_two_messages.txt",
];

#[test]
fn undated_files_take_the_file_date_and_say_so() {
    let (_dir, paths) = copies_dated_2026_10_03(&UNDATED);
    let loaded = load(&paths, &Options::default());
    assert!(loaded.errors.is_empty());
    let d = &loaded.data;
    assert!(d.rejected.is_empty(), "{:?}", d.rejected);
    // 2 log lines (the third is an error line) + 1 saved response + 2 streamed responses.
    assert_eq!(d.records.len(), 5);
    assert!(d.records.iter().all(|r| r.time == day(2026, 10, 3)));
    let note = |n: u64| {
        format!(
            "{n} responses carry no time: dated 2026-10-03, the file's modification date; give --date YYYY-MM-DD to set another"
        )
    };
    let f = &d.files;
    assert_eq!(f[0].format, "Messages API log");
    assert!(
        f[0].notes.contains(&std::sync::Arc::<str>::from(note(2))),
        "{:?}",
        f[0].notes
    );
    assert_eq!((f[0].rows, f[0].skipped, f[0].default_dated), (2, 1, 2));
    assert!(
        f[1].notes.contains(&std::sync::Arc::<str>::from(note(1))),
        "{:?}",
        f[1].notes
    );
    assert!(
        f[2].notes.contains(&std::sync::Arc::<str>::from(note(2))),
        "{:?}",
        f[2].notes
    );
    assert_eq!(f[2].default_dated, 2);
    // The log's tokens: 11 + 33 in, 55 read, 22 + 44 out.
    let log: Vec<UsageRecord> = d.records.iter().take(2).collect();
    assert_eq!(log[0].tokens, tokens([11, 0, 0, 0, 22]));
    assert_eq!(log[1].tokens, tokens([33, 0, 0, 55, 44]));
}

#[test]
fn a_given_date_wins_over_the_file_date() {
    let (_dir, paths) = copies_dated_2026_10_03(&UNDATED);
    let loaded = load(&paths, &given(2026, 11, 5));
    let d = &loaded.data;
    assert!(d.rejected.is_empty());
    assert_eq!(d.records.len(), 5);
    assert!(d.records.iter().all(|r| r.time == day(2026, 11, 5)));
    for (f, n) in d.files.iter().zip([2, 1, 2]) {
        assert!(
            f.notes.contains(&std::sync::Arc::<str>::from(format!(
                "{n} responses carry no time: dated 2026-11-05 (the date given)"
            ))),
            "{:?}",
            f.notes
        );
    }
}

#[test]
fn undated_log_lines_in_memory_or_next_to_dated_ones_are_rejected() {
    let bytes = std::fs::read(fixture("messages_no_timestamps.jsonl")).unwrap();
    // In memory, no date given: rejected with the reason they always had.
    let p = import::parse_bytes("log.jsonl", &bytes, &Options::default()).unwrap();
    let why = "no timestamp field (timestamp, created_at or time)";
    assert_eq!(
        rejected(&p),
        [format!("log.jsonl:1: {why}"), format!("log.jsonl:2: {why}")]
    );
    assert!(p.records.is_empty());
    assert!(
        p.summary.notes.iter().any(|n| n.starts_with(
            "no response of this file has a time and no date was given, so nothing was imported"
        )),
        "{:?}",
        p.summary.notes
    );
    // In memory with a date given: dated by it.
    let p = import::parse_bytes("log.jsonl", &bytes, &given(2026, 4, 1)).unwrap();
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(p.records.len(), 2);
    assert!(p.records.iter().all(|(r, _)| r.time == day(2026, 4, 1)));
    // One line with a time: the others are still rejected, date given or not.
    let mixed = format!(
        "{}{{\"timestamp\":\"2026-04-02T08:00:00Z\",\"id\":\"msg_t\",\"model\":\"claude-haiku-4-5\",\"usage\":{{\"input_tokens\":1,\"output_tokens\":1}}}}\n",
        String::from_utf8(bytes).unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mixed.jsonl");
    std::fs::write(&f, &mixed).unwrap();
    for opts in [Options::default(), given(2026, 4, 1)] {
        let p = parse_file(&f, &opts);
        let name = f.display().to_string();
        assert_eq!(
            rejected(&p),
            [format!("{name}:1: {why}"), format!("{name}:2: {why}")]
        );
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].0.time, day(2026, 4, 2) + 8 * 3600);
        assert_eq!(p.summary.default_dated, 0);
    }
}

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
        &std::sync::Arc::<str>::from("1 results carry no time: dated 2026-10-03, the file's modification date; give --date YYYY-MM-DD to set another".to_owned())));
    let p = import::parse_bytes("b.jsonl", line.as_bytes(), &Options::default()).unwrap();
    assert_eq!(
        rejected(&p),
        ["b.jsonl:1: Message Batches results carry no date and none was given (--date)"]
    );
}

// --- Claude Code: the fields real logs carry ---------------------------------------------------

#[test]
fn a_claude_code_tree_imports_every_line_with_usage() {
    let root = fixture("claude-code/projects");
    let loaded = load(&[root], &Options::default());
    assert!(loaded.errors.is_empty());
    assert!(loaded.unrecognised_in_folders.is_empty());
    let d = &loaded.data;
    assert_eq!(d.rejected, vec![]);
    // Files in path order: the session's subagent folder, the session, and the old sidechain
    // file `agent-3f2a.jsonl` beside the session.
    let files: Vec<(&str, u64, u64, u64)> = d
        .files
        .iter()
        .map(|f| {
            (
                f.path.rsplit('/').next().unwrap(),
                f.rows,
                f.skipped,
                f.duplicates,
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("agent-9d1.jsonl", 1, 0, 0),
            ("7c1d2e3f-0000-4000-8000-000000000001.jsonl", 5, 3, 1),
            ("agent-3f2a.jsonl", 1, 0, 0),
        ]
    );
    let got: Vec<(&str, Tier, Geo, Speed, Tokens<u64>)> = d
        .records
        .iter()
        .map(|r| (d.symbols.get(r.model), r.tier, r.geo, r.speed, r.tokens))
        .collect();
    use Geo::{Global, NotAvailable as NA, Us};
    use Speed::{Fast, Standard as Std};
    use Tier::{Priority, Standard};
    assert_eq!(
        got,
        [
            (
                "claude-haiku-4-5-20251001",
                Standard,
                NA,
                Std,
                tokens([8, 0, 0, 0, 9])
            ),
            // Two lines of one response: the larger output (900, not 450) is kept; the model
            // keeps its `[1m]` suffix; `iterations: []` and `output_tokens_details` are read
            // past.
            (
                "claude-opus-4-6[1m]",
                Standard,
                NA,
                Fast,
                tokens([4, 0, 30000, 250000, 900])
            ),
            // service_tier null, cache_creation null, an `iterations` array with its own
            // counts (not added: the top-level counts are the totals), `fallback_credit`.
            (
                "claude-sonnet-4-5-20250929",
                Standard,
                Us,
                Std,
                tokens([10, 0, 0, 0, 50])
            ),
            // service_tier "auto" and "standard_only": billed at the standard tier.
            (
                "claude-haiku-4-5-20251001",
                Standard,
                NA,
                Std,
                tokens([100, 0, 0, 0, 20])
            ),
            (
                "claude-haiku-4-5-20251001",
                Standard,
                Global,
                Std,
                tokens([200, 0, 0, 0, 30])
            ),
            // priority kept; geo "eu-west" and speed "turbo" not understood: standard.
            (
                "claude-opus-4-6",
                Priority,
                NA,
                Std,
                tokens([1, 0, 0, 0, 1])
            ),
            (
                "claude-sonnet-4-5-20250929",
                Standard,
                NA,
                Std,
                tokens([5, 0, 0, 7, 6])
            ),
        ]
    );
    // Every record belongs to the project its lines' cwd names (/home/u/shop, the home
    // folder written ~), the old sidechain file's included.
    assert!(
        d.records
            .iter()
            .all(|r| d.symbols.get(r.project) == "~/shop")
    );
    let notes = &d.files[1].notes;
    for n in [
        "2 lines have service_tier \"auto\" (1), \"standard_only\" (1), not batch or priority: billed at the standard tier",
        "1 lines have inference_geo \"eu-west\" (1), not understood: priced as global",
        "1 lines have speed \"turbo\" (1), not understood: priced at standard speed",
    ] {
        assert!(
            notes.contains(&std::sync::Arc::<str>::from(n.to_owned())),
            "{n} not in {notes:?}"
        );
    }
}

#[test]
fn claude_code_lines_with_unknown_nested_usage_objects_parse() {
    let line = r#"{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/w","sessionId":"s1","version":"2.1.200","type":"assistant","requestId":"req_1","message":{"id":"msg_1","type":"message","model":"claude-fable-5-2[1m]","content":[],"usage":{"input_tokens":3,"cache_creation_input_tokens":100,"cache_read_input_tokens":900,"output_tokens":40,"output_tokens_details":{"thinking_tokens":12},"server_tool_use":{"web_search_requests":3,"web_fetch_requests":1,"code_execution_requests":2},"service_tier":"standard","cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":100,"future_cache":{"nested":[1,2,{"deep":true}]}},"inference_geo":"us","iterations":[{"input_tokens":3,"output_tokens":40,"cache_creation":{"ephemeral_5m_input_tokens":100},"type":"message"},{"type":"compaction","summary":{"tokens":5}}],"speed":"fast","new_counter":{"a":{"b":[null,"x"]}}}},"uuid":"u","timestamp":"2026-11-20T10:00:00.000Z"}"#;
    let p = import::parse_bytes(
        "projects/-w/s1.jsonl",
        format!("{line}\n").as_bytes(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(rejected(&p), Vec::<String>::new());
    assert_eq!(record_tokens(&p), [tokens([3, 100, 0, 900, 40])]);
    let r = &p.records[0].0;
    assert_eq!(models(&p), ["claude-fable-5-2[1m]"]);
    assert_eq!((r.geo, r.speed, r.web_search), (Geo::Us, Speed::Fast, 3));
    assert_eq!(
        p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
        Vec::<String>::new()
    );
}

// --- The CLI ------------------------------------------------------------------------------------

#[cfg(feature = "gui")]
mod cli {
    use super::{close, fixture};
    use serde_json::Value;
    use std::process::{Command, Output};

    fn costlens(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_costlens"))
            .env("COSTLENS_NO_HISTORY", "1")
            .args(args)
            .env("COSTLENS_NO_CACHE", "1")
            .output()
            .expect("the binary runs")
    }

    fn json(args: &[&str]) -> Value {
        let o = costlens(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).expect("JSON")
    }

    fn path(name: &str) -> String {
        fixture(name).display().to_string()
    }

    #[test]
    fn report_bills_the_2024_cost_exports_and_the_description_only_report() {
        let files = [
            "claude_api_cost_2024_03.csv",
            "claude_api_cost_2024_07.csv",
            "claude_api_cost_2024_10.csv",
            "admin_cost_description_only.json",
        ]
        .map(path);
        let mut args = vec!["report", "--json"];
        args.extend(files.iter().map(String::as_str));
        let r = json(&args);
        assert_eq!(r["rejected"], serde_json::json!([]));
        let rows: Vec<u64> = (r["files"].as_array().unwrap().iter())
            .map(|f| f["rows"].as_u64().unwrap())
            .collect();
        assert_eq!(rows, [5, 5, 5, 3]);
        // 5.38 + 2.87 + 14.33 (the cost CSVs) + 198.45 (the Admin report).
        let billed = r["billed_usd"].as_f64().unwrap();
        assert!(close(billed, 221.03), "{billed}");
    }

    #[test]
    fn date_flag_and_its_batch_date_alias() {
        let stream = path("stream_two_messages.txt");
        for flag in ["--date", "--batch-date"] {
            let r = json(&["report", &stream, flag, "2026-10-03", "--json"]);
            let f = &r["files"][0];
            assert_eq!(f["format"], "Messages API stream (SSE)");
            assert_eq!(
                (f["rows"].as_u64(), f["skipped"].as_u64()),
                (Some(2), Some(1))
            );
            assert_eq!(f["default_dated"], 2);
            assert_eq!(
                f["notes"][0],
                "2 responses carry no time: dated 2026-10-03 (the date given)"
            );
            let periods: Vec<&str> = (r["series"].as_array().unwrap().iter())
                .map(|p| p["period"].as_str().unwrap())
                .collect();
            assert_eq!(periods, ["2026-10-03"]);
            // 12 + 3 uncached, 500 5m writes, 1500 1h writes, 8000 + 20000 reads, 345 + 88 out.
            assert_eq!(
                r["tokens"],
                serde_json::json!({"uncached_input": 15, "cache_write_5m": 500,
                    "cache_write_1h": 1500, "cache_read": 28000, "output": 433})
            );
        }
        let o = costlens(&["report", &stream, "--date", "03/10/2026"]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "costlens: --date wants a day YYYY-MM-DD from 2000 to 2099, got \"03/10/2026\""
        );
        let help = String::from_utf8(costlens(&["report", "--help"]).stdout).unwrap();
        assert!(
            help.contains("Date for files that carry none (batch results, saved responses)"),
            "{help}"
        );
        let help = String::from_utf8(costlens(&["export", "--help"]).stdout).unwrap();
        assert!(help.contains("--date <YYYY-MM-DD>"), "{help}");
    }
}
