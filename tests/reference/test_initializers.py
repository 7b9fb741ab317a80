"""reference_impl.initializers: fans, documented defaults and formulas, the distributions against scipy."""
import math

import numpy as np
import pytest

from reference_impl import conv
from reference_impl import initializers as I


def close(got, want, rtol=1e-14, atol=0.0):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# --- fans -------------------------------------------------------------------------------------


def test_fans_of_layer_kernels():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans(I.dense_kernel_shape(3, 4)) == (3, 4)
    assert I.compute_fans((3, 3, 4, 8)) == (36, 72)           # Conv2D: 3 * 3 * 4 in, 3 * 3 * 8 out
    assert I.compute_fans((5, 2, 3)) == (10, 15)              # Conv1D
    assert I.compute_fans((2, 3, 4, 5, 6)) == (120, 144)      # Conv3D: receptive field 24
    assert I.compute_fans((3, 3, 8, 4)) == (72, 36)           # Conv2DTranspose (k, k, filters, in): fan_in from filters
    assert I.compute_fans((3, 3, 4, 2)) == (36, 18)           # DepthwiseConv2D (k, k, in, depth_multiplier)
    assert I.compute_fans((0, 3)) == (0, 3)


def test_fans_from_conv_weight_shapes():
    shapes = conv.weight_shapes("transpose", (2, 9, 9, 4), filters=8, kernel_size=3)
    assert shapes["kernel"] == (3, 3, 8, 4) and I.compute_fans(shapes["kernel"]) == (72, 36)
    shapes = conv.weight_shapes("depthwise", (2, 9, 9, 4), kernel_size=3, depth_multiplier=2)
    assert I.compute_fans(shapes["kernel"]) == (36, 18)
    shapes = conv.weight_shapes("conv", (2, 9, 9, 4), filters=6, kernel_size=(3, 2), groups=2)
    assert I.compute_fans(shapes["kernel"]) == (12, 36)  # (3, 2, 2, 6): in = C / groups
    shapes = conv.weight_shapes("separable", (2, 9, 9, 4), filters=6, kernel_size=3, depth_multiplier=2)
    assert I.compute_fans(shapes["depthwise_kernel"]) == (36, 18)
    assert I.compute_fans(shapes["pointwise_kernel"]) == (8, 6)


def test_fans_with_explicit_axes():
    assert I.compute_fans((3, 3, 4, 8), input_axes=[2]) == (4, 72)
    assert I.compute_fans((3, 3, 4, 8), output_axes=[3]) == (36, 8)
    assert I.compute_fans((3, 3, 4, 8), input_axes=[0, 1, 2], output_axes=[-1]) == (36, 8)
    assert I.compute_fans((3, 3, 4, 8), input_axes=[]) == (1, 72)
    for bad in [[4], [-5], 2, ["a"]]:
        with pytest.raises(ValueError, match="input_axes="):
            I.compute_fans((3, 3, 4, 8), input_axes=bad)


def test_bad_shapes():
    for bad in [(3, -1), (2.0, 3), "ab", 3, (True, 2)]:
        with pytest.raises(ValueError, match="shape="):
            I.compute_fans(bad)
    with pytest.raises(ValueError, match="units=0"):
        I.dense_kernel_shape(3, 0)


# --- the 0.8796 constant and the truncated normal --------------------------------------------


def test_truncation_constant_is_the_std_of_a_unit_normal_truncated_to_2():
    # Var of N(0, 1) on [-b, b] = 1 - 2 b phi(b) / (Phi(b) - Phi(-b)), Phi(b) - Phi(-b) = erf(b / sqrt 2)
    b = 2.0
    phi = math.exp(-b * b / 2) / math.sqrt(2 * math.pi)
    closed_form = math.sqrt(1 - 2 * b * phi / math.erf(b / math.sqrt(2)))
    close(closed_form, 0.87962566103423978, rtol=2e-16)
    close(I.TRUNCATED_STD_FACTOR, closed_form, rtol=2e-16)
    stats = pytest.importorskip("scipy.stats")
    close(stats.truncnorm.std(-2, 2), 0.87962566103423978, rtol=1e-15)


@pytest.mark.parametrize("loc, stddev, a, b", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, -1.0, 2.5), (-0.3, 0.05, 0.5, 3.0),
                                               (0.2, 0.7, -4.0, -1.5), (0.0, 1.0, -2.0, math.inf)])
def test_truncated_normal_against_scipy(loc, stddev, a, b):
    stats = pytest.importorskip("scipy.stats")
    d = I.Distribution("truncated_normal", loc=loc, stddev=stddev, low=loc + a * stddev, high=loc + b * stddev)
    ref = stats.truncnorm(a, b, loc=loc, scale=stddev)
    close(d.mean(), ref.mean(), rtol=1e-13, atol=1e-15)
    close(d.std(), ref.std(), rtol=1e-13)
    x = loc + stddev * np.linspace(a - 0.5 if math.isfinite(a) else -5, (b if math.isfinite(b) else 5) + 0.5, 41)
    close(d.cdf(x), ref.cdf(x), rtol=1e-13, atol=1e-16)
    assert d.support() == (loc + a * stddev, loc + b * stddev)


def test_cdf_normal_uniform_constant_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    x = np.linspace(-0.3, 0.4, 71)
    d = I.expected_distribution("RandomNormal", (3,), mean=0.05, stddev=0.1)
    close(d.cdf(x), stats.norm.cdf(x, 0.05, 0.1), rtol=1e-13, atol=1e-300)
    close(d.cdf(-1.0), stats.norm.cdf(-1.0, 0.05, 0.1), rtol=1e-13)  # 10.5 sigma: lower-tail accuracy
    d = I.expected_distribution("RandomUniform", (3,), minval=-0.1, maxval=0.25)
    close(d.cdf(x), stats.uniform.cdf(x, -0.1, 0.35), rtol=1e-13, atol=1e-16)
    close([d.mean(), d.std()], [stats.uniform.mean(-0.1, 0.35), stats.uniform.std(-0.1, 0.35)])
    d = I.expected_distribution("Constant", (3,), value=0.25)
    close(d.cdf([0.2, 0.25, 0.3]), [0, 1, 1])
    assert (d.mean(), d.std(), d.support()) == (0.25, 0.0, (0.25, 0.25))
    cdf = d.cdf(np.array([[np.nan, 0.3]]))
    assert cdf.shape == (1, 2) and np.isnan(cdf[0, 0]) and cdf.dtype == np.float64


# --- documented defaults and formulas -------------------------------------------------------------


def test_documented_defaults():
    assert I.expected_distribution("RandomNormal", (2, 2)) == I.Distribution("normal", loc=0.0, stddev=0.05)
    assert I.expected_distribution("random_uniform", (2, 2)) == I.Distribution("uniform", low=-0.05, high=0.05)
    assert I.expected_distribution("TruncatedNormal", (2, 2)) == I.Distribution(
        "truncated_normal", loc=0.0, stddev=0.05, low=-0.1, high=0.1)
    assert I.expected_distribution("zeros", (2,)) == I.Distribution("constant", value=0.0)
    assert I.expected_distribution("Ones", (2,)) == I.Distribution("constant", value=1.0)
    assert I.expected_distribution("Constant", (2,)) == I.Distribution("constant", value=0.0)
    assert I.expected_distribution("Orthogonal", (3, 4)).gain == 1.0
    assert I.expected_distribution("Identity", (3, 4)).gain == 1.0
    assert I.expected_distribution("VarianceScaling", (3, 4)) == I.expected_distribution("LecunNormal", (3, 4))
    # TruncatedNormal: stddev is the untruncated one; the true spread is 0.8796 * stddev
    d = I.expected_distribution("truncated_normal", (2,), mean=1.0, stddev=2.0)
    assert d.support() == (-3.0, 5.0)
    close(d.std(), 2.0 * 0.87962566103423978)
    close(d.mean(), 1.0)


FI, FO = 36, 72  # fans of (3, 3, 4, 8)


@pytest.mark.parametrize("name, kind, spread", [
    ("GlorotNormal", "std", math.sqrt(2 / (FI + FO))),
    ("GlorotUniform", "limit", math.sqrt(6 / (FI + FO))),
    ("HeNormal", "std", math.sqrt(2 / FI)),
    ("HeUniform", "limit", math.sqrt(6 / FI)),
    ("LecunNormal", "std", math.sqrt(1 / FI)),
    ("LecunUniform", "limit", math.sqrt(3 / FI)),
])
def test_glorot_he_lecun_docstring_formulas(name, kind, spread):
    d = I.expected_distribution(name, (3, 3, 4, 8), seed=7)
    if kind == "limit":
        assert d.kind == "uniform" and d.support() == pytest.approx((-spread, spread), rel=1e-15)
        close(d.std(), spread / math.sqrt(3))
    else:
        # "truncated normal centered on 0 with stddev = ..." -- the standard deviation after truncation,
        # as VarianceScaling states; the untruncated stddev is larger by 1 / 0.8796
        assert d.kind == "truncated_normal" and d.mean() == 0.0
        close(d.std(), spread)
        close(d.stddev, spread / 0.87962566103423978)
        close(d.support(), (-2 * d.stddev, 2 * d.stddev))
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    assert I.expected_distribution(snake, (3, 3, 4, 8)) == d


@pytest.mark.parametrize("mode, n", [("fan_in", 36), ("fan_out", 72), ("fan_avg", 54)])
def test_variance_scaling(mode, n):
    shape, scale = (3, 3, 4, 8), 0.3
    d = I.expected_distribution("VarianceScaling", shape, scale=scale, mode=mode, distribution="truncated_normal")
    close(d.std(), math.sqrt(scale / n))  # "standard deviation (after truncation, if used) sqrt(scale / n)"
    d = I.expected_distribution("VarianceScaling", shape, scale=scale, mode=mode, distribution="untruncated_normal")
    assert d.kind == "normal" and d.support() == (-math.inf, math.inf)
    close(d.std(), math.sqrt(scale / n))
    d = I.expected_distribution("variance_scaling", shape, scale=scale, mode=mode, distribution="uniform")
    close(d.high, math.sqrt(3 * scale / n))
    close(d.std(), math.sqrt(scale / n))


def test_variance_scaling_axes_and_small_fans():
    d = I.expected_distribution("VarianceScaling", (3, 3, 4, 8), distribution="uniform", input_axes=[2], output_axes=[3])
    close(d.high, math.sqrt(3 / 4))
    d = I.expected_distribution("HeUniform", (3, 3, 4, 8), input_axes=[2])
    close(d.high, math.sqrt(6 / 4))
    d = I.expected_distribution("VarianceScaling", (0, 5), distribution="uniform")  # n = max(1, 0)
    close(d.high, math.sqrt(3.0))
    d = I.expected_distribution("VarianceScaling", (), distribution="uniform", mode="fan_avg")
    close(d.high, math.sqrt(3.0))


# --- orthogonal and identity ----------------------------------------------------------------------------


def _haar(rows, cols, rng):
    """A uniformly random (rows, cols) matrix with orthonormal rows or columns: QR with sign correction."""
    tall = rows >= cols
    a = rng.standard_normal((rows, cols) if tall else (cols, rows))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diagonal(r))
    return q if tall else q.T


def test_is_orthogonal():
    rng = np.random.default_rng(4)
    for shape, gain in [((3, 5), 1.0), ((5, 3), 2.0), ((2, 2, 3), 0.5), ((4, 4), -1.5)]:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        w = gain * _haar(rows, cols, rng).reshape(shape)
        assert I.is_orthogonal(w, gain, atol=1e-12)
        assert not I.is_orthogonal(w, 1.1 * gain, atol=1e-6)
        bent = w.copy().reshape(rows, cols)
        bent[0, 0] += 1e-3
        assert not I.is_orthogonal(bent.reshape(shape), gain, atol=1e-6)
    assert I.is_orthogonal(np.eye(3)[:, :2], 1.0, atol=0.0)
    with pytest.raises(ValueError, match="rank 1"):
        I.is_orthogonal(np.ones(3))


def test_orthogonal_distribution_cdf_against_beta_and_arcsine():
    stats = pytest.importorskip("scipy.stats")
    u = np.linspace(-0.999, 0.999, 101)
    for m in [2, 3, 4, 5, 8, 9, 64, 65, 1000]:
        d = I.Distribution("orthogonal", gain=1.0, rows=m, cols=3) if m >= 3 else I.Distribution(
            "orthogonal", gain=1.0, rows=1, cols=m)
        # (U + 1) / 2 ~ Beta((m - 1) / 2, (m - 1) / 2) for a coordinate U of a uniform unit vector of R^m
        # (the recurrence is accurate in absolute terms, about m * 1e-17, not relative to tiny tail values)
        close(d.cdf(u), stats.beta.cdf((u + 1) / 2, (m - 1) / 2, (m - 1) / 2), rtol=1e-12, atol=1e-14)
        close(d.std(), 1 / math.sqrt(m))
    two = I.Distribution("orthogonal", gain=1.0, rows=2, cols=2)
    close(two.cdf([-1.0, 0.5, 1.0, 2.0]), [0, 0.5 + math.asin(0.5) / math.pi, 1, 1])
    one = I.Distribution("orthogonal", gain=3.0, rows=1, cols=1)  # +-gain
    close(one.cdf([-3.5, -3.0, 0.0, 3.0]), [0, 0.5, 0.5, 1])
    d = I.expected_distribution("orthogonal", (2, 2, 3), gain=1.5)  # (4, 3): columns are unit vectors of R^4
    assert (d.rows, d.cols, d.support()) == (4, 3, (-1.5, 1.5))
    close(d.std(), 0.75)
    close(d.cdf(0.75), 0.5 + (math.asin(0.5) + 0.5 * math.sqrt(0.75)) / math.pi)  # m = 4, u = 0.5


def test_orthogonal_cdf_matches_sampled_haar_matrices():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    for rows, cols in [(5, 3), (2, 6)]:
        values = np.concatenate([_haar(rows, cols, rng).ravel() for _ in range(2000)]) * 2.0
        d = I.expected_distribution("Orthogonal", (rows, cols), gain=2.0)
        assert stats.kstest(values, d.cdf).pvalue > 1e-3
        close(values.std(), d.std(), rtol=0.02)


def test_identity():
    close(I.identity_matrix((2, 3), 2.0), [[2, 0, 0], [0, 2, 0]])
    close(I.identity_matrix((3, 3)), np.eye(3))
    d = I.expected_distribution("Identity", (2, 3), gain=2.0)  # entries: 2 twice, 0 four times
    close([d.mean(), d.std()], [np.mean(I.identity_matrix((2, 3), 2.0)), np.std(I.identity_matrix((2, 3), 2.0))])
    close(d.cdf([-1.0, 0.0, 1.0, 2.0]), [0, 4 / 6, 4 / 6, 1])
    assert d.support() == (0.0, 2.0)
    assert I.expected_distribution("identity", (1, 1), gain=-2.0).support() == (-2.0, -2.0)
    with pytest.raises(ValueError, match="rank 3"):
        I.expected_distribution("Identity", (2, 2, 2))
    with pytest.raises(ValueError, match="rank 3"):
        I.identity_matrix((2, 2, 2))


# --- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, shape, config, match", [
    ("Nope", (2, 2), {}, r"name='Nope'"),
    ("STFT", (2, 2), {}, r"name='STFT'"),
    ("VarianceScaling", (2, 2), dict(mode="fan_sum"), r"mode='fan_sum'"),
    ("VarianceScaling", (2, 2), dict(distribution="normal"), r"distribution='normal'"),
    ("VarianceScaling", (2, 2), dict(distribution="Uniform"), r"distribution='Uniform'"),
    ("VarianceScaling", (2, 2), dict(scale=0.0), r"scale=0.0"),
    ("VarianceScaling", (2, 2), dict(scale=-1.0), r"scale=-1.0"),
    ("Constant", (2, 2), dict(value=[1.0, 2.0]), r"value=\[1.0, 2.0\]"),
    ("RandomNormal", (2, 2), dict(stddev=-0.1), r"stddev=-0.1"),
    ("RandomUniform", (2, 2), dict(minval=1.0, maxval=0.0), r"minval=1.0, maxval=0.0"),
    ("Orthogonal", (4,), {}, r"rank 1"),
])
def test_errors_name_the_argument(name, shape, config, match):
    with pytest.raises(ValueError, match=match):
        I.expected_distribution(name, shape, **config)


def test_unknown_argument_is_a_type_error():
    with pytest.raises(TypeError, match="'stddev'"):
        I.expected_distribution("GlorotUniform", (2, 2), stddev=1.0)
    with pytest.raises(TypeError, match="'gain'"):
        I.expected_distribution("Zeros", (2, 2), gain=1.0)
    with pytest.raises(ValueError, match="kind='gamma'"):
        I.Distribution("gamma")
    with pytest.raises(ValueError, match="stddev=0.0"):
        I.Distribution("normal")
    with pytest.raises(ValueError, match="low=1.0, high=1.0"):
        I.Distribution("uniform", low=1.0, high=1.0)
    with pytest.raises(ValueError, match="rows=0"):
        I.Distribution("orthogonal", rows=0, cols=3)


def test_degenerate_spreads_are_constants():
    assert I.expected_distribution("RandomNormal", (2,), mean=0.5, stddev=0.0) == I.Distribution("constant", value=0.5)
    assert I.expected_distribution("RandomUniform", (2,), minval=0.5, maxval=0.5) == I.Distribution("constant", value=0.5)
    assert I.expected_distribution("Identity", (2, 2), gain=0.0) == I.Distribution("constant", value=0.0)
