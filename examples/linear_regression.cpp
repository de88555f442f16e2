// Linear regression y = w x + b + noise, fitted by gradient descent on the squared
// error (the maximum-likelihood loss under Gaussian noise). Full-batch gradient
// descent: every step uses all samples.
#include <cstdio>

#include <typenet/typenet.hpp>

using namespace typenet;

int main() {
    const double true_w = 2.5, true_b = -0.7;
    const auto d = data::noisy_line<double>(200, true_w, true_b, 0.1, 3);

    using line = sequential<input<1>, dense<1>>;  // y = w x + b: two parameters
    model<line, double> m(1);
    const auto h = fit(m, d, mse{}, sgd{.learning_rate = 0.2},
                       fit_options{.epochs = 300, .batch_size = full_batch, .progress = false});

    const double w = m.parameters()[0], b = m.parameters()[1];
    std::printf("true:    y = %.4f x %+.4f\n", true_w, true_b);
    std::printf("learned: y = %.4f x %+.4f   (mean squared error %.5f after %zu steps)\n", w, b, h.last().loss,
                h.size());
    std::printf("error:   w %.2f %%, b %.2f %%\n", 100 * std::abs(w - true_w) / true_w,
                100 * std::abs(b - true_b) / -true_b);
}
