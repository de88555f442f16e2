// A type that is not a layer in the list (here a nested sequential): must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using block = sequential<input<8>, dense<8>, relu>;
using net = sequential<input<8>, block, dense<2>>;
int main() { model<net> m; }
