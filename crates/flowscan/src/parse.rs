//! Splitting a line into tokens, and decoding a token into a value.
//!
//! Tokens are maximal runs of non-space bytes: a run of spaces is one separator, so
//! no field is ever empty (AWS's own examples contain double spaces). Nothing here
//! allocates; a [`Tokens`] buffer is reused for every line of a scan.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::schema::{Field, Kind, FIELD_COUNT, MAX_COLUMNS};

/// The most tokens stored per line; a line with more is malformed for every
/// schema, and only its count is kept.
pub const MAX_TOKENS: usize = MAX_COLUMNS + 1;

/// Token boundaries of one line, as byte offsets into the line.
///
/// Boundaries alternate start, end, start, end, so token `k` spans boundaries
/// `2k` and `2k + 1`; they are stored flat, without pairing them up, so that the
/// split writes one offset per boundary and takes no branch to do it.
///
/// [`split_lines`] stores less for the usual line, whose tokens are separated
/// by one space each: only where each token starts, each ending one byte
/// before the next starts, and one position past the line's end closing the
/// last. That halves its stores; which of the two a line holds sets a shift,
/// so that reading a token takes no branch either.
#[derive(Clone, Debug)]
pub struct Tokens {
    bounds: [u32; ROOM],
    /// Boundaries seen (may exceed what is stored).
    n: usize,
    /// Whether `bounds` holds starts and ends (or starts only).
    ends: bool,
}

/// Boundaries stored: two per kept token, and one spare slot that absorbs the
/// writes past the end on lines with too many tokens.
const BOUNDS: usize = 2 * MAX_TOKENS + 1;
/// Room after the stored boundaries for the unconditional writes of
/// [`Tokens::flatten`] (eight at a time) and of `flatten_avx512` (sixteen),
/// of which only the first `count` are kept.
const SLACK: usize = 16;
/// The array's length: more than the stored boundaries and their slack, so
/// that any column index below 256 reads inside it, start and end, and
/// reading a token needs no bounds check.
const ROOM: usize = 512;
const _: () = assert!(BOUNDS + SLACK <= ROOM);

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            bounds: [0; ROOM],
            n: 0,
            ends: true,
        }
    }
}

impl Tokens {
    /// Number of tokens on the line (may exceed [`MAX_TOKENS`]; only that many are kept).
    #[inline]
    pub fn len(&self) -> usize {
        self.n >> usize::from(self.ends)
    }

    /// Whether the line had no token (blank).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The `i`-th token of `line` (`i` below both [`len`](Self::len) and
    /// [`MAX_TOKENS`]).
    #[inline]
    pub fn get<'a>(&self, line: &'a [u8], i: usize) -> &'a [u8] {
        let (start, end) = self.span(i);
        &line[start..end]
    }

    /// Where the `i`-th token starts and ends in its line (as [`get`](Self::get)).
    #[inline]
    pub(crate) fn span(&self, i: usize) -> (usize, usize) {
        let k = i << usize::from(self.ends);
        // One byte between tokens when only starts are held.
        let end = self.bounds[k + 1] - u32::from(!self.ends);
        (self.bounds[k] as usize, end as usize)
    }

    #[inline(always)]
    fn at(&mut self, pos: usize) {
        self.bounds[self.n.min(BOUNDS - 1)] = pos as u32;
        self.n += 1;
    }

    /// Appends the boundaries whose bits are set in `edges`, each at `base` plus
    /// its bit index. Writes eight positions at a time without testing whether
    /// each exists, then keeps as many as there are bits: the usual stretch
    /// of a flow log line between two newlines or block ends has up to about
    /// sixteen boundaries, so this takes one or two rounds and no branch per
    /// boundary.
    #[inline(always)]
    fn flatten(&mut self, base: u32, mut edges: u64) {
        let count = edges.count_ones() as usize;
        let n = self.n;
        if n + count >= BOUNDS {
            // Near or past the end of the stored boundaries: one at a time.
            while edges != 0 {
                self.at(base.wrapping_add(edges.trailing_zeros()) as usize);
                edges &= edges - 1;
            }
            return;
        }
        let mut k = n;
        while k < n + count {
            // In bounds: k < BOUNDS, and SLACK covers the seven past it.
            let b = &mut self.bounds[k..k + 8];
            for slot in b {
                *slot = base.wrapping_add(edges.trailing_zeros());
                edges &= edges.wrapping_sub(1);
            }
            k += 8;
        }
        self.n = n + count;
    }

    /// Splits `line` (without its newline; a trailing `\r` is ignored) into tokens.
    ///
    /// This is the hot token split, measured against the nom combinator version
    /// ([`record_tokens`]) in `benches/kernels.rs`: it is the one used because it
    /// is several times faster. It tests sixteen bytes at a time for spaces (SSE2
    /// on x86_64, SWAR words elsewhere), giving a bit mask per block; a boundary
    /// is a byte whose space-ness differs from the byte before, so the cost is a
    /// few operations per block plus one store per boundary, with no branch per
    /// byte to mispredict at every field edge.
    #[inline]
    pub fn split(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let n = line.len();
        self.n = 0;
        self.ends = true;
        // Whether the byte before the current block was a space; the line starts
        // as if after one.
        let mut prev_space = true;
        let mut i = 0;
        while i + 16 <= n {
            let block: &[u8; 16] = line[i..i + 16].try_into().expect("16 bytes");
            let space = space_bits16(block);
            let before = (space << 1) | prev_space as u32;
            let mut edges = (space ^ before) & 0xffff;
            while edges != 0 {
                self.at(i + edges.trailing_zeros() as usize);
                edges &= edges - 1;
            }
            prev_space = space & 0x8000 != 0;
            i += 16;
        }
        if i + 8 <= n {
            let word = u64::from_le_bytes(line[i..i + 8].try_into().expect("8 bytes"));
            let space = space_bits(word);
            let before = (space << 1) | prev_space as u64;
            let mut edges = (space ^ before) & 0xff;
            while edges != 0 {
                self.at(i + edges.trailing_zeros() as usize);
                edges &= edges - 1;
            }
            prev_space = space & 0x80 != 0;
            i += 8;
        }
        while i < n {
            let space = is_sep(line[i]);
            if space != prev_space {
                self.at(i);
            }
            prev_space = space;
            i += 1;
        }
        if self.n % 2 == 1 {
            self.at(n);
        }
    }
}

/// Splits every line of `buf` into tokens in one pass and calls `f` with each
/// line (without its newline and trailing `\r`) and its tokens; the last line
/// may lack its newline. Stops when `f` returns false, and then returns false.
///
/// The result for each line is exactly [`Tokens::split`]'s; doing it in one pass
/// over the buffer finds newlines in the same 64-byte blocks as spaces (no
/// separate newline search) and has no per-line tail to handle byte by byte.
#[inline]
pub fn split_lines(buf: &[u8], tokens: &mut Tokens, f: impl FnMut(&[u8], &Tokens) -> bool) -> bool {
    dispatch(Kernel::best(), buf, tokens, f)
}

/// The instruction sets [`split_lines`] is compiled for; it takes the best
/// this CPU has. Each is tested against [`Tokens::split`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernel {
    /// Sixteen bytes at a time (SSE2 on x86_64, SWAR words elsewhere).
    Portable,
    /// AVX2 masks, with BMI1, BMI2 and POPCNT (x86_64).
    Avx2,
    /// AVX-512 masks, and token starts unpacked sixteen at a time with
    /// VBMI2's byte compress (x86_64).
    Avx512,
}

impl Kernel {
    /// Every kernel, slowest first.
    const ALL: [Kernel; 3] = [Kernel::Portable, Kernel::Avx2, Kernel::Avx512];

    /// The fastest kernel this CPU runs.
    #[inline]
    pub fn best() -> Kernel {
        Kernel::ALL
            .into_iter()
            .rev()
            .find(|k| k.runs())
            .unwrap_or(Kernel::Portable)
    }

    /// Every kernel this CPU runs, slowest first.
    pub fn all() -> Vec<Kernel> {
        Kernel::ALL.into_iter().filter(|k| k.runs()).collect()
    }

    /// Whether this CPU has the kernel's instructions (each checked once per
    /// process; the answer is cached).
    #[inline]
    pub fn runs(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            let avx2 = || has!("avx2") && has!("bmi1") && has!("bmi2") && has!("popcnt");
            match self {
                Kernel::Portable => true,
                Kernel::Avx2 => avx2(),
                Kernel::Avx512 => {
                    avx2() && has!("avx512f") && has!("avx512bw") && has!("avx512vbmi2")
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Kernel::Portable
        }
    }
}

/// [`split_lines`] with a given kernel (to compare them); one the CPU does
/// not run (not in [`Kernel::all`]) is replaced by the best it does.
#[inline]
pub fn split_lines_by(
    kernel: Kernel,
    buf: &[u8],
    tokens: &mut Tokens,
    f: impl FnMut(&[u8], &Tokens) -> bool,
) -> bool {
    let kernel = if kernel.runs() {
        kernel
    } else {
        Kernel::best()
    };
    dispatch(kernel, buf, tokens, f)
}

/// Runs a kernel the CPU runs ([`Kernel::runs`] said so).
#[inline]
fn dispatch(
    kernel: Kernel,
    buf: &[u8],
    tokens: &mut Tokens,
    f: impl FnMut(&[u8], &Tokens) -> bool,
) -> bool {
    match kernel {
        // SAFETY: the caller checked that the CPU has these kernels'
        // instructions.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { split_lines_avx2(buf, tokens, f) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { split_lines_avx512(buf, tokens, f) },
        _ => split_lines_with(buf, tokens, f, space_newline_bits64, Tokens::flatten),
    }
}

/// [`split_lines`] compiled for AVX2, the line's consumer included, with the
/// bit instructions every AVX2 processor also has: without them, each count
/// of a mask's bits took a dozen instructions and each lowest bit cleared
/// two (the split took 31 % fewer instructions with them).
///
/// # Safety
/// The CPU must have AVX2, BMI1, BMI2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
unsafe fn split_lines_avx2(
    buf: &[u8],
    tokens: &mut Tokens,
    f: impl FnMut(&[u8], &Tokens) -> bool,
) -> bool {
    split_lines_with(
        buf,
        tokens,
        f,
        |b| space_newline_bits64_avx2(b),
        Tokens::flatten,
    )
}

/// [`split_lines`] compiled for AVX-512: one compare per byte class gives a
/// block's mask, and the token starts are unpacked sixteen at a time
/// instead of one bit scan each (the bit scans were a third of the split's
/// instructions).
///
/// # Safety
/// The CPU must have AVX2, BMI1, BMI2, POPCNT, AVX-512F, AVX-512BW and
/// AVX-512VBMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt,avx512f,avx512bw,avx512vbmi2")]
unsafe fn split_lines_avx512(
    buf: &[u8],
    tokens: &mut Tokens,
    f: impl FnMut(&[u8], &Tokens) -> bool,
) -> bool {
    split_lines_with(
        buf,
        tokens,
        f,
        |b| space_newline_bits64_avx512(b),
        |t, base, edges| flatten_avx512(t, base, edges),
    )
}

/// The one-pass split, with the space and newline bits of a 64-byte block
/// found by `bits64`, and token starts stored by `flat` (as
/// [`Tokens::flatten`]).
#[inline(always)]
fn split_lines_with(
    buf: &[u8],
    tokens: &mut Tokens,
    mut f: impl FnMut(&[u8], &Tokens) -> bool,
    bits64: impl Fn(&[u8; 64]) -> (u64, u64),
    flat: impl Fn(&mut Tokens, u32, u64),
) -> bool {
    let n = buf.len();
    let mut at = LineCursor {
        line_start: 0,
        prev_sep: true,
        odd: false,
    };
    tokens.n = 0;
    let mut i = 0;
    // Sixty-four bytes at a time (one mask word), then sixteen, then bytes.
    while i + 64 <= n {
        prefetch(buf, i + PREFETCH);
        let block: &[u8; 64] = buf[i..i + 64].try_into().expect("64 bytes");
        let (space, nl) = bits64(block);
        if !at.block::<64>(buf, i, (space, nl), tokens, &flat, &mut f) {
            return false;
        }
        i += 64;
    }
    while i + 16 <= n {
        let block: &[u8; 16] = buf[i..i + 16].try_into().expect("16 bytes");
        let (space, nl) = space_newline_bits16(block);
        let bits = (space as u64, nl as u64);
        if !at.block::<16>(buf, i, bits, tokens, &Tokens::flatten, &mut f) {
            return false;
        }
        i += 16;
    }
    let LineCursor {
        mut line_start,
        mut prev_sep,
        mut odd,
    } = at;
    while i < n {
        let c = buf[i];
        let space = is_sep(c);
        let sep = space || c == b'\n';
        if !sep && prev_sep {
            tokens.at(i - line_start);
        }
        odd |= space && prev_sep;
        if c == b'\n' {
            if !finish_line(&buf[line_start..i], odd, tokens, &mut f) {
                return false;
            }
            line_start = i + 1;
            odd = false;
        }
        prev_sep = sep;
        i += 1;
    }
    if line_start < n {
        return finish_line(&buf[line_start..], odd, tokens, &mut f);
    }
    true
}

/// How far ahead of the block being read a scan of a buffer prefetches.
pub(crate) const PREFETCH: usize = 4096;

/// Asks for the cache line of `items[at]` (if there is one) to be fetched.
/// The hardware prefetcher stops at page ends, and a mapped file is in 4 KiB
/// pages: fetched [`PREFETCH`] bytes ahead, the next page is in cache when a
/// scan reaches it. Lookups in large tables use it too, for the line a key
/// will be looked up in once the rest of its record is decoded.
#[inline(always)]
pub(crate) fn prefetch<T>(items: &[T], at: usize) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    if let Some(ahead) = items.get(at) {
        // SAFETY: SSE is part of every x86_64 target; a prefetch of a valid
        // address has no effect on memory.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(ahead).cast::<i8>());
        }
    }
}

/// Where [`split_lines`] is: the start of the current line, whether the
/// byte before the next block separates tokens (a space or a newline), and
/// whether a block the line touches has a separator after a separator (two
/// in a row, or one at a line's start).
struct LineCursor {
    line_start: usize,
    prev_sep: bool,
    odd: bool,
}

impl LineCursor {
    /// Takes the `W` bytes at `i` given their space and newline bits: the
    /// token starts up to each newline belong to the line it ends, the rest to
    /// the line that goes on past the block.
    #[inline(always)]
    fn block<const W: u32>(
        &mut self,
        buf: &[u8],
        i: usize,
        (space, mut nl): (u64, u64),
        tokens: &mut Tokens,
        flat: &impl Fn(&mut Tokens, u32, u64),
        f: &mut impl FnMut(&[u8], &Tokens) -> bool,
    ) -> bool {
        let sep = space | nl;
        let width = if W == 64 { u64::MAX } else { (1u64 << W) - 1 };
        let after_sep = (sep << 1) | self.prev_sep as u64;
        let mut starts = !sep & after_sep & width;
        // Marks every line this block touches, not just the one with the
        // separators: such lines are rare, and this keeps the test per block.
        let odd = space & after_sep != 0;
        self.odd |= odd;
        while nl != 0 {
            // Every bit up to and including the lowest newline.
            let upto = nl ^ (nl - 1);
            flat(
                tokens,
                (i as u32).wrapping_sub(self.line_start as u32),
                starts & upto,
            );
            starts &= !upto;
            let p = i + nl.trailing_zeros() as usize;
            if !finish_line(&buf[self.line_start..p], self.odd, tokens, f) {
                return false;
            }
            self.line_start = p + 1;
            self.odd = odd;
            nl &= nl - 1;
        }
        if starts != 0 {
            // `i - line_start` may be negative here (the line began inside this
            // block); the wrapping sum gives the right offset.
            flat(
                tokens,
                (i as u32).wrapping_sub(self.line_start as u32),
                starts,
            );
        }
        self.prev_sep = (sep >> (W - 1)) & 1 != 0;
        true
    }
}

/// Hands a line to `f`, with a trailing `\r` removed as [`Tokens::split`]
/// does, given the starts of its tokens in `tokens`. A line with one
/// separator between tokens and none around them keeps the starts alone: it
/// is not `odd` (no separator after a separator, so none at its start) and
/// it ends in a token.
#[inline(always)]
fn finish_line(
    raw: &[u8],
    odd: bool,
    tokens: &mut Tokens,
    f: &mut impl FnMut(&[u8], &Tokens) -> bool,
) -> bool {
    let usual = !odd && raw.last().is_some_and(|&b| !is_sep(b) && b != b'\r');
    let line = if usual {
        tokens.close_starts(raw.len());
        raw
    } else {
        tokens.finish_unusual(raw, odd)
    };
    let go = f(line, tokens);
    tokens.n = 0;
    go
}

impl Tokens {
    /// Closes a line of starts alone, `len` bytes long, after its last token.
    #[inline(always)]
    fn close_starts(&mut self, len: usize) {
        self.bounds[self.n.min(BOUNDS - 1)] = len as u32 + 1;
        self.ends = false;
    }

    /// [`finish_line`]'s other lines: one that ends in `\r` after a token
    /// keeps its starts, any other is split again, with ends, by
    /// [`Tokens::split`] (a `\r` after a separator, or alone, is a token
    /// that stripping it empties). Returns the line without its `\r`.
    #[inline(never)]
    fn finish_unusual<'a>(&mut self, raw: &'a [u8], odd: bool) -> &'a [u8] {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !odd && line.len() < raw.len() && line.last().is_some_and(|&b| !is_sep(b)) {
            self.close_starts(line.len());
        } else {
            self.split(raw);
        }
        line
    }
}

/// Space and newline bits of a 64-byte block.
#[inline(always)]
fn space_newline_bits64(block: &[u8; 64]) -> (u64, u64) {
    let mut space = 0;
    let mut nl = 0;
    for (k, part) in block.chunks_exact(16).enumerate() {
        let (s, n) = space_newline_bits16(part.try_into().expect("16 bytes"));
        space |= (s as u64) << (16 * k);
        nl |= (n as u64) << (16 * k);
    }
    (space, nl)
}

/// Space and newline bits of a 64-byte block, with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn space_newline_bits64_avx2(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let half = |v: __m256i| {
        let sp = _mm256_or_si256(
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b' ' as i8)),
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\t' as i8)),
        );
        let nl = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8));
        (
            _mm256_movemask_epi8(sp) as u32 as u64,
            _mm256_movemask_epi8(nl) as u32 as u64,
        )
    };
    // SAFETY: both 32-byte unaligned loads are inside the 64-byte block.
    let (lo, hi) = unsafe {
        let p = block.as_ptr().cast::<__m256i>();
        (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
    };
    let (s0, n0) = half(lo);
    let (s1, n1) = half(hi);
    (s0 | s1 << 32, n0 | n1 << 32)
}

/// Space and newline bits of a 64-byte block, with AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn space_newline_bits64_avx512(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{_mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_set1_epi8};
    // SAFETY: the 64-byte unaligned load is the block.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    let eq = |b: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b as i8));
    (eq(b' ') | eq(b'\t'), eq(b'\n'))
}

/// [`Tokens::flatten`] with AVX-512VBMI2: the bit indexes of `edges` are
/// compressed into bytes, in order, and sixteen at a time widened, offset
/// by `base` and stored. A block has at most 32 token starts, and the usual
/// stretch of a line up to sixteen, so this is one round without a branch
/// per start.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
#[inline]
fn flatten_avx512(t: &mut Tokens, base: u32, edges: u64) {
    use std::arch::x86_64::{
        __m128i, _mm512_add_epi32, _mm512_castsi512_si128, _mm512_cvtepu8_epi32,
        _mm512_extracti32x4_epi32, _mm512_loadu_si512, _mm512_maskz_compress_epi8,
        _mm512_set1_epi32, _mm512_storeu_si512,
    };
    const IOTA: [u8; 64] = {
        let mut a = [0; 64];
        let mut k = 0;
        while k < 64 {
            a[k] = k as u8;
            k += 1;
        }
        a
    };
    let count = edges.count_ones() as usize;
    let n = t.n;
    if n + count >= BOUNDS {
        return t.flatten(base, edges);
    }
    // SAFETY: the load is of IOTA's 64 bytes.
    let iota = unsafe { _mm512_loadu_si512(IOTA.as_ptr().cast()) };
    let packed = _mm512_maskz_compress_epi8(edges, iota);
    let base = _mm512_set1_epi32(base as i32);
    let bounds = &mut t.bounds;
    let mut store = |at: usize, idx: __m128i| {
        let slots = &mut bounds[at..at + 16];
        // SAFETY: the store is of the sixteen slots just bounds-checked.
        unsafe {
            _mm512_storeu_si512(
                slots.as_mut_ptr().cast(),
                _mm512_add_epi32(_mm512_cvtepu8_epi32(idx), base),
            );
        }
    };
    // Rounds up to `count` + 15 < BOUNDS + SLACK: in the array.
    store(n, _mm512_castsi512_si128(packed));
    if count > 16 {
        store(n + 16, _mm512_extracti32x4_epi32::<1>(packed));
    }
    if count > 32 {
        store(n + 32, _mm512_extracti32x4_epi32::<2>(packed));
    }
    if count > 48 {
        store(n + 48, _mm512_extracti32x4_epi32::<3>(packed));
    }
    t.n = n + count;
}

/// Space and newline bits of a 16-byte block.
#[inline(always)]
fn space_newline_bits16(block: &[u8; 16]) -> (u32, u32) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
        };
        let lo = i64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        let hi = i64::from_le_bytes(block[8..].try_into().expect("8 bytes"));
        // SAFETY: as in `space_bits16`: SSE2 only, no pointers.
        unsafe {
            let v = _mm_set_epi64x(hi, lo);
            let sp = _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\t' as i8)),
            );
            let nl = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8))) as u32;
            (_mm_movemask_epi8(sp) as u32, nl)
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let lo = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(block[8..].try_into().expect("8 bytes"));
        let nl = |w: u64| byte_bits(w, b'\n');
        (
            (space_bits(lo) | space_bits(hi) << 8) as u32,
            (nl(lo) | nl(hi) << 8) as u32,
        )
    }
}

/// One bit per byte of a 16-byte block, set where the byte is a space.
#[inline(always)]
fn space_bits16(block: &[u8; 16]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
        };
        // Building the vector from two words keeps the load itself safe (the
        // compiler emits one unaligned 16-byte load).
        let lo = i64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        let hi = i64::from_le_bytes(block[8..].try_into().expect("8 bytes"));
        // SAFETY: these intrinsics need SSE2, which this code is compiled only
        // for (the cfg above; SSE2 is part of every x86_64 target), and they take
        // no pointers.
        unsafe {
            let v = _mm_set_epi64x(hi, lo);
            let sp = _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\t' as i8)),
            );
            _mm_movemask_epi8(sp) as u32
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let lo = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(block[8..].try_into().expect("8 bytes"));
        (space_bits(lo) | space_bits(hi) << 8) as u32
    }
}

/// One bit per byte of `word` (bit `k` for byte `k`, little-endian): set where the
/// byte is a separator (a space or a tab).
#[inline(always)]
fn space_bits(word: u64) -> u64 {
    byte_bits(word, b' ') | byte_bits(word, b'\t')
}

/// One bit per byte of `word`, set where the byte is `b`. Exact for every byte
/// value (no carries between bytes).
#[inline(always)]
fn byte_bits(word: u64, b: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (0x0101_0101_0101_0101 * b as u64);
    // High bit of each byte set iff that byte of x is zero.
    let zero = !(((x & LOW7) + LOW7) | x | LOW7);
    // Gather the eight high bits into the low byte.
    (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Whether a byte separates tokens: a space, or a tab (some tools convert
/// spaces to tabs; a line of only tabs is then blank, like one of spaces).
#[inline(always)]
fn is_sep(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The same token split written with nom combinators: `sep* (token (sep+ token)*)? sep*`,
/// where a separator is a space or a tab.
///
/// Kept as the reference the hand-written [`Tokens::split`] is tested and
/// benchmarked against.
pub fn record_tokens(line: &[u8]) -> nom::IResult<&[u8], Vec<&[u8]>> {
    use nom::bytes::complete::{take_till1, take_while, take_while1};
    use nom::multi::separated_list0;
    use nom::sequence::delimited;
    use nom::Parser;

    let line = line.strip_suffix(b"\r").unwrap_or(line);
    delimited(
        take_while(is_sep),
        separated_list0(take_while1(is_sep), take_till1(is_sep)),
        take_while(is_sep),
    )
    .parse(line)
}

/// Why a token did not decode as its field's type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem} `{text}`")]
pub struct ValueError {
    /// The field whose token failed.
    pub field: Field,
    /// What is wrong, for people.
    pub problem: &'static str,
    /// The token (lossy UTF-8, cut to 40 bytes).
    pub text: String,
}

impl ValueError {
    /// A value error for `field` about `token`.
    pub fn new(field: Field, problem: &'static str, token: &[u8]) -> ValueError {
        let cut = &token[..token.len().min(40)];
        ValueError {
            field,
            problem,
            text: String::from_utf8_lossy(cut).escape_debug().to_string(),
        }
    }
}

/// A text token as text: UTF-8 without control characters, so that it can be
/// printed (an escape sequence in a log line must not reach a terminal) and
/// compared as text. Every aggregate that keeps a text value checks it so.
#[inline]
pub fn decode_text(field: Field, token: &[u8]) -> Result<&str, ValueError> {
    let Ok(text) = std::str::from_utf8(token) else {
        return Err(ValueError::new(field, "invalid UTF-8 in", token));
    };
    if token.iter().any(|b| b.is_ascii_control()) {
        return Err(ValueError::new(field, "control character in", token));
    }
    Ok(text)
}

/// Whether a token is the missing-value marker `-`.
#[inline]
pub fn is_missing(token: &[u8]) -> bool {
    token == b"-"
}

/// Decodes an unsigned decimal integer; `None` if the token has a non-digit or
/// overflows `u64`.
#[inline]
pub fn parse_u64(token: &[u8]) -> Option<u64> {
    let n = token.len();
    if n == 0 || n > 20 {
        return None;
    }
    if (8..=16).contains(&n) {
        // The last eight digits at once (SWAR), the rest one by one: Unix
        // times have ten digits.
        let (head, tail) = token.split_at(n - 8);
        let low = eight_digits(tail.try_into().expect("8 bytes"))?;
        let mut v: u64 = 0;
        for &b in head {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
        }
        return Some(v * 100_000_000 + low);
    }
    let mut v: u64 = 0;
    if n < 20 {
        // 19 digits cannot overflow u64, so skip the checked arithmetic.
        for &b in token {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
        }
        Some(v)
    } else {
        for &b in token {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(d as u64)?;
        }
        Some(v)
    }
}

/// Eight ASCII digits as a number, or `None` if one is not a digit.
#[inline(always)]
fn eight_digits(b: &[u8; 8]) -> Option<u64> {
    let w = u64::from_le_bytes(*b).wrapping_sub(0x3030_3030_3030_3030);
    // Every byte must now be 0..=9: no high bit set before or after adding 118.
    if (w | w.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    Some(digit_word(w))
}

/// Start and end values at or above this are read as milliseconds: seconds this
/// large are after the year 5000, while 13-digit millisecond times (written by
/// some producers) are all above it.
pub const MILLIS_THRESHOLD: u64 = 100_000_000_000;

/// The largest value a field of the given kind may hold, as AWS types it in Parquet.
const fn max_value(field: Field) -> u64 {
    match field {
        Field::SrcPort | Field::DstPort => 65_535,
        Field::Protocol => 255,
        _ => match field.kind() {
            Kind::Int32 => i32::MAX as u64,
            _ => i64::MAX as u64,
        },
    }
}

/// [`max_value`] of every field, by its number: [`check_int`] runs for every
/// integer of every record, with the field known only at run time.
const MAX_VALUES: [u64; FIELD_COUNT] = {
    let mut t = [0; FIELD_COUNT];
    let mut i = 0;
    while i < FIELD_COUNT {
        t[i] = max_value(Field::ALL[i]);
        i += 1;
    }
    t
};

/// Decodes an integer field's token, checking its range; `Ok(None)` for `-`.
/// `start` and `end` in milliseconds are converted to seconds.
#[inline]
pub fn decode_int(field: Field, token: &[u8]) -> Result<Option<u64>, ValueError> {
    if is_missing(token) {
        return Ok(None);
    }
    let v = parse_u64(token).ok_or_else(|| {
        if token.first() == Some(&b'-') {
            ValueError::new(field, "negative number", token)
        } else if token.iter().all(u8::is_ascii_digit) {
            ValueError::new(field, "number out of range", token)
        } else {
            ValueError::new(field, "not a number", token)
        }
    })?;
    check_int(field, v).map(Some)
}

/// [`decode_int`] of the token `line[start..end]`.
///
/// A token of up to sixteen digits is read from the sixteen bytes that end
/// it in its line (when the line has that many bytes up to its end), those
/// before it taken as zeros: one path for every length, with no loop over
/// digits and no branch on the length (ports, protocol, packets and bytes
/// sit mid-line and vary in length; `start` and `end`, ten digits each, are
/// read for every record). It is inlined where fields are read, so that the
/// range check is against a constant. Anything else (`-`, numbers near the
/// line's start, longer numbers, errors) is read by a function apart, as
/// [`decode_int`] reads it.
#[inline(always)]
pub fn decode_int_at(
    field: Field,
    line: &[u8],
    start: usize,
    end: usize,
) -> Result<Option<u64>, ValueError> {
    let n = end.wrapping_sub(start);
    if n.wrapping_sub(1) < 16 {
        if let Some(bytes) = end.checked_sub(16).and_then(|s| line.get(s..end)) {
            // The token is the last `n` bytes: a mask read from a table (a
            // shift of 128 bits is a dozen instructions).
            let mask = TAIL_MASKS[n..n + 16].try_into().expect("16 bytes");
            if let Some(v) = tail_digits(bytes.try_into().expect("16 bytes"), mask) {
                return check_int(field, v).map(Some);
            }
        }
    }
    decode_int_near(field, line, start, end)
}

/// Sixteen zero bytes then sixteen 0xff: the sixteen from `n` mask the last
/// `n` bytes of a word.
static TAIL_MASKS: [u8; 32] = {
    let mut m = [0u8; 32];
    let mut i = 16;
    while i < 32 {
        m[i] = 0xff;
        i += 1;
    }
    m
};

/// [`decode_int_at`] for what its one path does not read: a token within
/// sixteen bytes of the line's start is read from one word if it has eight
/// digits or fewer and eight bytes precede its end (ports in short custom
/// formats); anything else as [`decode_int`] reads it.
#[inline(never)]
fn decode_int_near(
    field: Field,
    line: &[u8],
    start: usize,
    end: usize,
) -> Result<Option<u64>, ValueError> {
    let n = end.wrapping_sub(start);
    if (1..=8).contains(&n) && end >= 8 {
        let word = u64::from_le_bytes(line[end - 8..end].try_into().expect("8 bytes"));
        let mine = u64::MAX << (8 * (8 - n));
        let word = (word & mine) | (0x3030_3030_3030_3030 & !mine);
        if let Some(v) = eight_digits(&word.to_le_bytes()) {
            return check_int(field, v).map(Some);
        }
    }
    decode_int(field, &line[start..end])
}

/// The bytes of `bytes` that `mask` keeps (0xff; the others read as `0`),
/// as a number, or `None` if one is not an ASCII digit. With SSE2: one test
/// for all sixteen, and digits combined in pairs, quads and eights by three
/// multiply-adds of eight lanes, about half the instructions of the words.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn tail_digits(bytes: &[u8; 16], mask: &[u8; 16]) -> Option<u64> {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_madd_epi16,
        _mm_max_epu8, _mm_movemask_epi8, _mm_packs_epi32, _mm_set1_epi32, _mm_set1_epi8,
        _mm_setzero_si128, _mm_unpackhi_epi8, _mm_unpacklo_epi8, _mm_xor_si128,
    };
    // SAFETY: SSE2 is enabled for this build (the cfg above); each load reads
    // the sixteen bytes of a sixteen-byte array.
    let (ok, both) = unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().cast());
        let m = _mm_loadu_si128(mask.as_ptr().cast());
        // A byte is a digit when it is at most 9 once `0` is xored away.
        let d = _mm_and_si128(_mm_xor_si128(v, _mm_set1_epi8(b'0' as i8)), m);
        let nine = _mm_set1_epi8(9);
        let ok = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine)) == 0xffff;
        // Lanes of 16 bits times (10, 1), then (100, 1), then (10000, 1):
        // each multiply-add joins neighbours, the most significant first.
        let zero = _mm_setzero_si128();
        let tens = _mm_set1_epi32(0x0001_000a);
        let pairs = _mm_packs_epi32(
            _mm_madd_epi16(_mm_unpacklo_epi8(d, zero), tens),
            _mm_madd_epi16(_mm_unpackhi_epi8(d, zero), tens),
        );
        let quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x0001_0064));
        let eights = _mm_madd_epi16(_mm_packs_epi32(quads, quads), _mm_set1_epi32(0x0001_2710));
        (ok, _mm_cvtsi128_si64(eights) as u64)
    };
    ok.then(|| (both & 0xffff_ffff) * 100_000_000 + (both >> 32))
}

/// [`tail_digits`] in words, where SSE2 is not there (and in tests, as the
/// reference for the SSE2 version).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn tail_digits_words(bytes: &[u8; 16], mask: &[u8; 16]) -> Option<u64> {
    let zeros = u128::from_le_bytes([b'0'; 16]);
    let word = u128::from_le_bytes(*bytes);
    let word = ((word ^ zeros) & u128::from_le_bytes(*mask)) ^ zeros;
    let high = eight_digits(&(word as u64).to_le_bytes())?;
    Some(high * 100_000_000 + eight_digits(&((word >> 64) as u64).to_le_bytes())?)
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn tail_digits(bytes: &[u8; 16], mask: &[u8; 16]) -> Option<u64> {
    tail_digits_words(bytes, mask)
}

/// Up to 16 lowercase hex digits as a number, or `None` if a byte is not one
/// (interface ids are `eni-` and 17 of them).
#[inline]
pub(crate) fn hex_digits(digits: &[u8]) -> Option<u64> {
    if let Ok(sixteen) = <&[u8; 16]>::try_from(digits) {
        return sixteen_hex(sixteen);
    }
    hex_bytes(digits)
}

/// [`hex_digits`] a byte at a time: for other lengths, on processors without
/// SSE2, and in tests as the reference for [`sixteen_hex`].
#[inline(always)]
fn hex_bytes(digits: &[u8]) -> Option<u64> {
    debug_assert!(digits.len() <= 16);
    let mut value = 0u64;
    let mut bad = 0;
    for &b in digits {
        let d = HEX[usize::from(b)];
        bad |= d;
        value = value << 4 | u64::from(d & 15);
    }
    (bad < 16).then_some(value)
}

/// Each byte's value as a lowercase hex digit, 255 if it is not one.
const HEX: [u8; 256] = {
    let mut t = [255; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    while i < 16 {
        t[b'a' as usize + i - 10] = i as u8;
        i += 1;
    }
    t
};

/// Sixteen lowercase hex digits as a number: checked in two comparisons, and
/// joined into bytes and packed in four instructions. A byte at a time, the
/// digits of every REJECT record's interface id took about 160 instructions.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn sixteen_hex(digits: &[u8; 16]) -> Option<u64> {
    use std::arch::x86_64::{
        _mm_add_epi8, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si64,
        _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_packus_epi16,
        _mm_set1_epi16, _mm_set1_epi8, _mm_slli_epi16, _mm_srli_epi16, _mm_sub_epi8, _mm_xor_si128,
    };
    // SAFETY: SSE2 is enabled for this build (the cfg above); the load reads
    // the sixteen bytes of a sixteen-byte array.
    let (ok, word) = unsafe {
        let v = _mm_loadu_si128(digits.as_ptr().cast());
        // A digit is at most 9 once `0` is xored away; a letter at most 5
        // once `a` is taken away (bytes below `a` wrap past 5).
        let d = _mm_xor_si128(v, _mm_set1_epi8(b'0' as i8));
        let l = _mm_sub_epi8(v, _mm_set1_epi8(b'a' as i8));
        let (nine, five) = (_mm_set1_epi8(9), _mm_set1_epi8(5));
        let is_digit = _mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine);
        let is_letter = _mm_cmpeq_epi8(_mm_max_epu8(l, five), five);
        let ok = _mm_movemask_epi8(_mm_or_si128(is_digit, is_letter)) == 0xffff;
        let nibbles = _mm_or_si128(
            _mm_and_si128(is_digit, d),
            _mm_andnot_si128(is_digit, _mm_add_epi8(l, _mm_set1_epi8(10))),
        );
        // Lanes of 16 bits hold two nibbles, the more significant low: one
        // byte `hi << 4 | lo` each, then the eight bytes packed together.
        let bytes = _mm_and_si128(
            _mm_or_si128(_mm_slli_epi16(nibbles, 4), _mm_srli_epi16(nibbles, 8)),
            _mm_set1_epi16(0x00ff),
        );
        (ok, _mm_cvtsi128_si64(_mm_packus_epi16(bytes, bytes)) as u64)
    };
    // The first digit is the most significant, and it is in the low byte.
    ok.then(|| word.swap_bytes())
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn sixteen_hex(digits: &[u8; 16]) -> Option<u64> {
    hex_bytes(digits)
}

/// Eight digit values (0 to 9, one a byte, the most significant in the low
/// byte) as a number: neighbours combined, then pairs, then quads.
#[inline(always)]
fn digit_word(w: u64) -> u64 {
    let w = (w.wrapping_mul(10) + (w >> 8)) & 0x00ff_00ff_00ff_00ff;
    let w = (w.wrapping_mul(100) + (w >> 16)) & 0x0000_ffff_0000_ffff;
    (w.wrapping_mul(10_000) + (w >> 32)) & 0xffff_ffff
}

/// Checks an integer against its field's range; converts millisecond times.
#[inline]
pub fn check_int(field: Field, v: u64) -> Result<u64, ValueError> {
    if v > MAX_VALUES[field as usize] {
        return Err(out_of_range(field, v));
    }
    if matches!(field, Field::Start | Field::End) && v >= MILLIS_THRESHOLD {
        return Ok(v / 1000);
    }
    Ok(v)
}

/// The error of a number too large for its field: apart, so that the check
/// itself inlines where every integer is read.
#[cold]
#[inline(never)]
fn out_of_range(field: Field, v: u64) -> ValueError {
    ValueError::new(field, "number out of range", v.to_string().as_bytes())
}

/// Decodes an address token; `Ok(None)` for `-`.
#[inline]
pub fn decode_addr(field: Field, token: &[u8]) -> Result<Option<IpAddr>, ValueError> {
    if is_missing(token) {
        return Ok(None);
    }
    if let Some(v4) = parse_ipv4(token) {
        return Ok(Some(IpAddr::V4(v4)));
    }
    if token.contains(&b':') {
        if let Some(v6) = parse_ipv6(token).or_else(|| {
            std::str::from_utf8(token)
                .ok()
                .and_then(|s| s.parse::<Ipv6Addr>().ok())
        }) {
            // An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is that IPv4
            // address: filters and network roll-ups treat it as one.
            return Ok(Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }));
        }
    }
    Err(ValueError::new(field, "not an IP address", token))
}

/// An address as [`decode_addr`] gives it: an IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.44`) is its IPv4 address. Query constants and flags are
/// given the same form, or they would never match the records.
pub fn canonical_addr(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

/// A network as records' addresses are compared with it: one inside
/// `::ffff:0:0/96` (prefix 96 or longer) is the IPv4 network it maps, as
/// the addresses in it are read as IPv4 (see [`canonical_addr`]).
pub fn canonical_net(n: ipnetwork::IpNetwork) -> ipnetwork::IpNetwork {
    match (canonical_addr(n.network()), n.prefix()) {
        (IpAddr::V4(v4), p) if n.is_ipv6() && p >= 96 => {
            ipnetwork::IpNetwork::new(IpAddr::V4(v4), p - 96).unwrap_or(n)
        }
        _ => n,
    }
}

/// Parses IPv6 in the forms flow logs write (groups of one to four hex
/// digits, at most one `::`) without going through `str`; `None` for
/// anything else, which the caller hands to the standard library (an
/// IPv4 address at the end, `::ffff:1.2.3.4`, and every invalid token).
///
/// Where it returns an address, it is the standard library's. The library
/// checks UTF-8 first and tries an IPv4 address at every group, which made
/// IPv6 the costliest field of a dual-stack log (docs/performance.md).
pub fn parse_ipv6(token: &[u8]) -> Option<Ipv6Addr> {
    // Eight groups of four digits and seven colons; longer text holds a
    // dotted quad, or is not an address.
    if !(2..=39).contains(&token.len()) {
        return None;
    }
    let mut groups = [0u16; 8];
    let mut n = 0;
    // Where `::` is: the index of the group after it.
    let mut gap = None;
    let mut i = 0;
    if token.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    while i < token.len() {
        let first = i;
        let mut v = 0u16;
        while i < token.len() && i - first < 4 {
            let d = HEX_EITHER_CASE[token[i] as usize];
            if d > 15 {
                break;
            }
            v = v << 4 | u16::from(d);
            i += 1;
        }
        if i == first || n == 8 {
            return None;
        }
        groups[n] = v;
        n += 1;
        match &token[i..] {
            [] => break,
            [b':', b':', rest @ ..] if gap.is_none() => {
                gap = Some(n);
                i += 2;
                if rest.is_empty() {
                    break;
                }
            }
            [b':', _, ..] => i += 1,
            _ => return None,
        }
    }
    match gap {
        None if n == 8 => {}
        // `::` stands for one group of zeros or more.
        Some(g) if n < 8 => {
            groups.copy_within(g..n, g + 8 - n);
            groups[g..g + 8 - n].fill(0);
        }
        _ => return None,
    }
    Some(Ipv6Addr::from(groups))
}

/// Each byte's value as a hex digit of either case (IPv6 groups may be
/// written in capitals), 0xff if it is not one.
const HEX_EITHER_CASE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 0xff,
        };
        c += 1;
    }
    t
};

/// Parses dotted-quad IPv4 without going through `str`, refusing leading zeros
/// (as the standard library does) so that one address has one spelling.
///
/// Every REJECT record has two addresses, of 7 to 15 bytes in octets of 1 to
/// 3 digits: a loop over the bytes mispredicted its branches at each octet's
/// end. The token is read as one 16-byte word instead: with SSSE3, its digits
/// are moved into place by one shuffle chosen by the octets' lengths and
/// joined by two multiply-adds (about 95 instructions with the call);
/// without, in words (about 240).
#[inline]
pub fn parse_ipv4(token: &[u8]) -> Option<Ipv4Addr> {
    let n = token.len();
    if !(7..=15).contains(&n) {
        return None;
    }
    let (lo, hi) = token_words(token);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") && std::arch::is_x86_feature_detected!("popcnt")
    {
        // SAFETY: the CPU has both (checked just above).
        return unsafe { ipv4_ssse3(lo, hi, n as u32) };
    }
    ipv4_words(lo, hi, n as u32)
}

/// A token of 7 to 15 bytes as two little-endian words, zeros past its end:
/// two overlapping loads, the second shifted down so that the bytes both
/// hold meet at the same places.
#[inline(always)]
fn token_words(token: &[u8]) -> (u64, u64) {
    let n = token.len();
    debug_assert!((7..=15).contains(&n));
    let word = |at: usize| u64::from_le_bytes(token[at..at + 8].try_into().expect("8 bytes"));
    if n >= 8 {
        // Nothing past byte 8 when there are 8 (a shift by 64 is no shift).
        (
            word(0),
            word(n - 8).checked_shr(8 * (16 - n as u32)).unwrap_or(0),
        )
    } else {
        let half = |at: usize| u32::from_le_bytes(token[at..at + 4].try_into().expect("4 bytes"));
        (
            u64::from(half(0)) | u64::from(half(n - 4)) << (8 * (n - 4)),
            0,
        )
    }
}

/// Whether `lo` and `hi` hold a token of 7 to 15 bytes as [`token_words`]
/// puts it: zeros past its `n` bytes.
fn padded(lo: u64, hi: u64, n: u32) -> bool {
    (7..=15).contains(&n) && (u128::from(hi) << 64 | u128::from(lo)) >> (8 * n) == 0
}

/// For each combination of octet lengths (1 to 3 digits each; the index is
/// `27 (l1 - 1) + 9 (l2 - 1) + 3 (l3 - 1) + l4 - 1`), where each byte of the
/// shuffled word comes from: octet `k`'s hundreds, tens and units digits in
/// bytes `4k` to `4k + 2`, and `0x80` (a zero) where it has no such digit and
/// in byte `4k + 3`.
#[cfg(target_arch = "x86_64")]
const IPV4_SHUFFLES: [[u8; 16]; 81] = {
    let mut t = [[0x80u8; 16]; 81];
    let mut i = 0;
    while i < 81 {
        let lens = [i / 27 + 1, i / 9 % 3 + 1, i / 3 % 3 + 1, i % 3 + 1];
        let (mut start, mut k) = (0, 0);
        while k < 4 {
            let end = start + lens[k];
            let mut j = 0;
            while j < lens[k] {
                t[i][4 * k + 2 - j] = (end - 1 - j) as u8;
                j += 1;
            }
            start = end + 1;
            k += 1;
        }
        i += 1;
    }
    t
};

/// [`parse_ipv4`] with SSSE3: the masks of dots, digits and zeros, the
/// octets' lengths from the dots, one check of everything, then the digits
/// shuffled into four lanes of (hundreds, tens, units) and multiplied by
/// (100, 10, 1).
///
/// The token's `n` bytes are in `lo` and `hi` as [`token_words`] puts them,
/// zeros past them (a zero is neither a digit nor a dot).
///
/// # Safety
/// The CPU must have SSSE3 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3,popcnt")]
unsafe fn ipv4_ssse3(lo: u64, hi: u64, n: u32) -> Option<Ipv4Addr> {
    debug_assert!(padded(lo, hi, n));
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmpgt_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16,
        _mm_maddubs_epi16, _mm_max_epu8, _mm_movemask_epi8, _mm_packs_epi32, _mm_packus_epi16,
        _mm_set1_epi16, _mm_set1_epi32, _mm_set1_epi8, _mm_set_epi64x, _mm_shuffle_epi8,
        _mm_sub_epi8,
    };
    let v = _mm_set_epi64x(hi as i64, lo as i64);
    let mask = |c: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32;
    let (dots, zeros) = (mask(b'.'), mask(b'0'));
    // A digit is at most 9 once `0` is taken away; the zeros past the token
    // are not digits (they wrap past 9).
    let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
    let nine = _mm_set1_epi8(9);
    let digits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine)) as u32;
    let first = dots.trailing_zeros();
    let second = (dots & dots.wrapping_sub(1)).trailing_zeros();
    let third = 31u32.wrapping_sub(dots.leading_zeros());
    let lens = [
        first,
        second.wrapping_sub(first + 1),
        third.wrapping_sub(second + 1),
        n.wrapping_sub(third.wrapping_add(1)),
    ];
    // Every byte a digit or one of three dots; octets of 1 to 3 digits; no
    // octet's first digit a zero followed by another digit.
    let starts = 1 | dots << 1;
    let ok = ((dots | digits) == (1 << n) - 1)
        & (dots.count_ones() == 3)
        & lens.iter().all(|&l| l.wrapping_sub(1) < 3)
        & (zeros & starts & digits >> 1 == 0);
    if !ok {
        return None;
    }
    let index = 27 * (lens[0] - 1) + 9 * (lens[1] - 1) + 3 * (lens[2] - 1) + lens[3] - 1;
    // SAFETY (of the load): it reads the sixteen bytes of one table entry.
    let shuffle = unsafe { _mm_loadu_si128(IPV4_SHUFFLES[index as usize].as_ptr().cast()) };
    // Lanes of 32 bits: (hundreds, tens) and (units, 0) times (100, 10) and
    // (1, 0), then the two sums added.
    let octets = _mm_madd_epi16(
        _mm_maddubs_epi16(_mm_shuffle_epi8(d, shuffle), _mm_set1_epi32(0x0001_0a64)),
        _mm_set1_epi16(1),
    );
    if _mm_movemask_epi8(_mm_cmpgt_epi32(octets, _mm_set1_epi32(255))) != 0 {
        return None;
    }
    let bytes = _mm_packus_epi16(_mm_packs_epi32(octets, octets), octets);
    Some(Ipv4Addr::from(
        (_mm_cvtsi128_si32(bytes) as u32).to_le_bytes(),
    ))
}

/// [`parse_ipv4`] in words, where SSSE3 is not there (and in tests, as a
/// second reference): finds the three dots from a mask, reads each octet
/// from the four bytes before its end, and folds every check into one test
/// at the end. The token's `n` bytes are in `lo` and `hi` as
/// [`token_words`] puts them, zeros past them.
#[inline]
fn ipv4_words(lo: u64, hi: u64, n: u32) -> Option<Ipv4Addr> {
    debug_assert!(padded(lo, hi, n));
    let dots = (byte_bits(lo, b'.') | byte_bits(hi, b'.') << 8) as u32;
    let chars = (digit_bits(lo) | digit_bits(hi) << 8) as u32 | dots;
    let first = dots.trailing_zeros();
    let rest = dots & dots.wrapping_sub(1);
    let second = rest.trailing_zeros();
    let third = (rest & rest.wrapping_sub(1)).trailing_zeros();
    let w = u128::from(lo) | u128::from(hi) << 64;
    // The four bytes before each octet's end, the last byte the octet's last
    // digit; the first two octets end before byte 8, so they are read from
    // the word moved up four bytes (and nothing they need falls off its top).
    let up = w << 32;
    let lens = [
        first,
        second.wrapping_sub(first + 1),
        third.wrapping_sub(second + 1),
        n.wrapping_sub(third + 1),
    ];
    let windows = [
        up.wrapping_shr(8 * first) as u32,
        up.wrapping_shr(8 * second) as u32,
        w.wrapping_shr(third.wrapping_sub(4).wrapping_mul(8)) as u32,
        w.wrapping_shr(8 * (n - 4)) as u32,
    ];
    let mut ok = chars == (1 << n) - 1 && dots.count_ones() == 3;
    let mut octets = [0u8; 4];
    for k in 0..4 {
        let (value, good) = octet(windows[k], lens[k]);
        octets[k] = value as u8;
        ok &= good;
    }
    ok.then(|| Ipv4Addr::from(octets))
}

/// One bit per byte of `word`, set where the byte is an ASCII digit.
#[inline(always)]
fn digit_bits(word: u64) -> u64 {
    const LOW: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    // `3` in the high nibble, and a low nibble that does not carry past 15
    // when 6 is added (so at most 9); no byte carries into the next.
    let high = byte_bits(word & !LOW, 0x30);
    let over = ((word & LOW) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010;
    high & !((over >> 4).wrapping_mul(0x0102_0408_1020_4080) >> 56)
}

/// The value of the octet whose `len` digits end `window` (its high bytes),
/// and whether it is one: 1 to 3 digits, no leading zero, at most 255. The
/// bytes are known to be digits.
#[inline(always)]
fn octet(window: u32, len: u32) -> (u32, bool) {
    let len_ok = (1..=3).contains(&len);
    // Where the first digit is (a length out of range reads some byte; the
    // octet is refused for its length anyway).
    let first = 8 * (4 - len.clamp(1, 3));
    let keep = u32::MAX << first;
    let d = (window & keep).wrapping_sub(0x3030_3030 & keep);
    let value = (d >> 24) + 10 * ((d >> 16) & 0xff) + 100 * ((d >> 8) & 0xff);
    let lead = (d >> first) & 0xff;
    (value, len_ok && (len == 1 || lead != 0) && value <= 255)
}

/// A time or a duration that [`parse_time`] or [`parse_duration`] could not
/// read; the message quotes the text and says what is accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(String);

/// Parses a point in time (a time filter's bounds): RFC 3339
/// (`2026-11-24T10:00:00Z`), the same without seconds (`2026-11-24T10:00Z`), a
/// date (`2026-11-24`, midnight UTC), Unix seconds (`1764000000`), or a duration
/// back from `now` (`90s`, `15m`, `2h`, `7d`, `1w`).
pub fn parse_time(text: &str, now: SystemTime) -> Result<u64, TimeError> {
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .ok()
        .or_else(|| {
            // RFC 3339 without seconds, with a zone.
            ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"]
                .iter()
                .find_map(|f| DateTime::parse_from_str(t, f).ok())
        })
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%MZ",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%d %H:%MZ",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        });
    if let Some(d) = parsed {
        return u64::try_from(d.timestamp())
            .map_err(|_| TimeError(format!("`{t}` is before 1970")));
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse()
            .map_err(|_| TimeError(format!("`{t}` is out of range")));
    }
    // Digits and one unit letter are a duration; anything else that did not
    // parse (a date out of range, a time of an unknown shape) is a bad time,
    // not a bad duration.
    let unit = t.trim_start_matches(|c: char| c.is_ascii_digit());
    if unit.len() == t.len() || unit_seconds(unit).is_none() {
        return Err(TimeError(format!(
            "`{t}` is not a time: use RFC 3339 (2026-11-24T10:00:00Z), a date, Unix seconds, or a duration such as 2h"
        )));
    }
    let secs = parse_duration(t)?;
    now.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|n| n.as_secs().checked_sub(secs))
        .ok_or_else(|| TimeError(format!("`{t}` reaches before 1970")))
}

/// Seconds in a duration's unit (`s`, `m`, `h`, `d` or `w`).
fn unit_seconds(unit: &str) -> Option<u64> {
    Some(match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    })
}

/// The longest duration accepted: 100 years. Nothing in flow logs needs more,
/// and every product of a bucket width stays far from overflow.
pub const MAX_DURATION: u64 = 100 * 31_557_600;

/// Parses a duration (`90s`, `5m`, `2h`, `7d`, `1w`) into seconds: the one
/// parser behind time filters, time buckets and anomaly windows. Zero and
/// anything longer than [`MAX_DURATION`] are refused, so a width can divide
/// and multiply without overflow.
pub fn parse_duration(text: &str) -> Result<u64, TimeError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let Some(unit_secs) = unit_seconds(unit) else {
        return Err(TimeError(format!(
            "`{t}` is not a duration: a whole number and a unit (s, m, h, d or w), such as 5m"
        )));
    };
    if num.is_empty() {
        return Err(TimeError(format!(
            "`{t}` is not a duration: a number comes before the unit, such as 5{unit}"
        )));
    }
    let too_long = || {
        TimeError(format!(
            "`{t}` is too long: durations are at most 100 years"
        ))
    };
    // Digits only, so a parse failure is an overflow.
    let n: u64 = num.parse().map_err(|_| too_long())?;
    if n == 0 {
        return Err(TimeError(format!(
            "`{t}` is zero: a duration must be at least 1s"
        )));
    }
    match n.checked_mul(unit_secs) {
        Some(s) if s <= MAX_DURATION => Ok(s),
        _ => Err(too_long()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<String> {
        let mut t = Tokens::default();
        t.split(line.as_bytes());
        (0..t.len())
            .map(|i| String::from_utf8(t.get(line.as_bytes(), i).to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        assert_eq!(
            decode_addr(Field::SrcAddr, b"::ffff:192.0.2.7").unwrap(),
            Some("192.0.2.7".parse().unwrap())
        );
        assert_eq!(
            decode_addr(Field::SrcAddr, b"2001:db8::1").unwrap(),
            Some("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn tabs_separate_tokens_like_spaces() {
        assert_eq!(split("a\tb \t c"), ["a", "b", "c"]);
        assert!(split("\t\t").is_empty());
        let mut t = Tokens::default();
        let mut lines = Vec::new();
        split_lines(b"x\ty\n\t\t\nz\t\r\n", &mut t, |line, toks| {
            lines.push((line.to_vec(), toks.len()));
            true
        });
        assert_eq!(
            lines,
            [
                (b"x\ty".to_vec(), 2),
                (b"\t\t".to_vec(), 0),
                (b"z\t".to_vec(), 1)
            ]
        );
    }

    #[test]
    fn split_collapses_runs_and_strips_cr() {
        assert_eq!(split("a b  c"), ["a", "b", "c"]);
        assert_eq!(split("  a b \r"), ["a", "b"]);
        assert!(split("").is_empty());
        assert!(split("   ").is_empty());
        assert_eq!(split("x\r"), ["x"]);
    }

    #[test]
    fn split_agrees_with_the_nom_parser() {
        for line in [
            "",
            " ",
            "a",
            "a b",
            " a  b ",
            "2 123 eni-1 1.2.3.4 -  OK\r",
            "a\tb c",
        ] {
            let (rest, toks) = record_tokens(line.as_bytes()).unwrap();
            assert!(rest.is_empty(), "{line:?}");
            let toks: Vec<String> = toks
                .iter()
                .map(|t| String::from_utf8(t.to_vec()).unwrap())
                .collect();
            assert_eq!(split(line), toks, "{line:?}");
        }
    }

    #[test]
    fn split_agrees_with_the_nom_parser_on_random_lines() {
        // Lines of spaces, letters, a stray CR and other bytes, every length up
        // to 70: both splitters must agree on every one.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"  ab-\r\t\xff0.";
        for _ in 0..20_000 {
            let len = (next() % 70) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let (_, want) = record_tokens(&line).unwrap();
            let mut t = Tokens::default();
            t.split(&line);
            let got: Vec<&[u8]> = (0..t.len())
                .map(|i| t.get(line.strip_suffix(b"\r").unwrap_or(&line), i))
                .collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&line));
        }
    }

    #[test]
    fn split_lines_agrees_with_split_per_line() {
        // Short lines, and long ones that cross 64-byte blocks and carry more
        // tokens than are stored.
        split_lines_agrees(b"  \n\nab-\r0.\xff", 200, 5_000);
        split_lines_agrees(b"  \t\t\nab-\r0.\xffxyz123456789 ", 3_000, 2_000);
        let mut rare_newlines = b"a b c\td e ".repeat(30);
        rare_newlines.extend_from_slice(b"\n\r");
        split_lines_agrees(&rare_newlines, 3_000, 2_000);
        // Separators rare enough that most lines have one between tokens and
        // are held as starts alone (with `\r` line ends among them).
        let (usual, _) = split_lines_agrees(b"abcd-0.\xffxyz12 \r\n", 400, 5_000);
        assert!(usual > 5_000, "{usual} lines held as starts");
    }

    /// Lines of 0 to 300 tokens with one space or tab between them, some
    /// ending in `\r`: held as starts alone, also past the tokens stored.
    #[test]
    fn split_lines_holds_starts_past_the_stored_tokens() {
        let mut next = xorshift(0x0bad_5eed_1234_5678);
        let (mut usual, mut over) = (0, 0);
        for _ in 0..300 {
            let mut buf = Vec::new();
            for _ in 0..(next() % 6) {
                for k in 0..(next() % 301) {
                    if k > 0 {
                        buf.push(if next().is_multiple_of(5) {
                            b'\t'
                        } else {
                            b' '
                        });
                    }
                    for _ in 0..=(next() % 6) {
                        buf.push(b"ab0.-\xff"[(next() % 6) as usize]);
                    }
                }
                if next().is_multiple_of(4) {
                    buf.push(b'\r');
                }
                buf.push(b'\n');
            }
            if next().is_multiple_of(2) {
                buf.pop();
            }
            let (u, o) = agrees_on(&buf);
            usual += u;
            over += o;
        }
        assert!(
            usual > 500 && over > 100,
            "{usual} lines as starts, {over} past the stored tokens"
        );
    }

    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// Checks [`split_lines`] against [`Tokens::split`] on random buffers;
    /// returns what [`agrees_on`] counts, summed.
    fn split_lines_agrees(alphabet: &[u8], max_len: u64, rounds: usize) -> (usize, usize) {
        let mut next = xorshift(0x1234_5678_9abc_def0);
        let (mut usual, mut over) = (0, 0);
        for _ in 0..rounds {
            let len = (next() % max_len) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let (u, o) = agrees_on(&buf);
            usual += u;
            over += o;
        }
        (usual, over)
    }

    /// Checks [`split_lines`] (as scans run it, and portably) against
    /// [`Tokens::split`] of each line of `buf`; returns how many lines the
    /// scans' split held as starts alone, and how many of those had more
    /// tokens than are stored.
    fn agrees_on(buf: &[u8]) -> (usize, usize) {
        let tokens_of = |t: &Tokens, l: &[u8]| -> (usize, Vec<Vec<u8>>) {
            let kept = t.len().min(MAX_TOKENS);
            (t.len(), (0..kept).map(|i| t.get(l, i).to_vec()).collect())
        };
        let mut t = Tokens::default();
        let mut want = Vec::new();
        let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
        if buf.last() == Some(&b'\n') || buf.is_empty() {
            lines.pop();
        }
        for l in lines {
            t.split(l);
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            want.push(tokens_of(&t, l));
        }
        let (mut usual, mut over) = (0, 0);
        for kernel in Kernel::all() {
            let mut got = Vec::new();
            let mut t2 = Tokens::default();
            let each = |l: &[u8], toks: &Tokens| {
                got.push(tokens_of(toks, l));
                if kernel == Kernel::Portable && !toks.ends {
                    usual += 1;
                    over += usize::from(toks.len() > MAX_TOKENS);
                }
                true
            };
            split_lines_by(kernel, buf, &mut t2, each);
            assert_eq!(got, want, "{kernel:?}: {:?}", String::from_utf8_lossy(buf));
        }
        (usual, over)
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_bits_are_the_portable_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        for b in 0..=255u8 {
            for at in [0, 15, 16, 31, 32, 47, 63] {
                let mut block = [b'x'; 64];
                block[at] = b;
                block[(at + 29) % 64] = b' ';
                // SAFETY: the CPU has AVX2 (checked above).
                let avx2 = unsafe { avx2_bits(&block) };
                assert_eq!(avx2, space_newline_bits64(&block), "byte {b} at {at}");
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn avx2_bits(block: &[u8; 64]) -> (u64, u64) {
        space_newline_bits64_avx2(block)
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_kernel_is_the_portable_kernel() {
        if !Kernel::all().contains(&Kernel::Avx512) {
            eprintln!("skipped: this CPU has no AVX-512 VBMI2");
            return;
        }
        for b in 0..=255u8 {
            for at in [0, 15, 16, 31, 32, 47, 63] {
                let mut block = [b'x'; 64];
                block[at] = b;
                block[(at + 29) % 64] = b' ';
                // SAFETY: the CPU has AVX-512BW (checked above).
                let bits = unsafe { space_newline_bits64_avx512(&block) };
                assert_eq!(bits, space_newline_bits64(&block), "byte {b} at {at}");
            }
        }
        // Every fill level, up to and past the end of the stored boundaries,
        // with masks of every density: the stored boundaries and the count
        // are those of the portable flatten.
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for n in (0..BOUNDS + 4).chain([BOUNDS - 40, BOUNDS - 17, BOUNDS - 16]) {
            let fixed = [0, u64::MAX, 0x5555_5555_5555_5555, 0xaaaa_aaaa_aaaa_aaaa];
            let random =
                [1u32, 2, 3, 6].map(|density| (0..density).fold(u64::MAX, |e, _| e & next()));
            for edges in fixed.into_iter().chain(random) {
                let base = next() as u32;
                let mut want = Tokens {
                    n,
                    ..Tokens::default()
                };
                let mut got = want.clone();
                want.flatten(base, edges);
                // SAFETY: the CPU has AVX-512 VBMI2 (checked above).
                unsafe { avx512_flatten(&mut got, base, edges) };
                let kept = want.n.min(BOUNDS);
                assert_eq!(got.n, want.n, "n {n}, edges {edges:#x}");
                assert_eq!(
                    got.bounds[..kept],
                    want.bounds[..kept],
                    "n {n}, edges {edges:#x}"
                );
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F, BW and VBMI2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
    unsafe fn avx512_flatten(t: &mut Tokens, base: u32, edges: u64) {
        flatten_avx512(t, base, edges)
    }

    #[test]
    fn space_bits16_is_exact_for_every_byte() {
        for b in 0..=255u8 {
            for pos in 0..16 {
                let mut w = [b'x'; 16];
                w[pos] = b;
                assert_eq!(
                    space_bits16(&w),
                    if is_sep(b) { 1 << pos } else { 0 },
                    "byte {b} at {pos}"
                );
            }
        }
    }

    #[test]
    fn space_bits_is_exact_for_every_byte() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut w = [b'x'; 8];
                w[pos] = b;
                let bits = space_bits(u64::from_le_bytes(w));
                assert_eq!(
                    bits,
                    if is_sep(b) { 1 << pos } else { 0 },
                    "byte {b} at {pos}"
                );
            }
        }
    }

    #[test]
    fn too_many_tokens_are_counted_not_stored() {
        let line = "x ".repeat(MAX_TOKENS + 5);
        let mut t = Tokens::default();
        t.split(line.as_bytes());
        assert_eq!(t.len(), MAX_TOKENS + 5);
    }

    #[test]
    fn integers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b""), None);
        // Every length and a bad byte in every position of the eight-digit path.
        for len in 1..=20usize {
            let digits: Vec<u8> = (0..len).map(|i| b"9876543210"[i % 10]).collect();
            let want = std::str::from_utf8(&digits).unwrap().parse::<u64>().ok();
            assert_eq!(parse_u64(&digits), want, "{len}");
            for bad in 0..len {
                for byte in [b'/', b':', b' ', b'a', 0xff, 0] {
                    let mut d = digits.clone();
                    d[bad] = byte;
                    assert_eq!(parse_u64(&d), None, "{len} {bad} {byte}");
                }
            }
        }
        assert_eq!(parse_u64(b"1795514400"), Some(1_795_514_400));
        assert_eq!(parse_u64(b"00000000"), Some(0));
        assert_eq!(parse_u64(b"99999999"), Some(99_999_999));
        assert_eq!(decode_int(Field::DstPort, b"-"), Ok(None));
        assert_eq!(decode_int(Field::DstPort, b"65535"), Ok(Some(65535)));
        assert_eq!(
            decode_int(Field::DstPort, b"70000").unwrap_err().problem,
            "number out of range"
        );
        assert_eq!(
            decode_int(Field::Bytes, b"-5").unwrap_err().problem,
            "negative number"
        );
        assert_eq!(
            decode_int(Field::Bytes, b"18446744073709551616")
                .unwrap_err()
                .problem,
            "number out of range"
        );
        assert_eq!(
            decode_int(Field::Bytes, b"5000000000"),
            Ok(Some(5_000_000_000))
        );
        assert_eq!(
            decode_int(Field::Protocol, b"six").unwrap_err().to_string(),
            "protocol: not a number `six`"
        );
    }

    #[test]
    fn millisecond_times_become_seconds() {
        assert_eq!(
            decode_int(Field::Start, b"1566848875000"),
            Ok(Some(1_566_848_875))
        );
        assert_eq!(
            decode_int(Field::Start, b"1566848875"),
            Ok(Some(1_566_848_875))
        );
        assert_eq!(
            decode_int(Field::Start, b"164000066"),
            Ok(Some(164_000_066))
        );
        // Not a time field: no conversion.
        assert_eq!(
            decode_int(Field::Bytes, b"1566848875000"),
            Ok(Some(1_566_848_875_000))
        );
    }

    #[test]
    fn times() {
        // 2026-11-25T12:00:00Z
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_795_608_000);
        let at = |s| parse_time(s, now);
        assert_eq!(at("2026-11-24T10:00:00Z"), Ok(1_795_514_400));
        assert_eq!(at("2026-11-24T11:00:00+01:00"), Ok(1_795_514_400));
        assert_eq!(at("2026-11-24T10:00Z"), Ok(1_795_514_400));
        assert_eq!(at("2026-11-24"), Ok(1_795_478_400));
        assert_eq!(at("1795514400"), Ok(1_795_514_400));
        assert_eq!(at("2h"), Ok(1_795_608_000 - 7200));
        assert_eq!(at("1d"), Ok(1_795_608_000 - 86_400));
        for same in [
            "2026-11-24 10:00",
            "2026-11-24 10:00Z",
            "2026-11-24 11:00+01:00",
            "2026-11-24T11:00+01:00",
            "2026-11-24 10:00:00Z",
        ] {
            assert_eq!(at(same), Ok(1_795_514_400), "{same}");
        }
        // A bad time is said to be one, whatever it starts with; only digits
        // and a unit are read as a duration.
        for bad in [
            "yesterday",
            "2x",
            "2026-13-45",
            "2026-11-24 25:00",
            "1h30m",
            "5 h",
        ] {
            let e = at(bad).unwrap_err().to_string();
            assert!(e.contains("is not a time"), "{bad}: {e}");
        }
    }
    /// The address in words and, where the CPU has SSSE3, with it; fails
    /// unless both agree.
    fn ipv4_both_ways(token: &[u8]) -> Option<Ipv4Addr> {
        if !(7..=15).contains(&token.len()) {
            return None;
        }
        let (lo, hi) = token_words(token);
        let words = ipv4_words(lo, hi, token.len() as u32);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: the CPU has both (checked just above).
            let ssse3 = unsafe { ipv4_ssse3(lo, hi, token.len() as u32) };
            assert_eq!(ssse3, words, "{:?}", String::from_utf8_lossy(token));
        }
        words
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_ipv4(b"10.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            parse_ipv4(b"255.255.255.255"),
            Some(Ipv4Addr::new(255, 255, 255, 255))
        );
        for bad in [
            &b"256.0.0.1"[..],
            b"1.2.3",
            b"1.2.3.4.5",
            b"1..2.3",
            b"01.2.3.4",
            b"1.2.3.",
            b"a.b.c.d",
        ] {
            assert_eq!(parse_ipv4(bad), None, "{:?}", String::from_utf8_lossy(bad));
            assert_eq!(ipv4_both_ways(bad), None);
        }
        assert_eq!(
            decode_addr(Field::SrcAddr, b"2001:db8::1").unwrap(),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(decode_addr(Field::SrcAddr, b"-"), Ok(None));
        assert!(decode_addr(Field::SrcAddr, b"2001:zz::1").is_err());
        assert!(decode_addr(Field::SrcAddr, b"10.0.0.256").is_err());
        // Agrees with the standard library on every 4-octet spelling it accepts.
        for s in ["0.0.0.0", "1.2.3.4", "192.168.100.200", "9.99.199.255"] {
            assert_eq!(parse_ipv4(s.as_bytes()), s.parse().ok());
        }
    }

    #[test]
    fn the_field_numbers_index_the_range_table() {
        for (i, &f) in Field::ALL.iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(MAX_VALUES[i], max_value(f));
        }
        assert!(check_int(Field::DstPort, 65_536).is_err());
        assert!(check_int(Field::Protocol, 256).is_err());
        assert_eq!(
            check_int(Field::Packets, i64::MAX as u64),
            Ok(i64::MAX as u64)
        );
    }

    /// What [`decode_addr`] reads, by the standard library alone.
    fn addr_by_the_library(token: &[u8]) -> Result<Option<IpAddr>, ()> {
        if is_missing(token) {
            return Ok(None);
        }
        let s = std::str::from_utf8(token).map_err(drop)?;
        if let Ok(v4) = s.parse::<Ipv4Addr>() {
            return Ok(Some(IpAddr::V4(v4)));
        }
        let v6 = s.parse::<Ipv6Addr>().map_err(drop)?;
        Ok(Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)))
    }

    /// The edges of `::` as the standard library draws them: it stands for
    /// one zero group or more, once, anywhere.
    #[test]
    fn ipv6_edges_match_the_standard_library() {
        for t in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3::6:7:8",
            "1:2:3::5:6:7:8",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:",
            "2001:DB8::aB",
            "0000:0:00:000:0000:0:0:1",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::8",
            "1::2::3",
            ":::",
            ":1::",
            "1::2:",
            "1:2",
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "::ffff:1.2.3.4",
            "::g",
            ":",
            "1:",
            "fe80::1%eth0",
            " ::1",
            "::1 ",
        ] {
            let std = t.parse::<Ipv6Addr>().ok();
            let fast = parse_ipv6(t.as_bytes());
            assert!(
                fast.is_none() || fast == std,
                "{t}: {fast:?} against {std:?}"
            );
            assert_eq!(fast.is_some(), std.is_some() && !t.contains('.'), "{t}");
        }
    }

    proptest::proptest! {
        // Each case takes microseconds, and the rules' edges are a small
        // share of these tokens: many cases make a broken rule fail the test.
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]

        /// Near misses: up to nine groups of mostly one to four digits,
        /// joined mostly by one colon, now and then by two or three, with
        /// colons before or after now and then. Many tokens are addresses,
        /// and the rest miss by one rule (a group too many or too few, a
        /// second `::`, an empty group, a fifth digit); the loop must read
        /// each as the library does.
        #[test]
        fn ipv6_near_misses_agree_with_the_standard_library(
            groups in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        10 => proptest::collection::vec(proptest::sample::select(b"0aF9".to_vec()), 1..5),
                        1 => proptest::collection::vec(proptest::sample::select(b"0aF9".to_vec()), 0..6),
                    ],
                    proptest::sample::select(vec![":", ":", ":", ":", ":", ":", ":", ":", "::", ":::"]),
                ),
                9,
            ),
            count in proptest::prop_oneof![1 => 1usize..6, 3 => 6usize..10],
            before in proptest::sample::select(vec!["", "", "", ":", "::"]),
            after in proptest::sample::select(vec!["", "", "", ":", "::"]),
        ) {
            let mut token = before.as_bytes().to_vec();
            for (k, (digits, sep)) in groups.iter().take(count).enumerate() {
                if k > 0 {
                    token.extend_from_slice(sep.as_bytes());
                }
                token.extend_from_slice(digits);
            }
            token.extend_from_slice(after.as_bytes());
            let text = String::from_utf8_lossy(&token);
            proptest::prop_assert_eq!(parse_ipv6(&token), text.parse::<Ipv6Addr>().ok(), "{}", text);
        }
    }

    proptest::proptest! {
        /// On any bytes, the IPv6 loop returns no address other than the
        /// one the standard library returns, and `decode_addr` (the loop,
        /// then the library for what the loop refuses) agrees with the
        /// library. Few of these tokens are addresses: the near misses
        /// below are the test of the loop's rules.
        #[test]
        fn ipv6_agrees_with_the_standard_library(
            token in proptest::collection::vec(
                proptest::prop_oneof![
                    12 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                    5 => proptest::strategy::Just(b':'),
                    1 => proptest::sample::select(b".gG/@`".to_vec()),
                    1 => proptest::num::u8::ANY,
                ],
                0..42,
            )
        ) {
            let std = std::str::from_utf8(&token).ok().and_then(|s| s.parse::<Ipv6Addr>().ok());
            let fast = parse_ipv6(&token);
            proptest::prop_assert!(fast.is_none() || fast == std, "{:?} against {:?}", fast, std);
            let got = decode_addr(Field::SrcAddr, &token).map_err(drop);
            proptest::prop_assert_eq!(got, addr_by_the_library(&token));
        }

        /// Every address written without a dotted quad is read by the loop
        /// itself, as the library prints it (`::` for the longest run of
        /// zeros) and in full, in either case, with leading zeros or not.
        #[test]
        fn ipv6_reads_every_address_it_should(
            groups in proptest::collection::vec(
                proptest::prop_oneof![2 => proptest::strategy::Just(0u16), 3 => proptest::num::u16::ANY],
                8,
            ),
            upper: bool,
            padded: bool,
        ) {
            let addr = Ipv6Addr::from(<[u16; 8]>::try_from(groups.clone()).unwrap());
            let full = groups
                .iter()
                .map(|g| if padded { format!("{g:04x}") } else { format!("{g:x}") })
                .collect::<Vec<_>>()
                .join(":");
            for text in [addr.to_string(), full] {
                let text = if upper { text.to_uppercase() } else { text };
                if !text.contains('.') {
                    proptest::prop_assert_eq!(parse_ipv6(text.as_bytes()), Some(addr), "{}", text);
                }
            }
        }

        /// The word-at-a-time IPv4 parser reads exactly what the standard
        /// library reads: tokens of digits and dots (of every length around
        /// 7 to 15, where it works), with a stray byte now and then.
        #[test]
        fn ipv4_agrees_with_the_standard_library(
            token in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"0123456789".to_vec()),
                    3 => proptest::strategy::Just(b'.'),
                    1 => proptest::num::u8::ANY,
                ],
                0..18,
            )
        ) {
            let std = std::str::from_utf8(&token).ok().and_then(|s| s.parse::<Ipv4Addr>().ok());
            proptest::prop_assert_eq!(parse_ipv4(&token), std);
            proptest::prop_assert_eq!(ipv4_both_ways(&token), std);
        }

        /// Numbers read a word at a time from their line read as the token
        /// alone does, whatever is before them, for every range of field.
        #[test]
        fn integers_read_in_their_line_as_alone(
            before in proptest::collection::vec(proptest::num::u8::ANY, 0..20),
            token in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"0123456789".to_vec()),
                    1 => proptest::sample::select(b"- x".to_vec()),
                ],
                0..22,
            ),
            after in proptest::collection::vec(proptest::num::u8::ANY, 0..3),
            field in proptest::sample::select(vec![
                Field::DstPort, Field::Protocol, Field::Bytes, Field::Start, Field::TcpFlags,
            ]),
        ) {
            let line = [&before[..], &token, &after].concat();
            let (start, end) = (before.len(), before.len() + token.len());
            proptest::prop_assert_eq!(
                decode_int_at(field, &line, start, end),
                decode_int(field, &token)
            );
        }

        /// The SSE2 digits agree with the words for any sixteen bytes, mostly
        /// digits, and any length.
        #[test]
        fn tail_digits_agree(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    12 => proptest::sample::select(b"0123456789".to_vec()),
                    1 => proptest::num::u8::ANY,
                ],
                16,
            ),
            n in 1usize..=16,
        ) {
            let bytes: [u8; 16] = bytes.try_into().unwrap();
            let mask: &[u8; 16] = TAIL_MASKS[n..n + 16].try_into().unwrap();
            let want = std::str::from_utf8(&bytes[16 - n..]).ok().and_then(|s| {
                s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse::<u64>().unwrap())
            });
            proptest::prop_assert_eq!(tail_digits(&bytes, mask), want);
            proptest::prop_assert_eq!(tail_digits_words(&bytes, mask), want);
        }

        /// The SSE2 hex digits agree with a byte at a time for any sixteen
        /// bytes, mostly digits and the bytes around the digits' ranges.
        #[test]
        fn sixteen_hex_agrees(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    16 => proptest::sample::select(b"0123456789abcdef".to_vec()),
                    1 => proptest::sample::select(b"/:`gAF\x80\xb0\xb9\xe1\xe6\xff".to_vec()),
                    1 => proptest::num::u8::ANY,
                ],
                16,
            ),
        ) {
            let bytes: [u8; 16] = bytes.try_into().unwrap();
            let want = std::str::from_utf8(&bytes).ok().and_then(|s| {
                s.bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                    .then(|| u64::from_str_radix(s, 16).unwrap())
            });
            proptest::prop_assert_eq!(sixteen_hex(&bytes), want);
            proptest::prop_assert_eq!(hex_bytes(&bytes), want);
        }

        /// Every address, written as the standard library writes it, and with
        /// one octet given a leading zero (refused).
        #[test]
        fn ipv4_reads_every_address(a: u32, k in 0usize..4) {
            let addr = Ipv4Addr::from(a);
            proptest::prop_assert_eq!(parse_ipv4(addr.to_string().as_bytes()), Some(addr));
            proptest::prop_assert_eq!(ipv4_both_ways(addr.to_string().as_bytes()), Some(addr));
            let mut octets: Vec<String> = addr.octets().iter().map(u8::to_string).collect();
            octets[k].insert(0, '0');
            proptest::prop_assert_eq!(parse_ipv4(octets.join(".").as_bytes()), None);
            proptest::prop_assert_eq!(ipv4_both_ways(octets.join(".").as_bytes()), None);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration(" 2h "), Ok(7200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("36500d"), Ok(3_153_600_000));
        for (bad, says) in [
            ("0m", "is zero"),
            ("4611686018427387904m", "at most 100 years"),
            ("530000600238621102m", "at most 100 years"),
            ("99999999999999999999999s", "at most 100 years"),
            ("36600d", "at most 100 years"),
            ("5", "not a duration"),
            ("m", "a number comes before"),
            ("5x", "not a duration"),
            ("-5m", "not a duration"),
            ("", "not a duration"),
        ] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
