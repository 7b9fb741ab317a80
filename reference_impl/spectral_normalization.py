"""Keras 3 SpectralNormalization(layer, power_iterations=1) in NumPy float64.

The docstring: the wrapper "controls the Lipschitz constant of the weights of a layer by
constraining their spectral norm", for a layer with a `kernel` (Dense, Conv...) or `embeddings`
(Embedding), with `power_iterations` "the number of iterations during normalization", after
Miyato et al. 2018 ("Spectral Normalization for GAN", Algorithm 1). With W the weight reshaped
to a matrix (prod(shape[:-1]), shape[-1]) and u the stored vector `vector_u` (1, shape[-1]),
each iteration is

    v = normalize(u W^T);   u = normalize(v W)          normalize(a) = a / ||a||_2

and then sigma = v W u^T (the estimate of W's largest singular value) and W_SN = W / sigma.

The docstring does not say when the normalization happens. The reading taken (the paper's: the
estimate is refined at every training step, u carried between steps): in a training call
(training=True) the iterations run from the stored u, the wrapped layer is applied with W_SN,
and the weight and u are updated to W_SN and the new u (so the next call starts from them); at
inference the wrapped layer is applied with its weight as it is stored.

Weights: "<inner name>/kernel" (or "/embeddings"), "<inner name>/bias", and "vector_u"; the inner
name is the wrapped layer's `name`, by default its snake-case class name (dense, conv2d, embedding).
"""
from __future__ import annotations

import numbers

import numpy as np

from reference_impl import conv as _conv
from reference_impl.recurrent import _serialized, _strip_index

INNER = {"Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "Conv3D": "conv3d", "Embedding": "embedding"}
_IGNORED = frozenset({"name", "trainable", "dtype"})


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _core():
    from reference_impl import core  # written separately; imported where needed

    return core


def _arguments(params):
    params = dict(params)
    if "layer" not in params:
        raise TypeError("Missing required argument for SpectralNormalization: layer")
    class_name, config = _serialized("layer", params.pop("layer"), tuple(INNER))
    iterations = params.pop("power_iterations", 1)
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) or iterations < 1:
        raise ValueError(f"`power_iterations` must be a positive integer. Received: power_iterations={iterations!r}")
    unknown = sorted(set(params) - _IGNORED)
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for SpectralNormalization: {', '.join(unknown)}")
    config = {k: v for k, v in config.items() if k != "dtype"}
    prefix = _strip_index(config.get("name") or INNER[class_name]) + "/"
    return class_name, config, int(iterations), prefix


def _weight_name(class_name):
    return "embeddings" if class_name == "Embedding" else "kernel"


def _inner_shapes(class_name, config, input_shape):
    if class_name in ("Dense", "Embedding"):
        return _core().weight_shapes(class_name, input_shape, **config)
    return _conv.weight_shapes("conv", input_shape, rank=int(class_name[-2]), **config)


def _apply(class_name, config, x, w):
    if class_name in ("Dense", "Embedding"):
        return _core().LAYERS[class_name](x, w, **config)
    return _conv.conv(x, w["kernel"], w.get("bias"), rank=int(class_name[-2]), **config)


def normalized(weight, vector_u, power_iterations):
    """(W / sigma in the weight's shape, the new u) after `power_iterations` iterations."""
    weight, u = _f64(weight), _f64(vector_u)
    w = weight.reshape(-1, weight.shape[-1])
    for _ in range(power_iterations):
        v = u @ w.T
        v = v / np.linalg.norm(v)
        u = v @ w
        u = u / np.linalg.norm(u)
    sigma = (v @ w @ u.T).item()
    return weight / sigma, u


def _step(x, weights, params, call):
    """(output, updated weights) of one call."""
    class_name, config, iterations, prefix = _arguments(params)
    name = prefix + _weight_name(class_name)
    inner = {k[len(prefix):]: _f64(v) for k, v in weights.items() if k.startswith(prefix)}
    if not (call or {}).get("training"):
        return _apply(class_name, config, x, inner), {}
    w_sn, u = normalized(weights[name], weights["vector_u"], iterations)
    inner[_weight_name(class_name)] = w_sn
    return _apply(class_name, config, x, inner), {name: w_sn, "vector_u": u}


def spectral_normalization(x, weights, *, call=None, **params):
    """The wrapped layer with W / sigma in training (and the weight and u updated), with its
    weight as stored at inference (module docstring)."""
    return _step(x, weights, params, call)[0]


def update_state(x, weights, params, call):
    """{weight: W / sigma, "vector_u": u} after a training call; nothing at inference."""
    return _step(x, weights, params, call)[1]


def state_names():
    """Every name the normalized weight may have, and vector_u."""
    return tuple(f"{inner}/{_weight_name(c)}" for c, inner in INNER.items()) + ("vector_u",)


def weight_shapes(input_shape, **params):
    class_name, config, _, prefix = _arguments(params)
    shapes = {prefix + k: v for k, v in _inner_shapes(class_name, config, input_shape).items()}
    shapes["vector_u"] = (1, shapes[prefix + _weight_name(class_name)][-1])
    return shapes


def output_shape(input_shape, **params):
    class_name, config, _, _ = _arguments(params)
    if class_name in ("Dense", "Embedding"):
        return _core().output_shape(class_name, input_shape, **config)
    return _conv.output_shape("conv", input_shape, rank=int(class_name[-2]), **config)
