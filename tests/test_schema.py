"""`conformance schema`: the JSON Schema editors complete and check catalogue files with.

It must be current (the committed copy), valid draft 2020-12, pass every shipped catalogue
file, and agree with `conformance validate` on malformed catalogues: both reject what the
schema can state; what it cannot is listed below with the reason, and only the loader
rejects it.
"""
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from catalogue_examples import (
    CASE_MISTAKES, CONV1D_HEAD, DUPLICATE_NAMES, KNOWN_MISTAKES, KNOWN_REGISTRY_IDS, LITERAL_AND_RAGGED_INPUT_VALUES,
    MALFORMED_VALUE_EXPECTING_AN_ERROR, NOT_PLAIN_YAML, ONE_BROKEN_CASE, OVER_MEMORY_BUDGET, SWEEP_TOO_LARGE,
    UNKNOWN_OP_AND_TOP_LEVEL_KEY, UNMODELLED_ARGUMENTS, unmodelled_document,
)
from conformance.catalogue import loader, yaml_lines
from conformance.catalogue.loader import discover, load_file, looks_like_catalogue
from conformance.catalogue.schema import REGENERATE, SCHEMA_FILE, catalogue_schema, schema_text
from conformance.cli import main
from conformance.ops import all_ops

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "cases" / SCHEMA_FILE
SCHEMA = catalogue_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_committed_schema_is_current():
    assert COMMITTED.is_file(), f"cases/{SCHEMA_FILE} is missing; write it with `{REGENERATE}`"
    committed, current = COMMITTED.read_text(encoding="utf-8").splitlines(), schema_text().splitlines()
    if committed != current:  # not a diff of thousands of lines: where it starts, and what to do
        line = next((i for i, (a, b) in enumerate(zip(committed, current)) if a != b), min(len(committed), len(current)))
        pytest.fail(f"cases/{SCHEMA_FILE} is stale from line {line + 1} on (the loader's keys or the op registry "
                    f"changed); regenerate it with `{REGENERATE}` and commit it")


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_command_prints_or_writes_it(tmp_path, capsys):
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()
    out = tmp_path / "sub" / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == schema_text()
    assert str(out) in capsys.readouterr().out


def test_keys_and_op_names_come_from_the_loader_and_the_registry():
    case, defaults = SCHEMA["$defs"]["case"], SCHEMA["$defs"]["defaults"]
    assert list(SCHEMA["properties"]) == list(loader.FILE_KEYS)
    assert list(case["properties"]) == [*loader.CASE_KEYS, "xfail"]  # xfail: only to say what replaced it
    assert case["properties"]["xfail"]["not"] == {}
    assert list(defaults["properties"]) == list(loader.DEFAULTS_KEYS)
    assert case["additionalProperties"] is False and defaults["additionalProperties"] is False
    assert SCHEMA["$defs"]["op_name"]["enum"] == sorted(all_ops())  # by name, whatever the import order
    for key, doc in loader.CASE_KEY_DOCS.items():  # the hover text
        assert case["properties"][key]["description"] == doc


def test_a_key_the_loader_accepts_without_description_or_value_schema_stops_the_generation(monkeypatch):
    monkeypatch.setattr(loader, "CASE_KEYS", (*loader.CASE_KEYS, "retries"))
    with pytest.raises(ValueError, match=r"keys without a description \['retries'\].*value schema in schema.py \['retries'\]"):
        catalogue_schema()
    monkeypatch.setattr(loader, "CASE_KEY_DOCS", {**loader.CASE_KEY_DOCS, "retries": "How often to try."})
    with pytest.raises(ValueError, match=r"keys without a description \[\].*value schema in schema.py \['retries'\]"):
        catalogue_schema()


def test_every_argument_type_states_its_schema_and_both_agree():
    """ParamType.accepts and ParamType.schema judge the same sample values alike, for every
    type an op's argument or call argument has."""
    kinds = {}
    for op in all_ops().values():
        for name, kind in [*op.params.items(), *getattr(op, "call_params", {}).items()]:
            assert kind.schema is not None, f"{op.name}.{name}: its ParamType has no JSON Schema"
            kinds.setdefault(json.dumps(kind.schema, sort_keys=True) + kind.description, kind)
    # no integral float (2.0): JSON Schema calls it an integer, Python's int check does not,
    # and YAML writes 2.0 only on purpose
    samples = [0, 3, -1, 1.5, True, False, None, "same", "$mask", {}, {"class_name": "L2"}, [], [1], [1, 2], [1, 2, 3],
               [1.5], ["a"], [None, 3], [[1, 2]], [[1, 2], [3, 4]], [[0, 1], [1, 0]], [[True, False]], [[2, 0]], [[]],
               [[1, 2, 3]], [[[1, 0]]], [3, [1]]]
    defs = {"$defs": SCHEMA["$defs"]}
    disagreements = [
        (kind.description, value, kind.accepts(value))
        for kind in kinds.values() for value in samples
        if kind.accepts(value) != jsonschema.Draft202012Validator({**kind.schema, **defs}).is_valid(value)
    ]
    assert disagreements == []
    assert len(kinds) >= 10


def test_a_ref_has_no_sibling_keywords():
    """The YAML language server's draft-07 engine drops a `$ref`'s siblings (descriptions too)."""
    def walk(node, path):
        if isinstance(node, dict):
            if "$ref" in node:
                assert set(node) == {"$ref"}, f"{path}: {sorted(node)}"
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(SCHEMA, "#")


def _catalogue_files():
    return discover([ROOT / "cases"])


def test_every_shipped_catalogue_file_passes():
    files = _catalogue_files()
    assert len(files) >= 25
    problems = []
    for path in files:
        data, _ = yaml_lines.load(path.read_text(encoding="utf-8"))
        problems += [f"{path.name}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in VALIDATOR.iter_errors(data)]
    assert problems == []


def test_every_shipped_catalogue_file_names_the_schema_in_its_first_line():
    for path in _catalogue_files():
        assert path.read_text(encoding="utf-8").splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_FILE}", path.name
        assert looks_like_catalogue(path), path.name  # the pytest plugin still collects it


# --- agreement with the loader ------------------------------------------------------------

def _one_case_each(ident: str, text: str) -> list[tuple[str, str]]:
    """A document with several cases as one document per case (`ident[name]`), so that each
    verdict is about one case; a document with one case as it is."""
    data, _ = yaml_lines.load(text)
    if len(data["cases"]) == 1:
        return [(ident, text)]
    return [(f"{ident}[{case['name']}]", yaml.safe_dump({**data, "cases": [case]}, sort_keys=False)) for case in data["cases"]]


# The loader tests' documents, one case each (but for a rule between cases)
LOADER_TEST_DOCUMENTS = [
    *((p.id, CONV1D_HEAD + p.values[0]) for p in CASE_MISTAKES),
    *_one_case_each("one_broken_case", ONE_BROKEN_CASE),
    ("unknown_op_and_top_level_key", UNKNOWN_OP_AND_TOP_LEVEL_KEY),
    ("sweep_too_large", SWEEP_TOO_LARGE),
    ("over_memory_budget", OVER_MEMORY_BUDGET),
    *_one_case_each("known_mistakes", KNOWN_MISTAKES),
    *_one_case_each("input_values", LITERAL_AND_RAGGED_INPUT_VALUES),
    *((f"unmodelled_{i}", unmodelled_document(body)) for i, (body, _) in enumerate(UNMODELLED_ARGUMENTS)),
    *_one_case_each("malformed_value", MALFORMED_VALUE_EXPECTING_AN_ERROR),
    ("duplicate_names", DUPLICATE_NAMES),
]
# ... of which these are well-formed, and the others malformed
WELL_FORMED = {"one_broken_case[good_one]", "one_broken_case[good_two]", "input_values[literal]",
               "malformed_value[filters_of_the_wrong_type_is_rejected]"}
LOADER_TEST_EXAMPLES = [(ident, text, ident not in WELL_FORMED) for ident, text in LOADER_TEST_DOCUMENTS]

# Rules the schema cannot state, with the reason: only the loader rejects these examples.
LOADER_ONLY = {
    "missing_required_argument": "a required argument may come from `defaults` (merged key by key into the case) "
                                 "or the sweep; a case's schema cannot see `defaults`",
    "arguments_the_reference_rejects": "the reference's argument rules (strides > 1 with dilation_rate > 1), code",
    "constant_channel_out_of_range": "arithmetic between keys: a channel index against the input's shape",
    "sweep_too_large": "arithmetic: the product of the swept lists' lengths against the limit",
    "over_memory_budget": "arithmetic: tensor sizes from the reference's output and weight shapes",
    "known_mistakes[typo]": "the id must be an entry of divergences.yaml, another file",
    "input_values[ragged]": "rectangularity: equal lengths at each depth of a nested list",
    "second_input_values_ragged": "rectangularity: equal lengths at each depth of a nested list",
    "unmodelled_0": "what the reference models (its check_modelled), code",
    "unmodelled_1": "what the reference models (its check_modelled), code",
    "unmodelled_2": "what the reference models (its check_modelled), code",
    "duplicate_names": "uniqueness of one key's value across the items of a list (uniqueItems compares whole items)",
}


# Further examples for the rules the schema states (op names from each place a case takes
# its op, value sets, the keys of one kind of op, ...): (id, document, is malformed)
HEAD_ONLY_CASES = "cases:\n"  # no file-level op
SCHEMA_RULE_EXAMPLES = [
    ("valid_conv1d", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    sweep: {strides: {one: 1, two: 2}, padding: [valid, same]}\n    dtype: [float32, float64]\n    modes: [eager, xla]\n", False),
    ("argument_from_defaults", "op: Conv1D\ndefaults:\n  params: {filters: 2}\n  dtype: float64\ncases:\n"
     "  - name: a\n    input_shape: [1, 5, 2]\n    params: {kernel_size: 2}\n", False),
    ("value_sets_anywhere", "values:\n  relus: [activations.relu, activations.relu6]\n  row: [[1.0, -2.0]]\n"
     "  one_case: {name: whole, op: activations.elu, input_shape: [2, 3]}\ncases:\n"
     "  - name: a\n    sweep: {op: {set: relus}}\n    input_values: {set: row}\n  - {set: one_case}\n", False),
    ("ops_of_two_kinds_swept", HEAD_ONLY_CASES + "  - name: a\n    input_shape: [2, 3]\n    sweep: {op: [Dense, activations.relu]}\n", True),
    ("op_given_and_swept", HEAD_ONLY_CASES + "  - name: a\n    op: activations.elu\n    input_shape: [2, 3]\n"
     "    sweep: {op: [activations.relu]}\n", True),
    ("no_op_anywhere", HEAD_ONLY_CASES + "  - name: a\n    input_shape: [2, 3]\n", True),
    ("argument_of_a_case_op", HEAD_ONLY_CASES + "  - name: a\n    op: Dense\n    input_shape: [2, 3]\n    params: {units: 3}\n"
     "  - name: b\n    op: activations.elu\n    input_shape: [2, 3]\n    params: {alpha: 0.5}\n", False),
    ("argument_of_a_case_op_mistyped", HEAD_ONLY_CASES + "  - name: b\n    op: activations.elu\n    input_shape: [2, 3]\n"
     "    params: {alfa: 0.5}\n", True),
    ("argument_of_a_swept_op_mistyped", HEAD_ONLY_CASES + "  - name: b\n    sweep: {op: [activations.elu, activations.relu]}\n"
     "    input_shape: [2, 3]\n    params: {alpha: 0.5}\n", True),
    ("argument_of_the_defaults_op", "op: Conv1D\ndefaults: {op: activations.elu}\ncases:\n  - name: a\n    input_shape: [2, 3]\n"
     "    params: {alpha: 0.5}\n", False),
    ("argument_of_the_defaults_op_mistyped", "op: activations.elu\ndefaults: {op: Conv1D}\ncases:\n  - name: a\n"
     "    input_shape: [1, 5, 2]\n    params: {alpha: 0.5}\n", True),
    ("swept_value_of_the_wrong_type", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {kernel_size: 2}\n"
     "    sweep: {filters: [1, two]}\n", True),
    ("swept_value_of_the_wrong_type_expecting_an_error", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n"
     "    params: {kernel_size: 2}\n    sweep: {filters: [1.5]}\n    expect: {error: Exception}\n", False),
    ("dtype_listed_and_swept", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    dtype: [float32]\n    sweep: {dtype: [float64]}\n", True),
    ("error_and_output_shape", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    expect: {error: ValueError, output_shape: [1, 4, 1]}\n", True),
    ("match_without_error", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    expect: {match: wrong}\n", True),
    ("a_mode_twice", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    modes: [eager, eager]\n", True),
    ("unknown_mode", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    modes: jit\n", True),
    ("known_when_mode", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    known: [{id: stride-two-differs, when: [{mode: [xla, function]}, {dtype: float64}]}]\n", False),
    ("known_when_unknown_mode", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    known: {id: stride-two-differs, when: {mode: jit}}\n", True),
    ("name_with_a_space", CONV1D_HEAD + "  - name: a b\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n", True),
    ("name_in_defaults", "op: Conv1D\ndefaults: {name: x}\ncases:\n  - name: a\n    input_shape: [1, 5, 2]\n"
     "    params: {filters: 1, kernel_size: 2}\n", True),
    ("no_cases", "op: Conv1D\ncases: []\n", True),
    ("values_not_a_mapping", CONV1D_HEAD.replace("cases:", "values: [1]\ncases:") + "  - name: a\n    input_shape: [1, 5, 2]\n"
     "    params: {filters: 1, kernel_size: 2}\n", True),
    ("negative_seed", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    seed: -1\n", True),
    ("tag_not_a_string", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n    tags: [1]\n", True),
    ("calls_above_the_limit", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    calls: 21\n", True),
    ("negative_tolerance", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    tolerance: {rtol: -1.0}\n", True),
    ("negative_input_std", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    input_distribution: {std: -1.0}\n", True),
    ("initializer_key_on_a_layer", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    shape: [3, 3]\n", True),
    ("custom_key_on_a_layer", CONV1D_HEAD + "  - name: a\n    input_shape: [1, 5, 2]\n    params: {filters: 1, kernel_size: 2}\n"
     "    custom: objects.py:Mine\n", True),
    ("inputs_and_input_shape", "op: Dense\ncases:\n  - name: a\n    input_shape: [2, 3]\n    inputs: {x: {shape: [2, 3]}}\n"
     "    params: {units: 2}\n", True),
    ("input_values_and_input_shape", "op: Dense\ncases:\n  - name: a\n    input_shape: [2, 3]\n    input_values: [[1.0, 2.0]]\n"
     "    params: {units: 2}\n", True),
    ("integer_input_without_range", "op: Embedding\ncases:\n  - name: a\n    inputs: {x: {shape: [2, 3], dtype: int32}}\n"
     "    params: {input_dim: 5, output_dim: 2}\n", True),
    ("input_shape_and_values", "op: Embedding\ncases:\n  - name: a\n    inputs: {x: {shape: [2], values: [1, 2], dtype: int32, range: [0, 5]}}\n"
     "    params: {input_dim: 5, output_dim: 2}\n", True),
    ("input_the_op_does_not_take", "op: Attention\ncases:\n  - name: a\n    inputs: {query: {shape: [2, 4, 6]}, value: {shape: [2, 5, 6]}, "
     "keys: {shape: [2, 5, 6]}}\n", True),
    ("required_input_missing", "op: Attention\ncases:\n  - name: a\n    inputs: {query: {shape: [2, 4, 6]}}\n", True),
    ("input_probability_above_one", "op: Softmax\ncases:\n  - name: a\n    input_shape: [2, 3]\n"
     "    inputs: {m: {shape: [2, 3], dtype: bool, p: 2}}\n    call: {mask: $m}\n", True),
    ("call_mask_as_input_reference", "op: Softmax\ncases:\n  - name: a\n    inputs: {x: {shape: [2, 3]}, m: {shape: [2, 3], dtype: bool, p: 0.5}}\n"
     "    call: {mask: $m}\n", False),
    ("call_mask_literal", "op: GlobalAveragePooling1D\ncases:\n  - name: a\n    input_shape: [2, 3, 4]\n"
     "    call: {mask: [[1, 0, 1], [true, true, false]]}\n", False),
    ("call_mask_of_the_wrong_type", "op: GlobalAveragePooling1D\ncases:\n  - name: a\n    input_shape: [2, 3, 4]\n"
     "    call: {mask: [[2, 0, 1]]}\n", True),
    ("initializer_with_shape_and_kernel_of", "op: initializers.HeNormal\ncases:\n  - name: a\n    shape: [3, 3]\n"
     "    kernel_of: {op: Dense, params: {units: 3}, input_shape: [2, 3]}\n", True),
    ("kernel_of_not_a_layer", "op: initializers.HeNormal\ncases:\n  - name: a\n"
     "    kernel_of: {op: activations.relu, input_shape: [2, 3]}\n", True),
    ("initializer_kernel_of_swept", "op: initializers.HeNormal\ncases:\n  - name: a\n    via_layer: true\n"
     "    sweep: {kernel_of: {dense: {op: Dense, params: {units: 3}, input_shape: [2, 3]}}}\n", False),
    ("via_layer_not_a_boolean", "op: initializers.HeNormal\ncases:\n  - name: a\n    via_layer: 'yes'\n"
     "    kernel_of: {op: Dense, params: {units: 3}, input_shape: [2, 3]}\n", True),
]


def _verdicts(text: str, folder: Path) -> tuple[bool, bool]:
    """(the loader rejects the document, the schema rejects it)."""
    path = folder / "example.yaml"
    path.write_text(text, encoding="utf-8")
    data, _ = yaml_lines.load(text)
    return bool(load_file(path)[1]), not VALIDATOR.is_valid(data)


@pytest.fixture
def folder(tmp_path, write_registry):
    write_registry(*KNOWN_REGISTRY_IDS)
    return tmp_path


@pytest.mark.parametrize("ident, text, malformed", [pytest.param(*e, id=e[0]) for e in LOADER_TEST_EXAMPLES + SCHEMA_RULE_EXAMPLES])
def test_the_schema_and_the_loader_agree(folder, ident, text, malformed):
    loader_rejects, schema_rejects = _verdicts(text, folder)
    assert loader_rejects == malformed, load_file(folder / "example.yaml")[1]
    if ident in LOADER_ONLY:
        assert not schema_rejects, f"the schema now states this rule ({LOADER_ONLY[ident]}): take it off LOADER_ONLY"
    else:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in VALIDATOR.iter_errors(yaml_lines.load(text)[0])]
        assert schema_rejects == malformed, errors


def test_every_rule_listed_as_the_loaders_alone_has_an_example():
    assert set(WELL_FORMED) <= {ident for ident, _ in LOADER_TEST_DOCUMENTS}
    examples = {ident for ident, _, _ in LOADER_TEST_EXAMPLES + SCHEMA_RULE_EXAMPLES}
    assert set(LOADER_ONLY) <= examples


@pytest.mark.parametrize("ident", NOT_PLAIN_YAML)
def test_documents_that_are_not_plain_yaml_never_reach_the_schema(folder, ident):
    """Before any schema: the YAML parser refuses these (in an editor too)."""
    path = folder / "example.yaml"
    path.write_text(NOT_PLAIN_YAML[ident], encoding="utf-8")
    assert load_file(path)[1]
    with pytest.raises(yaml_lines.YamlError):
        yaml_lines.load(NOT_PLAIN_YAML[ident])


def test_new_writes_the_modeline_at_the_top_of_a_file_it_creates(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / SCHEMA_FILE).write_text(schema_text(), encoding="utf-8")
    assert main(["new", "Dense", "--name", "a"]) == 0
    assert main(["new", "Dense", "--name", "b", "--file", "more/deeper/dense.yaml"]) == 0
    assert (tmp_path / "cases" / "dense.yaml").read_text().startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}\nop: Dense\n")
    assert (tmp_path / "more" / "deeper" / "dense.yaml").read_text().startswith(
        f"# yaml-language-server: $schema=../../cases/{SCHEMA_FILE}\nop: Dense\n")
    # a file appended to keeps its head as its author wrote it
    (tmp_path / "cases" / "mine.yaml").write_text("op: ReLU\ncases:\n  - name: a\n    input_shape: [2, 3]\n")
    assert main(["new", "ReLU", "--name", "b"]) == 0
    assert (tmp_path / "cases" / "mine.yaml").read_text().startswith("op: ReLU\ncases:\n  - name: a\n")
    # a catalogue folder without the schema gets no line pointing at nothing
    (tmp_path / "cases" / SCHEMA_FILE).unlink()
    assert main(["new", "ELU", "--name", "a"]) == 0
    assert (tmp_path / "cases" / "elu.yaml").read_text().startswith("op: ELU\n")
    capsys.readouterr()
    for path in (tmp_path / "cases" / "dense.yaml", tmp_path / "more" / "deeper" / "dense.yaml", tmp_path / "cases" / "elu.yaml"):
        assert looks_like_catalogue(path) and load_file(path)[1] == []
