//! Fast analytics over AWS VPC Flow Logs.
//!
//! flowscan reads flow log files (plain or gzip, with a header line naming their
//! fields, or headerless with a field list you give), parses every record without
//! copying it, and folds records into aggregations that run on every core.
//!
//! # Data path
//! Each stage is a module that uses only the stages before it:
//!
//! 1. [`schema`]: field names and types; the [`Schema`] a header declares.
//! 2. [`error`]: the error type and the [`Malformed`] line report.
//! 3. [`prune`]: what AWS's S3 paths say (account, region, time), to skip
//!    files that cannot hold a wanted record; [`source`]: finding files ([`discover`]), opening them as a memory-mapped
//!    slice, a decompressing stream, or a Parquet file ([`source`]).
//!    [`cloudwatch`] reads the JSON and CSV shapes CloudWatch Logs exports, yielding
//!    record messages.
//! 4. [`parse`]: splitting a line into tokens, decoding a token into a value.
//! 5. [`record`]: [`Record`], a line read through a schema, and the
//!    [`FlowRecord`] trait aggregates are written against.
//! 6. `columnar` (cargo feature `parquet`): Parquet rows as records, decoding
//!    only the columns a command reads.
//! 7. [`filter`]: the [`Filter`] every command shares.
//!    [`query`]: the `--where` language, parsed with nom, evaluated on records.
//! 8. [`aggregate`]: per-thread partial results that merge ([`Aggregate`]), such as
//!    the REJECT hotspots ([`Rejects`]).
//!    [`vpc`]: the VPC's saved configuration beside the logs (why each REJECT
//!    was rejected, rule usage, subnet addresses), as aggregates.
//! 9. [`scan`]: the [`Scanner`] that drives files, chunks and lines through the
//!    filter into aggregates on a rayon pool.
//! 10. [`render`]: every command's output: tables, JSON and CSV for each
//!     report, and [`render::RecordWriter`] for records in input order.
//! 11. `export` (cargo feature `parquet`): Arrow batches, Parquet files in Hive
//!     partitions, and the Athena DDL that matches.
//!
//! # Example
//! ```
//! use flowscan::{discover, Input, Rejects, RejectsConfig, Scanner};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("flowscan-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(
//!     dir.join("a.log"),
//!     "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
//!      2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.9.69 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n\
//!      2 123456789010 eni-1235b8ca123456789 172.31.9.69 203.0.113.12 3389 49761 6 20 4249 1418530010 1418530070 ACCEPT OK\n",
//! )?;
//!
//! let found = discover(&[Input::Path(dir.clone())]);
//! let scanner = Scanner::builder().build()?;
//! let (mut rejects, scan) = scanner.aggregate(&found, || Rejects::new(RejectsConfig::default()))?;
//! let report = rejects.report(10);
//!
//! assert_eq!(scan.totals.records, 2);
//! assert_eq!(report.rejects, 1);
//! assert_eq!(report.ports[0].label, "3389/tcp");
//! assert_eq!(report.sources[0].cidr, "203.0.113.0/24");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod aggregate;
pub mod cloudwatch;
#[cfg(feature = "parquet")]
pub mod columnar;
pub mod display;
pub mod error;
#[cfg(feature = "parquet")]
pub mod export;
pub mod filter;
mod mapguard;
pub mod parse;
pub mod prune;
pub mod query;
pub mod record;
pub mod render;
pub mod scan;
pub mod schema;
pub mod sink;
pub mod source;
pub mod vpc;

pub use aggregate::{Aggregate, MemoryBudget, Rejects, RejectsConfig, RejectsReport};
pub use error::{Error, Malformed, Result};
pub use filter::Filter;
pub use ipnetwork::IpNetwork;
pub use parse::{TimeError, ValueError};
pub use prune::Prune;
pub use record::{FlowRecord, Record};
pub use scan::{
    AnyRecord, Counts, FileReport, FileStatus, InputFormat, Progress, Reader, ScanBuilder,
    ScanReport, Scanner,
};
pub use schema::{Field, FieldSet, Schema};
pub use sink::{FileInfo, OrderedSink, Position, Sink, SinkError};
pub use source::{
    discover, discover_pruned, discover_with, Discovery, Input, S3Access, S3Url, Source,
};
