#pragma once
// Readable names of types, for reports (gradient checks, summaries, layer
// inspection) and for the architecture fingerprint of weight files.
//
// The compilers' own spellings (__PRETTY_FUNCTION__) are not canonical: g++
// omits defaulted template arguments at the top level but not inside a
// sequential<...>, and clang keeps whatever sugar the type was written with. A
// weight file saved by one program must load in another whatever the compiler
// or the spelling, so templates over sizes or types are spelled here from their
// arguments, always all of them: "conv2d<6, 5, 1, 0>", "max_pool<2, 2>". A layer's
// bare name is its stable `name` (protocol.hpp), so a user's layer reads the same
// whatever namespace it lives in; other names (sequential, input) come from the
// compiler, with the typenet:: qualifiers removed.
#include <cstddef>
#include <string>
#include <string_view>

namespace typenet {

template <class T>
constexpr std::string_view raw_type_name() {
    std::string_view s = __PRETTY_FUNCTION__;
    const std::string_view key = "T = ";
    const auto start = s.find(key) + key.size();
    auto end = s.find(';', start);
    if (end == std::string_view::npos) end = s.rfind(']');
    return s.substr(start, end - start);
}

namespace detail {

inline std::string without_typenet_qualifiers(std::string s) {
    constexpr std::string_view ns = "typenet::";
    for (auto pos = s.find(ns); pos != std::string::npos; pos = s.find(ns)) s.erase(pos, ns.size());
    for (auto pos = s.find("> >"); pos != std::string::npos; pos = s.find("> >")) s.erase(pos + 1, 1);
    return s;
}

/// The template's own name, "conv2d" of "typenet::conv2d<6, 5>": its stable name if it has one.
template <class T>
std::string template_name() {
    if constexpr (requires { std::string_view(T::name); }) return std::string(T::name);
    const std::string_view raw = raw_type_name<T>();
    return without_typenet_qualifiers(std::string(raw.substr(0, raw.find('<'))));
}

template <class T>
struct spelling {
    static std::string get() {
        if constexpr (requires { std::string_view(T::name); })
            return std::string(T::name);
        else
            return without_typenet_qualifiers(std::string(raw_type_name<T>()));
    }
};

// Templates over sizes: layers (dense, conv2d, pooling, dropout) and input.
template <template <std::size_t...> class L, std::size_t... N>
struct spelling<L<N...>> {
    static std::string get() {
        std::string s = template_name<L<N...>>() + "<";
        std::size_t i = 0;
        ((s += (i++ ? ", " : "") + std::to_string(N)), ...);
        return s + ">";
    }
};

// Templates over types: sequential<...>.
template <template <class...> class L, class... A>
struct spelling<L<A...>> {
    static std::string get() {
        std::string s = template_name<L<A...>>() + "<";
        std::size_t i = 0;
        ((s += (i++ ? ", " : "") + spelling<A>::get()), ...);
        return s + ">";
    }
};

}  // namespace detail

/// e.g. "dense<128>", "sequential<input<784>, dense<10>>", "max_pool<2, 2>": the
/// same on every compiler, however the type was written.
template <class T>
std::string type_name() {
    return detail::spelling<T>::get();
}

}  // namespace typenet
