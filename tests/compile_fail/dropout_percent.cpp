// Dropping 100 percent leaves nothing to train: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<16>, dense<8>, relu, dropout<100>, dense<2>>;
int main() { model<net> m; }
