//! Deterministic synthetic usage, for `sample-data/` (see `examples/gen_samples.rs`), the
//! benchmarks and tests. Realistic shapes, never real data.

use chrono::{Duration, NaiveDate};
use costlens::domain::cost::{self, Terms};
use costlens::domain::prices::{PriceTable, Prompt};
use costlens::domain::records::{Geo, Speed, Tier, Tokens};
use std::fmt::Write;

/// One Console usage row, before it is written out.
#[derive(Clone, Debug)]
pub struct Row {
    pub date: String,
    pub model: &'static str,
    pub api_key: String,
    pub workspace: &'static str,
    pub tier: Tier,
    pub long: bool,
    pub tokens: Tokens<u64>,
    pub web_search: u64,
}

struct Stream {
    workspace: &'static str,
    key: &'static str,
    model: &'static str,
    tier: Tier,
    requests: f64,
    uncached: f64,
    write_5m: f64,
    write_1h: f64,
    read: f64,
    output: f64,
    web_search: f64,
}

#[rustfmt::skip]
const STREAMS: &[Stream] = &[
    Stream { workspace: "Default", key: "prod-api", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 1800.0, uncached: 900.0, write_5m: 120.0, write_1h: 0.0, read: 3200.0, output: 380.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "prod-api", model: "claude-haiku-4-5-20251001", tier: Tier::Standard, requests: 2600.0, uncached: 700.0, write_5m: 60.0, write_1h: 0.0, read: 1500.0, output: 160.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "batch-nightly", model: "claude-sonnet-4-5-20250929", tier: Tier::Batch, requests: 900.0, uncached: 2400.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 600.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "batch-nightly", model: "claude-3-haiku-20240307", tier: Tier::Batch, requests: 3000.0, uncached: 1100.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 120.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "claude_code_key_alice", model: "claude-opus-4-5-20251101", tier: Tier::Standard, requests: 260.0, uncached: 40.0, write_5m: 0.0, write_1h: 2100.0, read: 42000.0, output: 520.0, web_search: 0.0 },
    Stream { workspace: "Default", key: "claude_code_key_alice", model: "claude-haiku-4-5-20251001", tier: Tier::Standard, requests: 180.0, uncached: 300.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 60.0, web_search: 0.0 },
    Stream { workspace: "Support Bot", key: "support-prod", model: "claude-3-haiku-20240307", tier: Tier::Standard, requests: 1400.0, uncached: 350.0, write_5m: 90.0, write_1h: 0.0, read: 2600.0, output: 210.0, web_search: 0.0 },
    Stream { workspace: "Support Bot", key: "support-prod", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 320.0, uncached: 1200.0, write_5m: 400.0, write_1h: 0.0, read: 5200.0, output: 450.0, web_search: 0.06 },
    Stream { workspace: "Support Bot", key: "support-staging", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 40.0, uncached: 2000.0, write_5m: 0.0, write_1h: 0.0, read: 0.0, output: 300.0, web_search: 0.0 },
];

/// Daily Console usage rows over `days` days ending on `last` (inclusive).
pub fn console_rows(last: NaiveDate, days: u32, seed: u64) -> Vec<Row> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rows = Vec::new();
    for d in 0..days {
        let date = last - Duration::days((days - 1 - d) as i64);
        let weekday = chrono::Datelike::weekday(&date).num_days_from_monday();
        let weekend = if weekday >= 5 { 0.35 } else { 1.0 };
        let growth = 0.75 + 0.5 * d as f64 / days.max(1) as f64;
        for s in STREAMS {
            // Batch jobs run every night; people and bots follow the week.
            let k = if s.tier == Tier::Batch {
                growth
            } else {
                weekend * growth
            };
            let n = s.requests * k * (0.8 + 0.4 * rng.f64());
            if n < 1.0 {
                continue;
            }
            let jitter = |rng: &mut fastrand::Rng, per: f64| {
                (n * per * (0.9 + 0.2 * rng.f64())).round() as u64
            };
            let tokens = Tokens {
                uncached_input: jitter(&mut rng, s.uncached),
                cache_write_5m: jitter(&mut rng, s.write_5m),
                cache_write_1h: jitter(&mut rng, s.write_1h),
                cache_read: jitter(&mut rng, s.read),
                output: jitter(&mut rng, s.output),
            };
            rows.push(Row {
                date: date.format("%Y-%m-%d").to_string(),
                model: s.model,
                api_key: s.key.to_owned(),
                workspace: s.workspace,
                tier: s.tier,
                long: false,
                tokens,
                web_search: (n * s.web_search).round() as u64,
            });
        }
        // A few days of long-context work on Sonnet 4.5 (1M-context beta).
        if d % 30 == 17 {
            rows.push(Row {
                date: date.format("%Y-%m-%d").to_string(),
                model: "claude-sonnet-4-5-20250929",
                api_key: "prod-api".into(),
                workspace: "Default",
                tier: Tier::Standard,
                long: true,
                tokens: Tokens {
                    uncached_input: 4_100_000 + rng.u64(0..400_000),
                    cache_write_5m: 0,
                    cache_write_1h: 0,
                    cache_read: 0,
                    output: 60_000 + rng.u64(0..10_000),
                },
                web_search: 0,
            });
        }
    }
    rows
}

/// Many rows for benchmarks: `n` hourly rows across many keys.
pub fn bulk_rows(n: usize, seed: u64) -> Vec<Row> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
    (0..n)
        .map(|i| {
            let s = &STREAMS[i % STREAMS.len()];
            let hour = (i / (STREAMS.len() * 200)) as i64;
            let t = start.and_hms_opt(0, 0, 0).expect("valid time") + Duration::hours(hour);
            let scale = 0.02 * (0.5 + rng.f64());
            let n = s.requests * scale;
            Row {
                date: t.format("%Y-%m-%d %H:%M").to_string(),
                model: s.model,
                api_key: format!("{}-{}", s.key, i % 200),
                workspace: s.workspace,
                tier: s.tier,
                long: false,
                tokens: Tokens {
                    uncached_input: (n * s.uncached) as u64,
                    cache_write_5m: (n * s.write_5m) as u64,
                    cache_write_1h: (n * s.write_1h) as u64,
                    cache_read: (n * s.read) as u64,
                    output: (n * s.output) as u64,
                },
                web_search: 0,
            }
        })
        .collect()
}

/// The newer Console usage header (with `context_window`, `inference_geo`, `speed`).
pub const USAGE_HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count,inference_geo,speed";

pub fn usage_csv(rows: &[Row]) -> String {
    let mut s = String::with_capacity(rows.len() * 130);
    s.push_str(USAGE_HEADER);
    s.push('\n');
    for r in rows {
        let t = &r.tokens;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},not_available,",
            r.date,
            r.model,
            r.api_key,
            r.workspace,
            r.tier.key(),
            if r.long { "> 200k" } else { "≤ 200k" },
            t.uncached_input,
            t.cache_write_5m,
            t.cache_write_1h,
            t.cache_read,
            t.output,
            r.web_search
        );
    }
    s
}

/// The matching Console cost export: one row per usage row and token type, in dollars.
pub fn cost_csv(rows: &[Row], table: &PriceTable) -> String {
    let mut s = String::from(
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed,api_key_id,api_key_status\n",
    );
    for r in rows {
        let Some(m) = table.lookup(r.model) else {
            continue;
        };
        let time = NaiveDate::parse_from_str(&r.date[..10], "%Y-%m-%d")
            .map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp()
            })
            .unwrap_or(0);
        let terms = Terms {
            tier: r.tier,
            prompt: Prompt::Long(r.long),
            geo: Geo::NotAvailable,
            speed: Speed::Standard,
        };
        let c = cost::price(
            table,
            m,
            time,
            &r.tokens.to_f64(),
            r.web_search as f64,
            &terms,
        );
        let display = table.model(m).display_name();
        let ctx = if r.long { "> 200k" } else { "≤ 200k" };
        let key_id = format!(
            "apikey_{:08x}",
            costlens::import::stable_hash(&[r.api_key.as_bytes()]) as u32
        );
        for (tt, usd, n) in [
            ("input_no_cache", c.uncached_input, r.tokens.uncached_input),
            (
                "input_cache_write_5m",
                c.cache_write_5m,
                r.tokens.cache_write_5m,
            ),
            (
                "input_cache_write_1h",
                c.cache_write_1h,
                r.tokens.cache_write_1h,
            ),
            ("input_cache_read", c.cache_read, r.tokens.cache_read),
            ("output", c.output, r.tokens.output),
        ] {
            if n == 0 {
                continue;
            }
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{:.6},{:.6},token,not_available,,{},active",
                &r.date[..10],
                display,
                r.workspace,
                r.api_key,
                r.tier.key(),
                ctx,
                tt,
                usd,
                usd,
                key_id
            );
        }
        if r.web_search > 0 {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},,{:.6},{:.6},web_search,not_available,,{},active",
                &r.date[..10],
                display,
                r.workspace,
                r.api_key,
                r.tier.key(),
                ctx,
                c.web_search,
                c.web_search,
                key_id
            );
        }
    }
    s
}

// ---------------------------------------------------------------------------------------
// Claude Code log trees.

/// The shape of a generated Claude Code log tree.
#[derive(Clone, Debug)]
pub struct ClaudeTreeSpec {
    /// Stop adding sessions once this many bytes are written.
    pub approx_bytes: u64,
    pub seed: u64,
    /// Number of projects (at most 8).
    pub projects: usize,
    /// The last day with activity (UTC).
    pub last_day: NaiveDate,
    /// How many weeks before `last_day` sessions start.
    pub weeks: u32,
    /// Scales the size of tool results (file contents, command output): 1.0 is realistic.
    pub tool_result_scale: f64,
    /// Scales the number of turns per session.
    pub session_scale: f64,
    /// Cache reads as the API makes them: a conversation (the main thread, each subagent)
    /// reads its cached prefix only when its previous request came less than the session's
    /// TTL earlier (and not after a compaction, which starts a new prefix); otherwise the
    /// whole prefix is written again. Off by default (the default tree reads the cache after
    /// gaps of any length, as the sample data does).
    pub cache_expiry: bool,
    /// How many lines (streaming snapshots) each response is written as, at least and at most.
    pub lines_per_response: (usize, usize),
    /// Scales the length of the text and thinking blocks of responses.
    pub block_scale: f64,
    /// When set, this share of sessions has exactly one subagent log (a Task call at a random
    /// turn); when not, each step calls a subagent with a chance of 1 in 25.
    pub subagent_share: Option<f64>,
}

impl ClaudeTreeSpec {
    pub fn new(approx_bytes: u64, seed: u64) -> ClaudeTreeSpec {
        ClaudeTreeSpec {
            approx_bytes,
            seed,
            projects: 6,
            last_day: NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid date"),
            weeks: 6,
            tool_result_scale: 1.0,
            session_scale: 1.0,
            cache_expiry: false,
            lines_per_response: (2, 4),
            block_scale: 1.0,
            subagent_share: None,
        }
    }

    /// Many small sessions, as a heavy user's folder holds them (the tree of the speed issue:
    /// 1.07 GB in about 14,000 files, 350,000 API responses): short sessions, each response
    /// written as 1-3 lines, 30% of sessions with one subagent log, tool results smaller on
    /// average but as heavy-tailed.
    pub fn many_small(approx_bytes: u64, seed: u64) -> ClaudeTreeSpec {
        ClaudeTreeSpec {
            session_scale: 0.37,
            tool_result_scale: 0.07,
            block_scale: 0.4,
            lines_per_response: (1, 3),
            subagent_share: Some(0.3),
            ..ClaudeTreeSpec::new(approx_bytes, seed)
        }
    }
}

/// With [`ClaudeTreeSpec::cache_expiry`]: a request whose conversation last used the cache
/// `ttl` seconds ago or more (or never, or whose prefix is new after a compaction) reads
/// nothing and writes its whole prefix again.
fn cc_expire(t: &mut Tokens<u64>, last: &mut Option<i64>, now: i64, ttl_1h: bool, compacted: bool) {
    let ttl = if ttl_1h { 3600 } else { 300 };
    let hit = !compacted && last.is_some_and(|l| now - l < ttl);
    if !hit {
        let prefix = std::mem::take(&mut t.cache_read);
        if ttl_1h {
            t.cache_write_1h += prefix;
        } else {
            t.cache_write_5m += prefix;
        }
    }
    *last = Some(now);
}

/// What a generated tree holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaudeTreeStats {
    pub files: usize,
    pub bytes: u64,
    pub lines: u64,
    /// Distinct API responses (what a correct import counts as requests).
    pub responses: u64,
    /// Assistant lines with usage, duplicates included.
    pub usage_lines: u64,
}

const CC_PROJECTS: [&str; 8] = [
    "/home/dev/src/webshop",
    "/home/dev/src/billing-api",
    "/home/dev/src/ml-pipeline",
    "/home/dev/notes",
    "/home/dev/src/mobile-app",
    "/home/dev/src/infra",
    "/home/dev/src/data-etl",
    "/home/dev/src/docs-site",
];

const CC_WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "self",
    "return",
    "impl",
    "struct",
    "pub",
    "use",
    "match",
    "Some",
    "None",
    "Ok",
    "Err",
    "if",
    "else",
    "for",
    "in",
    "while",
    "async",
    "await",
    "const",
    "type",
    "cart",
    "order",
    "invoice",
    "price",
    "total",
    "customer",
    "request",
    "response",
    "handler",
    "config",
    "build",
    "test",
    "assert_eq!(",
    ");",
    "{",
    "}",
    "=>",
    "->",
    "==",
    "+=",
    "&mut",
    "Vec<u64>",
    "String",
    "HashMap",
    "iter()",
    "map(|x|",
    "collect()",
    "// TODO:",
    "error",
    "tokens",
    "cache",
    "session",
    "user_id",
    "amount",
    "currency",
    "2026",
    "0.25",
    "42",
    "items",
    "len()",
];

/// Deterministic filler text without characters that JSON must escape.
fn cc_filler(seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut s = String::with_capacity(300_000);
    while s.len() < 256 * 1024 {
        let n = rng.usize(3..14);
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(CC_WORDS[rng.usize(..CC_WORDS.len())]);
        }
        s.push_str(if rng.u8(..4) == 0 { "; " } else { " " });
    }
    s
}

struct CcWriter<'a> {
    filler: &'a str,
    table: &'a PriceTable,
    rng: fastrand::Rng,
    stats: ClaudeTreeStats,
    lines_per_response: (usize, usize),
    block_scale: f64,
}

/// One line's identity fields.
struct CcCtx<'a> {
    session: &'a str,
    cwd: &'a str,
    version: &'a str,
    sidechain: bool,
    agent: Option<&'a str>,
}

fn cc_base62(rng: &mut fastrand::Rng, n: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..n).map(|_| A[rng.usize(..A.len())] as char).collect()
}

fn cc_uuid(rng: &mut fastrand::Rng) -> String {
    let h = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n).map(|_| format!("{:x}", rng.u8(..16))).collect()
    };
    format!(
        "{}-{}-4{}-a{}-{}",
        h(rng, 8),
        h(rng, 4),
        h(rng, 3),
        h(rng, 3),
        h(rng, 12)
    )
}

fn cc_time(t: i64, ms: u32) -> String {
    let d = chrono::DateTime::from_timestamp(t, ms * 1_000_000).unwrap_or_default();
    d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl<'a> CcWriter<'a> {
    /// A block length from `lo..hi` scaled by the spec's `block_scale` (one draw either way).
    fn scaled(&mut self, lo: usize, hi: usize) -> usize {
        let k = self.block_scale;
        if k == 1.0 {
            return self.rng.usize(lo..hi);
        }
        let (lo, hi) = ((lo as f64 * k) as usize, (hi as f64 * k) as usize);
        self.rng.usize(lo.max(1)..hi.max(lo.max(1) + 1))
    }

    fn text(&mut self, len: usize) -> &'a str {
        let len = len.clamp(1, self.filler.len() / 2);
        let start = self.rng.usize(..self.filler.len() - len);
        // Cut at char boundaries (the filler is ASCII) and trim a trailing space.
        self.filler[start..start + len].trim_end()
    }

    fn head(&self, line: &mut String, ctx: &CcCtx, parent: Option<&str>) {
        let parent = parent.map_or("null".to_owned(), |p| format!("\"{p}\""));
        let _ = write!(
            line,
            "{{\"parentUuid\":{parent},\"isSidechain\":{},\"userType\":\"external\",\"cwd\":\"{}\",\"sessionId\":\"{}\",\"version\":\"{}\",\"gitBranch\":\"main\"",
            ctx.sidechain, ctx.cwd, ctx.session, ctx.version
        );
        if let Some(a) = ctx.agent {
            let _ = write!(line, ",\"agentId\":\"{a}\"");
        }
    }

    fn user_prompt(
        &mut self,
        out: &mut Vec<u8>,
        ctx: &CcCtx,
        parent: Option<&str>,
        t: i64,
    ) -> String {
        let uuid = cc_uuid(&mut self.rng);
        let len = self.rng.usize(20..600);
        let text = self.text(len);
        let mut line = String::with_capacity(len + 400);
        self.head(&mut line, ctx, parent);
        let _ = write!(
            line,
            ",\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"{text}\"}},\"uuid\":\"{uuid}\",\"timestamp\":\"{}\"}}",
            cc_time(t, self.rng.u32(..1000))
        );
        self.push(out, line);
        uuid
    }

    fn push(&mut self, out: &mut Vec<u8>, line: String) {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        self.stats.lines += 1;
    }

    /// A tool result: a user line without usage, often the largest lines of a log (Claude
    /// Code stores file contents twice: in the message and in `toolUseResult`).
    fn tool_result(
        &mut self,
        out: &mut Vec<u8>,
        ctx: &CcCtx,
        parent: &str,
        t: i64,
        scale: f64,
        task_usage: Option<&Tokens<u64>>,
    ) -> String {
        let uuid = cc_uuid(&mut self.rng);
        let tool_id = cc_base62(&mut self.rng, 24);
        // Heavy-tailed sizes: most results are a few KB, some hundreds of KB.
        let size = ((self.rng.f64() * 4.0 + 5.5).exp()
            * scale
            * if self.rng.u8(..50) == 0 { 20.0 } else { 1.0 }) as usize;
        let content = self.text(size.max(10));
        let mut line = String::with_capacity(2 * content.len() + 600);
        self.head(&mut line, ctx, Some(parent));
        let _ = write!(
            line,
            ",\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":[{{\"tool_use_id\":\"toolu_01{tool_id}\",\"type\":\"tool_result\",\"content\":\"{content}\"}}]}},\"uuid\":\"{uuid}\",\"timestamp\":\"{}\"",
            cc_time(t, self.rng.u32(..1000))
        );
        match task_usage {
            // A Task tool result repeats the subagent's token totals: not an API response.
            Some(u) => {
                let _ = write!(
                    line,
                    ",\"toolUseResult\":{{\"status\":\"completed\",\"totalDurationMs\":{},\"totalTokens\":{},\"usage\":{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"output_tokens\":{}}}}}}}",
                    self.rng.u32(5_000..300_000),
                    u.total(),
                    u.uncached_input,
                    u.cache_write_5m + u.cache_write_1h,
                    u.cache_read,
                    u.output
                );
            }
            None => {
                let _ = write!(
                    line,
                    ",\"toolUseResult\":{{\"type\":\"text\",\"file\":{{\"filePath\":\"{}/src/lib.rs\",\"content\":\"{content}\"}}}}}}",
                    ctx.cwd
                );
            }
        }
        self.push(out, line);
        uuid
    }

    /// One API response as Claude Code logs it: 2-4 lines (content blocks / streaming
    /// snapshots) with the same message id and request id, output tokens growing to the final
    /// count. Returns the last line's uuid.
    #[allow(clippy::too_many_arguments)]
    fn response(
        &mut self,
        out: &mut Vec<u8>,
        ctx: &CcCtx,
        parent: &str,
        t: i64,
        model: &str,
        tokens: &Tokens<u64>,
        old_format: bool,
        ids: Option<(&str, &str)>,
    ) -> (String, String, String) {
        let msg_id = ids.map_or_else(
            || format!("msg_01{}", cc_base62(&mut self.rng, 22)),
            |i| i.0.to_owned(),
        );
        let req_id = ids.map_or_else(
            || format!("req_011C{}", cc_base62(&mut self.rng, 20)),
            |i| i.1.to_owned(),
        );
        let (lo, hi) = self.lines_per_response;
        let n = self.rng.usize(lo.max(1)..=hi.max(lo).max(1));
        let mut parent = parent.to_owned();
        let priced = self.table.lookup(model);
        for k in 0..n {
            let uuid = cc_uuid(&mut self.rng);
            let output = if k + 1 == n {
                tokens.output
            } else {
                (tokens.output * (k as u64 + 1) / (n as u64 + 1)).max(1)
            };
            let block = match (k, k + 1 == n) {
                (0, false) if self.rng.bool() => {
                    let len = self.scaled(100, 1500);
                    format!(
                        "{{\"type\":\"thinking\",\"thinking\":\"{}\",\"signature\":\"{}\"}}",
                        self.text(len),
                        cc_base62(&mut self.rng, 120)
                    )
                }
                (_, true) => format!(
                    "{{\"type\":\"tool_use\",\"id\":\"toolu_01{}\",\"name\":\"Read\",\"input\":{{\"file_path\":\"{}/src/main.rs\"}}}}",
                    cc_base62(&mut self.rng, 22),
                    ctx.cwd
                ),
                _ => {
                    let len = self.scaled(40, 900);
                    format!("{{\"type\":\"text\",\"text\":\"{}\"}}", self.text(len))
                }
            };
            let writes = tokens.cache_write_5m + tokens.cache_write_1h;
            let usage = if old_format {
                format!(
                    "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{writes},\"cache_read_input_tokens\":{},\"output_tokens\":{output},\"service_tier\":\"standard\"}}",
                    tokens.uncached_input, tokens.cache_read
                )
            } else {
                format!(
                    "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{writes},\"cache_read_input_tokens\":{},\"cache_creation\":{{\"ephemeral_5m_input_tokens\":{},\"ephemeral_1h_input_tokens\":{}}},\"output_tokens\":{output},\"service_tier\":\"standard\"}}",
                    tokens.uncached_input,
                    tokens.cache_read,
                    tokens.cache_write_5m,
                    tokens.cache_write_1h
                )
            };
            let mut line = String::with_capacity(block.len() + usage.len() + 700);
            self.head(&mut line, ctx, Some(&parent));
            let _ = write!(
                line,
                ",\"message\":{{\"id\":\"{msg_id}\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"{model}\",\"content\":[{block}],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{usage}}},\"requestId\":\"{req_id}\",\"type\":\"assistant\",\"uuid\":\"{uuid}\",\"timestamp\":\"{}\"",
                cc_time(t + k as i64, self.rng.u32(..1000))
            );
            // Older Claude Code versions wrote their own cost estimate of each line.
            if old_format && let Some(m) = priced {
                let line_tokens = Tokens { output, ..*tokens };
                let terms = Terms {
                    tier: Tier::Standard,
                    prompt: Prompt::Tokens(line_tokens.to_f64().total_input()),
                    geo: Geo::NotAvailable,
                    speed: Speed::Standard,
                };
                let c = cost::price(self.table, m, t, &line_tokens.to_f64(), 0.0, &terms);
                let _ = write!(line, ",\"costUSD\":{}", c.total());
            }
            line.push('}');
            self.push(out, line);
            self.stats.usage_lines += 1;
            parent = uuid;
        }
        if ids.is_none() {
            self.stats.responses += 1;
        }
        (parent, msg_id, req_id)
    }

    /// A line Claude Code writes itself: model `<synthetic>`, zero usage; as an API error
    /// notice (`isApiErrorMessage`) or not.
    fn synthetic(
        &mut self,
        out: &mut Vec<u8>,
        ctx: &CcCtx,
        parent: &str,
        t: i64,
        api_error: bool,
    ) -> String {
        let uuid = cc_uuid(&mut self.rng);
        let mut line = String::with_capacity(900);
        self.head(&mut line, ctx, Some(parent));
        let text = if api_error {
            "API Error: 529 Overloaded. Retrying."
        } else {
            "No response requested."
        };
        let _ = write!(
            line,
            ",\"type\":\"assistant\",\"uuid\":\"{uuid}\",\"timestamp\":\"{}\",\"message\":{{\"id\":\"{}\",\"model\":\"<synthetic>\",\"role\":\"assistant\",\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"\",\"type\":\"message\",\"usage\":{{\"input_tokens\":0,\"output_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}},\"content\":[{{\"type\":\"text\",\"text\":\"{text}\"}}]}}",
            cc_time(t, 0),
            cc_uuid(&mut self.rng)
        );
        if api_error {
            line.push_str(",\"isApiErrorMessage\":true");
        }
        line.push('}');
        self.push(out, line);
        uuid
    }
}

/// Token counts of the next response of a conversation whose cached context is `context`.
fn cc_tokens(
    rng: &mut fastrand::Rng,
    context: &mut u64,
    ttl_1h: bool,
    output_scale: f64,
) -> Tokens<u64> {
    // Claude Code compacts the conversation before the context window fills.
    if *context > 165_000 {
        *context = rng.u64(15_000..30_000);
    }
    let cap = if rng.u8(..6) == 0 { 25_000 } else { 6_000 };
    let new = rng.u64(200..cap);
    let read = *context;
    *context += new;
    let (w5, w1) = if ttl_1h { (0, new) } else { (new, 0) };
    Tokens {
        uncached_input: rng.u64(1..12),
        cache_write_5m: w5,
        cache_write_1h: w1,
        cache_read: read,
        output: ((rng.f64() * 3.0 + 3.5).exp() * output_scale) as u64 + 1,
    }
}

/// Writes a deterministic, realistic Claude Code log tree under `out/projects/`: sessions of
/// several projects over several weeks, each response written as 2-4 lines (streaming
/// snapshots with growing output tokens), large tool-result lines without usage, subagent
/// logs (`<session>/subagents/agent-*.jsonl`, sidechain lines) whose results the main log
/// repeats, a few sidechain responses replayed in the main log, `<synthetic>` and API-error
/// lines, and older sessions without the 5m/1h write split but with `costUSD`.
/// Point Claude Code tools at it with `CLAUDE_CONFIG_DIR=out`.
pub fn claude_code_tree(
    out: &std::path::Path,
    spec: &ClaudeTreeSpec,
) -> std::io::Result<ClaudeTreeStats> {
    let table = PriceTable::bundled();
    let filler = cc_filler(spec.seed);
    let mut w = CcWriter {
        filler: &filler,
        table: &table,
        rng: fastrand::Rng::with_seed(spec.seed),
        stats: ClaudeTreeStats::default(),
        lines_per_response: spec.lines_per_response,
        block_scale: spec.block_scale,
    };
    let projects = &CC_PROJECTS[..spec.projects.clamp(1, CC_PROJECTS.len())];
    let first_day = spec.last_day - Duration::days(spec.weeks.max(1) as i64 * 7 - 1);
    let span_days = (spec.last_day - first_day).num_days() + 1;
    let t0 = first_day
        .and_hms_opt(0, 0, 0)
        .expect("valid time")
        .and_utc()
        .timestamp();
    let mut session_no = 0u64;
    while w.stats.bytes < spec.approx_bytes {
        let mut rng =
            fastrand::Rng::with_seed(spec.seed.wrapping_mul(0x9E37_79B9).wrapping_add(session_no));
        w.rng = rng.fork();
        let cwd = projects[if session_no < projects.len() as u64 {
            session_no as usize
        } else {
            rng.usize(..projects.len())
        }];
        let dir_name = cwd.replace('/', "-");
        let session = cc_uuid(&mut rng);
        let day = rng.i64(0..span_days);
        let mut t = t0 + day * 86_400 + rng.i64(7 * 3600..20 * 3600);
        // The first third of the period: an older Claude Code (no write split, costUSD).
        let old = day < span_days / 3;
        let version = if old { "1.0.58" } else { "2.0.14" };
        let model = match rng.u8(..20) {
            0..=13 => "claude-sonnet-4-5-20250929",
            14..=17 => "claude-opus-4-5-20251101",
            _ => {
                if old {
                    "claude-sonnet-4-20250514"
                } else {
                    "claude-haiku-4-5-20251001"
                }
            }
        };
        let ttl_1h = !old && rng.bool();
        let ctx = CcCtx {
            session: &session,
            cwd,
            version,
            sidechain: false,
            agent: None,
        };
        let project_dir = out.join("projects").join(&dir_name);
        std::fs::create_dir_all(&project_dir)?;
        let mut main: Vec<u8> = Vec::new();
        let mut agents: Vec<(String, Vec<u8>)> = Vec::new();
        let mut context = rng.u64(12_000..24_000);
        // Heavy-tailed: a few marathon sessions make log files of tens of megabytes.
        let marathon = if rng.u8(..40) == 0 { 12.0 } else { 1.0 };
        let turns = ((rng.f64() * 2.5 + 1.0).exp() * spec.session_scale * marathon).ceil() as usize;
        if rng.u8(..4) == 0 {
            let line = format!(
                "{{\"type\":\"summary\",\"summary\":\"{}\",\"leafUuid\":\"{}\"}}",
                w.text(60),
                cc_uuid(&mut rng)
            );
            w.push(&mut main, line);
        }
        // With a share of sessions that call one subagent: whether this one does, and at
        // which turn (drawn only then, so that the default trees stay as they were).
        let agent_turn = spec
            .subagent_share
            .map(|share| (rng.f64() < share).then(|| rng.usize(..turns.max(1))));
        let mut parent: Option<String> = None;
        let mut main_last: Option<i64> = None;
        for turn in 0..turns {
            let p = w.user_prompt(&mut main, &ctx, parent.as_deref(), t);
            let mut last = p;
            t += rng.i64(2..20);
            let steps = rng.usize(1..10);
            for step in 0..steps {
                let before = context;
                let mut tokens = cc_tokens(&mut rng, &mut context, ttl_1h, 1.0);
                if spec.cache_expiry {
                    let compacted = tokens.cache_read != before;
                    cc_expire(&mut tokens, &mut main_last, t, ttl_1h, compacted);
                }
                let (uuid, _, _) = w.response(&mut main, &ctx, &last, t, model, &tokens, old, None);
                last = uuid;
                t += rng.i64(3..40);
                // A Task tool call: a subagent with its own log, then its result here.
                let call = match agent_turn {
                    Some(at) => at == Some(turn) && step == 0,
                    None => (session_no == 0 && turn == 0 && step == 0) || rng.u8(..25) == 0,
                };
                if call {
                    let agent = format!("{:08x}", rng.u32(..));
                    let actx = CcCtx {
                        session: &session,
                        cwd,
                        version,
                        sidechain: true,
                        agent: Some(&agent),
                    };
                    let mut log = Vec::new();
                    let amodel = if rng.bool() {
                        "claude-haiku-4-5-20251001"
                    } else {
                        model
                    };
                    let mut actx_context = rng.u64(8_000..15_000);
                    let mut at = t;
                    let mut aparent = w.user_prompt(&mut log, &actx, None, at);
                    let mut total = Tokens::<u64>::default();
                    let mut sub_last: Option<i64> = None;
                    for _ in 0..rng.usize(2..12) {
                        let before = actx_context;
                        let mut tk = cc_tokens(&mut rng, &mut actx_context, false, 0.8);
                        if spec.cache_expiry {
                            let compacted = tk.cache_read != before;
                            cc_expire(&mut tk, &mut sub_last, at, false, compacted);
                        }
                        total = total.saturating_add(&tk);
                        let (u, msg, req) =
                            w.response(&mut log, &actx, &aparent, at, amodel, &tk, old, None);
                        at += rng.i64(2..30);
                        aparent = w.tool_result(
                            &mut log,
                            &actx,
                            &u,
                            at,
                            spec.tool_result_scale * 0.5,
                            None,
                        );
                        // Now and then the main log replays a subagent response (same ids,
                        // not a sidechain): counted once, as the main-thread copy.
                        if rng.u8(..40) == 0 {
                            let ids = Some((msg.as_str(), req.as_str()));
                            let (u2, _, _) =
                                w.response(&mut main, &ctx, &last, at, amodel, &tk, old, ids);
                            last = u2;
                        }
                    }
                    agents.push((agent, log));
                    t = at + rng.i64(2..10);
                    last = w.tool_result(&mut main, &ctx, &last, t, 0.2, Some(&total));
                } else if step + 1 < steps || rng.bool() {
                    last = w.tool_result(&mut main, &ctx, &last, t, spec.tool_result_scale, None);
                }
                t += rng.i64(1..15);
                match rng.u16(..300) {
                    0 => last = w.synthetic(&mut main, &ctx, &last, t, true),
                    1 => last = w.synthetic(&mut main, &ctx, &last, t, false),
                    2 => {
                        let line = format!(
                            "{{\"type\":\"file-history-snapshot\",\"messageId\":\"{}\",\"snapshot\":{{\"trackedFileBackups\":{{}},\"timestamp\":\"{}\"}},\"isSnapshotUpdate\":false}}",
                            cc_uuid(&mut rng),
                            cc_time(t, 0)
                        );
                        w.push(&mut main, line);
                    }
                    _ => {}
                }
            }
            parent = Some(last);
            // Between prompts: a few minutes, sometimes a long break.
            t += if rng.u8(..8) == 0 {
                rng.i64(3600..6 * 3600)
            } else {
                rng.i64(30..900)
            };
        }
        std::fs::write(project_dir.join(format!("{session}.jsonl")), &main)?;
        w.stats.bytes += main.len() as u64;
        w.stats.files += 1;
        if !agents.is_empty() {
            let sub = project_dir.join(&session).join("subagents");
            std::fs::create_dir_all(&sub)?;
            for (agent, log) in &agents {
                std::fs::write(sub.join(format!("agent-{agent}.jsonl")), log)?;
                w.stats.bytes += log.len() as u64;
                w.stats.files += 1;
            }
        }
        session_no += 1;
    }
    Ok(w.stats)
}

// ---------------------------------------------------------------------------------------
// Admin API reports, Messages API logs and Message Batches results.

/// Sample files in the API's formats, consistent with each other: the cost report bills
/// exactly the usage report's rows at list price.
#[derive(Clone, Debug)]
pub struct ApiSamples {
    /// Admin API usage report: two saved pages, one JSON object per line.
    pub admin_usage: String,
    /// Admin API cost report: one page, pretty-printed; amounts in cents as decimal strings.
    pub admin_cost: String,
    /// A Messages API request log (JSONL) in the three accepted shapes.
    pub messages_log: String,
    /// Message Batches results (JSONL).
    pub batch_results: String,
}

struct AdminStream {
    workspace: &'static str,
    key: &'static str,
    model: &'static str,
    tier: Tier,
    requests: f64,
    per_request: [f64; 5],
    web_search: f64,
}

#[rustfmt::skip]
const ADMIN_STREAMS: &[AdminStream] = &[
    AdminStream { workspace: "wrkspc_01DefaultWs", key: "apikey_01ProdApi", model: "claude-sonnet-4-5-20250929", tier: Tier::Standard, requests: 1500.0, per_request: [900.0, 120.0, 0.0, 3200.0, 380.0], web_search: 0.04 },
    AdminStream { workspace: "wrkspc_01DefaultWs", key: "apikey_01ProdApi", model: "claude-haiku-4-5-20251001", tier: Tier::Standard, requests: 2400.0, per_request: [700.0, 60.0, 0.0, 1500.0, 160.0], web_search: 0.0 },
    AdminStream { workspace: "wrkspc_01DefaultWs", key: "apikey_02BatchNightly", model: "claude-sonnet-4-5-20250929", tier: Tier::Batch, requests: 800.0, per_request: [2400.0, 0.0, 0.0, 0.0, 600.0], web_search: 0.0 },
    AdminStream { workspace: "wrkspc_02SupportBot", key: "apikey_03SupportProd", model: "claude-haiku-4-5-20251001", tier: Tier::Priority, requests: 1300.0, per_request: [350.0, 90.0, 0.0, 2600.0, 210.0], web_search: 0.0 },
    AdminStream { workspace: "wrkspc_02SupportBot", key: "apikey_03SupportProd", model: "claude-opus-4-5-20251101", tier: Tier::Standard, requests: 120.0, per_request: [60.0, 0.0, 1800.0, 36000.0, 520.0], web_search: 0.0 },
];

/// Deterministic samples of every API format for the `days` days from `first`.
pub fn api_samples(first: NaiveDate, days: u32, seed: u64) -> ApiSamples {
    use serde_json::{Value, json};
    let table = PriceTable::bundled();
    let mut rng = fastrand::Rng::with_seed(seed);
    let day_time = |d: u32| {
        (first + Duration::days(d as i64))
            .and_hms_opt(0, 0, 0)
            .expect("valid time")
            .and_utc()
    };
    let rfc = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Usage rows: (day, stream, long context, tokens, web searches).
    let mut buckets: Vec<(String, String, Vec<Value>)> = Vec::new();
    let mut costs: Vec<(String, String, Vec<Value>)> = Vec::new();
    for d in 0..days {
        let (start, end) = (day_time(d), day_time(d + 1));
        let weekday = chrono::Datelike::weekday(&start.date_naive()).num_days_from_monday();
        let mut results = Vec::new();
        let mut cost_results = Vec::new();
        // One quiet day: the API returns the bucket with empty results.
        if d != 3 {
            for (si, s) in ADMIN_STREAMS.iter().enumerate() {
                let k = if weekday >= 5 && s.tier != Tier::Batch {
                    0.3
                } else {
                    1.0
                };
                for long in [false, true] {
                    // Long-context traffic (1M beta) only on Sonnet, some days.
                    if long && !(si == 0 && d % 4 == 1) {
                        continue;
                    }
                    let n = if long {
                        6.0
                    } else {
                        s.requests * k * (0.8 + 0.4 * rng.f64())
                    };
                    let per = if long {
                        [240_000.0, 0.0, 0.0, 0.0, 2_000.0]
                    } else {
                        s.per_request
                    };
                    let t: [u64; 5] = std::array::from_fn(|i| {
                        (n * per[i] * (0.9 + 0.2 * rng.f64())).round() as u64
                    });
                    let tokens = Tokens::from_array(t);
                    let searches = (n * s.web_search).round() as u64;
                    let ctx = if long { "200k-1M" } else { "0-200k" };
                    results.push(json!({
                        "api_key_id": s.key, "workspace_id": s.workspace, "model": s.model,
                        "service_tier": s.tier.key(), "context_window": ctx, "inference_geo": "global",
                        "uncached_input_tokens": t[0],
                        "cache_creation": {"ephemeral_1h_input_tokens": t[2], "ephemeral_5m_input_tokens": t[1]},
                        "cache_read_input_tokens": t[3], "output_tokens": t[4],
                        "server_tool_use": {"web_search_requests": searches},
                    }));
                    let Some(m) = table.lookup(s.model) else {
                        continue;
                    };
                    let terms = Terms {
                        tier: s.tier,
                        prompt: Prompt::Long(long),
                        geo: Geo::Global,
                        speed: Speed::Standard,
                    };
                    let c = cost::price(
                        &table,
                        m,
                        start.timestamp(),
                        &tokens.to_f64(),
                        searches as f64,
                        &terms,
                    );
                    let display = table.model(m).display_name().to_owned();
                    for (token_type, label, usd) in [
                        ("uncached_input_tokens", "Input Tokens", c.uncached_input),
                        (
                            "cache_creation.ephemeral_5m_input_tokens",
                            "Cache Write (5m)",
                            c.cache_write_5m,
                        ),
                        (
                            "cache_creation.ephemeral_1h_input_tokens",
                            "Cache Write (1h)",
                            c.cache_write_1h,
                        ),
                        ("cache_read_input_tokens", "Cache Read", c.cache_read),
                        ("output_tokens", "Output Tokens", c.output),
                    ] {
                        if usd == 0.0 {
                            continue;
                        }
                        cost_results.push(json!({
                            "currency": "USD", "amount": format!("{:.6}", usd * 100.0),
                            "workspace_id": s.workspace, "description": format!("{display} Usage - {label}"),
                            "cost_type": "tokens", "context_window": ctx, "model": s.model,
                            "service_tier": s.tier.key(), "token_type": token_type,
                        }));
                    }
                    if searches > 0 {
                        cost_results.push(json!({
                            "currency": "USD", "amount": format!("{:.6}", c.web_search * 100.0),
                            "workspace_id": s.workspace, "description": "Web Search",
                            "cost_type": "web_search", "context_window": null, "model": s.model,
                            "service_tier": s.tier.key(), "token_type": null,
                        }));
                    }
                }
            }
        }
        buckets.push((rfc(start), rfc(end), results));
        costs.push((rfc(start), rfc(end), cost_results));
    }
    let page = |b: &[(String, String, Vec<Value>)], more: bool, next: &str| {
        let data: Vec<Value> = b
            .iter()
            .map(|(s, e, r)| json!({"starting_at": s, "ending_at": e, "results": r}))
            .collect();
        json!({"data": data, "has_more": more, "next_page": if more { json!(next) } else { Value::Null }})
    };
    let half = buckets.len() / 2;
    let admin_usage = format!(
        "{}\n{}\n",
        page(&buckets[..half], true, "page_MjAyNi0xMS0wOA"),
        page(&buckets[half..], false, "")
    );
    let admin_cost =
        serde_json::to_string_pretty(&page(&costs, false, "")).unwrap_or_default() + "\n";

    // The support bot's own request log.
    let mut messages_log = String::new();
    let models = ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"];
    for i in 0..80u32 {
        let d = i * days / 80;
        let t = day_time(d).timestamp() + 8 * 3600 + rng.i64(0..10 * 3600);
        let model = models[(rng.u8(..4) == 0) as usize];
        let id = format!("msg_01{}", cc_base62(&mut rng, 22));
        let (input, read, write, output) = (
            rng.u64(20..1500),
            if i % 5 == 0 { 0 } else { 2_600 },
            if i % 5 == 0 { 2_600 } else { 0 },
            rng.u64(40..700),
        );
        // Older entries lack the 5m/1h split (counted as 5-minute writes).
        let split = i >= 12;
        let mut usage = json!({
            "input_tokens": input, "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read, "output_tokens": output, "service_tier": "standard",
        });
        if split {
            usage["cache_creation"] =
                json!({"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0});
        }
        // One request of the long-context beta (more than 200K input: all of it at long rates).
        if i == 41 {
            usage["input_tokens"] = json!(232_000);
        }
        let message = json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Thanks for reaching out! Here is how to reset your password."}],
            "stop_reason": "end_turn", "stop_sequence": null, "usage": usage,
        });
        let line = match i % 3 {
            0 => {
                json!({"timestamp": rfc(chrono::DateTime::from_timestamp(t, 0).unwrap_or_default()), "request_id": format!("req_011C{}", cc_base62(&mut rng, 20)), "response": message})
            }
            1 => json!({"created_at": t, "message": message}),
            _ => json!({
                "time": rfc(chrono::DateTime::from_timestamp(t, 0).unwrap_or_default()), "id": id, "model": model,
                "input_tokens": usage["input_tokens"], "output_tokens": output,
                "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
                "cache_creation": usage.get("cache_creation").cloned().unwrap_or(Value::Null),
                "service_tier": "standard",
            }),
        };
        messages_log.push_str(&line.to_string());
        messages_log.push('\n');
        if i == 57 {
            let err = json!({"timestamp": rfc(chrono::DateTime::from_timestamp(t + 5, 0).unwrap_or_default()), "response": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}});
            messages_log.push_str(&err.to_string());
            messages_log.push('\n');
        }
    }

    // A nightly batch of ticket summaries.
    let mut batch_results = String::new();
    for i in 0..40u32 {
        let custom_id = format!("ticket-{:04}", 1000 + i);
        let line = match i {
            7 | 23 => {
                json!({"custom_id": custom_id, "result": {"type": "errored", "error": {"type": "invalid_request_error", "message": "max_tokens: must be at least 1"}}})
            }
            11 | 31 => json!({"custom_id": custom_id, "result": {"type": "expired"}}),
            36 => json!({"custom_id": custom_id, "result": {"type": "canceled"}}),
            _ => {
                let model = if i % 4 == 0 {
                    "claude-sonnet-4-5-20250929"
                } else {
                    "claude-haiku-4-5-20251001"
                };
                json!({"custom_id": custom_id, "result": {"type": "succeeded", "message": {
                    "id": format!("msg_01{}", cc_base62(&mut rng, 22)), "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": "Summary: customer asks about a refund for order 1042."}],
                    "stop_reason": "end_turn", "stop_sequence": null,
                    "usage": {"input_tokens": rng.u64(800..4000), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                              "output_tokens": rng.u64(60..400), "service_tier": "batch"},
                }}})
            }
        };
        batch_results.push_str(&line.to_string());
        batch_results.push('\n');
    }
    ApiSamples {
        admin_usage,
        admin_cost,
        messages_log,
        batch_results,
    }
}
