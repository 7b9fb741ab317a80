"""The final greedy pass after Hypothesis's shrinking: simplify a diverging spec while the
same divergence persists, until nothing more can go.

Each pass tries, on the current spec: leaving out each optional argument (back to its default), each call
argument, the input distribution,
the seed and literal edge values (replaced by generated inputs of the same shape); then each
size (every input dimension, and every integer argument that has a lower bound: filters,
kernel sizes, pool sizes...) at its smallest, halfway there, and one less. Whatever keeps
the divergence is kept. Passes repeat until one changes nothing, so the result is minimal in
the sense the tests check: no argument can be left out and no size reduced by one without
losing the divergence.
"""
from __future__ import annotations

import copy
import json

import numpy as np

from conformance.ops import get_op


def greedy(spec: dict, still_diverges, max_tries: int = 400) -> tuple[dict, int]:
    """(the simplest spec found, how many candidates were run). `still_diverges(spec)` runs
    a candidate and says whether it shows the same divergence (False for a refused one)."""
    seen: dict[str, bool] = {}
    tries = 0

    def keeps(candidate) -> bool:
        nonlocal tries
        key = json.dumps(candidate, sort_keys=True, default=str)
        if key not in seen:
            tries += 1
            seen[key] = bool(still_diverges(candidate))
        return seen[key]

    changed = True
    while changed and tries < max_tries:
        changed = False
        for simplify in _simplifications(spec):
            candidate = simplify(spec)
            if candidate is None or candidate == spec:
                continue
            if keeps(candidate):
                spec, changed = candidate, True
            if tries >= max_tries:
                break
    return spec, tries


def _simplifications(spec: dict):
    """Functions spec -> simpler spec (or None), each computed from the spec it is given,
    so that a pass goes on from whatever the previous step kept."""
    op = get_op(spec["op"])
    for key in list(spec.get("params", {})):
        yield lambda s, key=key: _without_param(s, key, op)
    for key in list(spec.get("call", {})):
        yield lambda s, key=key: _without(s, ("call", key))
    for key in ("input_distribution", "seed"):
        if key in spec:
            yield lambda s, key=key: _without(s, (key,))
    if "input_values" in spec:
        yield _generated_inputs
    for path in _size_paths(spec, op):
        for step in ("smallest", "half", "one_less"):
            yield lambda s, path=path, step=step: _smaller(s, path, step, op)


def _without(spec, path):
    out = copy.deepcopy(spec)
    parent = out
    for key in path[:-1]:
        parent = parent.get(key, {})
    if path[-1] not in parent:
        return None
    del parent[path[-1]]
    if len(path) > 1 and not parent:
        del out[path[0]]
    return out


def _without_param(spec, key, op):
    """The spec without argument `key` (its default). A required argument cannot go; its
    sizes are reduced like any other."""
    if key in op.required or key not in spec.get("params", {}):
        return None
    return _without(spec, ("params", key))


def _generated_inputs(spec):
    if "input_values" not in spec:
        return None
    out = copy.deepcopy(spec)
    out["input_shape"] = list(np.shape(out.pop("input_values")))
    return out


def _size_paths(spec, op) -> list[tuple]:
    """Paths of the sizes a pass tries to reduce: input dimensions, then integer arguments
    with a lower bound (every integer of a list argument too)."""
    paths = []
    if "input_shape" in spec:
        paths += [("input_shape", i) for i in range(len(spec["input_shape"]))]
    if "shape" in spec:
        paths += [("shape", i) for i in range(len(spec["shape"]))]
    if "input_values" in spec:
        paths += [("input_values", i) for i in range(np.ndim(spec["input_values"]))]
    for name, given in (spec.get("inputs") or {}).items():
        if "shape" in given:
            paths += [("inputs", name, "shape", i) for i in range(len(given["shape"]))]
    for key, value in (spec.get("params") or {}).items():
        kind = op.params.get(key)
        if kind is None or kind.minimum is None:
            continue
        paths += [("params", key, *index) for index in _int_positions(value)]
    return paths


def _int_positions(value, prefix=()):
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [prefix]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _int_positions(v, prefix + (i,))]
    return []


def _smaller(spec, path, step, op):
    if path[0] == "input_values":
        if "input_values" not in spec:
            return None
        values = np.asarray(spec["input_values"], dtype=np.float64)
        axis = path[1]
        if axis >= values.ndim:
            return None
        n = values.shape[axis]
        size = _reduced(n, 1, step)
        if size is None:
            return None
        out = copy.deepcopy(spec)
        out["input_values"] = np.take(values, range(size), axis=axis).tolist()
        return out
    out = copy.deepcopy(spec)
    parent = out
    for key in path[:-1]:
        if isinstance(parent, dict) and key not in parent or isinstance(parent, list) and key >= len(parent):
            return None
        parent = parent[key]
    last = path[-1]
    if isinstance(parent, dict) and last not in parent or isinstance(parent, list) and last >= len(parent):
        return None
    value = parent[last]
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    minimum = 1 if path[0] != "params" else int(np.ceil(op.params[path[1]].minimum + (1e-9 if op.params[path[1]].exclusive_minimum else 0)))
    size = _reduced(value, minimum, step)
    if size is None:
        return None
    parent[last] = size
    return out


def _reduced(value: int, minimum: int, step: str):
    target = {"smallest": minimum, "half": (minimum + value) // 2, "one_less": value - 1}[step]
    return target if minimum <= target < value else None
