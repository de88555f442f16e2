// Which convolution kernel for typenet's conv2d forward: im2col + the register-
// blocked GEMM (what conv2d uses), or a direct convolution vectorised over output
// positions, or over output channels? Measured on LeNet's two convolutions,
// batch 64, float, one thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

namespace {

// Direct convolution: for each filter and output row, accumulate w * shifted input
// rows into a row of outputs held in vectors (no im2col buffer).
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t K>
void direct_conv(const float* x, const float* w /* [C*K*K][F] */, const float* bias, float* y) {
    using V = kernels::simd<float>;
    constexpr std::size_t OH = H - K + 1, OW = W - K + 1, L = V::size;
    constexpr std::size_t vectors = (OW + L - 1) / L;
    float row_in[W + L * vectors]{};  // padded copy so whole vectors can be loaded
    for (std::size_t f = 0; f < F; ++f)
        for (std::size_t oy = 0; oy < OH; ++oy) {
            V acc[vectors];
            for (auto& a : acc) a = V(bias[f]);
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t ki = 0; ki < K; ++ki) {
                    std::copy_n(x + (c * H + oy + ki) * W, W, row_in);
                    for (std::size_t kj = 0; kj < K; ++kj) {
                        const V wv(w[((c * K + ki) * K + kj) * F + f]);
                        for (std::size_t v = 0; v < vectors; ++v)
                            acc[v] = xsimd::fma(wv, V::load_unaligned(row_in + kj + v * L), acc[v]);
                    }
                }
            float out[L * vectors];
            for (std::size_t v = 0; v < vectors; ++v) acc[v].store_unaligned(out + v * L);
            std::copy_n(out, OW, y + (f * OH + oy) * OW);
        }
}

// Direct convolution vectorised over output channels: the weights of patch value q
// for all filters are one contiguous row of W ([C*K*K][F]), so each input value is
// broadcast once and multiplied into a block of 4 output positions x F channels.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t K>
void direct_conv_channels(const float* x, const float* w, const float* bias, float* y) {
    using V = kernels::simd<float>;
    constexpr std::size_t OH = H - K + 1, OW = W - K + 1, L = V::size, NV = (F + L - 1) / L, P = 4;
    static_assert(OW % P == 0);
    float wpad[C * K * K][NV * L]{};  // weights padded to whole vectors
    for (std::size_t q = 0; q < C * K * K; ++q)
        for (std::size_t f = 0; f < F; ++f) wpad[q][f] = w[q * F + f];
    float bpad[NV * L]{};
    std::copy_n(bias, F, bpad);
    for (std::size_t oy = 0; oy < OH; ++oy)
        for (std::size_t ox = 0; ox < OW; ox += P) {
            V acc[P][NV];
            for (std::size_t p = 0; p < P; ++p)
                for (std::size_t v = 0; v < NV; ++v) acc[p][v] = V::load_unaligned(bpad + v * L);
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t ki = 0; ki < K; ++ki)
                    for (std::size_t kj = 0; kj < K; ++kj) {
                        const float* wq = wpad[(c * K + ki) * K + kj];
                        const float* xr = x + (c * H + oy + ki) * W + ox + kj;
                        for (std::size_t v = 0; v < NV; ++v) {
                            const V wv = V::load_unaligned(wq + v * L);
                            for (std::size_t p = 0; p < P; ++p) acc[p][v] = xsimd::fma(V(xr[p]), wv, acc[p][v]);
                        }
                    }
            for (std::size_t p = 0; p < P; ++p) {
                float out[NV * L];
                for (std::size_t v = 0; v < NV; ++v) acc[p][v].store_unaligned(out + v * L);
                for (std::size_t f = 0; f < F; ++f) y[(f * OH + oy) * OW + ox + p] = out[f];
            }
        }
}

template <class F>
double median_seconds(F&& f, int repeats) {
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t K>
void compare(const char* name) {
    constexpr std::size_t batch = 64;
    using stage = conv2d_stage<shape<C, H, W>, F, K, 1, 0, 0, 0, identity>;
    random_engine rng(1);
    std::vector<float> params(stage::parameter_count), x(batch * C * H * W), y1(batch * stage::output_shape::size),
        y2(y1.size()), scratch(stage::scratch_size);
    for (auto& v : params) v = static_cast<float>(rng.uniform(-1, 1));
    for (auto& v : x) v = static_cast<float>(rng.uniform(0, 1));
    const float* bias = params.data() + stage::weight_count;
    auto im2col = [&] { stage::forward(params.data(), x.data(), y1.data(), batch, scratch.data()); };
    auto direct = [&] {
        for (std::size_t b = 0; b < batch; ++b)
            direct_conv<C, H, W, F, K>(x.data() + b * C * H * W, params.data(), bias,
                                       y2.data() + b * stage::output_shape::size);
    };
    std::vector<float> y3(y1.size());
    auto channels = [&] {
        for (std::size_t b = 0; b < batch; ++b)
            direct_conv_channels<C, H, W, F, K>(x.data() + b * C * H * W, params.data(), bias,
                                                y3.data() + b * stage::output_shape::size);
    };
    im2col();
    direct();
    channels();
    double diff = 0;
    for (std::size_t i = 0; i < y1.size(); ++i)
        diff = std::max({diff, double(std::abs(y1[i] - y2[i])), double(std::abs(y1[i] - y3[i]))});
    const double t1 = median_seconds(im2col, 201), t2 = median_seconds(direct, 201), t3 = median_seconds(channels, 201);
    const double gflop = 2.0 * stage::Q * F * stage::N * batch / 1e9;
    std::printf("| %s | %.0f us (%.1f GFLOP/s) | %.0f us (%.1f GFLOP/s) | %.0f us (%.1f GFLOP/s) | %.1e |\n", name,
                t1 * 1e6, gflop / t1, t2 * 1e6, gflop / t2, t3 * 1e6, gflop / t3, diff);
}

}  // namespace

int main() {
    std::printf(
        "| LeNet convolution, batch 64 | im2col + GEMM | direct, over positions | direct, over channels | max "
        "difference |\n");
    std::printf("|---|---|---|---|---|\n");
    compare<1, 28, 28, 6, 5>("1->6, 5x5, 28x28");
    compare<6, 12, 12, 16, 5>("6->16, 5x5, 12x12");
}
