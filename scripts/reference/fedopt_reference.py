# FedOpt references for Tests/FerryAggregationTests/RobustAggregationTests.swift: float64 arithmetic,
# m and v rounded to float32 every step, as ferry keeps them.
import numpy as np
f32 = np.float32
def step(name, g, a, m, v, lr, mom=0.0, b1=0.9, b2=0.99, eps=1e-3):
    g = g.astype(np.float64); a = a.astype(np.float64)
    d = a - g
    if name == "sgd":
        m = (mom * m + d).astype(f32).astype(np.float64)
        return (g + lr * m).astype(f32), m, v
    m = (b1 * m + (1 - b1) * d).astype(f32).astype(np.float64)
    if name == "adagrad": v = (v + d * d)
    elif name == "adam": v = (b2 * v + (1 - b2) * d * d)
    else: v = (v - (1 - b2) * d * d * np.sign(v - d * d))
    v = v.astype(f32).astype(np.float64)
    return (g + lr * m / (np.sqrt(v) + eps)).astype(f32), m, v
g0 = np.array([0.5, -1, 2, 0], dtype=f32)
a1 = np.array([1, -1, 1, 0.25], dtype=f32)
a2 = np.array([1.5, 0, 0.5, 0.25], dtype=f32)
for name, kw in [("sgd", dict(lr=1.0, mom=0.5)), ("adam", dict(lr=0.1)), ("yogi", dict(lr=0.1)), ("adagrad", dict(lr=0.1, b1=0.0))]:
    m = np.zeros(4); v = np.zeros(4)
    x1, m, v = step(name, g0, a1, m, v, **kw)
    x2, m, v = step(name, x1, a2, m, v, **kw)
    print(name, [float(t) for t in x1], [float(t) for t in x2])
