"""Run the cases on a Dask cluster: `conformance run --executor dask --scheduler ADDRESS`.

Why Dask (`distributed`) rather than Ray: it is a pure-Python `pip install distributed` on
every machine (Ray ships a large native runtime per platform); a cluster is two commands
(`dask scheduler`, `dask worker ADDRESS`) or any of Dask's deployments (SSH, Kubernetes,
SLURM, YARN); its nanny restarts a worker process that dies; and it is at home in the
PyData stack the reference already uses. What neither engine gives is isolation of a task
that kills its process, a per-task time limit or a memory budget per task; those come from
our own Supervisor, the same one the local pool uses, so both executors give the same
results.json.

On each Dask worker thread, the first case starts a Supervisor whose worker process imports
TensorFlow once and then runs that thread's cases; a case that crashes, hangs or outgrows its
budget kills only that supervised process (the Dask worker never imports TensorFlow), and the
task returns its record like any other. A task that Dask itself gives up on (KilledWorker,
after its own retries) becomes an error record; nothing is lost either way.
"""
from __future__ import annotations

import threading
import uuid

from conformance.runner.worker import Limits, Supervisor

_local = threading.local()  # one Supervisor per Dask worker thread


def run_on_dask_worker(case, limits: dict):
    """The Dask task: (record, environment facts) of one case, run under a Supervisor."""
    from conformance.runner.session import record_of

    supervisor = getattr(_local, "supervisor", None)
    if supervisor is None:
        supervisor = _local.supervisor = Supervisor(Limits(**limits))
    result = supervisor.run(case)
    return record_of(case, result), supervisor.facts


class DaskExecutor:
    def __init__(self, scheduler: str, limits: Limits | None = None, connect_timeout_s: float = 30):
        self.scheduler, self.limits, self.connect_timeout_s = scheduler, limits or Limits(), connect_timeout_s
        self.facts: dict = {}

    def run(self, cases, deliver, stop_event) -> None:
        from distributed import Client, as_completed

        from conformance.runner.execute import error_record

        client = Client(self.scheduler, timeout=self.connect_timeout_s)
        run_id = uuid.uuid4().hex[:8]
        futures = {}
        try:
            for i, case in enumerate(cases):
                future = client.submit(run_on_dask_worker, case, self.limits.to_json(), pure=False,
                                       key=f"conformance-{run_id}-{i}", priority=-i)  # catalogue order first
                futures[future] = i
            for future in as_completed(futures):
                i = futures[future]
                try:
                    record, facts = future.result()
                    self.facts = self.facts or facts
                except Exception as exc:  # KilledWorker, a lost worker, a worker without the package
                    record = error_record(cases[i], f"the Dask task running this case failed: {type(exc).__name__}: {exc}")
                deliver(i, record)
        except KeyboardInterrupt:
            stop_event.set()
            client.cancel(list(futures))
        finally:
            client.close()
