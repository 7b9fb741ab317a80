"""`conformance new`: the template lands in the file that holds the op's cases (or a new file
named as the catalogue's files are), and the harness's own numeric warnings stay quiet."""
import shutil
import textwrap
import warnings
from pathlib import Path

import pytest

from conformance.catalogue import yaml_lines
from conformance.catalogue.loader import discover, load_file, load_paths
from conformance.catalogue.template import file_stem
from conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "cases"


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    """A copy of the shipped catalogue as ./cases of a fresh working folder."""
    shutil.copytree(SHIPPED, tmp_path / "cases", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cases"


def _texts(folder: Path) -> dict:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def _homes(folder: Path) -> dict:
    """op -> the files holding its cases, read with the loader from every file (no pre-filter):
    files whose top-level op is the op first, then by how many case entries use it, then name."""
    scores: dict = {}
    for path in discover([folder]):
        data, _ = yaml_lines.load(path.read_text(encoding="utf-8"))
        cases, errors = load_file(path)
        assert errors == []
        entries: dict = {}
        for case in cases:
            entries.setdefault(case.op, set()).add(case.name)
        for op, names in entries.items():
            scores.setdefault(op, []).append((data.get("op") != op, -len(names), path.name))
    return {op: [name for *_, name in sorted(s)] for op, s in scores.items()}


def _remember_loads(monkeypatch):
    """`conformance new` loads every file that may hold the op (and the file it wrote, to
    validate it); over 300 ops that is the same unchanged files again and again. The loader's
    answer depends only on the file's path and text (and the folder's registry and value sets,
    which this test leaves alone), so the test remembers it by both."""
    from conformance.catalogue import template

    remembered = {}

    def load_file(path):
        key = (Path(path).resolve(), Path(path).read_text(encoding="utf-8"))
        if key not in remembered:
            remembered[key] = original(path)
        return remembered[key]

    original = template.load_file
    monkeypatch.setattr(template, "load_file", load_file)


def test_every_op_lands_in_the_file_that_holds_its_cases(catalogue, capsys, monkeypatch):
    from conformance.ops import all_ops

    homes = _homes(catalogue)
    _remember_loads(monkeypatch)
    misplaced, wanted = [], {}
    # custom ops name the user's own files, which a template cannot provide
    ops = sorted(n for n in all_ops() if not n.startswith("custom."))
    for index, op in enumerate(ops):
        name = f"probe_case_{index}"
        expected = homes[op][0] if op in homes else f"{file_stem(op)}.yaml"
        wanted[name] = (f"cases/{expected}", op)
        before = _texts(catalogue)
        assert main(["new", op, "--name", name]) == 0, capsys.readouterr().err
        first = capsys.readouterr().out.splitlines()[0]
        after = _texts(catalogue)
        changed = sorted(f for f in after if after[f] != before.get(f))
        if changed != [expected] or f"cases/{expected} (" not in first:
            misplaced.append(f"{op}: expected {expected}, changed {changed}: {first}")
        if op in homes and len(homes[op]) > 1:  # the message names the other files too
            assert all(f"cases/{other}" in first for other in homes[op][1:]), first
    assert misplaced == []
    # the whole catalogue still validates, and each template is a case of its op in its file
    cases, errors = load_paths(["cases"])
    assert [str(e) for e in errors] == []
    assert {c.name: (c.file, c.op) for c in cases if c.name.startswith("probe_case_")} == wanted


def test_hand_computed_homes(catalogue, capsys):
    expected = {
        "Conv2D": "conv2d.yaml",  # also used in article_examples.yaml and regularizers.yaml
        "Conv1DTranspose": "conv1d_transpose.yaml",
        "DepthwiseConv2D": "depthwise_conv2d.yaml",  # also in regularizers.yaml
        "MaxPooling3D": "pooling_window.yaml",  # a family file, with `op:` per case
        "activations.relu": "activations.yaml",  # swept `op` there
    }
    for op, file in expected.items():
        assert main(["new", op, "--name", "probe_case"]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        assert first.startswith(f"appended to cases/{file} ("), first
    said = (main(["new", "Conv2D", "--name", "probe_2"]), capsys.readouterr().out)[1]
    assert "its top-level op is Conv2D; Conv2D also has cases in " in said
    assert all(f"cases/{other}" in said.splitlines()[0] for other in
               ("training.yaml", "article_examples.yaml", "regularizers.yaml", "reduced_precision.yaml"))
    window = load_file(catalogue / "pooling_window.yaml")[0]
    assert {c.op for c in window if c.name == "probe_case"} == {"MaxPooling3D"}

    # an op with no cases yet: a new file named by the rule
    assert main(["new", "regularizers.orthogonal_regularizer", "--name", "probe_case"]) == 0
    assert capsys.readouterr().out.startswith("created cases/regularizers_orthogonal_regularizer.yaml (no file in cases/ holds")
    # an op whose only file is gone: the file comes back under its old name
    (catalogue / "conv3d_transpose.yaml").unlink()
    assert main(["new", "Conv3DTranspose", "--name", "probe_case"]) == 0
    assert capsys.readouterr().out.startswith("created cases/conv3d_transpose.yaml")
    assert load_file(catalogue / "conv3d_transpose.yaml")[0][0].op == "Conv3DTranspose"
    # --file still decides
    assert main(["new", "Conv2D", "--name", "probe_case", "--file", "mine/x.yaml"]) == 0
    assert capsys.readouterr().out.startswith("created mine/x.yaml (--file)")
    _, errors = load_paths([catalogue, "mine"])
    assert [str(e) for e in errors] == []


def test_the_naming_rule_reproduces_every_single_op_file_name():
    named = 0
    for path in discover([SHIPPED]):
        data, _ = yaml_lines.load(path.read_text(encoding="utf-8"))
        if data.get("op"):
            assert f"{file_stem(data['op'])}.yaml" == path.name
            named += 1
    assert named >= 11
    # as Keras names a layer by default (keras.src.utils.naming.to_snake_case)
    assert {n: file_stem(n) for n in ("MaxPooling3D", "GlobalAveragePooling2D", "UpSampling2D", "SimpleRNN",
                                       "RMSNormalization", "LeakyReLU", "GRU", "initializers.HeNormal", "activations.relu6")} == {
        "MaxPooling3D": "max_pooling3d", "GlobalAveragePooling2D": "global_average_pooling2d", "UpSampling2D": "up_sampling2d",
        "SimpleRNN": "simple_rnn", "RMSNormalization": "rms_normalization", "LeakyReLU": "leaky_re_lu", "GRU": "gru",
        "initializers.HeNormal": "initializers_he_normal", "activations.relu6": "activations_relu6",
    }


def test_an_op_named_only_through_a_value_set_or_a_sweep_is_found(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "values.yaml").write_text("values:\n  pools: [MaxPooling1D, AveragePooling1D]\n")
    # `cases:` is not the last key, and its items sit at column 0
    (tmp_path / "cases" / "pools.yaml").write_text(textwrap.dedent("""\
        cases:
        - name: both
          sweep: {op: {set: pools}}
          input_shape: [2, 8, 3]
          params: {pool_size: 2}

        # the file's own values
        values:
          unused: 1
        """))
    (tmp_path / "cases" / "dense.yaml").write_text("cases:\n  - name: d\n    sweep: {op: [Dense]}\n    input_shape: [2, 3]\n    params: {units: 2}\n")
    assert main(["new", "AveragePooling1D", "--name", "probe_case"]) == 0
    assert capsys.readouterr().out.startswith("appended to cases/pools.yaml (it holds the AveragePooling1D cases)")
    assert main(["new", "Dense", "--name", "probe_case"]) == 0
    assert capsys.readouterr().out.startswith("appended to cases/dense.yaml")
    cases, errors = load_paths(["cases"])
    assert errors == []
    assert {(c.file, c.op) for c in cases if c.name == "probe_case"} == {("cases/pools.yaml", "AveragePooling1D"), ("cases/dense.yaml", "Dense")}
    assert (tmp_path / "cases" / "pools.yaml").read_text().endswith("values:\n  unused: 1\n")


EDGE_CASES = """
values:
  edges: [[0.0, -0.0, 1.0e-45, 88.0, 89.0, 3.0e38, 1.0e39, -1.0e39, .inf, -.inf, .nan, -2.0]]
cases:
  - name: functions
    sweep: {op: [activations.elu, activations.softplus, activations.exponential, activations.squareplus,
                 activations.gelu, activations.mish, activations.softmax, activations.sparsemax]}
    input_values: {set: edges}
    modes: [eager]
  - name: layers
    sweep: {op: [Softmax, LayerNormalization, UnitNormalization, RMSNormalization]}
    input_values: [{set: edges}]
    modes: [eager]
  - name: dense
    op: Dense
    params: {units: 3}
    input_values: {set: edges}
    modes: [eager]
"""


def test_edge_values_raise_no_numeric_warning_from_the_harness(write_catalogue):
    """1e39 overflows float32, inf - inf is NaN: expected by the harness and the reference, so
    they must not warn; tf.keras's own warnings may stay."""
    from conformance.runner.execute import run_case

    cases, errors = load_file(write_catalogue(EDGE_CASES))
    assert errors == [] and cases
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = [run_case(case) for case in cases]
    assert all(r.status != "error" for r in records), [r.message for r in records if r.status == "error"]
    ours = [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
            if issubclass(w.category, RuntimeWarning)
            and Path(w.filename).resolve().is_relative_to(ROOT)
            and Path(w.filename).resolve().relative_to(ROOT).parts[0] in ("conformance", "reference_impl")]
    assert ours == []
