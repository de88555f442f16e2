#pragma once
// Helpers shared by the test programs: seeded random inputs and labels, and a
// scratch directory that cleans up after itself.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <xsimd/xsimd.hpp>

#include <typenet/core/random.hpp>
#include <typenet/data/dataset.hpp>

namespace test_support {

/// The vectors this program's kernels use ("avx512bw, 16 floats a vector"): named by
/// the checks that hold only for some widths, where they do not apply, so that what a
/// build leaves out is said in its output (WARN) rather than passing without a word.
inline std::string this_build() {
    return std::string(xsimd::default_arch::name()) + ", " + std::to_string(xsimd::batch<float>::size) +
           " floats a vector";
}

/// n values uniform in [-scale, scale).
template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, double scale = 1.0) {
    typenet::random_engine rng(seed);
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(rng.uniform(-scale, scale));
    return v;
}

/// n labels uniform in [0, classes).
inline std::vector<typenet::label_t> random_labels(std::size_t n, std::size_t classes, std::uint64_t seed) {
    typenet::random_engine rng(seed);
    std::vector<typenet::label_t> v(n);
    for (auto& y : v) y = static_cast<typenet::label_t>(rng.below(classes));
    return v;
}

/// A fresh directory, removed with everything in it at the end of the test.
struct temporary_directory {
    std::filesystem::path path;
    explicit temporary_directory(const std::string& prefix = "typenet-test") {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    temporary_directory(const temporary_directory&) = delete;
    temporary_directory& operator=(const temporary_directory&) = delete;
    ~temporary_directory() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
    /// File names in the directory, sorted.
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

}  // namespace test_support
