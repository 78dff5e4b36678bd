//! The progress bar on standard error (indicatif), shown only on a terminal and
//! only once a scan has run long enough to need one.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Scans shorter than this show no bar at all.
const DELAY: Duration = Duration::from_millis(400);

/// A bar of bytes read and files done.
pub struct Bar {
    bar: ProgressBar,
    files: u64,
    done: std::sync::atomic::AtomicU64,
    started: Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Bar {
    /// A bar for `total` on-disk bytes (`None` when unknown, as for standard
    /// input) over `files` files; `None` when stderr is not a terminal or `quiet`.
    pub fn new(total: Option<u64>, files: u64, quiet: bool) -> Option<Bar> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::hidden())
                .with_style(
                    ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {msg} {decimal_bytes_per_sec} ETA {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()).with_style(
                ProgressStyle::with_template("{spinner} {decimal_bytes} {msg} {decimal_bytes_per_sec}")
                    .expect("valid template"),
            ),
        };
        bar.set_message(format!("0/{files} files"));
        Some(Bar {
            bar,
            files,
            done: Default::default(),
            started: Instant::now(),
            shown: Default::default(),
        })
    }

    fn maybe_show(&self) {
        use std::sync::atomic::Ordering;
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() > DELAY {
            self.shown.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl flowscan::Progress for Bar {
    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
        self.maybe_show();
    }

    fn file_done(&self) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let noun = if self.files == 1 { "file" } else { "files" };
        self.bar.set_message(format!("{n}/{} {noun}", self.files));
        self.maybe_show();
    }
}
