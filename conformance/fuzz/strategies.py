"""Hypothesis strategies for one op: catalogue cases (as a user would write them) drawn from
the op's typed arguments (conformance.ops.params) and from the shapes of its example.

A drawn example is a *spec*: the mapping of one catalogue case (`params`, `input_shape` or
`input_values` or `inputs` or `shape`, `dtype`, `modes`, `seed`, `input_distribution`,
`call`). conformance.fuzz.cases turns it into a Case through the loader, so it is always a
case someone could have written.

How the pieces are drawn, and why:
- every argument is first "left out" (its default), then the op's example value, then a
  value from its type: Hypothesis shrinks towards the first branch, so a shrunk case keeps
  only the arguments its divergence needs;
- a value from a type keeps to the declared range and choices, except now and then a value
  just outside them (an invalid combination, which the case then expects to be rejected);
- input sizes follow the op's example: each distinct size of the example is a symbol that
  gets one new size, so sizes the example keeps equal stay equal (a merge's inputs, a
  batch), and a size is often taken from the integers in the drawn arguments (the number of
  filters, a kernel size, or the size whose 'valid' output has as many entries as there
  are filters), because bugs hide where a spatial size equals the channels;
- small inputs are sometimes literal values with edge numbers (signed zeros, a subnormal,
  the float32 overflow of exp, infinities, NaN).
"""
from __future__ import annotations

import functools
import json
import math

from hypothesis import strategies as st

from conformance.ops import CustomOp, FunctionOp, InitializerOp, LayerOp

# Arguments whose values do not change what is computed (names, initializers, seeds of
# unseeded paths) or that the strategies cannot form (open strings, objects): left to their
# default unless the op requires them, in which case the example's value is used.
NOT_FUZZED = ("name", "weights", "trainable")
# Regularizers by names both Keras's `regularizers.get` and the reference know, for the
# *_regularizer arguments (judged through layer.losses). Not "l1_l2": in Keras 3.15 that is a
# function of keras.regularizers but no identifier `get` interprets (it knows "l1l2").
REGULARIZERS = ("l1", "l2", "L1L2")
# Sizes: small, so an example runs in milliseconds, with both parities; integer arguments
# (kernel and pool sizes, filters) a little smaller than input sizes, so that most windows fit.
MAX_SIZE = 12
MAX_ARGUMENT = 6
MAX_ELEMENTS = 4096
# Literal inputs with edge numbers only up to this many elements (the YAML stays readable).
MAX_LITERAL = 48
EDGE_VALUES = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-45, 1e-8, 88.0, 89.0, -104.0, 1e30, -1e30,
               math.inf, -math.inf, math.nan)
NUMBER_EDGES = (0.0, 1.0, 0.5, 2.0, -1.0, 1e-7, 0.1, 3.0, 10.0)
# One in KEEP_INVALID specs that the reference rejects is run as an expected error; the
# others are drawn again, so that most of the budget goes to valid combinations.
KEEP_INVALID = 4
KEEP_INVALID_KEY = "_keep_invalid"
# One in INVALID_ODDS drawn values leaves the declared range or choices on purpose.
INVALID_ODDS = 25


def fuzzable_ops(ops) -> list:
    """The ops the fuzzer can draw cases for: every op but the custom ones, whose arguments
    and reference are the user's own (a fuzzer cannot know them)."""
    return [op for op in ops if not isinstance(op, CustomOp) and not op.open_params]


def _example_value(op, name):
    return (op.example.get("params") or {}).get(name)


def _generatable(schema) -> bool:
    """Can a value other than null be drawn from this JSON Schema? (open strings and
    objects cannot: an initializer's identifier, a layer's name)"""
    if not isinstance(schema, dict) or not schema:
        return False
    if "enum" in schema:
        return True
    if "anyOf" in schema:
        return any(_generatable(s) for s in schema["anyOf"])
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if "pattern" in schema:  # a case-insensitive spelling of an enum beside it
        return False
    return any(t in ("integer", "number", "boolean") for t in types) or (
        "array" in types and _generatable(schema.get("items", {})))


@functools.lru_cache(maxsize=None)
def _value_strategy(schema_json: str, invalid: bool) -> st.SearchStrategy:
    """_from_schema, built once per schema (building strategies costs more than drawing)."""
    return _from_schema(json.loads(schema_json), invalid)


def _from_schema(schema, invalid: bool) -> st.SearchStrategy:
    """Values of a JSON Schema (the subset ParamType.schema writes). `invalid`: a number
    just outside its range, or a name outside its choices."""
    if "enum" in schema:
        choices = st.sampled_from(list(schema["enum"]))
        return st.one_of(choices, st.just("not_a_choice")) if invalid else choices
    if "anyOf" in schema:
        return st.one_of(*[_from_schema(s, invalid) for s in schema["anyOf"] if _generatable(s)])
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    options = []
    if "null" in types:
        options.append(st.none())
    if "boolean" in types:
        options.append(st.booleans())
    if "integer" in types:
        options.append(_integers(schema, invalid))
    if "number" in types:
        options.append(_numbers(schema, invalid))
    if "array" in types:
        low = schema.get("minItems", 1)
        high = schema.get("maxItems", max(low, 3))
        options.append(st.lists(_from_schema(schema.get("items", {}), invalid), min_size=low, max_size=high))
    return st.one_of(*options)


def _integers(schema, invalid: bool) -> st.SearchStrategy:
    low = schema.get("minimum", schema.get("exclusiveMinimum", -4 - 1) + 1)
    high = schema.get("maximum", low + MAX_ARGUMENT - 1 if "minimum" in schema or "exclusiveMinimum" in schema else 4)
    inside = st.integers(low, high)
    return st.one_of(inside, st.sampled_from([low - 1, high + 1] if "maximum" in schema else [low - 1])) if invalid else inside


def _numbers(schema, invalid: bool) -> st.SearchStrategy:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum")
    exclusive = "exclusiveMinimum" in schema

    def inside(v):
        return (low is None or (v > low if exclusive else v >= low)) and (high is None or v <= high)

    edges = [v for v in NUMBER_EDGES + tuple(b for b in (low, high) if b is not None) if inside(v)]
    floats = st.floats(min_value=low if low is not None else -10.0, max_value=high if high is not None else 10.0,
                       exclude_min=exclusive, allow_nan=False).map(lambda v: round(v, 4)).filter(inside)
    drawn = st.one_of(st.sampled_from(edges or [high if high is not None else low]), floats)
    outside = [v for v in ((low - 0.5) if low is not None else None, (high + 0.5) if high is not None else None, low if exclusive else None) if v is not None]
    return st.one_of(drawn, st.sampled_from(outside)) if invalid and outside else drawn


def _ints_in(value) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [i for v in value for i in _ints_in(v)]
    return []


@st.composite
def _params(draw, op) -> dict:
    params = {}
    for name, kind in op.params.items():
        example = _example_value(op, name)
        schema = kind.schema or {}
        if name.endswith("_regularizer"):  # a Keras identifier; these change layer.losses
            schema = {"enum": list(REGULARIZERS)}
        fuzzed = name not in NOT_FUZZED and _generatable(schema)
        if not fuzzed:
            if name in op.required and example is not None:
                params[name] = example
            continue
        # (an unknown regularizer name is no argument combination worth a case)
        invalid = draw(st.integers(0, INVALID_ODDS - 1)) == INVALID_ODDS - 1 and not name.endswith("_regularizer")
        # the order is the shrinking order: leave it out, the example's value, a drawn one
        branches = [] if name in op.required else [st.just(("default", None))]
        if example is not None:
            branches.append(st.just(("value", example)))
        branches.append(_value_strategy(json.dumps(schema, sort_keys=True), invalid).map(lambda v: ("value", v)))
        how, value = draw(st.one_of(*branches))
        if how == "value":
            params[name] = value
    return params


def _example_shapes(op) -> dict:
    """The example's input shapes by where they go: {"input_shape": [...]}, {"shape": [...]}
    (initializers), or {"inputs.NAME": [...]} for named inputs."""
    example = op.example
    if "inputs" in example:
        return {f"inputs.{n}": list(spec["shape"]) for n, spec in example["inputs"].items() if "shape" in spec}
    if "shape" in example:
        return {"shape": list(example["shape"])}
    return {"input_shape": list(example.get("input_shape") or [2, 8])}


@st.composite
def _shapes(draw, op, pool) -> dict:
    shapes = _example_shapes(op)
    if isinstance(op, FunctionOp) and list(shapes) == ["input_shape"]:
        # a function takes any rank: draw the rank too (the example's first)
        rank = draw(st.one_of(st.just(len(shapes["input_shape"])), st.integers(1, 4)))
        shapes = {"input_shape": [shapes["input_shape"][i % len(shapes["input_shape"])] + i // 2 for i in range(rank)]}
    symbols = sorted({d for shape in shapes.values() for d in shape})
    # a + b - 1 is the input size whose 'valid' window of size b gives an output of size a:
    # an output size equal to the number of filters, say
    pooled = sorted({p for p in pool + [a + b - 1 for a in pool for b in pool] if 1 <= p <= MAX_SIZE})
    size = st.one_of(st.integers(1, MAX_SIZE), st.sampled_from(pooled)) if pooled else st.integers(1, MAX_SIZE)
    new = {s: draw(size) for s in symbols}
    out = {where: [new[d] for d in shape] for where, shape in shapes.items()}
    if len(out) > 1 and draw(st.integers(0, INVALID_ODDS - 1)) == 0:
        # now and then one input's size breaks an equality the example keeps (invalid or not:
        # the reference judges)
        where = draw(st.sampled_from(sorted(out)))
        axis = draw(st.integers(0, len(out[where]) - 1))
        out[where][axis] = draw(size)
    return out


@st.composite
def spec_strategy(draw, op, dtypes, modes) -> dict:
    """One catalogue case of `op` (a mapping, without `name`)."""
    params = draw(_params(op))
    pool = [i for v in params.values() for i in _ints_in(v)]
    shapes = draw(_shapes(op, pool))
    spec = {"op": op.name}
    if params:
        spec["params"] = params
    example_inputs = op.example.get("inputs")
    for where, shape in shapes.items():
        if where.startswith("inputs."):
            name = where.split(".", 1)[1]
            spec.setdefault("inputs", {})[name] = {**example_inputs[name], "shape": shape}
        else:
            spec[where] = shape
    if example_inputs:  # inputs given as literal values keep them
        for name, given in example_inputs.items():
            if "shape" not in given:
                spec.setdefault("inputs", {})[name] = dict(given)
    sizes = [math.prod(s) for s in shapes.values()]
    if max(sizes) > MAX_ELEMENTS:
        from hypothesis import assume
        assume(False)
    if "input_shape" in spec and not isinstance(op, InitializerOp) and sizes[0] <= MAX_LITERAL and draw(st.integers(0, 3)) == 3:
        flat = draw(st.lists(st.one_of(st.sampled_from(EDGE_VALUES), st.floats(-4, 4).map(lambda v: round(v, 3))),
                             min_size=sizes[0], max_size=sizes[0]))
        spec["input_values"] = _nest(flat, spec.pop("input_shape"))
    elif "input_shape" in spec and draw(st.integers(0, 3)) == 3:
        distribution = {"mean": draw(st.sampled_from([0.0, 0.25, -3.0, 40.0])), "std": draw(st.sampled_from([1.0, 0.0, 1e-3, 10.0]))}
        if draw(st.booleans()):
            distribution["constant_channels"] = [0]
        spec["input_distribution"] = distribution
    if isinstance(op, LayerOp):
        call = {}
        for name, kind in op.call_params.items():
            if (kind.schema or {}).get("type") == "boolean" and draw(st.integers(0, 2)) == 2:
                call[name] = draw(st.booleans())
        if call:
            spec["call"] = call
    # most specs the reference rejects are dropped (Hypothesis draws again), one in
    # KEEP_INVALID is kept as a case that expects the rejection
    spec[KEEP_INVALID_KEY] = draw(st.integers(0, KEEP_INVALID - 1)) == 0
    spec["dtype"] = draw(st.sampled_from(list(dtypes)))
    spec["modes"] = [draw(st.sampled_from(list(modes)))]
    seed = draw(st.integers(0, 2**16))
    if seed:
        spec["seed"] = seed
    return spec


def _nest(flat: list, shape: list):
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]
