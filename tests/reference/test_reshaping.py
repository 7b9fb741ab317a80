"""reference_impl.reshaping: docstring examples, hand values, loop formulations, shapes, argument errors.

The loop formulations index every output element from the definitions, independently of the
module's helpers.
"""
import itertools
import math
import re

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
    for n in (0, -1):  # an int, but not positive
        with pytest.raises(ValueError, match=f"Received: n={n}"):
            R.repeat_vector(x, {}, n=n)
    with pytest.raises(ValueError, match="input_shape"):
        R.repeat_vector(np.ones((2, 3, 4)), {}, n=2)


@pytest.mark.parametrize("layer, name, shape", [("RepeatVector", "n", (2, 5)), ("UpSampling1D", "size", (2, 4, 3))])
def test_integer_argument_of_another_type_is_a_type_error(layer, name, shape):
    # RepeatVector "n: Integer", UpSampling1D "size: Integer": a value of another Python type is a
    # TypeError (keras's repeat_vector_test.py and up_sampling1d_test.py assert it for "3", 3.5,
    # [3] and 2.5, "2", True); the right type with a bad value stays a ValueError
    for bad in ("3", 3.5, [3], (2,), True, None, 2.0):
        for rule in (R.output_shape, R.weight_shapes):
            with pytest.raises(TypeError, match=re.escape(f"`{name}` must be an int. Received: {name}={bad!r}")):
                rule(layer, shape, **{name: bad})
    for bad in (0, -3):
        with pytest.raises(ValueError, match=f"`{name}` must be a positive int. Received: {name}={bad}"):
            R.output_shape(layer, shape, **{name: bad})


def test_argument_forms_stay_value_errors():
    # arguments documented as a set of forms or of values: anything else is a ValueError, whatever
    # its type (keras's cropping tests assert ValueError for cropping="1" and ((1, 2), "3"))
    with pytest.raises(ValueError, match="cropping='1'"):
        R.output_shape("Cropping1D", (2, 6, 3), cropping="1")
    with pytest.raises(ValueError, match="cropping="):
        R.output_shape("Cropping2D", (2, 6, 6, 3), cropping=((1, 2), "3"))
    with pytest.raises(ValueError, match="padding=1.5"):
        R.output_shape("ZeroPadding2D", (2, 6, 6, 3), padding=1.5)
    with pytest.raises(ValueError, match="size=2.5"):
        R.output_shape("UpSampling2D", (2, 3, 3, 1), size=2.5)
    with pytest.raises(ValueError, match="interpolation=3"):
        R.output_shape("UpSampling2D", (2, 3, 3, 1), interpolation=3)
    with pytest.raises(ValueError, match="target_shape=5"):
        R.output_shape("Reshape", (2, 5), target_shape=5)
    with pytest.raises(ValueError, match="dims=1"):
        R.output_shape("Permute", (2, 5), dims=1)


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
    with pytest.raises(ValueError, match="Received: size=0"):
        R.up_sampling1d(x, {}, size=0)


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
    for documented in R.INTERPOLATIONS:  # every value the docstring lists is implemented
        assert R.up_sampling2d(x, {}, interpolation=documented).shape == (1, 4, 4, 1)
        assert R.output_shape("UpSampling2D", (1, 2, 2, 1), interpolation=documented) == (1, 4, 4, 1)
    for bad in ("area", "BILINEAR", "gaussian", "lanczos4", "mitchellcubic", None):
        with pytest.raises(ValueError, match="interpolation"):
            R.up_sampling2d(x, {}, interpolation=bad)
    with pytest.raises(ValueError, match="size"):
        R.up_sampling2d(x, {}, size=(0, 3))
    with pytest.raises(TypeError, match="interpolation"):  # UpSampling3D has no interpolation
        R.up_sampling3d(np.ones((1, 2, 2, 2, 1)), {}, interpolation="nearest")


# bicubic / lanczos3 / lanczos5: the kernels by hand, then whole resizes

KERNEL_METHODS = ("bilinear", "bicubic", "lanczos3", "lanczos5")


def test_keys_cubic_hand_values():
    # a = -1/2: 3/2 x^3 - 5/2 x^2 + 1 on [0, 1], -1/2 x^3 + 5/2 x^2 - 4 x + 2 on [1, 2]
    # 0.25: 3/128 - 20/128 + 1 = 111/128; 0.5: 3/16 - 10/16 + 1 = 9/16; 0.75: 81/128 - 180/128 + 1 = 29/128
    # 1.25: -125/128 + 500/128 - 5 + 2 = -9/128; 1.5: -27/16 + 90/16 - 6 + 2 = -1/16; 1.75: -3/128
    x = np.array([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3])
    want = [1, 111 / 128, 9 / 16, 29 / 128, 0, -9 / 128, -1 / 16, -3 / 128, 0, 0, 0]
    close(R._keys_cubic(x), want)
    close(R._keys_cubic(-x), want)  # even
    # translates sum to 1 (partition of unity), so interior rows need no normalization
    t = np.arange(-4, 5)
    for f in (0.1, 0.25, 1 / 3, 0.5):
        close(R._keys_cubic(f - t).sum(), 1.0)


def test_lanczos_hand_values():
    # L3(1/2) = sinc(1/2) sinc(1/6) = (2/pi)(3/pi) = 6/pi^2; L3(3/2) = sinc(3/2) sinc(1/2) = (-2/(3 pi))(2/pi)
    # L5(1/2) = (2/pi) sin(pi/10)/(pi/10) = 20 sin(pi/10)/pi^2 = 5 (sqrt(5) - 1)/pi^2
    pi2 = np.pi ** 2
    x = np.array([0, 0.5, 1, 1.5, 2, 3, 3.5, 4])
    close(R._lanczos3(x), [1, 6 / pi2, 0, -4 / (3 * pi2), 0, 0, 0, 0])
    close(R._lanczos3(-x), R._lanczos3(x))
    x = np.array([0, 0.5, 1, 4, 5, 5.5, 7.25])
    close(R._lanczos5(x), [1, 5 * (np.sqrt(5) - 1) / pi2, 0, 0, 0, 0, 0], rtol=1e-12)
    # zero outside the radius although sinc(x) sinc(x / a) is not: sinc(3.5) sinc(3.5 / 3) != 0
    assert np.sinc(3.5) * np.sinc(3.5 / 3) != 0 and R._lanczos3(3.5) == 0
    # unlike Keys, Lanczos translates do not sum to 1: every row must be normalized
    assert abs(R._lanczos3(0.25 - np.arange(-4, 5)).sum() - 1) > 1e-3
    close(R._triangle(np.array([0, 0.25, 1, 1.5])), [1, 0.75, 0, 0])


def test_up_sampling2d_bicubic_hand_edges():
    # row [0, 1], size 2: c = -0.25, 0.25, 0.75, 1.25. At c = -0.25 the taps 0 and 1 are at
    # distances 0.25 and 1.25 (K = 111/128, -9/128; the taps -1, -2 are outside and dropped), so
    # the weights are 111/102 and -9/102 and y = -9/102 = -3/34. At c = 0.25 the taps 0, 1 are at
    # 0.25 and 0.75 (111/128, 29/128; -1 and 2 dropped): y = 29/140. The last two mirror these.
    # (Edge replication would give -9/128 at c = -0.25; no normalization -9/128 too.)
    x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    y = R.up_sampling2d(x, {}, size=(1, 2), interpolation="bicubic")
    close(y.ravel(), [-3 / 34, 29 / 140, 111 / 140, 37 / 34])
    # the same along H (channels_first)
    y = R.up_sampling2d(x.reshape(1, 1, 2, 1), {}, size=(2, 1), interpolation="bicubic", data_format="channels_first")
    close(y.ravel(), [-3 / 34, 29 / 140, 111 / 140, 37 / 34])


def test_up_sampling2d_lanczos3_hand_interior():
    # x = e_3 on 6 columns, size 2: output j = 6 samples c = 2.75; its row of weights is
    # L3(2.75 - t) for t = 0 .. 5 (the taps within 3 of c; all inside the input), divided by
    # their sum; y[6] is the weight of t = 3
    x = np.zeros((1, 1, 6, 1))
    x[0, 0, 3, 0] = 1.0
    y = R.up_sampling2d(x, {}, size=(1, 2), interpolation="lanczos3").ravel()
    taps = 2.75 - np.arange(6)
    w = np.sinc(taps) * np.sinc(taps / 3)
    close(y[6], w[3] / w.sum())
    assert abs(w.sum() - 1) > 1e-3  # the normalization matters here


def kernel_loop(name):
    """The kernels written again, scalar, from their definitions."""
    def keys(t):
        t = abs(t)
        if t <= 1:
            return 1.5 * t ** 3 - 2.5 * t ** 2 + 1
        return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 if t < 2 else 0.0

    def sinc(t):
        return 1.0 if t == 0 else math.sin(math.pi * t) / (math.pi * t)

    def lanczos(a):
        return lambda t: sinc(t) * sinc(t / a) if abs(t) < a else 0.0

    return {"bilinear": lambda t: max(1 - abs(t), 0.0), "bicubic": keys,
            "lanczos3": lanczos(3), "lanczos5": lanczos(5)}[name]


def resize_loop(x, s0, s1, name):
    """Direct 2-D double sum: y[i, j] = sum_{h, w} K(ci - h) K(cj - w) x[h, w] / sum_{h, w} K(ci - h) K(cj - w),
    over the input pixels only (half-pixel centers ci = (i + 0.5) / s0 - 0.5)."""
    k = kernel_loop(name)
    b_, h_, w_, c_ = x.shape
    y = np.empty((b_, h_ * s0, w_ * s1, c_))
    for i, j in itertools.product(range(h_ * s0), range(w_ * s1)):
        ci, cj = (i + 0.5) / s0 - 0.5, (j + 0.5) / s1 - 0.5
        num, den = np.zeros((b_, c_)), 0.0
        for h, w in itertools.product(range(h_), range(w_)):
            weight = k(ci - h) * k(cj - w)
            num += weight * x[:, h, w, :]
            den += weight
        y[:, i, j, :] = num / den
    return y


@pytest.mark.parametrize("name", KERNEL_METHODS)
@pytest.mark.parametrize("shape, size", [
    ((2, 3, 4, 3), (2, 3)), ((2, 5, 2, 1), (3, 1)), ((2, 1, 3, 2), (4, 2)), ((1, 2, 7, 2), (2, 2)), ((1, 6, 1, 1), (5, 3)),
])
def test_up_sampling2d_kernels_loop(rng, name, shape, size):
    x = rng.standard_normal(shape)
    want = resize_loop(x, *size, name)
    close(R.up_sampling2d(x, {}, size=size, interpolation=name), want)
    close(R.up_sampling2d(cf(x), {}, size=size, interpolation=name, data_format="channels_first"), cf(want))


@pytest.mark.parametrize("name", KERNEL_METHODS)
def test_up_sampling2d_kernels_properties(rng, name):
    # size 1 is the identity (K(0) = 1, K(nonzero integer) = 0); a constant stays constant,
    # at the edges too; a single row or column (n = 1) is repeated
    x = rng.standard_normal((2, 3, 4, 2))
    close(R.up_sampling2d(x, {}, size=1, interpolation=name), x)
    for shape, size in [((1, 3, 3, 1), (2, 4)), ((1, 1, 2, 1), (3, 5)), ((1, 2, 9, 1), (2, 3))]:
        flat = R.up_sampling2d(np.full(shape, 2.5), {}, size=size, interpolation=name)
        close(flat, np.full((1, shape[1] * size[0], shape[2] * size[1], 1), 2.5))
    row = rng.standard_normal((2, 1, 4, 3))
    y = R.up_sampling2d(row, {}, size=(3, 1), interpolation=name)
    close(y, np.repeat(row, 3, axis=1))


def test_up_sampling2d_bicubic_reproduces_ramps_and_parabolas():
    # Keys' kernel (a = -1/2) reproduces polynomials of degree <= 2 where all 4 taps are inside:
    # samples c with 1 <= c <= n - 2
    n, s = 7, 4
    c = (np.arange(n * s) + 0.5) / s - 0.5
    interior = (c >= 1) & (c <= n - 2)
    t = np.arange(n, dtype=float)
    for poly in (lambda u: 0.5 + 2 * u, lambda u: 1 - u + 0.25 * u ** 2):
        y = R.up_sampling2d(poly(t).reshape(1, 1, n, 1), {}, size=(1, s), interpolation="bicubic").ravel()
        close(y[interior], poly(c[interior]))
    # a cubic is not reproduced: the check above can fail
    y = R.up_sampling2d((t ** 3).reshape(1, 1, n, 1), {}, size=(1, s), interpolation="bicubic").ravel()
    assert np.abs(y[interior] - c[interior] ** 3).max() > 1e-2


def test_up_sampling2d_bicubic_is_catmull_rom_in_the_interior(rng):
    # Catmull-Rom through p0..p3 at fraction f between p1 and p2:
    # (2 p1 + (p2 - p0) f + (2 p0 - 5 p1 + 4 p2 - p3) f^2 + (3 p1 - p0 - 3 p2 + p3) f^3) / 2
    n, s = 6, 3
    p = rng.standard_normal(n)
    y = R.up_sampling2d(p.reshape(1, 1, n, 1), {}, size=(1, s), interpolation="bicubic").ravel()
    for j in range(n * s):
        c = (j + 0.5) / s - 0.5
        k = int(np.floor(c))
        if k - 1 < 0 or k + 2 > n - 1:
            continue
        f = c - k
        p0, p1, p2, p3 = p[k - 1:k + 3]
        want = (2 * p1 + (p2 - p0) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f ** 2
                + (3 * p1 - p0 - 3 * p2 + p3) * f ** 3) / 2
        close(y[j], want)


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
