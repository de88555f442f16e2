// A data set of doubles given to a float trainer: must not compile (it once
// compiled, and the rows were copied into the batch as raw bytes).
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4>, dense<3>>;
int main() {
    model<net> m;
    labeled_data<double> d;
    fit(m, d, softmax_cross_entropy{}, sgd{});
}
