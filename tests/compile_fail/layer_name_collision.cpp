// A user activation that calls itself "relu" next to typenet's relu: must not compile
// (weight files could not tell the two apart).
#include <typenet/typenet.hpp>
using namespace typenet;
namespace mine {
struct relu : elementwise<relu> {
    static constexpr std::string_view name = "relu";
    static constexpr std::size_t flops_per_value = 1;
    static constexpr derivative_from derivative = derivative_from::output;
    template <class V>
    static V forward_lane(V z) {
        return typenet::relu::forward_lane(z);
    }
    template <class V>
    static V backward_lane(V y, V g) {
        return typenet::relu::backward_lane(y, g);
    }
};
}  // namespace mine
using net = sequential<input<4>, dense<4>, typenet::relu, dense<4>, mine::relu, dense<2>>;
int main() { model<net> m; }
