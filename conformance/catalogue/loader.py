"""Read catalogue files, validate every key, and expand sweeps into concrete cases.

Validation is structural and fast (no TensorFlow): unknown keys and parameters get a
did-you-mean, wrong types name the value received, and the reference's shape rules are
consulted (NumPy only) so that arguments it rejects without `expect: {error: ...}`, and
cases that would exceed the memory budget, are caught before anything runs. Every
problem is a CatalogueError naming file:line and the key; a broken case never stops
the others from loading.
"""
from __future__ import annotations

import difflib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from conformance.catalogue import yaml_lines
from conformance.catalogue.model import (
    DEFAULT_SEED, DTYPES, KNOWN_ERRORS, MAX_CALLS, Case, input_shapes, referenced_inputs,
)
from conformance.catalogue import user_code
from conformance.ops import CustomOp, InitializerOp, LayerOp, UnknownOp, get_op

FILE_KEYS = ("op", "defaults", "cases", "description")
CASE_KEYS = (
    "name", "op", "description", "params", "sweep", "input_shape", "input_values", "dtype",
    "tolerance", "expect", "xfail", "skip", "seed", "tags", "call", "calls", "input_distribution",
    "isolate", "shape", "kernel_of", "via_layer", "custom", "reference", "inputs",
)
INPUT_SPEC_KEYS = ("shape", "values", "dtype", "range", "mean", "std", "p")
INPUT_DTYPES = DTYPES + ("int32", "int64", "bool")
DEFAULTS_KEYS = tuple(k for k in CASE_KEYS if k not in ("name", "sweep"))
TOLERANCE_KEYS = ("rtol", "atol")
EXPECT_KEYS = ("output_shape", "error", "match")
XFAIL_KEYS = ("reason", "link", "when")
DISTRIBUTION_KEYS = ("mean", "std", "constant_channels", "channel_axis")

# Budgets, documented in the README: a sweep entry expanding past MAX_SWEEP cases would
# not finish in reasonable time; a tensor (input, weight or output) past
# MAX_TENSOR_ELEMENTS, or all of them together past MAX_CASE_ELEMENTS, would exhaust
# memory in the float64 reference (8 bytes per element, plus windowed intermediates).
MAX_SWEEP = 2000
MAX_TENSOR_ELEMENTS = 1 << 24
MAX_CASE_ELEMENTS = 1 << 26

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class CatalogueError:
    file: str
    line: int | None
    key: str
    message: str
    case_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class _Problem(Exception):
    """Raised inside validation; turned into a CatalogueError with file and line."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _key_label(path: tuple) -> str:
    parts = [p for p in path[2:] if not isinstance(p, int)] if path[:1] == ("cases",) else list(path)
    return ".".join(str(p) for p in parts) or (str(path[-1]) if path else "")


def display_path(path: Path | str) -> str:
    """The file path as shown in ids: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def looks_like_catalogue(path: Path) -> bool:
    """Cheap check used by the pytest plugin: top-level `cases:` and an `op:` key.

    Unrelated YAML in a user's project (CI configs, data) is left alone.
    """
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"^cases\s*:", text, re.M)) and bool(re.search(r"^\s*-?\s*op\s*:", text, re.M))


def discover(paths) -> list[Path]:
    """YAML files named by `paths` (files, or folders searched recursively), sorted."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file()))
        else:
            found.append(p)
    seen, unique = set(), []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def load_paths(paths) -> tuple[list[Case], list[CatalogueError]]:
    cases, errors = [], []
    for path in discover(paths):
        c, e = load_file(path)
        cases.extend(c)
        errors.extend(e)
    return cases, errors


def load_file(path) -> tuple[list[Case], list[CatalogueError]]:
    path = Path(path)
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [CatalogueError(shown, None, "", f"cannot read the file: {exc}")]
    try:
        data, lines = yaml_lines.load(text)
    except yaml_lines.YamlError as exc:
        return [], [CatalogueError(shown, exc.line, "", str(exc))]
    return _load_document(data, lines, shown, path)


def _load_document(data, lines, shown, source):
    errors: list[CatalogueError] = []

    def err(path, message, case_id=None):
        errors.append(CatalogueError(shown, yaml_lines.line_of(lines, path), _key_label(path), message, case_id))

    if not isinstance(data, dict):
        err((), "a catalogue file is a mapping with `op`, optional `defaults`, and `cases`")
        return [], errors
    for key in data:
        if key not in FILE_KEYS:
            err((key,), f"unknown top-level key {key!r}{_did_you_mean(key, FILE_KEYS)}; allowed: {', '.join(FILE_KEYS)}")
    file_op = data.get("op")
    if "op" in data and not isinstance(file_op, str):
        err(("op",), f"expected an op name, got {file_op!r}")
        file_op = None
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        err(("defaults",), f"expected a mapping of case keys, got {defaults!r}")
        defaults = {}
    for key in defaults:
        if key not in DEFAULTS_KEYS:
            err(("defaults", key), f"unknown key {key!r}{_did_you_mean(key, DEFAULTS_KEYS)}; allowed: {', '.join(DEFAULTS_KEYS)}")
    defaults = {k: v for k, v in defaults.items() if k in DEFAULTS_KEYS}
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        err(("cases",), "expected a non-empty list of cases")
        return [], errors

    cases: list[Case] = []
    names: dict[str, int] = {}
    ids: set[str] = set()
    for index, raw in enumerate(raw_cases):
        path = ("cases", index)
        if not isinstance(raw, dict):
            err(path, f"a case is a mapping with at least `name`, got {raw!r}")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            err(path + ("name",), f"every case needs a `name` of letters, digits, '_', '-' or '.', got {name!r}")
            continue
        base_id = f"{shown}::{name}"
        if name in names:
            err(path + ("name",), f"duplicate case name {name!r} (first at line {names[name]})", base_id)
            continue
        names[name] = yaml_lines.line_of(lines, path)
        try:
            expanded = _expand_case(raw, defaults, file_op, path, lines, shown, source)
        except _Problem as p:
            err(p.path, p.message, base_id)
            continue
        except Exception as exc:  # a bug of ours must not hide the other cases
            err(path, f"internal error while loading this case: {type(exc).__name__}: {exc}", base_id)
            continue
        for case_or_problem in expanded:
            if isinstance(case_or_problem, _Problem):
                err(case_or_problem.path, case_or_problem.message, base_id)
                continue
            if case_or_problem.id in ids:
                err(path + ("sweep",), f"two combinations give the same id {case_or_problem.id!r}", base_id)
                continue
            ids.add(case_or_problem.id)
            cases.append(case_or_problem)
    return cases, errors


def _merge(defaults: dict, raw: dict) -> dict:
    merged = {**defaults, **raw}
    for key in ("params", "tolerance", "expect", "call", "input_distribution"):
        if isinstance(defaults.get(key), dict) and isinstance(raw.get(key), dict):
            merged[key] = {**defaults[key], **raw[key]}
    return merged


def _expand_case(raw, defaults, file_op, path, lines, shown, catalogue_file):
    for key in raw:
        if key not in CASE_KEYS:
            raise _Problem(path + (key,), f"unknown key {key!r}{_did_you_mean(key, CASE_KEYS)}; allowed: {', '.join(CASE_KEYS)}")
    case = _merge(defaults, raw)
    name = case["name"]

    op_name = case.get("op", file_op)
    if op_name is None:
        raise _Problem(path, "no `op` for this case: set `op` at the top of the file or in the case")
    try:
        op = get_op(op_name)
    except UnknownOp as exc:
        raise _Problem(path + ("op",) if "op" in raw else ("op",), str(exc)) from None

    params = case.get("params", {})
    if not isinstance(params, dict):
        raise _Problem(path + ("params",), f"expected a mapping of layer arguments, got {params!r}")
    sweep = case.get("sweep", {})
    if not isinstance(sweep, dict):
        raise _Problem(path + ("sweep",), f"expected a mapping of argument -> list of values, got {sweep!r}")

    axes: list[tuple[str, list]] = []
    for key, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise _Problem(path + ("sweep", key), f"a swept key needs a non-empty list of values, got {values!r}")
        shape_keys = ("shape",) if isinstance(op, InitializerOp) else ("input_shape",)
        if key not in op.params and key not in ("dtype", *shape_keys) and not op.open_params:
            raise _Problem(
                path + ("sweep", key),
                f"{op.name} has no argument {key!r}{_did_you_mean(key, op.params)} (a sweep may also vary dtype or input_shape)",
            )
        if key in params:
            raise _Problem(path + ("sweep", key), f"{key!r} is both fixed in `params` and swept")
        axes.append((key, values))
    dtype = case.get("dtype", "float32")
    if isinstance(dtype, list):
        if "dtype" in sweep:
            raise _Problem(path + ("dtype",), "dtype is both a list and swept")
        axes.append(("dtype", dtype))
    count = math.prod(len(v) for _, v in axes)
    if count > MAX_SWEEP:
        raise _Problem(path + ("sweep",), f"the sweep expands to {count} cases, more than the limit of {MAX_SWEEP}; split it")

    for key, t in params.items():
        if key not in op.params and not op.open_params:
            raise _Problem(path + ("params", key), f"{op.name} has no argument {key!r}{_did_you_mean(key, op.params)}")
    missing = [k for k in op.required if k not in params and k not in sweep]
    if missing:
        raise _Problem(path + ("params",), f"{op.name} needs {', '.join(missing)}")

    tolerance = _check_tolerance(case.get("tolerance", {}), path)
    expect = _check_expect(case.get("expect", {}), path)
    xfails = _check_xfail(case.get("xfail"), path, [k for k, _ in axes])
    skip = case.get("skip")
    if skip is not None and not isinstance(skip, str):
        raise _Problem(path + ("skip",), f"expected the reason to skip, as a string, got {skip!r}")
    seed = case.get("seed", DEFAULT_SEED)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise _Problem(path + ("seed",), f"expected a non-negative integer, got {seed!r}")
    tags = case.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _Problem(path + ("tags",), f"expected a list of strings, got {tags!r}")
    call = _check_call(case.get("call", {}), op, path)
    calls = case.get("calls", 1)
    if not isinstance(calls, int) or isinstance(calls, bool) or not 1 <= calls <= MAX_CALLS:
        raise _Problem(path + ("calls",), f"expected an integer from 1 to {MAX_CALLS}, got {calls!r}")
    distribution = _check_distribution(case.get("input_distribution", {}), path)
    isolate = case.get("isolate", False)
    if not isinstance(isolate, bool):
        raise _Problem(path + ("isolate",), f"expected true or false, got {isolate!r}")
    kernel_of, via_layer, named_inputs = None, case.get("via_layer", False), None
    custom = _user_objects(case, op, path, catalogue_file)
    input_values = case.get("input_values")
    if isinstance(op, InitializerOp) or (isinstance(op, CustomOp) and op.kind == "initializer"):
        fixed_shape, kernel_of = _initializer_shape(case, op, path)
        if not isinstance(via_layer, bool) or (via_layer and kernel_of is None):
            raise _Problem(path + ("via_layer",), f"via_layer is true or false and needs kernel_of; got {via_layer!r}")
    elif "inputs" in case:
        if "input_shape" in case or "input_values" in case or "input_shape" in sweep:
            raise _Problem(path + ("inputs",), "give either `inputs` or input_shape/input_values, not both")
        named_inputs = _check_inputs(case["inputs"], op, path + ("inputs",), referenced_inputs(case.get("call", {})))
        fixed_shape = next(iter(named_inputs.values())).get("shape") or _shape_of_values(next(iter(named_inputs.values()))["values"], path + ("inputs",))
    elif any(k in case for k in ("shape", "kernel_of", "via_layer")):
        key = next(k for k in ("shape", "kernel_of", "via_layer") if k in case)
        raise _Problem(path + (key,), f"{key!r} is for initializer ops; {op.name} takes input_shape or input_values")
    elif input_values is not None:
        if "input_shape" in case or "input_shape" in sweep:
            raise _Problem(path + ("input_values",), "give either input_values or input_shape, not both")
        fixed_shape = _shape_of_values(input_values, path + ("input_values",))
    elif "input_shape" not in case and "input_shape" not in sweep:
        raise _Problem(path, "every case needs `input_shape` (or literal `input_values`)")
    else:
        fixed_shape = case.get("input_shape")

    line = yaml_lines.line_of(lines, path)
    out = []
    for combo in itertools.product(*(values for _, values in axes)):
        swept = dict(zip((k for k, _ in axes), combo))
        try:
            out.append(
                _make_case(
                    op, name, path, shown, line, params, swept, dtype, fixed_shape, input_values,
                    seed, tolerance, expect, xfails, skip, tags, call, calls, distribution, isolate,
                    kernel_of, via_layer, custom, named_inputs,
                )
            )
        except _Problem as p:
            out.append(p)
    return out


def _make_case(op, name, path, shown, line, params, swept, dtype, fixed_shape, input_values,
               seed, tolerance, expect, xfails, skip, tags, call, calls, distribution, isolate,
               kernel_of, via_layer, custom, named_inputs):
    concrete = {**params, **{k: v for k, v in swept.items() if k not in ("dtype", "input_shape", "shape")}}
    dtype = swept.get("dtype", dtype)
    if dtype not in DTYPES:
        raise _Problem(path + ("dtype",), f"unknown dtype {dtype!r}{_did_you_mean(dtype, DTYPES)}; allowed: {', '.join(DTYPES)}")
    shape = swept.get("input_shape", swept.get("shape", fixed_shape))
    shape_path = path + (("sweep", "input_shape") if "input_shape" in swept else ("sweep", "shape") if "shape" in swept else ("shape",) if isinstance(op, InitializerOp) else ("input_shape",))
    if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)) or (not shape and not isinstance(op, InitializerOp)):
        raise _Problem(shape_path, f"expected a list of positive integers (batch first), got {shape!r}")
    for key, value in concrete.items():
        if key not in op.params:  # an open-params (user-defined) op: the user's class judges
            continue
        problem = op.params[key].problem(value)
        if problem:
            raise _Problem(path + (("sweep", key) if key in swept else ("params", key)), problem)

    if distribution.get("constant_channels"):
        axis = distribution.get("channel_axis", -1)
        if not -len(shape) <= axis < len(shape):
            raise _Problem(path + ("input_distribution", "channel_axis"), f"axis {axis} is out of range for input_shape {shape}")
        n = shape[axis]
        bad = [c for c in distribution["constant_channels"] if not -n <= c < n]
        if bad:
            raise _Problem(path + ("input_distribution", "constant_channels"), f"channels {bad} are out of range: the input has {n} along axis {axis}")
    references = [v for value in call.values() for v in (value if isinstance(value, list) else [value])
                  if isinstance(v, str) and v.startswith("$")]
    unknown = [r for r in references if r[1:] not in (named_inputs or {})]
    if unknown:
        raise _Problem(path + ("call",), f"{', '.join(unknown)} names no input of this case; its inputs: {', '.join(named_inputs or {}) or 'none'}")
    case_id = f"{shown}::{name}" + (f"[{'-'.join(_id_part(k, v) for k, v in swept.items())}]" if swept else "")
    xfail = _xfail_for(xfails, swept)
    case = Case(
        id=case_id, file=shown, line=line, name=name, op=op.name, params=concrete, dtype=dtype,
        input_shape=tuple(shape), input_values=input_values, seed=seed, tolerance=tolerance,
        expect=expect, xfail=xfail, skip=skip, tags=tuple(tags), swept=swept,
        call=call, calls=calls, input_distribution=distribution, isolate=isolate,
        kernel_of=kernel_of, via_layer=via_layer, custom=custom.get("custom"), reference=custom.get("reference"),
        inputs=named_inputs,
    )
    _check_against_reference(op, case, path)
    return case


def _check_against_reference(op, case: Case, path):
    """Shape-level dry run of the reference: rejected arguments and the memory budget."""
    if isinstance(op, InitializerOp):
        try:
            op.distribution(case.params, case.input_shape)
        except (ValueError, TypeError) as exc:
            if "error" not in case.expect:
                raise _Problem(path + ("params",), f"the reference rejects these arguments ({exc}); if that is the point of the case, add `expect: {{error: ValueError}}`") from None
        return
    if not isinstance(op, LayerOp):
        return
    try:
        shapes = input_shapes(op, case)
        weights = op.predict_weights(case.params, shapes)
        output = op.predict_output(case.params, shapes)
    except (ValueError, TypeError) as exc:
        if "error" not in case.expect:
            raise _Problem(
                path + ("params",),
                f"the reference rejects these arguments ({exc}); if that is the point of the case, add `expect: {{error: ValueError}}`",
            ) from None
        return
    given = shapes.values() if isinstance(shapes, dict) else [shapes]
    outputs = output if output and isinstance(output[0], (tuple, list)) else [output]
    sizes = [*(math.prod(s) for s in given), *(math.prod(o) for o in outputs), *(math.prod(s) for s in weights.values())]
    if max(sizes) > MAX_TENSOR_ELEMENTS or sum(sizes) > MAX_CASE_ELEMENTS:
        raise _Problem(
            path + ("input_shape",),
            f"too large: the largest tensor has {max(sizes):,} elements and all together {sum(sizes):,}; "
            f"the budget is {MAX_TENSOR_ELEMENTS:,} per tensor and {MAX_CASE_ELEMENTS:,} per case",
        )


def _id_part(key, value) -> str:
    text = _format_value(value)
    return text if key == "dtype" else f"{key}={text}"


def _format_value(value) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return "x".join(str(v) for v in value)
    if isinstance(value, (str, int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _check_number_map(value, path, key, allowed):
    if not isinstance(value, dict):
        raise _Problem(path + (key,), f"expected a mapping with {' and/or '.join(allowed)}, got {value!r}")
    for k, v in value.items():
        if k not in allowed:
            raise _Problem(path + (key, k), f"unknown key {k!r}{_did_you_mean(k, allowed)}; allowed: {', '.join(allowed)}")
    return value


def _check_inputs(value, op, path, call_inputs=frozenset()) -> dict:
    """Named inputs: name -> {shape | values, dtype, range (integers), mean, std, p (booleans)}.
    Names the op does not take are allowed when `call` refers to them."""
    if not isinstance(value, dict) or not value:
        raise _Problem(path, f"expected a mapping of input name -> {{shape, dtype, ...}}, got {value!r}")
    names = getattr(op, "input_names", ("x",))
    required = getattr(op, "required_inputs", ())
    for name, spec in value.items():
        where = path + (name,)
        if names is not None and name not in names and name not in call_inputs:
            raise _Problem(where, f"{op.name} has no input {name!r}{_did_you_mean(name, names)}; its inputs: {', '.join(names)}")
        if not isinstance(spec, dict):
            raise _Problem(where, f"expected {{shape, dtype, ...}}, got {spec!r}")
        for key in spec:
            if key not in INPUT_SPEC_KEYS:
                raise _Problem(where + (key,), f"unknown key {key!r}{_did_you_mean(key, INPUT_SPEC_KEYS)}; allowed: {', '.join(INPUT_SPEC_KEYS)}")
        if ("shape" in spec) == ("values" in spec):
            raise _Problem(where, "give either `shape` or literal `values`")
        if "shape" in spec and not (isinstance(spec["shape"], list) and spec["shape"] and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in spec["shape"])):
            raise _Problem(where + ("shape",), f"expected a list of positive integers, got {spec['shape']!r}")
        dtype = spec.get("dtype")
        if dtype is not None and dtype not in INPUT_DTYPES:
            raise _Problem(where + ("dtype",), f"unknown dtype {dtype!r}{_did_you_mean(dtype, INPUT_DTYPES)}; allowed: {', '.join(INPUT_DTYPES)}")
        if dtype in ("int32", "int64") and "shape" in spec:
            r = spec.get("range")
            if not (isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) for v in r) and r[0] < r[1]):
                raise _Problem(where + ("range",), f"integer inputs need `range: [low, high]` (high excluded), got {r!r}")
    missing = [n for n in required if n not in value]
    if missing:
        raise _Problem(path, f"{op.name} needs the input(s) {', '.join(missing)}")
    return dict(value)


def _user_objects(case, op, path, catalogue_file) -> dict:
    """`custom` and `reference` of a custom op, resolved beside the catalogue file."""
    keys = ("custom", "reference")
    if not isinstance(op, CustomOp):
        for key in keys:
            if key in case:
                raise _Problem(path + (key,), f"{key!r} is for custom ops (custom.regularizer, custom.initializer), not {op.name}")
        return {}
    out = {}
    for key in keys:
        if key not in case:
            raise _Problem(path, f"{op.name} needs `{key}: file.py:Name` (a file beside the catalogue)")
        try:
            file, name = user_code.resolve(case[key], Path(catalogue_file))
        except user_code.UserCodeError as exc:
            raise _Problem(path + (key,), str(exc)) from None
        out[key] = f"{file}:{name}"
    return out


def _initializer_shape(case, op, path):
    """The variable shape of an initializer case: `shape`, or the kernel of `kernel_of`
    ({op, params, input_shape, weight (default kernel)}) as the reference lays it out."""
    if "shape" in case.get("sweep", {}) and "kernel_of" not in case and "shape" not in case:
        return None, None
    if ("shape" in case) == ("kernel_of" in case):
        raise _Problem(path, f"{op.name} needs either `shape` (the variable's shape) or `kernel_of` (a layer whose kernel it initializes)")
    if "shape" in case:
        return case["shape"], None
    spec = case["kernel_of"]
    where = path + ("kernel_of",)
    if not isinstance(spec, dict) or not {"op", "input_shape"} <= set(spec) or not set(spec) <= {"op", "params", "input_shape", "weight"}:
        raise _Problem(where, f"expected {{op, params, input_shape, weight}} (weight defaults to kernel), got {spec!r}")
    try:
        layer = get_op(spec["op"])
    except UnknownOp as exc:
        raise _Problem(where + ("op",), str(exc)) from None
    if not isinstance(layer, LayerOp):
        raise _Problem(where + ("op",), f"{layer.name} is not a layer")
    try:
        shapes = layer.predict_weights(spec.get("params", {}), tuple(spec["input_shape"]))
    except (ValueError, TypeError) as exc:
        raise _Problem(where, f"the reference rejects this layer: {exc}") from None
    weight = spec.get("weight", "kernel")
    if weight not in shapes:
        raise _Problem(where + ("weight",), f"{layer.name} has no weight {weight!r}; it has {', '.join(shapes)}")
    return list(shapes[weight]), dict(spec)


def _check_call(value, op, path) -> dict:
    """Keyword arguments of each call, typed by the op (e.g. training, mask)."""
    if not isinstance(value, dict):
        raise _Problem(path + ("call",), f"expected a mapping of call arguments, got {value!r}")
    allowed = getattr(op, "call_params", {})
    for key, v in value.items():
        if key not in allowed:
            what = f"; {op.name} takes: {', '.join(allowed)}" if allowed else f"; {op.name} takes no call arguments"
            raise _Problem(path + ("call", key), f"unknown call argument {key!r}{_did_you_mean(key, allowed)}{what}")
        if isinstance(v, str) and v.startswith("$"):
            continue  # a reference to one of the case's inputs, checked with them
        if isinstance(v, list) and any(isinstance(i, str) and i.startswith("$") for i in v):
            continue
        problem = allowed[key].problem(v)
        if problem:
            raise _Problem(path + ("call", key), problem)
    return dict(value)


def _check_distribution(value, path) -> dict:
    """How generated inputs are drawn: normal(mean, std), some channels held constant."""
    _check_number_map(value, path, "input_distribution", DISTRIBUTION_KEYS)
    for key in ("mean", "std"):
        v = value.get(key, 0.0)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or (key == "std" and v < 0):
            raise _Problem(path + ("input_distribution", key), f"expected a {'non-negative ' if key == 'std' else ''}number, got {v!r}")
    channels = value.get("constant_channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in channels):
        raise _Problem(path + ("input_distribution", "constant_channels"), f"expected a list of channel indices, got {channels!r}")
    axis = value.get("channel_axis", -1)
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise _Problem(path + ("input_distribution", "channel_axis"), f"expected an integer axis, got {axis!r}")
    return dict(value)


def _check_tolerance(value, path) -> dict:
    _check_number_map(value, path, "tolerance", TOLERANCE_KEYS)
    for k, v in value.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 0:
            raise _Problem(path + ("tolerance", k), f"expected a non-negative number, got {v!r}")
    return {k: float(v) for k, v in value.items()}


def _check_expect(value, path) -> dict:
    _check_number_map(value, path, "expect", EXPECT_KEYS)
    if "output_shape" in value:
        s = value["output_shape"]
        if not (isinstance(s, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in s)):
            raise _Problem(path + ("expect", "output_shape"), f"expected a list of non-negative integers, got {s!r}")
    if "error" in value:
        e = value["error"]
        if e not in KNOWN_ERRORS:
            raise _Problem(path + ("expect", "error"), f"unknown exception {e!r}{_did_you_mean(e, KNOWN_ERRORS)}; allowed: {', '.join(KNOWN_ERRORS)}")
        if "output_shape" in value:
            raise _Problem(path + ("expect",), "a case expects either an error or an output_shape, not both")
    if "match" in value:
        if "error" not in value:
            raise _Problem(path + ("expect", "match"), "`match` goes with `error`")
        try:
            re.compile(value["match"])
        except (re.error, TypeError) as exc:
            raise _Problem(path + ("expect", "match"), f"not a valid regular expression: {exc}") from None
    return dict(value)


def _check_xfail(value, path, swept_keys) -> list[dict]:
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    out = []
    for i, entry in enumerate(entries):
        p = path + (("xfail", i) if isinstance(value, list) else ("xfail",))
        if not isinstance(entry, dict):
            raise _Problem(p, f"expected a mapping with `reason` (and optional `link`, `when`), got {entry!r}")
        for k in entry:
            if k not in XFAIL_KEYS:
                raise _Problem(p + (k,), f"unknown key {k!r}{_did_you_mean(k, XFAIL_KEYS)}; allowed: {', '.join(XFAIL_KEYS)}")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise _Problem(p, "a known divergence needs a `reason` saying what differs and why")
        if "link" in entry and not isinstance(entry["link"], str):
            raise _Problem(p + ("link",), f"expected a URL string, got {entry['link']!r}")
        # `when`: one mapping of swept key -> value, or a list of them (any may match)
        when = entry.get("when")
        conditions = [] if when is None else when if isinstance(when, list) else [when]
        for j, condition in enumerate(conditions):
            q = p + (("when", j) if isinstance(when, list) else ("when",))
            if not isinstance(condition, dict) or not condition:
                raise _Problem(q, f"expected a mapping of swept key -> value, got {condition!r}")
            for k in condition:
                if k not in swept_keys:
                    raise _Problem(q + (k,), f"{k!r} is not swept in this case; swept: {', '.join(swept_keys) or 'nothing'}")
        out.append({**entry, "when": conditions})
    return out


def _xfail_for(xfails: list[dict], swept: dict) -> dict | None:
    """The first recorded divergence whose conditions (if any) match this combination."""
    for entry in xfails:
        if not entry["when"] or any(all(swept.get(k) == v for k, v in c.items()) for c in entry["when"]):
            return {k: v for k, v in entry.items() if k != "when"}
    return None


def _shape_of_values(values, path) -> list[int]:
    """Shape of a rectangular nested list of numbers (null/inf/nan given as .inf/.nan)."""
    shape, level = [], values
    while isinstance(level, list):
        if not level:
            raise _Problem(path, "input_values contains an empty list")
        shape.append(len(level))
        level = level[0]

    def check(v, depth):
        if depth == len(shape):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise _Problem(path, f"input_values must hold numbers only, found {v!r}")
            return
        if not isinstance(v, list) or len(v) != shape[depth]:
            raise _Problem(path, f"input_values is not rectangular: expected shape {shape}")
        for item in v:
            check(item, depth + 1)

    check(values, 0)
    return shape
