"""Read catalogue files, validate every key, and expand sweeps into concrete cases.

Validation is structural and fast (no TensorFlow): unknown keys and parameters get a
did-you-mean, wrong types name the value received, and the reference's shape rules are
consulted (NumPy only) so that arguments it rejects without `expect: {error: ...}`, and
cases that would exceed the memory budget, are caught before anything runs. Every
problem is a CatalogueError naming file:line and the key; a broken case never stops
the others from loading.
"""
from __future__ import annotations

import collections
import difflib
import itertools
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.axes import CHECK_MODES as DEFAULT_MODES, DEFAULT_TARGET, MODES, TARGETS
from conformance.catalogue import user_code, yaml_lines
from conformance.catalogue.divergences import (REGISTRY_FILE, applying_entries, did_you_mean as _registry_did_you_mean,
                                               load_registry)
from conformance.machine import FACTS as MACHINE_FACTS, facts as machine_facts
from conformance.catalogue.model import (
    DEFAULT_SEED, DTYPES, KNOWN_ERRORS, MAX_CALLS, POLICIES, Case, input_shapes, mode_id, referenced_inputs,
)
from conformance.ops import CustomOp, InitializerOp, LayerOp, UnknownOp, check_of, get_op

FILE_KEYS = ("op", "defaults", "cases", "description", "values")
CASE_KEYS = (
    "name", "op", "description", "params", "sweep", "input_shape", "input_values", "dtype",
    "tolerance", "expect", "known", "skip", "seed", "tags", "call", "calls", "input_distribution",
    "isolate", "shape", "kernel_of", "via_layer", "custom", "reference", "inputs", "modes",
    "timeout", "gradients", "train", "policy", "compiled_sweep",
)
# A file of named value sets shared by the catalogue files of its folder (not a catalogue).
VALUE_SETS_FILE = "values.yaml"
# Axes any case has, which `known.when` may name even when the case does not sweep them; the
# machine's facts (conformance.machine: onednn) among them, as this machine has them.
CASE_AXES = ("op", "dtype", "mode", "target", *MACHINE_FACTS)
INPUT_SPEC_KEYS = ("shape", "values", "dtype", "range", "mean", "std", "p")
INPUT_DTYPES = DTYPES + ("int32", "int64", "bool")
DEFAULTS_KEYS = tuple(k for k in CASE_KEYS if k not in ("name", "sweep"))
TOLERANCE_KEYS = ("rtol", "atol")
EXPECT_KEYS = ("output_shape", "error", "match")
KNOWN_KEYS = ("id", "when")
COMPILED_SWEEPS = ("all", "each_value")  # compiled_sweep: which combinations run in the compiled modes
DISTRIBUTION_KEYS = ("mean", "std", "constant_channels", "channel_axis")

# What each key above means: the hover text of `conformance schema` (catalogue/schema.py),
# kept here so that a key is added and explained in one place; the schema refuses to be
# generated while a key has no entry.
FILE_KEY_DOCS = {
    "op": "The op of every case in this file that names none itself (`conformance ops` lists them).",
    "defaults": "Case keys merged into every case of the file; the case's own value wins (params, tolerance, "
                "expect, call and input_distribution merge key by key).",
    "cases": "The cases: a non-empty list of mappings, each with at least `name`.",
    "description": "Free text about the file.",
    "values": "Named values that a case or `defaults` uses as `{set: NAME}`; looked up before the folder's values.yaml.",
}
CASE_KEY_DOCS = {
    "name": "Required. Letters, digits, '_', '-' and '.'; unique in the file. The case id is file::name[swept values].",
    "op": "The op, if not given at the top of the file (`conformance ops` lists them).",
    "description": "Free text.",
    "params": "The op's constructor arguments (checked against the op's argument list and types).",
    "sweep": "Argument -> list of values: every combination becomes a case. May also sweep op (ops of one kind), "
             "dtype and input_shape (initializers: shape, kernel_of). A mapping name -> value instead of a list "
             "names each value in the ids.",
    "input_shape": "The input's shape, batch first: a list of positive integers.",
    "input_values": "The input as a literal nested list of numbers (.inf, .nan allowed), instead of input_shape.",
    "dtype": "float32 (default), float64, float16, bfloat16, or a list of them (swept). A layer also takes a mixed "
             "precision policy here, as Keras does (`dtype: mixed_float16`); see `policy`.",
    "policy": "Layers: a Keras mixed precision policy, mixed_float16 or mixed_bfloat16, or a list of them (swept, like "
              "dtype), instead of `dtype`: the layer computes in the policy's 16-bit dtype and keeps float32 "
              "variables; its output must be in the compute dtype and its variables float32. Ids show the policy "
              "where the dtype goes.",
    "tolerance": "{rtol, atol}, overriding the dtype's default: |keras - reference| <= atol + rtol * |reference|.",
    "expect": "{output_shape: [...]} checked on both sides, or {error: ValueError, match: regex}: both sides must raise.",
    "known": "A known divergence, by its id in divergences.yaml beside the file: ID, {id, when}, or a list of them "
             "(the first that matches applies; a {set: NAME} of several in the list is spliced in); `when` limits it to "
             "swept values and the axes op, dtype, mode.",
    "skip": "A reason; the case is reported as skip.",
    "seed": "The seed of the generated inputs and weights (default 0).",
    "tags": "Words for -k and pytest markers.",
    "call": "Keyword arguments of each call, as the op allows (training, mask, ...); `$name` stands for one of the "
            "case's `inputs`.",
    "calls": f"Call the layer this many times in a row (default 1, at most {MAX_CALLS}), each on a fresh input.",
    "input_distribution": "How generated inputs are drawn: {mean, std} (default 0.25, 1.0), constant_channels "
                          "along channel_axis (default -1) held at the mean.",
    "isolate": "true: a hint for a known crasher: its tf.keras side runs in a child of the worker process. "
               "Every case's crash is already only its own result (the runner supervises each case).",
    "shape": "Initializers: the shape of the variable to initialize (instead of input_shape).",
    "kernel_of": "Initializers: {op, params, input_shape, weight}: take the shape from a layer's kernel "
                 "(weight defaults to kernel).",
    "via_layer": "Initializers: true also draws the kernel through that layer's kernel_initializer (needs kernel_of).",
    "custom": "Custom ops: file.py:Name of your Keras class, in the catalogue's folder.",
    "reference": "Custom ops: file.py:Name of its NumPy reference, in the catalogue's folder.",
    "inputs": "Several or typed inputs, by name: name -> {shape | values, dtype, range, mean, std, p}.",
    "modes": "The execution modes the case runs in (a name or a list); default: its check's modes.",
    "compiled_sweep": "all (default) or each_value: in the compiled modes (function, xla) run only the sweep's "
                      "combinations that bring a value not yet seen, plus those with a known divergence in that mode; "
                      "eager runs them all. `--full-sweeps` runs every combination in every mode.",
    "train": "{optimizer: SGD, learning_rate, steps, loss: sum | mean, trainable}: run optimizer steps on the "
             "layer's output and judge its weights after each against the reference's update "
             "w <- constraint(w - lr * (dloss/dw + dpenalty/dw)).",
    "gradients": "{skip: REASON}: do not check this case's gradients (an input on a kink on purpose, say), with "
                 "the reason. By default every layer and function case with a floating output has its gradients "
                 "checked.",
    "timeout": "Seconds this case may take, instead of the run's --timeout (default 120); past it the case is an "
               "error naming whose code was running.",
}
INPUT_SPEC_KEY_DOCS = {
    "shape": "The input's shape (or literal `values`).",
    "values": "The input as a literal nested list of numbers (or `shape`).",
    "dtype": "The input's dtype (default: the case's): a float dtype, int32, int64 or bool.",
    "range": "Integer inputs: [low, high], high excluded.",
    "mean": "Float inputs: the mean of the normal distribution they are drawn from.",
    "std": "Float inputs: its standard deviation.",
    "p": "Boolean inputs: the probability of true.",
}
TOLERANCE_KEY_DOCS = {"rtol": "Relative tolerance.", "atol": "Absolute tolerance."}
EXPECT_KEY_DOCS = {
    "output_shape": "The output shape both sides must produce.",
    "error": "The exception both sides must raise (a subclass counts).",
    "match": "A regular expression the error message must match (with `error`).",
}
KNOWN_KEY_DOCS = {
    "id": "The divergence's id in divergences.yaml beside this file.",
    "when": "Where it applies: a mapping (or a list of mappings, any of which may match) of a swept key, a "
            "parameter or an axis (op, dtype, mode, target, or a fact of the machine: onednn) -> a value, or a "
            "list of values any of which matches.",
}
DISTRIBUTION_KEY_DOCS = {
    "mean": "The mean of generated inputs (default 0.25).",
    "std": "Their standard deviation (default 1.0).",
    "constant_channels": "Channel indices held at the mean (a zero-variance channel).",
    "channel_axis": "The axis of constant_channels (default -1).",
}

# Budgets, documented in the README: a sweep entry expanding past MAX_SWEEP cases would
# not finish in reasonable time; a tensor (input, weight or output) past
# MAX_TENSOR_ELEMENTS, or all of them together past MAX_CASE_ELEMENTS, would exhaust
# memory in the float64 reference (8 bytes per element, plus windowed intermediates).
MAX_SWEEP = 2000
MAX_TENSOR_ELEMENTS = 1 << 24
MAX_CASE_ELEMENTS = 1 << 26
# A case's own time limit (`timeout:`) may raise the run's default up to this; past it a
# case belongs in a benchmark, not a conformance run.
MAX_TIMEOUT_S = 3600

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


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
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file() and q.name not in (VALUE_SETS_FILE, REGISTRY_FILE)))
        else:
            found.append(p)
    seen, unique = set(), []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def load_paths(paths, targets=(DEFAULT_TARGET,), dtypes=None, full_sweeps=False) -> tuple[list[Case], list[CatalogueError]]:
    cases, errors = [], []
    for path in discover(paths):
        c, e = load_file(path, targets, dtypes, full_sweeps)
        cases.extend(c)
        errors.extend(e)
    return cases, errors + registry_errors(paths)


def _registries_of(paths) -> list[tuple[dict, list]]:
    """(entries, problems) of the registry (divergences.yaml) beside each catalogue folder named by `paths`."""
    return [load_registry(folder) for folder in sorted({p.parent.resolve() for p in discover(paths)})]


def registries(paths) -> dict:
    """id -> Divergence of every registry beside the catalogue files named by `paths`."""
    return {ident: entry for entries, _ in _registries_of(paths) for ident, entry in entries.items()}


def registry_errors(paths) -> list[CatalogueError]:
    """The problems of each registry beside the files named by `paths`, as catalogue errors."""
    return [CatalogueError(e.file, e.line, e.key, e.message) for _, problems in _registries_of(paths) for e in problems]


def load_file(path, targets=(DEFAULT_TARGET,), dtypes=None, full_sweeps=False) -> tuple[list[Case], list[CatalogueError]]:
    """The cases of one catalogue file, each in every one of `targets` (conformance.axes.TARGETS)
    and its modes, and the problems found, each naming file, line and key. `full_sweeps`: every
    combination in every mode, even where a case samples its compiled modes (`compiled_sweep`)."""
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
    return _load_document(data, lines, shown, path, targets, dtypes, full_sweeps)


def _load_document(data, lines, shown, source, targets=(DEFAULT_TARGET,), dtypes=None, full_sweeps=False):
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
    try:
        sets = _value_sets(data, Path(source), shown)
        data = {**data, **{k: _substitute(data[k], sets, (k,)) for k in ("defaults", "cases") if k in data}}
    except _Problem as p:
        err(p.path, p.message)
        return [], errors
    except _ForeignProblem as p:
        errors.append(p.error)
        return [], errors
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
        if not isinstance(name, str) or not NAME_RE.match(name):
            err(path + ("name",), f"every case needs a `name` of letters, digits, '_', '-' or '.', got {name!r}")
            continue
        base_id = f"{shown}::{name}"
        if name in names:
            err(path + ("name",), f"duplicate case name {name!r} (first at line {names[name]})", base_id)
            continue
        names[name] = yaml_lines.line_of(lines, path)
        try:
            expanded = _expand_case(raw, defaults, file_op, path, lines, shown, source, targets, dtypes, full_sweeps)
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


class _ForeignProblem(Exception):
    """A problem in another file (the folder's values.yaml), already a CatalogueError."""

    def __init__(self, error: CatalogueError):
        super().__init__(str(error))
        self.error = error


def _value_sets(data: dict, source: Path, shown: str) -> dict:
    """Named values a case may use as `{set: NAME}`: the file's own `values:` first, then
    the `values.yaml` of its folder."""
    shared = {}
    shared_file = source.parent / VALUE_SETS_FILE
    if shared_file.is_file():
        where = display_path(shared_file)
        try:
            document, lines = yaml_lines.load(shared_file.read_text(encoding="utf-8"))
        except yaml_lines.YamlError as exc:
            raise _ForeignProblem(CatalogueError(where, exc.line, "", str(exc))) from None
        if not isinstance(document, dict) or set(document) - {"values", "description"} or not isinstance(document.get("values"), dict):
            raise _ForeignProblem(CatalogueError(where, 1, "", "a values file is a mapping with `values: {name: value, ...}` (and an optional `description`)"))
        shared = document["values"]
    own = data.get("values") or {}
    if not isinstance(own, dict):
        raise _Problem(("values",), f"expected a mapping of name -> value, got {own!r}")
    return {**shared, **own}


def _substitute(value, sets: dict, path: tuple):
    """Replace every `{set: NAME}` in value by the named value (sets may not nest)."""
    if isinstance(value, dict):
        if set(value) == {"set"}:
            name = value["set"]
            if not isinstance(name, str) or name not in sets:
                raise _Problem(path + ("set",), f"no value set named {name!r} (defined in `values:` or {VALUE_SETS_FILE}: "
                                                f"{', '.join(sets) or 'none'}){_did_you_mean(name, sets)}")
            return sets[name]
        return {k: _substitute(v, sets, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, sets, path + (i,)) for i, v in enumerate(value)]
    return value


def _merge(defaults: dict, raw: dict) -> dict:
    merged = {**defaults, **raw}
    for key in ("params", "tolerance", "expect", "call", "input_distribution"):
        if isinstance(defaults.get(key), dict) and isinstance(raw.get(key), dict):
            merged[key] = {**defaults[key], **raw[key]}
    return merged


def _resolve_op(name, path):
    try:
        return get_op(name)
    except UnknownOp as exc:
        raise _Problem(path, str(exc)) from None


def _sweep_axes(sweep: dict, ops: list, path) -> list[tuple[str, list[tuple[str | None, object]]]]:
    """The swept keys in order, each with its (label, value) pairs. A key swept over a
    mapping uses the names as labels in ids (`kernel_of: {conv1d: {...}, conv2d: {...}}`)."""
    axes = []
    for key, values in sweep.items():
        if isinstance(values, dict) and values:
            pairs = [(str(label), v) for label, v in values.items()]
        elif isinstance(values, list) and values:
            pairs = [(None, v) for v in values]
        else:
            raise _Problem(path + ("sweep", key), f"a swept key needs a non-empty list of values (or a mapping of name -> value), got {values!r}")
        if key in ("op", "dtype"):
            axes.append((key, pairs))
            continue
        shape_keys = ("shape", "kernel_of") if isinstance(ops[0], InitializerOp) else ("input_shape",)
        for op in ops:
            if key not in op.params and key not in shape_keys and not op.open_params:
                raise _Problem(
                    path + ("sweep", key),
                    f"{op.name} has no argument {key!r}{_did_you_mean(key, op.params)} (a sweep may also vary op, dtype or {' or '.join(shape_keys)})",
                )
        axes.append((key, pairs))
    return axes


def _policy_as_dtype(case: dict, raw: dict, path, ops) -> dict:
    """`policy: P` (or a list) is the dtype axis holding the policies: a layer takes a policy as
    its dtype (keras.DTypePolicy), and one axis keeps a policy from being crossed with dtypes."""
    policy = case["policy"]
    if "dtype" in raw:
        raise _Problem(path + ("policy",), "give `policy` or `dtype`, not both: a policy sets the layer's compute and variable dtypes")
    if "dtype" in case.get("sweep", {}):
        raise _Problem(path + ("policy",), "`policy` replaces the dtype axis: do not sweep dtype as well")
    policies = policy if isinstance(policy, list) else [policy]
    for i, p in enumerate(policies):
        if p not in POLICIES:
            where = path + (("policy", i) if isinstance(policy, list) else ("policy",))
            raise _Problem(where, f"unknown policy {p!r}{_did_you_mean(str(p), POLICIES)}; allowed: {', '.join(POLICIES)}")
    if not policies:
        raise _Problem(path + ("policy",), "expected a policy or a non-empty list of policies, got []")
    return {**{k: v for k, v in case.items() if k != "policy"}, "dtype": policy}


def _run_in(dtypes, case: dict, op) -> dict:
    """The case with its dtype axis replaced by `dtypes` (`conformance run --dtypes`: the whole
    catalogue in float16, under a policy, ...): the policies only for layers, and a case whose
    dtypes are not floating (integer-only inputs) as it is."""
    given = case.get("dtype", "float32")
    if "dtype" in case.get("sweep", {}) or not isinstance(given, (str, list)):
        return case
    wanted = [d for d in dtypes if d not in POLICIES or isinstance(op, LayerOp)]
    return {**{k: v for k, v in case.items() if k != "policy"}, "dtype": wanted}


def _expand_case(raw, defaults, file_op, path, lines, shown, catalogue_file, targets=(DEFAULT_TARGET,), dtypes=None,
                 full_sweeps=False):
    if "xfail" in raw:
        raise _Problem(path + ("xfail",), f"`xfail` is replaced by `known: ID`, the id of an entry of {REGISTRY_FILE} "
                                          "in this folder (see the README's section on known divergences)")
    for key in raw:
        if key not in CASE_KEYS:
            raise _Problem(path + (key,), f"unknown key {key!r}{_did_you_mean(key, CASE_KEYS)}; allowed: {', '.join(CASE_KEYS)}")
    case = _merge(defaults, raw)
    name = case["name"]

    sweep = case.get("sweep", {})
    if not isinstance(sweep, dict):
        raise _Problem(path + ("sweep",), f"expected a mapping of argument -> list of values, got {sweep!r}")
    if "op" in sweep:
        if "op" in raw:
            raise _Problem(path + ("op",), "op is both given and swept")
        names = sweep["op"] if isinstance(sweep["op"], list) else []
        ops = [_resolve_op(n, path + ("sweep", "op", i)) for i, n in enumerate(names)]
        if not ops:
            raise _Problem(path + ("sweep", "op"), f"a swept op needs a non-empty list of op names, got {sweep['op']!r}")
        kinds = {type(op).__name__ for op in ops}
        if len(kinds) > 1:
            raise _Problem(path + ("sweep", "op"), f"swept ops must be of one kind (layers, functions or initializers), got {', '.join(sorted(kinds))}")
    else:
        op_name = case.get("op", file_op)
        if op_name is None:
            raise _Problem(path, "no `op` for this case: set `op` at the top of the file or in the case")
        ops = [_resolve_op(op_name, path + ("op",) if "op" in raw else ("op",))]
    op = ops[0]

    params = case.get("params", {})
    if not isinstance(params, dict):
        raise _Problem(path + ("params",), f"expected a mapping of layer arguments, got {params!r}")
    axes = _sweep_axes(sweep, ops, path)
    for key, _ in axes:
        if key in params:
            raise _Problem(path + ("sweep", key), f"{key!r} is both fixed in `params` and swept")
    if "policy" in case:
        case = _policy_as_dtype(case, raw, path, ops)
    # a stated tolerance is an argument about the rounding of the dtypes the case states (a
    # float32 mean that cannot hold 1e4 closer than 5e-4): in a dtype `--dtypes` brings in, the
    # op's bound (or the dtype's default tolerance) judges instead
    stated_dtypes = case.get("dtype", "float32")
    stated_dtypes = set(stated_dtypes) if isinstance(stated_dtypes, list) else {stated_dtypes}
    if dtypes:
        case = _run_in(dtypes, case, op)
        if case.get("dtype") == []:  # only policies asked, and the op is not a layer
            return []
    dtype = case.get("dtype", "float32")
    if isinstance(dtype, list):
        if not dtype:  # no combination at all: the case would silently vanish
            raise _Problem(path + ("dtype",), "expected a dtype or a non-empty list of dtypes, got []")
        if "dtype" in sweep:
            raise _Problem(path + ("dtype",), "dtype is both a list and swept")
        axes.append(("dtype", [(None, d) for d in dtype]))
    modes = _check_modes(case.get("modes"), path)
    sample_compiled = _check_compiled_sweep(case.get("compiled_sweep", "all"), path) == "each_value" and not full_sweeps
    count = math.prod(len(v) for _, v in axes) * (len(modes) if modes else 1)
    if count > MAX_SWEEP:
        raise _Problem(path + ("sweep",), f"the sweep expands to {count} cases, more than the limit of {MAX_SWEEP}; split it")

    for each in ops:
        for key in params:
            if key not in each.params and not each.open_params:
                raise _Problem(path + ("params", key), f"{each.name} has no argument {key!r}{_did_you_mean(key, each.params)}")
        missing = [k for k in each.required if k not in params and k not in sweep]
        if missing:
            raise _Problem(path + ("params",), f"{each.name} needs {', '.join(missing)}")

    fields = dict(
        tolerance=_check_tolerance(case.get("tolerance", {}), path),
        expect=_check_expect(case.get("expect", {}), path),
        skip=case.get("skip"),
        seed=case.get("seed", DEFAULT_SEED),
        tags=case.get("tags", []),
        call=_check_call(case.get("call", {}), op, path),
        calls=case.get("calls", 1),
        input_distribution=_check_distribution(case.get("input_distribution", {}), path),
        isolate=case.get("isolate", False),
        via_layer=case.get("via_layer", False),
        timeout=case.get("timeout"),
        gradients_skip=_check_gradients(case.get("gradients"), path),
        train=_check_train(case.get("train"), op, path),
    )
    axis_values = {key: [v for _, v in pairs] for key, pairs in axes}
    knowns = _check_known(case.get("known"), path, [k for k, _ in axes] + [k for k in params if k not in sweep],
                          axis_values, Path(catalogue_file).parent)
    if fields["skip"] is not None and not isinstance(fields["skip"], str):
        raise _Problem(path + ("skip",), f"expected the reason to skip, as a string, got {fields['skip']!r}")
    if not isinstance(fields["seed"], int) or isinstance(fields["seed"], bool) or fields["seed"] < 0:
        raise _Problem(path + ("seed",), f"expected a non-negative integer, got {fields['seed']!r}")
    if not isinstance(fields["tags"], list) or not all(isinstance(t, str) for t in fields["tags"]):
        raise _Problem(path + ("tags",), f"expected a list of strings, got {fields['tags']!r}")
    fields["tags"] = tuple(fields["tags"])
    calls = fields["calls"]
    if not isinstance(calls, int) or isinstance(calls, bool) or not 1 <= calls <= MAX_CALLS:
        raise _Problem(path + ("calls",), f"expected an integer from 1 to {MAX_CALLS}, got {calls!r}")
    if not isinstance(fields["isolate"], bool):
        raise _Problem(path + ("isolate",), f"expected true or false, got {fields['isolate']!r}")
    timeout = fields["timeout"]
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_S):
        raise _Problem(path + ("timeout",), f"expected seconds, a number above 0 and at most {MAX_TIMEOUT_S}, got {timeout!r}")
    custom = _user_objects(case, op, path, catalogue_file)
    fields.update(custom=custom.get("custom"), reference=custom.get("reference"))
    input_values = case.get("input_values")
    kernel_of, named_inputs = None, None
    via_layer = fields["via_layer"]
    if isinstance(op, InitializerOp) or (isinstance(op, CustomOp) and op.kind == "initializer"):
        fixed_shape, kernel_of = _initializer_shape(case, op, path)
        if not isinstance(via_layer, bool) or (via_layer and kernel_of is None and "kernel_of" not in sweep):
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
    fields.update(input_values=input_values, kernel_of=kernel_of, inputs=named_inputs)

    line = yaml_lines.line_of(lines, path)
    applying = applying_entries(Path(catalogue_file).parent)
    ops_by_name = {each.name: each for each in ops}
    out = []
    seen_of_op = collections.Counter()  # the combination's place among those of its op (sweep_index)
    seen_values = set()  # (key, value) pairs of the combinations so far, for compiled_sweep: each_value
    for combo in itertools.product(*(pairs for _, pairs in axes)):
        swept = {key: value for (key, _), (_, value) in zip(axes, combo)}
        new_values = {(key, json.dumps(value, sort_keys=True, default=str)) for key, value in swept.items()} - seen_values
        seen_values |= new_values
        labels = {key: label for (key, _), (label, _) in zip(axes, combo) if label is not None}
        base_id = f"{shown}::{name}" + (f"[{'-'.join(_id_part(k, v, labels.get(k)) for k, v in swept.items())}]" if swept else "")
        try:
            this_op = ops_by_name[swept["op"]] if "op" in swept else op
            index = seen_of_op[this_op.name]
            seen_of_op[this_op.name] += 1
            base = _make_case(this_op, name, path, shown, line, base_id, params, swept, dtype, fixed_shape, fields)
            if base.tolerance and base.dtype not in stated_dtypes and "dtype" not in sweep:
                base = replace(base, tolerance={})
        except _Problem as p:
            out.append(p)
            continue
        for target in targets:
            check = check_of(this_op, base.call, base.train)
            # run_dtype: the dtype came from `conformance run --dtypes`, not from the case (an
            # entry's applies_to may hold only there: the catalogue's own cases in that dtype
            # name what they meet, and one of them may be chosen not to meet it)
            run_dtype = bool(dtypes) and base.dtype not in stated_dtypes and "dtype" not in sweep
            for mode in modes or DEFAULT_MODES[check]:
                axes_here = {**base.params, **swept, "op": this_op.name, "dtype": base.dtype, "mode": mode, "target": target,
                             "check": check, "run_dtype": run_dtype, **machine_facts()}
                known = _known_for(knowns, axes_here, labels) or (None if "error" in base.expect else _applying(applying, axes_here))
                if sample_compiled and MODES[mode].compiled and not new_values and known is None:
                    continue  # every value of this combination is compiled in an earlier one
                out.append(replace(base, mode=mode, target=target, id=mode_id(base_id, mode, target),
                                   known=known, sweep_index=index))
    return out


def _check_compiled_sweep(value, path) -> str:
    """`compiled_sweep: all | each_value`. each_value trades the compiled modes' combinations
    for time where they add little: the combinations that bring a swept value (an argument's
    value, a dtype, an op) for the first time, in the sweep's order, and every one with a known
    divergence in that mode, so that each value is compiled at least once and no recorded
    divergence loses its cases; the eager mode still runs every combination."""
    if value not in COMPILED_SWEEPS:
        raise _Problem(path + ("compiled_sweep",), f"expected one of {', '.join(COMPILED_SWEEPS)}, got {value!r}")
    return value


def _check_modes(value, path) -> tuple[str, ...] | None:
    """`modes: [eager, xla]` (or one name): the modes this case runs in; None: the default
    of its check (every mode for values, eager for the sampled and custom checks)."""
    if value is None:
        return None
    names = value if isinstance(value, list) else [value]
    if not names:
        raise _Problem(path + ("modes",), f"expected a list of modes from {', '.join(MODES)}, got []")
    for i, mode in enumerate(names):
        if mode not in MODES:
            raise _Problem(path + ("modes",), f"unknown mode {mode!r}{_did_you_mean(mode, MODES)}; modes: {', '.join(MODES)}")
    if len(set(names)) != len(names):
        raise _Problem(path + ("modes",), f"a mode is listed twice in {names!r}")
    return tuple(names)


def _make_case(op, name, path, shown, line, case_id, params, swept, dtype, fixed_shape, fields) -> Case:
    concrete = {**params, **{k: v for k, v in swept.items() if k not in ("op", "dtype", "input_shape", "shape", "kernel_of")}}
    dtype = swept.get("dtype", dtype)
    if dtype not in DTYPES:
        raise _Problem(path + ("dtype",), f"unknown dtype {dtype!r}{_did_you_mean(dtype, DTYPES)}; allowed: {', '.join(DTYPES)}")
    if dtype in POLICIES and not isinstance(op, LayerOp):
        raise _Problem(path + ("dtype",), f"{dtype} is a mixed precision policy, which layers take; {op.name} is not a layer "
                                          "(give it a dtype: float16, bfloat16, float32 or float64)")
    kernel_of = fields["kernel_of"]
    if "kernel_of" in swept:
        fixed_shape, kernel_of = _kernel_of_shape(swept["kernel_of"], path + ("sweep", "kernel_of"))
    shape = swept.get("input_shape", swept.get("shape", fixed_shape))
    shape_path = path + (("sweep", "input_shape") if "input_shape" in swept else ("sweep", "shape") if "shape" in swept else ("shape",) if isinstance(op, InitializerOp) else ("input_shape",))
    if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)) or (not shape and not isinstance(op, InitializerOp)):
        raise _Problem(shape_path, f"expected a list of positive integers (batch first), got {shape!r}")
    for key, value in concrete.items():
        if key not in op.params:  # an open-params (user-defined) op: the user's class judges
            continue
        problem = op.params[key].problem(value)
        # a case that expects an error may give a malformed value on purpose (filters: 1.5,
        # axis: {axis: -1}): the reference, not the type, judges whether it is rejected
        if problem and "error" not in fields["expect"]:
            raise _Problem(path + (("sweep", key) if key in swept else ("params", key)), problem)
    if "error" not in fields["expect"]:
        arguments = op.arguments(concrete)
        for constraint in op.constraints:
            problem = constraint.problem(arguments)
            if problem:
                where = next((("sweep", n) for n in constraint.names if n in swept), ("params",))
                raise _Problem(path + where, f"{problem}; if that is the point of the case, add `expect: {{error: ValueError}}`")

    distribution = fields["input_distribution"]
    if distribution.get("constant_channels"):
        axis = distribution.get("channel_axis", -1)
        if not -len(shape) <= axis < len(shape):
            raise _Problem(path + ("input_distribution", "channel_axis"), f"axis {axis} is out of range for input_shape {shape}")
        n = shape[axis]
        bad = [c for c in distribution["constant_channels"] if not -n <= c < n]
        if bad:
            raise _Problem(path + ("input_distribution", "constant_channels"), f"channels {bad} are out of range: the input has {n} along axis {axis}")
    named_inputs = fields["inputs"]
    references = [v for value in fields["call"].values() for v in (value if isinstance(value, list) else [value])
                  if isinstance(v, str) and v.startswith("$")]
    unknown = [r for r in references if r[1:] not in (named_inputs or {})]
    if unknown:
        raise _Problem(path + ("call",), f"{', '.join(unknown)} names no input of this case; its inputs: {', '.join(named_inputs or {}) or 'none'}")
    case = Case(**{**fields, "kernel_of": kernel_of}, id=case_id, file=shown, line=line, name=name, op=op.name,
                params=concrete, dtype=dtype, input_shape=tuple(shape), swept=swept)
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
        if op.check_modelled is not None:
            op.check_modelled(case.params, case.call)
    except NotImplementedError as exc:
        raise _Problem(path + ("params",), f"the reference does not model these arguments yet ({exc}); "
                       "such a case cannot be judged, so it is refused rather than run") from None
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


def _id_part(key, value, label=None) -> str:
    text = label if label is not None else _format_value(value)
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


# How a generated input is drawn: key -> (lowest, highest, what the value must be)
_DRAWING_BOUNDS = {"mean": (-math.inf, math.inf, "a number"), "std": (0, math.inf, "a non-negative number"),
                   "p": (0, 1, "a probability from 0 to 1")}


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
        if "range" in spec or (dtype in ("int32", "int64") and "shape" in spec):
            r = spec.get("range")
            if not (isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) for v in r) and r[0] < r[1]):
                raise _Problem(where + ("range",), f"integer inputs need `range: [low, high]` (high excluded), got {r!r}")
        for key, (low, high, what) in _DRAWING_BOUNDS.items():
            v = spec.get(key)
            if key in spec and (not isinstance(v, (int, float)) or isinstance(v, bool) or not low <= v <= high):
                raise _Problem(where + (key,), f"expected {what}, got {v!r}")
        if "values" in spec:
            _shape_of_values(spec["values"], where + ("values",))
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
                raise _Problem(path + (key,), f"{key!r} is for custom ops (custom.regularizer, custom.initializer, custom.constraint), not {op.name}")
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
    ({op, params, input_shape, weight (default kernel)}) as the reference lays it out.
    (None, None) when the sweep gives it."""
    sweep = case.get("sweep", {})
    if ("shape" in sweep or "kernel_of" in sweep) and "kernel_of" not in case and "shape" not in case:
        return None, None
    if ("shape" in case) == ("kernel_of" in case):
        raise _Problem(path, f"{op.name} needs either `shape` (the variable's shape) or `kernel_of` (a layer whose kernel it initializes)")
    if "shape" in case:
        return case["shape"], None
    return _kernel_of_shape(case["kernel_of"], path + ("kernel_of",))


def _kernel_of_shape(spec, where):
    if not isinstance(spec, dict) or not {"op", "input_shape"} <= set(spec) or not set(spec) <= {"op", "params", "input_shape", "weight"}:
        raise _Problem(where, f"expected {{op, params, input_shape, weight}} (weight defaults to kernel), got {spec!r}")
    layer = _resolve_op(spec["op"], where + ("op",))
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


TRAIN_KEYS = ("optimizer", "learning_rate", "steps", "loss", "trainable")
TRAIN_OPTIMIZERS = ("SGD",)  # plain SGD: w <- w - lr * g, which the reference states exactly
TRAIN_LOSSES = ("sum", "mean")  # what the step minimises: the sum or the mean of the layer's output
MAX_TRAIN_STEPS = 10


def _check_train(value, op, path) -> dict | None:
    """`train: {optimizer: SGD, learning_rate: 0.1, steps: 2, loss: sum, trainable: true}`, with
    its defaults filled in; None when absent."""
    if value is None:
        return None
    where = path + ("train",)
    if not isinstance(value, dict):
        raise _Problem(where, f"expected a mapping of {', '.join(TRAIN_KEYS)}, got {value!r}")
    for key in value:
        if key not in TRAIN_KEYS:
            raise _Problem(where + (key,), f"unknown key {key!r}{_did_you_mean(key, TRAIN_KEYS)}; allowed: {', '.join(TRAIN_KEYS)}")
    if not isinstance(op, LayerOp):
        raise _Problem(where, f"{op.name} is not a layer: only a layer's weights are trained")
    train = {"optimizer": "SGD", "learning_rate": 0.1, "steps": 2, "loss": "sum", "trainable": True, **value}
    if train["optimizer"] not in TRAIN_OPTIMIZERS:
        raise _Problem(where + ("optimizer",), f"expected one of {', '.join(TRAIN_OPTIMIZERS)}, got {train['optimizer']!r}")
    lr = train["learning_rate"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise _Problem(where + ("learning_rate",), f"expected a positive number, got {lr!r}")
    steps = train["steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_TRAIN_STEPS:
        raise _Problem(where + ("steps",), f"expected an integer from 1 to {MAX_TRAIN_STEPS}, got {steps!r}")
    if train["loss"] not in TRAIN_LOSSES:
        raise _Problem(where + ("loss",), f"expected one of {', '.join(TRAIN_LOSSES)}, got {train['loss']!r}")
    if not isinstance(train["trainable"], bool):
        raise _Problem(where + ("trainable",), f"expected true or false, got {train['trainable']!r}")
    return train


def _check_gradients(value, path) -> str | None:
    """`gradients: {skip: REASON}` -> REASON; absent -> None (checked)."""
    if value is None:
        return None
    if not (isinstance(value, dict) and set(value) == {"skip"} and isinstance(value["skip"], str) and value["skip"].strip()):
        raise _Problem(path + ("gradients",), f"expected {{skip: REASON}}, the reason not to check this case's gradients, got {value!r}")
    return value["skip"]


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


def _check_known(value, path, swept_keys, axis_values, folder) -> list[dict]:
    """`known`: the recorded divergence(s) a case's failure may be, by id in the folder's
    divergences.yaml: an id, a mapping {id, when}, or a list of them (the first that applies
    wins). Each `when` is a mapping (or a list of mappings, any of which may match) of a swept
    key, a fixed parameter (so that one shared entry fits cases that sweep it and cases that
    fix it) or an axis (op, dtype, mode) -> a value, or a list of values any of which matches."""
    if value is None:
        return []
    # a value set of several entries ({set: NAME}) inside the list is spliced into it
    entries = [e for item in (value if isinstance(value, list) else [value]) for e in (item if isinstance(item, list) else [item])]
    value = entries if isinstance(value, list) or len(entries) > 1 else value
    allowed = [*swept_keys, *(a for a in CASE_AXES if a not in swept_keys)]
    registry = load_registry(folder)[0]
    out = []
    for i, entry in enumerate(entries):
        p = path + (("known", i) if isinstance(value, list) else ("known",))
        if isinstance(entry, str):
            entry = {"id": entry}
        if not isinstance(entry, dict):
            raise _Problem(p, f"expected a divergence id, or a mapping with `id` (and optional `when`), got {entry!r}")
        for k in entry:
            if k not in KNOWN_KEYS:
                raise _Problem(p + (k,), f"unknown key {k!r}{_did_you_mean(k, KNOWN_KEYS)}; allowed: {', '.join(KNOWN_KEYS)}")
        divergence = registry.get(entry.get("id"))
        if divergence is None:
            raise _Problem(p, f"no divergence {entry.get('id')!r} in {display_path(Path(folder) / REGISTRY_FILE)}"
                              f"{_registry_did_you_mean(entry.get('id'), registry)}")
        when = entry.get("when")
        conditions = [] if when is None else when if isinstance(when, list) else [when]
        for j, condition in enumerate(conditions):
            q = p + (("when", j) if isinstance(when, list) else ("when",))
            if not isinstance(condition, dict) or not condition:
                raise _Problem(q, f"expected a mapping of swept key or axis -> value, got {condition!r}")
            for k, v in condition.items():
                if k not in allowed:
                    raise _Problem(q + (k,), f"{k!r} is neither a parameter of this case nor an axis; may name: {', '.join(allowed)}")
                if k == "mode" and any(m not in MODES for m in (v if isinstance(v, list) else [v])):
                    raise _Problem(q + (k,), f"unknown mode in {v!r}; modes: {', '.join(MODES)}")
                if k == "target" and any(t not in TARGETS for t in (v if isinstance(v, list) else [v])):
                    raise _Problem(q + (k,), f"unknown target in {v!r}; targets: {', '.join(TARGETS)}")
                if k in MACHINE_FACTS and any(f not in MACHINE_FACTS[k] for f in (v if isinstance(v, list) else [v])):
                    raise _Problem(q + (k,), f"{k} is a fact of the machine: one of {list(MACHINE_FACTS[k])}, got {v!r}")
        out.append({"divergence": divergence.compact(),
                    "when": [{k: _alternatives(v, axis_values.get(k)) for k, v in c.items()} for c in conditions]})
    return out


def _alternatives(value, axis_values) -> list:
    """The values a `when` entry accepts: a list means any of them, unless the list is
    itself one of the swept values (kernel_size: [3, 2])."""
    if isinstance(value, list) and not (axis_values and value in axis_values):
        return value
    return [value]


def _known_for(knowns: list[dict], axes: dict, labels: dict) -> dict | None:
    """The first recorded divergence whose conditions (if any) match this case's axes (a
    value named in a mapping sweep matches by its name too); the others that match too ride
    along as its `also`, for a failure with two parts that two divergences explain together
    (conformance.checks.known.judge_known)."""
    def matches(condition):
        return all(axes.get(k) in accepted or (k in labels and labels[k] in accepted) for k, accepted in condition.items())

    applying = [entry["divergence"] for entry in knowns
                # a divergence is recorded for the targets it was seen in, and holds only on a
                # machine with what it requires (oneDNN)
                if axes["target"] in entry["divergence"]["targets"] and _holds_on_machine(entry["divergence"], axes)
                and (not entry["when"] or any(matches(c) for c in entry["when"]))]
    if not applying:
        return None
    first, *others = applying
    return {**first, "also": others} if others else first


def _applying(entries, axes: dict) -> dict | None:
    """The first registry entry that says it holds wherever its `applies_to` matches (a kernel
    missing for a dtype), for a case none of whose own `known` applies and that expects no error
    (the arguments are rejected before any kernel runs). `entries`: applying_entries(folder).

    A condition with `run_dtype: true` (a case moved into a dtype by `run --dtypes`) explains a
    failure without requiring one ("strict": False): whether a precision divergence shows
    depends on the values of a case that was not written for it (a learning rate of 0.5 is
    exact in float32), and the catalogue's own cases in that dtype are the strict evidence."""
    for divergence in entries:
        if axes["target"] not in divergence.targets or not all(axes.get(k) == v for k, v in divergence.requires.items()):
            continue
        matched = [c for c in divergence.applies_to if all(axes.get(k) in accepted for k, accepted in c.items())]
        if matched:
            strict = not all(c.get("run_dtype") == (True,) for c in matched)
            return divergence.compact() if strict else {**divergence.compact(), "strict": False}
    return None


def _holds_on_machine(divergence: dict, axes: dict) -> bool:
    """An entry's `requires` (machine facts, conformance.machine) holds here."""
    return all(axes.get(k) == v for k, v in (divergence.get("requires") or {}).items())


def _shape_of_values(values, path) -> list[int]:
    """Shape of a rectangular nested list of numbers (null/inf/nan given as .inf/.nan)."""
    shape, level = [], values
    while isinstance(level, list):
        if not level:
            raise _Problem(path, "contains an empty list")
        shape.append(len(level))
        level = level[0]

    def check(v, depth):
        if depth == len(shape):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise _Problem(path, f"must hold numbers only, found {v!r}")
            return
        if not isinstance(v, list) or len(v) != shape[depth]:
            raise _Problem(path, f"not rectangular: expected shape {shape}")
        for item in v:
            check(item, depth + 1)

    check(values, 0)
    return shape
