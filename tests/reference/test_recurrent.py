"""reference_impl.recurrent: hand-computed steps, a per-sample loop formulation, sequence identities,
wrappers, shapes and errors.

The loop formulation below is written independently of the module from the cell equations
(Python loops over samples, steps and units, each gate from its own block of the kernel), and
is used only here.
"""
import math
import zlib

import numpy as np
import pytest

from reference_impl import conv as C
from reference_impl import recurrent as R

RTOL = 1e-12
ATOL = 1e-12
NO_CALL = {"mask": None, "initial_state": None, "training": False}
CELL = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
N_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}
FUNCTIONS = {"SimpleRNN": R.simple_rnn, "LSTM": R.lstm, "GRU": R.gru}


def call(mask=None, initial_state=None):
    return {"mask": mask, "initial_state": initial_state, "training": False}


def named(kind, kernel, recurrent, bias=None, prefix=""):
    w = {f"{prefix}{CELL[kind]}/kernel": kernel, f"{prefix}{CELL[kind]}/recurrent_kernel": recurrent}
    if bias is not None:
        w[f"{prefix}{CELL[kind]}/bias"] = bias
    return w


def random_weights(rng, kind, features, units, *, use_bias=True, reset_after=True, prefix=""):
    width = GATES[kind] * units
    bias = None
    if use_bias:
        bias = rng.normal(size=(2, width) if (kind == "GRU" and reset_after) else (width,)) * 0.5
    return named(kind, rng.normal(size=(features, width)) * 0.6, rng.normal(size=(units, width)) * 0.6, bias, prefix)


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


# --- hand-computed examples ---------------------------------------------------------------


def test_simple_rnn_two_steps_linear_hand():
    # F = 2, U = 2, activation None: h_t = x_t W + h_{t-1} R + b
    # W = [[1, 0], [0.5, -1]], R = [[0.5, 0.1], [0, 1]], b = [0.25, -0.5]
    # x1 = [1, 2]:     x1 W = [1 + 1, 0 - 2] = [2, -2];  h1 = [2.25, -2.5]
    # x2 = [0.5, -1]:  x2 W = [0.5 - 0.5, 0 + 1] = [0, 1]
    #                  h1 R = [2.25 * 0.5 + 0, 2.25 * 0.1 - 2.5 * 1] = [1.125, -2.275]
    #                  h2 = [0 + 1.125 + 0.25, 1 - 2.275 - 0.5] = [1.375, -1.775]
    w = named("SimpleRNN", [[1, 0], [0.5, -1]], [[0.5, 0.1], [0, 1]], [0.25, -0.5])
    x = np.array([[[1.0, 2.0], [0.5, -1.0]]])
    y = R.simple_rnn({"x": x}, w, call=NO_CALL, units=2, activation=None, return_sequences=True)
    np.testing.assert_allclose(y[0], [[2.25, -2.5], [1.375, -1.775]], rtol=RTOL)
    # tanh (the default) applies at each step: h1 = tanh([2.25, -2.5]), h2 = tanh(x2 W + h1 R + b)
    y = R.simple_rnn({"x": x}, w, call=NO_CALL, units=2, return_sequences=True)
    h1 = [math.tanh(2.25), math.tanh(-2.5)]
    h2 = [math.tanh(0 + h1[0] * 0.5 + 0.25), math.tanh(1 + h1[0] * 0.1 + h1[1] - 0.5)]
    np.testing.assert_allclose(y[0], [h1, h2], rtol=RTOL)


def test_lstm_two_steps_linear_gates_hand():
    # F = U = 1, activation and recurrent_activation None, so every gate is its pre-activation.
    # Kernel blocks [i | f | c | o]: W = [1, 2, 3, 4], R = [0.1, -0.1, 0.2, -0.2], b = [0.1, 0.2, 0.3, 0.4]
    # initial h0 = 0, c0 = 1.
    # step 1, x = 0.5: i = 0.6, f = 1.2, g = 1.8, o = 2.4
    #   c1 = f c0 + i g = 1.2 + 1.08 = 2.28; h1 = o c1 = 5.472
    # step 2, x = -1: z = W x + R h1 + b
    #   i = -1 + 0.5472 + 0.1 = -0.3528; f = -2 - 0.5472 + 0.2 = -2.3472
    #   g = -3 + 1.0944 + 0.3 = -1.6056; o = -4 - 1.0944 + 0.4 = -4.6944
    #   c2 = -2.3472 * 2.28 + (-0.3528)(-1.6056) = -5.351616 + 0.56645568 = -4.78516032
    #   h2 = -4.6944 * -4.78516032 = 22.463456606208
    # (Swapping i and f would give c1 = 0.6 + 1.2 * 1.8 = 2.76.)
    w = named("LSTM", [[1, 2, 3, 4]], [[0.1, -0.1, 0.2, -0.2]], [0.1, 0.2, 0.3, 0.4])
    x = np.array([[[0.5], [-1.0]]])
    out, h, c = R.lstm({"x": x}, w, call=call(initial_state=[np.zeros((1, 1)), np.ones((1, 1))]), units=1,
                       activation=None, recurrent_activation=None, return_sequences=True, return_state=True)
    np.testing.assert_allclose(out.ravel(), [5.472, 22.463456606208], rtol=RTOL)
    np.testing.assert_allclose(h.ravel(), [22.463456606208], rtol=RTOL)
    np.testing.assert_allclose(c.ravel(), [-4.78516032], rtol=RTOL)


def test_lstm_one_step_default_activations_hand():
    # Zero pre-activations for i, f, o give sigmoid(0) = 0.5; the c block gets 2 x = 2 at x = 1.
    # c = 0.5 * c0 + 0.5 * tanh(2) with c0 = 1; h = 0.5 * tanh(c)
    w = named("LSTM", [[0, 0, 2, 0]], [[0.3, -0.2, 0.1, 0.4]], [0, 0, 0, 0])
    out, h, c = R.lstm({"x": np.ones((1, 1, 1))}, w, call=call(initial_state=[np.zeros((1, 1)), np.ones((1, 1))]),
                       units=1, return_state=True)
    c_expected = 0.5 + 0.5 * math.tanh(2.0)
    np.testing.assert_allclose(c.ravel(), [c_expected], rtol=RTOL)
    np.testing.assert_allclose(out.ravel(), [0.5 * math.tanh(c_expected)], rtol=RTOL)


def test_gru_one_step_linear_hand_both_conventions():
    # F = U = 1, linear activations, x = 1, h0 = 2; blocks [z | r | h]:
    # W = [0.5, 0.25, 1], R = [0.1, 0.2, 0.3]
    # reset_after=True, bias rows bi = [0, 0, 0.5], br = [0, 0, -0.5]:
    #   z = 0.5 + 0.2 = 0.7; r = 0.25 + 0.4 = 0.65
    #   n = 1 + 0.5 + 0.65 * (0.3 * 2 - 0.5) = 1.5 + 0.065 = 1.565
    #   h = z h0 + (1 - z) n = 1.4 + 0.3 * 1.565 = 1.8695
    # reset_after=False, bias [0, 0, 0]:
    #   n = 1 + (0.65 * 2) * 0.3 = 1.39; h = 1.4 + 0.3 * 1.39 = 1.817
    x, h0 = np.ones((1, 1, 1)), [np.full((1, 1), 2.0)]
    kw = dict(units=1, activation=None, recurrent_activation=None)
    w = named("GRU", [[0.5, 0.25, 1.0]], [[0.1, 0.2, 0.3]], [[0, 0, 0.5], [0, 0, -0.5]])
    np.testing.assert_allclose(R.gru({"x": x}, w, call=call(initial_state=h0), reset_after=True, **kw).ravel(),
                               [1.8695], rtol=RTOL)
    w = named("GRU", [[0.5, 0.25, 1.0]], [[0.1, 0.2, 0.3]], [0, 0, 0])
    np.testing.assert_allclose(R.gru({"x": x}, w, call=call(initial_state=h0), reset_after=False, **kw).ravel(),
                               [1.817], rtol=RTOL)


def test_gru_update_gate_one_keeps_the_state():
    # A large update-gate bias makes z = sigmoid(50) ~ 1: h stays at h0 (h = z h0 + (1 - z) n)
    rng = rng_for("gru_keep")
    w = random_weights(rng, "GRU", 3, 2)
    w["gru_cell/bias"][0, :2] = 50.0
    h0 = rng.normal(size=(2, 2))
    y = R.gru({"x": rng.normal(size=(2, 3, 3))}, w, call=call(initial_state=[h0]), units=2)
    np.testing.assert_allclose(y, h0, rtol=1e-12, atol=1e-15)


def test_masked_steps_hand():
    # SimpleRNN, linear, W = 1, R = 0.5, b = 0; x = [1, 5, 2]
    w = named("SimpleRNN", [[1.0]], [[0.5]], [0.0])
    x = np.array([1.0, 5.0, 2.0]).reshape(1, 3, 1)
    kw = dict(units=1, activation=None, return_sequences=True, return_state=True)
    # mask [T, F, T]: h1 = 1; step 2 skipped (h stays 1, the output repeats 1); h3 = 2 + 0.5 = 2.5
    mask = np.array([[True, False, True]])
    out, h = R.simple_rnn({"x": x}, w, call=call(mask), **kw)
    np.testing.assert_allclose(out.ravel(), [1, 1, 2.5], rtol=RTOL)
    np.testing.assert_allclose(h.ravel(), [2.5], rtol=RTOL)
    out, h = R.simple_rnn({"x": x}, w, call=call(mask), zero_output_for_mask=True, **kw)
    np.testing.assert_allclose(out.ravel(), [1, 0, 2.5], rtol=RTOL)
    # mask [F, T, T] with h0 = 4: no output before the first unmasked step (zeros); the state keeps 4,
    # h2 = 5 + 0.5 * 4 = 7, h3 = 2 + 3.5 = 5.5
    out, h = R.simple_rnn({"x": x}, w, call=call(np.array([[False, True, True]]), [np.full((1, 1), 4.0)]), **kw)
    np.testing.assert_allclose(out.ravel(), [0, 7, 5.5], rtol=RTOL)
    # every step masked: the output is zeros, the state the initial one
    out, h = R.simple_rnn({"x": x}, w, call=call(np.zeros((1, 3), bool), [np.full((1, 1), 4.0)]),
                          units=1, activation=None, return_state=True)
    np.testing.assert_allclose(out.ravel(), [0], rtol=RTOL)
    np.testing.assert_allclose(h.ravel(), [4], rtol=RTOL)


def test_go_backwards_hand():
    # processing order [2, 5, 1] with h = x + 0.5 h_prev: 2, 6, 4, returned in that (reversed) order
    w = named("SimpleRNN", [[1.0]], [[0.5]], [0.0])
    x = np.array([1.0, 5.0, 2.0]).reshape(1, 3, 1)
    y = R.simple_rnn({"x": x}, w, call=NO_CALL, units=1, activation=None, return_sequences=True, go_backwards=True)
    np.testing.assert_allclose(y.ravel(), [2, 6, 4], rtol=RTOL)


def test_bidirectional_merge_modes_hand():
    # forward on [1, 5, 2] with h = x + 0.5 h_prev: [1, 5.5, 4.75]
    # backward: processing [2, 5, 1] gives [2, 6, 4], reversed back to input order: [4, 6, 2]
    w = {**named("SimpleRNN", [[1.0]], [[0.5]], [0.0], "forward_simple_rnn/"),
         **named("SimpleRNN", [[1.0]], [[0.5]], [0.0], "backward_simple_rnn/")}
    x = np.array([1.0, 5.0, 2.0]).reshape(1, 3, 1)
    layer = {"class_name": "SimpleRNN", "config": {"units": 1, "activation": None, "return_sequences": True}}
    expected = {
        "concat": [[1, 4], [5.5, 6], [4.75, 2]],
        "sum": [[5], [11.5], [6.75]],
        "mul": [[4], [33], [9.5]],
        "ave": [[2.5], [5.75], [3.375]],
    }
    for mode, values in expected.items():
        y = R.bidirectional({"x": x}, w, call=NO_CALL, layer=layer, merge_mode=mode)
        np.testing.assert_allclose(y[0], values, rtol=RTOL, err_msg=mode)
    f, b = R.bidirectional({"x": x}, w, call=NO_CALL, layer=layer, merge_mode=None)
    np.testing.assert_allclose(f.ravel(), [1, 5.5, 4.75], rtol=RTOL)
    np.testing.assert_allclose(b.ravel(), [4, 6, 2], rtol=RTOL)


# --- per-sample loop formulation (tests only) -------------------------------------------------


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def hard_sig(z):
    return min(max(z / 6.0 + 0.5, 0.0), 1.0)


ACT = {"tanh": math.tanh, "sigmoid": sig, "relu": lambda z: max(z, 0.0), "hard_sigmoid": hard_sig, None: lambda z: z}


def dot(vec, matrix, column):
    return sum(vec[k] * matrix[k][column] for k in range(len(vec)))


def loop_layer(kind, x, w, *, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
               reset_after=True, mask=None, initial_state=None, go_backwards=False, zero_output_for_mask=False):
    """(output sequence in processing order, last output, final states), one sample at a time."""
    act, ract = ACT[activation], ACT[recurrent_activation]
    cell = CELL[kind]
    W, U_ = w[f"{cell}/kernel"].tolist(), w[f"{cell}/recurrent_kernel"].tolist()
    width = GATES[kind] * units
    if not use_bias:
        bi, br = [0.0] * width, [0.0] * width
    elif kind == "GRU" and reset_after:
        bi, br = w[f"{cell}/bias"][0].tolist(), w[f"{cell}/bias"][1].tolist()
    else:
        bi, br = w[f"{cell}/bias"].tolist(), [0.0] * width
    batch, time = x.shape[:2]
    order = list(range(time))[::-1] if go_backwards else list(range(time))
    seqs, lasts, finals = [], [], []
    for s in range(batch):
        states = [[0.0] * units for _ in range(N_STATES[kind])]
        if initial_state is not None:
            states = [list(map(float, st[s])) for st in initial_state]
        last, seq = [0.0] * units, []
        for t in order:
            xt = x[s, t].tolist()
            h = states[0]

            def pre(gate, u, with_recurrent=True):
                col = gate * units + u
                return dot(xt, W, col) + bi[col] + ((dot(h, U_, col) + br[col]) if with_recurrent else 0.0)

            if kind == "SimpleRNN":
                new_h = [act(pre(0, u)) for u in range(units)]
                new = [new_h]
            elif kind == "LSTM":
                c = states[1]
                i = [ract(pre(0, u)) for u in range(units)]
                f = [ract(pre(1, u)) for u in range(units)]
                g = [act(pre(2, u)) for u in range(units)]
                o = [ract(pre(3, u)) for u in range(units)]
                new_c = [f[u] * c[u] + i[u] * g[u] for u in range(units)]
                new_h = [o[u] * act(new_c[u]) for u in range(units)]
                new = [new_h, new_c]
            else:
                z = [ract(pre(0, u)) for u in range(units)]
                r = [ract(pre(1, u)) for u in range(units)]
                n = []
                for u in range(units):
                    col = 2 * units + u
                    if reset_after:
                        n.append(act(dot(xt, W, col) + bi[col] + r[u] * (dot(h, U_, col) + br[col])))
                    else:
                        rh = [r[k] * h[k] for k in range(units)]
                        n.append(act(dot(xt, W, col) + bi[col] + dot(rh, U_, col)))
                new_h = [z[u] * h[u] + (1 - z[u]) * n[u] for u in range(units)]
                new = [new_h]
            if mask is None or mask[s, t]:
                states, last = new, new_h
                seq.append(new_h)
            else:
                seq.append([0.0] * units if zero_output_for_mask else last)
        seqs.append(seq)
        lasts.append(last)
        finals.append(states)
    final_states = [np.array([f[k] for f in finals]) for k in range(N_STATES[kind])]
    return np.array(seqs), np.array(lasts), final_states


CASES = [
    ("SimpleRNN", {}),
    ("SimpleRNN", {"activation": "relu", "use_bias": False}),
    ("LSTM", {}),
    ("LSTM", {"activation": "relu", "recurrent_activation": "hard_sigmoid"}),
    ("LSTM", {"use_bias": False}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
    ("GRU", {"reset_after": True, "use_bias": False, "recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"reset_after": False, "activation": None}),
]


def _case_id(case):
    kind, kw = case
    return kind + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_loop_formulation(case, go_backwards, masked):
    kind, kw = case
    rng = rng_for(f"{kind}{kw}{go_backwards}{masked}")
    batch, time, features, units = 3, 7, 4, 3
    x = rng.normal(size=(batch, time, features)) * 1.3 + 0.2
    w = random_weights(rng, kind, features, units, use_bias=kw.get("use_bias", True),
                       reset_after=kw.get("reset_after", True))
    init = [rng.normal(size=(batch, units)) for _ in range(N_STATES[kind])]
    mask = None
    if masked:
        mask = np.array([[1, 0, 1, 1, 0, 1, 0], [0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]], bool)
    for zero_output in (False, True):
        seq, last, states = loop_layer(kind, x, w, units=units, mask=mask, initial_state=init,
                                       go_backwards=go_backwards, zero_output_for_mask=zero_output, **kw)
        params = dict(units=units, go_backwards=go_backwards, zero_output_for_mask=zero_output, **kw)
        got = FUNCTIONS[kind]({"x": x}, w, call=call(mask, init), return_sequences=True, return_state=True, **params)
        np.testing.assert_allclose(got[0], seq, rtol=1e-11, atol=1e-13)
        for a, b in zip(got[1:], states):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
        got = FUNCTIONS[kind]({"x": x}, w, call=call(mask, init), **params)
        np.testing.assert_allclose(got, last, rtol=1e-11, atol=1e-13)


# --- sequence identities -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_go_backwards_is_the_reversed_sequence(kind):
    rng = rng_for("backwards" + kind)
    x = rng.normal(size=(2, 5, 3)) + 0.3
    w = random_weights(rng, kind, 3, 4)
    mask = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 0, 0]], bool)
    init = [rng.normal(size=(2, 4)) for _ in range(N_STATES[kind])]
    kw = dict(units=4, return_sequences=True, return_state=True)
    back = FUNCTIONS[kind]({"x": x}, w, call=call(mask, init), go_backwards=True, **kw)
    forward_on_reversed = FUNCTIONS[kind]({"x": x[:, ::-1]}, w, call=call(mask[:, ::-1], init), **kw)
    for a, b in zip(back, forward_on_reversed):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_full_mask_equals_no_mask(kind):
    rng = rng_for("fullmask" + kind)
    x = rng.normal(size=(3, 5, 2)) - 0.1
    w = random_weights(rng, kind, 2, 3)
    kw = dict(units=3, return_sequences=True, return_state=True)
    a = FUNCTIONS[kind]({"x": x}, w, call=call(np.ones((3, 5), bool)), **kw)
    b = FUNCTIONS[kind]({"x": x}, w, call=NO_CALL, **kw)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_masking_the_last_steps_equals_truncation(kind):
    rng = rng_for("truncate" + kind)
    batch, time, lengths = 3, 7, (7, 4, 1)
    x = rng.normal(size=(batch, time, 3)) * 0.9 + 0.15
    w = random_weights(rng, kind, 3, 2)
    init = [rng.normal(size=(batch, 2)) for _ in range(N_STATES[kind])]
    mask = np.arange(time)[None, :] < np.array(lengths)[:, None]
    out, *states = FUNCTIONS[kind]({"x": x}, w, call=call(mask, init), units=2, return_state=True)
    for s, n in enumerate(lengths):
        sample_init = [st[s:s + 1] for st in init]
        ref_out, *ref_states = FUNCTIONS[kind]({"x": x[s:s + 1, :n]}, w, call=call(None, sample_init), units=2,
                                               return_state=True)
        np.testing.assert_allclose(out[s:s + 1], ref_out, rtol=RTOL, atol=ATOL)
        for a, b in zip(states, ref_states):
            np.testing.assert_allclose(a[s:s + 1], b, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_initial_state_continues_a_sequence(kind):
    # Running x[:, :3] and then x[:, 3:] from its final states is the same as running x whole.
    rng = rng_for("continue" + kind)
    x = rng.normal(size=(2, 7, 3)) + 0.05
    w = random_weights(rng, kind, 3, 4)
    kw = dict(units=4, return_sequences=True, return_state=True)
    whole = FUNCTIONS[kind]({"x": x}, w, call=NO_CALL, **kw)
    first = FUNCTIONS[kind]({"x": x[:, :3]}, w, call=NO_CALL, **kw)
    second = FUNCTIONS[kind]({"x": x[:, 3:]}, w, call=call(None, first[1:]), **kw)
    np.testing.assert_allclose(whole[0], np.concatenate([first[0], second[0]], axis=1), rtol=RTOL, atol=ATOL)
    for a, b in zip(whole[1:], second[1:]):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_zero_initial_state_equals_none():
    rng = rng_for("zero_init")
    x = rng.normal(size=(2, 3, 2))
    w = random_weights(rng, "LSTM", 2, 3)
    a = R.lstm({"x": x}, w, call=call(None, [np.zeros((2, 3)), np.zeros((2, 3))]), units=3)
    np.testing.assert_array_equal(a, R.lstm({"x": x}, w, call=NO_CALL, units=3))


def test_gru_reset_after_versus_before():
    # n_after = act(x W_h + bi_h + r * (h R_h + br_h)), n_before = act(x W_h + (r * h) R_h + b_h).
    # With a diagonal R_h and br_h = 0, r * (h R_h) = (r * h) R_h: the two agree given bias rows
    # bi = b, br = 0. With a full R_h they differ, and each equals its own formula.
    rng = rng_for("reset_after")
    units, x, h0 = 3, rng.normal(size=(2, 1, 2)), rng.normal(size=(2, 3))
    kernel, recurrent, b = rng.normal(size=(2, 9)), rng.normal(size=(3, 9)), rng.normal(size=(9,))
    diagonal = recurrent.copy()
    diagonal[:, 6:] = np.diag([0.7, -0.4, 1.1])
    bias2 = np.stack([b, np.zeros(9)])
    after = R.gru({"x": x}, named("GRU", kernel, diagonal, bias2), call=call(None, [h0]), units=units, reset_after=True)
    before = R.gru({"x": x}, named("GRU", kernel, diagonal, b), call=call(None, [h0]), units=units, reset_after=False)
    np.testing.assert_allclose(after, before, rtol=RTOL, atol=ATOL)

    after = R.gru({"x": x}, named("GRU", kernel, recurrent, bias2), call=call(None, [h0]), units=units,
                  reset_after=True)
    before = R.gru({"x": x}, named("GRU", kernel, recurrent, b), call=call(None, [h0]), units=units,
                   reset_after=False)
    assert np.abs(after - before).max() > 1e-3
    xt = x[:, 0]
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = sigmoid(xt @ kernel[:, :3] + h0 @ recurrent[:, :3] + b[:3])
    r = sigmoid(xt @ kernel[:, 3:6] + h0 @ recurrent[:, 3:6] + b[3:6])
    n_after = np.tanh(xt @ kernel[:, 6:] + b[6:] + r * (h0 @ recurrent[:, 6:]))
    n_before = np.tanh(xt @ kernel[:, 6:] + (r * h0) @ recurrent[:, 6:] + b[6:])
    np.testing.assert_allclose(after, z * h0 + (1 - z) * n_after, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(before, z * h0 + (1 - z) * n_before, rtol=RTOL, atol=ATOL)


def test_gru_recurrent_bias_row_is_inside_the_reset():
    # reset_after: moving the candidate's bias from the input row to the recurrent row changes
    # n by r * br_h - bi_h; for z and r the two rows simply add.
    rng = rng_for("bias_rows")
    x, h0 = rng.normal(size=(2, 1, 2)), [rng.normal(size=(2, 2))]
    kernel, recurrent = rng.normal(size=(2, 6)), rng.normal(size=(2, 6))
    gates = rng.normal(size=4)
    split = np.array([[*gates[:2], *gates[2:], 0, 0], [0, 0, 0, 0, 0, 0]])  # z, r biases all in row 0
    moved = np.array([[0, 0, 0, 0, 0, 0], [*gates[:2], *gates[2:], 0, 0]])  # ... all in row 1
    a = R.gru({"x": x}, named("GRU", kernel, recurrent, split), call=call(None, h0), units=2)
    b = R.gru({"x": x}, named("GRU", kernel, recurrent, moved), call=call(None, h0), units=2)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    a = R.gru({"x": x}, named("GRU", kernel, recurrent, np.array([[0, 0, 0, 0, 1.5, -0.5], [0] * 6])),
              call=call(None, h0), units=2)
    b = R.gru({"x": x}, named("GRU", kernel, recurrent, np.array([[0] * 6, [0, 0, 0, 0, 1.5, -0.5]])),
              call=call(None, h0), units=2)
    assert np.abs(a - b).max() > 1e-3


# --- Bidirectional ------------------------------------------------------------------------------


def directions(rng, kind, features, units, **kw):
    fw = random_weights(rng, kind, features, units, **kw)
    bw = random_weights(rng, kind, features, units, **kw)
    name = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}[kind]
    weights = {f"forward_{name}/{k}": v for k, v in fw.items()}
    weights.update({f"backward_{name}/{k}": v for k, v in bw.items()})
    return fw, bw, weights


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_from_the_two_directions(kind, return_sequences):
    rng = rng_for(f"bidi{kind}{return_sequences}")
    batch, time, features, units = 3, 5, 2, 3
    x = rng.normal(size=(batch, time, features)) * 1.1 - 0.2
    fw, bw, weights = directions(rng, kind, features, units)
    n = N_STATES[kind]
    init = [rng.normal(size=(batch, units)) for _ in range(2 * n)]
    mask = np.array([[1, 0, 1, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    for m in (None, mask):
        kw = dict(units=units, return_sequences=return_sequences, return_state=True)
        f_out, *f_states = FUNCTIONS[kind]({"x": x}, fw, call=call(m, init[:n]), **kw)
        b_mask = None if m is None else m[:, ::-1]
        b_out, *b_states = FUNCTIONS[kind]({"x": x[:, ::-1]}, bw, call=call(b_mask, init[n:]), **kw)
        if return_sequences:
            b_out = b_out[:, ::-1]
            if m is not None:  # "the output of the masked timestep will be zero"
                f_out = np.where(m[..., None], f_out, 0.0)
                b_out = np.where(m[..., None], b_out, 0.0)
        merged = {
            "concat": np.concatenate([f_out, b_out], axis=-1),
            "sum": f_out + b_out,
            "mul": f_out * b_out,
            "ave": (f_out + b_out) / 2,
        }
        layer = {"class_name": kind, "config": dict(kw)}
        for mode, expected in merged.items():
            got = R.bidirectional({"x": x}, weights, call=call(m, init), layer=layer, merge_mode=mode)
            assert len(got) == 1 + 2 * n
            np.testing.assert_allclose(got[0], expected, rtol=RTOL, atol=ATOL, err_msg=mode)
            for a, b in zip(got[1:], f_states + b_states):
                np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
        got = R.bidirectional({"x": x}, weights, call=call(m, init), layer=layer, merge_mode=None)
        np.testing.assert_allclose(got[0], f_out, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got[1], b_out, rtol=RTOL, atol=ATOL)
        assert len(got) == 2 + 2 * n


def test_bidirectional_masked_steps_are_zero_with_return_sequences():
    rng = rng_for("bidi_zero")
    x = rng.normal(size=(2, 5, 2))
    _, _, weights = directions(rng, "GRU", 2, 2)
    mask = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], bool)
    layer = {"class_name": "GRU", "config": {"units": 2, "return_sequences": True}}
    y = R.bidirectional({"x": x}, weights, call=call(mask), layer=layer)
    np.testing.assert_array_equal(y[~mask], 0.0)
    assert np.all(np.abs(y[mask]) > 0)


def test_bidirectional_default_merge_is_concat_and_default_config():
    rng = rng_for("bidi_default")
    x = rng.normal(size=(2, 3, 2))
    fw, bw, weights = directions(rng, "LSTM", 2, 3)
    y = R.bidirectional({"x": x}, weights, call=NO_CALL, layer={"class_name": "LSTM", "config": {"units": 3}})
    f = R.lstm({"x": x}, fw, call=NO_CALL, units=3)
    b = R.lstm({"x": x}, bw, call=NO_CALL, units=3, go_backwards=True)
    np.testing.assert_allclose(y, np.concatenate([f, b], axis=-1), rtol=RTOL)


def test_bidirectional_backward_layer_config():
    # A given backward layer (here with another activation) is used as it is, named by its own name.
    rng = rng_for("bidi_backward_layer")
    x = rng.normal(size=(2, 5, 2))
    fw = random_weights(rng, "SimpleRNN", 2, 2)
    bw = random_weights(rng, "SimpleRNN", 2, 2)
    weights = {**{f"forward_enc/{k}": v for k, v in fw.items()}, **{f"dec/{k}": v for k, v in bw.items()}}
    params = dict(
        layer={"class_name": "SimpleRNN", "config": {"units": 2, "name": "enc", "return_sequences": True}},
        backward_layer={"class_name": "SimpleRNN", "config": {"units": 2, "name": "dec", "activation": "relu",
                                                              "go_backwards": True, "return_sequences": True}},
        merge_mode="sum",
    )
    assert R.weight_shapes("Bidirectional", {"x": x.shape}, **params).keys() == weights.keys()
    y = R.bidirectional({"x": x}, weights, call=NO_CALL, **params)
    f = R.simple_rnn({"x": x}, fw, call=NO_CALL, units=2, return_sequences=True)
    b = R.simple_rnn({"x": x[:, ::-1]}, bw, call=NO_CALL, units=2, activation="relu", return_sequences=True)[:, ::-1]
    np.testing.assert_allclose(y, f + b, rtol=RTOL)
    with pytest.raises(ValueError, match="go_backwards"):
        bad = dict(params, backward_layer={"class_name": "SimpleRNN", "config": {"units": 2, "return_sequences": True}})
        R.bidirectional({"x": x}, weights, call=NO_CALL, **bad)
    with pytest.raises(ValueError, match="return_sequences"):
        bad = dict(params, backward_layer={"class_name": "SimpleRNN", "config": {"units": 2, "go_backwards": True}})
        R.bidirectional({"x": x}, weights, call=NO_CALL, **bad)


# --- TimeDistributed -------------------------------------------------------------------------------


def test_time_distributed_conv2d_per_step():
    rng = rng_for("td_conv")
    x = rng.normal(size=(2, 3, 6, 5, 2)) + 0.1
    kernel, bias = rng.normal(size=(2, 3, 2, 4)), rng.normal(size=(4,))
    config = {"name": "conv2d_7", "filters": 4, "kernel_size": (2, 3), "activation": "relu", "dtype": "float32"}
    weights = {"conv2d/kernel": kernel, "conv2d/bias": bias}
    y = R.time_distributed({"x": x}, weights, call=NO_CALL, layer={"class_name": "Conv2D", "config": config})
    assert y.shape == (2, 3, 5, 3, 4)
    for t in range(3):
        step = C.conv(x[:, t], kernel, bias, rank=2, filters=4, kernel_size=(2, 3), activation="relu")
        np.testing.assert_allclose(y[:, t], step, rtol=RTOL, atol=ATOL)
    assert R.weight_shapes("TimeDistributed", {"x": x.shape}, layer={"class_name": "Conv2D", "config": config}) == {
        "conv2d/kernel": (2, 3, 2, 4), "conv2d/bias": (4,)}
    assert R.output_shape("TimeDistributed", {"x": x.shape}, layer={"class_name": "Conv2D", "config": config}) == (
        2, 3, 5, 3, 4)


def test_time_distributed_with_a_given_inner_function():
    # The inner function sees (batch * time, ...) and its weights without the "<name>/" prefix.
    rng = rng_for("td_inner")
    x = rng.normal(size=(3, 5, 4))
    kernel, bias = rng.normal(size=(4, 2)), rng.normal(size=(2,))
    seen = {}

    def inner(inputs, weights, *, call, **config):
        seen.update(shape=inputs["x"].shape, names=sorted(weights), config=config)
        return inputs["x"] @ weights["kernel"] + weights["bias"]

    layer = {"class_name": "Dense", "config": {"units": 2, "name": "dense_3"}}
    y = R.time_distributed({"x": x}, {"dense/kernel": kernel, "dense/bias": bias}, call=NO_CALL, layer=layer,
                           inner=inner)
    assert seen == {"shape": (15, 4), "names": ["bias", "kernel"], "config": {"units": 2, "name": "dense_3"}}
    for t in range(5):
        np.testing.assert_allclose(y[:, t], x[:, t] @ kernel + bias, rtol=RTOL)


def test_time_distributed_dense():
    pytest.importorskip("reference_impl.core")
    rng = rng_for("td_dense")
    x = rng.normal(size=(2, 3, 4, 5))
    kernel, bias = rng.normal(size=(5, 3)), rng.normal(size=(3,))
    layer = {"class_name": "Dense", "config": {"units": 3, "activation": "tanh", "dtype": "float32",
                                               "quantization_config": None}}
    y = R.time_distributed({"x": x}, {"dense/kernel": kernel, "dense/bias": bias}, call=call(np.ones((2, 3), bool)),
                           layer=layer)
    np.testing.assert_allclose(y, np.tanh(np.tensordot(x, kernel, axes=1) + bias), rtol=RTOL, atol=ATOL)
    assert R.weight_shapes("TimeDistributed", {"x": x.shape}, layer=layer) == {
        "dense/kernel": (5, 3), "dense/bias": (3,)}
    assert R.output_shape("TimeDistributed", {"x": x.shape}, layer=layer) == (2, 3, 4, 3)
    # a mask whose first two dims are (batch, time) is accepted (trailing dims too) and changes nothing
    for mask in (np.ones((2, 3, 1), bool), np.zeros((2, 3, 2), bool)):
        z = R.time_distributed({"x": x}, {"dense/kernel": kernel, "dense/bias": bias}, call=call(mask), layer=layer)
        np.testing.assert_array_equal(z, y)
    for wrong in (np.ones((2, 4), bool), np.ones((3, 3, 1), bool), np.ones((2,), bool)):
        with pytest.raises(ValueError, match=r"mask.*start with \(batch, time\)"):
            R.time_distributed({"x": x}, {"dense/kernel": kernel, "dense/bias": bias}, call=call(wrong), layer=layer)
    # the recurrent layers themselves still take exactly (batch, time)
    with pytest.raises(ValueError, match=r"mask.*have shape \(batch, time\)"):
        R.simple_rnn({"x": x[..., 0]}, {"simple_rnn_cell/kernel": np.ones((4, 2)), "simple_rnn_cell/recurrent_kernel": np.ones((2, 2)),
                                        "simple_rnn_cell/bias": np.ones(2)}, call=call(np.ones((2, 3, 1), bool)), units=2)


# --- shapes and names ---------------------------------------------------------------------------


def test_weight_shapes_per_layer():
    shape = {"x": (2, 7, 5)}
    assert R.weight_shapes("SimpleRNN", shape, units=3) == {
        "simple_rnn_cell/kernel": (5, 3), "simple_rnn_cell/recurrent_kernel": (3, 3), "simple_rnn_cell/bias": (3,)}
    assert R.weight_shapes("LSTM", shape, units=3, use_bias=False) == {
        "lstm_cell/kernel": (5, 12), "lstm_cell/recurrent_kernel": (3, 12)}
    assert R.weight_shapes("GRU", shape, units=3)["gru_cell/bias"] == (2, 9)
    assert R.weight_shapes("GRU", shape, units=3, reset_after=False)["gru_cell/bias"] == (9,)
    bidi = R.weight_shapes("Bidirectional", shape,
                           layer={"class_name": "LSTM", "config": {"units": 2, "name": "lstm_4"}})
    assert bidi == {
        "forward_lstm/lstm_cell/kernel": (5, 8), "forward_lstm/lstm_cell/recurrent_kernel": (2, 8),
        "forward_lstm/lstm_cell/bias": (8,), "backward_lstm/lstm_cell/kernel": (5, 8),
        "backward_lstm/lstm_cell/recurrent_kernel": (2, 8), "backward_lstm/lstm_cell/bias": (8,)}
    # a config taken from Bidirectional.get_config() already carries the "forward_" prefix
    names = R.weight_shapes(
        "Bidirectional", shape,
        layer={"class_name": "GRU", "config": {"units": 2, "name": "forward_gru_1"}},
        backward_layer={"class_name": "GRU", "config": {"units": 2, "name": "backward_gru_1", "go_backwards": True}},
    )
    assert sorted({k.split("/")[0] for k in names}) == ["backward_gru", "forward_gru"]


def test_output_shapes():
    shape = {"x": (4, 7, 5)}
    assert R.output_shape("GRU", shape, units=3) == (4, 3)
    assert R.output_shape("GRU", shape, units=3, return_sequences=True) == (4, 7, 3)
    assert R.output_shape("LSTM", shape, units=3, return_state=True) == [(4, 3), (4, 3), (4, 3)]
    lstm = {"class_name": "LSTM", "config": {"units": 3, "return_sequences": True, "return_state": True}}
    assert R.output_shape("Bidirectional", shape, layer=lstm) == [(4, 7, 6)] + [(4, 3)] * 4
    assert R.output_shape("Bidirectional", shape, layer=lstm, merge_mode="ave")[0] == (4, 7, 3)
    assert R.output_shape("Bidirectional", shape, layer=lstm, merge_mode=None)[:2] == [(4, 7, 3), (4, 7, 3)]
    gru = {"class_name": "GRU", "config": {"units": 2}}
    assert R.output_shape("Bidirectional", shape, layer=gru, merge_mode=None) == [(4, 2), (4, 2)]
    assert R.output_shape("Bidirectional", {"x": (None, None, 5)}, layer=gru) == (None, 4)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_outputs_match_predicted_shapes(kind):
    rng = rng_for("shapes" + kind)
    x = rng.normal(size=(2, 5, 3))
    for rs in (False, True):
        params = dict(units=4, return_sequences=rs, return_state=True)
        w = {k: rng.normal(size=s) for k, s in R.weight_shapes(kind, {"x": x.shape}, **params).items()}
        got = R.LAYERS[kind]({"x": x}, w, call=NO_CALL, **params)
        assert [a.shape for a in got] == R.output_shape(kind, {"x": x.shape}, **params)
        assert all(a.dtype == np.float64 for a in got)


# --- arguments ----------------------------------------------------------------------------------


def test_value_neutral_arguments_are_accepted():
    rng = rng_for("neutral")
    x = rng.normal(size=(2, 3, 2))
    w = random_weights(rng, "LSTM", 2, 2)
    plain = R.lstm({"x": x}, w, call=NO_CALL, units=2)
    neutral = dict(kernel_initializer="zeros", recurrent_initializer="orthogonal", bias_initializer="ones",
                   kernel_regularizer={"class_name": "L2"}, recurrent_regularizer=None, bias_regularizer=None,
                   activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                   unit_forget_bias=False, dropout=0.5, recurrent_dropout=0.25, unroll=True, seed=3, use_cudnn="auto",
                   name="lstm_9", trainable=False, dtype="float32", stateful=False)
    np.testing.assert_array_equal(R.lstm({"x": x}, w, call=NO_CALL, units=2, **neutral), plain)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_implementation_is_accepted_and_changes_nothing(kind):
    # Keras 3 keeps `implementation` (LSTM/GRU) for backward compatibility; Keras 2 documented its
    # modes as the same operations batched differently, so the values do not depend on it
    rng = rng_for(f"implementation {kind}")
    x = rng.normal(size=(2, 4, 3))
    w = random_weights(rng, kind, 3, 2)
    plain = FUNCTIONS[kind]({"x": x}, w, call=NO_CALL, units=2, return_sequences=True)
    for mode in (1, 2):
        got = FUNCTIONS[kind]({"x": x}, w, call=NO_CALL, units=2, return_sequences=True, implementation=mode)
        np.testing.assert_array_equal(got, plain)
        assert R.weight_shapes(kind, {"x": x.shape}, units=2, implementation=mode) == R.weight_shapes(kind, {"x": x.shape}, units=2)
    # inside Bidirectional too
    R.weight_shapes("Bidirectional", {"x": x.shape}, layer={"class_name": kind, "config": {"units": 2, "implementation": 1}})


def test_implementation_is_not_a_simple_rnn_argument():
    # SimpleRNN never had it: an unknown argument (tf.keras's base layer rejects it too, with a
    # ValueError; the reference's rule for unknown arguments is Python's TypeError)
    with pytest.raises(TypeError, match="SimpleRNN: implementation"):
        R.weight_shapes("SimpleRNN", {"x": (2, 4, 3)}, units=2, implementation=1)


def test_errors():
    rng = rng_for("errors")
    x = rng.normal(size=(2, 3, 2))
    w = random_weights(rng, "GRU", 2, 2)
    with pytest.raises(ValueError, match="units=0"):
        R.gru({"x": x}, w, call=NO_CALL, units=0)
    with pytest.raises(TypeError, match="reset_before"):
        R.gru({"x": x}, w, call=NO_CALL, units=2, reset_before=True)
    with pytest.raises(TypeError, match="recurrent_activation"):
        R.simple_rnn({"x": x}, random_weights(rng, "SimpleRNN", 2, 2), call=NO_CALL, units=2,
                     recurrent_activation="sigmoid")
    with pytest.raises(ValueError, match="reset_after"):
        R.gru({"x": x}, w, call=NO_CALL, units=2, reset_after="yes")
    with pytest.raises(ValueError, match=r"gru_cell/bias.*\(6,\)"):
        R.gru({"x": x}, w, call=NO_CALL, units=2, reset_after=False)  # w has the (2, 6) bias -> wrong shape
    with pytest.raises(ValueError, match="use_bias=False"):
        R.gru({"x": x}, w, call=NO_CALL, units=2, use_bias=False)
    with pytest.raises(ValueError, match="dropout=1.5"):
        R.gru({"x": x}, w, call=NO_CALL, units=2, dropout=1.5)
    with pytest.raises(ValueError, match="initial_state"):
        R.gru({"x": x}, w, call=call(None, [np.zeros((2, 2)), np.zeros((2, 2))]), units=2)
    with pytest.raises(ValueError, match=r"initial_state\[0\]"):
        R.gru({"x": x}, w, call=call(None, [np.zeros((2, 3))]), units=2)
    with pytest.raises(ValueError, match="mask"):
        R.gru({"x": x}, w, call=call(np.ones((2, 4), bool)), units=2)
    with pytest.raises(ValueError, match="x.shape"):
        R.gru({"x": x[0]}, w, call=NO_CALL, units=2)
    with pytest.raises(ValueError, match="merge_mode='max'"):
        R.bidirectional({"x": x}, {}, call=NO_CALL, layer={"class_name": "GRU", "config": {"units": 2}},
                        merge_mode="max")
    with pytest.raises(ValueError, match="Dense"):
        R.bidirectional({"x": x}, {}, call=NO_CALL, layer={"class_name": "Dense", "config": {"units": 2}})
    with pytest.raises(ValueError, match="4 arrays"):
        _, _, weights = directions(rng, "LSTM", 2, 2)
        R.bidirectional({"x": x}, weights, call=call(None, [np.zeros((2, 2))] * 2),
                        layer={"class_name": "LSTM", "config": {"units": 2}})
    with pytest.raises(ValueError, match="layer_name"):
        R.weight_shapes("ConvLSTM2D", {"x": x.shape}, filters=2)
    with pytest.raises(NotImplementedError, match="stateful"):
        R.gru({"x": x}, w, call=NO_CALL, units=2, stateful=True)
    with pytest.raises(NotImplementedError, match="training=True"):
        R.gru({"x": x}, w, call={"mask": None, "initial_state": None, "training": True}, units=2, dropout=0.1)
    # training=True without dropout computes the same values
    np.testing.assert_array_equal(
        R.gru({"x": x}, w, call={"mask": None, "initial_state": None, "training": True}, units=2),
        R.gru({"x": x}, w, call=NO_CALL, units=2))
