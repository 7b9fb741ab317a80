"""The registry of known divergences: one entry per finding, in the `divergences.yaml` of a
catalogue folder (beside `values.yaml`). Cases refer to an entry by id (`known: ID`), and a
failure of such a case counts as that finding only when it matches the entry's signature.

An entry:
    conv-channels-first-bias-axis:
      category: wrong-result              # one of CATEGORIES
      title: one line, what tf.keras does wrong
      documentation: the sentence of the docs it contradicts, quoted
      evidence: what was observed, how it was shown (a standalone script, exact differences)
      links: [upstream issues or pull requests]
      seen: {tensorflow: 2.21.0, keras: 3.15.1}   # the versions it was observed on (keras: the target's package)
      targets: [tf.keras]                  # optional: the targets it was seen in (conformance.axes.TARGETS;
                                           # default tf.keras); a case of another target does not get it
      signature: {values: {max_abs_error: 1e-6}}   # what the failure must look like
      script: docs/findings/file.py        # optional: the standalone script, relative to the repository
      applies_to: {op: [AveragePooling3D], dtype: float16}   # optional: every case whose axes (op, dtype,
                                           # mode, target, check; run_dtype: true when the dtype
                                           # came from `run --dtypes`) and parameters match meets it, whatever its file,
                                           # unless the case's own `known` applies or it expects an error (a
                                           # mapping or a list of them; a list value means any of its values):
                                           # a kernel missing for a dtype, recorded once rather than in each
                                           # case, as a --dtypes run needs; a machine fact
                                           # (onednn: true/false, conformance.machine) may be a condition
      requires: {onednn: true}             # optional: the machine facts without which it does not hold; on
                                           # another machine no case meets it and its script is not run

Signatures (one mapping, or a list of them: any may match):
    raises: {type: NAME or [NAMES], match: REGEX}  tf.keras raised this type (or a subclass),
                                                   its message matching REGEX if given
    crash: SIGFPE                                  the process running tf.keras died of this signal
    accepts: true                                  the case expects an error, tf.keras returned an output
    values: {max_abs_error: X, max_rel_error: X,   both returned and the comparison failed; optional
             nonfinite: true|false, shape: true}   bounds on the worst error (output and state), whether
                                                   the failure is NaN/Inf where the reference has a
                                                   number (or the reverse), and whether it is the shape
    gradients: {of: [inputs/x, weights/kernel]}    the forward values agree and the gradient check fails
                                                   (conformance.checks.gradients); `of`, optional: only
                                                   for these variables ("raised": tf.keras raised
                                                   computing the gradient)
    serialization: {via: [from_config, serialize,  the forward values and gradients agree and a copy of
                          keras_file]}             the layer through these round trips changes its config
                                                   or outputs, or raises (conformance.checks.serialization);
                                                   `via`, optional: only these round trips
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from conformance.axes import DEFAULT_TARGET, MODES, TARGETS
from conformance.catalogue import yaml_lines
from conformance.machine import FACTS as MACHINE_FACTS

REGISTRY_FILE = "divergences.yaml"

# category -> (counts against tf.keras's conformance?, what it means). The policy is in the README.
CATEGORIES = {
    "wrong-result": (True, "tf.keras returns values the documented semantics do not give"),
    "crash": (True, "tf.keras kills the process (a signal in a kernel)"),
    "accepts-invalid": (True, "tf.keras accepts arguments or inputs its documentation rejects, and computes something"),
    "rejects-valid": (True, "tf.keras raises for arguments its documentation accepts"),
    "missing-kernel": (True, "a documented dtype, data format or mode has no kernel: tf.keras raises"),
    "precision": (True, "results below the accuracy of the documented dtype (float64 computed through float32)"),
    "ieee-edge": (False, "inf/NaN handling where the documentation gives no promise; the reference gives the limit"),
    "documentation-mismatch": (False, "the code is reasonable, the documentation says otherwise"),
}
ENTRY_KEYS = ("category", "title", "documentation", "evidence", "links", "seen", "signature", "script", "targets",
              "applies_to", "requires")
REQUIRED_KEYS = ("category", "title", "evidence", "seen", "signature")
SIGNATURE_KINDS = ("raises", "crash", "accepts", "values", "gradients", "serialization")
SERIALIZATION_ROUND_TRIPS = ("from_config", "serialize", "keras_file", "defaults")  # conformance.target.tf_keras_serialization
VALUES_KEYS = ("max_abs_error", "max_rel_error", "nonfinite", "shape")
SIGNALS = ("SIGFPE", "SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGKILL")
_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Divergence:
    id: str
    category: str
    title: str
    evidence: str
    seen: dict
    signature: tuple  # of one-kind mappings, any of which may match
    documentation: str = ""
    links: tuple = ()
    script: str | None = None
    targets: tuple = (DEFAULT_TARGET,)
    applies_to: tuple = ()  # of {key: (accepted values)}: the cases it holds for without naming it
    requires: dict = field(default_factory=dict)  # machine fact -> value (conformance.machine)
    file: str = ""
    line: int = 0

    @property
    def counts_against(self) -> bool:
        return CATEGORIES[self.category][0]

    def compact(self) -> dict:
        """What a case record carries: enough to judge a failure and name the finding."""
        return {"id": self.id, "category": self.category, "title": self.title, "signature": list(self.signature),
                "links": list(self.links), "targets": list(self.targets), **({"requires": dict(self.requires)} if self.requires else {})}

    def to_json(self) -> dict:
        return {"id": self.id, "category": self.category, "counts_against": self.counts_against, "title": self.title,
                "documentation": self.documentation, "evidence": self.evidence, "links": list(self.links),
                "seen": dict(self.seen), "signature": list(self.signature), "script": self.script, "targets": list(self.targets),
                "requires": dict(self.requires), "file": self.file, "line": self.line}


class RegistryError(Exception):
    def __init__(self, file: str, line: int | None, key: str, message: str):
        super().__init__(message)
        self.file, self.line, self.key, self.message = file, line, key, message


def did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def registry_path(catalogue_file: Path) -> Path:
    return Path(catalogue_file).parent / REGISTRY_FILE


def load_registry(folder) -> tuple[dict[str, Divergence], list[RegistryError]]:
    """The divergences of a catalogue folder (empty without a registry file), and the problems
    found in it, each naming file, line and key. Read once per folder and process."""
    return _load(str(Path(folder).resolve()))


def applying_entries(folder) -> tuple[Divergence, ...]:
    """The entries of a folder's registry that hold wherever their `applies_to` matches, in
    the registry's order: the loader asks them of every case, so it picks them out once per
    catalogue entry rather than scanning the whole registry per case. Derived from the cached
    registry each time, so that clearing that one cache is enough."""
    return tuple(d for d in load_registry(folder)[0].values() if d.applies_to)


@lru_cache(maxsize=None)
def _load(folder: str):
    from conformance.catalogue.loader import display_path

    path = Path(folder) / REGISTRY_FILE
    if not path.is_file():
        return {}, []
    shown = display_path(path)
    try:
        document, lines = yaml_lines.load(path.read_text(encoding="utf-8"))
    except yaml_lines.YamlError as exc:
        return {}, [RegistryError(shown, exc.line, "", str(exc))]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [RegistryError(shown, None, "", f"cannot read the file: {exc}")]
    if not isinstance(document, dict) or set(document) - {"description", "divergences"} \
            or not isinstance(document.get("divergences"), dict):
        return {}, [RegistryError(shown, 1, "", "a divergences file is a mapping with `divergences: {id: entry, ...}` "
                                                "(and an optional `description`)")]
    entries, errors = {}, []
    for key, raw in document["divergences"].items():
        try:
            entries[key] = _entry(key, raw, shown, lines)
        except RegistryError as exc:
            errors.append(exc)
    return entries, errors


def _entry(key, raw, shown, lines) -> Divergence:
    def fail(path, message):
        full = ("divergences", key) + path
        raise RegistryError(shown, yaml_lines.line_of(lines, full), ".".join(str(p) for p in (key,) + path), message)

    if not isinstance(key, str) or not _ID_RE.match(key):
        fail((), f"an id is lowercase words joined by '-' (e.g. conv-channels-first-bias-axis), got {key!r}")
    if not isinstance(raw, dict):
        fail((), f"expected a mapping with {', '.join(REQUIRED_KEYS)}, got {raw!r}")
    for k in raw:
        if k not in ENTRY_KEYS:
            fail((k,), f"unknown key {k!r}{did_you_mean(k, ENTRY_KEYS)}; allowed: {', '.join(ENTRY_KEYS)}")
    for k in REQUIRED_KEYS:
        if k not in raw:
            fail((), f"a divergence needs `{k}`")
    if raw["category"] not in CATEGORIES:
        fail(("category",), f"unknown category {raw['category']!r}{did_you_mean(raw['category'], CATEGORIES)}; "
                            f"categories: {', '.join(CATEGORIES)}")
    for k in ("title", "evidence", "documentation", "script"):
        if k in raw and (not isinstance(raw[k], str) or not raw[k].strip()):
            fail((k,), f"expected a non-empty string, got {raw[k]!r}")
    links = raw.get("links", [])
    if not isinstance(links, list) or not all(isinstance(u, str) and u.startswith("http") for u in links):
        fail(("links",), f"expected a list of URLs, got {links!r}")
    seen = raw["seen"]
    if not isinstance(seen, dict) or set(seen) != {"tensorflow", "keras"} or not all(isinstance(v, str) for v in seen.values()):
        fail(("seen",), f"expected {{tensorflow: VERSION, keras: VERSION}} (versions as strings), got {seen!r}")
    targets = raw.get("targets", [DEFAULT_TARGET])
    if not isinstance(targets, list) or not targets or any(t not in TARGETS for t in targets):
        fail(("targets",), f"expected a non-empty list of targets from {', '.join(TARGETS)}, got {targets!r}")
    signature = raw["signature"]
    alternatives = signature if isinstance(signature, list) else [signature]
    if not alternatives:
        fail(("signature",), "expected a signature mapping or a non-empty list of them")
    for i, alternative in enumerate(alternatives):
        problem = signature_problem(alternative)
        if problem:
            fail(("signature", i) if isinstance(signature, list) else ("signature",), problem)
    applies_to = raw.get("applies_to", [])
    conditions = applies_to if isinstance(applies_to, list) else [applies_to]
    for i, condition in enumerate(conditions):
        where = ("applies_to", i) if isinstance(applies_to, list) else ("applies_to",)
        if not isinstance(condition, dict) or not condition or not all(isinstance(k, str) for k in condition):
            fail(where, f"expected a mapping of axis (op, dtype, mode, target) or parameter -> value or list of values, got {condition!r}")
        for axis, known_names in (("mode", MODES), ("target", TARGETS), *MACHINE_FACTS.items()):
            values = condition.get(axis, [])
            bad = [v for v in (values if isinstance(values, list) else [values]) if v not in known_names]
            if bad and axis in MACHINE_FACTS:
                fail(where + (axis,), f"{axis} is a fact of the machine: one of {list(known_names)}, got {bad[0]!r}")
            if bad:
                fail(where + (axis,), f"unknown {axis} {bad[0]!r}; {axis}s: {', '.join(known_names)}")
    requires = raw.get("requires", {})
    if not isinstance(requires, dict) or any(k not in MACHINE_FACTS or v not in MACHINE_FACTS[k] for k, v in requires.items()):
        fail(("requires",), f"expected a mapping of machine fact -> value ({', '.join(f'{k}: {list(v)}' for k, v in MACHINE_FACTS.items())}), got {requires!r}")
    return Divergence(id=key, category=raw["category"], title=raw["title"].strip(), evidence=raw["evidence"].strip(),
                      seen=dict(seen), signature=tuple(alternatives), documentation=(raw.get("documentation") or "").strip(),
                      links=tuple(links), script=raw.get("script"), targets=tuple(targets),
                      applies_to=tuple({k: tuple(v) if isinstance(v, list) else (v,) for k, v in c.items()} for c in conditions),
                      requires=dict(requires),
                      file=shown,
                      line=yaml_lines.line_of(lines, ("divergences", key)) or 0)


def signature_problem(signature) -> str | None:
    """What is wrong with one signature mapping, or None."""
    if not isinstance(signature, dict) or len(signature) != 1:
        return f"a signature is a mapping of exactly one of {', '.join(SIGNATURE_KINDS)}, got {signature!r}"
    (kind, spec), = signature.items()
    if kind not in SIGNATURE_KINDS:
        return f"unknown signature {kind!r}{did_you_mean(kind, SIGNATURE_KINDS)}; kinds: {', '.join(SIGNATURE_KINDS)}"
    if kind == "raises":
        if not isinstance(spec, dict) or "type" not in spec or set(spec) - {"type", "match"}:
            return f"raises: expected {{type: NAME or [NAMES], match: REGEX}}, got {spec!r}"
        types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        if not types or not all(isinstance(t, str) for t in types):
            return f"raises.type: expected an exception name or a list of them, got {spec['type']!r}"
        if "match" in spec:
            try:
                re.compile(spec["match"])
            except (re.error, TypeError) as exc:
                return f"raises.match: not a valid regular expression: {exc}"
    elif kind == "crash":
        if spec not in SIGNALS:
            return f"crash: expected a signal name ({', '.join(SIGNALS)}), got {spec!r}"
    elif kind == "accepts":
        if spec is not True:
            return f"accepts: expected true, got {spec!r}"
    elif kind == "gradients":
        spec = {} if spec is None else spec
        if not isinstance(spec, dict) or set(spec) - {"of"} or not (
                isinstance(spec.get("of", []), list) and all(isinstance(n, str) for n in spec.get("of", []))):
            return f"gradients: expected {{of: [inputs/NAME, weights/NAME, raised]}} (or nothing), got {spec!r}"
    elif kind == "serialization":
        spec = {} if spec is None else spec
        via = spec.get("via", []) if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or set(spec) - {"via"} or not isinstance(via, list) or not via and "via" in spec:
            return f"serialization: expected {{via: [{', '.join(SERIALIZATION_ROUND_TRIPS)}]}} (or nothing), got {spec!r}"
        for name in via:
            if name not in SERIALIZATION_ROUND_TRIPS:
                return (f"serialization.via: unknown round trip {name!r}{did_you_mean(name, SERIALIZATION_ROUND_TRIPS)}; "
                        f"round trips: {', '.join(SERIALIZATION_ROUND_TRIPS)}")
    else:
        spec = {} if spec is None else spec
        if not isinstance(spec, dict) or set(spec) - set(VALUES_KEYS):
            return f"values: expected a mapping of {', '.join(VALUES_KEYS)} (or nothing), got {spec!r}"
        for k in ("max_abs_error", "max_rel_error"):
            if k in spec and (not isinstance(spec[k], (int, float)) or isinstance(spec[k], bool) or spec[k] <= 0):
                return f"values.{k}: expected a positive number, got {spec[k]!r}"
        for k in ("nonfinite", "shape"):
            if k in spec and not isinstance(spec[k], bool):
                return f"values.{k}: expected true or false, got {spec[k]!r}"
    return None


def describe(signature: dict) -> str:
    """One signature in words, for messages."""
    (kind, spec), = signature.items()
    if kind == "raises":
        types = " or ".join(spec["type"] if isinstance(spec["type"], list) else [spec["type"]])
        return f"tf.keras raises {types}" + (f" matching {spec['match']!r}" if spec.get("match") else "")
    if kind == "crash":
        return f"the process running tf.keras is killed by {spec}"
    if kind == "accepts":
        return "tf.keras returns an output where an error is expected"
    if kind == "gradients":
        of = (spec or {}).get("of")
        return "the gradient check fails" + (f" for {', '.join(of)} only" if of else "")
    if kind == "serialization":
        via = (spec or {}).get("via")
        return "a serialization round trip changes the layer" + (f" ({', '.join(via)} only)" if via else "")
    spec = spec or {}
    parts = ["the output's shape differs" if spec.get("shape") else "values out of tolerance"]
    if spec.get("nonfinite") is True:
        parts.append("with NaN/Inf where the reference has a number (or the reverse)")
    if spec.get("nonfinite") is False:
        parts.append("all finite")
    if "max_abs_error" in spec:
        parts.append(f"max abs error <= {spec['max_abs_error']:g}")
    if "max_rel_error" in spec:
        parts.append(f"max rel error <= {spec['max_rel_error']:g}")
    return ", ".join(parts)


__all__ = ["CATEGORIES", "Divergence", "REGISTRY_FILE", "RegistryError", "describe", "load_registry",
           "registry_path", "signature_problem"]
