// batch_norm with no dense or conv2d before it (nothing to fold it into): must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<1, 8, 8>, batch_norm, conv2d<4, 3>, relu, flatten, dense<2>>;
int main() { model<net> m; }
