//! Hashing a site's pieces on every core.
//!
//! Padding puts every asset on a piece boundary, so each piece belongs to
//! one file: the work splits into independent jobs (runs of a few MiB of one
//! file) that worker threads take from a shared counter. The last piece of a
//! file that is followed by padding is hashed with the zeros appended, as
//! BEP 47 defines. SHA-1 comes from the `sha1` crate (SHA-NI where the CPU
//! has it); a test checks it agrees with the core's `sha1_smol`. Each piece
//! also gets its SHA-256 (the `sha2` crate), over the same bytes, for
//! `peercdn.json`.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{anyhow, Result};
use peercdn::manifest::layout::Placement;
use peercdn::manifest::{Sha1Digest, Sha256Digest};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// A piece's SHA-1 (the torrent's) and SHA-256 (the manifest's).
pub type PieceHashes = (Sha1Digest, Sha256Digest);

/// Bytes one job hashes at most (rounded to whole pieces).
const JOB_BYTES: u64 = 8 * 1024 * 1024;

/// A file to hash and where it sits in the torrent.
pub struct PlacedFile {
    pub fs_path: PathBuf,
    pub placement: Placement,
}

struct Job {
    file: usize,
    /// Index of the job's first piece within its file.
    first: u64,
    count: u64,
}

/// Hashes every piece; `on_bytes` is called with each chunk's byte count,
/// from the calling thread (for a progress bar).
pub fn hash_pieces(
    files: &[PlacedFile],
    piece_length: u64,
    piece_count: u64,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<Vec<PieceHashes>> {
    let jobs = make_jobs(files, piece_length);
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut digests = vec![([0u8; 20], [0u8; 32]); piece_count as usize];
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::channel::<Result<(u64, Vec<PieceHashes>, u64)>>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (jobs, next) = (&jobs, &next);
            scope.spawn(move || worker(files, jobs, next, piece_length, &tx));
        }
        drop(tx);
        for message in rx {
            let (first_piece, hashes, bytes) = message?;
            let start = first_piece as usize;
            digests[start..start + hashes.len()].copy_from_slice(&hashes);
            on_bytes(bytes);
        }
        Ok(())
    })?;
    Ok(digests)
}

fn make_jobs(files: &[PlacedFile], piece_length: u64) -> Vec<Job> {
    let per_job = (JOB_BYTES / piece_length).max(1);
    let mut jobs = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let pieces = file.placement.piece_count(piece_length);
        let mut first = 0;
        while first < pieces {
            let count = per_job.min(pieces - first);
            jobs.push(Job {
                file: index,
                first,
                count,
            });
            first += count;
        }
    }
    jobs
}

type Report = mpsc::Sender<Result<(u64, Vec<PieceHashes>, u64)>>;

fn worker(files: &[PlacedFile], jobs: &[Job], next: &AtomicUsize, piece_length: u64, tx: &Report) {
    let mut buffer = vec![0u8; piece_length as usize];
    let mut open: Option<(usize, File)> = None;
    loop {
        let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
            return;
        };
        let file = &files[job.file];
        let handle = match &open {
            Some((i, f)) if *i == job.file => Ok(f),
            _ => File::open(&file.fs_path)
                .map_err(|e| match e.kind() {
                    ErrorKind::NotFound => vanished(file),
                    _ => anyhow!(e).context(format!("cannot open {}", file.fs_path.display())),
                })
                .map(|f| &open.insert((job.file, f)).1),
        };
        let result = handle.and_then(|f| hash_job(f, file, job, piece_length, &mut buffer));
        let failed = result.is_err();
        if tx.send(result).is_err() || failed {
            // Stop taking work: the build has failed.
            next.store(jobs.len(), Ordering::Relaxed);
            return;
        }
    }
}

fn hash_job(
    handle: &File,
    file: &PlacedFile,
    job: &Job,
    piece_length: u64,
    buffer: &mut [u8],
) -> Result<(u64, Vec<PieceHashes>, u64)> {
    let placement = &file.placement;
    let mut hashes = Vec::with_capacity(job.count as usize);
    let mut bytes = 0;
    for piece in job.first..job.first + job.count {
        let start = piece * piece_length;
        let data_len = (placement.length - start).min(piece_length) as usize;
        handle
            .read_exact_at(&mut buffer[..data_len], start)
            .map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => changed(file),
                _ => anyhow!(e).context(format!("cannot read {}", file.fs_path.display())),
            })?;
        let is_last_piece = piece + 1 == placement.piece_count(piece_length);
        let hashed_len = if is_last_piece && placement.padding > 0 {
            buffer[data_len..].fill(0);
            piece_length as usize
        } else {
            data_len
        };
        let hashed = &buffer[..hashed_len];
        hashes.push((Sha1::digest(hashed).into(), Sha256::digest(hashed).into()));
        bytes += data_len as u64;
    }
    Ok((placement.first_piece + job.first, hashes, bytes))
}

pub fn changed(file: &PlacedFile) -> anyhow::Error {
    anyhow!(
        "{} changed during the build; run it again",
        file.fs_path.display()
    )
}

pub fn vanished(file: &PlacedFile) -> anyhow::Error {
    anyhow!(
        "{} vanished during the build; run it again",
        file.fs_path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_crate_agrees_with_core() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let ours: Sha1Digest = Sha1::digest(&data).into();
        assert_eq!(ours, peercdn::manifest::sha1(&data));
    }
}
