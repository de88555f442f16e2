// Prints the typenet type declaration of the network in an ONNX file, to paste
// into a program that imports it with typenet::load_onnx:
//
//   $ onnx_declaration lenet.onnx [alias]
//   using imported = typenet::sequential<typenet::input<1, 28, 28>, typenet::conv2d<6, 5, 1, 2>, typenet::relu, ...>;
//
// With --layers, also one line per layer: the ONNX node, its op type and the shapes.
#include <cstdio>
#include <string>

#include <typenet/io/onnx_graph.hpp>

int main(int argc, char** argv) {
    bool layers = false;
    std::string path, alias = "imported";
    int positional = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--layers")
            layers = true;
        else if (positional == 0 && ++positional)
            path = a;
        else if (positional == 1 && ++positional)
            alias = a;
        else
            positional = 3;
    }
    if (path.empty() || positional > 2) {
        std::fprintf(stderr, "usage: %s [--layers] MODEL.onnx [ALIAS]\n", argv[0]);
        return 2;
    }
    try {
        const auto graph = typenet::onnx_import::read_graph(std::filesystem::path(path));
        std::printf("%s\n", typenet::onnx_import::declaration(graph, alias).c_str());
        if (layers)
            for (std::size_t i = 0; i < graph.layers.size(); ++i)
                std::printf("// %zu  %-28s <- '%s' (%s)\n", i,
                            typenet::onnx_import::layer_string(graph.layers[i]).c_str(), graph.layers[i].node.c_str(),
                            graph.layers[i].op.c_str());
        return 0;
    } catch (const typenet::onnx_error& e) {
        std::fprintf(stderr, "onnx_declaration: %s\n", e.what());
        return 1;
    }
}
