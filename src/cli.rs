//! The headless CLI: `report`, `estimate`, `prices`, `export`. A thin layer over the core.

use clap::{Args, Parser, Subcommand};
use costlens::domain::money;
use costlens::domain::prices::{Confidence, PriceTable};
use costlens::domain::time::{Period, timing};
use costlens::engine::estimate::{self, Workload};
use costlens::engine::report::Report;
use costlens::engine::scenario::{Levers, Ttl};
use costlens::engine::view;
use costlens::engine::view::{Dimension, ViewSpec};
use costlens::import::{Control, ImportError, Options};
use costlens::pipeline::Pipeline;
use costlens::pipeline::load;
use costlens::store::answer::{self, Request};
use costlens::store::cache::Cache;
use costlens::store::snapshot::Manifest;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "costlens",
    version,
    about = "What you spend on the Claude API, and what you would spend with caching, routing and batching."
)]
#[cfg_attr(
    feature = "gui",
    command(
        long_about = "Run without a command to open the desktop app (on the bundled sample data, or on the FILEs given)."
    )
)]
#[cfg_attr(
    not(feature = "gui"),
    command(
        long_about = "What you spend on the Claude API, and what you would spend with caching, routing and batching. This build has no window (built without the gui feature): use the commands below."
    )
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Files or folders to open in the app.
    pub files: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the desktop app with these files.
    Open { files: Vec<PathBuf> },
    /// Recompute cost from usage exports and logs, with an optional what-if scenario.
    Report(ReportArgs),
    /// The workload calculator: cost of a synthetic workload with and without caching.
    Estimate(EstimateArgs),
    /// Print the effective price table, or check files against it (--check).
    Prices(PricesArgs),
    /// Render the savings chart to a PNG, or write every request as a priced row (--records),
    /// without opening a window.
    Export(ExportArgs),
    /// The usage history: what it holds, forgetting old usage, exporting it.
    History(HistoryArgs),
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: HistoryCommand,
    /// The history database (default: the user's, in the data folder; $COSTLENS_HISTORY_DB).
    #[arg(long, value_name = "FILE", global = true)]
    pub db: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// What the history holds: requests, files (and how many are gone), dates, tokens, size.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Remove the usage before a day (UTC; the day itself is kept).
    Forget {
        #[arg(long, value_name = "YYYY-MM-DD")]
        before: String,
    },
    /// Write every request of the history as CSV (unpriced: the counts as kept).
    Export {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct PricesArgs {
    #[arg(long)]
    pub json: bool,
    /// List what these usage files would leave unpriced (models the table lacks, usage after
    /// the table's date) instead of printing the table. Exit status 1 when a model is unpriced.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub check: Vec<PathBuf>,
    #[command(flatten)]
    pub prices: PriceArgs,
    #[command(flatten)]
    pub import: ImportArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct PriceArgs {
    /// Price overrides: a costlens price file or LiteLLM's model_prices_and_context_window.json.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Bill an unpriced model as a priced one: --map my-model=claude-sonnet-4-5 (repeatable).
    #[arg(long, value_name = "MODEL=PRICED")]
    pub map: Vec<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ImportArgs {
    /// Date for files that carry none (batch results, saved responses)
    #[arg(long, value_name = "YYYY-MM-DD", alias = "batch-date")]
    pub date: Option<String>,
    /// Add up copies of the same rows found in different files (different organisations whose
    /// names match) instead of counting them once.
    #[arg(long)]
    pub sum_overlaps: bool,
    /// Keep the usage of every file imported in the usage history (by default only Claude
    /// Code logs found in the folders opened are kept), and read back what only it has.
    #[arg(long, conflicts_with = "no_history")]
    pub history: bool,
    /// Neither keep usage in the history nor read it back (on by default for Claude Code
    /// folders; $COSTLENS_NO_HISTORY=1 turns that default off).
    #[arg(long)]
    pub no_history: bool,
}

impl ImportArgs {
    /// The history to keep and read while importing `files`, if any: by default only when a
    /// folder is opened (Claude Code logs are found in folders; a report of a CSV export
    /// neither keeps history nor creates a database).
    pub fn history_choice(&self, files: &[PathBuf]) -> Result<Option<load::HistoryChoice>, Fail> {
        if self.no_history
            || (!self.history
                && (!costlens::store::history::on_by_default()
                    || !files.iter().any(|f| f.is_dir())))
        {
            return Ok(None);
        }
        let path = costlens::store::history::default_path().ok_or_else(|| {
            Fail::input("no data folder for the usage history: set COSTLENS_HISTORY_DB")
        })?;
        Ok(Some(load::HistoryChoice {
            path,
            all_files: self.history,
        }))
    }
}

#[derive(Args, Debug, Clone)]
pub struct LeverArgs {
    /// Traffic multiplier (0.1 - 10).
    #[arg(long, default_value_t = 1.0)]
    pub traffic: f64,
    /// Prompt length multiplier (0.1 - 10).
    #[arg(long, default_value_t = 1.0)]
    pub prompt_length: f64,
    /// Output length multiplier (0.1 - 10).
    #[arg(long, default_value_t = 1.0)]
    pub output_length: f64,
    /// Cacheable share of input (0 - 1); default: as observed.
    #[arg(long)]
    pub cache_share: Option<f64>,
    /// Cache hit rate (0 - 1); default: as observed.
    #[arg(long)]
    pub cache_hit: Option<f64>,
    /// Share of the input not cached today that becomes a cached prefix, read at the cache
    /// hit rate (0 - 1): adds caching, never less than observed.
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub cache_more: f64,
    /// Cache TTL of the scenario's writes; default: as observed.
    #[arg(long, value_parser = ["5m", "1h"])]
    pub cache_ttl: Option<String>,
    /// Share of source-model usage routed to the target model (0 - 1).
    #[arg(long, default_value_t = 0.0)]
    pub route_share: f64,
    /// Routing target (default: Claude Haiku 4.5).
    #[arg(long, value_name = "MODEL")]
    pub route_to: Option<String>,
    /// Routing sources, comma-separated (default: every Sonnet and Opus model).
    #[arg(long, value_name = "MODEL[,MODEL...]", value_delimiter = ',')]
    pub route_from: Vec<String>,
    /// Tokens a newer-tokenizer model (Claude 4.7 and later) makes for each token of an older
    /// one when routing between them (default: the price table's, 1.30; its inverse back).
    #[arg(long, value_name = "F")]
    pub route_token_factor: Option<f64>,
    /// Share of non-batch usage moved to the Batch API (0 - 1).
    #[arg(long, default_value_t = 0.0)]
    pub batch_share: f64,
    /// Share of fast-mode usage run at standard speed (0 - 1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub fast_to_standard: f64,
    /// Share of US-only inference (inference_geo = us) moved to global (0 - 1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub us_to_global: f64,
}

impl LeverArgs {
    pub fn levers(&self) -> Levers {
        Levers {
            traffic: self.traffic,
            prompt_length: self.prompt_length,
            output_length: self.output_length,
            cache_share: self.cache_share,
            cache_hit: self.cache_hit,
            cache_more: self.cache_more,
            cache_ttl: self.cache_ttl.as_deref().and_then(Ttl::parse),
            route_share: self.route_share,
            route_to: self.route_to.clone().unwrap_or_default(),
            route_from: self.route_from.clone(),
            route_token_factor: self.route_token_factor,
            batch_share: self.batch_share,
            fast_to_standard: self.fast_to_standard,
            us_to_global: self.us_to_global,
        }
    }
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Usage files or folders (Console CSV exports, ...).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Monthly budget in USD: the report compares the month-end forecast with it.
    #[arg(long, value_name = "USD")]
    pub budget: Option<f64>,
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(flatten)]
    pub prices: PriceArgs,
    #[command(flatten)]
    pub import: ImportArgs,
    #[command(flatten)]
    pub levers: LeverArgs,
}

/// What a report or chart shows: per which period, broken down by what, over which days.
#[derive(Args, Debug)]
pub struct ViewArgs {
    #[arg(long, default_value = "day", value_parser = ["hour", "day", "week", "month"])]
    pub period: String,
    #[arg(long, default_value = "model", value_parser = ["model", "category", "workspace", "key", "tier", "project", "source", "machine"])]
    pub by: String,
    /// Keep only usage of these machines (as `--by machine` names them: "(this machine)", or
    /// a history given as an input).
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    pub machine: Vec<String>,
    /// First day included (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// Last day included (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Keep only usage from these kinds of source (console_usage_daily, console_usage_hourly,
    /// admin_usage_daily, messages, batch_results, claude_code, console_cost, admin_cost...): the choice to
    /// keep one of two sources that count the same usage.
    #[arg(long, value_name = "SOURCE[,SOURCE...]", value_delimiter = ',')]
    pub only_source: Vec<String>,
}

impl ViewArgs {
    pub fn spec(&self) -> Result<ViewSpec, Fail> {
        let from = self
            .from
            .as_deref()
            .map(|d| day_start("--from", d))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|d| day_start("--to", d))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(Fail::usage(format!(
                "--from {} is after --to {}",
                self.from.as_deref().unwrap_or_default(),
                self.to.as_deref().unwrap_or_default()
            )));
        }
        Ok(ViewSpec {
            period: Period::parse(&self.period).unwrap_or_default(),
            dimension: Dimension::parse(&self.by).unwrap_or_default(),
            filter: view::Filter {
                from,
                // The filter's end is exclusive: the day after the last day included.
                to: to.map(|t| t + 86_400),
                sources: self.only_source.clone(),
                machines: self.machine.clone(),
                ..Default::default()
            },
        })
    }
}

/// The start (UTC, Unix seconds) of a day given to `flag` as YYYY-MM-DD.
fn day_start(flag: &str, d: &str) -> Result<i64, Fail> {
    Period::parse_day(d).ok_or_else(|| {
        Fail::usage(format!(
            "{flag} wants a day YYYY-MM-DD from 2000 to 2099, got {d:?}"
        ))
    })
}

#[derive(Args, Debug)]
pub struct EstimateArgs {
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub requests_per_day: f64,
    #[arg(long, default_value_t = 24.0)]
    pub active_hours: f64,
    #[arg(long, default_value_t = 1)]
    pub days: u32,
    /// Tokens of the cacheable prefix.
    #[arg(long)]
    pub cached_prefix: f64,
    /// Other input tokens per request.
    #[arg(long, default_value_t = 0.0)]
    pub input: f64,
    /// Output tokens per request.
    #[arg(long, default_value_t = 0.0)]
    pub output: f64,
    #[arg(long, default_value = "5m", value_parser = ["5m", "1h"])]
    pub ttl: String,
    #[arg(long, default_value_t = 0.0)]
    pub batch_share: f64,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub prices: PriceArgs,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("out").required(true).multiple(true).args(["png", "records"]))]
pub struct ExportArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the chart.
    #[arg(long, value_name = "OUT.png")]
    pub png: Option<PathBuf>,
    /// Write one priced row per request (or row) with every dimension, as CSV, for a data
    /// warehouse (the view's filter applies; levers do not).
    #[arg(long, value_name = "FILE.csv")]
    pub records: Option<PathBuf>,
    /// Width in pixels.
    #[arg(long, default_value_t = 1600)]
    pub width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 900)]
    pub height: u32,
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(flatten)]
    pub prices: PriceArgs,
    #[command(flatten)]
    pub import: ImportArgs,
    #[command(flatten)]
    pub levers: LeverArgs,
}

/// A failure the CLI reports in one line: `code` 1 for input problems, 2 for bad flags.
pub struct Fail {
    pub code: u8,
    pub message: String,
}

impl Fail {
    pub fn input(m: impl Into<String>) -> Fail {
        Fail {
            code: 1,
            message: m.into(),
        }
    }

    pub fn usage(m: impl Into<String>) -> Fail {
        Fail {
            code: 2,
            message: m.into(),
        }
    }
}

pub fn exit(r: Result<(), Fail>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("costlens: {}", terminal_safe(&f.message));
            ExitCode::from(f.code)
        }
    }
}

pub fn price_table(args: &PriceArgs) -> Result<PriceTable, Fail> {
    price_table_from(args, read_price_file(args)?.as_deref())
}

/// The text of the price file given, read once (it may be a pipe, `--prices <(curl ...)`).
fn read_price_file(args: &PriceArgs) -> Result<Option<String>, Fail> {
    args.prices
        .as_ref()
        .map(|p| {
            std::fs::read_to_string(p).map_err(|e| {
                Fail::input(
                    costlens::domain::prices::PriceError::Io(p.display().to_string(), e)
                        .to_string(),
                )
            })
        })
        .transpose()
}

/// The bundled table with the price file's `text` applied and the `--map`s.
fn price_table_from(args: &PriceArgs, text: Option<&str>) -> Result<PriceTable, Fail> {
    let mut table = PriceTable::bundled();
    if let (Some(p), Some(text)) = (&args.prices, text) {
        table
            .apply_text(&p.display().to_string(), text)
            .map_err(|e| Fail::input(e.to_string()))?;
    }
    for m in &args.map {
        let (from, to) = m
            .split_once('=')
            .ok_or_else(|| Fail::usage(format!("--map wants MODEL=PRICED, got {m:?}")))?;
        table
            .map_model(from.trim(), to.trim())
            .map_err(|e| Fail::usage(e.to_string()))?;
    }
    Ok(table)
}

fn import_options(a: &ImportArgs) -> Result<Options, Fail> {
    let date = a
        .date
        .as_deref()
        .map(|d| day_start("--date", d))
        .transpose()?;
    Ok(Options {
        date,
        sum_overlaps: a.sum_overlaps,
    })
}

/// Loads files and prices them under the levers: the pipeline `report` and `export` share.
pub fn pipeline(
    files: &[PathBuf],
    prices: &PriceArgs,
    import: &ImportArgs,
    levers: &Levers,
    view: &ViewArgs,
) -> Result<Pipeline, Fail> {
    let cache = Cache::from_env();
    let now = chrono::Utc::now().timestamp();
    let table = price_table(prices)?;
    match prepare(files, table, import, levers, view, &cache, None, now)? {
        Prepared::Ready(p, _) => Ok(*p),
        Prepared::Unchanged => unreachable!("nothing to compare with"),
    }
}

/// What [`prepare`] gives.
enum Prepared {
    /// The inputs are as they were when the answer compared with was made.
    Unchanged,
    /// The pipeline, and what its import was made from when an answer can be kept for it.
    Ready(Box<Pipeline>, Option<Manifest>),
}

/// [`pipeline`], or [`Prepared::Unchanged`] when the inputs are those of manifest `since`.
/// `now`: the clock's time (a month that ended before its day is estimated, not forecast).
#[allow(clippy::too_many_arguments)]
fn prepare(
    files: &[PathBuf],
    table: PriceTable,
    import: &ImportArgs,
    levers: &Levers,
    view: &ViewArgs,
    cache: &Cache,
    since: Option<Manifest>,
    now: i64,
) -> Result<Prepared, Fail> {
    let spec = view.spec()?;
    levers
        .resolve(&table)
        .map_err(|e| Fail::usage(e.to_string()))?;
    let opts = import_options(import)?;
    let choice = import.history_choice(files)?;
    let t = std::time::Instant::now();
    let mut loaded = load::load_unless_unchanged(
        files,
        &opts,
        &Control::default(),
        cache,
        choice.as_ref(),
        since,
    );
    timing("load", t);
    if loaded.unchanged {
        return Ok(Prepared::Unchanged);
    }
    let manifest = loaded.manifest;
    for w in &loaded.history_warnings {
        eprintln!("costlens: warning: {}", terminal_safe(w));
    }
    // A file the user named that cannot be read ends the run; a problem inside a folder
    // they opened (a dangling link, an unreadable file, a link loop) is reported with the
    // rest and the other files are still imported.
    let named: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let (fatal, in_folders): (Vec<_>, Vec<_>) = std::mem::take(&mut loaded.errors)
        .into_iter()
        .partition(|e| match e {
            ImportError::Io(p, _) | ImportError::Unrecognised(p, _) | ImportError::Cancelled(p) => {
                named.contains(p)
            }
        });
    if let Some(e) = fatal.first() {
        return Err(Fail::input(e.to_string()));
    }
    for e in in_folders {
        let (file, reason) = match &e {
            ImportError::Io(p, why) => (p.clone(), format!("cannot read: {why}")),
            ImportError::Unrecognised(p, why) => (p.clone(), why.clone()),
            ImportError::Cancelled(p) => (p.clone(), "import cancelled".into()),
        };
        loaded.data.reject(costlens::import::Rejected {
            file,
            line: 0,
            reason,
        });
    }
    if loaded.data.is_empty() {
        let why = loaded
            .data
            .rejected
            .first()
            .map(|r| format!(" (first problem: {r})"))
            .unwrap_or_default();
        return Err(Fail::input(format!("nothing could be imported{why}")));
    }
    // A command prices one scenario: the cube is banded on its prompt length (and x1, always)
    // and routing token factor only, not on the app's 67 slider steps, which split the
    // requests of a Claude Code tree into many times as many cells. (The pipeline rebuilds the
    // cube for levers it was not banded on, so this saves time, it is not what makes it exact.)
    let t = std::time::Instant::now();
    // The import's snapshot is written beside the cube's build.
    let snapshot = loaded.snapshot.take();
    let mut p = Pipeline::from_analysis_at(
        load::Analysis::for_levers_saving(loaded.data, table, &[], levers, snapshot),
        Some(now),
    );
    timing("analysis (cube, first view; snapshot written)", t);
    let t = std::time::Instant::now();
    p.set_spec(spec);
    p.set_levers(levers.clone());
    p.refresh();
    timing("the report's view and evaluation", t);
    Ok(Prepared::Ready(Box::new(p), manifest))
}

/// The request a report answers: the day of `now`, its arguments as given, the working folder
/// (relative paths name other files elsewhere) and the text of the price file it read (the
/// same text the table is made from). `None` without a working folder.
fn report_request(a: &ReportArgs, now: i64, prices: Option<&str>) -> Option<Request> {
    let args = format!("{a:?}");
    let cwd = std::env::current_dir().ok()?;
    let prices = prices.unwrap_or_default().as_bytes();
    // Today's date: a month that ended before it is estimated, not forecast.
    let today = costlens::domain::time::Period::Day.start(now).to_string();
    Some(Request::new(&[
        b"report",
        today.as_bytes(),
        args.as_bytes(),
        cwd.as_os_str().as_encoded_bytes(),
        prices,
    ]))
}

pub fn run_report(a: &ReportArgs) -> Result<(), Fail> {
    let levers = a.levers.levers();
    if let Some(b) = a.budget
        && !(b.is_finite() && b > 0.0)
    {
        return Err(Fail::usage(format!(
            "--budget wants a monthly amount in USD above 0, got {b}"
        )));
    }
    // The same report asked again while no file changed is answered from the one kept.
    let cache = Cache::from_env();
    let now = chrono::Utc::now().timestamp();
    let prices = read_price_file(&a.prices)?;
    let table = price_table_from(&a.prices, prices.as_deref())?;
    let request = cache
        .dir()
        .and_then(|_| report_request(a, now, prices.as_deref()));
    let kept = cache
        .dir()
        .zip(request)
        .and_then(|(dir, r)| answer::read(dir, r));
    let since = kept.as_ref().map(|k| k.manifest);
    let (mut p, manifest) = match prepare(
        &a.files, table, &a.import, &levers, &a.view, &cache, since, now,
    )? {
        Prepared::Ready(p, m) => (*p, m),
        Prepared::Unchanged => {
            let Some(kept) = kept else {
                unreachable!("unchanged is only said against an answer")
            };
            let t = std::time::Instant::now();
            kept.write_to(&mut std::io::stdout().lock())
                .map_err(|e| Fail::input(format!("cannot write the report: {e}")))?;
            eprint!("{}", kept.stderr);
            kept.mark_used();
            timing("report answered as kept", t);
            return Ok(());
        }
    };
    p.set_budget(a.budget);
    let t = std::time::Instant::now();
    let report = p.report();
    timing("report", t);
    // Written as it is made, to standard output and to the answer kept for next time: the
    // JSON of a large tree (every file's summary) is tens of megabytes, never held whole in
    // memory.
    let stdout = std::io::stdout().lock();
    let mut out = match (cache.dir(), request, manifest) {
        (Some(dir), Some(r), Some(_)) => {
            Output::Kept(Box::new(answer::Recorder::new(dir, r, stdout)))
        }
        _ => Output::Plain(stdout),
    };
    let mut said = String::new();
    let t = std::time::Instant::now();
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut out);
        let written = if a.json {
            serde_json::to_writer_pretty(&mut w, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(w))
        } else {
            w.write_all(render_report(&report).as_bytes())
        };
        written
            .and_then(|()| w.flush())
            .map_err(|e| Fail::input(format!("cannot write the report: {e}")))?;
    }
    timing("output", t);
    if a.json {
        // The JSON holds it too (`price_table`); a pipeline's log should show it as well.
        use std::fmt::Write;
        for d in &report.double_counts {
            let _ = writeln!(said, "costlens: warning: {}", d.message(true));
        }
        for m in report.price_table.messages(true) {
            let _ = writeln!(said, "costlens: warning: {}", terminal_safe(&m));
        }
    }
    eprint!("{said}");
    match (out, manifest) {
        (Output::Kept(r), Some(m)) => r.keep(m, &said),
        (Output::Kept(r), None) => r.discard(),
        (Output::Plain(mut o), _) => std::io::Write::flush(&mut o),
    }
    .map_err(|e| Fail::input(format!("cannot write the report: {e}")))?;
    Ok(())
}

/// Where a report goes: standard output, and the answer kept when there is one to keep.
enum Output<W: std::io::Write> {
    Plain(W),
    Kept(Box<answer::Recorder<W>>),
}

impl<W: std::io::Write> std::io::Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Plain(w) => w.write(buf),
            Output::Kept(r) => r.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Kept(r) => r.flush(),
        }
    }
}

/// `costlens prices --check FILE...`: what the files would leave unpriced.
fn check_prices(a: &PricesArgs, table: &PriceTable) -> Result<(), Fail> {
    let opts = import_options(&a.import)?;
    let loaded = load::load(&a.check, &opts, &Control::default());
    if let Some(e) = loaded.errors.first()
        && loaded.data.is_empty()
    {
        return Err(Fail::input(e.to_string()));
    }
    let check = costlens::engine::price_check::PriceCheck::of(&loaded.data, table);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&check).unwrap_or_default()
        );
    } else {
        println!(
            "Prices as of {} ({}).",
            check.as_of,
            check.sources.join("; ")
        );
        if check.unknown_models.is_empty() {
            println!("Every model in the data is priced.");
        } else {
            println!("Not priced (left out of every total):");
            for u in &check.unknown_model_volumes {
                println!(
                    "  {:<40} {:>16} tokens{}",
                    terminal_safe(&u.model),
                    money::count(u.tokens),
                    if u.billed_usd != 0.0 {
                        format!("  {} billed", money::usd(u.billed_usd))
                    } else {
                        String::new()
                    }
                );
            }
            println!(
                "Fix: --map NAME=MODEL (bill it as a priced model), or --prices FILE (a newer costlens price file or LiteLLM's model_prices_and_context_window.json)."
            );
        }
        if check.usage_after_as_of {
            for m in check
                .messages(true)
                .iter()
                .skip(usize::from(!check.unknown_models.is_empty()))
            {
                println!("{m}");
            }
        }
    }
    if check.unknown_models.is_empty() {
        Ok(())
    } else {
        Err(Fail {
            code: 1,
            message: format!("{} model(s) would be unpriced", check.unknown_models.len()),
        })
    }
}

/// A name from the data as the terminal may show it: control characters (a carriage return
/// that would rewrite the line, escape sequences) are written as escapes.
pub fn terminal_safe(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

pub fn render_report(r: &Report<'_>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let rows: u64 = r.files.iter().map(|f| f.rows).sum();
    let _ = writeln!(
        s,
        "costlens report: {} file(s), {} rows imported, {} rejected",
        r.files.len(),
        money::count(rows),
        money::count(r.rejected_total)
    );
    if r.files.len() <= 12 {
        for f in r.files {
            let _ = writeln!(
                s,
                "  {} [{}]: {} rows, {} rejected",
                terminal_safe(&f.path),
                f.format,
                f.rows,
                f.rejected
            );
            for n in &f.notes {
                let _ = writeln!(s, "    note: {}", terminal_safe(n));
            }
        }
    } else {
        // A Claude Code tree is thousands of files: one line per format, and each kind of
        // note once (every file's notes are in --json).
        let mut by_format: std::collections::BTreeMap<&str, (usize, u64, u64, u64)> =
            Default::default();
        for f in r.files {
            let e = by_format.entry(f.format.label()).or_default();
            e.0 += 1;
            e.1 += f.rows;
            e.2 += f.rejected;
            e.3 += f.duplicates;
        }
        for (format, (n, rows, rejected, dups)) in by_format {
            let _ = writeln!(
                s,
                "  {n} files [{format}]: {} rows, {} rejected, {} duplicate lines merged",
                money::count(rows),
                money::count(rejected),
                money::count(dups)
            );
        }
        let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
        for n in r.files.iter().flat_map(|f| &f.notes) {
            // Notes of one kind differ only in the count they start with.
            let key = n
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ',')
                .to_owned();
            *kinds.entry(key).or_default() += 1;
        }
        for (kind, count) in kinds.iter().take(8) {
            let _ = writeln!(
                s,
                "    note ({count} files): {}",
                terminal_safe(kind.trim())
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(s, "  note: {}", terminal_safe(n));
    }
    if let Some(h) = &r.history {
        let line = if h.requests_from_deleted_logs > 0 {
            h.summary()
        } else {
            format!(
                "{}: {} newly recorded, none from deleted logs",
                h.database,
                money::plural(h.recorded as usize, "request")
            )
        };
        let _ = writeln!(s, "  history: {}", terminal_safe(&line));
    }
    if !r.unrecognised_files.is_empty() {
        let shown: Vec<String> = r
            .unrecognised_files
            .iter()
            .take(5)
            .map(|f| terminal_safe(f))
            .collect();
        let _ = writeln!(
            s,
            "  {} files in the opened folders are not usage files (skipped): {}{}",
            r.unrecognised_files.len(),
            shown.join(", "),
            if r.unrecognised_files.len() > 5 {
                " ... (all in --json)"
            } else {
                ""
            }
        );
    }
    if let Some(d) = &r.derived_from_cost {
        let _ = writeln!(s, "  {}", d.summary());
    }
    for o in &r.overlaps {
        let _ = writeln!(
            s,
            "  overlap: {} and {} hold the same {} rows ({} days, {} to {}): {}",
            terminal_safe(&o.files[0]),
            terminal_safe(&o.files[1]),
            money::count(o.rows),
            o.days.len(),
            o.days.first().map(String::as_str).unwrap_or(""),
            o.days.last().map(String::as_str).unwrap_or(""),
            if o.summed {
                "added up (--sum-overlaps)"
            } else {
                "each counted once, from the copy with more tokens (--sum-overlaps adds them up)"
            }
        );
    }
    for d in &r.double_counts {
        let _ = writeln!(s, "  warning: {}", d.message(true));
    }
    for m in r.price_table.messages(true) {
        let _ = writeln!(s, "  prices: {}", terminal_safe(&m));
    }
    for n in &r.price_notes {
        let _ = writeln!(s, "  pricing: {}", terminal_safe(n));
    }
    let _ = writeln!(s);
    let usd = |v: Option<f64>| match v {
        Some(v) => money::usd(v),
        None => "unpriced".to_owned(),
    };
    let _ = writeln!(s, "  Actual (recomputed)  {:>16}", usd(r.actual_usd));
    if r.actual_usd.is_none() {
        let _ = writeln!(
            s,
            "  (no model in this selection has a price: its cost is unknown, not $0; see Unpriced models below)"
        );
    }
    if let Some(b) = r.billed_usd {
        let diff = r
            .billed_difference_usd
            .map(|d| format!("   difference {}", money::usd(d)))
            .unwrap_or_default();
        let _ = writeln!(s, "  Billed (cost export) {:>16}{diff}", money::usd(b));
    }
    if let Some(rep) = r.reported_usd {
        let _ = writeln!(s, "  Reported by logs     {:>16}", money::usd(rep));
    }
    let _ = writeln!(s, "  Scenario             {:>16}", usd(r.scenario_usd));
    match (r.savings_usd, r.savings_pct) {
        (Some(v), Some(p)) if v < 0.0 => {
            let _ = writeln!(
                s,
                "  Extra cost           {:>16}   {}",
                money::usd(-v),
                money::pct(-p)
            );
        }
        (Some(v), Some(p)) => {
            let _ = writeln!(
                s,
                "  Savings              {:>16}   {}",
                money::usd(v),
                money::pct(p)
            );
        }
        _ => {
            let _ = writeln!(s, "  Savings              {:>16}", "unpriced");
        }
    }
    let _ = writeln!(
        s,
        "  Observed: cacheable share {}, cache hit rate {}, batch share {}",
        money::pct(100.0 * r.observed.cache_share),
        money::pct(100.0 * r.observed.cache_hit),
        money::pct(100.0 * r.observed.batch_share)
    );
    let _ = writeln!(s, "\nSavings by lever");
    for w in &r.waterfall {
        // Nothing priced: what each lever saves is unknown too, not $0.
        let saved = match r.actual_usd {
            Some(_) => money::usd(w.savings_usd),
            None => "unpriced".to_owned(),
        };
        let _ = writeln!(s, "  {:<24} {:>14}", w.label, saved);
    }
    if r.levers.route_share > 0.0
        && let Some(f) = r.levers.route_token_factor
    {
        let _ = writeln!(
            s,
            "  (where routing crosses tokenizers, tokens scale x{f:.2} old to new, x{:.2} back)",
            1.0 / f
        );
    }
    if let Some(c) = &r.cache_minimum {
        for n in &c.notes {
            let _ = writeln!(s, "  caching: {n}");
        }
    }
    if !r.ttl_replay.is_empty() || !r.ttl_replay_notes.is_empty() {
        let _ = writeln!(s, "\nCache TTL replay (requests with times of their own)");
        for t in &r.ttl_replay {
            let _ = writeln!(
                s,
                "  {:<4} hit rate {:>7}  writes {:>16}  reads {:>16}  cost {:>14}  (actual {})",
                t.ttl.label(),
                money::pct(100.0 * t.hit_rate),
                money::count(t.cache_write_tokens.round() as u64),
                money::count(t.cache_read_tokens.round() as u64),
                money::usd(t.cost_usd),
                money::usd(t.actual_usd)
            );
        }
        for n in &r.ttl_replay_notes {
            let _ = writeln!(s, "  {n}");
        }
    }
    if let Some(f) = &r.forecast {
        let title = if f.past { "Estimated" } else { "Forecast" };
        let _ = writeln!(s, "\n{title} {}", f.month);
        if f.past {
            let _ = writeln!(
                s,
                "  Month (estimated)    {:>16}   {} in the data, {}/day for the days it misses",
                money::usd(f.month_end),
                money::usd(f.to_date),
                money::usd(f.daily_rate)
            );
        } else if f.complete {
            let _ = writeln!(s, "  Spent (month over)   {:>16}", money::usd(f.to_date));
        } else {
            let _ = writeln!(
                s,
                "  Month end            {:>16}   {} so far, {}/day",
                money::usd(f.month_end),
                money::usd(f.to_date),
                money::usd(f.daily_rate)
            );
        }
        let _ = writeln!(s, "  {}", f.method);
    }
    if let Some(b) = &r.budget {
        let _ = writeln!(
            s,
            "  Budget {} a month: {}",
            money::usd(b.monthly_usd),
            match &b.exceeds_on {
                Some(d) if b.spent_usd > b.monthly_usd => format!("exceeded on {d}"),
                Some(d) => format!("the forecast exceeds it on {d}"),
                None => format!(
                    "the forecast stays within it ({} left)",
                    money::usd(b.monthly_usd - b.forecast_usd)
                ),
            }
        );
    }
    if !r.opportunities.is_empty() {
        let _ = writeln!(
            s,
            "\nOpportunities (realistic lever settings, largest first)"
        );
        for o in r.opportunities.iter().take(10) {
            let _ = writeln!(
                s,
                "  {:>12}  {} {}: {} ({})",
                money::usd(o.savings_usd),
                o.dimension.label().to_lowercase(),
                terminal_safe(&o.key),
                o.lever,
                terminal_safe(&o.detail)
            );
        }
        if r.opportunities.len() > 10 {
            let _ = writeln!(s, "  ... {} more in --json", r.opportunities.len() - 10);
        }
    }
    let _ = writeln!(s, "\nBy {}", r.by.label().to_lowercase());
    let _ = writeln!(
        s,
        "  {:<32} {:>14} {:>14} {:>16}",
        "", "actual", "scenario", "tokens"
    );
    for b in &r.breakdown {
        let _ = writeln!(
            s,
            "  {:<32} {:>14} {:>14} {:>16}",
            terminal_safe(&b.key),
            money::usd(b.actual_usd),
            money::usd(b.scenario_usd),
            money::count(b.tokens.total())
        );
    }
    let _ = writeln!(s, "\nBy {}", r.period.key());
    for p in &r.series {
        let billed = p
            .billed_usd
            .map(|b| format!("  billed {}", money::usd(b)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<18} {:>14} {:>14}{billed}",
            p.period,
            money::usd(p.actual_usd),
            money::usd(p.scenario_usd)
        );
    }
    if !r.unpriced.is_empty() {
        let _ = writeln!(
            s,
            "\nUnpriced models (not in the totals; map them with --map MODEL=PRICED):"
        );
        for u in &r.unpriced {
            let _ = writeln!(
                s,
                "  {:<40} {} tokens",
                terminal_safe(&u.model),
                money::count(u.tokens)
            );
        }
    }
    if r.rejected_total > 0 {
        let _ = writeln!(s, "\nRejected lines:");
        for x in r.rejected.iter().take(50) {
            let _ = writeln!(s, "  {}", terminal_safe(&x.to_string()));
        }
        if r.rejected_total > 50 {
            let _ = writeln!(s, "  ... and {} more; by reason:", r.rejected_total - 50);
            for k in r.rejected_by_reason.iter().take(10) {
                let _ = writeln!(
                    s,
                    "  {:>10}  {}",
                    money::count(k.count),
                    terminal_safe(&k.reason)
                );
            }
        }
    }
    s
}

pub fn run_estimate(a: &EstimateArgs) -> Result<(), Fail> {
    let table = price_table(&a.prices)?;
    let w = Workload {
        model: a.model.clone(),
        requests_per_day: a.requests_per_day,
        active_hours: a.active_hours,
        days: a.days,
        cached_prefix: a.cached_prefix,
        input: a.input,
        output: a.output,
        ttl: Ttl::parse(&a.ttl).unwrap_or_default(),
        batch_share: a.batch_share,
    };
    let e = estimate::estimate(&table, &w).map_err(|e| Fail::usage(e.to_string()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default());
    } else {
        println!("{} — {} requests", e.model, e.requests);
        println!("  without caching  {:>12}", money::usd(e.without_cache_usd));
        println!("  with caching     {:>12}", money::usd(e.with_cache_usd));
        if e.billed_with_cache_usd != e.with_cache_usd {
            println!(
                "  billed by the API{:>12}   (no caching: see the warning)",
                money::usd(e.billed_with_cache_usd)
            );
        }
        println!(
            "  savings          {:>12}   {}",
            money::usd(e.savings_usd),
            money::pct(e.savings_pct)
        );
        println!(
            "  {} cache writes, {} cache reads; requests every {:.0} s ({} the {} TTL)",
            e.cache_writes,
            e.cache_reads,
            e.gap_seconds,
            if e.stays_cached {
                "within"
            } else {
                "longer than"
            },
            w.ttl.label()
        );
        if let Some(m) = e.min_cacheable_tokens {
            println!(
                "  minimum cacheable prefix of {}: {} tokens",
                e.model,
                money::count(m)
            );
        }
        for warning in &e.warnings {
            println!("  warning: {warning}");
        }
    }
    Ok(())
}

pub fn run_prices(a: &PricesArgs) -> Result<(), Fail> {
    let table = price_table(&a.prices)?;
    if !a.check.is_empty() {
        return check_prices(a, &table);
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&table.to_file()).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{:<28} {:<24} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}  notes",
        "model", "display name", "from", "input", "5m wr", "1h wr", "read", "output"
    );
    for m in &table.models {
        for p in &m.prices {
            let r = m.effective(&p.standard);
            let mut notes = Vec::new();
            if let Some(f) = m.fast_multiplier_in(p) {
                notes.push(format!("fast {f}x"));
            }
            if !m.caching {
                notes.push("no caching".to_owned());
            }
            if p.confidence != Confidence::Published || m.confidence != Confidence::Published {
                notes.push("secondary".to_owned());
            }
            println!(
                "{:<28} {:<24} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}  {}",
                m.id,
                m.display_name(),
                p.effective_from,
                r.input,
                r.cache_write_5m,
                r.cache_write_1h,
                r.cache_read,
                r.output,
                notes.join(", ")
            );
            for t in &p.tiers {
                let l = m.effective(&t.rates);
                println!(
                    "{:<28} {:<24} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}  {}",
                    "",
                    format!("  prompt > {}K", t.above_prompt_tokens / 1000),
                    "",
                    l.input,
                    l.cache_write_5m,
                    l.cache_write_1h,
                    l.cache_read,
                    l.output,
                    if t.confidence == Confidence::Published {
                        ""
                    } else {
                        "secondary"
                    }
                );
            }
        }
    }
    println!(
        "USD per million tokens; web search ${} per 1,000 searches. Prices as of {} ({}).",
        table.web_search_per_1k,
        table.as_of,
        table.sources.join("; ")
    );
    Ok(())
}

/// `costlens export --records FILE.csv`: one priced row per request (or row), every
/// dimension, through a temporary file renamed into place (never over an input).
pub fn write_records(p: &Pipeline, out: &std::path::Path, inputs: &[PathBuf]) -> Result<(), Fail> {
    let fail = |e: String| Fail::input(format!("{}: {e}", out.display()));
    let same = |a: &std::path::Path| {
        std::fs::canonicalize(a)
            .ok()
            .zip(std::fs::canonicalize(out).ok())
            .is_some_and(|(x, y)| x == y)
    };
    if inputs.iter().any(|i| same(i)) {
        return Err(fail("is one of the input files: not replaced".to_owned()));
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let tmp = costlens::store::atomic::temp_in(dir).map_err(|e| fail(e.to_string()))?;
    let n = costlens::pipeline::records::write_csv(
        p.data(),
        p.table(),
        &p.spec().filter,
        std::io::BufWriter::with_capacity(1 << 20, tmp.as_file()),
    )
    .map_err(|e| fail(e.to_string()))?;
    tmp.persist(out).map_err(|e| fail(e.error.to_string()))?;
    eprintln!("wrote {} ({} rows)", out.display(), money::count(n));
    Ok(())
}

/// `costlens history stats|forget|export`.
pub fn run_history(a: &HistoryArgs) -> Result<(), Fail> {
    use costlens::store::history::{self, History};
    let path = match &a.db {
        Some(p) => p.clone(),
        None => {
            history::default_path().ok_or_else(|| Fail::input("no data folder: give --db FILE"))?
        }
    };
    let shown = path.display().to_string();
    let exists = path.exists();
    let open = |write: bool| -> Result<History, Fail> {
        let h = if write {
            History::open(&path)
        } else {
            History::open_read_only(&path)
        }
        .map_err(|e| Fail::input(e.to_string()))?;
        for n in &h.notes {
            eprintln!("costlens: warning: {}", terminal_safe(n));
        }
        Ok(h)
    };
    match &a.command {
        HistoryCommand::Stats { json } => {
            if !exists {
                return Err(Fail::input(format!(
                    "{shown}: no usage history yet (reports of Claude Code folders start one)"
                )));
            }
            let s = open(false)?
                .stats()
                .map_err(|e| Fail::input(e.to_string()))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            } else {
                println!("Usage history {} (machine {})", s.path, s.machine);
                println!(
                    "  {} requests from {} files ({} of them no longer on disk, holding {} requests kept here only)",
                    money::count(s.requests),
                    money::count(s.files),
                    money::count(s.files_gone),
                    money::count(s.requests_from_gone_files)
                );
                println!(
                    "  from {} to {}",
                    s.first.as_deref().unwrap_or("-"),
                    s.last.as_deref().unwrap_or("-")
                );
                println!(
                    "  tokens: {} uncached input, {} cache writes (5m), {} cache writes (1h), {} cache reads, {} output",
                    money::count(s.tokens.uncached_input),
                    money::count(s.tokens.cache_write_5m),
                    money::count(s.tokens.cache_write_1h),
                    money::count(s.tokens.cache_read),
                    money::count(s.tokens.output)
                );
                println!(
                    "  {} bytes on disk; schema {}, revision {}; integrity check: {}",
                    money::count(s.bytes),
                    s.schema,
                    s.revision,
                    s.integrity
                );
            }
            Ok(())
        }
        HistoryCommand::Forget { before } => {
            let t = day_start("--before", before)?;
            if !exists {
                return Err(Fail::input(format!("{shown}: no usage history")));
            }
            let n = open(true)?
                .forget_before(t)
                .map_err(|e| Fail::input(e.to_string()))?;
            println!(
                "forgot {} requests before {before} in {shown}",
                money::count(n)
            );
            Ok(())
        }
        HistoryCommand::Export { file } => {
            if !exists {
                return Err(Fail::input(format!("{shown}: no usage history")));
            }
            let h = open(false)?;
            let fail = |e: String| Fail::input(format!("{}: {e}", file.display()));
            let dir = match file.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            let tmp = costlens::store::atomic::temp_in(dir).map_err(|e| fail(e.to_string()))?;
            let n = h
                .export_csv(std::io::BufWriter::with_capacity(1 << 20, tmp.as_file()))
                .map_err(|e| fail(e.to_string()))?;
            tmp.persist(file).map_err(|e| fail(e.error.to_string()))?;
            eprintln!("wrote {} ({} requests)", file.display(), money::count(n));
            Ok(())
        }
    }
}
