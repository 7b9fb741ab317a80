"""The axes of a case in the catalogue: modes (ids, defaults per check, `modes:`, known
`when` on any axis), a swept op, named sweep values and shared value sets."""
import textwrap
import pytest

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
        "14: known.when.device: 'device' is neither a parameter of this case nor an axis; may name: filters, kernel_size, op, dtype, mode, target, onednn",
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


def test_compiled_sweep_each_value_compiles_every_value_once_and_keeps_known_combinations(write_catalogue, write_registry):
    write_registry("only-under-xla")
    path = write_catalogue(
        """
        op: Dense
        defaults:
          compiled_sweep: each_value
        cases:
          - name: a
            input_shape: [2, 5]
            sweep: {units: [2, 3, 4], activation: [relu, tanh]}
            dtype: [float32, float64]
            known: {id: only-under-xla, when: {units: 3, activation: tanh, dtype: float64, mode: xla}}
        """
    )
    cases, errors = load_file(path)
    assert [str(e) for e in errors] == []
    by_mode = {m: [c.id.split("::")[1] for c in cases if c.mode == m] for m in ("eager", "function", "xla")}
    assert len(by_mode["eager"]) == 12  # eager runs every combination
    # in sweep order, a combination is compiled when it brings a value not seen before:
    # (2, relu, f32) all new; (2, relu, f64) float64; (2, tanh, f32) tanh; (3, ...) 3; (4, ...) 4
    assert by_mode["function"] == [
        "a[units=2-activation=relu-float32-function]", "a[units=2-activation=relu-float64-function]",
        "a[units=2-activation=tanh-float32-function]", "a[units=3-activation=relu-float32-function]",
        "a[units=4-activation=relu-float32-function]",
    ]
    # ... and the recorded divergence's combination is kept in the mode it is recorded for
    assert by_mode["xla"] == [i.replace("-function]", "-xla]") for i in by_mode["function"][:4]] + [
        "a[units=3-activation=tanh-float64-xla]", "a[units=4-activation=relu-float32-xla]"]
    assert [c.known["id"] for c in cases if c.known] == ["only-under-xla"]
    full, _ = load_file(path, full_sweeps=True)
    assert len(full) == 36


def test_compiled_sweep_refuses_other_values_naming_the_line(write_catalogue):
    path = write_catalogue(
        """
        op: Dense
        cases:
          - name: a
            input_shape: [2, 5]
            params: {units: 2}
            compiled_sweep: some
        """
    )
    _, errors = load_file(path)
    assert [str(e).split(":", 1)[1] for e in errors] == ["6: compiled_sweep: expected one of all, each_value, got 'some'"]


def test_a_registry_entry_applies_to_the_cases_it_names_unless_their_own_known_does(write_catalogue, tmp_path):
    (tmp_path / "divergences.yaml").write_text(textwrap.dedent("""
        divergences:
          no-half-kernel:
            category: missing-kernel
            title: no float16 kernel
            evidence: seen
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {raises: {type: NotFoundError}}
            applies_to: {op: [AveragePooling3D, MaxPooling3D], dtype: [float16, mixed_float16], mode: [eager, function], padding: [valid, null]}
          own:
            category: wrong-result
            title: the case's own
            evidence: seen
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {values: {}}
        """).lstrip(), encoding="utf-8")
    path = write_catalogue(
        """
        op: AveragePooling3D
        defaults:
          params: {pool_size: 2}
        cases:
          - name: pool
            input_shape: [2, 4, 4, 4, 3]
            sweep: {padding: [valid, same]}
            dtype: [float32, float16]
          - name: own_first
            input_shape: [2, 4, 4, 4, 3]
            dtype: float16
            known: own
          - name: rejected
            input_shape: [2, 4, 4, 4, 3]
            params: {pool_size: 9}
            dtype: float16
            expect: {error: ValueError}
        """
    )
    cases, errors = load_file(path)
    assert [str(e) for e in errors] == []
    known = {c.id.split("::")[1]: (c.known or {}).get("id") for c in cases}
    assert known["pool[padding=valid-float16]"] == known["pool[padding=valid-float16-function]"] == "no-half-kernel"
    assert known["pool[padding=valid-float16-xla]"] is None  # not for the modes it does not name
    assert known["pool[padding=same-float16]"] is None  # nor for other parameters
    assert known["pool[padding=valid-float32]"] is None
    assert known["own_first"] == "own"  # the case's own known wins
    assert known["rejected"] is None  # the arguments are rejected before any kernel runs
    # under --dtypes, a case of another file's dtype meets it too
    swept, _ = load_file(path, dtypes=("float16",))
    assert {c.id.split("::")[1]: (c.known or {}).get("id") for c in swept}["pool[padding=valid-float16]"] == "no-half-kernel"


def test_an_entry_for_cases_moved_into_a_dtype_explains_without_requiring_a_failure(write_catalogue, tmp_path):
    """run_dtype: true holds only for a case that --dtypes moved into the dtype (not for the
    catalogue's own cases in it), and gives a non-strict known; check is an axis too."""
    (tmp_path / "divergences.yaml").write_text(textwrap.dedent("""
        divergences:
          rate-float32:
            category: precision
            title: a rate rounded to float32
            evidence: seen
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {values: {max_rel_error: 1.0e-5}}
            applies_to: {check: values, dtype: float64, run_dtype: true}
        """).lstrip(), encoding="utf-8")
    path = write_catalogue(
        """
        op: Dense
        defaults:
          params: {units: 2}
          input_shape: [2, 5]
        cases:
          - name: own_float32
          - name: own_float64
            dtype: float64
        """
    )
    own, _ = load_file(path)
    assert all(c.known is None for c in own)  # the catalogue's own float64 case: not moved
    moved, _ = load_file(path, dtypes=("float64",))
    known = {c.id.split("::")[1]: c.known for c in moved}
    assert known["own_float32[float64]"]["id"] == "rate-float32" and known["own_float32[float64]"]["strict"] is False
    assert known["own_float64[float64]"] is None
    # a pass under a non-strict entry stays a pass; a failure of its form is an xfail
    from conformance.checks.known import judge_known
    from conformance.checks.verdict import Verdict
    entry = known["own_float32[float64]"]
    assert judge_known(entry, Verdict("pass", "", {}, None)).status == "pass"
    assert judge_known({**entry, "strict": True}, Verdict("pass", "", {}, None)).status == "xpass"


def test_applies_to_mistakes_name_the_line(write_catalogue, write_registry, tmp_path):
    from conformance.catalogue.divergences import load_registry

    (tmp_path / "divergences.yaml").write_text(textwrap.dedent("""
        divergences:
          bad:
            category: missing-kernel
            title: t
            evidence: e
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {raises: {type: NotFoundError}}
            applies_to: {op: Dense, mode: jit}
        """).lstrip(), encoding="utf-8")
    _, problems = load_registry(tmp_path)
    assert [(p.line, p.key, p.message) for p in problems] == [(8, "bad.applies_to.mode", "unknown mode 'jit'; modes: eager, function, xla")]


def test_a_value_set_of_known_entries_is_spliced_into_a_known_list(write_catalogue, write_registry):
    write_registry("first", "second", "third")
    path = write_catalogue(
        """
        op: Dense
        values:
          shared: [{id: first, when: {units: 2}}, {id: second, when: {units: 3}}]
        cases:
          - name: a
            input_shape: [2, 5]
            sweep: {units: [2, 3, 4]}
            modes: [eager]
            known: [{set: shared}, {id: third, when: {units: 4}}]
        """
    )
    cases, errors = load_file(path)
    assert [str(e) for e in errors] == []
    assert [(c.known or {}).get("id") for c in cases] == ["first", "second", "third"]


def test_a_known_divergence_can_hold_on_some_machines_only(write_catalogue, tmp_path):
    """`onednn` (conformance.machine) in a `when`, an `applies_to` condition or an entry's
    `requires`: the divergence is met only on a machine with that fact."""
    from conformance import machine

    (tmp_path / "divergences.yaml").write_text(textwrap.dedent("""
        divergences:
          without-onednn:
            category: missing-kernel
            title: no kernel without oneDNN
            evidence: seen
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {raises: {type: UnimplementedError}}
            applies_to: {op: Conv2D, dtype: float32, onednn: false}
          onednn-only:
            category: rejects-valid
            title: oneDNN rejects it
            evidence: seen
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {raises: {type: AbortedError}}
            requires: {onednn: true}
        """).lstrip(), encoding="utf-8")
    path = write_catalogue(
        """
        op: Conv2D
        cases:
          - name: applied
            input_shape: [2, 5, 5, 3]
            params: {filters: 2, kernel_size: 3}
          - name: own
            input_shape: [2, 5, 5, 3]
            params: {filters: 2, kernel_size: 3}
            dtype: float64
            known: [{id: without-onednn, when: {onednn: false}}, onednn-only]
        """
    )
    for onednn, expected in ((False, {"applied": "without-onednn", "own": "without-onednn"}),
                             (True, {"applied": None, "own": "onednn-only"})):
        with machine.assuming({"onednn": onednn}):
            cases, errors = load_file(path)
        assert [str(e) for e in errors] == []
        assert {c.id.split("::")[1]: (c.known or {}).get("id") for c in cases if c.mode == "eager"} == expected


def test_assumed_machine_facts_are_every_fact_and_end_with_the_block():
    from conformance import machine

    here = machine.facts()
    assert machine.every_machine() == [{"onednn": True}, {"onednn": False}]
    with machine.assuming({"onednn": not here["onednn"]}):
        assert machine.facts() == {"onednn": not here["onednn"]}
    assert machine.facts() == here
    with pytest.raises(ValueError, match="onednn"):
        with machine.assuming({"avx": True}):
            pass


def test_machine_facts_are_checked(write_catalogue, tmp_path):
    from conformance.catalogue.divergences import _load, load_registry

    (tmp_path / "divergences.yaml").write_text(textwrap.dedent("""
        divergences:
          bad:
            category: missing-kernel
            title: t
            evidence: e
            seen: {tensorflow: 2.21.0, keras: 3.15.1}
            signature: {raises: {type: NotFoundError}}
            requires: {onednn: maybe}
        """).lstrip(), encoding="utf-8")
    _, problems = load_registry(tmp_path)
    assert [(p.line, p.key) for p in problems] == [(8, "bad.requires")]
    assert "onednn: [True, False]" in problems[0].message and "'maybe'" in problems[0].message
    path = write_catalogue(
        """
        op: Dense
        cases:
          - name: a
            input_shape: [2, 5]
            params: {units: 2}
            known: {id: bad, when: {onednn: sometimes}}
        """
    )
    (tmp_path / "divergences.yaml").write_text((tmp_path / "divergences.yaml").read_text().replace("{onednn: maybe}", "{onednn: true}"))
    _load.cache_clear()  # the registry is read once per folder and process
    _, errors = load_file(path)
    assert any("onednn is a fact of the machine" in str(e) and "sometimes" in str(e) for e in errors), [str(e) for e in errors]
