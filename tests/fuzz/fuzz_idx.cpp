// Fuzz target: the IDX readers on a file holding the input as is. Whether it is
// read plain or gunzipped is decided by its first bytes, as for real files, so the
// corpus (plain and .gz seeds) drives both paths. Both readers see every input:
// one of them fails on the magic number, the other gets past it.
//
// The readers take a path, so the input goes through a file in /dev/shm (or the
// temporary directory): slower than memory, but it is the code users run.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <typenet/data/idx.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path file = typenet_fuzz::scratch_file("idx");
    typenet_fuzz::write_file(file, data, size);
    try {
        const auto images = typenet::data::read_idx_images(file);
        typenet_fuzz::require(images.pixels.size() == images.count * images.rows * images.cols,
                              "read_idx_images: pixel count differs from the dimensions");
        typenet_fuzz::require(16 + images.pixels.size() <= size || (size >= 2 && data[0] == 0x1f && data[1] == 0x8b),
                              "read_idx_images: more pixels than a plain file holds");
    } catch (const typenet::data::data_error&) {}
    try {
        const auto labels = typenet::data::read_idx_labels(file);
        typenet_fuzz::require(!labels.empty(), "read_idx_labels: accepted an empty label file");
    } catch (const typenet::data::data_error&) {}
    return 0;
}
