"""What one gradient check costs on the reference side, and how honest its error estimate is.

    python3 benchmarks/gradient_reference_benchmark.py [--repeats 5]

For conv layers (Conv2D (2, 9, 8, 4) -> 6 filters 3x3 'same'; Conv2D (2, 20, 20, 16) -> 32
filters 3x3 'valid'; Conv1D (3, 17, 5) -> 7 filters, kernel 5, 'same') with activations linear,
tanh, sigmoid, gelu and elu, random non-integer inputs, weights, direction u and cotangent v:

1. per first step h0 = 2**-k L (k = 8, 10, 12; reference_impl.gradients uses 12) and per
   accuracy asked (rtol = fd_accuracy("float32") = 7.6e-9 and 1e-11, the float64 default): the
   mean and largest number of reference evaluations of one directional derivative (the point's
   own value given, as the check has it), how many did not converge, and how many error
   estimates fell below the actual error, the latter from the analytic VJP
   (reference_impl.gradients.conv_layer_vjp);
2. time (the shortest of --repeats runs): one forward reference evaluation and one directional
   derivative on each layer, with the module's defaults.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from reference_impl import conv as C
from reference_impl import gradients as G

LAYERS = {
    "conv2d_small": ((2, 9, 8, 4), (3, 3, 4, 6), "same"),
    "conv2d_wide": ((2, 20, 20, 16), (3, 3, 16, 32), "valid"),
    "conv1d": ((3, 17, 5), (5, 5, 7), "same"),
}
ACTIVATIONS = (None, "tanh", "sigmoid", "gelu", "elu")


def problem(layer, activation, seed):
    xs, ks, padding = LAYERS[layer]
    rng = np.random.default_rng(seed)
    rank = len(xs) - 2
    point = {"inputs": rng.normal(0.25, 1.0, xs), "kernel": rng.normal(0, 0.3, ks), "bias": rng.normal(0, 0.3, ks[-1])}

    def f(p):
        return C.conv(p["inputs"], p["kernel"], p["bias"], rank=rank, filters=ks[-1], kernel_size=ks[:rank],
                      padding=padding, activation=activation)

    y = f(point)
    v = rng.normal(size=y.shape)
    direction = {n: rng.normal(size=a.shape) for n, a in point.items()}
    vjp = G.conv_layer_vjp(point["inputs"], point["kernel"], point["bias"], v, padding=padding, activation=activation)
    exact, _, _ = G.gradient_dot(vjp, direction)
    return f, point, direction, v, y, exact


def cost_table():
    print("first step   rtol      evaluations mean/max   not converged   estimate < actual error")
    default = G.STEP_FRACTION
    try:
        for k in (8, 10, 12):
            G.STEP_FRACTION = 2.0**-k
            for rtol in (G.fd_accuracy("float32"), G.DEFAULT_RTOL):
                counts, unconverged, dishonest = [], 0, 0
                for seed, layer in enumerate(LAYERS):
                    for activation in ACTIVATIONS:
                        f, point, direction, v, y, exact = problem(layer, activation, seed)
                        d = G.directional_derivative(f, point, direction, v, value_at_point=y, rtol=rtol)
                        counts.append(d.evaluations)
                        unconverged += not d.converged
                        dishonest += abs(d.value - exact) > d.error
                print(f"2**-{k:<9d} {rtol:<9.2g} {np.mean(counts):5.2f} / {max(counts):<14d} {unconverged:<15d} {dishonest}")
    finally:
        G.STEP_FRACTION = default


def best_time(call, repeats):
    """The shortest of `repeats` wall times of call(): the machine is shared, the minimum is the cost."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def timings(repeats):
    print("\nlayer          activation  forward ms   derivative ms (evaluations)")
    for seed, layer in enumerate(LAYERS):
        for activation in (None, "tanh"):
            f, point, direction, v, y, _ = problem(layer, activation, seed)
            forward = best_time(lambda: f(point), repeats)
            derivative = best_time(lambda: G.directional_derivative(f, point, direction, v, value_at_point=y), repeats)
            d = G.directional_derivative(f, point, direction, v, value_at_point=y)
            print(f"{layer:<14} {str(activation):<11} {forward * 1e3:8.2f}   {derivative * 1e3:10.2f} ({d.evaluations})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cost_table()
    timings(args.repeats)


if __name__ == "__main__":
    main()
