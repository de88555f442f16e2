// A 2-D input (grey images need a channel dimension): must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<28, 28>, flatten, dense<10>>;
int main() { model<net> m; }
