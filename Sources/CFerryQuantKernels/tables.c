/* Code books (bit patterns from bitsandbytes 0.50.2, see docs/quantized-format.md), the 8-bit LUT,
 * run-time CPU dispatch and the public entry points. */
#include "internal.h"
#include <pthread.h>

/* create_dynamic_map(signed=True), sorted ascending. */
const uint32_t fq_dynamic_map_bits[256] = {
    0xbf7e3333u, 0xbf7a999au, 0xbf770000u, 0xbf736666u, 0xbf6fcccdu, 0xbf6c3333u, 0xbf68999au, 0xbf650000u,
    0xbf616666u, 0xbf5dcccdu, 0xbf5a3333u, 0xbf56999au, 0xbf530000u, 0xbf4f6666u, 0xbf4bcccdu, 0xbf483333u,
    0xbf44999au, 0xbf410000u, 0xbf3d6666u, 0xbf39cccdu, 0xbf363334u, 0xbf32999au, 0xbf2f0000u, 0xbf2b6666u,
    0xbf27cccdu, 0xbf243334u, 0xbf20999au, 0xbf1d0000u, 0xbf196666u, 0xbf15cccdu, 0xbf123334u, 0xbf0e999au,
    0xbf0b0000u, 0xbf076666u, 0xbf03ccccu, 0xbf003333u, 0xbef93332u, 0xbef20000u, 0xbeeaccccu, 0xbee3999au,
    0xbedc6666u, 0xbed53333u, 0xbece0000u, 0xbec6ccccu, 0xbebf999au, 0xbeb86666u, 0xbeb13333u, 0xbeaa0000u,
    0xbea2ccccu, 0xbe9b999au, 0xbe946666u, 0xbe8d3334u, 0xbe860000u, 0xbe7d9999u, 0xbe6f3333u, 0xbe60cccdu,
    0xbe526666u, 0xbe440000u, 0xbe35999au, 0xbe273333u, 0xbe18cccdu, 0xbe0a6666u, 0xbdf80000u, 0xbddb3334u,
    0xbdc9eb85u, 0xbdc428f7u, 0xbdbe6667u, 0xbdb8a3d7u, 0xbdb2e148u, 0xbdad1eb8u, 0xbda75c2au, 0xbda1999au,
    0xbd9bd70au, 0xbd96147bu, 0xbd9051ebu, 0xbd8a8f5du, 0xbd84cccdu, 0xbd7e147bu, 0xbd728f5du, 0xbd670a3du,
    0xbd5b851fu, 0xbd500000u, 0xbd447ae1u, 0xbd38f5c3u, 0xbd2d70a3u, 0xbd21eb85u, 0xbd166667u, 0xbd0ae148u,
    0xbcfeb852u, 0xbce7ae15u, 0xbcd0a3d7u, 0xbcb9999au, 0xbca28f5du, 0xbc8b851fu, 0xbc68f5c3u, 0xbc3ae148u,
    0xbc1f3b64u, 0xbc160418u, 0xbc0ccccdu, 0xbc039581u, 0xbbf4bc6au, 0xbbe24dd3u, 0xbbcfdf3bu, 0xbbbd70a4u,
    0xbbab020du, 0xbb989374u, 0xbb8624ddu, 0xbb676c8au, 0xbb428f5cu, 0xbb1db22du, 0xbaf1a9fcu, 0xbaa7ef9du,
    0xba7765ffu, 0xba59e83eu, 0xba3c6a80u, 0xba1eecc1u, 0xba016f01u, 0xb9c7e283u, 0xb98ce705u, 0xb923d70bu,
    0xb8ba1f4bu, 0xb88aefb3u, 0xb8378034u, 0xb7b24206u, 0xb70205ffu, 0xb65a1a94u, 0xb513a3b7u, 0x00000000u,
    0x3513a3b7u, 0x365a1a94u, 0x370205ffu, 0x37b24206u, 0x38378034u, 0x388aefb3u, 0x38ba1f4bu, 0x3923d70bu,
    0x398ce705u, 0x39c7e283u, 0x3a016f01u, 0x3a1eecc1u, 0x3a3c6a80u, 0x3a59e83eu, 0x3a7765ffu, 0x3aa7ef9du,
    0x3af1a9fcu, 0x3b1db22du, 0x3b428f5cu, 0x3b676c8au, 0x3b8624ddu, 0x3b989374u, 0x3bab020du, 0x3bbd70a4u,
    0x3bcfdf3bu, 0x3be24dd3u, 0x3bf4bc6au, 0x3c039581u, 0x3c0ccccdu, 0x3c160418u, 0x3c1f3b64u, 0x3c3ae148u,
    0x3c68f5c3u, 0x3c8b851fu, 0x3ca28f5du, 0x3cb9999au, 0x3cd0a3d7u, 0x3ce7ae15u, 0x3cfeb852u, 0x3d0ae148u,
    0x3d166667u, 0x3d21eb85u, 0x3d2d70a3u, 0x3d38f5c3u, 0x3d447ae1u, 0x3d500000u, 0x3d5b851fu, 0x3d670a3du,
    0x3d728f5du, 0x3d7e147bu, 0x3d84cccdu, 0x3d8a8f5du, 0x3d9051ebu, 0x3d96147bu, 0x3d9bd70au, 0x3da1999au,
    0x3da75c2au, 0x3dad1eb8u, 0x3db2e148u, 0x3db8a3d7u, 0x3dbe6667u, 0x3dc428f7u, 0x3dc9eb85u, 0x3ddb3334u,
    0x3df80000u, 0x3e0a6666u, 0x3e18cccdu, 0x3e273333u, 0x3e35999au, 0x3e440000u, 0x3e526666u, 0x3e60cccdu,
    0x3e6f3333u, 0x3e7d9999u, 0x3e860000u, 0x3e8d3334u, 0x3e946666u, 0x3e9b999au, 0x3ea2ccccu, 0x3eaa0000u,
    0x3eb13333u, 0x3eb86666u, 0x3ebf999au, 0x3ec6ccccu, 0x3ece0000u, 0x3ed53333u, 0x3edc6666u, 0x3ee3999au,
    0x3eeaccccu, 0x3ef20000u, 0x3ef93332u, 0x3f003333u, 0x3f03ccccu, 0x3f076666u, 0x3f0b0000u, 0x3f0e999au,
    0x3f123334u, 0x3f15cccdu, 0x3f196666u, 0x3f1d0000u, 0x3f20999au, 0x3f243334u, 0x3f27cccdu, 0x3f2b6666u,
    0x3f2f0000u, 0x3f32999au, 0x3f363334u, 0x3f39cccdu, 0x3f3d6666u, 0x3f410000u, 0x3f44999au, 0x3f483333u,
    0x3f4bcccdu, 0x3f4f6666u, 0x3f530000u, 0x3f56999au, 0x3f5a3333u, 0x3f5dcccdu, 0x3f616666u, 0x3f650000u,
    0x3f68999au, 0x3f6c3333u, 0x3f6fcccdu, 0x3f736666u, 0x3f770000u, 0x3f7a999au, 0x3f7e3333u, 0x3f800000u,
};

/* get_4bit_type("fp4") and ("nf4"), indexed by nibble. FP4 entry 8 is +0.0. */
const uint32_t fq_q4_code_bits[2][16] = {
    {
    0x00000000u, 0x3baaaaabu, 0x3f2aaaabu, 0x3f800000u, 0x3eaaaaabu, 0x3f000000u, 0x3e2aaaabu, 0x3e800000u,
    0x00000000u, 0xbbaaaaabu, 0xbf2aaaabu, 0xbf800000u, 0xbeaaaaabu, 0xbf000000u, 0xbe2aaaabu, 0xbe800000u,
    },
    {
    0xbf800000u, 0xbf3239b1u, 0xbf066b30u, 0xbeca32a0u, 0xbe91a24du, 0xbe3d353fu, 0xbdba7871u, 0x00000000u,
    0x3da2faffu, 0x3e24cae3u, 0x3e7c04ddu, 0x3ead033au, 0x3ee1a4b8u, 0x3f1007abu, 0x3f3913b3u, 0x3f800000u,
    },
};

/* (code[order[k]] + code[order[k+1]]) / 2 for the sorted code book; entry 15 is +inf (unused). */
const uint32_t fq_q4_bounds_bits[2][16] = {
    {
    0xbf555556u, 0xbf155556u, 0xbed55556u, 0xbe955556u, 0xbe555556u, 0xbdb00000u, 0xbb2aaaabu, 0x00000000u,
    0x3b2aaaabu, 0x3db00000u, 0x3e555556u, 0x3e955556u, 0x3ed55556u, 0x3f155556u, 0x3f555556u, 0x7f800000u,
    },
    {
    0xbf591cd8u, 0xbf1c5270u, 0xbeeb8480u, 0xbeadea76u, 0xbe703cecu, 0xbe0d38bcu, 0xbd3a7871u, 0x3d22faffu,
    0x3df64862u, 0x3e5067e0u, 0x3e9582d4u, 0x3ec753f9u, 0x3f006d04u, 0x3f248dafu, 0x3f5c89dau, 0x7f800000u,
    },
};

/* argsort(code): bucket -> nibble. */
const int32_t fq_q4_order[2][16] = {
    {11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
};

/* ---- the 65,536-point LUT of bnb's CPU quantizer (cpu_ops.cpp build_quantize_lut) ---- */
static uint8_t fq_lut8[65536 + 4];
static pthread_once_t fq_lut8_once = PTHREAD_ONCE_INIT;

static void fq_build_lut8(void) {
    const float *code = (const float *)fq_dynamic_map_bits;
    float mid[255];
    for (int k = 0; k < 255; k++) mid[k] = (code[k] + code[k + 1]) * 0.5f;
    int k = 0; /* val increases with i, so the count of mid[k] < val only grows */
    for (int i = 0; i < 65536; i++) {
        float val = ((2.0f * (float)i) / 65535.0f) - 1.0f;
        while (k < 255 && mid[k] < val) k++;
        fq_lut8[i] = (uint8_t)k;
    }
}

const uint8_t *fq_lut8_padded(void) {
    pthread_once(&fq_lut8_once, fq_build_lut8);
    return fq_lut8;
}

const float *ferry_q_dynamic_map(void) { return (const float *)fq_dynamic_map_bits; }
const uint8_t *ferry_q_lut8(void) { return fq_lut8_padded(); }
const float *ferry_q4_code(int kind) { return (const float *)fq_q4_code_bits[kind == FERRY_Q4_NF4 ? 1 : 0]; }

/* ---- dispatch ---- */
static int fq_cpu_level = -1;  /* detected once; benign race (same value) */
static int fq_max_level = -1;  /* cap set by tests and benchmarks */

int ferry_q_cpu_level(void) {
    int level = __atomic_load_n(&fq_cpu_level, __ATOMIC_RELAXED);
    if (level >= 0) return level;
    level = FERRY_Q_LEVEL_PORTABLE;
#if FQ_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        level = FERRY_Q_LEVEL_AVX2;
        if (__builtin_cpu_supports("avx512f")) level = FERRY_Q_LEVEL_AVX512;
    }
#endif
    __atomic_store_n(&fq_cpu_level, level, __ATOMIC_RELAXED);
    return level;
}

int ferry_q_active_level(void) {
    int level = ferry_q_cpu_level();
    int cap = __atomic_load_n(&fq_max_level, __ATOMIC_RELAXED);
    return (cap >= 0 && cap < level) ? cap : level;
}

void ferry_q_set_max_level(int level) { __atomic_store_n(&fq_max_level, level, __ATOMIC_RELAXED); }

const char *ferry_q_level_name(int level) {
    switch (level) {
    case FERRY_Q_LEVEL_AVX512: return "avx512";
    case FERRY_Q_LEVEL_AVX2: return "avx2";
    case FERRY_Q_LEVEL_PORTABLE: return "portable";
    default: return "scalar";
    }
}

static const fq_impl *fq_impl_now(void) {
    switch (ferry_q_active_level()) {
#if FQ_X86
    case FERRY_Q_LEVEL_AVX512: return &fq_impl_avx512;
    case FERRY_Q_LEVEL_AVX2: return &fq_impl_avx2;
#endif
    case FERRY_Q_LEVEL_PORTABLE: return &fq_impl_portable;
    default: return &fq_impl_scalar;
    }
}

void ferry_q_cast_fp16(const void *src, int src_type, uint16_t *dst, size_t n) {
    fq_impl_now()->cast_fp16(src, src_type, dst, n);
}
void ferry_q_cast_bf16(const void *src, int src_type, uint16_t *dst, size_t n) {
    fq_impl_now()->cast_bf16(src, src_type, dst, n);
}
void ferry_q_from_fp16(const uint16_t *src, int dst_type, void *dst, size_t n) {
    fq_impl_now()->from_fp16(src, dst_type, dst, n);
}
void ferry_q_from_bf16(const uint16_t *src, int dst_type, void *dst, size_t n) {
    fq_impl_now()->from_bf16(src, dst_type, dst, n);
}
void ferry_q8_absmax(const void *src, int src_type, size_t n, float *absmax) {
    fq_impl_now()->q8_absmax(src, src_type, n, absmax);
}
void ferry_q8_quantize(const void *src, int src_type, size_t n, uint8_t *codes, float *absmax) {
    fq_impl_now()->q8_quantize(src, src_type, n, codes, absmax);
}
void ferry_q8_dequantize(const uint8_t *codes, const float *absmax, size_t n, int dst_type, void *dst) {
    fq_impl_now()->q8_dequantize(codes, absmax, n, dst_type, dst);
}
void ferry_q4_absmax(const void *src, int src_type, size_t n, float *absmax) {
    fq_impl_now()->q4_absmax(src, src_type, n, absmax);
}
void ferry_q4_quantize(int kind, const void *src, int src_type, size_t n, uint8_t *packed, float *absmax) {
    fq_impl_now()->q4_quantize(kind == FERRY_Q4_NF4 ? 1 : 0, src, src_type, n, packed, absmax);
}
void ferry_q4_dequantize(int kind, const uint8_t *packed, const float *absmax, size_t n, int dst_type, void *dst) {
    fq_impl_now()->q4_dequantize(kind == FERRY_Q4_NF4 ? 1 : 0, packed, absmax, n, dst_type, dst);
}

static inline double fq_load_d(const void *p, int type, size_t i) { return (double)fq_load(p, type, i); }

void ferry_q_abs_error(const void *a, const void *b, int type, size_t n,
                       double *sum, double *max, uint64_t *skipped) {
    double s = 0, m = *max;
    uint64_t skip = 0;
    for (size_t i = 0; i < n; i++) {
        double x = fq_load_d(a, type, i), y = fq_load_d(b, type, i);
        if (!isfinite(x) || !isfinite(y)) { skip++; continue; }
        double d = fabs(x - y);
        s += d;
        if (d > m) m = d;
    }
    *sum += s;
    *max = m;
    *skipped += skip;
}
