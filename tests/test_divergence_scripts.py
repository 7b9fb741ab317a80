"""Every known divergence's standalone script runs with numpy and tensorflow alone and still
shows the divergence: exit 0 while tf.keras diverges (the process killed by the recorded
signal for a crash). A script that exits 1 means tf.keras now agrees: the entry is stale.

Each script runs in a process of its own, forked from a server that has imported numpy and
tensorflow already (tests/fork_server.py: the import was most of each script's time); a Keras 2
script, which sets TF_USE_LEGACY_KERAS, gets a server started with it set."""
import signal
from pathlib import Path

import pytest

from conformance import machine, upstream
from conformance.catalogue.loader import load_paths, registries
from fork_server import ForkServer

ROOT = Path(__file__).resolve().parents[1]
CASES, _ = load_paths([ROOT / "cases"])
ENTRIES = registries([ROOT / "cases"])


def script_of(ident: str) -> str:
    """The generated script, else the entry's hand-written one."""
    entry = ENTRIES[ident].to_json()
    case = upstream.smallest_case(upstream.cases_of(CASES, ident))
    generated = upstream.standalone_script(case, entry) if case else None
    if generated:
        return generated
    assert entry["script"], f"{ident}: no case can be written out and the entry names no `script:`"
    return (ROOT / entry["script"]).read_text(encoding="utf-8")


LEGACY_KERAS = "TF_USE_LEGACY_KERAS"


@pytest.fixture(scope="module")
def servers():
    """A fork server per value of TF_USE_LEGACY_KERAS, started on first use."""
    started: dict = {}

    def server(legacy: bool) -> ForkServer:
        if legacy not in started:
            env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", **({LEGACY_KERAS: "1"} if legacy else {})}
            started[legacy] = ForkServer(env)
        return started[legacy]

    yield server
    for each in started.values():
        each.close()


@pytest.mark.parametrize("ident", sorted(ENTRIES))
def test_the_script_shows_the_divergence(ident, tmp_path, servers):
    missing = machine.unmet(ENTRIES[ident].requires)
    if missing:
        pytest.skip(f"{ident} holds only where {missing} (conformance.machine); this machine has {machine.facts()}")
    source = script_of(ident)
    assert "conformance" not in source.split('"""')[-1].split("\n", 1)[-1].replace("conformance case", ""), \
        "a standalone script imports nothing of the harness"
    path = tmp_path / f"{ident}.py"
    path.write_text(source, encoding="utf-8")
    run = servers(LEGACY_KERAS in source).run(path, tmp_path, timeout=300)
    crash = next((s for kind, s in (next(iter(sig.items())) for sig in ENTRIES[ident].signature) if kind == "crash"), None)
    expected = -getattr(signal, crash) if crash else 0
    assert run.returncode == expected, f"{ident}: exit {run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    assert "tensorflow" in run.stdout  # every script says which versions it ran on
