//! The kinds of file costlens reads (detected by content, by the import layer).

use serde::{Deserialize, Serialize};

/// A usage or billing file format. Shown (and written in reports) by its label.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
pub enum Format {
    /// Console usage export (`claude_api_tokens_YYYY_MM.csv`). (The default only stands
    /// for a file not parsed yet.)
    #[default]
    #[strum(serialize = "Console usage CSV")]
    #[serde(rename = "Console usage CSV")]
    ConsoleUsageCsv,
    /// Console cost export (`claude_api_cost_*.csv`): the billed series.
    #[strum(serialize = "Console cost CSV")]
    #[serde(rename = "Console cost CSV")]
    ConsoleCostCsv,
    /// Admin API usage report (JSON pages of `/v1/organizations/usage_report/messages`).
    #[strum(serialize = "Admin API usage report")]
    #[serde(rename = "Admin API usage report")]
    AdminUsageJson,
    /// Admin API cost report (JSON pages of `/v1/organizations/cost_report`): billed series.
    #[strum(serialize = "Admin API cost report")]
    #[serde(rename = "Admin API cost report")]
    AdminCostJson,
    /// The user's own Messages API request log (JSONL).
    #[strum(serialize = "Messages API log")]
    #[serde(rename = "Messages API log")]
    MessagesJsonl,
    /// Messages API responses kept as JSON: a pretty-printed Message per file, several
    /// concatenated, or a JSON array of responses.
    #[strum(serialize = "Messages API responses (JSON)")]
    #[serde(rename = "Messages API responses (JSON)")]
    MessagesJson,
    /// A captured SSE stream of the Messages API (`event: message_start` ...).
    #[strum(serialize = "Messages API stream (SSE)")]
    #[serde(rename = "Messages API stream (SSE)")]
    MessagesSse,
    /// Message Batches results (JSONL).
    #[strum(serialize = "Message Batches results")]
    #[serde(rename = "Message Batches results")]
    BatchResultsJsonl,
    /// A Claude Code session log (JSONL, one file of `~/.claude/projects/`).
    #[strum(serialize = "Claude Code log")]
    #[serde(rename = "Claude Code log")]
    ClaudeCodeJsonl,
}

impl Format {
    pub fn label(self) -> &'static str {
        self.into()
    }

    /// An organisation-wide record of usage (the Console's or the Admin API's): any other
    /// source of the same days holds, at least in part, the same usage again.
    pub fn org_wide(self) -> bool {
        matches!(
            self,
            Format::ConsoleUsageCsv
                | Format::ConsoleCostCsv
                | Format::AdminUsageJson
                | Format::AdminCostJson
        )
    }

    /// Admin API reports name keys and workspaces by ID; Console exports by name.
    pub fn keyed_by_id(self) -> bool {
        matches!(self, Format::AdminUsageJson | Format::AdminCostJson)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Reports and tests compare formats with their labels.
impl PartialEq<&str> for Format {
    fn eq(&self, other: &&str) -> bool {
        self.label() == *other
    }
}
