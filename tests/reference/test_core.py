"""reference_impl.core: hand values, loop formulations, weight shapes and names, argument errors.

The independent formulations here are Python loops over output elements or einsum strings
spelled differently from the module's, written from the docstring formulas.
"""
import itertools

import numpy as np
import pytest

from reference_impl import core as C

RTOL = 1e-12


def close(got, want, rtol=RTOL):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-14)


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


# --- Dense ------------------------------------------------------------------------------------


def test_dense_hand():
    # x = [[1, 2]], kernel = [[1, -1, 0.5], [3, 0, 2]], bias = [0.5, 1, -10]
    # x @ kernel = [1 + 6, -1 + 0, 0.5 + 4] = [7, -1, 4.5]; + bias = [7.5, 0, -5.5]
    x = np.array([[1.0, 2.0]])
    w = {"kernel": np.array([[1.0, -1.0, 0.5], [3.0, 0.0, 2.0]]), "bias": np.array([0.5, 1.0, -10.0])}
    close(C.dense(x, w, units=3), [[7.5, 0.0, -5.5]])
    # relu: [7.5, 0, 0]
    close(C.dense(x, w, units=3, activation="relu"), [[7.5, 0.0, 0.0]])
    # use_bias=False: [7, -1, 4.5]
    close(C.dense(x, {"kernel": w["kernel"]}, units=3, use_bias=False), [[7.0, -1.0, 4.5]])


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 5), (2, 4, 3, 5), (3, 2, 2, 1, 4)])
def test_dense_loop_on_last_axis(rng, shape):
    units = 3
    x = rng.standard_normal(shape)
    kernel, bias = rng.standard_normal((shape[-1], units)), rng.standard_normal(units)
    got = C.dense(x, {"kernel": kernel, "bias": bias}, units=units, activation="tanh")
    want = np.empty(shape[:-1] + (units,))
    for idx in itertools.product(*map(range, shape[:-1])):
        for u in range(units):
            want[idx + (u,)] = np.tanh(sum(x[idx + (i,)] * kernel[i, u] for i in range(shape[-1])) + bias[u])
    close(got, want)
    assert got.dtype == np.float64
    assert C.output_shape("Dense", shape, units=units) == shape[:-1] + (units,)


def test_dense_lora_scales_delta_by_alpha_over_rank(rng):
    x = rng.standard_normal((4, 5))
    w = {"kernel": rng.standard_normal((5, 3)), "bias": rng.standard_normal(3),
         "lora_kernel_a": rng.standard_normal((5, 2)), "lora_kernel_b": rng.standard_normal((2, 3))}
    delta = np.einsum("ir,ru->iu", w["lora_kernel_a"], w["lora_kernel_b"])
    # lora_alpha = 6, lora_rank = 2 -> scale 3
    close(C.dense(x, w, units=3, lora_rank=2, lora_alpha=6), x @ (w["kernel"] + 3 * delta) + w["bias"])
    # lora_alpha unset -> scale 1
    close(C.dense(x, w, units=3, lora_rank=2), x @ (w["kernel"] + delta) + w["bias"])
    assert C.weight_shapes("Dense", (None, 5), units=3, lora_rank=2) == {
        "kernel": (5, 3), "bias": (3,), "lora_kernel_a": (5, 2), "lora_kernel_b": (2, 3)}


def test_dense_weight_shapes_and_names():
    assert C.weight_shapes("Dense", (None, 4, 7), units=2) == {"kernel": (7, 2), "bias": (2,)}
    assert C.weight_shapes("Dense", (8, 7), units=2, use_bias=False) == {"kernel": (7, 2)}
    assert C.output_shape("Dense", (None, 4, 7), units=2) == (None, 4, 2)


def test_dense_errors_name_the_argument(rng):
    x = rng.standard_normal((2, 3))
    w = {"kernel": np.ones((3, 2)), "bias": np.ones(2)}
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match="units"):
            C.dense(x, w, units=bad)
    with pytest.raises(ValueError, match="activation"):
        C.dense(x, w, units=2, activation="nope")
    with pytest.raises(ValueError, match="use_bias"):
        C.dense(x, w, units=2, use_bias="yes")
    with pytest.raises(ValueError, match="kernel"):
        C.dense(x, {"kernel": np.ones((2, 3)), "bias": np.ones(2)}, units=2)
    with pytest.raises(ValueError, match="bias"):
        C.dense(x, {"kernel": np.ones((3, 2))}, units=2)
    with pytest.raises(ValueError, match="'bias'"):
        C.dense(x, w, units=2, use_bias=False)
    with pytest.raises(ValueError, match="input_shape"):
        C.dense(np.ones(3), {"kernel": np.ones((3, 2)), "bias": np.ones(2)}, units=2)
    with pytest.raises(ValueError, match="lora_rank"):
        C.weight_shapes("Dense", (2, 3), units=2, lora_rank=0)
    with pytest.raises(ValueError, match="lora_alpha"):
        C.weight_shapes("Dense", (2, 3), units=2, lora_rank=1, lora_alpha="big")


def test_ignored_and_unknown_arguments(rng):
    x = rng.standard_normal((2, 3))
    w = {"kernel": rng.standard_normal((3, 2)), "bias": rng.standard_normal(2)}
    plain = C.dense(x, w, units=2)
    same = C.dense(x, w, units=2, kernel_initializer="ones", bias_initializer="zeros", kernel_regularizer="l2",
                   bias_regularizer=None, activity_regularizer="l1", kernel_constraint="non_neg",
                   bias_constraint=None, name="d", trainable=False)
    close(same, plain)
    with pytest.raises(TypeError, match="unit"):
        C.dense(x, w, unit=2)
    with pytest.raises(TypeError, match="units"):
        C.dense(x, w)
    with pytest.raises(ValueError, match="layer_name"):
        C.weight_shapes("Dence", (2, 3), units=2)


# --- EinsumDense --------------------------------------------------------------------------------


def test_einsum_dense_docstring_dense_equivalent_hand():
    # "ab,bc->ac" with bias "c" is Dense: x = [[1, 2, 3]], kernel columns [1, 0, 1] and [0, 1, -1]
    # -> [1 + 3, 2 - 3] = [4, -1]; + bias [0.5, 0.25] = [4.5, -0.75]
    x = np.array([[1.0, 2.0, 3.0]])
    w = {"kernel": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]), "bias": np.array([0.5, 0.25])}
    close(C.einsum_dense(x, w, equation="ab,bc->ac", output_shape=2, bias_axes="c"), [[4.5, -0.75]])


def test_einsum_dense_docstring_shapes():
    # the three docstring examples
    assert C.output_shape("EinsumDense", (None, 32), equation="ab,bc->ac", output_shape=64, bias_axes="c") == (None, 64)
    assert C.weight_shapes("EinsumDense", (None, 32), equation="ab,bc->ac", output_shape=64, bias_axes="c") == {
        "kernel": (32, 64), "bias": (64,)}
    assert C.output_shape("EinsumDense", (None, 32, 128), equation="abc,cd->abd", output_shape=(None, 64),
                          bias_axes="d") == (None, 32, 64)
    assert C.output_shape("EinsumDense", (None, 32, 128), equation="...x,xy->...y", output_shape=64,
                          bias_axes="y") == (None, 32, 64)
    assert C.weight_shapes("EinsumDense", (None, 32, 128), equation="...x,xy->...y", output_shape=64,
                           bias_axes="y") == {"kernel": (128, 64), "bias": (64,)}


def test_einsum_dense_bias_layout_spans_first_bias_dim_to_the_end():
    def ws(*args, **kwargs):
        return C.weight_shapes(*args, equation="abc,cde->abde", **kwargs)

    # output abde = (2, 3, 4, 5): bias over b and e -> dims b..e with 1 at d
    assert ws("EinsumDense", (2, 3, 2), output_shape=(3, 4, 5), bias_axes="be")["bias"] == (3, 1, 5)
    assert ws("EinsumDense", (2, 3, 2), output_shape=(None, 4, 5), bias_axes="eb")["bias"] == (3, 1, 5)
    assert ws("EinsumDense", (2, 3, 2), output_shape=(3, 4, 5), bias_axes="d")["bias"] == (4, 1)
    # trailing ellipsis dims count: output a c ... = (2, 7, 4, 5)
    assert C.weight_shapes("EinsumDense", (2, 3, 4, 5), equation="ab...,bc->ac...", output_shape=7,
                           bias_axes="c")["bias"] == (7, 1, 1)


def test_einsum_dense_loops_with_bias_over_two_axes(rng):
    # abc,cde->abde: y[a,b,d,e] = sum_c x[a,b,c] k[c,d,e] + bias[b, 0, e]
    x = rng.standard_normal((2, 3, 4))
    k = rng.standard_normal((4, 5, 6))
    bias = rng.standard_normal((3, 1, 6))
    got = C.einsum_dense(x, {"kernel": k, "bias": bias}, equation="abc,cde->abde", output_shape=(3, 5, 6),
                         bias_axes="be", activation="relu")
    want = np.zeros((2, 3, 5, 6))
    for a, b, d, e in itertools.product(range(2), range(3), range(5), range(6)):
        want[a, b, d, e] = max(sum(x[a, b, c] * k[c, d, e] for c in range(4)) + bias[b, 0, e], 0.0)
    close(got, want)


@pytest.mark.parametrize("equation, output_shape, x_shape, spelled", [
    ("...ab,bc->...ac", (5, 4), (2, 3, 5, 6), "pqab,bc->pqac"),
    ("ab...,bc->ac...", 7, (2, 3, 4, 5), "abpq,bc->acpq"),
    ("abc,cbd->ad", 7, (3, 2, 5), "abc,cbd->ad"),
    ("abc,dc->abd", (None, 7), (2, 3, 4), "abc,dc->abd"),
    ("abc,cd->ad", 4, (2, 3, 5), "abc,cd->ad"),  # b is summed over
])
def test_einsum_dense_ellipsis_and_transposed_kernels_against_explicit_einsum(
    rng, equation, output_shape, x_shape, spelled
):
    shapes = C.weight_shapes("EinsumDense", x_shape, equation=equation, output_shape=output_shape)
    k = rng.standard_normal(shapes["kernel"])
    x = rng.standard_normal(x_shape)
    got = C.einsum_dense(x, {"kernel": k}, equation=equation, output_shape=output_shape)
    want = np.einsum(spelled, x, k)  # the ellipsis written out as explicit letters p, q
    close(got, want)
    assert got.shape == C.output_shape("EinsumDense", x_shape, equation=equation, output_shape=output_shape)


def test_einsum_dense_lora_factorizes_last_kernel_dim(rng):
    x = rng.standard_normal((2, 3, 2))
    shapes = C.weight_shapes("EinsumDense", x.shape, equation="abc,cde->abde", output_shape=(3, 4, 5),
                             bias_axes="e", lora_rank=2)
    assert shapes == {"kernel": (2, 4, 5), "bias": (5,), "lora_kernel_a": (2, 4, 2), "lora_kernel_b": (2, 5)}
    w = {n: rng.standard_normal(s) for n, s in shapes.items()}
    got = C.einsum_dense(x, w, equation="abc,cde->abde", output_shape=(3, 4, 5), bias_axes="e", lora_rank=2,
                         lora_alpha=1)
    # scale 1/2: kernel[c, d, e] + 0.5 * sum_r a[c, d, r] b[r, e]
    k = w["kernel"] + 0.5 * np.einsum("cdr,re->cde", w["lora_kernel_a"], w["lora_kernel_b"])
    close(got, np.einsum("abc,cde->abde", x, k) + w["bias"])


def test_einsum_dense_errors_name_the_argument():
    ws = C.weight_shapes
    with pytest.raises(ValueError, match="equation"):
        ws("EinsumDense", (2, 3), equation="a...b,bc->a...c", output_shape=4)
    with pytest.raises(ValueError, match="equation"):
        ws("EinsumDense", (2, 3), equation="ab,bc", output_shape=4)
    with pytest.raises(ValueError, match="equation"):
        ws("EinsumDense", (2, 2, 3), equation="aab,bc->ac", output_shape=4)
    with pytest.raises(ValueError, match="output_shape"):  # b is 32 in the input
        ws("EinsumDense", (2, 32, 128), equation="abc,cd->abd", output_shape=(5, 64))
    with pytest.raises(ValueError, match="output_shape"):  # one entry too many
        ws("EinsumDense", (2, 32, 128), equation="abc,cd->abd", output_shape=(32, 64, 3))
    with pytest.raises(ValueError, match="output_shape"):
        ws("EinsumDense", (2, 3), equation="ab,bc->ac", output_shape=None)
    with pytest.raises(ValueError, match="output_shape"):
        ws("EinsumDense", (2, 3), equation="ab,bc->ac", output_shape=-1)
    with pytest.raises(ValueError, match="bias_axes"):
        ws("EinsumDense", (2, 3), equation="ab,bc->ac", output_shape=4, bias_axes="z")
    with pytest.raises(ValueError, match="bias_axes"):
        ws("EinsumDense", (2, 3), equation="ab,bc->ac", output_shape=4, bias_axes="")
    with pytest.raises(ValueError, match="kernel dimension 'd'"):
        ws("EinsumDense", (2, 3), equation="ab,bcd->ac", output_shape=4)
    with pytest.raises(ValueError, match="kernel dimension 'c'"):
        ws("EinsumDense", (2, 3), equation="ab,bc->ac", output_shape=(None,))
    with pytest.raises(ValueError, match="input_shape"):
        ws("EinsumDense", (2, 3, 4), equation="ab,bc->ac", output_shape=4)


def test_einsum_dense_none_output_dim_is_inferred_for_the_bias():
    # "You can specify None for any dimension that is unknown or can be inferred from the input shape."
    assert C.weight_shapes("EinsumDense", (2, 32, 128), equation="abc,cd->abd", output_shape=(None, 64),
                           bias_axes="b") == {"kernel": (128, 64), "bias": (32, 1)}
    with pytest.raises(ValueError, match="bias"):
        C.weight_shapes("EinsumDense", (2, None, 128), equation="abc,cd->abd", output_shape=(None, 64), bias_axes="b")


# --- Embedding --------------------------------------------------------------------------------


def test_embedding_hand_and_mask():
    # embeddings row i = [i, 10 i + 0.5]; ids [[2, 0], [1, 2]]
    table = np.array([[0.0, 0.5], [1.0, 10.5], [2.0, 20.5]])
    ids = np.array([[2, 0], [1, 2]])
    got = C.embedding(ids, {"embeddings": table}, input_dim=3, output_dim=2, mask_zero=True)
    close(got, [[[2.0, 20.5], [0.0, 0.5]], [[1.0, 10.5], [2.0, 20.5]]])  # the mask does not change values
    np.testing.assert_array_equal(C.embedding_mask(ids, True), [[True, False], [True, True]])
    assert C.embedding_mask(ids, False) is None
    assert C.embedding_mask(ids, True).dtype == bool


def test_embedding_loop_and_float_ids(rng):
    table = rng.standard_normal((7, 4))
    ids = rng.integers(0, 7, size=(3, 5))
    got = C.embedding(ids.astype(np.float64), {"embeddings": table}, input_dim=7, output_dim=4)
    for b, t in itertools.product(range(3), range(5)):
        close(got[b, t], table[ids[b, t]])
    assert got.shape == C.output_shape("Embedding", (3, 5), input_dim=7, output_dim=4) == (3, 5, 4)


def test_embedding_any_rank_of_ids(rng):
    # the docstring's "2D tensor" input is the usual case; the lookup is the same for 1-D and 3-D ids
    table = rng.standard_normal((5, 3))
    close(C.embedding(np.array([4, 0, 2]), {"embeddings": table}, input_dim=5, output_dim=3),
          [table[4], table[0], table[2]])
    ids = rng.integers(0, 5, size=(2, 3, 4))
    got = C.embedding(ids, {"embeddings": table}, input_dim=5, output_dim=3)
    assert got.shape == C.output_shape("Embedding", (2, 3, 4), input_dim=5, output_dim=3) == (2, 3, 4, 3)
    close(got[1, 2, 3], table[ids[1, 2, 3]])
    assert C.output_shape("Embedding", (6,), input_dim=5, output_dim=3) == (6, 3)


def test_embedding_lora(rng):
    shapes = C.weight_shapes("Embedding", (None, 3), input_dim=6, output_dim=4, lora_rank=2)
    assert shapes == {"embeddings": (6, 4), "lora_embeddings_a": (6, 2), "lora_embeddings_b": (2, 4)}
    w = {n: rng.standard_normal(s) for n, s in shapes.items()}
    ids = np.array([[5, 0, 3], [1, 1, 2]])
    got = C.embedding(ids, w, input_dim=6, output_dim=4, lora_rank=2, lora_alpha=4)
    table = w["embeddings"] + 2.0 * w["lora_embeddings_a"] @ w["lora_embeddings_b"]
    close(got, table[ids])


def test_embedding_errors_name_the_argument():
    table = {"embeddings": np.ones((3, 2))}
    with pytest.raises(ValueError, match="inputs"):
        C.embedding(np.array([[0, 3]]), table, input_dim=3, output_dim=2)
    with pytest.raises(ValueError, match="inputs"):
        C.embedding(np.array([[0, -1]]), table, input_dim=3, output_dim=2)
    with pytest.raises(ValueError, match="inputs"):
        C.embedding(np.array([[0.0, 1.5]]), table, input_dim=3, output_dim=2)
    with pytest.raises(ValueError, match="input_shape"):
        C.embedding(np.array(1), table, input_dim=3, output_dim=2)  # a scalar has no lookup axis
    with pytest.raises(ValueError, match="input_dim"):
        C.weight_shapes("Embedding", (2, 3), input_dim=0, output_dim=2)
    with pytest.raises(ValueError, match="output_dim"):
        C.weight_shapes("Embedding", (2, 3), input_dim=3, output_dim=1.5)
    with pytest.raises(ValueError, match="mask_zero"):
        C.weight_shapes("Embedding", (2, 3), input_dim=3, output_dim=2, mask_zero=1)
    with pytest.raises(ValueError, match="mask_zero"):
        C.embedding_mask(np.array([[0]]), "yes")
    with pytest.raises(ValueError, match="embeddings"):
        C.embedding(np.array([[0, 1]]), {"embeddings": np.ones((2, 3))}, input_dim=3, output_dim=2)
    # `weights` (initial embeddings) is accepted and ignored
    close(C.embedding(np.array([[1]]), table, input_dim=3, output_dim=2, weights=np.zeros((3, 2))), [[[1.0, 1.0]]])


# --- Identity ---------------------------------------------------------------------------------


def test_identity(rng):
    x = rng.standard_normal((2, 3))
    got = C.identity(x, {})
    close(got, x)
    assert got.dtype == np.float64
    a, b = C.identity([x, np.arange(2)], {}, name="id")
    close(a, x)
    close(b, [0.0, 1.0])
    assert C.weight_shapes("Identity", (2, 3)) == {}
    assert C.output_shape("Identity", (2, 3)) == (2, 3)
    with pytest.raises(TypeError, match="axis"):
        C.identity(x, {}, axis=1)
    with pytest.raises(ValueError, match="'kernel'"):
        C.identity(x, {"kernel": np.ones(1)})


def test_layers_table():
    assert C.LAYERS == {"Dense": C.dense, "EinsumDense": C.einsum_dense, "Embedding": C.embedding,
                        "Identity": C.identity}
