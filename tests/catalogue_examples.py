"""Malformed catalogue examples, shared by the loader's tests (tests/test_loader.py: each
mistake gets its file:line error) and the schema's (tests/test_schema.py: the schema rejects
the same ones wherever it can state the rule, and names the rules it cannot)."""
import pytest

# The head every CASE_MISTAKES body is appended to.
CONV1D_HEAD = "op: Conv1D\ncases:\n"

# (a case written under CONV1D_HEAD, the line of its error, a fragment of the message)
CASE_MISTAKES = [
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    parms: {filters: 1}\n", 5,
                 "unknown key 'parms'; did you mean 'params'", id="unknown_case_key"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2, stride: 2}\n", 5,
                 "Conv1D has no argument 'stride'; did you mean 'strides'", id="unknown_argument"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: two, kernel_size: 2}\n", 5,
                 "filters: expected an integer (at least 1), got 'two'", id="wrong_type"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: [2, 2]}\n", 5,
                 "kernel_size: expected an integer or a list of 1 integers", id="wrong_tuple_length_for_the_rank"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    dtype: float33\n    params: {filters: 1, kernel_size: 2}\n", 5,
                 "unknown dtype 'float33'; did you mean 'float32'", id="unknown_dtype"),
    pytest.param("  - name: a\n    input_shape: [1, -5, 2]\n    params: {filters: 1, kernel_size: 2}\n", 4,
                 "input_shape: expected a list of positive integers", id="negative_dimension"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {kernel_size: 2}\n", 5,
                 "Conv1D needs filters", id="missing_required_argument"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    sweep: {stides: [1, 2]}\n", 6,
                 "has no argument 'stides'; did you mean 'strides'", id="swept_key_not_an_argument"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    expect: {error: ValueErorr}\n", 6,
                 "unknown exception 'ValueErorr'; did you mean 'ValueError'", id="unknown_expected_error"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    xfail: {link: x}\n", 6,
                 "`xfail` is replaced by `known: ID`", id="old_xfail_form"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 3, strides: 2, dilation_rate: 2}\n", 5,
                 "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=2, dilation_rate=2",
                 id="arguments_the_reference_rejects"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    call: {training: true}\n", 6,
                 "unknown call argument 'training'; Conv1D takes no call arguments", id="call_argument_not_taken"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    calls: 0\n", 6,
                 "calls: expected an integer from 1 to 20, got 0", id="calls_out_of_range"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    input_distribution: {constant_channels: [2]}\n", 6,
                 "channels [2] are out of range: the input has 2 along axis -1", id="constant_channel_out_of_range"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    tolerance: {rtol: small}\n", 6,
                 "rtol: expected a non-negative number, got 'small'", id="tolerance_not_a_number"),
    pytest.param("  - name: a\n    input_shape: [1, 5, 2]\n    dtype: []\n    params: {filters: 1, kernel_size: 2}\n", 5,
                 "dtype: expected a dtype or a non-empty list of dtypes, got []", id="no_dtype_in_the_list"),
    pytest.param("  - name: a\n    inputs: {x: {shape: [1, 5, 2], mean: high}}\n    params: {filters: 1, kernel_size: 2}\n", 4,
                 "inputs.x.mean: expected a number, got 'high'", id="input_mean_not_a_number"),
    pytest.param("  - name: a\n    op: Add\n    inputs: {a: {shape: [2, 2]}, b: {values: [[1.0, 2.0], [3.0]]}}\n", 5,
                 "inputs.b.values: not rectangular: expected shape [2, 2]", id="second_input_values_ragged"),
]

ONE_BROKEN_CASE = """
op: Conv1D
cases:
  - name: good_one
    input_shape: [1, 5, 2]
    params: {filters: 1, kernel_size: 2}
  - name: broken
    input_shape: [1, 5, 2]
    params: {filters: 1, kernel_sise: 2}
  - name: good_two
    input_shape: [1, 6, 2]
    params: {filters: 1, kernel_size: 3}
"""

UNKNOWN_OP_AND_TOP_LEVEL_KEY = """
op: Conv2d
case_list: []
cases:
  - name: a
    input_shape: [1, 5, 5, 2]
"""

DUPLICATE_NAMES = """
op: Conv1D
cases:
  - name: a
    input_shape: [1, 5, 2]
    params: {filters: 1, kernel_size: 2}
  - name: a
    input_shape: [1, 6, 2]
    params: {filters: 1, kernel_size: 2}
"""

# Not YAML a catalogue may hold: a syntax error, a duplicate key, a Python tag
NOT_PLAIN_YAML = {
    "invalid_yaml": "op: Conv1D\ncases:\n  - name: a\n    params: {filters: 1\n",
    "duplicate_yaml_key": "op: Conv1D\ncases:\n  - name: a\n    name: b\n",
    "python_object_tag": "op: !!python/object/apply:os.system ['echo pwned']\ncases: []\n",
    "python_name_tag": "op: !!python/name:os.system\ncases: []\n",
}

SWEEP_VALUES = list(range(1, 50))
SWEEP_TOO_LARGE = f"""
op: Conv1D
cases:
  - name: huge
    input_shape: [1, 60, 2]
    params: {{filters: 1}}
    sweep:
      kernel_size: {SWEEP_VALUES}
      strides: {SWEEP_VALUES}
"""

OVER_MEMORY_BUDGET = """
op: Conv2D
cases:
  - name: enormous
    input_shape: [64, 1024, 1024, 8]
    params: {filters: 8, kernel_size: 3}
"""

# needs a divergences.yaml with the id stride-two-differs beside it
KNOWN_REGISTRY_IDS = ("stride-two-differs",)
KNOWN_MISTAKES = """
op: Conv1D
cases:
  - name: typo
    input_shape: [1, 9, 2]
    params: {filters: 1, kernel_size: 2}
    known: stride-two-diffbest
  - name: old_form
    input_shape: [1, 9, 2]
    params: {filters: 1, kernel_size: 2}
    xfail: {reason: written before the registry}
  - name: bad_key
    input_shape: [1, 9, 2]
    params: {filters: 1, kernel_size: 2}
    known: {id: stride-two-differs, reason: no}
"""

LITERAL_AND_RAGGED_INPUT_VALUES = """
op: Conv1D
cases:
  - name: literal
    input_values: [[[1.5, -2.0], [0.25, 3.0], [.inf, .nan]]]
    params: {filters: 1, kernel_size: 2}
  - name: ragged
    input_values: [[[1.5, -2.0], [0.25]]]
    params: {filters: 1, kernel_size: 2}
"""

# (the case's lines after input_shape, a fragment of the message)
UNMODELLED_ARGUMENTS = [
    ("    params: {units: 3, stateful: true}\n", "stateful=True carries states between calls"),
    ("    params: {units: 3, dropout: 0.5}\n    call: {training: true}\n", "Dropout in training is random"),
    ("    params: {layer: {class_name: GRU, config: {units: 3, recurrent_dropout: 0.2}}}\n    call: {training: true}\n",
     "Dropout in training is random"),
]


def unmodelled_document(body: str) -> str:
    op = "Bidirectional" if "layer:" in body else "LSTM"
    return f"op: {op}\ncases:\n  - name: a\n    input_shape: [2, 5, 4]\n" + body


MALFORMED_VALUE_EXPECTING_AN_ERROR = """
op: Conv1D
cases:
  - name: filters_of_the_wrong_type_is_rejected
    input_shape: [1, 9, 2]
    params: {filters: 1.5, kernel_size: 2}
    expect: {error: Exception}
  - name: without_expect
    input_shape: [1, 9, 2]
    params: {filters: 1.5, kernel_size: 2}
"""
