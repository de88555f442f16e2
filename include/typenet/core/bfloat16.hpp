#pragma once
// bfloat16: the upper half of an IEEE float (sign, the full 8-bit exponent, 7
// mantissa bits). Used to store weights for reduced-precision inference: half the
// bytes of float, the same range, and widening back to float is a 16-bit shift,
// so kernels keep accumulating in float. Rounding to it loses at most 2^-9 relative.
//
// An aggregate holding the bits, so that exported headers can write
// `constexpr bfloat16 w[] = {0x3f80, ...}` and the array is usable in constant
// expressions; no arithmetic is defined on it on purpose: it is a storage format.
#include <bit>
#include <cstdint>

namespace typenet {

struct bfloat16 {
    std::uint16_t bits;

    friend constexpr bool operator==(bfloat16, bfloat16) = default;
};

/// Rounds to the nearest bfloat16 (ties to even). NaN stays a (quiet) NaN, and
/// values beyond the largest bfloat16 become infinities, as float rounding does.
constexpr bfloat16 to_bfloat16(float value) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
    if ((u & 0x7fffffffu) > 0x7f800000u) return bfloat16{static_cast<std::uint16_t>((u >> 16) | 0x0040u)};
    const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return bfloat16{static_cast<std::uint16_t>((u + rounding) >> 16)};
}

constexpr float to_float(bfloat16 value) noexcept {
    return std::bit_cast<float>(static_cast<std::uint32_t>(value.bits) << 16);
}

/// The value as a kernel computes with it: floats as they are, bfloat16 widened.
constexpr float widen(bfloat16 value) noexcept { return to_float(value); }
template <class T>
constexpr T widen(T value) noexcept {
    return value;
}

}  // namespace typenet
