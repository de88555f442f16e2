// A main() for the fuzz targets without libFuzzer (any compiler): runs the target
// once on every file named on the command line, or on every file in the named
// directories. CTest uses it to replay the seed corpora and the regression inputs
// (tests/fuzz/regressions/<target>/: inputs that once made a target fail) in the
// ordinary and the sanitizer builds.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

static void run(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    const std::vector<char> b((std::istreambuf_iterator<char>(in)), {});
    std::printf("%s (%zu bytes)\n", p.c_str(), b.size());
    std::fflush(stdout);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
}

int main(int argc, char** argv) {
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg = argv[i];
        if (fs::is_directory(arg)) {
            for (const auto& e : fs::directory_iterator(arg))
                if (e.is_regular_file()) run(e.path()), ++count;
        } else if (fs::exists(arg)) {
            run(arg), ++count;
        }
    }
    std::printf("replayed %zu inputs\n", count);
    return count > 0 ? 0 : 1;  // nothing replayed: a wrong path, not a pass
}
