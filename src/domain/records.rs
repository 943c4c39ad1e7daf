//! Usage records: one row of token usage, whatever file it came from.

use serde::{Deserialize, Serialize};

/// The long-context threshold of the 1M-context beta (Sonnet 4 / 4.5, and 4.6 until
/// 2026-03-12): a request whose prompt exceeds it is billed entirely at long-context rates. The
/// price table carries it per model and period as a request tier; this is the value older
/// price files mean by `long_context`, and what generators use.
pub const LONG_CONTEXT_THRESHOLD: u64 = 200_000;

/// The five token categories the API bills separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    UncachedInput,
    CacheWrite5m,
    CacheWrite1h,
    CacheRead,
    Output,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::UncachedInput,
        Category::CacheWrite5m,
        Category::CacheWrite1h,
        Category::CacheRead,
        Category::Output,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Category::UncachedInput => "uncached_input",
            Category::CacheWrite5m => "cache_write_5m",
            Category::CacheWrite1h => "cache_write_1h",
            Category::CacheRead => "cache_read",
            Category::Output => "output",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::UncachedInput => "Uncached input",
            Category::CacheWrite5m => "Cache write (5m)",
            Category::CacheWrite1h => "Cache write (1h)",
            Category::CacheRead => "Cache read",
            Category::Output => "Output",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Token counts by category. `T` is `u64` for observed usage and `f64` inside the scenario
/// engine, where levers produce fractional counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tokens<T> {
    pub uncached_input: T,
    pub cache_write_5m: T,
    pub cache_write_1h: T,
    pub cache_read: T,
    pub output: T,
}

impl<T: Copy> Tokens<T> {
    pub fn get(&self, c: Category) -> T {
        match c {
            Category::UncachedInput => self.uncached_input,
            Category::CacheWrite5m => self.cache_write_5m,
            Category::CacheWrite1h => self.cache_write_1h,
            Category::CacheRead => self.cache_read,
            Category::Output => self.output,
        }
    }

    pub fn as_array(&self) -> [T; 5] {
        [
            self.uncached_input,
            self.cache_write_5m,
            self.cache_write_1h,
            self.cache_read,
            self.output,
        ]
    }

    pub fn from_array(a: [T; 5]) -> Self {
        Tokens {
            uncached_input: a[0],
            cache_write_5m: a[1],
            cache_write_1h: a[2],
            cache_read: a[3],
            output: a[4],
        }
    }
}

impl Tokens<u64> {
    /// Input as the long-context rule counts it: uncached + cache writes + cache reads.
    pub fn total_input(&self) -> u64 {
        self.uncached_input
            .saturating_add(self.cache_write_5m)
            .saturating_add(self.cache_write_1h)
            .saturating_add(self.cache_read)
    }

    pub fn total(&self) -> u64 {
        self.total_input().saturating_add(self.output)
    }

    pub fn saturating_add(&self, o: &Tokens<u64>) -> Tokens<u64> {
        let (a, b) = (self.as_array(), o.as_array());
        Tokens::from_array(std::array::from_fn(|i| a[i].saturating_add(b[i])))
    }

    pub fn to_f64(&self) -> Tokens<f64> {
        Tokens::from_array(self.as_array().map(|v| v as f64))
    }
}

impl Tokens<f64> {
    pub fn total_input(&self) -> f64 {
        self.uncached_input + self.cache_write_5m + self.cache_write_1h + self.cache_read
    }

    pub fn scale(&self, k: f64) -> Tokens<f64> {
        Tokens::from_array(self.as_array().map(|v| v * k))
    }

    pub fn add(&self, o: &Tokens<f64>) -> Tokens<f64> {
        let (a, b) = (self.as_array(), o.as_array());
        Tokens::from_array(std::array::from_fn(|i| a[i] + b[i]))
    }
}

/// The service tier (`usage_type` in the Console, `service_tier` in the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Standard,
    Batch,
    Priority,
    PriorityOnDemand,
    Flex,
    FlexDiscount,
}

/// The value named `s` (trimmed, in any ASCII case) in `names` (lowercase). Compared in
/// place, not lowercased into a new string: the tier, geography and speed of every imported
/// line are read through here.
fn named<T: Copy>(s: &str, names: &[(&str, T)]) -> Option<T> {
    let s = s.trim();
    names
        .iter()
        .find(|(n, _)| s.eq_ignore_ascii_case(n))
        .map(|&(_, v)| v)
}

impl Tier {
    /// Every tier, in declaration order: `Tier::ALL[t as usize] == t`.
    pub const ALL: [Tier; 6] = [
        Tier::Standard,
        Tier::Batch,
        Tier::Priority,
        Tier::PriorityOnDemand,
        Tier::Flex,
        Tier::FlexDiscount,
    ];

    pub fn parse(s: &str) -> Option<Tier> {
        named(
            s,
            &[
                ("standard", Tier::Standard),
                ("", Tier::Standard),
                ("default", Tier::Standard),
                // The Console's 2024 cost exports call the standard tier of the Messages API so.
                ("message", Tier::Standard),
                ("batch", Tier::Batch),
                ("priority", Tier::Priority),
                ("priority_on_demand", Tier::PriorityOnDemand),
                ("flex", Tier::Flex),
                ("flex_discount", Tier::FlexDiscount),
            ],
        )
    }

    pub fn key(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Batch => "batch",
            Tier::Priority => "priority",
            Tier::PriorityOnDemand => "priority_on_demand",
            Tier::Flex => "flex",
            Tier::FlexDiscount => "flex_discount",
        }
    }
}

/// Where inference ran. Only `us` (data residency) changes the price.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Geo {
    #[default]
    NotAvailable,
    Global,
    Us,
}

impl Geo {
    /// Every value, in declaration order: `Geo::ALL[g as usize] == g`.
    pub const ALL: [Geo; 3] = [Geo::NotAvailable, Geo::Global, Geo::Us];

    pub fn parse(s: &str) -> Option<Geo> {
        named(
            s,
            &[
                ("", Geo::NotAvailable),
                ("not_available", Geo::NotAvailable),
                ("null", Geo::NotAvailable),
                ("global", Geo::Global),
                ("us", Geo::Us),
            ],
        )
    }
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Speed {
    #[default]
    Standard,
    Fast,
}

impl Speed {
    pub fn parse(s: &str) -> Option<Speed> {
        named(
            s,
            &[
                ("", Speed::Standard),
                ("standard", Speed::Standard),
                ("normal", Speed::Standard),
                ("null", Speed::Standard),
                ("fast", Speed::Fast),
            ],
        )
    }
}

/// How the long-context rule applies to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Context {
    /// One API request: long context when its total input exceeds 200,000 tokens (the whole
    /// request is then billed at long-context rates, not split at 200K).
    Request,
    /// An aggregated row that carries the flag itself (`context_window` in exports).
    Flag(bool),
}

impl Context {
    /// The context as a small number, as packed records and the cache keep it: 0 a request,
    /// 1 a row without the flag, 2 a row with it.
    pub fn code(self) -> u8 {
        match self {
            Context::Request => 0,
            Context::Flag(false) => 1,
            Context::Flag(true) => 2,
        }
    }

    /// The context [`Context::code`] gives `c`, if any.
    pub fn from_code(c: u8) -> Option<Context> {
        match c {
            0 => Some(Context::Request),
            1 => Some(Context::Flag(false)),
            2 => Some(Context::Flag(true)),
            _ => None,
        }
    }
}

/// How wide a record's time bucket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Request,
    Minute,
    Hour,
    Day,
}

impl Bucket {
    /// Every width, in declaration order: `Bucket::ALL[b as usize] == b`.
    pub const ALL: [Bucket; 4] = [Bucket::Request, Bucket::Minute, Bucket::Hour, Bucket::Day];
}

/// A string interned in a [`Symbols`] table (model names, workspaces, keys, projects).
pub type Sym = u32;

/// One row of usage. Strings are interned: `model`, `workspace`, `api_key` and `project` index
/// the [`Symbols`] table of the dataset (or file) that owns the record; `0` is "none".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UsageRecord {
    /// Start of the bucket (or the request time), Unix seconds UTC.
    pub time: i64,
    pub bucket: Bucket,
    pub model: Sym,
    pub tier: Tier,
    pub context: Context,
    pub geo: Geo,
    pub speed: Speed,
    pub workspace: Sym,
    pub api_key: Sym,
    pub project: Sym,
    /// The session (a Claude Code `sessionId`) a request belongs to: the stream whose cache
    /// a later request reads. 0 where unknown.
    pub session: Sym,
    /// The machine a history database came from (a team's merged view). 0 = this one.
    pub machine: Sym,
    pub tokens: Tokens<u64>,
    pub web_search: u64,
    /// Requests the row stands for, where known (1 for a request-level record).
    pub requests: u64,
    /// The kind of source it came from: an index into the dataset's sources (set when files
    /// are merged; 0 in a parsed file).
    pub source: u8,
}

impl UsageRecord {
    /// One API request (Messages logs, batch results, Claude Code): bucket and context rule
    /// of a request, no workspace or key, one request. Importers fill in the rest with
    /// struct-update syntax.
    pub const REQUEST: UsageRecord = UsageRecord {
        time: 0,
        bucket: Bucket::Request,
        model: 0,
        tier: Tier::Standard,
        context: Context::Request,
        geo: Geo::NotAvailable,
        speed: Speed::Standard,
        workspace: 0,
        api_key: 0,
        project: 0,
        session: 0,
        machine: 0,
        tokens: Tokens {
            uncached_input: 0,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: 0,
            output: 0,
        },
        web_search: 0,
        requests: 1,
        source: 0,
    };

    /// The record's symbol ids: model, workspace, API key, project, session and machine, in that
    /// order (the order the cache lays them out in).
    pub fn sym_ids(&self) -> [Sym; 6] {
        [
            self.model,
            self.workspace,
            self.api_key,
            self.project,
            self.session,
            self.machine,
        ]
    }

    /// Long context as the 1M-context beta's 200K threshold has it (the price table's tiers
    /// decide what a request pays; this is for counting).
    pub fn is_long_context_observed(&self) -> bool {
        match self.context {
            Context::Request => self.tokens.total_input() > LONG_CONTEXT_THRESHOLD,
            Context::Flag(b) => b,
        }
    }
}

/// String interning: index 0 is always the empty string ("none").
#[derive(Clone, Debug)]
pub struct Symbols {
    names: Vec<String>,
    /// The ids of the names, found by the name's hash: each name is held once, in `names`
    /// (a map from names to ids held each name twice: 7 MB of a 10 GB folder's 280,000 session
    /// and project names). Hashed with FxHash, not SipHash: every file's names are interned
    /// when it is parsed or read from the cache and again when it is merged (interning was 7%
    /// of an appended report's instructions; FxHash takes 1.5% of the total off); the names
    /// come from the user's own files.
    index: hashbrown::HashTable<Sym>,
}

fn name_hash(name: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name)
}

impl Default for Symbols {
    fn default() -> Self {
        let mut s = Symbols {
            names: Vec::new(),
            index: hashbrown::HashTable::new(),
        };
        s.intern("");
        s
    }
}

impl Symbols {
    pub fn intern(&mut self, name: &str) -> Sym {
        let h = name_hash(name);
        let names = &self.names;
        if let Some(&i) = self.index.find(h, |&s| names[s as usize] == name) {
            return i;
        }
        let i = self.names.len() as Sym;
        self.names.push(name.to_owned());
        let names = &self.names;
        self.index
            .insert_unique(h, i, |&s| name_hash(&names[s as usize]));
        i
    }

    pub fn get(&self, sym: Sym) -> &str {
        self.names
            .get(sym as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn lookup(&self, name: &str) -> Option<Sym> {
        self.index
            .find(name_hash(name), |&s| self.names[s as usize] == name)
            .copied()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Every name in index order (what [`Symbols::from_names`] restores).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The table whose names, in index order, are `names` (as saved from [`Symbols::names`]);
    /// `None` when they cannot be (not starting with "", or a name twice).
    pub fn from_names(names: &[String]) -> Option<Symbols> {
        let mut s = Symbols::default();
        s.names.reserve(names.len());
        s.index
            .reserve(names.len(), |&i| name_hash(&s.names[i as usize]));
        for (i, n) in names.iter().enumerate() {
            if s.intern(n) as usize != i {
                return None;
            }
        }
        Some(s)
    }

    pub fn is_empty(&self) -> bool {
        self.names.len() <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `ALL` lists its values in declaration order (packed records and the cache keep a
    /// value as its index there).
    #[test]
    fn every_all_is_in_declaration_order() {
        for (i, t) in Tier::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
        for (i, g) in Geo::ALL.iter().enumerate() {
            assert_eq!(*g as usize, i);
        }
        for (i, b) in Bucket::ALL.iter().enumerate() {
            assert_eq!(*b as usize, i);
        }
    }

    /// Tier, geography and speed names read in place are what lowercasing a copy read.
    #[test]
    fn terms_are_read_in_any_case_and_with_spaces_as_before() {
        let tier = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
            "standard" | "" | "default" | "message" => Some(Tier::Standard),
            "batch" => Some(Tier::Batch),
            "priority" => Some(Tier::Priority),
            "priority_on_demand" => Some(Tier::PriorityOnDemand),
            "flex" => Some(Tier::Flex),
            "flex_discount" => Some(Tier::FlexDiscount),
            _ => None,
        };
        let geo = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
            "" | "not_available" | "null" => Some(Geo::NotAvailable),
            "global" => Some(Geo::Global),
            "us" => Some(Geo::Us),
            _ => None,
        };
        let speed = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
            "" | "standard" | "normal" | "null" => Some(Speed::Standard),
            "fast" => Some(Speed::Fast),
            _ => None,
        };
        for s in [
            "",
            "  ",
            "standard",
            " Standard ",
            "STANDARD",
            "standard_only",
            "auto",
            "batch",
            "Batch\t",
            "priority",
            "Priority_On_Demand",
            "flex",
            "FLEX_DISCOUNT",
            "message",
            "default",
            "us",
            "US",
            "global",
            " Global",
            "not_available",
            "NULL",
            "nulL",
            "fast",
            "Fast ",
            "normal",
            "stándard",
            "İ",
            "u s",
            "standardx",
        ] {
            assert_eq!(Tier::parse(s), tier(s), "{s:?}");
            assert_eq!(Geo::parse(s), geo(s), "{s:?}");
            assert_eq!(Speed::parse(s), speed(s), "{s:?}");
        }
    }
}
