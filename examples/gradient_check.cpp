// Is backpropagation right? Compare the analytic gradient of every layer with
// central differences (f(x+h) - f(x-h)) / 2h, in double precision.
#include <cstdio>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

int main() {
    using mlp = sequential<input<8>, dense<16>, relu, dense<12>, sigmoid, dense<10>, tanh_act, dense<4>>;
    model<mlp, double> m(7);
    random_engine rng(1);
    std::vector<double> x(5 * 8);
    for (auto& v : x) v = rng.uniform(-1, 1);
    const std::vector<label_t> y{0, 3, 1, 2, 3};

    const auto report =
        gradient_check(m, softmax_cross_entropy{}, std::span<const double>(x), std::span<const label_t>(y));
    std::printf("%-6s %-12s %20s %20s\n", "layer", "kind", "d/d parameters", "d/d input");
    for (const auto& l : report.layers) {
        std::printf("%-6zu %-12s ", l.layer_index, l.layer.c_str());
        if (l.parameters_checked > 0)
            std::printf("%20.2e ", l.parameter_error);
        else
            std::printf("%20s ", "-");
        std::printf("%20.2e\n", l.input_error);
    }
    std::printf("max relative error %.2e (%s)\n", report.max_error(), report.max_error() < 1e-6 ? "ok" : "WRONG");
    return report.max_error() < 1e-6 ? 0 : 1;
}
