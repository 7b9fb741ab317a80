"""`conformance schema`: a JSON Schema (draft 2020-12) of catalogue files, for editors.

Generated from what `conformance validate` itself reads, so that the two cannot drift apart:
the loader's accepted keys and their descriptions (loader.*_KEYS, *_KEY_DOCS), its limits
(MAX_CALLS, MODES, DTYPES, KNOWN_ERRORS), and the op registry: every op name, each op's
arguments with the JSON Schema of their ParamType (its range as minimum/maximum, its choices
as an enum, its default as `default`), its call arguments and its inputs.
tests/test_schema.py checks that the committed copy (cases/catalogue.schema.json) is
current, that every shipped catalogue file passes, and that schema and loader judge the
loader tests' malformed examples alike, listing the rules the schema cannot state.

Editors read it with the YAML language server, whose engine implemented only draft-07 until
its version 2 (still the one many editors ship). So only keywords that mean the same in
draft-07 and 2020-12 are used (no prefixItems, unevaluatedProperties, dependentRequired), and
a `$ref` never has sibling keywords (that engine drops them, descriptions included).

Two things of the catalogue format shape the whole schema:
- any value inside `defaults` and `cases` may be written `{set: NAME}`, which the loader
  replaces before checking anything, so every such value also accepts that form;
- a case's op may come from the case, its swept `op`, `defaults` or the top of the file:
  each op's rules (`$defs/op_<name>`) apply to a case through an if/then on where it names
  its op. Where the op is not visible (a value set, or `defaults` naming an op for a case
  of another), the op's rules are not applied and the loader alone judges.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from conformance.axes import MODES
from conformance.catalogue import loader
from conformance.catalogue.model import DTYPES, KNOWN_ERRORS, MAX_CALLS, POLICIES
from conformance.ops import CustomOp, InitializerOp, all_ops
from conformance.ops.params import SCHEMA_DEFS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "catalogue.schema.json"  # its name in a catalogue folder (cases/)
REGENERATE = f"conformance schema -o cases/{SCHEMA_FILE}"

SET = {"$ref": "#/$defs/value_set"}


def modeline(catalogue_file, schema_file) -> str:
    """The comment by which the YAML language server (VS Code's YAML extension, Neovim's
    yamlls, ...) finds the schema of a catalogue file: a path relative to the file."""
    relative = Path(os.path.relpath(Path(schema_file).resolve(), Path(catalogue_file).resolve().parent)).as_posix()
    return f"# yaml-language-server: $schema={relative}\n"


def _or_set(schema: dict, description: str | None = None) -> dict:
    """A value that may also be written {set: NAME}."""
    out = {"description": description} if description else {}
    if not schema:  # any value already
        return out
    return {**out, "anyOf": [schema, SET]}


def _has(key: str, value: dict | None = None) -> dict:
    """A condition: an object with `key` (whose value satisfies `value`). `type` keeps
    `required` and `properties` from holding vacuously for a non-object."""
    condition = {"type": "object", "required": [key]}
    if value is not None:
        condition["properties"] = {key: value}
    return condition


def _one_of_or_list(item: dict, *, unique: bool = False) -> dict:
    """One value, or a non-empty list of them."""
    listed = {"type": "array", "minItems": 1, "items": _or_set(item)}
    if unique:
        listed["uniqueItems"] = True
    return {"anyOf": [item, listed]}


def _swept(item: dict) -> dict:
    """A swept key's values: a non-empty list, or a non-empty mapping label -> value."""
    return {"anyOf": [
        {"type": "array", "minItems": 1, "items": _or_set(item)},
        {"type": "object", "minProperties": 1, "additionalProperties": _or_set(item)},
    ]}


def _described(schema: dict, description: str) -> dict:
    return {"description": description, "allOf": [schema]} if "$ref" in schema else {"description": description, **schema}


def _properties(keys, docs: dict, values: dict, where: str, *, settable: bool = True) -> dict:
    """The loader's `keys` (loader.<where>), each with its description (docs, beside the keys
    in the loader) and its value schema (values, here). A key without either, or a description
    of a key no longer accepted, stops the generation: the schema never lags the loader."""
    undocumented = [k for k in keys if k not in docs]
    stale = [k for k in docs if k not in keys]
    untyped = [k for k in keys if k not in values]
    if undocumented or stale or untyped:
        raise ValueError(f"loader.{where} and the schema disagree: keys without a description {undocumented}, "
                         f"descriptions of keys not accepted {stale}, keys without a value schema in schema.py {untyped}")
    return {k: _or_set(values[k], docs[k]) if settable else _described(values[k], docs[k]) for k in keys}


def _mapping(keys, docs: dict, where: str, values: dict) -> dict:
    """A closed mapping of the loader's `keys`, each described and typed by `values`."""
    return {"type": "object", "additionalProperties": False, "properties": _properties(keys, docs, values, where)}


def _shape(minimum_rank: int = 0) -> dict:
    return {"type": "array", "minItems": minimum_rank, "items": {"type": "integer", "minimum": 1}}


def _ops_by_kind(ops) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for name, op in ops.items():
        kinds.setdefault(type(op).__name__, []).append(name)
    return kinds


def _is_initializer(op) -> bool:
    """Ops whose cases give a variable `shape` or `kernel_of` instead of an input."""
    return isinstance(op, InitializerOp) or (isinstance(op, CustomOp) and op.kind == "initializer")


def _defs(ops) -> dict:
    """The shared schemas the case keys refer to."""
    kinds = _ops_by_kind(ops)
    layers = kinds.get("LayerOp", [])
    return {
        "value_set": {  # no description: an editor would add it to the hover text of every value
            "type": "object", "required": ["set"], "additionalProperties": False,
            "properties": {"set": {"type": "string", "description": "{set: NAME}: the named value from the file's "
                                                                    "`values:` or the folder's values.yaml."}},
        },
        "nested_numbers": {
            "description": "A rectangular nested list of numbers (.inf, .nan allowed).",
            "type": "array", "minItems": 1,
            "items": {"anyOf": [{"type": "number"}, {"$ref": "#/$defs/nested_numbers"}, SET]},
        },
        "op_name": {"description": "An op (`conformance ops` lists them).", "enum": list(ops)},
        "swept_ops": {
            # every op of a sweep must be of one kind (layers, functions or initializers)
            "type": "array", "minItems": 1,
            "anyOf": [{"items": {"anyOf": [{"enum": names}, SET]}} for names in kinds.values()],
        },
        "kernel_of": {
            "type": "object", "required": ["op", "input_shape"], "additionalProperties": False,
            "properties": {
                "op": _or_set({"enum": layers}, "A layer op."),
                "params": _or_set({"type": "object"}, "The layer's arguments."),
                "input_shape": _or_set(_shape(1), "The layer's input shape, batch first."),
                "weight": _or_set({"type": "string"}, "The layer's weight whose shape is taken (default kernel)."),
            },
        },
        "input_spec": {
            **_mapping(loader.INPUT_SPEC_KEYS, loader.INPUT_SPEC_KEY_DOCS, "INPUT_SPEC_KEYS", {
                "shape": _shape(1),
                "values": {"$ref": "#/$defs/nested_numbers"},
                "dtype": {"enum": list(loader.INPUT_DTYPES)},
                "range": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                "mean": {"type": "number"},
                "std": {"type": "number", "minimum": 0},
                "p": {"type": "number", "minimum": 0, "maximum": 1},
            }),
            "oneOf": [{"required": ["shape"]}, {"required": ["values"]}],
            # integers are drawn from a range, which the input must then give
            "if": {"required": ["dtype", "shape"], "properties": {"dtype": {"enum": ["int32", "int64"]}}},
            "then": {"required": ["range"]},
        },
        "known_entry": _mapping(loader.KNOWN_KEYS, loader.KNOWN_KEY_DOCS, "KNOWN_KEYS", {
            "id": {"type": "string"},
            "when": _one_of_or_list({"$ref": "#/$defs/known_when"}),
        }) | {"required": ["id"]},
        "known_when": {
            "type": "object", "minProperties": 1,
            "properties": {"mode": _or_set(_one_of_or_list({"enum": list(MODES)}), "An execution mode, or a list of them.")},
        },
        **SCHEMA_DEFS,
    }


def _case_values(ops) -> dict:
    """The value schema of each case key (descriptions come from the loader)."""
    dtype = {"enum": list(DTYPES)}
    return {
        "name": {"type": "string", "pattern": loader.NAME_RE.pattern},
        "op": {"$ref": "#/$defs/op_name"},
        "description": {},
        "params": {"type": "object"},
        "sweep": {
            "type": "object",
            "properties": {
                "op": _or_set({"$ref": "#/$defs/swept_ops"}, "Ops of one kind, each a case."),
                "dtype": _or_set(_swept(dtype), "dtypes, each a case."),
                "input_shape": _or_set(_swept(_shape(1)), "Input shapes, each a case."),
                "shape": _or_set(_swept(_shape()), "Initializers: variable shapes, each a case."),
                "kernel_of": _or_set(_swept({"$ref": "#/$defs/kernel_of"}), "Initializers: layers, each a case."),
            },
            "additionalProperties": _or_set(_swept({})),
        },
        "input_shape": _shape(),
        "input_values": {"$ref": "#/$defs/nested_numbers"},
        "dtype": _one_of_or_list(dtype),
        "policy": _one_of_or_list({"enum": list(POLICIES)}),
        "tolerance": _mapping(loader.TOLERANCE_KEYS, loader.TOLERANCE_KEY_DOCS, "TOLERANCE_KEYS",
                              {k: {"type": "number", "minimum": 0} for k in loader.TOLERANCE_KEYS}),
        "expect": {
            **_mapping(loader.EXPECT_KEYS, loader.EXPECT_KEY_DOCS, "EXPECT_KEYS", {
                "output_shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "error": {"enum": list(KNOWN_ERRORS)},
                "match": {"type": "string"},
            }),
            "not": {"required": ["error", "output_shape"]},  # either an error or an output shape
            "if": {"required": ["match"]}, "then": {"required": ["error"]},  # match goes with error
        },
        "known": {"anyOf": [
            {"type": "null"}, {"type": "string"}, {"$ref": "#/$defs/known_entry"},
            {"type": "array", "items": _or_set({"anyOf": [{"type": "string"}, {"$ref": "#/$defs/known_entry"}]})},
        ]},
        "skip": {"type": ["string", "null"]},
        "seed": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": _or_set({"type": "string"})},
        "call": {"type": "object"},
        "calls": {"type": "integer", "minimum": 1, "maximum": MAX_CALLS},
        "input_distribution": _mapping(loader.DISTRIBUTION_KEYS, loader.DISTRIBUTION_KEY_DOCS, "DISTRIBUTION_KEYS", {
            "mean": {"type": "number"},
            "std": {"type": "number", "minimum": 0},
            "constant_channels": {"type": "array", "items": _or_set({"type": "integer"})},
            "channel_axis": {"type": "integer"},
        }),
        "isolate": {"type": "boolean"},
        "shape": _shape(),
        "kernel_of": {"$ref": "#/$defs/kernel_of"},
        "via_layer": {"type": "boolean"},
        "custom": {"type": "string", "pattern": r"^[^:]+\.py:[^:]+$"},
        "reference": {"type": "string", "pattern": r"^[^:]+\.py:[^:]+$"},
        "inputs": {"type": "object", "minProperties": 1, "additionalProperties": _or_set({"$ref": "#/$defs/input_spec"})},
        "modes": _one_of_or_list({"enum": list(MODES)}, unique=True),
        "compiled_sweep": {"enum": list(loader.COMPILED_SWEEPS)},
        "train": {"type": "object", "additionalProperties": False, "properties": {
            "optimizer": {"enum": list(loader.TRAIN_OPTIMIZERS)},
            "learning_rate": {"type": "number", "exclusiveMinimum": 0},
            "steps": {"type": "integer", "minimum": 1, "maximum": loader.MAX_TRAIN_STEPS},
            "loss": {"enum": list(loader.TRAIN_LOSSES)},
            "trainable": {"type": "boolean"}}},
        "gradients": {"type": "object", "required": ["skip"], "additionalProperties": False,
                      "properties": {"skip": {"type": "string", "minLength": 1}}},
        "timeout": {"anyOf": [{"type": "null"}, {"type": "number", "exclusiveMinimum": 0, "maximum": loader.MAX_TIMEOUT_S}]},
    }


def _case_rules() -> list[dict]:
    """Rules between a case's own keys that hold whatever its op (the loader applies them to
    the case merged with `defaults`; the schema sees the case as written)."""
    return [
        {"if": _has("sweep", _has("op")), "then": {"not": {"required": ["op"]}}},  # op is both given and swept
        {"if": _has("sweep", _has("dtype")), "then": {"not": _has("dtype", {"type": "array"})}},  # dtype both a list and swept
    ]


def _param_doc(op, name: str) -> str:
    kind = op.params[name]
    required = "required; " if name in op.required else ""
    return f"{op.name}: {required}{kind.summary}"


def _argument(op, name: str, schema: dict) -> dict:
    """An argument's schema with its hover text and, when declared, its default."""
    described = _described(schema, _param_doc(op, name))
    kind = op.params[name]
    return {**described, "default": kind.default} if kind.has_default else described


class _ArgumentTypes:
    """The JSON Schemas of the registry's argument types, each written once in `$defs`
    (`arg_N`, and `swept_arg_N` for a swept list of it; both also take {set: NAME}) and
    referred to by every op."""

    def __init__(self):
        self.defs: dict[str, dict] = {}
        self._names: dict[str, str] = {}

    def ref(self, kind, *, swept: bool = False) -> dict:
        if not kind.schema:  # no rule: any value
            return {}
        key = json.dumps(kind.schema, sort_keys=True)
        if key not in self._names:
            name = f"arg_{len(self._names)}"
            self._names[key] = name
            self.defs[name] = _or_set(kind.schema)  # the hover text is the op's, on its argument name
            self.defs[f"swept_{name}"] = _or_set(_swept({"$ref": f"#/$defs/{name}"}))
        return {"$ref": f"#/$defs/{'swept_' if swept else ''}{self._names[key]}"}


def _call_argument(types: _ArgumentTypes, kind) -> dict:
    """A call argument's type, or `$name` (an input of the case), or a list holding one."""
    reference = {"type": "string", "pattern": r"^\$"}
    given = types.ref(kind)
    return {"anyOf": [given, reference, {"type": "array", "contains": reference}]} if given else {}


_EXPECTS_ERROR = _has("expect", _has("error"))


def _op_rules(op, types: _ArgumentTypes) -> dict:
    """What a case of `op` must satisfy beyond any case: its argument and sweep names, their
    types (unless the case expects an error: then a malformed value may be the point), its
    call arguments, the inputs it takes, and the keys of its kind."""
    names = list(op.params)
    shape_keys = ["shape", "kernel_of"] if isinstance(op, InitializerOp) else ["input_shape"]
    params = {"type": "object", "properties": {k: {"description": _param_doc(op, k)} for k in names}}
    sweep = {"type": "object", "properties": {k: {"description": _param_doc(op, k)} for k in names}}
    if op.open_params:  # the op's own class or the reference judges them
        params["description"] = f"{op.name}'s arguments (any names: the op's class or the reference judges them)"
    else:
        params["additionalProperties"] = False
        sweep["propertyNames"] = {"enum": ["op", "dtype", *shape_keys, *names]}
    call_params = getattr(op, "call_params", {})
    call = {"type": "object", "additionalProperties": False,
            "properties": {k: _or_set(_call_argument(types, t), f"{op.name}: {t.description}") for k, t in call_params.items()}}
    # An editor shows the description of the first schema that applies to a key, which may
    # be any of these: each carries the description (the argument's, or the case key's).
    doc = loader.CASE_KEY_DOCS
    rules = {
        "properties": {"params": _or_set(params, doc["params"]), "sweep": _or_set(sweep, doc["sweep"]),
                       "call": _or_set(call, doc["call"])},
        "if": {"not": _EXPECTS_ERROR},
        "then": {"properties": {
            "params": _or_set({"properties": {k: _argument(op, k, types.ref(op.params[k])) for k in names}},
                              doc["params"]),
            "sweep": _or_set({"properties": {k: _described(types.ref(op.params[k], swept=True), _param_doc(op, k))
                                             for k in names}}, doc["sweep"]),
        }},
    }
    never = []  # keys that a case of this op must not have, each with the loader's reason
    if _is_initializer(op):
        rules["not"] = {"required": ["shape", "kernel_of"]}  # either shape or kernel_of
    else:
        never += [(k, f"for initializer ops; {op.name} takes input_shape or input_values") for k in ("shape", "kernel_of", "via_layer")]
        rules["properties"]["input_shape"] = _or_set(_shape(1), doc["input_shape"])
        rules["allOf"] = [
            {"if": _has("inputs"), "then": {"not": {"anyOf": [{"required": ["input_shape"]}, {"required": ["input_values"]},
                                                             _has("sweep", _has("input_shape"))]}}},
            {"if": _has("input_values"), "then": {"not": {"anyOf": [{"required": ["input_shape"]},
                                                                    _has("sweep", _has("input_shape"))]}}},
        ]
        input_names = getattr(op, "input_names", ("x",))
        inputs = {"type": "object", "required": list(getattr(op, "required_inputs", ("x",)))}
        if input_names is not None:
            inputs["properties"] = {n: {"description": f"{op.name}'s input {n!r}"} for n in input_names}
            # other names are inputs of the call (`call: {mask: $m}`); without a call there are none
            rules["allOf"].append({"if": {"not": {"required": ["call"]}},
                                   "then": {"properties": {"inputs": _or_set({"propertyNames": {"enum": list(input_names)}},
                                                                             doc["inputs"])}}})
        rules["properties"]["inputs"] = _or_set(inputs, doc["inputs"])
    if not isinstance(op, CustomOp):
        never += [(k, "for custom ops (custom.regularizer, custom.initializer, custom.constraint)") for k in ("custom", "reference")]
    for key, reason in never:
        rules["properties"][key] = {"description": f"{key!r} is {reason}", "not": {}}
    return rules


def _op_defs(ops) -> dict:
    """`op_<name>` for each op, and the argument types they refer to."""
    types = _ArgumentTypes()
    rules = {f"op_{name}": _op_rules(op, types) for name, op in ops.items()}
    return {**types.defs, **rules}


# Conditions the per-op if/thens share, written once in `$defs`.
_CONDITIONS = {
    "names_no_op": {  # a case (not a value set) that names no op of its own, neither given nor swept
        "type": "object", "required": ["name"],
        "not": {"anyOf": [{"required": ["op"]}, _has("sweep", _has("op"))]},
    },
    "defaults_name_no_op": {"not": _has("defaults", _has("op"))},
}


def _case_names_op(name: str) -> dict:
    return {"anyOf": [_has("op", {"const": name}),
                      _has("sweep", _has("op", {"type": "array", "contains": {"const": name}}))]}


def _file_op_is(name: str) -> dict:
    """The op a case without its own inherits: defaults' op, else the file's."""
    return {"anyOf": [
        _has("defaults", _has("op", {"const": name})),
        {"allOf": [_has("op", {"const": name}), {"$ref": "#/$defs/defaults_name_no_op"}]},
    ]}


def catalogue_schema() -> dict:
    """The JSON Schema of a catalogue file."""
    # by name: the registry's order is the order its family modules happened to be imported in
    ops = dict(sorted(all_ops().items()))
    case_properties = _properties(loader.CASE_KEYS, loader.CASE_KEY_DOCS, _case_values(ops), "CASE_KEYS")
    case = {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {
            **case_properties,
            "xfail": {"description": "Replaced by `known: ID`, the id of an entry of divergences.yaml beside the file.",
                      "not": {}},
        },
        "allOf": [*_case_rules(), *({"if": _case_names_op(name), "then": {"$ref": f"#/$defs/op_{name}"}} for name in ops)],
    }
    defaults = {
        "type": ["object", "null"], "additionalProperties": False,
        "properties": {k: case_properties[k] for k in loader.DEFAULTS_KEYS},
    }
    # only `defaults` and `cases` take {set: NAME}: the loader replaces sets in them alone
    file_properties = _properties(loader.FILE_KEYS, loader.FILE_KEY_DOCS, {
        "op": {"$ref": "#/$defs/op_name"},
        "defaults": _or_set({"$ref": "#/$defs/defaults"}),
        "cases": _or_set({"type": "array", "minItems": 1, "items": _or_set({"$ref": "#/$defs/case"})}),
        "description": {},
        "values": {"type": ["object", "null"]},
    }, "FILE_KEYS", settable=False)
    each_case_has_an_op = {
        "if": {"not": {"anyOf": [{"required": ["op"]}, _has("defaults", _has("op"))]}},
        "then": {"properties": {"cases": {"items": {"anyOf": [
            SET, {"required": ["op"]}, _has("sweep", {"anyOf": [_has("op"), SET]}),
        ]}}}},
    }
    inherited_op = [
        {"if": _file_op_is(name),
         "then": {"properties": {"cases": {"items": {"if": {"$ref": "#/$defs/names_no_op"},
                                                    "then": {"$ref": f"#/$defs/op_{name}"}}}}}}
        for name in ops
    ]
    return {
        "$schema": DRAFT,
        "description": f"A tf.keras conformance catalogue file (README: Adding a case). Generated by `{REGENERATE}`.",
        "type": "object",
        "required": ["cases"],
        "additionalProperties": False,
        "properties": file_properties,
        "allOf": [each_case_has_an_op, *inherited_op],
        "$defs": {**_defs(ops), **_CONDITIONS, "case": case, "defaults": defaults, **_op_defs(ops)},
    }


def schema_text() -> str:
    """The schema as written to cases/catalogue.schema.json and by `conformance schema`."""
    return _dump(catalogue_schema()) + "\n"


def _dump(value, indent: int = 0, width: int = 110) -> str:
    """JSON with a value on one line when it fits in `width`, else one member per line: a
    readable file whose diffs show what changed, a quarter smaller than with indent=1."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or not value or indent + len(flat) <= width:
        return flat
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        members = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dump(v, indent + 1, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(pad + _dump(v, indent + 1, width) for v in value) + "\n" + " " * indent + "]"
