// An activation whose backward_lane takes one lane instead of (x, g): must not compile.
#include <typenet/typenet.hpp>
using namespace typenet;
struct square : elementwise<square> {
    static constexpr std::string_view name = "square";
    static constexpr std::size_t flops_per_value = 1;
    static constexpr derivative_from derivative = derivative_from::input;
    template <class V>
    static V forward_lane(V z) {
        return z * z;
    }
    template <class V>
    static V backward_lane(V z) {
        return V(2) * z;
    }  // forgets the incoming gradient
};
using net = sequential<input<4>, dense<4>, square, dense<2>>;
int main() { model<net> m; }
