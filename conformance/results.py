"""results.json: the source of truth every report is generated from."""
from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections import Counter
from pathlib import Path

from conformance.machine import cpu_flags

# 2: records gain target, mode, check, durations; metrics.vs_eager in compiled modes;
# meta gains modes and target.
# 3: a record's `xfail` (reason, link) becomes `known` (id, category, title, signature, links);
# the document gains `divergences`, the registry entries of the catalogue folders that ran.
# 4: status `notrun` (an interrupted run); outcome.stopped for a case whose worker was
# stopped (signal, timeout, memory); meta gains facts (oneDNN, threads, CPU flags), limits,
# shard, merged_from.
SCHEMA_VERSION = 4
STATUSES = ("pass", "fail", "error", "xfail", "xpass", "skip", "notrun")
# Environment variables that change what TensorFlow computes or how; recorded in meta.
FLAG_VARIABLES = (
    "TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "TF_XLA_FLAGS", "TF_DETERMINISTIC_OPS",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "CUDA_VISIBLE_DEVICES",
    "KERAS_BACKEND", "OPENBLAS_CORETYPE",
)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(tf_versions: dict | None) -> dict:
    import numpy

    meta = {
        "tensorflow": None,
        "keras": None,
        "numpy": numpy.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "cpu_flags": cpu_flags(),
        "flags": {name: os.environ.get(name) for name in FLAG_VARIABLES},
    }
    meta.update(tf_versions or {})
    return meta


# The meta keys whose difference between two results files can change the numbers.
NUMERIC_ENVIRONMENT = ("tensorflow", "keras", "numpy", "python", "platform", "cpu", "cpu_flags", "flags", "facts")


def environment_differences(before: dict, after: dict) -> list[tuple[str, object, object]]:
    """(key, before, after) for each NUMERIC_ENVIRONMENT entry that differs, one level into
    dicts (facts per target compare as a whole: {"tf.keras": {...}})."""
    out = []
    for key in NUMERIC_ENVIRONMENT:
        a, b = before.get(key), after.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [(f"{key}.{k}", a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys(), key=str) if a.get(k) != b.get(k)]
        elif a != b and a is not None and b is not None:  # None: the older file did not record it
            out.append((key, a, b))
    return out


def _as_json(record) -> dict:
    from conformance.record import Record

    return record.to_json() if isinstance(record, Record) else record


def summarize(records) -> dict:
    """Counts by status of Records or of their JSON form."""
    counts = Counter(_as_json(r)["status"] for r in records)
    return {status: counts.get(status, 0) for status in STATUSES} | {"total": len(records)}


def jsonable(value):
    """Plain JSON: non-finite floats become the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def write(path, records, meta, divergences=None) -> Path:
    """results.json: meta, summary, the divergence registry entries (id -> entry, every entry
    of the registries that were loaded, referred to or not, so stale ones show) and the cases."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = sorted((_as_json(r) for r in records), key=lambda r: r["id"])
    document = {"schema_version": SCHEMA_VERSION, "meta": meta, "summary": summarize(records),
                "divergences": {k: v.to_json() if hasattr(v, "to_json") else v for k, v in sorted((divergences or {}).items())},
                "cases": records}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(jsonable(document), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def read(path) -> dict:
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    if not isinstance(document, dict) or "cases" not in document:
        raise ValueError(f"{path}: not a results.json (no 'cases')")
    return document
