"""Keras 3 merging layers in NumPy float64 (none has weights); `inputs` is a list of arrays, in order.

    Add, Multiply, Average, Maximum, Minimum   element-wise sum, product, mean, max, min of >= 1 inputs
    Subtract                                   inputs[0] - inputs[1], exactly 2 inputs
    Concatenate(axis=-1)                       np.concatenate along `axis`
    Dot(axes, normalize=False)                 batch-wise dot product of 2 inputs along one axis each

The contract (function signature, weight_shapes, output_shape, LAYERS, ignored arguments) is
the one of reference_impl.core; `input_shapes` is a list of shapes, batch dims included.

Rules from the Keras 3.15 docstrings:
- element-wise layers: "It takes as input a list of tensors, all of the same shape, and
  returns a single tensor (also of the same shape)"; Subtract: "a list of tensors of size 2
  both of the same shape ... (inputs[0] - inputs[1])". Inputs of different shapes are a
  ValueError (no broadcasting). Maximum / Minimum propagate NaN.
- Concatenate: "all of the same shape except for the concatenation axis"; axis: "Axis along
  which to concatenate" (an int in [-rank, rank), the batch axis 0 included).
- Dot: "a list of inputs of size 2"; axes "Integer or tuple of integers ... If a tuple, should
  be two integers corresponding to the desired axis from the first input and the desired axis
  from the second input ... the size of the two selected axes must match, and ... axis `0`
  (the batch axis) cannot be included"; "The batch dimension should be of same size for both
  the inputs"; normalize: "Whether to L2-normalize samples along the dot product axis before
  taking the dot product. If set to `True`, then the output of the dot product is the cosine
  proximity between the two samples."
"""
from __future__ import annotations

import numpy as np

from reference_impl.conv import _COMMON_IGNORED, _is_int
from reference_impl.core import REQUIRED, _arguments, _bool, _check_weights, _f64, _shape_argument
from reference_impl.normalization import unit_norm

ELEMENTWISE = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")

# Layer name -> (constructor argument -> default, arguments accepted and ignored).
ARGUMENTS = {
    **{name: ({}, _COMMON_IGNORED) for name in ELEMENTWISE},
    "Concatenate": ({"axis": -1}, _COMMON_IGNORED),
    "Dot": ({"axes": REQUIRED, "normalize": False}, _COMMON_IGNORED),
}


# --- shape rules (pure) -------------------------------------------------------------------


def _shapes(layer_name, input_shapes, count=None):
    """The list of input shapes: at least one (exactly `count` if given), each at least rank 1."""
    if not isinstance(input_shapes, (list, tuple)) or not input_shapes or not all(
        isinstance(s, (list, tuple)) for s in input_shapes
    ):
        raise ValueError(
            f"{layer_name} takes a list of input shapes (one per input). Received: input_shapes={input_shapes!r}"
        )
    if count is not None and len(input_shapes) != count:
        raise ValueError(
            f"{layer_name} takes exactly {count} inputs. "
            f"Received: {len(input_shapes)} input shapes {list(input_shapes)}"
        )
    return [_shape_argument(f"input_shapes[{i}]", s, min_rank=1) for i, s in enumerate(input_shapes)]


def _same(a, b):
    """Dims a and b agree (None matches anything)."""
    return a is None or b is None or a == b


def _merged(a, b):
    return b if a is None else a


def _elementwise_shape(layer_name, input_shapes):
    shapes = _shapes(layer_name, input_shapes, count=2 if layer_name == "Subtract" else None)
    out = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(out) or not all(map(_same, s, out)):
            raise ValueError(
                f"{layer_name} takes inputs all of the same shape. Received: input_shapes={shapes}"
            )
        out = tuple(map(_merged, out, s))
    return out


def _concat_axis(axis, rank):
    if not (_is_int(axis) and -rank <= axis < rank):
        raise ValueError(
            f"`axis` must be an int in [-{rank}, {rank}) for inputs of rank {rank}. Received: axis={axis!r}"
        )
    return int(axis) % rank


def _concatenate_shape(input_shapes, args):
    shapes = _shapes("Concatenate", input_shapes)
    rank = len(shapes[0])
    axis = _concat_axis(args["axis"], rank)
    out = list(shapes[0])
    for s in shapes[1:]:
        if len(s) != rank or not all(_same(p, q) for i, (p, q) in enumerate(zip(s, out)) if i != axis):
            raise ValueError(
                "Concatenate takes inputs with matching shapes except for the concatenation axis. "
                f"Received: input_shapes={shapes}, axis={args['axis']!r}"
            )
        out = [(None if p is None or q is None else p + q) if i == axis else _merged(p, q)
               for i, (p, q) in enumerate(zip(out, s))]
    return tuple(out)


def _dot_axes(axes, ranks):
    """(axis of input 0, axis of input 1), non-negative, from an int or a pair; 0 (batch) rejected."""
    pair = (axes, axes) if _is_int(axes) else (tuple(axes) if isinstance(axes, (list, tuple)) else None)
    if pair is None or len(pair) != 2 or not all(_is_int(a) for a in pair):
        raise ValueError(f"`axes` must be an int or a tuple of 2 ints. Received: axes={axes!r}")
    out = []
    for a, rank in zip(pair, ranks):
        if not -rank <= a < rank or a % rank == 0:
            raise ValueError(
                f"`axes` must name a non-batch axis of each input (1 .. rank - 1, or negative; axis 0, the batch "
                f"axis, cannot be included). Received: axes={axes!r} for inputs of ranks {tuple(ranks)}"
            )
        out.append(int(a) % rank)
    return tuple(out)


def _dot_shape(input_shapes, args):
    x, y = _shapes("Dot", input_shapes, count=2)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"Dot takes inputs of rank >= 2 (batch, ...). Received: input_shapes={[x, y]}")
    _bool("normalize", args["normalize"])
    a, b = _dot_axes(args["axes"], (len(x), len(y)))
    if not _same(x[0], y[0]):
        raise ValueError(f"Dot takes inputs with the same batch size. Received: input_shapes={[x, y]}")
    if not _same(x[a], y[b]):
        raise ValueError(
            f"The sizes of the dot axes must match: input 0 has {x[a]} at axis {a}, input 1 has {y[b]} at axis {b}. "
            f"Received: input_shapes={[x, y]}, axes={args['axes']!r}"
        )
    out = (_merged(x[0], y[0]),) + x[1:a] + x[a + 1:] + y[1:b] + y[b + 1:]
    return out if len(out) > 1 else out + (1,)


def weight_shapes(layer_name, input_shapes, **params):
    """{} for every merging layer (none has variables); ValueError for rejected arguments."""
    output_shape(layer_name, input_shapes, **params)
    return {}


def output_shape(layer_name, input_shapes, **params):
    """Output shape (batch dim included) of a Keras merging layer from the list of input shapes.

    Element-wise: the common shape; Concatenate: the common shape with the sizes at `axis`
    summed; Dot: (batch, *x.shape[1:] without axis a, *y.shape[1:] without axis b), or
    (batch, 1) when that is (batch,).
    """
    args = _arguments(layer_name, params, ARGUMENTS)
    if layer_name == "Concatenate":
        return _concatenate_shape(input_shapes, args)
    if layer_name == "Dot":
        return _dot_shape(input_shapes, args)
    return _elementwise_shape(layer_name, input_shapes)


# --- layer functions --------------------------------------------------------------------


def _prepare(layer_name, inputs, weights, params):
    args = _arguments(layer_name, params, ARGUMENTS)
    _check_weights(layer_name, {}, weights)
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"{layer_name} takes a list of input arrays. Received: inputs of type {type(inputs).__name__}")
    arrays = [_f64(x) for x in inputs]
    output_shape(layer_name, [a.shape for a in arrays], **params)
    return arrays, args


def add(inputs, weights, /, **params):
    """Add: y = x_1 + x_2 + ... + x_k (k >= 1 inputs of the same shape)."""
    arrays, _ = _prepare("Add", inputs, weights, params)
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        return np.sum(arrays, axis=0)


def subtract(inputs, weights, /, **params):
    """Subtract: y = inputs[0] - inputs[1] (exactly 2 inputs of the same shape)."""
    (x, y), _ = _prepare("Subtract", inputs, weights, params)
    return x - y


def multiply(inputs, weights, /, **params):
    """Multiply: y = x_1 * x_2 * ... * x_k element-wise (k >= 1 inputs of the same shape)."""
    arrays, _ = _prepare("Multiply", inputs, weights, params)
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        return np.prod(arrays, axis=0)


def average(inputs, weights, /, **params):
    """Average: y = (x_1 + ... + x_k) / k element-wise (k >= 1 inputs of the same shape)."""
    arrays, _ = _prepare("Average", inputs, weights, params)
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        return np.mean(arrays, axis=0)


def maximum(inputs, weights, /, **params):
    """Maximum: y = max(x_1, ..., x_k) element-wise (NaN if any is NaN)."""
    arrays, _ = _prepare("Maximum", inputs, weights, params)
    return np.max(arrays, axis=0)


def minimum(inputs, weights, /, **params):
    """Minimum: y = min(x_1, ..., x_k) element-wise (NaN if any is NaN)."""
    arrays, _ = _prepare("Minimum", inputs, weights, params)
    return np.min(arrays, axis=0)


def concatenate(inputs, weights, /, **params):
    """Concatenate: y = concatenate(inputs, axis); every other dim must match across inputs."""
    arrays, args = _prepare("Concatenate", inputs, weights, params)
    return np.concatenate(arrays, axis=args["axis"])


def dot(inputs, weights, /, **params):
    """Dot: batch-wise dot product of x (input 0) along axis a and y (input 1) along axis b.

        out[n, i..., j...] = sum_k x[n, i..., k (at a), i...] * y[n, j..., k (at b), j...]

    output dims: batch, then x's non-batch dims without a, then y's without b; when no dim is
    left the output is (batch, 1) (the rule of the Keras batch_dot docstring: "If the final
    rank is 1, we reshape it to (batch_size, 1)"). axes: an int (the same axis of both inputs)
    or a pair (a, b); negative values count from the end of each input.
    normalize=True: x and y are first divided by their L2 norms along a and b
    (reference_impl.normalization.unit_norm), so 2-D inputs give the cosine of the two rows.
    A slice that is all zeros has no direction and is left at zero (its cosines are 0).
    """
    (x, y), args = _prepare("Dot", inputs, weights, params)
    a, b = _dot_axes(args["axes"], (x.ndim, y.ndim))
    if _bool("normalize", args["normalize"]):
        x, y = unit_norm(x, axis=a), unit_norm(y, axis=b)
    xm = np.moveaxis(x, a, -1)  # (n, i..., k)
    ym = np.moveaxis(y, b, 1)  # (n, k, j...)
    n, k = xm.shape[0], xm.shape[-1]
    xi, yj = xm.shape[1:-1], ym.shape[2:]
    out = np.einsum("nik,nkj->nij", xm.reshape(n, -1, k), ym.reshape(n, k, -1))
    out = out.reshape((n,) + xi + yj)
    return out.reshape(n, 1) if out.ndim == 1 else out


LAYERS = {
    "Add": add,
    "Subtract": subtract,
    "Multiply": multiply,
    "Average": average,
    "Maximum": maximum,
    "Minimum": minimum,
    "Concatenate": concatenate,
    "Dot": dot,
}
