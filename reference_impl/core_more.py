"""Keras 3 Masking, ActivityRegularization, Lambda and ReversibleEmbedding in NumPy float64.

Layer functions take (x, weights, **params) like reference_impl.core's; `weight_shapes` and
`output_shape` are pure functions of the arguments; LAYERS maps the Keras class names.

Masking(mask_value=0.0) (docstring: "For each timestep in the input tensor (dimension #1 in the
tensor), if all values in the input tensor at that timestep are equal to `mask_value`, then the
timestep will be masked (skipped) in all downstream layers"; "a masked timestep is denoted by a
mask value of `False`"):

    mask[b, t] = any(x[b, t, ...] != mask_value)        over every axis after the time axis
    y[b, t, ...] = x[b, t, ...] * mask[b, t]

The docstring promises only the mask. What the layer outputs at a masked step it does not say;
the reading taken: zeros there (every value of such a step is mask_value; zeroing it is what
tf.keras does for a (batch, time, features) input), the input elsewhere.

ActivityRegularization(l1=0.0, l2=0.0): the output is the input; its layer.losses holds the
activity penalty of the input, as for every activity regularizer divided by the batch size
("so that the relative weighting ... does not change with the batch size"):

    y = x;   loss = (l1 * sum|x| + l2 * sum x^2) / batch

ReversibleEmbedding(input_dim, output_dim, tie_weights=True, mask_zero=False,
logit_soft_cap=None): called normally it is Embedding (reference_impl.core.embedding: y =
embeddings[ids]; with mask_zero its mask is ids != 0). Called with reverse=True it "will
linearly project from `output_dim` back to `input_dim`", with "the transpose of the
`embeddings` weights" when the weights are tied, else with reverse_embeddings (output_dim,
input_dim); "This layer has no bias terms"; with logit_soft_cap the logits "will be scaled by
`tanh(logits / logit_soft_cap) * logit_soft_cap`":

    logits = x @ embeddings^T  (tied)   or   x @ reverse_embeddings
    y = tanh(logits / cap) * cap  when logit_soft_cap, else logits

Lambda(function, arguments=None): y = function(x, **arguments). A catalogue cannot hold code, so
`function` names an entry of FUNCTIONS, written with Python operators only, so that the same
expression runs on NumPy arrays here and on tensors in tf.keras:

    square   x ** 2                        (the docstring's example, `lambda x: x ** 2`)
    affine   x * scale + shift             (arguments: scale, shift; exercises `arguments`)
    abs      |x|
"""
from __future__ import annotations

import numbers

import numpy as np

FUNCTIONS = {
    "square": lambda x: x ** 2,
    "affine": lambda x, scale=1.0, shift=0.0: x * scale + shift,
    "abs": abs,
}
# accepted and ignored: they do not change the values
_IGNORED = frozenset({"name", "trainable", "dtype"})


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)


def _check(layer, params, known):
    unknown = sorted(set(params) - set(known) - _IGNORED)
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for {layer}: {', '.join(unknown)}")


def masking_mask(x, mask_value=0.0):
    """mask[b, t] = any(x[b, t, ...] != mask_value) over every axis after the time axis."""
    x = _f64(x)
    if x.ndim < 2:
        raise ValueError(f"Masking needs inputs of rank 2 or more (batch, time, ...). Received: x.shape={x.shape}")
    return np.any(x != _number("mask_value", mask_value), axis=tuple(range(2, x.ndim)))


def masking(x, weights=None, *, mask_value=0.0, **ignored):
    """y = x * mask[b, t] (zeros at masked steps), with the mask of masking_mask."""
    _check("Masking", ignored, ())
    x = _f64(x)
    mask = masking_mask(x, mask_value)
    return x * mask.reshape(mask.shape + (1,) * (x.ndim - 2))


def activity_regularization(x, weights=None, *, l1=0.0, l2=0.0, **ignored):
    """y = x; its activity loss is activity_penalty(x, l1, l2)."""
    _check("ActivityRegularization", ignored, ())
    _number("l1", l1), _number("l2", l2)
    return _f64(x)


def activity_penalty(x, l1=0.0, l2=0.0):
    """(l1 * sum|x| + l2 * sum x^2) / batch."""
    x = _f64(x)
    return (_number("l1", l1) * np.abs(x).sum() + _number("l2", l2) * np.square(x).sum()) / x.shape[0]


def lambda_layer(x, weights=None, *, function, arguments=None, **ignored):
    """y = FUNCTIONS[function](x, **arguments)."""
    _check("Lambda", ignored, ())
    if function not in FUNCTIONS:
        raise ValueError(f"`function` must name one of {', '.join(FUNCTIONS)}. Received: function={function!r}")
    if arguments is not None and not isinstance(arguments, dict):
        raise ValueError(f"`arguments` must be a dict or None. Received: arguments={arguments!r}")
    return _f64(FUNCTIONS[function](_f64(x), **(arguments or {})))


def _reversible_arguments(input_dim, output_dim, tie_weights=True, mask_zero=False, logit_soft_cap=None,
                          reverse_dtype=None, **ignored):
    _check("ReversibleEmbedding", ignored, ("embeddings_initializer", "embeddings_regularizer", "embeddings_constraint"))
    if not isinstance(tie_weights, bool):
        raise ValueError(f"`tie_weights` must be a bool. Received: tie_weights={tie_weights!r}")
    if logit_soft_cap is not None and _number("logit_soft_cap", logit_soft_cap) <= 0:
        raise ValueError(f"`logit_soft_cap` must be positive. Received: logit_soft_cap={logit_soft_cap!r}")
    return {"input_dim": input_dim, "output_dim": output_dim, "mask_zero": mask_zero}, tie_weights, logit_soft_cap


def reversible_embedding_weight_shapes(**params):
    """embeddings (input_dim, output_dim); reverse_embeddings (output_dim, input_dim) when not tied."""
    embedding, tie_weights, _ = _reversible_arguments(**params)
    shapes = {"embeddings": (embedding["input_dim"], embedding["output_dim"])}
    if not tie_weights:
        shapes["reverse_embeddings"] = (embedding["output_dim"], embedding["input_dim"])
    return shapes


def reversible_embedding(x, weights, *, reverse=False, **params):
    """Embedding (reverse=False), or the projection back to input_dim (module docstring)."""
    from reference_impl import core  # written separately; imported where needed

    embedding, tie_weights, cap = _reversible_arguments(**params)
    if not reverse:
        return core.embedding(x, {"embeddings": weights["embeddings"]}, **embedding)
    x = _f64(x)
    if x.shape[-1:] != (embedding["output_dim"],):
        raise ValueError(f"reverse=True takes inputs of last dimension output_dim={embedding['output_dim']}. "
                         f"Received: x.shape={x.shape}")
    matrix = _f64(weights["embeddings"]).T if tie_weights else _f64(weights["reverse_embeddings"])
    logits = x @ matrix
    return logits if cap is None else np.tanh(logits / cap) * cap


def reversible_embedding_error_bound(x, weights, fmt, *, reverse=False, **params):
    """Bound on the rounding error of reversible_embedding in the format fmt
    (reference_impl.rounding.Format): the lookup selects rows, exact (0); reverse=True's
    logits are inner products of output_dim terms (no bias): |dz| <= gamma_d sum_i |x_i w_i|
    + 2 d tiny (Higham (3.5), any order of summation), d = output_dim; with logit_soft_cap c,
    y = c tanh(z / c) carries that through (rounding.through: how far it moves over
    [z - dz, z + dz]) plus its own evaluation (a division, tanh and a product: a few ulps, and
    the u c that tanh's formula leaves near 0)."""
    from reference_impl import rounding

    if not reverse:
        return np.zeros(np.shape(reversible_embedding(x, weights, **params)))
    _, _, cap = _reversible_arguments(**params)
    magnitude_weights = {k: np.abs(_f64(v)) for k, v in weights.items()}
    linear = {**params, "logit_soft_cap": None}
    magnitude = reversible_embedding(np.abs(_f64(x)), magnitude_weights, reverse=True, **linear)
    dz = rounding.sum_of_products(magnitude, _f64(x).shape[-1], fmt)
    if cap is None:
        return dz
    z = reversible_embedding(x, weights, reverse=True, **linear)
    # tanh's documented formula cancels terms of size 1 near 0 (reference_impl.activations.CANCELLED), c after the scaling
    return rounding.through(lambda t: np.tanh(t / cap) * cap, z, dz, fmt, lambda t: np.full(np.shape(t), float(cap)))


LAYERS = {"Masking": masking, "ActivityRegularization": activity_regularization, "Lambda": lambda_layer,
          "ReversibleEmbedding": reversible_embedding}


def weight_shapes(layer_name, input_shape, **params):
    """No weights, except ReversibleEmbedding's (reversible_embedding_weight_shapes)."""
    if layer_name == "ReversibleEmbedding":
        return reversible_embedding_weight_shapes(**params)
    if layer_name not in LAYERS:
        raise ValueError(f"`layer_name` must be one of {', '.join(LAYERS)}. Received: {layer_name!r}")
    LAYERS[layer_name](np.zeros([1 if n is None else n for n in input_shape]), **params)  # validates the arguments
    return {}


def output_shape(layer_name, input_shape, reverse=False, **params):
    """The input's shape (every function of FUNCTIONS is element-wise); ReversibleEmbedding:
    ids.shape + (output_dim,), or x.shape[:-1] + (input_dim,) with reverse."""
    if layer_name == "ReversibleEmbedding":
        embedding, _, _ = _reversible_arguments(**params)
        return tuple(input_shape[:-1]) + (embedding["input_dim"],) if reverse else tuple(input_shape) + (embedding["output_dim"],)
    weight_shapes(layer_name, input_shape, **params)
    return tuple(input_shape)
