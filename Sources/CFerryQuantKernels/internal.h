/* Shared by the kernel variants: tables, exact scalar conversions, the variant function table. */
#ifndef FERRY_QUANT_INTERNAL_H
#define FERRY_QUANT_INTERNAL_H
#include "ferry_quant_kernels.h"
#include <math.h>
#include <string.h>

#if defined(__clang__)
/* Every float operation is written as the reference does it; no silent FMA contraction. */
#pragma clang fp contract(off)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define FQ_X86 1
#else
#define FQ_X86 0
#endif

/* Tables (tables.c). */
extern const uint32_t fq_dynamic_map_bits[256];
extern const uint32_t fq_q4_code_bits[2][16];
extern const uint32_t fq_q4_bounds_bits[2][16]; /* 15 midpoints, then +inf */
extern const int32_t fq_q4_order[2][16];
/* The 8-bit LUT, padded so that a 4-byte gather at index 65535 stays inside. */
const uint8_t *fq_lut8_padded(void);

static inline uint32_t fq_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float fq_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* fp16 -> f32, exact; NaNs are quieted (as vcvtph2ps does). */
static inline float fq_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        float f = (float)m * 0x1p-24f;
        return fq_float(sign | fq_bits(f));
    }
    if (e == 31) return fq_float(sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0u));
    return fq_float(sign | ((e + 112u) << 23) | (m << 13));
}

/* f32 -> fp16, round to nearest even, overflow to inf; NaN keeps sign and the top payload bits
 * and is quiet (as vcvtps2ph does). Algorithm of the FP16 library (M. Dukhan). */
static inline uint16_t fq_f32_to_f16(float f) {
    const float scale_to_inf = 0x1.0p+112f;
    const float scale_to_zero = 0x1.0p-110f;
    uint32_t w = fq_bits(f);
    uint32_t shl1_w = w + w;
    uint32_t sign = w & 0x80000000u;
    if (shl1_w > 0xFF000000u) return (uint16_t)((sign >> 16) | 0x7E00u | ((w >> 13) & 0x3FFu));
    float base = fabsf(f) * scale_to_inf;
    base = base * scale_to_zero;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = fq_float((bias >> 1) + 0x07800000u) + base;
    uint32_t bits = fq_bits(base);
    uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    uint32_t mantissa_bits = bits & 0x00000FFFu;
    return (uint16_t)((sign >> 16) | (exp_bits + mantissa_bits));
}

/* f32 -> bf16, round to nearest even; NaN -> quiet NaN with the same sign and top payload. */
static inline uint16_t fq_f32_to_bf16(float f) {
    uint32_t x = fq_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* a * b and a + b as x86 computes them: a NaN made from numbers (0 * inf, inf - inf) is x86's default
 * NaN, 0xFFC00000 (sign set), where ARM makes a positive one. The decoders compute through these, so
 * their bytes are the same on every CPU. */
static inline float fq_x86_nan(float r, float a, float b) {
    return (r != r && a == a && b == b) ? fq_float(0xFFC00000u) : r;
}
static inline float fq_mul(float a, float b) { return fq_x86_nan(a * b, a, b); }
static inline float fq_add(float a, float b) { return fq_x86_nan(a + b, a, b); }

static inline float fq_bf16_to_f32(uint16_t b) { return fq_float((uint32_t)b << 16); }

static inline float fq_load(const void *src, int type, size_t i) {
    switch (type) {
    case FERRY_Q_F32: return ((const float *)src)[i];
    case FERRY_Q_F16: return fq_f16_to_f32(((const uint16_t *)src)[i]);
    default: return fq_bf16_to_f32(((const uint16_t *)src)[i]);
    }
}

static inline void fq_store(void *dst, int type, size_t i, float v) {
    switch (type) {
    case FERRY_Q_F32: ((float *)dst)[i] = v; break;
    case FERRY_Q_F16: ((uint16_t *)dst)[i] = fq_f32_to_f16(v); break;
    default: ((uint16_t *)dst)[i] = fq_f32_to_bf16(v); break;
    }
}

static inline size_t fq_type_size(int type) { return type == FERRY_Q_F32 ? 4 : 2; }

/* ---- scalar reference pieces, also used by the SIMD variants for tails ---- */

/* bnb CPU absmax: running std::max(acc, |x|) (NaN ignored), then max(0, acc). */
static inline float fq_q8_block_absmax(const void *src, int type, size_t s, size_t e) {
    float acc = 0.0f;
    for (size_t i = s; i < e; i++) {
        float a = fabsf(fq_load(src, type, i));
        if (acc < a) acc = a;
    }
    return acc;
}

/* Quantizes elements [s, e) of one 8-bit block whose absmax is `am` (> 0). */
static inline void fq_q8_block_codes(const void *src, int type, size_t s, size_t e, float am,
                                     const uint8_t *lut, uint8_t *codes) {
    float inv = 1.0f / am;
    for (size_t i = s; i < e; i++) {
        float v = fq_load(src, type, i) * inv;
        if (v > 1.0f) v = 1.0f;
        if (v < -1.0f) v = -1.0f;
        float t = (v + 1.0f) * 0.5f;
        float g = fmaf(t, 65535.0f, 0.5f);
        uint32_t idx = (g == g) ? ((uint32_t)(int32_t)g & 0xFFFFu) : 0u;
        codes[i] = lut[idx];
    }
}

/* The tail block of an 8-bit quantization (elements [s, n), shorter than a block), scalar in every
 * variant: codes, and the absmax returned. */
static inline float fq_q8_tail_block(const void *src, int type, size_t s, size_t n, const uint8_t *lut,
                                     uint8_t *codes) {
    float am = fq_q8_block_absmax(src, type, s, n);
    if (am == 0.0f) memset(codes + s, 0, n - s);
    else fq_q8_block_codes(src, type, s, n, am, lut, codes);
    return am;
}

/* 4-bit block absmax before the tail clamp: max |x|, NaN propagates (returned as NaN). */
static inline float fq_q4_block_max(const void *src, int type, size_t s, size_t e) {
    float m = 0.0f;
    int nan = 0;
    for (size_t i = s; i < e; i++) {
        float a = fabsf(fq_load(src, type, i));
        if (a != a) nan = 1;
        else if (a > m) m = a;
    }
    return nan ? fq_float(0x7fc00000u) : m;
}

/* Bucket of a scaled value: number of bounds below it; NaN -> 15. */
static inline int fq_q4_bucket(const float *bounds, float v) {
    if (v != v) return 15;
    int c = 0;
    for (int k = 0; k < 15; k++) c += bounds[k] < v;
    return c;
}

/* Nibbles of elements [s, e) of one 4-bit block (s even relative to the slice start),
 * scaled by multiplying with r (full block) or dividing by d (tail block, when divide != 0). */
static inline void fq_q4_block_codes(int kind, const void *src, int type, size_t s, size_t e,
                                     float scale, int divide, uint8_t *packed) {
    const float *bounds = (const float *)fq_q4_bounds_bits[kind];
    const int32_t *order = fq_q4_order[kind];
    for (size_t i = s; i < e; i += 2) {
        float v0 = fq_load(src, type, i);
        v0 = divide ? v0 / scale : v0 * scale;
        int hi = order[fq_q4_bucket(bounds, v0)];
        int lo;
        if (i + 1 < e) {
            float v1 = fq_load(src, type, i + 1);
            v1 = divide ? v1 / scale : v1 * scale;
            lo = order[fq_q4_bucket(bounds, v1)];
        } else {
            lo = order[fq_q4_bucket(bounds, 0.0f)]; /* odd count: pad with the code of +0.0 */
        }
        packed[i / 2] = (uint8_t)((hi << 4) | lo);
    }
}

/* Stored absmax and the scaling of a 4-bit block of `len` elements with raw max `m`. */
static inline float fq_q4_stored_absmax(float m, size_t len) {
    if (m != m) return m;
    if (len < FERRY_Q4_BLOCK) return m > 1e-38f ? m : 1e-38f;
    return m;
}
static inline float fq_q4_reciprocal(float stored) {
    if (stored != stored) return stored;
    return 1.0f / (stored > 1e-38f ? stored : 1e-38f);
}

/* The tail block of a 4-bit quantization (elements [s, n), shorter than a block), scalar in every
 * variant: packed codes, and the stored absmax returned. */
static inline float fq_q4_tail_block(int kind, const void *src, int type, size_t s, size_t n, uint8_t *packed) {
    float stored = fq_q4_stored_absmax(fq_q4_block_max(src, type, s, n), n - s);
    fq_q4_block_codes(kind, src, type, s, n, stored, 1, packed);
    return stored;
}

/* ---- the variant table ---- */
typedef struct {
    void (*cast_fp16)(const void *, int, uint16_t *, size_t);
    void (*cast_bf16)(const void *, int, uint16_t *, size_t);
    void (*from_fp16)(const uint16_t *, int, void *, size_t);
    void (*from_bf16)(const uint16_t *, int, void *, size_t);
    void (*q8_absmax)(const void *, int, size_t, float *);
    void (*q8_quantize)(const void *, int, size_t, uint8_t *, float *);
    void (*q8_dequantize)(const uint8_t *, const float *, size_t, int, void *);
    void (*q4_absmax)(const void *, int, size_t, float *);
    void (*q4_quantize)(int, const void *, int, size_t, uint8_t *, float *);
    void (*q4_dequantize)(int, const uint8_t *, const float *, size_t, int, void *);
} fq_impl;

extern const fq_impl fq_impl_scalar;
extern const fq_impl fq_impl_portable;
#if FQ_X86
extern const fq_impl fq_impl_avx2;
extern const fq_impl fq_impl_avx512;
#endif

/* Scalar whole-range functions, shared as tails by the SIMD variants. */
void fq_scalar_cast_fp16(const void *src, int type, uint16_t *dst, size_t n);
void fq_scalar_cast_bf16(const void *src, int type, uint16_t *dst, size_t n);
void fq_scalar_from_fp16(const uint16_t *src, int type, void *dst, size_t n);
void fq_scalar_from_bf16(const uint16_t *src, int type, void *dst, size_t n);
void fq_scalar_q8_dequantize(const uint8_t *codes, const float *absmax, size_t n, int type, void *dst);
void fq_scalar_q4_dequant_range(int kind, const uint8_t *packed, float am, size_t s, size_t e,
                                int dst_type, void *dst);

#endif
