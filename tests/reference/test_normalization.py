"""reference_impl.normalization: hand values, exact-arithmetic precision checks, identities, weight shapes, errors.

Independent formulations here use Python's fractions/decimal/statistics modules or explicit
loops, never the module's own helpers.
"""
import math
import statistics
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest

from reference_impl import normalization as N

RTOL = 1e-13


def close(got, want, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def exact_standardize(values, epsilon):
    """(x - mean) / sqrt(var + epsilon), mean and biased var in exact rationals, sqrt at 60 digits."""
    fr = [Fraction(float(v)) for v in values]
    mean = sum(fr) / len(fr)
    var = sum((f - mean) ** 2 for f in fr) / len(fr)
    with localcontext() as ctx:
        ctx.prec = 60

        def dec(q):
            return Decimal(q.numerator) / Decimal(q.denominator)

        root = (dec(var) + Decimal(epsilon)).sqrt()  # Decimal(float) is the float's exact value
        return [float(dec(f - mean) / root) for f in fr], float(mean), float(var)


# --- BatchNormalization -------------------------------------------------------------------


def test_batch_norm_inference_hand():
    # moving_variance + 1e-3 = [4, 1] -> divide by [2, 1]
    # y = gamma * (x - moving_mean) / [2, 1] + beta, gamma = [10, -1], beta = [0.5, 3]
    # x row [5, 2]: [10 * 4/2 + 0.5, -1 * 1/1 + 3] = [20.5, 2]; row [1, 1]: [0.5, 3]
    x = np.array([[5.0, 2.0], [1.0, 1.0]])
    mm, mv = np.array([1.0, 1.0]), np.array([3.999, 0.999])
    y, new_mm, new_mv = N.batch_norm(x, [10.0, -1.0], [0.5, 3.0], mm, mv)
    close(y, [[20.5, 2.0], [0.5, 3.0]])
    close(new_mm, mm)  # inference leaves the moving statistics unchanged
    close(new_mv, mv)


def test_batch_norm_training_hand_biased_variance():
    # column [1, 3, 5, 7]: mean 4, biased var (9 + 1 + 1 + 9) / 4 = 5 (unbiased would be 20/3)
    # epsilon 4 -> sqrt(9) = 3: y = (x - 4) / 3 = [-1, -1/3, 1/3, 1]
    x = np.array([[1.0], [3.0], [5.0], [7.0]])
    y, mm, mv = N.batch_norm(x, [1.0], [0.0], [0.0], [1.0], training=True, momentum=0.5, epsilon=4.0)
    close(y.ravel(), [-1, -1 / 3, 1 / 3, 1])
    # moving = 0.5 * old + 0.5 * batch: mean 0.5*0 + 0.5*4 = 2; var 0.5*1 + 0.5*5 = 3 (not 0.5 + 10/3)
    close(mm, [2.0])
    close(mv, [3.0])


def test_batch_norm_chained_training_calls_momentum_recursion():
    # momentum 0.5, start moving_mean 0, moving_variance 1:
    # batch [0, 2]:  mean 1, var 1 -> mm 0.5*0 + 0.5*1 = 0.5,   mv 0.5*1 + 0.5*1 = 1
    # batch [4, 4]:  mean 4, var 0 -> mm 0.5*0.5 + 0.5*4 = 2.25, mv 0.5*1 + 0.5*0 = 0.5
    # batch [-1, 3]: mean 1, var 4 -> mm 0.5*2.25 + 0.5*1 = 1.625, mv 0.5*0.5 + 0.5*4 = 2.25
    mm, mv = np.array([0.0]), np.array([1.0])
    trace = []
    for batch in ([0.0, 2.0], [4.0, 4.0], [-1.0, 3.0]):
        _, mm, mv = N.batch_norm(np.array(batch)[:, None], [1.0], [0.0], mm, mv, training=True, momentum=0.5)
        trace.append((mm[0], mv[0]))
    close(trace, [(0.5, 1.0), (2.25, 0.5), (1.625, 2.25)])
    # default momentum 0.99: mm = 0.99 * 1.625 + 0.01 * 1 = 1.61875
    _, mm, _ = N.batch_norm(np.array([[0.0], [2.0]]), [1.0], [0.0], mm, mv, training=True)
    close(mm, [1.61875])


def test_batch_norm_zero_variance_channel_gives_beta():
    # channel 1 is constant: x - mean = 0, var = 0 -> 0 / sqrt(0 + 1e-3) = 0 -> output beta, no NaN
    x = np.array([[1.0, 7.0], [2.0, 7.0], [4.0, 7.0]])
    y, _, mv = N.batch_norm(x, [2.0, 3.0], [0.0, -1.5], [0.0, 0.0], [1.0, 1.0], training=True, momentum=0.0)
    assert np.isfinite(y).all()
    close(y[:, 1], [-1.5, -1.5, -1.5])
    close(mv, [np.var([1.0, 2.0, 4.0]), 0.0])


def test_batch_norm_batch_size_one():
    # one sample: batch mean = x, batch var = 0 -> output beta; moving var decays toward 0
    x = np.array([[3.0, -2.0]])
    y, mm, mv = N.batch_norm(x, [5.0, 5.0], [0.25, -0.25], [1.0, 1.0], [2.0, 2.0], training=True, momentum=0.9)
    close(y, [[0.25, -0.25]])
    close(mm, [0.9 * 1 + 0.1 * 3, 0.9 * 1 + 0.1 * -2])
    close(mv, [1.8, 1.8])


@pytest.mark.parametrize("epsilon", [1e-3, 1e-12])
def test_batch_norm_large_mean_small_spread_exact(epsilon):
    # mean 1e4, spread 1e-2: a one-pass E[x^2] - E[x]^2 variance loses ~4 digits here, and a plain
    # two-pass (x - mean(x)) loses ~7 through the rounding of the mean; compare with exact rationals.
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = 1e4 + 1e-2 * rng.normal(size=(7, 1))
        y, mm, mv = N.batch_norm(x, None, None, [0.0], [0.0], center=False, scale=False, training=True,
                                 momentum=0.0, epsilon=epsilon)
        want, mean, var = exact_standardize(x[:, 0], epsilon)
        close(y[:, 0], want)
        close(mm, [mean], rtol=1e-15)
        close(mv, [var])


def test_batch_norm_axis_1_channels_first_against_loop():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 4, 5, 2)) * 3 + 2
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    y, mm, mv = N.batch_norm(x, gamma, beta, np.zeros(4), np.ones(4), axis=1, training=True, momentum=0.25)
    for c in range(4):
        values = x[:, c].ravel().tolist()
        mean, var = statistics.fmean(values), statistics.pvariance(values)
        close(y[:, c], gamma[c] * (x[:, c] - mean) / math.sqrt(var + 1e-3) + beta[c], rtol=1e-12)
        close(mm[c], 0.75 * mean, rtol=1e-12)
        close(mv[c], 0.25 + 0.75 * var, rtol=1e-12)


def test_batch_norm_center_scale_flags_and_weight_errors():
    x = np.array([[1.0], [3.0]])
    y, _, _ = N.batch_norm(x, None, None, [0.0], [1.0], center=False, scale=False, training=True, epsilon=0.0)
    close(y.ravel(), [-1, 1])
    with pytest.raises(ValueError, match="gamma"):
        N.batch_norm(x, [1.0], None, [0.0], [1.0], scale=False, center=False)
    with pytest.raises(ValueError, match="beta"):
        N.batch_norm(x, [1.0], None, [0.0], [1.0])
    with pytest.raises(ValueError, match="moving_variance"):
        N.batch_norm(x, [1.0], [0.0], [0.0])
    with pytest.raises(ValueError, match=r"gamma.*\(1,\)"):
        N.batch_norm(x, [1.0, 2.0], [0.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="training"):
        N.batch_norm(x, [1.0], [0.0], [0.0], [1.0], training=1)
    with pytest.raises(ValueError, match="axis"):
        N.batch_norm(x, [1.0], [0.0], [0.0], [1.0], axis=[0, 1])
    with pytest.raises(ValueError, match="epsilon"):
        N.batch_norm(x, [1.0], [0.0], [0.0], [1.0], epsilon=-1.0)


# --- LayerNormalization -------------------------------------------------------------------


def test_layer_norm_hand():
    # [0, 10]: mean 5, var 25; epsilon 0 -> [-1, 1]; default epsilon -> +-5 / sqrt(25.001)
    x = np.array([[0.0, 10.0], [20.0, 30.0]])
    close(N.layer_norm(x, [1.0, 1.0], [0.0, 0.0], epsilon=0.0), [[-1, 1], [-1, 1]])
    s = 5 / math.sqrt(25.001)
    close(N.layer_norm(x, [2.0, 1.0], [0.0, 1.0]), [[-2 * s, 1 + s], [-2 * s, 1 + s]])


def test_layer_norm_several_axes_against_statistics():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 3, 5, 4)) + 4
    gamma, beta = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for axis in ([1, 3], (3, 1), (-1, 1)):  # any order or sign: the weights span axes 1 and 3 in order
        y = N.layer_norm(x, gamma, beta, axis=axis)
        for b in range(2):
            for k in range(5):
                values = x[b, :, k, :].ravel().tolist()
                mean, var = statistics.fmean(values), statistics.pvariance(values)
                close(y[b, :, k, :], (x[b, :, k, :] - mean) / math.sqrt(var + 1e-3) * gamma + beta, rtol=1e-12)


def test_layer_norm_large_mean_exact():
    x = 1e4 + 1e-2 * np.random.default_rng(5).normal(size=(3, 6))
    y = N.layer_norm(x, None, None, center=False, scale=False, epsilon=1e-9)
    for row, got in zip(x, y):
        close(got, exact_standardize(row, 1e-9)[0])


def test_layer_norm_rms_scaling_hand():
    # [1, 2, 3, 6]: mean of squares (1 + 4 + 9 + 36) / 4 = 12.5; epsilon 3.5 -> sqrt(16) = 4
    # y = gamma * x / 4 with gamma = [1, 1, 2, 2]: [0.25, 0.5, 1.5, 3]; no centering, no beta
    x = np.array([[1.0, 2.0, 3.0, 6.0]])
    close(N.layer_norm(x, [1.0, 1.0, 2.0, 2.0], rms_scaling=True, epsilon=3.5), [[0.25, 0.5, 1.5, 3.0]])
    # center and scale are ignored: gamma is still used, beta never exists
    close(N.layer_norm(x, [1.0] * 4, rms_scaling=True, scale=False, epsilon=3.5), [[0.25, 0.5, 0.75, 1.5]])
    with pytest.raises(ValueError, match="beta"):
        N.layer_norm(x, [1.0] * 4, [0.0] * 4, rms_scaling=True)


def test_layer_norm_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="axis"):
        N.layer_norm(x, np.ones(3), np.zeros(3), axis=[1, -1])  # the same axis twice
    with pytest.raises(ValueError, match="axis"):
        N.layer_norm(x, np.ones(3), np.zeros(3), axis=2)
    with pytest.raises(ValueError, match="gamma"):
        N.layer_norm(x, None, np.zeros(3))


# --- GroupNormalization -------------------------------------------------------------------


def test_group_norm_contiguous_blocks_hand():
    # channels [1, 3, 10, 20], groups 2 -> blocks {1, 3} and {10, 20} (contiguous, not interleaved)
    # {1, 3}: mean 2, var 1 -> [-1, 1]; {10, 20}: mean 15, var 25 -> [-1, 1] (epsilon 0)
    # interleaved pairs {1, 10}, {3, 20} would give [-1, -1, 1, 1]
    x = np.array([[1.0, 3.0, 10.0, 20.0]])
    close(N.group_norm(x, np.ones(4), np.zeros(4), groups=2, epsilon=0.0), [[-1, 1, -1, 1]])
    # per-channel gamma, beta after normalizing: [2*-1 + 0, 3*1 + 1, -1*-1 + 0, 1*1 - 1]
    close(N.group_norm(x, [2.0, 3.0, -1.0, 1.0], [0.0, 1.0, 0.0, -1.0], groups=2, epsilon=0.0), [[-2, 4, 1, 0]])


def test_group_norm_one_group_is_layer_norm_over_all_non_batch_axes():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4, 5, 6)) * 2 - 1
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    got = N.group_norm(x, gamma, beta, groups=1)
    # LayerNormalization over (1, 2, 3) with gamma/beta tiled over the spatial dims
    want = N.layer_norm(x, np.broadcast_to(gamma, (4, 5, 6)), np.broadcast_to(beta, (4, 5, 6)), axis=[1, 2, 3])
    close(got, want, rtol=1e-12)


def test_group_norm_groups_equal_channels_is_instance_norm():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 5, 3)) + 10  # (batch, steps, channels)
    for groups in (3, -1):
        y = N.group_norm(x, np.ones(3), np.zeros(3), groups=groups)
        for b in range(2):
            for c in range(3):
                values = x[b, :, c].tolist()
                want = (x[b, :, c] - statistics.fmean(values)) / math.sqrt(statistics.pvariance(values) + 1e-3)
                close(y[b, :, c], want, rtol=1e-12)


def test_group_norm_channels_first_axis():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 6, 3, 2))  # channels at axis 1
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    got = N.group_norm(x, gamma, beta, groups=3, axis=1)
    want = np.moveaxis(N.group_norm(np.moveaxis(x, 1, -1), gamma, beta, groups=3), -1, 1)
    close(got, want)


@pytest.mark.parametrize("groups, match", [(3, "divisible by `groups`"), (8, "divisible"), (0, "groups"),
                                           (-2, "groups"), (2.0, "groups")])
def test_group_norm_invalid_groups(groups, match):
    with pytest.raises(ValueError, match=match):
        N.group_norm(np.ones((2, 4)), np.ones(4), np.zeros(4), groups=groups)


def test_group_norm_rejects_batch_axis_and_lists():
    with pytest.raises(ValueError, match="axis"):
        N.group_norm(np.ones((2, 4)), np.ones(2), np.zeros(2), groups=1, axis=0)
    with pytest.raises(ValueError, match="axis"):
        N.group_norm(np.ones((2, 4, 4)), np.ones(4), np.zeros(4), groups=1, axis=[1, 2])


# --- RMSNormalization and UnitNormalization ----------------------------------------------


def test_rms_norm_hand():
    # [1, 2, 3, 6]: mean square 12.5; epsilon 3.5 -> /4; scale [4, 2, 1, -1] -> [1, 1, 0.75, -1.5]
    x = np.array([[1.0, 2.0, 3.0, 6.0]])
    close(N.rms_norm(x, [4.0, 2.0, 1.0, -1.0], epsilon=3.5), [[1, 1, 0.75, -1.5]])
    # default epsilon 1e-6 inside the root: x / sqrt(12.5 + 1e-6)
    close(N.rms_norm(x, np.ones(4)), x / math.sqrt(12.5 + 1e-6))
    # zeros stay zeros (0 / sqrt(epsilon))
    close(N.rms_norm(np.zeros((1, 3)), np.ones(3)), np.zeros((1, 3)))


def test_rms_norm_axis_and_scale():
    x = np.arange(1.0, 13.0).reshape(2, 3, 2)
    s = np.array([1.0, 2.0, 3.0])
    y = N.rms_norm(x, s, axis=1)
    for b in range(2):
        for k in range(2):
            col = x[b, :, k]
            close(y[b, :, k], col / math.sqrt(math.fsum(col * col) / 3 + 1e-6) * s)
    with pytest.raises(ValueError, match="scale"):
        N.rms_norm(x, None, axis=1)
    with pytest.raises(ValueError, match="axis"):
        N.rms_norm(x, s, axis=[1, 2])  # documented as "axis: int."


def test_unit_norm_hand_and_axes():
    close(N.unit_norm([[3.0, 4.0], [0.0, -2.0]]), [[0.6, 0.8], [0.0, -1.0]])
    x = np.arange(6.0).reshape(2, 3)  # docstring example: each row has L2 norm 1
    close(np.sum(N.unit_norm(x) ** 2, axis=1), [1.0, 1.0])
    x = np.random.default_rng(8).normal(size=(2, 3, 4))
    close(N.unit_norm(x, axis=[1, 2]), x / np.sqrt(np.sum(x * x, axis=(1, 2), keepdims=True)))


def test_unit_norm_zero_and_extreme_magnitudes():
    close(N.unit_norm(np.zeros((2, 3))), np.zeros((2, 3)))
    # no overflow of 1e200 ** 2, no underflow of 1e-200 ** 2: [3, 4] scaled is still [0.6, 0.8]
    close(N.unit_norm([[3e200, 4e200], [3e-200, 4e-200]]), [[0.6, 0.8], [0.6, 0.8]])


# --- weight shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("layer, shape, kwargs, expected", [
    ("BatchNormalization", (None, 5, 4), {},
     {"gamma": (4,), "beta": (4,), "moving_mean": (4,), "moving_variance": (4,)}),
    ("BatchNormalization", (None, 3, 8, 8), dict(axis=1, center=False, scale=False),
     {"moving_mean": (3,), "moving_variance": (3,)}),
    ("LayerNormalization", (5, 20, 30, 40), dict(axis=[1, 2, 3]), {"gamma": (20, 30, 40), "beta": (20, 30, 40)}),
    ("LayerNormalization", (2, 3, 5, 4), dict(axis=(-1, 1)), {"gamma": (3, 4), "beta": (3, 4)}),
    ("LayerNormalization", (2, 6), dict(center=False), {"gamma": (6,)}),
    ("LayerNormalization", (2, 6), dict(rms_scaling=True, scale=False), {"gamma": (6,)}),
    ("GroupNormalization", (2, 5, 8), dict(groups=4), {"gamma": (8,), "beta": (8,)}),
    ("GroupNormalization", (2, 6, 5), dict(groups=-1, axis=1, scale=False), {"beta": (6,)}),
    ("RMSNormalization", (5, 20, 30, 10), {}, {"scale": (10,)}),
    ("RMSNormalization", (2, 3, 5), dict(axis=1), {"scale": (3,)}),
    ("UnitNormalization", (2, 3), dict(axis=[0, 1]), {}),
])
def test_weight_shapes(layer, shape, kwargs, expected):
    got = N.weight_shapes(layer, shape, **kwargs)
    assert got == expected
    assert list(got) == list(expected)  # Keras order: gamma, beta, moving_mean, moving_variance


def test_weight_shapes_arguments():
    # GroupNormalization default groups=32 needs a multiple of 32 channels
    with pytest.raises(ValueError, match="groups"):
        N.weight_shapes("GroupNormalization", (2, 16))
    assert N.weight_shapes("GroupNormalization", (2, 64)) == {"gamma": (64,), "beta": (64,)}
    # value-free Keras arguments are accepted, unknown ones are a TypeError
    N.weight_shapes("BatchNormalization", (2, 3), gamma_initializer="ones", moving_variance_initializer="ones",
                    name="bn", synchronized=False)
    with pytest.raises(TypeError, match="renorm"):
        N.weight_shapes("BatchNormalization", (2, 3), renorm=True)
    with pytest.raises(TypeError, match="gamma_initializer"):
        N.weight_shapes("RMSNormalization", (2, 3), gamma_initializer="ones")
    with pytest.raises(ValueError, match="layer"):
        N.weight_shapes("InstanceNormalization", (2, 3))
    with pytest.raises(ValueError, match="momentum"):
        N.weight_shapes("BatchNormalization", (2, 3), momentum="fast")
    with pytest.raises(ValueError, match="axis"):
        N.weight_shapes("BatchNormalization", (2, 3), axis=2)


def test_functions_accept_their_weight_shapes_and_return_float64():
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # integers in
    cases = [
        ("BatchNormalization", N.batch_norm, dict(axis=1)),
        ("LayerNormalization", N.layer_norm, dict(axis=[1, 2])),
        ("GroupNormalization", N.group_norm, dict(groups=2)),
        ("RMSNormalization", N.rms_norm, {}),
        ("UnitNormalization", N.unit_norm, dict(axis=[1, 2])),
    ]
    for layer, fn, kwargs in cases:
        weights = {name: np.ones(shape) for name, shape in N.weight_shapes(layer, x.shape, **kwargs).items()}
        out = fn(x, **weights, **kwargs)
        y = out[0] if isinstance(out, tuple) else out
        assert y.dtype == np.float64 and y.shape == x.shape


# --- rounding error bound ---------------------------------------------------------------------

U32 = 2.0 ** -24


def _float32_two_pass(x, gamma, beta, epsilon):
    """The documented formula evaluated in float32, in the order the docstring writes it."""
    x = x.astype(np.float32)
    mean = np.mean(x, axis=-1, keepdims=True, dtype=np.float32)
    d = x - mean
    var = np.mean(d * d, axis=-1, keepdims=True, dtype=np.float32)
    return (gamma.astype(np.float32) * (d / np.sqrt(var + np.float32(epsilon))) + beta.astype(np.float32)).astype(np.float64)


def _float32_distributed(x, gamma, beta, epsilon):
    """The same formula with the scale distributed: x * (gamma s) + (beta - mean * gamma s)."""
    x = x.astype(np.float32)
    mean = np.mean(x, axis=-1, keepdims=True, dtype=np.float32)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True, dtype=np.float32)
    inv = np.float32(1.0) / np.sqrt(var + np.float32(epsilon)) * gamma.astype(np.float32)
    return (x * inv + (beta.astype(np.float32) - mean * inv)).astype(np.float64)


def _float32_sequential(x, gamma, beta, epsilon):
    """The distributed formula with every sum taken left to right (np.cumsum), the order whose
    error the worst-case analysis describes (np.mean sums pairwise, which errs less)."""
    x = x.astype(np.float32)
    n = np.float32(x.shape[-1])
    mean = np.cumsum(x, axis=-1, dtype=np.float32)[..., -1:] / n
    var = np.cumsum((x - mean) ** 2, axis=-1, dtype=np.float32)[..., -1:] / n
    inv = np.float32(1.0) / np.sqrt(var + np.float32(epsilon)) * gamma.astype(np.float32)
    return (x * inv + (beta.astype(np.float32) - mean * inv)).astype(np.float64)


def _float32_one_pass(x, gamma, beta, epsilon):
    """A planted fault: var = E[x^2] - E[x]^2, which cancels catastrophically for a large mean."""
    x = x.astype(np.float32)
    mean = np.mean(x, axis=-1, keepdims=True, dtype=np.float32)
    var = np.maximum(np.mean(x * x, axis=-1, keepdims=True, dtype=np.float32) - mean * mean, 0)
    return (gamma.astype(np.float32) * ((x - mean) / np.sqrt(var + np.float32(epsilon))) + beta.astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("n", [2, 3, 8, 64])
def test_error_bound_holds_for_float32_evaluations_of_the_formula_and_catches_one_pass_variance(n):
    rng = np.random.default_rng(n)
    # rows whose mean is 10 to 1e4 times their spread: the conditioning the flat tolerance ignores
    rows = 400
    offset = rng.choice([10.0, 300.0, 1e4], size=(rows, 1)) * rng.choice([-1, 1], size=(rows, 1))
    x = (offset + rng.standard_normal((rows, n)) * rng.choice([1e-3, 1e-1, 1.0], size=(rows, 1)))
    x = x.astype(np.float32).astype(np.float64)  # the inputs both sides see
    gamma = rng.standard_normal(n).astype(np.float32).astype(np.float64)
    beta = rng.standard_normal(n).astype(np.float32).astype(np.float64)
    exact = N.layer_norm(x, gamma, beta, epsilon=1e-3)
    bound = N.error_bound("LayerNormalization", x, {"gamma": gamma, "beta": beta}, U32, epsilon=1e-3)
    for evaluate in (_float32_two_pass, _float32_distributed, _float32_sequential):
        assert np.all(np.abs(evaluate(x, gamma, beta, 1e-3) - exact) <= bound), evaluate.__name__
    one_pass = np.abs(_float32_one_pass(x, gamma, beta, 1e-3) - exact)
    assert np.mean(one_pass > bound) > 0.1  # the fault shows in many elements, not one


def test_error_bound_where_the_variance_is_lost_to_rounding():
    """float32 rows of mean 1e4 and spread 1e-3 over 64 features: the mean's possible error
    (gamma_64 * 1e4 = 0.038) exceeds the spread, so no relative error of the scale holds. With an
    epsilon the computed scale is at most about 1 / sqrt(epsilon): a finite bound that every
    order's float32 result keeps; without one, nothing caps it and no bound is given."""
    rng = np.random.default_rng(11)
    x = (1e4 + 1e-3 * rng.standard_normal((6, 64))).astype(np.float32).astype(np.float64)
    exact = N.layer_norm(x, np.ones(64), np.zeros(64), epsilon=1e-3)
    bound = N.error_bound("LayerNormalization", x, {}, U32, epsilon=1e-3)
    # |z| plus the computed z's size, (|d| + 0.038 + ...) * 31.6: about 1.6, where the old first-order bound was 4.6e5
    assert bound is not None and np.all(np.isfinite(bound)) and np.all(bound < 2)
    for evaluate in (_float32_two_pass, _float32_distributed, _float32_sequential):
        assert np.all(np.abs(evaluate(x, np.ones(64), np.zeros(64), 1e-3) - exact) <= bound), evaluate.__name__
    assert N.error_bound("LayerNormalization", x, {}, U32, epsilon=0.0) is None
    assert N.error_bound("GroupNormalization", x.reshape(6, 8, 8), {}, U32, groups=2, epsilon=0.0) is None


def test_error_bound_hand_value_for_a_two_element_row():
    # x = 1e4 -+ 0.01 in float64: mean error dmean = gamma_2 * 1e4, d = -+0.01, var = 1e-4;
    # the variance's error dvar = gamma_5 (var + dmean * 0.01) + dmean**2, relative to
    # T = var + eps plus eps's rounding and the addition: theta = dvar / T + gamma_2; the scale
    # s = 1 / sqrt(T) then errs by rho = (1 - theta)**-0.5 (1 + gamma_3) - 1, and its product by
    # r = (1 + rho)(1 + u) - 1; the products of the distributed order 3 u (1 + r) (|x| + |mean|)
    u = 2.0 ** -53
    x = np.array([[1e4 - 0.01, 1e4 + 0.01]])
    got = N.error_bound("LayerNormalization", x, {}, u, epsilon=1e-3)
    t = 1e-4 + 1e-3
    s = 1 / math.sqrt(t)

    def gamma(k):
        return k * u / (1 - k * u)

    dmean = gamma(2) * 1e4
    dvar = gamma(5) * (1e-4 + dmean * 0.01) + dmean**2
    # (evaluated through log1p and expm1: rho is a few u, which 1 + rho - 1 would round away)
    rho = math.expm1(-0.5 * math.log1p(-(dvar / t + gamma(2))) + math.log1p(gamma(3)))
    r = math.expm1(math.log1p(rho) + math.log1p(u))
    dd = dmean + u * (0.01 + dmean)
    want = [s * (dd * (1 + r) + 0.01 * r + 3 * u * (1 + r) * (abs(xi) + 1e4)) for xi in x[0]]
    # the affine step adds u (3 |z|) (gamma = 1, beta = 0)
    close(got, [[w + 3 * u * 0.01 * s for w in want]], rtol=1e-9)
    # the old first-order bound let rho multiply |x| + |mean| (the scale's error before x and
    # the mean cancel): 1e4 times this one's scale term; s is rounded once, so it cannot
    assert got.max() < s * (dmean + 1e4 * gamma(3)) * 2


def test_error_bound_of_each_layer_and_which_widen_the_gradient_check():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 4, 6))
    w = {"gamma": np.ones(6), "beta": np.zeros(6)}
    # every layer has a bound now; the root-mean-square ones are a few u of |y|
    rms = N.error_bound("RMSNormalization", x, {"scale": np.ones(6)}, U32)
    unit = N.error_bound("UnitNormalization", x, {}, U32)
    rms_scaling = N.error_bound("LayerNormalization", x, {"gamma": np.ones(6)}, U32, rms_scaling=True)
    inference = N.error_bound("BatchNormalization", x, {**w, "moving_mean": np.zeros(6), "moving_variance": np.ones(6)}, U32)
    for bound, y in ((rms, N.rms_norm(x, np.ones(6))), (unit, N.unit_norm(x)), (rms_scaling, N.rms_norm(x, np.ones(6), epsilon=1e-3))):
        assert bound.shape == x.shape
        assert 2 * U32 < np.max(bound / np.abs(y)) < 12 * U32
    assert inference.shape == x.shape and np.all(inference > 0)
    # LayerNormalization's rms_scaling bound is RMSNormalization's with its epsilon
    close(rms_scaling, N.error_bound("RMSNormalization", x, {"scale": np.ones(6)}, U32, epsilon=1e-3))
    # GroupNormalization with one group per channel set is LayerNormalization over those axes
    one_group = N.error_bound("GroupNormalization", x, w, U32, groups=1)
    layer = N.error_bound("LayerNormalization", x, {"gamma": np.ones((4, 6)), "beta": np.zeros((4, 6))}, U32, axis=[1, 2])
    close(one_group, layer)
    # BatchNormalization in training standardizes over every axis but the channels
    batch = N.error_bound("BatchNormalization", x, w, U32, call={"training": True})
    close(batch, N.error_bound("LayerNormalization", np.moveaxis(x, -1, 0).reshape(6, -1), {}, U32).reshape(6, 3, 4).transpose(1, 2, 0))
    # the statistics' conditioning enters the gradient of the standardizing layers and of
    # BatchNormalization at inference (x against moving_mean), not of the root-mean-square ones
    assert N.WIDENS_GRADIENT == {"BatchNormalization", "LayerNormalization", "GroupNormalization"}
    # the root needs theta = gamma_{n+4} < 1, (n + 4) u < 1/2: 123 elements of a slice in bfloat16, not 124
    assert N.error_bound("RMSNormalization", np.ones((2, 124)), {"scale": np.ones(124)}, 2.0 ** -8) is None
    assert N.error_bound("RMSNormalization", np.ones((2, 123)), {"scale": np.ones(123)}, 2.0 ** -8) is not None


def test_an_axis_of_the_wrong_type_is_a_type_error():
    x = np.ones((2, 3, 4))
    for layer in (N.layer_norm, N.unit_norm):
        with pytest.raises(TypeError, match="axis"):
            layer(x, axis={"axis": -1})
        with pytest.raises(TypeError, match="axis"):
            layer(x, axis="last")
    with pytest.raises(ValueError, match="axis"):  # a well-formed axis out of range stays a ValueError
        N.unit_norm(x, axis=5)


def _in(dtype, evaluate):
    """One of the float32 evaluations above, in another float type."""
    def run(x, gamma, beta, epsilon):
        cast = lambda a: np.asarray(a).astype(dtype)  # noqa: E731
        x, gamma, beta = cast(x), cast(gamma), cast(beta)
        mean = np.mean(x, axis=-1, keepdims=True, dtype=dtype)
        if evaluate == "one pass":
            var = np.maximum(np.mean(x * x, axis=-1, keepdims=True, dtype=dtype) - mean * mean, dtype(0))
        else:
            var = np.mean((x - mean) * (x - mean), axis=-1, keepdims=True, dtype=dtype)
        inv = (dtype(1) / np.sqrt(var + dtype(epsilon))).astype(dtype)
        if evaluate == "distributed":
            return (x * (inv * gamma) + (beta - mean * (inv * gamma))).astype(np.float64)
        return (gamma * ((x - mean) * inv) + beta).astype(np.float64)
    return run


def test_the_float16_bound_holds_for_float16_evaluations_and_catches_one_pass_variance():
    # the bound in float16 (u = 2**-11), as a mixed_float16 LayerNormalization is judged: the
    # documented formula evaluated in float16 in either order is within it; the one-pass
    # variance E[x^2] - E[x]^2 is not, on rows of 4 whose mean is about 40 times their spread
    # (the two-pass bound grows as n u r, the one-pass error as u r**2)
    rng = np.random.default_rng(11)
    u16 = 2.0 ** -11
    rows, n = 300, 4
    x = rng.choice([30.0, 40.0, 50.0], size=(rows, 1)) + rng.standard_normal((rows, n))
    x = x.astype(np.float16).astype(np.float64)
    gamma = rng.standard_normal(n).astype(np.float16).astype(np.float64)
    beta = rng.standard_normal(n).astype(np.float16).astype(np.float64)
    exact = N.layer_norm(x, gamma, beta, epsilon=1e-3)
    bound = N.error_bound("LayerNormalization", x, {"gamma": gamma, "beta": beta}, u16, epsilon=1e-3)
    for order in ("two pass", "distributed"):
        assert np.all(np.abs(_in(np.float16, order)(x, gamma, beta, 1e-3) - exact) <= bound), order
    one_pass = np.abs(_in(np.float16, "one pass")(x, gamma, beta, 1e-3) - exact)
    assert np.mean(np.any(one_pass > bound, axis=-1)) > 0.2  # many rows show it


# --- the root-mean-square layers and BatchNormalization at inference ----------------------------

U16 = 2.0 ** -11
TINY32, TINY16 = 2.0 ** -126, 2.0 ** -14


def _sum(a, dtype, order):
    """sum over the last axis (keepdims) in `dtype` arithmetic: NumPy's pairwise order, or one
    partial sum after another from the last element back (np.cumsum rounds each)."""
    if order == "pairwise":
        return np.sum(a, axis=-1, keepdims=True, dtype=dtype)
    return np.cumsum(a[..., ::-1], axis=-1, dtype=dtype)[..., -1:]


def _root_mean_square(x, scale, epsilon, dtype, order, *, mean=True, fault=None):
    """x / sqrt(mean(x^2) + epsilon) * scale (mean=False: x / sqrt(sum(x^2)), UnitNormalization)
    evaluated in `dtype`: "pairwise" sums pairwise and multiplies by 1 / sqrt; "sequential" sums
    one term after another and divides by sqrt, the scale first. A fault: "scale" (1e-3 too
    large), "float16 sum" (the squares summed in float16), "no epsilon"."""
    x, scale = x.astype(dtype), np.asarray(scale).astype(dtype)
    squares = x * x
    total = _sum(squares.astype(np.float16) if fault == "float16 sum" else squares, np.float16 if fault == "float16 sum" else dtype, order).astype(dtype)
    t = total / dtype(x.shape[-1]) + (dtype(0) if fault == "no epsilon" else dtype(epsilon)) if mean else total
    if order == "pairwise":
        y = x * (dtype(1) / np.sqrt(t)) * scale
    else:
        y = (scale * x) / np.sqrt(t)
    y = y.astype(np.float64)
    return y * (1 + 1e-3) if fault == "scale" else y


def _rms_rows(rng, dtype, rows=300, n=16):
    # rows of very different sizes, some next to epsilon: the relative bound holds at every size
    # (in float16 not below 0.1: squares of 1e-2 would be below its normal range, 6.1e-5, and
    # the flush to zero that the bound allows for would take whole rows: no bound there)
    sizes = [1e-2, 0.3, 1.0, 40.0] if dtype == np.float32 else [0.1, 0.3, 1.0, 40.0]
    x = rng.standard_normal((rows, n)) * rng.choice(sizes, size=(rows, 1))
    scale = rng.standard_normal(n)
    return x.astype(dtype).astype(np.float64), scale.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("dtype, u, tiny", [(np.float32, U32, TINY32), (np.float16, U16, TINY16)])
def test_rms_norm_bound_holds_for_evaluations_in_two_orders_and_catches_faults(dtype, u, tiny):
    rng = np.random.default_rng(5)
    x, scale = _rms_rows(rng, dtype)
    epsilon = 0.01
    exact = N.rms_norm(x, scale, epsilon=epsilon)
    bound = N.error_bound("RMSNormalization", x, {"scale": scale}, u, smallest_normal=tiny, epsilon=epsilon)
    for order in ("pairwise", "sequential"):
        error = np.abs(_root_mean_square(x, scale, epsilon, dtype, order) - exact)
        assert np.all(error <= bound), order
        assert np.max(error / bound) > 0.02  # the bound is not vacuous: errors come within 50x of it
    # a dropped epsilon shows where rows are small against it, a float16 sum of a float32 op everywhere
    for fault in ("no epsilon",) + (("float16 sum", "scale") if dtype == np.float32 else ()):
        assert np.mean(np.abs(_root_mean_square(x, scale, epsilon, dtype, "pairwise", fault=fault) - exact) > bound) > 0.1, fault
    # in float16 a 1e-3 scale error is two units of roundoff, inside any sound bound of 20
    # roundings; 1e-2 is not
    if dtype == np.float16:
        assert np.any(np.abs(_root_mean_square(x, scale, epsilon, dtype, "pairwise") * 1.01 - exact) > bound)


@pytest.mark.parametrize("dtype, u, tiny", [(np.float32, U32, TINY32), (np.float16, U16, TINY16)])
def test_layer_norm_rms_scaling_bound_holds_in_two_orders_and_catches_faults(dtype, u, tiny):
    rng = np.random.default_rng(6)
    x, gamma = _rms_rows(rng, dtype, n=10)
    exact = N.layer_norm(x, gamma, rms_scaling=True, epsilon=1e-3)
    bound = N.error_bound("LayerNormalization", x, {"gamma": gamma}, u, smallest_normal=tiny, rms_scaling=True, epsilon=1e-3)
    for order in ("pairwise", "sequential"):
        assert np.all(np.abs(_root_mean_square(x, gamma, 1e-3, dtype, order) - exact) <= bound), order
    assert np.mean(np.abs(_root_mean_square(x, gamma, 1e-3, dtype, "pairwise", fault="no epsilon") - exact) > bound) > 0.1
    if dtype == np.float32:
        assert np.mean(np.abs(_root_mean_square(x, gamma, 1e-3, dtype, "sequential", fault="float16 sum") - exact) > bound) > 0.3


@pytest.mark.parametrize("dtype, u, tiny", [(np.float32, U32, TINY32), (np.float16, U16, TINY16)])
def test_unit_norm_bound_holds_in_two_orders_and_catches_faults(dtype, u, tiny):
    rng = np.random.default_rng(7)
    x, _ = _rms_rows(rng, dtype, n=24)
    exact = N.unit_norm(x)
    bound = N.error_bound("UnitNormalization", x, {}, u, smallest_normal=tiny)
    for order in ("pairwise", "sequential"):
        error = np.abs(_root_mean_square(x, 1.0, 0.0, dtype, order, mean=False) - exact)
        assert np.all(error <= bound), order
        assert np.max(error / bound) > 0.02
    if dtype == np.float32:
        for fault in ("scale", "float16 sum"):
            assert np.mean(np.abs(_root_mean_square(x, 1.0, 0.0, dtype, "pairwise", mean=False, fault=fault) - exact) > bound) > 0.3, fault


def test_unit_norm_bound_hand_value():
    # x = (3, 4): S = 25 within theta = gamma_2; rho = (1 - gamma_2)**-0.5 (1 + gamma_3) - 1;
    # one product: |dy| = ((1 + rho)(1 + gamma_1) - 1) |y|, y = (0.6, 0.8); no flush floor asked
    def gamma(k):
        return k * U32 / (1 - k * U32)

    rho = (1 - gamma(2)) ** -0.5 * (1 + gamma(3)) - 1
    relative = (1 + rho) * (1 + gamma(1)) - 1
    close(N.error_bound("UnitNormalization", np.array([[3.0, 4.0]]), {}, U32), [[0.6 * relative, 0.8 * relative]])
    # a zero row keeps a zero output: its bound is the flush floor alone
    close(N.error_bound("UnitNormalization", np.zeros((1, 3)), {}, U32, smallest_normal=TINY32), np.full((1, 3), TINY32))


def _inference(x, gamma, beta, mean, variance, epsilon, dtype, order, fault=None):
    """BatchNormalization at inference in `dtype`: "as written", gamma ((x - mean) s) + beta, or
    "distributed", x (gamma s) + (beta - mean gamma s), s = 1 / sqrt(variance + epsilon)."""
    x, gamma, beta, mean, variance = (np.asarray(a).astype(dtype) for a in (x, gamma, beta, mean, variance))
    s = dtype(1) / np.sqrt(variance + (dtype(0) if fault == "no epsilon" else dtype(epsilon)))
    if order == "as written":
        y = gamma * ((x - mean) * s) + beta
    else:
        a = gamma * s
        y = x * a + (beta - mean * a)
    y = y.astype(np.float64)
    return y * (1 + 1e-3) if fault == "scale" else y


@pytest.mark.parametrize("dtype, u, tiny, offset", [(np.float32, U32, TINY32, 1e3), (np.float16, U16, TINY16, 50.0)])
def test_batch_norm_inference_bound_holds_in_both_orders_and_catches_faults(dtype, u, tiny, offset):
    # channels whose moving mean is up to `offset` and whose spread is 1e-2 to 1: in the
    # distributed order x and the moving mean cancel after their products are rounded
    rng = np.random.default_rng(8)
    c = 48
    as_dtype = lambda a: np.asarray(a).astype(dtype).astype(np.float64)  # noqa: E731
    mean = as_dtype(rng.choice([0.0, 1.0, offset], size=c) * rng.choice([-1, 1], size=c))
    spread = rng.choice([1e-2, 0.1, 1.0], size=c)
    variance = as_dtype(spread ** 2 * rng.uniform(0.5, 2.0, size=c))
    x = as_dtype(mean + spread * rng.standard_normal((40, c)))
    gamma, beta = as_dtype(rng.standard_normal(c)), as_dtype(rng.standard_normal(c))
    weights = dict(gamma=gamma, beta=beta, moving_mean=mean, moving_variance=variance)
    exact = N.batch_norm(x, **weights, epsilon=1e-3)[0]
    bound = N.error_bound("BatchNormalization", x, weights, u, smallest_normal=tiny, epsilon=1e-3)
    for order in ("as written", "distributed"):
        error = np.abs(_inference(x, gamma, beta, mean, variance, 1e-3, dtype, order) - exact)
        assert np.all(error <= bound), order
        assert np.max(error / bound) > 0.05, order
    # the distributed order's cancellation is what the bound's u |gamma| s (|x| + 2 |mean|)
    # holds: without it the bound would be exceeded
    distributed = np.abs(_inference(x, gamma, beta, mean, variance, 1e-3, dtype, "distributed") - exact)
    s = 1 / np.sqrt(variance + 1e-3)
    assert np.any(distributed > bound - u * np.abs(gamma) * s * (np.abs(x) + 2 * np.abs(mean)))
    assert np.mean(np.abs(_inference(x, gamma, beta, mean, variance, 1e-3, dtype, "as written", fault="no epsilon") - exact) > bound) > 0.1
    if dtype == np.float32:
        assert np.mean(np.abs(_inference(x, gamma, beta, mean, variance, 1e-3, dtype, "as written", fault="scale") - exact) > bound) > 0.3


def test_batch_norm_inference_bound_hand_value():
    # x = 1000.5, moving_mean 1000, moving_variance 0.25, epsilon 0, gamma 2, beta 0.5:
    # T = 0.25 within gamma_2 (epsilon's rounding and the sum), s = 2 with
    # rho_s = (1 - gamma_2)**-0.5 (1 + gamma_3) - 1; |gamma z| = 2; the cancellation
    # u |gamma| s (|x| + 2 |mean|) = 4 u * 3000.5; the last roundings u (|gamma z| + 2 |beta|) = 3 u;
    # all times (1 + gamma_6)
    def gamma(k):
        return k * U32 / (1 - k * U32)

    rho_s = (1 - gamma(2)) ** -0.5 * (1 + gamma(3)) - 1
    want = (((1 + rho_s) * (1 + gamma(3)) - 1) * 2 + 4 * U32 * 3000.5 + 3 * U32) * (1 + gamma(6))
    got = N.error_bound("BatchNormalization", np.array([[1000.5]]), dict(gamma=np.array([2.0]), beta=np.array([0.5]),
                        moving_mean=np.array([1000.0]), moving_variance=np.array([0.25])), U32, epsilon=0.0)
    close(got, [[want]])


def moving_statistics_low(history, weights, dtype, momentum, arrangement):
    """BatchNormalization's moving statistics updated call by call in `dtype`: batch mean and
    two-pass biased variance over every axis but the last, summed in order, then
    m * M + (1 - m) * mean ("products") or M - (M - mean) * (1 - m) ("difference")."""
    m, one_minus = dtype(momentum), dtype(1 - momentum)
    moving = {k: np.asarray(weights[k]).astype(dtype) for k in ("moving_mean", "moving_variance")}
    for x, call in history:
        if not call.get("training"):
            continue
        flat = np.asarray(x).astype(dtype).reshape(-1, x.shape[-1])
        total = np.zeros(flat.shape[1], dtype)
        for row in flat:
            total = (total + row).astype(dtype)
        mean = (total / dtype(flat.shape[0])).astype(dtype)
        squares = np.zeros(flat.shape[1], dtype)
        for row in flat:
            d = (row - mean).astype(dtype)
            squares = (squares + (d * d).astype(dtype)).astype(dtype)
        var = (squares / dtype(flat.shape[0])).astype(dtype)
        for key, batch in (("moving_mean", mean), ("moving_variance", var)):
            old = moving[key]
            if arrangement == "products":
                moving[key] = ((m * old).astype(dtype) + (one_minus * batch).astype(dtype)).astype(dtype)
            else:
                moving[key] = (old - ((old - batch).astype(dtype) * one_minus).astype(dtype)).astype(dtype)
    return {k: v.astype(np.float64) for k, v in moving.items()}


def state_before_last(history, weights):
    state = dict(weights)
    for x, call in history[:-1]:
        _, new_mean, new_var = N.batch_norm(x, moving_mean=state["moving_mean"], moving_variance=state["moving_variance"],
                                            momentum=0.9, center=False, scale=False, **call)
        state = {"moving_mean": new_mean, "moving_variance": new_var}
    return state


@pytest.mark.parametrize("dtype, u", [(np.float16, 2.0 ** -11), (np.float32, 2.0 ** -24)])
def test_moving_statistics_bound_holds_in_both_arrangements_and_catches_faults(dtype, u):
    """Four training calls (and one at inference between them) on batches with a mean of 3
    against a spread of 1.5, momentum 0.9 (a fast average, so each batch counts): the moving
    statistics evaluated in the format in either arrangement are within the bound of the exact
    ones; momentum weighing the batch instead of the average is not, nor (in float32, where the
    bound is tight enough) an unbiased variance."""
    rng = np.random.default_rng(11)
    weights = {"moving_mean": rng.normal(size=4).astype(dtype).astype(np.float64),
               "moving_variance": np.exp(rng.normal(size=4)).astype(dtype).astype(np.float64)}
    history = [(rng.normal(3.0, 1.5, size=(6, 5, 4)).astype(dtype).astype(np.float64), {"training": t})
               for t in (True, True, False, True, True)]
    bound = N.moving_statistics_error_bound(history, weights, u, momentum=0.9)
    state = dict(weights)
    for x, call in history:
        _, new_mean, new_var = N.batch_norm(x, moving_mean=state["moving_mean"], moving_variance=state["moving_variance"],
                                            momentum=0.9, center=False, scale=False, **call)
        state = {"moving_mean": new_mean, "moving_variance": new_var}
    for arrangement in ("products", "difference"):
        got = moving_statistics_low(history, weights, dtype, 0.9, arrangement)
        for key in state:
            assert np.all(np.abs(got[key] - state[key]) <= bound[key]), (arrangement, key)
    # momentum applied to the batch instead of the average (m * mean + (1 - m) * M) in the last update
    swapped = 0.1 * state_before_last(history, weights)["moving_mean"] + 0.9 * history[-1][0].mean(axis=(0, 1))
    assert np.all(np.abs(swapped - state["moving_mean"]) > 10 * bound["moving_mean"])
    if dtype is np.float32:
        # an unbiased batch variance (n / (n - 1), n = 30) in the last update: off by (1 - m) var / 29
        _, _, var = N._moments(history[-1][0], (0, 1))
        assert np.all(0.1 * var.reshape(-1) / 29 > 10 * bound["moving_variance"])
    # the bound after no training call is exactly 0: the initial statistics are kept
    kept = N.moving_statistics_error_bound([(history[0][0], {"training": False})], weights, u, momentum=0.9)
    assert np.all(kept["moving_mean"] == 0) and np.all(kept["moving_variance"] == 0)
