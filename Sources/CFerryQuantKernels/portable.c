/* Portable SIMD variants: C vector extensions (clang and GCC), which compile to NEON on aarch64, SSE2 on
 * x86-64 and plain scalar code elsewhere. The level every CPU runs; results equal the scalar ones bit for
 * bit (each lane does the scalar reference's operations in the same order). Table lookups (the 8-bit LUT,
 * the 4-bit code books) stay scalar: baseline SSE2 and NEON have no gather. */
#include "internal.h"

/* 8-lane vectors are wider than an SSE2 register: passing them by value would change the calling
 * convention, but every function taking one is static inline in this file, so no ABI is crossed. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float fv8 __attribute__((vector_size(32)));
typedef uint32_t uv8 __attribute__((vector_size(32)));
typedef int32_t iv8 __attribute__((vector_size(32)));
typedef uint16_t hv8 __attribute__((vector_size(16)));
typedef double dv8 __attribute__((vector_size(64)));

#define FV(x) ((fv8){x, x, x, x, x, x, x, x})
#define UV(x) ((uv8){x, x, x, x, x, x, x, x})

/* Lanes of `a` where the mask (a comparison's result: all ones or zero) is set, else of `b`. */
static inline uv8 sel(iv8 mask, uv8 a, uv8 b) { return ((uv8)mask & a) | (~(uv8)mask & b); }
static inline fv8 self(iv8 mask, fv8 a, fv8 b) { return (fv8)sel(mask, (uv8)a, (uv8)b); }

/* fq_f16_to_f32, lane by lane. */
static inline fv8 f16_to_f32(hv8 h16) {
    uv8 h = __builtin_convertvector(h16, uv8);
    uv8 sign = (h & 0x8000u) << 16;
    uv8 e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uv8 sub = sign | (uv8)(__builtin_convertvector((iv8)m, fv8) * FV(0x1p-24f));
    uv8 special = sign | 0x7f800000u | (m << 13) | ((uv8)(m != 0u) & 0x400000u);
    uv8 normal = sign | ((e + 112u) << 23) | (m << 13);
    return (fv8)sel(e == 0u, sub, sel(e == 31u, special, normal));
}

#if defined(__aarch64__)
typedef _Float16 f16v8 __attribute__((vector_size(16)));

/* NEON narrows in hardware (fcvtn) by the rules of fq_f32_to_f16: round to nearest even, overflow to
 * inf, NaN quieted with its sign and top payload bits. (Widening stays in integers: the compiler may
 * fold a widening and a narrowing into nothing, which would keep a signaling f16 NaN signaling.) */
static inline hv8 f32_to_f16(fv8 f) { return (hv8)__builtin_convertvector(f, f16v8); }
#else
/* fq_f32_to_f16, lane by lane (the same float operations, so the same rounding). */
static inline hv8 f32_to_f16(fv8 f) {
    uv8 w = (uv8)f;
    uv8 shl1 = w + w;
    uv8 sign = w & 0x80000000u;
    uv8 nan = (sign >> 16) | 0x7E00u | ((w >> 13) & 0x3FFu);
    fv8 base = (fv8)(w & 0x7fffffffu) * FV(0x1.0p+112f);
    base = base * FV(0x1.0p-110f);
    uv8 bias = shl1 & 0xFF000000u;
    bias = sel(bias < 0x71000000u, UV(0x71000000u), bias);
    base = (fv8)((bias >> 1) + 0x07800000u) + base;
    uv8 bits = (uv8)base;
    uv8 h = (sign >> 16) | (((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu));
    return __builtin_convertvector(sel(shl1 > 0xFF000000u, nan, h), hv8);
}
#endif

/* fq_f32_to_bf16, lane by lane. */
static inline hv8 f32_to_bf16(fv8 f) {
    uv8 x = (uv8)f;
    uv8 nan = (x >> 16) | 0x40u;
    uv8 r = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    return __builtin_convertvector(sel((x & 0x7fffffffu) > 0x7f800000u, nan, r), hv8);
}

static inline fv8 ld8(const void *src, int type, size_t i) {
    if (type == FERRY_Q_F32) {
        fv8 v;
        memcpy(&v, (const float *)src + i, sizeof v);
        return v;
    }
    hv8 h;
    memcpy(&h, (const uint16_t *)src + i, sizeof h);
    if (type == FERRY_Q_F16) return f16_to_f32(h);
    return (fv8)(__builtin_convertvector(h, uv8) << 16);
}

static inline void st8(void *dst, int type, size_t i, fv8 v) {
    if (type == FERRY_Q_F32) { memcpy((float *)dst + i, &v, sizeof v); return; }
    hv8 h = type == FERRY_Q_F16 ? f32_to_f16(v) : f32_to_bf16(v);
    memcpy((uint16_t *)dst + i, &h, sizeof h);
}

static inline fv8 abs8(fv8 v) { return (fv8)((uv8)v & 0x7fffffffu); }

/* acc where a is not greater (NaN a included): the scalar `if (acc < a) acc = a`. */
static inline fv8 max8(fv8 a, fv8 acc) { return self(acc < a, a, acc); }

/* Largest lane; the lanes hold no NaN, so the order does not matter. */
static inline float hmax8(fv8 v) {
    float m = v[0];
    for (int k = 1; k < 8; k++)
        if (m < v[k]) m = v[k];
    return m;
}

static void cast_fp16(const void *src, int type, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        fv8 v = ld8(src, type, i);
        v = self(v > FV(65504.0f), FV(65504.0f), v); /* NaN passes through */
        v = self(v < FV(-65504.0f), FV(-65504.0f), v);
        hv8 h = f32_to_f16(v);
        memcpy(dst + i, &h, sizeof h);
    }
    fq_scalar_cast_fp16((const char *)src + i * fq_type_size(type), type, dst + i, n - i);
}

static void cast_bf16(const void *src, int type, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        hv8 h = f32_to_bf16(ld8(src, type, i));
        memcpy(dst + i, &h, sizeof h);
    }
    fq_scalar_cast_bf16((const char *)src + i * fq_type_size(type), type, dst + i, n - i);
}

static void from_fp16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_F16) { memcpy(dst, src, n * 2); return; }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) st8(dst, type, i, ld8(src, FERRY_Q_F16, i));
    fq_scalar_from_fp16(src + i, type, (char *)dst + i * fq_type_size(type), n - i);
}

static void from_bf16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_BF16) { memcpy(dst, src, n * 2); return; }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) st8(dst, type, i, ld8(src, FERRY_Q_BF16, i));
    fq_scalar_from_bf16(src + i, type, (char *)dst + i * fq_type_size(type), n - i);
}

/* ---- blockwise 8-bit ---- */

static inline float q8_full_absmax(const void *src, int type, size_t s) {
    fv8 a0 = FV(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = s; i < s + FERRY_Q8_BLOCK; i += 32) {
        a0 = max8(abs8(ld8(src, type, i)), a0);
        a1 = max8(abs8(ld8(src, type, i + 8)), a1);
        a2 = max8(abs8(ld8(src, type, i + 16)), a2);
        a3 = max8(abs8(ld8(src, type, i + 24)), a3);
    }
    return hmax8(max8(max8(a0, a1), max8(a2, a3)));
}

static void q8_absmax(const void *src, int type, size_t n, float *absmax) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        if (s + FERRY_Q8_BLOCK <= n) absmax[b] = q8_full_absmax(src, type, s);
        else absmax[b] = fq_q8_block_absmax(src, type, s, n);
    }
}

/* The LUT indices of fq_q8_block_codes for 8 values. Its fmaf(t, 65535, 0.5) is computed in double,
 * where it is exact (t is a multiple of 2^-25 in [0, 1], so t * 65535 + 0.5 needs 42 bits), then rounded
 * once to float: the same value without an FMA instruction, which baseline x86-64 lacks. */
static inline uv8 q8_index8(fv8 x, fv8 inv) {
    fv8 v = x * inv;
    v = self(v > FV(1.0f), FV(1.0f), v); /* NaN passes through */
    v = self(v < FV(-1.0f), FV(-1.0f), v);
    fv8 t = (v + FV(1.0f)) * FV(0.5f);
    dv8 exact = __builtin_convertvector(t, dv8) * 65535.0 + 0.5;
    fv8 g = __builtin_convertvector(exact, fv8);
    g = self(g == g, g, FV(0.0f)); /* NaN -> index 0 */
    return (uv8)__builtin_convertvector(g, iv8) & 0xFFFFu;
}

static void q8_quantize(const void *src, int type, size_t n, uint8_t *codes, float *absmax) {
    const uint8_t *lut = fq_lut8_padded();
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        if (s + FERRY_Q8_BLOCK > n) { absmax[b] = fq_q8_tail_block(src, type, s, n, lut, codes); continue; }
        float am = q8_full_absmax(src, type, s);
        absmax[b] = am;
        if (am == 0.0f) { memset(codes + s, 0, FERRY_Q8_BLOCK); continue; }
        const fv8 inv = FV(1.0f / am);
        for (size_t i = s; i < s + FERRY_Q8_BLOCK; i += 8) {
            uv8 idx = q8_index8(ld8(src, type, i), inv);
            for (int k = 0; k < 8; k++) codes[i + (size_t)k] = lut[idx[k]];
        }
    }
}

/* ---- 4-bit ---- */

/* Max |x| of a full block, NaN when any value is NaN; loads the block into x. */
static inline float q4_full_max(const void *src, int type, size_t s, fv8 x[8]) {
    iv8 nan = (iv8){0};
    fv8 m = FV(0.0f);
    for (int j = 0; j < 8; j++) {
        x[j] = ld8(src, type, s + 8 * (size_t)j);
        nan |= x[j] != x[j];
        m = max8(abs8(x[j]), m);
    }
    for (int k = 0; k < 8; k++)
        if (nan[k]) return fq_float(0x7fc00000u);
    return hmax8(m);
}

static void q4_absmax(const void *src, int type, size_t n, float *absmax) {
    fv8 x[8];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK <= n) absmax[b] = q4_full_max(src, type, s, x);
        else absmax[b] = fq_q4_stored_absmax(fq_q4_block_max(src, type, s, n), n - s);
    }
}

static void q4_quantize(int kind, const void *src, int type, size_t n, uint8_t *packed, float *absmax) {
    const float *bounds = (const float *)fq_q4_bounds_bits[kind];
    const int32_t *order = fq_q4_order[kind];
    fv8 x[8];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK > n) { absmax[b] = fq_q4_tail_block(kind, src, type, s, n, packed); continue; }
        float stored = q4_full_max(src, type, s, x);
        absmax[b] = stored;
        const fv8 r = FV(fq_q4_reciprocal(stored));
        for (int j = 0; j < 8; j++) {
            fv8 v = x[j] * r;
            iv8 c = (iv8){0};
            for (int k = 0; k < 15; k++) c -= FV(bounds[k]) < v; /* count the bounds below v */
            c = (iv8)sel(v != v, UV(15u), (uv8)c);                /* NaN: bucket 15 */
            uint8_t *out = packed + s / 2 + 4 * (size_t)j;
            for (int k = 0; k < 8; k += 2) out[k / 2] = (uint8_t)((order[c[k]] << 4) | order[c[k + 1]]);
        }
    }
}

/* One block's 16 decoded values, already in the destination type, then a lookup per nibble. */
static void q4_dequantize(int kind, const uint8_t *packed, const float *absmax, size_t n, int type, void *dst) {
    const float *code = (const float *)fq_q4_code_bits[kind];
    float t32[16];
    uint16_t t16[16];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK > n) {
            fq_scalar_q4_dequant_range(kind, packed, absmax[b], s, n, type, dst);
            continue;
        }
        float am = absmax[b];
        const uint8_t *in = packed + s / 2;
        if (type == FERRY_Q_F32) {
            for (int k = 0; k < 16; k++) t32[k] = fq_mul(code[k], am);
            float *out = (float *)dst + s;
            for (size_t j = 0; j < FERRY_Q4_BLOCK / 2; j++) {
                out[2 * j] = t32[in[j] >> 4];
                out[2 * j + 1] = t32[in[j] & 0xF];
            }
        } else {
            for (int k = 0; k < 16; k++)
                t16[k] = type == FERRY_Q_F16 ? fq_f32_to_f16(fq_mul(code[k], am)) : fq_f32_to_bf16(fq_mul(code[k], am));
            uint16_t *out = (uint16_t *)dst + s;
            for (size_t j = 0; j < FERRY_Q4_BLOCK / 2; j++) {
                out[2 * j] = t16[in[j] >> 4];
                out[2 * j + 1] = t16[in[j] & 0xF];
            }
        }
    }
}

/* The 8-bit decoder is a table lookup per element: the scalar one (a table per block, already in the
 * destination type) is the portable best. */
const fq_impl fq_impl_portable = {
    cast_fp16, cast_bf16, from_fp16, from_bf16,
    q8_absmax, q8_quantize, fq_scalar_q8_dequantize, q4_absmax, q4_quantize, q4_dequantize,
};
