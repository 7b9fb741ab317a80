"""Facts of the machine that change what tf.keras does, read without importing TensorFlow, so
that the catalogue can say where a recorded divergence holds (`when: {onednn: false}` in a
case's `known`, an `applies_to` condition or an entry's `requires` in divergences.yaml).

onednn: whether TensorFlow's oneDNN custom operations are on. On Linux x86 TensorFlow (2.9 and
later) turns them on by default only for CPUs with neural-network features (AVX512_VNNI,
AVX512_BF16, AVX_VNNI, AMX_TILE, AMX_INT8, AMX_BF16: the "oneDNN custom operations are on"
message), and TF_ENABLE_ONEDNN_OPTS=1/true or 0/false overrides that default. Which kernels run
depends on it: without oneDNN, float32 convolutions and pooling with channels_first have no CPU
kernel (Eigen's are NHWC only), and oneDNN's own limits (Softmax of rank above 5) do not apply.
conformance.target.tf_keras.environment_facts reads the same fact from inside TensorFlow for the
results' record; a test checks that the two agree."""
from __future__ import annotations

import itertools
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

# CPU features that change which kernels TensorFlow and oneDNN pick, hence the rounding.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni",
             "amx_tile", "amx_int8", "amx_bf16", "neon", "asimd")
# The features for which TensorFlow turns oneDNN on by default on Linux (names as /proc/cpuinfo
# spells them).
ONEDNN_DEFAULT_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"


def cpu_flags() -> list[str]:
    """The CPU_FLAGS this machine has (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                present = set(line.split(":", 1)[1].split())
                return [f for f in CPU_FLAGS if f in present]
    except OSError:
        pass
    return []


def onednn(flags=None, environ=None) -> bool:
    """Whether TensorFlow's oneDNN operations are on here: TF_ENABLE_ONEDNN_OPTS when it says
    1/true or 0/false, else the default for the CPU's features."""
    setting = (os.environ if environ is None else environ).get(ONEDNN_VARIABLE, "").strip().lower()
    if setting in ("1", "true"):
        return True
    if setting in ("0", "false"):
        return False
    return any(f in ONEDNN_DEFAULT_FLAGS for f in (cpu_flags() if flags is None else flags))


# fact name -> the values it takes
FACTS = {"onednn": (True, False)}


# Facts assumed instead of this machine's (see `assuming`), or None.
_assumed: dict | None = None


def facts() -> dict:
    """The FACTS of this machine, read once per process, unless `assuming` says otherwise."""
    return dict(_assumed) if _assumed is not None else _read_facts()


def unmet(requires: dict) -> dict:
    """The part of a registry entry's `requires` (fact: value) that this machine does not meet;
    empty where the entry holds here."""
    here = facts()
    return {k: v for k, v in requires.items() if here.get(k) != v}


@lru_cache(maxsize=1)
def _read_facts() -> dict:
    return {"onednn": onednn()}


@contextmanager
def assuming(these: dict):
    """Within the block, facts() answers `these`: for what the catalogue says about other
    machines (the README counts a divergence's cases on every machine, not only this one)."""
    global _assumed
    unknown = set(these) ^ set(FACTS)
    if unknown:
        raise ValueError(f"assuming: facts must be exactly {sorted(FACTS)}, got {sorted(these)}")
    before, _assumed = _assumed, dict(these)
    try:
        yield
    finally:
        _assumed = before


def every_machine() -> list[dict]:
    """Every combination of the FACTS' values: each kind of machine the catalogue can meet."""
    return [dict(zip(FACTS, values)) for values in itertools.product(*FACTS.values())]
