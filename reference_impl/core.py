"""Keras 3 core layers in NumPy float64: Dense, EinsumDense, Embedding, Identity.

Contract (shared by reference_impl.core, .reshaping and .merging): every layer is a function
`<layer>(inputs, weights, /, **params) -> output` named in snake_case after the Keras class,
with `inputs` an array (or a list of arrays for merging layers), `weights` a dict of Keras
variable names to arrays (empty for weightless layers) and `params` the Keras constructor
arguments. `weight_shapes(layer_name, input_shapes, **params)` and
`output_shape(layer_name, input_shapes, **params)` are pure functions of the arguments and the
input shape(s) (batch dim included, None where unknown). `LAYERS` maps class names to functions.

Variable names (Keras 3 `v.path` without the layer's own name):

    Dense        kernel (d_in, units), bias (units,) if use_bias;
                 with lora_rank=r: lora_kernel_a (d_in, r), lora_kernel_b (r, units)
    EinsumDense  kernel (sizes of the kernel spec), bias (see einsum_dense) if bias_axes;
                 with lora_rank=r: lora_kernel_a (*kernel.shape[:-1], r), lora_kernel_b (r, kernel.shape[-1])
    Embedding    embeddings (input_dim, output_dim);
                 with lora_rank=r: lora_embeddings_a (input_dim, r), lora_embeddings_b (r, output_dim)
    Identity     (none)

LoRA, from the Keras 3.15 docstrings: "LoRA sets the layer's kernel to non-trainable and
replaces it with a delta over the original kernel, obtained via multiplying two lower-rank
trainable matrices", "The delta is scaled by `lora_alpha / lora_rank`" (lora_alpha unset:
scale 1); for EinsumDense "the factorization happens on the last dimension". So the layer
uses kernel + (lora_alpha / lora_rank) * tensordot(lora_kernel_a, lora_kernel_b, 1).

Arguments that do not change the computed values (initializers, regularizers, constraints,
name, trainable, activity_regularizer; Embedding's `weights`, the initial embeddings) are
accepted and ignored; any other unknown argument is a TypeError. Invalid values are a
ValueError naming the argument and the value received.
"""
from __future__ import annotations

import re

import numpy as np

from reference_impl import activations as _activations
from reference_impl.conv import _COMMON_IGNORED, _is_int

REQUIRED = object()  # marks a constructor argument without a default

_KERNEL_BIAS_OBJECTS = frozenset({
    "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
    "kernel_constraint", "bias_constraint",
})
_EMBEDDING_OBJECTS = frozenset({
    "embeddings_initializer", "embeddings_regularizer", "embeddings_constraint", "weights",
})

# Layer name -> (constructor argument -> default, arguments accepted and ignored).
ARGUMENTS = {
    "Dense": (
        {"units": REQUIRED, "activation": None, "use_bias": True, "lora_rank": None, "lora_alpha": None},
        _COMMON_IGNORED | _KERNEL_BIAS_OBJECTS,
    ),
    "EinsumDense": (
        {"equation": REQUIRED, "output_shape": REQUIRED, "activation": None, "bias_axes": None,
         "lora_rank": None, "lora_alpha": None},
        _COMMON_IGNORED | _KERNEL_BIAS_OBJECTS,
    ),
    "Embedding": (
        {"input_dim": REQUIRED, "output_dim": REQUIRED, "mask_zero": False, "lora_rank": None, "lora_alpha": None},
        _COMMON_IGNORED | _EMBEDDING_OBJECTS,
    ),
    "Identity": ({}, _COMMON_IGNORED),
}


# --- contract helpers (also used by reference_impl.reshaping and reference_impl.merging) -----


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _arguments(layer, params, table):
    """Bind `params` to the layer's defaults in `table`: unknown names TypeError, missing required TypeError.

    Returns a dict of every constructor argument that changes values (ignored ones dropped).
    """
    if layer not in table:
        raise ValueError(f"`layer_name` must be one of {', '.join(sorted(table))}. Received: layer_name={layer!r}")
    defaults, ignored = table[layer]
    unknown = sorted(set(params) - set(defaults) - set(ignored))
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for {layer}: {', '.join(unknown)}")
    args = {name: params.get(name, default) for name, default in defaults.items()}
    missing = [name for name, value in args.items() if value is REQUIRED]
    if missing:
        raise TypeError(f"Missing required argument(s) for {layer}: {', '.join(missing)}")
    return args


def _check_weights(layer, expected, weights):
    """float64 copies of `weights` (a dict) checked against expected name -> shape.

    A missing name, an extra name or a wrong shape is a ValueError naming the weight.
    """
    weights = {} if weights is None else dict(weights)
    extra = sorted(set(weights) - set(expected))
    if extra:
        raise ValueError(
            f"{layer} has no weight(s) {', '.join(map(repr, extra))} with these arguments; its weights are "
            f"{sorted(expected) or 'none'}. Received: weights with keys {sorted(weights)}"
        )
    out = {}
    for name, shape in expected.items():
        if name not in weights or weights[name] is None:
            raise ValueError(f"`{name}` of shape {shape} is required by {layer}. Received: {name}=None")
        value = _f64(weights[name])
        if value.shape != tuple(shape):
            raise ValueError(f"`{name}` must have shape {tuple(shape)}. Received: {name}.shape={value.shape}")
        out[name] = value
    return out


def _shape_argument(name, shape, *, min_rank=0, rank=None):
    """A shape tuple of non-negative ints or None, of the given rank (or at least min_rank)."""
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if shape is None or not all(n is None or (_is_int(n) and n >= 0) for n in shape):
        raise ValueError(f"`{name}` must be a tuple of non-negative ints or None. Received: {name}={shape!r}")
    if (rank is not None and len(shape) != rank) or len(shape) < min_rank:
        want = f"rank {rank}" if rank is not None else f"rank >= {min_rank}"
        raise ValueError(f"`{name}` must have {want}. Received: {name}={shape} (rank {len(shape)})")
    return tuple(None if n is None else int(n) for n in shape)


def _positive_int(name, value, *, allow_none=False):
    if value is None and allow_none:
        return None
    if not (_is_int(value) and value >= 1):
        extra = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be a positive int{extra}. Received: {name}={value!r}")
    return int(value)


def _bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def _activation(activation):
    return _activations.get(activation)


def _apply_activation(function, y):
    return np.asarray(function(y), dtype=np.float64)


def _lora_alpha(lora_alpha):
    if lora_alpha is not None and not _is_int(lora_alpha):
        raise ValueError(f"`lora_alpha` must be an int or None. Received: lora_alpha={lora_alpha!r}")
    return lora_alpha


def _lora_scale(rank, alpha):
    """lora_alpha / lora_rank, or 1 when lora_alpha is None."""
    return 1.0 if alpha is None else alpha / rank


def _lora_shapes(prefix, shape, rank):
    """LoRA factor shapes for a weight of `shape`, factorized on its last dimension."""
    if rank is None:
        return {}
    return {f"{prefix}_a": tuple(shape[:-1]) + (rank,), f"{prefix}_b": (rank, shape[-1])}


def _effective(weights, name, prefix, rank, alpha):
    """weights[name] + (alpha / rank) * tensordot(weights[prefix_a], weights[prefix_b], 1) (LoRA), or weights[name]."""
    w = weights[name]
    if rank is None:
        return w
    return w + _lora_scale(rank, alpha) * np.tensordot(weights[f"{prefix}_a"], weights[f"{prefix}_b"], axes=1)


# --- Dense ----------------------------------------------------------------------------------


def _dense_spec(input_shape, args):
    shape = _shape_argument("input_shape", input_shape, min_rank=2)
    units = _positive_int("units", args["units"])
    _activation(args["activation"])
    use_bias = _bool("use_bias", args["use_bias"])
    rank = _positive_int("lora_rank", args["lora_rank"], allow_none=True)
    _lora_alpha(args["lora_alpha"])
    d_in = shape[-1]
    if d_in is None:
        raise ValueError(f"Dense needs the last input dimension to be known. Received: input_shape={shape}")
    weights = {"kernel": (d_in, units)}
    if use_bias:
        weights["bias"] = (units,)
    weights.update(_lora_shapes("lora_kernel", (d_in, units), rank))
    return shape[:-1] + (units,), weights


def dense(inputs, weights, /, **params):
    """Dense: output = activation(tensordot(x, kernel, axes=1) + bias).

    y[..., u] = activation(sum_i x[..., i] * kernel[i, u] + bias[u]); x (batch, ..., d_in) of
    rank >= 2 ("N-D tensor with shape (batch_size, ..., input_dim)"), kernel (d_in, units),
    bias (units,) when use_bias. With lora_rank: kernel + (lora_alpha / lora_rank) * A @ B.
    """
    args = _arguments("Dense", params, ARGUMENTS)
    x = _f64(inputs)
    _, expected = _dense_spec(x.shape, args)
    w = _check_weights("Dense", expected, weights)
    kernel = _effective(w, "kernel", "lora_kernel", args["lora_rank"], args["lora_alpha"])
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        y = np.tensordot(x, kernel, axes=1)
    if "bias" in w:
        y = y + w["bias"]
    return _apply_activation(_activation(args["activation"]), y)


# --- EinsumDense ----------------------------------------------------------------------------

_EQUATION = re.compile(r"^(\.\.\.)?([a-zA-Z]+)(\.\.\.)?,([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]*)(\.\.\.)?$")


def _parse_equation(equation):
    """(input letters, kernel letters, output letters, ellipsis: None | "left" | "right").

    The docstring's forms: `ab,bc->ac`, `...ab,bc->...ac`, `ab...,bc->ac...`.
    """
    m = _EQUATION.match(equation) if isinstance(equation, str) else None
    if m:
        in_left, x, in_right, k, out_left, z, out_right = m.groups()
        if (in_left, in_right) == (out_left, out_right) and not (in_left and in_right):
            ellipsis = "left" if in_left else ("right" if in_right else None)
            if all(len(set(term)) == len(term) for term in (x, k, z)) and (z or ellipsis == "left"):
                return x, k, z, ellipsis
    raise ValueError(
        "`equation` must be of the form `ab,bc->ac`, `...ab,bc->...ac` or `ab...,bc->ac...` (letters, no letter "
        f"repeated within a term, the ellipsis on the same side of input and output). Received: equation={equation!r}"
    )


def _einsum_spec(input_shape, args):
    """Output shape, weight shapes and the bias shape of an EinsumDense layer (pure)."""
    x_spec, k_spec, z_spec, ellipsis = _parse_equation(args["equation"])
    shape = _shape_argument("input_shape", input_shape)
    if (ellipsis is None and len(shape) != len(x_spec)) or len(shape) < len(x_spec):
        raise ValueError(
            f"The input must have rank {len(x_spec)}{' or more' if ellipsis else ''} for equation "
            f"{args['equation']!r}. Received: input_shape={shape}"
        )
    if ellipsis == "left":
        ell, explicit = shape[: len(shape) - len(x_spec)], shape[len(shape) - len(x_spec):]
    elif ellipsis == "right":
        explicit, ell = shape[: len(x_spec)], shape[len(x_spec):]
    else:
        ell, explicit = (), shape
    sizes = dict(zip(x_spec, explicit))

    # output_shape: every output letter but the batch one (output letter 0 unless the output
    # starts with an ellipsis, which then holds the batch dim).
    raw = args["output_shape"]
    given = (raw,) if _is_int(raw) else raw
    try:
        given = tuple(given)
    except TypeError:
        given = None
    covered = z_spec if ellipsis == "left" else z_spec[1:]
    if given is None or len(given) != len(covered) or not all(v is None or (_is_int(v) and v >= 0) for v in given):
        raise ValueError(
            f"`output_shape` must be an int or a tuple of {len(covered)} non-negative ints or None (the output dims "
            f"{covered!r} of {args['equation']!r}, excluding the batch dim and the ellipsis). "
            f"Received: output_shape={raw!r}"
        )
    for letter, size in zip(covered, given):
        if size is None:
            continue
        if letter in sizes and sizes[letter] is not None and sizes[letter] != size:
            raise ValueError(
                f"`output_shape` does not match the input at dimension {letter!r}: the input has {sizes[letter]}. "
                f"Received: output_shape={raw!r}, input_shape={shape}"
            )
        sizes[letter] = int(size)
    for letter in z_spec:
        if letter not in x_spec and letter not in k_spec:
            raise ValueError(
                f"Output dimension {letter!r} of `equation` is in neither the input nor the kernel. "
                f"Received: equation={args['equation']!r}"
            )
    for letter in k_spec:
        if sizes.get(letter) is None:
            raise ValueError(
                f"The size of kernel dimension {letter!r} cannot be determined: it must be an input dimension of "
                f"known size or an output dimension given in `output_shape`. Received: equation="
                f"{args['equation']!r}, output_shape={raw!r}, input_shape={shape}"
            )
    body = tuple(sizes.get(letter) for letter in z_spec)
    out_shape = ell + body if ellipsis == "left" else body + ell
    out_letters = ("." * len(ell) + z_spec) if ellipsis == "left" else (z_spec + "." * len(ell))

    weights = {"kernel": tuple(sizes[letter] for letter in k_spec)}
    bias_axes = args["bias_axes"]
    if bias_axes is not None:
        if not isinstance(bias_axes, str) or not bias_axes or any(c not in z_spec for c in bias_axes):
            raise ValueError(
                f"`bias_axes` must be a non-empty string of output dimensions of the equation ({z_spec!r}). "
                f"Received: bias_axes={bias_axes!r}"
            )
        first = min(out_letters.index(c) for c in bias_axes)
        bias = tuple(n if c in bias_axes else 1 for c, n in zip(out_letters[first:], out_shape[first:]))
        if any(n is None for n in bias):
            raise ValueError(
                f"The bias over {bias_axes!r} needs those output dimensions to be known. Received: "
                f"input_shape={shape}, output_shape={raw!r}"
            )
        weights["bias"] = bias
    _activation(args["activation"])
    rank = _positive_int("lora_rank", args["lora_rank"], allow_none=True)
    _lora_alpha(args["lora_alpha"])
    if rank is not None and not weights["kernel"]:
        raise ValueError(f"`lora_rank` needs a kernel of rank >= 1. Received: lora_rank={rank}, kernel shape ()")
    weights.update(_lora_shapes("lora_kernel", weights["kernel"], rank))
    return out_shape, weights


def einsum_dense(inputs, weights, /, **params):
    """EinsumDense: output = activation(einsum(equation, x, kernel) + bias).

    equation is `X,K->Z`, `...X,K->...Z` or `X...,K->Z...` (letter strings X, K, Z). Kernel
    dims take their sizes from the input (letters shared with X) or from `output_shape`
    (letters of Z); output_shape lists Z without the batch dim (Z[0] unless Z follows a
    leading ellipsis, which holds the batch) and without the ellipsis dims, None meaning
    "inferred from the input shape". Input letters absent from K and Z are summed over.

    bias_axes "a string containing the output dimension(s) to apply a bias to": the bias is
    indexed by those output dims and broadcast over the others. Its variable spans the output
    dims from the first bias dim to the last (ellipsis dims included), with size 1 at every
    non-bias dim, so that it broadcasts against the trailing output dims as it is:
    "abc,cde->abde", bias_axes="be": bias (b, 1, e); "ab...,bc->ac...": bias_axes="c" on a
    rank-4 input gives (c, 1, 1).
    """
    args = _arguments("EinsumDense", params, ARGUMENTS)
    x = _f64(inputs)
    _, expected = _einsum_spec(x.shape, args)
    w = _check_weights("EinsumDense", expected, weights)
    kernel = _effective(w, "kernel", "lora_kernel", args["lora_rank"], args["lora_alpha"])
    y = np.einsum(args["equation"], x, kernel)
    if "bias" in w:
        y = y + w["bias"]
    return _apply_activation(_activation(args["activation"]), y)


# --- Embedding ------------------------------------------------------------------------------


def _embedding_spec(input_shape, args):
    shape = _shape_argument("input_shape", input_shape, min_rank=1)
    input_dim = _positive_int("input_dim", args["input_dim"])
    output_dim = _positive_int("output_dim", args["output_dim"])
    _bool("mask_zero", args["mask_zero"])
    rank = _positive_int("lora_rank", args["lora_rank"], allow_none=True)
    _lora_alpha(args["lora_alpha"])
    weights = {"embeddings": (input_dim, output_dim)}
    weights.update(_lora_shapes("lora_embeddings", (input_dim, output_dim), rank))
    return shape + (output_dim,), weights


def _indices(ids, input_dim):
    """Integer indices from `ids`: integers (or integer-valued floats) in [0, input_dim)."""
    a = np.asarray(ids)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"`inputs` must hold integer indices. Received: inputs.dtype={a.dtype}")
    if np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a) & (a == np.floor(a))):
            bad = a[~(np.isfinite(a) & (a == np.floor(a)))]
            raise ValueError(f"`inputs` must hold integer indices. Received: non-integer value(s) {bad[:5].tolist()}")
    bad = a[(a < 0) | (a >= input_dim)]
    if bad.size:
        raise ValueError(
            f"`inputs` must hold indices in [0, input_dim) = [0, {input_dim}) (nonnegative integers of a fixed "
            f"range). Received: out-of-range value(s) {bad[:5].tolist()}"
        )
    return a.astype(np.int64)


def embedding(inputs, weights, /, **params):
    """Embedding: output[..., :] = embeddings[ids[...], :], ids integers in [0, input_dim).

    Output shape: ids.shape + (output_dim,). The docstring's "Input shape: 2D tensor with shape
    (batch_size, input_length)" describes the usual input, not a promise to reject others: the
    lookup is the same for ids of any rank >= 1 (Keras's own tests call the layer on 1-D ids),
    so every rank >= 1 is accepted. "This layer can only be used on nonnegative integer inputs of a fixed
    range": a negative, too large or non-integer index is a ValueError. Integer-valued floats
    are accepted as indices. With lora_rank: embeddings + (lora_alpha / lora_rank) * A @ B.
    The mask (mask_zero=True) is embedding_mask(ids, mask_zero); it does not change the output.
    """
    args = _arguments("Embedding", params, ARGUMENTS)
    shape = np.shape(inputs)
    _, expected = _embedding_spec(shape, args)
    ids = _indices(inputs, args["input_dim"])
    w = _check_weights("Embedding", expected, weights)
    table = _effective(w, "embeddings", "lora_embeddings", args["lora_rank"], args["lora_alpha"])
    return table[ids]


def embedding_mask(ids, mask_zero):
    """Embedding.compute_mask: `ids != 0` (boolean, the shape of ids) when mask_zero, else None.

    mask_zero: "whether or not the input value 0 is a special "padding" value that should be
    masked out" -- True in the mask means "keep" (a non-zero id), False "masked" (id 0).
    """
    if not _bool("mask_zero", mask_zero):
        return None
    return np.asarray(ids) != 0


# --- Identity -------------------------------------------------------------------------------


def identity(inputs, weights, /, **params):
    """Identity: "returns its `inputs` argument as output" (float64; a list stays a list)."""
    _arguments("Identity", params, ARGUMENTS)
    _check_weights("Identity", {}, weights)
    if isinstance(inputs, (list, tuple)):
        return [_f64(x) for x in inputs]
    return _f64(inputs)


# --- shapes ---------------------------------------------------------------------------------

_SPECS = {
    "Dense": _dense_spec,
    "EinsumDense": _einsum_spec,
    "Embedding": _embedding_spec,
    "Identity": lambda shape, args: (_shape_argument("input_shape", shape), {}),
}


def weight_shapes(layer_name, input_shapes, **params):
    """Variable name -> shape of a Keras core layer (names in the module docstring).

    input_shapes: the input's shape, batch dim included (Identity: also a list of shapes).
    """
    args = _arguments(layer_name, params, ARGUMENTS)
    if layer_name == "Identity":
        return {}
    return _SPECS[layer_name](input_shapes, args)[1]


def output_shape(layer_name, input_shapes, **params):
    """Output shape (batch dim included) of a Keras core layer; ValueError for rejected arguments.

    Dense: input_shape[:-1] + (units,); EinsumDense: the output dims of the equation;
    Embedding: input_shape + (output_dim,); Identity: the input shape(s).
    """
    args = _arguments(layer_name, params, ARGUMENTS)
    if layer_name == "Identity" and isinstance(input_shapes, list):
        return [_shape_argument("input_shapes", s) for s in input_shapes]
    return _SPECS[layer_name](input_shapes, args)[0]


LAYERS = {"Dense": dense, "EinsumDense": einsum_dense, "Embedding": embedding, "Identity": identity}

__all__ = ["LAYERS", "dense", "einsum_dense", "embedding", "embedding_mask", "identity", "output_shape",
           "weight_shapes"]
