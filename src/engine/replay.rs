//! The TTL replay (`what-if.md`, "Grounding levers in the user's own traffic"): where requests
//! carry their own times, "what if the cache TTL were 1 hour" is answered by replaying the
//! timeline, not by repricing the writes.
//!
//! Requests are cut into streams: a Claude Code session (its `sessionId`) on one model, else
//! the requests of one API key x model x workspace. A cache belongs to one model, so a
//! session's requests to a second model (Claude Code's Haiku side calls, a subagent on
//! another model) are a stream of their own: counted in the session's stream, each of them
//! would look like a cache miss of the main model. In time order, a request's cached tokens
//! (its cache writes + reads as observed: the prefix it asked to cache) are read when the
//! stream's previous request came less than the TTL earlier, up to what that previous
//! request cached (the cache holds its prefix), and the rest is written at the TTL's price;
//! when the gap is the TTL or longer, everything is written. A request without cached tokens
//! neither reads nor refreshes the cache.
//!
//! Only request-level records (`Bucket::Request`) outside the Batch API are replayed: Batch
//! results carry no request times of their own, and aggregated exports (Console, Admin) have
//! neither times nor sizes of single requests.
//!
//! The replay is computed once per dataset, when the cube is built, and summed into the
//! cube's cells (reads at 5 minutes and at 1 hour), so the scenario re-prices it like any
//! other token count.

use super::order::TimeOrder;
use crate::domain::packed::Records;
use crate::domain::records::{Bucket, Sym, Tier, UsageRecord};
use rustc_hash::FxHashMap;

/// The TTLs replayed, in this order everywhere (`[5m, 1h]`).
pub const TTL_SECONDS: [i64; 2] = [300, 3600];

/// What the replay knows of a record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// No request time of its own (aggregated rows, batch results): not replayed.
    #[default]
    None,
    /// Replayed; its stream wrote only 5-minute cache entries (or none): the traffic whose
    /// 5-minute replay must land close to the actual cost (the model's self-check).
    FiveMinuteStream,
    /// Replayed; its stream wrote 1-hour cache entries.
    OneHourStream,
}

impl Kind {
    pub fn is_replayed(self) -> bool {
        self != Kind::None
    }
}

/// Whether a record of this bucket and tier is replayed: one request with its own time,
/// outside the Batch API.
fn replayable(bucket: Bucket, tier: Tier) -> bool {
    bucket == Bucket::Request && tier != Tier::Batch
}

/// The stream a request belongs to: session x model, else API key x model x workspace (and
/// the machine a team's merged history came from).
fn stream_of(r: &UsageRecord) -> (Sym, Sym, Sym, Sym, Sym) {
    if r.session != 0 {
        (r.machine, r.session, r.model, 0, 0)
    } else {
        (r.machine, 0, r.model, r.api_key, r.workspace)
    }
}

/// Per record: the cache reads of the replay at 5 minutes and at 1 hour (the writes are the
/// record's cached tokens minus these), and what kind of record it is.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// Empty when no record is replayable; else one entry per record. 32 bits each (a 10 GB
    /// folder's 3.5 million pairs of 64-bit words were 55 MB of a report's peak): a read
    /// that does not fit is [`BIG`] here and kept whole in `big`.
    reads: Vec<[u32; 2]>,
    big: FxHashMap<u32, [u64; 2]>,
    kinds: Vec<Kind>,
}

/// The entry of `Replay::reads` whose reads are kept in `Replay::big`.
const BIG: [u32; 2] = [u32::MAX, u32::MAX];

impl Replay {
    /// The replay of `records` (see the module documentation).
    pub fn of(records: &Records) -> Replay {
        // Time order; requests of the same second in the order they were read.
        // Read twice (the span of the times, then the order): without unpacking the records.
        let order = TimeOrder::sorted((0..records.len()).filter_map(|i| {
            let (time, bucket, tier) = records.time_bucket_tier(i);
            replayable(bucket, tier).then_some((time, i as u32))
        }));
        if order.len() == 0 {
            return Replay::default();
        }
        #[derive(Clone, Copy)]
        struct State {
            /// Time of the stream's last request that used the cache (`None` before one).
            last: Option<i64>,
            /// That request's cached tokens: the prefix the cache holds.
            cached: u64,
            uses_1h: bool,
        }
        let mut streams: FxHashMap<(Sym, Sym, Sym, Sym, Sym), u32> = FxHashMap::default();
        let mut states: Vec<State> = Vec::new();
        let mut stream_of_record: Vec<u32> = vec![u32::MAX; records.len()];
        let mut reads = vec![[0u32; 2]; records.len()];
        let mut big: FxHashMap<u32, [u64; 2]> = FxHashMap::default();
        for (t, i) in order.iter() {
            let r = records.get(i as usize);
            let next = states.len() as u32;
            let s = *streams.entry(stream_of(&r)).or_insert_with(|| {
                states.push(State {
                    last: None,
                    cached: 0,
                    uses_1h: false,
                });
                next
            });
            stream_of_record[i as usize] = s;
            let st = &mut states[s as usize];
            st.uses_1h |= r.tokens.cache_write_1h > 0;
            let cached = r
                .tokens
                .cache_write_5m
                .saturating_add(r.tokens.cache_write_1h)
                .saturating_add(r.tokens.cache_read);
            if cached == 0 {
                continue;
            }
            if let Some(last) = st.last {
                let gap = t.saturating_sub(last);
                let read = TTL_SECONDS.map(|ttl| if gap < ttl { cached.min(st.cached) } else { 0 });
                match read.map(u32::try_from) {
                    [Ok(a), Ok(b)] if [a, b] != BIG => reads[i as usize] = [a, b],
                    _ => {
                        reads[i as usize] = BIG;
                        big.insert(i, read);
                    }
                }
            }
            st.last = Some(t);
            st.cached = cached;
        }
        // Not held beside the kinds.
        drop(order);
        let kinds = stream_of_record
            .iter()
            .map(|&s| match states.get(s as usize) {
                None => Kind::None,
                Some(st) if st.uses_1h => Kind::OneHourStream,
                Some(_) => Kind::FiveMinuteStream,
            })
            .collect();
        Replay { reads, big, kinds }
    }

    /// The replay's cache reads of record `i` at 5m and 1h, and its kind.
    pub fn get(&self, i: usize) -> ([u64; 2], Kind) {
        match (self.reads.get(i), self.kinds.get(i)) {
            (Some(&BIG), Some(k)) => (self.big[&(i as u32)], *k),
            (Some(r), Some(k)) => (r.map(u64::from), *k),
            _ => ([0, 0], Kind::None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::Tokens;

    fn request(session: Sym, time: i64, cache_read: u64, cache_write_5m: u64) -> UsageRecord {
        UsageRecord {
            time,
            model: 1,
            session,
            tokens: Tokens {
                uncached_input: 10,
                cache_read,
                cache_write_5m,
                ..Tokens::default()
            },
            ..UsageRecord::REQUEST
        }
    }

    /// Reads are what the previous request of the stream cached, up to what this one caches,
    /// within the TTL; reads too large for 32 bits come back whole.
    #[test]
    fn reads_of_any_size_come_back_exactly() {
        let t0 = 1_780_000_000;
        let big = 5_000_000_000u64;
        let records: Records = vec![
            // Session 2: 1,000 cached, then 1,200 after 60 s (reads 1,000 at both TTLs), then
            // 900 after 600 s (past 5 minutes: reads 900 at 1 hour only).
            request(2, t0, 0, 1_000),
            request(2, t0 + 60, 1_000, 200),
            request(2, t0 + 660, 900, 0),
            // Session 3: over 32 bits each, 30 s apart; the second reads the first's prefix.
            request(3, t0 + 5, big, 0),
            request(3, t0 + 35, big + 7, 0),
            // A batch result is not replayed.
            UsageRecord {
                tier: Tier::Batch,
                ..request(2, t0 + 61, 1_000, 0)
            },
        ]
        .into();
        let r = Replay::of(&records);
        assert_eq!(r.get(0), ([0, 0], Kind::FiveMinuteStream));
        assert_eq!(r.get(1), ([1_000, 1_000], Kind::FiveMinuteStream));
        assert_eq!(r.get(2), ([0, 900], Kind::FiveMinuteStream));
        assert_eq!(r.get(3), ([0, 0], Kind::FiveMinuteStream));
        assert_eq!(r.get(4), ([big, big], Kind::FiveMinuteStream));
        assert_eq!(r.get(5), ([0, 0], Kind::None));
        assert_eq!(r.big.len(), 1);
    }
}
