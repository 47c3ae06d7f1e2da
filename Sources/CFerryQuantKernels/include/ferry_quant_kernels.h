#ifndef FERRY_QUANT_KERNELS_H
#define FERRY_QUANT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Placeholder: the quantization kernels are declared here. */
int ferry_quant_kernels_version(void);

#endif
