"""`conformance divergence ID`: one known divergence as a report ready to file upstream.

The report gives the title, the documentation sentence it contradicts, the evidence and
links of the registry entry, the versions it was seen on, and a standalone script (numpy
and tensorflow only, no harness) built from the smallest case that refers to it: the
inputs, weights and the expected values of the documented semantics are written out as
literals, computed here by the reference. The script prints what tf.keras does and what
the documentation gives, and exits 0 when tf.keras still diverges, 1 when it agrees. An
entry whose cases cannot be written that way (several inputs, wrapped layers, sampled
initializers) names its hand-written script (`script:` in the registry) instead.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np

from conformance.axes import MODES
from conformance.catalogue.model import POLICIES, Case
from conformance.ops import FunctionOp, LayerOp, get_op

# How the generated script calls the op in each mode (conformance.axes.MODES as source text).
MODE_SOURCE = {
    "eager": "{fn}",
    "function": "tf.function({fn})",
    "xla": "tf.function({fn}, jit_compile=True)",
}
assert set(MODE_SOURCE) == set(MODES), "every mode needs its source form here"
MODE_ORDER = {name: i for i, name in enumerate(MODES)}


def size_of(case: Case) -> int:
    shapes = case.input_shapes_json() or {}
    return sum(math.prod(s) for s in shapes.values()) if isinstance(shapes, dict) else 0


def cases_of(cases, ident: str) -> list[Case]:
    return [c for c in cases if c.known and c.known.get("id") == ident]


def counts_on_every_machine(paths, targets, entries, loaded_here=None) -> dict[str, int]:
    """Divergence id -> how many cases record it on some machine: the catalogue loaded once
    per combination of machine facts (conformance.machine), so that a divergence that needs
    oneDNN counts its cases on a machine without it too, and the README's list is the same
    wherever it is generated. `loaded_here`: the same paths and targets already loaded on this
    machine, which stand for its own combination instead of a second load."""
    from conformance import machine
    from conformance.catalogue.loader import load_paths

    ids: dict[str, set] = {i: set() for i in entries}
    for facts in machine.every_machine():
        if loaded_here is not None and facts == machine.facts():
            cases = loaded_here
        else:
            with machine.assuming(facts):
                cases, _ = load_paths(paths, targets)
        for c in cases:
            if c.known and c.known.get("id") in ids:
                ids[c.known["id"]].add(c.id)
    return {i: len(found) for i, found in ids.items()}


def smallest_case(cases: list[Case]) -> Case | None:
    """The case to show: one a script can be written for if any, then the fewest input
    elements, eager before compiled modes, then by id."""
    if not cases:
        return None
    return min(cases, key=lambda c: (not writable(c), size_of(c), MODE_ORDER.get(c.mode, 99), c.id))


def writable(case: Case) -> bool:
    """Can this case be written as a script of numpy and tensorflow alone?"""
    if case.train:  # optimizer steps: the generated script shows forward values only
        return False
    if case.dtype in POLICIES:  # a policy's output and variable dtypes are judged too: the hand-written script shows them
        return False
    op = get_op(case.op)
    if isinstance(op, FunctionOp):
        return op.family in ("activations", "regularizers")
    return (isinstance(op, LayerOp) and op.input_names == ("x",) and op.keras_params is None
            and case.calls == 1 and not op.stochastic and all(not isinstance(v, str) for v in case.call.values()))


def _literal(value) -> str:
    """Python source for a value: arrays as np.array(nested lists) at full float64 precision."""
    if isinstance(value, np.ndarray):
        kind = "bool" if value.dtype == bool else ("np.int64" if np.issubdtype(value.dtype, np.integer) else "np.float64")
        return f"np.array({value.tolist()!r}, dtype={kind})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, np.ndarray) for v in value):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def standalone_script(case: Case, divergence: dict) -> str | None:
    """The script for `case`, or None when it cannot be written without the harness."""
    from conformance.checks.values import error_bound, run_function_reference, run_reference
    from conformance.runner.inputs import layer_feeds, make_inputs

    if not writable(case):
        return None
    if any("gradients" in signature or "serialization" in signature for signature in divergence["signature"]):
        return None  # the generated script shows forward values; a gradient's or a round trip's needs its hand-written script
    op = get_op(case.op)
    if (getattr(op, "keras_call", None) is not None or getattr(op, "adapt", None) is not None) and divergence.get("script"):
        return None  # a layer called (a mask, several outputs) or adapted its own way: the hand-written script shows it
    kind = next(iter(divergence["signature"][0]))
    tol = case.effective_tolerance
    if isinstance(op, FunctionOp):
        (x,) = make_inputs(case)[:1]
        reference = run_function_reference(op, case, x)
        reference.error_bound = error_bound(op, case, x, {}, {}, reference.output)
        name = case.op.split(".", 1)[1]
        if op.family == "activations":
            call = f"keras.activations.{name}(x, **params)"
        else:
            call = f"keras.regularizers.{name}(**params)(x)"
        setup = ""
        fn = f"lambda x: {call}"
        weights = {}
        call_args = {}
    else:
        inputs, calls = layer_feeds(case, op)
        x = inputs[0]
        reference, weights = run_reference(op, case, inputs, calls)
        call_args = calls[0]
        setup = (
            f"layer = keras.layers.{op.keras_class}(**params, dtype=dtype)\n"
            "layer.build(x.shape)\n"
            "for variable in layer.weights:  # the weights the reference used, by their path in the layer\n"
            "    name = \"/\".join(re.sub(r\"_\\d+$\", \"\", part) for part in variable.path.split(\"/\")[1:])\n"
            "    if name not in weights:\n"
            "        continue\n"
            "    if tuple(variable.shape) != weights[name].shape:\n"
            "        print(f'tf.keras builds {name} with shape {tuple(variable.shape)}; the documented layout is {weights[name].shape}')\n"
            "        raise SystemExit(0)\n"
            "    variable.assign(weights[name].astype(variable.dtype))\n"
        )
        fn = "lambda x: layer(x, **call)"
    # a mixed precision policy's inputs are fed as float32 (holding compute-dtype values)
    x_dtype = ("np.int64" if np.issubdtype(np.asarray(x).dtype, np.integer)
               else "np.float32" if case.dtype in POLICIES else None)
    expected = None if reference.output is None else np.asarray(reference.output, dtype=np.float64)
    mode_fn = MODE_SOURCE[case.mode].format(fn=fn)
    doc = divergence.get("documentation") or ""
    head = [
        f'"""{divergence["title"]}',
        "",
        f"Documented: {doc}" if doc else "Documented: see the layer's docstring.",
        f"Known divergence {divergence['id']} ({divergence['category']}); from the conformance case",
        f"{case.id}. Exits 0 while tf.keras diverges, 1 once it agrees.",
        '"""',
        "import re",
        "",
        "import numpy as np",
        "import tensorflow as tf",
        "",
        "keras = tf.keras",
        "inf, nan = np.inf, np.nan",
        "print('tensorflow', tf.__version__, 'keras', keras.__version__, flush=True)",
        f"dtype = {case.dtype!r}",
        f"params = {_literal(case.params)}",
        f"call = {_literal(call_args)}",
        f"x = np.array({np.asarray(x).tolist()!r}).astype({x_dtype or 'dtype'})",
        f"weights = {_literal(weights)}",
    ]
    prepare = setup + f"run = {mode_fn}  # mode: {case.mode}"
    # where the finding is an error, building the layer is inside the `try`: it may be what raises
    body = [] if kind in ("accepts", "raises", "crash") or (expected is None and reference.error) else [prepare]
    inside = textwrap.indent(prepare, "    ") + "\n"
    if kind == "accepts" or (expected is None and reference.error):
        message = (reference.error or {}).get("message", "")
        body.append(
            "try:\n" + inside +
            "    out = run(tf.constant(x))\n"
            "except Exception as exc:\n"
            "    print('tf.keras raises', type(exc).__name__, '- as documented')\n"
            "    raise SystemExit(1)\n"
            "print('tf.keras returns an output of shape', tuple(out.shape))\n"
            f"print('documented: an error:', {message[:300]!r})\n"
            "raise SystemExit(0)"
        )
    elif kind in ("raises", "crash"):
        body.append(
            f"expected = {_literal(expected)}\n"
            "try:\n" + inside +
            "    out = np.asarray(run(tf.constant(x)))\n"
            "except Exception as exc:\n"
            "    print('tf.keras raises', type(exc).__name__ + ':', str(exc).strip().splitlines()[-1][:300])\n"
            "    print('documented: an output of shape', expected.shape)\n"
            "    raise SystemExit(0)\n"
            "print('tf.keras returns shape', out.shape, '; max |tf.keras - documented| =', np.max(np.abs(out - expected)))\n"
            "raise SystemExit(1)"
        )
    else:
        body.append(
            f"expected = {_literal(expected)}  # the documented formula in float64\n"
            "try:\n"
            "    out = np.asarray(run(tf.constant(x)), dtype=np.float64)\n"
            "except Exception as exc:\n"
            "    print('tf.keras raises', type(exc).__name__ + ':', str(exc).strip().splitlines()[-1][:300])\n"
            "    raise SystemExit(1)\n"
            "if isinstance(out, np.ndarray) and out.shape != expected.shape:\n"
            "    print('tf.keras shape', out.shape, 'documented', expected.shape)\n"
            "    raise SystemExit(0)\n"
            "same = (out == expected) | (np.isnan(out) & np.isnan(expected))  # equal infinities, NaN where NaN is documented\n"
            "with np.errstate(invalid='ignore'):\n"
            "    error = np.where(same, 0.0, np.abs(out - expected))\n"
            "error = np.where(np.isnan(error), np.inf, error)\n"
            "worst = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()\n"
            "print('tf.keras  ', out[worst] if error.ndim else out, 'at', worst)\n"
            "print('documented', expected[worst] if error.ndim else expected)\n"
            "print('max |tf.keras - documented| =', error.max())\n"
            + (f"allowed = {_literal(np.asarray(reference.error_bound, dtype=np.float64))}  # the op's error bound in {case.dtype}\n"
               "special = ~same & ~(np.isfinite(out) & np.isfinite(expected))  # NaN or an infinity on one side only\n"
               "with np.errstate(invalid='ignore', divide='ignore'):\n"
               "    ratio = np.where(special, np.inf, np.where(error > 0, error / allowed, 0.0))\n"
               "print('worst error / error bound =', float(np.max(ratio, initial=0.0)))\n"
               "diverges = bool(np.any(special) or np.any(error > allowed))\n"
               if reference.error_bound is not None else
               f"diverges = not np.allclose(out, expected, rtol={tol['rtol']!r}, atol={tol['atol']!r}, equal_nan=True)\n")
            + (f"expected_losses = {float(reference.state['losses'])!r}  # the documented regularization penalties\n"
               "losses = float(sum(np.asarray(loss, np.float64) for loss in layer.losses))\n"
               "print('layer.losses', losses, 'documented', expected_losses)\n"
               f"diverges = diverges or not np.isclose(losses, expected_losses, rtol={tol['rtol']!r}, atol={tol['atol']!r})\n"
               if "losses" in (reference.state or {}) else "")
            + "raise SystemExit(0 if diverges else 1)"
        )
    return "\n".join(head) + "\n\n" + "\n".join(body) + "\n"


def diagnosis_of(case: Case | None, divergence: dict) -> str | None:
    """The diagnosis sentence of a values divergence (conformance.diagnosis), from running
    `case` once on both sides; None for other signatures or when the case does not fail."""
    if case is None or not any("values" in signature for signature in divergence["signature"]):
        return None
    from conformance.runner.execute import run_case

    diagnosis = run_case(case).diagnosis
    return diagnosis["sentence"] if diagnosis else None


def report(divergence: dict, case: Case | None, script: str | None, root: Path, diagnosis: str | None = None) -> str:
    """The report as Markdown: what to paste in an upstream issue; `diagnosis` (one
    sentence, see diagnosis_of) comes right under the title."""
    seen = divergence.get("seen") or {}
    lines = [f"# {divergence['title']}", ""]
    if diagnosis:
        lines += [f"**Diagnosis** (`{case.id}`): {diagnosis}", ""]
    lines += [f"Known divergence `{divergence['id']}` ({divergence['category']}); seen on tensorflow "
              f"{seen.get('tensorflow')}, keras {seen.get('keras')}.", ""]
    if divergence.get("documentation"):
        lines += ["**Documented:** " + divergence["documentation"], ""]
    lines += ["**Observed:** " + divergence["evidence"], ""]
    if divergence.get("links"):
        lines += ["Related: " + ", ".join(divergence["links"]), ""]
    if script:
        lines += [f"Standalone reproduction (from `{case.id}`):", "", "```python", script.rstrip(), "```", ""]
    if divergence.get("script"):
        path = root / divergence["script"]
        text = path.read_text(encoding="utf-8") if path.is_file() else f"# missing: {path}"
        lines += [f"Hand-written reproduction (`{divergence['script']}`):", "", "```python", text.rstrip(), "```", ""]
    if not script and not divergence.get("script"):
        lines += ["No standalone script: " + ("no case refers to this divergence." if case is None else
                  f"`{case.id}` needs the harness to be written out; run `conformance run -k '{case.id.split('::')[-1]}'`."), ""]
    return "\n".join(lines)


def markdown_list(divergences: dict, counts: dict | None = None) -> str:
    """The README's list of known divergences, by category, generated from the registry."""
    from conformance.catalogue.divergences import CATEGORIES

    lines = ["| category | counts against conformance | findings | cases |", "|---|---|---|---|"]
    for category, (counts_against, _) in CATEGORIES.items():
        entries = [d for d in divergences.values() if d.category == category]
        n = sum((counts or {}).get(d.id, 0) for d in entries)
        lines.append(f"| {category} | {'yes' if counts_against else 'no (quality)'} | {len(entries)} | {n:,} |")
    lines.append("")
    for category, (counts_against, meaning) in CATEGORIES.items():
        entries = [d for d in divergences.values() if d.category == category]
        if not entries:
            continue
        policy = "counts against conformance" if counts_against else "quality information"
        lines += [f"**{category}** ({policy}: {meaning}):", ""]
        for d in sorted(entries, key=lambda d: d.id):
            n = f", {counts[d.id]} cases" if counts and d.id in counts else ""
            links = "".join(f" [{_short(u)}]({u})" for u in d.links)
            seen_in = {("tf_keras",): " (Keras 2)", ("tf.keras", "tf_keras"): " (Keras 3 and Keras 2)"}.get(tuple(d.targets), "")
            lines.append(f"- `{d.id}`{seen_in}{n}: {d.title}.{links}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _short(url: str) -> str:
    """github.com/owner/repo/issues/123 -> owner/repo#123."""
    parts = url.rstrip("/").split("/")
    if "github.com" in url and len(parts) >= 7 and parts[-2] in ("issues", "pull"):
        return f"{parts[-4]}/{parts[-3]}#{parts[-1]}"
    return url
