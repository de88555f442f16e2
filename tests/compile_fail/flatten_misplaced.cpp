// flatten placed after the dense layer instead of before it, so dense (layer 2:
// input<> is not counted) sees the conv's 3-D feature maps. Must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<1, 12, 12>, conv2d<2, 3>, relu, dense<10>, flatten>;
int main() { model<net> m; }
