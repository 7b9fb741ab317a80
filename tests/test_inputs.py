"""How a case's `call:` mapping becomes the arguments of each call (runner/inputs.py):
a list of input references stays a list of arrays, a literal nested list is one mask.
NumPy and the reference only; the tf.keras side of the same case is in test_runner.py."""
import numpy as np

from conformance.catalogue.model import Case
from conformance.checks.values import run_reference
from conformance.ops import get_op
from conformance.runner.inputs import call_arguments, layer_feeds

QUERY_MASK = [[1, 1, 0], [1, 0, 1]]
VALUE_MASK = [[1, 0, 1], [0, 1, 1]]


def attention_case(call, **inputs):
    """Attention with Tq == Tv == 3, so that the query and value masks have equal shapes."""
    specs = {"query": {"shape": [2, 3, 4]}, "value": {"shape": [2, 3, 4]},
             "query_mask": {"values": QUERY_MASK, "dtype": "bool"},
             "value_mask": {"values": VALUE_MASK, "dtype": "bool"}, **inputs}
    return Case(id="t::Attention", file="t", line=1, name="t", op="Attention", params={}, dtype="float64",
                input_shape=None, inputs=specs, call=call)


def test_a_list_of_mask_references_of_equal_shape_stays_a_list_of_two_masks():
    case = attention_case({"mask": ["$query_mask", "$value_mask"]})
    _, (call,) = layer_feeds(case, get_op("Attention"))
    mask = call["mask"]
    assert isinstance(mask, list) and len(mask) == 2
    np.testing.assert_array_equal(mask[0], np.array(QUERY_MASK, dtype=bool))
    np.testing.assert_array_equal(mask[1], np.array(VALUE_MASK, dtype=bool))


def test_nulls_in_a_list_of_masks_stay_nulls():
    given = {"value_mask": np.ones((2, 3), dtype=bool)}
    case = attention_case({"mask": [None, "$value_mask"]})
    assert call_arguments(case, given)["mask"][0] is None
    # no masks at all: [None, None], not the array [False, False]
    assert call_arguments(attention_case({"mask": [None, None]}), {})["mask"] == [None, None]


def test_a_list_of_state_references_of_equal_shape_stays_a_list():
    h0, c0 = np.zeros((2, 4)), np.ones((2, 4))
    case = Case(id="t::LSTM", file="t", line=1, name="t", op="LSTM", params={"units": 4}, dtype="float32",
                input_shape=(2, 5, 3), call={"initial_state": ["$h0", "$c0"]})
    states = call_arguments(case, {"h0": h0, "c0": c0})["initial_state"]
    assert isinstance(states, list) and states[0] is h0 and states[1] is c0


def test_a_literal_nested_list_is_one_mask():
    # an RNN's (batch, time) mask written out: one (2, 2) boolean array, not two masks
    case = Case(id="t::LSTM", file="t", line=1, name="t", op="LSTM", params={"units": 4}, dtype="float32",
                input_shape=(2, 2, 3), call={"mask": [[True, False], [True, True]]})
    mask = call_arguments(case)["mask"]
    assert isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == (2, 2)
    # a ragged literal list cannot be one array: one mask per item
    ragged = Case(id="t::A", file="t", line=1, name="t", op="Attention", params={}, dtype="float32",
                  input_shape=None, call={"mask": [[[1, 0, 1]], [[1, 1]]]})
    masks = call_arguments(ragged)["mask"]
    assert [m.shape for m in masks] == [(1, 3), (1, 2)]


def test_the_reference_applies_both_masks_of_equal_shape():
    case = attention_case({"mask": ["$query_mask", "$value_mask"], "return_attention_scores": True})
    op = get_op("Attention")
    inputs, calls = layer_feeds(case, op)
    reference, _ = run_reference(op, case, inputs, calls)
    assert reference.error is None, reference.error
    output, scores = reference.output, reference.state["output_1"]
    # masked queries give zero rows; masked values get zero weight
    assert np.all(output[~np.array(QUERY_MASK, dtype=bool)] == 0)
    assert np.all(scores.transpose(0, 2, 1)[~np.array(VALUE_MASK, dtype=bool)] == 0)


def test_under_a_policy_values_are_drawn_in_the_compute_dtype_and_fed_as_float32():
    import ml_dtypes

    from conformance.checks.values import policy_dtypes
    from conformance.runner.inputs import keras_dtype, numpy_dtype, round_to

    assert numpy_dtype("mixed_float16") == np.float16 and numpy_dtype("mixed_bfloat16") == ml_dtypes.bfloat16
    # 1/3 rounded to bfloat16 (8 significant bits): 0.333984375, exact in float32
    assert round_to([1 / 3], "mixed_bfloat16")[0] == 0.333984375
    x = round_to([1 / 3, 2.5], "mixed_float16")
    assert keras_dtype(x, None, "mixed_float16") == np.float32
    assert keras_dtype(x, None, "float16") == np.float16
    assert policy_dtypes("mixed_float16", {"output": "float16", "variables": {"kernel": "float32"}}) == []
    assert policy_dtypes("mixed_float16", {"output": "int64", "variables": {}}) == []  # IntegerLookup's ids
    # Normalization's adapted count is an int64 counter, not a weight in the variable dtype; a float16 mean is one
    assert policy_dtypes("mixed_float16", {"output": "float16", "variables": {"mean": "float32", "count": "int64"}}) == []
    assert policy_dtypes("mixed_float16", {"output": "float16", "variables": {"mean": "float16", "count": "int64"}}) == [
        "under mixed_float16 variables are not float32: {'mean': 'float16'}"]
    assert policy_dtypes("mixed_bfloat16", {"output": "float32", "variables": {"kernel": "bfloat16", "bias": "float32"}}) == [
        "under mixed_bfloat16 the output is float32, not the compute dtype bfloat16",
        "under mixed_bfloat16 variables are not float32: {'kernel': 'bfloat16'}"]
