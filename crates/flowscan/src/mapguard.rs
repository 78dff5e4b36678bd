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
    use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Maps that can be guarded at once; a file mapped while every slot is
    /// taken is read into memory instead (see [`register`]).
    const SLOTS: usize = 256;

    struct Slot {
        start: AtomicUsize,
        len: AtomicUsize,
        faulted: AtomicBool,
        /// A descriptor of the mapped file, owned by the slot (-1: none).
        fd: AtomicI32,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        faulted: AtomicBool::new(false),
        fd: AtomicI32::new(-1),
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

    /// Guards the map at `start..start + len` of the file open as `fd`
    /// (which the slot then owns; -1 for none); false when it cannot be
    /// guarded (and `fd` is closed).
    pub fn register(start: usize, len: usize, fd: i32) -> bool {
        install();
        if !INSTALLED.load(Ordering::Acquire) || len == 0 {
            close(fd);
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
                slot.fd.store(fd, Ordering::Relaxed);
                slot.start.store(start, Ordering::Release);
                return true;
            }
        }
        close(fd);
        false
    }

    fn close(fd: i32) {
        if fd >= 0 {
            // SAFETY: the descriptor was handed over to be owned here, and
            // nothing else closes it.
            unsafe { libc::close(fd) };
        }
    }

    fn slot_of(start: usize) -> Option<&'static Slot> {
        TABLE
            .iter()
            .find(|s| s.start.load(Ordering::Acquire) == start)
    }

    /// Stops guarding the map at `start` (before it is unmapped).
    pub fn unregister(start: usize) {
        if let Some(s) = slot_of(start) {
            close(s.fd.swap(-1, Ordering::AcqRel));
            s.start.store(0, Ordering::Release);
        }
    }

    /// Whether the map at `start` was cut under it: an access faulted, or
    /// its file is now shorter than the map (a cut inside a page leaves the
    /// rest of that page reading as zeros, without a fault).
    pub fn truncated(start: usize) -> bool {
        slot_of(start).is_some_and(|s| s.faulted.load(Ordering::Acquire) || shrunk(s))
    }

    fn shrunk(s: &Slot) -> bool {
        let fd = s.fd.load(Ordering::Acquire);
        if fd < 0 {
            return false;
        }
        // SAFETY: `fd` is open while its map is registered, and the caller
        // holds the map; `fstat` writes only into `st`.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return false;
        }
        (st.st_size as u64) < s.len.load(Ordering::Relaxed) as u64
    }

    /// Whether an access to the map at `start` faulted.
    #[cfg(test)]
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
    pub fn register(_: usize, _: usize, _: i32) -> bool {
        false
    }
    pub fn unregister(_: usize) {}
    pub fn truncated(_: usize) -> bool {
        false
    }
}

/// Guards a map of `file`; false when it cannot be (then the caller should
/// not map).
pub(crate) fn register(map: &memmap2::Mmap, file: &std::fs::File) -> bool {
    #[cfg(unix)]
    let fd = {
        use std::os::fd::IntoRawFd;
        file.try_clone().map_or(-1, IntoRawFd::into_raw_fd)
    };
    #[cfg(not(unix))]
    let fd = {
        let _ = file;
        -1
    };
    imp::register(map.as_ptr() as usize, map.len(), fd)
}

/// Stops guarding a map, before it is unmapped.
pub(crate) fn unregister(map: &memmap2::Mmap) {
    imp::unregister(map.as_ptr() as usize)
}

/// Whether the map's file was cut under it: reading it met a missing page,
/// or the file is now shorter than the map.
pub(crate) fn truncated(map: &memmap2::Mmap) -> bool {
    imp::truncated(map.as_ptr() as usize)
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
        assert!(super::register(&map, &file));
        assert_eq!(map[0], b'x');
        super::cut(&path, 4096);
        let sum: u64 = map.iter().map(|&b| b as u64).sum();
        assert_eq!(sum, 4096 * b'x' as u64);
        assert!(super::truncated(&map));
        super::unregister(&map);
    }

    /// A file cut inside its last page reads as zeros there without a
    /// fault, and is flagged all the same.
    #[test]
    fn a_file_cut_inside_its_last_page_is_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        std::fs::write(&path, vec![b'x'; (3 << 20) + 200]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the test owns the file; the truncation below is the point.
        let map = unsafe { memmap2::Mmap::map(&file).unwrap() };
        assert!(super::register(&map, &file));
        drop(file);
        assert!(!super::truncated(&map));
        super::cut(&path, (3 << 20) + 100);
        let zeros = map[(3 << 20) + 100..].iter().filter(|&&b| b == 0).count();
        assert_eq!(zeros, 100);
        assert!(!super::imp::faulted(map.as_ptr() as usize));
        assert!(super::truncated(&map));
        super::unregister(&map);
    }
}
