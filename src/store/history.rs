//! The usage history: every request (or row) costlens has imported from a Claude Code folder
//! (or, when asked, from any file), kept in an SQLite database in the user's data folder, so
//! that usage outlives the logs (Claude Code deletes session logs older than 30 days by
//! default) and histories of several machines can be merged (a team's view).
//!
//! What is kept is usage, never prices: each request's identity, time, dimensions and token
//! counts. Prices are applied when the history is read, so a new price table re-prices it.
//!
//! Schema (version 1; `meta.schema`; `CREATE` below is the exact text):
//!
//! ```sql
//! meta(key TEXT PRIMARY KEY, value TEXT)   -- schema, id (this database's random id), machine
//!                                          -- (the name its usage is shown under in a team
//!                                          -- view), created, revision (bumped by every write)
//! names(id INTEGER PRIMARY KEY, name TEXT UNIQUE)   -- models, projects, sessions, workspaces,
//!                                          -- keys, machines; id 0 is '' (none)
//! files(id INTEGER PRIMARY KEY, path TEXT UNIQUE, format TEXT, size INTEGER,
//!       mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER, recorded INTEGER, rows INTEGER)
//!                                          -- each file usage was taken from, as last recorded
//! requests(id INTEGER UNIQUE,              -- identity: hash of (message id, request id) of a
//!                                          -- response; of every dimension of a row
//!          kind INTEGER,                   -- 1 response, 2 aggregated row, 0 no identity
//!          file INTEGER REFERENCES files,  -- the file the kept copy came from
//!          time INTEGER,                   -- Unix seconds, UTC (request or bucket start)
//!          bucket INTEGER,                 -- 0 request, 1 minute, 2 hour, 3 day
//!          model, project, session, machine, workspace, api_key INTEGER REFERENCES names,
//!          tier INTEGER,                   -- 0 standard, 1 batch, 2 priority,
//!                                          -- 3 priority_on_demand, 4 flex, 5 flex_discount
//!          context INTEGER,                -- 0 per request (the 200K rule applies to the
//!                                          -- request), 1 long, 2 short (a row's flag)
//!          geo INTEGER,                    -- 0 not_available, 1 global, 2 us
//!          speed INTEGER,                  -- 0 standard, 1 fast
//!          sidechain INTEGER,
//!          uncached_input, cache_write_5m, cache_write_1h, cache_read, output INTEGER,
//!          web_search INTEGER, requests INTEGER)
//! requests_named                           -- a view: requests with names, ISO times and the
//!                                          -- codes spelt out (what `history export` writes)
//! ```
//!
//! Rules:
//! - The same response met in several files (a subagent's response replayed in the main log,
//!   a resumed session) is one row: the copy the import's de-duplication keeps wins (the main
//!   thread's over a sidechain's, else the larger token counts; `crate::import::merge`).
//! - While a log file exists it is the truth; the history's rows of files under the folders
//!   opened that are gone (deleted, rotated) are read back and merged by identity, so nothing
//!   is counted twice.
//! - Writes are transactions in WAL mode: a killed import leaves the previous state or the
//!   new one, never half. A database that SQLite finds corrupt (or that is not a database) is
//!   renamed aside (`history.sqlite.corrupt-<time>`), said, and a new one started: never
//!   emptied in place. A database of another program is refused, not touched.

use crate::domain::format::Format;
use crate::domain::records::{Bucket, Context, Geo, Speed, Symbols, Tier, Tokens, UsageRecord};
use crate::import::{Identity, ParsedFile};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The schema version this build writes and reads.
pub const SCHEMA: u32 = 1;

/// What an SQLite file starts with.
pub const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

const CREATE: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
INSERT INTO names (id, name) VALUES (0, '');
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    recorded INTEGER NOT NULL,
    rows INTEGER NOT NULL
);
CREATE TABLE requests (
    id INTEGER NOT NULL UNIQUE,
    kind INTEGER NOT NULL,
    file INTEGER NOT NULL REFERENCES files(id),
    time INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    model INTEGER NOT NULL REFERENCES names(id),
    project INTEGER NOT NULL REFERENCES names(id),
    session INTEGER NOT NULL REFERENCES names(id),
    machine INTEGER NOT NULL REFERENCES names(id),
    workspace INTEGER NOT NULL REFERENCES names(id),
    api_key INTEGER NOT NULL REFERENCES names(id),
    tier INTEGER NOT NULL,
    context INTEGER NOT NULL,
    geo INTEGER NOT NULL,
    speed INTEGER NOT NULL,
    sidechain INTEGER NOT NULL,
    uncached_input INTEGER NOT NULL,
    cache_write_5m INTEGER NOT NULL,
    cache_write_1h INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    output INTEGER NOT NULL,
    web_search INTEGER NOT NULL,
    requests INTEGER NOT NULL
);
CREATE VIEW requests_named AS
SELECT r.id, r.kind, f.path AS file, f.format,
       strftime('%Y-%m-%dT%H:%M:%SZ', r.time, 'unixepoch') AS time,
       CASE r.bucket WHEN 0 THEN 'request' WHEN 1 THEN 'minute' WHEN 2 THEN 'hour' ELSE 'day' END AS bucket,
       m.name AS model, p.name AS project, s.name AS session, h.name AS machine,
       w.name AS workspace, k.name AS api_key,
       CASE r.tier WHEN 0 THEN 'standard' WHEN 1 THEN 'batch' WHEN 2 THEN 'priority'
           WHEN 3 THEN 'priority_on_demand' WHEN 4 THEN 'flex' ELSE 'flex_discount' END AS tier,
       CASE r.context WHEN 0 THEN 'request' WHEN 1 THEN 'long' ELSE 'short' END AS context,
       CASE r.geo WHEN 0 THEN 'not_available' WHEN 1 THEN 'global' ELSE 'us' END AS geo,
       CASE r.speed WHEN 0 THEN 'standard' ELSE 'fast' END AS speed,
       r.sidechain, r.uncached_input, r.cache_write_5m, r.cache_write_1h, r.cache_read, r.output,
       r.web_search, r.requests
FROM requests r JOIN files f ON f.id = r.file
JOIN names m ON m.id = r.model JOIN names p ON p.id = r.project JOIN names s ON s.id = r.session
JOIN names h ON h.id = r.machine JOIN names w ON w.id = r.workspace JOIN names k ON k.id = r.api_key;
";

const UPSERT: &str = "
INSERT INTO requests (id, kind, file, time, bucket, model, project, session, machine, workspace,
    api_key, tier, context, geo, speed, sidechain, uncached_input, cache_write_5m, cache_write_1h,
    cache_read, output, web_search, requests)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
    ?21, ?22, ?23)
ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, file = excluded.file, time = excluded.time,
    bucket = excluded.bucket, model = excluded.model, project = excluded.project,
    session = excluded.session, machine = excluded.machine, workspace = excluded.workspace,
    api_key = excluded.api_key, tier = excluded.tier, context = excluded.context,
    geo = excluded.geo, speed = excluded.speed, sidechain = excluded.sidechain,
    uncached_input = excluded.uncached_input, cache_write_5m = excluded.cache_write_5m,
    cache_write_1h = excluded.cache_write_1h, cache_read = excluded.cache_read,
    output = excluded.output, web_search = excluded.web_search, requests = excluded.requests
WHERE excluded.sidechain < requests.sidechain
   OR (excluded.sidechain = requests.sidechain AND
       (excluded.uncached_input + excluded.cache_write_5m + excluded.cache_write_1h
            + excluded.cache_read + excluded.output, excluded.uncached_input,
        excluded.cache_write_5m, excluded.cache_write_1h, excluded.cache_read, excluded.output,
        excluded.web_search, excluded.requests)
     > (requests.uncached_input + requests.cache_write_5m + requests.cache_write_1h
            + requests.cache_read + requests.output, requests.uncached_input,
        requests.cache_write_5m, requests.cache_write_1h, requests.cache_read, requests.output,
        requests.web_search, requests.requests))
";

const SELECT: &str = "SELECT r.id, r.kind, r.time, r.bucket, r.model, r.project, r.session,
    r.machine, r.workspace, r.api_key, r.tier, r.context, r.geo, r.speed, r.sidechain,
    r.uncached_input, r.cache_write_5m, r.cache_write_1h, r.cache_read, r.output, r.web_search,
    r.requests, f.format FROM requests r JOIN files f ON f.id = r.file";

/// Why the history could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{0}: {1}")]
    Sqlite(String, rusqlite::Error),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error(
        "{0}: an SQLite database that is not a costlens history (no costlens meta table): left as it is"
    )]
    Foreign(String),
    #[error("{0}: written by a newer costlens (history schema {1}; this one reads {SCHEMA})")]
    Newer(String, u32),
    #[error("{0}: corrupt ({1})")]
    Corrupt(String, String),
}

impl HistoryError {
    fn sqlite(path: &Path, e: rusqlite::Error) -> HistoryError {
        let shown = path.display().to_string();
        if is_corrupt(&e) {
            HistoryError::Corrupt(shown, e.to_string())
        } else {
            HistoryError::Sqlite(shown, e)
        }
    }
}

fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

/// The file of a history as last recorded: what tells that a log changed since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

/// A map keyed by [`path_key`].
pub type PathKeyed<V> = std::collections::HashMap<u128, V, rustc_hash::FxBuildHasher>;

/// The key of an absolute path in [`History::recorded_stamps`] (and of a name in the names'
/// ids): its 128-bit xxh3 hash (two paths of one history sharing it is a chance of about
/// 10^-27 at a million files).
pub fn path_key(path: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(path.as_bytes())
}

/// One file's usage to record: its absolute path, format, stamp and parsed records (symbols
/// index `symbols`).
pub struct FileUsage<'a> {
    pub path: &'a str,
    pub format: Format,
    pub stamp: FileStamp,
    pub symbols: &'a Symbols,
    pub records: &'a [(UsageRecord, Identity)],
}

/// What `history stats` shows.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    pub path: String,
    pub machine: String,
    pub schema: u32,
    pub revision: u64,
    pub requests: u64,
    pub files: u64,
    /// Files recorded that no longer exist on this machine (their usage lives on here only).
    pub files_gone: u64,
    /// Requests whose every recorded file is gone.
    pub requests_from_gone_files: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub tokens: Tokens<u64>,
    pub bytes: u64,
    pub integrity: String,
}

/// The page cache (`PRAGMA cache_size`: negative is KiB) of a history being written: it
/// holds the identity index of a large history, so recording an import writes each page once
/// instead of spilling and reading it again.
const RECORDING_CACHE: i64 = -16384;

/// Files recorded by one import from which the page cache is [`RECORDING_CACHE`].
const MANY_FILES: u64 = 64;

/// Every name's id, by the name's [`path_key`].
fn read_names(conn: &Connection) -> rusqlite::Result<PathKeyed<i64>> {
    let mut map = PathKeyed::default();
    let mut st = conn.prepare("SELECT id, name FROM names")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let name = r.get_ref(1)?.as_str()?;
        map.insert(path_key(name), r.get::<_, i64>(0)?);
    }
    Ok(map)
}

/// An open history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
    /// Said while opening (a corrupt database set aside...).
    pub notes: Vec<String>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("path", &self.path).finish()
    }
}

/// The user's history database: `$COSTLENS_HISTORY_DB` when set, else `history.sqlite` in the
/// platform data folder (`~/.local/share/costlens` on Linux).
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COSTLENS_HISTORY_DB").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "costlens").map(|p| p.data_dir().join("history.sqlite"))
}

/// Whether keeping history is on by default (`COSTLENS_NO_HISTORY=1` turns it off).
pub fn on_by_default() -> bool {
    !std::env::var("COSTLENS_NO_HISTORY").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// This machine's name, as a new history records it: `$COSTLENS_MACHINE`, else the host name.
pub fn machine_name() -> String {
    if let Ok(m) = std::env::var("COSTLENS_MACHINE")
        && !m.trim().is_empty()
    {
        return m.trim().to_owned();
    }
    for f in ["/etc/hostname", "/proc/sys/kernel/hostname"] {
        if let Ok(s) = std::fs::read_to_string(f)
            && !s.trim().is_empty()
        {
            return s.trim().to_owned();
        }
    }
    for v in ["HOSTNAME", "COMPUTERNAME"] {
        if let Ok(s) = std::env::var(v)
            && !s.trim().is_empty()
        {
            return s.trim().to_owned();
        }
    }
    "this machine".to_owned()
}

/// Whether `path` holds an SQLite database (by its first bytes).
pub fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == SQLITE_MAGIC
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

// The small integers the enums are kept as (the `requests_named` view spells them out).

fn tier_code(t: Tier) -> i64 {
    match t {
        Tier::Standard => 0,
        Tier::Batch => 1,
        Tier::Priority => 2,
        Tier::PriorityOnDemand => 3,
        Tier::Flex => 4,
        Tier::FlexDiscount => 5,
    }
}

fn tier_of(c: i64) -> Tier {
    match c {
        1 => Tier::Batch,
        2 => Tier::Priority,
        3 => Tier::PriorityOnDemand,
        4 => Tier::Flex,
        5 => Tier::FlexDiscount,
        _ => Tier::Standard,
    }
}

fn bucket_code(b: Bucket) -> i64 {
    match b {
        Bucket::Request => 0,
        Bucket::Minute => 1,
        Bucket::Hour => 2,
        Bucket::Day => 3,
    }
}

fn bucket_of(c: i64) -> Bucket {
    match c {
        1 => Bucket::Minute,
        2 => Bucket::Hour,
        3 => Bucket::Day,
        _ => Bucket::Request,
    }
}

fn context_code(c: Context) -> i64 {
    match c {
        Context::Request => 0,
        Context::Flag(true) => 1,
        Context::Flag(false) => 2,
    }
}

fn context_of(c: i64) -> Context {
    match c {
        1 => Context::Flag(true),
        2 => Context::Flag(false),
        _ => Context::Request,
    }
}

fn geo_code(g: Geo) -> i64 {
    match g {
        Geo::NotAvailable => 0,
        Geo::Global => 1,
        Geo::Us => 2,
    }
}

fn geo_of(c: i64) -> Geo {
    match c {
        1 => Geo::Global,
        2 => Geo::Us,
        _ => Geo::NotAvailable,
    }
}

/// `inference_geo` as the API spells it.
pub fn geo_key(g: Geo) -> &'static str {
    match g {
        Geo::NotAvailable => "not_available",
        Geo::Global => "global",
        Geo::Us => "us",
    }
}

/// `speed` as the API spells it.
pub fn speed_key(s: Speed) -> &'static str {
    match s {
        Speed::Standard => "standard",
        Speed::Fast => "fast",
    }
}

fn as_i64(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

impl History {
    /// Opens (creating it and its folder if needed) the history at `path` for reading and
    /// writing. A corrupt database is renamed aside and a new one started ([`History::notes`]
    /// says so); a database of another program or of a newer costlens is refused.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| HistoryError::Io(dir.display().to_string(), e))?;
        }
        match History::open_rw(path) {
            Err(HistoryError::Corrupt(shown, why)) => {
                let aside = set_aside(path)?;
                let mut h = History::open_rw(path)?;
                h.notes.push(format!(
                    "the history database {shown} is corrupt ({why}): it was set aside as {} (nothing deleted) and a new history started",
                    aside.display()
                ));
                Ok(h)
            }
            r => r,
        }
    }

    fn open_rw(path: &Path) -> Result<History, HistoryError> {
        let err = |e| HistoryError::sqlite(path, e);
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        // WAL: a write is one append and a kill cannot tear it; readers never block writers.
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
        let _ = mode;
        conn.execute_batch(&format!(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA cache_size={RECORDING_CACHE};"
        ))
        .map_err(err)?;
        let mut h = History {
            conn,
            path: path.to_path_buf(),
            notes: Vec::new(),
        };
        h.check_or_create(true)?;
        Ok(h)
    }

    /// Opens someone's history (a team member's, given as an input) read-only: never
    /// modified, never set aside.
    pub fn open_read_only(path: &Path) -> Result<History, HistoryError> {
        let err = |e| HistoryError::sqlite(path, e);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        let mut h = History {
            conn,
            path: path.to_path_buf(),
            notes: Vec::new(),
        };
        h.check_or_create(false)?;
        Ok(h)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::sqlite(&self.path, e)
    }

    fn check_or_create(&mut self, create: bool) -> Result<(), HistoryError> {
        let shown = self.path.display().to_string();
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let has_meta: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| self.err(e))?
            > 0;
        if tables == 0 && create {
            let tx = self
                .conn
                .transaction()
                .map_err(|e| HistoryError::sqlite(&self.path, e))?;
            tx.execute_batch(CREATE)
                .map_err(|e| HistoryError::sqlite(&self.path, e))?;
            let id = format!("{:016x}", fastrand::u64(..));
            for (k, v) in [
                ("schema", SCHEMA.to_string()),
                ("id", id),
                ("machine", machine_name()),
                ("created", now_secs().to_string()),
                ("revision", "0".to_owned()),
            ] {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )
                .map_err(|e| HistoryError::sqlite(&self.path, e))?;
            }
            tx.commit()
                .map_err(|e| HistoryError::sqlite(&self.path, e))?;
            return Ok(());
        }
        if !has_meta {
            return Err(HistoryError::Foreign(shown));
        }
        let schema: u32 = self
            .meta("schema")?
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| HistoryError::Foreign(shown.clone()))?;
        if schema > SCHEMA {
            return Err(HistoryError::Newer(shown, schema));
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, HistoryError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The database's identity and revision: what an import snapshot made with this history
    /// must still match.
    pub fn state(&self) -> Result<(String, u64), HistoryError> {
        let id = self.meta("id")?.unwrap_or_default();
        let rev = self
            .meta("revision")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((id, rev))
    }

    /// The name this database's own usage is shown under in a team view.
    pub fn machine(&self) -> String {
        self.meta("machine").ok().flatten().unwrap_or_default()
    }

    /// Every file recorded, by the 128-bit hash of its absolute path ([`path_key`]), with its
    /// stamp when recorded. Keyed by hash, not by path: an import holds this map while it
    /// merges, and at 134,482 files the paths and their table took 47 MB at the peak, this
    /// takes under 7 MB.
    pub fn recorded_stamps(&self) -> Result<PathKeyed<FileStamp>, HistoryError> {
        self.scanning(|| self.read_stamps())
    }

    /// The stamp file `path` (absolute) was recorded with, if it was recorded: one file's
    /// look-up, for an import that merges a few changed files again
    /// ([`Self::recorded_stamps`] reads every file's).
    pub fn recorded_stamp(&self, path: &str) -> Result<Option<FileStamp>, HistoryError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT size, mtime_ns, ctime_ns, ino FROM files WHERE path = ?1")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([path]).map_err(|e| self.err(e))?;
        let Some(r) = rows.next().map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        Ok(Some(FileStamp {
            size: r.get::<_, i64>(0).map_err(|e| self.err(e))? as u64,
            mtime_ns: r.get(1).map_err(|e| self.err(e))?,
            ctime_ns: r.get(2).map_err(|e| self.err(e))?,
            ino: r.get::<_, i64>(3).map_err(|e| self.err(e))? as u64,
        }))
    }

    fn read_stamps(&self) -> Result<PathKeyed<FileStamp>, HistoryError> {
        let mut st = self
            .conn
            .prepare("SELECT path, size, mtime_ns, ctime_ns, ino FROM files")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        let mut out = PathKeyed::default();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let path = r.get_ref(0).map_err(|e| self.err(e))?;
            let path = path.as_str().map_err(|e| self.err(e.into()))?;
            let stamp = FileStamp {
                size: r.get::<_, i64>(1).map_err(|e| self.err(e))? as u64,
                mtime_ns: r.get(2).map_err(|e| self.err(e))?,
                ctime_ns: r.get(3).map_err(|e| self.err(e))?,
                ino: r.get::<_, i64>(4).map_err(|e| self.err(e))? as u64,
            };
            out.insert(path_key(path), stamp);
        }
        Ok(out)
    }

    /// Runs `scan` (one pass over a table, which a page cache does not help) with a small page
    /// cache, and lets the pages go after it: an import holds what the scans return while it
    /// merges, and at 134,482 files the pages of the files table filled most of the 16 MB
    /// cache kept for recording, at a 10 GB import's peak.
    fn scanning<T>(&self, scan: impl FnOnce() -> T) -> T {
        let _ = self.conn.execute_batch("PRAGMA cache_size=-1024");
        let out = scan();
        let _ = self.conn.execute_batch(&format!(
            "PRAGMA shrink_memory; PRAGMA cache_size={RECORDING_CACHE};"
        ));
        out
    }

    /// The ids of the files recorded whose absolute path `pick` picks, and how many files
    /// are recorded in all: the paths are looked at one at a time, never held.
    pub fn recorded_files_where(
        &self,
        pick: impl FnMut(&str) -> bool,
    ) -> Result<(Vec<i64>, u64), HistoryError> {
        self.scanning(|| self.files_where(pick))
    }

    fn files_where(
        &self,
        mut pick: impl FnMut(&str) -> bool,
    ) -> Result<(Vec<i64>, u64), HistoryError> {
        let mut st = self
            .conn
            .prepare("SELECT id, path FROM files")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        let mut picked = Vec::new();
        let mut all = 0;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            all += 1;
            let path = r.get_ref(1).map_err(|e| self.err(e))?;
            if pick(path.as_str().map_err(|e| self.err(e.into()))?) {
                picked.push(r.get::<_, i64>(0).map_err(|e| self.err(e))?);
            }
        }
        Ok((picked, all))
    }

    /// Records the usage of `files` in one transaction (see [`Recorder::add`]). Returns how
    /// many records were written.
    pub fn record(&mut self, files: &[FileUsage]) -> Result<u64, HistoryError> {
        let mut r = self.recorder()?;
        for f in files {
            r.add(f)?;
        }
        r.commit()
    }

    /// A transaction to record files into, one at a time as an import parses them; nothing
    /// is kept unless [`Recorder::commit`] is called (a killed import keeps the history as
    /// it was).
    pub fn recorder(&mut self) -> Result<Recorder<'_>, HistoryError> {
        let path = self.path.clone();
        // Small until the import records many files (see `Recorder::add`).
        let _ = self.conn.execute_batch("PRAGMA cache_size=-1024");
        let tx = self
            .conn
            .transaction()
            .map_err(|e| HistoryError::sqlite(&path, e))?;
        Ok(Recorder {
            tx,
            names: None,
            path,
            written: 0,
            files: 0,
            now: now_secs(),
        })
    }

    /// The usage of the recorded files `file_ids` (or of every file, `None`), as parsed files
    /// (one per format, in format order) ready to merge. Records of this database's own
    /// machine keep machine `own_machine` (`""` for this machine).
    pub fn read(
        &self,
        file_ids: Option<&[i64]>,
        own_machine: &str,
    ) -> Result<Vec<ParsedFile>, HistoryError> {
        let e = |e| self.err(e);
        let mut names: HashMap<i64, String> = HashMap::new();
        {
            let mut st = self.conn.prepare("SELECT id, name FROM names").map_err(e)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .map_err(e)?;
            for r in rows {
                let (i, n) = r.map_err(e)?;
                names.insert(i, n);
            }
        }
        let sql = match file_ids {
            None => SELECT.to_owned(),
            Some([]) => return Ok(Vec::new()),
            Some(ids) => {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("{SELECT} WHERE r.file IN ({})", list.join(","))
            }
        };
        let mut by_format: std::collections::BTreeMap<String, (ParsedFile, HashMap<i64, u32>)> =
            Default::default();
        let mut st = self.conn.prepare(&sql).map_err(e)?;
        let mut rows = st.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            let format: String = row.get(22).map_err(e)?;
            let (pf, syms) = by_format.entry(format).or_default();
            let mut sym = |col: usize, machine: bool| -> Result<u32, HistoryError> {
                let id: i64 = row.get(col).map_err(|x| self.err(x))?;
                let n = names.get(&id).map(String::as_str).unwrap_or("");
                // The machine column's "" is this database's own machine.
                if machine && n.is_empty() {
                    return Ok(pf.symbols.intern(own_machine));
                }
                if let Some(&s) = syms.get(&id) {
                    return Ok(s);
                }
                let s = pf.symbols.intern(n);
                syms.insert(id, s);
                Ok(s)
            };
            let id: i64 = row.get(0).map_err(e)?;
            let kind: i64 = row.get(1).map_err(e)?;
            let side: i64 = row.get(14).map_err(e)?;
            let tok = |i: usize| -> Result<u64, HistoryError> {
                Ok(row.get::<_, i64>(i).map_err(|x| self.err(x))?.max(0) as u64)
            };
            let int = |i: usize| -> Result<i64, HistoryError> {
                row.get::<_, i64>(i).map_err(|x| self.err(x))
            };
            let r = UsageRecord {
                time: row.get(2).map_err(e)?,
                bucket: bucket_of(int(3)?),
                model: sym(4, false)?,
                tier: tier_of(int(10)?),
                context: context_of(int(11)?),
                geo: geo_of(int(12)?),
                speed: if int(13)? == 1 {
                    Speed::Fast
                } else {
                    Speed::Standard
                },
                workspace: sym(8, false)?,
                api_key: sym(9, false)?,
                project: sym(5, false)?,
                session: sym(6, false)?,
                machine: sym(7, true)?,
                tokens: Tokens {
                    uncached_input: tok(15)?,
                    cache_write_5m: tok(16)?,
                    cache_write_1h: tok(17)?,
                    cache_read: tok(18)?,
                    output: tok(19)?,
                },
                web_search: tok(20)?,
                requests: tok(21)?,
                source: 0,
            };
            let identity = match kind {
                1 => Identity::Message {
                    id: id as u64,
                    sidechain: side != 0,
                },
                2 => Identity::Row(id as u64),
                _ => Identity::None,
            };
            pf.records.push((r, identity));
        }
        let mut out = Vec::new();
        for (format, (mut pf, _)) in by_format {
            let format: Format = format.parse().unwrap_or(Format::ClaudeCodeJsonl);
            // Records in time order, as logs have them (the cube reads in order fastest).
            pf.records.sort_by_key(|(r, _)| r.time);
            pf.summary.rows = pf.records.len() as u64;
            pf.summary.format = format;
            pf.summary.path = self.path.display().to_string();
            out.push(pf);
        }
        Ok(out)
    }

    /// Removes the usage before `time` (Unix seconds), and the files left with none. Returns
    /// how many requests were removed.
    pub fn forget_before(&mut self, time: i64) -> Result<u64, HistoryError> {
        let path = self.path.clone();
        let e = |e| HistoryError::sqlite(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let n = tx
            .execute("DELETE FROM requests WHERE time < ?1", [time])
            .map_err(e)?;
        tx.execute(
            "DELETE FROM files WHERE id NOT IN (SELECT DISTINCT file FROM requests)",
            [],
        )
        .map_err(e)?;
        tx.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'",
            [],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(n as u64)
    }

    /// What the history holds (with an integrity check of the whole database).
    pub fn stats(&self) -> Result<Stats, HistoryError> {
        let e = |e| self.err(e);
        let (id, revision) = self.state()?;
        let _ = id;
        let mut s = Stats {
            path: self.path.display().to_string(),
            machine: self.machine(),
            schema: self
                .meta("schema")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(SCHEMA),
            revision,
            ..Stats::default()
        };
        let (n, first, last, a, b, c, d, o): (
            i64,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = self
            .conn
            .query_row(
                "SELECT count(*), min(time), max(time), coalesce(sum(uncached_input), 0),
                    coalesce(sum(cache_write_5m), 0), coalesce(sum(cache_write_1h), 0),
                    coalesce(sum(cache_read), 0), coalesce(sum(output), 0) FROM requests",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                },
            )
            .map_err(e)?;
        s.requests = n as u64;
        let iso = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default()
        };
        s.first = first.map(iso);
        s.last = last.map(iso);
        s.tokens = Tokens::from_array([a, b, c, d, o].map(|v| v.max(0) as u64));
        let (gone, files) = self.recorded_files_where(|p| !Path::new(p).exists())?;
        s.files = files;
        s.files_gone = gone.len() as u64;
        if !gone.is_empty() {
            let list: Vec<String> = gone.iter().map(i64::to_string).collect();
            s.requests_from_gone_files = self
                .conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM requests WHERE file IN ({})",
                        list.join(",")
                    ),
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(e)? as u64;
        }
        s.bytes = [
            self.path.clone(),
            PathBuf::from(format!("{}-wal", self.path.display())),
        ]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
        s.integrity = self
            .conn
            .query_row("PRAGMA integrity_check(1)", [], |r| r.get::<_, String>(0))
            .map_err(e)?;
        Ok(s)
    }

    /// Writes every request of the history as CSV (the columns of the `requests_named` view),
    /// oldest first. Returns how many.
    pub fn export_csv(&self, out: impl std::io::Write) -> Result<u64, HistoryError> {
        let e = |e| self.err(e);
        let mut w = csv::Writer::from_writer(out);
        let mut st = self
            .conn
            .prepare("SELECT * FROM requests_named ORDER BY time, id")
            .map_err(e)?;
        let cols: Vec<String> = st.column_names().map(|c| c.to_string()).collect();
        let io = |x: csv::Error| {
            HistoryError::Io(self.path.display().to_string(), std::io::Error::other(x))
        };
        w.write_record(&cols).map_err(io)?;
        let n = cols.len();
        let mut rows = st.query([]).map_err(e)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(e)? {
            let mut rec: Vec<String> = Vec::with_capacity(n);
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).map_err(e)?;
                rec.push(match v {
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(_) => String::new(),
                });
            }
            w.write_record(&rec).map_err(io)?;
            count += 1;
        }
        w.flush()
            .map_err(|x| HistoryError::Io(self.path.display().to_string(), x))?;
        Ok(count)
    }
}

/// An open write transaction of a [`History`]: see [`History::recorder`].
pub struct Recorder<'h> {
    tx: rusqlite::Transaction<'h>,
    /// Name id of each name, by the name's [`path_key`], read when the first file is
    /// recorded (an import that records nothing, or a few appended lines, does not hold the
    /// 280,000 names of a 10 GB folder's history).
    names: Option<PathKeyed<i64>>,
    path: PathBuf,
    written: u64,
    files: u64,
    now: i64,
}

impl Recorder<'_> {
    /// Records one file: its stamp, and each record by identity (a record already kept is
    /// replaced only by a copy the import's de-duplication would prefer). Aggregated rows of
    /// one file with the same identity are summed first (or the larger kept, for formats
    /// keyed by ID), as the merge does.
    pub fn add(&mut self, f: &FileUsage) -> Result<u64, HistoryError> {
        let path = &self.path;
        let e = |e| HistoryError::sqlite(path, e);
        let tx = &self.tx;
        let rows = rows_of(f);
        let format: &'static str = f.format.into();
        let file_id: i64 = tx
            .prepare_cached(
                "INSERT INTO files (path, format, size, mtime_ns, ctime_ns, ino, recorded, rows)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(path) DO UPDATE SET format = excluded.format,
                   size = excluded.size, mtime_ns = excluded.mtime_ns,
                   ctime_ns = excluded.ctime_ns, ino = excluded.ino,
                   recorded = excluded.recorded, rows = excluded.rows
                 RETURNING id",
            )
            .map_err(e)?
            .query_row(
                params![
                    f.path,
                    format,
                    as_i64(f.stamp.size),
                    f.stamp.mtime_ns,
                    f.stamp.ctime_ns,
                    as_i64(f.stamp.ino),
                    self.now,
                    rows.len() as i64
                ],
                |r| r.get(0),
            )
            .map_err(e)?;
        // Name ids of the file's symbols, added where new.
        let mut ids: Vec<i64> = Vec::with_capacity(f.symbols.len());
        if self.names.is_none() {
            self.names = Some(read_names(tx).map_err(e)?);
        }
        let names = self.names.as_mut().expect("read above");
        {
            let mut add_name = tx
                .prepare_cached("INSERT INTO names (name) VALUES (?1)")
                .map_err(e)?;
            for s in 0..f.symbols.len() as u32 {
                let n = f.symbols.get(s);
                let key = path_key(n);
                let id = match names.get(&key) {
                    Some(&i) => i,
                    None => {
                        add_name.execute([n]).map_err(e)?;
                        let i = tx.last_insert_rowid();
                        names.insert(key, i);
                        i
                    }
                };
                ids.push(id);
            }
        }
        let name = |s: u32| ids.get(s as usize).copied().unwrap_or(0);
        let mut up = tx.prepare_cached(UPSERT).map_err(e)?;
        let n = rows.len() as u64;
        // In identity order: the identity index is filled page by page, not all over.
        let mut rows = rows;
        rows.sort_unstable_by_key(|r| r.0);
        for (id, kind, side, r) in rows {
            let t = &r.tokens;
            up.execute(params![
                id as i64,
                kind,
                file_id,
                r.time,
                bucket_code(r.bucket),
                name(r.model),
                name(r.project),
                name(r.session),
                name(r.machine),
                name(r.workspace),
                name(r.api_key),
                tier_code(r.tier),
                context_code(r.context),
                geo_code(r.geo),
                (r.speed == Speed::Fast) as i64,
                side as i64,
                as_i64(t.uncached_input),
                as_i64(t.cache_write_5m),
                as_i64(t.cache_write_1h),
                as_i64(t.cache_read),
                as_i64(t.output),
                as_i64(r.web_search),
                as_i64(r.requests),
            ])
            .map_err(e)?;
        }
        self.written += n;
        self.files += 1;
        // Recording many files (a first import): the page cache that holds the identity
        // index, so that each page is written once instead of spilled and read again.
        if self.files == MANY_FILES {
            let _ = tx.execute_batch(&format!("PRAGMA cache_size={RECORDING_CACHE}"));
        }
        Ok(n)
    }

    /// Files recorded so far: the history's revision is bumped by one at commit if any.
    pub fn files(&self) -> u64 {
        self.files
    }

    /// Keeps what was recorded (bumping the history's revision if anything was). Returns how
    /// many records were written.
    pub fn commit(self) -> Result<u64, HistoryError> {
        let e = |e| HistoryError::sqlite(&self.path, e);
        if self.files > 0 {
            self.tx
                .execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'",
                    [],
                )
                .map_err(e)?;
        }
        self.tx.commit().map_err(e)?;
        Ok(self.written)
    }
}

/// Renames a corrupt database (and its WAL and shared-memory files) aside; returns the new
/// name of the database file.
fn set_aside(path: &Path) -> Result<PathBuf, HistoryError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let mut aside = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    let mut k = 1;
    while aside.exists() {
        aside = PathBuf::from(format!("{}.corrupt-{stamp}-{k}", path.display()));
        k += 1;
    }
    std::fs::rename(path, &aside).map_err(|e| HistoryError::Io(path.display().to_string(), e))?;
    for ext in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{ext}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{ext}", aside.display()));
        }
    }
    Ok(aside)
}

/// The rows of a file to record: (identity, kind, sidechain, record). Responses are already
/// one per identity in a parsed file; aggregated rows of one identity are summed (or the
/// larger kept, for formats keyed by ID), as the merge does; rows without an identity are
/// kept by their position in the file.
fn rows_of(f: &FileUsage) -> Vec<(u64, i64, bool, UsageRecord)> {
    let mut out: Vec<(u64, i64, bool, UsageRecord)> = Vec::with_capacity(f.records.len());
    // Identities are hashes already: the identity hasher, not SipHash.
    let mut seen: crate::import::merge::IdMap<usize> = Default::default();
    seen.reserve(f.records.len());
    let by_id = f.format.keyed_by_id();
    for (k, (r, id)) in f.records.iter().enumerate() {
        let (h, kind, side) = match *id {
            Identity::Message { id, sidechain } => (id, 1, sidechain),
            Identity::Row(h) => (h, 2, false),
            Identity::None => (
                crate::import::stable_hash(&[
                    b"history-none",
                    f.path.as_bytes(),
                    &(k as u64).to_le_bytes(),
                ]),
                0,
                false,
            ),
        };
        match seen.get(&h) {
            None => {
                seen.insert(h, out.len());
                out.push((h, kind, side, *r));
            }
            Some(&i) => {
                let kept = &mut out[i];
                if kind == 2 && !by_id {
                    kept.3.tokens = kept.3.tokens.saturating_add(&r.tokens);
                    kept.3.web_search = kept.3.web_search.saturating_add(r.web_search);
                    kept.3.requests = kept.3.requests.saturating_add(r.requests);
                } else if crate::import::merge::replaces_copy(
                    kept.2,
                    &kept.3.tokens,
                    side,
                    &r.tokens,
                ) {
                    *kept = (h, kind, side, *r);
                }
            }
        }
    }
    out
}
