#pragma once
// Saving and loading a model's parameters.
//
//   save(m, "mlp.tnw");   // atomic: the old file or the new one, never half of either
//   load(m, "mlp.tnw");   // checks everything first; on any error m is unchanged
//
// File format, version 1. All integers little-endian; strings are a uint64 byte
// count followed by the bytes (no terminator).
//
//   bytes   field
//   8       magic "TYPENET\0"
//   4       format version (uint32) = 1
//   4       element type (uint32): 4 = float (IEEE binary32), 8 = double (binary64)
//   8       architecture fingerprint (uint64): FNV-1a 64 of the architecture's name
//   8+n     architecture name (string), type_name<Arch>(), e.g.
//           "sequential<input<784>, dense<10>>", kept so that messages can say what
//           the file holds
//   8       value count (uint64): the parameters, plus the non-trainable state
//           (batch_norm running statistics, stored as tensors "running_mean" and
//           "running_var" after all parameter tensors); for networks without
//           state, as before, the parameter count. Files without state read as
//           they always did, so the version stays 1.
//   8       tensor count (uint64), then for each tensor, in for_each_tensor order:
//     8       layer index (uint64)
//     8+n     name (string): "weights", "bias", ...
//     8       rank (uint64)
//     8*rank  dims (uint64 each)
//     e*k     the k = product(dims) values, each e = element-type bytes, row-major
//   8       checksum (uint64): FNV-1a 64 of every byte before it (FNV rather than
//           zlib's CRC-32 so that weight files need no library)
//
// The tensors are described, not just dumped, so that a file whose layout does not
// match the model is refused with a message rather than loaded into the wrong
// places. The fingerprint and name depend on how the compiler spells the type
// (type_name.hpp): files are exchanged between builds of the same compiler family.
//
// This header holds the format only: the fields are written and read with
// io/binary_codec.hpp, and the file with io/atomic_file.hpp, which checkpoints
// (train/checkpoint.hpp) use too.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../core/type_name.hpp"
#include "../network/model.hpp"
#include "atomic_file.hpp"
#include "binary_codec.hpp"

namespace typenet {

/// A weight file that cannot be written, or cannot be loaded into the given model.
/// The message starts with the file's path.
struct weights_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {

inline constexpr std::array<unsigned char, 8> weights_magic = {'T', 'Y', 'P', 'E', 'N', 'E', 'T', '\0'};
inline constexpr std::uint32_t weights_format_version = 1;

// Limits on fields read before the checksum can be verified: a flipped bit in a
// length should read as corruption, not as a request for 2^60 bytes.
inline constexpr std::uint64_t weights_max_architecture_name = std::uint64_t{1} << 20;
inline constexpr std::uint64_t weights_max_tensor_name = 4096;
inline constexpr std::uint64_t weights_max_rank = 16;

template <class T>
constexpr void check_weight_element_type() {
    static_assert(is_stored_element_v<T>, "typenet: weight files hold IEEE float or double parameters");
}

/// The architecture name a weight file records for Arch.
template <class Arch>
std::string weights_architecture_name() {
    return type_name<Arch>();
}

/// A tensor as the file describes it; its values stay in the file's bytes until
/// everything has been checked.
struct stored_tensor {
    std::uint64_t layer_index = 0;
    std::string name;
    std::vector<std::uint64_t> dims;
    std::uint64_t count = 0;        ///< product of dims
    std::size_t values_offset = 0;  ///< where the values start in the file
};

/// A tensor as the model has it, with a copy of its dims (for_each_tensor's span
/// lives only during the call).
template <class T>
struct model_tensor {
    std::size_t layer_index;
    std::string name;
    std::vector<std::uint64_t> dims;
    std::span<T> values;
};

template <class T, class M>
std::vector<model_tensor<T>> list_model_tensors(M& m) {
    std::vector<model_tensor<T>> tensors;
    auto add = [&](const auto& t) {
        tensors.push_back(model_tensor<T>{t.layer_index, std::string(t.name),
                                          std::vector<std::uint64_t>(t.dims.begin(), t.dims.end()), t.values});
    };
    m.for_each_tensor(add);
    m.for_each_state_tensor(add);  // batch_norm running statistics, after all parameters
    return tensors;
}

inline std::string describe_tensor(std::uint64_t layer_index, std::string_view name,
                                   std::span<const std::uint64_t> dims) {
    // Appended piece by piece: GCC 12 misreports `"literal" + std::string&&` at -O3 (-Wrestrict, PR 105651).
    std::string s = "'";
    s += name;
    s += "' of layer ";
    s += std::to_string(layer_index);
    s += " [";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(dims[i]);
    }
    s += ']';
    return s;
}

/// The complete file for model m, checksum included.
template <class Arch, class T>
std::vector<unsigned char> encode_weights(const model<Arch, T>& m) {
    const auto tensors = list_model_tensors<const T>(m);
    std::size_t covered = 0;
    for (const auto& t : tensors) covered += t.values.size();
    // The file stores tensors, not the flat arrays: every parameter and state value must be in one.
    constexpr std::size_t stored = Arch::parameter_count + Arch::state_count;
    if (covered != stored)
        throw std::logic_error("typenet: save: the model's tensors cover " + std::to_string(covered) + " of its " +
                               std::to_string(stored) + " parameters and state values");

    binary_writer w;
    w.bytes().reserve(256 + stored * sizeof(T));
    w.raw(weights_magic);
    w.u32(weights_format_version);
    w.u32(element_code<T>);
    const std::string architecture = weights_architecture_name<Arch>();
    w.u64(fnv1a64(architecture));
    w.str(architecture);
    w.u64(stored);
    w.u64(tensors.size());
    for (const auto& t : tensors) {
        w.u64(t.layer_index);
        w.str(t.name);
        w.u64(t.dims.size());
        for (auto d : t.dims) w.u64(d);
        w.values<T>(t.values);
    }
    w.u64(fnv1a64(w.bytes()));
    return std::move(w.bytes());
}

/// The layout of a weight file, parsed and checked for integrity (magic, version,
/// structure, checksum) but not yet compared with any model.
struct parsed_weights {
    std::uint32_t element_code = 0;
    std::uint64_t fingerprint = 0;
    std::string architecture;
    std::uint64_t parameter_count = 0;
    std::vector<stored_tensor> tensors;
};

inline parsed_weights parse_weights(std::span<const unsigned char> bytes, const std::string& where) {
    if (bytes.empty()) throw weights_error(where + "the file is empty; not a typenet weight file");
    // A proper prefix of the magic is a truncated weight file, anything else is not one.
    const auto prefix = static_cast<std::ptrdiff_t>(std::min(bytes.size(), weights_magic.size()));
    if (!std::equal(bytes.begin(), bytes.begin() + prefix, weights_magic.begin()))
        throw weights_error(where + "not a typenet weight file (wrong magic)");

    binary_reader<weights_error> r(bytes, where);
    r.take(weights_magic.size(), "the magic bytes");
    const std::uint32_t version = r.u32("the format version");
    if (version != weights_format_version)
        throw weights_error(where + "format version " + std::to_string(version) + "; this typenet reads version " +
                            std::to_string(weights_format_version));

    parsed_weights p;
    p.element_code = r.u32("the element type");
    if (p.element_code != 4 && p.element_code != 8)
        throw weights_error(where + "corrupted: unknown element type code " + std::to_string(p.element_code));
    p.fingerprint = r.u64("the architecture fingerprint");
    p.architecture = r.str(weights_max_architecture_name, "the architecture name");
    p.parameter_count = r.u64("the parameter count");
    const std::uint64_t tensor_count = r.u64("the tensor count");
    if (tensor_count > p.parameter_count)
        throw weights_error(where + "corrupted: " + std::to_string(tensor_count) + " tensors for " +
                            std::to_string(p.parameter_count) + " parameters");

    std::uint64_t values_total = 0;
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
        const std::string which = "tensor " + std::to_string(i);
        stored_tensor t;
        t.layer_index = r.u64("the layer index of " + which);
        t.name = r.str(weights_max_tensor_name, "the name of " + which);
        const std::uint64_t rank = r.u64("the rank of " + which);
        if (rank > weights_max_rank)
            throw weights_error(where + "corrupted: " + which + " has rank " + std::to_string(rank));
        t.count = 1;
        for (std::uint64_t k = 0; k < rank; ++k) {
            t.dims.push_back(r.u64("dim " + std::to_string(k) + " of " + which));
            if (__builtin_mul_overflow(t.count, t.dims.back(), &t.count))
                t.count = std::numeric_limits<std::uint64_t>::max();
        }
        // Consistent files have tensors that add up to the parameter count; checking
        // as we go also keeps a corrupted dim from being taken as a size.
        values_total += std::min(t.count, p.parameter_count + 1);
        if (values_total > p.parameter_count)
            throw weights_error(where + "corrupted: the tensors up to " + which + " hold more values than the " +
                                std::to_string(p.parameter_count) + " parameters the header announces");
        std::uint64_t value_bytes = 0;
        if (__builtin_mul_overflow(t.count, std::uint64_t{p.element_code}, &value_bytes))
            value_bytes = std::numeric_limits<std::uint64_t>::max();
        t.values_offset =
            r.take(value_bytes, "the values of " + which + " " + describe_tensor(t.layer_index, t.name, t.dims));
        p.tensors.push_back(std::move(t));
    }
    if (values_total != p.parameter_count)
        throw weights_error(where + "corrupted: the tensors hold " + std::to_string(values_total) +
                            " values, the header announces " + std::to_string(p.parameter_count) + " parameters");

    const std::size_t checksum_offset = r.position();
    const std::uint64_t checksum = r.u64("the checksum");
    if (r.remaining() > 0)
        throw weights_error(where + "corrupted: " + std::to_string(r.remaining()) +
                            " unexpected bytes after the checksum");
    if (fnv1a64(bytes.first(checksum_offset)) != checksum)
        throw weights_error(where + "checksum mismatch: the file is corrupted");
    if (fnv1a64(p.architecture) != p.fingerprint)
        throw weights_error(where + "corrupted: the architecture fingerprint does not match the architecture name");
    return p;
}

}  // namespace detail

/// Writes m's parameters to `path`, replacing any file there atomically (see
/// write_file_atomically, io/atomic_file.hpp). Throws weights_error naming the path and the problem.
template <class Arch, class T>
void save(const model<Arch, T>& m, const std::filesystem::path& path) {
    detail::check_weight_element_type<T>();
    const std::vector<unsigned char> bytes = detail::encode_weights(m);
    detail::write_file_atomically<weights_error>(path, bytes);
}

namespace detail {
/// load() on a file's bytes already in memory (also what the fuzz target drives).
/// `where` prefixes every message.
template <class Arch, class T>
void load_bytes(model<Arch, T>& m, std::span<const unsigned char> bytes, const std::string& where) {
    check_weight_element_type<T>();
    const detail::parsed_weights file = detail::parse_weights(bytes, where);

    if (file.element_code != detail::element_code<T>)
        throw weights_error(where + "element type " + detail::element_name(file.element_code) + ", model uses " +
                            detail::element_name(detail::element_code<T>));
    const std::string architecture = detail::weights_architecture_name<Arch>();
    if (file.fingerprint != detail::fnv1a64(architecture) || file.architecture != architecture)
        throw weights_error(where + "this file holds " + file.architecture + " but the model is " + architecture);
    if (file.parameter_count != Arch::parameter_count + Arch::state_count)
        throw weights_error(where + "the file holds " + std::to_string(file.parameter_count) +
                            " values, the model has " + std::to_string(Arch::parameter_count + Arch::state_count) +
                            (Arch::state_count > 0 ? " (parameters and batch_norm statistics)" : ""));

    // Same architecture name, but the layers may have changed how they lay out
    // their parameters since the file was written: compare tensor by tensor.
    const auto tensors = detail::list_model_tensors<T>(m);
    if (file.tensors.size() != tensors.size())
        throw weights_error(where + "the file holds " + std::to_string(file.tensors.size()) +
                            " tensors, the model has " + std::to_string(tensors.size()));
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& f = file.tensors[i];
        const auto& t = tensors[i];
        if (f.layer_index != t.layer_index || f.name != t.name || f.dims != t.dims)
            throw weights_error(where + "tensor " + std::to_string(i) + " is " +
                                detail::describe_tensor(f.layer_index, f.name, f.dims) + " in the file but " +
                                detail::describe_tensor(t.layer_index, t.name, t.dims) + " in the model");
    }

    // Everything matches: nothing below can fail.
    for (std::size_t i = 0; i < tensors.size(); ++i)
        detail::decode_values(tensors[i].values, bytes.data() + file.tensors[i].values_offset);
}

}  // namespace detail

/// Reads parameters saved for the same architecture and element type into m.
/// Everything is checked before anything is copied: on any error (missing,
/// truncated, corrupted or foreign file) weights_error is thrown and m is unchanged.
template <class Arch, class T>
void load(model<Arch, T>& m, const std::filesystem::path& path) {
    detail::check_weight_element_type<T>();
    const std::vector<unsigned char> bytes = detail::read_whole_file<weights_error>(path);
    detail::load_bytes(m, bytes, path.string() + ": ");
}

}  // namespace typenet
