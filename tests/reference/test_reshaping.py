"""reference_impl.reshaping: docstring examples, hand values, loop formulations, shapes, argument errors.

The loop formulations index every output element from the definitions, independently of the
module's helpers.
"""
import itertools

import numpy as np
import pytest

from reference_impl import reshaping as R

RTOL = 1e-12


def close(got, want, rtol=RTOL):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-14)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def cf(x):
    """channels_last -> channels_first."""
    return np.moveaxis(x, -1, 1)


# --- Flatten --------------------------------------------------------------------------------


def test_flatten_channels_last_and_batch_only():
    x = np.arange(24.0).reshape(2, 3, 4)
    close(R.flatten(x, {}), x.reshape(2, 12))
    # "(batch,) ... output shape is (batch, 1)"
    close(R.flatten(np.array([1.5, -2.0, 3.0]), {}), [[1.5], [-2.0], [3.0]])
    assert R.output_shape("Flatten", (None, 10, 64)) == (None, 640)
    assert R.output_shape("Flatten", (5,)) == (5, 1)
    assert R.output_shape("Flatten", (5, None, 3)) == (5, None)


def test_flatten_channels_first_hand():
    # x[0] channels_first (C=2, H=1, W=3): c0 = [1, 2, 3], c1 = [10, 20, 30]
    # channels_last order (h, w, c): (0,0,0)=1 (0,0,1)=10 (0,1,0)=2 (0,1,1)=20 (0,2,0)=3 (0,2,1)=30
    x = np.array([[[[1.0, 2.0, 3.0]], [[10.0, 20.0, 30.0]]]])
    close(R.flatten(x, {}, data_format="channels_first"), [[1, 10, 2, 20, 3, 30]])
    close(R.flatten(x, {}, data_format="channels_last"), [[1, 2, 3, 10, 20, 30]])


def test_flatten_channels_first_loop(rng):
    x = rng.standard_normal((3, 4, 5, 2))  # (batch, C, H, W)
    got = R.flatten(x, {}, data_format="channels_first")
    b_, c_, h_, w_ = x.shape
    for b, c, h, w in itertools.product(range(b_), range(c_), range(h_), range(w_)):
        assert got[b, (h * w_ + w) * c_ + c] == x[b, c, h, w]
    # the same as flattening the channels_last array
    close(got, R.flatten(np.moveaxis(x, 1, -1), {}))


# --- Reshape / Permute / RepeatVector -------------------------------------------------------


def test_reshape_docstring_and_minus_one(rng):
    x = rng.standard_normal((2, 12))
    close(R.reshape(x, {}, target_shape=(3, 4)), x.reshape(2, 3, 4))
    y = R.reshape(x, {}, target_shape=(-1, 2, 2))  # 12 / (2 * 2) = 3
    assert y.shape == (2, 3, 2, 2)
    assert y[1, 2, 1, 0] == x[1, 2 * 4 + 1 * 2 + 0]  # row-major
    assert R.output_shape("Reshape", (None, 12), target_shape=(3, 4)) == (None, 3, 4)
    assert R.output_shape("Reshape", (None, 12), target_shape=[-1, 2, 2]) == (None, 3, 2, 2)
    assert R.output_shape("Reshape", (None, None, 4), target_shape=(-1, 2)) == (None, None, 2)


def test_reshape_errors():
    for target in [(5,), (-1, 5), (0, -1), (0, 12)]:
        with pytest.raises(ValueError, match="target_shape"):
            R.output_shape("Reshape", (2, 12), target_shape=target)
    for target in [(-1, -1), (-2, -6), 12, (2.0, 6), None]:
        with pytest.raises(ValueError, match="target_shape"):
            R.output_shape("Reshape", (2, 12), target_shape=target)
    with pytest.raises(ValueError, match="target_shape"):
        R.reshape(np.ones((2, 12)), {}, target_shape=(5,))
    with pytest.raises(TypeError, match="target_shape"):
        R.reshape(np.ones((2, 12)), {})


def test_permute_loop(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    got = R.permute(x, {}, dims=(3, 1, 2))  # output dim i+1 = input dim dims[i]
    assert got.shape == (2, 5, 3, 4)
    for b, i, j, k in itertools.product(range(2), range(3), range(4), range(5)):
        assert got[b, k, i, j] == x[b, i, j, k]
    assert R.output_shape("Permute", (None, 10, 64), dims=(2, 1)) == (None, 64, 10)


@pytest.mark.parametrize("dims", [(1, 0), (1, 1), (1,), (1, 2, 3), 1, None, (1.0, 2.0)])
def test_permute_errors(dims):
    with pytest.raises(ValueError, match="dims"):
        R.output_shape("Permute", (2, 3, 4), dims=dims)


def test_repeat_vector(rng):
    x = rng.standard_normal((2, 5))
    got = R.repeat_vector(x, {}, n=3)
    assert got.shape == (2, 3, 5) == R.output_shape("RepeatVector", (2, 5), n=3)
    for b, i, f in itertools.product(range(2), range(3), range(5)):
        assert got[b, i, f] == x[b, f]
    for n in (0, -1, 2.0, None):
        with pytest.raises(ValueError, match="n"):
            R.repeat_vector(x, {}, n=n)
    with pytest.raises(ValueError, match="input_shape"):
        R.repeat_vector(np.ones((2, 3, 4)), {}, n=2)


# --- Cropping -------------------------------------------------------------------------------


def test_cropping1d_docstring():
    x = np.arange(12.0).reshape(2, 3, 2)
    close(R.cropping1d(x, {}, cropping=1), [[[2, 3]], [[8, 9]]])
    # default (1, 1); (2, 0) keeps the last step
    close(R.cropping1d(x, {}), [[[2, 3]], [[8, 9]]])
    close(R.cropping1d(x, {}, cropping=(2, 0)), [[[4, 5]], [[10, 11]]])


def test_cropping_docstring_shapes():
    assert R.output_shape("Cropping2D", (2, 28, 28, 3), cropping=((2, 2), (4, 4))) == (2, 24, 20, 3)
    assert R.output_shape("Cropping3D", (2, 28, 28, 10, 3), cropping=(2, 4, 2)) == (2, 24, 20, 6, 3)
    assert R.output_shape("Cropping2D", (2, 3, 28, None), cropping=1, data_format="channels_first") == (2, 3, 26, None)


def crop_loop(x, pairs):
    """channels_last crop by explicit index arithmetic: y[b, i..., c] = x[b, i + before..., c]."""
    spatial = [n - b - a for n, (b, a) in zip(x.shape[1:-1], pairs)]
    y = np.empty((x.shape[0], *spatial, x.shape[-1]))
    for idx in itertools.product(*map(range, y.shape)):
        src = (idx[0],) + tuple(i + b for i, (b, _) in zip(idx[1:-1], pairs)) + (idx[-1],)
        y[idx] = x[src]
    return y


@pytest.mark.parametrize("rank, cropping, pairs", [
    (1, (2, 1), ((2, 1),)),
    (2, ((1, 2), (0, 1)), ((1, 2), (0, 1))),
    (2, (1, 2), ((1, 1), (2, 2))),
    (2, 1, ((1, 1), (1, 1))),
    (3, ((1, 0), (0, 2), (1, 1)), ((1, 0), (0, 2), (1, 1))),
    (3, (0, 1, 2), ((0, 0), (1, 1), (2, 2))),
])
def test_cropping_loop_both_data_formats(rng, rank, cropping, pairs):
    x = rng.standard_normal((2,) + (5, 6, 7)[:rank] + (3,))
    f = {1: R.cropping1d, 2: R.cropping2d, 3: R.cropping3d}[rank]
    want = crop_loop(x, pairs)
    close(f(x, {}, cropping=cropping), want)
    if rank > 1:
        close(f(cf(x), {}, cropping=cropping, data_format="channels_first"), cf(want))
        shape = R.output_shape(f"Cropping{rank}D", cf(x).shape, cropping=cropping, data_format="channels_first")
        assert shape == cf(want).shape


def test_cropping_errors():
    # "must be smaller than the input length": 2 + 2 from 4 leaves nothing
    with pytest.raises(ValueError, match="cropping"):
        R.cropping1d(np.ones((2, 4, 3)), {}, cropping=(2, 2))
    with pytest.raises(ValueError, match="cropping"):
        R.output_shape("Cropping2D", (2, 4, 4, 3), cropping=((2, 2), (0, 1)))
    with pytest.raises(ValueError, match="cropping"):
        R.output_shape("Cropping3D", (2, 3, 4, 5, 2), cropping=((1, 0), (0, 1), (3, 2)))
    for bad in [(-1, 2), {"a": 1}, (1, 2, 3), 1.0, ((1, 1),)]:
        with pytest.raises(ValueError, match="cropping"):
            R.output_shape("Cropping1D", (2, 6, 3), cropping=bad)
    for bad in [(1, 2, 3), ((1, 2), 3), ((1, 2, 3), (1, 1)), ((1, -1), (0, 0))]:
        with pytest.raises(ValueError, match="cropping"):
            R.output_shape("Cropping2D", (2, 6, 6, 3), cropping=bad)
    with pytest.raises(ValueError, match="data_format"):
        R.output_shape("Cropping2D", (2, 6, 6, 3), data_format="NHWC")
    with pytest.raises(TypeError, match="data_format"):  # Cropping1D has no data_format
        R.output_shape("Cropping1D", (2, 6, 3), data_format="channels_last")
    with pytest.raises(ValueError, match="input_shape"):
        R.cropping2d(np.ones((2, 6, 3)), {})


# --- ZeroPadding ----------------------------------------------------------------------------


def test_zero_padding_docstring_examples():
    x = np.arange(12.0).reshape(2, 2, 3)
    y = R.zero_padding1d(x, {}, padding=2)
    assert y.shape == (2, 6, 3)
    close(y[0], [[0, 0, 0], [0, 0, 0], [0, 1, 2], [3, 4, 5], [0, 0, 0], [0, 0, 0]])
    x = np.arange(4.0).reshape(1, 1, 2, 2)  # (batch, H=1, W=2, C=2)
    y = R.zero_padding2d(x, {}, padding=1)
    close(y[0, :, :, 0], [[0, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]])
    close(y[0, :, :, 1], [[0, 0, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]])
    assert R.output_shape("ZeroPadding3D", (1, 1, 2, 2, 3), padding=2) == (1, 5, 6, 6, 3)


def pad_loop(x, pairs):
    spatial = [b + n + a for n, (b, a) in zip(x.shape[1:-1], pairs)]
    y = np.zeros((x.shape[0], *spatial, x.shape[-1]))
    for idx in itertools.product(*map(range, x.shape)):
        dst = (idx[0],) + tuple(i + b for i, (b, _) in zip(idx[1:-1], pairs)) + (idx[-1],)
        y[dst] = x[idx]
    return y


@pytest.mark.parametrize("rank, padding, pairs", [
    (1, 3, ((3, 3),)),
    (1, (0, 2), ((0, 2),)),
    (2, ((1, 2), (0, 3)), ((1, 2), (0, 3))),
    (2, (2, 1), ((2, 2), (1, 1))),
    (3, (1, 2, 0), ((1, 1), (2, 2), (0, 0))),
    (3, ((0, 1), (2, 0), (1, 1)), ((0, 1), (2, 0), (1, 1))),
])
def test_zero_padding_loop_both_data_formats(rng, rank, padding, pairs):
    x = rng.standard_normal((2,) + (3, 4, 5)[:rank] + (2,))
    f = {1: R.zero_padding1d, 2: R.zero_padding2d, 3: R.zero_padding3d}[rank]
    want = pad_loop(x, pairs)
    close(f(x, {}, padding=padding), want)
    close(f(cf(x), {}, padding=padding, data_format="channels_first"), cf(want))
    assert R.output_shape(f"ZeroPadding{rank}D", x.shape, padding=padding) == want.shape


def test_zero_padding_defaults_and_errors():
    x = np.ones((1, 2, 2, 1))
    assert R.zero_padding2d(x, {}).shape == (1, 4, 4, 1)  # default (1, 1)
    assert R.output_shape("ZeroPadding3D", (1, 2, 2, 2, 1)) == (1, 4, 4, 4, 1)
    for bad in [-1, (1, -1), ((1, 2), (0, -3)), (1, 2, 3), 0.5]:
        with pytest.raises(ValueError, match="padding"):
            R.output_shape("ZeroPadding2D", (2, 3, 4, 2), padding=bad)
    with pytest.raises(ValueError, match="padding"):
        R.output_shape("ZeroPadding1D", (2, 3, 4), padding={"left": 1})


# --- UpSampling -----------------------------------------------------------------------------


def test_up_sampling1d_docstring():
    x = np.arange(12.0).reshape(2, 2, 3)
    y = R.up_sampling1d(x, {}, size=2)
    close(y[0], [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]])
    close(y[1], [[6, 7, 8], [6, 7, 8], [9, 10, 11], [9, 10, 11]])
    for bad in (0, (2,), 1.5):
        with pytest.raises(ValueError, match="size"):
            R.up_sampling1d(x, {}, size=bad)


def test_up_sampling2d_docstring_nearest():
    x = np.arange(12.0).reshape(2, 2, 1, 3)
    y = R.up_sampling2d(x, {}, size=(1, 2))
    close(y[0], [[[0, 1, 2], [0, 1, 2]], [[3, 4, 5], [3, 4, 5]]])
    close(y[1], [[[6, 7, 8], [6, 7, 8]], [[9, 10, 11], [9, 10, 11]]])


@pytest.mark.parametrize("rank, size", [(1, 3), (2, (2, 3)), (2, 2), (3, (2, 1, 3)), (3, 2)])
def test_up_sampling_nearest_loop(rng, rank, size):
    x = rng.standard_normal((2,) + (3, 4, 5)[:rank] + (2,))
    f = {1: R.up_sampling1d, 2: R.up_sampling2d, 3: R.up_sampling3d}[rank]
    s = (size,) * rank if isinstance(size, int) else size
    got = f(x, {}, size=size)
    assert got.shape == (2,) + tuple(n * k for n, k in zip(x.shape[1:-1], s)) + (2,)
    for idx in itertools.product(*map(range, got.shape)):
        src = (idx[0],) + tuple(i // k for i, k in zip(idx[1:-1], s)) + (idx[-1],)
        assert got[idx] == x[src]
    if rank > 1:
        close(f(cf(x), {}, size=size, data_format="channels_first"), cf(got))


def test_up_sampling2d_bilinear_hand():
    # row [0, 1, 4, 9], size 2: output j samples c = (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, ..., 3.25,
    # clamped to [0, 3]: 0 -> 0; 0.25 -> 0.25; 0.75 -> 0.75; 1.25 -> 1 + 0.25 * 3 = 1.75;
    # 1.75 -> 1 + 0.75 * 3 = 3.25; 2.25 -> 4 + 0.25 * 5 = 5.25; 2.75 -> 4 + 0.75 * 5 = 7.75; 3 -> 9
    x = np.array([0.0, 1.0, 4.0, 9.0]).reshape(1, 1, 4, 1)
    y = R.up_sampling2d(x, {}, size=(1, 2), interpolation="bilinear")
    close(y.ravel(), [0, 0.25, 0.75, 1.75, 3.25, 5.25, 7.75, 9])
    # size 3: c = (j + 0.5) / 3 - 0.5 = -1/3, 0, 1/3, 2/3, 1, 4/3, ..., 3, 10/3
    y = R.up_sampling2d(x, {}, size=(1, 3), interpolation="bilinear")
    close(y.ravel(), [0, 0, 1 / 3, 2 / 3, 1, 2, 3, 4, 17 / 3, 22 / 3, 9, 9])


def bilinear_loop(x, s0, s1):
    """Direct 2-D bilinear: each output pixel mixes its four neighbours (half-pixel centers, clamped)."""
    b_, h_, w_, c_ = x.shape
    y = np.empty((b_, h_ * s0, w_ * s1, c_))
    for i, j in itertools.product(range(h_ * s0), range(w_ * s1)):
        ci = min(max((i + 0.5) / s0 - 0.5, 0.0), h_ - 1)
        cj = min(max((j + 0.5) / s1 - 0.5, 0.0), w_ - 1)
        i0, j0 = int(np.floor(ci)), int(np.floor(cj))
        i1, j1 = min(i0 + 1, h_ - 1), min(j0 + 1, w_ - 1)
        fi, fj = ci - i0, cj - j0
        y[:, i, j, :] = ((1 - fi) * (1 - fj) * x[:, i0, j0] + (1 - fi) * fj * x[:, i0, j1]
                         + fi * (1 - fj) * x[:, i1, j0] + fi * fj * x[:, i1, j1])
    return y


@pytest.mark.parametrize("shape, size", [((2, 3, 4, 2), (2, 3)), ((3, 5, 2, 1), (3, 2)), ((2, 1, 3, 2), (4, 1))])
def test_up_sampling2d_bilinear_loop(rng, shape, size):
    x = rng.standard_normal(shape)
    want = bilinear_loop(x, *size)
    close(R.up_sampling2d(x, {}, size=size, interpolation="bilinear"), want)
    close(R.up_sampling2d(cf(x), {}, size=size, interpolation="bilinear", data_format="channels_first"), cf(want))


def test_up_sampling2d_bilinear_properties(rng):
    # size 1 is the identity; a constant image stays constant; a linear ramp is reproduced away from the edges
    x = rng.standard_normal((2, 3, 4, 2))
    close(R.up_sampling2d(x, {}, size=1, interpolation="bilinear"), x)
    flat = R.up_sampling2d(np.full((1, 3, 3, 1), 2.5), {}, size=(2, 4), interpolation="bilinear")
    close(flat, np.full((1, 6, 12, 1), 2.5))
    ramp = np.arange(5.0).reshape(1, 1, 5, 1)
    y = R.up_sampling2d(ramp, {}, size=(1, 4), interpolation="bilinear").ravel()
    j = np.arange(20)
    interior = (j >= 2) & (j <= 17)
    close(y[interior], ((j + 0.5) / 4 - 0.5)[interior])


def test_up_sampling2d_interpolation_argument():
    x = np.ones((1, 2, 2, 1))
    for documented in ("bicubic", "lanczos3", "lanczos5"):
        with pytest.raises(NotImplementedError, match=documented):
            R.up_sampling2d(x, {}, interpolation=documented)
        assert R.output_shape("UpSampling2D", (1, 2, 2, 1), interpolation=documented) == (1, 4, 4, 1)
    for bad in ("area", "BILINEAR", "gaussian", None):
        with pytest.raises(ValueError, match="interpolation"):
            R.up_sampling2d(x, {}, interpolation=bad)
    with pytest.raises(ValueError, match="size"):
        R.up_sampling2d(x, {}, size=(0, 3))
    with pytest.raises(TypeError, match="interpolation"):  # UpSampling3D has no interpolation
        R.up_sampling3d(np.ones((1, 2, 2, 2, 1)), {}, interpolation="nearest")


# --- contract -------------------------------------------------------------------------------


def test_no_weights_and_contract():
    x = np.ones((2, 3, 4))
    assert R.weight_shapes("Flatten", (2, 3, 4)) == {}
    assert R.weight_shapes("UpSampling1D", (2, 3, 4), size=2) == {}
    with pytest.raises(ValueError, match="size"):
        R.weight_shapes("UpSampling1D", (2, 3, 4), size=0)
    with pytest.raises(ValueError, match="'kernel'"):
        R.flatten(x, {"kernel": np.ones(1)})
    with pytest.raises(TypeError, match="units"):
        R.flatten(x, {}, units=3)
    close(R.flatten(x, {}, name="f", trainable=True), np.ones((2, 12)))
    assert set(R.LAYERS) == {
        "Flatten", "Reshape", "Permute", "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D"}
    for name, f in R.LAYERS.items():
        assert f.__doc__.startswith(f"{name}:")  # each function states its formula under the layer's name
