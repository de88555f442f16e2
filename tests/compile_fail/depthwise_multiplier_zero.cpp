// A depthwise convolution with no filters per channel: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<3, 8, 8>, depthwise_conv2d<3, 1, 1, 0>, flatten, dense<2>>;
int main() { model<net> m; }
