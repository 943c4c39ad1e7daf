//! The import cache: a file's parsed result, kept so that an unchanged file is not parsed
//! again (Claude Code logs run to gigabytes, and users re-import them often).
//!
//! Each entry holds the key it was made for (absolute path, size, modification time, the
//! import options that change the result, the cache format and the program version) and the
//! parsed result; a file whose size or modification time changed is parsed again and its entry
//! replaced. Entries are kept in one pack per source folder (a Claude Code project folder holds
//! hundreds of sessions: one cache file per session would make a first import create
//! thousands of files, which costs more than parsing them); a subagent log goes to its
//! project folder's pack ([`pack_place`]). Packs are written to a temporary file in the cache
//! folder and renamed into place, so a crash leaves no torn pack; a pack or an entry that does
//! not decode (corrupt, truncated, another version) is ignored and rebuilt.
//!
//! Pack layout: `PACK_MAGIC`, format version (u32 LE), entries, index (JSON: file name,
//! offset, length of each entry, sorted by name), index length (u64 LE): the index last, so
//! that a pack is written as its entries come, once per import ([`CacheRun`]). Entry layout:
//! `MAGIC`, format version, header length (u64 LE), header (JSON: key, symbols, summary,
//! rejected lines, billed rows), body length (u64 LE), body (binary: the records and the costs
//! reported per record, see [`encode_body`]), checksum (u64 LE) of header and body. Records
//! are binary because there can be millions: varints make an entry a few percent of its log's
//! size and decoding it takes milliseconds.
//!
//! When no file of an import changed, the whole merged result comes from the import's
//! snapshot instead ([`super::snapshot`]). Packs and snapshots are marked as used (their
//! modification time) when they answer, and removed after [`UNUSED_FOR`] unused.

use crate::domain::packed::Records;
use crate::domain::records::{Bucket, Context, Geo, Speed, Symbols, Tier, Tokens, UsageRecord};
use crate::import::{
    BilledRow, Control, FileSummary, Identity, ImportError, Options, ParsedFile, Rejected,
};
use integer_encoding::VarInt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAGIC: &[u8; 16] = b"costlens-cache\n\0";
const PACK_MAGIC: &[u8; 16] = b"costlens-pack\n\0\0";
/// Files smaller than this are not cached. Every file is now: small files were parsed again
/// on every import that the snapshot did not answer (a Claude Code folder of many short
/// sessions holds 8,000 files under 64 KB, 250 MB: half a second of parsing after any one
/// file changed), and packs per project folder keep them from costing a cache file each.
pub const MIN_CACHED_BYTES: u64 = 0;
/// The cache layout's version (the program's version and build are part of every key too, so a
/// changed importer never reads entries of an older one).
pub const FORMAT_VERSION: u32 = 7;

/// Where parsed files are cached, if anywhere.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    dir: Option<PathBuf>,
}

/// What an entry was made for: all of it must match for the entry to be used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Key {
    format_version: u32,
    /// [`program_build`]: borrowed, not a copy per file (a walk of 134,482 files held 7 MB of
    /// copies); an entry read back owns its own.
    program_version: std::borrow::Cow<'static, str>,
    /// Absolute path (made absolute lexically).
    pub path: String,
    pub size: u64,
    pub mtime_secs: i64,
    pub mtime_nanos: u32,
    /// The file's identity and its status-change time (Unix): a file rewritten with its size
    /// and modification time put back (`touch -r`, a restore, `rsync -t`) has a new ctime,
    /// which nobody can set, so it is parsed again. Zero where the platform has none.
    #[serde(default)]
    pub dev: u64,
    #[serde(default)]
    pub ino: u64,
    #[serde(default)]
    pub ctime_secs: i64,
    #[serde(default)]
    pub ctime_nanos: i64,
    /// [`Options::date`]: dates the records of files that carry none.
    date: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    key: Key,
    symbols: Vec<String>,
    summary: FileSummary,
    rejected: Vec<Rejected>,
    #[serde(default)]
    rejected_total: u64,
    #[serde(default)]
    rejected_kinds: BTreeMap<String, u64>,
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
                    if is_cache_file(&e.file_name().to_string_lossy()) {
                        std::fs::remove_file(e.path())?;
                    }
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Removes the packs and snapshots not used for `unused_for` (their folder or import was
    /// not opened since; a pack or snapshot is marked as used each time it answers), and
    /// returns how many. Errors are ignored.
    pub fn prune(&self, unused_for: Duration) -> usize {
        let Some(dir) = &self.dir else { return 0 };
        crate::store::atomic::remove_old_files(dir, unused_for, is_cache_file)
    }

    /// [`crate::import::parse_path`], answered from the cache when the file is unchanged. Returns the
    /// parsed file and whether it came from the cache. Cache problems never fail an import.
    pub fn parse_path(
        &self,
        path: &Path,
        opts: &Options,
        control: &Control,
    ) -> Result<(ParsedFile, bool), ImportError> {
        self.parse_paths(&[path.to_path_buf()], opts, control)
            .pop()
            .unwrap_or_else(|| Err(ImportError::Cancelled(path.display().to_string())))
    }

    /// Parses `paths` in parallel, answering unchanged files from the cache; the results are
    /// in the order of `paths`. Files are grouped by folder, one pack per folder.
    pub fn parse_paths(
        &self,
        paths: &[PathBuf],
        opts: &Options,
        control: &Control,
    ) -> Vec<Outcome> {
        let refs: Vec<&PathBuf> = paths.iter().collect();
        self.parse_paths_with_keys(paths, keys_of(&refs, opts), opts, control)
    }

    /// [`Cache::parse_paths`] with the files' keys already taken ([`keys_of`]): one stat per
    /// file for the whole import.
    pub fn parse_paths_with_keys(
        &self,
        paths: &[PathBuf],
        keys: Vec<Option<Key>>,
        opts: &Options,
        control: &Control,
    ) -> Vec<Outcome> {
        let run = self.run(keys.iter().flatten());
        let out = run.parse(paths, keys, opts, control);
        run.finish(control);
        out
    }

    /// An import's use of the cache, over the batches it parses the files with keys `keys`
    /// in ([`CacheRun::parse`], then [`CacheRun::finish`]).
    pub fn run<'a>(&self, keys: impl Iterator<Item = &'a Key>) -> CacheRun {
        let mut left: std::collections::HashMap<PathBuf, usize> = Default::default();
        if self.dir.is_some() {
            for k in keys {
                *left.entry(pack_place(Path::new(&k.path)).0).or_default() += 1;
            }
        }
        CacheRun {
            dir: self.dir.clone(),
            left: std::sync::Mutex::new(left),
            folders: Default::default(),
        }
    }
}

/// An import's use of the cache across the batches it parses its files in: each folder's
/// pack is read once and written once, when the import has parsed the folder's last file.
///
/// (A pack used to be read and written again by every batch that had files of its folder: a
/// Claude Code project folder of 22,000 sessions spans 22 batches, and a cold import of a
/// 10 GB tree wrote 3 GB of packs (256 MB in the end), rewriting each up to its 42 MB 22
/// times, and spent 16 of its 31 seconds on it.)
pub struct CacheRun {
    dir: Option<PathBuf>,
    /// Per folder, the files of this import not parsed yet.
    left: std::sync::Mutex<std::collections::HashMap<PathBuf, usize>>,
    /// The folders whose pack is being made (taken out while a batch parses their files).
    folders: std::sync::Mutex<std::collections::HashMap<PathBuf, FolderRun>>,
}

/// One folder's pack during an import: the old one (read once) and the new one, started at
/// the first entry that changes.
struct FolderRun {
    pack_path: PathBuf,
    old: Option<Pack>,
    /// Which of the old pack's entries this import has met (by slot).
    old_seen: Vec<bool>,
    /// Old entries met before the new pack was started (slot indexes): copied into it then.
    kept_before: Vec<usize>,
    new: Option<PackWriter>,
}

/// A pack being written (see the module doc for its layout): entries as they come, the
/// index when it is finished.
struct PackWriter {
    w: std::io::BufWriter<tempfile::NamedTempFile>,
    slots: Vec<PackSlot>,
    at: usize,
}

impl PackWriter {
    fn start(dir: &Path) -> std::io::Result<PackWriter> {
        std::fs::create_dir_all(dir)?;
        let tmp = crate::store::atomic::temp_in(dir)?;
        // Buffered: a pack is thousands of small entries (one write each would be a system
        // call each); a part larger than the buffer goes straight through.
        let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp);
        w.write_all(PACK_MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        Ok(PackWriter {
            w,
            slots: Vec::new(),
            at: 0,
        })
    }

    fn add(&mut self, name: &str, blob: &[u8]) -> std::io::Result<()> {
        self.w.write_all(blob)?;
        self.slots.push(PackSlot {
            name: name.to_owned(),
            offset: self.at,
            len: blob.len(),
        });
        self.at += blob.len();
        Ok(())
    }

    /// Writes the index (sorted by name, a name met twice kept once) and puts the pack in
    /// place of `dest`. No fsync: an entry torn by a crash fails its checksum and is rebuilt.
    fn finish(mut self, dest: &Path) -> std::io::Result<()> {
        self.slots.sort_by(|a, b| a.name.cmp(&b.name));
        self.slots.dedup_by(|a, b| a.name == b.name);
        let index = serde_json::to_vec(&self.slots).map_err(std::io::Error::other)?;
        self.w.write_all(&index)?;
        self.w.write_all(&(index.len() as u64).to_le_bytes())?;
        let tmp = self.w.into_inner().map_err(|e| e.into_error())?;
        tmp.persist(dest).map_err(|e| e.error)?;
        Ok(())
    }
}

impl FolderRun {
    fn open(dir: &Path, folder: &Path) -> FolderRun {
        let pack_path = pack_path(dir, folder);
        let old = Pack::read(&pack_path);
        FolderRun {
            old_seen: vec![false; old.as_ref().map_or(0, |p| p.slots.len())],
            pack_path,
            old,
            kept_before: Vec::new(),
            new: None,
        }
    }

    /// The new pack, started (with the old entries kept so far) if it was not.
    fn writer(&mut self, dir: &Path) -> std::io::Result<&mut PackWriter> {
        if self.new.is_none() {
            let mut w = PackWriter::start(dir)?;
            if let Some(old) = &self.old {
                old.copy_into(&self.kept_before, &mut w)?;
            }
            self.kept_before = Vec::new();
            self.new = Some(w);
        }
        Ok(self.new.as_mut().expect("started"))
    }

    /// Takes in what parsing one of the folder's files gave (`range`: the old entries read
    /// for its batch).
    fn take(
        &mut self,
        dir: &Path,
        name: &str,
        blob: &Blob,
        range: Option<&PackRange>,
    ) -> std::io::Result<()> {
        let slot = self.old.as_ref().and_then(|p| p.find(name));
        if let Some(i) = slot {
            self.old_seen[i] = true;
        }
        match (blob, slot) {
            (Blob::Kept, Some(i)) => match &mut self.new {
                Some(w) => {
                    let old = self.old.as_ref().expect("a kept entry has a pack");
                    let s = &old.slots[i];
                    // A kept entry was decoded from the batch's range.
                    let bytes = range.and_then(|r| r.get(s)).ok_or_else(|| {
                        std::io::Error::other("a kept entry outside its batch's range")
                    })?;
                    w.add(&s.name, bytes)
                }
                None => {
                    self.kept_before.push(i);
                    Ok(())
                }
            },
            (Blob::New(b), _) => self.writer(dir)?.add(name, b),
            // An entry dropped (its file could not be cached this time).
            (Blob::None, Some(_)) => self.writer(dir).map(|_| ()),
            (Blob::None | Blob::Kept, None) => Ok(()),
        }
    }

    /// Writes the new pack, if anything changed: with it, the old entries of files this
    /// import did not open, while their file exists. Otherwise the old pack, if it answered,
    /// is marked as used.
    fn finish(mut self, folder: &Path) -> std::io::Result<()> {
        if self.new.is_none() {
            if !self.kept_before.is_empty() {
                touch(&self.pack_path);
            }
            return Ok(());
        }
        let mut w = self.new.take().expect("started");
        if let Some(old) = &self.old {
            let unseen: Vec<usize> = (0..old.slots.len())
                .filter(|&i| !self.old_seen[i] && folder.join(&old.slots[i].name).exists())
                .collect();
            old.copy_into(&unseen, &mut w)?;
        }
        // The old pack is closed before the new one takes its place (a file open cannot be
        // replaced everywhere).
        self.old = None;
        w.finish(&self.pack_path)
    }
}

impl CacheRun {
    /// Parses `paths` (keys `keys`) in parallel, answering unchanged files from the cache;
    /// the results are in the order of `paths`. Files are grouped by folder, one pack per
    /// folder, written when the run has parsed its last file.
    pub fn parse(
        &self,
        paths: &[PathBuf],
        keys: Vec<Option<Key>>,
        opts: &Options,
        control: &Control,
    ) -> Vec<Outcome> {
        let direct = |p: &PathBuf| {
            if control.is_cancelled() {
                return Err(ImportError::Cancelled(p.display().to_string()));
            }
            crate::import::parse_path(p, opts, control).map(|f| (f, false))
        };
        let Some(cache_dir) = self.dir.as_deref() else {
            return paths.par_iter().map(direct).collect();
        };
        let mut folders: BTreeMap<PathBuf, Vec<(usize, Key)>> = BTreeMap::new();
        let mut uncached = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            match key {
                Some(k) => {
                    let (folder, _) = pack_place(Path::new(&k.path));
                    folders.entry(folder).or_default().push((i, k));
                }
                _ => uncached.push(i),
            }
        }
        let mut results: Vec<(usize, Outcome)> = uncached
            .into_par_iter()
            .map(|i| (i, direct(&paths[i])))
            .collect();
        let cached: Vec<Vec<(usize, Outcome)>> = folders
            .into_par_iter()
            .map(|(folder, items)| {
                self.parse_folder(cache_dir, &folder, items, paths, opts, control)
            })
            .collect();
        results.extend(cached.into_iter().flatten());
        results.sort_by_key(|r| r.0);
        results.into_iter().map(|r| r.1).collect()
    }

    /// The cacheable files of one folder: answered from the folder's pack where unchanged,
    /// parsed otherwise; the pack is rewritten (once the run has parsed the folder's last
    /// file) when an entry was added, replaced or dropped.
    fn parse_folder(
        &self,
        cache_dir: &Path,
        folder: &Path,
        items: Vec<(usize, Key)>,
        paths: &[PathBuf],
        opts: &Options,
        control: &Control,
    ) -> Vec<(usize, Outcome)> {
        let taken = self.folders.lock().expect("not poisoned").remove(folder);
        let mut run = taken.unwrap_or_else(|| FolderRun::open(cache_dir, folder));
        let file_name = |k: &Key| pack_place(Path::new(&k.path)).1;
        let n = items.len();
        // The batch's old entries, read at once.
        let range = run
            .old
            .as_ref()
            .and_then(|p| p.read_range(items.iter().filter_map(|(_, k)| p.find(&file_name(k)))));
        let done: Vec<(usize, String, Outcome, Blob)> = items
            .into_par_iter()
            .map(|(i, key)| {
                let path = &paths[i];
                let name = file_name(&key);
                if control.is_cancelled() {
                    return (
                        i,
                        name,
                        Err(ImportError::Cancelled(path.display().to_string())),
                        Blob::None,
                    );
                }
                let shown = path.display().to_string();
                if let Some(mut parsed) = run
                    .old
                    .as_ref()
                    .zip(range.as_ref())
                    .and_then(|(p, r)| r.get(&p.slots[p.find(&name)?]))
                    .and_then(|b| decode(b, &key))
                {
                    // The entry may have been made under another spelling of the same path.
                    parsed.summary.path = shown.clone();
                    for r in &mut parsed.rejected {
                        r.file = shown.clone();
                    }
                    control.bytes_done.fetch_add(key.size, Ordering::Relaxed);
                    return (i, name, Ok((parsed, true)), Blob::Kept);
                }
                match crate::import::parse_file(path, opts, control) {
                    Ok((parsed, after)) => {
                        // Not cached when the file changed while it was read (a log being
                        // written), or since it was examined.
                        let blob = if stamp(&after) == Some(key.stamp()) {
                            Blob::New(encode(&parsed, &key))
                        } else {
                            Blob::None
                        };
                        (i, name, Ok((parsed, false)), blob)
                    }
                    Err(e) => (i, name, Err(e), Blob::None),
                }
            })
            .collect();
        // A pack that cannot be written is given up for this import (cache problems never
        // fail one): the old pack stays.
        let failed = control.is_cancelled()
            || done
                .iter()
                .any(|(_, name, _, blob)| run.take(cache_dir, name, blob, range.as_ref()).is_err());
        let last = {
            let mut left = self.left.lock().expect("not poisoned");
            let l = left.entry(folder.to_path_buf()).or_default();
            *l = l.saturating_sub(n);
            *l == 0
        };
        if failed {
            // Dropped: its new pack, half made, is removed.
        } else if last {
            let _ = run.finish(folder);
        } else {
            self.folders
                .lock()
                .expect("not poisoned")
                .insert(folder.to_path_buf(), run);
        }
        done.into_iter()
            .map(|(i, _, outcome, _)| (i, outcome))
            .collect()
    }

    /// Writes the packs of folders whose files did not all come (unless cancelled: the packs
    /// being made are dropped, the old ones stay).
    pub fn finish(self, control: &Control) {
        let folders = self.folders.into_inner().expect("not poisoned");
        if control.is_cancelled() {
            return;
        }
        for (folder, run) in folders {
            let _ = run.finish(&folder);
        }
    }
}

/// What parsing one file through the cache gives: the file and whether it came from the cache.
pub type Outcome = Result<(ParsedFile, bool), ImportError>;

/// A folder's entries: the pack file, open, and each entry's file name and byte range. The
/// entries are read from the file when wanted, a batch's at once (they are sorted by name, as
/// a folder's files are walked), not the whole pack when the folder is first met: a 10 GB
/// folder's largest pack is 42 MB, held through all the batches of its 22,000 files.
struct Pack {
    file: std::fs::File,
    slots: Vec<PackSlot>,
}

#[derive(Serialize, Deserialize)]
struct PackSlot {
    name: String,
    offset: usize,
    len: usize,
}

/// Entries of a pack read at once: the bytes from `start` on.
struct PackRange {
    start: usize,
    bytes: Vec<u8>,
}

impl PackRange {
    fn get(&self, s: &PackSlot) -> Option<&[u8]> {
        let from = s.offset.checked_sub(self.start)?;
        self.bytes.get(from..from.checked_add(s.len)?)
    }
}

/// At most this many bytes of a pack are read at once when its entries are copied.
const COPY_BYTES: usize = 8 << 20;

impl Pack {
    fn read(path: &Path) -> Option<Pack> {
        let file = std::fs::File::open(path).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        let head = read_at(&file, 0, PACK_MAGIC.len() + 4)?;
        if head[..PACK_MAGIC.len()] != PACK_MAGIC[..]
            || u32::from_le_bytes(head[PACK_MAGIC.len()..].try_into().ok()?) != FORMAT_VERSION
        {
            return None;
        }
        let base = head.len();
        // The index is at the end, its length after it.
        let tail = len.checked_sub(8)?.max(base);
        let n = u64::from_le_bytes(read_at(&file, tail, 8)?.try_into().ok()?) as usize;
        let index_at = tail.checked_sub(n)?;
        if index_at < base {
            return None;
        }
        let slots: Vec<PackSlot> = serde_json::from_slice(&read_at(&file, index_at, n)?).ok()?;
        for s in &slots {
            let end = s.offset.checked_add(s.len)?;
            if end > index_at - base {
                return None;
            }
        }
        let slots = slots
            .into_iter()
            .map(|s| PackSlot {
                offset: s.offset + base,
                ..s
            })
            .collect();
        Some(Pack { file, slots })
    }

    /// The slot of entry `name`.
    fn find(&self, name: &str) -> Option<usize> {
        // Slots are written sorted by name (a project's pack holds thousands).
        self.slots
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .or_else(|| self.slots.iter().position(|s| s.name == name))
    }

    /// The entries of `slots` (indexes into [`Pack::slots`]), read at once: the bytes from
    /// the first of them to the end of the last. `None` when there are none or they cannot be
    /// read (their files are then parsed).
    fn read_range(&self, slots: impl Iterator<Item = usize>) -> Option<PackRange> {
        let (start, end) = slots.fold((usize::MAX, 0), |(a, b), i| {
            let s = &self.slots[i];
            (a.min(s.offset), b.max(s.offset + s.len))
        });
        (start < end).then_some(())?;
        Some(PackRange {
            start,
            bytes: read_at(&self.file, start, end - start)?,
        })
    }

    /// Copies the entries of `slots` (in the order given) into `w`, reading them in runs of
    /// entries that lie one after the other, at most [`COPY_BYTES`] at a time.
    fn copy_into(&self, slots: &[usize], w: &mut PackWriter) -> std::io::Result<()> {
        let mut k = 0;
        while k < slots.len() {
            let first = &self.slots[slots[k]];
            let mut end = k + 1;
            while end < slots.len() {
                let (prev, next) = (&self.slots[slots[end - 1]], &self.slots[slots[end]]);
                if next.offset != prev.offset + prev.len
                    || next.offset + next.len - first.offset > COPY_BYTES
                {
                    break;
                }
                end += 1;
            }
            let range = self
                .read_range(slots[k..end].iter().copied())
                .ok_or_else(|| std::io::Error::other("the old pack cannot be read"))?;
            for &i in &slots[k..end] {
                let s = &self.slots[i];
                let bytes = range.get(s).expect("read with the range");
                w.add(&s.name, bytes)?;
            }
            k = end;
        }
        Ok(())
    }
}

/// `n` bytes of `file` from `offset`, or `None` when it has fewer.
fn read_at(file: &std::fs::File, offset: usize, n: usize) -> Option<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset as u64)).ok()?;
    read_exactly(&mut f, n as u64)
}

/// The next `n` bytes of `f`, or `None` when it has fewer (room for them is asked for, not
/// assumed: a length read from a damaged file can be anything).
pub(super) fn read_exactly(f: &mut impl std::io::Read, n: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut v = Vec::new();
    v.try_reserve_exact(usize::try_from(n).ok()?).ok()?;
    f.take(n).read_to_end(&mut v).ok()?;
    (v.len() as u64 == n).then_some(v)
}

/// Where a file's entry comes from when its folder's pack is rewritten.
enum Blob {
    Kept,
    New(Vec<u8>),
    None,
}

/// The program version and which build of it is running (the executable's size and
/// modification time): a rebuilt importer must not be answered by entries of the old one,
/// whether or not the version number changed.
pub(crate) fn program_build() -> &'static str {
    static BUILD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUILD.get_or_init(|| {
        let exe = std::env::current_exe().and_then(std::fs::metadata).ok();
        let stamp = exe
            .as_ref()
            .and_then(|m| {
                Some((
                    m.len(),
                    m.modified()
                        .ok()?
                        .duration_since(UNIX_EPOCH)
                        .ok()?
                        .as_nanos(),
                ))
            })
            .map_or_else(String::new, |(len, t)| format!(" ({len} bytes, {t})"));
        format!("{}{stamp}", env!("CARGO_PKG_VERSION"))
    })
}

/// Packs, snapshots ([`super::snapshot`]), answers ([`super::answer`]) and entries of older versions (`.bin`), all named
/// by a 16-digit hex hash: nothing else in the folder (`$COSTLENS_CACHE_DIR` may be shared)
/// is ever removed.
fn is_cache_file(name: &str) -> bool {
    name.split_once('.').is_some_and(|(stem, ext)| {
        stem.len() == 16
            && stem
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && matches!(ext, "pack" | "snap" | "answer" | "bin")
    })
}

/// The folder whose pack holds a file's entry, and the entry's name in it: the file's own
/// folder and name, except for a Claude Code subagent log
/// (`<project>/<session>/subagents/agent-x.jsonl`), kept in its project folder's pack as
/// `<session>/subagents/agent-x.jsonl` (a folder of many short sessions has thousands of
/// `subagents` folders: a pack each would cost more than parsing them).
pub(crate) fn pack_place(path: &Path) -> (PathBuf, String) {
    let name = |p: &Path| p.to_string_lossy().into_owned();
    let parent = path.parent().unwrap_or(Path::new(""));
    if parent.file_name().is_some_and(|n| n == "subagents")
        && let Some(session) = parent.parent()
        && let Some(project) = session.parent()
        && !project.as_os_str().is_empty()
        && let Ok(rel) = path.strip_prefix(project)
    {
        return (project.to_path_buf(), name(rel));
    }
    (
        parent.to_path_buf(),
        path.file_name()
            .map(|n| name(Path::new(n)))
            .unwrap_or_default(),
    )
}

/// The pack of the files of `folder` (an absolute path).
pub(crate) fn pack_path(cache_dir: &Path, folder: &Path) -> PathBuf {
    cache_dir.join(format!(
        "{:016x}.pack",
        crate::import::stable_hash(&[folder.to_string_lossy().as_bytes()])
    ))
}

/// The packs that hold entries for files with these keys (those big enough to be cached).
pub(crate) fn packs_of<'a>(
    cache_dir: &Path,
    keys: impl Iterator<Item = &'a Key>,
) -> std::collections::BTreeSet<PathBuf> {
    keys.map(|k| pack_path(cache_dir, &pack_place(Path::new(&k.path)).0))
        .collect()
}

/// How long a pack or snapshot is kept without being used.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 86_400);

/// Marks a cache file as used now (its modification time; see [`Cache::prune`]).
pub(crate) fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// The keys of `paths` as they are now (in parallel; `None` for a file that cannot be
/// examined).
pub fn keys_of(paths: &[&PathBuf], opts: &Options) -> Vec<Option<Key>> {
    paths.par_iter().map(|p| key_of(p, opts)).collect()
}

/// The key of `path` as it is now. The path is made absolute lexically, not canonicalised:
/// resolving every component's symlinks costs more syscalls than a warm import spends on
/// anything else, and another spelling of a path only means one more cache entry.
fn key_of(path: &Path, opts: &Options) -> Option<Key> {
    let absolute = std::path::absolute(path).ok()?;
    key_from(&absolute, &std::fs::metadata(&absolute).ok()?, opts)
}

/// What of a file's metadata a key holds: size, modification time (seconds, nanoseconds),
/// device, inode, status-change time (seconds, nanoseconds). `None` without a modification
/// time.
type Stamp = (u64, i64, u32, u64, u64, i64, i64);

fn stamp(meta: &std::fs::Metadata) -> Option<Stamp> {
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    #[cfg(unix)]
    let (dev, ino, ctime_secs, ctime_nanos) = {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
    };
    #[cfg(not(unix))]
    let (dev, ino, ctime_secs, ctime_nanos) = (0, 0, 0, 0);
    Some((
        meta.len(),
        mtime.as_secs() as i64,
        mtime.subsec_nanos(),
        dev,
        ino,
        ctime_secs,
        ctime_nanos,
    ))
}

impl Key {
    fn stamp(&self) -> Stamp {
        (
            self.size,
            self.mtime_secs,
            self.mtime_nanos,
            self.dev,
            self.ino,
            self.ctime_secs,
            self.ctime_nanos,
        )
    }
}

/// The key of the file at `absolute` whose metadata (links followed) is `meta`.
pub(crate) fn key_from(absolute: &Path, meta: &std::fs::Metadata, opts: &Options) -> Option<Key> {
    let (size, mtime_secs, mtime_nanos, dev, ino, ctime_secs, ctime_nanos) = stamp(meta)?;
    Some(Key {
        format_version: FORMAT_VERSION,
        program_version: std::borrow::Cow::Borrowed(program_build()),
        path: absolute.to_string_lossy().into_owned(),
        size,
        mtime_secs,
        mtime_nanos,
        dev,
        ino,
        ctime_secs,
        ctime_nanos,
        date: opts.date,
    })
}

/// Writes to `dest` atomically what `write` writes to the writer it is handed: into a new
/// file in `dir` that then takes its place, so that a reader sees the old file or the whole
/// new one. When `write` fails, nothing is written. With [`write_frame`], a frame whose
/// header and body are never held whole (a 10 GB import's snapshot is a 66 MB header and
/// 100 MB of records).
pub(super) fn write_atomically(
    dir: &Path,
    dest: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = crate::store::atomic::temp_in(dir)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut tmp);
    write(&mut w)?;
    w.flush()?;
    drop(w);
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// Writes to `w` a frame (the layout [`frame`] documents) of a header of `header_len` bytes,
/// which `header` writes to the writer it is handed, and a body of `body_len` bytes, which
/// `body` gives part by part to the function it is handed. The one writer of the layout: a
/// cache entry (alone or in a folder's pack) and a snapshot are framed by it. A header or body
/// of other than its announced length is an error (what was written before it is then
/// incomplete).
pub(super) fn write_frame(
    w: &mut dyn Write,
    magic: &[u8; 16],
    header_len: u64,
    header: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    body_len: u64,
    body: impl FnOnce(&mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    w.write_all(magic)?;
    w.write_all(&FORMAT_VERSION.to_le_bytes())?;
    // Everything after the version is written through `out`, which feeds the checksum
    // (`checksum(&[header, body])`: each part's length, then the part) and counts.
    let mut h = checksummer();
    let mut out = Hashed {
        w: &mut *w,
        h: &mut h,
        n: 0,
    };
    let announced = |what: &str, given: u64, len: u64| {
        (given != len).then(|| {
            std::io::Error::other(format!(
                "a framed {what} of {given} bytes, announced as {len}"
            ))
        })
    };
    out.write_all(&header_len.to_le_bytes())?;
    let start = out.n;
    // serde_json writes a token at a time: hashed in blocks, not per token (a header
    // written whole passes through the buffer without a copy).
    let capacity = usize::try_from(header_len).map_or(1 << 16, |n| n.clamp(1, 1 << 16));
    let mut blocks = std::io::BufWriter::with_capacity(capacity, &mut out);
    header(&mut blocks)?;
    blocks.flush()?;
    drop(blocks);
    if let Some(e) = announced("header", out.n - start, header_len) {
        return Err(e);
    }
    out.write_all(&body_len.to_le_bytes())?;
    let start = out.n;
    body(&mut |part: &[u8]| out.write_all(part))?;
    if let Some(e) = announced("body", out.n - start, body_len) {
        return Err(e);
    }
    w.write_all(&h.digest().to_le_bytes())
}

/// A writer that feeds what it writes to a checksum and counts it.
struct Hashed<'a, W: Write + ?Sized> {
    w: &'a mut W,
    h: &'a mut xxhash_rust::xxh3::Xxh3,
    n: u64,
}

impl<W: Write + ?Sized> Write for Hashed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let k = self.w.write(buf)?;
        self.h.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// The length of `value` as JSON, counted without holding it.
pub(super) fn json_len<T: Serialize + ?Sized>(value: &T) -> std::io::Result<u64> {
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    serde_json::to_writer(&mut c, value)?;
    Ok(c.0)
}

/// A fast 64-bit checksum over 8-byte words (corruption detection, not security).
fn checksum(parts: &[&[u8]]) -> u64 {
    let mut h = checksummer();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.digest()
}

pub(super) fn checksummer() -> xxhash_rust::xxh3::Xxh3 {
    // xxh3 with its own seed: a torn or flipped entry fails it (the identity hash is xxh3
    // too, seeded differently).
    xxhash_rust::xxh3::Xxh3::with_seed(0x636f_7374_6c65_6e73)
}

fn encode(p: &ParsedFile, key: &Key) -> Vec<u8> {
    let header = Header {
        key: key.clone(),
        symbols: p.symbols.names().to_vec(),
        summary: p.summary.clone(),
        rejected: p.rejected.clone(),
        rejected_total: p.rejected_total,
        rejected_kinds: p.rejected_kinds.clone(),
        billed: p.billed.clone(),
        reported: p.reported.clone(),
    };
    let header = serde_json::to_vec(&header).unwrap_or_default();
    frame(MAGIC, &header, &encode_body(p))
}

/// A cache file's bytes: `magic`, [`FORMAT_VERSION`] (u32 LE), header length (u64 LE),
/// header, body length (u64 LE), body, checksum (u64 LE) of header and body.
pub(super) fn frame(magic: &[u8; 16], header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(magic.len() + 4 + 8 + header.len() + 8 + body.len() + 8);
    write_frame(
        &mut out,
        magic,
        header.len() as u64,
        |w| w.write_all(header),
        body.len() as u64,
        |emit| emit(body),
    )
    .expect("a header and body of their own lengths, written to memory");
    out
}

/// The header and body of [`frame`]d bytes, if the magic, version, lengths and checksum
/// are right.
pub(super) fn unframe<'a>(magic: &[u8; 16], bytes: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    let mut r = Reader { b: bytes, at: 0 };
    if r.take(magic.len())? != magic
        || u32::from_le_bytes(r.take(4)?.try_into().ok()?) != FORMAT_VERSION
    {
        return None;
    }
    let hlen = r.u64_fixed()? as usize;
    let header = r.take(hlen)?;
    let blen = r.u64_fixed()? as usize;
    let body = r.take(blen)?;
    (r.u64_fixed()? == checksum(&[header, body]) && r.at == bytes.len()).then_some((header, body))
}

/// Where decoded records go: a parsed file's records with their identities, or a dataset's
/// (a snapshot keeps no identities).
pub(super) trait RecordSink {
    fn reserve_exact(&mut self, n: usize);
    fn put(&mut self, r: UsageRecord, id: Identity);
}

impl RecordSink for Vec<(UsageRecord, Identity)> {
    fn reserve_exact(&mut self, n: usize) {
        Vec::reserve_exact(self, n);
    }

    fn put(&mut self, r: UsageRecord, id: Identity) {
        self.push((r, id));
    }
}

impl RecordSink for Records {
    fn reserve_exact(&mut self, n: usize) {
        Records::reserve_exact(self, n);
    }

    fn put(&mut self, r: UsageRecord, _: Identity) {
        self.push(r);
    }
}

/// Decodes the records that [`encode_records`] wrote at `r` (their count, then each) into
/// `out`; returns their count. Symbols must be below `n_symbols`.
pub(super) fn decode_records(
    r: &mut Reader,
    n_symbols: usize,
    out: &mut impl RecordSink,
) -> Option<usize> {
    let n = r.varint()? as usize;
    // Every record takes at least 13 bytes: a bad count must not allocate wildly.
    if n > r.b.len().saturating_sub(r.at) / 13 + 1 {
        return None;
    }
    out.reserve_exact(n);
    let sym = |v: u64| (v < n_symbols as u64).then_some(v as u32);
    let mut prev = 0i64;
    for _ in 0..n {
        let time = prev.wrapping_add(r.signed()?);
        prev = time;
        let terms = r.byte()?;
        let ck = r.byte()?;
        let context = Context::from_code(ck & 3)?;
        let (model, workspace, api_key, project, session, machine) = (
            sym(r.varint()?)?,
            sym(r.varint()?)?,
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
            bucket: *Bucket::ALL.get((terms & 3) as usize)?,
            model,
            tier: *Tier::ALL.get(((terms >> 2) & 7) as usize)?,
            context,
            geo: *Geo::ALL.get(((terms >> 5) & 3) as usize)?,
            speed: SPEEDS[(terms >> 7) as usize],
            workspace,
            api_key,
            project,
            session,
            machine,
            tokens: Tokens::from_array(t),
            web_search,
            requests,
            source: 0,
        };
        out.put(rec, id);
    }
    Some(n)
}

/// The entry's parsed file, if it is intact and was made for `key`.
fn decode(bytes: &[u8], key: &Key) -> Option<ParsedFile> {
    let (header_bytes, body) = unframe(MAGIC, bytes)?;
    let header: Header = serde_json::from_slice(header_bytes).ok()?;
    if &header.key != key {
        return None;
    }
    let symbols = Symbols::from_names(&header.symbols)?;
    let (records, reported_per_record) = decode_body(body, symbols.len())?;
    Some(ParsedFile {
        symbols,
        records,
        billed: header.billed,
        reported: header.reported,
        reported_per_record,
        rejected: header.rejected,
        rejected_total: header.rejected_total,
        rejected_kinds: header.rejected_kinds,
        summary: header.summary,
    })
}

// --- binary body -------------------------------------------------------------------------

/// Appends `v` as a LEB128 varint (integer-encoding's). A value under 128 (about half of a record's fields: most symbols, the request count, no
/// web search, small token counts) is its own one byte, pushed without the crate's loop and
/// a copy: the same bytes (`varints_match_the_crate`).
#[inline]
pub(super) fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    let mut buf = [0u8; 10];
    let n = v.encode_var(&mut buf);
    out.extend_from_slice(&buf[..n]);
}

/// Signed values as zigzag varints: small negative deltas stay one byte.
#[inline]
fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

const SPEEDS: [Speed; 2] = [Speed::Standard, Speed::Fast];

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

/// Per record: time (zigzag varint, as a delta from the previous record), one byte of
/// bucket/tier/geo/speed, one byte of context and identity kind, symbols, token counts, web
/// searches and requests as varints, then the identity hash (8 bytes) if any. Then the
/// reported costs: count, and per cost the record index (varint delta) and the f64 bits.
fn encode_body(p: &ParsedFile) -> Vec<u8> {
    encode_records(
        p.records.iter().map(|(r, id)| (r, *id)),
        &p.reported_per_record,
    )
}

/// [`encode_body`] of any records (the import snapshot's have no identity).
pub(super) fn encode_records<'a>(
    records: impl ExactSizeIterator<Item = (&'a UsageRecord, Identity)>,
    reported_per_record: &[(usize, f64)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 24 + 16);
    put_varint(&mut out, records.len() as u64);
    let mut enc = RecordEncoder::default();
    for (r, id) in records {
        enc.push(&mut out, r, id);
    }
    put_varint(&mut out, reported_per_record.len() as u64);
    let mut prev = 0usize;
    for &(i, usd) in reported_per_record {
        put_varint(&mut out, i.wrapping_sub(prev) as u64);
        prev = i;
        out.extend_from_slice(&usd.to_bits().to_le_bytes());
    }
    out
}

/// Encodes records one after another as [`encode_records`] lays them out (each record's
/// time as the difference from the one before), so that a large list can be written in
/// parts instead of encoded whole first.
#[derive(Default)]
pub(super) struct RecordEncoder {
    prev: i64,
}

impl RecordEncoder {
    /// How many bytes [`RecordEncoder::push`] writes for `r` after a record of time `prev`
    /// (0 for the first): what a writer that gives a body's length before the body needs,
    /// without encoding it twice.
    pub(super) fn encoded_len(prev: i64, r: &UsageRecord, id: Identity) -> usize {
        let dims = r.sym_ids();
        let hash = match id {
            Identity::None => 0,
            Identity::Row(_) | Identity::Message { .. } => 8,
        };
        r.time.wrapping_sub(prev).required_space()
            + 2
            + dims
                .iter()
                .map(|&v| (v as u64).required_space())
                .sum::<usize>()
            + r.tokens
                .as_array()
                .iter()
                .map(|v| v.required_space())
                .sum::<usize>()
            + r.web_search.required_space()
            + r.requests.required_space()
            + hash
    }

    pub(super) fn push(&mut self, out: &mut Vec<u8>, r: &UsageRecord, id: Identity) {
        put_signed(out, r.time.wrapping_sub(self.prev));
        self.prev = r.time;
        let terms = index_of(&Bucket::ALL, &r.bucket)
            | (index_of(&Tier::ALL, &r.tier) << 2)
            | (index_of(&Geo::ALL, &r.geo) << 5)
            | (index_of(&SPEEDS, &r.speed) << 7);
        let ctx = r.context.code();
        let (kind, hash) = match id {
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
        for v in r.sym_ids() {
            put_varint(out, v as u64);
        }
        for v in r.tokens.as_array() {
            put_varint(out, v);
        }
        put_varint(out, r.web_search);
        put_varint(out, r.requests);
        if let Some(h) = hash {
            out.extend_from_slice(&h.to_le_bytes());
        }
    }
}

pub(super) struct Reader<'a> {
    pub(super) b: &'a [u8],
    pub(super) at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        let b = *self.b.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub(super) fn u64_fixed(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    #[inline]
    pub(super) fn varint(&mut self) -> Option<u64> {
        // A one-byte value, the usual case, read without the crate's loop.
        let first = *self.b.get(self.at)?;
        if first < 0x80 {
            self.at += 1;
            return Some(u64::from(first));
        }
        let (v, n) = u64::decode_var(self.b.get(self.at..)?)?;
        self.at += n;
        Some(v)
    }

    #[inline]
    fn signed(&mut self) -> Option<i64> {
        let z = self.varint()?;
        Some((z >> 1) as i64 ^ -((z & 1) as i64))
    }
}

pub(super) type Body = (Vec<(UsageRecord, Identity)>, Vec<(usize, f64)>);

pub(super) fn decode_body(body: &[u8], n_symbols: usize) -> Option<Body> {
    let mut r = Reader { b: body, at: 0 };
    let mut records = Vec::new();
    let n = decode_records(&mut r, n_symbols, &mut records)?;
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

    /// The one-byte shortcuts write and read exactly what the crate does, for every value
    /// around each length's edges and at random.
    #[test]
    fn varints_match_the_crate() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut values: Vec<u64> = (0..64)
            .flat_map(|k| {
                let p = 1u64 << k;
                [p - 1, p, p + 1]
            })
            .collect();
        values.extend((0..300).chain([u64::MAX - 1, u64::MAX]));
        values.extend((0..20_000).map(|_| rng.u64(..) >> rng.u32(0..64)));
        for &v in &values {
            let mut ours = Vec::new();
            put_varint(&mut ours, v);
            let mut buf = [0u8; 10];
            let n = v.encode_var(&mut buf);
            assert_eq!(ours, &buf[..n], "{v}");
            assert_eq!(Reader { b: &ours, at: 0 }.varint(), Some(v));
            assert_eq!(u64::decode_var(&ours), Some((v, n)));
            for s in [v as i64, (v as i64).wrapping_neg()] {
                let mut ours = Vec::new();
                put_signed(&mut ours, s);
                let n = s.encode_var(&mut buf);
                assert_eq!(ours, &buf[..n], "{s}");
                let mut r = Reader { b: &ours, at: 0 };
                assert_eq!((r.signed(), r.at), (Some(s), n), "{s}");
            }
        }
        // A varint cut short is refused, as the crate refuses it.
        for bad in [&[0x80u8][..], &[0xff, 0xff], &[]] {
            assert_eq!(Reader { b: bad, at: 0 }.varint(), None);
            assert_eq!(Reader { b: bad, at: 0 }.signed(), None);
        }
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Reader { b: &b, at: 0 }.varint(), Some(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -1_700_000_000] {
            let mut b = Vec::new();
            put_signed(&mut b, v);
            assert_eq!(Reader { b: &b, at: 0 }.signed(), Some(v));
            // Small magnitudes, either sign, take one byte.
            if v.unsigned_abs() < 64 {
                assert_eq!(b.len(), 1);
            }
        }
    }

    /// A body written in parts makes the same file as the body in one piece, and the file
    /// written in parts reads back; a flipped byte in any part fails the checksum.
    #[test]
    fn a_body_in_parts_is_framed_as_one() {
        let magic = b"costlens-test-01";
        let header = br#"{"h":1}"#;
        let parts: [&[u8]; 4] = [b"abc", b"", &[0u8; 300], b"xyz"];
        let whole: Vec<u8> = parts.concat();
        let mut in_parts = Vec::new();
        write_frame(
            &mut in_parts,
            magic,
            header.len() as u64,
            |w| w.write_all(header),
            whole.len() as u64,
            |emit| parts.iter().try_for_each(|p| emit(p)),
        )
        .unwrap();
        assert_eq!(in_parts, frame(magic, header, &whole));
        // The layout, put together here: magic, version, header length, header, body
        // length, body, the checksum of header and body taken whole.
        let expected = [
            &magic[..],
            &FORMAT_VERSION.to_le_bytes(),
            &(header.len() as u64).to_le_bytes(),
            header,
            &(whole.len() as u64).to_le_bytes(),
            &whole,
            &checksum(&[header, &whole]).to_le_bytes(),
        ]
        .concat();
        assert_eq!(in_parts, expected);
        let head = 16 + 4 + 8 + header.len() + 8;

        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("entry");
        std::fs::write(&dest, &in_parts).unwrap();
        let bytes = std::fs::read(&dest).unwrap();
        assert_eq!(unframe(magic, &bytes), Some((&header[..], &whole[..])));
        let mut flipped = bytes.clone();
        flipped[head + 100] ^= 1;
        assert_eq!(unframe(magic, &flipped), None);
    }

    /// A header and body streamed part by part are framed as [`frame`] frames them whole, and
    /// one that gives fewer or more bytes than it announced writes nothing.
    #[test]
    fn a_streamed_body_is_framed_as_one_and_a_wrong_length_writes_nothing() {
        let magic = b"costlens-test-02";
        let header = br#"{"h":2}"#;
        let parts: [&[u8]; 3] = [&[7u8; 70_000], b"", b"tail"];
        let whole: Vec<u8> = parts.concat();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("entry");
        let stream = |hlen: u64, len: u64, dest: &Path| {
            write_atomically(dir.path(), dest, |w| {
                write_frame(
                    w,
                    magic,
                    hlen,
                    // Written in two pieces, as serde_json writes a header.
                    |w| {
                        w.write_all(&header[..3])?;
                        w.write_all(&header[3..])
                    },
                    len,
                    |emit| parts.iter().try_for_each(|p| emit(p)),
                )
            })
        };
        let (hlen, blen) = (header.len() as u64, whole.len() as u64);
        stream(hlen, blen, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), frame(magic, header, &whole));
        for (h, b) in [
            (hlen, blen - 1),
            (hlen, blen + 1),
            (hlen - 1, blen),
            (hlen + 1, blen),
        ] {
            let other = dir.path().join(format!("other-{h}-{b}"));
            let e = stream(h, b, &other).unwrap_err();
            assert!(e.to_string().contains("announced as"), "{e}");
            assert!(!other.exists());
        }
        // Nothing left behind but the one entry (the failed writes' temp files are gone).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A header's JSON length is counted as serde_json writes it.
        let value = serde_json::json!({"a": [1, "é\"x", null], "b": 2.5});
        assert_eq!(
            json_len(&value).unwrap(),
            serde_json::to_vec(&value).unwrap().len() as u64
        );
    }

    /// The length counted for a record is the length written, whatever its values.
    #[test]
    fn the_encoded_length_of_a_record_is_what_is_written() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut enc = RecordEncoder::default();
        let mut prev = 0i64;
        for i in 0..20_000u64 {
            let big = |rng: &mut fastrand::Rng| match rng.u8(0..4) {
                0 => 0,
                1 => rng.u64(0..128),
                2 => {
                    let bits = rng.u32(7..40);
                    rng.u64(..1 << bits)
                }
                _ => rng.u64(..),
            };
            let r = UsageRecord {
                time: match i % 3 {
                    0 => rng.i64(..),
                    1 => prev + rng.i64(-100..100),
                    _ => prev,
                },
                model: rng.u32(..),
                workspace: rng.u32(0..200),
                session: big(&mut rng) as u32,
                tokens: Tokens {
                    uncached_input: big(&mut rng),
                    cache_write_5m: big(&mut rng),
                    cache_write_1h: big(&mut rng),
                    cache_read: big(&mut rng),
                    output: big(&mut rng),
                },
                web_search: big(&mut rng),
                requests: big(&mut rng),
                ..UsageRecord::REQUEST
            };
            let id = match i % 4 {
                0 => Identity::None,
                1 => Identity::Row(rng.u64(..)),
                _ => Identity::Message {
                    id: rng.u64(..),
                    sidechain: i % 2 == 0,
                },
            };
            let mut out = Vec::new();
            enc.push(&mut out, &r, id);
            assert_eq!(RecordEncoder::encoded_len(prev, &r, id), out.len(), "{r:?}");
            prev = r.time;
        }
    }

    /// A pack's entries read back as written: a batch's at once (with entries of files not in
    /// the batch between them), and copied into a new pack in any order, with gaps, in runs.
    #[test]
    fn pack_entries_are_read_by_range_and_copied_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let blob = |i: usize| -> Vec<u8> { (0..100 + 37 * i).map(|b| (b * 7 + i) as u8).collect() };
        let names: Vec<String> = (0..6).map(|i| format!("s{i}.jsonl")).collect();
        let mut w = PackWriter::start(dir.path()).unwrap();
        for (i, n) in names.iter().enumerate() {
            w.add(n, &blob(i)).unwrap();
        }
        let first = dir.path().join("first.pack");
        w.finish(&first).unwrap();
        let pack = Pack::read(&first).expect("the pack reads");
        assert_eq!(pack.slots.len(), 6);
        // A batch of entries 1, 2 and 4 (3 lies between them): one read, each one exact.
        let range = pack
            .read_range([1, 2, 4].into_iter())
            .expect("the range reads");
        for i in [1, 2, 4] {
            let slot = &pack.slots[pack.find(&names[i]).unwrap()];
            assert_eq!(range.get(slot), Some(&blob(i)[..]), "entry {i}");
        }
        assert!(
            range.get(&pack.slots[0]).is_none(),
            "entry 0 is outside the range"
        );
        assert!(pack.read_range(std::iter::empty()).is_none());
        // Copied out of order and with gaps: the new pack holds exactly those entries.
        let mut w = PackWriter::start(dir.path()).unwrap();
        pack.copy_into(&[5, 0, 2, 3], &mut w).unwrap();
        let second = dir.path().join("second.pack");
        w.finish(&second).unwrap();
        let copy = Pack::read(&second).expect("the copy reads");
        let mut got: Vec<(String, Vec<u8>)> = (0..copy.slots.len())
            .map(|k| {
                let r = copy.read_range(std::iter::once(k)).unwrap();
                (
                    copy.slots[k].name.clone(),
                    r.get(&copy.slots[k]).unwrap().to_vec(),
                )
            })
            .collect();
        got.sort();
        let want: Vec<(String, Vec<u8>)> = [0, 2, 3, 5]
            .iter()
            .map(|&i| (names[i].clone(), blob(i)))
            .collect();
        assert_eq!(got, want);
        // A pack cut short is not read.
        let bytes = std::fs::read(&first).unwrap();
        std::fs::write(&first, &bytes[..bytes.len() - 3]).unwrap();
        assert!(Pack::read(&first).is_none());
    }
}
