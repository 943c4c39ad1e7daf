//! Claude Code session logs (JSONL in a directory tree, `formats.md` section 7).
//!
//! Files are `projects/<project>/<session>.jsonl` and, for subagents (Task tool), nested files
//! such as `projects/<project>/<session>/subagents/agent-<id>.jsonl`; `session::load` walks
//! the whole tree, so subagent files (a large share of the calls) are included. Each file is
//! parsed on its own; the rules that span files (de-duplication) are applied when files are
//! merged, in [`crate::domain::dataset::Dataset::add`].
//!
//! Rules, with their reasons:
//! - Only lines with `message.usage` are API responses; every other line (user prompts, tool
//!   results, summaries, snapshots) is skipped. A cheap byte search for `"usage"` skips most
//!   of them without parsing JSON: tool-result lines are the bulk of a log's bytes.
//! - Model `<synthetic>` lines are written by Claude Code itself (no API call), and
//!   `isApiErrorMessage` lines are failed calls: neither was billed; both are skipped.
//! - Claude Code writes one line per content block / streaming snapshot of a response, all
//!   with the same `message.id` and `requestId`: records carry that pair as their identity,
//!   and one is kept per pair (the non-sidechain copy, else the larger token total: earlier
//!   snapshots carry partial `output_tokens`, so keeping the first undercounts), within a file
//!   when it is parsed and across files in the dataset (`crate::import::merge::replaces`).
//!   A line with a `message.id` but no `requestId` is keyed on the id alone (the id already
//!   names one response). Lines without `message.id` cannot be matched and are all counted.
//! - `costUSD` (written by older Claude Code versions) is kept as the "reported" series for
//!   comparison, attached to its record so that a merged response reports it once.
//! - The `project` dimension is the line's `cwd` (the folder Claude Code ran in), shown with
//!   the home folder as `~` ([`project_label`]: `/Users/dain/workspace/app` is
//!   `~/workspace/app`). Claude Code names a project's folder after its working directory with
//!   every `/` and `.` turned into `-`, which cannot be turned back; so only a line without
//!   `cwd` takes the folder's name ([`project_of`]: the folder holding the session file, or
//!   for a subagent log `<project>/<session>/subagents/agent-*.jsonl` the folder above the
//!   session's).
//! - Every line with `message.usage` is imported: real logs carry model IDs with a `[1m]`
//!   suffix (kept as written; the price lookup strips it), `usage.speed`,
//!   `usage.inference_geo` (`""`, `not_available`, `global`, `us`), `usage.iterations` (read
//!   past: the top-level counts are the totals) and `service_tier` null or odd. Public logs
//!   show `standard` (and null) almost always; request values such as `auto` and
//!   `standard_only` may surface. A tier other than batch or priority is billed as standard,
//!   and an `inference_geo` or `speed` not understood as the standard one; such lines are
//!   counted and their values named in a note ([`ApiUsage::terms_lenient`]).

mod fast;

use super::json::{ApiUsage, OddValue, assumed_5m_note, json_error_reason, reject};
use super::{
    Identity, LineFormat, ParsedFile, Text, merge_repeated_messages, parse_time_str, stable_hash,
};
use crate::domain::dataset::Note;
use crate::domain::records::{Symbols, UsageRecord};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where Claude Code keeps its logs, in the order it looks: `$CLAUDE_CONFIG_DIR` (a
/// comma-separated list of config folders, each with a `projects/` folder) when set, else
/// `~/.config/claude/projects` and `~/.claude/projects`. Candidates, whether or not they exist.
pub fn claude_code_dir_candidates() -> Vec<PathBuf> {
    if let Ok(v) = std::env::var("CLAUDE_CONFIG_DIR")
        && !v.trim().is_empty()
    {
        return v
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                let d = PathBuf::from(d);
                let projects = d.join("projects");
                // Accept the projects folder itself as well.
                if !projects.is_dir() && d.file_name().is_some_and(|n| n == "projects") {
                    d
                } else {
                    projects
                }
            })
            .collect();
    }
    let Some(base) = directories::BaseDirs::new() else {
        return Vec::new();
    };
    let home = base.home_dir();
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"));
    vec![
        xdg.join("claude").join("projects"),
        home.join(".claude").join("projects"),
    ]
}

/// The Claude Code log folders that exist on this machine (see [`claude_code_dir_candidates`]).
pub fn default_claude_code_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = claude_code_dir_candidates()
        .into_iter()
        .filter(|d| d.is_dir())
        .collect();
    dirs.dedup();
    dirs
}

/// The project folder a log file belongs to, for lines without `cwd`: the folder holding the
/// session file, or for a subagent log (`<project>/<session>/subagents/agent-x.jsonl`) the
/// project folder above the session's. Only the file's own place counts: a folder named
/// `projects` further up (`~/projects/backup/<project>/...`) once made every project one.
pub fn project_of(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let n = parts.len();
    if n >= 4 && parts[n - 2] == "subagents" {
        return parts[n - 4].clone();
    }
    if n >= 2 {
        return parts[n - 2].clone();
    }
    String::new()
}

/// This machine's home folder, as `cwd` values spell it.
static HOME: std::sync::LazyLock<Option<String>> = std::sync::LazyLock::new(|| {
    directories::BaseDirs::new()
        .map(|b| {
            b.home_dir()
                .to_string_lossy()
                .trim_end_matches(['/', '\\'])
                .to_owned()
        })
        .filter(|h| !h.is_empty())
});

/// A working directory as the project dimension shows it: the home folder written `~`. The
/// home folder is this machine's, or any user's by its usual place (`/Users/<name>`,
/// `/home/<name>`, `/root`, `C:\Users\<name>`), so that logs from another machine (a team's
/// merged histories) read the same: `/Users/dain/workspace/app` is `~/workspace/app` here too.
pub fn project_label(cwd: &str) -> String {
    let cwd = cwd.trim();
    let rest_after = |prefix_len: usize| -> Option<String> {
        let rest = &cwd[prefix_len..];
        if rest.is_empty() {
            Some("~".to_owned())
        } else if rest.starts_with(['/', '\\']) {
            Some(format!("~{rest}"))
        } else {
            None
        }
    };
    if let Some(home) = HOME.as_deref()
        && cwd.starts_with(home)
        && let Some(l) = rest_after(home.len())
    {
        return l;
    }
    if let Some(l) = rest_after_named_home(cwd) {
        return l;
    }
    cwd.to_owned()
}

/// `~` and the rest of `cwd` when it starts with a user's home folder by its usual place.
fn rest_after_named_home(cwd: &str) -> Option<String> {
    let (sep, after) = if let Some(r) = cwd.strip_prefix("/Users/").or(cwd.strip_prefix("/home/")) {
        ('/', r)
    } else if let Some(r) = cwd.strip_prefix("/root") {
        return match r.chars().next() {
            None => Some("~".to_owned()),
            Some('/') => Some(format!("~{r}")),
            _ => None,
        };
    } else {
        // C:\Users\name\... (a drive letter, then Users).
        let b = cwd.as_bytes();
        if b.len() > 3 && b[0].is_ascii_alphabetic() && &b[1..3] == b":\\" {
            let r = &cwd[3..];
            let r = r.strip_prefix("Users\\").or(r.strip_prefix("users\\"))?;
            ('\\', r)
        } else {
            return None;
        }
    };
    let (name, rest) = match after.find(sep) {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, ""),
    };
    if name.is_empty() {
        return None;
    }
    Some(format!("~{rest}"))
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow, default)]
    cwd: Option<Text<'a>>,
    #[serde(rename = "sessionId", borrow, default)]
    session_id: Option<Text<'a>>,
    #[serde(rename = "requestId", borrow, default)]
    request_id: Option<Text<'a>>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: Option<bool>,
    #[serde(rename = "isApiErrorMessage", default)]
    is_api_error: Option<bool>,
    #[serde(rename = "costUSD", default)]
    cost_usd: Option<f64>,
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    model: Option<Text<'a>>,
    #[serde(borrow, default)]
    usage: Option<ApiUsage<'a>>,
}

#[derive(Default)]
pub(crate) struct Counts {
    no_usage: u64,
    synthetic: u64,
    api_error: u64,
    assumed_5m: u64,
    /// Values of `usage` not understood (priced as standard), with how many lines had each.
    odd: BTreeMap<OddValue, u64>,
    /// The last `cwd` met and its project symbol (a session keeps one `cwd` for hundreds of
    /// lines: labelled once).
    last_cwd: Option<(String, u32)>,
    /// The same for the model and the session.
    last_model: Option<(String, u32)>,
    last_session: Option<(String, u32)>,
}

pub(crate) struct ClaudeCodeLog<'n> {
    pub name: &'n str,
    /// The project of lines without `cwd`: the folder's name ([`project_of`]).
    pub project: String,
}

/// True when a line that serde could not read as a usage line has no `message.usage` object
/// at all (a user or system line that merely mentions "usage"): skipped, not rejected.
fn lacks_usage_object(line: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(v) => !v.pointer("/message/usage").is_some_and(|u| u.is_object()),
        Err(_) => false,
    }
}

/// `name`'s symbol, looked up only when it is not the last one met.
fn cached_intern(last: &mut Option<(String, u32)>, symbols: &mut Symbols, name: &str) -> u32 {
    match last {
        Some((n, sym)) if n == name => *sym,
        _ => {
            let sym = symbols.intern(name);
            *last = Some((name.to_owned(), sym));
            sym
        }
    }
}

/// The fields of a usage line that the rules below use, however the line was read.
struct Fields<'l> {
    timestamp: Option<&'l str>,
    cwd: Option<&'l str>,
    session_id: Option<&'l str>,
    request_id: Option<&'l str>,
    is_sidechain: Option<bool>,
    is_api_error: Option<bool>,
    cost_usd: Option<f64>,
    /// `message.id`, `message.model`, `message.usage`.
    message: Option<(Option<&'l str>, Option<&'l str>, Option<ApiUsage<'l>>)>,
}

impl ClaudeCodeLog<'_> {
    /// The rules of the module doc, on a line's fields.
    fn take(&self, parsed: Fields, line_no: u64, out: &mut ParsedFile, counts: &mut Counts) {
        let skip = |out: &mut ParsedFile, n: &mut u64| {
            *n += 1;
            out.summary.skipped += 1;
        };
        let Some((message_id, message_model, usage)) = parsed.message else {
            return skip(out, &mut counts.no_usage);
        };
        let Some(usage) = usage else {
            return skip(out, &mut counts.no_usage);
        };
        if parsed.is_api_error == Some(true) {
            return skip(out, &mut counts.api_error);
        }
        let model = message_model.unwrap_or("").trim();
        if model == "<synthetic>" {
            return skip(out, &mut counts.synthetic);
        }
        if model.is_empty() {
            return reject(
                out,
                self.name,
                line_no,
                "message.model is missing".to_owned(),
            );
        }
        let time = match parsed.timestamp {
            None => return reject(out, self.name, line_no, "no timestamp field".to_owned()),
            Some(s) => match parse_time_str(s) {
                Some(t) => match super::values::check_time("timestamp", s, t) {
                    Ok(t) => t,
                    Err(why) => return reject(out, self.name, line_no, why),
                },
                None => {
                    return reject(
                        out,
                        self.name,
                        line_no,
                        format!("timestamp: not RFC 3339: {s:?}"),
                    );
                }
            },
        };
        let (terms, odd) = usage.terms_lenient();
        for v in odd {
            *counts.odd.entry(v).or_default() += 1;
        }
        let (tokens, assumed) = usage.tokens();
        if let Err(why) = super::values::check_tokens(&tokens, usage.web_search(), true) {
            return reject(out, self.name, line_no, why);
        }
        counts.assumed_5m += assumed as u64;
        let sidechain = parsed.is_sidechain == Some(true);
        let identity = match message_id.filter(|s| !s.is_empty()) {
            Some(id) => {
                let req = parsed.request_id.unwrap_or("");
                Identity::Message {
                    id: stable_hash(&[b"claude-code", id.as_bytes(), req.as_bytes()]),
                    sidechain,
                }
            }
            None => Identity::None,
        };
        if let Some(usd) = parsed.cost_usd.filter(|c| c.is_finite() && *c >= 0.0) {
            out.reported_per_record.push((out.records.len(), usd));
        }
        let r = UsageRecord {
            time,
            model: cached_intern(&mut counts.last_model, &mut out.symbols, model),
            tier: terms.tier,
            geo: terms.geo,
            speed: terms.speed,
            project: match parsed.cwd.map(str::trim).filter(|c| !c.is_empty()) {
                None => out.symbols.intern(&self.project),
                Some(cwd) => match &counts.last_cwd {
                    Some((last, sym)) if last == cwd => *sym,
                    _ => {
                        let sym = out.symbols.intern(&project_label(cwd));
                        counts.last_cwd = Some((cwd.to_owned(), sym));
                        sym
                    }
                },
            },
            session: cached_intern(
                &mut counts.last_session,
                &mut out.symbols,
                parsed.session_id.unwrap_or_default(),
            ),
            tokens,
            web_search: usage.web_search(),
            ..UsageRecord::REQUEST
        };
        out.records.push((r, identity));
    }
}

impl LineFormat for ClaudeCodeLog<'_> {
    type Counts = Counts;

    fn file_name(&self) -> &str {
        self.name
    }

    fn parse_line(&self, line: &[u8], line_no: u64, out: &mut ParsedFile, counts: &mut Counts) {
        static USAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));
        let skip = |out: &mut ParsedFile, n: &mut u64| {
            *n += 1;
            out.summary.skipped += 1;
        };
        // A JSON object line ends with `}`; one that does not was cut off (a crash, or the
        // session still being written), whatever it held.
        if line.trim_ascii_end().last() != Some(&b'}') {
            return reject(
                out,
                self.name,
                line_no,
                "not valid JSON: the line ends early (truncated?)".to_owned(),
            );
        }
        if USAGE.find(line).is_none() {
            return skip(out, &mut counts.no_usage);
        }
        // The usual line, read in one pass (`fast`); anything else, and any line whose usage
        // serde does not read, goes the serde way below with the same rules.
        if let Some(f) = fast::read(line) {
            let usage = match f.message.as_ref().and_then(|m| m.usage) {
                None => Some(None),
                Some(b) => fast::usage(b)
                    .or_else(|| serde_json::from_slice::<ApiUsage>(b).ok())
                    .map(Some),
            };
            if let Some(usage) = usage {
                let fields = Fields {
                    timestamp: f.timestamp,
                    cwd: f.cwd,
                    session_id: f.session_id,
                    request_id: f.request_id,
                    is_sidechain: f.is_sidechain,
                    is_api_error: f.is_api_error,
                    cost_usd: f.cost_usd,
                    message: f.message.map(|m| (m.id, m.model, usage)),
                };
                return self.take(fields, line_no, out, counts);
            }
        }
        let parsed: Line = match serde_json::from_slice(line) {
            Ok(l) => l,
            Err(_) if lacks_usage_object(line) => return skip(out, &mut counts.no_usage),
            Err(e) => return reject(out, self.name, line_no, json_error_reason::<Line>(line, &e)),
        };
        let message = parsed.message.map(|m| (m.id, m.model, m.usage));
        let fields = Fields {
            timestamp: parsed.timestamp.as_deref(),
            cwd: parsed.cwd.as_deref(),
            session_id: parsed.session_id.as_deref(),
            request_id: parsed.request_id.as_deref(),
            is_sidechain: parsed.is_sidechain,
            is_api_error: parsed.is_api_error,
            cost_usd: parsed.cost_usd,
            message: message
                .as_ref()
                .map(|(id, model, usage)| (id.as_deref(), model.as_deref(), usage.clone())),
        };
        self.take(fields, line_no, out, counts)
    }

    fn merge_counts(into: &mut Counts, from: Counts) {
        into.no_usage += from.no_usage;
        into.synthetic += from.synthetic;
        into.api_error += from.api_error;
        into.assumed_5m += from.assumed_5m;
        for (v, n) in from.odd {
            *into.odd.entry(v).or_default() += n;
        }
    }

    fn finish(&self, out: &mut ParsedFile, c: Counts) {
        let merged = merge_repeated_messages(out);
        out.summary.rows = out.records.len() as u64;
        out.summary.duplicates += merged;
        let notes = &mut out.summary.notes;
        if merged > 0 {
            notes.push(Note::from(format!(
                "{merged} lines repeat an API response of this file (streaming snapshots, same message id and request id) and were merged into one request"
            )));
        }
        if c.synthetic > 0 {
            notes.push(Note::from(format!(
                "{} lines with model <synthetic> (written by Claude Code, not an API call) were skipped",
                c.synthetic
            )));
        }
        if c.api_error > 0 {
            notes.push(Note::from(format!(
                "{} API error lines (isApiErrorMessage, not billed) were skipped",
                c.api_error
            )));
        }
        if c.assumed_5m > 0 {
            notes.push(assumed_5m_note(c.assumed_5m).into());
        }
        for (field, how) in [
            (
                "service_tier",
                "not batch or priority: billed at the standard tier",
            ),
            ("inference_geo", "not understood: priced as global"),
            ("speed", "not understood: priced at standard speed"),
        ] {
            let values: Vec<(&str, u64)> = (c.odd.iter())
                .filter(|(v, _)| v.field == field)
                .map(|(v, &n)| (v.value.as_str(), n))
                .collect();
            if values.is_empty() {
                continue;
            }
            let lines: u64 = values.iter().map(|v| v.1).sum();
            let named: Vec<String> = values.iter().map(|(v, n)| format!("{v:?} ({n})")).collect();
            notes.push(Note::from(format!(
                "{lines} lines have {field} {}, {how}",
                named.join(", ")
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the sample and fixture Claude Code logs.
    fn sample_log_lines() -> Vec<Vec<u8>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for dir in [
            "sample-data/claude-code",
            "tests/fixtures/real_world/claude-code",
        ] {
            for e in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
                if e.file_type().is_file() {
                    let text = std::fs::read(e.path()).unwrap();
                    lines.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
                }
            }
        }
        lines
    }

    /// `base` changed once at random: a byte replaced by one of `set`, removed or doubled, the
    /// text cut there, or (with `members`) the text from there to the next comma doubled (a
    /// member given twice).
    fn mutated(rng: &mut fastrand::Rng, base: &[u8], set: &[u8], members: bool) -> Vec<u8> {
        let mut v = base.to_vec();
        let at = rng.usize(..v.len());
        match rng.u8(..if members { 5 } else { 4 }) {
            0 => v[at] = set[rng.usize(..set.len())],
            1 => {
                v.remove(at);
            }
            2 => v.insert(at, base[at]),
            3 if members => {
                if let Some(end) = base[at..].iter().position(|&b| b == b',') {
                    v.splice(at..at, base[at..at + end + 1].iter().copied());
                }
            }
            _ => v.truncate(at),
        }
        v
    }

    /// Whatever the fast reading accepts, serde accepts too, with the same fields: over every
    /// line of the sample and fixture logs, and those lines cut, with bytes flipped (to bytes
    /// that are not UTF-8 too), removed and doubled.
    #[test]
    fn the_fast_reading_agrees_with_serde_on_every_line_it_accepts() {
        let lines = sample_log_lines();
        let mut rng = fastrand::Rng::with_seed(42);
        let mut accepted = 0;
        let mut checked = 0;
        for base in &lines {
            if base.is_empty() {
                continue;
            }
            let mut variants = vec![base.clone()];
            for _ in 0..40 {
                variants.push(mutated(
                    &mut rng,
                    base,
                    b"{}[]\",:\\0123456789-.eEtrufalsn \t\xff\xc3",
                    false,
                ));
            }
            for v in variants {
                checked += 1;
                let Some(f) = fast::read(&v) else { continue };
                // As `parse_line`: the fast reading stands only when its usage object is read
                // too (its members are stepped over by `read`, and read by `usage` or serde).
                if let Some(u) = f.message.as_ref().and_then(|m| m.usage)
                    && fast::usage(u).is_none()
                    && serde_json::from_slice::<ApiUsage>(u).is_err()
                {
                    continue;
                }
                accepted += 1;
                let l: Line = serde_json::from_slice(&v).unwrap_or_else(|e| {
                    panic!(
                        "fast accepted what serde refuses ({e}): {}",
                        String::from_utf8_lossy(&v)
                    )
                });
                assert_eq!(f.timestamp, l.timestamp.as_deref());
                assert_eq!(f.cwd, l.cwd.as_deref());
                assert_eq!(f.session_id, l.session_id.as_deref());
                assert_eq!(f.request_id, l.request_id.as_deref());
                assert_eq!(f.is_sidechain, l.is_sidechain);
                assert_eq!(f.is_api_error, l.is_api_error);
                assert_eq!(f.cost_usd, l.cost_usd);
                match (&f.message, &l.message) {
                    (None, None) => {}
                    (Some(fm), Some(lm)) => {
                        assert_eq!(fm.id, lm.id.as_deref());
                        assert_eq!(fm.model, lm.model.as_deref());
                        match (fm.usage, &lm.usage) {
                            (None, None) => {}
                            (Some(u), Some(lu)) => {
                                let fu: ApiUsage = serde_json::from_slice(u).unwrap();
                                assert_eq!(format!("{fu:?}"), format!("{lu:?}"));
                                if let Some(fast) = fast::usage(u) {
                                    assert_eq!(format!("{fast:?}"), format!("{lu:?}"));
                                }
                            }
                            other => panic!("usage differs: {other:?}"),
                        }
                    }
                    _ => panic!("message differs: {}", String::from_utf8_lossy(&v)),
                }
            }
        }
        assert!(
            accepted > 1000 && checked > accepted,
            "{accepted} of {checked}"
        );
    }

    /// Whatever the fast reading of a `usage` object accepts, serde reads the same: over the
    /// usage objects of the sample and fixture logs and of hand-made ones, each changed a
    /// byte at a time in 200 ways (counts made fractions, negative, too large, strings given
    /// escapes, members doubled, objects broken).
    #[test]
    fn the_fast_usage_reading_agrees_with_serde() {
        let mut objects: Vec<Vec<u8>> = vec![
            br#"{"input_tokens":3,"cache_creation_input_tokens":1200,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":1200},"output_tokens":18446744073709551615,"service_tier":"standard","server_tool_use":{"web_search_requests":2,"web_fetch_requests":1},"inference_geo":"us","speed":null}"#.to_vec(),
            br#"{ "input_tokens" : null , "cache_creation" : null , "server_tool_use" : null , "speed" : "fast" , "x" : [ {"y": -1.5e3} ] }"#.to_vec(),
        ];
        objects.extend(sample_log_lines().iter().filter_map(|line| {
            let usage = fast::read(line)?.message?.usage?;
            Some(usage.to_vec())
        }));
        objects.sort();
        objects.dedup();
        let mut rng = fastrand::Rng::with_seed(7);
        let (mut accepted, mut declined) = (0, 0);
        for base in &objects {
            let mut variants = vec![base.clone()];
            for _ in 0..200 {
                variants.push(mutated(
                    &mut rng,
                    base,
                    b"{}[]\",:\\0123456789-.eE+nul \t\xff\xc3",
                    true,
                ));
            }
            for v in variants {
                let serde = serde_json::from_slice::<ApiUsage>(&v);
                match fast::usage(&v) {
                    Some(f) => {
                        accepted += 1;
                        let s = serde.unwrap_or_else(|e| {
                            panic!(
                                "fast accepted what serde refuses ({e}): {}",
                                String::from_utf8_lossy(&v)
                            )
                        });
                        assert_eq!(
                            format!("{f:?}"),
                            format!("{s:?}"),
                            "{}",
                            String::from_utf8_lossy(&v)
                        );
                    }
                    None => declined += 1,
                }
            }
        }
        assert!(
            objects.len() > 20 && accepted > 2000 && declined > 2000,
            "{} objects, {accepted} accepted, {declined} declined",
            objects.len()
        );
    }
}
