// A user layer whose stage lacks backward: must not compile, and the message names the part.
#include <typenet/typenet.hpp>
using namespace typenet;
struct half : layer_base {
    static constexpr std::string_view name = "half";
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        using layer = half;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index, param_offset = ParamOffset, flops = In::size;
        template <class T>
        static void forward(const T*, const T* in, T* out, std::size_t batch, T*) {
            for (std::size_t i = 0; i < batch * In::size; ++i) out[i] = in[i] / 2;
        }
    };
};
using net = sequential<input<4>, dense<4>, half, dense<2>>;
int main() { model<net> m; }
