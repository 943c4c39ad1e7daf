//! Message Batches results (JSONL, `formats.md` section 6):
//! `{"custom_id":"req-1","result":{"type":"succeeded","message":{<Message>}}}`.
//!
//! Only `succeeded` results are billed; `errored`, `canceled` and `expired` ones are skipped
//! by rule and counted per type. All of it is batch tier (50%), whatever `usage.service_tier`
//! says. Results carry no time: a line's own `timestamp`/`created_at`/`ended_at` field is used
//! where a tool added one, else the date the user gives (`Options::date`), else the file's
//! modification date ([`DefaultDate`]); the summary says which.

use super::json::{ApiMessage, assumed_5m_note, json_error_reason, reject};
use super::{DefaultDate, Identity, LineFormat, ParsedFile, Stamp, Text, stable_hash};
use crate::domain::dataset::Note;
use crate::domain::records::{Tier, UsageRecord};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct ResultLine<'a> {
    #[serde(borrow, default)]
    custom_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    result: Option<BatchResult<'a>>,
    #[serde(default)]
    timestamp: Option<Stamp>,
    #[serde(default)]
    created_at: Option<Stamp>,
    #[serde(default)]
    ended_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct BatchResult<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    message: Option<ApiMessage<'a>>,
}

#[derive(Default)]
pub(crate) struct Counts {
    /// Results not billed, by `result.type`.
    not_billed: BTreeMap<String, u64>,
    dated_by_line: u64,
    dated_by_default: u64,
    assumed_5m: u64,
}

pub(crate) struct BatchResults<'n> {
    pub name: &'n str,
    pub date: DefaultDate,
}

impl LineFormat for BatchResults<'_> {
    type Counts = Counts;

    fn file_name(&self) -> &str {
        self.name
    }

    fn parse_line(&self, line: &[u8], line_no: u64, out: &mut ParsedFile, counts: &mut Counts) {
        let mut parsed: ResultLine = match serde_json::from_slice(line) {
            Ok(l) => l,
            Err(e) => {
                return reject(
                    out,
                    self.name,
                    line_no,
                    json_error_reason::<ResultLine>(line, &e),
                );
            }
        };
        let Some(result) = parsed.result else {
            return reject(out, self.name, line_no, "no result object".to_owned());
        };
        let kind = result.kind.as_deref().unwrap_or("").to_owned();
        if kind != "succeeded" {
            if kind.is_empty() {
                return reject(out, self.name, line_no, "result.type is missing".to_owned());
            }
            *counts.not_billed.entry(kind).or_default() += 1;
            out.summary.skipped += 1;
            return;
        }
        let Some(message) = result.message else {
            return reject(
                out,
                self.name,
                line_no,
                "succeeded result without a message".to_owned(),
            );
        };
        let Some(usage) = message.usage else {
            return reject(
                out,
                self.name,
                line_no,
                "succeeded result without message.usage".to_owned(),
            );
        };
        let stamp = parsed
            .timestamp
            .take()
            .or(parsed.created_at.take())
            .or(parsed.ended_at.take());
        let time = match (stamp, &self.date) {
            (Some(Stamp::At(t)), _) => {
                counts.dated_by_line += 1;
                t
            }
            (Some(Stamp::Invalid(v)), _) => {
                return reject(
                    out,
                    self.name,
                    line_no,
                    format!("timestamp: not RFC 3339 or Unix seconds: {v}"),
                );
            }
            (None, date) => match date.time() {
                Some(t) => {
                    counts.dated_by_default += 1;
                    t
                }
                None => {
                    return reject(
                        out,
                        self.name,
                        line_no,
                        "Message Batches results carry no date and none was given (--date)"
                            .to_owned(),
                    );
                }
            },
        };
        let model = message.model.as_deref().unwrap_or("").trim();
        if model.is_empty() {
            return reject(
                out,
                self.name,
                line_no,
                "message.model is missing".to_owned(),
            );
        }
        let terms = match usage.terms() {
            Ok(t) => t,
            Err(e) => return reject(out, self.name, line_no, e),
        };
        let (tokens, assumed) = usage.tokens();
        if let Err(why) = super::values::check_tokens(&tokens, usage.web_search(), true) {
            return reject(out, self.name, line_no, why);
        }
        counts.assumed_5m += assumed as u64;
        // The message id names the response; without one, the custom_id names the request
        // within its batch (unique per batch, so only a fallback).
        let identity = match (message.id.as_deref(), parsed.custom_id.as_deref()) {
            (Some(id), _) if !id.is_empty() => Identity::Message {
                id: stable_hash(&[b"message", id.as_bytes()]),
                sidechain: false,
            },
            (_, Some(cid)) if !cid.is_empty() => {
                Identity::Row(stable_hash(&[b"batch", cid.as_bytes(), line]))
            }
            _ => Identity::None,
        };
        let r = UsageRecord {
            time,
            model: out.symbols.intern(model),
            tier: Tier::Batch,
            geo: terms.geo,
            speed: terms.speed,
            tokens,
            web_search: usage.web_search(),
            ..UsageRecord::REQUEST
        };
        out.records.push((r, identity));
    }

    fn merge_counts(into: &mut Counts, from: Counts) {
        for (k, v) in from.not_billed {
            *into.not_billed.entry(k).or_default() += v;
        }
        into.dated_by_line += from.dated_by_line;
        into.dated_by_default += from.dated_by_default;
        into.assumed_5m += from.assumed_5m;
    }

    fn finish(&self, out: &mut ParsedFile, c: Counts) {
        out.summary.rows = out.records.len() as u64;
        let notes = &mut out.summary.notes;
        notes.push(
            "all results priced at the Batch API tier (50%)"
                .to_owned()
                .into(),
        );
        for (kind, n) in &c.not_billed {
            notes.push(format!("{n} results {kind}: not billed, skipped").into());
        }
        if c.dated_by_line > 0 {
            notes.push(Note::from(format!(
                "{} results dated by their own timestamp field",
                c.dated_by_line
            )));
        }
        if c.dated_by_default > 0 {
            notes.push(Note::from(self.date.note(c.dated_by_default, "results")));
            out.summary.default_dated = c.dated_by_default;
        }
        if c.assumed_5m > 0 {
            notes.push(assumed_5m_note(c.assumed_5m).into());
        }
    }
}
