//! A dataset's records, held packed: 44 bytes each instead of a [`UsageRecord`]'s 96.
//!
//! A merged import holds every request it found to the end (a 10 GB Claude Code folder has
//! 3.46 million): at 96 bytes they were 332 MB, the largest part of its peak. Most of a
//! record's 64-bit fields hold small numbers: a request's token counts fit 32 bits, its
//! time fits 32 bits counted from 2000, it stands for one request and a few web searches;
//! and few records differ in workspace, API key and machine (all of a Claude Code folder's
//! share one set), so each set of the three is held once and a record keeps its index. A
//! record is packed into eleven 32-bit words when all of that holds, and kept whole beside
//! the packed ones when it does not (a daily row of more than 4,294,967,295 tokens, a time
//! before 2000 or after 2136, more than 63 requests or 127 web searches in one row): nothing
//! is ever rounded or cut. [`Records::get`] gives back the record that was pushed.

use super::records::{Bucket, Context, Geo, Speed, Sym, Tier, Tokens, UsageRecord};

/// 2000-01-01T00:00:00Z: a packed time counts seconds from it.
const EPOCH: i64 = 946_684_800;

/// The flag word: bucket (2 bits), tier (3), context (2), geography (2), speed (1), source
/// (8), whether the record is kept whole (1), web searches (7) and requests (6).
const WIDE: u32 = 1 << 18;
const SOURCE_SHIFT: u32 = 10;
const WEB_SEARCH_SHIFT: u32 = 19;
const WEB_SEARCH_MAX: u64 = (1 << 7) - 1;
const REQUESTS_SHIFT: u32 = 26;
const REQUESTS_MAX: u64 = (1 << 6) - 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Packed {
    /// Seconds since [`EPOCH`]; for a record kept whole, its index in `Records::wide`.
    time: u32,
    tokens: [u32; 5],
    /// model, project, session.
    syms: [u32; 3],
    /// The record's workspace, API key and machine: their index in `Records::owners`.
    owners: u32,
    flags: u32,
}

const _: () = assert!(std::mem::size_of::<Packed>() == 44);

impl Packed {
    /// `r` packed, when every field fits, with its workspace, API key and machine at index
    /// `owners` (given once it is known that the rest fits).
    fn of(r: &UsageRecord, owners: impl FnOnce(Owners) -> u32) -> Option<Packed> {
        let time = u32::try_from(r.time.checked_sub(EPOCH)?).ok()?;
        let t = r.tokens.as_array();
        let mut tokens = [0u32; 5];
        for (p, v) in tokens.iter_mut().zip(t) {
            *p = u32::try_from(v).ok()?;
        }
        if r.web_search > WEB_SEARCH_MAX || r.requests > REQUESTS_MAX {
            return None;
        }
        // Bucket, tier and geography as their index in their `ALL`.
        let flags = (r.bucket as u32)
            | ((r.tier as u32) << 2)
            | ((r.context.code() as u32) << 5)
            | ((r.geo as u32) << 7)
            | ((r.speed == Speed::Fast) as u32) << 9
            | ((r.source as u32) << SOURCE_SHIFT)
            | (r.web_search as u32) << WEB_SEARCH_SHIFT
            | (r.requests as u32) << REQUESTS_SHIFT;
        Some(Packed {
            time,
            tokens,
            syms: [r.model, r.project, r.session],
            owners: owners([r.workspace, r.api_key, r.machine]),
            flags,
        })
    }

    /// The time, bucket and tier, read alone by the passes that order records by time.
    #[inline]
    fn unix_time(&self) -> i64 {
        EPOCH + self.time as i64
    }

    #[inline]
    fn bucket(&self) -> Bucket {
        Bucket::ALL[(self.flags & 3) as usize]
    }

    #[inline]
    fn tier(&self) -> Tier {
        Tier::ALL[(self.flags >> 2 & 7) as usize]
    }

    #[inline]
    fn unpack(&self, owners: Owners) -> UsageRecord {
        let f = self.flags;
        let [model, project, session] = self.syms;
        let [workspace, api_key, machine] = owners;
        UsageRecord {
            time: self.unix_time(),
            bucket: self.bucket(),
            model,
            tier: self.tier(),
            // Only codes `Context::code` gives are written.
            context: Context::from_code((f >> 5 & 3) as u8).unwrap_or(Context::Request),
            geo: Geo::ALL[(f >> 7 & 3) as usize],
            speed: if f >> 9 & 1 == 1 {
                Speed::Fast
            } else {
                Speed::Standard
            },
            workspace,
            api_key,
            project,
            session,
            machine,
            tokens: Tokens::from_array(self.tokens.map(u64::from)),
            web_search: (f >> WEB_SEARCH_SHIFT) as u64 & WEB_SEARCH_MAX,
            requests: (f >> REQUESTS_SHIFT) as u64 & REQUESTS_MAX,
            source: (f >> SOURCE_SHIFT) as u8,
        }
    }
}

/// A record's workspace, API key and machine.
type Owners = [Sym; 3];

/// Each set of workspace, API key and machine the records have, held once: in `list`, found
/// by its hash through `index`, which holds only positions in the list (as [`Symbols`] does
/// for names).
///
/// [`Symbols`]: super::records::Symbols
#[derive(Clone, Debug, Default)]
struct OwnerSets {
    list: Vec<Owners>,
    index: hashbrown::HashTable<u32>,
}

fn owners_hash(o: &Owners) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(o)
}

impl OwnerSets {
    fn id(&mut self, o: Owners) -> u32 {
        // Most records share the last set made (all of a Claude Code folder's): checked
        // before the table.
        if self.list.last() == Some(&o) {
            return (self.list.len() - 1) as u32;
        }
        let h = owners_hash(&o);
        let list = &self.list;
        if let Some(&i) = self.index.find(h, |&i| list[i as usize] == o) {
            return i;
        }
        let i = u32::try_from(self.list.len()).expect("fewer than 4 billion sets");
        self.list.push(o);
        let list = &self.list;
        self.index
            .insert_unique(h, i, |&i| owners_hash(&list[i as usize]));
        i
    }
}

/// Usage records in order, packed (see the module documentation). Read back by value:
/// [`Records::get`], [`Records::iter`]; changed with [`Records::set`].
#[derive(Clone, Debug, Default)]
pub struct Records {
    packed: Vec<Packed>,
    /// The records that do not fit a packed entry, kept whole.
    wide: Vec<UsageRecord>,
    owners: OwnerSets,
}

impl Records {
    pub fn new() -> Records {
        Records::default()
    }

    pub fn with_capacity(n: usize) -> Records {
        Records {
            packed: Vec::with_capacity(n),
            ..Records::default()
        }
    }

    pub fn len(&self) -> usize {
        self.packed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    fn pack(&mut self, r: &UsageRecord) -> Packed {
        Packed::of(r, |o| self.owners.id(o)).unwrap_or_else(|| {
            self.wide.push(*r);
            Packed {
                time: u32::try_from(self.wide.len() - 1).expect("fewer than 4 billion records"),
                flags: WIDE,
                ..Packed::default()
            }
        })
    }

    pub fn push(&mut self, r: UsageRecord) {
        let p = self.pack(&r);
        self.packed.push(p);
    }

    /// The `i`th record. Panics when there is none, as indexing a vector does.
    #[inline]
    pub fn get(&self, i: usize) -> UsageRecord {
        self.unpack(&self.packed[i])
    }

    #[inline]
    fn unpack(&self, p: &Packed) -> UsageRecord {
        if p.flags & WIDE == 0 {
            p.unpack(self.owners.list[p.owners as usize])
        } else {
            self.wide[p.time as usize]
        }
    }

    /// The `i`th record's time (Unix seconds), without unpacking the rest.
    #[inline]
    pub fn time(&self, i: usize) -> i64 {
        self.time_bucket_tier(i).0
    }

    /// The `i`th record's time (Unix seconds), bucket and tier, without unpacking the rest:
    /// what the passes that put records in time order read of each.
    #[inline]
    pub fn time_bucket_tier(&self, i: usize) -> (i64, Bucket, Tier) {
        let p = &self.packed[i];
        if p.flags & WIDE == 0 {
            (p.unix_time(), p.bucket(), p.tier())
        } else {
            let r = &self.wide[p.time as usize];
            (r.time, r.bucket, r.tier)
        }
    }

    /// Replaces the `i`th record.
    pub fn set(&mut self, i: usize, r: UsageRecord) {
        let old = self.packed[i];
        let packed = Packed::of(&r, |o| self.owners.id(o));
        self.packed[i] = match (packed, old.flags & WIDE != 0) {
            (Some(p), _) => p,
            // Kept whole before: its slot is reused.
            (None, true) => {
                self.wide[old.time as usize] = r;
                old
            }
            (None, false) => self.pack(&r),
        };
    }

    /// Replaces the records in `range` with `with`, in place: the records after it move, and
    /// the room grows by what is added only (one file's part replaced in a 10 GB import's 3.5
    /// million records, `pipeline::splice`, must not hold them twice). A record kept whole
    /// that is replaced stays in the side table, unused (counts past 32 bits: rare).
    pub fn replace_range(
        &mut self,
        range: std::ops::Range<usize>,
        with: impl Iterator<Item = UsageRecord>,
    ) {
        let added: Vec<Packed> = with.map(|r| self.pack(&r)).collect();
        self.packed
            .reserve_exact(added.len().saturating_sub(range.len()));
        self.packed.splice(range, added);
    }

    /// Sets the `i`th record's source (see [`UsageRecord::source`]), in place.
    pub fn set_source(&mut self, i: usize, source: u8) {
        let p = &mut self.packed[i];
        if p.flags & WIDE == 0 {
            p.flags = (p.flags & !(0xff << SOURCE_SHIFT)) | ((source as u32) << SOURCE_SHIFT);
        } else {
            self.wide[p.time as usize].source = source;
        }
    }

    /// Changes the `i`th record through `f`.
    pub fn update(&mut self, i: usize, f: impl FnOnce(&mut UsageRecord)) {
        let mut r = self.get(i);
        f(&mut r);
        self.set(i, r);
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            records: self,
            inner: self.packed.iter(),
        }
    }

    pub fn clear(&mut self) {
        *self = Records::default();
    }

    pub fn reserve(&mut self, n: usize) {
        self.packed.reserve(n);
    }

    pub fn reserve_exact(&mut self, n: usize) {
        self.packed.reserve_exact(n);
    }

    pub fn shrink_to_fit(&mut self) {
        self.packed.shrink_to_fit();
        self.wide.shrink_to_fit();
        self.owners.list.shrink_to_fit();
        let list = &self.owners.list;
        self.owners
            .index
            .shrink_to_fit(|&i| owners_hash(&list[i as usize]));
    }

    /// How many are kept whole (for tests and the benchmarks' accounting).
    pub fn wide_count(&self) -> usize {
        self.wide.len()
    }

    /// Bytes held (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.packed.capacity() * std::mem::size_of::<Packed>()
            + self.wide.capacity() * std::mem::size_of::<UsageRecord>()
            + self.owners.list.capacity() * std::mem::size_of::<Owners>()
            + self.owners.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }

    pub fn to_vec(&self) -> Vec<UsageRecord> {
        self.iter().collect()
    }
}

/// Equal when they hold the same records in the same order (however they are packed).
impl PartialEq for Records {
    fn eq(&self, other: &Records) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl From<Vec<UsageRecord>> for Records {
    fn from(v: Vec<UsageRecord>) -> Records {
        v.into_iter().collect()
    }
}

impl FromIterator<UsageRecord> for Records {
    fn from_iter<I: IntoIterator<Item = UsageRecord>>(iter: I) -> Records {
        let mut r = Records::new();
        r.extend(iter);
        r
    }
}

impl Extend<UsageRecord> for Records {
    fn extend<I: IntoIterator<Item = UsageRecord>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.packed.reserve(iter.size_hint().0);
        for r in iter {
            self.push(r);
        }
    }
}

/// The records in order, unpacked one at a time.
#[derive(Clone)]
pub struct Iter<'a> {
    records: &'a Records,
    inner: std::slice::Iter<'a, Packed>,
}

impl Iterator for Iter<'_> {
    type Item = UsageRecord;

    #[inline]
    fn next(&mut self) -> Option<UsageRecord> {
        self.inner.next().map(|p| self.records.unpack(p))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<UsageRecord> {
        self.inner.next_back().map(|p| self.records.unpack(p))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Records {
    type Item = UsageRecord;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(time: i64) -> UsageRecord {
        UsageRecord {
            time,
            model: 3,
            project: 7,
            session: 11,
            tokens: Tokens {
                uncached_input: 12,
                cache_write_5m: 1_500,
                cache_write_1h: 2_000,
                cache_read: 180_000,
                output: 900,
            },
            ..UsageRecord::REQUEST
        }
    }

    /// Every value of every field comes back as it was pushed: packed where it fits, kept
    /// whole where it does not, at the edges of each.
    #[test]
    fn every_record_reads_back_exactly_as_pushed() {
        let base = request(1_780_000_000);
        let mut cases = vec![base];
        for bucket in Bucket::ALL {
            cases.push(UsageRecord { bucket, ..base });
        }
        for tier in Tier::ALL {
            cases.push(UsageRecord { tier, ..base });
        }
        for context in [Context::Request, Context::Flag(false), Context::Flag(true)] {
            cases.push(UsageRecord { context, ..base });
        }
        for geo in Geo::ALL {
            cases.push(UsageRecord { geo, ..base });
        }
        cases.push(UsageRecord {
            speed: Speed::Fast,
            ..base
        });
        for source in [0u8, 1, 77, 255] {
            cases.push(UsageRecord { source, ..base });
        }
        cases.push(UsageRecord {
            workspace: u32::MAX,
            api_key: 1 << 31,
            machine: 65_536,
            ..base
        });
        // Times: the first and last second that pack, and either side of them.
        for time in [
            EPOCH,
            EPOCH - 1,
            EPOCH + u32::MAX as i64,
            EPOCH + u32::MAX as i64 + 1,
            0,
            -86_400,
            i64::MIN,
            i64::MAX,
        ] {
            cases.push(UsageRecord { time, ..base });
        }
        // Counts: the largest that pack, and one more.
        for c in crate::domain::records::Category::ALL {
            for v in [u32::MAX as u64, u32::MAX as u64 + 1, u64::MAX] {
                let mut t = base.tokens.as_array();
                t[c.index()] = v;
                cases.push(UsageRecord {
                    tokens: Tokens::from_array(t),
                    ..base
                });
            }
        }
        for v in [0u64, 127, 128, 65_536, u64::MAX] {
            cases.push(UsageRecord {
                web_search: v,
                ..base
            });
        }
        for v in [0u64, 63, 64, 65_536, u64::MAX] {
            cases.push(UsageRecord {
                requests: v,
                ..base
            });
        }
        // Both at their largest beside the highest source: no field spills into another.
        cases.push(UsageRecord {
            web_search: 127,
            requests: 63,
            source: 255,
            speed: Speed::Fast,
            ..base
        });
        let records: Records = cases.iter().copied().collect();
        assert_eq!(records.len(), cases.len());
        assert_eq!(records.to_vec(), cases);
        for (i, r) in cases.iter().enumerate() {
            assert_eq!(records.get(i), *r, "record {i}");
            assert_eq!(records.time(i), r.time, "time of record {i}");
            assert_eq!(
                records.time_bucket_tier(i),
                (r.time, r.bucket, r.tier),
                "time, bucket and tier of record {i}"
            );
        }
        // 6 times outside 2000–2136, 10 token counts over 32 bits, 3 web search counts over
        // 127 and 3 request counts over 63.
        assert_eq!(records.wide_count(), 6 + 10 + 3 + 3);
        assert_eq!(records.iter().next_back(), cases.last().copied());
    }

    /// Records that differ in workspace, API key or machine, in any order, keep their own:
    /// each set of the three is held once however many records share it.
    #[test]
    fn workspace_api_key_and_machine_read_back_in_any_order() {
        let base = request(1_780_000_000);
        let sets: Vec<[u32; 3]> = (0..50u32)
            .map(|i| [i % 7, i % 5 * 1_000, u32::MAX - i % 3])
            .collect();
        let cases: Vec<UsageRecord> = (0..2_000usize)
            .map(|i| {
                let [workspace, api_key, machine] = sets[i * 37 % sets.len()];
                UsageRecord {
                    workspace,
                    api_key,
                    machine,
                    time: base.time + i as i64,
                    ..base
                }
            })
            .collect();
        let mut records: Records = cases.iter().copied().collect();
        assert_eq!(records.to_vec(), cases);
        assert_eq!(records.wide_count(), 0);
        // 7 × 5 × 3 combine to 105, but i % 7, i % 5 and i % 3 over 0..50 give 50 sets.
        assert_eq!(records.owners.list.len(), 50);
        // A record changed to a new set, and one changed back.
        records.update(3, |r| r.machine = 424_242);
        let five = cases[5];
        records.update(4, |r| {
            (r.workspace, r.api_key, r.machine) = (five.workspace, five.api_key, five.machine)
        });
        assert_eq!(records.get(3).machine, 424_242);
        assert_eq!(
            records.get(4),
            UsageRecord {
                time: cases[4].time,
                ..five
            }
        );
        assert_eq!(records.get(2), cases[2]);
        assert_eq!(records.owners.list.len(), 51);
    }

    /// Replacing a record keeps the others, reuses a whole record's slot for another whole
    /// one, and packs one that now fits.
    #[test]
    fn a_replaced_record_reads_back_and_leaves_the_others() {
        let a = request(1_780_000_000);
        let huge = UsageRecord {
            tokens: Tokens {
                output: 5_000_000_000,
                ..a.tokens
            },
            ..a
        };
        let mut records: Records = vec![a, huge, a].into();
        assert_eq!(records.wide_count(), 1);
        let bigger = UsageRecord {
            requests: 1_000_000,
            ..huge
        };
        records.set(1, bigger);
        assert_eq!(records.wide_count(), 1, "the slot is reused");
        records.set(0, huge);
        assert_eq!(records.wide_count(), 2);
        records.set(1, a);
        assert_eq!(records.to_vec(), vec![huge, a, a]);
        records.update(2, |r| r.tokens.output += 100);
        assert_eq!(records.get(2).tokens.output, 1_000);
        assert_eq!(
            records,
            Records::from(vec![
                huge,
                a,
                UsageRecord {
                    tokens: Tokens {
                        output: 1_000,
                        ..a.tokens
                    },
                    ..a
                }
            ])
        );
    }

    /// A range of records replaced by others, fewer, as many or more, at the start, in the
    /// middle and at the end, some kept whole: the records read back as a vector's splice
    /// gives them.
    #[test]
    fn a_range_replaced_reads_back_as_a_vectors_splice() {
        let at = |i: u64| UsageRecord {
            tokens: Tokens {
                output: if i.is_multiple_of(4) {
                    5_000_000_000 + i
                } else {
                    i
                },
                ..request(0).tokens
            },
            ..request(1_780_000_000 + i as i64)
        };
        for (start, end, n) in [
            (0, 0, 3),
            (0, 4, 1),
            (3, 7, 4),
            (5, 6, 9),
            (9, 12, 0),
            (12, 12, 2),
        ] {
            let old: Vec<UsageRecord> = (0..12).map(at).collect();
            let new: Vec<UsageRecord> = (100..100 + n).map(at).collect();
            let mut records = Records::from(old.clone());
            records.replace_range(start..end, new.iter().copied());
            let mut want = old;
            want.splice(start..end, new);
            assert_eq!(records.to_vec(), want, "{start}..{end} by {n}");
            assert_eq!(records.len(), want.len());
        }
    }
}
