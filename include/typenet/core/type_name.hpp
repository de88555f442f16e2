#pragma once
// Readable names of types, for reports (gradient checks, summaries) and for the
// architecture fingerprint of weight files. Taken from the compiler's own
// spelling of the function signature, with the typenet:: qualifiers removed.
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

/// e.g. "dense<128>", "sequential<input<784>, dense<10>>"
template <class T>
std::string type_name() {
    std::string s(raw_type_name<T>());
    constexpr std::string_view ns = "typenet::";
    for (auto pos = s.find(ns); pos != std::string::npos; pos = s.find(ns)) s.erase(pos, ns.size());
    for (auto pos = s.find("> >"); pos != std::string::npos; pos = s.find("> >")) s.erase(pos + 1, 1);
    return s;
}

}  // namespace typenet
