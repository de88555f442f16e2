// The body turns 4 channels into 8 and the block has no projection: x + body(x) cannot
// be added, so this must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4, 6, 6>, residual<conv2d<8, 3, 1, 1>, relu, conv2d<8, 3, 1, 1>>, flatten, dense<2>>;
int main() { model<net> m; }
