// typenet against libtorch on the same weights and inputs: outputs and every
// parameter gradient of a softmax cross-entropy step agree, for the MLP and LeNet
// of the benchmarks, in float. Built only where libtorch is installed.
// libtorch first: through glog it defines a CHECK macro that would silently replace
// Catch's (a passing glog CHECK does nothing and counts nothing). Drop it, then let
// Catch define its own.
#include <torch/torch.h>
#undef CHECK

#include <catch2/catch.hpp>

#include <typenet/typenet.hpp>

#include "support.hpp"

using namespace typenet;

namespace {

using mlp = sequential<input<1, 28, 28>, flatten, dense<128>, relu, dense<10>>;
using lenet = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, flatten,
                         dense<120>, relu, dense<84>, relu, dense<10>>;

/// max |a - b| / max |b|: relative to the tensor's scale, so values near zero do not dominate.
double relative_difference(const float* a, const torch::Tensor& b_in) {
    const auto b = b_in.contiguous();
    const float* bp = b.data_ptr<float>();
    double diff = 0, scale = 0;
    for (std::int64_t i = 0; i < b.numel(); ++i) {
        diff = std::max(diff, double(std::abs(a[i] - bp[i])));
        scale = std::max(scale, double(std::abs(bp[i])));
    }
    return diff / std::max(scale, 1e-30);
}

// typenet keeps weights as inputs x outputs ([C*K*K][F] for convolutions); torch as
// outputs x inputs ([F][C][K][K]). These copy one into the other and back.
torch::Tensor torch_layout(std::span<const float> w, const std::vector<std::size_t>& dims) {
    const auto outputs = static_cast<std::int64_t>(dims.back());
    const auto inputs = static_cast<std::int64_t>(w.size()) / outputs;
    auto t = torch::from_blob(const_cast<float*>(w.data()), {inputs, outputs}).t().contiguous();
    if (dims.size() == 4)
        t = t.reshape({outputs, static_cast<std::int64_t>(dims[0]), static_cast<std::int64_t>(dims[1]),
                       static_cast<std::int64_t>(dims[2])});
    return t;
}

torch::Tensor typenet_layout(const torch::Tensor& t) {
    const auto outputs = t.size(0);
    return t.reshape({outputs, -1}).t().contiguous();
}

template <class Net>
void check_parity(torch::nn::Sequential reference) {
    constexpr std::size_t batch = 8;
    model<Net> m(5);
    // Copy typenet's parameters into torch's modules, tensor by tensor, in order.
    std::vector<torch::Tensor> torch_params;
    for (auto& p : reference->parameters()) torch_params.push_back(p);
    std::size_t k = 0;
    {
        torch::NoGradGuard no_grad;
        m.for_each_tensor([&](const tensor_ref<float>& t) {
            const std::vector<std::size_t> dims(t.dims.begin(), t.dims.end());
            auto value = t.name == "weights" ? torch_layout(t.values, dims)
                                             : torch::from_blob(t.values.data(), {static_cast<long>(t.values.size())}).clone();
            REQUIRE(torch_params[k].sizes() == value.sizes());
            torch_params[k].copy_(value);
            ++k;
        });
    }
    REQUIRE(k == torch_params.size());

    const auto x = test_support::random_values<float>(batch * 784, 7);
    const auto labels = test_support::random_labels(batch, 10, 8);
    std::vector<std::int64_t> labels64(labels.begin(), labels.end());

    // typenet: forward, loss, backward.
    workspace<Net, float> ws(batch);
    forward_pass(m.parameters().data(), ws, x.data(), batch);
    const double loss = softmax_cross_entropy::evaluate<10>(ws.output(), labels.data(), ws.output_gradient(), batch);
    std::vector<float> outputs(ws.output(), ws.output() + batch * 10);
    // evaluate() overwrote nothing in the outputs; backward now fills the parameter gradients.
    backward_pass(static_cast<const float*>(m.parameters().data()), ws, batch);

    // torch: the same.
    const auto input = torch::from_blob(const_cast<float*>(x.data()), {static_cast<long>(batch), 1, 28, 28});
    const auto target = torch::from_blob(labels64.data(), {static_cast<long>(batch)}, torch::kInt64);
    const auto logits = reference->forward(input);
    const auto torch_loss = torch::nn::functional::cross_entropy(logits, target);
    torch_loss.backward();

    CHECK(relative_difference(outputs.data(), logits.detach()) <= 1e-5);
    CHECK(std::abs(loss - torch_loss.item<double>()) <= 1e-5 * std::abs(loss));

    // Every parameter gradient, in typenet's layout.
    const float* grads = ws.parameter_gradients().data();
    std::size_t offset = 0;
    k = 0;
    m.for_each_tensor([&](const tensor_ref<float>& t) {
        const auto g = torch_params[k].grad();
        const auto expected = t.name == "weights" ? typenet_layout(g) : g;
        INFO("layer " << t.layer_index << " " << t.name);
        CHECK(relative_difference(grads + offset, expected) <= 1e-5);
        offset += t.values.size();
        ++k;
    });
}

}  // namespace

TEST_CASE("MLP: outputs and gradients agree with libtorch", "[parity]") {
    torch::manual_seed(0);
    check_parity<mlp>(torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 128), torch::nn::ReLU(),
                                            torch::nn::Linear(128, 10)));
}

TEST_CASE("LeNet: outputs and gradients agree with libtorch", "[parity]") {
    torch::manual_seed(0);
    check_parity<lenet>(torch::nn::Sequential(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5)), torch::nn::ReLU(), torch::nn::MaxPool2d(2),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)), torch::nn::ReLU(), torch::nn::MaxPool2d(2),
        torch::nn::Flatten(), torch::nn::Linear(256, 120), torch::nn::ReLU(), torch::nn::Linear(120, 84),
        torch::nn::ReLU(), torch::nn::Linear(84, 10)));
}
