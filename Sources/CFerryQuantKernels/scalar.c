/* Portable reference implementations; the SIMD variants must match them bit for bit. */
#include "internal.h"

void fq_scalar_cast_fp16(const void *src, int type, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = fq_load(src, type, i);
        if (v > 65504.0f) v = 65504.0f;
        if (v < -65504.0f) v = -65504.0f;
        dst[i] = fq_f32_to_f16(v);
    }
}

void fq_scalar_cast_bf16(const void *src, int type, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = fq_f32_to_bf16(fq_load(src, type, i));
}

void fq_scalar_from_fp16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_F16) { memcpy(dst, src, n * 2); return; }
    for (size_t i = 0; i < n; i++) fq_store(dst, type, i, fq_f16_to_f32(src[i]));
}

void fq_scalar_from_bf16(const uint16_t *src, int type, void *dst, size_t n) {
    if (type == FERRY_Q_BF16) { memcpy(dst, src, n * 2); return; }
    for (size_t i = 0; i < n; i++) fq_store(dst, type, i, fq_bf16_to_f32(src[i]));
}

static void q8_absmax(const void *src, int type, size_t n, float *absmax) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        size_t e = s + FERRY_Q8_BLOCK < n ? s + FERRY_Q8_BLOCK : n;
        absmax[b] = fq_q8_block_absmax(src, type, s, e);
    }
}

static void q8_quantize(const void *src, int type, size_t n, uint8_t *codes, float *absmax) {
    const uint8_t *lut = fq_lut8_padded();
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        size_t e = s + FERRY_Q8_BLOCK < n ? s + FERRY_Q8_BLOCK : n;
        float am = fq_q8_block_absmax(src, type, s, e);
        absmax[b] = am;
        if (am == 0.0f) { memset(codes + s, 0, e - s); continue; }
        fq_q8_block_codes(src, type, s, e, am, lut, codes);
    }
}

void fq_scalar_q8_dequantize(const uint8_t *codes, const float *absmax, size_t n, int type, void *dst) {
    const float *code = (const float *)fq_dynamic_map_bits;
    float table[256];
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q8_BLOCK, b++) {
        size_t e = s + FERRY_Q8_BLOCK < n ? s + FERRY_Q8_BLOCK : n;
        float am = absmax[b];
        for (int k = 0; k < 256; k++) table[k] = fq_mul(code[k], am);
        switch (type) {
        case FERRY_Q_F32:
            for (size_t i = s; i < e; i++) ((float *)dst)[i] = table[codes[i]];
            break;
        default: {
            uint16_t t16[256];
            for (int k = 0; k < 256; k++)
                t16[k] = type == FERRY_Q_F16 ? fq_f32_to_f16(table[k]) : fq_f32_to_bf16(table[k]);
            for (size_t i = s; i < e; i++) ((uint16_t *)dst)[i] = t16[codes[i]];
            break;
        }
        }
    }
}

static void q4_absmax(const void *src, int type, size_t n, float *absmax) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        size_t e = s + FERRY_Q4_BLOCK < n ? s + FERRY_Q4_BLOCK : n;
        absmax[b] = fq_q4_stored_absmax(fq_q4_block_max(src, type, s, e), e - s);
    }
}

static void q4_quantize(int kind, const void *src, int type, size_t n, uint8_t *packed, float *absmax) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        size_t e = s + FERRY_Q4_BLOCK < n ? s + FERRY_Q4_BLOCK : n;
        float stored = fq_q4_stored_absmax(fq_q4_block_max(src, type, s, e), e - s);
        absmax[b] = stored;
        if (e - s == FERRY_Q4_BLOCK)
            fq_q4_block_codes(kind, src, type, s, e, fq_q4_reciprocal(stored), 0, packed);
        else
            fq_q4_block_codes(kind, src, type, s, e, stored, 1, packed);
    }
}

void fq_scalar_q4_dequant_range(int kind, const uint8_t *packed, float am, size_t s, size_t e,
                                int type, void *dst) {
    const float *code = (const float *)fq_q4_code_bits[kind];
    for (size_t i = s; i < e; i++) {
        uint8_t byte = packed[i / 2];
        int nib = (i & 1) ? (byte & 0xF) : (byte >> 4);
        fq_store(dst, type, i, fq_mul(code[nib], am));
    }
}

static void q4_dequantize(int kind, const uint8_t *packed, const float *absmax, size_t n, int type, void *dst) {
    for (size_t s = 0, b = 0; s < n; s += FERRY_Q4_BLOCK, b++) {
        size_t e = s + FERRY_Q4_BLOCK < n ? s + FERRY_Q4_BLOCK : n;
        fq_scalar_q4_dequant_range(kind, packed, absmax[b], s, e, type, dst);
    }
}

const fq_impl fq_impl_scalar = {
    fq_scalar_cast_fp16, fq_scalar_cast_bf16, fq_scalar_from_fp16, fq_scalar_from_bf16,
    q8_absmax, q8_quantize, fq_scalar_q8_dequantize, q4_absmax, q4_quantize, q4_dequantize,
};
