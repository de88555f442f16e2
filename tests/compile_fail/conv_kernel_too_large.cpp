// A 7x7 kernel on a 5x5 input without padding: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<1, 5, 5>, conv2d<4, 7>, flatten, dense<2>>;
int main() { model<net> m; }
