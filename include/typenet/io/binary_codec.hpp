#pragma once
// The byte-level pieces shared by typenet's binary files (weight files,
// io/weights.hpp; training checkpoints, train/checkpoint.hpp): a little-endian
// writer, a bounds-checked reader, FNV-1a 64 and the element-type codes. No file
// format lives here; each format keeps its own magic, version, limits and error
// type, so that one can change without the other.
//
// Integers are little-endian whatever the host, so that a file moves between
// machines; strings are a uint64 byte count followed by the bytes (no terminator);
// floating-point values are stored as their IEEE bits.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace typenet::detail {

inline constexpr std::uint64_t fnv1a64_offset = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t fnv1a64_prime = 0x100000001b3ULL;

/// FNV-1a, 64 bits. Any single changed byte changes the result: each step is a
/// bijection of the running state. (FNV rather than zlib's CRC-32 so that the
/// files need no library.)
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

/// The element types the files store: IEEE binary32 and binary64 only, because the
/// bytes are their bit patterns and must mean the same value on every machine.
template <class T>
inline constexpr bool is_stored_element_v = (std::is_same_v<T, float> ||
                                             std::is_same_v<T, double>)&&std::numeric_limits<T>::is_iec559;

/// Element-type code as stored: the size in bytes.
template <class T>
inline constexpr std::uint32_t element_code = sizeof(T);

inline std::string element_name(std::uint64_t code) {
    if (code == 4) return "float";
    if (code == 8) return "double";
    return "code " + std::to_string(code);
}

/// The unsigned integer with T's bits (uint32_t for float, uint64_t for double).
template <class T>
using element_bits_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// Appends fields to a growing byte buffer.
class binary_writer {
public:
    void u32(std::uint32_t v) { little_endian(v, 4); }
    void u64(std::uint64_t v) { little_endian(v, 8); }
    void str(std::string_view s) {
        u64(s.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
    }
    void raw(std::span<const unsigned char> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
    template <class T>
    requires is_stored_element_v<T>
    void values(std::span<const T> v) {
        for (T x : v) little_endian(std::bit_cast<element_bits_t<T>>(x), sizeof(T));
    }
    std::vector<unsigned char>& bytes() noexcept { return bytes_; }

private:
    void little_endian(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<unsigned char>(v >> (8 * i)));
    }
    std::vector<unsigned char> bytes_;
};

/// Reads fields in order; reading past the end reports the file as truncated.
/// Every problem is thrown as an Error (constructible from std::string) whose
/// message starts with `where`, so that each format reports in its own type and
/// the caller's message prefix (usually "<path>: ").
template <class Error>
class binary_reader {
public:
    /// `where` is kept by reference: it must outlive the reader.
    binary_reader(std::span<const unsigned char> bytes, const std::string& where) : bytes_(bytes), where_(where) {}

    std::size_t position() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

    /// Claims the next n bytes for `what` and returns where they start.
    std::size_t take(std::uint64_t n, const std::string& what) {
        if (n > remaining()) {
            // n may come from a corrupted field, so the end it implies may not fit in 64 bits.
            const std::string end = n > std::numeric_limits<std::uint64_t>::max() - pos_ ? std::string("beyond 2^64")
                                                                                         : std::to_string(pos_ + n);
            throw Error(where_ + "truncated (ends at byte " + std::to_string(bytes_.size()) + "; " + what +
                        " would end at byte " + end + ")");
        }
        const std::size_t start = pos_;
        pos_ += static_cast<std::size_t>(n);
        return start;
    }
    std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(little_endian(4, what)); }
    std::uint64_t u64(const std::string& what) { return little_endian(8, what); }
    /// A string of at most max_length bytes: the limit is checked before anything is
    /// allocated, so that a flipped bit in a length reads as corruption, not as a
    /// request for 2^60 bytes.
    std::string str(std::uint64_t max_length, const std::string& what) {
        const std::uint64_t n = u64("the length of " + what);
        if (n > max_length)
            throw Error(where_ + "corrupted: " + what + " is " + std::to_string(n) +
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

/// Decodes out.size() values that binary_writer::values wrote, starting at src.
/// Unchecked: the formats claim the bytes with binary_reader::take first, and decode
/// only once everything else has been checked, so that a refused file changes nothing.
template <class T>
requires is_stored_element_v<T>
void decode_values(std::span<T> out, const unsigned char* src) {
    using bits = element_bits_t<T>;
    for (T& v : out) {
        bits b = 0;
        for (std::size_t k = 0; k < sizeof(T); ++k) b |= static_cast<bits>(static_cast<bits>(src[k]) << (8 * k));
        v = std::bit_cast<T>(b);
        src += sizeof(T);
    }
}

}  // namespace typenet::detail
