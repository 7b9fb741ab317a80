"""Which divergence a fuzzed failure is: a recorded one (by the registry's signature logic,
conformance.checks.known) or a new one, and whether two failures are the same divergence.

A failure's own signature is written as the registry writes them (divergences.yaml), so
that "the same divergence" while shrinking is judged by the same `_matches` a recorded
divergence is judged by, and a new finding's signature can be copied into the registry.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from conformance.catalogue.loader import load_paths
from conformance.checks.known import _matches, _shape_failure, _worst
from conformance.checks.verdict import Verdict
from conformance.ops import get_op


def is_divergence(verdict: Verdict) -> bool:
    """A divergence is a fail, or an error whose cause is tf.keras's side: it hung or
    outgrew its memory (a stopped case records the side that was running). A fail where
    both sides raised is not one: the reference rejects the arguments and so does tf.keras,
    only with another exception type (InvalidArgumentError for ValueError), which the
    documentation does not promise."""
    if verdict.status == "fail":
        outcome = verdict.outcome or {}
        both_raised = all((outcome.get(side) or {}).get("error") for side in ("keras", "reference"))
        return not both_raised or (outcome["keras"]["error"]["type"] == "ProcessCrash")
    stopped = (verdict.outcome or {}).get("stopped") or {}
    return verdict.status == "error" and stopped.get("side") == "tf.keras"


def signature_of(verdict: Verdict) -> dict:
    """The failure's signature in the registry's form: {crash: SIGNAL}, {raises: {type}},
    {accepts: true} or {values: {shape, nonfinite}}; a hang or an overrun (no registry kind)
    as {stopped: REASON}."""
    outcome = verdict.outcome or {}
    stopped = outcome.get("stopped") or {}
    if verdict.status == "error" and stopped:
        return {"stopped": stopped.get("reason")}
    keras_error = (outcome.get("keras") or {}).get("error")
    reference_error = (outcome.get("reference") or {}).get("error")
    if keras_error and keras_error["type"] == "ProcessCrash":
        signal = (stopped.get("signal") or keras_error["message"].rsplit("signal ", 1)[-1].split()[0]).rstrip(";,")
        return {"crash": signal}
    if keras_error:
        return {"raises": {"type": keras_error["type"]}}
    if reference_error:
        return {"accepts": True}
    _, _, nonfinite = _worst(verdict.metrics or {})
    return {"values": {"shape": _shape_failure(verdict), "nonfinite": bool(nonfinite)}}


def subject_of(verdict: Verdict) -> str | None:
    """What failed first among the outputs and state variables (the diagnosis's subject)."""
    return (verdict.diagnosis or {}).get("subject")


def same_divergence(signature: dict, subject, verdict: Verdict) -> bool:
    """Is `verdict` the divergence of `signature` (and, for values, of the same output)?"""
    if not is_divergence(verdict):
        return False
    if "stopped" in signature:
        return signature_of(verdict) == signature
    if verdict.status != "fail" or not _matches(signature, verdict):
        return False
    return "values" not in signature or subject_of(verdict) == subject


@dataclass
class _Record:
    known: dict
    dtypes: set = field(default_factory=set)
    modes: set = field(default_factory=set)
    arguments: list = field(default_factory=list)  # each referring case's categorical arguments


class KnownDivergences:
    """The recorded divergences that the catalogue's cases of each op refer to, with the
    dtypes and modes those cases run in and the categorical arguments (names, booleans,
    null) they all set alike away from the default: `data_format: channels_first` for the
    channels-first bias bug.
    A fuzzed failure is counted under a recorded divergence when a case of its op refers to
    it in the failure's dtype and mode, its arguments agree with those shared ones, and its
    verdict matches the divergence's signature."""

    def __init__(self, paths=()):
        self.by_op: dict[str, dict[str, _Record]] = {}
        if not paths:
            return
        cases, _ = load_paths(list(paths))
        for case in cases:
            if not case.known:
                continue
            entry = self.by_op.setdefault(case.op, {}).setdefault(case.known["id"], _Record(case.known))
            entry.dtypes.add(case.dtype)
            entry.modes.add(case.mode)
            entry.arguments.append(_categorical(case.op, case.params))
        for op_name, entries in self.by_op.items():
            defaults = _categorical(op_name, {})
            for entry in entries.values():
                # what every referring case sets away from the default: the recorded
                # condition (channels_first), not what the cases happen to leave alone
                shared = {k: v for k, v in entry.arguments[0].items() if k not in defaults or defaults[k] != v}
                for arguments in entry.arguments[1:]:
                    shared = {k: v for k, v in shared.items() if arguments.get(k, object()) == v}
                entry.arguments = shared

    def __len__(self):
        return sum(len(v) for v in self.by_op.values())

    def match(self, case, verdict: Verdict) -> str | None:
        """The id of the recorded divergence this failure is, or None (a new one). Besides
        the op's own, a layer's activation and regularizer arguments bring the divergences
        recorded for those functions (gelu's float64 precision in Conv2D(activation="gelu"))."""
        if verdict.status != "fail":
            return None
        own = _categorical(case.op, case.params)
        for op_name in [case.op, *self._argument_ops(case.params)]:
            arguments = own if op_name == case.op else {}
            for ident, entry in self.by_op.get(op_name, {}).items():
                if case.dtype not in entry.dtypes or case.mode not in entry.modes:
                    continue
                if op_name == case.op and any(arguments.get(k, object()) != v for k, v in entry.arguments.items()):
                    continue
                if any(_matches(s, verdict) for s in entry.known["signature"]):
                    return ident
        return None


    def _argument_ops(self, params: dict) -> list[str]:
        """The recorded ops a layer's arguments name: "gelu" -> activations.gelu, "l1_l2" ->
        regularizers.l1_l2 and regularizers.L1L2 (a shortcut and its class are spelt alike but
        for case and underscores)."""
        wanted = {_spelling(pattern.format(value)) for key, value in params.items() if isinstance(value, str)
                  for ending, pattern in ARGUMENT_OPS.items() if key.endswith(ending)}
        return [name for name in self.by_op if _spelling(name) in wanted]


# A layer argument naming a function op: the argument (by its name's ending) -> the op's name.
ARGUMENT_OPS = {"activation": "activations.{}", "_regularizer": "regularizers.{}"}


def _spelling(name: str) -> str:
    return name.lower().replace("_", "")


def _categorical(op_name: str, params: dict) -> dict:
    """The case's arguments (defaults filled in) whose values are names, booleans or null."""
    try:
        arguments = get_op(op_name).arguments(params)
    except KeyError:
        arguments = dict(params)
    return {k: v for k, v in arguments.items() if v is None or isinstance(v, (str, bool))}
