//! The memory allocator, fast for the many small allocations of request handling and frugal with
//! the few large buffers.
//!
//! Small allocations go to mimalloc: with glibc's malloc, `malloc`, `free` and their consolidation
//! were 15 % of the CPU of alert ingestion at 10 alerts per request, and mimalloc raised that
//! rate by about a third (health_bench; see `docs/benchmarks.md`).
//!
//! Allocations of [`LARGE`] and more go to the system allocator, pinned to serve them with mmap,
//! so they go back to the OS as soon as they are freed. The one that matters is argon2id, which
//! needs a 19 MiB buffer per password hash on a blocking thread: mimalloc returns freed memory
//! only when the thread that freed it allocates again, so an idle thread kept its hash buffer
//! resident (`flightdeck serve --demo`, five seconds after start: idle RSS 45–63 MB with every
//! allocation on mimalloc, 24 MB with this split, 22 MB with glibc alone). glibc, left to itself,
//! raises its mmap threshold after the first large free and then kept later buffers on the heap
//! (90 MB idle), hence the pinned threshold.
//!
//! mimalloc is built without transparent huge pages (`no_thp` in Cargo.toml): it asked the kernel
//! for them on its arenas, which then became resident 2 MiB at a time (idle RSS 49 MB against
//! 24 MB without).
//!
//! While Flightdeck starts, mimalloc gives a freed page back to the OS at once rather than a
//! second later ([`StartupPurge`]): it does the delayed purge only when the thread that freed the
//! page allocates again, and the threads that did the start's one large piece of work (the demo's
//! three months of builds, the model's first training) then idle, keeping it all resident
//! (`serve --demo`, five seconds after start: 40-44 MB idle with the delay, 32-33 MB without).
//! Only while starting: purging at once while serving made alert ingestion at 10 alerts a request
//! 15-25 % slower (`health_bench`, `docs/benchmarks.md`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_int, c_long};

/// The size from which an allocation bypasses mimalloc.
pub const LARGE: usize = 1 << 20;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

struct Allocator;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

// SAFETY: every block is freed (and resized) by the allocator that made it: the layout passed back
// to `dealloc` and `realloc` has the size it was allocated with, which picks the same side of
// `LARGE`; a resize that crosses `LARGE` allocates on the other side, copies and frees.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size()) {
            System.alloc(layout)
        } else {
            mimalloc::MiMalloc.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size()) {
            System.alloc_zeroed(layout)
        } else {
            mimalloc::MiMalloc.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(layout.size()) {
            System.dealloc(ptr, layout)
        } else {
            mimalloc::MiMalloc.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (is_large(layout.size()), is_large(new_size)) {
            (false, false) => mimalloc::MiMalloc.realloc(ptr, layout, new_size),
            (true, true) => System.realloc(ptr, layout, new_size),
            _ => {
                // SAFETY: the caller guarantees `new_size`, rounded up to the alignment, fits in
                // an isize, which is what `from_size_align_unchecked` needs.
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let new_ptr = self.alloc(new_layout);
                if !new_ptr.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new_ptr
            }
        }
    }
}

/// Makes glibc serve every allocation of [`LARGE`] and more with mmap (see the module's comment).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_large_buffers_to_os() {
    // SAFETY: mallopt only changes allocator tuning; it is called once, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE as libc::c_int);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_buffers_to_os() {}

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (mimalloc.h; libmimalloc-sys builds v3
/// unless its `v2` feature is on). The unit test checks it is the option whose default is 1000 ms.
const MI_OPTION_PURGE_DELAY: c_int = 15;

// mimalloc's own functions, linked by the mimalloc crate.
extern "C" {
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
}

/// Freed pages go back to the OS at once until this is dropped, then after mimalloc's delay again
/// (see the module's comment).
pub struct StartupPurge {
    delay: c_long,
}

impl StartupPurge {
    pub fn begin() -> StartupPurge {
        // SAFETY: reading and setting an option only change allocator tuning, at any time.
        let delay = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
        StartupPurge { delay }
    }
}

impl Drop for StartupPurge {
    fn drop(&mut self) {
        // SAFETY: as in `begin`.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, self.delay) }
    }
}

#[cfg(test)]
mod tests {
    use super::{mi_option_get, StartupPurge, LARGE, MI_OPTION_PURGE_DELAY};

    #[test]
    fn the_start_purges_at_once_and_then_as_mimalloc_would() {
        // SAFETY: reading an option has no preconditions.
        let delay = || unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        let before = delay();
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(
                before, 1000,
                "not mimalloc 3's purge delay (default 1000 ms)"
            );
        }
        let startup = StartupPurge::begin();
        assert_eq!(delay(), 0);
        drop(startup);
        assert_eq!(delay(), before);
    }

    #[test]
    fn buffers_keep_their_bytes_when_they_grow_or_shrink_across_the_large_size() {
        let mut bytes: Vec<u8> = (0..LARGE - 16).map(|i| (i % 251) as u8).collect();
        bytes.extend((0..64).map(|i| i as u8)); // crosses LARGE: moves to the system allocator
        assert!(bytes.capacity() >= LARGE);
        bytes.truncate(100);
        bytes.shrink_to_fit(); // and back to mimalloc
        assert_eq!(bytes.len(), 100);
        assert!(bytes.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
        let zeroed = vec![0u64; LARGE / 4];
        assert!(zeroed.iter().all(|v| *v == 0));
    }
}
