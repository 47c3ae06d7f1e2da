#ifndef FERRY_QUANT_KERNELS_H
#define FERRY_QUANT_KERNELS_H
/*
 * Quantization kernels for ferry: fp16/bf16 casts, bitsandbytes-compatible blockwise 8-bit
 * (dynamic map, 65,536-point LUT rounding of bnb's CPU quantizer), 4-bit fp4/nf4 codecs and the
 * double quantization of their absmax values (nf4-dq, fp4-dq).
 *
 * Every function has a scalar reference implementation, a portable SIMD one (C vector extensions:
 * NEON on aarch64, SSE2 on x86-64; every CPU runs it) and, on x86-64, AVX2+FMA+F16C and AVX-512
 * variants chosen at run time (`__builtin_cpu_supports`). All variants give bit-identical results.
 * The exact algorithms are described in docs/quantized-format.md.
 *
 * Conventions: `n` counts elements; block-wise kernels take data that starts on a block boundary
 * (4096 elements for 8-bit, 64 for 4-bit) and treat a final block shorter than the block size as
 * the tensor's tail block. Kernels are thread-safe and allocate nothing.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Element types of source tensors. */
typedef enum {
    FERRY_Q_F32 = 0,  /**< IEEE binary32 */
    FERRY_Q_F16 = 1,  /**< IEEE binary16 */
    FERRY_Q_BF16 = 2, /**< bfloat16 (upper half of a binary32) */
} ferry_q_type;

/** Kernel implementations, from the scalar reference up. */
typedef enum {
    FERRY_Q_LEVEL_SCALAR = 0,
    FERRY_Q_LEVEL_PORTABLE = 1, /**< C vector extensions: NEON on aarch64, SSE2 on x86-64 */
    FERRY_Q_LEVEL_AVX2 = 2,     /**< AVX2 + FMA + F16C */
    FERRY_Q_LEVEL_AVX512 = 3,   /**< AVX-512F (+ AVX2, FMA, F16C) */
} ferry_q_level;

/** 4-bit code books. */
typedef enum {
    FERRY_Q4_FP4 = 0,
    FERRY_Q4_NF4 = 1,
} ferry_q4_kind;

enum {
    FERRY_Q8_BLOCK = 4096, /**< elements per blockwise-8 block */
    FERRY_Q4_BLOCK = 64,   /**< elements per fp4/nf4 block */
    FERRY_Q4DQ_GROUP = 256, /**< 4-bit absmax values per group when double-quantized */
};

/** The best level this CPU supports. */
int ferry_q_cpu_level(void);
/** The level the kernels use now: min(cpu level, cap). */
int ferry_q_active_level(void);
/** Caps the level used (tests and benchmarks compare implementations); -1 removes the cap. */
void ferry_q_set_max_level(int level);
/** "scalar", "portable", "avx2" or "avx512". */
const char *ferry_q_level_name(int level);

/** bitsandbytes' signed dynamic map, 256 ascending float32 values. */
const float *ferry_q_dynamic_map(void);
/** The 65,536-entry LUT of bnb's CPU 8-bit quantizer (grid point -> code). */
const uint8_t *ferry_q_lut8(void);
/** The 16 float32 values of a 4-bit code book, indexed by nibble. */
const float *ferry_q4_code(int kind);

/* ---- casts -------------------------------------------------------------------------------- */
/** dst[i] = fp16(clamp(src[i], -65504, 65504)), round to nearest even. */
void ferry_q_cast_fp16(const void *src, int src_type, uint16_t *dst, size_t n);
/** dst[i] = bf16(src[i]), round to nearest even; NaN stays a quiet NaN of the same sign. */
void ferry_q_cast_bf16(const void *src, int src_type, uint16_t *dst, size_t n);
/** Converts fp16 values to `dst_type` (f32 exact, f16 copy, bf16 round to nearest even). */
void ferry_q_from_fp16(const uint16_t *src, int dst_type, void *dst, size_t n);
/** Converts bf16 values to `dst_type` (f32 exact, f16 round to nearest even, bf16 copy). */
void ferry_q_from_bf16(const uint16_t *src, int dst_type, void *dst, size_t n);

/* ---- blockwise 8-bit (blocks of 4096) ----------------------------------------------------- */
/** absmax[b] = max |x| over block b, NaN ignored; ceil(n/4096) values. */
void ferry_q8_absmax(const void *src, int src_type, size_t n, float *absmax);
/** Codes (one byte per element) and absmax, exactly as bitsandbytes' CPU quantizer. */
void ferry_q8_quantize(const void *src, int src_type, size_t n, uint8_t *codes, float *absmax);
/** dst[i] = code[codes[i]] * absmax[i / 4096] in float32, then rounded to `dst_type`. */
void ferry_q8_dequantize(const uint8_t *codes, const float *absmax, size_t n, int dst_type, void *dst);

/* ---- 4-bit fp4 / nf4 (blocks of 64) ------------------------------------------------------- */
/** absmax as stored: max |x| (NaN propagates); a tail block stores max(that, 1e-38f). */
void ferry_q4_absmax(const void *src, int src_type, size_t n, float *absmax);
/** Packed codes (ceil(n/2) bytes, first element in the high nibble) and absmax, as bitsandbytes. */
void ferry_q4_quantize(int kind, const void *src, int src_type, size_t n, uint8_t *packed, float *absmax);
/** dst[i] = code4[nibble(i)] * absmax[i / 64] in float32, then rounded to `dst_type`. */
void ferry_q4_dequantize(int kind, const uint8_t *packed, const float *absmax, size_t n, int dst_type, void *dst);

/* ---- double quantization of 4-bit absmax (nf4-dq, fp4-dq) ---------------------------------- */
/**
 * The offset subtracted from the absmax values: their mean, summed in index order in double,
 * the sum rounded to float and divided (in float) by the count as a float. Values that are not
 * finite are left out of sum and count; 0 when none is finite.
 */
float ferry_q4dq_offset(const float *absmax, size_t nblocks);
/**
 * Quantizes absmax[j] - offset (rounded to float) with bnb's CPU blockwise 8-bit rule in groups of
 * 256: codes[j] (one byte per absmax) and scales[g] (ceil(nblocks/256) floats, each group's absmax).
 */
void ferry_q4dq_quantize_absmax(const float *absmax, size_t nblocks, float offset,
                                uint8_t *codes, float *scales);
/** absmax[j] = dynamic_map[codes[j]] * scales[j / 256] + offset: a float multiply, then a float add. */
void ferry_q4dq_dequantize_absmax(const uint8_t *codes, const float *scales, float offset,
                                  size_t nblocks, float *absmax);

/* ---- error statistics --------------------------------------------------------------------- */
/**
 * Adds |a[i] - b[i]| (both of `type`, compared in double) to *sum and raises *max; pairs where
 * either value is not finite are skipped and counted in *skipped.
 */
void ferry_q_abs_error(const void *a, const void *b, int type, size_t n,
                       double *sum, double *max, uint64_t *skipped);

#ifdef __cplusplus
}
#endif
#endif
