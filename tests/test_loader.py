"""The catalogue loader: sweeps, ids, defaults, and a file:line error for every mistake."""
import pytest

from catalogue_examples import (
    CASE_MISTAKES, CONV1D_HEAD, DUPLICATE_NAMES, KNOWN_MISTAKES, KNOWN_REGISTRY_IDS, LITERAL_AND_RAGGED_INPUT_VALUES,
    MALFORMED_VALUE_EXPECTING_AN_ERROR, NOT_PLAIN_YAML, ONE_BROKEN_CASE, OVER_MEMORY_BUDGET, SWEEP_TOO_LARGE,
    SWEEP_VALUES, UNKNOWN_OP_AND_TOP_LEVEL_KEY, UNMODELLED_ARGUMENTS, unmodelled_document,
)
from conformance.catalogue.loader import MAX_SWEEP, load_file, load_paths
from conformance.catalogue.model import DEFAULT_TOLERANCE


def errors_of(path):
    """The eager cases of a file and its errors as text: each value case also runs in the
    compiled modes (tested on their own below), which would only multiply the counts here."""
    cases, errors = load_file(path)
    return [c for c in cases if c.mode == "eager"], [str(e) for e in errors]


def test_sweep_expands_to_the_cartesian_product_with_stable_readable_ids(write_catalogue):
    path = write_catalogue(
        """
        op: Conv2DTranspose
        cases:
          - name: padding_strides_sweep
            input_shape: [2, 9, 8, 4]
            params: {filters: 3, kernel_size: [3, 2]}
            sweep:
              strides: [1, 2, [2, 1]]
              padding: [valid, same]
              data_format: [channels_last, channels_first]
            dtype: [float32, float64]
        """,
        name="conv2d_transpose.yaml",
    )
    cases, errors = errors_of(path)
    assert errors == []
    assert len(cases) == 3 * 2 * 2 * 2
    ids = [c.id.split("::")[1] for c in cases]
    assert "padding_strides_sweep[strides=2-padding=same-data_format=channels_first-float64]" in ids
    assert "padding_strides_sweep[strides=2x1-padding=valid-data_format=channels_last-float32]" in ids
    assert len(set(ids)) == len(ids)
    one = next(c for c in cases if c.id.endswith("[strides=2x1-padding=same-data_format=channels_first-float64]"))
    assert one.params == {"filters": 3, "kernel_size": [3, 2], "strides": [2, 1], "padding": "same", "data_format": "channels_first"}
    assert one.dtype == "float64"
    assert one.line == 3
    # loading twice gives the same ids in the same order
    assert [c.id for c in errors_of(path)[0]] == [c.id for c in cases]


def test_defaults_merge_into_every_case_and_the_case_wins(write_catalogue):
    path = write_catalogue(
        """
        op: Conv1D
        defaults:
          dtype: float64
          params: {filters: 2, padding: same}
          tolerance: {rtol: 1e-7}
        cases:
          - name: a
            input_shape: [2, 7, 3]
            params: {kernel_size: 3, padding: causal}
            tolerance: {atol: 2.5e-8}
        """
    )
    (case,), errors = errors_of(path)
    assert errors == []
    assert case.params == {"filters": 2, "padding": "causal", "kernel_size": 3}
    assert case.dtype == "float64"
    assert case.effective_tolerance == {"rtol": 1e-7, "atol": 2.5e-8}
    assert case.id.endswith("::a")


def test_documented_default_tolerance_applies_when_none_is_given(write_catalogue):
    path = write_catalogue(
        """
        op: Conv1D
        cases:
          - name: a
            input_shape: [2, 7, 3]
            params: {filters: 2, kernel_size: 3}
        """
    )
    (case,), _ = errors_of(path)
    assert case.dtype == "float32"
    assert case.effective_tolerance == DEFAULT_TOLERANCE["float32"]


@pytest.mark.parametrize("body, line, fragment", CASE_MISTAKES)
def test_each_mistake_gets_file_line_and_key(write_catalogue, body, line, fragment):
    path = write_catalogue(CONV1D_HEAD + body, name="bad.yaml")
    cases, errors = errors_of(path)
    assert cases == []
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path.as_posix()}:{line}:") or f"bad.yaml:{line}:" in errors[0], errors[0]
    assert fragment in errors[0], errors[0]


def test_one_broken_case_does_not_stop_the_others(write_catalogue):
    path = write_catalogue(ONE_BROKEN_CASE)
    cases, errors = load_file(path)
    assert [c.name for c in cases] == ["good_one"] * 3 + ["good_two"] * 3  # each in three modes
    assert len(errors) == 1 and errors[0].line == 8 and errors[0].key == "params.kernel_sise"
    assert errors[0].case_id.endswith("::broken")


def test_duplicate_names_unknown_op_and_top_level_keys(write_catalogue):
    path = write_catalogue(UNKNOWN_OP_AND_TOP_LEVEL_KEY)
    _, errors = errors_of(path)
    assert any(":1: op: unknown op 'Conv2d'; did you mean 'Conv2D'" in e for e in errors), errors
    assert any(":2: case_list: unknown top-level key 'case_list'" in e for e in errors), errors

    path = write_catalogue(DUPLICATE_NAMES)
    cases, errors = errors_of(path)
    assert len(cases) == 1
    assert errors == [f"{errors[0].split(':')[0]}:6: name: duplicate case name 'a' (first at line 3)"]


def test_invalid_yaml_and_duplicate_keys_name_the_line(write_catalogue):
    _, errors = errors_of(write_catalogue(NOT_PLAIN_YAML["invalid_yaml"]))
    assert len(errors) == 1 and "not valid YAML" in errors[0]
    _, errors = errors_of(write_catalogue(NOT_PLAIN_YAML["duplicate_yaml_key"]))
    assert len(errors) == 1 and ":4:" in errors[0] and "duplicate key 'name'" in errors[0]


def test_yaml_is_read_with_the_safe_loader_only(write_catalogue):
    path = write_catalogue(NOT_PLAIN_YAML["python_object_tag"])
    cases, errors = errors_of(path)
    assert cases == [] and len(errors) == 1
    assert "is not allowed: a catalogue is plain data" in errors[0] and ":1:" in errors[0]
    _, errors = errors_of(write_catalogue(NOT_PLAIN_YAML["python_name_tag"]))
    assert len(errors) == 1 and ":1:" in errors[0] and "a catalogue is plain data" in errors[0]


def test_a_sweep_too_large_to_finish_is_refused(write_catalogue):
    path = write_catalogue(SWEEP_TOO_LARGE)
    _, errors = errors_of(path)
    assert len(errors) == 1 and len(SWEEP_VALUES) == 49
    assert f"expands to {49 * 49} cases, more than the limit of {MAX_SWEEP}" in errors[0]
    assert ":6: sweep:" in errors[0]


def test_a_case_over_the_memory_budget_is_refused_before_running(write_catalogue):
    path = write_catalogue(OVER_MEMORY_BUDGET)
    _, errors = errors_of(path)
    assert len(errors) == 1 and "too large" in errors[0] and "budget" in errors[0] and ":4: input_shape:" in errors[0]


def test_known_when_applies_only_to_matching_combinations(write_catalogue, write_registry):
    write_registry(stride_two_differs={"values": {"max_abs_error": 0.5}})
    path = write_catalogue(
        """
        op: Conv1D
        cases:
          - name: a
            input_shape: [1, 9, 2]
            params: {filters: 1, kernel_size: 2}
            sweep: {strides: [1, 2]}
            known: {id: stride-two-differs, when: {strides: 2}}
        """
    )
    cases, errors = errors_of(path)
    assert errors == []
    assert [c.known for c in cases] == [None, {"id": "stride-two-differs", "category": "wrong-result",
                                               "title": "stride-two-differs title", "links": [],
                                               "signature": [{"values": {"max_abs_error": 0.5}}], "targets": ["tf.keras"]}]


def test_known_mistakes_name_the_line_and_the_registry(write_catalogue, write_registry):
    write_registry(*KNOWN_REGISTRY_IDS)
    path = write_catalogue(KNOWN_MISTAKES)
    cases, errors = errors_of(path)
    assert cases == []
    assert errors[0].endswith(":6: known: no divergence 'stride-two-diffbest' in divergences.yaml; did you mean 'stride-two-differs'?") \
        or "did you mean 'stride-two-differs'" in errors[0], errors[0]
    assert ":10: xfail: `xfail` is replaced by `known: ID`" in errors[1]
    assert ":14: known.reason: unknown key 'reason'" in errors[2]


def test_registry_mistakes_name_the_line_and_key(write_catalogue, tmp_path):
    (tmp_path / "divergences.yaml").write_text(
        "divergences:\n"
        "  Bad_Id: {category: wrong-result, title: t, evidence: e, seen: {tensorflow: '1', keras: '1'}, signature: {values: {}}}\n"
        "  fine-one:\n"
        "    category: wrong-results\n"
        "    title: t\n"
        "    evidence: e\n"
        "    seen: {tensorflow: '1', keras: '1'}\n"
        "    signature: {values: {}}\n"
        "  bad-signature:\n"
        "    category: crash\n"
        "    title: t\n"
        "    evidence: e\n"
        "    seen: {tensorflow: '1', keras: '1'}\n"
        "    signature: {crash: SIGFOO}\n",
        encoding="utf-8",
    )
    path = write_catalogue("op: Conv1D\ncases:\n  - name: a\n    input_shape: [1, 9, 2]\n    params: {filters: 1, kernel_size: 2}\n")
    assert load_file(path)[1] == []  # the registry's problems are its own, reported once per folder:
    errors = [str(e) for e in load_paths([path])[1]]
    assert len(errors) == 3, errors
    assert "divergences.yaml:2: Bad_Id: an id is lowercase words joined by '-'" in errors[0]
    assert "divergences.yaml:4: fine-one.category: unknown category 'wrong-results'; did you mean 'wrong-result'" in errors[1]
    assert "divergences.yaml:14: bad-signature.signature: crash: expected a signal name" in errors[2]


def test_input_values_give_the_shape(write_catalogue):
    path = write_catalogue(LITERAL_AND_RAGGED_INPUT_VALUES)
    cases, errors = errors_of(path)
    assert [c.input_shape for c in cases] == [(1, 3, 2)]
    assert len(errors) == 1 and "not rectangular" in errors[0]


def test_the_whole_shipped_catalogue_is_valid():
    cases, errors = load_paths(["cases"])
    assert [str(e) for e in errors] == []
    assert len(cases) >= 600
    assert len({c.id for c in cases}) == len(cases)


@pytest.mark.parametrize("body, fragment", UNMODELLED_ARGUMENTS)
def test_arguments_the_reference_does_not_model_are_refused_at_validation(write_catalogue, body, fragment):
    path = write_catalogue(unmodelled_document(body), name="unmodelled.yaml")
    cases, errors = errors_of(path)
    assert cases == [] and len(errors) == 1, errors
    assert "unmodelled.yaml:4:" in errors[0] or "unmodelled.yaml:5:" in errors[0], errors[0]
    assert "the reference does not model these arguments yet" in errors[0] and fragment in errors[0], errors[0]
    # the same layer with dropout, but at inference, is modelled and accepted
    ok = write_catalogue(f"op: LSTM\ncases:\n  - name: a\n    input_shape: [2, 5, 4]\n    params: {{units: 3, dropout: 0.5}}\n", name="ok.yaml")
    assert errors_of(ok)[1] == []


def test_a_malformed_value_is_allowed_where_the_case_expects_an_error(write_catalogue):
    path = write_catalogue(MALFORMED_VALUE_EXPECTING_AN_ERROR)
    cases, errors = errors_of(path)
    assert [c.name for c in cases] == ["filters_of_the_wrong_type_is_rejected"]
    assert len(errors) == 1 and "params.filters: expected an integer (at least 1), got 1.5" in errors[0]


def test_a_policy_is_the_dtype_axis_of_a_layer_and_refused_elsewhere(write_catalogue):
    path = write_catalogue(
        """
        op: Dense
        defaults:
          dtype: [float32, float64]
        cases:
          - name: mixed
            input_shape: [2, 5]
            params: {units: 3}
            policy: [mixed_float16, mixed_bfloat16]
            modes: [eager]
          - name: both
            input_shape: [2, 5]
            params: {units: 3}
            policy: mixed_float16
            dtype: float16
          - name: typo
            input_shape: [2, 5]
            params: {units: 3}
            policy: mixed_float61
          - name: function
            op: activations.tanh
            input_shape: [2, 5]
            dtype: mixed_bfloat16
        """
    )
    cases, errors = errors_of(path)
    # the policy replaces the file's dtype list, and is written where the dtype goes
    assert [(c.id.split("::")[1], c.dtype) for c in cases] == [("mixed[mixed_float16]", "mixed_float16"),
                                                               ("mixed[mixed_bfloat16]", "mixed_bfloat16")]
    assert cases[0].effective_tolerance == DEFAULT_TOLERANCE["float16"]
    assert len(errors) == 3
    assert ":13: policy: give `policy` or `dtype`, not both" in errors[0]
    assert ":18: policy: unknown policy 'mixed_float61'; did you mean 'mixed_float16'" in errors[1]
    assert ":22: dtype: mixed_bfloat16 is a mixed precision policy, which layers take; activations.tanh is not a layer" in errors[2]


def test_dtypes_override_reexpands_every_case_and_gives_policies_to_layers_only(write_catalogue):
    from conformance.catalogue.loader import load_file
    from conformance.catalogue.model import parse_dtypes

    path = write_catalogue(
        """
        defaults:
          dtype: [float32, float64]
        cases:
          - name: dense
            op: Dense
            input_shape: [2, 5]
            params: {units: 3}
            modes: [eager]
          - name: tanh
            op: activations.tanh
            input_shape: [2, 5]
            modes: [eager]
        """
    )
    cases, errors = load_file(path, dtypes=parse_dtypes("float16,mixed_bfloat16"))
    assert errors == []
    assert [c.id.split("::")[1] for c in cases] == ["dense[float16]", "dense[mixed_bfloat16]", "tanh[float16]"]
    only_policy, _ = load_file(path, dtypes=("mixed_float16",))
    assert [c.id.split("::")[1] for c in only_policy] == ["dense[mixed_float16]"]
    with pytest.raises(ValueError, match="unknown dtype.*'float8'"):
        parse_dtypes("float16,float8")


def test_a_stated_tolerance_holds_in_the_dtypes_the_case_states_only(write_catalogue):
    # a tolerance argued from float32's rounding means nothing in bfloat16: there the bound judges
    from conformance.catalogue.loader import load_file

    path = write_catalogue(
        """
        cases:
          - name: offset
            op: LayerNormalization
            input_shape: [2, 8]
            dtype: float32
            tolerance: {atol: 0.1}
            modes: [eager]
          - name: swept
            op: Dense
            input_shape: [2, 5]
            params: {units: 3}
            sweep: {dtype: [float32, float16]}
            tolerance: {rtol: 0.01}
            modes: [eager]
        """
    )
    cases, errors = load_file(path, dtypes=("bfloat16", "float32"))
    assert errors == []
    assert {c.id.split("::")[1]: c.tolerance for c in cases} == {
        "offset[bfloat16]": {}, "offset[float32]": {"atol": 0.1},
        "swept[float32]": {"rtol": 0.01}, "swept[float16]": {"rtol": 0.01}}
    own, _ = load_file(path)
    assert [c.tolerance for c in own] == [{"atol": 0.1}, {"rtol": 0.01}, {"rtol": 0.01}]
