//! The Messages API objects that several importers read (Messages logs, Message Batches
//! results, Claude Code logs, saved responses, the Admin usage report's nested objects), and
//! the helpers every JSON importer uses to report a line: in one module of their own, so that
//! no importer reaches into a sibling's internals.

use super::{ParsedFile, Text};
use crate::domain::records::{Geo, Speed, Tier, Tokens};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct CacheCreation {
    #[serde(default)]
    pub ephemeral_5m_input_tokens: Option<u64>,
    #[serde(default)]
    pub ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct ServerToolUse {
    #[serde(default)]
    pub web_search_requests: Option<u64>,
}

/// The Messages API `usage` object. Every field is optional: older responses lack the
/// `cache_creation` split, `service_tier`, `inference_geo` and `speed`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct ApiUsage<'a> {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation: Option<CacheCreation>,
    #[serde(default)]
    pub server_tool_use: Option<ServerToolUse>,
    #[serde(borrow, default)]
    pub service_tier: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub inference_geo: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub speed: Option<Text<'a>>,
}

/// Price terms of one request, from its `usage`.
pub(crate) struct UsageTerms {
    pub tier: Tier,
    pub geo: Geo,
    pub speed: Speed,
}

impl<'a> ApiUsage<'a> {
    /// Token counts by category, and whether the cache writes had to be taken as 5-minute
    /// writes: `cache_creation_input_tokens` is the sum of both write kinds, and when a log has
    /// only the sum (older API versions) pricing.md says to count it as 5-minute writes.
    pub fn tokens(&self) -> (Tokens<u64>, bool) {
        let total_writes = self.cache_creation_input_tokens.unwrap_or(0);
        let (w5, w1, assumed) = match self.cache_creation {
            Some(c) => {
                let (w5, w1) = (
                    c.ephemeral_5m_input_tokens.unwrap_or(0),
                    c.ephemeral_1h_input_tokens.unwrap_or(0),
                );
                // A split of zeros next to a non-zero sum says nothing about the TTL.
                if w5 + w1 == 0 && total_writes > 0 {
                    (total_writes, 0, true)
                } else {
                    (w5, w1, false)
                }
            }
            None => (total_writes, 0, total_writes > 0),
        };
        let t = Tokens {
            uncached_input: self.input_tokens.unwrap_or(0),
            cache_write_5m: w5,
            cache_write_1h: w1,
            cache_read: self.cache_read_input_tokens.unwrap_or(0),
            output: self.output_tokens.unwrap_or(0),
        };
        (t, assumed)
    }

    /// Applies a later usage of the same response (a stream's `message_delta`, which carries
    /// the final counts): each field it carries replaces this one's.
    pub fn update(&mut self, later: ApiUsage<'a>) {
        fn set<T>(into: &mut Option<T>, v: Option<T>) {
            if v.is_some() {
                *into = v;
            }
        }
        set(&mut self.input_tokens, later.input_tokens);
        set(&mut self.output_tokens, later.output_tokens);
        set(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        set(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
        set(&mut self.cache_creation, later.cache_creation);
        set(&mut self.server_tool_use, later.server_tool_use);
        set(&mut self.service_tier, later.service_tier);
        set(&mut self.inference_geo, later.inference_geo);
        set(&mut self.speed, later.speed);
    }

    pub fn web_search(&self) -> u64 {
        self.server_tool_use
            .and_then(|s| s.web_search_requests)
            .unwrap_or(0)
    }

    pub fn terms(&self) -> Result<UsageTerms, String> {
        let tier_s = self.service_tier.as_deref().unwrap_or("");
        let tier = Tier::parse(tier_s)
            .ok_or_else(|| format!("usage.service_tier: unknown service tier {tier_s:?}"))?;
        let geo_s = self.inference_geo.as_deref().unwrap_or("");
        let geo = Geo::parse(geo_s)
            .ok_or_else(|| format!("usage.inference_geo: unknown value {geo_s:?}"))?;
        let speed_s = self.speed.as_deref().unwrap_or("");
        let speed = Speed::parse(speed_s)
            .ok_or_else(|| format!("usage.speed: unknown value {speed_s:?}"))?;
        Ok(UsageTerms { tier, geo, speed })
    }
}

/// A value of a response's `usage` that [`ApiUsage::terms_lenient`] did not understand, and
/// priced as standard.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OddValue {
    /// `service_tier`, `inference_geo` or `speed`.
    pub field: &'static str,
    pub value: String,
}

impl ApiUsage<'_> {
    /// [`ApiUsage::terms`] for logs that must import every response (Claude Code): a
    /// `service_tier` other than batch or priority is the standard tier, and an
    /// `inference_geo` or `speed` not understood is the standard one; each value that was not
    /// an ordinary one is returned, to be named in a note.
    pub fn terms_lenient(&self) -> (UsageTerms, Vec<OddValue>) {
        let mut odd = Vec::new();
        let mut note = |field: &'static str, value: &str| {
            odd.push(OddValue {
                field,
                value: value.to_owned(),
            })
        };
        let tier_s = self.service_tier.as_deref().unwrap_or("");
        let tier = match Tier::parse(tier_s) {
            Some(t @ (Tier::Standard | Tier::Batch | Tier::Priority)) => t,
            _ => {
                note("service_tier", tier_s);
                Tier::Standard
            }
        };
        let geo_s = self.inference_geo.as_deref().unwrap_or("");
        let geo = Geo::parse(geo_s).unwrap_or_else(|| {
            note("inference_geo", geo_s);
            Geo::NotAvailable
        });
        let speed_s = self.speed.as_deref().unwrap_or("");
        let speed = Speed::parse(speed_s).unwrap_or_else(|| {
            note("speed", speed_s);
            Speed::Standard
        });
        (UsageTerms { tier, geo, speed }, odd)
    }
}

/// The parts of a Message response that usage needs.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiMessage<'a> {
    #[serde(borrow, default)]
    pub id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub model: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub usage: Option<ApiUsage<'a>>,
}

/// Why a line that serde could not read as a `T` was not imported: broken JSON (a truncated
/// line), or valid JSON with a field of an unexpected type, named by its path. Lines that
/// fail are read a second time to find the path, so the common case pays nothing for it.
pub(crate) fn json_error_reason<'a, T: Deserialize<'a>>(
    line: &'a [u8],
    e: &serde_json::Error,
) -> String {
    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
        Err(_) if e.is_eof() => "not valid JSON: the line ends early (truncated?)".to_owned(),
        Err(e2) => format!("not valid JSON: {e2}"),
        Ok(_) => {
            let mut de = serde_json::Deserializer::from_slice(line);
            let Err(err) = serde_path_to_error::deserialize::<_, T>(&mut de) else {
                return format!("unexpected field type: {e}");
            };
            let path = err.path().to_string();
            let inner = err.inner().to_string();
            // serde_json reads an integer beyond u64 as a float: say what a count must be.
            let what = match inner.split_once("invalid type: floating point `") {
                Some((_, rest)) if inner.contains("expected u64") => {
                    let v = rest.split('`').next().unwrap_or_default();
                    format!(
                        "not a count: {v} (counts are whole numbers from 0 to {})",
                        u64::MAX
                    )
                }
                _ => inner
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            };
            format!("{path}: {what}")
        }
    }
}

pub(crate) fn reject(out: &mut ParsedFile, file: &str, line: u64, reason: String) {
    out.reject(file, line, reason);
}

/// The note for lines whose cache writes had no 5m/1h split.
pub(crate) fn assumed_5m_note(n: u64) -> String {
    format!(
        "{n} lines give cache writes only as cache_creation_input_tokens (no 5m/1h split): counted as 5-minute writes"
    )
}
