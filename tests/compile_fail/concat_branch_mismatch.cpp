// The second branch pools 6x6 maps to 3x3 while the first keeps 6x6: they cannot be
// joined along channels, so this must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4, 6, 6>, concat<conv2d<2, 1>, branch<conv2d<2, 1>, max_pool<2>>>, flatten, dense<2>>;
int main() { model<net> m; }
