/* Runs every quantization kernel (CFerryQuantKernels) on edge inputs at each kernel level this CPU has
 * and prints one FNV-1a hash per output: "OUTPUT LEVEL HASH...". Built and compared for x86-64 and for
 * aarch64 (under qemu) by scripts/kernels-aarch64.sh. Inputs: normal values, every 16-bit pattern, the
 * f32 bits around half an f16 step, random bit patterns, subnormals, an odd tail. */
#include "ferry_quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t st = 19;
static uint64_t next(void) {
    uint64_t z = (st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint64_t fnv(const void *p, size_t n) {
    const uint8_t *b = p; uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}
static float gauss(void) { /* sum of uniforms, enough for a spread */
    double s = 0; for (int k = 0; k < 12; k++) s += (double)(next() >> 11) / 9007199254740992.0;
    return (float)((s - 6.0) * 0.02);
}
#define N (9000 + 65536 + 3 * 63488 + 20000 + 4200 + 37)
#define M (9000 + 65536 + 20000 + 37)
static float f32in[N]; static uint16_t h16in[M];
static uint8_t codes[N]; static float absmax[N / 64 + 2]; static uint8_t out[N * 4];

int main(void) {
    size_t n = 0;
    for (int i = 0; i < 9000; i++) f32in[n++] = gauss();
    for (uint32_t h = 0; h < 65536; h++) { uint32_t w = h << 16; memcpy(&f32in[n++], &w, 4); }
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7C00) == 0x7C00) continue;
        float f; uint16_t hh = (uint16_t)h; ferry_q_set_max_level(0); ferry_q_from_fp16(&hh, FERRY_Q_F32, &f, 1);
        uint32_t w; memcpy(&w, &f, 4);
        uint32_t a = w + 0x0FFF, b = w + 0x1000, c = w + 0x1001;
        memcpy(&f32in[n++], &a, 4); memcpy(&f32in[n++], &b, 4); memcpy(&f32in[n++], &c, 4);
    }
    for (int i = 0; i < 20000; i++) { uint32_t w = (uint32_t)next(); memcpy(&f32in[n++], &w, 4); }
    for (int i = 0; i < 4200; i++) f32in[n++] = gauss() * 1e-36f;
    for (int i = 0; i < 37; i++) f32in[n++] = gauss();
    size_t m = 0;
    for (int i = 0; i < 9000; i++) h16in[m++] = (uint16_t)next();
    for (uint32_t h = 0; h < 65536; h++) h16in[m++] = (uint16_t)h;
    for (int i = 0; i < 20000; i++) h16in[m++] = (uint16_t)next();
    for (int i = 0; i < 37; i++) h16in[m++] = (uint16_t)(next() & 0x3fff);
    ferry_q_set_max_level(-1);
    int top = ferry_q_cpu_level();
    for (int level = 0; level <= top; level++) {
        ferry_q_set_max_level(level);
        const char *name = ferry_q_level_name(level);
#define P(label, ptr, bytes) printf("%-28s %-9s %016llx\n", label, name, (unsigned long long)fnv(ptr, bytes))
        for (int t = 0; t < 3; t++) {
            const void *src = t == 0 ? (const void *)f32in : (const void *)h16in;
            size_t cnt = t == 0 ? n : m;
            char label[64];
            ferry_q_cast_fp16(src, t, (uint16_t *)out, cnt); snprintf(label, 64, "cast_fp16 src%d", t); P(label, out, cnt * 2);
            ferry_q_cast_bf16(src, t, (uint16_t *)out, cnt); snprintf(label, 64, "cast_bf16 src%d", t); P(label, out, cnt * 2);
            ferry_q8_quantize(src, t, cnt, codes, absmax); snprintf(label, 64, "q8 src%d", t);
            P(label, codes, cnt); strcat(label, " absmax"); P(label, absmax, (cnt + 4095) / 4096 * 4);
            for (int d = 0; d < 3; d++) {
                ferry_q8_dequantize(codes, absmax, cnt, d, out); snprintf(label, 64, "q8 deq src%d to%d", t, d);
                P(label, out, cnt * (d ? 2 : 4));
            }
            for (int kind = 0; kind < 2; kind++) {
                ferry_q4_quantize(kind, src, t, cnt, codes, absmax); snprintf(label, 64, "q4 k%d src%d", kind, t);
                P(label, codes, (cnt + 1) / 2); strcat(label, " absmax"); P(label, absmax, (cnt + 63) / 64 * 4);
                {
                    size_t nb = (cnt + 63) / 64, ng = (nb + 255) / 256;
                    static uint8_t dqc[N / 64 + 2]; static float dqs[N / 64 / 256 + 2], restored[N / 64 + 2];
                    float off = ferry_q4dq_offset(absmax, nb);
                    ferry_q4dq_quantize_absmax(absmax, nb, off, dqc, dqs);
                    ferry_q4dq_dequantize_absmax(dqc, dqs, off, nb, restored);
                    char l2[80]; snprintf(l2, 80, "%s dq", label);
                    printf("%-28s %-9s %016llx %016llx %016llx\n", l2, name, (unsigned long long)fnv(dqc, nb),
                           (unsigned long long)fnv(dqs, ng * 4), (unsigned long long)fnv(restored, nb * 4));
                }
                for (int d = 0; d < 3; d++) {
                    ferry_q4_dequantize(kind, codes, absmax, cnt, d, out); snprintf(label, 64, "q4 k%d deq src%d to%d", kind, t, d);
                    P(label, out, cnt * (d ? 2 : 4));
                }
            }
        }
        for (int d = 0; d < 3; d++) {
            char label[64];
            ferry_q_from_fp16(h16in, d, out, m); snprintf(label, 64, "from_fp16 to%d", d); P(label, out, m * (d ? 2 : 4));
            ferry_q_from_bf16(h16in, d, out, m); snprintf(label, 64, "from_bf16 to%d", d); P(label, out, m * (d ? 2 : 4));
        }
    }
    return 0;
}
