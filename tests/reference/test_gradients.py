"""reference_impl.gradients: finite differences against hand-derived derivatives, their behaviour at
a kink, and the analytic VJPs against the finite-difference directional derivatives (the adjoint
identity <v, J u> = <J^T v, u>) on convolutions, Dense and activations.

The analytic VJPs are a second formulation (transposed convolution, correlation, derivative
formulas); the finite differences see only the forward reference. Inputs are non-integer and
asymmetric, with batch and channels > 1 and odd and even sizes.
"""
import math

import numpy as np
import pytest

from reference_impl import activations as A
from reference_impl import conv as C
from reference_impl import core
from reference_impl import gradients as G

ADJOINT_RTOL = 1e-9  # |<v, J u> - <J^T v, u>| against sum |J^T v| |u|


@pytest.fixture
def rng():
    return np.random.default_rng(20250611)


def scalar(f):
    """f of a float as the function of a 0-d array that directional_derivative calls."""
    return lambda p: np.float64(f(float(p)))


# --- finite differences against hand-derived derivatives ------------------------------------------


def poly(t):
    return 3.0 + 2.0 * t - 5.0 * t**2 + 0.7 * t**3 - 1.3 * t**5


def poly_prime(t):
    return 2.0 - 10.0 * t + 2.1 * t**2 - 6.5 * t**4


@pytest.mark.parametrize("x0, u", [(0.37, 1.0), (-1.25, 0.6), (2.0, -2.5)])
def test_polynomial(x0, u):
    d = G.directional_derivative(scalar(poly), np.float64(x0), np.float64(u))
    exact = u * poly_prime(x0)  # d/dt poly(x0 + t u) at 0
    assert d.converged and d.kinks == 0
    assert abs(d.value - exact) <= d.error <= 1e-11 * abs(exact) + 1e-13
    # degree 5: D(h) = p' + c2 h**2 + c4 h**4 exactly, so two extrapolations are exact; 3 levels at most
    assert d.evaluations <= 7


def test_cubic_is_exact_after_one_extrapolation():
    # D(h) = g'(0) + g'''(0) h**2 / 6 exactly for a cubic: A[1][1] is g'(0) up to rounding
    g = lambda t: 1.5 - 0.25 * t + 4.0 * t**2 - 3.0 * t**3
    d = G.derivative(g, 0.1)
    # its estimate is the correction A[1][1] made (g''' h**2 / 6 = 0.005): a third level confirms it
    assert d.evaluations == 7  # g(0) and three levels
    assert abs(d.value - (-0.25)) < 1e-14
    assert d.converged


@pytest.mark.parametrize("x0, u", [(0.3, -1.7), (2.5, 0.4), (-3.0, 1.0), (0.0, 10.0)])
def test_exponential(x0, u):
    d = G.directional_derivative(scalar(math.exp), np.float64(x0), np.float64(u))
    exact = u * math.exp(x0)
    assert d.converged and d.kinks == 0
    assert abs(d.value - exact) <= d.error <= 1e-11 * abs(exact)


def test_quadratic_form(rng):
    # phi(p) = p^T Q p + b^T p + c: d/dt phi(p + t u) = u^T (Q + Q^T) p + b^T u
    Q = rng.normal(size=(5, 5)) + 0.3  # asymmetric
    b = rng.normal(size=5)
    p, u = rng.normal(0.25, 1.0, size=5), rng.normal(size=5)
    phi = lambda q: np.float64(q @ Q @ q + b @ q - 0.75)
    d = G.directional_derivative(phi, p, u)
    exact = u @ (Q + Q.T) @ p + b @ u
    assert d.converged
    assert abs(d.value - exact) <= d.error
    # exact at level 0 but for rounding: about eps |phi| / h, h = 2**-12 / rms(u), ~1e-12 relative
    assert d.error <= 1e-10 * d.magnitude
    assert d.evaluations == 5  # exact at level 0: two levels and the point


def test_vector_function_with_cotangent_and_named_arrays(rng):
    # f(p) = (W x + w0) * s elementwise, over named arrays: <v, J u> = <v, (W u_x + u_w0) * s + (W x + w0) * u_s>
    W = rng.normal(size=(4, 3))
    point = {"x": rng.normal(0.25, 1.0, size=(2, 3)), "w0": rng.normal(size=4), "s": rng.normal(size=(2, 4))}
    direction = {name: rng.normal(size=a.shape) for name, a in point.items()}
    v = rng.normal(size=(2, 4))
    f = lambda q: (q["x"] @ W.T + q["w0"]) * q["s"]
    ju = (direction["x"] @ W.T + direction["w0"]) * point["s"] + (point["x"] @ W.T + point["w0"]) * direction["s"]
    d = G.directional_derivative(f, point, direction, v, value_at_point=f(point))
    assert d.evaluations == 4  # the point was given; exact at level 0
    np.testing.assert_allclose(d.tangent, ju, rtol=1e-10)  # rounding: eps |f| / h ~ 1e-12 relative
    assert abs(d.value - np.sum(v * ju)) <= d.error
    assert d.magnitude == pytest.approx(np.sum(np.abs(v * ju)), rel=1e-12)


@pytest.mark.parametrize("name, f, fprime, x0", [
    ("sin", math.sin, math.cos, 1.1),
    ("log1p", math.log1p, lambda x: 1.0 / (1.0 + x), 0.05),
    ("atan", math.atan, lambda x: 1.0 / (1.0 + x * x), -0.4),
    # C1, not C2: a jump of the second derivative 2e-3 away from the point (1e-3 steps would straddle it)
    ("elu_like", lambda x: x if x > 2e-3 else 2e-3 + math.expm1(x - 2e-3), lambda x: 1.0 if x > 2e-3 else math.exp(x - 2e-3), 0.0),
])
def test_error_estimate_covers_the_actual_error(name, f, fprime, x0):
    for step in (1e-1, 1e-2, 1e-3):
        d = G.derivative(lambda t: f(x0 + t), step)
        assert abs(d.value - fprime(x0)) <= d.error, (name, step, d)


def test_smooth_cases_are_cheap(rng):
    # the common case: a smooth layer costs a few evaluations (the point given, as the check has it)
    x, kernel, bias = rng.normal(0.25, 1.0, (2, 9, 8, 4)), rng.normal(0, 0.3, (3, 3, 4, 6)), rng.normal(0, 0.3, 6)
    f = lambda p: C.conv(p["x"], p["kernel"], p["bias"], rank=2, filters=6, kernel_size=3, padding="same",
                         activation="tanh")
    point = {"x": x, "kernel": kernel, "bias": bias}
    direction = {n: rng.normal(size=a.shape) for n, a in point.items()}
    v = rng.normal(size=(2, 9, 8, 6))
    for rtol, most in ((G.fd_accuracy("float32"), 6), (G.DEFAULT_RTOL, 8)):
        d = G.directional_derivative(f, point, direction, v, value_at_point=f(point), rtol=rtol)
        assert d.converged and d.evaluations <= most, (rtol, d.evaluations)


# --- kinks ------------------------------------------------------------------------------------------


def test_abs_at_its_kink():
    # D(h) = (|h| - |-h|) / 2h = 0 for every h: the table converges, to the mean of the slopes +-1
    d = G.derivative(abs, 0.01)
    assert d.value == 0.0
    assert d.kinks == 1
    assert d.error >= 1.0  # half the jump between the one-sided derivatives 1 and -1
    assert not d.converged
    assert d.one_sided == pytest.approx((1.0, -1.0), abs=1e-12)
    with pytest.raises(ValueError, match="did not converge"):
        G.gradient_tolerance(d, "float32", gradient_magnitude=0.0, direction_l1=1.0)


def test_relu_at_its_kink_reports_both_sides(rng):
    # relu along u = 1.5 at 0: slopes 1.5 (right) and 0 (left); the central value is their mean
    d = G.directional_derivative(A.relu, np.array([0.0]), np.array([1.5]), np.array([1.0]))
    assert d.value == pytest.approx(0.75)
    assert d.kinks == 1 and not d.converged
    assert d.one_sided == pytest.approx((1.5, 0.0), abs=1e-12)


@pytest.mark.parametrize("offset", [1e-9, 1e-6, 3e-5])
def test_kink_inside_the_steps_does_not_converge(offset):
    # |t - offset| with offset below the finest step (0.01 / 128 = 7.8e-5): no step is clear of it
    d = G.derivative(lambda t: abs(t - offset), 0.01)
    assert not d.converged
    assert d.error >= 0.1  # of the order of the jump, 2
    assert abs(d.value - (-1.0)) <= d.error


def test_kink_beyond_the_first_step_is_harmless():
    d = G.derivative(lambda t: abs(t - 0.5), 0.01)
    assert d.converged and d.kinks == 0
    assert d.value == pytest.approx(-1.0, abs=1e-13)


def test_one_kink_among_many_smooth_elements(rng):
    # a relu layer with one pre-activation exactly at 0: that element is flagged, the error covers it
    x = rng.normal(0.25, 1.0, size=(3, 5))
    W = rng.normal(size=(5, 4))
    x[1, 0] = 0.0
    W[:, 2] = 0.0
    W[0, 2] = 1.0  # z[1, 2] = x[1, 0] * 1 = 0
    f = lambda q: A.relu(q["x"] @ q["W"])
    point, direction = {"x": x, "W": W}, {"x": rng.normal(size=x.shape), "W": rng.normal(size=W.shape)}
    v = rng.normal(size=(3, 4))
    d = G.directional_derivative(f, point, direction, v)
    assert d.kinks == 1
    slope = direction["x"][1] @ W[:, 2] + x[1] @ direction["W"][:, 2]  # dz[1, 2]/dt
    assert d.error >= abs(v[1, 2] * slope) / 2.0 * 0.999


# --- the tolerance ----------------------------------------------------------------------------------


def test_gradient_dot_and_tolerance_formula():
    g = {"a": np.array([1.0, -2.0]), "b": np.array([[0.5]])}
    u = {"a": np.array([3.0, 1.0]), "b": np.array([[-4.0]])}
    dot, magnitude, l1 = G.gradient_dot(g, u)
    assert (dot, magnitude, l1) == (3.0 - 2.0 - 2.0, 3.0 + 2.0 + 2.0, 8.0)
    d = G.Derivative(value=-1.0, error=1e-9, converged=True, kinks=0, magnitude=5.0, tangent=np.zeros(1),
                     one_sided=(-1.0, -1.0), evaluations=4, step=0.1)
    # 2 * 1e-9 + 128 * 2**-24 * max(5, 7) + 2 * 2**-126 * 8
    assert G.gradient_tolerance(d, "float32", gradient_magnitude=magnitude, direction_l1=l1) == pytest.approx(
        2e-9 + 128 * 2.0**-24 * 7.0 + 16 * 2.0**-126, rel=1e-15)
    assert G.gradient_tolerance(d, "float16", gradient_magnitude=1.0, direction_l1=l1) == pytest.approx(
        2e-9 + 128 * 2.0**-11 * 5.0 + 16 * 2.0**-14, rel=1e-15)
    with pytest.raises(ValueError, match="dtype=.int8."):
        G.gradient_tolerance(d, "int8", gradient_magnitude=1.0, direction_l1=1.0)


def test_fd_accuracy():
    assert G.fd_accuracy("float32") == pytest.approx(1e-3 * 128 * 2.0**-24)
    assert G.fd_accuracy("float64") == 1e-10


def test_argument_errors(rng):
    with pytest.raises(ValueError, match=r"direction\['w'\]"):
        G.directional_derivative(lambda p: p["w"], {"w": np.zeros(3)}, {"w": np.ones(4)}, np.ones(3))
    with pytest.raises(ValueError, match="names of `point`"):
        G.directional_derivative(lambda p: p["w"], {"w": np.zeros(3)}, {"x": np.ones(3)}, np.ones(3))
    with pytest.raises(ValueError, match="not be zero"):
        G.directional_derivative(lambda p: p, np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="cotangent"):
        G.directional_derivative(lambda p: p, np.zeros(3), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="step"):
        G.derivative(math.exp, -0.1)
    with pytest.raises(ValueError, match="gradient\\['a'\\]"):
        G.gradient_dot({"a": np.zeros(2)}, {"a": np.zeros(3)})


# --- analytic VJPs against finite differences --------------------------------------------------------


def adjoint_gap(f, point, vjp, rng):
    """(|<v, J u> - <J^T v, u>|, sum |J^T v| |u|, the Derivative) for a random u and v."""
    y = f(point)
    v = rng.normal(size=np.shape(y))
    direction = {n: rng.normal(size=a.shape) for n, a in point.items()}
    d = G.directional_derivative(f, point, direction, v, value_at_point=y)
    dot, magnitude, _ = G.gradient_dot(vjp(v), direction)
    return abs(d.value - dot), magnitude, d


def assert_adjoint(f, point, vjp, rng):
    gap, magnitude, d = adjoint_gap(f, point, vjp, rng)
    assert d.converged and d.kinks == 0, d[:5]
    assert gap <= ADJOINT_RTOL * magnitude, (gap, magnitude)


CONV_CASES = {
    # name: (x shape, kernel shape, strides, dilation, padding, groups)
    "1d_valid": ((2, 11, 3), (3, 3, 4), 1, 1, "valid", 1),
    "1d_same_stride2_even": ((3, 10, 4), (4, 2, 6), 2, 1, "same", 2),
    "1d_causal_dilated": ((2, 9, 2), (3, 2, 3), 1, 2, "causal", 1),
    "1d_valid_stride3_ragged": ((2, 13, 3), (2, 3, 2), 3, 1, "valid", 1),
    "2d_same": ((2, 7, 6, 3), (3, 3, 3, 4), 1, 1, "same", 1),
    "2d_valid_stride_2x1": ((2, 9, 8, 4), (3, 2, 2, 6), (2, 1), 1, "valid", 2),
    "2d_same_stride_2x3": ((2, 8, 9, 2), (2, 3, 2, 5), (2, 3), 1, "same", 1),
    "2d_dilated_same": ((3, 9, 7, 4), (3, 2, 1, 4), 1, (2, 3), "same", 4),
    "2d_dilated_valid": ((2, 10, 9, 2), (2, 3, 2, 3), 1, 2, "valid", 1),
    "3d_valid": ((2, 5, 6, 4, 2), (2, 3, 2, 2, 3), 1, 1, "valid", 1),
    "3d_same_strided_groups": ((2, 6, 5, 7, 4), (3, 2, 3, 2, 6), (2, 1, 2), 1, "same", 2),
    "3d_dilated": ((1, 7, 6, 6, 3), (2, 2, 2, 3, 2), 1, (2, 1, 2), "valid", 1),
}


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv_vjp_adjoint(name, rng):
    xs, ks, strides, dilation, padding, groups = CONV_CASES[name]
    kw = dict(strides=strides, dilation=dilation, padding=padding, groups=groups)
    point = {"x": rng.normal(0.25, 1.0, xs), "kernel": rng.normal(0.0, 0.5, ks)}
    f = lambda p: C.conv_general(p["x"], p["kernel"], **kw)

    def vjp(v):
        dx, dk = G.conv_vjp(point["x"], point["kernel"], v, **kw)
        return {"x": dx, "kernel": dk}

    assert_adjoint(f, point, vjp, rng)


@pytest.mark.parametrize("rank, data_format, activation, strides, dilation, padding, groups", [
    (1, "channels_first", "tanh", 2, 1, "same", 1),
    (2, "channels_last", "sigmoid", 1, 2, "valid", 2),
    (2, "channels_first", "gelu", (1, 2), 1, "same", 3),
    (2, "channels_last", "elu", 1, 1, "same", 1),
    (3, "channels_first", None, 1, 1, "valid", 1),
    (3, "channels_last", "tanh", 2, 1, "same", 2),
])
def test_conv_layer_vjp_adjoint(rank, data_format, activation, strides, dilation, padding, groups, rng):
    channels, filters = 3 * groups, 2 * groups
    spatial = (7, 6, 5)[:rank]
    xs = (2, channels) + spatial if data_format == "channels_first" else (2,) + spatial + (channels,)
    ks = (3, 2, 2)[:rank] + (channels // groups, filters)
    kw = dict(strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation, groups=groups,
              activation=activation)
    point = {"inputs": rng.normal(0.25, 1.0, xs), "kernel": rng.normal(0, 0.4, ks), "bias": rng.normal(0, 0.3, filters)}
    f = lambda p: C.conv(p["inputs"], p["kernel"], p["bias"], rank=rank, filters=filters, kernel_size=ks[:rank], **kw)
    assert_adjoint(f, point, lambda v: G.conv_layer_vjp(point["inputs"], point["kernel"], point["bias"], v, **kw), rng)


@pytest.mark.parametrize("shape, activation", [((4, 5), None), ((2, 3, 5), "tanh"), ((3, 5), "sigmoid"),
                                               ((2, 2, 3, 5), "gelu"), ((6, 5), "elu")])
def test_dense_vjp_adjoint(shape, activation, rng):
    point = {"inputs": rng.normal(0.25, 1.0, shape), "kernel": rng.normal(0, 0.5, (5, 3)), "bias": rng.normal(0, 0.3, 3)}
    f = lambda p: core.dense(p["inputs"], {"kernel": p["kernel"], "bias": p["bias"]}, units=3, activation=activation)
    vjp = lambda v: G.dense_vjp(point["inputs"], point["kernel"], point["bias"], v, activation=activation)
    assert_adjoint(f, point, vjp, rng)


def away_from(x, kinks, distance=0.05):
    """x moved by `distance` away from each kink it is closer to than that."""
    for k in kinks:
        near = np.abs(x - k) < distance
        x = np.where(near, k + np.where(x >= k, distance, -distance), x)
    return x


@pytest.mark.parametrize("name, params, forward, kinks", [
    ("relu", {}, A.relu, (0.0,)),
    ("relu", {"negative_slope": 0.1, "max_value": 1.5, "threshold": -0.5},
     lambda x: A.relu(x, 0.1, 1.5, -0.5), (-0.5, 1.5)),
    ("sigmoid", {}, A.sigmoid, ()),
    ("tanh", {}, A.tanh, ()),
    ("elu", {"alpha": 0.7}, lambda x: A.elu(x, 0.7), ()),
    ("gelu", {}, A.gelu, ()),
])
def test_activation_vjp_adjoint(name, params, forward, kinks, rng):
    x = away_from(rng.normal(0.25, 2.0, size=(3, 7)), kinks)
    assert_adjoint(lambda p: forward(p["x"]), {"x": x},
                   lambda v: {"x": G.activation_vjp(name, x, v, **params)}, rng)


def test_activation_derivatives_by_hand():
    # relu with slope 0.1, threshold -0.5, max 1.5: slopes 0.1 below -0.5 (and at it), 1 between, 0 above 1.5
    x = np.array([-2.0, -0.5, 0.3, 1.4, 1.6])
    np.testing.assert_array_equal(G.activation_vjp("relu", x, np.ones(5), negative_slope=0.1, max_value=1.5,
                                                   threshold=-0.5), [0.1, 0.1, 1.0, 1.0, 0.0])
    # gelu'(0) = Phi(0) = 1/2; gelu'(1) = Phi(1) + phi(1) = 0.8413447460685429 + 0.24197072451914337
    np.testing.assert_allclose(G.activation_vjp("gelu", np.array([0.0, 1.0]), np.ones(2)),
                               [0.5, 0.8413447460685429 + 0.24197072451914337], rtol=1e-15)
    # tanh'(0.5) = 1 - tanh(0.5)**2 = 0.7864477329659274; sigmoid'(0) = 1/4; elu'(-1) = exp(-1)
    np.testing.assert_allclose(G.activation_vjp("tanh", np.array([0.5]), np.array([2.0])), [2 * 0.7864477329659274],
                               rtol=1e-15)
    assert G.activation_vjp("sigmoid", np.array([0.0]), np.array([1.0]))[0] == 0.25
    assert G.activation_vjp("elu", np.array([-1.0]), np.array([1.0]))[0] == pytest.approx(math.exp(-1.0), rel=1e-15)
    with pytest.raises(ValueError, match="activation='softmax'"):
        G.activation_vjp("softmax", x, x)


def test_conv_vjp_by_hand():
    # y[i] = a x[i] + b x[i+1] (valid, k = 2): dx = [a v0, b v0 + a v1, b v1], dk = [x0 v0 + x1 v1, x1 v0 + x2 v1]
    x = np.array([1.5, -2.0, 0.25]).reshape(1, 3, 1)
    k = np.array([0.5, -3.0]).reshape(2, 1, 1)
    v = np.array([2.0, -1.0]).reshape(1, 2, 1)
    dx, dk = G.conv_vjp(x, k, v, strides=1, dilation=1, padding="valid")
    np.testing.assert_allclose(dx.ravel(), [1.0, -6.0 - 0.5, 3.0], rtol=1e-15)
    np.testing.assert_allclose(dk.ravel(), [3.0 + 2.0, -4.0 - 0.25], rtol=1e-15)


@pytest.mark.parametrize("fault", ["input_scaled", "kernel_flipped", "bias_doubled"])
def test_a_wrong_vjp_is_caught(fault, rng):
    # the adjoint check can fail: a planted mistake in the analytic VJP breaks the identity
    xs, ks = (2, 7, 6, 3), (3, 2, 3, 4)
    kw = dict(strides=1, padding="same", activation="tanh")
    point = {"inputs": rng.normal(0.25, 1.0, xs), "kernel": rng.normal(0, 0.4, ks), "bias": rng.normal(0, 0.3, 4)}
    f = lambda p: C.conv(p["inputs"], p["kernel"], p["bias"], rank=2, filters=4, kernel_size=(3, 2), **kw)

    def wrong(v):
        g = G.conv_layer_vjp(point["inputs"], point["kernel"], point["bias"], v, **kw)
        if fault == "input_scaled":
            g["inputs"] = g["inputs"] * (1.0 + 1e-6)
        elif fault == "kernel_flipped":
            g["kernel"] = g["kernel"][::-1, ::-1]
        else:
            g["bias"] = 2.0 * g["bias"]
        return g

    gap, magnitude, d = adjoint_gap(f, point, wrong, rng)
    assert d.converged
    assert gap > ADJOINT_RTOL * magnitude
