// typenet against libtorch on the same weights and inputs: outputs and every
// parameter gradient of a softmax cross-entropy step agree, in float, for the MLP and
// LeNet of the benchmarks and for bn-cnn (batch norm in training mode, with libtorch
// given typenet's dropout mask, and in inference mode on the running statistics).
// Each prints the largest differences it measured.
// libtorch first: through glog it defines a CHECK macro that would silently replace
// Catch's (a passing glog CHECK does nothing and counts nothing). Drop it, then let
// Catch define its own.
#include <torch/torch.h>
#undef CHECK

#include <catch2/catch.hpp>

#include <algorithm>

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

/// Copies typenet's parameters into torch's modules, tensor by tensor, in order, and
/// returns torch's parameters in that order.
template <class Net>
std::vector<torch::Tensor> copy_parameters(model<Net>& m, torch::nn::Sequential& reference) {
    std::vector<torch::Tensor> torch_params;
    for (auto& p : reference->parameters()) torch_params.push_back(p);
    std::size_t k = 0;
    torch::NoGradGuard no_grad;
    m.for_each_tensor([&](const tensor_ref<float>& t) {
        const std::vector<std::size_t> dims(t.dims.begin(), t.dims.end());
        auto value = t.name == "weights"
                         ? torch_layout(t.values, dims)
                         : torch::from_blob(t.values.data(), {static_cast<long>(t.values.size())}).clone();
        REQUIRE(k < torch_params.size());
        REQUIRE(torch_params[k].sizes() == value.sizes());
        torch_params[k].copy_(value);
        ++k;
    });
    REQUIRE(k == torch_params.size());
    return torch_params;
}

/// Every parameter gradient against torch's, in typenet's layout; returns the largest difference.
/// A bias followed by batch_norm has a zero gradient in exact arithmetic (the batch mean
/// removes it): both sides hold rounding noise there, checked to be tiny (below
/// `tolerance` in absolute value) rather than compared with each other.
template <class Net>
double compare_gradients(model<Net>& m, const float* grads, const std::vector<torch::Tensor>& torch_params,
                         double tolerance, std::vector<std::size_t> bias_before_batch_norm = {}) {
    std::size_t offset = 0, k = 0;
    double worst = 0;
    m.for_each_tensor([&](const tensor_ref<float>& t) {
        const auto g = torch_params[k].grad();
        const auto expected = t.name == "weights" ? typenet_layout(g) : g;
        INFO("layer " << t.layer_index << " " << t.name);
        if (t.name == "bias" && std::find(bias_before_batch_norm.begin(), bias_before_batch_norm.end(),
                                          t.layer_index) != bias_before_batch_norm.end()) {
            double largest = expected.abs().max().item<double>();
            for (std::size_t i = 0; i < t.values.size(); ++i)
                largest = std::max(largest, double(std::abs(grads[offset + i])));
            CHECK(largest <= tolerance);
        } else {
            const double d = relative_difference(grads + offset, expected);
            CHECK(d <= tolerance);
            worst = std::max(worst, d);
        }
        offset += t.values.size();
        ++k;
    });
    return worst;
}

constexpr std::size_t batch = 8;

template <class Net>
void check_parity(const char* name, torch::nn::Sequential reference) {
    model<Net> m(5);
    const auto torch_params = copy_parameters(m, reference);

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

    const double output_difference = relative_difference(outputs.data(), logits.detach());
    CHECK(output_difference <= 1e-5);
    CHECK(std::abs(loss - torch_loss.item<double>()) <= 1e-5 * std::abs(loss));
    const double gradient_difference = compare_gradients(m, ws.parameter_gradients().data(), torch_params, 1e-5);
    std::printf("%s: outputs within %.2e, parameter gradients within %.2e (relative to each tensor's largest)\n", name,
                output_difference, gradient_difference);
}

}  // namespace

TEST_CASE("MLP: outputs and gradients agree with libtorch", "[parity]") {
    torch::manual_seed(0);
    check_parity<mlp>("MLP", torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 128), torch::nn::ReLU(),
                                                   torch::nn::Linear(128, 10)));
}

TEST_CASE("LeNet: outputs and gradients agree with libtorch", "[parity]") {
    torch::manual_seed(0);
    check_parity<lenet>(
        "LeNet", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5)), torch::nn::ReLU(),
                                       torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)),
                                       torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(),
                                       torch::nn::Linear(256, 120), torch::nn::ReLU(), torch::nn::Linear(120, 84),
                                       torch::nn::ReLU(), torch::nn::Linear(84, 10)));
}

namespace {

using bn_cnn = sequential<input<1, 28, 28>, conv2d<32, 3, 1, 1>, batch_norm, relu, max_pool<2>, conv2d<64, 3, 1, 1>,
                          batch_norm, relu, max_pool<2>, flatten, dense<128>, batch_norm, relu, dropout<25>, dense<10>>;

/// Where the fused plan keeps dropout's mask: the position of its stage.
template <class Net>
constexpr std::size_t dropout_stage() {
    std::size_t position = 0;
    boost::hana::for_each(Net::fused_plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (requires { typename S::layer; })
            if constexpr (std::is_same_v<typename S::layer, dropout<25>>) position = S::position;
    });
    return position;
}

/// torch's running statistics in typenet's order (per batch_norm: mean, then variance).
std::vector<torch::Tensor> running_statistics(torch::nn::Sequential& reference) {
    std::vector<torch::Tensor> running;
    for (auto& b : reference->named_buffers())
        if (b.key().ends_with("running_mean") || b.key().ends_with("running_var")) running.push_back(b.value());
    return running;
}

/// max over the state tensors of relative_difference(typenet's, torch's).
double compare_state(model<bn_cnn>& m, const std::vector<torch::Tensor>& running) {
    std::size_t k = 0;
    double worst = 0;
    m.for_each_state_tensor([&](const tensor_ref<float>& t) {
        REQUIRE(k < running.size());
        REQUIRE(running[k].numel() == static_cast<std::int64_t>(t.values.size()));
        worst = std::max(worst, relative_difference(t.values.data(), running[k]));
        ++k;
    });
    CHECK(k == running.size());
    return worst;
}

}  // namespace

TEST_CASE("bn-cnn: batch norm in training and inference mode agrees with libtorch", "[parity]") {
    torch::manual_seed(0);
    namespace nn = torch::nn;
    // Everything but the dropout, which torch is given as typenet's mask before the last layer.
    nn::Sequential whole(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::BatchNorm2d(32), nn::ReLU(),
                         nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)), nn::BatchNorm2d(64),
                         nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(3136, 128), nn::BatchNorm1d(128),
                         nn::ReLU(), nn::Linear(128, 10));

    model<bn_cnn> m(5);
    // gamma, beta and the running statistics away from 1, 0, 0, 1, so that each is seen.
    random_engine rng(6);
    m.for_each_tensor([&](const tensor_ref<float>& t) {
        if (t.name == "gamma")
            for (auto& v : t.values) v = static_cast<float>(rng.uniform(0.5, 1.5));
        if (t.name == "beta")
            for (auto& v : t.values) v = static_cast<float>(rng.uniform(-0.2, 0.2));
    });
    m.for_each_state_tensor([&](const tensor_ref<float>& t) {
        const bool variance = t.name == "running_var";
        for (auto& v : t.values) v = static_cast<float>(variance ? rng.uniform(0.5, 2.0) : rng.uniform(-0.3, 0.3));
    });
    const auto torch_params = copy_parameters(m, whole);
    const auto running = running_statistics(whole);
    {
        torch::NoGradGuard no_grad;
        std::size_t k = 0;
        m.for_each_state_tensor([&](const tensor_ref<float>& t) {
            running[k++].copy_(torch::from_blob(t.values.data(), {static_cast<long>(t.values.size())}));
        });
        REQUIRE(k == running.size());
    }
    REQUIRE(compare_state(m, running) == 0);

    const auto x = test_support::random_values<float>(batch * 784, 7);
    const auto labels = test_support::random_labels(batch, 10, 8);
    std::vector<std::int64_t> labels64(labels.begin(), labels.end());
    const auto input = torch::from_blob(const_cast<float*>(x.data()), {static_cast<long>(batch), 1, 28, 28});
    const auto target = torch::from_blob(labels64.data(), {static_cast<long>(batch)}, torch::kInt64);

    // Training: batch statistics, a dropout mask, the running statistics moved.
    workspace<bn_cnn, float> ws(batch);
    random_engine masks(9);
    const pass_mode<float> training{true, m.state().data(), m.state().data(), &masks};
    forward_pass(m.parameters().data(), ws, x.data(), batch, false, training);
    const double loss = softmax_cross_entropy::evaluate<10>(ws.output(), labels.data(), ws.output_gradient(), batch);
    const std::vector<float> outputs(ws.output(), ws.output() + batch * 10);
    backward_pass(static_cast<const float*>(m.parameters().data()), ws, batch);

    const float* mask_values = ws.saved(dropout_stage<bn_cnn>());
    const auto mask = torch::from_blob(const_cast<float*>(mask_values), {static_cast<long>(batch), 128}).clone();
    REQUIRE(mask.eq(0).any().item<bool>());  // some units dropped, some kept
    REQUIRE(mask.ne(0).any().item<bool>());
    torch::Tensor h = input;
    auto module = whole->begin();
    for (std::size_t i = 0; i + 1 < whole->size(); ++i, ++module) h = module->forward(h);
    const auto logits = module->forward(h * mask);
    const auto torch_loss = torch::nn::functional::cross_entropy(logits, target);
    torch_loss.backward();

    const double output_difference = relative_difference(outputs.data(), logits.detach());
    CHECK(output_difference <= 1e-5);
    CHECK(std::abs(loss - torch_loss.item<double>()) <= 1e-5 * std::abs(loss));
    const double gradient_difference =
        compare_gradients(m, ws.parameter_gradients().data(), torch_params, 1e-4, {0, 4, 9});
    const double state_difference = compare_state(m, running);
    CHECK(state_difference <= 1e-6);

    // Inference: the running statistics (as both just moved them), dropout the identity.
    whole->eval();
    torch::Tensor expected;
    {
        torch::InferenceMode inference;
        expected = whole->forward(input);
    }
    workspace<bn_cnn, float> inference_ws(batch);
    forward_pass(m.parameters().data(), inference_ws, x.data(), batch, false,
                 pass_mode<float>::inference(m.state().data()));
    const double inference_difference = relative_difference(inference_ws.output(), expected);
    CHECK(inference_difference <= 1e-5);
    std::printf(
        "bn-cnn: training outputs within %.2e, parameter gradients within %.2e, running statistics within "
        "%.2e; inference outputs within %.2e (relative to each tensor's largest)\n",
        output_difference, gradient_difference, state_difference, inference_difference);
}
