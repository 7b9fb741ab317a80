"""reference_impl.core_more: Masking, ActivityRegularization and Lambda against hand calculations
with concrete numbers."""
import numpy as np
import pytest

from reference_impl import core_more as M


def test_masking_by_hand():
    x = np.array([[[1.5, 1.5], [1.5, 0.0], [2.0, -1.0]],
                  [[1.5, 1.5], [0.25, 1.5], [1.5, 1.5]]])
    np.testing.assert_array_equal(M.masking_mask(x, 1.5), [[False, True, True], [False, True, False]])
    expected = np.array([[[0.0, 0.0], [1.5, 0.0], [2.0, -1.0]],
                         [[0.0, 0.0], [0.25, 1.5], [0.0, 0.0]]])
    np.testing.assert_array_equal(M.masking(x, mask_value=1.5), expected)


def test_masking_rank4_masks_whole_timesteps():
    x = np.zeros((1, 2, 2, 2))
    x[0, 0, 1, 0] = 3.0  # one nonzero value keeps the whole of timestep 0
    np.testing.assert_array_equal(M.masking_mask(x), [[True, False]])
    np.testing.assert_array_equal(M.masking(x), x)


def test_activity_regularization_by_hand():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_array_equal(M.activity_regularization(x, l1=0.1, l2=0.2), x)
    # (0.1 * (1 + 2 + 0.5 + 3) + 0.2 * (1 + 4 + 0.25 + 9)) / 2 = (0.65 + 2.85) / 2
    assert M.activity_penalty(x, 0.1, 0.2) == pytest.approx(1.75, rel=1e-15)
    assert M.activity_penalty(x) == 0.0


def test_lambda_by_hand():
    x = np.array([[-1.5, 2.0, 0.25]])
    np.testing.assert_array_equal(M.lambda_layer(x, function="square"), [[2.25, 4.0, 0.0625]])
    np.testing.assert_array_equal(M.lambda_layer(x, function="affine", arguments={"scale": -2.0, "shift": 0.5}),
                                  [[3.5, -3.5, 0.0]])
    np.testing.assert_array_equal(M.lambda_layer(x, function="abs"), [[1.5, 2.0, 0.25]])
    with pytest.raises(ValueError):
        M.lambda_layer(x, function="cube")


def test_shapes_and_errors():
    assert M.output_shape("Masking", (2, 5, 3)) == (2, 5, 3)
    assert M.weight_shapes("Lambda", (2, 5), function="square") == {}
    with pytest.raises(TypeError):
        M.weight_shapes("ActivityRegularization", (2, 3), l3=0.1)


def test_reversible_embedding_by_hand():
    e = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 3.0]])  # input_dim 3, output_dim 2
    params = {"input_dim": 3, "output_dim": 2}
    np.testing.assert_array_equal(M.reversible_embedding(np.array([[2, 0]]), {"embeddings": e}, **params), [[[2.0, 3.0], [1.0, 0.0]]])
    h = np.array([[1.0, 2.0]])
    # x @ E^T: [1, 0.5 - 2, 2 + 6]
    np.testing.assert_allclose(M.reversible_embedding(h, {"embeddings": e}, reverse=True, **params), [[1.0, -1.5, 8.0]], rtol=1e-15)
    r = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    np.testing.assert_allclose(M.reversible_embedding(h, {"embeddings": e, "reverse_embeddings": r}, reverse=True,
                                                      tie_weights=False, **params), [[1.0, 0.0, 4.0]], rtol=1e-15)
    capped = M.reversible_embedding(h, {"embeddings": e}, reverse=True, logit_soft_cap=2.0, **params)
    np.testing.assert_allclose(capped, [[2 * np.tanh(0.5), 2 * np.tanh(-0.75), 2 * np.tanh(4.0)]], rtol=1e-15)
    assert M.weight_shapes("ReversibleEmbedding", (2, 5), tie_weights=False, **params) == {"embeddings": (3, 2), "reverse_embeddings": (2, 3)}


# --- error bounds ----------------------------------------------------------------------------------

from reference_impl import rounding  # noqa: E402


def _reverse_in(t, x, table, cap=None, reverse_order=False):
    """x @ table^T accumulated in the type t one term at a time (increasing or decreasing), then
    the soft cap in t."""
    x, table = x.astype(t), table.astype(t)
    out = np.zeros(x.shape[:-1] + (table.shape[0],), dtype=t)
    terms = range(x.shape[-1] - 1, -1, -1) if reverse_order else range(x.shape[-1])
    for i in terms:
        out = (out + (x[..., i:i + 1] * table[:, i]).astype(t)).astype(t)
    if cap is not None:
        out = (np.tanh((out / t(cap)).astype(t)).astype(t) * t(cap)).astype(t)
    return out.astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("cap", [None, 1.5])
def test_reversible_embedding_bound_holds_for_evaluations_in_the_format(dtype, cap):
    fmt = rounding.format_of(np.dtype(dtype).name)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 5, 16)).astype(dtype).astype(np.float64)
    table = rng.normal(size=(7, 16)).astype(dtype).astype(np.float64)
    params = {"input_dim": 7, "output_dim": 16, "logit_soft_cap": cap}
    exact = M.reversible_embedding(x, {"embeddings": table}, reverse=True, **params)
    bound = M.reversible_embedding_error_bound(x, {"embeddings": table}, fmt, reverse=True, **params)
    for order in (False, True):
        assert np.all(np.abs(_reverse_in(dtype, x, table, cap, order) - exact) <= bound)
    if dtype == np.float32 and cap is None:
        # a 1e-3 scale error, and a float16 accumulation in a float32 layer, are caught
        assert np.any(np.abs(_reverse_in(dtype, x, table) * (1 + 1e-3) - exact) > bound)
        assert np.any(np.abs(_reverse_in(np.float16, x, table) - exact) > bound)
        # by hand: gamma_16 sum |x_i w_i| + 32 tiny
        magnitude = np.abs(x) @ np.abs(table).T
        np.testing.assert_allclose(bound, rounding.gamma(16, fmt.unit_roundoff) * magnitude + 32 * fmt.smallest_normal, rtol=1e-12)
    # the lookup selects rows: exact
    ids = np.array([[0, 3, 6]])
    assert np.all(M.reversible_embedding_error_bound(ids, {"embeddings": table}, fmt, **params) == 0)
