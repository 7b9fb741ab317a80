"""One case at a time in a worker process, under supervision: a time limit, a memory budget,
and a death that costs only the case that caused it.

The worker tells its supervisor which phase the running case is in (conformance.outcome.
listen_to_phases), so when the process hangs, outgrows its budget or dies, the supervisor
knows which case did it and whose code was running: tf.keras's (build, eager, compile, call),
the reference's, or the harness's. The supervisor then replaces the worker; nothing else is
lost. `Supervisor.run` is the one place this happens, used by the local process pool
(conformance.runner.session) and by the distributed executor alike.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conformance.axes import DEFAULT_TARGET, TARGETS

# Defaults, documented in the README. The slowest catalogue case takes about 8 s (an XLA
# compile on 2 cores); a case past 120 s is stuck, not slow. A case's `timeout:` overrides it.
DEFAULT_TIMEOUT_S = 120.0
# A worker holds TensorFlow (about 1 GiB resident once a few compiled modes have run); a case
# that pushes it past this is stopped before the machine's OOM killer picks a victim.
DEFAULT_MEMORY_LIMIT_MB = 6144
WORKER_START_TIMEOUT_S = 300.0  # importing TensorFlow on a loaded machine
POLL_S = 0.1

# Phases (conformance.outcome.PHASES) in which tf.keras's code runs; "reference" is the
# reference's; anything else (inputs, judging) is the harness's.
TF_KERAS_PHASES = ("build", "eager", "compile", "call", "gradient", "serialization")


def side_of(phase: str | None) -> str:
    if phase in TF_KERAS_PHASES:
        return "tf.keras"
    return "reference" if phase in ("reference", "reference gradient") else "harness"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one case may use: seconds (a case's own `timeout:` wins) and resident memory."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: float | None = DEFAULT_MEMORY_LIMIT_MB

    def timeout_for(self, case) -> float:
        return float(case.timeout or self.timeout_s)

    def to_json(self) -> dict:
        return {"timeout_s": self.timeout_s, "memory_mb": self.memory_mb}


@dataclasses.dataclass(frozen=True)
class Stop:
    """Why a case's worker was stopped before the case finished, and where it was."""

    reason: str  # "signal" (it died), "timeout", "memory", "interrupted"
    phase: str | None
    signal: str | None = None  # SIGFPE, SIGSEGV...; or "exit code N" for a process that exited
    limit: float | None = None  # the seconds or MiB it went past
    used: float | None = None  # MiB resident when it was stopped
    attempts: int = 1  # 2: it died again when rerun alone in a fresh worker

    @property
    def side(self) -> str:
        return side_of(self.phase)

    def describe(self) -> str:
        who = {"tf.keras": "tf.keras", "reference": "the reference"}.get(self.side, "the harness")
        phase = f" (phase {self.phase})" if self.phase else ""
        if self.reason == "signal":
            if self.signal and self.signal.startswith("exit code"):
                return f"the process running {who} exited ({self.signal}){phase}"
            again = "; again when rerun alone in a fresh worker" if self.attempts > 1 else ""
            return f"the process running {who} was killed by signal {self.signal}{phase}{again}"
        if self.reason == "timeout":
            return f"timed out after {self.limit:g} s while {who} was running{phase}"
        if self.reason == "memory":
            return f"stopped at {self.used:.0f} MiB resident, past the budget of {self.limit:g} MiB, while {who} was running{phase}"
        return f"not finished: the run was interrupted while {who} was running{phase}"

    def to_json(self) -> dict:
        return {"reason": self.reason, "side": self.side, "phase": self.phase, "signal": self.signal,
                "limit": self.limit, "used": self.used, "attempts": self.attempts}


class WorkerStartError(RuntimeError):
    """No worker process could be started (TensorFlow does not import, say)."""


class CaseWorker:
    """A process that imports the framework once, then runs the cases it is sent, one at a time.

    Started with subprocess rather than multiprocessing.Process: a daemonic process (a Dask
    worker) may not start multiprocessing children, while any process may start a subprocess.
    The two talk over a multiprocessing Pipe whose child end is handed down as a descriptor."""

    def __init__(self, stderr_path=None, target: str = DEFAULT_TARGET):
        parent_end, child_end = multiprocessing.Pipe()
        env = dict(os.environ)
        # A process serves one target: Keras 2 is what tf.keras becomes when TensorFlow starts
        # with TF_USE_LEGACY_KERAS=1, and the two keep global state apart (seeds, policies).
        env.update(TARGETS[target].environment)
        self.target = target
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        # A fixed string-hash seed: Keras prints sets in some error messages, and their order
        # would otherwise change from run to run (and Dask gives its workers a seed of its own).
        env["PYTHONHASHSEED"] = "0"
        log = open(stderr_path, "ab") if stderr_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "conformance.runner.worker", str(child_end.fileno()), target],
                pass_fds=(child_end.fileno(),), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                # its own process group: killed together with its children (an `isolate` case's),
                # and a terminal's Ctrl-C reaches only the supervisor, which decides what to keep
                start_new_session=True,
            )
        finally:
            child_end.close()
            if log is not subprocess.DEVNULL:
                log.close()
        self.conn = parent_end
        self.cases_run = 0
        self.facts: dict = {}
        self._ready()

    def alive(self) -> bool:
        return self.process.poll() is None

    def _ready(self) -> None:
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.conn.poll(POLL_S):
                try:
                    kind, payload = self.conn.recv()
                except (EOFError, OSError):
                    break
                if kind == "ready":
                    self.facts = payload
                    return
            elif not self.alive():
                break
        self.kill()
        raise WorkerStartError(f"a worker process did not start (exit code {self.process.returncode}); "
                               "TensorFlow's own messages are in the run's tensorflow.log")

    def run(self, case, limits: Limits, stop_event=None):
        """The case's Record, or a Stop saying why it has none (the worker is then dead)."""
        self.conn.send(case)
        phase, started = None, time.monotonic()
        limit = limits.timeout_for(case)
        while True:
            if self.conn.poll(POLL_S):
                try:
                    kind, payload = self.conn.recv()
                except (EOFError, OSError):
                    return self._death(phase)
                if kind == "phase":
                    phase = payload
                    continue
                self.cases_run += 1
                return payload  # kind "done": the Record
            if not self.alive():
                return self._death(phase)
            if stop_event is not None and stop_event.is_set():
                self.kill()
                return Stop("interrupted", phase)
            if time.monotonic() - started > limit:
                self.kill()
                return Stop("timeout", phase, limit=limit)
            used = self.resident_mb()
            if limits.memory_mb and used is not None and used > limits.memory_mb:
                self.kill()
                return Stop("memory", phase, limit=limits.memory_mb, used=used)

    def _death(self, phase) -> Stop:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # the pipe broke but the process lives on
            self.kill()
            code = self.process.returncode
        self.kill()  # whatever it started
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return Stop("signal", phase, signal=name)
        return Stop("signal", phase, signal=f"exit code {code}")

    def resident_mb(self) -> float | None:
        """The worker's resident memory (Linux /proc; None elsewhere, where no budget applies)."""
        try:
            with open(f"/proc/{self.process.pid}/statm") as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

    def kill(self) -> None:
        """Kill the worker and whatever it started: its process group."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        try:
            self.conn.send(None)  # "no more cases": it exits by itself
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.alive():
            self.kill()
        self.conn.close()


def _worker_main(fd: int, name: str):
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = multiprocessing.connection.Connection(fd)
    from conformance.outcome import listen_to_phases
    from conformance.runner.execute import run_case
    from conformance.target import get_target

    from conformance.results import FLAG_VARIABLES

    target = get_target(name)
    target.tensorflow()  # paid once, before the first case
    # the variables as this process sees them: a Dask nanny sets OMP_NUM_THREADS=1, say
    facts = {name: {**target.environment_facts(),
                    "environment": {k: os.environ[k] for k in FLAG_VARIABLES if k in os.environ}}}
    listen_to_phases(lambda phase: conn.send(("phase", phase)))
    conn.send(("ready", facts))
    while True:
        try:
            case = conn.recv()
        except (EOFError, OSError):
            return
        if case is None:
            return
        conn.send(("done", run_case(case)))


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this worker when its supervisor dies (even by SIGKILL),
    so that a killed run leaves no worker behind still running a case."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Supervisor:
    """Runs cases one at a time, each in a worker of its target, which it replaces whenever a
    case kills, hangs or outgrows it. A case whose worker dies after running others is rerun
    alone in a fresh worker: the earlier cases may have left the process broken, and an
    innocent case gets its real result; a case that kills a fresh worker is the culprit."""

    def __init__(self, limits: Limits | None = None, stderr_path=None):
        self.limits = limits or Limits()
        self.stderr_path = stderr_path
        self.workers: dict[str, CaseWorker] = {}  # target -> its worker, started on its first case
        self.facts: dict = {}  # target -> the environment facts its worker reported

    def run(self, case, stop_event=None):
        """The case's Record, or a Stop (it was stopped; the caller makes its record)."""
        first: Stop | None = None
        while True:
            worker = self.workers.get(case.target)
            if worker is None:
                worker = self.workers[case.target] = CaseWorker(self.stderr_path, case.target)
                self.facts.update(worker.facts)
            fresh = worker.cases_run == 0
            result = worker.run(case, self.limits, stop_event)
            if not isinstance(result, Stop):
                record = result
                if first is not None:
                    record.outcome["reran"] = f"{first.describe()} after earlier cases; rerun alone in a fresh worker"
                return record
            del self.workers[case.target]  # dead or killed
            if result.reason == "signal" and not fresh and first is None:
                first = result
                continue
            return dataclasses.replace(result, attempts=2) if first is not None else result

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers = {}


if __name__ == "__main__":  # started by CaseWorker: python -m conformance.runner.worker FD TARGET
    _worker_main(int(sys.argv[1]), sys.argv[2])
