"""reference_impl.conv: hand-computed cases, a direct-loop formulation, the adjoint identity, shapes, errors.

The loop formulations below are written independently of the module (Python loops over output
positions and kernel taps, written from the definitions), and are used only here.
"""
import itertools
import math
import zlib

import numpy as np
import pytest

from reference_impl import activations
from reference_impl import conv as C

RTOL = 1e-12
ATOL = 1e-12


def line(values):
    """A 1-D signal as (batch=1, length, channels=1)."""
    return np.asarray(values, dtype=np.float64).reshape(1, -1, 1)


def taps(values):
    """A 1-D kernel with one input and one output channel: (k, 1, 1)."""
    return np.asarray(values, dtype=np.float64).reshape(-1, 1, 1)


# --- hand-computed examples ---------------------------------------------------------------


def test_valid_1d_hand():
    # y[i] = 0.5 * x[i] - 1 * x[i+1]
    # [0.5*1.5 + 2, 0.5*-2 - 0.25, 0.5*0.25 - 3] = [2.75, -1.25, -2.875]
    y = C.conv_general(line([1.5, -2, 0.25, 3]), taps([0.5, -1]), strides=1, dilation=1, padding="valid")
    np.testing.assert_allclose(y.ravel(), [2.75, -1.25, -2.875], rtol=RTOL)


def test_same_2d_even_kernel_pads_bottom_right():
    # 3x3 input, 2x2 kernel [[1,2],[3,4]], stride 1: total pad 1 per dim -> 0 before, 1 after.
    # y[i,j] = x[i,j] + 2 x[i,j+1] + 3 x[i+1,j] + 4 x[i+1,j+1], zero outside.
    # (0,0) 1+4+12+20=37  (0,1) 2+6+15+24=47  (0,2) 3+0+18+0=21
    # (1,0) 4+10+21+32=67 (1,1) 5+12+24+36=77 (1,2) 6+0+27+0=33
    # (2,0) 7+16=23       (2,1) 8+18=26       (2,2) 9
    # (Padding top/left instead would give y[0,0] = 4 * 1 = 4.)
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    k = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
    y = C.conv_general(x, k, strides=1, dilation=1, padding="same")
    np.testing.assert_allclose(y[0, :, :, 0], [[37, 47, 21], [67, 77, 33], [23, 26, 9]], rtol=RTOL)


def test_same_stride_2_hand():
    # n=5, k=3, s=2: out = ceil(5/2) = 3, total = max(2*2 + 3 - 5, 0) = 2 -> (1, 1)
    # padded [0,1,2,3,4,5,0], windows at 0, 2, 4 with kernel [1,10,100]:
    # [0,1,2] -> 0+10+200=210, [2,3,4] -> 2+30+400=432, [4,5,0] -> 4+50+0=54
    y = C.conv_general(line([1, 2, 3, 4, 5]), taps([1, 10, 100]), strides=2, dilation=1, padding="same")
    np.testing.assert_allclose(y.ravel(), [210, 432, 54], rtol=RTOL)
    # n=6: out = 3, total = max(4 + 3 - 6, 0) = 1 -> (0, 1): padded [1,2,3,4,5,6,0]
    # [1,2,3] -> 321, [3,4,5] -> 543, [5,6,0] -> 65
    y = C.conv_general(line([1, 2, 3, 4, 5, 6]), taps([1, 10, 100]), strides=2, dilation=1, padding="same")
    np.testing.assert_allclose(y.ravel(), [321, 543, 65], rtol=RTOL)


def test_causal_hand():
    # k_eff = 2: one zero on the left: [0,1,2,3,4] with [1,10] -> [10, 21, 32, 43]
    y = C.conv_general(line([1, 2, 3, 4]), taps([1, 10]), strides=1, dilation=1, padding="causal")
    np.testing.assert_allclose(y.ravel(), [10, 21, 32, 43], rtol=RTOL)
    # dilation 2: k_eff = 3, two zeros on the left: p = [0,0,1,2,3,4], y[t] = p[t] + 10 p[t+2]
    # -> [0+10, 0+20, 1+30, 2+40] = [10, 20, 31, 42]
    y = C.conv_general(line([1, 2, 3, 4]), taps([1, 10]), strides=1, dilation=2, padding="causal")
    np.testing.assert_allclose(y.ravel(), [10, 20, 31, 42], rtol=RTOL)


def test_dilation_2_hand():
    # k_eff = 5: y[i] = x[i] + 10 x[i+2] + 100 x[i+4]
    # [1 + 30 + 500, 2 + 40 + 600] = [531, 642]
    y = C.conv_general(line([1, 2, 3, 4, 5, 6]), taps([1, 10, 100]), strides=1, dilation=2, padding="valid")
    np.testing.assert_allclose(y.ravel(), [531, 642], rtol=RTOL)


def test_groups_2_hand():
    # 4 input channels [1,2,3,4], 4 outputs, groups=2: outputs 0,1 see inputs 0,1; outputs 2,3 see 2,3.
    # kernel[0] rows = input channel within the group, columns = output channel:
    #   [[1, 2, 3, 4], [10, 20, 30, 40]]
    # o0 = 1*1 + 10*2 = 21; o1 = 2*1 + 20*2 = 42; o2 = 3*3 + 30*4 = 129; o3 = 4*3 + 40*4 = 172
    x = np.array([1.0, 2, 3, 4]).reshape(1, 1, 4)
    k = np.array([[1.0, 2, 3, 4], [10, 20, 30, 40]]).reshape(1, 2, 4)
    y = C.conv_general(x, k, strides=1, dilation=1, padding="valid", groups=2)
    np.testing.assert_allclose(y.ravel(), [21, 42, 129, 172], rtol=RTOL)


def test_depthwise_multiplier_2_channel_order():
    # channels [1, 2], kernel[0] = [[1, 10], [100, 1000]] (rows c, columns m); output c*2 + m:
    # [1*1, 1*10, 2*100, 2*1000] = [1, 10, 200, 2000]
    x = np.array([1.0, 2.0]).reshape(1, 1, 2)
    k = np.array([[1.0, 10.0], [100.0, 1000.0]]).reshape(1, 2, 2)
    y = C.depthwise_conv(x, k, rank=1, kernel_size=1, depth_multiplier=2, use_bias=False)
    np.testing.assert_allclose(y.ravel(), [1, 10, 200, 2000], rtol=RTOL)


def test_transpose_stride_2_valid_hand():
    # Scatter out[i*2 + j] += x[i] * k[j]; L = (2-1)*2 + max(3, 2) = 5
    # x0=1: out[0:3] += [1, 10, 100]; x1=2: out[2:5] += [2, 20, 200] -> [1, 10, 102, 20, 200]
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10, 100]), strides=2, dilation=1, padding="valid")
    np.testing.assert_allclose(y.ravel(), [1, 10, 102, 20, 200], rtol=RTOL)
    # stride 3 > k_eff = 2: L = (2-1)*3 + max(2, 3) = 6; [1, 10, 0, 2, 20, 0]
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10]), strides=3, dilation=1, padding="valid")
    np.testing.assert_allclose(y.ravel(), [1, 10, 0, 2, 20, 0], rtol=RTOL)


def test_transpose_stride_2_same_hand():
    # k=3: L = 2*2 = 4, p = max(1*2 + 3 - 4, 0) // 2 = 0: full [1,10,102,20,200] read from 0 -> [1,10,102,20]
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10, 100]), strides=2, dilation=1, padding="same")
    np.testing.assert_allclose(y.ravel(), [1, 10, 102, 20], rtol=RTOL)
    # k=4: L = 4, p = max(2 + 4 - 4, 0) // 2 = 1; full: x0 -> [1,10,100,1000] at 0, x1 -> [2,20,200,2000] at 2
    # = [1, 10, 102, 1020, 200, 2000], read from 1 for 4 -> [10, 102, 1020, 200]
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10, 100, 1000]), strides=2, dilation=1, padding="same")
    np.testing.assert_allclose(y.ravel(), [10, 102, 1020, 200], rtol=RTOL)


def test_transpose_output_padding_hand():
    # valid, op=1: L = 2 + 3 + 1 = 6 -> the full scatter and one trailing zero
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10, 100]), strides=2, dilation=1, padding="valid",
                                 output_padding=1)
    np.testing.assert_allclose(y.ravel(), [1, 10, 102, 20, 200, 0], rtol=RTOL)
    # same, k=4, op=1: L = 2 + 4 % 2 + 1 = 3, p = max(2 + 4 - 3, 0) // 2 = 1 -> full[1:4] = [10, 102, 1020]
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10, 100, 1000]), strides=2, dilation=1, padding="same",
                                 output_padding=1)
    np.testing.assert_allclose(y.ravel(), [10, 102, 1020], rtol=RTOL)
    # same, k=4, op=0: L = 2, p = max(2 + 4 - 2, 0) // 2 = 2 -> full[2:4] = [102, 1020]
    y = C.conv_transpose_general(line([1, 2]), taps([1, 10, 100, 1000]), strides=2, dilation=1, padding="same",
                                 output_padding=0)
    np.testing.assert_allclose(y.ravel(), [102, 1020], rtol=RTOL)


# --- direct-loop formulation (tests only) ---------------------------------------------------


def loop_pads(padding, n, k, s, d):
    """(before, after) per the documented rules, written out again for the tests."""
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (k_eff - 1, 0)
    if padding == "same":
        out = math.ceil(n / s)
        total = max((out - 1) * s + k_eff - n, 0)
        return (total // 2, total - total // 2)
    return tuple(padding)


def loop_conv(x, kernel, strides, dilation, pads, groups=1):
    """y[b, i, o] = sum_{j, c} x[b, i*s + j*d - before, g(o)*Cg + c] * kernel[j, c, o], zero outside x."""
    spatial, rank = x.shape[1:-1], x.ndim - 2
    window, (cg, out_channels) = kernel.shape[:rank], kernel.shape[-2:]
    og = out_channels // groups
    out = [
        (n + b + a - ((k - 1) * d + 1)) // s + 1
        for n, (b, a), k, s, d in zip(spatial, pads, window, strides, dilation)
    ]
    y = np.zeros((x.shape[0], *out, out_channels))
    for i in itertools.product(*map(range, out)):
        for j in itertools.product(*map(range, window)):
            src = [ii * s + jj * d - b for ii, jj, s, d, (b, _) in zip(i, j, strides, dilation, pads)]
            if not all(0 <= t < n for t, n in zip(src, spatial)):
                continue
            for o in range(out_channels):
                g = o // og
                patch = x[(slice(None), *src, slice(g * cg, (g + 1) * cg))]
                y[(slice(None), *i, o)] += patch @ kernel[(*j, slice(None), o)]
    return y


def loop_transpose_length(padding, n, k, s, d, op):
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + (max(k_eff, s) if op is None else k_eff + op)
    if padding == "same":
        return n * s if op is None else (n - 1) * s + k_eff % 2 + op
    b, a = padding
    return (n - 1) * s + k_eff - b - a + (op or 0)


def loop_transpose(x, kernel, strides, dilation, padding, output_padding=None):
    """Scatter: y[b, i*s + j*d - p, o] += x[b, i, c] * kernel[j, o, c] for 0 <= i*s + j*d - p < L."""
    spatial, rank = x.shape[1:-1], x.ndim - 2
    window, out_channels = kernel.shape[:rank], kernel.shape[-2]
    per_dim = padding if not isinstance(padding, str) else [padding] * rank
    ops = output_padding or [None] * rank
    lengths = [loop_transpose_length(p, n, k, s, d, op)
               for p, n, k, s, d, op in zip(per_dim, spatial, window, strides, dilation, ops)]
    before = []
    for p, n, k, s, d, length in zip(per_dim, spatial, window, strides, dilation, lengths):
        k_eff = (k - 1) * d + 1
        before.append(0 if p == "valid" else max((n - 1) * s + k_eff - length, 0) // 2 if p == "same" else p[0])
    y = np.zeros((x.shape[0], *lengths, out_channels))
    for i in itertools.product(*map(range, spatial)):
        for j in itertools.product(*map(range, window)):
            dst = [ii * s + jj * d - p for ii, jj, s, d, p in zip(i, j, strides, dilation, before)]
            if all(0 <= t < length for t, length in zip(dst, lengths)):
                y[(slice(None), *dst, slice(None))] += x[(slice(None), *i, slice(None))] @ kernel[j].T
    return y


def random(rng, shape, mean=0.3):
    """Non-integer normal values with a nonzero mean."""
    return rng.normal(mean, 1.0, size=shape)


def rng_for(*params):
    """A generator seeded from the test parameters (stable across runs, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(params).encode()))


def as_tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


# (spatial, kernel, strides, dilation, padding, groups, in_channels, out_channels)
FORWARD_CASES = [
    ((7,), (3,), (1,), (1,), "valid", 1, 2, 3),
    ((8,), (2,), (2,), (1,), "same", 1, 3, 2),
    ((9,), (4,), (3,), (1,), "same", 1, 2, 2),
    ((7,), (3,), (1,), (2,), "causal", 1, 2, 3),
    ((8,), (2,), (3,), (1,), "causal", 2, 4, 2),
    ((10,), (3,), (1,), (3,), "same", 2, 4, 6),
    ((6,), (3,), (2,), (1,), ((2, 1),), 1, 2, 2),
    ((6, 5), (3, 2), (1, 1), (1, 1), "valid", 1, 3, 2),
    ((7, 6), (2, 3), (2, 1), (1, 1), "same", 1, 2, 3),
    ((6, 7), (3, 3), (1, 1), (2, 1), "same", 2, 4, 4),
    ((5, 8), (2, 2), (3, 2), (1, 1), "same", 3, 3, 6),
    ((6, 5), (3, 2), (2, 2), (1, 1), ((0, 2), (1, 1)), 1, 2, 2),
    ((5, 4, 6), (2, 3, 2), (1, 1, 1), (1, 1, 1), "valid", 1, 2, 2),
    ((5, 6, 4), (3, 2, 2), (2, 1, 2), (1, 1, 1), "same", 2, 2, 4),
    ((6, 5, 5), (2, 2, 3), (1, 1, 1), (2, 1, 1), "same", 1, 3, 2),
]


@pytest.mark.parametrize("spatial,window,strides,dilation,padding,groups,cin,cout", FORWARD_CASES)
def test_conv_general_matches_loop(spatial, window, strides, dilation, padding, groups, cin, cout):
    rng = rng_for(spatial, window, strides, dilation, padding, groups)
    x = random(rng, (2, *spatial, cin))
    kernel = random(rng, (*window, cin // groups, cout), mean=-0.2)
    pads = [loop_pads(p, n, k, s, d) for p, n, k, s, d in zip(
        padding if not isinstance(padding, str) else [padding] * len(spatial), spatial, window, strides, dilation)]
    got = C.conv_general(x, kernel, strides=strides, dilation=dilation, padding=padding, groups=groups)
    np.testing.assert_allclose(got, loop_conv(x, kernel, strides, dilation, pads, groups), rtol=RTOL, atol=ATOL)


LAYER_CASES = [  # (rank, spatial, kwargs)
    (1, (9,), dict(kernel_size=3, strides=2, padding="same")),
    (1, (8,), dict(kernel_size=2, dilation_rate=2, padding="causal", groups=2)),
    (2, (7, 6), dict(kernel_size=(3, 2), strides=(1, 2), padding="valid")),
    (2, (6, 7), dict(kernel_size=2, dilation_rate=(2, 1), padding="SAME", groups=2)),
    (3, (5, 4, 5), dict(kernel_size=(2, 3, 2), strides=2, padding="same")),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank,spatial,kwargs", LAYER_CASES)
def test_conv_layer_matches_loop(rank, spatial, kwargs, data_format):
    rng = np.random.default_rng(rank * 100 + len(kwargs))
    groups, filters, cin = kwargs.get("groups", 1), 4, 4
    shapes = C.weight_shapes("conv", (2, *spatial, cin), rank=rank, filters=filters, **kwargs)
    kernel, bias = random(rng, shapes["kernel"]), random(rng, shapes["bias"])
    x = random(rng, (2, *spatial, cin))
    x_in = np.moveaxis(x, -1, 1) if data_format == "channels_first" else x
    got = C.conv(x_in, kernel, bias, rank=rank, filters=filters, data_format=data_format, activation="tanh",
                 kernel_initializer="he_normal", name="c", **kwargs)
    k = as_tuple(kwargs["kernel_size"], rank)
    s = as_tuple(kwargs.get("strides", 1), rank)
    d = as_tuple(kwargs.get("dilation_rate", 1), rank)
    pads = [loop_pads(kwargs["padding"].lower(), n, kk, ss, dd) for n, kk, ss, dd in zip(spatial, k, s, d)]
    want = np.tanh(loop_conv(x, kernel, s, d, pads, groups) + bias)
    if data_format == "channels_first":
        want = np.moveaxis(want, -1, 1)
    assert got.shape == C.output_shape("conv", x_in.shape, rank=rank, filters=filters, data_format=data_format,
                                       **kwargs)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def loop_depthwise(x, kernel, strides, dilation, pads):
    """Per channel c and multiplier m: y[..., c*M + m] = conv(x[..., c:c+1], kernel[..., c:c+1, m:m+1])."""
    channels, multiplier = kernel.shape[-2:]
    parts = [loop_conv(x[..., c:c + 1], kernel[..., c:c + 1, m:m + 1], strides, dilation, pads)
             for c in range(channels) for m in range(multiplier)]
    return np.concatenate(parts, axis=-1)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank,spatial,kwargs", [
    (1, (9,), dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2)),
    (2, (7, 6), dict(kernel_size=(2, 3), dilation_rate=2, padding="same", depth_multiplier=3)),
    (2, (6, 7), dict(kernel_size=3, strides=(2, 1), padding="valid")),
])
def test_depthwise_and_separable_layers_match_loop(rank, spatial, kwargs, data_format):
    rng = np.random.default_rng(7 + rank)
    cin, filters, m = 3, 2, kwargs.get("depth_multiplier", 1)
    k = as_tuple(kwargs["kernel_size"], rank)
    s = as_tuple(kwargs.get("strides", 1), rank)
    d = as_tuple(kwargs.get("dilation_rate", 1), rank)
    pads = [loop_pads(kwargs["padding"], n, kk, ss, dd) for n, kk, ss, dd in zip(spatial, k, s, d)]
    x = random(rng, (2, *spatial, cin))
    x_in = np.moveaxis(x, -1, 1) if data_format == "channels_first" else x
    back = (lambda a: np.moveaxis(a, -1, 1)) if data_format == "channels_first" else (lambda a: a)

    dw, bias = random(rng, (*k, cin, m)), random(rng, (cin * m,))
    got = C.depthwise_conv(x_in, dw, bias, rank=rank, data_format=data_format, activation="relu",
                           depthwise_initializer="ones", **kwargs)
    depthwise = loop_depthwise(x, dw, s, d, pads)
    np.testing.assert_allclose(got, back(np.maximum(depthwise + bias, 0)), rtol=RTOL, atol=ATOL)

    pw, bias = random(rng, (*(1,) * rank, cin * m, filters)), random(rng, (filters,))
    got = C.separable_conv(x_in, dw, pw, bias, rank=rank, filters=filters, data_format=data_format,
                           pointwise_regularizer=None, **kwargs)
    want = np.einsum("...c,cf->...f", depthwise, pw.reshape(cin * m, filters)) + bias
    np.testing.assert_allclose(got, back(want), rtol=RTOL, atol=ATOL)


# (spatial, kernel, strides, dilation, padding, output_padding)
TRANSPOSE_CASES = [
    ((4,), (3,), (2,), (1,), "valid", None),
    ((5,), (2,), (3,), (1,), "valid", None),
    ((4,), (3,), (2,), (1,), "valid", (1,)),
    ((5,), (4,), (2,), (1,), "same", None),
    ((4,), (3,), (3,), (1,), "same", (2,)),
    ((4,), (4,), (2,), (1,), "same", (0,)),
    ((5,), (3,), (1,), (2,), "same", None),
    ((4,), (2,), (1,), (3,), "valid", None),
    ((4,), (3,), (2,), (1,), ((1, 2),), (1,)),
    ((3, 4), (3, 2), (2, 1), (1, 1), "valid", None),
    ((4, 3), (2, 3), (2, 2), (1, 1), "same", (1, 0)),
    ((3, 3), (3, 3), (1, 1), (2, 1), "same", None),
    ((3, 2, 3), (2, 3, 2), (2, 1, 2), (1, 1, 1), "same", None),
    ((2, 3, 2), (3, 2, 2), (1, 2, 1), (1, 1, 1), "valid", (0, 1, 0)),
]


@pytest.mark.parametrize("spatial,window,strides,dilation,padding,output_padding", TRANSPOSE_CASES)
def test_conv_transpose_general_matches_loop(spatial, window, strides, dilation, padding, output_padding):
    rng = rng_for(spatial, window, strides, dilation, padding, output_padding)
    x = random(rng, (2, *spatial, 3))
    kernel = random(rng, (*window, 2, 3), mean=-0.2)
    got = C.conv_transpose_general(x, kernel, strides=strides, dilation=dilation, padding=padding,
                                   output_padding=output_padding)
    want = loop_transpose(x, kernel, strides, dilation, padding, output_padding)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank,spatial,kwargs", [
    (1, (5,), dict(kernel_size=3, strides=2, padding="same", output_padding=1)),
    (2, (3, 4), dict(kernel_size=(2, 3), strides=(2, 1), padding="valid")),
    (2, (4, 3), dict(kernel_size=3, dilation_rate=2, padding="same")),
    (3, (2, 3, 2), dict(kernel_size=2, strides=2, padding="same")),
])
def test_conv_transpose_layer_matches_loop(rank, spatial, kwargs, data_format):
    rng = np.random.default_rng(11 + rank)
    cin, filters = 3, 2
    k = as_tuple(kwargs["kernel_size"], rank)
    s = as_tuple(kwargs.get("strides", 1), rank)
    d = as_tuple(kwargs.get("dilation_rate", 1), rank)
    op = kwargs.get("output_padding")
    op = None if op is None else as_tuple(op, rank)
    x = random(rng, (2, *spatial, cin))
    x_in = np.moveaxis(x, -1, 1) if data_format == "channels_first" else x
    kernel, bias = random(rng, (*k, filters, cin)), random(rng, (filters,))
    got = C.conv_transpose(x_in, kernel, bias, rank=rank, filters=filters, data_format=data_format,
                           activation="sigmoid", bias_constraint=None, **kwargs)
    want = 1 / (1 + np.exp(-(loop_transpose(x, kernel, s, d, kwargs["padding"], op) + bias)))
    if data_format == "channels_first":
        want = np.moveaxis(want, -1, 1)
    assert got.shape == C.output_shape("transpose", x_in.shape, rank=rank, filters=filters,
                                       data_format=data_format, **kwargs)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


# --- adjoint identity -----------------------------------------------------------------------

ADJOINT_CASES = [  # (spatial of the transposed input, kernel, strides, dilation, output_padding)
    ((5,), (3,), (1,), (1,), None),
    ((5,), (4,), (1,), (1,), None),
    ((4,), (3,), (2,), (1,), None),
    ((4,), (2,), (3,), (1,), None),
    ((4,), (4,), (2,), (1,), (1,)),
    ((4,), (3,), (3,), (1,), (2,)),
    ((4,), (4,), (3,), (1,), (0,)),
    ((4,), (1,), (3,), (1,), (2,)),
    ((5,), (3,), (1,), (2,), None),
    ((5,), (2,), (1,), (3,), (0,)),
    ((3, 4), (3, 2), (2, 1), (1, 1), None),
    ((3, 4), (2, 3), (2, 3), (1, 1), (1, 2)),
    ((4, 3), (3, 3), (1, 1), (2, 2), None),
    ((2, 3, 2), (2, 3, 3), (2, 1, 2), (1, 1, 1), None),
    ((2, 3, 2), (3, 2, 2), (1, 2, 1), (1, 1, 1), (0, 1, 0)),
]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("spatial,window,strides,dilation,output_padding", ADJOINT_CASES)
def test_adjoint_identity(spatial, window, strides, dilation, output_padding, padding):
    """<conv_general(x, K), y> == <x, conv_transpose_general(y, K)>, K of shape (*k, A, B).

    Checked against the forward conv with the explicit padding derived for the adjoint,
    p = 0 (valid) or max((n-1)*s + k_eff - L, 0) // 2 (same) before and what is left after, and
    against the forward conv with the same padding name wherever its output length is n.
    """
    rng = rng_for(spatial, window, strides, dilation, output_padding, padding)
    kernel = random(rng, (*window, 2, 3))
    y = random(rng, (2, *spatial, 3))
    z = C.conv_transpose_general(y, kernel, strides=strides, dilation=dilation, padding=padding,
                                 output_padding=output_padding)
    x = random(rng, z.shape)
    pairs = []
    for n, length, k, s, d in zip(spatial, z.shape[1:-1], window, strides, dilation):
        k_eff = (k - 1) * d + 1
        before = 0 if padding == "valid" else max((n - 1) * s + k_eff - length, 0) // 2
        pairs.append((before, max((n - 1) * s + k_eff - length - before, 0)))
    forward = C.conv_general(x, kernel, strides=strides, dilation=dilation, padding=pairs)
    assert forward.shape == y.shape
    np.testing.assert_allclose(np.vdot(forward, y), np.vdot(x, z), rtol=RTOL)

    forward = C.conv_general(x, kernel, strides=strides, dilation=dilation, padding=padding)
    if forward.shape == y.shape:
        np.testing.assert_allclose(np.vdot(forward, y), np.vdot(x, z), rtol=RTOL)
    else:  # only 'same' with output_padding 0 and an even k_eff: L = (n-1)*s, so ceil(L/s) = n - 1
        for n, back, k, d, op in zip(spatial, forward.shape[1:-1], window, dilation, output_padding):
            assert back == n or (padding == "same" and op == 0 and ((k - 1) * d + 1) % 2 == 0 and back == n - 1)


@pytest.mark.parametrize("pairs,output_padding", [(((0, 0),), None), (((2, 1),), (1,)), (((1, 2), (3, 0)), (0, 1))])
def test_adjoint_identity_explicit_padding(pairs, output_padding):
    rank = len(pairs)
    rng = np.random.default_rng(rank)
    kernel = random(rng, (*(4,) * rank, 2, 3))
    y = random(rng, (2, *(3,) * rank, 3))
    strides = (2,) * rank
    z = C.conv_transpose_general(y, kernel, strides=strides, dilation=1, padding=pairs, output_padding=output_padding)
    x = random(rng, z.shape)
    forward = C.conv_general(x, kernel, strides=strides, dilation=1, padding=pairs)
    assert forward.shape == y.shape
    np.testing.assert_allclose(np.vdot(forward, y), np.vdot(x, z), rtol=RTOL)


# --- shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,kwargs,expected", [
    ("transpose", dict(filters=10, kernel_size=3, strides=1, padding="same"), (4, 28, 28, 10)),
    ("transpose", dict(filters=10, kernel_size=3, strides=1), (4, 30, 30, 10)),
    ("transpose", dict(filters=10, kernel_size=3, strides=2), (4, 57, 57, 10)),
    ("transpose", dict(filters=10, kernel_size=3, strides=2, padding="same"), (4, 56, 56, 10)),
    ("conv", dict(filters=2, kernel_size=3, padding="same"), (4, 28, 28, 2)),
    ("conv", dict(filters=2, kernel_size=3), (4, 26, 26, 2)),
    ("conv", dict(filters=2, kernel_size=3, dilation_rate=2), (4, 24, 24, 2)),
])
def test_article_output_shapes(kind, kwargs, expected):
    assert C.output_shape(kind, (4, 28, 28, 3), **kwargs) == expected


def test_docstring_example_shapes():
    # Examples of the Keras 3.15 docstrings.
    assert C.output_shape("conv", (4, 10, 128), filters=32, kernel_size=3) == (4, 8, 32)
    # DepthwiseConv1D's example is written `DepthwiseConv1D(3, 3, 2)` -> (4, 4, 36) for (4, 10, 12);
    # positionally that is strides=3, padding=2, so the shape matches kernel 3, strides 2, multiplier 3.
    assert C.output_shape("depthwise", (4, 10, 12), kernel_size=3, strides=2, depth_multiplier=3) == (4, 4, 36)
    assert C.output_shape("depthwise", (4, 10, 10, 12), kernel_size=3) == (4, 8, 8, 12)
    # SeparableConv1D/2D's examples (`SeparableConv1D(3, 4, 3, 2)` -> (4, 4, 4)) match no reading of
    # their own arguments, so they are not used here.
    assert C.output_shape("transpose", (4, 10, 128), filters=32, kernel_size=3, strides=2) == (4, 21, 32)
    assert C.output_shape("transpose", (4, 10, 8, 128), filters=32, kernel_size=2, strides=2) == (4, 20, 16, 32)
    assert C.output_shape("transpose", (4, 10, 8, 12, 128), filters=32, kernel_size=2, strides=2) == (4, 20, 16, 24, 32)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_transpose_length_table_is_consistent_with_forward(padding):
    """For every (n, k, s, d, op), the table's L maps back to n under the forward rule, except
    'same' with op = 0 and an even k_eff, where ceil(L / s) = n - 1."""
    mismatches = []
    for n, k, s, d in itertools.product(range(1, 6), range(1, 5), range(1, 4), range(1, 3)):
        if s > 1 and d > 1:
            continue
        k_eff = (k - 1) * d + 1
        for op in [None, *range(s)]:
            try:
                # rank 2 (square): Conv1DTranspose documents no dilation > 1
                shape = C.output_shape("transpose", (1, n, n, 1), filters=1, kernel_size=k, strides=s,
                                       dilation_rate=d, padding=padding, output_padding=op)
            except ValueError:
                assert loop_transpose_length(padding, n, k, s, d, op) < 1
                continue
            length = shape[1]
            assert length == loop_transpose_length(padding, n, k, s, d, op)
            back = C.output_shape("conv", (1, length, 1), filters=1, kernel_size=k, strides=s,
                                  dilation_rate=d, padding=padding)[1]
            if back != n:
                mismatches.append((n, k, s, d, op, k_eff, length, back))
    for n, k, s, d, op, k_eff, length, back in mismatches:
        assert padding == "same" and op == 0 and k_eff % 2 == 0 and back == n - 1
    assert (padding == "same") == bool(mismatches)


def test_weight_shapes_names_and_bias():
    assert C.weight_shapes("conv", (2, 9, 9, 6), filters=4, kernel_size=3, groups=2) == {
        "kernel": (3, 3, 3, 4), "bias": (4,)}
    assert C.weight_shapes("transpose", (2, 9, 6), filters=4, kernel_size=3, use_bias=False) == {"kernel": (3, 4, 6)}
    assert C.weight_shapes("depthwise", (2, 9, 9, 6), kernel_size=(3, 2), depth_multiplier=2) == {
        "kernel": (3, 2, 6, 2), "bias": (12,)}
    assert C.weight_shapes("separable", (2, 9, 6), rank=1, filters=5, kernel_size=3, depth_multiplier=2) == {
        "depthwise_kernel": (3, 6, 2), "pointwise_kernel": (1, 12, 5), "bias": (5,)}
    assert C.weight_shapes("conv", (2, 6, 9, 9), filters=4, kernel_size=3, data_format="channels_first")["kernel"] == (
        3, 3, 6, 4)


def test_unknown_batch_and_spatial_dims_pass_through():
    assert C.output_shape("conv", (None, None, 8, 3), filters=2, kernel_size=3) == (None, None, 6, 2)


# --- validation -----------------------------------------------------------------------------

INVALID = [  # (kind, input_shape, kwargs, argument named in the message)
    ("conv", (1, 9, 9, 2), dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "strides"),
    ("conv", (1, 9, 9, 2), dict(filters=2, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2)), "dilation_rate"),
    ("depthwise", (1, 9, 2), dict(kernel_size=3, strides=2, dilation_rate=2), "strides"),
    ("transpose", (1, 9, 9, 2), dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "strides"),
    ("conv", (1, 9, 9, 3), dict(filters=4, kernel_size=3, groups=2), "groups"),
    ("conv", (1, 9, 9, 4), dict(filters=3, kernel_size=3, groups=2), "groups"),
    ("conv", (1, 9, 9, 4), dict(filters=4, kernel_size=3, groups=0), "groups"),
    ("transpose", (1, 9, 2), dict(filters=2, kernel_size=3, strides=2, output_padding=2), "output_padding"),
    ("transpose", (1, 9, 9, 2), dict(filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 3)),
     "output_padding"),
    ("transpose", (1, 9, 2), dict(filters=2, kernel_size=3, output_padding=-1), "output_padding"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, padding="full"), "padding"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, padding=[[1, 1]]), "padding"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, data_format="NWC"), "data_format"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=0), "kernel_size"),
    ("conv", (1, 9, 9, 2), dict(filters=2, kernel_size=(3, 3, 3)), "kernel_size"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, strides=0), "strides"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, dilation_rate=0), "dilation_rate"),
    ("conv", (1, 9, 2), dict(filters=0, kernel_size=3), "filters"),
    ("depthwise", (1, 9, 2), dict(kernel_size=3, depth_multiplier=0), "depth_multiplier"),
    ("conv", (1, 9, 9, 2), dict(filters=2, kernel_size=3, padding="causal"), "padding"),
    ("depthwise", (1, 9, 2), dict(kernel_size=3, padding="causal"), "padding"),
    ("separable", (1, 9, 2), dict(filters=2, kernel_size=3, padding="causal"), "padding"),
    ("transpose", (1, 9, 2), dict(filters=2, kernel_size=3, padding="causal"), "padding"),
    ("conv", (1, 2, 2), dict(filters=2, kernel_size=3), "spatial size"),
    ("conv", (1, 5, 2), dict(filters=2, kernel_size=3, dilation_rate=3), "spatial size"),
    ("conv", (1, 9, 2), dict(rank=2, filters=2, kernel_size=3), "input_shape"),
    ("depthwise", (1, 4, 4, 4, 2), dict(kernel_size=3), "rank"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, activation="nope"), "activation"),
    ("conv", (1, 9, 2), dict(filters=2, kernel_size=3, use_bias="yes"), "use_bias"),
    ("conv", (1, 9, 0), dict(filters=2, kernel_size=3), "channel"),
    ("nope", (1, 9, 2), dict(filters=2, kernel_size=3), "kind"),
]


@pytest.mark.parametrize("kind,shape,kwargs,argument", INVALID)
def test_invalid_arguments_raise_value_error(kind, shape, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        C.output_shape(kind, shape, **kwargs)
    with pytest.raises(ValueError, match=argument):
        C.weight_shapes(kind, shape, **kwargs)


def test_strides_dilation_message_quotes_values():
    with pytest.raises(ValueError, match=r"Received: strides=\(2, 2\) and dilation_rate=\(2, 2\)"):
        C.output_shape("conv", (1, 9, 9, 2), filters=2, kernel_size=3, strides=2, dilation_rate=2)


def test_layer_function_validates_like_shape_functions():
    x = np.zeros((1, 9, 9, 2))
    with pytest.raises(ValueError, match="strides"):
        C.conv(x, np.zeros((3, 3, 2, 2)), np.zeros(2), rank=2, filters=2, kernel_size=3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="kernel"):
        C.conv(x, np.zeros((3, 3, 2, 3)), np.zeros(2), rank=2, filters=2, kernel_size=3)
    with pytest.raises(ValueError, match="bias"):
        C.conv(x, np.zeros((3, 3, 2, 2)), rank=2, filters=2, kernel_size=3)
    with pytest.raises(ValueError, match="bias"):
        C.conv(x, np.zeros((3, 3, 2, 2)), np.zeros(2), rank=2, filters=2, kernel_size=3, use_bias=False)
    with pytest.raises(ValueError, match="input_shape"):
        C.conv(x[0], np.zeros((3, 3, 2, 2)), np.zeros(2), rank=2, filters=2, kernel_size=3)


def test_unknown_keyword_is_type_error_and_value_free_keywords_are_ignored():
    x = np.ones((1, 5, 2))
    with pytest.raises(TypeError, match="kernel_initialiser"):
        C.conv(x, np.ones((3, 2, 1)), np.zeros(1), rank=1, filters=1, kernel_size=3, kernel_initialiser="ones")
    with pytest.raises(TypeError, match="pointwise_initializer"):
        C.weight_shapes("conv", (1, 5, 2), filters=1, kernel_size=3, pointwise_initializer="ones")
    with pytest.raises(TypeError, match="filters"):
        C.output_shape("conv", (1, 5, 2), kernel_size=3)
    y = C.conv(x, np.ones((3, 2, 1)), np.zeros(1), rank=1, filters=1, kernel_size=3, kernel_initializer="zeros",
               bias_regularizer="l2", activity_regularizer=None, kernel_constraint=None, name="c", trainable=False)
    np.testing.assert_allclose(y.ravel(), [6, 6, 6], rtol=RTOL)


def test_general_kernel_errors_name_arguments():
    x = np.zeros((1, 6, 4))
    with pytest.raises(ValueError, match="groups"):
        C.conv_general(x, np.zeros((3, 3, 4)), strides=1, dilation=1, padding="valid", groups=2)
    with pytest.raises(ValueError, match="kernel"):
        C.conv_general(x, np.zeros((3, 4)), strides=1, dilation=1, padding="valid")
    with pytest.raises(ValueError, match="padding"):
        C.conv_general(x, np.zeros((3, 4, 1)), strides=1, dilation=1, padding=[(1, -1)])
    with pytest.raises(ValueError, match="output_padding"):
        C.conv_transpose_general(x, np.zeros((3, 2, 4)), strides=2, dilation=1, padding="valid", output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        C.conv_transpose_general(x, np.zeros((3, 2, 4)), strides=1, dilation=1, padding="causal")


def test_outputs_are_float64_from_integer_inputs():
    y = C.conv(np.arange(10).reshape(1, 5, 2), np.ones((2, 2, 3), dtype=np.int32), np.zeros(3, dtype=np.float32),
               rank=1, filters=3, kernel_size=2, padding="same")
    assert y.dtype == np.float64


def test_not_supported_is_not_a_promise_to_raise():
    # Conv1DTranspose: "dilation rate larger than 1 is not currently supported"; Conv2DTranspose:
    # "different dilation rates for different dimensions is not supported"; SeparableConv:
    # strides "incompatible" with dilation. None is listed under "Raises:", so each is computed.
    assert C.output_shape("transpose", (1, 6, 2), filters=1, kernel_size=2, dilation_rate=2) == (1, 8, 1)
    assert C.output_shape("transpose", (1, 6, 6, 2), filters=1, kernel_size=2, dilation_rate=(1, 2)) == (1, 7, 8, 1)
    assert C.output_shape("transpose", (1, 6, 6, 2), filters=1, kernel_size=2, dilation_rate=2) == (1, 8, 8, 1)
    assert C.output_shape("transpose", (1, 6, 5, 4, 2), filters=1, kernel_size=2, dilation_rate=(1, 2, 3)) == (1, 7, 7, 7, 1)
    # separable, strides 2 and dilation 2 over 9 steps, kernel 3 (extent 5): (9 - 5) // 2 + 1 = 3
    assert C.output_shape("separable", (1, 9, 2), filters=2, kernel_size=3, strides=2, dilation_rate=2) == (1, 3, 2)
    # the documented "Raises: ValueError" of Conv, DepthwiseConv and ConvTranspose stays
    for kind, extra in (("conv", {"filters": 1}), ("depthwise", {}), ("transpose", {"filters": 1})):
        with pytest.raises(ValueError, match="dilation_rate"):
            C.output_shape(kind, (1, 9, 2), kernel_size=3, strides=2, dilation_rate=2, **extra)