"""reference_impl.merging: hand values, loop formulations, output shapes, argument errors.

The loop formulations compute each output element from the docstring definitions with Python
arithmetic, independently of the module.
"""
import itertools
import math

import numpy as np
import pytest

from reference_impl import merging as M

RTOL = 1e-12


def close(got, want, rtol=RTOL):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-14)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


# --- element-wise ---------------------------------------------------------------------------


def test_elementwise_hand():
    a = np.array([[1.0, -2.0, 3.5]])
    b = np.array([[0.5, 4.0, -1.0]])
    c = np.array([[2.0, 0.0, 1.5]])
    close(M.add([a, b, c], {}), [[3.5, 2.0, 4.0]])  # 1+0.5+2, -2+4+0, 3.5-1+1.5
    close(M.subtract([a, b], {}), [[0.5, -6.0, 4.5]])
    close(M.multiply([a, b, c], {}), [[1.0, 0.0, -5.25]])  # 1*0.5*2, -2*4*0, 3.5*-1*1.5
    close(M.average([a, b, c], {}), [[3.5 / 3, 2.0 / 3, 4.0 / 3]])
    close(M.maximum([a, b, c], {}), [[2.0, 4.0, 3.5]])
    close(M.minimum([a, b, c], {}), [[0.5, -2.0, -1.0]])


@pytest.mark.parametrize("name, op", [
    ("Add", lambda v: math.fsum(v)),
    ("Multiply", lambda v: math.prod(v)),
    ("Average", lambda v: math.fsum(v) / len(v)),
    ("Maximum", max),
    ("Minimum", min),
])
@pytest.mark.parametrize("count", [1, 2, 4])
def test_elementwise_loop(rng, name, op, count):
    xs = [rng.standard_normal((3, 4, 5)) for _ in range(count)]
    got = M.LAYERS[name](xs, {})
    assert got.shape == (3, 4, 5) == M.output_shape(name, [x.shape for x in xs])
    for idx in itertools.product(range(3), range(4), range(5)):
        close(got[idx], op([float(x[idx]) for x in xs]))


def test_maximum_minimum_propagate_nan():
    a, b = np.array([[np.nan, 1.0]]), np.array([[0.0, 2.0]])
    assert np.isnan(M.maximum([a, b], {})[0, 0]) and np.isnan(M.minimum([b, a], {})[0, 0])


def test_subtract_loop(rng):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    got = M.subtract([x, y], {})
    for i, j in itertools.product(range(2), range(3)):
        assert got[i, j] == x[i, j] - y[i, j]


def test_elementwise_errors():
    a = np.ones((2, 3, 4))
    for name in M.ELEMENTWISE:
        with pytest.raises(ValueError, match="same shape"):  # no broadcasting: "all of the same shape"
            M.LAYERS[name]([a, np.ones((2, 1, 4))], {})
        with pytest.raises(ValueError, match="same shape"):
            M.output_shape(name, [(2, 4), (2, 3, 4)])
    with pytest.raises(ValueError, match="exactly 2"):
        M.subtract([a, a, a], {})
    with pytest.raises(ValueError, match="exactly 2"):
        M.subtract([a], {})
    with pytest.raises(ValueError, match="list"):
        M.add(a, {})
    with pytest.raises(ValueError, match="input_shapes"):
        M.output_shape("Add", [])
    assert M.output_shape("Add", [(None, 3), (2, None)]) == (2, 3)
    with pytest.raises(TypeError, match="axis"):
        M.add([a, a], {}, axis=1)
    with pytest.raises(ValueError, match="'kernel'"):
        M.add([a, a], {"kernel": np.ones(1)})


# --- Concatenate ------------------------------------------------------------------------------


def test_concatenate_docstring_example():
    x = np.arange(20.0).reshape(2, 2, 5)
    y = np.arange(20.0, 30.0).reshape(2, 1, 5)
    got = M.concatenate([x, y], {}, axis=1)
    close(got[0], [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [20, 21, 22, 23, 24]])
    close(got[1], [[10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [25, 26, 27, 28, 29]])


@pytest.mark.parametrize("axis", [1, 2, -1, -3, 0])
def test_concatenate_loop(rng, axis):
    sizes = (2, 1, 3)
    shapes = []
    for s in sizes:
        shape = [2, 3, 4]
        shape[axis] = s
        shapes.append(tuple(shape))
    xs = [rng.standard_normal(s) for s in shapes]
    got = M.concatenate(xs, {}, axis=axis)
    assert got.shape == M.output_shape("Concatenate", shapes, axis=axis)
    a = axis % 3
    offsets = np.cumsum((0,) + sizes)
    for k, x in enumerate(xs):
        for idx in itertools.product(*map(range, x.shape)):
            dst = list(idx)
            dst[a] += offsets[k]
            assert got[tuple(dst)] == x[idx]


def test_concatenate_default_axis_and_errors():
    assert M.output_shape("Concatenate", [(5, 8), (5, 8)]) == (5, 16)
    assert M.output_shape("Concatenate", [(None, 3), (4, None)], axis=1) == (4, None)
    with pytest.raises(ValueError, match="matching shapes"):
        M.concatenate([np.ones((2, 3, 4)), np.ones((2, 3, 5))], {}, axis=1)
    with pytest.raises(ValueError, match="matching shapes"):
        M.output_shape("Concatenate", [(2, 3), (2, 3, 1)])
    for bad in (3, -4, 1.0, None):
        with pytest.raises(ValueError, match="axis"):
            M.output_shape("Concatenate", [(2, 3, 4), (2, 3, 4)], axis=bad)


# --- Dot --------------------------------------------------------------------------------------


def test_dot_hand_two_dimensional():
    # batch_dot docstring: x = [[1, 2], [3, 4]], y = [[5, 6], [7, 8]], axes=1 -> [[17], [53]]
    # (1*5 + 2*6 = 17, 3*7 + 4*8 = 53), shaped (batch, 1)
    got = M.dot([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])], {}, axes=1)
    close(got, [[17.0], [53.0]])


def test_dot_hand_normalize_is_cosine():
    # x = [3, 4] (norm 5), y = [4, 3] (norm 5): cosine = (12 + 12) / 25 = 0.96;
    # x = [1, 0], y = [0, 2]: cosine 0; x = [2, 0], y = [-1, 0]: -1
    x = np.array([[3.0, 4.0], [1.0, 0.0], [2.0, 0.0]])
    y = np.array([[4.0, 3.0], [0.0, 2.0], [-1.0, 0.0]])
    close(M.dot([x, y], {}, axes=1, normalize=True), [[0.96], [0.0], [-1.0]])
    close(M.dot([x, y], {}, axes=1), [[24.0], [0.0], [-2.0]])


def test_dot_docstring_shape():
    x, y = np.ones((2, 3, 5)), np.ones((2, 10, 3))
    assert M.dot([x, y], {}, axes=(1, 2)).shape == (2, 5, 10)
    assert M.output_shape("Dot", [(2, 3, 5), (2, 10, 3)], axes=(1, 2)) == (2, 5, 10)
    assert M.output_shape("Dot", [(None, 20), (None, 30, 20)], axes=(1, 2)) == (None, 30)


def dot_loop(x, y, a, b, normalize=False):
    """out[n, i..., j...] = sum_k x[n, .., k at a, ..] y[n, .., k at b, ..], normalized with Python sums."""
    if normalize:
        x = x / np.sqrt(np.sum(x * x, axis=a, keepdims=True))
        y = y / np.sqrt(np.sum(y * y, axis=b, keepdims=True))
    xr = [d for i, d in enumerate(x.shape) if i not in (0, a)]
    yr = [d for i, d in enumerate(y.shape) if i not in (0, b)]
    out = np.empty([x.shape[0]] + xr + yr)
    for n in range(x.shape[0]):
        for i in itertools.product(*map(range, xr)):
            for j in itertools.product(*map(range, yr)):
                total = 0.0
                for k in range(x.shape[a]):
                    xi = list(i)
                    xi.insert(a - 1, k)
                    yj = list(j)
                    yj.insert(b - 1, k)
                    total += x[(n, *xi)] * y[(n, *yj)]
                out[(n, *i, *j)] = total
    return out.reshape(x.shape[0], 1) if out.ndim == 1 else out


@pytest.mark.parametrize("xs, ys, axes, a, b", [
    ((2, 3, 5), (2, 10, 3), (1, 2), 1, 2),
    ((3, 3, 5), (3, 4, 5), -1, 2, 2),
    ((2, 3, 5), (2, 3, 4), 1, 1, 1),
    ((2, 3, 5), (2, 5), (2, 1), 2, 1),
    ((2, 5), (2, 5, 3), [1, 1], 1, 1),
    ((2, 3, 4, 5), (2, 5, 6), (3, 1), 3, 1),
    ((3, 5), (3, 5), 1, 1, 1),
    ((2, 4, 3), (2, 3, 4), (-2, -1), 1, 2),
])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_loop(rng, xs, ys, axes, a, b, normalize):
    x, y = rng.standard_normal(xs), rng.standard_normal(ys)
    got = M.dot([x, y], {}, axes=axes, normalize=normalize)
    want = dot_loop(x, y, a, b, normalize)
    close(got, want, rtol=1e-11)
    assert got.shape == M.output_shape("Dot", [xs, ys], axes=axes, normalize=normalize)


def test_dot_normalize_scale_invariant_and_zero_slice(rng):
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
    base = M.dot([x, y], {}, axes=1, normalize=True)
    # cosines do not depend on the scale of a sample, even a tiny or a huge one
    close(M.dot([x * 1e-200, y * 1e150], {}, axes=1, normalize=True), base)
    assert np.all(np.abs(base) <= 1 + 1e-15)
    # an all-zero slice has no direction: its cosines are 0 (not nan)
    x[0, :, 1] = 0.0
    got = M.dot([x, y], {}, axes=1, normalize=True)
    close(got[0, 1], np.zeros(5))


def test_dot_errors():
    x = np.ones((2, 3))
    for bad in (0, (0, 1), (1, 0), (1, 1, 1), (1,), 1.0, None, (1, 2)):
        with pytest.raises(ValueError, match="axes"):
            M.dot([x, x], {}, axes=bad)
    with pytest.raises(ValueError, match="axes"):  # -2 is the batch axis of a rank-2 input
        M.output_shape("Dot", [(2, 3), (2, 3)], axes=-2)
    with pytest.raises(ValueError, match="sizes of the dot axes"):
        M.dot([np.ones((2, 3)), np.ones((2, 4))], {}, axes=1)
    with pytest.raises(ValueError, match="batch size"):
        M.dot([np.ones((2, 3)), np.ones((3, 3))], {}, axes=1)
    with pytest.raises(ValueError, match="exactly 2"):
        M.dot([x, x, x], {}, axes=1)
    with pytest.raises(ValueError, match="rank >= 2"):
        M.output_shape("Dot", [(2,), (2,)], axes=1)
    with pytest.raises(ValueError, match="normalize"):
        M.dot([x, x], {}, axes=1, normalize="yes")
    with pytest.raises(TypeError, match="axes"):
        M.dot([x, x], {})


def test_contract():
    assert M.weight_shapes("Dot", [(2, 3), (2, 3)], axes=1) == {}
    assert M.weight_shapes("Concatenate", [(2, 3), (2, 3)]) == {}
    with pytest.raises(ValueError, match="axis"):
        M.weight_shapes("Concatenate", [(2, 3), (2, 3)], axis=5)
    assert set(M.LAYERS) == {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"}
    out = M.add([np.ones((2, 2), dtype=np.float32), np.ones((2, 2), dtype=np.int64)], {}, name="a", trainable=False)
    assert out.dtype == np.float64
