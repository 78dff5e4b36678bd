//! Flow logs read where they live: `s3://bucket/prefix` inputs, listed and
//! pruned by the same rules as local trees (AWS's key layout names the
//! account, the region and the day), and fetched ahead of the readers so that
//! network latency overlaps parsing.
//!
//! Credentials and region come from the standard AWS chain as `object_store`
//! reads it (environment, container and instance credentials, web identity),
//! plus the access keys of a profile in `~/.aws/credentials` (`AWS_PROFILE`,
//! else `default`) when the environment has none. `AWS_ENDPOINT_URL` points at
//! an S3-compatible store; unsigned requests read public buckets.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};

use super::{S3Access as S3Options, S3Url};
use crate::prune::Prune;

/// One bucket's client, with the runtime its requests run on.
pub(crate) struct Remote {
    store: AmazonS3,
    rt: Arc<tokio::runtime::Runtime>,
    bucket: String,
}

/// What went wrong, in words that say what to do (the report names the
/// object or prefix).
fn explain(e: &object_store::Error) -> String {
    match e {
        object_store::Error::NotFound { .. } => "not found (no such key, or no such bucket)".into(),
        object_store::Error::PermissionDenied { .. } => {
            "access denied: the credentials in use may not read it (set AWS_PROFILE, or send unsigned requests to a public bucket)".into()
        }
        object_store::Error::Unauthenticated { .. } => {
            "not signed in: no AWS credentials were found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or send unsigned requests to a public bucket)".into()
        }
        e => {
            let text = e.to_string();
            if text.contains("NoSuchBucket") {
                "no such bucket".into()
            } else if is_redirect(&text) {
                format!("the bucket is in another region: set AWS_REGION to it ({text})")
            } else {
                text
            }
        }
    }
}

/// Whether an error's text is S3's answer for a bucket in another region:
/// a `PermanentRedirect` error or a 301 status. Not any "301" in the text:
/// the text holds the request's duration and ids (a NoSuchBucket answer that
/// took "35.717301ms" was once reported as a redirect).
fn is_redirect(text: &str) -> bool {
    text.contains("PermanentRedirect") || text.contains("status code: 301")
}

/// The access keys of a profile in `~/.aws/credentials`, when the
/// environment has none.
fn profile_keys() -> Option<(String, String, Option<String>)> {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        return None;
    }
    let home = std::env::var_os("HOME")?;
    let file = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(home).join(".aws/credentials"));
    let text = std::fs::read_to_string(file).ok()?;
    let want = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let mut section = String::new();
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
        } else if section == want {
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim().to_string();
                match k.trim() {
                    "aws_access_key_id" => id = Some(v),
                    "aws_secret_access_key" => secret = Some(v),
                    "aws_session_token" => token = Some(v),
                    _ => {}
                }
            }
        }
    }
    Some((id?, secret?, token))
}

impl Remote {
    /// A client for `bucket`, its region found when none is set.
    pub fn connect(bucket: &str, opts: &S3Options) -> Result<Arc<Remote>, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("flowscan-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network threads: {e}"))?;
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_skip_signature(opts.no_sign_request)
            .with_retry(object_store::RetryConfig {
                max_retries: 5,
                retry_timeout: Duration::from_secs(120),
                ..Default::default()
            });
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
        if endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
        {
            b = b.with_allow_http(true);
        }
        if let Some((id, secret, token)) = profile_keys() {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
            if let Some(t) = token {
                b = b.with_token(t);
            }
        }
        let region_set = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .any(|k| std::env::var_os(k).is_some());
        if !region_set && endpoint.is_none() {
            let found = rt.block_on(object_store::aws::resolve_bucket_region(
                bucket,
                &object_store::ClientOptions::default(),
            ));
            match found {
                Ok(r) => b = b.with_region(r),
                Err(e) => return Err(explain(&e)),
            }
        }
        let store = b.build().map_err(|e| explain(&e))?;
        Ok(Arc::new(Remote {
            store,
            rt: Arc::new(rt),
            bucket: bucket.to_string(),
        }))
    }

    /// Lists `prefix` recursively in parallel, skipping hidden names and what
    /// `prune` rules out; objects in key order.
    pub fn list(self: &Arc<Self>, prefix: &str, prune: &Prune) -> Listing {
        let mut out = Listing::default();
        // `s3://bucket/key` may name one object rather than a prefix.
        if !prefix.is_empty() && !prefix.ends_with('/') {
            out.requests += 1;
            if let Ok(meta) = self.rt.block_on(self.store.head(&Key::from(prefix))) {
                out.objects.push(Arc::new(S3Object {
                    remote: self.clone(),
                    key: meta.location.to_string(),
                    size: meta.size,
                    fetch: Mutex::new(None),
                }));
                return out;
            }
        }
        let mut level: Vec<Option<Key>> = vec![(!prefix.is_empty()).then(|| Key::from(prefix))];
        while !level.is_empty() {
            let results = self.rt.block_on(
                futures::stream::iter(level.drain(..))
                    .map(|p| async move {
                        let r = self.store.list_with_delimiter(p.as_ref()).await;
                        (p, r)
                    })
                    .buffer_unordered(16)
                    .collect::<Vec<_>>(),
            );
            out.requests += results.len();
            for (p, r) in results {
                match r {
                    Ok(list) => self.take(list, prune, &mut out, &mut level),
                    Err(e) => out.problems.push((
                        S3Url::show(&self.bucket, p.as_ref().map_or("", |k| k.as_ref())),
                        explain(&e),
                    )),
                }
            }
        }
        out.objects.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    fn take(
        self: &Arc<Self>,
        list: object_store::ListResult,
        prune: &Prune,
        out: &mut Listing,
        next: &mut Vec<Option<Key>>,
    ) {
        let hidden = |k: &Key| {
            k.filename()
                .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
        };
        for d in list.common_prefixes {
            if hidden(&d) {
                continue;
            }
            if prune.rules_out(&S3Url::show(&self.bucket, d.as_ref())) {
                out.pruned += 1;
            } else {
                next.push(Some(d));
            }
        }
        for o in list.objects {
            if hidden(&o.location) {
                continue;
            }
            if prune.rules_out(&S3Url::show(&self.bucket, o.location.as_ref())) {
                out.pruned += 1;
                continue;
            }
            out.objects.push(Arc::new(S3Object {
                remote: self.clone(),
                key: o.location.to_string(),
                size: o.size,
                fetch: Mutex::new(None),
            }));
        }
    }
}

/// What a listing found.
#[derive(Default)]
pub(crate) struct Listing {
    pub objects: Vec<Arc<S3Object>>,
    pub pruned: usize,
    pub requests: usize,
    pub problems: Vec<(PathBuf, String)>,
}

/// An object's bytes on their way.
type Download = tokio::task::JoinHandle<Result<Vec<u8>, String>>;

/// How much of a Parquet object's end is fetched ahead: its footer (the
/// metadata) fits in this for files of up to a few hundred row groups; a
/// larger one is completed with one more request.
#[cfg(feature = "parquet")]
const PARQUET_TAIL: u64 = 64 * 1024;

/// An object to read, fetched ahead when asked.
pub struct S3Object {
    remote: Arc<Remote>,
    /// Its key.
    pub key: String,
    /// Its size.
    pub size: u64,
    fetch: Mutex<Option<Download>>,
}

/// What was fetched of an object.
pub(crate) enum Fetched {
    /// All of it.
    Whole(Vec<u8>),
    /// Its last bytes, starting at `start`: an object named `.parquet`, whose
    /// columns are then read by range.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Tail { start: u64, bytes: Vec<u8> },
}

impl PartialEq for S3Object {
    fn eq(&self, o: &S3Object) -> bool {
        self.remote.bucket == o.remote.bucket && self.key == o.key
    }
}

impl Eq for S3Object {}

impl std::fmt::Debug for S3Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.remote.bucket, self.key)
    }
}

impl S3Object {
    /// How it is shown: `s3://bucket/key`.
    pub fn path(&self) -> PathBuf {
        S3Url::show(&self.remote.bucket, &self.key)
    }

    /// The range fetched ahead: the tail of an object whose name says
    /// Parquet (the name only chooses what to fetch first; the content still
    /// decides how it is read), else all of it.
    fn ahead(&self) -> std::ops::Range<u64> {
        #[cfg(feature = "parquet")]
        {
            let parquet = std::path::Path::new(&self.key)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
            if parquet && self.size > PARQUET_TAIL {
                return self.size - PARQUET_TAIL..self.size;
            }
        }
        0..self.size
    }

    /// Starts fetching the object (or a Parquet object's tail) in the
    /// background, once.
    pub fn prefetch(&self) {
        let mut f = self.fetch.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            let remote = self.remote.clone();
            let key = self.key.clone();
            let range = self.ahead();
            *f = Some(
                self.remote
                    .rt
                    .spawn(async move { download(&remote, &key, range).await }),
            );
        }
    }

    /// What [`prefetch`](Self::prefetch) fetched (fetching it now if nobody
    /// asked before).
    pub(crate) fn take(&self) -> Result<Fetched, String> {
        self.prefetch();
        let handle = self
            .fetch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .expect("started above");
        let bytes = self
            .remote
            .rt
            .block_on(handle)
            .unwrap_or_else(|e| Err(format!("the download failed: {e}")))?;
        let range = self.ahead();
        Ok(if range.start == 0 {
            Fetched::Whole(bytes)
        } else {
            Fetched::Tail {
                start: range.start,
                bytes,
            }
        })
    }

    /// All of the object, now.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn whole(&self) -> Result<Vec<u8>, String> {
        self.remote
            .rt
            .block_on(download(&self.remote, &self.key, 0..self.size))
    }

    /// Byte ranges of the object, fetched together (near ones merged into
    /// one request, several requests at once).
    #[cfg(feature = "parquet")]
    pub(crate) fn ranges(
        &self,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<bytes::Bytes>, String> {
        self.remote
            .rt
            .block_on(
                self.remote
                    .store
                    .get_ranges(&Key::from(self.key.as_str()), ranges),
            )
            .map_err(|e| explain(&e))
    }
}

async fn download(
    remote: &Remote,
    key: &str,
    range: std::ops::Range<u64>,
) -> Result<Vec<u8>, String> {
    let size = range.end - range.start;
    let opts = object_store::GetOptions {
        range: (range.start > 0).then(|| range.clone().into()),
        ..Default::default()
    };
    let got = remote
        .store
        .get_opts(&Key::from(key), opts)
        .await
        .map_err(|e| explain(&e))?;
    let mut body = got.into_stream();
    let mut out = Vec::with_capacity(size as usize);
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(c) => out.extend_from_slice(&c),
            Err(e) => {
                return Err(format!(
                    "{} after {} of {size} bytes",
                    explain(&e),
                    out.len()
                ))
            }
        }
    }
    if out.len() as u64 != size {
        return Err(format!(
            "the body ended after {} of {size} bytes",
            out.len()
        ));
    }
    Ok(out)
}

/// A Parquet object read by ranges: its tail is held from the start; the
/// column chunks a scan needs are fetched together once the metadata is
/// known ([`will_read`](Self::will_read)); anything else asked for is
/// fetched when asked.
#[cfg(feature = "parquet")]
pub(crate) struct RangedParquet {
    object: Arc<S3Object>,
    /// Pieces held, by start offset.
    held: Mutex<std::collections::BTreeMap<u64, bytes::Bytes>>,
}

#[cfg(feature = "parquet")]
impl RangedParquet {
    pub(crate) fn new(object: Arc<S3Object>, start: u64, tail: Vec<u8>) -> Arc<RangedParquet> {
        let mut held = std::collections::BTreeMap::new();
        held.insert(start, bytes::Bytes::from(tail));
        Arc::new(RangedParquet {
            object,
            held: Mutex::new(held),
        })
    }

    /// The object's size.
    pub(crate) fn size(&self) -> u64 {
        self.object.size
    }

    /// Fetches `ranges` (those not already held) in one go.
    pub(crate) fn will_read(&self, ranges: &[std::ops::Range<u64>]) -> Result<(), String> {
        let missing: Vec<_> = ranges
            .iter()
            .filter(|r| self.find(r.start, r.end - r.start).is_none())
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let got = self.object.ranges(&missing)?;
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for (r, b) in missing.iter().zip(got) {
            held.insert(r.start, b);
        }
        Ok(())
    }

    /// The held piece covering `start..start + len`, from `start` to the
    /// piece's end.
    fn find(&self, start: u64, len: u64) -> Option<bytes::Bytes> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let (&s, piece) = held.range(..=start).next_back()?;
        let off = (start - s) as usize;
        (off as u64 + len <= piece.len() as u64).then(|| piece.slice(off..))
    }

    /// `start..start + len` (`len` at least), from what is held or fetched now.
    fn bytes_at(&self, start: u64, len: u64) -> parquet::errors::Result<bytes::Bytes> {
        if let Some(b) = self.find(start, len) {
            return Ok(b);
        }
        // Not announced: fetch at least 64 KiB, as page headers are read a
        // few bytes at a time.
        let end = (start + len.max(PARQUET_TAIL)).min(self.object.size);
        if start + len > self.object.size {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{} bytes at {start} are past the end of the object ({} bytes)",
                len, self.object.size
            )));
        }
        let o = &self.object;
        let piece = o
            .remote
            .rt
            .block_on(
                o.remote
                    .store
                    .get_range(&Key::from(o.key.as_str()), start..end),
            )
            .map_err(|e| parquet::errors::ParquetError::External(explain(&e).into()))?;
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(start, piece.clone());
        Ok(piece)
    }
}

/// The reader handed to the Parquet decoder (which takes ownership of it).
#[cfg(feature = "parquet")]
pub(crate) struct RangedHandle(pub Arc<RangedParquet>);

#[cfg(feature = "parquet")]
impl parquet::file::reader::Length for RangedHandle {
    fn len(&self) -> u64 {
        self.0.object.size
    }
}

#[cfg(feature = "parquet")]
impl parquet::file::reader::ChunkReader for RangedHandle {
    type T = bytes::buf::Reader<bytes::Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use bytes::Buf;
        Ok(self.0.bytes_at(start, 1)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        Ok(self.0.bytes_at(start, length as u64)?.slice(..length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_is_its_status_not_any_301_in_the_text() {
        let no_bucket = "Error performing GET http://127.0.0.1:35117/b?list-type=2 in 35.717301ms - \
            Server returned non-2xx status code: 404 Not Found: <Error><Code>NoSuchBucket</Code></Error>";
        assert!(!is_redirect(no_bucket));
        let other = "Error performing GET http://h/b in 12.301ms - Server returned non-2xx status code: 500 Internal Server Error: id 301";
        assert!(!is_redirect(other));
        assert!(is_redirect(
            "Server returned non-2xx status code: 301 Moved Permanently: "
        ));
        assert!(is_redirect("<Error><Code>PermanentRedirect</Code></Error>"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            S3Url::parse("s3://b/AWSLogs/1/"),
            Some(S3Url {
                bucket: "b".into(),
                prefix: "AWSLogs/1/".into()
            })
        );
        assert_eq!(S3Url::parse("s3://b").unwrap().prefix, "");
        assert_eq!(S3Url::parse("s3://"), None);
        assert_eq!(S3Url::parse("/tmp/x"), None);
    }
}
