// Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/ (run once;
// the files are committed): valid and truncated weight files of the models in
// fuzz_models.hpp, and small valid IDX files, plain and gzipped.
//   make_seeds <source>/tests/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <zlib.h>

#include <typenet/io/weights.hpp>

#include "fuzz_models.hpp"

namespace fs = std::filesystem;
using bytes = std::vector<unsigned char>;

static void write(const fs::path& p, const bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
static void write_gz(const fs::path& p, const bytes& b) {
    gzFile gz = gzopen(p.c_str(), "wb9");
    gzwrite(gz, b.data(), static_cast<unsigned>(b.size()));
    gzclose(gz);
}
static bytes idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims) {
    bytes b;
    auto be32 = [&](std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
    };
    be32(magic);
    std::size_t n = 1;
    for (auto d : dims) {
        be32(d);
        n *= d;
    }
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<unsigned char>(i * 37 + 11));
    return b;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds <tests/fuzz/corpus>\n");
        return 2;
    }
    const fs::path root = argv[1];
    for (const char* t : {"idx", "idx_gz", "weights"}) fs::create_directories(root / t);

    const bytes images = idx(0x803, {3, 4, 5}), labels = idx(0x801, {7});
    write(root / "idx" / "images-3x4x5", images);
    write(root / "idx" / "labels-7", labels);
    write_gz(root / "idx" / "images-3x4x5.gz", images);
    write_gz(root / "idx" / "labels-7.gz", labels);
    write(root / "idx_gz" / "images-3x4x5", images);
    write(root / "idx_gz" / "labels-7", labels);

    const auto weights = [](auto m) { return typenet::detail::encode_weights(m); };
    const bytes mlp = weights(typenet_fuzz::make_model<typenet_fuzz::mlp_model>());
    const bytes conv = weights(typenet_fuzz::make_model<typenet_fuzz::conv_model>());
    // Even lengths: the target loads them as they are (see fuzz_weights.cpp).
    write(root / "weights" / "mlp-float.tnw", mlp);
    write(root / "weights" / "conv-double.tnw", conv);
    write(root / "weights" / "mlp-float-truncated.tnw", bytes(mlp.begin(), mlp.begin() + 60));
    write(root / "weights" / "conv-double-truncated.tnw", bytes(conv.begin(), conv.end() - 100));
    // Odd length: the target recomputes the checksum, so this one is a valid file with a dropped extra byte.
    bytes with_switch = mlp;
    with_switch.push_back(0);
    write(root / "weights" / "mlp-float-rechecksummed.tnw", with_switch);
    return 0;
}
