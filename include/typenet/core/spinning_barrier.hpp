#pragma once
// A barrier for a team of threads that meet every few microseconds: it spins for a
// while before it sleeps. A training step of the MLP is about 130 us on one core and
// its threads meet three times a step; std::barrier sleeps in the kernel at once, and
// waking a sleeping thread took tens of microseconds on this project's virtual
// machines, so that two threads ran the MLP's epoch at half the speed of one
// (bench/README.md). Spinning costs a core only while it waits, and it waits at most
// spin_time before it sleeps as std::barrier does (std::atomic::wait), so a team idle
// between epochs, or sharing its cores with other work, does not burn them.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace typenet {

class spinning_barrier {
public:
    /// How long a waiting member spins before it sleeps: longer than the serial work
    /// between two meetings of a training step (gathering a batch: ~20 us for the MLP).
    static constexpr std::chrono::microseconds spin_time{200};

    explicit spinning_barrier(std::size_t members) : members_(members < 1 ? 1 : members) {}
    spinning_barrier(const spinning_barrier&) = delete;
    spinning_barrier& operator=(const spinning_barrier&) = delete;

    /// Returns when all members have arrived. What each member wrote before arriving
    /// is visible to every member after it returns (release by the arrivals, acquire
    /// by the waits).
    void arrive_and_wait() noexcept {
        const std::uint32_t generation = generation_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == members_) {
            arrived_.store(0, std::memory_order_relaxed);
            generation_.store(generation + 1, std::memory_order_release);
            generation_.notify_all();
            return;
        }
        const auto give_up = std::chrono::steady_clock::now() + spin_time;
        for (unsigned spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
            pause();
            // The clock is read every 64 spins (a read costs about as much as the spin).
            if (spins % 64 == 63 && std::chrono::steady_clock::now() > give_up) {
                while (generation_.load(std::memory_order_acquire) == generation)
                    generation_.wait(generation, std::memory_order_acquire);
                return;
            }
        }
    }

private:
    static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::size_t members_;
    std::atomic<std::size_t> arrived_{0};
    std::atomic<std::uint32_t> generation_{0};
};

}  // namespace typenet
