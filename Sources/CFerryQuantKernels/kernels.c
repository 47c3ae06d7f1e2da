#include "ferry_quant_kernels.h"

int ferry_quant_kernels_version(void) { return 1; }
