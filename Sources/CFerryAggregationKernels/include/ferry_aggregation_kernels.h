#ifndef FERRY_AGGREGATION_KERNELS_H
#define FERRY_AGGREGATION_KERNELS_H

/*
 * Hot loops of FerryAggregation, in C so that they are compiled with -O3 in every build
 * configuration, with an AVX2 variant chosen at run time on x86-64 (`__builtin_cpu_supports`).
 * Built with -ffp-contract=off: no fused multiply-add, so every variant gives the same bits as
 * the plain IEEE arithmetic of the Swift reference.
 */

#include <stddef.h>

/// The order statistic of each element across `clients` rows: the median, or the trimmed mean.
typedef enum {
    /// The middle value (odd count) or the mean of the two middle values (even count).
    FERRY_AGG_MEDIAN = 0,
    /// The mean of the values left after dropping `trim` at each end.
    FERRY_AGG_TRIMMED_MEAN = 1,
} ferry_agg_order_rule;

/*
 * For each k in [0, count): out[k] = rule over { values[i * stride + k] : i in [0, clients) }.
 *
 * Bit-identical to the scalar reference: copy the column, stable insertion sort with `>`, then
 * `col[n/2]` or `(col[n/2-1] + col[n/2]) / 2` (median), or `s = 0; s += col[i]` for i in
 * [trim, n - trim) and `s / (n - 2·trim)` (trimmed mean). Up to 64 clients run a sorting network
 * across 8 elements at a time; a lane whose result could depend on the order of equal values
 * (a NaN among its inputs, or a ±0 median) and the elements past the last full group of 8 run the
 * reference itself, as do more than 64 clients.
 * `column` is scratch of `clients` doubles.
 */
void ferry_agg_order_statistic(const double *values, size_t stride, size_t clients, size_t count,
                               ferry_agg_order_rule rule, size_t trim, double *out, double *column);

/// The server optimizers of FedOpt (ServerOptimizer.Name's order).
typedef enum {
    FERRY_AGG_SGD = 0,
    FERRY_AGG_ADAM = 1,
    FERRY_AGG_YOGI = 2,
    FERRY_AGG_ADAGRAD = 3,
} ferry_agg_optimizer;

/*
 * One FedOpt step for `count` elements: with d = a[k] − g[k] and m, v = moments[2k], moments[2k+1]
 * (F32, updated in place and rounded to F32 before use), out[k] = g[k] + lr·m (sgd) or
 * g[k] + lr·m / (√v + eps) (adam, yogi, adagrad). See ServerOptimizer for the update rules.
 * The four arrays must not overlap.
 */
void ferry_agg_optimizer_step(ferry_agg_optimizer optimizer, double lr, double momentum, double beta1, double beta2,
                              double eps, const double *g, const double *a, float *moments, double *out, size_t count);

#endif
