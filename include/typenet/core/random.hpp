#pragma once
// A small, fully specified random generator (xoshiro256** seeded by splitmix64).
// The standard library's distributions and std::shuffle are implementation-defined,
// so they would make "same seed => same weights" hold only on one standard library;
// everything random in typenet goes through this instead.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>

namespace typenet {

class random_engine {
public:
    explicit random_engine(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        for (auto& s : state_) s = splitmix64(seed);
        has_spare_normal_ = false;
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method).
    std::uint64_t below(std::uint64_t n) {
        __uint128_t m = static_cast<__uint128_t>(next()) * n;
        auto low = static_cast<std::uint64_t>(m);
        if (low < n) {
            const std::uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                m = static_cast<__uint128_t>(next()) * n;
                low = static_cast<std::uint64_t>(m);
            }
        }
        return static_cast<std::uint64_t>(m >> 64);
    }

    /// Standard normal (Box-Muller, both values used).
    double normal() {
        if (has_spare_normal_) {
            has_spare_normal_ = false;
            return spare_normal_;
        }
        double u1 = 0;
        while (u1 <= 0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        spare_normal_ = r * std::sin(2 * std::numbers::pi * u2);
        has_spare_normal_ = true;
        return r * std::cos(2 * std::numbers::pi * u2);
    }
    double normal(double mean, double stddev) { return mean + stddev * normal(); }

    /// Fisher-Yates shuffle: a permutation drawn without replacement.
    template <class U>
    void shuffle(std::span<U> items) {
        for (std::size_t i = items.size(); i > 1; --i) {
            const auto j = static_cast<std::size_t>(below(i));
            std::swap(items[i - 1], items[j]);
        }
    }

    /// Everything that determines the numbers to come, for checkpoints: a
    /// generator restored from it continues exactly where this one is.
    struct snapshot {
        std::uint64_t words[4];
        double spare_normal;
        bool has_spare_normal;
    };
    snapshot save() const noexcept {
        return {{state_[0], state_[1], state_[2], state_[3]}, spare_normal_, has_spare_normal_};
    }
    void restore(const snapshot& s) noexcept {
        for (int i = 0; i < 4; ++i) state_[i] = s.words[i];
        spare_normal_ = s.spare_normal;
        has_spare_normal_ = s.has_spare_normal;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4]{};
    double spare_normal_ = 0;
    bool has_spare_normal_ = false;
};

}  // namespace typenet
