"""reference_impl.spectral_normalization: one power iteration by hand, convergence to the largest
singular value (numpy's SVD, an independent formulation), and the wrapped layers."""
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
