#include "ferry_aggregation_kernels.h"
#include <stdint.h>
#include <string.h>

#define LANES 8
#define MAX_NETWORK 64
#define MAX_PAIRS 1024 /* Batcher's network for 64 inputs has 543 comparators */

typedef struct { uint8_t lo, hi; } pair;

/* Batcher's odd-even merge sort for the next power of two >= n, less the comparators that touch an
 * index >= n (those would only meet the +inf padding, so the rest still sorts n inputs). */
static size_t batcher_network(size_t n, pair *pairs) {
    size_t size = 1, count = 0;
    while (size < n) size <<= 1;
    for (size_t p = 1; p < size; p <<= 1) {
        for (size_t k = p; k >= 1; k >>= 1) {
            for (size_t j = k % p; j + k < size; j += 2 * k) {
                for (size_t i = 0; i < k && i + j + k < size; i++) {
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n) {
                        pairs[count].lo = (uint8_t)(i + j);
                        pairs[count].hi = (uint8_t)(i + j + k);
                        count++;
                    }
                }
            }
        }
    }
    return count;
}

/* The scalar reference (the Swift aggregator's original per-element loop). */
static double reference(const double *values, size_t stride, size_t n, size_t k, ferry_agg_order_rule rule,
                        size_t trim, double *col) {
    for (size_t i = 0; i < n; i++) col[i] = values[i * stride + k];
    for (size_t i = 1; i < n; i++) {
        double x = col[i];
        size_t j = i;
        while (j > 0 && col[j - 1] > x) {
            col[j] = col[j - 1];
            j--;
        }
        col[j] = x;
    }
    if (rule == FERRY_AGG_MEDIAN) return n % 2 == 1 ? col[n / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
    double s = 0;
    for (size_t i = trim; i < n - trim; i++) s += col[i];
    return s / (double)(n - 2 * trim);
}

/* Eight elements at a time in GCC/clang vector types (two AVX2 or four SSE2/NEON registers each). */
typedef double lanes_d __attribute__((vector_size(LANES * sizeof(double))));
typedef int64_t lanes_i __attribute__((vector_size(LANES * sizeof(double))));

static inline __attribute__((always_inline)) void order_statistic(const double *values, size_t stride, size_t n,
                                                                  size_t count, ferry_agg_order_rule rule, size_t trim,
                                                                  double *out, double *column) {
    size_t k0 = 0;
    if (n <= MAX_NETWORK) {
        pair pairs[MAX_PAIRS];
        const size_t npairs = batcher_network(n, pairs);
        lanes_d v[MAX_NETWORK];
        const lanes_d zero = {0}, two = zero + 2, kept = zero + (double)(n - 2 * trim);
        for (; k0 + LANES <= count; k0 += LANES) {
            lanes_i nan = {0};
            for (size_t i = 0; i < n; i++) {
                memcpy(&v[i], values + i * stride + k0, sizeof(lanes_d));
                nan |= v[i] != v[i];
            }
            for (size_t p = 0; p < npairs; p++) {
                const lanes_d x = v[pairs[p].lo], y = v[pairs[p].hi];
                const lanes_i swap = y < x;
                v[pairs[p].lo] = (lanes_d)(((lanes_i)y & swap) | ((lanes_i)x & ~swap));
                v[pairs[p].hi] = (lanes_d)(((lanes_i)x & swap) | ((lanes_i)y & ~swap));
            }
            lanes_d r;
            if (rule == FERRY_AGG_MEDIAN) {
                r = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / two;
            } else {
                r = zero;
                for (size_t i = trim; i < n - trim; i++) r += v[i];
                r /= kept;
            }
            // The network does not keep equal values in input order: where that could show (the sign
            // of a zero median, NaNs), the lane takes the reference's result.
            const lanes_i redo = rule == FERRY_AGG_MEDIAN ? (nan | (r == zero)) : nan;
            for (size_t l = 0; l < LANES; l++) {
                out[k0 + l] = redo[l] ? reference(values, stride, n, k0 + l, rule, trim, column) : r[l];
            }
        }
    }
    for (; k0 < count; k0++) out[k0] = reference(values, stride, n, k0, rule, trim, column);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void order_statistic_avx2(const double *values, size_t stride, size_t n,
                                                                  size_t count, ferry_agg_order_rule rule, size_t trim,
                                                                  double *out, double *column) {
    order_statistic(values, stride, n, count, rule, trim, out, column);
}
#endif

static void order_statistic_default(const double *values, size_t stride, size_t n, size_t count,
                                    ferry_agg_order_rule rule, size_t trim, double *out, double *column) {
    order_statistic(values, stride, n, count, rule, trim, out, column);
}

void ferry_agg_order_statistic(const double *values, size_t stride, size_t clients, size_t count,
                               ferry_agg_order_rule rule, size_t trim, double *out, double *column) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        order_statistic_avx2(values, stride, clients, count, rule, trim, out, column);
        return;
    }
#endif
    order_statistic_default(values, stride, clients, count, rule, trim, out, column);
}
