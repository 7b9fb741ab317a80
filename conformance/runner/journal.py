"""The run's journal: one JSON line per finished case, written and flushed as each comes, beside
results.json. A run that is killed outright (SIGKILL, a lost machine) leaves the journal; a run
that ends, even by Ctrl-C, writes results.json and removes it. `conformance run --resume DIR`
reads both, so only the cases without a result run again.
"""
from __future__ import annotations

import json
from pathlib import Path

from conformance.results import jsonable

JOURNAL_FILE = "results.jsonl"


class Journal:
    def __init__(self, out_dir, header: dict):
        self.path = Path(out_dir) / JOURNAL_FILE
        self._file = open(self.path, "w", encoding="utf-8")
        self._line({"journal": header})

    def write(self, record) -> None:
        self._line(record.to_json())

    def _line(self, data: dict) -> None:
        self._file.write(json.dumps(jsonable(data), allow_nan=False) + "\n")
        self._file.flush()  # a killed run keeps every line written so far

    def close(self, remove: bool) -> None:
        self._file.close()
        if remove:
            self.path.unlink(missing_ok=True)


def read_journal(path) -> list[dict]:
    """The records of a journal; a last line cut short by the kill is ignored."""
    records = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and "id" in data and "status" in data:
            records.append(data)
    return records


def finished_records(out_dir) -> dict[str, dict]:
    """id -> record of every case that has a result in DIR (results.json, then the journal of a
    run killed after it); `notrun` records are not results."""
    from conformance import results

    out_dir = Path(out_dir)
    found: dict[str, dict] = {}
    if (out_dir / "results.json").is_file():
        for record in results.read(out_dir / "results.json")["cases"]:
            found[record["id"]] = record
    for record in read_journal(out_dir / JOURNAL_FILE):
        found[record["id"]] = record
    return {i: r for i, r in found.items() if r["status"] != "notrun" and r.get("family") != "catalogue"}
