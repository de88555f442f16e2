// This machine's FP32 peak on one core: independent FMA chains on xsimd's widest
// batch, enough of them to cover the FMA latency on every port.
#include <chrono>
#include <cstdio>

#include <xsimd/xsimd.hpp>

int main() {
    using V = xsimd::batch<float>;
    constexpr int chains = 12;
    V acc[chains];
    for (int i = 0; i < chains; ++i) acc[i] = V(0.001f * static_cast<float>(i));
    const V a(1.0000001f), b(0.9999999f);
    const long iterations = 400000000L / static_cast<long>(V::size);
    double best = 0;
    for (int run = 0; run < 3; ++run) {
        const auto start = std::chrono::steady_clock::now();
        for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
            for (int i = 0; i < chains; ++i) acc[i] = xsimd::fma(acc[i], a, b);
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, 2.0 * chains * V::size * static_cast<double>(iterations) / s / 1e9);
    }
    V sum = acc[0];
    for (int i = 1; i < chains; ++i) sum += acc[i];
    std::printf("RESULT machine fp32 peak_gflops 1 %.1f\n", best);
    std::fprintf(stderr, "(checksum %g, %zu-wide batches)\n", static_cast<double>(xsimd::hadd(sum)), V::size);
}
