//! The inputs of a scan, as the driver holds them.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
#[cfg(feature = "s3")]
use std::sync::Arc;
use std::sync::Mutex;

use super::produce::Input;

/// One input of a scan.
pub(crate) struct Unit<'a> {
    pub path: Cow<'a, Path>,
    pub size: Option<u64>,
    pub src: Src<'a>,
}

/// Where a unit's bytes come from.
pub(crate) enum Src<'a> {
    Path,
    Stdin,
    Slice(&'a [u8]),
    Reader(Mutex<Option<Box<dyn Read + Send + 'a>>>),
    /// Found but not readable (a walk error): the reason.
    Failed(String),
    /// Found and left alone (a FIFO met in a walk): the reason.
    Skipped(String),
    /// An S3 object.
    #[cfg(feature = "s3")]
    Remote(Arc<crate::source::s3::S3Object>),
}

impl<'a> Unit<'a> {
    /// The input to read (`None` for a reader already taken).
    pub fn input(&self) -> Option<Input<'_>> {
        match &self.src {
            Src::Path => Some(Input::Path(&self.path)),
            Src::Stdin => Some(Input::Stdin),
            Src::Slice(s) => Some(Input::Slice(s)),
            Src::Reader(m) => m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .map(Input::Reader),
            Src::Failed(_) | Src::Skipped(_) => None,
            #[cfg(feature = "s3")]
            Src::Remote(o) => Some(Input::Remote(o.clone())),
        }
    }

    /// Starts fetching a remote input, so that it arrives while others are read.
    pub fn prefetch(&self) {
        #[cfg(feature = "s3")]
        if let Src::Remote(o) = &self.src {
            o.prefetch();
        }
    }

    /// Whether the input can be read a second time.
    pub fn rereadable(&self) -> bool {
        #[cfg(feature = "s3")]
        if matches!(self.src, Src::Remote(_)) {
            return true;
        }
        matches!(self.src, Src::Path | Src::Slice(_))
    }
}
