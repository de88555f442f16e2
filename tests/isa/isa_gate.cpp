// Runs a test program built for one x86-64 instruction-set level if this CPU can
// execute it; otherwise prints why and exits with 77, which CTest reports as
// "Skipped" under the test's name (SKIP_RETURN_CODE) instead of counting a pass.
// Built without -march, so the gate itself runs on any x86-64.
//
//   isa_gate LEVEL PROGRAM [ARGS...]      LEVEL: sse2 | avx2 | avx512
//
// TYPENET_PRETEND_CPU_LACKS=avx512 (a comma-separated list of levels) makes the
// gate treat those levels as missing: how a test shows that the skip is reported.
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include <unistd.h>

namespace {

struct level {
    std::string_view name;
    const char* features;  // what the level's -march requires, for the message
    bool (*supported)();
};

// The psABI levels the builds use: -march=x86-64, x86-64-v3, x86-64-v4.
const level levels[] = {
    {"sse2", "SSE2", [] { return __builtin_cpu_supports("x86-64") != 0; }},
    {"avx2", "AVX2, FMA, BMI1/2, F16C, MOVBE (x86-64-v3)", [] { return __builtin_cpu_supports("x86-64-v3") != 0; }},
    {"avx512", "AVX-512 F, BW, CD, DQ, VL (x86-64-v4)", [] { return __builtin_cpu_supports("x86-64-v4") != 0; }},
};

bool pretended_missing(std::string_view name) {
    const char* list = std::getenv("TYPENET_PRETEND_CPU_LACKS");
    if (list == nullptr) return false;
    std::string_view rest(list);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        if (rest.substr(0, comma) == name) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: isa_gate sse2|avx2|avx512 PROGRAM [ARGS...]\n");
        return 2;
    }
    const std::string_view wanted = argv[1];
    for (const auto& l : levels) {
        if (l.name != wanted) continue;
        if (!l.supported() || pretended_missing(l.name)) {
            std::printf("skipped: %s is built for %s (%s), which this CPU lacks\n", argv[2], argv[1], l.features);
            return 77;
        }
        std::printf("running %s, built for %s (%s)\n", argv[2], argv[1], l.features);
        std::fflush(stdout);
        execv(argv[2], argv + 2);
        std::fprintf(stderr, "isa_gate: cannot run %s: %s\n", argv[2], std::strerror(errno));
        return 2;
    }
    std::fprintf(stderr, "isa_gate: unknown level '%s' (sse2, avx2 or avx512)\n", argv[1]);
    return 2;
}
