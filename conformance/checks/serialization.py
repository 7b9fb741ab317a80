"""The serialization check: a layer case's copies through get_config/from_config, Keras
serialization and a `.keras` file must have the layer's config and give its outputs bit for bit.

The target makes the copies after the layer's forward calls, in eager mode
(conformance.target.tf_keras_serialization: which round trips, how the copies are made, the
sample of `.keras` files); this module judges what it reports. The Keras documentation
promises that `from_config(config)` "can reinstantiate the same layer" from `get_config()`, and
that a saved model comes back with its architecture and weights: a copy whose config differs
(an argument forgotten, a value changed), whose outputs differ in any bit (the same weights,
the same inputs, the same eager kernels), or a round trip that raises, fails the case's values
verdict, the message naming the round trip and how much differs.

The check does not depend on the reference, so it is judged whether or not the forward values
agree: a serialization failure is added to a forward failure, and a known divergence's `values`
or `gradients` signature does not match a failure that also has one (conformance.checks.known).
The record keeps `metrics.serialization`: the round trips checked and not checked (with the
reason), per round trip the config differences, per output the number of differing elements
and the largest difference, or the exception; `failed` lists the round trips that failed and
`alone` says whether they were the case's only failure (what a `serialization` signature needs).
"""
from __future__ import annotations

from conformance.checks.verdict import Verdict

# How each round trip is named in messages.
DESCRIPTIONS = {
    "from_config": "get_config/from_config",
    "serialize": "serialize_keras_object/deserialize_keras_object",
    "keras_file": "a .keras file (save/load_model)",
    "defaults": "each argument left out against its documented default",
}


def judge(verdict: Verdict, reported: dict | None) -> None:
    """Add the serialization check to a layer case's verdict (one whose ladder reached the
    comparison): metrics["serialization"], and a fail naming each round trip that changed the
    config or the outputs or raised."""
    if reported is None:  # a target that makes no copies (a stand-in in tests)
        verdict.metrics["serialization"] = {"checked": [], "not_checked": "the target gave no serialization result"}
        return
    metrics = dict(reported)
    messages = [m for name, entry in (reported.get("round_trips") or {}).items() for m in [problem(name, entry)] if m]
    metrics["failed"] = [name for name, entry in (reported.get("round_trips") or {}).items() if problem(name, entry)]
    metrics["alone"] = bool(messages) and verdict.status == "pass"
    verdict.metrics["serialization"] = metrics
    if not messages:
        return
    text = "serialization: " + "; ".join(messages)
    verdict.message = text if verdict.status == "pass" else f"{verdict.message}; {text}"
    verdict.status = "fail"


def problem(name: str, entry: dict) -> str | None:
    """What went wrong in one round trip, in words, or None."""
    what = f"the {name} round trip ({DESCRIPTIONS.get(name, name)})"
    parts = []
    if name == "defaults" and entry.get("config"):
        return "the defaults check: " + "; ".join(
            f"left out, {d['key']} is {d['original']} in get_config(), against {d['copy']} for its documented default "
            f"(from the {(entry.get('documented') or {}).get(d['key'].split('.')[0], 'signature')})" for d in entry["config"][:4])
    if entry.get("config"):
        changes = ", ".join(f"{d['key']}: {d['original']} -> {d['copy']}" for d in entry["config"][:4])
        more = len(entry["config"]) - 4
        parts.append(f"changes the config ({changes}{f', and {more} more' if more > 0 else ''})")
    if entry.get("error"):
        error = entry["error"]
        parts.append(f"raised {error['type']} during {error['phase']}: {error['message'][:300]}")
    for output, result in (entry.get("outputs") or {}).items():
        if result.get("identical"):
            continue
        if result.get("n_different") is None:
            parts.append(f"changes {output}: {result.get('note', 'missing')}")
        else:
            parts.append(f"changes {output}: {result['n_different']} of {result['n_elements']} elements differ, "
                         f"max abs difference {result['max_abs_difference']:.3g}")
    return f"{what} " + "; ".join(parts) if parts else None
