#include <cstdio>

#include <typenet/typenet.hpp>

using net = typenet::sequential<typenet::input<2>, typenet::dense<8>, typenet::tanh_act, typenet::dense<2>>;
static_assert(net::parameter_count == 2 * 8 + 8 + 8 * 2 + 2);

int main() {
    const auto train = typenet::data::xor_points<float>(400, 1);
    typenet::model<net> m(1);
    typenet::fit(m, train, typenet::softmax_cross_entropy{}, typenet::sgd{.learning_rate = 0.05, .momentum = 0.9},
                 typenet::fit_options{.epochs = 60, .batch_size = 16, .progress = false});
    const double acc = typenet::accuracy(m, train);
    std::printf("consumer: XOR accuracy %.3f\n", acc);
    return acc > 0.9 ? 0 : 1;
}
