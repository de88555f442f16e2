// A classification loss with regression targets: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4>, dense<3>>;
int main() {
    model<net> m;
    regression_data<float> d;
    fit(m, d, softmax_cross_entropy{}, sgd{});
}
