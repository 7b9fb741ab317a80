"""Run many cases without losing any result.

An executor runs the cases and hands each record to `deliver` as it comes; the session
keeps them in order, writes each to the journal at once (a killed run loses only the cases
in flight), and reports progress. Two executors share this: `LocalPool` (worker processes on
this machine, the default) and conformance.runner.dask_executor (a Dask cluster's workers).
Both run every case through conformance.runner.worker.Supervisor, so a case that hangs,
crashes its process or outgrows its memory budget costs only its own result.

Ctrl-C (or SIGTERM, which `conformance run` turns into the same) stops the run: cases in
flight are stopped, finished ones are kept, and every case without a result is `notrun`.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field

from conformance.record import Record, catalogue_error
from conformance.runner.execute import error_record, not_run_record, stopped_record
from conformance.runner.worker import Limits, Stop, Supervisor, WorkerStartError

INTERRUPTED = "not run: the run was interrupted before this case finished"


@dataclass
class RunResult:
    records: list
    facts: dict = field(default_factory=dict)  # the workers' environment facts, per target
    interrupted: bool = False


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


def run_cases(cases, executor=None, progress=None, journal=None, stop_event=None) -> RunResult:
    """Run `cases` with `executor` (default: one local worker process); `progress(done,
    total, record)` after each, `journal.write(record)` as soon as it exists."""
    executor = executor or LocalPool(jobs=1)
    stop_event = stop_event or threading.Event()
    records: list = [None] * len(cases)
    lock = threading.Lock()
    done = 0

    def deliver(index: int, record: Record) -> None:
        nonlocal done
        with lock:
            records[index] = record
            done += 1
            if journal is not None:
                journal.write(record)
            if progress:
                progress(done, len(cases), record)

    if cases:
        try:
            executor.run(cases, deliver, stop_event)
        except KeyboardInterrupt:  # a second Ctrl-C while the executor was stopping
            stop_event.set()
    interrupted = stop_event.is_set()
    for i, record in enumerate(records):
        if record is None:
            records[i] = not_run_record(cases[i], INTERRUPTED if interrupted else
                                        "not run: no worker process could run it (see tensorflow.log)")
    return RunResult(records, getattr(executor, "facts", {}), interrupted)


def record_of(case, result) -> Record:
    """A supervisor's result as a record: the Record itself, or the record of its Stop."""
    return stopped_record(case, result) if isinstance(result, Stop) else result


class LocalPool:
    """`jobs` worker processes on this machine, each driven by a thread with its own
    Supervisor; the threads take cases from one queue, in catalogue order."""

    def __init__(self, jobs: int = 1, limits: Limits | None = None, worker_stderr=None):
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs, self.limits, self.worker_stderr = jobs, limits or Limits(), worker_stderr
        self.facts: dict = {}

    def run(self, cases, deliver, stop_event) -> None:
        from conformance.target import tf_keras

        tf_keras.quiet_tensorflow_logs()  # inherited by the workers, which read it at start
        queue = deque(range(len(cases)))
        lock = threading.Lock()

        def drive():
            supervisor = Supervisor(self.limits, self.worker_stderr)
            try:
                while not stop_event.is_set():
                    with lock:
                        if not queue:
                            return
                        i = queue.popleft()
                    try:
                        result = supervisor.run(cases[i], stop_event)
                    except WorkerStartError as exc:
                        # Put the case back for a thread whose worker does start; this one stops.
                        with lock:
                            queue.appendleft(i)
                        print(f"conformance: {exc}", flush=True)
                        return
                    except Exception:  # a bug of the supervision itself: this case says so, the others go on
                        result = error_record(cases[i], "harness error while supervising this case:\n" + traceback.format_exc(limit=6))
                        supervisor.close()
                    for name, facts in supervisor.facts.items():  # per target
                        self.facts.setdefault(name, facts)
                    if isinstance(result, Stop) and result.reason == "interrupted":
                        return
                    deliver(i, record_of(cases[i], result))
            finally:
                supervisor.close()

        threads = [threading.Thread(target=drive, name=f"conformance-worker-{n}", daemon=True)
                   for n in range(min(self.jobs, len(cases)))]
        for thread in threads:
            thread.start()
        wait_for(threads, stop_event)


def wait_for(threads, stop_event) -> None:
    """Join the threads; on Ctrl-C tell them to stop (each kills its case in flight) and join them."""
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.2)  # short joins: the main thread must stay able to take Ctrl-C
    except KeyboardInterrupt:
        stop_event.set()
        for thread in threads:
            thread.join()


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
