//! Parquet into blocks of rows.

#[cfg(feature = "parquet")]
use std::sync::Arc;

#[cfg(feature = "parquet")]
use super::block::Body;
use super::block::{Block, End, Flow, Options};
#[cfg(feature = "parquet")]
use super::InputFormat;

/// Where Parquet bytes are.
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
pub(super) enum ParquetSrc<'d> {
    Bytes(&'d [u8]),
    File(std::fs::File),
    #[cfg(all(feature = "s3", feature = "parquet"))]
    Remote(Arc<crate::source::s3::RangedParquet>),
}

#[cfg(feature = "parquet")]
pub(super) fn parquet<'a>(
    src: ParquetSrc<'_>,
    opts: &Options<'_>,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    use crate::columnar::OpenError;
    let mut end = End::default();
    if matches!(opts.input_format, Some(f) if f != InputFormat::Parquet) {
        end.skipped = Some("Parquet, not the input format given".into());
        return end;
    }
    let opened = match src {
        ParquetSrc::Bytes(b) => {
            end.decoded = b.len() as u64;
            crate::columnar::open(bytes::Bytes::copy_from_slice(b), opts.reads)
        }
        ParquetSrc::File(f) => {
            end.decoded = f.metadata().map_or(0, |m| m.len());
            crate::columnar::open(f, opts.reads)
        }
        #[cfg(feature = "s3")]
        ParquetSrc::Remote(r) => {
            end.decoded = r.size();
            let handle = crate::source::s3::RangedHandle(r.clone());
            crate::columnar::open_with(handle, opts.reads, |chunks| r.will_read(chunks))
        }
    };
    let mut rows = match opened {
        Ok(r) => r,
        Err(OpenError::NotFlowLog(why)) => {
            end.skipped = Some(why);
            return end;
        }
        Err(OpenError::Damaged(why)) => {
            // Nothing of it was read: the file failed, it is not "read in part".
            end.decoded = 0;
            end.error = Some(why);
            return end;
        }
    };
    let full = Arc::new(rows.full.clone());
    let mut read = 0u64;
    while let Some(batch) = rows.next_batch() {
        match batch {
            Ok(b) => {
                read += b.len() as u64;
                let block = Block {
                    body: Body::Rows(b, full.clone()),
                    byte0: None,
                };
                if push(block) == Flow::Stop {
                    break;
                }
            }
            Err(e) => {
                end.error = Some(format!(
                    "Parquet read error after {read} rows ({e}); the rows before it are counted"
                ));
                break;
            }
        }
    }
    end
}

#[cfg(not(feature = "parquet"))]
pub(super) fn parquet<'a>(
    _: ParquetSrc<'_>,
    _: &Options<'_>,
    _: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    End {
        skipped: Some("Parquet input needs flowscan built with the `parquet` feature".into()),
        ..End::default()
    }
}
