// softmax_cross_entropy on a single output (the softmax of one score is always 1). Must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4>, dense<8>, relu, dense<1>>;
int main() {
    model<net> m;
    labeled_data<float> d;
    fit(m, d, softmax_cross_entropy{}, sgd{});
}
