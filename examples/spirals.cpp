// The limits of linear classifiers: on XOR and on two interleaved spirals no line
// separates the classes, so a linear softmax classifier stays near chance, while a
// small MLP with tanh units bends its decision boundary around them.
#include <cstdio>

#include <typenet/typenet.hpp>

using namespace typenet;

using linear_classifier = sequential<input<2>, dense<2>>;
using mlp = sequential<input<2>, dense<16>, tanh_act, dense<16>, tanh_act, dense<2>>;

template <class Net>
double train_and_score(const labeled_data<float>& train, const labeled_data<float>& test, std::size_t epochs) {
    model<Net> m(1);
    fit(m, train, softmax_cross_entropy{}, sgd{.learning_rate = 0.05, .momentum = 0.9},
        fit_options{.epochs = epochs, .batch_size = 16, .seed = 2, .progress = false});
    return accuracy(m, test);
}

int main() {
    struct problem {
        const char* name;
        labeled_data<float> train, test;
    };
    problem problems[] = {
        {"XOR", data::xor_points(1000, 1), data::xor_points(1000, 2)},
        {"two spirals", data::two_spirals(2000, 1.0, 0.01, 3), data::two_spirals(2000, 1.0, 0.01, 4)},
    };
    std::printf("%-12s %18s %30s\n", "problem", "linear (softmax)", "MLP 2-16-16-2 (tanh)");
    for (auto& p : problems) {
        const double linear = train_and_score<linear_classifier>(p.train, p.test, 50);
        const double deep = train_and_score<mlp>(p.train, p.test, 500);
        std::printf("%-12s %17.1f%% %29.1f%%\n", p.name, 100 * linear, 100 * deep);
    }
}
