// Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/ (run once;
// the files are committed): valid and truncated weight files of the models in
// fuzz_models.hpp (those with batch_norm hold state tensors), checkpoints that
// fit() writes in the runs of fuzz_models.hpp (mid-epoch, end of epoch, end of
// run), and small valid IDX files, plain and gzipped.
//   make_seeds <source>/tests/fuzz/corpus
// Overwrites the files it writes and leaves any others (the inputs a campaign
// merged in) alone.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <type_traits>
#include <utility>
#include <string>
#include <vector>

#include <zlib.h>

#include <typenet/io/weights.hpp>
#include <typenet/train/checkpoint.hpp>

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
    for (const char* t : {"idx", "idx_gz", "weights", "checkpoint"}) fs::create_directories(root / t);

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
    write(root / "weights" / "mlp-float.tnw", mlp);
    write(root / "weights" / "conv-double.tnw", conv);
    write(root / "weights" / "mlp-float-truncated.tnw", bytes(mlp.begin(), mlp.begin() + 60));
    write(root / "weights" / "conv-double-truncated.tnw", bytes(conv.begin(), conv.end() - 100));

    // Checkpoints, as fit writes them, of the runs the checkpoint target resumes;
    // the trained models' weight files (running statistics moved by training).
    const fs::path scratch = fs::temp_directory_path() / "typenet-make-seeds";
    fs::create_directories(scratch);
    const fs::path out = root / "checkpoint";
    const auto record = [&](const auto& run) {
        auto m = typenet_fuzz::make_model<typename std::decay_t<decltype(run)>::model_type>();
        typenet::fit_options o = run.options;
        o.checkpoint_path = scratch / "run.tnc";
        fs::remove(o.checkpoint_path);
        auto keep = [&] {
            const auto info = typenet::read_checkpoint_info(o.checkpoint_path);
            const fs::path to = out / (std::string(run.name) + "-e" + std::to_string(info.epoch) + "-p" +
                                       std::to_string(info.position) + ".tnc");
            fs::copy_file(o.checkpoint_path, to, fs::copy_options::overwrite_existing);
            std::ifstream in(to, std::ios::binary);
            return bytes((std::istreambuf_iterator<char>(in)), {});
        };
        // When an epoch ends, the file on disk is the previous checkpoint: the last
        // mid-epoch one, or (without those) the end of the epoch before.
        o.on_epoch = [&](const typenet::epoch_record& rec) {
            if (rec.epoch > 1 || o.checkpoint_every_batches > 0) keep();
        };
        typenet::fit(m, run.data(), typenet::softmax_cross_entropy{}, run.optimizer, o);
        return std::make_pair(m, keep());  // the end of the run
    };
    const auto conv_bn = record(typenet_fuzz::conv_bn_sgd_run()).first;
    const auto [mlp_bn, mlp_bn_end] = record(typenet_fuzz::mlp_bn_adam_run());
    const bytes mlp_end = record(typenet_fuzz::mlp_sgd_run()).second;
    fs::remove_all(scratch);
    write(out / "mlp-bn-adam-truncated.tnc", bytes(mlp_bn_end.begin(), mlp_bn_end.end() - 40));
    write(out / "mlp-sgd-truncated.tnc", bytes(mlp_end.begin(), mlp_end.begin() + 100));

    const bytes conv_bn_weights = weights(conv_bn), mlp_bn_weights = weights(mlp_bn);
    write(root / "weights" / "conv-bn-float.tnw", conv_bn_weights);
    write(root / "weights" / "mlp-bn-double.tnw", mlp_bn_weights);
    return 0;
}
