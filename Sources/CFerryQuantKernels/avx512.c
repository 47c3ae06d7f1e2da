/* AVX-512F variants (x86-64 only; chosen at run time). Results equal the scalar ones bit for bit. */
#include "internal.h"
#if FQ_X86
#include <immintrin.h>

#define FQ_T __attribute__((target("avx512f,avx2,fma,f16c")))

FQ_T static inline __m512 ld16(const void *src, int type, size_t i) {
    if (type == FERRY_Q_F32) return _mm512_loadu_ps((const float *)src + i);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)src + i));
    if (type == FERRY_Q_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

FQ_T static inline __m256i bf16_16(__m512 v) {
    __m512i x = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb)), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    __m512i q = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, q));
}

FQ_T static inline void st16(void *dst, int type, size_t i, __m512 v) {
    switch (type) {
    case FERRY_Q_F32: _mm512_storeu_ps((float *)dst + i, v); break;
    case FERRY_Q_F16:
        _mm256_storeu_si256((__m256i *)((uint16_t *)dst + i), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    default: _mm256_storeu_si256((__m256i *)((uint16_t *)dst + i), bf16_16(v)); break;
    }
}

FQ_T static void cast_fp16(const void *src, int type, uint16_t *dst, size_t n) {
    const __m512 hi = _mm512_set1_ps(65504.0f), lo = _mm512_set1_ps(-65504.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = ld16(src, type, i);
        v = _mm512_min_ps(hi, v); /* the second operand (NaN) passes through */
        v = _mm512_max_ps(lo, v);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    fq_scalar_cast_fp16((const char *)src + i * fq_type_size(type), type, dst + i, n - i);
}

FQ_T static void cast_bf16(const void *src, int type, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i *)(dst + i), bf16_16(ld16(src, type, i)));
    fq_scalar_cast_bf16((const char *)src + i * fq_type_size(type), type, dst + i, n - i);
}

FQ_T static void from_fp16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_F16) { memcpy(dst, src, n * 2); return; }
    size_t i = 0;
    for (; i + 16 <= n; i += 16) st16(dst, type, i, ld16(src, FERRY_Q_F16, i));
    fq_scalar_from_fp16(src + i, type, (char *)dst + i * fq_type_size(type), n - i);
}

FQ_T static void from_bf16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_BF16) { memcpy(dst, src, n * 2); return; }
    size_t i = 0;
    for (; i + 16 <= n; i += 16) st16(dst, type, i, ld16(src, FERRY_Q_BF16, i));
    fq_scalar_from_bf16(src + i, type, (char *)dst + i * fq_type_size(type), n - i);
}

/* ---- blockwise 8-bit ---- */

FQ_T static inline float q8_full_absmax(const void *src, int type, size_t s) {
    const __m512i mask = _mm512_set1_epi32(0x7fffffff);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = s; i < s + FERRY_Q8_BLOCK; i += 64) {
        /* max(|x|, acc) returns acc when |x| is NaN: NaN is ignored, as std::max does */
        a0 = _mm512_max_ps(_mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(ld16(src, type, i)), mask)), a0);
        a1 = _mm512_max_ps(_mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(ld16(src, type, i + 16)), mask)), a1);
        a2 = _mm512_max_ps(_mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(ld16(src, type, i + 32)), mask)), a2);
        a3 = _mm512_max_ps(_mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(ld16(src, type, i + 48)), mask)), a3);
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3)));
}

FQ_T static void q8_absmax(const void *src, int type, size_t n, float *absmax) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        if (s + FERRY_Q8_BLOCK <= n) absmax[b] = q8_full_absmax(src, type, s);
        else absmax[b] = fq_q8_block_absmax(src, type, s, n);
    }
}

FQ_T static inline __m128i q8_codes16(__m512 x, __m512 inv, const uint8_t *lut) {
    const __m512 one = _mm512_set1_ps(1.0f), neg = _mm512_set1_ps(-1.0f), half = _mm512_set1_ps(0.5f);
    const __m512 grid = _mm512_set1_ps(65535.0f);
    __m512 v = _mm512_mul_ps(x, inv);
    v = _mm512_min_ps(one, v); /* NaN passes through */
    v = _mm512_max_ps(neg, v);
    __m512 t = _mm512_mul_ps(_mm512_add_ps(v, one), half);
    __m512 g = _mm512_fmadd_ps(t, grid, half);
    /* cvttps2dq gives 0x80000000 for NaN, whose low 16 bits are 0, as the reference */
    __m512i idx = _mm512_and_si512(_mm512_cvttps_epi32(g), _mm512_set1_epi32(0xffff));
    __m512i c = _mm512_i32gather_epi32(idx, (const void *)lut, 1);
    return _mm512_cvtepi32_epi8(c); /* truncates to the low byte */
}

FQ_T static void q8_quantize(const void *src, int type, size_t n, uint8_t *codes, float *absmax) {
    const uint8_t *lut = fq_lut8_padded();
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        if (s + FERRY_Q8_BLOCK > n) { absmax[b] = fq_q8_tail_block(src, type, s, n, lut, codes); continue; }
        float am = q8_full_absmax(src, type, s);
        absmax[b] = am;
        if (am == 0.0f) { memset(codes + s, 0, FERRY_Q8_BLOCK); continue; }
        const __m512 inv = _mm512_set1_ps(1.0f / am);
        for (size_t i = s; i < s + FERRY_Q8_BLOCK; i += 32) {
            __m128i c0 = q8_codes16(ld16(src, type, i), inv, lut);
            __m128i c1 = q8_codes16(ld16(src, type, i + 16), inv, lut);
            _mm_storeu_si128((__m128i *)(codes + i), c0);
            _mm_storeu_si128((__m128i *)(codes + i + 16), c1);
        }
    }
}

FQ_T static void q8_dequantize(const uint8_t *codes, const float *absmax, size_t n, int type, void *dst) {
    const float *code = (const float *)fq_dynamic_map_bits;
    float table[256] __attribute__((aligned(64)));
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        size_t e = s + FERRY_Q8_BLOCK < n ? s + FERRY_Q8_BLOCK : n;
        const __m512 am = _mm512_set1_ps(absmax[b]);
        for (int k = 0; k < 256; k += 16) _mm512_store_ps(table + k, _mm512_mul_ps(_mm512_loadu_ps(code + k), am));
        size_t i = s;
        for (; i + 16 <= e; i += 16) {
            __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + i)));
            st16(dst, type, i, _mm512_i32gather_ps(idx, table, 4));
        }
        for (; i < e; i++) fq_store(dst, type, i, table[codes[i]]);
    }
}

/* ---- 4-bit ---- */

FQ_T static inline float q4_full_max(const void *src, int type, size_t s, __m512 x[4]) {
    const __m512i mask = _mm512_set1_epi32(0x7fffffff);
    __mmask16 nan = 0;
    __m512 m = _mm512_setzero_ps();
    for (int j = 0; j < 4; j++) {
        x[j] = ld16(src, type, s + 16 * (size_t)j);
        nan |= _mm512_cmp_ps_mask(x[j], x[j], _CMP_UNORD_Q);
        m = _mm512_max_ps(_mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x[j]), mask)), m);
    }
    return nan ? fq_float(0x7fc00000u) : _mm512_reduce_max_ps(m);
}

FQ_T static void q4_absmax(const void *src, int type, size_t n, float *absmax) {
    __m512 x[4];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK <= n) absmax[b] = q4_full_max(src, type, s, x);
        else absmax[b] = fq_q4_stored_absmax(fq_q4_block_max(src, type, s, n), n - s);
    }
}

/* Number of bounds below v (branchless search over 15 sorted bounds); NaN -> 15. */
FQ_T static inline __m512i q4_bucket(__m512 v, __m512 bounds) {
    __m512i idx = _mm512_setzero_si512();
    const int steps[4] = {8, 4, 2, 1};
    for (int k = 0; k < 4; k++) {
        __m512i probe = _mm512_add_epi32(idx, _mm512_set1_epi32(steps[k] - 1));
        __m512 b = _mm512_permutexvar_ps(probe, bounds);
        __mmask16 below = _mm512_cmp_ps_mask(b, v, _CMP_NGE_UQ); /* b < v, or v is NaN */
        idx = _mm512_mask_add_epi32(idx, below, idx, _mm512_set1_epi32(steps[k]));
    }
    return idx;
}

/* 16 nibbles (one per 32-bit lane, even element in the low half of each 64-bit lane) -> 8 bytes. */
FQ_T static inline void q4_pack16(__m512i nib, uint8_t *out) {
    __m512i even = _mm512_and_si512(nib, _mm512_set1_epi64(0xF));
    __m512i odd = _mm512_srli_epi64(nib, 32);
    __m512i bytes = _mm512_or_si512(_mm512_slli_epi64(even, 4), odd);
    _mm_storel_epi64((__m128i *)out, _mm512_cvtepi64_epi8(bytes));
}

FQ_T static void q4_quantize(int kind, const void *src, int type, size_t n, uint8_t *packed, float *absmax) {
    const __m512 bounds = _mm512_loadu_ps((const float *)fq_q4_bounds_bits[kind]);
    const __m512i order = _mm512_loadu_si512((const void *)fq_q4_order[kind]);
    __m512 x[4];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK > n) { absmax[b] = fq_q4_tail_block(kind, src, type, s, n, packed); continue; }
        float stored = q4_full_max(src, type, s, x);
        absmax[b] = stored;
        const __m512 r = _mm512_set1_ps(fq_q4_reciprocal(stored));
        for (int j = 0; j < 4; j++) {
            __m512i nib = _mm512_permutexvar_epi32(q4_bucket(_mm512_mul_ps(x[j], r), bounds), order);
            q4_pack16(nib, packed + s / 2 + 8 * (size_t)j);
        }
    }
}

FQ_T static void q4_dequantize(int kind, const uint8_t *packed, const float *absmax, size_t n, int type, void *dst) {
    const __m512 code = _mm512_loadu_ps((const float *)fq_q4_code_bits[kind]);
    const __m512i low = _mm512_set1_epi64(0xF);
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK > n) {
            fq_scalar_q4_dequant_range(kind, packed, absmax[b], s, n, type, dst);
            continue;
        }
        const __m512 table = _mm512_mul_ps(code, _mm512_set1_ps(absmax[b]));
        for (size_t j = 0; j < FERRY_Q4_BLOCK; j += 16) {
            __m512i by = _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(packed + (s + j) / 2)));
            __m512i idx = _mm512_or_si512(_mm512_srli_epi64(by, 4), _mm512_slli_epi64(_mm512_and_si512(by, low), 32));
            st16(dst, type, s + j, _mm512_permutexvar_ps(idx, table));
        }
    }
}

const fq_impl fq_impl_avx512 = {
    cast_fp16, cast_bf16, from_fp16, from_bf16,
    q8_absmax, q8_quantize, q8_dequantize, q4_absmax, q4_quantize, q4_dequantize,
};
#endif
