"""How a fuzzed case is run: exactly as `conformance run` runs a case.

`Supervised` sends each case to a worker process under conformance.runner.worker.Supervisor,
so a crash or a hang of tf.keras costs that example (recorded as the divergence it is) and
never the fuzz run. `InProcess` calls the check's judge in this process with a target of
your choosing: a fake target in tests, or tf.keras when a debugger is wanted.
"""
from __future__ import annotations

import traceback

from conformance.checks import JUDGES
from conformance.checks.verdict import Verdict
from conformance.ops import check_of, get_op
from conformance.outcome import Timings


def verdict_of_record(record) -> Verdict:
    return Verdict(record.status, record.message, record.metrics, record.outcome or {}, record.diagnosis)


class Supervised:
    """Cases in one supervised worker process (tf.keras), replaced whenever a case kills,
    hangs or outgrows it."""

    def __init__(self, timeout_s: float = 60.0, stderr_path=None):
        from conformance.runner.worker import Limits, Supervisor
        from conformance.target import tf_keras

        tf_keras.quiet_tensorflow_logs()  # inherited by the worker, which reads it at start
        self.supervisor = Supervisor(Limits(timeout_s=timeout_s), stderr_path)

    def __call__(self, case) -> Verdict:
        from conformance.runner.session import record_of

        return verdict_of_record(record_of(case, self.supervisor.run(case)))

    def close(self) -> None:
        self.supervisor.close()


class InProcess:
    """Cases judged in this process against `target` (a module or object with the members
    of conformance.target.Target; default the case's own target)."""

    def __init__(self, target=None):
        self.target = target

    def __call__(self, case) -> Verdict:
        from conformance.target import get_target

        op = get_op(case.op)
        target = self.target or get_target(case.target)
        try:
            target.reset_random_state(case.seed)
            return JUDGES[check_of(op, case.call)](op, case, target, Timings())
        except NotImplementedError as exc:
            return Verdict("error", f"the reference does not model these arguments yet: {exc}")
        except Exception:  # a bug in the reference or the harness is reported, never fatal
            return Verdict("error", "harness error:\n" + traceback.format_exc(limit=6))

    def close(self) -> None:
        pass
