// dlib's side of the comparison (see common.hpp): the same networks as dlib layer
// types, the same batches in the same order, dnn_trainer with plain SGD (no weight
// decay, no momentum) at the same learning rate.
#include <dlib/dnn.h>

#include <type_traits>

#include "common.hpp"

namespace {

using image = dlib::matrix<float>;

using mlp = dlib::loss_multiclass_log<dlib::fc<10, dlib::relu<dlib::fc<128, dlib::input<image>>>>>;
// A K x K convolution with stride 1 and no padding, as in the other libraries
// (dlib's con<> pads stride-1 convolutions to keep the size; con_ takes the padding).
template <long Filters, long K, class SUBNET>
using con_valid = dlib::add_layer<dlib::con_<Filters, K, K, 1, 1, 0, 0>, SUBNET>;
using lenet = dlib::loss_multiclass_log<dlib::fc<
    10, dlib::relu<dlib::fc<
            84, dlib::relu<dlib::fc<
                    120,
                    dlib::max_pool<
                        2, 2, 2, 2,
                        dlib::relu<con_valid<
                            16, 5, dlib::max_pool<2, 2, 2, 2, dlib::relu<con_valid<6, 5, dlib::input<image>>>>>>>>>>>>>;

// bn-cnn (examples/fashion_models.hpp): 3x3 convolutions padded to keep the size, with
// Norm after the convolutions and the hidden dense layer and Drop before the classifier.
template <long Filters, class SUBNET>
using con_same = dlib::add_layer<dlib::con_<Filters, 3, 3, 1, 1, 1, 1>, SUBNET>;
template <template <class> class ConvNorm, template <class> class DenseNorm, template <class> class Drop>
using bn_cnn_with = dlib::loss_multiclass_log<dlib::fc<
    10,
    Drop<dlib::relu<DenseNorm<dlib::fc<
        128, dlib::max_pool<
                 2, 2, 2, 2,
                 dlib::relu<ConvNorm<con_same<
                     64, dlib::max_pool<2, 2, 2, 2, dlib::relu<ConvNorm<con_same<32, dlib::input<image>>>>>>>>>>>>>>>;
// Trained with batch norm in training mode and dropout 0.25 (set after construction, below) ...
using bn_cnn = bn_cnn_with<dlib::bn_con, dlib::bn_fc, dlib::dropout>;
// ... and inferred as dlib infers with it: batch norm as the affine map of its running
// statistics, dropout as a multiply (dlib converts a trained network into this type).
using bn_cnn_inference = bn_cnn_with<dlib::affine, dlib::affine, dlib::multiply>;

image to_image(const float* p) {
    image m(28, 28);
    std::copy_n(p, 784, &m(0, 0));
    return m;
}

template <class Net, class InferenceNet = Net>
void run(const char* name, std::size_t threads) {
    const auto& data = bench::fashion();
    const auto order = bench::epoch_order();
    Net net;
    dlib::visit_computational_layers(net, [](auto& layer) {
        if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, dlib::dropout_>) layer = dlib::dropout_(0.25f);
    });
    dlib::dnn_trainer<Net> trainer(net, dlib::sgd(0, 0));
    trainer.set_learning_rate(bench::learning_rate);
    trainer.set_mini_batch_size(bench::batch_size);
    trainer.set_min_learning_rate(bench::learning_rate * 1e-3);
    trainer.set_iterations_without_progress_threshold(1000000);  // keep the rate fixed
    // The training set converted into dlib's matrices once, outside the timed epoch, in
    // the epoch's order, so that each batch is a contiguous range handed to the trainer
    // as it is. (typenet's and libtorch's epochs gather their batches from bytes inside
    // the timing; dlib's input type is a matrix per image, so its data set is those.)
    std::vector<image> x;
    std::vector<unsigned long> y;
    x.reserve(order.size());
    y.reserve(order.size());
    for (const std::size_t i : order) {
        x.push_back(to_image(data.train.sample(i)));
        y.push_back(data.train.labels[i]);
    }

    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < order.size(); first += bench::batch_size) {
        const std::size_t n = std::min(bench::batch_size, order.size() - first);
        const auto begin = x.begin() + static_cast<std::ptrdiff_t>(first);
        trainer.train_one_step(begin, begin + static_cast<std::ptrdiff_t>(n),
                               y.begin() + static_cast<std::ptrdiff_t>(first));
    }
    trainer.get_net();  // waits for the trainer's worker thread to finish the last step
    bench::report("dlib", name, "epoch_s", threads, bench::seconds_since(start));
    x = {};  // 188 MB that inference does not need
    y = {};

    net.clean();
    InferenceNet deployed(net);
    std::vector<image> test;
    for (std::size_t i = 0; i < 2000; ++i) test.push_back(to_image(data.test.sample(i)));
    const double latency =
        bench::median_microseconds([&](std::size_t i) { bench::sink = deployed(test[i % test.size()]); });
    bench::report("dlib", name, "latency_us", threads, latency);

    std::vector<std::vector<image>> chunks;
    for (std::size_t r = 0; r < 4; ++r)
        chunks.emplace_back(test.begin() + static_cast<std::ptrdiff_t>(r * bench::throughput_batch),
                            test.begin() + static_cast<std::ptrdiff_t>((r + 1) * bench::throughput_batch));
    const double samples_per_s = bench::throughput(
        [&](std::size_t r) { bench::sink = deployed(chunks[r % chunks.size()], bench::throughput_batch)[0]; },
        bench::throughput_batch);
    bench::report("dlib", name, "throughput", threads, samples_per_s);
}

}  // namespace

int main(int argc, char** argv) {
    // dlib's CPU layers run on BLAS; its thread count is OPENBLAS_NUM_THREADS (bench/run.sh sets it).
    const std::size_t threads = bench::threads_argument(argc, argv);
    // resnet and mobilenet are left out: dlib 19.24 has no depthwise convolution (mobilenet),
    // and its residual blocks (add_prev over tags) would be a second network to keep equal.
    if (bench::selected("mlp")) run<mlp>("mlp", threads);
    if (bench::selected("lenet")) run<lenet>("lenet", threads);
    if (bench::selected("bn-cnn")) run<bn_cnn, bn_cnn_inference>("bn-cnn", threads);
}
