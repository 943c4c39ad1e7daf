//! Kept answers: the output of a command (a report's JSON or text, and what it said on
//! standard error) kept with the manifest of the inputs it was made from ([`Manifest`]: every
//! file's path, size, modification and change times, inode, the import options and the
//! usage history's revision). Asked again with the same command line, the same price file and
//! the same program build while no file changed, costlens walks the folders, stats the files
//! and answers from here: no snapshot to decode, no cube, no views to build again.
//!
//! An answer is only kept for an import with nothing to warn about (every file read to its
//! end, no history problem: the cases that must be met again are not answered from here), and
//! only where a snapshot would be (several files, 1 MiB or more).
//!
//! Layout (little endian): magic (16 bytes), [`FORMAT_VERSION`] (u32), manifest (u64), the
//! standard output, the standard error text, then the standard output's length (u64), the
//! standard error's length (u64) and an xxh3 checksum (u64) of both, the manifest and the
//! lengths. The output is written as it is produced (a 10 GB tree's JSON report is tens of
//! megabytes, never held whole), to a temp file renamed when the command succeeded.

use super::cache::{FORMAT_VERSION, program_build};
use super::snapshot::Manifest;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const MAGIC: &[u8; 16] = b"costlens-answer\n";
const SEED: u64 = 0x616e_7377_6572_7331;

/// What a command was asked (its arguments and every file of settings it reads besides the
/// usage: a price file's bytes), hashed with the program build: an answer is kept per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request(u64);

impl Request {
    pub fn new(parts: &[&[u8]]) -> Request {
        let mut all: Vec<&[u8]> = vec![b"answer-request", program_build().as_bytes()];
        all.extend_from_slice(parts);
        Request(crate::import::stable_hash(&all))
    }

    fn file(&self, cache_dir: &Path) -> PathBuf {
        cache_dir.join(format!("{:016x}.answer", self.0))
    }
}

/// A kept answer, intact (its checksum verified). Its output stays in the file, copied out
/// by [`Answer::write_to`]: a 10 GB tree's JSON report is tens of megabytes.
pub struct Answer {
    /// The inputs it was made from: usable only while the files are the same.
    pub manifest: Manifest,
    pub stderr: String,
    /// The open file (an answer is replaced by a rename, never rewritten in place: what
    /// was verified is what is copied).
    handle: std::fs::File,
    stdout_len: u64,
    file: PathBuf,
    marked: Option<SystemTime>,
}

const HEAD: u64 = 16 + 4 + 8;
const TAIL: u64 = 24;

impl Answer {
    /// Marks the answer as used (see [`super::cache::Cache::prune`]), at most once a day.
    pub fn mark_used(&self) {
        let day = Duration::from_secs(86_400);
        if self
            .marked
            .is_some_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() < day)
        {
            return;
        }
        super::cache::touch(&self.file);
    }

    /// Copies the kept output to `out`.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut f = &self.handle;
        f.seek(SeekFrom::Start(HEAD))?;
        let n = std::io::copy(&mut f.take(self.stdout_len), out)?;
        if n != self.stdout_len {
            return Err(std::io::Error::other("the kept answer was cut short"));
        }
        out.flush()
    }
}

/// The answer kept for `request`, if there is one and it is intact (read through once to
/// check its checksum, a MiB at a time).
pub fn read(cache_dir: &Path, request: Request) -> Option<Answer> {
    let file = request.file(cache_dir);
    let mut f = std::fs::File::open(&file).ok()?;
    let meta = f.metadata().ok()?;
    let len = meta.len();
    if len < HEAD + TAIL {
        return None;
    }
    let mut head = [0u8; HEAD as usize];
    f.read_exact(&mut head).ok()?;
    if &head[..16] != MAGIC || u32::from_le_bytes(head[16..20].try_into().ok()?) != FORMAT_VERSION {
        return None;
    }
    let manifest = Manifest::from_raw(u64::from_le_bytes(head[20..28].try_into().ok()?));
    let mut tail = [0u8; TAIL as usize];
    f.seek(SeekFrom::Start(len - TAIL)).ok()?;
    f.read_exact(&mut tail).ok()?;
    let stdout_len = u64::from_le_bytes(tail[..8].try_into().ok()?);
    let stderr_len = u64::from_le_bytes(tail[8..16].try_into().ok()?);
    let sum = u64::from_le_bytes(tail[16..].try_into().ok()?);
    if HEAD.checked_add(stdout_len)?.checked_add(stderr_len)? != len - TAIL {
        return None;
    }
    f.seek(SeekFrom::Start(HEAD)).ok()?;
    let mut h = xxhash_rust::xxh3::Xxh3::with_seed(SEED);
    let mut left = stdout_len + stderr_len;
    let mut buf = vec![0u8; 1 << 20];
    let mut stderr = Vec::new();
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        f.read_exact(&mut buf[..n]).ok()?;
        h.update(&buf[..n]);
        left -= n as u64;
        // The standard error text is the last `stderr_len` bytes before the tail.
        let at = stdout_len + stderr_len - left;
        if at > stdout_len {
            let from = n.saturating_sub((at - stdout_len) as usize);
            stderr.extend_from_slice(&buf[from..n]);
        }
    }
    h.update(&head[20..28]);
    h.update(&tail[..16]);
    if h.digest() != sum {
        return None;
    }
    Some(Answer {
        manifest,
        stderr: String::from_utf8(stderr).ok()?,
        handle: f,
        stdout_len,
        file,
        marked: meta.modified().ok(),
    })
}

/// Writes an answer as the command produces it: everything written to it goes to `out` and
/// to a temp file beside the answer, which [`Recorder::keep`] renames into place. Dropped
/// without `keep` (the command failed, or its import is not one to answer from), the temp
/// file is removed. Problems with the temp file never fail the command: the answer is then
/// just not kept.
pub struct Recorder<W: Write> {
    out: W,
    temp: Option<tempfile::NamedTempFile>,
    hash: xxhash_rust::xxh3::Xxh3,
    written: u64,
    dest: PathBuf,
}

impl<W: Write> Recorder<W> {
    pub fn new(cache_dir: &Path, request: Request, out: W) -> Recorder<W> {
        let temp = std::fs::create_dir_all(cache_dir)
            .and_then(|()| crate::store::atomic::temp_in(cache_dir))
            .ok();
        let mut r = Recorder {
            out,
            temp: None,
            hash: xxhash_rust::xxh3::Xxh3::with_seed(SEED),
            written: 0,
            dest: request.file(cache_dir),
        };
        if let Some(mut t) = temp {
            let mut head = Vec::with_capacity(28);
            head.extend_from_slice(MAGIC);
            head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
            // The manifest is known once the import is done: written by `keep`.
            head.extend_from_slice(&0u64.to_le_bytes());
            if t.write_all(&head).is_ok() {
                r.temp = Some(t);
            }
        }
        r
    }

    /// Keeps what was written, with `stderr` (what the command said on standard error), as
    /// the answer of inputs `manifest`.
    pub fn keep(mut self, manifest: Manifest, stderr: &str) -> std::io::Result<()> {
        self.out.flush()?;
        let Some(mut t) = self.temp.take() else {
            return Ok(());
        };
        let file = t.as_file_mut();
        let sum = {
            self.hash.update(stderr.as_bytes());
            self.hash.update(&manifest.raw().to_le_bytes());
            self.hash.update(&self.written.to_le_bytes());
            self.hash.update(&(stderr.len() as u64).to_le_bytes());
            self.hash.digest()
        };
        let mut tail = Vec::with_capacity(stderr.len() + 24);
        tail.extend_from_slice(stderr.as_bytes());
        tail.extend_from_slice(&self.written.to_le_bytes());
        tail.extend_from_slice(&(stderr.len() as u64).to_le_bytes());
        tail.extend_from_slice(&sum.to_le_bytes());
        let done = file.write_all(&tail).and_then(|()| {
            file.seek(SeekFrom::Start(20))?;
            file.write_all(&manifest.raw().to_le_bytes())
        });
        // An answer that could not be written whole is not kept; the command still succeeded.
        if done.is_ok() {
            let _ = t.persist(&self.dest);
        }
        Ok(())
    }

    /// Flushes what was written and keeps no answer.
    pub fn discard(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> Write for Recorder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if let Some(t) = &mut self.temp {
            if t.write_all(&buf[..n]).is_ok() {
                self.hash.update(&buf[..n]);
                self.written += n as u64;
            } else {
                self.temp = None;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(stdout: &[u8], stderr: &str) {
        let dir = tempfile::tempdir().unwrap();
        let request = Request::new(&[b"test", &stdout.len().to_le_bytes()]);
        let mut seen = Vec::new();
        let mut r = Recorder::new(dir.path(), request, &mut seen);
        // Written in uneven pieces, as a buffered writer hands them on.
        for piece in stdout.chunks(7_777) {
            r.write_all(piece).unwrap();
        }
        r.keep(Manifest::from_raw(42), stderr).unwrap();
        assert_eq!(seen, stdout, "what was written went on to the output");
        let a = read(dir.path(), request).expect("kept");
        assert_eq!(a.manifest, Manifest::from_raw(42));
        assert_eq!(a.stderr, stderr);
        let mut out = Vec::new();
        a.write_to(&mut out).unwrap();
        assert_eq!(out, stdout);
    }

    #[test]
    fn an_answer_reads_back_as_written_across_buffer_boundaries() {
        round_trip(b"{}\n", "");
        round_trip(
            b"report\n",
            "costlens: warning: one\ncostlens: warning: two\n",
        );
        // The standard error text straddling the 1 MiB read boundary, and far past it.
        let big: Vec<u8> = (0..(1usize << 20) - 5)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        round_trip(&big, "costlens: warning: across the boundary\n");
        let bigger: Vec<u8> = (0..2_500_000usize).map(|i| (i % 251) as u8).collect();
        round_trip(&bigger, "w\n");
    }

    #[test]
    fn an_answer_not_kept_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let request = Request::new(&[b"discarded"]);
        let mut r = Recorder::new(dir.path(), request, Vec::new());
        r.write_all(b"partial").unwrap();
        r.discard().unwrap();
        assert!(read(dir.path(), request).is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
