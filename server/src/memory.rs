//! Keeps idle memory low. argon2id needs a 19 MiB buffer per password hash. glibc serves the first
//! one with mmap, but freeing it raises glibc's dynamic mmap threshold, so later buffers come from
//! the heap of whichever blocking thread hashed, and stay resident after use: idle RSS measured
//! 90 MB after the demo's handful of hashes, against 13 MB with the threshold pinned. Pinning it
//! keeps every large buffer on mmap, handed back to the OS when freed.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_large_buffers_to_os() {
    // SAFETY: mallopt only changes allocator tuning; it is called once, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_buffers_to_os() {}
