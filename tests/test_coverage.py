"""`conformance coverage`: counted from the installed Keras and the catalogue, aliases once."""
import types

from conformance.coverage import coverage, keras_name, markdown
from conformance.ops import all_ops


class Layer: ...
class Conv2D(Layer): ...
class Dense(Layer): ...
class Loss: ...
class Huber(Loss): ...
class Poisson(Loss): ...


def relu(x): ...
def gelu(x): ...


FAKE = types.SimpleNamespace(
    layers=types.SimpleNamespace(Layer=Layer, Conv2D=Conv2D, Convolution2D=Conv2D, Dense=Dense, InputSpec=object),
    activations=types.SimpleNamespace(relu=relu, gelu=gelu, get=lambda name: None, serialize=lambda f: None),
    losses=types.SimpleNamespace(Loss=Loss, Huber=Huber, Poisson=Poisson, huber=lambda a, b: 0),
)


def test_counts_distinct_objects_and_names_the_missing():
    ops = all_ops()
    cases = [types.SimpleNamespace(op=name, params={}) for name in ("Conv2D", "activations.relu", "losses.Huber", "Conv2D")]
    rows = {r["namespace"]: r for r in coverage(FAKE, cases, ops)}
    # Conv2D and its alias Convolution2D are one class; the abstract Layer and a non-layer are not counted
    assert rows["layers"] == {"namespace": "layers", "public": 2, "exercised": 1, "missing": ["Dense"]}
    assert rows["activations"] == {"namespace": "activations", "public": 2, "exercised": 1, "missing": ["gelu"]}
    assert rows["losses"] == {"namespace": "losses", "public": 2, "exercised": 1, "missing": ["Poisson"]}
    assert set(rows) == {"layers", "activations", "losses"}  # namespaces the Keras lacks are left out
    # a class a case's arguments build counts too (RNN's cell, a wrapped layer)
    wrapped = types.SimpleNamespace(op="TimeDistributed", params={"layer": {"class_name": "Dense", "config": {"units": 2}}})
    assert {r["namespace"]: r for r in coverage(FAKE, [*cases, wrapped], ops)}["layers"]["missing"] == []
    table = markdown(list(rows.values()), "tf.keras", "3.15.1")
    assert "| `layers` | 2 | 1 | Dense |" in table and "| all | 6 | 3 | |" in table


def test_ops_map_onto_keras_names():
    ops = all_ops()
    assert keras_name(ops["Conv2D"]) == ("layers", "Conv2D")
    assert keras_name(ops["initializers.GlorotUniform"]) == ("initializers", "GlorotUniform")
    assert keras_name(ops["losses.mse"]) == ("losses", "mse")
    assert keras_name(ops["custom.regularizer"]) is None


def test_the_readme_table_is_what_the_command_prints(capsys):
    """The README's coverage table is `conformance coverage`'s output, not a hand-written copy."""
    from pathlib import Path

    from conformance.cli import main

    root = Path(__file__).resolve().parents[1]
    assert main(["coverage", str(root / "cases")]) == 0
    printed = capsys.readouterr().out
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- coverage:start")
    table = readme[readme.index("\n", start) + 1:readme.index("<!-- coverage:end -->")]
    assert table == printed, "README coverage table is stale: paste the output of `conformance coverage`"
