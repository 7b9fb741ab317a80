"""Keras 3 RNN(cell) with SimpleRNNCell, LSTMCell, GRUCell or StackedRNNCells, and
ConvLSTM1D/2D/3D, in NumPy float64.

The cell equations are reference_impl.recurrent's (SimpleRNN, LSTM, GRU: its `_cell`, its
argument validation `_rnn` and its weight shapes `_cell_shapes`, reused here, not restated):
RNN(SimpleRNNCell(**c)) is SimpleRNN(**c), and likewise for LSTMCell and GRUCell (the RNN
docstring: "cell: A RNN cell instance ... the cell is the inside of the for loop of a RNN
layer"). The sequence semantics (mask, go_backwards, return_sequences, return_state,
zero_output_for_mask, initial_state) are the RNN docstring's, stated in reference_impl.recurrent.

StackedRNNCells(cells) ("a stack of RNN cells to behave as a single cell"; RNN also takes the
list of cells itself, "a list of RNN cell instances ... stacked on top of each other"): at each
time step the input goes through the cells in order, the output of cell k being the input of
cell k + 1; the step's output is the last cell's output; the states are every cell's states, in
the cells' order (return_state appends them flattened: [h1, h2, c2] for GRUCell, LSTMCell).

ConvLSTM1D/2D/3D (docstring: "Similar to an LSTM layer, but the input transformations and
recurrent transformations are both convolutional"; Shi et al. 2015 "without the feedback loop
on the cell's output", i.e. no peephole terms), with * the N-d cross-correlation of
reference_impl.conv.conv_general and gate blocks [i | f | c | o] of the kernels' last axis, as
for LSTM:

    z = x_t * W (strides, padding, dilation_rate of the layer) + h_{t-1} * R (stride 1, "same"
        padding, so the state keeps the output's spatial size) + b
    i, f, g, o = ract(z_i), ract(z_f), act(z_c), ract(z_o)
    c_t = f * c_{t-1} + i * g;   h_t = o * act(c_t);   output h_t, states [h, c]

with W = kernel (*k, C, 4F), R = recurrent_kernel (*k, F, 4F), b = bias (4F,). The docstring
does not say how the recurrent convolution is padded; "same" with stride 1 is the only one that
keeps the state's size (and the odd pixel of an even kernel goes after, as for Conv "same").

Variable names (as reference_impl.recurrent names them: the Keras path without the layer's own
name and the _<digits> suffixes):

    RNN(cell)                 <cell name>/kernel, <cell name>/recurrent_kernel, <cell name>/bias
    RNN(StackedRNNCells or a list of cells)
                              stacked_rnn_cells/<cell name>/...  for each cell
    ConvLSTM1D/2D/3D          conv_lstm_cell/kernel, conv_lstm_cell/recurrent_kernel, conv_lstm_cell/bias

<cell name> is the cell's `name`, by default simple_rnn_cell, lstm_cell, gru_cell. Two cells of
one stack must have different names (a harness limit: the suffixes that tell them apart in
Keras are dropped), see check_modelled.

error_bound(layer_name, inputs, weights, fmt, *, call, **params) bounds, per element of every output
in the layout the layer returns them (with return_state [output, *states], a stack's flattened in
the cells' order), the rounding error of a correct evaluation in a floating-point format, by the
rules of reference_impl.recurrent (its section "rounding error bound") and the ConvLSTM step
stated there.
"""
from __future__ import annotations

import numpy as np

from reference_impl import activations as _activations
from reference_impl import conv as _conv
from reference_impl import recurrent as _recurrent

CELL_KINDS = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
# Keras's default cell names (the snake-case class name), used in variable paths.
_CELL_NAMES = {"SimpleRNNCell": "simple_rnn_cell", "LSTMCell": "lstm_cell", "GRUCell": "gru_cell"}
STACK = "StackedRNNCells"
_STACK_PREFIX = "stacked_rnn_cells/"
# The RNN layer's own arguments; a cell takes none of them.
_SEQUENCE_ARGUMENTS = {"return_sequences": False, "return_state": False, "go_backwards": False,
                       "stateful": False, "zero_output_for_mask": False}
# Accepted and ignored: they do not change the values (unroll chooses an implementation).
_RNN_IGNORED = frozenset({"name", "trainable", "dtype", "unroll", "activity_regularizer"})
_CONV_LSTM_IGNORED = frozenset({
    "name", "trainable", "dtype", "unroll", "seed", "activity_regularizer", "unit_forget_bias",
    "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint",
})


def _f64(x):
    return np.asarray(x, dtype=np.float64)


# --- the general time loop ---------------------------------------------------------------------


# The RNN loop over time with the documented masking: reference_impl.recurrent.scan, which
# SimpleRNN, LSTM and GRU run too.
scan = _recurrent.scan


# --- RNN(cell) -----------------------------------------------------------------------------------


def _serialized(name, value, allowed):
    return _recurrent._serialized(name, value, allowed)


def _cell_spec(value, what):
    """(reference_impl.recurrent spec, cell name) of one serialized cell."""
    class_name, config = _serialized(what, value, tuple(CELL_KINDS))
    given = sorted(set(config) & set(_SEQUENCE_ARGUMENTS))
    if given:
        raise TypeError(f"Unexpected keyword argument(s) for {class_name}: {', '.join(given)}")
    config = {k: v for k, v in config.items() if k != "dtype"}
    name = config.get("name") or _CELL_NAMES[class_name]
    return _recurrent._rnn(CELL_KINDS[class_name], config), _recurrent._strip_index(name)


def _cells(cell):
    """(list of (spec, weight prefix), stacked) for the RNN's `cell` argument: one serialized
    cell, a list of them, or {class_name: StackedRNNCells, config: {cells: [...]}}."""
    if isinstance(cell, dict) and cell.get("class_name") == STACK:
        _, config = _serialized("cell", cell, (STACK,))
        extra = sorted(set(config) - {"cells", "name", "trainable", "dtype"})
        if extra:
            raise TypeError(f"Unexpected keyword argument(s) for StackedRNNCells: {', '.join(extra)}")
        cell = config.get("cells")
        if not isinstance(cell, list):
            raise ValueError(f"`StackedRNNCells.cells` must be a list of cells. Received: cells={cell!r}")
    if isinstance(cell, list):
        if not cell:
            raise ValueError("`cell` must hold at least one cell. Received: cell=[]")
        specs = [_cell_spec(c, f"cell[{i}]") for i, c in enumerate(cell)]
        return [(spec, f"{_STACK_PREFIX}{name}/") for spec, name in specs], True
    spec, name = _cell_spec(cell, "cell")
    return [(spec, f"{name}/")], False


def _rnn_arguments(params):
    params = dict(params)
    if "cell" not in params:
        raise TypeError("Missing required argument for RNN: cell")
    cells, stacked = _cells(params.pop("cell"))
    sequence = {k: _recurrent._bool(k, params.pop(k, d)) for k, d in _SEQUENCE_ARGUMENTS.items()}
    unknown = sorted(set(params) - _RNN_IGNORED)
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for RNN: {', '.join(unknown)}")
    return cells, stacked, sequence


def _take(weights, prefix, shapes):
    out = {}
    for name, shape in shapes.items():
        value = weights.get(prefix + name)
        if value is None or _f64(value).shape != tuple(shape):
            got = None if value is None else _f64(value).shape
            raise ValueError(f"`{prefix + name}` must have shape {tuple(shape)}. Received: {got}")
        out[name] = _f64(value)
    return out


def _stack_step(cells):
    """One step of the stack: each cell's (project, step) applied in turn, and the states
    split and joined in the cells' order."""
    counts = [len(states_of) for _, states_of in cells]

    def step(x, states):
        new_states, at = [], 0
        for (project, cell_step), n in zip((c for c, _ in cells), counts):
            x, cell_states = cell_step(project(x), states[at:at + n])
            new_states += cell_states
            at += n
        return x, new_states

    return step


def _initial(initial_state, shapes):
    if initial_state is None:
        return [np.zeros(s) for s in shapes]
    states = [initial_state] if isinstance(initial_state, np.ndarray) else list(initial_state)
    if len(states) != len(shapes):
        raise ValueError(f"`initial_state` must hold {len(shapes)} arrays. Received: {len(states)}")
    for i, (s, shape) in enumerate(zip(states, shapes)):
        if _f64(s).shape != tuple(shape):
            raise ValueError(f"`initial_state[{i}]` must have shape {tuple(shape)}. Received: {_f64(s).shape}")
    return [_f64(s) for s in states]


def _run(cells, x, call, sequence, state_shapes):
    """cells: [((project, step), [state shape, ...]), ...]; the layer's output(s)."""
    mask, initial_state, _ = _recurrent._call_arguments(call)
    mask = None if mask is None else _recurrent._mask(mask, np.zeros(x.shape[:2] + (1,)))  # checks (batch, time)
    states = _initial(initial_state, state_shapes)
    seq, last, final = scan(_stack_step(cells), x, mask, states, go_backwards=sequence["go_backwards"],
                            zero_output_for_mask=sequence["zero_output_for_mask"])
    output = seq if sequence["return_sequences"] else last
    return [output, *final] if sequence["return_state"] else output


def rnn(inputs, weights, *, call=None, **params):
    """RNN(cell): the cell's step over time, as reference_impl.recurrent's layer of that cell;
    a stack (StackedRNNCells or a list of cells) feeds each cell's output to the next cell at
    every step. Weights <cell name>/... or stacked_rnn_cells/<cell name>/... (module docstring)."""
    specs, _, sequence = _rnn_arguments(params)
    x = _recurrent._x(inputs)
    call = call or {}
    for spec, _ in specs:
        _recurrent._check_training(spec, call.get("training"))
    cells, features, shapes = [], x.shape[-1], []
    for spec, prefix in specs:
        w = _take(weights, prefix, _recurrent._cell_shapes(spec, features))
        project, step = _recurrent._cell(spec, w)
        n = _recurrent._STATES[spec.kind]
        cells.append(((project, step), [None] * n))
        shapes += [(x.shape[0], spec.units)] * n
        features = spec.units
    return _run(cells, x, call, sequence, shapes)


# --- ConvLSTM1D/2D/3D ------------------------------------------------------------------------------


def _conv_lstm_arguments(rank, params):
    """(cell arguments, sequence arguments) of ConvLSTM<rank>D."""
    params = dict(params)
    for name in ("filters", "kernel_size"):
        if name not in params:
            raise TypeError(f"Missing required argument for ConvLSTM{rank}D: {name}")
    sequence = {k: _recurrent._bool(k, params.pop(k, d)) for k, d in _SEQUENCE_ARGUMENTS.items() if k != "zero_output_for_mask"}
    sequence["zero_output_for_mask"] = False
    cell = {
        "filters": params.pop("filters"), "kernel_size": params.pop("kernel_size"),
        "strides": params.pop("strides", 1), "padding": params.pop("padding", "valid"),
        "data_format": params.pop("data_format", None), "dilation_rate": params.pop("dilation_rate", 1),
        "activation": _activations.get(params.pop("activation", "tanh")),
        "recurrent_activation": _activations.get(params.pop("recurrent_activation", "sigmoid")),
        "use_bias": _recurrent._bool("use_bias", params.pop("use_bias", True)),
        "dropout": _recurrent._fraction("dropout", params.pop("dropout", 0.0)),
        "recurrent_dropout": _recurrent._fraction("recurrent_dropout", params.pop("recurrent_dropout", 0.0)),
    }
    if not isinstance(cell["padding"], str) or cell["padding"].lower() not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={cell['padding']!r}")
    cell["padding"] = cell["padding"].lower()
    unknown = sorted(set(params) - _CONV_LSTM_IGNORED)
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for ConvLSTM{rank}D: {', '.join(unknown)}")
    return cell, sequence


def _frame_shape(rank, input_shape, cell):
    """The shape of one time step (batch, *spatial, channels), channels last, and the data format."""
    shape = tuple(input_shape)
    if len(shape) != rank + 3:
        raise ValueError(f"ConvLSTM{rank}D takes inputs of rank {rank + 3} (batch, time, *spatial, channels). "
                         f"Received: input_shape={shape}")
    data_format = _conv.data_format_argument(cell["data_format"])
    frame = shape[:1] + shape[2:]
    if data_format == "channels_first":
        frame = frame[:1] + frame[2:] + frame[1:2]
    return frame, data_format


def _conv_kwargs(cell):
    return {k: cell[k] for k in ("filters", "kernel_size", "strides", "padding", "dilation_rate")}


def _conv_lstm_shapes(rank, input_shape, cell):
    """(weight shapes, state shape channels last) of ConvLSTM<rank>D for the input shape."""
    frame, _ = _frame_shape(rank, input_shape, cell)
    kernel = _conv.weight_shapes("conv", frame, rank=rank, use_bias=cell["use_bias"], **_conv_kwargs(cell))["kernel"]
    state = _conv.output_shape("conv", frame, rank=rank, **_conv_kwargs(cell))
    f = cell["filters"]
    shapes = {"kernel": kernel[:-1] + (4 * f,), "recurrent_kernel": kernel[:-2] + (f, 4 * f)}
    if cell["use_bias"]:
        shapes["bias"] = (4 * f,)
    return {f"conv_lstm_cell/{k}": v for k, v in shapes.items()}, state


def _channels_back(a, data_format, time_axis):
    """Channels last -> the layer's data format (the channel axis after batch and time)."""
    return a if data_format != "channels_first" else np.moveaxis(a, -1, 2 if time_axis else 1)


def _conv_lstm_cell(cell, w):
    """(project, step) of the ConvLSTM cell, as reference_impl.recurrent's _cell: project(frames)
    -> x * W + b for frames (n, *spatial, channels); step(z_x, [h, c]) -> (h', [h', c'])."""
    act, ract = cell["activation"], cell["recurrent_activation"]
    bias = w.get("bias", 0.0)

    def project(frames):
        return _conv.conv_general(frames, w["kernel"], strides=cell["strides"], dilation=cell["dilation_rate"],
                                  padding=cell["padding"]) + bias

    def step(z_x, states):
        h, c = states
        z = z_x + _conv.conv_general(h, w["recurrent_kernel"], strides=1, dilation=1, padding="same")
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        c = _f64(ract(zf)) * c + _f64(ract(zi)) * _f64(act(zc))
        h = _f64(ract(zo)) * _f64(act(c))
        return h, [h, c]

    return project, step


def conv_lstm(rank, inputs, weights, *, call=None, **params):
    """ConvLSTM<rank>D: the LSTM equations with convolutions (module docstring)."""
    cell, sequence = _conv_lstm_arguments(rank, params)
    x = _f64(inputs["x"] if isinstance(inputs, dict) else inputs)
    shapes, state_shape = _conv_lstm_shapes(rank, x.shape, cell)
    _, data_format = _frame_shape(rank, x.shape, cell)
    call = call or {}
    if call.get("training") and (cell["dropout"] > 0 or cell["recurrent_dropout"] > 0):
        raise NotImplementedError("Dropout in training is random; the reference computes inference only.")
    if data_format == "channels_first":
        x = np.moveaxis(x, 2, -1)
    w = {k.split("/")[-1]: v for k, v in _take(weights, "", shapes).items()}
    batch, time = x.shape[:2]
    project, step = _conv_lstm_cell(cell, w)
    projected = project(x.reshape((batch * time,) + x.shape[2:]))
    projected = projected.reshape((batch, time) + projected.shape[1:])
    initial = call.get("initial_state")
    if initial is not None and data_format == "channels_first":
        initial = [np.moveaxis(_f64(s), 1, -1) for s in initial]
    identity = ((lambda z: z, step), [None, None])
    out = _run([identity], projected, {**call, "initial_state": initial}, sequence, [state_shape] * 2)
    if not sequence["return_state"]:
        return _channels_back(out, data_format, sequence["return_sequences"])
    first, *states = out
    return [_channels_back(first, data_format, sequence["return_sequences"]),
            *(_channels_back(s, data_format, False) for s in states)]


def check_modelled(layer_name, params, call):
    """NotImplementedError for what the reference does not compute (dropout in training,
    stateful, two cells of a stack with one name); ValueError/TypeError for rejected arguments."""
    call = call or {}
    if layer_name == "RNN":
        specs, stacked, sequence = _rnn_arguments(params)
        prefixes = [p for _, p in specs]
        if len(set(prefixes)) != len(prefixes):
            raise NotImplementedError("two cells of the stack have the same name; give each a distinct `name` "
                                      f"(the harness drops the suffixes Keras adds). Received: {prefixes}")
        if stacked and call.get("initial_state") is not None:
            raise NotImplementedError("initial_state of a stack of cells (nested per cell) is not modelled")
        for spec, _ in specs:
            _recurrent._check_training(spec, call.get("training"))
        if sequence["stateful"]:
            raise NotImplementedError("stateful=True carries states between calls; the reference computes one call")
    else:
        cell, sequence = _conv_lstm_arguments(int(layer_name[-2]), params)
        if sequence["stateful"]:
            raise NotImplementedError("stateful=True carries states between calls; the reference computes one call")
        if call.get("training") and (cell["dropout"] > 0 or cell["recurrent_dropout"] > 0):
            raise NotImplementedError("Dropout in training is random; the reference computes inference only.")


def weight_shapes(layer_name, input_shape, **params):
    if layer_name == "RNN":
        specs, _, _ = _rnn_arguments(params)
        features, out = _recurrent._features(_recurrent._input_shape(input_shape)), {}
        for spec, prefix in specs:
            out.update({prefix + k: v for k, v in _recurrent._cell_shapes(spec, features).items()})
            features = spec.units
        return out
    rank = int(layer_name[-2])
    return _conv_lstm_shapes(rank, input_shape, _conv_lstm_arguments(rank, params)[0])[0]


def output_shape(layer_name, input_shape, **params):
    """Output shape, or [output, *states] shapes with return_state."""
    if layer_name == "RNN":
        specs, _, sequence = _rnn_arguments(params)
        shape = _recurrent._input_shape(input_shape)
        _recurrent._features(shape)
        units = specs[-1][0].units
        out = shape[:2] + (units,) if sequence["return_sequences"] else (shape[0], units)
        states = [(shape[0], spec.units) for spec, _ in specs for _ in range(_recurrent._STATES[spec.kind])]
        return [out, *states] if sequence["return_state"] else out
    rank = int(layer_name[-2])
    cell, sequence = _conv_lstm_arguments(rank, params)
    _, state = _conv_lstm_shapes(rank, input_shape, cell)
    _, data_format = _frame_shape(rank, input_shape, cell)
    if data_format == "channels_first":
        state = state[:1] + state[-1:] + state[1:-1]
    time = tuple(input_shape)[1]
    out = state[:1] + (time,) + state[1:] if sequence["return_sequences"] else state
    return [out, state, state] if sequence["return_state"] else out


# --- rounding error bound -----------------------------------------------------------------------


def error_bound(layer_name, inputs, weights, fmt, *, call=None, **params):
    """Per-element bound on the rounding error of every output of RNN(cell) or ConvLSTM<rank>D
    evaluated in the format `fmt` (reference_impl.rounding.Format), carried through the time loop
    by the rules stated in reference_impl.recurrent (above its error_bound), in the layout the
    layer returns its outputs: the output's bound, or with return_state the list [output's,
    *final states'] (the errors the loop carries with the states after the last step; a stack's
    states flattened in the cells' order, as the layer returns them: [h1, h2, c2] for GRUCell,
    LSTMCell; ConvLSTM's [h, c] in the layer's data format); None where no bound is derived (an
    activation that is not a named elementwise one, K u >= 1).

    RNN(cell): each cell's step bound is reference_impl.recurrent's (_cell_bound); in a stack
    the cell k + 1 takes the cell k's output with its error as its input (x, dx), the first cell
    the layer's input with dx = 0.
    ConvLSTM: the LSTM step with its two matrix products replaced by convolutions, each output a
    sum of K = prod(kernel_size) C + prod(kernel_size) F + 1 terms (the input's and the state's
    taps and the bias; padding adds zeros, which round nothing):
        dz = gamma_K (|x_t| * |W| + (|h| + dh) * |R| + |b|) + dh * |R| + 2 K tiny
    (* the layer's convolution, the recurrent one with stride 1 and "same" padding), then the
    gates, c and h as LSTM's: c' = f c + i g (two products), h' = o act(c') (one product).
    """
    try:
        if layer_name == "RNN":
            return _rnn_bound(inputs, weights, call, params, fmt)
        if layer_name in LAYERS:
            return _conv_lstm_bound(int(layer_name[-2]), inputs, weights, call, params, fmt)
    except _recurrent._NoBound:
        return None
    raise ValueError(f"`layer_name` must be one of {', '.join(LAYERS)}. Received: layer_name={layer_name!r}")


def _sequence_bound(step, x, call, sequence, states):
    """(the output's bound, [each final state's bound]) over the loop
    (reference_impl.recurrent.sequence_bound), with the layer's masking."""
    mask, _, _ = _recurrent._call_arguments(call)
    mask = None if mask is None else _recurrent._mask(mask, np.zeros(x.shape[:2] + (1,)))
    dseq, dlast, dstates = _recurrent.sequence_bound(step, x, mask, states, go_backwards=sequence["go_backwards"],
                                                     zero_output_for_mask=sequence["zero_output_for_mask"])
    return (dseq if sequence["return_sequences"] else dlast), dstates


def _rnn_bound(inputs, weights, call, params, fmt):
    specs, _, sequence = _rnn_arguments(params)
    x = _recurrent._x(inputs)
    steps, features, shapes = [], x.shape[-1], []
    for spec, prefix in specs:
        w = _take(weights, prefix, _recurrent._cell_shapes(spec, features))
        n = _recurrent._STATES[spec.kind]
        steps.append((_recurrent._cell_bound(spec, w, fmt), n))
        shapes += [(x.shape[0], spec.units)] * n
        features = spec.units

    def step(inputs, states):
        new_states, at = [], 0
        for cell_step, n in steps:
            inputs, cell_states = cell_step(inputs, states[at:at + n])
            new_states += cell_states
            at += n
        return inputs, new_states

    step.smooth = all(getattr(cell_step, "smooth", False) for cell_step, _ in steps)
    step.values = (lambda x: x, _stack_step([(cell_step.values, [None] * n) for cell_step, n in steps]))
    output, states = _sequence_bound(step, x, call, sequence, _initial((call or {}).get("initial_state"), shapes))
    return [output, *states] if sequence["return_state"] else output


def _conv_lstm_bound(rank, inputs, weights, call, params, fmt):
    cell, sequence = _conv_lstm_arguments(rank, params)
    x = _f64(inputs["x"] if isinstance(inputs, dict) else inputs)
    shapes, state_shape = _conv_lstm_shapes(rank, x.shape, cell)
    _, data_format = _frame_shape(rank, x.shape, cell)
    call = call or {}
    if data_format == "channels_first":
        x = np.moveaxis(x, 2, -1)
    w = {k.split("/")[-1]: v for k, v in _take(weights, "", shapes).items()}
    act, ract = _recurrent._through(cell["activation"]), _recurrent._through(cell["recurrent_activation"])
    kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w.get("bias")
    taps = int(np.prod(kernel.shape[:-2]))
    k_input, k_state = taps * kernel.shape[-2], taps * recurrent.shape[-2]

    def convolution(kernel, **options):
        magnitude = np.abs(kernel)
        return lambda a, absolute: _conv.conv_general(a, magnitude if absolute else kernel, **options)

    input_conv = convolution(kernel, strides=cell["strides"], dilation=cell["dilation_rate"], padding=cell["padding"])
    state_conv = convolution(recurrent, strides=1, dilation=1, padding="same")

    def step(inputs, states):
        (h, dh), (c, dc) = states
        z, dz = _recurrent._sum_of_products([(*inputs, input_conv, k_input), (h, dh, state_conv, k_state)],
                                            [] if bias is None else [bias], fmt)
        i, f, g, o = (through(a, da, fmt) for through, a, da in zip(
            (ract, ract, act, ract), np.split(z, 4, axis=-1), np.split(dz, 4, axis=-1)))
        c = _recurrent._products([(f, (c, dc)), (i, g)], fmt)
        h = _recurrent._products([(o, act(*c, fmt))], fmt)
        return h, [h, c]

    step.smooth = _recurrent.smooth(cell["activation"], cell["recurrent_activation"])
    step.values = _conv_lstm_cell(cell, w)
    initial = call.get("initial_state")
    if initial is not None and data_format == "channels_first":
        initial = [np.moveaxis(_f64(s), 1, -1) for s in initial]
    output, states = _sequence_bound(step, x, call, sequence, _initial(initial, [state_shape] * 2))
    output = _channels_back(output, data_format, sequence["return_sequences"])
    return [output, *(_channels_back(s, data_format, False) for s in states)] if sequence["return_state"] else output


LAYERS = {
    "RNN": rnn,
    "ConvLSTM1D": lambda inputs, weights, *, call=None, **params: conv_lstm(1, inputs, weights, call=call, **params),
    "ConvLSTM2D": lambda inputs, weights, *, call=None, **params: conv_lstm(2, inputs, weights, call=call, **params),
    "ConvLSTM3D": lambda inputs, weights, *, call=None, **params: conv_lstm(3, inputs, weights, call=call, **params),
}
