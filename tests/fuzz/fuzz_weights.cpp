// Fuzz target: the weight-file loader (io/weights.hpp) on bytes in memory, into
// the models of fuzz_models.hpp: a float MLP, a double conv net, and two with
// batch_norm and dropout, whose files carry state tensors (running statistics)
// after the parameters. The seeds are files of all four.
//
// Random mutations almost never keep the FNV checksum right, which would stop
// every input at the checksum and leave the checks behind it (fingerprint, tensor
// layout, copying) unfuzzed. So every input is loaded twice: as it is, and with
// its last eight bytes (where a valid file keeps the checksum) recomputed, as a
// writer that knew the format would (once when they are right already).
//
// Properties besides "no crash, no sanitizer report, only weights_error":
//  - refused: the model's parameters and state are bytewise what they were;
//  - accepted: saving the model again gives back exactly the input (the loader
//    took every value from the file, into the tensors the file names).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include <typenet/io/weights.hpp>
#include <typenet/typenet.hpp>

#include "fuzz_models.hpp"
#include "fuzz_support.hpp"

namespace {

template <class Model>
void try_load(std::span<const unsigned char> bytes) {
    using T = typename Model::value_type;
    static Model m = typenet_fuzz::make_model<Model>();
    static const Model reference = [] {
        // State values unlike the initial ones (0 and 1), so that a partial copy shows.
        for (std::size_t i = 0; i < m.state().size(); ++i) m.state()[i] = static_cast<T>(0.25 + 0.125 * i);
        return m;
    }();
    try {
        typenet::detail::load_bytes(m, bytes, "fuzz: ");
        if (typenet_fuzz::verbose())
            std::fprintf(stderr, "typenet fuzz: accepted by %s\n", typenet::type_name<Model>().c_str());
        const std::vector<unsigned char> again = typenet::detail::encode_weights(m);
        typenet_fuzz::require(std::equal(again.begin(), again.end(), bytes.begin(), bytes.end()),
                              "load accepted a file that does not save back to the same bytes");
        // Loaded: restore the reference for the next input.
        std::copy(reference.parameters().begin(), reference.parameters().end(), m.parameters().begin());
        std::copy(reference.state().begin(), reference.state().end(), m.state().begin());
    } catch (const typenet::weights_error&) {
        // Refused: the model must be exactly as it was.
        typenet_fuzz::require(typenet_fuzz::same_bytes<T>(m.parameters(), reference.parameters()),
                              "load changed the parameters although it threw");
        typenet_fuzz::require(typenet_fuzz::same_bytes<T>(m.state(), reference.state()),
                              "load changed the state (batch_norm statistics) although it threw");
    }
}

void try_all(std::span<const unsigned char> bytes) {
    try_load<typenet_fuzz::mlp_model>(bytes);
    try_load<typenet_fuzz::conv_model>(bytes);
    try_load<typenet_fuzz::conv_bn_model>(bytes);
    try_load<typenet_fuzz::mlp_bn_model>(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> input(data, size);
    try_all(input);
    if (size >= 16) {
        std::vector<unsigned char> bytes(data, data + size);
        typenet_fuzz::recompute_trailing_checksum(bytes);
        if (!std::equal(bytes.begin(), bytes.end(), input.begin())) try_all(bytes);
    }
    return 0;
}
