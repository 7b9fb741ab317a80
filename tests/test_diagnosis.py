"""The diagnosis names the mistake planted in a copy of the reference, and no other; when no
hypothesis explains an error, it describes the error's structure.

Each planted test runs a case through the reference, then makes the output a mistaken
implementation would give, written here independently of the hypothesis where possible (an
explicit pad, a per-group loop, the normalization formula written out), and asks which
hypotheses reproduce it. Inputs and weights are the harness's own random non-integer draws,
with batch and channels above 1 and odd and even sizes, so that the hypotheses differ.
"""
import numpy as np
import pytest

from conformance.catalogue.model import Case
from conformance.checks.values import judge, run_function_reference, run_reference
from conformance.checks.verdict import Verdict
from conformance.diagnosis import HYPOTHESES, Evaluation, diagnose, explaining
from conformance.diagnosis.structure import describe
from conformance.ops import FunctionOp, get_op
from conformance.outcome import SideOutcome, Timings
from conformance.record import Record
from conformance.runner.inputs import layer_feeds, make_inputs


def make_case(op, params, input_shape=None, dtype="float64", **fields):
    return Case(id=f"planted::{op}", file="planted", line=1, name=op, op=op, params=params, dtype=dtype,
                input_shape=None if input_shape is None else tuple(input_shape), **fields)


def evaluate(op_name, params, input_shape=None, dtype="float64", **fields):
    """(case, the reference's evaluation) of a one-call case."""
    case = make_case(op_name, params, input_shape, dtype, **fields)
    op = get_op(op_name)
    if isinstance(op, FunctionOp):
        (x,) = make_inputs(case)[:1]
        reference = run_function_reference(op, case, x)
        weights, call = {}, {}
    else:
        inputs, calls = layer_feeds(case, op)
        reference, weights = run_reference(op, case, inputs, calls)
        x, call = inputs[0], calls[0]
    assert reference.error is None, reference.error
    return case, Evaluation(op, x, weights, params, call, reference.output, dtype)


def explained_by(case, ev, planted):
    """Names of the hypotheses under which `planted` agrees with the changed reference."""
    tol = case.effective_tolerance
    assert not np.allclose(planted, ev.reference, rtol=tol["rtol"], atol=tol["atol"]), "the planted mistake changes nothing"
    return [e["name"] for e in explaining(ev, planted, case.effective_tolerance)[1]]


def run(ev, **changes):
    """The reference run again with some parts changed (the planted copy)."""
    return Evaluation(ev.op, ev.x, ev.weights, ev.params, ev.call, ev.reference, ev.dtype).run(**changes)


# --- convolution ----------------------------------------------------------------------------


def test_kernel_flipped():
    case, ev = evaluate("Conv2D", {"filters": 3, "kernel_size": [3, 2], "padding": "same"}, [2, 7, 6, 4])
    planted = run(ev, weights={**ev.weights, "kernel": ev.weights["kernel"][::-1, ::-1]})
    assert explained_by(case, ev, planted) == ["kernel_flipped"]


def test_kernel_in_out_swapped_conv_and_dense():
    case, ev = evaluate("Conv1D", {"filters": 3, "kernel_size": 3}, [2, 9, 3])
    planted = run(ev, weights={**ev.weights, "kernel": ev.weights["kernel"].transpose(0, 2, 1)})
    assert explained_by(case, ev, planted) == ["kernel_in_out_swapped"]
    case, ev = evaluate("Dense", {"units": 4}, [3, 4])
    planted = ev.x @ ev.weights["kernel"].T + ev.weights["bias"]
    assert explained_by(case, ev, planted) == ["kernel_in_out_swapped"]


def test_depthwise_multiplier_order():
    params = {"kernel_size": 3, "depth_multiplier": 2, "activation": "tanh"}
    case, ev = evaluate("DepthwiseConv2D", params, [2, 6, 5, 3])
    linear = run(ev, weights={"kernel": ev.weights["kernel"]}, params={**params, "use_bias": False, "activation": None})
    channels, multiplier = 3, 2
    # output channel m * C + c holds the documented channel c * M + m
    wrong_order = np.stack([linear[..., c * multiplier + m] for m in range(multiplier) for c in range(channels)], axis=-1)
    planted = np.tanh(wrong_order + ev.weights["bias"])
    assert explained_by(case, ev, planted) == ["depthwise_multiplier_order"]


def test_depthwise_multiplier_order_in_separable():
    params = {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}
    case, ev = evaluate("SeparableConv1D", params, [2, 9, 3])
    depthwise = get_op("DepthwiseConv1D").compute(
        ev.x, {"kernel": ev.weights["depthwise_kernel"]}, {"kernel_size": 3, "depth_multiplier": 2, "use_bias": False}, {})
    wrong_order = np.stack([depthwise[..., c * 2 + m] for m in range(2) for c in range(3)], axis=-1)
    planted = np.einsum("btj,jf->btf", wrong_order, ev.weights["pointwise_kernel"][0]) + ev.weights["bias"]
    assert explained_by(case, ev, planted) == ["depthwise_multiplier_order"]


def test_groups_interleaved_conv():
    params = {"filters": 4, "kernel_size": 3, "groups": 2}
    case, ev = evaluate("Conv2D", params, [2, 7, 6, 4])
    kernel, bias = ev.weights["kernel"], ev.weights["bias"]
    blocks = []
    for g in range(2):  # group g reads channels g, g + 2 (interleaved) and writes filters 2g, 2g + 1
        blocks.append(run(ev, x=ev.x[..., g::2], weights={"kernel": kernel[..., 2 * g:2 * g + 2], "bias": bias[2 * g:2 * g + 2]},
                          params={"filters": 2, "kernel_size": 3}))
    planted = np.concatenate(blocks, axis=-1)
    assert explained_by(case, ev, planted) == ["groups_interleaved"]


def group_norm(x, gamma, beta, groups_of_channel, epsilon=1e-3, ddof=0):
    """GroupNormalization over channels_last x, channel c in group groups_of_channel[c]."""
    y = np.empty_like(x)
    for g in set(groups_of_channel):
        members = [c for c, h in enumerate(groups_of_channel) if h == g]
        block = x[..., members]
        axes = tuple(range(1, x.ndim))
        mean = block.mean(axis=axes, keepdims=True)
        var = block.var(axis=axes, keepdims=True, ddof=ddof)
        y[..., members] = (block - mean) / np.sqrt(var + epsilon)
    return y * gamma + beta


def test_groups_interleaved_group_normalization():
    case, ev = evaluate("GroupNormalization", {"groups": 2}, [2, 5, 6])
    planted = group_norm(ev.x, ev.weights["gamma"], ev.weights["beta"], [c % 2 for c in range(6)])
    assert np.allclose(group_norm(ev.x, ev.weights["gamma"], ev.weights["beta"], [c // 3 for c in range(6)]), ev.reference)
    assert explained_by(case, ev, planted) == ["groups_interleaved"]


def test_same_padding_extra_before_conv():
    params = {"filters": 3, "kernel_size": 2, "padding": "same"}
    case, ev = evaluate("Conv2D", params, [2, 7, 6, 3])
    padded = np.pad(ev.x, [(0, 0), (1, 0), (1, 0), (0, 0)])  # documented: the odd element goes after
    planted = run(ev, x=padded, params={**params, "padding": "valid"})
    assert explained_by(case, ev, planted) == ["same_padding_extra_before"]


def test_same_padding_extra_before_max_pooling():
    params = {"pool_size": 2, "strides": 1, "padding": "same"}
    case, ev = evaluate("MaxPooling2D", params, [2, 5, 6, 3])
    padded = np.pad(ev.x, [(0, 0), (1, 0), (1, 0), (0, 0)], constant_values=-np.inf)
    planted = run(ev, x=padded, params={**params, "padding": "valid"})
    assert explained_by(case, ev, planted) == ["same_padding_extra_before"]


def test_same_padding_extra_before_average_pooling():
    # length 8, window 3, stride 2: 4 outputs, total padding 1, documented after; planted before
    case, ev = evaluate("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, [2, 8, 3])
    windows = [[t for t in range(2 * i - 1, 2 * i + 2) if 0 <= t < 8] for i in range(4)]
    planted = np.stack([ev.x[:, w].mean(axis=1) for w in windows], axis=1)
    assert explained_by(case, ev, planted) == ["same_padding_extra_before"]


def test_causal_padding_after():
    params = {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"}
    case, ev = evaluate("Conv1D", params, [2, 9, 3])
    planted = run(ev, x=np.pad(ev.x, [(0, 0), (0, 4), (0, 0)]), params={**params, "padding": "valid"})
    assert explained_by(case, ev, planted) == ["causal_padding_after"]


def test_average_includes_padding():
    params = {"pool_size": 3, "strides": 1, "padding": "same"}
    case, ev = evaluate("AveragePooling2D", params, [2, 5, 6, 3])
    padded = np.pad(ev.x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    planted = np.mean([padded[:, i:i + 5, j:j + 6] for i in range(3) for j in range(3)], axis=0)
    assert explained_by(case, ev, planted) == ["average_includes_padding"]


# --- bias and activation --------------------------------------------------------------------


def test_bias_dropped():
    params = {"filters": 3, "kernel_size": 3}
    case, ev = evaluate("Conv1D", params, [2, 8, 2])
    planted = run(ev, weights={"kernel": ev.weights["kernel"]}, params={**params, "use_bias": False})
    assert explained_by(case, ev, planted) == ["bias_dropped"]


def test_bias_on_another_axis_channels_first():
    params = {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}
    case, ev = evaluate("Conv2D", params, [2, 3, 7, 6])  # output (2, 4, 5, 4): the last axis has the filters' size
    linear = run(ev, weights={"kernel": ev.weights["kernel"]}, params={**params, "use_bias": False})
    planted = linear + ev.weights["bias"]  # numpy broadcasting: along the last axis
    assert explained_by(case, ev, planted) == ["bias_on_another_axis"]
    assert explaining(ev, planted, case.effective_tolerance)[1][0]["says"] == (
        "the bias is added along another axis of the same size (axis 3 instead of axis 1)")


def test_activation_before_bias():
    case, ev = evaluate("Dense", {"units": 3, "activation": "tanh"}, [4, 5])
    planted = np.tanh(ev.x @ ev.weights["kernel"]) + ev.weights["bias"]
    assert explained_by(case, ev, planted) == ["activation_before_bias"]


def test_activation_not_applied():
    params = {"filters": 2, "kernel_size": 3, "activation": "sigmoid"}
    case, ev = evaluate("Conv1D", params, [3, 8, 2])
    planted = run(ev, params={**params, "activation": None})
    assert explained_by(case, ev, planted) == ["activation_not_applied"]


# --- constants ------------------------------------------------------------------------------


def test_constants_rounded_to_float32_slope():
    case, ev = evaluate("LeakyReLU", {}, [3, 8])  # the documented default slope 0.3
    planted = np.where(ev.x >= 0, ev.x, np.float64(np.float32(0.3)) * ev.x)
    assert explained_by(case, ev, planted) == ["constants_rounded_to_float32"]
    assert explaining(ev, planted, case.effective_tolerance)[1][0]["says"] == (
        "the real-valued constants are rounded to float32 (negative_slope=0.3)")


def test_constants_rounded_to_float32_epsilon():
    # the default 1e-3 rounded moves the output by about 2e-11, below float64's tolerance: 0.1 by 7e-10
    case, ev = evaluate("LayerNormalization", {"epsilon": 0.1}, [3, 4, 5])
    mean, var = ev.x.mean(axis=-1, keepdims=True), ev.x.var(axis=-1, keepdims=True)
    planted = (ev.x - mean) / np.sqrt(var + float(np.float32(0.1))) * ev.weights["gamma"] + ev.weights["beta"]
    assert explained_by(case, ev, planted) == ["constants_rounded_to_float32"]


def test_attention_scale_rounded_to_float32():
    case, ev = evaluate("MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                        inputs={"query": {"shape": [2, 4, 5]}, "value": {"shape": [2, 3, 5]}})
    # every score scaled by float32(1/sqrt(3)) / (1/sqrt(3)): the query projection scaled by it
    ratio = float(np.float32(1 / np.sqrt(3))) * np.sqrt(3)
    weights = {**ev.weights, "query/kernel": ev.weights["query/kernel"] * ratio, "query/bias": ev.weights["query/bias"] * ratio}
    planted = run(ev, weights=weights)
    assert explained_by(case, ev, planted) == ["attention_scale_rounded_to_float32"]


# --- normalization --------------------------------------------------------------------------


def test_epsilon_outside_sqrt():
    case, ev = evaluate("LayerNormalization", {"epsilon": 0.1}, [3, 4, 5])
    mean, var = ev.x.mean(axis=-1, keepdims=True), ev.x.var(axis=-1, keepdims=True)
    planted = (ev.x - mean) / (np.sqrt(var) + 0.1) * ev.weights["gamma"] + ev.weights["beta"]
    assert explained_by(case, ev, planted) == ["epsilon_outside_sqrt"]


def test_epsilon_outside_sqrt_batch_normalization_inference():
    case, ev = evaluate("BatchNormalization", {"epsilon": 0.1}, [4, 3, 5])
    w = ev.weights
    planted = (ev.x - w["moving_mean"]) / (np.sqrt(w["moving_variance"]) + 0.1) * w["gamma"] + w["beta"]
    assert explained_by(case, ev, planted) == ["epsilon_outside_sqrt"]


def test_unbiased_variance():
    case, ev = evaluate("GroupNormalization", {"groups": 2}, [2, 5, 4])
    planted = group_norm(ev.x, ev.weights["gamma"], ev.weights["beta"], [0, 0, 1, 1], ddof=1)
    assert explained_by(case, ev, planted) == ["unbiased_variance"]


def test_mean_square_about_the_mean():
    # RMSNormalization scaling by the standard deviation: the mean square taken about the mean
    case, ev = evaluate("RMSNormalization", {"epsilon": 1e-3}, [3, 4, 5])
    planted = ev.x / np.sqrt(ev.x.var(axis=-1, keepdims=True) + 1e-3) * ev.weights["scale"]
    assert explained_by(case, ev, planted) == ["mean_square_about_the_mean"]


# --- masks and sequences --------------------------------------------------------------------

MASK = [[True, True, False, True, True], [True, False, True, True, False]]


def test_mask_inverted():
    case, ev = evaluate("LSTM", {"units": 3, "return_sequences": True}, [2, 5, 4], call={"mask": MASK})
    planted = run(ev, call={"mask": ~np.array(MASK)})
    assert explained_by(case, ev, planted) == ["mask_inverted"]


def test_mask_ignored():
    case, ev = evaluate("GlobalAveragePooling1D", {}, [2, 5, 3], call={"mask": MASK})
    planted = ev.x.mean(axis=1)
    assert explained_by(case, ev, planted) == ["mask_ignored"]


def test_zeroing_mask_not_reversed():
    params = {"units": 3, "go_backwards": True, "return_sequences": True, "zero_output_for_mask": True}
    case, ev = evaluate("SimpleRNN", params, [2, 5, 4], call={"mask": MASK})
    carried = run(ev, params={**params, "zero_output_for_mask": False})  # masked steps repeat the last output
    planted = carried * np.array(MASK)[..., None]  # step t of the reversed sequence zeroed by mask[t], unreversed
    assert explained_by(case, ev, planted) == ["zeroing_mask_not_reversed"]


def test_sequence_processed_in_reverse():
    case, ev = evaluate("GRU", {"units": 3}, [2, 6, 4])
    planted = run(ev, x=ev.x[:, ::-1])
    assert explained_by(case, ev, planted) == ["sequence_processed_in_reverse"]


def test_output_sequence_reversed():
    case, ev = evaluate("SimpleRNN", {"units": 3, "return_sequences": True, "go_backwards": True}, [2, 5, 4])
    planted = ev.reference[:, ::-1]
    assert explained_by(case, ev, planted) == ["output_sequence_reversed"]


def test_output_of_another_time_step():
    case, ev = evaluate("LSTM", {"units": 3}, [2, 6, 4])
    planted = run(ev, x=ev.x[:, :2])  # the output after the second step
    assert explained_by(case, ev, planted) == ["output_of_another_time_step"]
    assert explaining(ev, planted, case.effective_tolerance)[1][0]["says"] == (
        "the output is that of another time step than the last (step 1 of 0..5)")


def test_softmax_over_another_axis():
    case, ev = evaluate("Softmax", {}, [2, 3, 5])
    e = np.exp(ev.x)
    planted = e / e.sum(axis=1, keepdims=True)
    assert explained_by(case, ev, planted) == ["softmax_over_another_axis"]


# --- constraints ----------------------------------------------------------------------------


def constraint_kernel(shape=(6, 5), seed=3, small=2):
    """A Dense kernel (in, units) of random non-integer values whose column norms are 1.99,
    3.30, 8.3e-4 (column `small`, scaled by 1e-3), 1.18 and 3.10: on both sides of MaxNorm's
    limit 2 and of the bounds [1.5, 2.5], one far below them."""
    w = np.random.default_rng(seed).normal(0.2, 0.8, size=shape)
    w[:, small] *= 1e-3
    return w


def rescaled_with_epsilon(w, desired, epsilon=1e-7):
    """Each output unit (last axis) rescaled to desired(norm) dividing by norm + epsilon, unit by
    unit, as tf.keras's constraints do (w * desired / (epsilon + norm))."""
    out = np.empty_like(w)
    for j in range(w.shape[-1]):
        unit = w[..., j]
        norm = np.sqrt(np.sum(unit * unit))
        out[..., j] = unit * (desired(norm) / (norm + epsilon))
    return out


CONSTRAINT_PLANTS = [
    ("constraints.MaxNorm", {"max_value": 2.0, "axis": 0}, lambda n: min(n, 2.0)),
    ("constraints.max_norm", {}, lambda n: min(n, 2.0)),  # the documented defaults max_value=2, axis=0
    ("constraints.MinMaxNorm", {"min_value": 1.5, "max_value": 2.5, "rate": 0.75, "axis": 0},
     lambda n: 0.75 * min(max(n, 1.5), 2.5) + 0.25 * n),
    ("constraints.UnitNorm", {"axis": 0}, lambda n: 1.0),
]


@pytest.mark.parametrize("op_name, params, desired", CONSTRAINT_PLANTS, ids=[p[0] for p in CONSTRAINT_PLANTS])
def test_epsilon_added_to_norm(op_name, params, desired):
    w = constraint_kernel()
    norms = np.sqrt(np.sum(w * w, axis=0))
    assert norms.min() < 1e-3 and (norms < 2).sum() >= 2 and (norms > 2.5).sum() >= 2
    case, ev = evaluate(op_name, params, input_values=w.tolist())
    planted = rescaled_with_epsilon(np.asarray(ev.x, dtype=np.float64), desired)
    assert explained_by(case, ev, planted) == ["epsilon_added_to_norm"]


def test_epsilon_added_to_norm_over_several_axes_and_in_float32():
    # a Conv2D kernel (3, 3, 2, 4), norms over [0, 1, 2], filter 1 of small norm
    w = np.random.default_rng(5).normal(0.1, 0.3, size=(3, 3, 2, 4))
    w[..., 1] *= 1e-4
    case, ev = evaluate("constraints.UnitNorm", {"axis": [0, 1, 2]}, input_values=w.tolist())
    planted = rescaled_with_epsilon(np.asarray(ev.x, dtype=np.float64), lambda n: 1.0)
    assert explained_by(case, ev, planted) == ["epsilon_added_to_norm"]
    # the tiny_column case: (3e-8, -4e-8), norm 5e-8, beside an ordinary column, computed in float32
    tolerance = {"rtol": 1e-5, "atol": 1e-12}
    for op_name, desired in (("constraints.MaxNorm", lambda n: min(n, np.float32(2))),
                             ("constraints.MinMaxNorm", lambda n: min(max(n, np.float32(0)), np.float32(1)))):
        case, ev = evaluate(op_name, {"axis": 0}, dtype="float32", input_values=[[3e-8, 1.0], [-4e-8, 0.5]],
                            tolerance=tolerance)
        planted = rescaled_with_epsilon(np.asarray(ev.x, dtype=np.float32), desired, np.float32(1e-7))
        assert planted.dtype == np.float32
        assert explained_by(case, ev, planted.astype(np.float64)) == ["epsilon_added_to_norm"]


def test_epsilon_added_to_norm_not_named_for_a_correct_output_or_another_mistake():
    w = constraint_kernel()
    case, ev = evaluate("constraints.MaxNorm", {"max_value": 2.0, "axis": 0}, input_values=w.tolist())
    reference = SideOutcome(output=ev.reference)
    assert diagnose(case, reference, SideOutcome(output=ev.reference.copy()), ev) is None
    assert explaining(ev, ev.reference, case.effective_tolerance) == (["epsilon_added_to_norm"], [])
    # in float32 the fuzz factor is invisible beside ordinary norms: not named for the honest output
    ordinary = np.delete(w, 2, axis=1)
    case32, ev32 = evaluate("constraints.UnitNorm", {"axis": 0}, dtype="float32", input_values=ordinary.tolist())
    honest32 = rescaled_with_epsilon(np.asarray(ev32.x, dtype=np.float32), lambda n: np.float32(1), np.float32(1e-7))
    assert explaining(ev32, honest32.astype(np.float64), case32.effective_tolerance)[1] == []
    # every column rescaled to the limit (a projection onto the sphere, not the ball): not this mistake
    sphere = rescaled_with_epsilon(w, lambda n: 2.0, 0.0)
    diagnosis = diagnose(case, reference, SideOutcome(output=sphere), ev)
    assert diagnosis["explained_by"] == [] and diagnosis["tried"] == ["epsilon_added_to_norm"]
    assert diagnosis["sentence"].startswith("No known mistake reproduces it (1 tried: epsilon_added_to_norm)")
    # NonNeg divides by nothing; no other family tries it
    case, ev = evaluate("constraints.NonNeg", {}, [6, 5])
    assert explaining(ev, np.abs(ev.x), case.effective_tolerance) == ([], [])
    assert [h.families for h in HYPOTHESES if h.name == "epsilon_added_to_norm"] == [("constraints",)]
    assert all("constraints" not in h.families for h in HYPOTHESES if h.name != "epsilon_added_to_norm")


def test_epsilon_added_to_norm_sentence():
    case, ev = evaluate("constraints.UnitNorm", {"axis": 0}, input_values=constraint_kernel().tolist())
    planted = rescaled_with_epsilon(np.asarray(ev.x, dtype=np.float64), lambda n: 1.0)
    diagnosis = diagnose(case, SideOutcome(output=ev.reference), SideOutcome(output=planted), ev)
    assert diagnosis["sentence"] == ("tf.keras agrees with the reference when a fuzz factor (Keras's epsilon, 1e-7) "
                                     "is added to the norm it divides by.")


# --- the mechanism ----------------------------------------------------------------------------

EVALUATED = [
    ("Conv2D", {"filters": 3, "kernel_size": 2, "padding": "same", "activation": "relu", "groups": 1}, [2, 7, 6, 3], {}),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "groups": 2, "padding": "causal"}, [2, 9, 4], {}),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "activation": "tanh"}, [2, 6, 5, 3], {}),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, [2, 9, 3], {}),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, [2, 6, 7, 3], {}),
    ("Dense", {"units": 4, "activation": "tanh"}, [3, 2, 4], {}),
    ("GroupNormalization", {"groups": 2}, [2, 5, 4], {}),
    ("BatchNormalization", {}, [4, 3, 5], {"call": {"training": True}}),
    ("LSTM", {"units": 3}, [2, 5, 4], {"call": {"mask": MASK}}),
    ("Softmax", {}, [2, 3, 5], {"call": {"mask": [[True, False, True, True, False]]}}),
    ("LeakyReLU", {}, [3, 8], {}),
    ("constraints.MinMaxNorm", {"min_value": 1.5, "max_value": 2.5, "rate": 0.75, "axis": 0}, [6, 5], {}),
    ("constraints.unit_norm", {"axis": [0, 1, 2]}, [3, 3, 2, 4], {}),
]


@pytest.mark.parametrize("op_name, params, shape, fields", EVALUATED, ids=[e[0] for e in EVALUATED])
def test_each_hypothesis_costs_at_most_one_evaluation_and_leaves_the_evaluation_unchanged(op_name, params, shape, fields):
    case, ev = evaluate(op_name, params, shape, **fields)
    x, weights = np.copy(ev.x), {k: np.copy(v) for k, v in ev.weights.items()}
    applied = 0
    for hypothesis in HYPOTHESES:
        ev.runs = 0
        candidates = hypothesis.change(ev) if ev.op.family in hypothesis.families else None
        assert ev.runs <= 1, hypothesis.name
        applied += candidates is not None
    assert applied >= 1
    assert np.array_equal(ev.x, x) and all(np.array_equal(ev.weights[k], weights[k]) for k in weights)


def test_the_honest_output_is_explained_by_no_hypothesis():
    # GroupNormalization's epsilon rounded to float32 changes nothing the tolerance sees: such a
    # change agrees with any output the reference agrees with, and must not be named
    for op_name, params, shape, fields in EVALUATED:
        case, ev = evaluate(op_name, params, shape, **fields)
        assert explaining(ev, ev.reference, case.effective_tolerance)[1] == [], op_name


def test_every_hypothesis_is_planted_by_a_test():
    planted = {name for name in globals() if name.startswith("test_")}
    for hypothesis in HYPOTHESES:
        assert any(hypothesis.name in name for name in planted), hypothesis.name


# --- the structure of an unexplained error --------------------------------------------------


def allowed_for(expected, rtol=1e-10, atol=1e-10):
    return atol + rtol * np.abs(expected)


def random(shape, seed=0):
    return np.random.default_rng(seed).normal(0.25, 1.0, size=shape)


def test_structure_bias_along_the_wrong_axis_is_a_closed_form_in_the_weights():
    expected = random((2, 4, 3, 4))  # channels_first, the last axis as long as the channels
    bias = np.array([0.3, -1.2, 0.7, 2.1])
    actual = expected + bias.reshape(1, 1, 1, 4) - bias.reshape(1, 4, 1, 1)
    facts = describe(actual, expected, allowed_for(expected), axis_names=["batch", "channels", "axis 2", "axis 3"],
                     weights={"bias": bias, "kernel": random((3, 3, 2, 4))})
    assert facts == ["d = bias[axis 3] - bias[channels] (to within tolerance)"]
    missing = expected - bias.reshape(1, 4, 1, 1)  # the bias not added
    facts = describe(missing, expected, allowed_for(expected), axis_names=["batch", "channels", "axis 2", "axis 3"],
                     weights={"bias": bias})
    assert facts == ["d = -bias[channels] (to within tolerance)"]


def test_structure_offset_and_scale():
    expected = random((3, 5))
    names = ["batch", "axis 1"]
    assert describe(expected + 0.25, expected, allowed_for(expected), axis_names=names, weights={}) == [
        "d is a constant offset of 0.25"]
    assert describe(3 * expected, expected, allowed_for(expected), axis_names=names, weights={}) == [
        "tf.keras = 3 x reference (a scale factor)"]


def test_structure_axes_borders_and_values():
    expected = random((3, 9, 4))
    actual = expected.copy()
    actual[:, [0, 8], :] += np.array([0.5, -0.25, 1.0, 2.0])  # only at the borders of axis 1, per channel
    facts = describe(actual, expected, allowed_for(expected), axis_names=["batch", "axis 1", "channels"], weights={})
    assert facts == [f"|d| is up to 2, {2 / np.abs(expected).max():.2g} of the largest |reference|",
                     "d varies along axis 1, channels and is constant along batch",
                     "failures only at the borders of axis 1 (index 0, 8 of 0..8)"]
    assert f"{2 / np.abs(expected).max():.2g}" == "0.89"


def test_structure_float32_rounding_of_a_float64_result():
    expected = np.array([[1.0 / 3, 2.0 / 3, -5.0 / 7], [0.1, 10.0 / 3, 1.0 / 9]])
    actual = expected.astype(np.float32).astype(np.float64)
    facts = describe(actual, expected, allowed_for(expected), axis_names=["axis 0", "axis 1"], weights={}, dtype="float64")
    worst = np.max(np.abs(actual - expected))
    assert facts == [f"|d| is within float32 rounding (at most {worst / (10 / 3) / 2 ** -24:.2g} x 2^-24 of the "
                     f"largest |reference|, 3.33)"]
    assert f"{worst / (10 / 3) / 2 ** -24:.2g}" == "0.4"


def test_structure_of_a_layer_zero_at_its_threshold():
    # the ReLU layer finding: 0 where x == threshold, which the documentation keeps as x
    x = [[0.5, -1.25, 2.5, 0.75], [1.5, 0.5, -0.5, 0.25]]
    case = make_case("ReLU", {"threshold": 0.5}, dtype="float32", input_values=x)
    reference = SideOutcome(output=np.maximum(np.array(x), 0.0) * (np.array(x) >= 0.5))
    planted = np.where(np.array(x) > 0.5, np.array(x), 0.0)
    ev = Evaluation(get_op("ReLU"), np.array(x), {}, case.params, {}, reference.output, "float32")
    diagnosis = diagnose(case, reference, SideOutcome(output=planted), ev)
    assert diagnosis["explained_by"] == [] and diagnosis["tried"] == []
    assert diagnosis["sentence"] == (
        "No known mistake applies to this op; |d| is up to 0.5, 0.2 of the largest |reference|; "
        "failures only at axis 1 index 0, 1 of 0..3; "
        "tf.keras gives 0 at every failing element; failures only where the input is 0.5.")


def test_structure_of_a_failing_loss_when_the_output_agrees():
    # regularizer-factor-float32: L1(0.01) on float64 weights, the factor rounded to float32
    case = make_case("Dense", {"units": 2, "kernel_regularizer": "l1"}, [3, 4])
    output = random((3, 2))
    reference = SideOutcome(output=output, state={"losses": np.float64(0.21662155079)})
    keras = SideOutcome(output=output, state={"losses": np.float64(0.21662154595)})
    diagnosis = diagnose(case, reference, keras, None)
    assert diagnosis["subject"] == "losses" and diagnosis["tried"] == []
    assert diagnosis["sentence"] == ("The output agrees, losses does not; |d| is within "
                                     "float32 rounding (at most 0.37 x 2^-24 of the largest |reference|, 0.217).")


def test_structure_of_nan_at_infinite_inputs():
    x = np.array([[-np.inf, 0.3, 1.2], [2.5, -0.7, np.inf]])
    expected = np.array([[0.0, 0.3, 1.2], [2.5, -0.1, np.inf]])
    actual = expected.copy()
    actual[0, 0] = np.nan
    facts = describe(actual, expected, allowed_for(expected), axis_names=["axis 0", "axis 1"], weights={}, x=x)
    assert facts == ["tf.keras gives NaN at 1 element(s) where the reference has a number, all at infinite inputs"]


# --- wiring: the values check, the record ----------------------------------------------------


class PlantedTarget:
    """A target whose layer output is the reference's with the kernel flipped."""

    def run_layer(self, op, case, inputs, weights, calls, timings, cotangent=None):
        flipped = {**weights, "kernel": weights["kernel"][::-1]}
        return SideOutcome(output=op.compute(inputs[0], flipped, case.params, calls[0]))


def test_a_failed_value_comparison_is_diagnosed_timed_and_recorded():
    case = make_case("Conv1D", {"filters": 2, "kernel_size": 3}, [2, 7, 3])
    timings = Timings()
    verdict = judge(get_op("Conv1D"), case, PlantedTarget(), timings)
    assert verdict.status == "fail"
    assert verdict.diagnosis["sentence"] == "tf.keras agrees with the reference when the kernel is flipped spatially."
    assert verdict.diagnosis["tried"] == ["kernel_flipped", "bias_dropped"]  # those that apply
    assert timings["diagnose"] > 0
    record = Record(case=case, family="convolution", check="values", status="xfail", metrics=verdict.metrics,
                    diagnosis=verdict.diagnosis)
    data = record.to_json()
    assert data["diagnosis"]["explained_by"] == [{"name": "kernel_flipped", "says": "the kernel is flipped spatially"}]
    assert "diagnosis" not in data["metrics"]
    assert Record.from_json(data).diagnosis == data["diagnosis"]
    assert Record.from_json({**data, "diagnosis": None}).diagnosis is None


def test_a_passing_case_has_no_diagnosis():
    case = make_case("Conv1D", {"filters": 2, "kernel_size": 3}, [2, 7, 3])

    class Honest:
        def run_layer(self, op, case, inputs, weights, calls, timings, cotangent=None):
            return SideOutcome(output=op.compute(inputs[0], weights, case.params, calls[0]))

    timings = Timings()
    verdict = judge(get_op("Conv1D"), case, Honest(), timings)
    assert verdict.status == "pass" and verdict.diagnosis is None and "diagnose" not in timings
    assert Record(case=case, family="convolution", status="pass", metrics=verdict.metrics).to_json()["diagnosis"] is None


def test_the_runner_keeps_the_diagnosis_of_a_known_divergence():
    from conformance.checks.known import judge_known

    known = {"id": "conv-flip", "title": "t", "signature": [{"values": {}}]}
    diagnosis = {"sentence": "s"}
    failed = Verdict("fail", "values differ", {"n_elements": 4, "max_abs_error": 1.0}, {}, diagnosis)
    assert judge_known(known, failed).status == "xfail" and judge_known(known, failed).diagnosis == diagnosis


def test_the_sentence_opens_the_divergence_report(tmp_path):
    from conformance import upstream

    case = make_case("Conv1D", {"filters": 2, "kernel_size": 3}, [2, 7, 3])
    sentence = "tf.keras agrees with the reference when the kernel is flipped spatially."
    entry = {"id": "conv-flip", "title": "Conv1D flips its kernel", "category": "wrong-result", "evidence": "e",
             "signature": [{"values": {}}]}
    text = upstream.report(entry, case, None, tmp_path, sentence).splitlines()
    assert text[:3] == ["# Conv1D flips its kernel", "", f"**Diagnosis** (`planted::Conv1D`): {sentence}"]
    assert upstream.diagnosis_of(case, {**entry, "signature": [{"raises": {"type": "ValueError"}}]}) is None
