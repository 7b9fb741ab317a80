"""The serialization check, tf.keras's side: does a layer come back the same from its config,
from Keras serialization and from a `.keras` file? (The judging is conformance.checks.serialization.)

The Keras documentation promises that `get_config()` returns "the config of the layer", from
which `from_config(config)` "can reinstantiate the same layer", that
`serialize_keras_object` / `deserialize_keras_object` round-trip an object, and that a model
saved as `.keras` and loaded with `load_model` comes back with its architecture and weights.
For a layer case in eager mode, after the forward call, with the layer's variables back at
their values before the calls, three round trips (ROUND_TRIPS) each make a copy:

- from_config: `type(layer).from_config(layer.get_config())`, built from the layer's build
  config, its weights set with `set_weights(layer.get_weights())`;
- serialize: `tf.keras.utils.deserialize_keras_object(tf.keras.utils.serialize_keras_object(layer))`
  (the same functions as `keras.saving.*`: tf.keras names no `saving` module), weights set likewise;
- keras_file: `tf.keras.Sequential([layer])` saved as `model.keras` in a temporary folder and
  loaded with `tf.keras.models.load_model`; the loaded model's layer keeps the file's weights.

A fourth check, "defaults", compares configs only: the documented default of every constructor
argument the case leaves out against what get_config() reports for the layer built without it.
The documented default is the one the class's docstring states in prose ("Defaults to `0.3`.",
read from its Args section), else the default of its signature, which keras.io's page of the
layer shows. Both sides are normalized the way the layer normalizes any value given to it: the
layer constructed with the case's arguments and `argument=documented` must report the same value
for the argument as the layer built without it (an initializer's name and its config, an int and
a tuple of it, `None` and the data format it stands for compare equal that way; a sublayer's
generated name is not compared).

Each copy is called on the case's inputs with the case's call arguments, as the layer was (all
the calls of a case of several: the copy starts from the same variables and replays them), and
reports whether its get_config() equals the layer's (tuples and lists alike: a config that went
through JSON has lists) and whether its outputs (every output, and the op's state variables after
the calls) are bitwise the layer's. A round trip that raises is reported with the exception.

Cost: a copy is built, its weights set and called, about 40 ms per round trip on this project's
2-core machine, the `.keras` file twice that, over some 3,700 eager layer cases. So
from_config runs for every case, and serialize and keras_file on a deterministic sample: the
first combination of every op in every sweep (`case.sweep_index == 0`, which covers every op and
every sweep entry of the catalogue) and every case whose recorded divergence is a serialization
one. Deserialization re-creates the layer through its class's from_config, which every case
checks; what it adds, the serialization of nested objects (initializers, regularizers,
activations, the dtype policy) and, for the file, JSON and the weights file, is checked on the
sample. CONFORMANCE_ALL_SERIALIZATION=1 in the environment runs every round trip for every case
(as CONFORMANCE_ALL_GRADIENTS does for XLA gradients).

The sequential model holds the layer and its call is the layer's own (`loaded.layers[0]`, called
as the case calls the layer): several inputs, keyword inputs and tensor call arguments (masks,
initial states) cannot all go through a Sequential model's single input, and what is checked is
what the file keeps of the layer.
"""
from __future__ import annotations

import os
import re
import tempfile
import warnings

import numpy as np

from conformance.target.arrays import as_float64

ROUND_TRIPS = ("from_config", "serialize", "keras_file", "defaults")
ALL_SERIALIZATION_VARIABLE = "CONFORMANCE_ALL_SERIALIZATION"


def not_checked(op, case, weights) -> str | None:
    """Why this layer case gets no serialization check at all, or None."""
    if case.mode != "eager":
        return "eager mode only"
    if case.expect.get("error"):
        return "the case expects an error"
    if op.stochastic and (case.call or {}).get("training"):
        return "a random layer in training is judged statistically; its copy would draw other values"
    if case.isolate:
        return "a known crasher (isolate) runs its forward pass only"
    if weights is None:
        return "the reference rejects the arguments: no weights to give the copies"
    return None


SAMPLED = ("serialize", "keras_file", "defaults")  # the round trips run on the sample only


def sampled_out(case) -> str | None:
    """Why the sampled round trips (SAMPLED) are not run for this case, or None when they are."""
    if case.sweep_index == 0 or os.environ.get(ALL_SERIALIZATION_VARIABLE, "") not in ("", "0"):
        return None
    if case.known and any("serialization" in s for k in [case.known, *case.known.get("also", [])] for s in k.get("signature", [])):
        return None  # a recorded serialization divergence is always checked (else it would xpass)
    return f"sampled out (the first of each sweep is checked; {ALL_SERIALIZATION_VARIABLE}=1 checks every case)"


def round_trips(op, case, layer, invoke, feeds, weights, restore, outcome, timings) -> dict:
    """The serialization metrics of a layer whose forward calls gave `outcome`:
    {"checked": [...], "not_checked": {round trip: reason} or a reason for all,
     "round_trips": {name: {"config": [differences], "compared": [output names],
                            "outputs": {name: {...}} of those that differ, "error": None or {type, message, phase}}}}.
    `restore()` puts the layer's variables back to their values before the calls; `invoke`
    calls a layer as the case does; `feeds` are the (inputs, call arguments) of each call."""
    from conformance.target.tf_keras import tensorflow

    why = not_checked(op, case, weights)
    if why:
        return {"checked": [], "not_checked": why}
    if outcome.output is None:
        return {"checked": [], "not_checked": "tf.keras raised: no output to compare with"}
    tf = tensorflow()
    wanted = {name: sampled_out(case) if name in SAMPLED else None for name in ROUND_TRIPS}
    if getattr(op, "adapt", None) and op.adapt(case.params) is not None and not layer.get_weights():
        # an adapted lookup layer's vocabulary is neither config nor weights: get_config/set_weights
        # cannot carry it (the .keras file saves it as an asset)
        for name in ("from_config", "serialize"):
            wanted[name] = "the adapted state is not among the layer's weights: only the .keras file carries it"
    utils = tf.keras.utils
    if not (hasattr(utils, "serialize_keras_object") and hasattr(utils, "deserialize_keras_object")):
        wanted["serialize"] = "this tf.keras has no utils.serialize_keras_object"
    result = {"checked": [], "not_checked": {k: v for k, v in wanted.items() if v}, "round_trips": {}}
    expected = _outputs(outcome, op)
    with timings("serialization"):
        restore()
        try:
            config, failed = _plain(layer.get_config()), None
        except Exception as exc:  # no config to start from: every round trip fails there
            from conformance.outcome import error_info

            config, failed = None, error_info(exc, "get_config of the layer")
        for name in ROUND_TRIPS:
            if wanted[name]:
                continue
            if failed is not None:
                entry = {"config": None, "compared": [], "outputs": {}, "error": failed}
            elif name == "defaults":
                entry = _defaults(tf, layer, op, case)
            else:
                entry = _round_trip(name, tf, layer, config, invoke, feeds, op, expected)
            if "not_checked" in entry:
                result["not_checked"][name] = entry["not_checked"]
                continue
            result["checked"].append(name)
            result["round_trips"][name] = entry
        restore()
    return result


# Constructor arguments that are not the layer's own semantics (naming, dtype policy, tracking).
NOT_DEFAULTS_CHECKED = frozenset({"self", "name", "dtype", "trainable", "autocast", "dynamic", "input_dim", "input_shape",
                                  "batch_input_shape", "batch_size", "input_length"})


def _defaults(tf, layer, op, case) -> dict:
    """The documented defaults check: {"config": differences ("original": what a layer left
    without the argument reports, "copy": what a layer given the documented default reports;
    both constructed afresh with the case's other arguments, neither built),
    "compared": [the arguments checked], "documented": {argument: where its default is stated}}."""
    import inspect

    def constructor_arguments() -> dict:  # as tf_keras.built_layer passes them (fresh sublayers each time)
        given = op.keras_params(tf.keras, case.params, case.dtype) if getattr(op, "keras_params", None) else case.params
        return {**given, "dtype": case.dtype}

    entry = {"config": [], "compared": [], "outputs": {}, "error": None, "documented": {}}
    try:
        passed = set(constructor_arguments())
        signature = inspect.signature(type(layer).__init__).parameters
    except (TypeError, ValueError) as exc:
        return {"not_checked": f"no signature to read the defaults from: {exc}"}
    stated = docstring_defaults(type(layer).__doc__)
    try:  # a fresh layer, as unbuilt as the ones given the defaults (a build may rewrite its config: axis -1 -> [-1])
        config = _plain(type(layer)(**constructor_arguments()).get_config())
    except Exception as exc:  # the case's own arguments are refused a second time: nothing to compare
        return {"not_checked": f"the layer cannot be constructed again: {type(exc).__name__}: {str(exc)[:200]}"}
    for argument, parameter in signature.items():
        if (argument in passed or argument in NOT_DEFAULTS_CHECKED or argument not in config
                or parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)):
            continue
        if argument in stated:
            documented, entry["documented"][argument] = stated[argument], "docstring"
        elif parameter.default is not inspect.Parameter.empty:
            documented, entry["documented"][argument] = parameter.default, "signature"
        else:
            continue
        entry["compared"].append(argument)
        try:
            given = type(layer)(**constructor_arguments(), **{argument: documented})
            reported = _plain(given.get_config()).get(argument, _MISSING)
        except Exception as exc:  # the documented default itself is refused: the result
            from conformance.outcome import error_info

            entry["error"] = error_info(exc, f"construction with the documented {argument}={documented!r}")
            return entry
        # a sublayer's generated name is not a value of the argument
        entry["config"] += [d for d in _config_differences({argument: config[argument]}, {argument: reported})
                            if d["key"].rsplit(".", 1)[-1] != "name"]
    return entry


_ARGUMENT_LINE = re.compile(r"^([ \t]+)(\w+)(?: \([^)]*\))?:\s", re.M)
_STATED_DEFAULT = re.compile(r"\b[Dd]efaults? to:?\s+(`[^`]+`|[^\s,;]+)")


def docstring_defaults(doc: str | None) -> dict:
    """{argument: value} for each argument of a docstring's Args section whose description states
    "Defaults to X" with X a Python literal (in backticks or not); others are left out."""
    import ast

    if not doc or "Args:" not in doc:
        return {}
    body = doc.split("Args:", 1)[1]
    lines = list(_ARGUMENT_LINE.finditer(body))
    if not lines:
        return {}
    indent = len(lines[0].group(1))
    body = re.split(rf"\n[ \t]{{0,{indent - 1}}}\S", body)[0]  # the Args section ends where a section starts
    lines = [m for m in _ARGUMENT_LINE.finditer(body) if len(m.group(1)) == indent]
    out = {}
    for line, following in zip(lines, lines[1:] + [None]):
        text = body[line.end(): following.start() if following else len(body)]
        found = _STATED_DEFAULT.search(" ".join(text.split()))
        if found:
            try:
                out[line.group(2)] = ast.literal_eval(found.group(1).strip("`").rstrip("."))
            except (ValueError, SyntaxError):
                pass  # "defaults to the image_data_format value found in your Keras config file": not a literal
    return out


def _round_trip(name, tf, layer, config, invoke, feeds, op, expected) -> dict:
    given = feeds[0][0]

    def build(copy):
        """As tf_keras.built_layer built the layer: on the input's shape, or by a first call."""
        if op.input_names == ("x",):
            copy.build(tuple(given["x"].shape))
        else:
            invoke(copy, given, {})

    entry = {"config": None, "compared": [], "outputs": {}, "error": None}
    phase = "copy"
    try:
        with warnings.catch_warnings():  # Keras 3 warns that the model is not built; its layer is
            warnings.simplefilter("ignore")
            with tempfile.TemporaryDirectory() as folder:
                copy = _copy(name, tf, layer, folder, build)
                phase = "get_config"
                entry["config"] = _config_differences(config, _plain(copy.get_config()))
                if name != "keras_file":  # the file brings its own weights
                    phase = "set_weights"
                    copy.set_weights(layer.get_weights())
        phase = "call"
        for inputs, call in feeds:
            output = invoke(copy, inputs, call)
        got = _outputs_of(output, copy, layer, op)
        compared = {k: _bitwise(got.get(k), v) for k, v in expected.items()}
        entry["compared"] = sorted(compared)
        entry["outputs"] = {k: v for k, v in compared.items() if not v["identical"]}  # only those that differ
    except NotCheckable as exc:
        return {"not_checked": str(exc)}
    except Exception as exc:  # a round trip that raises is its result
        from conformance.outcome import error_info

        entry["error"] = error_info(exc, phase)
    return entry


def _copy(name, tf, layer, folder, build):
    """The layer as the round trip gives it back, built as the harness built the layer
    (`build(copy)`) when the round trip leaves it without its variables."""
    if name == "keras_file":
        path = os.path.join(folder, "model.keras")
        model = tf.keras.Sequential([layer])
        if keras2(tf):
            try:  # Keras 2 saves an unbuilt model's layers without their weights: built on the case's input
                build(model)
            except Exception as exc:
                raise NotCheckable(f"Keras 2 saves an unbuilt Sequential model's layers without their weights, "
                                   f"and this layer cannot build one: {type(exc).__name__}: {str(exc)[:200]}") from exc
        model.save(path)
        return tf.keras.models.load_model(path, **_trusted(tf.keras.models.load_model)).layers[0]
    if name == "from_config":
        copy = type(layer).from_config(layer.get_config(), **_trusted(type(layer).from_config))
    else:
        deserialize = tf.keras.utils.deserialize_keras_object
        copy = deserialize(tf.keras.utils.serialize_keras_object(layer), **_trusted(deserialize))
    if not copy.built or (layer.weights and not copy.weights):
        # Keras 2's MultiHeadAttention comes back from deserialization marked built, its
        # variables made on the first call: built as the layer was
        build(copy)
    return copy


def _trusted(function) -> dict:
    """safe_mode=False where `function` takes it: the documented way to load a Lambda layer's
    Python lambda ("disallowed by default ... you can override this error by passing
    `safe_mode=False`"); the harness's own objects are trusted."""
    import inspect

    try:
        return {"safe_mode": False} if "safe_mode" in inspect.signature(function).parameters else {}
    except (TypeError, ValueError):
        return {}


class NotCheckable(Exception):
    """A round trip this target cannot make for reasons of its own API, not of the layer's config."""


def keras2(tf) -> bool:
    """Is tf.keras Keras 2 (the tf_keras package) in this process?"""
    return tf.keras.__name__.startswith("tf_keras")


def _outputs(outcome, op) -> dict:
    """What the layer gave: its main output, further outputs, the op's state variables after the calls."""
    named = {"output": outcome.output}
    named.update({k: v for k, v in outcome.state.items() if k.startswith("output_") or k in op.state})
    return named


def _outputs_of(output, copy, layer, op) -> dict:
    """What the copy gave, named as _outputs names the layer's. Its variables are named by their
    place among the layer's: a wrapper deserialized from its config builds the wrapped layer
    outside its own name scope (SpectralNormalization's copy has "dense/kernel" where the layer has
    "spectral_normalization/dense/kernel"), so the paths differ where the variables do not."""
    from conformance.target.tf_keras import variable_name, variables_of

    if isinstance(output, (tuple, list)):
        named = {"output": output[0], **{f"output_{i}": o for i, o in enumerate(output[1:], 1)}}
    else:
        named = {"output": output}
    variables = dict(zip((variable_name(v, layer) for v in variables_of(layer)), variables_of(copy)))
    named.update({n: variables[n] for n in op.state if n in variables})
    return {k: as_float64(v) for k, v in named.items()}


def _bitwise(got, expected) -> dict:
    """Are two float64 arrays the same bits (NaN counts as NaN, whatever its payload)?
    {"identical", "n_different", "max_abs_difference"} (a shape difference: n_different None)."""
    if got is None:
        return {"identical": False, "n_different": None, "max_abs_difference": None, "note": "the copy has no such output"}
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return {"identical": False, "n_different": None, "max_abs_difference": None,
                "note": f"shape {list(got.shape)} instead of {list(expected.shape)}"}
    both_nan = np.isnan(got) & np.isnan(expected)
    different = ~both_nan & (got.view(np.uint64) != expected.view(np.uint64))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(different, np.abs(got - expected), 0.0)
    diff = np.where(np.isnan(diff), np.inf, diff)
    return {"identical": not different.any(), "n_different": int(different.sum()), "n_elements": int(got.size),
            "max_abs_difference": float(diff.max(initial=0.0))}


def _plain(value):
    """A config as plain data: tuples as lists (a config that went through JSON has lists), NumPy
    scalars and arrays as Python values, any other object by its class and its own config."""
    if isinstance(value, dict):
        if value.get("class_name") == "__lambda__" and isinstance(value.get("config"), dict):  # Keras 3's Lambda
            value = {**value, "config": {**value["config"], "code": _code(value["config"].get("code"))}}
        if value.get("function_type") == "lambda" and isinstance(value.get("function"), (list, tuple)):  # Keras 2's
            value = {**value, "function": [_code(value["function"][0]), *value["function"][1:]]}
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "get_config"):
        return {"class_name": type(value).__name__, "config": _plain(value.get_config())}
    return {"class_name": type(value).__name__, "repr": repr(value)}


def _code(text):
    """A Lambda layer's Python lambda as its config carries it (base64 of its marshalled code)
    reduced to what the code is: marshal's bytes for the same code differ with the reference counts
    of its strings when it was written (the FLAG_REF bit), so the text of a copy's config differs
    where its function does not."""
    import codecs
    import marshal
    import types

    try:
        code = marshal.loads(codecs.decode(text.encode("ascii"), "base64"))
    except Exception:  # not what Keras writes: compared as it is
        return text
    if not isinstance(code, types.CodeType):
        return text
    consts = [_code_consts(c) for c in code.co_consts]
    return {"bytecode": code.co_code.hex(), "consts": consts, "names": list(code.co_names), "varnames": list(code.co_varnames)}


def _code_consts(value):
    import types

    return value.co_code.hex() if isinstance(value, types.CodeType) else repr(value)


def _config_differences(original, copy, path="", limit=8) -> list:
    """The places where two plain configs differ, as [{key, original, copy}] (at most `limit`)."""
    out = []

    def walk(a, b, where):
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                walk(a.get(k, _MISSING), b.get(k, _MISSING), f"{where}.{k}" if where else k)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{where}[{i}]")
        elif not _same(a, b):
            out.append({"key": where, "original": _shown(a), "copy": _shown(b)})

    walk(original, copy, path)
    return out


_MISSING = "<missing>"


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                               and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _shown(value) -> str:
    text = value if value is _MISSING else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
