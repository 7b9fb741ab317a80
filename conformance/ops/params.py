"""Argument types: what a catalogue value may be for one argument of an op.

A type says whether a value is well-formed (an int, a list of `rank` ints, ...) and, where
Keras documents it or the reference enforces it, the range every number in it must lie in
(`at_least`, `at_most`, `between`), the names a string must be one of (`one_of`), and the
argument's default (`defaults_to`, usually read from the reference's own signature with
`with_defaults`). A rule between arguments (strides > 1 with dilation_rate > 1) is a
`Constraint` of the op. Validation, `conformance ops`, `conformance new`, the JSON schema and
the fuzzer all read these declarations; other rules that need the input's shape remain the
reference's business (its shape rules run at validation too).

A case that expects an error may give a value outside these rules on purpose: the loader
then lets the reference judge it, so rejections can be tested as expected errors.

Each type also states itself as JSON Schema (`schema`: its structure, with `minimum`/
`maximum` on every number and `enum` for the names), which `conformance schema` gives
editors; tests/test_schema.py checks that `accepts` and `schema` agree on sample values.
A `$ref` in a type's schema points into SCHEMA_DEFS, which the generated document carries.
"""
from __future__ import annotations

import difflib
import inspect
import math
import re
from dataclasses import dataclass, replace
from typing import Callable


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


class _NoDefault:
    """The default of an argument without a declared one (a required argument, or one whose
    Keras default is an object the harness does not need to know, such as an initializer)."""

    def __repr__(self):
        return "NO_DEFAULT"


NO_DEFAULT = _NoDefault()


def _numbers(value):
    """Every number in a value: the value itself, or the numbers of a (nested) list."""
    if _is_number(value):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def _strings(value):
    """Every string in a value: the value itself, or the strings of a (nested) list."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _show(number) -> str:
    return str(int(number)) if isinstance(number, float) and number.is_integer() and abs(number) < 1e15 else str(number)


@dataclass(frozen=True)
class ParamType:
    description: str
    # the structural rule: is the value of the right form (whatever its numbers)?
    structure: Callable[[object], bool]
    # the same rule as JSON Schema (None: none written, any value; every type the registry
    # uses has one, tests/test_schema.py checks)
    structure_schema: dict | None = None
    # every number in the value lies in [minimum, maximum] (minimum excluded when exclusive)
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    # every string in the value is one of these (compared lower-cased when ignore_case)
    choices: tuple[str, ...] = ()
    ignore_case: bool = False
    default: object = NO_DEFAULT

    # --- declaring ------------------------------------------------------------------------

    def at_least(self, minimum, *, exclusive: bool = False) -> "ParamType":
        return replace(self, minimum=minimum, exclusive_minimum=exclusive)

    def at_most(self, maximum) -> "ParamType":
        return replace(self, maximum=maximum)

    def between(self, minimum, maximum) -> "ParamType":
        return replace(self, minimum=minimum, maximum=maximum, exclusive_minimum=False)

    def one_of(self, *choices: str, ignore_case: bool = False) -> "ParamType":
        return replace(self, choices=tuple(choices), ignore_case=ignore_case)

    def defaults_to(self, value) -> "ParamType":
        return replace(self, default=_plain(value))

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    # --- judging --------------------------------------------------------------------------

    def accepts(self, value) -> bool:
        return self.problem(value) is None

    def problem(self, value) -> str | None:
        """None if `value` is acceptable, else what was expected and the value received."""
        if not self.structure(value):
            return f"expected {self.summary}, got {value!r}"
        bad = next((n for n in _numbers(value) if not self._in_range(n)), None)
        if bad is not None:
            where = "" if bad is value else f" ({_show(bad)} is not)"
            return f"expected {self.summary}, got {value!r}{where}"
        wrong = next((s for s in _strings(value) if not self._chosen(s)), None) if self.choices else None
        if wrong is not None:
            close = difflib.get_close_matches(wrong.lower() if self.ignore_case else wrong, self.choices, n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            return f"expected {self.summary}, got {value!r}{hint}"
        return None

    def _in_range(self, n) -> bool:
        if isinstance(n, float) and math.isnan(n):
            return self.minimum is None and self.maximum is None
        if self.minimum is not None and (n <= self.minimum if self.exclusive_minimum else n < self.minimum):
            return False
        return self.maximum is None or n <= self.maximum

    def _chosen(self, s: str) -> bool:
        return (s.lower() if self.ignore_case else s) in self.choices

    # --- describing -----------------------------------------------------------------------

    @property
    def range_text(self) -> str:
        """'at least 1', 'from 0 to 1', 'above 0', 'at most 5' or ''."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"from {_show(low)} to {_show(high)}"
        if low is not None:
            return f"{'above' if self.exclusive_minimum else 'at least'} {_show(low)}"
        return f"at most {_show(high)}" if high is not None else ""

    @property
    def choices_text(self) -> str:
        if not self.choices:
            return ""
        return "one of " + ", ".join(repr(c) for c in self.choices) + (", in any case" if self.ignore_case else "")

    @property
    def summary(self) -> str:
        """The description with its range and choices: what `conformance ops` and errors say."""
        rules = "; ".join(t for t in (self.range_text, self.choices_text) if t)
        return f"{self.description} ({rules})" if rules else self.description

    @property
    def schema(self) -> dict | None:
        """The JSON Schema of the structure, with the range on every number and the choices
        as an enum wherever a string may be."""
        if self.structure_schema is None:
            return None
        return _refine(self.structure_schema, self)


def _plain(value):
    """A default as YAML and JSON write it (tuples as lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _case_pattern(choices) -> str:
    """A JSON Schema pattern matching each choice in any case (JSON Schema has no flag for it)."""
    def letters(word):
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)
    return "^(?:" + "|".join(letters(c) for c in choices) + ")$"


def _refine(node, kind: ParamType):
    if isinstance(node, list):
        return [_refine(n, kind) for n in node]
    if not isinstance(node, dict) or "$ref" in node:
        return node
    out = {k: _refine(v, kind) if k in ("anyOf", "items", "oneOf", "allOf") else v for k, v in node.items()}
    types = out.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if {"integer", "number"} & set(types):
        if kind.minimum is not None:
            out["exclusiveMinimum" if kind.exclusive_minimum else "minimum"] = kind.minimum
        if kind.maximum is not None:
            out["maximum"] = kind.maximum
    if kind.choices and "string" in types:
        named = {"enum": list(kind.choices)}
        if kind.ignore_case:
            named = {"anyOf": [named, {"type": "string", "pattern": _case_pattern(kind.choices)}]}
        rest = [t for t in types if t != "string"]
        if not rest:
            extra = {k: v for k, v in out.items() if k != "type"}
            return {**named, **extra}
        return {"anyOf": [{**out, "type": rest if len(rest) > 1 else rest[0]}, named]}
    return out


@dataclass(frozen=True)
class Constraint:
    """A rule between arguments: `holds(arguments)` (the case's arguments with the declared
    defaults filled in) is false when they break it. `rule` says it as Keras does, `source`
    where it is documented or enforced. Judged only when every argument in `names` is known."""

    names: tuple[str, ...]
    holds: Callable[[dict], bool]
    rule: str
    source: str

    def problem(self, arguments: dict) -> str | None:
        if not all(n in arguments for n in self.names):
            return None
        try:
            if self.holds(arguments):
                return None
        except (TypeError, ValueError, ZeroDivisionError, IndexError):
            return None  # a malformed value: its own type check reports it
        received = ", ".join(f"{n}={arguments[n]!r}" for n in self.names)
        return f"{self.rule}. Received: {received} ({self.source})"


def with_defaults(types: dict, source) -> dict:
    """`types` with the defaults `source` states for the arguments it names: a reference
    function (its signature) or a reference table {argument: default} (reference_impl.core's
    REQUIRED marks an argument without one). The reference's defaults are Keras's, so they are
    read where the reference states them."""
    from reference_impl.core import REQUIRED

    if callable(source):
        source = {p.name: p.default for p in inspect.signature(source).parameters.values()
                  if p.default is not inspect.Parameter.empty}
    return {n: t.defaults_to(source[n]) if n in source and source[n] is not REQUIRED and not t.has_default else t
            for n, t in types.items()}


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
    """`inner` or null, with inner's range, choices and default."""
    schema = None if inner.structure_schema is None else {"anyOf": [{"type": "null"}, inner.structure_schema]}
    return replace(inner, description=f"{inner.description} or null", structure=lambda v: v is None or inner.structure(v),
                   structure_schema=schema)


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


# --- argument types shared by several families --------------------------------------------

def _activation_names() -> tuple[str, ...]:
    from reference_impl.activations import KNOWN  # the keras.activations names the reference knows
    return tuple(KNOWN)


POSITIVE_INT = INT.at_least(1)
RATE = NUMBER.between(0, 1)  # "Float between 0 and 1" (dropout rates)
NON_NEGATIVE = NUMBER.at_least(0)
# keras.config.image_data_format() is channels_last unless changed: None means that
DATA_FORMAT = OPTIONAL_STRING.one_of("channels_last", "channels_first")
# an activation by its keras.activations name; null is linear
ACTIVATION = OPTIONAL_STRING.one_of(*_activation_names())
# a layer given as Keras serializes it, e.g. {class_name: LSTM, config: {units: 4}}
LAYER_CONFIG = ParamType(
    "a layer as {class_name, config}",
    lambda v: isinstance(v, dict) and isinstance(v.get("class_name"), str) and isinstance(v.get("config", {}), dict),
    {"type": "object", "required": ["class_name"], "properties": {"class_name": {"type": "string"}, "config": {"type": "object"}}},
)
ANY = ParamType("any value (the reference judges it)", lambda v: True, {})


def int_list(*, allow_null: bool = False) -> ParamType:
    """A non-empty list of integers (and nulls, if allowed): a shape, a permutation."""
    item = (lambda i: i is None or _is_int(i)) if allow_null else _is_int
    schema = {"type": ["integer", "null"]} if allow_null else {"type": "integer"}
    return ParamType(
        f"a list of integers{' or nulls' if allow_null else ''}",
        lambda v: isinstance(v, list) and bool(v) and all(item(i) for i in v),
        {"type": "array", "minItems": 1, "items": schema},
    )


def amounts(rank: int) -> ParamType:
    """Cropping/padding amounts: an int, `rank` ints (one per dim), or `rank` [before, after]
    pairs; rank 1: an int or one [before, after] pair."""
    pair = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}

    def is_pair(p):
        return isinstance(p, list) and len(p) == 2 and all(_is_int(i) for i in p)

    if rank == 1:
        return ParamType("an integer or a [before, after] pair", lambda v: _is_int(v) or is_pair(v),
                         {"anyOf": [{"type": "integer"}, pair]})
    return ParamType(
        f"an integer, a list of {rank} integers or a list of {rank} [before, after] pairs",
        lambda v: _is_int(v) or (isinstance(v, list) and len(v) == rank and (all(_is_int(i) for i in v) or all(is_pair(p) for p in v))),
        {"anyOf": [{"type": "integer"},
                   {"type": "array", "items": {"type": "integer"}, "minItems": rank, "maxItems": rank},
                   {"type": "array", "items": pair, "minItems": rank, "maxItems": rank}]},
    )
