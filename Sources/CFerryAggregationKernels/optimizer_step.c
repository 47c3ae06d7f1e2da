#include "ferry_aggregation_kernels.h"
#include <math.h>

/* Each loop is the per-element rule of ServerOptimizer, operation for operation (no contraction). */
static inline __attribute__((always_inline)) void optimizer_step(ferry_agg_optimizer optimizer, double lr,
                                                                 double momentum, double beta1, double beta2,
                                                                 double eps, const double *restrict g,
                                                                 const double *restrict a, float *restrict mv,
                                                                 double *restrict out, size_t n) {
    switch (optimizer) {
    case FERRY_AGG_SGD:
        for (size_t k = 0; k < n; k++) {
            const double d = a[k] - g[k];
            const double m = (double)(float)(momentum * (double)mv[2 * k] + d);
            mv[2 * k] = (float)m;
            out[k] = g[k] + lr * m;
        }
        break;
    case FERRY_AGG_ADAGRAD:
        for (size_t k = 0; k < n; k++) {
            const double d = a[k] - g[k];
            const double m = (double)(float)(beta1 * (double)mv[2 * k] + (1 - beta1) * d);
            const double v = (double)(float)((double)mv[2 * k + 1] + d * d);
            mv[2 * k] = (float)m;
            mv[2 * k + 1] = (float)v;
            out[k] = g[k] + lr * m / (sqrt(v) + eps);
        }
        break;
    case FERRY_AGG_ADAM:
        for (size_t k = 0; k < n; k++) {
            const double d = a[k] - g[k];
            const double m = (double)(float)(beta1 * (double)mv[2 * k] + (1 - beta1) * d);
            const double v = (double)(float)(beta2 * (double)mv[2 * k + 1] + (1 - beta2) * d * d);
            mv[2 * k] = (float)m;
            mv[2 * k + 1] = (float)v;
            out[k] = g[k] + lr * m / (sqrt(v) + eps);
        }
        break;
    case FERRY_AGG_YOGI:
        for (size_t k = 0; k < n; k++) {
            const double d = a[k] - g[k];
            const double m = (double)(float)(beta1 * (double)mv[2 * k] + (1 - beta1) * d);
            const double v0 = (double)mv[2 * k + 1];
            const double sign = v0 > d * d ? 1 : (v0 < d * d ? -1 : 0);
            const double v = (double)(float)(v0 - (1 - beta2) * d * d * sign);
            mv[2 * k] = (float)m;
            mv[2 * k + 1] = (float)v;
            out[k] = g[k] + lr * m / (sqrt(v) + eps);
        }
        break;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void optimizer_step_avx2(ferry_agg_optimizer optimizer, double lr,
                                                                double momentum, double beta1, double beta2, double eps,
                                                                const double *g, const double *a, float *mv,
                                                                double *out, size_t n) {
    optimizer_step(optimizer, lr, momentum, beta1, beta2, eps, g, a, mv, out, n);
}
#endif

static void optimizer_step_default(ferry_agg_optimizer optimizer, double lr, double momentum, double beta1,
                                   double beta2, double eps, const double *g, const double *a, float *mv,
                                   double *out, size_t n) {
    optimizer_step(optimizer, lr, momentum, beta1, beta2, eps, g, a, mv, out, n);
}

void ferry_agg_optimizer_step(ferry_agg_optimizer optimizer, double lr, double momentum, double beta1, double beta2,
                              double eps, const double *g, const double *a, float *moments, double *out, size_t count) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        optimizer_step_avx2(optimizer, lr, momentum, beta1, beta2, eps, g, a, moments, out, count);
        return;
    }
#endif
    optimizer_step_default(optimizer, lr, momentum, beta1, beta2, eps, g, a, moments, out, count);
}
