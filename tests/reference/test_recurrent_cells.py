"""reference_impl.recurrent_cells against second formulations: RNN(cell) against the layer
reference of the same cell (reference_impl.recurrent), a stack of cells against the cells' RNN
layers composed, ConvLSTM with 1x1 kernels against LSTM at every position, and ConvLSTM1D
against a loop version written here from the equations (Python loops over samples, positions,
taps and channels)."""
import numpy as np
import pytest

from reference_impl import recurrent as R
from reference_impl import recurrent_cells as RC

TOL = dict(rtol=1e-12, atol=1e-12)
KINDS = {"SimpleRNNCell": ("SimpleRNN", "simple_rnn_cell", 1), "LSTMCell": ("LSTM", "lstm_cell", 4),
         "GRUCell": ("GRU", "gru_cell", 3)}


def cell(class_name, **config):
    return {"class_name": class_name, "config": config}


def cell_weights(rng, class_name, features, units, prefix, reset_after=True):
    _, name, gates = KINDS[class_name]
    bias = (2, gates * units) if class_name == "GRUCell" and reset_after else (gates * units,)
    return {f"{prefix}{name}/kernel": rng.normal(0.05, 0.5, (features, gates * units)),
            f"{prefix}{name}/recurrent_kernel": rng.normal(0.05, 0.5, (units, gates * units)),
            f"{prefix}{name}/bias": rng.normal(0.5, 0.5, bias)}


def strip(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


@pytest.mark.parametrize("class_name", list(KINDS))
@pytest.mark.parametrize("options", [{}, {"return_sequences": True, "go_backwards": True},
                                     {"return_state": True}, {"return_sequences": True, "zero_output_for_mask": True}])
def test_rnn_of_a_cell_is_the_layer_of_that_cell(class_name, options):
    rng = np.random.default_rng(1)
    x = rng.normal(0.25, 1.0, (3, 6, 4))
    mask = np.array([[1, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1], [0, 1, 1, 0, 1, 1]], bool)
    weights = cell_weights(rng, class_name, 4, 3, "")
    call = {"mask": mask}
    got = RC.rnn({"x": x}, weights, call=call, cell=cell(class_name, units=3), **options)
    layer, _, _ = KINDS[class_name]
    expected = R.LAYERS[layer]({"x": x}, weights, call=call, units=3, **options)
    for g, e in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(g, e, **TOL)


def test_rnn_output_shape_and_weights_of_a_stack():
    stack = {"class_name": "StackedRNNCells", "config": {"cells": [cell("GRUCell", units=3), cell("LSTMCell", units=2)]}}
    assert RC.weight_shapes("RNN", (2, 5, 4), cell=stack) == {
        "stacked_rnn_cells/gru_cell/kernel": (4, 9), "stacked_rnn_cells/gru_cell/recurrent_kernel": (3, 9),
        "stacked_rnn_cells/gru_cell/bias": (2, 9), "stacked_rnn_cells/lstm_cell/kernel": (3, 8),
        "stacked_rnn_cells/lstm_cell/recurrent_kernel": (2, 8), "stacked_rnn_cells/lstm_cell/bias": (8,)}
    assert RC.output_shape("RNN", (2, 5, 4), cell=stack, return_state=True) == [(2, 2), (2, 3), (2, 2), (2, 2)]


@pytest.mark.parametrize("as_list", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_a_stack_is_the_cells_layers_composed(as_list, masked):
    """Stacked cells = the first cell's RNN (all its outputs) fed to the second cell's RNN; with a
    mask both layers skip the same steps (the first repeats its previous output there, which the
    second ignores). The final states are the first layer's, then the second's."""
    rng = np.random.default_rng(2)
    x = rng.normal(0.25, 1.0, (2, 7, 3))
    mask = np.array([[1, 1, 0, 1, 0, 1, 1], [0, 1, 1, 1, 1, 0, 1]], bool) if masked else None
    cells = [cell("LSTMCell", units=4), cell("GRUCell", units=2, reset_after=False)]
    weights = {**cell_weights(rng, "LSTMCell", 3, 4, "stacked_rnn_cells/"),
               **cell_weights(rng, "GRUCell", 4, 2, "stacked_rnn_cells/", reset_after=False)}
    spec = cells if as_list else {"class_name": "StackedRNNCells", "config": {"cells": cells}}
    out, *states = RC.rnn({"x": x}, weights, call={"mask": mask}, cell=spec, return_sequences=True, return_state=True)
    inner = strip(weights, "stacked_rnn_cells/")
    first, h1, c1 = R.lstm({"x": x}, {k: v for k, v in inner.items() if k.startswith("lstm")},
                           call={"mask": mask}, units=4, return_sequences=True, return_state=True)
    second, h2 = R.gru({"x": first}, {k: v for k, v in inner.items() if k.startswith("gru")},
                       call={"mask": mask}, units=2, reset_after=False, return_sequences=True, return_state=True)
    np.testing.assert_allclose(out, second, **TOL)
    for g, e in zip(states, [h1, c1, h2]):
        np.testing.assert_allclose(g, e, **TOL)


def test_two_cells_of_one_name_are_refused():
    with pytest.raises(NotImplementedError):
        RC.check_modelled("RNN", {"cell": [cell("LSTMCell", units=2), cell("LSTMCell", units=2)]}, {})
    RC.check_modelled("RNN", {"cell": [cell("LSTMCell", units=2, name="a"), cell("LSTMCell", units=2, name="b")]}, {})


def conv_lstm_weights(rng, kernel, channels, filters, prefix="conv_lstm_cell/"):
    return {prefix + "kernel": rng.normal(0.05, 0.5, tuple(kernel) + (channels, 4 * filters)),
            prefix + "recurrent_kernel": rng.normal(0.05, 0.5, tuple(kernel) + (filters, 4 * filters)),
            prefix + "bias": rng.normal(0.5, 0.5, (4 * filters,))}


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_lstm_with_1x1_kernels_is_lstm_at_every_position(rank):
    rng = np.random.default_rng(3)
    spatial = (4, 3, 2)[:rank]
    x = rng.normal(0.25, 1.0, (2, 5) + spatial + (3,))
    w = conv_lstm_weights(rng, (1,) * rank, 3, 2)
    got, h, c = RC.conv_lstm(rank, {"x": x}, w, filters=2, kernel_size=1, return_sequences=True, return_state=True)
    # every position its own sequence: (batch * positions, time, channels)
    flat = np.moveaxis(x, 1, -2).reshape(-1, 5, 3)
    lstm_w = {"lstm_cell/kernel": w["conv_lstm_cell/kernel"].reshape(3, 8),
              "lstm_cell/recurrent_kernel": w["conv_lstm_cell/recurrent_kernel"].reshape(2, 8),
              "lstm_cell/bias": w["conv_lstm_cell/bias"]}
    seq, eh, ec = R.lstm({"x": flat}, lstm_w, units=2, return_sequences=True, return_state=True)
    np.testing.assert_allclose(got, np.moveaxis(seq.reshape((2,) + spatial + (5, 2)), -2, 1), **TOL)
    np.testing.assert_allclose(h, eh.reshape((2,) + spatial + (2,)), **TOL)
    np.testing.assert_allclose(c, ec.reshape((2,) + spatial + (2,)), **TOL)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loop_conv_lstm1d(x, kernel, recurrent, bias, strides, padding):
    """ConvLSTM1D from the equations with Python loops: input conv with the layer's strides and
    padding ("same": total pad max((out-1)*s + k - n, 0), the smaller half before), recurrent
    conv stride 1 "same"; gates [i | f | c | o]; tanh and sigmoid."""
    batch, time, n, channels = x.shape
    k, _, width = kernel.shape
    filters = width // 4
    out_len = (n - k) // strides + 1 if padding == "valid" else -(-n // strides)
    before = 0 if padding == "valid" else max((out_len - 1) * strides + k - n, 0) // 2
    rec_before = (k - 1) // 2
    h = np.zeros((batch, out_len, filters))
    c = np.zeros((batch, out_len, filters))
    outputs = []
    for t in range(time):
        z = np.zeros((batch, out_len, width))
        for b in range(batch):
            for i in range(out_len):
                for o in range(width):
                    total = bias[o]
                    for j in range(k):
                        p = i * strides + j - before
                        if 0 <= p < n:
                            total += sum(x[b, t, p, ch] * kernel[j, ch, o] for ch in range(channels))
                        q = i + j - rec_before
                        if 0 <= q < out_len:
                            total += sum(h[b, q, f] * recurrent[j, f, o] for f in range(filters))
                    z[b, i, o] = total
        zi, zf, zc, zo = (z[..., g * filters:(g + 1) * filters] for g in range(4))
        c = sigmoid(zf) * c + sigmoid(zi) * np.tanh(zc)
        h = sigmoid(zo) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


@pytest.mark.parametrize("padding,strides,k", [("valid", 1, 3), ("same", 1, 2), ("same", 2, 3), ("valid", 2, 2)])
def test_conv_lstm1d_against_a_loop_version(padding, strides, k):
    rng = np.random.default_rng(4)
    x = rng.normal(0.25, 1.0, (2, 3, 7, 2))
    w = conv_lstm_weights(rng, (k,), 2, 3)
    got = RC.conv_lstm(1, {"x": x}, w, filters=3, kernel_size=k, strides=strides, padding=padding,
                       return_sequences=True, return_state=True)
    expected = loop_conv_lstm1d(x, *(w[f"conv_lstm_cell/{n}"] for n in ("kernel", "recurrent_kernel", "bias")), strides, padding)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, **TOL)
    assert [g.shape for g in got] == RC.output_shape("ConvLSTM1D", x.shape, filters=3, kernel_size=k, strides=strides,
                                                      padding=padding, return_sequences=True, return_state=True)


def test_conv_lstm_channels_first_is_channels_last_transposed():
    rng = np.random.default_rng(5)
    x = rng.normal(0.25, 1.0, (2, 3, 5, 4, 2))
    w = conv_lstm_weights(rng, (3, 2), 2, 3)
    last = RC.conv_lstm(2, {"x": x}, w, filters=3, kernel_size=[3, 2], padding="same", return_sequences=True)
    first = RC.conv_lstm(2, {"x": np.moveaxis(x, -1, 2)}, w, filters=3, kernel_size=[3, 2], padding="same",
                         return_sequences=True, data_format="channels_first")
    np.testing.assert_allclose(first, np.moveaxis(last, -1, 2), **TOL)


def test_conv_lstm_mask_keeps_states_at_masked_steps():
    """A masked step changes nothing: the sequence without that step gives the same final states."""
    rng = np.random.default_rng(6)
    x = rng.normal(0.25, 1.0, (1, 4, 5, 2))
    w = conv_lstm_weights(rng, (3,), 2, 2)
    mask = np.array([[1, 0, 1, 1]], bool)
    _, h, c = RC.conv_lstm(1, {"x": x}, w, call={"mask": mask}, filters=2, kernel_size=3, padding="same", return_state=True)
    _, eh, ec = RC.conv_lstm(1, {"x": x[:, [0, 2, 3]]}, w, filters=2, kernel_size=3, padding="same", return_state=True)
    np.testing.assert_allclose(h, eh, **TOL)
    np.testing.assert_allclose(c, ec, **TOL)


def test_conv_lstm_rejects_strides_with_dilation_and_causal_padding():
    with pytest.raises(ValueError):
        RC.weight_shapes("ConvLSTM2D", (1, 2, 8, 8, 1), filters=1, kernel_size=3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError):
        RC.weight_shapes("ConvLSTM1D", (1, 2, 8, 1), filters=1, kernel_size=3, padding="causal")
