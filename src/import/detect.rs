//! Format detection, by content (not by file name): the one place that knows what each
//! supported file looks like at its start.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Console usage export (`claude_api_tokens_YYYY_MM.csv`).
    ConsoleUsageCsv,
    /// Console cost export (`claude_api_cost_*.csv`): the billed series.
    ConsoleCostCsv,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::ConsoleUsageCsv => "Console usage CSV",
            Format::ConsoleCostCsv => "Console cost CSV",
        }
    }
}

pub const SUPPORTED: &str = "a Console usage or cost CSV";

/// Detects the format from the first bytes of a file (64 KiB is plenty).
pub fn detect_format(head: &[u8]) -> Result<Format, String> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("the file is empty".into());
    }
    if let Some(kind) = binary_kind(head) {
        return Err(format!("this is {kind}, not a usage export ({SUPPORTED})"));
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let first_line = String::from_utf8_lossy(first_line);
    let header: Vec<String> = first_line
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let has = |name: &str| header.iter().any(|h| h == name);
    if has("usage_input_tokens_no_cache") || (has("usage_date_utc") && has("usage_output_tokens")) {
        return Ok(Format::ConsoleUsageCsv);
    }
    if has("token_type") && has("cost_usd") {
        return Ok(Format::ConsoleCostCsv);
    }
    Err(format!(
        "not a recognised usage file: expected {SUPPORTED}; the first line is {:?}",
        first_line.chars().take(120).collect::<String>()
    ))
}

fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "a PNG image"),
        (b"PK\x03\x04", "a ZIP archive (unzip it first)"),
        (b"\x1f\x8b", "a gzip archive (decompress it first)"),
        (b"%PDF", "a PDF document"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"SQLite format 3", "an SQLite database"),
        (b"\xd0\xcf\x11\xe0", "an old Excel/Office file (save it as CSV)"),
    ];
    if let Some((_, kind)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(kind);
    }
    let sample = &head[..head.len().min(4096)];
    if sample.contains(&0) {
        return Some("a binary file");
    }
    None
}
