//! What producers hand to the line machine: blocks of one input that end at
//! line ends, and how the input ended.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::schema::FieldSet;
#[cfg(feature = "parquet")]
use crate::schema::Schema;
use crate::source::{Bytes, Data};

use super::rules::marker;
use super::InputFormat;

/// Size of a block of a file cut for parallel reading: what one task parses,
/// and what one ordered part holds.
pub(crate) const BLOCK: usize = 4 << 20;

/// Size of a block of a stream (a large gzip file, standard input) at most.
/// A stream's blocks are copies, each held until its task is done, so their
/// size times the tasks in flight is heap: a 10 M-record gzip file peaked at
/// 89 MB of heap with 4 MiB blocks, and (with smaller tables) at 65 MB with
/// 2 MiB and 63 MB with 1 MiB. The thread that inflates is the bottleneck,
/// and each block costs it a buffer and a task: 1 MiB was 2-4 % slower than
/// 4 MiB, 2 MiB as fast within the noise.
pub(crate) const STREAM_BLOCK: usize = 2 << 20;

/// Size of a block of a file read whole by one task: nothing is gained by
/// larger ones, and each task in flight holds one.
pub(crate) const WHOLE_BLOCK: usize = 1 << 20;

/// How much decompressed text is looked at to tell JSON, CSV and text apart.
pub(crate) const SNIFF: usize = 64 << 10;

/// What a block holds.
pub(crate) enum Body<'a> {
    /// Text lines.
    Text(Data<'a>),
    /// CloudWatch messages, one per line, with [`marker`] lines.
    Messages(Data<'a>),
    /// A piece of a JSON document, parsed into messages by whoever reads it.
    Json(super::jsoncut::Piece<'a>),
    /// Parquet rows, with the file's full format.
    #[cfg(feature = "parquet")]
    Rows(crate::columnar::Rows, Arc<Schema>),
}

/// A run of one input that ends at a line end (the last may not).
pub(crate) struct Block<'a> {
    pub body: Body<'a>,
    /// Offset of the first byte in the file's text (text blocks only).
    pub byte0: Option<u64>,
}

impl Block<'_> {
    /// The block without borrows (copying borrowed text, which a file never has).
    pub fn into_owned(self) -> Block<'static> {
        let own = |d: Data<'_>| match d {
            Data::Borrowed(b) => Data::owned(Arc::new(b.to_vec())),
            Data::Shared(m, r) => Data::Shared(m, r),
            Data::Owned(v, r) => Data::Owned(v, r),
        };
        Block {
            body: match self.body {
                Body::Text(d) => Body::Text(own(d)),
                Body::Messages(d) => Body::Messages(own(d)),
                Body::Json(p) => Body::Json(super::jsoncut::Piece {
                    data: own(p.data),
                    ..p
                }),
                #[cfg(feature = "parquet")]
                Body::Rows(r, s) => Body::Rows(r, s),
            },
            byte0: self.byte0,
        }
    }

    /// Lines in the block, for numbering the lines of the blocks after it.
    pub fn lines(&self) -> u64 {
        match &self.body {
            Body::Text(d) => {
                let nl = memchr::memchr_iter(b'\n', d).count() as u64;
                nl + u64::from(d.last().is_some_and(|&b| b != b'\n'))
            }
            Body::Messages(d) => message_lines(d),
            Body::Json(p) => {
                let mut messages = Vec::new();
                super::messages::json_piece(p, &mut messages);
                message_lines(&messages)
            }
            #[cfg(feature = "parquet")]
            Body::Rows(r, _) => r.len() as u64,
        }
    }
}

/// Lines of a messages block, but for the mend markers, which are notes,
/// not lines. A message never holds a NUL, so the marker's bytes are found
/// only where it is.
fn message_lines(d: &[u8]) -> u64 {
    let nl = memchr::memchr_iter(b'\n', d).count();
    let mends = memchr::memmem::find_iter(d, marker::MENDED_LINE).count();
    (nl - mends) as u64 + u64::from(d.last().is_some_and(|&b| b != b'\n'))
}

/// Whether the consumer wants more.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    Go,
    Stop,
}

/// How an input ended.
#[derive(Default)]
pub(crate) struct End {
    /// Text bytes produced.
    pub decoded: u64,
    /// Why it ended early (the report's "read only in part").
    pub error: Option<String>,
    /// Why it was not read at all ("not a flow log", a compression not read).
    pub skipped: Option<String>,
    /// On-disk bytes consumed, for inputs without a size (standard input).
    pub consumed: Option<u64>,
    /// A memory map to check for a truncation once every block is parsed.
    pub mapped: Option<Arc<Bytes>>,
}

/// An input as the scanner reads it.
pub(crate) enum Input<'a> {
    /// A file, by its OS name.
    Path(&'a Path),
    /// Standard input.
    Stdin,
    /// Bytes the caller holds.
    Slice(&'a [u8]),
    /// A reader the caller hands over (read once).
    Reader(Box<dyn Read + Send + 'a>),
    /// An S3 object (fetched ahead, or now).
    #[cfg(feature = "s3")]
    Remote(Arc<crate::source::s3::S3Object>),
}

/// What a producer needs to know.
#[derive(Clone, Copy)]
pub(crate) struct Options<'o> {
    pub input_format: Option<InputFormat>,
    pub max_inflate: Option<u64>,
    /// Parquet columns to decode.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub reads: FieldSet,
    /// Called with on-disk bytes as they are consumed.
    pub progress: &'o (dyn Fn(u64) + Sync),
    /// Block size (see [`BLOCK`]); smaller in tests, to cut small inputs.
    pub block: usize,
    /// A JSON document in memory may be handed out in pieces for the readers
    /// to parse ([`Body::Json`]), rather than as messages parsed here.
    pub json_pieces: bool,
}
