// dense after an image without flatten: must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
using net = sequential<input<6, 24, 24>, relu, dense<10>>;
int main() { model<net> m; }
