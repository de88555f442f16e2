#pragma once
// Readable compile errors. A static_assert message must be a string literal, so it
// cannot print numbers; the facts (layer index, layer kind, shapes) go into the
// template arguments of an always-false variable template instead. g++ and clang
// print that expression in the note right under the message:
//
//   error: static assertion failed: typenet: dense<N> needs a flat input ...
//   note: 'layer_error<at_layer<3, dense<10>>, received<shape<6,24,24>>>' evaluates to false
#include <cstddef>

namespace typenet::diagnostic {

/// Which layer is wrong: its position in the sequential list (0 = first after input) and its type.
template <std::size_t Index, class Layer>
struct at_layer {};

/// The input shape the layer received.
template <class Shape>
struct received {};

/// What the layer needs instead (a shape, a rank, a size...).
template <class... What>
struct expects {};

template <std::size_t Rank>
struct rank {};

/// The protocol member a layer lacks or gets wrong (layers/protocol.hpp).
template <class What>
struct missing {};

/// Always false; only its template arguments matter, for the compiler's note.
template <class... Facts>
inline constexpr bool layer_error = false;

/// Fires when Condition is false; the facts travel into the note.
template <bool Condition, class... Facts>
inline constexpr bool check = Condition || layer_error<Facts...>;

}  // namespace typenet::diagnostic
