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
