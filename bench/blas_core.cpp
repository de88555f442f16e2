// Prints the kernel set OpenBLAS picked for this CPU (its "core"). OpenBLAS chooses
// at load time from the CPU model; a release that does not know the model falls
// back to a generic core: 0.3.21 runs Prescott (SSE3) kernels on Emerald Rapids,
// which made libtorch's MLP epoch 3x and dlib's 3.5x slower than with its AVX-512
// kernels. bench/run.sh asks this program and, on such a fallback, pins the peers to
// the core the CPU's features allow (OPENBLAS_CORETYPE), so they run at their best.
#include <cstdio>

extern "C" char* openblas_get_corename();

int main() { std::puts(openblas_get_corename()); }
