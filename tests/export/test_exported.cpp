// Compiled with -fno-exceptions and without any typenet I/O or training header:
// only the exported headers (which include <typenet/embedded.hpp>). Checks that
// the exported models give bit-identical outputs to the in-memory models they
// came from, and that predict allocates nothing (global operator new counts).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "exported_lenet.hpp"
#include "exported_lenet_bf16.hpp"
#include "exported_mlp.hpp"
#include "exported_mlp_bf16.hpp"
#include "expected_outputs.hpp"
#include "law_exports.hpp"  // every layer-law case, user-defined layers, resnet and mobilenet

namespace {
std::size_t allocations = 0;
}
void* operator new(std::size_t n) {
    ++allocations;
    void* p = std::malloc(n ? n : 1);
    if (!p) std::abort();
    return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#ifdef __cpp_exceptions
#error "this test must be compiled with -fno-exceptions"
#endif

template <class Model, class Expected>
int check(const char* name) {
    int failures = 0;
    for (int k = 0; k < 4; ++k) {
        const auto before = allocations;
        const auto y =
            Model::predict(std::span<const float, Model::input_size>(Expected::inputs[k], Model::input_size));
        if (allocations != before) {
            std::printf("%s: predict allocated\n", name);
            ++failures;
        }
        if (std::memcmp(y.data(), Expected::outputs[k], sizeof(float) * Model::output_size) != 0) {
            std::printf("%s: input %d: outputs differ from the in-memory model's\n", name, k);
            ++failures;
        }
    }
    return failures;
}

#define TYPENET_EXPORTED_MODEL(name)                                                                 \
    struct name##_model {                                                                            \
        static constexpr std::size_t input_size = name::input_size, output_size = name::output_size; \
        static auto predict(std::span<const float, input_size> x) { return name::predict(x); }       \
    };
TYPENET_EXPORTED_MODEL(exported_mlp)
TYPENET_EXPORTED_MODEL(exported_lenet)
TYPENET_EXPORTED_MODEL(exported_mlp_bf16)
TYPENET_EXPORTED_MODEL(exported_lenet_bf16)
TYPENET_LAW_MODELS(TYPENET_EXPORTED_MODEL)

int main() {
    static_assert(exported_lenet::parameter_count == 44426);
    static_assert(alignof(decltype(exported_lenet::parameters)) >= 4);
    // The bfloat16 header stores two bytes per parameter.
    static_assert(sizeof(exported_lenet_bf16::parameters) == 2 * exported_lenet_bf16::parameter_count);
    const int failures = check<exported_mlp_model, exported_mlp_expected>("mlp") +
                         check<exported_lenet_model, exported_lenet_expected>("lenet") +
                         check<exported_mlp_bf16_model, exported_mlp_bf16_expected>("mlp bf16") +
                         check<exported_lenet_bf16_model, exported_lenet_bf16_expected>("lenet bf16")
#define TYPENET_CHECK_LAW(name) +check<name##_model, name##_expected>(#name)
                             TYPENET_LAW_MODELS(TYPENET_CHECK_LAW);
    int models = 4;
#define TYPENET_COUNT_LAW(name) ++models;
    TYPENET_LAW_MODELS(TYPENET_COUNT_LAW)
    std::printf("%d of %d models' outputs checked: %d passed, %d failed\n", models, models, 4 * models - failures,
                failures);
    return failures == 0 ? 0 : 1;
}
