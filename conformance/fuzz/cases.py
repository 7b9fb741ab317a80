"""A drawn spec as a catalogue case: written as YAML and read back through the loader, so a
fuzzed case passes the same validation a hand-written one does (types, constraints, the
reference's shape rules, the memory budget), and the case the fuzzer runs is exactly the
case its output file holds.

A spec whose arguments the documented semantics reject becomes a case that expects the
reference's exception (`expect: {error: ValueError}`): the invalid half of the search, where
the divergence is tf.keras accepting what its documentation rejects.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from conformance.catalogue import yaml_lines
from conformance.catalogue.loader import _load_document, display_path
from conformance.catalogue.model import input_shapes
from conformance.ops import FunctionOp, InitializerOp, LayerOp, get_op

# The spec's keys in the order a person writes a case.
KEY_ORDER = ("name", "op", "input_shape", "input_values", "inputs", "shape", "params", "call", "dtype", "modes",
             "seed", "input_distribution", "expect", "known", "description")


class Refused(Exception):
    """The loader refuses the spec (a message naming the key), even as an expected error."""


def ordered(spec: dict) -> dict:
    return {k: spec[k] for k in sorted(spec, key=lambda k: KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER))}


# libyaml's emitter writes the same text as PyYAML's about five times faster; the fuzzer writes
# every example it draws (several a second), so this is a good part of its time.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def case_yaml(spec: dict) -> str:
    """One case as a YAML list item (flow style for the small values, as the catalogue writes them)."""
    return yaml.dump([ordered(spec)], Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=110,
                     allow_unicode=True)


def load_case(spec: dict, file: Path):
    """The Case the loader makes of `spec` as the only case of a catalogue file at `file`
    (its folder's values.yaml and divergences.yaml apply, as for any file there).
    Raises Refused."""
    text = "cases:\n" + case_yaml(spec)
    data, lines = yaml_lines.load(text)
    cases, errors = _load_document(data, lines, display_path(file), Path(file))
    if errors:
        raise Refused("; ".join(f"{e.key}: {e.message}" for e in errors))
    if len(cases) != 1:
        raise Refused(f"the spec expands to {len(cases)} cases, not one (give one mode)")
    return cases[0]


def to_case(spec: dict, file: Path):
    """(spec as run, Case). A spec the reference rejects gets `expect: {error: TYPE}` with
    the type the reference raises; a spec refused even so raises Refused."""
    try:
        return spec, load_case(spec, file)
    except Refused as first:
        if "expect" in spec or "does not model" in str(first):
            raise
        loose = {**spec, "expect": {"error": "Exception"}}
        try:
            case = load_case(loose, file)
        except Refused:
            raise first from None
        raised = reference_rejection(case)
        if raised is None:  # the type rule refuses it, yet the reference computes: nothing to judge
            raise first from None
        exact = {**spec, "expect": {"error": raised}}
        return exact, load_case(exact, file)


def reference_rejection(case) -> str | None:
    """The exception the reference raises for this case's arguments (by a dry run of its
    shape rules, or of the computation on a small input), or None if it accepts them."""
    op = get_op(case.op)
    try:
        if isinstance(op, LayerOp):
            shapes = input_shapes(op, case)
            op.predict_weights(case.params, shapes)
            op.predict_output(case.params, shapes)
        elif isinstance(op, InitializerOp):
            op.distribution(case.params, case.input_shape)
        elif isinstance(op, FunctionOp):
            x = np.asarray(case.input_values, dtype=np.float64) if case.input_values is not None else np.full(case.input_shape, 0.25)
            op.compute(x, case.params)
        else:
            return None
    except NotImplementedError:
        return None
    except (ValueError, TypeError) as exc:
        return type(exc).__name__
    return None
