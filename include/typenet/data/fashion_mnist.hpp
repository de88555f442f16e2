#pragma once
// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 28x28 grey-scale pictures of
// clothing in 10 classes, 60000 for training and 10000 for testing, as four IDX
// files. Debian's dataset-fashion-mnist installs them gzipped in
// fashion_mnist_default_dir; unpacked copies (without .gz) are read as well.
//
// Needs zlib (see idx.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "dataset.hpp"
#include "idx.hpp"
#include "labeled_images.hpp"

namespace typenet::data {

inline constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

/// Class names by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_class_names = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

inline constexpr std::size_t fashion_mnist_rows = 28;
inline constexpr std::size_t fashion_mnist_cols = 28;

struct fashion_mnist_options {
    std::size_t train_limit = 0;  ///< keep only the first N training samples (0: all), for quick runs
    std::size_t test_limit = 0;   ///< keep only the first N test samples (0: all)
    /// Per pixel, subtract the training set's mean and divide by its standard
    /// deviation (+ standardize_epsilon); the test set gets the training statistics,
    /// so nothing about the test images leaks into the inputs.
    bool standardize = false;
    /// Added to every pixel's standard deviation. Border pixels are almost always
    /// blank (std 0.0004 over all 60000 images, exactly 0 in small subsets); without
    /// a floor worth a few grey levels their rare ink would be magnified thousands
    /// of times. With it, no standardised value exceeds 1 / epsilon in magnitude.
    double standardize_epsilon = 0.01;
};

template <class T = float>
struct fashion_mnist_set {
    labeled_data<T> train, test;
};

/// The images as bytes (one sample per row) with their labels; with limit > 0 only
/// the first `limit` of them. Throws data_error unless there are
/// count * rows * cols pixels and one label per image.
inline labeled_images to_labeled_images(const idx_images& images, const std::vector<std::uint8_t>& labels,
                                        std::size_t limit = 0) {
    if (images.pixels.size() != images.count * images.rows * images.cols)
        throw data_error("images and labels: " + std::to_string(images.pixels.size()) + " pixels for " +
                         std::to_string(images.count) + " images of " + std::to_string(images.rows) + "x" +
                         std::to_string(images.cols));
    if (labels.size() != images.count)
        throw data_error("images and labels: " + std::to_string(images.count) + " images but " +
                         std::to_string(labels.size()) + " labels");
    const std::size_t n = limit > 0 ? std::min(limit, images.count) : images.count;
    const std::size_t features = images.rows * images.cols;
    labeled_images d;
    d.pixels = xt::xtensor<std::uint8_t, 2>::from_shape({n, features});
    typenet::detail::advise_huge_pages(d.pixels.data(), d.pixels.size());  // before the copy first touches the pages
    std::copy_n(images.pixels.begin(), n * features, d.pixels.begin());
    d.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
    return d;
}

/// Images (one sample per row, pixels scaled to [0, 1]) with their labels; see to_labeled_images.
template <class T = float>
labeled_data<T> to_labeled_data(const idx_images& images, const std::vector<std::uint8_t>& labels,
                                std::size_t limit = 0) {
    return to_labeled_images(images, labels, limit).to_labeled_data<T>();
}

namespace detail {

/// The file `name` + ".gz" in dir, or the unpacked `name` when only that exists.
inline std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, const std::string& name) {
    const auto gz = dir / (name + ".gz");
    const auto plain = dir / name;
    std::error_code ec;
    const bool have_gz = std::filesystem::exists(gz, ec), have_plain = std::filesystem::exists(plain, ec);
    if (!have_gz && have_plain) return plain;
    if (!have_gz && !have_plain)
        throw data_error(gz.string() + ": no such file (nor the unpacked " + name +
                         "); Debian's dataset-fashion-mnist package installs the files in " +
                         fashion_mnist_default_dir);
    return gz;  // the reader reports anything else wrong with it
}

/// One half of the data set (train or t10k), checked for 28x28 images, one label
/// per image and labels 0-9.
inline labeled_images load_fashion_mnist_part(const std::filesystem::path& dir, const std::string& prefix,
                                              std::size_t limit) {
    const auto images_path = fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
    const auto labels_path = fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
    const idx_images images = read_idx_images(images_path);
    if (images.rows != fashion_mnist_rows || images.cols != fashion_mnist_cols)
        throw data_error(images_path.string() + ": images are " + std::to_string(images.rows) + "x" +
                         std::to_string(images.cols) + ", Fashion-MNIST's are 28x28");
    const std::vector<std::uint8_t> labels = read_idx_labels(labels_path);
    if (labels.size() != images.count)
        throw data_error(images_path.string() + " holds " + std::to_string(images.count) + " images but " +
                         labels_path.string() + " holds " + std::to_string(labels.size()) +
                         " labels; they must match one to one");
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= fashion_mnist_class_names.size())
            throw data_error(labels_path.string() + ": label " + std::to_string(labels[i]) + " of sample " +
                             std::to_string(i) + " is not a Fashion-MNIST class (0-9)");
    return to_labeled_images(images, labels, limit);
}

/// Per-feature standardisation with the statistics of `train` applied to both sets.
template <class T>
void standardize_by_training_statistics(labeled_data<T>& train, labeled_data<T>& test, double epsilon) {
    const std::size_t n = train.size(), features = train.features();
    // Sums in double: 60000 floats summed in float lose about three digits.
    std::vector<double> mean(features, 0.0), scale(features, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < features; ++k) mean[k] += static_cast<double>(train.inputs(i, k));
    for (auto& m : mean) m /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < features; ++k) {
            const double d = static_cast<double>(train.inputs(i, k)) - mean[k];
            scale[k] += d * d;
        }
    for (auto& s : scale) s = std::sqrt(s / static_cast<double>(n)) + epsilon;

    auto apply = [&](labeled_data<T>& d) {
        for (std::size_t i = 0; i < d.size(); ++i)
            for (std::size_t k = 0; k < features; ++k)
                d.inputs(i, k) = static_cast<T>((static_cast<double>(d.inputs(i, k)) - mean[k]) / scale[k]);
    };
    apply(train);
    apply(test);
}

}  // namespace detail

/// Loads the training and test sets from `dir` (gzipped or unpacked IDX files),
/// pixels in [0, 1] or standardised (see fashion_mnist_options), labels 0-9.
/// Throws data_error naming the file and the problem.
template <class T = float>
fashion_mnist_set<T> fashion_mnist(const std::filesystem::path& dir = fashion_mnist_default_dir,
                                   fashion_mnist_options options = {}) {
    if (options.standardize && !(options.standardize_epsilon > 0))
        throw std::invalid_argument("fashion_mnist: standardize_epsilon must be positive, got " +
                                    std::to_string(options.standardize_epsilon));
    fashion_mnist_set<T> set{
        detail::load_fashion_mnist_part(dir, "train", options.train_limit).template to_labeled_data<T>(),
        detail::load_fashion_mnist_part(dir, "t10k", options.test_limit).template to_labeled_data<T>()};
    if (options.standardize)
        detail::standardize_by_training_statistics(set.train, set.test, options.standardize_epsilon);
    return set;
}

struct fashion_mnist_image_set {
    labeled_images train, test;
};

/// The training and test sets as bytes (labeled_images): the same samples as
/// fashion_mnist<T>() gives in a quarter of the memory, converted to [0, 1] batch
/// by batch. Standardised pixels are not bytes, so options.standardize must be
/// false (std::invalid_argument otherwise). Throws data_error as fashion_mnist does.
inline fashion_mnist_image_set fashion_mnist_images(const std::filesystem::path& dir = fashion_mnist_default_dir,
                                                    fashion_mnist_options options = {}) {
    if (options.standardize)
        throw std::invalid_argument(
            "fashion_mnist_images: standardised pixels are not bytes; load them with "
            "fashion_mnist<T>(dir, {.standardize = true})");
    return {detail::load_fashion_mnist_part(dir, "train", options.train_limit),
            detail::load_fashion_mnist_part(dir, "t10k", options.test_limit)};
}

}  // namespace typenet::data
