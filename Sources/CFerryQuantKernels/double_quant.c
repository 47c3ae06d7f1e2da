/* Double quantization of 4-bit absmax values (bitsandbytes' compress_statistics=True).
 * These passes touch one float per 64 values, so the portable code is fast enough on every CPU. */
#include "internal.h"

float ferry_q4dq_offset(const float *absmax, size_t nblocks) {
    double sum = 0.0;
    size_t finite = 0;
    for (size_t j = 0; j < nblocks; j++) {
        if (!isfinite(absmax[j])) continue;
        sum += (double)absmax[j];
        finite++;
    }
    if (finite == 0) return 0.0f;
    /* As torch's f32 mean: the sum as a float, divided by the count as a float. */
    return (float)sum / (float)finite;
}

/* The body of the absmax quantizer, inlined into a portable and an FMA build: the 8-bit rule's fmaf is a
 * library call without hardware FMA and one instruction with it (the result is the same). */
static inline __attribute__((always_inline)) void dq_quantize(const float *absmax, size_t nblocks, float offset,
                                                              uint8_t *codes, float *scales) {
    const uint8_t *lut = fq_lut8_padded();
    float centred[FERRY_Q4DQ_GROUP];
    for (size_t s = 0, g = 0; s < nblocks; s += FERRY_Q4DQ_GROUP, g++) {
        size_t len = nblocks - s < FERRY_Q4DQ_GROUP ? nblocks - s : FERRY_Q4DQ_GROUP;
        for (size_t j = 0; j < len; j++) centred[j] = absmax[s + j] - offset;
        float am = fq_q8_block_absmax(centred, FERRY_Q_F32, 0, len);
        scales[g] = am;
        if (am == 0.0f) { memset(codes + s, 0, len); continue; }
        fq_q8_block_codes(centred, FERRY_Q_F32, 0, len, am, lut, codes + s);
    }
}

static void dq_quantize_portable(const float *absmax, size_t nblocks, float offset, uint8_t *codes, float *scales) {
    dq_quantize(absmax, nblocks, offset, codes, scales);
}

#if FQ_X86
__attribute__((target("avx2,fma")))
static void dq_quantize_fma(const float *absmax, size_t nblocks, float offset, uint8_t *codes, float *scales) {
    dq_quantize(absmax, nblocks, offset, codes, scales);
}
#endif

void ferry_q4dq_quantize_absmax(const float *absmax, size_t nblocks, float offset,
                                uint8_t *codes, float *scales) {
#if FQ_X86
    if (ferry_q_active_level() >= FERRY_Q_LEVEL_AVX2) {
        dq_quantize_fma(absmax, nblocks, offset, codes, scales);
        return;
    }
#endif
    dq_quantize_portable(absmax, nblocks, offset, codes, scales);
}

void ferry_q4dq_dequantize_absmax(const uint8_t *codes, const float *scales, float offset,
                                  size_t nblocks, float *absmax) {
    const float *code = (const float *)fq_dynamic_map_bits;
    for (size_t s = 0, g = 0; s < nblocks; s += FERRY_Q4DQ_GROUP, g++) {
        size_t e = nblocks - s < FERRY_Q4DQ_GROUP ? nblocks : s + FERRY_Q4DQ_GROUP;
        float scale = scales[g];
        for (size_t j = s; j < e; j++) {
            float scaled = fq_mul(code[codes[j]], scale); /* two roundings, never fused (contract off) */
            absmax[j] = fq_add(scaled, offset);
        }
    }
}
