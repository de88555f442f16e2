#pragma once
// Helpers for the fuzz targets: a scratch file per process for the readers that
// take a path, and a check that aborts (so that libFuzzer records the input)
// when a reader accepts something it must not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace typenet_fuzz {

/// A property the reader must keep; violating it is a finding, like a crash.
inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "typenet fuzz: %s\n", what);
        std::abort();
    }
}

/// TYPENET_FUZZ_VERBOSE set (to anything): the targets say which loads succeeded,
/// e.g. to see that the seeds reach the accepting path (replay_main, -runs=0).
inline bool verbose() {
    static const bool on = std::getenv("TYPENET_FUZZ_VERBOSE") != nullptr;
    return on;
}

/// /dev/shm/typenet-fuzz-<pid>-<suffix> (memory-backed when /dev/shm exists),
/// removed when the process exits normally.
inline std::filesystem::path scratch_file(const std::string& suffix) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                                              : std::filesystem::temp_directory_path();
    static std::filesystem::path made;
    made = dir / ("typenet-fuzz-" + std::to_string(::getpid()) + "-" + suffix);
    std::atexit([] { std::filesystem::remove(made); });
    return made;
}

inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    require(f != nullptr, "cannot create the scratch file");
    require(size == 0 || std::fwrite(data, 1, size, f) == size, "cannot write the scratch file");
    require(std::fclose(f) == 0, "cannot close the scratch file");
}

}  // namespace typenet_fuzz
