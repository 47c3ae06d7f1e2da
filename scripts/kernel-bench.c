/* Throughput of each quantization kernel at every level this CPU has, in thread CPU time (so the
 * figures hold on a loaded machine, where `ferry bench quant`'s wall-clock rates do not): one thread,
 * 16 Mi f32 values uniform in [-0.02, 0.02), best of 5, GB/s of f32 bytes. Build and run:
 *   clang -O3 -ISources/CFerryQuantKernels/include Sources/CFerryQuantKernels/[a-z]*.c \
 *     scripts/kernel-bench.c -o /tmp/kernel-bench -lpthread -lm && /tmp/kernel-bench
 * Figures: docs/benchmarks.md ("Portable kernels"). */
#include "ferry_quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define N (16u << 20)
int main(void) {
    float *x = malloc(N * 4), *y = malloc(N * 4); uint8_t *c = malloc(N); float *am = malloc(N / 64 * 4 + 64); uint16_t *h = malloc(N * 2);
    uint64_t s = 1; for (size_t i = 0; i < N; i++) { s = s * 6364136223846793005ull + 1442695040888963407ull; x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.04f; }
    const char *ops[] = {"memcpy", "fp16 quantize", "fp16 dequantize", "bf16 quantize", "bf16 dequantize", "blockwise8 quantize", "blockwise8 dequantize", "nf4 quantize", "nf4 dequantize", "fp4 quantize", "fp4 dequantize"};
    int top = ferry_q_cpu_level();
    printf("%-22s", "GB/s (thread CPU time)"); for (int l = 0; l <= top; l++) printf("%10s", ferry_q_level_name(l)); printf("\n");
    for (int op = 0; op < 11; op++) {
        printf("%-22s", ops[op]);
        for (int l = 0; l <= top; l++) {
            ferry_q_set_max_level(l);
            double best = 1e9;
            for (int r = 0; r < 5; r++) {
                if (op == 2) ferry_q_cast_fp16(x, 0, h, N);
                if (op == 4) ferry_q_cast_bf16(x, 0, h, N);
                if (op == 6) ferry_q8_quantize(x, 0, N, c, am);
                if (op == 8) ferry_q4_quantize(1, x, 0, N, c, am);
                if (op == 10) ferry_q4_quantize(0, x, 0, N, c, am);
                double t0 = cpu();
                switch (op) {
                case 0: memcpy(y, x, N * 4); break;
                case 1: ferry_q_cast_fp16(x, 0, h, N); break;
                case 2: ferry_q_from_fp16(h, 0, y, N); break;
                case 3: ferry_q_cast_bf16(x, 0, h, N); break;
                case 4: ferry_q_from_bf16(h, 0, y, N); break;
                case 5: ferry_q8_quantize(x, 0, N, c, am); break;
                case 6: ferry_q8_dequantize(c, am, N, 0, y); break;
                case 7: ferry_q4_quantize(1, x, 0, N, c, am); break;
                case 8: ferry_q4_dequantize(1, c, am, N, 0, y); break;
                case 9: ferry_q4_quantize(0, x, 0, N, c, am); break;
                case 10: ferry_q4_dequantize(0, c, am, N, 0, y); break;
                }
                double t = cpu() - t0; if (t < best) best = t;
            }
            printf("%10.2f", N * 4.0 / best / 1e9);
        }
        printf("\n");
    }
    return 0;
}
