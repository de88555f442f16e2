// Fuzz target: the weight-file loader (io/weights.hpp) on bytes in memory, into
// two models: a float MLP and a double conv net (the seeds are files of both).
//
// Random mutations almost never keep the FNV checksum right, which would stop
// every input at the checksum and leave the checks behind it (fingerprint, tensor
// layout, copying) unfuzzed. So the input's length is used as a switch (the first
// bytes are the magic and cannot serve): when it is odd, the last byte is dropped
// and the checksum field (the eight bytes before it) is recomputed, as a writer
// that knew the format would.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <typenet/io/weights.hpp>
#include <typenet/typenet.hpp>

#include "fuzz_support.hpp"
#include "fuzz_models.hpp"

namespace {

template <class Model>
void try_load(std::span<const unsigned char> bytes) {
    static Model m = typenet_fuzz::make_model<Model>();
    static const std::vector<typename Model::value_type> before(m.parameters().begin(), m.parameters().end());
    try {
        typenet::detail::load_bytes(m, bytes, "fuzz: ");
        // Loaded: restore the reference parameters for the next input.
        std::copy(before.begin(), before.end(), m.parameters().begin());
    } catch (const typenet::weights_error&) {
        // Refused: the model must be exactly as it was.
        typenet_fuzz::require(std::equal(before.begin(), before.end(), m.parameters().begin()),
                              "load changed the model although it threw");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<unsigned char> bytes(data, data + size);
    if (size % 2 == 1 && size >= 9) {
        bytes.pop_back();
        const std::size_t at = bytes.size() - 8;
        const std::uint64_t sum =
            typenet::detail::fnv1a64(std::span<const unsigned char>(bytes.data(), at));
        for (int i = 0; i < 8; ++i) bytes[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(sum >> (8 * i));
    }
    try_load<typenet_fuzz::mlp_model>(bytes);
    try_load<typenet_fuzz::conv_model>(bytes);
    return 0;
}
