"""Split a run into shards (one per CI job or machine) and merge their results.json back.

The split is deterministic: the same catalogue, shard count and durations file give every
job the same cases, so N jobs together run each case exactly once. Without durations a case
goes to the shard its id hashes to (CRC-32: stable across machines and Python versions, unlike
hash()). With a previous results.json, cases are dealt longest first to the least-loaded
shard (the LPT rule), so the shards finish close together; a case the file does not know
counts as the median known duration.
"""
from __future__ import annotations

import re
import statistics
import zlib
from pathlib import Path

# The meta entries that must agree for records to be merged: records from different versions
# are different experiments, not parts of one.
MERGE_MUST_AGREE = ("tensorflow", "keras", "numpy", "python", "target", "schema_version")


class ShardError(ValueError):
    pass


def parse_shard(text: str) -> tuple[int, int]:
    """"I/N" (1 <= I <= N) -> (I, N)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise ShardError(f"--shard: expected I/N such as 1/4, got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard: I must be from 1 to N and N at least 1, got {text!r}")
    return index, count


def shard_cases(cases, index: int, count: int, durations: dict | None = None) -> list:
    """The cases of shard `index` of `count` (1-based), in their catalogue order."""
    if durations:
        owner = _balanced_owners([c.id for c in cases], count, durations)
    else:
        owner = {c.id: zlib.crc32(c.id.encode("utf-8")) % count for c in cases}
    return [c for c in cases if owner[c.id] == index - 1]


def _balanced_owners(ids: list[str], count: int, durations: dict) -> dict[str, int]:
    known = [durations[i] for i in ids if i in durations]
    default = statistics.median(known) if known else 1.0
    load = [0.0] * count
    owner = {}
    for case_id in sorted(ids, key=lambda i: (-durations.get(i, default), i)):
        shard = min(range(count), key=lambda s: (load[s], s))
        owner[case_id] = shard
        load[shard] += durations.get(case_id, default)
    return owner


def durations_of(results_path) -> dict[str, float]:
    """id -> seconds from a results.json (the balance of a next sharded run)."""
    from conformance import results

    try:
        document = results.read(results_path)
    except (OSError, ValueError) as exc:
        raise ShardError(f"--durations: cannot read {results_path}: {exc}") from None
    return {r["id"]: float(r.get("duration_s") or 0.0) for r in document["cases"]}


def merge(paths, allow_mixed: bool = False) -> tuple[list[dict], dict, dict]:
    """(records, meta, divergences) of several results.json files made by shards of one run.
    Refuses files from different versions (unless allow_mixed) and a case in two files."""
    from conformance import results

    documents = []
    for path in paths:
        try:
            documents.append((str(path), results.read(path)))
        except (OSError, ValueError) as exc:
            raise ShardError(f"cannot read {path}: {exc}") from None
    if not documents:
        raise ShardError("nothing to merge: give at least one results.json")
    first_path, first = documents[0]
    if not allow_mixed:
        for path, document in documents[1:]:
            for key in MERGE_MUST_AGREE:
                a, b = _meta_value(first, key), _meta_value(document, key)
                if a != b:
                    raise ShardError(f"{path} has {key} {b!r} but {first_path} has {a!r}; "
                                     "these are different runs (--allow-mixed merges them anyway)")
    records, seen, divergences = [], {}, {}
    for path, document in documents:
        for record in document["cases"]:
            if record["id"] in seen:
                raise ShardError(f"case {record['id']} is in both {seen[record['id']]} and {path}: "
                                 "shards of one run never share a case")
            seen[record["id"]] = path
            records.append(record)
        divergences.update(document.get("divergences") or {})
    meta = dict(first["meta"])
    parts = [{"file": path, **{k: d["meta"].get(k) for k in ("started", "duration_s", "shard", "command", "jobs")}}
             for path, d in documents]
    meta.update(merged_from=parts, started=min(p["started"] or "" for p in parts) or None,
                duration_s=max((p["duration_s"] or 0) for p in parts), shard=None)
    return records, meta, divergences


def _meta_value(document: dict, key: str):
    return document.get(key) if key == "schema_version" else document["meta"].get(key)


def write_merged(paths, out_dir, allow_mixed: bool = False) -> Path:
    from conformance import results

    records, meta, divergences = merge(paths, allow_mixed)
    return results.write(Path(out_dir) / "results.json", records, meta, divergences)
