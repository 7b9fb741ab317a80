"""reference_impl.pooling: hand-computed cases, a direct-loop formulation, adaptive bins, shapes, errors.

The loop formulations below are written independently of the module (Python loops over output
positions and window taps, written from the definitions), and are used only here.
"""
import itertools
import math
import zlib

import numpy as np
import pytest

from reference_impl import pooling as P

RTOL = 1e-12


def line(values):
    """A 1-D signal as (batch=1, length, channels=1)."""
    return np.asarray(values, dtype=np.float64).reshape(1, -1, 1)


def grid(rows):
    """A 2-D image as (batch=1, height, width, channels=1)."""
    a = np.asarray(rows, dtype=np.float64)
    return a.reshape(1, *a.shape, 1)


def close(got, want, rtol=RTOL):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


# --- hand-computed examples ---------------------------------------------------------------


def test_1d_docstring_inputs_max_and_average():
    x = line([1, 2, 3, 4, 5])
    # k=2 s=1 valid: windows [1,2] [2,3] [3,4] [4,5]
    close(P.max_pool(x, rank=1, pool_size=2, strides=1).ravel(), [2, 3, 4, 5])
    close(P.average_pool(x, rank=1, pool_size=2, strides=1).ravel(), [1.5, 2.5, 3.5, 4.5])
    # k=2 s=2 valid: out = floor((5-2)/2)+1 = 2: [1,2] [3,4] (5 is dropped)
    close(P.max_pool(x, rank=1, pool_size=2, strides=2).ravel(), [2, 4])
    close(P.average_pool(x, rank=1, pool_size=2, strides=2).ravel(), [1.5, 3.5])
    # k=2 s=1 same: out = 5, total = 4 + 2 - 5 = 1 -> (0, 1): last window [5, pad]
    # max: max(5, -inf) = 5; average: 5 / 1 real element = 5 (not 5 / 2 = 2.5)
    close(P.max_pool(x, rank=1, pool_size=2, strides=1, padding="same").ravel(), [2, 3, 4, 5, 5])
    close(P.average_pool(x, rank=1, pool_size=2, strides=1, padding="same").ravel(), [1.5, 2.5, 3.5, 4.5, 5])


def test_2d_docstring_inputs_max_and_average():
    x = grid([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    # 2x2 windows, stride 1, valid: max = bottom-right element, average = mean of the four
    # [[1,2],[4,5]] -> 5, 3; [[2,3],[5,6]] -> 6, 4; [[4,5],[7,8]] -> 8, 6; [[5,6],[8,9]] -> 9, 7
    close(P.max_pool(x, rank=2, pool_size=(2, 2), strides=(1, 1))[0, :, :, 0], [[5, 6], [8, 9]])
    close(P.average_pool(x, rank=2, pool_size=(2, 2), strides=(1, 1))[0, :, :, 0], [[3, 4], [6, 7]])
    # same: total pad 1 per dim -> 0 before, 1 after (bottom/right). Border windows:
    # (0,2): {3, 6} -> max 6, mean 4.5; (2,0): {7, 8} -> 8, 7.5; (2,1): {8, 9} -> 9, 8.5; (2,2): {9} -> 9, 9
    close(P.max_pool(x, rank=2, pool_size=2, strides=1, padding="same")[0, :, :, 0],
          [[5, 6, 6], [8, 9, 9], [8, 9, 9]])
    close(P.average_pool(x, rank=2, pool_size=2, strides=1, padding="same")[0, :, :, 0],
          [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]])
    # 3x4 input, 2x2, stride 2, valid: out = (1, 2): [[1,2],[5,6]] and [[3,4],[7,8]]; row 3 dropped
    x = grid([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    close(P.max_pool(x, rank=2, pool_size=(2, 2), strides=(2, 2))[0, :, :, 0], [[6, 8]])
    close(P.average_pool(x, rank=2, pool_size=(2, 2), strides=(2, 2))[0, :, :, 0], [[3.5, 5.5]])


def test_stride_below_pool_overlapping_windows():
    # n=7, k=3, s=2 valid: out = floor(4/2)+1 = 3; windows start 0, 2, 4:
    # [1,5,2] -> max 5, mean 8/3; [2,4,3] -> 4, 3; [3,0,6] -> 6, 3
    x = line([1, 5, 2, 4, 3, 0, 6])
    close(P.max_pool(x, rank=1, pool_size=3, strides=2).ravel(), [5, 4, 6])
    close(P.average_pool(x, rank=1, pool_size=3, strides=2).ravel(), [8 / 3, 3, 3])


def test_stride_above_pool_skips_elements():
    x = line([1, 5, 2, 4, 3, 0, 6])
    # valid, k=2, s=3: out = floor(5/3)+1 = 2; windows at 0, 3: [1,5] -> 5, 3; [4,3] -> 4, 3.5 (2, 0, 6 unseen)
    close(P.max_pool(x, rank=1, pool_size=2, strides=3).ravel(), [5, 4])
    close(P.average_pool(x, rank=1, pool_size=2, strides=3).ravel(), [3, 3.5])
    # same: out = ceil(7/3) = 3, total = max(2*3 + 2 - 7, 0) = 1 -> (0, 1); windows at 0, 3, 6:
    # [1,5], [4,3], [6, pad] -> max [5, 4, 6], mean [3, 3.5, 6 / 1]
    close(P.max_pool(x, rank=1, pool_size=2, strides=3, padding="same").ravel(), [5, 4, 6])
    close(P.average_pool(x, rank=1, pool_size=2, strides=3, padding="same").ravel(), [3, 3.5, 6])


def test_same_average_counts_real_elements_at_both_borders():
    # n=5, k=3, s=1 same: total = 2 -> (1, 1): [pad,1,2] [1,2,3] [2,3,4] [3,4,5] [4,5,pad]
    # mean over real elements: [3/2, 6/3, 9/3, 12/3, 9/2] = [1.5, 2, 3, 4, 4.5]
    # (dividing by the window size 3 would give [1, 2, 3, 4, 3])
    close(P.average_pool(line([1, 2, 3, 4, 5]), rank=1, pool_size=3, strides=1, padding="same").ravel(),
          [1.5, 2, 3, 4, 4.5])
    # max pads with -inf, not 0: all-negative input keeps negative border maxima
    # [pad,-1,-2] -> -1, [-1,-2,-3] -> -1, [-2,-3,-4] -> -2, [-3,-4,-5] -> -3, [-4,-5,pad] -> -4
    close(P.max_pool(line([-1, -2, -3, -4, -5]), rank=1, pool_size=3, strides=1, padding="same").ravel(),
          [-1, -1, -2, -3, -4])


def test_same_average_2d_corner_edge_interior_counts():
    # 4x4 ones, 3x3 window, stride 1, same: pad (1, 1) per dim. Corners see 2x2 = 4 real elements,
    # edges 2x3 = 6, interior 9; averaging real elements gives 1 everywhere (zeros-padding with
    # divide-by-9 would give 4/9, 6/9, 1).
    y = P.average_pool(np.ones((1, 4, 4, 1)), rank=2, pool_size=3, strides=1, padding="same")
    close(y, np.ones((1, 4, 4, 1)))
    # x[i, j] = 4 i + j; corner (0,0) window = {0, 1, 4, 5} -> 2.5; edge (0,1) = {0,1,2,4,5,6} -> 3
    x = grid(np.arange(16.0).reshape(4, 4))
    y = P.average_pool(x, rank=2, pool_size=3, strides=1, padding="same")[0, :, :, 0]
    close([y[0, 0], y[0, 1], y[1, 1], y[3, 3]], [2.5, 3.0, 5.0, (10 + 11 + 14 + 15) / 4])


def test_channels_first_hand():
    # two channels [1,2,3,4] and [10,-20,30,-40] in (batch, channels, steps)
    x = np.array([[[1.0, 2, 3, 4], [10, -20, 30, -40]]])
    y = P.max_pool(x, rank=1, pool_size=2, data_format="channels_first")
    close(y, [[[2, 4], [10, 30]]])
    y = P.average_pool(x, rank=1, pool_size=3, strides=1, padding="same", data_format="channels_first")
    # same k=3: pad (1,1); channel 0: [1.5, 2, 3, 3.5]; channel 1: [-5, 20/3, -10, -5]
    close(y, [[[1.5, 2, 3, 3.5], [-5, 20 / 3, -10, -5]]])


def test_window_reduce_general_kernel():
    x = grid([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    close(P.window_reduce(x, window=(1, 3), strides=(2, 1), padding="valid", reducer="max")[0, :, :, 0], [[3], [9]])
    close(P.window_reduce(x, window=(3, 1), strides=1, padding="valid", reducer="average")[0, :, :, 0], [[4, 5, 6]])


# --- direct loops (independent formulation) ----------------------------------------------


def loop_pads(padding, n, k, s):
    if padding == "valid":
        return 0, (n - k) // s + 1
    out = math.ceil(n / s)
    return max((out - 1) * s + k - n, 0) // 2, out


def loop_pool(x, window, strides, padding, reducer):
    """Channels-last pooling by loops: the window's real elements only (padding is never read)."""
    spatial = x.shape[1:-1]
    plan = [loop_pads(padding, n, k, s) for n, k, s in zip(spatial, window, strides)]
    out = np.zeros((x.shape[0],) + tuple(o for _, o in plan) + (x.shape[-1],))
    for b in range(x.shape[0]):
        for pos in itertools.product(*[range(o) for _, o in plan]):
            for c in range(x.shape[-1]):
                values = []
                for tap in itertools.product(*[range(k) for k in window]):
                    idx = [i * s + j - before for i, s, j, (before, _) in zip(pos, strides, tap, plan)]
                    if all(0 <= v < n for v, n in zip(idx, spatial)):
                        values.append(x[(b, *idx, c)])
                out[(b, *pos, c)] = max(values) if reducer == "max" else math.fsum(values) / len(values)
    return out


def rng_for(*params):
    return np.random.default_rng(zlib.crc32(repr(params).encode()))


POOL_CASES = [
    # spatial, pool_size, strides
    ((7,), (3,), (2,)),
    ((8,), (2,), (3,)),
    ((6,), (4,), (4,)),
    ((7, 6), (3, 2), (2, 3)),
    ((5, 8), (2, 2), (1, 1)),
    ((4, 5), (3, 3), (3, 2)),
    ((5, 4, 7), (2, 3, 2), (2, 1, 3)),
    ((4, 6, 5), (3, 2, 2), (3, 2, 2)),
]


@pytest.mark.parametrize("spatial, pool_size, strides", POOL_CASES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_layers_match_loop_all_ranks(spatial, pool_size, strides, padding):
    rank = len(spatial)
    x = rng_for(spatial, pool_size, strides, padding).normal(size=(2, *spatial, 3)) * 1.7 + 0.3
    close(P.max_pool(x, rank=rank, pool_size=pool_size, strides=strides, padding=padding),
          loop_pool(x, pool_size, strides, padding, "max"))
    close(P.average_pool(x, rank=rank, pool_size=pool_size, strides=strides, padding=padding),
          loop_pool(x, pool_size, strides, padding, "average"))
    # channels_first is the same computation with the channel axis moved
    xf = np.moveaxis(x, -1, 1)
    close(P.average_pool(xf, rank=rank, pool_size=pool_size, strides=strides, padding=padding,
                         data_format="channels_first"),
          np.moveaxis(loop_pool(x, pool_size, strides, padding, "average"), -1, 1))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_default_strides_equal_pool_size(rank):
    x = rng_for("default", rank).normal(size=(2, *(5, 6, 7)[:rank], 2))
    close(P.max_pool(x, rank=rank), loop_pool(x, (2,) * rank, (2,) * rank, "valid", "max"))
    close(P.average_pool(x, rank=rank, pool_size=3, padding="same"),
          loop_pool(x, (3,) * rank, (3,) * rank, "same", "average"))


# --- global pooling -----------------------------------------------------------------------


def test_global_pooling_keepdims_and_data_format():
    x = np.arange(24.0).reshape(2, 3, 4)  # channels_last: (batch, steps=3, channels=4)
    close(P.global_max_pool(x, rank=1), x.max(axis=1))
    close(P.global_average_pool(x, rank=1), x.mean(axis=1))
    assert P.global_average_pool(x, rank=1, keepdims=True).shape == (2, 1, 4)
    # channels_first: (batch, channels=3, steps=4) -> (2, 3, 1) with keepdims
    y = P.global_max_pool(x, rank=1, data_format="channels_first", keepdims=True)
    close(y, x.max(axis=2, keepdims=True))
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5, 2))
    close(P.global_average_pool(x, rank=3, keepdims=True), x.mean(axis=(1, 2, 3), keepdims=True))
    xf = np.moveaxis(x, -1, 1)
    y = P.global_max_pool(xf, rank=3, data_format="channels_first", keepdims=True)
    assert y.shape == (2, 2, 1, 1, 1)
    close(y[:, :, 0, 0, 0], x.max(axis=(1, 2, 3)))


def test_global_average_1d_mask_excludes_masked_steps():
    # sample 0 keeps steps 0 and 2: channel 0 (1 + 3) / 2 = 2, channel 1 (10 + 30) / 2 = 20
    # sample 1 keeps step 3 only: (8, 80)
    x = np.array([[[1.0, 10], [2, 20], [3, 30], [4, 40]], [[5, 50], [6, 60], [7, 70], [8, 80]]])
    mask = np.array([[True, False, True, False], [False, False, False, True]])
    close(P.global_average_pool(x, rank=1, mask=mask), [[2, 20], [8, 80]])
    y = P.global_average_pool(np.moveaxis(x, 1, 2), rank=1, mask=mask, data_format="channels_first", keepdims=True)
    close(y, [[[2], [20]], [[8], [80]]])
    # a row with every step masked averages nothing: 0 / 0
    y = P.global_average_pool(x, rank=1, mask=np.array([[True] * 4, [False] * 4]))
    close(y[0], [2.5, 25])
    assert np.isnan(y[1]).all()
    # an all-true mask is the plain mean
    close(P.global_average_pool(x, rank=1, mask=np.ones((2, 4), bool)), x.mean(axis=1))


def test_global_mask_errors():
    with pytest.raises(ValueError, match="mask"):
        P.global_average_pool(np.ones((1, 2, 2, 1)), rank=2, mask=np.ones((1, 2)))
    with pytest.raises(ValueError, match="mask"):
        P.global_average_pool(np.ones((1, 3, 1)), rank=1, mask=np.ones((1, 2)))


# --- adaptive pooling ---------------------------------------------------------------------


def test_adaptive_bins_divisible():
    # n=6, o=3: bins [0,2) [2,4) [4,6) -> disjoint pairs
    x = line([1, 6, 2, 5, 3, 4])
    close(P.adaptive_average_pool(x, rank=1, output_size=3).ravel(), [3.5, 3.5, 3.5])
    close(P.adaptive_max_pool(x, rank=1, output_size=3).ravel(), [6, 5, 4])
    # o = n: identity; o = 1: global
    close(P.adaptive_average_pool(x, rank=1, output_size=6).ravel(), [1, 6, 2, 5, 3, 4])
    close(P.adaptive_max_pool(x, rank=1, output_size=1).ravel(), [6])


def test_adaptive_bins_not_divisible():
    x = line([1, 2, 3, 4, 5, 6, 7])
    # n=7, o=3: [floor(0), ceil(7/3)=3) = [0,3), [floor(7/3)=2, ceil(14/3)=5) = [2,5), [floor(14/3)=4, 7) = [4,7)
    # -> {1,2,3} {3,4,5} {5,6,7}: means [2, 4, 6], maxima [3, 5, 7] (bins overlap at 3 and 5)
    close(P.adaptive_average_pool(x, rank=1, output_size=3).ravel(), [2, 4, 6])
    close(P.adaptive_max_pool(x, rank=1, output_size=3).ravel(), [3, 5, 7])
    # n=7, o=4: [0,2) [1,4) [3,6) [5,7) -> means [1.5, 3, 5, 6.5], maxima [2, 4, 6, 7]
    close(P.adaptive_average_pool(x, rank=1, output_size=4).ravel(), [1.5, 3, 5, 6.5])
    close(P.adaptive_max_pool(x, rank=1, output_size=4).ravel(), [2, 4, 6, 7])
    # n=7, o=8 > n: [0,1) [0,2) [1,3) [2,4) [3,5) [4,6) [5,7) [6,7)
    close(P.adaptive_average_pool(x, rank=1, output_size=8).ravel(), [1, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7])


def test_adaptive_2d_hand():
    # 4x5 image x[i, j] = 10 i + j, output (2, 3)
    # rows: n=4, o=2 -> [0,2) [2,4); cols: n=5, o=3 -> [0,2) [1,4) [3,5)
    # mean of a box = mean row index * 10 + mean col index: rows 0.5, 2.5; cols 0.5, 2, 3.5
    x = grid(10 * np.arange(4.0)[:, None] + np.arange(5.0))
    close(P.adaptive_average_pool(x, rank=2, output_size=(2, 3))[0, :, :, 0], [[5.5, 7, 8.5], [25.5, 27, 28.5]])
    # max = last row of the bin * 10 + last col: rows 1, 3; cols 1, 3, 4
    close(P.adaptive_max_pool(x, rank=2, output_size=(2, 3))[0, :, :, 0], [[11, 13, 14], [31, 33, 34]])


def loop_adaptive(x, output_size, reducer):
    spatial = x.shape[1:-1]
    bins = [
        [(math.floor(i * n / o), math.ceil((i + 1) * n / o)) for i in range(o)] for n, o in zip(spatial, output_size)
    ]
    out = np.zeros((x.shape[0], *output_size, x.shape[-1]))
    for b in range(x.shape[0]):
        for pos in itertools.product(*[range(o) for o in output_size]):
            ranges = [range(*bins[d][i]) for d, i in enumerate(pos)]
            for c in range(x.shape[-1]):
                values = [x[(b, *idx, c)] for idx in itertools.product(*ranges)]
                out[(b, *pos, c)] = max(values) if reducer == "max" else math.fsum(values) / len(values)
    return out


@pytest.mark.parametrize("spatial, output_size", [
    ((9,), (3,)), ((10,), (4,)), ((5,), (7,)),
    ((6, 7), (3, 3)), ((7, 5), (2, 4)),
    ((4, 6, 5), (2, 3, 2)), ((5, 3, 7), (3, 2, 4)),
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_adaptive_matches_loop(spatial, output_size, data_format):
    rank = len(spatial)
    x = rng_for(spatial, output_size).normal(size=(2, *spatial, 3)) + 0.25
    want_avg = loop_adaptive(x, output_size, "average")
    want_max = loop_adaptive(x, output_size, "max")
    if data_format == "channels_first":
        x, want_avg, want_max = (np.moveaxis(a, -1, 1) for a in (x, want_avg, want_max))
    close(P.adaptive_average_pool(x, rank=rank, output_size=output_size, data_format=data_format), want_avg)
    close(P.adaptive_max_pool(x, rank=rank, output_size=output_size, data_format=data_format), want_max)


# --- shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, shape, kwargs, expected", [
    # MaxPooling3D docstring: 30^3 input, pool_size=3 -> 10^3
    ("max", (None, 30, 30, 30, 3), dict(pool_size=3), (None, 10, 10, 10, 3)),
    ("max", (2, 5, 1), dict(pool_size=2, strides=1), (2, 4, 1)),
    ("max", (2, 5, 1), dict(pool_size=2, strides=2), (2, 2, 1)),
    ("max", (2, 5, 1), dict(pool_size=2, strides=1, padding="same"), (2, 5, 1)),
    ("max", (2, 3, 4, 1), dict(pool_size=(2, 2), strides=(2, 2)), (2, 1, 2, 1)),
    ("max", (None, 7, 8, 3), dict(pool_size=3, strides=2, padding="SAME"), (None, 4, 4, 3)),
    ("average", (None, 3, 7, 8), dict(pool_size=(2, 3), padding="same", data_format="channels_first"),
     (None, 3, 4, 3)),
    ("average", (4, None, 6), dict(pool_size=3, strides=2), (4, None, 6)),
    ("global_average", (2, 3, 4), {}, (2, 4)),
    ("global_average", (2, 3, 4), dict(keepdims=True, data_format="channels_first"), (2, 3, 1)),
    ("global_max", (2, 4, 5, 4, 3), {}, (2, 3)),
    ("global_max", (None, 4, None, 3), dict(keepdims=True), (None, 1, 1, 3)),
    # AdaptiveAveragePooling2D docstring: (1, 64, 64, 3), output_size=32 -> (1, 32, 32, 3)
    ("adaptive_average", (1, 64, 64, 3), dict(output_size=32), (1, 32, 32, 3)),
    ("adaptive_max", (1, 3, 32, 32, 32), dict(output_size=(16, 8, 4), data_format="channels_first"),
     (1, 3, 16, 8, 4)),
    ("adaptive_max", (1, None, 3), dict(output_size=5), (1, 5, 3)),
])
def test_output_shapes(kind, shape, kwargs, expected):
    assert P.output_shape(kind, shape, **kwargs) == expected


@pytest.mark.parametrize("n, k, s", [(n, k, s) for n in range(1, 12) for k in range(1, 5) for s in range(1, 5)])
def test_same_length_is_documented_formula(n, k, s):
    # AveragePooling2D docstring: same -> floor((n - 1) / s) + 1; valid (n >= k) -> floor((n - k) / s) + 1
    assert P.output_shape("average", (1, n, 1), pool_size=k, strides=s, padding="same")[1] == (n - 1) // s + 1
    if n >= k:
        assert P.output_shape("max", (1, n, 1), pool_size=k, strides=s)[1] == (n - k) // s + 1


def test_layer_outputs_have_predicted_shapes_and_float64():
    x = np.arange(2 * 7 * 6 * 3).reshape(2, 7, 6, 3)  # integers in
    for kind, fn, kwargs in [
        ("max", P.max_pool, dict(pool_size=3, strides=2, padding="same")),
        ("average", P.average_pool, dict(pool_size=(2, 3))),
        ("global_max", P.global_max_pool, dict(keepdims=True)),
        ("global_average", P.global_average_pool, {}),
        ("adaptive_max", P.adaptive_max_pool, dict(output_size=(4, 5))),
        ("adaptive_average", P.adaptive_average_pool, dict(output_size=3)),
    ]:
        y = fn(x, rank=2, **kwargs)
        assert y.dtype == np.float64
        assert y.shape == P.output_shape(kind, x.shape, **kwargs)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, shape, kwargs, argument", [
    ("max", (1, 5, 1), dict(pool_size=0), "pool_size"),
    ("max", (1, 5, 5, 1), dict(pool_size=(2, 2, 2)), "pool_size"),
    ("max", (1, 5, 1), dict(pool_size=2.0), "pool_size"),
    ("max", (1, 5, 1), dict(pool_size=True), "pool_size"),
    ("average", (1, 5, 1), dict(pool_size=2, strides=0), "strides"),
    ("average", (1, 5, 5, 1), dict(pool_size=2, strides=(1, -1)), "strides"),
    ("max", (1, 5, 1), dict(padding="causal"), "padding"),
    ("max", (1, 5, 1), dict(padding=[(0, 1)]), "padding"),
    ("max", (1, 5, 1), dict(data_format="NWC"), "data_format"),
    ("max", (1, 3, 1), dict(pool_size=4), "spatial size below 1"),
    ("global_max", (1, 3, 1), dict(keepdims=1), "keepdims"),
    ("adaptive_average", (1, 5, 1), dict(output_size=0), "output_size"),
    ("adaptive_max", (1, 5, 5, 1), dict(output_size=(2, 2, 2)), "output_size"),
    ("max", (1, 5, 5, 1), dict(rank=1), "input_shape"),
    ("max", (1, 5, 1), dict(rank=4), "rank"),
    ("wavelet", (1, 5, 1), {}, "kind"),
])
def test_invalid_arguments_raise_value_error(kind, shape, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        P.output_shape(kind, shape, **kwargs)


def test_errors_quote_the_value_received():
    with pytest.raises(ValueError, match=r"Received: pool_size=\(2, 2, 2\)"):
        P.max_pool(np.ones((1, 4, 4, 1)), rank=2, pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match=r"Received: padding='full'"):
        P.average_pool(np.ones((1, 4, 1)), rank=1, pool_size=2, padding="full")


def test_required_and_unknown_keywords():
    with pytest.raises(TypeError, match="pool_size"):
        P.output_shape("average", (1, 4, 1))  # AveragePooling has no default pool_size
    with pytest.raises(TypeError, match="pool_sizes"):
        P.max_pool(np.ones((1, 4, 1)), rank=1, pool_sizes=2)
    # keyword arguments that do not change values are accepted
    P.max_pool(np.ones((1, 4, 1)), rank=1, name="pool", trainable=False)


def test_general_kernel_errors():
    with pytest.raises(ValueError, match="reducer"):
        P.window_reduce(np.ones((1, 4, 1)), window=2, strides=2, padding="valid", reducer="min")
    with pytest.raises(ValueError, match="x"):
        P.window_reduce(np.ones((4, 1)), window=2, strides=2, padding="valid", reducer="max")
    with pytest.raises(ValueError, match="output_size"):
        P.adaptive_reduce(np.ones((1, 4, 1)), output_size=-1, reducer="max")
