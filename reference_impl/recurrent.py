"""Keras 3 recurrent layers (SimpleRNN, LSTM, GRU) and the Bidirectional and TimeDistributed wrappers in NumPy float64.

Every layer function has the harness signature

    <snake_name>(inputs, weights, *, call, **params)

with inputs = {"x": array}, weights = {variable name: array}, call = {"mask": bool (batch, time)
or None, "initial_state": list of arrays or None, "training": bool}, and params the constructor
arguments. It returns the output array, or the list [output, *final_states] when return_state
(Bidirectional with merge_mode=None: [forward_output, backward_output, *states]).
`weight_shapes(layer_name, input_shapes, **params)` and `output_shape(layer_name, input_shapes,
**params)` are pure functions of the arguments; `LAYERS` maps the Keras class names to the layer
functions. `error_bound(layer_name, inputs, weights, fmt, *, call, **params)` (SimpleRNN, LSTM,
GRU, Bidirectional) bounds, per element of every output in the layout the layer function returns
them (the output, or the list [output, *final_states]), and `time_distributed_error_bound` per
element of the output, the rounding error of a correct evaluation in a floating-point format (the
section "rounding error bound" states the rules).

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
from reference_impl import rounding

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


def scan(step, inputs, mask, states, *, go_backwards=False, zero_output_for_mask=False):
    """The RNN loop over axis 1 of `inputs` (any trailing shape), with the documented masking.

    step(x_t, states) -> (output, new_states), every state batch first with the output's number
    of dims. At a masked step (mask[b, t] False) every state keeps its value and the output
    repeats the previous output (zeros before the first unmasked step), or is zero with
    zero_output_for_mask. go_backwards reverses the input and the mask in time; the output
    sequence is in processing order. Returns (sequence, last output, states).
    """
    if go_backwards:
        inputs = inputs[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    outputs, previous = [], None
    for t in range(inputs.shape[1]):
        out, new_states = step(inputs[:, t], states)
        if previous is None:
            previous = np.zeros_like(out)
        if mask is None:
            previous, states = out, new_states
            outputs.append(out)
            continue
        keep = mask[:, t].reshape((-1,) + (1,) * (out.ndim - 1))
        states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        previous = np.where(keep, out, previous)
        outputs.append(np.where(keep, out, 0.0) if zero_output_for_mask else previous)
    return np.stack(outputs, axis=1), previous, states


def _recur(spec, w, x, mask, states):
    """Run one direction over the sequence; returns (output sequence (B, T, U), last output, final states).

    The output sequence is in processing order (reversed in time when go_backwards).
    """
    project, step = _cell(spec, w)
    return scan(step, project(x), mask, states, go_backwards=spec.go_backwards,
                zero_output_for_mask=spec.zero_output_for_mask)


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
    (forward, forward_init, forward_prefix), (backward, backward_init, backward_prefix), merge_mode, x, mask, training = \
        _bidirectional_directions(inputs, call, params)
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


def _bidirectional_directions(inputs, call, params):
    """((forward spec, its initial states, its weight prefix), (the same of the backward
    direction), merge_mode, x, mask, training) of a Bidirectional call: the initial states split
    in halves, and with return_sequences and a mask both directions output zero at masked steps."""
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
    return (forward, forward_init, forward_prefix), (backward, backward_init, backward_prefix), merge_mode, x, mask, training


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


# --- rounding error bound -----------------------------------------------------------------------
#
# How far a correct evaluation of the cell equations in a floating-point format (unit roundoff
# u, smallest normal "tiny", reference_impl.rounding) may land from the exact result. The bound
# runs beside the reference's own time loop (`scan`, the same masking), carrying with every value
# v a bound dv on |computed v - exact v| (Higham, Accuracy and Stability of Numerical Algorithms,
# 2nd ed., ch. 2-3: fl(a op b) = (a op b)(1 + d), |d| <= u; gamma_K = K u / (1 - K u)). The inputs,
# the weights and the initial states are exact (the harness rounds them to the case's dtype
# before either side sees them), so they start with error 0. The rules, each stated once:
#
#   a sum of products  z = sum_j x_j M_j + sum_k b_k  of K = sum_j rows(M_j) + #biases terms per
#   output (in any order of summation, fused multiply-adds or not, the biases added anywhere),
#   whose inputs x_j arrive with errors dx_j:
#       dz = gamma_K (sum_j (|x_j| + dx_j) |M_j| + sum_k |b_k|) + sum_j dx_j |M_j| + 2 K tiny
#   (Higham (3.5) on the computed inputs, whose magnitudes are at most |x| + dx, plus what the
#   error carried in moves the exact sum; the last term the flush-to-zero floor of its roundings);
#
#   an activation  y = f(z)  (tanh, sigmoid, ... by their names in reference_impl.activations):
#       dy = max(|f(z +- dz) - f(z)|) + max over z' in {z - dz, z, z + dz} of E_f(z')
#   the secant (exact for monotone f) plus f's own elementwise bound E_f (rounding.elementwise:
#   a few ulps, the condition term, the magnitude its formula cancels, reference_impl.activations
#   .CANCELLED) where f is actually evaluated, anywhere in [z - dz, z + dz]; linear: dy = dz;
#
#   a sum of n products of computed values  s = sum_j a_j b_j  (c = f * c_prev + i * g: n = 2;
#   h = o * act(c): n = 1):
#       ds = sum_j (|a_j| db_j + |b_j| da_j + da_j db_j) + gamma_n sum_j (|a_j| + da_j)(|b_j| + db_j) + 2 n tiny;
#
#   a sum or a difference of two computed values  s = a +- b  (the merges):
#       ds = da + db + u (|a +- b| + da + db) + tiny;
#
#   the GRU update  h' = z h + (1 - z) n  (or n + z (h - n)): _gru_update.
#
# A masked step keeps every state and its error; an output that repeats the previous output
# keeps its error; a zero output (zero_output_for_mask, before the first unmasked step) is exact.
# The final states (return_state) are bounded by the errors the loop carries with them: after the
# last step (masked steps keep them, so a sample masked throughout returns its exact initial
# states, error 0), whatever the outputs did (the output is zeros before the first unmasked step,
# the states are not).


class _NoBound(Exception):
    """No bound is derived for these arguments (gamma_K with K u >= 1, an activation that is not
    a named elementwise one); the layer's bound is then None and the flat tolerance judges."""


# The activations that act along an axis (conformance.ops.bounds.AXIS_ACTIVATIONS): no elementwise bound.
_AXIS_ACTIVATIONS = frozenset({"softmax", "log_softmax", "glu", "sparsemax"})


def _gamma(k, fmt):
    if k * fmt.unit_roundoff >= 1:  # 256 terms in bfloat16: gamma_K bounds nothing
        raise _NoBound(f"gamma_K needs K u < 1; K = {k}, u = {fmt.unit_roundoff:g}")
    return float(rounding.gamma(k, fmt.unit_roundoff))


def _sum_of_products(terms, biases, fmt):
    """(z, dz) of z = sum_j x_j M_j + sum_k b_k (the first rule above).

    terms: [(x, dx, multiply, rows)], multiply(a, absolute) -> a M_j (a |M_j| when absolute),
    rows the products of one output; biases: the bias arrays present (a missing bias is no term)."""
    k = sum(rows for *_, rows in terms) + len(biases)
    gamma = _gamma(k, fmt)
    with np.errstate(invalid="ignore", over="ignore"):
        value = sum(multiply(x, False) for x, _, multiply, _ in terms) + sum(biases)
        magnitude = sum(multiply(np.abs(x) + dx, True) for x, dx, multiply, _ in terms) + sum(np.abs(b) for b in biases)
        carried = sum(multiply(dx, True) for _, dx, multiply, _ in terms)
    return value, gamma * magnitude + carried + rounding.underflow_floor(2 * k, fmt)


def _products(pairs, fmt):
    """(s, ds) of s = sum_j a_j b_j of computed values, pairs [((a, da), (b, db)), ...] (the third rule)."""
    gamma = _gamma(len(pairs), fmt)
    with np.errstate(invalid="ignore", over="ignore"):
        value = sum(a * b for (a, _), (b, _) in pairs)
        carried = sum(np.abs(a) * db + np.abs(b) * da + da * db for (a, da), (b, db) in pairs)
        magnitude = sum((np.abs(a) + da) * (np.abs(b) + db) for (a, da), (b, db) in pairs)
    return value, carried + gamma * magnitude + rounding.underflow_floor(2 * len(pairs), fmt)


def _added(a, da, b, db, fmt):
    """(s, ds) of s = a + b of computed values (the fourth rule)."""
    with np.errstate(invalid="ignore", over="ignore"):
        value = a + b
        return value, da + db + fmt.unit_roundoff * (np.abs(value) + da + db) + fmt.smallest_normal


def _through(function):
    """through(z, dz, fmt) -> (f(z), dy) for an activation function of reference_impl.activations
    (the second rule), found by its documented name; _NoBound for another callable or one that
    acts along an axis."""
    if function is _activations.linear:
        return lambda z, dz, fmt: (z, dz)
    name = next((n for n, f in _activations.ACTIVATIONS.items() if f is function), None)
    cancelled = _activations.CANCELLED.get(name)
    if name is None:  # Keras 2's hard_sigmoid, a recurrent layer's default there
        name = next((n for n, f in _activations.KERAS2_ACTIVATIONS.items() if f is function), None)
        cancelled = _activations.KERAS2_CANCELLED.get(name)
    if name is None or name in _AXIS_ACTIVATIONS:
        raise _NoBound(f"no elementwise bound for the activation {getattr(function, '__name__', function)!r}")

    def through(z, dz, fmt):
        with np.errstate(all="ignore"):
            y = _f64(function(z))
        own = np.maximum.reduce([rounding.elementwise(function, at, fmt, cancelled) for at in (z - dz, z, z + dz)])
        return y, rounding.secant(function, z, dz) + own

    return through


def _gru_update(z, dz, h, dh, n, dn, fmt):
    """(h', dh') of h' = z * h + (1 - z) * n, as the docstring writes it, or rearranged as
    n + z * (h - n) (as implementations also compute it). Both compute the same bilinear
    function of the computed z, h, n, which moves the exact result by at most

        |z| dh + |1 - z| dn + |h - n| dz + dz (dh + dn)

    (its exact first-order change plus the product of the errors), and round
    form 1: 1 - z once, the two products and the sum: gamma_3 (|z~||h~| + |1 - z~||n~|);
    form 2: h - n, the product and the sum: gamma_3 (|z~||h~ - n~| + |n~|)
    (fused multiply-adds round less), with |z~| <= |z| + dz and so on; the larger of the two,
    plus the flush-to-zero floor of their four roundings."""
    with np.errstate(invalid="ignore", over="ignore"):
        value = z * h + (1.0 - z) * n
        carried = np.abs(z) * dh + np.abs(1.0 - z) * dn + np.abs(h - n) * dz + dz * (dh + dn)
        gamma = _gamma(3, fmt)
        as_written = gamma * ((np.abs(z) + dz) * (np.abs(h) + dh) + (np.abs(1.0 - z) + dz) * (np.abs(n) + dn))
        rearranged = gamma * ((np.abs(z) + dz) * (np.abs(h - n) + dh + dn) + np.abs(n) + dn)
        return value, carried + np.maximum(as_written, rearranged) + rounding.underflow_floor(4, fmt)


def _matrix(m):
    """multiply(a, absolute) of a matrix product a @ m (a @ |m|)."""
    magnitude = np.abs(m)
    return lambda a, absolute: a @ (magnitude if absolute else m)


def _cell_bound(spec, w, fmt):
    """step((x, dx), [(state, dstate), ...]) -> ((output, doutput), [(state, dstate), ...]): one
    step of the cell (module docstring) and the bound of each value, by the rules above:

      SimpleRNN  z = x W + h R + b (K = F + U + 1);  h' = act(z)
      LSTM       z = x W + h R + b (K = F + U + 1), blocks i, f, g, o through ract, ract, act, ract;
                 c' = f c + i g (two products);  h' = o act(c') (one product)
      GRU        z, r = ract(x W + h R + b) (K = F + U + 1; F + U + 2 with reset_after's two biases);
                 reset_after=False: q = r h (one product), n = act(x W_h + q R_h + b_h) (K = F + U + 1);
                 reset_after=True:  m = h R_h + br_h (K = U + 1), p = r m (one product),
                                    n = act(x W_h + bi_h + p) (K = F + 2);
                 h' = z h + (1 - z) n, or n + z (h - n): the larger bound (_gru_update).
    F the cell's input width (a stacked cell's: the previous cell's units), U its units.
    """
    act, ract = _through(spec.activation), _through(spec.recurrent_activation)
    kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w.get("bias")
    features, units = kernel.shape[0], spec.units
    if spec.kind == "GRU" and spec.reset_after:
        input_bias, recurrent_bias = (None, None) if bias is None else (bias[0], bias[1])
    else:
        input_bias, recurrent_bias = bias, None

    def block(a, first, last=None):
        """Columns of gates first..last - 1 (one gate: last = first + 1), or None."""
        return None if a is None else a[..., first * units:(last or first + 1) * units]

    def present(*biases):
        return [b for b in biases if b is not None]

    if spec.kind in ("SimpleRNN", "LSTM"):
        kernel_product, recurrent_product = _matrix(kernel), _matrix(recurrent)

        def preactivation(x, dx, h, dh):
            return _sum_of_products([(x, dx, kernel_product, features), (h, dh, recurrent_product, units)],
                                    present(bias), fmt)

    if spec.kind == "SimpleRNN":
        def step(inputs, states):
            (h, dh), = states
            out = act(*preactivation(*inputs, h, dh), fmt)
            return out, [out]
    elif spec.kind == "LSTM":
        def step(inputs, states):
            (h, dh), (c, dc) = states
            z, dz = preactivation(*inputs, h, dh)
            i, f, g, o = (through(block(z, j), block(dz, j), fmt) for j, through in enumerate((ract, ract, act, ract)))
            c = _products([(f, (c, dc)), (i, g)], fmt)
            h = _products([(o, act(*c, fmt))], fmt)
            return h, [h, c]
    else:
        gates_kernel, gates_recurrent = _matrix(block(kernel, 0, 2)), _matrix(block(recurrent, 0, 2))
        candidate_kernel, candidate_recurrent = _matrix(block(kernel, 2)), _matrix(block(recurrent, 2))

        def step(inputs, states):
            x, dx = inputs
            (h, dh), = states
            zr, dzr = _sum_of_products([(x, dx, gates_kernel, features), (h, dh, gates_recurrent, units)],
                                       present(block(input_bias, 0, 2), block(recurrent_bias, 0, 2)), fmt)
            z, r = (ract(block(zr, j), block(dzr, j), fmt) for j in (0, 1))
            if spec.reset_after:
                m = _sum_of_products([(h, dh, candidate_recurrent, units)], present(block(recurrent_bias, 2)), fmt)
                p, dp = _products([(r, m)], fmt)
                s = _sum_of_products([(x, dx, candidate_kernel, features), (p, dp, lambda a, absolute: a, 1)],
                                     present(block(input_bias, 2)), fmt)
            else:
                q, dq = _products([(r, (h, dh))], fmt)
                s = _sum_of_products([(x, dx, candidate_kernel, features), (q, dq, candidate_recurrent, units)],
                                     present(block(input_bias, 2)), fmt)
            out = _gru_update(*z, h, dh, *act(*s, fmt), fmt)
            return out, [out]
    step.smooth = smooth(spec.activation, spec.recurrent_activation)
    step.values = _cell(spec, w)  # (project, step) of the values alone, for first_order_bound
    return step


# The activations whose derivative the first-order bound may take by central differences: smooth
# everywhere (relu, hard_sigmoid and the like have kinks, where the linearization does not hold).
_SMOOTH = frozenset({_activations.linear, _activations.ACTIVATIONS["tanh"], _activations.ACTIVATIONS["sigmoid"]})


def smooth(*functions):
    """Whether every one of the activations is smooth (_SMOOTH)."""
    return all(f in _SMOOTH for f in functions)


def _pack(value, error):
    return np.stack([value, error], axis=-1)


def _unpack(pair):
    return pair[..., 0], pair[..., 1]


def scan_bound(step, x, mask, states, *, go_backwards=False, zero_output_for_mask=False):
    """The rigorous bound: `scan` over (value, error) pairs, every step's bound carrying the
    previous step's (the rules above). step((x_t, dx_t), [(state, dstate), ...]) -> ((output,
    doutput), [(state, dstate), ...]); states: the initial values, exact. The documented masking
    applies to each value and its error alike (packed side by side on a trailing axis, so that
    scan's selections move them together). Returns (dsequence, dlast, [dstate, ...]), the last
    the errors carried with the final states."""
    def paired(xp, state_pairs):
        out, new = step(_unpack(xp), [_unpack(s) for s in state_pairs])
        return _pack(*out), [_pack(*s) for s in new]

    sequence, last, final = scan(paired, _pack(x, np.zeros_like(x)), mask, [_pack(s, np.zeros_like(s)) for s in states],
                                 go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    return _unpack(sequence)[1], _unpack(last)[1], [_unpack(s)[1] for s in final]


def _flatten(states):
    return np.concatenate([s.reshape(s.shape[0], -1) for s in states], axis=1)


def _unflatten(vector, like):
    out, at = [], 0
    for s in like:
        n = int(np.prod(s.shape[1:]))
        out.append(vector[:, at:at + n].reshape((vector.shape[0],) + s.shape[1:]))
        at += n
    return out


# Central differences for the first-order bound's Jacobians: a step of 2**-18 relative (at least
# 2**-18), whose truncation error (step**2 times the third derivative, of order 1 for tanh and
# sigmoid) and float64 rounding (2**-53 / step) are both below 1e-10 of the derivative.
_DIFFERENCE_STEP = 2.0 ** -18


def first_order_bound(step, x, mask, states, *, go_backwards=False, zero_output_for_mask=False):
    """The bound to first order in u, with the signs of the propagation kept: (dsequence, dlast,
    [dstate, ...]).

    With s_t the states (flattened, S numbers per sample), a computed step is the exact step of
    the computed states plus its own rounding: s~_t = Phi_t(s~_{t-1}) + eta_t, |eta_t| <= the
    step's bound from exact states (step with zero errors in, the rules above), and likewise the
    output y~_t = Psi_t(s~_{t-1}) + eta_y_t. To first order the errors then add up as

        |y~_t - y_t| <= eta_y_t + sum_{tau < t} |C_t A_{t-1} ... A_{tau+1}| eta_tau

    and the final states, after the last step T, as

        |s~_T - s_T| <= sum_{tau <= T} |A_T ... A_{tau+1}| eta_tau      (the empty product I)

    with A_t = dPhi_t / ds and C_t = dPsi_t / ds at the exact states (by central differences of
    the step's values, step.values = (project, advance) as the reference computes them, _DIFFERENCE_STEP) and |.| elementwise on the product: the Jacobians are
    multiplied with their signs, so a contraction (a saturated gate, a forget gate below 1)
    shrinks the error carried in, where the rigorous bound, with |A| at every step, can only add.
    Neglected: products of two errors (order u**2), and the derivative's change between the
    exact and the computed states (order u times the error). A masked step: A = I, eta = 0 and
    the output as `scan` gives it (the previous output's bound, or 0); the final states' bound
    is then the last unmasked step's (0 for a sample masked throughout: its initial states)."""
    if go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    batch = x.shape[0]
    size = sum(int(np.prod(s.shape[1:])) for s in states)
    identity = np.broadcast_to(np.eye(size), (batch, size, size))
    directions = np.concatenate([np.eye(size), -np.eye(size)])
    carried = []  # (A_t ... A_{tau+1}, eta_tau) for every earlier step tau
    outputs, previous = [], None
    for t in range(x.shape[1]):
        x_t = x[:, t]
        (out, eta_out), new = step((x_t, np.zeros_like(x_t)), [(s, np.zeros_like(s)) for s in states])
        new_states, eta = [v for v, _ in new], _flatten([e for _, e in new])
        # every state moved by +-h_j, each as one more sample: (batch * 2 S) samples
        vector = _flatten(states)
        h = _DIFFERENCE_STEP * np.maximum(np.abs(vector), 1.0)
        moved = (vector[:, None, :] + directions[None] * np.concatenate([h, h], axis=1)[:, :, None]).reshape(-1, size)
        project, advance = step.values  # the values alone: the input's projection does not move
        moved_out, moved_new = advance(np.repeat(project(x_t), 2 * size, axis=0), _unflatten(moved, states))
        moved_new = _flatten(moved_new).reshape(batch, 2 * size, size)
        moved_out = moved_out.reshape(batch, 2 * size, -1)
        width = (2 * h)[:, :, None]
        a = np.swapaxes((moved_new[:, :size] - moved_new[:, size:]) / width, 1, 2)  # (batch, S out, S in)
        c = np.swapaxes((moved_out[:, :size] - moved_out[:, size:]) / width, 1, 2)
        bound = eta_out.reshape(batch, -1) + sum((np.abs(c @ product) @ e[:, :, None])[:, :, 0] for product, e in carried)
        bound = bound.reshape(out.shape)
        if mask is not None:
            keep = mask[:, t]
            a = np.where(keep[:, None, None], a, identity)
            eta = np.where(keep[:, None], eta, 0.0)
            new_states = [np.where(keep.reshape((-1,) + (1,) * (n.ndim - 1)), n, o) for n, o in zip(new_states, states)]
        carried = [(a @ product, e) for product, e in carried] + [(identity, eta)]
        states = new_states
        if previous is None:
            previous = np.zeros_like(bound)
        if mask is None:
            previous = bound
            outputs.append(bound)
            continue
        keep = mask[:, t].reshape((-1,) + (1,) * (bound.ndim - 1))
        previous = np.where(keep, bound, previous)
        outputs.append(np.where(keep, bound, 0.0) if zero_output_for_mask else previous)
    final = sum(((np.abs(product) @ e[:, :, None])[:, :, 0] for product, e in carried), np.zeros((batch, size)))
    return np.stack(outputs, axis=1), previous, _unflatten(final, states)


def sequence_bound(step, x, mask, states, *, go_backwards=False, zero_output_for_mask=False):
    """(dsequence, dlast, [dstate, ...]): the rigorous bound (scan_bound), or where every
    activation of the step is smooth (step.smooth) the smaller of it and the first-order one
    (first_order_bound), element by element, for the outputs and the final states alike: both
    bound the error to first order, and the first-order one does not grow with |A| at every step."""
    options = dict(go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    sequence, last, final = scan_bound(step, x, mask, states, **options)
    if getattr(step, "smooth", False):
        linear_sequence, linear_last, linear_final = first_order_bound(step, x, mask, states, **options)
        sequence, last = np.minimum(sequence, linear_sequence), np.minimum(last, linear_last)
        final = [np.minimum(r, f) for r, f in zip(final, linear_final)]
    return _finite(sequence), _finite(last), [_finite(s) for s in final]


def _direction_bound(spec, weights, x, mask, initial_state, prefix, fmt):
    """(bound of one RNN direction's output: the sequence (in processing order) or the last
    output, [bound of each final state, in the layer's order of states])."""
    w = _take_weights(spec, weights, x.shape[-1], prefix)
    states = _initial_states(spec, initial_state, x.shape[0])
    sequence, last, final = sequence_bound(_cell_bound(spec, w, fmt), x, mask, states,
                                           go_backwards=spec.go_backwards, zero_output_for_mask=spec.zero_output_for_mask)
    return (sequence if spec.return_sequences else last), final


def _merge_bound(merge_mode, forward, backward, fmt):
    """(merged, dmerged) of the two directions' (output, bound): concat [f, b] (no rounding); sum
    f + b (one addition); mul f * b (one product); ave (f + b) / 2 (the sum's bound halved: the
    halving is exact but below the normal range, where a flush loses up to tiny); None: the list
    [f, b], each with its own bound, as `_merge` returns it."""
    (f, df), (b, db) = forward, backward
    if merge_mode == "concat":
        return np.concatenate([f, b], axis=-1), np.concatenate([df, db], axis=-1)
    if merge_mode == "sum":
        return _added(f, df, b, db, fmt)
    if merge_mode == "mul":
        return _products([((f, df), (b, db))], fmt)
    if merge_mode == "ave":
        s, ds = _added(f, df, b, db, fmt)
        return s / 2.0, ds / 2.0 + fmt.smallest_normal
    return [f, b], [df, db]


def error_bound(layer_name, inputs, weights, fmt, *, call=None, **params):
    """Per-element bound on the rounding error of every output of SimpleRNN, LSTM, GRU or
    Bidirectional evaluated in the format `fmt` (reference_impl.rounding.Format), in the layout
    the layer function returns them: the output's bound, or with return_state the list
    [output's, *final states'] (LSTM [h, c]); Bidirectional [merged, *forward states',
    *backward states'], merge_mode=None [forward output's, backward output's, ...]. The cell steps
    of _cell_bound by the rules stated above, carried through the time loop (sequence_bound): the
    outputs' bounds, and the errors carried with the states after the last step (a masked step
    keeps them); Bidirectional: each direction's bounds, the backward output's reversed in time
    as the output, then the merge's (_merge_bound), the states' as each direction's. None where
    no bound is derived: an activation that is not a named elementwise one, or K u >= 1 (the flat
    tolerance then judges)."""
    try:
        if layer_name in RNN_LAYERS:
            spec = _rnn(layer_name, params)
            x = _x(inputs)
            mask, initial_state, _ = _call_arguments(call)
            output, states = _direction_bound(spec, weights, x, _mask(mask, x), initial_state, "", fmt)
            return [output, *states] if spec.return_state else output
        if layer_name == "Bidirectional":
            (forward, forward_init, forward_prefix), (backward, backward_init, backward_prefix), merge_mode, x, mask, training = \
                _bidirectional_directions(inputs, call, params)
            f_seq, f_last, _ = _run_rnn(forward, weights, x, mask, forward_init, training, forward_prefix)
            b_seq, b_last, _ = _run_rnn(backward, weights, x, mask, backward_init, training, backward_prefix)
            f, f_states = _direction_bound(forward, weights, x, mask, forward_init, forward_prefix, fmt)
            b, b_states = _direction_bound(backward, weights, x, mask, backward_init, backward_prefix, fmt)
            if forward.return_sequences:
                values, b = (f_seq, b_seq[:, ::-1]), b[:, ::-1]
            else:
                values = (f_last, b_last)
            merged = _merge_bound(merge_mode, (values[0], f), (values[1], b), fmt)[1]
            head = [_finite(m) for m in merged] if merge_mode is None else [_finite(merged)]
            if not forward.return_state:
                return head if merge_mode is None else head[0]
            return [*head, *f_states, *b_states]
    except _NoBound:
        return None
    raise ValueError(f"`layer_name` must be one of {', '.join(RNN_LAYERS)}, Bidirectional. Received: layer_name={layer_name!r}")


def time_distributed_error_bound(inputs, weights, fmt, *, inner_bound, call=None, **params):
    """TimeDistributed's bound: the inner layer's, per time step (the steps share the weights and
    nothing else: each is the inner layer applied to one slice). inner_bound(class_name, x,
    weights, config, fmt, output) -> the inner layer's bound on the (batch * time, ...) slices,
    or None (then so is this)."""
    class_name, config, prefix = _time_distributed(params)
    x = _x(inputs, rank=None)
    batch, time = x.shape[:2]
    flat = x.reshape((batch * time,) + x.shape[2:])
    inner_weights = {k[len(prefix):]: _f64(v) for k, v in weights.items()}
    output = _f64(_inner_function(class_name)({"x": flat}, inner_weights, call=None, **config))
    bound = inner_bound(class_name, flat, inner_weights, config, fmt, output)
    if bound is None:
        return None
    return np.broadcast_to(_f64(bound), output.shape).reshape((batch, time) + output.shape[1:])


def _finite(bound):
    """A bound with NaN (an infinite input met a zero weight in the magnitudes) made infinite:
    nothing is bounded there, and a NaN would compare as within it."""
    return np.where(np.isnan(bound), np.inf, bound)


LAYERS = {
    "SimpleRNN": simple_rnn,
    "LSTM": lstm,
    "GRU": gru,
    "Bidirectional": bidirectional,
    "TimeDistributed": time_distributed,
}
