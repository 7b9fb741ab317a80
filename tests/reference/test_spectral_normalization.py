"""reference_impl.spectral_normalization: one power iteration by hand, convergence to the largest
singular value (numpy's SVD, an independent formulation), and the wrapped layers."""
import ml_dtypes
import numpy as np
import pytest

from reference_impl import core
from reference_impl import spectral_normalization as S


def test_one_power_iteration_by_hand():
    w = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # (in 3, out 2), singular values 3 and 1
    u = np.array([[1.0, 1.0]])
    # v = u W^T / |.| = [3, 1, 0] / sqrt(10); u = v W / |.| = [9, 1] / sqrt(82); sigma = v W u^T = 82 / sqrt(820)
    w_sn, u_new = S.normalized(w, u, 1)
    np.testing.assert_allclose(u_new, [[9 / np.sqrt(82), 1 / np.sqrt(82)]], rtol=1e-14)
    np.testing.assert_allclose(w_sn, w / (82 / np.sqrt(820)), rtol=1e-14)


@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 4, 3)])
def test_many_iterations_reach_the_largest_singular_value(shape):
    rng = np.random.default_rng(0)
    w = rng.normal(size=shape)
    w_sn, _ = S.normalized(w, rng.normal(size=(1, shape[-1])), 200)
    sigma = np.linalg.svd(w.reshape(-1, shape[-1]), compute_uv=False)[0]
    np.testing.assert_allclose(w_sn, w / sigma, rtol=1e-10)
    assert np.linalg.svd(w_sn.reshape(-1, shape[-1]), compute_uv=False)[0] == pytest.approx(1.0, rel=1e-10)


def test_training_and_inference_calls_of_a_wrapped_dense():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5))
    params = {"layer": {"class_name": "Dense", "config": {"units": 4}}, "power_iterations": 2}
    weights = {k: rng.normal(size=s) for k, s in S.weight_shapes((3, 5), **params).items()}
    assert set(weights) == {"dense/kernel", "dense/bias", "vector_u"}
    at_inference = S.spectral_normalization(x, weights, call={"training": False}, **params)
    np.testing.assert_allclose(at_inference, x @ weights["dense/kernel"] + weights["dense/bias"], rtol=1e-14)
    w_sn, u = S.normalized(weights["dense/kernel"], weights["vector_u"], 2)
    trained = S.spectral_normalization(x, weights, call={"training": True}, **params)
    np.testing.assert_allclose(trained, core.dense(x, {"kernel": w_sn, "bias": weights["dense/bias"]}, units=4), rtol=1e-14)
    state = S.update_state(x, weights, params, {"training": True})
    np.testing.assert_allclose(state["dense/kernel"], w_sn, rtol=1e-14)
    np.testing.assert_allclose(state["vector_u"], u, rtol=1e-14)
    assert S.update_state(x, weights, params, {"training": False}) == {}


# --- error bound -----------------------------------------------------------------------------------

from reference_impl import rounding  # noqa: E402


def _power_iteration_in(t, w, u, iterations):
    """The documented iteration and sigma = v W u^T in the type t, every operation rounded."""
    w, u = w.astype(t).reshape(-1, w.shape[-1]), u.astype(t)
    for _ in range(iterations):
        v = (u @ w.T).astype(t)
        v = (v / np.sqrt(np.sum(v * v, dtype=t)).astype(t)).astype(t)
        u = (v @ w).astype(t)
        u = (u / np.sqrt(np.sum(u * u, dtype=t)).astype(t)).astype(t)
    return float(((v @ w).astype(t) @ u.T.astype(t)).item())


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32])
@pytest.mark.parametrize("iterations", [1, 3])
def test_sigma_bound_holds_for_evaluations_in_the_format(dtype, iterations):
    fmt = rounding.format_of(np.dtype(dtype).name)
    rng = np.random.default_rng(iterations)
    for trial in range(20):
        w = rng.normal(size=(6, 4)).astype(dtype).astype(np.float64)
        u = rng.normal(size=(1, 4)).astype(dtype).astype(np.float64)
        sigma, dsigma = S.sigma_error_bound(w, u, iterations, fmt)
        exact = np.abs(w).sum() / np.abs(S.normalized(w, u, iterations)[0]).sum()  # sigma = W / W_SN
        assert abs(sigma - exact) <= 1e-12 * exact
        assert abs(_power_iteration_in(dtype, w, u, iterations) - exact) <= dsigma, trial
        # the norm-wise bound on these draws: a median of about 40 units of roundoff on sigma
        # after one iteration, 100 after three, at most 110 and 200 (the element-wise one: 120
        # to 550 after one, 3,600 to 9,800 after three in float32, nothing in 16 bits)
        assert dsigma < (110 if iterations == 1 else 200) * fmt.unit_roundoff * exact, trial


def test_the_norm_wise_sigma_bound_is_the_smaller_on_random_kernels():
    fmt = rounding.format_of("bfloat16")
    rng = np.random.default_rng(11)
    w = rng.uniform(-0.5, 0.5, size=(18, 2))
    u = rng.normal(size=(1, 2))
    _, elementwise, _ = S._sigma_error_elementwise(w, u, 2, fmt)
    normwise, _ = S._sigma_error_normwise(w, u, 2, fmt)
    assert np.isinf(elementwise) and np.isfinite(normwise)
    assert S.sigma_error_bound(w, u, 2, fmt)[1] == normwise


def test_spectral_normalization_bound_of_a_dense_layer_in_training_and_a_planted_fault():
    fmt = rounding.format_of("float32")
    rng = np.random.default_rng(5)
    params = {"layer": {"class_name": "Dense", "config": {"units": 4}}, "power_iterations": 2}
    x = rng.normal(size=(3, 5)).astype(np.float32).astype(np.float64)
    weights = {"dense/kernel": rng.normal(size=(5, 4)).astype(np.float32).astype(np.float64),
               "dense/bias": rng.normal(size=4).astype(np.float32).astype(np.float64),
               "vector_u": rng.normal(size=(1, 4)).astype(np.float32).astype(np.float64)}
    call = {"training": True}
    exact = S.spectral_normalization(x, weights, call=call, **params)
    bound = S.error_bound(x, weights, fmt, call=call, **params)
    t = np.float32
    sigma = _power_iteration_in(t, weights["dense/kernel"], weights["vector_u"], 2)
    kernel = (weights["dense/kernel"].astype(t) / t(sigma)).astype(t)
    evaluated = ((x.astype(t) @ kernel).astype(t) + weights["dense/bias"].astype(t)).astype(np.float64)
    assert np.all(np.abs(evaluated - exact) <= bound)
    # one power iteration fewer is caught
    sigma_1 = _power_iteration_in(t, weights["dense/kernel"], weights["vector_u"], 1)
    fewer = ((x.astype(t) @ (weights["dense/kernel"].astype(t) / t(sigma_1))).astype(t) + weights["dense/bias"].astype(t))
    assert np.any(np.abs(fewer.astype(np.float64) - exact) > bound)
    # at inference the stored kernel: Dense's own bound, gamma_6 (|x| |W| + |b|) + 12 tiny
    inference = S.error_bound(x, weights, fmt, call={"training": False}, **params)
    magnitude = np.abs(x) @ np.abs(weights["dense/kernel"]) + np.abs(weights["dense/bias"])
    np.testing.assert_allclose(inference, rounding.gamma(6, fmt.unit_roundoff) * magnitude + 12 * fmt.smallest_normal, rtol=1e-12)


def _training_calls_in(t, w, u, iterations, calls):
    """(W, u) stored after `calls` training calls evaluated in the type t: each runs the
    iteration from the stored u, stores the new u and W / sigma (every operation rounded)."""
    w, u = w.astype(t), u.astype(t)
    for _ in range(calls):
        m = w.reshape(-1, w.shape[-1])
        for _ in range(iterations):
            v = (u @ m.T).astype(t)
            v = (v / np.sqrt(np.sum(v * v, dtype=t)).astype(t)).astype(t)
            u = (v @ m).astype(t)
            u = (u / np.sqrt(np.sum(u * u, dtype=t)).astype(t)).astype(t)
        sigma = ((v @ m).astype(t) @ u.T).astype(t).item()
        w = (w / t(sigma)).astype(t)
    return w.astype(np.float64), u.astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32])
def test_stored_weight_and_u_bounds_hold_after_several_training_calls(dtype):
    """The state after three training calls (an inference call between, which changes nothing):
    the float64 chain's W and u against the chain evaluated in the format."""
    fmt = rounding.format_of(np.dtype(dtype).name)
    rng = np.random.default_rng(21)
    params = {"layer": {"class_name": "Dense", "config": {"units": 4}}, "power_iterations": 1}
    calls = [{"training": True}, {"training": False}, {"training": True}, {"training": True}]
    ratios = []
    for trial in range(10):
        x = rng.normal(size=(3, 6))
        initial = {k: rng.normal(size=s).astype(dtype).astype(np.float64) for k, s in S.weight_shapes((3, 6), **params).items()}
        weights = dict(initial)
        for call in calls[:-1]:
            weights.update(S.update_state(x, weights, params, call))
        bound = S.error_bound(x, weights, fmt, call=calls[-1], history=(initial, [(x, c) for c in calls]), **params)
        exact = {**weights, **S.update_state(x, weights, params, calls[-1])}
        w, u = _training_calls_in(dtype, initial["dense/kernel"], initial["vector_u"], 1, 3)
        for name, computed in (("dense/kernel", w), ("vector_u", u)):
            error = np.abs(computed - exact[name])
            assert np.all(error <= bound[name]), (trial, name)
            ratios.append(np.max(error / bound[name]))
    assert max(ratios) > 0.01  # not vacuous
    # the bound of u is at most a few hundred units of roundoff on these draws
    assert np.max(bound["vector_u"]) < 400 * fmt.unit_roundoff


def test_stored_state_bounds_catch_planted_faults_and_are_zero_without_training():
    fmt = rounding.format_of("float32")
    rng = np.random.default_rng(22)
    params = {"layer": {"class_name": "Dense", "config": {"units": 4}}, "power_iterations": 2}
    x = rng.normal(size=(3, 6))
    initial = {k: rng.normal(size=s).astype(np.float32).astype(np.float64) for k, s in S.weight_shapes((3, 6), **params).items()}
    bound = S.error_bound(x, initial, fmt, call={"training": True}, history=(initial, [(x, {"training": True})]), **params)
    exact = S.update_state(x, initial, params, {"training": True})
    w, u = _training_calls_in(np.float32, initial["dense/kernel"], initial["vector_u"], 2, 1)
    assert np.all(np.abs(w - exact["dense/kernel"]) <= bound["dense/kernel"])
    assert np.all(np.abs(u - exact["vector_u"]) <= bound["vector_u"])
    # u not updated (the stored one kept), one iteration fewer, a 1e-4 scale error of the kernel
    assert np.any(np.abs(initial["vector_u"] - exact["vector_u"]) > bound["vector_u"])
    fewer_w, fewer_u = _training_calls_in(np.float32, initial["dense/kernel"], initial["vector_u"], 1, 1)
    assert np.any(np.abs(fewer_u - exact["vector_u"]) > bound["vector_u"])
    assert np.any(np.abs(fewer_w - exact["dense/kernel"]) > bound["dense/kernel"])
    assert np.any(np.abs(w * (1 + 1e-4) - exact["dense/kernel"]) > bound["dense/kernel"])
    # inference calls only: the stored values untouched, no error allowed
    held = S.error_bound(x, initial, fmt, call={"training": False}, history=(initial, [(x, {"training": False})] * 2), **params)
    assert np.all(held["dense/kernel"] == 0) and np.all(held["vector_u"] == 0)
