"""Keras 3 recurrent layers (SimpleRNN, LSTM, GRU) and the Bidirectional and TimeDistributed wrappers in NumPy float64.

Every layer function has the harness signature

    <snake_name>(inputs, weights, *, call, **params)

with inputs = {"x": array}, weights = {variable name: array}, call = {"mask": bool (batch, time)
or None, "initial_state": list of arrays or None, "training": bool}, and params the constructor
arguments. It returns the output array, or the list [output, *final_states] when return_state
(Bidirectional with merge_mode=None: [forward_output, backward_output, *states]).
`weight_shapes(layer_name, input_shapes, **params)` and `output_shape(layer_name, input_shapes,
**params)` are pure functions of the arguments; `LAYERS` maps the Keras class names to the layer
functions.

Variable names are the Keras `v.path` with its first component (the layer's own name) dropped
and a trailing `_<digits>` stripped from every remaining component:

    SimpleRNN  simple_rnn_cell/kernel (F, U), simple_rnn_cell/recurrent_kernel (U, U), simple_rnn_cell/bias (U,)
    LSTM       lstm_cell/kernel (F, 4U), lstm_cell/recurrent_kernel (U, 4U), lstm_cell/bias (4U,)
    GRU        gru_cell/kernel (F, 3U), gru_cell/recurrent_kernel (U, 3U),
               gru_cell/bias (2, 3U) when reset_after (row 0 input bias, row 1 recurrent bias), else (3U,)
    Bidirectional   forward_<name>/<cell>/..., backward_<name>/<cell>/...  (<name> the wrapped layer's
                    name, by default its snake-case class name: lstm, gru, simple_rnn)
    TimeDistributed <inner name>/kernel, <inner name>/bias  (dense/..., conv2d/...)

(F input features, U units; bias only when use_bias.)

Cell equations, for one time step with input x (batch, F), previous state(s) and W = kernel,
R = recurrent_kernel, b = bias; act = `activation` (default tanh), ract = `recurrent_activation`
(default sigmoid), None meaning linear for both. The kernel columns are split into contiguous
blocks of U in the gate order given (observed on tf.keras by fitting every permutation of the
blocks; exactly one matches):

    SimpleRNN   h = act(x W + h_prev R + b);                                     output h, states [h]

    LSTM        blocks [i | f | c | o]  (input gate, forget gate, cell candidate, output gate)
                i = ract(x W_i + h_prev R_i + b_i)
                f = ract(x W_f + h_prev R_f + b_f)
                g = act(x W_c + h_prev R_c + b_c)
                o = ract(x W_o + h_prev R_o + b_o)
                c = f * c_prev + i * g
                h = o * act(c);                                                   output h, states [h, c]
    (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000, which Keras's
    `unit_forget_bias` refers to; unit_forget_bias only sets the bias initializer.)

    GRU         blocks [z | r | h]  (update gate, reset gate, candidate)      Cho et al. 2014
      reset_after=False (reset applied to the state before the matrix product; bias (3U,)):
                z = ract(x W_z + h_prev R_z + b_z)
                r = ract(x W_r + h_prev R_r + b_r)
                n = act(x W_h + (r * h_prev) R_h + b_h)
      reset_after=True (cuDNN-compatible, reset applied after the product; bias rows bi = b[0], br = b[1]):
                z = ract(x W_z + bi_z + h_prev R_z + br_z)
                r = ract(x W_r + bi_r + h_prev R_r + br_r)
                n = act(x W_h + bi_h + r * (h_prev R_h + br_h))
      both:     h = z * h_prev + (1 - z) * n;                                     output h, states [h]

Sequence semantics (RNN docstring):

- initial_state: the list of states before the first step (LSTM [h, c], others [h]); None means zeros.
- go_backwards: "process the input sequence backwards and return the reversed sequence": the
  input (and the mask) are reversed in time, and with return_sequences the outputs come in
  processing order, i.e. output[:, t] belongs to input step T - 1 - t.
- mask (batch, time), True = use the step, False = "the corresponding timestep should be ignored"
  (Masking: "skipped"): at a masked step every state keeps its previous value, and the output
  sequence repeats the previous output. Before the first unmasked step there is no previous
  output and the output is zeros (also when initial_state is not zero; the docs do not say,
  this is the tf.keras convention), so with every step masked the final output is zeros while
  the final states are the initial states. zero_output_for_mask=True: masked steps output zeros
  ("only used when return_sequences is True and mask is provided").
- return_sequences=False: the output is the last output of the sequence as above (the last
  unmasked step's output).
- dropout, recurrent_dropout: no effect at inference (training=False); random in training,
  which this reference does not model (NotImplementedError for training=True with dropout > 0).

Bidirectional (docstring of keras.layers.Bidirectional): the forward layer is the wrapped layer,
the backward layer a copy with go_backwards flipped (or `backward_layer`). The backward output
sequence is reversed back in time, so that position t of both outputs describes input step t
(backward output[t] has seen x[t], x[t+1], ..., x[T-1]). With return_sequences and a mask, "the
output of the masked timestep will be zero regardless of the layer's original
zero_output_for_mask value". merge_mode: "concat" [fwd, bwd] on the last axis, "sum" fwd + bwd,
"mul" fwd * bwd, "ave" (fwd + bwd) / 2, None the list [fwd, bwd]. initial_state: "the first half
... will be passed to the forward RNN call and the last half ... to the backward RNN call".
return_state appends the forward states, then the backward states.

TimeDistributed: "apply a layer to every temporal slice of an input", with the same weights at
every step: x (batch, time, *s) is reshaped to (batch * time, *s), the inner layer applied, and the
result reshaped to (batch, time, *s_out). The mask is passed to the inner layer only if it uses
one; Dense and Conv1D/2D/3D do not, so it does not change the values.
"""
from __future__ import annotations

import importlib
import numbers
import re
from typing import NamedTuple

import numpy as np

from reference_impl import activations as _activations

# --- argument sets -----------------------------------------------------------------------

_KERNEL_OBJECTS = frozenset({
    "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint",
})
# Arguments that do not change the computed values: initializers, regularizers and constraints
# only matter before the weights are set or in training; unroll and use_cudnn choose an
# implementation; seed only feeds dropout; dtype is float64 here. Anything else unknown is a TypeError.
_COMMON_IGNORED = frozenset({"name", "trainable", "dtype", "activity_regularizer", "unroll", "seed"})
# `implementation` (LSTM and GRU only): Keras 3 no longer documents it but still takes it, for
# backward compatibility, as a keyword argument. Keras 2 documented it as "Implementation mode,
# either 1 or 2. Mode 1 will structure its operations as a larger number of smaller dot products
# and additions, whereas mode 2 will batch them into fewer, larger operations. These modes will
# have different performance profiles" — the same equations computed in a different order,
# so it does not change the values (at inference; it matters only to how dropout masks are
# drawn in training, which the reference does not model). Its value is not checked: Keras 3
# documents none.
_IMPLEMENTATION = frozenset({"implementation"})
IGNORED_ARGUMENTS = {
    "SimpleRNN": _COMMON_IGNORED | _KERNEL_OBJECTS,
    "LSTM": _COMMON_IGNORED | _KERNEL_OBJECTS | _IMPLEMENTATION | {"unit_forget_bias", "use_cudnn"},
    "GRU": _COMMON_IGNORED | _KERNEL_OBJECTS | _IMPLEMENTATION | {"use_cudnn"},
    "Bidirectional": frozenset({"name", "trainable", "dtype", "weights"}),
    "TimeDistributed": frozenset({"name", "trainable", "dtype"}),
}
_CALL_KEYS = frozenset({"mask", "initial_state", "training"})
# Keys of a serialized layer ({"class_name": ..., "config": ...}) besides those two.
_SERIALIZED_EXTRA = frozenset({"module", "registered_name", "build_config"})

RNN_LAYERS = ("SimpleRNN", "LSTM", "GRU")
MERGE_MODES = ("concat", "sum", "mul", "ave", None)

_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}
_CELL_NAMES = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}
# Keras's default layer names (the snake-case class name), used in variable paths.
_DEFAULT_NAMES = {
    "SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru", "Dense": "dense",
    "Conv1D": "conv1d", "Conv2D": "conv2d", "Conv3D": "conv3d",
}
_CONV_RANKS = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3}


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def _fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a float between 0 and 1. Received: {name}={value!r}")
    return float(value)


def _strip_index(component):
    """A variable-path component without a trailing `_<digits>` (lstm_3 -> lstm)."""
    return re.sub(r"_\d+$", "", component)


def _check_unknown(layer_name, ignored):
    unknown = sorted(set(ignored) - IGNORED_ARGUMENTS[layer_name])
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for {layer_name}: {', '.join(unknown)}")


# --- the recurrent layer spec --------------------------------------------------------------


class _Rnn(NamedTuple):
    kind: str  # SimpleRNN | LSTM | GRU
    units: int
    activation: object
    recurrent_activation: object
    use_bias: bool
    reset_after: bool
    return_sequences: bool
    return_state: bool
    go_backwards: bool
    stateful: bool
    zero_output_for_mask: bool
    dropout: float
    recurrent_dropout: float
    name: str  # the layer name used in variable paths (before the index is stripped)


def _rnn(kind, params):
    """Validate the constructor arguments of SimpleRNN / LSTM / GRU."""
    if kind not in RNN_LAYERS:
        raise ValueError(f"The layer must be one of {', '.join(RNN_LAYERS)}. Received: {kind!r}")
    known = {
        "units", "activation", "use_bias", "return_sequences", "return_state", "go_backwards",
        "stateful", "zero_output_for_mask", "dropout", "recurrent_dropout",
    }
    if kind != "SimpleRNN":
        known |= {"recurrent_activation"}
    if kind == "GRU":
        known |= {"reset_after"}
    _check_unknown(kind, {k for k in params if k not in known})
    if "units" not in params:
        raise TypeError(f"Missing required argument for {kind}: units")
    units = params["units"]
    if not (_is_int(units) and units >= 1):
        raise ValueError(f"`units` must be a positive int. Received: units={units!r}")
    activation = _activations.get(params.get("activation", "tanh"))
    recurrent_activation = _activations.get(params.get("recurrent_activation", "sigmoid"))
    name = params.get("name")
    if name is None:
        name = _DEFAULT_NAMES[kind]
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
    return _Rnn(
        kind, int(units), activation, recurrent_activation,
        _bool("use_bias", params.get("use_bias", True)),
        _bool("reset_after", params.get("reset_after", True)) if kind == "GRU" else False,
        _bool("return_sequences", params.get("return_sequences", False)),
        _bool("return_state", params.get("return_state", False)),
        _bool("go_backwards", params.get("go_backwards", False)),
        _bool("stateful", params.get("stateful", False)),
        _bool("zero_output_for_mask", params.get("zero_output_for_mask", False)),
        _fraction("dropout", params.get("dropout", 0.0)),
        _fraction("recurrent_dropout", params.get("recurrent_dropout", 0.0)),
        name,
    )


def _cell_shapes(spec, features):
    """{kernel, recurrent_kernel, bias} shapes of one cell for `features` input features."""
    width = _GATES[spec.kind] * spec.units
    shapes = {"kernel": (features, width), "recurrent_kernel": (spec.units, width)}
    if spec.use_bias:
        shapes["bias"] = (2, width) if spec.reset_after else (width,)
    return shapes


def _input_shape(input_shapes, rank=3):
    """The shape of inputs["x"] (a dict {"x": shape} or the shape itself), batch first."""
    shape = input_shapes.get("x") if isinstance(input_shapes, dict) else input_shapes
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if shape is None or (len(shape) != rank if rank else len(shape) < 3):
        need = f"{rank} dims (batch, time, features)" if rank else "at least 3 dims (batch, time, ...)"
        raise ValueError(f"The input `x` must have {need}. Received: input_shapes={input_shapes!r}")
    return shape


def _features(shape):
    features = shape[-1]
    if not (_is_int(features) and features >= 1):
        raise ValueError(f"The feature dimension of `x` must be a known positive int. Received: shape={shape}")
    return int(features)


def _rnn_output_shapes(spec, shape):
    batch, time = shape[0], shape[1]
    out = (batch, time, spec.units) if spec.return_sequences else (batch, spec.units)
    return out, [(batch, spec.units)] * _STATES[spec.kind]


# --- weights, call arguments -----------------------------------------------------------------


def _take_weights(spec, weights, features, prefix):
    """The cell's weights under `prefix` + "<cell>/", checked against their shapes, as float64."""
    expected = _cell_shapes(spec, features)
    cell = f"{prefix}{_CELL_NAMES[spec.kind]}/"
    bias_key = cell + "bias"
    if not spec.use_bias and weights.get(bias_key) is not None:
        raise ValueError(f"`{bias_key}` was given but use_bias=False. Received: {bias_key} is not None")
    out = {}
    for name, shape in expected.items():
        key = cell + name
        value = weights.get(key)
        if value is None:
            raise ValueError(f"`{key}` of shape {shape} is required (use_bias={spec.use_bias}). Received: {key}=None")
        value = _f64(value)
        if value.shape != shape:
            raise ValueError(f"`{key}` must have shape {shape}. Received: {key}.shape={value.shape}")
        out[name] = value
    return out


def _call_arguments(call):
    call = {} if call is None else dict(call)
    unknown = sorted(set(call) - _CALL_KEYS)
    if unknown:
        raise TypeError(f"Unexpected call argument(s): {', '.join(unknown)}")
    return call.get("mask"), call.get("initial_state"), call.get("training", False)


def _x(inputs, rank=3):
    if not isinstance(inputs, dict) or "x" not in inputs:
        raise ValueError(f"`inputs` must be a dict with the key 'x'. Received: inputs={type(inputs).__name__}")
    x = _f64(inputs["x"])
    if (x.ndim != 3) if rank else (x.ndim < 3):
        need = "3 dims (batch, time, features)" if rank else "at least 3 dims (batch, time, ...)"
        raise ValueError(f"The input `x` must have {need}. Received: x.shape={x.shape}")
    return x


def _mask(mask, x, *, extra_dims=False):
    """The (batch, time) boolean mask. With extra_dims (TimeDistributed), further trailing
    dims are accepted: its docstring's "(samples, timesteps)" is the usual shape, the layer
    only needs the first two to match (Keras's own test_mask_validation_with_correct_shape
    passes (batch, time, 1)), and the mask does not change its inner layers' values."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if (m.shape[:2] != x.shape[:2] or m.ndim < 2) if extra_dims else (m.shape != x.shape[:2]):
        need = "start with (batch, time)" if extra_dims else "have shape (batch, time)"
        raise ValueError(f"`mask` must {need} = {x.shape[:2]}. Received: mask.shape={m.shape}")
    if m.dtype != np.bool_ and not (np.issubdtype(m.dtype, np.number) and np.isin(m, (0, 1)).all()):
        raise ValueError(f"`mask` must be boolean (True = use the step). Received: mask.dtype={m.dtype}")
    return m.astype(bool)


def _initial_states(spec, initial_state, batch):
    n = _STATES[spec.kind]
    if initial_state is None:
        return [np.zeros((batch, spec.units)) for _ in range(n)]
    if isinstance(initial_state, np.ndarray) and n == 1:
        initial_state = [initial_state]
    states = [_f64(s) for s in initial_state]
    if len(states) != n:
        raise ValueError(
            f"{spec.kind} has {n} state(s), so `initial_state` must be a list of {n} arrays. "
            f"Received: {len(states)} array(s)"
        )
    for i, s in enumerate(states):
        if s.shape != (batch, spec.units):
            raise ValueError(
                f"`initial_state[{i}]` must have shape (batch, units) = {(batch, spec.units)}. "
                f"Received: initial_state[{i}].shape={s.shape}"
            )
    return states


def _check_training(spec, training):
    if not isinstance(training, (bool, np.bool_)) and training is not None:
        raise ValueError(f"`training` must be a bool or None. Received: training={training!r}")
    if training and (spec.dropout > 0 or spec.recurrent_dropout > 0):
        raise NotImplementedError(
            "Dropout in training is random; the reference computes inference only. "
            f"Received: training=True, dropout={spec.dropout}, recurrent_dropout={spec.recurrent_dropout}"
        )
    if spec.stateful:
        raise NotImplementedError(
            "stateful=True carries states between calls; the reference computes one call. "
            "Pass the previous call's final states as `initial_state` instead. Received: stateful=True"
        )


# --- the cells and the time loop ---------------------------------------------------------------


def _blocks(a, n):
    """Split the last axis into n contiguous blocks (the gates, in kernel column order)."""
    return np.split(a, n, axis=-1)


def _cell(spec, w):
    """(input projection over all steps, step function) for one cell.

    project(x) -> x W (+ input bias), shape (batch, time, gates * U);
    step(xw_t, states) -> (output, new_states), with xw_t one time slice of the projection.
    """
    act, ract = spec.activation, spec.recurrent_activation
    kernel, recurrent = w["kernel"], w["recurrent_kernel"]
    bias = w.get("bias")
    if spec.kind == "GRU" and spec.reset_after:
        input_bias, recurrent_bias = (bias[0], bias[1]) if bias is not None else (0.0, 0.0)
    else:
        input_bias, recurrent_bias = (bias if bias is not None else 0.0), 0.0

    def project(x):
        with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
            return np.matmul(x, kernel) + input_bias

    if spec.kind == "SimpleRNN":
        def step(xw, states):
            (h,) = states
            h = _f64(act(xw + h @ recurrent))
            return h, [h]
    elif spec.kind == "LSTM":
        def step(xw, states):
            h, c = states
            zi, zf, zc, zo = _blocks(xw + h @ recurrent, 4)
            i, f, g, o = _f64(ract(zi)), _f64(ract(zf)), _f64(act(zc)), _f64(ract(zo))
            c = f * c + i * g
            h = o * _f64(act(c))
            return h, [h, c]
    else:
        r_z, r_r, r_h = _blocks(recurrent, 3)
        rb_z, rb_r, rb_h = _blocks(np.broadcast_to(recurrent_bias, (3 * spec.units,)), 3)

        def step(xw, states):
            (h,) = states
            x_z, x_r, x_h = _blocks(xw, 3)
            z = _f64(ract(x_z + h @ r_z + rb_z))
            r = _f64(ract(x_r + h @ r_r + rb_r))
            if spec.reset_after:
                n = _f64(act(x_h + r * (h @ r_h + rb_h)))
            else:
                n = _f64(act(x_h + (r * h) @ r_h))
            h = z * h + (1.0 - z) * n
            return h, [h]
    return project, step


def _recur(spec, w, x, mask, states):
    """Run one direction over the sequence; returns (output sequence (B, T, U), last output, final states).

    The output sequence is in processing order (reversed in time when go_backwards).
    """
    if spec.go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    project, step = _cell(spec, w)
    xw = project(x)
    batch, time = x.shape[:2]
    outputs = np.zeros((batch, time, spec.units))
    previous = np.zeros((batch, spec.units))  # the last output; zeros before any unmasked step
    for t in range(time):
        out, new_states = step(xw[:, t], states)
        if mask is None:
            previous, states = out, new_states
            outputs[:, t] = out
            continue
        keep = mask[:, t, None]
        states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        previous = np.where(keep, out, previous)
        outputs[:, t] = np.where(keep, out, 0.0) if spec.zero_output_for_mask else previous
    return outputs, previous, states


def _run_rnn(spec, weights, x, mask, initial_state, training, prefix=""):
    _check_training(spec, training)
    w = _take_weights(spec, weights, x.shape[-1], prefix)
    states = _initial_states(spec, initial_state, x.shape[0])
    return _recur(spec, w, x, mask, states)


def _recurrent_layer(kind, inputs, weights, call, params):
    spec = _rnn(kind, params)
    x = _x(inputs)
    _features(x.shape)
    mask, initial_state, training = _call_arguments(call)
    sequence, last, states = _run_rnn(spec, weights, x, _mask(mask, x), initial_state, training)
    output = sequence if spec.return_sequences else last
    return [output, *states] if spec.return_state else output


def simple_rnn(inputs, weights, *, call=None, **params):
    """SimpleRNN: h_t = act(x_t W + h_{t-1} R + b), output h_t; states [h].

    weights: simple_rnn_cell/kernel (F, U), simple_rnn_cell/recurrent_kernel (U, U),
    simple_rnn_cell/bias (U,). Mask, go_backwards, return_* as in the module docstring.
    """
    return _recurrent_layer("SimpleRNN", inputs, weights, call, params)


def lstm(inputs, weights, *, call=None, **params):
    """LSTM, gate blocks [i | f | c | o] of the kernel columns:

    i = ract(x W_i + h R_i + b_i), f = ract(x W_f + h R_f + b_f), g = act(x W_c + h R_c + b_c),
    o = ract(x W_o + h R_o + b_o); c_t = f * c_{t-1} + i * g; h_t = o * act(c_t). Output h_t,
    states [h, c]. weights: lstm_cell/kernel (F, 4U), lstm_cell/recurrent_kernel (U, 4U),
    lstm_cell/bias (4U,).
    """
    return _recurrent_layer("LSTM", inputs, weights, call, params)


def gru(inputs, weights, *, call=None, **params):
    """GRU, gate blocks [z | r | h] of the kernel columns; h_t = z * h_{t-1} + (1 - z) * n.

    z = ract(x W_z + h R_z + b_z), r = ract(x W_r + h R_r + b_r) (with reset_after=True each
    bias is bi + br, the two rows of the (2, 3U) bias);
    reset_after=True:  n = act(x W_h + bi_h + r * (h R_h + br_h));
    reset_after=False: n = act(x W_h + (r * h) R_h + b_h).
    Output h_t, states [h]. weights: gru_cell/kernel (F, 3U), gru_cell/recurrent_kernel (U, 3U),
    gru_cell/bias (2, 3U) or (3U,).
    """
    return _recurrent_layer("GRU", inputs, weights, call, params)


# --- Bidirectional ---------------------------------------------------------------------------


def _serialized(name, value, allowed):
    """(class_name, config) of a serialized layer {"class_name": ..., "config": {...}}."""
    if not isinstance(value, dict) or "class_name" not in value:
        raise ValueError(
            f"`{name}` must be a dict {{'class_name': ..., 'config': {{...}}}}. Received: {name}={value!r}"
        )
    extra = sorted(set(value) - {"class_name", "config"} - _SERIALIZED_EXTRA)
    if extra:
        raise TypeError(f"Unexpected key(s) in `{name}`: {', '.join(extra)}")
    class_name = value["class_name"]
    if class_name not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(allowed)}. Received: {name}.class_name={class_name!r}")
    config = dict(value.get("config") or {})
    return class_name, config


def _bidirectional(params):
    """(forward spec, backward spec, merge_mode, forward prefix, backward prefix)."""
    params = dict(params)
    if "layer" not in params:
        raise TypeError("Missing required argument for Bidirectional: layer")
    merge_mode = params.pop("merge_mode", "concat")
    if merge_mode not in MERGE_MODES:
        raise ValueError(
            f"`merge_mode` must be one of 'concat', 'sum', 'mul', 'ave' or None. Received: merge_mode={merge_mode!r}"
        )
    kind, config = _serialized("layer", params.pop("layer"), RNN_LAYERS)
    backward = params.pop("backward_layer", None)
    _check_unknown("Bidirectional", params)
    forward = _rnn(kind, config)
    forward_name = forward.name if forward.name.startswith("forward_") else "forward_" + forward.name
    if backward is None:
        backward_spec = forward._replace(go_backwards=not forward.go_backwards)
        backward_name = "backward_" + forward.name
    else:
        backward_kind, backward_config = _serialized("backward_layer", backward, RNN_LAYERS)
        backward_spec = _rnn(backward_kind, backward_config)
        for attribute in ("return_sequences", "return_state", "stateful"):
            if getattr(backward_spec, attribute) != getattr(forward, attribute):
                raise ValueError(
                    f"`backward_layer.{attribute}` must match `layer.{attribute}`. Received: "
                    f"{getattr(forward, attribute)} and {getattr(backward_spec, attribute)}"
                )
        if backward_spec.go_backwards == forward.go_backwards:
            raise ValueError(
                "`backward_layer.go_backwards` must differ from `layer.go_backwards`. Received: "
                f"go_backwards={forward.go_backwards} for both"
            )
        backward_name = backward_spec.name
    prefixes = tuple(_strip_index(n) + "/" for n in (forward_name, backward_name))
    return forward, backward_spec, merge_mode, prefixes


def _merge(merge_mode, forward, backward):
    if merge_mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if merge_mode == "sum":
        return forward + backward
    if merge_mode == "mul":
        return forward * backward
    if merge_mode == "ave":
        return (forward + backward) / 2.0
    return [forward, backward]


def bidirectional(inputs, weights, *, call=None, **params):
    """Bidirectional(layer, merge_mode="concat"): the wrapped RNN forward in time and a copy backward.

    forward = layer(x); backward = the same layer with go_backwards flipped, its output
    sequence reversed back in time (backward[:, t] has seen x[:, t:]). With return_sequences
    and a mask, both outputs are zero at masked steps. merge: concat [f, b] (last axis),
    sum f + b, mul f * b, ave (f + b) / 2, None [f, b]. initial_state: first half forward,
    last half backward. return_state: [merged (or f, b), *forward states, *backward states].
    weights: forward_<name>/<cell>/..., backward_<name>/<cell>/... (see the module docstring).
    """
    forward, backward, merge_mode, (forward_prefix, backward_prefix) = _bidirectional(params)
    x = _x(inputs)
    _features(x.shape)
    mask, initial_state, training = _call_arguments(call)
    mask = _mask(mask, x)
    n = _STATES[forward.kind] + _STATES[backward.kind]
    if initial_state is not None and len(initial_state) != n:
        raise ValueError(
            f"`initial_state` must hold {n} arrays (forward states, then backward states). "
            f"Received: {len(initial_state)} array(s)"
        )
    half = _STATES[forward.kind]
    forward_init = None if initial_state is None else list(initial_state[:half])
    backward_init = None if initial_state is None else list(initial_state[half:])
    zero = mask is not None and forward.return_sequences  # masked steps output zero in both directions
    forward = forward._replace(zero_output_for_mask=zero or forward.zero_output_for_mask)
    backward = backward._replace(zero_output_for_mask=zero or backward.zero_output_for_mask)
    f_seq, f_last, f_states = _run_rnn(forward, weights, x, mask, forward_init, training, forward_prefix)
    b_seq, b_last, b_states = _run_rnn(backward, weights, x, mask, backward_init, training, backward_prefix)
    if forward.return_sequences:
        f_out, b_out = f_seq, b_seq[:, ::-1]
    else:
        f_out, b_out = f_last, b_last
    merged = _merge(merge_mode, f_out, b_out)
    if not forward.return_state:
        return merged
    head = merged if isinstance(merged, list) else [merged]
    return [*head, *f_states, *b_states]


# --- TimeDistributed -------------------------------------------------------------------------------

_INNER_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")


def _inner_config(config):
    """The inner layer's config without what its reference function does not take: dtype (float64
    here) and Dense's quantization_config when None."""
    return {k: v for k, v in config.items()
            if k != "dtype" and not (k == "quantization_config" and v is None)}


def _core():
    """reference_impl.core (Dense), imported on first use: it is written separately."""
    try:
        return importlib.import_module("reference_impl.core")
    except ImportError as exc:
        raise NotImplementedError(
            "TimeDistributed(Dense) needs reference_impl.core, which is not available; "
            "pass the inner layer function as `inner=`"
        ) from exc


def _time_distributed(params):
    params = dict(params)
    if "layer" not in params:
        raise TypeError("Missing required argument for TimeDistributed: layer")
    class_name, config = _serialized("layer", params.pop("layer"), _INNER_LAYERS)
    _check_unknown("TimeDistributed", params)
    name = config.get("name") or _DEFAULT_NAMES[class_name]
    return class_name, _inner_config(config), _strip_index(name) + "/"


def _inner_shapes(class_name, config, shape):
    """(weight shapes, output shape) of the inner layer for an input of `shape` (batch first)."""
    if class_name == "Dense":
        core = _core()
        return core.weight_shapes("Dense", shape, **config), core.output_shape("Dense", shape, **config)
    from reference_impl import conv
    rank = _CONV_RANKS[class_name]
    return conv.weight_shapes("conv", shape, rank=rank, **config), conv.output_shape("conv", shape, rank=rank, **config)


def _inner_function(class_name):
    """The inner layer as a function (inputs, weights, *, call, **config) -> array."""
    if class_name == "Dense":
        core = _core()

        def dense_layer(inputs, weights, *, call=None, **params):
            return core.dense(inputs["x"], weights, **params)

        return dense_layer
    from reference_impl import conv
    rank = _CONV_RANKS[class_name]

    def conv_layer(inputs, weights, *, call=None, **params):
        return conv.conv(inputs["x"], weights.get("kernel"), weights.get("bias"), rank=rank, **params)

    return conv_layer


def time_distributed(inputs, weights, *, call=None, inner=None, **params):
    """TimeDistributed(layer): y[:, t] = layer(x[:, t]) for every t, with the same weights.

    x (batch, time, *s) -> (batch * time, *s) -> inner layer -> (batch, time, *s_out).
    `layer` is {"class_name": "Dense" | "Conv1D" | "Conv2D" | "Conv3D", "config": {...}};
    `inner`, if given, is the inner layer's function (inputs, weights, *, call, **config) and
    replaces the built-in one (Dense: reference_impl.core.dense, imported when first needed;
    Conv*: reference_impl.conv.conv). weights: "<inner name>/kernel", "<inner name>/bias".
    The mask does not change the values of these inner layers.
    """
    class_name, config, prefix = _time_distributed(params)
    x = _x(inputs, rank=None)
    mask, initial_state, training = _call_arguments(call)
    _mask(mask, x, extra_dims=True)
    if initial_state is not None:
        raise ValueError("TimeDistributed takes no `initial_state`. Received: initial_state is not None")
    batch, time = x.shape[:2]
    flat = x.reshape((batch * time,) + x.shape[2:])
    if inner is None:  # the built-in inner layers check their own weights' presence and shapes
        expected = sorted(prefix + k for k in _inner_shapes(class_name, config, flat.shape)[0])
        unknown = sorted(set(weights) - set(expected))
    else:
        expected, unknown = [prefix + "..."], sorted(k for k in weights if not k.startswith(prefix))
    if unknown:
        raise ValueError(f"Unexpected weight(s) for TimeDistributed({class_name}): {', '.join(unknown)}. "
                         f"Expected: {', '.join(expected)}")
    inner_weights = {k[len(prefix):]: _f64(v) for k, v in weights.items()}
    function = inner if inner is not None else _inner_function(class_name)
    inner_call = {"mask": None, "initial_state": None, "training": bool(training)}
    y = _f64(function({"x": flat}, inner_weights, call=inner_call, **config))
    return y.reshape((batch, time) + y.shape[1:])


def check_modelled(layer_name, params, call):
    """NotImplementedError for documented arguments this reference does not compute (a random
    dropout mask in training, states carried between calls by stateful=True), so that a case
    using them can be refused before it runs; ValueError for arguments it rejects."""
    call = call or {}
    if layer_name in RNN_LAYERS:
        specs = [_rnn(layer_name, params)]
    elif layer_name == "Bidirectional":
        specs = list(_bidirectional(params)[:2])
    else:
        return
    for spec in specs:
        _check_training(spec, call.get("training"))


# --- shapes -------------------------------------------------------------------------------------


def weight_shapes(layer_name, input_shapes, **params):
    """Variable name -> shape, named as in the module docstring, for inputs {"x": shape} (batch first).

    SimpleRNN/LSTM/GRU: <cell>/kernel (F, G*U), <cell>/recurrent_kernel (U, G*U), <cell>/bias
    (G*U,) or (2, 3U) for GRU(reset_after=True), G = 1, 4, 3; Bidirectional: the same under
    forward_<name>/ and backward_<name>/; TimeDistributed: the inner layer's under <inner name>/.
    """
    if layer_name in RNN_LAYERS:
        spec = _rnn(layer_name, params)
        shapes = _cell_shapes(spec, _features(_input_shape(input_shapes)))
        return {f"{_CELL_NAMES[spec.kind]}/{k}": v for k, v in shapes.items()}
    if layer_name == "Bidirectional":
        forward, backward, _, prefixes = _bidirectional(params)
        features = _features(_input_shape(input_shapes))
        out = {}
        for spec, prefix in zip((forward, backward), prefixes):
            out.update({f"{prefix}{_CELL_NAMES[spec.kind]}/{k}": v for k, v in _cell_shapes(spec, features).items()})
        return out
    if layer_name == "TimeDistributed":
        class_name, config, prefix = _time_distributed(params)
        shape = _input_shape(input_shapes, rank=None)
        flat = (None if shape[0] is None or shape[1] is None else shape[0] * shape[1],) + shape[2:]
        return {prefix + k: v for k, v in _inner_shapes(class_name, config, flat)[0].items()}
    raise ValueError(f"`layer_name` must be one of {', '.join(LAYERS)}. Received: layer_name={layer_name!r}")


def output_shape(layer_name, input_shapes, **params):
    """Output shape (batch first), or the list [output, *states] of shapes when return_state.

    RNN: (B, T, U) with return_sequences, else (B, U); states (B, U) each. Bidirectional:
    last dim 2U for concat, U otherwise; merge_mode=None gives two output shapes.
    TimeDistributed: (B, T, *inner output shape[1:]).
    """
    if layer_name in RNN_LAYERS:
        spec = _rnn(layer_name, params)
        shape = _input_shape(input_shapes)
        _features(shape)
        out, states = _rnn_output_shapes(spec, shape)
        return [out, *states] if spec.return_state else out
    if layer_name == "Bidirectional":
        forward, backward, merge_mode, _ = _bidirectional(params)
        shape = _input_shape(input_shapes)
        _features(shape)
        f_out, f_states = _rnn_output_shapes(forward, shape)
        b_out, b_states = _rnn_output_shapes(backward, shape)
        if merge_mode is None:
            head = [f_out, b_out]
        elif merge_mode == "concat":
            head = [f_out[:-1] + (f_out[-1] + b_out[-1],)]
        else:
            head = [f_out]
        if forward.return_state:
            return [*head, *f_states, *b_states]
        return head if merge_mode is None else head[0]
    if layer_name == "TimeDistributed":
        class_name, config, _ = _time_distributed(params)
        shape = _input_shape(input_shapes, rank=None)
        flat = (None if shape[0] is None or shape[1] is None else shape[0] * shape[1],) + shape[2:]
        inner = _inner_shapes(class_name, config, flat)[1]
        return tuple(shape[:2]) + tuple(inner[1:])
    raise ValueError(f"`layer_name` must be one of {', '.join(LAYERS)}. Received: layer_name={layer_name!r}")


LAYERS = {
    "SimpleRNN": simple_rnn,
    "LSTM": lstm,
    "GRU": gru,
    "Bidirectional": bidirectional,
    "TimeDistributed": time_distributed,
}
