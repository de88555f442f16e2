#pragma once
// Replaces the global operator new (every form) with one that counts allocations and
// remembers the largest, for the programs that check what allocates: the hot path
// allocates nothing (test_allocations), and readers do not allocate what a header
// merely claims (test_data, test_weights). Include it in exactly one translation unit
// of a program; its other translation units define TYPENET_COUNTING_NEW_COUNTERS_ONLY
// before including it, for the counters alone.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace test_support {
inline std::atomic<std::size_t> allocations{0};         ///< calls of any operator new
inline std::atomic<std::size_t> largest_allocation{0};  ///< the most bytes one call asked for

inline void note_allocation(std::size_t n) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    std::size_t seen = largest_allocation.load(std::memory_order_relaxed);
    while (n > seen && !largest_allocation.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {}
}
}  // namespace test_support

#ifndef TYPENET_COUNTING_NEW_COUNTERS_ONLY
// All out of line: inlined into callers, GCC would pair malloc with operator delete
// (or `new` with free) and warn (-Wmismatched-new-delete). The nothrow and array
// forms too: under AddressSanitizer a form not replaced here is ASan's own, and
// Catch's `new (std::nothrow)` freed by the delete below is a reported mismatch.
__attribute__((noinline)) void* operator new(std::size_t n) {
    test_support::note_allocation(n);
    if (void* p = std::malloc(n > 0 ? n : 1)) return p;
    throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new(std::size_t n, std::align_val_t a) {
    test_support::note_allocation(n);
    const std::size_t align = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
    throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new[](std::size_t n) { return ::operator new(n); }
__attribute__((noinline)) void* operator new[](std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
__attribute__((noinline)) void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return ::operator new(n);
    } catch (...) {
        return nullptr;
    }
}
__attribute__((noinline)) void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return ::operator new(n, t);
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif  // TYPENET_COUNTING_NEW_COUNTERS_ONLY
