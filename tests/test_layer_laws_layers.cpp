// The layer laws (laws/laws.hpp) over the layers with parameters, shapes or modes of their own.
#include "counting_new.hpp"  // once per program: the allocation law counts operator new
#define TYPENET_LAW_CASES laws::layer_cases
#define TYPENET_LAW_GROUP "layers"
#include "laws/laws.hpp"
