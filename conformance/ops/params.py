"""Parameter types: structural checks of catalogue values, no semantics.

A type only says whether a value is well-formed (an int, a list of `rank` ints, ...).
Whether a well-formed value is *valid* for the layer (e.g. strides > 1 with dilation > 1)
is the reference's business, so that rejections can be tested as expected errors.

Each type also states itself as JSON Schema (`schema`), which `conformance schema` gives
editors; tests/test_schema.py checks that `accepts` and `schema` agree on sample values.
A `$ref` in a type's schema points into SCHEMA_DEFS, which the generated document carries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


@dataclass(frozen=True)
class ParamType:
    description: str
    accepts: Callable[[object], bool]
    # the same rule as JSON Schema (None: none written, any value; every type the registry
    # uses has one, tests/test_schema.py checks)
    schema: dict | None = None

    def problem(self, value) -> str | None:
        return None if self.accepts(value) else f"expected {self.description}, got {value!r}"


INT = ParamType("an integer", _is_int, {"type": "integer"})
NUMBER = ParamType("a number", _is_number, {"type": "number"})
BOOL = ParamType("true or false", lambda v: isinstance(v, bool), {"type": "boolean"})
STRING = ParamType("a string", lambda v: isinstance(v, str), {"type": "string"})
OPTIONAL_STRING = ParamType("a string or null", lambda v: v is None or isinstance(v, str), {"type": ["string", "null"]})
# Initializers, regularizers and constraints do not change the computed values (the
# harness sets the weights itself), so any Keras identifier form is passed through.
KERAS_OBJECT = ParamType(
    "a Keras identifier (string, mapping or null)", lambda v: v is None or isinstance(v, (str, dict)),
    {"type": ["string", "object", "null"]},
)


def int_or_tuple(rank: int) -> ParamType:
    return ParamType(
        f"an integer or a list of {rank} integers",
        lambda v: _is_int(v) or (isinstance(v, list) and len(v) == rank and all(_is_int(i) for i in v)),
        {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": rank, "maxItems": rank}]},
    )


def optional(inner: ParamType) -> ParamType:
    schema = None if inner.schema is None else {"anyOf": [{"type": "null"}, inner.schema]}
    return ParamType(f"{inner.description} or null", lambda v: v is None or inner.accepts(v), schema)


def padding(rank: int) -> ParamType:
    """'valid' / 'same' / 'causal', or explicit [[before, after], ...] per spatial dim."""
    def accepts(v):
        if isinstance(v, str):
            return True
        return (
            isinstance(v, list)
            and len(v) == rank
            and all(isinstance(p, list) and len(p) == 2 and all(_is_int(i) for i in p) for p in v)
        )
    pair = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
    return ParamType(
        f"a padding name or a list of {rank} [before, after] pairs", accepts,
        {"anyOf": [{"type": "string"}, {"type": "array", "items": pair, "minItems": rank, "maxItems": rank}]},
    )


def int_or_list() -> ParamType:
    return ParamType(
        "an integer or a list of integers",
        lambda v: _is_int(v) or (isinstance(v, list) and bool(v) and all(_is_int(i) for i in v)),
        {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]},
    )


# Schemas that types refer to by `$ref` (a nesting of any depth needs a named, recursive schema).
SCHEMA_DEFS = {
    "nested_flags": {
        "description": "a non-empty list whose items are booleans, 0, 1 or such lists",
        "type": "array", "minItems": 1,
        "items": {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}, {"$ref": "#/$defs/nested_flags"}]},
    },
}

# A call's mask: a nested list of booleans (or 0/1), given literally in the case.
MASK = ParamType(
    "a nested list of booleans (or 0/1) or null",
    lambda v: v is None or (isinstance(v, list) and _all_flags(v)),
    {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/nested_flags"}]},
)


def _all_flags(v) -> bool:
    if isinstance(v, list):
        return bool(v) and all(_all_flags(i) for i in v)
    return isinstance(v, bool) or v in (0, 1)
