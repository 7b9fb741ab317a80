"""Run many cases, in this process or in worker processes, without losing any result."""
from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from conformance.runner.execute import run_case


def catalogue_error_record(error) -> dict:
    """A case that could not be loaded still appears in the results, as an error."""
    case_id = error.case_id or f"{error.file}::line-{error.line or 0}"
    return {
        "id": case_id, "op": None, "family": "catalogue", "file": error.file, "line": error.line,
        "name": case_id.split("::", 1)[-1], "params": {}, "swept": {}, "dtype": None, "input_shapes": {},
        "input_values": None, "seed": None, "expected": {}, "tolerance": None, "xfail": None, "tags": [],
        "status": "error", "message": f"catalogue error: {error}", "metrics": None, "outcome": {}, "duration_s": 0.0,
    }


def _worker_init():
    from conformance.runner import keras_side

    keras_side.tensorflow()  # pay the import once per worker, not per case


def run_cases(cases, jobs: int = 1, progress=None) -> list[dict]:
    """Run `cases`; `progress(done, total, record)` is called after each one."""
    total = len(cases)
    if jobs <= 1 or total <= 1:
        records = []
        for i, case in enumerate(cases, 1):
            records.append(run_case(case))
            if progress:
                progress(i, total, records[-1])
        return records
    records: dict[int, dict] = {}
    pending = list(range(total))
    for attempt in (1, 2):  # a crashed worker loses its in-flight cases: retry them once
        pending = _run_pool(cases, pending, jobs, records, progress, total)
        if not pending:
            break
    for i in pending:
        records[i] = _crash_record(cases[i])
        if progress:
            progress(len(records), total, records[i])
    return [records[i] for i in range(total)]


def _run_pool(cases, indices, jobs, records, progress, total) -> list[int]:
    context = multiprocessing.get_context("spawn")  # fork after TensorFlow's threads start is unsafe
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init) as pool:
            futures = {pool.submit(run_case, cases[i]): i for i in indices}
            for future in as_completed(futures):
                i = futures[future]
                records[i] = future.result()
                if progress:
                    progress(len(records), total, records[i])
    except BrokenProcessPool:
        print("conformance: a worker process died; retrying its unfinished cases", file=sys.stderr)
    return [i for i in indices if i not in records]


def _crash_record(case) -> dict:
    from conformance.runner.execute import base_record

    record = base_record(case)
    record.update(status="error", message="the worker process died while running this case (twice)", duration_s=0.0)
    return record


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
