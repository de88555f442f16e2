// binary_cross_entropy on a 10-class output: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4>, dense<10>>;
int main() {
    model<net> m;
    labeled_data<float> d;
    fit(m, d, binary_cross_entropy{}, sgd{});
}
