"""The runner's statuses for stateful, masked and process-killing cases."""
import numpy as np
import pytest

from conformance.catalogue.model import Case
from conformance.compare import compare_arrays
from conformance.ops import get_op
from conformance.checks.values import run_reference
from conformance.runner.execute import run_case
from conformance.runner.inputs import call_arguments, make_inputs
from conformance.target import tf_keras as keras_side


def make_case(op, params, shape, **extra):
    return Case(id=f"t::{op}", file="t", line=1, name="t", op=op, params=params, dtype=extra.pop("dtype", "float32"),
                input_shape=tuple(shape), **extra)


def test_moving_statistics_are_compared_after_several_calls():
    case = make_case("BatchNormalization", {"momentum": 0.9}, [6, 4], call={"training": True}, calls=3)
    record = run_case(case)
    assert record.status == "pass", record.message
    state = record.metrics["state"]
    assert set(state) == {"moving_mean", "moving_variance"}
    assert state["moving_mean"]["n_elements"] == 4 and state["moving_mean"]["max_abs_error"] < 1e-5


def test_a_wrong_momentum_on_the_keras_side_is_caught_in_the_state():
    case = make_case("BatchNormalization", {"momentum": 0.9}, [6, 4], call={"training": True}, calls=3)
    op = get_op(case.op)
    inputs = make_inputs(case)
    calls = [call_arguments(case)] * len(inputs)
    reference, weights = run_reference(op, case, inputs, calls)
    planted = make_case("BatchNormalization", {"momentum": 0.8}, [6, 4], call={"training": True}, calls=3)
    keras = keras_side.run_layer(op, planted, inputs, weights, calls)
    # the outputs of a training call do not depend on momentum; the moving statistics do
    assert compare_arrays(keras.output, reference.output, rtol=1e-5, atol=1e-5).ok
    assert not compare_arrays(keras.state["moving_mean"], reference.state["moving_mean"], rtol=1e-5, atol=1e-5).ok


def test_each_call_gets_a_fresh_input_and_the_first_is_the_single_call_input():
    one = make_inputs(make_case("BatchNormalization", {}, [4, 3]))
    three = make_inputs(make_case("BatchNormalization", {}, [4, 3], calls=3))
    assert np.array_equal(one[0], three[0])
    assert not np.array_equal(three[0], three[1]) and not np.array_equal(three[1], three[2])


def test_constant_channels_have_zero_variance():
    (x,) = make_inputs(make_case("BatchNormalization", {}, [8, 5], input_distribution={"mean": 3.5, "constant_channels": [2]}))
    assert np.all(x[:, 2] == 3.5) and x[:, 1].std() > 0.1


def test_mask_reaches_both_sides():
    mask = [[1, 1, 0, 0], [1, 0, 0, 1]]
    case = make_case("GlobalAveragePooling1D", {}, [2, 4, 3], call={"mask": mask}, dtype="float64")
    record = run_case(case)
    assert record.status == "pass", record.message
    # hand check: the masked mean of batch 0 is the mean of its first two steps
    (x,) = make_inputs(case)
    reference, _ = run_reference(get_op(case.op), case, [x], [call_arguments(case)])
    np.testing.assert_allclose(reference.output[0], x[0, :2].mean(axis=0), rtol=1e-12)


def test_a_call_that_kills_its_process_is_a_result_when_isolated():
    # AdaptiveMaxPooling1D(output_size=1) dies of SIGFPE in TensorFlow 2.21 on CPU
    record = run_case(make_case("AdaptiveMaxPooling1D", {"output_size": 1}, [2, 6, 3], isolate=True))
    keras_error = record.outcome["keras"]["error"]
    if keras_error is None:  # fixed upstream: then it must agree with the reference
        assert record.status == "pass"
    else:
        assert record.status == "fail"
        assert keras_error["type"] == "ProcessCrash" and "SIGFPE" in keras_error["message"]


def test_lora_kernel_regularizer_penalises_the_trainable_factors_not_the_frozen_kernel():
    # l2 = 0.01 * sum(w^2) (the default factor); with LoRA only lora_kernel_a and _b count
    case = make_case("Dense", {"units": 3, "lora_rank": 2, "kernel_regularizer": "l2"}, [4, 5], dtype="float64")
    op = get_op(case.op)
    inputs = make_inputs(case)
    reference, weights = run_reference(op, case, inputs, [call_arguments(case)] * len(inputs))
    factors = 0.01 * (np.sum(weights["lora_kernel_a"] ** 2) + np.sum(weights["lora_kernel_b"] ** 2))
    assert abs(reference.state["losses"] - factors) < 1e-15
    assert abs(reference.state["losses"] - 0.01 * np.sum(weights["kernel"] ** 2)) > 1e-3


def test_a_case_built_in_code_with_unmodelled_arguments_is_an_error_in_one_sentence():
    record = run_case(make_case("LSTM", {"units": 3, "stateful": True}, [2, 5, 4]))
    assert record.status == "error"
    assert record.message.startswith("the reference does not model these arguments yet: stateful=True")
    assert "Traceback" not in record.message


def test_attention_masks_of_equal_shape_reach_both_sides_as_a_list():
    # Tq == Tv: [query_mask, value_mask] must stay two (2, 3) masks, not one (2, 2, 3) array
    inputs = {"query": {"shape": [2, 3, 4]}, "value": {"shape": [2, 3, 4]},
              "query_mask": {"values": [[1, 1, 0], [1, 0, 1]], "dtype": "bool"},
              "value_mask": {"values": [[1, 0, 1], [0, 1, 1]], "dtype": "bool"}}
    case = make_case("Attention", {}, [2, 3, 4], dtype="float64", inputs=inputs,
                     call={"mask": ["$query_mask", "$value_mask"], "return_attention_scores": True})
    record = run_case(case)
    assert record.status == "pass", record.message


def test_a_regularizer_finds_its_weights_by_the_last_part_of_their_path():
    from conformance.checks.values import argument_weights

    mha = {"query/kernel": 0, "key/kernel": 0, "value/kernel": 0, "attention_output/kernel": 0, "query/bias": 0}
    assert argument_weights("kernel", mha, "kernel_regularizer") == ["query/kernel", "key/kernel", "value/kernel",
                                                                           "attention_output/kernel"]
    lstm = {"lstm_cell/kernel": 0, "lstm_cell/recurrent_kernel": 0, "lstm_cell/bias": 0}
    assert argument_weights("recurrent", lstm, "recurrent_regularizer") == ["lstm_cell/recurrent_kernel"]
    assert argument_weights("bias", lstm, "bias_regularizer") == ["lstm_cell/bias"]
    assert argument_weights("depthwise", {"kernel": 0, "bias": 0}, "depthwise_regularizer") == ["kernel"]
    separable = {"depthwise_kernel": 0, "pointwise_kernel": 0, "bias": 0}
    assert argument_weights("pointwise", separable, "pointwise_regularizer") == ["pointwise_kernel"]
    with pytest.raises(ValueError, match="gamma_regularizer has no weight to regularize"):
        argument_weights("gamma", {"beta": 0}, "gamma_regularizer")


def test_further_outputs_are_judged_by_their_own_bound_and_a_wrong_one_fails():
    """The attention scores and an LSTM's returned states carry error bounds of their own
    (LayerOp.error_bound returning {"output", "output_1", ...}); a state moved by more than its
    bound fails even when the flat tolerance would pass it."""
    scores = run_case(make_case("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [2, 4, 5],
                                inputs={"query": {"shape": [2, 4, 5]}, "value": {"shape": [2, 6, 5]}},
                                call={"return_attention_scores": True}))
    assert scores.status == "pass", scores.message
    assert scores.metrics["state"]["output_1"]["judged_by"] == "bound"
    case = make_case("LSTM", {"units": 3, "return_state": True}, [2, 5, 4])
    record = run_case(case)
    assert record.status == "pass", record.message
    assert {n: s["judged_by"] for n, s in record.metrics["state"].items()} == {"output_1": "bound", "output_2": "bound"}
    op = get_op(case.op)
    inputs = make_inputs(case)
    calls = [call_arguments(case)] * len(inputs)
    reference, _ = run_reference(op, case, inputs, calls)
    c_state, c_bound = reference.state["output_2"], reference.state_bounds["output_2"]
    assert 0 < c_bound.max() < 1e-5  # tighter than the flat tolerance here
    moved = c_state + 3 * c_bound  # three times the bound: within atol + rtol |c| for small c
    assert compare_arrays(moved, c_state, rtol=1e-5, atol=1e-5).ok
    assert not compare_arrays(moved, c_state, rtol=1e-5, atol=1e-5, bound=c_bound).ok
