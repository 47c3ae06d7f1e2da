/* AVX2 + FMA + F16C variants (x86-64 only; chosen at run time). Results equal the scalar ones bit for bit. */
#include "internal.h"
#if FQ_X86
#include <immintrin.h>

#define FQ_T __attribute__((target("avx2,fma,f16c")))

FQ_T static inline __m256 ld8(const void *src, int type, size_t i) {
    if (type == FERRY_Q_F32) return _mm256_loadu_ps((const float *)src + i);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)src + i));
    if (type == FERRY_Q_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

FQ_T static inline __m128i bf16_8(__m256 v) {
    __m256i x = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb)), 16);
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    __m256i q = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
    r = _mm256_blendv_epi8(r, q, nan);
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

FQ_T static inline void st8(void *dst, int type, size_t i, __m256 v) {
    switch (type) {
    case FERRY_Q_F32: _mm256_storeu_ps((float *)dst + i, v); break;
    case FERRY_Q_F16:
        _mm_storeu_si128((__m128i *)((uint16_t *)dst + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    default: _mm_storeu_si128((__m128i *)((uint16_t *)dst + i), bf16_8(v)); break;
    }
}

FQ_T static inline __m256 abs8(__m256 v) {
    return _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff)));
}

FQ_T static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

FQ_T static void cast_fp16(const void *src, int type, uint16_t *dst, size_t n) {
    const __m256 hi = _mm256_set1_ps(65504.0f), lo = _mm256_set1_ps(-65504.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = ld8(src, type, i);
        v = _mm256_min_ps(hi, v); /* the second operand (NaN) passes through */
        v = _mm256_max_ps(lo, v);
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    fq_scalar_cast_fp16((const char *)src + i * fq_type_size(type), type, dst + i, n - i);
}

FQ_T static void cast_bf16(const void *src, int type, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(dst + i), bf16_8(ld8(src, type, i)));
    fq_scalar_cast_bf16((const char *)src + i * fq_type_size(type), type, dst + i, n - i);
}

FQ_T static void from_fp16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_F16) { memcpy(dst, src, n * 2); return; }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) st8(dst, type, i, ld8(src, FERRY_Q_F16, i));
    fq_scalar_from_fp16(src + i, type, (char *)dst + i * fq_type_size(type), n - i);
}

FQ_T static void from_bf16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_BF16) { memcpy(dst, src, n * 2); return; }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) st8(dst, type, i, ld8(src, FERRY_Q_BF16, i));
    fq_scalar_from_bf16(src + i, type, (char *)dst + i * fq_type_size(type), n - i);
}

/* ---- blockwise 8-bit ---- */

FQ_T static inline float q8_full_absmax(const void *src, int type, size_t s) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = s; i < s + FERRY_Q8_BLOCK; i += 32) {
        /* max(|x|, acc) returns acc when |x| is NaN: NaN is ignored, as std::max does */
        a0 = _mm256_max_ps(abs8(ld8(src, type, i)), a0);
        a1 = _mm256_max_ps(abs8(ld8(src, type, i + 8)), a1);
        a2 = _mm256_max_ps(abs8(ld8(src, type, i + 16)), a2);
        a3 = _mm256_max_ps(abs8(ld8(src, type, i + 24)), a3);
    }
    return hmax8(_mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3)));
}

FQ_T static void q8_absmax(const void *src, int type, size_t n, float *absmax) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        if (s + FERRY_Q8_BLOCK <= n) absmax[b] = q8_full_absmax(src, type, s);
        else absmax[b] = fq_q8_block_absmax(src, type, s, n);
    }
}

FQ_T static inline __m256i q8_codes8(__m256 x, __m256 inv, const uint8_t *lut) {
    const __m256 one = _mm256_set1_ps(1.0f), neg = _mm256_set1_ps(-1.0f), half = _mm256_set1_ps(0.5f);
    __m256 v = _mm256_mul_ps(x, inv);
    v = _mm256_min_ps(one, v); /* NaN passes through */
    v = _mm256_max_ps(neg, v);
    __m256 t = _mm256_mul_ps(_mm256_add_ps(v, one), half);
    __m256 g = _mm256_fmadd_ps(t, _mm256_set1_ps(65535.0f), half);
    __m256i idx = _mm256_and_si256(_mm256_cvttps_epi32(g), _mm256_set1_epi32(0xffff));
    return _mm256_and_si256(_mm256_i32gather_epi32((const int *)(const void *)lut, idx, 1), _mm256_set1_epi32(0xff));
}

FQ_T static void q8_quantize(const void *src, int type, size_t n, uint8_t *codes, float *absmax) {
    const uint8_t *lut = fq_lut8_padded();
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        if (s + FERRY_Q8_BLOCK > n) { absmax[b] = fq_q8_tail_block(src, type, s, n, lut, codes); continue; }
        float am = q8_full_absmax(src, type, s);
        absmax[b] = am;
        if (am == 0.0f) { memset(codes + s, 0, FERRY_Q8_BLOCK); continue; }
        const __m256 inv = _mm256_set1_ps(1.0f / am);
        for (size_t i = s; i < s + FERRY_Q8_BLOCK; i += 16) {
            __m256i c0 = q8_codes8(ld8(src, type, i), inv, lut);
            __m256i c1 = q8_codes8(ld8(src, type, i + 8), inv, lut);
            __m256i w = _mm256_packus_epi32(c0, c1);          /* per 128-bit lane: c0lo c1lo | c0hi c1hi */
            w = _mm256_permute4x64_epi64(w, 0xD8);            /* c0lo c0hi c1lo c1hi */
            __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
            _mm_storeu_si128((__m128i *)(codes + i), bytes);
        }
    }
}

FQ_T static void q8_dequantize(const uint8_t *codes, const float *absmax, size_t n, int type, void *dst) {
    const float *code = (const float *)fq_dynamic_map_bits;
    float table[256] __attribute__((aligned(32)));
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        size_t e = s + FERRY_Q8_BLOCK < n ? s + FERRY_Q8_BLOCK : n;
        const __m256 am = _mm256_set1_ps(absmax[b]);
        for (int k = 0; k < 256; k += 8) _mm256_store_ps(table + k, _mm256_mul_ps(_mm256_loadu_ps(code + k), am));
        size_t i = s;
        for (; i + 8 <= e; i += 8) {
            __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + i)));
            st8(dst, type, i, _mm256_i32gather_ps(table, idx, 4));
        }
        for (; i < e; i++) fq_store(dst, type, i, table[codes[i]]);
    }
}

/* ---- 4-bit ---- */

FQ_T static inline float q4_full_max(const void *src, int type, size_t s, __m256 x[8]) {
    __m256 nan = _mm256_setzero_ps(), m = _mm256_setzero_ps();
    for (int j = 0; j < 8; j++) {
        x[j] = ld8(src, type, s + 8 * (size_t)j);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(x[j], x[j], _CMP_UNORD_Q));
        m = _mm256_max_ps(abs8(x[j]), m);
    }
    return _mm256_movemask_ps(nan) ? fq_float(0x7fc00000u) : hmax8(m);
}

FQ_T static void q4_absmax(const void *src, int type, size_t n, float *absmax) {
    __m256 x[8];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK <= n) absmax[b] = q4_full_max(src, type, s, x);
        else absmax[b] = fq_q4_stored_absmax(fq_q4_block_max(src, type, s, n), n - s);
    }
}

/* 16-entry table lookup with 8-lane permutes. */
FQ_T static inline __m256i lookup16_epi32(__m256i idx, __m256i lo, __m256i hi) {
    __m256i a = _mm256_permutevar8x32_epi32(lo, idx), b = _mm256_permutevar8x32_epi32(hi, idx);
    __m256i sel = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7));
    return _mm256_blendv_epi8(a, b, sel);
}

FQ_T static void q4_quantize(int kind, const void *src, int type, size_t n, uint8_t *packed, float *absmax) {
    const float *bounds = (const float *)fq_q4_bounds_bits[kind];
    __m256 bv[15];
    for (int k = 0; k < 15; k++) bv[k] = _mm256_set1_ps(bounds[k]);
    const __m256i olo = _mm256_loadu_si256((const __m256i *)fq_q4_order[kind]);
    const __m256i ohi = _mm256_loadu_si256((const __m256i *)(fq_q4_order[kind] + 8));
    __m256 x[8];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK > n) { absmax[b] = fq_q4_tail_block(kind, src, type, s, n, packed); continue; }
        float stored = q4_full_max(src, type, s, x);
        absmax[b] = stored;
        const __m256 r = _mm256_set1_ps(fq_q4_reciprocal(stored));
        for (int j = 0; j < 8; j++) {
            __m256 v = _mm256_mul_ps(x[j], r);
            __m256i c = _mm256_setzero_si256();
            for (int k = 0; k < 15; k++) /* count bounds below v; NaN counts all */
                c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(bv[k], v, _CMP_NGE_UQ)));
            __m256i nib = lookup16_epi32(c, olo, ohi);
            /* even element in the low half of each 64-bit lane -> one byte per lane */
            __m256i even = _mm256_and_si256(nib, _mm256_set1_epi64x(0xF));
            __m256i bytes = _mm256_or_si256(_mm256_slli_epi64(even, 4), _mm256_srli_epi64(nib, 32));
            uint64_t lanes[4];
            _mm256_storeu_si256((__m256i *)lanes, bytes);
            uint8_t *out = packed + s / 2 + 4 * (size_t)j;
            out[0] = (uint8_t)lanes[0]; out[1] = (uint8_t)lanes[1];
            out[2] = (uint8_t)lanes[2]; out[3] = (uint8_t)lanes[3];
        }
    }
}

FQ_T static void q4_dequantize(int kind, const uint8_t *packed, const float *absmax, size_t n, int type, void *dst) {
    const __m256 clo = _mm256_loadu_ps((const float *)fq_q4_code_bits[kind]);
    const __m256 chi = _mm256_loadu_ps((const float *)fq_q4_code_bits[kind] + 8);
    const __m256i low = _mm256_set1_epi64x(0xF);
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        if (s + FERRY_Q4_BLOCK > n) {
            fq_scalar_q4_dequant_range(kind, packed, absmax[b], s, n, type, dst);
            continue;
        }
        const __m256 am = _mm256_set1_ps(absmax[b]);
        const __m256i tlo = _mm256_castps_si256(_mm256_mul_ps(clo, am));
        const __m256i thi = _mm256_castps_si256(_mm256_mul_ps(chi, am));
        for (size_t j = 0; j < FERRY_Q4_BLOCK; j += 8) {
            uint32_t four;
            memcpy(&four, packed + (s + j) / 2, 4);
            __m256i by = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128((int)four));
            __m256i idx = _mm256_or_si256(_mm256_srli_epi64(by, 4), _mm256_slli_epi64(_mm256_and_si256(by, low), 32));
            st8(dst, type, s + j, _mm256_castsi256_ps(lookup16_epi32(idx, tlo, thi)));
        }
    }
}

const fq_impl fq_impl_avx2 = {
    cast_fp16, cast_bf16, from_fp16, from_bf16,
    q8_absmax, q8_quantize, q8_dequantize, q4_absmax, q4_quantize, q4_dequantize,
};
#endif
