//! A small gzip file inflated in one call per member, with libdeflate.
//!
//! The streaming inflater (flate2 on zlib-rs) needs no room for the whole
//! text, which a large file requires; but most files of an S3 tree are a few
//! megabytes, and for those libdeflate, which inflates a whole member into a
//! buffer of the right size, took 1.00 s where zlib-rs took 1.36 s for the 200
//! files of a 10 M-record tree (one thread, the same run). The text then goes
//! out as a slice, cut into blocks without copying.
//!
//! Anything unusual is left to the streaming reader, which reads the file from
//! its start and words what is wrong exactly as it always has: a damaged or
//! truncated member, bytes after the last member that are neither a member nor
//! zero padding, text over the size limit.

use std::cell::RefCell;
use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// Text of at most this size is inflated whole; larger files stream (each
/// file in flight holds its text, and a scan has up to `2 × threads + 2`).
pub(crate) const WHOLE_TEXT: usize = 16 << 20;

/// Compressed files at most this large are inflated whole from memory (mapped,
/// or read when under a megabyte) when their text is no larger than
/// [`WHOLE_TEXT`].
pub(crate) const WHOLE_GZIP: u64 = 4 << 20;

/// libdeflate's decompressor (about 10 kB of tables), one per thread.
struct Decompressor(NonNull<libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: allocation has no preconditions; a null return is handled.
        NonNull::new(unsafe { libdeflate_alloc_decompressor() }).map(Decompressor)
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the pointer came from libdeflate_alloc_decompressor and is
        // freed once, here.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
    /// The text buffer of the last file, for the next one: a fresh buffer of
    /// megabytes is mapped and faulted in page by page, which cost more than
    /// libdeflate saved (448 k page faults against 88 k on a 200-file tree).
    static SPARE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Gives a text buffer back for the next file inflated on this thread.
pub(crate) fn give_back(text: Vec<u8>) {
    if text.capacity() <= WHOLE_TEXT {
        SPARE.set(text);
    }
}

/// Frees this thread's spare buffers: called when a scan has read its last
/// file, so that they do not add to the peak of the merge that follows.
pub(crate) fn release() {
    SPARE.take();
}

/// How one member went.
enum Member {
    /// Inflated: input bytes used.
    Done(usize),
    /// `out` has too little room left.
    Room,
    /// Bad data, or anything else: the streaming reader takes over.
    Fail,
}

/// Inflates the member at the start of `input`, appending to `out` within its
/// spare capacity.
fn member(d: &Decompressor, input: &[u8], out: &mut Vec<u8>, cap: usize) -> Member {
    // No further than the cap, whatever room a reused buffer has.
    let room = cap.saturating_sub(out.len());
    let spare = out.spare_capacity_mut();
    let n = room.min(spare.len());
    let spare = &mut spare[..n];
    let (mut used_in, mut made) = (0usize, 0usize);
    // SAFETY: the decompressor is live; `input` is readable for its length;
    // the spare capacity is writable for its length, and libdeflate writes at
    // most that many bytes, reporting how many in `made`.
    let ret = unsafe {
        libdeflate_gzip_decompress_ex(
            d.0.as_ptr(),
            input.as_ptr().cast(),
            input.len(),
            spare.as_mut_ptr().cast(),
            spare.len(),
            &mut used_in,
            &mut made,
        )
    };
    #[allow(non_upper_case_globals)]
    match ret {
        libdeflate_result_LIBDEFLATE_SUCCESS if made <= spare.len() && used_in > 0 => {
            // SAFETY: libdeflate initialised `made` bytes of the spare capacity.
            unsafe { out.set_len(out.len() + made) };
            Member::Done(used_in)
        }
        libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::Room,
        _ => Member::Fail,
    }
}

/// The text of the gzip file `gz` (members back to back, then optional zero
/// padding), if it is at most `cap` bytes and every member inflates cleanly;
/// `None` otherwise, and then the streaming reader must read the file.
pub(crate) fn inflate_whole(gz: &[u8], cap: usize) -> Option<Vec<u8>> {
    // The last member's size (mod 2^32) ends the file: for the usual file of
    // one member, the exact size of the text.
    let tail: [u8; 4] = gz.get(gz.len().checked_sub(4)?..)?.try_into().ok()?;
    let last = u32::from_le_bytes(tail) as usize;
    if last > cap {
        return None;
    }
    DECOMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Decompressor::new();
        }
        let d = slot.as_ref()?;
        let mut out = SPARE.take();
        out.clear();
        if out.capacity() < last {
            // Room for files a little larger than this one, so that a tree's
            // files of about the same size share one buffer.
            out = Vec::with_capacity((last + last / 16).min(cap));
        }
        let mut pos = 0;
        while pos < gz.len() {
            let rest = &gz[pos..];
            if !rest.starts_with(&[0x1f, 0x8b]) {
                // Zero padding ends the input; anything else is for the
                // streaming reader to report.
                return rest.iter().all(|&b| b == 0).then_some(out);
            }
            if rest.get(3).is_none_or(|flags| flags & 0x02 != 0) {
                // A header checksum: libdeflate does not check it, the
                // streaming reader does.
                return None;
            }
            match member(d, rest, &mut out, cap) {
                Member::Done(n) => pos += n,
                // A member before the last is larger than the room the last
                // one's size gave: room up to the cap, once.
                Member::Room if out.capacity() < cap => out.reserve_exact(cap - out.len()),
                Member::Room | Member::Fail => return None,
            }
        }
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    /// The text as the streaming reader gives it, or its error.
    fn streamed(data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        crate::source::Members::new(data)
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| e.to_string())
    }

    /// `n` lines that compress a little (an LCG's values in them).
    fn text(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        let mut t = Vec::new();
        for i in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let line = format!("2 1 eni-{:x} 10.0.0.{} x {i}\n", x >> 40, (x >> 32) as u8);
            t.extend_from_slice(line.as_bytes());
        }
        t
    }

    #[test]
    fn members_and_padding_read_as_the_stream_reads_them() {
        let (a, b, c) = (text(5000, 1), text(20, 2), text(3000, 3));
        let mut file = gz(&a);
        file.extend(gz(&b));
        file.extend(gz(b""));
        file.extend(gz(&c));
        let want = [a.clone(), b.clone(), c.clone()].concat();
        assert_eq!(inflate_whole(&file, WHOLE_TEXT), Some(want.clone()));
        // The first member is larger than the last one says: the buffer grows.
        assert!(a.len() > c.len());
        file.extend([0u8; 700]);
        assert_eq!(inflate_whole(&file, WHOLE_TEXT), Some(want.clone()));
        assert_eq!(streamed(&file), Ok(want));
        assert_eq!(inflate_whole(&gz(b""), WHOLE_TEXT), Some(Vec::new()));
    }

    #[test]
    fn a_reused_buffer_does_not_lift_the_cap() {
        let (a, b) = (text(3000, 5), text(10, 6));
        let mut file = gz(&a);
        file.extend(gz(&b));
        // The last member is small, the buffer from an earlier file large.
        give_back(Vec::with_capacity(WHOLE_TEXT));
        assert_eq!(inflate_whole(&file, a.len()), None);
        give_back(Vec::with_capacity(WHOLE_TEXT));
        assert_eq!(
            inflate_whole(&file, a.len() + b.len()),
            Some([a, b].concat())
        );
    }

    #[test]
    fn a_header_checksum_is_left_to_the_stream() {
        let t = text(100, 7);
        let mut file = gz(&t);
        // FHCRC, and the header's CRC16 after the 10-byte header.
        file[3] |= 0x02;
        let crc = crc32(&file[..10]);
        file.splice(10..10, (crc as u16).to_le_bytes());
        assert_eq!(inflate_whole(&file, WHOLE_TEXT), None);
        assert_eq!(streamed(&file), Ok(t));
    }

    fn crc32(b: &[u8]) -> u32 {
        let mut c = flate2::Crc::new();
        c.update(b);
        c.sum()
    }

    #[test]
    fn anything_unusual_is_left_to_the_stream() {
        let t = text(4000, 4);
        let good = gz(&t);
        // Over the cap, even by one byte.
        assert_eq!(inflate_whole(&good, t.len() - 1), None);
        assert_eq!(inflate_whole(&good, t.len()), Some(t.clone()));
        // Cut anywhere: never a partial answer from here.
        for cut in [1, 2, 10, good.len() / 2, good.len() - 5, good.len() - 1] {
            assert_eq!(
                inflate_whole(&good[..cut], WHOLE_TEXT),
                None,
                "cut at {cut}"
            );
        }
        // A flipped bit in the data or the checksum.
        for at in [good.len() / 2, good.len() - 6] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert_eq!(inflate_whole(&bad, WHOLE_TEXT), None, "flip at {at}");
            assert!(streamed(&bad).is_err() || streamed(&bad) != Ok(t.clone()));
        }
        // Trailing bytes that are neither a member nor zeros.
        let mut trailing = good.clone();
        trailing.extend(b"\0\0junk\0\0\0\0");
        assert_eq!(inflate_whole(&trailing, WHOLE_TEXT), None);
        assert!(streamed(&trailing).is_err());
        // A second member larger than the cap allows.
        let mut two = good.clone();
        two.extend(gz(&t));
        assert_eq!(inflate_whole(&two, 2 * t.len() - 1), None);
        assert_eq!(
            inflate_whole(&two, 2 * t.len()),
            Some([t.clone(), t].concat())
        );
    }

    /// A gzip file of a few megabytes is mapped, and one cut by another
    /// process before it is inflated is neither inflated whole (the streaming
    /// reader then reports it) nor a crash, and is flagged as truncated.
    #[cfg(unix)]
    #[test]
    fn a_mapped_gzip_file_cut_before_it_is_inflated_is_flagged() {
        use crate::source::{open_path, was_truncated, Bytes, Raw, MAP_THRESHOLD};
        let data = gz(&text(150_000, 8));
        assert!((MAP_THRESHOLD..=WHOLE_GZIP).contains(&(data.len() as u64)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.log.gz");
        std::fs::write(&path, &data).unwrap();
        let Ok(Raw::Bytes(bytes)) = open_path(&path) else {
            panic!("not opened as bytes");
        };
        assert!(matches!(bytes, Bytes::Mapped(_)));
        crate::mapguard::cut(&path, 4096);
        assert_eq!(inflate_whole(bytes.as_ref(), WHOLE_TEXT), None);
        assert!(was_truncated(&bytes));
    }
}
