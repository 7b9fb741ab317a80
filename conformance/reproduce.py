"""A standalone script that rebuilds one case exactly and runs both sides.

The report shows it per case so that anyone can paste it into a Python prompt (with this
package installed) and see the divergence for themselves. The inputs and weights are
written out as plain NumPy calls (the same ones conformance.runner.inputs makes), so the
script shows exactly what was fed to tf.keras.
"""
from __future__ import annotations

import json

from conformance.runner.inputs import (
    BIAS_MEAN, BIAS_STD, INPUT_MEAN, INPUT_STD, POSITIVE_LOG_STD, WEIGHT_MEAN, WEIGHT_STD,
)

_TEMPLATE = '''\
# Reproduces {case_id}
# (pip install the conformance harness first: it provides reference_impl)
import numpy as np
import tensorflow as tf
from conformance.axes import MODES
from conformance.ops import get_op
from conformance.target.tf_keras import variable_name  # "kernel", "query/kernel", ...

op = get_op({op!r})
params = {params}
call = {call}  # keyword arguments of each call
dtype = {dtype!r}
mode = {mode!r}  # eager: called directly; function: inside tf.function; xla: tf.function(jit_compile=True)
to_dtype = (lambda a: np.asarray(a, np.float64).astype(tf.bfloat16.as_numpy_dtype)) if dtype == "bfloat16" else (lambda a: np.asarray(a, np.float64).astype(dtype))

# The inputs, one per call: {input_doc}
inputs = []
for i in range({calls}):
{input_code}
    inputs.append(to_dtype(x).astype(np.float64))  # the values both sides see

# The weights: one normal stream per variable name, from the case seed
weights = {{}}
for name, shape in op.predict_weights(params, inputs[0].shape).items():
    rng = np.random.default_rng([{seed}, 1, *name.encode()])
    if name in op.positive_weights:
        weights[name] = to_dtype(np.exp(rng.normal(0.0, {positive_std}, size=shape))).astype(np.float64)
    else:
        mean, std = ({bias_mean}, {bias_std}) if name == "bias" else ({weight_mean}, {weight_std})
        weights[name] = to_dtype(rng.normal(mean, std, size=shape)).astype(np.float64)

# tf.keras
layer = getattr(tf.keras.layers, {keras_class!r})(**params, dtype=dtype)
layer.build(inputs[0].shape)
for variable in layer.weights:
    variable.assign(to_dtype(weights[variable_name(variable)]))
keras_call = {{k: tf.constant(np.asarray(v, bool)) if k == "mask" and v is not None else v for k, v in call.items()}}
# the mode wraps the call as the harness does (conformance.axes.MODES)
call_layer = MODES[mode].wrap(tf, lambda x: layer(x, **keras_call))
for x in inputs:
    keras_out = np.asarray(call_layer(tf.constant(to_dtype(x))), dtype=np.float64)

# The float64 NumPy reference of the documented semantics
ref_call = {{k: np.asarray(v, bool) if k == "mask" and v is not None else v for k, v in call.items()}}
state = dict(weights)
for x in inputs:
    reference_out = op.compute(x, state, params, ref_call)
    if op.update_state:
        state.update(op.update_state(x, state, params, ref_call))

def compare(what, actual, expected):
    print(what, "shapes: tf.keras", actual.shape, "reference", expected.shape)
    if actual.shape == expected.shape:
        err = np.abs(actual - expected)
        allowed = {atol!r} + {rtol!r} * np.abs(expected)
        worst = np.unravel_index(np.nanargmax(err / allowed), err.shape)
        print("max abs error", np.nanmax(err), "| elements out of tolerance:", int((err > allowed).sum()), "of", err.size)
        print("worst at", worst, ": tf.keras", actual[worst], "reference", expected[worst])

compare("output", keras_out, reference_out)
for name in op.state:
    compare(name, np.asarray({{variable_name(v): v for v in layer.weights}}[name], np.float64), state[name])
'''


_REPLAY = '''\
# Reproduces {case_id}
# (pip install the conformance harness first: it provides reference_impl)
# Rebuilds the case from its record -- the same seeded inputs and weights -- runs tf.keras
# and the NumPy reference, and prints what each produced and how far apart they are.
from conformance.reproduce import replay

replay({record})
'''

def replay(record: dict) -> dict:
    """Run the case of `record` again and print the verdict and both sides' results."""
    from conformance.catalogue.model import Case
    from conformance.runner.execute import run_case

    result = run_case(Case.from_json(record)).to_json()
    print(f"{result['id']}: {result['status']}")  # a compiled mode is named in the id
    if result["message"]:
        print(result["message"])
    for side in ("keras", "reference"):
        info = (result.get("outcome") or {}).get(side) or {}
        what = f"raised {info['error']['type']}: {info['error']['message']}" if info.get("error") else f"output shape {info.get('output_shape')}"
        print(f"{'tf.keras' if side == 'keras' else 'reference'}: {what}")
    metrics = result.get("metrics") or {}
    for key in ("max_abs_error", "max_rel_error", "worst_index", "worst_keras", "worst_reference", "n_out_of_tolerance", "vs_eager"):
        if key in metrics:
            print(f"{key}: {metrics[key]}")
    return result


def snippet(record: dict) -> str:
    """The reproduction script for one results.json record: explicit NumPy and tf.keras code
    for a one-input layer, otherwise a replay of the recorded case."""
    from conformance.ops import LayerOp, get_op

    op = get_op(record["op"])
    keras2 = record.get("target") == "tf_keras"
    if keras2 or not isinstance(op, LayerOp) or record.get("inputs") or op.keras_params or op.stochastic and (record.get("call") or {}).get("training"):
        from conformance.catalogue.model import Case

        fields = {k: v for k, v in Case.from_json(record).to_json().items() if v not in (None, {}, [], False)}
        # a Keras 2 case replays through the harness, in a process whose tf.keras is Keras 2
        prelude = "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'  # the tf_keras target: tf.keras is Keras 2\n" if keras2 else ""
        return prelude + _REPLAY.format(case_id=record["id"], record=_literal(fields))
    shape = record["input_shapes"]["x"]
    distribution = record.get("input_distribution") or {}
    mean, std = distribution.get("mean", INPUT_MEAN), distribution.get("std", INPUT_STD)
    if record.get("input_values") is not None:
        input_doc = "the literal values of the case"
        input_code = f"    x = np.array({json.dumps(record['input_values'])}, dtype=np.float64)"
    else:
        input_doc = f"normal(mean {mean}, std {std}) from seed {record['seed']}"
        input_code = (
            f"    stream = [{record['seed']}, 0] if i == 0 else [{record['seed']}, 0, i]\n"
            f"    x = np.random.default_rng(stream).normal({mean}, {std}, size={tuple(shape)!r})"
        )
        if distribution.get("constant_channels"):
            input_code += (
                f"\n    index = [slice(None)] * x.ndim\n    index[{distribution.get('channel_axis', -1)}] = {distribution['constant_channels']!r}"
                f"\n    x[tuple(index)] = {mean}  # zero-variance channels"
            )
    if "error" in (record.get("expected") or {}):
        # the reference rejects these arguments: show what each side says
        return (
            f"# Reproduces {record['id']}: the documented semantics reject these arguments.\n"
            "import numpy as np\nimport tensorflow as tf\nfrom conformance.ops import get_op\n\n"
            f"op = get_op({record['op']!r})\nparams = {_literal(record['params'])}\n"
            f"try:\n    op.predict_weights(params, {tuple(shape)!r})\n    print('reference: accepted')\n"
            "except ValueError as e:\n    print('reference: ValueError:', e)\n"
            f"i = 0\n{input_code.replace(chr(10) + '    ', chr(10))[4:]}\n"
            f"layer = getattr(tf.keras.layers, {op.keras_class!r})\n"
            f"from conformance.axes import MODES\ncall = lambda f: MODES[{record.get('mode', 'eager')!r}].wrap(tf, f)  # the case's mode\n"
            f"try:\n    built = layer(**params, dtype={record['dtype']!r})\n    built.build(x.shape)\n"
            f"    y = call(lambda t: built(t))(tf.constant(x.astype({record['dtype']!r})))\n"
            "    print('tf.keras: accepted, output shape', tuple(y.shape))\n"
            "except Exception as e:\n    print('tf.keras:', type(e).__name__, e)\n"
        )
    tolerance = record.get("tolerance") or {"rtol": 0.0, "atol": 0.0}
    return _TEMPLATE.format(
        case_id=record["id"], op=record["op"], params=_literal(record["params"]), dtype=record["dtype"], mode=record.get("mode", "eager"),
        call=_literal(record.get("call") or {}), calls=record.get("calls", 1), positive_std=POSITIVE_LOG_STD,
        input_doc=input_doc, input_code=input_code, seed=record["seed"], keras_class=op.keras_class,
        bias_mean=BIAS_MEAN, bias_std=BIAS_STD, weight_mean=WEIGHT_MEAN, weight_std=WEIGHT_STD,
        rtol=tolerance["rtol"], atol=tolerance["atol"],
    )


def _literal(params: dict) -> str:
    """A Python literal for the params (JSON's true/false/null spelled the Python way)."""
    return repr(json.loads(json.dumps(params)))
