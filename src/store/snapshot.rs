//! The import snapshot: the merged result of a whole import (every file of the folders and
//! files the user opened, de-duplicated), kept so that opening the same logs again when
//! nothing changed costs one stat per file and one read, instead of decoding and merging
//! thousands of per-file cache entries (a 1 GB Claude Code tree holds ~4,000 session files).
//!
//! A snapshot is made for one set of inputs (the paths opened and the import options) and
//! holds the manifest it was made from: every file's path as shown, absolute path, size and
//! modification time, the program build and the cache format. It is used only when the
//! manifest of the files as they are now is the same; any change (a file added, removed,
//! grown or touched) falls back to the per-file cache ([`super::cache`]), which re-parses the
//! changed files only, and the snapshot is then rewritten. Imports that met an error (a file
//! that could not be read, wholly or to its end) are not snapshotted, so the error is met, and
//! shown, again.
//!
//! Layout: framed as a cache entry ([`super::cache::frame`]: magic, version, header, body,
//! checksum). Header (JSON): manifest hash, symbols, file summaries, rejected lines, billed
//! rows, sources, overlaps, likely double counts, notes, unrecognised files. Body (binary):
//! records length (u64 LE) and the records as in a cache entry, each record's source (one
//! byte a record), the reported costs, then (after a byte 1; 0 for none) the files' parts
//! ([`Parts`]): per file found its place, stamp and summary's index, per file merged its
//! parts' ends and whether it shares usage, per record its identity's fingerprint, and the
//! history's revision. Written as it is encoded, a part at a time (never
//! held whole), to a temporary file then renamed. The de-duplication state of the merge is not
//! kept: a merged dataset is final, but for a file that shares no usage with another, which
//! can be merged again alone (`pipeline::splice`).

use super::cache::{
    FORMAT_VERSION, Key, Reader, RecordEncoder, checksummer, decode_records, json_len,
    program_build, put_varint, read_exactly, write_atomically, write_frame,
};
use crate::domain::dataset::{Dataset, DoubleCount, Overlap, Source};
use crate::domain::packed::Records;
use crate::domain::records::Symbols;
use crate::import::merge::{FileParts, PartEnds};
use crate::import::{BilledRow, FileSummary, Identity, Options, Rejected};
use integer_encoding::VarInt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// (`costlens-snap` before the body held the files' parts, [`Parts`].)
const MAGIC: &[u8; 16] = b"costlens-snap2\n\0";

/// Imports smaller than this are not snapshotted: they load in a few milliseconds anyway
/// (nor are imports of a single file: its own cache entry answers as fast).
pub const MIN_SNAPSHOT_BYTES: u64 = 1 << 20;

/// The inputs of an import (the paths opened, absolute, and the import options): a snapshot
/// is kept per set of inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inputs(u64);

impl Inputs {
    pub fn new(paths: &[PathBuf], opts: &Options) -> Option<Inputs> {
        let date = opts.date.map(i64::to_le_bytes).unwrap_or_default();
        let sum = [opts.sum_overlaps as u8];
        let mut parts: Vec<Vec<u8>> = vec![
            FORMAT_VERSION.to_le_bytes().to_vec(),
            program_build().as_bytes().to_vec(),
            date.to_vec(),
            sum.to_vec(),
        ];
        for p in paths {
            let abs = std::path::absolute(p).ok()?;
            parts.push(abs.to_string_lossy().into_owned().into_bytes());
        }
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        Some(Inputs(crate::import::stable_hash(&parts)))
    }

    /// The manifest of these inputs expanded to `files` (with whether each came from an
    /// opened folder) whose keys are `keys`: every file's path as shown, key (absolute
    /// path, size, modification time) and origin. `None` when a file has no key (it could
    /// not be examined: the import will say why, and is not snapshotted).
    pub fn manifest(
        &self,
        files: &[PathBuf],
        in_folder: &[bool],
        keys: &[Option<Key>],
    ) -> Option<Manifest> {
        let mut h = self.0;
        for ((f, &folder), key) in files.iter().zip(in_folder).zip(keys) {
            let k = key.as_ref()?;
            let shown = f.to_string_lossy();
            h = crate::import::stable_hash(&[
                &h.to_le_bytes(),
                shown.as_bytes(),
                k.path.as_bytes(),
                &k.size.to_le_bytes(),
                &k.mtime_secs.to_le_bytes(),
                &k.mtime_nanos.to_le_bytes(),
                &k.dev.to_le_bytes(),
                &k.ino.to_le_bytes(),
                &k.ctime_secs.to_le_bytes(),
                &k.ctime_nanos.to_le_bytes(),
                &[folder as u8],
            ]);
        }
        Some(Manifest(h))
    }

    /// These inputs with more that decides the result (the history used).
    pub fn with(&self, extra: &[&[u8]]) -> Inputs {
        let mut parts: Vec<&[u8]> = vec![b"inputs-with"];
        let own = self.0.to_le_bytes();
        parts.push(&own);
        parts.extend_from_slice(extra);
        Inputs(crate::import::stable_hash(&parts))
    }

    fn file(&self, cache_dir: &Path) -> PathBuf {
        cache_dir.join(format!("{:016x}.snap", self.0))
    }
}

/// What a snapshot must match to be used: see [`Inputs::manifest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manifest(u64);

impl Manifest {
    /// The manifest as a number (kept in an answer, [`super::answer`]).
    pub fn raw(&self) -> u64 {
        self.0
    }

    pub fn from_raw(v: u64) -> Manifest {
        Manifest(v)
    }

    /// This manifest with more that the snapshot must match (the history's revision).
    pub fn with(&self, extra: &[u8]) -> Manifest {
        Manifest(crate::import::stable_hash(&[
            b"manifest-with",
            &self.0.to_le_bytes(),
            extra,
        ]))
    }
}

/// What lets an import that changed in a few files be answered from a snapshot with only
/// those files merged again (`pipeline::splice`): the files as they were examined, and each
/// merged file's part of the dataset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parts {
    /// Per file found, in the import's order.
    pub walk: Vec<WalkEntry>,
    /// Per file merged: where its part lies, and whether it shares usage with another.
    pub files: FileParts,
    /// The usage history's revision the snapshot was made with (0 without a history).
    pub revision: u64,
}

/// A file found by an import: its place (path as shown, absolute path, whether it was found
/// in a folder opened) and its stamp (size, times, identity), each hashed, and the index of
/// its summary in the dataset's files ([`WalkEntry::NOT_MERGED`] when it gave none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkEntry {
    pub place: u64,
    pub stamp: u64,
    pub file: u32,
}

impl WalkEntry {
    pub const NOT_MERGED: u32 = u32::MAX;

    pub fn of(shown: &Path, key: &Key, in_folder: bool, file: u32) -> WalkEntry {
        WalkEntry {
            place: crate::import::stable_hash(&[
                shown.to_string_lossy().as_bytes(),
                key.path.as_bytes(),
                &[in_folder as u8],
            ]),
            stamp: crate::import::stable_hash(&[
                &key.size.to_le_bytes(),
                &key.mtime_secs.to_le_bytes(),
                &key.mtime_nanos.to_le_bytes(),
                &key.dev.to_le_bytes(),
                &key.ino.to_le_bytes(),
                &key.ctime_secs.to_le_bytes(),
                &key.ctime_nanos.to_le_bytes(),
            ]),
            file,
        }
    }
}

impl Parts {
    /// The body's bytes for these parts (see [`write`]).
    fn encoded_len(&self) -> u64 {
        let n = |v: usize| (v as u64).required_space() as u64;
        n(self.walk.len())
            + 20 * self.walk.len() as u64
            + n(self.files.ends.len())
            + 13 * self.files.ends.len() as u64
            + n(self.files.fingerprints.len())
            + 4 * self.files.fingerprints.len() as u64
            + 8
    }

    fn encode(&self, emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(PART * 20 + 10);
        put_varint(&mut buf, self.walk.len() as u64);
        for part in self.walk.chunks(PART) {
            for w in part {
                buf.extend_from_slice(&w.place.to_le_bytes());
                buf.extend_from_slice(&w.stamp.to_le_bytes());
                buf.extend_from_slice(&w.file.to_le_bytes());
            }
            emit(&buf)?;
            buf.clear();
        }
        put_varint(&mut buf, self.files.ends.len() as u64);
        for (part, shared) in self
            .files
            .ends
            .chunks(PART)
            .zip(self.files.shared.chunks(PART))
        {
            for (e, &s) in part.iter().zip(shared) {
                buf.extend_from_slice(&e.records.to_le_bytes());
                buf.extend_from_slice(&e.reported.to_le_bytes());
                buf.extend_from_slice(&e.symbols.to_le_bytes());
                buf.push(s as u8);
            }
            emit(&buf)?;
            buf.clear();
        }
        put_varint(&mut buf, self.files.fingerprints.len() as u64);
        for part in self.files.fingerprints.chunks(PART * 4) {
            for f in part {
                buf.extend_from_slice(&f.to_le_bytes());
            }
            emit(&buf)?;
            buf.clear();
        }
        buf.extend_from_slice(&self.revision.to_le_bytes());
        emit(&buf)
    }

    fn decode(r: &mut Reader) -> Option<Parts> {
        let u32_of = |r: &mut Reader| Some(u32::from_le_bytes(r.take(4)?.try_into().ok()?));
        let n = r.varint()? as usize;
        if n > r.b.len() / 20 {
            return None;
        }
        let mut walk = Vec::with_capacity(n);
        for _ in 0..n {
            walk.push(WalkEntry {
                place: r.u64_fixed()?,
                stamp: r.u64_fixed()?,
                file: u32_of(r)?,
            });
        }
        let n = r.varint()? as usize;
        if n > r.b.len() / 13 {
            return None;
        }
        let (mut ends, mut shared) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            ends.push(PartEnds {
                records: u32_of(r)?,
                reported: u32_of(r)?,
                symbols: u32_of(r)?,
            });
            shared.push(match r.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return None,
            });
        }
        let n = r.varint()? as usize;
        if n > r.b.len() / 4 {
            return None;
        }
        let fingerprints = r
            .take(4 * n)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        Some(Parts {
            walk,
            files: FileParts {
                ends,
                shared,
                fingerprints,
            },
            revision: r.u64_fixed()?,
        })
    }

    /// Whether these parts describe `data`: a file's ends never before the last's, the last
    /// at the dataset's ends, a fingerprint per record, a summary per file merged.
    fn fit(&self, data: &Dataset) -> bool {
        let ends = &self.files.ends;
        let ordered = ends.windows(2).all(|w| {
            w[0].records <= w[1].records
                && w[0].reported <= w[1].reported
                && w[0].symbols <= w[1].symbols
        });
        let last = ends.last().copied().unwrap_or_default();
        ordered
            && ends.len() == data.files.len()
            && self.files.shared.len() == ends.len()
            && last.records as usize == data.records.len()
            && last.reported as usize == data.reported.len()
            && last.symbols as usize <= data.symbols.len()
            && self.files.fingerprints.len() == data.records.len()
            && self
                .walk
                .iter()
                .all(|w| w.file == WalkEntry::NOT_MERGED || (w.file as usize) < ends.len())
    }
}

/// A decoded snapshot: usable only if its manifest is the manifest of the files as they are.
pub struct Snapshot {
    pub manifest: Manifest,
    pub data: Dataset,
    pub unrecognised: Vec<String>,
    /// Where each file's part of the data lies (a snapshot written without them has none).
    pub parts: Option<Parts>,
    file: PathBuf,
    /// When it was last marked as used (its modification time).
    marked: Option<SystemTime>,
}

impl Snapshot {
    /// Marks the snapshot, and the packs its files' entries are in, as used (see
    /// [`super::cache::Cache::prune`]): the packs must outlive a snapshot that answers every
    /// import, for the day a file changes. Done at most once a day (a tree has a pack per
    /// folder: touching them all on every import would cost more than the import).
    pub fn mark_used<'a>(&self, cache_dir: &Path, keys: impl Iterator<Item = &'a Key>) {
        mark(cache_dir, &self.file, self.marked, keys);
    }
}

/// Marks the snapshot of `inputs` and its packs as used, as [`Snapshot::mark_used`] does,
/// without reading it (a kept answer answered in its place: [`super::answer`]).
pub fn mark_unread_used<'a>(
    cache_dir: &Path,
    inputs: &Inputs,
    keys: impl Iterator<Item = &'a Key>,
) {
    let file = inputs.file(cache_dir);
    let marked = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
    mark(cache_dir, &file, marked, keys);
}

/// Marks the packs the files with keys `keys` are in as used, each at most once a day (by its
/// own modification time: an import spliced into a snapshot, `pipeline::splice`, writes the
/// snapshot again each time, so its time says nothing of the packs').
pub fn mark_packs_used<'a>(cache_dir: &Path, keys: impl Iterator<Item = &'a Key>) {
    let day = Duration::from_secs(86_400);
    for pack in super::cache::packs_of(cache_dir, keys) {
        let used = std::fs::metadata(&pack).and_then(|m| m.modified()).ok();
        if used.is_some_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() >= day) {
            super::cache::touch(&pack);
        }
    }
}

fn mark<'a>(
    cache_dir: &Path,
    file: &Path,
    marked: Option<SystemTime>,
    keys: impl Iterator<Item = &'a Key>,
) {
    let day = Duration::from_secs(86_400);
    if marked.is_some_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() < day) {
        return;
    }
    for pack in super::cache::packs_of(cache_dir, keys) {
        super::cache::touch(&pack);
    }
    super::cache::touch(file);
}

#[derive(Serialize, Deserialize)]
struct Header {
    manifest: u64,
    symbols: Vec<String>,
    files: Vec<FileSummary>,
    rejected: Vec<Rejected>,
    #[serde(default)]
    rejected_total: u64,
    #[serde(default)]
    rejected_kinds: std::collections::BTreeMap<String, u64>,
    billed: Vec<BilledRow>,
    sources: Vec<Source>,
    overlaps: Vec<Overlap>,
    double_counts: Vec<DoubleCount>,
    notes: Vec<String>,
    unrecognised: Vec<String>,
    #[serde(default)]
    history: Option<crate::domain::dataset::HistoryUse>,
}

/// [`Header`] as written: the dataset's parts borrowed, not copied. The two must name the same
/// fields (`a_large_dataset_written_in_parts_reads_back_whole` reads one back as the other).
#[derive(Serialize)]
struct HeaderOut<'a> {
    manifest: u64,
    symbols: &'a [String],
    files: &'a [FileSummary],
    rejected: &'a [Rejected],
    rejected_total: u64,
    rejected_kinds: &'a std::collections::BTreeMap<String, u64>,
    billed: &'a [BilledRow],
    sources: &'a [Source],
    overlaps: &'a [Overlap],
    double_counts: &'a [DoubleCount],
    notes: &'a [String],
    unrecognised: &'a [String],
    history: &'a Option<crate::domain::dataset::HistoryUse>,
}

/// Writes the snapshot of `data` (and the unrecognised files met) for `inputs`, made from
/// the files of manifest `m`. Failures are ignored: the snapshot only saves time.
pub fn write(
    cache_dir: &Path,
    inputs: &Inputs,
    m: &Manifest,
    data: &Dataset,
    unrecognised: &[String],
    parts: Option<&Parts>,
) {
    let header = HeaderOut {
        manifest: m.0,
        symbols: data.symbols.names(),
        files: &data.files,
        rejected: &data.rejected,
        rejected_total: data.rejected_total,
        rejected_kinds: &data.rejected_kinds,
        billed: &data.billed,
        sources: &data.sources,
        overlaps: &data.overlaps,
        double_counts: &data.double_counts,
        notes: &data.notes,
        unrecognised,
        history: &data.history,
    };
    // Counted, then written as it is serialised: at 10 GB the header is 66 MB of JSON (a
    // summary per file), which held whole raised the snapshot's peak by more than that.
    let Ok(header_len) = json_len(&header) else {
        return;
    };
    // The body is written as it is encoded, a part at a time, never held whole; the frame
    // gives its length first, which is counted (on every core) without encoding it.
    let records_len = {
        let r = &data.records;
        let each: usize = (0..r.len())
            .into_par_iter()
            .with_min_len(1 << 14)
            .map(|i| {
                let prev = if i == 0 { 0 } else { r.time(i - 1) };
                RecordEncoder::encoded_len(prev, &r.get(i), Identity::None)
            })
            .sum();
        // The count first, then the records, then the count of reported costs per record: 0.
        ((r.len() as u64).required_space() + each + 1) as u64
    };
    let count = data.records.len() as u64;
    let reported_len =
        (data.reported.len() as u64).required_space() as u64 + 16 * data.reported.len() as u64;
    let parts_len = 1 + parts.map_or(0, Parts::encoded_len);
    let body_len = 8 + records_len + count + reported_len + parts_len;
    let _ = write_atomically(cache_dir, &inputs.file(cache_dir), |w| {
        write_frame(
            w,
            MAGIC,
            header_len,
            |w| serde_json::to_writer(w, &header).map_err(std::io::Error::other),
            body_len,
            |emit| {
                emit(&records_len.to_le_bytes())?;
                encode_records_in_parts(&data.records, emit)?;
                let mut sources = Vec::with_capacity(PART);
                for r in &data.records {
                    sources.push(r.source);
                    if sources.len() == PART {
                        emit(&sources)?;
                        sources.clear();
                    }
                }
                emit(&sources)?;
                let mut buf = Vec::with_capacity(PART * 16 + 10);
                put_varint(&mut buf, data.reported.len() as u64);
                for part in data.reported.chunks(PART) {
                    for &(time, usd) in part {
                        buf.extend_from_slice(&time.to_le_bytes());
                        buf.extend_from_slice(&usd.to_bits().to_le_bytes());
                    }
                    emit(&buf)?;
                    buf.clear();
                }
                emit(&buf)?;
                match parts {
                    Some(p) => {
                        emit(&[1])?;
                        p.encode(emit)
                    }
                    None => emit(&[0]),
                }
            },
        )
    });
}

/// Records per part of a snapshot's body as it is written.
const PART: usize = 4096;

/// The records as [`super::cache::encode_records`] lays them out (no identities, no reported
/// costs), given to `emit` in parts of about 100 KiB.
fn encode_records_in_parts(
    records: &Records,
    emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(PART * 40);
    put_varint(&mut buf, records.len() as u64);
    let mut enc = RecordEncoder::default();
    for (i, r) in records.iter().enumerate() {
        enc.push(&mut buf, &r, Identity::None);
        if (i + 1) % PART == 0 {
            emit(&buf)?;
            buf.clear();
        }
    }
    // No reported costs per record.
    put_varint(&mut buf, 0);
    emit(&buf)
}

/// The snapshot kept for `inputs`, if there is one and it is intact. It can be read while
/// the files are being examined; compare its manifest before using it.
pub fn read(cache_dir: &Path, inputs: &Inputs) -> Option<Snapshot> {
    let file = inputs.file(cache_dir);
    let f = std::fs::File::open(&file).ok()?;
    let meta = f.metadata().ok()?;
    let marked = meta.modified().ok();
    read_from(f, meta.len(), file, marked)
}

/// [`read`], only if the snapshot was made from manifest `m`: its start is read first (the
/// header's first field is the manifest) and the rest only when it matches, so that a
/// snapshot of files that have changed since costs one small read, not a decode.
pub fn read_if(cache_dir: &Path, inputs: &Inputs, m: &Manifest) -> Option<Snapshot> {
    let file = inputs.file(cache_dir);
    let mut f = std::fs::File::open(&file).ok()?;
    let mut head = [0u8; 16 + 4 + 8 + 40];
    let n = f.read(&mut head).ok()?;
    let prefix = b"{\"manifest\":";
    let json = head.get(28..n)?.strip_prefix(prefix.as_slice())?;
    let digits = json.iter().take_while(|b| b.is_ascii_digit()).count();
    let v: u64 = std::str::from_utf8(&json[..digits]).ok()?.parse().ok()?;
    if v != m.0 || head[..16] != MAGIC[..] {
        return None;
    }
    read(cache_dir, inputs)
}

/// A snapshot of `len` bytes framed as [`super::cache::frame`] frames it (magic, version,
/// header length and header, body length and body, checksum), read from `f` a part at a
/// time: the header is parsed while the body is read and decoded, and each part's bytes are
/// let go once decoded. Read whole, a 10 GB import's 169 MB snapshot was held until both were
/// decoded, the largest part of its peak besides the records. Nothing is used unless the
/// checksum of both parts matches and nothing follows it.
fn read_from(
    mut f: impl Read + Send,
    len: u64,
    file: PathBuf,
    marked: Option<SystemTime>,
) -> Option<Snapshot> {
    let mut fixed = [0u8; 16 + 4 + 8];
    f.read_exact(&mut fixed).ok()?;
    if fixed[..16] != MAGIC[..]
        || u32::from_le_bytes(fixed[16..20].try_into().ok()?) != FORMAT_VERSION
    {
        return None;
    }
    let hlen = u64::from_le_bytes(fixed[20..28].try_into().ok()?);
    // What the file's length leaves for the body, after the header and the two 8-byte words
    // around it (the body's length, the checksum).
    let blen = len.checked_sub(28 + 16)?.checked_sub(hlen)?;
    let header = read_exactly(&mut f, hlen)?;
    let mut sum = checksummer();
    sum.update(&hlen.to_le_bytes());
    sum.update(&header);
    let (h, body) = rayon::join(
        move || serde_json::from_slice::<Header>(&header).ok(),
        move || {
            let mut word = [0u8; 8];
            f.read_exact(&mut word).ok()?;
            if u64::from_le_bytes(word) != blen {
                return None;
            }
            let body = read_exactly(&mut f, blen)?;
            sum.update(&blen.to_le_bytes());
            sum.update(&body);
            f.read_exact(&mut word).ok()?;
            let mut more = [0u8; 1];
            if u64::from_le_bytes(word) != sum.digest() || f.read(&mut more).ok()? != 0 {
                return None;
            }
            decode_body(&body)
        },
    );
    let (h, body) = (h?, body?);
    let Body {
        mut records,
        sources,
        reported,
        parts,
    } = body;
    let symbols = Symbols::from_names(&h.symbols)?;
    let n_symbols = symbols.len() as u32;
    if records
        .iter()
        .any(|r| r.sym_ids().iter().any(|&s| s >= n_symbols))
    {
        return None;
    }
    if sources.iter().any(|&s| s as usize >= h.sources.len()) {
        return None;
    }
    for (i, &source) in sources.iter().enumerate() {
        records.set_source(i, source);
    }
    let data = Dataset {
        symbols,
        records,
        billed: h.billed,
        files: share_notes(h.files),
        rejected: h.rejected,
        rejected_total: h.rejected_total,
        rejected_kinds: h.rejected_kinds,
        sources: h.sources,
        overlaps: h.overlaps,
        double_counts: h.double_counts,
        notes: h.notes,
        unrecognised: h.unrecognised.clone(),
        history: h.history,
        reported,
        ..Dataset::default()
    };
    let parts = parts.filter(|p| p.fit(&data));
    Some(Snapshot {
        manifest: Manifest(h.manifest),
        data,
        parts,
        unrecognised: h.unrecognised,
        file,
        marked,
    })
}

/// The files' summaries with each note said of several files held once, as the merge holds
/// them (read back, each file's copy would be a string of its own).
fn share_notes(mut files: Vec<FileSummary>) -> Vec<FileSummary> {
    let mut pool = Default::default();
    for f in &mut files {
        crate::domain::dataset::share_notes(&mut pool, &mut f.notes);
    }
    files
}

/// What a snapshot's body holds: the records, then each one's source, then the reported
/// costs.
struct Body {
    records: Records,
    sources: Vec<u8>,
    reported: Vec<(i64, f64)>,
    parts: Option<Parts>,
}

fn decode_body(body: &[u8]) -> Option<Body> {
    let mut r = Reader { b: body, at: 0 };
    let rlen = r.u64_fixed()? as usize;
    let mut rr = Reader {
        b: r.take(rlen)?,
        at: 0,
    };
    // Straight into the dataset's records: a snapshot keeps no identities.
    let mut records = Records::new();
    decode_records(&mut rr, u32::MAX as usize, &mut records)?;
    // No reported costs per record, and nothing after.
    if rr.varint()? != 0 || rr.at != rr.b.len() {
        return None;
    }
    let sources = r.take(records.len())?.to_vec();
    let k = r.varint()? as usize;
    if k > body.len() / 16 {
        return None;
    }
    let mut reported = Vec::with_capacity(k);
    for _ in 0..k {
        let time = r.u64_fixed()? as i64;
        reported.push((time, f64::from_bits(r.u64_fixed()?)));
    }
    let parts = match r.take(1)?[0] {
        0 => None,
        1 => Some(Parts::decode(&mut r)?),
        _ => return None,
    };
    (r.at == body.len()).then_some(Body {
        records,
        sources,
        reported,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{Bucket, Tokens, UsageRecord};
    use crate::import::Format;

    /// A snapshot written in parts (several parts of records, sources and reported costs)
    /// reads back as the dataset it was written from.
    #[test]
    fn a_large_dataset_written_in_parts_reads_back_whole() {
        let mut data = Dataset::default();
        let sonnet = data.symbols.intern("claude-sonnet-4-5");
        let haiku = data.symbols.intern("claude-haiku-4-5");
        data.sources = vec![
            Source::of(Format::ClaudeCodeJsonl, Bucket::Request),
            Source::of(Format::ConsoleUsageCsv, Bucket::Day),
        ];
        let n = 3 * PART + 17;
        data.records = (0..n)
            .map(|i| UsageRecord {
                time: 1_780_000_000 + (i as i64 * 7919) % 86_400 - 40_000,
                model: if i % 3 == 0 { haiku } else { sonnet },
                tokens: Tokens {
                    uncached_input: i as u64,
                    cache_write_5m: (i as u64) << 12,
                    // One in five too large to pack: kept whole, and read back so.
                    cache_write_1h: if i % 5 == 0 { u64::MAX - i as u64 } else { 7 },
                    cache_read: 3,
                    output: i as u64 * 1000,
                },
                requests: 1 + (i as u64 % 2),
                source: (i % 2) as u8,
                ..UsageRecord::REQUEST
            })
            .collect();
        data.reported = (0..PART + 5)
            .map(|i| (1_780_000_000 + i as i64, i as f64 * 0.001_25))
            .collect();
        data.notes = vec!["a note".to_owned()];
        let dir = tempfile::tempdir().unwrap();
        let inputs = Inputs::new(&[dir.path().to_path_buf()], &Options::default()).unwrap();
        let m = Manifest::from_raw(42);
        // Three files' parts: the records, reported costs and symbols split among them.
        let parts = Parts {
            walk: (0..PART as u64 + 3)
                .map(|i| WalkEntry {
                    place: i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    stamp: !i,
                    file: if i % 7 == 0 {
                        WalkEntry::NOT_MERGED
                    } else {
                        (i % 3) as u32
                    },
                })
                .collect(),
            files: FileParts {
                ends: vec![
                    PartEnds {
                        records: 5,
                        reported: 0,
                        symbols: 1,
                    },
                    PartEnds {
                        records: PART as u32,
                        reported: 9,
                        symbols: 2,
                    },
                    PartEnds {
                        records: n as u32,
                        reported: PART as u32 + 5,
                        symbols: 2,
                    },
                ],
                shared: vec![false, true, false],
                fingerprints: (0..n as u32)
                    .map(|i| i.wrapping_mul(2_654_435_761))
                    .collect(),
            },
            revision: 12,
        };
        data.files = (0..3)
            .map(|i| FileSummary {
                path: format!("f{i}.jsonl"),
                format: Format::ClaudeCodeJsonl,
                covers: None,
                source: 0,
                rows: 1,
                rejected: 0,
                skipped: 0,
                duplicates: 0,
                notes: Vec::new(),
                default_dated: 0,
            })
            .collect();
        write(
            dir.path(),
            &inputs,
            &m,
            &data,
            &["odd.txt".to_owned()],
            Some(&parts),
        );
        let back = read(dir.path(), &inputs).expect("the snapshot reads back");
        assert_eq!(back.parts.as_ref(), Some(&parts));
        // Parts that do not describe the data (a file's records past the dataset's) are not
        // used; the snapshot still is.
        let mut wrong = parts.clone();
        wrong.files.ends[2].records += 1;
        write(dir.path(), &inputs, &m, &data, &[], Some(&wrong));
        let back_wrong = read(dir.path(), &inputs).expect("the snapshot reads back");
        assert!(back_wrong.parts.is_none());
        assert_eq!(back_wrong.data.records.to_vec(), data.records.to_vec());
        write(dir.path(), &inputs, &m, &data, &[], None);
        assert!(read(dir.path(), &inputs).unwrap().parts.is_none());
        assert_eq!(back.manifest, m);
        assert_eq!(data.records.wide_count(), n.div_ceil(5));
        assert_eq!(back.data.records.to_vec(), data.records.to_vec());
        assert_eq!(back.data.reported, data.reported);
        assert_eq!(back.data.notes, data.notes);
        assert_eq!(back.data.sources.len(), 2);
        assert_eq!(back.unrecognised, vec!["odd.txt".to_owned()]);
        assert_eq!(back.data.symbols.names(), data.symbols.names());
    }

    /// A snapshot read a part at a time is used only whole and intact: cut anywhere, one
    /// byte changed anywhere, or a byte added after it, it is not used.
    #[test]
    fn a_snapshot_cut_changed_or_extended_anywhere_is_not_used() {
        let mut data = Dataset::default();
        let model = data.symbols.intern("claude-sonnet-4-5");
        data.sources = vec![Source::of(Format::ClaudeCodeJsonl, Bucket::Request)];
        data.records = (0..5)
            .map(|i| UsageRecord {
                time: 1_780_000_000 + i * 60,
                model,
                tokens: Tokens {
                    output: 100 + i as u64,
                    ..Tokens::default()
                },
                ..UsageRecord::REQUEST
            })
            .collect();
        data.reported = vec![(1_780_000_000, 0.25)];
        let dir = tempfile::tempdir().unwrap();
        let inputs = Inputs::new(&[dir.path().to_path_buf()], &Options::default()).unwrap();
        let m = Manifest::from_raw(7);
        data.files = vec![FileSummary {
            path: "a.jsonl".to_owned(),
            format: Format::ClaudeCodeJsonl,
            covers: None,
            source: 0,
            rows: 5,
            rejected: 0,
            skipped: 0,
            duplicates: 0,
            notes: Vec::new(),
            default_dated: 0,
        }];
        let parts = Parts {
            walk: vec![WalkEntry {
                place: 1,
                stamp: 2,
                file: 0,
            }],
            files: FileParts {
                ends: vec![PartEnds {
                    records: 5,
                    reported: 1,
                    symbols: 1,
                }],
                shared: vec![false],
                fingerprints: vec![3, 4, 5, 6, 7],
            },
            revision: 1,
        };
        write(dir.path(), &inputs, &m, &data, &[], Some(&parts));
        let file = inputs.file(dir.path());
        let bytes = std::fs::read(&file).unwrap();
        let read_bytes = |b: &[u8]| read_from(b, b.len() as u64, file.clone(), None);
        let whole = read_bytes(&bytes).expect("the intact snapshot reads");
        assert_eq!(whole.parts.as_ref(), Some(&parts));
        assert_eq!(whole.data.records, data.records);
        assert_eq!(whole.data.reported, data.reported);
        for cut in 0..bytes.len() {
            assert!(read_bytes(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x10;
            assert!(read_bytes(&changed).is_none(), "byte {at} changed");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_bytes(&longer).is_none(), "a byte added");
        // A length that says more than the file has is not believed.
        assert!(read_from(&bytes[..], bytes.len() as u64 + 1, file.clone(), None).is_none());
    }
}
