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


# --- rounding error bound ----------------------------------------------------------------------
#
# The bound against evaluations of the cell equations in float32 and float16 arithmetic written
# here, independently of the module: every product and sum rounded in the dtype, the gate
# pre-activations summed one term at a time in two orders (inputs, states, bias; and the reverse),
# the GRU update as the docstring writes it and rearranged as n + z (h - n). Each returns the
# output sequence and the final states, which return_state gives ([h, c], [h]), judged by their
# own bounds.

from reference_impl import rounding  # noqa: E402

F32, F16 = rounding.format_of("float32"), rounding.format_of("float16")


def _sigmoid_in(z):
    one = z.dtype.type(1)
    return one / (one + np.exp(-z))


def _preactivation_in(dtype, terms, reverse):
    """sum of the (B, W) columns x_k * w_k and the bias, one term at a time, in `dtype`."""
    terms = terms[::-1] if reverse else terms
    total = terms[0]
    for term in terms[1:]:
        total = (total + term).astype(dtype)
    return total


def _products_in(a, m):
    """the columns a[:, k] * m[k] of a @ m, each product rounded in a's dtype."""
    return [a[:, k:k + 1] * m[k] for k in range(m.shape[0])]


def _masked_in(mask, t, new, old):
    """The documented masking of a state: where mask[:, t] is False the state keeps its value."""
    return new if mask is None else np.where(mask[:, t:t + 1], new, old)


def _results_in(outputs, states):
    return np.stack(outputs, axis=1).astype(np.float64), [s.astype(np.float64) for s in states]


def lstm_in(dtype, x, kernel, recurrent, bias, *, reverse=False, mask=None, recurrent_scale=1.0, forget_bias=True,
            accumulate=None, half_gate=False):
    """LSTM over all steps in `dtype` arithmetic (blocks i, f, g, o; tanh, sigmoid): (output
    sequence, [h, c] after the last step); mask (batch, time): a masked step keeps the states
    (the outputs are not masked here: only the states are compared under a mask). The planted
    faults: recurrent_scale multiplies the recurrent kernel, forget_bias=False drops the forget
    gate's bias, accumulate=float16 sums the pre-activations in float16, half_gate computes the
    forget gate in float16."""
    cast = lambda a: np.asarray(a, dtype=dtype)  # noqa: E731
    x, kernel, recurrent, bias = cast(x), cast(kernel), cast(np.asarray(recurrent) * recurrent_scale), cast(bias)
    units = recurrent.shape[0]
    if not forget_bias:
        bias = bias.copy()
        bias[units:2 * units] = 0
    h = np.zeros((x.shape[0], units), dtype)
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        terms = _products_in(x[:, t], kernel) + _products_in(h, recurrent) + [np.broadcast_to(bias, (x.shape[0], bias.size))]
        if accumulate is not None:
            z = _preactivation_in(accumulate, [a.astype(accumulate) for a in terms], reverse).astype(dtype)
        else:
            z = _preactivation_in(dtype, terms, reverse)
        i, f, g, o = np.split(z, 4, axis=-1)
        forget = _sigmoid_in(f.astype(np.float16)).astype(dtype) if half_gate else _sigmoid_in(f)
        new_c = forget * c + _sigmoid_in(i) * np.tanh(g)
        new_h = _sigmoid_in(o) * np.tanh(new_c)
        h, c = _masked_in(mask, t, new_h, h), _masked_in(mask, t, new_c, c)
        outputs.append(new_h)
    return _results_in(outputs, [h, c])


def gru_in(dtype, x, kernel, recurrent, bias, *, reset_after, reverse=False, rearranged=False, mask=None,
           recurrent_scale=1.0, accumulate=None, half_gate=False):
    """GRU over all steps in `dtype` arithmetic (blocks z, r, h): (output sequence, [h] after the
    last step); rearranged: h = n + z (h - n); mask and the faults as lstm_in's (half_gate: the
    update gate z in float16)."""
    cast = lambda a: np.asarray(a, dtype=dtype)  # noqa: E731
    x, kernel, recurrent, bias = cast(x), cast(kernel), cast(np.asarray(recurrent) * recurrent_scale), cast(bias)
    units = recurrent.shape[0]
    batch = x.shape[0]
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    block = lambda a, j, n=1: a[..., j * units:(j + n) * units]  # noqa: E731
    total = lambda terms: (_preactivation_in(accumulate, [a.astype(accumulate) for a in terms], reverse).astype(dtype)  # noqa: E731
                           if accumulate is not None else _preactivation_in(dtype, terms, reverse))
    h = np.zeros((batch, units), dtype)
    outputs = []
    for t in range(x.shape[1]):
        gates = [np.broadcast_to(block(input_bias, 0, 2), (batch, 2 * units))]
        if reset_after:
            gates.append(np.broadcast_to(block(recurrent_bias, 0, 2), (batch, 2 * units)))
        zr = total(_products_in(x[:, t], block(kernel, 0, 2)) + _products_in(h, block(recurrent, 0, 2)) + gates)
        z, r = _sigmoid_in(block(zr, 0)), _sigmoid_in(block(zr, 1))
        if half_gate:
            z = _sigmoid_in(block(zr, 0).astype(np.float16)).astype(dtype)
        if reset_after:
            m = total(_products_in(h, block(recurrent, 2)) + [np.broadcast_to(block(recurrent_bias, 2), (batch, units))])
            s = total(_products_in(x[:, t], block(kernel, 2)) + [r * m, np.broadcast_to(block(input_bias, 2), (batch, units))])
        else:
            s = total(_products_in(x[:, t], block(kernel, 2)) + _products_in(r * h, block(recurrent, 2))
                      + [np.broadcast_to(block(input_bias, 2), (batch, units))])
        n = np.tanh(s)
        one = dtype(1)
        new_h = n + z * (h - n) if rearranged else z * h + (one - z) * n
        h = _masked_in(mask, t, new_h, h)
        outputs.append(new_h)
    return _results_in(outputs, [h])


def keras_like_weights(rng, kind, features, units, dtype, *, reset_after=True):
    """Weights as Keras initializes them, with a random bias, rounded to `dtype` (so the float64
    reference sees what the dtype evaluation does): glorot-uniform kernel, orthogonal recurrent
    kernel, LSTM's forget bias near 1."""
    gates = GATES[kind]
    limit = math.sqrt(6.0 / (features + gates * units))
    kernel = rng.uniform(-limit, limit, (features, gates * units))
    recurrent = np.linalg.qr(rng.normal(size=(gates * units, units)))[0].T
    bias = rng.normal(0.0, 0.2, (2, gates * units) if kind == "GRU" and reset_after else (gates * units,))
    if kind == "LSTM":
        bias[units:2 * units] += 1.0
    rounded = lambda a: np.asarray(a, dtype=dtype).astype(np.float64)  # noqa: E731
    return rounded(kernel), rounded(recurrent), rounded(bias)


def bound_case(kind, dtype, *, reset_after=True, steps=10, seed="bound", return_state=False, mask=None):
    """(x, (kernel, recurrent, bias), the reference's result, its bound): the output sequence, or
    with return_state the lists [sequence, *final states] of both."""
    rng = rng_for(f"{seed}-{kind}-{np.dtype(dtype).name}-{reset_after}")
    x = np.asarray(rng.normal(0.0, 1.0, (4, steps, 5)), dtype).astype(np.float64)
    kernel, recurrent, bias = keras_like_weights(rng, kind, 5, 6, dtype, reset_after=reset_after)
    params = {"units": 6, "return_sequences": True, **({"reset_after": reset_after} if kind == "GRU" else {}),
              **({"return_state": True} if return_state else {})}
    weights = named(kind, kernel, recurrent, bias)
    fmt = rounding.format_of(np.dtype(dtype).name)
    exact = FUNCTIONS[kind]({"x": x}, weights, call=call(mask), **params)
    bound = R.error_bound(kind, {"x": x}, weights, fmt, call=call(mask), **params)
    return x, (kernel, recurrent, bias), exact, bound


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_bound_holds_for_evaluations_in_the_dtype(dtype, reverse):
    x, w, exact, bound = bound_case("LSTM", dtype)
    error = np.abs(lstm_in(dtype, x, *w, reverse=reverse)[0] - exact)
    assert np.all(error <= bound), float(np.max(error / bound))
    # the bound is not vacuous: within a hundred times the largest error actually made, and in
    # float32 well below the flat tolerance (1e-5 + 1e-5 |y|)
    assert np.max(error / bound) > 1e-2
    if dtype is np.float32:
        assert np.max(bound) < 2e-5


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("reverse,rearranged", [(False, False), (True, True)])
def test_gru_bound_holds_for_evaluations_in_the_dtype(dtype, reset_after, reverse, rearranged):
    x, w, exact, bound = bound_case("GRU", dtype, reset_after=reset_after)
    error = np.abs(gru_in(dtype, x, *w, reset_after=reset_after, reverse=reverse, rearranged=rearranged)[0] - exact)
    assert np.all(error <= bound), float(np.max(error / bound))
    assert np.max(error / bound) > 1e-2
    if dtype is np.float32:
        assert np.max(bound) < 2e-5


@pytest.mark.parametrize("fault", [{"recurrent_scale": 1 + 1e-3}, {"forget_bias": False}, {"accumulate": np.float16}])
def test_lstm_bound_catches_planted_faults(fault):
    x, w, exact, bound = bound_case("LSTM", np.float32)
    error = np.abs(lstm_in(np.float32, x, *w, **fault)[0] - exact)
    assert np.mean(error > bound) > 0.3  # not one element: most of the sequence shows it


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("fault", [{"recurrent_scale": 1 + 1e-3}, {"accumulate": np.float16}])
def test_gru_bound_catches_planted_faults(reset_after, fault):
    x, w, exact, bound = bound_case("GRU", np.float32, reset_after=reset_after)
    error = np.abs(gru_in(np.float32, x, *w, reset_after=reset_after, **fault)[0] - exact)
    assert np.mean(error > bound) > 0.3


# The returned states' bounds (return_state): the same evaluations' final states, under a mask too
# (row 1 starts masked, row 3 is masked throughout: its states are the exact initial zeros).
STATE_MASK = np.array([[1, 1, 0, 1, 0, 1, 1, 0, 1, 0], [0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [1] * 10, [0] * 10], bool)


def within(error, bound):
    """error <= bound everywhere (0 <= 0 where a state is exact), and the largest error / bound."""
    assert np.all(error <= bound), float(np.max(error / np.where(bound > 0, bound, np.inf)))
    return float(np.max(error / np.where(bound > 0, bound, np.inf)))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_state_bounds_hold_for_evaluations_in_the_dtype(dtype, reverse, masked):
    mask = STATE_MASK if masked else None
    x, w, (_, *exact), (_, *bound) = bound_case("LSTM", dtype, return_state=True, mask=mask)
    _, states = lstm_in(dtype, x, *w, reverse=reverse, mask=mask)
    for name, s, e, b in zip("hc", states, exact, bound):
        assert b.shape == e.shape == (4, 6), name
        assert within(np.abs(s - e), b) > 1e-2, name  # not vacuous: within a hundred times the error made
        if dtype is np.float32:
            assert np.max(b) < 2e-5, name  # and below the flat tolerance's 1e-5 + 1e-5 |y| where |y| ~ 1
    if masked:
        np.testing.assert_array_equal([b[3] for b in bound], 0.0)  # masked throughout: the initial states


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("reverse,rearranged,masked", [(False, False, False), (True, True, False), (True, False, True)])
def test_gru_state_bound_holds_for_evaluations_in_the_dtype(dtype, reset_after, reverse, rearranged, masked):
    mask = STATE_MASK if masked else None
    x, w, (_, exact), (_, bound) = bound_case("GRU", dtype, reset_after=reset_after, return_state=True, mask=mask)
    _, (h,) = gru_in(dtype, x, *w, reset_after=reset_after, reverse=reverse, rearranged=rearranged, mask=mask)
    assert within(np.abs(h - exact), bound) > 1e-2
    if dtype is np.float32:
        assert np.max(bound) < 2e-5


@pytest.mark.parametrize("fault", [{"recurrent_scale": 1 + 1e-3}, {"forget_bias": False}, {"accumulate": np.float16},
                                   {"half_gate": True}])
def test_lstm_state_bounds_catch_planted_faults(fault):
    x, w, (_, *exact), (_, *bound) = bound_case("LSTM", np.float32, return_state=True)
    _, states = lstm_in(np.float32, x, *w, **fault)
    for name, s, e, b in zip("hc", states, exact, bound):
        assert np.mean(np.abs(s - e) > b) > 0.5, name  # most of the states show it, h and c alike


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("fault", [{"recurrent_scale": 1 + 1e-3}, {"accumulate": np.float16}, {"half_gate": True}])
def test_gru_state_bound_catches_planted_faults(reset_after, fault):
    x, w, (_, exact), (_, bound) = bound_case("GRU", np.float32, reset_after=reset_after, return_state=True)
    _, (h,) = gru_in(np.float32, x, *w, reset_after=reset_after, **fault)
    assert np.mean(np.abs(h - exact) > bound) > 0.5


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_state_bounds_in_the_layout_of_the_outputs(kind):
    """return_state: [output's bound, *states'] as the layer returns [output, *states]; the output's
    bound is the one without return_state; the final h is the last output, and so is its bound;
    go_backwards: the reversed sequence's states; a masked step keeps the states and their bounds,
    as if the step were not there."""
    rng = rng_for(f"bound-layout-{kind}")
    x = rng.normal(size=(2, 5, 3))
    w = random_weights(rng, kind, 3, 2)
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0]], bool)
    both = dict(units=2, return_sequences=True)
    values = FUNCTIONS[kind]({"x": x}, w, call=NO_CALL, return_state=True, **both)
    bound = R.error_bound(kind, {"x": x}, w, F32, call=NO_CALL, return_state=True, **both)
    assert isinstance(bound, list) and [b.shape for b in bound] == [v.shape for v in values]
    assert len(bound) == 1 + N_STATES[kind]
    np.testing.assert_array_equal(bound[0], R.error_bound(kind, {"x": x}, w, F32, call=NO_CALL, **both))
    np.testing.assert_allclose(bound[1], bound[0][:, -1], rtol=1e-12)  # h: the last output
    assert np.all(bound[1] > bound[0][:, 0])  # grown over the steps
    last = R.error_bound(kind, {"x": x}, w, F32, call=NO_CALL, units=2, return_state=True)
    np.testing.assert_array_equal(last[0], bound[0][:, -1])
    for s, b in zip(last[1:], bound[1:]):
        np.testing.assert_array_equal(s, b)
    backwards = R.error_bound(kind, {"x": x}, w, F32, call=NO_CALL, go_backwards=True, return_state=True, **both)
    reversed_ = R.error_bound(kind, {"x": x[:, ::-1]}, w, F32, call=NO_CALL, return_state=True, **both)
    for b, r in zip(backwards, reversed_):
        np.testing.assert_allclose(b, r, rtol=1e-9)
    masked = R.error_bound(kind, {"x": x}, w, F32, call=call(mask), return_state=True, **both)
    skipped = R.error_bound(kind, {"x": x[:1, [0, 1, 3]]}, w, F32, call=NO_CALL, return_state=True, **both)
    for m, s in zip(masked[1:], skipped[1:]):
        np.testing.assert_allclose(m[:1], s, rtol=1e-9)  # the Jacobians by central differences
        np.testing.assert_array_equal(m[1], 0.0)  # masked throughout: the exact initial states
    # with initial states, a sample masked throughout returns them, exactly, and its output is zeros
    initial = [rng.normal(size=(2, 2)) for _ in range(N_STATES[kind])]
    given = R.error_bound(kind, {"x": x}, w, F32, call=call(mask, initial), return_state=True, **both)
    for g in given:
        np.testing.assert_array_equal(g[1], 0.0)
    assert all(np.all(g[0] > 0) for g in given)


def test_bound_hand_values_of_a_linear_simple_rnn():
    # F = 2, U = 1, activation None: z = x W + h R + b, K = F + U + 1 = 4 terms, so per step
    #   dz = gamma_4 (|x| |W| + (|h| + dh) |R| + |b|) + dh |R| + 8 tiny        (rigorous)
    # W = [0.5, 0.25], R = [0.75], b = 0.5; x1 = [1.5, -2.25], x2 = [0.5, -1], h0 = 0
    # step 1: |x1| |W| + |b| = 0.75 + 0.5625 + 0.5 = 1.8125, dh1 = gamma_4 1.8125 + 8 tiny
    #         h1 = 0.75 - 0.5625 + 0.5 = 0.6875
    # step 2: |x2| |W| + |b| = 0.25 + 0.25 + 0.5 = 1, plus (0.6875 + dh1) 0.75
    # To first order the step's own rounding at the exact h1 plus A dh1, A = dh2 / dh1 = R = 0.75:
    #   gamma_4 (1 + 0.6875 0.75) + 8 tiny + 0.75 dh1, smaller by gamma_4 0.75 dh1 (order u**2)
    w = named("SimpleRNN", [[0.5], [0.25]], [[0.75]], [0.5])
    x = np.array([[[1.5, -2.25], [0.5, -1.0]]])
    g = 4 * 2.0 ** -24 / (1 - 4 * 2.0 ** -24)
    tiny = 2.0 ** -126
    dh1 = g * 1.8125 + 8 * tiny
    rigorous = g * (1.0 + (0.6875 + dh1) * 0.75) + dh1 * 0.75 + 8 * tiny
    linear = g * (1.0 + 0.6875 * 0.75) + dh1 * 0.75 + 8 * tiny
    spec = R._rnn("SimpleRNN", {"units": 1, "activation": None})
    step = R._cell_bound(spec, {k.split("/")[-1]: np.asarray(v, float) for k, v in w.items()}, F32)
    sequence, last, (state,) = R.scan_bound(step, x, None, [np.zeros((1, 1))])
    np.testing.assert_allclose(sequence[0, :, 0], [dh1, rigorous], rtol=1e-15)
    np.testing.assert_allclose([last[0, 0], state[0, 0]], [rigorous, rigorous], rtol=1e-15)  # the state h2 = y2
    sequence, last, (state,) = R.first_order_bound(step, x, None, [np.zeros((1, 1))])
    np.testing.assert_allclose(sequence[0, :, 0], [dh1, linear], rtol=1e-9)  # A by central differences
    # the final state to first order: eta_2 + |A_2| eta_1 = gamma_4 (1 + 0.6875 0.75) + 8 tiny + 0.75 dh1
    np.testing.assert_allclose([last[0, 0], state[0, 0]], [linear, linear], rtol=1e-9)
    bound = R.error_bound("SimpleRNN", {"x": x}, w, F32, call=NO_CALL, units=1, activation=None, return_sequences=True)
    np.testing.assert_allclose(bound[0, :, 0], [dh1, linear], rtol=1e-9)  # the smaller of the two
    _, state = R.error_bound("SimpleRNN", {"x": x}, w, F32, call=NO_CALL, units=1, activation=None, return_state=True)
    np.testing.assert_allclose(state[0, 0], linear, rtol=1e-9)
    assert dh1 == pytest.approx(4 * 2.0 ** -24 * 1.8125, rel=1e-6)  # 4.32e-7


def test_first_order_bound_follows_a_contraction():
    """A saturated cell: tanh'(z) = 1 - tanh(z)**2 is about 1.8e-2 at z = 3, so the error carried
    in shrinks at every step; the rigorous bound, which takes the secant of tanh over the error
    interval, shrinks it too, but the first-order one also keeps the sign of R: with R = [[1, -1],
    [1, 1]] and equal errors in both states, |R e| = [0, 2 e] where |R| e = [2 e, 2 e]."""
    rng = rng_for("bound-contraction")
    w = named("SimpleRNN", rng.normal(size=(3, 2)) * 0.1, [[1.0, 1.0], [-1.0, 1.0]], [3.0, 3.0])
    x = rng.normal(size=(2, 6, 3))
    spec = R._rnn("SimpleRNN", {"units": 2})
    step = R._cell_bound(spec, {k.split("/")[-1]: np.asarray(v, float) for k, v in w.items()}, F16)
    rigorous, _, (rigorous_state,) = R.scan_bound(step, x, None, [np.zeros((2, 2))])
    linear, _, (linear_state,) = R.first_order_bound(step, x, None, [np.zeros((2, 2))])
    np.testing.assert_allclose(linear[:, 0], rigorous[:, 0], rtol=1e-9)  # the first step: no error carried in
    assert np.all(linear[:, 1:] < rigorous[:, 1:])
    assert np.all(linear_state < rigorous_state)


def test_bound_of_a_masked_step_keeps_the_previous_one():
    rng = rng_for("bound-mask")
    x = rng.normal(size=(2, 5, 3))
    w = random_weights(rng, "LSTM", 3, 2)
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool)
    bound = R.error_bound("LSTM", {"x": x}, w, F32, call=call(mask), units=2, return_sequences=True)
    # a masked step repeats the previous output, and its bound; before the first unmasked
    # step the output is zeros, exactly
    np.testing.assert_array_equal(bound[0, 2], bound[0, 1])
    np.testing.assert_array_equal(bound[0, 4], bound[0, 3])
    np.testing.assert_array_equal(bound[1, 0], 0.0)
    zeroed = R.error_bound("LSTM", {"x": x}, w, F32, call=call(mask), units=2, return_sequences=True,
                           zero_output_for_mask=True)
    np.testing.assert_array_equal(zeroed[0, 2], 0.0)
    # the state and its error carry over the masked step: skipping it gives the same bound after
    skipped = R.error_bound("LSTM", {"x": x[:1, [0, 1, 3]]}, w, F32, call=NO_CALL, units=2, return_sequences=True)
    np.testing.assert_allclose(bound[0, 3], skipped[0, 2], rtol=1e-9)  # the Jacobians by central differences
    # go_backwards: the reversed sequence's bound, in processing order
    backwards = R.error_bound("LSTM", {"x": x}, w, F32, call=NO_CALL, units=2, return_sequences=True, go_backwards=True)
    np.testing.assert_allclose(backwards, R.error_bound("LSTM", {"x": x[:, ::-1]}, w, F32, call=NO_CALL, units=2,
                                                        return_sequences=True), rtol=1e-9)


def test_bound_of_bidirectional_merges():
    rng = rng_for("bound-bidirectional")
    x = rng.normal(size=(2, 4, 3))
    forward, backward, weights = directions(rng, "GRU", 3, 2)
    layer = {"class_name": "GRU", "config": {"units": 2, "return_sequences": True}}
    f = R.error_bound("GRU", {"x": x}, forward, F32, call=NO_CALL, units=2, return_sequences=True)
    b = R.error_bound("GRU", {"x": x}, backward, F32, call=NO_CALL, units=2, return_sequences=True, go_backwards=True)[:, ::-1]
    fv = R.gru({"x": x}, forward, call=NO_CALL, units=2, return_sequences=True)
    bv = R.gru({"x": x}, backward, call=NO_CALL, units=2, return_sequences=True, go_backwards=True)[:, ::-1]
    u, tiny = F32.unit_roundoff, F32.smallest_normal
    merged = {m: R.error_bound("Bidirectional", {"x": x}, weights, F32, call=NO_CALL, layer=layer, merge_mode=m)
              for m in ("concat", "sum", "ave", "mul", None)}
    np.testing.assert_array_equal(merged["concat"], np.concatenate([f, b], axis=-1))
    np.testing.assert_allclose(merged["sum"], f + b + u * (np.abs(fv + bv) + f + b) + tiny, rtol=1e-15)
    np.testing.assert_allclose(merged["ave"], (f + b + u * (np.abs(fv + bv) + f + b) + tiny) / 2 + tiny, rtol=1e-15)
    np.testing.assert_allclose(merged["mul"], np.abs(fv) * b + np.abs(bv) * f + f * b
                               + u / (1 - u) * (np.abs(fv) + f) * (np.abs(bv) + b) + 2 * tiny, rtol=1e-15)
    np.testing.assert_array_equal(merged[None][0], f)  # merge_mode=None: [forward, backward], each its own
    np.testing.assert_array_equal(merged[None][1], b)


@pytest.mark.parametrize("merge_mode", ["concat", "ave", None])
@pytest.mark.parametrize("masked", [False, True])
def test_bound_of_bidirectional_states(merge_mode, masked):
    """return_state: [merged output's bound (merge_mode None: forward's, backward's), *forward
    states', *backward states'], the states' those of the forward layer and of the backward one
    (go_backwards) alone; the backward states are not reversed (they have no time axis)."""
    rng = rng_for(f"bound-bidirectional-states-{merge_mode}-{masked}")
    x = rng.normal(size=(2, 4, 3))
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool) if masked else None
    forward, backward, weights = directions(rng, "LSTM", 3, 2)
    layer = {"class_name": "LSTM", "config": {"units": 2, "return_state": True}}
    values = R.bidirectional({"x": x}, weights, call=call(mask), layer=layer, merge_mode=merge_mode)
    bound = R.error_bound("Bidirectional", {"x": x}, weights, F32, call=call(mask), layer=layer, merge_mode=merge_mode)
    assert [b.shape for b in bound] == [v.shape for v in values]
    f = R.error_bound("LSTM", {"x": x}, forward, F32, call=call(mask), units=2, return_state=True)
    b = R.error_bound("LSTM", {"x": x}, backward, F32, call=call(mask), units=2, return_state=True, go_backwards=True)
    head = [f[0], b[0]] if merge_mode is None else [R.error_bound(
        "Bidirectional", {"x": x}, weights, F32, call=call(mask), layer={**layer, "config": {"units": 2}}, merge_mode=merge_mode)]
    for got, expected in zip(bound, [*head, *f[1:], *b[1:]]):
        np.testing.assert_array_equal(got, expected)


def test_no_bound_for_an_axis_activation_or_too_long_sums():
    rng = rng_for("bound-none")
    x = rng.normal(size=(2, 3, 4))
    w = random_weights(rng, "SimpleRNN", 4, 2)
    assert R.error_bound("SimpleRNN", {"x": x}, w, F32, call=NO_CALL, units=2, activation="softmax") is None
    # K = F + U + 1 = 300 + 2 + 1 terms: K u >= 1 in bfloat16 (u = 2**-8), gamma_K bounds nothing
    wide = rng.normal(size=(2, 3, 300))
    w = random_weights(rng, "SimpleRNN", 300, 2)
    assert R.error_bound("SimpleRNN", {"x": wide}, w, rounding.format_of("bfloat16"), call=NO_CALL, units=2) is None
    assert R.error_bound("SimpleRNN", {"x": wide}, w, F16, call=NO_CALL, units=2) is not None


def test_time_distributed_bound_is_the_inner_bound_per_step():
    rng = rng_for("bound-time-distributed")
    x = rng.normal(size=(2, 3, 4))
    weights = {"dense/kernel": rng.normal(size=(4, 2)), "dense/bias": rng.normal(size=2)}
    seen = {}

    def inner_bound(class_name, flat, w, config, fmt, output):
        seen.update(class_name=class_name, shape=flat.shape, config=config, keys=sorted(w))
        return np.abs(flat) @ np.abs(w["kernel"]) + np.abs(w["bias"])  # any per-slice array

    bound = R.time_distributed_error_bound({"x": x}, weights, F32, inner_bound=inner_bound, call=NO_CALL,
                                           layer={"class_name": "Dense", "config": {"units": 2}})
    assert seen == {"class_name": "Dense", "shape": (6, 4), "config": {"units": 2}, "keys": ["bias", "kernel"]}
    np.testing.assert_allclose(bound, np.abs(x) @ np.abs(weights["dense/kernel"]) + np.abs(weights["dense/bias"]))
    assert R.time_distributed_error_bound({"x": x}, weights, F32, inner_bound=lambda *a: None, call=NO_CALL,
                                          layer={"class_name": "Dense", "config": {"units": 2}}) is None


def test_a_kinked_activation_keeps_the_rigorous_bound():
    # relu and hard_sigmoid have kinks, where central differences do not give the derivative the
    # error sees: their bound is the rigorous one alone
    rng = rng_for("bound-kinks")
    x = rng.normal(size=(2, 5, 3))
    w = random_weights(rng, "LSTM", 3, 2)
    spec = R._rnn("LSTM", {"units": 2, "activation": "relu", "recurrent_activation": "hard_sigmoid"})
    step = R._cell_bound(spec, {k.split("/")[-1]: v for k, v in w.items()}, F32)
    assert step.smooth is False
    rigorous, _, states = R.scan_bound(step, x, None, [np.zeros((2, 2)), np.zeros((2, 2))])
    bound, *state_bounds = R.error_bound("LSTM", {"x": x}, w, F32, call=NO_CALL, units=2, activation="relu",
                                         recurrent_activation="hard_sigmoid", return_sequences=True, return_state=True)
    np.testing.assert_array_equal(bound, rigorous)
    for got, expected in zip(state_bounds, states):
        np.testing.assert_array_equal(got, expected)
    assert R._cell_bound(R._rnn("LSTM", {"units": 2}), {k.split("/")[-1]: v for k, v in w.items()}, F32).smooth is True


def test_keras2_hard_sigmoid_has_its_own_bound():
    # Keras 2's recurrent default: 0.2 z + 0.5 clipped, slope 0.2 where Keras 3's is 1/6
    from reference_impl.activations import hard_sigmoid_keras2

    rng = rng_for("bound-keras2-hard-sigmoid")
    x = np.asarray(rng.normal(0.0, 2.0, (3, 6, 4)), np.float16).astype(np.float64)
    kernel, recurrent, bias = (np.asarray(rng.normal(0.0, 0.8, shape), np.float16).astype(np.float64)
                               for shape in ((4, 5), (5, 5), (5,)))
    weights = named("SimpleRNN", kernel, recurrent, bias)
    params = {"units": 5, "activation": hard_sigmoid_keras2, "return_sequences": True}
    exact = FUNCTIONS["SimpleRNN"]({"x": x}, weights, call=NO_CALL, **params)
    bound = R.error_bound("SimpleRNN", {"x": x}, weights, F16, call=NO_CALL, **params)
    assert bound is not None
    h = np.zeros((3, 5), np.float16)
    outputs = []
    for t in range(6):  # every operation in float16
        z = (x[:, t].astype(np.float16) @ kernel.astype(np.float16) + h @ recurrent.astype(np.float16)
             + bias.astype(np.float16)).astype(np.float16)
        h = np.clip(np.float16(0.2) * z + np.float16(0.5), 0, 1).astype(np.float16)
        outputs.append(h.astype(np.float64))
    error = np.abs(np.stack(outputs, axis=1) - exact)
    assert np.all(error <= bound), float(np.max(error / bound))
    assert np.max(error / bound) > 1e-3  # not vacuous
    # Keras 3's hard_sigmoid in its place is caught
    wrong = FUNCTIONS["SimpleRNN"]({"x": x}, weights, call=NO_CALL, **{**params, "activation": "hard_sigmoid"})
    assert np.any(np.abs(wrong - exact) > bound)
