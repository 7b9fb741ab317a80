"""The axes of a case in the catalogue: modes (ids, defaults per check, `modes:`, known
`when` on any axis), a swept op, named sweep values and shared value sets."""
from conformance.catalogue.loader import load_file


def ids_of(path):
    cases, errors = load_file(path)
    assert [str(e) for e in errors] == []
    return [c.id.split("::")[1] for c in cases]


def test_value_cases_run_in_every_mode_and_eager_ids_do_not_name_it(write_catalogue):
    path = write_catalogue(
        """
        op: Conv1D
        cases:
          - name: swept
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
            sweep: {padding: [valid, same]}
          - name: plain
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
        """
    )
    assert ids_of(path) == [
        "swept[padding=valid]", "swept[padding=valid-function]", "swept[padding=valid-xla]",
        "swept[padding=same]", "swept[padding=same-function]", "swept[padding=same-xla]",
        "plain", "plain[function]", "plain[xla]",
    ]
    cases, _ = load_file(path)
    assert [c.mode for c in cases[:3]] == ["eager", "function", "xla"]
    assert cases[1].params == cases[0].params == {"filters": 2, "kernel_size": 3, "padding": "valid"}


def test_sampled_checks_default_to_eager_and_modes_narrows_or_widens(write_catalogue):
    path = write_catalogue(
        """
        cases:
          - name: initializer
            op: initializers.HeNormal
            shape: [8, 4]
          - name: dropout_training
            op: Dropout
            input_shape: [4, 16]
            params: {rate: 0.5}
            call: {training: true}
          - name: dropout_inference
            op: Dropout
            input_shape: [4, 16]
            params: {rate: 0.5}
          - name: only_xla
            op: Conv1D
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
            modes: [xla]
          - name: initializer_compiled_too
            op: initializers.HeNormal
            shape: [8, 4]
            modes: [eager, function]
        """
    )
    assert ids_of(path) == [
        "initializer", "dropout_training",
        "dropout_inference", "dropout_inference[function]", "dropout_inference[xla]",
        "only_xla[xla]", "initializer_compiled_too", "initializer_compiled_too[function]",
    ]


def test_modes_mistakes_name_the_line(write_catalogue, write_registry):
    write_registry("r")
    path = write_catalogue(
        """
        op: Conv1D
        cases:
          - name: a
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
            modes: [eager, jit]
          - name: b
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
            known: {id: r, when: {mode: compiled}}
          - name: c
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
            known: {id: r, when: {device: gpu}}
        """
    )
    _, errors = load_file(path)
    assert [str(e).split("case.yaml:")[1] for e in errors] == [
        "6: modes: unknown mode 'jit'; modes: eager, function, xla",
        "10: known.when.mode: unknown mode in 'compiled'; modes: eager, function, xla",
        "14: known.when.device: 'device' is neither a parameter of this case nor an axis; may name: filters, kernel_size, op, dtype, mode, target",
    ]


def test_known_when_names_a_mode_a_dtype_or_lists_of_them(write_catalogue, write_registry):
    write_registry("only-under-xla", "float64-compiled", "swept-list-value", "fixed-parameter")
    path = write_catalogue(
        """
        op: Conv1D
        cases:
          - name: a
            input_shape: [2, 7, 3]
            params: {filters: 2}
            sweep: {kernel_size: [3, [2]]}
            dtype: [float32, float64]
            known:
              - {id: only-under-xla, when: {mode: xla}}
              - {id: float64-compiled, when: {dtype: float64, mode: [function, xla]}}
              - {id: swept-list-value, when: {kernel_size: [2]}}
              - {id: fixed-parameter, when: {filters: 2, dtype: float32}}
        """
    )
    cases, _ = load_file(path)
    known = {c.id.split("::")[1]: (c.known or {}).get("id") for c in cases}
    assert known["a[kernel_size=3-float32]"] == "fixed-parameter"
    assert known["a[kernel_size=3-float32-xla]"] == "only-under-xla"
    assert known["a[kernel_size=3-float64-function]"] == "float64-compiled"
    assert known["a[kernel_size=3-float64-xla]"] == "only-under-xla"  # the first matching entry
    assert known["a[kernel_size=3-float32-function]"] == "fixed-parameter"
    assert known["a[kernel_size=3-float64]"] is None
    assert known["a[kernel_size=2-float32]"] == "swept-list-value"


def test_op_is_swept_and_a_mapping_sweep_names_its_values(write_catalogue, write_registry):
    write_registry("he-on-conv1d")
    path = write_catalogue(
        """
        cases:
          - name: presets
            sweep:
              op: [initializers.GlorotNormal, initializers.HeUniform]
              kernel_of:
                dense: {op: Dense, params: {units: 5}, input_shape: [2, 7]}
                conv1d: {op: Conv1D, params: {filters: 4, kernel_size: 3}, input_shape: [1, 9, 2]}
            known: {id: he-on-conv1d, when: {op: initializers.HeUniform, kernel_of: conv1d}}
        """
    )
    cases, errors = load_file(path)
    assert errors == []
    assert [c.id.split("::")[1] for c in cases] == [
        "presets[op=initializers.GlorotNormal-kernel_of=dense]", "presets[op=initializers.GlorotNormal-kernel_of=conv1d]",
        "presets[op=initializers.HeUniform-kernel_of=dense]", "presets[op=initializers.HeUniform-kernel_of=conv1d]",
    ]
    assert [c.op for c in cases] == ["initializers.GlorotNormal"] * 2 + ["initializers.HeUniform"] * 2
    # the variable shape is the layer's kernel, as the reference lays it out
    assert [c.input_shape for c in cases[:2]] == [(7, 5), (3, 2, 4)]
    assert cases[1].kernel_of["op"] == "Conv1D" and cases[1].params == {}
    assert [bool(c.known) for c in cases] == [False, False, False, True]


def test_swept_ops_must_be_of_one_kind_and_known(write_catalogue):
    path = write_catalogue(
        """
        cases:
          - name: mixed
            input_shape: [2, 4]
            sweep: {op: [activations.relu, Dense]}
          - name: typo
            input_shape: [2, 4]
            sweep: {op: [activations.relu, activations.rleu]}
        """
    )
    _, errors = load_file(path)
    messages = [str(e).split("case.yaml:")[1] for e in errors]
    assert messages[0] == "4: sweep.op: swept ops must be of one kind (layers, functions or initializers), got FunctionOp, LayerOp"
    assert messages[1].startswith("7: sweep.op: unknown op 'activations.rleu'; did you mean 'activations.relu'")


def test_value_sets_from_the_file_and_the_folder(write_catalogue, write_registry):
    write_registry("shared-note")
    write_catalogue(
        """
        description: shared by the catalogue files of this folder
        values:
          two_activations: [relu, tanh]
          tanh_note: {id: shared-note, when: {activation: tanh}}
        """,
        name="values.yaml",
    )
    path = write_catalogue(
        """
        op: Dense
        values:
          row: [[0.5, -1.5, 2.0]]
        cases:
          - name: a
            input_values: {set: row}
            params: {units: 2}
            sweep: {activation: {set: two_activations}}
            known: [{set: tanh_note}]
            modes: [eager]
        """
    )
    cases, errors = load_file(path)
    assert errors == []
    assert [c.id.split("::")[1] for c in cases] == ["a[activation=relu]", "a[activation=tanh]"]
    assert cases[0].input_values == [[0.5, -1.5, 2.0]] and cases[0].input_shape == (1, 3)
    assert [(c.known or {}).get("title") for c in cases] == [None, "shared-note title"]


def test_an_unknown_value_set_names_the_line_and_the_sets(write_catalogue):
    path = write_catalogue(
        """
        op: Dense
        values:
          row: [[0.5, -1.5, 2.0]]
        cases:
          - name: a
            input_values: {set: rows}
            params: {units: 2}
        """
    )
    cases, errors = load_file(path)
    assert cases == []
    assert [str(e).split("case.yaml:")[1] for e in errors] == [
        "6: input_values.set: no value set named 'rows' (defined in `values:` or values.yaml: row); did you mean 'row'?"
    ]
