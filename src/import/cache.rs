//! The import cache: a file's parsed result, kept so that an unchanged file is not parsed
//! again (Claude Code logs run to gigabytes, and users re-import them often).
//!
//! One cache file per source file, named by a hash of its canonical path, holding the key it
//! was made for (path, size, modification time, the import options that change the result, the
//! cache format and the program version) and the parsed result. A source file whose size or
//! modification time changed is parsed again and its entry replaced. Entries are written to a
//! temporary file in the cache folder and renamed into place, so a crash leaves no torn entry;
//! an entry that does not decode (corrupt, truncated, another version) is ignored and rebuilt.
//!
//! Layout: `MAGIC`, format version (u32 LE), header length (u64 LE), header (JSON: key,
//! symbols, summary, rejected lines, billed rows), body length (u64 LE), body (binary: the
//! records and the costs reported per record, see [`encode_body`]), checksum (u64 LE) of
//! header and body. Records are binary because there can be millions: varints make an entry
//! a few percent of its log's size and decoding it takes milliseconds.

use super::{
    BilledRow, Control, FileSummary, Identity, ImportError, Options, ParsedFile, Rejected,
};
use crate::records::{Bucket, Context, Geo, Speed, Symbols, Tier, Tokens, UsageRecord};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::UNIX_EPOCH;

const MAGIC: &[u8; 16] = b"costlens-cache\n\0";
/// Files smaller than this are not cached: they parse in well under a millisecond, about what
/// reading a cache entry costs, and each entry is one more file in the cache folder.
pub const MIN_CACHED_BYTES: u64 = 64 * 1024;
/// Bump when an importer's output changes for the same input (the program version is part of
/// the key as well, for released builds).
pub const FORMAT_VERSION: u32 = 1;

/// Where parsed files are cached, if anywhere.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    dir: Option<PathBuf>,
}

/// What an entry was made for: all of it must match for the entry to be used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Key {
    format_version: u32,
    program_version: String,
    path: String,
    size: u64,
    mtime_secs: i64,
    mtime_nanos: u32,
    batch_date: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    key: Key,
    symbols: Vec<String>,
    summary: FileSummary,
    rejected: Vec<Rejected>,
    billed: Vec<BilledRow>,
    reported: Vec<(i64, f64)>,
}

impl Cache {
    /// No caching: every import parses.
    pub fn disabled() -> Cache {
        Cache { dir: None }
    }

    /// Caches in `dir` (created when first needed).
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: Some(dir.into()),
        }
    }

    /// The user's cache: `$COSTLENS_CACHE_DIR` when set, else the platform cache folder
    /// (`~/.cache/costlens/imports` on Linux). `COSTLENS_NO_CACHE=1` turns caching off.
    pub fn from_env() -> Cache {
        if std::env::var("COSTLENS_NO_CACHE").is_ok_and(|v| !v.is_empty() && v != "0") {
            return Cache::disabled();
        }
        if let Some(d) = std::env::var_os("COSTLENS_CACHE_DIR").filter(|d| !d.is_empty()) {
            return Cache::at(d);
        }
        match directories::ProjectDirs::from("", "", "costlens") {
            Some(p) => Cache::at(p.cache_dir().join("imports")),
            None => Cache::disabled(),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Removes every cached entry.
    pub fn clear(&self) -> std::io::Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                for e in entries.flatten() {
                    if e.path().extension().is_some_and(|x| x == "bin") {
                        std::fs::remove_file(e.path())?;
                    }
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// [`super::parse_path`], answered from the cache when the file is unchanged. Returns the
    /// parsed file and whether it came from the cache. Cache problems never fail an import.
    pub fn parse_path(
        &self,
        path: &Path,
        opts: &Options,
        control: &Control,
    ) -> Result<(ParsedFile, bool), ImportError> {
        if control.is_cancelled() {
            return Err(ImportError::Cancelled(path.display().to_string()));
        }
        let Some((dir, key)) = self
            .dir
            .as_deref()
            .and_then(|d| Some((d, key_of(path, opts)?)))
            .filter(|(_, k)| k.size >= MIN_CACHED_BYTES)
        else {
            return super::parse_path(path, opts, control).map(|p| (p, false));
        };
        let entry = dir.join(format!(
            "{:016x}.bin",
            super::stable_hash(&[key.path.as_bytes()])
        ));
        let name = path.display().to_string();
        if let Ok(bytes) = std::fs::read(&entry)
            && let Some(mut parsed) = decode(&bytes, &key)
        {
            // The entry may have been made under another spelling of the same path.
            parsed.summary.path = name.clone();
            for r in &mut parsed.rejected {
                r.file = name.clone();
            }
            control.bytes_done.fetch_add(key.size, Ordering::Relaxed);
            return Ok((parsed, true));
        }
        let parsed = super::parse_path(path, opts, control)?;
        // Not cached when the file changed while it was read (a log being written).
        if key_for(Path::new(&key.path), opts).as_ref() == Some(&key) {
            let _ = write_atomically(dir, &entry, &encode(&parsed, &key));
        }
        Ok((parsed, false))
    }
}

fn key_of(path: &Path, opts: &Options) -> Option<Key> {
    key_for(&std::fs::canonicalize(path).ok()?, opts)
}

fn key_for(canonical: &Path, opts: &Options) -> Option<Key> {
    let meta = std::fs::metadata(canonical).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(Key {
        format_version: FORMAT_VERSION,
        program_version: env!("CARGO_PKG_VERSION").to_owned(),
        path: canonical.to_string_lossy().into_owned(),
        size: meta.len(),
        mtime_secs: mtime.as_secs() as i64,
        mtime_nanos: mtime.subsec_nanos(),
        batch_date: opts.batch_date,
    })
}

fn write_atomically(dir: &Path, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    // No fsync: an entry torn by a crash fails its checksum and is rebuilt, and syncing
    // every entry would cost more than parsing most log files.
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// A fast 64-bit checksum over 8-byte words (corruption detection, not security).
fn checksum(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for p in parts {
        let mut words = p.chunks_exact(8);
        for w in &mut words {
            let v = u64::from_le_bytes(w.try_into().unwrap_or_default());
            h = (h ^ v).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(29);
        }
        for &b in words.remainder() {
            h = (h ^ b as u64)
                .wrapping_mul(0xc4ce_b9fe_1a85_ec53)
                .rotate_left(29);
        }
        h ^= p.len() as u64;
    }
    h
}

fn encode(p: &ParsedFile, key: &Key) -> Vec<u8> {
    let header = Header {
        key: key.clone(),
        symbols: (0..p.symbols.len() as u32)
            .map(|i| p.symbols.get(i).to_owned())
            .collect(),
        summary: p.summary.clone(),
        rejected: p.rejected.clone(),
        billed: p.billed.clone(),
        reported: p.reported.clone(),
    };
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let body = encode_body(p);
    let mut out = Vec::with_capacity(MAGIC.len() + header.len() + body.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&checksum(&[&header, &body]).to_le_bytes());
    out
}

/// The entry's parsed file, if it is intact and was made for `key`.
fn decode(bytes: &[u8], key: &Key) -> Option<ParsedFile> {
    let mut r = Reader { b: bytes, at: 0 };
    if r.take(MAGIC.len())? != MAGIC
        || u32::from_le_bytes(r.take(4)?.try_into().ok()?) != FORMAT_VERSION
    {
        return None;
    }
    let hlen = r.u64_fixed()? as usize;
    let header_bytes = r.take(hlen)?;
    let blen = r.u64_fixed()? as usize;
    let body = r.take(blen)?;
    if r.u64_fixed()? != checksum(&[header_bytes, body]) || r.at != bytes.len() {
        return None;
    }
    let header: Header = serde_json::from_slice(header_bytes).ok()?;
    if &header.key != key {
        return None;
    }
    let mut symbols = Symbols::default();
    for (i, s) in header.symbols.iter().enumerate() {
        // Interning in order restores the same indices; a mismatch means a bad entry.
        if symbols.intern(s) as usize != i {
            return None;
        }
    }
    let (records, reported_per_record) = decode_body(body, symbols.len())?;
    Some(ParsedFile {
        symbols,
        records,
        billed: header.billed,
        reported: header.reported,
        reported_per_record,
        rejected: header.rejected,
        summary: header.summary,
    })
}

// --- binary body -------------------------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

const TIERS: [Tier; 6] = [
    Tier::Standard,
    Tier::Batch,
    Tier::Priority,
    Tier::PriorityOnDemand,
    Tier::Flex,
    Tier::FlexDiscount,
];
const BUCKETS: [Bucket; 4] = [Bucket::Request, Bucket::Minute, Bucket::Hour, Bucket::Day];
const GEOS: [Geo; 3] = [Geo::NotAvailable, Geo::Global, Geo::Us];
const SPEEDS: [Speed; 2] = [Speed::Standard, Speed::Fast];

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

/// Per record: time (zigzag varint, as a delta from the previous record), one byte of
/// bucket/tier/geo/speed, one byte of context and identity kind, symbols, token counts, web
/// searches and requests as varints, then the identity hash (8 bytes) if any. Then the
/// reported costs: count, and per cost the record index (varint delta) and the f64 bits.
fn encode_body(p: &ParsedFile) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.records.len() * 24 + 16);
    put_varint(&mut out, p.records.len() as u64);
    let mut prev = 0i64;
    for (r, id) in &p.records {
        put_varint(&mut out, zigzag(r.time.wrapping_sub(prev)));
        prev = r.time;
        let terms = index_of(&BUCKETS, &r.bucket)
            | (index_of(&TIERS, &r.tier) << 2)
            | (index_of(&GEOS, &r.geo) << 5)
            | (index_of(&SPEEDS, &r.speed) << 7);
        let ctx = match r.context {
            Context::Request => 0u8,
            Context::Flag(false) => 1,
            Context::Flag(true) => 2,
        };
        let (kind, hash) = match *id {
            Identity::None => (0u8, None),
            Identity::Row(h) => (1, Some(h)),
            Identity::Message {
                id,
                sidechain: false,
            } => (2, Some(id)),
            Identity::Message {
                id,
                sidechain: true,
            } => (3, Some(id)),
        };
        out.push(terms);
        out.push(ctx | (kind << 2));
        for v in [r.model, r.workspace, r.api_key, r.project] {
            put_varint(&mut out, v as u64);
        }
        for v in r.tokens.as_array() {
            put_varint(&mut out, v);
        }
        put_varint(&mut out, r.web_search);
        put_varint(&mut out, r.requests);
        if let Some(h) = hash {
            out.extend_from_slice(&h.to_le_bytes());
        }
    }
    put_varint(&mut out, p.reported_per_record.len() as u64);
    let mut prev = 0usize;
    for &(i, usd) in &p.reported_per_record {
        put_varint(&mut out, i.wrapping_sub(prev) as u64);
        prev = i;
        out.extend_from_slice(&usd.to_bits().to_le_bytes());
    }
    out
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.b.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn u64_fixed(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
}

type Body = (Vec<(UsageRecord, Identity)>, Vec<(usize, f64)>);

fn decode_body(body: &[u8], n_symbols: usize) -> Option<Body> {
    let mut r = Reader { b: body, at: 0 };
    let n = r.varint()? as usize;
    // Every record takes at least 13 bytes: a bad count must not allocate wildly.
    if n > body.len() / 13 + 1 {
        return None;
    }
    let sym = |v: u64| (v < n_symbols as u64).then_some(v as u32);
    let mut records = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        let time = prev.wrapping_add(unzigzag(r.varint()?));
        prev = time;
        let terms = r.byte()?;
        let ck = r.byte()?;
        let context = match ck & 3 {
            0 => Context::Request,
            1 => Context::Flag(false),
            2 => Context::Flag(true),
            _ => return None,
        };
        let (model, workspace, api_key, project) = (
            sym(r.varint()?)?,
            sym(r.varint()?)?,
            sym(r.varint()?)?,
            sym(r.varint()?)?,
        );
        let mut t = [0u64; 5];
        for v in &mut t {
            *v = r.varint()?;
        }
        let web_search = r.varint()?;
        let requests = r.varint()?;
        let id = match ck >> 2 {
            0 => Identity::None,
            1 => Identity::Row(r.u64_fixed()?),
            2 => Identity::Message {
                id: r.u64_fixed()?,
                sidechain: false,
            },
            3 => Identity::Message {
                id: r.u64_fixed()?,
                sidechain: true,
            },
            _ => return None,
        };
        let rec = UsageRecord {
            time,
            bucket: *BUCKETS.get((terms & 3) as usize)?,
            model,
            tier: *TIERS.get(((terms >> 2) & 7) as usize)?,
            context,
            geo: *GEOS.get(((terms >> 5) & 3) as usize)?,
            speed: SPEEDS[(terms >> 7) as usize],
            workspace,
            api_key,
            project,
            tokens: Tokens::from_array(t),
            web_search,
            requests,
        };
        records.push((rec, id));
    }
    let m = r.varint()? as usize;
    if m > n {
        return None;
    }
    let mut reported = Vec::with_capacity(m);
    let mut prev = 0usize;
    for _ in 0..m {
        let i = prev.checked_add(r.varint()? as usize)?;
        if i >= n {
            return None;
        }
        prev = i;
        reported.push((i, f64::from_bits(r.u64_fixed()?)));
    }
    (r.at == body.len()).then_some((records, reported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Reader { b: &b, at: 0 }.varint(), Some(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -1_700_000_000] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }
}
