// An application with a trained model compiled in: it reads one 28x28 grey image
// (PGM, binary or text, or PNG; a path or "-" for stdin) and prints the predicted
// class and the probabilities. The model comes from a header written by
// typenet::export_header (the Fashion-MNIST example writes models/<model>.hpp):
// no weight file is read, nothing is allocated to infer.
//
// Build against your own model:
//   cmake -S . -B build -DTYPENET_EMBEDDED_MODEL=$PWD/models/cnn.hpp -DTYPENET_EMBEDDED_NAMESPACE=fashion_cnn
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <stb_image.h>

#include TYPENET_EMBEDDED_HEADER

namespace model = TYPENET_EMBEDDED_NAMESPACE;

namespace {

constexpr const char* fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::vector<unsigned char> read_all(const std::string& path) {
    if (path == "-") return {std::istreambuf_iterator<char>(std::cin), {}};
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return {};
    std::vector<unsigned char> bytes;
    unsigned char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.insert(bytes.end(), buf, buf + n);
    std::fclose(f);
    return bytes;
}

// PGM (P5 binary or P2 text), 8-bit. Returns false with a message on anything else.
bool parse_pgm(const std::vector<unsigned char>& bytes, std::vector<float>& pixels, int& w, int& h, std::string& error) {
    std::string text(bytes.begin(), bytes.end());
    std::istringstream in(text);
    std::string magic;
    in >> magic;
    auto next_number = [&](int& v) {
        while (in >> std::ws && in.peek() == '#') in.ignore(1 << 20, '\n');
        return static_cast<bool>(in >> v);
    };
    int maxval = 0;
    if (!next_number(w) || !next_number(h) || !next_number(maxval) || w <= 0 || h <= 0 || maxval <= 0 || maxval > 255) {
        error = "bad PGM header";
        return false;
    }
    pixels.assign(static_cast<std::size_t>(w) * h, 0.0f);
    if (magic == "P5") {
        in.get();  // the single whitespace after maxval
        const auto offset = static_cast<std::size_t>(in.tellg());
        if (offset + pixels.size() > bytes.size()) {
            error = "truncated PGM";
            return false;
        }
        for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = bytes[offset + i] / static_cast<float>(maxval);
        return true;
    }
    for (auto& p : pixels) {
        int v = 0;
        if (!next_number(v)) {
            error = "truncated PGM";
            return false;
        }
        p = static_cast<float>(v) / static_cast<float>(maxval);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s IMAGE.pgm|IMAGE.png|-\n", argv[0]);
        return 2;
    }
    const auto bytes = read_all(argv[1]);
    if (bytes.empty()) {
        std::fprintf(stderr, "%s: cannot read the image\n", argv[1]);
        return 1;
    }
    std::vector<float> pixels;
    int w = 0, h = 0;
    std::string error;
    if (bytes.size() > 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2')) {
        if (!parse_pgm(bytes, pixels, w, h, error)) {
            std::fprintf(stderr, "%s: %s\n", argv[1], error.c_str());
            return 1;
        }
    } else {
        int channels = 0;
        unsigned char* data = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 1);
        if (!data) {
            std::fprintf(stderr, "%s: not a PGM or PNG image (%s)\n", argv[1], stbi_failure_reason());
            return 1;
        }
        pixels.assign(data, data + static_cast<std::size_t>(w) * h);
        for (auto& p : pixels) p /= 255.0f;
        stbi_image_free(data);
    }
    if (static_cast<std::size_t>(w) * h != model::input_size) {
        std::fprintf(stderr, "%s: the image is %dx%d; the model needs %zu pixels (28x28)\n", argv[1], w, h,
                     model::input_size);
        return 1;
    }

    const auto scores = model::predict(std::span<const float, model::input_size>(pixels.data(), model::input_size));
    float top = scores[0];
    for (float s : scores) top = std::max(top, s);
    std::array<float, model::output_size> probability{};
    float sum = 0;
    for (std::size_t i = 0; i < model::output_size; ++i) sum += probability[i] = std::exp(scores[i] - top);
    std::size_t best = 0;
    for (std::size_t i = 0; i < model::output_size; ++i) {
        probability[i] /= sum;
        if (probability[i] > probability[best]) best = i;
    }
    auto name = [](std::size_t i) { return model::output_size == 10 ? std::string(fashion_names[i]) : std::to_string(i); };
    std::printf("class %zu (%s)\n", best, name(best).c_str());
    for (std::size_t i = 0; i < model::output_size; ++i) std::printf("  %-12s %.4f\n", name(i).c_str(), probability[i]);
    return 0;
}
