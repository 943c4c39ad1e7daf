//! The Console CSV importers (`shared/docs/formats.md` sections 1 and 2): both header
//! versions, hourly rows, BOM and CRLF, the context-window labels, and every bad line reported
//! as `file:line: reason` while the rest is imported.

use chrono::{TimeZone, Utc};
use costlens::domain::records::{Bucket, Category, Context, Geo, Speed, Tier, Tokens, UsageRecord};
use costlens::import::{self, ImportError, Options, ParsedFile, console_cost, console_usage};

const NEW_HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count,inference_geo,speed";
const OLD_HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count";
const COST_HEADER: &str = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed,api_key_id,api_key_status";

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .timestamp()
}

fn parse(name: &str, text: &str) -> ParsedFile {
    import::parse_bytes(name, text.as_bytes(), &Options::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn rejected(p: &ParsedFile) -> Vec<String> {
    p.rejected.iter().map(|r| r.to_string()).collect()
}

fn records(p: &ParsedFile) -> Vec<UsageRecord> {
    p.records.iter().map(|(r, _)| *r).collect()
}

fn tokens(a: [u64; 5]) -> Tokens<u64> {
    Tokens::from_array(a)
}

/// Joins lines with `eol`, a BOM in front when asked.
fn file(lines: &[&str], eol: &str, bom: bool) -> String {
    let mut s = String::new();
    if bom {
        s.push('\u{feff}');
    }
    for l in lines {
        s.push_str(l);
        s.push_str(eol);
    }
    s
}

#[test]
fn newer_header_daily_and_hourly_rows() {
    for (eol, bom) in [("\n", false), ("\r\n", true), ("\r\n", false), ("\n", true)] {
        let text = file(
            &[
                NEW_HEADER,
                "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,1000,200,300,4000,500,2,not_available,",
                "2026-03-31 02:00,claude-haiku-4-5-20251001,super,Default,batch,> 200k,1124832,0,0,0,254558,0,global,",
                "2026-03-31 23:00,claude-opus-4-6,k,Research,priority,200k-1M,1,2,3,4,5,0,us,fast",
            ],
            eol,
            bom,
        );
        let p = parse("new.csv", &text);
        assert_eq!(rejected(&p), Vec::<String>::new(), "eol {eol:?} bom {bom}");
        assert_eq!(p.summary.rows, 3);
        assert_eq!(p.summary.format, "Console usage CSV");
        let r = records(&p);
        assert_eq!(r.len(), 3);
        let s = &p.symbols;
        assert_eq!(s.get(r[0].model), "claude-sonnet-4-5-20250929");
        assert_eq!(s.get(r[0].api_key), "prod-api");
        assert_eq!(s.get(r[0].workspace), "Default");
        assert_eq!(
            (r[0].time, r[0].bucket),
            (at(2026, 3, 30, 0, 0), Bucket::Day)
        );
        assert_eq!(r[0].tier, Tier::Standard);
        assert_eq!(r[0].context, Context::Flag(false));
        assert_eq!(r[0].tokens, tokens([1000, 200, 300, 4000, 500]));
        assert_eq!(r[0].web_search, 2);
        assert_eq!((r[0].geo, r[0].speed), (Geo::NotAvailable, Speed::Standard));

        assert_eq!(
            (r[1].time, r[1].bucket),
            (at(2026, 3, 31, 2, 0), Bucket::Hour)
        );
        assert_eq!(r[1].tier, Tier::Batch);
        assert_eq!(r[1].context, Context::Flag(true), "> 200k is long context");
        assert_eq!(r[1].tokens, tokens([1_124_832, 0, 0, 0, 254_558]));
        assert_eq!(r[1].geo, Geo::Global);

        assert_eq!(
            (r[2].time, r[2].bucket),
            (at(2026, 3, 31, 23, 0), Bucket::Hour)
        );
        assert_eq!(r[2].tier, Tier::Priority);
        assert_eq!(r[2].context, Context::Flag(true), "200k-1M is long context");
        assert_eq!((r[2].geo, r[2].speed), (Geo::Us, Speed::Fast));
        // The last line's value is read whether or not the file ends with a line break.
        assert_eq!(s.get(r[2].workspace), "Research");
    }
}

#[test]
fn older_header_without_context_geo_speed() {
    let text = file(
        &[
            OLD_HEADER,
            "2025-06-12,claude-3-5-haiku-20241022,claude_code_key_user_abc,Claude Code,standard,8,0,0,0,1,0",
            "2025-06-13,claude-3-5-haiku-20241022,claude_code_key_user_abc,Claude Code,batch,10,20,30,40,50,6",
        ],
        "\r\n",
        true,
    );
    let p = parse("old.csv", &text);
    assert_eq!(rejected(&p), Vec::<String>::new());
    let r = records(&p);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].tokens, tokens([8, 0, 0, 0, 1]));
    assert_eq!(r[0].context, Context::Flag(false));
    assert_eq!((r[0].geo, r[0].speed), (Geo::NotAvailable, Speed::Standard));
    assert_eq!(p.symbols.get(r[0].workspace), "Claude Code");
    assert_eq!(r[1].tokens, tokens([10, 20, 30, 40, 50]));
    assert_eq!((r[1].tier, r[1].web_search), (Tier::Batch, 6));
}

#[test]
fn columns_are_found_by_name_in_any_order_with_extra_columns() {
    let text = file(
        &[
            "extra,usage_output_tokens,usage_input_tokens_cache_read,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_write_5m,usage_input_tokens_no_cache,usage_type,workspace,api_key,model_version,usage_date_utc,more",
            "x,5,4,3,2,1,standard,W,K,claude-haiku-4-5,2026-01-02,y",
        ],
        "\n",
        false,
    );
    let p = parse("shuffled.csv", &text);
    assert_eq!(rejected(&p), Vec::<String>::new());
    let r = records(&p);
    assert_eq!(r[0].tokens, tokens([1, 2, 3, 4, 5]));
    assert_eq!(p.symbols.get(r[0].model), "claude-haiku-4-5");
    assert_eq!(p.symbols.get(r[0].api_key), "K");
    assert_eq!(r[0].time, at(2026, 1, 2, 0, 0));
}

#[test]
fn context_window_labels() {
    for (label, long) in [
        ("≤ 200k", false),
        ("≤200k", false),
        ("<= 200k", false),
        ("0-200k", false),
        ("", false),
        ("> 200k", true),
        ("200k-1M", true),
        ("> 200K", true),
        ("200k-1m", true),
    ] {
        assert_eq!(
            costlens::import::values::context_label(label).map(|l| l.is_long()),
            Ok(long),
            "{label:?}"
        );
    }
    // A label that is none of these is refused, never guessed.
    for label in ["N/A", "-", "big", "1M"] {
        assert_eq!(
            costlens::import::values::context_label(label),
            Err(format!(
                "context_window: unknown label {label:?} (expected ≤ 200k, 0-200k, > 200k or 200k-1M)"
            )),
        );
    }
}

#[test]
fn every_bad_line_is_reported_and_the_rest_imported() {
    let good = "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,not_available,";
    let lines = [
        NEW_HEADER,                                               // 1
        good,                                                     // 2
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default", // 3 short
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,abc,0,0,0,5,0,not_available,", // 4
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,-5,0,not_available,", // 5
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,18446744073709551616,5,0,not_available,", // 6
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,gold,≤ 200k,10,0,0,0,5,0,not_available,", // 7
        "12/06/2025,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,not_available,", // 8
        "2026-03-30,,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,not_available,", // 9
        "2026-02-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,not_available,", // 10
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,12.5,0,0,0,5,0,not_available,", // 11
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,mars,", // 12
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,not_available,turbo", // 13
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,x1,not_available,", // 14
        "2026-03-30 25:00,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k,10,0,0,0,5,0,not_available,", // 15
        "2026-03-31 01:00,claude-haiku-4-5,prod-api,Default,batch,≤ 200k,12.0,0,0,4000000,7,0,not_available,", // 16 good
        "", // 17 blank
        "2026-03-30,claude-sonnet-4-5-20250929,prod-api,Default,standard,≤ 200k, 1 000,0,0,0,5,0,not_available,", // 18
        "2026-04-01,claude-opus-4-6,prod-api,Default,standard,≤ 200k,1,2,3,4,5,6,us,fast,,", // 19 good (trailing commas)
        "2026-03-31,claude-haiku-4-5,prod-api,Default,batch,≤ 200k,1,0,0,18446744073709551615,7,0,not_available,", // 20 u64::MAX
        "2026-04-01,claude-opus-4-6,prod-api,Default,standard,≤ 200k,1,2,3,4,5,6,us,fast,unexpected,extra", // 21
    ];
    let text = file(&lines, "\r\n", true);
    let p = parse("claude_api_tokens_2026_03.csv", &text);
    let f = "claude_api_tokens_2026_03.csv";
    let want: Vec<String> = [
        (3, "expected 14 columns, found 4".to_owned()),
        (4, "usage_input_tokens_no_cache: not a whole number: \"abc\"".into()),
        (5, "usage_output_tokens: negative count -5".into()),
        (6, "usage_input_tokens_cache_read: number too large (18446744073709551616)".into()),
        (7, "usage_type: unknown service tier \"gold\"".into()),
        (8, "usage_date_utc: not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM): \"12/06/2025\"".into()),
        (9, "model_version is empty".into()),
        (10, "usage_date_utc: not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM): \"2026-02-30\"".into()),
        (11, "usage_input_tokens_no_cache: not a whole number: \"12.5\"".into()),
        (12, "inference_geo: unknown value \"mars\"".into()),
        (13, "speed: unknown value \"turbo\"".into()),
        (14, "web_search_count: not a whole number: \"x1\"".into()),
        (15, "usage_date_utc: not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM): \"2026-03-30 25:00\"".into()),
        (18, "usage_input_tokens_no_cache: not a whole number: \"1 000\"".into()),
        // u64::MAX tokens fit the type, not a row ($55 trillion once).
        (20, "18,446,744,073,709,551,615 tokens of cache read are more than one row can hold (at most 10,000,000,000,000)".into()),
        // Extra fields that are not empty shift every column: a decimal comma, say.
        (21, "expected 14 columns, found 16 (a number written with a decimal comma, like 3,75, splits its field in two)".into()),
    ]
    .into_iter()
    .map(|(l, r)| format!("{f}:{l}: {r}"))
    .collect();
    assert_eq!(rejected(&p), want);
    assert_eq!(p.summary.rejected, want.len() as u64);
    let r = records(&p);
    assert_eq!(r.len(), 3, "lines 2, 16 and 19 are imported");
    assert_eq!(p.summary.rows, 3);
    assert_eq!(r[0].tokens, tokens([10, 0, 0, 0, 5]));
    // `12.0` is a whole number.
    assert_eq!(r[1].tokens, tokens([12, 0, 0, 4_000_000, 7]));
    assert_eq!((r[1].bucket, r[1].tier), (Bucket::Hour, Tier::Batch));
    assert_eq!(r[2].tokens, tokens([1, 2, 3, 4, 5]));
}

#[test]
fn non_utf8_field_is_rejected_with_its_line() {
    let mut bytes = format!("{NEW_HEADER}\n").into_bytes();
    bytes.extend_from_slice(b"2026-03-30,claude-\xff,k,W,standard,,1,0,0,0,1,0,,\n");
    bytes.extend_from_slice("2026-03-30,claude-haiku-4-5,k,W,standard,,1,0,0,0,1,0,,\n".as_bytes());
    let p = import::parse_bytes("bin.csv", &bytes, &Options::default()).unwrap();
    assert_eq!(
        rejected(&p),
        vec!["bin.csv:2: model_version: not valid UTF-8".to_owned()]
    );
    assert_eq!(p.records.len(), 1);
}

#[test]
fn header_without_a_required_column_is_one_rejection() {
    let text = file(
        &[
            "usage_date_utc,model_version,usage_type,usage_input_tokens_no_cache,usage_output_tokens",
            "2026-03-30,claude-haiku-4-5,standard,1,2",
        ],
        "\n",
        false,
    );
    let p = parse("partial.csv", &text);
    assert_eq!(
        rejected(&p),
        vec!["partial.csv:1: header has no usage_input_tokens_cache_write_5m column".to_owned()]
    );
    assert!(p.records.is_empty());
}

#[test]
fn only_a_header_imports_nothing_and_says_so() {
    for text in [
        format!("{NEW_HEADER}\n"),
        format!("\u{feff}{NEW_HEADER}\r\n\r\n"),
        NEW_HEADER.to_owned(),
    ] {
        let p = parse("header.csv", &text);
        assert!(p.records.is_empty());
        assert!(p.rejected.is_empty());
        assert_eq!(
            p.summary.notes.iter().map(|n| &**n).collect::<Vec<&str>>(),
            vec!["only a header: no usage rows".to_owned()]
        );
    }
}

#[test]
fn empty_or_foreign_files_are_refused_as_a_whole() {
    let refuse =
        |name: &str, bytes: &[u8]| match import::parse_bytes(name, bytes, &Options::default()) {
            Err(ImportError::Unrecognised(n, why)) => {
                assert_eq!(n, name);
                why
            }
            Err(e) => panic!("{name}: unexpected error {e}"),
            Ok(p) => panic!("{name}: imported {} rows", p.records.len()),
        };
    assert_eq!(refuse("empty.csv", b""), "the file is empty");
    assert_eq!(
        refuse("blank.csv", b"\xEF\xBB\xBF \r\n\n"),
        "the file is empty"
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    assert!(refuse("chart.png", png).starts_with("this is a PNG image, not a usage export"));
    assert!(refuse("a.zip", b"PK\x03\x04rest").starts_with("this is a ZIP archive"));
    assert!(refuse("blob.bin", b"abc\0def").starts_with("this is a binary file"));
    let why = refuse(
        "notes.txt",
        b"Dear diary,\ntoday I spent too much on tokens.\n",
    );
    assert!(why.starts_with("not a recognised usage file"), "{why}");
    assert!(why.ends_with("the first line is \"Dear diary,\""), "{why}");
    // The error message names the file.
    let e = import::parse_bytes("notes.txt", b"hello\n", &Options::default()).unwrap_err();
    assert!(e.to_string().starts_with("notes.txt: "), "{e}");
}

#[test]
fn the_importers_themselves_report_an_empty_input_at_line_1() {
    let p = console_usage::parse("u.csv", &b""[..]);
    assert_eq!(rejected(&p), vec!["u.csv:1: the file is empty".to_owned()]);
    let p = console_cost::parse("c.csv", &b""[..]);
    assert_eq!(rejected(&p), vec!["c.csv:1: the file is empty".to_owned()]);
}

#[test]
fn cost_export_every_header_variant() {
    let full = COST_HEADER;
    let no_key_id = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed";
    let no_list = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,cost_type,inference_geo,speed";
    let minimal =
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd";
    let rows = |header: &str| -> String {
        let extra = header.split(',').count() - 8;
        let tail = ["1.5", "token", "not_available", "", "apikey_01", "active"];
        let tail: Vec<&str> = if header.contains("list_price_usd") {
            tail[..extra].to_vec()
        } else {
            tail[1..=extra].to_vec()
        };
        let suffix = if tail.is_empty() {
            String::new()
        } else {
            format!(",{}", tail.join(","))
        };
        file(
            &[
                header,
                &format!(
                    "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,input_no_cache,4.406652{suffix}"
                ),
                &format!(
                    "2026-08-03,Claude Sonnet 4.5,Default,prod-api,batch,≤ 200k,output,0.25{suffix}"
                ),
                &format!(
                    "2026-08-04 13:00,Claude Haiku 3,Support Bot,support-prod,standard,≤ 200k,input_cache_write_1h,0.000001{suffix}"
                ),
            ],
            "\r\n",
            true,
        )
    };
    for h in [full, no_key_id, no_list, minimal] {
        let p = parse("claude_api_cost.csv", &rows(h));
        assert_eq!(rejected(&p), Vec::<String>::new(), "{h}");
        assert_eq!(p.summary.format, "Console cost CSV");
        assert!(p.records.is_empty(), "a cost export has no usage rows");
        let b = &p.billed;
        assert_eq!(b.len(), 3, "{h}");
        assert_eq!(p.symbols.get(b[0].model), "Claude Sonnet 4.5");
        assert_eq!(p.symbols.get(b[2].workspace), "Support Bot");
        assert_eq!(p.symbols.get(b[2].api_key), "support-prod");
        assert_eq!(
            (b[0].time, b[0].tier, b[0].category, b[0].usd),
            (
                at(2026, 8, 3, 0, 0),
                Tier::Standard,
                Some(Category::UncachedInput),
                4.406652
            )
        );
        assert_eq!(
            (b[1].tier, b[1].category, b[1].usd),
            (Tier::Batch, Some(Category::Output), 0.25)
        );
        assert_eq!(
            (b[2].time, b[2].category, b[2].usd),
            (
                at(2026, 8, 4, 13, 0),
                Some(Category::CacheWrite1h),
                0.000001
            )
        );
    }
}

#[test]
fn cost_export_bad_lines() {
    let lines = [
        COST_HEADER, // 1
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,input_cache_read,1.599320,1.599320,token,not_available,,apikey_1,active", // 2
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard", // 3
        "08/03/2026,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,output,1.0,1.0,token,not_available,,apikey_1,active", // 4
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,output,$1.00,1.0,token,not_available,,apikey_1,active", // 5
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,output,1e400,1.0,token,not_available,,apikey_1,active", // 6
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,gold,≤ 200k,output,1.0,1.0,token,not_available,,apikey_1,active", // 7
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,input_magic,1.0,1.0,token,not_available,,apikey_1,active", // 8
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,,0.12,0.12,web_search,not_available,,apikey_1,active", // 9 good
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,output,-0.5,-0.5,token,not_available,,apikey_1,active", // 10 good (a credit)
        "2026-08-03,Claude Sonnet 4.5,Default,prod-api,standard,≤ 200k,output,,,token,not_available,,apikey_1,active", // 11
    ];
    let p = parse("cost.csv", &file(&lines, "\n", false));
    let want: Vec<String> = [
        (3, "expected 14 columns, found 5"),
        (4, "usage_date_utc: not a date: \"08/03/2026\""),
        (5, "cost_usd: not a number: \"$1.00\""),
        (
            6,
            "cost_usd: \"1e400\" is not a plausible amount (at most $1,000,000,000 a row)",
        ),
        (7, "usage_type: unknown service tier \"gold\""),
        (8, "token_type: unknown value \"input_magic\""),
        (11, "cost_usd: not a number: \"\""),
    ]
    .into_iter()
    .map(|(l, r)| format!("cost.csv:{l}: {r}"))
    .collect();
    assert_eq!(rejected(&p), want);
    let b = &p.billed;
    assert_eq!(b.len(), 3);
    assert_eq!(
        (b[0].category, b[0].usd),
        (Some(Category::CacheRead), 1.59932)
    );
    assert_eq!(
        (b[1].category, b[1].usd),
        (None, 0.12),
        "web search has no token category"
    );
    assert_eq!(b[2].usd, -0.5);
}

#[test]
fn sample_data_imports_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let usage = std::fs::read(dir.join("claude_api_tokens_2026_08-10.csv")).unwrap();
    let p = import::parse_bytes("tokens.csv", &usage, &Options::default()).unwrap();
    assert!(p.rejected.is_empty());
    let lines = usage
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(p.records.len(), lines - 1);
    assert_eq!(
        records(&p)
            .iter()
            .filter(|r| r.context == Context::Flag(true))
            .count(),
        3
    );
    let cost = std::fs::read(dir.join("claude_api_cost_2026_08-10.csv")).unwrap();
    let c = import::parse_bytes("cost.csv", &cost, &Options::default()).unwrap();
    assert!(c.rejected.is_empty());
    let lines = cost
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(c.billed.len(), lines - 1);
}

#[test]
fn quoted_fields_and_line_numbers_after_them() {
    let text = file(
        &[
            NEW_HEADER,
            "2026-03-30,claude-haiku-4-5,\"key, with comma\",\"Work\"\"space\"\"\",standard,≤ 200k,1,0,0,0,2,0,not_available,", // 2
            "2026-03-30,claude-haiku-4-5,\"multi", // 3
            "line key\",W,standard,≤ 200k,3,0,0,0,4,0,not_available,", // 4
            "2026-03-30,claude-haiku-4-5,k,W,gold,≤ 200k,1,0,0,0,2,0,not_available,", // 5
            "\"2026-03-31\",\"claude-haiku-4-5\",\"k\",\"W\",\"batch\",\"≤ 200k\",\"5\",\"0\",\"0\",\"0\",\"6\",\"0\",\"\",\"\"", // 6
            "2026-03-30,claude-haiku-4-5,k,W,standard,≤ 200k,1,0,0,0,2,0,not_available,\"never closed", // 7
            "2026-03-30,claude-haiku-4-5,k,W,standard,≤ 200k,7,0,0,0,8,0,not_available,", // 8
            "",                                                                           // 9
            "2026-03-30,claude-haiku-4-5,k,W,standard,≤ 200k,9,0,0,0,10,0,not_available,", // 10
        ],
        "\r\n",
        false,
    );
    let p = parse("quoted.csv", &text);
    assert_eq!(
        rejected(&p),
        vec![
            "quoted.csv:5: usage_type: unknown service tier \"gold\"".to_owned(),
            "quoted.csv:7: a quoted field is never closed".to_owned(),
        ]
    );
    let r = records(&p);
    // The line with the quote never closed is rejected alone: the lines after it import.
    assert_eq!(r.len(), 5);
    assert_eq!(p.summary.rows, 5);
    assert_eq!(r[3].tokens, tokens([7, 0, 0, 0, 8]));
    assert_eq!(r[4].tokens, tokens([9, 0, 0, 0, 10]));
    assert_eq!(p.symbols.get(r[0].api_key), "key, with comma");
    assert_eq!(p.symbols.get(r[0].workspace), "Work\"space\"");
    assert_eq!(p.symbols.get(r[1].api_key), "multi\r\nline key");
    assert_eq!(r[1].tokens, tokens([3, 0, 0, 0, 4]));
    assert_eq!(
        (r[2].tier, r[2].tokens),
        (Tier::Batch, tokens([5, 0, 0, 0, 6]))
    );
}

/// Quotes that never pair up, on every line: each line is rejected on its own, and reading
/// stays linear (a first version searched from every line to the end of the file again,
/// which took minutes on a few MB of such lines).
#[test]
fn lines_of_unpaired_quotes_are_each_rejected() {
    let n = 5_000;
    let good = "2026-03-30,claude-haiku-4-5,k,W,standard,≤ 200k,1,0,0,0,2,0,not_available,";
    let mut lines = vec![NEW_HEADER, good];
    lines.extend(std::iter::repeat_n("a\",\"a", n));
    lines.push(good);
    let p = parse("quotes.csv", &file(&lines, "\n", false));
    let r = rejected(&p);
    // Every line is counted; the first 100 are kept as examples.
    assert_eq!(p.rejected_total, n as u64);
    assert_eq!(p.summary.rejected, n as u64);
    assert_eq!(
        p.rejected_kinds.get("a quoted field is never closed"),
        Some(&(n as u64))
    );
    assert_eq!(r.len(), costlens::import::MAX_REJECTED_EXAMPLES);
    assert_eq!(r[0], "quotes.csv:3: a quoted field is never closed");
    assert_eq!(
        r[99],
        format!("quotes.csv:{}: a quoted field is never closed", 102)
    );
    // The good rows on either side are imported.
    assert_eq!(p.summary.rows, 2);
}

#[test]
fn cost_export_line_numbers_with_crlf_bom_and_blank_lines() {
    let row = "2026-08-03,Claude Haiku 4.5,Default,prod-api,standard,≤ 200k,output,0.5,0.5,token,not_available,,apikey_1,active";
    let bad = "2026-08-03,Claude Haiku 4.5,Default,prod-api,standard,≤ 200k,output,abc,0.5,token,not_available,,apikey_1,active";
    let p = parse(
        "cost.csv",
        &file(
            &[COST_HEADER, row, "", "", bad, row, "  ", bad],
            "\r\n",
            true,
        ),
    );
    assert_eq!(
        rejected(&p),
        vec![
            "cost.csv:5: cost_usd: not a number: \"abc\"".to_owned(),
            "cost.csv:8: cost_usd: not a number: \"abc\"".to_owned(),
        ]
    );
    assert_eq!(p.billed.len(), 2);
}

/// A body large enough to be parsed in pieces on several threads.
/// Also returns the bad rows as (line, row index); blank lines are sprinkled in.
fn big_file(rows: usize, bad_every: usize) -> (String, Vec<(usize, usize)>) {
    let mut s = format!("\u{feff}{NEW_HEADER}\r\n");
    let mut bad = Vec::new();
    let mut line = 1;
    for i in 0..rows {
        if i % 7_919 == 100 {
            s.push_str(if i % 2 == 0 { "\r\n" } else { "   \r\n" });
            line += 1;
        }
        line += 1;
        if i % bad_every == bad_every - 1 {
            bad.push((line, i));
            s.push_str(&format!("2026-01-01 {:02}:00,claude-haiku-4-5,key-{},W,standard,≤ 200k,x{i},0,0,0,1,0,not_available,\r\n", i % 24, i % 7));
        } else {
            s.push_str(&format!(
                "2026-01-{:02} {:02}:00,{},key-{},W{},{},≤ 200k,{i},{},0,{},1,0,not_available,\r\n",
                1 + i % 28,
                i % 24,
                ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"][i % 3],
                i % 7,
                i % 5,
                if i % 4 == 0 { "batch" } else { "standard" },
                i % 11,
                i % 13
            ));
        }
    }
    (s, bad)
}

#[test]
fn a_large_file_parsed_in_pieces_matches_a_single_pass() {
    let (text, bad) = big_file(60_000, 9_973);
    assert!(
        text.len() > 4 << 20,
        "large enough to be split: {}",
        text.len()
    );
    let p = parse("big.csv", &text);
    let want: Vec<String> = bad
        .iter()
        .map(|&(l, i)| {
            format!("big.csv:{l}: usage_input_tokens_no_cache: not a whole number: \"x{i}\"")
        })
        .collect();
    assert_eq!(rejected(&p), want);
    assert_eq!(p.records.len(), 60_000 - bad.len());
    // A quote anywhere makes the importer read the file in one pass: the same rows come out.
    let quoted = text.replacen(",W0,", ",\"W0\",", 1);
    let q = parse("big.csv", &quoted);
    assert_eq!(rejected(&q), want);
    assert_eq!(q.records.len(), p.records.len());
    for ((a, ia), (b, ib)) in p.records.iter().zip(&q.records) {
        assert_eq!(ia, ib);
        assert_eq!(
            (a.time, a.tier, a.tokens, a.context),
            (b.time, b.tier, b.tokens, b.context)
        );
        assert_eq!(p.symbols.get(a.model), q.symbols.get(b.model));
        assert_eq!(p.symbols.get(a.api_key), q.symbols.get(b.api_key));
        assert_eq!(p.symbols.get(a.workspace), q.symbols.get(b.workspace));
    }
    // Every row's own values survive the split (row i has i uncached tokens).
    let mut uncached: Vec<u64> = p
        .records
        .iter()
        .map(|(r, _)| r.tokens.uncached_input)
        .collect();
    uncached.sort_unstable();
    let mut expected: Vec<u64> = (0..60_000u64)
        .filter(|&i| !bad.iter().any(|b| b.1 == i as usize))
        .collect();
    expected.sort_unstable();
    assert_eq!(uncached, expected);
}

#[test]
fn importers_read_through_a_reader_and_report_its_error() {
    struct Failing<'a>(&'a [u8]);
    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "import cancelled",
                ));
            }
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let text = file(
        &[
            NEW_HEADER,
            "2026-03-30,claude-haiku-4-5,k,W,standard,,1,0,0,0,2,0,,",
        ],
        "\n",
        false,
    );
    // An interrupted read ends the import (it is how a cancel arrives), it is not retried.
    let p = console_usage::parse("r.csv", Failing(text.as_bytes()));
    assert_eq!(p.records.len(), 1);
    assert_eq!(
        rejected(&p),
        vec!["r.csv:3: read error: import cancelled".to_owned()]
    );
}

#[test]
fn fields_are_trimmed_like_text() {
    let text = file(
        &[
            NEW_HEADER,
            " 2026-03-30 ,\u{a0}claude-haiku-4-5\u{a0},\u{b}key\t, Default ,Standard, ≤ 200k , 7 ,0,0,0, 8 ,0, Global , ",
            "2026-03-30,claude-haiku-4-5,key,Default,standard,≤ 200k,7,0,0,0,8,0,global,",
        ],
        "\n",
        false,
    );
    let p = parse("spaces.csv", &text);
    assert_eq!(rejected(&p), Vec::<String>::new());
    let r = records(&p);
    assert_eq!(r.len(), 2);
    assert_eq!(p.symbols.get(r[0].model), "claude-haiku-4-5");
    assert_eq!(p.symbols.get(r[0].api_key), "key");
    assert_eq!(p.symbols.get(r[0].workspace), "Default");
    assert_eq!(
        (r[0].tier, r[0].geo, r[0].context),
        (Tier::Standard, Geo::Global, Context::Flag(false))
    );
    assert_eq!(r[0].tokens, tokens([7, 0, 0, 0, 8]));
    assert_eq!(
        (r[0].model, r[0].api_key, r[0].workspace),
        (r[1].model, r[1].api_key, r[1].workspace)
    );
}
