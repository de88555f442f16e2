// A user layer without a stable name: must not compile, and the message says what is missing.
#include <typenet/typenet.hpp>
using namespace typenet;
struct nameless : layer_base {
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : flatten::stage<In, Index, ParamOffset> {};
};
using net = sequential<input<4>, nameless, dense<2>>;
int main() { model<net> m; }
