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
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "../core/type_name.hpp"
#include "../network/model.hpp"

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

inline constexpr std::uint64_t fnv1a64_offset = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t fnv1a64_prime = 0x100000001b3ULL;

/// FNV-1a, 64 bits. Any single changed byte changes the result: each step is a
/// bijection of the running state.
inline std::uint64_t fnv1a64(std::span<const unsigned char> bytes, std::uint64_t h = fnv1a64_offset) {
    for (unsigned char b : bytes) {
        h ^= b;
        h *= fnv1a64_prime;
    }
    return h;
}
inline std::uint64_t fnv1a64(std::string_view s) {
    return fnv1a64(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(s.data()), s.size()));
}

template <class T>
constexpr void check_weight_element_type() {
    static_assert((std::is_same_v<T, float> || std::is_same_v<T, double>) && std::numeric_limits<T>::is_iec559,
                  "typenet: weight files hold IEEE float or double parameters");
}

/// Element-type code as stored: the size in bytes.
template <class T>
inline constexpr std::uint32_t weight_element_code = sizeof(T);

inline std::string weight_element_name(std::uint64_t code) {
    if (code == 4) return "float";
    if (code == 8) return "double";
    return "code " + std::to_string(code);
}

/// The unsigned integer with T's bits (uint32_t for float, uint64_t for double).
template <class T>
using weight_bits_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// The architecture name a weight file records for Arch.
template <class Arch>
std::string weights_architecture_name() {
    return type_name<Arch>();
}

class weights_writer {
public:
    void u32(std::uint32_t v) { little_endian(v, 4); }
    void u64(std::uint64_t v) { little_endian(v, 8); }
    void str(std::string_view s) {
        u64(s.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
    }
    void raw(std::span<const unsigned char> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
    template <class T>
    void values(std::span<const T> v) {
        for (T x : v) little_endian(std::bit_cast<weight_bits_t<T>>(x), sizeof(T));
    }
    std::vector<unsigned char>& bytes() noexcept { return bytes_; }

private:
    void little_endian(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<unsigned char>(v >> (8 * i)));
    }
    std::vector<unsigned char> bytes_;
};

/// Reads fields in order; reading past the end reports the file as truncated.
class weights_reader {
public:
    weights_reader(std::span<const unsigned char> bytes, const std::string& where) : bytes_(bytes), where_(where) {}

    std::size_t position() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

    /// Claims the next n bytes for `what` and returns where they start.
    std::size_t take(std::uint64_t n, const std::string& what) {
        if (n > remaining()) {
            const std::string end = n > std::numeric_limits<std::uint64_t>::max() - pos_
                                        ? std::string("beyond 2^64")
                                        : std::to_string(pos_ + n);
            throw weights_error(where_ + "truncated (ends at byte " + std::to_string(bytes_.size()) + "; " + what +
                                " would end at byte " + end + ")");
        }
        const std::size_t start = pos_;
        pos_ += static_cast<std::size_t>(n);
        return start;
    }
    std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(little_endian(4, what)); }
    std::uint64_t u64(const std::string& what) { return little_endian(8, what); }
    std::string str(std::uint64_t max_length, const std::string& what) {
        const std::uint64_t n = u64("the length of " + what);
        if (n > max_length)
            throw weights_error(where_ + "corrupted: " + what + " is " + std::to_string(n) +
                                " bytes long, more than any typenet writes (" + std::to_string(max_length) + ")");
        const std::size_t start = take(n, what);
        return std::string(reinterpret_cast<const char*>(bytes_.data() + start), static_cast<std::size_t>(n));
    }

private:
    std::uint64_t little_endian(int n, const std::string& what) {
        const std::size_t start = take(static_cast<std::uint64_t>(n), what);
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= std::uint64_t{bytes_[start + static_cast<std::size_t>(i)]} << (8 * i);
        return v;
    }

    std::span<const unsigned char> bytes_;
    const std::string& where_;
    std::size_t pos_ = 0;
};

/// A tensor as the file describes it; its values stay in the file's bytes until
/// everything has been checked.
struct stored_tensor {
    std::uint64_t layer_index = 0;
    std::string name;
    std::vector<std::uint64_t> dims;
    std::uint64_t count = 0;          ///< product of dims
    std::size_t values_offset = 0;    ///< where the values start in the file
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

inline std::string describe_tensor(std::uint64_t layer_index, std::string_view name, std::span<const std::uint64_t> dims) {
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

    weights_writer w;
    w.bytes().reserve(256 + stored * sizeof(T));
    w.raw(weights_magic);
    w.u32(weights_format_version);
    w.u32(weight_element_code<T>);
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

/// Removes a temporary file unless the save went through.
struct temporary_file_guard {
    std::filesystem::path path;
    bool keep = false;
    ~temporary_file_guard() {
        if (!keep) ::unlink(path.c_str());
    }
};

/// Writes `bytes` to `path` so that a crash or a full disk leaves either the old
/// file or the complete new one: write a temporary file in the same directory
/// (rename is atomic only within one file system), fsync it, rename it over the
/// target, then fsync the directory so that the rename itself is durable.
inline void write_file_atomically(const std::filesystem::path& path, std::span<const unsigned char> bytes) {
    const std::string where = path.string() + ": ";
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw weights_error(where + "cannot save: the directory " + dir.string() +
                            (std::filesystem::exists(dir, ec) ? " is not a directory" : " does not exist"));

    // Unique per process and per call, so that concurrent saves never share a temporary.
    // O_EXCL: never write into a file that someone else created.
    static std::atomic<unsigned> counter{0};
    int fd = -1;
    std::filesystem::path temp_path;
    for (int attempt = 0; fd < 0; ++attempt) {
        temp_path = path;
        temp_path += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt == 100))
            throw weights_error(where + "cannot create the temporary file " + temp_path.string() + ": " +
                                std::strerror(errno));
    }
    temporary_file_guard temp{temp_path};
    auto fail = [&](const char* doing) {
        const int error = errno;
        if (fd >= 0) ::close(fd);
        throw weights_error(where + doing + " " + temp.path.string() + ": " + std::strerror(error));
    };
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("cannot flush");
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) fail("cannot close");

    std::filesystem::rename(temp.path, path, ec);
    if (ec) throw weights_error(where + "cannot replace it with " + temp.path.string() + ": " + ec.message());
    temp.keep = true;

    // Best effort: the file is complete and in place either way; only whether the
    // rename survives a power cut depends on this.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

inline std::vector<unsigned char> read_whole_file(const std::filesystem::path& path) {
    const std::string where = path.string() + ": ";
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw weights_error(where + "cannot access: " + ec.message());
    if (!std::filesystem::exists(status)) throw weights_error(where + "no such file");
    if (!std::filesystem::is_regular_file(status)) throw weights_error(where + "not a regular file");
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw weights_error(where + "cannot read its size: " + ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) throw weights_error(where + "cannot open: " + std::strerror(errno));
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<std::uintmax_t>(in.gcount()) != size)
        throw weights_error(where + "read only " + std::to_string(in.gcount()) + " of its " + std::to_string(size) +
                            " bytes");
    return bytes;
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
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), weights_magic.size())),
                    weights_magic.begin()))
        throw weights_error(where + "not a typenet weight file (wrong magic)");

    weights_reader r(bytes, where);
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
            if (__builtin_mul_overflow(t.count, t.dims.back(), &t.count)) t.count = std::numeric_limits<std::uint64_t>::max();
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
        throw weights_error(where + "corrupted: the tensors hold " + std::to_string(values_total) + " values, the header announces " +
                            std::to_string(p.parameter_count) + " parameters");

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
/// write_file_atomically). Throws weights_error naming the path and the problem.
template <class Arch, class T>
void save(const model<Arch, T>& m, const std::filesystem::path& path) {
    detail::check_weight_element_type<T>();
    const std::vector<unsigned char> bytes = detail::encode_weights(m);
    detail::write_file_atomically(path, bytes);
}

namespace detail {
/// load() on a file's bytes already in memory (also what the fuzz target drives).
/// `where` prefixes every message.
template <class Arch, class T>
void load_bytes(model<Arch, T>& m, std::span<const unsigned char> bytes, const std::string& where) {
    check_weight_element_type<T>();
    const detail::parsed_weights file = detail::parse_weights(bytes, where);

    if (file.element_code != detail::weight_element_code<T>)
        throw weights_error(where + "element type " + detail::weight_element_name(file.element_code) +
                            ", model uses " + detail::weight_element_name(detail::weight_element_code<T>));
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
    using bits = detail::weight_bits_t<T>;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const unsigned char* src = bytes.data() + file.tensors[i].values_offset;
        for (T& v : tensors[i].values) {
            bits b = 0;
            for (std::size_t k = 0; k < sizeof(T); ++k) b |= static_cast<bits>(static_cast<bits>(src[k]) << (8 * k));
            v = std::bit_cast<T>(b);
            src += sizeof(T);
        }
    }
}

}  // namespace detail

/// Reads parameters saved for the same architecture and element type into m.
/// Everything is checked before anything is copied: on any error (missing,
/// truncated, corrupted or foreign file) weights_error is thrown and m is unchanged.
template <class Arch, class T>
void load(model<Arch, T>& m, const std::filesystem::path& path) {
    detail::check_weight_element_type<T>();
    const std::vector<unsigned char> bytes = detail::read_whole_file(path);
    detail::load_bytes(m, bytes, path.string() + ": ");
}

}  // namespace typenet
