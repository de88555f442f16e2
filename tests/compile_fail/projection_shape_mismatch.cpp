// The body halves the maps (stride 2) but the projection keeps them: its output cannot be
// added to the body's, so this must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<4, 6, 6>, residual<projection<conv2d<8, 1>>, conv2d<8, 3, 2, 1>>, flatten, dense<2>>;
int main() { model<net> m; }
