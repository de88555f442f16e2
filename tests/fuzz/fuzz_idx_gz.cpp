// Fuzz target: the IDX readers' gzip path with well-formed compression. The input
// is the *decompressed* content; it is gzipped here before being read, so every
// mutation reaches the header and size checks behind zlib instead of dying in
// gzip's CRC (fuzz_idx covers corrupt compressed streams).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <zlib.h>

#include <typenet/data/idx.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path file = typenet_fuzz::scratch_file("idx.gz");
    {
        gzFile gz = gzopen(file.c_str(), "wb1");
        typenet_fuzz::require(gz != nullptr, "cannot create the scratch .gz file");
        if (size > 0)
            typenet_fuzz::require(gzwrite(gz, data, static_cast<unsigned>(size)) == static_cast<int>(size),
                                  "cannot write the scratch .gz file");
        typenet_fuzz::require(gzclose(gz) == Z_OK, "cannot close the scratch .gz file");
    }
    try {
        const auto images = typenet::data::read_idx_images(file);
        // Uncompressed, the content must be exactly header + pixels.
        typenet_fuzz::require(16 + images.pixels.size() == size, "read_idx_images (gz): size disagrees with the input");
        typenet_fuzz::require(images.pixels.size() == images.count * images.rows * images.cols,
                              "read_idx_images (gz): pixel count differs from the dimensions");
    } catch (const typenet::data::data_error&) {}
    try {
        const auto labels = typenet::data::read_idx_labels(file);
        typenet_fuzz::require(8 + labels.size() == size, "read_idx_labels (gz): size disagrees with the input");
    } catch (const typenet::data::data_error&) {}
    return 0;
}
