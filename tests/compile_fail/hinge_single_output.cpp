// hinge (multiclass SVM) on a single output: one score cannot rank classes. Must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4>, dense<8>, relu, dense<1>>;
int main() {
    model<net> m;
    labeled_data<float> d;
    fit(m, d, hinge{}, sgd{});
}
