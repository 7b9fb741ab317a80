"""Is this failure the recorded one? A failing verdict of a case that refers to a known
divergence is an xfail only when it matches the divergence's signature
(conformance.catalogue.divergences); any other failure stays a fail, so a new bug inside a
sweep recorded for something else is not hidden."""
from __future__ import annotations

from dataclasses import replace

from conformance.catalogue.divergences import describe
from conformance.checks.verdict import Verdict, raised
from conformance.outcome import SideOutcome


def judge_known(known: dict, verdict: Verdict) -> Verdict:
    """The verdict as the catalogue records it: fail -> xfail when the signature matches,
    pass -> xpass (a pass stays a pass where the entry only explains a failure, "strict":
    False: conformance.catalogue.loader._applying); anything else unchanged."""
    if verdict.status == "pass" and known.get("strict") is False:
        return verdict
    if verdict.status == "pass":
        return replace(verdict, status="xpass",
                       message=f"recorded divergence {known['id']} no longer diverges ({known['title']})")
    if verdict.status != "fail":
        return verdict
    if any(_matches(signature, verdict) for signature in known["signature"]):
        return replace(verdict, status="xfail")
    together = _explained_together(known, verdict)
    if together:
        return replace(verdict, status="xfail", message=f"{verdict.message} (recorded as {' and '.join(together)})")
    # another recorded divergence of the case that applies here may explain the failure alone
    # (a case swept into a dtype or a mode where a second entry holds, as a raise before the values)
    alone = next((each for each in known.get("also", []) if any(_matches(s, verdict) for s in each["signature"])), None)
    if alone is not None:
        return replace(verdict, status="xfail", message=f"{verdict.message} (recorded as {alone['id']})")
    expected = "; or ".join(describe(s) for s in known["signature"])
    message = (f"not the recorded divergence {known['id']} ({expected}): {what_happened(verdict)}. "
               f"{verdict.message}")
    return replace(verdict, message=message)


def _explained_together(known: dict, verdict: Verdict) -> list[str] | None:
    """The ids of the case's recorded divergences (two or more) that together explain a failure
    of several parts, or None: the round trips that changed the layer, each named by some
    divergence's `serialization` signature (its `via`), and the rest of the failure, if any,
    matched by another's signature as if the round trips had agreed. Those are all the parts a
    case's failure can have: the gradient check runs only where the forward values agree."""
    knowns = [known, *known.get("also", [])]
    serialization = (verdict.metrics or {}).get("serialization") or {}
    failed = set(serialization.get("failed") or [])
    if len(knowns) < 2 or not failed:
        return None
    used, covered = [], set()
    for each in knowns:
        for signature in each["signature"]:
            if "serialization" in signature:
                via = (signature["serialization"] or {}).get("via")
                named = failed if via is None else failed & set(via)
                if named - covered:
                    covered |= named
                    used.append(each["id"])
    if covered != failed:
        return None
    if not serialization.get("alone"):
        without = replace(verdict, metrics={**verdict.metrics, "serialization": {}})
        rest = next((each for each in knowns if each["id"] not in used
                     and any("serialization" not in s and _matches(s, without) for s in each["signature"])), None)
        if rest is None:
            return None
        used.append(rest["id"])
    return used if len(used) > 1 else None


def what_happened(verdict: Verdict) -> str:
    keras_error, reference_error = _errors(verdict)
    if keras_error:
        return f"tf.keras raised {keras_error['type']}: {keras_error['message'][:200]}"
    if reference_error:
        return "tf.keras returned an output where the reference raises"
    metrics = verdict.metrics or {}
    if (metrics.get("gradients") or {}).get("failed"):
        return f"the forward values agree, the gradient check fails for {', '.join(metrics['gradients']['failed'])}"
    if (metrics.get("serialization") or {}).get("alone"):
        return f"the forward values and gradients agree, the serialization check fails for {', '.join(metrics['serialization']['failed'])}"
    if _shape_failure(verdict):
        return "the output's shape differs"
    worst_abs, worst_rel, nonfinite = _worst(metrics)
    what = f"values out of tolerance, max abs error {worst_abs:.3g}, max rel error {worst_rel:.3g}"
    return what + (", with NaN/Inf mismatches" if nonfinite else "")


def _errors(verdict: Verdict):
    outcome = verdict.outcome or {}
    return (outcome.get("keras") or {}).get("error"), (outcome.get("reference") or {}).get("error")


def _shape_failure(verdict: Verdict) -> bool:
    """The comparison stopped at the shapes (conformance.compare: no element was compared)."""
    return not (verdict.metrics or {}).get("n_elements") and "shape differs" in verdict.message


def _worst(metrics: dict) -> tuple[float, float, bool]:
    """The worst errors over the output, the state variables (losses, moving statistics) and
    the weights after training steps."""
    parts = [metrics, *(metrics.get("state") or {}).values(),
             # a training case (conformance.checks.training): each weight after each step
             *(w for step in metrics.get("steps") or [] for w in (step.get("weights") or {}).values())]
    worst_abs = max((float(p.get("max_abs_error", 0.0)) for p in parts), default=0.0)
    worst_rel = max((float(p.get("max_rel_error", 0.0)) for p in parts), default=0.0)
    nonfinite = any(p.get("n_nonfinite_mismatch", 0) for p in parts)
    return worst_abs, worst_rel, nonfinite


def _matches(signature: dict, verdict: Verdict) -> bool:
    (kind, spec), = signature.items()
    keras_error, reference_error = _errors(verdict)
    if kind == "raises":
        if not keras_error:
            return False
        types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        side = SideOutcome(error=keras_error)
        return any(raised(side, t, spec.get("match")) for t in types)
    if kind == "crash":
        return bool(keras_error) and keras_error["type"] == "ProcessCrash" and spec in keras_error["message"]
    if kind == "accepts":
        return bool(reference_error) and not keras_error
    failed_gradients = ((verdict.metrics or {}).get("gradients") or {}).get("failed")
    # a round trip that changed the layer (conformance.checks.serialization) is a failure of its
    # own: only a `serialization` signature matches it, and only when it is the case's only failure
    serialization = (verdict.metrics or {}).get("serialization") or {}
    if kind == "serialization":
        via = (spec or {}).get("via")
        return bool(serialization.get("alone")) and (via is None or set(serialization["failed"]) <= set(via))
    if serialization.get("failed"):
        return False
    if kind == "gradients":
        of = (spec or {}).get("of")
        return bool(failed_gradients) and (of is None or set(failed_gradients) <= set(of))
    # values: both sides returned and the check's comparison of the forward values failed
    if keras_error or reference_error or failed_gradients:
        return False
    spec = spec or {}
    metrics = verdict.metrics or {}
    if spec.get("shape", False) != _shape_failure(verdict):
        return False
    worst_abs, worst_rel, nonfinite = _worst(metrics)
    if "nonfinite" in spec and spec["nonfinite"] != nonfinite:
        return False
    if "max_abs_error" in spec and not worst_abs <= spec["max_abs_error"]:
        return False
    return "max_rel_error" not in spec or worst_rel <= spec["max_rel_error"]
