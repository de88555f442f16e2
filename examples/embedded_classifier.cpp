// An application with a trained model compiled in: it reads one 28x28 grey image
// (PGM, binary or text, or PNG; a path or "-" for stdin) and prints the predicted
// class and the probabilities. The model comes from a header written by
// typenet::export_header (the Fashion-MNIST example writes models/<model>.hpp):
// no weight file is read, nothing is allocated to infer. With --repeat N it also
// times N inferences of the image and prints the median latency per image.
//
// Build against your own model:
//   cmake -S . -B build -DTYPENET_EMBEDDED_MODEL=$PWD/models/cnn.hpp -DTYPENET_EMBEDDED_NAMESPACE=fashion_cnn
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
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
bool parse_pgm(const std::vector<unsigned char>& bytes, std::vector<float>& pixels, int& w, int& h,
               std::string& error) {
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

// Times `runs` inferences of one image, each on its own (what an app classifying
// images one at a time sees), and prints the median, min and max per image.
void print_latency(const std::vector<float>& pixels, std::size_t runs) {
    using clock = std::chrono::steady_clock;
    std::vector<double> micros(runs);
    float sink = 0;
    for (std::size_t r = 0; r < runs; ++r) {
        // The barrier makes the compiler assume the pixels changed: every run infers again.
        asm volatile("" : : "r"(pixels.data()) : "memory");
        const auto t0 = clock::now();
        const auto scores = model::predict(std::span<const float, model::input_size>(pixels.data(), model::input_size));
        const auto t1 = clock::now();
        sink += scores[0];
        micros[r] = std::chrono::duration<double, std::micro>(t1 - t0).count();
    }
    std::sort(micros.begin(), micros.end());
    const double median = runs % 2 ? micros[runs / 2] : (micros[runs / 2 - 1] + micros[runs / 2]) / 2;
    std::printf("latency: median %.2f us per image over %zu runs (min %.2f, max %.2f)%s\n", median, runs,
                micros.front(), micros.back(), sink == sink ? "" : " (NaN scores)");
}

}  // namespace

int main(int argc, char** argv) {
    // --repeat N: also time N inferences of the image and print the median per image.
    long repeat = 0;
    const char* image = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--repeat" && i + 1 < argc) {
            char* end = nullptr;
            repeat = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || repeat < 1 || repeat > 100000000) repeat = -1;
        } else if (!image)
            image = argv[i];
        else
            image = nullptr, repeat = -1;
    }
    if (!image || repeat < 0) {
        std::fprintf(stderr, "usage: %s [--repeat N] IMAGE.pgm|IMAGE.png|-\n", argv[0]);
        return 2;
    }
    argv[1] = const_cast<char*>(image);  // the messages below name the image as argv[1]
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
    auto name = [](std::size_t i) {
        return model::output_size == 10 ? std::string(fashion_names[i]) : std::to_string(i);
    };
    std::printf("class %zu (%s)\n", best, name(best).c_str());
    for (std::size_t i = 0; i < model::output_size; ++i) std::printf("  %-12s %.4f\n", name(i).c_str(), probability[i]);
    if (repeat > 0) print_latency(pixels, static_cast<std::size_t>(repeat));
    return 0;
}
