//! A counting allocator: the peak of the bytes one thread holds while a closure runs.
//!
//! The counts are per thread, so tests running side by side in one binary do not see each
//! other's allocations. A reallocation counts the new block before the old one is freed
//! (the moment both exist when the block moves), so the peak is never underestimated.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// [`System`] with per-thread counts of the bytes held; install it in a test binary with
/// [`install_counting_allocator!`](crate::install_counting_allocator).
pub struct CountingAllocator;

thread_local! {
    /// Bytes this thread allocated minus bytes it freed since [`peak_bytes`] began (can go
    /// negative when older blocks are freed).
    static HELD: Cell<i64> = const { Cell::new(0) };
    /// The highest `HELD` since [`peak_bytes`] began.
    static PEAK: Cell<i64> = const { Cell::new(0) };
    /// Whether this thread installed the allocator's counting (set by [`peak_bytes`]), so a
    /// binary without it fails loudly instead of measuring nothing.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn add(bytes: usize) {
    let _ = HELD.try_with(|held| {
        let now = held.get() + bytes as i64;
        held.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        let _ = COUNTED.try_with(|counted| counted.set(true));
    });
}

fn sub(bytes: usize) {
    let _ = HELD.try_with(|held| held.set(held.get() - bytes as i64));
}

// SAFETY: every call is forwarded to `System` unchanged; the counting touches only
// const-initialized thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            add(new_size);
            sub(layout.size());
        }
        new
    }
}

/// Installs [`CountingAllocator`] as the test binary's global allocator.
#[macro_export]
macro_rules! install_counting_allocator {
    () => {
        #[global_allocator]
        static COUNTING_ALLOCATOR: $crate::alloc::CountingAllocator =
            $crate::alloc::CountingAllocator;
    };
}

/// Runs `f` and returns its result with the peak number of bytes this thread held during
/// the call beyond what it held before (the result's own allocations included).
///
/// # Panics
///
/// If the binary did not install [`CountingAllocator`] (nothing was counted).
pub fn peak_bytes<R>(f: impl FnOnce() -> R) -> (R, usize) {
    HELD.with(|held| held.set(0));
    PEAK.with(|peak| peak.set(0));
    // One allocation that must be seen, so a binary without the allocator cannot pass.
    COUNTED.with(|counted| counted.set(false));
    drop(std::hint::black_box(Box::new(0u8)));
    assert!(
        COUNTED.with(Cell::get),
        "fuzzing::install_counting_allocator!() is missing from this test binary"
    );
    HELD.with(|held| held.set(0));
    PEAK.with(|peak| peak.set(0));
    let result = f();
    let peak = PEAK.with(Cell::get).max(0) as usize;
    (result, peak)
}
