// LeNet with a third pooling whose 5x5 window is larger than the 4x4 map: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, max_pool<5>,
                       flatten, dense<10>>;
int main() { model<net> m; }
