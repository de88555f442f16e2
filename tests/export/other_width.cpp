// Compiled without -march by a test: the exported bfloat16 header was written by the
// native build (8 or 16 floats a vector), this translation unit sees SSE's 4, and the
// header's static_assert must name the mismatch.
#include "exported_mlp_bf16.hpp"

int main() {}
