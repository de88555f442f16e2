// Linear classifiers s = W x + b on three 2-D Gaussian blobs, trained two ways:
// softmax + negative log-likelihood, and the multiclass SVM (hinge) loss.
// Prints each learned decision rule: class k's score as a function of (x1, x2).
#include <cstdio>

#include <typenet/typenet.hpp>

using namespace typenet;

using linear = sequential<input<2>, dense<3>>;

template <class Loss>
void train_and_show(const char* name, Loss loss, double learning_rate, const labeled_data<float>& train,
                    const labeled_data<float>& test) {
    model<linear> m(1);
    fit(m, train, loss, sgd{.learning_rate = learning_rate}, fit_options{.epochs = 20, .progress = false});
    std::printf("%s: test accuracy %.1f %%\n", name, 100 * accuracy(m, test));
    // Weights are stored inputs x outputs: W[k][c] links input k to class c.
    const auto p = m.parameters();
    for (std::size_t c = 0; c < 3; ++c)
        std::printf("  score_%zu = %+.3f x1 %+.3f x2 %+.3f\n", c, p[0 * 3 + c], p[1 * 3 + c], p[6 + c]);
    std::printf("  predict the class with the largest score\n");
}

int main() {
    const auto train = data::gaussian_blobs<float>(600, 3, 0.5, 11);
    const auto test = data::gaussian_blobs<float>(600, 3, 0.5, 12);
    train_and_show("softmax classifier", softmax_cross_entropy{}, 0.1, train, test);
    train_and_show("SVM (hinge loss)   ", hinge{}, 0.01, train, test);
}
