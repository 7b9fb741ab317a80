"""Synthetic results documents, shaped like a real run, for the report's size budget test
and benchmarks/report_benchmark.py (a real catalogue has ~1,700 cases; the budget is
stated for 20,000).

The mix of statuses, the sizes of error maps (up to 16 x 16) and the messages follow what
`conformance run` writes, erring on the large side: every pass case carries metrics and
a heat map, and failing cases carry long multi-line exception text. Cases cycle through the
three execution modes (eager, function, xla), with the split of their durations and, outside
eager, how far they moved from eager (a few by more than the tolerance).
"""
from __future__ import annotations

import random

from conformance import results

OPS = {  # op -> (rank, data_format values)
    "Conv1D": 1, "Conv2D": 2, "Conv3D": 3, "Conv1DTranspose": 1, "Conv2DTranspose": 2, "Conv3DTranspose": 3,
    "DepthwiseConv1D": 1, "DepthwiseConv2D": 2, "SeparableConv1D": 1, "SeparableConv2D": 2,
}
DTYPES = {"float16": 1e-2, "bfloat16": 5e-2, "float32": 1e-5, "float64": 1e-10}
STATUS_WEIGHTS = {"pass": 80, "fail": 13, "error": 2, "xfail": 2, "xpass": 1, "skip": 2}
MODES = ("eager", "function", "xla")
DEPARTS = 0.03  # the share of function/xla cases that move from eager by more than the tolerance
TRACEBACK = (
    "Exception encountered when calling {op}.call().\n\n"
    "{{{{function_node __wrapped__Conv2D_device_/job:localhost/replica:0/task:0/device:CPU:0}}}} "
    "The Conv2D op currently only supports the NHWC tensor format on the CPU. The op was given the format: "
    "NCHW [Op:Conv2D] name: \n\nArguments received by {op}.call():\n  • inputs=tf.Tensor(shape={shape}, dtype={dtype})"
)


def document(n_cases: int, seed: int = 0) -> dict:
    """A results document with n_cases cases, deterministic for a seed."""
    rng = random.Random(seed)
    extra = random.Random(seed + 7919)  # the mode fields draw from their own stream: the rest stays as it was
    cases = [_with_mode(_case(i, rng), MODES[i % len(MODES)], extra) for i in range(n_cases)]
    meta = {
        "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6", "python": "3.11.7",
        "platform": "Linux-x86_64", "cpu": "synthetic CPU", "cpu_count": 2,
        "flags": {"TF_ENABLE_ONEDNN_OPTS": None, "TF_CPP_MIN_LOG_LEVEL": "2"},
        "started": "2026-01-01T00:00:00+0000", "duration_s": 1234.5, "jobs": 2,
        "command": f"synthetic document({n_cases}, seed={seed})", "modes": list(MODES), "target": "tf.keras",
    }
    return {"schema_version": results.SCHEMA_VERSION, "meta": meta, "summary": results.summarize(cases), "cases": cases}


def _case(i: int, rng: random.Random) -> dict:
    op = rng.choice(sorted(OPS))
    rank = OPS[op]
    dtype = rng.choice(sorted(DTYPES))
    tol = DTYPES[dtype]
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    kernel, strides = rng.choice([1, 2, 3, 5]), rng.choice([1, 2, 3])
    padding = rng.choice(["valid", "same"])
    data_format = rng.choice(["channels_last", "channels_first"])
    params = {"filters": rng.randint(1, 8), "kernel_size": kernel, "strides": strides, "padding": padding,
              "data_format": data_format}
    if rng.random() < 0.3:
        params["dilation_rate"] = rng.choice([1, 2])
    spatial = [rng.randint(3, 24) for _ in range(rank)]
    shape = [rng.randint(1, 4), *spatial, rng.randint(1, 8)]
    out_shape = [shape[0], *[max(1, s // strides) for s in spatial], params["filters"]]
    name = f"sweep_{i // 48}"
    swept = {"kernel_size": kernel, "strides": strides, "padding": padding, "data_format": data_format, "dtype": dtype}
    suffix = "-".join(f"{k}={v}" for k, v in swept.items() if k != "dtype") + f"-{dtype}"
    file = f"cases/{op.lower()}.yaml"
    case = {
        "id": f"{file}::{name}[{suffix}]#{i}", "op": op, "family": "convolution", "file": file,
        "line": 1 + (i // 48) * 12, "name": name, "params": params, "swept": swept, "dtype": dtype,
        "input_shapes": {"x": shape}, "input_values": None, "seed": i % 7, "expected": {},
        "tolerance": {"rtol": tol, "atol": tol}, "known": None, "tags": [], "status": status, "message": "",
        "metrics": None,
        "outcome": {"reference": {"output_shape": out_shape, "error": None}, "keras": {"output_shape": out_shape, "error": None}},
        "duration_s": round(rng.uniform(0.005, 0.4), 6),
    }
    if status in ("pass", "xpass") or (status in ("fail", "xfail") and rng.random() < 0.5):
        worst = tol * (rng.uniform(0.001, 0.9) if status in ("pass", "xpass") else 10 ** rng.uniform(0.5, 6))
        case["metrics"] = _metrics(out_shape, worst, tol, rng)
        if status in ("fail", "xfail"):
            m = case["metrics"]
            case["message"] = (
                f"{m['n_out_of_tolerance']} of {m['n_elements']} elements out of tolerance (rtol={tol:g}, atol={tol:g}); "
                f"max abs error {m['max_abs_error']:.3g}, max rel error {m['max_rel_error']:.3g}; worst at "
                f"{m['worst_index']}: tf.keras {m['worst_keras']!r}, reference {m['worst_reference']!r}"
            )
    elif status in ("fail", "error", "xfail"):
        message = TRACEBACK.format(op=op, shape=tuple(shape), dtype=dtype)
        case["outcome"]["keras"] = {"output_shape": None, "error": {
            "type": "UnimplementedError", "bases": ["OpError", "Exception"], "message": message, "phase": "call"}}
        case["message"] = f"tf.keras raised UnimplementedError during call: {message}; the reference accepts these arguments"
    elif status == "skip":
        case["message"] = f"{dtype} is not supported by {op} on this machine"
        case["outcome"] = {}
    if status in ("xfail", "xpass"):
        # a few findings shared by many cases, as in a real catalogue
        case["known"] = {"id": f"conv-{padding}-padding", "category": "wrong-result",
                         "title": f"tf.keras convolutions depart from the documented semantics for {padding} padding",
                         "links": [f"https://github.com/keras-team/keras/issues/{20000 + len(padding)}"]}
    return case


def _with_mode(case: dict, mode: str, rng: random.Random) -> dict:
    """The fields a run in `mode` adds: mode, target, check, the durations split and, outside
    eager, the distance from the eager output (in the id too, as its last bracket element)."""
    if mode != "eager":
        head, sep, tail = case["id"].rpartition("]")
        case["id"] = f"{head}-{mode}{sep}{tail}"
    total = case["duration_s"]
    phases = ["build", "compile", "call", "reference", "judge"] if mode != "eager" else ["build", "call", "reference", "judge"]
    weights = [rng.uniform(0.2, 1) for _ in phases]
    durations = {name: round(total * w / sum(weights), 6) for name, w in zip(phases, weights)}
    case.update(mode=mode, target="tf.keras", check="values", durations=durations)
    metrics = case["metrics"]
    if mode != "eager" and metrics:
        tol = case["tolerance"]["atol"]
        ratio = rng.uniform(1.5, 40) if rng.random() < DEPARTS else rng.choice([0.0, rng.uniform(0, 0.8)])
        metrics["vs_eager"] = ratio * tol * (1 + abs(metrics["worst_reference"]))
        metrics["vs_eager_ratio"] = ratio
    return case


def _metrics(out_shape, worst: float, tol: float, rng: random.Random) -> dict:
    n = 1
    for s in out_shape:
        n *= s
    out_of_tol = 0 if worst <= tol else rng.randint(1, n)
    counts = [0] * 18
    for _ in range(6):
        counts[rng.randint(2, 12)] += rng.randint(0, max(1, n // 4))
    reference = rng.uniform(-3, 3)
    rows, cols = min(16, out_shape[1]), min(16, out_shape[-1] if len(out_shape) == 3 else out_shape[2])
    ratio = worst / tol
    values = [[float(f"{ratio * rng.uniform(0.01, 1):.3g}") for _ in range(cols)] for _ in range(rows)]
    metrics = {
        "n_elements": n, "max_abs_error": worst, "max_rel_error": worst / max(abs(reference), 1e-3),
        "worst_index": [rng.randrange(s) for s in out_shape], "worst_keras": reference + worst,
        "worst_reference": reference, "worst_tolerance_ratio": ratio, "n_out_of_tolerance": out_of_tol,
        "fraction_out_of_tolerance": out_of_tol / n, "n_nonfinite_mismatch": 0,
        "error_histogram": {"decades": list(range(-16, 3)), "counts": counts, "zeros": rng.randint(0, n // 3)},
    }
    if len(out_shape) >= 3:
        metrics["error_map"] = {"axes": [1, 2], "values": values}
    return metrics
