// A layer with no outputs: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<16>, dense<8>, relu, dense<0>>;
int main() { model<net> m; }
