//! A memory-mapped file that another process truncates while it is read makes
//! the next access to a page past the new end fault (SIGBUS), which kills the
//! process. flowscan maps large plain files for speed (no copy, no read
//! calls), so it guards its maps instead of giving that up: a SIGBUS handler
//! looks the faulting address up among the maps registered here; if it belongs
//! to one, it maps a page of zeros over the missing one, marks the map as
//! truncated and lets the read go on. The scanner then reports the file as read
//! only in part (exit 3) instead of dying with nothing printed. A fault at any
//! other address goes to the handler that was there before (by default, the
//! crash it would have been).
//!
//! ripgrep accepts the crash for the same speed; flowscan's users run it over
//! folders that `aws s3 sync` may be rewriting, so it takes the extra care.

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Maps that can be guarded at once; a file mapped while every slot is
    /// taken is read into memory instead (see [`register`]).
    const SLOTS: usize = 256;

    struct Slot {
        start: AtomicUsize,
        len: AtomicUsize,
        faulted: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        faulted: AtomicBool::new(false),
    };
    static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    /// The handler that was installed before ours, as a raw `sigaction`.
    static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();

    fn install() {
        INSTALL.call_once(|| {
            // SAFETY: plain libc calls; `act` is fully initialised before use and
            // PREVIOUS is written once, here, before the handler can run.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = on_sigbus as *const () as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut act.sa_mask);
                let prev = std::ptr::addr_of_mut!(PREVIOUS).cast::<libc::sigaction>();
                if libc::sigaction(libc::SIGBUS, &act, prev) == 0 {
                    INSTALLED.store(true, Ordering::Release);
                }
            }
        });
    }

    /// Guards the map at `start..start + len`; false when it cannot be guarded.
    pub fn register(start: usize, len: usize) -> bool {
        install();
        if !INSTALLED.load(Ordering::Acquire) || len == 0 {
            return false;
        }
        for slot in &TABLE {
            // Claim the slot with a marker address first, so that a concurrent
            // register cannot take it, then publish the real range.
            if slot
                .start
                .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                slot.faulted.store(false, Ordering::Relaxed);
                slot.len.store(len, Ordering::Relaxed);
                slot.start.store(start, Ordering::Release);
                return true;
            }
        }
        false
    }

    fn slot_of(start: usize) -> Option<&'static Slot> {
        TABLE
            .iter()
            .find(|s| s.start.load(Ordering::Acquire) == start)
    }

    /// Stops guarding the map at `start` (before it is unmapped).
    pub fn unregister(start: usize) {
        if let Some(s) = slot_of(start) {
            s.start.store(0, Ordering::Release);
        }
    }

    /// Whether an access to the map at `start` faulted.
    pub fn faulted(start: usize) -> bool {
        slot_of(start).is_some_and(|s| s.faulted.load(Ordering::Acquire))
    }

    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::Relaxed);
        for slot in &TABLE {
            let start = slot.start.load(Ordering::Acquire);
            let len = slot.len.load(Ordering::Relaxed);
            if start == 0 || start == usize::MAX || addr < start || addr >= start + len {
                continue;
            }
            slot.faulted.store(true, Ordering::Release);
            let at = addr & !(page - 1);
            // SAFETY: the page lies inside a read-only map that flowscan owns and
            // still holds (it is unregistered before it is unmapped); replacing
            // it with zeros only changes what that map reads. mmap is a plain
            // system call, safe to make here.
            let r = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if r != libc::MAP_FAILED {
                return;
            }
        }
        // Not one of ours: hand the fault on.
        // SAFETY: PREVIOUS was filled by sigaction before this handler existed.
        unsafe {
            let prev = &*std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>();
            let h = prev.sa_sigaction;
            if h == libc::SIG_DFL || h == libc::SIG_IGN {
                // Restore it and return: the access faults again and the default
                // action ends the process, as it would have without us.
                libc::sigaction(libc::SIGBUS, prev, std::ptr::null_mut());
            } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(h);
                f(sig, info, ctx);
            } else {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
                f(sig);
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub fn register(_: usize, _: usize) -> bool {
        false
    }
    pub fn unregister(_: usize) {}
    pub fn faulted(_: usize) -> bool {
        false
    }
}

/// Guards a map; false when it cannot be (then the caller should not map).
pub(crate) fn register(map: &memmap2::Mmap) -> bool {
    imp::register(map.as_ptr() as usize, map.len())
}

/// Stops guarding a map, before it is unmapped.
pub(crate) fn unregister(map: &memmap2::Mmap) {
    imp::unregister(map.as_ptr() as usize)
}

/// Whether reading the map met a truncation.
pub(crate) fn faulted(map: &memmap2::Mmap) -> bool {
    imp::faulted(map.as_ptr() as usize)
}

/// Cuts the file at `path` to `len` bytes, as another process would while it
/// is mapped.
#[cfg(all(test, unix))]
pub(crate) fn cut(path: &std::path::Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;

    #[test]
    fn a_file_truncated_under_its_map_reads_as_zeros_and_is_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&vec![b'x'; 3 << 20]).unwrap();
        drop(f);
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the test owns the file; the truncation below is the point.
        let map = unsafe { memmap2::Mmap::map(&file).unwrap() };
        assert!(super::register(&map));
        assert_eq!(map[0], b'x');
        super::cut(&path, 4096);
        let sum: u64 = map.iter().map(|&b| b as u64).sum();
        assert_eq!(sum, 4096 * b'x' as u64);
        assert!(super::faulted(&map));
        super::unregister(&map);
    }
}
