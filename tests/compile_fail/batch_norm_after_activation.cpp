// batch_norm after an activation cannot be folded into a layer's weights: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<16>, dense<8>, relu, batch_norm, dense<2>>;
int main() { model<net> m; }
