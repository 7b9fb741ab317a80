"""`conformance coverage`: per Keras namespace, how many public classes (functions, for
activations) the installed Keras has and how many the catalogue exercises, computed from
the installed package and the loaded cases, never written by hand.

A Keras name is exercised when some case's op stands for it (a layer op's `keras_class`, an
initializer's, or an op named `<namespace>.<Name>`: activations.relu, losses.Huber,
metrics.AUC, optimizers.Adam), or when a case's arguments build it (`{class_name: LSTMCell,
config}` as RNN's cell, a wrapped layer, a learning-rate schedule). Aliases (Convolution2D for Conv2D) count with the object they
name: a namespace is counted in distinct objects, and each lists the names it goes by.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

# namespace -> the base class its public members derive from (None: functions, for activations)
NAMESPACES = {
    "layers": "Layer",
    "activations": None,
    "initializers": "Initializer",
    "regularizers": "Regularizer",
    "constraints": "Constraint",
    "losses": "Loss",
    "metrics": "Metric",
    "optimizers": "Optimizer",
}
HELPERS = {"get", "serialize", "deserialize"}  # lookup functions, not members


@dataclass
class Namespace:
    name: str
    members: dict = field(default_factory=dict)  # object id -> sorted names it goes by
    exercised: set = field(default_factory=set)  # object ids some case exercises

    @property
    def missing(self) -> list[str]:
        return sorted(names[0] for key, names in self.members.items() if key not in self.exercised)

    def row(self) -> dict:
        return {"namespace": self.name, "public": len(self.members), "exercised": len(self.exercised),
                "missing": self.missing}


def public_members(keras, namespace: str) -> dict:
    """id(object) -> the public names of `keras.<namespace>` that name it: its classes derived
    from the namespace's base (the base itself is abstract and left out), or its functions."""
    module = getattr(keras, namespace)
    base_name = NAMESPACES[namespace]
    base = getattr(module, base_name, None) if base_name else None
    if base is None and base_name == "Layer":
        base = keras.layers.Layer
    out: dict[int, list[str]] = {}
    for name in dir(module):
        if name.startswith("_") or name in HELPERS:
            continue
        obj = getattr(module, name)
        if base_name is None:
            keep = inspect.isfunction(obj) or (callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj))
        else:
            keep = inspect.isclass(obj) and base is not None and issubclass(obj, base) and obj is not base
        if keep:
            out.setdefault(id(obj), []).append(name)
    return {key: sorted(names) for key, names in out.items()}


def keras_name(op) -> tuple[str, str] | None:
    """(namespace, name) of the Keras object a built-in op stands for, or None (a user's object).
    Ops are named `<namespace>.<Name>`, but layers, which go by their class (`keras_class`)."""
    if op.family == "custom":
        return None
    namespace, dot, name = op.name.partition(".")
    if dot:
        return (namespace, getattr(op, "keras_class", "") or name) if namespace in NAMESPACES else None
    return ("layers", getattr(op, "keras_class", "") or op.name)


def coverage(keras, cases, ops) -> list[dict]:
    """One row per namespace: public members, exercised, and the names of those missing."""
    spaces = {n: Namespace(n, public_members(keras, n)) for n in NAMESPACES if hasattr(keras, n)}
    named = {keras_name(ops[name]) for name in {c.op for c in cases} if name in ops}
    # a class a case builds from its arguments ({class_name: LSTMCell, config}: RNN's cell, a
    # wrapped layer, a schedule) is exercised too
    named |= {(namespace, class_name) for c in cases for class_name in _class_names(c.params) for namespace in spaces}
    for where in named:
        if where is None or where[0] not in spaces:
            continue
        obj = getattr(getattr(keras, where[0]), where[1], None)
        if obj is not None and id(obj) in spaces[where[0]].members:
            spaces[where[0]].exercised.add(id(obj))
    return [space.row() for space in spaces.values()]


def _class_names(value):
    """Every `class_name` in a case's arguments, at any depth."""
    if isinstance(value, dict):
        if isinstance(value.get("class_name"), str):
            yield value["class_name"]
        for v in value.values():
            yield from _class_names(v)
    elif isinstance(value, list):
        for v in value:
            yield from _class_names(v)


def markdown(rows, target: str, version: str | None) -> str:
    lines = [f"| namespace ({target} {version or ''}) | public | exercised | not yet in the catalogue |".replace(" )", ")"),
             "|---|---:|---:|---|"]
    for row in rows:
        missing = ", ".join(row["missing"]) or "–"
        lines.append(f"| `{row['namespace']}` | {row['public']} | {row['exercised']} | {missing} |")
    total_public = sum(r["public"] for r in rows)
    total = sum(r["exercised"] for r in rows)
    lines.append(f"| all | {total_public} | {total} | |")
    return "\n".join(lines)
