"""Run many cases, in this process or in worker processes, without losing any result."""
from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from conformance.record import Record, catalogue_error
from conformance.runner.execute import run_case


def catalogue_error_records(errors) -> list[Record]:
    """Cases that could not be loaded still appear in the results, as errors, one record
    per problem with a unique id (a sweep may fail in several combinations)."""
    records, seen = [], {}
    for error in errors:
        base = error.case_id or f"{error.file}::line-{error.line or 0}"
        seen[base] = seen.get(base, 0) + 1
        suffix = "[catalogue-error]" if seen[base] == 1 else f"[catalogue-error-{seen[base]}]"
        records.append(catalogue_error(error, base + suffix))
    return records


def _worker_init(stderr_path):
    """Send the worker's stderr (TensorFlow's C++ start-up logs, which no environment
    variable silences in TF 2.21) to a file, then pay the TensorFlow import once."""
    import os

    from conformance.axes import TARGETS
    from conformance.target import get_target

    if stderr_path:
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    for name in TARGETS:
        get_target(name).tensorflow()


def run_cases(cases, jobs: int = 1, progress=None, in_process: bool = False, worker_stderr=None) -> list[Record]:
    """Run `cases` in `jobs` worker processes (or here, if in_process); `progress(done,
    total, record)` is called after each one. Workers keep TensorFlow out of the calling
    process, and a worker that crashes costs only its unfinished cases (retried once)."""
    total = len(cases)
    if not cases:
        return []
    if in_process:
        records = []
        for i, case in enumerate(cases, 1):
            records.append(run_case(case))
            if progress:
                progress(i, total, records[-1])
        return records
    records: dict[int, Record] = {}
    pending = list(range(total))
    for _ in range(2):  # a crashed worker loses its in-flight cases: retry them once
        pending = _run_pool(cases, pending, jobs, records, progress, total, worker_stderr)
        if not pending:
            break
    for i in pending:
        records[i] = _crash_record(cases[i])
        if progress:
            progress(len(records), total, records[i])
    return [records[i] for i in range(total)]


def _run_pool(cases, indices, jobs, records, progress, total, worker_stderr) -> list[int]:
    from conformance.target import tf_keras

    tf_keras.quiet_tensorflow_logs()  # inherited by the workers, which read it at start
    context = multiprocessing.get_context("spawn")  # fork after TensorFlow's threads start is unsafe
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init, initargs=(worker_stderr and str(worker_stderr),)) as pool:
            futures = {pool.submit(run_case, cases[i]): i for i in indices}
            for future in as_completed(futures):
                i = futures[future]
                records[i] = future.result()
                if progress:
                    progress(len(records), total, records[i])
    except BrokenProcessPool:
        print("conformance: a worker process died; retrying its unfinished cases", file=sys.stderr)
    return [i for i in indices if i not in records]


def _crash_record(case) -> Record:
    from conformance.ops import get_op

    return Record(case=case, family=get_op(case.op).family, status="error",
                  message="the worker process died while running this case (twice)")


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
