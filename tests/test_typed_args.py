"""Typed arguments: every op declares its arguments with type, range or choices, default and
the rules between them (conformance.ops.params), and validation, `conformance ops`,
`conformance new` and the schema read those declarations."""
import jsonschema

from conformance.catalogue.loader import load_file
from conformance.catalogue.schema import catalogue_schema
from conformance.cli import main
from conformance.ops import all_ops, get_op

# Ops whose arguments stay open, each with the reason.
OPEN_ON_PURPOSE = {
    "custom.regularizer": "the user's own Keras class: its constructor, not the harness, defines its arguments",
    "custom.initializer": "the user's own Keras class: its constructor, not the harness, defines its arguments",
    "custom.constraint": "the user's own Keras class: its constructor, not the harness, defines its arguments",
}


def _errors(write_catalogue, text):
    path = write_catalogue(text)
    cases, errors = load_file(path)
    return cases, [str(e).replace(f"{path.as_posix()}:", "case.yaml:") for e in errors]


def test_out_of_range_values_and_bad_choices_are_refused_with_file_line_key_and_value(write_catalogue):
    _, errors = _errors(write_catalogue, """
        op: Conv2D
        cases:
          - name: bad_choice
            input_shape: [1, 5, 5, 2]
            params: {filters: 2, kernel_size: 2, padding: vaild}
          - name: out_of_range
            input_shape: [1, 5, 5, 2]
            params: {filters: 2, kernel_size: [2, 0]}
          - name: rate_above_one
            op: Dropout
            input_shape: [2, 4]
            params: {rate: 1.5}
          - name: bad_data_format_swept
            input_shape: [1, 5, 5, 2]
            params: {filters: 2, kernel_size: 2}
            sweep: {data_format: [channels_last, channel_first]}
        """)
    assert errors == [
        "case.yaml:5: params.padding: expected a string (one of 'valid', 'same', in any case), got 'vaild'; did you mean 'valid'?",
        "case.yaml:8: params.kernel_size: expected an integer or a list of 2 integers (at least 1), got [2, 0] (0 is not)",
        "case.yaml:12: params.rate: expected a number (from 0 to 1), got 1.5",
        "case.yaml:16: sweep.data_format: expected a string or null (one of 'channels_last', 'channels_first'), "
        "got 'channel_first'; did you mean 'channels_first' or 'channels_last'?",
    ]


def test_a_misspelt_argument_of_a_formerly_open_op_is_found_at_validation(write_catalogue):
    _, errors = _errors(write_catalogue, """
        cases:
          - name: lstm
            op: LSTM
            input_shape: [2, 5, 3]
            params: {units: 2}
            sweep: {retrun_sequences: [true, false]}
          - name: attention
            op: Attention
            inputs: {query: {shape: [2, 4, 6]}, value: {shape: [2, 5, 6]}}
            params: {score_mode: dott}
          - name: bidirectional
            op: Bidirectional
            input_shape: [2, 5, 3]
            params: {layer: {class_name: LSTM, config: {units: 2}}, merge_mode: average}
        """)
    assert errors == [
        "case.yaml:6: sweep.retrun_sequences: LSTM has no argument 'retrun_sequences'; did you mean 'return_sequences'? "
        "(a sweep may also vary op, dtype or input_shape)",
        "case.yaml:10: params.score_mode: expected a string (one of 'dot', 'concat'), got 'dott'; did you mean 'dot'?",
        "case.yaml:14: params.merge_mode: expected a string or null (one of 'concat', 'sum', 'mul', 'ave'), got 'average'; did you mean 'ave'?",
    ]


def test_edge_values_are_accepted(write_catalogue):
    cases, errors = _errors(write_catalogue, """
        cases:
          - name: dropout_all
            op: Dropout
            input_shape: [2, 4]
            params: {rate: 1.0}
            modes: [eager]
          - name: upper_case_padding_and_unit_kernel
            op: Conv1D
            input_shape: [1, 5, 2]
            params: {filters: 1, kernel_size: 1, padding: CAUSAL}
            modes: [eager]
          - name: relu_at_zero
            op: ReLU
            input_shape: [2, 4]
            params: {max_value: 0.0, negative_slope: 0.0, threshold: 0.0}
            modes: [eager]
        """)
    assert errors == []
    assert [c.name for c in cases] == ["dropout_all", "upper_case_padding_and_unit_kernel", "relu_at_zero"]


def test_a_cross_argument_constraint_is_refused_unless_the_case_expects_the_error(write_catalogue):
    cases, errors = _errors(write_catalogue, """
        op: Conv2D
        cases:
          - name: strided_dilated
            input_shape: [1, 9, 9, 2]
            params: {filters: 2, kernel_size: 3, dilation_rate: 2}
            sweep: {strides: [1, 2]}
          - name: strided_dilated_is_rejected
            input_shape: [1, 9, 9, 2]
            params: {filters: 2, kernel_size: 3, dilation_rate: [1, 2], strides: [2, 1]}
            expect: {error: ValueError}
          - name: groups
            op: GroupQueryAttention
            inputs: {query: {shape: [2, 4, 6]}, value: {shape: [2, 5, 6]}}
            params: {head_dim: 2, num_query_heads: 3, num_key_value_heads: 2}
        """)
    assert errors == [
        "case.yaml:6: sweep.strides: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
        "Received: strides=2, dilation_rate=2 (Keras docstring, Raises: ValueError); "
        "if that is the point of the case, add `expect: {error: ValueError}`",
        "case.yaml:14: params: `num_query_heads` must be divisible by `num_key_value_heads`. Received: num_query_heads=3, "
        "num_key_value_heads=2 (Keras GroupQueryAttention.__init__ raises ValueError; the reference too); "
        "if that is the point of the case, add `expect: {error: ValueError}`",
    ]
    assert {c.name for c in cases} == {"strided_dilated", "strided_dilated_is_rejected"}  # strides=1 is fine
    # the constraint is data the fuzzer can read: which arguments, and the defaults filled in
    conv = get_op("Conv2D")
    assert [c.names for c in conv.constraints] == [("strides", "dilation_rate"), ("filters", "groups")]
    assert conv.constraint_problems({"filters": 4, "kernel_size": 3, "strides": 2}) == []  # dilation_rate defaults to 1


def test_conformance_ops_shows_each_argument_with_its_type_range_and_default(capsys):
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    dropout = out[out.index("\nDropout  "):out.index("\nELU  ")]
    assert dropout == (
        "\nDropout  [regularization layers]\n"
        "    arguments:\n"
        "      rate: a number (from 0 to 1); required\n"
        "      noise_shape: a list of positive integers or nulls (other values: the reference rejects them) or null; default null\n"
        "      seed: an integer or null; default null\n"
        "    check: values, modes: eager, function, xla; in training (call: {training: true}): statistics, modes eager"
    )
    assert "    constraint: `output_padding` must be lower than `strides` along each dimension" in out
    assert "custom.regularizer  [custom]\n    arguments: any (the user's own class judges them)\n" in out


def test_the_schema_states_choices_as_an_enum_ranges_as_minimum_and_defaults():
    schema = catalogue_schema()
    defs = schema["$defs"]
    params = defs["op_Conv1D"]["then"]["properties"]["params"]["anyOf"][0]["properties"]
    assert params["padding"]["default"] == "valid" and params["strides"]["default"] == 1
    assert "filters" in params and "default" not in params["filters"]  # required: no default

    def validates(name, value):
        return jsonschema.Draft202012Validator({**params[name], "$defs": defs}).is_valid(value)

    padding = defs[params["padding"]["allOf"][0]["$ref"].split("/")[-1]]
    assert {"enum": ["valid", "same", "causal"]} in padding["anyOf"][0]["anyOf"]
    assert validates("padding", "causal") and validates("padding", "SAME") and not validates("padding", "vaild")
    assert validates("strides", [1, 2]) is False  # Conv1D: one integer per spatial dim
    assert validates("strides", 1) and validates("strides", [2]) and not validates("strides", 0) and not validates("strides", [0])
    rate = defs["op_Dropout"]["then"]["properties"]["params"]["anyOf"][0]["properties"]["rate"]
    rate_schema = defs[rate["allOf"][0]["$ref"].split("/")[-1]]["anyOf"][0]
    assert rate_schema == {"type": "number", "minimum": 0, "maximum": 1}


def test_every_op_declares_its_arguments():
    open_ops = {name for name, op in all_ops().items() if op.open_params}
    assert open_ops == set(OPEN_ON_PURPOSE)
    # a declared argument list is not an empty stand-in: every layer the reference binds
    # arguments for names at least one (Identity and the element-wise merges take only name/trainable)
    for name in ("Dense", "EinsumDense", "Embedding", "Reshape", "Concatenate", "Dot", "MultiHeadAttention", "GRU",
                 "Bidirectional", "TimeDistributed"):
        assert get_op(name).params, name
    assert get_op("Dense").required == ("units",) and get_op("Dot").required == ("axes",)
    assert get_op("LSTM").params["recurrent_activation"].default == "sigmoid"
