"""The result of one case: one type, one to_json/from_json, used by results.json, the
session, the pytest plugin and the reproduction scripts alike.

The JSON form is flat: the case's own fields (Case.to_json) beside the outcome, so that a
record alone rebuilds its case (Case.from_json) and the report reads one object per case.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from conformance.catalogue.model import Case


@dataclass
class Record:
    case: Case
    family: str
    check: str | None = None
    status: str = "error"
    message: str = ""
    metrics: dict | None = None
    outcome: dict = field(default_factory=dict)
    durations: dict = field(default_factory=dict)  # seconds per phase (conformance.outcome.PHASES)
    diagnosis: dict | None = None  # what explains a failed value comparison (conformance.diagnosis)

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def duration_s(self) -> float:
        return round(sum(round(v, 6) for v in self.durations.values()), 6)  # as to_json rounds them

    def to_json(self) -> dict:
        return {
            **self.case.to_json(),
            "family": self.family, "check": self.check, "status": self.status, "message": self.message,
            "metrics": self.metrics, "diagnosis": self.diagnosis, "outcome": self.outcome,
            "durations": {k: round(v, 6) for k, v in self.durations.items()}, "duration_s": self.duration_s,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Record":
        return cls(
            case=Case.from_json(data), family=data.get("family") or "unknown", check=data.get("check"),
            status=data.get("status", "error"), message=data.get("message") or "",
            metrics=data.get("metrics"), diagnosis=data.get("diagnosis"),
            outcome=data.get("outcome") or {},
            durations=data.get("durations") or ({"total": data["duration_s"]} if data.get("duration_s") else {}),
        )


def catalogue_error(error, case_id: str) -> Record:
    """A case that could not be loaded still has a record: an error naming file:line:key."""
    case = Case(id=case_id, file=error.file, line=error.line, name=case_id.split("::", 1)[-1], op=None,
                params={}, dtype=None, input_shape=None, seed=None)
    return Record(case=case, family="catalogue", status="error", message=f"catalogue error: {error}")
